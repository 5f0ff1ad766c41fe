/* wr_explore.c - The exploration loop (wr_explore.h).
 *
 * The parent plans the cells, opens the run directory and, with jobs,
 * forks them; the jobs share one anonymous mapping: the next iteration
 * number, the counts, the stop flag and a set of the interleavings seen
 * (hashes of the order of releases, inserted lock-free). The parent
 * prints progress and ends the budget; each job writes its findings as a
 * partial summary, which the parent reads back before it shrinks them
 * and writes the report. */
#include "run/wr_explore.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "drive/wr_pool.h"
#include "drive/wr_sched.h"
#include "drive/wr_target.h"
#include "history/wr_clock.h"
#include "history/wr_history.h"
#include "plan/wr_plan.h"
#include "plan/wr_replay.h"
#include "report/wr_report.h"
#include "report/wr_summary.h"
#include "run/wr_run.h"
#include "run/wr_shrink.h"
#include "run/wr_store.h"
#include "plan/wr_explored.h"

#define SET_SLOTS (1u << 16) /* interleavings counted at most */
#define MAX_INFRA 5          /* iterations in a row that could not run */

typedef struct {
    atomic_long next;      /* the next iteration to take */
    atomic_long done;      /* iterations ended */
    atomic_long schedules; /* ... whose sync points were scheduled */
    atomic_long distinct;  /* interleavings seen */
    atomic_long findings;
    atomic_long infra;     /* iterations in a row that could not run */
    atomic_int stop;       /* budget, limit or first finding */
    _Atomic uint64_t set[SET_SLOTS];
    atomic_long cells[]; /* per cell: iterations, findings */
} shared_t;

typedef struct {
    const wr_explore_opts_t *o;
    wr_run_t *run;        /* the exploration's run (its scenarios) */
    wr_case_t *cells;     /* planned cases, one per cell */
    size_t ncells;
    shared_t *sh;
    size_t shsize;
    char tmpdir[PATH_MAX];
    int64_t deadline;     /* monotonic ns; 0: none */
    int *expected;        /* per cell: arrivals the last iteration saw */
    wr_case_t *found;     /* this process's findings */
    size_t nfound;
} explorer_t;

bool wr_explore_is_finding(const wr_case_t *c)
{
    /* A scenario promises its exposure through its own windows: without
     * them (--no-sync) nothing is promised. */
    bool designed = (c->faults.mask & c->scenario->exposes.mask) != 0 &&
                    !c->no_sync;

    for (int k = 0; k < WSR_CHECK__COUNT; k++) {
        if (!c->ran[k] || c->results[k].verdict != WR_FAIL)
            continue;
        if (!designed || c->expected[k] == WR_EXPECT_PASS)
            return true;
    }
    return false;
}

/* Counts an interleaving; true when it is new. */
static bool note_interleaving(shared_t *sh, uint64_t h)
{
    uint64_t key = h ? h : 1;

    for (size_t n = 0, at = (size_t)key & (SET_SLOTS - 1); n < SET_SLOTS;
         n++, at = (at + 1) & (SET_SLOTS - 1)) {
        uint64_t cur = atomic_load(&sh->set[at]);

        if (cur == key)
            return false;
        if (cur == 0) {
            uint64_t zero = 0;

            if (atomic_compare_exchange_strong(&sh->set[at], &zero, key)) {
                atomic_fetch_add(&sh->distinct, 1);
                return true;
            }
            if (zero == key)
                return false;
        }
    }
    return false; /* full: no longer counted */
}

static bool stopping(const explorer_t *x)
{
    const atomic_int *sig = x->o->run.stop;

    return atomic_load(&x->sh->stop) || (sig && atomic_load(sig)) ||
           (x->deadline && wr_now_ns() >= x->deadline);
}

static void case_free(wr_case_t *c)
{
    wr_history_free((wr_history_t *)c->history);
    c->history = NULL;
    wr_schedule_clear(&c->sched);
    wr_schedule_clear(&c->recorded);
}

