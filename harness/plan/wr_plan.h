/* wr_plan.h - A run's plan: which cases to run (scenario x inject set x
 * seed), in which order, which of them this shard runs, and the name every
 * shard of one plan shares.
 *
 * Inject sets are parsed once, from the command line, into wr_inject_t;
 * nothing after the plan reads fault lists as text. A plan is a pure
 * function of its inputs: the same scenarios, sets and seeds give the same
 * cases with the same indices and ids on every machine, which is what
 * makes shards mergeable and a case replayable. Single-threaded. */
#ifndef WR_PLAN_H
#define WR_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "plan/wr_case.h"
#include "plan/wr_scenario.h"
#include "wsr_fault.h"

/* What an --inject value asks for. */
typedef enum {
    WR_INJECT_SCENARIO, /* no --inject: each scenario's gateway.inject */
    WR_INJECT_NONE,     /* "none": nothing */
    WR_INJECT_EXPOSED,  /* "exposed": each scenario's `exposes` */
    WR_INJECT_SET,      /* a list of faults */
} wr_inject_kind_t;

typedef struct {
    wr_inject_kind_t kind;
    wsr_faults_t set; /* WR_INJECT_SET */
} wr_inject_t;

/* Parses an --inject value: "none", "exposed" or a fault list. Returns 0,
 * or -EINVAL with a message naming the bad item in err. */
int wr_inject_parse(const char *text, wr_inject_t *out, char *err,
                    size_t errlen);

/* The faults inj stands for in scenario s. */
wsr_faults_t wr_inject_resolve(const wr_inject_t *inj, const wr_scenario_t *s);

/* The rows of a matrix: nothing, each fault alone (and each mode a
 * scenario exposes), and the seed bugs together; or, with faults not
 * NULL, "none" and the rows that list names (fault specs, or "seed-bugs"
 * for the seed bugs together). Allocates *rows (free it). Returns 0,
 * -EINVAL with the reason in err, or -ENOMEM. */
int wr_plan_matrix_rows(wr_scenario_t *const *scs, size_t n,
                        const char *faults, wr_inject_t **rows,
                        size_t *nrows, char *err, size_t errlen);

typedef struct {
    const char *kind;          /* "run", "matrix", "replay", ... */
    const wr_inject_t *injects; /* one case set per entry */
    size_t ninjects;           /* 0: each scenario's own gateway.inject */
    unsigned long long seed;   /* first seed */
    int repeat;                /* seeds seed .. seed+repeat-1 */
    bool no_sync;              /* without the scenarios' sync actions */
    const wr_chaos_t *chaos;   /* client chaos for every case (--chaos),
                                  or NULL: each scenario's own */
    const wr_schedule_t *sched; /* the sync points' schedule of every
                                   case, or NULL: the scenario's pinned
                                   one, if any */
    bool external;             /* the target is not ours: no faults */
    bool fit_faults;           /* a matrix: a cluster's faults are planned
                                  for cluster scenarios only (else such a
                                  case is an error) */
    int shard_index;           /* run only shard I of N (1-based) ... */
    int shard_count;           /* ... of the whole plan; 0: no shards */
} wr_plan_opts_t;

/* Plans every case into run (zeroed first; free with wr_run_clear or
 * wr_run_free): scenario x inject set x seed, skipping a set that repeats
 * an earlier one for the same scenario ("exposed" and "none" for a
 * scenario that exposes nothing) and, with fit_faults, a set holding a
 * fault of a cluster for a scenario that runs no cluster. Every case gets its index in the whole
 * plan, its id and its directory name; with shards only the cases of this
 * shard (index % N == I - 1) are kept. Sets run->scenarios, ->injects,
 * ->planned, ->plan_id, ->kind, ->seed and the shard fields. Returns 0,
 * -EINVAL with the reason in err (faults for an external target, a
 * fault of a cluster for a lone gateway), or -ENOMEM. */
int wr_plan_build(wr_run_t *run, const wr_plan_opts_t *o,
                  wr_scenario_t *const *scs, size_t n, char *err,
                  size_t errlen);

/* Frees what a run record holds (cases, their histories, the scenarios
 * when it owns them, the inject sets) and zeroes it. The matrix and the
 * baseline comparison must have been released first (wr_run_free in
 * run/ does both). */
void wr_run_clear(wr_run_t *run);

#endif
