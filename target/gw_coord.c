/* gw_coord.c - Handshake coordinator phases.
 *
 * Lock-free: the phase changes by compare-and-swap; any thread may call. */
#include "gw_coord.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "gw_annotate.h"

static const char *const names[GW_CO__COUNT] = {
    "INITIALIZING", "HANDSHAKE_PENDING",
    "CONNECTED",    "READY_FOR_MESSAGES",
    "ERROR",        "CLOSED",
};

gw_coord_t *gw_coord_new(void)
{
    gw_coord_t *c = malloc(sizeof(*c));

    if (!c)
        return NULL;
    atomic_init(&c->phase, GW_CO_INITIALIZING);
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

gw_coord_phase_t gw_coord_phase(const gw_coord_t *c)
{
    return (gw_coord_phase_t)atomic_load(&c->phase);
}

const char *gw_coord_phase_name(gw_coord_phase_t p)
{
    return (unsigned)p < GW_CO__COUNT ? names[p] : "?";
}

static bool allowed(int from, int to)
{
    if (from == GW_CO_CLOSED || from == to)
        return false;
    if (to == GW_CO_ERROR || to == GW_CO_CLOSED)
        return true;
    return from < GW_CO_READY && to == from + 1;
}

int gw_coord_advance(gw_coord_t *c, gw_coord_phase_t to)
{
    int from = atomic_load(&c->phase);

    do {
        if ((unsigned)to >= GW_CO__COUNT || !allowed(from, (int)to))
            return -EINVAL;
    } while (!atomic_compare_exchange_weak(&c->phase, &from, (int)to));
    return 0;
}
