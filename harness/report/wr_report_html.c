/* wr_report_html.c - index.html: the run for people, in a browser. The
 * reproduction matrix at the top, then every case (unexpected ones marked
 * and filterable) with its checks, the evidence of each FAIL, the replay
 * command and a timeline of its history: one lane per connection, marks
 * for state changes, coordinator phases, registry events, messages and
 * closes on one time axis, the evidence circled in red.
 *
 * The page is one self-contained file: inline CSS and JS, no fonts, no
 * network. Its CSP (put_head()) is default-src 'none' with inline style
 * and script allowed ('unsafe-inline'), no hashes or nonces.
 * Each case's timeline data is a <script type="application/json"> block
 * that the script parses and draws on a <canvas> only when the case is
 * opened, and only the lanes in view (virtual scrolling), so a run of many
 * cases or a case of 1,000 connections loads and scrolls smoothly.
 *
 * Three parts, each in its own file:
 *   - this file: the page's HTML, the run's facts, the matrix table and
 *     each case's card (summary line, facts, checks, evidence, replay);
 *   - wr_report_timeline.c: a case's timeline (its history read, laid out
 *     in lanes, capped, and written as the JSON block and its notes);
 *   - assets/report.css and assets/report.js: the style sheet and the
 *     script, real files that editors and linters read. At build time
 *     meson runs scripts/embed-asset.py on each, which writes a C file
 *     defining the file's bytes as an array, NUL-terminated, and their
 *     length (declared in wr_report_assets.h); put_head() and put_footer()
 *     write them as they are between <style> and <script> tags. Nothing is
 *     read at run time, and editing an asset rebuilds the binary.
 *
 * Escaping. Text goes through put_html() (UTF-8 checked, invalid bytes
 * replaced, & < > " ' as entities); the JSON blocks are escaped by
 * wr_report_timeline.c; the build refuses an asset that would close its
 * element early.
 *
 * Threads: the runner's main thread only. No locks, no static state. */
#include "report/wr_report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "judge/wr_matrix.h"
#include "judge/wr_judge.h"
#include "report/wr_report_assets.h"
#include "report/wr_report_timeline.h"
#include "report/wr_report_explore.h"
#include "report/wr_report_util.h"

/* What render_html() needs beyond the run: run must stay the first
 * member, the render callback gets a pointer to it. */
typedef struct {
    wr_run_t run;    /* a shallow copy of the run being written */
    const char *dir; /* the run directory: case histories are under it */
} html_job_t;

/* ------------------------------------------------------------------------
 * Text: HTML and URLs
 * ---------------------------------------------------------------------- */

/* Writes s as HTML text or attribute value: invalid UTF-8 and control
 * characters but tab and newline replaced, markup characters escaped. */
static void put_html(FILE *f, const char *s)
{
    while (s != NULL && *s != '\0') {
        long cp;
        size_t n = wr__report_utf8_next(s, &cp);

        switch (cp) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            if (cp < 0 || (cp < 0x20 && cp != '\n' && cp != '\t') || cp == 0x7f)
                fputs(REPLACEMENT, f);
            else
                fwrite(s, 1, n, f);
        }
        s += n;
    }
}

/* Writes a relative path as a URL path: unreserved bytes and '/' as they
 * are, every other byte percent-encoded. */
static void put_url(FILE *f, const char *s)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9') || strchr("-._~/", c) != NULL)
            fputc(c, f);
        else
            fprintf(f, "%%%02X", c);
    }
}

static const char *plural(size_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

/* ------------------------------------------------------------------------
 * Page: header and matrix
 * ---------------------------------------------------------------------- */

static void put_head(FILE *f, const wr_run_t *run)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta "
          "charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, "
          "initial-scale=1\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
          "'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
          "img-src data:\">\n<link rel=\"icon\" "
          "href=\"data:,\">\n<title>wsrace run ",
          f);
    put_html(f, run->id);
    fputs("</title>\n<style>\n", f);
    fwrite(wr__asset_report_css, 1, wr__asset_report_css_len, f);
    fputs("</style>\n</head>\n<body>\n<main>\n", f);
}

