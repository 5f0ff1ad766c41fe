/* wr_shrink.h - Shrinking: a failing case reduced to a small one that
 * still fails the same check, written as a ready-to-commit scenario with
 * its schedule pinned.
 *
 * The case is what a replay.json holds (scenario text, faults, seed,
 * chaos, the recorded schedule). The shrinker applies reductions (plan/
 * wr_reduce.h) greedily, cheapest and biggest first, each kept only when
 * a run of the variant still fails the check: the schedule dropped
 * altogether, chaos off (or one kind of it off), client groups removed
 * (delta debugging over groups), counts lowered, the scenario's own sync
 * actions and each group's steps removed (delta debugging), then the
 * pinned releases: those of clients no longer there, the longest tail
 * that can run free, and any other release that can (delta debugging
 * again). Rounds repeat until one changes nothing or the budget ends;
 * what it has by then is the result. The result is then replayed
 * `confirm` times to measure how faithfully it reproduces.
 *
 * Single-threaded; every case it runs is a case of wr_run_case, in its
 * own directory under the work directory, removed afterwards. */
#ifndef WR_SHRINK_H
#define WR_SHRINK_H

#include <stdbool.h>
#include <stddef.h>

#include "plan/wr_explored.h"
#include "plan/wr_replay.h"
#include "run/wr_run.h"
#include "wsr_check.h"

typedef struct {
    const wr_run_opts_t *run; /* gateway or URL, secret, time scale, stop */
    struct wr_sched *shared;  /* the external gateway's scheduler, or NULL */
    double budget_s;          /* seconds for the reductions (default 60) */
    int confirm;              /* replays of the result (default 5) */
    const char *workdir;      /* where candidates run (exists) */
    bool quiet;               /* no progress lines */
} wr_shrink_opts_t;

typedef struct {
    char *yaml;               /* the shrunk scenario's text (owned) */
    wr_scenario_t *scenario;  /* parsed from it (owned) */
    wr_case_t kase;           /* a confirming run of it, in dest */
    wr_case_size_t before, after;
    int runs;                 /* cases run while reducing */
    double seconds;           /* time spent reducing */
    int confirmed;            /* confirming runs that failed the check */
    int confirm_runs;
    /* The first failing run of the original (as a scenario of its own),
     * when orig_dest was given; original_scenario NULL otherwise. */
    wr_case_t original;
    wr_scenario_t *original_scenario;
} wr_shrink_result_t;

/* The check a failing case is shrunk on: the first FAIL that was not
 * expected, else the first FAIL; -1 when c failed none. */
int wr_shrink_target(const wr_case_t *c);

/* The check the verdicts of a replay file name as failed (same rule on
 * its recorded verdicts); -1 when none failed. */
int wr_shrink_target_replay(const wr_replay_t *r);

/* Shrinks the case of r on check, then replays the result o->confirm
 * times; the kept confirming run (a failing one if any) ends in the
 * directory dest (which must not exist), with the shrunk scenario beside
 * it as scenario.yaml, and its case is named with id. name is the shrunk
 * scenario's name. The original runs first (up to three times, until it
 * fails); with orig_dest its failing run is kept there as case orig_id.
 * Returns WR_STATUS_OK (out holds the result: free it
 * with wr_shrink_result_clear), WR_STATUS_UNEXPECTED when the original
 * case does not fail the check even once in three runs (nothing to
 * shrink), WR_STATUS_INTERRUPTED, or WR_STATUS_INFRA. */
wr_status_t wr_shrink(const wr_shrink_opts_t *o, const wr_replay_t *r,
                      wsr_check_id_t check, const char *name,
                      const char *orig_dest, const char *orig_id,
                      const char *dest, const char *id,
                      wr_shrink_result_t *out);

void wr_shrink_result_clear(wr_shrink_result_t *r);

/* Moves res's cases (the original when kept, then the shrunk one) and
 * scenarios into run, whose explored record must exist (it comes to own
 * the scenarios), gives them replay commands (self: how wsrace was
 * invoked), and fills finding f: the check, the ids, the YAML's
 * path, the sizes and the shrinker's counts. res keeps nothing else
 * worth freeing but may still be cleared. Returns 0 or negative errno. */
int wr_shrink_into_run(wr_run_t *run, wr_shrink_result_t *res,
                       wsr_check_id_t check, const char *self,
                       wr_finding_t *f);

#endif
