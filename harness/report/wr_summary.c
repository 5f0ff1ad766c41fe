/* wr_summary.c - summary.json back into a wr_run_t.
 *
 * The inverse of wr_report_json.c for everything the reports read. Times
 * come back at the microsecond resolution the summary keeps. Evidence
 * events are rebuilt as a small history per case (its origin event first,
 * then each evidence line once), so the report writers see the same
 * structure as after a live run. */
#include "report/wr_summary.h"

#include "plan/wr_plan.h"
#include "plan/wr_explored.h"
#include "plan/wr_json.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BIT(c) (1u << (c))

int wr_summary_path(const char *path, char *out, size_t len)
{
    struct stat st;
    int n;

    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        n = snprintf(out, len, "%s/summary.json", path);
    else
        n = snprintf(out, len, "%s", path);
    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static const char *str(json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));

    return v ? v : "";
}

/* Milliseconds (a JSON number) as nanoseconds; -1 when v is no number or
 * one no int64 of nanoseconds holds (converting it would be undefined). */
static int64_t ms_to_ns(json_t *v)
{
    double ns = json_number_value(v) * 1e6;

    if (!json_is_number(v) || !(ns > -9.2e18 && ns < 9.2e18))
        return -1;
    return (int64_t)(ns + (ns < 0 ? -0.5 : 0.5));
}

static wr_target_state_t state_from_name(const char *name)
{
    for (int s = WR_TARGET_OK; s <= WR_TARGET_EXTERNAL; s++)
        if (strcmp(wr_target_state_name((wr_target_state_t)s), name) == 0)
            return (wr_target_state_t)s;
    return WR_TARGET_NO_START;
}

/* ------------------------------------------------------------------------
 * Scenarios
 * ---------------------------------------------------------------------- */

static int add_scenario(wr_run_t *run, wr_scenario_t *s)
{
    wr_scenario_t **p =
        realloc(run->scenarios, (run->nscenarios + 1) * sizeof(*p));

    if (p == NULL) {
        wr_scenario_free(s);
        return -ENOMEM;
    }
    run->scenarios = p;
    p[run->nscenarios++] = s;
    return 0;
}

static wr_scenario_t *find_known(wr_scenario_t *const *known, size_t n,
                                 const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (known[i] && strcmp(known[i]->name, name) == 0)
            return known[i];
    return NULL;
}

/* A scenario that holds only what a case states of it. */
static wr_scenario_t *minimal_scenario(json_t *o)
{
    wr_scenario_t *s = calloc(1, sizeof(*s));
    json_t *ex = json_object_get(o, "exposes"), *v;
    char err[256];
    size_t i;

    if (s == NULL)
        return NULL;
    s->name = strdup(str(o, "name"));
    s->path = strdup(str(o, "path"));
    s->text = strdup("");
    s->description = strdup(str(o, "description"));
    s->checks = WSR_CHECKS_ALL;
    if (!s->name || !s->path || !s->text || !s->description) {
        wr_scenario_free(s);
        return NULL;
    }
    json_array_foreach(ex, i, v)
    {
        if (!json_is_string(v) || wsr_faults_parse(&s->exposes,
                                                   json_string_value(v), err,
                                                   sizeof(err)) != 0) {
            wr_scenario_free(s);
            return NULL;
        }
    }
    return s;
}

/* The run's scenarios from its "scenarios" list. Owned scenarios and
 * borrowed (known) ones are not mixed: a run either binds every scenario
 * to known ones or owns them all. */
static int load_scenarios(json_t *root, wr_scenario_t *const *known,
                          size_t nknown, wr_run_t *run)
{
    json_t *list = json_object_get(root, "scenarios"), *o;
    size_t i;

    run->owns_scenarios = known == NULL;
    json_array_foreach(list, i, o)
    {
        wr_scenario_t *s;
        char err[256];

        if (known != NULL) {
            s = find_known(known, nknown, str(o, "name"));
            if (s != NULL && add_scenario(run, s) != 0)
                return -ENOMEM;
            continue;
        }
        s = wr_scenario_parse(str(o, "path"), str(o, "text"), err, sizeof(err));
        if (s == NULL)
            continue; /* rebuilt from its cases below */
        if (add_scenario(run, s) != 0)
            return -ENOMEM;
    }
    return 0;
}

