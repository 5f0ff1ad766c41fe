/* gw_coord.c - Handshake coordinator phases.
 *
 * Lock-free: the phase changes by compare-and-swap; any thread may call. */
#include "gw_coord.h"

#include <errno.h>
#include <stdlib.h>

#include "gw_annotate.h"

gw_coord_t *gw_coord_new(void)
{
    gw_coord_t *c = malloc(sizeof(*c));

    if (!c)
        return NULL;
    atomic_init(&c->phase, WSR_CO_INITIALIZING);
    atomic_init(&c->refs, 1);
    return c;
}

gw_coord_t *gw_coord_ref(gw_coord_t *c)
{
    atomic_fetch_add(&c->refs, 1);
    return c;
}

void gw_coord_unref(gw_coord_t *c)
{
    if (!c)
        return;
    GW_REF_RELEASE(&c->refs);
    if (atomic_fetch_sub(&c->refs, 1) == 1) {
        GW_REF_ACQUIRE(&c->refs); /* every holder is done with c */
        free(c);
    }
}

wsr_coord_phase_t gw_coord_phase(const gw_coord_t *c)
{
    return (wsr_coord_phase_t)atomic_load(&c->phase);
}

int gw_coord_advance(gw_coord_t *c, wsr_coord_phase_t to)
{
    int from = atomic_load(&c->phase);

    do {
        if ((unsigned)to >= WSR_CO__COUNT || !wsr_coord_allowed((wsr_coord_phase_t)from, to))
            return -EINVAL;
    } while (!atomic_compare_exchange_weak(&c->phase, &from, (int)to));
    return 0;
}
