/* gw_sync.c - Sync point actions: delay, seeded jitter, rendezvous.
 *
 * Threads: gw_sync_apply()/gw_sync_set() on the main thread before any
 * worker exists; gw_sync_parse() anywhere;
 * gw_sync_hit() on worker threads; gw_sync_shutdown() from any thread.
 * Locks: each point's `lock` guards its rendezvous group; `sleep_lock` only
 * backs interruptible sleeps. Neither is held while another is taken, and
 * the trace lock is taken with neither held. */
#include "gw_sync.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_RV_TIMEOUT_MS 5000u
#define MAX_ACTION_MS         600000u
#define MAX_RV                1024u

typedef struct {
    gw_sync_spec_t act;        /* action; fixed after start-up */
    _Atomic uint64_t arrivals; /* hits so far; indexes jitter draws */
    pthread_mutex_t lock;      /* guards the three fields below */
    pthread_cond_t cond;       /* signalled when a group is released */
    unsigned waiting;          /* arrivals in the open group */
    uint64_t generation;       /* bumped each time a group is released */
} point_t;

struct gw_sync {
    uint64_t seed;
    gw_trace_t *trace;
    _Atomic bool shutdown;
    pthread_mutex_t sleep_lock;
    pthread_cond_t sleep_cond;
    point_t points[GW_SP__COUNT];
};

static const struct {
    const char *name;
    const char *summary;
} point_info[GW_SP__COUNT] = {
    [GW_SP_ACCEPT_REGISTERED] = {"accept.registered",
                                 "after the pre-key is registered and the "
                                 "machine is ACCEPTED"},
    [GW_SP_AUTH_DONE] = {"auth.done",
                         "after the token is verified (AUTHENTICATED)"},
    [GW_SP_SERVICES_DONE] = {"services.done",
                             "after services start (SERVICES_READY)"},
    [GW_SP_REGISTRY_CHECK] = {"registry.check",
                              "between the registry's live-key check and its "
                              "insert (correct code: just before its single "
                              "critical section)"},
    [GW_SP_SWAP_UNREGISTERED] = {"swap.unregistered",
                                 "after the pre-key let go of the machine "
                                 "during the key swap"},
    [GW_SP_COORDINATOR_READY] = {"coordinator.ready",
                                 "before the handshake coordinator turns "
                                 "READY_FOR_MESSAGES"},
    [GW_SP_MACHINE_READY] = {"machine.ready",
                             "before the machine turns PROCESSING_READY"},
    [GW_SP_MESSAGE_GATE] = {"message.gate",
                            "before a user_message's readiness gate"},
    [GW_SP_CLOSE_BEGIN] = {"close.begin",
                           "before the close path (CLOSING, unregister)"},
};

static const char *const kind_names[] = {"none", "delay", "jitter",
                                         "rendezvous"};

const char *gw_sync_point_name(gw_sync_point_t p)
{
    return (unsigned)p < GW_SP__COUNT ? point_info[p].name : NULL;
}

const char *gw_sync_point_summary(gw_sync_point_t p)
{
    return (unsigned)p < GW_SP__COUNT ? point_info[p].summary : NULL;
}

gw_sync_t *gw_sync_new(uint64_t seed, gw_trace_t *trace)
{
    gw_sync_t *s = calloc(1, sizeof(*s));
    pthread_condattr_t ca;

    if (!s)
        return NULL;
    s->seed = seed;
    s->trace = trace;
    /* Deadlines are CLOCK_MONOTONIC: wall-clock steps must not shorten or
     * stretch a race window. */
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&s->sleep_lock, NULL);
    pthread_cond_init(&s->sleep_cond, &ca);
    for (int i = 0; i < GW_SP__COUNT; i++) {
        pthread_mutex_init(&s->points[i].lock, NULL);
        pthread_cond_init(&s->points[i].cond, &ca);
    }
    pthread_condattr_destroy(&ca);
    return s;
}

void gw_sync_free(gw_sync_t *s)
{
    if (!s)
        return;
    gw_sync_shutdown(s);
    for (int i = 0; i < GW_SP__COUNT; i++) {
        pthread_mutex_destroy(&s->points[i].lock);
        pthread_cond_destroy(&s->points[i].cond);
    }
    pthread_mutex_destroy(&s->sleep_lock);
    pthread_cond_destroy(&s->sleep_cond);
    free(s);
}

/* Parses a whole decimal number in [0, max]. */
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

