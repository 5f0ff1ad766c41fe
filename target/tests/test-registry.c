/* test-registry.c - The connection registry (gw_registry.c).
 *
 * Checks the correct behaviour of docs/DESIGN.md ("The registry", "The
 * handshake coordinator") (duplicate keys
 * refused, unknown keys reported, rekey carrying the machine's state with
 * no instant without a machine, absent keys not ready, the linked ready
 * step) and that the faults duplicate-registration, fallback-ready and
 * stuck-swap change exactly that. Races are forced, not hoped for: threads
 * line up on a pthread barrier and the registry.check sync point holds
 * them in a rendezvous of 2, so the fault's window is hit on every run.
 * Also checks the registry's trace events.
 *
 * Criterion 2.4.1 in C gets gt() wrong (it tests >=) and any() wrong:
 * this file writes a > b as lt(b, a) and alternatives with plain ||. Its
 * all() leaks its assertion nodes (memcheck sees it): conjunctions are
 * separate assertions.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gw_registry.h"

/* jansson's json_is_* are macros starting with a parenthesis, which
 * Criterion's cr_assert() cannot take as its criterion. */
static bool is_object(const json_t *j)
{
    return json_is_object(j);
}

static bool is_string(const json_t *j)
{
    return json_is_string(j);
}

static bool is_integer(const json_t *j)
{
    return json_is_integer(j);
}

#define RV_SPEC "registry.check:rendezvous=2,timeout=2000"

/* A sync table with the rendezvous of 2 at registry.check. */
static gw_sync_t *rv_sync(void)
{
    gw_sync_t *s = gw_sync_new(1, NULL);
    char err[256] = "";

    cr_assert(not(zero(ptr, s)));
    cr_assert(eq(int, gw_sync_set(s, RV_SPEC, err, sizeof(err)), 0), "%s", err);
    return s;
}

static gw_registry_t *registry(const wsr_faults_t *f, gw_sync_t *s)
{
    gw_registry_t *r = gw_registry_new(f, s, NULL);

    cr_assert(not(zero(ptr, r)));
    return r;
}

static wsr_faults_t faults_of(unsigned mask)
{
    return (wsr_faults_t){.mask = mask};
}

#define FAULT(id) (1u << (id))

static wsr_state_t state_of(gw_registry_t *r, const char *key)
{
    wsr_state_t st = WSR_ST__COUNT;

    cr_assert(eq(int, gw_registry_state(r, key, 0, &st), 0),
              "no machine under %s", key);
    return st;
}

static bool absent(gw_registry_t *r, const char *key)
{
    wsr_state_t st;

    return gw_registry_state(r, key, 0, &st) == -ENOENT;
}

/* Registers key and walks its machine to `to` along the happy path. */
static void register_at(gw_registry_t *r, const char *key, gw_coord_t *co,
                        wsr_state_t to, uint64_t conn)
{
    static const wsr_state_t path[] = {
        WSR_ST_ACCEPTED,
        WSR_ST_AUTHENTICATED,
        WSR_ST_SERVICES_READY,
        WSR_ST_PROCESSING_READY,
    };

    cr_assert(eq(int, gw_registry_register(r, key, NULL, co, conn), 0),
              "register %s", key);
    for (size_t i = 0; to != WSR_ST_CONNECTING && i < 4; i++) {
        cr_assert(eq(int, gw_registry_transition(r, key, path[i], conn), 0));
        if (path[i] == to)
            break;
    }
    cr_assert(eq(int, state_of(r, key), to));
}

/* A coordinator brought to CONNECTED, as the handshake leaves it. */
static gw_coord_t *coord_connected(void)
{
    gw_coord_t *c = gw_coord_new();

    cr_assert(not(zero(ptr, c)));
    cr_assert(eq(int, gw_coord_advance(c, WSR_CO_HANDSHAKE_PENDING), 0));
    cr_assert(eq(int, gw_coord_advance(c, WSR_CO_CONNECTED), 0));
    return c;
}

/* ------------------------------------------------------------------ */
/* Register and unregister                                              */
/* ------------------------------------------------------------------ */

Test(registry, register_creates_machine_in_connecting, .timeout = 10)
{
    gw_registry_t *r = registry(NULL, NULL);

    cr_assert(eq(int, gw_registry_register(r, "k1", "alice", NULL, 1), 0));
    cr_assert(eq(int, state_of(r, "k1"), WSR_ST_CONNECTING));
    cr_assert(eq(sz, gw_registry_count(r), 1));
    cr_assert(eq(uint, gw_registry_count_key(r, "k1"), 1));
    gw_registry_free(r);
}

Test(registry, register_of_live_key_is_eexist, .timeout = 10)
{
    wsr_faults_t f = faults_of(0);
    gw_registry_t *r = registry(&f, NULL);

    register_at(r, "k1", NULL, WSR_ST_AUTHENTICATED, 1);
    cr_assert(eq(int, gw_registry_register(r, "k1", NULL, NULL, 2), -EEXIST));
    cr_assert(eq(uint, gw_registry_count_key(r, "k1"), 1));
    /* The live machine is untouched. */
    cr_assert(eq(int, state_of(r, "k1"), WSR_ST_AUTHENTICATED));
    gw_registry_free(r);
}

Test(registry, key_is_free_again_after_unregister, .timeout = 10)
{
    gw_registry_t *r = registry(NULL, NULL);

    register_at(r, "k1", NULL, WSR_ST_ACCEPTED, 1);
    cr_assert(eq(int, gw_registry_unregister(r, "k1", 1), 0));
    cr_assert(absent(r, "k1"));
    cr_assert(eq(sz, gw_registry_count(r), 0));
    cr_assert(eq(int, gw_registry_register(r, "k1", NULL, NULL, 2), 0));
    cr_assert(eq(int, state_of(r, "k1"), WSR_ST_CONNECTING));
    gw_registry_free(r);
}

