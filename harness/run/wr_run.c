/* wr_run.c - The case loop and the run's end: every case of the plan
 * (each by wr_run_case, wr_run_case.c), here or in job processes, then the
 * matrix, the baseline, the reports and their publication.
 *
 * The run directory is built hidden in the store (run/wr_store.h) and
 * published only when every report file has been written; a run stopped
 * by a signal removes it. Single-threaded, but for --jobs: the cases then
 * run in child processes, each writing its cases' directories and a
 * partial summary.json that the parent reads back. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "run/wr_run.h"

#include "checks/wr_check.h"
#include "drive/wr_cluster.h"
#include "drive/wr_engine.h"
#include "drive/wr_pool.h"
#include "drive/wr_sched.h"
#include "drive/wr_target.h"
#include "drive/wr_tool.h"
#include "history/wr_clock.h"
#include "history/wr_history.h"
#include "judge/wr_judge.h"
#include "judge/wr_matrix.h"
#include "plan/wr_replay.h"
#include "report/wr_report.h"
#include "report/wr_summary.h"
#include "run/wr_store.h"

#define STOP_TIMEOUT_MS 5000
#define LEAK_GRACE_MS                                                          \
    1000 /* how long closes may take to reach the registry                     \
          */

/* ------------------------------------------------------------------ */
/* Progress                                                             */
/* ------------------------------------------------------------------ */

static void print_case(const wr_case_t *c, size_t i, size_t n)
{
    char fails[256] = "";
    size_t used = 0;

    for (int k = 0; k < WSR_CHECK__COUNT && used < sizeof(fails); k++)
        if (c->ran[k] && c->results[k].verdict == WR_FAIL)
            used += (size_t)snprintf(fails + used, sizeof(fails) - used, "%s%s",
                                     used ? "," : "",
                                     wsr_check_name((wsr_check_id_t)k));
    printf("[%2zu/%zu] %-28s inject=%-24s seed=%-6llu %-10s fail=%s%s\n", i + 1,
           n, c->scenario->name, c->inject[0] ? c->inject : "none", c->seed,
           c->as_expected ? "as-expected" : "UNEXPECTED",
           fails[0] ? fails : "-",
           c->target_error[0] ? "  (target: see report)" : "");
    fflush(stdout);
}

/* One line per fault the run exercised: reproduced with it injected, and
 * absent from the same scenarios without it. */
static void print_bugs(const wr_run_t *run)
{
    bool header = false;

    for (int i = 0; i < WSR_FAULT__COUNT; i++) {
        const wsr_fault_info_t *f = wsr_fault_info((wsr_fault_id_t)i);
        int with = 0, hit = 0, without = 0, clean = 0;
        char label[64];

        for (size_t k = 0; k < run->ncases; k++) {
            const wr_case_t *c = &run->cases[k];

            if (wr_judge_targeted((wsr_fault_id_t)i, c)) {
                with++;
                hit += wr_judge_confirmed((wsr_fault_id_t)i, c);
            } else if (wr_judge_control((wsr_fault_id_t)i, c)) {
                without++;
                clean += wr_judge_absent((wsr_fault_id_t)i, c);
            }
        }
        if (with + without == 0)
            continue;
        if (!header) {
            printf("\n  %-34s %-16s %s\n", "bug", "reproduced",
                   "absent without injection");
            header = true;
        }
        snprintf(label, sizeof(label), "%s%s%s%s", f->name,
                 f->origin ? " (" : "", f->origin ? f->origin : "",
                 f->origin ? ")" : "");
        printf("  %-34s %-16s %s\n", label,
               with ? (hit == with ? "yes" : "NO") : "not injected",
               without ? (clean == without ? "yes" : "NO") : "not run");
        if (with && hit != with)
            printf("  %-34s   detected in %d of %d cases\n", "", hit, with);
        if (without && clean != without)
            printf("  %-34s   reported in %d of %d clean cases\n", "",
                   without - clean, without);
    }
    if (header)
        printf("\n");
}

/* ------------------------------------------------------------------ */
/* Running the cases: here, or in several processes                    */
/* ------------------------------------------------------------------ */

/* The directory of case c under tmpdir, made. Returns 0, or
 * WR_STATUS_INFRA (said on stderr). */
