/* test-plan.c - Inject sets, matrix rows and the plan of a run
 * (wr_plan.c).
 *
 * Scenarios are parsed from small texts (wr_scenario_parse): alpha exposes
 * fallback-ready, beta scope-loss=swallow, eps scope-loss=error, gamma
 * nothing but injects registry-leak on its own. Covered: --inject values
 * parsed and resolved per scenario; the matrix rows by default and from
 * --faults; the plan's cases, their order, ids, directories and indices,
 * sets that repeat for a scenario, the plan id, shards that cover the plan
 * once, and faults refused for an external target. Rows and expectations
 * are read from the fault catalog, not restated.
 *
 * Criterion 2.4.1: gt() tests >=, and cr_assert() cannot take a bare
 * macro call; conditions are written as eq(int, cond ? 1 : 0, 1). */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/wr_plan.h"

static wr_scenario_t *scenario(const char *name, const char *exposes,
                               const char *extra)
{
    char text[1024], path[128], err[512];
    wr_scenario_t *s;

    snprintf(text, sizeof(text),
             "name: %s\ndescription: The %s scenario.\nexposes: [%s]\n%s"
             "clients:\n  - steps: [connect, close]\n",
             name, name, exposes, extra);
    snprintf(path, sizeof(path), "scenarios/%s.yaml", name);
    s = wr_scenario_parse(path, text, err, sizeof(err));
    cr_assert(not(zero(ptr, s)), "%s", err);
    return s;
}

static wr_scenario_t *alpha(void)
{
    return scenario("alpha", "fallback-ready", "");
}

static wr_scenario_t *beta(void)
{
    return scenario("beta", "scope-loss=swallow", "");
}

static wr_scenario_t *gamma_(void)
{
    return scenario("gamma", "", "gateway:\n  inject: [registry-leak]\n");
}

static wr_inject_t inject(const char *text)
{
    wr_inject_t v;
    char err[256];

    cr_assert(eq(int, wr_inject_parse(text, &v, err, sizeof(err)), 0), "%s",
              err);
    return v;
}

static wsr_faults_t faults(const char *list)
{
    wsr_faults_t f = {0};
    char err[256];

    cr_assert(eq(int, wsr_faults_parse(&f, list, err, sizeof(err)), 0), "%s",
              err);
    return f;
}

static const char *fmt(const wsr_faults_t *f, char *buf)
{
    cr_assert(lt(int, wsr_faults_format(f, buf, WSR_FAULTS_TEXT_MAX),
                 WSR_FAULTS_TEXT_MAX));
    return buf;
}

static void build(wr_run_t *run, const wr_plan_opts_t *o,
                  wr_scenario_t *const *scs, size_t n)
{
    char err[512] = "";

    cr_assert(eq(int, wr_plan_build(run, o, scs, n, err, sizeof(err)), 0),
              "%s", err);
}

/* ------------------------------------------------------------------ */
/* --inject                                                             */
/* ------------------------------------------------------------------ */

Test(plan, inject_parse_none_exposed_and_lists, .timeout = 10)
{
    wr_inject_t v;
    char buf[WSR_FAULTS_TEXT_MAX];

    v = inject("none");
    cr_assert(eq(int, (int)v.kind, (int)WR_INJECT_NONE));
    v = inject("");
    cr_assert(eq(int, (int)v.kind, (int)WR_INJECT_NONE));
    v = inject("exposed");
    cr_assert(eq(int, (int)v.kind, (int)WR_INJECT_EXPOSED));
    cr_assert(eq(u32, v.set.mask, 0));
    v = inject("scope-loss=swallow, fallback-ready");
    cr_assert(eq(int, (int)v.kind, (int)WR_INJECT_SET));
    cr_assert(eq(u32, wsr_faults_count(&v.set), 2));
    cr_assert(eq(u32, wsr_fault_mode(&v.set, WSR_FAULT_SCOPE_LOSS),
                 (unsigned)wsr_fault_mode_from_name(WSR_FAULT_SCOPE_LOSS,
                                                    "swallow", 7)));
    cr_assert(eq(str, (char *)fmt(&v.set, buf),
                 "fallback-ready,scope-loss=swallow"));
}