static void fact(FILE *f, const char *name, const char *value, bool code)
{
    fprintf(f, "<dt>%s</dt><dd>%s", name, code ? "<code>" : "");
    put_html(f, value);
    fprintf(f, "%s</dd>\n", code ? "</code>" : "");
}

static void put_header(FILE *f, const wr_run_t *run)
{
    size_t unexpected = 0, infra = 0;
    char buf[128];

    for (size_t k = 0; k < run->ncases; k++) {
        unexpected += !run->cases[k].as_expected;
        infra += wr_case_infra_problem(&run->cases[k]);
    }
    fputs("<header class=\"card\">\n<h1>wsrace run <code>", f);
    put_html(f, run->id);
    fputs("</code> ", f);
    if (run->status == WR_STATUS_OK)
        fputs("<span class=\"badge b-ok\" id=\"run-verdict\">every case as "
              "expected</span>",
              f);
    else
        fprintf(f,
                "<span class=\"badge b-bad\" id=\"run-verdict\">%zu "
                "unexpected</span>",
                unexpected);
    fputs("</h1>\n<dl class=\"facts\">\n", f);
    fact(f, "Started",
         wr__report_utc_time(run->started_unix, "%Y-%m-%d %H:%M:%S UTC", buf,
                             sizeof(buf)),
         false);
    fact(f, "Command", run->argv_text[0] ? run->argv_text : "(unknown)", true);
    fact(f, "Target", run->target, true);
    if (run->external)
        fact(f, "Note",
             "external target (--url): no gateway trace, checks that need "
             "one are UNKNOWN",
             false);
    fprintf(f, "<dt>Kind</dt><dd>");
    put_html(f, run->kind[0] ? run->kind : "run");
    if (run->shard_count > 0)
        fprintf(f, ", shard %d of %d (%zu cases planned in all)",
                run->shard_index, run->shard_count, run->planned);
    fprintf(f, ", seed %llu</dd>\n", run->seed);
    fprintf(f, "<dt>Duration</dt><dd>%.3f s</dd>\n",
            wr__report_seconds(run->duration_ns));
    fprintf(f,
            "<dt>Cases</dt><dd id=\"run-totals\">%zu: <span class=\"badge "
            "b-ok\">%zu as expected</span> <span class=\"badge %s\">%zu "
            "unexpected</span>",
            run->ncases, run->ncases - unexpected,
            unexpected ? "b-bad" : "b-ok", unexpected);
    if (infra > 0)
        fprintf(f,
                " <span class=\"badge b-info\">%zu with target problems"
                "</span>",
                infra);
    fprintf(f, "</dd>\n<dt>Result</dt><dd>%s (%s)", wr_status_name(run->status),
            wr_status_meaning(run->status));
    fputs("</dd>\n</dl>\n</header>\n", f);
}

static const char *kind_class(wr_cell_kind_t k)
{
    switch (k) {
    case WR_CELL_NOT_RUN:
        return "k-notrun";
    case WR_CELL_CLEAN:
        return "k-clean";
    case WR_CELL_DETECTED:
        return "k-detected";
    case WR_CELL_MISSED:
        return "k-missed";
    case WR_CELL_FALSE_ALARM:
        return "k-false";
    case WR_CELL_ALLOWED:
        return "k-allowed";
    case WR_CELL_UNKNOWN:
        return "k-unknown";
    default:
        return "k-error";
    }
}

/* A column (scenario s, check k) where nothing happened in any row. */
static bool column_clean(const wr_matrix_t *m, size_t s, int k)
{
    for (size_t r = 0; r < m->nrows; r++) {
        wr_cell_kind_t kind = wr_matrix_cell(m, r, s, k)->kind;

        if (kind != WR_CELL_CLEAN && kind != WR_CELL_NOT_RUN)
            return false;
    }
    return true;
}

