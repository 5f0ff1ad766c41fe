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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "wr_check.h"
#include "wr_faults.h"
#include "wr_run.h"
#include "wr_scenario.h"

#ifndef WSRACE_VERSION
#define WSRACE_VERSION "0.0.0"
#endif

#define DEFAULT_SECRET "wsrace-harness-secret"
#define MAX_INJECTS    32

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void usage(FILE *f)
{
    fprintf(
        f, "usage: wsrace run [--inject LIST]... [--seed N] [--repeat N]\n"
           "                  [--report-dir DIR] [--target PATH | --url URL]\n"
           "                  [--secret S] [--time-scale X] [--wrapper CMD]\n"
           "                  SCENARIO...\n"
           "       wsrace check SCENARIO...\n"
           "       wsrace list [SCENARIO...]\n"
           "       wsrace --help | --version\n"
           "\n"
           "run      runs each scenario against a fresh gateway and writes\n"
           "         reports/<run-id>/ (summary.json, junit.xml, report.md,\n"
           "         cases/*/{trace,history}.jsonl, gateway.log)\n"
           "  --inject LIST  faults to inject: 'none', 'exposed' (each\n"
           "                 scenario's own `exposes`) or a comma list such\n"
           "                 as scope-loss=swallow,registry-leak; give it\n"
           "                 several times to run every scenario once per\n"
           "                 set (default: the scenario's gateway.inject)\n"
           "  --seed N       first seed (default 1); printed in every report\n"
           "  --repeat N     run each case on seeds N, N+1, ... (default 1)\n"
           "  --target PATH  gateway binary (default: next to wsrace)\n"
           "  --url URL      drive an external gateway (ws://HOST:PORT/PATH);\n"
           "                 checks that need its trace are UNKNOWN\n"
           "  --secret S     token secret (default $WSRACE_SECRET or a\n"
           "                 built-in test secret)\n"
           "  --time-scale X multiply every timeout (slow machines, valgrind)\n"
           "  --wrapper CMD  run the gateway under CMD, split on spaces\n"
           "                 (e.g. 'valgrind -q'; pair it with --time-scale)\n"
           "check    validates scenarios without running them\n"
           "list     shows the faults, the checks and the scenarios\n"
           "\n"
           "exit: 0 as expected, 1 unexpected verdict, 2 usage or scenario\n"
           "error, 3 target could not be run\n");
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

/* The gateway next to this binary: <bindir>/../target/wsrace-gateway. */
static void default_gateway(char *out, size_t len)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

    if (n <= 0) {
        snprintf(out, len, "build/target/wsrace-gateway");
        return;
    }
    self[n] = '\0';
    snprintf(out, len, "%s/../target/wsrace-gateway", dirname(self));
    if (realpath(out, self) != NULL)
        snprintf(out, len, "%s", self);
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

static int cmd_run(int argc, char **argv, const char *self,
                   const char *argv_text)
{
    static const struct option opts[] = {
        {"inject", required_argument, NULL, 'i'},
        {"seed", required_argument, NULL, 's'},
        {"repeat", required_argument, NULL, 'r'},
        {"report-dir", required_argument, NULL, 'd'},
        {"target", required_argument, NULL, 't'},
        {"url", required_argument, NULL, 'u'},
        {"secret", required_argument, NULL, 'k'},
        {"time-scale", required_argument, NULL, 'x'},
        {"wrapper", required_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *injects[MAX_INJECTS];
    char gateway[PATH_MAX];
    wr_run_opts_t o = {0};
    wr_scenario_t **s;
    wr_run_t run;
    size_t most = 0;
    int c, rc, n;
    char *end;

    default_gateway(gateway, sizeof(gateway));
    o.self = self;
    o.gateway = gateway;
    o.report_root = "reports";
    o.injects = injects;
    o.seed = 1;
    o.repeat = 1;
    o.secret =
        getenv("WSRACE_SECRET") ? getenv("WSRACE_SECRET") : DEFAULT_SECRET;
    o.time_scale = 1.0;
    o.argv_text = argv_text;
    o.stop = &stop_requested;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        switch (c) {
        case 'i':
            if (o.ninjects == MAX_INJECTS) {
                fprintf(stderr, "wsrace run: too many --inject\n");
                return 2;
            }
            injects[o.ninjects++] = optarg;
            break;
        case 's':
            errno = 0;
            o.seed = strtoull(optarg, &end, 10);
            if (errno || *end || optarg[0] == '-' || !optarg[0]) {
                fprintf(stderr,
                        "wsrace run: --seed wants an integer, got "
                        "'%s'\n",
                        optarg);
                return 2;
            }
            break;
        case 'r':
            o.repeat = (int)strtol(optarg, &end, 10);
            if (*end || o.repeat < 1 || o.repeat > 100000) {
                fprintf(stderr,
                        "wsrace run: --repeat wants 1..100000, got "
                        "'%s'\n",
                        optarg);
                return 2;
            }
            break;
        case 'd':
            o.report_root = optarg;
            break;
        case 't':
            o.gateway = optarg;
            o.gateway_given = true;
            break;
        case 'u':
            o.url = optarg;
            break;
        case 'k':
            o.secret = optarg;
            break;
        case 'x':
            o.time_scale = strtod(optarg, &end);
            if (*end || o.time_scale <= 0 || o.time_scale > 1000) {
                fprintf(stderr,
                        "wsrace run: --time-scale wants a number in "
                        "(0, 1000], got '%s'\n",
                        optarg);
                return 2;
            }
            break;
        case 'w':
            o.wrapper = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    n = argc - optind;
    if (n < 1) {
        fprintf(stderr, "wsrace run: no scenario given\n");
        usage(stderr);
        return 2;
    }
    if (o.url != NULL && o.gateway_given) {
        fprintf(stderr, "wsrace run: --target and --url exclude each other\n");
        return 2;
    }
    s = calloc((size_t)n, sizeof(*s));
    if (s == NULL)
        return 3;
    if (load_all(argv + optind, n, s) != 0) {
        free_all(s, n);
        return 2;
    }
    for (int i = 0; i < n; i++) {
        if (wr_scenario_clients(s[i]) > most)
            most = wr_scenario_clients(s[i]);
    }
    raise_nofile(most);
    printf("wsrace %s: %d scenario(s), seed %llu, target %s\n", WSRACE_VERSION,
           n, o.seed, o.url ? o.url : o.gateway);
    fflush(stdout);
    rc = wr_run(&o, s, (size_t)n, &run);
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
    if (strcmp(argv[1], "run") == 0)
        return cmd_run(argc - 1, argv + 1, argv[0], argv_text);
    if (strcmp(argv[1], "check") == 0)
        return cmd_check(argc - 2, argv + 2);
    if (strcmp(argv[1], "list") == 0)
        return cmd_list(argc - 2, argv + 2);
    fprintf(stderr, "wsrace: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
