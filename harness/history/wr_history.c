/* wr_history.c - One case's history: the compact store and the checkers'
 * view, ordering, and loading files.
 *
 * The store (docs/DESIGN.md, "The history"). Every string (member names,
 * string values, the JSON text of a nested value) is interned once and
 * named by a 32-bit id. An event's member names and value types, in
 * order, are its shape, interned too: the events of one kind share one.
 * An event is a record of a few bytes in large blocks: its source, its
 * shape's id, then each member's value (a string id or an integer, as
 * varints; true, false and null are in the shape). A record stands for
 * its JSON line exactly: wr_history_write.c rebuilds the line from it
 * the way jansson writes JSON, so only lines written so (no space outside
 * strings) are stored as members; any other line is kept as its text in
 * a record of its own, which costs more but comes back as it was
 * (hand-written lines, nested values, escapes). About 25 bytes an event,
 * against some 380 for a JSON line and a flat struct.
 *
 * The view. Checkers read wr_event_t: the fields they judge, strings as
 * interned pointers (equal strings are one pointer). The view is built
 * from the records by wr_history_sort() (or by wr_history_at() when
 * events were added since) and is the only per-event struct in memory;
 * wr_history_get() decodes one event without it. Lines are read by
 * wr_history_read.c, whose fields table says what each member means.
 *
 * Invariants: every interned string stays valid until wr_history_free();
 * event pointers of the view stay valid until the next add or sort.
 * Decoding interns nothing new (every string of a record was interned
 * when it was added). Not thread-safe while built; once sorted, any
 * number of threads read it.
 *
 * About 1,000 lines, and one unit: the store's encoding, its interning
 * tables and the view built from it share one layout and change together
 * (reading lines and writing them back are in files of their own). */
#include "history/wr_history.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history/wr_history_int.h"
#include "history/wr_history_read.h"

#define ARENA_BLOCK    (64u * 1024u) /* bytes per string arena block */
#define ARENA_FIRST    1024u         /* the first one's; each next doubles */
#define SET_MIN        64u           /* initial slots of the intern set */
#define REC_BITS       20 /* a record's ref: block << REC_BITS | offset */
#define REC_BLOCK      (1u << REC_BITS) /* bytes per ordinary record block */
#define REC_FIRST      4096u /* the first one's; each next doubles up to it */
#define REC_BLOCKS_MAX (1u << (32 - REC_BITS))
#define MEMBERS_MAX    WR__HISTORY_MEMBERS_MAX
#define NO_ID          UINT32_MAX

/* ------------------------------------------------------------------ */
/* Types                                                                */
/* ------------------------------------------------------------------ */

typedef struct block {
    struct block *next; /* older blocks */
    size_t used, size;  /* bytes used of data[size] */
    char data[];
} block_t;

typedef struct {
    const char *s; /* interned string, NULL for an empty slot */
    uint32_t hash; /* its hash, compared before the bytes */
    uint32_t id;   /* its index in str[] */
} slot_t;

typedef wr__hmember_t member_t;

/* One member of a shape. */
typedef struct {
    uint32_t name; /* string id */
    uint8_t type;  /* WR__T_* */
} smember_t;

/* One shape: members sm[first .. first + n). */
typedef struct {
    uint32_t first, n, hash;
    bool has_src; /* a member is "src" */
} shape_t;

/* A record's first byte: its kind in bits 0-1, its source in bits 2-3,
 * for a text record whether the line names its source in bit 4, and in
 * bit 5 whether the event's trace chain follows (a varint; chain 0, the
 * most common, takes no byte). */
enum { REC_SHAPED = 0, REC_TEXT = 1 };
#define REC_HAS_SRC   (1u << 4)
#define REC_HAS_CHAIN (1u << 5)

typedef struct {
    uint32_t used, size;
    uint8_t data[];
} rblock_t;

struct wr_history {
    uint32_t *ref;   /* event i's record, in the current order */
    size_t len, cap; /* events used / allocated */
    size_t ngateway; /* events whose source is the gateway */
    unsigned chains; /* trace files loaded so far */
    unsigned loading; /* the chain of the events being added */
    bool has_trace;  /* set by wr_history_set_has_trace() */