int gw_sync_parse(const char *spec, gw_sync_spec_t *out, char *err,
                  size_t errlen)
{
    const char *colon = strchr(spec, ':');
    const char *act, *eq, *end;
    gw_sync_spec_t tmp = {0};
    int p;

    if (!colon) {
        snprintf(err, errlen, "sync '%s': expected POINT:ACTION", spec);
        return -EINVAL;
    }
    for (p = 0; p < GW_SP__COUNT; p++)
        if (strlen(point_info[p].name) == (size_t)(colon - spec) &&
            strncmp(spec, point_info[p].name, (size_t)(colon - spec)) == 0)
            break;
    if (p == GW_SP__COUNT) {
        snprintf(err, errlen,
                 "sync '%s': unknown point '%.*s' (see --list-sync-points)",
                 spec, (int)(colon - spec), spec);
        return -EINVAL;
    }
    act = colon + 1;
    end = act + strlen(act);
    eq = strchr(act, '=');
    if (strcmp(act, "none") == 0) {
        tmp.kind = GW_SYNC_NONE;
    } else if (eq && strncmp(act, "delay=", 6) == 0) {
        tmp.kind = GW_SYNC_DELAY;
        if (parse_ms(eq + 1, end, MAX_ACTION_MS, &tmp.a_ms)) {
            snprintf(err, errlen, "sync '%s': delay wants milliseconds 0..%u",
                     spec, MAX_ACTION_MS);
            return -EINVAL;
        }
    } else if (eq && strncmp(act, "jitter=", 7) == 0) {
        const char *dots = strstr(eq + 1, "..");
        tmp.kind = GW_SYNC_JITTER;
        if (!dots || parse_ms(eq + 1, dots, MAX_ACTION_MS, &tmp.a_ms) ||
            parse_ms(dots + 2, end, MAX_ACTION_MS, &tmp.b_ms) ||
            tmp.b_ms < tmp.a_ms) {
            snprintf(err, errlen,
                     "sync '%s': jitter wants MIN..MAX milliseconds with "
                     "MIN <= MAX",
                     spec);
            return -EINVAL;
        }
    } else if (eq && strncmp(act, "rendezvous=", 11) == 0) {
        const char *comma = strchr(eq + 1, ',');
        tmp.kind = GW_SYNC_RENDEZVOUS;
        tmp.rv_timeout_ms = DEFAULT_RV_TIMEOUT_MS;
        if (parse_ms(eq + 1, comma ? comma : end, MAX_RV, &tmp.rv_n) ||
            tmp.rv_n < 2) {
            snprintf(err, errlen,
                     "sync '%s': rendezvous wants a group size 2..%u", spec,
                     MAX_RV);
            return -EINVAL;
        }
        if (comma &&
            (strncmp(comma + 1, "timeout=", 8) != 0 ||
             parse_ms(comma + 9, end, MAX_ACTION_MS, &tmp.rv_timeout_ms) ||
             tmp.rv_timeout_ms == 0)) {
            snprintf(err, errlen,
                     "sync '%s': expected ',timeout=MS' (1..%u) after the "
                     "group size",
                     spec, MAX_ACTION_MS);
            return -EINVAL;
        }
    } else {
        snprintf(err, errlen,
                 "sync '%s': unknown action '%s' (delay=MS, jitter=MIN..MAX, "
                 "rendezvous=N[,timeout=MS], none)",
                 spec, act);
        return -EINVAL;
    }
    tmp.point = (gw_sync_point_t)p;
    *out = tmp;
    return 0;
}

void gw_sync_apply(gw_sync_t *s, const gw_sync_spec_t *spec)
{
    s->points[spec->point].act = *spec;
}

int gw_sync_set(gw_sync_t *s, const char *spec, char *err, size_t errlen)
{
    gw_sync_spec_t parsed;
    int rc = gw_sync_parse(spec, &parsed, err, errlen);

    if (rc == 0)
        gw_sync_apply(s, &parsed);
    return rc;
}

gw_sync_kind_t gw_sync_kind(const gw_sync_t *s, gw_sync_point_t p)
{
    return (unsigned)p < GW_SP__COUNT ? s->points[p].act.kind : GW_SYNC_NONE;
}

unsigned gw_sync_max_rendezvous(const gw_sync_t *s)
{
    unsigned n = 0;

    for (int i = 0; i < GW_SP__COUNT; i++)
        if (s->points[i].act.kind == GW_SYNC_RENDEZVOUS &&
            s->points[i].act.rv_n > n)
            n = s->points[i].act.rv_n;
    return n;
}

char *gw_sync_format(const gw_sync_t *s, char *buf, size_t len)
{
    size_t off = 0;

    buf[0] = '\0';
    for (int i = 0; i < GW_SP__COUNT && off < len; i++) {
        const point_t *pt = &s->points[i];
        int n = 0;
        const char *sep = off ? " " : "";

        switch (pt->act.kind) {
        case GW_SYNC_NONE:
            continue;
        case GW_SYNC_DELAY:
            n = snprintf(buf + off, len - off, "%s%s:delay=%u", sep,
                         point_info[i].name, pt->act.a_ms);
            break;
        case GW_SYNC_JITTER:
            n = snprintf(buf + off, len - off, "%s%s:jitter=%u..%u", sep,
                         point_info[i].name, pt->act.a_ms, pt->act.b_ms);
            break;
        case GW_SYNC_RENDEZVOUS:
            n = snprintf(buf + off, len - off, "%s%s:rendezvous=%u,timeout=%u",
                         sep, point_info[i].name, pt->act.rv_n,
                         pt->act.rv_timeout_ms);
            break;
        }
        if (n > 0)
            off += (size_t)n;
    }
    return buf;
}

