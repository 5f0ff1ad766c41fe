/* gw_trace.h - The lifecycle trace: one JSON object per event per line.
 *
 * Each event is formatted in full and copied into the file through a shared
 * mapping (a pipe or device: written with one write(2)), so the file is
 * complete up to the last event before a crash. Until gw_trace_close(),
 * and after a crash, zero bytes follow the last event: readers stop at the
 * first NUL. Every thread may emit; seq numbers are the file order. */
#ifndef GW_TRACE_H
#define GW_TRACE_H

#include <jansson.h>
#include <stdint.h>

typedef struct gw_trace gw_trace_t;

/* Opens (creates or truncates) path for the trace. Returns NULL with errno
 * set when the file cannot be opened. */
gw_trace_t *gw_trace_open(const char *path);

/* Closes the file and frees t. NULL is accepted. */
void gw_trace_close(gw_trace_t *t);

/* From now on every event of t carries "instance": id (a gateway of a
 * cluster, docs/DESIGN.md "Cluster mode"); a negative id: no such member,
 * as a lone gateway writes. Call before any other thread emits. */
void gw_trace_set_instance(gw_trace_t *t, int id);

/* Names the calling thread in the events it emits ("svc", "w3"). The name
 * must outlive the thread. */
void gw_trace_set_thread_name(const char *name);

/* The calling thread's name, as its events say ("main" by default). */
const char *gw_trace_thread_name(void);

/* Monotonic clock in nanoseconds, the time base of every event. */
uint64_t gw_now_ns(void);

/* Emits one event. conn is the connection id (0: none), key the registry key
 * (NULL: none). fields is stolen (NULL: no fields); its members are added to
 * the event object. t may be NULL, in which case fields is only released.
 * Returns the event's seq, or 0 when nothing was written. */
uint64_t gw_trace_emit(gw_trace_t *t, uint64_t conn, const char *key,
                       const char *event, json_t *fields);

/* gw_trace_emit with fields built by json_pack(fmt, ...). The format is not
 * evaluated when t is NULL. */
uint64_t gw_trace_emitf(gw_trace_t *t, uint64_t conn, const char *key,
                        const char *event, const char *fmt, ...);

/* Events written so far. */
uint64_t gw_trace_count(gw_trace_t *t);

#endif