static void print_finding(const wr_case_t *c)
{
    int k = wr_shrink_target(c);

    printf("finding: %s fails %s%s%s\n", c->id,
           k >= 0 ? wsr_check_name((wsr_check_id_t)k) : "?",
           k >= 0 && c->results[k].summary[0] ? ": " : "",
           k >= 0 ? c->results[k].summary : "");
    fflush(stdout);
}

/* An iteration taken: its number, its case and its directory (made). */
typedef struct {
    long i;
    wr_case_t c;
    char dir[2 * PATH_MAX];
} slot_t;

/* Plans iteration i into s and makes its directory. Returns 0, or
 * negative errno. */
static int prepare(explorer_t *x, long i, slot_t *s)
{
    const wr_explore_opts_t *o = x->o;
    size_t cell = (size_t)i % x->ncells;
    const wr_case_t *t = &x->cells[cell];
    int shards = o->run.plan.shard_count > 0 ? o->run.plan.shard_count : 1;
    int shard = o->run.plan.shard_count > 0 ? o->run.plan.shard_index : 1;
    unsigned long long seed = o->run.plan.seed +
                              (unsigned long long)(i / (long)x->ncells) *
                                  (unsigned long long)shards +
                              (unsigned long long)(shard - 1);
    char prefix[48];
    wr_case_t *c = &s->c;

    s->i = i;
    snprintf(prefix, sizeof(prefix), "x%d-%06ld", shard, i + 1);
    wr_case_init(c, (size_t)i, t->scenario, &t->faults, seed, prefix);
    c->no_sync = t->no_sync;
    if (o->chaos && !t->scenario->chaos.on && !t->scenario->chaos_off)
        c->chaos = WR_CHAOS_DEFAULT;
    c->controlled = true;
    c->sched.kind = o->strategy;
    c->sched.seed = (seed * 0x9e3779b97f4a7c15ULL ^ (uint64_t)(cell + 1)) &
                    0x3fffffffffffffffULL; /* a JSON integer */
    c->sched.depth = o->depth;
    snprintf(s->dir, sizeof(s->dir), "%s/%s", x->tmpdir, c->dir);
    return wr_store_mkdirs(s->dir);
}

/* An iteration taken but not run: its case and directory go. */
static void discard(slot_t *s)
{
    case_free(&s->c);
    wr_store_rm_rf(s->dir);
}

/* Takes the next iteration into s. Returns false when none is left (the
 * --runs limit) or it cannot be planned. */
static bool take(explorer_t *x, slot_t *s)
{
    long i = atomic_fetch_add(&x->sh->next, 1);

    if (x->o->runs > 0 && i >= x->o->runs)
        return false;
    if (prepare(x, i, s) != 0) {
        discard(s);
        return false;
    }
    return true;
}

/* Runs the iteration of slot s, whose gateway may be warm; starts the
 * gateway of the one after it (warm). Returns WR_STATUS_OK (a finding is
 * kept in x->found), or WR_STATUS_INFRA. */
