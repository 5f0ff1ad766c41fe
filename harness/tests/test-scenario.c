/* test-scenario.c - Scenario files (wr_scenario.c).
 *
 * Good files are read back value by value: every top-level key, every
 * group key and default, every step kind with its position, the JSON a
 * send carries (with the YAML scalar types converted), an expect's match
 * object, anchors and merge keys. Bad files, one per kind of mistake,
 * must fail with the exact "FILE:LINE:COLUMN: " prefix and a word that
 * says what is wrong; the finer points of number parsing use small texts
 * in memory. Template expansion and the name tables close the file. The
 * fixtures live in data/scenario/; test positions follow their lines. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checks/wr_check.h"
#include "plan/wr_scenario.h"

#define DATA WR_TEST_DATA "/scenario/"

/* jansson's json_typeof is a macro Criterion's cr_assert() cannot take. */
static int jtype(const json_t *j)
{
    return j == NULL ? -1 : (int)json_typeof(j);
}

static wr_scenario_t *load_good(const char *name)
{
    char err[1024] = "";
    wr_scenario_t *s = wr_scenario_load(name, err, sizeof err);

    cr_assert(ne(ptr, s, NULL), "%s did not load: %s", name, err);
    cr_assert(eq(str, err, ""));
    return s;
}

/* Asserts that err starts with "PATH:POS: " and contains word. */
static void assert_error(const char *err, const char *path, const char *pos,
                         const char *word)
{
    char prefix[1024], head[1024];

    snprintf(prefix, sizeof prefix, "%s:%s: ", path, pos);
    snprintf(head, sizeof head, "%.*s", (int)strlen(prefix), err);
    cr_assert(eq(str, head, prefix), "whole error: %s", err);
    cr_assert(ne(ptr, strstr(err, word), NULL), "no '%s' in: %s", word, err);
}

static void expect_file_error(const char *name, const char *pos,
                              const char *word)
{
    char path[512], err[1024] = "";
    wr_scenario_t *s;

    snprintf(path, sizeof path, "%s%s", DATA, name);
    s = wr_scenario_load(path, err, sizeof err);
    cr_assert(eq(ptr, s, NULL), "%s loaded", name);
    assert_error(err, path, pos, word);
}

/* A one-group scenario whose group is `group` (indented as a list item
 * under clients:, so the group's first line is line 4, column 5). */
static void expect_text_error(const char *group, const char *pos,
                              const char *word)
{
    char text[2048], err[1024] = "";
    wr_scenario_t *s;

    snprintf(text, sizeof text,
             "name: inline\ndescription: In memory.\nclients:\n  - %s\n",
             group);
    s = wr_scenario_parse("inline.yaml", text, err, sizeof err);
    cr_assert(eq(ptr, s, NULL), "parsed: %s", text);
    assert_error(err, "inline.yaml", pos, word);
}

/* ------------------------------------------------------------------ */
/* Good files                                                           */
/* ------------------------------------------------------------------ */

Test(scenario, full_file_reads_every_top_level_key)
{
    wr_scenario_t *s = load_good(DATA "good-full.yaml");

    cr_assert(eq(str, s->path, DATA "good-full.yaml"));
    cr_assert(eq(int, strncmp(s->text, "# good-full.yaml", 16), 0));
    cr_assert(ne(ptr, strstr(s->text, "timeout_ms: 9000\n"), NULL));
    cr_assert(eq(str, s->name, "full-house-1"));
    cr_assert(eq(str, s->description,
                 "Every key and every step kind, with its values."));
    cr_assert(eq(uint, s->exposes.mask,
                 (1u << WSR_FAULT_DUPLICATE_REGISTRATION) |
                     (1u << WSR_FAULT_SCOPE_LOSS)));
    cr_assert(eq(uint, wsr_fault_mode(&s->exposes, WSR_FAULT_SCOPE_LOSS),
                 WSR_SCOPE_SWALLOW));
    cr_assert(eq(uint, s->gateway.inject.mask,
                 1u << WSR_FAULT_DUPLICATE_REGISTRATION));
    cr_assert(eq(sz, s->gateway.nsync, 2));
    cr_assert(eq(str, s->gateway.sync[0],
                 "registry.check:rendezvous=2,timeout=2000"));
    cr_assert(eq(str, s->gateway.sync[1], "auth.done:delay=5"));
    cr_assert(eq(int, s->gateway.workers, 4));
    cr_assert(eq(int, s->gateway.service_latency_ms, 0));
    cr_assert(eq(int, s->gateway.max_queue, 8));
    cr_assert(eq(int, s->gateway.max_connections, 40));
    cr_assert(eq(int, s->gateway.max_message, 4096));
    cr_assert(eq(uint, s->checks,
                 (1u << WSR_CHECK_DUPLICATE_REGISTRATION) |
                     (1u << WSR_CHECK_LIVENESS)));
    cr_assert(eq(int, s->ready_timeout_ms, 1500));
    cr_assert(eq(int, s->timeout_ms, 9000));
    cr_assert(eq(sz, s->ngroups, 2));
    cr_assert(eq(sz, wr_scenario_clients(s), 3));
    wr_scenario_free(s);
}

