/* main.c - The wsrace command line: run, check, list.
 *
 * Exit codes: 0 every verdict as expected (check: every file valid), 1 an
 * unexpected verdict, 2 bad usage or an invalid scenario, 3 the target could
 * not be run or the report not written, 130 interrupted. */
#include <errno.h>
#include <getopt.h>
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "wr_check.h"
#include "wr_cli.h"
#include "wr_faults.h"
#include "wr_matrix.h"
#include "wr_run.h"
#include "wr_scenario.h"
#include "wr_tool.h"

#ifndef WSRACE_VERSION
#define WSRACE_VERSION "0.0.0"
#endif

#define DEFAULT_SECRET "wsrace-harness-secret"

#ifndef WSRACE_SUPPRESSIONS /* valgrind suppressions: lws, OpenSSL, libc */
#define WSRACE_SUPPRESSIONS "/nonexistent"
#endif
#define MAX_INJECTS 32

static atomic_int stop_requested;

/* The engine's threads and the jobs' wait loop read the flag: an atomic
 * (lock-free here, so safe in a handler), and errno is kept. */
static void on_signal(int sig)
{
    int saved = errno;

    (void)sig;
    atomic_store(&stop_requested, 1);
    errno = saved;
}

static void usage(FILE *f)
{
    fputs(
        "usage: wsrace run [--inject LIST]... [--seed N] [--repeat N] "
        "[OPTIONS]\n"
        "                  SCENARIO...\n"
        "       wsrace matrix [--seeds N] [--faults LIST] [--baseline FILE]\n"
        "                  [OPTIONS] [SCENARIO...]\n"
        "       wsrace replay FILE [--report-dir DIR] [--target PATH]\n"
        "       wsrace diff OLD NEW\n"
        "       wsrace merge DIR... --out DIR [--baseline FILE]\n"
        "       wsrace check SCENARIO...\n"
        "       wsrace list [SCENARIO...]\n"
        "       wsrace --help | --version\n"
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
        "OPTIONS of run and matrix:\n"
        "  --target PATH  gateway binary (default: next to wsrace)\n"
        "  --url URL      drive an external gateway (ws://HOST:PORT/PATH);\n"
        "                 checks that need its trace are UNKNOWN\n"
        "  --secret S     token secret (default $WSRACE_SECRET or a\n"
        "                 built-in test secret)\n"
        "  --time-scale X multiply every timeout (slow machines)\n"
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
        "  --shard I/N    run shard I of N of the cases (CI jobs)\n"
        "  --jobs N       cases at once, in N processes (matrix: 4)\n"
        "  --baseline FILE  compare the matrix with FILE; regressions exit 1\n"
        "  --write-baseline FILE  write the matrix as a baseline\n"
        "  --report-dir DIR  where runs go (default reports)\n"
        "  --keep N       keep only the newest N runs there\n"
        "replay   re-runs one case from its replay.json; exit 0 when the\n"
        "         same verdicts recur, 1 (with the difference) when not\n"
        "diff     compares two runs (directories or summary.json): newly\n"
        "         failing, newly passing, still failing, evidence changed;\n"
        "         exit 1 when something newly fails\n"
        "merge    joins the shards of one plan into one run at --out\n"
        "check    validates scenarios without running them\n"
        "list     shows the faults, the checks and the scenarios\n"
        "\n"
        "exit: 0 as expected, 1 unexpected verdict (or regression), 2 usage\n"
        "or input error, 3 target could not be run, 130 interrupted\n",
        f);
}

/* Loads every path; prints each error. Returns how many failed. */
static int load_all(char **paths, int n, wr_scenario_t **out)
{
    int bad = 0;

    for (int i = 0; i < n; i++) {
        char err[1024];

        out[i] = wr_scenario_load(paths[i], err, sizeof(err));
        if (out[i] == NULL) {
            fprintf(stderr, "%s\n", err);
            bad++;
        }
    }
    return bad;
}

static void free_all(wr_scenario_t **s, int n)
{
    for (int i = 0; i < n; i++)
        wr_scenario_free(s[i]);
    free(s);
}

