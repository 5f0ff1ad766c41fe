/* tool-broken.c - A program that is broken on request, to prove that each
 * tool setup (memcheck, helgrind, drd, ASan + UBSan, TSan) fails a test
 * when it should. Built only for the tool self-test (tool_selftest.py);
 * never part of the gateway.
 *
 * usage: tool-broken clean|uaf|leak|race|ub|fork-uaf
 *   uaf       reads a freed block (and does not crash)
 *   leak      loses a block for good (definitely lost)
 *   race      two threads increment one plain int, no lock
 *   ub        signed overflow (UBSan)
 *   fork-uaf  a forked child does the uaf and exits 0, as a Criterion
 *             test process would: the parent sees nothing wrong
 * Always exits 0: only a tool can tell that something went wrong. */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tool_broken.h"

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "clean";

    if (strcmp(mode, "fork-uaf") == 0) {
        pid_t pid = fork();
        int st;

        if (pid == 0) {
            broken_out = broken_uaf();
            _exit(0);
        }
        if (pid > 0)
            waitpid(pid, &st, 0);
        return 0;
    }
    if (broken_run(mode) != 0) {
        fprintf(stderr, "tool-broken: unknown mode %s\n", mode);
        return 2;
    }
    return 0;
}
