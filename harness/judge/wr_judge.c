/* wr_judge.c - Expectations, as-expected, per-fault relations and matrix
 * cells: the judge's rules in one place (see wr_judge.h).
 *
 * The catalog (common/wsr_fault.c) says which checks detect a fault and
 * which it breaks as side effects; a scenario says which faults it
 * exposes; a case says what was injected and what the checks found. Pure
 * functions; any thread. */
#include "judge/wr_judge.h"

#include <string.h>

#define BIT(c) (1u << (c))

/* ------------------------------------------------------------------ */
/* One case                                                             */
/* ------------------------------------------------------------------ */

void wr_judge_expect(const wr_scenario_t *s, const wsr_faults_t *inject,
                     unsigned tool_checks,
                     wr_expect_t expected[WSR_CHECK__COUNT],
                     unsigned *need_one)
{
    unsigned must = 0, may = 0, any = 0, tool_must = 0;
    bool alone = wsr_faults_count(inject) == 1, promised = false;

    for (int i = 0; i < WSR_FAULT__COUNT; i++) {
        const wsr_fault_info_t *f = wsr_fault_info((wsr_fault_id_t)i);

        if (!wsr_fault_on(inject, (wsr_fault_id_t)i))
            continue;
        any |= f->detects;
        if (!wr_judge_exposed((wsr_fault_id_t)i, s)) {
            /* Not promised by the scenario, but injected: it may fire. */
            may |= f->detects | f->side_effects;
        } else if (alone) {
            must |= f->detects;
            may |= f->side_effects;
            if (f->tool_mode < 0 ||
                (unsigned)f->tool_mode ==
                    wsr_fault_mode(inject, (wsr_fault_id_t)i))
                tool_must = f->tool_detects;
        } else {
            /* With other faults one may mask another (a crash ends the
             * case before a duplicate registers): one detection is due. */
            may |= f->detects | f->side_effects;
            promised = true;
        }
    }
    for (int c = 0; c < WSR_CHECK__COUNT; c++) {
        if (tool_checks & BIT(c))
            /* The correct gateway must be clean; with a fault, a crash
             * dies mid-allocation and a duplicate machine may leak. */
            expected[c] = (tool_must & BIT(c)) ? WR_EXPECT_FAIL
                          : inject->mask == 0  ? WR_EXPECT_PASS
                                               : WR_EXPECT_ANY;
        else if (must & BIT(c))
            expected[c] = WR_EXPECT_FAIL;
        else if (may & BIT(c))
            expected[c] = WR_EXPECT_ANY;
        else
            expected[c] = WR_EXPECT_PASS;
    }
    if (need_one != NULL)
        *need_one = promised ? any : 0;
}

bool wr_judge_verdict_ok(wr_verdict_t v, wr_expect_t e, bool external)
{
    switch (e) {
    case WR_EXPECT_ANY:
        return true;
    case WR_EXPECT_PASS:
        return v == WR_PASS || (v == WR_UNKNOWN && external);
    case WR_EXPECT_FAIL:
        return v == WR_FAIL;
    }
    return false;
}

bool wr_judge_check_ok(const wr_case_t *c, int k)
{
    return wr_judge_verdict_ok(c->results[k].verdict, c->expected[k],
                               c->target_state == WR_TARGET_EXTERNAL);
}

void wr_judge_case(wr_case_t *c)
{
    c->as_expected = true;
    for (int k = 0; k < WSR_CHECK__COUNT; k++)
        if (c->ran[k] && !wr_judge_check_ok(c, k))
            c->as_expected = false;
    /* Several faults at once: one detection of them is due. */
    if (c->need_one != 0 && (wr_case_verdicts(c, WR_FAIL) & c->need_one) == 0)
        c->as_expected = false;
}

/* ------------------------------------------------------------------ */
/* One fault across cases                                               */
/* ------------------------------------------------------------------ */

