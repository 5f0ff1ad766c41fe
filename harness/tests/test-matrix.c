/* test-matrix.c - The reproduction matrix (wr_matrix.c): built from
 * hand-made runs, printed, as JSON, and compared with baselines.
 *
 * The run: two scenarios, alpha (exposes fallback-ready) and beta
 * (exposes duplicate-registration), three rows (none, fallback-ready, the
 * seed bugs) on three seeds, every check but the tool checks run. Cases
 * are added in an order that does not start with "none" and their
 * expectations come from the judge; each test then breaks what it is
 * about (a seed where the fault went unseen, a false alarm, a gateway
 * that never started). Baselines are written to mkdtemp(3) directories.
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

#include "judge/wr_matrix.h"

#define BIT(c) (1u << (c))
#define SEEDS 3
#define ROWS 3 /* none, fallback-ready, seed-bugs */
/* The checks every case runs (WSR_CHECKS_ALL). */
#define NRAN __builtin_popcount(WSR_CHECKS_ALL)

enum { R_NONE, R_FALLBACK, R_SEED };
enum { S_ALPHA, S_BETA };

static struct {
    wr_scenario_t sc[2];
    wr_case_t cases[64];
    wr_run_t run;
} fx;

static const char *const row_inject[ROWS] = {"", "fallback-ready", NULL};

static wsr_faults_t row_faults(int r)
{
    wsr_faults_t f = {0};
    char err[256];

    if (r == R_SEED)
        return wsr_faults_seed_bugs();
    cr_assert(eq(int, wsr_faults_parse(&f, row_inject[r], err, sizeof(err)),
                 0));
    return f;
}

static void scenario(wr_scenario_t *s, const char *name, const char *exposes)
{
    char err[256];

    memset(s, 0, sizeof(*s));
    s->name = (char *)name;
    s->path = (char *)"scenarios/x.yaml";
    s->description = (char *)"A scenario for the matrix tests.";
    s->checks = WSR_CHECKS_ALL;
    cr_assert(eq(int, wsr_faults_parse(&s->exposes, exposes, err, sizeof(err)),
                 0),
              "%s", err);
}

/* The case of row r, scenario s, seed (1-based). */
static wr_case_t *case_of(int r, int s, int seed)
{
    for (size_t i = 0; i < fx.run.ncases; i++) {
        wr_case_t *c = &fx.cases[i];
        wsr_faults_t f = row_faults(r);

        if (c->scenario == &fx.sc[s] && c->seed == (unsigned long long)seed &&
            wsr_faults_equal(&c->faults, &f))
            return c;
    }
    cr_fatal("no case %d/%d/%d", r, s, seed);
    return NULL;
}

static void add_case(int r, int s, int seed)
{
    wr_case_t *c = &fx.cases[fx.run.ncases++];

    memset(c, 0, sizeof(*c));
    c->scenario = &fx.sc[s];
    c->faults = row_faults(r);
    wsr_faults_format(&c->faults, c->inject, sizeof(c->inject));
    c->seed = (unsigned long long)seed;
    c->index = fx.run.ncases - 1;
    snprintf(c->id, sizeof(c->id), "%02zu-%s-s%d", c->index + 1,
             fx.sc[s].name, seed);
    wr_judge_expect(c->scenario, &c->faults, 0, c->expected, &c->need_one);
    for (int k = 0; k < WSR_CHECK__COUNT; k++) {
        c->ran[k] = (WSR_CHECKS_ALL & BIT(k)) != 0;
        c->results[k].id = (wsr_check_id_t)k;
        c->results[k].verdict = WR_PASS;
    }
    c->target_state = WR_TARGET_OK;
}

static void fail(int r, int s, int seed, wsr_check_id_t k)
{
    case_of(r, s, seed)->results[k].verdict = WR_FAIL;
}

/* The run every test starts from: everything as it should be, and
 * fallback-ready firing once in beta, which does not expose it. */
