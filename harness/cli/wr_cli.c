/* wr_cli.c - What the commands share: usage, the gateway's place, the
 * secret, loading scenarios. */
#include "cli/wr_cli.h"

#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_SECRET "wsrace-harness-secret"

void wr_cli_usage(FILE *f)
{
    fputs(
        "usage: wsrace run [--inject LIST]... [--seed N] [--repeat N] "
        "[OPTIONS]\n"
        "                  SCENARIO...\n"
        "       wsrace matrix [--seeds N] [--faults LIST] [--baseline FILE]\n"
        "                  [OPTIONS] [SCENARIO...]\n"
        "       wsrace explore [--strategy pct|random] [--depth D] [--runs N]\n"
        "                  [--budget S] [--chaos] [--jobs N] [OPTIONS] "
        "[SCENARIO...]\n"
        "       wsrace replay FILE [--report-dir DIR] [--target PATH | --url "
        "URL\n"
        "                  [--sync-control PATH]] [--time-scale X] "
        "[--wrapper CMD]\n"
        "                  [--early-verdict]\n"
        "       wsrace shrink FILE [--budget S] [--confirm N] [--check NAME]\n"
        "                  [--report-dir DIR] [--target PATH | --url URL\n"
        "                  [--sync-control PATH]] [--early-verdict]\n"
        "       wsrace diff OLD NEW\n"
        "       wsrace merge DIR... --out DIR [--baseline FILE]\n"
        "       wsrace check SCENARIO...\n"
        "       wsrace list [SCENARIO...]\n"
        "       wsrace --help | --version\n"
        "\n"
        "Options may come before or after the operands.\n"
        "\n"
        "run      runs each scenario against a fresh gateway and writes\n"
        "         reports/<run-id>/ (summary.json, junit.xml, report.md,\n"
        "         index.html, cases/<id>/: trace, history, gateway.log,\n"
        "         replay.json)\n"
        "  --inject LIST  faults to inject: 'none', 'exposed' (each\n"
        "                 scenario's own `exposes`) or a comma list such\n"
        "                 as scope-loss=swallow,registry-leak; give it\n"
        "                 several times to run every scenario once per\n"
        "                 set (default: the scenario's gateway.inject)\n"
        "  --seed N       first seed (default 1); printed in every report\n"
        "  --repeat N     run each case on seeds N, N+1, ... (default 1)\n"
        "matrix   every scenario (default ./scenarios/*.yaml) with nothing\n"
        "         injected, each fault alone and the seed bugs together,\n"
        "         on N seeds; prints and reports the matrix\n"
        "  --seeds N      seeds per cell (default 10)\n"
        "  --faults LIST  fault rows (default: every fault, every mode a\n"
        "                 scenario exposes, and seed-bugs)\n"
        "  --cells exposed|all  a fault row for the scenarios that expose\n"
        "                 it (default), or for every scenario (its side\n"
        "                 effects elsewhere too)\n"
        "explore  iterations with fresh seeds, each a case whose sync points\n"
        "         the runner schedules, until the budget ends; every FAIL\n"
        "         nothing promised is a finding, shrunk to a scenario with\n"
        "         its schedule pinned (exit 1); nothing injected by default\n"
        "  --strategy S   pct (default) or random\n"
        "  --depth D      pct: the bug depth, D-1 change points (default 3)\n"
        "  --runs N       iterations at most\n"
        "  --budget S     seconds of iterations (default 60; 0: --runs)\n"
        "  --chaos        client chaos in every iteration\n"
        "  --keep-going   every finding in the budget, not the first only\n"
        "  --no-shrink    report findings unshrunk\n"
        "  --shrink-budget S  seconds per finding (default 60)\n"
        "  --confirm N    replays of each shrunk case (default 10)\n"
        "  --shard I/N    explore seeds of shard I of N (CI jobs; merge)\n"
        "OPTIONS of run, matrix and explore:\n"
        "  --target PATH  gateway binary (default: next to wsrace)\n"
        "  --url URL      drive an external gateway (ws://HOST:PORT/PATH);\n"
        "                 checks that need its trace are UNKNOWN\n"
        "  --secret S     token secret (default $WSRACE_SECRET or a\n"
        "                 built-in test secret)\n"
        "  --time-scale X multiply every timeout (0.1 .. 1000)\n"
        "  --wrapper CMD  run the gateway under CMD, split on spaces\n"
        "  --tool T       run the gateway under valgrind T (memcheck,\n"
        "                 helgrind, drd); adds the memory_safety and\n"
        "                 data_race checks; timeouts x20 (memcheck), x30\n"
        "                 (helgrind), x100 (drd)\n"
        "  --target-build asan|tsan|asan:PATH|tsan:PATH\n"
        "                 run a sanitizer build of the gateway, same checks\n"
        "  --suppressions FILE  valgrind suppressions (default: the\n"
        "                 project's, for libwebsockets, OpenSSL and libc)\n"
        "  --no-sync      drop the scenarios' sync actions (race windows)\n"
        "  --early-verdict  end each case at its first conclusive failure\n"
        "                 (a safety check failing on what was seen so far);\n"
        "                 checks that need the whole case are then not\n"
        "                 judged\n"
        "  --chaos        client chaos (abrupt closes, reconnects, bursts,\n"
        "                 probes) in scenarios that have none\n"
        "  --sync-control PATH  with --url: listen at PATH for the\n"
        "                 gateway's sync points (docs/sync-control.md)\n"
        "  --shard I/N    run shard I of N of the cases (CI jobs)\n"
        "  --jobs N       cases at once, in N processes (1..256; matrix, explore: 4)\n"
        "  --baseline FILE  compare the matrix with FILE; regressions exit 1\n"
        "  --write-baseline FILE  write the matrix as a baseline\n"
        "  --report-dir DIR  where runs go (default reports)\n"
        "  --keep N       keep only the newest N runs there\n"
        "replay   re-runs one case from its replay.json (the analysis tool\n"
        "         it ran under included); exit 0 when the same verdicts\n"
        "         recur, 1 (with the difference) when not. A case that ran\n"
        "         against --url needs --url again: nothing in the file\n"
        "         chooses a program or an address\n"
        "shrink   reduces a failing case (its replay.json) to the\n"
        "         smallest variant that still fails the same check;\n"
        "         writes it as a scenario beside the original\n"
        "diff     compares two runs (directories or summary.json): newly\n"
        "         failing, newly passing, still failing, evidence changed;\n"
        "         exit 1 when something newly fails\n"
        "merge    joins the shards of one plan (or of one exploration)\n"
        "         into one run at --out\n"
        "check    validates scenarios without running them\n"
        "list     shows the faults, the checks and the scenarios\n"
        "\n"
        "exit: 0 as expected, 1 unexpected verdict (or regression, or a\n"
        "finding), 2 usage or input error, 3 target could not be run,\n"
        "130 interrupted\n",
        f);
}

