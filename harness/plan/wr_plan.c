/* wr_plan.c - Inject sets, matrix rows and the plan of a run.
 *
 * Case ids are "NN-scenario-faults-sSEED" ('+' for ',' and '='): a
 * directory name that says what the case is. The plan id is FNV-1a over
 * the kind, every scenario's name and text, the inject sets, the seeds
 * and the sync switch: shards of one plan, and only they, share it.
 * Single-threaded. */
#include "plan/wr_plan.h"

#include "history/wr_history.h"
#include "plan/wr_explored.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Inject sets                                                          */
/* ------------------------------------------------------------------ */

int wr_inject_parse(const char *text, wr_inject_t *out, char *err,
                    size_t errlen)
{
    wr_inject_t v = {WR_INJECT_SET, {0}};

    if (strcmp(text, "none") == 0 || text[0] == '\0') {
        v.kind = WR_INJECT_NONE;
    } else if (strcmp(text, "exposed") == 0) {
        v.kind = WR_INJECT_EXPOSED;
    } else if (wsr_faults_parse(&v.set, text, err, errlen) != 0) {
        return -EINVAL;
    }
    *out = v;
    return 0;
}

wsr_faults_t wr_inject_resolve(const wr_inject_t *inj, const wr_scenario_t *s)
{
    static const wsr_faults_t none;

    switch (inj->kind) {
    case WR_INJECT_SCENARIO:
        return s->gateway.inject;
    case WR_INJECT_EXPOSED:
        return s->exposes;
    case WR_INJECT_SET:
        return inj->set;
    case WR_INJECT_NONE:
        break;
    }
    return none;
}

/* Appends set to rows unless an equal set is there. */
static int add_row(wr_inject_t **rows, size_t *n, size_t *cap,
                   const wr_inject_t *row)
{
    for (size_t i = 0; i < *n; i++)
        if ((*rows)[i].kind == row->kind &&
            wsr_faults_equal(&(*rows)[i].set, &row->set))
            return 0;
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 16;
        wr_inject_t *p = realloc(*rows, c * sizeof(*p));

        if (p == NULL)
            return -ENOMEM;
        *rows = p;
        *cap = c;
    }
    (*rows)[(*n)++] = *row;
    return 0;
}

int wr_plan_matrix_rows(wr_scenario_t *const *scs, size_t n,
                        const char *faults, wr_inject_t **rows,
                        size_t *nrows, char *err, size_t errlen)
{
    wr_inject_t row = {WR_INJECT_NONE, {0}};
    size_t cap = 0;
    int rc;

    *rows = NULL;
    *nrows = 0;
    if ((rc = add_row(rows, nrows, &cap, &row)) != 0)
        goto fail;
    row.kind = WR_INJECT_SET;
    if (faults != NULL) {
        const char *p = faults;

        while (*p != '\0') {
            const char *comma = strchr(p, ',');
            size_t len = comma ? (size_t)(comma - p) : strlen(p);
            wsr_fault_id_t id;
            unsigned mode;

            memset(&row.set, 0, sizeof(row.set));
            if (len == 9 && strncmp(p, "seed-bugs", 9) == 0) {
                row.set = wsr_faults_seed_bugs();
            } else if (wsr_fault_parse_spec(p, len, &id, &mode, err,
                                            errlen) == 0) {
                row.set.mask = 1u << id;
                row.set.mode[id] = (uint8_t)mode;
            } else {
                rc = -EINVAL;
                goto fail;
            }
            if ((rc = add_row(rows, nrows, &cap, &row)) != 0)
                goto fail;
            p = comma ? comma + 1 : p + len;
        }
        return 0;
    }
    for (int f = 0; f < WSR_FAULT__COUNT; f++) {
        memset(&row.set, 0, sizeof(row.set));
        row.set.mask = 1u << f;
        if ((rc = add_row(rows, nrows, &cap, &row)) != 0)
            goto fail;
        /* Each mode a scenario exposes, after the default. */
        for (size_t k = 0; k < n; k++) {
            if (!wsr_fault_on(&scs[k]->exposes, (wsr_fault_id_t)f) ||
                wsr_fault_mode(&scs[k]->exposes, (wsr_fault_id_t)f) == 0)
                continue;
            row.set.mode[f] =
                (uint8_t)wsr_fault_mode(&scs[k]->exposes, (wsr_fault_id_t)f);
            if ((rc = add_row(rows, nrows, &cap, &row)) != 0)
                goto fail;
            row.set.mode[f] = 0;
        }
    }
    row.set = wsr_faults_seed_bugs();
    if ((rc = add_row(rows, nrows, &cap, &row)) != 0)
        goto fail;
    return 0;
fail:
    if (rc == -ENOMEM)
        snprintf(err, errlen, "out of memory");
    free(*rows);
    *rows = NULL;
    *nrows = 0;
    return rc;
}