static wr_run_t *build_run(void)
{
    memset(&fx, 0, sizeof(fx));
    scenario(&fx.sc[S_ALPHA], "alpha", "fallback-ready");
    scenario(&fx.sc[S_BETA], "beta", "duplicate-registration");
    /* Not in row order: "none" must still come first. */
    for (int s = 0; s < 2; s++)
        for (int seed = 1; seed <= SEEDS; seed++)
            add_case(R_FALLBACK, s, seed);
    for (int s = 0; s < 2; s++)
        for (int seed = 1; seed <= SEEDS; seed++)
            add_case(R_NONE, s, seed);
    for (int s = 0; s < 2; s++)
        for (int seed = 1; seed <= SEEDS; seed++)
            add_case(R_SEED, s, seed);
    for (int seed = 1; seed <= SEEDS; seed++) {
        fail(R_FALLBACK, S_ALPHA, seed, WSR_CHECK_FALSE_READINESS);
        fail(R_SEED, S_ALPHA, seed, WSR_CHECK_FALSE_READINESS);
        fail(R_SEED, S_BETA, seed, WSR_CHECK_DUPLICATE_REGISTRATION);
    }
    fail(R_FALLBACK, S_BETA, 1, WSR_CHECK_FALSE_READINESS);
    fx.run.cases = fx.cases;
    return &fx.run;
}

static void build(wr_matrix_t *m)
{
    cr_assert(eq(int, wr_matrix_build(&fx.run, m), 0));
}

static const wr_cell_t *cell(const wr_matrix_t *m, int r, int s, int k)
{
    return wr_matrix_cell(m, (size_t)r, (size_t)s, k);
}

static const char *kind(const wr_matrix_t *m, int r, int s, int k)
{
    return wr_cell_kind_name(cell(m, r, s, k)->kind);
}

/* What wr_matrix_print wrote, as one string. */
static char *print(const wr_matrix_t *m)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    cr_assert(not(zero(ptr, f)));
    wr_matrix_print(m, f);
    cr_assert(eq(int, fclose(f), 0));
    return buf;
}

/* The words after label on the grid line that starts with it, joined by
 * single spaces ("3/3 a"); "" when there is no such line. */
static char *grid_line(const char *out, const char *label, char *buf,
                       size_t len)
{
    char head[80];
    const char *p;
    size_t used = 0;

    buf[0] = '\0';
    snprintf(head, sizeof(head), "\n  %s ", label);
    p = strstr(out, head);
    if (p == NULL)
        return buf;
    p += strlen(head);
    while (*p != '\n' && *p != '\0' && used + 1 < len) {
        if (*p == ' ') {
            if (used > 0 && buf[used - 1] != ' ')
                buf[used++] = ' ';
        } else {
            buf[used++] = *p;
        }
        p++;
    }
    while (used > 0 && buf[used - 1] == ' ')
        used--;
    buf[used] = '\0';
    return buf;
}

static bool contains(const char *hay, const char *needle)
{
    return strstr(hay, needle) != NULL;
}

/* ------------------------------------------------------------------ */
/* Test directories                                                     */
/* ------------------------------------------------------------------ */

static char test_dir[32];

static char *make_dir(void)
{
    snprintf(test_dir, sizeof(test_dir), "/tmp/wr-matrix-XXXXXX");
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

TestSuite(matrix, .fini = remove_test_dir);

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    cr_assert(not(zero(ptr, f)), "%s: %s", path, strerror(errno));
    fputs(text, f);
    cr_assert(eq(int, fclose(f), 0));
}

/* ------------------------------------------------------------------ */
/* Building                                                             */
/* ------------------------------------------------------------------ */

Test(matrix, rows_start_with_none_and_name_the_seed_bugs, .timeout = 10)
{
    wr_matrix_t m;
    char want[WSR_FAULTS_TEXT_MAX];
    wsr_faults_t seed = wsr_faults_seed_bugs();

    build_run();
    build(&m);
    cr_assert(eq(sz, m.nrows, (size_t)ROWS));
    cr_assert(eq(str, m.rows[0].label, "none"));
    cr_assert(eq(str, m.rows[0].inject, ""));
    cr_assert(eq(str, m.rows[1].label, "fallback-ready"));
    cr_assert(eq(str, m.rows[1].inject, "fallback-ready"));
    cr_assert(eq(str, m.rows[2].label, "seed-bugs"));
    wsr_faults_format(&seed, want, sizeof(want));
    cr_assert(eq(str, m.rows[2].inject, want));
    cr_assert(eq(int, wsr_faults_equal(&m.rows[2].faults, &seed) ? 1 : 0, 1));
    /* Columns in case order, with the checks that ran. */
    cr_assert(eq(sz, m.nscenarios, (size_t)2));
    cr_assert(eq(str, (char *)m.scenarios[0]->name, "alpha"));
    cr_assert(eq(str, (char *)m.scenarios[1]->name, "beta"));
    cr_assert(eq(u32, m.checks[0], WSR_CHECKS_ALL));
    cr_assert(eq(u32, m.checks[1], WSR_CHECKS_ALL));
    cr_assert(eq(int, m.seeds, SEEDS));
    wr_matrix_free(&m);
}

