/* test-registry-redis.c - The cluster's registry (gw_registry_redis.c)
 * against a real redis-server.
 *
 * Each test starts its own redis-server on a free port of 127.0.0.1 (no
 * persistence, its directory a temporary one) and stops it by its pid.
 * Two registries on one server stand for two gateway instances. Checks
 * docs/DESIGN.md "Cluster mode": registration is atomic across
 * instances, the swap a check-and-rename, unregistration a
 * compare-and-delete on the owner, transitions owner-checked and by the
 * lifecycle table; entries expire with their TTL once their process stops
 * heartbeating, and the expiry is traced in order; and each fault of a
 * cluster changes exactly that. Races are forced with a rendezvous of 2
 * at registry.check on a sync table both registries share.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gw_registry.h"

static pid_t redis_pid;
static int redis_port;
static char redis_dir[] = "/tmp/wsrace-redis-XXXXXX";

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

static int free_port(void)
{
    struct sockaddr_in sa = {0};
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        port = ntohs(sa.sin_port);
    close(fd);
    return port;
}

/* Whether the server answers a connection. */
static bool redis_up(void)
{
    struct sockaddr_in sa = {0};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    bool up;

    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)redis_port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    up = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    close(fd);
    return up;
}

static void redis_start(void)
{
    char port[16];

    cr_assert(not(zero(ptr, mkdtemp(redis_dir))));
    redis_port = free_port();
    snprintf(port, sizeof(port), "%d", redis_port);
    redis_pid = fork();
    if (redis_pid == 0) {
        freopen("/dev/null", "w", stdout);
        execlp("redis-server", "redis-server", "--port", port, "--bind",
               "127.0.0.1", "--save", "", "--appendonly", "no", "--dir",
               redis_dir, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 500 && !redis_up(); i++)
        sleep_ms(10);
    cr_assert(redis_up(), "redis-server did not start on port %d", redis_port);
}

static void redis_stop(void)
{
    char cmd[64];

    if (redis_pid > 0) {
        kill(redis_pid, SIGTERM);
        waitpid(redis_pid, NULL, 0);
    }
    snprintf(cmd, sizeof(cmd), "rm -rf %s", redis_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", redis_dir);
}

TestSuite(registry_redis, .init = redis_start, .fini = redis_stop,
          .timeout = 30);

/* Instance `instance` of the cluster, with faults f (NULL: none), sync s
 * (may be NULL), trace t (may be NULL) and entries of ttl_ms. */
static gw_registry_t *instance(int inst, const wsr_faults_t *f, gw_sync_t *s,
                               gw_trace_t *t, unsigned ttl_ms)
{
    gw_redis_opts_t o = {
        .host = "127.0.0.1",
        .port = redis_port,
        .instance = inst,
        .ttl_ms = ttl_ms,
        .timeout_ms = 2000,
        .faults = f,
        .sync = s,
        .trace = t,
    };
    char err[256] = "";
    gw_registry_t *r = gw_registry_new_redis(&o, err, sizeof(err));

    cr_assert(not(zero(ptr, r)), "%s", err);
    return r;
}

static const wsr_faults_t no_faults;

static wsr_faults_t faults_of(wsr_fault_id_t id)
{
    return (wsr_faults_t){.mask = 1u << id};
}

/* Connection ids as instances number them (GW_CONN_BASE). */
#define C0(n) ((uint64_t)(n))
#define C1(n) ((uint64_t)1 << 40 | (uint64_t)(n))

Test(registry_redis, refuses_an_unreachable_server)
{
    gw_redis_opts_t o = {.host = "127.0.0.1",
                         .port = free_port(),
                         .instance = 0,
                         .timeout_ms = 500};
    char err[256] = "";

    cr_assert(zero(ptr, gw_registry_new_redis(&o, err, sizeof(err))));
    cr_assert(not(zero(ptr, strstr(err, "cannot reach"))), "%s", err);
}

Test(registry_redis, registration_is_atomic_across_instances)
{
    gw_registry_t *a = instance(0, &no_faults, NULL, NULL, 3000);
    gw_registry_t *b = instance(1, &no_faults, NULL, NULL, 3000);
    wsr_state_t st;

    cr_assert(eq(str, (char *)gw_registry_backend(a), "redis"));
    cr_assert(eq(int, gw_registry_register(a, "k", "ann", NULL, C0(1)), 0));
    cr_assert(
        eq(int, gw_registry_register(b, "k", "bob", NULL, C1(1)), -EEXIST));
    cr_assert(eq(sz, gw_registry_count(b), 1));
    cr_assert(eq(int, gw_registry_state(b, "k", 0, &st), 0));
    cr_assert(eq(int, st, WSR_ST_CONNECTING));
    /* Another connection's reading of its "own" machine finds none. */
    cr_assert(eq(int, gw_registry_state(b, "k", C1(1), &st), -ENOENT));
    gw_registry_free(a);
    gw_registry_free(b);
}

Test(registry_redis, the_swap_refuses_a_session_another_instance_holds)
{
    gw_registry_t *a = instance(0, &no_faults, NULL, NULL, 3000);
    gw_registry_t *b = instance(1, &no_faults, NULL, NULL, 3000);
    wsr_state_t st;

    cr_assert(eq(int, gw_registry_register(a, "pre-1", "", NULL, C0(1)), 0));
    cr_assert(
        eq(int, gw_registry_transition(a, "pre-1", WSR_ST_ACCEPTED, C0(1)), 0));
    cr_assert(eq(int, gw_registry_rekey(a, "pre-1", "s", C0(1)), 0));
    cr_assert(eq(int, gw_registry_register(b, "pre-2", "", NULL, C1(2)), 0));
    cr_assert(eq(int, gw_registry_rekey(b, "pre-2", "s", C1(2)), -EEXIST));
    /* The machine moved with its state; the loser keeps its pre-key. */
    cr_assert(eq(int, gw_registry_state(a, "s", C0(1), &st), 0));
    cr_assert(eq(int, st, WSR_ST_ACCEPTED));
    cr_assert(eq(uint, gw_registry_count_key(a, "pre-2"), 1));
    cr_assert(eq(uint, gw_registry_count_key(a, "pre-1"), 0));
    gw_registry_free(a);
    gw_registry_free(b);
}

Test(registry_redis, unregister_compares_the_owner)
{
    gw_registry_t *a = instance(0, &no_faults, NULL, NULL, 3000);
    gw_registry_t *b = instance(1, &no_faults, NULL, NULL, 3000);

    cr_assert(eq(int, gw_registry_register(a, "s", "", NULL, C0(1)), 0));
    cr_assert(eq(int, gw_registry_unregister(b, "s", C1(7)), -ENOENT));
    cr_assert(eq(uint, gw_registry_count_key(a, "s"), 1));
    cr_assert(eq(int, gw_registry_unregister(a, "s", C0(1)), 0));
    cr_assert(eq(uint, gw_registry_count_key(a, "s"), 0));
    gw_registry_free(a);
    gw_registry_free(b);
}

Test(registry_redis, blind_unregister_removes_another_owners_entry)
{
    wsr_faults_t blind = faults_of(WSR_FAULT_BLIND_UNREGISTER);
    gw_registry_t *a = instance(0, &no_faults, NULL, NULL, 3000);
    gw_registry_t *b = instance(1, &blind, NULL, NULL, 3000);

    cr_assert(eq(int, gw_registry_register(a, "s", "", NULL, C0(1)), 0));
    cr_assert(eq(int, gw_registry_unregister(b, "s", C1(7)), 0));
    cr_assert(eq(uint, gw_registry_count_key(a, "s"), 0));
    gw_registry_free(a);
    gw_registry_free(b);
}

Test(registry_redis, transitions_follow_the_owner_and_the_table)
{
    gw_registry_t *a = instance(0, &no_faults, NULL, NULL, 3000);
    gw_coord_t *co = gw_coord_new();
    wsr_state_t st;

    cr_assert(eq(int, gw_registry_register(a, "s", "", co, C0(1)), 0));
    cr_assert(eq(int, gw_registry_transition(a, "s", WSR_ST_ACCEPTED, C0(2)),
                 -ENOENT));
    cr_assert(
        eq(int, gw_registry_transition(a, "s", WSR_ST_IDLE, C0(1)), -EINVAL));
    cr_assert(eq(int, gw_registry_mark_ready(a, "s", co, C0(1)), -EINVAL));
    cr_assert(eq(int, gw_coord_phase(co), WSR_CO_INITIALIZING),
              "a refused ready step leaves the coordinator alone");
    cr_assert(
        eq(int, gw_registry_transition(a, "s", WSR_ST_ACCEPTED, C0(1)), 0));
    cr_assert(eq(
        int, gw_registry_transition(a, "s", WSR_ST_AUTHENTICATED, C0(1)), 0));
    cr_assert(eq(
        int, gw_registry_transition(a, "s", WSR_ST_SERVICES_READY, C0(1)), 0));
    cr_assert(eq(int, gw_coord_advance(co, WSR_CO_HANDSHAKE_PENDING), 0));
    cr_assert(eq(int, gw_coord_advance(co, WSR_CO_CONNECTED), 0));
    cr_assert(eq(int, gw_registry_mark_ready(a, "s", co, C0(1)), 0));
    cr_assert(eq(int, gw_coord_phase(co), WSR_CO_READY));
    cr_assert(eq(int, gw_registry_state(a, "s", C0(1), &st), 0));
    cr_assert(eq(int, st, WSR_ST_PROCESSING_READY));
    cr_assert(gw_registry_ready_for_messages(a, "s", co, C0(1), NULL));
    /* Five refusals in a row force FAILED, as in process. */
    for (int i = 0; i < 4; i++)
        cr_assert(eq(int,
                     gw_registry_transition(a, "s", WSR_ST_ACCEPTED, C0(1)),
                     -EINVAL));
    cr_assert(eq(int, gw_registry_transition(a, "s", WSR_ST_ACCEPTED, C0(1)),
                 -ELOOP));
    cr_assert(eq(int, gw_registry_state(a, "s", C0(1), &st), 0));
    cr_assert(eq(int, st, WSR_ST_FAILED));
    gw_coord_unref(co);
    gw_registry_free(a);
}

/* Reads a whole file into a new string. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = calloc(1, 1 << 20);

    if (f != NULL && buf != NULL)
        buf[fread(buf, 1, (1 << 20) - 1, f)] = '\0';
    if (f != NULL)
        fclose(f);
    return buf;
}

Test(registry_redis, a_dead_instances_entries_expire_and_are_traced)
{
    char path[64];
    gw_trace_t *t;
    gw_registry_t *a, *b;
    char *text;

    snprintf(path, sizeof(path), "%s/trace.jsonl", redis_dir);
    t = gw_trace_open(path);
    cr_assert(not(zero(ptr, t)));
    a = instance(0, &no_faults, NULL, NULL, 300);
    b = instance(1, &no_faults, NULL, t, 300);
    cr_assert(eq(int, gw_registry_register(a, "s", "", NULL, C0(1)), 0));
    gw_registry_free(a); /* no more heartbeats: as if it died */
    for (int i = 0; i < 100 && gw_registry_count(b) > 0; i++)
        sleep_ms(20);
    cr_assert(eq(sz, gw_registry_count(b), 0), "the entry outlived its TTL");
    sleep_ms(300); /* a heartbeat of b sweeps the tombstone */
    gw_registry_free(b);
    gw_trace_close(t);
    text = slurp(path);
    cr_assert(not(zero(ptr, strstr(text, "\"event\":\"registry.expired\""))),
              "%s", text);
    cr_assert(not(zero(ptr, strstr(text, "\"owner_instance\":0"))), "%s", text);
    free(text);
}

Test(registry_redis, stale_presence_keeps_a_dead_instances_entries)
{
    wsr_faults_t stale = faults_of(WSR_FAULT_STALE_PRESENCE);
    gw_registry_t *a = instance(0, &stale, NULL, NULL, 300);
    gw_registry_t *b = instance(1, &no_faults, NULL, NULL, 300);

    cr_assert(eq(int, gw_registry_register(a, "s", "", NULL, C0(1)), 0));
    gw_registry_free(a);
    sleep_ms(900);
    cr_assert(eq(sz, gw_registry_count(b), 1));
    gw_registry_free(b);
}

Test(registry_redis, a_live_instance_keeps_its_entries_past_the_ttl)
{
    gw_registry_t *a = instance(0, &no_faults, NULL, NULL, 300);

    cr_assert(eq(int, gw_registry_register(a, "s", "", NULL, C0(1)), 0));
    sleep_ms(1000);
    cr_assert(eq(uint, gw_registry_count_key(a, "s"), 1));
    gw_registry_free(a);
}

/* Marks s ready on registry r for connection conn. */
static void ready_at(gw_registry_t *r, const char *s, uint64_t conn)
{
    static const wsr_state_t path[] = {WSR_ST_ACCEPTED, WSR_ST_AUTHENTICATED,
                                       WSR_ST_SERVICES_READY,
                                       WSR_ST_PROCESSING_READY};

    cr_assert(eq(int, gw_registry_register(r, s, "", NULL, conn), 0));
    for (size_t i = 0; i < sizeof(path) / sizeof(path[0]); i++)
        cr_assert(eq(int, gw_registry_transition(r, s, path[i], conn), 0));
}

Test(registry_redis, readiness_is_read_from_the_shared_registry)
{
    wsr_faults_t local = faults_of(WSR_FAULT_LOCAL_READINESS);
    gw_registry_t *a = instance(0, &no_faults, NULL, NULL, 3000);
    gw_registry_t *b = instance(1, &no_faults, NULL, NULL, 3000);
    gw_registry_t *c = instance(2, &local, NULL, NULL, 3000);
    bool registered = false;

    ready_at(a, "s", C0(1));
    cr_assert(gw_registry_answer_ready(b, "s", &registered));
    cr_assert(registered);
    /* local-readiness: registered, but not ready in that instance's own
     * memory. */
    cr_assert(not(gw_registry_answer_ready(c, "s", &registered)));
    cr_assert(registered);
    cr_assert(gw_registry_answer_ready(a, "s", &registered));
    cr_assert(not(gw_registry_answer_ready(b, "absent", &registered)));
    cr_assert(not(registered));
    gw_registry_free(a);
    gw_registry_free(b);
    gw_registry_free(c);
}

typedef struct {
    gw_registry_t *r;
    uint64_t conn;
    int rc;
} racer_t;

static void *race_rekey(void *arg)
{
    racer_t *x = arg;
    char pre[32];

    snprintf(pre, sizeof(pre), "pre-%llu", (unsigned long long)x->conn);
    x->rc = gw_registry_rekey(x->r, pre, "sess", x->conn);
    return NULL;
}

/* Two instances swap onto "sess" at once, lined up at registry.check;
 * returns how many of the two swaps succeeded. */
static int swap_race(const wsr_faults_t *f, unsigned *live)
{
    gw_sync_t *s = gw_sync_new(1, NULL);
    char err[256] = "";
    gw_registry_t *a, *b;
    racer_t x[2];
    pthread_t th[2];
    int ok = 0;

    cr_assert(not(zero(ptr, s)));
    a = instance(0, f, s, NULL, 3000);
    b = instance(1, f, s, NULL, 3000);
    x[0] = (racer_t){a, C0(1), 0};
    x[1] = (racer_t){b, C1(1), 0};
    cr_assert(eq(int, gw_registry_register(a, "pre-1", "", NULL, C0(1)), 0));
    cr_assert(eq(
        int, gw_registry_register(b, "pre-1099511627777", "", NULL, C1(1)), 0));
    cr_assert(eq(int,
                 gw_sync_set(s, "registry.check:rendezvous=2,timeout=2000", err,
                             sizeof(err)),
                 0),
              "%s", err);
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, race_rekey, &x[i]);
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        ok += x[i].rc == 0;
    }
    *live = gw_registry_count_key(a, "sess");
    gw_registry_free(a);
    gw_registry_free(b);
    gw_sync_free(s);
    return ok;
}

Test(registry_redis, concurrent_swaps_across_instances_have_one_winner)
{
    unsigned live;

    cr_assert(eq(int, swap_race(&no_faults, &live), 1));
    cr_assert(eq(uint, live, 1));
}

Test(registry_redis, duplicate_registration_lets_both_instances_win)
{
    wsr_faults_t dup = faults_of(WSR_FAULT_DUPLICATE_REGISTRATION);
    unsigned live;

    /* Both read the key absent, then both write it: the second write
     * replaces the first, and both connections believe they hold it. */
    cr_assert(eq(int, swap_race(&dup, &live), 2));
    cr_assert(eq(uint, live, 1));
}
