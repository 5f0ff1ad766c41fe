/* gw_pool.h - A fixed pthread worker pool with one FIFO job queue.
 *
 * The gateway's handshake steps, message processing and close paths run
 * here, so the registry and coordinator see real concurrent access. */
#ifndef GW_POOL_H
#define GW_POOL_H

typedef struct gw_pool gw_pool_t;
typedef void (*gw_job_fn)(void *arg);

/* Starts n workers (1..1024), named "w0".."wN-1" in the trace. NULL with
 * errno set on failure (no thread is left running). */
gw_pool_t *gw_pool_new(unsigned n);

/* Queues fn(arg). Returns 0, or -ESHUTDOWN once gw_pool_free has begun,
 * or when p is NULL (fn is then never called), or -ENOMEM. A gateway with
 * no pool thus runs its close path inline and its handshake not at all:
 * what the fuzz targets want, one input at a time on one thread. */
int gw_pool_submit(gw_pool_t *p, gw_job_fn fn, void *arg);

/* Runs every job already queued, then joins the workers and frees p. */
void gw_pool_free(gw_pool_t *p);

#endif
