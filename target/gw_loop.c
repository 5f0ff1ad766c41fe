/* gw_loop.c - One service loop: an lws context on a libev epoll loop of
 * our own, listening on its own SO_REUSEPORT socket (see gw_loop.h).
 *
 * The listening socket is adopted into the context as a raw file: lws
 * polls it with the rest and calls LWS_CALLBACK_RAW_RX_FILE when
 * connections wait; accept_ready() accepts a bounded batch and hands each
 * socket to lws_adopt_socket_vhost(), which serves it as HTTP and upgrades
 * it to a WebSocket as lws's own listener would.
 *
 * Wake-ups are an ev_async watcher on the loop, not lws_cancel_service():
 * that one is broadcast to every protocol, and lws raises it itself on
 * every adopted socket, so the wake function would run for nothing once
 * per connection.
 *
 * Threads: see gw_loop.h. `stopping` is the only field written by other
 * threads (atomic); ev_async_send() is libev's thread-safe call. */
#include "gw_loop.h"

#include <errno.h>
#include <ev.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LISTENER_PROTOCOL "wsrace-listener"
#define ACCEPT_BATCH      64 /* accepts per wake-up of the listener */

struct gw_loop {
    struct ev_loop *ev;
    struct lws_context *ctx;
    struct lws_vhost *vh;
    struct lws_protocols *protocols; /* the caller's, plus the listener */
    ev_async async;                  /* wake-ups and the stop */
    ev_timer tick;                   /* lws's timeouts, serviced each second */
    gw_loop_wake_fn wake;
    void *wake_arg;
    _Atomic bool stopping;
    unsigned long adopt_failed; /* sockets lws refused (it closed them) */
};

/* ------------------------------------------------------------------ */
/* The listening socket                                                 */
/* ------------------------------------------------------------------ */

/* A bound and listening TCP socket on host:port, or a negative errno.
 * With share, SO_REUSEPORT lets the other loops bind the same port. */
static int listen_on(const char *host, int port, bool share, int *bound)
{
    struct addrinfo hints, *res, *ai;
    char serv[16];
    int fd = -1, rc, one = 1, err = -EADDRNOTAVAIL;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(serv, sizeof(serv), "%d", port);
    rc = getaddrinfo(host, serv, &hints, &res);
    if (rc != 0)
        return rc == EAI_SYSTEM ? -errno : -EADDRNOTAVAIL;
    for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);

        fd = socket(ai->ai_family,
                    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    ai->ai_protocol);
        if (fd < 0) {
            err = -errno;
            continue;
        }
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if ((share &&
             setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one))) ||
            bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, SOMAXCONN) ||
            getsockname(fd, (struct sockaddr *)&ss, &len)) {
            err = -errno;
            close(fd);
            fd = -1;
            continue;
        }
        *bound = ntohs(ss.ss_family == AF_INET6
                           ? ((struct sockaddr_in6 *)&ss)->sin6_port
                           : ((struct sockaddr_in *)&ss)->sin_port);
    }
    freeaddrinfo(res);
    return fd >= 0 ? fd : err;
}

int gw_loop_reserve_port(const char *host, int port, int *bound, char *err,
                         size_t errlen)
{
    int fd = listen_on(host, port, false, bound);

    if (fd < 0) {
        snprintf(err, errlen, "cannot listen on %s:%d: %s", host, port,
                 strerror(-fd));
        return fd;
    }
    close(fd);
    return 0;
}

/* The listener's protocol: lws calls it when the listening socket is
 * readable. Anything else bound to it (a client asking for this name as
 * its subprotocol) is refused. */
