/* test-e2e.c - End-to-end tests: the real wsrace-gateway binary on a free
 * loopback port, driven by lws clients and loopback HTTP.
 *
 * Each fault is proven twice: its symptom appears when it is injected and
 * is absent, under the same sync actions, when it is not. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "e2e_support.h"
#include "wire_expect.h"

/* Criterion's new cr_assert wants a criterion or a plain value. */
#define CHECK(cond, ...) cr_assert(eq(int, (cond) ? 1 : 0, 1), __VA_ARGS__)
#define CHECK1(cond)     cr_assert(eq(int, (cond) ? 1 : 0, 1), "%s", #cond)
#define ARGS(...)        ((const char *const[]){__VA_ARGS__, NULL})

static e2e_gateway_t gw;
static int dup_pair(int *welcomes, int *closes_4409);

/* Every test stops what it started; this is the safety net for a test that
 * failed half-way: no gateway outlives its test, no file is left. */
static void teardown(void)
{
    if (gw.pid > 0)
        e2e_gateway_stop(&gw);
    e2e_cleanup();
}

TestSuite(e2e, .fini = teardown);

static void start(const char *const *args)
{
    cr_assert(eq(int, e2e_gateway_start(&gw, args), 0),
              "gateway did not start (log: %s)", gw.log);
}

static void stop_clean(void)
{
    int st = e2e_gateway_stop(&gw);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0,
          "gateway did not exit 0 on SIGTERM (status %d, log %s)", st, gw.log);
}

/* Connects user with a valid token and an optional session id. */
static e2e_client_t *connect_user(const char *user, const char *session)
{
    char *tok = e2e_token(user, 600);
    e2e_client_t *c = e2e_connect(gw.port, NULL, tok, session, NULL);

    free(tok);
    cr_assert(not(eq(ptr, c, NULL)), "upgrade failed");
    return c;
}

/* connect_user, then asserts that the first message is the welcome for
 * session (any session when NULL). */
static e2e_client_t *connect_welcomed(const char *user, const char *session)
{
    e2e_client_t *c = connect_user(user, session);
    json_t *w = e2e_recv_json(c, 3000);

    CHECK1(wire_is_welcome(w, session));
    json_decref(w);
    return c;
}

/* Receives until a message of `type` (others are skipped); NULL if none
 * arrives in timeout_ms. */
static json_t *recv_type(e2e_client_t *c, const char *type, int timeout_ms)
{
    for (;;) {
        json_t *m = e2e_recv_json(c, timeout_ms);
        if (!m || strcmp(wire_type(m), type) == 0)
            return m;
        json_decref(m);
    }
}

static void expect_error(e2e_client_t *c, const char *code)
{
    json_t *m = recv_type(c, "error_message", 3000);
    cr_assert(not(eq(ptr, m, NULL)), "no error_message %s", code);
    cr_assert(eq(str, (char *)wire_error_code(m), (char *)code));
    json_decref(m);
}

static void send_user_message(e2e_client_t *c, const char *cid)
{
    char buf[160];
    snprintf(buf, sizeof(buf),
             "{\"type\":\"user_message\",\"data\":{\"content\":\"hi %s\"},"
             "\"correlation_id\":\"%s\"}",
             cid, cid);
    e2e_send(c, buf);
}

static json_t *next_e2e(void *c, int timeout_ms)
{
    return e2e_recv_json(c, timeout_ms);
}

/* The five agent events for cid, in order. */
static void expect_agent_events(e2e_client_t *c, const char *cid)
{
    wire_expect_agent_events(next_e2e, c, cid, 3000);
}

static json_t *ready_probe(const char *key)
{
    char path[256];
    snprintf(path, sizeof(path), "/debug/ready?id=%s", key);
    return e2e_http_get(gw.port, path);
}

static int registry_entries(const char *key, const char **state)
{
    json_t *r = e2e_http_get(gw.port, "/debug/registry"), *row;
    size_t i;
    int n = 0;
    static char st[32];

    cr_assert(not(eq(ptr, r, NULL)));
    json_array_foreach(json_object_get(r, "connections"), i, row)
    {
        if (strcmp(json_string_value(json_object_get(row, "key")), key))
            continue;
        n++;
        if (state)
            snprintf(st, sizeof(st), "%s",
                     json_string_value(json_object_get(row, "state")));
    }
    if (state)
        *state = st;
    json_decref(r);
    return n;
}