Test(matrix, the_runs_own_rows_come_first_with_none_on_top, .timeout = 10)
{
    wsr_faults_t injects[3] = {row_faults(R_FALLBACK), {0}, {0}};
    wr_matrix_t m;
    char err[256];

    build_run();
    /* A row the run planned but ran no case of. */
    cr_assert(eq(int, wsr_faults_parse(&injects[2], "stuck-swap", err,
                                       sizeof(err)),
                 0));
    fx.run.injects = injects;
    fx.run.ninjects = 3;
    build(&m);
    cr_assert(eq(sz, m.nrows, (size_t)4));
    cr_assert(eq(str, m.rows[0].label, "none"));
    cr_assert(eq(str, m.rows[1].label, "fallback-ready"));
    cr_assert(eq(str, m.rows[2].label, "stuck-swap"));
    cr_assert(eq(str, m.rows[3].label, "seed-bugs"));
    for (int k = 0; k < WSR_CHECK__COUNT; k++)
        cr_assert(eq(int, (int)wr_matrix_cell(&m, 2, 0, k)->kind,
                     (int)WR_CELL_NOT_RUN));
    cr_assert(eq(int, wr_matrix_ok(&m) ? 1 : 0, 1));
    wr_matrix_free(&m);
}

Test(matrix, cells_count_each_row_and_scenario, .timeout = 10)
{
    wr_matrix_t m;
    const wr_cell_t *c;
    char text[64];

    build_run();
    build(&m);
    for (int s = 0; s < 2; s++)
        for (int k = 0; k < WSR_CHECK__COUNT; k++) {
            c = cell(&m, R_NONE, s, k);
            if (WSR_CHECKS_ALL & BIT(k)) {
                cr_assert(eq(str, (char *)kind(&m, R_NONE, s, k), "clean"),
                          "%s", wsr_check_name(k));
                cr_assert(eq(int, c->runs, SEEDS));
            } else {
                cr_assert(eq(str, (char *)kind(&m, R_NONE, s, k), "-"));
                cr_assert(eq(int, c->runs, 0));
            }
        }
    c = cell(&m, R_FALLBACK, S_ALPHA, WSR_CHECK_FALSE_READINESS);
    cr_assert(eq(str, (char *)wr_cell_kind_name(c->kind), "DETECTED"));
    cr_assert(eq(int, c->fails, SEEDS));
    cr_assert(eq(int, c->runs, SEEDS));
    cr_assert(eq(str, (char *)wr_cell_text(c, text, sizeof(text)),
                 "DETECTED 3/3"));
    c = cell(&m, R_FALLBACK, S_BETA, WSR_CHECK_FALSE_READINESS);
    cr_assert(eq(str, (char *)wr_cell_kind_name(c->kind), "allowed"));
    cr_assert(eq(str, (char *)wr_cell_text(c, text, sizeof(text)),
                 "allowed 1/3"));
    /* Several faults at once: their checks may go either way, one
     * detection per case is due and was there. */
    c = cell(&m, R_SEED, S_BETA, WSR_CHECK_DUPLICATE_REGISTRATION);
    cr_assert(eq(str, (char *)wr_cell_kind_name(c->kind), "allowed"));
    cr_assert(eq(int, m.need_cases[R_SEED * 2 + S_BETA], SEEDS));
    cr_assert(eq(int, m.need_met[R_SEED * 2 + S_BETA], SEEDS));
    cr_assert(eq(int, m.missed_cases[R_SEED * 2 + S_BETA], 0));
    cr_assert(eq(int, m.missed, 0));
    cr_assert(eq(int, m.false_alarms, 0));
    cr_assert(eq(int, m.errors, 0));
    cr_assert(eq(int, wr_matrix_ok(&m) ? 1 : 0, 1));
    wr_matrix_free(&m);
}

