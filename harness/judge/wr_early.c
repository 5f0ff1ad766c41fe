/* wr_early.c - The early verdict's watcher (wr_early.h).
 *
 * The watcher keeps the client lines the engine hands it; every few
 * milliseconds, when something new has come (a client line, or the trace
 * files grew), it builds a history of its own from those lines and the
 * trace files as they are on disk (a torn last line is skipped), and runs
 * the prefix-closed checks over it. A failure seen at judgement time t
 * ends the case when a judgement at t + settle, over newer data, still
 * fails the same check. Building from scratch each time costs a few
 * hundred microseconds for the scenarios that race a handful of clients;
 * beyond max_events the watcher stops judging and the case runs out. */
#include "judge/wr_early.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "history/wr_clock.h"
#include "history/wr_history.h"
#include "judge/wr_judge.h"

#define POLL_NS 1000000LL /* between looks at what is new */

struct wr_early {
    wr_early_opts_t o;
    pthread_t th;
    pthread_mutex_t lock;
    char **lines; /* client lines, in tap order; `lock` */
    size_t nlines, cap;
    bool oom; /* a line was lost: judged no more */
    atomic_int done;
    wr_early_result_t r;
};

void wr_early_tap(void *ctx, char *line)
{
    wr_early_t *e = ctx;

    if (e == NULL) {
        free(line);
        return;
    }
    pthread_mutex_lock(&e->lock);
    if (line != NULL && e->nlines == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 256;
        char **p = realloc(e->lines, cap * sizeof(*p));

        if (p != NULL) {
            e->lines = p;
            e->cap = cap;
        }
    }
    if (line != NULL && e->nlines < e->cap) {
        e->lines[e->nlines++] = line;
        line = NULL;
    } else {
        e->oom = true; /* judged no more: a lost line could hide an order */
    }
    pthread_mutex_unlock(&e->lock);
    free(line);
}

/* The trace files' events in bytes: what grew since the last look (not
 * their sizes: a trace's file grows a chunk at a time, zero bytes past its
 * last event). */
static long long traces_size(const wr_early_t *e)
{
    long long n = 0;

    for (size_t i = 0; i < e->o.ntraces; i++) {
        long long end = wr_trace_data_end(e->o.traces[i]);

        if (end > 0)
            n += end;
    }
    return n;
}

/* One judgement over what has been seen: the checks of the mask that
 * fail (a mask), each one's first evidence time in at[]; -1 past
 * max_events. */
static int judge(wr_early_t *e, size_t nclient, int64_t at[WSR_CHECK__COUNT])
{
    wr_history_t *h = wr_history_new();
    wr_check_result_t res[WSR_CHECK__COUNT];
    int failed = 0;

    if (h == NULL)
        return 0;
    for (size_t i = 0; i < e->o.ntraces; i++)
        wr_history_load_trace(h, e->o.traces[i], NULL);
    pthread_mutex_lock(&e->lock);
    for (size_t i = 0; i < nclient; i++)
        wr_history_add_line(h, WR_SRC_CLIENT, e->lines[i]);
    pthread_mutex_unlock(&e->lock);
    if (wr_history_len(h) > e->o.max_events) {
        wr_history_free(h);
        return -1;
    }
    wr_history_sort(h);
    wr_check_all(h, NULL, e->o.mask, res);
    e->r.judged++;
    for (int k = 0; k < WSR_CHECK__COUNT; k++)
        if ((e->o.mask & (1u << k)) && res[k].verdict == WR_FAIL) {
            failed |= 1 << k;
            at[k] = res[k].nevidence ? res[k].evidence[0]->ns : wr_now_ns();
        }
    wr_history_free(h);
    return failed;
}

static int lowest(unsigned m)
{
    return m ? __builtin_ctz(m) : -1;
}

/* Whether failures decide the case's verdict (wr_early.h); the check it
 * is decided on, or -1. */
static int decided(const wr_early_opts_t *o, unsigned failed)
{
    unsigned must = o->must_fail;

    if (failed & o->must_pass)
        return lowest(failed & o->must_pass);
    if ((must | o->need_one) == 0 || (must & ~WR_EARLY_CHECKS) != 0 ||
        (o->need_one & ~WR_EARLY_CHECKS) != 0)
        return -1; /* nothing to find, or not all of it findable here */
    if ((failed & must) != must || (o->need_one && !(failed & o->need_one)))
        return -1;
    return lowest(must ? failed & must : failed & o->need_one);
}

