/* test-judge.c - The judge (wr_judge.c): expectations, as-expected, the
 * per-fault relations and matrix cells.
 *
 * Expected verdicts are read from the fault catalog (wsr_fault_info), not
 * restated: for every fault, what its `detects`, `side_effects` and
 * `tool_detects` say must be what wr_judge_expect() asks of a case.
 * Scenarios are plain records with only `exposes` set, the one field the
 * judge reads; cases are filled by hand.
 *
 * Criterion 2.4.1: gt() tests >=, and cr_assert() cannot take a bare
 * macro call; conditions are written as eq(int, cond ? 1 : 0, 1). */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <string.h>

#include "judge/wr_judge.h"

#define BIT(c) (1u << (c))

static wr_scenario_t scenario(const char *exposes)
{
    wr_scenario_t s;
    char err[256];

    memset(&s, 0, sizeof(s));
    s.name = (char *)"judged";
    s.checks = WSR_CHECKS_ALL;
    cr_assert(eq(int, wsr_faults_parse(&s.exposes, exposes, err, sizeof(err)),
                 0),
              "%s", err);
    return s;
}

static wsr_faults_t faults(const char *list)
{
    wsr_faults_t f = {0};
    char err[256];

    cr_assert(eq(int, wsr_faults_parse(&f, list, err, sizeof(err)), 0), "%s",
              err);
    return f;
}

static wsr_faults_t one(wsr_fault_id_t id)
{
    wsr_faults_t f = {0};

    f.mask = BIT(id);
    return f;
}

static const char *cname(int k)
{
    return wsr_check_name((wsr_check_id_t)k);
}

/* A case of s with inject, expectations from the judge, every check of
 * checks run and PASS, target OK. */
static void make_case(wr_case_t *c, const wr_scenario_t *s, wsr_faults_t f,
                      unsigned checks)
{
    memset(c, 0, sizeof(*c));
    c->scenario = s;
    c->faults = f;
    wsr_faults_format(&f, c->inject, sizeof(c->inject));
    wr_judge_expect(s, &f, checks & WSR_CHECKS_TOOL, c->expected, &c->need_one);
    for (int k = 0; k < WSR_CHECK__COUNT; k++) {
        c->ran[k] = (checks & BIT(k)) != 0;
        c->results[k].id = (wsr_check_id_t)k;
        c->results[k].verdict = WR_PASS;
    }
    c->target_state = WR_TARGET_OK;
}

/* Sets every check in mask that ran to v. */
static void set_verdicts(wr_case_t *c, unsigned mask, wr_verdict_t v)
{
    for (int k = 0; k < WSR_CHECK__COUNT; k++)
        if (mask & BIT(k))
            c->results[k].verdict = v;
}

/* ------------------------------------------------------------------ */
/* wr_judge_expect                                                      */
/* ------------------------------------------------------------------ */

Test(judge, nothing_injected_expects_every_check_to_pass, .timeout = 10)
{
    wr_scenario_t s = scenario("scope-loss,duplicate-registration");
    wsr_faults_t none = {0};
    wr_expect_t e[WSR_CHECK__COUNT];
    unsigned need = 12345;

    /* Every slot written, tool checks included. */
    for (int k = 0; k < WSR_CHECK__COUNT; k++)
        e[k] = WR_EXPECT_ANY;
    wr_judge_expect(&s, &none, WSR_CHECKS_TOOL, e, &need);
    for (int k = 0; k < WSR_CHECK__COUNT; k++)
        cr_assert(eq(str, (char *)wr_expect_name(e[k]), "PASS"), "%s",
                  cname(k));
    cr_assert(eq(u32, need, 0));
}

Test(judge, a_fault_alone_where_exposed_must_be_detected, .timeout = 10)
{
    for (int f = 0; f < WSR_FAULT__COUNT; f++) {
        const wsr_fault_info_t *info = wsr_fault_info((wsr_fault_id_t)f);
        wr_scenario_t s = scenario(info->name);
        wsr_faults_t inj = one((wsr_fault_id_t)f);
        wr_expect_t e[WSR_CHECK__COUNT];
        unsigned need = 12345;
        int nfail = 0;

        wr_judge_expect(&s, &inj, 0, e, &need);
        for (int k = 0; k < WSR_CHECK__COUNT; k++) {
            wr_expect_t want = (info->detects & BIT(k))        ? WR_EXPECT_FAIL
                               : (info->side_effects & BIT(k)) ? WR_EXPECT_ANY
                                                               : WR_EXPECT_PASS;

            cr_assert(eq(str, (char *)wr_expect_name(e[k]),
                         (char *)wr_expect_name(want)),
                      "%s / %s", info->name, cname(k));
            nfail += e[k] == WR_EXPECT_FAIL;
        }
        /* Each fault owes at least one detection, alone: no need-one. */
        cr_assert(eq(int, nfail > 0 ? 1 : 0, 1), "%s detects nothing",
                  info->name);
        cr_assert(eq(u32, need, 0), "%s", info->name);
    }
}

