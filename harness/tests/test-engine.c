/* test-engine.c - The client engine and the target process, against the
 * real gateway ($WSRACE_GATEWAY) on loopback.
 *
 * Each test starts its own gateway with wr_target_start, runs a small
 * scenario given as text through wr_engine_run, and asserts on the client
 * events of the history. Every wait is bounded by the scenario's timeouts
 * and Criterion's .timeout. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "drive/wr_engine.h"
#include "history/wr_clock.h"
#include "history/wr_history.h"
#include "plan/wr_scenario.h"
#include "drive/wr_target.h"

#define SECRET "engine-test-secret"

typedef struct {
    char dir[64];
    wr_target_t target;
    wr_scenario_t *scenario;
    wr_history_t *history;
    wr_engine_stats_t stats;
} fixture_t;

static const char *gateway_path(void)
{
    const char *p = getenv("WSRACE_GATEWAY");

    cr_assert(p != NULL, "WSRACE_GATEWAY is not set");
    return p;
}

/* Starts a gateway with extra options (NULL-terminated list). */
static void start_gateway(fixture_t *f, char *const *args)
{
    char *base[16] = {"--secret", SECRET};
    int n = 2;
    wr_target_opts_t o = {0};

    for (int i = 0; args && args[i] && n < 15; i++)
        base[n++] = args[i];
    base[n] = NULL;
    snprintf(f->dir, sizeof(f->dir), "/tmp/wr-engine-XXXXXX");
    cr_assert(mkdtemp(f->dir) != NULL);
    o.path = gateway_path();
    o.dir = f->dir;
    o.args = base;
    o.start_timeout_ms = 10000;
    cr_assert(eq(int, wr_target_start(&f->target, &o), 0), "%s",
              f->target.error);
}

static void drive(fixture_t *f, const char *yaml, unsigned long long seed,
                  int port)
{
    char err[512];
    wr_engine_opts_t eo = {0};

    f->scenario = wr_scenario_parse("engine-test.yaml", yaml, err, sizeof(err));
    cr_assert(f->scenario != NULL, "%s", err);
    f->history = wr_history_new();
    eo.scenario = f->scenario;
    eo.host = "127.0.0.1";
    eo.port = port ? port : f->target.port;
    eo.path = "/ws";
    eo.secret = SECRET;
    eo.seed = seed;
    cr_assert(eq(int, wr_engine_run(&eo, f->history, &f->stats), 0));
    wr_history_sort(f->history);
}

static void cleanup(fixture_t *f)
{
    char cmd[128];

    if (f->target.pid > 0)
        wr_target_stop(&f->target, 5000);
    wr_history_free(f->history);
    wr_scenario_free(f->scenario);
    if (f->dir[0]) {
        snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
        cr_assert(eq(int, system(cmd), 0));
    }
}

/* Client events named event (and type, when not NULL). */
static size_t count(const fixture_t *f, const char *event, const char *type,
                    const wr_event_t **out, size_t max)
{
    size_t n = 0;

    for (size_t i = 0; i < wr_history_len(f->history); i++) {
        const wr_event_t *e = wr_history_at(f->history, i);

        if (e->src != WR_SRC_CLIENT || strcmp(e->event, event) != 0)
            continue;
        if (type != NULL && (e->type == NULL || strcmp(e->type, type) != 0))
            continue;
        if (out != NULL && n < max)
            out[n] = e;
        n++;
    }
    return n;
}

/* The "thread" member of a client event's line. */
static int thread_of(const wr_event_t *e)
{
    char *line = wr_event_line(e);
    const char *p = line ? strstr(line, "\"thread\":") : NULL;
    int thread = p ? atoi(p + 9) : -1;

    free(line);
    return thread;
}

