/* test-check.c - The checkers (wr_check.c).
 *
 * For every checker: a small history that has the bug (FAIL, with the
 * event that proves it among the evidence), one without (PASS), and the
 * black-box cases without a trace (UNKNOWN, or what the clients alone can
 * show). Histories are written as JSON lines through a small builder that
 * numbers gateway events and keeps one clock, 1 ms per event, so the
 * order written is the order merged. Then the real gateway traces of
 * tests/data/traces: the correct gateway passes every check, and each
 * fault's trace fails the checks the fault catalog says detect it.
 *
 * Criterion 2.4.1: gt() tests >=, and cr_assert() cannot take a bare
 * macro call as its criterion; conditions are wrapped as
 * eq(int, cond ? 1 : 0, 1). */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "checks/wr_check.h"
#include "wsr_fault.h"
#include "wsr_state.h"

#define MS 1000000LL /* ns */

/* ------------------------------------------------------------------ */
/* History builder                                                      */
/* ------------------------------------------------------------------ */

typedef struct {
    wr_history_t *h;
    unsigned long long seq; /* last gateway seq */
    long long ns;           /* the clock: the next event's ns */
} tb_t;

static tb_t tb_new(void)
{
    tb_t t = {wr_history_new(), 0, 1000 * MS};

    cr_assert(not(zero(ptr, t.h)));
    return t;
}

static void line(tb_t *t, const char *prefix, const char *fmt, va_list ap)
{
    char body[1024], text[1200];

    vsnprintf(body, sizeof(body), fmt, ap);
    snprintf(text, sizeof(text), "{%s,\"ns\":%lld,%s}", prefix, t->ns, body);
    cr_assert(eq(int, wr_history_add_line(t->h, WR_SRC_GATEWAY, text), 0), "%s",
              text);
    t->ns += MS;
}

/* A gateway event; returns its seq. */
static unsigned long long gw(tb_t *t, const char *fmt, ...)
{
    char prefix[64];
    va_list ap;

    snprintf(prefix, sizeof(prefix), "\"seq\":%llu", ++t->seq);
    va_start(ap, fmt);
    line(t, prefix, fmt, ap);
    va_end(ap);
    return t->seq;
}

/* An event of client n. */
static void cl(tb_t *t, int n, const char *fmt, ...)
{
    char prefix[64];
    va_list ap;

    snprintf(prefix, sizeof(prefix), "\"src\":\"client\",\"client\":%d", n);
    va_start(ap, fmt);
    line(t, prefix, fmt, ap);
    va_end(ap);
}

/* A harness event. */
static void hx(tb_t *t, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    line(t, "\"src\":\"harness\"", fmt, ap);
    va_end(ap);
}

static void wait_ms(tb_t *t, long long ms)
{
    t->ns += ms * MS;
}

/* Gateway: steps 1-3 of the correct flow for conn c. */
static void gw_accept_auth(tb_t *t, int c)
{
    gw(t, "\"event\":\"conn.open\",\"conn\":%d", c);
    gw(t,
       "\"event\":\"registry.register\",\"conn\":%d,\"key\":\"pre-%d\","
       "\"result\":\"created\"",
       c, c);
    gw(t,
       "\"event\":\"machine.transition\",\"conn\":%d,\"key\":\"pre-%d\","
       "\"from\":\"CONNECTING\",\"to\":\"ACCEPTED\",\"result\":\"ok\"",
       c, c);
    gw(t,
       "\"event\":\"auth.ok\",\"conn\":%d,\"key\":\"pre-%d\",\"user\":"
       "\"u%d\"",
       c, c, c);
    gw(t,
       "\"event\":\"machine.transition\",\"conn\":%d,\"key\":\"pre-%d\","
       "\"from\":\"ACCEPTED\",\"to\":\"AUTHENTICATED\",\"result\":\"ok\"",
       c, c);
    gw(t,
       "\"event\":\"machine.transition\",\"conn\":%d,\"key\":\"pre-%d\","
       "\"from\":\"AUTHENTICATED\",\"to\":\"SERVICES_READY\",\"result\":"
       "\"ok\"",
       c, c);
}

/* Gateway: the swap of conn c to key k; returns the rekey's seq. */
static unsigned long long gw_swap(tb_t *t, int c, const char *k)
{
    unsigned long long s;

    gw(t,
       "\"event\":\"swap.begin\",\"conn\":%d,\"key\":\"pre-%d\",\"from\":"
       "\"pre-%d\",\"to\":\"%s\",\"handle\":\"endpoint\"",
       c, c, c, k);
    s = gw(t,
           "\"event\":\"registry.rekey\",\"conn\":%d,\"key\":\"%s\","
           "\"result\":\"moved\",\"from\":\"pre-%d\",\"state\":"
           "\"SERVICES_READY\"",
           c, k, c);
    gw(t,
       "\"event\":\"swap.done\",\"conn\":%d,\"key\":\"%s\",\"from\":"
       "\"pre-%d\",\"result\":\"moved\"",
       c, k, c);
    return s;
}

/* Gateway: the linked ready step and the welcome; returns the welcome's
 * seq. */
static unsigned long long gw_ready(tb_t *t, int c, const char *k)
{
    gw(t,
       "\"event\":\"machine.transition\",\"conn\":%d,\"key\":\"%s\","
       "\"from\":\"SERVICES_READY\",\"to\":\"PROCESSING_READY\",\"result\":"
       "\"ok\"",
       c, k);
    gw(t,
       "\"event\":\"coordinator.phase\",\"conn\":%d,\"key\":\"%s\","
       "\"phase\":\"READY_FOR_MESSAGES\",\"machine\":\"PROCESSING_READY\","
       "\"result\":\"ok\",\"linked\":true",
       c, k);
    return gw(t,
              "\"event\":\"welcome.sent\",\"conn\":%d,\"key\":\"%s\","
              "\"connection_ready\":true,\"machine\":\"PROCESSING_READY\"",
              c, k);
}

static void gw_connect(tb_t *t, int c, const char *k)
{
    gw_accept_auth(t, c);
    gw_swap(t, c, k);
    gw_ready(t, c, k);
}

/* Gateway: the gate lets one message through a ready machine, which
 * processes it. */
static void gw_message(tb_t *t, int c, const char *k, const char *cid,
                       const char *from)
{
    gw(t,
       "\"event\":\"message.gate\",\"conn\":%d,\"key\":\"%s\","
       "\"correlation_id\":\"%s\",\"decision\":\"process\",\"machine\":"
       "\"%s\",\"coordinator\":\"READY_FOR_MESSAGES\"",
       c, k, cid, from);
    gw(t,
       "\"event\":\"message.process\",\"conn\":%d,\"key\":\"%s\","
       "\"correlation_id\":\"%s\",\"machine\":\"%s\"",
       c, k, cid, from);
    gw(t,
       "\"event\":\"machine.transition\",\"conn\":%d,\"key\":\"%s\","
       "\"from\":\"%s\",\"to\":\"PROCESSING\",\"result\":\"ok\"",
       c, k, from);
    gw(t,
       "\"event\":\"machine.transition\",\"conn\":%d,\"key\":\"%s\","
       "\"from\":\"PROCESSING\",\"to\":\"IDLE\",\"result\":\"ok\"",
       c, k);
}

/* Gateway: the close path; with leak, the unregister is missing. Returns
 * conn.closed's seq. */
static unsigned long long gw_close(tb_t *t, int c, const char *k, bool leak)
{
    gw(t, "\"event\":\"conn.transport_closed\",\"conn\":%d,\"key\":\"%s\"", c,
       k);
    gw(t,
       "\"event\":\"machine.transition\",\"conn\":%d,\"key\":\"%s\","
       "\"to\":\"CLOSED\",\"result\":\"ok\"",
       c, k);
    if (!leak)
        gw(t,
           "\"event\":\"registry.unregister\",\"conn\":%d,\"key\":\"%s\","
           "\"result\":\"removed\"",
           c, k);
    gw(t,
       "\"event\":\"coordinator.phase\",\"conn\":%d,\"key\":\"%s\","
       "\"phase\":\"CLOSED\",\"result\":\"ok\"",
       c, k);
    return gw(t, "\"event\":\"conn.closed\",\"conn\":%d,\"key\":\"%s\"", c, k);
}

/* Client n: connect with a session and a token kind. */
static void c_connect(tb_t *t, int n, const char *session, const char *token)
{
    cl(t, n,
       "\"event\":\"client.connect\",\"type\":\"invoke\",\"session\":\"%s\","
       "\"token\":\"%s\"",
       session, token);
}

/* Client n: the welcome arrives, naming key k. */
static void c_welcome(tb_t *t, int n, const char *k)
{
    cl(t, n,
       "\"event\":\"client.recv\",\"type\":\"info\",\"msg_type\":"
       "\"connection_established\",\"key\":\"%s\",\"connection_ready\":true",
       k);
    cl(t, n,
       "\"event\":\"client.established\",\"type\":\"ok\",\"key\":\"%s\","
       "\"connection_ready\":true",
       k);
}

static void c_send(tb_t *t, int n, const char *cid)
{
    cl(t, n,
       "\"event\":\"client.send\",\"type\":\"invoke\",\"msg_type\":"
       "\"user_message\",\"correlation_id\":\"%s\"",
       cid);
}

static void c_recv(tb_t *t, int n, const char *type, const char *cid)
{
    cl(t, n,
       "\"event\":\"client.recv\",\"type\":\"info\",\"msg_type\":\"%s\","
       "\"correlation_id\":\"%s\"",
       type, cid);
}

/* The whole answer to a user_message: the model's five agent events. */
static void c_answer(tb_t *t, int n, const char *cid)
{
    for (int k = 0; k < WSR_AGENT_EVENTS; k++)
        c_recv(t, n, wsr_agent_events[k], cid);
}

static void c_closed(tb_t *t, int n, int code, const char *by)
{
    if (strcmp(by, "client") == 0)
        cl(t, n, "\"event\":\"client.close\",\"type\":\"invoke\"");
    cl(t, n,
       "\"event\":\"client.closed\",\"type\":\"info\",\"code\":%d,\"by\":"
       "\"%s\"",
       code, by);
}

/* Client n asks whether key is ready (the answer is c_probe). */
static void c_ask(tb_t *t, int n, const char *key)
{
    cl(t, n, "\"event\":\"client.probe\",\"type\":\"invoke\",\"key\":\"%s\"",
       key);
}

static void c_probe(tb_t *t, int n, const char *key, bool registered,
                    bool ready)
{
    cl(t, n,
       "\"event\":\"client.probe\",\"type\":\"ok\",\"key\":\"%s\","
       "\"registered\":%s,\"ready\":%s",
       key, registered ? "true" : "false", ready ? "true" : "false");
}

/* ------------------------------------------------------------------ */
/* Running and asserting                                                */
/* ------------------------------------------------------------------ */

static const wr_check_opts_t opts = {
    .ready_timeout_ns = 5000 * MS,
    .message_timeout_ns = 0,
};

static wr_check_result_t run(tb_t *t, wsr_check_id_t id)
{
    wr_check_result_t r;

    wr_history_sort(t->h);
    wr_check_run(id, t->h, &opts, &r);
    cr_assert(eq(int, r.id, id));
    cr_assert(eq(int, r.summary[0] != '\0' ? 1 : 0, 1));
    cr_assert(le(sz, r.nevidence, WR_EVIDENCE_MAX));
    return r;
}

static bool has_seq(const wr_check_result_t *r, unsigned long long seq)
{
    for (size_t i = 0; i < r->nevidence; i++)
        if (r->evidence[i]->src == WR_SRC_GATEWAY && r->evidence[i]->seq == seq)
            return true;
    return false;
}

