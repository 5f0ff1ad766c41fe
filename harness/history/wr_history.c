/* wr_history.c - One case's history: parsing, interning, ordering, files.
 *
 * Events live in one growing array of wr_event_t. Their strings (field
 * values) are interned in a set owned by the history, so equal strings are
 * one pointer and checkers may compare them with == as well as strcmp; the
 * interned bytes and the kept JSON lines are carved out of large arena
 * blocks, so loading costs one allocation per block, not per string.
 * Budget: the 208-byte struct per event, the line itself, and a few bytes
 * per distinct string; 300k events load and sort in about 0.25 s (see
 * scripts/bench). Sorting permutes the events in place: its extra memory
 * is 40 bytes per event, freed before it returns.
 *
 * Lines are parsed by jansson, except the flat objects of plain values
 * that every trace and harness line is, which a small reader takes first
 * (see fill_fast(): jansson alone needs about 0.7 s for 300k lines). Both
 * routes fill the event through apply(), so they cannot disagree on what a
 * member means.
 *
 * Invariants: every interned pointer and every line stays valid until
 * wr_history_free(); event pointers stay valid until the next add or sort.
 * Not thread-safe: one thread builds a history, then any number read it.
 */
#include "history/wr_history.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ARENA_BLOCK (64u * 1024u) /* bytes per ordinary arena block */
#define SET_MIN     1024u         /* initial slots of the intern set */

/* ------------------------------------------------------------------ */
/* Arena and intern set                                                 */
/* ------------------------------------------------------------------ */

typedef struct block {
    struct block *next; /* older blocks */
    size_t used, size;  /* bytes used of data[size] */
    char data[];
} block_t;

typedef struct {
    const char *s; /* interned string, NULL for an empty slot */
    uint32_t hash; /* its hash, compared before the bytes */
} slot_t;

struct wr_history {
    wr_event_t *ev;   /* events, in add order until sorted */
    size_t len, cap;  /* events used / allocated */
    size_t ngateway;  /* events whose source is the gateway */
    unsigned chains;  /* trace files loaded so far */
    unsigned loading; /* the chain of the events being added */
    bool has_trace;   /* set by wr_history_set_has_trace() */
    block_t *blocks;  /* arena: interned strings and lines */
    slot_t *set;      /* intern set, open addressing, power of two */
    size_t set_size;  /* slots */
    size_t set_count; /* strings interned */
};

/* Returns len bytes from the arena (unaligned: text only), or NULL. */
static char *arena_alloc(wr_history_t *h, size_t len)
{
    block_t *b = h->blocks;

    if (b == NULL || b->size - b->used < len) {
        size_t size = len > ARENA_BLOCK / 4 ? len : ARENA_BLOCK;

        b = malloc(sizeof(*b) + size);
        if (b == NULL)
            return NULL;
        b->used = 0;
        b->size = size;
        if (size == len && h->blocks != NULL) {
            /* A big string gets a block of its own, kept behind the
             * current one so the current one's free tail stays usable. */
            b->next = h->blocks->next;
            h->blocks->next = b;
        } else {
            b->next = h->blocks;
            h->blocks = b;
        }
    }
    b->used += len;
    return b->data + b->used - len;
}

static uint32_t hash_bytes(const char *s, size_t len)
{
    uint32_t x = 2166136261u; /* FNV-1a */

    for (size_t i = 0; i < len; i++)
        x = (x ^ (unsigned char)s[i]) * 16777619u;
    return x;
}

static int set_grow(wr_history_t *h)
{
    size_t n = h->set_size ? h->set_size * 2 : SET_MIN;
    slot_t *set = calloc(n, sizeof(*set));

    if (set == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < h->set_size; i++) {
        size_t j;

        if (h->set[i].s == NULL)
            continue;
        for (j = h->set[i].hash & (n - 1); set[j].s != NULL;
             j = (j + 1) & (n - 1))
            ;
        set[j] = h->set[i];
    }
    free(h->set);
    h->set = set;
    h->set_size = n;
    return 0;
}

/* The history's copy of s (len bytes, no NUL inside), or NULL when out of
 * memory. */