Test(engine, barrier_releases_every_client_across_threads_together,
     .timeout = 30)
{
    fixture_t f = {0};
    const wr_event_t *ok[16];
    int64_t lo = INT64_MAX, hi = 0;
    bool thread_seen[2] = {false, false};

    start_gateway(&f, NULL);
    drive(&f,
          "name: barrier\ndescription: d\nclients:\n"
          "  - name: early\n    count: 6\n    steps:\n"
          "      - connect\n      - expect: connection_established\n"
          "      - barrier: go\n      - send: {type: ping}\n"
          "      - expect: pong\n"
          "  - name: late\n    count: 2\n    steps:\n"
          "      - sleep: 300\n      - barrier: go\n",
          7, 0);
    cr_assert(eq(int, f.stats.threads, 2));
    cr_assert(eq(sz, count(&f, "client.barrier", "ok", ok, 16), 8));
    for (int i = 0; i < 8; i++) {
        lo = ok[i]->ns < lo ? ok[i]->ns : lo;
        hi = ok[i]->ns > hi ? ok[i]->ns : hi;
        if (thread_of(ok[i]) >= 0 && thread_of(ok[i]) < 2)
            thread_seen[thread_of(ok[i])] = true;
    }
    /* Nobody passes before the late clients arrive (300 ms), and once
     * they do everyone goes together: within 50 ms, times the slowdown of
     * a tool setup (WSRACE_TEST_TIME_SCALE, scripts/tool-wrap). */
    const char *scale = getenv("WSRACE_TEST_TIME_SCALE");
    long long bound = 50 * (scale && atoi(scale) > 1 ? atoi(scale) : 1);
    cr_assert(eq(int, thread_seen[0] && thread_seen[1] ? 1 : 0, 1));
    cr_assert(hi - lo < bound * 1000000LL, "released over %lld ms",
              (long long)((hi - lo) / 1000000));
    cr_assert(eq(sz, count(&f, "client.expect", "ok", NULL, 0), 12));
    cr_assert(eq(int, f.stats.steps_failed, 0));
    cleanup(&f);
}

Test(engine, barrier_that_does_not_fill_times_out, .timeout = 30)
{
    fixture_t f = {0};
    const wr_event_t *fail[4];
    const wr_event_t *inv[4];

    start_gateway(&f, NULL);
    drive(&f,
          "name: b\ndescription: d\nclients:\n"
          "  - name: waiting\n    count: 2\n    steps:\n"
          "      - barrier: {name: go, within: 300}\n"
          "  - name: absent\n    steps:\n"
          "      - sleep: 1500\n      - barrier: go\n",
          1, 0);
    cr_assert(eq(sz, count(&f, "client.barrier", "fail", fail, 4), 2));
    /* The absent client arrives last and finds the barrier complete. */
    cr_assert(eq(sz, count(&f, "client.barrier", "ok", inv, 4), 1));
    cr_assert(eq(int, f.stats.steps_failed, 2));
    cr_assert(inv[0]->ns - fail[1]->ns > 900 * 1000000LL);
    cleanup(&f);
}

Test(engine, expect_times_out_within_its_bound, .timeout = 30)
{
    fixture_t f = {0};
    const wr_event_t *ok[2], *fail[2];

    start_gateway(&f, NULL);
    drive(&f,
          "name: t\ndescription: d\nclients:\n  - steps:\n"
          "      - connect\n      - expect: connection_established\n"
          "      - expect: {type: never_sent, within: 200}\n"
          "      - send: {type: ping}\n      - expect: pong\n",
          1, 0);
    cr_assert(eq(sz, count(&f, "client.expect", "fail", fail, 2), 1));
    cr_assert(eq(sz, count(&f, "client.expect", "ok", ok, 2), 2));
    cr_assert(eq(str, (char *)fail[0]->msg_type, "never_sent"));
    /* The timeout is measured from the welcome's expect, not earlier. */
    cr_assert(fail[0]->ns - ok[0]->ns >= 195 * 1000000LL);
    cr_assert(fail[0]->ns - ok[0]->ns < 1000 * 1000000LL);
    cr_assert(eq(int, f.stats.steps_failed, 1));
    cr_assert(eq(int, f.stats.established, 1));
    cleanup(&f);
}

Test(engine, close_codes_are_seen_and_judged, .timeout = 30)
{
    fixture_t f = {0};
    const wr_event_t *ok[8], *fail[8], *closed[8];

    start_gateway(&f, NULL);
    drive(&f,
          "name: c\ndescription: d\nclients:\n"
          "  - name: expired\n    token: expired\n    steps:\n"
          "      - connect\n      - expect_close: 1008\n"
          "  - name: wrong\n    token: none\n    steps:\n"
          "      - connect\n      - expect_close: 4409\n"
          "  - name: polite\n    steps:\n"
          "      - connect\n      - expect: connection_established\n"
          "      - close\n      - expect_close: 1000\n",
          1, 0);
    cr_assert(eq(sz, count(&f, "client.expect_close", "ok", ok, 8), 2));
    cr_assert(eq(sz, count(&f, "client.expect_close", "fail", fail, 8), 1));
    cr_assert(eq(int, fail[0]->code, 1008));
    cr_assert(eq(sz, count(&f, "client.closed", NULL, closed, 8), 3));
    cr_assert(eq(sz, count(&f, "client.recv", NULL, NULL, 0),
                 (size_t)(2 + 1))); /* two AUTH_FAILED, one welcome */
    cleanup(&f);
}

