/* wr_case.h - The outcome of one case (scenario x injected faults x seed)
 * and of one run (every case), as the runner hands them to the reports.
 *
 * Plain data: the runner fills these, the report writers only read them. */
#ifndef WR_CASE_H
#define WR_CASE_H

#include <stdbool.h>
#include <stdint.h>

#include "wr_check.h"
#include "wr_history.h"
#include "wr_scenario.h"

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
    char id[160]; /* "NN-scenario-inject-sSEED", a dir name */
    size_t index; /* 0-based position in the whole (unsharded) plan */
    const wr_scenario_t *scenario;
    char inject[256]; /* faults injected, comma list; "" for none */
    unsigned long long seed;
    int repeat; /* 0-based repetition index */

    bool ran[WR_CHECK__COUNT]; /* the check was selected */
    wr_check_result_t results[WR_CHECK__COUNT];
    wr_expect_t expected[WR_CHECK__COUNT];
    /* Checks of which at least one must FAIL: several faults injected at
     * once, where one may mask another (a crash hides a duplicate). */
    unsigned need_one;
    bool as_expected; /* every selected verdict matched */
    bool no_sync;     /* run without the scenario's sync actions */

    wr_target_state_t target_state;
    int target_exit_code;   /* -1 when killed by a signal / unknown */
    int target_signal;      /* 0 when none */
    char target_error[256]; /* why it could not run; "" when fine */

    int64_t duration_ns;   /* whole case */
    int64_t gateway_up_ns; /* spawn to /healthz */
    int64_t first_fail_ns; /* gateway up to the first failing
                              evidence event; -1 when no FAIL */
    int clients;           /* clients in the scenario */
    int established;       /* clients that got connection_established */
    int steps_failed;      /* expect/connect steps not met */

    char replay[2048]; /* one command that re-runs this case */
    char dir[512];     /* case directory, relative to the run dir */
    /* The case's first event (its time origin) and every evidence event;
     * the whole history is cases/<id>/history.jsonl. */
    const wr_history_t *history;
} wr_case_t;

struct wr_matrix_s;
struct wr_matrix_diff_s;

typedef struct {
    char id[64];          /* run id: "20261126T162000Z-1234" */
    char dir[1024];       /* final directory reports/<id> */
    char argv_text[2048]; /* the command line, as run */
    unsigned long long seed;
    char target[512];     /* gateway path, or the --url */
    bool external;        /* --url */
    int64_t started_unix; /* wall clock, for people */
    int64_t duration_ns;
    wr_case_t *cases; /* in plan order (index) */
    size_t ncases;
    int exit_code; /* 0 | 1 | 3 as the CLI returns it */

    char kind[16];    /* "run" | "matrix" | "replay" | "merge" */
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
    /* The inject sets, in plan order (matrix rows), comma lists. */
    char (*injects)[256];
    size_t ninjects;
    struct wr_matrix_s *matrix;        /* built before reports are written */
    struct wr_matrix_diff_s *baseline; /* when compared with a baseline */
} wr_run_t;

const char *wr_expect_name(wr_expect_t e); /* "PASS" | "FAIL" | "ANY" */

/* The checks of c that ran, as a mask of 1u << id. */
unsigned wr_case_ran(const wr_case_t *c);

/* The checks of c that ran and gave verdict v, as a mask of 1u << id. */
unsigned wr_case_verdicts(const wr_case_t *c, wr_verdict_t v);

/* Whether the target could not be run or would not stop (no-start, hung,
 * or an error recorded for it): the verdicts of c then prove nothing. A
 * crash is not one: it is what some faults do. */
bool wr_case_infra_problem(const wr_case_t *c);
const char *wr_target_state_name(wr_target_state_t s);

#endif
