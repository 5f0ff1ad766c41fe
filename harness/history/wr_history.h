/* wr_history.h - One case's history: what the clients did and saw, what the
 * gateway traced, and what the harness observed of the target, merged on
 * the shared monotonic clock.
 *
 * Events are kept in a compact form (docs/DESIGN.md, "The history"):
 * every string interned once, each event a few bytes of member values
 * after the id of its shape (its member names and value types, shared by
 * every event of the same kind). The engine records into a history of
 * its own per thread while the case runs (wr_history_begin() ...
 * wr_history_end()) and the runner takes those in; a gateway trace and
 * other JSON lines are parsed into the same form. The checkers read a
 * flat view of each event (wr_event_t: the fields they judge, strings
 * interned); an event's JSON line - for history.jsonl and for evidence -
 * is rebuilt from the compact form on demand (wr_event_line()), the same
 * text every time. The sources and their events: history/wr_event.h.
 *
 * Not thread-safe: one thread builds a history and sorts it (the view is
 * built then), then checkers read it, on any number of threads. */
#ifndef WR_HISTORY_H
#define WR_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "history/wr_event.h"

struct json_t;

typedef struct wr_history wr_history_t;

/* Returns an empty history, or NULL when out of memory. */
wr_history_t *wr_history_new(void);
void wr_history_free(wr_history_t *h);

/* Parses one JSON object and appends it. Its source is the "src" member when
 * present ("gateway" | "client" | "harness"), else src. Its line (see
 * wr_event_line()) is the object with "src" added. Returns 0, or -EINVAL
 * when line is not a JSON object with a string "event" member, -ENOMEM. */
int wr_history_add_line(wr_history_t *h, wr_src_t src, const char *line);

/* Builds one event member by member, without JSON text: begin, then one
 * put per member in the order its line lists them, then end, which
 * appends it as wr_history_add_line() would the line
 * {"name":value,...} (with "src" added unless a member names it).
 * put_str() with a NULL value puts null; put_json() puts any jansson
 * value (a real, an object or an array is kept as its JSON text). A put
 * before a begin, and members beyond 64, are refused. end() returns 0,
 * or -EINVAL when no member "event" is a string (nothing is appended),
 * -ENOMEM; the puts return 0, -EINVAL or -ENOMEM, and a failed put makes
 * end() fail too. */
int wr_history_begin(wr_history_t *h, wr_src_t src);
int wr_history_put_str(wr_history_t *h, const char *name, const char *value);
int wr_history_put_int(wr_history_t *h, const char *name, int64_t value);
int wr_history_put_bool(wr_history_t *h, const char *name, bool value);
int wr_history_put_json(wr_history_t *h, const char *name,
                        const struct json_t *value);
int wr_history_end(wr_history_t *h);

/* Moves the first n events of from (in add order) to the end of h, and
 * empties from. Returns 0 or -ENOMEM (h then holds those moved so
 * far). */
int wr_history_take(wr_history_t *h, wr_history_t *from, size_t n);

/* Appends every line of a gateway trace file; each file loaded is a
 * chain of its own (a cluster has one per gateway process). A torn last
 * line (the gateway died mid-write: no newline, or not a JSON object) is
 * skipped and counted in *torn when torn is not NULL; empty lines are
 * skipped. Reading stops at the first zero byte at the start of a line:
 * the gateway writes its trace through a shared mapping of a file that
 * grows a chunk at a time, so zero bytes follow the last event until it
 * closes the trace, and for good when it died. Returns the number of events added, or negative errno (-EINVAL
 * when a line before the last is not an event: the trace is corrupt, not
 * torn, and nothing of it is added). */
long wr_history_load_trace(wr_history_t *h, const char *path, int *torn);

/* The bytes of events in the trace file at path, the zero bytes that
 * follow them left out (see wr_history_load_trace()), or a negative
 * errno. */
long long wr_trace_data_end(const char *path);

/* Cuts the zero bytes off the end of the trace file at path, once its
 * gateway is gone, so the case keeps a plain JSON-lines file. Returns 0 or
 * a negative errno. */
int wr_trace_settle(const char *path);

/* Appends every line of a history.jsonl written by wr_history_write().
 * Returns the number of events added, or negative errno. */
long wr_history_load(wr_history_t *h, const char *path);

/* Orders the history on the shared clock. Gateway events keep trace (seq)
 * order among themselves, since the trace takes ns before its lock; the
 * other sources are merged in by ns. Several traces (a cluster) are merged
 * by ns, each in its own seq order, except that registry operations keep
 * the cluster's one order (rseq) across traces. Call once, after every
 * add. */
void wr_history_sort(wr_history_t *h);

size_t wr_history_len(const wr_history_t *h);

/* Event i in the checkers' view, or NULL past the end. The view is built
 * by wr_history_sort(), or here when events were added since; event
 * pointers stay valid until the next add or sort. */
const wr_event_t *wr_history_at(const wr_history_t *h, size_t i);

/* Event i decoded into *out, without the view (for a reader that needs
 * each event once). Returns 0, -ERANGE past the end, or -ENOMEM. */
int wr_history_get(const wr_history_t *h, size_t i, wr_event_t *out);

/* Index of ev in h (ev from wr_history_at or wr_history_get on h). */
size_t wr_history_index(const wr_history_t *h, const wr_event_t *ev);

/* The event as one JSON object, no newline: "src" first unless its line
 * named it elsewhere. A line that was read in compact form (no space
 * outside strings) comes back as it was, with "src" added; another keeps
 * its text. Returns a string to free(), or NULL when out of memory. */
char *wr_event_line(const wr_event_t *ev);

/* Whether a gateway trace is part of this history: false for an external
 * target (--url), where checks that need the trace answer UNKNOWN. It is
 * also true as soon as the history holds a gateway event (the gateway's
 * first event, gateway.start, precedes anything it can do), so a history
 * read back with wr_history_load() knows it too. */
void wr_history_set_has_trace(wr_history_t *h, bool has_trace);
bool wr_history_has_trace(const wr_history_t *h);

/* Writes one event per line to path (through a temporary name and a
 * rename). Returns 0 or negative errno. */
int wr_history_write(const wr_history_t *h, const char *path);

#endif