Test(scenario, full_file_reads_group_keys_and_defaults)
{
    wr_scenario_t *s = load_good(DATA "good-full.yaml");
    const wr_group_t *a = &s->groups[0], *b = &s->groups[1];

    cr_assert(eq(str, a->name, "twins"));
    cr_assert(eq(int, a->line, 18));
    cr_assert(eq(int, a->column, 5));
    cr_assert(eq(int, a->count, 2));
    cr_assert(eq(str, a->user, "alice-{i}"));
    cr_assert(eq(str, a->session, "same-{seed}"));
    cr_assert(eq(int, a->token, WR_TOKEN_EXPIRED));
    cr_assert(eq(int, a->start_jitter_ms, 7));
    cr_assert(eq(sz, a->nsteps, 14));

    cr_assert(eq(str, b->name, "group-1"));
    cr_assert(eq(int, b->line, 49));
    cr_assert(eq(int, b->column, 5));
    cr_assert(eq(int, b->count, 1));
    cr_assert(eq(str, b->user, "u{g}"));
    cr_assert(eq(str, b->session, "s{g}"));
    cr_assert(eq(int, b->token, WR_TOKEN_VALID));
    cr_assert(eq(int, b->start_jitter_ms, 0));
    cr_assert(eq(sz, b->nsteps, 4));
    wr_scenario_free(s);
}

Test(scenario, full_file_reads_every_step_kind_at_its_position)
{
    static const struct {
        wr_step_kind_t kind;
        int line;
    } want[] = {
        {WR_STEP_BARRIER, 25},     {WR_STEP_CONNECT, 26},
        {WR_STEP_SEND, 27},        {WR_STEP_EXPECT, 33},
        {WR_STEP_EXPECT, 34},      {WR_STEP_SEND, 40},
        {WR_STEP_PROBE_READY, 41}, {WR_STEP_SLEEP, 42},
        {WR_STEP_SLEEP, 43},       {WR_STEP_BARRIER, 44},
        {WR_STEP_CLOSE, 45},       {WR_STEP_EXPECT_CLOSE, 46},
        {WR_STEP_CONNECT, 47},     {WR_STEP_EXPECT_CLOSE, 48},
    };
    wr_scenario_t *s = load_good(DATA "good-full.yaml");
    const wr_group_t *g = &s->groups[0];

    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        cr_assert(eq(str, (char *)wr_step_kind_name(g->steps[i].kind),
                     (char *)wr_step_kind_name(want[i].kind)),
                  "step %zu", i);
        cr_assert(eq(int, g->steps[i].line, want[i].line), "step %zu", i);
        cr_assert(eq(int, g->steps[i].column, 9), "step %zu", i);
    }
    /* The second group's steps: sleep 0, barrier end, connect, bare
     * expect_close. */
    cr_assert(eq(int, s->groups[1].steps[0].line, 50));
    cr_assert(eq(int, s->groups[1].steps[3].kind, WR_STEP_EXPECT_CLOSE));
    cr_assert(eq(int, s->groups[1].steps[3].line, 53));
    wr_scenario_free(s);
}

Test(scenario, full_file_reads_step_values_and_defaults)
{
    wr_scenario_t *s = load_good(DATA "good-full.yaml");
    const wr_step_t *st = s->groups[0].steps, *st2 = s->groups[1].steps;

    cr_assert(eq(str, st[0].name, "start"));
    cr_assert(eq(int, st[0].within_ms, 10000));
    cr_assert(eq(int, st[1].within_ms, 5000));
    cr_assert(eq(str, st[3].msg_type, "connection_established"));
    cr_assert(eq(int, st[3].within_ms, 5000));
    cr_assert(eq(ptr, st[3].match, NULL));
    cr_assert(eq(str, st[6].key, "{session}"));
    cr_assert(eq(int, st[7].ms, 10));
    cr_assert(eq(int, st[7].jitter_ms, 0));
    cr_assert(eq(int, st[8].ms, 20));
    cr_assert(eq(int, st[8].jitter_ms, 5));
    cr_assert(eq(str, st[9].name, "end"));
    cr_assert(eq(int, st[9].within_ms, 3000));
    cr_assert(eq(int, st[11].code, 1000));
    cr_assert(eq(int, st[11].within_ms, 5000));
    cr_assert(eq(int, st[12].within_ms, 750));
    cr_assert(eq(int, st[13].code, 4409));
    cr_assert(eq(int, st[13].within_ms, 100));
    cr_assert(eq(int, st2[0].ms, 0));
    cr_assert(eq(str, st2[1].name, "end"));
    cr_assert(eq(int, st2[3].code, 0));
    cr_assert(eq(int, st2[3].within_ms, 5000));
    wr_scenario_free(s);
}

