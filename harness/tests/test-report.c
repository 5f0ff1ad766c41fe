/* test-report.c - Run reports (wr_report*.c).
 *
 * A run of five hand-made cases covers every way a check can end up in a
 * report: a fault detected as designed (scope-loss), an unexpected FAIL
 * and an UNKNOWN in a run without injection, a target that never started,
 * an UNKNOWN where FAIL was required and a fault that went unseen. Its
 * summary.json is read back with jansson, its junit.xml validated with
 * xmllint against data/junit.xsd, its report.md searched for what a reader
 * needs. Each test writes into a mkdtemp(3) directory; publishing and
 * sweeping run directories are test-store.c's.
 *
 * wr_history.c and wr_check.c are not linked: events are wr_event_t
 * structs filled by hand, and this file defines the two history accessors
 * the reports call.
 *
 * Criterion 2.4.1 in C gets gt() wrong (it tests >=), and cr_assert()
 * cannot take a bare macro call: conditions are written as
 * eq(int, cond ? 1 : 0, 1).
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "judge/wr_judge.h"
#include "report/wr_report.h"

#ifndef WR_TEST_DATA
#define WR_TEST_DATA "harness/tests/data"
#endif
#define XSD WR_TEST_DATA "/junit.xsd"

/* The checks every scenario runs. */
#define NALL __builtin_popcount(WSR_CHECKS_ALL)

/* ------------------------------------------------------------------------
 * History test double
 * ---------------------------------------------------------------------- */

struct wr_history {
    const wr_event_t *ev;
    size_t n;
};

size_t wr_history_len(const wr_history_t *h)
{
    return h->n;
}

const wr_event_t *wr_history_at(const wr_history_t *h, size_t i)
{
    return &h->ev[i];
}

/* ------------------------------------------------------------------------
 * The run under test
 * ---------------------------------------------------------------------- */

#define T0 1000000000LL /* ns of every case's first event */

enum { C_DETECTED, C_CONTROL, C_NO_START, C_UNKNOWN_FAIL, C_UNSEEN, NCASES };

/* One of these is built per test (each test is its own process). */
static struct {
    wr_scenario_t scope, fallback, dup, early;
    wr_event_t ev[6];
    struct wr_history hist[2];
    wr_case_t cases[NCASES];
    wr_run_t run;
} fx;

/* An event with every optional field absent. line is never written
 * through: wr_event_t just does not say const. */
static wr_event_t event(int64_t ns, uint64_t seq, wr_src_t src,
                        const char *name, const char *key, const char *line)
{
    wr_event_t e;

    memset(&e, 0, sizeof(e));
    e.ns = ns;
    e.seq = seq;
    e.src = src;
    e.client = -1;
    e.event = name;
    e.key = key;
    e.linked = e.connection_ready = e.ready = e.registered = -1;
    e.code = -1;
    e.count = -1;
    e.line = (char *)line;
    return e;
}

static void scenario(wr_scenario_t *s, const char *name, const char *fault)
{
    char err[256];

    s->name = (char *)name;
    s->path = (char *)"scenarios/x.yaml";
    s->description = (char *)"A scenario for the report tests.";
    memset(&s->exposes, 0, sizeof(s->exposes));
    cr_assert(eq(int, wsr_faults_parse(&s->exposes, fault, err, sizeof(err)),
                 0),
              "%s", err);
}

/* Fills c for scenario s with inject; every selected check PASS. */
static void make_case(wr_case_t *c, int n, const wr_scenario_t *s,
                      const char *inject, unsigned checks)
{
    char err[256];

    memset(c, 0, sizeof(*c));
    snprintf(c->id, sizeof(c->id), "%02d-%s-%s-s42", n, s->name,
             inject[0] ? inject : "none");
    c->scenario = s;
    cr_assert(eq(int, wsr_faults_parse(&c->faults, inject, err, sizeof(err)),
                 0),
              "%s", err);
    wsr_faults_format(&c->faults, c->inject, sizeof(c->inject));
    c->seed = 42;
    wr_judge_expect(s, &c->faults, 0, c->expected, NULL);
    for (int i = 0; i < WSR_CHECK__COUNT; i++) {
        c->ran[i] = (checks >> i) & 1;
        c->results[i].id = (wsr_check_id_t)i;
        c->results[i].verdict = WR_PASS;
        snprintf(c->results[i].summary, sizeof(c->results[i].summary),
                 "%s held.", wsr_check_name((wsr_check_id_t)i));
    }
    c->as_expected = true;
    c->target_state = WR_TARGET_OK;
    c->target_exit_code = 0;
    c->duration_ns = 1500000000;
    c->gateway_up_ns = 20000000;
    c->first_fail_ns = -1;
    c->clients = 4;
    c->established = 4;
    snprintf(c->replay, sizeof(c->replay),
             "wsrace replay reports/20261126T162000Z-4242 %s", c->id);
    snprintf(c->dir, sizeof(c->dir), "cases/%s", c->id);
}

static void verdict(wr_case_t *c, wsr_check_id_t id, wr_verdict_t v,
                    const char *summary)
{
    c->results[id].verdict = v;
    snprintf(c->results[id].summary, sizeof(c->results[id].summary), "%s",
             summary);
    c->results[id].violations = v == WR_FAIL;
}

