/* wr_report_explore.h - The exploration's part of report.md and
 * index.html: what was explored and every finding beside its shrunk
 * case. Private to the report writers.
 *
 * The writers own their escaping; they lend it here as a small table of
 * functions, so that this module writes through the same rules (Markdown
 * code spans and fences, HTML text and URLs) without a second copy of
 * them. */
#ifndef WR_REPORT_EXPLORE_H
#define WR_REPORT_EXPLORE_H

#include <stdio.h>

#include "plan/wr_case.h"

typedef struct {
    void (*code)(FILE *f, const char *s);      /* `s`, escaped */
    void (*fenced)(FILE *f, const char *info, const char *body);
    void (*case_link)(FILE *f, const wr_case_t *c); /* [`id`](cases/id/) */
    void (*evidence)(FILE *f, const wr_case_t *c);  /* every FAIL, with its
                                                       evidence and replay */
} wr_report_md_fns_t;

typedef struct {
    void (*text)(FILE *f, const char *s); /* HTML-escaped text */
    void (*url)(FILE *f, const char *s);  /* a relative URL, escaped */
} wr_report_html_fns_t;

/* The "Exploration" and "Findings" sections (for a shrink: "Shrinking").
 * Nothing when run has no exploration record. */
void wr__report_md_explore(FILE *f, const wr_run_t *run,
                           const wr_report_md_fns_t *md);
void wr__report_html_explore(FILE *f, const wr_run_t *run,
                             const wr_report_html_fns_t *h);

#endif