static wr_status_t iterate(explorer_t *x, slot_t *s, struct wr_sched *shared,
                           const wr_warm_t *warm)
{
    const wr_explore_opts_t *o = x->o;
    size_t cell = (size_t)s->i % x->ncells;
    wr_case_t c = s->c;
    const char *dir = s->dir;
    wr_status_t st;

    /* Learned from the latest iteration of the cell that ended: not a
     * gateway option, so it is set as the case starts. */
    c.sched.expected = x->expected[cell];
    st = wr_run_case_warm(&c, &o->run, shared, dir, warm);
    if (c.sched_arrivals > 0)
        x->expected[cell] = (int)c.sched_arrivals;
    if (st != WR_STATUS_OK) {
        fprintf(stderr, "wsrace explore: %s could not run: %s\n", c.id,
                c.target_error[0] ? c.target_error : "infrastructure");
        case_free(&c);
        wr_store_rm_rf(dir);
        return st;
    }
    atomic_fetch_add(&x->sh->done, 1);
    atomic_fetch_add(&x->sh->schedules, 1);
    atomic_fetch_add(&x->sh->cells[2 * cell], 1);
    note_interleaving(x->sh, c.interleaving);
    if (!wr_explore_is_finding(&c) || stopping(x) ||
        (!o->keep_going && atomic_load(&x->sh->findings) > 0)) {
        /* Iterations that end after the stop are not findings: a case cut
         * short by a signal says nothing. */
        if (wr_explore_is_finding(&c) && !(o->run.stop && *o->run.stop) &&
            (o->keep_going || atomic_load(&x->sh->findings) == 0))
            goto keep;
        case_free(&c);
        wr_store_rm_rf(dir);
        return WR_STATUS_OK;
    }
keep:
    c.as_expected = false;
    atomic_fetch_add(&x->sh->findings, 1);
    atomic_fetch_add(&x->sh->cells[2 * cell + 1], 1);
    if (!o->keep_going)
        atomic_store(&x->sh->stop, 1);
    print_finding(&c);
    {
        wr_case_t *p = realloc(x->found, (x->nfound + 1) * sizeof(*p));

        if (p == NULL) {
            case_free(&c);
            return WR_STATUS_INFRA;
        }
        x->found = p;
        x->found[x->nfound++] = c;
    }
    return WR_STATUS_OK;
}

/* Takes iterations until told to stop, or none is left. Each is taken
 * one ahead: its gateway is started while the one before runs (a warm
 * spare, wr_pool.h). An iteration taken ahead that does not run (the
 * budget, a finding, a signal) leaves nothing: its spare is stopped and
 * its directory removed. after_each (may be NULL) is called after each
 * iteration. Returns WR_STATUS_INFRA after MAX_INFRA iterations in a row
 * that could not run. */
static wr_status_t iterations(explorer_t *x, struct wr_sched *shared,
                              void (*after_each)(explorer_t *, void *),
                              void *arg)
{
    wr_pool_t *pool = x->o->run.url == NULL ? wr_pool_new(1) : NULL;
    wr_sched_t *next_sched = NULL;
    slot_t *cur = calloc(2, sizeof(slot_t)), *nxt;
    bool have, more;
    wr_status_t st = WR_STATUS_OK;

    if (cur == NULL) {
        wr_pool_free(pool);
        return WR_STATUS_INFRA;
    }
    nxt = cur + 1;
    have = !stopping(x) && take(x, cur);
    while (have && !stopping(x)) {
        wr_warm_t warm = {.pool = pool, .sched = &next_sched};
        slot_t *t;

        more = take(x, nxt);
        if (more) {
            warm.next = &nxt->c;
            warm.next_dir = nxt->dir;
        }
        if (iterate(x, cur, shared, &warm) != WR_STATUS_OK) {
            if (atomic_fetch_add(&x->sh->infra, 1) + 1 >= MAX_INFRA) {
                atomic_store(&x->sh->stop, 1);
                st = WR_STATUS_INFRA;
            }
        } else {
            atomic_store(&x->sh->infra, 0);
        }
        if (after_each != NULL)
            after_each(x, arg);
        t = cur;
        cur = nxt;
        nxt = t;
        have = more;
    }
    /* The spare first: it writes into the directory of its iteration. */
    wr_pool_free(pool);
    wr_sched_stop(next_sched);
    if (have)
        discard(cur);
    free(cur < nxt ? cur : nxt);
    return st;
}

/* Takes iterations until told to stop (a job). */
static wr_status_t job_loop(explorer_t *x, struct wr_sched *shared)
{
    return iterations(x, shared, NULL, NULL);
}

/* ------------------------------------------------------------------ */
/* Jobs                                                                 */
/* ------------------------------------------------------------------ */

static int write_found(explorer_t *x, const char *dir)
{
    wr_run_t part = *x->run;
    int rc;

    part.cases = x->found;
    part.ncases = x->nfound;
    part.matrix = NULL;
    part.baseline = NULL;
    part.explored = NULL;
    if ((rc = wr_store_mkdirs(dir)) != 0)
        return rc;
    return wr_report_write_summary(&part, dir);
}