static int case_dir(const wr_case_t *c, const char *tmpdir, char *out,
                    size_t len)
{
    int rc;

    if ((size_t)snprintf(out, len, "%s/%s", tmpdir, c->dir) >= len) {
        fprintf(stderr, "wsrace: %s/%s: path too long\n", tmpdir, c->dir);
        return WR_STATUS_INFRA;
    }
    if ((rc = wr_store_mkdirs(out)) != 0) {
        fprintf(stderr, "wsrace: cannot create %s: %s\n", out, strerror(-rc));
        return WR_STATUS_INFRA;
    }
    return 0;
}

/* Runs the cases of run whose position p has p % step == first, writing
 * their directories into tmpdir. Each case's gateway is started while
 * the case before it runs (wr_warm_t), when it may be. */
static wr_status_t run_cases(wr_run_t *run, const wr_run_opts_t *o,
                             wr_sched_t *shared, const char *tmpdir,
                             size_t first, size_t step)
{
    char casedir[PATH_MAX], nextdir[PATH_MAX];
    wr_status_t st = WR_STATUS_OK;
    wr_pool_t *pool = o->url == NULL ? wr_pool_new(1) : NULL;
    wr_sched_t *next_sched = NULL;

    if (first < run->ncases &&
        case_dir(&run->cases[first], tmpdir, nextdir, sizeof(nextdir)) != 0) {
        wr_pool_free(pool);
        return WR_STATUS_INFRA;
    }
    for (size_t ci = first; ci < run->ncases; ci += step) {
        wr_case_t *c = &run->cases[ci];
        size_t ni = ci + step;
        wr_warm_t warm = {.pool = pool, .sched = &next_sched};
        wr_status_t cs;

        memcpy(casedir, nextdir, sizeof(casedir));
        if (ni < run->ncases) {
            if (case_dir(&run->cases[ni], tmpdir, nextdir, sizeof(nextdir)) !=
                0) {
                wr_pool_free(pool);
                wr_sched_stop(next_sched);
                return WR_STATUS_INFRA;
            }
            warm.next = &run->cases[ni];
            warm.next_dir = nextdir;
        }
        cs = wr_run_case_warm(c, o, shared, casedir, &warm);
        if (o->stop && *o->stop) {
            wr_pool_free(pool);
            wr_sched_stop(next_sched);
            return WR_STATUS_INTERRUPTED;
        }
        if (cs != WR_STATUS_OK)
            c->as_expected = false;
        st = wr_status_worse(st, cs != WR_STATUS_OK ? cs
                                 : c->as_expected ? WR_STATUS_OK
                                                  : WR_STATUS_UNEXPECTED);
        print_case(c, ci, run->ncases);
    }
    wr_pool_free(pool);
    wr_sched_stop(next_sched);
    return st;
}

/* A job's part of the run: its cases only, as a run of its own, written
 * as dir/summary.json for the parent to read back. Returns 0 or negative
 * errno. */
static int write_job_summary(const wr_run_t *run, size_t first, size_t step,
                             const char *dir)
{
    wr_run_t part = *run;
    size_t n = 0;
    int rc;

    part.cases = calloc(run->ncases / step + 2, sizeof(wr_case_t));
    if (part.cases == NULL)
        return -ENOMEM;
    if ((rc = wr_store_mkdirs(dir)) != 0) {
        free(part.cases);
        return rc;
    }
    for (size_t ci = first; ci < run->ncases; ci += step)
        part.cases[n++] = run->cases[ci];
    part.ncases = n;
    part.matrix = NULL;
    part.baseline = NULL;
    rc = wr_report_write_summary(&part, dir);
    free(part.cases);
    return rc;
}

/* Moves the cases a job reported into run, by plan index. Returns 0 or
 * negative errno. */
static int collect_job(wr_run_t *run, const char *dir)
{
    wr_run_t part;
    char err[PATH_MAX + 256];
    int rc = wr_summary_load(dir, run->scenarios, run->nscenarios, &part, err,
                             sizeof(err));

    if (rc != 0) {
        fprintf(stderr, "wsrace: %s\n", err);
        return rc;
    }
    for (size_t i = 0; i < part.ncases; i++)
        for (size_t k = 0; k < run->ncases; k++) {
            wr_case_t *c = &run->cases[k];

            if (c->index != part.cases[i].index || c->history != NULL)
                continue;
            *c = part.cases[i];
            part.cases[i].history = NULL;
            break;
        }
    wr_run_free(&part);
    return 0;
}

