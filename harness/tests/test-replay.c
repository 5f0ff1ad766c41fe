/* test-replay.c - replay.json written and read back (wr_replay.c).
 *
 * A case of a scenario parsed from text is written with a context (tool,
 * time scale, gateway arguments with a secret) and read back field by
 * field; the secret must not reach the file. Then the reader is fed
 * hostile files, each a valid file with one field spoiled through
 * jansson: every one must be refused with -EINVAL and a message that
 * starts with the path and names what is wrong, and nothing may be
 * handed back. A version-1 file (no tool) is still read.
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

#include "plan/wr_replay.h"

#define BIT(c) (1u << (c))

static const char scenario_text[] =
    "# A scenario kept whole in replay.json.\n"
    "name: replayed\n"
    "description: Swaps keep their machine; \"quotes\" survive.\n"
    "exposes: [scope-loss=swallow]\n"
    "gateway:\n"
    "  sync: [\"swap.unregistered:delay=5\", \"auth.done:jitter=1..3\"]\n"
    "clients:\n"
    "  - count: 2\n"
    "    steps: [connect, close]\n";

static struct {
    wr_scenario_t *s;
    wr_case_t c;
} fx;

/* ------------------------------------------------------------------ */
/* Test directories                                                     */
/* ------------------------------------------------------------------ */

static char test_dir[32];

