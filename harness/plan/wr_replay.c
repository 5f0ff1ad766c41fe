/* wr_replay.c - replay.json written and read (see wr_replay.h).
 *
 * The reader treats the file as hostile: every field is type-checked and
 * range-checked, strings are length-checked, and a field of the wrong
 * kind is an error naming it, never a default taken silently. */
#include "plan/wr_replay.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const known_tools[] = {"",     "memcheck", "helgrind",
                                          "drd",  "asan",     "tsan"};

int wr_replay_write(const char *path, const wr_case_t *c,
                    const wr_replay_ctx_t *ctx)
{
    json_t *j = json_object(), *args = json_array(), *sync = json_array(),
           *verdicts = json_object(), *expected = json_object();
    const wr_gateway_opts_t *g = &c->scenario->gateway;
    char tmp[PATH_MAX];
    int rc = 0;

    if (j == NULL || args == NULL || sync == NULL || verdicts == NULL ||
        expected == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; ctx->gateway_args && ctx->gateway_args[i]; i++) {
        bool secret = i > 0 && strcmp(ctx->gateway_args[i - 1], "--secret") == 0;

        json_array_append_new(
            args, json_string(secret ? "<secret>" : ctx->gateway_args[i]));
    }
    for (size_t i = 0; !c->no_sync && i < g->nsync; i++)
        json_array_append_new(sync, json_string(g->sync[i]));
    for (int k = 0; k < WSR_CHECK__COUNT; k++) {
        const char *name = wsr_check_name((wsr_check_id_t)k);

        if (!c->ran[k])
            continue;
        json_object_set_new(
            verdicts, name,
            json_string(wr_verdict_name(c->results[k].verdict)));
        json_object_set_new(expected, name,
                            json_string(wr_expect_name(c->expected[k])));
    }
    json_object_set_new(j, "wsrace_replay", json_integer(WR_REPLAY_VERSION));
    json_object_set_new(j, "case", json_string(c->id));
    json_object_set_new(j, "scenario",
                        json_pack("{s:s,s:s,s:s}", "name", c->scenario->name,
                                  "path", c->scenario->path, "text",
                                  c->scenario->text ? c->scenario->text : ""));
    json_object_set_new(j, "inject", json_string(c->inject));
    json_object_set_new(j, "no_sync", json_boolean(c->no_sync));
    json_object_set_new(j, "sync", sync);
    json_object_set_new(j, "gateway_args", args);
    json_object_set_new(j, "seed", json_integer((json_int_t)c->seed));
    json_object_set_new(j, "time_scale",
                        json_real(ctx->time_scale > 0 ? ctx->time_scale : 1.0));
    json_object_set_new(j, "tool", json_string(ctx->tool ? ctx->tool : ""));
    if (c->chaos.on)
        json_object_set_new(
            j, "chaos",
            json_pack("{s:i,s:i,s:i,s:i}", "close_percent",
                      c->chaos.close_percent, "reconnect_percent",
                      c->chaos.reconnect_percent, "burst", c->chaos.burst,
                      "probe_percent", c->chaos.probe_percent));
    if (c->controlled)
        json_object_set_new(j, "schedule", wr_schedule_json(&c->recorded));
    json_object_set_new(j, "target",
                        ctx->target ? json_string(ctx->target) : json_null());
    json_object_set_new(j, "url", ctx->url ? json_string(ctx->url) : json_null());
    json_object_set_new(j, "wrapper",
                        ctx->wrapper ? json_string(ctx->wrapper) : json_null());
    if (ctx->topology != NULL) /* a cluster: for people, like the target */
        json_object_set_new(j, "topology",
                            json_deep_copy((json_t *)ctx->topology));
    json_object_set_new(j, "verdicts", verdicts);
    json_object_set_new(j, "expected", expected);
    json_object_set_new(j, "as_expected", json_boolean(c->as_expected));
    json_object_set_new(j, "target_state",
                        json_string(wr_target_state_name(c->target_state)));
    sync = args = verdicts = expected = NULL;
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
        rc = -ENAMETOOLONG;
        goto out;
    }
    if (json_dump_file(j, tmp, JSON_INDENT(2)) != 0) {
        rc = -EIO;
        unlink(tmp);
    } else if (rename(tmp, path) != 0) {
        rc = -errno;
        unlink(tmp);
    }
