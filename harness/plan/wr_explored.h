/* wr_explored.h - What an exploration did and found, as its reports show
 * it: the strategy and budget, how many iterations each scenario and
 * inject set got, how many distinct interleavings they took, and every
 * finding with its shrunk case.
 *
 * Plain data hung on a run (wr_run_t.explored) by `wsrace explore`; the
 * report writers only read it; summary.json carries it (JSON both ways,
 * read back as untrusted input) so that `wsrace merge` can join the
 * reports of explore shards. Cases are named by id, not by position: a
 * merge reorders them. Single-threaded. */
#ifndef WR_EXPLORED_H
#define WR_EXPLORED_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plan/wr_scenario.h"

/* One scenario x inject set the exploration cycled through. */
typedef struct {
    char scenario[WR_SCENARIO_NAME_MAX + 1];
    char inject[256]; /* "" for none */
    long iterations;
    long findings;
} wr_explored_cell_t;

/* How big a case is, for the side-by-side of a finding and its shrunk
 * case. */
typedef struct {
    int clients;
    int steps;    /* client steps over every client of every group */
    int sync;     /* the scenario's own sync actions */
    int releases; /* pinned releases of the schedule */
    bool chaos;
} wr_case_size_t;

typedef struct {
    char case_id[256];   /* the failing iteration */
    char check[32];      /* the check it failed that nothing promised */
    char shrunk_id[256]; /* its shrunk case, "" when not shrunk */
    char yaml[300];      /* the shrunk scenario, relative to the run dir */
    wr_case_size_t before, after;
    int shrink_runs;     /* cases the shrinker ran */
    double shrink_s;     /* seconds it took */
    int confirmed;       /* replays of the shrunk case that failed check */
    int confirm_runs;    /* replays tried */
} wr_finding_t;

typedef struct {
    char strategy[16]; /* "pct", "random" */
    int depth;
    bool chaos;
    double budget_s;  /* 0: none (--runs only) */
    long runs_limit;  /* 0: none */
    unsigned long long first_seed;
    long iterations;  /* ended, over every cell */
    long schedules;   /* iterations whose sync points were scheduled */
    long distinct;    /* distinct interleavings among them */
    double seconds;   /* wall time of the iterations */
    bool stopped_early; /* the first finding ended it */
    wr_explored_cell_t *cells;
    size_t ncells;
    wr_finding_t *findings;
    size_t nfindings;
    /* Scenarios the run's cases point at that the exploration made (the
     * shrunk ones): freed with it. */
    wr_scenario_t **own;
    size_t nown;
} wr_explored_t;

/* Appends a zeroed finding. NULL when out of memory. */
wr_finding_t *wr_explored_add_finding(wr_explored_t *e);

/* Takes s: freed with e. Returns 0 or -ENOMEM (s is freed then). */
int wr_explored_own(wr_explored_t *e, wr_scenario_t *s);

/* Frees what e holds (not e) and zeroes it. */
void wr_explored_clear(wr_explored_t *e);

/* The JSON of e (summary.json's "explore"). NULL when out of memory. */
json_t *wr_explored_json(const wr_explored_t *e);

/* Reads what wr_explored_json wrote into e (zeroed first). Every field
 * is checked: strings must fit, counts be >= 0, case ids be directory
 * names. Returns 0, or -EINVAL with the reason in err. */
int wr_explored_from_json(wr_explored_t *e, json_t *j, char *err,
                          size_t errlen);

/* Adds b's counts, cells (by scenario and inject) and findings to a;
 * seconds becomes the longer. Returns 0 or -ENOMEM. */
int wr_explored_merge(wr_explored_t *a, const wr_explored_t *b);

#endif
