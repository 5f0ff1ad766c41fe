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

#include "wr_case.h"

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

/* Renames tmpdir to finaldir (which must not exist) and points
 * root/latest at it (a relative symlink, replaced atomically; no link when
 * root is NULL). Returns 0 or negative errno; on error tmpdir is left as
 * it was. */
int wr_report_publish(const char *tmpdir, const char *finaldir,
                      const char *root);

/* Removes hidden ".tmp-*" run directories under root that no running
 * process owns (their pid, the suffix of the name, is gone). Returns how
 * many were removed; 0 when root does not exist, negative errno when it
 * cannot be read. */
int wr_report_sweep(const char *root);

/* Whether verdict v meets expectation e: ANY takes every verdict, PASS and
 * FAIL only themselves, except that against an external target (no trace
 * to decide from) UNKNOWN meets PASS too. The per-check "as_expected" of
 * the reports; the runner should decide wr_case_t.as_expected with it, so
 * that the two agree. This function can't fail. */
bool wr_report_as_expected(wr_verdict_t v, wr_expect_t e, bool external);

#endif