static wr_scenario_t *case_scenario(wr_run_t *run, json_t *o,
                                    wr_scenario_t *const *known, size_t nknown)
{
    const char *name = str(o, "name");
    wr_scenario_t *s;

    for (size_t i = 0; i < run->nscenarios; i++)
        if (strcmp(run->scenarios[i]->name, name) == 0)
            return run->scenarios[i];
    if (known != NULL)
        s = find_known(known, nknown, name);
    else
        s = minimal_scenario(o);
    if (s == NULL || add_scenario(run, s) != 0)
        return NULL;
    return s;
}

/* ------------------------------------------------------------------------
 * Cases
 * ---------------------------------------------------------------------- */

/* Adds the event line of o (an object, or a string) to h unless an equal
 * line is there already. */
static int add_event(wr_history_t *h, json_t *line)
{
    char *text;
    int rc;

    if (json_is_object(line))
        text = json_dumps(line, JSON_COMPACT);
    else if (json_is_string(line))
        text = strdup(json_string_value(line));
    else
        return 0;
    if (text == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < wr_history_len(h); i++) {
        char *have = wr_event_line(wr_history_at(h, i));
        bool same = have != NULL && strcmp(have, text) == 0;

        free(have);
        if (same) {
            free(text);
            return 0;
        }
    }
    rc = wr_history_add_line(h, WR_SRC_HARNESS, text);
    free(text);
    return rc == -EINVAL ? 0 : rc;
}

/* The canonical text of an event line (sorted keys, compact), so that a
 * line read back matches the event the history keeps for it whatever the
 * order of its members; NULL when it does not parse. */
static char *canon(json_t *line)
{
    return json_is_object(line)
               ? json_dumps(line, JSON_COMPACT | JSON_SORT_KEYS)
               : NULL;
}

static char *canon_text(const char *text)
{
    json_t *o = json_loads(text, 0, NULL);
    char *c = canon(o);

    json_decref(o);
    return c;
}

/* Points the evidence of r at the events of h that carry its lines;
 * keys[i] is the canonical text of h's event i. */
static void bind_evidence(wr_check_result_t *r, json_t *ev,
                          const wr_history_t *h, char *const *keys)
{
    size_t i;
    json_t *e;

    r->nevidence = 0;
    json_array_foreach(ev, i, e)
    {
        json_t *line = json_object_get(e, "line");
        char *want;

        if (r->nevidence == WR_EVIDENCE_MAX)
            break; /* before the text is made: nothing to free */
        want = json_is_string(line) ? canon_text(json_string_value(line))
                                    : canon(line);
        for (size_t k = 0; want && k < wr_history_len(h); k++)
            if (keys[k] && strcmp(keys[k], want) == 0) {
                r->evidence[r->nevidence++] = wr_history_at(h, k);
                break;
            }
        free(want);
    }
}

static int load_checks(wr_case_t *c, json_t *checks, wr_history_t *h)
{
    const char *name;
    char **keys;
    json_t *o;
    int rc = 0;

    json_object_foreach(checks, name, o)
    {
        int k = wsr_check_from_name(name);
        json_t *ev = json_object_get(o, "evidence"), *e;
        size_t i;

        if (k < 0)
            continue;
        json_array_foreach(ev, i, e)
        {
            if (add_event(h, json_object_get(e, "line")) != 0)
                return -ENOMEM;
        }
    }
    wr_history_sort(h);
    keys = calloc(wr_history_len(h) + 1, sizeof(*keys));
    if (keys == NULL)
        return -ENOMEM;
    for (size_t k = 0; k < wr_history_len(h); k++) {
        char *line = wr_event_line(wr_history_at(h, k));

        keys[k] = line ? canon_text(line) : NULL;
        free(line);
    }
    json_object_foreach(checks, name, o)
    {
        int k = wsr_check_from_name(name);
        int v = wr_verdict_from_name(str(o, "verdict"));
        int e = wr_expect_from_name(str(o, "expected"));
        wr_check_result_t *r;

        if (k < 0)
            continue;
        if (v < 0 || e < 0) {
            rc = -EINVAL; /* not a verdict this wsrace writes */
            break;
        }
        r = &c->results[k];
        c->ran[k] = true;
        r->id = (wsr_check_id_t)k;
        r->verdict = (wr_verdict_t)v;
        c->expected[k] = (wr_expect_t)e;
        snprintf(r->summary, sizeof(r->summary), "%s", str(o, "summary"));
        r->violations =
            (size_t)json_integer_value(json_object_get(o, "violations"));
        bind_evidence(r, json_object_get(o, "evidence"), h, keys);
    }
    for (size_t k = 0; k < wr_history_len(h); k++)
        free(keys[k]);
    free(keys);
    return rc;
}