Test(scenario, send_carries_json_with_yaml_types_converted)
{
    wr_scenario_t *s = load_good(DATA "good-full.yaml");
    const wr_step_t *send = &s->groups[0].steps[2];
    json_t *m = send->message, *data, *list;

    cr_assert(eq(ptr, send->raw, NULL));
    cr_assert(eq(int, jtype(m), JSON_OBJECT));
    cr_assert(eq(sz, json_object_size(m), 5));
    cr_assert(eq(str, (char *)json_string_value(json_object_get(m, "type")),
                 "user_message"));
    cr_assert(
        eq(str, (char *)json_string_value(json_object_get(m, "correlation_id")),
           "c-{g}"));
    data = json_object_get(m, "data");
    cr_assert(eq(int, jtype(data), JSON_OBJECT));
    cr_assert(eq(str,
                 (char *)json_string_value(json_object_get(data, "content")),
                 "hi {user}"));
    cr_assert(eq(int, jtype(json_object_get(data, "n")), JSON_INTEGER));
    cr_assert(eq(i64, json_integer_value(json_object_get(data, "n")), 3));
    cr_assert(eq(int, jtype(json_object_get(data, "ratio")), JSON_REAL));
    cr_assert(eq(dbl, json_real_value(json_object_get(data, "ratio")), 0.5));
    cr_assert(eq(int, jtype(json_object_get(data, "ok")), JSON_TRUE));
    cr_assert(eq(int, jtype(json_object_get(data, "none")), JSON_NULL));
    /* Quoted digits stay a string. */
    cr_assert(eq(int, jtype(json_object_get(m, "quoted")), JSON_STRING));
    cr_assert(
        eq(str, (char *)json_string_value(json_object_get(m, "quoted")), "42"));
    list = json_object_get(m, "list");
    cr_assert(eq(int, jtype(list), JSON_ARRAY));
    cr_assert(eq(sz, json_array_size(list), 4));
    cr_assert(eq(i64, json_integer_value(json_array_get(list, 0)), 1));
    cr_assert(
        eq(str, (char *)json_string_value(json_array_get(list, 1)), "two"));
    cr_assert(eq(int, jtype(json_array_get(list, 2)), JSON_FALSE));
    cr_assert(eq(i64, json_integer_value(json_array_get(list, 3)), 31));
    wr_scenario_free(s);
}

Test(scenario, send_raw_keeps_the_text_and_no_message)
{
    wr_scenario_t *s = load_good(DATA "good-full.yaml");
    const wr_step_t *raw = &s->groups[0].steps[5];

    cr_assert(eq(int, raw->kind, WR_STEP_SEND));
    cr_assert(eq(ptr, raw->message, NULL));
    cr_assert(eq(str, raw->raw, "{not json"));
    wr_scenario_free(s);
}

Test(scenario, expect_match_is_a_json_object_of_paths)
{
    wr_scenario_t *s = load_good(DATA "good-full.yaml");
    const wr_step_t *ex = &s->groups[0].steps[4];
    json_t *ready, *corr;

    cr_assert(eq(int, ex->kind, WR_STEP_EXPECT));
    cr_assert(eq(str, ex->msg_type, "agent_completed"));
    cr_assert(eq(int, ex->within_ms, 2500));
    cr_assert(eq(int, jtype(ex->match), JSON_OBJECT));
    cr_assert(eq(sz, json_object_size(ex->match), 2));
    ready = json_object_get(ex->match, "data.connection_ready");
    corr = json_object_get(ex->match, "correlation_id");
    cr_assert(eq(int, jtype(ready), JSON_TRUE));
    cr_assert(eq(str, (char *)json_string_value(corr), "c-{g}"));
    wr_scenario_free(s);
}

Test(scenario, minimal_file_gets_every_default)
{
    wr_scenario_t *s = load_good(DATA "good-minimal.yaml");
    const wr_group_t *g = &s->groups[0];

    cr_assert(eq(str, s->name, "minimal"));
    cr_assert(eq(uint, s->exposes.mask, 0));
    cr_assert(eq(uint, s->gateway.inject.mask, 0));
    cr_assert(eq(sz, s->gateway.nsync, 0));
    cr_assert(eq(int, s->gateway.workers, 0));
    cr_assert(eq(int, s->gateway.service_latency_ms, -1));
    cr_assert(eq(int, s->gateway.max_queue, 0));
    cr_assert(eq(int, s->gateway.max_connections, 0));
    cr_assert(eq(int, s->gateway.max_message, 0));
    cr_assert(eq(uint, s->checks, WSR_CHECKS_ALL));
    cr_assert(eq(int, s->ready_timeout_ms, 5000));
    cr_assert(eq(int, s->timeout_ms, 30000));
    cr_assert(eq(sz, s->ngroups, 1));
    cr_assert(eq(str, g->name, "group-0"));
    cr_assert(eq(int, g->count, 1));
    cr_assert(eq(str, g->user, "u{g}"));
    cr_assert(eq(str, g->session, "s{g}"));
    cr_assert(eq(int, g->token, WR_TOKEN_VALID));
    cr_assert(eq(sz, g->nsteps, 2));
    cr_assert(eq(int, g->steps[0].kind, WR_STEP_CONNECT));
    cr_assert(eq(int, g->steps[0].within_ms, 5000));
    cr_assert(eq(int, g->steps[1].kind, WR_STEP_CLOSE));
    wr_scenario_free(s);
}