Test(engine, probe_reads_readiness_of_any_key, .timeout = 30)
{
    fixture_t f = {0};
    const wr_event_t *p[4], *ask[4];

    start_gateway(&f, NULL);
    drive(&f,
          "name: p\ndescription: d\nclients:\n  - session: mine\n"
          "    steps:\n      - probe_ready: ghost\n      - connect\n"
          "      - expect: connection_established\n"
          "      - probe_ready: \"{session}\"\n",
          1, 0);
    cr_assert(eq(sz, count(&f, "client.probe", "ok", p, 4), 2));
    /* Each answer follows its request, recorded before it was sent. */
    cr_assert(eq(sz, count(&f, "client.probe", "invoke", ask, 4), 2));
    for (int k = 0; k < 2; k++) {
        cr_assert(eq(str, (char *)ask[k]->key, (char *)p[k]->key));
        cr_assert(ask[k]->ns <= p[k]->ns);
    }
    cr_assert(ask[1]->ns > p[0]->ns);
    cr_assert(eq(str, (char *)p[0]->key, "ghost"));
    cr_assert(eq(i8, p[0]->registered, 0));
    cr_assert(eq(i8, p[0]->ready, 0));
    cr_assert(eq(str, (char *)p[1]->key, "mine"));
    cr_assert(eq(i8, p[1]->ready, 1));
    cleanup(&f);
}

Test(engine, a_client_that_names_no_session_gets_one_generated,
     .timeout = 30)
{
    fixture_t f = {0};
    const wr_event_t *ask[4], *got[4];

    start_gateway(&f, NULL);
    drive(&f,
          "name: n\ndescription: d\nclients:\n  - count: 2\n"
          "    session: null\n    steps:\n      - connect\n"
          "      - expect: connection_established\n      - close\n",
          1, 0);
    cr_assert(eq(sz, count(&f, "client.connect", "invoke", ask, 4), 2));
    cr_assert(eq(sz, count(&f, "client.established", "ok", got, 4), 2));
    for (int k = 0; k < 2; k++) {
        /* It asked for none, and the gateway made one up. */
        cr_assert(zero(ptr, (void *)ask[k]->key));
        cr_assert(not(zero(ptr, (void *)got[k]->key)));
        cr_assert(eq(int, strncmp(got[k]->key, "sess-", 5), 0), "%s",
                  got[k]->key);
    }
    cr_assert(not(eq(str, (char *)got[0]->key, (char *)got[1]->key)));
    cr_assert(eq(int, f.stats.steps_failed, 0));
    cleanup(&f);
}

Test(engine, connect_to_a_closed_port_fails_quickly, .timeout = 30)
{
    fixture_t f = {0};
    int64_t t0 = wr_now_ns();

    /* Port 1 on loopback: nothing listens there in a test machine. */
    drive(&f,
          "name: x\ndescription: d\nclients:\n  - steps:\n"
          "      - connect: {within: 5000}\n      - send: {type: ping}\n",
          1, 1);
    cr_assert(eq(sz, count(&f, "client.connect", "fail", NULL, 0), 1));
    cr_assert(eq(int, f.stats.connect_errors, 1));
    cr_assert(eq(int, f.stats.steps_failed, 2)); /* connect, then send */
    cr_assert(wr_now_ns() - t0 < 4000 * 1000000LL);
    cleanup(&f);
}

Test(engine, scenario_timeout_ends_the_run, .timeout = 30)
{
    fixture_t f = {0};
    int64_t t0 = wr_now_ns();

    start_gateway(&f, NULL);
    drive(&f,
          "name: slow\ndescription: d\ntimeout_ms: 500\nclients:\n"
          "  - steps:\n      - connect\n      - sleep: 20000\n",
          1, 0);
    cr_assert(eq(int, f.stats.timed_out ? 1 : 0, 1));
    cr_assert(eq(sz, count(&f, "client.abandoned", NULL, NULL, 0), 1));
    cr_assert(eq(sz, count(&f, "client.closed", NULL, NULL, 0), 1));
    cr_assert(wr_now_ns() - t0 < 5000 * 1000000LL);
    cleanup(&f);
}

