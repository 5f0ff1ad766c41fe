/* wr_shrink.c - Reducing a failing case (wr_shrink.h).
 *
 * Every candidate is the current smallest failing variant with one
 * reduction more; it runs once, and becomes the current one when it fails
 * the same check. A candidate whose text the scenario parser refuses (a
 * send with its connect removed) costs nothing: it never runs. A race
 * that a candidate misses by bad luck only makes the result less small,
 * never wrong: what is kept has failed. */
#include "run/wr_shrink.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "drive/wr_target.h"
#include "history/wr_clock.h"
#include "history/wr_history.h"
#include "plan/wr_reduce.h"
#include "run/wr_store.h"
#include "plan/wr_explored.h"

#define ORIGINAL_TRIES 3 /* runs of the original before giving up on it */
#define ACCEPT_RUNS 3    /* runs a variant must fail, all, to be kept */
#define MAX_FALLBACK 4   /* kept variants confirmed at most */

typedef struct {
    const wr_shrink_opts_t *o;
    const wr_replay_t *r;
    wsr_check_id_t check;
    const char *name;
    wr_reduction_t cur; /* the smallest variant known to fail */
    int runs;
    int64_t deadline;
    size_t serial; /* candidate directories */
    bool stopped;  /* budget or signal */
    char last_error[1024]; /* why the last variant did not parse */
    wr_reduction_t *kept;  /* every variant accepted, oldest first */
    size_t nkept;
    uint64_t perturbed; /* runs under random orders so far (seeds) */
} shrinker_t;

static bool over(shrinker_t *sh)
{
    if (!sh->stopped)
        sh->stopped = wr_now_ns() >= sh->deadline ||
                      (sh->o->run->stop && *sh->o->run->stop);
    return sh->stopped;
}

int wr_shrink_target(const wr_case_t *c)
{
    bool designed = (c->faults.mask & c->scenario->exposes.mask) != 0 &&
                    !c->no_sync;
    unsigned detects = 0;
    int first = -1;

    for (int f = 0; f < WSR_FAULT__COUNT; f++)
        if (wsr_fault_on(&c->faults, (wsr_fault_id_t)f))
            detects |= wsr_fault_info((wsr_fault_id_t)f)->detects;
    /* A scenario's own reproduction: what it did not promise. Else the
     * check that catches what was injected, if it failed: the finding's
     * cause rather than a consequence. */
    for (int k = 0; k < WSR_CHECK__COUNT; k++) {
        if (!c->ran[k] || c->results[k].verdict != WR_FAIL)
            continue;
        if (designed ? c->expected[k] == WR_EXPECT_PASS
                     : (detects & (1u << k)) != 0)
            return k;
        if (first < 0)
            first = k;
    }
    return first;
}

int wr_shrink_target_replay(const wr_replay_t *r)
{
    unsigned detects = 0;
    int first = -1;

    for (int f = 0; f < WSR_FAULT__COUNT; f++)
        if (wsr_fault_on(&r->faults, (wsr_fault_id_t)f))
            detects |= wsr_fault_info((wsr_fault_id_t)f)->detects;
    for (int k = 0; k < WSR_CHECK__COUNT; k++) {
        if (!r->ran[k] || r->verdicts[k] != WR_FAIL)
            continue;
        if (detects & (1u << k))
            return k;
        if (first < 0)
            first = k;
    }
    return first;
}

/* ------------------------------------------------------------------ */
/* Running a variant                                                    */
/* ------------------------------------------------------------------ */

/* The text of variant v, with the shrinker's header. NULL when it cannot
 * be written (err says why). */
static char *variant_text(shrinker_t *sh, const wr_reduction_t *v,
                          const char *comment, char *err, size_t errlen)
{
    return wr_reduce_text(sh->r->scenario->text, v, comment, err, errlen);
}

/* Whether variant v pins no release of a scheduled case: it claims that
 * any order of the sync points fails, so it is tried under random orders,
 * not under whatever order this process's timing happens to give (a
 * replay in a process of its own gives others). */
