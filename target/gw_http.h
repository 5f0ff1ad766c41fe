/* gw_http.h - The gateway's HTTP endpoints, as functions of a request the
 * transport has already parsed (gw_server.c reads it from libwebsockets).
 *
 *   GET  /healthz            status, counters and limits      loopback only
 *   GET  /debug/registry     every registry entry             loopback only
 *   GET  /debug/ready?id=K   {"id","registered","ready"}      loopback only
 *   POST /ticket             a one-time connection ticket     any peer
 *        (Authorization: Bearer TOKEN; see gw_ticket.h)
 *
 * Every answer is a JSON object with an HTTP status; errors are
 * {"error": "...", ...} with a 4xx status, never a dropped connection.
 * Pure but for the gateway state it reads (and the ticket it issues); any
 * thread. */
#ifndef GW_HTTP_H
#define GW_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gw_gateway.h"

#define GW_HTTP_ARGS_MAX 32   /* query arguments read, at most */
#define GW_HTTP_BODY_MAX 4096 /* request body bytes read (and ignored) */

typedef enum {
    GW_HTTP_GET,
    GW_HTTP_POST,
    GW_HTTP_OTHER, /* any other method: 405 */
} gw_http_method_t;

/* One request. The strings belong to the caller. */
typedef struct {
    gw_http_method_t method;
    const char *path;        /* URL-decoded, without the query */
    const char *const *args; /* "name=value" query arguments, decoded */
    size_t nargs;
    const char *args_error;    /* why the query could not be read, or NULL */
    bool loopback;             /* the peer is on this host */
    const char *authorization; /* the Authorization header, or NULL */
} gw_http_req_t;

/* The value of query argument name (the first one), with its length in
 * *len; NULL when there is none. */
const char *gw_http_arg(const char *const *args, size_t nargs, const char *name,
                        size_t *len);

/* Answers r at now (Unix seconds): a new JSON object and *status. NULL
 * only when out of memory. */
json_t *gw_http_answer(gw_gateway_t *gw, const gw_http_req_t *r, int64_t now,
                       int *status);

#endif