Test(registry, unregister_unknown_is_enoent, .timeout = 10)
{
    gw_registry_t *r = registry(NULL, NULL);

    cr_assert(eq(int, gw_registry_unregister(r, "nobody", 1), -ENOENT));
    cr_assert(eq(int, gw_registry_register(r, "k1", NULL, NULL, 1), 0));
    cr_assert(eq(int, gw_registry_unregister(r, "k1", 1), 0));
    cr_assert(eq(int, gw_registry_unregister(r, "k1", 1), -ENOENT),
              "second unregister");
    gw_registry_free(r);
}

Test(registry, bad_keys_are_refused, .timeout = 10)
{
    gw_registry_t *r = registry(NULL, NULL);
    char longkey[GW_KEY_MAX + 1];

    memset(longkey, 'k', GW_KEY_MAX);
    longkey[GW_KEY_MAX] = '\0';
    cr_assert(eq(int, gw_registry_register(r, "", NULL, NULL, 1), -EINVAL));
    cr_assert(eq(int, gw_registry_register(r, NULL, NULL, NULL, 1), -EINVAL));
    cr_assert(
        eq(int, gw_registry_register(r, longkey, NULL, NULL, 1), -EINVAL));
    /* GW_KEY_MAX counts the NUL: one byte shorter fits. */
    longkey[GW_KEY_MAX - 1] = '\0';
    cr_assert(eq(int, gw_registry_register(r, longkey, NULL, NULL, 1), 0));
    cr_assert(eq(sz, gw_registry_count(r), 1));
    gw_registry_free(r);
}

Test(registry, transition_follows_machine_rules, .timeout = 10)
{
    gw_registry_t *r = registry(NULL, NULL);

    cr_assert(eq(int, gw_registry_register(r, "k", NULL, NULL, 1), 0));
    cr_assert(eq(int, gw_registry_transition(r, "k", WSR_ST_IDLE, 1), -EINVAL));
    cr_assert(eq(int, state_of(r, "k"), WSR_ST_CONNECTING));
    cr_assert(eq(int, gw_registry_transition(r, "k", WSR_ST_ACCEPTED, 1), 0));
    cr_assert(eq(int, gw_registry_transition(r, "nokey", WSR_ST_ACCEPTED, 1),
                 -ENOENT));
    for (int i = 0; i < GW_MACHINE_MAX_INVALID - 1; i++)
        cr_assert(
            eq(int, gw_registry_transition(r, "k", WSR_ST_IDLE, 1), -EINVAL));
    cr_assert(eq(int, gw_registry_transition(r, "k", WSR_ST_IDLE, 1), -ELOOP));
    cr_assert(eq(int, state_of(r, "k"), WSR_ST_FAILED));
    gw_registry_free(r);
}

Test(registry, many_keys_survive_growth, .timeout = 10)
{
    gw_registry_t *r = registry(NULL, NULL);
    char key[32];

    /* More entries than the initial buckets forces at least one rehash. */
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof(key), "key-%d", i);
        cr_assert(eq(int, gw_registry_register(r, key, NULL, NULL, 1), 0));
        if (i % 3 == 0)
            cr_assert(
                eq(int, gw_registry_transition(r, key, WSR_ST_ACCEPTED, 1), 0));
    }
    cr_assert(eq(sz, gw_registry_count(r), 1000));
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof(key), "key-%d", i);
        cr_assert(eq(int, state_of(r, key),
                     i % 3 == 0 ? WSR_ST_ACCEPTED : WSR_ST_CONNECTING));
        cr_assert(
            eq(int, gw_registry_register(r, key, NULL, NULL, 2), -EEXIST));
    }
    gw_registry_free(r);
}

/* ------------------------------------------------------------------ */
/* Rekey                                                                */
/* ------------------------------------------------------------------ */

Test(registry, rekey_carries_the_machine_state, .timeout = 10)
{
    gw_registry_t *r = registry(NULL, NULL);
    gw_coord_t *co = coord_connected();

    register_at(r, "pre-1", co, WSR_ST_SERVICES_READY, 1);
    cr_assert(eq(int, gw_registry_set_user(r, "pre-1", "alice", 1), 0));
    cr_assert(eq(int, gw_registry_rekey(r, "pre-1", "sess-1", 1), 0));
    cr_assert(absent(r, "pre-1"));
    cr_assert(eq(int, state_of(r, "sess-1"), WSR_ST_SERVICES_READY));
    cr_assert(eq(sz, gw_registry_count(r), 1));
    /* The coordinator link moved with it: the ready step still works. */
    cr_assert(eq(int, gw_registry_mark_ready(r, "sess-1", co, 1), 0));
    cr_assert(gw_registry_ready_for_messages(r, "sess-1", co, 1, NULL));
    gw_coord_unref(co);
    gw_registry_free(r);
}

Test(registry, rekey_onto_live_key_is_eexist_and_changes_nothing, .timeout = 10)
{
    gw_registry_t *r = registry(NULL, NULL);

    register_at(r, "pre-1", NULL, WSR_ST_SERVICES_READY, 1);
    register_at(r, "sess", NULL, WSR_ST_PROCESSING_READY, 2);
    cr_assert(eq(int, gw_registry_rekey(r, "pre-1", "sess", 1), -EEXIST));
    cr_assert(eq(int, state_of(r, "pre-1"), WSR_ST_SERVICES_READY));
    cr_assert(eq(int, state_of(r, "sess"), WSR_ST_PROCESSING_READY));
    cr_assert(eq(uint, gw_registry_count_key(r, "sess"), 1));
    cr_assert(eq(sz, gw_registry_count(r), 2));
    gw_registry_free(r);
}

