/* cmd_run.c - wsrace run, matrix and explore: plan, run, report.
 *
 * They share their options; matrix plans its rows (nothing, each fault,
 * each exposed mode, the seed bugs together) instead of --inject sets,
 * runs 10 seeds and 4 jobs by default and prints the matrix; explore
 * runs iterations with fresh seeds under a scheduling strategy until its
 * budget ends (run/wr_explore.h), with nothing injected by default. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cli/wr_cli.h"
#include "cli/wr_opts.h"
#include "drive/wr_tool.h"
#include "judge/wr_matrix.h"
#include "plan/wr_plan.h"
#include "run/wr_explore.h"
#include "run/wr_run.h"

#ifndef WSRACE_VERSION
#define WSRACE_VERSION "0.0.0"
#endif

#ifndef WSRACE_SUPPRESSIONS /* valgrind suppressions: lws, OpenSSL, libc */
#define WSRACE_SUPPRESSIONS "/nonexistent"
#endif

#define MAX_JOBS 256 /* processes at once; each holds a gateway */

enum {
    OPT_INJECT = 1,
    OPT_SEED,
    OPT_REPEAT,
    OPT_SEEDS,
    OPT_DIR,
    OPT_TARGET,
    OPT_URL,
    OPT_SECRET,
    OPT_SCALE,
    OPT_WRAPPER,
    OPT_NO_SYNC,
    OPT_EARLY,
    OPT_SHARD,
    OPT_JOBS,
    OPT_KEEP,
    OPT_BASELINE,
    OPT_WRITE_BASELINE,
    OPT_FAULTS,
    OPT_TOOL,
    OPT_TARGET_BUILD,
    OPT_SUPPRESSIONS,
    OPT_CHAOS,
    OPT_SYNC_CONTROL,
    OPT_STRATEGY,
    OPT_DEPTH,
    OPT_RUNS,
    OPT_BUDGET,
    OPT_KEEP_GOING,
    OPT_NO_SHRINK,
    OPT_SHRINK_BUDGET,
    OPT_CONFIRM,
    OPT_CELLS,
    OPT_HELP,
};

static const wr_opt_t options[] = {
    {"inject", OPT_INJECT, true},
    {"seed", OPT_SEED, true},
    {"repeat", OPT_REPEAT, true},
    {"seeds", OPT_SEEDS, true},
    {"report-dir", OPT_DIR, true},
    {"target", OPT_TARGET, true},
    {"url", OPT_URL, true},
    {"secret", OPT_SECRET, true},
    {"time-scale", OPT_SCALE, true},
    {"wrapper", OPT_WRAPPER, true},
    {"no-sync", OPT_NO_SYNC, false},
    {"early-verdict", OPT_EARLY, false},
    {"shard", OPT_SHARD, true},
    {"jobs", OPT_JOBS, true},
    {"keep", OPT_KEEP, true},
    {"baseline", OPT_BASELINE, true},
    {"write-baseline", OPT_WRITE_BASELINE, true},
    {"faults", OPT_FAULTS, true},
    {"tool", OPT_TOOL, true},
    {"target-build", OPT_TARGET_BUILD, true},
    {"suppressions", OPT_SUPPRESSIONS, true},
    {"chaos", OPT_CHAOS, false},
    {"sync-control", OPT_SYNC_CONTROL, true},
    {"strategy", OPT_STRATEGY, true},
    {"depth", OPT_DEPTH, true},
    {"runs", OPT_RUNS, true},
    {"budget", OPT_BUDGET, true},
    {"keep-going", OPT_KEEP_GOING, false},
    {"no-shrink", OPT_NO_SHRINK, false},
    {"shrink-budget", OPT_SHRINK_BUDGET, true},
    {"confirm", OPT_CONFIRM, true},
    {"cells", OPT_CELLS, true},
    {"help", OPT_HELP, false},
    {NULL, 0, false},
};

