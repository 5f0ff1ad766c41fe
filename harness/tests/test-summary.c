/* test-summary.c - summary.json read back (wr_summary.c).
 *
 * A real round trip: a run of three cases (a fault detected with two
 * evidence events, several faults at once with a crash and a tool
 * finding, a gateway that never started) over two scenarios parsed from
 * text, whose histories are real wr_history built with
 * wr_history_add_line, is written by wr_report_write_summary into a
 * mkdtemp(3) directory and loaded by wr_summary_load; every field the
 * reports read must come back equal. Then what the loader must refuse: a
 * case directory or id that would leave the run, an unknown fault, a
 * missing file, a file that is not a summary.
 *
 * Criterion 2.4.1: gt() tests >=, and cr_assert() cannot take a bare
 * macro call; conditions are written as eq(int, cond ? 1 : 0, 1). */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <ftw.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "judge/wr_judge.h"
#include "plan/wr_plan.h"
#include "report/wr_report.h"
#include "report/wr_summary.h"

#define BIT(c) (1u << (c))
#define T0 1000000000LL

static const char alpha_text[] =
    "# alpha: readiness probes.\n"
    "name: alpha\n"
    "description: Readiness of a key nobody registered is false.\n"
    "exposes: [fallback-ready]\n"
    "clients:\n"
    "  - count: 2\n"
    "    user: al{i}\n"
    "    steps: [connect, close]\n";

static const char beta_text[] =
    "name: beta\n"
    "description: Every swap keeps its machine.\n"
    "exposes: [scope-loss=swallow]\n"
    "gateway:\n"
    "  sync: [\"swap.unregistered:delay=5\"]\n"
    "clients:\n"
    "  - steps: [connect, close]\n";

enum { C_DETECTED, C_SEVERAL, C_NO_START, NCASES };

static struct {
    wr_scenario_t *sc[2];
    wsr_faults_t injects[3];
    wr_history_t *h[2];
    wr_case_t cases[NCASES];
    wr_run_t run;
} fx;

static wr_scenario_t *parse(const char *path, const char *text)
{
    char err[512];
    wr_scenario_t *s = wr_scenario_parse(path, text, err, sizeof(err));

    cr_assert(not(zero(ptr, s)), "%s", err);
    return s;
}

static void add_line(wr_history_t *h, const char *line)
{
    cr_assert(eq(int, wr_history_add_line(h, WR_SRC_GATEWAY, line), 0), "%s",
              line);
}

/* The event of h whose name is event (the first). */
static const wr_event_t *event_named(const wr_history_t *h, const char *event)
{
    for (size_t i = 0; i < wr_history_len(h); i++)
        if (strcmp(wr_history_at(h, i)->event, event) == 0)
            return wr_history_at(h, i);
    cr_fatal("no %s event", event);
    return NULL;
}

static void make_case(wr_case_t *c, size_t index, wr_scenario_t *s,
                      const char *inject, unsigned long long seed,
                      unsigned checks, unsigned tool_checks)
{
    char err[256];

    memset(c, 0, sizeof(*c));
    c->index = index;
    c->scenario = s;
    cr_assert(eq(int, wsr_faults_parse(&c->faults, inject, err, sizeof(err)),
                 0),
              "%s", err);
    wsr_faults_format(&c->faults, c->inject, sizeof(c->inject));
    c->seed = seed;
    snprintf(c->id, sizeof(c->id), "%02zu-%s-%s-s%llu", index + 1, s->name,
             c->inject[0] ? c->inject : "none", seed);
    for (char *p = c->id; *p; p++)
        if (*p == ',' || *p == '=')
            *p = '+';
    snprintf(c->dir, sizeof(c->dir), "cases/%s", c->id);
    wr_judge_expect(s, &c->faults, tool_checks, c->expected, &c->need_one);
    for (int k = 0; k < WSR_CHECK__COUNT; k++) {
        c->ran[k] = ((checks | tool_checks) & BIT(k)) != 0;
        c->results[k].id = (wsr_check_id_t)k;
        c->results[k].verdict = WR_PASS;
        snprintf(c->results[k].summary, sizeof(c->results[k].summary),
                 "%s held in case %zu.", wsr_check_name((wsr_check_id_t)k),
                 index);
    }
    c->target_state = WR_TARGET_OK;
    c->first_fail_ns = -1;
    snprintf(c->replay, sizeof(c->replay),
             "wsrace replay 'reports/run one/%s/replay.json'", c->dir);
}