Test(judge, a_fault_the_scenario_does_not_expose_may_fire, .timeout = 10)
{
    /* A scenario exposing nothing, and one exposing another fault. */
    for (int other = -1; other < WSR_FAULT__COUNT; other++)
        for (int f = 0; f < WSR_FAULT__COUNT; f++) {
            const wsr_fault_info_t *info = wsr_fault_info((wsr_fault_id_t)f);
            wr_scenario_t s =
                scenario(other < 0 ? "" : wsr_fault_name((wsr_fault_id_t)other));
            wsr_faults_t inj = one((wsr_fault_id_t)f);
            wr_expect_t e[WSR_CHECK__COUNT];
            unsigned need = 12345;

            if (other == f)
                continue;
            wr_judge_expect(&s, &inj, 0, e, &need);
            for (int k = 0; k < WSR_CHECK__COUNT; k++) {
                wr_expect_t want =
                    ((info->detects | info->side_effects) & BIT(k))
                        ? WR_EXPECT_ANY
                        : WR_EXPECT_PASS;

                cr_assert(eq(str, (char *)wr_expect_name(e[k]),
                             (char *)wr_expect_name(want)),
                          "%s into a scenario exposing %s / %s", info->name,
                          other < 0 ? "nothing" : wsr_fault_name(other),
                          cname(k));
            }
            cr_assert(eq(u32, need, 0));
        }
}

Test(judge, an_exposed_fault_in_another_mode_is_still_exposed, .timeout = 10)
{
    wr_scenario_t s = scenario("scope-loss=swallow");
    wsr_faults_t inj = faults("scope-loss");
    unsigned detects = wsr_fault_info(WSR_FAULT_SCOPE_LOSS)->detects;
    wr_expect_t e[WSR_CHECK__COUNT];

    cr_assert(eq(int, wr_judge_exposed(WSR_FAULT_SCOPE_LOSS, &s) ? 1 : 0, 1));
    wr_judge_expect(&s, &inj, 0, e, NULL);
    for (int k = 0; k < WSR_CHECK__COUNT; k++)
        if (detects & BIT(k))
            cr_assert(eq(int, (int)e[k], (int)WR_EXPECT_FAIL), "%s", cname(k));
}

Test(judge, several_faults_with_one_exposed_owe_one_detection, .timeout = 10)
{
    wr_scenario_t s = scenario("duplicate-registration");
    wsr_faults_t inj = wsr_faults_seed_bugs();
    unsigned any = 0, may = 0, need = 0;
    wr_expect_t e[WSR_CHECK__COUNT];

    cr_assert(eq(int, wsr_faults_count(&inj) > 1 ? 1 : 0, 1));
    cr_assert(eq(int,
                 wsr_fault_on(&inj, WSR_FAULT_DUPLICATE_REGISTRATION) ? 1 : 0,
                 1));
    for (int f = 0; f < WSR_FAULT__COUNT; f++)
        if (wsr_fault_on(&inj, (wsr_fault_id_t)f)) {
            any |= wsr_fault_info((wsr_fault_id_t)f)->detects;
            may |= wsr_fault_info((wsr_fault_id_t)f)->side_effects;
        }
    wr_judge_expect(&s, &inj, 0, e, &need);
    cr_assert(eq(u32, need, any));
    for (int k = 0; k < WSR_CHECK__COUNT; k++)
        cr_assert(eq(str, (char *)wr_expect_name(e[k]),
                     ((any | may) & BIT(k)) ? "ANY" : "PASS"),
                  "%s", cname(k));
}

Test(judge, several_faults_none_exposed_owe_nothing, .timeout = 10)
{
    wr_scenario_t s = scenario("registry-leak");
    wsr_faults_t inj = faults("fallback-ready,stuck-swap");
    unsigned need = 12345;
    wr_expect_t e[WSR_CHECK__COUNT];

    wr_judge_expect(&s, &inj, 0, e, &need);
    cr_assert(eq(u32, need, 0));
    for (int k = 0; k < WSR_CHECK__COUNT; k++)
        cr_assert(not(eq(int, (int)e[k], (int)WR_EXPECT_FAIL)), "%s",
                  cname(k));
}