static int cmd_check(int argc, char **argv)
{
    wr_scenario_t **s;
    int bad;

    if (argc < 1) {
        fprintf(stderr, "wsrace check: no scenario given\n");
        return 2;
    }
    s = calloc((size_t)argc, sizeof(*s));
    if (s == NULL)
        return 3;
    bad = load_all(argv, argc, s);
    for (int i = 0; i < argc; i++)
        if (s[i] != NULL)
            printf("%s: ok (%s, %zu clients)\n", argv[i], s[i]->name,
                   wr_scenario_clients(s[i]));
    free_all(s, argc);
    return bad ? 2 : 0;
}

static int cmd_list(int argc, char **argv)
{
    glob_t g = {0};
    char **paths = argv;
    int n = argc;

    printf("faults (gateway --inject; scenario `exposes`):\n");
    for (size_t i = 0; i < wr_fault_count(); i++) {
        const wr_fault_info_t *f = wr_fault_at(i);
        printf("  %-24s %-8s detected by:", f->id, f->origin ? f->origin : "");
        for (int c = 0; c < WR_CHECK__COUNT; c++)
            if (f->detects & (1u << c))
                printf(" %s", wr_check_name((wr_check_id_t)c));
        printf("\n  %-24s %s%s%s\n", "", f->title, f->modes ? "; modes " : "",
               f->modes ? f->modes : "");
    }
    printf("\nchecks:\n");
    for (int c = 0; c < WR_CHECK__COUNT; c++)
        printf("  %s\n", wr_check_name((wr_check_id_t)c));
    if (n == 0 && glob("scenarios/*.yaml", 0, NULL, &g) == 0) {
        paths = g.gl_pathv;
        n = (int)g.gl_pathc;
    }
    if (n > 0)
        printf("\nscenarios:\n");
    for (int i = 0; i < n; i++) {
        char err[1024];
        wr_scenario_t *s = wr_scenario_load(paths[i], err, sizeof(err));

        if (s == NULL) {
            printf("  %s: INVALID: %s\n", paths[i], err);
            continue;
        }
        printf("  %s\n      name %s, %zu client(s), exposes:", paths[i],
               s->name, wr_scenario_clients(s));
        for (size_t k = 0; k < s->nexposes; k++)
            printf(" %s", s->exposes[k]);
        printf("%s\n      %s\n", s->nexposes ? "" : " nothing", s->description);
        wr_scenario_free(s);
    }
    globfree(&g);
    return 0;
}

/* Raises the descriptor limit: each client needs one, plus headroom. */
static void raise_nofile(size_t clients)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    rlim_t want = (rlim_t)clients + 256;
    if (rl.rlim_cur >= want)
        return;
    rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
}

/* What run and matrix share on the command line. */
typedef struct {
    wr_run_opts_t o;
    const char *injects[MAX_INJECTS];
    char gateway[PATH_MAX];
    const char *faults; /* matrix --faults */
    bool scale_given;   /* --time-scale was given */
    const char *build;  /* --target-build */
    bool matrix;
    const char *cmd; /* "run" | "matrix" */
} cli_t;

static int bad_number(const char *cmd, const char *opt, const char *want,
                      const char *got)
{
    fprintf(stderr, "wsrace %s: %s wants %s, got '%s'\n", cmd, opt, want, got);
    return 2;
}

/* Parses an integer in [lo, hi] into *out. */
static bool int_arg(const char *s, long lo, long hi, int *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || !*s || v < lo || v > hi)
        return false;
    *out = (int)v;
    return true;
}

/* --shard I/N */
static bool shard_arg(const char *s, int *index, int *count)
{
    int n = 0;

    return sscanf(s, "%d/%d%n", index, count, &n) == 2 && s[n] == '\0' &&
           *count >= 1 && *count <= 1000 && *index >= 1 && *index <= *count;
}