static size_t column_count(const wr_matrix_t *m, size_t s, bool clean)
{
    size_t n = 0;

    for (int k = 0; k < WSR_CHECK__COUNT; k++)
        n += (m->checks[s] & BIT(k)) && (!clean || column_clean(m, s, k));
    return n;
}

static void matrix_head(FILE *f, const wr_matrix_t *m, bool hide)
{
    fputs("<thead><tr><th class=\"rowh\" rowspan=\"2\">inject set</th>", f);
    for (size_t s = 0; s < m->nscenarios; s++) {
        size_t cols = column_count(m, s, false);
        size_t clean = column_count(m, s, true);
        size_t span = hide ? cols - clean : cols;

        if (cols == 0)
            continue;
        fprintf(f,
                "<th class=\"sc%s\" data-cols=\"%zu\" data-clean=\"%zu\" "
                "colspan=\"%zu\">",
                span == 0 ? " hidden" : "", cols, clean, span ? span : 1);
        put_html(f, m->scenarios[s] && m->scenarios[s]->name
                        ? m->scenarios[s]->name
                        : "(none)");
        fputs("</th>", f);
    }
    fputs("</tr>\n<tr>", f);
    for (size_t s = 0; s < m->nscenarios; s++)
        for (int k = 0; k < WSR_CHECK__COUNT; k++) {
            const char *name = wsr_check_name((wsr_check_id_t)k);

            if (!(m->checks[s] & BIT(k)))
                continue;
            fprintf(f, "<th class=\"ck%s\" title=\"%s\">",
                    column_clean(m, s, k) ? " col-clean" : "", name);
            for (const char *p = name; *p; p++)
                fputc(*p == '_' ? ' ' : *p, f);
            fputs("</th>", f);
        }
    fputs("</tr></thead>\n", f);
}

static void matrix_row(FILE *f, const wr_matrix_t *m, size_t r)
{
    fputs("<tr><th class=\"rowh\" title=\"", f);
    put_html(f, m->rows[r].inject[0] ? m->rows[r].inject : "nothing injected");
    fputs("\">", f);
    put_html(f, m->rows[r].label);
    fputs("</th>", f);
    for (size_t s = 0; s < m->nscenarios; s++)
        for (int k = 0; k < WSR_CHECK__COUNT; k++) {
            const wr_cell_t *c;
            char text[64];

            if (!(m->checks[s] & BIT(k)))
                continue;
            c = wr_matrix_cell(m, r, s, k);
            fprintf(
                f,
                "<td class=\"cell %s%s\" data-kind=\"%s\" "
                "data-check=\"%s\" data-expected=\"%s\" title=\"",
                kind_class(c->kind), column_clean(m, s, k) ? " col-clean" : "",
                wr_cell_kind_name(c->kind), wsr_check_name((wsr_check_id_t)k),
                wr_expect_name(c->expected));
            put_html(f, m->rows[r].label);
            fputs(" \xc2\xb7 ", f);
            put_html(f, m->scenarios[s] && m->scenarios[s]->name
                            ? m->scenarios[s]->name
                            : "(none)");
            fprintf(f, " \xc2\xb7 %s: expected %s, %d run(s), %d FAIL\">",
                    wsr_check_name((wsr_check_id_t)k),
                    wr_expect_name(c->expected), c->runs, c->fails);
            put_html(f, wr_cell_text(c, text, sizeof(text)));
            fputs("</td>", f);
        }
    fputs("</tr>\n", f);
}

static void matrix_legend(FILE *f)
{
    fputs("<div class=\"legend\">"
          "<span><i class=\"sw k-detected\"></i>DETECTED: the fault was "
          "caught on every seed</span>"
          "<span><i class=\"sw k-clean\"></i>clean</span>"
          "<span><i class=\"sw k-missed\"></i>MISSED / FALSE ALARM</span>"
          "<span><i class=\"sw k-allowed\"></i>allowed (side effect)</span>"
          "<span><i class=\"sw k-error\"></i>ERROR / UNKNOWN</span>"
          "<span class=\"muted\">- : the check did not run</span></div>\n",
          f);
}