/* What run and matrix gather from the command line. */
typedef struct {
    wr_run_opts_t o;
    wr_inject_t *injects; /* --inject sets, or the matrix rows */
    size_t ninjects;
    char gateway[PATH_MAX];
    char build_path[PATH_MAX];
    const char *faults; /* matrix --faults */
    bool scale_given;   /* --time-scale was given */
    const char *build;  /* --target-build */
    bool matrix;
    bool explore;
    bool help;
    bool seed_given;
    wr_chaos_t chaos;      /* --chaos */
    wr_explore_opts_t x;   /* explore's own options */
    const char *cmd; /* "run" | "matrix" | "explore" */
} cli_t;

static wr_status_t bad_value(const char *cmd, const char *opt,
                             const char *want, const char *got)
{
    fprintf(stderr, "wsrace %s: --%s wants %s, got '%s'\n", cmd, opt, want,
            got);
    return WR_STATUS_BAD_INPUT;
}

/* --shard I/N */
static bool shard_arg(const char *s, int *index, int *count)
{
    const char *slash = strchr(s, '/');
    char i[16];

    if (slash == NULL || (size_t)(slash - s) >= sizeof(i))
        return false;
    snprintf(i, sizeof(i), "%.*s", (int)(slash - s), s);
    return wr_opts_int(i, 1, 1000, index) &&
           wr_opts_int(slash + 1, 1, 1000, count) && *index <= *count;
}

/* The options of explore alone. */
static wr_status_t apply_explore(cli_t *cli, const wr_opt_hit_t *h)
{
    wr_explore_opts_t *x = &cli->x;
    int n;

    if (!cli->explore)
        return bad_value(cli->cmd, h->name, "nothing (it is an option of "
                                            "wsrace explore)",
                         h->arg ? h->arg : "");
    switch (h->id) {
    case OPT_STRATEGY:
        if (strcmp(h->arg, "pct") == 0)
            x->strategy = WR_SCHED_PCT;
        else if (strcmp(h->arg, "random") == 0)
            x->strategy = WR_SCHED_RANDOM;
        else
            return bad_value(cli->cmd, h->name, "pct or random", h->arg);
        return WR_STATUS_OK;
    case OPT_DEPTH:
        if (!wr_opts_int(h->arg, 1, 100, &x->depth))
            return bad_value(cli->cmd, h->name, "1..100", h->arg);
        return WR_STATUS_OK;
    case OPT_RUNS:
        if (!wr_opts_int(h->arg, 1, 100000000, &n))
            return bad_value(cli->cmd, h->name, "1..100000000", h->arg);
        x->runs = n;
        return WR_STATUS_OK;
    case OPT_BUDGET:
        if (!wr_opts_double(h->arg, 0, 604800, &x->budget_s))
            return bad_value(cli->cmd, h->name,
                             "seconds in [0, 604800] (0: --runs alone)",
                             h->arg);
        return WR_STATUS_OK;
    case OPT_KEEP_GOING:
        x->keep_going = true;
        return WR_STATUS_OK;
    case OPT_NO_SHRINK:
        x->shrink = false;
        return WR_STATUS_OK;
    case OPT_SHRINK_BUDGET:
        if (!wr_opts_double(h->arg, 1, 86400, &x->shrink_budget_s))
            return bad_value(cli->cmd, h->name, "seconds in [1, 86400]",
                             h->arg);
        return WR_STATUS_OK;
    case OPT_CONFIRM:
        if (!wr_opts_int(h->arg, 1, 1000, &x->confirm))
            return bad_value(cli->cmd, h->name, "1..1000", h->arg);
        return WR_STATUS_OK;
    }
    return WR_STATUS_BAD_INPUT;
}