static const char *intern(wr_history_t *h, const char *s, size_t len)
{
    uint32_t hash = hash_bytes(s, len);
    size_t i;
    char *copy;

    if ((h->set_count + 1) * 4 > h->set_size * 3 && set_grow(h) != 0)
        return NULL;
    for (i = hash & (h->set_size - 1); h->set[i].s != NULL;
         i = (i + 1) & (h->set_size - 1)) {
        if (h->set[i].hash == hash && strncmp(h->set[i].s, s, len) == 0 &&
            h->set[i].s[len] == '\0')
            return h->set[i].s;
    }
    copy = arena_alloc(h, len + 1);
    if (copy == NULL)
        return NULL;
    memcpy(copy, s, len);
    copy[len] = '\0';
    h->set[i].s = copy;
    h->set[i].hash = hash;
    h->set_count++;
    return copy;
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                           */
/* ------------------------------------------------------------------ */

wr_history_t *wr_history_new(void)
{
    wr_history_t *h = calloc(1, sizeof(*h));

    if (h == NULL)
        return NULL;
    if (set_grow(h) != 0) {
        free(h);
        return NULL;
    }
    return h;
}

void wr_history_free(wr_history_t *h)
{
    if (h == NULL)
        return;
    while (h->blocks != NULL) {
        block_t *b = h->blocks;

        h->blocks = b->next;
        free(b);
    }
    free(h->set);
    free(h->ev);
    free(h);
}

/* ------------------------------------------------------------------ */
/* Parsing                                                              */
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

static const char *const src_names[] = {
    [WR_SRC_GATEWAY] = "gateway",
    [WR_SRC_CLIENT] = "client",
    [WR_SRC_HARNESS] = "harness",
};

/* One member value, from either parser. */
typedef struct {
    enum { V_STR, V_INT, V_BOOL, V_OTHER } t;
    const char *s; /* V_STR: bytes, not NUL-terminated */
    size_t len;    /* V_STR: their count */
    int64_t n;     /* V_INT: value (a real number truncated) */
    bool b;        /* V_BOOL */
} val_t;

/* What one event's parse has seen so far. */
typedef struct {
    wr_event_t *ev;
    const char *session; /* "session" member, interned */
    bool has_src;        /* the object named its source */
} parse_t;

/* Stores member `name` (len bytes) of value v into the event. Unknown
 * names and values of an unexpected type are ignored, except for "src".
 * Returns 0, -EINVAL or -ENOMEM. */
static int apply(wr_history_t *h, parse_t *p, const char *name, size_t len,
                 const val_t *v)
{
    wr_event_t *ev = p->ev;
    const field_t *f;
    char key[24];

    if (len >= sizeof(key))
        return 0; /* longer than any known name */
    memcpy(key, name, len);
    key[len] = '\0';
    f = bsearch(key, fields, sizeof(fields) / sizeof(*fields), sizeof(*fields),
                field_cmp);
    if (f == NULL)
        return 0;
    switch (f->kind) {
    case F_STR:
    case F_SESSION:
        if (v->t == V_STR) {
            const char *s = intern(h, v->s, v->len);

            if (s == NULL)
                return -ENOMEM;
            if (f->kind == F_SESSION)
                p->session = s;
            else
                *(const char **)((char *)ev + f->off) = s;
        }
        return 0;
    case F_FLAG:
        if (v->t == V_BOOL)
            *(int8_t *)((char *)ev + f->off) = v->b ? 1 : 0;
        return 0;
    case F_CODE:
        if (v->t == V_INT) {
            ev->code = (int)v->n;
        } else if (v->t == V_STR && ev->error == NULL) {
            ev->error = intern(h, v->s, v->len);
            if (ev->error == NULL)
                return -ENOMEM;
        }
        return 0;
    case F_SRC:
        for (int i = 0; v->t == V_STR && i < 3; i++) {
            if (strlen(src_names[i]) == v->len &&
                memcmp(src_names[i], v->s, v->len) == 0) {
                ev->src = (wr_src_t)i;
                p->has_src = true;
                return 0;
            }
        }
        return -EINVAL;
    default:
        break;
    }
    if (v->t != V_INT)
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

/* Fills the event from a parsed object (the general path). */
static int fill_json(wr_history_t *h, parse_t *p, json_t *o)
{
    const char *name;
    json_t *v;

    json_object_foreach(o, name, v)
    {
        val_t val = {.t = V_OTHER};
        int rc;

        if (json_is_string(v)) {
            val.t = V_STR;
            val.s = json_string_value(v);
            val.len = strlen(val.s);
        } else if (json_is_integer(v)) {
            val.t = V_INT;
            val.n = (int64_t)json_integer_value(v);
        } else if (json_is_real(v)) {
            double x = json_real_value(v);

            /* A real no int64 holds is no time or count of ours (a
             * summary read back may be hostile): converting it is
             * undefined, so it is left as a value of no use. */
            if (x > -9.2e18 && x < 9.2e18) {
                val.t = V_INT;
                val.n = (int64_t)x;
            }
        } else if (json_is_boolean(v)) {
            val.t = V_BOOL;
            val.b = json_is_true(v);
        }
        rc = apply(h, p, name, strlen(name), &val);
        if (rc != 0)
            return rc;
    }
    return 0;
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
static const char *plain_value(const char *s, const char *end, val_t *v)
{
    const char *q;

    if (*s == '"') {
        if ((q = plain_string_end(s + 1, end)) == NULL)
            return NULL;
        *v = (val_t){.t = V_STR, .s = s + 1, .len = (size_t)(q - s - 1)};
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
        *v = (val_t){.t = V_INT, .n = neg ? -x : x};
        return s;
    }
    if (end - s >= 4 && memcmp(s, "true", 4) == 0) {
        *v = (val_t){.t = V_BOOL, .b = true};
        return s + 4;
    }
    if (end - s >= 5 && memcmp(s, "false", 5) == 0) {
        *v = (val_t){.t = V_BOOL, .b = false};
        return s + 5;
    }
    if (end - s >= 4 && memcmp(s, "null", 4) == 0) {
        *v = (val_t){.t = V_OTHER};
        return s + 4;
    }
    return NULL;
}

/* The fast path. jansson reads about 60 MB/s, too slow for the 300k-event
 * histories a big run makes, so the one shape every trace and harness line
 * has - a flat object of plain strings, integers and literals - is read
 * here directly. Anything outside that shape (escapes, non-ASCII bytes,
 * nested values, fractions, exponents, huge numbers, and every error)
 * returns 0 before anything is stored, and the caller hands the line to
 * jansson, which stays the judge of what is valid JSON. Returns 1 when the
 * line was read, 0 to fall back, or a negative errno from apply(). */
static int fill_fast(wr_history_t *h, parse_t *p, const char *s,
                     const char *end)
{
    /* Members are collected first and applied only once the whole line is
     * known to be in the fast shape, so a fallback starts clean. */
    struct {
        const char *name;
        size_t len;
        val_t v;
    } m[48];
    size_t n = 0;
    const char *q;

    s = skip_ws(s, end);
    if (s == end || *s++ != '{')
        return 0;
    s = skip_ws(s, end);
    if (s < end && *s == '}')
        s++;
    else
        for (;;) {
            if (n == sizeof(m) / sizeof(*m) || s == end || *s != '"' ||
                (q = plain_string_end(s + 1, end)) == NULL)
                return 0;
            m[n].name = s + 1;
            m[n].len = (size_t)(q - s - 1);
            s = skip_ws(q + 1, end);
            if (s == end || *s++ != ':')
                return 0;
            s = skip_ws(s, end);
            if (s == end || (s = plain_value(s, end, &m[n].v)) == NULL)
                return 0;
            n++;
            s = skip_ws(s, end);
            if (s == end)
                return 0;
            if (*s == '}') {
                s++;
                break;
            }
            if (*s++ != ',')
                return 0;
            s = skip_ws(s, end);
        }
    if (skip_ws(s, end) != end)
        return 0;
    for (size_t i = 0; i < n; i++) {
        int rc = apply(h, p, m[i].name, m[i].len, &m[i].v);

        if (rc != 0)
            return rc;
    }
    return 1;
}

/* Keeps text[0..len) as ev->line, with "src" inserted after the opening
 * brace when the object did not name it. */
static int keep_line(wr_history_t *h, wr_event_t *ev, const char *text,
                     size_t len, bool has_src)
{
    static const char *const prefix[] = {
        [WR_SRC_GATEWAY] = "\"src\":\"gateway\",",
        [WR_SRC_CLIENT] = "\"src\":\"client\",",
        [WR_SRC_HARNESS] = "\"src\":\"harness\",",
    };
    size_t plen = has_src ? 0 : strlen(prefix[ev->src]);
    char *line;

    line = arena_alloc(h, len + plen + 1);
    if (line == NULL)
        return -ENOMEM;
    /* text starts with '{': the parser accepted it as an object. */
    line[0] = '{';
    memcpy(line + 1, prefix[ev->src], plen);
    memcpy(line + 1 + plen, text + 1, len - 1);
    line[len + plen] = '\0';
    ev->line = line;
    return 0;
}

static bool blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* wr_history_add_line on len bytes of text (no NUL needed). */
static int add_text(wr_history_t *h, wr_src_t src, const char *text, size_t len)
{
    parse_t p = {0};
    wr_event_t *ev;
    int rc;

    while (len > 0 && blank(*text)) {
        text++;
        len--;
    }
    while (len > 0 && blank(text[len - 1]))
        len--;
    if (len < 2 || text[0] != '{')
        return -EINVAL;
    if (h->len == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 256;
        wr_event_t *grown = realloc(h->ev, cap * sizeof(*grown));

        if (grown == NULL)
            return -ENOMEM;
        h->ev = grown;
        h->cap = cap;
    }
    ev = &h->ev[h->len];
    memset(ev, 0, sizeof(*ev));
    ev->client = -1;
    ev->src = src;
    ev->linked = ev->connection_ready = ev->ready = ev->registered = -1;
    ev->stopped = -1;
    ev->code = -1;
    ev->count = -1;
    ev->instance = -1;
    ev->chain = h->loading;
    p.ev = ev;
    rc = fill_fast(h, &p, text, text + len);
    if (rc == 0) {
        json_error_t jerr;
        json_t *o = json_loadb(text, len, 0, &jerr);

        rc = json_is_object(o) ? fill_json(h, &p, o) : -EINVAL;
        json_decref(o);
    } else if (rc == 1) {
        rc = 0;
    }
    if (rc == 0 && ev->key == NULL)
        ev->key = p.session;
    if (rc == 0 && ev->event == NULL)
        rc = -EINVAL;
    if (rc == 0)
        rc = keep_line(h, ev, text, len, p.has_src);
    if (rc != 0)
        return rc;
    h->len++;
    if (ev->src == WR_SRC_GATEWAY)
        h->ngateway++;
    return 0;
}

int wr_history_add_line(wr_history_t *h, wr_src_t src, const char *line)
{
    if (h == NULL || line == NULL || (unsigned)src > WR_SRC_HARNESS)
        return -EINVAL;
    return add_text(h, src, line, strlen(line));
}

/* Drops the events added since len (their strings stay in the arena). */
static void truncate_to(wr_history_t *h, size_t len)
{
    while (h->len > len) {
        h->len--;
        if (h->ev[h->len].src == WR_SRC_GATEWAY)
            h->ngateway--;
    }
}

/* Reads path line by line. With torn != NULL (a trace), a last line
 * without newline or that does not parse is skipped and counted; any other
 * bad line fails the whole load, which then adds nothing. */
static long load_lines(wr_history_t *h, const char *path, wr_src_t src,
                       int *torn)
{
    size_t start = h->len, cap = 0;
    char *buf = NULL;
    ssize_t n;
    long added = 0;
    int rc = 0;
    FILE *f;

    if (h == NULL || path == NULL)
        return -EINVAL;
    f = fopen(path, "re");
    if (f == NULL)
        return -errno;
    while ((n = getline(&buf, &cap, f)) > 0) {
        bool last_torn = buf[n - 1] != '\n';
        size_t i;

        for (i = 0; i < (size_t)n && blank(buf[i]); i++)
            ;
        if (i == (size_t)n)
            continue; /* an empty line */
        /* The gateway writes a line and its newline at once: in a trace a
         * line without one was cut short, even when what is left parses. */
        rc = last_torn && torn != NULL ? -EINVAL
                                       : add_text(h, src, buf, (size_t)n);
        if (rc == -EINVAL && torn != NULL) {
            /* Torn only when nothing follows it. */
            int c = getc(f);

            if (c == EOF) {
                (*torn)++;
                rc = 0;
                break;
            }
            ungetc(c, f);
        }
        if (rc != 0)
            break;
        added++;
    }
    if (rc == 0 && ferror(f))
        rc = -EIO;
    free(buf);
    fclose(f);
    if (rc != 0) {
        truncate_to(h, start);
        return rc;
    }
    return added;
}

long wr_history_load_trace(wr_history_t *h, const char *path, int *torn)
{
    int dummy = 0;
    long n;

    if (h == NULL)
        return -EINVAL;
    h->loading = h->chains;
    n = load_lines(h, path, WR_SRC_GATEWAY, torn ? torn : &dummy);
    h->loading = 0;
    if (n >= 0) {
        h->has_trace = true;
        h->chains++;
    }
    return n;
}

long wr_history_load(wr_history_t *h, const char *path)
{
    return load_lines(h, path, WR_SRC_GATEWAY, NULL);
}

/* ------------------------------------------------------------------ */
/* Order                                                                */
/* ------------------------------------------------------------------ */

/* Sort keys: the event's order key, ties broken by add order, which makes
 * qsort stable. Gateway events sort by chain first. */
typedef struct {
    int64_t key;    /* seq (gateway) or ns (others) */
    size_t index;   /* position in add order */
    unsigned chain; /* gateway events: their trace; 0 for the others */
} order_t;

static int order_cmp(const void *a, const void *b)
{
    const order_t *x = a, *y = b;

    if (x->chain != y->chain)
        return x->chain < y->chain ? -1 : 1;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Merges the gateway events of several traces (gw, sorted by chain, then
 * seq) into one order, written back into gw: by ns, each trace in its own
 * order, and a registry operation (rseq) only once every operation before
 * it in the cluster's order is placed, so that the history replays the
 * registry as Redis applied it; a reading of the registry (rafter) comes
 * after the operations it saw. Within one trace rseq only grows (the
 * instance holds its lock across an operation and its event); should it
 * not, ns decides. Returns false when out of memory (gw unchanged). */
static bool merge_chains(const wr_history_t *h, order_t *gw, size_t ngw,
                         unsigned chains)
{
    size_t *head = calloc(chains + 1, sizeof(*head));
    size_t *end = calloc(chains + 1, sizeof(*end));
    uint64_t *next = malloc((ngw + 1) * sizeof(*next));
    order_t *out = malloc((ngw + 1) * sizeof(*out));
    size_t k = 0;

    if (head == NULL || end == NULL || next == NULL || out == NULL) {
        free(head);
        free(end);
        free(next);
        free(out);
        return false;
    }
    for (size_t i = 0; i < ngw; i++) {
        unsigned c = gw[i].chain < chains ? gw[i].chain : chains - 1;

        if (i == 0 || gw[i - 1].chain != gw[i].chain)
            head[c] = i;
        end[c] = i + 1;
    }
    /* next[i]: the first rseq at or after i in its chain, 0 when none. */
    for (size_t i = ngw; i-- > 0;) {
        uint64_t r = h->ev[gw[i].index].rseq;

        next[i] = r != 0                                          ? r
                  : i + 1 < ngw && gw[i + 1].chain == gw[i].chain ? next[i + 1]
                                                                  : 0;
    }
    while (k < ngw) {
        uint64_t least = 0;
        int best = -1, any = -1;

        for (unsigned c = 0; c < chains; c++)
            if (head[c] < end[c] && next[head[c]] != 0 &&
                (least == 0 || next[head[c]] < least))
                least = next[head[c]];
        for (unsigned c = 0; c < chains; c++) {
            const wr_event_t *e;

            if (head[c] >= end[c])
                continue;
            e = &h->ev[gw[head[c]].index];
            if (any < 0 || e->ns < h->ev[gw[head[any]].index].ns)
                any = (int)c;
            if (e->rseq != 0 && e->rseq != least)
                continue;
            /* A reading made after operation rafter follows it. */
            if (e->rafter != 0 && least != 0 && least <= e->rafter)
                continue;
            if (best < 0 || e->ns < h->ev[gw[head[best]].index].ns)
                best = (int)c;
        }
        if (best < 0)
            best = any; /* an order the traces contradict: by time */
        out[k++] = gw[head[best]++];
    }
    memcpy(gw, out, ngw * sizeof(*gw));
    free(head);
    free(end);
    free(next);
    free(out);
    return true;
}

void wr_history_sort(wr_history_t *h)
{
    order_t *gw, *other;
    size_t ngw = 0, nother = 0, i = 0, j = 0, k = 0, *from;

    if (h == NULL || h->len < 2)
        return;
    gw = malloc(h->len * sizeof(*gw));
    other = malloc(h->len * sizeof(*other));
    from = malloc(h->len * sizeof(*from));
    if (gw == NULL || other == NULL || from == NULL) {
        /* Out of memory: add order stays, which for a runner that adds the
         * trace in file order is already seq order. */
        free(gw);
        free(other);
        free(from);
        return;
    }
    for (size_t n = 0; n < h->len; n++) {
        if (h->ev[n].src == WR_SRC_GATEWAY)
            gw[ngw++] = (order_t){(int64_t)h->ev[n].seq, n, h->ev[n].chain};
        else
            other[nother++] = (order_t){h->ev[n].ns, n, 0};
    }
    qsort(gw, ngw, sizeof(*gw), order_cmp);
    qsort(other, nother, sizeof(*other), order_cmp);
    if (h->chains > 1)
        merge_chains(h, gw, ngw, h->chains);
    /* Two-way merge on ns: gateway events never pass each other, and on a
     * tie the gateway event goes first (a client sees a gateway action only
     * after it happened). from[k] is the add-order index of the event that
     * goes to position k. */
    while (i < ngw || j < nother) {
        bool take_gw =
            j == nother || (i < ngw && h->ev[gw[i].index].ns <= other[j].key);

        from[k++] = take_gw ? gw[i++].index : other[j++].index;
    }
    free(gw);
    free(other);
    /* The permutation is applied in place, one cycle at a time, so sorting
     * needs no second copy of the events (at 400,000 events that copy was
     * the harness's peak memory). A position whose event is in place gets
     * from[p] = p. */
    for (size_t p = 0; p < h->len; p++) {
        wr_event_t tmp;
        size_t q = p;

        if (from[p] == p)
            continue;
        tmp = h->ev[p];
        while (from[q] != p) {
            size_t next = from[q];

            h->ev[q] = h->ev[next];
            from[q] = q;
            q = next;
        }
        h->ev[q] = tmp;
        from[q] = q;
    }
    free(from);
}

/* ------------------------------------------------------------------ */
/* Access                                                               */
/* ------------------------------------------------------------------ */

size_t wr_history_len(const wr_history_t *h)
{
    return h ? h->len : 0;
}

const wr_event_t *wr_history_at(const wr_history_t *h, size_t i)
{
    return h && i < h->len ? &h->ev[i] : NULL;
}

size_t wr_history_index(const wr_history_t *h, const wr_event_t *ev)
{
    return (size_t)(ev - h->ev);
}

void wr_history_set_has_trace(wr_history_t *h, bool has_trace)
{
    h->has_trace = has_trace;
}

bool wr_history_has_trace(const wr_history_t *h)
{
    return h->has_trace || h->ngateway > 0;
}

/* ------------------------------------------------------------------ */
/* Files                                                                */
/* ------------------------------------------------------------------ */

int wr_history_write(const wr_history_t *h, const char *path)
{
    size_t plen;
    char *tmp;
    FILE *f;
    int rc = 0;

    if (h == NULL || path == NULL)
        return -EINVAL;
    plen = strlen(path);
    tmp = malloc(plen + 5);
    if (tmp == NULL)
        return -ENOMEM;
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", 5);
    f = fopen(tmp, "we");
    if (f == NULL) {
        rc = -errno;
        free(tmp);
        return rc;
    }
    for (size_t i = 0; i < h->len && rc == 0; i++)
        if (fputs(h->ev[i].line, f) == EOF || putc('\n', f) == EOF)
            rc = -EIO;
    if (rc == 0 && (fflush(f) != 0 || fsync(fileno(f)) != 0))
        rc = -errno;
    if (fclose(f) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -errno;
    if (rc != 0)
        unlink(tmp);
    free(tmp);
    return rc;
}