    rblock_t **rb;            /* record blocks */
    size_t nrb, caprb;        /* used / allocated */
    size_t cur;               /* the block records go to */
    bool has_cur;             /* rb[cur] is one (a big record's own
                               * block never is) */
    block_t *blocks;          /* arena: interned strings' bytes */
    slot_t *set;              /* intern set, open addressing, power of two */
    size_t set_size;          /* slots */
    const char **str;         /* string id -> interned string */
    uint32_t *slen;           /* string id -> its length */
    int8_t *sfield;           /* string id -> field; -1 none, -2 unknown */
    size_t nstr, capstr;      /* strings interned / allocated */
    shape_t *shapes;          /* shape id -> shape */
    size_t nshapes, capshapes;
    smember_t *sm;            /* every shape's members */
    size_t nsm, capsm;
    uint32_t *shape_set;      /* shape id + 1, by hash; 0: empty */
    size_t shape_set_size;

    wr_event_t *view;         /* the checkers' view of events [0, nview) */
    size_t nview, capview;

    member_t b[MEMBERS_MAX];  /* the event being built */
    size_t nb;
    wr_src_t bsrc;
    int bstate; /* 0: none, 1: building, negative errno: failed */
};

/* ------------------------------------------------------------------ */
/* Small tools                                                          */
/* ------------------------------------------------------------------ */

