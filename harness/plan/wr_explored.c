/* wr_explored.c - An exploration's record: findings, cells, JSON both
 * ways, merging. What is read back comes from summary.json files, which
 * are untrusted: every string is bounded, every count checked, every case
 * id a plain directory name. */
#include "plan/wr_explored.h"
#include "plan/wr_json.h"

#include "plan/wr_case.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

wr_finding_t *wr_explored_add_finding(wr_explored_t *e)
{
    wr_finding_t *f = realloc(e->findings, (e->nfindings + 1) * sizeof(*f));

    if (f == NULL)
        return NULL;
    e->findings = f;
    memset(&f[e->nfindings], 0, sizeof(*f));
    return &f[e->nfindings++];
}

int wr_explored_own(wr_explored_t *e, wr_scenario_t *s)
{
    wr_scenario_t **p = realloc(e->own, (e->nown + 1) * sizeof(*p));

    if (p == NULL) {
        wr_scenario_free(s);
        return -ENOMEM;
    }
    e->own = p;
    e->own[e->nown++] = s;
    return 0;
}

void wr_explored_clear(wr_explored_t *e)
{
    for (size_t i = 0; i < e->nown; i++)
        wr_scenario_free(e->own[i]);
    free(e->own);
    free(e->cells);
    free(e->findings);
    memset(e, 0, sizeof(*e));
}

/* ------------------------------------------------------------------ */
/* To JSON                                                              */
/* ------------------------------------------------------------------ */

static json_t *size_json(const wr_case_size_t *s)
{
    return json_pack("{s:i,s:i,s:i,s:i,s:b}", "clients", s->clients, "steps",
                     s->steps, "sync", s->sync, "releases", s->releases,
                     "chaos", s->chaos);
}

static json_t *finding_json(const wr_finding_t *f)
{
    return json_pack(
        "{s:s,s:s,s:s,s:s,s:o,s:o,s:i,s:f,s:i,s:i}", "case", f->case_id,
        "check", f->check, "shrunk", f->shrunk_id, "yaml", f->yaml, "before",
        size_json(&f->before), "after", size_json(&f->after), "shrink_runs",
        f->shrink_runs, "shrink_s", f->shrink_s, "confirmed", f->confirmed,
        "confirm_runs", f->confirm_runs);
}

json_t *wr_explored_json(const wr_explored_t *e)
{
    json_t *cells = json_array(), *found = json_array(), *o;

    if (cells == NULL || found == NULL) {
        json_decref(cells);
        json_decref(found);
        return NULL;
    }
    for (size_t i = 0; i < e->ncells; i++)
        json_array_append_new(
            cells, json_pack("{s:s,s:s,s:I,s:I}", "scenario",
                             e->cells[i].scenario, "inject", e->cells[i].inject,
                             "iterations", (json_int_t)e->cells[i].iterations,
                             "findings", (json_int_t)e->cells[i].findings));
    for (size_t i = 0; i < e->nfindings; i++)
        json_array_append_new(found, finding_json(&e->findings[i]));
    o = json_pack("{s:s,s:i,s:b,s:f,s:I,s:I,s:I,s:I,s:I,s:f,s:b,s:o,s:o}",
                  "strategy", e->strategy, "depth", e->depth, "chaos",
                  e->chaos, "budget_s", e->budget_s, "runs_limit",
                  (json_int_t)e->runs_limit, "first_seed",
                  (json_int_t)e->first_seed, "iterations",
                  (json_int_t)e->iterations, "schedules",
                  (json_int_t)e->schedules, "distinct",
                  (json_int_t)e->distinct, "seconds", e->seconds,
                  "stopped_early", e->stopped_early, "cells", cells,
                  "findings", found);
    return o;
}

/* ------------------------------------------------------------------ */
/* From JSON                                                            */
/* ------------------------------------------------------------------ */

/* A string member that fits in len bytes (absent: ""). */
static bool get_str(json_t *o, const char *k, char *out, size_t len)
{
    json_t *v = json_object_get(o, k);
    const char *s;

    out[0] = '\0';
    if (v == NULL)
        return true;
    if ((s = json_string_value(v)) == NULL || strlen(s) >= len)
        return false;
    memcpy(out, s, strlen(s) + 1);
    return true;
}

