/* wsr_sync.h - The sync points: named places on the gateway's lifecycle
 * paths where a race window can be widened, forced or scheduled, and the
 * actions a run may give them ("registry.check:rendezvous=2").
 *
 * The gateway hits the points (target/gw_sync.h runs the actions); the
 * harness validates a scenario's `sync:` list with the same parser, and
 * --list-sync-points and `wsrace list` print the same table. Static data
 * and pure functions; any thread. */
#ifndef WSR_SYNC_H
#define WSR_SYNC_H

#include <stddef.h>

typedef enum {
    WSR_SP_ACCEPT_REGISTERED, /* pre-key registered, machine ACCEPTED */
    WSR_SP_AUTH_DONE,         /* token verified, machine AUTHENTICATED */
    WSR_SP_SERVICES_DONE,     /* services started, machine SERVICES_READY */
    WSR_SP_REGISTRY_CHECK,    /* between the live-key check and the insert */
    WSR_SP_SWAP_UNREGISTERED, /* the pre-key has let go of the machine */
    WSR_SP_COORDINATOR_READY, /* before the coordinator turns READY */
    WSR_SP_MACHINE_READY,     /* before the machine turns PROCESSING_READY */
    WSR_SP_MESSAGE_GATE,      /* before a message's readiness gate */
    WSR_SP_CLOSE_BEGIN,       /* before the close path starts */
    WSR_SP__COUNT
} wsr_sync_point_t;

typedef enum {
    WSR_SYNC_NONE,
    WSR_SYNC_DELAY,
    WSR_SYNC_JITTER,
    WSR_SYNC_RENDEZVOUS,
} wsr_sync_kind_t;

#define WSR_SYNC_MAX_MS           600000u /* longest delay, jitter, timeout */
#define WSR_SYNC_MAX_RV           1024u   /* largest rendezvous group */
#define WSR_SYNC_DEFAULT_RV_WAIT  5000u   /* rendezvous timeout by default */

/* One parsed "POINT:ACTION": plain data. */
typedef struct {
    wsr_sync_point_t point;
    wsr_sync_kind_t kind;
    unsigned a_ms;          /* delay, or jitter minimum */
    unsigned b_ms;          /* jitter maximum */
    unsigned rv_n;          /* rendezvous group size */
    unsigned rv_timeout_ms; /* longest wait for a group to fill */
} wsr_sync_spec_t;

/* Name of a point ("registry.check"); NULL when out of range. */
const char *wsr_sync_point_name(wsr_sync_point_t p);

/* One sentence saying where the point is; NULL when out of range. */
const char *wsr_sync_point_summary(wsr_sync_point_t p);

/* The point called name (len bytes), or -1. */
int wsr_sync_point_from_name(const char *name, size_t len);

/* "none", "delay", "jitter", "rendezvous". */
const char *wsr_sync_kind_name(wsr_sync_kind_t k);

/* Parses "POINT:ACTION", e.g. "registry.check:rendezvous=2,timeout=500".
 * Returns 0, or -EINVAL with a message naming what was wrong in err (*out
 * is then unchanged). */
int wsr_sync_parse(const char *spec, wsr_sync_spec_t *out, char *err,
                   size_t errlen);

/* Writes spec back as "point:action" (parses to the same spec). Returns
 * the length, or -ENOSPC when buf is too small. */
int wsr_sync_format(const wsr_sync_spec_t *spec, char *buf, size_t len);

#endif