static int listener_cb(struct lws *wsi, enum lws_callback_reasons reason,
                       void *user, void *in, size_t len)
{
    gw_loop_t *l;
    int one = 1;

    (void)user;
    (void)in;
    (void)len;
    switch (reason) {
    case LWS_CALLBACK_RAW_RX_FILE:
        break;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
    case LWS_CALLBACK_ESTABLISHED:
        return 1;
    default:
        return 0; /* EVENT_WAIT_CANCELLED included: non-zero breaks lws */
    }
    l = lws_get_protocol(wsi)->user;
    for (int k = 0; k < ACCEPT_BATCH; k++) {
        int fd = accept4(lws_get_socket_fd(wsi), NULL, NULL,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);

        /* EAGAIN: all taken. EMFILE and the like: the connections stay
         * queued and the listener stays readable, so this comes back. */
        if (fd < 0)
            break;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        /* On failure lws has closed fd already (at its descriptor
         * limit, for one). */
        if (lws_adopt_socket_vhost(l->vh, fd) == NULL)
            l->adopt_failed++;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* The loop                                                             */
/* ------------------------------------------------------------------ */

/* lws 4.1.6 by default arms an idle-ping timer (300 s, hang up at 310 s)
 * on every WebSocket when it opens, in the context's linearly sorted
 * timer list: at 5,000 connections a loop spent about a seventh of its
 * time inserting them. Clients own their liveness here (a case lasts
 * seconds), so the loops keep no idle timers. */
static const lws_retry_bo_t no_idle_timer = {
    .secs_since_valid_ping = 0,
    .secs_since_valid_hangup = 0,
};

/* lws's libev plugin re-arms its timer watcher with ev_timer_start()
 * without stopping it first, which libev ignores while the watcher is
 * active: a timeout set while a later one is pending (the bound on a
 * socket that never sends a byte, say) would wait for that later one.
 * Each second this wakes lws through its own cancel pipe; its idle
 * handler then services every timeout that is due. */
static void tick_cb(struct ev_loop *ev, ev_timer *w, int revents)
{
    gw_loop_t *l = (gw_loop_t *)((char *)w - offsetof(gw_loop_t, tick));

    (void)ev;
    (void)revents;
    if (l->ctx != NULL && !atomic_load(&l->stopping))
        lws_cancel_service(l->ctx);
}

static void async_cb(struct ev_loop *ev, ev_async *w, int revents)
{
    gw_loop_t *l = (gw_loop_t *)((char *)w - offsetof(gw_loop_t, async));

    (void)revents;
    if (atomic_load(&l->stopping)) {
        ev_break(ev, EVBREAK_ALL);
        return;
    }
    if (l->wake != NULL)
        l->wake(l->wake_arg);
}

/* A copy of protocols with the listener's appended. */
static struct lws_protocols *with_listener(const struct lws_protocols *p,
                                           gw_loop_t *l)
{
    size_t n = 0;
    struct lws_protocols *out;

    while (p[n].name != NULL)
        n++;
    out = calloc(n + 2, sizeof(*out));
    if (out == NULL)
        return NULL;
    memcpy(out, p, n * sizeof(*out));
    out[n].name = LISTENER_PROTOCOL;
    out[n].callback = listener_cb;
    out[n].user = l;
    return out; /* out[n + 1] is the zeroed terminator */
}

gw_loop_t *gw_loop_new(const gw_loop_opts_t *o, char *err, size_t errlen)
{
    struct lws_context_creation_info info;
    lws_sock_file_fd_type u;
    gw_loop_t *l = calloc(1, sizeof(*l));
    void *foreign[1];
    int fd = -1, bound = 0;

    if (l == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    l->wake = o->wake;
    l->wake_arg = o->wake_arg;
    l->protocols = with_listener(o->protocols, l);
    /* EVFLAG_NOSIGMASK: signals are main's business (sigwait). */
    l->ev = ev_loop_new(EVBACKEND_EPOLL | EVFLAG_NOSIGMASK);
    if (l->protocols == NULL || l->ev == NULL) {
        snprintf(err, errlen, "cannot create an epoll loop");
        goto fail;
    }
    ev_async_init(&l->async, async_cb);
    ev_async_start(l->ev, &l->async);
    fd = listen_on(o->host, o->port, true, &bound);
    if (fd < 0) {
        snprintf(err, errlen, "cannot listen on %s:%d: %s", o->host, o->port,
                 strerror(-fd));
        goto fail;
    }

    memset(&info, 0, sizeof(info));
    foreign[0] = l->ev;
    info.options = LWS_SERVER_OPTION_LIBEV | LWS_SERVER_OPTION_VALIDATE_UTF8;
    if (strchr(o->host, ':') == NULL)
        info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    info.foreign_loops = foreign;              /* read during creation only */
    info.port = CONTEXT_PORT_NO_LISTEN_SERVER; /* the socket is ours */
    info.vhost_name = "default";
    info.protocols = l->protocols;
    info.user = o->user;
    info.timeout_secs = o->timeout_secs;
    info.timeout_secs_ah_idle = o->timeout_secs; /* nothing sent yet */
    if (o->max_http_header_data)
        info.max_http_header_data = (unsigned short)o->max_http_header_data;
    info.retry_and_idle_policy = &no_idle_timer;
    l->ctx = lws_create_context(&info);
    l->vh = l->ctx ? lws_get_vhost_by_name(l->ctx, "default") : NULL;
    if (l->vh == NULL) {
        snprintf(err, errlen,
                 "cannot create the lws context (is the libev plugin, "
                 "libwebsockets-evlib-ev, installed?)");
        goto fail;
    }
    u.filefd = fd;
    if (lws_adopt_descriptor_vhost(l->vh, LWS_ADOPT_RAW_FILE_DESC, u,
                                   LISTENER_PROTOCOL, NULL) == NULL) {
        snprintf(err, errlen, "cannot serve the listening socket");
        goto fail;
    }
    ev_timer_init(&l->tick, tick_cb, 1.0, 1.0);
    ev_timer_start(l->ev, &l->tick);
    return l; /* the context owns fd now, and closes it */
fail:
    if (fd >= 0)
        close(fd);
    gw_loop_free(l);
    return NULL;
}

void gw_loop_run(gw_loop_t *l)
{
    if (!atomic_load(&l->stopping))
        ev_run(l->ev, 0);
}

void gw_loop_wake(gw_loop_t *l)
{
    ev_async_send(l->ev, &l->async);
}

void gw_loop_stop(gw_loop_t *l)
{
    atomic_store(&l->stopping, true);
    ev_async_send(l->ev, &l->async);
}

void gw_loop_close(gw_loop_t *l)
{
    if (l == NULL || l->ctx == NULL)
        return;
    ev_timer_stop(l->ev, &l->tick);
    lws_context_destroy(l->ctx);
    l->ctx = NULL;
}

void gw_loop_free(gw_loop_t *l)
{
    if (l == NULL)
        return;
    gw_loop_close(l);
    if (l->ev != NULL) {
        ev_async_stop(l->ev, &l->async);
        ev_loop_destroy(l->ev);
    }
    free(l->protocols);
    free(l);
}
