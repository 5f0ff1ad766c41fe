/* test-sync.c - Sync point actions (gw_sync.c).
 *
 * Checks the spec parser (good specs, each kind of bad spec, formatting
 * back), that delay holds a hit at least its time, that a rendezvous holds
 * every arrival until the group is full or its timeout passes, that
 * shutdown frees a parked waiter, and that jitter draws depend on the seed
 * only (read back from the trace). Timing checks are lower bounds only:
 * a loaded machine may run late, never early. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gw_sync.h"
#include "gw_trace.h"

/* jansson's json_is_* are macros starting with a parenthesis, which
 * Criterion's cr_assert() cannot take as its criterion. */
static bool is_object(const json_t *j)
{
    return json_is_object(j);
}

static bool is_integer(const json_t *j)
{
    return json_is_integer(j);
}

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0)
        ;
}

static gw_sync_t *sync_with(uint64_t seed, gw_trace_t *trace, const char *spec)
{
    gw_sync_t *s = gw_sync_new(seed, trace);
    char err[256] = "";

    cr_assert(not(zero(ptr, s)));
    if (spec)
        cr_assert(eq(int, gw_sync_set(s, spec, err, sizeof(err)), 0), "%s: %s",
                  spec, err);
    return s;
}

/* ------------------------------------------------------------------ */
/* Specs                                                                */
/* ------------------------------------------------------------------ */

Test(sync, point_names_and_summaries, .timeout = 10)
{
    static const char *const want[WSR_SP__COUNT] = {
        "accept.registered", "auth.done",         "services.done",
        "registry.check",    "swap.unregistered", "coordinator.ready",
        "machine.ready",     "message.gate",      "close.begin",
    };

    for (int p = 0; p < WSR_SP__COUNT; p++) {
        cr_assert(eq(str, (char *)wsr_sync_point_name((wsr_sync_point_t)p),
                     (char *)want[p]));
        cr_assert(
            not(zero(ptr, (void *)wsr_sync_point_summary((wsr_sync_point_t)p))));
    }
    cr_assert(zero(ptr, (void *)wsr_sync_point_name(WSR_SP__COUNT)));
}

Test(sync, new_table_has_no_actions, .timeout = 10)
{
    gw_sync_t *s = sync_with(1, NULL, NULL);
    char buf[64];

    for (int p = 0; p < WSR_SP__COUNT; p++)
        cr_assert(eq(int, gw_sync_kind(s, (wsr_sync_point_t)p), WSR_SYNC_NONE));
    cr_assert(eq(uint, gw_sync_max_rendezvous(s), 0));
    cr_assert(eq(str, gw_sync_format(s, buf, sizeof(buf)), ""));
    gw_sync_free(s);
}

Test(sync, good_specs_set_their_kind, .timeout = 10)
{
    static const struct {
        const char *spec;
        wsr_sync_point_t p;
        wsr_sync_kind_t kind;
    } cases[] = {
        {"auth.done:delay=50", WSR_SP_AUTH_DONE, WSR_SYNC_DELAY},
        {"auth.done:delay=0", WSR_SP_AUTH_DONE, WSR_SYNC_DELAY},
        {"services.done:jitter=1..9", WSR_SP_SERVICES_DONE, WSR_SYNC_JITTER},
        {"services.done:jitter=4..4", WSR_SP_SERVICES_DONE, WSR_SYNC_JITTER},
        {"registry.check:rendezvous=2,timeout=2000", WSR_SP_REGISTRY_CHECK,
         WSR_SYNC_RENDEZVOUS},
        {"message.gate:rendezvous=3", WSR_SP_MESSAGE_GATE, WSR_SYNC_RENDEZVOUS},
        {"close.begin:none", WSR_SP_CLOSE_BEGIN, WSR_SYNC_NONE},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        gw_sync_t *s = sync_with(1, NULL, cases[i].spec);

        cr_assert(eq(int, gw_sync_kind(s, cases[i].p), cases[i].kind), "%s",
                  cases[i].spec);
        gw_sync_free(s);
    }
}