/* Which thread each client landed on, as one string. */
static void placement(fixture_t *f, unsigned long long seed, char *out)
{
    const wr_event_t *ev[32];
    size_t n;

    drive(f,
          "name: s\ndescription: d\nclients:\n  - count: 24\n"
          "    steps:\n      - probe_ready: k{g}\n",
          seed, f->target.port);
    n = count(f, "client.probe", "ok", ev, 32);
    cr_assert(eq(sz, n, 24));
    memset(out, '?', 24);
    out[24] = '\0';
    for (size_t i = 0; i < n; i++) {
        int g = atoi(ev[i]->key + 1);
        cr_assert(g >= 0 && g < 24);
        out[g] = (char)('0' + thread_of(ev[i]));
    }
    wr_history_free(f->history);
    wr_scenario_free(f->scenario);
    f->history = NULL;
    f->scenario = NULL;
}

Test(engine, placement_follows_the_seed, .timeout = 30)
{
    fixture_t f = {0};
    char a[25], b[25], c[25];

    start_gateway(&f, NULL);
    placement(&f, 42, a);
    placement(&f, 42, b);
    placement(&f, 43, c);
    cr_assert(eq(str, a, b));
    cr_assert(ne(str, a, c));
    cleanup(&f);
}

Test(target, start_watch_and_stop, .timeout = 30)
{
    fixture_t f = {0};
    char *body = NULL;

    start_gateway(&f, NULL);
    cr_assert(f.target.port > 0);
    cr_assert(eq(int, wr_target_alive(&f.target) ? 1 : 0, 1));
    cr_assert(eq(
        int, wr_http_get("127.0.0.1", f.target.port, "/healthz", 2000, &body),
        200));
    free(body);
    wr_target_stop(&f.target, 5000);
    cr_assert(eq(int, f.target.exited ? 1 : 0, 1));
    cr_assert(eq(int, f.target.exit_code, 0));
    cr_assert(eq(int, (int)f.target.state, (int)WR_TARGET_OK));
    cr_assert(eq(int, access(f.target.trace_path, R_OK), 0));
    cleanup(&f);
}

Test(target, crash_is_recorded_with_its_signal, .timeout = 30)
{
    fixture_t f = {0};
    char *args[] = {"--inject", "scope-loss", NULL};

    start_gateway(&f, args);
    drive(&f,
          "name: c\ndescription: d\nclients:\n  - steps:\n"
          "      - connect\n      - expect: {type: connection_established,"
          " within: 1000}\n",
          1, 0);
    for (int i = 0; i < 500 && wr_target_alive(&f.target); i++)
        usleep(10000);
    cr_assert(eq(int, f.target.exited ? 1 : 0, 1));
#if defined(__SANITIZE_ADDRESS__)
    /* The gateway of a sanitizer build reports the SIGSEGV and exits 1. */
    cr_assert(eq(int, f.target.exit_code, 1));
#else
    cr_assert(eq(int, f.target.sig, SIGSEGV));
#endif
    cr_assert(eq(int, (int)f.target.state, (int)WR_TARGET_CRASHED));
    cleanup(&f);
}

Test(target, missing_binary_does_not_start)
{
    wr_target_t t;
    wr_target_opts_t o = {.path = "/nonexistent/gateway", .dir = "/tmp"};

    cr_assert(lt(int, wr_target_start(&t, &o), 0));
    cr_assert(eq(int, (int)t.state, (int)WR_TARGET_NO_START));
    cr_assert(strstr(t.error, "/nonexistent/gateway") != NULL);
}

/* A client that gives up its steps by chaos (a close, no reconnect)
 * leaves the barriers it would have reached: the client waiting there
 * goes on at once instead of waiting the barrier out. Over eight seeds
 * the close falls before the barrier at least once (it falls before a
 * random step after the connect). */
Test(engine, a_client_gone_by_chaos_leaves_its_barriers, .timeout = 60)
{
    int before = 0;

    for (unsigned long long seed = 1; seed <= 8; seed++) {
        fixture_t f = {0};
        const wr_event_t *ok[2];

        start_gateway(&f, NULL);
        drive(&f,
              "name: b\ndescription: d\n"
              "chaos: {close_percent: 100, reconnect_percent: 0}\n"
              "clients:\n"
              "  - name: leaver\n    steps:\n      - connect\n"
              "      - sleep: 20\n"
              "      - barrier: {name: go, within: 3000}\n      - close\n"
              "  - name: stayer\n    steps:\n"
              "      - barrier: {name: go, within: 3000}\n",
              seed, 0);
        cr_assert(eq(sz, count(&f, "client.barrier", "fail", NULL, 0), 0),
                  "seed %llu: a barrier timed out", seed);
        cr_assert(ge(sz, count(&f, "client.barrier", "ok", ok, 2), 1));
        cr_assert(eq(int, f.stats.steps_failed, 0));
        before += count(&f, "client.abandoned", NULL, NULL, 0) > 0 &&
                  count(&f, "client.barrier", "ok", NULL, 0) == 1;
        cleanup(&f);
    }
    cr_assert(ge(int, before, 1), "no seed closed the leaver before the "
                                  "barrier");
}

