/* wr_cluster.c - Start, watch, hit and stop the gateways of one case.
 *
 * A lone gateway is a cluster of one instance without Redis: the same
 * calls, the same files as before clusters existed. The nemesis steps act
 * on the process group of an instance's current process (a wrapper's
 * children are in it): SIGKILL, SIGSTOP, SIGCONT, or a new incarnation.
 * Each step is recorded as a harness event ("instance.kill", ...) with
 * the time it took effect.
 *
 * Threads: see wr_cluster.h; `lock` is a leaf (no other lock is taken
 * while it is held; a restart holds it for the new process's bounded
 * start, which the other service threads do not wait for). */
#include "drive/wr_cluster.h"
#include "history/wr_clock.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#define REDIS_START_MS 10000
#define REDIS_CALL_MS  3000

/* Appends a node for instance (its incarnation-th start); NULL when out
 * of memory. `lock` held or no other thread running. */
static wr_node_t *add_node(wr_cluster_t *cl, int instance, int incarnation)
{
    wr_node_t *n;

    if (cl->nnodes == cl->cap) {
        size_t cap = cl->cap ? cl->cap * 2 : 8;
        wr_node_t *p = realloc(cl->nodes, cap * sizeof(*p));

        if (p == NULL)
            return NULL;
        cl->nodes = p;
        cl->cap = cap;
    }
    n = &cl->nodes[cl->nnodes++];
    memset(n, 0, sizeof(*n));
    n->instance = instance;
    n->incarnation = incarnation;
    if (cl->instances > 1 || cl->redis_on) {
        if (incarnation == 0)
            snprintf(n->tag, sizeof(n->tag), "%d", instance);
        else
            snprintf(n->tag, sizeof(n->tag), "%d.%d", instance, incarnation);
    }
    return n;
}

/* Starts node n on port (0: any). Returns 0 or negative errno. */
static int start_node(wr_cluster_t *cl, wr_node_t *n, int port)
{
    wr_argv_t a = {0};
    wr_target_opts_t o = cl->base;
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < cl->args.n; i++)
        rc = wr_argv_push(&a, cl->args.v[i]);
    if (rc == 0 && cl->redis_on) {
        char url[64];

        snprintf(url, sizeof(url), "redis://127.0.0.1:%d", cl->redis.port);
        rc = wr_argv_push(&a, "--registry");
        rc = rc ? rc : wr_argv_push(&a, url);
        rc = rc ? rc : wr_argv_push_int(&a, "--instance-id", n->instance);
        if (rc == 0 && n->incarnation > 0)
            rc = wr_argv_push_int(&a, "--incarnation", n->incarnation);
        if (rc == 0 && cl->ttl_ms > 0)
            rc = wr_argv_push_int(&a, "--registry-ttl", cl->ttl_ms);
    }
    if (rc != 0) {
        wr_argv_free(&a);
        snprintf(n->t.error, sizeof(n->t.error), "out of memory");
        return rc;
    }
    o.args = a.v;
    o.tag = n->tag[0] ? n->tag : NULL;
    o.port = port;
    if (cl->pool != NULL && !cl->redis_on && cl->instances == 1 &&
        n->incarnation == 0 && wr_pool_take(cl->pool, &n->t, &o) == 0)
        n->warm = true;
    else
        rc = wr_target_start(&n->t, &o);
    wr_argv_free(&a);
    return rc;
}

int wr_cluster_start(wr_cluster_t *cl, const wr_scenario_t *s,
                     const wr_target_opts_t *base, char *const *args,
                     double scale)
{
    return wr_cluster_start_warm(cl, s, base, args, scale, NULL);
}

