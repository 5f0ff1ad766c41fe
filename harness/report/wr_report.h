/* wr_report.h - Run reports: summary.json for machines, junit.xml for CI,
 * report.md and index.html for people.
 *
 * The runner writes each case's evidence files (trace.jsonl,
 * history.jsonl, gateway.log) into a hidden temporary run directory, then
 * these writers add the four run files, and wr_report_publish() renames the
 * whole directory into place and moves the `latest` link: a run that is
 * interrupted leaves no half report behind, only a hidden directory that
 * the next run removes. Single-threaded. */
#ifndef WR_REPORT_H
#define WR_REPORT_H

#include "plan/wr_case.h"

/* Each writes one file into dir through "<name>.tmp" and rename(2).
 * Return 0 or negative errno. */
int wr_report_write_summary(const wr_run_t *run, const char *dir);
int wr_report_write_junit(const wr_run_t *run, const char *dir);
int wr_report_write_markdown(const wr_run_t *run, const char *dir);
/* index.html: the matrix, then each case with its checks, evidence,
 * replay command and timeline, self-contained (no network). It reads
 * each case's dir/<case dir>/history.jsonl; a case whose history cannot
 * be read gets a note and the events kept in memory. */
int wr_report_write_html(const wr_run_t *run, const char *dir);

/* All four. Returns the first error. */
int wr_report_write_all(const wr_run_t *run, const char *dir);

#endif
