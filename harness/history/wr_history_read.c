/* wr_history_read.c - Reading one JSON line of a history: its members,
 * and what each member means for the checkers' view (see
 * wr_history_read.h).
 *
 * Two routes. jansson reads about 60 MB/s, too slow for the 300k-event
 * histories a big run makes, so the one shape every trace and harness
 * line has - a flat object of plain strings, integers and literals - is
 * read here directly (read_fast(): jansson alone needs about 0.7 s for
 * 300k lines). Anything outside that shape (escapes, non-ASCII bytes,
 * nested values, fractions, exponents, huge numbers, and every error) is
 * left before any member is visited, and jansson reads the line. Both
 * routes hand members to the same visit function, and every field is set
 * by wr__history_apply(), so they cannot disagree on what a member means.
 *
 * No state, no locks: any thread. */
#include "history/wr_history_read.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* The fields of the checkers' view                                     */
/* ------------------------------------------------------------------ */

typedef enum {
    F_STR,     /* interned string at `off` */
    F_FLAG,    /* int8_t at `off`: bool */
    F_SEQ,     /* seq */
    F_NS,      /* ns */
    F_CONN,    /* conn */
    F_CLIENT,  /* client */
    F_CODE,    /* "code" and "close": code; a string code is an error */
    F_SIG,     /* sig */
    F_COUNT,   /* count */
    F_SESSION, /* client.connect session: key when "key" is absent */
    F_SRC,     /* src */
    F_INSTANCE, /* instance */
    F_RSEQ,    /* rseq */
    F_RAFTER,  /* rafter */
    F_LINE,    /* line: a scenario line */
} kind_t;

typedef struct {
    const char *name; /* JSON member */
    kind_t kind;
    size_t off; /* F_STR, F_FLAG: offset in wr_event_t */
} field_t;

#define S(m) F_STR, offsetof(wr_event_t, m)
#define B(m) F_FLAG, offsetof(wr_event_t, m)

/* Sorted by name (strcmp) for bsearch. */
static const field_t fields[] = {
    {"by", S(by)},
    {"client", F_CLIENT, 0},
    {"close", F_CODE, 0},
    {"code", F_CODE, 0},
    {"conn", F_CONN, 0},
    {"connection_ready", B(connection_ready)},
    {"coordinator", S(coordinator)},
    {"correlation_id", S(correlation_id)},
    {"count", F_COUNT, 0},
    {"decision", S(decision)},
    {"error", S(error)},
    {"event", S(event)},
    {"from", S(from)},
    {"handle", S(handle)},
    {"instance", F_INSTANCE, 0},
    {"key", S(key)},
    {"line", F_LINE, 0},
    {"linked", B(linked)},
    {"machine", S(machine)},
    {"msg_type", S(msg_type)},
    {"ns", F_NS, 0},
    {"phase", S(phase)},
    {"rafter", F_RAFTER, 0},
    {"ready", B(ready)},
    {"registered", B(registered)},
    {"result", S(result)},
    {"rseq", F_RSEQ, 0},
    {"seq", F_SEQ, 0},
    {"session", F_SESSION, 0},
    {"sig", F_SIG, 0},
    {"src", F_SRC, 0},
    {"state", S(state)},
    {"step", S(step)},
    {"stopped", B(stopped)},
    {"to", S(to)},
    {"token", S(token)},
    {"type", S(type)},
    {"user", S(user)},
    {"user_id", S(user_id)},
    {"why", S(why)},
};

#undef S
#undef B



static int field_cmp(const void *name, const void *f)
{
    return strcmp(name, ((const field_t *)f)->name);
}

int wr__history_field(const char *name, size_t len)
{
    const field_t *f;
    char key[24];

    if (len >= sizeof(key))
        return -1; /* longer than any known name */
    memcpy(key, name, len);
    key[len] = '\0';
    f = bsearch(key, fields, sizeof(fields) / sizeof(*fields), sizeof(*fields),
                field_cmp);
    return f ? (int)(f - fields) : -1;
}

bool wr__history_field_is_src(int f)
{
    return f >= 0 && fields[f].kind == F_SRC;
}

void wr__history_event_init(wr__hparse_t *p, wr_event_t *ev, wr_src_t src)
{
    memset(ev, 0, sizeof(*ev));
    ev->client = -1;
    ev->src = src;
    ev->linked = ev->connection_ready = ev->ready = ev->registered = -1;
    ev->stopped = -1;
    ev->code = -1;
    ev->count = -1;
    ev->instance = -1;
    p->ev = ev;
    p->session = NULL;
    p->has_src = false;
}

