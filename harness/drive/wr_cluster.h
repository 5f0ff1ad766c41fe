/* wr_cluster.h - The gateways of one case: a lone gateway, or a cluster
 * of instances sharing a Redis registry (docs/DESIGN.md "Cluster mode").
 *
 * wr_cluster_start() starts the case's redis-server (with `registry:
 * redis`), then each instance with `--registry redis://127.0.0.1:PORT
 * --instance-id I`, each through wr_target_start (bounded; its files
 * gateway-I.log and trace-I.jsonl; a lone gateway keeps gateway.log and
 * trace.jsonl). The nemesis steps kill, restart, pause and resume an
 * instance while the clients run (wr_cluster_nemesis, called from the
 * engine's threads); a restarted instance is a new process, a new
 * incarnation (files gateway-I.K.log, trace-I.K.jsonl) on the old port.
 * Every process a case started is kept (its trace is part of the
 * history) until wr_cluster_free.
 *
 * Threads: `lock` guards the nodes and the events; the runner's watcher
 * polls (wr_cluster_poll) while the engine's threads run nemesis steps.
 * Everything else is the runner thread's, before and after the engine. */
#ifndef WR_CLUSTER_H
#define WR_CLUSTER_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "drive/wr_engine.h"
#include "drive/wr_pool.h"
#include "drive/wr_redis.h"
#include "drive/wr_target.h"
#include "plan/wr_scenario.h"

/* One gateway process. */
typedef struct {
    int instance;    /* 0 .. instances - 1 */
    int incarnation; /* its restarts before this one */
    char tag[24];    /* "I" or "I.K"; "" for a lone gateway */
    wr_target_t t;
    bool killed; /* by a nemesis step: its end is not a crash */
    bool paused; /* SIGSTOPped by a nemesis step, not resumed yet */
    bool warm;   /* a spare of the pool, started before its case */
} wr_node_t;

typedef struct {
    int instances;    /* 1 for a lone gateway */
    bool redis_on;    /* the instances share a Redis registry */
    unsigned ttl_ms;  /* the entries' TTL (the gateway's default: 3000) */
    wr_redis_t redis; /* with redis_on */
    wr_node_t *nodes; /* every process started, in start order */
    size_t nnodes, cap;
    int *current;             /* per instance: its node now */
    wr_endpoint_t *endpoints; /* per instance: where clients connect */
    wr_target_opts_t base;    /* path, dir, wrapper, bound */
    wr_argv_t args;           /* the options every instance gets */
    double scale;             /* time scale of every bound */
    wr_pool_t *pool;          /* a lone gateway may come from it */
    pthread_mutex_t lock;     /* see the header */
    json_t *events;           /* harness events of the nemesis steps */
    int64_t last_kill_ns;     /* when an instance was last killed, 0 */
    /* Restarts are forked by a thread of the cluster's own, which lives
     * until wr_cluster_free: a child gets SIGKILL when the thread that
     * forked it ends (PR_SET_PDEATHSIG), and the engine's threads end
     * with the clients. */
    pthread_t spawner;
    bool spawner_on;
    pthread_mutex_t spawn_lock; /* guards the request below */
    pthread_cond_t spawn_cond;
    wr_node_t *spawn_node; /* the node to start, NULL: none asked */
    int spawn_port, spawn_rc;
    bool spawn_done, spawn_quit;
    char error[256]; /* why it could not start */
} wr_cluster_t;

/* Starts the gateways of scenario s with the options args (NULL-ended,
 * copied) on top of base (its tag and port are set here). Returns 0, or
 * negative errno with cl->error saying why; whatever had started is
 * stopped then (wr_cluster_free still releases cl). */
int wr_cluster_start(wr_cluster_t *cl, const wr_scenario_t *s,
                     const wr_target_opts_t *base, char *const *args,
                     double scale);

/* wr_cluster_start, where a lone gateway (no Redis, one instance) is the
 * pool's spare started for exactly these options when it has one
 * (wr_pool_take; the node says warm), else a fresh process. pool may be
 * NULL. */
int wr_cluster_start_warm(wr_cluster_t *cl, const wr_scenario_t *s,
                          const wr_target_opts_t *base, char *const *args,
                          double scale, wr_pool_t *pool);

/* The watcher's poll: reaps any process that ended (a crash is noticed
 * within its period). Returns false once every instance that was not
 * killed by a step has ended. */
bool wr_cluster_poll(wr_cluster_t *cl);

/* The engine's nemesis callback (wr_nemesis_fn): ctx is the cluster. */
int wr_cluster_nemesis(void *ctx, wr_step_kind_t kind, int instance, char *err,
                       size_t errlen);

/* An instance that is running (not killed, paused or ended): its node, or
 * NULL when none is. */
wr_node_t *wr_cluster_live(wr_cluster_t *cl);

/* Stops every gateway still running (a paused one is resumed first):
 * SIGTERM, then SIGKILL after timeout_ms. The Redis server keeps running
 * until wr_cluster_free, so that its log can still be read. */
void wr_cluster_stop(wr_cluster_t *cl, int timeout_ms);

/* The registry as Redis holds it: {"count": N, "keys": [...],
 * "instances": [...], "unseen_expiries": M} (the first 20 keys and their
 * owners' instances; M entries whose TTL ran out that no heartbeat has
 * recorded yet); NULL when Redis does not answer. */
json_t *wr_cluster_registry(wr_cluster_t *cl, int timeout_ms);

/* Every record of the registry's cluster-wide log, in order (rseq), as
 * harness events "redis.op" (rseq, op, key, instance, conn, result and
 * the record's other fields); NULL when Redis does not answer. */
json_t *wr_cluster_log(wr_cluster_t *cl, int timeout_ms);

/* Stops the Redis server and releases cl. */
void wr_cluster_free(wr_cluster_t *cl);

#endif
