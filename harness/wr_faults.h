/* wr_faults.h - The fault catalog as the harness sees it: for each fault
 * the gateway can inject, which checks must detect it and which may fail
 * as its known side effects, and the expected verdicts of a case.
 *
 * Static data; any thread. */
#ifndef WR_FAULTS_H
#define WR_FAULTS_H

#include <stdbool.h>
#include <stddef.h>

#include "wr_case.h"
#include "wr_scenario.h"

typedef struct {
    const char *id;        /* "scope-loss", as the gateway names it */
    const char *modes;     /* "crash|error|swallow", or NULL */
    const char *origin;    /* "test 6" of the original report, or NULL */
    const char *title;     /* one line for people */
    unsigned detects;      /* checks that must FAIL when it is exposed */
    unsigned side_effects; /* checks that may FAIL too, and why not */
    const char *why_side;  /* one sentence on the side effects */
    /* Analysis checks (memory_safety, data_race) that must FAIL when the
     * fault runs alone under a tool that looks for such errors, in mode
     * tool_mode (NULL: any mode). */
    unsigned tool_detects;
    const char *tool_mode;
} wr_fault_info_t;

size_t wr_fault_count(void);
const wr_fault_info_t *wr_fault_at(size_t i);

/* The catalog entry of "id" or "id=mode", or NULL when unknown or the mode
 * is not one of its modes. */
const wr_fault_info_t *wr_fault_find(const char *spec);

/* Whether the comma list of fault specs ("id[=mode]") names f. */
bool wr_fault_listed(const wr_fault_info_t *f, const char *list);

/* Whether scenario s (may be NULL) names f in its `exposes`. */
bool wr_fault_exposed(const wr_fault_info_t *f, const wr_scenario_t *s);

/* Whether case c is meant to reproduce f: f alone was injected into a
 * scenario that exposes it. */
bool wr_fault_targeted(const wr_fault_info_t *f, const wr_case_t *c);

/* Whether c reproduced f: its target ran, and every check that detects f
 * ran and failed. Meaningful for a targeted case. */
bool wr_fault_confirmed(const wr_fault_info_t *f, const wr_case_t *c);

/* Whether c is a control for f: nothing injected, a scenario that exposes
 * f, and a check that detects f ran. */
bool wr_fault_control(const wr_fault_info_t *f, const wr_case_t *c);

/* Whether f is absent from control c: its target ran, and every check
 * that detects f and ran passed. */
bool wr_fault_absent(const wr_fault_info_t *f, const wr_case_t *c);

/* Fills expected[] for scenario s run with the faults of inject (a comma
 * list of "id[=mode]", "" for none):
 *  - one fault the scenario exposes: FAIL for the checks that detect it,
 *    ANY for its side effects;
 *  - several faults at once: ANY for the checks that detect an exposed one
 *    and their side effects; when the scenario exposes one of them,
 *    *need_one (when not NULL) gets every check that detects one of the
 *    injected faults: at least one of them must FAIL (one fault can mask
 *    another: a crash ends the case before a duplicate registers);
 *  - a fault the scenario does not expose: ANY for its detecting checks
 *    and side effects (injected, so it may fire; not promised);
 *  - PASS for every other check. */
void wr_faults_expect(const wr_scenario_t *s, const char *inject,
                      wr_expect_t expected[WR_CHECK__COUNT],
                      unsigned *need_one);

/* Fills expected[] of the analysis checks in tool_checks (those the tool
 * in use decides): PASS with nothing injected (the correct gateway must be
 * clean); ANY with faults (a crash dies mid-allocation, a duplicate
 * machine may leak); FAIL where a fault alone, in a scenario that exposes
 * it and in its tool_mode, has the check in its tool_detects. */
void wr_faults_expect_tool(const wr_scenario_t *s, const char *inject,
                           unsigned tool_checks,
                           wr_expect_t expected[WR_CHECK__COUNT]);

#endif