static void evidence(wr_case_t *c, wsr_check_id_t id, const wr_event_t *e)
{
    c->results[id].evidence[c->results[id].nevidence++] = e;
}

static wr_run_t *build_run(void)
{
    wr_case_t *c;

    memset(&fx, 0, sizeof(fx));
    scenario(&fx.scope, "scope-basic", "scope-loss");
    scenario(&fx.fallback, "fallback-probe", "fallback-ready");
    scenario(&fx.dup, "twins", "duplicate-registration");
    scenario(&fx.early, "early", "early-welcome");

    fx.ev[0] = event(T0, 1, WR_SRC_GATEWAY, "gateway.start", NULL,
                     "{\"seq\":1,\"ns\":1000000000,\"event\":"
                     "\"gateway.start\"}");
    fx.ev[1] = event(T0 + 3512000, 10, WR_SRC_GATEWAY, "swap.begin", "pre-1",
                     "{\"seq\":10,\"ns\":1003512000,\"event\":\"swap.begin\","
                     "\"conn\":1,\"key\":\"pre-1\",\"handle\":"
                     "\"out-of-scope\"}");
    fx.ev[1].conn = 1;
    fx.ev[1].from = "pre-1";
    fx.ev[1].to = "k1";
    fx.ev[1].handle = "out-of-scope";
    fx.ev[2] = event(T0 + 3600000, 0, WR_SRC_HARNESS, "target.exit", NULL,
                     "{\"event\":\"target.exit\",\"code\":-1,\"sig\":11}");
    fx.ev[2].sig = 11;
    fx.hist[0].ev = fx.ev;
    fx.hist[0].n = 3;

    fx.ev[3] = event(T0, 0, WR_SRC_CLIENT, "client.connect", "s0",
                     "{\"event\":\"client.connect\",\"type\":\"invoke\"}");
    fx.ev[4] = event(T0 + 7250000, 0, WR_SRC_CLIENT, "client.recv", "k1",
                     "{\"event\":\"client.recv\",\"type\":\"info\",\"client\":"
                     "2,\"correlation_id\":\"c-0\"}");
    fx.ev[4].client = 2;
    fx.ev[4].type = "info";
    fx.ev[4].correlation_id = "c-0";
    fx.ev[5] = event(T0 + 8000000, 0, WR_SRC_CLIENT, "client.recv", "k1",
                     "not a JSON line");
    fx.hist[1].ev = fx.ev + 3;
    fx.hist[1].n = 3;

    /* The fault injected and detected as designed. */
    c = &fx.cases[C_DETECTED];
    make_case(c, 1, &fx.scope, "scope-loss", WSR_CHECKS_ALL);
    verdict(c, WSR_CHECK_SCOPE_LOSS, WR_FAIL,
            "conn 1 swapped its key through an out-of-scope registry "
            "handle.\nsecond line");
    evidence(c, WSR_CHECK_SCOPE_LOSS, &fx.ev[1]);
    evidence(c, WSR_CHECK_SCOPE_LOSS, &fx.ev[2]);
    verdict(c, WSR_CHECK_LIVENESS, WR_UNKNOWN,
            "the gateway died before the ready deadline.");
    c->target_state = WR_TARGET_CRASHED;
    c->target_exit_code = -1;
    c->target_signal = 11;
    c->first_fail_ns = 3512000;
    c->established = 0;
    c->history = &fx.hist[0];

    /* The same scenario without it: an unexpected FAIL and an UNKNOWN. */
    c = &fx.cases[C_CONTROL];
    make_case(c, 2, &fx.scope, "", WSR_CHECKS_ALL);
    verdict(c, WSR_CHECK_ISOLATION, WR_FAIL,
            "client 2 received a message of another user.");
    evidence(c, WSR_CHECK_ISOLATION, &fx.ev[4]);
    evidence(c, WSR_CHECK_ISOLATION, &fx.ev[5]);
    verdict(c, WSR_CHECK_REGISTRY_LEAK, WR_UNKNOWN,
            "the registry was not probed after the clients closed.");
    c->first_fail_ns = 7250000;
    c->as_expected = false;
    c->history = &fx.hist[1];

    /* A target that never started. */
    c = &fx.cases[C_NO_START];
    make_case(c, 3, &fx.fallback, "fallback-ready",
              (1u << WSR_CHECK_FALSE_READINESS) | (1u << WSR_CHECK_LIVENESS) |
                  (1u << WSR_CHECK_REGISTRY_LEAK));
    for (int i = 0; i < WSR_CHECK__COUNT; i++)
        verdict(c, (wsr_check_id_t)i, WR_UNKNOWN, "no history.");
    c->target_state = WR_TARGET_NO_START;
    c->target_exit_code = 1;
    snprintf(c->target_error, sizeof(c->target_error),
             "gateway never answered /healthz");
    c->as_expected = false;
    c->established = 0;

    /* FAIL required, UNKNOWN found. */
    c = &fx.cases[C_UNKNOWN_FAIL];
    make_case(c, 4, &fx.dup, "duplicate-registration",
              (1u << WSR_CHECK_DUPLICATE_REGISTRATION) |
                  (1u << WSR_CHECK_ISOLATION));
    verdict(c, WSR_CHECK_DUPLICATE_REGISTRATION, WR_UNKNOWN,
            "no gateway trace.");
    c->as_expected = false;

    /* FAIL required, PASS found: the fault went unseen. */
    c = &fx.cases[C_UNSEEN];
    make_case(c, 5, &fx.early, "early-welcome", 1u << WSR_CHECK_FALSE_READINESS);
    c->as_expected = false;

    snprintf(fx.run.id, sizeof(fx.run.id), "20261126T162000Z-4242");
    snprintf(fx.run.dir, sizeof(fx.run.dir), "reports/%s", fx.run.id);
    snprintf(fx.run.argv_text, sizeof(fx.run.argv_text),
             "wsrace matrix --seed 42 scenarios/");
    fx.run.seed = 42;
    snprintf(fx.run.target, sizeof(fx.run.target),
             "build/target/wsrace-gateway");
    fx.run.started_unix = 1795710000; /* 2026-11-26T16:20:00Z */
    fx.run.duration_ns = 9876543210;
    fx.run.cases = fx.cases;
    fx.run.ncases = NCASES;
    fx.run.status = WR_STATUS_UNEXPECTED;
    return &fx.run;
}