static uint8_t *put_uv(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

static const uint8_t *get_uv(const uint8_t *p, uint64_t *v)
{
    uint64_t x = 0;
    int shift = 0;

    for (;;) {
        uint8_t b = *p++;

        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
        shift += 7;
    }
    *v = x;
    return p;
}

static uint64_t zigzag(int64_t n)
{
    return ((uint64_t)n << 1) ^ (uint64_t)(n >> 63);
}

static int64_t unzigzag(uint64_t x)
{
    return (int64_t)(x >> 1) ^ -(int64_t)(x & 1);
}

static uint32_t hash_bytes(const char *s, size_t len)
{
    uint32_t x = 2166136261u; /* FNV-1a */

    for (size_t i = 0; i < len; i++)
        x = (x ^ (unsigned char)s[i]) * 16777619u;
    return x;
}

/* Grows *ptr (*cap elements of size bytes) to hold more than n; false
 * when out of memory, *ptr left as it was. */
static bool reserve(void **ptr, size_t n, size_t *cap, size_t size)
{
    size_t c = *cap ? *cap : 64;
    void *p;

    if (n < *cap)
        return true;
    while (c <= n)
        c *= 2;
    p = realloc(*ptr, c * size);
    if (p == NULL)
        return false;
    *ptr = p;
    *cap = c;
    return true;
}

#define RESERVE(ptr, n, cap)                                                   \
    reserve((void **)&(ptr), (n), &(cap), sizeof(*(ptr)))

/* ------------------------------------------------------------------ */
/* Arena and intern set                                                 */
/* ------------------------------------------------------------------ */

/* Returns len bytes from the arena (unaligned: text only), or NULL. */
static char *arena_alloc(wr_history_t *h, size_t len)
{
    block_t *b = h->blocks;

    if (b == NULL || b->size - b->used < len) {
        /* Small histories (a summary's evidence, one short case) stay
         * small: blocks grow from ARENA_FIRST, doubling to ARENA_BLOCK. */
        bool own = len > ARENA_BLOCK / 4;
        size_t size = b == NULL ? ARENA_FIRST
                      : b->size < ARENA_BLOCK ? b->size * 2 : ARENA_BLOCK;

        if (own)
            size = len;
        else if (size < len)
            size = ARENA_BLOCK;
        b = malloc(sizeof(*b) + size);
        if (b == NULL)
            return NULL;
        b->used = 0;
        b->size = size;
        if (own && h->blocks != NULL) {
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

/* Grows the string tables to hold one more. */
static bool str_reserve(wr_history_t *h)
{
    size_t cap = h->capstr ? h->capstr * 2 : 1024;
    const char **str;
    uint32_t *slen;
    int8_t *sfield;

    if (h->nstr < h->capstr)
        return true;
    if (h->nstr >= NO_ID - 1)
        return false;
    /* Each grown table is kept even when a later one fails: capstr only
     * moves once all three are big enough. */
    if ((str = realloc(h->str, cap * sizeof(*str))) == NULL)
        return false;
    h->str = str;
    if ((slen = realloc(h->slen, cap * sizeof(*slen))) == NULL)
        return false;
    h->slen = slen;
    if ((sfield = realloc(h->sfield, cap * sizeof(*sfield))) == NULL)
        return false;
    h->sfield = sfield;
    h->capstr = cap;
    return true;
}

/* The id of s (len bytes), interned on first sight; NO_ID when out of
 * memory. A string already interned is found without changing
 * anything. */
static uint32_t intern_id(wr_history_t *h, const char *s, size_t len)
{
    uint32_t hash = hash_bytes(s, len);
    size_t i, mask = h->set_size - 1;
    char *copy;

    for (i = hash & mask; h->set[i].s != NULL; i = (i + 1) & mask)
        if (h->set[i].hash == hash && h->slen[h->set[i].id] == len &&
            memcmp(h->set[i].s, s, len) == 0)
            return h->set[i].id;
    if ((h->nstr + 1) * 4 > h->set_size * 3) {
        if (set_grow(h) != 0)
            return NO_ID;
        mask = h->set_size - 1;
        for (i = hash & mask; h->set[i].s != NULL; i = (i + 1) & mask)
            ;
    }
    if (len > UINT32_MAX || !str_reserve(h) ||
        (copy = arena_alloc(h, len + 1)) == NULL)
        return NO_ID;
    memcpy(copy, s, len);
    copy[len] = '\0';
    h->str[h->nstr] = copy;
    h->slen[h->nstr] = (uint32_t)len;
    h->sfield[h->nstr] = -2; /* not looked up yet */
    h->set[i] = (slot_t){copy, hash, (uint32_t)h->nstr};
    return (uint32_t)h->nstr++;
}

const char *wr__history_str(const wr_history_t *h, uint32_t id, size_t *len)
{
    *len = h->slen[id];
    return h->str[id];
}

/* The field of the member named by string id, -1 when none; looked up
 * once per name. */
static int field_of(const wr_history_t *ch, uint32_t id)
{
    /* A cache of a pure function of the string, filled by the thread
     * that builds the history (the view is built before readers share
     * it). */
    wr_history_t *h = (wr_history_t *)ch;

    if (h->sfield[id] == -2)
        h->sfield[id] = (int8_t)wr__history_field(h->str[id], h->slen[id]);
    return h->sfield[id];
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

/* Frees every event and record, keeping the strings and shapes. */
static void drop_events(wr_history_t *h)
{
    for (size_t i = 0; i < h->nrb; i++)
        free(h->rb[i]);
    free(h->rb);
    h->rb = NULL;
    h->nrb = h->caprb = h->cur = 0;
    h->has_cur = false;
    free(h->ref);
    h->ref = NULL;
    h->len = h->cap = h->ngateway = 0;
    free(h->view);
    h->view = NULL;
    h->nview = h->capview = 0;
}

void wr_history_free(wr_history_t *h)
{
    if (h == NULL)
        return;
    drop_events(h);
    while (h->blocks != NULL) {
        block_t *b = h->blocks;

        h->blocks = b->next;
        free(b);
    }
    free(h->set);
    free(h->str);
    free(h->slen);
    free(h->sfield);
    free(h->shapes);
    free(h->sm);
    free(h->shape_set);
    free(h);
}

/* ------------------------------------------------------------------ */
/* Shapes and records                                                   */
/* ------------------------------------------------------------------ */

static uint32_t shape_hash(const member_t *m, size_t n)
{
    uint32_t x = 2166136261u;

    for (size_t i = 0; i < n; i++)
        x = ((x ^ m[i].name) * 16777619u ^ m[i].type) * 16777619u;
    return x;
}

static bool shape_is(const wr_history_t *h, const shape_t *sh,
                     const member_t *m, size_t n)
{
    if (sh->n != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (h->sm[sh->first + i].name != m[i].name ||
            h->sm[sh->first + i].type != m[i].type)
            return false;
    return true;
}

static int shape_set_grow(wr_history_t *h)
{
    size_t n = h->shape_set_size ? h->shape_set_size * 2 : 64;
    uint32_t *set = calloc(n, sizeof(*set));

    if (set == NULL)
        return -ENOMEM;
    for (size_t k = 0; k < h->nshapes; k++) {
        size_t j = h->shapes[k].hash & (n - 1);

        while (set[j] != 0)
            j = (j + 1) & (n - 1);
        set[j] = (uint32_t)k + 1;
    }
    free(h->shape_set);
    h->shape_set = set;
    h->shape_set_size = n;
    return 0;
}

/* The id of the shape of members m[0..n), made on first sight; NO_ID
 * when out of memory. */
static uint32_t shape_id(wr_history_t *h, const member_t *m, size_t n)
{
    uint32_t hash = shape_hash(m, n);
    shape_t *sh;
    size_t j;

    if ((h->nshapes + 1) * 2 > h->shape_set_size && shape_set_grow(h) != 0)
        return NO_ID;
    for (j = hash & (h->shape_set_size - 1); h->shape_set[j] != 0;
         j = (j + 1) & (h->shape_set_size - 1)) {
        sh = &h->shapes[h->shape_set[j] - 1];
        if (sh->hash == hash && shape_is(h, sh, m, n))
            return h->shape_set[j] - 1;
    }
    if (!RESERVE(h->shapes, h->nshapes, h->capshapes) ||
        !RESERVE(h->sm, h->nsm + n, h->capsm))
        return NO_ID;
    sh = &h->shapes[h->nshapes];
    *sh = (shape_t){(uint32_t)h->nsm, (uint32_t)n, hash, false};
    for (size_t i = 0; i < n; i++) {
        h->sm[h->nsm++] = (smember_t){m[i].name, m[i].type};
        sh->has_src |= wr__history_field_is_src(field_of(h, m[i].name));
    }
    h->shape_set[j] = (uint32_t)h->nshapes + 1;
    return (uint32_t)h->nshapes++;
}

/* Room for a record of up to len bytes at the end of the blocks; *ref
 * names it. Commit the bytes used with rec_commit(). NULL when out of
 * memory. */
static uint8_t *rec_room(wr_history_t *h, size_t len, uint32_t *ref)
{
    rblock_t *b = h->has_cur ? h->rb[h->cur] : NULL;
    bool own = len > REC_BLOCK / 4; /* a big record gets a block of its own */

    if (own || b == NULL || b->size - b->used < len) {
        /* Ordinary blocks grow from REC_FIRST, doubling to REC_BLOCK (a
         * ref's offset has REC_BITS bits, so never past it). */
        size_t size = b == NULL ? REC_FIRST
                      : b->size < REC_BLOCK ? (size_t)b->size * 2 : REC_BLOCK;

        if (own)
            size = len;
        else if (size < len)
            size = REC_BLOCK;

        if (h->nrb >= REC_BLOCKS_MAX || size > UINT32_MAX ||
            !RESERVE(h->rb, h->nrb, h->caprb) ||
            (b = malloc(sizeof(*b) + size)) == NULL)
            return NULL;
        b->used = 0;
        b->size = (uint32_t)size;
        h->rb[h->nrb] = b;
        if (!own) {
            h->cur = h->nrb;
            h->has_cur = true;
        }
        *ref = (uint32_t)h->nrb++ << REC_BITS;
        return b->data;
    }
    *ref = (uint32_t)h->cur << REC_BITS | b->used;
    return b->data + b->used;
}

static void rec_commit(wr_history_t *h, uint32_t ref, size_t used)
{
    h->rb[ref >> REC_BITS]->used += (uint32_t)used;
}

static const uint8_t *rec_at(const wr_history_t *h, size_t i)
{
    uint32_t ref = h->ref[i];

    return h->rb[ref >> REC_BITS]->data + (ref & (REC_BLOCK - 1));
}

static wr_src_t rec_src(const uint8_t *r)
{
    return (wr_src_t)(r[0] >> 2 & 3);
}

/* The bytes after record r's header; its chain in *chain. */
static const uint8_t *rec_body(const uint8_t *r, unsigned *chain)
{
    uint64_t c = 0;
    const uint8_t *p = r + 1;

    if (r[0] & REC_HAS_CHAIN)
        p = get_uv(p, &c);
    *chain = (unsigned)c;
    return p;
}

/* Appends an event of trace chain `chain`: members m[0..n) when text is
 * NULL, else the line's text (len bytes, from its brace). */
static int append(wr_history_t *h, wr_src_t src, unsigned chain,
                  const member_t *m, size_t n, const char *text, size_t len,
                  bool has_src)
{
    unsigned head = src << 2 | (chain ? REC_HAS_CHAIN : 0);
    uint32_t ref, shape = 0;
    uint8_t *p, *start;

    if (!RESERVE(h->ref, h->len, h->cap))
        return -ENOMEM;
    if (text == NULL && (shape = shape_id(h, m, n)) == NO_ID)
        return -ENOMEM;
    start = p = rec_room(h, text ? 16 + len : 11 + 10 * n, &ref);
    if (p == NULL)
        return -ENOMEM;
    *p++ = (uint8_t)(head | (text ? REC_TEXT : REC_SHAPED) |
                     (text && has_src ? REC_HAS_SRC : 0));
    if (chain)
        p = put_uv(p, chain);
    if (text == NULL) {
        p = put_uv(p, shape);
        for (size_t i = 0; i < n; i++)
            if (m[i].type == WR__T_INT)
                p = put_uv(p, zigzag(m[i].value));
            else if (m[i].type == WR__T_STR || m[i].type == WR__T_RAW)
                p = put_uv(p, (uint64_t)m[i].value);
    } else {
        p = put_uv(p, len);
        memcpy(p, text, len);
        p += len;
    }
    rec_commit(h, ref, (size_t)(p - start));
    h->ref[h->len++] = ref;
    if (src == WR_SRC_GATEWAY)
        h->ngateway++;
    return 0;
}

void wr__history_record(const wr_history_t *h, size_t i, wr__hrecord_t *out)
{
    const uint8_t *r = rec_at(h, i);
    const shape_t *sh;
    uint64_t v;

    out->src = rec_src(r);
    if ((r[0] & 3) == REC_TEXT) {
        out->has_src = (r[0] & REC_HAS_SRC) != 0;
        r = get_uv(rec_body(r, &out->chain), &v);
        out->text = (const char *)r;
        out->len = (size_t)v;
        out->n = 0;
        return;
    }
    r = get_uv(rec_body(r, &out->chain), &v);
    sh = &h->shapes[v];
    out->text = NULL;
    out->len = 0;
    out->has_src = sh->has_src;
    out->n = sh->n;
    for (uint32_t k = 0; k < sh->n; k++) {
        member_t *m = &out->m[k];

        m->name = h->sm[sh->first + k].name;
        m->type = h->sm[sh->first + k].type;
        m->value = 0;
        if (m->type == WR__T_INT) {
            r = get_uv(r, &v);
            m->value = unzigzag(v);
        } else if (m->type == WR__T_STR || m->type == WR__T_RAW) {
            r = get_uv(r, &v);
            m->value = (int64_t)v;
        }
    }
}

/* ------------------------------------------------------------------ */
/* Adding                                                               */
/* ------------------------------------------------------------------ */

/* One line being added: what its members fill, and the members. */
typedef struct {
    wr_history_t *h;
    wr__hparse_t p;
    member_t m[MEMBERS_MAX];
    size_t n;
    bool many; /* more members than a compact record holds */
} adding_t;

/* The reader's visit: interns the member and applies it to the event. */
static int add_visit(void *arg, const char *name, size_t len,
                     const wr__hval_t *v)
{
    adding_t *a = arg;
    wr_history_t *h = a->h;
    wr__hval_t val = *v;
    member_t m = {intern_id(h, name, len), WR__T_NULL, 0};
    int f;

    if (m.name == NO_ID)
        return -ENOMEM;
    switch (val.t) {
    case WR__HV_STR:
        m.type = WR__T_STR;
        m.value = intern_id(h, val.s, val.len);
        if (m.value == NO_ID)
            return -ENOMEM;
        val.is = h->str[m.value];
        break;
    case WR__HV_INT:
        m.type = WR__T_INT;
        m.value = val.n;
        break;
    case WR__HV_BOOL:
        m.type = val.b ? WR__T_TRUE : WR__T_FALSE;
        break;
    default:
        break; /* null, or a value only a text record keeps */
    }
    if (a->n < MEMBERS_MAX)
        a->m[a->n++] = m;
    else
        a->many = true;
    f = field_of(h, m.name);
    return f >= 0 ? wr__history_apply(&a->p, f, &val) : 0;
}

static bool blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* wr_history_add_line on len bytes of text (no NUL needed). */
static int add_text(wr_history_t *h, wr_src_t src, const char *text, size_t len)
{
    adding_t a;
    wr_event_t ev;
    bool exact;
    int rc;

    while (len > 0 && blank(*text)) {
        text++;
        len--;
    }
    while (len > 0 && blank(text[len - 1]))
        len--;
    if (len < 2 || text[0] != '{')
        return -EINVAL;
    a.h = h;
    a.n = 0;
    a.many = false;
    wr__history_event_init(&a.p, &ev, src);
    rc = wr__history_read(text, len, add_visit, &a, &exact);
    if (rc == 0 && ev.event == NULL)
        rc = -EINVAL;
    if (rc != 0)
        return rc;
    return exact && !a.many
               ? append(h, ev.src, h->loading, a.m, a.n, NULL, 0, a.p.has_src)
               : append(h, ev.src, h->loading, NULL, 0, text, len,
                        a.p.has_src);
}

int wr_history_add_line(wr_history_t *h, wr_src_t src, const char *line)
{
    if (h == NULL || line == NULL || (unsigned)src > WR_SRC_HARNESS)
        return -EINVAL;
    return add_text(h, src, line, strlen(line));
}

/* Applies member m (its strings interned in h) to the event. */
static int apply_member(wr_history_t *h, wr__hparse_t *p, const member_t *m)
{
    int f = field_of(h, m->name);
    wr__hval_t v = {.t = WR__HV_NULL};

    if (f < 0)
        return 0;
    switch (m->type) {
    case WR__T_STR:
        v.t = WR__HV_STR;
        v.is = v.s = h->str[m->value];
        v.len = h->slen[m->value];
        break;
    case WR__T_INT:
        v.t = WR__HV_INT;
        v.n = m->value;
        break;
    case WR__T_TRUE:
    case WR__T_FALSE:
        v.t = WR__HV_BOOL;
        v.b = m->type == WR__T_TRUE;
        break;
    case WR__T_RAW: {
        /* A real or a nested value, kept as its JSON text. */
        json_t *j = json_loads(h->str[m->value], JSON_DECODE_ANY, NULL);
        int rc;

        v = wr__history_json_val(j);
        rc = v.t == WR__HV_STR ? 0 : wr__history_apply(p, f, &v);
        json_decref(j);
        return rc;
    }
    default:
        break;
    }
    return wr__history_apply(p, f, &v);
}

int wr_history_begin(wr_history_t *h, wr_src_t src)
{
    if (h == NULL || (unsigned)src > WR_SRC_HARNESS)
        return -EINVAL;
    h->bstate = 1;
    h->bsrc = src;
    h->nb = 0;
    return 0;
}

/* Adds member name with a value of type to the event being built. */
static int put(wr_history_t *h, const char *name, uint8_t type, int64_t value)
{
    member_t *m;

    if (h == NULL || name == NULL)
        return -EINVAL;
    if (h->bstate != 1)
        return h->bstate < 0 ? h->bstate : -EINVAL;
    if (h->nb == MEMBERS_MAX) {
        h->bstate = -EINVAL;
        return -EINVAL;
    }
    m = &h->b[h->nb];
    *m = (member_t){intern_id(h, name, strlen(name)), type, value};
    if (m->name == NO_ID) {
        h->bstate = -ENOMEM;
        return -ENOMEM;
    }
    h->nb++;
    return 0;
}

/* put() of a string value (type WR__T_STR or WR__T_RAW), interned. */
static int put_text(wr_history_t *h, const char *name, uint8_t type,
                    const char *value, size_t len)
{
    uint32_t id;

    if (h == NULL || h->bstate != 1)
        return put(h, name, type, 0);
    id = intern_id(h, value, len);
    if (id == NO_ID) {
        h->bstate = -ENOMEM;
        return -ENOMEM;
    }
    return put(h, name, type, id);
}

int wr_history_put_str(wr_history_t *h, const char *name, const char *value)
{
    return value ? put_text(h, name, WR__T_STR, value, strlen(value))
                 : put(h, name, WR__T_NULL, 0);
}

int wr_history_put_int(wr_history_t *h, const char *name, int64_t value)
{
    return put(h, name, WR__T_INT, value);
}

int wr_history_put_bool(wr_history_t *h, const char *name, bool value)
{
    return put(h, name, value ? WR__T_TRUE : WR__T_FALSE, 0);
}

int wr_history_put_json(wr_history_t *h, const char *name,
                        const struct json_t *value)
{
    json_t *v = (json_t *)value;
    char *text;
    int rc;

    if (json_is_string(v))
        return put_text(h, name, WR__T_STR, json_string_value(v),
                        json_string_length(v));
    if (json_is_integer(v))
        return put(h, name, WR__T_INT, (int64_t)json_integer_value(v));
    if (json_is_boolean(v))
        return put(h, name, json_is_true(v) ? WR__T_TRUE : WR__T_FALSE, 0);
    if (v == NULL || json_is_null(v))
        return put(h, name, WR__T_NULL, 0);
    text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (text == NULL) {
        if (h != NULL && h->bstate == 1)
            h->bstate = -ENOMEM;
        return -ENOMEM;
    }
    rc = put_text(h, name, WR__T_RAW, text, strlen(text));
    free(text);
    return rc;
}

int wr_history_end(wr_history_t *h)
{
    wr__hparse_t p;
    wr_event_t ev;
    int rc = 0;

    if (h == NULL)
        return -EINVAL;
    if (h->bstate != 1) {
        rc = h->bstate < 0 ? h->bstate : -EINVAL;
        h->bstate = 0;
        return rc;
    }
    h->bstate = 0;
    wr__history_event_init(&p, &ev, h->bsrc);
    for (size_t i = 0; i < h->nb && rc == 0; i++)
        rc = apply_member(h, &p, &h->b[i]);
    if (rc == 0 && ev.event == NULL)
        rc = -EINVAL;
    return rc ? rc
              : append(h, ev.src, h->loading, h->b, h->nb, NULL, 0, p.has_src);
}

int wr_history_take(wr_history_t *h, wr_history_t *from, size_t n)
{
    wr__hrecord_t *r = malloc(sizeof(*r));
    int rc = 0;

    if (r == NULL)
        return -ENOMEM;
    if (n > from->len)
        n = from->len;
    for (size_t i = 0; i < n && rc == 0; i++) {
        wr__history_record(from, i, r);
        if (r->text != NULL) {
            rc = append(h, r->src, r->chain, NULL, 0, r->text, r->len,
                        r->has_src);
            continue;
        }
        /* The same members, their strings interned here. */
        for (size_t k = 0; k < r->n && rc == 0; k++) {
            member_t *m = &r->m[k];

            m->name = intern_id(h, from->str[m->name], from->slen[m->name]);
            if (m->type == WR__T_STR || m->type == WR__T_RAW)
                m->value = intern_id(h, from->str[m->value],
                                     from->slen[m->value]);
            if (m->name == NO_ID || m->value == NO_ID)
                rc = -ENOMEM;
        }
        if (rc == 0)
            rc = append(h, r->src, r->chain, r->m, r->n, NULL, 0, r->has_src);
    }
    free(r);
    drop_events(from);
    return rc;
}

void wr__history_chain_begin(wr_history_t *h)
{
    h->loading = h->chains;
}

void wr__history_chain_end(wr_history_t *h, bool ok)
{
    h->loading = 0;
    if (ok)
        h->chains++;
}

void wr__history_truncate(wr_history_t *h, size_t len)
{
    while (h->len > len) {
        h->len--;
        if (rec_src(rec_at(h, h->len)) == WR_SRC_GATEWAY)
            h->ngateway--;
    }
    if (h->nview > len)
        h->nview = len;
}

/* ------------------------------------------------------------------ */
/* Decoding and the view                                                */
/* ------------------------------------------------------------------ */

/* The reader's visit when a text record is decoded: every string is
 * interned already, so this only finds it. */
static int decode_visit(void *arg, const char *name, size_t len,
                        const wr__hval_t *v)
{
    adding_t *a = arg;
    wr__hval_t val = *v;
    uint32_t id = intern_id(a->h, name, len);
    int f;

    if (id == NO_ID)
        return -ENOMEM;
    f = field_of(a->h, id);
    if (f < 0)
        return 0;
    if (val.t == WR__HV_STR) {
        uint32_t sid = intern_id(a->h, val.s, val.len);

        if (sid == NO_ID)
            return -ENOMEM;
        val.is = a->h->str[sid];
    }
    return wr__history_apply(&a->p, f, &val);
}

/* Event i decoded into *ev. Returns 0, or -ENOMEM (a text record's
 * jansson read). */
static int decode(const wr_history_t *ch, size_t i, wr_event_t *ev)
{
    wr_history_t *h = (wr_history_t *)ch; /* see decode_visit() */
    const uint8_t *r = rec_at(h, i);
    adding_t a;
    unsigned chain;
    int rc = 0;

    a.h = h;
    wr__history_event_init(&a.p, ev, rec_src(r));
    if ((r[0] & 3) == REC_TEXT) {
        uint64_t len;
        bool exact;

        r = get_uv(rec_body(r, &chain), &len);
        rc = wr__history_read((const char *)r, (size_t)len, decode_visit, &a,
                              &exact);
    } else {
        const shape_t *sh;
        uint64_t v;

        r = get_uv(rec_body(r, &chain), &v);
        sh = &h->shapes[v];
        for (uint32_t k = 0; k < sh->n && rc == 0; k++) {
            const smember_t *s = &h->sm[sh->first + k];
            member_t m = {s->name, s->type, 0};

            if (s->type == WR__T_INT) {
                r = get_uv(r, &v);
                m.value = unzigzag(v);
            } else if (s->type == WR__T_STR || s->type == WR__T_RAW) {
                r = get_uv(r, &v);
                m.value = (int64_t)v;
            }
            rc = apply_member(h, &a.p, &m);
        }
    }
    wr__history_event_end(&a.p);
    ev->chain = chain;
    ev->index = (uint32_t)i;
    ev->history = h;
    return rc;
}

/* Extends the view to every event. Returns 0 or -ENOMEM. */
static int build_view(const wr_history_t *ch)
{
    wr_history_t *h = (wr_history_t *)ch; /* the view is a cache */

    if (h->nview >= h->len)
        return 0;
    if (!RESERVE(h->view, h->len - 1, h->capview))
        return -ENOMEM;
    for (; h->nview < h->len; h->nview++)
        if (decode(h, h->nview, &h->view[h->nview]) != 0)
            return -ENOMEM;
    return 0;
}

size_t wr_history_len(const wr_history_t *h)
{
    return h ? h->len : 0;
}

const wr_event_t *wr_history_at(const wr_history_t *h, size_t i)
{
    if (h == NULL || i >= h->len || build_view(h) != 0)
        return NULL;
    return &h->view[i];
}

int wr_history_get(const wr_history_t *h, size_t i, wr_event_t *out)
{
    if (h == NULL || i >= h->len)
        return -ERANGE;
    if (i < h->nview) {
        *out = h->view[i];
        return 0;
    }
    return decode(h, i, out);
}

size_t wr_history_index(const wr_history_t *h, const wr_event_t *ev)
{
    (void)h;
    return ev->index;
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
/* Order (wr_history_order.c decides it)                                */
/* ------------------------------------------------------------------ */

wr_event_t *wr__history_view(wr_history_t *h)
{
    return build_view(h) == 0 ? h->view : NULL;
}

unsigned wr__history_chains(const wr_history_t *h)
{
    return h->chains;
}

void wr__history_permute(wr_history_t *h, uint32_t *from)
{
    /* In place, one cycle at a time, the view and the records' refs
     * alike, so ordering needs no second copy of the events. A position
     * whose event is in place gets from[p] = p. */
    for (size_t p = 0; p < h->len; p++) {
        wr_event_t tmp;
        uint32_t tref;
        size_t q = p;

        if (from[p] == p)
            continue;
        tmp = h->view[p];
        tref = h->ref[p];
        while (from[q] != p) {
            size_t next = from[q];

            h->view[q] = h->view[next];
            h->ref[q] = h->ref[next];
            from[q] = (uint32_t)q;
            q = next;
        }
        h->view[q] = tmp;
        h->ref[q] = tref;
        from[q] = (uint32_t)q;
    }
    for (size_t p = 0; p < h->len; p++)
        h->view[p].index = (uint32_t)p;
}
