/* wr_report.c - Writes every report file of a run.
 *
 * Each writer (summary.json in wr_report_json.c, junit.xml in
 * wr_report_junit.c, report.md in wr_report_md.c, index.html in
 * wr_report_html.c with wr_report_timeline.c and assets/) renders its
 * whole file in memory and writes it atomically (wr_report_util.c).
 * Single-threaded. */
#include "report/wr_report.h"

int wr_report_write_all(const wr_run_t *run, const char *dir)
{
    int rc = wr_report_write_summary(run, dir);
    int rc2 = wr_report_write_junit(run, dir);
    int rc3 = wr_report_write_markdown(run, dir);
    int rc4 = wr_report_write_html(run, dir);

    /* Each file stands alone: write the others even when one fails. */
    return rc < 0 ? rc : rc2 < 0 ? rc2 : rc3 < 0 ? rc3 : rc4;
}