Test(sync, max_rendezvous_is_the_largest_group, .timeout = 10)
{
    gw_sync_t *s = sync_with(1, NULL, "registry.check:rendezvous=2");
    char err[256];

    cr_assert(eq(uint, gw_sync_max_rendezvous(s), 2));
    cr_assert(eq(
        int, gw_sync_set(s, "close.begin:rendezvous=7", err, sizeof(err)), 0));
    cr_assert(
        eq(int, gw_sync_set(s, "auth.done:delay=900", err, sizeof(err)), 0));
    cr_assert(eq(uint, gw_sync_max_rendezvous(s), 7));
    /* A later spec for a point replaces its action. */
    cr_assert(eq(int, gw_sync_set(s, "close.begin:none", err, sizeof(err)), 0));
    cr_assert(eq(uint, gw_sync_max_rendezvous(s), 2));
    gw_sync_free(s);
}

/* Sets a bad spec on a table with two actions and checks the refusal:
 * -EINVAL, a message containing needle, and the table unchanged. */
static void expect_bad(const char *spec, const char *needle)
{
    gw_sync_t *s = sync_with(1, NULL, "auth.done:delay=7");
    char err[512] = "", before[512], after[512];

    cr_assert(eq(int,
                 gw_sync_set(s, "registry.check:rendezvous=4,timeout=300", err,
                             sizeof(err)),
                 0));
    gw_sync_format(s, before, sizeof(before));
    err[0] = '\0';
    cr_assert(eq(int, gw_sync_set(s, spec, err, sizeof(err)), -EINVAL),
              "accepted: %s", spec);
    cr_assert(not(zero(ptr, strstr(err, needle))),
              "error for '%s' does not mention '%s': %s", spec, needle, err);
    gw_sync_format(s, after, sizeof(after));
    cr_assert(eq(str, after, before), "'%s' changed the table", spec);
    gw_sync_free(s);
}

Test(sync, unknown_point_is_refused, .timeout = 10)
{
    expect_bad("nosuch.point:delay=5", "unknown point 'nosuch.point'");
    expect_bad("auth:delay=5", "unknown point 'auth'");
    expect_bad(":delay=5", "unknown point");
    expect_bad("auth.done", "POINT:ACTION");
}

Test(sync, unknown_action_is_refused, .timeout = 10)
{
    expect_bad("auth.done:sleep=5", "unknown action 'sleep=5'");
    expect_bad("auth.done:delay", "unknown action 'delay'");
    expect_bad("auth.done:", "unknown action");
}

Test(sync, bad_delay_is_refused, .timeout = 10)
{
    expect_bad("auth.done:delay=abc", "delay");
    expect_bad("auth.done:delay=", "delay");
    expect_bad("auth.done:delay=-5", "delay");
    expect_bad("auth.done:delay=5ms", "delay");
    expect_bad("auth.done:delay=600001", "delay");
}

Test(sync, rendezvous_of_one_is_refused, .timeout = 10)
{
    expect_bad("registry.check:rendezvous=1", "group size");
    expect_bad("registry.check:rendezvous=0", "group size");
    expect_bad("registry.check:rendezvous=x", "group size");
    expect_bad("registry.check:rendezvous=1025", "group size");
}

Test(sync, jitter_with_min_above_max_is_refused, .timeout = 10)
{
    expect_bad("auth.done:jitter=9..1", "MIN <= MAX");
    expect_bad("auth.done:jitter=5", "jitter");
    expect_bad("auth.done:jitter=..5", "jitter");
    expect_bad("auth.done:jitter=5..", "jitter");
}

