/* gw_sync.c - Sync point actions: delay, seeded jitter, rendezvous.
 *
 * Threads: gw_sync_apply()/gw_sync_set() on the main thread before any
 * worker exists; wsr_sync_parse() anywhere;
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

typedef struct {
    wsr_sync_spec_t act;        /* action; fixed after start-up */
    _Atomic uint64_t arrivals; /* hits so far; indexes jitter draws */
    pthread_mutex_t lock;      /* guards the three fields below */
    pthread_cond_t cond;       /* signalled when a group is released */
    unsigned waiting;          /* arrivals in the open group */
    uint64_t generation;       /* bumped each time a group is released */
} point_t;

struct gw_sync {
    uint64_t seed;
    gw_trace_t *trace;
    gw_sync_control_t *control; /* NULL: no runner schedules the points */
    _Atomic bool shutdown;
    pthread_mutex_t sleep_lock;
    pthread_cond_t sleep_cond;
    point_t points[WSR_SP__COUNT];
};

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
    for (int i = 0; i < WSR_SP__COUNT; i++) {
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
    gw_sync_control_close(s->control);
    for (int i = 0; i < WSR_SP__COUNT; i++) {
        pthread_mutex_destroy(&s->points[i].lock);
        pthread_cond_destroy(&s->points[i].cond);
    }
    pthread_mutex_destroy(&s->sleep_lock);
    pthread_cond_destroy(&s->sleep_cond);
    free(s);
}

void gw_sync_apply(gw_sync_t *s, const wsr_sync_spec_t *spec)
{
    s->points[spec->point].act = *spec;
}

int gw_sync_set(gw_sync_t *s, const char *spec, char *err, size_t errlen)
{
    wsr_sync_spec_t parsed;
    int rc = wsr_sync_parse(spec, &parsed, err, errlen);

    if (rc == 0)
        gw_sync_apply(s, &parsed);
    return rc;
}

wsr_sync_kind_t gw_sync_kind(const gw_sync_t *s, wsr_sync_point_t p)
{
    return (unsigned)p < WSR_SP__COUNT ? s->points[p].act.kind : WSR_SYNC_NONE;
}

unsigned gw_sync_max_rendezvous(const gw_sync_t *s)
{
    unsigned n = 0;

    for (int i = 0; i < WSR_SP__COUNT; i++)
        if (s->points[i].act.kind == WSR_SYNC_RENDEZVOUS &&
            s->points[i].act.rv_n > n)
            n = s->points[i].act.rv_n;
    return n;
}

char *gw_sync_format(const gw_sync_t *s, char *buf, size_t len)
{
    size_t off = 0;

    buf[0] = '\0';
    for (int i = 0; i < WSR_SP__COUNT && off + 1 < len; i++) {
        int n;

        if (s->points[i].act.kind == WSR_SYNC_NONE)
            continue;
        if (off > 0)
            buf[off++] = ' ';
        n = wsr_sync_format(&s->points[i].act, buf + off, len - off);
        if (n < 0) {
            buf[off > 0 ? off - 1 : 0] = '\0';
            break;
        }
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

void gw_sync_hit(gw_sync_t *s, wsr_sync_point_t p, uint64_t conn,
                 const char *key)
{
    point_t *pt;
    uint64_t idx, t0;
    unsigned ms, pos = 0;
    bool full;

    if (!s || (unsigned)p >= WSR_SP__COUNT)
        return;
    pt = &s->points[p];
    if (atomic_load(&s->shutdown))
        return;
    if (pt->act.kind == WSR_SYNC_NONE) {
        gw_sync_control_wait(s->control, p, conn, key);
        return;
    }
    idx = atomic_fetch_add(&pt->arrivals, 1);
    t0 = gw_now_ns();
    switch (pt->act.kind) {
    case WSR_SYNC_NONE:
        break;
    case WSR_SYNC_DELAY:
    case WSR_SYNC_JITTER:
        ms = pt->act.a_ms;
        if (pt->act.kind == WSR_SYNC_JITTER)
            ms += (unsigned)(mix64(s->seed ^ mix64((uint64_t)p + 1) ^ idx) %
                             ((uint64_t)pt->act.b_ms - pt->act.a_ms + 1));
        gw_trace_emitf(s->trace, conn, key, "sync.hit", "{s:s,s:s,s:I,s:i}",
                       "point", wsr_sync_point_name(p), "action",
                       wsr_sync_kind_name(pt->act.kind), "arrival", (json_int_t)idx,
                       "ms", ms);
        if (ms)
            sleep_ms(s, ms);
        break;
    case WSR_SYNC_RENDEZVOUS:
        gw_trace_emitf(s->trace, conn, key, "sync.hit", "{s:s,s:s,s:I,s:i}",
                       "point", wsr_sync_point_name(p), "action", "rendezvous",
                       "arrival", (json_int_t)idx, "n", pt->act.rv_n);
        full = rendezvous(s, pt, &pos);
        gw_trace_emitf(s->trace, conn, key, "sync.release", "{s:s,s:s,s:i,s:I}",
                       "point", wsr_sync_point_name(p), "outcome",
                       full ? "together" : "timeout", "position", pos,
                       "waited_us", (json_int_t)((gw_now_ns() - t0) / 1000));
        break;
    }
    gw_sync_control_wait(s->control, p, conn, key);
}

void gw_sync_attach_control(gw_sync_t *s, gw_sync_control_t *c)
{
    s->control = c;
}

void gw_sync_note_session(gw_sync_t *s, uint64_t conn, const char *session)
{
    if (s != NULL)
        gw_sync_control_session(s->control, conn, session);
}

void gw_sync_shutdown(gw_sync_t *s)
{
    atomic_store(&s->shutdown, true);
    gw_sync_control_stop(s->control);
    pthread_mutex_lock(&s->sleep_lock);
    pthread_cond_broadcast(&s->sleep_cond);
    pthread_mutex_unlock(&s->sleep_lock);
    for (int i = 0; i < WSR_SP__COUNT; i++) {
        pthread_mutex_lock(&s->points[i].lock);
        pthread_cond_broadcast(&s->points[i].cond);
        pthread_mutex_unlock(&s->points[i].lock);
    }
}
