/* wr_target.h - The gateway under test as a child process.
 *
 * wr_target_start() forks and execs the gateway with `--port 0 --trace
 * DIR/trace.jsonl --lifeline FD` and the case's options, stdout and stderr
 * both going to DIR/gateway.log, the secret in its environment
 * (WSRACE_SECRET: a command line is readable by every user through ps),
 * then waits (bounded) for its `listening HOST:PORT` line and a 200 from
 * /healthz. No gateway outlives a run, even one killed by SIGKILL: the
 * direct child dies with the harness (PR_SET_PDEATHSIG), and the gateway,
 * even under a wrapper that forks it, stops when its lifeline (a pipe
 * whose write end only the harness holds) reaches end of file. Every wait
 * here has a timeout. One thread owns a target. */
#ifndef WR_TARGET_H
#define WR_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#include "plan/wr_case.h"
#include "plan/wr_scenario.h"
#include "wsr_fault.h"

typedef struct {
    const char *path;     /* gateway binary */
    const char *dir;      /* case directory: gateway.log, trace.jsonl */
    char *const *args;    /* extra options, NULL-terminated (may be NULL) */
    const char *wrapper;  /* a command to run the gateway under, or NULL */
    const char *secret;   /* WSRACE_SECRET of the gateway, or NULL */
    int start_timeout_ms; /* listening + /healthz bound; default 10000 */
    const char *tag;      /* an instance of a cluster: its files are
                             gateway-TAG.log and trace-TAG.jsonl; NULL:
                             gateway.log and trace.jsonl */
    int port;             /* the port to listen on; 0: any free one */
} wr_target_opts_t;

typedef struct {
    pid_t pid;  /* 0 once reaped */
    pid_t pgid; /* its process group (a wrapper's children are in it) */
    char host[64];
    int port;
    char log_path[PATH_MAX];
    char trace_path[PATH_MAX];
    int64_t spawn_ns;   /* CLOCK_MONOTONIC at fork */
    int64_t up_ns;      /* when /healthz first answered 200 */
    bool exited;        /* reaped */
    int64_t exit_ns;    /* CLOCK_MONOTONIC when it was reaped */
    int exit_code;      /* -1 when killed by a signal */
    int sig;            /* signal that ended it, 0 when none */
    bool stopped_by_us; /* it ended after our SIGTERM/SIGKILL */
    bool killed;        /* it ignored SIGTERM and got SIGKILL */
    wr_target_state_t state;
    int lifeline;      /* write end of the gateway's lifeline */
    bool has_lifeline; /* lifeline is open (a zeroed target has none) */
    int start_timeout_ms; /* the bound of wr_target_wait_up, from spawn */
    char error[256]; /* why it could not start or stop */
} wr_target_t;

/* A growable NULL-ended argument list; zero-initialised is empty. */
typedef struct {
    char **v; /* NULL-ended; NULL while empty */
    size_t n, cap;
} wr_argv_t;

/* Appends a copy of s. Returns 0 or -ENOMEM. */
int wr_argv_push(wr_argv_t *a, const char *s);

/* Appends opt and v as a decimal number. Returns 0 or -ENOMEM. */
int wr_argv_push_int(wr_argv_t *a, const char *opt, long long v);

/* Appends each space-separated word of words. Returns 0 or -ENOMEM. */
int wr_argv_push_words(wr_argv_t *a, const char *words);

void wr_argv_free(wr_argv_t *a);

/* Appends the options of our gateway for scenario s run with faults and
 * seed (without its sync actions when no_sync). The secret is not among
 * them: it goes in the environment (wr_target_opts_t.secret). Returns 0
 * or -ENOMEM. */
int wr_target_gateway_args(wr_argv_t *a, const wr_scenario_t *s,
                           const wsr_faults_t *faults,
                           unsigned long long seed, bool no_sync);

/* Ends whatever is left of the target's process group (a gateway that
 * outlived its wrapper): SIGTERM, up to timeout_ms, then SIGKILL. Called
 * by wr_target_stop; call it after a target that died on its own too. */
void wr_target_sweep(wr_target_t *t, int timeout_ms);

/* Starts the gateway. Returns 0, or negative errno with t->state
 * WR_TARGET_NO_START and t->error saying why (binary missing, died at start
 * with its status, no listening line or /healthz within the bound); in that
 * case the process has already been stopped and reaped. */
int wr_target_start(wr_target_t *t, const wr_target_opts_t *opts);

/* wr_target_start in two halves, so that a gateway can start while
 * something else runs (a warm spare, wr_pool.h). wr_target_spawn forks
 * and execs and returns at once: 0, or negative errno with t->error (the
 * state is WR_TARGET_NO_START until wr_target_wait_up). wr_target_wait_up
 * waits for its listening line and /healthz within opts->start_timeout_ms
 * of the spawn; its returns are wr_target_start's. */
int wr_target_spawn(wr_target_t *t, const wr_target_opts_t *opts);
int wr_target_wait_up(wr_target_t *t);

/* Whether the process is still running; reaps and records its status once
 * it has ended (state WR_TARGET_CRASHED unless we stopped it). One thread
 * at a time may call this and wr_target_stop on a target. */
bool wr_target_alive(wr_target_t *t);

/* SIGTERM, then SIGKILL after timeout_ms; reaps. A gateway that needed
 * SIGKILL is WR_TARGET_HUNG. Safe to call on a target that has ended. */
void wr_target_stop(wr_target_t *t, int timeout_ms);

/* Largest HTTP response read: a gateway that is not ours (--url) could
 * otherwise grow the buffer until the deadline. */
#define WR_HTTP_RESPONSE_MAX (4 << 20)

/* GET path from host:port over loopback with a timeout. On success returns
 * the HTTP status (100..599) and a malloc'd NUL-terminated body in *body
 * (caller frees); negative errno on failure or timeout, -EMSGSIZE for a
 * response over WR_HTTP_RESPONSE_MAX, -EPROTO for one that is not HTTP. */
int wr_http_get(const char *host, int port, const char *path, int timeout_ms,
                char **body);

/* Splits ws://HOST:PORT/PATH (PATH defaults to /ws). Returns 0, or
 * -EINVAL for anything else (another scheme, no port, a host that does
 * not fit in hostlen, a port out of 1..65535, a path too long). */
int wr_target_parse_url(const char *url, char *host, size_t hostlen,
                        int *port, char *path, size_t pathlen);

/* Percent-encodes s for a query string: every byte but A-Z a-z 0-9 - . _
 * ~ becomes %XX. Returns 0, or -ENAMETOOLONG when out (len bytes) is too
 * small (nothing shorter is written). */
int wr_url_encode(const char *s, char *out, size_t len);

/* Parses a whole decimal port, 1..65535, from s[0..n) (n < 0: up to the
 * NUL). Returns the port, or -1. */
int wr_parse_port(const char *s, int n);


#endif