enum {
    OPT_INJECT = 'i',
    OPT_SEED = 's',
    OPT_REPEAT = 'r',
    OPT_DIR = 'd',
    OPT_TARGET = 't',
    OPT_URL = 'u',
    OPT_SECRET = 'k',
    OPT_SCALE = 'x',
    OPT_WRAPPER = 'w',
    OPT_HELP = 'h',
    OPT_NO_SYNC = 256,
    OPT_SHARD,
    OPT_JOBS,
    OPT_KEEP,
    OPT_BASELINE,
    OPT_WRITE_BASELINE,
    OPT_FAULTS,
    OPT_SEEDS,
    OPT_TOOL,
    OPT_TARGET_BUILD,
    OPT_SUPPRESSIONS,
};

/* Applies one option of run or matrix. Returns 0, or the exit code. */
static int apply_opt(cli_t *cli, int c, const char *arg)
{
    wr_run_opts_t *o = &cli->o;
    char *end;

    switch (c) {
    case OPT_INJECT:
        if (cli->matrix)
            return bad_number(cli->cmd, "--inject", "nothing (use --faults)",
                              arg);
        if (o->ninjects == MAX_INJECTS) {
            fprintf(stderr, "wsrace run: too many --inject\n");
            return 2;
        }
        cli->injects[o->ninjects++] = arg;
        return 0;
    case OPT_SEED:
        errno = 0;
        o->seed = strtoull(arg, &end, 10);
        if (errno || *end || arg[0] == '-' || !arg[0])
            return bad_number(cli->cmd, "--seed", "an integer", arg);
        return 0;
    case OPT_REPEAT:
    case OPT_SEEDS:
        if (!int_arg(arg, 1, 100000, &o->repeat))
            return bad_number(cli->cmd, c == OPT_SEEDS ? "--seeds" : "--repeat",
                              "1..100000", arg);
        return 0;
    case OPT_DIR:
        o->report_root = arg;
        return 0;
    case OPT_TARGET:
        o->gateway = arg;
        o->gateway_given = true;
        return 0;
    case OPT_URL:
        o->url = arg;
        return 0;
    case OPT_SECRET:
        o->secret = arg;
        return 0;
    case OPT_SCALE:
        o->time_scale = strtod(arg, &end);
        if (*end || o->time_scale <= 0 || o->time_scale > 1000)
            return bad_number(cli->cmd, "--time-scale", "a number in (0, 1000]",
                              arg);
        cli->scale_given = true;
        return 0;
    case OPT_TOOL: {
        int t = wr_tool_from_name(arg);

        if (t != WR_TOOL_MEMCHECK && t != WR_TOOL_HELGRIND && t != WR_TOOL_DRD)
            return bad_number(cli->cmd, "--tool", "memcheck, helgrind or drd",
                              arg);
        o->tool = t;
        return 0;
    }
    case OPT_TARGET_BUILD:
        cli->build = arg;
        return 0;
    case OPT_SUPPRESSIONS:
        o->suppressions = arg;
        return 0;
    case OPT_WRAPPER:
        o->wrapper = arg;
        return 0;
    case OPT_NO_SYNC:
        o->no_sync = true;
        return 0;
    case OPT_SHARD:
        if (!shard_arg(arg, &o->shard_index, &o->shard_count))
            return bad_number(cli->cmd, "--shard", "I/N with 1 <= I <= N", arg);
        return 0;
    case OPT_JOBS:
        if (!int_arg(arg, 1, 64, &o->jobs))
            return bad_number(cli->cmd, "--jobs", "1..64", arg);
        return 0;
    case OPT_KEEP:
        if (!int_arg(arg, 1, 1000000, &o->keep))
            return bad_number(cli->cmd, "--keep", "a count >= 1", arg);
        return 0;
    case OPT_BASELINE:
        o->baseline = arg;
        return 0;
    case OPT_WRITE_BASELINE:
        o->write_baseline = arg;
        return 0;
    case OPT_FAULTS:
        if (!cli->matrix)
            return bad_number(cli->cmd, "--faults", "nothing (use --inject)",
                              arg);
        cli->faults = arg;
        return 0;
    case OPT_HELP:
        usage(stdout);
        return -1;
    default:
        usage(stderr);
        return 2;
    }
}

