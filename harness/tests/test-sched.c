/* test-sched.c - the scheduler's socket file (wr_sched.c): a target that
 * finds the file can connect, an old socket file is replaced, and nothing
 * that is not a socket, nor a newer runner's socket, is ever removed.
 *
 * A target that found a socket file nobody listened on would count the
 * runner as gone and run its sync points uncontrolled until it retried
 * (the Python adapter waits a second): a whole short case lost.
 *
 * Criterion 2.4.1: conditions are written as eq(int, cond ? 1 : 0, 1). */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "drive/wr_sched.h"

#define YES(c) eq(int, (c) ? 1 : 0, 1)

static char dir[64], path[96];

static void make_dir(void)
{
    snprintf(dir, sizeof(dir), "/tmp/wr-sched-XXXXXX");
    cr_assert(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/sync.sock", dir);
}

static void remove_dir(void)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    cr_expect(eq(int, system(cmd), 0));
}

TestSuite(sched, .init = make_dir, .fini = remove_dir);

/* connect(2) to p: 0, or the errno. */
static int try_connect(const char *p)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), rc;

    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", p);
    rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : errno;
    close(fd);
    return rc;
}

/* A socket file nobody listens on, as a runner killed by SIGKILL leaves. */
static void stale_socket(const char *p)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", p);
    cr_assert(eq(int, bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0));
    close(fd);
    cr_assert(eq(int, try_connect(p), ECONNREFUSED));
}

static const wr_schedule_t none = {.kind = WR_SCHED_NONE};

Test(sched, an_old_socket_file_is_replaced_by_one_that_answers)
{
    wr_sched_t *s = NULL;
    struct stat st;

    stale_socket(path);
    cr_assert(eq(int, wr_sched_start(&s, path, &none), 0));
    cr_expect(eq(int, try_connect(path), 0));
    cr_expect(YES(stat(path, &st) == 0 && (st.st_mode & 0077) == 0),
              "the socket file is the runner's alone");
    wr_sched_stop(s);
    cr_expect(YES(access(path, F_OK) != 0), "stop removes the file");
}

Test(sched, a_file_that_is_not_a_socket_is_refused_and_kept)
{
    wr_sched_t *s = NULL;
    FILE *f = fopen(path, "w");

    cr_assert(f != NULL);
    fputs("the user's\n", f);
    fclose(f);
    cr_expect(eq(int, wr_sched_start(&s, path, &none), -EEXIST));
    cr_expect(YES(s == NULL));
    cr_expect(YES(access(path, F_OK) == 0));
}

Test(sched, a_file_at_the_binding_name_that_is_not_a_socket_is_kept)
{
    char side[160];
    wr_sched_t *s = NULL;
    FILE *f;

    snprintf(side, sizeof(side), "%s.%d", path, (int)getpid());
    f = fopen(side, "w");
    cr_assert(f != NULL);
    fclose(f);
    /* Binding there fails: the start fails, and the file stays. */
    cr_expect(YES(wr_sched_start(&s, path, &none) != 0));
    cr_expect(YES(access(side, F_OK) == 0), "the file is not removed");
    cr_expect(YES(access(path, F_OK) != 0), "no half-made socket file");
}

Test(sched, stop_leaves_the_file_of_a_runner_started_since)
{
    wr_sched_t *a = NULL, *b = NULL;

    cr_assert(eq(int, wr_sched_start(&a, path, &none), 0));
    cr_assert(eq(int, wr_sched_start(&b, path, &none), 0));
    wr_sched_stop(a);
    cr_expect(eq(int, try_connect(path), 0),
              "the newer runner's socket is still there and answers");
    wr_sched_stop(b);
    cr_expect(YES(access(path, F_OK) != 0));
}

typedef struct {
    atomic_int done;
    long tries, refused;
} hammer_t;

static void *hammer(void *arg)
{
    hammer_t *h = arg;

    while (!atomic_load(&h->done)) {
        int rc = try_connect(path);

        h->tries++;
        h->refused += rc == ECONNREFUSED;
    }
    return NULL;
}

/* While runners start and stop at one path, a target connecting all the
 * time either finds no file or one that answers: never a file nobody
 * listens on. */
Test(sched, the_file_exists_only_while_a_runner_listens)
{
    hammer_t h = {0};
    pthread_t th;

    cr_assert(eq(int, pthread_create(&th, NULL, hammer, &h), 0));
    for (int i = 0; i < 300; i++) {
        wr_sched_t *s = NULL;

        cr_assert(eq(int, wr_sched_start(&s, path, &none), 0));
        wr_sched_stop(s);
    }
    atomic_store(&h.done, 1);
    pthread_join(th, NULL);
    cr_expect(YES(h.tries > 300), "%ld connects tried", h.tries);
    cr_expect(eq(long, h.refused, 0), "%ld of %ld connects found a file "
              "nobody listened on", h.refused, h.tries);
}