Test(judge, tool_checks_pass_on_the_correct_gateway, .timeout = 10)
{
    wr_scenario_t s = scenario("scope-loss");
    wsr_faults_t none = {0};
    wr_expect_t e[WSR_CHECK__COUNT];

    wr_judge_expect(&s, &none, WSR_CHECKS_TOOL, e, NULL);
    cr_assert(eq(int, (int)e[WSR_CHECK_MEMORY_SAFETY], (int)WR_EXPECT_PASS));
    cr_assert(eq(int, (int)e[WSR_CHECK_DATA_RACE], (int)WR_EXPECT_PASS));
}

/* The expectation of tool check k when f runs alone, in mode, in a
 * scenario exposing it, by the catalog. */
static wr_expect_t tool_want(wsr_fault_id_t f, unsigned mode, int k)
{
    const wsr_fault_info_t *info = wsr_fault_info(f);
    bool in_mode = info->tool_mode < 0 || (unsigned)info->tool_mode == mode;

    return in_mode && (info->tool_detects & BIT(k)) ? WR_EXPECT_FAIL
                                                    : WR_EXPECT_ANY;
}

Test(judge, tool_checks_follow_the_catalog_for_each_fault_and_mode,
     .timeout = 10)
{
    int nfail = 0;

    for (int f = 0; f < WSR_FAULT__COUNT; f++) {
        const wsr_fault_info_t *info = wsr_fault_info((wsr_fault_id_t)f);

        for (unsigned m = 0; m == 0 || (m < WSR_FAULT_MODES_MAX &&
                                        info->modes[m] != NULL);
             m++) {
            wr_scenario_t s = scenario(info->name);
            wsr_faults_t inj = one((wsr_fault_id_t)f);
            wr_expect_t e[WSR_CHECK__COUNT];

            inj.mode[f] = (uint8_t)m;
            wr_judge_expect(&s, &inj, WSR_CHECKS_TOOL, e, NULL);
            for (int k = WSR_CHECK_MEMORY_SAFETY; k <= WSR_CHECK_DATA_RACE;
                 k++) {
                cr_assert(eq(str, (char *)wr_expect_name(e[k]),
                             (char *)wr_expect_name(
                                 tool_want((wsr_fault_id_t)f, m, k))),
                          "%s mode %u / %s", info->name, m, cname(k));
                nfail += e[k] == WR_EXPECT_FAIL;
            }
        }
    }
    /* The catalog promises at least one tool detection (scope-loss). */
    cr_assert(eq(int, nfail > 0 ? 1 : 0, 1));
}

Test(judge, scope_loss_crash_alone_must_show_a_memory_error, .timeout = 10)
{
    const wsr_fault_info_t *info = wsr_fault_info(WSR_FAULT_SCOPE_LOSS);
    int crash = wsr_fault_mode_from_name(WSR_FAULT_SCOPE_LOSS, "crash", 5);
    wr_scenario_t s = scenario("scope-loss");
    wr_scenario_t other = scenario("fallback-ready");
    wsr_faults_t inj = faults("scope-loss=crash");
    wsr_faults_t two = faults("scope-loss=crash,fallback-ready");
    wsr_faults_t swallow = faults("scope-loss=swallow");
    wr_expect_t e[WSR_CHECK__COUNT];

    /* What the catalog says, first. */
    cr_assert(eq(int, info->tool_mode, crash));
    cr_assert(eq(u32, info->tool_detects & BIT(WSR_CHECK_MEMORY_SAFETY),
                 BIT(WSR_CHECK_MEMORY_SAFETY)));

    wr_judge_expect(&s, &inj, WSR_CHECKS_TOOL, e, NULL);
    cr_assert(eq(str, (char *)wr_expect_name(e[WSR_CHECK_MEMORY_SAFETY]),
                 "FAIL"));
    /* Another mode, not exposed, or with another fault: either way. */
    wr_judge_expect(&s, &swallow, WSR_CHECKS_TOOL, e, NULL);
    cr_assert(
        eq(str, (char *)wr_expect_name(e[WSR_CHECK_MEMORY_SAFETY]), "ANY"));
    wr_judge_expect(&other, &inj, WSR_CHECKS_TOOL, e, NULL);
    cr_assert(
        eq(str, (char *)wr_expect_name(e[WSR_CHECK_MEMORY_SAFETY]), "ANY"));
    wr_judge_expect(&s, &two, WSR_CHECKS_TOOL, e, NULL);
    cr_assert(
        eq(str, (char *)wr_expect_name(e[WSR_CHECK_MEMORY_SAFETY]), "ANY"));
    cr_assert(eq(str, (char *)wr_expect_name(e[WSR_CHECK_DATA_RACE]), "ANY"));
    /* Without a tool the check is not the tool's to decide. */
    wr_judge_expect(&s, &inj, 0, e, NULL);
    cr_assert(
        eq(str, (char *)wr_expect_name(e[WSR_CHECK_MEMORY_SAFETY]), "PASS"));
}