void wr_cli_default_gateway(char *out, size_t len)
{
    char self[PATH_MAX], path[PATH_MAX + 32];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

    if (n <= 0) {
        snprintf(out, len, "build/target/wsrace-gateway");
        return;
    }
    self[n] = '\0';
    snprintf(path, sizeof(path), "%s/../target/wsrace-gateway", dirname(self));
    if (realpath(path, self) != NULL)
        snprintf(out, len, "%s", self);
    else
        snprintf(out, len, "%s", path);
}

const char *wr_cli_secret(void)
{
    const char *s = getenv("WSRACE_SECRET");

    return s != NULL && s[0] != '\0' ? s : DEFAULT_SECRET;
}

wr_status_t wr_cli_load_scenarios(const char *cmd, char **paths, size_t n,
                                  int use_default, wr_scenario_t ***out,
                                  size_t *count)
{
    glob_t g = {0};
    wr_scenario_t **s;
    size_t bad = 0;

    if (n == 0 && use_default && glob("scenarios/*.yaml", 0, NULL, &g) == 0) {
        paths = g.gl_pathv;
        n = g.gl_pathc;
    }
    if (n == 0) {
        fprintf(stderr, "wsrace %s: no scenario given\n", cmd);
        globfree(&g);
        return WR_STATUS_BAD_INPUT;
    }
    s = calloc(n, sizeof(*s));
    if (s == NULL) {
        globfree(&g);
        return WR_STATUS_INFRA;
    }
    for (size_t i = 0; i < n; i++) {
        char err[1024];

        s[i] = wr_scenario_load(paths[i], err, sizeof(err));
        if (s[i] == NULL) {
            fprintf(stderr, "%s\n", err);
            bad++;
        }
    }
    globfree(&g);
    if (bad > 0) {
        wr_cli_free_scenarios(s, n);
        return WR_STATUS_BAD_INPUT;
    }
    *out = s;
    *count = n;
    return WR_STATUS_OK;
}

