/* rusage.c - Runs a command and writes what it cost: peak RSS, CPU
 * seconds, wall time (scripts/bench's measuring wrapper).
 *
 *   wsrace-bench-rusage OUT.json CMD [ARG...]
 *
 * Why not /usr/bin/time: as `wsrace run --wrapper`, the wrapper is what
 * the harness stops with SIGTERM. GNU time dies of that signal without
 * writing its figures, and leaves the gateway running as an orphan. This
 * wrapper forwards SIGTERM, SIGINT and SIGHUP to the command, waits for
 * it, writes one JSON object to OUT.json, and then ends the way the
 * command ended (same exit code, or the same signal re-raised), so the
 * harness sees the gateway's own status. The command also dies with the
 * wrapper (PR_SET_PDEATHSIG).
 *
 * It also samples the command's VmRSS every 10 ms and reports the peak
 * while the command ran more than two threads ("peak_rss_kb_threaded"):
 * for wsrace, the peak while its client engine holds the connections,
 * before the case's history is checked and reported.
 *
 * And it samples the command's CPU time (utime + stime of every thread,
 * /proc/PID/stat, in clock ticks) at the same 10 ms, with the
 * CLOCK_MONOTONIC time of each sample ("cpu_samples": [[ns, cpu_ms],
 * ...], one per change): the same clock as the gateway's trace and
 * wsrace's history, so the benchmark can tell how much CPU a process spent
 * inside a window of those events (the handshakes of a load run). The
 * children's CPU is not in it: for wsrace, that is its own.
 *
 * Single-threaded; the only shared state is `child`, read by the signal
 * handler. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t child = -1; /* pid of the command */

static void forward(int sig)
{
    if (child > 0)
        kill((pid_t)child, sig);
}

/* VmRSS (kB) and thread count of pid from /proc; 0 when unknown. */
static void sample(pid_t pid, long *rss_kb, long *threads)
{
    char path[64], line[256];
    FILE *f;

    *rss_kb = *threads = 0;
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    if ((f = fopen(path, "re")) == NULL)
        return;
    while (fgets(line, sizeof(line), f) != NULL) {
        sscanf(line, "VmRSS: %ld", rss_kb);
        sscanf(line, "Threads: %ld", threads);
    }
    fclose(f);
}

/* CPU time (utime + stime, clock ticks) of pid from /proc; -1 when
 * unknown. The command name (field 2) may hold spaces and parentheses:
 * the fields are counted from its last ')'. */
static long long cpu_ticks(pid_t pid)
{
    char path[64], buf[1024], *p;
    unsigned long long ut, st;
    size_t n;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if ((f = fopen(path, "re")) == NULL)
        return -1;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    if ((p = strrchr(buf, ')')) == NULL)
        return -1;
    /* After ')': state(3) ppid pgrp session tty_nr tpgid flags minflt
     * cminflt majflt cmajflt utime(14) stime(15). */
    if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
               &ut, &st) != 2)
        return -1;
    return (long long)(ut + st);
}

static long long now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The CPU samples: [ns, ticks], kept when the ticks change. */
typedef struct {
    long long (*v)[2];
    size_t n, cap;
} samples_t;

static void keep(samples_t *s, long long ns, long long ticks)
{
    if (ticks < 0 || (s->n > 0 && s->v[s->n - 1][1] == ticks))
        return;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        void *p = realloc(s->v, cap * sizeof(*s->v));

        if (p == NULL)
            return; /* fewer samples, never a failed run */
        s->v = p;
        s->cap = cap;
    }
    s->v[s->n][0] = ns;
    s->v[s->n][1] = ticks;
    s->n++;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    struct sigaction sa;
    struct rusage ru;
    long peak_threaded = 0; /* kB */
    long hz = sysconf(_SC_CLK_TCK);
    samples_t cpu = {0};
    double t0;
    int status = 0;
    pid_t pid, parent = getpid();
    FILE *f;

    if (argc < 3) {
        fprintf(stderr, "usage: wsrace-bench-rusage OUT.json CMD [ARG...]\n");
        return 2;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = forward;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    t0 = now_s();
    pid = fork();
    if (pid < 0) {
        perror("wsrace-bench-rusage: fork");
        return 127;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127); /* the wrapper is already gone */
        execvp(argv[2], argv + 2);
        fprintf(stderr, "wsrace-bench-rusage: %s: %s\n", argv[2],
                strerror(errno));
        _exit(127);
    }
    child = pid;
    for (;;) {
        pid_t got = wait4(pid, &status, WNOHANG, &ru);
        struct timespec tick = {0, 10 * 1000 * 1000};
        long rss, threads;

        if (got == pid)
            break;
        if (got < 0 && errno != EINTR) {
            perror("wsrace-bench-rusage: wait4");
            return 127;
        }
        keep(&cpu, now_ns(), cpu_ticks(pid));
        sample(pid, &rss, &threads);
        if (threads > 2 && rss > peak_threaded)
            peak_threaded = rss;
        nanosleep(&tick, NULL);
    }
    f = fopen(argv[1], "w");
    if (f != NULL) {
        fprintf(f,
                "{\"maxrss_kb\":%ld,\"user_s\":%.3f,\"sys_s\":%.3f,"
                "\"cpu_s\":%.3f,\"wall_s\":%.3f,\"exit\":%d,\"signal\":%d,"
                "\"peak_rss_kb_threaded\":%ld,\"cpu_samples\":[",
                ru.ru_maxrss,
                (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
                (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6,
                (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6,
                now_s() - t0, WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                WIFSIGNALED(status) ? WTERMSIG(status) : 0, peak_threaded);
        for (size_t i = 0; i < cpu.n; i++)
            fprintf(f, "%s[%lld,%lld]", i ? "," : "", cpu.v[i][0],
                    hz > 0 ? cpu.v[i][1] * 1000 / hz : 0);
        fputs("]}\n", f);
        fclose(f);
    }
    free(cpu.v);
    if (WIFSIGNALED(status)) {
        signal(WTERMSIG(status), SIG_DFL);
        raise(WTERMSIG(status));
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 127;
}