/* ------------------------------------------------------------------ */
/* wr_judge_verdict_ok, wr_judge_case                                   */
/* ------------------------------------------------------------------ */

Test(judge, verdict_ok_table, .timeout = 10)
{
    static const struct {
        wr_verdict_t v;
        wr_expect_t e;
        bool external, ok;
    } t[] = {
        {WR_PASS, WR_EXPECT_PASS, false, true},
        {WR_FAIL, WR_EXPECT_PASS, false, false},
        {WR_UNKNOWN, WR_EXPECT_PASS, false, false},
        {WR_PASS, WR_EXPECT_PASS, true, true},
        {WR_UNKNOWN, WR_EXPECT_PASS, true, true},
        {WR_FAIL, WR_EXPECT_PASS, true, false},
        {WR_FAIL, WR_EXPECT_FAIL, false, true},
        {WR_PASS, WR_EXPECT_FAIL, false, false},
        {WR_UNKNOWN, WR_EXPECT_FAIL, false, false},
        {WR_FAIL, WR_EXPECT_FAIL, true, true},
        {WR_PASS, WR_EXPECT_FAIL, true, false},
        {WR_UNKNOWN, WR_EXPECT_FAIL, true, false},
        {WR_PASS, WR_EXPECT_ANY, false, true},
        {WR_FAIL, WR_EXPECT_ANY, false, true},
        {WR_UNKNOWN, WR_EXPECT_ANY, false, true},
        {WR_UNKNOWN, WR_EXPECT_ANY, true, true},
    };

    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        cr_assert(eq(int, wr_judge_verdict_ok(t[i].v, t[i].e, t[i].external),
                     t[i].ok),
                  "row %zu: %s against %s%s", i, wr_verdict_name(t[i].v),
                  wr_expect_name(t[i].e), t[i].external ? " (external)" : "");
}

Test(judge, case_as_expected_when_every_verdict_meets_its_expectation,
     .timeout = 10)
{
    wr_scenario_t s = scenario("fallback-ready");
    unsigned detects = wsr_fault_info(WSR_FAULT_FALLBACK_READY)->detects;
    wr_case_t c;

    make_case(&c, &s, one(WSR_FAULT_FALLBACK_READY), WSR_CHECKS_ALL);
    set_verdicts(&c, detects, WR_FAIL);
    c.as_expected = false;
    wr_judge_case(&c);
    cr_assert(eq(int, c.as_expected ? 1 : 0, 1));
    for (int k = 0; k < WSR_CHECK__COUNT; k++)
        cr_assert(eq(int, wr_judge_check_ok(&c, k) ? 1 : 0, 1), "%s",
                  cname(k));
}

Test(judge, case_not_as_expected_on_a_mismatch, .timeout = 10)
{
    wr_scenario_t s = scenario("fallback-ready");
    wr_case_t c;

    /* The fault went unseen: its check passed. */
    make_case(&c, &s, one(WSR_FAULT_FALLBACK_READY), WSR_CHECKS_ALL);
    c.as_expected = true;
    wr_judge_case(&c);
    cr_assert(eq(int, c.as_expected ? 1 : 0, 0));

    /* Nothing injected, one check failed. */
    make_case(&c, &s, (wsr_faults_t){0}, WSR_CHECKS_ALL);
    c.results[WSR_CHECK_ISOLATION].verdict = WR_FAIL;
    c.as_expected = true;
    wr_judge_case(&c);
    cr_assert(eq(int, c.as_expected ? 1 : 0, 0));
    cr_assert(eq(int, wr_judge_check_ok(&c, WSR_CHECK_ISOLATION) ? 1 : 0, 0));

    /* The same FAIL in a check that did not run does not count. */
    c.ran[WSR_CHECK_ISOLATION] = false;
    wr_judge_case(&c);
    cr_assert(eq(int, c.as_expected ? 1 : 0, 1));
}

