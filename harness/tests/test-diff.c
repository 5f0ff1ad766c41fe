/* test-diff.c - Two runs compared check by check (wr_diff.c).
 *
 * Runs are made by hand: cases of two scenarios with faults, seeds and
 * verdicts set per test, evidence events as plain wr_event_t with only
 * their name (the diff reads the summary sentence and the event names).
 * Covered: each kind of row (newly failing, newly passing, still failing,
 * evidence changed, other), pairing on (scenario, faults, seed) before
 * (scenario, seed), cases left without a partner, and the printout.
 *
 * Criterion 2.4.1: gt() tests >=, and cr_assert() cannot take a bare
 * macro call; conditions are written as eq(int, cond ? 1 : 0, 1). */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/wr_diff.h"

#define BIT(c) (1u << (c))

static wr_scenario_t alpha, beta;

static struct side {
    wr_case_t cases[8];
    wr_run_t run;
} old_side, new_side;

static wr_event_t events[8];

static void setup(void)
{
    const char *names[] = {"auth.ok",        "welcome.sent",
                           "target.registry", "registry.register",
                           "client.recv",    "message.gate"};

    memset(&alpha, 0, sizeof(alpha));
    memset(&beta, 0, sizeof(beta));
    alpha.name = (char *)"alpha";
    beta.name = (char *)"beta";
    memset(&old_side, 0, sizeof(old_side));
    memset(&new_side, 0, sizeof(new_side));
    old_side.run.cases = old_side.cases;
    new_side.run.cases = new_side.cases;
    memset(events, 0, sizeof(events));
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        events[i].event = names[i];
}

TestSuite(diff, .init = setup);

enum { EV_AUTH, EV_WELCOME, EV_REGISTRY, EV_REGISTER, EV_RECV, EV_GATE };

/* Adds a case to side: every check of WSR_CHECKS_ALL ran and passed. */
static wr_case_t *add(struct side *side, const wr_scenario_t *s,
                      const char *inject, unsigned long long seed)
{
    wr_case_t *c = &side->cases[side->run.ncases++];
    char err[256];

    memset(c, 0, sizeof(*c));
    c->scenario = s;
    cr_assert(eq(int, wsr_faults_parse(&c->faults, inject, err, sizeof(err)),
                 0));
    wsr_faults_format(&c->faults, c->inject, sizeof(c->inject));
    c->seed = seed;
    for (int k = 0; k < WSR_CHECK__COUNT; k++) {
        c->ran[k] = (WSR_CHECKS_ALL & BIT(k)) != 0;
        c->results[k].id = (wsr_check_id_t)k;
        c->results[k].verdict = WR_PASS;
        snprintf(c->results[k].summary, sizeof(c->results[k].summary),
                 "%s held.", wsr_check_name((wsr_check_id_t)k));
    }
    return c;
}

/* Sets check k of c to v with summary and evidence events (indices into
 * events[], ended by -1). */
static void set(wr_case_t *c, wsr_check_id_t k, wr_verdict_t v,
                const char *summary, ...)
{
    wr_check_result_t *r = &c->results[k];
    va_list ap;
    int e;

    r->verdict = v;
    snprintf(r->summary, sizeof(r->summary), "%s", summary);
    r->nevidence = 0;
    va_start(ap, summary);
    while ((e = va_arg(ap, int)) >= 0)
        r->evidence[r->nevidence++] = &events[e];
    va_end(ap);
}

static void diff(wr_diff_t *d)
{
    cr_assert(eq(int, wr_diff_runs(&old_side.run, &new_side.run, d), 0));
}

/* The row of check k, which must be the only one for it. */
static const wr_diff_row_t *row_of(const wr_diff_t *d, wsr_check_id_t k)
{
    const wr_diff_row_t *found = NULL;

    for (size_t i = 0; i < d->nrows; i++)
        if (d->rows[i].check == (int)k) {
            cr_assert(zero(ptr, (void *)found), "two rows for %s",
                      wsr_check_name(k));
            found = &d->rows[i];
        }
    cr_assert(not(zero(ptr, (void *)found)), "no row for %s",
              wsr_check_name(k));
    return found;
}

