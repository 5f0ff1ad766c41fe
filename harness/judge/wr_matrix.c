/* wr_matrix.c - The reproduction matrix: build, print, JSON, baseline.
 *
 * Cells are counted from the cases alone (inject set x scenario x check),
 * so the matrix of merged shards equals the matrix of one run. A cell's
 * kind is decided once, here, from its counts and expectation; every
 * report prints wr_cell_text(). */
#include "judge/wr_matrix.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "judge/wr_judge.h"

#define BIT(c) (1u << (c))

const char *wr_cell_text(const wr_cell_t *c, char *buf, size_t len)
{
    switch (c->kind) {
    case WR_CELL_DETECTED:
    case WR_CELL_MISSED:
    case WR_CELL_FALSE_ALARM:
    case WR_CELL_ALLOWED:
        snprintf(buf, len, "%s %d/%d", wr_cell_kind_name(c->kind), c->fails, c->runs);
        break;
    case WR_CELL_UNKNOWN:
        snprintf(buf, len, "UNKNOWN %d/%d", c->unknown, c->runs);
        break;
    case WR_CELL_ERROR:
        snprintf(buf, len, "ERROR %d/%d", c->errors, c->runs);
        break;
    default:
        snprintf(buf, len, "%s", wr_cell_kind_name(c->kind));
    }
    return buf;
}

void wr_matrix_label(const wsr_faults_t *f, char *buf, size_t len)
{
    wsr_faults_t seed = wsr_faults_seed_bugs();

    if (f->mask == 0)
        snprintf(buf, len, "none");
    else if (wsr_faults_equal(f, &seed))
        snprintf(buf, len, "seed-bugs");
    else if (wsr_faults_format(f, buf, len) < 0)
        snprintf(buf, len, "(%u faults)", wsr_faults_count(f));
}

/* ------------------------------------------------------------------------
 * Building
 * ---------------------------------------------------------------------- */

static size_t find_row(const wr_matrix_t *m, const wsr_faults_t *f)
{
    for (size_t r = 0; r < m->nrows; r++)
        if (wsr_faults_equal(&m->rows[r].faults, f))
            return r;
    return m->nrows;
}

static void add_row(wr_matrix_t *m, const wsr_faults_t *f)
{
    wr_matrix_row_t *row = &m->rows[m->nrows++];

    row->faults = *f;
    wsr_faults_format(f, row->inject, sizeof(row->inject));
    wr_matrix_label(f, row->label, sizeof(row->label));
}

static size_t find_scenario(const wr_matrix_t *m, const wr_scenario_t *s)
{
    for (size_t i = 0; i < m->nscenarios; i++)
        if (m->scenarios[i] == s ||
            (s && strcmp(m->scenarios[i]->name, s->name) == 0))
            return i;
    return m->nscenarios;
}

/* Rows and columns: the run's own lists when it has them, then anything
 * a case adds, in case order. */
static int collect_axes(const wr_run_t *run, wr_matrix_t *m)
{
    size_t most = run->ninjects + run->ncases;
    size_t most_s = run->nscenarios + run->ncases;

    m->rows = calloc(most + 1, sizeof(*m->rows));
    m->scenarios = calloc(most_s + 1, sizeof(*m->scenarios));
    if (m->rows == NULL || m->scenarios == NULL)
        return -ENOMEM;
    /* "none" first: the row every other row is read against. */
    for (size_t i = 0; i < run->ninjects && m->nrows == 0; i++)
        if (run->injects[i].mask == 0)
            add_row(m, &run->injects[i]);
    for (size_t i = 0; i < run->ncases && m->nrows == 0; i++)
        if (run->cases[i].faults.mask == 0)
            add_row(m, &run->cases[i].faults);
    for (size_t i = 0; i < run->ninjects; i++)
        if (find_row(m, &run->injects[i]) == m->nrows)
            add_row(m, &run->injects[i]);
    for (size_t i = 0; i < run->ncases; i++)
        if (find_row(m, &run->cases[i].faults) == m->nrows)
            add_row(m, &run->cases[i].faults);
    for (size_t i = 0; i < run->nscenarios; i++)
        if (find_scenario(m, run->scenarios[i]) == m->nscenarios)
            m->scenarios[m->nscenarios++] = run->scenarios[i];
    for (size_t i = 0; i < run->ncases; i++)
        if (run->cases[i].scenario != NULL &&
            find_scenario(m, run->cases[i].scenario) == m->nscenarios)
            m->scenarios[m->nscenarios++] = run->cases[i].scenario;
    return 0;
}