int wr_cluster_start_warm(wr_cluster_t *cl, const wr_scenario_t *s,
                          const wr_target_opts_t *base, char *const *args,
                          double scale, wr_pool_t *pool)
{
    int rc = 0;

    memset(cl, 0, sizeof(*cl));
    cl->pool = pool;
    pthread_mutex_init(&cl->lock, NULL);
    pthread_mutex_init(&cl->spawn_lock, NULL);
    pthread_cond_init(&cl->spawn_cond, NULL);
    cl->instances = s->gateway.instances > 1 ? s->gateway.instances : 1;
    cl->redis_on = wr_scenario_cluster(s);
    cl->ttl_ms = s->gateway.registry_ttl_ms > 0
                     ? (unsigned)s->gateway.registry_ttl_ms
                     : 0;
    cl->base = *base;
    cl->scale = scale > 0 ? scale : 1.0;
    cl->events = json_array();
    cl->current = calloc((size_t)cl->instances, sizeof(*cl->current));
    cl->endpoints = calloc((size_t)cl->instances, sizeof(*cl->endpoints));
    if (cl->events == NULL || cl->current == NULL || cl->endpoints == NULL) {
        snprintf(cl->error, sizeof(cl->error), "out of memory");
        return -ENOMEM;
    }
    for (size_t i = 0; args != NULL && args[i] != NULL && rc == 0; i++)
        rc = wr_argv_push(&cl->args, args[i]);
    if (rc != 0) {
        snprintf(cl->error, sizeof(cl->error), "out of memory");
        return rc;
    }
    if (cl->redis_on &&
        (rc = wr_redis_start(&cl->redis, base->dir,
                             (int)(REDIS_START_MS * cl->scale))) != 0) {
        snprintf(cl->error, sizeof(cl->error), "%s", cl->redis.error);
        return rc;
    }
    for (int i = 0; i < cl->instances; i++) {
        wr_node_t *n = add_node(cl, i, 0);

        if (n == NULL) {
            snprintf(cl->error, sizeof(cl->error), "out of memory");
            rc = -ENOMEM;
            break;
        }
        cl->current[i] = (int)(cl->nnodes - 1);
        if ((rc = start_node(cl, n, 0)) != 0) {
            if (cl->instances > 1)
                snprintf(cl->error, sizeof(cl->error), "instance %d: %.230s", i,
                         n->t.error);
            else
                snprintf(cl->error, sizeof(cl->error), "%s", n->t.error);
            break;
        }
        cl->endpoints[i].host = cl->nodes[cl->current[i]].t.host;
        cl->endpoints[i].port = n->t.port;
    }
    if (rc != 0) {
        wr_cluster_stop(cl, 2000);
        return rc;
    }
    /* Restarts are forked by the spawner thread: never from the pool,
     * which is the runner thread's. */
    cl->pool = NULL;
    /* The node array no longer moves but for restarts, which keep the
     * host; the endpoints point at a string that does not change. */
    for (int i = 0; i < cl->instances; i++)
        cl->endpoints[i].host = "127.0.0.1";
    return 0;
}

bool wr_cluster_poll(wr_cluster_t *cl)
{
    bool any = false;

    pthread_mutex_lock(&cl->lock);
    for (int i = 0; i < cl->instances; i++) {
        wr_node_t *n = &cl->nodes[cl->current[i]];

        if (n->killed || wr_target_alive(&n->t))
            any = true;
    }
    pthread_mutex_unlock(&cl->lock);
    return any;
}

wr_node_t *wr_cluster_live(wr_cluster_t *cl)
{
    wr_node_t *found = NULL;

    pthread_mutex_lock(&cl->lock);
    for (int i = 0; i < cl->instances && found == NULL; i++) {
        wr_node_t *n = &cl->nodes[cl->current[i]];

        if (!n->killed && !n->paused && wr_target_alive(&n->t))
            found = n;
    }
    pthread_mutex_unlock(&cl->lock);
    return found;
}

/* The spawner: starts the node it is asked for, on its own thread. */
static void *spawner_main(void *arg)
{
    wr_cluster_t *cl = arg;

    pthread_mutex_lock(&cl->spawn_lock);
    while (!cl->spawn_quit) {
        if (cl->spawn_node != NULL && !cl->spawn_done) {
            wr_node_t *n = cl->spawn_node;
            int port = cl->spawn_port, rc;

            pthread_mutex_unlock(&cl->spawn_lock);
            rc = start_node(cl, n, port);
            pthread_mutex_lock(&cl->spawn_lock);
            cl->spawn_rc = rc;
            cl->spawn_done = true;
            pthread_cond_broadcast(&cl->spawn_cond);
            continue;
        }
        pthread_cond_wait(&cl->spawn_cond, &cl->spawn_lock);
    }
    pthread_mutex_unlock(&cl->spawn_lock);
    return NULL;
}

/* Starts node n on port from the spawner thread and waits for it (the
 * start is bounded). `lock` held: the node is the caller's meanwhile. */
static int spawn_locked(wr_cluster_t *cl, wr_node_t *n, int port)
{
    int rc;

    pthread_mutex_lock(&cl->spawn_lock);
    if (!cl->spawner_on) {
        if (pthread_create(&cl->spawner, NULL, spawner_main, cl) != 0) {
            pthread_mutex_unlock(&cl->spawn_lock);
            snprintf(n->t.error, sizeof(n->t.error), "no spawner thread");
            return -EAGAIN;
        }
        cl->spawner_on = true;
    }
    cl->spawn_node = n;
    cl->spawn_port = port;
    cl->spawn_done = false;
    pthread_cond_broadcast(&cl->spawn_cond);
    while (!cl->spawn_done)
        pthread_cond_wait(&cl->spawn_cond, &cl->spawn_lock);
    rc = cl->spawn_rc;
    cl->spawn_node = NULL;
    pthread_mutex_unlock(&cl->spawn_lock);
    return rc;
}