static bool unpinned(const shrinker_t *sh, const wr_reduction_t *v)
{
    return sh->r->controlled && wr_reduction_size(v).releases == 0;
}

/* Runs the scenario text once into dir (made here) as case id, under a
 * random order of its own when perturb and the text pins no schedule.
 * Returns the parsed scenario (the caller frees it after the case) or
 * NULL when the text is not a valid scenario; *st is the run's status. */
static wr_scenario_t *run_text(shrinker_t *sh, const char *text, bool perturb,
                               const char *dir, const char *id, wr_case_t *c,
                               wr_status_t *st)
{
    char err[1024];
    wr_scenario_t *s = wr_scenario_parse("shrunk.yaml", text, err,
                                         sizeof(err));

    *st = WR_STATUS_OK;
    if (s == NULL) {
        snprintf(sh->last_error, sizeof(sh->last_error), "%s", err);
        return NULL;
    }
    wr_case_init(c, 0, s, &sh->r->faults, sh->r->seed, "shrink");
    snprintf(c->id, sizeof(c->id), "%s", id);
    snprintf(c->dir, sizeof(c->dir), "cases/%s", id);
    c->no_sync = sh->r->no_sync;
    if (s->schedule.kind != WR_SCHED_NONE) {
        c->controlled = true;
        if (wr_schedule_copy(&c->sched, &s->schedule) != 0) {
            *st = WR_STATUS_INFRA;
            wr_scenario_free(s);
            return NULL;
        }
    } else if (perturb) {
        c->controlled = true;
        c->sched.kind = WR_SCHED_RANDOM;
        c->sched.seed =
            sh->r->seed * 0x9e3779b97f4a7c15ULL + ++sh->perturbed;
    }
    if (wr_store_mkdirs(dir) != 0) {
        *st = WR_STATUS_INFRA;
        wr_schedule_clear(&c->sched);
        wr_scenario_free(s);
        return NULL;
    }
    *st = wr_run_case(c, sh->o->run, sh->o->shared, dir);
    return s;
}

static void case_clear(wr_case_t *c)
{
    wr_history_free((wr_history_t *)c->history);
    c->history = NULL;
    wr_schedule_clear(&c->sched);
    wr_schedule_clear(&c->recorded);
}

static bool fails_check(const wr_case_t *c, wsr_check_id_t k)
{
    return c->ran[k] && c->results[k].verdict == WR_FAIL;
}

/* Runs variant v once; true when it fails the check (then it becomes the
 * current one, and v is emptied). */
static bool try_variant(shrinker_t *sh, wr_reduction_t *v)
{
    char dir[PATH_MAX], id[64], err[512], *text;
    wr_scenario_t *s;
    wr_case_t c;
    wr_status_t st;
    bool fails = false;

    if (over(sh))
        return false;
    if ((text = variant_text(sh, v, NULL, err, sizeof(err))) == NULL)
        return false;
    snprintf(id, sizeof(id), "try-%zu", sh->serial++);
    if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", sh->o->workdir, id) >=
        sizeof(dir)) {
        free(text);
        return false;
    }
    /* Kept only when it fails every one of ACCEPT_RUNS runs: a variant
     * that fails by luck (without the schedule, a race may still happen
     * now and then) would make a result that does not replay. Most
     * variants pass their first run and cost one. */
    for (int k = 0; k < ACCEPT_RUNS; k++) {
        s = run_text(sh, text, unpinned(sh, v), dir, id, &c, &st);
        fails = false;
        if (s != NULL) {
            sh->runs++;
            fails = st == WR_STATUS_OK && fails_check(&c, sh->check);
            case_clear(&c);
            wr_scenario_free(s);
        }
        wr_store_rm_rf(dir);
        if (!fails || over(sh))
            break;
    }
    free(text);
    if (fails) {
        wr_reduction_t *p = realloc(sh->kept,
                                    (sh->nkept + 1) * sizeof(*p));

        if (p == NULL || wr_reduction_copy(&p[sh->nkept], v) != 0) {
            if (p != NULL)
                sh->kept = p;
            return false;
        }
        sh->kept = p;
        sh->nkept++;
        wr_reduction_clear(&sh->cur);
        sh->cur = *v;
        memset(v, 0, sizeof(*v));
        if (!sh->o->quiet) {
            wr_case_size_t z = wr_reduction_size(&sh->cur);

            printf("shrink: %d clients, %d steps, %d sync actions, %d "
                   "pinned releases%s (run %d)\n",
                   z.clients, z.steps, z.sync, z.releases,
                   z.chaos ? ", chaos" : "", sh->runs);
            fflush(stdout);
        }
    }
    return fails;
}