/* Applies one option. Returns WR_STATUS_OK or the status to end with. */
static wr_status_t apply(cli_t *cli, const wr_opt_hit_t *h)
{
    wr_run_opts_t *o = &cli->o;
    char err[512];

    switch (h->id) {
    case OPT_INJECT: {
        wr_inject_t *p;

        if (cli->matrix)
            return bad_value(cli->cmd, h->name, "nothing (use --faults)",
                             h->arg);
        p = realloc(cli->injects, (cli->ninjects + 1) * sizeof(*p));
        if (p == NULL)
            return WR_STATUS_INFRA;
        cli->injects = p;
        if (wr_inject_parse(h->arg, &p[cli->ninjects], err, sizeof(err))) {
            fprintf(stderr, "wsrace %s: --inject: %s (wsrace list shows "
                            "the faults)\n",
                    cli->cmd, err);
            return WR_STATUS_BAD_INPUT;
        }
        cli->ninjects++;
        return WR_STATUS_OK;
    }
    case OPT_SEED:
        if (!wr_opts_u64(h->arg, &o->plan.seed))
            return bad_value(cli->cmd, h->name, "a whole number >= 0",
                             h->arg);
        cli->seed_given = true;
        return WR_STATUS_OK;
    case OPT_CHAOS:
        cli->chaos = WR_CHAOS_DEFAULT;
        o->plan.chaos = &cli->chaos;
        cli->x.chaos = true;
        return WR_STATUS_OK;
    case OPT_SYNC_CONTROL:
        if (h->arg[0] == '\0')
            return bad_value(cli->cmd, h->name, "a socket path", h->arg);
        o->sync_control = h->arg;
        return WR_STATUS_OK;
    case OPT_STRATEGY:
    case OPT_DEPTH:
    case OPT_RUNS:
    case OPT_BUDGET:
    case OPT_KEEP_GOING:
    case OPT_NO_SHRINK:
    case OPT_SHRINK_BUDGET:
    case OPT_CONFIRM:
        return apply_explore(cli, h);
    case OPT_REPEAT:
    case OPT_SEEDS:
        if (!wr_opts_int(h->arg, 1, 100000, &o->plan.repeat))
            return bad_value(cli->cmd, h->name, "1..100000", h->arg);
        return WR_STATUS_OK;
    case OPT_DIR:
        if (h->arg[0] == '\0')
            return bad_value(cli->cmd, h->name, "a directory", h->arg);
        o->report_root = h->arg;
        return WR_STATUS_OK;
    case OPT_TARGET:
        o->gateway = h->arg;
        return WR_STATUS_OK;
    case OPT_URL:
        o->url = h->arg;
        return WR_STATUS_OK;
    case OPT_SECRET:
        o->secret = h->arg;
        return WR_STATUS_OK;
    case OPT_SCALE:
        if (!wr_opts_double(h->arg, 0.1, 1000, &o->time_scale))
            return bad_value(cli->cmd, h->name, "a number in [0.1, 1000]",
                             h->arg);
        cli->scale_given = true;
        return WR_STATUS_OK;
    case OPT_TOOL: {
        int t = wr_tool_from_name(h->arg);

        if (t < 0 || !wr_tool_is_valgrind((wr_tool_t)t))
            return bad_value(cli->cmd, h->name, "memcheck, helgrind or drd",
                             h->arg);
        o->tool = t;
        return WR_STATUS_OK;
    }
    case OPT_TARGET_BUILD:
        cli->build = h->arg;
        return WR_STATUS_OK;
    case OPT_SUPPRESSIONS:
        o->suppressions = h->arg;
        return WR_STATUS_OK;
    case OPT_WRAPPER:
        o->wrapper = h->arg;
        return WR_STATUS_OK;
    case OPT_NO_SYNC:
        o->plan.no_sync = true;
        return WR_STATUS_OK;
    case OPT_EARLY:
        o->early_verdict = true;
        return WR_STATUS_OK;
    case OPT_SHARD:
        if (!shard_arg(h->arg, &o->plan.shard_index, &o->plan.shard_count))
            return bad_value(cli->cmd, h->name, "I/N with 1 <= I <= N <= 1000",
                             h->arg);
        return WR_STATUS_OK;
    case OPT_JOBS:
        if (!wr_opts_int(h->arg, 1, MAX_JOBS, &o->jobs))
            return bad_value(cli->cmd, h->name, "1..256", h->arg);
        return WR_STATUS_OK;
    case OPT_KEEP:
        if (!wr_opts_int(h->arg, 1, 1000000, &o->keep))
            return bad_value(cli->cmd, h->name, "a count >= 1", h->arg);
        return WR_STATUS_OK;
    case OPT_BASELINE:
        o->baseline = h->arg;
        return WR_STATUS_OK;
    case OPT_WRITE_BASELINE:
        o->write_baseline = h->arg;
        return WR_STATUS_OK;
    case OPT_CELLS:
        if (!cli->matrix)
            return bad_value(cli->cmd, h->name, "nothing (it is an option "
                                                "of wsrace matrix)",
                             h->arg);
        if (strcmp(h->arg, "exposed") == 0)
            o->plan.exposed_cells = true;
        else if (strcmp(h->arg, "all") == 0)
            o->plan.exposed_cells = false;
        else
            return bad_value(cli->cmd, h->name, "exposed or all", h->arg);
        return WR_STATUS_OK;
    case OPT_FAULTS:
        if (!cli->matrix)
            return bad_value(cli->cmd, h->name, "nothing (use --inject)",
                             h->arg);
        cli->faults = h->arg;
        return WR_STATUS_OK;
    case OPT_HELP:
        cli->help = true;
        return WR_STATUS_OK;
    }
    return WR_STATUS_BAD_INPUT;
}

