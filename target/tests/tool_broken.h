/* tool_broken.h - Deliberate bugs for the tool self-test: a use after
 * free, a definitely lost block, a data race, undefined behaviour. Header
 * only, shared by tool-broken.c and tool-broken-criterion.c. Each bug is
 * written so that the optimiser keeps it and a plain run does not crash. */
#ifndef TOOL_BROKEN_H
#define TOOL_BROKEN_H

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static void *volatile broken_sink;
static volatile int broken_counter; /* raced on, deliberately */
static volatile int broken_big = 0x7fffffff;
static volatile int broken_out; /* results land here, so they are kept */

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuse-after-free"
#endif
static inline int broken_uaf(void)
{
    volatile char *volatile p = malloc(32);

    p[3] = 7;
    free((void *)p);
    return p[3]; /* the bug: a read of a freed block */
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

static inline void broken_leak(void)
{
    broken_sink = malloc(77);
    memset(broken_sink, 1, 77);
    broken_sink = NULL; /* the bug: the only pointer is gone */
}

static void *broken_racer(void *arg)
{
    for (int i = 0; i < 20000; i++)
        broken_counter = broken_counter + 1; /* the bug: no lock */
    return arg;
}

static inline void broken_race(void)
{
    pthread_t a, b;

    pthread_create(&a, NULL, broken_racer, NULL);
    pthread_create(&b, NULL, broken_racer, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
}

static inline int broken_ub(void)
{
    int x = broken_big;

    return x + 1; /* the bug: signed overflow */
}

/* Runs the bug named mode; 0, or -1 for an unknown mode. */
static inline int broken_run(const char *mode)
{
    if (strcmp(mode, "clean") == 0)
        return 0;
    if (strcmp(mode, "uaf") == 0)
        return broken_out = broken_uaf(), 0;
    if (strcmp(mode, "leak") == 0)
        return broken_leak(), 0;
    if (strcmp(mode, "race") == 0)
        return broken_race(), 0;
    if (strcmp(mode, "ub") == 0)
        return broken_out = broken_ub(), 0;
    return -1;
}

#endif