Test(plan, inject_parse_names_the_bad_fault, .timeout = 10)
{
    static const struct {
        const char *text, *word;
    } bad[] = {
        {"fallback-ready,no-such-fault", "no-such-fault"},
        {"scope-loss=sideways", "sideways"},
        {"stuck-swap=crash", "stuck-swap"},
        {"Exposed", "Exposed"},
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        wr_inject_t v = {WR_INJECT_EXPOSED, {0}};
        char err[256] = "";

        cr_assert(eq(int, wr_inject_parse(bad[i].text, &v, err, sizeof(err)),
                     -EINVAL),
                  "%s", bad[i].text);
        cr_assert(eq(int, strstr(err, bad[i].word) != NULL ? 1 : 0, 1),
                  "no '%s' in: %s", bad[i].word, err);
        /* Untouched on error. */
        cr_assert(eq(int, (int)v.kind, (int)WR_INJECT_EXPOSED));
    }
}

Test(plan, inject_resolves_per_scenario, .timeout = 10)
{
    wr_scenario_t *a = alpha(), *g = gamma_();
    wr_inject_t own = {WR_INJECT_SCENARIO, {0}};
    wr_inject_t none = inject("none"), exposed = inject("exposed"),
                set = inject("stuck-swap");
    wsr_faults_t f, want;

    f = wr_inject_resolve(&own, g);
    want = faults("registry-leak");
    cr_assert(eq(int, wsr_faults_equal(&f, &want) ? 1 : 0, 1));
    f = wr_inject_resolve(&own, a);
    cr_assert(eq(u32, f.mask, 0));
    f = wr_inject_resolve(&exposed, a);
    cr_assert(eq(int, wsr_faults_equal(&f, &a->exposes) ? 1 : 0, 1));
    cr_assert(eq(u32, f.mask, 1u << WSR_FAULT_FALLBACK_READY));
    f = wr_inject_resolve(&exposed, g);
    cr_assert(eq(u32, f.mask, 0));
    f = wr_inject_resolve(&none, g);
    cr_assert(eq(u32, f.mask, 0));
    f = wr_inject_resolve(&set, a);
    want = faults("stuck-swap");
    cr_assert(eq(int, wsr_faults_equal(&f, &want) ? 1 : 0, 1));
    wr_scenario_free(a);
    wr_scenario_free(g);
}

/* ------------------------------------------------------------------ */
/* Matrix rows                                                          */
/* ------------------------------------------------------------------ */

Test(plan, default_rows_cover_each_fault_and_exposed_mode, .timeout = 10)
{
    wr_scenario_t *scs[] = {alpha(), beta(),
                            scenario("eps", "scope-loss=error", ""),
                            scenario("beta-two", "scope-loss=swallow", "")};
    wr_inject_t *rows;
    size_t nrows, r = 0;
    char err[256] = "", buf[WSR_FAULTS_TEXT_MAX];
    wsr_faults_t seed = wsr_faults_seed_bugs();

    cr_assert(eq(int, wr_plan_matrix_rows(scs, 4, NULL, &rows, &nrows, err,
                                          sizeof(err)),
                 0),
              "%s", err);
    /* none, each fault, swallow and error once each, the seed bugs. */
    cr_assert(eq(sz, nrows, (size_t)WSR_FAULT__COUNT + 4));
    cr_assert(eq(int, (int)rows[r].kind, (int)WR_INJECT_NONE));
    cr_assert(eq(u32, rows[r++].set.mask, 0));
    for (int f = 0; f < WSR_FAULT__COUNT; f++) {
        cr_assert(eq(int, (int)rows[r].kind, (int)WR_INJECT_SET));
        cr_assert(eq(str, (char *)fmt(&rows[r++].set, buf),
                     (char *)wsr_fault_name(f)));
        if (f == WSR_FAULT_SCOPE_LOSS) {
            /* Each non-default mode a scenario exposes, in scenario
             * order, right after its fault. */
            cr_assert(eq(str, (char *)fmt(&rows[r++].set, buf),
                         "scope-loss=swallow"));
            cr_assert(eq(str, (char *)fmt(&rows[r++].set, buf),
                         "scope-loss=error"));
        }
    }
    cr_assert(eq(int, wsr_faults_equal(&rows[r].set, &seed) ? 1 : 0, 1));
    cr_assert(eq(sz, r + 1, nrows));
    free(rows);
    for (size_t i = 0; i < 4; i++)
        wr_scenario_free(scs[i]);
}

