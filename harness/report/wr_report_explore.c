/* wr_report_explore.c - What an exploration (or a shrink) adds to the
 * reports: what was explored (strategy, budget, iterations, rate,
 * distinct interleavings, per scenario), and every finding with its
 * shrunk case side by side (wr_report_explore.h). The Markdown and HTML
 * writers call these in place of the reproduction matrix when a run has
 * an exploration record. */
#include "report/wr_report_explore.h"

#include <stdio.h>
#include <string.h>

#include "report/wr_report_util.h"

static const char *yes_no(bool b)
{
    return b ? "yes" : "no";
}

/* The case of run called id, or NULL. */
static const wr_case_t *case_named(const wr_run_t *run, const char *id)
{
    for (size_t k = 0; id[0] && k < run->ncases; k++)
        if (strcmp(run->cases[k].id, id) == 0)
            return &run->cases[k];
    return NULL;
}

static double rate(const wr_explored_t *e)
{
    return e->seconds > 0 ? (double)e->iterations / e->seconds : 0;
}

/* ------------------------------------------------------------------ */
/* Markdown                                                             */
/* ------------------------------------------------------------------ */

static void md_size_row(FILE *f, const char *what, int a, int b)
{
    fprintf(f, "| %s | %d | %d |\n", what, a, b);
}

static void md_finding(FILE *f, const wr_run_t *run, const wr_finding_t *fd,
                       size_t k, const wr_report_md_fns_t *md)
{
    const wr_case_t *c = case_named(run, fd->case_id);
    const wr_case_t *s = case_named(run, fd->shrunk_id);

    fprintf(f, "### Finding %zu: ", k + 1);
    md->code(f, fd->case_id);
    fputs(" fails ", f);
    md->code(f, fd->check[0] ? fd->check : "?");
    fputs("\n\n", f);
    if (c != NULL) {
        fprintf(f, "Scenario `%s`, injected %s, seed %llu", c->scenario->name,
                c->inject[0] ? c->inject : "nothing", c->seed);
        if (c->controlled)
            fprintf(f, ", schedule %s (seed %llu, depth %d, %zu "
                       "arrivals)",
                    wr_sched_kind_name(c->sched.kind),
                    (unsigned long long)c->sched.seed, c->sched.depth,
                    c->sched_arrivals);
        fputs(c->chaos.on ? ", client chaos on.\n\n" : ".\n\n", f);
        md->evidence(f, c);
    }
    if (s == NULL) {
        fputs(fd->shrunk_id[0] ? "The shrunk case is not in this run.\n\n"
                               : "Not shrunk (another finding of the same "
                                 "scenario and check was, or shrinking was "
                                 "off or did not reproduce it).\n\n",
              f);
        return;
    }
    fprintf(f,
            "Shrunk in %d runs (%.1f s). The shrunk case failed `%s` in %d "
            "of %d replays.\n\n",
            fd->shrink_runs, fd->shrink_s, fd->check, fd->confirmed,
            fd->confirm_runs);
    fputs("| | original | shrunk |\n|---|---|---|\n| case | ", f);
    if (c != NULL)
        md->case_link(f, c);
    else
        md->code(f, fd->case_id);
    fputs(" | ", f);
    md->case_link(f, s);
    fputs(" |\n", f);
    md_size_row(f, "clients", fd->before.clients, fd->after.clients);
    md_size_row(f, "steps (over every client)", fd->before.steps,
                fd->after.steps);
    md_size_row(f, "scenario sync actions", fd->before.sync, fd->after.sync);
    md_size_row(f, "pinned releases", fd->before.releases,
                fd->after.releases);
    fprintf(f, "| client chaos | %s | %s |\n\n", yes_no(fd->before.chaos),
            yes_no(fd->after.chaos));
    fputs("The shrunk scenario, ready to commit (", f);
    md->code(f, fd->yaml);
    fputs("):\n\n", f);
    md->fenced(f, "yaml", s->scenario->text ? s->scenario->text : "");
    fputs("Replay the shrunk case:\n\n", f);
    md->fenced(f, "sh", s->replay[0] ? s->replay : "# no replay command");
}

void wr__report_md_explore(FILE *f, const wr_run_t *run,
                           const wr_report_md_fns_t *md)
{
    const wr_explored_t *e = run->explored;
    bool shrink = strcmp(run->kind, "shrink") == 0;

    if (e == NULL)
        return;
    if (!shrink) {
        fputs("## Exploration\n\n", f);
        fprintf(f, "- Strategy: %s", e->strategy);
        if (strcmp(e->strategy, "pct") == 0)
            fprintf(f, ", depth %d", e->depth);
        fprintf(f, "; client chaos: %s\n", yes_no(e->chaos));
        fputs("- Budget: ", f);
        if (e->budget_s > 0)
            fprintf(f, "%.0f s", e->budget_s);
        if (e->runs_limit > 0)
            fprintf(f, "%s%ld runs", e->budget_s > 0 ? " or " : "",
                    e->runs_limit);
        fprintf(f, "; first seed %llu", e->first_seed);
        if (run->shard_count > 0)
            fprintf(f, "; shard %d of %d", run->shard_index,
                    run->shard_count);
        fprintf(f,
                "\n- Iterations: %ld in %.1f s (%.1f per second); %ld "
                "scheduled, %ld distinct interleavings\n",
                e->iterations, e->seconds, rate(e), e->schedules,
                e->distinct);
        fprintf(f, "- Ended: %s\n\n",
                e->stopped_early ? "at the first finding"
                                 : "when the budget ran out");
        fputs("| scenario | injected | iterations | findings |\n"
              "|---|---|---|---|\n",
              f);
        for (size_t i = 0; i < e->ncells; i++) {
            fputs("| ", f);
            md->code(f, e->cells[i].scenario);
            fputs(" | ", f);
            md->code(f, e->cells[i].inject[0] ? e->cells[i].inject : "none");
            fprintf(f, " | %ld | %ld |\n", e->cells[i].iterations,
                    e->cells[i].findings);
        }
        fputs("\n", f);
    }
    fputs(shrink ? "## Shrinking\n\n" : "## Findings\n\n", f);
    if (e->nfindings == 0) {
        fputs("No finding: every iteration passed every check it was not "
              "meant to fail.\n\n",
              f);
        return;
    }
    for (size_t k = 0; k < e->nfindings; k++)
        md_finding(f, run, &e->findings[k], k, md);
}