static void fail(wr_case_t *c, wsr_check_id_t k, const char *summary,
                 size_t violations)
{
    c->results[k].verdict = WR_FAIL;
    snprintf(c->results[k].summary, sizeof(c->results[k].summary), "%s",
             summary);
    c->results[k].violations = violations;
}

static wr_run_t *build_run(void)
{
    wr_case_t *c;
    wr_history_t *h;
    char err[256];

    memset(&fx, 0, sizeof(fx));
    fx.sc[0] = parse("scenarios/alpha.yaml", alpha_text);
    fx.sc[1] = parse("scenarios/beta.yaml", beta_text);
    cr_assert(eq(int, wsr_faults_parse(&fx.injects[1], "fallback-ready", err,
                                       sizeof(err)),
                 0));
    cr_assert(eq(int, wsr_faults_parse(&fx.injects[2],
                                       "scope-loss=swallow,fallback-ready",
                                       err, sizeof(err)),
                 0));

    /* A history as the runner builds it: gateway, client and harness
     * lines, sorted on the shared clock. */
    h = fx.h[0] = wr_history_new();
    cr_assert(not(zero(ptr, h)));
    add_line(h, "{\"seq\":1,\"ns\":1000000000,\"event\":\"gateway.start\","
                "\"pid\":4242}");
    add_line(h, "{\"src\":\"client\",\"client\":1,\"ns\":1002500000,\"event\":"
                "\"client.probe\",\"type\":\"ok\",\"key\":\"ghost-42\","
                "\"registered\":false,\"ready\":true}");
    add_line(h, "{\"seq\":7,\"ns\":1002000000,\"event\":\"debug.ready\","
                "\"key\":\"ghost-42\",\"registered\":false,\"ready\":true,"
                "\"note\":\"caf\\u00e9 \\\"quoted\\\"\"}");
    add_line(h, "{\"seq\":8,\"ns\":1003000000,\"event\":\"conn.close\","
                "\"conn\":3}");
    wr_history_sort(h);

    h = fx.h[1] = wr_history_new();
    cr_assert(not(zero(ptr, h)));
    add_line(h, "{\"seq\":1,\"ns\":2000000000,\"event\":\"gateway.start\"}");
    add_line(h, "{\"seq\":4,\"ns\":2000400000,\"event\":\"swap.failed\","
                "\"conn\":1,\"key\":\"pre-1\",\"result\":\"swallowed\"}");
    add_line(h, "{\"src\":\"harness\",\"ns\":2000900000,\"event\":"
                "\"target.exit\",\"code\":-1,\"sig\":11,\"stopped\":false}");
    wr_history_sort(h);

    /* The fault alone, detected. */
    c = &fx.cases[C_DETECTED];
    make_case(c, 1, fx.sc[0], "fallback-ready", 42, WSR_CHECKS_ALL, 0);
    fail(c, WSR_CHECK_FALSE_READINESS,
         "ghost-42 was reported ready with no machine under it.", 2);
    c->results[WSR_CHECK_FALSE_READINESS].evidence[0] =
        event_named(fx.h[0], "debug.ready");
    c->results[WSR_CHECK_FALSE_READINESS].evidence[1] =
        event_named(fx.h[0], "client.probe");
    c->results[WSR_CHECK_FALSE_READINESS].nevidence = 2;
    c->results[WSR_CHECK_LIVENESS].verdict = WR_UNKNOWN;
    c->history = fx.h[0];
    c->as_expected = true;
    c->target_exit_code = 0;
    c->duration_ns = 1234567000;
    c->gateway_up_ns = 21000000;
    c->first_fail_ns = 2000000;
    c->clients = 2;
    c->established = 2;
    /* Ended by the early verdict, and replayed under a schedule that was
     * not wholly followed. */
    c->early_end = true;
    c->early_check = WSR_CHECK_FALSE_READINESS;
    c->early_ns = 31500000;
    c->early_confirmed = true;
    c->controlled = true;
    c->sched.kind = WR_SCHED_REPLAY;
    c->sched_arrivals = 12;
    c->sched_steps = 12;
    c->sched_diverged = 2;
    c->sched_ahead = 1;

    /* Several faults, a crash, the tool's finding. */
    c = &fx.cases[C_SEVERAL];
    make_case(c, 4, fx.sc[1], "scope-loss=swallow,fallback-ready", 43,
              WSR_CHECKS_ALL & ~BIT(WSR_CHECK_ISOLATION), WSR_CHECKS_TOOL);
    cr_assert(not(zero(u32, c->need_one)));
    fail(c, WSR_CHECK_SCOPE_LOSS, "conn 1's swap was swallowed.", 1);
    c->results[WSR_CHECK_SCOPE_LOSS].evidence[0] =
        event_named(fx.h[1], "swap.failed");
    c->results[WSR_CHECK_SCOPE_LOSS].nevidence = 1;
    fail(c, WSR_CHECK_MEMORY_SAFETY, "1 invalid read of size 8.", 1);
    c->results[WSR_CHECK_MEMORY_SAFETY].evidence[0] =
        event_named(fx.h[1], "target.exit");
    c->results[WSR_CHECK_MEMORY_SAFETY].evidence[1] =
        event_named(fx.h[1], "swap.failed");
    c->results[WSR_CHECK_MEMORY_SAFETY].nevidence = 2;
    c->history = fx.h[1];
    c->repeat = 1;
    c->no_sync = true;
    c->as_expected = true;
    c->target_state = WR_TARGET_CRASHED;
    c->target_exit_code = -1;
    c->target_signal = 11;
    c->duration_ns = 3000001000;
    c->gateway_up_ns = 1001000; /* 1.001 ms x 1e6 is 1000999.9999999999 */
    c->first_fail_ns = 400000;
    c->clients = 1;
    c->established = 0;
    c->steps_failed = 1;

    /* A gateway that never started: no history at all. */
    c = &fx.cases[C_NO_START];
    make_case(c, 7, fx.sc[0], "", 44,
              BIT(WSR_CHECK_SCOPE_LOSS) | BIT(WSR_CHECK_LIVENESS), 0);
    for (int k = 0; k < WSR_CHECK__COUNT; k++)
        c->results[k].verdict = WR_UNKNOWN;
    c->target_state = WR_TARGET_NO_START;
    c->target_exit_code = 1;
    snprintf(c->target_error, sizeof(c->target_error),
             "gateway never answered /healthz");
    c->duration_ns = 5000000000LL;
    c->clients = 2;

    snprintf(fx.run.id, sizeof(fx.run.id), "20261126T162000Z-4242");
    snprintf(fx.run.argv_text, sizeof(fx.run.argv_text),
             "wsrace matrix --seed 42 --shard 2/3 scenarios/");
    snprintf(fx.run.target, sizeof(fx.run.target),
             "build/target/wsrace-gateway");
    snprintf(fx.run.kind, sizeof(fx.run.kind), "matrix");
    snprintf(fx.run.tool, sizeof(fx.run.tool), "memcheck");
    snprintf(fx.run.plan_id, sizeof(fx.run.plan_id), "0123456789abcdef");
    fx.run.seed = 42;
    fx.run.started_unix = 1795710000;
    fx.run.duration_ns = 9876543000;
    fx.run.status = WR_STATUS_UNEXPECTED;
    fx.run.shard_index = 2;
    fx.run.shard_count = 3;
    fx.run.planned = 9;
    fx.run.scenarios = fx.sc;
    fx.run.nscenarios = 2;
    fx.run.injects = fx.injects;
    fx.run.ninjects = 3;
    fx.run.cases = fx.cases;
    fx.run.ncases = NCASES;
    return &fx.run;
}

