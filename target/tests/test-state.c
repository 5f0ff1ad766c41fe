/* test-state.c - The connection state machine (gw_state.c) moving by the
 * lifecycle model's table (common/wsr_state.c).
 *
 * Checks the transition table against docs/DESIGN.md ("The connection state machine"), written out
 * again here on purpose: the source's table is never read, so a typo in
 * either shows up as a failure. Also the ready and terminal sets, the
 * forced FAILED after GW_MACHINE_MAX_INVALID refusals in a row (the
 * names are common/tests/test-state.c's). Single-threaded: a machine is a plain value.
 *
 * Criterion 2.4.1 in C gets gt() wrong (it tests >=) and any() wrong:
 * this file writes a > b as lt(b, a) and alternatives with plain ||.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "gw_state.h"

#define N WSR_ST__COUNT

/* docs/DESIGN.md, row by row: expected[from][to] is true when allowed. */
static bool expected[N][N];

static void allow(wsr_state_t from, const wsr_state_t *to, size_t n)
{
    for (size_t i = 0; i < n; i++)
        expected[from][to[i]] = true;
}

#define ALLOW(from, ...)                                                       \
    do {                                                                       \
        const wsr_state_t to_[] = {__VA_ARGS__};                                \
        allow(from, to_, sizeof(to_) / sizeof(to_[0]));                        \
    } while (0)

static void build_expected(void)
{
    memset(expected, 0, sizeof(expected));
    ALLOW(WSR_ST_CONNECTING, WSR_ST_ACCEPTED, WSR_ST_FAILED, WSR_ST_CLOSED);
    ALLOW(WSR_ST_ACCEPTED, WSR_ST_AUTHENTICATED, WSR_ST_FAILED, WSR_ST_CLOSED);
    ALLOW(WSR_ST_AUTHENTICATED, WSR_ST_SERVICES_READY, WSR_ST_DEGRADED,
          WSR_ST_FAILED, WSR_ST_CLOSED);
    ALLOW(WSR_ST_SERVICES_READY, WSR_ST_PROCESSING_READY, WSR_ST_DEGRADED,
          WSR_ST_FAILED, WSR_ST_CLOSED);
    ALLOW(WSR_ST_PROCESSING_READY, WSR_ST_PROCESSING, WSR_ST_IDLE, WSR_ST_DEGRADED,
          WSR_ST_CLOSING, WSR_ST_FAILED, WSR_ST_CLOSED);
    ALLOW(WSR_ST_PROCESSING, WSR_ST_IDLE, WSR_ST_PROCESSING_READY, WSR_ST_DEGRADED,
          WSR_ST_CLOSING, WSR_ST_FAILED, WSR_ST_CLOSED);
    ALLOW(WSR_ST_IDLE, WSR_ST_PROCESSING, WSR_ST_PROCESSING_READY, WSR_ST_DEGRADED,
          WSR_ST_CLOSING, WSR_ST_FAILED, WSR_ST_CLOSED);
    ALLOW(WSR_ST_DEGRADED, WSR_ST_PROCESSING_READY, WSR_ST_PROCESSING, WSR_ST_IDLE,
          WSR_ST_RECONNECTING, WSR_ST_CLOSING, WSR_ST_FAILED, WSR_ST_CLOSED);
    ALLOW(WSR_ST_RECONNECTING, WSR_ST_SERVICES_READY, WSR_ST_PROCESSING_READY,
          WSR_ST_DEGRADED, WSR_ST_FAILED, WSR_ST_CLOSED);
    ALLOW(WSR_ST_CLOSING, WSR_ST_CLOSED);
    /* CLOSED allows nothing. */
    ALLOW(WSR_ST_FAILED, WSR_ST_CONNECTING);
}

/* The design's names, in enum order, typed out independently. */
static const char *const design_names[N] = {
    "CONNECTING",       "ACCEPTED",   "AUTHENTICATED", "SERVICES_READY",
    "PROCESSING_READY", "PROCESSING", "IDLE",          "DEGRADED",
    "RECONNECTING",     "CLOSING",    "CLOSED",        "FAILED",
};

/* A machine that sits in `s`, as if it had got there on its own. */
static gw_machine_t machine_in(wsr_state_t s)
{
    gw_machine_t m;

    gw_machine_init(&m);
    m.state = s;
    return m;
}