static void join_list(json_t *list, char *out, size_t len)
{
    size_t used = 0, i;
    json_t *v;

    out[0] = '\0';
    json_array_foreach(list, i, v)
    {
        if (json_is_string(v) && used < len)
            used += (size_t)snprintf(out + used, len - used, "%s%s",
                                     used ? "," : "", json_string_value(v));
    }
}

static unsigned checks_mask(json_t *list)
{
    unsigned m = 0;
    size_t i;
    json_t *v;

    json_array_foreach(list, i, v)
    {
        int k = wsr_check_from_name(json_string_value(v) ? json_string_value(v)
                                                        : "");
        if (k >= 0)
            m |= BIT(k);
    }
    return m;
}

/* A count member in [0, hi]; absent: 0. */
/* The case's schedule as the reports show it: strategy, seed, depth and
 * counts (the releases themselves are in its replay.json). */
static int load_schedule(wr_case_t *c, json_t *o)
{
    long long seed, depth, arrivals, releases;
    int kind;

    if (o == NULL || json_is_null(o))
        return 0;
    kind = wr_sched_kind_from_name(json_string_value(json_object_get(o,
                                                                 "strategy")));
    if (kind < 0 || !wr_json_int(o, "seed", 0, INT64_MAX, 0, &seed) ||
        !wr_json_int(o, "depth", 0, 100, 0, &depth) ||
        !wr_json_int(o, "arrivals", 0, 100000000, 0, &arrivals) ||
        !wr_json_int(o, "releases", 0, 100000000, 0, &releases))
        return -EINVAL;
    if (kind == WR_SCHED_REPLAY) { /* how closely it followed: optional */
        long long steps, diverged, ahead;

        if (!wr_json_int(o, "steps", 0, 100000000, 0, &steps) ||
            !wr_json_int(o, "diverged", 0, steps, 0, &diverged) ||
            !wr_json_int(o, "ahead", 0, steps, 0, &ahead))
            return -EINVAL;
        c->sched_steps = (size_t)steps;
        c->sched_diverged = (size_t)diverged;
        c->sched_ahead = (size_t)ahead;
    }
    c->controlled = true;
    c->sched.kind = (wr_sched_kind_t)kind;
    c->sched.seed = (uint64_t)seed;
    c->sched.depth = (int)depth;
    c->sched_arrivals = (size_t)arrivals;
    c->recorded.nsteps = 0; /* no steps in memory */
    c->recorded.expected = (int)releases;
    return 0;
}

static int load_chaos(wr_case_t *c, json_t *o)
{
    long long cl, re, bu, pr;

    if (o == NULL || json_is_null(o))
        return 0;
    if (!wr_json_int(o, "close_percent", 0, 100, 0, &cl) ||
        !wr_json_int(o, "reconnect_percent", 0, 100, 0, &re) ||
        !wr_json_int(o, "burst", 0, 1000, 0, &bu) ||
        !wr_json_int(o, "probe_percent", 0, 100, 0, &pr))
        return -EINVAL;
    c->chaos = (wr_chaos_t){true, (int)cl, (int)re, (int)bu, (int)pr};
    return 0;
}

/* --early-verdict ended the case: on which check, when, confirmed. */
static int load_early(wr_case_t *c, json_t *o)
{
    json_t *ms = json_object_get(o, "ms"), *yes = json_object_get(o,
                                                                 "confirmed");
    int k;

    if (o == NULL || json_is_null(o))
        return 0;
    k = wsr_check_from_name(json_string_value(json_object_get(o, "check")));
    if (!json_is_object(o) || k < 0 || ms_to_ns(ms) < 0 ||
        !json_is_boolean(yes))
        return -EINVAL;
    c->early_end = true;
    c->early_check = k;
    c->early_ns = ms_to_ns(ms);
    c->early_confirmed = json_is_true(yes);
    return 0;
}

