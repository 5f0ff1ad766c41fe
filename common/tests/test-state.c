/* test-state.c - The lifecycle model's names and sets (wsr_state.c): state
 * names as docs/DESIGN.md spells them, parsing, the ready and terminal
 * sets, and the coordinator's phase order, each written out again here so
 * that a slip in the source shows up. The transition table itself is
 * tested through the gateway's machine (target/tests/test-state.c). */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdbool.h>

#include "wsr_state.h"

#define N WSR_ST__COUNT

static const char *const design_names[N] = {
    "CONNECTING",       "ACCEPTED",   "AUTHENTICATED", "SERVICES_READY",
    "PROCESSING_READY", "PROCESSING", "IDLE",          "DEGRADED",
    "RECONNECTING",     "CLOSING",    "CLOSED",        "FAILED",
};

Test(state, names_match_the_design_and_parse_back, .timeout = 10)
{
    for (int s = 0; s < N; s++) {
        cr_assert(eq(str, (char *)wsr_state_name((wsr_state_t)s),
                     (char *)design_names[s]));
        cr_assert(eq(int, wsr_state_from_name(design_names[s]), s));
    }
    cr_assert(eq(str, (char *)wsr_state_name(WSR_ST_NONE), "absent"));
    cr_assert(eq(str, (char *)wsr_state_name(WSR_ST__COUNT), "?"));
    cr_assert(eq(str, (char *)wsr_state_name((wsr_state_t)-2), "?"));
}

Test(state, parse_refuses_unknown_and_lower_case_names, .timeout = 10)
{
    static const char *const bad[] = {"processing_ready", "BOGUS", "",
                                      "CLOSED ", "absent"};

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert(eq(int, wsr_state_from_name(bad[i]), WSR_ST_NONE), "'%s'",
                  bad[i]);
    cr_assert(eq(int, wsr_state_from_name(NULL), WSR_ST_NONE));
}

Test(state, ready_and_terminal_sets_are_the_designs, .timeout = 10)
{
    for (int s = WSR_ST_NONE; s < N; s++) {
        bool ready = s == WSR_ST_PROCESSING_READY || s == WSR_ST_PROCESSING ||
                     s == WSR_ST_IDLE || s == WSR_ST_DEGRADED;
        bool terminal = s == WSR_ST_CLOSED || s == WSR_ST_FAILED;

        cr_assert(eq(int, wsr_state_is_ready((wsr_state_t)s), ready), "%d",
                  s);
        cr_assert(eq(int, wsr_state_is_terminal((wsr_state_t)s), terminal),
                  "%d", s);
    }
    cr_assert(not(wsr_state_allowed(WSR_ST_NONE, WSR_ST_ACCEPTED)));
    cr_assert(not(wsr_state_allowed(WSR_ST_CONNECTING, WSR_ST_NONE)));
}

Test(state, coordinator_phases_follow_the_design, .timeout = 10)
{
    static const char *const names[WSR_CO__COUNT] = {
        "INITIALIZING", "HANDSHAKE_PENDING", "CONNECTED",
        "READY_FOR_MESSAGES", "ERROR", "CLOSED"};

    for (int f = 0; f < WSR_CO__COUNT; f++) {
        cr_assert(eq(str, (char *)wsr_coord_phase_name((wsr_coord_phase_t)f),
                     (char *)names[f]));
        cr_assert(eq(int, wsr_coord_phase_from_name(names[f]), f));
        for (int t = 0; t < WSR_CO__COUNT; t++) {
            bool want = f != WSR_CO_CLOSED && f != t &&
                        (t == WSR_CO_ERROR || t == WSR_CO_CLOSED ||
                         (f < WSR_CO_READY && t == f + 1));

            cr_assert(eq(int,
                         wsr_coord_allowed((wsr_coord_phase_t)f,
                                           (wsr_coord_phase_t)t),
                         want),
                      "%s -> %s", names[f], names[t]);
        }
    }
    cr_assert(eq(int, wsr_coord_phase_from_name("READY"), -1));
    cr_assert(eq(str, (char *)wsr_coord_phase_name(WSR_CO__COUNT), "?"));
}