/* Moves the findings a job wrote into the run. */
static int collect(explorer_t *x, const char *dir)
{
    wr_run_t part;
    char err[PATH_MAX + 256];
    int rc = wr_summary_load(dir, x->run->scenarios, x->run->nscenarios,
                             &part, err, sizeof(err));
    wr_case_t *p;

    if (rc != 0) {
        fprintf(stderr, "wsrace explore: %s\n", err);
        return rc;
    }
    p = realloc(x->run->cases,
                (x->run->ncases + part.ncases + 1) * sizeof(*p));
    if (p == NULL) {
        wr_run_free(&part);
        return -ENOMEM;
    }
    x->run->cases = p;
    for (size_t i = 0; i < part.ncases; i++) {
        x->run->cases[x->run->ncases++] = part.cases[i];
        part.cases[i].history = NULL;
        memset(&part.cases[i].sched, 0, sizeof(part.cases[i].sched));
        memset(&part.cases[i].recorded, 0, sizeof(part.cases[i].recorded));
    }
    wr_run_free(&part);
    return 0;
}

static void progress(const explorer_t *x, int64_t t0, bool final)
{
    double s = (double)(wr_now_ns() - t0) / 1e9;
    long done = atomic_load(&x->sh->done);

    printf("%sexplore: %5.1f s  %ld iterations (%.1f/s)  %ld schedules  %ld "
           "distinct interleavings  %ld finding(s)%s",
           isatty(STDOUT_FILENO) && !final ? "\r" : "", s, done,
           s > 0 ? (double)done / s : 0.0, atomic_load(&x->sh->schedules),
           atomic_load(&x->sh->distinct), atomic_load(&x->sh->findings),
           isatty(STDOUT_FILENO) && !final ? "  " : "\n");
    fflush(stdout);
}

/* How often the progress line is written: rewritten every second on a
 * terminal, a line every ten seconds in a log. */
static int64_t progress_every(void)
{
    return isatty(STDOUT_FILENO) ? 1000000000LL : 10000000000LL;
}

typedef struct {
    int64_t t0, last;
} prog_t;

/* The progress line, at most every progress_every(). */
static void progress_after(explorer_t *x, void *arg)
{
    prog_t *p = arg;

    if (wr_now_ns() - p->last > progress_every()) {
        progress(x, p->t0, false);
        p->last = wr_now_ns();
    }
}

/* Runs the jobs (child processes, or this one with a shared scheduler)
 * until the budget ends. */
static wr_status_t run_jobs(explorer_t *x, struct wr_sched *shared)
{
    const wr_explore_opts_t *o = x->o;
    int jobs = shared != NULL || o->run.jobs < 1 ? 1 : o->run.jobs;
    pid_t *pid = calloc((size_t)jobs, sizeof(*pid));
    int64_t t0 = wr_now_ns(), last = t0;
    wr_status_t st = WR_STATUS_OK;
    char dir[PATH_MAX + 32];
    int left = 0;

    if (pid == NULL)
        return WR_STATUS_INFRA;
    if (shared != NULL || jobs == 1) {
        /* In this process: progress after each iteration. */
        prog_t p = {t0, t0};

        st = iterations(x, shared, progress_after, &p);
        progress(x, t0, true);
        free(pid);
        return st;
    }
    fflush(stdout);
    fflush(stderr);
    for (int j = 0; j < jobs; j++) {
        pid[j] = fork();
        if (pid[j] == 0) {
            wr_status_t r = job_loop(x, NULL);

            snprintf(dir, sizeof(dir), "%s/.job-%d", x->tmpdir, j);
            if (write_found(x, dir) != 0)
                r = WR_STATUS_INFRA;
            fflush(stdout);
            _exit((int)r);
        }
        left += pid[j] > 0;
    }
    while (left > 0) {
        struct timespec ts = {0, 50 * 1000000L};

        for (int j = 0; j < jobs; j++) {
            int ws;

            if (pid[j] <= 0 || waitpid(pid[j], &ws, WNOHANG) != pid[j])
                continue;
            if (!WIFEXITED(ws) || WEXITSTATUS(ws) != WR_STATUS_OK)
                st = wr_status_worse(st, WIFEXITED(ws) && WEXITSTATUS(ws) <=
                                                 WR_STATUS_INTERRUPTED
                                             ? (wr_status_t)WEXITSTATUS(ws)
                                             : WR_STATUS_INFRA);
            snprintf(dir, sizeof(dir), "%s/.job-%d", x->tmpdir, j);
            if (WIFEXITED(ws) && collect(x, dir) != 0)
                st = wr_status_worse(st, WR_STATUS_INFRA);
            wr_store_rm_rf(dir);
            pid[j] = 0;
            left--;
        }
        if (stopping(x))
            atomic_store(&x->sh->stop, 1);
        if (wr_now_ns() - last > progress_every()) {
            progress(x, t0, false);
            last = wr_now_ns();
        }
        nanosleep(&ts, NULL);
    }
    progress(x, t0, true);
    free(pid);
    return st;
}