Test(plan, default_rows_without_scenarios, .timeout = 10)
{
    wr_inject_t *rows;
    size_t nrows;
    char err[256] = "";

    cr_assert(eq(int, wr_plan_matrix_rows(NULL, 0, NULL, &rows, &nrows, err,
                                          sizeof(err)),
                 0));
    cr_assert(eq(sz, nrows, (size_t)WSR_FAULT__COUNT + 2));
    for (size_t r = 1; r + 1 < nrows; r++)
        cr_assert(eq(u32, wsr_faults_count(&rows[r].set), 1));
    free(rows);
}

Test(plan, faults_pick_the_rows, .timeout = 10)
{
    wr_scenario_t *scs[] = {beta()};
    wr_inject_t *rows;
    size_t nrows;
    char err[256] = "", buf[WSR_FAULTS_TEXT_MAX];
    wsr_faults_t seed = wsr_faults_seed_bugs();

    cr_assert(eq(int,
                 wr_plan_matrix_rows(scs, 1,
                                     "stuck-swap,seed-bugs,scope-loss=error,"
                                     "stuck-swap",
                                     &rows, &nrows, err, sizeof(err)),
                 0),
              "%s", err);
    /* "none" always, in front; a repeated row once. */
    cr_assert(eq(sz, nrows, 4));
    cr_assert(eq(int, (int)rows[0].kind, (int)WR_INJECT_NONE));
    cr_assert(eq(str, (char *)fmt(&rows[1].set, buf), "stuck-swap"));
    cr_assert(eq(int, wsr_faults_equal(&rows[2].set, &seed) ? 1 : 0, 1));
    cr_assert(eq(str, (char *)fmt(&rows[3].set, buf), "scope-loss=error"));
    free(rows);
    wr_scenario_free(scs[0]);
}

Test(plan, an_unknown_fault_row_is_refused, .timeout = 10)
{
    static const struct {
        const char *faults, *word;
    } bad[] = {
        {"fallback-ready,nope", "nope"},
        {"scope-loss=sideways", "sideways"},
        {"seed-bug", "seed-bug"},
        {"fallback-ready,,stuck-swap", "unknown fault"},
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        wr_inject_t *rows = (wr_inject_t *)&rows;
        size_t nrows = 99;
        char err[256] = "";

        cr_assert(eq(int, wr_plan_matrix_rows(NULL, 0, bad[i].faults, &rows,
                                              &nrows, err, sizeof(err)),
                     -EINVAL),
                  "%s", bad[i].faults);
        cr_assert(eq(int, strstr(err, bad[i].word) != NULL ? 1 : 0, 1),
                  "no '%s' in: %s", bad[i].word, err);
        cr_assert(eq(ptr, (void *)rows, NULL));
        cr_assert(eq(sz, nrows, 0));
    }
}

/* ------------------------------------------------------------------ */
/* The plan                                                             */
/* ------------------------------------------------------------------ */

Test(plan, cases_are_scenario_by_set_by_seed, .timeout = 10)
{
    wr_scenario_t *scs[] = {alpha(), beta()};
    wr_inject_t sets[] = {inject("none"), inject("exposed")};
    wr_plan_opts_t o = {.kind = "matrix", .injects = sets, .ninjects = 2,
                        .seed = 7, .repeat = 3};
    static const char *const set_text[2][2] = {
        {"", "fallback-ready"}, {"", "scope-loss=swallow"}};
    wr_run_t run;
    size_t i = 0;
    char buf[WSR_FAULTS_TEXT_MAX];

    build(&run, &o, scs, 2);
    cr_assert(eq(sz, run.planned, 12));
    cr_assert(eq(sz, run.ncases, 12));
    cr_assert(eq(str, run.kind, "matrix"));
    cr_assert(eq(u64, run.seed, 7));
    cr_assert(eq(sz, run.nscenarios, 2));
    cr_assert(eq(ptr, (void *)run.scenarios[1], (void *)scs[1]));
    for (int s = 0; s < 2; s++)
        for (int k = 0; k < 2; k++)
            for (int r = 0; r < 3; r++, i++) {
                const wr_case_t *c = &run.cases[i];
                char id[300], label[64];

                cr_assert(eq(sz, c->index, i));
                cr_assert(eq(ptr, (void *)c->scenario, (void *)scs[s]));
                cr_assert(eq(str, (char *)fmt(&c->faults, buf),
                             (char *)set_text[s][k]),
                          "case %zu", i);
                cr_assert(eq(str, (char *)c->inject, (char *)set_text[s][k]));
                cr_assert(eq(u64, c->seed, 7 + (unsigned long long)r));
                cr_assert(eq(int, c->repeat, r));
                cr_assert(eq(int, c->no_sync ? 1 : 0, 0));
                snprintf(label, sizeof(label), "%s",
                         k == 0 ? "none" : set_text[s][k]);
                for (char *p = label; *p; p++)
                    if (*p == '=')
                        *p = '+';
                snprintf(id, sizeof(id), "%02zu-%s-%s-s%d", i + 1,
                         scs[s]->name, label, 7 + r);
                cr_assert(eq(str, (char *)c->id, id));
                snprintf(id, sizeof(id), "cases/%s", c->id);
                cr_assert(eq(str, (char *)c->dir, id));
            }
    /* The sets the plan ran, each once, in plan order. */
    cr_assert(eq(sz, run.ninjects, 3));
    cr_assert(eq(str, (char *)fmt(&run.injects[0], buf), ""));
    cr_assert(eq(str, (char *)fmt(&run.injects[1], buf), "fallback-ready"));
    cr_assert(eq(str, (char *)fmt(&run.injects[2], buf),
                 "scope-loss=swallow"));
    wr_run_clear(&run);
    wr_scenario_free(scs[0]);
    wr_scenario_free(scs[1]);
}

