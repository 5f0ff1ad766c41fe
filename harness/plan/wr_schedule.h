/* wr_schedule.h - How a case's sync points are scheduled: the strategy
 * (none, random, pct, replay), its parameters, and a recorded schedule
 * (the releases in order) that replays a case.
 *
 * Plain data, part of what a case runs: a scenario can pin a schedule
 * (`schedule:`), replay.json carries one, exploration chooses one per
 * iteration. The scheduler that carries it out is drive/wr_sched.h;
 * docs/sync-control.md is the protocol. */
#ifndef WR_SCHEDULE_H
#define WR_SCHEDULE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    WR_SCHED_NONE,
    WR_SCHED_RANDOM,
    WR_SCHED_PCT,
    WR_SCHED_REPLAY,
} wr_sched_kind_t;

/* One release of a schedule, as a replay finds it again. */
typedef struct {
    char point[32];   /* "registry.check" */
    char session[96]; /* the session the client asked for, "" for none */
    int n;            /* which arrival of (point, session), from 0 */
    int parked;       /* arrivals parked when it went, itself included
                         (a replay waits for as many); 0: unknown */
} wr_sched_step_t;

typedef struct {
    wr_sched_kind_t kind;
    uint64_t seed;       /* random and pct choices */
    int depth;           /* pct: bug depth d (>= 1) */
    int expected;        /* pct: arrivals expected in the run (k) */
    int quantum_us;      /* release when nothing arrived for this long */
    int replay_wait_ms;  /* replay: how long to wait for the next one */
    wr_sched_step_t *steps; /* replay: the schedule (owned: free with
                               wr_schedule_clear) */
    size_t nsteps;
} wr_schedule_t;

/* "none", "random", "pct", "replay"; the kind called name, or -1. */
const char *wr_sched_kind_name(wr_sched_kind_t k);
int wr_sched_kind_from_name(const char *name);

/* Whether p can name a sync point: 1 to 31 of [a-z0-9._-]. A target's
 * points are its own (ours are wsr_sync.h's; a user's gateway names its
 * own), so a schedule checks the form, not a list. */
bool wr_sched_point_ok(const char *p);

/* A copy of src into dst with its own steps (free with
 * wr_schedule_clear). Returns 0 or -ENOMEM. */
int wr_schedule_copy(wr_schedule_t *dst, const wr_schedule_t *src);
void wr_schedule_clear(wr_schedule_t *s);

/* A hash of the order of s's releases: equal for two runs that took the
 * same interleaving. */
uint64_t wr_schedule_hash(const wr_schedule_t *s);

/* The schedule as JSON: {"strategy", "seed", "depth", "expected",
 * "quantum_us", "releases": [[point, session, n, parked], ...]}. NULL when out of
 * memory. */
json_t *wr_schedule_json(const wr_schedule_t *s);

/* Reads what wr_schedule_json wrote (untrusted: every field checked; a
 * point must be a sync point, sessions short, counts in range) into s.
 * Returns 0, or -EINVAL with the reason in err. Free with
 * wr_schedule_clear. */
int wr_schedule_from_json(wr_schedule_t *s, json_t *j, char *err,
                          size_t errlen);

#endif