static void assert_row(const wr_diff_t *d, wsr_check_id_t k,
                       wr_diff_kind_t kind, const char *was, const char *now)
{
    const wr_diff_row_t *r = row_of(d, k);

    cr_assert(eq(str, (char *)wr_diff_kind_name(r->kind),
                 (char *)wr_diff_kind_name(kind)),
              "%s", wsr_check_name(k));
    cr_assert(eq(str, (char *)r->was, (char *)was), "%s", wsr_check_name(k));
    cr_assert(eq(str, (char *)r->now, (char *)now), "%s", wsr_check_name(k));
}

/* ------------------------------------------------------------------ */

Test(diff, each_kind_of_change, .timeout = 10)
{
    wr_case_t *o = add(&old_side, &alpha, "", 1);
    wr_case_t *n = add(&new_side, &alpha, "", 1);
    wr_diff_t d;

    /* PASS -> FAIL */
    set(n, WSR_CHECK_ISOLATION, WR_FAIL, "client 2 got a message of u1.",
        EV_RECV, -1);
    /* FAIL -> PASS */
    set(o, WSR_CHECK_SCOPE_LOSS, WR_FAIL, "the gateway died by signal 11.",
        EV_GATE, -1);
    /* FAIL -> FAIL, only numbers differ: the same failure. */
    set(o, WSR_CHECK_LIVENESS, WR_FAIL,
        "conn 1 was not welcomed within 5000 ms.", EV_AUTH, -1);
    set(n, WSR_CHECK_LIVENESS, WR_FAIL,
        "conn 12 was not welcomed within 7000 ms.", EV_AUTH, -1);
    /* FAIL -> FAIL on other events: the evidence changed. */
    set(o, WSR_CHECK_REGISTRY_LEAK, WR_FAIL, "2 entries left.", EV_REGISTRY,
        -1);
    set(n, WSR_CHECK_REGISTRY_LEAK, WR_FAIL, "2 entries left.", EV_REGISTER,
        EV_REGISTRY, -1);
    /* FAIL -> FAIL with another sentence: changed too. */
    set(o, WSR_CHECK_NO_LOST_MESSAGES, WR_FAIL, "c-1 never completed.",
        EV_RECV, -1);
    set(n, WSR_CHECK_NO_LOST_MESSAGES, WR_FAIL, "c-1 completed out of order.",
        EV_RECV, -1);
    /* PASS -> UNKNOWN */
    set(n, WSR_CHECK_COORDINATOR_GAP, WR_UNKNOWN, "no trace.", -1);

    diff(&d);
    cr_assert(eq(sz, d.matched, 1));
    cr_assert(eq(sz, d.only_old, 0));
    cr_assert(eq(sz, d.only_new, 0));
    cr_assert(eq(sz, d.nrows, 6));
    assert_row(&d, WSR_CHECK_ISOLATION, WR_DIFF_NEWLY_FAILING, "PASS", "FAIL");
    assert_row(&d, WSR_CHECK_SCOPE_LOSS, WR_DIFF_NEWLY_PASSING, "FAIL", "PASS");
    assert_row(&d, WSR_CHECK_LIVENESS, WR_DIFF_STILL_FAILING, "FAIL", "FAIL");
    assert_row(&d, WSR_CHECK_REGISTRY_LEAK, WR_DIFF_EVIDENCE, "FAIL", "FAIL");
    assert_row(&d, WSR_CHECK_NO_LOST_MESSAGES, WR_DIFF_EVIDENCE, "FAIL",
               "FAIL");
    assert_row(&d, WSR_CHECK_COORDINATOR_GAP, WR_DIFF_OTHER, "PASS",
               "UNKNOWN");
    cr_assert(eq(sz, d.count[WR_DIFF_NEWLY_FAILING], 1));
    cr_assert(eq(sz, d.count[WR_DIFF_NEWLY_PASSING], 1));
    cr_assert(eq(sz, d.count[WR_DIFF_STILL_FAILING], 1));
    cr_assert(eq(sz, d.count[WR_DIFF_EVIDENCE], 2));
    cr_assert(eq(sz, d.count[WR_DIFF_OTHER], 1));
    cr_assert(eq(ptr, (void *)row_of(&d, WSR_CHECK_ISOLATION)->old_case,
                 (void *)o));
    cr_assert(eq(ptr, (void *)row_of(&d, WSR_CHECK_ISOLATION)->new_case,
                 (void *)n));
    wr_diff_free(&d);
}

