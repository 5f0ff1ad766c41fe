/* wr_judge.h - The judge: what a case is expected to give, whether it
 * gave it, and what a matrix cell of many cases says.
 *
 * The one place that reads the fault catalog's claims (common/wsr_fault.h)
 * against scenarios and verdicts (docs/DESIGN.md, "The judge's rules"):
 *  - expectations: a fault injected alone into a scenario that exposes it
 *    must be detected (FAIL from each of its `detects` checks), its side
 *    effects may go either way; several faults at once owe one detection
 *    among them (need-one: one can mask another); a fault the scenario
 *    does not expose may fire but need not; everything else must PASS;
 *  - as-expected: a verdict meets its expectation (ANY takes all, an
 *    external target's UNKNOWN meets PASS), and need-one is met;
 *  - per fault: a case targets it, confirms it, is its control, shows it
 *    absent;
 *  - matrix cells: DETECTED, MISSED, FALSE ALARM, allowed, clean, ...
 * Pure functions of plain data; any thread. */
#ifndef WR_JUDGE_H
#define WR_JUDGE_H

#include <stdbool.h>

#include "checks/wr_check.h"
#include "plan/wr_case.h"
#include "plan/wr_scenario.h"
#include "wsr_fault.h"

/* ------------------------------------------------------------------ */
/* One case                                                             */
/* ------------------------------------------------------------------ */

/* Fills expected[] for scenario s run with inject; tool_checks are the
 * analysis checks the run's tool decides (0 without a tool): PASS with
 * nothing injected, FAIL where a fault alone in a scenario exposing it
 * (in its tool mode) names the check in tool_detects, else ANY. *need_one
 * (when not NULL) gets the checks of which one must FAIL, 0 when none. */
void wr_judge_expect(const wr_scenario_t *s, const wsr_faults_t *inject,
                     unsigned tool_checks,
                     wr_expect_t expected[WSR_CHECK__COUNT],
                     unsigned *need_one);

/* Whether verdict v meets expectation e: ANY takes every verdict, PASS
 * and FAIL only themselves, except that against an external target (no
 * trace to decide from) UNKNOWN meets PASS too. This function can't
 * fail. */
bool wr_judge_verdict_ok(wr_verdict_t v, wr_expect_t e, bool external);

/* Whether check k of c went as expected. */
bool wr_judge_check_ok(const wr_case_t *c, int k);

/* Sets c->as_expected from its ran[], results[], expected[] and
 * need_one: every check that ran met its expectation, and one of
 * need_one failed when it is set. */
void wr_judge_case(wr_case_t *c);

/* ------------------------------------------------------------------ */
/* One fault across cases                                               */
/* ------------------------------------------------------------------ */

/* Whether scenario s (may be NULL) names f in its `exposes`, any mode. */
bool wr_judge_exposed(wsr_fault_id_t f, const wr_scenario_t *s);

/* Whether c is meant to reproduce f: f alone was injected into a
 * scenario that exposes it. */
bool wr_judge_targeted(wsr_fault_id_t f, const wr_case_t *c);

/* Whether c reproduced f: its target ran, and every check that detects f
 * ran and failed. Meaningful for a targeted case. */
bool wr_judge_confirmed(wsr_fault_id_t f, const wr_case_t *c);

/* Whether c is a control for f: nothing injected, a scenario that
 * exposes f, and a check that detects f ran. */
bool wr_judge_control(wsr_fault_id_t f, const wr_case_t *c);

/* Whether f is absent from control c: its target ran, and every check
 * that detects f and ran passed. */
bool wr_judge_absent(wsr_fault_id_t f, const wr_case_t *c);

/* ------------------------------------------------------------------ */
/* Matrix cells                                                         */
/* ------------------------------------------------------------------ */

typedef enum {
    WR_CELL_NOT_RUN,     /* the check did not run in this scenario */
    WR_CELL_CLEAN,       /* never failed (and did not have to) */
    WR_CELL_DETECTED,    /* required to fail, failed on every seed */
    WR_CELL_MISSED,      /* required to fail, passed on some seed */
    WR_CELL_FALSE_ALARM, /* required to pass, failed on some seed */
    WR_CELL_ALLOWED,     /* failed, and may: a side effect of an injected
                            fault, or a fault the scenario does not promise
                            to expose fired anyway */
    WR_CELL_UNKNOWN,     /* no verdict on some seed (no trace: --url) */
    WR_CELL_ERROR,       /* the target could not be run or stopped */
    WR_CELL__COUNT
} wr_cell_kind_t;

/* What one check did in one row (inject set) and scenario, over seeds. */
typedef struct {
    wr_cell_kind_t kind;
    wr_expect_t expected; /* of the check in this row and scenario */
    int runs;             /* cases counted (seeds) */
    int fails;            /* of them, verdict FAIL */
    int unknown;          /* of them, verdict UNKNOWN */
    int errors;           /* of them, infrastructure problems */
} wr_cell_t;

/* Adds case c's verdict of check k to cell (c ran k). */
void wr_judge_count(wr_cell_t *cell, const wr_case_t *c, int k);

/* Sets cell->kind from its counts and expectation; external: the run
 * drove a gateway it has no trace of, where UNKNOWN is what PASS
 * looks like. */
void wr_judge_cell(wr_cell_t *cell, bool external);

/* "DETECTED", "MISSED", "FALSE ALARM", "clean", "allowed", "UNKNOWN",
 * "ERROR", "-" (not run); "?" out of range. */
const char *wr_cell_kind_name(wr_cell_kind_t k);

/* The kind called name, or WR_CELL__COUNT. */
wr_cell_kind_t wr_cell_kind_from_name(const char *name);

/* Whether a cell of kind k makes a run fail (MISSED, FALSE ALARM, ERROR,
 * UNKNOWN). */
bool wr_cell_kind_bad(wr_cell_kind_t k);

#endif