/* ------------------------------------------------------------------ */
/* The plan                                                             */
/* ------------------------------------------------------------------ */

/* FNV-1a, 64 bits, continued from h. */
static uint64_t fnv(uint64_t h, const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; p && *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    return (h ^ 0xff) * 1099511628211ull;
}

static void plan_id(wr_run_t *run, const wr_plan_opts_t *o)
{
    uint64_t h = 1469598103934665603ull;
    char text[WSR_FAULTS_TEXT_MAX + 64];

    h = fnv(h, run->kind);
    for (size_t i = 0; i < run->nscenarios; i++) {
        h = fnv(h, run->scenarios[i]->name);
        h = fnv(h, run->scenarios[i]->text);
    }
    for (size_t i = 0; i < run->ninjects; i++) {
        wsr_faults_format(&run->injects[i], text, sizeof(text));
        h = fnv(h, text);
    }
    snprintf(text, sizeof(text), "%llu/%d/%d/%d", o->seed,
             o->repeat > 0 ? o->repeat : 1, (int)o->no_sync,
             (int)o->exposed_cells);
    h = fnv(h, text);
    if (o->chaos != NULL) {
        snprintf(text, sizeof(text), "chaos %d/%d/%d/%d", o->chaos->close_percent,
                 o->chaos->reconnect_percent, o->chaos->burst,
                 o->chaos->probe_percent);
        h = fnv(h, text);
    }
    if (o->sched != NULL) {
        snprintf(text, sizeof(text), "sched %s/%llu/%d/%zu",
                 wr_sched_kind_name(o->sched->kind),
                 (unsigned long long)o->sched->seed, o->sched->depth,
                 o->sched->nsteps);
        h = fnv(h, text);
    }
    snprintf(run->plan_id, sizeof(run->plan_id), "%016llx",
             (unsigned long long)h);
}

/* Whether an earlier case of scenario s ran with the same faults. */
static bool seen(const wr_run_t *run, size_t upto, const wr_scenario_t *s,
                 const wsr_faults_t *f)
{
    for (size_t k = 0; k < upto; k++)
        if (run->cases[k].scenario == s &&
            wsr_faults_equal(&run->cases[k].faults, f))
            return true;
    return false;
}

/* The case's schedule: the plan's, else its scenario's pinned one. */
static int set_schedule(wr_case_t *c, const wr_plan_opts_t *o)
{
    const wr_schedule_t *s =
        o->sched != NULL ? o->sched
        : c->scenario->schedule.kind != WR_SCHED_NONE ? &c->scenario->schedule
                                                      : NULL;

    if (s == NULL)
        return 0;
    c->controlled = true;
    return wr_schedule_copy(&c->sched, s);
}

static void note_inject(wr_run_t *run, const wsr_faults_t *f)
{
    for (size_t i = 0; i < run->ninjects; i++)
        if (wsr_faults_equal(&run->injects[i], f))
            return;
    run->injects[run->ninjects++] = *f;
}

