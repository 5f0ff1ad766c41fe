/* wr_early.h - The early verdict: a case that ends at its first
 * conclusive failure instead of playing its scenario out.
 *
 * While the clients run, a watcher thread judges the safety checks over
 * what has been seen so far: the clients' events as the engine records
 * them (wr_early_tap) and the gateway's trace as it is written (each
 * event is one write(2), so the file always holds whole lines but the
 * last). The checks it may end a case on are the prefix-closed ones
 * (WR_EARLY_CHECKS): each decides a violation at an event from what came
 * before it, so a failure seen on a prefix of the history stays a failure
 * on the whole.
 *
 * A case ends early once its verdict is decided: a check that must pass
 * has failed (an unexpected failure: the case is not as expected whatever
 * follows), or every check that must fail has failed (and one of
 * need_one) while all of them are prefix-closed ones. A case whose fault
 * only liveness or registry_leak can see runs out, however many allowed
 * side effects fail on the way. The decision must hold over newer data
 * for a settle time (events of two sources are not written at the very
 * moment they happen) before the watcher sets the flag that ends it.
 *
 * The verdict is still the one of the whole (shortened) history, judged
 * after the run like any other; wr_early_settle() then says which other
 * checks a shortened run cannot judge. The watcher only chooses when the
 * case ends.
 *
 * Threads: wr_early_tap may be called from any number of threads at once
 * (the engine's service threads); the others from the runner's. */
#ifndef WR_EARLY_H
#define WR_EARLY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "checks/wr_check.h"
#include "history/wr_history.h"
#include "plan/wr_case.h"

/* The checks a case may end on: each decides a violation from the events
 * before it. liveness, registry_leak, no_lost_messages and steps need the
 * end of the case; memory_safety and data_race the tool's report. */
#define WR_EARLY_CHECKS                                                     \
    (WSR_CHECK_BIT(WSR_CHECK_SCOPE_LOSS) |                                  \
     WSR_CHECK_BIT(WSR_CHECK_FALSE_READINESS) |                             \
     WSR_CHECK_BIT(WSR_CHECK_DUPLICATE_REGISTRATION) |                      \
     WSR_CHECK_BIT(WSR_CHECK_COORDINATOR_GAP) |                             \
     WSR_CHECK_BIT(WSR_CHECK_ISOLATION) | WSR_CHECK_BIT(WSR_CHECK_IDENTITY))

#define WR_EARLY_MAX_TRACES 8

typedef struct {
    /* Gateway trace files to follow (a cluster has one per process);
     * none for a gateway at --url, whose checks go black-box. */
    const char *traces[WR_EARLY_MAX_TRACES];
    size_t ntraces;
    unsigned mask;      /* of WR_EARLY_CHECKS: those the case runs */
    /* The case's expectations (wr_judge_expect): checks that must pass,
     * checks that must fail, and need_one (one of them must fail). */
    unsigned must_pass, must_fail, need_one;
    int64_t settle_ns;  /* a failure holds this long before the end */
    size_t max_events;  /* beyond this many, the watcher stops judging */
    atomic_int *end;    /* set to end the case */
} wr_early_opts_t;

typedef struct {
    bool fired;      /* the watcher ended the case */
    int check;       /* on which check's failure (a wsr_check_id_t): one
                        that must pass, else one that must fail */
    int64_t ns;      /* when it set the flag (monotonic) */
    int64_t fail_ns; /* the failing evidence's time, as first seen */
    size_t judged;   /* judgements made */
} wr_early_result_t;

typedef struct wr_early wr_early_t;

/* Sets o's expectations (must_pass, must_fail, need_one) for a case of
 * scenario s with faults f, as the judge will hold it to them. */
void wr_early_expect(wr_early_opts_t *o, const wr_scenario_t *s,
                     const wsr_faults_t *f);

/* Starts the watcher. Returns 0 or negative errno. */
int wr_early_start(wr_early_t **out, const wr_early_opts_t *o);

/* A client event's JSON line, as the engine records it (ctx: the
 * watcher), kept and later freed by the watcher; NULL (a line the engine
 * could not make) stops the judging, since a lost event could hide an
 * order. Any thread. */
void wr_early_tap(void *ctx, char *line);

/* Stops and joins the watcher, fills *out, frees e. NULL is accepted
 * (then *out says it never fired). */
void wr_early_stop(wr_early_t *e, wr_early_result_t *out);

/* After the run's own checks of case c, when the watcher ended it
 * (r->fired): a check outside WR_EARLY_CHECKS is not judged (the rest of
 * the scenario did not run: neither a pass nor a failure of liveness,
 * registry_leak, no_lost_messages or steps over a case cut short means
 * anything), unless the check the case ended on does not fail over the
 * whole history after all: then each of them says UNKNOWN and why. Sets
 * c->early_*. Returns whether the end was confirmed (true when the
 * watcher did not fire). */
bool wr_early_settle(wr_case_t *c, const wr_early_result_t *r);

#endif
