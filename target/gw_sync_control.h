/* gw_sync_control.h - The gateway's side of the sync-control protocol
 * (docs/sync-control.md): every arrival at a sync point is reported to
 * the runner, and the worker waits for the runner's release.
 *
 * One connection per process, opened at start-up; a reader thread hands
 * releases to the waiting workers. Waits are bounded (GW_SYNC_CONTROL_WAIT
 * _MS): a worker whose release does not come says so and goes on. When
 * the runner goes away every waiter is released and the gateway runs on
 * uncontrolled. Only worker threads wait, never the event loop. */
#ifndef GW_SYNC_CONTROL_H
#define GW_SYNC_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include "gw_trace.h"
#include "wsr_sync.h"

#define GW_SYNC_CONTROL_WAIT_MS 10000 /* longest wait for one release */

typedef struct gw_sync_control gw_sync_control_t;

/* Connects to the runner listening at path, exchanges hellos (workers:
 * how many arrivals can wait at once) and starts the reader. Returns NULL
 * with the reason in err when the socket cannot be reached or the runner
 * does not speak this protocol. trace may be NULL. */
gw_sync_control_t *gw_sync_control_open(const char *path, unsigned workers,
                                        gw_trace_t *trace, char *err,
                                        size_t errlen);

/* Releases every waiter, closes the connection, joins the reader and
 * frees c. NULL is accepted. */
void gw_sync_control_close(gw_sync_control_t *c);

/* Releases every waiter and makes later waits return at once (shutdown).
 * Any thread. */
void gw_sync_control_stop(gw_sync_control_t *c);

/* Notes the session the client of conn asked for ("" or NULL: none, and
 * forgets conn), reported with its arrivals so a replay can find them
 * again. Any thread. */
void gw_sync_control_session(gw_sync_control_t *c, uint64_t conn,
                             const char *session);

/* Reports an arrival of conn (0: none) at p under key (may be NULL) and
 * waits for its release, at most GW_SYNC_CONTROL_WAIT_MS. Worker threads
 * only. */
void gw_sync_control_wait(gw_sync_control_t *c, wsr_sync_point_t p,
                          uint64_t conn, const char *key);

#endif
