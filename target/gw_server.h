/* gw_server.h - The libwebsockets transport of the gateway: WebSocket
 * endpoint /ws and the HTTP endpoints of gw_http.h (/healthz,
 * /debug/registry, /debug/ready?id=K on loopback; POST /ticket), on one
 * port, served by one lws service thread. */
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
    unsigned handshake_timeout_s; /* TCP accept to upgrade done; 0: 10 */
} gw_server_opts_t;

/* Creates the lws context listening on opts, serving gw. On success returns
 * the server and stores the bound port in *port; NULL on failure with a
 * reason in err. Sets gw->sink and gw->params.frame_headroom: call before
 * any connection exists. */
gw_server_t *gw_server_new(gw_gateway_t *gw, const gw_server_opts_t *opts,
                           int *port, char *err, size_t errlen);

/* Serves until *stop becomes true (set it, then gw_server_interrupt). */
void gw_server_run(gw_server_t *s, _Atomic bool *stop);

/* Wakes the service loop; safe from any thread. */
void gw_server_interrupt(gw_server_t *s);

/* Closes every connection and destroys the lws context; afterwards wakes
 * from workers are ignored (but still touch s). */
void gw_server_close(gw_server_t *s);

/* Frees s (closing it first if needed). Call only once no worker can wake
 * a connection any more, i.e. after gw_gateway_shutdown(). */
void gw_server_free(gw_server_t *s);

#endif
