/* wr_case.h - The outcome of one case (scenario x injected faults x seed)
 * and of one run (every case), as the runner hands them to the reports.
 *
 * Plain data: the runner fills these, the report writers only read them. */
#ifndef WR_CASE_H
#define WR_CASE_H

#include <stdbool.h>
#include <limits.h>
#include <stdint.h>

#include "checks/wr_check.h"
#include "history/wr_history.h"
#include "plan/wr_scenario.h"
#include "plan/wr_schedule.h"
#include "wsr_fault.h"

/* What a verdict is expected to be. */
typedef enum {
    WR_EXPECT_PASS, /* the invariant must hold */
    WR_EXPECT_FAIL, /* the injected fault must be detected by this check */
    WR_EXPECT_ANY,  /* a known side effect of an injected fault: either */
} wr_expect_t;

typedef enum {
    WR_TARGET_OK,       /* started, ran, stopped when asked */
    WR_TARGET_CRASHED,  /* died during the case (signal or exit) */
    WR_TARGET_HUNG,     /* did not stop when asked; killed */
    WR_TARGET_NO_START, /* never printed listening or never healthy */
    WR_TARGET_EXTERNAL, /* --url: not ours to watch */
} wr_target_state_t;

typedef struct {
    char id[256]; /* "NN-scenario-inject-sSEED", a dir name (under
                     NAME_MAX: the name and the fault list are bounded) */
    size_t index; /* 0-based position in the whole (unsharded) plan */
    const wr_scenario_t *scenario;
    wsr_faults_t faults; /* injected */
    char inject[WSR_FAULTS_TEXT_MAX]; /* faults as their canonical list
                                         (wsr_faults_format); "" for none */
    unsigned long long seed;
    int repeat; /* 0-based repetition index */

    bool ran[WSR_CHECK__COUNT]; /* the check was selected */
    wr_check_result_t results[WSR_CHECK__COUNT];
    wr_expect_t expected[WSR_CHECK__COUNT];
    /* Checks of which at least one must FAIL: several faults injected at
     * once, where one may mask another (a crash hides a duplicate). */
    unsigned need_one;
    bool as_expected; /* every selected verdict matched */
    bool no_sync;     /* run without the scenario's sync actions */
    /* Client-side chaos in force (on=false: the scenario's own). */
    wr_chaos_t chaos;
    /* How the target's sync points are scheduled (docs/sync-control.md);
     * kind NONE and not controlled: the target runs without a scheduler.
     * recorded: the releases that happened, the schedule that replays the
     * case (owned by the case, freed by wr_run_clear). */
    bool controlled;
    wr_schedule_t sched;
    wr_schedule_t recorded;
    size_t sched_arrivals; /* arrivals the scheduler saw */
    /* A replay: its steps, those whose arrival did not come in time (the
     * run diverged there), and those released ahead of their turn. */
    size_t sched_steps, sched_diverged, sched_ahead;
    uint64_t interleaving; /* hash of the order of the releases */

    wr_target_state_t target_state;
    int target_exit_code;   /* -1 when killed by a signal / unknown */
    int target_signal;      /* 0 when none */
    char target_error[256]; /* why it could not run; "" when fine */
    char topology[160];     /* a cluster's gateways, for people: "3
                               instances sharing a Redis registry (...)";
                               "" for a lone gateway */

    int64_t duration_ns;   /* whole case */
    int64_t gateway_up_ns; /* spawn to /healthz */
    int64_t first_fail_ns; /* gateway up to the first failing
                              evidence event; -1 when no FAIL */
    /* The early verdict (--early-verdict): early_end when the case ended
     * at its first conclusive failure, of check early_check, early_ns
     * after the gateway was up; early_confirmed: the whole history failed
     * that check too. */
    bool early_end;
    bool early_confirmed;
    int early_check;
    int64_t early_ns;
    int clients;           /* clients in the scenario */
    int established;       /* clients that got connection_established */
    int steps_failed;      /* expect/connect steps not met */

    char replay[2 * PATH_MAX]; /* one shell command that re-runs this case
                                  (wr_case_set_replay) */
    char dir[272];     /* case directory, relative to the run dir:
                          "cases/<id>" */
    /* The case's first event (its time origin) and every evidence event;
     * the whole history is cases/<id>/history.jsonl. */
    const wr_history_t *history;
} wr_case_t;

/* How a command ended, as the libraries say it; main() alone turns it
 * into an exit code. Ordered by weight: combining two keeps the worse
 * (wr_status_worse). */
