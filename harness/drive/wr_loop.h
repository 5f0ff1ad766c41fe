/* wr_loop.h - One service loop of the client engine: a libwebsockets
 * client context on its own libev loop (epoll), with the timers and the
 * cross-thread wake-up the engine's workers need.
 *
 * Why (docs/DESIGN.md, "Event loops"): lws's default loop polls every
 * descriptor of a context on each wake-up, so a wake-up cost what was
 * open; on epoll it costs what is ready. lws 4.1.6 as Debian builds it
 * has external polling compiled out, so the epoll loop is the libev
 * event-library plugin on a loop we create and run ourselves; our own
 * timers and wake-ups are libev watchers on the same loop. A wr_timer_t
 * is a libev timer (a heap: O(log n) to arm), not an lws one (lws keeps
 * one linearly sorted list per context, and inserting into it grows with
 * the context's connections).
 *
 * Threads: wr_loop_new() and wr_loop_free() on one thread, one loop after
 * another (libev's loop creation is not thread-safe); wr_loop_run(),
 * wr_loop_break() and the timers on the loop's own thread; wr_loop_wake()
 * from any thread until wr_loop_free(). */
#ifndef WR_LOOP_H
#define WR_LOOP_H

#include <ev.h>
#include <libwebsockets.h>
#include <stdint.h>

typedef struct wr_loop wr_loop_t;
typedef struct wr_timer wr_timer_t;

typedef void (*wr_timer_fn)(wr_timer_t *t);

/* Runs on the loop's thread after wr_loop_wake(), once per wake-up
 * however many wakes came in between. */
typedef void (*wr_loop_wake_fn)(void *arg);

/* A one-shot timer, embedded in its owner (wr_timer_init() first). */
struct wr_timer {
    ev_timer ev; /* libev's; private */
    wr_loop_t *loop;
    wr_timer_fn fn;
};

typedef struct {
    const struct lws_protocols *protocols; /* NULL-terminated, kept */
    void *user;                            /* lws_context_user() */
    unsigned fd_limit;                     /* lws's fd_limit_per_thread */
    unsigned timeout_secs;                 /* lws's connection timeouts */
    wr_loop_wake_fn wake;
    void *wake_arg;
} wr_loop_opts_t;

/* A loop with its lws client context, or NULL (out of memory, or lws
 * could not load its libev plugin: libwebsockets-evlib-ev). */
wr_loop_t *wr_loop_new(const wr_loop_opts_t *o);

/* The loop's lws context, for lws_client_connect_via_info(). */
struct lws_context *wr_loop_context(const wr_loop_t *l);

/* Serves until wr_loop_break(). */
void wr_loop_run(wr_loop_t *l);

/* Makes wr_loop_run() return once the current callback is done; on the
 * loop's thread. */
void wr_loop_break(wr_loop_t *l);

/* Calls the wake function on the loop's thread; any thread. */
void wr_loop_wake(wr_loop_t *l);

/* Destroys the lws context (its connections' last callbacks run here, on
 * the calling thread), then the loop. The loop must not be running. NULL
 * is ignored. */
void wr_loop_free(wr_loop_t *l);

void wr_timer_init(wr_timer_t *t, wr_loop_t *l);

/* Arms t to call fn once, us microseconds from now (re-arming a running
 * timer moves it). */
void wr_timer_start(wr_timer_t *t, int64_t us, wr_timer_fn fn);

/* Disarms t; nothing happens when it is not armed. */
void wr_timer_stop(wr_timer_t *t);

#endif