Test(plan, a_set_repeated_for_a_scenario_runs_once, .timeout = 10)
{
    wr_scenario_t *scs[] = {gamma_(), alpha()};
    /* For gamma, "exposed" is nothing: the same as "none". For alpha,
     * "exposed" is fallback-ready, given again as a list. */
    wr_inject_t sets[] = {inject("none"), inject("exposed"),
                          inject("fallback-ready")};
    wr_plan_opts_t o = {.injects = sets, .ninjects = 3, .seed = 1,
                        .repeat = 2};
    wr_run_t run;

    build(&run, &o, scs, 2);
    /* gamma: none, fallback-ready; alpha: none, fallback-ready. */
    cr_assert(eq(sz, run.planned, 8));
    cr_assert(eq(sz, run.ncases, 8));
    for (size_t i = 0; i < run.ncases; i++) {
        char prefix[32];

        snprintf(prefix, sizeof(prefix), "%02zu-", i + 1);
        cr_assert(eq(sz, run.cases[i].index, i));
        cr_assert(eq(int, strncmp(run.cases[i].id, prefix, 3), 0), "%s",
                  run.cases[i].id);
        cr_assert(eq(ptr, (void *)run.cases[i].scenario,
                     (void *)scs[i < 4 ? 0 : 1]));
        cr_assert(eq(str, run.cases[i].inject,
                     (i / 2) % 2 ? "fallback-ready" : ""), "case %zu", i);
    }
    cr_assert(eq(str, run.cases[7].id, "08-alpha-fallback-ready-s2"));
    cr_assert(eq(sz, run.ninjects, 2));
    cr_assert(eq(str, (char *)run.kind, "run"));
    wr_run_clear(&run);
    wr_scenario_free(scs[0]);
    wr_scenario_free(scs[1]);
}

Test(plan, without_inject_each_scenario_brings_its_own, .timeout = 10)
{
    wr_scenario_t *scs[] = {gamma_(), alpha()};
    wr_plan_opts_t o = {.seed = 3};
    wr_run_t run;

    build(&run, &o, scs, 2);
    cr_assert(eq(sz, run.ncases, 2));
    cr_assert(eq(str, run.cases[0].inject, "registry-leak"));
    cr_assert(eq(str, run.cases[0].id, "01-gamma-registry-leak-s3"));
    cr_assert(eq(str, run.cases[1].inject, ""));
    cr_assert(eq(str, run.cases[1].id, "02-alpha-none-s3"));
    wr_run_clear(&run);
    wr_scenario_free(scs[0]);
    wr_scenario_free(scs[1]);
}

Test(plan, ids_of_several_faults_are_names, .timeout = 10)
{
    wr_scenario_t *scs[] = {alpha()};
    wr_inject_t sets[] = {inject("scope-loss=swallow,fallback-ready")};
    wr_plan_opts_t o = {.injects = sets, .ninjects = 1, .seed = 123456789012ULL,
                        .no_sync = true};
    wr_run_t run;

    build(&run, &o, scs, 1);
    cr_assert(eq(sz, run.ncases, 1));
    cr_assert(eq(str, run.cases[0].inject,
                 "fallback-ready,scope-loss=swallow"));
    cr_assert(eq(str, run.cases[0].id,
                 "01-alpha-fallback-ready+scope-loss+swallow-s123456789012"));
    cr_assert(eq(int, strpbrk(run.cases[0].id, "/,= ") == NULL ? 1 : 0, 1));
    cr_assert(eq(int, run.cases[0].no_sync ? 1 : 0, 1));
    wr_run_clear(&run);
    wr_scenario_free(scs[0]);
}