/* A copy of the current variant to change. false when out of memory. */
static bool candidate(shrinker_t *sh, wr_reduction_t *v)
{
    return wr_reduction_copy(v, &sh->cur) == 0;
}

/* ------------------------------------------------------------------ */
/* Delta debugging over one kind of unit                                */
/* ------------------------------------------------------------------ */

/* A kind of unit the variant can lose: how many are kept, and a variant
 * without the kept ones numbered [from, from + n). */
typedef struct {
    size_t (*count)(const wr_reduction_t *r, size_t arg);
    void (*drop)(wr_reduction_t *r, size_t arg, size_t from, size_t n);
    size_t arg;
    size_t keep_at_least; /* never fewer kept than this */
} unit_t;

/* Removes chunks of units, halving the chunk when no chunk can go:
 * ddmin's "reduce to complement" steps, which is what finds a minimal
 * set when single units are independent. Returns whether any went. */
static bool ddmin(shrinker_t *sh, const unit_t *u)
{
    size_t n = u->count(&sh->cur, u->arg), chunk = (n + 1) / 2;
    bool any = false;

    while (chunk >= 1 && n > u->keep_at_least && !over(sh)) {
        bool progress = false;

        for (size_t from = 0; from < n && !over(sh);) {
            size_t take = chunk < n - from ? chunk : n - from;
            wr_reduction_t v;

            if (n - take < u->keep_at_least) {
                from += take;
                continue;
            }
            if (!candidate(sh, &v))
                return any;
            u->drop(&v, u->arg, from, take);
            if (try_variant(sh, &v)) {
                progress = any = true;
                n = u->count(&sh->cur, u->arg);
            } else {
                from += take;
            }
            wr_reduction_clear(&v);
        }
        if (!progress)
            chunk /= 2;
        else if (chunk > n)
            chunk = (n + 1) / 2;
    }
    return any;
}

/* Kept units among keep[0..n) */
static size_t kept(const bool *keep, size_t n)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++)
        k += keep[i];
    return k;
}

/* Drops the kept units from..from+len (counted among the kept ones). */
static void drop_kept(bool *keep, size_t n, size_t from, size_t len)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++)
        if (keep[i]) {
            if (k >= from && k < from + len)
                keep[i] = false;
            k++;
        }
}

/* Units: groups */
static size_t groups_count(const wr_reduction_t *r, size_t arg)
{
    (void)arg;
    return kept(r->keep_group, r->ngroups);
}

static void groups_drop(wr_reduction_t *r, size_t arg, size_t from, size_t n)
{
    (void)arg;
    drop_kept(r->keep_group, r->ngroups, from, n);
}

/* Units: the steps of group arg */
static size_t steps_count(const wr_reduction_t *r, size_t g)
{
    return wr_reduction_steps(r, g);
}

static void steps_drop(wr_reduction_t *r, size_t g, size_t from, size_t n)
{
    drop_kept(r->keep_step[g], r->nsteps[g], from, n);
}

/* Units: the scenario's sync actions */
static size_t sync_count(const wr_reduction_t *r, size_t arg)
{
    (void)arg;
    return kept(r->keep_sync, r->nsync);
}

static void sync_drop(wr_reduction_t *r, size_t arg, size_t from, size_t n)
{
    (void)arg;
    drop_kept(r->keep_sync, r->nsync, from, n);
}

/* Units: the pinned releases */
static size_t rel_count(const wr_reduction_t *r, size_t arg)
{
    (void)arg;
    return r->schedule.nsteps;
}