/* ------------------------------------------------------------------ */
/* Golden path                                                          */
/* ------------------------------------------------------------------ */

Test(e2e, full_handshake_and_one_message, .timeout = 30)
{
    start(NULL);
    e2e_client_t *c = connect_user("alice", "chat-a");
    json_t *w = e2e_recv_json(c, 3000);
    CHECK(wire_is_welcome(w, "chat-a"), "bad welcome");
    cr_assert(eq(str,
                 (char *)json_string_value(
                     json_object_get(json_object_get(w, "data"), "user_id")),
                 "alice"));
    json_decref(w);
    send_user_message(c, "c1");
    expect_agent_events(c, "c1");
    e2e_send(c, "{\"type\":\"ping\",\"correlation_id\":\"p1\"}");
    json_t *pong = e2e_recv_json(c, 3000);
    cr_assert(eq(str, (char *)wire_type(pong), "pong"));
    json_decref(pong);
    json_t *h = e2e_http_get(gw.port, "/healthz");
    cr_assert(
        eq(str, (char *)json_string_value(json_object_get(h, "status")), "ok"));
    cr_assert(eq(sz, json_array_size(json_object_get(h, "faults")), 0));
    json_decref(h);
    e2e_free(c);
    usleep(200000);
    cr_assert(eq(int, registry_entries("chat-a", NULL), 0),
              "machine left registered after close");
    stop_clean();
    json_t *tr = e2e_trace(&gw);
    cr_assert(eq(int, e2e_trace_count(tr, "welcome.sent", "chat-a"), 1));
    cr_assert(eq(int, e2e_trace_count(tr, "gateway.stop", NULL), 1));
    json_decref(tr);
}

Test(e2e, subprotocol_token_route, .timeout = 30)
{
    start(NULL);
    char *tok = e2e_token("al", 600), proto[256];
    snprintf(proto, sizeof(proto), "wsrace.v1, jwt.%s", tok);
    e2e_client_t *c = e2e_connect(gw.port, "session=sp", NULL, NULL, proto);
    free(tok);
    cr_assert(not(eq(ptr, c, NULL)));
    json_t *w = e2e_recv_json(c, 3000);
    CHECK(wire_is_welcome(w, "sp"), "query session + subprotocol token");
    json_decref(w);
    e2e_free(c);
    stop_clean();
}

/* ------------------------------------------------------------------ */
/* Bad input                                                            */
/* ------------------------------------------------------------------ */

Test(e2e, bad_messages_are_answered, .timeout = 30)
{
    start(NULL);
    e2e_client_t *c = connect_welcomed("bob", NULL);
    e2e_send(c, "{not json");
    expect_error(c, "FORMAT_ERROR");
    e2e_send(c, "[1,2]");
    expect_error(c, "FORMAT_ERROR");
    e2e_send(c, "{\"type\":\"user_message\",\"data\":{}}");
    expect_error(c, "FORMAT_ERROR");
    e2e_send(c, "{\"type\":\"teleport\"}");
    expect_error(c, "UNKNOWN_TYPE");
    /* Still serving after all that. */
    send_user_message(c, "after");
    expect_agent_events(c, "after");
    e2e_free(c);
    stop_clean();
}

Test(e2e, oversize_message_closes_1009, .timeout = 30)
{
    start(ARGS("--max-message", "1024"));
    e2e_client_t *c = connect_user("carol", NULL);
    json_decref(e2e_recv_json(c, 3000));
    char big[4096];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    e2e_send(c, big);
    cr_assert(eq(int, e2e_wait_close(c, 3000), 1009));
    e2e_free(c);
    stop_clean();
}

static void expect_auth_failure(const char *token)
{
    e2e_client_t *c = e2e_connect(gw.port, NULL, token, NULL, NULL);
    cr_assert(not(eq(ptr, c, NULL)));
    expect_error(c, "AUTH_FAILED");
    cr_assert(eq(int, e2e_wait_close(c, 3000), 1008));
    e2e_free(c);
}