Test(scenario, session_null_names_no_session)
{
    char err[1024] = "";
    wr_scenario_t *s = wr_scenario_parse(
        "inline.yaml",
        "name: inline\ndescription: d\nclients:\n"
        "  - session: null\n    steps: [connect]\n"
        "  - session: ~\n    steps: [connect]\n"
        "  - session: \"null\"\n    steps: [connect]\n",
        err, sizeof err);

    cr_assert(not(zero(ptr, s)), "%s", err);
    cr_assert(zero(ptr, s->groups[0].session));
    cr_assert(zero(ptr, s->groups[1].session));
    cr_assert(eq(str, s->groups[2].session, "null")); /* quoted: a name */
    wr_scenario_free(s);
}

Test(scenario, session_left_empty_is_refused)
{
    expect_text_error("session:\n    steps: [connect, close]", "4:5",
                      "got nothing");
}

Test(scenario, anchors_share_steps_and_merge_keys_override)
{
    wr_scenario_t *s = load_good(DATA "good-anchors.yaml");
    const wr_group_t *a = &s->groups[0], *b = &s->groups[1];
    json_t *m1, *m2;

    cr_assert(eq(sz, wr_scenario_clients(s), 4));
    cr_assert(eq(sz, a->nsteps, 5));
    cr_assert(eq(sz, b->nsteps, 5));
    cr_assert(eq(str, b->name, "second"));
    cr_assert(eq(int, b->line, 16));
    cr_assert(eq(int, b->column, 5));
    cr_assert(eq(str, b->steps[3].msg_type, "pong"));
    m1 = a->steps[1].message;
    m2 = a->steps[2].message;
    cr_assert(eq(str, (char *)json_string_value(json_object_get(m1, "type")),
                 "ping"));
    cr_assert(eq(
        str, (char *)json_string_value(json_object_get(m1, "correlation_id")),
        "p-{g}"));
    cr_assert(eq(str, (char *)json_string_value(json_object_get(m2, "type")),
                 "ping"));
    cr_assert(eq(
        str, (char *)json_string_value(json_object_get(m2, "correlation_id")),
        "override"));
    /* The copy is the group's own: equal, not shared. */
    cr_assert(ne(ptr, b->steps[1].message, m1));
    cr_assert(eq(int, json_equal(b->steps[1].message, m1), 1));
    wr_scenario_free(s);
}

Test(scenario, parse_from_memory_keeps_text_and_path)
{
    static const char text[] = "name: mem\n"
                               "description: From memory.\n"
                               "checks: all\n"
                               "clients:\n"
                               "  - count: 3\n"
                               "    steps: [connect, close]\n";
    char err[256] = "";
    wr_scenario_t *s = wr_scenario_parse("mem.yaml", text, err, sizeof err);

    cr_assert(ne(ptr, s, NULL), "%s", err);
    cr_assert(eq(str, s->path, "mem.yaml"));
    cr_assert(eq(str, s->text, (char *)text));
    cr_assert(ne(ptr, s->text, (char *)text));
    cr_assert(eq(uint, s->checks, WSR_CHECKS_ALL));
    cr_assert(eq(sz, wr_scenario_clients(s), 3));
    cr_assert(eq(int, s->groups[0].steps[1].line, 6));
    cr_assert(eq(int, s->groups[0].steps[1].column, 22));
    wr_scenario_free(s);
}

/* ------------------------------------------------------------------ */
/* Bad files: the YAML itself                                           */
/* ------------------------------------------------------------------ */

Test(scenario, yaml_syntax_error_names_its_position)
{
    expect_file_error("bad-syntax.yaml", "3:14", "invalid YAML");
}

Test(scenario, duplicate_key_names_the_second_key)
{
    expect_file_error("bad-duplicate-key.yaml", "6:5", "duplicate key 'count'");
}

Test(scenario, document_that_is_not_a_mapping_is_refused)
{
    expect_file_error("bad-not-mapping.yaml", "2:1", "must be a mapping");
}

Test(scenario, file_without_a_document_is_refused)
{
    expect_file_error("bad-empty.yaml", "1:1", "no YAML document");
}

Test(scenario, second_document_is_refused)
{
    expect_file_error("bad-two-documents.yaml", "7:1", "second YAML document");
}

Test(scenario, unknown_alias_is_refused)
{
    expect_file_error("bad-alias.yaml", "5:13", "invalid alias");
}

Test(scenario, text_that_is_not_utf8_is_refused_before_libfyaml,
     .timeout = 10)
{
    expect_file_error("bad-not-utf8.yaml", "3:2", "not UTF-8 text");
}

Test(scenario, escaped_quotes_in_a_row_are_refused_before_libfyaml,
     .timeout = 10)
{
    expect_file_error("bad-quote-run.yaml", "3:9",
                      "four or more single quotes in a row");
}

Test(scenario, alias_bomb_is_refused_at_the_alias)
{
    expect_file_error("bad-alias-bomb.yaml", "9:30",
                      "aliases expand the document past 100000 nodes");
}

