/* wr_history_read.h - Reading one JSON line of a history: its members, and
 * what each member means for the checkers' view of the event. Private to
 * history/ (wr_history.c is the one caller).
 *
 * The reader knows JSON and the fields table; the history knows its
 * strings. So the reader hands each member to a visit function, which
 * interns what it keeps, and the fields are filled from interned values.
 * No state, no locks: any thread. */
#ifndef WR_HISTORY_READ_H
#define WR_HISTORY_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "history/wr_event.h"

struct json_t;

/* One member value. */
typedef struct {
    enum {
        WR__HV_STR,   /* s, len: its bytes (not NUL-terminated) */
        WR__HV_INT,   /* n (a real number truncated) */
        WR__HV_BOOL,  /* b */
        WR__HV_NULL,  /* null */
        WR__HV_OTHER, /* a nested value or a real, as jansson read it */
    } t;
    const char *s;
    size_t len;
    const char *is; /* HV_STR: the history's interned copy, when known */
    int64_t n;
    bool b;
} wr__hval_t;

/* Called for each member of a line, in order; a non-zero return stops the
 * read and is its result. */
typedef int (*wr__hvisit_fn)(void *arg, const char *name, size_t len,
                             const wr__hval_t *v);

/* Reads the JSON object text[0..len) (trimmed: it starts with '{'),
 * visiting each member. The one shape of every trace line - a flat
 * object of plain strings, integers and literals - is read directly;
 * anything else by jansson, which stays the judge of what is valid JSON.
 * *exact says whether the members written back the way jansson writes
 * JSON (no space, the same order) give text again: true only on the
 * direct route, when the line has no space outside its strings. Returns
 * 0, -EINVAL when text is not a JSON object, -ENOMEM, or what a visit
 * returned. */
int wr__history_read(const char *text, size_t len, wr__hvisit_fn visit,
                     void *arg, bool *exact);

/* The member value of a jansson value. */
wr__hval_t wr__history_json_val(const struct json_t *v);

/* The index in the fields table of the member called name (len bytes), or
 * -1 when the checkers' view has no field for it. */
int wr__history_field(const char *name, size_t len);

/* Whether field f is "src". */
bool wr__history_field_is_src(int f);

/* What one event's read has seen so far. */
typedef struct {
    wr_event_t *ev;
    const char *session; /* "session" member, interned */
    bool has_src;        /* the object named its source */
} wr__hparse_t;

/* Starts an event: every field absent, its source src. */
void wr__history_event_init(wr__hparse_t *p, wr_event_t *ev, wr_src_t src);

/* Stores value v of a member whose field is f into the event (a string
 * value must carry its interned copy in v->is). Values of an unexpected
 * type are ignored, except for "src". Returns 0, or -EINVAL for a "src"
 * that names no source. */
int wr__history_apply(wr__hparse_t *p, int f, const wr__hval_t *v);

/* Ends an event: a client.connect's "session" is its key when no "key"
 * member came. */
void wr__history_event_end(wr__hparse_t *p);

#endif