static char *make_dir(void)
{
    if (test_dir[0] != '\0')
        return test_dir;
    snprintf(test_dir, sizeof(test_dir), "/tmp/wr-replay-XXXXXX");
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

TestSuite(replay, .fini = remove_test_dir);

/* ------------------------------------------------------------------ */
/* The case                                                             */
/* ------------------------------------------------------------------ */

static wr_case_t *build_case(void)
{
    wr_case_t *c = &fx.c;
    char err[512];

    memset(&fx, 0, sizeof(fx));
    fx.s = wr_scenario_parse("scenarios/replayed.yaml", scenario_text, err,
                             sizeof(err));
    cr_assert(not(zero(ptr, fx.s)), "%s", err);
    c->scenario = fx.s;
    snprintf(c->id, sizeof(c->id),
             "05-replayed-fallback-ready+scope-loss+swallow-s9007199254740993");
    cr_assert(eq(int, wsr_faults_parse(&c->faults,
                                       "scope-loss=swallow,fallback-ready", err,
                                       sizeof(err)),
                 0));
    wsr_faults_format(&c->faults, c->inject, sizeof(c->inject));
    c->seed = 9007199254740993ULL; /* not a double */
    c->no_sync = true;
    for (int k = 0; k < WSR_CHECK__COUNT; k++)
        c->results[k].id = (wsr_check_id_t)k;
    c->ran[WSR_CHECK_SCOPE_LOSS] = true;
    c->results[WSR_CHECK_SCOPE_LOSS].verdict = WR_FAIL;
    c->ran[WSR_CHECK_LIVENESS] = true;
    c->results[WSR_CHECK_LIVENESS].verdict = WR_UNKNOWN;
    c->ran[WSR_CHECK_ISOLATION] = true;
    c->results[WSR_CHECK_ISOLATION].verdict = WR_PASS;
    c->ran[WSR_CHECK_MEMORY_SAFETY] = true;
    c->results[WSR_CHECK_MEMORY_SAFETY].verdict = WR_FAIL;
    /* A verdict of a check that did not run is not recorded. */
    c->results[WSR_CHECK_DATA_RACE].verdict = WR_FAIL;
    c->expected[WSR_CHECK_SCOPE_LOSS] = WR_EXPECT_ANY;
    c->as_expected = true;
    c->target_state = WR_TARGET_CRASHED;
    return c;
}

static char *const gateway_args[] = {
    "build/target/wsrace-gateway", "--port", "0", "--secret", "s3cret-VALUE",
    "--inject", "fallback-ready,scope-loss=swallow", "--seed", "--secret",
    NULL};

static const wr_replay_ctx_t ctx = {
    .tool = "memcheck",
    .time_scale = 2.5,
    .target = "build/target/wsrace-gateway",
    .wrapper = "valgrind -q",
    .gateway_args = gateway_args,
};

/* Writes the case's replay.json into the test directory. */
static char *write_replay(char *path, size_t len, const char *name)
{
    build_case();
    snprintf(path, len, "%s/%s", make_dir(), name);
    cr_assert(eq(int, wr_replay_write(path, &fx.c, &ctx), 0));
    return path;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long len;

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

/* ------------------------------------------------------------------ */
/* Round trip                                                           */
/* ------------------------------------------------------------------ */

Test(replay, written_then_read_back, .timeout = 10)
{
    char path[PATH_MAX], tmp[PATH_MAX + 8], err[1024] = "";
    wr_replay_t r;

    write_replay(path, sizeof(path), "replay.json");
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    cr_assert(eq(int, access(tmp, F_OK), -1));
    cr_assert(eq(int, wr_replay_read(path, &r, err, sizeof(err)), 0), "%s",
              err);
    cr_assert(eq(int, r.version, WR_REPLAY_VERSION));
    cr_assert(eq(str, r.case_id, fx.c.id));
    cr_assert(eq(int, wsr_faults_equal(&r.faults, &fx.c.faults) ? 1 : 0, 1));
    cr_assert(eq(u64, r.seed, 9007199254740993ULL));
    cr_assert(eq(int, r.no_sync ? 1 : 0, 1));
    cr_assert(epsilon_eq(dbl, r.time_scale, 2.5, 1e-12));
    cr_assert(eq(str, r.tool, "memcheck"));
    cr_assert(eq(str, r.url, ""));
    for (int k = 0; k < WSR_CHECK__COUNT; k++) {
        cr_assert(eq(int, r.ran[k] ? 1 : 0, fx.c.ran[k] ? 1 : 0), "%s",
                  wsr_check_name(k));
        if (r.ran[k])
            cr_assert(eq(str, (char *)wr_verdict_name(r.verdicts[k]),
                         (char *)wr_verdict_name(fx.c.results[k].verdict)),
                      "%s", wsr_check_name(k));
    }
    /* The scenario, from its recorded text. */
    cr_assert(not(zero(ptr, r.scenario)));
    cr_assert(eq(str, r.scenario->text, (char *)scenario_text));
    cr_assert(eq(str, r.scenario->name, "replayed"));
    cr_assert(eq(str, r.scenario->path, "scenarios/replayed.yaml"));
    cr_assert(eq(sz, r.scenario->gateway.nsync, 2));
    cr_assert(eq(int,
                 wsr_faults_equal(&r.scenario->exposes, &fx.s->exposes) ? 1
                                                                         : 0,
                 1));
    wr_replay_free(&r);
    cr_assert(eq(ptr, (void *)r.scenario, NULL));
}

Test(replay, the_secret_is_redacted, .timeout = 10)
{
    char path[PATH_MAX];
    json_t *j, *args;
    char *text;

    write_replay(path, sizeof(path), "replay.json");
    text = slurp(path);
    cr_assert(eq(int, strstr(text, "s3cret-VALUE") == NULL ? 1 : 0, 1), "%s",
              text);
    free(text);
    j = json_load_file(path, 0, NULL);
    cr_assert(not(zero(ptr, j)));
    args = json_object_get(j, "gateway_args");
    cr_assert(eq(sz, json_array_size(args), 9));
    for (size_t i = 0; i < 9; i++)
        cr_assert(eq(str, (char *)json_string_value(json_array_get(args, i)),
                     i == 4 ? "<secret>" : gateway_args[i]),
                  "argument %zu", i);
    /* Recorded for people: the wrapper, the target; sync dropped with
     * no_sync. */
    cr_assert(eq(str, (char *)json_string_value(json_object_get(j, "wrapper")),
                 "valgrind -q"));
    cr_assert(eq(sz, json_array_size(json_object_get(j, "sync")), 0));
    cr_assert(eq(int,
                 json_is_null(json_object_get(j, "url")) ? 1 : 0, 1));
    json_decref(j);
}

Test(replay, sync_actions_are_recorded_unless_dropped, .timeout = 10)
{
    char path[PATH_MAX];
    json_t *j, *sync;

    build_case();
    fx.c.no_sync = false;
    snprintf(path, sizeof(path), "%s/replay.json", make_dir());
    cr_assert(eq(int, wr_replay_write(path, &fx.c, &ctx), 0));
    j = json_load_file(path, 0, NULL);
    sync = json_object_get(j, "sync");
    cr_assert(eq(sz, json_array_size(sync), 2));
    cr_assert(eq(str, (char *)json_string_value(json_array_get(sync, 0)),
                 "swap.unregistered:delay=5"));
    cr_assert(eq(int, json_is_false(json_object_get(j, "no_sync")) ? 1 : 0, 1));
    json_decref(j);
}

Test(replay, a_file_that_cannot_be_written_leaves_nothing, .timeout = 10)
{
    char path[PATH_MAX];

    build_case();
    snprintf(path, sizeof(path), "%s/no/such/dir/replay.json", make_dir());
    cr_assert(lt(int, wr_replay_write(path, &fx.c, &ctx), 0));
    cr_assert(eq(int, access(path, F_OK), -1));
}

/* ------------------------------------------------------------------ */
/* Hostile files                                                        */
/* ------------------------------------------------------------------ */

/* Reading path must fail with rc and a message starting with path and
 * naming word; nothing is handed back. */
static void expect_refused(const char *path, int rc, const char *word)
{
    char err[1024] = "";
    wr_replay_t r;

    memset(&r, 0x5a, sizeof(r));
    cr_assert(eq(int, wr_replay_read(path, &r, err, sizeof(err)), rc),
              "%s accepted: %s", path, err);
    cr_assert(eq(int, strncmp(err, path, strlen(path)), 0), "%s", err);
    cr_assert(eq(int, strstr(err, word) != NULL ? 1 : 0, 1), "no '%s' in: %s",
              word, err);
    cr_assert(eq(ptr, (void *)r.scenario, NULL));
    cr_assert(eq(u32, r.faults.mask, 0));
}

/* A valid replay.json with member key (a "a.b" path one level deep) set
 * to v, or removed when v is NULL; its path. */
static char *spoiled(const char *key, json_t *v)
{
    static int n;
    char name[64], member[64], *dot;
    static char path[PATH_MAX];
    json_t *j, *o;

    snprintf(name, sizeof(name), "replay-%d.json", n++);
    write_replay(path, sizeof(path), name);
    j = json_load_file(path, 0, NULL);
    cr_assert(not(zero(ptr, j)));
    snprintf(member, sizeof(member), "%s", key);
    o = j;
    if ((dot = strchr(member, '.')) != NULL) {
        *dot = '\0';
        o = json_object_get(j, member);
        memmove(member, dot + 1, strlen(dot + 1) + 1);
    }
    if (v != NULL)
        cr_assert(eq(int, json_object_set_new(o, member, v), 0));
    else
        cr_assert(eq(int, json_object_del(o, member), 0), "no %s", key);
    cr_assert(eq(int, json_dump_file(j, path, JSON_INDENT(2)), 0));
    json_decref(j);
    return path;
}

/* A file holding text; its path. */
static char *file_of(const char *text)
{
    static int n;
    static char path[PATH_MAX];
    FILE *f;

    snprintf(path, sizeof(path), "%s/raw-%d.json", make_dir(), n++);
    f = fopen(path, "w");
    cr_assert(not(zero(ptr, f)));
    fputs(text, f);
    fclose(f);
    return path;
}

Test(replay, an_unknown_version_is_refused, .timeout = 10)
{
    expect_refused(spoiled("wsrace_replay", json_integer(99)), -EINVAL,
                   "version 99");
    expect_refused(spoiled("wsrace_replay", json_integer(0)), -EINVAL,
                   "version 0");
    expect_refused(spoiled("wsrace_replay", json_integer(-1)), -EINVAL,
                   "version -1");
    expect_refused(spoiled("wsrace_replay", json_string("2")), -EINVAL,
                   "wsrace_replay");
    expect_refused(spoiled("wsrace_replay", NULL), -EINVAL, "wsrace_replay");
}

Test(replay, a_bad_seed_is_refused, .timeout = 10)
{
    expect_refused(spoiled("seed", json_integer(-1)), -EINVAL, "'seed'");
    expect_refused(spoiled("seed", json_string("12")), -EINVAL, "'seed'");
    expect_refused(spoiled("seed", json_real(1.5)), -EINVAL, "'seed'");
    expect_refused(spoiled("seed", json_null()), -EINVAL, "'seed'");
    expect_refused(spoiled("seed", NULL), -EINVAL, "'seed'");
}

Test(replay, a_time_scale_out_of_range_is_refused, .timeout = 10)
{
    expect_refused(spoiled("time_scale", json_real(0)), -EINVAL,
                   "'time_scale'");
    expect_refused(spoiled("time_scale", json_integer(0)), -EINVAL,
                   "'time_scale'");
    expect_refused(spoiled("time_scale", json_real(1e-300)), -EINVAL,
                   "'time_scale'");
    expect_refused(spoiled("time_scale", json_real(-2)), -EINVAL,
                   "'time_scale'");
    expect_refused(spoiled("time_scale", json_real(1e9)), -EINVAL,
                   "'time_scale'");
    expect_refused(spoiled("time_scale", json_string("nan")), -EINVAL,
                   "'time_scale'");
    expect_refused(spoiled("time_scale", json_string("2")), -EINVAL,
                   "'time_scale'");
    expect_refused(spoiled("time_scale", json_true()), -EINVAL,
                   "'time_scale'");
    /* What JSON cannot hold is refused by the parser, with a position. */
    expect_refused(file_of("{\"wsrace_replay\": 2, \"time_scale\": NaN}"),
                   -EINVAL, ":1:");
    expect_refused(file_of("{\"wsrace_replay\": 2, \"time_scale\": 1e999}"),
                   -EINVAL, ":1:");
}

Test(replay, a_time_scale_in_range_is_kept, .timeout = 10)
{
    char err[1024] = "";
    wr_replay_t r;

    cr_assert(eq(int,
                 wr_replay_read(spoiled("time_scale", json_integer(20)), &r,
                                err, sizeof(err)),
                 0),
              "%s", err);
    cr_assert(epsilon_eq(dbl, r.time_scale, 20.0, 1e-12));
    wr_replay_free(&r);
}

Test(replay, an_unknown_tool_is_refused, .timeout = 10)
{
    expect_refused(spoiled("tool", json_string("purify")), -EINVAL, "'tool'");
    expect_refused(spoiled("tool", json_string("/bin/sh")), -EINVAL, "'tool'");
    expect_refused(spoiled("tool", json_string("memcheck ")), -EINVAL,
                   "'tool'");
    expect_refused(spoiled("tool", json_integer(1)), -EINVAL, "'tool'");
}

Test(replay, an_unknown_fault_is_refused, .timeout = 10)
{
    expect_refused(spoiled("inject", json_string("fallback-ready,no-such")),
                   -EINVAL, "no-such");
    expect_refused(spoiled("inject", json_string("scope-loss=sideways")),
                   -EINVAL, "sideways");
    expect_refused(spoiled("inject", json_pack("[s]", "fallback-ready")),
                   -EINVAL, "'inject'");
}

Test(replay, bad_verdicts_are_refused, .timeout = 10)
{
    expect_refused(spoiled("verdicts", json_pack("{s:s}", "no_such", "PASS")),
                   -EINVAL, "no_such");
    expect_refused(
        spoiled("verdicts", json_pack("{s:s}", "scope_loss", "MAYBE")),
        -EINVAL, "'verdicts.scope_loss'");
    expect_refused(spoiled("verdicts", json_pack("{s:s}", "scope_loss", "pass")),
                   -EINVAL, "'verdicts.scope_loss'");
    expect_refused(spoiled("verdicts", json_pack("{s:i}", "liveness", 1)),
                   -EINVAL, "'verdicts.liveness'");
    expect_refused(spoiled("verdicts", json_pack("[s]", "PASS")), -EINVAL,
                   "'verdicts'");
}

Test(replay, a_scenario_that_does_not_parse_is_refused, .timeout = 10)
{
    expect_refused(spoiled("scenario.text", json_string("name: [\n")),
                   -EINVAL, "the recorded scenario");
    expect_refused(
        spoiled("scenario.text", json_string("name: x\ndescription: d\n")),
        -EINVAL, "the recorded scenario");
    expect_refused(spoiled("scenario.text", json_string("")), -EINVAL,
                   "'scenario.text'");
    expect_refused(spoiled("scenario.text", json_integer(3)), -EINVAL,
                   "'scenario.text'");
    expect_refused(spoiled("scenario", json_string("scenarios/x.yaml")),
                   -EINVAL, "'scenario'");
    expect_refused(spoiled("scenario", NULL), -EINVAL, "'scenario'");
}

Test(replay, fields_of_the_wrong_kind_are_named, .timeout = 10)
{
    expect_refused(spoiled("no_sync", json_string("yes")), -EINVAL,
                   "'no_sync'");
    expect_refused(spoiled("url", json_integer(80)), -EINVAL, "'url'");
    expect_refused(spoiled("case", json_integer(5)), -EINVAL, "'case'");
    expect_refused(spoiled("scenario.path", json_integer(5)), -EINVAL,
                   "'scenario.path'");
}

Test(replay, not_a_replay_file_is_refused, .timeout = 10)
{
    char missing[PATH_MAX];

    expect_refused(file_of("[1, 2]"), -EINVAL, "not a wsrace replay.json");
    expect_refused(file_of("\"replay\""), -EINVAL, ":1:");
    expect_refused(file_of("{}"), -EINVAL, "not a wsrace replay.json");
    expect_refused(file_of("not JSON"), -EINVAL, ":1:");
    expect_refused(file_of("{\"wsrace_replay\": 2, \"wsrace_replay\": 2}"),
                   -EINVAL, "duplicate");
    snprintf(missing, sizeof(missing), "%s/gone.json", make_dir());
    expect_refused(missing, -ENOENT, "no such file");
}

Test(replay, a_version_1_file_without_a_tool_is_read, .timeout = 10)
{
    char path[PATH_MAX], err[1024] = "";
    json_t *j;
    wr_replay_t r;

    write_replay(path, sizeof(path), "v1.json");
    j = json_load_file(path, 0, NULL);
    cr_assert(not(zero(ptr, j)));
    json_object_set_new(j, "wsrace_replay", json_integer(1));
    json_object_del(j, "tool");
    cr_assert(eq(int, json_dump_file(j, path, 0), 0));
    json_decref(j);
    cr_assert(eq(int, wr_replay_read(path, &r, err, sizeof(err)), 0), "%s",
              err);
    cr_assert(eq(int, r.version, 1));
    cr_assert(eq(str, r.tool, ""));
    cr_assert(eq(u64, r.seed, fx.c.seed));
    cr_assert(eq(int, wsr_faults_equal(&r.faults, &fx.c.faults) ? 1 : 0, 1));
    cr_assert(not(zero(ptr, r.scenario)));
    wr_replay_free(&r);
}
