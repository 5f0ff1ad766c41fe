/* gw_state.h - The connection state machine of the reference gateway.
 *
 * A machine is a plain value: it holds no lock. Callers that share one
 * between threads guard it with the lock of its owner (the registry). */
#ifndef GW_STATE_H
#define GW_STATE_H

#include <stdbool.h>

typedef enum {
    GW_ST_CONNECTING,
    GW_ST_ACCEPTED,
    GW_ST_AUTHENTICATED,
    GW_ST_SERVICES_READY,
    GW_ST_PROCESSING_READY,
    GW_ST_PROCESSING,
    GW_ST_IDLE,
    GW_ST_DEGRADED,
    GW_ST_RECONNECTING,
    GW_ST_CLOSING,
    GW_ST_CLOSED,
    GW_ST_FAILED,
    GW_ST__COUNT
} gw_state_t;

/* After this many consecutive refused transitions a machine is forced to
 * FAILED. */
#define GW_MACHINE_MAX_INVALID 5

typedef struct {
    gw_state_t state;       /* current state */
    unsigned invalid_run;   /* consecutive refused transitions */
    unsigned invalid_total; /* refused transitions over the lifetime */
    unsigned transitions;   /* accepted transitions over the lifetime */
} gw_machine_t;

/* Upper-case name of a state ("PROCESSING_READY"); "?" when out of range. */
const char *gw_state_name(gw_state_t s);

/* Parses an upper-case state name. Returns 0 and sets *out, or -EINVAL. */
int gw_state_parse(const char *name, gw_state_t *out);

/* Whether the design's table allows from -> to. Self-transitions never are. */
bool gw_state_allowed(gw_state_t from, gw_state_t to);

/* PROCESSING_READY, PROCESSING, IDLE or DEGRADED. */
bool gw_state_is_ready(gw_state_t s);

/* CLOSED or FAILED. */
bool gw_state_is_terminal(gw_state_t s);

/* A new machine in CONNECTING. */
void gw_machine_init(gw_machine_t *m);

/* Moves m to `to` when the table allows it and returns 0. Otherwise the
 * move is refused and counted and -EINVAL is returned; the refusal that
 * makes GW_MACHINE_MAX_INVALID in a row forces m to FAILED and returns
 * -ELOOP instead. */
int gw_machine_transition(gw_machine_t *m, gw_state_t to);

#endif
