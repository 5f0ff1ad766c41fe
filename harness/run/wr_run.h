/* wr_run.h - A run: every case of a plan, each against a fresh gateway,
 * judged and written to a report.
 *
 * The runner owns the case loop on the calling thread: it starts the
 * target, runs the engine, stops the target, builds the history, runs the
 * checks, has the judge compare the verdicts with what the scenario and
 * the faults promise, and keeps every case's evidence in a hidden
 * temporary run directory that becomes reports/<run-id> only once all
 * reports are written. */
#ifndef WR_RUN_H
#define WR_RUN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "plan/wr_case.h"
#include "plan/wr_plan.h"
#include "plan/wr_scenario.h"

typedef struct {
    wr_plan_opts_t plan;        /* which cases */
    const char *self;           /* how the harness was invoked (replay) */
    const char *gateway;        /* gateway binary (default next to us) */
    const char *url;            /* external gateway ws://HOST:PORT/PATH */
    const char *report_root;    /* "reports" */
    const char *secret;         /* HS256 secret shared with the gateway */
    double time_scale;          /* timeouts multiplied by this */
    const char *wrapper;        /* run the gateway under this command */
    const char *argv_text;      /* the command line, for the report */
    atomic_int *stop;           /* set by a signal handler: stop */
    int jobs;                   /* cases run at once (processes); <= 1: one */
    const char *baseline;       /* compare the matrix with this file */
    const char *write_baseline; /* write the matrix there as a baseline */
    int keep;                   /* keep the newest N runs in report_root */
    bool print_matrix;          /* print the matrix at the end */
    /* Dynamic analysis: a wr_tool_t. MEMCHECK/HELGRIND/DRD: the gateway
     * runs under valgrind, XML per process in the case dir; ASAN/TSAN:
     * the gateway is a sanitizer build, its report read from gateway.log;
     * 0 for none. The memory_safety and data_race checks run then. */
    int tool;
    const char *suppressions; /* valgrind suppressions file, or NULL */
    /* With --url: where the runner listens for the external gateway's
     * sync-control connection (docs/sync-control.md), one scheduler for
     * the whole run; NULL: controlled cases of our own gateway get a
     * socket of their own. */
    const char *sync_control;
    /* End each case at its first conclusive failure (judge/wr_early.h):
     * our lone gateway or one at --url, no analysis tool. */
    bool early_verdict;
} wr_run_opts_t;

/* Plans and runs every case and writes the report; fills run (free with
 * wr_run_free). WR_STATUS_BAD_INPUT when the plan is refused (nothing has
 * run), WR_STATUS_INTERRUPTED when stopped by a signal (nothing is
 * published), else the worst of the cases and the matrix. */
wr_status_t wr_run(const wr_run_opts_t *o, wr_scenario_t *const *scenarios,
                   size_t nscenarios, wr_run_t *run);

struct wr_sched;

/* Names run (id, directory under o->report_root, command line, target,
 * tool, start time; every case's replay command) and makes its hidden
 * temporary directory, written to tmpdir. Returns WR_STATUS_OK,
 * WR_STATUS_BAD_INPUT (a path too long) or WR_STATUS_INFRA. */
wr_status_t wr_run_open(wr_run_t *run, const wr_run_opts_t *o, char *tmpdir,
                        size_t len);

/* Runs one planned case into dir, which exists: the target (or the
 * external one, its sync points served by shared when not NULL), the
 * clients, the history, the checks, the judge, and the evidence files
 * (history.jsonl, replay.json, the trace). c->history then holds its
 * evidence. Returns WR_STATUS_OK or WR_STATUS_INFRA (c->target_error
 * says why). */
wr_status_t wr_run_case(wr_case_t *c, const wr_run_opts_t *o,
                        struct wr_sched *shared, const char *dir);

struct wr_pool;

/* What a case needs to hand the next one a warm gateway (drive/wr_pool.h):
 * this process's pool, and the case that this process runs next, with
 * its directory (which exists). A case takes the pool's spare when it was
 * started for exactly its gateway options, and, once its own gateway is
 * up, starts the next case's spare while its clients run. next NULL: no
 * case follows. */
typedef struct {
    struct wr_pool *pool;
    const wr_case_t *next;
    const char *next_dir;
    /* A controlled case's gateway connects to its scheduler as it starts:
     * the next case's scheduler is started with its spare and left here
     * for it (the case restarts it with its strategy). The caller stops
     * what is left when it runs no more cases. */
    struct wr_sched **sched;
} wr_warm_t;

/* wr_run_case with a warm pool (NULL: wr_run_case). The caller drains the
 * pool when it runs no more cases (wr_pool_drain). */
wr_status_t wr_run_case_warm(wr_case_t *c, const wr_run_opts_t *o,
                             struct wr_sched *shared, const char *dir,
                             const wr_warm_t *warm);

/* With --url and --sync-control: listens there for the external
 * gateway's sync-control connection (one scheduler for the whole run:
 * the gateway connects once); *out is NULL otherwise. Returns
 * WR_STATUS_OK, or WR_STATUS_INFRA when the socket cannot be made (said
 * on stderr). */
wr_status_t wr_run_listen(const wr_run_opts_t *o, struct wr_sched **out);

/* Stops what wr_run_listen started (NULL accepted), saying on stderr when
 * no gateway ever connected. */
void wr_run_unlisten(const wr_run_opts_t *o, struct wr_sched *s);

/* Finishes a run whose cases are all in run and whose case directories
 * are in tmpdir: builds the matrix, compares it with o->baseline, writes
 * every report into tmpdir, publishes it as run->dir (moving `latest`
 * when publish_latest) and prunes to o->keep runs. On failure tmpdir is
 * removed. Returns the worse of st and what it found. */
wr_status_t wr_run_finish(wr_run_t *run, const wr_run_opts_t *o,
                          const char *tmpdir, bool publish_latest,
                          wr_status_t st);

/* Frees the matrix and baseline comparison of run, then everything else
 * (wr_run_clear). */
void wr_run_free(wr_run_t *run);

#endif