void wr_cli_free_scenarios(wr_scenario_t **s, size_t n)
{
    for (size_t i = 0; s != NULL && i < n; i++)
        if (s[i] != NULL)
            wr_scenario_free(s[i]);
    free(s);
}

bool wr_cli_replay_option(const char *cmd, const wr_opt_hit_t *h,
                          wr_run_opts_t *o, bool *target_given,
                          bool *scale_given, wr_status_t *st)
{
    switch (h->id) {
    case WR_REPLAY_OPT_DIR:
        o->report_root = h->arg;
        return true;
    case WR_REPLAY_OPT_TARGET:
        o->gateway = h->arg;
        *target_given = true;
        return true;
    case WR_REPLAY_OPT_URL:
        o->url = h->arg;
        return true;
    case WR_REPLAY_OPT_SYNC:
        o->sync_control = h->arg;
        return true;
    case WR_REPLAY_OPT_SCALE:
        if (!wr_opts_double(h->arg, 0.1, 1000, &o->time_scale)) {
            fprintf(stderr, "wsrace %s: --time-scale wants a number in "
                            "[0.1, 1000]\n",
                    cmd);
            *st = WR_STATUS_BAD_INPUT;
        }
        *scale_given = true;
        return true;
    case WR_REPLAY_OPT_EARLY:
        o->early_verdict = true;
        return true;
    default:
        return false;
    }
}

wr_status_t wr_cli_open_replay(const char *cmd, const char *usage,
                               wr_status_t st, const wr_args_t *args,
                               bool target_given, const wr_run_opts_t *o,
                               wr_replay_t *r)
{
    char err[PATH_MAX + 512];

    if (st == WR_STATUS_OK && args->noperands != 1) {
        fprintf(stderr, "wsrace %s: give one replay.json\n%s", cmd, usage);
        st = WR_STATUS_BAD_INPUT;
    }
    if (st == WR_STATUS_OK && target_given && o->url != NULL) {
        fprintf(stderr, "wsrace %s: --target and --url exclude each other\n",
                cmd);
        st = WR_STATUS_BAD_INPUT;
    }
    if (st == WR_STATUS_OK && o->sync_control != NULL && o->url == NULL) {
        fprintf(stderr, "wsrace %s: --sync-control is for a gateway at "
                        "--url (ours gets a socket of its own)\n",
                cmd);
        st = WR_STATUS_BAD_INPUT;
    }
    if (st != WR_STATUS_OK)
        return st;
    if (wr_replay_read(args->operands[0], r, err, sizeof(err)) != 0) {
        fprintf(stderr, "wsrace %s: %s\n", cmd, err);
        return WR_STATUS_BAD_INPUT;
    }
    if (r->url[0] != '\0' && o->url == NULL) {
        fprintf(stderr, "wsrace %s: this case ran against the external "
                        "gateway %s; give --url again (a replay file never "
                        "picks an address)\n",
                cmd, r->url);
        wr_replay_free(r);
        return WR_STATUS_BAD_INPUT;
    }
    return WR_STATUS_OK;
}
