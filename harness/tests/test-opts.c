/* test-opts.c - The option parser of every command (wr_opts.c).
 *
 * One table of the kinds a command has (options with and without a
 * value, one given many times) parses word lists as a shell would hand
 * them over: options before and after operands, "--", "--x=value" and
 * "--x value", repeated options in order, and the refusals with the
 * messages that name the option. Then the value parsers at and beyond
 * the ends of their ranges.
 *
 * Criterion 2.4.1: gt() tests >=, and cr_assert() cannot take a bare
 * macro call; conditions are written as eq(int, cond ? 1 : 0, 1). */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/wr_opts.h"

enum { O_SEED = 1, O_INJECT, O_NO_SYNC, O_REPORT_DIR, O_SECRET };

static const wr_opt_t table[] = {
    {"seed", O_SEED, true},         {"inject", O_INJECT, true},
    {"no-sync", O_NO_SYNC, false},  {"report-dir", O_REPORT_DIR, true},
    {"secret", O_SECRET, true},     {NULL, 0, false},
};

#define ARGS(...) ((char *[]){__VA_ARGS__, NULL})
#define NARGS(...) ((int)(sizeof((char *[]){__VA_ARGS__}) / sizeof(char *)))
#define PARSE(a, err, ...)                                                     \
    wr_opts_parse(NARGS(__VA_ARGS__), ARGS(__VA_ARGS__), table, (a), err,     \
                  sizeof(err))

static void ok(int rc, const char *err)
{
    cr_assert(eq(int, rc, 0), "%s", err);
}

static void hit(const wr_args_t *a, size_t i, int id, const char *arg)
{
    cr_assert(lt(sz, i, a->nhits), "hit %zu of %zu", i, a->nhits);
    cr_assert(eq(int, a->hits[i].id, id), "hit %zu", i);
    cr_assert(eq(str, (char *)a->hits[i].name, (char *)table[id - 1].name));
    if (arg == NULL)
        cr_assert(eq(ptr, (void *)a->hits[i].arg, NULL), "hit %zu", i);
    else
        cr_assert(eq(str, (char *)a->hits[i].arg, (char *)arg), "hit %zu", i);
}

/* Parsing argv must fail with -EINVAL and a message holding want; the
 * result is empty. */
static void refused(int argc, char **argv, const char *want)
{
    wr_args_t a;
    char err[256] = "";

    cr_assert(eq(int, wr_opts_parse(argc, argv, table, &a, err, sizeof(err)),
                 -EINVAL),
              "accepted: %s", argv[0]);
    cr_assert(eq(int, strstr(err, want) != NULL ? 1 : 0, 1),
              "no \"%s\" in: %s", want, err);
    cr_assert(eq(ptr, (void *)a.hits, NULL));
    cr_assert(eq(ptr, (void *)a.operands, NULL));
    cr_assert(eq(sz, a.nhits + a.noperands, 0));
}

#define REFUSED(want, ...) refused(NARGS(__VA_ARGS__), ARGS(__VA_ARGS__), want)

/* ------------------------------------------------------------------ */
/* Parsing                                                              */
/* ------------------------------------------------------------------ */

Test(opts, options_before_between_and_after_operands, .timeout = 10)
{
    char *argv[] = {"--seed", "7",         "a.yaml", "--no-sync",
                    "b.yaml", "--report-dir", "out", "c.yaml", NULL};
    wr_args_t a;
    char err[256] = "";

    ok(wr_opts_parse(8, argv, table, &a, err, sizeof(err)), err);
    cr_assert(eq(sz, a.noperands, 3));
    /* Operands point into argv, in order. */
    cr_assert(eq(ptr, (void *)a.operands[0], (void *)argv[2]));
    cr_assert(eq(ptr, (void *)a.operands[1], (void *)argv[4]));
    cr_assert(eq(ptr, (void *)a.operands[2], (void *)argv[7]));
    cr_assert(eq(sz, a.nhits, 3));
    hit(&a, 0, O_SEED, "7");
    hit(&a, 1, O_NO_SYNC, NULL);
    hit(&a, 2, O_REPORT_DIR, "out");
    wr_args_free(&a);
    cr_assert(eq(ptr, (void *)a.hits, NULL));
}

Test(opts, the_same_words_in_any_order_mean_the_same, .timeout = 10)
{
    wr_args_t a, b;
    char err[256] = "";

    ok(PARSE(&a, err, "replay.json", "--report-dir", "d"), err);
    ok(PARSE(&b, err, "--report-dir", "d", "replay.json"), err);
    cr_assert(eq(sz, a.noperands, 1));
    cr_assert(eq(sz, b.noperands, 1));
    cr_assert(eq(str, a.operands[0], b.operands[0]));
    hit(&a, 0, O_REPORT_DIR, "d");
    hit(&b, 0, O_REPORT_DIR, "d");
    wr_args_free(&a);
    wr_args_free(&b);
}