Test(diff, identical_runs_differ_in_nothing, .timeout = 10)
{
    wr_diff_t d;

    add(&old_side, &alpha, "", 1);
    add(&new_side, &alpha, "", 1);
    add(&old_side, &beta, "fallback-ready", 2);
    add(&new_side, &beta, "fallback-ready", 2);
    diff(&d);
    cr_assert(eq(sz, d.matched, 2));
    cr_assert(eq(sz, d.nrows, 0));
    wr_diff_free(&d);
}

Test(diff, checks_that_start_or_stop_running, .timeout = 10)
{
    wr_case_t *o = add(&old_side, &alpha, "", 1);
    wr_case_t *n = add(&new_side, &alpha, "", 1);
    wr_diff_t d;

    /* Not run before, FAIL now. */
    n->ran[WSR_CHECK_MEMORY_SAFETY] = true;
    set(n, WSR_CHECK_MEMORY_SAFETY, WR_FAIL, "1 invalid read.", -1);
    /* FAIL before, not run now. */
    set(o, WSR_CHECK_ISOLATION, WR_FAIL, "crossed messages.", -1);
    n->ran[WSR_CHECK_ISOLATION] = false;
    /* PASS before, not run now. */
    n->ran[WSR_CHECK_LIVENESS] = false;
    diff(&d);
    assert_row(&d, WSR_CHECK_MEMORY_SAFETY, WR_DIFF_NEWLY_FAILING, "-",
               "FAIL");
    assert_row(&d, WSR_CHECK_ISOLATION, WR_DIFF_OTHER, "FAIL", "-");
    assert_row(&d, WSR_CHECK_LIVENESS, WR_DIFF_OTHER, "PASS", "-");
    cr_assert(eq(sz, d.nrows, 3));
    wr_diff_free(&d);
}

Test(diff, exact_partners_before_loose_ones, .timeout = 10)
{
    wr_case_t *o_fault, *o_none, *n;
    wr_diff_t d;

    /* The faulty case comes first in the old run and matches on
     * (scenario, seed); the one with the same faults must win. */
    o_fault = add(&old_side, &alpha, "fallback-ready", 1);
    o_none = add(&old_side, &alpha, "", 1);
    n = add(&new_side, &alpha, "", 1);
    set(o_fault, WSR_CHECK_FALSE_READINESS, WR_FAIL, "ready without a machine.",
        EV_WELCOME, -1);
    set(o_none, WSR_CHECK_ISOLATION, WR_FAIL, "crossed.", EV_RECV, -1);
    set(n, WSR_CHECK_ISOLATION, WR_FAIL, "crossed.", EV_RECV, -1);
    diff(&d);
    cr_assert(eq(sz, d.matched, 1));
    cr_assert(eq(sz, d.only_old, 1));
    cr_assert(eq(sz, d.only_new, 0));
    cr_assert(eq(sz, d.nrows, 1));
    assert_row(&d, WSR_CHECK_ISOLATION, WR_DIFF_STILL_FAILING, "FAIL", "FAIL");
    cr_assert(eq(ptr, (void *)d.rows[0].old_case, (void *)o_none));
    wr_diff_free(&d);
}

Test(diff, loose_partners_on_scenario_and_seed, .timeout = 10)
{
    wr_case_t *o, *n;
    wr_diff_t d;
    const wr_diff_row_t *r;

    /* A run without the fault against one with it. */
    o = add(&old_side, &alpha, "", 5);
    n = add(&new_side, &alpha, "fallback-ready", 5);
    set(n, WSR_CHECK_FALSE_READINESS, WR_FAIL, "ready without a machine.",
        EV_WELCOME, -1);
    /* Neither another seed nor another scenario is a partner. */
    add(&new_side, &alpha, "", 6);
    add(&new_side, &beta, "", 5);
    diff(&d);
    cr_assert(eq(sz, d.matched, 1));
    cr_assert(eq(sz, d.only_old, 0));
    cr_assert(eq(sz, d.only_new, 2));
    r = row_of(&d, WSR_CHECK_FALSE_READINESS);
    cr_assert(eq(int, (int)r->kind, (int)WR_DIFF_NEWLY_FAILING));
    cr_assert(eq(ptr, (void *)r->old_case, (void *)o));
    cr_assert(eq(ptr, (void *)r->new_case, (void *)n));
    wr_diff_free(&d);
}