static void matrix_notes(FILE *f, const wr_matrix_t *m)
{
    for (size_t r = 0; r < m->nrows; r++)
        for (size_t s = 0; s < m->nscenarios; s++) {
            int n =
                m->missed_cases ? m->missed_cases[r * m->nscenarios + s] : 0;

            if (n <= 0)
                continue;
            fputs("<p class=\"note\">", f);
            put_html(f, m->rows[r].label);
            fputs(" \xc2\xb7 ", f);
            put_html(f, m->scenarios[s] ? m->scenarios[s]->name : "(none)");
            fprintf(f,
                    ": %d %s required to fail one of several checks failed "
                    "none (MISSED).</p>\n",
                    n, plural((size_t)n, "case", "cases"));
        }
}

static void baseline_list(FILE *f, const char *title,
                          const wr_matrix_change_t *v, size_t n)
{
    if (n == 0)
        return;
    fprintf(f, "<h3>%s (%zu)</h3>\n<ul>\n", title, n);
    for (size_t i = 0; i < n; i++) {
        fputs("<li><code>", f);
        put_html(f, v[i].row);
        fputs(" \xc2\xb7 ", f);
        put_html(f, v[i].scenario);
        fputs(" \xc2\xb7 ", f);
        put_html(f, v[i].check);
        fputs("</code>: ", f);
        put_html(f, v[i].was);
        fputs(" \xe2\x86\x92 ", f);
        put_html(f, v[i].now);
        fputs("</li>\n", f);
    }
    fputs("</ul>\n", f);
}

static void put_baseline(FILE *f, const wr_matrix_diff_t *d)
{
    fputs("<h3>Compared with the baseline <code>", f);
    put_html(f, d->path);
    fputs("</code></h3>\n", f);
    if (d->nregressions + d->nimprovements + d->nchanges == 0)
        fputs("<p>No cell changed.</p>\n", f);
    baseline_list(f, "Regressions", d->regressions, d->nregressions);
    baseline_list(f, "Improvements", d->improvements, d->nimprovements);
    baseline_list(f, "Other changes", d->changes, d->nchanges);
}

static void put_matrix(FILE *f, const wr_run_t *run)
{
    const wr_matrix_t *m = run->matrix;
    size_t cols = 0;
    bool hide;

    if (m == NULL)
        return;
    for (size_t s = 0; s < m->nscenarios; s++)
        cols += column_count(m, s, false);
    hide = cols > 24;
    fputs("<section id=\"matrix\">\n<h2>Reproduction matrix</h2>\n", f);
    fprintf(f,
            "<p class=\"muted\">Rows: what was injected. Columns: scenario "
            "\xc3\x97 check, over up to %d seed(s) each. %d missed, %d false "
            "alarm(s), %d error(s).</p>\n",
            m->seeds, m->missed, m->false_alarms, m->errors);
    matrix_legend(f);
    fprintf(f,
            "<div class=\"filters\"><label><input type=\"checkbox\" "
            "id=\"mx-hide-clean\"%s> hide columns that are clean in every "
            "row</label></div>\n",
            hide ? " checked" : "");
    fprintf(f, "<div class=\"mx-wrap\"><table class=\"mx%s\">\n",
            hide ? " hide-clean" : "");
    matrix_head(f, m, hide);
    fputs("<tbody>\n", f);
    for (size_t r = 0; r < m->nrows; r++)
        matrix_row(f, m, r);
    fputs("</tbody></table></div>\n", f);
    matrix_notes(f, m);
    if (run->baseline != NULL)
        put_baseline(f, run->baseline);
    fputs("</section>\n", f);
}

/* ------------------------------------------------------------------------
 * Page: cases
 * ---------------------------------------------------------------------- */