Test(sync, bad_timeout_is_refused, .timeout = 10)
{
    expect_bad("registry.check:rendezvous=2,timeout=abc", "timeout");
    expect_bad("registry.check:rendezvous=2,timeout=0", "timeout");
    expect_bad("registry.check:rendezvous=2,timeout=", "timeout");
    expect_bad("registry.check:rendezvous=2,tmo=5", "timeout");
    expect_bad("registry.check:rendezvous=2,", "timeout");
}

Test(sync, format_lists_actions_in_point_order, .timeout = 10)
{
    gw_sync_t *s = sync_with(1, NULL, "close.begin:rendezvous=3");
    char err[256], buf[512];

    cr_assert(
        eq(int, gw_sync_set(s, "auth.done:jitter=1..9", err, sizeof(err)), 0));
    cr_assert(eq(int,
                 gw_sync_set(s, "registry.check:rendezvous=2,timeout=2000", err,
                             sizeof(err)),
                 0));
    cr_assert(eq(
        int, gw_sync_set(s, "accept.registered:delay=5", err, sizeof(err)), 0));
    cr_assert(eq(str, gw_sync_format(s, buf, sizeof(buf)),
                 "accept.registered:delay=5 auth.done:jitter=1..9 "
                 "registry.check:rendezvous=2,timeout=2000 "
                 "close.begin:rendezvous=3,timeout=5000"));
    gw_sync_free(s);
}

Test(sync, format_round_trips, .timeout = 10)
{
    static const char *const specs[] = {
        "accept.registered:delay=0",
        "auth.done:delay=600000",
        "services.done:jitter=0..600000",
        "registry.check:rendezvous=1024,timeout=1",
        "swap.unregistered:jitter=3..3",
        "coordinator.ready:rendezvous=2",
        "machine.ready:delay=12",
        "message.gate:rendezvous=5,timeout=77",
        "close.begin:jitter=10..20",
    };
    gw_sync_t *a = sync_with(1, NULL, NULL), *b = sync_with(2, NULL, NULL);
    char err[256], fa[1024], fb[1024], copy[1024], *save = NULL;
    int n = 0;

    for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
        cr_assert(eq(int, gw_sync_set(a, specs[i], err, sizeof(err)), 0),
                  "%s: %s", specs[i], err);
    gw_sync_format(a, fa, sizeof(fa));
    snprintf(copy, sizeof(copy), "%s", fa);
    for (char *tok = strtok_r(copy, " ", &save); tok;
         tok = strtok_r(NULL, " ", &save), n++)
        cr_assert(eq(int, gw_sync_set(b, tok, err, sizeof(err)), 0),
                  "formatted spec '%s' does not parse: %s", tok, err);
    cr_assert(eq(int, n, WSR_SP__COUNT));
    cr_assert(eq(str, gw_sync_format(b, fb, sizeof(fb)), fa));
    for (int p = 0; p < WSR_SP__COUNT; p++)
        cr_assert(eq(int, gw_sync_kind(b, (wsr_sync_point_t)p),
                     gw_sync_kind(a, (wsr_sync_point_t)p)));
    gw_sync_free(a);
    gw_sync_free(b);
}

/* ------------------------------------------------------------------ */
/* Delay and rendezvous                                                 */
/* ------------------------------------------------------------------ */

Test(sync, hits_without_an_action_return_at_once, .timeout = 10)
{
    gw_sync_t *s = sync_with(1, NULL, "auth.done:delay=60000");
    char err[256];
    double t0;

    cr_assert(eq(int,
                 gw_sync_set(s, "close.begin:rendezvous=2,timeout=60000", err,
                             sizeof(err)),
                 0));
    /* A minute of delay or of waiting sits on two points; hits on the
     * others, on no table or on no point must not touch them. */
    t0 = now_ms();
    gw_sync_hit(NULL, WSR_SP_AUTH_DONE, 1, "k");
    gw_sync_hit(s, WSR_SP__COUNT, 1, "k");
    for (int p = 0; p < WSR_SP__COUNT; p++)
        if (p != WSR_SP_AUTH_DONE && p != WSR_SP_CLOSE_BEGIN)
            gw_sync_hit(s, (wsr_sync_point_t)p, 1, "k");
    cr_assert(lt(dbl, now_ms() - t0, 5000.0));
    gw_sync_free(s);
}