Test(registry, rekey_of_unknown_key_is_enoent, .timeout = 10)
{
    gw_registry_t *r = registry(NULL, NULL);

    cr_assert(eq(int, gw_registry_rekey(r, "nope", "sess", 1), -ENOENT));
    cr_assert(absent(r, "sess"));
    cr_assert(eq(int, gw_registry_rekey(r, "", "sess", 1), -EINVAL));
    cr_assert(eq(sz, gw_registry_count(r), 0));
    gw_registry_free(r);
}

Test(registry, stuck_swap_recreates_machine_in_connecting, .timeout = 10)
{
    wsr_faults_t f = faults_of(FAULT(WSR_FAULT_STUCK_SWAP));
    gw_registry_t *r = registry(&f, NULL);

    register_at(r, "pre-1", NULL, WSR_ST_SERVICES_READY, 1);
    cr_assert(eq(int, gw_registry_rekey(r, "pre-1", "sess-1", 1), 0));
    cr_assert(absent(r, "pre-1"));
    cr_assert(eq(int, state_of(r, "sess-1"), WSR_ST_CONNECTING),
              "stuck-swap should lose the state");
    cr_assert(eq(int,
                 gw_registry_transition(r, "sess-1", WSR_ST_PROCESSING_READY, 1),
                 -EINVAL));
    cr_assert(eq(int, gw_registry_mark_ready(r, "sess-1", NULL, 1), -EINVAL));
    cr_assert(not(gw_registry_is_ready(r, "sess-1", 1)));
    gw_registry_free(r);
}

Test(registry, correct_rekey_keeps_state_where_stuck_swap_loses_it,
     .timeout = 10)
{
    /* The same steps as above without the fault: the control. */
    wsr_faults_t f = faults_of(0);
    gw_registry_t *r = registry(&f, NULL);

    register_at(r, "pre-1", NULL, WSR_ST_SERVICES_READY, 1);
    cr_assert(eq(int, gw_registry_rekey(r, "pre-1", "sess-1", 1), 0));
    cr_assert(eq(int,
                 gw_registry_transition(r, "sess-1", WSR_ST_PROCESSING_READY, 1),
                 0));
    cr_assert(gw_registry_is_ready(r, "sess-1", 1));
    gw_registry_free(r);
}

Test(registry, duplicate_registration_sequential_rekey_is_existing,
     .timeout = 10)
{
    wsr_faults_t f = faults_of(FAULT(WSR_FAULT_DUPLICATE_REGISTRATION));
    gw_registry_t *r = registry(&f, NULL);

    register_at(r, "pre-1", NULL, WSR_ST_SERVICES_READY, 1);
    register_at(r, "sess", NULL, WSR_ST_PROCESSING_READY, 2);
    cr_assert(
        eq(int, gw_registry_rekey(r, "pre-1", "sess", 1), GW_REG_EXISTING));
    cr_assert(absent(r, "pre-1"));
    cr_assert(eq(uint, gw_registry_count_key(r, "sess"), 1));
    cr_assert(eq(int, state_of(r, "sess"), WSR_ST_PROCESSING_READY));
    gw_registry_free(r);
}

/* ------------------------------------------------------------------ */
/* Readiness and the linked ready step                                  */
/* ------------------------------------------------------------------ */

Test(registry, absent_key_is_not_ready, .timeout = 10)
{
    wsr_faults_t f = faults_of(0);
    gw_registry_t *r = registry(&f, NULL);

    cr_assert(not(gw_registry_is_ready(r, "ghost", 1)));
    cr_assert(not(gw_registry_is_ready(r, "", 1)));
    gw_registry_free(r);
}

Test(registry, fallback_ready_reports_absent_key_ready, .timeout = 10)
{
    wsr_faults_t f = faults_of(FAULT(WSR_FAULT_FALLBACK_READY));
    gw_registry_t *r = registry(&f, NULL);

    cr_assert(gw_registry_is_ready(r, "ghost", 1));
    /* A present machine is still judged by its state. */
    register_at(r, "k", NULL, WSR_ST_SERVICES_READY, 1);
    cr_assert(not(gw_registry_is_ready(r, "k", 1)));
    gw_registry_free(r);
}

Test(registry, readiness_follows_the_ready_set, .timeout = 10)
{
    gw_registry_t *r = registry(NULL, NULL);

    register_at(r, "k", NULL, WSR_ST_SERVICES_READY, 1);
    cr_assert(not(gw_registry_is_ready(r, "k", 1)));
    cr_assert(
        eq(int, gw_registry_transition(r, "k", WSR_ST_PROCESSING_READY, 1), 0));
    cr_assert(gw_registry_is_ready(r, "k", 1));
    cr_assert(eq(int, gw_registry_transition(r, "k", WSR_ST_DEGRADED, 1), 0));
    cr_assert(gw_registry_is_ready(r, "k", 1));
    cr_assert(
        eq(int, gw_registry_transition(r, "k", WSR_ST_RECONNECTING, 1), 0));
    cr_assert(not(gw_registry_is_ready(r, "k", 1)));
    gw_registry_free(r);
}

Test(registry, mark_ready_moves_machine_and_coordinator_together, .timeout = 10)
{
    gw_registry_t *r = registry(NULL, NULL);
    gw_coord_t *co = coord_connected();

    register_at(r, "k", co, WSR_ST_SERVICES_READY, 1);
    cr_assert(not(gw_registry_ready_for_messages(r, "k", co, 1, NULL)));
    cr_assert(eq(int, gw_registry_mark_ready(r, "k", co, 1), 0));
    cr_assert(eq(int, state_of(r, "k"), WSR_ST_PROCESSING_READY));
    cr_assert(eq(int, gw_coord_phase(co), WSR_CO_READY));
    cr_assert(gw_registry_ready_for_messages(r, "k", co, 1, NULL));
    gw_coord_unref(co);
    gw_registry_free(r);
}

