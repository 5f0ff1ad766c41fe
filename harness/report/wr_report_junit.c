/* wr_report_junit.c - junit.xml: one testsuite per case and one
 * testcase per check that ran, for CI.
 *
 * A check that went as expected passes (an expected FAIL says so in its
 * system-out), one that did not is a failure, an UNKNOWN that no one
 * required to FAIL is skipped, and every check of a case whose target did
 * not run properly is an error. Text goes through put_xml(), which also
 * replaces the characters XML 1.0 forbids, so junit.xml is well-formed
 * whatever a case produced.
 *
 * Threads: the runner's main thread only. No locks, no static state. */
#include "report/wr_report.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "judge/wr_judge.h"
#include "report/wr_report_util.h"

/* ------------------------------------------------------------------------
 * Text: XML escaping
 * ---------------------------------------------------------------------- */

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
        size_t n = wr__report_utf8_next(s, &cp);

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

/* ------------------------------------------------------------------------
 * Outcomes
 * ---------------------------------------------------------------------- */

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

    if (wr_case_infra_problem(c))
        return OUT_ERROR;
    if (v == WR_UNKNOWN)
        return e == WR_EXPECT_FAIL ? OUT_FAILURE : OUT_SKIPPED;
    if (!wr_judge_check_ok(c, i))
        return OUT_FAILURE;
    return v == WR_FAIL ? OUT_DETECTED : OUT_PASS;
}

/* ------------------------------------------------------------------------
 * junit.xml
 * ---------------------------------------------------------------------- */

/* Evidence lines and the replay command, as element text. */
static void junit_evidence(FILE *f, const wr_case_t *c,
                           const wr_check_result_t *r)
{
    if (wr__report_nevidence(r) > 0)
        fputs("\n\nEvidence:", f);
    for (size_t k = 0; k < wr__report_nevidence(r); k++) {
        const wr_event_t *e = r->evidence[k];
        char *line;

        if (e == NULL)
            continue;
        fprintf(f, "\nseq=%" PRIu64 " ns=%" PRId64 " ", e->seq, e->ns);
        put_xml(f, e->event ? e->event : "?", false);
        fputc(' ', f);
        line = wr_event_line(e);
        put_xml(f, line ? line : "", false);
        free(line);
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
    put_xml(f, wr__report_scenario_name(c), true);
    fputs("\" name=\"", f);
    put_xml(f, wsr_check_name((wsr_check_id_t)i), true);
    fputc('[', f);
    put_xml(f, wr__report_inject_name(c), true);
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

    for (int i = 0; i < WSR_CHECK__COUNT; i++) {
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
    if (n.tests == 0 && wr_case_infra_problem(c)) /* the "target" testcase */
        n.tests = n.errors = 1;
    return n;
}

static void junit_case(FILE *f, const wr_run_t *run, const wr_case_t *c)
{
    junit_counts_t n = junit_count(c);
    char when[32], seed[32];

    /* wr_case_t has no start time of its own: every suite carries the
     * run's. The Ant schema wants no zone; the time is UTC. */
    wr__report_utc_time(run->started_unix, "%Y-%m-%dT%H:%M:%S", when,
                        sizeof(when));
    snprintf(seed, sizeof(seed), "%llu", c->seed);
    fputs("  <testsuite name=\"", f);
    put_xml(f, c->id, true);
    fprintf(f,
            "\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
            "skipped=\"%zu\" time=\"%.3f\" timestamp=\"%s\">\n",
            n.tests, n.failures, n.errors, n.skipped,
            wr__report_seconds(c->duration_ns), when);
    fputs("    <properties>\n", f);
    junit_property(f, "scenario", wr__report_scenario_name(c));
    junit_property(f, "inject", wr__report_inject_name(c));
    junit_property(f, "seed", seed);
    junit_property(f, "replay", c->replay);
    junit_property(f, "target", wr_target_state_name(c->target_state));
    fputs("    </properties>\n", f);
    for (int i = 0; i < WSR_CHECK__COUNT; i++)
        if (c->ran[i])
            junit_check(f, c, i);
    if (wr_case_ran(c) == 0 && wr_case_infra_problem(c)) {
        fputs("    <testcase classname=\"wsrace.", f);
        put_xml(f, wr__report_scenario_name(c), true);
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
            all.tests, all.failures, all.errors,
            wr__report_seconds(run->duration_ns));
    for (size_t k = 0; k < run->ncases; k++)
        junit_case(out, run, &run->cases[k]);
    fputs("</testsuites>\n", out);
    return 0;
}

int wr_report_write_junit(const wr_run_t *run, const char *dir)
{
    return wr__report_write_file(dir, "junit.xml", render_junit, run);
}