/* ------------------------------------------------------------------ */
/* Shrinking the findings                                               */
/* ------------------------------------------------------------------ */

/* Whether an earlier finding than k has the same scenario and check. */
static bool shrunk_alike(const wr_run_t *run, size_t k)
{
    int ck = wr_shrink_target(&run->cases[k]);

    for (size_t j = 0; j < k; j++)
        if (run->cases[j].scenario == run->cases[k].scenario &&
            wr_shrink_target(&run->cases[j]) == ck)
            return true;
    return false;
}

static wr_status_t shrink_findings(explorer_t *x, struct wr_sched *shared)
{
    const wr_explore_opts_t *o = x->o;
    wr_run_t *run = x->run;
    size_t nfind = run->ncases, done = 0;
    char work[PATH_MAX + 16];
    wr_status_t st = WR_STATUS_OK;

    snprintf(work, sizeof(work), "%s/work", x->tmpdir);
    for (size_t k = 0; k < nfind && st == WR_STATUS_OK; k++) {
        char path[2 * PATH_MAX], err[PATH_MAX + 256], dest[2 * PATH_MAX],
            id[300], name[WR_SCENARIO_NAME_MAX + 1];
        wr_shrink_opts_t so = {
            .run = &o->run,
            .shared = shared,
            .budget_s = o->shrink_budget_s,
            .confirm = o->confirm,
            .workdir = work,
        };
        wr_finding_t *f = wr_explored_add_finding(run->explored);
        wr_shrink_result_t res;
        wr_replay_t r;
        int check = wr_shrink_target(&run->cases[k]);

        if (f == NULL)
            return WR_STATUS_INFRA;
        snprintf(f->case_id, sizeof(f->case_id), "%s", run->cases[k].id);
        if (check >= 0)
            snprintf(f->check, sizeof(f->check), "%s",
                     wsr_check_name((wsr_check_id_t)check));
        if (!o->shrink || check < 0 || done >= (size_t)o->max_shrink ||
            shrunk_alike(run, k))
            continue;
        snprintf(path, sizeof(path), "%s/%s/replay.json", x->tmpdir,
                 run->cases[k].dir);
        if (wr_replay_read(path, &r, err, sizeof(err)) != 0) {
            fprintf(stderr, "wsrace explore: %s\n", err);
            continue;
        }
        snprintf(name, sizeof(name), "%.*s-min", WR_SCENARIO_NAME_MAX - 4,
                 run->cases[k].scenario->name);
        snprintf(id, sizeof(id), "%.200s-min", run->cases[k].id);
        snprintf(dest, sizeof(dest), "%s/cases/%s", x->tmpdir, id);
        if (wr_store_mkdirs(work) != 0) {
            wr_replay_free(&r);
            return WR_STATUS_INFRA;
        }
        printf("shrinking %s on %s\n", run->cases[k].id,
               wsr_check_name((wsr_check_id_t)check));
        fflush(stdout);
        st = wr_shrink(&so, &r, (wsr_check_id_t)check, name, NULL, NULL, dest,
                       id, &res);
        wr_replay_free(&r);
        wr_store_rm_rf(work);
        if (st == WR_STATUS_UNEXPECTED) {
            /* It did not fail again: said, kept unshrunk. */
            st = WR_STATUS_OK;
            continue;
        }
        if (st != WR_STATUS_OK)
            break;
        done++;
        /* f may move when the shrinker's finding is added: refer to it by
         * position. */
        {
            size_t fi = (size_t)(f - run->explored->findings);
            int rc = wr_shrink_into_run(run, &res, (wsr_check_id_t)check,
                                        o->run.self,
                                        &run->explored->findings[fi]);

            wr_shrink_result_clear(&res);
            if (rc != 0)
                return WR_STATUS_INFRA;
            f = &run->explored->findings[fi];
            snprintf(f->case_id, sizeof(f->case_id), "%s", run->cases[k].id);
            printf("shrunk: %d -> %d clients, %d -> %d steps, %d -> %d "
                   "pinned releases in %d runs, %.1f s; it failed %s in %d "
                   "of %d replays\n",
                   f->before.clients, f->after.clients, f->before.steps,
                   f->after.steps, f->before.releases, f->after.releases,
                   f->shrink_runs, f->shrink_s, f->check, f->confirmed,
                   f->confirm_runs);
            fflush(stdout);
        }
    }
    return st;
}