static bool has_event(const wr_check_result_t *r, const char *event)
{
    for (size_t i = 0; i < r->nevidence; i++)
        if (strcmp(r->evidence[i]->event, event) == 0)
            return true;
    return false;
}

/* Evidence is in history order. */
static bool in_order(const wr_check_result_t *r, const wr_history_t *h)
{
    for (size_t i = 1; i < r->nevidence; i++)
        if (wr_history_index(h, r->evidence[i - 1]) >=
            wr_history_index(h, r->evidence[i]))
            return false;
    return true;
}

#define VERDICT(r, v)                                                          \
    cr_assert(eq(int, (r).verdict, (v)), "%s: %s",                             \
              wr_verdict_name((r).verdict), (r).summary)

#define FAILS(r, t, nev, seq)                                                  \
    do {                                                                       \
        VERDICT(r, WR_FAIL);                                                   \
        cr_assert(eq(sz, (r).nevidence, (size_t)(nev)), "%s", (r).summary);    \
        if ((seq) != 0)                                                        \
            cr_assert(eq(int, has_seq(&(r), (seq)) ? 1 : 0, 1), "seq %llu",    \
                      (unsigned long long)(seq));                              \
        cr_assert(eq(int, in_order(&(r), (t)->h) ? 1 : 0, 1));                 \
        cr_assert(ge(sz, (r).violations, 1));                                  \
    } while (0)

#define PASSES(r)                                                              \
    do {                                                                       \
        VERDICT(r, WR_PASS);                                                   \
        cr_assert(eq(sz, (r).nevidence, 0));                                   \
        cr_assert(eq(sz, (r).violations, 0));                                  \
    } while (0)

/* ------------------------------------------------------------------ */
/* scope_loss                                                           */
/* ------------------------------------------------------------------ */

Test(check, scope_loss_swallowed_swap_fails)
{
    tb_t t = tb_new();
    unsigned long long begin, none;

    gw_accept_auth(&t, 1);
    begin =
        gw(&t, "\"event\":\"swap.begin\",\"conn\":1,\"key\":\"pre-1\","
               "\"from\":\"pre-1\",\"to\":\"k2\",\"handle\":\"out-of-scope\"");
    gw(&t, "\"event\":\"swap.error\",\"conn\":1,\"key\":\"pre-1\",\"error\":"
           "\"registry handle out of scope\",\"mode\":\"swallow\"");
    gw(&t, "\"event\":\"swap.swallowed\",\"conn\":1,\"key\":\"k2\","
           "\"machine_key\":\"pre-1\"");
    none = gw(&t, "\"event\":\"ready.failed\",\"conn\":1,\"key\":\"k2\","
                  "\"reason\":\"no machine under the key\"");
    gw_close(&t, 1, "k2", false);
    wr_check_result_t r = run(&t, WSR_CHECK_SCOPE_LOSS);
    FAILS(r, &t, 4, begin);
    cr_assert(eq(int, has_seq(&r, none) ? 1 : 0, 1));
    cr_assert(eq(int, has_event(&r, "swap.swallowed") ? 1 : 0, 1));
    cr_assert(eq(sz, r.violations, 1));
    cr_assert(not(zero(ptr, strstr(r.summary, "no machine under 'k2'"))), "%s",
              r.summary);
    wr_history_free(t.h);
}

Test(check, scope_loss_crash_fails)
{
    tb_t t = tb_new();
    unsigned long long begin;

    gw_accept_auth(&t, 1);
    begin =
        gw(&t, "\"event\":\"swap.begin\",\"conn\":1,\"key\":\"pre-1\","
               "\"from\":\"pre-1\",\"to\":\"k\",\"handle\":\"out-of-scope\"");
    hx(&t, "\"event\":\"target.exit\",\"code\":-1,\"sig\":11,"
           "\"stopped\":false");
    wr_check_result_t r = run(&t, WSR_CHECK_SCOPE_LOSS);
    FAILS(r, &t, 2, begin);
    cr_assert(eq(int, has_event(&r, "target.exit") ? 1 : 0, 1));
    cr_assert(eq(sz, r.violations, 1));
    cr_assert(not(zero(ptr, strstr(r.summary, "signal 11"))));
    wr_history_free(t.h);
}

Test(check, scope_loss_sanitizer_exit_is_a_crash)
{
    tb_t t = tb_new();

    gw_accept_auth(&t, 1);
    hx(&t, "\"event\":\"target.exit\",\"code\":1,\"sig\":0,"
           "\"stopped\":false");
    wr_check_result_t r = run(&t, WSR_CHECK_SCOPE_LOSS);
    FAILS(r, &t, 2, 6);
    cr_assert(not(zero(ptr, strstr(r.summary, "exited on its own"))));
    wr_history_free(t.h);
}

Test(check, scope_loss_clean_swap_passes)
{
    tb_t t = tb_new();

    gw_connect(&t, 1, "k");
    gw_close(&t, 1, "k", false);
    hx(&t, "\"event\":\"target.exit\",\"code\":0,\"sig\":0,\"stopped\":true");
    wr_check_result_t r = run(&t, WSR_CHECK_SCOPE_LOSS);
    PASSES(r);
    wr_history_free(t.h);
}

Test(check, scope_loss_machine_vanishing_while_live_fails)
{
    tb_t t = tb_new();
    unsigned long long gone;

    gw_connect(&t, 1, "k");
    /* Its machine leaves the registry while the connection lives on. */
    gone = gw(&t, "\"event\":\"registry.unregister\",\"conn\":1,\"key\":\"k\","
                  "\"result\":\"removed\"");
    gw(&t, "\"event\":\"message.gate\",\"conn\":1,\"key\":\"k\","
           "\"correlation_id\":\"a\",\"decision\":\"wait\",\"machine\":"
           "\"absent\"");
    wr_check_result_t r = run(&t, WSR_CHECK_SCOPE_LOSS);
    /* Judged at the registry change itself: the welcome that made the
     * connection live, and the unregister that left it bare. */
    FAILS(r, &t, 2, gone);
    cr_assert(eq(int, has_event(&r, "welcome.sent") ? 1 : 0, 1));
    wr_history_free(t.h);
}

Test(check, scope_loss_close_path_traced_before_transport_close_passes)
{
    tb_t t = tb_new();

    /* A handshake job that sees the close runs the close path at once; a
     * gateway may trace it before the transport's close event. */
    gw_connect(&t, 1, "k");
    gw(&t, "\"event\":\"machine.transition\",\"conn\":1,\"key\":\"k\","
           "\"from\":\"IDLE\",\"to\":\"CLOSING\",\"result\":\"ok\"");
    gw(&t, "\"event\":\"machine.transition\",\"conn\":1,\"key\":\"k\","
           "\"from\":\"CLOSING\",\"to\":\"CLOSED\",\"result\":\"ok\"");
    gw(&t, "\"event\":\"registry.unregister\",\"conn\":1,\"key\":\"k\","
           "\"result\":\"removed\"");
    gw(&t, "\"event\":\"coordinator.phase\",\"conn\":1,\"key\":\"k\","
           "\"phase\":\"CLOSED\",\"result\":\"ok\"");
    gw(&t, "\"event\":\"conn.closed\",\"conn\":1,\"key\":\"k\"");
    gw(&t, "\"event\":\"conn.transport_closed\",\"conn\":1,\"key\":\"k\"");
    wr_check_result_t r = run(&t, WSR_CHECK_SCOPE_LOSS);
    PASSES(r);
    wr_history_free(t.h);
}

Test(check, scope_loss_unregister_before_closed_fails)
{
    tb_t t = tb_new();
    unsigned long long rekey, gone;

    gw_accept_auth(&t, 1);
    rekey = gw_swap(&t, 1, "k");
    gw_ready(&t, 1, "k");
    gw(&t, "\"event\":\"conn.transport_closed\",\"conn\":1,\"key\":\"k\"");
    gw(&t, "\"event\":\"machine.transition\",\"conn\":1,\"key\":\"k\","
           "\"from\":\"PROCESSING_READY\",\"to\":\"CLOSING\",\"result\":\"ok\"");
    /* Removed while CLOSING: the close path's CLOSED then finds nothing. */
    gone = gw(&t, "\"event\":\"registry.unregister\",\"conn\":1,\"key\":"
                  "\"k\",\"result\":\"removed\"");
    gw(&t, "\"event\":\"machine.transition\",\"conn\":1,\"key\":\"k\","
           "\"to\":\"CLOSED\",\"result\":\"absent\"");
    gw(&t, "\"event\":\"conn.closed\",\"conn\":1,\"key\":\"k\"");
    wr_check_result_t r = run(&t, WSR_CHECK_SCOPE_LOSS);
    /* The registration it had, and the unregister that came too early. */
    FAILS(r, &t, 2, gone);
    cr_assert(eq(int, has_seq(&r, rekey) ? 1 : 0, 1));
    cr_assert(not(zero(ptr, strstr(r.summary, "while it was CLOSING"))));
    wr_history_free(t.h);
}

Test(check, scope_loss_unregister_of_a_closed_or_failed_machine_passes)
{
    tb_t t = tb_new();

    gw_connect(&t, 1, "k");
    gw_close(&t, 1, "k", false);
    /* A refused duplicate: FAILED, then unregistered. */
    gw_connect(&t, 2, "dup");
    gw_accept_auth(&t, 3);
    gw(&t, "\"event\":\"registry.rekey\",\"conn\":3,\"key\":\"dup\","
           "\"result\":\"duplicate\",\"from\":\"pre-3\"");
    gw(&t, "\"event\":\"machine.transition\",\"conn\":3,\"key\":\"pre-3\","
           "\"from\":\"SERVICES_READY\",\"to\":\"FAILED\",\"result\":\"ok\"");
    gw(&t, "\"event\":\"registry.unregister\",\"conn\":3,\"key\":\"pre-3\","
           "\"result\":\"removed\"");
    gw(&t, "\"event\":\"conn.failed\",\"conn\":3,\"key\":\"pre-3\","
           "\"error\":\"DUPLICATE_SESSION\",\"close\":4409");
    wr_check_result_t r = run(&t, WSR_CHECK_SCOPE_LOSS);
    PASSES(r);
    wr_history_free(t.h);
}

Test(check, scope_loss_without_trace_is_unknown)
{
    tb_t t = tb_new();

    c_connect(&t, 0, "s0", "valid");
    c_welcome(&t, 0, "s0");
    c_closed(&t, 0, 1000, "client");
    wr_check_result_t r = run(&t, WSR_CHECK_SCOPE_LOSS);
    VERDICT(r, WR_UNKNOWN);
    cr_assert(eq(sz, r.nevidence, 0));
    wr_history_free(t.h);
}

Test(check, scope_loss_black_box_1011_fails)
{
    tb_t t = tb_new();

    c_connect(&t, 0, "s0", "valid");
    cl(&t, 0,
       "\"event\":\"client.recv\",\"type\":\"info\",\"msg_type\":"
       "\"error_message\",\"error\":\"INTERNAL_ERROR\"");
    c_closed(&t, 0, 1011, "peer");
    wr_check_result_t r = run(&t, WSR_CHECK_SCOPE_LOSS);
    FAILS(r, &t, 2, 0);
    cr_assert(eq(int, has_event(&r, "client.closed") ? 1 : 0, 1));
    cr_assert(eq(int, has_event(&r, "client.connect") ? 1 : 0, 1));
    wr_history_free(t.h);
}

/* ------------------------------------------------------------------ */
/* false_readiness                                                      */
/* ------------------------------------------------------------------ */

