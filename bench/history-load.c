/* history-load.c - How fast a history loads and orders a big gateway trace
 * (scripts/bench; this measurement was a timed unit test before).
 *
 *   wsrace-bench-history [EVENTS]     default 300,000
 *
 * Writes a synthetic trace of EVENTS machine.transition lines (20 per
 * connection, 16 threads) to a temporary file, then times
 * wr_history_load_trace() + wr_history_sort() on it, three times, and
 * prints one JSON object: the median and the spread in seconds, and the
 * peak RSS of the process. Single-threaded. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "history/wr_history.h"

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 300000;
    char path[] = "/tmp/wsrace-bench-history-XXXXXX";
    double secs[3];
    struct rusage ru;
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

    if (f == NULL || n <= 0) {
        perror("wsrace-bench-history");
        return 1;
    }
    for (long i = 1; i <= n; i++) {
        long conn = i / 20 + 1;

        fprintf(f,
                "{\"seq\":%ld,\"ns\":%lld,\"thread\":\"w%ld\",\"event\":"
                "\"machine.transition\",\"conn\":%ld,\"key\":\"sess-%ld\","
                "\"from\":\"PROCESSING_READY\",\"to\":\"PROCESSING\","
                "\"result\":\"ok\"}\n",
                i, 1000000000LL + i * 1000LL, i % 16, conn, conn);
    }
    fclose(f);
    for (int k = 0; k < 3; k++) {
        wr_history_t *h = wr_history_new();
        double t0 = now_s();
        long got = h ? wr_history_load_trace(h, path, NULL) : -1;

        wr_history_sort(h);
        secs[k] = now_s() - t0;
        if (got != n || wr_history_at(h, (size_t)n - 1)->seq != (uint64_t)n) {
            fprintf(stderr, "wsrace-bench-history: loaded %ld of %ld\n", got,
                    n);
            unlink(path);
            return 1;
        }
        wr_history_free(h);
    }
    unlink(path);
    qsort(secs, 3, sizeof(*secs), cmp_dbl);
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"events\":%ld,\"load_s\":{\"median\":%.4f,\"min\":%.4f,"
           "\"max\":%.4f,\"n\":3},\"maxrss_kb\":%ld}\n",
           n, secs[1], secs[0], secs[2], ru.ru_maxrss);
    return 0;
}