/* --tool and --target-build: the gateway to run, its wrapper, the time
 * scale (valgrind is 20-100 times slower), the sanitizers' options. */
static wr_status_t apply_analysis(cli_t *cli)
{
    wr_run_opts_t *o = &cli->o;
    const char *b = cli->build;
    bool given = o->gateway != cli->gateway;

    if (b != NULL) {
        const char *colon = strchr(b, ':');
        size_t n = colon ? (size_t)(colon - b) : strlen(b);

        if (o->tool != WR_TOOL_NONE || o->url || given) {
            fprintf(stderr,
                    "wsrace %s: --target-build excludes --tool, "
                    "--url and --target\n",
                    cli->cmd);
            return WR_STATUS_BAD_INPUT;
        }
        if (n == 4 && strncmp(b, "asan", 4) == 0)
            o->tool = WR_TOOL_ASAN;
        else if (n == 4 && strncmp(b, "tsan", 4) == 0)
            o->tool = WR_TOOL_TSAN;
        else
            return bad_value(cli->cmd, "target-build",
                             "asan, tsan, asan:PATH or tsan:PATH", b);
        if ((size_t)(colon != NULL
                         ? snprintf(cli->build_path, sizeof(cli->build_path),
                                    "%s", colon + 1)
                         : snprintf(cli->build_path, sizeof(cli->build_path),
                                    "%s-%.4s", cli->gateway, b)) >=
            sizeof(cli->build_path))
            return bad_value(cli->cmd, "target-build", "a shorter path", b);
        if (access(cli->build_path, X_OK) != 0) {
            fprintf(stderr,
                    "wsrace %s: --target-build %s: no sanitizer gateway at "
                    "%s (the build makes wsrace-gateway-asan and -tsan next "
                    "to wsrace-gateway)\n",
                    cli->cmd, b, cli->build_path);
            return WR_STATUS_BAD_INPUT;
        }
        o->gateway = cli->build_path;
        /* Stacks for UBSan; keep going after a TSan report. */
        setenv("UBSAN_OPTIONS", "print_stacktrace=1", 0);
        setenv("TSAN_OPTIONS", "halt_on_error=0", 0);
    }
    if (o->tool != WR_TOOL_NONE && o->url != NULL) {
        fprintf(stderr,
                "wsrace %s: --tool needs a gateway of ours, not --url\n",
                cli->cmd);
        return WR_STATUS_BAD_INPUT;
    }
    if (o->tool != WR_TOOL_NONE && b == NULL && o->wrapper != NULL) {
        fprintf(stderr, "wsrace %s: --tool and --wrapper exclude each other\n",
                cli->cmd);
        return WR_STATUS_BAD_INPUT;
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
    if (wr_tool_is_valgrind((wr_tool_t)o->tool) && o->suppressions == NULL &&
        access(WSRACE_SUPPRESSIONS, R_OK) == 0)
        o->suppressions = WSRACE_SUPPRESSIONS;
    return WR_STATUS_OK;
}

static void cli_init(cli_t *cli, const char *cmd, const wr_cli_env_t *env)
{
    memset(cli, 0, sizeof(*cli));
    wr_cli_default_gateway(cli->gateway, sizeof(cli->gateway));
    cli->cmd = cmd;
    cli->matrix = strcmp(cmd, "matrix") == 0;
    cli->explore = strcmp(cmd, "explore") == 0;
    cli->o.plan.kind = cmd;
    cli->o.plan.seed = 1;
    cli->o.plan.repeat = cli->matrix ? 10 : 1;
    cli->o.self = env->self;
    cli->o.gateway = cli->gateway;
    cli->o.report_root = "reports";
    /* A matrix case and an exploration iteration spend most of their time
     * in the scenario's own waits (an explored 2-client race: 100 of
     * about 130 ms), so twice the cores' worth of cases keeps 2 cores
     * busy. */
    cli->o.jobs = cli->matrix || cli->explore ? 4 : 1;
    cli->o.plan.exposed_cells = cli->matrix;
    cli->x.strategy = WR_SCHED_PCT;
    cli->x.depth = 3;
    cli->x.budget_s = 60;
    cli->x.shrink = true;
    cli->x.shrink_budget_s = 60;
    /* Ten: a shrunk case that replays 4 times in 5 passes five
     * confirmations a third of the time, ten only one time in ten. */
    cli->x.confirm = 10;
    cli->x.max_shrink = 3;
    cli->o.print_matrix = cli->matrix;
    cli->o.secret = wr_cli_secret();
    cli->o.time_scale = 1.0;
    cli->o.argv_text = env->argv_text;
    cli->o.stop = env->stop;
}

/* Raises the descriptor limit: each client needs one, plus headroom. */
static void raise_nofile(size_t clients)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)clients + 256;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
        return;
    rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
}