Test(check, false_readiness_message_before_ready_fails)
{
    tb_t t = tb_new();
    unsigned long long proc;

    gw_accept_auth(&t, 1);
    gw_swap(&t, 1, "gap");
    gw(&t, "\"event\":\"message.gate\",\"conn\":1,\"key\":\"gap\","
           "\"correlation_id\":\"early\",\"decision\":\"process\",\"machine\":"
           "\"SERVICES_READY\"");
    proc =
        gw(&t, "\"event\":\"message.process\",\"conn\":1,\"key\":\"gap\","
               "\"correlation_id\":\"early\",\"machine\":\"SERVICES_READY\"");
    gw_ready(&t, 1, "gap");
    wr_check_result_t r = run(&t, WSR_CHECK_FALSE_READINESS);
    /* The gate that let it in, and the late ready step. */
    FAILS(r, &t, 2, proc - 1);
    cr_assert(eq(int, has_seq(&r, proc + 1) ? 1 : 0, 1));
    cr_assert(not(zero(ptr, strstr(r.summary, "SERVICES_READY"))));
    wr_history_free(t.h);
}

Test(check, false_readiness_model_judges_without_machine_field)
{
    tb_t t = tb_new();
    unsigned long long proc;

    gw_accept_auth(&t, 1);
    gw_swap(&t, 1, "m");
    proc = gw(&t, "\"event\":\"message.process\",\"conn\":1,\"key\":\"m\","
                  "\"correlation_id\":\"x\"");
    wr_check_result_t r = run(&t, WSR_CHECK_FALSE_READINESS);
    FAILS(r, &t, 1, proc);
    wr_history_free(t.h);
}

Test(check, false_readiness_early_welcome_fails)
{
    tb_t t = tb_new();
    unsigned long long welcome;

    gw_accept_auth(&t, 1);
    gw_swap(&t, 1, "ew");
    welcome =
        gw(&t, "\"event\":\"welcome.sent\",\"conn\":1,\"key\":\"ew\","
               "\"connection_ready\":true,\"machine\":\"SERVICES_READY\"");
    gw(&t, "\"event\":\"machine.transition\",\"conn\":1,\"key\":\"ew\","
           "\"from\":\"SERVICES_READY\",\"to\":\"PROCESSING_READY\",\"result\":"
           "\"ok\"");
    wr_check_result_t r = run(&t, WSR_CHECK_FALSE_READINESS);
    FAILS(r, &t, 2, welcome);
    cr_assert(eq(int, has_seq(&r, welcome + 1) ? 1 : 0, 1));
    wr_history_free(t.h);
}

Test(check, false_readiness_debug_ready_for_absent_key_fails)
{
    tb_t t = tb_new();
    unsigned long long dbg;

    gw(&t, "\"event\":\"gateway.start\"");
    dbg = gw(&t, "\"event\":\"debug.ready\",\"key\":\"nobody\","
                 "\"registered\":false,\"ready\":true");
    wr_check_result_t r = run(&t, WSR_CHECK_FALSE_READINESS);
    FAILS(r, &t, 1, dbg);
    wr_history_free(t.h);
}

Test(check, false_readiness_correct_flow_passes)
{
    tb_t t = tb_new();

    gw_connect(&t, 1, "k");
    gw(&t, "\"event\":\"debug.ready\",\"key\":\"k\",\"registered\":true,"
           "\"ready\":true");
    gw(&t, "\"event\":\"debug.ready\",\"key\":\"nobody\","
           "\"registered\":false,\"ready\":false");
    gw_message(&t, 1, "k", "c1", "PROCESSING_READY");
    gw_message(&t, 1, "k", "c2", "IDLE");
    /* A message let through while ready, just before a concurrent close
     * moved the machine on: the gate, traced with the registry, decides;
     * the processing that follows it is not judged again. */
    gw(&t, "\"event\":\"message.gate\",\"conn\":1,\"key\":\"k\","
           "\"correlation_id\":\"c3\",\"decision\":\"process\","
           "\"machine\":\"IDLE\"");
    gw(&t, "\"event\":\"conn.transport_closed\",\"conn\":1,\"key\":\"k\"");
    gw(&t, "\"event\":\"machine.transition\",\"conn\":1,\"key\":\"k\","
           "\"from\":\"IDLE\",\"to\":\"CLOSING\",\"result\":\"ok\"");
    gw(&t, "\"event\":\"message.process\",\"conn\":1,\"key\":\"k\","
           "\"correlation_id\":\"c3\",\"machine\":\"IDLE\"");
    wr_check_result_t r = run(&t, WSR_CHECK_FALSE_READINESS);
    PASSES(r);
    wr_history_free(t.h);
}

Test(check, false_readiness_processing_under_a_stale_key_fails)
{
    tb_t t = tb_new();
    unsigned long long gate, proc;

    gw_connect(&t, 1, "k");
    /* The gate read the final key; the processing used the preliminary
     * one, where no machine is any more. */
    gate = gw(&t, "\"event\":\"message.gate\",\"conn\":1,\"key\":\"k\","
                  "\"correlation_id\":\"m\",\"decision\":\"process\","
                  "\"machine\":\"PROCESSING_READY\"");
    proc = gw(&t, "\"event\":\"message.process\",\"conn\":1,\"key\":"
                  "\"pre-1\",\"correlation_id\":\"m\",\"machine\":\"absent\"");
    gw(&t, "\"event\":\"machine.transition\",\"conn\":1,\"key\":\"pre-1\","
           "\"to\":\"PROCESSING\",\"result\":\"absent\"");
    wr_check_result_t r = run(&t, WSR_CHECK_FALSE_READINESS);
    FAILS(r, &t, 2, proc);
    cr_assert(eq(int, has_seq(&r, gate) ? 1 : 0, 1));
    cr_assert(not(zero(ptr, strstr(r.summary, "processed under 'pre-1'"))),
              "%s", r.summary);
    wr_history_free(t.h);
}

Test(check, false_readiness_processing_on_a_machine_out_of_the_ready_set_fails)
{
    tb_t t = tb_new();
    unsigned long long proc;

    gw_connect(&t, 1, "k");
    gw(&t, "\"event\":\"message.gate\",\"conn\":1,\"key\":\"k\","
           "\"correlation_id\":\"m\",\"decision\":\"process\","
           "\"machine\":\"PROCESSING_READY\"");
    /* No close under way, yet the machine it read was not ready. */
    proc = gw(&t, "\"event\":\"message.process\",\"conn\":1,\"key\":\"k\","
                  "\"correlation_id\":\"m\",\"machine\":\"DEGRADED\"");
    proc = gw(&t, "\"event\":\"message.process\",\"conn\":1,\"key\":\"k\","
                  "\"correlation_id\":\"m\",\"machine\":\"RECONNECTING\"");
    wr_check_result_t r = run(&t, WSR_CHECK_FALSE_READINESS);
    FAILS(r, &t, 2, proc);
    cr_assert(not(zero(ptr, strstr(r.summary, "RECONNECTING"))), "%s",
              r.summary);
    wr_history_free(t.h);
}

Test(check, false_readiness_processing_while_the_close_runs_passes)
{
    tb_t t = tb_new();

    gw_connect(&t, 1, "k");
    gw_message(&t, 1, "k", "a", "PROCESSING_READY");
    gw(&t, "\"event\":\"message.gate\",\"conn\":1,\"key\":\"k\","
           "\"correlation_id\":\"b\",\"decision\":\"process\","
           "\"machine\":\"IDLE\"");
    /* The close path runs beside the processor, which then finds the
     * machine gone: the close, not the gate, took it. */
    gw_close(&t, 1, "k", false);
    gw(&t, "\"event\":\"message.process\",\"conn\":1,\"key\":\"k\","
           "\"correlation_id\":\"b\",\"machine\":\"absent\"");
    wr_check_result_t r = run(&t, WSR_CHECK_FALSE_READINESS);
    PASSES(r);
    wr_history_free(t.h);
}

Test(check, false_readiness_probe_answered_from_nothing_the_registry_held_fails)
{
    tb_t t = tb_new();

    c_connect(&t, 1, "k", "valid");
    gw_connect(&t, 1, "k");
    c_ask(&t, 0, "k");
    gw(&t, "\"event\":\"debug.ready\",\"key\":\"k\",\"registered\":true,"
           "\"ready\":true,\"machine\":\"PROCESSING_READY\"");
    c_probe(&t, 0, "k", true, true);
    gw_close(&t, 1, "k", false);
    /* Asked again once the key is gone; answered with the old answer, and
     * no reading of the registry behind it. */
    c_ask(&t, 0, "k");
    c_probe(&t, 0, "k", true, true);
    wr_check_result_t r = run(&t, WSR_CHECK_FALSE_READINESS);
    FAILS(r, &t, 2, 0);
    cr_assert(eq(int, r.evidence[0]->src, WR_SRC_CLIENT));
    cr_assert(eq(str, (char *)r.evidence[0]->type, "invoke"));
    cr_assert(eq(str, (char *)r.evidence[1]->type, "ok"));
    cr_assert(eq(sz, r.violations, 1));
    wr_history_free(t.h);
}

Test(check, false_readiness_probe_judged_by_its_reading_or_the_model_passes)
{
    tb_t t = tb_new();

    c_connect(&t, 1, "k", "valid");
    gw_connect(&t, 1, "k");
    /* Read while asked: the reading itself is judged. */
    c_ask(&t, 0, "k");
    gw(&t, "\"event\":\"debug.ready\",\"key\":\"k\",\"registered\":true,"
           "\"ready\":true,\"machine\":\"PROCESSING_READY\"");
    c_probe(&t, 0, "k", true, true);
    /* No reading traced: the answer was true of the registry all along. */
    c_ask(&t, 0, "k");
    c_probe(&t, 0, "k", true, true);
    /* Or at one instant of it: the key closes while it is asked. */
    c_ask(&t, 0, "k");
    gw_close(&t, 1, "k", false);
    c_probe(&t, 0, "k", true, true);
    c_ask(&t, 0, "nobody");
    c_probe(&t, 0, "nobody", false, false);
    /* An answer without its request (an older history) is not timed. */
    c_probe(&t, 0, "k", false, false);
    wr_check_result_t r = run(&t, WSR_CHECK_FALSE_READINESS);
    PASSES(r);
    wr_history_free(t.h);
}

Test(check, false_readiness_black_box_probe_of_absent_key_fails)
{
    tb_t t = tb_new();

    c_connect(&t, 0, "s0", "valid");
    c_welcome(&t, 0, "s0");
    c_probe(&t, 0, "s0", true, true);
    c_probe(&t, 0, "does-not-exist", true, true);
    c_closed(&t, 0, 1000, "client");
    wr_check_result_t r = run(&t, WSR_CHECK_FALSE_READINESS);
    FAILS(r, &t, 1, 0);
    cr_assert(eq(str, (char *)r.evidence[0]->key, "does-not-exist"));
    wr_history_free(t.h);
}

Test(check, false_readiness_black_box_self_contradiction_fails)
{
    tb_t t = tb_new();

    /* Even for a key a client used: no machine, yet ready. */
    c_connect(&t, 0, "s0", "valid");
    c_closed(&t, 0, 1006, "transport");
    c_probe(&t, 0, "s0", false, true);
    wr_check_result_t r = run(&t, WSR_CHECK_FALSE_READINESS);
    FAILS(r, &t, 1, 0);
    wr_history_free(t.h);
}