bool wr_judge_exposed(wsr_fault_id_t f, const wr_scenario_t *s)
{
    return s != NULL && wsr_fault_on(&s->exposes, f);
}

bool wr_judge_targeted(wsr_fault_id_t f, const wr_case_t *c)
{
    return wsr_faults_count(&c->faults) == 1 && wsr_fault_on(&c->faults, f) &&
           wr_judge_exposed(f, c->scenario);
}

bool wr_judge_confirmed(wsr_fault_id_t f, const wr_case_t *c)
{
    unsigned d = wsr_fault_info(f)->detects & wr_case_ran(c);

    return !wr_case_infra_problem(c) && d != 0 &&
           d == (d & wr_case_verdicts(c, WR_FAIL));
}

bool wr_judge_control(wsr_fault_id_t f, const wr_case_t *c)
{
    return c->faults.mask == 0 && wr_judge_exposed(f, c->scenario) &&
           (wsr_fault_info(f)->detects & wr_case_ran(c)) != 0;
}

bool wr_judge_absent(wsr_fault_id_t f, const wr_case_t *c)
{
    unsigned d = wsr_fault_info(f)->detects & wr_case_ran(c);

    return !wr_case_infra_problem(c) && d == (d & wr_case_verdicts(c, WR_PASS));
}

/* ------------------------------------------------------------------ */
/* Matrix cells                                                         */
/* ------------------------------------------------------------------ */

static const char *const kind_names[WR_CELL__COUNT] = {
    [WR_CELL_NOT_RUN] = "-",
    [WR_CELL_CLEAN] = "clean",
    [WR_CELL_DETECTED] = "DETECTED",
    [WR_CELL_MISSED] = "MISSED",
    [WR_CELL_FALSE_ALARM] = "FALSE ALARM",
    [WR_CELL_ALLOWED] = "allowed",
    [WR_CELL_UNKNOWN] = "UNKNOWN",
    [WR_CELL_ERROR] = "ERROR",
};

const char *wr_cell_kind_name(wr_cell_kind_t k)
{
    return (unsigned)k < WR_CELL__COUNT ? kind_names[k] : "?";
}

wr_cell_kind_t wr_cell_kind_from_name(const char *name)
{
    for (int k = 0; name != NULL && k < WR_CELL__COUNT; k++)
        if (strcmp(kind_names[k], name) == 0)
            return (wr_cell_kind_t)k;
    return WR_CELL__COUNT;
}

bool wr_cell_kind_bad(wr_cell_kind_t k)
{
    return k == WR_CELL_MISSED || k == WR_CELL_FALSE_ALARM ||
           k == WR_CELL_ERROR || k == WR_CELL_UNKNOWN;
}

void wr_judge_count(wr_cell_t *cell, const wr_case_t *c, int k)
{
    bool infra = wr_case_infra_problem(c);

    cell->expected = c->expected[k];
    cell->runs++;
    cell->errors += infra;
    cell->fails += !infra && c->results[k].verdict == WR_FAIL;
    cell->unknown += !infra && c->results[k].verdict == WR_UNKNOWN;
}

void wr_judge_cell(wr_cell_t *c, bool external)
{
    if (c->runs == 0)
        c->kind = WR_CELL_NOT_RUN;
    else if (c->errors > 0)
        c->kind = WR_CELL_ERROR;
    else if (c->expected == WR_EXPECT_FAIL)
        c->kind = c->fails == c->runs ? WR_CELL_DETECTED : WR_CELL_MISSED;
    else if (c->expected == WR_EXPECT_ANY)
        c->kind = c->fails > 0 ? WR_CELL_ALLOWED : WR_CELL_CLEAN;
    else if (c->fails > 0)
        c->kind = WR_CELL_FALSE_ALARM;
    else if (c->unknown > 0 && !external)
        c->kind = WR_CELL_UNKNOWN;
    else
        c->kind = WR_CELL_CLEAN;
}