static wr_cell_t *cell_at(wr_matrix_t *m, size_t r, size_t s, int k)
{
    return &m->cells[(r * m->nscenarios + s) * WSR_CHECK__COUNT + (size_t)k];
}

static void count_case(wr_matrix_t *m, const wr_case_t *c, int *per_rs)
{
    size_t r = find_row(m, &c->faults), s = find_scenario(m, c->scenario);
    bool infra = wr_case_infra_problem(c);
    unsigned fails = wr_case_verdicts(c, WR_FAIL);

    if (r == m->nrows || s == m->nscenarios)
        return;
    per_rs[r * m->nscenarios + s]++;
    for (int k = 0; k < WSR_CHECK__COUNT; k++) {
        wr_cell_t *cell = cell_at(m, r, s, k);

        if (!c->ran[k])
            continue;
        m->checks[s] |= BIT(k);
        wr_judge_count(cell, c, k);
    }
    if (c->need_one != 0) {
        m->need_cases[r * m->nscenarios + s]++;
        if (!infra && (fails & c->need_one) != 0)
            m->need_met[r * m->nscenarios + s]++;
        else
            m->missed_cases[r * m->nscenarios + s]++;
    }
}

int wr_matrix_build(const wr_run_t *run, wr_matrix_t *m)
{
    size_t nrs;
    int *per_rs;

    memset(m, 0, sizeof(*m));
    if (collect_axes(run, m) != 0)
        goto oom;
    nrs = m->nrows * m->nscenarios;
    m->cells = calloc(nrs * WSR_CHECK__COUNT + 1, sizeof(*m->cells));
    m->checks = calloc(m->nscenarios + 1, sizeof(*m->checks));
    m->missed_cases = calloc(nrs + 1, sizeof(*m->missed_cases));
    m->need_cases = calloc(nrs + 1, sizeof(*m->need_cases));
    m->need_met = calloc(nrs + 1, sizeof(*m->need_met));
    per_rs = calloc(nrs + 1, sizeof(*per_rs));
    if (m->cells == NULL || m->checks == NULL || m->missed_cases == NULL ||
        m->need_cases == NULL || m->need_met == NULL || per_rs == NULL) {
        free(per_rs);
        goto oom;
    }
    for (size_t i = 0; i < run->ncases; i++)
        count_case(m, &run->cases[i], per_rs);
    for (size_t i = 0; i < nrs; i++) {
        if (per_rs[i] > m->seeds)
            m->seeds = per_rs[i];
        m->missed += m->missed_cases[i];
    }
    free(per_rs);
    for (size_t i = 0; i < nrs * WSR_CHECK__COUNT; i++) {
        wr_cell_t *c = &m->cells[i];

        wr_judge_cell(c, run->external);
        m->missed += c->kind == WR_CELL_MISSED;
        m->false_alarms += c->kind == WR_CELL_FALSE_ALARM;
        m->errors += c->kind == WR_CELL_ERROR || c->kind == WR_CELL_UNKNOWN;
    }
    return 0;
oom:
    wr_matrix_free(m);
    return -ENOMEM;
}

void wr_matrix_free(wr_matrix_t *m)
{
    free(m->rows);
    free(m->scenarios);
    free(m->checks);
    free(m->cells);
    free(m->missed_cases);
    free(m->need_cases);
    free(m->need_met);
    memset(m, 0, sizeof(*m));
}

const wr_cell_t *wr_matrix_cell(const wr_matrix_t *m, size_t r, size_t s, int k)
{
    return &m->cells[(r * m->nscenarios + s) * WSR_CHECK__COUNT + (size_t)k];
}