Test(check, false_readiness_black_box_welcome_then_not_ready_fails)
{
    tb_t t = tb_new();

    c_connect(&t, 0, "ew", "valid");
    c_welcome(&t, 0, "ew");
    c_probe(&t, 0, "ew", true, false);
    c_closed(&t, 0, 1000, "client");
    wr_check_result_t r = run(&t, WSR_CHECK_FALSE_READINESS);
    FAILS(r, &t, 2, 0);
    cr_assert(eq(int, has_event(&r, "client.established") ? 1 : 0, 1));
    cr_assert(eq(int, has_event(&r, "client.probe") ? 1 : 0, 1));
    wr_history_free(t.h);
}

Test(check, false_readiness_black_box_truthful_probes_pass)
{
    tb_t t = tb_new();

    c_connect(&t, 0, "s0", "valid");
    c_welcome(&t, 0, "s0");
    c_probe(&t, 0, "s0", true, true);
    c_probe(&t, 0, "nobody", false, false);
    c_closed(&t, 0, 1000, "client");
    /* After its close the key may rightly be not ready. */
    c_probe(&t, 0, "s0", true, false);
    wr_check_result_t r = run(&t, WSR_CHECK_FALSE_READINESS);
    PASSES(r);
    wr_history_free(t.h);
}

Test(check, false_readiness_without_trace_or_probe_is_unknown)
{
    tb_t t = tb_new();

    c_connect(&t, 0, "s0", "valid");
    c_welcome(&t, 0, "s0");
    c_closed(&t, 0, 1000, "client");
    wr_check_result_t r = run(&t, WSR_CHECK_FALSE_READINESS);
    VERDICT(r, WR_UNKNOWN);
    wr_history_free(t.h);
}

/* ------------------------------------------------------------------ */
/* duplicate_registration                                               */
/* ------------------------------------------------------------------ */

Test(check, duplicate_two_live_machines_fails)
{
    tb_t t = tb_new();
    unsigned long long first, second, w1, w2;

    gw_accept_auth(&t, 1);
    gw_accept_auth(&t, 2);
    first = gw_swap(&t, 1, "twin");
    w1 = gw_ready(&t, 1, "twin");
    second = gw_swap(&t, 2, "twin");
    w2 = gw_ready(&t, 2, "twin");
    gw_close(&t, 1, "twin", false);
    gw_close(&t, 2, "twin", false);
    wr_check_result_t r = run(&t, WSR_CHECK_DUPLICATE_REGISTRATION);
    FAILS(r, &t, 4, second);
    cr_assert(eq(int, has_seq(&r, first) ? 1 : 0, 1));
    cr_assert(eq(int, has_seq(&r, w1) ? 1 : 0, 1));
    cr_assert(eq(int, has_seq(&r, w2) ? 1 : 0, 1));
    cr_assert(eq(sz, r.violations, 1));
    char want[160];
    snprintf(want, sizeof(want),
             "key 'twin' held 2 live machines (conn 1 and conn 2) from seq "
             "%llu; both were welcomed",
             second);
    cr_assert(eq(str, r.summary, want));
    wr_history_free(t.h);
}

Test(check, duplicate_existing_result_fails)
{
    tb_t t = tb_new();
    unsigned long long reg, again;

    gw(&t, "\"event\":\"conn.open\",\"conn\":1");
    reg = gw(&t, "\"event\":\"registry.register\",\"conn\":1,\"key\":"
                 "\"solo\",\"result\":\"created\"");
    again = gw(&t, "\"event\":\"registry.register\",\"conn\":2,\"key\":"
                   "\"solo\",\"result\":\"existing\"");
    wr_check_result_t r = run(&t, WSR_CHECK_DUPLICATE_REGISTRATION);
    FAILS(r, &t, 2, again);
    cr_assert(eq(int, has_seq(&r, reg) ? 1 : 0, 1));
    wr_history_free(t.h);
}

Test(check, duplicate_refused_second_session_passes)
{
    tb_t t = tb_new();

    gw_accept_auth(&t, 1);
    gw_accept_auth(&t, 2);
    gw_swap(&t, 1, "same");
    gw_ready(&t, 1, "same");
    gw(&t, "\"event\":\"swap.begin\",\"conn\":2,\"key\":\"pre-2\",\"from\":"
           "\"pre-2\",\"to\":\"same\",\"handle\":\"endpoint\"");
    gw(&t, "\"event\":\"registry.rekey\",\"conn\":2,\"key\":\"same\","
           "\"result\":\"duplicate\",\"from\":\"pre-2\"");
    gw(&t, "\"event\":\"registry.unregister\",\"conn\":2,\"key\":\"pre-2\","
           "\"result\":\"removed\"");
    gw(&t, "\"event\":\"conn.failed\",\"conn\":2,\"key\":\"pre-2\","
           "\"error\":\"DUPLICATE_SESSION\",\"close\":4409");
    /* A reconnect after the first closed is no duplicate. */
    gw_close(&t, 1, "same", false);
    gw_connect(&t, 3, "same");
    wr_check_result_t r = run(&t, WSR_CHECK_DUPLICATE_REGISTRATION);
    PASSES(r);
    wr_history_free(t.h);
}

Test(check, duplicate_black_box_two_welcomed_fails)
{
    tb_t t = tb_new();

    c_connect(&t, 0, "twin", "valid");
    c_connect(&t, 1, "twin", "valid");
    c_welcome(&t, 0, "twin");
    c_welcome(&t, 1, "twin");
    c_closed(&t, 0, 1000, "client");
    c_closed(&t, 1, 1000, "client");
    wr_check_result_t r = run(&t, WSR_CHECK_DUPLICATE_REGISTRATION);
    FAILS(r, &t, 2, 0);
    cr_assert(eq(str, (char *)r.evidence[0]->event, "client.established"));
    cr_assert(eq(int, r.evidence[0]->client, 0));
    cr_assert(eq(int, r.evidence[1]->client, 1));
    wr_history_free(t.h);
}

Test(check, duplicate_black_box_refused_and_reconnect_pass)
{
    tb_t t = tb_new();

    c_connect(&t, 0, "twin", "valid");
    c_welcome(&t, 0, "twin");
    c_connect(&t, 1, "twin", "valid");
    cl(&t, 1,
       "\"event\":\"client.recv\",\"type\":\"info\",\"msg_type\":"
       "\"error_message\",\"error\":\"DUPLICATE_SESSION\"");
    c_closed(&t, 1, 4409, "peer");
    /* Client 0 asks to close; client 2's welcome may be recorded before
     * client 0 records its close. */
    cl(&t, 0, "\"event\":\"client.close\",\"type\":\"invoke\"");
    c_connect(&t, 2, "twin", "valid");
    c_welcome(&t, 2, "twin");
    cl(&t, 0,
       "\"event\":\"client.closed\",\"type\":\"info\",\"code\":1000,"
       "\"by\":\"client\"");
    c_closed(&t, 2, 1000, "client");
    wr_check_result_t r = run(&t, WSR_CHECK_DUPLICATE_REGISTRATION);
    PASSES(r);
    wr_history_free(t.h);
}

Test(check, duplicate_black_box_without_shared_session_is_unknown)
{
    tb_t t = tb_new();

    c_connect(&t, 0, "a", "valid");
    c_connect(&t, 1, "b", "valid");
    c_welcome(&t, 0, "a");
    c_welcome(&t, 1, "b");
    wr_check_result_t r = run(&t, WSR_CHECK_DUPLICATE_REGISTRATION);
    VERDICT(r, WR_UNKNOWN);
    wr_history_free(t.h);
}

/* ------------------------------------------------------------------ */
/* coordinator_gap                                                      */
/* ------------------------------------------------------------------ */

Test(check, coordinator_gap_unlinked_ready_fails)
{
    tb_t t = tb_new();
    unsigned long long gap, proc;

    gw_accept_auth(&t, 1);
    gap =
        gw(&t, "\"event\":\"coordinator.phase\",\"conn\":1,\"key\":\"pre-1\","
               "\"phase\":\"READY_FOR_MESSAGES\",\"result\":\"ok\",\"linked\":"
               "false,\"machine\":\"SERVICES_READY\"");
    gw_swap(&t, 1, "gap");
    proc =
        gw(&t, "\"event\":\"message.process\",\"conn\":1,\"key\":\"gap\","
               "\"correlation_id\":\"early\",\"machine\":\"SERVICES_READY\"");
    gw_ready(&t, 1, "gap");
    wr_check_result_t r = run(&t, WSR_CHECK_COORDINATOR_GAP);
    /* The gap, what it let through, and the machine catching up. */
    FAILS(r, &t, 3, gap);
    cr_assert(eq(int, has_seq(&r, proc) ? 1 : 0, 1));
    cr_assert(eq(int, has_seq(&r, proc + 1) ? 1 : 0, 1));
    cr_assert(not(zero(ptr, strstr(r.summary, "linked: false"))));
    wr_history_free(t.h);
}

Test(check, coordinator_gap_model_judges_without_machine_field)
{
    tb_t t = tb_new();
    unsigned long long gap;

    gw_accept_auth(&t, 1);
    gap = gw(&t, "\"event\":\"coordinator.phase\",\"conn\":1,\"key\":\"pre-1\","
                 "\"phase\":\"READY_FOR_MESSAGES\",\"result\":\"ok\"");
    wr_check_result_t r = run(&t, WSR_CHECK_COORDINATOR_GAP);
    FAILS(r, &t, 1, gap);
    wr_history_free(t.h);
}

Test(check, coordinator_gap_linked_ready_passes)
{
    tb_t t = tb_new();

    gw_connect(&t, 1, "k");
    /* A refused READY (the close got there first) claims nothing. */
    gw_accept_auth(&t, 2);
    gw(&t, "\"event\":\"coordinator.phase\",\"conn\":2,\"key\":\"pre-2\","
           "\"phase\":\"READY_FOR_MESSAGES\",\"result\":\"refused\","
           "\"machine\":\"SERVICES_READY\",\"linked\":true");
    wr_check_result_t r = run(&t, WSR_CHECK_COORDINATOR_GAP);
    PASSES(r);
    wr_history_free(t.h);
}

Test(check, coordinator_gap_coordinator_outliving_its_machine_fails)
{
    tb_t t = tb_new();
    unsigned long long welcome, closed;

    gw_accept_auth(&t, 1);
    gw_swap(&t, 1, "k");
    welcome = gw_ready(&t, 1, "k");
    /* The close path unregisters the machine and leaves the coordinator
     * READY_FOR_MESSAGES (traced just before the welcome). */
    gw(&t, "\"event\":\"conn.transport_closed\",\"conn\":1,\"key\":\"k\"");
    gw(&t, "\"event\":\"machine.transition\",\"conn\":1,\"key\":\"k\","
           "\"to\":\"CLOSED\",\"result\":\"ok\"");
    gw(&t, "\"event\":\"registry.unregister\",\"conn\":1,\"key\":\"k\","
           "\"result\":\"removed\"");
    closed = gw(&t, "\"event\":\"conn.closed\",\"conn\":1,\"key\":\"k\"");
    wr_check_result_t r = run(&t, WSR_CHECK_COORDINATOR_GAP);
    FAILS(r, &t, 2, closed);
    cr_assert(eq(int, has_seq(&r, welcome - 1) ? 1 : 0, 1));
    cr_assert(not(zero(ptr, strstr(r.summary, "READY_FOR_MESSAGES"))));
    wr_history_free(t.h);
}

