/* wr_report_md.c - report.md: the run for people, with a verdict per
 * bug it set out to reproduce and the evidence that decides it.
 *
 * A fault is "confirmed" when, in every case whose scenario exposes it and
 * that injected it, every check of its `detects` set ran and said FAIL; it
 * is "absent" when those checks said PASS in every case of such scenarios
 * run with nothing injected.
 *
 * Text from outside goes through put_md(), which keeps each piece on its
 * line, inside its table cell or code span, and replaces invalid UTF-8.
 *
 * About 1,000 lines, and one unit: the sections of one document, in the
 * order a reader meets them, over one escaping rule; the exploration's
 * sections are in wr_report_explore.c.
 *
 * Threads: the runner's main thread only. No locks, no static state. */
#include "report/wr_report.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "judge/wr_judge.h"
#include "judge/wr_matrix.h"
#include "report/wr_report_explore.h"
#include "report/wr_report_util.h"

/* ------------------------------------------------------------------------
 * Text: Markdown escaping
 * ---------------------------------------------------------------------- */

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
        size_t n = wr__report_utf8_next(s, &cp);

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

/* ------------------------------------------------------------------------
 * Faults: confirmed and absent
 * ---------------------------------------------------------------------- */

/* How many cases are in f's group (*in) and how many of them confirm it
 * (*ok). */
static void group_counts(const wr_run_t *run, wsr_fault_id_t f, size_t *in,
                         size_t *ok)
{
    *in = *ok = 0;
    for (size_t k = 0; k < run->ncases; k++) {
        if (!wr_judge_targeted(f, &run->cases[k]))
            continue;
        (*in)++;
        *ok += wr_judge_confirmed(f, &run->cases[k]);
    }
}

/* The case injected something its scenario does not expose. */
static bool injected_unexposed(const wr_case_t *c)
{
    if (c->faults.mask == 0)
        return false;
    for (int i = 0; i < WSR_FAULT__COUNT; i++)
        if (wr_judge_targeted((wsr_fault_id_t)i, c))
            return false;
    return true;
}

/* ------------------------------------------------------------------------
 * report.md
 * ---------------------------------------------------------------------- */