Test(judge, case_unknown_meets_pass_only_against_an_external_target,
     .timeout = 10)
{
    wr_scenario_t s = scenario("");
    wr_case_t c;

    make_case(&c, &s, (wsr_faults_t){0}, WSR_CHECKS_ALL);
    c.results[WSR_CHECK_COORDINATOR_GAP].verdict = WR_UNKNOWN;
    wr_judge_case(&c);
    cr_assert(eq(int, c.as_expected ? 1 : 0, 0));
    c.target_state = WR_TARGET_EXTERNAL;
    wr_judge_case(&c);
    cr_assert(eq(int, c.as_expected ? 1 : 0, 1));
}

Test(judge, case_need_one_met_by_one_detection_of_the_faults, .timeout = 10)
{
    wr_scenario_t s = scenario("duplicate-registration");
    wr_case_t c;
    int k;

    make_case(&c, &s, wsr_faults_seed_bugs(), WSR_CHECKS_ALL);
    cr_assert(not(eq(u32, c.need_one, 0)));
    /* Every check passed: every verdict meets ANY/PASS, the need does
     * not. */
    wr_judge_case(&c);
    cr_assert(eq(int, c.as_expected ? 1 : 0, 0));
    for (k = 0; k < WSR_CHECK__COUNT; k++)
        cr_assert(eq(int, wr_judge_check_ok(&c, k) ? 1 : 0, 1), "%s",
                  cname(k));

    /* One of them failed: met. */
    for (k = 0; (c.need_one & BIT(k)) == 0; k++)
        ;
    c.results[k].verdict = WR_FAIL;
    wr_judge_case(&c);
    cr_assert(eq(int, c.as_expected ? 1 : 0, 1), "%s", cname(k));

    /* A FAIL of a check that did not run does not meet it. */
    c.ran[k] = false;
    wr_judge_case(&c);
    cr_assert(eq(int, c.as_expected ? 1 : 0, 0));

    /* An UNKNOWN does not meet it either. */
    c.ran[k] = true;
    c.results[k].verdict = WR_UNKNOWN;
    wr_judge_case(&c);
    cr_assert(eq(int, c.as_expected ? 1 : 0, 0));
}

/* ------------------------------------------------------------------ */
/* Per fault: targeted, confirmed, control, absent                      */
/* ------------------------------------------------------------------ */

Test(judge, targeted_only_alone_and_exposed, .timeout = 10)
{
    wr_scenario_t s = scenario("stuck-swap");
    wr_scenario_t t = scenario("registry-leak");
    wr_case_t c;

    make_case(&c, &s, one(WSR_FAULT_STUCK_SWAP), WSR_CHECKS_ALL);
    cr_assert(eq(int, wr_judge_targeted(WSR_FAULT_STUCK_SWAP, &c) ? 1 : 0, 1));
    cr_assert(eq(int, wr_judge_targeted(WSR_FAULT_REGISTRY_LEAK, &c) ? 1 : 0,
                 0));
    make_case(&c, &s, faults("stuck-swap,registry-leak"), WSR_CHECKS_ALL);
    cr_assert(eq(int, wr_judge_targeted(WSR_FAULT_STUCK_SWAP, &c) ? 1 : 0, 0));
    make_case(&c, &t, one(WSR_FAULT_STUCK_SWAP), WSR_CHECKS_ALL);
    cr_assert(eq(int, wr_judge_targeted(WSR_FAULT_STUCK_SWAP, &c) ? 1 : 0, 0));
    make_case(&c, &s, (wsr_faults_t){0}, WSR_CHECKS_ALL);
    cr_assert(eq(int, wr_judge_targeted(WSR_FAULT_STUCK_SWAP, &c) ? 1 : 0, 0));
    make_case(&c, NULL, one(WSR_FAULT_STUCK_SWAP), WSR_CHECKS_ALL);
    cr_assert(eq(int, wr_judge_targeted(WSR_FAULT_STUCK_SWAP, &c) ? 1 : 0, 0));
}