/* The plan id of a matrix of scs over sets with o's other fields. */
static void plan_id(wr_scenario_t *const *scs, size_t n, const char *set,
                    unsigned long long seed, int repeat, bool no_sync,
                    char out[17])
{
    wr_inject_t sets[] = {inject("none"), inject(set)};
    wr_plan_opts_t o = {.kind = "matrix", .injects = sets, .ninjects = 2,
                        .seed = seed, .repeat = repeat, .no_sync = no_sync};
    wr_run_t run;

    build(&run, &o, scs, n);
    cr_assert(eq(sz, strlen(run.plan_id), 16));
    cr_assert(eq(sz, strspn(run.plan_id, "0123456789abcdef"), 16));
    memcpy(out, run.plan_id, 17);
    wr_run_clear(&run);
}

Test(plan, plan_id_is_stable_and_changes_with_the_plan, .timeout = 10)
{
    wr_scenario_t *scs[] = {alpha(), beta()};
    wr_scenario_t *other[] = {
        scenario("alpha", "fallback-ready", "timeout_ms: 20000\n"), scs[1]};
    char base[17], again[17], id[17];

    plan_id(scs, 2, "exposed", 7, 3, false, base);
    plan_id(scs, 2, "exposed", 7, 3, false, again);
    cr_assert(eq(str, again, base));
    /* The same name with another text. */
    plan_id(other, 2, "exposed", 7, 3, false, id);
    cr_assert(not(eq(str, id, base)));
    plan_id(scs, 2, "exposed", 8, 3, false, id);
    cr_assert(not(eq(str, id, base)), "seed");
    plan_id(scs, 2, "exposed", 7, 4, false, id);
    cr_assert(not(eq(str, id, base)), "repeat");
    plan_id(scs, 2, "exposed", 7, 3, true, id);
    cr_assert(not(eq(str, id, base)), "no_sync");
    plan_id(scs, 2, "stuck-swap", 7, 3, false, id);
    cr_assert(not(eq(str, id, base)), "set");
    plan_id(scs, 1, "exposed", 7, 3, false, id);
    cr_assert(not(eq(str, id, base)), "scenarios");
    wr_scenario_free(scs[0]);
    wr_scenario_free(scs[1]);
    wr_scenario_free(other[0]);
}

Test(plan, shards_cover_the_plan_once, .timeout = 10)
{
    wr_scenario_t *scs[] = {alpha(), beta(), gamma_()};
    wr_inject_t sets[] = {inject("none"), inject("exposed"),
                          inject("stuck-swap")};
    wr_plan_opts_t o = {.kind = "matrix", .injects = sets, .ninjects = 3,
                        .seed = 11, .repeat = 2};
    wr_run_t whole;

    build(&whole, &o, scs, 3);
    /* gamma exposes nothing: 3 x 3 x 2 minus its 2 repeated cases. */
    cr_assert(eq(sz, whole.ncases, 16));
    for (int n = 1; n <= 5; n++) {
        int *seen = calloc(whole.ncases, sizeof(int));
        size_t total = 0;

        for (int i = 1; i <= n; i++) {
            wr_run_t part;

            o.shard_index = i;
            o.shard_count = n;
            build(&part, &o, scs, 3);
            cr_assert(eq(str, part.plan_id, whole.plan_id), "%d/%d", i, n);
            cr_assert(eq(sz, part.planned, whole.planned));
            cr_assert(eq(int, part.shard_index, i));
            cr_assert(eq(int, part.shard_count, n));
            for (size_t k = 0; k < part.ncases; k++) {
                const wr_case_t *c = &part.cases[k];
                const wr_case_t *w = &whole.cases[c->index];

                cr_assert(lt(sz, c->index, whole.ncases));
                cr_assert(eq(sz, c->index % (size_t)n, (size_t)(i - 1)));
                cr_assert(eq(str, (char *)c->id, (char *)w->id));
                cr_assert(eq(str, (char *)c->dir, (char *)w->dir));
                cr_assert(eq(u64, c->seed, w->seed));
                cr_assert(eq(ptr, (void *)c->scenario, (void *)w->scenario));
                cr_assert(eq(int, wsr_faults_equal(&c->faults, &w->faults)
                                      ? 1
                                      : 0,
                             1));
                seen[c->index]++;
            }
            total += part.ncases;
            wr_run_clear(&part);
        }
        cr_assert(eq(sz, total, whole.ncases), "%d shards", n);
        for (size_t k = 0; k < whole.ncases; k++)
            cr_assert(eq(int, seen[k], 1), "case %zu in %d shards", k, n);
        free(seen);
    }
    wr_run_clear(&whole);
    for (size_t i = 0; i < 3; i++)
        wr_scenario_free(scs[i]);
}