Test(registry, mark_ready_of_absent_key_is_enoent_and_keeps_coordinator,
     .timeout = 10)
{
    gw_registry_t *r = registry(NULL, NULL);
    gw_coord_t *co = coord_connected();

    cr_assert(eq(int, gw_registry_mark_ready(r, "ghost", co, 1), -ENOENT));
    cr_assert(eq(int, gw_coord_phase(co), WSR_CO_CONNECTED));
    cr_assert(not(gw_registry_ready_for_messages(r, "ghost", co, 1, NULL)));
    gw_coord_unref(co);
    gw_registry_free(r);
}

Test(registry, mark_ready_refused_by_machine_keeps_coordinator, .timeout = 10)
{
    gw_registry_t *r = registry(NULL, NULL);
    gw_coord_t *co = coord_connected();

    register_at(r, "k", co, WSR_ST_ACCEPTED, 1);
    cr_assert(eq(int, gw_registry_mark_ready(r, "k", co, 1), -EINVAL));
    cr_assert(eq(int, state_of(r, "k"), WSR_ST_ACCEPTED));
    cr_assert(eq(int, gw_coord_phase(co), WSR_CO_CONNECTED));
    gw_coord_unref(co);
    gw_registry_free(r);
}

/* When the coordinator refuses READY (here it was CLOSED by a concurrent
 * close), the machine must not move either: the ready step (docs/DESIGN.md,
 * "The handshake coordinator") is one step, done whole or not at all. */
Test(registry, mark_ready_refused_by_coordinator_keeps_machine, .timeout = 10)
{
    gw_registry_t *r = registry(NULL, NULL);
    gw_coord_t *co = coord_connected();

    register_at(r, "k", co, WSR_ST_SERVICES_READY, 1);
    cr_assert(eq(int, gw_coord_advance(co, WSR_CO_CLOSED), 0));
    cr_assert(eq(int, gw_registry_mark_ready(r, "k", co, 1), -EINVAL));
    cr_assert(eq(int, gw_coord_phase(co), WSR_CO_CLOSED));
    cr_assert(eq(int, state_of(r, "k"), WSR_ST_SERVICES_READY),
              "machine moved although the ready step failed");
    gw_coord_unref(co);
    gw_registry_free(r);
}

Test(registry, ready_for_messages_needs_machine_and_coordinator, .timeout = 10)
{
    wsr_faults_t f = faults_of(0);
    gw_registry_t *r = registry(&f, NULL);
    gw_coord_t *co = coord_connected();
    gw_coord_t *ready = coord_connected();

    cr_assert(eq(int, gw_coord_advance(ready, WSR_CO_READY), 0));
    /* Machine ready, coordinator not. */
    register_at(r, "m", co, WSR_ST_PROCESSING_READY, 1);
    cr_assert(gw_registry_is_ready(r, "m", 1));
    cr_assert(not(gw_registry_ready_for_messages(r, "m", co, 1, NULL)));
    cr_assert(not(gw_registry_ready_for_messages(r, "m", NULL, 1, NULL)));
    /* Coordinator ready, machine not. */
    register_at(r, "c", ready, WSR_ST_SERVICES_READY, 2);
    cr_assert(not(gw_registry_ready_for_messages(r, "c", ready, 2, NULL)));
    /* Coordinator ready, no machine at all. */
    cr_assert(not(gw_registry_ready_for_messages(r, "ghost", ready, 3, NULL)));
    /* Both. */
    cr_assert(gw_registry_ready_for_messages(r, "m", ready, 1, NULL));
    gw_coord_unref(co);
    gw_coord_unref(ready);
    gw_registry_free(r);
}

Test(registry, fallback_ready_opens_the_gate_for_absent_key, .timeout = 10)
{
    wsr_faults_t f = faults_of(FAULT(WSR_FAULT_FALLBACK_READY));
    gw_registry_t *r = registry(&f, NULL);
    gw_coord_t *co = coord_connected();

    cr_assert(not(gw_registry_ready_for_messages(r, "ghost", co, 1, NULL)));
    cr_assert(eq(int, gw_coord_advance(co, WSR_CO_READY), 0));
    cr_assert(gw_registry_ready_for_messages(r, "ghost", co, 1, NULL),
              "fallback-ready should let an absent key through");
    gw_coord_unref(co);
    gw_registry_free(r);
}

/* ------------------------------------------------------------------ */
/* foreach                                                              */
/* ------------------------------------------------------------------ */

#define SEEN_MAX 8

typedef struct {
    int n;
    struct {
        char key[GW_KEY_MAX];
        char user[GW_USER_MAX];
        wsr_state_t state;
        int coord_phase;
        uint64_t owner;
    } e[SEEN_MAX];
} seen_t;

static void collect(const gw_registry_view_t *v, void *arg)
{
    seen_t *s = arg;

    if (s->n >= SEEN_MAX) {
        s->n++;
        return;
    }
    snprintf(s->e[s->n].key, GW_KEY_MAX, "%s", v->key);
    snprintf(s->e[s->n].user, GW_USER_MAX, "%s", v->user);
    s->e[s->n].state = v->state;
    s->e[s->n].coord_phase = v->coord_phase;
    s->e[s->n].owner = v->owner;
    s->n++;
}

static int find_seen(const seen_t *s, const char *key)
{
    int at = -1;

    for (int i = 0; i < s->n && i < SEEN_MAX; i++) {
        if (strcmp(s->e[i].key, key) == 0) {
            cr_assert(eq(int, at, -1), "%s visited twice", key);
            at = i;
        }
    }
    cr_assert(ge(int, at, 0), "%s not visited", key);
    return at;
}