static void rel_drop(wr_reduction_t *r, size_t arg, size_t from, size_t n)
{
    wr_schedule_t *s = &r->schedule;

    (void)arg;
    memmove(&s->steps[from], &s->steps[from + n],
            (s->nsteps - from - n) * sizeof(*s->steps));
    s->nsteps -= n;
}

/* ------------------------------------------------------------------ */
/* The passes                                                           */
/* ------------------------------------------------------------------ */

static bool pass_schedule_off(shrinker_t *sh)
{
    wr_reduction_t v;
    bool ok;

    if (sh->cur.schedule.kind == WR_SCHED_NONE || !candidate(sh, &v))
        return false;
    wr_schedule_clear(&v.schedule);
    ok = try_variant(sh, &v);
    wr_reduction_clear(&v);
    return ok;
}

static bool pass_chaos(shrinker_t *sh)
{
    wr_reduction_t v;
    bool any = false;

    if (!sh->cur.chaos.on || !candidate(sh, &v))
        return false;
    v.chaos.on = false;
    if (try_variant(sh, &v)) {
        wr_reduction_clear(&v);
        return true;
    }
    wr_reduction_clear(&v);
    for (int k = 0; k < 4 && sh->cur.chaos.on; k++) {
        int *field[4];

        if (!candidate(sh, &v))
            break;
        field[0] = &v.chaos.close_percent;
        field[1] = &v.chaos.reconnect_percent;
        field[2] = &v.chaos.burst;
        field[3] = &v.chaos.probe_percent;
        if (*field[k] != 0) {
            *field[k] = 0;
            any |= try_variant(sh, &v);
        }
        wr_reduction_clear(&v);
    }
    return any;
}

/* Lowers each kept group's count: to 1, else by halves, else by one. */
static bool pass_counts(shrinker_t *sh)
{
    bool any = false;

    for (size_t g = 0; g < sh->cur.ngroups && !over(sh); g++) {
        while (sh->cur.keep_group[g] && sh->cur.count[g] > 1 && !over(sh)) {
            int n = sh->cur.count[g], tries[3] = {1, n / 2, n - 1};
            bool went = false;

            for (int t = 0; t < 3 && !went; t++) {
                wr_reduction_t v;

                if (tries[t] < 1 || tries[t] >= n ||
                    (t > 0 && tries[t] == tries[t - 1]) || !candidate(sh, &v))
                    continue;
                v.count[g] = tries[t];
                went = try_variant(sh, &v);
                wr_reduction_clear(&v);
            }
            if (!went)
                break;
            any = true;
        }
    }
    return any;
}

/* The sessions the variant's clients ask for. */
static bool has_session(const wr_scenario_t *s, const wr_reduction_t *r,
                        const char *session)
{
    int gi = 0;

    for (size_t g = 0; g < r->ngroups; g++) {
        if (!r->keep_group[g])
            continue;
        for (int i = 0; i < r->count[g]; i++, gi++) {
            const wr_group_t *grp = &s->groups[g];
            char *user = wr_scenario_expand(grp->user, i, gi, NULL, NULL,
                                            0);
            char *sess = wr_scenario_expand(grp->session, i, gi, user, NULL,
                                            0);
            bool same = sess != NULL && strcmp(sess, session) == 0;

            free(user);
            free(sess);
            if (same)
                return true;
        }
    }
    return false;
}

/* Drops the releases of sessions no client asks for any more: they would
 * only make the replay wait for arrivals that cannot come. */
static bool pass_stale_releases(shrinker_t *sh)
{
    wr_reduction_t v;
    wr_schedule_t *s;
    size_t kept = 0;
    bool ok;

    if (sh->cur.schedule.nsteps == 0 || !candidate(sh, &v))
        return false;
    s = &v.schedule;
    for (size_t i = 0; i < s->nsteps; i++)
        if (s->steps[i].session[0] == '\0' ||
            has_session(sh->r->scenario, &v, s->steps[i].session))
            s->steps[kept++] = s->steps[i];
    if (kept == s->nsteps) {
        wr_reduction_clear(&v);
        return false;
    }
    s->nsteps = kept;
    ok = try_variant(sh, &v);
    wr_reduction_clear(&v);
    return ok;
}