Test(judge, confirmed_when_every_detecting_check_failed, .timeout = 10)
{
    for (int f = 0; f < WSR_FAULT__COUNT; f++) {
        const wsr_fault_info_t *info = wsr_fault_info((wsr_fault_id_t)f);
        wr_scenario_t s = scenario(info->name);
        wr_case_t c;
        int k;

        make_case(&c, &s, one((wsr_fault_id_t)f), WSR_CHECKS_ALL);
        cr_assert(eq(int, wr_judge_confirmed(f, &c) ? 1 : 0, 0), "%s",
                  info->name);
        set_verdicts(&c, info->detects, WR_FAIL);
        cr_assert(eq(int, wr_judge_confirmed(f, &c) ? 1 : 0, 1), "%s",
                  info->name);
        /* A crash is what some faults do, not a problem of the run. */
        c.target_state = WR_TARGET_CRASHED;
        c.target_signal = 11;
        cr_assert(eq(int, wr_judge_confirmed(f, &c) ? 1 : 0, 1), "%s",
                  info->name);
        /* No detecting check ran: nothing is confirmed. */
        for (k = 0; k < WSR_CHECK__COUNT; k++)
            if (info->detects & BIT(k))
                c.ran[k] = false;
        cr_assert(eq(int, wr_judge_confirmed(f, &c) ? 1 : 0, 0), "%s",
                  info->name);
    }
}

Test(judge, confirmed_needs_every_detecting_check_that_ran, .timeout = 10)
{
    const wsr_fault_info_t *info = wsr_fault_info(WSR_FAULT_FALLBACK_READY);
    wr_scenario_t s = scenario(info->name);
    wr_case_t c;

    /* A side effect failing is not a detection. */
    make_case(&c, &s, one(WSR_FAULT_FALLBACK_READY), WSR_CHECKS_ALL);
    set_verdicts(&c, WSR_CHECKS_ALL & ~info->detects, WR_FAIL);
    cr_assert(eq(int,
                 wr_judge_confirmed(WSR_FAULT_FALLBACK_READY, &c) ? 1 : 0, 0));
    /* UNKNOWN where FAIL is due is not one either. */
    set_verdicts(&c, info->detects, WR_UNKNOWN);
    cr_assert(eq(int,
                 wr_judge_confirmed(WSR_FAULT_FALLBACK_READY, &c) ? 1 : 0, 0));
}

Test(judge, infra_problems_never_confirm_nor_show_absence, .timeout = 10)
{
    static const struct {
        wr_target_state_t state;
        const char *error;
    } bad[] = {
        {WR_TARGET_NO_START, ""},
        {WR_TARGET_HUNG, ""},
        {WR_TARGET_OK, "could not spawn the gateway"},
        {WR_TARGET_NO_START, "gateway never answered /healthz"},
    };
    const wsr_fault_info_t *info = wsr_fault_info(WSR_FAULT_SCOPE_LOSS);
    wr_scenario_t s = scenario(info->name);

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        wr_case_t c;

        /* Every verdict a confirmation needs is there... */
        make_case(&c, &s, one(WSR_FAULT_SCOPE_LOSS), WSR_CHECKS_ALL);
        set_verdicts(&c, info->detects, WR_FAIL);
        cr_assert(eq(int, wr_judge_confirmed(WSR_FAULT_SCOPE_LOSS, &c) ? 1 : 0,
                     1));
        /* ...but the target could not be run. */
        c.target_state = bad[i].state;
        snprintf(c.target_error, sizeof(c.target_error), "%s", bad[i].error);
        cr_assert(eq(int, wr_case_infra_problem(&c) ? 1 : 0, 1), "row %zu", i);
        cr_assert(eq(int, wr_judge_confirmed(WSR_FAULT_SCOPE_LOSS, &c) ? 1 : 0,
                     0),
                  "row %zu", i);

        /* The control likewise: all PASS, yet nothing shown. */
        make_case(&c, &s, (wsr_faults_t){0}, WSR_CHECKS_ALL);
        cr_assert(
            eq(int, wr_judge_absent(WSR_FAULT_SCOPE_LOSS, &c) ? 1 : 0, 1));
        c.target_state = bad[i].state;
        snprintf(c.target_error, sizeof(c.target_error), "%s", bad[i].error);
        cr_assert(
            eq(int, wr_judge_absent(WSR_FAULT_SCOPE_LOSS, &c) ? 1 : 0, 0),
            "row %zu", i);
    }
}