Test(matrix, a_seed_that_missed_the_fault_is_missed, .timeout = 10)
{
    wr_matrix_t m;
    const wr_cell_t *c;
    char text[64];

    build_run();
    case_of(R_FALLBACK, S_ALPHA, 2)->results[WSR_CHECK_FALSE_READINESS].verdict =
        WR_PASS;
    build(&m);
    c = cell(&m, R_FALLBACK, S_ALPHA, WSR_CHECK_FALSE_READINESS);
    cr_assert(eq(str, (char *)wr_cell_kind_name(c->kind), "MISSED"));
    cr_assert(eq(str, (char *)wr_cell_text(c, text, sizeof(text)),
                 "MISSED 2/3"));
    cr_assert(eq(int, m.missed, 1));
    cr_assert(eq(int, wr_matrix_ok(&m) ? 1 : 0, 0));
    wr_matrix_free(&m);
}

Test(matrix, a_need_one_case_without_a_detection_is_missed, .timeout = 10)
{
    wr_matrix_t m;

    build_run();
    case_of(R_SEED, S_BETA, 3)
        ->results[WSR_CHECK_DUPLICATE_REGISTRATION]
        .verdict = WR_PASS;
    build(&m);
    /* No cell is wrong (every check may pass)... */
    for (int k = 0; k < WSR_CHECK__COUNT; k++)
        cr_assert(eq(int, wr_cell_kind_bad(cell(&m, R_SEED, S_BETA, k)->kind)
                              ? 1
                              : 0,
                     0),
                  "%s", wsr_check_name(k));
    /* ...but the case is. */
    cr_assert(eq(int, m.missed_cases[R_SEED * 2 + S_BETA], 1));
    cr_assert(eq(int, m.need_met[R_SEED * 2 + S_BETA], SEEDS - 1));
    cr_assert(eq(int, m.need_cases[R_SEED * 2 + S_BETA], SEEDS));
    cr_assert(eq(int, m.missed_cases[R_SEED * 2 + S_ALPHA], 0));
    cr_assert(eq(int, m.missed, 1));
    cr_assert(eq(int, wr_matrix_ok(&m) ? 1 : 0, 0));
    wr_matrix_free(&m);
}

Test(matrix, a_fail_without_a_fault_is_a_false_alarm, .timeout = 10)
{
    wr_matrix_t m;
    char text[64];

    build_run();
    fail(R_NONE, S_BETA, 2, WSR_CHECK_ISOLATION);
    build(&m);
    cr_assert(eq(str, (char *)kind(&m, R_NONE, S_BETA, WSR_CHECK_ISOLATION),
                 "FALSE ALARM"));
    cr_assert(eq(str,
                 (char *)wr_cell_text(
                     cell(&m, R_NONE, S_BETA, WSR_CHECK_ISOLATION), text,
                     sizeof(text)),
                 "FALSE ALARM 1/3"));
    cr_assert(eq(int, m.false_alarms, 1));
    cr_assert(eq(int, m.missed, 0));
    cr_assert(eq(int, wr_matrix_ok(&m) ? 1 : 0, 0));
    wr_matrix_free(&m);
}

Test(matrix, a_target_that_never_started_is_an_error, .timeout = 10)
{
    wr_matrix_t m;
    wr_case_t *c;

    build_run();
    c = case_of(R_NONE, S_ALPHA, 1);
    c->target_state = WR_TARGET_NO_START;
    snprintf(c->target_error, sizeof(c->target_error), "never listened");
    build(&m);
    for (int k = 0; k < WSR_CHECK__COUNT; k++)
        cr_assert(eq(str, (char *)kind(&m, R_NONE, S_ALPHA, k),
                     (WSR_CHECKS_ALL & BIT(k)) ? "ERROR" : "-"),
                  "%s", wsr_check_name(k));
    cr_assert(eq(int, cell(&m, R_NONE, S_ALPHA, 0)->errors, 1));
    cr_assert(eq(int, m.errors, NRAN));
    cr_assert(eq(int, wr_matrix_ok(&m) ? 1 : 0, 0));
    wr_matrix_free(&m);
}