static void put_case_summary(FILE *f, const wr_case_t *c)
{
    unsigned fail = wr_case_verdicts(c, WR_FAIL);
    unsigned unk = wr_case_verdicts(c, WR_UNKNOWN);

    fputs("<summary>", f);
    if (wr_case_infra_problem(c))
        fprintf(f, "<span class=\"badge b-info\">target %s</span>",
                wr_target_state_name(c->target_state));
    fprintf(f, "<span class=\"badge %s\">%s</span> <code class=\"case-id\">",
            c->as_expected ? "b-ok" : "b-bad",
            c->as_expected ? "as expected" : "UNEXPECTED");
    put_html(f, c->id);
    fputs("</code><span class=\"muted\">", f);
    put_html(f, wr__report_scenario_name(c));
    fputs(" \xc2\xb7 inject ", f);
    put_html(f, wr__report_inject_name(c));
    fprintf(f, " \xc2\xb7 seed %llu</span>", c->seed);
    for (int k = 0; k < WSR_CHECK__COUNT; k++)
        if ((fail | unk) & BIT(k))
            fprintf(f, " <span class=\"badge %s\">%s %s</span>",
                    fail & BIT(k)
                        ? (wr_judge_check_ok(c, k) ? "b-warn" : "b-bad")
                        : "b-info",
                    wsr_check_name((wsr_check_id_t)k),
                    fail & BIT(k) ? "FAIL" : "UNKNOWN");
    fputs("</summary>\n", f);
}

static void put_case_facts(FILE *f, const wr_case_t *c, const char *dir)
{
    fputs("<dl class=\"facts\">\n", f);
    fprintf(f, "<dt>Target</dt><dd>%s, exit code %d",
            wr_target_state_name(c->target_state), c->target_exit_code);
    if (c->target_signal)
        fprintf(f, ", signal %d", c->target_signal);
    if (c->target_error[0]) {
        fputs(": ", f);
        put_html(f, c->target_error);
    }
    fputs("</dd>\n", f);
    if (c->topology[0]) {
        fputs("<dt>Topology</dt><dd>", f);
        put_html(f, c->topology);
        fputs("</dd>\n", f);
    }
    fprintf(f,
            "<dt>Clients</dt><dd>%d, %d established, %d step(s) "
            "failed</dd>\n",
            c->clients, c->established, c->steps_failed);
    fprintf(f, "<dt>Duration</dt><dd>%.3f s (gateway up in %.1f ms)",
            wr__report_seconds(c->duration_ns),
            c->gateway_up_ns > 0 ? (double)c->gateway_up_ns / 1e6 : 0.0);
    if (c->first_fail_ns >= 0)
        fprintf(f, "; first failing event %.3f ms after the gateway was up",
                (double)c->first_fail_ns / 1e6);
    fputs("</dd>\n<dt>Files</dt><dd>", f);
    static const char *const files[] = {"history.jsonl", "trace.jsonl",
                                        "gateway.log"};
    for (size_t i = 0; i < 3; i++) {
        fputs(i ? " \xc2\xb7 <a href=\"" : "<a href=\"", f);
        put_url(f, dir);
        fprintf(f, "/%s\">%s</a>", files[i], files[i]);
    }
    fputs("</dd>\n</dl>\n", f);
}

static void put_checks(FILE *f, const wr_case_t *c)
{
    fputs("<table class=\"grid checks\"><thead><tr><th>check</th>"
          "<th>verdict</th><th>expected</th><th></th><th>summary</th>"
          "</tr></thead><tbody>\n",
          f);
    for (int k = 0; k < WSR_CHECK__COUNT; k++) {
        const wr_check_result_t *r = &c->results[k];
        bool ok = wr_judge_check_ok(c, k);

        if (!c->ran[k])
            continue;
        fprintf(f,
                "<tr data-check=\"%s\"><td><code>%s</code></td>"
                "<td class=\"v-%s\">%s</td><td>%s%s</td><td>%s</td><td>",
                wsr_check_name((wsr_check_id_t)k),
                wsr_check_name((wsr_check_id_t)k), wr_verdict_name(r->verdict),
                wr_verdict_name(r->verdict), wr_expect_name(c->expected[k]),
                c->need_one & BIT(k) ? " (one of)" : "",
                ok ? "<span class=\"badge b-ok\">ok</span>"
                   : "<span class=\"badge b-bad\">unexpected</span>");
        put_html(f, r->summary[0] ? r->summary : "");
        if (r->violations > 1)
            fprintf(f, " <span class=\"muted\">(%zu violations)</span>",
                    r->violations);
        fputs("</td></tr>\n", f);
    }
    fputs("</tbody></table>\n", f);
}

