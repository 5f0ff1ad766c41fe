/* wr_check.c - The eight checkers: pure functions from a history to a
 * verdict with its evidence.
 *
 * Two views of a case feed them. The gateway's trace is replayed, in seq
 * order, into a registry model (key -> the live machines under it, each
 * with its owner connection and state), the way gw_registry.c would hold
 * it: registry.register created adds a machine, registry.unregister
 * removed drops one, registry.rekey moved moves one with the state it
 * carries, machine.transition ok/forced_failed changes a state, and a
 * lookup prefers the caller's own machine, as find_locked() does. The
 * clients' events are grouped into connection attempts (one per
 * client.connect invoke of a client), which the black-box rules read.
 *
 * Where the gateway traced what it saw itself (the "machine" field of
 * welcome.sent, message.process and coordinator.phase, read under the
 * registry lock), that is preferred to the model: the trace takes an
 * event's place in seq order after the read, so a concurrent close may
 * already have moved the model on.
 *
 * Each checker allocates its own scratch state and frees it before it
 * returns; the history is only read. Any thread; no locks. */
#include "wr_check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Small tools                                                          */
/* ------------------------------------------------------------------ */

static bool is(const wr_event_t *ev, const char *name)
{
    return ev->event != NULL && strcmp(ev->event, name) == 0;
}