/* The shortest prefix of the pinned releases that still fails (the tail
 * runs free): a binary search, which the failure need not be monotone
 * in; it keeps only what failed. */
static bool pass_prefix(shrinker_t *sh)
{
    size_t lo = 0, hi = sh->cur.schedule.nsteps;
    bool any = false;

    while (lo < hi && !over(sh)) {
        size_t mid = lo + (hi - lo) / 2;
        wr_reduction_t v;

        if (!candidate(sh, &v))
            break;
        v.schedule.nsteps = mid;
        if (try_variant(sh, &v)) {
            hi = mid;
            any = true;
        } else {
            lo = mid + 1;
        }
        wr_reduction_clear(&v);
    }
    return any;
}

static bool one_round(shrinker_t *sh)
{
    bool any = false;
    unit_t groups = {groups_count, groups_drop, 0, 1};
    unit_t sync = {sync_count, sync_drop, 0, 0};
    unit_t rel = {rel_count, rel_drop, 0, 0};

    any |= pass_schedule_off(sh);
    any |= pass_chaos(sh);
    any |= ddmin(sh, &groups);
    any |= pass_counts(sh);
    any |= ddmin(sh, &sync);
    for (size_t g = 0; g < sh->cur.ngroups && !over(sh); g++)
        if (sh->cur.keep_group[g]) {
            unit_t steps = {steps_count, steps_drop, g, 1};

            any |= ddmin(sh, &steps);
        }
    any |= pass_stale_releases(sh);
    any |= pass_prefix(sh);
    any |= ddmin(sh, &rel);
    return any;
}

/* ------------------------------------------------------------------ */
/* The whole                                                            */
/* ------------------------------------------------------------------ */