Test(judge, control_is_an_uninjected_case_of_an_exposing_scenario,
     .timeout = 10)
{
    const wsr_fault_info_t *info = wsr_fault_info(WSR_FAULT_REGISTRY_LEAK);
    wr_scenario_t s = scenario(info->name);
    wr_scenario_t t = scenario("fallback-ready");
    wr_case_t c;

    make_case(&c, &s, (wsr_faults_t){0}, WSR_CHECKS_ALL);
    cr_assert(eq(int, wr_judge_control(WSR_FAULT_REGISTRY_LEAK, &c) ? 1 : 0, 1));
    cr_assert(eq(int, wr_judge_control(WSR_FAULT_FALLBACK_READY, &c) ? 1 : 0,
                 0));
    /* Not without its detecting checks. */
    make_case(&c, &s, (wsr_faults_t){0}, WSR_CHECKS_ALL & ~info->detects);
    cr_assert(eq(int, wr_judge_control(WSR_FAULT_REGISTRY_LEAK, &c) ? 1 : 0, 0));
    /* Not with a fault injected, not in another scenario. */
    make_case(&c, &s, one(WSR_FAULT_REGISTRY_LEAK), WSR_CHECKS_ALL);
    cr_assert(eq(int, wr_judge_control(WSR_FAULT_REGISTRY_LEAK, &c) ? 1 : 0, 0));
    make_case(&c, &t, (wsr_faults_t){0}, WSR_CHECKS_ALL);
    cr_assert(eq(int, wr_judge_control(WSR_FAULT_REGISTRY_LEAK, &c) ? 1 : 0, 0));
}

Test(judge, absent_when_the_detecting_checks_passed, .timeout = 10)
{
    for (int f = 0; f < WSR_FAULT__COUNT; f++) {
        const wsr_fault_info_t *info = wsr_fault_info((wsr_fault_id_t)f);
        wr_scenario_t s = scenario(info->name);
        wr_case_t c;

        make_case(&c, &s, (wsr_faults_t){0}, WSR_CHECKS_ALL);
        /* Other checks failing say nothing of this fault. */
        set_verdicts(&c, WSR_CHECKS_ALL & ~info->detects, WR_FAIL);
        cr_assert(eq(int, wr_judge_absent(f, &c) ? 1 : 0, 1), "%s",
                  info->name);
        set_verdicts(&c, info->detects, WR_FAIL);
        cr_assert(eq(int, wr_judge_absent(f, &c) ? 1 : 0, 0), "%s",
                  info->name);
        set_verdicts(&c, info->detects, WR_UNKNOWN);
        cr_assert(eq(int, wr_judge_absent(f, &c) ? 1 : 0, 0), "%s",
                  info->name);
    }
}

/* ------------------------------------------------------------------ */
/* Matrix cells                                                         */
/* ------------------------------------------------------------------ */

static wr_cell_kind_t kind_of(wr_expect_t e, int runs, int fails, int unknown,
                              int errors, bool external)
{
    wr_cell_t c = {WR_CELL__COUNT, e, runs, fails, unknown, errors};

    wr_judge_cell(&c, external);
    return c.kind;
}

Test(judge, cell_kinds_from_counts, .timeout = 10)
{
    static const struct {
        wr_expect_t e;
        int runs, fails, unknown, errors;
        bool external;
        wr_cell_kind_t kind;
    } t[] = {
        {WR_EXPECT_PASS, 0, 0, 0, 0, false, WR_CELL_NOT_RUN},
        {WR_EXPECT_FAIL, 0, 0, 0, 0, false, WR_CELL_NOT_RUN},
        /* An infrastructure problem trumps every verdict. */
        {WR_EXPECT_FAIL, 5, 4, 0, 1, false, WR_CELL_ERROR},
        {WR_EXPECT_PASS, 5, 0, 0, 1, false, WR_CELL_ERROR},
        {WR_EXPECT_ANY, 5, 0, 0, 5, true, WR_CELL_ERROR},
        {WR_EXPECT_FAIL, 5, 5, 0, 0, false, WR_CELL_DETECTED},
        {WR_EXPECT_FAIL, 1, 1, 0, 0, false, WR_CELL_DETECTED},
        {WR_EXPECT_FAIL, 5, 4, 0, 0, false, WR_CELL_MISSED},
        {WR_EXPECT_FAIL, 5, 0, 0, 0, false, WR_CELL_MISSED},
        {WR_EXPECT_FAIL, 5, 4, 1, 0, false, WR_CELL_MISSED},
        {WR_EXPECT_FAIL, 5, 4, 1, 0, true, WR_CELL_MISSED},
        {WR_EXPECT_ANY, 5, 1, 0, 0, false, WR_CELL_ALLOWED},
        {WR_EXPECT_ANY, 5, 5, 0, 0, false, WR_CELL_ALLOWED},
        {WR_EXPECT_ANY, 5, 0, 0, 0, false, WR_CELL_CLEAN},
        {WR_EXPECT_ANY, 5, 0, 3, 0, false, WR_CELL_CLEAN},
        {WR_EXPECT_PASS, 5, 0, 0, 0, false, WR_CELL_CLEAN},
        {WR_EXPECT_PASS, 5, 1, 0, 0, false, WR_CELL_FALSE_ALARM},
        {WR_EXPECT_PASS, 5, 1, 2, 0, true, WR_CELL_FALSE_ALARM},
        /* No verdict where PASS is due: what PASS looks like only without
         * a trace (--url). */
        {WR_EXPECT_PASS, 5, 0, 2, 0, false, WR_CELL_UNKNOWN},
        {WR_EXPECT_PASS, 5, 0, 2, 0, true, WR_CELL_CLEAN},
        {WR_EXPECT_PASS, 5, 0, 5, 0, true, WR_CELL_CLEAN},
    };

    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        wr_cell_kind_t k = kind_of(t[i].e, t[i].runs, t[i].fails,
                                   t[i].unknown, t[i].errors, t[i].external);

        cr_assert(eq(str, (char *)wr_cell_kind_name(k),
                     (char *)wr_cell_kind_name(t[i].kind)),
                  "row %zu", i);
    }
}