Test(state, expected_table_has_design_row_sizes, .timeout = 10)
{
    /* Guards the test's own table against a slip when it was typed. */
    static const int row_size[N] = {3, 3, 4, 4, 6, 6, 6, 7, 5, 1, 0, 1};
    int total = 0;

    build_expected();
    for (int f = 0; f < N; f++) {
        int n = 0;
        for (int t = 0; t < N; t++)
            n += expected[f][t];
        cr_assert(eq(int, n, row_size[f]), "row %s", design_names[f]);
        cr_assert(not(expected[f][f]), "self-transition in row %s",
                  design_names[f]);
        total += n;
    }
    cr_assert(eq(int, total, 46));
}

Test(state, init_starts_in_connecting_with_zero_counters, .timeout = 10)
{
    gw_machine_t m;

    memset(&m, 0xa5, sizeof(m));
    gw_machine_init(&m);
    cr_assert(eq(int, m.state, WSR_ST_CONNECTING));
    cr_assert(eq(uint, m.invalid_run, 0));
    cr_assert(eq(uint, m.invalid_total, 0));
    cr_assert(eq(uint, m.transitions, 0));
}

Test(state, every_allowed_transition_succeeds, .timeout = 10)
{
    int checked = 0;

    build_expected();
    for (int f = 0; f < N; f++) {
        for (int t = 0; t < N; t++) {
            gw_machine_t m;

            if (!expected[f][t])
                continue;
            m = machine_in((wsr_state_t)f);
            m.invalid_run = 3; /* an accepted move must reset the run */
            cr_assert(wsr_state_allowed((wsr_state_t)f, (wsr_state_t)t),
                      "%s -> %s", design_names[f], design_names[t]);
            cr_assert(eq(int, gw_machine_transition(&m, (wsr_state_t)t), 0),
                      "%s -> %s", design_names[f], design_names[t]);
            cr_assert(eq(int, m.state, t), "%s -> %s", design_names[f],
                      design_names[t]);
            cr_assert(eq(uint, m.transitions, 1));
            cr_assert(eq(uint, m.invalid_run, 0));
            cr_assert(eq(uint, m.invalid_total, 0));
            checked++;
        }
    }
    cr_assert(eq(int, checked, 46));
}

Test(state, every_disallowed_pair_is_refused_with_einval, .timeout = 10)
{
    int checked = 0;

    build_expected();
    for (int f = 0; f < N; f++) {
        for (int t = 0; t < N; t++) {
            gw_machine_t m;

            if (expected[f][t])
                continue;
            m = machine_in((wsr_state_t)f);
            cr_assert(not(wsr_state_allowed((wsr_state_t)f, (wsr_state_t)t)),
                      "%s -> %s", design_names[f], design_names[t]);
            cr_assert(
                eq(int, gw_machine_transition(&m, (wsr_state_t)t), -EINVAL),
                "%s -> %s", design_names[f], design_names[t]);
            cr_assert(eq(int, m.state, f), "refusal moved %s -> %s",
                      design_names[f], design_names[t]);
            cr_assert(eq(uint, m.transitions, 0));
            cr_assert(eq(uint, m.invalid_run, 1));
            cr_assert(eq(uint, m.invalid_total, 1));
            checked++;
        }
    }
    /* 144 pairs, 46 allowed; the 12 self-transitions are among these. */
    cr_assert(eq(int, checked, N *N - 46));
}

Test(state, self_transitions_are_refused, .timeout = 10)
{
    for (int s = 0; s < N; s++) {
        gw_machine_t m = machine_in((wsr_state_t)s);

        cr_assert(not(wsr_state_allowed((wsr_state_t)s, (wsr_state_t)s)));
        cr_assert(eq(int, gw_machine_transition(&m, (wsr_state_t)s), -EINVAL),
                  "%s -> itself", design_names[s]);
        cr_assert(eq(int, m.state, s));
    }
}

Test(state, out_of_range_states_are_never_allowed, .timeout = 10)
{
    gw_machine_t m = machine_in(WSR_ST_CONNECTING);

    cr_assert(not(wsr_state_allowed(WSR_ST_CONNECTING, WSR_ST__COUNT)));
    cr_assert(not(wsr_state_allowed(WSR_ST__COUNT, WSR_ST_CONNECTING)));
    cr_assert(not(wsr_state_allowed((wsr_state_t)-1, WSR_ST_FAILED)));
    cr_assert(eq(int, gw_machine_transition(&m, WSR_ST__COUNT), -EINVAL));
    cr_assert(eq(int, m.state, WSR_ST_CONNECTING));
}