Test(check, coordinator_gap_coordinator_closed_or_failed_at_close_passes)
{
    tb_t t = tb_new();

    gw_connect(&t, 1, "k");
    gw_close(&t, 1, "k", false);
    /* A failed handshake: ERROR, and the close path's CLOSED refused. */
    gw_accept_auth(&t, 2);
    gw(&t, "\"event\":\"coordinator.phase\",\"conn\":2,\"key\":\"pre-2\","
           "\"phase\":\"ERROR\",\"result\":\"ok\"");
    gw(&t, "\"event\":\"conn.failed\",\"conn\":2,\"key\":\"pre-2\","
           "\"error\":\"INTERNAL\",\"close\":1011");
    gw(&t, "\"event\":\"coordinator.phase\",\"conn\":2,\"key\":\"pre-2\","
           "\"phase\":\"CLOSED\",\"result\":\"refused\"");
    gw(&t, "\"event\":\"conn.closed\",\"conn\":2,\"key\":\"pre-2\"");
    /* A connection whose coordinator was never traced: nothing to judge. */
    gw(&t, "\"event\":\"conn.closed\",\"conn\":3,\"key\":\"pre-3\"");
    wr_check_result_t r = run(&t, WSR_CHECK_COORDINATOR_GAP);
    PASSES(r);
    wr_history_free(t.h);
}

Test(check, coordinator_gap_without_trace_is_unknown)
{
    tb_t t = tb_new();

    c_connect(&t, 0, "s", "valid");
    c_welcome(&t, 0, "s");
    wr_check_result_t r = run(&t, WSR_CHECK_COORDINATOR_GAP);
    VERDICT(r, WR_UNKNOWN);
    wr_history_free(t.h);
}

/* ------------------------------------------------------------------ */
/* liveness                                                             */
/* ------------------------------------------------------------------ */

Test(check, liveness_stuck_swap_fails)
{
    tb_t t = tb_new();
    unsigned long long refused, failed;

    gw_accept_auth(&t, 1);
    gw(&t, "\"event\":\"swap.begin\",\"conn\":1,\"key\":\"pre-1\",\"from\":"
           "\"pre-1\",\"to\":\"stuck\",\"handle\":\"endpoint\"");
    gw(&t, "\"event\":\"registry.unregister\",\"conn\":1,\"key\":\"pre-1\","
           "\"result\":\"removed\"");
    gw(&t, "\"event\":\"registry.register\",\"conn\":1,\"key\":\"stuck\","
           "\"result\":\"created\"");
    gw(&t, "\"event\":\"swap.done\",\"conn\":1,\"key\":\"stuck\",\"from\":"
           "\"pre-1\",\"result\":\"moved\"");
    refused = gw(&t, "\"event\":\"machine.transition\",\"conn\":1,\"key\":"
                     "\"stuck\",\"from\":\"CONNECTING\",\"to\":"
                     "\"PROCESSING_READY\",\"result\":\"refused\"");
    failed = gw(&t, "\"event\":\"ready.failed\",\"conn\":1,\"key\":\"stuck\","
                    "\"reason\":\"machine refused PROCESSING_READY\"");
    gw_close(&t, 1, "stuck", false);
    wr_check_result_t r = run(&t, WSR_CHECK_LIVENESS);
    /* auth.ok, swap.done, the refusal, ready.failed, the close. */
    FAILS(r, &t, 5, failed);
    cr_assert(eq(int, has_seq(&r, refused) ? 1 : 0, 1));
    cr_assert(eq(int, has_seq(&r, 4) ? 1 : 0, 1)); /* auth.ok */
    wr_history_free(t.h);
}

Test(check, liveness_late_welcome_fails)
{
    tb_t t = tb_new();
    unsigned long long welcome;

    gw_accept_auth(&t, 1);
    gw_swap(&t, 1, "slow");
    wait_ms(&t, 6000);
    welcome = gw_ready(&t, 1, "slow");
    wr_check_result_t r = run(&t, WSR_CHECK_LIVENESS);
    FAILS(r, &t, 2, welcome);
    cr_assert(eq(int, has_seq(&r, 4) ? 1 : 0, 1));
    wr_history_free(t.h);
}

Test(check, liveness_refused_duplicate_and_early_leaver_pass)
{
    tb_t t = tb_new();

    gw_connect(&t, 1, "same");
    gw_accept_auth(&t, 2);
    gw(&t, "\"event\":\"conn.failed\",\"conn\":2,\"key\":\"pre-2\","
           "\"error\":\"DUPLICATE_SESSION\",\"close\":4409");
    gw(&t, "\"event\":\"conn.transport_closed\",\"conn\":2,\"key\":"
           "\"pre-2\"");
    /* Conn 3 authenticates, then its client leaves within the bound. */
    gw_accept_auth(&t, 3);
    gw(&t, "\"event\":\"conn.transport_closed\",\"conn\":3,\"key\":"
           "\"pre-3\"");
    /* Conn 4 never authenticates. */
    gw(&t, "\"event\":\"conn.open\",\"conn\":4");
    gw(&t, "\"event\":\"auth.failed\",\"conn\":4,\"key\":\"pre-4\"");
    gw(&t, "\"event\":\"conn.failed\",\"conn\":4,\"key\":\"pre-4\","
           "\"error\":\"AUTH_FAILED\",\"close\":1008");
    wr_check_result_t r = run(&t, WSR_CHECK_LIVENESS);
    PASSES(r);
    wr_history_free(t.h);
}

Test(check, liveness_duplicate_refusal_of_a_session_nobody_shared_fails)
{
    tb_t t = tb_new();
    unsigned long long failed;

    /* Two clients that name no session: the gateway generates one for
     * each, and must not hand both the same. */
    cl(&t, 0, "\"event\":\"client.connect\",\"type\":\"invoke\","
              "\"token\":\"valid\"");
    cl(&t, 1, "\"event\":\"client.connect\",\"type\":\"invoke\","
              "\"token\":\"valid\"");
    gw_connect(&t, 1, "sess-1");
    c_welcome(&t, 0, "sess-1");
    gw_accept_auth(&t, 2);
    gw(&t, "\"event\":\"swap.begin\",\"conn\":2,\"key\":\"pre-2\","
           "\"from\":\"pre-2\",\"to\":\"sess-1\",\"handle\":\"endpoint\"");
    gw(&t, "\"event\":\"registry.rekey\",\"conn\":2,\"key\":\"sess-1\","
           "\"result\":\"duplicate\",\"from\":\"pre-2\"");
    failed = gw(&t, "\"event\":\"conn.failed\",\"conn\":2,\"key\":\"pre-2\","
                    "\"error\":\"DUPLICATE_SESSION\",\"close\":4409");
    cl(&t, 1, "\"event\":\"client.recv\",\"type\":\"info\",\"msg_type\":"
              "\"error_message\",\"error\":\"DUPLICATE_SESSION\"");
    c_closed(&t, 1, 4409, "peer");
    wr_check_result_t r = run(&t, WSR_CHECK_LIVENESS);
    /* Its authentication and its refusal. */
    FAILS(r, &t, 2, failed);
    cr_assert(eq(sz, r.violations, 2)); /* the gateway's and the client's */
    cr_assert(not(zero(ptr, strstr(r.summary, "no client asked for"))),
              "%s", r.summary);
    wr_history_free(t.h);
}

Test(check, liveness_duplicate_refusal_with_another_close_code_fails)
{
    tb_t t = tb_new();
    unsigned long long failed;

    c_connect(&t, 0, "same", "valid");
    c_connect(&t, 1, "same", "valid");
    gw_connect(&t, 1, "same");
    gw_accept_auth(&t, 2);
    gw(&t, "\"event\":\"swap.begin\",\"conn\":2,\"key\":\"pre-2\","
           "\"from\":\"pre-2\",\"to\":\"same\",\"handle\":\"endpoint\"");
    failed = gw(&t, "\"event\":\"conn.failed\",\"conn\":2,\"key\":\"pre-2\","
                    "\"error\":\"DUPLICATE_SESSION\",\"close\":1011");
    cl(&t, 1, "\"event\":\"client.recv\",\"type\":\"info\",\"msg_type\":"
              "\"error_message\",\"error\":\"DUPLICATE_SESSION\"");
    c_closed(&t, 1, 1011, "peer");
    wr_check_result_t r = run(&t, WSR_CHECK_LIVENESS);
    FAILS(r, &t, 2, failed);
    cr_assert(eq(sz, r.violations, 2));
    cr_assert(not(zero(ptr, strstr(r.summary, "with close 1011, not 4409"))),
              "%s", r.summary);
    wr_history_free(t.h);
}

Test(check, liveness_duplicate_refusal_of_a_shared_session_passes)
{
    tb_t t = tb_new();

    c_connect(&t, 0, "same", "valid");
    c_connect(&t, 1, "same", "valid");
    gw_connect(&t, 1, "same");
    c_welcome(&t, 0, "same");
    gw_accept_auth(&t, 2);
    gw(&t, "\"event\":\"swap.begin\",\"conn\":2,\"key\":\"pre-2\","
           "\"from\":\"pre-2\",\"to\":\"same\",\"handle\":\"endpoint\"");
    gw(&t, "\"event\":\"conn.failed\",\"conn\":2,\"key\":\"pre-2\","
           "\"error\":\"DUPLICATE_SESSION\",\"close\":4409");
    cl(&t, 1, "\"event\":\"client.recv\",\"type\":\"info\",\"msg_type\":"
              "\"error_message\",\"error\":\"DUPLICATE_SESSION\"");
    /* A vanished transport says nothing about the close code. */
    c_closed(&t, 1, 1006, "transport");
    /* A reconnect of the same client races its own old connection. */
    c_connect(&t, 2, "mine", "valid");
    c_closed(&t, 2, 1000, "client");
    c_connect(&t, 2, "mine", "valid");
    c_closed(&t, 2, 4409, "peer");
    wr_check_result_t r = run(&t, WSR_CHECK_LIVENESS);
    PASSES(r);
    wr_history_free(t.h);
}

Test(check, liveness_crash_before_welcome_fails)
{
    tb_t t = tb_new();

    gw_accept_auth(&t, 1);
    hx(&t, "\"event\":\"target.exit\",\"code\":-1,\"sig\":11,"
           "\"stopped\":false");
    wr_check_result_t r = run(&t, WSR_CHECK_LIVENESS);
    FAILS(r, &t, 2, 4);
    cr_assert(eq(int, has_event(&r, "target.exit") ? 1 : 0, 1));
    wr_history_free(t.h);
}

Test(check, liveness_black_box_error_close_fails)
{
    tb_t t = tb_new();

    c_connect(&t, 0, "s0", "valid");
    c_closed(&t, 0, 1011, "peer");
    /* Not counted: a bad token's refusal, and a refused duplicate. */
    c_connect(&t, 1, "s1", "expired");
    c_closed(&t, 1, 1008, "peer");
    wr_check_result_t r = run(&t, WSR_CHECK_LIVENESS);
    FAILS(r, &t, 2, 0);
    cr_assert(eq(int, r.evidence[1]->code, 1011));
    cr_assert(eq(sz, r.violations, 1));
    wr_history_free(t.h);
}

Test(check, liveness_black_box_outcomes)
{
    tb_t t = tb_new();

    c_connect(&t, 0, "s0", "valid");
    c_welcome(&t, 0, "s0");
    c_connect(&t, 1, "s0", "valid");
    c_closed(&t, 1, 4409, "peer");
    c_closed(&t, 0, 1000, "client");
    wr_check_result_t r = run(&t, WSR_CHECK_LIVENESS);
    PASSES(r);
    wr_history_free(t.h);
}

