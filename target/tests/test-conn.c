/* test-conn.c - The endpoint flow (gw_conn.c) without a network: the
 * connection lifecycle on the real worker pool and registry, with a sink
 * that stands in for the transport.
 *
 * The faults that live in the flow rather than the registry (scope-loss in
 * its three modes, coordinator-gap, early-welcome, registry-leak) are each
 * shown here when injected and shown absent when not; the flow's answers to
 * bad input and to duplicate sessions too. Every wait has a deadline. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gw_gateway.h"
#include "wsr_token.h"
#include "wire_expect.h"

#define SECRET      "unit-secret"
#define CHECK(cond) cr_assert(eq(int, (cond) ? 1 : 0, 1), "%s", #cond)

static gw_gateway_t gw;
static gw_sync_t *sync_table;
static size_t send_queue_bound; /* max_send_queue of the next up() */

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void fake_wake(void *ctx, gw_conn_t *c)
{
    (void)ctx;
    (void)c; /* the tests poll the outbox */
}

/* A gateway with the given faults ("" for none) and sync specs. */
static void up(const char *faults, const char *const *syncs)
{
    gw_params_t p = {0};
    char err[256];

    cr_assert(eq(int, wsr_faults_parse(&p.faults, faults, err, sizeof(err)), 0));
    snprintf(p.secret, sizeof(p.secret), "%s", SECRET);
    p.max_queue = 2;
    p.seed = 7;
    p.max_send_queue = send_queue_bound;
    p.session_hold_s = 60;
    sync_table = gw_sync_new(7, NULL);
    for (; syncs && *syncs; syncs++)
        cr_assert(
            eq(int, gw_sync_set(sync_table, *syncs, err, sizeof(err)), 0));
    cr_assert(eq(int, gw_gateway_init(&gw, &p, NULL, sync_table, 4), 0));
    gw.sink.wake = fake_wake;
}

static void down(void)
{
    gw_gateway_shutdown(&gw);
    gw_sync_free(sync_table);
}

static gw_conn_t *open_conn(const char *user, const char *session)
{
    char tok[WSR_TOKEN_MAX];
    gw_conn_t *c;

    /* lt(0, n), not gt(n, 0): Criterion 2.4.1's gt() tests >=. */
    cr_assert(
        lt(int, 0,
           wsr_token_sign(SECRET, user, time(NULL) + 60, tok, sizeof(tok))));
    c = gw_conn_new(&gw, tok, session);
    cr_assert(not(eq(ptr, c, NULL)));
    gw_conn_start(c);
    return c;
}

static void close_conn(gw_conn_t *c)
{
    gw_conn_on_closed(c);
    gw_conn_unref(c);
}

/* The next output message, or NULL after timeout_ms. */
static json_t *next_msg(gw_conn_t *c, int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;

    do {
        gw_frame_t *f = gw_conn_pop_frame(c);
        if (f) {
            json_t *m =
                json_loadb(f->data + gw.params.frame_headroom, f->len, 0, NULL);
            free(f);
            return m;
        }
        usleep(1000);
    } while (now_ms() < deadline);
    return NULL;
}

/* The close the flow requested, once its output is drained; -1 after
 * timeout_ms. */
static int close_code(gw_conn_t *c, int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    char reason[96];

    do {
        int code = gw_conn_close_code(c, reason, sizeof(reason));
        if (code)
            return code;
        usleep(1000);
    } while (now_ms() < deadline);
    return -1;
}

/* Waits until the registry holds n entries; returns the count seen. */
static size_t registry_settles(size_t n, int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    size_t got;

    while ((got = gw_registry_count(gw.registry)) != n && now_ms() < deadline)
        usleep(1000);
    return got;
}

static void send_message(gw_conn_t *c, const char *cid)
{
    char buf[128];

    snprintf(buf, sizeof(buf),
             "{\"type\":\"user_message\",\"data\":{\"content\":\"x\"},"
             "\"correlation_id\":\"%s\"}",
             cid);
    gw_conn_on_message(c, buf, strlen(buf));
}

static json_t *next_conn(void *c, int timeout_ms)
{
    return next_msg(c, timeout_ms);
}

