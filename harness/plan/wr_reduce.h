/* wr_reduce.h - Smaller variants of a scenario, for the shrinker: which
 * client groups, how many clients, which steps and which of the
 * scenario's own sync actions to keep, which chaos and which pinned
 * schedule to run with, written back as scenario text.
 *
 * A reduction starts as "everything kept" from a parsed scenario; the
 * shrinker changes its fields, then wr_reduce_text applies it to the
 * scenario's text (the YAML tree is edited, not regenerated: what the
 * reduction does not touch stays as the author wrote it) and the result
 * is parsed again like any scenario, so a variant that breaks a rule (a
 * send before the connect) is refused there with the usual message.
 * Single-threaded. */
#ifndef WR_REDUCE_H
#define WR_REDUCE_H

#include <stdbool.h>
#include <stddef.h>

#include "plan/wr_explored.h"
#include "plan/wr_scenario.h"
#include "plan/wr_schedule.h"
#include "wsr_fault.h"

typedef struct {
    size_t ngroups;
    bool *keep_group;  /* [ngroups] */
    int *count;        /* [ngroups]: clients of the group */
    size_t *nsteps;    /* [ngroups] */
    bool **keep_step;  /* [ngroups][nsteps[g]] */
    size_t nsync;
    bool *keep_sync;   /* [nsync]: the scenario's gateway.sync actions */
    wr_chaos_t chaos;  /* written as `chaos:` (on=false: none) */
    wr_schedule_t schedule; /* written as `schedule:` (kind NONE: none);
                               owned */
    bool seed_pinned;  /* written as `seed:` */
    unsigned long long seed;
    bool set_exposes;  /* write `exposes:` as exposes */
    wsr_faults_t exposes;
    char name[WR_SCENARIO_NAME_MAX + 1];  /* "" keeps the name */
    char description[512];                /* "" keeps it */
} wr_reduction_t;

/* Everything of s kept, with its own chaos, schedule and seed pin.
 * Returns 0 or -ENOMEM. Free with wr_reduction_clear. */
int wr_reduction_init(wr_reduction_t *r, const wr_scenario_t *s);

/* A deep copy. Returns 0 or -ENOMEM. */
int wr_reduction_copy(wr_reduction_t *dst, const wr_reduction_t *src);

void wr_reduction_clear(wr_reduction_t *r);

/* Steps kept in group g (of a kept group). */
size_t wr_reduction_steps(const wr_reduction_t *r, size_t g);

/* How big the variant is: clients, steps over every client, sync
 * actions, pinned releases, chaos. */
wr_case_size_t wr_reduction_size(const wr_reduction_t *r);

/* text (a scenario's YAML) with r applied, a header comment (comment:
 * lines without '#', may be NULL) on top. Allocates the result (free it);
 * NULL with the reason in err when the text does not load or r does not
 * fit it (another number of groups or steps). */
char *wr_reduce_text(const char *text, const wr_reduction_t *r,
                     const char *comment, char *err, size_t errlen);

#endif