Test(sync, delay_holds_the_hit_at_least_its_time, .timeout = 10)
{
    gw_sync_t *s = sync_with(1, NULL, "auth.done:delay=50");

    for (int i = 0; i < 3; i++) {
        double t0 = now_ms();

        gw_sync_hit(s, WSR_SP_AUTH_DONE, 1, "k");
        cr_assert(ge(dbl, now_ms() - t0, 50.0), "hit %d returned early", i);
    }
    gw_sync_free(s);
}

#define RV_N 3

typedef struct {
    gw_sync_t *s;
    pthread_barrier_t *start;
    unsigned stagger_ms; /* sleep after the barrier before arriving */
    _Atomic int *arrived;
    _Atomic int *returned;
    double t_in, t_out; /* monotonic ms around gw_sync_hit */
    int arrived_seen;   /* arrivals counted when this one returned */
    int out_pos;        /* 1-based return order */
} rv_arg_t;

static void *rv_thread(void *p)
{
    rv_arg_t *a = p;

    pthread_barrier_wait(a->start);
    sleep_ms(a->stagger_ms);
    atomic_fetch_add(a->arrived, 1);
    a->t_in = now_ms();
    gw_sync_hit(a->s, WSR_SP_REGISTRY_CHECK, 1, "k");
    a->t_out = now_ms();
    a->arrived_seen = atomic_load(a->arrived);
    a->out_pos = atomic_fetch_add(a->returned, 1) + 1;
    return NULL;
}

Test(sync, rendezvous_holds_all_until_the_last_arrives, .timeout = 10)
{
    gw_sync_t *s =
        sync_with(1, NULL, "registry.check:rendezvous=3,timeout=5000");
    _Atomic int arrived = 0, returned = 0;
    pthread_barrier_t start;
    pthread_t th[RV_N];
    rv_arg_t a[RV_N];
    double last_in = 0, first_out = 1e300;
    int pos_seen = 0;

    pthread_barrier_init(&start, NULL, RV_N);
    for (int i = 0; i < RV_N; i++) {
        /* Arrivals 40 ms apart: an early release would be visible. */
        a[i] = (rv_arg_t){.s = s,
                          .start = &start,
                          .stagger_ms = 40u * i,
                          .arrived = &arrived,
                          .returned = &returned};
        cr_assert(eq(int, pthread_create(&th[i], NULL, rv_thread, &a[i]), 0));
    }
    for (int i = 0; i < RV_N; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < RV_N; i++) {
        cr_assert(eq(int, a[i].arrived_seen, RV_N),
                  "thread %d returned with %d arrived", i, a[i].arrived_seen);
        if (a[i].t_in > last_in)
            last_in = a[i].t_in;
        if (a[i].t_out < first_out)
            first_out = a[i].t_out;
        pos_seen |= 1 << a[i].out_pos;
    }
    cr_assert(ge(dbl, first_out, last_in),
              "a thread left %.1f ms before the last arrived",
              last_in - first_out);
    /* The first arrival waited for the third, 80 ms later. */
    cr_assert(ge(dbl, a[0].t_out - a[0].t_in, 75.0));
    cr_assert(eq(int, pos_seen, 0xe)); /* positions 1, 2 and 3 */
    gw_sync_free(s);
}