Test(check, liveness_black_box_gave_up_is_unknown_or_fails)
{
    tb_t t = tb_new(), u = tb_new();

    /* Gave up after 1 s: too early to tell. */
    c_connect(&t, 0, "s0", "valid");
    wait_ms(&t, 1000);
    c_closed(&t, 0, 1000, "client");
    wr_check_result_t r = run(&t, WSR_CHECK_LIVENESS);
    VERDICT(r, WR_UNKNOWN);

    /* Waited past the bound: not live. */
    c_connect(&u, 0, "s0", "valid");
    wait_ms(&u, 6000);
    c_closed(&u, 0, 1000, "client");
    r = run(&u, WSR_CHECK_LIVENESS);
    FAILS(r, &u, 2, 0);
    wr_history_free(t.h);
    wr_history_free(u.h);
}

/* ------------------------------------------------------------------ */
/* registry_leak                                                        */
/* ------------------------------------------------------------------ */

Test(check, registry_leak_from_trace_fails)
{
    tb_t t = tb_new();
    unsigned long long rekey, closed;

    gw_accept_auth(&t, 1);
    rekey = gw_swap(&t, 1, "leak");
    gw_ready(&t, 1, "leak");
    closed = gw_close(&t, 1, "leak", true);
    wr_check_result_t r = run(&t, WSR_CHECK_REGISTRY_LEAK);
    FAILS(r, &t, 2, rekey);
    cr_assert(eq(int, has_seq(&r, closed) ? 1 : 0, 1));
    wr_history_free(t.h);
}

Test(check, registry_leak_from_count_fails)
{
    tb_t t = tb_new();
    unsigned long long rekey, closed;

    gw_accept_auth(&t, 1);
    rekey = gw_swap(&t, 1, "leak");
    gw_ready(&t, 1, "leak");
    closed = gw_close(&t, 1, "leak", true);
    hx(&t, "\"event\":\"target.registry\",\"count\":1,\"keys\":[\"leak\"]");
    wr_check_result_t r = run(&t, WSR_CHECK_REGISTRY_LEAK);
    FAILS(r, &t, 3, rekey);
    cr_assert(eq(int, has_seq(&r, closed) ? 1 : 0, 1));
    cr_assert(eq(int, has_event(&r, "target.registry") ? 1 : 0, 1));
    cr_assert(eq(sz, r.violations, 1));

    /* Without a trace the count alone decides. */
    tb_t u = tb_new();
    hx(&u, "\"event\":\"target.registry\",\"count\":3,\"keys\":[]");
    r = run(&u, WSR_CHECK_REGISTRY_LEAK);
    FAILS(r, &u, 1, 0);
    cr_assert(eq(sz, r.violations, 3));
    wr_history_free(t.h);
    wr_history_free(u.h);
}

Test(check, registry_leak_clean_close_passes)
{
    tb_t t = tb_new();

    gw_connect(&t, 1, "k");
    gw_close(&t, 1, "k", false);
    /* A connection still open at the end is no leak. */
    gw_connect(&t, 2, "open");
    hx(&t, "\"event\":\"target.registry\",\"count\":0,\"keys\":[]");
    wr_check_result_t r = run(&t, WSR_CHECK_REGISTRY_LEAK);
    PASSES(r);
    wr_history_free(t.h);
}

Test(check, registry_leak_unknown_cases)
{
    tb_t t = tb_new(), u = tb_new();

    gw_connect(&t, 1, "k");
    gw_close(&t, 1, "k", true);
    hx(&t, "\"event\":\"target.exit\",\"code\":-1,\"sig\":6,"
           "\"stopped\":false");
    wr_check_result_t r = run(&t, WSR_CHECK_REGISTRY_LEAK);
    VERDICT(r, WR_UNKNOWN);
    cr_assert(eq(sz, r.nevidence, 0));

    c_connect(&u, 0, "s", "valid");
    r = run(&u, WSR_CHECK_REGISTRY_LEAK);
    VERDICT(r, WR_UNKNOWN);
    wr_history_free(t.h);
    wr_history_free(u.h);
}

/* ------------------------------------------------------------------ */
/* isolation                                                            */
/* ------------------------------------------------------------------ */

Test(check, isolation_foreign_reply_fails)
{
    tb_t t = tb_new();

    c_connect(&t, 0, "a", "valid");
    c_connect(&t, 1, "b", "valid");
    c_welcome(&t, 0, "a");
    c_welcome(&t, 1, "b");
    c_send(&t, 0, "mine");
    c_recv(&t, 0, "agent_completed", "mine");
    c_recv(&t, 1, "agent_completed", "mine");
    wr_check_result_t r = run(&t, WSR_CHECK_ISOLATION);
    FAILS(r, &t, 2, 0);
    cr_assert(eq(str, (char *)r.evidence[0]->event, "client.send"));
    cr_assert(eq(int, r.evidence[1]->client, 1));
    wr_history_free(t.h);
}

Test(check, isolation_welcome_with_another_session_fails)
{
    tb_t t = tb_new();

    c_connect(&t, 0, "a", "valid");
    c_welcome(&t, 0, "a");
    c_connect(&t, 1, "b", "valid");
    c_welcome(&t, 1, "a");
    wr_check_result_t r = run(&t, WSR_CHECK_ISOLATION);
    VERDICT(r, WR_FAIL);
    cr_assert(eq(sz, r.violations, 1));
    cr_assert(eq(int, has_event(&r, "client.recv") ? 1 : 0, 1));
    cr_assert(not(zero(ptr, strstr(r.summary, "client 1"))));
    wr_history_free(t.h);
}

Test(check, isolation_own_traffic_passes)
{
    tb_t t = tb_new();

    /* Two clients on one session (a duplicate, not a leak) and the same
     * correlation id sent by both. */
    c_connect(&t, 0, "twin", "valid");
    c_connect(&t, 1, "twin", "valid");
    c_welcome(&t, 0, "twin");
    c_welcome(&t, 1, "twin");
    c_send(&t, 0, "c1");
    c_send(&t, 1, "c1");
    c_recv(&t, 0, "agent_started", "c1");
    c_recv(&t, 1, "agent_completed", "c1");
    c_recv(&t, 0, "agent_completed", "c1");
    cl(&t, 0,
       "\"event\":\"client.recv\",\"type\":\"info\",\"msg_type\":"
       "\"pong\"");
    wr_check_result_t r = run(&t, WSR_CHECK_ISOLATION);
    PASSES(r);
    wr_history_free(t.h);
}

/* ------------------------------------------------------------------ */
/* no_lost_messages                                                     */
/* ------------------------------------------------------------------ */

Test(check, no_lost_unanswered_message_fails)
{
    tb_t t = tb_new();

    c_connect(&t, 0, "s", "valid");
    c_welcome(&t, 0, "s");
    c_send(&t, 0, "a");
    c_answer(&t, 0, "a");
    c_send(&t, 0, "b");
    c_closed(&t, 0, 1006, "transport");
    wr_check_result_t r = run(&t, WSR_CHECK_NO_LOST_MESSAGES);
    FAILS(r, &t, 2, 0);
    cr_assert(eq(str, (char *)r.evidence[0]->correlation_id, "b"));
    cr_assert(eq(int, r.evidence[1]->code, 1006));
    wr_history_free(t.h);
}

Test(check, no_lost_out_of_order_fails)
{
    tb_t t = tb_new();

    c_connect(&t, 0, "s", "valid");
    c_welcome(&t, 0, "s");
    c_send(&t, 0, "first");
    c_send(&t, 0, "second");
    c_answer(&t, 0, "second");
    c_answer(&t, 0, "first");
    c_closed(&t, 0, 1000, "client");
    wr_check_result_t r = run(&t, WSR_CHECK_NO_LOST_MESSAGES);
    FAILS(r, &t, 4, 0);
    cr_assert(eq(sz, r.violations, 1));
    cr_assert(not(zero(ptr, strstr(r.summary, "'first'"))));
    wr_history_free(t.h);
}

Test(check, no_lost_answers_and_rejections_pass)
{
    tb_t t = tb_new();

    c_connect(&t, 0, "s", "valid");
    c_send(&t, 0, "early"); /* queued before ready, answered after */
    c_welcome(&t, 0, "s");
    c_send(&t, 0, "full");
    cl(&t, 0,
       "\"event\":\"client.recv\",\"type\":\"info\",\"msg_type\":"
       "\"error_message\",\"error\":\"NOT_READY\",\"correlation_id\":"
       "\"full\"");
    c_answer(&t, 0, "early");
    c_send(&t, 0, "bad"); /* answered FORMAT_ERROR, without its id */
    cl(&t, 0,
       "\"event\":\"client.recv\",\"type\":\"info\",\"msg_type\":"
       "\"error_message\",\"error\":\"FORMAT_ERROR\"");
    c_send(&t, 0, "late");
    c_answer(&t, 0, "late");
    c_closed(&t, 0, 1000, "client");
    /* A refused duplicate's message is not owed a reply. */
    c_connect(&t, 1, "s", "valid");
    c_send(&t, 1, "x");
    c_closed(&t, 1, 4409, "peer");
    /* Nor is one sent by a client that hung up on purpose (chaos). */
    c_connect(&t, 2, "t", "valid");
    c_welcome(&t, 2, "t");
    c_send(&t, 2, "bye");
    cl(&t, 2, "\"event\":\"client.close\",\"type\":\"invoke\",\"why\":"
              "\"chaos\"");
    c_closed(&t, 2, 1000, "client");
    wr_check_result_t r = run(&t, WSR_CHECK_NO_LOST_MESSAGES);
    PASSES(r);
    wr_history_free(t.h);
}

Test(check, no_lost_bound_applies)
{
    tb_t t = tb_new();
    wr_check_opts_t bounded = {.ready_timeout_ns = 0,
                               .message_timeout_ns = 100 * MS};
    wr_check_result_t r;

    c_connect(&t, 0, "s", "valid");
    c_welcome(&t, 0, "s");
    c_send(&t, 0, "slow");
    wait_ms(&t, 500);
    c_answer(&t, 0, "slow");
    wr_history_sort(t.h);
    wr_check_run(WSR_CHECK_NO_LOST_MESSAGES, t.h, &bounded, &r);
    VERDICT(r, WR_FAIL);
    cr_assert(eq(sz, r.nevidence, 2));
    wr_check_run(WSR_CHECK_NO_LOST_MESSAGES, t.h, &opts, &r);
    PASSES(r);
    wr_history_free(t.h);
}

/* ------------------------------------------------------------------ */
/* Blind spots of the older checkers: each history below is one that
 * passed them all; each must now fail, while its correct twin passes.  */
/* ------------------------------------------------------------------ */

/* A gateway that answers only the first user_message of a connection:
 * the client's later expects time out, it drains, then closes. */
static void only_first_answered(tb_t *t, bool all_answered)
{
    c_connect(t, 0, "s0", "valid");
    c_welcome(t, 0, "s0");
    c_send(t, 0, "m1");
    c_send(t, 0, "m2");
    c_answer(t, 0, "m1");
    if (all_answered) {
        c_answer(t, 0, "m2");
        cl(t, 0, "\"event\":\"client.expect\",\"type\":\"ok\","
                 "\"msg_type\":\"agent_completed\"");
    } else {
        cl(t, 0, "\"event\":\"client.expect\",\"type\":\"fail\","
                 "\"msg_type\":\"agent_completed\",\"error\":\"timeout\"");
        cl(t, 0, "\"event\":\"client.step_failed\",\"type\":\"fail\","
                 "\"step\":\"expect\",\"line\":21,\"column\":9,\"error\":"
                 "\"timeout\",\"last_recv\":\"agent_completed\"");
        cl(t, 0, "\"event\":\"client.drain\",\"type\":\"fail\",\"left\":1,"
                 "\"error\":\"timeout\"");
    }
    cl(t, 0, "\"event\":\"client.close\",\"type\":\"invoke\",\"why\":"
             "\"step\",\"pending\":%d",
       all_answered ? 0 : 1);
    cl(t, 0, "\"event\":\"client.closed\",\"type\":\"info\",\"code\":1000,"
             "\"by\":\"client\"");
    cl(t, 0, "\"event\":\"client.finished\",\"type\":\"info\",\"count\":6,"
             "\"failed\":%d",
       all_answered ? 0 : 1);
}

