/* gw_state.h - The connection state machine of the reference gateway: a
 * state that moves by the lifecycle model's table (common/wsr_state.h)
 * and counts the moves it refuses.
 *
 * A machine is a plain value: it holds no lock. Callers that share one
 * between threads guard it with the lock of its owner (the registry). */
#ifndef GW_STATE_H
#define GW_STATE_H

#include <stdbool.h>

#include "wsr_state.h"

/* After this many consecutive refused transitions a machine is forced to
 * FAILED. */
#define GW_MACHINE_MAX_INVALID 5

typedef struct {
    wsr_state_t state;      /* current state */
    unsigned invalid_run;   /* consecutive refused transitions */
    unsigned invalid_total; /* refused transitions over the lifetime */
    unsigned transitions;   /* accepted transitions over the lifetime */
} gw_machine_t;

/* A new machine in CONNECTING. */
void gw_machine_init(gw_machine_t *m);

/* Moves m to `to` when the table allows it and returns 0. Otherwise the
 * move is refused and counted and -EINVAL is returned; the refusal that
 * makes GW_MACHINE_MAX_INVALID in a row forces m to FAILED and returns
 * -ELOOP instead. */
int gw_machine_transition(gw_machine_t *m, wsr_state_t to);

#endif
