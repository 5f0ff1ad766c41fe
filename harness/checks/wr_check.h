/* wr_check.h - Checkers: pure functions from a history to a verdict.
 *
 * Each checker reads a sorted history (wr_history_sort) and decides one
 * invariant: PASS, FAIL, or UNKNOWN when the history cannot tell (no trace
 * for a check that needs one, or a gateway that died before the check's
 * moment). A FAIL carries the minimal evidence: the few events, in history
 * order, that prove it, and one sentence saying what they prove.
 *
 * Checkers share no state and may run on any thread. */
#ifndef WR_CHECK_H
#define WR_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "history/wr_history.h"
#include "wsr_check.h"

typedef enum {
    WR_PASS,
    WR_FAIL,
    WR_UNKNOWN,
} wr_verdict_t;

#define WR_EVIDENCE_MAX 8 /* events kept as evidence for one verdict */

typedef struct {
    wsr_check_id_t id;
    wr_verdict_t verdict;
    char summary[512]; /* one sentence: what was seen, or why UNKNOWN */
    size_t nevidence;
    const wr_event_t *evidence[WR_EVIDENCE_MAX]; /* in history order */
    size_t violations; /* how many violations were found in all */
} wr_check_result_t;

/* Time bounds; 0 (or opts NULL) means no bound. */
typedef struct {
    int64_t ready_timeout_ns;   /* liveness: auth.ok → welcome bound */
    int64_t message_timeout_ns; /* no_lost_messages: send → completed */
} wr_check_opts_t;

/* "PASS" | "FAIL" | "UNKNOWN"; "?" out of range. */
static inline const char *wr_verdict_name(wr_verdict_t v)
{
    return v == WR_PASS   ? "PASS"
           : v == WR_FAIL ? "FAIL"
           : v == WR_UNKNOWN ? "UNKNOWN"
                             : "?";
}

/* The verdict called name ("PASS", "FAIL", "UNKNOWN"), or -1. */
static inline int wr_verdict_from_name(const char *name)
{
    for (int v = WR_PASS; name != NULL && v <= WR_UNKNOWN; v++)
        if (__builtin_strcmp(name, wr_verdict_name((wr_verdict_t)v)) == 0)
            return v;
    return -1;
}

/* Runs the checkers whose bit (1u << id) is set in mask on h, sharing the
 * work they have in common; out[id] is fully written for every id, and
 * says "not run" for those outside mask. */
void wr_check_all(const wr_history_t *h, const wr_check_opts_t *opts,
                  unsigned mask, wr_check_result_t out[WSR_CHECK__COUNT]);

/* Runs one checker on h. out is fully written. */
void wr_check_run(wsr_check_id_t id, const wr_history_t *h,
                  const wr_check_opts_t *opts, wr_check_result_t *out);

#endif