/* An integer member in [0, hi] (absent: 0). */
static bool get_real(json_t *o, const char *k, double *out)
{
    json_t *v = json_object_get(o, k);

    *out = 0;
    if (v == NULL)
        return true;
    if (!json_is_number(v) || json_number_value(v) < 0 ||
        json_number_value(v) > 1e9)
        return false;
    *out = json_number_value(v);
    return true;
}

/* A case id: a plain directory name ("" allowed where optional). */
static bool id_ok(const char *id, bool optional)
{
    return id[0] == '\0' ? optional : wr_case_id_ok(id);
}

/* A path inside the run: relative, no "..", no empty or hidden part. */
static bool rel_ok(const char *p)
{
    const char *s = p;

    if (p[0] == '\0')
        return true;
    if (p[0] == '/')
        return false;
    while (*s) {
        size_t n = strcspn(s, "/");

        if (n == 0 || s[0] == '.')
            return false;
        s += n;
        if (*s == '/')
            s++;
    }
    return strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789.+-_/") == strlen(p);
}

static bool get_size(json_t *o, const char *k, wr_case_size_t *s)
{
    json_t *v = json_object_get(o, k);
    long long c, st, sy, r;

    memset(s, 0, sizeof(*s));
    if (v == NULL)
        return true;
    if (!json_is_object(v) || !wr_json_int(v, "clients", 0, INT_MAX, 0, &c) ||
        !wr_json_int(v, "steps", 0, INT_MAX, 0, &st) ||
        !wr_json_int(v, "sync", 0, INT_MAX, 0, &sy) ||
        !wr_json_int(v, "releases", 0, INT_MAX, 0, &r))
        return false;
    s->clients = (int)c;
    s->steps = (int)st;
    s->sync = (int)sy;
    s->releases = (int)r;
    s->chaos = json_is_true(json_object_get(v, "chaos"));
    return true;
}

static int get_finding(wr_finding_t *f, json_t *o)
{
    long long runs, ok, tries;

    if (!json_is_object(o) || !get_str(o, "case", f->case_id,
                                       sizeof(f->case_id)) ||
        !id_ok(f->case_id, false) ||
        !get_str(o, "check", f->check, sizeof(f->check)) ||
        !get_str(o, "shrunk", f->shrunk_id, sizeof(f->shrunk_id)) ||
        !id_ok(f->shrunk_id, true) ||
        !get_str(o, "yaml", f->yaml, sizeof(f->yaml)) || !rel_ok(f->yaml) ||
        !get_size(o, "before", &f->before) ||
        !get_size(o, "after", &f->after) ||
        !wr_json_int(o, "shrink_runs", 0, INT_MAX, 0, &runs) ||
        !get_real(o, "shrink_s", &f->shrink_s) ||
        !wr_json_int(o, "confirmed", 0, INT_MAX, 0, &ok) ||
        !wr_json_int(o, "confirm_runs", 0, INT_MAX, 0, &tries) || ok > tries)
        return -EINVAL;
    f->shrink_runs = (int)runs;
    f->confirmed = (int)ok;
    f->confirm_runs = (int)tries;
    return 0;
}

