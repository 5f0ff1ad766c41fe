/* wr_cli.h - The wsrace commands, one file each (cmd_*.c), and what they
 * share: the usage text, where the gateway is, loading scenarios.
 *
 * Each command takes the words after its name and returns a status;
 * main() alone turns it into an exit code. Options may follow operands
 * (cli/wr_opts.h). Single-threaded. */
#ifndef WR_CLI_H
#define WR_CLI_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>

#include "cli/wr_opts.h"
#include "plan/wr_case.h"
#include "plan/wr_replay.h"
#include "plan/wr_scenario.h"
#include "run/wr_run.h"

/* What every command may need of the process. */
typedef struct {
    const char *self;      /* argv[0], for the replay commands printed */
    const char *argv_text; /* the whole command line, for reports */
    atomic_int *stop;      /* set by SIGINT/SIGTERM */
} wr_cli_env_t;

/* run, matrix and explore (cmd is "run", "matrix" or "explore"). */
wr_status_t wr_cmd_run(const char *cmd, int argc, char **argv,
                       const wr_cli_env_t *env);
wr_status_t wr_cmd_replay(int argc, char **argv, const wr_cli_env_t *env);
wr_status_t wr_cmd_shrink(int argc, char **argv, const wr_cli_env_t *env);
wr_status_t wr_cmd_diff(int argc, char **argv, const wr_cli_env_t *env);
wr_status_t wr_cmd_merge(int argc, char **argv, const wr_cli_env_t *env);
wr_status_t wr_cmd_check(int argc, char **argv, const wr_cli_env_t *env);
wr_status_t wr_cmd_list(int argc, char **argv, const wr_cli_env_t *env);

/* The whole usage text. */
void wr_cli_usage(FILE *f);

/* The gateway next to this binary (../target/wsrace-gateway), resolved;
 * "build/target/wsrace-gateway" when /proc/self/exe cannot be read. */
void wr_cli_default_gateway(char *out, size_t len);

/* The HS256 secret: $WSRACE_SECRET, or the harness's test secret. */
const char *wr_cli_secret(void);

/* Loads the scenarios at paths (with none and use_default, every .yaml
 * file of ./scenarios), printing each error. Returns 0 with *out (free
 * with wr_cli_free_scenarios) and *count, WR_STATUS_BAD_INPUT when one
 * does not load or none is named, WR_STATUS_INFRA when out of memory. */
wr_status_t wr_cli_load_scenarios(const char *cmd, char **paths, size_t n,
                                  int use_default, wr_scenario_t ***out,
                                  size_t *count);
void wr_cli_free_scenarios(wr_scenario_t **s, size_t n);

/* The options replay and shrink share: their ids (a command's own ids
 * start at WR_REPLAY_OPT__NEXT) and their table entries. */
enum {
    WR_REPLAY_OPT_DIR = 1,
    WR_REPLAY_OPT_TARGET,
    WR_REPLAY_OPT_URL,
    WR_REPLAY_OPT_SYNC,
    WR_REPLAY_OPT_SCALE,
    WR_REPLAY_OPT_EARLY,
    WR_REPLAY_OPT__NEXT
};

#define WR_REPLAY_OPTIONS                                                      \
    {"report-dir", WR_REPLAY_OPT_DIR, true},                                   \
        {"target", WR_REPLAY_OPT_TARGET, true},                                \
        {"url", WR_REPLAY_OPT_URL, true},                                      \
        {"sync-control", WR_REPLAY_OPT_SYNC, true},                            \
        {"time-scale", WR_REPLAY_OPT_SCALE, true},                             \
        {"early-verdict", WR_REPLAY_OPT_EARLY, false}

/* Takes one of the shared options h into *o (and *target_given /
 * *scale_given); true when h was one of them. A bad value sets *st to
 * WR_STATUS_BAD_INPUT, said on stderr ("wsrace CMD:"). */
bool wr_cli_replay_option(const char *cmd, const wr_opt_hit_t *h,
                          wr_run_opts_t *o, bool *target_given,
                          bool *scale_given, wr_status_t *st);

/* What replay and shrink check before they run a replay.json: one operand,
 * --target and --url not both, --sync-control only with --url; then the
 * file is read into *r (untrusted: it never picks an address, so a case
 * that ran against --url needs --url again). st is the option parser's
 * status so far. Returns WR_STATUS_OK with *r to free with
 * wr_replay_free(), or WR_STATUS_BAD_INPUT having said why on stderr
 * (prefixed "wsrace CMD:"), with nothing to free but args. */
wr_status_t wr_cli_open_replay(const char *cmd, const char *usage,
                               wr_status_t st, const wr_args_t *args,
                               bool target_given, const wr_run_opts_t *o,
                               wr_replay_t *r);

#endif
