/* wr_clock.h - The shared clock: CLOCK_MONOTONIC now, in ns. The gateway
 * stamps its trace with it and the harness every event it records, so
 * one history orders them all; every stage that takes a time reads it
 * here. */
#ifndef WR_CLOCK_H
#define WR_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t wr_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#endif
