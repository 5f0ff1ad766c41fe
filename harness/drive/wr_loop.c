/* wr_loop.c - An lws client context on a libev epoll loop of our own
 * (see wr_loop.h).
 *
 * lws drives its sockets through the libev plugin on our loop; the loop
 * also carries an ev_async watcher for wake-ups from other threads (not
 * lws_cancel_service(), which lws broadcasts to every protocol) and the
 * engine's timers. Timers read the clock when armed (ev_now_update), so a
 * busy loop iteration does not make them fire early.
 *
 * Threads: see wr_loop.h. ev_async_send() is libev's thread-safe call. */
#include "drive/wr_loop.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

struct wr_loop {
    struct ev_loop *ev;
    struct lws_context *ctx;
    ev_async async;
    wr_loop_wake_fn wake;
    void *wake_arg;
};

static void async_cb(struct ev_loop *ev, ev_async *w, int revents)
{
    wr_loop_t *l = (wr_loop_t *)((char *)w - offsetof(wr_loop_t, async));

    (void)ev;
    (void)revents;
    if (l->wake != NULL)
        l->wake(l->wake_arg);
}

/* lws 4.1.6 by default arms an idle-ping timer (300 s) on every
 * WebSocket when it opens, in the context's linearly sorted timer list;
 * a client's steps bound its own waits, so the loops keep none. */
static const lws_retry_bo_t no_idle_timer = {
    .secs_since_valid_ping = 0,
    .secs_since_valid_hangup = 0,
};

wr_loop_t *wr_loop_new(const wr_loop_opts_t *o)
{
    struct lws_context_creation_info info;
    wr_loop_t *l = calloc(1, sizeof(*l));
    void *foreign[1];

    if (l == NULL)
        return NULL;
    /* EVFLAG_NOSIGMASK: the engine's threads leave signals alone. */
    l->ev = ev_loop_new(EVBACKEND_EPOLL | EVFLAG_NOSIGMASK);
    if (l->ev == NULL) {
        free(l);
        return NULL;
    }
    l->wake = o->wake;
    l->wake_arg = o->wake_arg;
    ev_async_init(&l->async, async_cb);
    ev_async_start(l->ev, &l->async);
    memset(&info, 0, sizeof(info));
    foreign[0] = l->ev;
    info.options = LWS_SERVER_OPTION_LIBEV;
    info.foreign_loops = foreign; /* read during creation only */
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = o->protocols;
    info.user = o->user;
    info.timeout_secs = o->timeout_secs;
    info.connect_timeout_secs = o->timeout_secs;
    info.fd_limit_per_thread = o->fd_limit;
    info.retry_and_idle_policy = &no_idle_timer;
    l->ctx = lws_create_context(&info);
    if (l->ctx == NULL) {
        wr_loop_free(l);
        return NULL;
    }
    return l;
}

struct lws_context *wr_loop_context(const wr_loop_t *l)
{
    return l->ctx;
}

void wr_loop_run(wr_loop_t *l)
{
    ev_run(l->ev, 0);
}

void wr_loop_break(wr_loop_t *l)
{
    ev_break(l->ev, EVBREAK_ALL);
}

void wr_loop_wake(wr_loop_t *l)
{
    ev_async_send(l->ev, &l->async);
}

void wr_loop_free(wr_loop_t *l)
{
    if (l == NULL)
        return;
    if (l->ctx != NULL)
        lws_context_destroy(l->ctx);
    ev_async_stop(l->ev, &l->async);
    ev_loop_destroy(l->ev);
    free(l);
}

static void timer_cb(struct ev_loop *ev, ev_timer *w, int revents)
{
    wr_timer_t *t = (wr_timer_t *)((char *)w - offsetof(wr_timer_t, ev));

    (void)ev;
    (void)revents;
    t->fn(t);
}

void wr_timer_init(wr_timer_t *t, wr_loop_t *l)
{
    ev_init(&t->ev, timer_cb);
    t->loop = l;
    t->fn = NULL;
}

void wr_timer_start(wr_timer_t *t, int64_t us, wr_timer_fn fn)
{
    struct ev_loop *ev = t->loop->ev;

    ev_timer_stop(ev, &t->ev);
    ev_now_update(ev);
    ev_timer_set(&t->ev, us > 0 ? (ev_tstamp)us / 1e6 : 0., 0.);
    t->fn = fn;
    ev_timer_start(ev, &t->ev);
}

void wr_timer_stop(wr_timer_t *t)
{
    if (t->loop != NULL)
        ev_timer_stop(t->loop->ev, &t->ev);
}