Test(e2e, bad_tokens_fail_auth_1008, .timeout = 30)
{
    start(NULL);
    char *expired = e2e_token("dave", -10);
    char *valid = e2e_token("dave", 600);
    char forged[2048];
    snprintf(forged, sizeof(forged), "%.*sAAAA", (int)strlen(valid) - 4, valid);
    expect_auth_failure(NULL);
    expect_auth_failure("not-a-token");
    expect_auth_failure(expired);
    expect_auth_failure(forged);
    free(expired);
    free(valid);
    usleep(100000);
    json_t *r = e2e_http_get(gw.port, "/debug/registry");
    cr_assert(eq(sz, json_array_size(json_object_get(r, "connections")), 0),
              "failed connections left machines behind");
    json_decref(r);
    stop_clean();
}

Test(e2e, second_live_session_closes_4409, .timeout = 30)
{
    start(NULL);
    e2e_client_t *a = connect_welcomed("erin", "same");
    e2e_client_t *b = connect_user("erin", "same");
    expect_error(b, "DUPLICATE_SESSION");
    cr_assert(eq(int, e2e_wait_close(b, 3000), 4409));
    e2e_free(b);
    /* The first connection is untouched. */
    send_user_message(a, "a1");
    expect_agent_events(a, "a1");
    e2e_free(a);
    stop_clean();
}

Test(e2e, early_messages_queue_in_order_and_overflow_not_ready, .timeout = 30)
{
    start(ARGS("--max-queue", "2", "--sync", "machine.ready:delay=600"));
    e2e_client_t *c = connect_user("frank", NULL);
    send_user_message(c, "q1");
    send_user_message(c, "q2");
    send_user_message(c, "q3");
    expect_error(c, "NOT_READY"); /* q3: the queue holds two */
    json_t *w = e2e_recv_json(c, 3000);
    CHECK(wire_is_welcome(w, NULL), "welcome before queued events");
    json_decref(w);
    expect_agent_events(c, "q1");
    expect_agent_events(c, "q2");
    e2e_free(c);
    stop_clean();
}

Test(e2e, sync_file_sets_race_windows, .timeout = 30)
{
    char path[] = "/tmp/wsrace-sync-XXXXXX";
    int fd = mkstemp(path);
    const char text[] = "# both twins through the check before either "
                        "inserts\n\nregistry.check:rendezvous=2,timeout=3000"
                        "  # pair\n";
    int welcomes, dups;

    cr_assert(eq(long, (long)write(fd, text, sizeof(text) - 1),
                 (long)sizeof(text) - 1));
    close(fd);
    start(ARGS("--inject", "duplicate-registration", "--sync-file", path));
    cr_assert(eq(int, dup_pair(&welcomes, &dups), 2));
    cr_assert(eq(int, welcomes, 2));
    stop_clean();
    unlink(path);
}

Test(e2e, bad_command_line_exits_2, .timeout = 30)
{
    cr_assert(eq(int, e2e_gateway_start(&gw, ARGS("--workers", "0")), -1));
    cr_assert(eq(int, e2e_gateway_start(&gw, ARGS("--inject", "nope")), -1));
    cr_assert(eq(
        int, e2e_gateway_start(&gw, ARGS("--sync", "registry.check:x")), -1));
}

/* ------------------------------------------------------------------ */
/* Faults: each detected when injected, absent when not                 */
/* ------------------------------------------------------------------ */

Test(e2e, scope_loss_crash_kills_gateway_at_swap, .timeout = 30)
{
    start(ARGS("--inject", "scope-loss"));
    char *tok = e2e_token("gina", 600);
    e2e_client_t *c = e2e_connect(gw.port, NULL, tok, NULL, NULL);
    free(tok);
    if (c)
        e2e_wait_close(c, 3000);
    e2e_free(c);
    int st = e2e_gateway_wait(&gw, 5000);
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    /* A sanitizer build's gateway reports the SIGSEGV and exits non-zero
     * (ASan 1, TSan 66). */
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) != 0,
          "expected the sanitizer's exit, status %d", st);
#else
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV,
          "expected SIGSEGV, status %d", st);
