/* test-pool.c - The worker pool (gw_pool.c).
 *
 * A pool of N workers must keep N workers for its whole life: every job
 * submitted runs, and at any moment N jobs can run at once. The second
 * half is the one a lost wake-up breaks: a worker woken for a job that
 * another worker took first must go back to waiting, not leave. Bursts
 * from several threads at once (lined up with a barrier) make that
 * happen often; a rendezvous of N jobs afterwards shows whether all N
 * workers are still there, since N - 1 workers cannot run N jobs that
 * wait for each other.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "gw_pool.h"

#define WORKERS    4
#define SUBMITTERS 4
#define BURST      20000 /* jobs per submitter */
#define WAIT_MS    3000  /* bound of every wait in this file */

/* Counts the jobs that ran. */
static void count_job(void *arg)
{
    atomic_fetch_add((_Atomic long *)arg, 1);
}

typedef struct {
    gw_pool_t *pool;
    pthread_barrier_t go;
    _Atomic long ran;
} burst_t;

static void *submitter(void *arg)
{
    burst_t *b = arg;

    pthread_barrier_wait(&b->go);
    for (int k = 0; k < BURST; k++)
        cr_assert(eq(int, gw_pool_submit(b->pool, count_job, &b->ran), 0));
    return NULL;
}

/* N jobs that each wait, bounded, until all N are running. */
typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int arrived;  /* guarded by lock */
    int finished; /* guarded by lock */
    int alone;    /* jobs that gave up waiting for the others; lock */
} rendezvous_t;

static struct timespec deadline(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += WAIT_MS / 1000;
    return ts;
}

static void rendezvous_job(void *arg)
{
    rendezvous_t *rv = arg;
    struct timespec until = deadline();
    int rc = 0;

    pthread_mutex_lock(&rv->lock);
    rv->arrived++;
    pthread_cond_broadcast(&rv->cond);
    while (rv->arrived < WORKERS && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&rv->cond, &rv->lock, &until);
    if (rv->arrived < WORKERS)
        rv->alone++;
    rv->finished++;
    pthread_cond_broadcast(&rv->cond);
    pthread_mutex_unlock(&rv->lock);
}

/* Waits, bounded, until *counter reaches want. */
static long wait_count(_Atomic long *counter, long want)
{
    for (int ms = 0; ms < WAIT_MS && atomic_load(counter) < want; ms++) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    return atomic_load(counter);
}

Test(pool, every_worker_stays_through_bursts_from_several_threads,
     .timeout = 60)
{
    burst_t b = {.pool = gw_pool_new(WORKERS)};
    pthread_t th[SUBMITTERS];
    rendezvous_t rv = {.lock = PTHREAD_MUTEX_INITIALIZER,
                       .cond = PTHREAD_COND_INITIALIZER};
    struct timespec until;
    int rc = 0;

    cr_assert(not(zero(ptr, b.pool)));
    pthread_barrier_init(&b.go, NULL, SUBMITTERS);
    for (int i = 0; i < SUBMITTERS; i++)
        cr_assert(eq(int, pthread_create(&th[i], NULL, submitter, &b), 0));
    for (int i = 0; i < SUBMITTERS; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&b.go);
    /* Every job ran, while the pool is still up. */
    cr_assert(eq(long, wait_count(&b.ran, (long)SUBMITTERS * BURST),
                 (long)SUBMITTERS * BURST));

    /* And every worker is still there: WORKERS jobs run at once. */
    for (int i = 0; i < WORKERS; i++)
        cr_assert(eq(int, gw_pool_submit(b.pool, rendezvous_job, &rv), 0));
    until = deadline();
    until.tv_sec += 1; /* the jobs' own bound ends first */
    pthread_mutex_lock(&rv.lock);
    while (rv.finished < WORKERS && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&rv.cond, &rv.lock, &until);
    cr_assert(eq(int, rv.arrived, WORKERS), "%d of %d workers left",
              rv.arrived, WORKERS);
    cr_assert(eq(int, rv.alone, 0), "%d job(s) never met the others",
              rv.alone);
    pthread_mutex_unlock(&rv.lock);
    gw_pool_free(b.pool);
}

Test(pool, free_runs_what_is_queued, .timeout = 30)
{
    gw_pool_t *p = gw_pool_new(2);
    _Atomic long ran = 0;

    cr_assert(not(zero(ptr, p)));
    for (int k = 0; k < 1000; k++)
        cr_assert(eq(int, gw_pool_submit(p, count_job, &ran), 0));
    gw_pool_free(p); /* drains, then joins */
    cr_assert(eq(long, atomic_load(&ran), 1000));
}