static const char *plural(size_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
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
/* A tool error: its kind, what it says and its stack, frame by frame. */
static void tool_fields(FILE *f, const wr_event_t *e)
{
    char *line = wr_event_line(e);
    json_t *o = line ? json_loads(line, 0, NULL) : NULL, *frames, *v;
    size_t n = 0, i;

    free(line);
    field_s(f, &n, "tool", json_string_value(json_object_get(o, "tool")));
    field_s(f, &n, "kind", json_string_value(json_object_get(o, "kind")));
    field_s(f, &n, "what", json_string_value(json_object_get(o, "what")));
    frames = json_object_get(o, "frames");
    json_array_foreach(frames, i, v)
    {
        if (i == 6)
            break;
        fprintf(f, "\n        %s %s", i ? "  by" : "  at",
                json_string_value(v) ? json_string_value(v) : "?");
    }
    json_decref(o);
}

static void event_fields(FILE *f, const wr_event_t *e)
{
    size_t n = 0, ids;

    if (e->event != NULL && strcmp(e->event, "tool.error") == 0) {
        tool_fields(f, e);
        return;
    }

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
    if (n == ids) {
        char *line = wr_event_line(e);

        if (line != NULL)
            other_fields(f, &n, line);
        free(line);
    }
}

/* The evidence of r as a fenced block: seq, ms since the case's first
 * event, source, event, key, fields. */
static int md_evidence(FILE *f, const wr_case_t *c, const wr_check_result_t *r)
{
    int64_t t0 = wr__report_case_t0(c);
    char *buf = NULL;
    size_t len = 0;
    FILE *b = open_memstream(&buf, &len);

    if (b == NULL)
        return -ENOMEM;
    fprintf(b, "%6s %10s  %-7s  %-22s %-16s %s\n", "seq", "t ms", "src",
            "event", "key", "fields");
    for (size_t k = 0; k < wr__report_nevidence(r); k++) {
        const wr_event_t *e = r->evidence[k];
        char seq[24];

        if (e == NULL)
            continue;
        if (e->seq != 0)
            snprintf(seq, sizeof(seq), "%" PRIu64, e->seq);
        else
            snprintf(seq, sizeof(seq), "-");
        fprintf(b, "%6s %10.3f  %-7s  %-22s %-16s ", seq,
                (double)(e->ns - t0) / 1e6, wr__report_src_name(e->src),
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
    md_code(f, wsr_check_name((wsr_check_id_t)i), false);
    fprintf(f, ": %s (expected %s", wr_verdict_name(r->verdict),
            wr_expect_name(c->expected[i]));
    if (r->violations > 1)
        fprintf(f, "; %zu violations", r->violations);
    fputs("). ", f);
    put_md(f, r->summary[0] ? r->summary : "No summary.", MD_TEXT);
    fputs("\n\n", f);
    if (wr__report_nevidence(r) == 0)
        return 0;
    return md_evidence(f, c, r);
}

static void md_replay(FILE *f, const wr_case_t *c)
{
    if (c->topology[0] != '\0') {
        fputs("Topology: ", f);
        put_md(f, c->topology, MD_TEXT);
        fputs(" (`replay.json` lists every process).\n\n", f);
    }
    fputs("Replay:\n\n", f);
    md_fenced(f, "sh", c->replay[0] ? c->replay : "# no replay command");
}

/* The case id as a link to its directory (when the path needs no
 * escaping), for a table cell or running text. */
static void md_case_link(FILE *f, const wr_case_t *c, bool cell)
{
    char dbuf[256];
    const char *dir = wr__report_case_dir(c, dbuf, sizeof(dbuf));
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

    for (int i = 0; i < WSR_CHECK__COUNT; i++) {
        if (!(mask & BIT(i)))
            continue;
        fputs(n++ ? ", " : "", f);
        md_code(f, wsr_check_name((wsr_check_id_t)i), cell);
    }
    if (n == 0)
        fputs(none, f);
}

/* Verdicts other than PASS of the case's checks, for a table cell. */
static void md_failed_cell(FILE *f, const wr_case_t *c)
{
    unsigned fail = wr_case_verdicts(c, WR_FAIL);
    unsigned unk = wr_case_verdicts(c, WR_UNKNOWN);

    md_checks(f, fail, true, unk ? "" : "none");
    if (unk) {
        fputs(fail ? "; UNKNOWN: " : "UNKNOWN: ", f);
        md_checks(f, unk, true, "");
    }
    if (c->early_end && c->early_check >= 0)
        fprintf(f, " (ended %.1f ms after the gateway was up, on %s%s)",
                (double)c->early_ns / 1e6,
                wsr_check_name((wsr_check_id_t)c->early_check),
                c->early_confirmed ? "" : ", not confirmed by the whole case");
}

static void md_as_expected_cell(FILE *f, const wr_case_t *c)
{
    if (wr_case_infra_problem(c)) {
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

    for (int i = 0; rc == 0 && i < WSR_CHECK__COUNT; i++) {
        if (!c->ran[i] || (skip & BIT(i)) || wr_judge_check_ok(c, i))
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
    char when[32];

    wr__report_utc_time(run->started_unix, "%Y-%m-%d %H:%M:%S UTC", when,
                        sizeof(when));
    fputs(run->explored == NULL ? "# wsrace reproduction report: run "
          : strcmp(run->kind, "shrink") == 0 ? "# wsrace shrink report: run "
                                             : "# wsrace exploration report: "
                                               "run ",
          f);
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
            wr__report_seconds(run->duration_ns));
    fprintf(f, "- Result: %s (%s)", wr_status_name(run->status),
            wr_status_meaning(run->status));
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

    for (int i = 0; i < WSR_FAULT__COUNT; i++) {
        size_t in, ok;

        group_counts(run, (wsr_fault_id_t)i, &in, &ok);
        groups += in > 0;
        confirmed += in > 0 && ok == in;
    }
    for (size_t k = 0; k < run->ncases; k++) {
        const wr_case_t *c = &run->cases[k];

        unexpected += !c->as_expected;
        infra += wr_case_infra_problem(c);
        controls += c->faults.mask == 0;
        controls_ok += c->faults.mask == 0 && c->as_expected;
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
        for (int i = 0; i < WSR_FAULT__COUNT; i++) {
            size_t in, ok;

            group_counts(run, (wsr_fault_id_t)i, &in, &ok);
            if (in > 0 && ok < in) {
                fputs(n++ ? ", " : " (not confirmed: ", f);
                md_code(f, wsr_fault_name((wsr_fault_id_t)i), false);
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

/* The reproduction matrix: one table per inject set, a line per scenario,
 * a column per check. */
static void md_matrix(FILE *f, const wr_run_t *run)
{
    const wr_matrix_t *m = run->matrix;
    char text[64];

    if (m == NULL || m->nrows == 0)
        return;
    fprintf(f,
            "## Matrix\n\n"
            "%d seed(s) per cell: %d missed, %d false alarm(s), %d "
            "error(s). DETECTED: the check a fault must trip failed on "
            "every seed; MISSED: it passed on some seed; FALSE ALARM: a "
            "check failed that nothing injected explains; allowed: a known "
            "side effect, or a fault the scenario does not promise to "
            "expose, fired; clean: no FAIL; -: not run.\n\n",
            m->seeds, m->missed, m->false_alarms, m->errors);
    for (size_t r = 0; r < m->nrows; r++) {
        fputs("### injected: ", f);
        put_md(f, m->rows[r].label, MD_TEXT);
        fputs("\n\n| scenario |", f);
        for (int k = 0; k < WSR_CHECK__COUNT; k++)
            fprintf(f, " %s |", wsr_check_name((wsr_check_id_t)k));
        fputs("\n|---|", f);
        for (int k = 0; k < WSR_CHECK__COUNT; k++)
            fputs("---|", f);
        fputs("\n", f);
        for (size_t s = 0; s < m->nscenarios; s++) {
            int missed = m->missed_cases[r * m->nscenarios + s];

            fputs("| ", f);
            put_md(f, m->scenarios[s]->name, MD_CELL);
            if (missed)
                fprintf(f,
                        " (MISSED in %d case(s): no injected fault "
                        "detected)",
                        missed);
            fputs(" |", f);
            for (int k = 0; k < WSR_CHECK__COUNT; k++) {
                const wr_cell_t *c = wr_matrix_cell(m, r, s, k);
                bool loud = c->kind != WR_CELL_CLEAN &&
                            c->kind != WR_CELL_NOT_RUN &&
                            c->kind != WR_CELL_ALLOWED;

                fprintf(f, " %s%s%s |", loud ? "**" : "",
                        wr_cell_text(c, text, sizeof(text)), loud ? "**" : "");
            }
            fputs("\n", f);
        }
        fputs("\n", f);
    }
    if (run->baseline != NULL) {
        const wr_matrix_diff_t *d = run->baseline;

        fputs("### Against the baseline ", f);
        md_code(f, d->path, false);
        fprintf(f,
                "\n\n%zu regression(s), %zu improvement(s), %zu other "
                "change(s).\n\n",
                d->nregressions, d->nimprovements, d->nchanges);
        wr_matrix_diff_print(d, f, "- ", 0);
        fputs("\n", f);
    }
}

#define CASE_TABLE_MAX 100 /* beyond this, only unexpected cases are listed */

static void md_case_table(FILE *f, const wr_run_t *run)
{
    bool all = run->ncases <= CASE_TABLE_MAX;

    fputs("## Cases\n\n", f);
    if (!all)
        fprintf(f,
                "%zu cases: only those not as expected are listed here; "
                "`summary.json` and `index.html` have them all.\n\n",
                run->ncases);
    fputs("| case | scenario | injected | checks that failed | as "
          "expected |\n"
          "|---|---|---|---|---|\n",
          f);
    for (size_t k = 0; k < run->ncases; k++) {
        const wr_case_t *c = &run->cases[k];

        if (!all && c->as_expected)
            continue;
        fputs("| ", f);
        md_case_link(f, c, true);
        fputs(" | ", f);
        put_md(f, wr__report_scenario_name(c), MD_CELL);
        fputs(" | ", f);
        put_md(f, wr__report_inject_name(c), MD_CELL);
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
static int md_bug(FILE *f, const wr_run_t *run, wsr_fault_id_t fid)
{
    const wsr_fault_info_t *ft = wsr_fault_info(fid);
    size_t in = 0, ok = 0, controls = 0, absent = 0, routine = 0;
    int64_t fail_min = -1, fail_max = -1;
    const wr_case_t *shown = NULL;
    unsigned side_failed = 0;
    int rc = 0;

    for (size_t k = 0; k < run->ncases; k++) {
        const wr_case_t *c = &run->cases[k];

        if (wr_judge_targeted(fid, c)) {
            in++;
            ok += wr_judge_confirmed(fid, c);
            if (shown == NULL ||
                (!wr_judge_confirmed(fid, shown) && wr_judge_confirmed(fid, c)))
                shown = c;
        } else if (wr_judge_control(fid, c)) {
            controls++;
            absent += wr_judge_absent(fid, c);
        }
    }
    if (in == 0)
        return 0;

    fputs("## Bug: ", f);
    put_md(f, ft->name, MD_TEXT);
    if (ft->origin != NULL)
        fprintf(f, " (%s of the original report)\n\n", ft->origin);
    else
        fputs(" (not in the original report)\n\n", f);
    fputs("What it is: ", f);
    put_md(f, ft->summary, MD_TEXT);
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

        if (!wr_judge_targeted(fid, c))
            continue;
        side_failed |= wr_case_verdicts(c, WR_FAIL) & ft->side_effects;
        if (c->first_fail_ns >= 0 && wr_judge_confirmed(fid, c)) {
            fail_min = fail_min < 0 || c->first_fail_ns < fail_min
                           ? c->first_fail_ns
                           : fail_min;
            fail_max =
                c->first_fail_ns > fail_max ? c->first_fail_ns : fail_max;
        }
        /* Many repeats that all went as designed say no more than the
         * first few: list those, and every case that did not. */
        if (wr_judge_confirmed(fid, c) && c->as_expected && c != shown &&
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
    for (int i = 0; rc == 0 && i < WSR_CHECK__COUNT; i++)
        if (shown->ran[i] && (ft->detects & BIT(i)))
            rc = md_check(f, shown, i);
    if ((ft->detects & wr_case_ran(shown)) == 0)
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

        if (wr_judge_targeted(fid, c))
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
    for (int i = 0; i < WSR_CHECK__COUNT; i++) {
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
        md_code(f, wsr_check_name((wsr_check_id_t)i), true);
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
            "catch: the checks that detect it may fail (not required), "
            "every other check must PASS.\n\n",
            n, plural(n, "case", "cases"), plural(n, "its", "their"));
    md_check_table(f, run, injected_unexposed, "not triggered");
    for (size_t k = 0; rc == 0 && k < run->ncases; k++)
        if (injected_unexposed(&run->cases[k]))
            rc = md_unexpected(f, &run->cases[k], 0, false);
    return rc;
}

#define TOOL_CASES_MAX 20 /* cases whose tool findings are spelled out */

/* What valgrind or a sanitizer found: each failing memory_safety or
 * data_race verdict with its errors and their stacks. */
static int md_tool(FILE *f, const wr_run_t *run)
{
    size_t n = 0;
    int rc = 0;

    for (size_t k = 0; rc == 0 && k < run->ncases; k++) {
        const wr_case_t *c = &run->cases[k];

        for (int i = WSR_CHECK_MEMORY_SAFETY; rc == 0 && i <= WSR_CHECK_DATA_RACE;
             i++) {
            if (!c->ran[i] || c->results[i].verdict != WR_FAIL)
                continue;
            if (n++ == 0)
                fprintf(f, "## Found by %s\n\n",
                        run->tool[0] ? run->tool : "the analysis tool");
            if (n > TOOL_CASES_MAX)
                continue;
            fputs("Case ", f);
            md_case_link(f, c, false);
            fputs(":\n\n", f);
            rc = md_check(f, c, i);
        }
    }
    if (n > TOOL_CASES_MAX)
        fprintf(f, "... and %zu more; `summary.json` has them all.\n\n",
                n - TOOL_CASES_MAX);
    return rc;
}

static void md_infra(FILE *f, const wr_run_t *run)
{
    size_t n = 0;

    for (size_t k = 0; k < run->ncases; k++) {
        const wr_case_t *c = &run->cases[k];

        if (!wr_case_infra_problem(c))
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

/* What the exploration section borrows. */
static void lend_code(FILE *f, const char *s)
{
    md_code(f, s, false);
}

static void lend_link(FILE *f, const wr_case_t *c)
{
    md_case_link(f, c, true);
}

/* Every FAIL of a finding (an exploration judges any FAIL, allowed or
 * not), with its evidence, then its replay. */
static void lend_evidence(FILE *f, const wr_case_t *c)
{
    for (int i = 0; i < WSR_CHECK__COUNT; i++)
        if (c->ran[i] && c->results[i].verdict == WR_FAIL)
            md_check(f, c, i);
    md_replay(f, c);
}

static int render_explore(const wr_run_t *run, FILE *out)
{
    static const wr_report_md_fns_t fns = {lend_code, md_fenced, lend_link,
                                           lend_evidence};

    md_header(out, run);
    wr__report_md_explore(out, run, &fns);
    md_case_table(out, run);
    md_infra(out, run);
    md_footer(out, run);
    return 0;
}

static int render_markdown(const wr_run_t *run, FILE *out)
{
    int rc = 0;

    if (run->explored != NULL)
        return render_explore(run, out);
    md_header(out, run);
    md_verdict(out, run);
    md_matrix(out, run);
    md_case_table(out, run);
    for (int i = 0; rc == 0 && i < WSR_FAULT__COUNT; i++)
        rc = md_bug(out, run, (wsr_fault_id_t)i);
    if (rc == 0)
        rc = md_unexposed(out, run);
    if (rc == 0)
        rc = md_controls(out, run);
    if (rc == 0)
        rc = md_tool(out, run);
    md_infra(out, run);
    md_footer(out, run);
    return rc;
}

int wr_report_write_markdown(const wr_run_t *run, const char *dir)
{
    return wr__report_write_file(dir, "report.md", render_markdown, run);
}
