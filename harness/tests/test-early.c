/* test-early.c - the early verdict's watcher (judge/wr_early.c) over a
 * trace file written while it watches: when a case's verdict is decided
 * (a check that must pass failed, or every check that must fail failed,
 * all of them prefix-closed), and when it is not; and what a case ended
 * early keeps of its checks (wr_early_settle).
 *
 * Criterion 2.4.1: conditions are written as eq(int, cond ? 1 : 0, 1). */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "judge/wr_early.h"

#define YES(c) eq(int, (c) ? 1 : 0, 1)
#define BIT(k) (1u << (k))

static char dir[64], trace[96];

static void make_dir(void)
{
    snprintf(dir, sizeof(dir), "/tmp/wr-early-XXXXXX");
    cr_assert(mkdtemp(dir) != NULL);
    snprintf(trace, sizeof(trace), "%s/trace.jsonl", dir);
}

static void remove_dir(void)
{
    unlink(trace);
    rmdir(dir);
}

TestSuite(early, .init = make_dir, .fini = remove_dir);

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Appends trace lines as the gateway does, one write per event. */
static void traced(const char *const *lines, size_t n)
{
    FILE *f = fopen(trace, "a");

    cr_assert(f != NULL);
    for (size_t i = 0; i < n; i++) {
        fputs(lines[i], f);
        fputc('\n', f);
        fflush(f);
    }
    fclose(f);
}

/* Two connections registered under one key, the second told "existing"
 * and going on: duplicate_registration fails at the second line. */
static const char *const duplicate[] = {
    "{\"seq\":1,\"ns\":1000,\"event\":\"gateway.start\",\"pid\":1}",
    "{\"seq\":2,\"ns\":2000,\"event\":\"registry.register\",\"conn\":1,"
    "\"key\":\"k\",\"state\":\"CONNECTING\",\"result\":\"created\"}",
    "{\"seq\":3,\"ns\":3000,\"event\":\"registry.register\",\"conn\":2,"
    "\"key\":\"k\",\"state\":\"CONNECTING\",\"result\":\"existing\"}",
};

/* Starts a watcher over the trace with the given expectations, lets it
 * watch for ms, stops it. */
static wr_early_result_t watch_for(unsigned must_pass, unsigned must_fail,
                                   int ms, atomic_int *end)
{
    wr_early_opts_t o = {
        .ntraces = 1,
        .mask = WR_EARLY_CHECKS,
        .must_pass = must_pass,
        .must_fail = must_fail,
        .settle_ns = 2000000,
        .max_events = 1000,
        .end = end,
    };
    wr_early_t *e = NULL;
    wr_early_result_t r;
    int64_t until = now_ns() + (int64_t)ms * 1000000;

    o.traces[0] = trace;
    cr_assert(eq(int, wr_early_start(&e, &o), 0));
    while (!atomic_load(end) && now_ns() < until)
        usleep(1000);
    wr_early_stop(e, &r);
    return r;
}

Test(early, a_check_that_must_pass_failing_ends_the_case)
{
    atomic_int end = 0;
    wr_early_result_t r;

    traced(duplicate, 3);
    r = watch_for(WR_EARLY_CHECKS, 0, 3000, &end);
    cr_expect(YES(r.fired && atomic_load(&end)));
    cr_expect(eq(int, r.check, WSR_CHECK_DUPLICATE_REGISTRATION));
    cr_expect(YES(r.judged >= 2), "decided twice (the settle): %zu",
              r.judged);
}

Test(early, a_failure_written_while_it_watches_ends_the_case)
{
    atomic_int end = 0;
    wr_early_opts_t o = {
        .ntraces = 1,
        .mask = WR_EARLY_CHECKS,
        .must_fail = BIT(WSR_CHECK_DUPLICATE_REGISTRATION),
        .settle_ns = 2000000,
        .max_events = 1000,
        .end = &end,
    };
    wr_early_t *e = NULL;
    wr_early_result_t r;

    o.traces[0] = trace;
    traced(duplicate, 2);
    cr_assert(eq(int, wr_early_start(&e, &o), 0));
    usleep(30000);
    cr_expect(eq(int, atomic_load(&end), 0), "nothing failed yet");
    traced(duplicate + 2, 1);
    for (int i = 0; i < 3000 && !atomic_load(&end); i++)
        usleep(1000);
    wr_early_stop(e, &r);
    cr_expect(YES(r.fired), "the fault's own check failed: decided");
    cr_expect(eq(int, r.check, WSR_CHECK_DUPLICATE_REGISTRATION));
}