Test(state, full_lifecycle_walk_counts_transitions, .timeout = 10)
{
    static const wsr_state_t path[] = {
        WSR_ST_ACCEPTED,         WSR_ST_AUTHENTICATED, WSR_ST_SERVICES_READY,
        WSR_ST_PROCESSING_READY, WSR_ST_PROCESSING,    WSR_ST_IDLE,
        WSR_ST_DEGRADED,         WSR_ST_RECONNECTING,  WSR_ST_SERVICES_READY,
        WSR_ST_PROCESSING_READY, WSR_ST_CLOSING,       WSR_ST_CLOSED,
    };
    gw_machine_t m;

    gw_machine_init(&m);
    for (size_t i = 0; i < sizeof(path) / sizeof(path[0]); i++) {
        cr_assert(eq(int, gw_machine_transition(&m, path[i]), 0), "step %zu",
                  i);
        cr_assert(eq(int, m.state, path[i]));
    }
    cr_assert(eq(uint, m.transitions, 12));
    /* CLOSED is final: nothing leaves it, not even to FAILED. */
    cr_assert(eq(int, gw_machine_transition(&m, WSR_ST_FAILED), -EINVAL));
    cr_assert(eq(int, m.state, WSR_ST_CLOSED));
}

Test(state, ready_set_is_the_designs, .timeout = 10)
{
    for (int s = 0; s < N; s++) {
        bool want = s == WSR_ST_PROCESSING_READY || s == WSR_ST_PROCESSING ||
                    s == WSR_ST_IDLE || s == WSR_ST_DEGRADED;

        cr_assert(eq(int, wsr_state_is_ready((wsr_state_t)s), want), "%s",
                  design_names[s]);
    }
}

Test(state, terminal_set_is_closed_and_failed, .timeout = 10)
{
    for (int s = 0; s < N; s++) {
        bool want = s == WSR_ST_CLOSED || s == WSR_ST_FAILED;

        cr_assert(eq(int, wsr_state_is_terminal((wsr_state_t)s), want), "%s",
                  design_names[s]);
    }
}

Test(state, fifth_consecutive_refusal_forces_failed, .timeout = 10)
{
    gw_machine_t m;

    gw_machine_init(&m);
    for (int i = 1; i < GW_MACHINE_MAX_INVALID; i++) {
        cr_assert(eq(int, gw_machine_transition(&m, WSR_ST_PROCESSING), -EINVAL),
                  "refusal %d", i);
        cr_assert(eq(int, m.state, WSR_ST_CONNECTING));
        cr_assert(eq(uint, m.invalid_run, (unsigned)i));
    }
    cr_assert(eq(int, GW_MACHINE_MAX_INVALID, 5));
    cr_assert(eq(int, gw_machine_transition(&m, WSR_ST_PROCESSING), -ELOOP));
    cr_assert(eq(int, m.state, WSR_ST_FAILED));
    cr_assert(eq(uint, m.invalid_total, 5));
    cr_assert(eq(uint, m.invalid_run, 0));
    /* FAILED -> CONNECTING is the way back. */
    cr_assert(eq(int, gw_machine_transition(&m, WSR_ST_CONNECTING), 0));
}

Test(state, valid_transition_resets_the_refusal_run, .timeout = 10)
{
    gw_machine_t m;

    gw_machine_init(&m);
    for (int i = 0; i < GW_MACHINE_MAX_INVALID - 1; i++)
        cr_assert(eq(int, gw_machine_transition(&m, WSR_ST_IDLE), -EINVAL));
    cr_assert(eq(int, gw_machine_transition(&m, WSR_ST_ACCEPTED), 0));
    cr_assert(eq(uint, m.invalid_run, 0));
    /* Four more refusals: with the reset they are not yet five in a row. */
    for (int i = 0; i < GW_MACHINE_MAX_INVALID - 1; i++)
        cr_assert(eq(int, gw_machine_transition(&m, WSR_ST_IDLE), -EINVAL),
                  "refusal %d after the reset", i + 1);
    cr_assert(eq(int, m.state, WSR_ST_ACCEPTED));
    cr_assert(eq(uint, m.invalid_total, 8));
    cr_assert(eq(int, gw_machine_transition(&m, WSR_ST_IDLE), -ELOOP));
    cr_assert(eq(int, m.state, WSR_ST_FAILED));
    cr_assert(eq(uint, m.transitions, 1));
}

Test(state, refusals_in_failed_keep_it_failed, .timeout = 10)
{
    gw_machine_t m = machine_in(WSR_ST_FAILED);

    for (int i = 0; i < 3 * GW_MACHINE_MAX_INVALID; i++) {
        int rc = gw_machine_transition(&m, WSR_ST_CLOSED);

        cr_assert(rc == -EINVAL || rc == -ELOOP, "rc %d", rc);
        cr_assert(eq(int, m.state, WSR_ST_FAILED));
    }
    cr_assert(eq(uint, m.transitions, 0));
}
