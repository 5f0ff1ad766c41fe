/* wr_report_json.c - summary.json: the run, every case, check and
 * evidence event, for machines.
 *
 * One jansson tree of the whole run is built, then dumped into the memory
 * stream that wr__report_write_file() publishes. Strings from outside go
 * through jstr(), which replaces invalid UTF-8 (jansson refuses it), so
 * the file is valid JSON whatever a case produced. Builders collect
 * failures in one rc: out of memory anywhere fails the whole file.
 *
 * Threads: the runner's main thread only. No locks, no static state. */
#include "report/wr_report.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "judge/wr_matrix.h"
#include "judge/wr_judge.h"
#include "report/wr_report_util.h"
#include "plan/wr_explored.h"

/* ------------------------------------------------------------------------
 * Text: strings and times as JSON
 * ---------------------------------------------------------------------- */

/* A copy of s with every invalid UTF-8 sequence replaced, or NULL when out
 * of memory. */
static char *utf8_clean(const char *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (f == NULL)
        return NULL;
    while (*s != '\0') {
        long cp;
        size_t n = wr__report_utf8_next(s, &cp);

        if (cp < 0)
            fputs(REPLACEMENT, f);
        else
            fwrite(s, 1, n, f);
        s += n;
    }
    if (ferror(f)) {
        fclose(f);
        free(buf);
        return NULL;
    }
    fclose(f);
    return buf;
}

/* A JSON string of s (invalid UTF-8 replaced), null for NULL; NULL only
 * when out of memory. */
static json_t *jstr(const char *s)
{
    json_t *j;
    char *clean;

    if (s == NULL)
        return json_null();
    j = json_string(s);
    if (j != NULL)
        return j;
    clean = utf8_clean(s);
    if (clean == NULL)
        return NULL;
    j = json_string(clean);
    free(clean);
    return j;
}

/* The same, but null for "" too. */
static json_t *jstr_or_null(const char *s)
{
    return jstr(s != NULL && *s != '\0' ? s : NULL);
}

/* Milliseconds with microsecond resolution. */
static json_t *jms(int64_t ns)
{
    int64_t us = ns >= 0 ? (ns + 500) / 1000 : (ns - 500) / 1000;

    return json_real((double)us / 1000.0);
}

/* ------------------------------------------------------------------------
 * summary.json
 * ---------------------------------------------------------------------- */

/* Sets key of obj to v, which it takes (NULL is an error). Accumulates
 * failures in *rc so a builder checks once. */
static void put(json_t *obj, const char *key, json_t *v, int *rc)
{
    if (json_object_set_new(obj, key, v) != 0)
        *rc = -ENOMEM;
}

static void append(json_t *arr, json_t *v, int *rc)
{
    if (json_array_append_new(arr, v) != 0)
        *rc = -ENOMEM;
}

static json_t *event_line_json(const wr_event_t *e);