Test(scenario, unquoted_template_in_flow_mapping_gets_a_hint)
{
    expect_file_error("bad-template-flow.yaml", "7:46", "quote the string");
}

/* ------------------------------------------------------------------ */
/* Bad files: keys, types and values                                    */
/* ------------------------------------------------------------------ */

Test(scenario, missing_name_is_reported_at_the_mapping)
{
    expect_file_error("bad-missing-name.yaml", "1:1",
                      "missing required key 'name'");
}

Test(scenario, unknown_group_key_lists_the_expected_keys)
{
    expect_file_error("bad-unknown-key.yaml", "6:5",
                      "unknown key 'cuont' in client group (expected name, "
                      "count, user, session, token, start_jitter_ms, steps, "
                      "instance)");
}

Test(scenario, non_numeric_count_is_refused)
{
    expect_file_error("bad-count.yaml", "5:12", "got 'many'");
}

Test(scenario, count_above_the_maximum_is_refused)
{
    expect_file_error("bad-count-range.yaml", "5:12", "from 1 to 20000");
}

Test(scenario, clients_over_the_scenario_limit_are_refused_at_the_group)
{
    expect_file_error("bad-too-many-clients.yaml", "9:5",
                      "brings the scenario to 30000 clients, over the limit "
                      "of 20000");
}

Test(scenario, name_outside_its_pattern_is_refused)
{
    expect_file_error("bad-name.yaml", "2:7", "[a-z0-9][a-z0-9-]*");
}

Test(scenario, unknown_fault_in_exposes_names_the_entry)
{
    expect_file_error("bad-fault.yaml", "6:5", "unknown fault 'no-such-fault'");
}

Test(scenario, unknown_fault_mode_lists_the_modes)
{
    expect_file_error("bad-fault-mode.yaml", "5:36",
                      "unknown scope-loss mode 'boom' (crash, error, swallow)");
}

Test(scenario, unknown_sync_point_is_refused)
{
    expect_file_error("bad-sync-point.yaml", "6:7",
                      "unknown point 'registry.chek'");
}

Test(scenario, unknown_sync_action_is_refused)
{
    expect_file_error("bad-sync-action.yaml", "7:7",
                      "unknown action 'wait=5'");
}

Test(scenario, workers_out_of_range_is_refused)
{
    expect_file_error("bad-workers.yaml", "5:12", "from 1 to 1024");
}

Test(scenario, unknown_token_kind_is_refused)
{
    expect_file_error("bad-token.yaml", "5:12", "got 'forged'");
}

Test(scenario, unknown_check_is_refused)
{
    expect_file_error("bad-check.yaml", "6:20", "unknown check 'livenes'");
}

Test(scenario, empty_clients_is_refused)
{
    expect_file_error("bad-clients-empty.yaml", "4:10", "an empty sequence");
}

Test(scenario, group_without_steps_is_refused)
{
    expect_file_error("bad-steps-missing.yaml", "5:5",
                      "missing required key 'steps'");
}

Test(scenario, steps_that_are_not_a_sequence_are_refused)
{
    expect_file_error("bad-steps-type.yaml", "5:12",
                      "non-empty sequence of steps, got 'connect'");
}

Test(scenario, unquoted_template_as_a_string_value_gets_a_hint)
{
    expect_file_error("bad-probe-template.yaml", "6:23", "quote a template");
}

/* ------------------------------------------------------------------ */
/* Bad files: steps                                                     */
/* ------------------------------------------------------------------ */

Test(scenario, unknown_step_kind_is_refused)
{
    expect_file_error("bad-step-kind.yaml", "6:9", "unknown step 'conect'");
}

Test(scenario, step_with_two_keys_is_refused_at_the_second)
{
    expect_file_error("bad-step-two-keys.yaml", "9:9", "also has 'expect'");
}

Test(scenario, send_without_type_is_refused)
{
    expect_file_error("bad-send-no-type.yaml", "8:11",
                      "missing required key 'type'");
}

Test(scenario, send_raw_with_another_key_is_refused)
{
    expect_file_error("bad-send-raw-extra.yaml", "7:26", "no other key");
}

Test(scenario, close_code_out_of_range_is_refused)
{
    expect_file_error("bad-expect-close-code.yaml", "7:23", "got '999'");
}

Test(scenario, barrier_reached_by_one_client_is_refused)
{
    expect_file_error("bad-barrier-alone.yaml", "10:9",
                      "barrier 'late' is reached by only one client");
}

Test(scenario, barrier_twice_in_one_group_is_refused)
{
    expect_file_error("bad-barrier-twice.yaml", "8:9",
                      "barrier 'go' appears twice in one group");
}

Test(scenario, send_before_connect_is_refused)
{
    expect_file_error("bad-before-connect.yaml", "7:9",
                      "before the first 'connect'");
}

Test(scenario, second_connect_while_open_is_refused)
{
    expect_file_error("bad-double-connect.yaml", "8:9",
                      "second 'connect' while the connection opened at 6:9");
}

Test(scenario, send_after_close_is_refused)
{
    expect_file_error("bad-after-close.yaml", "8:9",
                      "after the connection was closed at 7:9");
}