static void *watch(void *arg)
{
    wr_early_t *e = arg;
    struct timespec pause = {0, POLL_NS};
    long long seen_trace = -1;
    size_t seen_lines = 0;
    int pending = -1;   /* the check decided on, awaiting its settle */
    int64_t since = 0;  /* when it was first seen decided */
    int64_t at[WSR_CHECK__COUNT];

    while (!atomic_load(&e->done)) {
        long long size = traces_size(e);
        size_t nlines;
        bool lost;

        pthread_mutex_lock(&e->lock);
        nlines = e->nlines;
        lost = e->oom;
        pthread_mutex_unlock(&e->lock);
        if (lost)
            break; /* the case runs out */
        if (size != seen_trace || nlines != seen_lines ||
            (pending >= 0 && wr_now_ns() - since >= e->o.settle_ns)) {
            int64_t t = wr_now_ns();
            int failed, k;

            seen_trace = size;
            seen_lines = nlines;
            if ((failed = judge(e, nlines, at)) < 0)
                break; /* too big to judge as it runs: it runs out */
            k = decided(&e->o, (unsigned)failed);
            if (k < 0) {
                pending = -1;
            } else if (pending < 0) {
                pending = k;
                since = t;
                e->r.fail_ns = at[k];
            } else if (t - since >= e->o.settle_ns) {
                e->r.fired = true;
                e->r.check = pending;
                e->r.ns = wr_now_ns();
                atomic_store(e->o.end, 1);
                break;
            }
        }
        nanosleep(&pause, NULL);
    }
    return NULL;
}

void wr_early_expect(wr_early_opts_t *o, const wr_scenario_t *s,
                     const wsr_faults_t *f)
{
    wr_expect_t ex[WSR_CHECK__COUNT];

    wr_judge_expect(s, f, 0, ex, &o->need_one);
    o->must_pass = o->must_fail = 0;
    for (int k = 0; k < WSR_CHECK__COUNT; k++)
        if (s->checks & (1u << k)) {
            o->must_pass |= ex[k] == WR_EXPECT_PASS ? 1u << k : 0;
            o->must_fail |= ex[k] == WR_EXPECT_FAIL ? 1u << k : 0;
        }
}

int wr_early_start(wr_early_t **out, const wr_early_opts_t *o)
{
    wr_early_t *e;

    *out = NULL;
    if (o->end == NULL || o->ntraces > WR_EARLY_MAX_TRACES)
        return -EINVAL;
    e = calloc(1, sizeof(*e));
    if (e == NULL)
        return -ENOMEM;
    e->o = *o;
    e->o.mask &= WR_EARLY_CHECKS;
    e->r.check = -1;
    pthread_mutex_init(&e->lock, NULL);
    if (pthread_create(&e->th, NULL, watch, e) != 0) {
        pthread_mutex_destroy(&e->lock);
        free(e);
        return -EAGAIN;
    }
    *out = e;
    return 0;
}

void wr_early_stop(wr_early_t *e, wr_early_result_t *out)
{
    memset(out, 0, sizeof(*out));
    out->check = -1;
    if (e == NULL)
        return;
    atomic_store(&e->done, 1);
    pthread_join(e->th, NULL);
    *out = e->r;
    for (size_t i = 0; i < e->nlines; i++)
        free(e->lines[i]);
    free(e->lines);
    pthread_mutex_destroy(&e->lock);
    free(e);
}

bool wr_early_settle(wr_case_t *c, const wr_early_result_t *r)
{
    int k0 = r->check;

    c->early_end = r->fired;
    c->early_check = r->fired ? k0 : -1;
    c->early_confirmed = true;
    if (!r->fired)
        return true;
    c->early_confirmed = k0 >= 0 && k0 < WSR_CHECK__COUNT && c->ran[k0] &&
                         c->results[k0].verdict == WR_FAIL;
    for (int k = 0; k < WSR_CHECK__COUNT; k++) {
        wr_check_result_t *res = &c->results[k];

        if (!c->ran[k] || (WR_EARLY_CHECKS & (1u << k)))
            continue;
        if (c->early_confirmed) {
            c->ran[k] = false;
            continue;
        }
        res->verdict = WR_UNKNOWN;
        res->nevidence = 0;
        res->violations = 0;
        snprintf(res->summary, sizeof(res->summary),
                 "not judged: the case ended early on a failure of %s that "
                 "the whole history did not confirm",
                 wsr_check_name((wsr_check_id_t)k0));
    }
    return c->early_confirmed;
}
