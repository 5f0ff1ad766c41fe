/* test-stress.c - The gateway's shared parts under real concurrency, as a
 * plain program (no Criterion): ThreadSanitizer, helgrind and drd watch it
 * for races, and Criterion binaries abort under ThreadSanitizer.
 *
 * Four parts, each with its threads lined up on a pthread_barrier_t:
 *   coord     racers advance one coordinator; one wins each move; every
 *             racer holds and drops a reference (the last one frees it)
 *   registry  threads run whole entry lifecycles on their own keys, and
 *             all register one hot key at once (one wins, the rest get
 *             -EEXIST)
 *   pool      several threads submit jobs to one pool while it runs
 *   flow      client threads open connections on the real flow (gw_conn:
 *             handshake, welcome, a message, close) on one gateway
 *
 * usage: test-stress [ROUNDS]   (default 20: the tools are the detectors,
 * the rounds only give them interleavings to watch)
 * Exits 0 when every expectation held, 1 otherwise (each failure printed),
 * and prints one line per part with its counts. */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gw_gateway.h"
#include "wsr_token.h"

#define THREADS 4
#define SECRET  "stress-secret"

static int failures;
static pthread_mutex_t fail_lock = PTHREAD_MUTEX_INITIALIZER;

#define EXPECT(cond, ...)                                                      \
    do {                                                                       \
        if (!(cond)) {                                                         \
            pthread_mutex_lock(&fail_lock);                                    \
            failures++;                                                        \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);    \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
            pthread_mutex_unlock(&fail_lock);                                  \
        }                                                                      \
    } while (0)

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs fn(i) on THREADS threads at once (after a barrier) and joins them. */
typedef struct {
    pthread_barrier_t *start;
    void (*fn)(int i, void *arg);
    void *arg;
    int i;
} runner_t;

static void *runner_main(void *p)
{
    runner_t *r = p;

    pthread_barrier_wait(r->start);
    r->fn(r->i, r->arg);
    return NULL;
}

static void run_threads(int n, void (*fn)(int i, void *arg), void *arg)
{
    pthread_barrier_t start;
    pthread_t th[16];
    runner_t r[16];

    pthread_barrier_init(&start, NULL, (unsigned)n);
    for (int i = 0; i < n; i++) {
        r[i] = (runner_t){&start, fn, arg, i};
        if (pthread_create(&th[i], NULL, runner_main, &r[i]) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            exit(1);
        }
    }
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&start);
}

/* ------------------------------------------------------------------ */
/* coord                                                                */
/* ------------------------------------------------------------------ */

typedef struct {
    gw_coord_t *c;
    _Atomic int wins[WSR_CO__COUNT];
} coord_race_t;

static void coord_racer(int i, void *arg)
{
    coord_race_t *r = arg;
    gw_coord_t *mine = gw_coord_ref(r->c); /* dropped below, any order */
    static const wsr_coord_phase_t path[] = {
        WSR_CO_HANDSHAKE_PENDING, WSR_CO_CONNECTED, WSR_CO_READY, WSR_CO_CLOSED};

    (void)i;
    for (size_t k = 0; k < sizeof(path) / sizeof(path[0]); k++) {
        /* Wait until the previous move is made, then race for this one. */
        while (k > 0 && gw_coord_phase(mine) < path[k - 1])
            sched_yield();
        if (gw_coord_advance(mine, path[k]) == 0)
            atomic_fetch_add(&r->wins[path[k]], 1);
    }
    gw_coord_unref(mine);
}

static void part_coord(int rounds)
{
    int moves = 0;

    for (int round = 0; round < rounds; round++) {
        coord_race_t r = {.c = gw_coord_new()};

        EXPECT(r.c != NULL, "out of memory");
        run_threads(THREADS, coord_racer, &r);
        EXPECT(gw_coord_phase(r.c) == WSR_CO_CLOSED, "round %d", round);
        for (int p = WSR_CO_HANDSHAKE_PENDING; p <= WSR_CO_READY; p++)
            EXPECT(atomic_load(&r.wins[p]) == 1, "round %d phase %d: %d wins",
                   round, p, atomic_load(&r.wins[p]));
        EXPECT(atomic_load(&r.wins[WSR_CO_CLOSED]) == 1, "round %d: %d closes",
               round, atomic_load(&r.wins[WSR_CO_CLOSED]));
        moves += atomic_load(&r.wins[WSR_CO_CLOSED]);
        gw_coord_unref(r.c); /* the last reference */
    }
    printf("coord: %d rounds x %d racers, %d closes\n", rounds, THREADS, moves);
}

/* ------------------------------------------------------------------ */
/* registry                                                             */
/* ------------------------------------------------------------------ */

typedef struct {
    gw_registry_t *reg;
    int rounds;
    _Atomic int hot_wins, hot_exists, lifecycles;
} reg_stress_t;