Test(registry, foreach_visits_every_entry_with_its_state_and_phase,
     .timeout = 10)
{
    gw_registry_t *r = registry(NULL, NULL);
    gw_coord_t *c1 = coord_connected(), *c2 = gw_coord_new();
    seen_t s = {0};
    int i;

    register_at(r, "a", c1, WSR_ST_SERVICES_READY, 11);
    cr_assert(eq(int, gw_registry_mark_ready(r, "a", c1, 11), 0));
    cr_assert(eq(int, gw_registry_register(r, "b", "bob", c2, 22), 0));
    register_at(r, "c", NULL, WSR_ST_AUTHENTICATED, 33);
    cr_assert(eq(int, gw_registry_set_user(r, "c", "carol", 33), 0));
    cr_assert(eq(int, gw_registry_register(r, "gone", NULL, NULL, 44), 0));
    cr_assert(eq(int, gw_registry_unregister(r, "gone", 44), 0));

    gw_registry_foreach(r, collect, &s);
    cr_assert(eq(int, s.n, 3));
    i = find_seen(&s, "a");
    cr_assert(eq(int, s.e[i].state, WSR_ST_PROCESSING_READY));
    cr_assert(eq(int, s.e[i].coord_phase, WSR_CO_READY));
    cr_assert(eq(u64, s.e[i].owner, 11));
    cr_assert(eq(str, s.e[i].user, ""));
    i = find_seen(&s, "b");
    cr_assert(eq(int, s.e[i].state, WSR_ST_CONNECTING));
    cr_assert(eq(int, s.e[i].coord_phase, WSR_CO_INITIALIZING));
    cr_assert(eq(str, s.e[i].user, "bob"));
    cr_assert(eq(u64, s.e[i].owner, 22));
    i = find_seen(&s, "c");
    cr_assert(eq(int, s.e[i].state, WSR_ST_AUTHENTICATED));
    cr_assert(eq(int, s.e[i].coord_phase, -1));
    cr_assert(eq(str, s.e[i].user, "carol"));
    /* The view follows the coordinator, which the entry shares. */
    cr_assert(eq(int, gw_coord_advance(c2, WSR_CO_ERROR), 0));
    s.n = 0;
    gw_registry_foreach(r, collect, &s);
    cr_assert(eq(int, s.e[find_seen(&s, "b")].coord_phase, WSR_CO_ERROR));
    gw_coord_unref(c1);
    gw_coord_unref(c2);
    gw_registry_free(r);
}

/* ------------------------------------------------------------------ */
/* Races on one key                                                     */
/* ------------------------------------------------------------------ */

typedef struct {
    gw_registry_t *r;
    pthread_barrier_t *start;
    const char *old_key; /* NULL: register key; else rekey old_key -> key */
    const char *key;
    uint64_t conn;
    int rc; /* written by the thread, read after join */
} racer_t;

static void *racer(void *p)
{
    racer_t *a = p;

    pthread_barrier_wait(a->start);
    if (a->old_key)
        a->rc = gw_registry_rekey(a->r, a->old_key, a->key, a->conn);
    else
        a->rc = gw_registry_register(a->r, a->key, NULL, NULL, a->conn);
    return NULL;
}

/* Runs n racers (old_keys[i] NULL: register) on key; returns how many
 * got 0 and, in *dup, how many got -EEXIST. Other results fail the test. */
static int race(gw_registry_t *r, int n, const char *const *old_keys,
                const char *key, int *dup)
{
    pthread_barrier_t start;
    pthread_t th[8];
    racer_t a[8];
    int ok = 0;

    cr_assert(le(int, n, 8));
    *dup = 0;
    pthread_barrier_init(&start, NULL, (unsigned)n);
    for (int i = 0; i < n; i++) {
        a[i] = (racer_t){.r = r,
                         .start = &start,
                         .old_key = old_keys ? old_keys[i] : NULL,
                         .key = key,
                         .conn = (uint64_t)i + 1,
                         .rc = 99};
        cr_assert(eq(int, pthread_create(&th[i], NULL, racer, &a[i]), 0));
    }
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < n; i++) {
        cr_assert(a[i].rc == 0 || a[i].rc == -EEXIST, "racer %d returned %d", i,
                  a[i].rc);
        ok += a[i].rc == 0;
        *dup += a[i].rc == -EEXIST;
    }
    return ok;
}

Test(registry, concurrent_register_of_one_key_has_one_winner, .timeout = 10)
{
    wsr_faults_t f = faults_of(0);
    /* Under valgrind (WSRACE_TEST_TOOL) threads run one at a time and far
     * slower: a tenth of the rounds fits the timeout. */
    int rounds = getenv("WSRACE_TEST_TOOL") ? 5 : 50;

    for (int round = 0; round < rounds; round++) {
        gw_sync_t *s = rv_sync();
        gw_registry_t *r = registry(&f, s);
        int dup, ok = race(r, 8, NULL, "session-x", &dup);

        cr_assert(eq(int, ok, 1), "round %d: %d winners", round, ok);
        cr_assert(eq(int, dup, 7), "round %d", round);
        cr_assert(eq(uint, gw_registry_count_key(r, "session-x"), 1));
        gw_registry_free(r);
        gw_sync_free(s);
    }
}

Test(registry, duplicate_registration_lets_both_racers_register, .timeout = 10)
{
    wsr_faults_t f = faults_of(FAULT(WSR_FAULT_DUPLICATE_REGISTRATION));

    /* The rendezvous holds both between check and insert: every run. */
    for (int round = 0; round < 20; round++) {
        gw_sync_t *s = rv_sync();
        gw_registry_t *r = registry(&f, s);
        int dup, ok = race(r, 2, NULL, "session-x", &dup);

        cr_assert(eq(int, ok, 2), "round %d: %d winners", round, ok);
        cr_assert(eq(uint, gw_registry_count_key(r, "session-x"), 2),
                  "round %d", round);
        gw_registry_free(r);
        gw_sync_free(s);
    }
}

