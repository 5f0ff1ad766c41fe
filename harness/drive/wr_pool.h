/* wr_pool.h - Warm gateways: the next case's gateway started while the
 * case before it runs.
 *
 * A case spends tens of milliseconds between fork and the gateway's first
 * 200 on /healthz (exec, the dynamic loader, its worker threads, its lws
 * context). A pool holds at most `max` spares, each started with
 * wr_target_spawn for one case that is known to come next, with exactly
 * the options that case will ask for: program, wrapper, secret, case
 * directory (its gateway.log and trace.jsonl are that case's own) and
 * every option (seed, faults, sync actions, --sync-control path). When
 * that case asks for its gateway, wr_pool_take hands it the spare whose
 * options are equal to its own, byte for byte, and stops every other: a
 * spare is never given to a case it was not started for, and no spare
 * outlives the case that did not take it.
 *
 * A spare is an ordinary wr_target_t: process group, PR_SET_PDEATHSIG and
 * lifeline as wr_target.h says, so that a harness killed by SIGKILL
 * leaves none behind; wr_pool_drain stops them on a normal end or an
 * interruption. Not thread-safe: the runner thread that forks the spares
 * (PR_SET_PDEATHSIG follows the thread that forked) is the pool's only
 * user. */
#ifndef WR_POOL_H
#define WR_POOL_H

#include <stdbool.h>
#include <stddef.h>

#include "drive/wr_target.h"

typedef struct wr_pool wr_pool_t;

/* A pool of at most max spares (at least 1). NULL when out of memory. */
wr_pool_t *wr_pool_new(size_t max);

/* Starts a spare for o (copied). Returns 0; -EBUSY when the pool holds
 * max spares already, -EEXIST when one has o's directory, or what
 * wr_target_spawn returned (no spare is kept then). */
int wr_pool_warm(wr_pool_t *p, const wr_target_opts_t *o);

/* The spare started for exactly o, up (listening, /healthz 200), moved
 * into t; every other spare is stopped (it could only write into another
 * case's files). Returns 0, or -ENOENT when no spare has o's options, or
 * the one that had them did not come up (it is stopped: the case starts
 * a gateway of its own, which says why it does not start, if it does
 * not). */
int wr_pool_take(wr_pool_t *p, wr_target_t *t, const wr_target_opts_t *o);

/* Whether two option sets start the same process with the same files. */
bool wr_pool_same(const wr_target_opts_t *a, const wr_target_opts_t *b);

/* Spares held now. */
size_t wr_pool_spares(const wr_pool_t *p);

/* Spares handed to a case / stopped untaken, since wr_pool_new. */
size_t wr_pool_taken(const wr_pool_t *p);
size_t wr_pool_wasted(const wr_pool_t *p);

/* Stops every spare (SIGTERM, SIGKILL after timeout_ms, reaped). */
void wr_pool_drain(wr_pool_t *p, int timeout_ms);

/* Drains and frees p (NULL is fine). */
void wr_pool_free(wr_pool_t *p);

#endif