/* splitmix64: a small, well-mixed generator; good enough for jitter. */
static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static struct timespec deadline_after_ms(unsigned ms)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

/* Sleeps ms milliseconds unless shutdown comes first. */
static void sleep_ms(gw_sync_t *s, unsigned ms)
{
    struct timespec dl = deadline_after_ms(ms);

    pthread_mutex_lock(&s->sleep_lock);
    while (!atomic_load(&s->shutdown) &&
           pthread_cond_timedwait(&s->sleep_cond, &s->sleep_lock, &dl) !=
               ETIMEDOUT)
        ;
    pthread_mutex_unlock(&s->sleep_lock);
}

/* Waits for the open group of pt to fill. Returns true when the group was
 * released full, false when it timed out or shutdown released it. *arrived
 * gets this thread's position in the group (1-based). */
static bool rendezvous(gw_sync_t *s, point_t *pt, unsigned *arrived)
{
    struct timespec dl = deadline_after_ms(pt->act.rv_timeout_ms);
    bool full = true;
    uint64_t gen;

    pthread_mutex_lock(&pt->lock);
    gen = pt->generation;
    *arrived = ++pt->waiting;
    if (pt->waiting >= pt->act.rv_n) {
        pt->waiting = 0;
        pt->generation++;
        pthread_cond_broadcast(&pt->cond);
    } else {
        while (pt->generation == gen) {
            if (atomic_load(&s->shutdown)) {
                full = false;
                break;
            }
            if (pthread_cond_timedwait(&pt->cond, &pt->lock, &dl) ==
                    ETIMEDOUT &&
                pt->generation == gen) {
                /* The group did not fill in time: release who is here. */
                pt->waiting = 0;
                pt->generation++;
                pthread_cond_broadcast(&pt->cond);
                full = false;
                break;
            }
        }
    }
    pthread_mutex_unlock(&pt->lock);
    return full;
}

void gw_sync_hit(gw_sync_t *s, gw_sync_point_t p, uint64_t conn,
                 const char *key)
{
    point_t *pt;
    uint64_t idx, t0;
    unsigned ms, pos = 0;
    bool full;

    if (!s || (unsigned)p >= GW_SP__COUNT)
        return;
    pt = &s->points[p];
    if (pt->act.kind == GW_SYNC_NONE || atomic_load(&s->shutdown))
        return;
    idx = atomic_fetch_add(&pt->arrivals, 1);
    t0 = gw_now_ns();
    switch (pt->act.kind) {
    case GW_SYNC_NONE:
        break;
    case GW_SYNC_DELAY:
    case GW_SYNC_JITTER:
        ms = pt->act.a_ms;
        if (pt->act.kind == GW_SYNC_JITTER)
            ms += (unsigned)(mix64(s->seed ^ mix64((uint64_t)p + 1) ^ idx) %
                             ((uint64_t)pt->act.b_ms - pt->act.a_ms + 1));
        gw_trace_emitf(s->trace, conn, key, "sync.hit", "{s:s,s:s,s:I,s:i}",
                       "point", point_info[p].name, "action",
                       kind_names[pt->act.kind], "arrival", (json_int_t)idx,
                       "ms", ms);
        if (ms)
            sleep_ms(s, ms);
        break;
    case GW_SYNC_RENDEZVOUS:
        gw_trace_emitf(s->trace, conn, key, "sync.hit", "{s:s,s:s,s:I,s:i}",
                       "point", point_info[p].name, "action", "rendezvous",
                       "arrival", (json_int_t)idx, "n", pt->act.rv_n);
        full = rendezvous(s, pt, &pos);
        gw_trace_emitf(s->trace, conn, key, "sync.release", "{s:s,s:s,s:i,s:I}",
                       "point", point_info[p].name, "outcome",
                       full ? "together" : "timeout", "position", pos,
                       "waited_us", (json_int_t)((gw_now_ns() - t0) / 1000));
        break;
    }
}

void gw_sync_shutdown(gw_sync_t *s)
{
    atomic_store(&s->shutdown, true);
    pthread_mutex_lock(&s->sleep_lock);
    pthread_cond_broadcast(&s->sleep_cond);
    pthread_mutex_unlock(&s->sleep_lock);
    for (int i = 0; i < GW_SP__COUNT; i++) {
        pthread_mutex_lock(&s->points[i].lock);
        pthread_cond_broadcast(&s->points[i].cond);
        pthread_mutex_unlock(&s->points[i].lock);
    }
}
