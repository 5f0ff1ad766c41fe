/* wr_report.c - Run reports: summary.json for machines, junit.xml for CI,
 * report.md for people, and the atomic publication of a run directory.
 *
 * Each writer renders its whole file in memory (open_memstream), writes it
 * to "<name>.tmp" in the run directory, fsyncs it and renames it over
 * <name>: a reader sees the old file or the new one, never half of one, and
 * a failed write leaves no .tmp behind. The writers only read the run, its
 * cases and their histories.
 *
 * Text from outside (check summaries, target errors, command lines, event
 * lines) may hold any bytes. Every writer passes it through one UTF-8
 * decoder that replaces invalid sequences with U+FFFD, and junit.xml also
 * replaces the characters XML 1.0 forbids, so each file is valid UTF-8 and
 * junit.xml is well-formed whatever a case produced.
 *
 * A fault is "confirmed" when, in every case whose scenario exposes it and
 * that injected it, every check of its `detects` set ran and said FAIL; it
 * is "absent" when those checks said PASS in every case of such scenarios
 * run with nothing injected.
 *
 * Threads: the runner's main thread only. No locks, no static state. */
#include "wr_report.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wr_faults.h"

#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD in UTF-8 */
#define BIT(c)      (1u << (c))

/* ------------------------------------------------------------------------
 * Text: UTF-8 decoding and escaping for XML, Markdown and JSON
 * ---------------------------------------------------------------------- */

/* Decodes the character at s into *cp. Returns the bytes it takes (at least
 * 1); *cp is -1 when they are not valid UTF-8 (a stray byte, an overlong
 * form, a surrogate, a truncated sequence: its valid prefix is consumed).
 * s must not point at the terminating NUL. */
static size_t utf8_next(const char *str, long *cp)
{
    const unsigned char *s = (const unsigned char *)str;
    unsigned c = s[0];
    size_t n;
    long v, min;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2, v = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        n = 3, v = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4, v = c & 0x07, min = 0x10000;
    } else {
        *cp = -1;
        return 1;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) { /* also stops at the NUL */
            *cp = -1;
            return i;
        }
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        v = -1;
    *cp = v;
    return n;
}

/* The Char production of XML 1.0. */
static bool xml_allowed(long cp)
{
    return cp == 0x9 || cp == 0xa || cp == 0xd ||
           (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) ||
           (cp >= 0x10000 && cp <= 0x10ffff);
}

/* Writes s as XML character data, or as an attribute value when attr (where
 * quotes are escaped too, and tab and line breaks are kept as character
 * references, since a parser would fold them into spaces). '>' is always
 * escaped, for "]]>". */
static void put_xml(FILE *f, const char *s, bool attr)
{
    while (s != NULL && *s != '\0') {
        long cp;
        size_t n = utf8_next(s, &cp);

        if (!xml_allowed(cp))
            fputs(REPLACEMENT, f);
        else if (cp == '&')
            fputs("&amp;", f);
        else if (cp == '<')
            fputs("&lt;", f);
        else if (cp == '>')
            fputs("&gt;", f);
        else if (cp == '"' && attr)
            fputs("&quot;", f);
        else if (cp == '\'' && attr)
            fputs("&apos;", f);
        else if (cp == '\r' || (attr && (cp == '\n' || cp == '\t')))
            fprintf(f, "&#%ld;", cp);
        else
            fwrite(s, 1, n, f);
        s += n;
    }
}

typedef enum {
    MD_TEXT,  /* running text on one line: no breaks, no HTML tags */
    MD_CELL,  /* the same inside a table cell: '|' escaped */
    MD_CODE,  /* inside an inline code span: no breaks */
    MD_CCELL, /* inside a code span in a table cell: '|' escaped */
    MD_BLOCK, /* inside a fenced block: line breaks kept */
} md_mode_t;

static void put_md(FILE *f, const char *s, md_mode_t mode)
{
    bool cell = mode == MD_CELL || mode == MD_CCELL;
    bool text = mode == MD_TEXT || mode == MD_CELL;

    while (s != NULL && *s != '\0') {
        long cp;
        size_t n = utf8_next(s, &cp);

        if (cp == '\n' && mode == MD_BLOCK)
            fputc('\n', f);
        else if (cp == '\n' || cp == '\r' || cp == '\t')
            fputc(' ', f);
        else if (cp < 0x20 || cp == 0x7f)
            fputs(REPLACEMENT, f);
        else if (cp == '|' && cell)
            fputs("\\|", f);
        else if (cp == '<' && text)
            fputs("&lt;", f);
        else if (cp < 0)
            fputs(REPLACEMENT, f);
        else
            fwrite(s, 1, n, f);
        s += n;
    }
}

/* The longest run of backticks in s. */
static size_t backtick_run(const char *s)
{
    size_t best = 0, run = 0;

    for (; s != NULL && *s != '\0'; s++) {
        run = *s == '`' ? run + 1 : 0;
        if (run > best)
            best = run;
    }
    return best;
}

/* Writes s as an inline code span, fenced by more backticks than it holds. */
static void md_code(FILE *f, const char *s, bool cell)
{
    size_t ticks = backtick_run(s) + 1;
    size_t len = s ? strlen(s) : 0;
    bool pad = len > 0 && (s[0] == '`' || s[len - 1] == '`');

    if (len == 0) {
        fputs("(none)", f);
        return;
    }
    for (size_t i = 0; i < ticks; i++)
        fputc('`', f);
    fputs(pad ? " " : "", f);
    put_md(f, s, cell ? MD_CCELL : MD_CODE);
    fputs(pad ? " " : "", f);
    for (size_t i = 0; i < ticks; i++)
        fputc('`', f);
}

/* Writes body as a fenced block of language info. */
static void md_fenced(FILE *f, const char *info, const char *body)
{
    size_t ticks = backtick_run(body) + 1;
    size_t len = strlen(body);

    if (ticks < 3)
        ticks = 3;
    for (size_t i = 0; i < ticks; i++)
        fputc('`', f);
    fprintf(f, "%s\n", info);
    put_md(f, body, MD_BLOCK);
    if (len > 0 && body[len - 1] != '\n')
        fputc('\n', f);
    for (size_t i = 0; i < ticks; i++)
        fputc('`', f);
    fputs("\n\n", f);
}

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
        size_t n = utf8_next(s, &cp);

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

/* The first line of s into buf (len bytes), "" for NULL. */
static const char *first_line(const char *s, char *buf, size_t len)
{
    size_t n = s ? strcspn(s, "\r\n") : 0;

    if (n >= len)
        n = len - 1;
    memcpy(buf, s ? s : "", n);
    buf[n] = '\0';
    return buf;
}

/* Formats a Unix time as UTC with strftime's fmt. */
static const char *utc_time(int64_t unix_s, const char *fmt, char *buf,
                            size_t len)
{
    time_t t = (time_t)unix_s;
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL || strftime(buf, len, fmt, &tm) == 0)
        snprintf(buf, len, "1970-01-01T00:00:00");
    return buf;
}