out:
    json_decref(args);
    json_decref(sync);
    json_decref(verdicts);
    json_decref(expected);
    json_decref(j);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Reading                                                              */
/* ------------------------------------------------------------------ */

#define BAD(...)                                                               \
    do {                                                                       \
        int n_ = snprintf(err, errlen, "%s: ", path);                          \
        if (n_ >= 0 && (size_t)n_ < errlen)                                    \
            snprintf(err + n_, errlen - (size_t)n_, __VA_ARGS__);              \
        rc = -EINVAL;                                                          \
        goto out;                                                              \
    } while (0)

/* The string member key of o, or NULL when absent or null; *bad is set
 * when it is there but not a string. */
static const char *opt_str(json_t *o, const char *key, bool *bad)
{
    json_t *v = json_object_get(o, key);

    if (v == NULL || json_is_null(v))
        return NULL;
    if (!json_is_string(v)) {
        *bad = true;
        return NULL;
    }
    return json_string_value(v);
}

/* Checks the replay file j (taken) read from path into r. */
static int read_root(const char *path, json_t *j, wr_replay_t *r, char *err,
                     size_t errlen)
{
    json_t *sc, *v, *verdicts;
    const char *s, *text, *key;
    char perr[1024];
    bool bad = false, tool_ok = false;
    int rc = 0;

    if (!json_is_object(j) || !json_is_integer(json_object_get(j, "wsrace_replay")))
        BAD("not a wsrace replay.json (no wsrace_replay version)");
    r->version = (int)json_integer_value(json_object_get(j, "wsrace_replay"));
    if (r->version < 1 || r->version > WR_REPLAY_VERSION)
        BAD("replay.json version %d is not one this wsrace reads (1..%d); "
            "replay it with the wsrace that wrote it",
            r->version, WR_REPLAY_VERSION);
    sc = json_object_get(j, "scenario");
    if (!json_is_object(sc))
        BAD("'scenario' must be an object");
    text = opt_str(sc, "text", &bad);
    if (bad || text == NULL || text[0] == '\0')
        BAD("'scenario.text' must hold the scenario's text");
    s = opt_str(sc, "path", &bad);
    if (bad)
        BAD("'scenario.path' must be a string");
    if (s != NULL && strlen(s) > 1024)
        BAD("'scenario.path' is too long");
    if ((s = opt_str(j, "case", &bad)) != NULL) {
        if (strlen(s) >= sizeof(r->case_id))
            BAD("'case' is too long");
        snprintf(r->case_id, sizeof(r->case_id), "%s", s);
    }
    if (bad)
        BAD("'case' must be a string");
    s = opt_str(j, "inject", &bad);
    if (bad)
        BAD("'inject' must be a fault list");
    if (s != NULL &&
        wsr_faults_parse(&r->faults, s, perr, sizeof(perr)) != 0)
        BAD("'inject': %s", perr);
    v = json_object_get(j, "seed");
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        BAD("'seed' must be a whole number >= 0");
    r->seed = (unsigned long long)json_integer_value(v);
    v = json_object_get(j, "time_scale");
    if (v != NULL && !json_is_null(v)) {
        double x = json_number_value(v);

        if (!json_is_number(v) || !isfinite(x) || x < 0.01 || x > 1000)
            BAD("'time_scale' must be a number in [0.01, 1000]");
        r->time_scale = x;
    }
    v = json_object_get(j, "no_sync");
    if (v != NULL && !json_is_boolean(v))
        BAD("'no_sync' must be true or false");
    r->no_sync = json_is_true(v);
    s = opt_str(j, "tool", &bad);
    for (size_t i = 0; i < sizeof(known_tools) / sizeof(known_tools[0]); i++)
        tool_ok |= strcmp(s ? s : "", known_tools[i]) == 0;
    if (bad || !tool_ok)
        BAD("'tool' must be one of memcheck, helgrind, drd, asan, tsan or "
            "empty");
    snprintf(r->tool, sizeof(r->tool), "%s", s ? s : "");
    s = opt_str(j, "url", &bad);
    if (bad || (s != NULL && strlen(s) >= sizeof(r->url)))
        BAD("'url' must be a string of under %zu bytes", sizeof(r->url));
    snprintf(r->url, sizeof(r->url), "%s", s ? s : "");
    verdicts = json_object_get(j, "verdicts");
    if (verdicts != NULL && !json_is_object(verdicts))
        BAD("'verdicts' must be an object");
    json_object_foreach(verdicts, key, v)
    {
        int k = wsr_check_from_name(key), verdict;

        if (k < 0)
            BAD("'verdicts': unknown check '%.64s'", key);
        if (!json_is_string(v))
            BAD("'verdicts.%s' must be PASS, FAIL or UNKNOWN", key);
        verdict = wr_verdict_from_name(json_string_value(v));
        if (verdict < 0)
            BAD("'verdicts.%s' must be PASS, FAIL or UNKNOWN", key);
        r->verdicts[k] = (wr_verdict_t)verdict;
        r->ran[k] = true;
    }
    v = json_object_get(j, "chaos");
    if (v != NULL && !json_is_null(v)) {
        static const char *const keys[] = {"close_percent",
                                           "reconnect_percent", "burst",
                                           "probe_percent"};
        int *dst[] = {&r->chaos.close_percent, &r->chaos.reconnect_percent,
                      &r->chaos.burst, &r->chaos.probe_percent};

        if (!json_is_object(v))
            BAD("'chaos' must be an object");
        for (int k = 0; k < 4; k++) {
            json_t *x = json_object_get(v, keys[k]);

            if (!json_is_integer(x) || json_integer_value(x) < 0 ||
                json_integer_value(x) > 100)
                BAD("'chaos.%s' must be a whole number 0..100", keys[k]);
            *dst[k] = (int)json_integer_value(x);
        }
        r->chaos.on = true;
    }
    v = json_object_get(j, "schedule");
    if (v != NULL && !json_is_null(v)) {
        if (wr_schedule_from_json(&r->sched, v, perr, sizeof(perr)) != 0)
            BAD("%s", perr);
        r->sched.kind = WR_SCHED_REPLAY;
        r->controlled = true;
    }
    r->scenario = wr_scenario_parse(
        opt_str(sc, "path", &bad) ? opt_str(sc, "path", &bad) : path, text,
        perr, sizeof(perr));
    if (r->scenario == NULL)
        BAD("the recorded scenario: %s", perr);
out:
    json_decref(j);
    if (rc != 0)
        wr_replay_free(r);
    return rc;
}

int wr_replay_read(const char *path, wr_replay_t *r, char *err, size_t errlen)
{
    json_error_t je;
    json_t *j;

    memset(r, 0, sizeof(*r));
    j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (j == NULL) {
        if (access(path, F_OK) != 0) {
            snprintf(err, errlen, "%s: no such file", path);
            return -ENOENT;
        }
        snprintf(err, errlen, "%s:%d:%d: not a wsrace replay.json (%s)",
                 path, je.line, je.column, je.text);
        return -EINVAL;
    }
    return read_root(path, j, r, err, errlen);
}

int wr_replay_parse(const char *name, const char *buf, size_t len,
                    wr_replay_t *r, char *err, size_t errlen)
{
    json_error_t je;
    json_t *j;

    memset(r, 0, sizeof(*r));
    j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
    if (j == NULL) {
        snprintf(err, errlen, "%s:%d:%d: %s", name, je.line, je.column,
                 je.text);
        return -EINVAL;
    }
    return read_root(name, j, r, err, errlen);
}

void wr_replay_free(wr_replay_t *r)
{
    if (r->scenario != NULL)
        wr_scenario_free(r->scenario);
    wr_schedule_clear(&r->sched);
    memset(r, 0, sizeof(*r));
}