/* The shrunk scenario's header comment. */
static char *header(const shrinker_t *sh, const wr_shrink_result_t *res)
{
    char *buf = NULL, faults[WSR_FAULTS_TEXT_MAX];
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (f == NULL)
        return NULL;
    wsr_faults_format(&sh->r->faults, faults, sizeof(faults));
    fprintf(f, "Shrunk by wsrace from case %s\n",
            sh->r->case_id[0] ? sh->r->case_id : sh->r->scenario->name);
    fprintf(f, "(scenario %s, seed %llu%s%s): the smallest variant found\n",
            sh->r->scenario->name, sh->r->seed,
            faults[0] ? ", injected " : "", faults);
    fprintf(f, "that still fails %s.\n", wsr_check_name(sh->check));
    fprintf(f, "  original: %d clients, %d steps, %d sync actions, %d "
               "pinned releases%s\n",
            res->before.clients, res->before.steps, res->before.sync,
            res->before.releases, res->before.chaos ? ", chaos" : "");
    fprintf(f, "  here:     %d clients, %d steps, %d sync actions, %d "
               "pinned releases%s\n",
            res->after.clients, res->after.steps, res->after.sync,
            res->after.releases, res->after.chaos ? ", chaos" : "");
    if (res->after.releases > 0)
        fprintf(f, "The schedule pins the order of the releases that "
                   "matter; the target's\nother sync-point arrivals run "
                   "free.\n");
    if (faults[0])
        fprintf(f, "With %s injected (wsrace run --inject exposed FILE, or "
                   "the matrix)\n%s must FAIL; without it every check must "
                   "PASS.\n",
                faults, wsr_check_name(sh->check));
    else
        fprintf(f, "wsrace run FILE fails %s until the race is fixed.\n",
                wsr_check_name(sh->check));
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* The starting variant: the replayed case as a self-contained scenario:
 * its chaos, its recorded schedule, its seed pinned, what it injected
 * exposed, the new name. */
static int start_variant(shrinker_t *sh)
{
    const wr_replay_t *r = sh->r;
    wr_reduction_t *v = &sh->cur;
    int rc = wr_reduction_init(v, r->scenario);

    if (rc != 0)
        return rc;
    if (r->chaos.on)
        v->chaos = r->chaos;
    wr_schedule_clear(&v->schedule);
    if (r->controlled && (rc = wr_schedule_copy(&v->schedule, &r->sched)))
        return rc;
    if (r->controlled)
        v->schedule.kind = WR_SCHED_REPLAY;
    v->seed_pinned = true;
    v->seed = r->seed;
    v->set_exposes = true;
    v->exposes = r->scenario->exposes;
    v->exposes.mask |= r->faults.mask;
    for (int i = 0; i < WSR_FAULT__COUNT; i++)
        if (r->faults.mask & (1u << i))
            v->exposes.mode[i] = r->faults.mode[i];
    return 0;
}

/* Runs text until it fails the check, at most tries times (perturb: as
 * run_text). Returns the runs that failed among those made; stops at the
 * first failure when first_only. The kept run (the first failing, else
 * the last) is left in dest as case id, its scenario in *scen. */
static int replay_text(shrinker_t *sh, const char *text, bool perturb,
                       int tries, bool first_only, const char *dest,
                       const char *id, wr_case_t *kept, wr_scenario_t **scen,
                       int *made)
{
    char dir[PATH_MAX];
    int failed = 0;
    bool have = false;

    *made = 0;
    for (int t = 0; t < tries; t++) {
        wr_case_t c;
        wr_status_t st;
        wr_scenario_t *s;
        bool fails;

        if (sh->o->run->stop && *sh->o->run->stop)
            break;
        snprintf(dir, sizeof(dir), "%s/confirm-%zu", sh->o->workdir,
                 sh->serial++);
        s = run_text(sh, text, perturb, dir, id, &c, &st);
        if (s == NULL) {
            wr_store_rm_rf(dir);
            break;
        }
        (*made)++;
        fails = st == WR_STATUS_OK && fails_check(&c, sh->check);
        failed += fails;
        if (dest != NULL && (!have || (fails && failed == 1))) {
            /* Keep this one: the first failing, else the latest. */
            if (have) {
                case_clear(kept);
                wr_scenario_free(*scen);
                wr_store_rm_rf(dest);
            }
            if (rename(dir, dest) == 0) {
                *kept = c;
                *scen = s;
                have = true;
                s = NULL;
            }
        }
        if (s != NULL) {
            case_clear(&c);
            wr_scenario_free(s);
        }
        wr_store_rm_rf(dir);
        if (fails && first_only)
            break;
    }
    return failed;
}

static int write_file(const char *dir, const char *name, const char *text)
{
    char path[PATH_MAX];
    FILE *f;
    int rc = 0;

    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
        sizeof(path))
        return -ENAMETOOLONG;
    if ((f = fopen(path, "wx")) == NULL)
        return -errno;
    if (fputs(text, f) < 0)
        rc = -EIO;
    if (fclose(f) != 0 && rc == 0)
        rc = -errno;
    return rc;
}

