/* gw_sync.h - Named sync points: race windows that can be widened or forced.
 *
 * Each point on the gateway's lifecycle paths (common/wsr_sync.h names
 * them) calls gw_sync_hit(). A point
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

#include "gw_sync_control.h"
#include "gw_trace.h"
#include "wsr_sync.h"

typedef struct gw_sync gw_sync_t;

/* A table with no actions. seed drives every jitter draw. trace may be NULL.
 * Returns NULL on allocation failure. */
gw_sync_t *gw_sync_new(uint64_t seed, gw_trace_t *trace);

/* Releases every waiter (see gw_sync_shutdown) and frees s. */
void gw_sync_free(gw_sync_t *s);

/* Sets the action of spec's point; a later call for the same point
 * replaces it. Only before any thread hits s. */
void gw_sync_apply(gw_sync_t *s, const wsr_sync_spec_t *spec);

/* wsr_sync_parse, then gw_sync_apply on success. */
int gw_sync_set(gw_sync_t *s, const char *spec, char *err, size_t errlen);

/* The action kind of p, and the largest rendezvous N over all points (0 when
 * there is none): a rendezvous needs that many free workers. */
wsr_sync_kind_t gw_sync_kind(const gw_sync_t *s, wsr_sync_point_t p);
unsigned gw_sync_max_rendezvous(const gw_sync_t *s);

/* Writes the configured actions as "point:action" specs joined by spaces. */
char *gw_sync_format(const gw_sync_t *s, char *buf, size_t len);

/* Applies p's action for the connection (conn, key); blocks as the action
 * says. Emits sync.* trace events for points that have an action. */
void gw_sync_hit(gw_sync_t *s, wsr_sync_point_t p, uint64_t conn,
                 const char *key);

/* Puts every point under the runner's control through c (taken; closed
 * by gw_sync_free): each hit, after its own action, is reported and waits
 * for the runner's release. Only before any thread hits s. */
void gw_sync_attach_control(gw_sync_t *s, gw_sync_control_t *c);

/* Notes the session conn's client asked for, for the runner (no-op
 * without control). */
void gw_sync_note_session(gw_sync_t *s, uint64_t conn, const char *session);

/* Wakes every waiter and makes later hits return at once; used at
 * shutdown so no worker stays parked. */
void gw_sync_shutdown(gw_sync_t *s);

#endif
