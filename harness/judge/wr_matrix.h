/* wr_matrix.h - The reproduction matrix of a run: rows are the inject sets
 * (none, each fault alone, the seed bugs together), columns are scenario x
 * check, and each cell says what the check did over the row's seeds:
 * DETECTED k/N, MISSED, FALSE ALARM, clean, ...
 *
 * A matrix is a pure function of a run's cases (wr_matrix_build), so a
 * sharded run merged from its pieces gives the same matrix as one run. A
 * baseline is a committed matrix (JSON) that a later matrix is compared
 * with, cell by cell: regressions and improvements.
 *
 * Plain data, built and read on one thread. */
#ifndef WR_MATRIX_H
#define WR_MATRIX_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "judge/wr_judge.h"
#include "plan/wr_case.h"

typedef struct {
    wsr_faults_t faults;              /* the row's inject set */
    char inject[WSR_FAULTS_TEXT_MAX]; /* its canonical list, "" for none */
    char label[64]; /* "none", "scope-loss=swallow", "seed-bugs", ... */
} wr_matrix_row_t;

typedef struct wr_matrix_s {
    wr_matrix_row_t *rows; /* in the order the run planned them */
    size_t nrows;
    const wr_scenario_t **scenarios; /* columns, in run order */
    size_t nscenarios;
    unsigned *checks; /* per scenario: mask of checks that ran */
    /* cells[(row * nscenarios + scenario) * WSR_CHECK__COUNT + check] */
    wr_cell_t *cells;
    /* Per row and scenario (row * nscenarios + scenario): cases that were
     * required to fail at least one of several checks (several faults
     * injected at once, one may mask another) and failed none. */
    int *missed_cases;
    /* Per row and scenario: cases with such a requirement, and of them
     * those that met it. */
    int *need_cases, *need_met;
    int seeds;        /* most cases in one row x scenario */
    int missed;       /* cells MISSED plus missed_cases */
    int false_alarms; /* cells FALSE_ALARM */
    int errors;       /* cells ERROR or UNKNOWN where a verdict was due */
} wr_matrix_t;

/* The text of a cell for people: "DETECTED 20/20", "MISSED 18/20",
 * "FALSE ALARM 1/20", "clean", "allowed 3/20", ... into buf. */
const char *wr_cell_text(const wr_cell_t *c, char *buf, size_t len);

/* The label of an inject set: "none" for the empty set, "seed-bugs" for
 * the seed bugs together, else its canonical list. */
void wr_matrix_label(const wsr_faults_t *f, char *buf, size_t len);

/* Builds m from the cases of run. Returns 0 or -ENOMEM. */
int wr_matrix_build(const wr_run_t *run, wr_matrix_t *m);
void wr_matrix_free(wr_matrix_t *m);

/* The cell of row r, scenario s, check k. */
const wr_cell_t *wr_matrix_cell(const wr_matrix_t *m, size_t r, size_t s,
                                int k);

/* Whether m has no missed detection, no false alarm and no error. */
bool wr_matrix_ok(const wr_matrix_t *m);

/* Prints the matrix for a terminal: one block per scenario, a line per
 * row, the checks that matter as columns. */
void wr_matrix_print(const wr_matrix_t *m, FILE *out);

/* The matrix as JSON: {"seeds", "rows": [...], "scenarios": [...],
 * "cells": [{"row", "scenario", "check", "cell", "expected", "runs",
 * "fails", "unknown", "errors", "text"}, ...] (every cell that ran),
 * "missed", "false_alarms", "errors"}. NULL when out of memory. This is
 * also the baseline format. */
json_t *wr_matrix_json(const wr_matrix_t *m);

/* A comparison with a baseline, cell by cell (row label, scenario name,
 * check name). */
typedef struct {
    char row[64], scenario[64], check[32];
    char was[32], now[32]; /* cell kind names; "absent" when missing */
} wr_matrix_change_t;

typedef struct wr_matrix_diff_s {
    wr_matrix_change_t *regressions; /* good -> bad, or a detection lost */
    size_t nregressions;
    wr_matrix_change_t *improvements; /* bad -> good */
    size_t nimprovements;
    wr_matrix_change_t *changes; /* any other difference (clean <->
                                    allowed, cells new or gone) */
    size_t nchanges;
    char path[512]; /* the baseline file */
} wr_matrix_diff_t;

/* Compares m with the baseline file at path. Returns 0, or -errno / -EINVAL
 * with a message in err (the file can't be read or is not a baseline). */
int wr_matrix_compare(const wr_matrix_t *m, const char *path,
                      wr_matrix_diff_t *d, char *err, size_t errlen);
void wr_matrix_diff_free(wr_matrix_diff_t *d);

/* Prints each regression, improvement and (at most most_changes) other
 * change of d on a line of its own starting with bullet:
 * "REGRESSION  row / scenario / check: was -> now". */
void wr_matrix_diff_print(const wr_matrix_diff_t *d, FILE *out,
                          const char *bullet, size_t most_changes);

/* Whether path is a baseline file (read before a run, so that a bad one
 * stops it before anything runs); else the reason in err. */
bool wr_matrix_baseline_ok(const char *path, char *err, size_t errlen);

/* Writes m as a baseline file at path (atomically). Returns 0 or -errno. */
int wr_matrix_write_baseline(const wr_matrix_t *m, const char *path);

#endif
