/* test-coord.c - The handshake coordinator (gw_coord.c).
 *
 * Checks the phase order INITIALIZING -> HANDSHAKE_PENDING -> CONNECTED ->
 * READY_FOR_MESSAGES with no skipping and no going back, ERROR and CLOSED
 * from any phase but CLOSED, and that of 8 threads racing to make the same
 * move exactly one wins. The expected rule is written out here from
 * docs/DESIGN.md ("The handshake coordinator") rather than taken from the source.
 *
 * Criterion 2.4.1 in C gets gt() wrong (it tests >=) and any() wrong:
 * this file writes a > b as lt(b, a) and alternatives with plain ||.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include "gw_coord.h"

/* docs/DESIGN.md: the forward chain one step at a time, and ERROR or
 * CLOSED from anything that is not CLOSED; never a phase to itself. */
static bool design_allows(int from, int to)
{
    static const int next[WSR_CO__COUNT] = {
        [WSR_CO_INITIALIZING] = WSR_CO_HANDSHAKE_PENDING,
        [WSR_CO_HANDSHAKE_PENDING] = WSR_CO_CONNECTED,
        [WSR_CO_CONNECTED] = WSR_CO_READY,
        [WSR_CO_READY] = -1,
        [WSR_CO_ERROR] = -1,
        [WSR_CO_CLOSED] = -1,
    };

    if (from == to || from == WSR_CO_CLOSED)
        return false;
    if (to == WSR_CO_ERROR || to == WSR_CO_CLOSED)
        return true;
    return next[from] == to;
}

/* A new coordinator brought to phase p through allowed moves only. */
static gw_coord_t *coord_in(wsr_coord_phase_t p)
{
    gw_coord_t *c = gw_coord_new();

    cr_assert(not(zero(ptr, c)));
    if (p == WSR_CO_ERROR || p == WSR_CO_CLOSED) {
        cr_assert(eq(int, gw_coord_advance(c, p), 0));
        return c;
    }
    for (int ph = WSR_CO_HANDSHAKE_PENDING; ph <= (int)p; ph++)
        cr_assert(eq(int, gw_coord_advance(c, (wsr_coord_phase_t)ph), 0));
    cr_assert(eq(int, gw_coord_phase(c), p));
    return c;
}

Test(coord, starts_initializing, .timeout = 10)
{
    gw_coord_t *c = gw_coord_new();

    cr_assert(not(zero(ptr, c)));
    cr_assert(eq(int, gw_coord_phase(c), WSR_CO_INITIALIZING));
    gw_coord_unref(c);
}

Test(coord, phases_advance_in_order, .timeout = 10)
{
    gw_coord_t *c = gw_coord_new();

    cr_assert(eq(int, gw_coord_advance(c, WSR_CO_HANDSHAKE_PENDING), 0));
    cr_assert(eq(int, gw_coord_phase(c), WSR_CO_HANDSHAKE_PENDING));
    cr_assert(eq(int, gw_coord_advance(c, WSR_CO_CONNECTED), 0));
    cr_assert(eq(int, gw_coord_phase(c), WSR_CO_CONNECTED));
    cr_assert(eq(int, gw_coord_advance(c, WSR_CO_READY), 0));
    cr_assert(eq(int, gw_coord_phase(c), WSR_CO_READY));
    cr_assert(eq(int, gw_coord_advance(c, WSR_CO_CLOSED), 0));
    cr_assert(eq(int, gw_coord_phase(c), WSR_CO_CLOSED));
    gw_coord_unref(c);
}

Test(coord, no_skipping_and_no_going_back, .timeout = 10)
{
    gw_coord_t *c = gw_coord_new();

    cr_assert(eq(int, gw_coord_advance(c, WSR_CO_CONNECTED), -EINVAL));
    cr_assert(eq(int, gw_coord_advance(c, WSR_CO_READY), -EINVAL));
    cr_assert(eq(int, gw_coord_phase(c), WSR_CO_INITIALIZING));
    cr_assert(eq(int, gw_coord_advance(c, WSR_CO_HANDSHAKE_PENDING), 0));
    cr_assert(eq(int, gw_coord_advance(c, WSR_CO_READY), -EINVAL));
    cr_assert(eq(int, gw_coord_advance(c, WSR_CO_INITIALIZING), -EINVAL));
    cr_assert(eq(int, gw_coord_phase(c), WSR_CO_HANDSHAKE_PENDING));
    gw_coord_unref(c);
}

Test(coord, every_pair_follows_the_design, .timeout = 10)
{
    int allowed = 0;

    for (int f = 0; f < WSR_CO__COUNT; f++) {
        for (int t = 0; t < WSR_CO__COUNT; t++) {
            gw_coord_t *c = coord_in((wsr_coord_phase_t)f);
            int rc = gw_coord_advance(c, (wsr_coord_phase_t)t);

            if (design_allows(f, t)) {
                cr_assert(eq(int, rc, 0), "%s -> %s",
                          wsr_coord_phase_name((wsr_coord_phase_t)f),
                          wsr_coord_phase_name((wsr_coord_phase_t)t));
                cr_assert(eq(int, gw_coord_phase(c), t));
                allowed++;
            } else {
                cr_assert(eq(int, rc, -EINVAL), "%s -> %s",
                          wsr_coord_phase_name((wsr_coord_phase_t)f),
                          wsr_coord_phase_name((wsr_coord_phase_t)t));
                cr_assert(eq(int, gw_coord_phase(c), f), "refusal moved it");
            }
            gw_coord_unref(c);
        }
    }
    /* 3 forward steps, 5 phases to ERROR but ERROR itself (4), 5 to
     * CLOSED: 12 in all. */
    cr_assert(eq(int, allowed, 3 + 4 + 5));
}