bool wr_matrix_ok(const wr_matrix_t *m)
{
    return m->missed == 0 && m->false_alarms == 0 && m->errors == 0;
}

/* ------------------------------------------------------------------------
 * Text
 * ---------------------------------------------------------------------- */

/* One row x scenario block in a few characters, for the terminal grid:
 * the worst thing in it first (MISSED, FALSE ALARM, ERROR), then the
 * required detections ("5/5"), then "a" when only allowed checks fired,
 * "." when clean, "-" when nothing ran. */
static const char *block_text(const wr_matrix_t *m, size_t r, size_t s,
                              char *buf, size_t len)
{
    const wr_cell_t *worst = NULL, *det = NULL;
    bool allowed = false, ran = false;
    int missed = m->missed_cases[r * m->nscenarios + s];

    for (int k = 0; k < WSR_CHECK__COUNT; k++) {
        const wr_cell_t *c = wr_matrix_cell(m, r, s, k);

        ran |= c->kind != WR_CELL_NOT_RUN;
        if (c->kind == WR_CELL_MISSED || c->kind == WR_CELL_FALSE_ALARM ||
            c->kind == WR_CELL_ERROR || c->kind == WR_CELL_UNKNOWN) {
            if (worst == NULL || c->kind < worst->kind)
                worst = c;
        } else if (c->kind == WR_CELL_DETECTED) {
            det = c;
        }
        allowed |= c->kind == WR_CELL_ALLOWED;
    }
    if (worst != NULL)
        snprintf(buf, len, "%s",
                 worst->kind == WR_CELL_MISSED        ? "MISS"
                 : worst->kind == WR_CELL_FALSE_ALARM ? "FALSE"
                                                      : "ERR");
    else if (missed > 0)
        snprintf(buf, len, "MISS");
    else if (m->need_cases[r * m->nscenarios + s] > 0)
        snprintf(buf, len, "%d/%d", m->need_met[r * m->nscenarios + s],
                 m->need_cases[r * m->nscenarios + s]);
    else if (det != NULL)
        snprintf(buf, len, "%d/%d", det->fails, det->runs);
    else
        snprintf(buf, len, "%s", !ran ? "-" : allowed ? "a" : ".");
    return buf;
}

void wr_matrix_print(const wr_matrix_t *m, FILE *out)
{
    char text[64];

    fprintf(out,
            "\nmatrix: %d seed(s) per cell; columns are scenarios, rows "
            "what was injected\n  %-24s",
            m->seeds, "");
    for (size_t s = 0; s < m->nscenarios; s++)
        fprintf(out, " %6zu", s + 1);
    fprintf(out, "\n");
    for (size_t r = 0; r < m->nrows; r++) {
        fprintf(out, "  %-24.24s", m->rows[r].label);
        for (size_t s = 0; s < m->nscenarios; s++)
            fprintf(out, " %6s", block_text(m, r, s, text, sizeof(text)));
        fprintf(out, "\n");
    }
    fprintf(out, "  k/N: the fault's check failed on k of N seeds (DETECTED "
                 "when k = N; for several faults at once, one of their "
                 "checks); .: clean;\n  a: a fault the scenario does not "
                 "promise fired, or a side effect (allowed); MISS, FALSE "
                 "(alarm), ERR: wrong\n  scenarios:");
    for (size_t s = 0; s < m->nscenarios; s++)
        fprintf(out, "%s %zu %s", s ? "," : "", s + 1, m->scenarios[s]->name);
    fprintf(out, "\n");
    /* Every cell that is wrong, spelled out. */
    for (size_t r = 0; r < m->nrows; r++)
        for (size_t s = 0; s < m->nscenarios; s++) {
            int missed = m->missed_cases[r * m->nscenarios + s];

            for (int k = 0; k < WSR_CHECK__COUNT; k++) {
                const wr_cell_t *c = wr_matrix_cell(m, r, s, k);

                if (c->kind == WR_CELL_MISSED ||
                    c->kind == WR_CELL_FALSE_ALARM ||
                    c->kind == WR_CELL_ERROR || c->kind == WR_CELL_UNKNOWN)
                    fprintf(out, "  %s / %s / %s: %s\n", m->rows[r].label,
                            m->scenarios[s]->name,
                            wsr_check_name((wsr_check_id_t)k),
                            wr_cell_text(c, text, sizeof(text)));
            }
            if (missed > 0)
                fprintf(out,
                        "  %s / %s: MISSED in %d case(s): no injected "
                        "fault detected\n",
                        m->rows[r].label, m->scenarios[s]->name, missed);
        }
    fprintf(out, "matrix: %d missed, %d false alarm(s), %d error(s)\n",
            m->missed, m->false_alarms, m->errors);
}