Test(matrix, unknown_is_an_error_only_with_a_trace, .timeout = 10)
{
    wr_matrix_t m;

    build_run();
    case_of(R_NONE, S_ALPHA, 1)->results[WSR_CHECK_COORDINATOR_GAP].verdict =
        WR_UNKNOWN;
    build(&m);
    cr_assert(eq(str,
                 (char *)kind(&m, R_NONE, S_ALPHA, WSR_CHECK_COORDINATOR_GAP),
                 "UNKNOWN"));
    cr_assert(eq(int, m.errors, 1));
    wr_matrix_free(&m);
    fx.run.external = true;
    build(&m);
    cr_assert(eq(str,
                 (char *)kind(&m, R_NONE, S_ALPHA, WSR_CHECK_COORDINATOR_GAP),
                 "clean"));
    cr_assert(eq(int, m.errors, 0));
    wr_matrix_free(&m);
}

/* ------------------------------------------------------------------ */
/* Text and JSON                                                        */
/* ------------------------------------------------------------------ */

Test(matrix, print_draws_the_grid, .timeout = 10)
{
    wr_matrix_t m;
    char line[256], *out;

    build_run();
    build(&m);
    out = print(&m);
    cr_assert(eq(int,
                 contains(out, "matrix: 3 seed(s) per cell; columns are "
                               "scenarios, rows what was injected")
                     ? 1
                     : 0,
                 1),
              "%s", out);
    cr_assert(eq(str, grid_line(out, "none", line, sizeof(line)), ". ."),
              "%s", out);
    cr_assert(eq(str, grid_line(out, "fallback-ready", line, sizeof(line)),
                 "3/3 a"),
              "%s", out);
    cr_assert(eq(str, grid_line(out, "seed-bugs", line, sizeof(line)),
                 "3/3 3/3"),
              "%s", out);
    cr_assert(eq(int, contains(out, "scenarios: 1 alpha, 2 beta") ? 1 : 0, 1),
              "%s", out);
    cr_assert(eq(int,
                 contains(out, "matrix: 0 missed, 0 false alarm(s), 0 "
                               "error(s)\n")
                     ? 1
                     : 0,
                 1),
              "%s", out);
    free(out);
    wr_matrix_free(&m);
}

Test(matrix, print_spells_out_what_is_wrong, .timeout = 10)
{
    wr_matrix_t m;
    char line[256], *out;

    build_run();
    case_of(R_FALLBACK, S_ALPHA, 2)->results[WSR_CHECK_FALSE_READINESS].verdict =
        WR_PASS;
    fail(R_NONE, S_BETA, 1, WSR_CHECK_ISOLATION);
    case_of(R_SEED, S_BETA, 3)
        ->results[WSR_CHECK_DUPLICATE_REGISTRATION]
        .verdict = WR_PASS;
    case_of(R_SEED, S_ALPHA, 1)->target_state = WR_TARGET_HUNG;
    build(&m);
    out = print(&m);
    cr_assert(eq(str, grid_line(out, "none", line, sizeof(line)), ". FALSE"),
              "%s", out);
    cr_assert(eq(str, grid_line(out, "fallback-ready", line, sizeof(line)),
                 "MISS a"),
              "%s", out);
    cr_assert(eq(str, grid_line(out, "seed-bugs", line, sizeof(line)),
                 "ERR MISS"),
              "%s", out);
    /* A hung case proves nothing: its FAIL does not meet the need. */
    cr_assert(eq(int, m.need_met[R_SEED * 2 + S_ALPHA], SEEDS - 1));
    cr_assert(eq(int, m.missed_cases[R_SEED * 2 + S_ALPHA], 1));
    cr_assert(eq(int,
                 contains(out, "  fallback-ready / alpha / false_readiness: "
                               "MISSED 2/3\n")
                     ? 1
                     : 0,
                 1),
              "%s", out);
    cr_assert(eq(int,
                 contains(out, "  none / beta / isolation: FALSE ALARM 1/3\n")
                     ? 1
                     : 0,
                 1),
              "%s", out);
    cr_assert(eq(int,
                 contains(out, "  seed-bugs / beta: MISSED in 1 case(s)") ? 1
                                                                          : 0,
                 1),
              "%s", out);
    cr_assert(eq(int, contains(out, "  seed-bugs / alpha / scope_loss: ERROR 1/3")
                          ? 1
                          : 0,
                 1),
              "%s", out);
    free(out);
    wr_matrix_free(&m);
}