Test(diff, cases_without_a_partner, .timeout = 10)
{
    wr_case_t *o, *n1, *n2;
    wr_diff_t d;
    const wr_diff_row_t *r;

    o = add(&old_side, &beta, "", 3);
    set(o, WSR_CHECK_LIVENESS, WR_FAIL, "never welcomed.", EV_AUTH, -1);
    add(&old_side, &beta, "", 4);
    /* Two new cases with one key: one partner, one left over. */
    n1 = add(&new_side, &alpha, "stuck-swap", 9);
    n2 = add(&new_side, &alpha, "stuck-swap", 9);
    add(&old_side, &alpha, "stuck-swap", 9);
    set(n1, WSR_CHECK_LIVENESS, WR_FAIL, "never welcomed.", EV_AUTH, -1);
    set(n2, WSR_CHECK_LIVENESS, WR_FAIL, "never welcomed.", EV_AUTH, -1);
    diff(&d);
    cr_assert(eq(sz, d.matched, 1));
    cr_assert(eq(sz, d.only_old, 2));
    cr_assert(eq(sz, d.only_new, 1));
    /* The paired one fails anew; so does the unpaired one, against
     * nothing. The old cases alone add no row. */
    cr_assert(eq(sz, d.nrows, 2));
    cr_assert(eq(sz, d.count[WR_DIFF_NEWLY_FAILING], 2));
    r = NULL;
    for (size_t i = 0; i < d.nrows; i++)
        if (d.rows[i].old_case == NULL)
            r = &d.rows[i];
    cr_assert(not(zero(ptr, (void *)r)));
    cr_assert(eq(ptr, (void *)r->new_case, (void *)n2));
    cr_assert(eq(str, (char *)r->was, "-"));
    cr_assert(eq(str, (char *)r->now, "FAIL"));
    wr_diff_free(&d);
}

Test(diff, print_groups_by_kind, .timeout = 10)
{
    wr_case_t *o = add(&old_side, &alpha, "", 7);
    wr_case_t *n = add(&new_side, &alpha, "fallback-ready", 7);
    wr_diff_t d;
    char *out = NULL;
    size_t len = 0;
    FILE *f;

    set(n, WSR_CHECK_FALSE_READINESS, WR_FAIL, "ready without a machine.",
        EV_WELCOME, -1);
    set(o, WSR_CHECK_LIVENESS, WR_FAIL, "never welcomed.", EV_AUTH, -1);
    add(&old_side, &beta, "", 1);
    diff(&d);
    f = open_memstream(&out, &len);
    wr_diff_print(&d, f);
    fclose(f);
    cr_assert(eq(int,
                 strstr(out, "1 case(s) matched, 1 only in the old run, 0 "
                             "only in the new run\n") != NULL
                     ? 1
                     : 0,
                 1),
              "%s", out);
    cr_assert(eq(int, strstr(out, "newly failing: 1\n") != NULL ? 1 : 0, 1),
              "%s", out);
    cr_assert(eq(int, strstr(out, "newly passing: 1\n") != NULL ? 1 : 0, 1),
              "%s", out);
    cr_assert(eq(int, strstr(out, "still failing: 0\n") != NULL ? 1 : 0, 1),
              "%s", out);
    cr_assert(eq(int,
                 strstr(out, "false_readiness          PASS -> FAIL  alpha "
                             "inject=fallback-ready seed=7 (was alpha "
                             "inject=none seed=7)\n      ready without a "
                             "machine.\n") != NULL
                     ? 1
                     : 0,
                 1),
              "%s", out);
    free(out);
    wr_diff_free(&d);
}