/* Records a nemesis event. `lock` held. */
static void note_locked(wr_cluster_t *cl, const char *event, const wr_node_t *n,
                        int64_t ns)
{
    json_array_append_new(
        cl->events, json_pack("{s:s,s:s,s:I,s:i,s:i,s:I,s:i}", "src", "harness",
                              "event", event, "ns", (json_int_t)ns, "instance",
                              n->instance, "incarnation", n->incarnation, "pid",
                              (json_int_t)n->t.pgid, "port", n->t.port));
}

/* Waits up to ms for node n's process to be reaped. `lock` held. */
static bool wait_reaped(wr_node_t *n, int ms)
{
    int64_t deadline = wr_now_ns() + (int64_t)ms * 1000000;
    struct timespec ts = {0, 2 * 1000000L};

    while (wr_target_alive(&n->t)) {
        if (wr_now_ns() >= deadline)
            return false;
        nanosleep(&ts, NULL);
    }
    return true;
}

int wr_cluster_nemesis(void *ctx, wr_step_kind_t kind, int instance, char *err,
                       size_t errlen)
{
    wr_cluster_t *cl = ctx;
    wr_node_t *n;
    int rc = 0;

    if (instance < 0 || instance >= cl->instances) {
        snprintf(err, errlen, "no instance %d", instance);
        return -EINVAL;
    }
    pthread_mutex_lock(&cl->lock);
    n = &cl->nodes[cl->current[instance]];
    switch (kind) {
    case WR_STEP_KILL_INSTANCE:
        if (n->killed || !wr_target_alive(&n->t)) {
            snprintf(err, errlen, "instance %d is not running", instance);
            rc = -ESRCH;
            break;
        }
        n->killed = true;
        n->t.stopped_by_us = true;
        kill(-n->t.pgid, SIGKILL);
        if (!wait_reaped(n, (int)(5000 * cl->scale))) {
            snprintf(err, errlen, "instance %d outlived SIGKILL", instance);
            rc = -ETIMEDOUT;
        }
        n->paused = false;
        cl->last_kill_ns = wr_now_ns();
        note_locked(cl, "instance.kill", n, cl->last_kill_ns);
        break;
    case WR_STEP_RESTART_INSTANCE: {
        int port = n->t.port, inc = n->incarnation + 1;
        wr_node_t *nn;

        if (!n->killed && wr_target_alive(&n->t)) {
            snprintf(err, errlen,
                     "instance %d is running (kill_instance it first)",
                     instance);
            rc = -EBUSY;
            break;
        }
        if ((nn = add_node(cl, instance, inc)) == NULL) {
            snprintf(err, errlen, "out of memory");
            rc = -ENOMEM;
            break;
        }
        cl->current[instance] = (int)(cl->nnodes - 1);
        if ((rc = spawn_locked(cl, nn, port)) != 0) {
            snprintf(err, errlen, "instance %d did not restart: %.200s",
                     instance, nn->t.error);
            nn->killed = true; /* nothing runs there: not a crash either */
            break;
        }
        note_locked(cl, "instance.restart", nn, nn->t.up_ns);
        break;
    }
    case WR_STEP_PAUSE_INSTANCE:
    case WR_STEP_RESUME_INSTANCE: {
        bool pause = kind == WR_STEP_PAUSE_INSTANCE;

        if (n->killed || !wr_target_alive(&n->t) || n->paused == pause) {
            snprintf(err, errlen, "instance %d is %s", instance,
                     n->killed || !wr_target_alive(&n->t) ? "not running"
                     : pause                              ? "paused already"
                                                          : "not paused");
            rc = -ESRCH;
            break;
        }
        kill(-n->t.pgid, pause ? SIGSTOP : SIGCONT);
        n->paused = pause;
        note_locked(cl, pause ? "instance.pause" : "instance.resume", n,
                    wr_now_ns());
        break;
    }
    default:
        snprintf(err, errlen, "not a nemesis step");
        rc = -EINVAL;
    }
    pthread_mutex_unlock(&cl->lock);
    return rc;
}

void wr_cluster_stop(wr_cluster_t *cl, int timeout_ms)
{
    pthread_mutex_lock(&cl->lock);
    for (size_t i = 0; i < cl->nnodes; i++) {
        wr_node_t *n = &cl->nodes[i];

        if (n->paused) {
            kill(-n->t.pgid, SIGCONT);
            n->paused = false;
        }
        if (n->t.pgid > 0 && !n->killed)
            wr_target_stop(&n->t, timeout_ms);
    }
    pthread_mutex_unlock(&cl->lock);
}

