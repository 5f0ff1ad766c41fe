/* main.c - The wsrace command line: dispatch a command, map its status to
 * the exit code.
 *
 * Exit codes: 0 every verdict as expected (check: every file valid), 1 an
 * unexpected verdict, 2 bad usage or input, 3 the target could not be run
 * or the report not written, 130 interrupted. */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "cli/wr_cli.h"

#ifndef WSRACE_VERSION
#define WSRACE_VERSION "0.0.0"
#endif

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

static int exit_code(wr_status_t st)
{
    switch (st) {
    case WR_STATUS_OK:
        return 0;
    case WR_STATUS_UNEXPECTED:
        return 1;
    case WR_STATUS_BAD_INPUT:
        return 2;
    case WR_STATUS_INFRA:
        return 3;
    case WR_STATUS_INTERRUPTED:
        return 130;
    }
    return 3;
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        wr_status_t (*fn)(int, char **, const wr_cli_env_t *);
    } commands[] = {
        {"replay", wr_cmd_replay}, {"diff", wr_cmd_diff},
        {"merge", wr_cmd_merge},   {"check", wr_cmd_check},
        {"list", wr_cmd_list},     {"shrink", wr_cmd_shrink},
    };
    struct sigaction sa;
    char argv_text[4096];
    size_t used = 0;
    wr_cli_env_t env = {argv[0], argv_text, &stop_requested};

    argv_text[0] = '\0';
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
        wr_cli_usage(stderr);
        return exit_code(WR_STATUS_BAD_INPUT);
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        wr_cli_usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("wsrace %s\n", WSRACE_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "run") == 0 || strcmp(argv[1], "matrix") == 0 ||
        strcmp(argv[1], "explore") == 0)
        return exit_code(wr_cmd_run(argv[1], argc - 2, argv + 2, &env));
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return exit_code(commands[i].fn(argc - 2, argv + 2, &env));
    fprintf(stderr, "wsrace: unknown command '%s'\n", argv[1]);
    wr_cli_usage(stderr);
    return exit_code(WR_STATUS_BAD_INPUT);
}