Test(judge, count_adds_one_case_to_a_cell, .timeout = 10)
{
    wr_scenario_t s = scenario("fallback-ready");
    const int k = WSR_CHECK_FALSE_READINESS;
    wr_cell_t cell = {0};
    wr_case_t c;

    cr_assert(eq(u32, wsr_fault_info(WSR_FAULT_FALLBACK_READY)->detects & BIT(k),
                 BIT(k)));
    make_case(&c, &s, one(WSR_FAULT_FALLBACK_READY), WSR_CHECKS_ALL);
    c.results[k].verdict = WR_FAIL;
    wr_judge_count(&cell, &c, k);
    wr_judge_count(&cell, &c, k);
    c.results[k].verdict = WR_UNKNOWN;
    wr_judge_count(&cell, &c, k);
    c.results[k].verdict = WR_PASS;
    wr_judge_count(&cell, &c, k);
    cr_assert(eq(int, (int)cell.expected, (int)WR_EXPECT_FAIL));
    cr_assert(eq(int, cell.runs, 4));
    cr_assert(eq(int, cell.fails, 2));
    cr_assert(eq(int, cell.unknown, 1));
    cr_assert(eq(int, cell.errors, 0));
    wr_judge_cell(&cell, false);
    cr_assert(eq(int, (int)cell.kind, (int)WR_CELL_MISSED));

    /* A hung target's FAIL is an error, not a detection. */
    c.results[k].verdict = WR_FAIL;
    c.target_state = WR_TARGET_HUNG;
    wr_judge_count(&cell, &c, k);
    cr_assert(eq(int, cell.runs, 5));
    cr_assert(eq(int, cell.fails, 2));
    cr_assert(eq(int, cell.errors, 1));
    wr_judge_cell(&cell, false);
    cr_assert(eq(int, (int)cell.kind, (int)WR_CELL_ERROR));
}

Test(judge, cell_kind_names_round_trip, .timeout = 10)
{
    int bad = 0;

    for (int k = 0; k < WR_CELL__COUNT; k++) {
        const char *name = wr_cell_kind_name((wr_cell_kind_t)k);

        cr_assert(not(eq(str, (char *)name, "?")), "kind %d", k);
        cr_assert(eq(int, (int)wr_cell_kind_from_name(name), k), "%s", name);
        bad += wr_cell_kind_bad((wr_cell_kind_t)k);
    }
    cr_assert(eq(str, (char *)wr_cell_kind_name(WR_CELL__COUNT), "?"));
    cr_assert(eq(int, (int)wr_cell_kind_from_name("detected"),
                 (int)WR_CELL__COUNT));
    cr_assert(eq(int, (int)wr_cell_kind_from_name(NULL), (int)WR_CELL__COUNT));
    cr_assert(eq(int, bad, 4));
    cr_assert(eq(int, wr_cell_kind_bad(WR_CELL_MISSED) ? 1 : 0, 1));
    cr_assert(eq(int, wr_cell_kind_bad(WR_CELL_FALSE_ALARM) ? 1 : 0, 1));
    cr_assert(eq(int, wr_cell_kind_bad(WR_CELL_ERROR) ? 1 : 0, 1));
    cr_assert(eq(int, wr_cell_kind_bad(WR_CELL_UNKNOWN) ? 1 : 0, 1));
    cr_assert(eq(int, wr_cell_kind_bad(WR_CELL_ALLOWED) ? 1 : 0, 0));
}
