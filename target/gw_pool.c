/* gw_pool.c - Worker pool.
 *
 * Threads: any thread submits; workers run jobs. `lock` guards the queue
 * and `stopping`; jobs run with no pool lock held. */
#include "gw_pool.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "gw_trace.h"

typedef struct job {
    struct job *next;
    gw_job_fn fn;
    void *arg;
} job_t;

typedef struct {
    struct gw_pool *pool;
    pthread_t tid;
    char name[16];
} worker_t;

struct gw_pool {
    pthread_mutex_t lock; /* guards head, tail, stopping */
    pthread_cond_t cond;  /* signalled on new work and on stop */
    job_t *head, *tail;
    bool stopping;
    unsigned n;
    worker_t *workers;
};

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    gw_pool_t *p = w->pool;

    gw_trace_set_thread_name(w->name);
    pthread_setname_np(pthread_self(), "gw-worker"); /* for ps and perf */
    for (;;) {
        job_t *j;

        pthread_mutex_lock(&p->lock);
        while (!p->head && !p->stopping)
            pthread_cond_wait(&p->cond, &p->lock);
        j = p->head;
        if (j) {
            p->head = j->next;
            if (!p->head)
                p->tail = NULL;
        }
        pthread_mutex_unlock(&p->lock);
        if (!j)
            return NULL; /* stopping and drained */
        j->fn(j->arg);
        free(j);
    }
}

gw_pool_t *gw_pool_new(unsigned n)
{
    gw_pool_t *p;
    unsigned started = 0;
    sigset_t all, old;
    int rc = 0;

    if (n == 0 || n > 1024) {
        errno = EINVAL;
        return NULL;
    }
    p = calloc(1, sizeof(*p));
    if (!p || !(p->workers = calloc(n, sizeof(*p->workers)))) {
        free(p);
        errno = ENOMEM;
        return NULL;
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    p->n = n;
    /* Workers take no asynchronous signals: those belong to the main
     * thread. Fault signals stay unblocked, or a crash on a worker would
     * bypass every handler (sanitizers, valgrind, debuggers). */
    sigfillset(&all);
    sigdelset(&all, SIGSEGV);
    sigdelset(&all, SIGBUS);
    sigdelset(&all, SIGFPE);
    sigdelset(&all, SIGILL);
    sigdelset(&all, SIGABRT);
    sigdelset(&all, SIGTRAP);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    for (; started < n; started++) {
        worker_t *w = &p->workers[started];
        w->pool = p;
        snprintf(w->name, sizeof(w->name), "w%u", started);
        rc = pthread_create(&w->tid, NULL, worker_main, w);
        if (rc)
            break;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc) {
        p->n = started;
        gw_pool_free(p);
        errno = rc;
        return NULL;
    }
    return p;
}

int gw_pool_submit(gw_pool_t *p, gw_job_fn fn, void *arg)
{
    job_t *j;
    int rc = 0;

    if (!p)
        return -ESHUTDOWN;
    if (!(j = malloc(sizeof(*j))))
        return -ENOMEM;
    j->next = NULL;
    j->fn = fn;
    j->arg = arg;
    pthread_mutex_lock(&p->lock);
    if (p->stopping) {
        rc = -ESHUTDOWN;
    } else {
        if (p->tail)
            p->tail->next = j;
        else
            p->head = j;
        p->tail = j;
        pthread_cond_signal(&p->cond);
    }
    pthread_mutex_unlock(&p->lock);
    if (rc)
        free(j);
    return rc;
}

void gw_pool_free(gw_pool_t *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    for (unsigned i = 0; i < p->n; i++)
        pthread_join(p->workers[i].tid, NULL);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->cond);
    free(p->workers);
    free(p);
}
