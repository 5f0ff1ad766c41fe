/* gw_proto.c - Building server messages and parsing client ones (jansson).
 *
 * No shared state; any thread. */
#include "gw_proto.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void iso_now(char *buf, size_t len)
{
    struct timespec ts;
    struct tm tm;
    char base[32];

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, len, "%s.%03ldZ", base, ts.tv_nsec / 1000000L);
}

char *gw_proto_message(const char *type, json_t *data,
                       const char *correlation_id)
{
    char ts[48];
    json_t *o;
    char *s;

    iso_now(ts, sizeof(ts));
    o = json_pack("{s:s,s:o,s:s,s:o}", "type", type, "data",
                  data ? data : json_object(), "timestamp", ts,
                  "correlation_id",
                  correlation_id ? json_string(correlation_id) : json_null());
    if (!o)
        return NULL;
    s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return s;
}

char *gw_proto_error(const char *code, const char *message,
                     const char *correlation_id)
{
    return gw_proto_message(
        "error_message",
        json_pack("{s:s,s:s}", "code", code, "message", message),
        correlation_id);
}

int gw_client_msg_parse(const char *buf, size_t len, gw_client_msg_t *out,
                        char *err, size_t errlen)
{
    json_error_t je;
    json_t *root, *cid, *data, *content;

    memset(out, 0, sizeof(*out));
    root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        snprintf(err, errlen, "invalid JSON at column %d: %s", je.column,
                 je.text);
        return -EBADMSG;
    }
    if (!json_is_object(root) ||
        !json_is_string(json_object_get(root, "type"))) {
        snprintf(err, errlen, "a message is an object with a string 'type'");
        goto bad;
    }
    cid = json_object_get(root, "correlation_id");
    if (cid && !json_is_string(cid) && !json_is_null(cid)) {
        snprintf(err, errlen, "'correlation_id' must be a string");
        goto bad;
    }
    out->root = root;
    out->type = json_string_value(json_object_get(root, "type"));
    out->correlation_id = json_is_string(cid) ? json_string_value(cid) : NULL;
    if (strcmp(out->type, "user_message") == 0) {
        data = json_object_get(root, "data");
        content =
            json_is_object(data) ? json_object_get(data, "content") : NULL;
        if (!json_is_string(content)) {
            snprintf(err, errlen, "user_message needs a string 'data.content'");
            out->root = NULL;
            goto bad;
        }
        out->content = json_string_value(content);
    }
    return 0;
bad:
    json_decref(root);
    memset(out, 0, sizeof(*out));
    return -EBADMSG;
}

void gw_client_msg_free(gw_client_msg_t *m)
{
    json_decref(m->root);
    memset(m, 0, sizeof(*m));
}