void wr__history_event_end(wr__hparse_t *p)
{
    if (p->ev->key == NULL)
        p->ev->key = p->session;
}

int wr__history_apply(wr__hparse_t *p, int fi, const wr__hval_t *v)
{
    const field_t *f = &fields[fi];
    wr_event_t *ev = p->ev;

    switch (f->kind) {
    case F_STR:
    case F_SESSION:
        if (v->t == WR__HV_STR) {
            if (f->kind == F_SESSION)
                p->session = v->is;
            else
                *(const char **)((char *)ev + f->off) = v->is;
        }
        return 0;
    case F_FLAG:
        if (v->t == WR__HV_BOOL)
            *(int8_t *)((char *)ev + f->off) = v->b ? 1 : 0;
        return 0;
    case F_CODE:
        if (v->t == WR__HV_INT)
            ev->code = (int)v->n;
        else if (v->t == WR__HV_STR && ev->error == NULL)
            ev->error = v->is;
        return 0;
    case F_SRC:
        for (int i = WR_SRC_GATEWAY; v->t == WR__HV_STR && i <= WR_SRC_HARNESS;
             i++) {
            const char *name = wr_src_name((wr_src_t)i);

            if (strlen(name) == v->len && memcmp(name, v->s, v->len) == 0) {
                ev->src = (wr_src_t)i;
                p->has_src = true;
                return 0;
            }
        }
        return -EINVAL;
    default:
        break;
    }
    if (v->t != WR__HV_INT)
        return 0;
    if (f->kind == F_SEQ)
        ev->seq = (uint64_t)v->n;
    else if (f->kind == F_NS)
        ev->ns = v->n;
    else if (f->kind == F_CONN)
        ev->conn = (uint64_t)v->n;
    else if (f->kind == F_CLIENT)
        ev->client = (int)v->n;
    else if (f->kind == F_LINE)
        ev->line_no = (int)v->n;
    else if (f->kind == F_SIG)
        ev->sig = (int)v->n;
    else if (f->kind == F_INSTANCE)
        ev->instance = (int)v->n;
    else if (f->kind == F_RSEQ)
        ev->rseq = v->n > 0 ? (uint64_t)v->n : 0;
    else if (f->kind == F_RAFTER)
        ev->rafter = v->n > 0 ? (uint64_t)v->n : 0;
    else
        ev->count = v->n;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Reading a line                                                       */
/* ------------------------------------------------------------------ */

wr__hval_t wr__history_json_val(const struct json_t *cv)
{
    json_t *v = (json_t *)cv;
    wr__hval_t val = {.t = WR__HV_OTHER};

    if (json_is_string(v)) {
        val.t = WR__HV_STR;
        val.s = json_string_value(v);
        val.len = json_string_length(v);
    } else if (json_is_integer(v)) {
        val.t = WR__HV_INT;
        val.n = (int64_t)json_integer_value(v);
    } else if (json_is_real(v)) {
        double x = json_real_value(v);

        /* A real no int64 holds is no time or count of ours (a summary
         * read back may be hostile): converting it is undefined, so it is
         * left as a value of no use. */
        if (x > -9.2e18 && x < 9.2e18) {
            val.t = WR__HV_INT;
            val.n = (int64_t)x;
        }
    } else if (json_is_boolean(v)) {
        val.t = WR__HV_BOOL;
        val.b = json_is_true(v);
    } else if (json_is_null(v)) {
        val.t = WR__HV_NULL;
    }
    return val;
}

static const char *skip_ws(const char *s, const char *end)
{
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    return s;
}

/* The closing quote of the plain string whose text starts at s, or NULL
 * when the string is not plain (an escape, a control or non-ASCII byte)
 * or not closed. */
static const char *plain_string_end(const char *s, const char *end)
{
    for (; s < end && *s != '"'; s++)
        if (*s == '\\' || (unsigned char)*s < 0x20 || (unsigned char)*s >= 0x80)
            return NULL;
    return s < end ? s : NULL;
}

/* Reads one plain value at s into *v; returns the byte after it, or NULL
 * when the value is outside the fast shape. */
static const char *plain_value(const char *s, const char *end, wr__hval_t *v)
{
    const char *q;

    if (*s == '"') {
        if ((q = plain_string_end(s + 1, end)) == NULL)
            return NULL;
        *v = (wr__hval_t){.t = WR__HV_STR, .s = s + 1, .len = (size_t)(q - s - 1)};
        return q + 1;
    }
    if (*s == '-' || (*s >= '0' && *s <= '9')) {
        bool neg = *s == '-';
        int64_t x = 0;
        int digits = 0;

        if (neg)
            s++;
        if (s + 1 < end && s[0] == '0' && s[1] >= '0' && s[1] <= '9')
            return NULL; /* a leading zero: invalid, jansson will say so */
        for (; s < end && *s >= '0' && *s <= '9'; s++, digits++)
            x = x * 10 + (*s - '0');
        if (digits == 0 || digits > 18 ||
            (s < end && (*s == '.' || *s == 'e' || *s == 'E')))
            return NULL;
        *v = (wr__hval_t){.t = WR__HV_INT, .n = neg ? -x : x};
        return s;
    }
    if (end - s >= 4 && memcmp(s, "true", 4) == 0) {
        *v = (wr__hval_t){.t = WR__HV_BOOL, .b = true};
        return s + 4;
    }
    if (end - s >= 5 && memcmp(s, "false", 5) == 0) {
        *v = (wr__hval_t){.t = WR__HV_BOOL, .b = false};
        return s + 5;
    }
    if (end - s >= 4 && memcmp(s, "null", 4) == 0) {
        *v = (wr__hval_t){.t = WR__HV_NULL};
        return s + 4;
    }
    return NULL;
}


/* The direct route. Returns 1 when the line was read (its members
 * visited), 0 when it is outside the direct shape (nothing visited), or
 * what a visit returned. */
static int read_fast(const char *s, const char *end, wr__hvisit_fn visit,
                     void *arg, bool *exact)
{
    /* Members are collected first and visited only once the whole line is
     * known to be in the direct shape, so a fallback starts clean. */
    struct {
        const char *name;
        size_t len;
        wr__hval_t v;
    } m[48];
    size_t n = 0;
    const char *q, *t;
    bool spaced = false; /* a space outside strings */

#define WS(x)                                                                  \
    do {                                                                       \
        t = skip_ws((x), end);                                                 \
        spaced |= t != (x);                                                    \
        s = t;                                                                 \
    } while (0)
    WS(s);
    if (s == end || *s++ != '{')
        return 0;
    WS(s);
    if (s < end && *s == '}')
        s++;
    else
        for (;;) {
            if (n == sizeof(m) / sizeof(*m) || s == end || *s != '"' ||
                (q = plain_string_end(s + 1, end)) == NULL)
                return 0;
            m[n].name = s + 1;
            m[n].len = (size_t)(q - s - 1);
            WS(q + 1);
            if (s == end || *s++ != ':')
                return 0;
            WS(s);
            if (s == end || (q = plain_value(s, end, &m[n].v)) == NULL)
                return 0;
            /* "-0" reads as 0, which is written back as "0". */
            spaced |= m[n].v.t == WR__HV_INT && m[n].v.n == 0 && *s == '-';
            n++;
            WS(q);
            if (s == end)
                return 0;
            if (*s == '}') {
                s++;
                break;
            }
            if (*s++ != ',')
                return 0;
            WS(s);
        }
#undef WS
    if (skip_ws(s, end) != end)
        return 0;
    for (size_t i = 0; i < n; i++) {
        int rc = visit(arg, m[i].name, m[i].len, &m[i].v);

        if (rc != 0)
            return rc;
    }
    *exact = !spaced;
    return 1;
}

int wr__history_read(const char *text, size_t len, wr__hvisit_fn visit,
                     void *arg, bool *exact)
{
    json_error_t jerr;
    const char *name;
    json_t *o, *v;
    int rc;

    *exact = false;
    rc = read_fast(text, text + len, visit, arg, exact);
    if (rc != 0)
        return rc == 1 ? 0 : rc;
    o = json_loadb(text, len, 0, &jerr);
    if (!json_is_object(o)) {
        json_decref(o);
        return -EINVAL;
    }
    rc = 0;
    json_object_foreach(o, name, v)
    {
        wr__hval_t val = wr__history_json_val(v);

        rc = visit(arg, name, strlen(name), &val);
        if (rc != 0)
            break;
    }
    json_decref(o);
    return rc;
}