static json_t *event_json(const wr_event_t *e)
{
    json_t *o = json_object(), *line;
    int rc = 0;

    if (o == NULL)
        return NULL;
    line = event_line_json(e);
    put(o, "seq", json_integer((json_int_t)e->seq), &rc);
    put(o, "ns", json_integer((json_int_t)e->ns), &rc);
    put(o, "src", json_string(wr__report_src_name(e->src)), &rc);
    put(o, "event", jstr(e->event), &rc);
    put(o, "key", jstr(e->key), &rc);
    put(o, "conn", json_integer((json_int_t)e->conn), &rc);
    put(o, "client", json_integer(e->client), &rc);
    put(o, "line", line, &rc);
    if (rc < 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *check_json(const wr_case_t *c, int i)
{
    const wr_check_result_t *r = &c->results[i];
    json_t *o = json_object(), *ev = json_array();
    int rc = o && ev ? 0 : -ENOMEM;

    for (size_t k = 0; rc == 0 && k < wr__report_nevidence(r); k++)
        if (r->evidence[k] != NULL)
            append(ev, event_json(r->evidence[k]), &rc);
    if (rc < 0) {
        json_decref(ev);
        json_decref(o);
        return NULL;
    }
    put(o, "verdict", json_string(wr_verdict_name(r->verdict)), &rc);
    put(o, "expected", json_string(wr_expect_name(c->expected[i])), &rc);
    put(o, "as_expected", json_boolean(wr_judge_check_ok(c, i)), &rc);
    put(o, "summary", jstr(r->summary), &rc);
    put(o, "violations", json_integer((json_int_t)r->violations), &rc);
    put(o, "evidence", ev, &rc);
    if (rc < 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* The comma list as an array of strings. */
static json_t *list_json(const char *list)
{
    json_t *a = json_array();
    const char *p = list;
    int rc = a ? 0 : -ENOMEM;

    while (rc == 0 && p != NULL && *p != '\0') {
        size_t n = strcspn(p, ",");
        char *item = strndup(p, n);

        append(a, item ? jstr(item) : NULL, &rc);
        free(item);
        p = p[n] == ',' ? p + n + 1 : NULL;
    }
    if (rc < 0) {
        json_decref(a);
        return NULL;
    }
    return a;
}

static json_t *scenario_json(const wr_scenario_t *s)
{
    char exposes[WSR_FAULTS_TEXT_MAX] = "";
    json_t *o = json_object(), *ex;
    int rc = o ? 0 : -ENOMEM;

    if (s != NULL)
        wsr_faults_format(&s->exposes, exposes, sizeof(exposes));
    ex = list_json(exposes);
    if (rc < 0 || ex == NULL) {
        json_decref(ex);
        json_decref(o);
        return NULL;
    }
    put(o, "name", jstr(s ? s->name : NULL), &rc);
    put(o, "path", jstr(s ? s->path : NULL), &rc);
    put(o, "description", jstr(s ? s->description : NULL), &rc);
    put(o, "exposes", ex, &rc);
    if (rc < 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* The names of the checks in mask. */
static json_t *checks_list_json(unsigned mask)
{
    json_t *a = json_array();
    int rc = a ? 0 : -ENOMEM;

    for (int k = 0; rc == 0 && k < WSR_CHECK__COUNT; k++)
        if (mask & BIT(k))
            append(a, json_string(wsr_check_name((wsr_check_id_t)k)), &rc);
    if (rc < 0) {
        json_decref(a);
        return NULL;
    }
    return a;
}

/* An event's line as JSON (its text when it does not parse). */
static json_t *event_line_json(const wr_event_t *e)
{
    char *text = wr_event_line(e);
    json_t *line = text ? json_loads(text, 0, NULL) : NULL;

    if (line == NULL)
        line = jstr(text);
    free(text);
    return line;
}

static json_t *case_json(const wr_case_t *c)
{
    json_t *o = json_object(), *t = json_object(), *checks = json_object();
    char dbuf[256];
    int rc = o && t && checks ? 0 : -ENOMEM;

    if (rc < 0) {
        json_decref(o);
        json_decref(t);
        json_decref(checks);
        return NULL;
    }
    put(t, "state", json_string(wr_target_state_name(c->target_state)), &rc);
    put(t, "exit_code", json_integer(c->target_exit_code), &rc);
    put(t, "signal", json_integer(c->target_signal), &rc);
    put(t, "error", jstr_or_null(c->target_error), &rc);
    put(t, "gateway_up_ms", jms(c->gateway_up_ns), &rc);
    put(t, "topology", jstr_or_null(c->topology), &rc);
    for (int i = 0; i < WSR_CHECK__COUNT; i++)
        if (c->ran[i])
            put(checks, wsr_check_name((wsr_check_id_t)i), check_json(c, i), &rc);

    put(o, "id", jstr(c->id), &rc);
    put(o, "index", json_integer((json_int_t)c->index), &rc);
    put(o, "scenario", scenario_json(c->scenario), &rc);
    put(o, "inject", list_json(c->inject), &rc);
    put(o, "seed", json_integer((json_int_t)c->seed), &rc);
    put(o, "repeat", json_integer(c->repeat), &rc);
    put(o, "as_expected", json_boolean(c->as_expected), &rc);
    put(o, "need_one", checks_list_json(c->need_one), &rc);
    put(o, "no_sync", json_boolean(c->no_sync), &rc);
    if (c->controlled) {
        json_t *sch = json_pack("{s:s,s:I,s:i,s:I,s:I}", "strategy",
                                wr_sched_kind_name(c->sched.kind), "seed",
                                (json_int_t)c->sched.seed, "depth",
                                c->sched.depth, "arrivals",
                                (json_int_t)c->sched_arrivals, "releases",
                                (json_int_t)c->recorded.nsteps);

        /* How closely a replay followed its schedule. */
        if (sch != NULL && c->sched.kind == WR_SCHED_REPLAY) {
            json_object_set_new(sch, "steps",
                                json_integer((json_int_t)c->sched_steps));
            json_object_set_new(sch, "diverged",
                                json_integer((json_int_t)c->sched_diverged));
            json_object_set_new(sch, "ahead",
                                json_integer((json_int_t)c->sched_ahead));
        }
        put(o, "schedule", sch, &rc);
    }
    if (c->chaos.on)
        put(o, "chaos",
            json_pack("{s:i,s:i,s:i,s:i}", "close_percent",
                      c->chaos.close_percent, "reconnect_percent",
                      c->chaos.reconnect_percent, "burst", c->chaos.burst,
                      "probe_percent", c->chaos.probe_percent),
            &rc);
    put(o, "origin",
        c->history && wr_history_len(c->history) > 0
            ? event_line_json(wr_history_at(c->history, 0))
            : json_null(),
        &rc);
    put(o, "target", t, &rc);
    put(o, "duration_ms", jms(c->duration_ns), &rc);
    if (c->early_end && c->early_check >= 0)
        /* --early-verdict ended it: on which check, when after the
         * gateway was up, and whether the whole history agreed. */
        put(o, "early_end",
            json_pack("{s:s,s:o,s:b}", "check",
                      wsr_check_name((wsr_check_id_t)c->early_check), "ms",
                      jms(c->early_ns), "confirmed", c->early_confirmed),
            &rc);
    put(o, "first_fail_ms",
        c->first_fail_ns >= 0 ? jms(c->first_fail_ns) : json_null(), &rc);
    put(o, "clients", json_integer(c->clients), &rc);
    put(o, "established", json_integer(c->established), &rc);
    put(o, "steps_failed", json_integer(c->steps_failed), &rc);
    put(o, "replay", jstr(c->replay), &rc);
    put(o, "dir", jstr(wr__report_case_dir(c, dbuf, sizeof(dbuf))), &rc);
    put(o, "checks", checks, &rc);
    if (rc < 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* Every scenario of the run with its whole text: enough to replay any case
 * and to merge shards without the files. */
static json_t *scenarios_json(const wr_run_t *run)
{
    json_t *a = json_array();
    int rc = a ? 0 : -ENOMEM;

    for (size_t i = 0; rc == 0 && i < run->nscenarios; i++) {
        const wr_scenario_t *s = run->scenarios[i];

        append(a,
               json_pack("{s:o,s:o,s:o}", "name", jstr(s->name), "path",
                         jstr(s->path), "text", jstr(s->text)),
               &rc);
    }
    if (rc < 0) {
        json_decref(a);
        return NULL;
    }
    return a;
}

static json_t *injects_json(const wr_run_t *run)
{
    json_t *a = json_array();
    int rc = a ? 0 : -ENOMEM;

    for (size_t i = 0; rc == 0 && i < run->ninjects; i++) {
        char text[WSR_FAULTS_TEXT_MAX];

        wsr_faults_format(&run->injects[i], text, sizeof(text));
        append(a, jstr(text), &rc);
    }
    if (rc < 0) {
        json_decref(a);
        return NULL;
    }
    return a;
}

static json_t *changes_json(const wr_matrix_change_t *v, size_t n)
{
    json_t *a = json_array();
    int rc = a ? 0 : -ENOMEM;

    for (size_t i = 0; rc == 0 && i < n; i++)
        append(a,
               json_pack("{s:s,s:s,s:s,s:s,s:s}", "row", v[i].row, "scenario",
                         v[i].scenario, "check", v[i].check, "was", v[i].was,
                         "now", v[i].now),
               &rc);
    if (rc < 0) {
        json_decref(a);
        return NULL;
    }
    return a;
}

static json_t *baseline_json(const wr_matrix_diff_t *d)
{
    return json_pack("{s:o,s:o,s:o,s:o}", "path", jstr(d->path), "regressions",
                     changes_json(d->regressions, d->nregressions),
                     "improvements",
                     changes_json(d->improvements, d->nimprovements),
                     "changes", changes_json(d->changes, d->nchanges));
}

static json_t *run_json(const wr_run_t *run)
{
    json_t *o = json_object(), *totals = json_object(), *checks = json_object();
    size_t ok = 0, nv[3] = {0, 0, 0};
    char when[32];
    int rc = o && totals && checks ? 0 : -ENOMEM;

    if (rc < 0) {
        json_decref(o);
        json_decref(totals);
        json_decref(checks);
        return NULL;
    }
    for (size_t k = 0; k < run->ncases; k++) {
        const wr_case_t *c = &run->cases[k];

        ok += c->as_expected;
        for (int i = 0; i < WSR_CHECK__COUNT; i++)
            if (c->ran[i] && (unsigned)c->results[i].verdict < 3)
                nv[c->results[i].verdict]++;
    }
    put(checks, "PASS", json_integer((json_int_t)nv[WR_PASS]), &rc);
    put(checks, "FAIL", json_integer((json_int_t)nv[WR_FAIL]), &rc);
    put(checks, "UNKNOWN", json_integer((json_int_t)nv[WR_UNKNOWN]), &rc);
    put(totals, "cases", json_integer((json_int_t)run->ncases), &rc);
    put(totals, "as_expected", json_integer((json_int_t)ok), &rc);
    put(totals, "unexpected", json_integer((json_int_t)(run->ncases - ok)),
        &rc);
    put(totals, "checks", checks, &rc);

    put(o, "id", jstr(run->id), &rc);
    put(o, "command", jstr(run->argv_text), &rc);
    put(o, "seed", json_integer((json_int_t)run->seed), &rc);
    put(o, "target", jstr(run->target), &rc);
    put(o, "external", json_boolean(run->external), &rc);
    put(o, "started",
        json_string(wr__report_utc_time(run->started_unix, "%Y-%m-%dT%H:%M:%SZ",
                                        when, sizeof(when))),
        &rc);
    put(o, "duration_ms", jms(run->duration_ns), &rc);
    put(o, "status", json_string(wr_status_name(run->status)), &rc);
    put(o, "totals", totals, &rc);
    put(o, "kind", json_string(run->kind[0] ? run->kind : "run"), &rc);
    put(o, "tool", jstr_or_null(run->tool), &rc);
    put(o, "shard",
        run->shard_count
            ? json_pack("{s:i,s:i}", "index", run->shard_index, "count",
                        run->shard_count)
            : json_null(),
        &rc);
    put(o, "planned", json_integer((json_int_t)run->planned), &rc);
    put(o, "plan_id", jstr(run->plan_id), &rc);
    put(o, "scenarios", scenarios_json(run), &rc);
    put(o, "injects", injects_json(run), &rc);
    put(o, "matrix", run->matrix ? wr_matrix_json(run->matrix) : json_null(),
        &rc);
    put(o, "baseline", run->baseline ? baseline_json(run->baseline) : json_null(),
        &rc);
    if (run->explored != NULL)
        put(o, "explore", wr_explored_json(run->explored), &rc);
    if (rc < 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static int render_summary(const wr_run_t *run, FILE *out)
{
    json_t *root = run_json(run), *cases = json_array();
    int rc = root && cases ? 0 : -ENOMEM;

    for (size_t k = 0; rc == 0 && k < run->ncases; k++)
        append(cases, case_json(&run->cases[k]), &rc);
    if (rc == 0) {
        put(root, "cases", cases, &rc);
        cases = NULL;
    }
    if (rc == 0 &&
        json_dumpf(root, out, JSON_INDENT(2) | JSON_REAL_PRECISION(15)) != 0)
        rc = -ENOMEM;
    if (rc == 0)
        fputc('\n', out);
    json_decref(cases);
    json_decref(root);
    return rc;
}

int wr_report_write_summary(const wr_run_t *run, const char *dir)
{
    return wr__report_write_file(dir, "summary.json", render_summary, run);
}
