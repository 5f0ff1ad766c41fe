/* gw_loop.h - One service loop of the gateway: a libwebsockets context on
 * its own libev loop (epoll), with its own listening socket on the shared
 * port, served by one thread.
 *
 * Why this shape (docs/DESIGN.md, "Event loops"): lws 4.1.6 as Debian
 * builds it serves one context from one thread (LWS_MAX_SMP 1) and has
 * external polling compiled out, so an epoll loop of our own is the libev
 * event-library plugin on a loop we create ("foreign"), and several loops
 * on one port are several contexts, each listening on its own
 * SO_REUSEPORT socket: the kernel spreads the connections. lws never sets
 * SO_REUSEPORT itself here, so the socket is ours; lws polls it as a raw
 * file and the loop accepts and hands each connection to lws.
 *
 * Threads: gw_loop_new(), gw_loop_close() and gw_loop_free() on one thread
 * (the caller's), one loop after another (libev's loop creation is not
 * thread-safe); gw_loop_run() on the loop's own thread; gw_loop_wake()
 * and gw_loop_stop() from any thread, until gw_loop_close(). */
#ifndef GW_LOOP_H
#define GW_LOOP_H

#include <libwebsockets.h>
#include <stddef.h>

typedef struct gw_loop gw_loop_t;

/* Runs on the loop's thread after gw_loop_wake(), once per wake-up
 * however many wakes came in between. */
typedef void (*gw_loop_wake_fn)(void *arg);

typedef struct {
    const char *host; /* address to bind, e.g. "127.0.0.1" or "::1" */
    int port;         /* 0: any free port */
    /* The vhost's protocols, NULL-terminated; the loop appends its
     * listener's. protocols[0] serves plain HTTP. Copied. */
    const struct lws_protocols *protocols;
    void *user;           /* lws_context_user() in the callbacks */
    gw_loop_wake_fn wake; /* may be NULL */
    void *wake_arg;
    unsigned timeout_secs; /* lws's per-connection timeouts; also the
                            * bound from accept to a finished upgrade */
    unsigned max_http_header_data; /* header bytes kept; 0: lws's default */
} gw_loop_opts_t;

/* Reserves o->port (any free one for 0) for the loops that will share it
 * and stores it in *port: a plain bind, without SO_REUSEPORT, so a port
 * that any other socket holds is refused, then released for
 * gw_loop_new(). Returns 0, or a negative errno with a reason in err. */
int gw_loop_reserve_port(const char *host, int port, int *bound, char *err,
                         size_t errlen);

/* Creates a loop listening on o->host:o->port (a port reserved by
 * gw_loop_reserve_port(), shared with the other loops). NULL with a
 * reason in err. */
gw_loop_t *gw_loop_new(const gw_loop_opts_t *o, char *err, size_t errlen);

/* Serves until gw_loop_stop() (returns at once if it came already). */
void gw_loop_run(gw_loop_t *l);

/* Calls the wake function on the loop's thread; any thread. */
void gw_loop_wake(gw_loop_t *l);

/* Makes gw_loop_run() return; any thread, any time before
 * gw_loop_close(), also before gw_loop_run() started. */
void gw_loop_stop(gw_loop_t *l);

/* Destroys the lws context: every connection gets its close callbacks,
 * here, on the calling thread; the listening socket closes. The loop
 * must not be running. Idempotent. */
void gw_loop_close(gw_loop_t *l);

/* Closes l if needed and frees it. NULL is ignored. */
void gw_loop_free(gw_loop_t *l);

#endif