#endif
    json_t *tr = e2e_trace(&gw);
    size_t n = json_array_size(tr);
    cr_assert(gt(sz, n, 0));
    json_t *last = json_array_get(tr, n - 1);
    cr_assert(eq(str, (char *)json_string_value(json_object_get(last, "event")),
                 "swap.begin"),
              "the trace ends at the swap that crashed");
    cr_assert(eq(str,
                 (char *)json_string_value(json_object_get(last, "handle")),
                 "out-of-scope"));
    json_decref(tr);
}

Test(e2e, scope_loss_error_closes_1011_and_lives, .timeout = 30)
{
    start(ARGS("--inject", "scope-loss=error"));
    e2e_client_t *c = connect_user("hal", "k1");
    expect_error(c, "INTERNAL_ERROR");
    cr_assert(eq(int, e2e_wait_close(c, 3000), 1011));
    e2e_free(c);
    json_t *h = e2e_http_get(gw.port, "/healthz");
    cr_assert(not(eq(ptr, h, NULL)), "gateway died");
    json_decref(h);
    stop_clean();
}

Test(e2e, scope_loss_swallow_leaves_no_machine_under_key, .timeout = 30)
{
    start(ARGS("--inject", "scope-loss=swallow"));
    e2e_client_t *c = connect_user("ivy", "k2");
    json_t *m = e2e_recv_json(c, 800);
    cr_assert(eq(ptr, m, NULL), "no welcome without a machine");
    json_t *p = ready_probe("k2");
    CHECK1(json_is_false(json_object_get(p, "registered")));
    json_decref(p);
    e2e_free(c);
    stop_clean();
    json_t *tr = e2e_trace(&gw);
    cr_assert(eq(int, e2e_trace_count(tr, "swap.swallowed", "k2"), 1));
    json_decref(tr);
}

Test(e2e, scope_loss_off_swaps_cleanly, .timeout = 30)
{
    start(NULL);
    e2e_client_t *c = connect_welcomed("ivy", "k2");
    json_t *p = ready_probe("k2");
    CHECK1(json_is_true(json_object_get(p, "registered")));
    CHECK1(json_is_true(json_object_get(p, "ready")));
    json_decref(p);
    e2e_free(c);
    stop_clean();
}

Test(e2e, fallback_ready_reports_absent_key_ready, .timeout = 30)
{
    start(ARGS("--inject", "fallback-ready"));
    json_t *p = ready_probe("does-not-exist");
    CHECK1(json_is_false(json_object_get(p, "registered")));
    CHECK1(json_is_true(json_object_get(p, "ready")));
    json_decref(p);
    stop_clean();
    start(NULL);
    p = ready_probe("does-not-exist");
    CHECK1(json_is_false(json_object_get(p, "ready")));
    json_decref(p);
    stop_clean();
}

/* Two connections with one session id, lined up at registry.check. */
static int dup_pair(int *welcomes, int *closes_4409)
{
    e2e_client_t *a = connect_user("jo", "twin");
    e2e_client_t *b = connect_user("jo", "twin");
    e2e_client_t *cs[2] = {a, b};
    *welcomes = *closes_4409 = 0;
    for (int i = 0; i < 2; i++) {
        json_t *m = e2e_recv_json(cs[i], 4000);
        if (wire_is_welcome(m, "twin"))
            (*welcomes)++;
        json_decref(m);
    }
    for (int i = 0; i < 2; i++)
        if (e2e_wait_close(cs[i], 300) == 4409)
            (*closes_4409)++;
    int entries = registry_entries("twin", NULL);
    e2e_free(a);
    e2e_free(b);
    return entries;
}

Test(e2e, duplicate_registration_both_register_with_rendezvous, .timeout = 60)
{
    int welcomes, dups;

    start(ARGS("--inject", "duplicate-registration", "--sync",
               "registry.check:rendezvous=2,timeout=3000"));
    for (int run = 0; run < 5; run++) {
        cr_assert(eq(int, dup_pair(&welcomes, &dups), 2),
                  "run %d: two machines under one key", run);
        cr_assert(eq(int, welcomes, 2));
        cr_assert(eq(int, dups, 0));
        usleep(200000);
    }
    stop_clean();
}