/* ------------------------------------------------------------------------
 * Verdicts, faults and cases
 * ---------------------------------------------------------------------- */

bool wr_report_as_expected(wr_verdict_t v, wr_expect_t e, bool external)
{
    switch (e) {
    case WR_EXPECT_ANY:
        return true;
    case WR_EXPECT_PASS:
        return v == WR_PASS || (v == WR_UNKNOWN && external);
    case WR_EXPECT_FAIL:
        return v == WR_FAIL;
    }
    return false;
}

/* Whether check i of c went as expected. */
static bool check_ok(const wr_case_t *c, int i)
{
    return wr_report_as_expected(c->results[i].verdict, c->expected[i],
                                 c->target_state == WR_TARGET_EXTERNAL);
}

/* Whether the case could not run as a test of the gateway at all. A crash
 * is not one: it is what some faults do. */
static bool infra_problem(const wr_case_t *c)
{
    return c->target_state == WR_TARGET_NO_START ||
           c->target_state == WR_TARGET_HUNG || c->target_error[0] != '\0';
}

/* How a check of a case shows up in junit.xml. */
typedef enum {
    OUT_PASS,     /* PASS as expected */
    OUT_DETECTED, /* FAIL as expected: the injected fault was seen */
    OUT_FAILURE,  /* not as expected */
    OUT_SKIPPED,  /* UNKNOWN where FAIL was not required */
    OUT_ERROR,    /* the target itself did not run properly */
} outcome_t;

static outcome_t check_outcome(const wr_case_t *c, int i)
{
    wr_verdict_t v = c->results[i].verdict;
    wr_expect_t e = c->expected[i];

    if (infra_problem(c))
        return OUT_ERROR;
    if (v == WR_UNKNOWN)
        return e == WR_EXPECT_FAIL ? OUT_FAILURE : OUT_SKIPPED;
    if (!check_ok(c, i))
        return OUT_FAILURE;
    return v == WR_FAIL ? OUT_DETECTED : OUT_PASS;
}

static unsigned ran_mask(const wr_case_t *c)
{
    unsigned m = 0;

    for (int i = 0; i < WR_CHECK__COUNT; i++)
        if (c->ran[i])
            m |= BIT(i);
    return m;
}

static unsigned verdict_mask(const wr_case_t *c, wr_verdict_t v)
{
    unsigned m = 0;

    for (int i = 0; i < WR_CHECK__COUNT; i++)
        if (c->ran[i] && c->results[i].verdict == v)
            m |= BIT(i);
    return m;
}

/* Whether the comma list (of "id[=mode]") names fault f, in any mode. */
static bool list_has_fault(const char *list, const wr_fault_info_t *f)
{
    const char *p = list;

    while (p != NULL && *p != '\0') {
        char spec[128];
        size_t n = strcspn(p, ",");

        if (n < sizeof(spec)) {
            memcpy(spec, p, n);
            spec[n] = '\0';
            if (wr_fault_find(spec) == f)
                return true;
        }
        p = p[n] == ',' ? p + n + 1 : NULL;
    }
    return false;
}

static bool exposes_fault(const wr_scenario_t *s, const wr_fault_info_t *f)
{
    for (size_t i = 0; s != NULL && i < s->nexposes; i++)
        if (wr_fault_find(s->exposes[i]) == f)
            return true;
    return false;
}

/* The case injected f and its scenario is meant to expose it. */
static bool in_group(const wr_case_t *c, const wr_fault_info_t *f)
{
    return list_has_fault(c->inject, f) && exposes_fault(c->scenario, f);
}

/* The case reproduces f: every check that detects f ran and failed. */
static bool confirms(const wr_case_t *c, const wr_fault_info_t *f)
{
    unsigned d = f->detects & ran_mask(c);

    return !infra_problem(c) && d != 0 && d == (d & verdict_mask(c, WR_FAIL));
}

/* The case is a control run for f: nothing injected, the scenario exposes
 * f, and a check that detects f ran. */
static bool control_for(const wr_case_t *c, const wr_fault_info_t *f)
{
    return c->inject[0] == '\0' && exposes_fault(c->scenario, f) &&
           (f->detects & ran_mask(c)) != 0;
}

/* In that control run, every check that detects f passed. */
static bool absent_in(const wr_case_t *c, const wr_fault_info_t *f)
{
    unsigned d = f->detects & ran_mask(c);

    return !infra_problem(c) && d == (d & verdict_mask(c, WR_PASS));
}

/* How many cases are in f's group (*in) and how many of them confirm it
 * (*ok). */
static void group_counts(const wr_run_t *run, const wr_fault_info_t *f,
                         size_t *in, size_t *ok)
{
    *in = *ok = 0;
    for (size_t k = 0; k < run->ncases; k++) {
        if (!in_group(&run->cases[k], f))
            continue;
        (*in)++;
        *ok += confirms(&run->cases[k], f);
    }
}

/* The case injected something its scenario does not expose. */
static bool injected_unexposed(const wr_case_t *c)
{
    if (c->inject[0] == '\0')
        return false;
    for (size_t i = 0; i < wr_fault_count(); i++)
        if (in_group(c, wr_fault_at(i)))
            return false;
    return true;
}

static const char *scenario_name(const wr_case_t *c)
{
    return c->scenario && c->scenario->name ? c->scenario->name : "(none)";
}

static const char *inject_name(const wr_case_t *c)
{
    return c->inject[0] != '\0' ? c->inject : "none";
}

/* The case's directory relative to the run directory. */
static const char *case_dir(const wr_case_t *c, char *buf, size_t len)
{
    if (c->dir[0] != '\0')
        return c->dir;
    snprintf(buf, len, "cases/%s", c->id);
    return buf;
}

static const char *src_name(wr_src_t s)
{
    switch (s) {
    case WR_SRC_GATEWAY:
        return "gateway";
    case WR_SRC_CLIENT:
        return "client";
    case WR_SRC_HARNESS:
        return "harness";
    }
    return "?";
}

static size_t nevidence(const wr_check_result_t *r)
{
    return r->nevidence < WR_EVIDENCE_MAX ? r->nevidence : WR_EVIDENCE_MAX;
}

/* ------------------------------------------------------------------------
 * Files: render in memory, then "<name>.tmp", fsync, rename
 * ---------------------------------------------------------------------- */

typedef int (*render_fn)(const wr_run_t *run, FILE *out);

static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -EIO;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Renders dir/name with render, atomically. Returns 0 or negative errno;
 * on error neither the .tmp nor a partial file is left. */