Test(check, steps_a_failed_expect_fails_the_case)
{
    tb_t t = tb_new(), u = tb_new();
    wr_check_result_t r;

    only_first_answered(&t, false);
    r = run(&t, WSR_CHECK_STEPS);
    /* The step, and what came instead: the last message the client got. */
    FAILS(r, &t, 2, 0);
    cr_assert(eq(int, has_event(&r, "client.step_failed") ? 1 : 0, 1));
    cr_assert(not(zero(ptr, strstr(r.summary, "line 21"))), "%s", r.summary);
    cr_assert(not(zero(ptr, strstr(r.summary, "agent_completed"))));
    only_first_answered(&u, true);
    r = run(&u, WSR_CHECK_STEPS);
    PASSES(r);
    cr_assert(not(zero(ptr, strstr(r.summary, "1 clients"))), "%s", r.summary);
    wr_history_free(t.h);
    wr_history_free(u.h);
}

Test(check, steps_a_case_that_ran_out_of_time_fails_but_chaos_does_not)
{
    tb_t t = tb_new(), u = tb_new();
    wr_check_result_t r;

    c_connect(&t, 0, "s0", "valid");
    cl(&t, 0, "\"event\":\"client.abandoned\",\"type\":\"info\",\"step\":3,"
              "\"why\":\"the case ended\"");
    r = run(&t, WSR_CHECK_STEPS);
    FAILS(r, &t, 1, 0);
    c_connect(&u, 0, "s0", "valid");
    cl(&u, 0, "\"event\":\"client.abandoned\",\"type\":\"info\",\"step\":3,"
              "\"why\":\"chaos\"");
    cl(&u, 0, "\"event\":\"client.finished\",\"type\":\"info\",\"count\":5,"
              "\"failed\":0");
    r = run(&u, WSR_CHECK_STEPS);
    PASSES(r);
    wr_history_free(t.h);
    wr_history_free(u.h);
}

Test(check, no_lost_a_message_unanswered_at_a_drained_close_is_lost)
{
    tb_t t = tb_new(), u = tb_new();
    wr_check_result_t r;

    /* The older checker excused it: "the client hung up first". */
    only_first_answered(&t, false);
    r = run(&t, WSR_CHECK_NO_LOST_MESSAGES);
    /* The send, and the client's close after its drain. */
    FAILS(r, &t, 2, 0);
    cr_assert(eq(int, has_event(&r, "client.closed") ? 1 : 0, 1));
    cr_assert(not(zero(ptr, strstr(r.summary, "'m2'"))), "%s", r.summary);
    only_first_answered(&u, true);
    r = run(&u, WSR_CHECK_NO_LOST_MESSAGES);
    PASSES(r);
    cr_assert(not(zero(ptr, strstr(r.summary, "2 of 2"))), "%s", r.summary);
    wr_history_free(t.h);
    wr_history_free(u.h);
}

Test(check, no_lost_a_server_close_with_a_cause_excuses_a_normal_one_not)
{
    tb_t t = tb_new(), u = tb_new();
    wr_check_result_t r;

    c_connect(&t, 0, "s0", "valid");
    c_welcome(&t, 0, "s0");
    c_send(&t, 0, "m1");
    c_closed(&t, 0, 1013, "peer"); /* overloaded: a stated cause */
    r = run(&t, WSR_CHECK_NO_LOST_MESSAGES);
    PASSES(r);
    c_connect(&u, 0, "s0", "valid");
    c_welcome(&u, 0, "s0");
    c_send(&u, 0, "m1");
    c_closed(&u, 0, 1000, "peer"); /* a silent drop */
    r = run(&u, WSR_CHECK_NO_LOST_MESSAGES);
    FAILS(r, &u, 2, 0);
    wr_history_free(t.h);
    wr_history_free(u.h);
}

Test(check, false_readiness_judges_a_ready_answer_against_the_model)
{
    tb_t t = tb_new(), u = tb_new();
    unsigned long long dbg;
    wr_check_result_t r;

    /* "registered: true, ready: true" for a machine in SERVICES_READY:
     * the older checker took the gateway's atomic reading as proof. */
    gw_accept_auth(&t, 1);
    gw_swap(&t, 1, "k");
    dbg = gw(&t, "\"event\":\"debug.ready\",\"key\":\"k\",\"registered\":"
                 "true,\"ready\":true,\"machine\":\"PROCESSING_READY\"");
    r = run(&t, WSR_CHECK_FALSE_READINESS);
    FAILS(r, &t, 1, dbg);
    cr_assert(not(zero(ptr, strstr(r.summary, "SERVICES_READY"))), "%s",
              r.summary);
    /* The same answer once the machine is ready passes; "not ready" for
     * a ready machine does not. */
    gw_connect(&u, 1, "k");
    gw(&u, "\"event\":\"debug.ready\",\"key\":\"k\",\"registered\":true,"
           "\"ready\":true,\"machine\":\"PROCESSING_READY\"");
    r = run(&u, WSR_CHECK_FALSE_READINESS);
    PASSES(r);
    dbg = gw(&u, "\"event\":\"debug.ready\",\"key\":\"k\",\"registered\":"
                 "true,\"ready\":false,\"machine\":\"PROCESSING_READY\"");
    r = run(&u, WSR_CHECK_FALSE_READINESS);
    FAILS(r, &u, 1, dbg);
    wr_history_free(t.h);
    wr_history_free(u.h);
}

Test(check, false_readiness_processing_needs_a_gate_for_that_message)
{
    tb_t t = tb_new();
    unsigned long long proc;
    wr_check_result_t r;

    gw_connect(&t, 1, "k");
    gw_message(&t, 1, "k", "c1", "PROCESSING_READY");
    proc = gw(&t, "\"event\":\"message.process\",\"conn\":1,\"key\":\"k\","
                  "\"correlation_id\":\"c2\",\"machine\":\"IDLE\"");
    r = run(&t, WSR_CHECK_FALSE_READINESS);
    FAILS(r, &t, 2, proc);
    wr_history_free(t.h);
}

Test(check, identity_a_welcome_must_name_the_session_asked_for)
{
    tb_t t = tb_new(), u = tb_new();
    wr_check_result_t r;

    c_connect(&t, 0, "alice-1", "valid");
    c_welcome(&t, 0, "sess-7-1234abcd"); /* a generated id, not alice-1 */
    r = run(&t, WSR_CHECK_IDENTITY);
    FAILS(r, &t, 2, 0);
    c_connect(&u, 0, "alice-1", "valid");
    c_welcome(&u, 0, "alice-1");
    r = run(&u, WSR_CHECK_IDENTITY);
    PASSES(r);
    wr_history_free(t.h);
    wr_history_free(u.h);
}

Test(check, identity_welcomed_then_refused_fails)
{
    tb_t t = tb_new(), u = tb_new();
    unsigned long long failed;
    wr_check_result_t r;

    c_connect(&t, 0, "twin", "valid");
    c_welcome(&t, 0, "twin");
    c_closed(&t, 0, 4409, "peer");
    r = run(&t, WSR_CHECK_IDENTITY);
    FAILS(r, &t, 2, 0);
    /* The gateway's side of it: welcome.sent, then conn.failed. */
    gw_connect(&u, 1, "twin");
    failed = gw(&u, "\"event\":\"conn.failed\",\"conn\":1,\"key\":\"twin\","
                    "\"error\":\"DUPLICATE_SESSION\",\"close\":4409");
    r = run(&u, WSR_CHECK_IDENTITY);
    FAILS(r, &u, 2, failed);
    wr_history_free(t.h);
    wr_history_free(u.h);
}

Test(check, identity_a_welcome_must_name_the_user)
{
    tb_t t = tb_new();
    wr_check_result_t r;

    cl(&t, 0, "\"event\":\"client.connect\",\"type\":\"invoke\",\"session\":"
              "\"s0\",\"user\":\"alice\",\"token\":\"valid\"");
    cl(&t, 0, "\"event\":\"client.recv\",\"type\":\"info\",\"msg_type\":"
              "\"connection_established\",\"key\":\"s0\",\"user\":\"alice\","
              "\"user_id\":\"bob\",\"connection_ready\":true");
    r = run(&t, WSR_CHECK_IDENTITY);
    FAILS(r, &t, 2, 0);
    wr_history_free(t.h);
}

Test(check, scope_loss_another_connection_leaves_a_live_one_bare)
{
    tb_t t = tb_new(), u = tb_new();
    unsigned long long gone;
    wr_check_result_t r;

    /* The older checker looked at conn 1 only at its own events: conn 2
     * unregistering conn 1's key went unseen until conn 1 closed. */
    gw_connect(&t, 1, "k");
    gw_accept_auth(&t, 2);
    gone = gw(&t, "\"event\":\"registry.unregister\",\"conn\":2,\"key\":"
                  "\"k\",\"result\":\"removed\"");
    r = run(&t, WSR_CHECK_SCOPE_LOSS);
    FAILS(r, &t, 2, gone);
    cr_assert(not(zero(ptr, strstr(r.summary, "conn 2"))), "%s", r.summary);
    /* Its own machine leaving the ready set without a close fails too;
     * its own close path does not. */
    gw_connect(&u, 1, "k");
    gw(&u, "\"event\":\"machine.transition\",\"conn\":1,\"key\":\"k\","
           "\"from\":\"PROCESSING_READY\",\"to\":\"FAILED\",\"result\":"
           "\"ok\"");
    r = run(&u, WSR_CHECK_SCOPE_LOSS);
    FAILS(r, &u, 2, 0);
    wr_history_free(t.h);
    wr_history_free(u.h);
}

/* ------------------------------------------------------------------ */
/* Whole histories                                                      */
/* ------------------------------------------------------------------ */

Test(check, correct_run_with_clients_passes_everything)
{
    tb_t t = tb_new();

    gw(&t, "\"event\":\"gateway.start\"");
    hx(&t, "\"event\":\"target.start\"");
    c_connect(&t, 0, "alice", "valid");
    gw_connect(&t, 1, "alice");
    c_welcome(&t, 0, "alice");
    c_probe(&t, 0, "alice", true, true);
    gw(&t, "\"event\":\"debug.ready\",\"key\":\"ghost\",\"registered\":"
           "false,\"ready\":false");
    c_probe(&t, 0, "ghost", false, false);
    c_send(&t, 0, "c1");
    gw_message(&t, 1, "alice", "c1", "PROCESSING_READY");
    c_answer(&t, 0, "c1");
    c_closed(&t, 0, 1000, "client");
    cl(&t, 0, "\"event\":\"client.finished\",\"type\":\"info\",\"count\":7,"
              "\"failed\":0");
    gw_close(&t, 1, "alice", false);
    hx(&t, "\"event\":\"target.registry\",\"count\":0,\"keys\":[]");
    hx(&t, "\"event\":\"target.exit\",\"code\":0,\"sig\":0,\"stopped\":true");
    hx(&t, "\"event\":\"case.end\"");
    wr_history_sort(t.h);
    for (int c = 0; c < WSR_CHECK__COUNT; c++) {
        wr_check_result_t r;

        if (!(WSR_CHECKS_ALL & (1u << c))) /* the tool checks: test-tool.c */
            continue;
        wr_check_run((wsr_check_id_t)c, t.h, &opts, &r);
        cr_assert(eq(int, r.verdict, WR_PASS), "%s: %s: %s",
                  wsr_check_name((wsr_check_id_t)c), wr_verdict_name(r.verdict),
                  r.summary);
    }
    wr_history_free(t.h);
}