/* ------------------------------------------------------------------ */
/* Test directories                                                     */
/* ------------------------------------------------------------------ */

static char test_dir[32];

static char *make_dir(void)
{
    snprintf(test_dir, sizeof(test_dir), "/tmp/wr-summary-XXXXXX");
    cr_assert(not(zero(ptr, mkdtemp(test_dir))), "mkdtemp: %s",
              strerror(errno));
    return test_dir;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path) == 0 ? 0 : errno;
}

static void remove_test_dir(void)
{
    if (test_dir[0] != '\0')
        nftw(test_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(summary, .fini = remove_test_dir);

/* Writes the fixture's summary into a fresh directory; returns it. */
static char *write_summary(void)
{
    char *dir = make_dir();

    build_run();
    cr_assert(eq(int, wr_report_write_summary(&fx.run, dir), 0));
    return dir;
}

static void load(const char *path, wr_run_t *back)
{
    char err[1024] = "";

    cr_assert(eq(int, wr_summary_load(path, NULL, 0, back, err, sizeof(err)),
                 0),
              "%s", err);
}

/* Whether two event lines hold the same JSON. */
static bool same_line(const char *a, const char *b)
{
    json_t *x = json_loads(a, 0, NULL), *y = json_loads(b, 0, NULL);
    bool same = x != NULL && y != NULL && json_equal(x, y);

    json_decref(x);
    json_decref(y);
    return same;
}

/* ------------------------------------------------------------------ */
/* The round trip                                                       */
/* ------------------------------------------------------------------ */

Test(summary, the_run_comes_back, .timeout = 10)
{
    char *dir = write_summary();
    wr_run_t back;

    load(dir, &back);
    cr_assert(eq(str, back.id, fx.run.id));
    cr_assert(eq(str, back.argv_text, fx.run.argv_text));
    cr_assert(eq(str, back.target, fx.run.target));
    cr_assert(eq(str, back.kind, "matrix"));
    cr_assert(eq(str, back.tool, "memcheck"));
    cr_assert(eq(str, back.plan_id, fx.run.plan_id));
    cr_assert(eq(u64, back.seed, 42));
    cr_assert(eq(int, back.external ? 1 : 0, 0));
    cr_assert(eq(i64, back.started_unix, fx.run.started_unix));
    cr_assert(eq(i64, back.duration_ns, fx.run.duration_ns));
    cr_assert(eq(str, (char *)wr_status_name(back.status), "unexpected"));
    cr_assert(eq(int, back.shard_index, 2));
    cr_assert(eq(int, back.shard_count, 3));
    cr_assert(eq(sz, back.planned, 9));
    /* Scenarios parsed again from the texts the summary keeps. */
    cr_assert(eq(int, back.owns_scenarios ? 1 : 0, 1));
    cr_assert(eq(sz, back.nscenarios, 2));
    for (size_t i = 0; i < 2; i++) {
        cr_assert(eq(str, back.scenarios[i]->name, fx.sc[i]->name));
        cr_assert(eq(str, back.scenarios[i]->path, fx.sc[i]->path));
        cr_assert(eq(str, back.scenarios[i]->text, fx.sc[i]->text));
        cr_assert(eq(int,
                     wsr_faults_equal(&back.scenarios[i]->exposes,
                                      &fx.sc[i]->exposes)
                         ? 1
                         : 0,
                     1));
    }
    cr_assert(eq(sz, back.scenarios[1]->gateway.nsync, 1));
    cr_assert(eq(sz, back.ninjects, 3));
    for (size_t i = 0; i < 3; i++)
        cr_assert(eq(int,
                     wsr_faults_equal(&back.injects[i], &fx.injects[i]) ? 1
                                                                        : 0,
                     1),
                  "inject set %zu", i);
    cr_assert(eq(sz, back.ncases, NCASES));
    wr_run_clear(&back);
}

Test(summary, every_case_comes_back_field_by_field, .timeout = 10)
{
    char *dir = write_summary();
    wr_run_t back;

    load(dir, &back);
    for (size_t i = 0; i < NCASES; i++) {
        const wr_case_t *a = &fx.cases[i], *b = &back.cases[i];

        cr_assert(eq(str, (char *)b->id, (char *)a->id));
        cr_assert(eq(sz, b->index, a->index), "%s", a->id);
        cr_assert(eq(str, (char *)b->dir, (char *)a->dir));
        cr_assert(eq(str, (char *)b->inject, (char *)a->inject));
        cr_assert(eq(int, wsr_faults_equal(&b->faults, &a->faults) ? 1 : 0, 1),
                  "%s", a->id);
        cr_assert(eq(u64, b->seed, a->seed));
        cr_assert(eq(int, b->repeat, a->repeat));
        cr_assert(eq(int, b->as_expected ? 1 : 0, a->as_expected ? 1 : 0),
                  "%s", a->id);
        cr_assert(eq(u32, b->need_one, a->need_one), "%s", a->id);
        cr_assert(eq(int, b->no_sync ? 1 : 0, a->no_sync ? 1 : 0));
        cr_assert(eq(str, (char *)b->scenario->name,
                     (char *)a->scenario->name));
        /* Bound to the run's own scenario, not a copy per case. */
        cr_assert(eq(ptr, (void *)b->scenario,
                     (void *)back.scenarios[a->scenario == fx.sc[0] ? 0 : 1]));
        cr_assert(eq(str, (char *)wr_target_state_name(b->target_state),
                     (char *)wr_target_state_name(a->target_state)));
        cr_assert(eq(int, b->target_exit_code, a->target_exit_code));
        cr_assert(eq(int, b->target_signal, a->target_signal));
        cr_assert(eq(str, (char *)b->target_error, (char *)a->target_error));
        cr_assert(eq(i64, b->duration_ns, a->duration_ns), "%s", a->id);
        cr_assert(eq(i64, b->gateway_up_ns, a->gateway_up_ns), "%s", a->id);
        cr_assert(eq(i64, b->first_fail_ns, a->first_fail_ns), "%s", a->id);
        cr_assert(eq(int, b->clients, a->clients));
        cr_assert(eq(int, b->established, a->established));
        cr_assert(eq(int, b->steps_failed, a->steps_failed));
        cr_assert(eq(str, (char *)b->replay, (char *)a->replay));
        cr_assert(eq(int, b->early_end, a->early_end), "%s", a->id);
        if (a->early_end) {
            cr_assert(eq(int, b->early_check, a->early_check));
            cr_assert(eq(i64, b->early_ns, a->early_ns));
            cr_assert(eq(int, b->early_confirmed, a->early_confirmed));
        }
        cr_assert(eq(int, b->controlled, a->controlled), "%s", a->id);
        cr_assert(eq(sz, b->sched_arrivals, a->sched_arrivals));
        cr_assert(eq(sz, b->sched_steps, a->sched_steps));
        cr_assert(eq(sz, b->sched_diverged, a->sched_diverged));
        cr_assert(eq(sz, b->sched_ahead, a->sched_ahead));
        for (int k = 0; k < WSR_CHECK__COUNT; k++) {
            const char *name = wsr_check_name((wsr_check_id_t)k);

            cr_assert(eq(int, b->ran[k] ? 1 : 0, a->ran[k] ? 1 : 0), "%s %s",
                      a->id, name);
            if (!a->ran[k])
                continue;
            cr_assert(eq(str, (char *)wr_verdict_name(b->results[k].verdict),
                         (char *)wr_verdict_name(a->results[k].verdict)),
                      "%s %s", a->id, name);
            cr_assert(eq(str, (char *)wr_expect_name(b->expected[k]),
                         (char *)wr_expect_name(a->expected[k])),
                      "%s %s", a->id, name);
            cr_assert(eq(str, (char *)b->results[k].summary,
                         (char *)a->results[k].summary));
            cr_assert(eq(sz, b->results[k].violations,
                         a->results[k].violations));
            cr_assert(eq(sz, b->results[k].nevidence,
                         a->results[k].nevidence),
                      "%s %s", a->id, name);
        }
    }
    wr_run_clear(&back);
}

Test(summary, evidence_events_come_back_as_history_lines, .timeout = 10)
{
    char *dir = write_summary();
    wr_run_t back;
    size_t total = 0;

    load(dir, &back);
    for (size_t i = 0; i < NCASES; i++) {
        const wr_case_t *a = &fx.cases[i], *b = &back.cases[i];

        for (int k = 0; k < WSR_CHECK__COUNT; k++)
            for (size_t e = 0; a->ran[k] && e < a->results[k].nevidence; e++) {
                const wr_event_t *x = a->results[k].evidence[e];
                const wr_event_t *y = b->results[k].evidence[e];

                cr_assert(not(zero(ptr, (void *)y)), "%s %s #%zu", a->id,
                          wsr_check_name(k), e);
                char *lx = wr_event_line(x), *ly = wr_event_line(y);

                cr_assert(eq(int, same_line(lx, ly) ? 1 : 0, 1), "%s\n%s", lx,
                          ly);
                free(lx);
                free(ly);
                cr_assert(eq(str, (char *)y->event, (char *)x->event));
                cr_assert(eq(i64, y->ns, x->ns));
                cr_assert(eq(u64, y->seq, x->seq));
                cr_assert(eq(int, (int)y->src, (int)x->src));
                cr_assert(eq(int, y->client, x->client));
                if (x->key != NULL)
                    cr_assert(eq(str, (char *)y->key, (char *)x->key));
                /* The evidence points into the case's own history. */
                cr_assert(lt(sz, wr_history_index(b->history, y),
                             wr_history_len(b->history)));
                total++;
            }
    }
    cr_assert(eq(sz, total, 5));
    /* The origin first, then each evidence line once: one event shared
     * by two checks is kept once. */
    cr_assert(eq(sz, wr_history_len(back.cases[C_DETECTED].history), 3));
    cr_assert(eq(str,
                 (char *)wr_history_at(back.cases[C_DETECTED].history, 0)
                     ->event,
                 "gateway.start"));
    cr_assert(eq(sz, wr_history_len(back.cases[C_SEVERAL].history), 3));
    cr_assert(eq(ptr,
                 (void *)back.cases[C_SEVERAL]
                     .results[WSR_CHECK_SCOPE_LOSS]
                     .evidence[0],
                 (void *)back.cases[C_SEVERAL]
                     .results[WSR_CHECK_MEMORY_SAFETY]
                     .evidence[1]));
    cr_assert(eq(sz, wr_history_len(back.cases[C_NO_START].history), 0));
    wr_run_clear(&back);
}

Test(summary, the_file_itself_loads_too, .timeout = 10)
{
    char *dir = write_summary();
    char path[PATH_MAX];
    wr_run_t back;

    wr_summary_path(dir, path, sizeof(path));
    cr_assert(eq(int, strcmp(path + strlen(dir), "/summary.json"), 0), "%s",
              path);
    load(path, &back);
    cr_assert(eq(sz, back.ncases, NCASES));
    cr_assert(eq(str, back.cases[2].id, fx.cases[2].id));
    wr_run_clear(&back);
}

Test(summary, known_scenarios_are_bound_by_name, .timeout = 10)
{
    char *dir = write_summary();
    char err[1024] = "";
    wr_run_t back;

    cr_assert(eq(int, wr_summary_load(dir, fx.sc, 2, &back, err, sizeof(err)),
                 0),
              "%s", err);
    cr_assert(eq(int, back.owns_scenarios ? 1 : 0, 0));
    cr_assert(eq(ptr, (void *)back.cases[C_SEVERAL].scenario,
                 (void *)fx.sc[1]));
    cr_assert(eq(ptr, (void *)back.cases[C_DETECTED].scenario,
                 (void *)fx.sc[0]));
    wr_run_clear(&back);

    /* A case of a scenario that is not among them is refused. */
    cr_assert(eq(int, wr_summary_load(dir, fx.sc, 1, &back, err, sizeof(err)),
                 -EINVAL));
    cr_assert(eq(sz, back.ncases, 0));
}

/* ------------------------------------------------------------------ */
/* Refusals                                                             */
/* ------------------------------------------------------------------ */

/* Rewrites dir/summary.json with case i's member key set to v (taken). */
static void set_case_member(const char *dir, size_t i, const char *key,
                            json_t *v)
{
    char path[PATH_MAX];
    json_error_t je;
    json_t *root;

    snprintf(path, sizeof(path), "%s/summary.json", dir);
    root = json_load_file(path, 0, &je);
    cr_assert(not(zero(ptr, root)), "%s", je.text);
    cr_assert(eq(int,
                 json_object_set_new(
                     json_array_get(json_object_get(root, "cases"), i), key, v),
                 0));
    cr_assert(eq(int, json_dump_file(root, path, JSON_INDENT(1)), 0));
    json_decref(root);
}

/* Loading dir must fail with rc, say so with the path, and hand back an
 * empty run: no case, so no directory. */
static void expect_refused(const char *dir, int rc, const char *word)
{
    char err[1024] = "", path[PATH_MAX];
    wr_run_t back;

    memset(&back, 0xa5, sizeof(back));
    cr_assert(eq(int, wr_summary_load(dir, NULL, 0, &back, err, sizeof(err)),
                 rc),
              "%s", err);
    wr_summary_path(dir, path, sizeof(path));
    cr_assert(eq(int, strncmp(err, path, strlen(path)), 0), "%s", err);
    cr_assert(eq(int, strstr(err, word) != NULL ? 1 : 0, 1), "no '%s' in: %s",
              word, err);
    cr_assert(eq(sz, back.ncases, 0));
    cr_assert(eq(ptr, (void *)back.cases, NULL));
    cr_assert(eq(sz, back.nscenarios, 0));
}

Test(summary, a_case_dir_outside_the_run_is_refused, .timeout = 10)
{
    static const char *const dirs[] = {
        "../../x", "cases/../../x", "/etc", "cases/..", "cases/", "x/cases",
    };

    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        char *dir = write_summary();

        set_case_member(dir, C_SEVERAL, "dir", json_string(dirs[i]));
        expect_refused(dir, -EINVAL, "not a safe name");
        remove_test_dir();
    }
}

Test(summary, a_case_id_that_is_not_a_name_is_refused, .timeout = 10)
{
    static const struct {
        const char *id, *dir;
    } bad[] = {
        {"a/b", "cases/a/b"},
        {"../x", "cases/../x"},
        {"..", "cases/.."},
        {".", "cases/."},
        {"", "cases/"},
        {"a b", "cases/a b"},
        {"x\n", "cases/x\n"},
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *dir = write_summary();

        set_case_member(dir, C_DETECTED, "id", json_string(bad[i].id));
        set_case_member(dir, C_DETECTED, "dir", json_string(bad[i].dir));
        expect_refused(dir, -EINVAL, "not a safe name");
        remove_test_dir();
    }
}

Test(summary, a_case_without_a_dir_lives_under_cases, .timeout = 10)
{
    char *dir = write_summary();
    wr_run_t back;

    set_case_member(dir, C_DETECTED, "dir", json_null());
    load(dir, &back);
    cr_assert(eq(str, back.cases[C_DETECTED].dir, fx.cases[C_DETECTED].dir));
    wr_run_clear(&back);
}

Test(summary, an_unknown_fault_is_refused, .timeout = 10)
{
    char *dir = write_summary();
    char path[PATH_MAX];
    json_t *root;

    set_case_member(dir, C_DETECTED, "inject",
                    json_pack("[s]", "no-such-fault"));
    expect_refused(dir, -EINVAL, "unknown scenario or fault");
    remove_test_dir();

    /* In the run's inject sets as well. */
    dir = write_summary();
    snprintf(path, sizeof(path), "%s/summary.json", dir);
    root = json_load_file(path, 0, NULL);
    cr_assert(not(zero(ptr, root)));
    json_object_set_new(root, "injects", json_pack("[s,s]", "", "nope=1"));
    cr_assert(eq(int, json_dump_file(root, path, 0), 0));
    json_decref(root);
    expect_refused(dir, -EINVAL, path);
}

Test(summary, a_bad_early_end_or_replay_count_is_refused, .timeout = 10)
{
    static const struct {
        const char *key, *json;
    } bad[] = {
        {"early_end", "{\"check\": \"no_such\", \"ms\": 3, "
                      "\"confirmed\": true}"},
        {"early_end", "{\"ms\": 3, \"confirmed\": true}"},
        {"early_end", "{\"check\": \"isolation\", \"ms\": -1, "
                      "\"confirmed\": true}"},
        {"early_end", "{\"check\": \"isolation\", \"ms\": \"3\", "
                      "\"confirmed\": true}"},
        {"early_end", "{\"check\": \"isolation\", \"ms\": 3, "
                      "\"confirmed\": 1}"},
        {"early_end", "[\"isolation\"]"},
        {"schedule", "{\"strategy\": \"replay\", \"arrivals\": 3, "
                     "\"releases\": 3, \"steps\": 3, \"diverged\": 4}"},
        {"schedule", "{\"strategy\": \"replay\", \"arrivals\": 3, "
                     "\"releases\": 3, \"steps\": -1}"},
        {"schedule", "{\"strategy\": \"replay\", \"arrivals\": 3, "
                     "\"releases\": 3, \"steps\": 3, \"ahead\": 1e3}"},
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *dir = write_summary();

        set_case_member(dir, C_DETECTED, bad[i].key,
                        json_loads(bad[i].json, 0, NULL));
        expect_refused(dir, -EINVAL, "not one this wsrace wrote");
        remove_test_dir();
    }
}

Test(summary, a_missing_summary_is_enoent, .timeout = 10)
{
    char *dir = make_dir();
    char path[PATH_MAX];

    expect_refused(dir, -ENOENT, "no such summary");
    snprintf(path, sizeof(path), "%s/gone/summary.json", dir);
    expect_refused(path, -ENOENT, "gone/summary.json");
}

Test(summary, a_file_that_is_not_a_summary_is_einval, .timeout = 10)
{
    static const char *const texts[] = {
        "{\"wsrace_matrix\": 1, \"cells\": []}\n",
        "{\"id\": \"x\", \"cases\": {}}\n",
        "{\"id\": 7, \"cases\": []}\n",
        "[1, 2, 3]\n",
        "not JSON at all\n",
        "",
    };
    char *dir = make_dir();

    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        char path[PATH_MAX];
        FILE *f;

        snprintf(path, sizeof(path), "%s/summary-%zu.json", dir, i);
        f = fopen(path, "w");
        cr_assert(not(zero(ptr, f)));
        fputs(texts[i], f);
        fclose(f);
        expect_refused(path, -EINVAL, path);
    }
}