/* ------------------------------------------------------------------------
 * JSON and baselines
 * ---------------------------------------------------------------------- */

static json_t *cell_json(const wr_matrix_t *m, size_t r, size_t s, int k)
{
    const wr_cell_t *c = wr_matrix_cell(m, r, s, k);
    char text[64];

    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:i,s:i,s:i,s:i,s:s}", "row",
                     m->rows[r].label, "scenario", m->scenarios[s]->name,
                     "check", wsr_check_name((wsr_check_id_t)k), "cell",
                     wr_cell_kind_name(c->kind), "expected",
                     wr_expect_name(c->expected), "runs", c->runs, "fails",
                     c->fails, "unknown", c->unknown, "errors", c->errors,
                     "text", wr_cell_text(c, text, sizeof(text)));
}

json_t *wr_matrix_json(const wr_matrix_t *m)
{
    json_t *o = json_object(), *rows = json_array(), *scs = json_array(),
           *cells = json_array(), *missed = json_array();
    int rc = o && rows && scs && cells && missed ? 0 : -ENOMEM;

    for (size_t r = 0; rc == 0 && r < m->nrows; r++)
        rc |= json_array_append_new(rows, json_pack("{s:s,s:s}", "label",
                                                    m->rows[r].label, "inject",
                                                    m->rows[r].inject));
    for (size_t s = 0; rc == 0 && s < m->nscenarios; s++)
        rc |= json_array_append_new(scs, json_string(m->scenarios[s]->name));
    for (size_t r = 0; rc == 0 && r < m->nrows; r++)
        for (size_t s = 0; rc == 0 && s < m->nscenarios; s++) {
            int n = m->missed_cases[r * m->nscenarios + s];

            for (int k = 0; rc == 0 && k < WSR_CHECK__COUNT; k++)
                if (wr_matrix_cell(m, r, s, k)->kind != WR_CELL_NOT_RUN)
                    rc |= json_array_append_new(cells, cell_json(m, r, s, k));
            if (n > 0)
                rc |= json_array_append_new(
                    missed,
                    json_pack("{s:s,s:s,s:i}", "row", m->rows[r].label,
                              "scenario", m->scenarios[s]->name, "cases", n));
        }
    if (rc == 0)
        rc = json_object_set_new(o, "wsrace_matrix", json_integer(1)) |
             json_object_set_new(o, "seeds", json_integer(m->seeds)) |
             json_object_set_new(o, "rows", rows) |
             json_object_set_new(o, "scenarios", scs) |
             json_object_set_new(o, "cells", cells) |
             json_object_set_new(o, "missed_cases", missed) |
             json_object_set_new(o, "missed", json_integer(m->missed)) |
             json_object_set_new(o, "false_alarms",
                                 json_integer(m->false_alarms)) |
             json_object_set_new(o, "errors", json_integer(m->errors));
    else {
        json_decref(rows);
        json_decref(scs);
        json_decref(cells);
        json_decref(missed);
    }
    if (rc != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* A baseline: the matrix's totals, then one cell per line (row,
 * scenario, check, cell, counts), so a change to it reads as a diff. */
int wr_matrix_write_baseline(const wr_matrix_t *m, const char *path)
{
    char tmp[PATH_MAX];
    json_t *j;
    FILE *f;
    size_t i;
    int rc = 0;
    json_t *c;

    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
        return -ENAMETOOLONG;
    if ((j = wr_matrix_json(m)) == NULL)
        return -ENOMEM;
    f = fopen(tmp, "w");
    if (f == NULL) {
        json_decref(j);
        return -errno;
    }
    fprintf(f,
            "{\"wsrace_matrix\": 1, \"seeds\": %d, \"missed\": %d, "
            "\"false_alarms\": %d, \"errors\": %d,\n \"cells\": [\n",
            m->seeds, m->missed, m->false_alarms, m->errors);
    json_array_foreach(json_object_get(j, "cells"), i, c)
    {
        char *line;

        json_object_del(c, "expected");
        json_object_del(c, "text");
        line = json_dumps(c, JSON_COMPACT);
        if (line == NULL) {
            rc = -ENOMEM;
            break;
        }
        fprintf(f, "  %s%s\n", line,
                i + 1 < json_array_size(json_object_get(j, "cells")) ? ","
                                                                     : "");
        free(line);
    }
    fprintf(f, " ]}\n");
    if (fflush(f) != 0 || ferror(f))
        rc = rc ? rc : -EIO;
    if (fclose(f) != 0 && rc == 0)
        rc = -EIO;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -errno;
    if (rc != 0)
        unlink(tmp);
    json_decref(j);
    return rc;
}

/* Whether a cell of this kind says the harness did its job. */
static bool good(wr_cell_kind_t k)
{
    return k == WR_CELL_CLEAN || k == WR_CELL_DETECTED ||
           k == WR_CELL_ALLOWED || k == WR_CELL_NOT_RUN;
}

static int add_change(wr_matrix_change_t **v, size_t *n, const char *row,
                      const char *scenario, const char *check, const char *was,
                      const char *now)
{
    wr_matrix_change_t *p = realloc(*v, (*n + 1) * sizeof(**v));

    if (p == NULL)
        return -ENOMEM;
    *v = p;
    p = &p[(*n)++];
    snprintf(p->row, sizeof(p->row), "%s", row);
    snprintf(p->scenario, sizeof(p->scenario), "%s", scenario);
    snprintf(p->check, sizeof(p->check), "%s", check);
    snprintf(p->was, sizeof(p->was), "%s", was);
    snprintf(p->now, sizeof(p->now), "%s", now);
    return 0;
}

/* Files one cell pair (either side may be absent, NULL). */
static int compare_cell(wr_matrix_diff_t *d, const char *row,
                        const char *scenario, const char *check,
                        const char *was, const char *now)
{
    wr_cell_kind_t w = was ? wr_cell_kind_from_name(was) : WR_CELL_NOT_RUN;
    wr_cell_kind_t n = now ? wr_cell_kind_from_name(now) : WR_CELL_NOT_RUN;
    const char *ws = was ? was : "absent", *ns = now ? now : "absent";

    if (was && now && strcmp(was, now) == 0)
        return 0;
    if ((good(w) && !good(n)) ||
        (w == WR_CELL_DETECTED && n != WR_CELL_DETECTED && now != NULL))
        return add_change(&d->regressions, &d->nregressions, row, scenario,
                          check, ws, ns);
    if (!good(w) && good(n) && now != NULL)
        return add_change(&d->improvements, &d->nimprovements, row, scenario,
                          check, ws, ns);
    return add_change(&d->changes, &d->nchanges, row, scenario, check, ws, ns);
}

static json_t *find_cell(json_t *cells, const char *row, const char *scenario,
                         const char *check)
{
    size_t i;
    json_t *c;

    json_array_foreach(cells, i, c)
    {
        const char *r = json_string_value(json_object_get(c, "row"));
        const char *s = json_string_value(json_object_get(c, "scenario"));
        const char *k = json_string_value(json_object_get(c, "check"));

        if (r && s && k && strcmp(r, row) == 0 && strcmp(s, scenario) == 0 &&
            strcmp(k, check) == 0)
            return c;
    }
    return NULL;
}

/* The baseline at path, or NULL with "PATH:LINE:COL: ..." or "PATH: not
 * a wsrace baseline" in err. */
static json_t *load_baseline(const char *path, char *err, size_t errlen)
{
    json_error_t je;
    json_t *base = json_load_file(path, 0, &je);

    if (base == NULL) {
        snprintf(err, errlen, "%s:%d:%d: %s", path, je.line, je.column,
                 je.text);
        return NULL;
    }
    if (json_integer_value(json_object_get(base, "wsrace_matrix")) != 1 ||
        !json_is_array(json_object_get(base, "cells"))) {
        snprintf(err, errlen,
                 "%s: not a wsrace baseline (want an object with "
                 "\"wsrace_matrix\": 1 and \"cells\")",
                 path);
        json_decref(base);
        return NULL;
    }
    return base;
}

bool wr_matrix_baseline_ok(const char *path, char *err, size_t errlen)
{
    json_t *base = load_baseline(path, err, errlen);

    json_decref(base);
    return base != NULL;
}

int wr_matrix_compare(const wr_matrix_t *m, const char *path,
                      wr_matrix_diff_t *d, char *err, size_t errlen)
{
    json_t *base, *cells, *now, *c;
    size_t i;
    int rc = 0;

    memset(d, 0, sizeof(*d));
    snprintf(d->path, sizeof(d->path), "%s", path);
    if ((base = load_baseline(path, err, errlen)) == NULL)
        return -EINVAL;
    cells = json_object_get(base, "cells");
    now = wr_matrix_json(m);
    if (now == NULL) {
        json_decref(base);
        return -ENOMEM;
    }
    /* Every cell of the new matrix against the baseline, then the
     * baseline's cells of rows and scenarios that this matrix ran but that
     * are gone. */
    json_array_foreach(json_object_get(now, "cells"), i, c)
    {
        const char *r = json_string_value(json_object_get(c, "row"));
        const char *s = json_string_value(json_object_get(c, "scenario"));
        const char *k = json_string_value(json_object_get(c, "check"));
        json_t *b = find_cell(cells, r, s, k);

        rc |= compare_cell(d, r, s, k,
                           b ? json_string_value(json_object_get(b, "cell"))
                             : NULL,
                           json_string_value(json_object_get(c, "cell")));
    }
    json_array_foreach(cells, i, c)
    {
        const char *r = json_string_value(json_object_get(c, "row"));
        const char *s = json_string_value(json_object_get(c, "scenario"));
        const char *k = json_string_value(json_object_get(c, "check"));
        const char *was = json_string_value(json_object_get(c, "cell"));
        bool row_ran = false, scen_ran = false;

        if (!r || !s || !k || !was)
            continue;
        for (size_t x = 0; x < m->nrows; x++)
            row_ran |= strcmp(m->rows[x].label, r) == 0;
        for (size_t x = 0; x < m->nscenarios; x++)
            scen_ran |= strcmp(m->scenarios[x]->name, s) == 0;
        if (row_ran && scen_ran &&
            find_cell(json_object_get(now, "cells"), r, s, k) == NULL)
            rc |= compare_cell(d, r, s, k, was, NULL);
    }
    json_decref(now);
    json_decref(base);
    if (rc != 0) {
        wr_matrix_diff_free(d);
        return -ENOMEM;
    }
    return 0;
}

void wr_matrix_diff_free(wr_matrix_diff_t *d)
{
    free(d->regressions);
    free(d->improvements);
    free(d->changes);
    d->regressions = d->improvements = d->changes = NULL;
    d->nregressions = d->nimprovements = d->nchanges = 0;
}

static void print_changes(FILE *out, const char *bullet, const char *what,
                          const wr_matrix_change_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s%-11s %s / %s / %s: %s -> %s\n", bullet, what, v[i].row,
                v[i].scenario, v[i].check, v[i].was, v[i].now);
}

void wr_matrix_diff_print(const wr_matrix_diff_t *d, FILE *out,
                          const char *bullet, size_t most_changes)
{
    print_changes(out, bullet, "REGRESSION", d->regressions, d->nregressions);
    print_changes(out, bullet, "improved", d->improvements, d->nimprovements);
    print_changes(out, bullet, "changed", d->changes,
                  d->nchanges < most_changes ? d->nchanges : most_changes);
}