Test(opts, double_dash_ends_the_options, .timeout = 10)
{
    wr_args_t a;
    char err[256] = "";

    ok(PARSE(&a, err, "--seed", "1", "--", "--no-sync", "-x", "--",
             "--nope=1", "f"),
       err);
    cr_assert(eq(sz, a.nhits, 1));
    hit(&a, 0, O_SEED, "1");
    cr_assert(eq(sz, a.noperands, 5));
    cr_assert(eq(str, a.operands[0], "--no-sync"));
    cr_assert(eq(str, a.operands[1], "-x"));
    cr_assert(eq(str, a.operands[2], "--"));
    cr_assert(eq(str, a.operands[3], "--nope=1"));
    cr_assert(eq(str, a.operands[4], "f"));
    wr_args_free(&a);
}

Test(opts, a_lone_dash_is_an_operand, .timeout = 10)
{
    wr_args_t a;
    char err[256] = "";

    ok(PARSE(&a, err, "-", "--no-sync"), err);
    cr_assert(eq(sz, a.noperands, 1));
    cr_assert(eq(str, a.operands[0], "-"));
    cr_assert(eq(sz, a.nhits, 1));
    wr_args_free(&a);
}

Test(opts, values_after_equals_or_as_the_next_word, .timeout = 10)
{
    wr_args_t a;
    char err[256] = "";

    ok(PARSE(&a, err, "--seed=7", "--report-dir", "dir=x", "--secret=",
             "--inject=scope-loss=swallow", "--secret", "--looks-like-one"),
       err);
    cr_assert(eq(sz, a.nhits, 5));
    hit(&a, 0, O_SEED, "7");
    hit(&a, 1, O_REPORT_DIR, "dir=x");
    hit(&a, 2, O_SECRET, "");
    hit(&a, 3, O_INJECT, "scope-loss=swallow");
    /* The next word is the value, whatever it looks like. */
    hit(&a, 4, O_SECRET, "--looks-like-one");
    cr_assert(eq(sz, a.noperands, 0));
    wr_args_free(&a);
}

Test(opts, repeated_options_are_kept_in_order, .timeout = 10)
{
    wr_args_t a;
    char err[256] = "";

    ok(PARSE(&a, err, "--inject", "none", "s.yaml", "--inject=exposed",
             "--seed", "1", "--inject", "fallback-ready", "--seed=2"),
       err);
    cr_assert(eq(sz, a.nhits, 5));
    hit(&a, 0, O_INJECT, "none");
    hit(&a, 1, O_INJECT, "exposed");
    hit(&a, 2, O_SEED, "1");
    hit(&a, 3, O_INJECT, "fallback-ready");
    hit(&a, 4, O_SEED, "2");
    cr_assert(eq(sz, a.noperands, 1));
    wr_args_free(&a);
}

Test(opts, no_words_no_hits, .timeout = 10)
{
    char *argv[] = {NULL};
    wr_args_t a;
    char err[256] = "";

    ok(wr_opts_parse(0, argv, table, &a, err, sizeof(err)), err);
    cr_assert(eq(sz, a.nhits, 0));
    cr_assert(eq(sz, a.noperands, 0));
    wr_args_free(&a);
}

Test(opts, an_unknown_option_is_named, .timeout = 10)
{
    REFUSED("unknown option '--nope'", "a.yaml", "--nope");
    /* Named without its value. */
    REFUSED("unknown option '--nope'", "--nope=secret-value");
    /* No abbreviations, no near misses. */
    REFUSED("unknown option '--se'", "--se", "1");
    REFUSED("unknown option '--seeds'", "--seeds", "1");
    REFUSED("unknown option '--Seed'", "--Seed", "1");
    REFUSED("unknown option '--'", "--=1");
    /* Short options do not exist. */
    REFUSED("unknown option '-s'", "-s", "1");
    REFUSED("--long-names", "-s");
}

Test(opts, the_message_leaves_out_the_value, .timeout = 10)
{
    wr_args_t a;
    char err[256] = "";

    cr_assert(eq(int, PARSE(&a, err, "--token=hunter2"), -EINVAL));
    cr_assert(eq(int, strstr(err, "hunter2") == NULL ? 1 : 0, 1), "%s", err);
}