Test(coord, error_and_closed_reachable_from_any_phase_but_closed, .timeout = 10)
{
    for (int f = WSR_CO_INITIALIZING; f <= WSR_CO_READY; f++) {
        gw_coord_t *a = coord_in((wsr_coord_phase_t)f);
        gw_coord_t *b = coord_in((wsr_coord_phase_t)f);

        cr_assert(eq(int, gw_coord_advance(a, WSR_CO_ERROR), 0));
        cr_assert(eq(int, gw_coord_advance(a, WSR_CO_CLOSED), 0));
        cr_assert(eq(int, gw_coord_advance(b, WSR_CO_CLOSED), 0));
        gw_coord_unref(a);
        gw_coord_unref(b);
    }
}

Test(coord, closed_is_final, .timeout = 10)
{
    gw_coord_t *c = coord_in(WSR_CO_CLOSED);

    for (int t = 0; t < WSR_CO__COUNT; t++)
        cr_assert(eq(int, gw_coord_advance(c, (wsr_coord_phase_t)t), -EINVAL),
                  "CLOSED -> %s", wsr_coord_phase_name((wsr_coord_phase_t)t));
    cr_assert(eq(int, gw_coord_phase(c), WSR_CO_CLOSED));
    gw_coord_unref(c);
}

Test(coord, out_of_range_phase_is_refused, .timeout = 10)
{
    gw_coord_t *c = gw_coord_new();

    cr_assert(eq(int, gw_coord_advance(c, WSR_CO__COUNT), -EINVAL));
    cr_assert(eq(int, gw_coord_advance(c, (wsr_coord_phase_t)-1), -EINVAL));
    cr_assert(eq(int, gw_coord_phase(c), WSR_CO_INITIALIZING));
    gw_coord_unref(c);
}

Test(coord, phase_names, .timeout = 10)
{
    static const char *const want[WSR_CO__COUNT] = {
        "INITIALIZING", "HANDSHAKE_PENDING",
        "CONNECTED",    "READY_FOR_MESSAGES",
        "ERROR",        "CLOSED",
    };

    for (int p = 0; p < WSR_CO__COUNT; p++)
        cr_assert(eq(str, (char *)wsr_coord_phase_name((wsr_coord_phase_t)p),
                     (char *)want[p]));
    cr_assert(eq(str, (char *)wsr_coord_phase_name(WSR_CO__COUNT), "?"));
}

Test(coord, references_keep_it_alive, .timeout = 10)
{
    gw_coord_t *c = gw_coord_new();

    cr_assert(eq(ptr, gw_coord_ref(c), c));
    cr_assert(eq(uint, atomic_load(&c->refs), 2));
    gw_coord_unref(c);
    cr_assert(eq(uint, atomic_load(&c->refs), 1));
    /* Still usable with one holder left. */
    cr_assert(eq(int, gw_coord_advance(c, WSR_CO_ERROR), 0));
    gw_coord_unref(c);
    gw_coord_unref(NULL); /* accepted */
}

/* ------------------------------------------------------------------ */
/* Concurrent advance                                                   */
/* ------------------------------------------------------------------ */

#define RACERS 8

typedef struct {
    gw_coord_t *c;
    wsr_coord_phase_t to;
    pthread_barrier_t *start;
    int rc; /* written by the racer, read after join */
} racer_t;

static void *race_advance(void *arg)
{
    racer_t *r = arg;

    pthread_barrier_wait(r->start);
    r->rc = gw_coord_advance(r->c, r->to);
    return NULL;
}

/* Runs RACERS threads that all try c -> to at once; returns the winners. */
static int race_once(gw_coord_t *c, wsr_coord_phase_t to)
{
    pthread_barrier_t start;
    pthread_t th[RACERS];
    racer_t r[RACERS];
    int wins = 0;

    pthread_barrier_init(&start, NULL, RACERS);
    for (int i = 0; i < RACERS; i++) {
        r[i] = (racer_t){.c = c, .to = to, .start = &start, .rc = 1};
        cr_assert(
            eq(int, pthread_create(&th[i], NULL, race_advance, &r[i]), 0));
    }
    for (int i = 0; i < RACERS; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < RACERS; i++) {
        cr_assert(r[i].rc == 0 || r[i].rc == -EINVAL, "racer %d returned %d", i,
                  r[i].rc);
        wins += r[i].rc == 0;
    }
    return wins;
}

Test(coord, concurrent_advance_to_same_phase_has_one_winner, .timeout = 10)
{
    /* Under valgrind (scripts/tool-wrap sets WSRACE_TEST_TOOL) threads are
     * created a hundred times slower and run one at a time: the tool is
     * the detector there, and a few rounds give it the interleavings. */
    int rounds = getenv("WSRACE_TEST_TOOL") ? 3 : 100;

    for (int round = 0; round < rounds; round++) {
        gw_coord_t *c = gw_coord_new();

        cr_assert(eq(int, race_once(c, WSR_CO_HANDSHAKE_PENDING), 1),
                  "round %d: HANDSHAKE_PENDING", round);
        cr_assert(eq(int, race_once(c, WSR_CO_CONNECTED), 1),
                  "round %d: CONNECTED", round);
        cr_assert(eq(int, race_once(c, WSR_CO_READY), 1), "round %d: READY",
                  round);
        cr_assert(eq(int, race_once(c, WSR_CO_CLOSED), 1), "round %d: CLOSED",
                  round);
        cr_assert(eq(int, gw_coord_phase(c), WSR_CO_CLOSED));
        gw_coord_unref(c);
    }
}