wr_status_t wr_shrink(const wr_shrink_opts_t *o, const wr_replay_t *r,
                      wsr_check_id_t check, const char *name,
                      const char *orig_dest, const char *orig_id,
                      const char *dest, const char *id,
                      wr_shrink_result_t *out)
{
    shrinker_t sh = {.o = o, .r = r, .check = check, .name = name};
    char err[512], *text, *comment, best_dir[PATH_MAX + 32] = "";
    int64_t t0 = wr_now_ns();
    int made, confirm = o->confirm > 0 ? o->confirm : 5;
    wr_scenario_t *scen = NULL;
    wr_case_t kept;

    memset(out, 0, sizeof(*out));
    memset(&kept, 0, sizeof(kept));
    if (start_variant(&sh) != 0) {
        wr_reduction_clear(&sh.cur);
        return WR_STATUS_INFRA;
    }
    out->before = wr_reduction_size(&sh.cur);
    sh.deadline = t0 + (int64_t)((o->budget_s > 0 ? o->budget_s : 60) * 1e9);
    /* The original, as a scenario of its own, must fail first. */
    if ((text = variant_text(&sh, &sh.cur, NULL, err, sizeof(err))) == NULL) {
        fprintf(stderr, "wsrace shrink: %s\n", err);
        wr_reduction_clear(&sh.cur);
        return WR_STATUS_INFRA;
    }
    if (replay_text(&sh, text, false, ORIGINAL_TRIES, true, orig_dest,
                    orig_id, &out->original, &out->original_scenario,
                    &made) == 0) {
        if (out->original_scenario != NULL) {
            case_clear(&out->original);
            wr_scenario_free(out->original_scenario);
            out->original_scenario = NULL;
            wr_store_rm_rf(orig_dest);
        }
        free(text);
        wr_reduction_clear(&sh.cur);
        if (o->run->stop && *o->run->stop)
            return WR_STATUS_INTERRUPTED;
        if (made == 0)
            fprintf(stderr, "wsrace shrink: the case as a scenario of its "
                            "own does not load: %s\n",
                    sh.last_error);
        else
            fprintf(stderr, "wsrace shrink: the case did not fail %s in %d "
                            "runs: nothing to shrink\n",
                    wsr_check_name(check), made);
        return WR_STATUS_UNEXPECTED;
    }
    free(text);
    sh.runs += made;
    sh.kept = calloc(1, sizeof(*sh.kept));
    if (sh.kept == NULL || wr_reduction_copy(&sh.kept[0], &sh.cur) != 0) {
        free(sh.kept);
        wr_reduction_clear(&sh.cur);
        wr_shrink_result_clear(out);
        return WR_STATUS_INFRA;
    }
    sh.nkept = 1;
    if (!o->quiet) {
        printf("shrink: %s fails %s; reducing (budget %.0f s)\n",
               r->scenario->name, wsr_check_name(check),
               o->budget_s > 0 ? o->budget_s : 60.0);
        fflush(stdout);
    }
    while (!over(&sh) && one_round(&sh))
        ;
    out->seconds = (double)(wr_now_ns() - t0) / 1e9;
    out->runs = sh.runs;
    out->after = wr_reduction_size(&sh.cur);
    if (o->run->stop && *o->run->stop) {
        for (size_t k = 0; k < sh.nkept; k++)
            wr_reduction_clear(&sh.kept[k]);
        free(sh.kept);
        wr_reduction_clear(&sh.cur);
        wr_shrink_result_clear(out);
        return WR_STATUS_INTERRUPTED;
    }
    out->confirmed = -1;
    /* The smallest variant that fails every confirming replay: the newest
     * first, then older ones (a variant kept on three lucky failures
     * gives way to the one before it), at most MAX_FALLBACK of them; else
     * the one that failed most often. */
    for (size_t k = sh.nkept, tried = 0;
         k-- > 0 && tried < MAX_FALLBACK && !(o->run->stop && *o->run->stop);
         tried++) {
        wr_reduction_t *v = &sh.kept[k];
        wr_case_t c;
        wr_scenario_t *s2 = NULL;
        wr_case_size_t z = wr_reduction_size(v);
        char cand[PATH_MAX + 32];
        int ok, made2;

        memset(&c, 0, sizeof(c));
        snprintf(v->name, sizeof(v->name), "%s", name);
        snprintf(v->description, sizeof(v->description),
                 "The smallest variant of %s that still fails %s.",
                 r->scenario->name, wsr_check_name(check));
        out->after = z;
        comment = header(&sh, out);
        text = variant_text(&sh, v, comment, err, sizeof(err));
        free(comment);
        if (text == NULL)
            continue;
        snprintf(cand, sizeof(cand), "%s/cand-%zu", o->workdir, k);
        ok = replay_text(&sh, text, unpinned(&sh, v), confirm, false, cand,
                         id, &c, &s2, &made2);
        if (s2 == NULL) {
            free(text);
            continue;
        }
        if (ok > out->confirmed ||
            (ok == out->confirmed && best_dir[0] == '\0')) {
            if (scen != NULL) {
                case_clear(&kept);
                wr_scenario_free(scen);
                wr_store_rm_rf(best_dir);
            }
            free(out->yaml);
            kept = c;
            scen = s2;
            out->yaml = text;
            out->confirmed = ok;
            out->confirm_runs = made2;
            out->after = z;
            snprintf(best_dir, sizeof(best_dir), "%s", cand);
        } else {
            case_clear(&c);
            wr_scenario_free(s2);
            wr_store_rm_rf(cand);
            free(text);
        }
        if (ok == made2 && made2 > 0)
            break;
        if (!o->quiet) {
            printf("shrink: the variant with %d clients failed %d of %d "
                   "replays; trying the one before it\n",
                   z.clients, ok, made2);
            fflush(stdout);
        }
    }
    for (size_t k = 0; k < sh.nkept; k++)
        wr_reduction_clear(&sh.kept[k]);
    free(sh.kept);
    wr_reduction_clear(&sh.cur);
    if (scen == NULL || rename(best_dir, dest) != 0 ||
        write_file(dest, "scenario.yaml", out->yaml) != 0) {
        if (scen != NULL) {
            case_clear(&kept);
            wr_scenario_free(scen);
            wr_store_rm_rf(best_dir);
        }
        wr_shrink_result_clear(out);
        return o->run->stop && *o->run->stop ? WR_STATUS_INTERRUPTED
                                               : WR_STATUS_INFRA;
    }
    out->scenario = scen;
    out->kase = kept;
    out->kase.scenario = scen;
    return WR_STATUS_OK;
}