Test(sync, unfilled_rendezvous_returns_after_its_timeout, .timeout = 10)
{
    gw_sync_t *s =
        sync_with(1, NULL, "registry.check:rendezvous=2,timeout=100");

    /* Twice: a timed-out group must not leave its arrival counted, or the
     * second lone hit would be taken for the group's second member. */
    for (int i = 0; i < 2; i++) {
        double t0 = now_ms();

        gw_sync_hit(s, WSR_SP_REGISTRY_CHECK, 1, "k");
        cr_assert(ge(dbl, now_ms() - t0, 100.0),
                  "lone hit %d returned before the timeout", i);
    }
    gw_sync_free(s);
}

typedef struct {
    gw_sync_t *s;
    _Atomic bool done;
    double t_out;
} waiter_t;

static void *waiter_thread(void *p)
{
    waiter_t *w = p;

    gw_sync_hit(w->s, WSR_SP_REGISTRY_CHECK, 1, "k");
    w->t_out = now_ms();
    atomic_store(&w->done, true);
    return NULL;
}

Test(sync, shutdown_releases_a_parked_waiter, .timeout = 10)
{
    gw_sync_t *s =
        sync_with(1, NULL, "registry.check:rendezvous=2,timeout=60000");
    waiter_t w = {.s = s};
    char err[256];
    pthread_t th;
    double t_shut, t0;

    cr_assert(
        eq(int, gw_sync_set(s, "auth.done:delay=60000", err, sizeof(err)), 0));
    cr_assert(eq(int, pthread_create(&th, NULL, waiter_thread, &w), 0));
    sleep_ms(100);
    cr_assert(not(atomic_load(&w.done)),
              "the lone waiter did not wait for its group");
    t_shut = now_ms();
    gw_sync_shutdown(s);
    pthread_join(th, NULL); /* a stuck waiter fails on the test timeout */
    cr_assert(atomic_load(&w.done));
    cr_assert(lt(dbl, w.t_out - t_shut, 5000.0));
    /* After shutdown hits return at once, even a one-minute delay. */
    t0 = now_ms();
    gw_sync_hit(s, WSR_SP_AUTH_DONE, 1, "k");
    gw_sync_hit(s, WSR_SP_REGISTRY_CHECK, 1, "k");
    cr_assert(lt(dbl, now_ms() - t0, 5000.0));
    gw_sync_free(s);
}

/* ------------------------------------------------------------------ */
/* Jitter and the trace                                                 */
/* ------------------------------------------------------------------ */

#define JITTER_HITS 20

/* A fresh temporary path for a trace file. */
static void temp_path(char *buf, size_t len)
{
    int fd;

    snprintf(buf, len, "/tmp/wsrace-test-sync-XXXXXX");
    fd = mkstemp(buf);
    cr_assert(ge(int, fd, 0));
    close(fd);
}

/* Reads the trace at path and returns its events, one object per line. */
static json_t *read_trace(const char *path)
{
    FILE *f = fopen(path, "r");
    json_t *events = json_array();
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;

    cr_assert(not(zero(ptr, f)));
    while ((n = getline(&line, &cap, f)) > 0) {
        json_error_t je;
        json_t *o;

        cr_assert(eq(chr, line[n - 1], '\n'), "unterminated line");
        o = json_loads(line, 0, &je);
        cr_assert(not(zero(ptr, o)), "bad trace line: %s (%s)", line, je.text);
        cr_assert(is_object(o));
        json_array_append_new(events, o);
    }
    free(line);
    fclose(f);
    return events;
}

/* Hits a jitter point JITTER_HITS times with seed and returns the drawn
 * milliseconds, in order, from the sync.hit events of the trace. */