Test(matrix, json_has_every_cell_that_ran, .timeout = 10)
{
    wr_matrix_t m;
    json_t *j, *cells, *c, *rows;
    size_t i, found = 0;

    build_run();
    fail(R_NONE, S_BETA, 2, WSR_CHECK_ISOLATION);
    build(&m);
    j = wr_matrix_json(&m);
    cr_assert(not(zero(ptr, j)));
    cr_assert(eq(i64, json_integer_value(json_object_get(j, "wsrace_matrix")),
                 1));
    cr_assert(eq(i64, json_integer_value(json_object_get(j, "seeds")), SEEDS));
    cr_assert(eq(i64, json_integer_value(json_object_get(j, "missed")),
                 m.missed));
    cr_assert(eq(i64, json_integer_value(json_object_get(j, "false_alarms")),
                 1));
    cr_assert(eq(i64, json_integer_value(json_object_get(j, "errors")), 0));
    rows = json_object_get(j, "rows");
    cr_assert(eq(sz, json_array_size(rows), (size_t)ROWS));
    for (i = 0; i < ROWS; i++) {
        cr_assert(eq(str,
                     (char *)json_string_value(
                         json_object_get(json_array_get(rows, i), "label")),
                     m.rows[i].label));
        cr_assert(eq(str,
                     (char *)json_string_value(
                         json_object_get(json_array_get(rows, i), "inject")),
                     m.rows[i].inject));
    }
    cr_assert(eq(str,
                 (char *)json_string_value(
                     json_array_get(json_object_get(j, "scenarios"), 1)),
                 "beta"));
    cells = json_object_get(j, "cells");
    /* Rows x scenarios x the checks that ran; tool checks did not. */
    cr_assert(eq(sz, json_array_size(cells), (size_t)(ROWS * 2 * NRAN)));
    json_array_foreach(cells, i, c)
    {
        const char *k = json_string_value(json_object_get(c, "cell"));

        cr_assert(not(zero(ptr, (void *)k)));
        cr_assert(not(eq(str, (char *)k, "-")));
        cr_assert(eq(int, json_is_integer(json_object_get(c, "runs")) ? 1 : 0,
                     1));
        cr_assert(eq(i64, json_integer_value(json_object_get(c, "runs")),
                     SEEDS));
        if (strcmp(json_string_value(json_object_get(c, "row")), "none") ==
                0 &&
            strcmp(json_string_value(json_object_get(c, "scenario")),
                   "beta") == 0 &&
            strcmp(json_string_value(json_object_get(c, "check")),
                   "isolation") == 0) {
            found++;
            cr_assert(eq(str, (char *)k, "FALSE ALARM"));
            cr_assert(eq(str,
                         (char *)json_string_value(
                             json_object_get(c, "expected")),
                         "PASS"));
            cr_assert(eq(i64, json_integer_value(json_object_get(c, "fails")),
                         1));
            cr_assert(eq(str,
                         (char *)json_string_value(json_object_get(c, "text")),
                         "FALSE ALARM 1/3"));
        }
    }
    cr_assert(eq(sz, found, (size_t)1));
    json_decref(j);
    wr_matrix_free(&m);
}

