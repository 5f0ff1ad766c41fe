/* e2e_support.h - Test support for end-to-end gateway tests: start and
 * stop a wsrace-gateway process, a blocking lws WebSocket client, and a
 * loopback HTTP GET. Every wait is bounded by a timeout. */
#ifndef E2E_SUPPORT_H
#define E2E_SUPPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

/* A gateway child process. */
typedef struct {
    pid_t pid;
    int port;
    char trace[256]; /* trace file path */
    char log[256];   /* stderr file path */
} e2e_gateway_t;

/* Starts $WSRACE_GATEWAY (default build/target/wsrace-gateway) --port 0 --trace
 * TMP plus the NULL-terminated extra args, and waits up to 5 s for its
 * listening line. Returns 0 or -1 (the child is then already reaped). */
int e2e_gateway_start(e2e_gateway_t *g, const char *const *args);

/* Removes the trace and log files of every gateway this process started.
 * With WSRACE_E2E_KEEP=DIR they are written as DIR/<test>-<n>.jsonl and
 * .log instead, and kept (scripts/run uses them as evidence). */
void e2e_cleanup(void);

/* SIGTERM, wait up to 5 s (then SIGKILL). Returns the wait status. */
int e2e_gateway_stop(e2e_gateway_t *g);

/* Waits up to timeout_ms for the child to exit by itself. Returns the wait
 * status, or -1 when it is still running. */
int e2e_gateway_wait(e2e_gateway_t *g, int timeout_ms);

/* Reads the whole trace as an array of event objects (NULL on error). */
json_t *e2e_trace(const e2e_gateway_t *g);

/* Counts trace events whose "event" is `event` and, when key is not NULL,
 * whose "key" equals it. */
int e2e_trace_count(json_t *trace, const char *event, const char *key);

/* A token for user from the gateway's development secret; ttl in seconds
 * (negative: already expired). Returns a malloc'd string. */
char *e2e_token(const char *user, long ttl);

/* GET path on 127.0.0.1:port; returns the parsed JSON body or NULL. */
json_t *e2e_http_get(int port, const char *path);

typedef struct e2e_client e2e_client_t;

/* Opens ws://127.0.0.1:port/ws?QUERY with an optional bearer token,
 * X-Session-Id and Sec-WebSocket-Protocol list. Returns after the
 * upgrade succeeded or failed (5 s at most): NULL on failure. */
e2e_client_t *e2e_connect(int port, const char *query, const char *token,
                          const char *session, const char *subprotocols);

/* Queues a text message; it is sent while the client is serviced. */
void e2e_send(e2e_client_t *c, const char *text);

/* Next received message (malloc'd), or NULL on timeout or close. */
char *e2e_recv(e2e_client_t *c, int timeout_ms);

/* Next received message parsed as JSON, or NULL. */
json_t *e2e_recv_json(e2e_client_t *c, int timeout_ms);

/* Waits for the server to close; returns its close code, 0 when the socket
 * dropped without one, -1 on timeout. Messages received meanwhile are
 * kept for e2e_recv. */
int e2e_wait_close(e2e_client_t *c, int timeout_ms);

/* The negotiated subprotocol ("" when none). */
const char *e2e_subprotocol(e2e_client_t *c);

/* Closes (normal closure) and frees. */
void e2e_free(e2e_client_t *c);

#endif