static int load_case(wr_run_t *run, wr_case_t *c, json_t *o,
                     wr_scenario_t *const *known, size_t nknown)
{
    json_t *t = json_object_get(o, "target");
    char list[WSR_FAULTS_TEXT_MAX * 2], err[256];
    wr_history_t *h;

    c->scenario =
        case_scenario(run, json_object_get(o, "scenario"), known, nknown);
    if (c->scenario == NULL)
        return -EINVAL;
    if (strlen(str(o, "id")) >= sizeof(c->id))
        return -EINVAL;
    snprintf(c->id, sizeof(c->id), "%s", str(o, "id"));
    c->index = (size_t)json_integer_value(json_object_get(o, "index"));
    join_list(json_object_get(o, "inject"), list, sizeof(list));
    if (wsr_faults_parse(&c->faults, list, err, sizeof(err)) != 0)
        return -EINVAL;
    wsr_faults_format(&c->faults, c->inject, sizeof(c->inject));
    c->seed =
        (unsigned long long)json_integer_value(json_object_get(o, "seed"));
    c->repeat = (int)json_integer_value(json_object_get(o, "repeat"));
    c->as_expected = json_is_true(json_object_get(o, "as_expected"));
    c->need_one = checks_mask(json_object_get(o, "need_one"));
    c->no_sync = json_is_true(json_object_get(o, "no_sync"));
    if (load_schedule(c, json_object_get(o, "schedule")) != 0 ||
        load_chaos(c, json_object_get(o, "chaos")) != 0 ||
        load_early(c, json_object_get(o, "early_end")) != 0)
        return -EINVAL;
    c->target_state = state_from_name(str(t, "state"));
    c->target_exit_code =
        (int)json_integer_value(json_object_get(t, "exit_code"));
    c->target_signal = (int)json_integer_value(json_object_get(t, "signal"));
    snprintf(c->target_error, sizeof(c->target_error), "%s", str(t, "error"));
    snprintf(c->topology, sizeof(c->topology), "%s", str(t, "topology"));
    c->gateway_up_ns = ms_to_ns(json_object_get(t, "gateway_up_ms"));
    c->duration_ns = ms_to_ns(json_object_get(o, "duration_ms"));
    c->first_fail_ns = ms_to_ns(json_object_get(o, "first_fail_ms"));
    c->clients = (int)json_integer_value(json_object_get(o, "clients"));
    c->established = (int)json_integer_value(json_object_get(o, "established"));
    c->steps_failed =
        (int)json_integer_value(json_object_get(o, "steps_failed"));
    snprintf(c->replay, sizeof(c->replay), "%s", str(o, "replay"));
    /* A case's directory is "cases/<its id>", whatever the file says: a
     * summary is untrusted, and a path from it must not leave the run. */
    if (!wr_case_id_ok(c->id) || (strcmp(str(o, "dir"), "") != 0 &&
                               (strncmp(str(o, "dir"), "cases/", 6) != 0 ||
                                strcmp(str(o, "dir") + 6, c->id) != 0)))
        return -EINVAL;
    snprintf(c->dir, sizeof(c->dir), "cases/%s", c->id);
    h = wr_history_new();
    if (h == NULL)
        return -ENOMEM;
    c->history = h;
    if (add_event(h, json_object_get(o, "origin")) != 0)
        return -ENOMEM;
    return load_checks(c, json_object_get(o, "checks"), h);
}

/* ------------------------------------------------------------------------
 * The run
 * ---------------------------------------------------------------------- */

static void load_run_fields(wr_run_t *run, json_t *root)
{
    json_t *shard = json_object_get(root, "shard");
    struct tm tm;

    snprintf(run->id, sizeof(run->id), "%s", str(root, "id"));
    snprintf(run->argv_text, sizeof(run->argv_text), "%s",
             str(root, "command"));
    snprintf(run->target, sizeof(run->target), "%s", str(root, "target"));
    snprintf(run->kind, sizeof(run->kind), "%s", str(root, "kind"));
    snprintf(run->tool, sizeof(run->tool), "%s", str(root, "tool"));
    snprintf(run->plan_id, sizeof(run->plan_id), "%s", str(root, "plan_id"));
    run->seed =
        (unsigned long long)json_integer_value(json_object_get(root, "seed"));
    run->external = json_is_true(json_object_get(root, "external"));
    run->duration_ns = ms_to_ns(json_object_get(root, "duration_ms"));
    run->status = wr_status_from_name(str(root, "status"));
    run->planned = (size_t)json_integer_value(json_object_get(root, "planned"));
    run->shard_index = (int)json_integer_value(json_object_get(shard, "index"));
    run->shard_count = (int)json_integer_value(json_object_get(shard, "count"));
    memset(&tm, 0, sizeof(tm));
    if (strptime(str(root, "started"), "%Y-%m-%dT%H:%M:%SZ", &tm) != NULL)
        run->started_unix = (int64_t)timegm(&tm);
}