/* The exit status a job reports through the process: one byte. */
static int job_code(wr_status_t st)
{
    return (int)st;
}

/* Runs the cases in o->jobs child processes (case p in job p % jobs),
 * each writing its cases' directories into tmpdir and its verdicts into
 * tmpdir/.job-J/summary.json, then reads them back. A signal to the
 * parent is passed on to the jobs. */
static wr_status_t run_jobs(wr_run_t *run, const wr_run_opts_t *o,
                            const char *tmpdir)
{
    size_t jobs = (size_t)o->jobs < run->ncases ? (size_t)o->jobs : run->ncases;
    pid_t *pid = calloc(jobs, sizeof(*pid));
    int *code = calloc(jobs, sizeof(*code));
    wr_status_t st = WR_STATUS_OK;
    size_t left = 0;
    char dir[PATH_MAX + 32];

    if (pid == NULL || code == NULL) {
        free(pid);
        free(code);
        return WR_STATUS_INFRA;
    }
    fflush(stdout);
    fflush(stderr);
    for (size_t j = 0; j < jobs; j++) {
        pid_t parent = getpid();

        pid[j] = fork();
        if (pid[j] == 0) {
            wr_status_t r;

            /* A job dies with the harness, even by SIGKILL; its gateways'
             * lifelines then end with it. */
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent)
                _exit(job_code(WR_STATUS_INTERRUPTED));
            r = run_cases(run, o, NULL, tmpdir, j, jobs);

            snprintf(dir, sizeof(dir), "%s/.job-%zu", tmpdir, j);
            if (r != WR_STATUS_INTERRUPTED &&
                write_job_summary(run, j, jobs, dir) != 0)
                r = WR_STATUS_INFRA;
            fflush(stdout);
            _exit(job_code(r));
        }
        code[j] = pid[j] < 0 ? job_code(WR_STATUS_INFRA) : -1;
        left += pid[j] > 0;
    }
    while (left > 0) {
        bool stopping = o->stop && *o->stop;

        for (size_t j = 0; j < jobs; j++) {
            int ws;

            if (code[j] != -1)
                continue;
            if (stopping)
                kill(pid[j], SIGTERM);
            if (waitpid(pid[j], &ws, stopping ? 0 : WNOHANG) == pid[j]) {
                code[j] = WIFEXITED(ws) && WEXITSTATUS(ws) <=
                                               WR_STATUS_INTERRUPTED
                              ? WEXITSTATUS(ws)
                              : job_code(WR_STATUS_INFRA);
                left--;
            }
        }
        if (left > 0 && !stopping) {
            struct timespec ts = {0, 20 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    for (size_t j = 0; j < jobs; j++)
        st = wr_status_worse(st, (wr_status_t)code[j]);
    if (st == WR_STATUS_INTERRUPTED || (o->stop && *o->stop)) {
        free(pid);
        free(code);
        return WR_STATUS_INTERRUPTED;
    }
    for (size_t j = 0; j < jobs; j++) {
        snprintf(dir, sizeof(dir), "%s/.job-%zu", tmpdir, j);
        if (code[j] != (int)WR_STATUS_INFRA && collect_job(run, dir) != 0)
            st = WR_STATUS_INFRA;
        wr_store_rm_rf(dir);
    }
    free(pid);
    free(code);
    return st;
}

/* ------------------------------------------------------------------ */
/* Finishing: matrix, baseline, reports, publication                   */
/* ------------------------------------------------------------------ */

static void print_baseline(const wr_matrix_diff_t *d)
{
    printf("baseline %s: %zu regression(s), %zu improvement(s), %zu other "
           "change(s)\n",
           d->path, d->nregressions, d->nimprovements, d->nchanges);
    wr_matrix_diff_print(d, stdout, "  ", 20);
}

wr_status_t wr_run_finish(wr_run_t *run, const wr_run_opts_t *o,
                          const char *tmpdir, bool publish_latest,
                          wr_status_t st)
{
    char err[PATH_MAX + 256], root[PATH_MAX];
    int rc;

    run->matrix = calloc(1, sizeof(*run->matrix));
    if (run->matrix == NULL || wr_matrix_build(run, run->matrix) != 0) {
        free(run->matrix);
        run->matrix = NULL;
        wr_store_rm_rf(tmpdir);
        return WR_STATUS_INFRA;
    }
    /* An exploration's cases are its findings: it judges them itself. */
    if (run->explored == NULL && !wr_matrix_ok(run->matrix))
        st = wr_status_worse(st, WR_STATUS_UNEXPECTED);
    if (o->baseline != NULL) {
        run->baseline = calloc(1, sizeof(*run->baseline));
        if (run->baseline == NULL ||
            wr_matrix_compare(run->matrix, o->baseline, run->baseline, err,
                              sizeof(err)) != 0) {
            fprintf(stderr, "wsrace: baseline: %s\n", err);
            free(run->baseline);
            run->baseline = NULL;
            st = wr_status_worse(st, WR_STATUS_INFRA);
        } else if (run->baseline->nregressions > 0) {
            st = wr_status_worse(st, WR_STATUS_UNEXPECTED);
        }
    }
    run->status = st;
    snprintf(root, sizeof(root), "%s", run->dir);
    if (strrchr(root, '/') != NULL)
        *strrchr(root, '/') = '\0';
    else
        snprintf(root, sizeof(root), ".");
    if ((rc = wr_report_write_all(run, tmpdir)) != 0 ||
        (rc = wr_store_publish(tmpdir, run->dir,
                               publish_latest ? root : NULL)) != 0) {
        fprintf(stderr, "wsrace: could not write the report in %s: %s\n",
                tmpdir, strerror(-rc));
        wr_store_rm_rf(tmpdir);
        return WR_STATUS_INFRA;
    }
    if (o->write_baseline != NULL &&
        (rc = wr_matrix_write_baseline(run->matrix, o->write_baseline)) != 0) {
        fprintf(stderr, "wsrace: could not write the baseline %s: %s\n",
                o->write_baseline, strerror(-rc));
        st = wr_status_worse(st, WR_STATUS_INFRA);
    }
    if (o->keep > 0)
        wr_store_prune(root, o->keep, run->id);
    if (run->explored == NULL)
        print_bugs(run);
    if (o->print_matrix)
        wr_matrix_print(run->matrix, stdout);
    if (run->baseline != NULL)
        print_baseline(run->baseline);
    printf("report: %s/report.md\n", run->dir);
    printf("html:   %s/index.html\n", run->dir);
    return st;
}

wr_status_t wr_run_open(wr_run_t *run, const wr_run_opts_t *o, char *tmpdir,
                        size_t len)
{
    struct tm tm;
    time_t now = time(NULL);
    size_t most = 0, together = o->jobs > 1 ? (size_t)o->jobs : 1;
    int rc;

    /* Connections open at once: the largest case times the cases that
     * run together. */
    for (size_t i = 0; i < run->ncases; i++)
        if (wr_scenario_clients(run->cases[i].scenario) > most)
            most = wr_scenario_clients(run->cases[i].scenario);
    if (together > run->ncases)
        together = run->ncases;
    if (most * together > WR_RUN_CLIENTS_MAX) {
        fprintf(stderr,
                "wsrace: %zu case(s) of up to %zu clients at once (--jobs) "
                "would hold %zu connections, over the limit of %d; use "
                "fewer --jobs\n",
                together, most, most * together, WR_RUN_CLIENTS_MAX);
        return WR_STATUS_BAD_INPUT;
    }
    gmtime_r(&now, &tm);
    strftime(run->id, sizeof(run->id), "%Y%m%dT%H%M%SZ", &tm);
    snprintf(run->id + strlen(run->id), sizeof(run->id) - strlen(run->id),
             "-%d", (int)getpid());
    if ((size_t)snprintf(run->dir, sizeof(run->dir), "%s/%s", o->report_root,
                         run->id) >= sizeof(run->dir) - 512) {
        fprintf(stderr, "wsrace: --report-dir %.60s...: the path is too long "
                        "for the case files under it\n",
                o->report_root);
        return WR_STATUS_BAD_INPUT;
    }
    snprintf(run->argv_text, sizeof(run->argv_text), "%s",
             o->argv_text ? o->argv_text : "");
    snprintf(run->target, sizeof(run->target), "%s",
             o->url ? o->url : o->gateway);
    snprintf(run->tool, sizeof(run->tool), "%s",
             o->tool ? wr_tool_name((wr_tool_t)o->tool) : "");
    run->started_unix = (int64_t)now;
    run->external = o->url != NULL;
    for (size_t i = 0; i < run->ncases; i++)
        wr_case_set_replay(&run->cases[i], o->self, run->dir);

    wr_store_sweep(o->report_root);
    if ((rc = wr_store_make_tmp(o->report_root, run->id, tmpdir, len)) != 0) {
        struct stat lst;
        bool link = lstat(o->report_root, &lst) == 0 && S_ISLNK(lst.st_mode);

        /* The store never follows a link as its last component (a link
         * planted there could point anywhere): a user's input error, as
         * is a name the file system cannot hold. */
        fprintf(stderr, "wsrace: cannot create the run directory under %s: "
                        "%s\n",
                o->report_root,
                link ? "it is a symbolic link; give the directory itself"
                     : strerror(-rc));
        return link || rc == -ENAMETOOLONG || rc == -ENOTDIR
                   ? WR_STATUS_BAD_INPUT
                   : WR_STATUS_INFRA;
    }
    return WR_STATUS_OK;
}

wr_status_t wr_run_listen(const wr_run_opts_t *o, struct wr_sched **out)
{
    static const wr_schedule_t none = {.kind = WR_SCHED_NONE};
    int rc;

    *out = NULL;
    if (o->url == NULL || o->sync_control == NULL)
        return WR_STATUS_OK;
    if ((rc = wr_sched_start(out, o->sync_control, &none)) != 0) {
        fprintf(stderr, "wsrace: cannot listen for sync control at %s: %s\n",
                o->sync_control, strerror(-rc));
        return WR_STATUS_INFRA;
    }
    /* A gateway connects when it first needs us (the Python adapter, at
     * its first sync point) or within its retry interval: no wait here.
     * wr_run_unlisten says whether one ever did. */
    return WR_STATUS_OK;
}

void wr_run_unlisten(const wr_run_opts_t *o, struct wr_sched *s)
{
    if (s == NULL)
        return;
    if (!wr_sched_connected(s))
        fprintf(stderr,
                "wsrace: no gateway connected to %s: its sync points were "
                "not scheduled (start it with --sync-control %s, or "
                "WSRACE_SYNC_CONTROL=%s for the Python adapter)\n",
                o->sync_control, o->sync_control, o->sync_control);
    wr_sched_stop(s);
}

wr_status_t wr_run(const wr_run_opts_t *o, wr_scenario_t *const *scs,
                   size_t nscs, wr_run_t *run)
{
    wr_plan_opts_t po = o->plan;
    wr_sched_t *shared = NULL;
    char tmpdir[PATH_MAX], err[1024];
    wr_status_t st;

    po.external = o->url != NULL;
    if (wr_plan_build(run, &po, scs, nscs, err, sizeof(err)) != 0) {
        fprintf(stderr, "wsrace %s: %s\n", po.kind ? po.kind : "run", err);
        return WR_STATUS_BAD_INPUT;
    }
    if ((st = wr_run_open(run, o, tmpdir, sizeof(tmpdir))) != WR_STATUS_OK)
        return st;

    int64_t t0 = wr_now_ns();
    if ((st = wr_run_listen(o, &shared)) != WR_STATUS_OK) {
        wr_store_rm_rf(tmpdir);
        return st;
    }
    if (o->jobs > 1 && run->ncases > 1 && shared == NULL)
        st = run_jobs(run, o, tmpdir);
    else
        st = run_cases(run, o, shared, tmpdir, 0, 1);
    wr_run_unlisten(o, shared);
    if (st == WR_STATUS_INTERRUPTED || (o->stop && *o->stop)) {
        fprintf(stderr, "wsrace: interrupted; no report written\n");
        wr_store_rm_rf(tmpdir);
        return WR_STATUS_INTERRUPTED;
    }
    run->duration_ns = wr_now_ns() - t0;
    return wr_run_finish(run, o, tmpdir, true, st);
}

void wr_run_free(wr_run_t *run)
{
    if (run->matrix != NULL)
        wr_matrix_free(run->matrix);
    free(run->matrix);
    run->matrix = NULL;
    if (run->baseline != NULL)
        wr_matrix_diff_free(run->baseline);
    free(run->baseline);
    run->baseline = NULL;
    wr_run_clear(run);
}