Test(e2e, duplicate_registration_off_refuses_second_with_rendezvous,
     .timeout = 60)
{
    int welcomes, dups;

    start(ARGS("--sync", "registry.check:rendezvous=2,timeout=3000"));
    for (int run = 0; run < 5; run++) {
        cr_assert(eq(int, dup_pair(&welcomes, &dups), 1), "run %d", run);
        cr_assert(eq(int, welcomes, 1));
        cr_assert(eq(int, dups, 1));
        usleep(200000);
    }
    stop_clean();
}

/* A message sent at once, while machine.ready is held back. Returns the
 * type of the first message received. */
static char *first_after_early_message(void)
{
    e2e_client_t *c = connect_user("kim", "gap");
    send_user_message(c, "early");
    json_t *m = e2e_recv_json(c, 3000);
    char *t = strdup(wire_type(m));
    json_decref(m);
    e2e_free(c);
    return t;
}

Test(e2e, coordinator_gap_processes_before_machine_ready, .timeout = 30)
{
    start(ARGS("--inject", "coordinator-gap", "--sync",
               "machine.ready:delay=500"));
    char *t = first_after_early_message();
    cr_assert(eq(str, t, "agent_started"),
              "the message ran before the welcome");
    free(t);
    stop_clean();
    /* The message ran while its key had no machine in the ready set: still
     * SERVICES_READY, or "absent" when the gate passed under the pre-key
     * and the swap moved the machine before the processing was traced. */
    json_t *tr = e2e_trace(&gw), *o;
    size_t i;
    int processed = 0, unready = 0;
    json_array_foreach(tr, i, o)
    {
        const char *ev = json_string_value(json_object_get(o, "event"));
        const char *ms = json_string_value(json_object_get(o, "machine"));
        if (strcmp(ev, "message.process") != 0)
            continue;
        processed++;
        if (strcmp(ms, "SERVICES_READY") == 0 || strcmp(ms, "absent") == 0)
            unready++;
    }
    cr_assert(eq(int, processed, 1));
    cr_assert(eq(int, unready, 1), "message.process with no ready machine");
    json_decref(tr);
}

Test(e2e, coordinator_gap_off_waits_for_machine, .timeout = 30)
{
    start(ARGS("--sync", "machine.ready:delay=500"));
    char *t = first_after_early_message();
    cr_assert(eq(str, t, "connection_established"));
    free(t);
    stop_clean();
}

/* Welcome, then a readiness probe for the key at once. */
static bool ready_right_after_welcome(void)
{
    e2e_client_t *c = connect_welcomed("lee", "ew");
    json_t *p = ready_probe("ew");
    bool ready = json_is_true(json_object_get(p, "ready"));
    json_decref(p);
    e2e_free(c);
    return ready;
}

Test(e2e, early_welcome_claims_ready_before_machine, .timeout = 30)
{
    start(
        ARGS("--inject", "early-welcome", "--sync", "machine.ready:delay=500"));
    CHECK1(!ready_right_after_welcome());
    stop_clean();
    start(ARGS("--sync", "machine.ready:delay=500"));
    CHECK1(ready_right_after_welcome());
    stop_clean();
}

Test(e2e, stuck_swap_never_becomes_ready, .timeout = 30)
{
    const char *state;

    start(ARGS("--inject", "stuck-swap"));
    e2e_client_t *c = connect_user("max", "stuck");
    json_t *m = e2e_recv_json(c, 800);
    cr_assert(eq(ptr, m, NULL), "no welcome from a stuck machine");
    cr_assert(eq(int, registry_entries("stuck", &state), 1));
    cr_assert(eq(str, (char *)state, "CONNECTING"));
    e2e_free(c);
    stop_clean();
    start(NULL);
    c = connect_welcomed("max", "stuck");
    e2e_free(c);
    stop_clean();
}

static int entries_after_close(void)
{
    e2e_client_t *c = connect_user("ned", "leak");
    json_decref(e2e_recv_json(c, 3000));
    e2e_free(c);
    usleep(300000);
    return registry_entries("leak", NULL);
}

Test(e2e, registry_leak_keeps_machine_after_close, .timeout = 30)
{
    start(ARGS("--inject", "registry-leak"));
    cr_assert(eq(int, entries_after_close(), 1));
    stop_clean();
    start(NULL);
    cr_assert(eq(int, entries_after_close(), 0));
    stop_clean();
}
