/* gw_sync.h - Named sync points: race windows that can be widened or forced.
 *
 * Each point on the gateway's lifecycle paths calls gw_sync_hit(). A point
 * with no action returns at once; `delay=MS` sleeps, `jitter=MIN..MAX`
 * sleeps a duration drawn from the run's seed, `rendezvous=N[,timeout=MS]`
 * holds arrivals until N have arrived and then releases them together.
 * Actions are set before the gateway serves and are read-only afterwards.
 * gw_sync_hit() is only ever called on worker threads, never on the lws
 * service thread, so a held point cannot stall the event loop. */
#ifndef GW_SYNC_H
#define GW_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "gw_trace.h"

typedef enum {
    GW_SP_ACCEPT_REGISTERED, /* pre-key registered, machine ACCEPTED */
    GW_SP_AUTH_DONE,         /* token verified, machine AUTHENTICATED */
    GW_SP_SERVICES_DONE,     /* services started, machine SERVICES_READY */
    GW_SP_REGISTRY_CHECK,    /* between the live-key check and the insert */
    GW_SP_SWAP_UNREGISTERED, /* the pre-key has let go of the machine */
    GW_SP_COORDINATOR_READY, /* before the coordinator turns READY */
    GW_SP_MACHINE_READY,     /* before the machine turns PROCESSING_READY */
    GW_SP_MESSAGE_GATE,      /* before a message's readiness gate */
    GW_SP_CLOSE_BEGIN,       /* before the close path starts */
    GW_SP__COUNT
} gw_sync_point_t;

typedef enum {
    GW_SYNC_NONE,
    GW_SYNC_DELAY,
    GW_SYNC_JITTER,
    GW_SYNC_RENDEZVOUS,
} gw_sync_kind_t;

typedef struct gw_sync gw_sync_t;

/* One parsed "POINT:ACTION": plain data, so a run's race windows can be
 * checked, stored and generated without a live table. */
typedef struct {
    gw_sync_point_t point;
    gw_sync_kind_t kind;
    unsigned a_ms;          /* delay, or jitter minimum */
    unsigned b_ms;          /* jitter maximum */
    unsigned rv_n;          /* rendezvous group size */
    unsigned rv_timeout_ms; /* longest wait for a group to fill */
} gw_sync_spec_t;

/* A table with no actions. seed drives every jitter draw. trace may be NULL.
 * Returns NULL on allocation failure. */
gw_sync_t *gw_sync_new(uint64_t seed, gw_trace_t *trace);

/* Releases every waiter (see gw_sync_shutdown) and frees s. */
void gw_sync_free(gw_sync_t *s);

/* Name of a point ("registry.check"); NULL when out of range. */
const char *gw_sync_point_name(gw_sync_point_t p);

/* One sentence saying where the point is. */
const char *gw_sync_point_summary(gw_sync_point_t p);

/* Parses "POINT:ACTION", e.g. "registry.check:rendezvous=2,timeout=500".
 * Returns 0, or -EINVAL with a message naming what was wrong in err (*out
 * is then unchanged). Pure; any thread. */
int gw_sync_parse(const char *spec, gw_sync_spec_t *out, char *err,
                  size_t errlen);

/* Sets the action of spec's point; a later call for the same point
 * replaces it. Only before any thread hits s. */
void gw_sync_apply(gw_sync_t *s, const gw_sync_spec_t *spec);

/* gw_sync_parse, then gw_sync_apply on success. */
int gw_sync_set(gw_sync_t *s, const char *spec, char *err, size_t errlen);

/* The action kind of p, and the largest rendezvous N over all points (0 when
 * there is none): a rendezvous needs that many free workers. */
gw_sync_kind_t gw_sync_kind(const gw_sync_t *s, gw_sync_point_t p);
unsigned gw_sync_max_rendezvous(const gw_sync_t *s);

/* Writes the configured actions as "point:action" specs joined by spaces. */
char *gw_sync_format(const gw_sync_t *s, char *buf, size_t len);

/* Applies p's action for the connection (conn, key); blocks as the action
 * says. Emits sync.* trace events for points that have an action. */
void gw_sync_hit(gw_sync_t *s, gw_sync_point_t p, uint64_t conn,
                 const char *key);

/* Wakes every waiter and makes later hits return at once; used at
 * shutdown so no worker stays parked. */
void gw_sync_shutdown(gw_sync_t *s);

#endif