static const struct option run_opts[] = {
    {"inject", required_argument, NULL, OPT_INJECT},
    {"seed", required_argument, NULL, OPT_SEED},
    {"repeat", required_argument, NULL, OPT_REPEAT},
    {"seeds", required_argument, NULL, OPT_SEEDS},
    {"report-dir", required_argument, NULL, OPT_DIR},
    {"target", required_argument, NULL, OPT_TARGET},
    {"url", required_argument, NULL, OPT_URL},
    {"secret", required_argument, NULL, OPT_SECRET},
    {"time-scale", required_argument, NULL, OPT_SCALE},
    {"wrapper", required_argument, NULL, OPT_WRAPPER},
    {"no-sync", no_argument, NULL, OPT_NO_SYNC},
    {"shard", required_argument, NULL, OPT_SHARD},
    {"jobs", required_argument, NULL, OPT_JOBS},
    {"keep", required_argument, NULL, OPT_KEEP},
    {"baseline", required_argument, NULL, OPT_BASELINE},
    {"write-baseline", required_argument, NULL, OPT_WRITE_BASELINE},
    {"faults", required_argument, NULL, OPT_FAULTS},
    {"tool", required_argument, NULL, OPT_TOOL},
    {"target-build", required_argument, NULL, OPT_TARGET_BUILD},
    {"suppressions", required_argument, NULL, OPT_SUPPRESSIONS},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static void cli_init(cli_t *cli, const char *cmd, const char *self,
                     const char *argv_text)
{
    memset(cli, 0, sizeof(*cli));
    wr_cli_default_gateway(cli->gateway, sizeof(cli->gateway));
    cli->cmd = cmd;
    cli->matrix = strcmp(cmd, "matrix") == 0;
    cli->o.self = self;
    cli->o.gateway = cli->gateway;
    cli->o.report_root = "reports";
    cli->o.injects = cli->injects;
    cli->o.seed = 1;
    cli->o.repeat = cli->matrix ? 10 : 1;
    cli->o.jobs = cli->matrix ? 4 : 1;
    cli->o.kind = cmd;
    cli->o.print_matrix = cli->matrix;
    cli->o.secret =
        getenv("WSRACE_SECRET") ? getenv("WSRACE_SECRET") : DEFAULT_SECRET;
    cli->o.time_scale = 1.0;
    cli->o.argv_text = argv_text;
    cli->o.stop = &stop_requested;
}

/* --tool and --target-build: the gateway to run, its wrapper, the time
 * scale (valgrind is 20-50 times slower), the sanitizers' options.
 * Returns 0 or the exit code. */
static int apply_analysis(cli_t *cli)
{
    wr_run_opts_t *o = &cli->o;
    static char path[PATH_MAX];
    const char *b = cli->build;

    if (b != NULL) {
        const char *colon = strchr(b, ':');
        size_t n = colon ? (size_t)(colon - b) : strlen(b);

        if (o->tool != WR_TOOL_NONE || o->url || o->gateway_given) {
            fprintf(stderr,
                    "wsrace %s: --target-build excludes --tool, "
                    "--url and --target\n",
                    cli->cmd);
            return 2;
        }
        if (n == 4 && strncmp(b, "asan", 4) == 0)
            o->tool = WR_TOOL_ASAN;
        else if (n == 4 && strncmp(b, "tsan", 4) == 0)
            o->tool = WR_TOOL_TSAN;
        else
            return bad_number(cli->cmd, "--target-build",
                              "asan, tsan, asan:PATH or tsan:PATH", b);
        if (colon != NULL)
            snprintf(path, sizeof(path), "%s", colon + 1);
        else
            snprintf(path, sizeof(path), "%.4000s-%.4s", cli->gateway, b);
        if (access(path, X_OK) != 0) {
            fprintf(stderr,
                    "wsrace %s: --target-build %s: no sanitizer gateway at "
                    "%s (the build makes wsrace-gateway-asan and -tsan next "
                    "to wsrace-gateway)\n",
                    cli->cmd, b, path);
            return 2;
        }
        o->gateway = path;
        o->gateway_given = true;
        /* Stacks for UBSan; keep going after a TSan report. */
        setenv("UBSAN_OPTIONS", "print_stacktrace=1", 0);
        setenv("TSAN_OPTIONS", "halt_on_error=0", 0);
    }
    if (o->tool != WR_TOOL_NONE && o->url != NULL) {
        fprintf(stderr,
                "wsrace %s: --tool needs a gateway of ours, not --url\n",
                cli->cmd);
        return 2;
    }
    if (o->tool != WR_TOOL_NONE && b == NULL && o->wrapper != NULL) {
        fprintf(stderr, "wsrace %s: --tool and --wrapper exclude each other\n",
                cli->cmd);
        return 2;
    }
    /* Measured on golden-path (200 clients, 16 workers): memcheck ~18x,
     * helgrind ~25x; drd serialises the threads and needed more than 30x
     * for its welcomes (a false liveness FAIL). */
    if (o->tool != WR_TOOL_NONE && !cli->scale_given)
        o->time_scale = o->tool == WR_TOOL_MEMCHECK   ? 20
                        : o->tool == WR_TOOL_HELGRIND ? 30
                        : o->tool == WR_TOOL_DRD      ? 100
                        : o->tool == WR_TOOL_ASAN     ? 3
                                                      : 5;
    if (o->tool >= WR_TOOL_MEMCHECK && o->tool <= WR_TOOL_DRD &&
        o->suppressions == NULL && access(WSRACE_SUPPRESSIONS, R_OK) == 0)
        o->suppressions = WSRACE_SUPPRESSIONS;
    return 0;
}

/* Parses the options; returns 0, -1 after --help, or the exit code. */
static int cli_parse(cli_t *cli, int argc, char **argv)
{
    char err[1024];
    int c, rc;

    optind = 1;
    while ((c = getopt_long(argc, argv, "+", run_opts, NULL)) != -1)
        if ((rc = apply_opt(cli, c, optarg)) != 0)
            return rc;
    if (cli->o.url != NULL && cli->o.gateway_given) {
        fprintf(stderr, "wsrace %s: --target and --url exclude each other\n",
                cli->cmd);
        return 2;
    }
    if ((rc = apply_analysis(cli)) != 0)
        return rc;
    if (cli->o.baseline &&
        !wr_matrix_baseline_ok(cli->o.baseline, err, sizeof(err))) {
        fprintf(stderr, "wsrace %s: --baseline: %s\n", cli->cmd, err);
        return 2;
    }
    return 0;
}

/* Loads the scenarios named on the command line (for matrix, every
 * .yaml file of ./scenarios when none is named). */
static int load_scenarios(cli_t *cli, int n, char **paths, wr_scenario_t ***out,
                          int *count)
{
    glob_t g = {0};
    wr_scenario_t **s;

    if (n < 1 && cli->matrix && glob("scenarios/*.yaml", 0, NULL, &g) == 0) {
        paths = g.gl_pathv;
        n = (int)g.gl_pathc;
    }
    if (n < 1) {
        fprintf(stderr, "wsrace %s: no scenario given\n", cli->cmd);
        usage(stderr);
        globfree(&g);
        return 2;
    }
    s = calloc((size_t)n, sizeof(*s));
    if (s == NULL) {
        globfree(&g);
        return 3;
    }
    if (load_all(paths, n, s) != 0) {
        free_all(s, n);
        globfree(&g);
        return 2;
    }
    globfree(&g);
    *out = s;
    *count = n;
    return 0;
}

/* The matrix's rows: none, each fault alone (the catalog's, and every
 * mode a scenario exposes), and the seed bugs together; or the --faults
 * list ("seed-bugs" names the seed bugs together). */
static int matrix_rows(cli_t *cli, wr_scenario_t **s, int n, char *store,
                       size_t storelen)
{
    wr_run_opts_t *o = &cli->o;
    size_t used = 0;
    char list[1024];

#define ROW(text)                                                              \
    do {                                                                       \
        if (o->ninjects == MAX_INJECTS || used + strlen(text) + 1 > storelen)  \
            return 2;                                                          \
        memcpy(store + used, text, strlen(text) + 1);                          \
        cli->injects[o->ninjects++] = store + used;                            \
        used += strlen(text) + 1;                                              \
    } while (0)

    ROW("none");
    if (cli->o.url != NULL)
        return 0;
    if (cli->faults != NULL) {
        char *save = NULL, *tok;

        snprintf(list, sizeof(list), "%s", cli->faults);
        for (tok = strtok_r(list, ",", &save); tok;
             tok = strtok_r(NULL, ",", &save)) {
            if (strcmp(tok, "seed-bugs") == 0) {
                ROW(wr_matrix_seed_bugs());
                continue;
            }
            if (wr_fault_find(tok) == NULL) {
                fprintf(stderr,
                        "wsrace matrix: --faults: unknown fault '%s' (wsrace "
                        "list shows them; seed-bugs names the seed bugs "
                        "together)\n",
                        tok);
                return 2;
            }
            ROW(tok);
        }
        return 0;
    }
    for (size_t i = 0; i < wr_fault_count(); i++) {
        ROW(wr_fault_at(i)->id);
        for (int k = 0; k < n; k++)
            for (size_t e = 0; e < s[k]->nexposes; e++) {
                const char *x = s[k]->exposes[e];
                bool seen = false;

                if (strchr(x, '=') == NULL ||
                    wr_fault_find(x) != wr_fault_at(i))
                    continue;
                for (size_t r = 0; r < o->ninjects; r++)
                    seen |= strcmp(cli->injects[r], x) == 0;
                if (!seen)
                    ROW(x);
            }
    }
    ROW(wr_matrix_seed_bugs());
    return 0;
#undef ROW
}

static int cmd_run(int argc, char **argv, const char *cmd, const char *self,
                   const char *argv_text)
{
    char rows[4096];
    cli_t cli;
    wr_scenario_t **s;
    wr_run_t run;
    size_t most = 0;
    int rc, n;

    cli_init(&cli, cmd, self, argv_text);
    if ((rc = cli_parse(&cli, argc, argv)) != 0)
        return rc < 0 ? 0 : rc;
    if ((rc = load_scenarios(&cli, argc - optind, argv + optind, &s, &n)) != 0)
        return rc;
    if (cli.matrix && (rc = matrix_rows(&cli, s, n, rows, sizeof(rows))) != 0) {
        free_all(s, n);
        return rc;
    }
    for (int i = 0; i < n; i++)
        if (wr_scenario_clients(s[i]) > most)
            most = wr_scenario_clients(s[i]);
    raise_nofile(most * (size_t)(cli.o.jobs > 1 ? cli.o.jobs : 1));
    printf("wsrace %s: %s, %d scenario(s), seed %llu%s%d, target %s\n",
           WSRACE_VERSION, cmd, n, cli.o.seed,
           cli.matrix ? ", seeds " : ", repeat ", cli.o.repeat,
           cli.o.url ? cli.o.url : cli.o.gateway);
    if (cli.o.shard_count)
        printf("shard %d/%d\n", cli.o.shard_index, cli.o.shard_count);
    fflush(stdout);
    rc = wr_run(&cli.o, s, (size_t)n, &run);
    wr_run_free(&run);
    free_all(s, n);
    return rc;
}

int main(int argc, char **argv)
{
    struct sigaction sa;
    char argv_text[2048];
    size_t used = 0;

    for (int i = 0; i < argc && used < sizeof(argv_text); i++)
        used += (size_t)snprintf(argv_text + used, sizeof(argv_text) - used,
                                 "%s%s", i ? " " : "", argv[i]);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("wsrace %s\n", WSRACE_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "run") == 0 || strcmp(argv[1], "matrix") == 0)
        return cmd_run(argc - 1, argv + 1, argv[1], argv[0], argv_text);
    if (strcmp(argv[1], "replay") == 0)
        return wr_cli_replay(argc - 1, argv + 1, argv[0], argv_text,
                             &stop_requested);
    if (strcmp(argv[1], "diff") == 0)
        return wr_cli_diff(argc - 1, argv + 1);
    if (strcmp(argv[1], "merge") == 0)
        return wr_cli_merge(argc - 1, argv + 1, argv[0], argv_text);
    if (strcmp(argv[1], "check") == 0)
        return cmd_check(argc - 2, argv + 2);
    if (strcmp(argv[1], "list") == 0)
        return cmd_list(argc - 2, argv + 2);
    fprintf(stderr, "wsrace: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
