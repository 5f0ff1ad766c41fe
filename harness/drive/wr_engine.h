/* wr_engine.h - Drives a scenario's clients against a gateway.
 *
 * Clients are libwebsockets client connections spread over a few service
 * threads, one lws context per thread (lws 4.1.6 has no SMP: one context
 * cannot be served by two threads), at most WR_ENGINE_PER_THREAD
 * connections per context because each context keeps one sorted timer
 * list whose cost grows with its connections. Each client runs its group's
 * steps in order; named barriers release every waiting client together,
 * across threads. Every random choice (start jitter, sleep jitter, which
 * thread a client lands on) is drawn from the run's seed.
 *
 * A client that reaches a close (its `close` step, or the end of its
 * steps) first drains: it waits, up to the scenario's drain_ms, for the
 * answer to every user_message it sent on the connection, so that a
 * message the gateway accepted and never answered is seen as lost, not
 * excused by the client's own hang-up. Client-side chaos (the scenario's
 * `chaos` block, or --chaos) closes clients abruptly at random points,
 * reconnects them with the same session, sends bursts before the welcome
 * and probes readiness at random moments, every choice from the client's
 * seed; chaos events carry "why": "chaos".
 *
 * What each client does and sees is recorded as client events (see
 * wr_history.h) and appended to the history when the run ends. */
#ifndef WR_ENGINE_H
#define WR_ENGINE_H

#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>

#include "history/wr_history.h"
#include "plan/wr_scenario.h"

#define WR_ENGINE_PER_THREAD 1000 /* connections per lws context, at most */

/* One gateway instance of a cluster, as clients reach it. */
typedef struct {
    const char *host;
    int port;
} wr_endpoint_t;

/* What a nemesis step (kill_instance, restart_instance, pause_instance,
 * resume_instance) asks of the runner, which owns the instances. Called
 * on a service thread; returns 0, or negative errno with the reason in
 * err. It may block (bounded): the thread's other clients wait. */
typedef int (*wr_nemesis_fn)(void *ctx, wr_step_kind_t kind, int instance,
                             char *err, size_t errlen);

typedef struct {
    const wr_scenario_t *scenario;
    const char *host; /* "127.0.0.1" */
    int port;
    /* A cluster: instance k at endpoints[k] (clients placed by their
     * group's `instance`); NULL: every client at host:port. */
    const wr_endpoint_t *endpoints;
    int nendpoints;
    wr_nemesis_fn nemesis; /* NULL: nemesis steps fail */
    void *nemesis_ctx;
    const char *path;   /* WebSocket path, "/ws" */
    const char *secret; /* HS256 secret the gateway checks */
    unsigned long long seed;
    int threads;                 /* 0: enough for WR_ENGINE_PER_THREAD */
    double time_scale;           /* multiplies every timeout; 0 means 1 */
    atomic_int *stop; /* set (by a signal handler) to abort */
    /* Set (by the early verdict's watcher) to end the run: the clients
     * close as at the end of their steps. NULL: never. */
    atomic_int *end;
    /* Handed each client event's JSON line as it is recorded, on the
     * service threads (the early verdict's watcher): the line is the
     * tap's to free (NULL when it could not be made); NULL: none. */
    void (*tap)(void *ctx, char *line);
    void *tap_ctx;
    /* Client-side chaos: NULL for the scenario's own `chaos` block. */
    const wr_chaos_t *chaos;
} wr_engine_opts_t;

typedef struct {
    int clients;        /* clients in the scenario */
    int connected;      /* upgrades that succeeded */
    int established;    /* connection_established received */
    int connect_errors; /* upgrades that failed (incl. no descriptor) */
    int steps_failed;   /* connect/expect/expect_close/probe steps not met */
    int threads;        /* service threads used */
    bool timed_out;     /* the scenario's timeout_ms ended the run */
    bool aborted;       /* *stop was set */
    bool ended;         /* *end was set */
    int64_t start_ns, end_ns;
} wr_engine_stats_t;

/* Runs every client of the scenario to the end of its steps, then closes
 * the connections still open and waits (bounded) for them to close. Client
 * events are appended to h. Returns 0, or negative errno when the engine
 * could not run at all (no lws context, no thread). */
int wr_engine_run(const wr_engine_opts_t *opts, wr_history_t *h,
                  wr_engine_stats_t *stats);

#endif