Test(registry, duplicate_registration_sequential_returns_existing,
     .timeout = 10)
{
    wsr_faults_t f = faults_of(FAULT(WSR_FAULT_DUPLICATE_REGISTRATION));
    gw_registry_t *r = registry(&f, NULL);

    register_at(r, "k", NULL, WSR_ST_ACCEPTED, 1);
    cr_assert(
        eq(int, gw_registry_register(r, "k", NULL, NULL, 2), GW_REG_EXISTING));
    cr_assert(eq(uint, gw_registry_count_key(r, "k"), 1));
    cr_assert(eq(int, state_of(r, "k"), WSR_ST_ACCEPTED));
    gw_registry_free(r);
}

/* Two machines, at pre-1 and pre-2 in SERVICES_READY, race to be rekeyed
 * onto "sess" through a rendezvous at registry.check. The rendezvous is set
 * once the set-up is done, while no other thread exists (actions are
 * read-only while threads run). Returns the registry; *ok and *dup count
 * the winners and the -EEXIST losers. */
static gw_registry_t *rekey_pair_race(const wsr_faults_t *f, gw_sync_t **s,
                                      int *ok, int *dup)
{
    static const char *const pre[2] = {"pre-1", "pre-2"};
    gw_registry_t *r;
    char err[256];

    *s = gw_sync_new(1, NULL);
    r = registry(f, *s);
    register_at(r, "pre-1", NULL, WSR_ST_SERVICES_READY, 1);
    register_at(r, "pre-2", NULL, WSR_ST_SERVICES_READY, 2);
    cr_assert(eq(int, gw_sync_set(*s, RV_SPEC, err, sizeof(err)), 0));
    *ok = race(r, 2, pre, "sess", dup);
    return r;
}

Test(registry, concurrent_rekey_onto_one_key_has_one_winner, .timeout = 10)
{
    wsr_faults_t f = faults_of(0);

    for (int round = 0; round < 20; round++) {
        gw_sync_t *s;
        int dup, ok;
        gw_registry_t *r = rekey_pair_race(&f, &s, &ok, &dup);

        cr_assert(eq(int, ok, 1), "round %d: %d winners", round, ok);
        cr_assert(eq(int, dup, 1), "round %d", round);
        cr_assert(eq(uint, gw_registry_count_key(r, "sess"), 1));
        /* The loser keeps its machine under its pre-key. */
        cr_assert(eq(sz, gw_registry_count(r), 2));
        cr_assert(
            eq(int, (int)absent(r, "pre-1") + (int)absent(r, "pre-2"), 1));
        cr_assert(eq(int, state_of(r, "sess"), WSR_ST_SERVICES_READY));
        gw_registry_free(r);
        gw_sync_free(s);
    }
}

Test(registry, duplicate_registration_lets_both_rekeys_win, .timeout = 10)
{
    wsr_faults_t f = faults_of(FAULT(WSR_FAULT_DUPLICATE_REGISTRATION));

    for (int round = 0; round < 20; round++) {
        gw_sync_t *s;
        int dup, ok;
        gw_registry_t *r = rekey_pair_race(&f, &s, &ok, &dup);

        cr_assert(eq(int, ok, 2), "round %d: %d winners", round, ok);
        cr_assert(eq(uint, gw_registry_count_key(r, "sess"), 2), "round %d",
                  round);
        cr_assert(absent(r, "pre-1"));
        cr_assert(absent(r, "pre-2"));
        gw_registry_free(r);
        gw_sync_free(s);
    }
}

/* ------------------------------------------------------------------ */
/* Rekey atomicity                                                      */
/* ------------------------------------------------------------------ */

/* The watcher takes snapshots with gw_registry_foreach(), which runs with
 * the registry locked: one snapshot is one instant. Two separate
 * gw_registry_state() calls on A and B are not one instant (a move can
 * fall between them and both look empty while the machine never lacked a
 * key), so they serve only to show the watcher saw the machine under each
 * key, not as the verdict. */
typedef struct {
    gw_registry_t *r;
    pthread_barrier_t *start;
    int moves;                    /* rekeys to make, A->B->A... */
    _Atomic bool done;            /* set by the mover when finished */
    _Atomic unsigned long snaps;  /* snapshots taken by the watcher */
    unsigned long empty;          /* snapshots with no machine under A or B */
    unsigned long doubled;        /* snapshots with a machine under both */
    unsigned long seen_a, seen_b; /* gw_registry_state hits per key */
    int bad_state;                /* snapshots whose machine lost its state */
    wsr_state_t want;              /* the state the machine must keep */
    int mover_errors;             /* rekeys that did not return 0 */
} swap_t;

typedef struct {
    int a, b;
    wsr_state_t st;
} ab_t;

static void count_ab(const gw_registry_view_t *v, void *arg)
{
    ab_t *ab = arg;

    if (strcmp(v->key, "A") == 0) {
        ab->a++;
        ab->st = v->state;
    } else if (strcmp(v->key, "B") == 0) {
        ab->b++;
        ab->st = v->state;
    }
}

static void *watcher(void *p)
{
    swap_t *w = p;

    pthread_barrier_wait(w->start);
    while (!atomic_load(&w->done)) {
        ab_t ab = {0};
        wsr_state_t st;

        gw_registry_foreach(w->r, count_ab, &ab);
        if (ab.a + ab.b == 0)
            w->empty++;
        else if (ab.a + ab.b > 1)
            w->doubled++;
        else if (ab.st != w->want)
            w->bad_state++;
        w->seen_a += gw_registry_state(w->r, "A", 0, &st) == 0;
        w->seen_b += gw_registry_state(w->r, "B", 0, &st) == 0;
        atomic_fetch_add(&w->snaps, 1);
    }
    return NULL;
}