/* The evidence of each FAIL, highlighted rows that focus the timeline. */
static void put_evidence(FILE *f, const wr_case_t *c, int64_t t0)
{
    for (int k = 0; k < WSR_CHECK__COUNT; k++) {
        const wr_check_result_t *r = &c->results[k];

        if (!c->ran[k] || r->verdict != WR_FAIL || wr__report_nevidence(r) == 0)
            continue;
        fprintf(f,
                "<h4>Evidence: <code>%s</code> FAIL (expected %s)</h4>\n"
                "<table class=\"grid evidence\" data-check=\"%s\"><thead><tr>"
                "<th>seq</th><th>t ms</th><th>src</th><th>event</th>"
                "<th>key</th><th>line</th></tr></thead><tbody>\n",
                wsr_check_name((wsr_check_id_t)k),
                wr_expect_name(c->expected[k]),
                wsr_check_name((wsr_check_id_t)k));
        for (size_t j = 0; j < wr__report_nevidence(r); j++) {
            const wr_event_t *e = r->evidence[j];

            if (e == NULL)
                continue;
            fprintf(f,
                    "<tr class=\"ev\" data-t=\"%" PRId64 "\" title=\"click: "
                    "show on the timeline\"><td>",
                    e->ns - t0);
            if (e->seq != 0)
                fprintf(f, "%" PRIu64, e->seq);
            else
                fputs("-", f);
            fprintf(f, "</td><td>%.3f</td><td>%s</td><td><code>",
                    (double)(e->ns - t0) / 1e6, wr__report_src_name(e->src));
            put_html(f, e->event ? e->event : "?");
            fputs("</code></td><td><code>", f);
            put_html(f, e->key ? e->key : "-");
            fputs("</code></td><td class=\"line\">", f);
            put_html(f, e->line ? e->line : "");
            fputs("</td></tr>\n", f);
        }
        fputs("</tbody></table>\n", f);
    }
}

static void put_replay(FILE *f, const wr_case_t *c)
{
    fputs("<h4>Replay</h4>\n<div class=\"replay\"><code>", f);
    put_html(f, c->replay[0] ? c->replay : "# no replay command");
    fputs("</code><button type=\"button\" class=\"copy\">copy</button>"
          "</div>\n",
          f);
}

static void put_case_open(FILE *f, const wr_case_t *c)
{
    fprintf(f, "<details class=\"case%s\" id=\"case-",
            c->as_expected ? "" : " unexpected");
    put_html(f, c->id);
    fputs("\" data-case=\"", f);
    put_html(f, c->id);
    fprintf(f, "\" data-unexpected=\"%d\" data-fail=\"%d\">\n", !c->as_expected,
            wr_case_verdicts(c, WR_FAIL) != 0);
}

/* One case: summary line, facts, checks, evidence, replay, timeline.
 * *budget is what the page may still embed of events. */
static int put_case(FILE *f, const html_job_t *job, size_t index,
                    size_t *budget)
{
    const wr_case_t *c = &job->run.cases[index];
    char dbuf[600];
    const char *cdir = wr__report_case_dir(c, dbuf, sizeof(dbuf));
    wr_timeline_t *tl;
    int rc = wr__report_timeline_build(job->dir, cdir, c, budget, &tl);

    if (rc < 0)
        return rc;
    put_case_open(f, c);
    put_case_summary(f, c);
    fputs("<div class=\"case-body\">\n", f);
    put_case_facts(f, c, cdir);
    put_checks(f, c);
    put_evidence(f, c, wr__report_timeline_t0(tl, c));
    put_replay(f, c);
    rc = wr__report_timeline_write(f, tl, index);
    fputs("</div>\n</details>\n", f);
    wr__report_timeline_free(tl);
    return rc;
}