Test(check, empty_history_and_bad_id)
{
    wr_history_t *h = wr_history_new();
    wr_check_result_t r;

    wr_check_run(WSR_CHECK__COUNT, h, &opts, &r);
    cr_assert(eq(int, r.verdict, WR_UNKNOWN));
    wr_check_run(WSR_CHECK_LIVENESS, NULL, &opts, &r);
    cr_assert(eq(int, r.verdict, WR_UNKNOWN));
    /* Nothing at all: the trace checks cannot tell; the client checks
     * have nothing to object to. */
    wr_check_run(WSR_CHECK_COORDINATOR_GAP, h, NULL, &r);
    cr_assert(eq(int, r.verdict, WR_UNKNOWN));
    wr_check_run(WSR_CHECK_ISOLATION, h, NULL, &r);
    cr_assert(eq(int, r.verdict, WR_PASS));
    wr_history_free(h);
}

/* ------------------------------------------------------------------ */
/* Real gateway traces                                                  */
/* ------------------------------------------------------------------ */

#define B(c) (1u << (c))

/* A real trace of the gateway's own tests, with the fault it ran with
 * (-1: none). What must and may fail is read from the fault catalog
 * (common/wsr_fault.c), never restated here. */
typedef struct {
    const char *file;       /* under tests/data/traces, without .jsonl */
    int fault;              /* a wsr_fault_id_t, or -1 */
    unsigned long long seq; /* a seq the first FAIL's evidence holds */
} fixture_t;

static const fixture_t fixtures[] = {
    /* The correct gateway: every check passes. */
    {"full_handshake_and_one_message-0", -1, 0},
    {"bad_messages_are_answered-0", -1, 0},
    {"bad_tokens_fail_auth_1008-0", -1, 0},
    {"coordinator_gap_off_waits_for_machine-0", -1, 0},
    {"duplicate_registration_off_refuses_second_with_rendezvous-0", -1, 0},
    {"early_messages_queue_in_order_and_overflow_not_ready-0", -1, 0},
    {"early_welcome_claims_ready_before_machine-1", -1, 0},
    {"fallback_ready_reports_absent_key_ready-1", -1, 0},
    {"oversize_message_closes_1009-0", -1, 0},
    {"registry_leak_keeps_machine_after_close-1", -1, 0},
    {"scope_loss_off_swaps_cleanly-0", -1, 0},
    {"second_live_session_closes_4409-0", -1, 0},
    {"stuck_swap_never_becomes_ready-1", -1, 0},
    /* Each fault: its detecting check fails. */
    {"scope_loss_crash_kills_gateway_at_swap-0", WSR_FAULT_SCOPE_LOSS, 10},
    {"scope_loss_error_closes_1011_and_lives-0", WSR_FAULT_SCOPE_LOSS, 11},
    {"scope_loss_swallow_leaves_no_machine_under_key-0", WSR_FAULT_SCOPE_LOSS,
     12},
    {"fallback_ready_reports_absent_key_ready-0", WSR_FAULT_FALLBACK_READY, 2},
    {"coordinator_gap_processes_before_machine_ready-0",
     WSR_FAULT_COORDINATOR_GAP, 12},
    {"duplicate_registration_both_register_with_rendezvous-0",
     WSR_FAULT_DUPLICATE_REGISTRATION, 33},
    {"early_welcome_claims_ready_before_machine-0", WSR_FAULT_EARLY_WELCOME,
     13},
    {"stuck_swap_never_becomes_ready-0", WSR_FAULT_STUCK_SWAP, 15},
    {"registry_leak_keeps_machine_after_close-0", WSR_FAULT_REGISTRY_LEAK, 20},
};

static wr_history_t *fixture(const char *name)
{
    char path[512];
    wr_history_t *h = wr_history_new();
    int torn = 0;

    snprintf(path, sizeof(path), "%s/traces/%s.jsonl", WR_TEST_DATA, name);
    cr_assert(not(zero(ptr, h)));
    cr_assert(lt(long, 0L, wr_history_load_trace(h, path, &torn)), "%s", path);
    cr_assert(eq(int, torn, 0));
    wr_history_sort(h);
    return h;
}

Test(check, real_traces_match_the_fault_catalog)
{
    for (size_t f = 0; f < sizeof(fixtures) / sizeof(*fixtures); f++) {
        const fixture_t *fx = &fixtures[f];
        const wsr_fault_info_t *info =
            fx->fault < 0 ? NULL : wsr_fault_info((wsr_fault_id_t)fx->fault);
        unsigned fail = info ? info->detects : 0;
        unsigned any = info ? info->side_effects : 0;
        wr_history_t *h = fixture(fx->file);

        for (int c = 0; c < WSR_CHECK__COUNT; c++) {
            wr_check_result_t r;

            if (!(WSR_CHECKS_ALL & B(c))) /* the tool checks: test-tool.c */
                continue;
            wr_check_run((wsr_check_id_t)c, h, &opts, &r);
            if (c == WSR_CHECK_STEPS) {
                /* Gateway traces hold no client, whose steps it judges. */
                cr_assert(eq(int, r.verdict, WR_UNKNOWN), "%s", r.summary);
                continue;
            }
            if (fail & B(c)) {
                cr_assert(eq(int, r.verdict, WR_FAIL), "%s: %s: %s: %s",
                          fx->file, wsr_check_name((wsr_check_id_t)c),
                          wr_verdict_name(r.verdict), r.summary);
                cr_assert(eq(int, has_seq(&r, fx->seq) ? 1 : 0, 1),
                          "%s: seq %llu not in the evidence", fx->file,
                          fx->seq);
                cr_assert(eq(int, in_order(&r, h) ? 1 : 0, 1));
            } else if (!(any & B(c))) {
                cr_assert(eq(int, r.verdict, WR_PASS), "%s: %s: %s: %s",
                          fx->file, wsr_check_name((wsr_check_id_t)c),
                          wr_verdict_name(r.verdict), r.summary);
            }
        }
        wr_history_free(h);
    }
}

Test(check, real_duplicate_trace_evidence)
{
    wr_history_t *h =
        fixture("duplicate_registration_both_register_with_rendezvous-0");
    wr_check_result_t r;

    wr_check_run(WSR_CHECK_DUPLICATE_REGISTRATION, h, &opts, &r);
    VERDICT(r, WR_FAIL);
    /* Both rekeys of 'twin' and both welcomes, for each of 5 pairs. */
    cr_assert(eq(sz, r.nevidence, 4));
    cr_assert(eq(int, has_seq(&r, 27) ? 1 : 0, 1));
    cr_assert(eq(int, has_seq(&r, 32) ? 1 : 0, 1));
    cr_assert(eq(int, has_seq(&r, 33) ? 1 : 0, 1));
    cr_assert(eq(int, has_seq(&r, 37) ? 1 : 0, 1));
    cr_assert(eq(sz, r.violations, 5));
    cr_assert(eq(str, r.summary,
                 "key 'twin' held 2 live machines (conn 1 and conn 2) from "
                 "seq 33; both were welcomed (5 violations in all)"));
    wr_history_free(h);
}

Test(check, real_crash_trace_with_exit)
{
    wr_history_t *h = fixture("scope_loss_crash_kills_gateway_at_swap-0");
    wr_check_result_t r;

    cr_assert(eq(int,
                 wr_history_add_line(h, WR_SRC_HARNESS,
                                     "{\"event\":\"target.exit\",\"ns\":"
                                     "1499999999999,\"code\":-1,\"sig\":11,"
                                     "\"stopped\":false}"),
                 0));
    wr_history_sort(h);
    wr_check_run(WSR_CHECK_SCOPE_LOSS, h, &opts, &r);
    VERDICT(r, WR_FAIL);
    cr_assert(eq(sz, r.nevidence, 2));
    cr_assert(eq(int, has_seq(&r, 10) ? 1 : 0, 1));
    cr_assert(eq(str, (char *)r.evidence[1]->event, "target.exit"));
    cr_assert(eq(sz, r.violations, 1));
    wr_check_run(WSR_CHECK_LIVENESS, h, &opts, &r);
    VERDICT(r, WR_FAIL);
    wr_check_run(WSR_CHECK_REGISTRY_LEAK, h, &opts, &r);
    VERDICT(r, WR_UNKNOWN);
    wr_history_free(h);
}

/* ------------------------------------------------------------------ */
/* The answer's shape: the welcome first, the five events in order      */
/* ------------------------------------------------------------------ */

Test(check, identity_an_answer_before_the_welcome_fails)
{
    tb_t t = tb_new(), u = tb_new();
    wr_check_result_t r;

    /* A message sent before ready, answered before the welcome. */
    c_connect(&t, 0, "s", "valid");
    c_send(&t, 0, "early");
    c_recv(&t, 0, "agent_started", "early");
    c_welcome(&t, 0, "s");
    r = run(&t, WSR_CHECK_IDENTITY);
    FAILS(r, &t, 2, 0);
    cr_assert(not(zero(ptr, strstr(r.summary, "before its welcome"))), "%s",
              r.summary);
    /* The same answered after the welcome, and a pong before it (a ping
     * is answered at any time): both fine. */
    c_connect(&u, 0, "s", "valid");
    c_send(&u, 0, "early");
    c_recv(&u, 0, "pong", "p1");
    c_welcome(&u, 0, "s");
    c_answer(&u, 0, "early");
    r = run(&u, WSR_CHECK_IDENTITY);
    PASSES(r);
    wr_history_free(t.h);
    wr_history_free(u.h);
}

Test(check, no_lost_an_answer_out_of_the_model_order_fails)
{
    static const char *const swapped[] = {"agent_started", "tool_executing",
                                          "agent_thinking", "tool_completed",
                                          "agent_completed"};
    tb_t t = tb_new(), u = tb_new(), v = tb_new();
    wr_check_result_t r;

    c_connect(&t, 0, "s", "valid");
    c_welcome(&t, 0, "s");
    c_send(&t, 0, "m");
    for (int k = 0; k < 5; k++)
        c_recv(&t, 0, swapped[k], "m");
    c_closed(&t, 0, 1000, "client");
    r = run(&t, WSR_CHECK_NO_LOST_MESSAGES);
    VERDICT(r, WR_FAIL);
    cr_assert(not(zero(ptr, strstr(r.summary, "got tool_executing for 'm' "
                                              "after agent_started"))),
              "%s", r.summary);
    /* An event after the answer ended (one answer, completed twice). */
    c_connect(&u, 0, "s", "valid");
    c_welcome(&u, 0, "s");
    c_send(&u, 0, "m");
    c_answer(&u, 0, "m");
    c_recv(&u, 0, "agent_completed", "m");
    c_closed(&u, 0, 1000, "client");
    r = run(&u, WSR_CHECK_NO_LOST_MESSAGES);
    VERDICT(r, WR_FAIL);
    /* Two messages with one correlation id, answered one after the
     * other: in order. */
    c_connect(&v, 0, "s", "valid");
    c_welcome(&v, 0, "s");
    c_send(&v, 0, "m");
    c_send(&v, 0, "m");
    c_answer(&v, 0, "m");
    c_answer(&v, 0, "m");
    c_closed(&v, 0, 1000, "client");
    r = run(&v, WSR_CHECK_NO_LOST_MESSAGES);
    PASSES(r);
    wr_history_free(t.h);
    wr_history_free(u.h);
    wr_history_free(v.h);
}