static int load_injects(wr_run_t *run, json_t *list)
{
    size_t i;
    json_t *v;

    run->injects = calloc(json_array_size(list) + 1, sizeof(*run->injects));
    if (run->injects == NULL)
        return -ENOMEM;
    json_array_foreach(list, i, v)
    {
        char err[256];

        if (!json_is_string(v) ||
            wsr_faults_parse(&run->injects[run->ninjects++],
                             json_string_value(v), err, sizeof(err)) != 0)
            return -EINVAL;
    }
    return 0;
}

/* Loads the summary root (taken) read from file into run. */
static int load_root(const char *file, json_t *root,
                     wr_scenario_t *const *known, size_t nknown, wr_run_t *run,
                     char *err, size_t errlen)
{
    json_t *cases, *o;
    size_t i;
    int rc = 0;

    cases = json_object_get(root, "cases");
    if (!json_is_array(cases) || !json_is_string(json_object_get(root, "id"))) {
        snprintf(err, errlen, "%s: not a wsrace summary (no id or cases)",
                 file);
        json_decref(root);
        return -EINVAL;
    }
    load_run_fields(run, root);
    rc = load_scenarios(root, known, nknown, run);
    if (rc == 0)
        rc = load_injects(run, json_object_get(root, "injects"));
    /* The cases array grows as cases load (a case is 16 KiB): a file
     * that lists many cases and fails at the first costs a few. */
    size_t cap = 0, want = json_array_size(cases) + 1;

    json_array_foreach(cases, i, o)
    {
        if (rc != 0)
            break;
        if (run->ncases + 1 >= cap) {
            size_t n = cap ? cap * 2 : want < 8 ? want : 8;
            wr_case_t *more = realloc(run->cases, n * sizeof(*more));

            if (more == NULL) {
                rc = -ENOMEM;
                break;
            }
            memset(more + cap, 0, (n - cap) * sizeof(*more));
            run->cases = more;
            cap = n;
        }
        rc = load_case(run, &run->cases[run->ncases], o, known, nknown);
        run->ncases++;
    }
    if (rc == 0 && run->cases == NULL &&
        (run->cases = calloc(1, sizeof(wr_case_t))) == NULL)
        rc = -ENOMEM;
    if (rc == 0 && (o = json_object_get(root, "explore")) != NULL &&
        !json_is_null(o)) {
        char why[256];

        run->explored = calloc(1, sizeof(*run->explored));
        if (run->explored == NULL)
            rc = -ENOMEM;
        else if ((rc = wr_explored_from_json(run->explored, o, why,
                                             sizeof(why))) != 0) {
            free(run->explored);
            run->explored = NULL;
            snprintf(err, errlen, "%s: %s", file, why);
            json_decref(root);
            wr_run_clear(run);
            return rc;
        }
    }
    json_decref(root);
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", file,
                 rc == -ENOMEM ? "out of memory"
                               : "a case is not one this wsrace wrote (an "
                                 "unknown scenario or fault, or an id or "
                                 "directory that is not a safe name)");
        wr_run_clear(run);
    }
    return rc;
}

int wr_summary_load(const char *path, wr_scenario_t *const *known,
                    size_t nknown, wr_run_t *run, char *err, size_t errlen)
{
    char file[PATH_MAX];
    json_error_t je;
    json_t *root;

    memset(run, 0, sizeof(*run));
    if (wr_summary_path(path, file, sizeof(file)) != 0) {
        snprintf(err, errlen, "%.200s...: the path is too long", path);
        return -ENAMETOOLONG;
    }
    root = json_load_file(file, 0, &je);
    if (root == NULL) {
        bool missing = access(file, F_OK) != 0;

        snprintf(err, errlen, "%s: %s", file,
                 missing ? "no such summary (want a run directory or its "
                           "summary.json)"
                         : je.text);
        return missing ? -ENOENT : -EINVAL;
    }
    return load_root(file, root, known, nknown, run, err, errlen);
}

int wr_summary_parse(const char *name, const char *buf, size_t len,
                     wr_scenario_t *const *known, size_t nknown, wr_run_t *run,
                     char *err, size_t errlen)
{
    json_error_t je;
    json_t *root;

    memset(run, 0, sizeof(*run));
    root = json_loadb(buf, len, 0, &je);
    if (root == NULL) {
        snprintf(err, errlen, "%s: %s", name, je.text);
        return -EINVAL;
    }
    return load_root(name, root, known, nknown, run, err, errlen);
}