Test(early, a_clean_trace_never_ends_the_case)
{
    atomic_int end = 0;
    wr_early_result_t r;

    traced(duplicate, 2);
    r = watch_for(WR_EARLY_CHECKS, 0, 100, &end);
    cr_expect(YES(!r.fired && !atomic_load(&end)));
    cr_expect(YES(r.judged >= 1));
}

Test(early, an_allowed_failure_does_not_end_the_case)
{
    atomic_int end = 0;
    wr_early_result_t r;

    /* duplicate_registration is neither promised nor forbidden here. */
    traced(duplicate, 3);
    r = watch_for(WR_EARLY_CHECKS & ~BIT(WSR_CHECK_DUPLICATE_REGISTRATION),
                  BIT(WSR_CHECK_FALSE_READINESS), 100, &end);
    cr_expect(YES(!r.fired));
}

Test(early, a_fault_that_only_liveness_sees_is_never_decided_early)
{
    atomic_int end = 0;
    wr_early_result_t r;

    traced(duplicate, 3);
    r = watch_for(0,
                  BIT(WSR_CHECK_DUPLICATE_REGISTRATION) |
                      BIT(WSR_CHECK_LIVENESS),
                  100, &end);
    cr_expect(YES(!r.fired), "liveness needs the whole case");
}

static void make_case(wr_case_t *c)
{
    memset(c, 0, sizeof(*c));
    for (int k = 0; k < WSR_CHECK__COUNT; k++) {
        c->ran[k] = k < WSR_CHECK_MEMORY_SAFETY;
        c->results[k].id = (wsr_check_id_t)k;
        c->results[k].verdict = WR_PASS;
    }
    c->results[WSR_CHECK_DUPLICATE_REGISTRATION].verdict = WR_FAIL;
    c->results[WSR_CHECK_LIVENESS].verdict = WR_FAIL;
}

Test(early, a_confirmed_end_leaves_the_long_checks_unjudged)
{
    wr_early_result_t r = {.fired = true,
                           .check = WSR_CHECK_DUPLICATE_REGISTRATION,
                           .ns = 5};
    wr_case_t c;

    make_case(&c);
    cr_expect(YES(wr_early_settle(&c, &r)));
    cr_expect(YES(c.early_end && c.early_confirmed));
    cr_expect(eq(int, c.early_check, WSR_CHECK_DUPLICATE_REGISTRATION));
    cr_expect(YES(c.ran[WSR_CHECK_DUPLICATE_REGISTRATION] &&
                  c.ran[WSR_CHECK_ISOLATION]));
    cr_expect(YES(!c.ran[WSR_CHECK_LIVENESS] &&
                  !c.ran[WSR_CHECK_REGISTRY_LEAK] &&
                  !c.ran[WSR_CHECK_NO_LOST_MESSAGES] &&
                  !c.ran[WSR_CHECK_STEPS]),
              "a failure (liveness here) over a case cut short means "
              "nothing");
}

Test(early, an_end_the_whole_case_does_not_confirm_says_so)
{
    wr_early_result_t r = {.fired = true,
                           .check = WSR_CHECK_FALSE_READINESS,
                           .ns = 5};
    wr_case_t c;

    make_case(&c);
    cr_expect(YES(!wr_early_settle(&c, &r)));
    cr_expect(YES(c.early_end && !c.early_confirmed));
    cr_expect(YES(c.ran[WSR_CHECK_LIVENESS]));
    cr_expect(eq(int, c.results[WSR_CHECK_LIVENESS].verdict, WR_UNKNOWN));
    cr_expect(YES(strstr(c.results[WSR_CHECK_LIVENESS].summary,
                         "false_readiness") != NULL),
              "%s", c.results[WSR_CHECK_LIVENESS].summary);
}

Test(early, a_case_that_ran_out_is_left_alone)
{
    wr_early_result_t r = {.check = -1};
    wr_case_t c;

    make_case(&c);
    cr_expect(YES(wr_early_settle(&c, &r)));
    cr_expect(YES(!c.early_end && c.ran[WSR_CHECK_LIVENESS] &&
                  c.results[WSR_CHECK_LIVENESS].verdict == WR_FAIL));
}