static void expect_events(gw_conn_t *c, const char *cid)
{
    wire_expect_agent_events(next_conn, c, cid, 2000);
}

/* ------------------------------------------------------------------ */

Test(conn, full_lifecycle_without_faults, .timeout = 10)
{
    wsr_state_t st;

    up("", NULL);
    gw_conn_t *c = open_conn("alice", "s1");
    json_t *w = next_msg(c, 2000);
    CHECK(wire_is_welcome(w, NULL));
    cr_assert(eq(str,
                 (char *)json_string_value(json_object_get(
                     json_object_get(w, "data"), "connection_id")),
                 "s1"));
    json_decref(w);
    cr_assert(eq(int, gw_registry_state(gw.registry, "s1", 0, &st), 0));
    cr_assert(eq(int, st, WSR_ST_PROCESSING_READY));
    send_message(c, "m1");
    expect_events(c, "m1");
    cr_assert(eq(int, gw_registry_state(gw.registry, "s1", 0, &st), 0));
    cr_assert(eq(int, st, WSR_ST_IDLE));
    close_conn(c);
    cr_assert(eq(sz, registry_settles(0, 2000), 0));
    down();
}

/* AddressSanitizer catches the SIGSEGV, reports it and exits 1. */
#if defined(__SANITIZE_ADDRESS__)
#define DIES_OF_SIGSEGV .exit_code = 1
#else
#define DIES_OF_SIGSEGV .signal = SIGSEGV
#endif

Test(conn, scope_loss_crash_segfaults_at_swap, .timeout = 10, DIES_OF_SIGSEGV)
{
    up("scope-loss", NULL);
    gw_conn_t *c = open_conn("bob", "s2");
    json_decref(next_msg(c, 3000)); /* the process dies before this */
    cr_fatal("scope-loss=crash did not crash");
}

Test(conn, scope_loss_error_fails_with_1011, .timeout = 10)
{
    up("scope-loss=error", NULL);
    gw_conn_t *c = open_conn("bob", "s2");
    json_t *m = next_msg(c, 2000);
    cr_assert(eq(str, (char *)wire_error_code(m), "INTERNAL_ERROR"));
    json_decref(m);
    cr_assert(eq(int, close_code(c, 2000), 1011));
    cr_assert(eq(sz, registry_settles(0, 2000), 0), "machine not cleaned");
    close_conn(c);
    down();
}

Test(conn, scope_loss_swallow_lives_on_without_machine, .timeout = 10)
{
    wsr_state_t st;

    up("scope-loss=swallow", NULL);
    gw_conn_t *c = open_conn("bob", "s2");
    json_t *m = next_msg(c, 300);
    cr_assert(eq(ptr, m, NULL), "no answer: neither welcome nor close");
    cr_assert(eq(int, close_code(c, 10), -1));
    cr_assert(eq(int, gw_registry_state(gw.registry, "s2", 0, &st), -ENOENT));
    cr_assert(eq(sz, gw_registry_count(gw.registry), 1),
              "the machine is stranded under the preliminary key");
    close_conn(c);
    down();
}

/* First message out after a user_message sent at once, while the machine's
 * ready step is held back. */
static char *first_out_after_early_message(const char *faults)
{
    static const char *const syncs[] = {"machine.ready:delay=300", NULL};

    up(faults, syncs);
    gw_conn_t *c = open_conn("cy", "s3");
    send_message(c, "early");
    json_t *m = next_msg(c, 2000);
    char *t = strdup(wire_type(m));
    json_decref(m);
    close_conn(c);
    down();
    return t;
}

Test(conn, coordinator_gap_lets_a_message_through_before_ready, .timeout = 10)
{
    char *t = first_out_after_early_message("coordinator-gap");
    cr_assert(eq(str, t, "agent_started"));
    free(t);
}

Test(conn, coordinator_linked_holds_the_message_until_ready, .timeout = 10)
{
    char *t = first_out_after_early_message("");
    cr_assert(eq(str, t, "connection_established"));
    free(t);
}

