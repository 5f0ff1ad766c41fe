/* gw_coord.h - The handshake coordinator: the handshake's own view of a
 * connection's progress, separate from the state machine.
 *
 * Phases move as common/wsr_state.h orders them (INITIALIZING ->
 * HANDSHAKE_PENDING -> CONNECTED -> READY_FOR_MESSAGES, and from any phase
 * but CLOSED to ERROR or CLOSED).
 * The phase is atomic and a coordinator is reference counted: the
 * connection and its registry entry may each hold one reference. */
#ifndef GW_COORD_H
#define GW_COORD_H

#include <stdatomic.h>

#include "wsr_state.h"

typedef struct {
    _Atomic int phase;     /* a wsr_coord_phase_t */
    _Atomic unsigned refs; /* holders; freed at zero */
} gw_coord_t;

/* A coordinator in INITIALIZING with one reference; NULL when out of
 * memory. */
gw_coord_t *gw_coord_new(void);
gw_coord_t *gw_coord_ref(gw_coord_t *c);
void gw_coord_unref(gw_coord_t *c); /* NULL is accepted */

wsr_coord_phase_t gw_coord_phase(const gw_coord_t *c);

/* Moves c to `to` when the phase order allows it (atomically, so two
 * threads cannot both make the same move) and returns 0; -EINVAL when it
 * does not, leaving c unchanged. */
int gw_coord_advance(gw_coord_t *c, wsr_coord_phase_t to);

#endif