static void *mover(void *p)
{
    swap_t *w = p;

    pthread_barrier_wait(w->start);
    for (int i = 0; i < w->moves; i++) {
        const char *from = i % 2 ? "B" : "A", *to = i % 2 ? "A" : "B";

        w->mover_errors += gw_registry_rekey(w->r, from, to, 1) != 0;
        /* Now and then let the watcher make two full rounds (one begun
         * and one whole) before moving on, so the two really interleave
         * even on one core: after 8k moves the machine is under A, after
         * 8k + 3 under B. */
        if (i % 8 == 7 || i % 8 == 2) {
            unsigned long at = atomic_load(&w->snaps);

            while (atomic_load(&w->snaps) < at + 2)
                sched_yield();
        }
    }
    atomic_store(&w->done, true);
    return NULL;
}

static void run_swaps(swap_t *w)
{
    pthread_barrier_t start;
    pthread_t tw, tm;

    pthread_barrier_init(&start, NULL, 2);
    w->start = &start;
    cr_assert(eq(int, pthread_create(&tw, NULL, watcher, w), 0));
    cr_assert(eq(int, pthread_create(&tm, NULL, mover, w), 0));
    pthread_join(tm, NULL);
    pthread_join(tw, NULL);
    pthread_barrier_destroy(&start);
}

Test(registry, rekey_leaves_no_instant_without_a_machine, .timeout = 10)
{
    /* Under valgrind (scripts/tool-wrap sets WSRACE_TEST_TOOL) the threads
     * run one at a time and far slower: the tool watches the accesses, and
     * a fiftieth of the moves fits the timeout. An even count either way. */
    bool tool = getenv("WSRACE_TEST_TOOL") != NULL;
    wsr_faults_t f = faults_of(0);
    gw_registry_t *r = registry(&f, NULL);
    swap_t w = {.r = r, .moves = tool ? 40 : 2000,
                .want = WSR_ST_SERVICES_READY};

    register_at(r, "A", NULL, WSR_ST_SERVICES_READY, 1);
    run_swaps(&w);
    cr_assert(eq(int, w.mover_errors, 0));
    cr_assert(lt(u64, tool ? 2 : 100, atomic_load(&w.snaps)),
              "the watcher barely ran");
    cr_assert(eq(u64, w.empty, 0), "%lu of %lu snapshots had no machine",
              w.empty, atomic_load(&w.snaps));
    cr_assert(eq(u64, w.doubled, 0));
    cr_assert(eq(int, w.bad_state, 0), "the machine lost its state");
    cr_assert(ne(u64, w.seen_a, 0), "the watcher never saw key A (B %lu)",
              w.seen_b);
    cr_assert(ne(u64, w.seen_b, 0), "the watcher never saw key B (A %lu)",
              w.seen_a);
    /* An even number of moves ends where it began. */
    cr_assert(eq(int, state_of(r, "A"), WSR_ST_SERVICES_READY));
    cr_assert(absent(r, "B"));
    gw_registry_free(r);
}

Test(registry, watcher_sees_the_gap_of_stuck_swap, .timeout = 10)
{
    /* The positive control of the test above: stuck-swap unregisters the
     * old key, then registers the new one, and a 1 ms delay at
     * swap.unregistered holds that gap open. The same watcher must see
     * it, or it could not see a gap in the correct code either. */
    wsr_faults_t f = faults_of(FAULT(WSR_FAULT_STUCK_SWAP));
    gw_sync_t *s = gw_sync_new(1, NULL);
    gw_registry_t *r = registry(&f, s);
    /* Fewer moves under valgrind (WSRACE_TEST_TOOL), as above. */
    swap_t w = {.r = r, .moves = getenv("WSRACE_TEST_TOOL") ? 20 : 100,
                .want = WSR_ST_CONNECTING};
    char err[256];

    cr_assert(eq(
        int, gw_sync_set(s, "swap.unregistered:delay=1", err, sizeof(err)), 0));
    cr_assert(eq(int, gw_registry_register(r, "A", NULL, NULL, 1), 0));
    run_swaps(&w);
    cr_assert(eq(int, w.mover_errors, 0));
    cr_assert(ne(u64, w.empty, 0), "no gap seen in %lu snapshots",
              atomic_load(&w.snaps));
    gw_registry_free(r);
    gw_sync_free(s);
}

/* ------------------------------------------------------------------ */
/* Trace                                                                */
/* ------------------------------------------------------------------ */

#define TRACE_THREADS 4
#define TRACE_KEYS    50

typedef struct {
    gw_registry_t *r;
    pthread_barrier_t *start;
    int id;
    int created, dups; /* by return code */
} tracer_t;

static void *tracer(void *p)
{
    tracer_t *a = p;
    char key[32];

    pthread_barrier_wait(a->start);
    /* Every thread registers the same keys: each key is created once and
     * refused as a duplicate TRACE_THREADS - 1 times. */
    for (int i = 0; i < TRACE_KEYS; i++) {
        int rc;

        snprintf(key, sizeof(key), "t-%d", i);
        rc = gw_registry_register(a->r, key, NULL, NULL, (uint64_t)a->id);
        a->created += rc == 0;
        a->dups += rc == -EEXIST;
    }
    return NULL;
}