static void reg_worker(int i, void *arg)
{
    reg_stress_t *s = arg;
    char pre[64], key[64];
    uint64_t conn = (uint64_t)i + 1;
    wsr_state_t st;

    for (int k = 0; k < s->rounds; k++) {
        gw_coord_t *co = gw_coord_new();

        snprintf(pre, sizeof(pre), "pre-%d-%d", i, k);
        snprintf(key, sizeof(key), "s-%d-%d", i, k);
        EXPECT(gw_registry_register(s->reg, pre, "", co, conn) == 0, "%s", pre);
        EXPECT(gw_registry_transition(s->reg, pre, WSR_ST_ACCEPTED, conn) == 0,
               "%s", pre);
        EXPECT(gw_registry_set_user(s->reg, pre, "u", conn) == 0, "%s", pre);
        EXPECT(gw_registry_transition(s->reg, pre, WSR_ST_AUTHENTICATED,
                                      conn) == 0,
               "%s", pre);
        EXPECT(gw_registry_transition(s->reg, pre, WSR_ST_SERVICES_READY,
                                      conn) == 0,
               "%s", pre);
        EXPECT(gw_coord_advance(co, WSR_CO_HANDSHAKE_PENDING) == 0, "%s", pre);
        EXPECT(gw_coord_advance(co, WSR_CO_CONNECTED) == 0, "%s", pre);
        EXPECT(gw_registry_rekey(s->reg, pre, key, conn) == 0, "%s", key);
        EXPECT(!gw_registry_is_ready(s->reg, key, conn), "%s", key);
        EXPECT(gw_registry_mark_ready(s->reg, key, co, conn) == 0, "%s", key);
        EXPECT(gw_registry_ready_for_messages(s->reg, key, co, conn, NULL), "%s",
               key);
        EXPECT(gw_registry_state(s->reg, key, conn, &st) == 0 &&
                   st == WSR_ST_PROCESSING_READY,
               "%s", key);
        (void)gw_registry_count(s->reg);
        EXPECT(gw_registry_unregister(s->reg, key, conn) == 0, "%s", key);
        EXPECT(gw_registry_unregister(s->reg, key, conn) == -ENOENT, "%s", key);
        gw_coord_unref(co);
        atomic_fetch_add(&s->lifecycles, 1);

        /* Everybody at once on one key. */
        int rc = gw_registry_register(s->reg, "hot", "", NULL, conn);
        if (rc == 0)
            atomic_fetch_add(&s->hot_wins, 1);
        else
            EXPECT(rc == -EEXIST, "hot: %d", rc);
        if (rc == -EEXIST)
            atomic_fetch_add(&s->hot_exists, 1);
    }
}

static void count_entry(const gw_registry_view_t *v, void *arg)
{
    (void)v;
    (*(int *)arg)++;
}

static void part_registry(int rounds)
{
    reg_stress_t s = {.reg = gw_registry_new(NULL, NULL, NULL),
                      .rounds = rounds};
    int seen = 0;

    EXPECT(s.reg != NULL, "out of memory");
    run_threads(THREADS, reg_worker, &s);
    /* "hot" was never unregistered: exactly one registration won. */
    EXPECT(atomic_load(&s.hot_wins) == 1, "%d wins on hot",
           atomic_load(&s.hot_wins));
    EXPECT(atomic_load(&s.hot_exists) == THREADS * rounds - 1,
           "%d -EEXIST on hot", atomic_load(&s.hot_exists));
    gw_registry_foreach(s.reg, count_entry, &seen);
    EXPECT(seen == 1 && gw_registry_count(s.reg) == 1, "%d entries left",
           seen);
    gw_registry_free(s.reg);
    printf("registry: %d lifecycles on %d threads, hot key 1 win %d refused\n",
           atomic_load(&s.lifecycles), THREADS, atomic_load(&s.hot_exists));
}

/* ------------------------------------------------------------------ */
/* pool                                                                 */
/* ------------------------------------------------------------------ */

typedef struct {
    gw_pool_t *pool;
    int jobs;
    _Atomic int done;
    pthread_mutex_t lock;
    long sum; /* guarded by lock */
} pool_stress_t;

static void pool_job(void *arg)
{
    pool_stress_t *s = arg;

    pthread_mutex_lock(&s->lock);
    s->sum++;
    pthread_mutex_unlock(&s->lock);
    atomic_fetch_add(&s->done, 1);
}

static void pool_submitter(int i, void *arg)
{
    pool_stress_t *s = arg;

    (void)i;
    for (int k = 0; k < s->jobs; k++)
        EXPECT(gw_pool_submit(s->pool, pool_job, s) == 0, "submit %d", k);
}

static void part_pool(int rounds)
{
    pool_stress_t s = {.pool = gw_pool_new(THREADS), .jobs = rounds * 20};

    EXPECT(s.pool != NULL, "gw_pool_new: %s", strerror(errno));
    pthread_mutex_init(&s.lock, NULL);
    run_threads(THREADS, pool_submitter, &s);
    gw_pool_free(s.pool); /* runs what is queued, then joins */
    EXPECT(atomic_load(&s.done) == THREADS * s.jobs, "%d of %d jobs",
           atomic_load(&s.done), THREADS * s.jobs);
    EXPECT(s.sum == THREADS * s.jobs, "sum %ld", s.sum);
    pthread_mutex_destroy(&s.lock);
    printf("pool: %d jobs from %d threads\n", atomic_load(&s.done), THREADS);
}

