/* test-explore.c - the plain data of exploration: schedules as JSON both
 * ways (wr_schedule.c), the exploration record as JSON both ways and
 * merged (wr_explored.c), scenario reductions written back as YAML
 * (wr_reduce.c), and what makes an iteration a finding (wr_explore.c).
 *
 * Files read back are untrusted: each hostile variant must be refused
 * with -EINVAL and a message naming what is wrong. A reduction's text must
 * parse as a scenario again, with exactly what was kept.
 *
 * Criterion 2.4.1: conditions are written as eq(int, cond ? 1 : 0, 1). */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "plan/wr_explored.h"
#include "plan/wr_reduce.h"
#include "plan/wr_schedule.h"
#include "run/wr_explore.h"

#define YES(c) eq(int, (c) ? 1 : 0, 1)

/* ------------------------------------------------------------------ */
/* Schedules                                                            */
/* ------------------------------------------------------------------ */

static wr_schedule_t three_steps(void)
{
    wr_schedule_t s = {.kind = WR_SCHED_REPLAY, .seed = 77, .depth = 3,
                       .expected = 12, .quantum_us = 500};

    s.steps = calloc(3, sizeof(*s.steps));
    s.nsteps = 3;
    snprintf(s.steps[0].point, sizeof(s.steps[0].point), "registry.check");
    snprintf(s.steps[0].session, sizeof(s.steps[0].session), "twin");
    s.steps[0].parked = 2;
    snprintf(s.steps[1].point, sizeof(s.steps[1].point), "registry.check");
    snprintf(s.steps[1].session, sizeof(s.steps[1].session), "twin");
    s.steps[1].n = 1;
    s.steps[1].parked = 1;
    snprintf(s.steps[2].point, sizeof(s.steps[2].point), "close.begin");
    return s;
}

Test(schedule, json_round_trip)
{
    wr_schedule_t s = three_steps(), back;
    json_t *j = wr_schedule_json(&s);
    char err[256];

    cr_assert(ne(ptr, j, NULL));
    cr_assert(eq(int, wr_schedule_from_json(&back, j, err, sizeof(err)), 0));
    cr_assert(eq(int, back.kind, WR_SCHED_REPLAY));
    cr_assert(eq(u64, back.seed, 77));
    cr_assert(eq(int, back.depth, 3));
    cr_assert(eq(int, back.quantum_us, 500));
    cr_assert(eq(sz, back.nsteps, 3));
    cr_assert(eq(str, back.steps[1].point, "registry.check"));
    cr_assert(eq(str, back.steps[1].session, "twin"));
    cr_assert(eq(int, back.steps[1].n, 1));
    cr_assert(eq(int, back.steps[0].parked, 2));
    cr_assert(eq(u64, wr_schedule_hash(&back), wr_schedule_hash(&s)));
    json_decref(j);
    wr_schedule_clear(&back);
    wr_schedule_clear(&s);
}

Test(schedule, hash_follows_the_order)
{
    wr_schedule_t a = three_steps(), b = three_steps();
    wr_sched_step_t t = b.steps[0];

    b.steps[0] = b.steps[1];
    b.steps[1] = t;
    cr_assert(ne(u64, wr_schedule_hash(&a), wr_schedule_hash(&b)));
    wr_schedule_clear(&a);
    wr_schedule_clear(&b);
}

Test(schedule, releases_of_three_are_read)
{
    json_t *j = json_loads("{\"strategy\":\"replay\",\"releases\":"
                           "[[\"auth.done\",\"\",4]]}",
                           0, NULL);
    wr_schedule_t s;
    char err[256];

    cr_assert(eq(int, wr_schedule_from_json(&s, j, err, sizeof(err)), 0));
    cr_assert(eq(sz, s.nsteps, 1));
    cr_assert(eq(int, s.steps[0].n, 4));
    cr_assert(eq(int, s.steps[0].parked, 0));
    wr_schedule_clear(&s);
    json_decref(j);
}