void wr_shrink_result_clear(wr_shrink_result_t *r)
{
    case_clear(&r->kase);
    wr_scenario_free(r->scenario);
    case_clear(&r->original);
    wr_scenario_free(r->original_scenario);
    free(r->yaml);
    memset(r, 0, sizeof(*r));
}

/* Adds s to run's scenarios (the array is the run's; s stays where it
 * is owned). Returns 0 or -ENOMEM. */
static int add_scenario(wr_run_t *run, wr_scenario_t *s)
{
    wr_scenario_t **p;

    for (size_t i = 0; i < run->nscenarios; i++)
        if (run->scenarios[i] == s)
            return 0;
    p = realloc(run->scenarios, (run->nscenarios + 2) * sizeof(*p));
    if (p == NULL)
        return -ENOMEM;
    run->scenarios = p;
    run->scenarios[run->nscenarios++] = s;
    return 0;
}

/* Appends c to run's cases (taken). Returns 0 or -ENOMEM. */
static int add_case(wr_run_t *run, wr_case_t *c)
{
    wr_case_t *p = realloc(run->cases, (run->ncases + 1) * sizeof(*p));

    if (p == NULL)
        return -ENOMEM;
    run->cases = p;
    run->cases[run->ncases++] = *c;
    memset(c, 0, sizeof(*c));
    return 0;
}

int wr_shrink_into_run(wr_run_t *run, wr_shrink_result_t *res,
                       wsr_check_id_t check, const char *self,
                       wr_finding_t *f)
{
    wr_explored_t *e = run->explored;
    int rc;

    if (e == NULL)
        return -EINVAL;
    snprintf(f->check, sizeof(f->check), "%s", wsr_check_name(check));
    f->before = res->before;
    f->after = res->after;
    f->shrink_runs = res->runs;
    f->shrink_s = res->seconds;
    f->confirmed = res->confirmed;
    f->confirm_runs = res->confirm_runs;
    if (res->original_scenario != NULL) {
        snprintf(f->case_id, sizeof(f->case_id), "%s", res->original.id);
        wr_case_set_replay(&res->original, self, run->dir);
        if ((rc = wr_explored_own(e, res->original_scenario)) != 0 ||
            (rc = add_scenario(run, res->original_scenario)) != 0)
            return rc;
        res->original_scenario = NULL;
        if ((rc = add_case(run, &res->original)) != 0)
            return rc;
    }
    snprintf(f->shrunk_id, sizeof(f->shrunk_id), "%s", res->kase.id);
    wr_case_set_replay(&res->kase, self, run->dir);
    snprintf(f->yaml, sizeof(f->yaml), "cases/%s/scenario.yaml",
             res->kase.id);
    if ((rc = wr_explored_own(e, res->scenario)) != 0 ||
        (rc = add_scenario(run, res->scenario)) != 0)
        return rc;
    res->scenario = NULL;
    return add_case(run, &res->kase);
}
