/* gw_state.c - A machine moving by the lifecycle model's table.
 *
 * Pure functions over a gw_machine_t value; no locks, no threads. The
 * table is common/wsr_state.c. */
#include "gw_state.h"

#include <errno.h>
#include <string.h>

void gw_machine_init(gw_machine_t *m)
{
    memset(m, 0, sizeof(*m));
    m->state = WSR_ST_CONNECTING;
}

int gw_machine_transition(gw_machine_t *m, wsr_state_t to)
{
    if (wsr_state_allowed(m->state, to)) {
        m->state = to;
        m->invalid_run = 0;
        m->transitions++;
        return 0;
    }
    m->invalid_total++;
    if (++m->invalid_run >= GW_MACHINE_MAX_INVALID &&
        m->state != WSR_ST_FAILED) {
        /* Too many refusals in a row: the machine is no longer trusted. */
        m->state = WSR_ST_FAILED;
        m->invalid_run = 0;
        return -ELOOP;
    }
    return -EINVAL;
}