/* ------------------------------------------------------------------ */
/* Numbers and other fine points, from memory                           */
/* ------------------------------------------------------------------ */

Test(scenario, integer_with_a_suffix_is_refused)
{
    expect_text_error("count: 12abc\n    steps: [connect, close]", "4:12",
                      "got '12abc'");
}

Test(scenario, integer_overflow_is_refused)
{
    expect_text_error("count: 99999999999999999999\n    steps: [connect]",
                      "4:12", "got '99999999999999999999'");
}

Test(scenario, float_where_an_integer_is_wanted_is_refused)
{
    expect_text_error("count: 2.0\n    steps: [connect, close]", "4:12",
                      "must be an integer");
}

Test(scenario, quoted_integer_is_a_string)
{
    expect_text_error("count: \"2\"\n    steps: [connect, close]", "4:13",
                      "quoted, so a string");
}

Test(scenario, empty_value_is_reported_at_its_key)
{
    expect_text_error("count:\n    steps: [connect, close]", "4:5",
                      "got nothing");
}

Test(scenario, negative_sleep_is_refused)
{
    expect_text_error("steps: [{sleep: -5}]", "4:21", ">= 0, got '-5'");
}

Test(scenario, zero_within_is_refused)
{
    expect_text_error(
        "steps: [connect, {expect: {type: pong, within: 0}}, close]", "4:52",
        "'within' must be an integer >= 1");
}

Test(scenario, json_integer_beyond_64_bits_is_refused)
{
    expect_text_error(
        "steps: [connect, {send: {type: x, n: 99999999999999999999}}]", "4:42",
        "does not fit in 64 bits");
}

Test(scenario, json_nan_is_refused)
{
    expect_text_error("steps: [connect, {send: {type: x, n: .nan}}]", "4:42",
                      "not a number JSON can hold");
}

Test(scenario, bare_step_that_needs_a_value_is_refused)
{
    expect_text_error("steps: [connect, send, close]", "4:22",
                      "step 'send' needs a value");
}

Test(scenario, close_with_a_value_is_refused)
{
    expect_text_error("steps: [connect, {close: 1000}]", "4:30",
                      "'close' takes no value");
}

Test(scenario, two_groups_with_one_name_are_refused)
{
    expect_text_error("name: a\n    steps: [connect, close]\n"
                      "  - name: a\n    steps: [connect, close]",
                      "6:5", "two client groups are named 'a'");
}

Test(scenario, expect_close_may_follow_close_once)
{
    char err[512] = "";
    wr_scenario_t *s =
        wr_scenario_parse("ok.yaml",
                          "name: ok\ndescription: d\nclients:\n"
                          "  - steps: [connect, close, expect_close]\n",
                          err, sizeof err);

    cr_assert(ne(ptr, s, NULL), "%s", err);
    wr_scenario_free(s);
    expect_text_error("steps: [connect, close, expect_close, expect_close]",
                      "4:43", "after the connection was closed at 4:29");
}

Test(scenario, str_tag_keeps_digits_a_string_and_radix_ints_convert)
{
    char err[512] = "";
    wr_scenario_t *s = wr_scenario_parse(
        "t.yaml",
        "name: t\ndescription: d\nclients:\n  - steps:\n      - connect\n"
        "      - send: {type: x, n: !!str 12, o: 0o17, e: 1e3, b: False}\n",
        err, sizeof err);
    json_t *m;

    cr_assert(ne(ptr, s, NULL), "%s", err);
    m = s->groups[0].steps[1].message;
    cr_assert(
        eq(str, (char *)json_string_value(json_object_get(m, "n")), "12"));
    cr_assert(eq(i64, json_integer_value(json_object_get(m, "o")), 15));
    cr_assert(eq(int, jtype(json_object_get(m, "e")), JSON_REAL));
    cr_assert(eq(dbl, json_real_value(json_object_get(m, "e")), 1000.0));
    cr_assert(eq(int, jtype(json_object_get(m, "b")), JSON_FALSE));
    wr_scenario_free(s);
}

Test(scenario, missing_file_cannot_be_read)
{
    char err[512] = "";
    wr_scenario_t *s =
        wr_scenario_load(DATA "no-such-file.yaml", err, sizeof err);

    cr_assert(eq(ptr, s, NULL));
    cr_assert(eq(str, err,
                 DATA "no-such-file.yaml: cannot read: No such file or "
                      "directory"));
}

Test(scenario, nul_byte_in_the_file_is_refused)
{
    static const char text[] = "name: x\ndescription: d\n\0junk\n";
    char path[] = "/tmp/test-scenario-XXXXXX", err[512] = "";
    int fd = mkstemp(path);
    wr_scenario_t *s;

    cr_assert(ne(int, fd, -1));
    cr_assert(
        eq(int, (int)write(fd, text, sizeof text - 1), (int)sizeof text - 1));
    close(fd);
    s = wr_scenario_load(path, err, sizeof err);
    unlink(path);
    cr_assert(eq(ptr, s, NULL));
    assert_error(err, path, "3:1", "NUL byte");
}

