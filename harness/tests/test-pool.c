/* test-pool.c - Warm gateways (wr_pool.c) against the real gateway
 * ($WSRACE_GATEWAY): a spare goes only to a case with exactly its
 * options, the pool holds at most its bound, every spare is stopped when
 * it is not taken or the pool is drained, and a harness killed by SIGKILL
 * leaves none behind.
 *
 * A gateway is found by its case directory on its command line (the
 * --trace path), a unique temporary directory per test. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "drive/wr_pool.h"
#include "drive/wr_target.h"

static const char *gateway_path(void)
{
    const char *p = getenv("WSRACE_GATEWAY");

    cr_assert(p != NULL, "WSRACE_GATEWAY is not set");
    return p;
}

static void tmpdir(char *dir, size_t len)
{
    snprintf(dir, len, "/tmp/wr-pool-XXXXXX");
    cr_assert(mkdtemp(dir) != NULL);
}

static void rm_dir(const char *dir)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    cr_assert(eq(int, system(cmd), 0));
}

/* Processes (not zombies) whose command line holds s. */
static int procs_with(const char *s)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    int n = 0;

    cr_assert(d != NULL);
    while ((e = readdir(d)) != NULL) {
        char path[300], buf[4096], st[512];
        ssize_t k;
        int fd;

        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
        if ((fd = open(path, O_RDONLY)) < 0)
            continue;
        k = read(fd, st, sizeof(st) - 1);
        close(fd);
        if (k <= 0)
            continue;
        st[k] = '\0';
        if (strstr(st, ") Z ") != NULL)
            continue;
        snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
        if ((fd = open(path, O_RDONLY)) < 0)
            continue;
        k = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (k <= 0)
            continue;
        for (ssize_t i = 0; i < k; i++)
            if (buf[i] == '\0')
                buf[i] = ' ';
        buf[k] = '\0';
        if (strstr(buf, s) != NULL)
            n++;
    }
    closedir(d);
    return n;
}

/* Waits up to ms for no process to hold s on its command line. */
static bool gone_within(const char *s, int ms)
{
    for (int t = 0; t < ms; t += 20) {
        struct timespec ts = {0, 20 * 1000000L};

        if (procs_with(s) == 0)
            return true;
        nanosleep(&ts, NULL);
    }
    return procs_with(s) == 0;
}

static wr_target_opts_t opts(const char *dir, char **args)
{
    wr_target_opts_t o = {0};

    o.path = gateway_path();
    o.dir = dir;
    o.args = args;
    o.secret = "pool-test-secret";
    o.start_timeout_ms = 10000;
    return o;
}

Test(pool, a_spare_goes_to_the_case_with_its_options, .timeout = 60)
{
    char dir[64], *args[] = {"--seed", "7", NULL}, *same[] = {"--seed", "7",
                                                             NULL};
    wr_pool_t *p = wr_pool_new(1);
    wr_target_t t;
    wr_target_opts_t o, o2;
    char *body = NULL;

    tmpdir(dir, sizeof(dir));
    o = opts(dir, args);
    cr_assert(eq(int, wr_pool_warm(p, &o), 0));
    cr_assert(eq(sz, wr_pool_spares(p), 1));
    o2 = opts(dir, same); /* equal, not the same pointers */
    cr_assert(eq(int, wr_pool_take(p, &t, &o2), 0));
    cr_assert(eq(sz, wr_pool_spares(p), 0));
    cr_assert(eq(sz, wr_pool_taken(p), 1));
    cr_assert(eq(int, t.state, WR_TARGET_OK));
    cr_assert(t.up_ns >= t.spawn_ns && t.port > 0);
    cr_assert(eq(int, wr_http_get(t.host, t.port, "/healthz", 2000, &body),
                 200));
    free(body);
    cr_assert(strstr(t.trace_path, dir) == t.trace_path,
              "its trace is in the case's directory");
    wr_target_stop(&t, 5000);
    cr_assert(gone_within(dir, 5000));
    wr_pool_free(p);
    rm_dir(dir);
}

Test(pool, at_most_its_bound, .timeout = 60)
{
    char a[64], b[64], *args[] = {"--seed", "1", NULL};
    wr_pool_t *p = wr_pool_new(1);
    wr_target_opts_t oa, ob;

    tmpdir(a, sizeof(a));
    tmpdir(b, sizeof(b));
    oa = opts(a, args);
    ob = opts(b, args);
    cr_assert(eq(int, wr_pool_warm(p, &oa), 0));
    cr_assert(eq(int, wr_pool_warm(p, &ob), -EBUSY));
    cr_assert(eq(int, wr_pool_warm(p, &oa), -EBUSY));
    cr_assert(eq(sz, wr_pool_spares(p), 1));
    cr_assert(eq(int, procs_with(b), 0), "no process for the refused one");
    wr_pool_free(p);
    cr_assert(gone_within(a, 5000), "freed: the spare is stopped");
    rm_dir(a);
    rm_dir(b);
}

