/* wr_report_util.h - What the report writers share: one UTF-8 decoder,
 * the facts about a case that more than one report states, and the atomic
 * write of a file. Private to the report writers; the API is wr_report.h.
 *
 * Each function here is declared once, here, and defined once, in
 * wr_report_util.c; helpers that one writer alone uses stay static in
 * its file.
 * Names with linkage carry the wr__report_ prefix (libuv's uv__
 * convention): internal to the module, though not static. None of it
 * keeps state. Threads: the runner's main thread, as the writers. */
#ifndef WR_REPORT_UTIL_H
#define WR_REPORT_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "plan/wr_case.h"

#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD in UTF-8 */
#define BIT(c)      (1u << (c))

/* ------------------------------------------------------------------------
 * Text: UTF-8 decoding, times
 * ---------------------------------------------------------------------- */

/* Decodes the character at s into *cp. Returns the bytes it takes (at least
 * 1); *cp is -1 when they are not valid UTF-8 (a stray byte, an overlong
 * form, a surrogate, a truncated sequence: its valid prefix is consumed).
 * s must not point at the terminating NUL. */
size_t wr__report_utf8_next(const char *str, long *cp);

/* Formats a Unix time as UTC with strftime's fmt. */
const char *wr__report_utc_time(int64_t unix_s, const char *fmt, char *buf,
                                size_t len);

/* Seconds for a time attribute; an unknown (negative) time is 0. */
double wr__report_seconds(int64_t ns);

/* ------------------------------------------------------------------------
 * Verdicts and cases
 * ---------------------------------------------------------------------- */

/* The name of c's scenario, "(none)" without one. */
const char *wr__report_scenario_name(const wr_case_t *c);

/* What c injected, "none" for nothing. */
const char *wr__report_inject_name(const wr_case_t *c);

/* The time origin of c's evidence: its first event, or without a history
 * the earliest evidence event; 0 when it has neither. */
int64_t wr__report_case_t0(const wr_case_t *c);

/* The case's directory relative to the run directory. */
const char *wr__report_case_dir(const wr_case_t *c, char *buf, size_t len);

/* "gateway", "client" or "harness". */
const char *wr__report_src_name(wr_src_t s);

/* How many of r->evidence hold events, at most WR_EVIDENCE_MAX. */
size_t wr__report_nevidence(const wr_check_result_t *r);

/* ------------------------------------------------------------------------
 * Files: render in memory, then "<name>.tmp", fsync, rename
 * ---------------------------------------------------------------------- */

/* Renders a whole file into out; returns 0 or negative errno. */
typedef int (*render_fn)(const wr_run_t *run, FILE *out);

/* Renders dir/name with render, atomically. Returns 0 or negative errno;
 * on error neither the .tmp nor a partial file is left. */
int wr__report_write_file(const char *dir, const char *name, render_fn render,
                          const wr_run_t *run);

#endif
