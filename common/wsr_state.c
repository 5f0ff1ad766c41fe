/* wsr_state.c - The transition table of the connection state machine and
 * the coordinator's phase order. Static data; any thread. */
#include "wsr_state.h"

#include <string.h>

static const char *const names[WSR_ST__COUNT] = {
    [WSR_ST_CONNECTING] = "CONNECTING",
    [WSR_ST_ACCEPTED] = "ACCEPTED",
    [WSR_ST_AUTHENTICATED] = "AUTHENTICATED",
    [WSR_ST_SERVICES_READY] = "SERVICES_READY",
    [WSR_ST_PROCESSING_READY] = "PROCESSING_READY",
    [WSR_ST_PROCESSING] = "PROCESSING",
    [WSR_ST_IDLE] = "IDLE",
    [WSR_ST_DEGRADED] = "DEGRADED",
    [WSR_ST_RECONNECTING] = "RECONNECTING",
    [WSR_ST_CLOSING] = "CLOSING",
    [WSR_ST_CLOSED] = "CLOSED",
    [WSR_ST_FAILED] = "FAILED",
};

#define B(s) (1u << (WSR_ST_##s))

/* allowed[from] is the set of states `from` may move to. */
static const unsigned allowed[WSR_ST__COUNT] = {
    [WSR_ST_CONNECTING] = B(ACCEPTED) | B(FAILED) | B(CLOSED),
    [WSR_ST_ACCEPTED] = B(AUTHENTICATED) | B(FAILED) | B(CLOSED),
    [WSR_ST_AUTHENTICATED] =
        B(SERVICES_READY) | B(DEGRADED) | B(FAILED) | B(CLOSED),
    [WSR_ST_SERVICES_READY] =
        B(PROCESSING_READY) | B(DEGRADED) | B(FAILED) | B(CLOSED),
    [WSR_ST_PROCESSING_READY] = B(PROCESSING) | B(IDLE) | B(DEGRADED) |
                                B(CLOSING) | B(FAILED) | B(CLOSED),
    [WSR_ST_PROCESSING] = B(IDLE) | B(PROCESSING_READY) | B(DEGRADED) |
                          B(CLOSING) | B(FAILED) | B(CLOSED),
    [WSR_ST_IDLE] = B(PROCESSING) | B(PROCESSING_READY) | B(DEGRADED) |
                    B(CLOSING) | B(FAILED) | B(CLOSED),
    [WSR_ST_DEGRADED] = B(PROCESSING_READY) | B(PROCESSING) | B(IDLE) |
                        B(RECONNECTING) | B(CLOSING) | B(FAILED) | B(CLOSED),
    [WSR_ST_RECONNECTING] = B(SERVICES_READY) | B(PROCESSING_READY) |
                            B(DEGRADED) | B(FAILED) | B(CLOSED),
    [WSR_ST_CLOSING] = B(CLOSED),
    [WSR_ST_CLOSED] = 0,
    [WSR_ST_FAILED] = B(CONNECTING),
};

const char *wsr_state_name(wsr_state_t s)
{
    if (s == WSR_ST_NONE)
        return "absent";
    return (unsigned)s < WSR_ST__COUNT ? names[s] : "?";
}

wsr_state_t wsr_state_from_name(const char *name)
{
    for (int i = 0; name != NULL && i < WSR_ST__COUNT; i++)
        if (strcmp(names[i], name) == 0)
            return (wsr_state_t)i;
    return WSR_ST_NONE;
}

bool wsr_state_allowed(wsr_state_t from, wsr_state_t to)
{
    if ((unsigned)from >= WSR_ST__COUNT || (unsigned)to >= WSR_ST__COUNT)
        return false;
    return (allowed[from] & (1u << to)) != 0;
}

bool wsr_state_is_ready(wsr_state_t s)
{
    return s == WSR_ST_PROCESSING_READY || s == WSR_ST_PROCESSING ||
           s == WSR_ST_IDLE || s == WSR_ST_DEGRADED;
}

bool wsr_state_is_terminal(wsr_state_t s)
{
    return s == WSR_ST_CLOSED || s == WSR_ST_FAILED;
}

static const char *const phase_names[WSR_CO__COUNT] = {
    "INITIALIZING", "HANDSHAKE_PENDING", "CONNECTED",
    "READY_FOR_MESSAGES", "ERROR", "CLOSED",
};

const char *wsr_coord_phase_name(wsr_coord_phase_t p)
{
    return (unsigned)p < WSR_CO__COUNT ? phase_names[p] : "?";
}

int wsr_coord_phase_from_name(const char *name)
{
    for (int i = 0; name != NULL && i < WSR_CO__COUNT; i++)
        if (strcmp(phase_names[i], name) == 0)
            return i;
    return -1;
}

const char *const wsr_agent_events[WSR_AGENT_EVENTS] = {
    "agent_started",  "agent_thinking",  "tool_executing",
    "tool_completed", "agent_completed",
};

int wsr_agent_event_index(const char *type)
{
    for (int i = 0; type != NULL && i < WSR_AGENT_EVENTS; i++)
        if (strcmp(wsr_agent_events[i], type) == 0)
            return i;
    return -1;
}

bool wsr_coord_allowed(wsr_coord_phase_t from, wsr_coord_phase_t to)
{
    if ((unsigned)from >= WSR_CO__COUNT || (unsigned)to >= WSR_CO__COUNT)
        return false;
    if (from == WSR_CO_CLOSED || from == to)
        return false;
    if (to == WSR_CO_ERROR || to == WSR_CO_CLOSED)
        return true;
    return from < WSR_CO_READY && to == from + 1;
}