static void jitter_run(uint64_t seed, int ms[JITTER_HITS])
{
    char path[64];
    gw_trace_t *t;
    gw_sync_t *s;
    json_t *events, *e;
    double t0, slept;
    size_t i;
    int n = 0, sum = 0;

    temp_path(path, sizeof(path));
    t = gw_trace_open(path);
    cr_assert(not(zero(ptr, t)));
    s = sync_with(seed, t, "services.done:jitter=2..9");
    t0 = now_ms();
    for (i = 0; i < JITTER_HITS; i++)
        gw_sync_hit(s, WSR_SP_SERVICES_DONE, 1, "k");
    slept = now_ms() - t0;
    gw_sync_free(s);
    gw_trace_close(t);
    events = read_trace(path);
    unlink(path);
    json_array_foreach(events, i, e)
    {
        const char *ev = json_string_value(json_object_get(e, "event"));

        if (!ev || strcmp(ev, "sync.hit") != 0)
            continue;
        cr_assert(lt(int, n, JITTER_HITS));
        cr_assert(eq(str,
                     (char *)json_string_value(json_object_get(e, "point")),
                     "services.done"));
        cr_assert(is_integer(json_object_get(e, "ms")));
        ms[n] = (int)json_integer_value(json_object_get(e, "ms"));
        /* Two assertions: Criterion 2.4.1's all() leaks its nodes. */
        cr_assert(ge(int, ms[n], 2), "draw %d", ms[n]);
        cr_assert(le(int, ms[n], 9), "draw %d", ms[n]);
        sum += ms[n++];
    }
    json_decref(events);
    cr_assert(eq(int, n, JITTER_HITS));
    /* Each draw was slept in full. */
    cr_assert(ge(dbl, slept, (double)sum));
}

Test(sync, jitter_draws_depend_on_the_seed_only, .timeout = 10)
{
    int a[JITTER_HITS], b[JITTER_HITS], c[JITTER_HITS];
    bool differs = false, varies = false;

    jitter_run(42, a);
    jitter_run(42, b);
    jitter_run(43, c);
    for (int i = 0; i < JITTER_HITS; i++) {
        cr_assert(eq(int, a[i], b[i]), "draw %d differs with the same seed", i);
        differs |= a[i] != c[i];
        varies |= a[i] != a[0];
    }
    cr_assert(differs, "seeds 42 and 43 drew the same %d values", JITTER_HITS);
    cr_assert(varies, "every draw was the same");
}

Test(sync, rendezvous_trace_reports_together_and_positions, .timeout = 10)
{
    char path[64];
    gw_trace_t *t;
    gw_sync_t *s;
    _Atomic int arrived = 0, returned = 0;
    pthread_barrier_t start;
    pthread_t th[RV_N];
    rv_arg_t a[RV_N];
    json_t *events, *e;
    size_t i;
    int hits = 0, positions = 0;

    temp_path(path, sizeof(path));
    t = gw_trace_open(path);
    cr_assert(not(zero(ptr, t)));
    s = sync_with(7, t, "registry.check:rendezvous=3,timeout=5000");
    pthread_barrier_init(&start, NULL, RV_N);
    for (int k = 0; k < RV_N; k++) {
        a[k] = (rv_arg_t){.s = s,
                          .start = &start,
                          .arrived = &arrived,
                          .returned = &returned};
        cr_assert(eq(int, pthread_create(&th[k], NULL, rv_thread, &a[k]), 0));
    }
    for (int k = 0; k < RV_N; k++)
        pthread_join(th[k], NULL);
    pthread_barrier_destroy(&start);
    gw_sync_free(s);
    gw_trace_close(t);
    events = read_trace(path);
    unlink(path);
    json_array_foreach(events, i, e)
    {
        const char *ev = json_string_value(json_object_get(e, "event"));

        if (strcmp(ev, "sync.hit") == 0) {
            cr_assert(eq(int, (int)json_integer_value(json_object_get(e, "n")),
                         RV_N));
            hits++;
        } else if (strcmp(ev, "sync.release") == 0) {
            cr_assert(eq(
                str, (char *)json_string_value(json_object_get(e, "outcome")),
                "together"));
            positions |=
                1 << json_integer_value(json_object_get(e, "position"));
        }
    }
    json_decref(events);
    cr_assert(eq(int, hits, RV_N));
    cr_assert(eq(int, positions, 0xe), "positions 1..3 each once");
}