Test(schedule, hostile_input_is_refused)
{
    static const struct {
        const char *json, *want;
    } bad[] = {
        {"[]", "object"},
        {"{\"strategy\":\"dfs\"}", "strategy"},
        {"{\"strategy\":\"pct\",\"depth\":1000}", "range"},
        {"{\"strategy\":\"pct\",\"seed\":-1}", "range"},
        {"{\"strategy\":\"replay\",\"releases\":{}}", "list"},
        {"{\"strategy\":\"replay\",\"releases\":[[\"../../etc\",\"s\",0]]}",
         "release 1"},
        {"{\"strategy\":\"replay\",\"releases\":[[\"Auth\",\"s\",0]]}",
         "release 1"},
        {"{\"strategy\":\"replay\",\"releases\":[[\"auth.done\",\"s\",-1]]}",
         "release 1"},
        {"{\"strategy\":\"replay\",\"releases\":[[\"auth.done\",7,0]]}",
         "release 1"},
        {"{\"strategy\":\"replay\",\"releases\":[[\"auth.done\",\"s\",0,"
         "-3]]}",
         "release 1"},
        {"{\"strategy\":\"replay\",\"releases\":[[\"auth.done\",\"s\"]]}",
         "release 1"},
        {"{\"strategy\":\"replay\",\"releases\":[[\"a\",\"s\",0],"
         "[\"a\",\"s\",0,1,2]]}",
         "release 2"},
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *j = json_loads(bad[i].json, JSON_DECODE_ANY, NULL);
        wr_schedule_t s;
        char err[256] = "";

        cr_assert(ne(ptr, j, NULL), "%s", bad[i].json);
        cr_assert(eq(int, wr_schedule_from_json(&s, j, err, sizeof(err)),
                     -EINVAL),
                  "%s", bad[i].json);
        cr_assert(YES(strstr(err, bad[i].want) != NULL), "%s: %s",
                  bad[i].json, err);
        cr_assert(eq(ptr, s.steps, NULL));
        json_decref(j);
    }
    {
        /* a session too long for a step */
        char long_session[200];
        json_t *j;
        wr_schedule_t s;
        char err[256];

        memset(long_session, 'x', sizeof(long_session) - 1);
        long_session[sizeof(long_session) - 1] = '\0';
        j = json_pack("{s:s,s:[[s,s,i]]}", "strategy", "replay", "releases",
                      "auth.done", long_session, 0);
        cr_assert(eq(int, wr_schedule_from_json(&s, j, err, sizeof(err)),
                     -EINVAL));
        json_decref(j);
    }
}

Test(schedule, point_names)
{
    cr_assert(YES(wr_sched_point_ok("registry.check")));
    cr_assert(YES(wr_sched_point_ok("my_point-2")));
    cr_assert(YES(!wr_sched_point_ok("")));
    cr_assert(YES(!wr_sched_point_ok(NULL)));
    cr_assert(YES(!wr_sched_point_ok("a/b")));
    cr_assert(YES(!wr_sched_point_ok("with space")));
    cr_assert(YES(!wr_sched_point_ok("abcdefghijabcdefghijabcdefghijab")));
}

/* ------------------------------------------------------------------ */
/* The exploration record                                               */
/* ------------------------------------------------------------------ */

static wr_explored_t sample(void)
{
    wr_explored_t e = {.depth = 3, .budget_s = 60, .first_seed = 9,
                       .iterations = 40, .schedules = 40, .distinct = 31,
                       .seconds = 12.5};
    wr_finding_t *f;

    snprintf(e.strategy, sizeof(e.strategy), "pct");
    e.cells = calloc(2, sizeof(*e.cells));
    e.ncells = 2;
    snprintf(e.cells[0].scenario, sizeof(e.cells[0].scenario), "twins");
    e.cells[0].iterations = 20;
    e.cells[0].findings = 1;
    snprintf(e.cells[1].scenario, sizeof(e.cells[1].scenario), "golden");
    snprintf(e.cells[1].inject, sizeof(e.cells[1].inject), "early-welcome");
    e.cells[1].iterations = 20;
    f = wr_explored_add_finding(&e);
    snprintf(f->case_id, sizeof(f->case_id), "x1-000003-twins-none-s11");
    snprintf(f->shrunk_id, sizeof(f->shrunk_id),
             "x1-000003-twins-none-s11-min");
    snprintf(f->check, sizeof(f->check), "duplicate_registration");
    snprintf(f->yaml, sizeof(f->yaml),
             "cases/x1-000003-twins-none-s11-min/scenario.yaml");
    f->before = (wr_case_size_t){5, 15, 1, 45, true};
    f->after = (wr_case_size_t){2, 4, 0, 2, false};
    f->confirmed = 5;
    f->confirm_runs = 5;
    return e;
}

