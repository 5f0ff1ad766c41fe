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
    volatile sig_atomic_t *stop;
} wr_run_opts_t;

/* Runs every case and writes the report. Fills run (free with
 * wr_run_free). Returns the CLI exit code: 0 every verdict as expected,
 * 1 some verdict was not, 2 an inject set is bad (unknown fault, or faults
 * for an external target; nothing has run), 3 a target could not be run
 * or the report not written; 130 when stopped by a signal (nothing is
 * published then). */
int wr_run(const wr_run_opts_t *o, wr_scenario_t *const *scenarios,
           size_t nscenarios, wr_run_t *run);

void wr_run_free(wr_run_t *run);

#endif