static bool eq(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

static bool from_gateway(const wr_event_t *ev)
{
    return ev->src == WR_SRC_GATEWAY;
}

static bool from_client(const wr_event_t *ev)
{
    return ev->src == WR_SRC_CLIENT && ev->client >= 0;
}

static const char *str(const char *s)
{
    return s != NULL ? s : "?";
}

static double ms(int64_t ns)
{
    return (double)ns / 1e6;
}

/* Machine states, DESIGN.md 2.1. */
typedef enum {
    ST_NONE = -1, /* unknown or absent */
    ST_CONNECTING,
    ST_ACCEPTED,
    ST_AUTHENTICATED,
    ST_SERVICES_READY,
    ST_PROCESSING_READY,
    ST_PROCESSING,
    ST_IDLE,
    ST_DEGRADED,
    ST_RECONNECTING,
    ST_CLOSING,
    ST_CLOSED,
    ST_FAILED,
    ST__COUNT
} st_t;

static const char *const st_names[ST__COUNT] = {
    "CONNECTING",       "ACCEPTED",   "AUTHENTICATED", "SERVICES_READY",
    "PROCESSING_READY", "PROCESSING", "IDLE",          "DEGRADED",
    "RECONNECTING",     "CLOSING",    "CLOSED",        "FAILED",
};

static st_t st_parse(const char *name)
{
    for (int i = 0; name != NULL && i < ST__COUNT; i++)
        if (strcmp(st_names[i], name) == 0)
            return (st_t)i;
    return ST_NONE;
}

static const char *st_name(st_t s)
{
    return s >= 0 && s < ST__COUNT ? st_names[s] : "absent";
}

/* The ready set: PROCESSING_READY, PROCESSING, IDLE, DEGRADED. */
static bool st_ready(st_t s)
{
    return s == ST_PROCESSING_READY || s == ST_PROCESSING || s == ST_IDLE ||
           s == ST_DEGRADED;
}

/* ------------------------------------------------------------------ */
/* Result building                                                      */
/* ------------------------------------------------------------------ */

static void result_init(wr_check_result_t *r, wr_check_id_t id)
{
    memset(r, 0, sizeof(*r));
    r->id = id;
    r->verdict = WR_PASS;
}

/* Counts one violation. The first one writes the summary; returns whether
 * this was the first, so callers cite evidence for that one only. */
static bool violation(wr_check_result_t *r, const char *fmt, ...)
{
    va_list ap;

    if (r->violations++ > 0)
        return false;
    va_start(ap, fmt);
    vsnprintf(r->summary, sizeof(r->summary), fmt, ap);
    va_end(ap);
    return true;
}

/* Adds ev to the evidence unless already there or full. */
static void cite(wr_check_result_t *r, const wr_event_t *ev)
{
    if (ev == NULL || r->nevidence == WR_EVIDENCE_MAX)
        return;
    for (size_t i = 0; i < r->nevidence; i++)
        if (r->evidence[i] == ev)
            return;
    r->evidence[r->nevidence++] = ev;
}

static int ptr_cmp(const void *a, const void *b)
{
    const wr_event_t *x = *(const wr_event_t *const *)a;
    const wr_event_t *y = *(const wr_event_t *const *)b;

    return x < y ? -1 : x > y;
}

/* Sets the verdict. With violations: FAIL, the evidence in history order
 * (events are one array) and the count appended when more than one.
 * Without: `otherwise`, and the summary why when it is still empty. */
static void finish(wr_check_result_t *r, wr_verdict_t otherwise,
                   const char *fmt, ...)
{
    if (r->violations > 0) {
        size_t len = strlen(r->summary);

        r->verdict = WR_FAIL;
        qsort(r->evidence, r->nevidence, sizeof(*r->evidence), ptr_cmp);
        if (r->violations > 1 && len < sizeof(r->summary))
            snprintf(r->summary + len, sizeof(r->summary) - len,
                     " (%zu violations in all)", r->violations);
        return;
    }
    r->verdict = otherwise;
    r->nevidence = 0;
    if (r->summary[0] == '\0') {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(r->summary, sizeof(r->summary), fmt, ap);
        va_end(ap);
    }
}

static void out_of_memory(wr_check_result_t *r)
{
    wr_check_id_t id = r->id;

    result_init(r, id);
    r->verdict = WR_UNKNOWN;
    snprintf(r->summary, sizeof(r->summary),
             "the checker ran out of memory; nothing was decided");
}

/* ------------------------------------------------------------------ */
/* Pair map: (a, b) -> int, open addressing                              */
/* ------------------------------------------------------------------ */

typedef struct {
    uint64_t a, b; /* key; a slot is empty when used is 0 */
    int value;
    int used;
} pslot_t;

typedef struct {
    pslot_t *s;
    size_t size, count; /* slots (a power of two) / used */
} pmap_t;

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

static void pmap_free(pmap_t *m)
{
    free(m->s);
    m->s = NULL;
    m->size = m->count = 0;
}

static bool pmap_grow(pmap_t *m)
{
    size_t n = m->size ? m->size * 2 : 64;
    pslot_t *s = calloc(n, sizeof(*s));

    if (s == NULL)
        return false;
    for (size_t i = 0; i < m->size; i++) {
        size_t j;

        if (!m->s[i].used)
            continue;
        j = mix(m->s[i].a * 31 + m->s[i].b) & (n - 1);
        while (s[j].used)
            j = (j + 1) & (n - 1);
        s[j] = m->s[i];
    }
    free(m->s);
    m->s = s;
    m->size = n;
    return true;
}

/* The value slot of (a, b). With insert, a missing key is added with
 * value -1; NULL when missing (without insert) or out of memory. */
static int *pmap_at(pmap_t *m, uint64_t a, uint64_t b, bool insert)
{
    size_t i;

    if (m->size == 0 && (!insert || !pmap_grow(m)))
        return NULL;
    if (insert && (m->count + 1) * 4 > m->size * 3 && !pmap_grow(m))
        return NULL;
    for (i = mix(a * 31 + b) & (m->size - 1); m->s[i].used;
         i = (i + 1) & (m->size - 1))
        if (m->s[i].a == a && m->s[i].b == b)
            return &m->s[i].value;
    if (!insert)
        return NULL;
    m->s[i] = (pslot_t){a, b, -1, 1};
    m->count++;
    return &m->s[i].value;
}

static int pmap_get(const pmap_t *m, uint64_t a, uint64_t b)
{
    int *v = pmap_at((pmap_t *)m, a, b, false);

    return v ? *v : -1;
}

static uint64_t pkey(const char *s)
{
    return (uint64_t)(uintptr_t)s;
}

/* A growable array of T, zero-filled when it grows. */
#define VEC_RESERVE(ptr, n, cap)                                               \
    vec_reserve((void **)&(ptr), (n), &(cap), sizeof(*(ptr)))

static bool vec_reserve(void **ptr, size_t n, size_t *cap, size_t size)
{
    size_t c = *cap ? *cap : 16;
    void *p;

    if (n < *cap)
        return true;
    while (c <= n)
        c *= 2;
    p = realloc(*ptr, c * size);
    if (p == NULL)
        return false;
    memset((char *)p + *cap * size, 0, (c - *cap) * size);
    *ptr = p;
    *cap = c;
    return true;
}

/* ------------------------------------------------------------------ */
/* Registry model                                                       */
/* ------------------------------------------------------------------ */

typedef struct {
    const char *key;       /* current key (interned) */
    uint64_t conn;         /* owner: the connection that registered it */
    st_t state;            /* ST_NONE when a rekey did not say */
    const wr_event_t *reg; /* the event that put it under key */
    int next;              /* next live machine under the same key, -1 */
    bool live;
} machine_t;

typedef struct {
    machine_t *m;
    size_t n, cap;
    pmap_t heads; /* key -> first live machine (the newest), -1: none */
    bool oom;
} model_t;

static void model_free(model_t *md)
{
    free(md->m);
    pmap_free(&md->heads);
}

static int model_head(const model_t *md, const char *key)
{
    return key ? pmap_get(&md->heads, pkey(key), 0) : -1;
}

/* key's machine as the gateway looks it up for conn: conn's own first,
 * else the newest; -1 when the key has none. */
static int model_find(const model_t *md, const char *key, uint64_t conn)
{
    int first = model_head(md, key);

    for (int i = first; i >= 0; i = md->m[i].next)
        if (conn != 0 && md->m[i].conn == conn)
            return i;
    return first;
}

/* conn's own machine under key, or -1. */
static int model_own(const model_t *md, const char *key, uint64_t conn)
{
    for (int i = model_head(md, key); i >= 0; i = md->m[i].next)
        if (md->m[i].conn == conn)
            return i;
    return -1;
}

static size_t model_count(const model_t *md, const char *key)
{
    size_t n = 0;

    for (int i = model_head(md, key); i >= 0; i = md->m[i].next)
        n++;
    return n;
}

static bool model_any_ready(const model_t *md, const char *key)
{
    for (int i = model_head(md, key); i >= 0; i = md->m[i].next)
        if (st_ready(md->m[i].state))
            return true;
    return false;
}

static st_t model_state(const model_t *md, const char *key, uint64_t conn)
{
    int i = model_find(md, key, conn);

    return i >= 0 ? md->m[i].state : ST_NONE;
}

static void model_link(model_t *md, int i, const char *key)
{
    int *head = pmap_at(&md->heads, pkey(key), 0, true);

    if (head == NULL) {
        md->oom = true;
        return;
    }
    md->m[i].key = key;
    md->m[i].next = *head;
    *head = i;
}

static void model_unlink(model_t *md, int i)
{
    int *p = pmap_at(&md->heads, pkey(md->m[i].key), 0, false);

    while (p != NULL && *p >= 0) {
        if (*p == i) {
            *p = md->m[i].next;
            break;
        }
        p = &md->m[*p].next;
    }
    md->m[i].next = -1;
}

static int model_add(model_t *md, const char *key, uint64_t conn, st_t st,
                     const wr_event_t *reg)
{
    int i = (int)md->n;

    if (!VEC_RESERVE(md->m, md->n, md->cap)) {
        md->oom = true;
        return -1;
    }
    md->n++;
    md->m[i] = (machine_t){.conn = conn, .state = st, .reg = reg, .live = 1};
    model_link(md, i, key);
    return i;
}

/* Applies one gateway event. Returns the machine it registered, moved or
 * changed, or -1. */
static int model_apply(model_t *md, const wr_event_t *ev)
{
    int i;

    if (!from_gateway(ev) || ev->key == NULL || ev->result == NULL)
        return -1;
    if (is(ev, "registry.register")) {
        if (eq(ev->result, "created"))
            return model_add(md, ev->key, ev->conn, ST_CONNECTING, ev);
    } else if (is(ev, "registry.unregister")) {
        if (eq(ev->result, "removed") &&
            (i = model_find(md, ev->key, ev->conn)) >= 0) {
            model_unlink(md, i);
            md->m[i].live = false;
        }
    } else if (is(ev, "registry.rekey")) {
        if (!eq(ev->result, "moved"))
            return -1;
        i = ev->from ? model_find(md, ev->from, ev->conn) : -1;
        if (i < 0)
            return model_add(md, ev->key, ev->conn, st_parse(ev->state), ev);
        model_unlink(md, i);
        model_link(md, i, ev->key);
        md->m[i].reg = ev;
        if (ev->state != NULL)
            md->m[i].state = st_parse(ev->state);
        return i;
    } else if (is(ev, "machine.transition")) {
        i = model_find(md, ev->key, ev->conn);
        if (i < 0)
            return -1;
        if (eq(ev->result, "ok") && ev->to != NULL)
            md->m[i].state = st_parse(ev->to);
        else if (eq(ev->result, "forced_failed"))
            md->m[i].state = ST_FAILED;
        else
            return -1;
        return i;
    }
    return -1;
}

/* ------------------------------------------------------------------ */
/* Gateway connections                                                  */
/* ------------------------------------------------------------------ */

/* What the trace says of one gateway connection. */
typedef struct {
    uint64_t id;
    const wr_event_t *auth_ok;      /* auth.ok */
    const wr_event_t *swap_begin;   /* swap.begin */
    const wr_event_t *swapped;      /* swap.done or swap.swallowed */
    const wr_event_t *welcome;      /* first welcome.sent */
    const wr_event_t *ready_failed; /* ready.failed */
    const wr_event_t *failed;       /* conn.failed */
    const wr_event_t *ended;        /* transport_closed or conn.failed */
    const wr_event_t *closed;       /* conn.closed */
    const wr_event_t *gate;         /* last message.gate that let one in */
    const char *final_key;          /* key after the swap */
    bool shared;                    /* swap.done existing: not its machine */
    bool flagged;                   /* a violation was counted for it */
    bool bare;                      /* seen alive without its machine */
} gconn_t;

typedef struct {
    gconn_t *c;
    size_t n, cap;
    pmap_t index; /* conn id -> c[] */
    bool oom;
} gconns_t;

static void gconns_free(gconns_t *g)
{
    free(g->c);
    pmap_free(&g->index);
}

/* The record of conn (created on first sight), or NULL for conn 0 or out
 * of memory. */
static gconn_t *gconn(gconns_t *g, uint64_t conn)
{
    int *v;

    if (conn == 0)
        return NULL;
    v = pmap_at(&g->index, conn, 1, true);
    if (v == NULL) {
        g->oom = true;
        return NULL;
    }
    if (*v < 0) {
        if (!VEC_RESERVE(g->c, g->n, g->cap)) {
            g->oom = true;
            return NULL;
        }
        *v = (int)g->n++;
        g->c[*v].id = conn;
    }
    return &g->c[*v];
}

/* Records what a gateway event says of its connection; returns the
 * connection's record, NULL when the event has none. */
static gconn_t *gconn_note(gconns_t *g, const wr_event_t *ev)
{
    gconn_t *c;

    if (!from_gateway(ev) || (c = gconn(g, ev->conn)) == NULL)
        return NULL;
    if (is(ev, "auth.ok") && c->auth_ok == NULL) {
        c->auth_ok = ev;
    } else if (is(ev, "swap.begin")) {
        c->swap_begin = ev;
    } else if (is(ev, "swap.done") || is(ev, "swap.swallowed")) {
        c->swapped = ev;
        c->final_key = ev->key;
        c->shared = eq(ev->result, "existing");
    } else if (is(ev, "welcome.sent") && c->welcome == NULL) {
        c->welcome = ev;
    } else if (is(ev, "ready.failed") && c->ready_failed == NULL) {
        c->ready_failed = ev;
    } else if (is(ev, "conn.failed") && c->failed == NULL) {
        c->failed = ev;
        if (c->ended == NULL)
            c->ended = ev;
    } else if (is(ev, "conn.transport_closed") && c->ended == NULL) {
        c->ended = ev;
    } else if (is(ev, "conn.closed") && c->closed == NULL) {
        c->closed = ev;
        if (c->ended == NULL)
            c->ended = ev;
    } else if (is(ev, "message.gate") && eq(ev->decision, "process")) {
        c->gate = ev;
    }
    return c;
}

/* ------------------------------------------------------------------ */
/* Client connections                                                   */
/* ------------------------------------------------------------------ */

/* One connection attempt of a client: from its client.connect invoke to
 * the next one. */
typedef struct {
    int client;
    const wr_event_t *connect;     /* client.connect invoke */
    const wr_event_t *fail;        /* client.connect fail */
    const wr_event_t *established; /* client.established ok */
    const wr_event_t *welcome;     /* client.recv connection_established */
    const wr_event_t *close_req;   /* client.close invoke */
    const wr_event_t *closed;      /* client.closed */
    const wr_event_t *refusal;     /* error_message DUPLICATE_SESSION or
                                      AUTH_FAILED */
    const char *session;           /* asked for (connect key) */
    const char *key;               /* given (welcome connection_id) */
} cconn_t;

typedef struct {
    cconn_t *c;
    size_t n, cap;
    int *of;      /* history index -> c[] of that client event, or -1 */
    pmap_t cur;   /* client -> its current attempt */
    pmap_t names; /* interned session/key -> first attempt naming it */
    const wr_event_t *crash;    /* target.exit of a gateway that died */
    const wr_event_t *regcount; /* last target.registry */
    int64_t end_ns;             /* latest ns in the history */
    bool oom;
} clients_t;

static void clients_free(clients_t *cl)
{
    free(cl->c);
    free(cl->of);
    pmap_free(&cl->cur);
    pmap_free(&cl->names);
}

static bool refused_close(int code)
{
    return code == 4409 || code == 1008;
}

static void name_attempt(clients_t *cl, const char *name, int i)
{
    int *v;

    if (name == NULL)
        return;
    v = pmap_at(&cl->names, pkey(name), 0, true);
    if (v == NULL)
        cl->oom = true;
    else if (*v < 0)
        *v = i;
}

/* Groups the client events into attempts and notes the harness events. */
static void clients_build(clients_t *cl, const wr_history_t *h)
{
    size_t len = wr_history_len(h);

    memset(cl, 0, sizeof(*cl));
    cl->of = malloc((len ? len : 1) * sizeof(*cl->of));
    if (cl->of == NULL) {
        cl->oom = true;
        return;
    }
    for (size_t i = 0; i < len && !cl->oom; i++) {
        const wr_event_t *ev = wr_history_at(h, i);
        cconn_t *c;
        int *cur;

        cl->of[i] = -1;
        if (ev->ns > cl->end_ns)
            cl->end_ns = ev->ns;
        if (ev->src == WR_SRC_HARNESS) {
            if (is(ev, "target.exit")) {
                /* Killed by a signal, or gone on its own with an error
                 * status (a sanitizer build exits 1 where a plain one
                 * takes SIGSEGV). */
                if (ev->sig > 0 || (ev->stopped == 0 && ev->code != 0))
                    cl->crash = ev;
            } else if (is(ev, "target.registry")) {
                cl->regcount = ev;
            }
            continue;
        }
        if (!from_client(ev))
            continue;
        cur = pmap_at(&cl->cur, (uint64_t)ev->client, 2, true);
        if (cur == NULL) {
            cl->oom = true;
            break;
        }
        if (is(ev, "client.connect") && eq(ev->type, "invoke")) {
            if (!VEC_RESERVE(cl->c, cl->n, cl->cap)) {
                cl->oom = true;
                break;
            }
            *cur = (int)cl->n++;
            c = &cl->c[*cur];
            c->client = ev->client;
            c->connect = ev;
            c->session = ev->key;
            name_attempt(cl, ev->key, *cur);
        }
        if (*cur < 0)
            continue; /* a probe or barrier before any connect */
        cl->of[i] = *cur;
        c = &cl->c[*cur];
        if (is(ev, "client.connect") && eq(ev->type, "fail")) {
            c->fail = ev;
        } else if (is(ev, "client.established") && c->established == NULL) {
            c->established = ev;
            if (ev->key != NULL && c->key == NULL)
                c->key = ev->key;
            name_attempt(cl, ev->key, *cur);
        } else if (is(ev, "client.recv") &&
                   eq(ev->msg_type, "connection_established")) {
            if (c->welcome == NULL)
                c->welcome = ev;
            if (ev->key != NULL && c->key == NULL)
                c->key = ev->key;
            name_attempt(cl, ev->key, *cur);
        } else if (is(ev, "client.recv") && eq(ev->msg_type, "error_message") &&
                   (eq(ev->error, "DUPLICATE_SESSION") ||
                    eq(ev->error, "AUTH_FAILED"))) {
            if (c->refusal == NULL)
                c->refusal = ev;
        } else if (is(ev, "client.close") && eq(ev->type, "invoke")) {
            if (c->close_req == NULL)
                c->close_req = ev;
        } else if (is(ev, "client.closed") && c->closed == NULL) {
            c->closed = ev;
        }
    }
}

/* "died of signal 11" or "exited on its own with status 1". */
static const char *death(const wr_event_t *exit, char *buf, size_t len)
{
    if (exit->sig > 0)
        snprintf(buf, len, "died of signal %d", exit->sig);
    else
        snprintf(buf, len, "exited on its own with status %d", exit->code);
    return buf;
}

/* Whether the server refused the attempt (duplicate session, bad token). */
static bool refused(const cconn_t *c)
{
    return c->refusal != NULL ||
           (c->closed != NULL && refused_close(c->closed->code));
}

/* When the client stopped using the attempt: its close request, else its
 * close; NULL while open. */
static const wr_event_t *stopped(const cconn_t *c)
{
    return c->close_req != NULL ? c->close_req : c->closed;
}

/* Whether the attempt was closed by the client itself. */
static bool closed_by_client(const cconn_t *c)
{
    return c->close_req != NULL ||
           (c->closed != NULL && eq(c->closed->by, "client"));
}

/* When the attempt learnt its key: its client.established, else the
 * welcome it received; NULL when it never did. */
static const wr_event_t *welcomed_at(const cconn_t *c)
{
    return c->established != NULL ? c->established : c->welcome;
}

/* Whether ev tells a client its key (connection_id). */
static bool names_key(const wr_event_t *ev)
{
    return ev->key != NULL && (is(ev, "client.established") ||
                               (is(ev, "client.recv") &&
                                eq(ev->msg_type, "connection_established")));
}

static bool token_valid(const cconn_t *c)
{
    return c->connect->token == NULL || eq(c->connect->token, "valid");
}

/* ------------------------------------------------------------------ */
/* scope_loss                                                           */
/* ------------------------------------------------------------------ */

/* The connection's key swap lost its registry handle, or the gateway died:
 * trace events swap.begin handle=out-of-scope, swap.error, swap.swallowed;
 * a live connection whose final key holds no machine of its own; a target
 * killed by a signal. Black-box: a valid connection closed 1011 before it
 * was welcomed. */
static void check_scope_loss(const wr_history_t *h, const clients_t *cl,
                             wr_check_result_t *r)
{
    size_t len = wr_history_len(h);
    uint64_t focus = 0;      /* the connection of the first violation */
    uint64_t crash_conn = 0; /* the connection the crash is blamed on */
    model_t md = {0};
    gconns_t g = {0};

    if (cl->crash != NULL) {
        const wr_event_t *last = NULL, *oos = NULL;
        char d[64];

        for (size_t i = 0; i < len; i++) {
            const wr_event_t *ev = wr_history_at(h, i);

            if (ev == cl->crash)
                break;
            if (!from_gateway(ev))
                continue;
            last = ev;
            if (is(ev, "swap.begin") && eq(ev->handle, "out-of-scope"))
                oos = ev;
        }
        if (oos != NULL)
            violation(r,
                      "the gateway %s right after conn %llu's "
                      "key swap used a registry handle whose scope had ended "
                      "(seq %llu)",
                      death(cl->crash, d, sizeof(d)),
                      (unsigned long long)oos->conn,
                      (unsigned long long)oos->seq);
        else if (last != NULL)
            violation(r,
                      "the gateway %s; its last traced event was %s (seq "
                      "%llu)",
                      death(cl->crash, d, sizeof(d)), last->event,
                      (unsigned long long)last->seq);
        else
            violation(r, "the gateway %s", death(cl->crash, d, sizeof(d)));
        cite(r, oos != NULL ? oos : last);
        cite(r, cl->crash);
        if (oos != NULL)
            focus = crash_conn = oos->conn;
    }
    if (!wr_history_has_trace(h)) {
        /* Black-box: the one visible symptom is the error mode's close. */
        for (size_t i = 0; i < cl->n; i++) {
            const cconn_t *c = &cl->c[i];

            if (c->closed == NULL || c->closed->code != 1011 ||
                c->established != NULL || c->welcome != NULL || !token_valid(c))
                continue;
            if (violation(r,
                          "client %d's connection was closed with 1011 "
                          "(internal error) during its handshake, before any "
                          "welcome",
                          c->client)) {
                cite(r, c->connect);
                cite(r, c->closed);
            }
        }
        finish(r, WR_UNKNOWN,
               "no gateway trace, and no client saw a handshake end in 1011");
        return;
    }
    for (size_t i = 0; i < len && !md.oom && !g.oom; i++) {
        const wr_event_t *ev = wr_history_at(h, i);
        bool lost_handle;
        gconn_t *c;

        if (!from_gateway(ev))
            continue;
        model_apply(&md, ev);
        c = gconn_note(&g, ev);
        if (c == NULL)
            continue;
        lost_handle =
            (is(ev, "swap.begin") && eq(ev->handle, "out-of-scope")) ||
            is(ev, "swap.error") || is(ev, "swap.swallowed");
        if (lost_handle) {
            /* One violation per connection; its swap events as evidence. */
            if (!c->flagged && ev->conn != crash_conn) {
                c->flagged = true;
                if (violation(r,
                              "conn %llu's key swap to '%s' used a registry "
                              "handle whose scope had ended (seq %llu)",
                              (unsigned long long)ev->conn,
                              str(c->swap_begin ? c->swap_begin->to : NULL),
                              (unsigned long long)ev->seq))
                    focus = ev->conn;
            }
            if (ev->conn == focus)
                cite(r, ev);
            continue;
        }
        /* A live, swapped connection must own a machine under its key. */
        if (c->swapped == NULL || c->ended != NULL || c->shared || c->bare ||
            model_own(&md, c->final_key, c->id) >= 0)
            continue;
        c->bare = true;
        if (ev->conn == focus) {
            size_t n = strlen(r->summary);

            cite(r, ev); /* what living without a machine looked like */
            snprintf(r->summary + n, sizeof(r->summary) - n,
                     "; the connection lived on with no machine under '%s' "
                     "(seq %llu)",
                     str(c->final_key), (unsigned long long)ev->seq);
            continue;
        }
        if (c->flagged)
            continue;
        c->flagged = true;
        if (violation(r,
                      "conn %llu lived on under key '%s' with no machine of "
                      "its own (seq %llu)",
                      (unsigned long long)ev->conn, str(c->final_key),
                      (unsigned long long)ev->seq)) {
            focus = ev->conn;
            cite(r, c->swapped);
            cite(r, ev);
        }
    }
    if (md.oom || g.oom)
        out_of_memory(r);
    else
        finish(r, WR_PASS,
               "every key swap used the endpoint's registry handle and every "
               "live connection kept its machine");
    model_free(&md);
    gconns_free(&g);
}

/* ------------------------------------------------------------------ */
/* false_readiness                                                      */
/* ------------------------------------------------------------------ */

/* Whether the gateway's own reading (the event's "machine" field) or, when
 * it has none, the model says the connection's machine is not ready.
 * *st receives the state that was judged. */
static bool not_ready(const model_t *md, const wr_event_t *ev, const gconn_t *c,
                      st_t *st)
{
    if (ev->machine != NULL) {
        *st = st_parse(ev->machine);
        return !st_ready(*st);
    }
    *st = model_state(md, ev->key, ev->conn);
    /* After the transport closed the close path may run concurrently and
     * move the model on; only the event's own reading counts then. */
    return !st_ready(*st) && (c == NULL || c->ended == NULL);
}

/* The next event of conn after ev that makes its machine ready, or NULL. */
static const wr_event_t *next_ready(const wr_history_t *h, const wr_event_t *ev)
{
    for (size_t i = wr_history_index(h, ev) + 1; i < wr_history_len(h); i++) {
        const wr_event_t *e = wr_history_at(h, i);

        if (from_gateway(e) && e->conn == ev->conn &&
            is(e, "machine.transition") && eq(e->result, "ok") &&
            st_parse(e->to) == ST_PROCESSING_READY)
            return e;
    }
    return NULL;
}

/* Something said "ready" for a key whose machine was not: a processed
 * message, a debug answer, a welcome; black-box, a probe of a key nobody
 * holds, or a welcomed client whose own key then probes not ready. */
static void check_false_readiness(const wr_history_t *h, const clients_t *cl,
                                  wr_check_result_t *r)
{
    size_t len = wr_history_len(h), probes = 0;
    bool trace = wr_history_has_trace(h);
    model_t md = {0};
    gconns_t g = {0};

    for (size_t i = 0; i < len && !md.oom && !g.oom; i++) {
        const wr_event_t *ev = wr_history_at(h, i);
        gconn_t *c;
        st_t st;

        if (from_gateway(ev)) {
            model_apply(&md, ev);
            c = gconn_note(&g, ev);
            if (is(ev, "message.process") && not_ready(&md, ev, c, &st)) {
                if (violation(r,
                              "conn %llu processed message '%s' under key "
                              "'%s' while its machine was %s (seq %llu)",
                              (unsigned long long)ev->conn,
                              str(ev->correlation_id), str(ev->key),
                              st_name(st), (unsigned long long)ev->seq)) {
                    cite(r, c ? c->gate : NULL);
                    cite(r, ev);
                    cite(r, next_ready(h, ev));
                }
            } else if (is(ev, "welcome.sent") && ev->connection_ready == 1 &&
                       not_ready(&md, ev, c, &st)) {
                if (violation(r,
                              "conn %llu was welcomed with connection_ready "
                              "true while its machine under '%s' was %s "
                              "(seq %llu)",
                              (unsigned long long)ev->conn, str(ev->key),
                              st_name(st), (unsigned long long)ev->seq)) {
                    cite(r, ev);
                    cite(r, next_ready(h, ev));
                }
            } else if (is(ev, "debug.ready") && ev->ready == 1 &&
                       (ev->registered == 0 ||
                        (ev->registered == -1 &&
                         !model_any_ready(&md, ev->key)))) {
                /* registered true with ready true is the gateway's own
                 * atomic reading; the model may only lag it. */
                if (violation(r,
                              "/debug/ready answered ready for '%s', which "
                              "had no machine (seq %llu)",
                              str(ev->key), (unsigned long long)ev->seq))
                    cite(r, ev);
            }
            continue;
        }
        if (!from_client(ev) || !is(ev, "client.probe") ||
            !eq(ev->type, "ok") || ev->key == NULL)
            continue;
        if (ev->ready == 1) {
            bool used = pmap_get(&cl->names, pkey(ev->key), 0) >= 0;

            if (ev->registered == 0 ||
                (!used && (!trace || model_count(&md, ev->key) == 0))) {
                if (violation(r,
                              "client %d probed '%s', %s, and the gateway "
                              "answered ready",
                              ev->client, ev->key,
                              ev->registered == 0
                                  ? "which the gateway said had no machine"
                                  : "a key no connection held"))
                    cite(r, ev);
            } else if (!used) {
                probes++;
            }
            continue;
        }
        if (ev->ready != 0)
            continue;
        if (pmap_get(&cl->names, pkey(ev->key), 0) < 0) {
            probes++; /* an absent key, rightly not ready */
            continue;
        }
        /* The prober's own welcomed key, while it is connected: the
         * welcome said ready, so the key must still be. */
        int a = cl->of[i];
        const cconn_t *cc = a >= 0 ? &cl->c[a] : NULL;
        const wr_event_t *stop = cc ? stopped(cc) : NULL;

        if (cc == NULL || cc->established == NULL ||
            cc->established->connection_ready != 1 || cc->established > ev ||
            !eq(cc->key, ev->key) || (stop != NULL && stop < ev) ||
            ev->registered != 1)
            continue;
        /* A server close for cause (oversize, ...) may be under way, and a
         * key that another attempt also used may have changed hands. */
        if (cc->closed != NULL && !eq(cc->closed->by, "client") &&
            cc->closed->code != 1000)
            continue;
        bool alone = true;
        for (size_t j = 0; j < cl->n && alone; j++)
            if ((int)j != a &&
                (eq(cl->c[j].session, ev->key) || eq(cl->c[j].key, ev->key)))
                alone = false;
        if (!alone)
            continue;
        probes++;
        if (violation(r,
                      "client %d was welcomed as ready under '%s', but its "
                      "probe of that key then answered not ready",
                      ev->client, ev->key)) {
            cite(r, cc->established);
            cite(r, ev);
        }
    }
    if (md.oom || g.oom) {
        out_of_memory(r);
    } else if (trace) {
        finish(r, WR_PASS,
               "no message, welcome or readiness answer claimed a key ready "
               "without a ready machine");
    } else if (probes > 0) {
        finish(r, WR_PASS,
               "no gateway trace; %zu probe(s) of absent or welcomed keys "
               "answered truthfully",
               probes);
    } else {
        finish(r, WR_UNKNOWN,
               "no gateway trace and no readiness probe to judge by");
    }
    model_free(&md);
    gconns_free(&g);
}

/* ------------------------------------------------------------------ */
/* duplicate_registration                                               */
/* ------------------------------------------------------------------ */

/* Black-box: two attempts welcomed under one key while both are open.
 * *tried says whether two clients asked for one session at all. Returns
 * false when out of memory. */
static bool duplicate_black_box(const wr_history_t *h, const clients_t *cl,
                                wr_check_result_t *r, bool *tried)
{
    size_t len = wr_history_len(h);
    bool *open = calloc(cl->n ? cl->n : 1, sizeof(*open));
    pmap_t first = {0}; /* session -> first client asking for it */

    if (open == NULL)
        return false;
    for (size_t i = 0; i < cl->n; i++) {
        int *v;

        if (cl->c[i].session == NULL)
            continue;
        v = pmap_at(&first, pkey(cl->c[i].session), 0, true);
        if (v != NULL && *v < 0)
            *v = cl->c[i].client;
        else if (v != NULL && *v != cl->c[i].client)
            *tried = true;
    }
    pmap_free(&first);
    for (size_t i = 0; i < len; i++) {
        const wr_event_t *ev = wr_history_at(h, i);
        int a = from_client(ev) ? cl->of[i] : -1;
        const cconn_t *c;

        if (a < 0)
            continue;
        c = &cl->c[a];
        if (ev == welcomed_at(c) && c->key != NULL) {
            for (size_t j = 0; j < cl->n; j++) {
                const cconn_t *o = &cl->c[j];

                if ((int)j == a || !open[j] || !eq(o->key, c->key))
                    continue;
                if (violation(r,
                              "clients %d and %d were both welcomed under "
                              "key '%s' and connected at the same time",
                              o->client, c->client, c->key)) {
                    cite(r, welcomed_at(o));
                    cite(r, ev);
                }
                break;
            }
            open[a] = true;
        } else if (ev == stopped(c)) {
            open[a] = false;
        }
    }
    free(open);
    return true;
}

/* One key held two live machines, a registration of a live key succeeded
 * ("existing"), or (black-box) two clients were welcomed under one key at
 * once. */
static void check_duplicate(const wr_history_t *h, const clients_t *cl,
                            wr_check_result_t *r)
{
    size_t len = wr_history_len(h);
    uint64_t pair[2] = {0, 0}; /* the first violation's connections */
    size_t peak = 0;           /* most live machines under one key */
    model_t md = {0};
    bool tried = false;

    if (!wr_history_has_trace(h)) {
        if (!duplicate_black_box(h, cl, r, &tried)) {
            out_of_memory(r);
            return;
        }
        finish(r, tried ? WR_PASS : WR_UNKNOWN,
               tried ? "no gateway trace; clients sharing a session were "
                       "never welcomed at the same time"
                     : "no gateway trace and no two clients shared a "
                       "session");
        return;
    }
    for (size_t i = 0; i < len && !md.oom; i++) {
        const wr_event_t *ev = wr_history_at(h, i);
        bool reg = is(ev, "registry.register"),
             rekey = is(ev, "registry.rekey");
        int m;

        if (!from_gateway(ev))
            continue;
        if ((reg || rekey) && eq(ev->result, "existing")) {
            m = model_find(&md, ev->key, ev->conn);
            if (violation(r,
                          "conn %llu registered key '%s', already live%s, "
                          "and got success (result existing, seq %llu)",
                          (unsigned long long)ev->conn, str(ev->key),
                          m >= 0 ? " with another machine" : "",
                          (unsigned long long)ev->seq)) {
                cite(r, m >= 0 ? md.m[m].reg : NULL);
                cite(r, ev);
                pair[0] = m >= 0 ? md.m[m].conn : 0;
                pair[1] = ev->conn;
            }
            continue;
        }
        m = model_apply(&md, ev);
        if (m < 0 || !((reg && eq(ev->result, "created")) ||
                       (rekey && eq(ev->result, "moved"))))
            continue;
        size_t n = model_count(&md, ev->key);
        if (n < 2)
            continue;
        peak = n > peak ? n : peak;
        int other = md.m[m].next >= 0 ? md.m[m].next : model_head(&md, ev->key);
        if (violation(r,
                      "key '%s' held %zu live machines (conn %llu and conn "
                      "%llu) from seq %llu",
                      ev->key, n, (unsigned long long)md.m[other].conn,
                      (unsigned long long)ev->conn,
                      (unsigned long long)ev->seq)) {
            cite(r, md.m[other].reg);
            cite(r, ev);
            pair[0] = md.m[other].conn;
            pair[1] = ev->conn;
        }
    }
    if (md.oom) {
        out_of_memory(r);
        model_free(&md);
        return;
    }
    /* Whether both were welcomed: their welcomes join the evidence. */
    if (r->violations > 0) {
        const wr_event_t *w[2] = {NULL, NULL};
        int welcomes = 0;
        size_t n = strlen(r->summary);

        for (size_t i = 0; i < len; i++) {
            const wr_event_t *ev = wr_history_at(h, i);

            for (int k = 0; k < 2; k++)
                if (w[k] == NULL && pair[k] != 0 && ev->conn == pair[k] &&
                    from_gateway(ev) && is(ev, "welcome.sent"))
                    w[k] = ev;
        }
        for (int k = 0; k < 2; k++) {
            cite(r, w[k]);
            welcomes += w[k] != NULL;
        }
        if (welcomes >= 2)
            snprintf(r->summary + n, sizeof(r->summary) - n,
                     "; both were welcomed");
        else if (welcomes == 1)
            snprintf(r->summary + n, sizeof(r->summary) - n,
                     "; one was welcomed");
        n = strlen(r->summary);
        if (peak > 2)
            snprintf(r->summary + n, sizeof(r->summary) - n,
                     "; up to %zu live machines under one key at once", peak);
    }
    finish(r, WR_PASS,
           "no key ever held two live machines and no registration of a live "
           "key succeeded");
    model_free(&md);
}

/* ------------------------------------------------------------------ */
/* coordinator_gap                                                      */
/* ------------------------------------------------------------------ */

/* The coordinator reported READY_FOR_MESSAGES while the key's machine was
 * absent or not ready. */
static void check_coordinator_gap(const wr_history_t *h, wr_check_result_t *r)
{
    size_t len = wr_history_len(h);
    model_t md = {0};
    gconns_t g = {0};

    if (!wr_history_has_trace(h)) {
        finish(r, WR_UNKNOWN,
               "no gateway trace: the coordinator's phases are not visible");
        return;
    }
    for (size_t i = 0; i < len && !md.oom && !g.oom; i++) {
        const wr_event_t *ev = wr_history_at(h, i);
        gconn_t *c;
        st_t st;

        if (!from_gateway(ev))
            continue;
        model_apply(&md, ev);
        c = gconn_note(&g, ev);
        if (!is(ev, "coordinator.phase") ||
            !eq(ev->phase, "READY_FOR_MESSAGES") ||
            (ev->result != NULL && !eq(ev->result, "ok")) ||
            !not_ready(&md, ev, c, &st))
            continue;
        if (!violation(r,
                       "conn %llu's coordinator reported READY_FOR_MESSAGES "
                       "while its machine under '%s' was %s (seq %llu, "
                       "linked: %s)",
                       (unsigned long long)ev->conn, str(ev->key), st_name(st),
                       (unsigned long long)ev->seq,
                       ev->linked == 1   ? "true"
                       : ev->linked == 0 ? "false"
                                         : "not traced"))
            continue;
        cite(r, ev);
        /* What the gap let through, and when the machine caught up. */
        const wr_event_t *ready = next_ready(h, ev);
        for (size_t j = i + 1; j < len; j++) {
            const wr_event_t *e = wr_history_at(h, j);

            if (e == ready)
                break;
            if (from_gateway(e) && e->conn == ev->conn &&
                is(e, "message.process")) {
                cite(r, e);
                break;
            }
        }
        cite(r, ready);
    }
    if (md.oom || g.oom)
        out_of_memory(r);
    else
        finish(r, WR_PASS,
               "the coordinator reported ready only with a ready machine");
    model_free(&md);
    gconns_free(&g);
}

/* ------------------------------------------------------------------ */
/* liveness                                                             */
/* ------------------------------------------------------------------ */

/* Gateway side: every authenticated connection is welcomed in time,
 * unless it went away first or was refused as a duplicate. */
static void liveness_trace(const wr_history_t *h, const clients_t *cl,
                           int64_t bound, wr_check_result_t *r, bool *oom)
{
    size_t len = wr_history_len(h);
    gconns_t g = {0};

    for (size_t i = 0; i < len && !g.oom; i++)
        gconn_note(&g, wr_history_at(h, i));
    for (size_t i = 0; i < g.n && !g.oom; i++) {
        const gconn_t *c = &g.c[i];
        const wr_event_t *bad = NULL;
        char why[200];

        if (c->auth_ok == NULL)
            continue;
        if (c->welcome != NULL) {
            int64_t took = c->welcome->ns - c->auth_ok->ns;

            if (bound <= 0 || took <= bound)
                continue;
            bad = c->welcome;
            snprintf(why, sizeof(why),
                     "was welcomed %.1f ms after auth.ok, "
                     "over the %.1f ms bound",
                     ms(took), ms(bound));
        } else if (c->ready_failed != NULL &&
                   (c->ended == NULL || c->ready_failed < c->ended)) {
            bad = c->ready_failed;
            snprintf(why, sizeof(why),
                     "never became ready: its ready step failed (seq %llu)",
                     (unsigned long long)bad->seq);
        } else if (c->failed != NULL && c->failed == c->ended &&
                   !eq(c->failed->error, "DUPLICATE_SESSION")) {
            bad = c->failed;
            snprintf(why, sizeof(why),
                     "was failed with %s (close %d) after auth (seq %llu)",
                     str(bad->error), bad->code, (unsigned long long)bad->seq);
        } else if (c->failed != NULL && c->failed == c->ended) {
            continue; /* a refused duplicate session: correct */
        } else if (c->ended != NULL) {
            int64_t waited = c->ended->ns - c->auth_ok->ns;

            if (bound <= 0 || waited <= bound)
                continue; /* the client left before the bound */
            bad = c->ended;
            snprintf(why, sizeof(why),
                     "waited %.1f ms without a welcome before its transport "
                     "closed (bound %.1f ms)",
                     ms(waited), ms(bound));
        } else if (cl->crash != NULL) {
            bad = cl->crash;
            char d[64];
            snprintf(why, sizeof(why), "was never welcomed: the gateway %s",
                     death(cl->crash, d, sizeof(d)));
        } else if (bound > 0 && cl->end_ns - c->auth_ok->ns > bound) {
            snprintf(why, sizeof(why),
                     "was still not welcomed %.1f ms after auth.ok, at the "
                     "end of the case (bound %.1f ms)",
                     ms(cl->end_ns - c->auth_ok->ns), ms(bound));
        } else {
            continue;
        }
        if (violation(r, "conn %llu authenticated (seq %llu) but %s",
                      (unsigned long long)c->id,
                      (unsigned long long)c->auth_ok->seq, why)) {
            cite(r, c->auth_ok);
            if (c->ready_failed != NULL && bad == c->ready_failed) {
                /* The refused step that made the ready step fail. */
                size_t at = wr_history_index(h, bad);
                for (size_t j = at; j-- > 0;) {
                    const wr_event_t *e = wr_history_at(h, j);
                    if (from_gateway(e) && e->conn == c->id &&
                        is(e, "machine.transition")) {
                        if (!eq(e->result, "ok"))
                            cite(r, e);
                        break;
                    }
                }
            }
            if (bad != c->welcome) {
                cite(r, c->swapped);
                cite(r, c->ended != bad ? c->ended : NULL);
            }
            cite(r, bad);
        }
    }
    if (g.oom)
        *oom = true;
    gconns_free(&g);
}

/* Client side: every attempt with a valid token is welcomed ready in time
 * or refused as a duplicate session. Returns how many attempts it could
 * judge. */
static size_t liveness_clients(const clients_t *cl, int64_t bound,
                               wr_check_result_t *r)
{
    size_t judged = 0;

    for (size_t i = 0; i < cl->n; i++) {
        const cconn_t *c = &cl->c[i];
        const wr_event_t *bad = NULL, *stop = stopped(c);
        int64_t t0 = c->connect->ns;
        char why[200];

        if (!token_valid(c))
            continue;
        if (c->established != NULL && c->established->connection_ready != 0 &&
            (stop == NULL || c->established < stop)) {
            judged++;
            if (bound <= 0 || c->established->ns - t0 <= bound)
                continue;
            bad = c->established;
            snprintf(why, sizeof(why),
                     "was welcomed only after %.1f ms "
                     "(bound %.1f ms)",
                     ms(bad->ns - t0), ms(bound));
        } else if ((c->closed != NULL &&
                    (c->closed->code == 4409 || c->closed->code == 1009)) ||
                   eq(c->refusal ? c->refusal->error : NULL,
                      "DUPLICATE_SESSION")) {
            judged++; /* refused as a duplicate, or for its own message */
            continue;
        } else if (c->fail != NULL) {
            judged++;
            bad = c->fail;
            snprintf(why, sizeof(why), "failed to connect (code %d%s%s)",
                     bad->code, bad->error ? ", " : "",
                     bad->error ? bad->error : "");
        } else if (c->closed != NULL && !closed_by_client(c)) {
            judged++;
            bad = c->closed;
            snprintf(why, sizeof(why),
                     "was closed by the %s with %d before any ready welcome",
                     str(bad->by), bad->code);
        } else if (stop != NULL) {
            if (bound <= 0 || stop->ns - t0 < bound)
                continue; /* the client gave up first: cannot tell */
            judged++;
            bad = stop;
            snprintf(why, sizeof(why),
                     "waited %.1f ms without a ready welcome (bound %.1f ms)",
                     ms(stop->ns - t0), ms(bound));
        } else if (cl->crash != NULL) {
            judged++;
            bad = cl->crash;
            char d[64];
            snprintf(why, sizeof(why), "was never welcomed: the gateway %s",
                     death(cl->crash, d, sizeof(d)));
        } else if (bound > 0 && cl->end_ns - t0 > bound) {
            judged++;
            snprintf(why, sizeof(why),
                     "was still not welcomed at the end of "
                     "the case, %.1f ms later",
                     ms(cl->end_ns - t0));
        } else {
            continue;
        }
        if (violation(r, "client %d's connection with a valid token %s",
                      c->client, why)) {
            cite(r, c->connect);
            cite(r, bad);
        }
    }
    return judged;
}

static void check_liveness(const wr_history_t *h, const clients_t *cl,
                           const wr_check_opts_t *opts, wr_check_result_t *r)
{
    int64_t bound = opts ? opts->ready_timeout_ns : 0;
    bool trace = wr_history_has_trace(h), oom = false;
    size_t judged;

    if (trace)
        liveness_trace(h, cl, bound, r, &oom);
    judged = liveness_clients(cl, bound, r);
    if (oom)
        out_of_memory(r);
    else if (trace || judged > 0)
        finish(r, WR_PASS,
               "every authenticated connection was welcomed ready in time or "
               "refused as a duplicate");
    else
        finish(r, WR_UNKNOWN,
               "no gateway trace and no client connection that could be "
               "judged");
}

/* ------------------------------------------------------------------ */
/* registry_leak                                                        */
/* ------------------------------------------------------------------ */

/* A machine stays registered after its connection closed: the harness's
 * count after every client closed, or the model at the end of the trace. */
static void check_registry_leak(const wr_history_t *h, const clients_t *cl,
                                wr_check_result_t *r)
{
    size_t len = wr_history_len(h), leaks = 0;
    bool trace = wr_history_has_trace(h);
    const wr_event_t *rc = cl->regcount;
    model_t md = {0};
    gconns_t g = {0};

    if (cl->crash != NULL) {
        char d[64];
        finish(r, WR_UNKNOWN,
               "the gateway %s; a dead process has no registry left to "
               "leak",
               death(cl->crash, d, sizeof(d)));
        return;
    }
    if (rc != NULL && rc->count > 0) {
        violation(r,
                  "%lld registry entr%s remained after every client had "
                  "closed",
                  (long long)rc->count, rc->count == 1 ? "y" : "ies");
        cite(r, rc);
    }
    for (size_t i = 0; trace && i < len && !md.oom && !g.oom; i++) {
        const wr_event_t *ev = wr_history_at(h, i);

        model_apply(&md, ev);
        gconn_note(&g, ev);
    }
    for (size_t i = 0; trace && i < md.n && !md.oom && !g.oom; i++) {
        const machine_t *m = &md.m[i];
        int at = pmap_get(&g.index, m->conn, 1);
        const gconn_t *c = at >= 0 ? &g.c[at] : NULL;
        size_t n = strlen(r->summary);

        if (!m->live || c == NULL || c->closed == NULL)
            continue;
        /* The machine's registration and its connection's close, for as
         * many leaked keys as the evidence holds. */
        if (r->nevidence + 2 <= WR_EVIDENCE_MAX) {
            cite(r, m->reg);
            cite(r, c->closed);
        }
        if (leaks++ > 0)
            continue;
        if (r->violations > 0)
            snprintf(r->summary + n, sizeof(r->summary) - n,
                     "; among them '%s' of conn %llu, closed at seq %llu "
                     "and never unregistered",
                     m->key, (unsigned long long)m->conn,
                     (unsigned long long)c->closed->seq);
        else
            violation(r,
                      "key '%s' (conn %llu) stayed registered after its "
                      "connection closed at seq %llu; it was never "
                      "unregistered",
                      m->key, (unsigned long long)m->conn,
                      (unsigned long long)c->closed->seq);
    }
    /* One violation per leaked entry, as counted or as found. */
    if (rc != NULL && rc->count > 0)
        r->violations = (size_t)rc->count > leaks ? (size_t)rc->count : leaks;
    else if (leaks > 0)
        r->violations = leaks;
    if (md.oom || g.oom)
        out_of_memory(r);
    else if (trace || rc != NULL)
        finish(r, WR_PASS,
               "every closed connection's machine was unregistered");
    else
        finish(r, WR_UNKNOWN,
               "no gateway trace and no registry count after the clients "
               "closed");
    model_free(&md);
    gconns_free(&g);
}

/* ------------------------------------------------------------------ */
/* isolation                                                            */
/* isolation                                                            */
/* ------------------------------------------------------------------ */

/* No client receives a reply to a correlation id it never sent, nor a
 * welcome naming another client's session. */
static void check_isolation(const wr_history_t *h, const clients_t *cl,
                            wr_check_result_t *r)
{
    size_t len = wr_history_len(h);
    pmap_t sent = {0};  /* (client, cid) -> history index of a send */
    pmap_t owner = {0}; /* cid -> history index of its first send */
    bool *flagged = calloc(cl->n ? cl->n : 1, sizeof(*flagged));
    bool oom = flagged == NULL;

    for (size_t i = 0; i < len && !oom; i++) {
        const wr_event_t *ev = wr_history_at(h, i);
        int *v, *o;

        if (!from_client(ev) || !is(ev, "client.send") ||
            ev->correlation_id == NULL)
            continue;
        v = pmap_at(&sent, (uint64_t)ev->client, pkey(ev->correlation_id),
                    true);
        o = pmap_at(&owner, pkey(ev->correlation_id), 0, true);
        if (v == NULL || o == NULL) {
            oom = true;
            break;
        }
        if (*v < 0)
            *v = (int)i;
        if (*o < 0)
            *o = (int)i;
    }
    for (size_t i = 0; i < len && !oom; i++) {
        const wr_event_t *ev = wr_history_at(h, i);
        const cconn_t *c;
        int a;

        if (!from_client(ev))
            continue;
        if (is(ev, "client.recv") && ev->correlation_id != NULL &&
            pmap_get(&sent, (uint64_t)ev->client, pkey(ev->correlation_id)) <
                0) {
            int o = pmap_get(&owner, pkey(ev->correlation_id), 0);
            const wr_event_t *src = o >= 0 ? wr_history_at(h, (size_t)o) : NULL;

            if (src != NULL) {
                if (violation(r,
                              "client %d received %s for correlation id "
                              "'%s', which client %d sent",
                              ev->client, str(ev->msg_type), ev->correlation_id,
                              src->client)) {
                    cite(r, src);
                    cite(r, ev);
                }
            } else if (violation(r,
                                 "client %d received %s for correlation id "
                                 "'%s', which it never sent",
                                 ev->client, str(ev->msg_type),
                                 ev->correlation_id)) {
                cite(r, ev);
            }
            continue;
        }
        a = cl->of[i];
        if (!names_key(ev) || a < 0 || flagged[a])
            continue;
        c = &cl->c[a];
        if (eq(c->session, ev->key))
            continue;
        /* Another client's session, or a key another client was given
         * before. */
        for (size_t j = 0; j < cl->n; j++) {
            const cconn_t *o = &cl->c[j];
            const wr_event_t *ow = welcomed_at(o);

            if (o->client == c->client ||
                !(eq(o->session, ev->key) ||
                  (eq(o->key, ev->key) && ow != NULL && ow < ev)))
                continue;
            flagged[a] = true;
            if (violation(r,
                          "client %d was welcomed as '%s', the session of "
                          "client %d",
                          c->client, ev->key, o->client)) {
                cite(r, o->connect);
                cite(r, ow);
                cite(r, c->connect);
                cite(r, ev);
            }
            break;
        }
    }
    pmap_free(&sent);
    pmap_free(&owner);
    free(flagged);
    if (oom)
        out_of_memory(r);
    else
        finish(r, WR_PASS,
               "every client received only its own replies and its own "
               "session");
}

/* ------------------------------------------------------------------ */
/* no_lost_messages                                                     */
/* ------------------------------------------------------------------ */

typedef struct {
    const wr_event_t *send;   /* client.send user_message */
    const wr_event_t *answer; /* agent_completed or error_message */
    int attempt;              /* cl->c[] */
    int next;                 /* next send of the same (attempt, cid) */
    int pos;                  /* position among its attempt's sends */
} send_t;

/* Every user_message with a correlation id gets its agent_completed (or a
 * visible rejection) on the same connection, in time, in send order. */
static void check_no_lost(const wr_history_t *h, const clients_t *cl,
                          const wr_check_opts_t *opts, wr_check_result_t *r)
{
    int64_t bound = opts ? opts->message_timeout_ns : 0;
    size_t len = wr_history_len(h), ns = 0, cap = 0;
    send_t *s = NULL;
    pmap_t wait = {0}; /* (attempt, cid) -> oldest unanswered send */
    int *count = calloc(cl->n ? cl->n : 1, sizeof(int)); /* sends */
    int *last = calloc(cl->n ? cl->n : 1, sizeof(int));  /* +1: answered */
    int *loose = calloc(cl->n ? cl->n : 1, sizeof(int)); /* uncorrelated */
    bool oom = count == NULL || last == NULL || loose == NULL;

    for (size_t i = 0; i < len && !oom; i++) {
        const wr_event_t *ev = wr_history_at(h, i);
        int a = from_client(ev) ? cl->of[i] : -1;
        int *v;

        if (a < 0)
            continue;
        if (is(ev, "client.send") && eq(ev->msg_type, "user_message") &&
            ev->correlation_id != NULL) {
            if (!VEC_RESERVE(s, ns, cap) ||
                (v = pmap_at(&wait, (uint64_t)a, pkey(ev->correlation_id),
                             true)) == NULL) {
                oom = true;
                break;
            }
            s[ns] = (send_t){ev, NULL, a, -1, count[a]++};
            /* Append to the (attempt, cid) chain. */
            if (*v < 0) {
                *v = (int)ns;
            } else {
                int k = *v;
                while (s[k].next >= 0)
                    k = s[k].next;
                s[k].next = (int)ns;
            }
            ns++;
            continue;
        }
        if (!is(ev, "client.recv"))
            continue;
        if (eq(ev->msg_type, "error_message") && ev->correlation_id == NULL) {
            loose[a]++;
            continue;
        }
        if (ev->correlation_id == NULL ||
            !(eq(ev->msg_type, "agent_completed") ||
              eq(ev->msg_type, "error_message")))
            continue;
        v = pmap_at(&wait, (uint64_t)a, pkey(ev->correlation_id), false);
        if (v == NULL || *v < 0)
            continue;
        send_t *m = &s[*v];
        m->answer = ev;
        *v = m->next;
        if (!eq(ev->msg_type, "agent_completed"))
            continue;
        if (m->pos + 1 < last[a]) {
            /* An earlier send is still unanswered or came later. */
            const send_t *prev = NULL;
            for (size_t k = 0; k < ns; k++)
                if (s[k].attempt == a && s[k].pos == last[a] - 1)
                    prev = &s[k];
            if (violation(r,
                          "client %d's reply to '%s' came after the reply "
                          "to '%s', which it sent later",
                          ev->client, str(m->send->correlation_id),
                          prev ? str(prev->send->correlation_id) : "?")) {
                cite(r, m->send);
                cite(r, prev ? prev->send : NULL);
                cite(r, prev ? prev->answer : NULL);
                cite(r, ev);
            }
        } else {
            last[a] = m->pos + 1;
        }
    }
    for (size_t k = 0; k < ns && !oom; k++) {
        const send_t *m = &s[k];
        const cconn_t *c = &cl->c[m->attempt];
        const wr_event_t *stop = stopped(c);
        char why[200];

        if (m->answer != NULL) {
            int64_t took = m->answer->ns - m->send->ns;

            if (bound <= 0 || took <= bound)
                continue;
            snprintf(why, sizeof(why),
                     "was answered only after %.1f ms "
                     "(bound %.1f ms)",
                     ms(took), ms(bound));
        } else if (refused(c) ||
                   (c->closed != NULL && c->closed->code == 1009)) {
            continue; /* the server refused the connection or the message */
        } else if (loose[m->attempt] > 0) {
            loose[m->attempt]--; /* an uncorrelated error answered it */
            continue;
        } else if (stop != NULL && closed_by_client(c)) {
            if (bound <= 0 || stop->ns - m->send->ns < bound)
                continue; /* the client hung up first: cannot tell */
            snprintf(why, sizeof(why),
                     "got no reply in %.1f ms, before the "
                     "client closed",
                     ms(stop->ns - m->send->ns));
        } else if (c->closed != NULL) {
            snprintf(why, sizeof(why),
                     "got no reply before the %s closed "
                     "the connection with %d",
                     str(c->closed->by), c->closed->code);
        } else if (cl->crash != NULL) {
            char d[64];
            snprintf(why, sizeof(why), "got no reply: the gateway %s",
                     death(cl->crash, d, sizeof(d)));
        } else if (bound <= 0 || cl->end_ns - m->send->ns > bound) {
            snprintf(why, sizeof(why), "got no reply by the end of the case");
        } else {
            continue;
        }
        if (violation(r, "client %d's message '%s' %s", m->send->client,
                      str(m->send->correlation_id), why)) {
            cite(r, m->send);
            cite(r, m->answer);
            cite(r, m->answer ? NULL : c->closed);
        }
    }
    if (oom)
        out_of_memory(r);
    else
        finish(r, WR_PASS,
               "every user message was answered on its connection, in order%s",
               ns == 0 ? " (none was sent)" : "");
    free(s);
    free(count);
    free(last);
    free(loose);
    pmap_free(&wait);
}

/* ------------------------------------------------------------------ */
/* Entry                                                                */
/* ------------------------------------------------------------------ */

void wr_check_run(wr_check_id_t id, const wr_history_t *h,
                  const wr_check_opts_t *opts, wr_check_result_t *out)
{
    clients_t cl;

    result_init(out, id);
    if (h == NULL || (unsigned)id >= WR_CHECK__COUNT) {
        out->verdict = WR_UNKNOWN;
        snprintf(out->summary, sizeof(out->summary), "no history to check");
        return;
    }
    clients_build(&cl, h);
    if (cl.oom) {
        out_of_memory(out);
        clients_free(&cl);
        return;
    }
    switch (id) {
    case WR_CHECK_SCOPE_LOSS:
        check_scope_loss(h, &cl, out);
        break;
    case WR_CHECK_FALSE_READINESS:
        check_false_readiness(h, &cl, out);
        break;
    case WR_CHECK_DUPLICATE_REGISTRATION:
        check_duplicate(h, &cl, out);
        break;
    case WR_CHECK_COORDINATOR_GAP:
        check_coordinator_gap(h, out);
        break;
    case WR_CHECK_LIVENESS:
        check_liveness(h, &cl, opts, out);
        break;
    case WR_CHECK_REGISTRY_LEAK:
        check_registry_leak(h, &cl, out);
        break;
    case WR_CHECK_ISOLATION:
        check_isolation(h, &cl, out);
        break;
    case WR_CHECK_NO_LOST_MESSAGES:
        check_no_lost(h, &cl, opts, out);
        break;
    default:
        break;
    }
    clients_free(&cl);
}
