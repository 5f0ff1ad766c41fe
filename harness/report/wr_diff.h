/* wr_diff.h - Two runs compared check by check: what newly fails, what
 * newly passes, what still fails, and where a failure's evidence changed.
 *
 * Cases are matched on (scenario, faults, seed); a case left over on each
 * side is then matched on (scenario, seed) alone, so a run with a fault
 * injected and one without it compare case to case. Plain data. */
#ifndef WR_DIFF_H
#define WR_DIFF_H

#include <stdio.h>

#include "plan/wr_case.h"

typedef enum {
    WR_DIFF_NEWLY_FAILING, /* FAIL now, not FAIL before (or not run) */
    WR_DIFF_NEWLY_PASSING, /* FAIL before, PASS now */
    WR_DIFF_STILL_FAILING, /* FAIL in both, same evidence */
    WR_DIFF_EVIDENCE,      /* FAIL in both, the evidence changed */
    WR_DIFF_OTHER,         /* any other verdict change (UNKNOWN, gone) */
    WR_DIFF__COUNT
} wr_diff_kind_t;

typedef struct {
    wr_diff_kind_t kind;
    const wr_case_t *old_case, *new_case; /* either may be NULL */
    int check;                            /* wsr_check_id_t */
    char was[16], now[16];                /* verdict names; "-" not run */
} wr_diff_row_t;

typedef struct {
    wr_diff_row_t *rows;
    size_t nrows;
    size_t count[WR_DIFF__COUNT];
    size_t only_old, only_new; /* cases with no partner */
    size_t matched;
} wr_diff_t;

/* Compares every case of old and new. Returns 0 or -ENOMEM. */
int wr_diff_runs(const wr_run_t *old, const wr_run_t *new_run, wr_diff_t *d);
void wr_diff_free(wr_diff_t *d);

/* Prints d for people, grouped by kind. */
void wr_diff_print(const wr_diff_t *d, FILE *out);

const char *wr_diff_kind_name(wr_diff_kind_t k);

#endif