Test(registry, trace_has_register_events_in_seq_order, .timeout = 10)
{
    char path[] = "/tmp/wsrace-test-registry-XXXXXX";
    int fd = mkstemp(path);
    gw_trace_t *t;
    gw_registry_t *r;
    pthread_barrier_t start;
    pthread_t th[TRACE_THREADS];
    tracer_t a[TRACE_THREADS];
    FILE *fp;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    json_int_t last = 0;
    int lines = 0, created = 0, dups = 0, ev_created = 0, ev_dup = 0;
    bool key_seen[TRACE_KEYS] = {false};

    cr_assert(ge(int, fd, 0));
    close(fd);
    t = gw_trace_open(path);
    cr_assert(not(zero(ptr, t)));
    r = gw_registry_new(NULL, NULL, t);
    pthread_barrier_init(&start, NULL, TRACE_THREADS);
    for (int i = 0; i < TRACE_THREADS; i++) {
        a[i] = (tracer_t){.r = r, .start = &start, .id = i + 1};
        cr_assert(eq(int, pthread_create(&th[i], NULL, tracer, &a[i]), 0));
    }
    for (int i = 0; i < TRACE_THREADS; i++) {
        pthread_join(th[i], NULL);
        created += a[i].created;
        dups += a[i].dups;
    }
    pthread_barrier_destroy(&start);
    cr_assert(eq(int, created, TRACE_KEYS));
    cr_assert(eq(int, dups, TRACE_KEYS *(TRACE_THREADS - 1)));
    gw_registry_free(r);
    cr_assert(eq(u64, gw_trace_count(t), TRACE_KEYS * TRACE_THREADS));
    gw_trace_close(t);

    fp = fopen(path, "r");
    cr_assert(not(zero(ptr, fp)));
    while ((n = getline(&line, &cap, fp)) > 0) {
        json_error_t je;
        json_t *o;
        json_int_t seq;
        const char *ev, *res;
        int k;

        /* One object per line: the whole line, newline-terminated. */
        cr_assert(eq(chr, line[n - 1], '\n'));
        o = json_loads(line, 0, &je);
        cr_assert(not(zero(ptr, o)), "line %d: %s (%s)", lines + 1, line,
                  je.text);
        cr_assert(is_object(o));
        seq = json_integer_value(json_object_get(o, "seq"));
        cr_assert(lt(i64, last, seq), "seq %lld after %lld", (long long)seq,
                  (long long)last);
        last = seq;
        ev = json_string_value(json_object_get(o, "event"));
        cr_assert(eq(str, (char *)ev, "registry.register"));
        cr_assert(is_string(json_object_get(o, "key")));
        cr_assert(is_integer(json_object_get(o, "ns")));
        res = json_string_value(json_object_get(o, "result"));
        cr_assert(not(zero(ptr, (void *)res)));
        ev_created += strcmp(res, "created") == 0;
        ev_dup += strcmp(res, "duplicate") == 0;
        /* Trace order is registry order: a key's first event creates it. */
        k = atoi(json_string_value(json_object_get(o, "key")) + 2);
        cr_assert(ge(int, k, 0));
        cr_assert(lt(int, k, TRACE_KEYS));
        if (!key_seen[k])
            cr_assert(eq(str, (char *)res, "created"), "line %d", lines + 1);
        else
            cr_assert(eq(str, (char *)res, "duplicate"), "line %d", lines + 1);
        key_seen[k] = true;
        json_decref(o);
        lines++;
    }
    free(line);
    fclose(fp);
    unlink(path);
    cr_assert(eq(int, lines, TRACE_KEYS *TRACE_THREADS));
    cr_assert(eq(int, ev_created, created));
    cr_assert(eq(int, ev_dup, dups));
}

/* The readings that the harness judges against its model are traced in
 * the same critical section as the reading, with the state they read:
 * the /debug/ready answer and the message gate. */
Test(registry, readiness_answer_and_gate_trace_the_state_they_read,
     .timeout = 10)
{
    char path[] = "/tmp/wsrace-test-registry-XXXXXX";
    int fd = mkstemp(path);
    gw_trace_t *t;
    gw_registry_t *r;
    gw_coord_t *co = coord_connected();
    bool registered = true, ready;
    json_error_t je;
    json_t *o;
    FILE *fp;
    char *line = NULL;
    size_t cap = 0;
    int answers = 0, gates = 0;

    cr_assert(ge(int, fd, 0));
    close(fd);
    t = gw_trace_open(path);
    cr_assert(not(zero(ptr, t)));
    r = gw_registry_new(NULL, NULL, t);
    ready = gw_registry_answer_ready(r, "k", &registered);
    cr_assert(not(ready));
    cr_assert(not(registered));
    register_at(r, "k", co, WSR_ST_SERVICES_READY, 1);
    cr_assert(not(gw_registry_ready_for_messages(r, "k", co, 1, "c-1")));
    cr_assert(eq(int, gw_registry_mark_ready(r, "k", co, 1), 0));
    cr_assert(gw_registry_ready_for_messages(r, "k", co, 1, "c-2"));
    ready = gw_registry_answer_ready(r, "k", &registered);
    cr_assert(ready);
    cr_assert(registered);
    gw_registry_free(r);
    gw_trace_close(t);
    gw_coord_unref(co);

    fp = fopen(path, "r");
    cr_assert(not(zero(ptr, fp)));
    while (getline(&line, &cap, fp) > 0) {
        const char *ev, *machine;

        o = json_loads(line, 0, &je);
        cr_assert(not(zero(ptr, o)), "%s", je.text);
        ev = json_string_value(json_object_get(o, "event"));
        machine = json_string_value(json_object_get(o, "machine"));
        if (strcmp(ev, "debug.ready") == 0) {
            bool yes = json_is_true(json_object_get(o, "ready"));

            cr_assert(eq(str, (char *)machine,
                         answers == 0 ? "absent" : "PROCESSING_READY"));
            cr_assert(eq(int, yes ? 1 : 0, answers == 0 ? 0 : 1));
            answers++;
        } else if (strcmp(ev, "message.gate") == 0) {
            const char *d =
                json_string_value(json_object_get(o, "decision"));

            cr_assert(eq(str, (char *)machine,
                         gates == 0 ? "SERVICES_READY" : "PROCESSING_READY"));
            cr_assert(eq(str, (char *)d, gates == 0 ? "wait" : "process"));
            cr_assert(eq(str,
                         (char *)json_string_value(
                             json_object_get(o, "correlation_id")),
                         gates == 0 ? "c-1" : "c-2"));
            gates++;
        }
        json_decref(o);
    }
    free(line);
    fclose(fp);
    unlink(path);
    cr_assert(eq(int, answers, 2));
    cr_assert(eq(int, gates, 2));
}