Test(pool, one_spare_per_directory, .timeout = 60)
{
    char a[64], *args[] = {"--seed", "1", NULL};
    wr_pool_t *p = wr_pool_new(2);
    wr_target_opts_t oa;

    tmpdir(a, sizeof(a));
    oa = opts(a, args);
    cr_assert(eq(int, wr_pool_warm(p, &oa), 0));
    cr_assert(eq(int, wr_pool_warm(p, &oa), -EEXIST));
    cr_assert(eq(sz, wr_pool_spares(p), 1));
    wr_pool_drain(p, 5000);
    cr_assert(eq(sz, wr_pool_spares(p), 0));
    cr_assert(gone_within(a, 5000));
    wr_pool_free(p);
    rm_dir(a);
}

/* A spare started for other options is not handed out, and is stopped:
 * it would write into the case's files. */
Test(pool, other_options_get_no_spare, .timeout = 60)
{
    char a[64], *args[] = {"--seed", "1", NULL},
                *other[] = {"--seed", "2", NULL},
                *more[] = {"--seed", "1", "--inject", "registry-leak", NULL};
    wr_pool_t *p = wr_pool_new(1);
    wr_target_opts_t o = {0}, q;
    wr_target_t t;

    tmpdir(a, sizeof(a));
    o = opts(a, args);
    cr_assert(eq(int, wr_pool_warm(p, &o), 0));
    q = opts(a, other);
    cr_assert(eq(int, wr_pool_take(p, &t, &q), -ENOENT));
    cr_assert(eq(sz, wr_pool_spares(p), 0));
    cr_assert(eq(sz, wr_pool_wasted(p), 1));
    cr_assert(gone_within(a, 5000), "the spare is stopped");

    cr_assert(eq(int, wr_pool_warm(p, &o), 0));
    q = opts(a, more);
    cr_assert(eq(int, wr_pool_take(p, &t, &q), -ENOENT), "an injection more");
    cr_assert(gone_within(a, 5000));
    wr_pool_free(p);
    rm_dir(a);
}

Test(pool, same_compares_every_option)
{
    char *a1[] = {"--seed", "1", NULL}, *a2[] = {"--seed", "1", NULL},
         *a3[] = {"--seed", "1", "--sync-control", "/tmp/s", NULL};
    wr_target_opts_t a = {.path = "/gw", .dir = "/d", .args = a1};
    wr_target_opts_t b = a;

    b.args = a2;
    cr_assert(wr_pool_same(&a, &b));
    b.args = a3;
    cr_assert(not(wr_pool_same(&a, &b)), "an option more");
    b = a;
    b.dir = "/e";
    cr_assert(not(wr_pool_same(&a, &b)), "another directory");
    b = a;
    b.path = "/gw2";
    cr_assert(not(wr_pool_same(&a, &b)), "another program");
    b = a;
    b.wrapper = "valgrind";
    cr_assert(not(wr_pool_same(&a, &b)), "a wrapper");
    b = a;
    b.secret = "s";
    cr_assert(not(wr_pool_same(&a, &b)), "another secret");
    b = a;
    b.tag = "0";
    cr_assert(not(wr_pool_same(&a, &b)), "an instance of a cluster");
    b = a;
    b.port = 8080;
    cr_assert(not(wr_pool_same(&a, &b)), "a fixed port");
    b = a;
    b.args = NULL;
    cr_assert(not(wr_pool_same(&a, &b)), "no options");
}

/* A spare whose gateway cannot start is not handed out either: the case
 * starts its own, which then says why. */
Test(pool, a_spare_that_does_not_come_up_is_not_taken, .timeout = 60)
{
    char a[64], *bad[] = {"--no-such-option", NULL};
    wr_pool_t *p = wr_pool_new(1);
    wr_target_opts_t o;
    wr_target_t t;

    tmpdir(a, sizeof(a));
    o = opts(a, bad);
    cr_assert(eq(int, wr_pool_warm(p, &o), 0));
    cr_assert(eq(int, wr_pool_take(p, &t, &o), -ENOENT));
    cr_assert(eq(sz, wr_pool_spares(p), 0));
    cr_assert(gone_within(a, 5000));
    wr_pool_free(p);
    rm_dir(a);
}

/* The harness dies by SIGKILL with a spare up: the spare follows it
 * (PR_SET_PDEATHSIG and its lifeline). */
Test(pool, a_killed_harness_leaves_no_spare, .timeout = 60)
{
    char a[64];
    int ready[2];
    pid_t h;
    char c;

    tmpdir(a, sizeof(a));
    cr_assert(eq(int, pipe(ready), 0));
    h = fork();
    cr_assert(h >= 0);
    if (h == 0) {
        char *args[] = {"--seed", "3", NULL};
        wr_pool_t *p = wr_pool_new(1);
        wr_target_opts_t o = opts(a, args);
        wr_target_t t;

        if (wr_pool_warm(p, &o) != 0)
            _exit(1);
        /* Up, then a second spare started and left starting. */
        if (wr_pool_take(p, &t, &o) != 0)
            _exit(2);
        if (wr_pool_warm(p, &o) != 0)
            _exit(3);
        if (write(ready[1], "x", 1) != 1)
            _exit(4);
        pause();
        _exit(0);
    }
    close(ready[1]);
    cr_assert(eq(int, (int)read(ready[0], &c, 1), 1), "the harness warmed");
    cr_assert(procs_with(a) >= 1);
    kill(h, SIGKILL);
    waitpid(h, NULL, 0);
    cr_assert(gone_within(a, 10000), "no gateway outlives the harness");
    close(ready[0]);
    rm_dir(a);
}