/* ------------------------------------------------------------------------
 * Helpers
 * ---------------------------------------------------------------------- */

/* The test's directory, removed after the test whether it passed or not
 * (Criterion runs .fini after a failed assertion too). One per test. */
static char test_dir[32];

static char *make_dir(void)
{
    snprintf(test_dir, sizeof(test_dir), "/tmp/wr-report-XXXXXX");
    cr_assert(not(zero(ptr, mkdtemp(test_dir))), "mkdtemp: %s",
              strerror(errno));
    return test_dir;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    return remove(path) == 0 ? 0 : errno;
}

/* WR_TEST_KEEP=1 keeps the directory for reading. */
static void remove_test_dir(void)
{
    if (test_dir[0] == '\0')
        return;
    if (getenv("WR_TEST_KEEP") != NULL)
        fprintf(stderr, "kept %s\n", test_dir);
    else
        nftw(test_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(report, .fini = remove_test_dir);

static char *slurp(const char *dir, const char *name)
{
    char path[2 * PATH_MAX];
    FILE *f;
    char *buf;
    long len;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "rb");
    cr_assert(not(zero(ptr, f)), "%s: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)len + 1);
    cr_assert(eq(sz, fread(buf, 1, (size_t)len, f), (size_t)len));
    buf[len] = '\0';
    fclose(f);
    return buf;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;

    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static bool contains(const char *hay, const char *needle)
{
    return strstr(hay, needle) != NULL;
}

static bool exists(const char *dir, const char *name)
{
    char path[2 * PATH_MAX];
    struct stat st;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return lstat(path, &st) == 0;
}

/* Whether some entry of dir has ".tmp" in its name. */
static bool has_tmp(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    bool found = false;

    cr_assert(not(zero(ptr, d)));
    while ((de = readdir(d)) != NULL)
        found |= strstr(de->d_name, ".tmp") != NULL;
    closedir(d);
    return found;
}

static void skip_without_xmllint(void)
{
    if (system("command -v xmllint >/dev/null 2>&1") != 0)
        cr_skip_test("xmllint is not installed (Debian: libxml2-utils); "
                     "junit.xml cannot be validated");
}

/* Validates dir/junit.xml (or dir/name) against the schema; asserts
 * success with xmllint's complaint as the message when ok. */
static void validate(const char *dir, const char *name, bool ok)
{
    char cmd[PATH_MAX * 2 + 128], log[PATH_MAX];
    char *out;
    int st;

    snprintf(log, sizeof(log), "%s/xmllint.log", dir);
    snprintf(cmd, sizeof(cmd),
             "xmllint --noout --schema '%s' '%s/%s' >'%s' 2>&1", XSD, dir, name,
             log);
    st = system(cmd);
    out = slurp(dir, "xmllint.log");
    unlink(log);
    cr_assert(eq(int, WIFEXITED(st) ? 1 : 0, 1), "%s", out);
    if (ok)
        cr_assert(eq(int, WEXITSTATUS(st), 0), "%s", out);
    else
        cr_assert(not(eq(int, WEXITSTATUS(st), 0)), "validated: %s", out);
    free(out);
}

static json_t *load_json(const char *dir, const char *name)
{
    char path[PATH_MAX];
    json_error_t err;
    json_t *j;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    j = json_load_file(path, 0, &err);
    cr_assert(not(zero(ptr, j)), "%s:%d: %s", path, err.line, err.text);
    return j;
}

static const char *jget_str(json_t *o, const char *path0, const char *k)
{
    json_t *v = json_object_get(o, k);

    cr_assert(eq(int, json_is_string(v) ? 1 : 0, 1), "%s.%s", path0, k);
    return json_string_value(v);
}

static json_int_t jget_int(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);

    cr_assert(eq(int, json_is_integer(v) ? 1 : 0, 1), "%s", k);
    return json_integer_value(v);
}

static json_t *check_of(json_t *cases, size_t k, const char *name)
{
    json_t *c = json_object_get(json_array_get(cases, k), "checks");

    return json_object_get(c, name);
}

/* ------------------------------------------------------------------------
 * summary.json
 * ---------------------------------------------------------------------- */

Test(report, summary_round_trip, .timeout = 10)
{
    wr_run_t *run = build_run();
    char *dir = make_dir();
    json_t *root, *cases, *c, *t, *chk, *ev, *line;

    cr_assert(eq(int, wr_report_write_summary(run, dir), 0));
    cr_assert(eq(int, exists(dir, "summary.json.tmp") ? 1 : 0, 0));
    root = load_json(dir, "summary.json");

    cr_assert(
        eq(str, (char *)jget_str(root, "run", "id"), "20261126T162000Z-4242"));
    cr_assert(eq(str, (char *)jget_str(root, "run", "command"),
                 "wsrace matrix --seed 42 scenarios/"));
    cr_assert(eq(str, (char *)jget_str(root, "run", "started"),
                 "2026-11-26T16:20:00Z"));
    cr_assert(eq(i64, jget_int(root, "seed"), 42));
    cr_assert(eq(str, (char *)jget_str(root, "run", "status"), "unexpected"));
    cr_assert(eq(int, json_is_false(json_object_get(root, "external")), 1));
    cr_assert(
        epsilon_eq(dbl, json_number_value(json_object_get(root, "duration_ms")),
                   9876.543, 1e-9));

    t = json_object_get(root, "totals");
    cr_assert(eq(i64, jget_int(t, "cases"), 5));
    cr_assert(eq(i64, jget_int(t, "as_expected"), 1));
    cr_assert(eq(i64, jget_int(t, "unexpected"), 4));
    t = json_object_get(t, "checks");
    /* All + all + 3 + 2 + 1 checks ran: 6 UNKNOWN, 2 FAIL, the rest
     * PASS. */
    cr_assert(eq(i64, jget_int(t, "PASS"), 2 * NALL + 6 - 8));
    cr_assert(eq(i64, jget_int(t, "FAIL"), 2));
    cr_assert(eq(i64, jget_int(t, "UNKNOWN"), 6));

    cases = json_object_get(root, "cases");
    cr_assert(eq(sz, json_array_size(cases), 5));
    c = json_array_get(cases, C_DETECTED);
    cr_assert(eq(str, (char *)jget_str(c, "case", "id"),
                 "01-scope-basic-scope-loss-s42"));
    cr_assert(
        eq(str,
           (char *)jget_str(json_object_get(c, "scenario"), "scenario", "name"),
           "scope-basic"));
    cr_assert(
        eq(str,
           (char *)json_string_value(json_array_get(
               json_object_get(json_object_get(c, "scenario"), "exposes"), 0)),
           "scope-loss"));
    cr_assert(eq(sz, json_array_size(json_object_get(c, "inject")), 1));
    cr_assert(eq(int, json_is_true(json_object_get(c, "as_expected")), 1));
    cr_assert(epsilon_eq(dbl,
                         json_number_value(json_object_get(c, "first_fail_ms")),
                         3.512, 1e-9));
    t = json_object_get(c, "target");
    cr_assert(eq(str, (char *)jget_str(t, "target", "state"), "crashed"));
    cr_assert(eq(i64, jget_int(t, "signal"), 11));
    cr_assert(eq(int, json_is_null(json_object_get(t, "error")), 1));
    cr_assert(eq(str, (char *)jget_str(c, "case", "dir"),
                 "cases/01-scope-basic-scope-loss-s42"));
    cr_assert(eq(sz, json_object_size(json_object_get(c, "checks")),
                 (size_t)NALL));

    chk = check_of(cases, C_DETECTED, "scope_loss");
    cr_assert(eq(str, (char *)jget_str(chk, "check", "verdict"), "FAIL"));
    cr_assert(eq(str, (char *)jget_str(chk, "check", "expected"), "FAIL"));
    cr_assert(eq(int, json_is_true(json_object_get(chk, "as_expected")), 1));
    cr_assert(eq(i64, jget_int(chk, "violations"), 1));
    ev = json_object_get(chk, "evidence");
    cr_assert(eq(sz, json_array_size(ev), 2));
    cr_assert(eq(i64, jget_int(json_array_get(ev, 0), "seq"), 10));
    cr_assert(eq(i64, jget_int(json_array_get(ev, 0), "ns"), T0 + 3512000));
    cr_assert(eq(str, (char *)jget_str(json_array_get(ev, 0), "ev", "src"),
                 "gateway"));
    cr_assert(
        eq(str, (char *)jget_str(json_array_get(ev, 0), "ev", "key"), "pre-1"));
    line = json_object_get(json_array_get(ev, 0), "line");
    cr_assert(eq(int, json_is_object(line) ? 1 : 0, 1));
    cr_assert(
        eq(str, (char *)jget_str(line, "line", "handle"), "out-of-scope"));
    cr_assert(eq(
        int, json_is_null(json_object_get(json_array_get(ev, 1), "key")), 1));

    chk = check_of(cases, C_DETECTED, "liveness");
    cr_assert(eq(str, (char *)jget_str(chk, "check", "expected"), "ANY"));
    cr_assert(eq(int, json_is_true(json_object_get(chk, "as_expected")), 1));

    /* The control: an unexpected FAIL, a line that is not JSON. */
    c = json_array_get(cases, C_CONTROL);
    cr_assert(eq(sz, json_array_size(json_object_get(c, "inject")), 0));
    chk = check_of(cases, C_CONTROL, "isolation");
    cr_assert(eq(int, json_is_false(json_object_get(chk, "as_expected")), 1));
    ev = json_object_get(chk, "evidence");
    cr_assert(eq(i64, jget_int(json_array_get(ev, 0), "client"), 2));
    cr_assert(eq(str, (char *)jget_str(json_array_get(ev, 1), "ev", "line"),
                 "not a JSON line"));

    /* Only the checks that ran, and no first failure. */
    c = json_array_get(cases, C_NO_START);
    cr_assert(eq(sz, json_object_size(json_object_get(c, "checks")), 3));
    cr_assert(eq(int, json_is_null(json_object_get(c, "first_fail_ms")), 1));
    cr_assert(eq(
        str, (char *)jget_str(json_object_get(c, "target"), "target", "error"),
        "gateway never answered /healthz"));
    cr_assert(eq(int, check_of(cases, C_NO_START, "scope_loss") ? 1 : 0, 0));

    json_decref(root);
}

/* ------------------------------------------------------------------------
 * junit.xml
 * ---------------------------------------------------------------------- */

Test(report, junit_validates_with_the_right_counts, .timeout = 20)
{
    wr_run_t *run = build_run();
    char *dir = make_dir();
    char *xml, want[160];

    skip_without_xmllint();
    cr_assert(eq(int, wr_report_write_junit(run, dir), 0));
    cr_assert(eq(int, exists(dir, "junit.xml.tmp") ? 1 : 0, 0));
    validate(dir, "junit.xml", true);
    xml = slurp(dir, "junit.xml");

    snprintf(want, sizeof(want),
             "<testsuites name=\"wsrace\" tests=\"%d\" failures=\"3\" "
             "errors=\"3\" time=\"9.877\">",
             2 * NALL + 6);
    cr_assert(eq(int, contains(xml, want) ? 1 : 0, 1), "%s", xml);
    cr_assert(eq(sz, count(xml, "<testsuite "), 5));
    cr_assert(eq(sz, count(xml, "<testcase "), (size_t)(2 * NALL + 6)));
    cr_assert(eq(sz, count(xml, "<failure "), 3));
    cr_assert(eq(sz, count(xml, "<error "), 3));
    cr_assert(eq(sz, count(xml, "<skipped "), 2));
    cr_assert(eq(sz, count(xml, "<system-out>"), 1));

    /* The fault detected as designed passes, with its evidence shown. */
    cr_assert(eq(int,
                 contains(xml, "<testcase classname=\"wsrace.scope-basic\" "
                               "name=\"scope_loss[scope-loss]\"")
                     ? 1
                     : 0,
                 1));
    cr_assert(eq(int,
                 contains(xml, "<system-out>FAIL as expected: the injected "
                               "fault was detected.")
                     ? 1
                     : 0,
                 1));
    cr_assert(
        eq(int, contains(xml, "seq=10 ns=1003512000 swap.begin") ? 1 : 0, 1));
    cr_assert(eq(int, contains(xml, "name=\"isolation[none]\"") ? 1 : 0, 1));
    cr_assert(eq(int,
                 contains(xml, "<failure message=\"client 2 received a "
                               "message of another user.\" "
                               "type=\"FAIL-expected-PASS\">")
                     ? 1
                     : 0,
                 1));
    cr_assert(
        eq(int, contains(xml, "type=\"UNKNOWN-expected-FAIL\"") ? 1 : 0, 1));
    cr_assert(eq(int, contains(xml, "type=\"PASS-expected-FAIL\"") ? 1 : 0, 1));
    /* The message is the first line of the summary. */
    cr_assert(eq(int,
                 contains(xml, "message=\"the gateway died before the ready "
                               "deadline.\"")
                     ? 1
                     : 0,
                 1));
    cr_assert(eq(int,
                 contains(xml, "<error message=\"target no-start: gateway "
                               "never answered /healthz\" "
                               "type=\"infrastructure\">")
                     ? 1
                     : 0,
                 1));
    cr_assert(eq(int,
                 contains(xml, "<property name=\"replay\" value=\"wsrace "
                               "replay reports/20261126T162000Z-4242 "
                               "01-scope-basic-scope-loss-s42\"/>")
                     ? 1
                     : 0,
                 1));
    cr_assert(eq(int,
                 contains(xml, "tests=\"3\" failures=\"0\" errors=\"3\" "
                               "skipped=\"0\" time=\"1.500\" "
                               "timestamp=\"2026-11-26T16:20:00\"")
                     ? 1
                     : 0,
                 1));
    free(xml);
}

Test(report, junit_schema_rejects_a_malformed_report, .timeout = 20)
{
    char *dir = make_dir();
    char path[PATH_MAX];
    FILE *f;

    skip_without_xmllint();
    snprintf(path, sizeof(path), "%s/bad.xml", dir);
    f = fopen(path, "w");
    cr_assert(not(zero(ptr, f)));
    /* A testcase with no name and a failure with an unknown attribute. */
    fputs("<?xml version=\"1.0\"?>\n<testsuites><testsuite name=\"x\" "
          "tests=\"1\"><testcase classname=\"c\"><failure kind=\"x\"/>"
          "</testcase></testsuite></testsuites>\n",
          f);
    fclose(f);
    validate(dir, "bad.xml", false);
}

Test(report, junit_infra_error_without_checks, .timeout = 20)
{
    wr_run_t *run = build_run();
    char *dir = make_dir();
    wr_case_t *c = &fx.cases[C_NO_START];
    char *xml;

    skip_without_xmllint();
    memset(c->ran, 0, sizeof(c->ran));
    c->target_state = WR_TARGET_HUNG;
    c->target_error[0] = '\0';
    run->cases = c;
    run->ncases = 1;
    cr_assert(eq(int, wr_report_write_junit(run, dir), 0));
    validate(dir, "junit.xml", true);
    xml = slurp(dir, "junit.xml");
    cr_assert(
        eq(int,
           contains(xml, "tests=\"1\" failures=\"0\" errors=\"1\"") ? 1 : 0, 1),
        "%s", xml);
    cr_assert(eq(int, contains(xml, "name=\"target\"") ? 1 : 0, 1));
    cr_assert(eq(int, contains(xml, "target hung; no check ran.") ? 1 : 0, 1));
    free(xml);
}

Test(report, external_target_unknown_is_expected, .timeout = 20)
{
    wr_run_t *run = build_run();
    char *dir = make_dir();
    wr_case_t *c = &fx.cases[C_CONTROL];
    json_t *root, *chk;
    char *xml, *md;

    verdict(c, WSR_CHECK_ISOLATION, WR_PASS, "isolation held.");
    c->results[WSR_CHECK_ISOLATION].nevidence = 0;
    c->target_state = WR_TARGET_EXTERNAL;
    c->as_expected = true;
    run->cases = c;
    run->ncases = 1;
    run->external = true;
    run->status = WR_STATUS_OK;
    cr_assert(eq(int, wr_report_write_all(run, dir), 0));

    root = load_json(dir, "summary.json");
    chk = check_of(json_object_get(root, "cases"), 0, "registry_leak");
    cr_assert(eq(str, (char *)jget_str(chk, "check", "verdict"), "UNKNOWN"));
    cr_assert(eq(int, json_is_true(json_object_get(chk, "as_expected")), 1));
    cr_assert(eq(int, json_is_true(json_object_get(root, "external")), 1));
    json_decref(root);

    xml = slurp(dir, "junit.xml");
    cr_assert(eq(sz, count(xml, "<skipped "), 1));
    cr_assert(eq(sz, count(xml, "<failure "), 0));
    free(xml);
    md = slurp(dir, "report.md");
    cr_assert(eq(int, contains(md, "did not go as expected") ? 1 : 0, 0), "%s",
              md);
    cr_assert(eq(int, contains(md, "the target was external") ? 1 : 0, 1));
    free(md);
    if (system("command -v xmllint >/dev/null 2>&1") == 0)
        validate(dir, "junit.xml", true);
}

/* Strings a case may hold: markup, quotes, control characters, invalid
 * UTF-8, a surrogate, a non-character, CDATA's end. */
#define HOSTILE                                                                \
    "\"<b>&amp;'</b> ]]> \x01\x02\x1b[31m \x7f \xff\xfe \xed\xa0\x80 "         \
    "\xef\xbf\xbe ok\xc3\xa9 | `x` ```"

Test(report, hostile_strings_keep_every_file_valid, .timeout = 20)
{
    wr_run_t *run = build_run();
    char *dir = make_dir();
    wr_case_t *c = &fx.cases[C_CONTROL];
    json_t *root;
    char *md, *xml;

    skip_without_xmllint();
    snprintf(c->id, sizeof(c->id), "02-%s", HOSTILE);
    snprintf(c->results[WSR_CHECK_ISOLATION].summary,
             sizeof(c->results[WSR_CHECK_ISOLATION].summary), "%s\nsecond %s",
             HOSTILE, HOSTILE);
    snprintf(c->replay, sizeof(c->replay), "wsrace replay '%s'", HOSTILE);
    snprintf(fx.cases[C_NO_START].target_error,
             sizeof(fx.cases[C_NO_START].target_error), "%s", HOSTILE);
    snprintf(run->argv_text, sizeof(run->argv_text), "wsrace run %s", HOSTILE);
    fx.ev[5].line = (char *)HOSTILE;
    fx.ev[5].key = HOSTILE;
    fx.scope.name = (char *)HOSTILE;

    cr_assert(eq(int, wr_report_write_all(run, dir), 0));
    validate(dir, "junit.xml", true);

    root = load_json(dir, "summary.json");
    cr_assert(eq(str,
                 (char *)jget_str(
                     json_array_get(json_object_get(root, "cases"), C_CONTROL),
                     "case", "id"),
                 "02-\"<b>&amp;'</b> ]]> \x01\x02\x1b[31m \x7f "
                 "\xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd \xef\xbf\xbe "
                 "ok\xc3\xa9 | `x` ```"));
    json_decref(root);

    xml = slurp(dir, "junit.xml");
    cr_assert(
        eq(int, contains(xml, "&quot;&lt;b&gt;&amp;amp;&apos;") ? 1 : 0, 1));
    cr_assert(eq(int, contains(xml, "\x01") ? 1 : 0, 0));
    free(xml);

    md = slurp(dir, "report.md");
    cr_assert(eq(int, contains(md, "\x01") || contains(md, "\x1b") ? 1 : 0, 0));
    cr_assert(eq(int, contains(md, "\xff") ? 1 : 0, 0));
    /* Code spans and blocks keep markup as it is; running text (the
     * summary) must not carry HTML tags. */
    cr_assert(eq(int, contains(md, "). &quot;&lt;b>") ? 1 : 0, 0));
    cr_assert(eq(int, contains(md, "). \"&lt;b>&amp;'&lt;/b> ]]>") ? 1 : 0, 1),
              "%s", md);
    free(md);
}

/* ------------------------------------------------------------------------
 * report.md
 * ---------------------------------------------------------------------- */

Test(report, markdown_reports_each_bug, .timeout = 10)
{
    wr_run_t *run = build_run();
    char *dir = make_dir();
    char *md;

    cr_assert(eq(int, wr_report_write_markdown(run, dir), 0));
    cr_assert(eq(int, exists(dir, "report.md.tmp") ? 1 : 0, 0));
    md = slurp(dir, "report.md");

    cr_assert(eq(int,
                 contains(md, "# wsrace reproduction report: run "
                              "20261126T162000Z-4242, 2026-11-26")
                     ? 1
                     : 0,
                 1),
              "%s", md);
    cr_assert(eq(int, contains(md, "- Seed: 42\n") ? 1 : 0, 1));
    cr_assert(eq(int,
                 contains(md, "4 of 5 cases did not end as expected") ? 1 : 0,
                 1),
              "%s", md);
    cr_assert(eq(int,
                 contains(md, "| case | scenario | injected | checks that "
                              "failed | as expected |")
                     ? 1
                     : 0,
                 1));
    cr_assert(eq(int,
                 contains(md, "## Bug: scope-loss (test 6 of the original "
                              "report)")
                     ? 1
                     : 0,
                 1));
    cr_assert(eq(int,
                 contains(md, wsr_fault_info(WSR_FAULT_SCOPE_LOSS)->summary)
                     ? 1
                     : 0,
                 1));
    cr_assert(eq(int, contains(md, "**Status: confirmed.**") ? 1 : 0, 1));
    cr_assert(eq(int, contains(md, "(absent when not injected)") ? 1 : 0, 1));
    /* The evidence: seq, ms since the case's first event, fields. */
    cr_assert(eq(int,
                 contains(md, "    10      3.512  gateway  swap.begin") ? 1 : 0,
                 1),
              "%s", md);
    cr_assert(eq(int, contains(md, "handle=out-of-scope") ? 1 : 0, 1));
    cr_assert(eq(int,
                 contains(md, "conn 1 swapped its key through an "
                              "out-of-scope registry handle.")
                     ? 1
                     : 0,
                 1));
    cr_assert(eq(int,
                 contains(md, "```sh\nwsrace replay "
                              "reports/20261126T162000Z-4242 "
                              "01-scope-basic-scope-loss-s42\n```")
                     ? 1
                     : 0,
                 1));
    cr_assert(eq(int,
                 contains(md, "## Bug: duplicate-registration (test 1 of the "
                              "original report)")
                     ? 1
                     : 0,
                 1));
    cr_assert(eq(int,
                 contains(md, "## Bug: early-welcome (not in the original "
                              "report)")
                     ? 1
                     : 0,
                 1));
    cr_assert(eq(sz, count(md, "**Status: NOT confirmed.**"), 3));
    cr_assert(eq(int, contains(md, "## Without injection") ? 1 : 0, 1));
    cr_assert(
        eq(int, contains(md, "**FAILED** in `02-scope-basic-none-s42`") ? 1 : 0,
           1));
    cr_assert(eq(int, contains(md, "## Infrastructure problems") ? 1 : 0, 1));
    cr_assert(
        eq(int,
           contains(md, "```sh\nwsrace matrix --seed 42 scenarios/\n") ? 1 : 0,
           1));
    cr_assert(eq(int, contains(md, "cases/<id>/trace.jsonl") ? 1 : 0, 1));
    free(md);
}

Test(report, markdown_verdict_when_all_as_expected, .timeout = 10)
{
    wr_run_t *run = build_run();
    char *dir = make_dir();
    wr_case_t *c = &fx.cases[C_CONTROL];
    char *md;

    verdict(c, WSR_CHECK_ISOLATION, WR_PASS, "isolation held.");
    verdict(c, WSR_CHECK_REGISTRY_LEAK, WR_PASS, "registry_leak held.");
    c->results[WSR_CHECK_ISOLATION].nevidence = 0;
    c->as_expected = true;
    run->ncases = 2;
    run->status = WR_STATUS_OK;
    cr_assert(eq(int, wr_report_write_markdown(run, dir), 0));
    md = slurp(dir, "report.md");
    cr_assert(eq(int,
                 contains(md, "The one bug of this run reproduced with its "
                              "fault injected and absent without it. All 2 "
                              "cases ended as expected.")
                     ? 1
                     : 0,
                 1),
              "%s", md);
    cr_assert(eq(sz, count(md, "absent when not injected |"), (size_t)NALL));
    cr_assert(eq(int, contains(md, "NOT confirmed") ? 1 : 0, 0));
    free(md);
}

Test(report, markdown_stays_short_at_sixty_cases, .timeout = 10)
{
    static wr_case_t many[60];
    wr_run_t *run = build_run();
    char *dir = make_dir();
    char *md;
    size_t lines;

    /* 30 repeats of the detected fault, 30 of its control. */
    for (int k = 0; k < 60; k++) {
        many[k] = fx.cases[k % 2 ? C_DETECTED : C_CONTROL];
        if (k % 2 == 0) {
            verdict(&many[k], WSR_CHECK_ISOLATION, WR_PASS, "held.");
            verdict(&many[k], WSR_CHECK_REGISTRY_LEAK, WR_PASS, "held.");
            many[k].results[WSR_CHECK_ISOLATION].nevidence = 0;
            many[k].as_expected = true;
        }
        snprintf(many[k].id, sizeof(many[k].id), "%02d-scope-basic-%s-s42", k,
                 k % 2 ? "scope-loss" : "none");
        many[k].repeat = k / 2;
    }
    run->cases = many;
    run->ncases = 60;
    run->status = WR_STATUS_OK;
    cr_assert(eq(int, wr_report_write_markdown(run, dir), 0));
    md = slurp(dir, "report.md");
    lines = count(md, "\n");
    /* One row per case in two tables, one evidence block, no repeats. */
    cr_assert(lt(sz, lines, (size_t)160), "%zu lines", lines);
    cr_assert(eq(int,
                 contains(md, "And 24 more cases that confirmed it as "
                              "expected.")
                     ? 1
                     : 0,
                 1),
              "%s", md);
    cr_assert(eq(sz, count(md, "## Bug: scope-loss"), 1));
    cr_assert(eq(sz, count(md, "```sh\n"), 2));
    cr_assert(eq(int,
                 contains(md, "failed in all its cases, as designed. "
                              "Without it, they passed in 30 of 30 cases")
                     ? 1
                     : 0,
                 1),
              "%s", md);
    free(md);
}

/* ------------------------------------------------------------------------
 * Atomic writes
 * ---------------------------------------------------------------------- */

Test(report, failed_rename_leaves_no_tmp, .timeout = 10)
{
    wr_run_t *run = build_run();
    char *dir = make_dir();
    char sub[PATH_MAX];
    int rc;

    /* A non-empty directory where summary.json should go. */
    snprintf(sub, sizeof(sub), "%s/summary.json", dir);
    cr_assert(eq(int, mkdir(sub, 0755), 0));
    snprintf(sub, sizeof(sub), "%s/summary.json/x", dir);
    cr_assert(eq(int, mkdir(sub, 0755), 0));
    rc = wr_report_write_summary(run, dir);
    cr_assert(lt(int, rc, 0));
    cr_assert(eq(int, rc == -EISDIR || rc == -ENOTEMPTY ? 1 : 0, 1), "%d", rc);
    cr_assert(eq(int, exists(dir, "summary.json.tmp") ? 1 : 0, 0));
    /* The others are still written. */
    rc = wr_report_write_all(run, dir);
    cr_assert(eq(int, rc == -EISDIR || rc == -ENOTEMPTY ? 1 : 0, 1), "%d", rc);
    cr_assert(eq(int, exists(dir, "junit.xml") ? 1 : 0, 1));
    cr_assert(eq(int, exists(dir, "report.md") ? 1 : 0, 1));
    cr_assert(eq(int, has_tmp(dir) ? 1 : 0, 0));
}

Test(report, failed_write_leaves_no_tmp, .timeout = 10)
{
    wr_run_t *run = build_run();
    char *dir = make_dir();
    struct rlimit old, small;
    int rc;

    /* Files over 1 KiB fail with EFBIG instead of a signal. */
    signal(SIGXFSZ, SIG_IGN);
    cr_assert(eq(int, getrlimit(RLIMIT_FSIZE, &old), 0));
    small = old;
    small.rlim_cur = 1024;
    cr_assert(eq(int, setrlimit(RLIMIT_FSIZE, &small), 0));
    rc = wr_report_write_markdown(run, dir);
    setrlimit(RLIMIT_FSIZE, &old);
    cr_assert(eq(int, rc, -EFBIG));
    cr_assert(eq(int, has_tmp(dir) ? 1 : 0, 0));
    cr_assert(eq(int, exists(dir, "report.md") ? 1 : 0, 0));
}

Test(report, missing_dir_is_an_error, .timeout = 10)
{
    wr_run_t *run = build_run();

    cr_assert(
        eq(int, wr_report_write_all(run, "/tmp/wr-report-no/such"), -ENOENT));
}