/* Whether the machine was ready when the welcome was taken. */
static bool ready_at_welcome(const char *faults)
{
    static const char *const syncs[] = {"machine.ready:delay=300", NULL};
    bool ready;

    up(faults, syncs);
    gw_conn_t *c = open_conn("di", "s4");
    json_t *w = next_msg(c, 2000);
    CHECK(wire_is_welcome(w, NULL));
    json_decref(w);
    ready = gw_registry_is_ready(gw.registry, "s4", 0);
    close_conn(c);
    down();
    return ready;
}

Test(conn, early_welcome_claims_ready_too_soon, .timeout = 10)
{
    CHECK(!ready_at_welcome("early-welcome"));
}

Test(conn, welcome_waits_for_ready, .timeout = 10)
{
    CHECK(ready_at_welcome(""));
}

static size_t entries_after_close(const char *faults)
{
    size_t n;

    up(faults, NULL);
    gw_conn_t *c = open_conn("ed", "s5");
    json_t *w = next_msg(c, 2000);
    CHECK(wire_is_welcome(w, NULL));
    json_decref(w);
    close_conn(c);
    n = registry_settles(0, 300);
    down();
    return n;
}

Test(conn, registry_leak_keeps_the_entry, .timeout = 10)
{
    cr_assert(eq(sz, entries_after_close("registry-leak"), 1));
}

Test(conn, close_unregisters, .timeout = 10)
{
    cr_assert(eq(sz, entries_after_close(""), 0));
}

Test(conn, stuck_swap_never_welcomes, .timeout = 10)
{
    wsr_state_t st;

    up("stuck-swap", NULL);
    gw_conn_t *c = open_conn("fi", "s6");
    cr_assert(eq(ptr, next_msg(c, 300), NULL));
    cr_assert(eq(int, gw_registry_state(gw.registry, "s6", 0, &st), 0));
    cr_assert(eq(int, st, WSR_ST_CONNECTING));
    close_conn(c);
    down();
}

/* Two connections with one session id lined up at registry.check. */
static void twin_sessions(const char *faults, int *welcomes, int *dups)
{
    static const char *const syncs[] = {
        "registry.check:rendezvous=2,timeout=2000", NULL};
    gw_conn_t *cs[2];

    up(faults, syncs);
    cs[0] = open_conn("gus", "twin");
    cs[1] = open_conn("gus", "twin");
    *welcomes = *dups = 0;
    for (int i = 0; i < 2; i++) {
        json_t *m = next_msg(cs[i], 3000);
        if (wire_is_welcome(m, NULL))
            (*welcomes)++;
        else if (m && strcmp(wire_error_code(m), "DUPLICATE_SESSION") == 0 &&
                 close_code(cs[i], 1000) == 4409)
            (*dups)++;
        json_decref(m);
    }
    cr_assert(eq(uint, gw_registry_count_key(gw.registry, "twin"),
                 (unsigned)*welcomes));
    close_conn(cs[0]);
    close_conn(cs[1]);
    down();
}

Test(conn, duplicate_session_refused_with_4409, .timeout = 20)
{
    int welcomes, dups;

    for (int run = 0; run < 5; run++) {
        twin_sessions("", &welcomes, &dups);
        cr_assert(eq(int, welcomes, 1));
        cr_assert(eq(int, dups, 1));
    }
}

Test(conn, duplicate_registration_welcomes_both, .timeout = 20)
{
    int welcomes, dups;

    for (int run = 0; run < 5; run++) {
        twin_sessions("duplicate-registration", &welcomes, &dups);
        cr_assert(eq(int, welcomes, 2));
        cr_assert(eq(int, dups, 0));
    }
}

Test(conn, early_messages_queue_in_order_overflow_not_ready, .timeout = 10)
{
    static const char *const syncs[] = {"machine.ready:delay=300", NULL};

    up("", syncs);
    gw_conn_t *c = open_conn("hu", NULL);
    send_message(c, "q1");
    send_message(c, "q2");
    send_message(c, "q3"); /* max_queue is 2 */
    json_t *m = next_msg(c, 2000);
    cr_assert(eq(str, (char *)wire_error_code(m), "NOT_READY"));
    json_decref(m);
    m = next_msg(c, 2000);
    CHECK(wire_is_welcome(m, NULL));
    json_decref(m);
    expect_events(c, "q1");
    expect_events(c, "q2");
    close_conn(c);
    down();
}