int wr_plan_build(wr_run_t *run, const wr_plan_opts_t *o,
                  wr_scenario_t *const *scs, size_t n, char *err,
                  size_t errlen)
{
    static const wr_inject_t scenario_own = {WR_INJECT_SCENARIO, {0}};
    size_t nsets = o->ninjects ? o->ninjects : 1;
    int repeat = o->repeat > 0 ? o->repeat : 1;
    size_t ci = 0, kept = 0, most;

    memset(run, 0, sizeof(*run));
    if (n > 0 && nsets > SIZE_MAX / n / (size_t)repeat / 2) {
        snprintf(err, errlen, "the plan is too large");
        return -EINVAL;
    }
    most = n * nsets * (size_t)repeat;
    run->cases = calloc(most + 1, sizeof(*run->cases));
    run->scenarios = calloc(n + 1, sizeof(*run->scenarios));
    run->injects = calloc(n * nsets + 1, sizeof(*run->injects));
    if (run->cases == NULL || run->scenarios == NULL || run->injects == NULL) {
        wr_run_clear(run);
        snprintf(err, errlen, "out of memory planning %zu cases", most);
        return -ENOMEM;
    }
    snprintf(run->kind, sizeof(run->kind), "%s", o->kind ? o->kind : "run");
    run->seed = o->seed;
    run->external = o->external;
    run->shard_index = o->shard_index;
    run->shard_count = o->shard_count;
    for (size_t si = 0; si < n; si++) {
        run->scenarios[run->nscenarios++] = scs[si];
        for (size_t ii = 0; ii < nsets; ii++) {
            const wr_inject_t *inj =
                o->ninjects ? &o->injects[ii] : &scenario_own;
            wsr_faults_t f = wr_inject_resolve(inj, scs[si]);

            if (o->external && f.mask != 0) {
                char text[WSR_FAULTS_TEXT_MAX];

                wsr_faults_format(&f, text, sizeof(text));
                snprintf(err, errlen,
                         "--url: faults cannot be injected into an external "
                         "gateway (%s: %s)%s",
                         scs[si]->path, text,
                         inj->kind == WR_INJECT_SCENARIO
                             ? "; add --inject none"
                             : "");
                wr_run_clear(run);
                return -EINVAL;
            }
            if (wsr_faults_cluster_only(&f) >= 0 &&
                !wr_scenario_cluster(scs[si])) {
                if (o->fit_faults)
                    continue; /* a matrix row for the cluster scenarios */
                snprintf(err, errlen,
                         "%s: %s is a fault of a cluster, and this scenario "
                         "runs a lone gateway (its gateway block has no "
                         "'registry: redis')",
                         scs[si]->path,
                         wsr_fault_name((wsr_fault_id_t)
                                            wsr_faults_cluster_only(&f)));
                wr_run_clear(run);
                return -EINVAL;
            }
            /* Only where a scenario exposes the row's fault: elsewhere a
             * fault row shows side effects, not a detection. */
            if (o->exposed_cells && f.mask != 0 &&
                (f.mask & scs[si]->exposes.mask) == 0)
                continue;
            if (seen(run, ci, scs[si], &f))
                continue;
            note_inject(run, &f);
            for (int r = 0; r < repeat; r++, ci++) {
                wr_case_t *c = &run->cases[ci];

                wr_case_init(c, ci, scs[si], &f,
                             scs[si]->seed_pinned
                                 ? scs[si]->seed
                                 : o->seed + (unsigned long long)r,
                             NULL);
                c->repeat = r;
                c->no_sync = o->no_sync;
                if (o->chaos != NULL && !scs[si]->chaos_off)
                    c->chaos = *o->chaos;
                if (set_schedule(c, o) != 0) {
                    snprintf(err, errlen, "out of memory");
                    wr_run_clear(run);
                    return -ENOMEM;
                }
            }
        }
    }
    run->planned = ci;
    for (size_t i = 0; i < ci; i++) {
        if (o->shard_count > 0 &&
            (int)(i % (size_t)o->shard_count) != o->shard_index - 1)
            continue;
        if (kept != i)
            run->cases[kept] = run->cases[i];
        kept++;
    }
    run->ncases = kept;
    plan_id(run, o);
    return 0;
}

void wr_run_clear(wr_run_t *run)
{
    for (size_t i = 0; i < run->ncases; i++) {
        wr_history_free((wr_history_t *)run->cases[i].history);
        wr_schedule_clear(&run->cases[i].sched);
        wr_schedule_clear(&run->cases[i].recorded);
    }
    free(run->cases);
    if (run->explored != NULL) {
        wr_explored_clear(run->explored);
        free(run->explored);
    }
    if (run->owns_scenarios)
        for (size_t i = 0; i < run->nscenarios; i++)
            wr_scenario_free(run->scenarios[i]);
    free(run->scenarios);
    free(run->injects);
    memset(run, 0, sizeof(*run));
}