Test(explored, json_round_trip)
{
    wr_explored_t e = sample(), back;
    json_t *j = wr_explored_json(&e);
    char err[256];

    cr_assert(eq(int, wr_explored_from_json(&back, j, err, sizeof(err)), 0),
              "%s", err);
    cr_assert(eq(str, back.strategy, "pct"));
    cr_assert(eq(long, back.iterations, 40));
    cr_assert(eq(long, back.distinct, 31));
    cr_assert(eq(sz, back.ncells, 2));
    cr_assert(eq(str, back.cells[1].inject, "early-welcome"));
    cr_assert(eq(sz, back.nfindings, 1));
    cr_assert(eq(str, back.findings[0].shrunk_id,
                 "x1-000003-twins-none-s11-min"));
    cr_assert(eq(int, back.findings[0].before.releases, 45));
    cr_assert(YES(back.findings[0].before.chaos &&
                  !back.findings[0].after.chaos));
    json_decref(j);
    wr_explored_clear(&back);
    wr_explored_clear(&e);
}

Test(explored, hostile_input_is_refused)
{
    static const struct {
        const char *field, *value;
    } bad[] = {
        {"case", "\"../../etc\""},
        {"case", "\"a/b\""},
        {"case", "\"\""},
        {"shrunk", "\"..\""},
        {"yaml", "\"/etc/passwd\""},
        {"yaml", "\"cases/../../x\""},
        {"yaml", "\"cases/.hidden/x\""},
        {"confirmed", "9"}, /* more than confirm_runs */
        {"shrink_runs", "-1"},
        {"before", "{\"clients\":-2}"},
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        wr_explored_t e = sample(), back;
        json_t *j = wr_explored_json(&e), *v;
        json_t *f = json_array_get(json_object_get(j, "findings"), 0);
        char err[256] = "";

        v = json_loads(bad[i].value, JSON_DECODE_ANY, NULL);
        json_object_set_new(f, bad[i].field, v);
        cr_assert(eq(int, wr_explored_from_json(&back, j, err, sizeof(err)),
                     -EINVAL),
                  "%s=%s", bad[i].field, bad[i].value);
        cr_assert(YES(strstr(err, "finding 1") != NULL), "%s", err);
        json_decref(j);
        wr_explored_clear(&e);
    }
    {
        wr_explored_t back;
        json_t *j = json_loads("{\"iterations\":-4}", 0, NULL);
        char err[256];

        cr_assert(eq(int, wr_explored_from_json(&back, j, err, sizeof(err)),
                     -EINVAL));
        json_decref(j);
    }
}

Test(explored, merge_adds_up)
{
    wr_explored_t a = sample(), b = sample();

    b.seconds = 20;
    snprintf(b.cells[1].scenario, sizeof(b.cells[1].scenario), "other");
    cr_assert(eq(int, wr_explored_merge(&a, &b), 0));
    cr_assert(eq(long, a.iterations, 80));
    cr_assert(eq(long, a.schedules, 80));
    cr_assert(YES(a.seconds == 20));
    cr_assert(eq(sz, a.ncells, 3));
    cr_assert(eq(long, a.cells[0].iterations, 40));
    cr_assert(eq(long, a.cells[0].findings, 2));
    cr_assert(eq(sz, a.nfindings, 2));
    wr_explored_clear(&a);
    wr_explored_clear(&b);
}

/* ------------------------------------------------------------------ */
/* Reductions                                                           */
/* ------------------------------------------------------------------ */

static const char original[] =
    "# the original's comment\n"
    "name: shrinkme\n"
    "description: Two groups, a window and chaos.\n"
    "gateway:\n"
    "  sync: [\"registry.check:delay=5\", \"auth.done:delay=1\"]\n"
    "chaos: {close_percent: 10, reconnect_percent: 50, burst: 2, "
    "probe_percent: 5}\n"
    "clients:\n"
    "  - name: a\n"
    "    count: 4\n"
    "    session: twin\n"
    "    steps:\n"
    "      - connect\n"
    "      - send: {type: user_message, data: {content: x}, "
    "correlation_id: \"{g}\"}\n"
    "      - expect: {type: agent_completed, match: {correlation_id: "
    "\"{g}\"}}\n"
    "      - close\n"
    "  - name: b\n"
    "    count: 2\n"
    "    steps: [connect, close]\n";