Test(opts, a_missing_value_is_named, .timeout = 10)
{
    REFUSED("--seed wants a value", "a.yaml", "--seed");
    REFUSED("--report-dir wants a value", "--no-sync", "--report-dir");
    REFUSED("--no-sync takes no value", "--no-sync=1");
    REFUSED("--no-sync takes no value", "--no-sync=");
}

/* ------------------------------------------------------------------ */
/* Value parsers                                                        */
/* ------------------------------------------------------------------ */

Test(opts, int_takes_whole_numbers_in_range, .timeout = 10)
{
    static const struct {
        const char *s;
        long lo, hi;
        bool ok;
        int v;
    } t[] = {
        {"5", 1, 10, true, 5},
        {"1", 1, 10, true, 1},
        {"10", 1, 10, true, 10},
        {"0", 1, 10, false, 0},
        {"11", 1, 10, false, 0},
        {"-3", -5, 5, true, -3},
        {"-6", -5, 5, false, 0},
        {"2147483647", 0, INT_MAX, true, INT_MAX},
        {"2147483648", 0, INT_MAX, false, 0},
        {"99999999999999999999", 0, INT_MAX, false, 0},
        {"", 0, 10, false, 0},
        {"5x", 0, 10, false, 0},
        {"5 ", 0, 10, false, 0},
        {"x5", 0, 10, false, 0},
        {"5.0", 0, 10, false, 0},
        {"0x5", 0, 10, false, 0},
    };

    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        int v = 4242;

        cr_assert(eq(int, wr_opts_int(t[i].s, t[i].lo, t[i].hi, &v) ? 1 : 0,
                     t[i].ok ? 1 : 0),
                  "\"%s\" in [%ld, %ld]", t[i].s, t[i].lo, t[i].hi);
        cr_assert(eq(int, v, t[i].ok ? t[i].v : 4242), "\"%s\"", t[i].s);
    }
}

Test(opts, u64_takes_unsigned_numbers_without_a_sign, .timeout = 10)
{
    static const struct {
        const char *s;
        bool ok;
        unsigned long long v;
    } t[] = {
        {"0", true, 0},
        {"42", true, 42},
        {"007", true, 7},
        {"18446744073709551615", true, ULLONG_MAX},
        {"18446744073709551616", false, 0},
        {"-1", false, 0}, /* strtoull would wrap it to the largest */
        {"+1", false, 0},
        {" 1", false, 0},
        {"", false, 0},
        {"1x", false, 0},
        {"0x10", false, 0},
        {"1e3", false, 0},
    };

    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        unsigned long long v = 4242;

        cr_assert(eq(int, wr_opts_u64(t[i].s, &v) ? 1 : 0, t[i].ok ? 1 : 0),
                  "\"%s\"", t[i].s);
        cr_assert(eq(u64, v, t[i].ok ? t[i].v : 4242), "\"%s\"", t[i].s);
    }
}

Test(opts, double_takes_finite_numbers_in_range, .timeout = 10)
{
    static const struct {
        const char *s;
        double lo, hi;
        bool ok;
        double v;
    } t[] = {
        {"2.5", 0.1, 1000, true, 2.5},
        {"0.1", 0.1, 1000, true, 0.1},
        {"1000", 0.1, 1000, true, 1000},
        {"1e2", 0.1, 1000, true, 100},
        {"0.09", 0.1, 1000, false, 0},
        {"1000.5", 0.1, 1000, false, 0},
        {"0", 0.1, 1000, false, 0},
        {"-1", 0.1, 1000, false, 0},
        {"1e-300", 0.1, 1000, false, 0},
        {"1e-400", 0, 1000, false, 0}, /* underflows */
        {"1e999", 0.1, 1e308, false, 0},
        {"nan", -1e308, 1e308, false, 0},
        {"NaN", -1e308, 1e308, false, 0},
        {"inf", -INFINITY, INFINITY, false, 0},
        {"-inf", -INFINITY, INFINITY, false, 0},
        {"infinity", -INFINITY, INFINITY, false, 0},
        {"", 0.1, 1000, false, 0},
        {"2.5x", 0.1, 1000, false, 0},
        {"2.5 ", 0.1, 1000, false, 0},
        {"x", 0.1, 1000, false, 0},
    };

    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        double v = 42.42;

        cr_assert(eq(int,
                     wr_opts_double(t[i].s, t[i].lo, t[i].hi, &v) ? 1 : 0,
                     t[i].ok ? 1 : 0),
                  "\"%s\" in [%g, %g]", t[i].s, t[i].lo, t[i].hi);
        cr_assert(epsilon_eq(dbl, v, t[i].ok ? t[i].v : 42.42, 1e-12),
                  "\"%s\"", t[i].s);
    }
}