/* ------------------------------------------------------------------ */
/* HTML                                                                 */
/* ------------------------------------------------------------------ */

static void html_size_row(FILE *f, const char *what, int a, int b)
{
    fprintf(f, "<tr><th>%s</th><td>%d</td><td>%d</td></tr>\n", what, a, b);
}

static void html_case_ref(FILE *f, const char *id,
                          const wr_report_html_fns_t *h)
{
    fputs("<a href=\"#case-", f);
    h->text(f, id);
    fputs("\"><code>", f);
    h->text(f, id);
    fputs("</code></a>", f);
}

void wr__report_html_explore(FILE *f, const wr_run_t *run,
                             const wr_report_html_fns_t *h)
{
    const wr_explored_t *e = run->explored;
    bool shrink = strcmp(run->kind, "shrink") == 0;

    if (e == NULL)
        return;
    fputs("<section id=\"explore\">\n", f);
    if (!shrink) {
        fputs("<h2>Exploration</h2>\n<p>", f);
        fprintf(f, "Strategy <b>%s</b>", e->strategy);
        if (strcmp(e->strategy, "pct") == 0)
            fprintf(f, ", depth %d", e->depth);
        fprintf(f, "; client chaos %s; first seed %llu", yes_no(e->chaos),
                e->first_seed);
        if (run->shard_count > 0)
            fprintf(f, "; shard %d of %d", run->shard_index,
                    run->shard_count);
        fprintf(f,
                ".<br>%ld iterations in %.1f s (%.1f per second), %ld "
                "scheduled, %ld distinct interleavings; ended %s.</p>\n",
                e->iterations, e->seconds, rate(e), e->schedules, e->distinct,
                e->stopped_early ? "at the first finding"
                                 : "when the budget ran out");
        fputs("<table class=\"cases\"><thead><tr><th>scenario</th>"
              "<th>injected</th><th>iterations</th><th>findings</th></tr>"
              "</thead><tbody>\n",
              f);
        for (size_t i = 0; i < e->ncells; i++) {
            fputs("<tr><td><code>", f);
            h->text(f, e->cells[i].scenario);
            fputs("</code></td><td>", f);
            h->text(f, e->cells[i].inject[0] ? e->cells[i].inject : "none");
            fprintf(f, "</td><td>%ld</td><td>%ld</td></tr>\n",
                    e->cells[i].iterations, e->cells[i].findings);
        }
        fputs("</tbody></table>\n", f);
    }
    fprintf(f, "<h2>%s</h2>\n", shrink ? "Shrinking" : "Findings");
    if (e->nfindings == 0)
        fputs("<p>No finding: every iteration passed every check it was "
              "not meant to fail.</p>\n",
              f);
    for (size_t k = 0; k < e->nfindings; k++) {
        const wr_finding_t *fd = &e->findings[k];
        const wr_case_t *s = case_named(run, fd->shrunk_id);

        fprintf(f, "<h3>Finding %zu: ", k + 1);
        html_case_ref(f, fd->case_id, h);
        fputs(" fails <code>", f);
        h->text(f, fd->check);
        fputs("</code></h3>\n", f);
        if (s == NULL) {
            fputs("<p class=\"muted\">Not shrunk.</p>\n", f);
            continue;
        }
        fprintf(f,
                "<p>Shrunk in %d runs (%.1f s); the shrunk case failed "
                "<code>",
                fd->shrink_runs, fd->shrink_s);
        h->text(f, fd->check);
        fprintf(f, "</code> in %d of %d replays.</p>\n", fd->confirmed,
                fd->confirm_runs);
        fputs("<table class=\"cases side-by-side\"><thead><tr><th></th>"
              "<th>original</th><th>shrunk</th></tr></thead><tbody>\n"
              "<tr><th>case</th><td>",
              f);
        html_case_ref(f, fd->case_id, h);
        fputs("</td><td>", f);
        html_case_ref(f, fd->shrunk_id, h);
        fputs("</td></tr>\n", f);
        html_size_row(f, "clients", fd->before.clients, fd->after.clients);
        html_size_row(f, "steps", fd->before.steps, fd->after.steps);
        html_size_row(f, "scenario sync actions", fd->before.sync,
                      fd->after.sync);
        html_size_row(f, "pinned releases", fd->before.releases,
                      fd->after.releases);
        fprintf(f, "<tr><th>client chaos</th><td>%s</td><td>%s</td></tr>\n",
                yes_no(fd->before.chaos), yes_no(fd->after.chaos));
        fputs("</tbody></table>\n<h4>Shrunk scenario (<a href=\"", f);
        h->url(f, fd->yaml);
        fputs("\"><code>", f);
        h->text(f, fd->yaml);
        fputs("</code></a>)</h4>\n<pre class=\"yaml\">", f);
        h->text(f, s->scenario->text ? s->scenario->text : "");
        fputs("</pre>\n", f);
    }
    fputs("</section>\n", f);
}
