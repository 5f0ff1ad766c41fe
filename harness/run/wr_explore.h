/* wr_explore.h - Exploration: iterations with fresh seeds, each a case
 * whose sync points the runner schedules (random or PCT, drive/
 * wr_sched.h) and whose clients may add chaos, until a budget of time or
 * runs ends; every iteration that fails a check nothing promised is a
 * finding, shrunk (run/wr_shrink.h) into a scenario ready to commit.
 *
 * Iterations cycle through the cells (scenario x inject set) of the plan;
 * iteration i of shard I of N runs seed first + (i / cells) * N + I - 1,
 * so shards explore disjoint seeds and `wsrace merge` joins them. With
 * --jobs, child processes take iterations from a shared counter (one
 * gateway each); an external gateway (--url) is explored by one job, its
 * scheduler shared by every iteration. Only findings keep their case
 * directories.
 *
 * Single-threaded but for the jobs. */
#ifndef WR_EXPLORE_H
#define WR_EXPLORE_H

#include <stdbool.h>
#include <stddef.h>

#include "plan/wr_case.h"
#include "plan/wr_schedule.h"
#include "run/wr_run.h"

typedef struct {
    wr_run_opts_t run;        /* which cells (plan.injects, plan.seed,
                                 plan.shard_*), the target, the jobs */
    wr_sched_kind_t strategy; /* WR_SCHED_PCT or WR_SCHED_RANDOM */
    int depth;                /* pct: the bug depth d */
    long runs;                /* iterations at most; 0: no limit */
    double budget_s;          /* seconds of iterations; 0: no limit */
    bool chaos;               /* client chaos in every iteration */
    bool keep_going;          /* explore the whole budget, not stop at the
                                 first finding */
    bool shrink;              /* shrink the findings */
    double shrink_budget_s;   /* seconds per finding */
    int confirm;              /* replays of each shrunk case */
    int max_shrink;           /* findings shrunk at most (distinct
                                 scenario and check first) */
} wr_explore_opts_t;

/* A finding: an iteration that failed a check nothing promised. A case
 * whose injected fault its scenario exposes fails by design: only a
 * check expected to PASS makes it a finding. */
bool wr_explore_is_finding(const wr_case_t *c);

/* Explores and writes the report; fills run (free with wr_run_free).
 * WR_STATUS_OK when the budget ended without a finding,
 * WR_STATUS_UNEXPECTED with one, WR_STATUS_BAD_INPUT when the plan is
 * refused, WR_STATUS_INFRA when iterations could not run,
 * WR_STATUS_INTERRUPTED on a signal (nothing published). */
wr_status_t wr_explore(const wr_explore_opts_t *o,
                       wr_scenario_t *const *scenarios, size_t nscenarios,
                       wr_run_t *run);

#endif