/* Chaos reconnects only a client whose session no other client asks
 * for: two clients sharing one session never reconnect by chaos; a lone
 * one does, on some seed. */
Test(engine, chaos_reconnects_only_an_unshared_session, .timeout = 60)
{
    size_t shared = 0, lone = 0;

    for (unsigned long long seed = 1; seed <= 6; seed++) {
        fixture_t f = {0};

        start_gateway(&f, NULL);
        drive(&f,
              "name: r\ndescription: d\n"
              "chaos: {close_percent: 100, reconnect_percent: 100}\n"
              "clients:\n"
              "  - name: twins\n    count: 2\n    session: twin-{i}\n"
              "    steps: [connect, {sleep: 20}, close]\n"
              "  - name: pair\n    count: 2\n    session: same\n"
              "    start_jitter_ms: 200\n"
              "    steps: [connect, {sleep: 20}, close]\n",
              seed, 0);
        for (size_t i = 0; i < wr_history_len(f.history); i++) {
            const wr_event_t *e = wr_history_at(f.history, i);

            if (e->src != WR_SRC_CLIENT ||
                strcmp(e->event, "client.reconnect") != 0)
                continue;
            if (e->key != NULL && strcmp(e->key, "same") == 0)
                shared++;
            else
                lone++;
        }
        cleanup(&f);
    }
    cr_assert(eq(sz, shared, 0), "a client of a shared session reconnected");
    cr_assert(ge(sz, lone, 1), "no client of its own session reconnected");
}

/* After a chaos reconnect the client replays its steps from the connect
 * on the new connection: an expect there is met by an answer the new
 * connection received, never by one the old connection left in the
 * inbox (then the close step came before the answers it was owed, and
 * no_lost_messages saw a false loss under load). The second message waits
 * for the first one's answer, and a chaos close waits for the messages
 * queued before it: a close that falls before an expect lets the old
 * answers arrive into the inbox. */
Test(engine, an_expect_after_a_chaos_reconnect_takes_a_new_answer,
     .timeout = 90)
{
    size_t met_after = 0;

    for (unsigned long long seed = 1; seed <= 10; seed++) {
        fixture_t f = {0};
        bool reconnected = false, answered = false;

        start_gateway(&f, NULL);
        drive(&f,
              "name: e\ndescription: d\n"
              "chaos: {close_percent: 100, reconnect_percent: 100}\n"
              "clients:\n"
              "  - session: solo\n    steps:\n      - connect\n"
              "      - expect: connection_established\n"
              "      - send: {type: user_message, data: {content: x},"
              " correlation_id: m1}\n"
              "      - send: {type: user_message, data: {content: y},"
              " correlation_id: m2}\n"
              "      - expect: {type: agent_completed,"
              " match: {correlation_id: m1}}\n"
              "      - expect: {type: agent_completed,"
              " match: {correlation_id: m2}}\n"
              "      - sleep: 30\n      - close\n",
              seed, 0);
        for (size_t i = 0; i < wr_history_len(f.history); i++) {
            const wr_event_t *e = wr_history_at(f.history, i);
            bool completed = e->msg_type != NULL &&
                             strcmp(e->msg_type, "agent_completed") == 0;

            if (e->src != WR_SRC_CLIENT)
                continue;
            if (strcmp(e->event, "client.reconnect") == 0) {
                reconnected = true;
                answered = false;
            } else if (strcmp(e->event, "client.recv") == 0 && completed) {
                answered = true;
            } else if (reconnected && completed &&
                       strcmp(e->event, "client.expect") == 0 &&
                       e->type != NULL && strcmp(e->type, "ok") == 0) {
                cr_assert(answered, "seed %llu: the expect after the "
                                    "reconnect was met before the new "
                                    "connection got an answer",
                          seed);
                met_after++;
            }
        }
        cleanup(&f);
    }
    cr_assert(ge(sz, met_after, 1), "no seed reconnected before the expect");
}
