/* wsr_state.h - The lifecycle model: the connection state machine's
 * states and transition table, the ready set, and the handshake
 * coordinator's phases.
 *
 * The gateway moves its machines and coordinators by these rules; the
 * harness replays the trace into a model with the same table, so a
 * transition the table forbids is judged the same way on both sides
 * (docs/DESIGN.md, "The lifecycle model"). Static data and pure
 * functions; any thread. */
#ifndef WSR_STATE_H
#define WSR_STATE_H

#include <stdbool.h>

typedef enum {
    WSR_ST_NONE = -1, /* no machine: absent, or a state nobody named */
    WSR_ST_CONNECTING,
    WSR_ST_ACCEPTED,
    WSR_ST_AUTHENTICATED,
    WSR_ST_SERVICES_READY,
    WSR_ST_PROCESSING_READY,
    WSR_ST_PROCESSING,
    WSR_ST_IDLE,
    WSR_ST_DEGRADED,
    WSR_ST_RECONNECTING,
    WSR_ST_CLOSING,
    WSR_ST_CLOSED,
    WSR_ST_FAILED,
    WSR_ST__COUNT
} wsr_state_t;

/* Upper-case name ("PROCESSING_READY"); "absent" for WSR_ST_NONE, "?"
 * for anything else out of range. */
const char *wsr_state_name(wsr_state_t s);

/* The state called name (upper case, exact); WSR_ST_NONE for NULL or an
 * unknown name. */
wsr_state_t wsr_state_from_name(const char *name);

/* Whether the table allows from -> to. Self-transitions never are. */
bool wsr_state_allowed(wsr_state_t from, wsr_state_t to);

/* The ready set: PROCESSING_READY, PROCESSING, IDLE, DEGRADED. */
bool wsr_state_is_ready(wsr_state_t s);

/* CLOSED or FAILED. */
bool wsr_state_is_terminal(wsr_state_t s);

/* Coordinator phases: INITIALIZING -> HANDSHAKE_PENDING -> CONNECTED ->
 * READY_FOR_MESSAGES in order, and from any phase but CLOSED to ERROR or
 * CLOSED. */
typedef enum {
    WSR_CO_INITIALIZING,
    WSR_CO_HANDSHAKE_PENDING,
    WSR_CO_CONNECTED,
    WSR_CO_READY, /* READY_FOR_MESSAGES */
    WSR_CO_ERROR,
    WSR_CO_CLOSED,
    WSR_CO__COUNT
} wsr_coord_phase_t;

/* "READY_FOR_MESSAGES" etc.; "?" when out of range. */
const char *wsr_coord_phase_name(wsr_coord_phase_t p);

/* The phase called name, or -1. */
int wsr_coord_phase_from_name(const char *name);

/* Whether a coordinator may move from -> to. */
bool wsr_coord_allowed(wsr_coord_phase_t from, wsr_coord_phase_t to);

/* The answer to one user_message: these five events, in this order, on
 * its connection, after its welcome (the gateway sends them; the
 * harness's checks hold it to them). */
#define WSR_AGENT_EVENTS 5
extern const char *const wsr_agent_events[WSR_AGENT_EVENTS];

/* Its index in wsr_agent_events, or -1. */
int wsr_agent_event_index(const char *type);

#endif
