/* wsr_sync.c - The sync point table and the action parser. Static data;
 * any thread. */
#include "wsr_sync.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    const char *summary;
} points[WSR_SP__COUNT] = {
    [WSR_SP_ACCEPT_REGISTERED] = {"accept.registered",
                                  "after the pre-key is registered and the "
                                  "machine is ACCEPTED"},
    [WSR_SP_AUTH_DONE] = {"auth.done",
                          "after the token is verified (AUTHENTICATED)"},
    [WSR_SP_SERVICES_DONE] = {"services.done",
                              "after services start (SERVICES_READY)"},
    [WSR_SP_REGISTRY_CHECK] = {"registry.check",
                               "between the registry's live-key check and "
                               "its insert (correct code: just before its "
                               "single critical section)"},
    [WSR_SP_SWAP_UNREGISTERED] = {"swap.unregistered",
                                  "after the pre-key let go of the machine "
                                  "during the key swap"},
    [WSR_SP_COORDINATOR_READY] = {"coordinator.ready",
                                  "before the handshake coordinator turns "
                                  "READY_FOR_MESSAGES"},
    [WSR_SP_MACHINE_READY] = {"machine.ready",
                              "before the machine turns PROCESSING_READY"},
    [WSR_SP_MESSAGE_GATE] = {"message.gate",
                             "before a user_message's readiness gate"},
    [WSR_SP_CLOSE_BEGIN] = {"close.begin",
                            "before the close path (CLOSING, unregister)"},
};

static const char *const kind_names[] = {"none", "delay", "jitter",
                                         "rendezvous"};

const char *wsr_sync_point_name(wsr_sync_point_t p)
{
    return (unsigned)p < WSR_SP__COUNT ? points[p].name : NULL;
}

const char *wsr_sync_point_summary(wsr_sync_point_t p)
{
    return (unsigned)p < WSR_SP__COUNT ? points[p].summary : NULL;
}

int wsr_sync_point_from_name(const char *name, size_t len)
{
    for (int p = 0; name != NULL && p < WSR_SP__COUNT; p++)
        if (strlen(points[p].name) == len &&
            strncmp(name, points[p].name, len) == 0)
            return p;
    return -1;
}

const char *wsr_sync_kind_name(wsr_sync_kind_t k)
{
    return (unsigned)k <= WSR_SYNC_RENDEZVOUS ? kind_names[k] : "?";
}

/* Parses a whole decimal number in [0, max] spanning str..end. */
static int parse_ms(const char *str, const char *end, unsigned max,
                    unsigned *out)
{
    char *stop;
    unsigned long v;

    if (str == end || *str < '0' || *str > '9')
        return -EINVAL;
    errno = 0;
    v = strtoul(str, &stop, 10);
    if (errno || stop != end || v > max)
        return -EINVAL;
    *out = (unsigned)v;
    return 0;
}

/* The names of every point, comma-separated, for messages. */
static void list_points(char *buf, size_t len)
{
    size_t used = 0;

    buf[0] = '\0';
    for (int p = 0; p < WSR_SP__COUNT && used < len; p++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s",
                                 p ? ", " : "", points[p].name);
}

int wsr_sync_parse(const char *spec, wsr_sync_spec_t *out, char *err,
                   size_t errlen)
{
    const char *colon = strchr(spec, ':');
    const char *act, *eq, *end;
    wsr_sync_spec_t tmp = {0};
    char names[256];
    int p;

    if (!colon) {
        snprintf(err, errlen, "sync '%s': expected POINT:ACTION", spec);
        return -EINVAL;
    }
    p = wsr_sync_point_from_name(spec, (size_t)(colon - spec));
    if (p < 0) {
        list_points(names, sizeof(names));
        snprintf(err, errlen, "sync '%s': unknown point '%.*s' (expected %s)",
                 spec, (int)(colon - spec), spec, names);
        return -EINVAL;
    }
    act = colon + 1;
    end = act + strlen(act);
    eq = strchr(act, '=');
    if (strcmp(act, "none") == 0) {
        tmp.kind = WSR_SYNC_NONE;
    } else if (eq && strncmp(act, "delay=", 6) == 0) {
        tmp.kind = WSR_SYNC_DELAY;
        if (parse_ms(eq + 1, end, WSR_SYNC_MAX_MS, &tmp.a_ms)) {
            snprintf(err, errlen, "sync '%s': delay wants milliseconds 0..%u",
                     spec, WSR_SYNC_MAX_MS);
            return -EINVAL;
        }
    } else if (eq && strncmp(act, "jitter=", 7) == 0) {
        const char *dots = strstr(eq + 1, "..");

        tmp.kind = WSR_SYNC_JITTER;
        if (!dots || parse_ms(eq + 1, dots, WSR_SYNC_MAX_MS, &tmp.a_ms) ||
            parse_ms(dots + 2, end, WSR_SYNC_MAX_MS, &tmp.b_ms) ||
            tmp.b_ms < tmp.a_ms) {
            snprintf(err, errlen,
                     "sync '%s': jitter wants MIN..MAX milliseconds with "
                     "MIN <= MAX",
                     spec);
            return -EINVAL;
        }
    } else if (eq && strncmp(act, "rendezvous=", 11) == 0) {
        const char *comma = strchr(eq + 1, ',');

        tmp.kind = WSR_SYNC_RENDEZVOUS;
        tmp.rv_timeout_ms = WSR_SYNC_DEFAULT_RV_WAIT;
        if (parse_ms(eq + 1, comma ? comma : end, WSR_SYNC_MAX_RV,
                     &tmp.rv_n) ||
            tmp.rv_n < 2) {
            snprintf(err, errlen,
                     "sync '%s': rendezvous wants a group size 2..%u", spec,
                     WSR_SYNC_MAX_RV);
            return -EINVAL;
        }
        if (comma &&
            (strncmp(comma + 1, "timeout=", 8) != 0 ||
             parse_ms(comma + 9, end, WSR_SYNC_MAX_MS, &tmp.rv_timeout_ms) ||
             tmp.rv_timeout_ms == 0)) {
            snprintf(err, errlen,
                     "sync '%s': expected ',timeout=MS' (1..%u) after the "
                     "group size",
                     spec, WSR_SYNC_MAX_MS);
            return -EINVAL;
        }
    } else {
        snprintf(err, errlen,
                 "sync '%s': unknown action '%s' (expected delay=MS, "
                 "jitter=MIN..MAX, rendezvous=N[,timeout=MS], none)",
                 spec, act);
        return -EINVAL;
    }
    tmp.point = (wsr_sync_point_t)p;
    *out = tmp;
    return 0;
}

int wsr_sync_format(const wsr_sync_spec_t *s, char *buf, size_t len)
{
    const char *name = wsr_sync_point_name(s->point);
    int n;

    if (name == NULL)
        return -EINVAL;
    switch (s->kind) {
    case WSR_SYNC_DELAY:
        n = snprintf(buf, len, "%s:delay=%u", name, s->a_ms);
        break;
    case WSR_SYNC_JITTER:
        n = snprintf(buf, len, "%s:jitter=%u..%u", name, s->a_ms, s->b_ms);
        break;
    case WSR_SYNC_RENDEZVOUS:
        n = snprintf(buf, len, "%s:rendezvous=%u,timeout=%u", name, s->rv_n,
                     s->rv_timeout_ms);
        break;
    default:
        n = snprintf(buf, len, "%s:none", name);
        break;
    }
    if (n < 0 || (size_t)n >= len) {
        if (len > 0)
            buf[0] = '\0';
        return -ENOSPC;
    }
    return n;
}
