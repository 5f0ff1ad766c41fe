/* wr_history_int.h - What the history's lines and files
 * (wr_history_file.c) and its order (wr_history_order.c) use of its store
 * (wr_history.c): an event's record, member by member, undoing a partial
 * load, trace chains, the view, and reordering. Private to history/; the
 * API is wr_history.h. */
#ifndef WR_HISTORY_INT_H
#define WR_HISTORY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "history/wr_history.h"

#define WR__HISTORY_MEMBERS_MAX 64 /* members of a record in compact form */

/* Member value types; an event's shape fixes one per member. */
enum {
    WR__T_STR,   /* value: a string id */
    WR__T_INT,   /* value: the integer */
    WR__T_TRUE,  /* no value */
    WR__T_FALSE, /* no value */
    WR__T_NULL,  /* no value */
    WR__T_RAW,   /* value: the string id of a value's JSON text */
};

/* One member of an event. */
typedef struct {
    uint32_t name; /* string id */
    uint8_t type;  /* WR__T_* */
    int64_t value;
} wr__hmember_t;

/* Event i's record as stored: its members (text NULL), or, for a line
 * kept as it was read, its text from the opening brace on. */
typedef struct {
    wr_src_t src;
    unsigned chain; /* the trace file it was read from (see wr_event_t) */
    bool has_src;   /* the line names its source itself */
    const char *text;
    size_t len; /* of text */
    size_t n;   /* members */
    wr__hmember_t m[WR__HISTORY_MEMBERS_MAX];
} wr__hrecord_t;

/* Reads event i's record (i < wr_history_len(h)). */
void wr__history_record(const wr_history_t *h, size_t i, wr__hrecord_t *out);

/* The string with id id, and its length. */
const char *wr__history_str(const wr_history_t *h, uint32_t id, size_t *len);

/* Drops the events added since there were len (their records and
 * strings stay until the history is freed). */
void wr__history_truncate(wr_history_t *h, size_t len);

/* Events added from now on are of the next trace chain (a trace file of
 * their own); wr__history_chain_end() closes it, counting it when the
 * file was loaded (ok). */
void wr__history_chain_begin(wr_history_t *h);
void wr__history_chain_end(wr_history_t *h, bool ok);

/* How many trace files were loaded. */
unsigned wr__history_chains(const wr_history_t *h);

/* The view of every event, built when needed (see wr_history_at());
 * NULL when out of memory. */
wr_event_t *wr__history_view(wr_history_t *h);

/* Reorders the events: the one at from[k] goes to position k, view and
 * records alike. from is left as the identity. */
void wr__history_permute(wr_history_t *h, uint32_t *from);

#endif
