/* gw_server.h - The libwebsockets transport of the gateway: WebSocket
 * endpoint /ws and the HTTP endpoints of gw_http.h (/healthz,
 * /debug/registry, /debug/ready?id=K on loopback; POST /ticket), on one
 * port, served by one or more service loops (gw_loop.h), each an lws
 * context on its own epoll loop and thread. */
#ifndef GW_SERVER_H
#define GW_SERVER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "gw_gateway.h"

typedef struct gw_server gw_server_t;

typedef struct {
    const char *host;   /* address to bind, e.g. "127.0.0.1" */
    int port;           /* 0: any free port */
    size_t max_message; /* bytes; a larger message closes with 1009 */
    unsigned loops;     /* service loops on the port; 0 means 1 */
    unsigned handshake_timeout_s; /* TCP accept to upgrade done; 0: 10 */
} gw_server_opts_t;

/* Creates the service loops listening on opts, serving gw: the first
 * binds opts->port (any free one for 0), the others the port it got. On
 * success returns the server and stores the bound port in *port; NULL on
 * failure with a reason in err. Sets gw->sink and
 * gw->params.frame_headroom: call before any connection exists. */
gw_server_t *gw_server_new(gw_gateway_t *gw, const gw_server_opts_t *opts,
                           int *port, char *err, size_t errlen);

/* Serves until gw_server_interrupt(): the first loop on the calling
 * thread, each other on a thread of its own, joined before it returns.
 * Returns 0, or -EAGAIN when a loop's thread could not start (the loops
 * were stopped). */
int gw_server_run(gw_server_t *s);

/* Stops every loop; safe from any thread, also before gw_server_run(). */
void gw_server_interrupt(gw_server_t *s);

/* Closes every connection of every loop and destroys their lws contexts,
 * on the calling thread; afterwards wakes from workers are ignored (but
 * still touch s). The loops must not be running. */
void gw_server_close(gw_server_t *s);

/* Frees s (closing it first if needed). Call only once no worker can wake
 * a connection any more, i.e. after gw_gateway_shutdown(). */
void gw_server_free(gw_server_t *s);

#endif