/* ------------------------------------------------------------------ */
/* The exploration                                                      */
/* ------------------------------------------------------------------ */

/* Plans one case per cell; the run keeps the scenarios and inject sets,
 * not the cases. */
static wr_status_t plan_cells(explorer_t *x, wr_scenario_t *const *scs,
                              size_t n)
{
    wr_plan_opts_t po = x->o->run.plan;
    char err[1024];

    po.kind = "explore";
    po.repeat = 1;
    po.shard_index = po.shard_count = 0;
    po.external = x->o->run.url != NULL;
    po.sched = NULL;
    po.chaos = NULL;
    if (wr_plan_build(x->run, &po, scs, n, err, sizeof(err)) != 0) {
        fprintf(stderr, "wsrace explore: %s\n", err);
        return WR_STATUS_BAD_INPUT;
    }
    x->cells = x->run->cases;
    x->ncells = x->run->ncases;
    x->run->cases = NULL;
    x->run->ncases = 0;
    x->run->planned = 0;
    x->run->shard_index = x->o->run.plan.shard_index;
    x->run->shard_count = x->o->run.plan.shard_count;
    /* Shards of one exploration share the plan and its strategy. */
    snprintf(err, sizeof(err), "%s/%s/%d/%d", x->run->plan_id,
             wr_sched_kind_name(x->o->strategy), x->o->depth, x->o->chaos);
    {
        uint64_t h = 0xcbf29ce484222325ULL;

        for (const char *p = err; *p; p++)
            h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
        snprintf(x->run->plan_id, sizeof(x->run->plan_id), "%016llx",
                 (unsigned long long)h);
    }
    return WR_STATUS_OK;
}

static void fill_explored(explorer_t *x, double seconds)
{
    const wr_explore_opts_t *o = x->o;
    wr_explored_t *e = x->run->explored;

    snprintf(e->strategy, sizeof(e->strategy), "%s",
             wr_sched_kind_name(o->strategy));
    e->depth = o->depth;
    e->chaos = o->chaos;
    e->budget_s = o->budget_s;
    e->runs_limit = o->runs;
    e->first_seed = o->run.plan.seed;
    e->iterations = atomic_load(&x->sh->done);
    e->schedules = atomic_load(&x->sh->schedules);
    e->distinct = atomic_load(&x->sh->distinct);
    e->seconds = seconds;
    e->stopped_early = !o->keep_going && atomic_load(&x->sh->findings) > 0;
    e->cells = calloc(x->ncells + 1, sizeof(*e->cells));
    if (e->cells == NULL)
        return;
    for (size_t i = 0; i < x->ncells; i++) {
        wr_explored_cell_t *c = &e->cells[e->ncells++];

        snprintf(c->scenario, sizeof(c->scenario), "%s",
                 x->cells[i].scenario->name);
        snprintf(c->inject, sizeof(c->inject), "%s", x->cells[i].inject);
        c->iterations = atomic_load(&x->sh->cells[2 * i]);
        c->findings = atomic_load(&x->sh->cells[2 * i + 1]);
    }
}