Test(scenario, short_error_buffer_is_truncated_not_overrun)
{
    char err[16];
    wr_scenario_t *s;

    memset(err, 'x', sizeof err);
    s = wr_scenario_parse("a-rather-long-name.yaml", "- 1\n", err, 12);
    cr_assert(eq(ptr, s, NULL));
    cr_assert(eq(str, err, "a-rather-lo"));
    cr_assert(eq(chr, err[12], 'x'));
}

/* ------------------------------------------------------------------ */
/* Templates and names                                                  */
/* ------------------------------------------------------------------ */

Test(scenario, expand_replaces_every_variable)
{
    char *out = wr_scenario_expand("{user}/{session}/{i}/{g}/{seed}", 3, 17,
                                   "alice", "s-9", 18446744073709551615ull);

    cr_assert(eq(str, out, "alice/s-9/3/17/18446744073709551615"));
    free(out);
}

Test(scenario, expand_keeps_unknown_and_unclosed_braces)
{
    char *out = wr_scenario_expand("{x}-{{i}}-{g", 1, 2, "u", "s", 0);

    cr_assert(eq(str, out, "{x}-{1}-{g"));
    free(out);
}

Test(scenario, expand_keeps_user_and_session_while_they_are_unknown)
{
    char *out = wr_scenario_expand("{user}:{session}:{i}", 4, 5, NULL, NULL, 7);

    cr_assert(eq(str, out, "{user}:{session}:4"));
    free(out);
}

Test(scenario, expand_of_plain_text_is_a_copy)
{
    static const char tmpl[] = "no templates here";
    char *out = wr_scenario_expand(tmpl, 0, 0, "u", "s", 0);

    cr_assert(eq(str, out, (char *)tmpl));
    cr_assert(ne(ptr, out, (char *)tmpl));
    free(out);
    cr_assert(eq(ptr, wr_scenario_expand(NULL, 0, 0, "u", "s", 0), NULL));
}

Test(scenario, token_and_step_kinds_have_their_names)
{
    cr_assert(eq(str, (char *)wr_token_kind_name(WR_TOKEN_VALID), "valid"));
    cr_assert(eq(str, (char *)wr_token_kind_name(WR_TOKEN_EXPIRED), "expired"));
    cr_assert(eq(str, (char *)wr_token_kind_name(WR_TOKEN_BAD_SIGNATURE),
                 "bad-signature"));
    cr_assert(eq(str, (char *)wr_token_kind_name(WR_TOKEN_NONE), "none"));
    cr_assert(eq(str, (char *)wr_step_kind_name(WR_STEP_CONNECT), "connect"));
    cr_assert(eq(str, (char *)wr_step_kind_name(WR_STEP_BARRIER), "barrier"));
    cr_assert(eq(str, (char *)wr_step_kind_name(WR_STEP_SEND), "send"));
    cr_assert(eq(str, (char *)wr_step_kind_name(WR_STEP_EXPECT), "expect"));
    cr_assert(eq(str, (char *)wr_step_kind_name(WR_STEP_EXPECT_CLOSE),
                 "expect_close"));
    cr_assert(eq(str, (char *)wr_step_kind_name(WR_STEP_SLEEP), "sleep"));
    cr_assert(
        eq(str, (char *)wr_step_kind_name(WR_STEP_PROBE_READY), "probe_ready"));
    cr_assert(eq(str, (char *)wr_step_kind_name(WR_STEP_CLOSE), "close"));
    cr_assert(eq(ptr, (void *)wr_step_kind_name((wr_step_kind_t)99), NULL));
}

Test(scenario, free_and_count_accept_null)
{
    wr_scenario_free(NULL);
    cr_assert(eq(sz, wr_scenario_clients(NULL), 0));
}

/* ------------------------------------------------------------------ */
/* Cluster mode                                                         */
/* ------------------------------------------------------------------ */

/* A scenario from text; NULL with the error in err. */
static wr_scenario_t *cluster_text(const char *gateway, const char *steps,
                                   char *err, size_t errlen)
{
    char text[2048];

    snprintf(text, sizeof text,
             "name: cl\ndescription: A cluster.\n%sclients:\n"
             "  - count: 4\n    instance: \"{i}\"\n    steps:\n%s",
             gateway, steps);
    return wr_scenario_parse("cl.yaml", text, err, errlen);
}

