/* wr_run.h - A run: every case (scenario x injected faults x seed), each
 * against a fresh gateway, checked and written to a report.
 *
 * The runner owns the case loop on the calling thread: it starts the
 * target, runs the engine, stops the target, builds the history, runs the
 * checks, compares the verdicts with what the scenario expects, and keeps
 * every case's evidence in a hidden temporary run directory that becomes
 * reports/<run-id> only once all reports are written. */
#ifndef WR_RUN_H
#define WR_RUN_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "wr_case.h"
#include "wr_scenario.h"

typedef struct {
    const char *self;           /* how the harness was invoked (replay) */
    const char *gateway;        /* gateway binary (default next to us) */
    bool gateway_given;         /* --target was on the command line */
    const char *url;            /* external gateway ws://HOST:PORT/PATH */
    const char *report_root;    /* "reports" */
    const char *const *injects; /* one inject set per entry (see CLI) */
    size_t ninjects;            /* 0: each scenario's gateway.inject */
    unsigned long long seed;
    int repeat;            /* seeds seed .. seed+repeat-1 */
    const char *secret;    /* HS256 secret shared with the gateway */
    double time_scale;     /* timeouts multiplied by this */
    const char *wrapper;   /* run the gateway under this command */
    const char *argv_text; /* the command line, for the report */
    atomic_int *stop;
    const char *kind;           /* "run" (default), "matrix", "replay" */
    bool no_sync;               /* drop the scenarios' sync actions */
    int shard_index;            /* run only shard I of N (1-based) ... */
    int shard_count;            /* ... of the whole plan; 0: no shards */
    int jobs;                   /* cases run at once (processes); <= 1: one */
    const char *baseline;       /* compare the matrix with this file */
    const char *write_baseline; /* write the matrix there as a baseline */
    int keep;                   /* keep the newest N runs in report_root */
    bool print_matrix;          /* print the matrix at the end */
    /* Dynamic analysis: tool is WR_TOOL_MEMCHECK/HELGRIND/DRD (the
     * gateway runs under valgrind, XML per process in the case dir) or
     * WR_TOOL_ASAN/TSAN (gateway is a sanitizer build; its report is read
     * from gateway.log); WR_TOOL_NONE (0) for none. The memory_safety and
     * data_race checks run then. */
    int tool;
    const char *suppressions; /* valgrind suppressions file, or NULL */
} wr_run_opts_t;

/* Runs every case and writes the report. Fills run (free with
 * wr_run_free). Returns the CLI exit code: 0 every verdict as expected,
 * 1 some verdict was not, 2 an inject set is bad (unknown fault, or faults
 * for an external target; nothing has run), 3 a target could not be run
 * or the report not written; 130 when stopped by a signal (nothing is
 * published then). */
int wr_run(const wr_run_opts_t *o, wr_scenario_t *const *scenarios,
           size_t nscenarios, wr_run_t *run);

/* Finishes a run whose cases are all in run and whose case directories
 * are in tmpdir: builds the matrix, compares it with o->baseline, writes
 * every report into tmpdir, publishes it as run->dir (moving `latest`
 * when publish_latest) and prunes to o->keep runs. On failure tmpdir is
 * removed. Returns the exit code (0, 1 when a case or the matrix is not as
 * expected or the baseline regressed, 3 when the report could not be
 * written), never below rc. */
int wr_run_finish(wr_run_t *run, const wr_run_opts_t *o, const char *tmpdir,
                  bool publish_latest, int rc);

/* Recursively removes path (a run's temporary directory). */
void wr_run_rm_rf(const char *path);

void wr_run_free(wr_run_t *run);

#endif
