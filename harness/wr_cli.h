/* wr_cli.h - The commands that work on runs already made: replay a case
 * from its replay.json, diff two runs, merge the shards of one plan.
 *
 * Each takes the arguments after the command word and returns the exit
 * code: 0 / 1 as each says, 2 bad usage or input, 3 a target or a report
 * failed, 130 interrupted. */
#ifndef WR_CLI_H
#define WR_CLI_H

#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>

/* wsrace replay FILE [--report-dir DIR] [--target PATH] [--time-scale X]
 *                    [--wrapper CMD]
 * 0: the same verdicts recurred; 1: they did not (the difference is
 * printed). */
int wr_cli_replay(int argc, char **argv, const char *self,
                  const char *argv_text, atomic_int *stop);

/* wsrace diff OLD NEW: 1 when a check newly fails. */
int wr_cli_diff(int argc, char **argv);

/* wsrace merge DIR... --out DIR [--baseline FILE]: 0 / 1 as a run. */
int wr_cli_merge(int argc, char **argv, const char *self,
                 const char *argv_text);

/* The gateway next to this binary: <bindir>/../target/wsrace-gateway. */
void wr_cli_default_gateway(char *out, size_t len);

#endif
