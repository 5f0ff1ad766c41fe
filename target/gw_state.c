/* gw_state.c - Transition table and rules of the connection state machine.
 *
 * Pure functions over a gw_machine_t value; no locks, no threads. The table
 * is DESIGN.md section 2.1 row by row. */
#include "gw_state.h"

#include <errno.h>
#include <string.h>

static const char *const names[GW_ST__COUNT] = {
    [GW_ST_CONNECTING] = "CONNECTING",
    [GW_ST_ACCEPTED] = "ACCEPTED",
    [GW_ST_AUTHENTICATED] = "AUTHENTICATED",
    [GW_ST_SERVICES_READY] = "SERVICES_READY",
    [GW_ST_PROCESSING_READY] = "PROCESSING_READY",
    [GW_ST_PROCESSING] = "PROCESSING",
    [GW_ST_IDLE] = "IDLE",
    [GW_ST_DEGRADED] = "DEGRADED",
    [GW_ST_RECONNECTING] = "RECONNECTING",
    [GW_ST_CLOSING] = "CLOSING",
    [GW_ST_CLOSED] = "CLOSED",
    [GW_ST_FAILED] = "FAILED",
};

#define B(s) (1u << (s))

/* allowed[from] is the set of states `from` may move to. */
static const unsigned allowed[GW_ST__COUNT] = {
    [GW_ST_CONNECTING] = B(GW_ST_ACCEPTED) | B(GW_ST_FAILED) | B(GW_ST_CLOSED),
    [GW_ST_ACCEPTED] =
        B(GW_ST_AUTHENTICATED) | B(GW_ST_FAILED) | B(GW_ST_CLOSED),
    [GW_ST_AUTHENTICATED] = B(GW_ST_SERVICES_READY) | B(GW_ST_DEGRADED) |
                            B(GW_ST_FAILED) | B(GW_ST_CLOSED),
    [GW_ST_SERVICES_READY] = B(GW_ST_PROCESSING_READY) | B(GW_ST_DEGRADED) |
                             B(GW_ST_FAILED) | B(GW_ST_CLOSED),
    [GW_ST_PROCESSING_READY] = B(GW_ST_PROCESSING) | B(GW_ST_IDLE) |
                               B(GW_ST_DEGRADED) | B(GW_ST_CLOSING) |
                               B(GW_ST_FAILED) | B(GW_ST_CLOSED),
    [GW_ST_PROCESSING] = B(GW_ST_IDLE) | B(GW_ST_PROCESSING_READY) |
                         B(GW_ST_DEGRADED) | B(GW_ST_CLOSING) |
                         B(GW_ST_FAILED) | B(GW_ST_CLOSED),
    [GW_ST_IDLE] = B(GW_ST_PROCESSING) | B(GW_ST_PROCESSING_READY) |
                   B(GW_ST_DEGRADED) | B(GW_ST_CLOSING) | B(GW_ST_FAILED) |
                   B(GW_ST_CLOSED),
    [GW_ST_DEGRADED] = B(GW_ST_PROCESSING_READY) | B(GW_ST_PROCESSING) |
                       B(GW_ST_IDLE) | B(GW_ST_RECONNECTING) |
                       B(GW_ST_CLOSING) | B(GW_ST_FAILED) | B(GW_ST_CLOSED),
    [GW_ST_RECONNECTING] = B(GW_ST_SERVICES_READY) | B(GW_ST_PROCESSING_READY) |
                           B(GW_ST_DEGRADED) | B(GW_ST_FAILED) |
                           B(GW_ST_CLOSED),
    [GW_ST_CLOSING] = B(GW_ST_CLOSED),
    [GW_ST_CLOSED] = 0,
    [GW_ST_FAILED] = B(GW_ST_CONNECTING),
};

const char *gw_state_name(gw_state_t s)
{
    if ((unsigned)s >= GW_ST__COUNT)
        return "?";
    return names[s];
}

int gw_state_parse(const char *name, gw_state_t *out)
{
    for (int i = 0; i < GW_ST__COUNT; i++) {
        if (strcmp(names[i], name) == 0) {
            *out = (gw_state_t)i;
            return 0;
        }
    }
    return -EINVAL;
}

bool gw_state_allowed(gw_state_t from, gw_state_t to)
{
    if ((unsigned)from >= GW_ST__COUNT || (unsigned)to >= GW_ST__COUNT)
        return false;
    return (allowed[from] & B(to)) != 0;
}

bool gw_state_is_ready(gw_state_t s)
{
    return s == GW_ST_PROCESSING_READY || s == GW_ST_PROCESSING ||
           s == GW_ST_IDLE || s == GW_ST_DEGRADED;
}

bool gw_state_is_terminal(gw_state_t s)
{
    return s == GW_ST_CLOSED || s == GW_ST_FAILED;
}

void gw_machine_init(gw_machine_t *m)
{
    memset(m, 0, sizeof(*m));
    m->state = GW_ST_CONNECTING;
}

int gw_machine_transition(gw_machine_t *m, gw_state_t to)
{
    if (gw_state_allowed(m->state, to)) {
        m->state = to;
        m->invalid_run = 0;
        m->transitions++;
        return 0;
    }
    m->invalid_total++;
    if (++m->invalid_run >= GW_MACHINE_MAX_INVALID &&
        m->state != GW_ST_FAILED) {
        /* Too many refusals in a row: the machine is no longer trusted. */
        m->state = GW_ST_FAILED;
        m->invalid_run = 0;
        return -ELOOP;
    }
    return -EINVAL;
}
