/* wr_sched.h - The runner's side of the sync-control protocol
 * (docs/sync-control.md): the scheduler that decides in which order a
 * target's parked arrivals at its sync points go on.
 *
 * A scheduler listens on a Unix socket; the target connects and reports
 * each arrival, and waits. The strategy chooses which parked arrival to
 * release:
 *   none    each at once (the target runs as if uncontrolled)
 *   random  a parked arrival at random, once nothing new has arrived for
 *           the quantum (or every worker is parked)
 *   pct     PCT (probabilistic concurrency testing): each connection gets
 *           a random priority, depth-1 change points are drawn among the
 *           expected arrivals, the highest-priority parked arrival goes;
 *           at change point i the released connection's priority drops to
 *           i, below every initial one
 *   replay  the releases of a recorded schedule, in order, each once the
 *           target is as quiet as the recording waited for; an arrival
 *           is found again by (point, session, occurrence); one no step
 *           left names is free and goes at once (a shrunk schedule pins
 *           only the releases that matter); a step whose arrival does not
 *           come while the target idles for the wait is skipped (a
 *           divergence)
 * Every arrival and release is kept, on the monotonic clock, to become
 * sched.arrive and sched.release events of the case's history; the
 * releases make the schedule that replays the case.
 *
 * Threads: one scheduler thread serves the socket; the wr_sched_*
 * functions may be called from one other thread (the runner's). */
#ifndef WR_SCHED_H
#define WR_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "history/wr_history.h"
#include "plan/wr_schedule.h"

typedef struct {
    size_t arrivals;  /* arrivals reported */
    size_t decisions; /* releases the strategy chose among several */
    size_t forced;    /* releases because nothing else could arrive */
    size_t replayed;  /* releases a recorded step named */
    size_t freed;     /* replay: releases no step left named */
    size_t diverged;  /* replay waits that ended without the arrival */
    size_t timeouts;  /* arrivals the target gave up waiting for */
    int targets;      /* target connections that said hello */
} wr_sched_stats_t;

typedef struct wr_sched wr_sched_t;

/* Listens at path (created, mode 0600; an existing socket file there is
 * replaced, anything else refused) and starts the scheduler thread with
 * strategy o (copied; a replay's steps too). Returns 0 or negative
 * errno. */
int wr_sched_start(wr_sched_t **out, const char *path,
                   const wr_schedule_t *o);

/* Starts a new run on the same scheduler and the same target connection:
 * the strategy o, empty records. Any thread but the scheduler's. */
int wr_sched_restart(wr_sched_t *s, const wr_schedule_t *o);

/* Releases every parked arrival, closes the socket and every target
 * connection, removes the socket file, joins the thread and frees s.
 * NULL is accepted. */
void wr_sched_stop(wr_sched_t *s);

/* Whether a target has connected (said hello) by now. */
bool wr_sched_connected(wr_sched_t *s);

/* Appends the run's sched.arrive and sched.release events to h as
 * harness events. Returns 0 or negative errno. */
int wr_sched_record(wr_sched_t *s, wr_history_t *h);

/* The run's releases in order: the schedule that replays it. Allocates
 * *out (free it). Returns the count. */
size_t wr_sched_schedule(wr_sched_t *s, wr_sched_step_t **out);

/* The run's counts so far. */
void wr_sched_stats(wr_sched_t *s, wr_sched_stats_t *out);

#endif
