/* gw_registry.c - The registry's public calls, dispatched to its backend.
 *
 * A gw_registry_t is an operations table and the backend behind it
 * (gw_registry_int.h): the in-process table (gw_registry_mem.c) unless the
 * gateway runs in a cluster (gw_registry_redis.c). This file holds no
 * state and takes no lock; the backend's contract is gw_registry.h's.
 * Threads: any, as the backend allows (both are thread-safe). */
#include "gw_registry_int.h"

#include <stdlib.h>

struct gw_registry {
    const gw_registry_ops_t *ops;
    void *self;
};

gw_registry_t *gw_registry_wrap(const gw_registry_ops_t *ops, void *self)
{
    gw_registry_t *r = calloc(1, sizeof(*r));

    if (!r) {
        ops->free(self);
        return NULL;
    }
    r->ops = ops;
    r->self = self;
    return r;
}

void gw_registry_free(gw_registry_t *r)
{
    if (!r)
        return;
    r->ops->free(r->self);
    free(r);
}

const char *gw_registry_backend(const gw_registry_t *r)
{
    return r->ops->name;
}

int gw_registry_register(gw_registry_t *r, const char *key, const char *user,
                         gw_coord_t *coord, uint64_t conn)
{
    return r->ops->reg(r->self, key, user, coord, conn);
}

int gw_registry_unregister(gw_registry_t *r, const char *key, uint64_t conn)
{
    return r->ops->unreg(r->self, key, conn);
}

int gw_registry_rekey(gw_registry_t *r, const char *old_key,
                      const char *new_key, uint64_t conn)
{
    return r->ops->rekey(r->self, old_key, new_key, conn);
}

int gw_registry_set_user(gw_registry_t *r, const char *key, const char *user,
                         uint64_t conn)
{
    return r->ops->set_user(r->self, key, user, conn);
}

int gw_registry_transition(gw_registry_t *r, const char *key, wsr_state_t to,
                           uint64_t conn)
{
    return r->ops->transition(r->self, key, to, conn);
}

int gw_registry_state(gw_registry_t *r, const char *key, uint64_t conn,
                      wsr_state_t *out)
{
    return r->ops->state(r->self, key, conn, out);
}

bool gw_registry_is_ready(gw_registry_t *r, const char *key, uint64_t conn)
{
    return r->ops->is_ready(r->self, key, conn);
}

int gw_registry_mark_ready(gw_registry_t *r, const char *key, gw_coord_t *coord,
                           uint64_t conn)
{
    return r->ops->mark_ready(r->self, key, coord, conn);
}

bool gw_registry_ready_for_messages(gw_registry_t *r, const char *key,
                                    const gw_coord_t *coord, uint64_t conn,
                                    const char *correlation_id)
{
    return r->ops->ready_for_messages(r->self, key, coord, conn,
                                      correlation_id);
}

bool gw_registry_answer_ready(gw_registry_t *r, const char *key,
                              bool *registered)
{
    return r->ops->answer_ready(r->self, key, registered);
}

void gw_registry_note_phase(gw_registry_t *r, const char *key,
                            wsr_coord_phase_t phase, uint64_t conn)
{
    if (r->ops->note_phase)
        r->ops->note_phase(r->self, key, phase, conn);
}

size_t gw_registry_count(gw_registry_t *r)
{
    return r->ops->count(r->self);
}

unsigned gw_registry_count_key(gw_registry_t *r, const char *key)
{
    return r->ops->count_key(r->self, key);
}

void gw_registry_foreach(gw_registry_t *r,
                         void (*cb)(const gw_registry_view_t *v, void *arg),
                         void *arg)
{
    r->ops->foreach (r->self, cb, arg);
}
