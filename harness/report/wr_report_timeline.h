/* wr_report_timeline.h - The timeline of a case in index.html
 * (wr_report_timeline.c): its events in lanes, one per connection, as the
 * JSON block the page's script draws, and the notes that go with it.
 * Private to the HTML writer (wr_report_html.c); the API is wr_report.h.
 *
 * Names with linkage carry the wr__report_ prefix, as in
 * wr_report_util.h. Threads: the runner's main thread, as the writers. */
#ifndef WR_REPORT_TIMELINE_H
#define WR_REPORT_TIMELINE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "plan/wr_case.h"

/* Events a whole page embeds at most: the budget that each case's
 * timeline takes its share from. */
#define WR_TIMELINE_PAGE_EVENTS 200000

typedef struct wr_timeline wr_timeline_t;

/* Builds the timeline of case c from dir/<cdir>/history.jsonl, or, when
 * that cannot be read, from the events the run kept in memory (the
 * timeline then says so). Embeds at most its share of *budget and takes
 * what it embeds from it. Returns 0 with *out set, or -ENOMEM with *out
 * NULL. */
int wr__report_timeline_build(const char *dir, const char *cdir,
                              const wr_case_t *c, size_t *budget,
                              wr_timeline_t **out);

/* The time origin of c's evidence: its timeline's first event, else
 * wr__report_case_t0(c). */
int64_t wr__report_timeline_t0(const wr_timeline_t *t, const wr_case_t *c);

/* Writes the Timeline part of the case's card: heading, notes, the box
 * the script draws in and the data block with id "tl-<index>". Returns 0
 * or -ENOMEM. */
int wr__report_timeline_write(FILE *f, const wr_timeline_t *t, size_t index);

/* Frees t; NULL is allowed. */
void wr__report_timeline_free(wr_timeline_t *t);

#endif