/* The argument list of a redis command, for wr_redis_call. */
#define CALL(cl, ms, ...)                                                      \
    wr_redis_call(                                                             \
        (cl)->redis.port, (ms),                                                \
        (int)(sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *)),   \
        (const char *[]){__VA_ARGS__})

json_t *wr_cluster_registry(wr_cluster_t *cl, int timeout_ms)
{
    static const char list[] =
        "local out = {}\n"
        "for _, e in ipairs(redis.call('KEYS', 'wsr:e:*')) do\n"
        "  table.insert(out, string.sub(e, 7))\n"
        "  table.insert(out, redis.call('HGET', e, 'inst') or '')\n"
        "end\n"
        "local gone = 0\n"
        "for _, k in ipairs(redis.call('SMEMBERS', 'wsr:tombs')) do\n"
        "  if redis.call('EXISTS', 'wsr:e:' .. k) == 0 then\n"
        "    gone = gone + 1\n"
        "  end\n"
        "end\n"
        "table.insert(out, gone)\n"
        "return out\n";
    json_t *rows, *keys, *insts;
    json_int_t unseen;
    size_t n;

    if (!cl->redis_on || cl->redis.pid <= 0)
        return NULL;
    rows = CALL(cl, timeout_ms, "EVAL", list, "0");
    if (!json_is_array(rows)) {
        json_decref(rows);
        return NULL;
    }
    keys = json_array();
    insts = json_array();
    /* The last element: entries expired but not yet seen to (a heartbeat
     * records them as registry.expired within a third of the TTL). */
    unseen =
        json_integer_value(json_array_get(rows, json_array_size(rows) - 1));
    n = (json_array_size(rows) - 1) / 2;
    for (size_t i = 0; i < n && i < 20; i++) {
        json_array_append(keys, json_array_get(rows, 2 * i));
        json_array_append_new(
            insts, json_integer(strtol(
                       json_string_value(json_array_get(rows, 2 * i + 1))
                           ? json_string_value(json_array_get(rows, 2 * i + 1))
                           : "-1",
                       NULL, 10)));
    }
    json_decref(rows);
    return json_pack("{s:I,s:o,s:o,s:I}", "count", (json_int_t)n, "keys", keys,
                     "instances", insts, "unseen_expiries", unseen);
}

json_t *wr_cluster_log(wr_cluster_t *cl, int timeout_ms)
{
    json_t *rows, *out, *rec;
    size_t i;

    if (!cl->redis_on || cl->redis.pid <= 0)
        return NULL;
    rows = CALL(cl, timeout_ms, "XRANGE", "wsr:log", "-", "+");
    if (!json_is_array(rows)) {
        json_decref(rows);
        return NULL;
    }
    out = json_array();
    json_array_foreach(rows, i, rec)
    {
        json_t *fields = json_array_get(rec, 1),
               *o = json_pack("{s:s,s:s}", "src", "harness", "event",
                              "redis.op");
        size_t k;

        for (k = 0; k + 1 < json_array_size(fields); k += 2) {
            const char *name = json_string_value(json_array_get(fields, k));
            const char *v = json_string_value(json_array_get(fields, k + 1));

            if (name == NULL || v == NULL)
                continue;
            if (strcmp(name, "rseq") == 0 || strcmp(name, "conn") == 0 ||
                strcmp(name, "instance") == 0 || strcmp(name, "owner") == 0)
                json_object_set_new(o, name,
                                    json_integer(strtoll(v, NULL, 10)));
            else
                json_object_set_new(o, name, json_string(v));
        }
        json_array_append_new(out, o);
    }
    json_decref(rows);
    return out;
}

void wr_cluster_free(wr_cluster_t *cl)
{
    if (cl->spawner_on) {
        pthread_mutex_lock(&cl->spawn_lock);
        cl->spawn_quit = true;
        pthread_cond_broadcast(&cl->spawn_cond);
        pthread_mutex_unlock(&cl->spawn_lock);
        pthread_join(cl->spawner, NULL);
    }
    if (cl->redis_on)
        wr_redis_stop(&cl->redis, (int)(5000 * cl->scale));
    json_decref(cl->events);
    wr_argv_free(&cl->args);
    free(cl->nodes);
    free(cl->current);
    free(cl->endpoints);
    pthread_mutex_destroy(&cl->lock);
    pthread_mutex_destroy(&cl->spawn_lock);
    pthread_cond_destroy(&cl->spawn_cond);
    memset(cl, 0, sizeof(*cl));
}