Test(matrix, json_lists_need_one_misses, .timeout = 10)
{
    wr_matrix_t m;
    json_t *j, *missed;

    build_run();
    case_of(R_SEED, S_BETA, 3)
        ->results[WSR_CHECK_DUPLICATE_REGISTRATION]
        .verdict = WR_PASS;
    build(&m);
    j = wr_matrix_json(&m);
    missed = json_object_get(j, "missed_cases");
    cr_assert(eq(sz, json_array_size(missed), (size_t)1));
    cr_assert(eq(str,
                 (char *)json_string_value(
                     json_object_get(json_array_get(missed, 0), "row")),
                 "seed-bugs"));
    cr_assert(eq(str,
                 (char *)json_string_value(
                     json_object_get(json_array_get(missed, 0), "scenario")),
                 "beta"));
    cr_assert(eq(i64,
                 json_integer_value(
                     json_object_get(json_array_get(missed, 0), "cases")),
                 1));
    cr_assert(eq(i64, json_integer_value(json_object_get(j, "missed")), 1));
    json_decref(j);
    wr_matrix_free(&m);
}

/* ------------------------------------------------------------------ */
/* Baselines                                                            */
/* ------------------------------------------------------------------ */

/* Writes the matrix of the current run as a baseline in the test dir. */
static void write_baseline(char *path, size_t len)
{
    wr_matrix_t m;

    snprintf(path, len, "%s/baseline.json", make_dir());
    build(&m);
    cr_assert(eq(int, wr_matrix_write_baseline(&m, path), 0));
    wr_matrix_free(&m);
}

static void compare(const char *path, wr_matrix_diff_t *d)
{
    wr_matrix_t m;
    char err[1024] = "";

    build(&m);
    cr_assert(eq(int, wr_matrix_compare(&m, path, d, err, sizeof(err)), 0),
              "%s", err);
    wr_matrix_free(&m);
}

Test(matrix, baseline_compared_with_itself_has_no_change, .timeout = 10)
{
    char path[PATH_MAX], tmp[PATH_MAX + 8], err[512];
    wr_matrix_diff_t d;
    json_error_t je;
    json_t *j;

    build_run();
    write_baseline(path, sizeof(path));
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    cr_assert(eq(int, access(tmp, F_OK), -1));
    j = json_load_file(path, 0, &je);
    cr_assert(not(zero(ptr, j)), "%s", je.text);
    cr_assert(eq(sz, json_array_size(json_object_get(j, "cells")),
                 (size_t)(ROWS * 2 * NRAN)));
    json_decref(j);
    cr_assert(eq(int, wr_matrix_baseline_ok(path, err, sizeof(err)) ? 1 : 0, 1),
              "%s", err);

    compare(path, &d);
    cr_assert(eq(sz, d.nregressions, 0));
    cr_assert(eq(sz, d.nimprovements, 0));
    cr_assert(eq(sz, d.nchanges, 0));
    cr_assert(eq(str, d.path, path));
    wr_matrix_diff_free(&d);
}

Test(matrix, a_lost_detection_is_a_regression, .timeout = 10)
{
    char path[PATH_MAX], *out = NULL;
    wr_matrix_diff_t d;
    size_t len = 0;
    FILE *f;

    build_run();
    write_baseline(path, sizeof(path));
    case_of(R_FALLBACK, S_ALPHA, 3)->results[WSR_CHECK_FALSE_READINESS].verdict =
        WR_PASS;
    compare(path, &d);
    cr_assert(eq(sz, d.nregressions, 1));
    cr_assert(eq(sz, d.nimprovements, 0));
    cr_assert(eq(sz, d.nchanges, 0));
    cr_assert(eq(str, d.regressions[0].row, "fallback-ready"));
    cr_assert(eq(str, d.regressions[0].scenario, "alpha"));
    cr_assert(eq(str, d.regressions[0].check, "false_readiness"));
    cr_assert(eq(str, d.regressions[0].was, "DETECTED"));
    cr_assert(eq(str, d.regressions[0].now, "MISSED"));

    f = open_memstream(&out, &len);
    wr_matrix_diff_print(&d, f, "- ", 10);
    fclose(f);
    cr_assert(eq(int,
                 contains(out, "- REGRESSION  fallback-ready / alpha / "
                               "false_readiness: DETECTED -> MISSED\n")
                     ? 1
                     : 0,
                 1),
              "%s", out);
    free(out);
    wr_matrix_diff_free(&d);
}