Test(scenario, a_cluster_block_and_its_steps_are_read)
{
    char err[1024] = "";
    wr_scenario_t *s = cluster_text(
        "gateway:\n  instances: 3\n  registry: redis\n"
        "  registry_ttl_ms: 800\n",
        "      - connect\n"
        "      - probe_ready: {key: \"{session}\", instance: \"{g}+1\"}\n"
        "      - kill_instance: 2\n"
        "      - restart_instance: 2\n"
        "      - pause_instance: 1\n"
        "      - resume_instance: 1\n",
        err, sizeof err);
    const wr_group_t *g;

    cr_assert(ne(ptr, s, NULL), "%s", err);
    g = &s->groups[0];
    cr_assert(eq(int, s->gateway.instances, 3));
    cr_assert(eq(int, (int)s->gateway.registry, (int)WR_REGISTRY_REDIS));
    cr_assert(eq(int, s->gateway.registry_ttl_ms, 800));
    cr_assert(eq(int, wr_scenario_cluster(s) ? 1 : 0, 1));
    cr_assert(eq(str, g->instance, "{i}"));
    cr_assert(eq(str, g->steps[1].key, "{session}"));
    cr_assert(eq(str, g->steps[1].instance, "{g}+1"));
    cr_assert(eq(int, g->steps[2].kind, WR_STEP_KILL_INSTANCE));
    cr_assert(eq(int, g->steps[2].target, 2));
    cr_assert(eq(int, g->steps[5].kind, WR_STEP_RESUME_INSTANCE));
    cr_assert(eq(str, (char *)wr_step_kind_name(WR_STEP_RESTART_INSTANCE),
                 "restart_instance"));
    /* Placement: the group's template, modulo the instances; the probe's
     * own template, N+M allowed. */
    cr_assert(eq(int, wr_scenario_instance(s, g, NULL, 3, 3, "u", "s", 1), 0));
    cr_assert(eq(int, wr_scenario_instance(s, g, NULL, 2, 2, "u", "s", 1), 2));
    cr_assert(eq(int, wr_scenario_instance(s, g, &g->steps[1], 2, 2, "u", "s",
                                           1),
                 0));
    wr_scenario_free(s);
}

Test(scenario, placement_is_round_robin_without_a_template)
{
    char err[1024] = "";
    wr_scenario_t *s = wr_scenario_parse(
        "rr.yaml",
        "name: rr\ndescription: Round robin.\n"
        "gateway: {instances: 2, registry: redis}\n"
        "clients:\n  - count: 3\n    steps: [connect, close]\n",
        err, sizeof err);

    cr_assert(ne(ptr, s, NULL), "%s", err);
    for (int g = 0; g < 3; g++)
        cr_assert(eq(int,
                     wr_scenario_instance(s, &s->groups[0], NULL, g, g, "u",
                                          "s", 1),
                     g % 2));
    wr_scenario_free(s);
}

Test(scenario, several_instances_need_a_shared_registry)
{
    char err[1024] = "";

    cr_assert(eq(ptr,
                 cluster_text("gateway:\n  instances: 2\n", "      - connect\n",
                              err, sizeof err),
                 NULL));
    assert_error(err, "cl.yaml", "4:14", "needs 'registry: redis'");
    cr_assert(eq(ptr,
                 cluster_text("gateway:\n  registry: postgres\n",
                              "      - connect\n", err, sizeof err),
                 NULL));
    assert_error(err, "cl.yaml", "4:13", "must be memory or redis");
    cr_assert(eq(ptr,
                 cluster_text("gateway:\n  registry_ttl_ms: 500\n",
                              "      - connect\n", err, sizeof err),
                 NULL));
    assert_error(err, "cl.yaml", "4:3", "needs 'registry: redis'");
}

Test(scenario, a_nemesis_step_needs_a_cluster_and_an_instance_it_has)
{
    char err[1024] = "";

    cr_assert(eq(ptr,
                 cluster_text("", "      - kill_instance: 0\n", err,
                              sizeof err),
                 NULL));
    assert_error(err, "cl.yaml", "7:9", "needs 'registry: redis'");
    cr_assert(eq(ptr,
                 cluster_text("gateway: {instances: 2, registry: redis}\n",
                              "      - connect\n      - kill_instance: 2\n",
                              err, sizeof err),
                 NULL));
    assert_error(err, "cl.yaml", "9:9", "instances: 2, numbered from 0");
}

Test(scenario, a_clusters_fault_needs_a_shared_registry)
{
    char err[1024] = "";

    cr_assert(eq(ptr,
                 cluster_text("exposes: [stale-presence]\n",
                              "      - connect\n", err, sizeof err),
                 NULL));
    assert_error(err, "cl.yaml", "3:10", "'stale-presence' is a fault of a "
                                         "cluster");
}

/* `chaos: off` marks a scenario whose promises are exact: no chaos, and
 * the flag that keeps --chaos away; any other scalar is refused. */
Test(scenario, chaos_off_is_a_flag_and_other_scalars_are_refused)
{
    const char *base = "name: exact\ndescription: Exact counts.\n"
                       "chaos: %s\nclients:\n  - steps: [connect]\n";
    char text[512], err[1024] = "";
    wr_scenario_t *s;

    snprintf(text, sizeof text, base, "off");
    s = wr_scenario_parse("off.yaml", text, err, sizeof err);
    cr_assert(ne(ptr, s, NULL), "%s", err);
    cr_assert(s->chaos_off);
    cr_assert(not(s->chaos.on));
    wr_scenario_free(s);
    snprintf(text, sizeof text, base, "on");
    s = wr_scenario_parse("on.yaml", text, err, sizeof err);
    cr_assert(eq(ptr, s, NULL));
    assert_error(err, "on.yaml", "3:8", "a mapping or off");
}