Test(reduce, everything_kept_reads_back_the_same)
{
    char err[512];
    wr_scenario_t *s = wr_scenario_parse("o.yaml", original, err, sizeof(err));
    wr_reduction_t r;
    wr_case_size_t z;
    char *text;
    wr_scenario_t *back;

    cr_assert(ne(ptr, s, NULL), "%s", err);
    cr_assert(eq(int, wr_reduction_init(&r, s), 0));
    z = wr_reduction_size(&r);
    cr_assert(eq(int, z.clients, 6));
    cr_assert(eq(int, z.steps, 4 * 4 + 2 * 2));
    cr_assert(eq(int, z.sync, 2));
    cr_assert(YES(z.chaos));
    text = wr_reduce_text(s->text, &r, NULL, err, sizeof(err));
    cr_assert(ne(ptr, text, NULL), "%s", err);
    back = wr_scenario_parse("r.yaml", text, err, sizeof(err));
    cr_assert(ne(ptr, back, NULL), "%s\n%s", err, text);
    cr_assert(eq(sz, back->ngroups, 2));
    cr_assert(eq(int, back->groups[0].count, 4));
    cr_assert(eq(sz, back->gateway.nsync, 2));
    cr_assert(YES(back->chaos.on && back->chaos.burst == 2));
    wr_scenario_free(back);
    free(text);
    wr_reduction_clear(&r);
    wr_scenario_free(s);
}

Test(reduce, what_is_dropped_is_gone)
{
    char err[512];
    wr_scenario_t *s = wr_scenario_parse("o.yaml", original, err, sizeof(err));
    wr_reduction_t r, copy;
    char *text;
    wr_scenario_t *back;

    cr_assert(ne(ptr, s, NULL), "%s", err);
    cr_assert(eq(int, wr_reduction_init(&r, s), 0));
    r.keep_group[1] = false;      /* group b */
    r.count[0] = 2;
    r.keep_step[0][1] = false;    /* the send ... */
    r.keep_step[0][2] = false;    /* ... and its expect */
    r.keep_sync[0] = false;
    r.chaos.on = false;
    r.seed_pinned = true;
    r.seed = 4242;
    r.set_exposes = true;
    r.exposes.mask = 1u << WSR_FAULT_DUPLICATE_REGISTRATION;
    snprintf(r.name, sizeof(r.name), "shrinkme-min");
    r.schedule = three_steps();
    cr_assert(eq(int, wr_reduction_copy(&copy, &r), 0));
    cr_assert(eq(int, wr_reduction_size(&copy).releases, 3));
    text = wr_reduce_text(s->text, &copy, "made by a test\nline two", err,
                          sizeof(err));
    cr_assert(ne(ptr, text, NULL), "%s", err);
    cr_assert(YES(strncmp(text, "# made by a test\n# line two\n", 28) == 0),
              "%s", text);
    cr_assert(YES(strstr(text, "the original's comment") == NULL));
    back = wr_scenario_parse("r.yaml", text, err, sizeof(err));
    cr_assert(ne(ptr, back, NULL), "%s\n%s", err, text);
    cr_assert(eq(str, back->name, "shrinkme-min"));
    cr_assert(eq(sz, back->ngroups, 1));
    cr_assert(eq(int, back->groups[0].count, 2));
    cr_assert(eq(sz, back->groups[0].nsteps, 2));
    cr_assert(eq(int, back->groups[0].steps[1].kind, WR_STEP_CLOSE));
    cr_assert(eq(sz, back->gateway.nsync, 1));
    cr_assert(eq(str, back->gateway.sync[0], "auth.done:delay=1"));
    cr_assert(YES(!back->chaos.on));
    cr_assert(YES(back->seed_pinned && back->seed == 4242));
    cr_assert(eq(u32, back->exposes.mask,
                 1u << WSR_FAULT_DUPLICATE_REGISTRATION));
    cr_assert(eq(int, back->schedule.kind, WR_SCHED_REPLAY));
    cr_assert(eq(sz, back->schedule.nsteps, 3));
    cr_assert(eq(int, back->schedule.steps[0].parked, 2));
    cr_assert(eq(str, back->schedule.steps[2].point, "close.begin"));
    wr_scenario_free(back);
    free(text);
    wr_reduction_clear(&copy);
    wr_reduction_clear(&r);
    wr_scenario_free(s);
}