Test(plan, an_external_target_takes_no_faults, .timeout = 10)
{
    wr_scenario_t *scs[] = {alpha(), gamma_()};
    wr_inject_t sets[] = {inject("none"), inject("exposed")};
    wr_plan_opts_t o = {.injects = sets, .ninjects = 2, .seed = 1,
                        .external = true};
    wr_run_t run;
    char err[512] = "";

    cr_assert(eq(int, wr_plan_build(&run, &o, scs, 2, err, sizeof(err)),
                 -EINVAL));
    cr_assert(eq(int, strstr(err, "--url") != NULL ? 1 : 0, 1), "%s", err);
    cr_assert(eq(int,
                 strstr(err, "scenarios/alpha.yaml: fallback-ready") != NULL
                     ? 1
                     : 0,
                 1),
              "%s", err);
    cr_assert(eq(sz, run.ncases, 0));
    cr_assert(eq(ptr, (void *)run.cases, NULL));

    /* A scenario's own faults: the message says how to run it anyway. */
    o.injects = NULL;
    o.ninjects = 0;
    err[0] = '\0';
    cr_assert(eq(int, wr_plan_build(&run, &o, scs + 1, 1, err, sizeof(err)),
                 -EINVAL));
    cr_assert(eq(int, strstr(err, "registry-leak") != NULL ? 1 : 0, 1), "%s",
              err);
    cr_assert(eq(int, strstr(err, "add --inject none") != NULL ? 1 : 0, 1),
              "%s", err);

    /* Nothing injected: fine, and the run says it is external. */
    o.injects = sets;
    o.ninjects = 1;
    build(&run, &o, scs, 2);
    cr_assert(eq(sz, run.ncases, 2));
    cr_assert(eq(int, run.external ? 1 : 0, 1));
    wr_run_clear(&run);
    wr_scenario_free(scs[0]);
    wr_scenario_free(scs[1]);
}

Test(plan, a_matrix_plans_a_clusters_faults_for_cluster_scenarios_only,
     .timeout = 10)
{
    wr_scenario_t *scs[] = {
        alpha(), scenario("delta", "blind-unregister",
                          "gateway:\n  instances: 2\n  registry: redis\n")};
    wr_inject_t sets[] = {inject("none"), inject("blind-unregister")};
    wr_plan_opts_t o = {.kind = "matrix", .injects = sets, .ninjects = 2,
                        .seed = 1, .repeat = 1, .fit_faults = true};
    wr_run_t run;
    char err[512] = "";

    cr_assert(eq(int, wr_plan_build(&run, &o, scs, 2, err, sizeof(err)), 0),
              "%s", err);
    /* alpha: none only; delta: none and its fault. */
    cr_assert(eq(sz, run.ncases, 3));
    cr_assert(eq(str, (char *)run.cases[0].scenario->name, "alpha"));
    cr_assert(eq(str, run.cases[0].inject, ""));
    cr_assert(eq(str, (char *)run.cases[2].scenario->name, "delta"));
    cr_assert(eq(str, run.cases[2].inject, "blind-unregister"));
    wr_run_clear(&run);

    /* A run asked for the fault on a lone gateway: an error naming it. */
    o.kind = "run";
    o.fit_faults = false;
    cr_assert(eq(int, wr_plan_build(&run, &o, scs, 2, err, sizeof(err)),
                 -EINVAL));
    cr_assert(not(zero(ptr, strstr(err, "blind-unregister is a fault of a "
                                        "cluster"))),
              "%s", err);
    cr_assert(not(zero(ptr, strstr(err, "scenarios/alpha.yaml"))), "%s", err);
    for (size_t i = 0; i < 2; i++)
        wr_scenario_free(scs[i]);
}