Test(matrix, a_fixed_false_alarm_is_an_improvement, .timeout = 10)
{
    char path[PATH_MAX];
    wr_matrix_diff_t d;

    build_run();
    fail(R_NONE, S_BETA, 2, WSR_CHECK_ISOLATION);
    write_baseline(path, sizeof(path));
    case_of(R_NONE, S_BETA, 2)->results[WSR_CHECK_ISOLATION].verdict = WR_PASS;
    compare(path, &d);
    cr_assert(eq(sz, d.nregressions, 0));
    cr_assert(eq(sz, d.nimprovements, 1));
    cr_assert(eq(sz, d.nchanges, 0));
    cr_assert(eq(str, d.improvements[0].row, "none"));
    cr_assert(eq(str, d.improvements[0].scenario, "beta"));
    cr_assert(eq(str, d.improvements[0].check, "isolation"));
    cr_assert(eq(str, d.improvements[0].was, "FALSE ALARM"));
    cr_assert(eq(str, d.improvements[0].now, "clean"));
    wr_matrix_diff_free(&d);
}

Test(matrix, a_new_false_alarm_is_a_regression_and_allowed_to_clean_a_change,
     .timeout = 10)
{
    char path[PATH_MAX];
    wr_matrix_diff_t d;

    build_run();
    write_baseline(path, sizeof(path));
    fail(R_NONE, S_ALPHA, 1, WSR_CHECK_LIVENESS);
    /* fallback-ready no longer fires in beta: allowed -> clean. */
    case_of(R_FALLBACK, S_BETA, 1)->results[WSR_CHECK_FALSE_READINESS].verdict =
        WR_PASS;
    compare(path, &d);
    cr_assert(eq(sz, d.nregressions, 1));
    cr_assert(eq(str, d.regressions[0].check, "liveness"));
    cr_assert(eq(str, d.regressions[0].was, "clean"));
    cr_assert(eq(str, d.regressions[0].now, "FALSE ALARM"));
    cr_assert(eq(sz, d.nimprovements, 0));
    cr_assert(eq(sz, d.nchanges, 1));
    cr_assert(eq(str, d.changes[0].was, "allowed"));
    cr_assert(eq(str, d.changes[0].now, "clean"));
    wr_matrix_diff_free(&d);
}

static void expect_bad_baseline(const char *path, const char *word)
{
    wr_matrix_t m;
    wr_matrix_diff_t d;
    char err[1024] = "";
    int rc;

    build(&m);
    rc = wr_matrix_compare(&m, path, &d, err, sizeof(err));
    cr_assert(lt(int, rc, 0), "%s accepted", path);
    cr_assert(eq(int, strncmp(err, path, strlen(path)), 0), "%s", err);
    cr_assert(eq(int, contains(err, word) ? 1 : 0, 1), "no '%s' in: %s", word,
              err);
    cr_assert(eq(sz, d.nregressions + d.nimprovements + d.nchanges, 0));
    wr_matrix_diff_free(&d);
    wr_matrix_free(&m);
    err[0] = '\0';
    cr_assert(eq(int, wr_matrix_baseline_ok(path, err, sizeof(err)) ? 1 : 0,
                 0));
    cr_assert(eq(int, contains(err, word) ? 1 : 0, 1), "%s", err);
}

Test(matrix, a_bad_baseline_is_refused_with_a_message, .timeout = 10)
{
    char *dir;
    char path[PATH_MAX];

    build_run();
    dir = make_dir();
    snprintf(path, sizeof(path), "%s/garbage.json", dir);
    write_file(path, "this is not JSON\n");
    expect_bad_baseline(path, "garbage.json:1:");

    snprintf(path, sizeof(path), "%s/summary.json", dir);
    write_file(path, "{\"id\": \"x\", \"cases\": []}\n");
    expect_bad_baseline(path, "not a wsrace baseline");

    snprintf(path, sizeof(path), "%s/v2.json", dir);
    write_file(path, "{\"wsrace_matrix\": 2, \"cells\": []}\n");
    expect_bad_baseline(path, "not a wsrace baseline");

    snprintf(path, sizeof(path), "%s/cells.json", dir);
    write_file(path, "{\"wsrace_matrix\": 1, \"cells\": {}}\n");
    expect_bad_baseline(path, "not a wsrace baseline");

    snprintf(path, sizeof(path), "%s/missing.json", dir);
    expect_bad_baseline(path, "missing.json");
}