static int write_file(const char *dir, const char *name, render_fn render,
                      const wr_run_t *run)
{
    char path[PATH_MAX], tmp[PATH_MAX];
    char *buf = NULL;
    size_t len = 0;
    FILE *mem;
    int fd, rc;

    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
            sizeof(path) ||
        (size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
        return -ENAMETOOLONG;
    mem = open_memstream(&buf, &len);
    if (mem == NULL)
        return -ENOMEM;
    rc = render(run, mem);
    if (rc == 0 && ferror(mem))
        rc = -ENOMEM;
    if (fclose(mem) != 0 && rc == 0)
        rc = -ENOMEM;
    if (rc < 0)
        goto out;

    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = -errno;
        goto out;
    }
    rc = write_all(fd, buf, len);
    if (rc == 0 && fsync(fd) != 0)
        rc = -errno;
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -errno;
    if (rc < 0)
        unlink(tmp);
out:
    free(buf);
    return rc;
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

static json_t *event_json(const wr_event_t *e)
{
    json_t *o = json_object(), *line = NULL;
    int rc = 0;

    if (o == NULL)
        return NULL;
    if (e->line != NULL)
        line = json_loads(e->line, 0, NULL);
    if (line == NULL)
        line = jstr(e->line);
    put(o, "seq", json_integer((json_int_t)e->seq), &rc);
    put(o, "ns", json_integer((json_int_t)e->ns), &rc);
    put(o, "src", json_string(src_name(e->src)), &rc);
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

    for (size_t k = 0; rc == 0 && k < nevidence(r); k++)
        if (r->evidence[k] != NULL)
            append(ev, event_json(r->evidence[k]), &rc);
    if (rc < 0) {
        json_decref(ev);
        json_decref(o);
        return NULL;
    }
    put(o, "verdict", json_string(wr_verdict_name(r->verdict)), &rc);
    put(o, "expected", json_string(wr_expect_name(c->expected[i])), &rc);
    put(o, "as_expected", json_boolean(check_ok(c, i)), &rc);
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
    json_t *o = json_object(), *ex = json_array();
    int rc = o && ex ? 0 : -ENOMEM;

    for (size_t i = 0; rc == 0 && s != NULL && i < s->nexposes; i++)
        append(ex, jstr(s->exposes[i]), &rc);
    if (rc < 0) {
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
    for (int i = 0; i < WR_CHECK__COUNT; i++)
        if (c->ran[i])
            put(checks, wr_check_name((wr_check_id_t)i), check_json(c, i), &rc);

    put(o, "id", jstr(c->id), &rc);
    put(o, "scenario", scenario_json(c->scenario), &rc);
    put(o, "inject", list_json(c->inject), &rc);
    put(o, "seed", json_integer((json_int_t)c->seed), &rc);
    put(o, "repeat", json_integer(c->repeat), &rc);
    put(o, "as_expected", json_boolean(c->as_expected), &rc);
    put(o, "target", t, &rc);
    put(o, "duration_ms", jms(c->duration_ns), &rc);
    put(o, "first_fail_ms",
        c->first_fail_ns >= 0 ? jms(c->first_fail_ns) : json_null(), &rc);
    put(o, "clients", json_integer(c->clients), &rc);
    put(o, "established", json_integer(c->established), &rc);
    put(o, "steps_failed", json_integer(c->steps_failed), &rc);
    put(o, "replay", jstr(c->replay), &rc);
    put(o, "dir", jstr(case_dir(c, dbuf, sizeof(dbuf))), &rc);
    put(o, "checks", checks, &rc);
    if (rc < 0) {
        json_decref(o);
        return NULL;
    }
    return o;
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
        for (int i = 0; i < WR_CHECK__COUNT; i++)
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
        json_string(utc_time(run->started_unix, "%Y-%m-%dT%H:%M:%SZ", when,
                             sizeof(when))),
        &rc);
    put(o, "duration_ms", jms(run->duration_ns), &rc);
    put(o, "exit_code", json_integer(run->exit_code), &rc);
    put(o, "totals", totals, &rc);
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
    return write_file(dir, "summary.json", render_summary, run);
}

/* ------------------------------------------------------------------------
 * junit.xml
 * ---------------------------------------------------------------------- */

/* Seconds for a time attribute; an unknown (negative) time is 0. */
static double seconds(int64_t ns)
{
    return ns > 0 ? (double)ns / 1e9 : 0.0;
}

/* Evidence lines and the replay command, as element text. */
static void junit_evidence(FILE *f, const wr_case_t *c,
                           const wr_check_result_t *r)
{
    if (nevidence(r) > 0)
        fputs("\n\nEvidence:", f);
    for (size_t k = 0; k < nevidence(r); k++) {
        const wr_event_t *e = r->evidence[k];

        if (e == NULL)
            continue;
        fprintf(f, "\nseq=%" PRIu64 " ns=%" PRId64 " ", e->seq, e->ns);
        put_xml(f, e->event ? e->event : "?", false);
        fputc(' ', f);
        put_xml(f, e->line ? e->line : "", false);
    }
    fputs("\n\nReplay: ", f);
    put_xml(f, c->replay, false);
    fputc('\n', f);
}

/* The message of an infrastructure error: "target STATE[: error]". */
static void junit_error_message(FILE *f, const wr_case_t *c)
{
    fprintf(f, "target %s", wr_target_state_name(c->target_state));
    if (c->target_error[0] != '\0') {
        fputs(": ", f);
        put_xml(f, c->target_error, true);
    }
}

static void junit_check(FILE *f, const wr_case_t *c, int i)
{
    const wr_check_result_t *r = &c->results[i];
    const char *v = wr_verdict_name(r->verdict);
    const char *e = wr_expect_name(c->expected[i]);
    outcome_t out = check_outcome(c, i);
    char msg[512];

    first_line(r->summary, msg, sizeof(msg));
    if (msg[0] == '\0')
        snprintf(msg, sizeof(msg), "%s, expected %s", v, e);

    fputs("    <testcase classname=\"wsrace.", f);
    put_xml(f, scenario_name(c), true);
    fputs("\" name=\"", f);
    put_xml(f, wr_check_name((wr_check_id_t)i), true);
    fputc('[', f);
    put_xml(f, inject_name(c), true);
    /* A check is a pure function of the history: its time is the case's,
     * given on the testsuite. */
    fputs("]\" time=\"0.000\"", f);

    switch (out) {
    case OUT_PASS:
        fputs("/>\n", f);
        return;
    case OUT_DETECTED:
        fprintf(f, ">\n      <system-out>%s as expected: %s. ", v,
                c->expected[i] == WR_EXPECT_FAIL
                    ? "the injected fault was detected"
                    : "a known side effect of the injected fault");
        put_xml(f, r->summary, false);
        junit_evidence(f, c, r);
        fputs("</system-out>\n", f);
        break;
    case OUT_FAILURE:
        fputs(">\n      <failure message=\"", f);
        put_xml(f, msg, true);
        fprintf(f, "\" type=\"%s-expected-%s\">%s, expected %s. ", v, e, v, e);
        put_xml(f, r->summary, false);
        junit_evidence(f, c, r);
        fputs("</failure>\n", f);
        break;
    case OUT_SKIPPED:
        fputs(">\n      <skipped message=\"", f);
        put_xml(f, msg, true);
        fputs("\"/>\n", f);
        break;
    case OUT_ERROR:
        fputs(">\n      <error message=\"", f);
        junit_error_message(f, c);
        fprintf(f,
                "\" type=\"infrastructure\">The target did not run "
                "properly (state %s, exit code %d, signal %d), so this "
                "%s verdict says nothing about the gateway. ",
                wr_target_state_name(c->target_state), c->target_exit_code,
                c->target_signal, v);
        put_xml(f, r->summary, false);
        junit_evidence(f, c, r);
        fputs("</error>\n", f);
        break;
    }
    fputs("    </testcase>\n", f);
}

static void junit_property(FILE *f, const char *name, const char *value)
{
    fprintf(f, "      <property name=\"%s\" value=\"", name);
    put_xml(f, value, true);
    fputs("\"/>\n", f);
}

/* Counts of a case's testcases by outcome. */
typedef struct {
    size_t tests, failures, errors, skipped;
} junit_counts_t;

static junit_counts_t junit_count(const wr_case_t *c)
{
    junit_counts_t n = {0, 0, 0, 0};

    for (int i = 0; i < WR_CHECK__COUNT; i++) {
        if (!c->ran[i])
            continue;
        n.tests++;
        switch (check_outcome(c, i)) {
        case OUT_FAILURE:
            n.failures++;
            break;
        case OUT_SKIPPED:
            n.skipped++;
            break;
        case OUT_ERROR:
            n.errors++;
            break;
        default:
            break;
        }
    }
    if (n.tests == 0 && infra_problem(c)) /* the "target" testcase */
        n.tests = n.errors = 1;
    return n;
}

static void junit_case(FILE *f, const wr_run_t *run, const wr_case_t *c)
{
    junit_counts_t n = junit_count(c);
    char when[32], seed[32];

    /* wr_case_t has no start time of its own: every suite carries the
     * run's. The Ant schema wants no zone; the time is UTC. */
    utc_time(run->started_unix, "%Y-%m-%dT%H:%M:%S", when, sizeof(when));
    snprintf(seed, sizeof(seed), "%llu", c->seed);
    fputs("  <testsuite name=\"", f);
    put_xml(f, c->id, true);
    fprintf(f,
            "\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
            "skipped=\"%zu\" time=\"%.3f\" timestamp=\"%s\">\n",
            n.tests, n.failures, n.errors, n.skipped, seconds(c->duration_ns),
            when);
    fputs("    <properties>\n", f);
    junit_property(f, "scenario", scenario_name(c));
    junit_property(f, "inject", inject_name(c));
    junit_property(f, "seed", seed);
    junit_property(f, "replay", c->replay);
    junit_property(f, "target", wr_target_state_name(c->target_state));
    fputs("    </properties>\n", f);
    for (int i = 0; i < WR_CHECK__COUNT; i++)
        if (c->ran[i])
            junit_check(f, c, i);
    if (ran_mask(c) == 0 && infra_problem(c)) {
        fputs("    <testcase classname=\"wsrace.", f);
        put_xml(f, scenario_name(c), true);
        fputs("\" name=\"target\" time=\"0.000\">\n"
              "      <error message=\"",
              f);
        junit_error_message(f, c);
        fprintf(f, "\" type=\"infrastructure\">target %s; no check ran.",
                wr_target_state_name(c->target_state));
        fputs("</error>\n    </testcase>\n", f);
    }
    fputs("  </testsuite>\n", f);
}

static int render_junit(const wr_run_t *run, FILE *out)
{
    junit_counts_t all = {0, 0, 0, 0};

    for (size_t k = 0; k < run->ncases; k++) {
        junit_counts_t n = junit_count(&run->cases[k]);

        all.tests += n.tests;
        all.failures += n.failures;
        all.errors += n.errors;
    }
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
    fprintf(out,
            "<testsuites name=\"wsrace\" tests=\"%zu\" failures=\"%zu\" "
            "errors=\"%zu\" time=\"%.3f\">\n",
            all.tests, all.failures, all.errors, seconds(run->duration_ns));
    for (size_t k = 0; k < run->ncases; k++)
        junit_case(out, run, &run->cases[k]);
    fputs("</testsuites>\n", out);
    return 0;
}

int wr_report_write_junit(const wr_run_t *run, const char *dir)
{
    return write_file(dir, "junit.xml", render_junit, run);
}

/* ------------------------------------------------------------------------
 * report.md
 * ---------------------------------------------------------------------- */

static const char *plural(size_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

/* The time of the case's first event, which evidence times count from. */
static int64_t case_t0(const wr_case_t *c)
{
    int64_t t0 = INT64_MAX;

    if (c->history != NULL && wr_history_len(c->history) > 0)
        return wr_history_at(c->history, 0)->ns;
    for (int i = 0; i < WR_CHECK__COUNT; i++)
        for (size_t k = 0; c->ran[i] && k < nevidence(&c->results[i]); k++)
            if (c->results[i].evidence[k] != NULL &&
                c->results[i].evidence[k]->ns < t0)
                t0 = c->results[i].evidence[k]->ns;
    return t0 == INT64_MAX ? 0 : t0;
}

/* " name=value", the value in quotes when it holds a space or a quote. */
static void field(FILE *f, size_t *n, const char *name, const char *value)
{
    bool quote = strpbrk(value, " \"") != NULL;

    fprintf(f, "%s%s=%s", *n ? " " : "", name, quote ? "\"" : "");
    put_md(f, value, MD_CODE);
    fputs(quote ? "\"" : "", f);
    (*n)++;
}

static void field_s(FILE *f, size_t *n, const char *name, const char *value)
{
    if (value != NULL)
        field(f, n, name, value);
}

static void field_b(FILE *f, size_t *n, const char *name, int8_t value)
{
    if (value >= 0)
        field(f, n, name, value ? "true" : "false");
}

static void field_i(FILE *f, size_t *n, const char *name, int64_t value)
{
    char buf[32];

    snprintf(buf, sizeof(buf), "%" PRId64, value);
    field(f, n, name, buf);
}

/* The members of an event's JSON line other than its bookkeeping (source,
 * sequence, time, thread, name, ids), for events none of whose decisive
 * fields are set (conn.closed, ready.failed, ...). */
static void other_fields(FILE *f, size_t *n, const char *line)
{
    static const char *const skip[] = {"src",     "seq",  "ns",  "thread",
                                       "event",   "conn", "key", "client",
                                       "session", "group"};
    json_t *o = json_loads(line, 0, NULL);
    const char *name;
    json_t *v;

    if (!json_is_object(o)) {
        json_decref(o);
        return;
    }
    json_object_foreach(o, name, v)
    {
        bool skipped = false;
        char *text;

        for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
            skipped |= strcmp(name, skip[i]) == 0;
        if (skipped)
            continue;
        text = json_is_string(v) ? NULL : json_dumps(v, JSON_ENCODE_ANY);
        field_s(f, n, name, text ? text : json_string_value(v));
        free(text);
    }
    json_decref(o);
}

/* The fields of e that decide checks; the other members of its line when
 * it has none of them. */
static void event_fields(FILE *f, const wr_event_t *e)
{
    size_t n = 0, ids;

    if (e->conn != 0)
        field_i(f, &n, "conn", (int64_t)e->conn);
    if (e->client >= 0)
        field_i(f, &n, "client", e->client);
    ids = n;
    field_s(f, &n, "type", e->type);
    field_s(f, &n, "result", e->result);
    field_s(f, &n, "from", e->from);
    field_s(f, &n, "to", e->to);
    field_s(f, &n, "state", e->state);
    field_s(f, &n, "phase", e->phase);
    field_s(f, &n, "machine", e->machine);
    field_s(f, &n, "coordinator", e->coordinator);
    field_s(f, &n, "handle", e->handle);
    field_s(f, &n, "decision", e->decision);
    field_s(f, &n, "correlation_id", e->correlation_id);
    field_s(f, &n, "user", e->user);
    field_s(f, &n, "msg_type", e->msg_type);
    field_s(f, &n, "error", e->error);
    field_s(f, &n, "token", e->token);
    field_s(f, &n, "by", e->by);
    field_b(f, &n, "linked", e->linked);
    field_b(f, &n, "connection_ready", e->connection_ready);
    field_b(f, &n, "registered", e->registered);
    field_b(f, &n, "ready", e->ready);
    if (e->code >= 0)
        field_i(f, &n, "code", e->code);
    if (e->sig > 0)
        field_i(f, &n, "sig", e->sig);
    if (e->count >= 0)
        field_i(f, &n, "count", e->count);
    if (n == ids && e->line != NULL)
        other_fields(f, &n, e->line);
}

/* The evidence of r as a fenced block: seq, ms since the case's first
 * event, source, event, key, fields. */
static int md_evidence(FILE *f, const wr_case_t *c, const wr_check_result_t *r)
{
    int64_t t0 = case_t0(c);
    char *buf = NULL;
    size_t len = 0;
    FILE *b = open_memstream(&buf, &len);

    if (b == NULL)
        return -ENOMEM;
    fprintf(b, "%6s %10s  %-7s  %-22s %-16s %s\n", "seq", "t ms", "src",
            "event", "key", "fields");
    for (size_t k = 0; k < nevidence(r); k++) {
        const wr_event_t *e = r->evidence[k];
        char seq[24];

        if (e == NULL)
            continue;
        if (e->seq != 0)
            snprintf(seq, sizeof(seq), "%" PRIu64, e->seq);
        else
            snprintf(seq, sizeof(seq), "-");
        fprintf(b, "%6s %10.3f  %-7s  %-22s %-16s ", seq,
                (double)(e->ns - t0) / 1e6, src_name(e->src),
                e->event ? e->event : "?", e->key ? e->key : "-");
        event_fields(b, e);
        fputc('\n', b);
    }
    if (ferror(b)) {
        fclose(b);
        free(buf);
        return -ENOMEM;
    }
    fclose(b);
    md_fenced(f, "", buf);
    free(buf);
    return 0;
}

/* "Check `name`: FAIL (expected FAIL). Summary." and the evidence block. */
static int md_check(FILE *f, const wr_case_t *c, int i)
{
    const wr_check_result_t *r = &c->results[i];

    fputs("Check ", f);
    md_code(f, wr_check_name((wr_check_id_t)i), false);
    fprintf(f, ": %s (expected %s", wr_verdict_name(r->verdict),
            wr_expect_name(c->expected[i]));
    if (r->violations > 1)
        fprintf(f, "; %zu violations", r->violations);
    fputs("). ", f);
    put_md(f, r->summary[0] ? r->summary : "No summary.", MD_TEXT);
    fputs("\n\n", f);
    if (nevidence(r) == 0)
        return 0;
    return md_evidence(f, c, r);
}

static void md_replay(FILE *f, const wr_case_t *c)
{
    fputs("Replay:\n\n", f);
    md_fenced(f, "sh", c->replay[0] ? c->replay : "# no replay command");
}

/* The case id as a link to its directory (when the path needs no
 * escaping), for a table cell or running text. */
static void md_case_link(FILE *f, const wr_case_t *c, bool cell)
{
    char dbuf[256];
    const char *dir = case_dir(c, dbuf, sizeof(dbuf));
    bool plain = strspn(dir, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS"
                             "TUVWXYZ0123456789._/=,+-") == strlen(dir);

    if (plain)
        fputc('[', f);
    md_code(f, c->id, cell);
    if (plain)
        fprintf(f, "](%s/)", dir);
}

/* Checks of mask, named: "`a`, `b`", or none. */
static void md_checks(FILE *f, unsigned mask, bool cell, const char *none)
{
    size_t n = 0;

    for (int i = 0; i < WR_CHECK__COUNT; i++) {
        if (!(mask & BIT(i)))
            continue;
        fputs(n++ ? ", " : "", f);
        md_code(f, wr_check_name((wr_check_id_t)i), cell);
    }
    if (n == 0)
        fputs(none, f);
}

/* Verdicts other than PASS of the case's checks, for a table cell. */
static void md_failed_cell(FILE *f, const wr_case_t *c)
{
    unsigned fail = verdict_mask(c, WR_FAIL);
    unsigned unk = verdict_mask(c, WR_UNKNOWN);

    md_checks(f, fail, true, unk ? "" : "none");
    if (unk) {
        fputs(fail ? "; UNKNOWN: " : "UNKNOWN: ", f);
        md_checks(f, unk, true, "");
    }
}

static void md_as_expected_cell(FILE *f, const wr_case_t *c)
{
    if (infra_problem(c)) {
        fprintf(f, "**no** (target %s)", wr_target_state_name(c->target_state));
        return;
    }
    fputs(c->as_expected ? "yes" : "**no**", f);
}

/* Every check of c that did not go as expected, but those of skip, with
 * its evidence, then the replay command unless it was just shown. */
static int md_unexpected(FILE *f, const wr_case_t *c, unsigned skip,
                         bool replay_shown)
{
    size_t shown = 0;
    int rc = 0;

    for (int i = 0; rc == 0 && i < WR_CHECK__COUNT; i++) {
        if (!c->ran[i] || (skip & BIT(i)) || check_ok(c, i))
            continue;
        if (shown++ == 0) {
            fputs("Case ", f);
            md_case_link(f, c, false);
            fputs(" did not go as expected:\n\n", f);
        }
        rc = md_check(f, c, i);
    }
    if (shown > 0 && !replay_shown)
        md_replay(f, c);
    return rc;
}

static void md_header(FILE *f, const wr_run_t *run)
{
    static const char *const exit_meaning[] = {
        [0] = "everything as expected",
        [1] = "an unexpected verdict",
        [2] = "bad usage or scenario",
        [3] = "infrastructure failure",
    };
    char when[32];

    utc_time(run->started_unix, "%Y-%m-%d %H:%M:%S UTC", when, sizeof(when));
    fputs("# wsrace reproduction report: run ", f);
    put_md(f, run->id, MD_TEXT);
    fprintf(f, ", %.10s\n\n", when);
    fprintf(f, "- Started: %s\n", when);
    fprintf(f, "- Seed: %llu\n", run->seed);
    fputs("- Target: ", f);
    md_code(f, run->target, false);
    if (run->external)
        fputs(" (external: no gateway trace, so checks that need one are "
              "UNKNOWN)",
              f);
    fprintf(f, "\n- Cases: %zu in %.3f s\n", run->ncases,
            seconds(run->duration_ns));
    fprintf(f, "- Exit code: %d", run->exit_code);
    if (run->exit_code >= 0 && run->exit_code <= 3)
        fprintf(f, " (%s)", exit_meaning[run->exit_code]);
    fputs("\n- Evidence blocks: `seq` is the gateway trace's sequence number "
          "(`-` for client and harness events), `t ms` the time since the "
          "case's first event.\n\n",
          f);
}

/* Up to five ids of the cases not as expected. */
static void md_unexpected_ids(FILE *f, const wr_run_t *run)
{
    size_t shown = 0, n = 0;

    for (size_t k = 0; k < run->ncases; k++) {
        if (run->cases[k].as_expected)
            continue;
        if (n++ < 5) {
            fputs(shown++ ? ", " : "", f);
            md_code(f, run->cases[k].id, false);
        }
    }
    if (n > shown)
        fprintf(f, " and %zu more", n - shown);
}

/* The one-paragraph verdict. */
static void md_verdict(FILE *f, const wr_run_t *run)
{
    size_t groups = 0, confirmed = 0, controls = 0, controls_ok = 0;
    size_t unexpected = 0, infra = 0, n;

    for (size_t i = 0; i < wr_fault_count(); i++) {
        size_t in, ok;

        group_counts(run, wr_fault_at(i), &in, &ok);
        groups += in > 0;
        confirmed += in > 0 && ok == in;
    }
    for (size_t k = 0; k < run->ncases; k++) {
        const wr_case_t *c = &run->cases[k];

        unexpected += !c->as_expected;
        infra += infra_problem(c);
        controls += c->inject[0] == '\0';
        controls_ok += c->inject[0] == '\0' && c->as_expected;
    }

    if (run->ncases == 0) {
        fputs("No cases ran.\n\n", f);
        return;
    }
    if (unexpected == 0 && infra == 0 && confirmed == groups) {
        if (groups == 0)
            fprintf(f,
                    "No fault that a scenario exposes was injected; "
                    "every check went as expected in all %zu %s.",
                    run->ncases, plural(run->ncases, "case", "cases"));
        else {
            if (groups == 1)
                fputs("The one bug of this run reproduced with its fault "
                      "injected",
                      f);
            else
                fprintf(f,
                        "All %zu bugs reproduced with their fault "
                        "injected",
                        groups);
            fputs(controls > 0 ? " and absent without it."
                               : ". No case ran without injection, so "
                                 "absence was not checked.",
                  f);
            fprintf(f, " All %zu cases ended as expected.", run->ncases);
        }
        fputs("\n\n", f);
        return;
    }

    fprintf(f, "%zu of %zu %s did not end as expected (", unexpected,
            run->ncases, plural(run->ncases, "case", "cases"));
    md_unexpected_ids(f, run);
    fputs(unexpected ? ")." : "none).", f);
    if (groups > 0) {
        fprintf(f, " Reproduced with the fault injected: %zu of %zu %s",
                confirmed, groups, plural(groups, "bug", "bugs"));
        n = 0;
        for (size_t i = 0; i < wr_fault_count(); i++) {
            const wr_fault_info_t *ft = wr_fault_at(i);
            size_t in, ok;

            group_counts(run, ft, &in, &ok);
            if (in > 0 && ok < in) {
                fputs(n++ ? ", " : " (not confirmed: ", f);
                md_code(f, ft->id, false);
            }
        }
        fputs(n ? ")." : ".", f);
    }
    if (controls > 0)
        fprintf(f, " Without injection, %zu of %zu %s ended as expected.",
                controls_ok, controls, plural(controls, "case", "cases"));
    if (infra > 0)
        fprintf(f,
                " %zu %s could not run the target properly; %s verdicts "
                "say nothing about the gateway.",
                infra, plural(infra, "case", "cases"),
                plural(infra, "its", "their"));
    fputs("\n\n", f);
}

static void md_case_table(FILE *f, const wr_run_t *run)
{
    fputs("## Cases\n\n"
          "| case | scenario | injected | checks that failed | as "
          "expected |\n"
          "|---|---|---|---|---|\n",
          f);
    for (size_t k = 0; k < run->ncases; k++) {
        const wr_case_t *c = &run->cases[k];

        fputs("| ", f);
        md_case_link(f, c, true);
        fputs(" | ", f);
        put_md(f, scenario_name(c), MD_CELL);
        fputs(" | ", f);
        put_md(f, inject_name(c), MD_CELL);
        fputs(" | ", f);
        md_failed_cell(f, c);
        fputs(" | ", f);
        md_as_expected_cell(f, c);
        fputs(" |\n", f);
    }
    fputs("\n", f);
}

#define ROUTINE_ROWS 5 /* confirming cases listed in a bug's table */

/* One section per fault the run injected where a scenario exposes it. */
static int md_bug(FILE *f, const wr_run_t *run, const wr_fault_info_t *ft)
{
    size_t in = 0, ok = 0, controls = 0, absent = 0, routine = 0;
    int64_t fail_min = -1, fail_max = -1;
    const wr_case_t *shown = NULL;
    unsigned side_failed = 0;
    int rc = 0;

    for (size_t k = 0; k < run->ncases; k++) {
        const wr_case_t *c = &run->cases[k];

        if (in_group(c, ft)) {
            in++;
            ok += confirms(c, ft);
            if (shown == NULL || (!confirms(shown, ft) && confirms(c, ft)))
                shown = c;
        } else if (control_for(c, ft)) {
            controls++;
            absent += absent_in(c, ft);
        }
    }
    if (in == 0)
        return 0;

    fputs("## Bug: ", f);
    put_md(f, ft->id, MD_TEXT);
    if (ft->origin != NULL)
        fprintf(f, " (%s of the original report)\n\n", ft->origin);
    else
        fputs(" (not in the original report)\n\n", f);
    fputs("What it is: ", f);
    put_md(f, ft->title, MD_TEXT);
    fputs(". Detected by ", f);
    md_checks(f, ft->detects, false, "no check");
    fputs(".\n\n", f);

    if (ok == in)
        fprintf(f,
                "**Status: confirmed.** With the fault injected, the "
                "detecting checks failed in %s, as designed.",
                in == 1 ? "its one case" : "all its cases");
    else
        fprintf(f,
                "**Status: NOT confirmed.** With the fault injected, the "
                "detecting checks failed in %zu of %zu %s.",
                ok, in, plural(in, "case", "cases"));
    if (controls > 0)
        fprintf(f,
                " Without it, they passed in %zu of %zu %s of the same "
                "scenarios%s.",
                absent, controls, plural(controls, "case", "cases"),
                absent == controls ? " (absent when not injected)" : "");
    else
        fputs(" No case of these scenarios ran without it.", f);
    fputs("\n\n| case | injected | checks that failed | first failure | "
          "as expected |\n|---|---|---|---|---|\n",
          f);
    for (size_t k = 0; k < run->ncases; k++) {
        const wr_case_t *c = &run->cases[k];

        if (!in_group(c, ft))
            continue;
        side_failed |= verdict_mask(c, WR_FAIL) & ft->side_effects;
        if (c->first_fail_ns >= 0 && confirms(c, ft)) {
            fail_min = fail_min < 0 || c->first_fail_ns < fail_min
                           ? c->first_fail_ns
                           : fail_min;
            fail_max =
                c->first_fail_ns > fail_max ? c->first_fail_ns : fail_max;
        }
        /* Many repeats that all went as designed say no more than the
         * first few: list those, and every case that did not. */
        if (confirms(c, ft) && c->as_expected && c != shown &&
            ++routine > ROUTINE_ROWS)
            continue;
        fputs("| ", f);
        md_case_link(f, c, true);
        fputs(" | ", f);
        put_md(f, c->inject, MD_CELL);
        fputs(" | ", f);
        md_failed_cell(f, c);
        if (c->first_fail_ns >= 0)
            fprintf(f, " | %.3f ms | ", (double)c->first_fail_ns / 1e6);
        else
            fputs(" | - | ", f);
        md_as_expected_cell(f, c);
        fputs(" |\n", f);
    }
    if (routine > ROUTINE_ROWS)
        fprintf(f, "\nAnd %zu more %s that confirmed it as expected.\n",
                routine - ROUTINE_ROWS,
                plural(routine - ROUTINE_ROWS, "case", "cases"));
    if (fail_min >= 0)
        fprintf(f,
                "\nFirst failing event: %.3f to %.3f ms after the "
                "gateway was up.\n",
                (double)fail_min / 1e6, (double)fail_max / 1e6);
    fputs("\n", f);

    fputs("Evidence from case ", f);
    md_case_link(f, shown, false);
    fputs(":\n\n", f);
    for (int i = 0; rc == 0 && i < WR_CHECK__COUNT; i++)
        if (shown->ran[i] && (ft->detects & BIT(i)))
            rc = md_check(f, shown, i);
    if ((ft->detects & ran_mask(shown)) == 0)
        fputs("No check that detects this fault ran in this case.\n\n", f);
    md_replay(f, shown);
    if (side_failed != 0) {
        fputs("Side effects, allowed to fail with this fault: ", f);
        md_checks(f, side_failed, false, "");
        fputs(" failed in some cases. ", f);
        put_md(f, ft->why_side ? ft->why_side : "", MD_TEXT);
        fputs(ft->why_side ? ".\n\n" : "\n\n", f);
    }
    for (size_t k = 0; rc == 0 && k < run->ncases; k++) {
        const wr_case_t *c = &run->cases[k];

        if (in_group(c, ft))
            rc = md_unexpected(f, c, c == shown ? ft->detects : 0, c == shown);
    }
    return rc;
}

/* Per check over the cases selected by pick: how often each verdict. */
static void md_check_table(FILE *f, const wr_run_t *run,
                           bool (*pick)(const wr_case_t *),
                           const char *all_pass)
{
    fputs("| check | cases | PASS | FAIL | UNKNOWN | result |\n"
          "|---|---|---|---|---|---|\n",
          f);
    for (int i = 0; i < WR_CHECK__COUNT; i++) {
        size_t n[3] = {0, 0, 0}, total = 0;
        const wr_case_t *first_bad = NULL;

        for (size_t k = 0; k < run->ncases; k++) {
            const wr_case_t *c = &run->cases[k];
            wr_verdict_t v = c->results[i].verdict;

            if (!pick(c) || !c->ran[i] || (unsigned)v >= 3)
                continue;
            total++;
            n[v]++;
            if (v != WR_PASS && first_bad == NULL)
                first_bad = c;
        }
        if (total == 0)
            continue;
        fputs("| ", f);
        md_code(f, wr_check_name((wr_check_id_t)i), true);
        fprintf(f, " | %zu | %zu | %zu | %zu | ", total, n[WR_PASS], n[WR_FAIL],
                n[WR_UNKNOWN]);
        if (first_bad == NULL) {
            fprintf(f, "%s |\n", all_pass);
            continue;
        }
        fputs(n[WR_FAIL] ? "**FAILED** in " : "undecided (UNKNOWN) in ", f);
        md_code(f, first_bad->id, true);
        if (n[WR_FAIL] + n[WR_UNKNOWN] > 1)
            fprintf(f, " and %zu more", n[WR_FAIL] + n[WR_UNKNOWN] - 1);
        fputs(" |\n", f);
    }
    fputs("\n", f);
}

static bool pick_control(const wr_case_t *c)
{
    return c->inject[0] == '\0';
}

static int md_controls(FILE *f, const wr_run_t *run)
{
    size_t n = 0;
    int rc = 0;

    for (size_t k = 0; k < run->ncases; k++)
        n += pick_control(&run->cases[k]);
    if (n == 0)
        return 0;
    fprintf(f,
            "## Without injection\n\n"
            "%zu %s ran with no fault injected. Every check must PASS "
            "there: a fault that shows up without being injected is a "
            "bug of the gateway or of the check.\n\n",
            n, plural(n, "case", "cases"));
    md_check_table(f, run, pick_control, "absent when not injected");
    for (size_t k = 0; rc == 0 && k < run->ncases; k++)
        if (pick_control(&run->cases[k]))
            rc = md_unexpected(f, &run->cases[k], 0, false);
    return rc;
}

static int md_unexposed(FILE *f, const wr_run_t *run)
{
    size_t n = 0;
    int rc = 0;

    for (size_t k = 0; k < run->ncases; k++)
        n += injected_unexposed(&run->cases[k]);
    if (n == 0)
        return 0;
    fprintf(f,
            "## Injected where the scenario does not expose the fault\n\n"
            "%zu %s injected a fault that %s scenario is not meant to "
            "catch; every check was expected to PASS.\n\n",
            n, plural(n, "case", "cases"), plural(n, "its", "their"));
    md_check_table(f, run, injected_unexposed, "not triggered");
    for (size_t k = 0; rc == 0 && k < run->ncases; k++)
        if (injected_unexposed(&run->cases[k]))
            rc = md_unexpected(f, &run->cases[k], 0, false);
    return rc;
}

static void md_infra(FILE *f, const wr_run_t *run)
{
    size_t n = 0;

    for (size_t k = 0; k < run->ncases; k++) {
        const wr_case_t *c = &run->cases[k];

        if (!infra_problem(c))
            continue;
        if (n++ == 0)
            fputs("## Infrastructure problems\n\n"
                  "The target did not run properly in these cases; their "
                  "verdicts say nothing about the gateway.\n\n",
                  f);
        fputs("- ", f);
        md_case_link(f, c, false);
        fprintf(f, ": target %s, exit code %d, signal %d",
                wr_target_state_name(c->target_state), c->target_exit_code,
                c->target_signal);
        if (c->target_error[0] != '\0') {
            fputs(": ", f);
            put_md(f, c->target_error, MD_TEXT);
        }
        fputs("\n", f);
    }
    if (n > 0)
        fputs("\n", f);
}

static void md_footer(FILE *f, const wr_run_t *run)
{
    fprintf(f, "## How to reproduce\n\nThe whole run (seed %llu):\n\n",
            run->seed);
    md_fenced(f, "sh", run->argv_text[0] ? run->argv_text : "# unknown");
    fputs("One case: the replay command shown with its evidence above, or "
          "`cases[].replay` in `summary.json`.\n\n"
          "## Files\n\n"
          "In the run directory, next to this report:\n\n"
          "- `summary.json`: every case, check and evidence event, "
          "machine-readable.\n"
          "- `junit.xml`: one test case per check, for CI.\n"
          "- `cases/<id>/history.jsonl`: the case's client, gateway and "
          "harness events merged on one clock.\n",
          f);
    if (run->external)
        fputs("- No `trace.jsonl` or `gateway.log`: the target was "
              "external.\n",
              f);
    else
        fputs("- `cases/<id>/trace.jsonl`: the gateway trace, one JSON "
              "event per line.\n"
              "- `cases/<id>/gateway.log`: the gateway's output.\n",
              f);
}

static int render_markdown(const wr_run_t *run, FILE *out)
{
    int rc = 0;

    md_header(out, run);
    md_verdict(out, run);
    md_case_table(out, run);
    for (size_t i = 0; rc == 0 && i < wr_fault_count(); i++)
        rc = md_bug(out, run, wr_fault_at(i));
    if (rc == 0)
        rc = md_unexposed(out, run);
    if (rc == 0)
        rc = md_controls(out, run);
    md_infra(out, run);
    md_footer(out, run);
    return rc;
}

int wr_report_write_markdown(const wr_run_t *run, const char *dir)
{
    return write_file(dir, "report.md", render_markdown, run);
}

int wr_report_write_all(const wr_run_t *run, const char *dir)
{
    int rc = wr_report_write_summary(run, dir);
    int rc2 = wr_report_write_junit(run, dir);
    int rc3 = wr_report_write_markdown(run, dir);

    /* Each file stands alone: write the others even when one fails. */
    return rc < 0 ? rc : rc2 < 0 ? rc2 : rc3;
}

/* ------------------------------------------------------------------------
 * Publication and clean-up
 * ---------------------------------------------------------------------- */

/* rename(2) that fails with EEXIST when to exists, even as an empty
 * directory (which plain rename would replace). */
static int rename_noreplace(const char *from, const char *to)
{
    struct stat st;

    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -errno;
    /* The file system cannot do it atomically: check, then rename. */
    if (lstat(to, &st) == 0)
        return -EEXIST;
    return rename(from, to) == 0 ? 0 : -errno;
}

/* The name latest should point at: finaldir relative to root, or its last
 * component when it is not under root. */
static const char *relative_to(const char *finaldir, const char *root)
{
    size_t n = strlen(root);
    const char *slash;

    while (n > 1 && root[n - 1] == '/')
        n--;
    if (strncmp(finaldir, root, n) == 0 && finaldir[n] == '/') {
        finaldir += n;
        while (*finaldir == '/')
            finaldir++;
        return finaldir;
    }
    slash = strrchr(finaldir, '/');
    return slash ? slash + 1 : finaldir;
}

int wr_report_publish(const char *tmpdir, const char *finaldir,
                      const char *root)
{
    const char *rel = relative_to(finaldir, root);
    char link_tmp[PATH_MAX], latest[PATH_MAX];
    int rc;

    if (*rel == '\0')
        return -EINVAL;
    if ((size_t)snprintf(link_tmp, sizeof(link_tmp), "%s/.latest.tmp-%ld", root,
                         (long)getpid()) >= sizeof(link_tmp) ||
        (size_t)snprintf(latest, sizeof(latest), "%s/latest", root) >=
            sizeof(latest))
        return -ENAMETOOLONG;

    /* The new link is made first, so that after the directory is renamed
     * the one step left is a rename over the old link. */
    (void)unlink(link_tmp); /* a leftover of this pid's failed attempt */
    if (symlink(rel, link_tmp) != 0)
        return -errno;
    rc = rename_noreplace(tmpdir, finaldir);
    if (rc < 0)
        goto err_link;
    if (rename(link_tmp, latest) != 0) {
        rc = -errno;
        goto err_dir;
    }
    return 0;

err_dir:
    (void)rename(finaldir, tmpdir);
err_link:
    (void)unlink(link_tmp);
    return rc;
}

/* The pid at the end of a ".tmp-<runid>" name (runid ends with "-<pid>"),
 * or 0 when the name is not one. */
static pid_t tmp_owner(const char *name)
{
    const char *dash = strrchr(name, '-');
    char *end;
    long pid;

    if (strncmp(name, ".tmp-", 5) != 0 || dash == NULL || dash < name + 5 ||
        dash[1] < '0' || dash[1] > '9')
        return 0;
    errno = 0;
    pid = strtol(dash + 1, &end, 10);
    if (errno != 0 || *end != '\0' || pid <= 0 || pid > INT_MAX)
        return 0;
    return (pid_t)pid;
}

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
    return remove(path) == 0 ? 0 : errno;
}

int wr_report_sweep(const char *root)
{
    DIR *d = opendir(root);
    struct dirent *de;
    int removed = 0;

    if (d == NULL)
        return errno == ENOENT ? 0 : -errno;
    while ((de = readdir(d)) != NULL) {
        pid_t pid = tmp_owner(de->d_name);
        char path[PATH_MAX];
        struct stat st;

        if (pid == 0 ||
            fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISDIR(st.st_mode))
            continue;
        /* EPERM means the process lives under another user: keep it. */
        if (kill(pid, 0) == 0 || errno != ESRCH)
            continue;
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", root, de->d_name) >=
            sizeof(path))
            continue;
        if (nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) == 0)
            removed++;
    }
    closedir(d);
    return removed;
}