/* ------------------------------------------------------------------ */
/* flow                                                                 */
/* ------------------------------------------------------------------ */

typedef struct {
    gw_gateway_t *gw;
    int conns;
    _Atomic int welcomed, completed;
} flow_stress_t;

static void fake_wake(void *ctx, gw_conn_t *c)
{
    (void)ctx;
    (void)c; /* the clients poll their outbox */
}

/* The next message of type `type` on c within timeout_ms (others are
 * skipped), as a new reference; NULL otherwise. */
static json_t *wait_type(gw_gateway_t *gw, gw_conn_t *c, const char *type,
                         int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;

    do {
        gw_frame_t *f = gw_conn_pop_frame(c);
        if (f == NULL) {
            usleep(1000);
            continue;
        }
        json_t *m = json_loadb(f->data + gw->params.frame_headroom, f->len, 0,
                               NULL);
        free(f);
        const char *t = json_string_value(json_object_get(m, "type"));
        if (t && strcmp(t, type) == 0)
            return m;
        json_decref(m);
    } while (now_ms() < deadline);
    return NULL;
}

/* WSRACE_TEST_TIME_SCALE (set by the tool setups), at least 1. */
static int time_scale(void)
{
    const char *e = getenv("WSRACE_TEST_TIME_SCALE");
    int x = e ? atoi(e) : 1;

    return x > 1 ? x : 1;
}

static void flow_client(int i, void *arg)
{
    flow_stress_t *s = arg;
    char tok[WSR_TOKEN_MAX], session[64], msg[160];
    int bound = 5000 * time_scale();

    for (int k = 0; k < s->conns; k++) {
        gw_conn_t *c;
        json_t *m;

        snprintf(session, sizeof(session), "flow-%d-%d", i, k);
        EXPECT(wsr_token_sign(SECRET, "stress", time(NULL) + 60, tok,
                             sizeof(tok)) > 0,
               "token");
        c = gw_conn_new(s->gw, tok, session);
        EXPECT(c != NULL, "out of memory");
        if (c == NULL)
            return;
        gw_conn_start(c);
        m = wait_type(s->gw, c, "connection_established", bound);
        EXPECT(m != NULL, "%s: no welcome", session);
        if (m != NULL)
            atomic_fetch_add(&s->welcomed, 1);
        json_decref(m);
        snprintf(msg, sizeof(msg),
                 "{\"type\":\"user_message\",\"data\":{\"content\":\"x\"},"
                 "\"correlation_id\":\"%s\"}",
                 session);
        gw_conn_on_message(c, msg, strlen(msg));
        m = wait_type(s->gw, c, "agent_completed", bound);
        EXPECT(m != NULL, "%s: no agent_completed", session);
        if (m != NULL)
            atomic_fetch_add(&s->completed, 1);
        json_decref(m);
        gw_conn_on_closed(c);
        gw_conn_unref(c);
    }
}

static void part_flow(int rounds)
{
    gw_gateway_t gw;
    gw_params_t p = {0};
    gw_sync_t *sync = gw_sync_new(7, NULL);
    char err[256];
    flow_stress_t s = {.gw = &gw, .conns = rounds};
    long long deadline;

    EXPECT(wsr_faults_parse(&p.faults, "", err, sizeof(err)) == 0, "%s", err);
    snprintf(p.secret, sizeof(p.secret), "%s", SECRET);
    p.max_queue = 8;
    p.seed = 7;
    EXPECT(gw_gateway_init(&gw, &p, NULL, sync, THREADS) == 0, "init");
    gw.sink.wake = fake_wake;
    run_threads(THREADS, flow_client, &s);
    /* Close paths run on the pool: wait for the registry to empty. */
    deadline = now_ms() + 10000;
    while (gw_registry_count(gw.registry) != 0 && now_ms() < deadline)
        usleep(1000);
    EXPECT(gw_registry_count(gw.registry) == 0, "%zu entries left",
           gw_registry_count(gw.registry));
    gw_gateway_shutdown(&gw);
    EXPECT(atomic_load(&gw.live) == 0, "%llu connections not freed",
           (unsigned long long)atomic_load(&gw.live));
    gw_sync_free(sync);
    EXPECT(atomic_load(&s.welcomed) == THREADS * rounds &&
               atomic_load(&s.completed) == THREADS * rounds,
           "%d welcomed, %d completed", atomic_load(&s.welcomed),
           atomic_load(&s.completed));
    printf("flow: %d connections on %d client threads, %d welcomed, "
           "%d completed\n",
           THREADS * rounds, THREADS, atomic_load(&s.welcomed),
           atomic_load(&s.completed));
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 20;

    if (rounds <= 0 || rounds > 100000) {
        fprintf(stderr, "usage: test-stress [ROUNDS]\n");
        return 2;
    }
    part_coord(rounds);
    part_registry(rounds);
    part_pool(rounds);
    part_flow(rounds);
    printf("stress: %s (%d failures)\n", failures ? "FAIL" : "ok", failures);
    return failures ? 1 : 0;
}
