/* gw_proto.h - The wire format of server messages.
 *
 * Every server message is {"type":T,"data":{...},"timestamp":ISO8601,
 * "correlation_id":C|null}. Pure functions; any thread. */
#ifndef GW_PROTO_H
#define GW_PROTO_H

#include <jansson.h>
#include <stddef.h>

#include "wsr_state.h"

/* Error codes of error_message. */
#define GW_ERR_FORMAT            "FORMAT_ERROR"
#define GW_ERR_UNKNOWN_TYPE      "UNKNOWN_TYPE"
#define GW_ERR_AUTH              "AUTH_FAILED"
#define GW_ERR_DUPLICATE_SESSION "DUPLICATE_SESSION"
#define GW_ERR_NOT_READY         "NOT_READY"
#define GW_ERR_INTERNAL          "INTERNAL_ERROR"
#define GW_ERR_INVALID_SESSION   "INVALID_SESSION"
#define GW_ERR_SESSION_FORBIDDEN "SESSION_FORBIDDEN"
#define GW_ERR_OVERLOADED        "OVERLOADED"
#define GW_ERR_SLOW_CONSUMER     "SLOW_CONSUMER"

/* Close codes. 4xxx mirror the HTTP status they resemble. */
#define GW_CLOSE_UNSUPPORTED       1003 /* a binary frame */
#define GW_CLOSE_POLICY            1008 /* auth failed, slow consumer */
#define GW_CLOSE_TOO_BIG           1009
#define GW_CLOSE_INTERNAL          1011
#define GW_CLOSE_TRY_AGAIN         1013 /* at the connection limit */
#define GW_CLOSE_BAD_SESSION       4400 /* an invalid session id */
#define GW_CLOSE_FORBIDDEN         4403 /* another user's session */
#define GW_CLOSE_DUPLICATE_SESSION 4409

/* Serializes a server message. data is stolen (NULL: {}); correlation_id
 * may be NULL. Returns a malloc'd string, or NULL when out of memory. */
char *gw_proto_message(const char *type, json_t *data,
                       const char *correlation_id);

/* An error_message with data {code, message}. */
char *gw_proto_error(const char *code, const char *message,
                     const char *correlation_id);

/* A parsed client message. */
typedef struct {
    json_t *root;               /* owns the strings below */
    const char *type;           /* "user_message", "ping", ... */
    const char *correlation_id; /* NULL when absent */
    const char *content;        /* user_message data.content */
} gw_client_msg_t;

/* Parses a client frame. Returns 0; or -EBADMSG (not a JSON object with a
 * string type, or a user_message without string data.content, or a
 * correlation_id that is neither a string nor null) with a reason in err;
 * a null correlation_id counts as absent. On 0 call
 * gw_client_msg_free(). */
int gw_client_msg_parse(const char *buf, size_t len, gw_client_msg_t *out,
                        char *err, size_t errlen);
void gw_client_msg_free(gw_client_msg_t *m);

#endif