Test(conn, bad_token_fails_auth_with_1008, .timeout = 10)
{
    up("", NULL);
    gw_conn_t *c = gw_conn_new(&gw, "a.b.c", NULL);
    gw_conn_start(c);
    json_t *m = next_msg(c, 2000);
    cr_assert(eq(str, (char *)wire_error_code(m), "AUTH_FAILED"));
    json_decref(m);
    cr_assert(eq(int, close_code(c, 2000), 1008));
    cr_assert(eq(sz, registry_settles(0, 2000), 0));
    close_conn(c);
    down();
}

Test(conn, format_and_type_errors_answered_at_once, .timeout = 10)
{
    up("", NULL);
    gw_conn_t *c = open_conn("ida", NULL);
    json_decref(next_msg(c, 2000)); /* welcome */
    gw_conn_on_message(c, "{oops", 5);
    json_t *m = next_msg(c, 2000);
    cr_assert(eq(str, (char *)wire_error_code(m), "FORMAT_ERROR"));
    json_decref(m);
    gw_conn_on_message(c, "{\"type\":\"x\"}", 12);
    m = next_msg(c, 2000);
    cr_assert(eq(str, (char *)wire_error_code(m), "UNKNOWN_TYPE"));
    json_decref(m);
    gw_conn_on_message(c, "{\"type\":\"ping\"}", 15);
    m = next_msg(c, 2000);
    cr_assert(eq(str, (char *)wire_type(m), "pong"));
    json_decref(m);
    close_conn(c);
    down();
}

/* ------------------------------------------------------------------ */
/* Sessions bound to users, ids in the gateway's own namespace, limits */
/* ------------------------------------------------------------------ */

Test(conn, another_users_session_is_forbidden_4403, .timeout = 10)
{
    up("", NULL);
    gw_conn_t *a = open_conn("alice", "room");
    json_t *m = next_msg(a, 2000);
    CHECK(wire_is_welcome(m, "room"));
    json_decref(m);
    gw_conn_t *b = open_conn("bob", "room");
    m = next_msg(b, 2000);
    cr_assert(eq(str, (char *)wire_error_code(m), "SESSION_FORBIDDEN"));
    json_decref(m);
    cr_assert(eq(int, close_code(b, 2000), 4403));
    close_conn(b);
    /* alice's connection is untouched. */
    send_message(a, "a1");
    expect_events(a, "a1");
    close_conn(a);
    cr_assert(eq(sz, registry_settles(0, 2000), 0));
    /* Closed, the session stays alice's for the hold. */
    b = open_conn("bob", "room");
    m = next_msg(b, 2000);
    cr_assert(eq(str, (char *)wire_error_code(m), "SESSION_FORBIDDEN"));
    json_decref(m);
    close_conn(b);
    a = open_conn("alice", "room");
    m = next_msg(a, 2000);
    CHECK(wire_is_welcome(m, "room"));
    json_decref(m);
    close_conn(a);
    down();
}

Test(conn, gateway_key_namespace_is_refused_4400, .timeout = 10)
{
    up("", NULL);
    /* pre-2 is the preliminary key of the very next connection. */
    gw_conn_t *a = open_conn("mallory", "pre-2");
    gw_conn_t *b = open_conn("victim", NULL);
    json_t *m = next_msg(a, 2000);
    cr_assert(eq(str, (char *)wire_error_code(m), "INVALID_SESSION"));
    json_decref(m);
    cr_assert(eq(int, close_code(a, 2000), 4400));
    m = next_msg(b, 2000);
    CHECK(wire_is_welcome(m, NULL));
    json_decref(m);
    close_conn(a);
    close_conn(b);
    down();
}

