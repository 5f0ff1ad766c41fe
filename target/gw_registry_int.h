/* gw_registry_int.h - The registry's backends behind gw_registry.h: the
 * operations table each one fills, and their constructors' common shape.
 *
 * gw_registry.c dispatches every public call to r->ops with r->self; a
 * backend keeps the contracts gw_registry.h states (results, tracing, the
 * sync points it hits) and its own locking. Two backends exist: the
 * in-process hash table (gw_registry_mem.c, the default) and the shared
 * Redis registry of a cluster (gw_registry_redis.c). Private to the
 * registry's files. */
#ifndef GW_REGISTRY_INT_H
#define GW_REGISTRY_INT_H

#include "gw_registry.h"

typedef struct {
    const char *name; /* "memory" | "redis" */
    int (*reg)(void *self, const char *key, const char *user, gw_coord_t *coord,
               uint64_t conn);
    int (*unreg)(void *self, const char *key, uint64_t conn);
    int (*rekey)(void *self, const char *old_key, const char *new_key,
                 uint64_t conn);
    int (*set_user)(void *self, const char *key, const char *user,
                    uint64_t conn);
    int (*transition)(void *self, const char *key, wsr_state_t to,
                      uint64_t conn);
    int (*state)(void *self, const char *key, uint64_t conn, wsr_state_t *out);
    bool (*is_ready)(void *self, const char *key, uint64_t conn);
    int (*mark_ready)(void *self, const char *key, gw_coord_t *coord,
                      uint64_t conn);
    bool (*answer_ready)(void *self, const char *key, bool *registered);
    bool (*ready_for_messages)(void *self, const char *key,
                               const gw_coord_t *coord, uint64_t conn,
                               const char *correlation_id);
    /* Records the coordinator phase of key's machine for the views; NULL
     * when the backend reads it from the linked coordinator itself. */
    void (*note_phase)(void *self, const char *key, wsr_coord_phase_t phase,
                       uint64_t conn);
    size_t (*count)(void *self);
    unsigned (*count_key)(void *self, const char *key);
    void (*foreach)(void *self,
                    void (*cb)(const gw_registry_view_t *v, void *arg),
                    void *arg);
    void (*free)(void *self);
} gw_registry_ops_t;

/* A registry dispatching to ops with self (taken: freed with it). NULL
 * when out of memory, self then freed through ops->free. */
gw_registry_t *gw_registry_wrap(const gw_registry_ops_t *ops, void *self);

#endif
