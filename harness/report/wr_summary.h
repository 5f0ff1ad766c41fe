/* wr_summary.h - Reading a run back from its summary.json: for merging
 * shards (and the jobs of one run), for diffing two runs, and for
 * rebuilding reports.
 *
 * What is read back is what the reports print: every case with its
 * verdicts, expectations, evidence events (as history lines), target
 * state, times and replay command. The full histories stay on disk in
 * each case directory. Single-threaded. */
#ifndef WR_SUMMARY_H
#define WR_SUMMARY_H

#include <stddef.h>

#include "plan/wr_case.h"
#include "plan/wr_scenario.h"

/* Loads path (a summary.json, or a run directory holding one) into run
 * (zeroed first; free with wr_run_free). Each case's scenario is bound by
 * name to one of known[] when given; otherwise it is parsed from the text
 * the summary keeps, or, for a summary without texts, rebuilt from the
 * fields the case states (name, path, description, exposes); such
 * scenarios are owned by run. Returns 0, or negative errno with "PATH:
 * what is wrong" in err: -ENOENT when there is no summary, -EINVAL when it
 * is not a wsrace summary. */
int wr_summary_load(const char *path, wr_scenario_t *const *known,
                    size_t nknown, wr_run_t *run, char *err, size_t errlen);

/* wr_summary_load of a summary already in memory (len bytes of buf);
 * name is used in messages. -EINVAL when it is not a wsrace summary. */
int wr_summary_parse(const char *name, const char *buf, size_t len,
                     wr_scenario_t *const *known, size_t nknown, wr_run_t *run,
                     char *err, size_t errlen);

/* The summary.json of path: path itself when it is a file, else
 * path/summary.json. Returns 0, or -ENAMETOOLONG when it does not fit in
 * len bytes. */
int wr_summary_path(const char *path, char *out, size_t len);

#endif