typedef enum {
    WR_STATUS_OK,          /* every verdict as expected */
    WR_STATUS_UNEXPECTED,  /* a verdict, the matrix or the baseline was not */
    WR_STATUS_BAD_INPUT,   /* bad usage or input: nothing was run */
    WR_STATUS_INFRA,       /* a target could not be run, or a report not
                              written */
    WR_STATUS_INTERRUPTED, /* stopped by a signal: nothing published */
} wr_status_t;

/* The worse of a and b. */
wr_status_t wr_status_worse(wr_status_t a, wr_status_t b);

/* "ok", "unexpected", "bad-input", "infra", "interrupted". */
const char *wr_status_name(wr_status_t s);

/* The status called name; WR_STATUS_INFRA for an unknown name. */
wr_status_t wr_status_from_name(const char *name);

/* One sentence for people: "every verdict as expected", ... */
const char *wr_status_meaning(wr_status_t s);

struct wr_matrix_s;
struct wr_matrix_diff_s;
struct wr_explored_s; /* plan/wr_explored.h */

typedef struct {
    char id[64];          /* run id: "20261126T162000Z-1234" */
    char dir[PATH_MAX];   /* final directory reports/<id> */
    char argv_text[2048]; /* the command line, as run */
    unsigned long long seed;
    char target[512];     /* gateway path, or the --url */
    bool external;        /* --url */
    int64_t started_unix; /* wall clock, for people */
    int64_t duration_ns;
    wr_case_t *cases; /* in plan order (index) */
    size_t ncases;
    wr_status_t status; /* how the run ended */

    char kind[16];    /* "run" | "matrix" | "replay" | "explore" |
                         "shrink" */
    char tool[16];    /* analysis tool of the gateway: "memcheck",
                         "asan", ...; "" for none */
    int shard_index;  /* 1-based; 0 when not sharded */
    int shard_count;  /* 0 when not sharded */
    size_t planned;   /* cases in the whole plan, every shard */
    char plan_id[17]; /* hash of the plan: shards of one plan share it */
    /* The scenarios of the run, in plan order (matrix columns). */
    wr_scenario_t **scenarios;
    size_t nscenarios;
    bool owns_scenarios; /* loaded from a summary: freed with the run */
    /* The inject sets, in plan order (matrix rows). */
    wsr_faults_t *injects;
    size_t ninjects;
    /* `wsrace explore`: what was explored and found; NULL otherwise.
     * Owned (freed with the run). */
    struct wr_explored_s *explored;
    struct wr_matrix_s *matrix;        /* built before reports are written */
    struct wr_matrix_diff_s *baseline; /* when compared with a baseline */
} wr_run_t;

const char *wr_expect_name(wr_expect_t e); /* "PASS" | "FAIL" | "ANY" */

/* The expectation called name, or -1. */
int wr_expect_from_name(const char *name);

/* The checks of c that ran, as a mask of 1u << id. */
unsigned wr_case_ran(const wr_case_t *c);

/* The checks of c that ran and gave verdict v, as a mask of 1u << id. */
unsigned wr_case_verdicts(const wr_case_t *c, wr_verdict_t v);

/* Writes into c->replay the command that replays c from its replay.json
 * under run_dir: "SELF replay RUN_DIR/cases/ID/replay.json", each word
 * quoted for a POSIX shell where it needs it. Returns 0, or -ENAMETOOLONG
 * (c->replay is then ""). */
int wr_case_set_replay(wr_case_t *c, const char *self, const char *run_dir);

/* Whether the target could not be run or would not stop (no-start, hung,
 * or an error recorded for it): the verdicts of c then prove nothing. A
 * crash is not one: it is what some faults do. */
/* Whether id can name a case directory inside a run: not empty, not "."
 * or "..", only letters, digits and ".+-_", shorter than NAME_MAX. Ids
 * read from files (summaries, exploration records) must pass. */
bool wr_case_id_ok(const char *id);

/* Sets up c (zeroed first) to run scenario s with faults f on seed:
 * its index, its id "PREFIX-scenario-faults-sSEED" (prefix: the
 * position, "%02zu" of index + 1, when NULL) and its directory
 * "cases/<id>". */
void wr_case_init(wr_case_t *c, size_t index, const wr_scenario_t *s,
                  const wsr_faults_t *f, unsigned long long seed,
                  const char *prefix);

bool wr_case_infra_problem(const wr_case_t *c);
const char *wr_target_state_name(wr_target_state_t s);

#endif