int wr_explored_from_json(wr_explored_t *e, json_t *j, char *err,
                          size_t errlen)
{
    json_t *cells, *found, *v;
    long long depth, limit, seed, it, sch, dist;
    size_t i;

    memset(e, 0, sizeof(*e));
    if (!json_is_object(j) ||
        !get_str(j, "strategy", e->strategy, sizeof(e->strategy)) ||
        !wr_json_int(j, "depth", 0, 100, 0, &depth) ||
        !get_real(j, "budget_s", &e->budget_s) ||
        !wr_json_int(j, "runs_limit", 0, LLONG_MAX, 0, &limit) ||
        !wr_json_int(j, "first_seed", 0, LLONG_MAX, 0, &seed) ||
        !wr_json_int(j, "iterations", 0, LLONG_MAX, 0, &it) ||
        !wr_json_int(j, "schedules", 0, LLONG_MAX, 0, &sch) ||
        !wr_json_int(j, "distinct", 0, LLONG_MAX, 0, &dist) ||
        !get_real(j, "seconds", &e->seconds)) {
        snprintf(err, errlen, "'explore' has a field of the wrong type or "
                              "out of range");
        return -EINVAL;
    }
    e->depth = (int)depth;
    e->runs_limit = (long)limit;
    e->first_seed = (unsigned long long)seed;
    e->iterations = (long)it;
    e->schedules = (long)sch;
    e->distinct = (long)dist;
    e->chaos = json_is_true(json_object_get(j, "chaos"));
    e->stopped_early = json_is_true(json_object_get(j, "stopped_early"));
    cells = json_object_get(j, "cells");
    found = json_object_get(j, "findings");
    if ((cells && !json_is_array(cells)) || (found && !json_is_array(found))) {
        snprintf(err, errlen, "'explore': cells and findings must be lists");
        return -EINVAL;
    }
    if (json_array_size(cells) > 0) {
        e->cells = calloc(json_array_size(cells), sizeof(*e->cells));
        if (e->cells == NULL) {
            snprintf(err, errlen, "out of memory");
            return -ENOMEM;
        }
    }
    json_array_foreach(cells, i, v)
    {
        wr_explored_cell_t *c = &e->cells[e->ncells];
        long long n, f;

        if (!json_is_object(v) ||
            !get_str(v, "scenario", c->scenario, sizeof(c->scenario)) ||
            !get_str(v, "inject", c->inject, sizeof(c->inject)) ||
            !wr_json_int(v, "iterations", 0, LLONG_MAX, 0, &n) ||
            !wr_json_int(v, "findings", 0, LLONG_MAX, 0, &f)) {
            snprintf(err, errlen, "'explore': cell %zu is malformed", i + 1);
            wr_explored_clear(e);
            return -EINVAL;
        }
        c->iterations = (long)n;
        c->findings = (long)f;
        e->ncells++;
    }
    json_array_foreach(found, i, v)
    {
        wr_finding_t *f = wr_explored_add_finding(e);

        if (f == NULL) {
            snprintf(err, errlen, "out of memory");
            wr_explored_clear(e);
            return -ENOMEM;
        }
        if (get_finding(f, v) != 0) {
            snprintf(err, errlen,
                     "'explore': finding %zu is malformed (a case id must "
                     "be a directory name, the YAML a path inside the run)",
                     i + 1);
            wr_explored_clear(e);
            return -EINVAL;
        }
    }
    return 0;
}

int wr_explored_merge(wr_explored_t *a, const wr_explored_t *b)
{
    a->iterations += b->iterations;
    a->schedules += b->schedules;
    a->distinct += b->distinct;
    if (b->seconds > a->seconds)
        a->seconds = b->seconds;
    a->stopped_early |= b->stopped_early;
    for (size_t i = 0; i < b->ncells; i++) {
        size_t k;

        for (k = 0; k < a->ncells; k++)
            if (strcmp(a->cells[k].scenario, b->cells[i].scenario) == 0 &&
                strcmp(a->cells[k].inject, b->cells[i].inject) == 0)
                break;
        if (k == a->ncells) {
            wr_explored_cell_t *c =
                realloc(a->cells, (a->ncells + 1) * sizeof(*c));

            if (c == NULL)
                return -ENOMEM;
            a->cells = c;
            a->cells[a->ncells] = b->cells[i];
            a->cells[a->ncells].iterations = 0;
            a->cells[a->ncells].findings = 0;
            a->ncells++;
        }
        a->cells[k].iterations += b->cells[i].iterations;
        a->cells[k].findings += b->cells[i].findings;
    }
    for (size_t i = 0; i < b->nfindings; i++) {
        wr_finding_t *f = wr_explored_add_finding(a);

        if (f == NULL)
            return -ENOMEM;
        *f = b->findings[i];
    }
    return 0;
}