Test(conn, invalid_session_bytes_are_refused_after_auth, .timeout = 10)
{
    char tok[WSR_TOKEN_MAX];
    gw_hello_t h = {tok, NULL, "a\xff" "b", 3};

    up("", NULL);
    cr_assert(lt(int, 0, wsr_token_sign(SECRET, "zed", time(NULL) + 60, tok,
                                        sizeof(tok))));
    gw_conn_t *c = gw_conn_open(&gw, &h);
    gw_conn_start(c);
    json_t *m = next_msg(c, 2000);
    cr_assert(eq(str, (char *)wire_error_code(m), "INVALID_SESSION"));
    json_decref(m);
    cr_assert(eq(int, close_code(c, 2000), 4400));
    close_conn(c);
    /* Without a valid token, the session id is never looked at. */
    h.token = "a.b.c";
    c = gw_conn_open(&gw, &h);
    gw_conn_start(c);
    m = next_msg(c, 2000);
    cr_assert(eq(str, (char *)wire_error_code(m), "AUTH_FAILED"));
    json_decref(m);
    close_conn(c);
    down();
}

Test(conn, slow_consumer_is_closed_1008_and_its_queue_dropped, .timeout = 10)
{
    char big[3000];

    send_queue_bound = 8192;
    up("", NULL);
    send_queue_bound = 0;
    gw_conn_t *c = open_conn("sloth", NULL);
    json_decref(next_msg(c, 2000)); /* welcome; nothing read after it */
    memset(big, 'x', sizeof(big));
    for (int i = 0; i < 10; i++) {
        char msg[sizeof(big) + 128];
        snprintf(msg, sizeof(msg),
                 "{\"type\":\"user_message\",\"data\":{\"content\":"
                 "\"%.*s\"},\"correlation_id\":\"c%d\"}",
                 (int)sizeof(big), big, i);
        gw_conn_on_message(c, msg, strlen(msg));
        usleep(20000);
    }
    json_t *m = NULL;
    long long deadline = now_ms() + 2000;
    while (now_ms() < deadline) {
        json_decref(m);
        if (!(m = next_msg(c, 200)) ||
            strcmp(wire_error_code(m), "SLOW_CONSUMER") == 0)
            break;
    }
    cr_assert(eq(str, (char *)wire_error_code(m), "SLOW_CONSUMER"));
    json_decref(m);
    cr_assert(eq(int, close_code(c, 2000), 1008));
    cr_assert(eq(int, (int)atomic_load(&gw.slow_consumers), 1));
    close_conn(c);
    down();
}

Test(conn, refused_connection_gets_its_close_without_a_handshake,
     .timeout = 10)
{
    up("", NULL);
    gw_conn_t *c = gw_conn_new(&gw, NULL, NULL);
    gw_conn_refuse(c, 1013, "OVERLOADED", "full");
    gw_conn_refuse(c, 1011, "X", "a second close does not count");
    json_t *m = next_msg(c, 2000);
    cr_assert(eq(str, (char *)wire_error_code(m), "OVERLOADED"));
    json_decref(m);
    cr_assert(eq(ptr, next_msg(c, 50), NULL));
    cr_assert(eq(int, close_code(c, 2000), 1013));
    gw_conn_on_message(c, "{\"type\":\"ping\"}", 15);
    cr_assert(eq(ptr, next_msg(c, 50), NULL), "closing: no answer");
    close_conn(c);
    down();
}

/* A welcomed connection whose machine leaves the registry behind its back
 * (in a cluster: its lease ran out while its instance stalled) refuses
 * its next message NOT_READY, with the message's correlation id, instead
 * of parking it for a ready step that will not come. */
Test(conn, a_message_after_the_machine_is_gone_is_refused_not_parked,
     .timeout = 10)
{
    up("", NULL);
    gw_conn_t *c = open_conn("alice", "s-gone");
    json_t *w = next_msg(c, 2000);
    CHECK(wire_is_welcome(w, NULL));
    json_decref(w);
    cr_assert(eq(int, gw_registry_unregister(gw.registry, "s-gone", 0), 0));
    send_message(c, "m-late");
    json_t *m = next_msg(c, 2000);
    cr_assert(not(eq(ptr, m, NULL)), "the message was parked: no answer");
    cr_assert(eq(str, (char *)wire_error_code(m), "NOT_READY"));
    cr_assert(eq(str,
                 (char *)json_string_value(
                     json_object_get(m, "correlation_id")),
                 "m-late"));
    json_decref(m);
    close_conn(c);
    down();
}