wr_status_t wr_cmd_run(const char *cmd, int argc, char **argv,
                       const wr_cli_env_t *env)
{
    cli_t cli;
    wr_args_t args;
    wr_scenario_t **s = NULL;
    wr_run_t run;
    size_t n = 0, most = 0;
    char err[1024];
    wr_status_t st = WR_STATUS_OK;

    cli_init(&cli, cmd, env);
    if (wr_opts_parse(argc, argv, options, &args, err, sizeof(err)) != 0) {
        fprintf(stderr, "wsrace %s: %s (wsrace --help)\n", cmd, err);
        return WR_STATUS_BAD_INPUT;
    }
    for (size_t i = 0; i < args.nhits && st == WR_STATUS_OK; i++)
        st = apply(&cli, &args.hits[i]);
    if (st == WR_STATUS_OK && cli.help) {
        wr_cli_usage(stdout);
        goto out;
    }
    if (st == WR_STATUS_OK && cli.o.url != NULL && cli.o.gateway != cli.gateway) {
        fprintf(stderr, "wsrace %s: --target and --url exclude each other\n",
                cmd);
        st = WR_STATUS_BAD_INPUT;
    }
    if (st == WR_STATUS_OK)
        st = apply_analysis(&cli);
    if (st == WR_STATUS_OK && cli.o.baseline &&
        !wr_matrix_baseline_ok(cli.o.baseline, err, sizeof(err))) {
        fprintf(stderr, "wsrace %s: --baseline: %s\n", cmd, err);
        st = WR_STATUS_BAD_INPUT;
    }
    if (st == WR_STATUS_OK && cli.o.sync_control != NULL &&
        cli.o.url == NULL) {
        fprintf(stderr, "wsrace %s: --sync-control is for a gateway at --url "
                        "(ours gets a socket of its own)\n",
                cmd);
        st = WR_STATUS_BAD_INPUT;
    }
    if (st == WR_STATUS_OK && cli.explore && cli.o.tool != WR_TOOL_NONE) {
        fprintf(stderr, "wsrace explore: explore natively; replay a finding "
                        "under --tool or --target-build afterwards\n");
        st = WR_STATUS_BAD_INPUT;
    }
    if (st == WR_STATUS_OK && cli.explore && cli.x.budget_s <= 0 &&
        cli.x.runs <= 0) {
        fprintf(stderr, "wsrace explore: --budget 0 needs --runs N\n");
        st = WR_STATUS_BAD_INPUT;
    }
    if (st == WR_STATUS_OK && cli.explore && cli.ninjects == 0) {
        /* Explore the target as it is unless told otherwise. */
        cli.injects = calloc(1, sizeof(*cli.injects));
        if (cli.injects == NULL)
            st = WR_STATUS_INFRA;
        else
            cli.injects[cli.ninjects++].kind = WR_INJECT_NONE;
    }
    if (st == WR_STATUS_OK && cli.explore && !cli.seed_given) {
        /* Fresh seeds each time: a CI that explores daily covers new
         * ground; the seed is printed and in every replay. */
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        cli.o.plan.seed = ((unsigned long long)ts.tv_sec * 1000003ULL ^
                           (unsigned long long)ts.tv_nsec ^
                           (unsigned long long)getpid() << 20) %
                          1000000000ULL;
    }
    if (st == WR_STATUS_OK)
        st = wr_cli_load_scenarios(cmd, args.operands, args.noperands,
                                   cli.matrix || cli.explore, &s, &n);
    if (st == WR_STATUS_OK && cli.matrix) {
        free(cli.injects);
        cli.injects = NULL;
        if (cli.o.url != NULL) {
            /* An external gateway: nothing can be injected. */
            cli.injects = calloc(1, sizeof(*cli.injects));
            if (cli.injects == NULL)
                st = WR_STATUS_INFRA;
            else
                cli.injects[cli.ninjects++].kind = WR_INJECT_NONE;
        } else if (wr_plan_matrix_rows(s, n, cli.faults, &cli.injects,
                                       &cli.ninjects, err, sizeof(err)) != 0) {
            fprintf(stderr,
                    "wsrace matrix: --faults: %s (wsrace list shows them; "
                    "seed-bugs names the seed bugs together)\n",
                    err);
            st = WR_STATUS_BAD_INPUT;
        }
    }
    if (st != WR_STATUS_OK)
        goto out;
    cli.o.plan.injects = cli.injects;
    cli.o.plan.ninjects = cli.ninjects;
    cli.o.plan.fit_faults = cli.matrix;
    for (size_t i = 0; i < n; i++)
        if (wr_scenario_clients(s[i]) > most)
            most = wr_scenario_clients(s[i]);
    raise_nofile(most * (size_t)(cli.o.jobs > 1 ? cli.o.jobs : 1));
    if (cli.explore) {
        printf("wsrace %s: explore, %zu scenario(s), strategy %s", WSRACE_VERSION,
               n, wr_sched_kind_name(cli.x.strategy));
        if (cli.x.strategy == WR_SCHED_PCT)
            printf(" depth %d", cli.x.depth);
        printf("%s, first seed %llu, ", cli.x.chaos ? ", chaos" : "",
               cli.o.plan.seed);
        if (cli.x.budget_s > 0)
            printf("budget %.0f s", cli.x.budget_s);
        if (cli.x.runs > 0)
            printf("%s%ld runs", cli.x.budget_s > 0 ? " or " : "",
                   cli.x.runs);
        printf(", %d job(s), target %s\n",
               cli.o.url ? 1 : cli.o.jobs,
               cli.o.url ? cli.o.url : cli.o.gateway);
    } else {
        printf("wsrace %s: %s, %zu scenario(s), seed %llu%s%d, target %s\n",
               WSRACE_VERSION, cmd, n, cli.o.plan.seed,
               cli.matrix ? ", seeds " : ", repeat ", cli.o.plan.repeat,
               cli.o.url ? cli.o.url : cli.o.gateway);
    }
    if (cli.o.plan.shard_count)
        printf("shard %d/%d\n", cli.o.plan.shard_index,
               cli.o.plan.shard_count);
    fflush(stdout);
    if (cli.explore) {
        cli.x.run = cli.o;
        st = wr_explore(&cli.x, s, n, &run);
    } else {
        st = wr_run(&cli.o, s, n, &run);
    }
    wr_run_free(&run);
out:
    wr_cli_free_scenarios(s, n);
    free(cli.injects);
    wr_args_free(&args);
    return st;
}
