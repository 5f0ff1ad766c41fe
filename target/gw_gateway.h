/* gw_gateway.h - The endpoint flow: one connection's lifecycle from accept
 * to close, independent of the transport.
 *
 * A gw_gateway_t ties the shared parts together (faults, sync points,
 * trace, registry, worker pool). A gw_conn_t is one client connection. The
 * transport (gw_server.c: libwebsockets) creates a connection once the
 * WebSocket is open, feeds it frames, takes its output frames when woken,
 * and reports when the socket is gone. Everything between - the handshake
 * steps, the readiness gate, message processing, the close path - runs on
 * the worker pool, as in the asynchronous backend this models.
 *
 * Flow (docs/DESIGN.md, "One connection"): accept (register pre-N, ACCEPTED) -> auth
 * (AUTHENTICATED) -> services (SERVICES_READY) -> swap (rekey pre-N to the
 * session id) -> ready (coordinator READY + machine PROCESSING_READY in one
 * step, then the welcome) -> messages -> close. */
#ifndef GW_GATEWAY_H
#define GW_GATEWAY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wsr_fault.h"
#include "gw_pool.h"
#include "gw_registry.h"
#include "gw_session.h"
#include "gw_sync.h"
#include "gw_ticket.h"
#include "gw_trace.h"

typedef struct gw_conn gw_conn_t;

/* How the flow asks the transport to flush a connection's output. wake()
 * is called from any thread after frames were queued or a close was
 * requested; it must not call back into the connection. */
typedef struct {
    void (*wake)(void *ctx, gw_conn_t *c);
    void *ctx;
} gw_sink_t;

typedef struct {
    wsr_faults_t faults;          /* injected faults */
    char secret[256];             /* token HMAC key */
    unsigned service_latency_ms;  /* simulated service start-up */
    unsigned max_queue;           /* messages held before ready */
    uint64_t seed;                /* drives generated session ids */
    size_t frame_headroom;        /* bytes reserved before each frame */
    size_t max_send_queue;        /* bytes queued for one client; 0: none */
    unsigned max_connections;     /* open at once; more get 1013; 0: none */
    unsigned handshake_timeout_s; /* upgrade bound (the transport's) */
    unsigned session_hold_s;      /* a closed session stays its user's */
    unsigned ticket_ttl_s;        /* a ticket's life; 0: 30 */
    /* Cluster mode (docs/DESIGN.md "Cluster mode"): with redis_port set,
     * the registry is the Redis server at redis_host:redis_port. */
    int instance;             /* this instance, -1: a lone gateway */
    unsigned incarnation;     /* its restarts so far */
    char redis_host[64];
    int redis_port;           /* 0: the in-process registry */
    unsigned registry_ttl_ms; /* Redis entries without a heartbeat */
} gw_params_t;

/* The first connection id of an instance: ids of the instances of one
 * cluster, and of one instance's incarnations, never meet. A lone gateway
 * (instance -1) counts from 1. */
#define GW_CONN_BASE(instance, incarnation)                                    \
    ((instance) < 0 ? 0                                                        \
                    : ((uint64_t)(instance) << 40 |                            \
                       (uint64_t)(incarnation) << 32))

typedef struct {
    gw_params_t params; /* read-only once serving */
    gw_trace_t *trace;  /* may be NULL */
    gw_sync_t *sync;
    gw_registry_t *registry;
    gw_pool_t *pool;
    gw_sessions_t *sessions; /* session id -> user */
    gw_tickets_t *tickets;   /* one-time tickets (POST /ticket) */
    gw_sink_t sink;
    _Atomic uint64_t next_id; /* connection ids, from GW_CONN_BASE + 1 */
    _Atomic uint64_t live;    /* connections not yet freed */
    _Atomic uint64_t slow_consumers; /* closed: send queue over its bound */
    _Atomic uint64_t refused;        /* refused: at max_connections */
    char error[256];                 /* why gw_gateway_init failed */
} gw_gateway_t;

/* What a client presented at the upgrade. Every field may be NULL (0). */
typedef struct {
    const char *token;   /* bearer token (Authorization, jwt.T) */
    const char *ticket;  /* one-time ticket (?ticket=T, ticket.T) */
    const char *session; /* requested session id, session_len bytes */
    size_t session_len;  /* may hold NUL bytes: then it is invalid */
} gw_hello_t;

/* One output frame: `len` payload bytes at data + headroom. */
typedef struct gw_frame {
    struct gw_frame *next;
    size_t len;
    char data[];
} gw_frame_t;

/* Builds the shared parts from params (copied). trace may be NULL. The
 * pool has `workers` threads; the registry is in process, or in Redis
 * when params->redis_port is set. Returns 0 or a negative errno with the
 * reason in gw->error; on error nothing is left allocated. */
int gw_gateway_init(gw_gateway_t *gw, const gw_params_t *params,
                    gw_trace_t *trace, gw_sync_t *sync, unsigned workers);

/* Releases sync waiters, drains and joins the pool, frees the registry.
 * The trace and sync tables belong to the caller. */
void gw_gateway_shutdown(gw_gateway_t *gw);

/* A new connection (one reference, the transport's) carrying what the
 * client presented (copied). An invalid session id is remembered and
 * refused once the client is authenticated (INVALID_SESSION, close
 * 4400). The handshake starts with gw_conn_start(). NULL when out of
 * memory. */
gw_conn_t *gw_conn_open(gw_gateway_t *gw, const gw_hello_t *hello);

/* gw_conn_open with a token and a NUL-terminated session id (either may
 * be NULL). */
gw_conn_t *gw_conn_new(gw_gateway_t *gw, const char *token,
                       const char *session);
void gw_conn_start(gw_conn_t *c);

/* Refuses the connection without a handshake, or ends a live one on a
 * protocol error (any thread): an error_message err_code with message,
 * then a close with close_code once the output is flushed. Only the first
 * close requested counts. Traced as "conn.refused". */
void gw_conn_refuse(gw_conn_t *c, int close_code, const char *err_code,
                    const char *message);

/* Whether a close was requested (the transport bounds how long it may
 * take to flush). */
bool gw_conn_closing(gw_conn_t *c);
uint64_t gw_conn_id(const gw_conn_t *c);
void gw_conn_unref(gw_conn_t *c);
gw_conn_t *gw_conn_ref(gw_conn_t *c);

/* Transport pointer, owned and used by the service thread only. */
void gw_conn_set_transport(gw_conn_t *c, void *t);
void *gw_conn_transport(const gw_conn_t *c);

/* The transport's loop that serves c, for the sink to wake: set once, on
 * the service thread, before gw_conn_start() (the pool's queue publishes
 * it to the workers); read from any thread. NULL until set. */
void gw_conn_set_owner(gw_conn_t *c, void *owner);
void *gw_conn_owner(const gw_conn_t *c);

/* Wake de-duplication for the sink: test-and-set, and clear. */
bool gw_conn_mark_wake(gw_conn_t *c);
void gw_conn_clear_wake(gw_conn_t *c);

/* A complete client text message (service thread). Answers format errors,
 * pings and unknown types at once; queues user_messages for the gate. */
void gw_conn_on_message(gw_conn_t *c, const char *buf, size_t len);

/* The transport is gone (service thread): starts the close path. */
void gw_conn_on_closed(gw_conn_t *c);

/* Takes the next output frame, or NULL. Free it with free(). */
gw_frame_t *gw_conn_pop_frame(gw_conn_t *c);

/* When the output is drained and a close was requested, returns its code
 * and copies its reason; otherwise 0. */
int gw_conn_close_code(gw_conn_t *c, char *reason, size_t len);

#endif