wr_status_t wr_explore(const wr_explore_opts_t *o, wr_scenario_t *const *scs,
                       size_t n, wr_run_t *run)
{
    explorer_t x = {.o = o, .run = run};
    struct wr_sched *shared = NULL;
    wr_status_t st;
    int64_t t0;

    memset(run, 0, sizeof(*run));
    if ((st = plan_cells(&x, scs, n)) != WR_STATUS_OK)
        return st;
    run->explored = calloc(1, sizeof(*run->explored));
    x.expected = calloc(x.ncells, sizeof(*x.expected));
    x.shsize = sizeof(shared_t) + 2 * x.ncells * sizeof(atomic_long);
    x.sh = mmap(NULL, x.shsize, PROT_READ | PROT_WRITE,
                MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (run->explored == NULL || x.expected == NULL || x.sh == MAP_FAILED) {
        if (x.sh != MAP_FAILED)
            munmap(x.sh, x.shsize);
        free(x.expected);
        for (size_t i = 0; i < x.ncells; i++)
            case_free(&x.cells[i]);
        free(x.cells);
        return WR_STATUS_INFRA;
    }
    for (size_t i = 0; i < x.ncells; i++)
        x.expected[i] =
            10 * (int)(wr_scenario_clients(x.cells[i].scenario) > 0
                           ? wr_scenario_clients(x.cells[i].scenario)
                           : 1);
    if ((st = wr_run_open(run, &o->run, x.tmpdir, sizeof(x.tmpdir))) !=
        WR_STATUS_OK)
        goto out;
    if ((st = wr_run_listen(&o->run, &shared)) != WR_STATUS_OK) {
        wr_store_rm_rf(x.tmpdir);
        goto out;
    }
    t0 = wr_now_ns();
    if (o->budget_s > 0)
        x.deadline = t0 + (int64_t)(o->budget_s * 1e9);
    st = run_jobs(&x, shared);
    {
        double secs = (double)(wr_now_ns() - t0) / 1e9;

        if (o->run.stop && *o->run.stop) {
            st = WR_STATUS_INTERRUPTED;
        } else {
            /* Findings of this process (one job) join the run here. */
            for (size_t i = 0; i < x.nfound; i++) {
                wr_case_t *p = realloc(run->cases,
                                       (run->ncases + 1) * sizeof(*p));

                if (p == NULL) {
                    st = WR_STATUS_INFRA;
                    break;
                }
                run->cases = p;
                run->cases[run->ncases++] = x.found[i];
                memset(&x.found[i], 0, sizeof(x.found[i]));
            }
            for (size_t i = 0; i < run->ncases; i++)
                wr_case_set_replay(&run->cases[i], o->run.self, run->dir);
            fill_explored(&x, secs);
            if (st != WR_STATUS_INTERRUPTED)
                st = wr_status_worse(st, shrink_findings(&x, shared));
        }
    }
    wr_run_unlisten(&o->run, shared);
    if (st == WR_STATUS_INTERRUPTED || (o->run.stop && *o->run.stop)) {
        fprintf(stderr, "wsrace: interrupted; no report written\n");
        wr_store_rm_rf(x.tmpdir);
        st = WR_STATUS_INTERRUPTED;
        goto out;
    }
    if (run->explored->nfindings > 0)
        st = wr_status_worse(st, WR_STATUS_UNEXPECTED);
    run->duration_ns = wr_now_ns() - t0;
    st = wr_run_finish(run, &o->run, x.tmpdir, true, st);
out:
    for (size_t i = 0; i < x.nfound; i++)
        case_free(&x.found[i]);
    free(x.found);
    for (size_t i = 0; i < x.ncells; i++)
        case_free(&x.cells[i]);
    free(x.cells);
    free(x.expected);
    munmap(x.sh, x.shsize);
    return st;
}