static void put_legend(FILE *f)
{
    fputs("<div class=\"legend\">Timeline marks: "
          "<span><i class=\"sw\" style=\"background:#2563eb\"></i>machine "
          "transition</span>"
          "<span><i class=\"sw\" style=\"background:#7c3aed\"></i>coordinator "
          "phase</span>"
          "<span><i class=\"sw\" style=\"background:#ea580c\"></i>registry / "
          "swap</span>"
          "<span><i class=\"sw\" style=\"background:#16a34a\"></i>send / "
          "message</span>"
          "<span><i class=\"sw\" style=\"background:#0d9488\"></i>receive / "
          "welcome</span>"
          "<span><i class=\"sw\" style=\"background:#374151\"></i>close</span>"
          "<span><i class=\"sw\" style=\"background:#dc2626\"></i>failure"
          "</span>"
          "<span><i class=\"sw\" style=\"background:#6b7280\"></i>harness / "
          "gateway</span>"
          "<span><i class=\"sw\" style=\"border:2px solid #dc2626;"
          "border-radius:50%\"></i>evidence of a FAIL</span>"
          "<span>lane background: machine state (grey: connecting or "
          "closing, blue: accepted/authenticated, yellow: services ready, "
          "green: ready, processing or idle; none once closed)</span>"
          "</div>\n",
          f);
}

static int put_cases(FILE *f, const html_job_t *job)
{
    const wr_run_t *run = &job->run;
    size_t budget = WR_TIMELINE_PAGE_EVENTS;
    size_t unexpected = 0;
    int rc = 0;

    for (size_t k = 0; k < run->ncases; k++)
        unexpected += !run->cases[k].as_expected;
    fputs("<section id=\"cases\">\n<h2>Cases</h2>\n", f);
    fprintf(f,
            "<div class=\"filters\"><label><input type=\"checkbox\" "
            "id=\"only-unexpected\"%s> only unexpected cases</label>"
            "<label><input type=\"checkbox\" id=\"only-fail\"> only cases "
            "with a FAIL</label><span class=\"muted\" id=\"case-count\">"
            "</span></div>\n",
            unexpected > 0 && run->ncases > 20 ? " checked" : "");
    put_legend(f);
    if (run->ncases == 0)
        fputs("<p>No cases ran.</p>\n", f);
    for (size_t k = 0; rc == 0 && k < run->ncases; k++)
        rc = put_case(f, job, k, &budget);
    fputs("</section>\n", f);
    return rc;
}

static void put_footer(FILE *f)
{
    fputs("<footer>Written by wsrace. Every file of the run is next to "
          "this page: summary.json, junit.xml, report.md and "
          "cases/&lt;id&gt;/.</footer>\n</main>\n<script>\n",
          f);
    fwrite(wr__asset_report_js, 1, wr__asset_report_js_len, f);
    fputs("</script>\n</body>\n</html>\n", f);
}

static int render_html(const wr_run_t *run, FILE *out)
{
    /* run is the first member of the job wr_report_write_html() made. */
    const html_job_t *job = (const html_job_t *)run;
    int rc;

    static const wr_report_html_fns_t fns = {put_html, put_url};

    put_head(out, run);
    put_header(out, run);
    if (run->explored != NULL)
        wr__report_html_explore(out, run, &fns);
    else
        put_matrix(out, run);
    rc = put_cases(out, job);
    put_footer(out);
    return rc;
}

int wr_report_write_html(const wr_run_t *run, const char *dir)
{
    html_job_t *job = malloc(sizeof(*job));
    int rc;

    if (job == NULL)
        return -ENOMEM;
    job->run = *run;
    job->dir = dir;
    rc = wr__report_write_file(dir, "index.html", render_html, &job->run);
    free(job);
    return rc;
}