Test(reduce, a_reduction_of_another_scenario_is_refused)
{
    char err[512] = "";
    wr_scenario_t *s = wr_scenario_parse("o.yaml", original, err, sizeof(err));
    wr_reduction_t r;

    cr_assert(ne(ptr, s, NULL), "%s", err);
    cr_assert(eq(int, wr_reduction_init(&r, s), 0));
    cr_assert(eq(ptr,
                 wr_reduce_text("name: x\ndescription: y\nclients:\n"
                                "  - steps: [connect]\n",
                                &r, NULL, err, sizeof(err)),
                 NULL));
    cr_assert(YES(strstr(err, "does not fit") != NULL), "%s", err);
    wr_reduction_clear(&r);
    wr_scenario_free(s);
}

/* ------------------------------------------------------------------ */
/* Findings                                                             */
/* ------------------------------------------------------------------ */

Test(finding, any_fail_unless_the_scenario_exposes_what_was_injected)
{
    char err[512];
    wr_scenario_t *s = wr_scenario_parse(
        "o.yaml",
        "name: f\ndescription: d\nexposes: [registry-leak]\n"
        "clients:\n  - steps: [connect, close]\n",
        err, sizeof(err));
    wsr_faults_t none = {0}, leak = {0}, early = {0};
    wr_case_t c;

    cr_assert(ne(ptr, s, NULL), "%s", err);
    leak.mask = 1u << WSR_FAULT_REGISTRY_LEAK;
    early.mask = 1u << WSR_FAULT_EARLY_WELCOME;

    wr_case_init(&c, 0, s, &none, 1, NULL);
    c.ran[WSR_CHECK_REGISTRY_LEAK] = true;
    c.results[WSR_CHECK_REGISTRY_LEAK].verdict = WR_PASS;
    cr_assert(YES(!wr_explore_is_finding(&c)));
    c.results[WSR_CHECK_REGISTRY_LEAK].verdict = WR_FAIL;
    cr_assert(YES(wr_explore_is_finding(&c)), "a FAIL on the correct "
                                              "gateway is a finding");

    wr_case_init(&c, 0, s, &leak, 1, NULL);
    c.ran[WSR_CHECK_REGISTRY_LEAK] = true;
    c.results[WSR_CHECK_REGISTRY_LEAK].verdict = WR_FAIL;
    c.expected[WSR_CHECK_REGISTRY_LEAK] = WR_EXPECT_FAIL;
    c.ran[WSR_CHECK_STEPS] = true;
    c.results[WSR_CHECK_STEPS].verdict = WR_FAIL;
    c.expected[WSR_CHECK_STEPS] = WR_EXPECT_ANY;
    cr_assert(YES(!wr_explore_is_finding(&c)),
              "the scenario's own reproduction, side effects included");
    c.no_sync = true;
    cr_assert(YES(wr_explore_is_finding(&c)),
              "without its windows (--no-sync) the scenario promised "
              "nothing: its fault found is a finding");
    c.no_sync = false;
    c.ran[WSR_CHECK_ISOLATION] = true;
    c.results[WSR_CHECK_ISOLATION].verdict = WR_FAIL;
    c.expected[WSR_CHECK_ISOLATION] = WR_EXPECT_PASS;
    cr_assert(YES(wr_explore_is_finding(&c)), "a FAIL it did not promise");

    wr_case_init(&c, 0, s, &early, 1, NULL);
    c.ran[WSR_CHECK_FALSE_READINESS] = true;
    c.results[WSR_CHECK_FALSE_READINESS].verdict = WR_FAIL;
    c.expected[WSR_CHECK_FALSE_READINESS] = WR_EXPECT_ANY;
    cr_assert(YES(wr_explore_is_finding(&c)),
              "a fault the scenario does not expose, found: a finding");
    wr_scenario_free(s);
}
