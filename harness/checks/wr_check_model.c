/* wr_check_model.c - What the checkers read a case through: the registry
 * model replayed from the gateway's trace, the gateway's and the clients'
 * connections, and the helpers that build a verdict.
 *
 * Two views of a case feed the checkers. The gateway's trace is replayed,
 * in seq order, into a registry model (key -> the live machines under it,
 * each with its owner connection and state), the way gw_registry.c would
 * hold it: registry.register created adds a machine, registry.unregister
 * removed drops one, registry.rekey moved moves one with the state it
 * carries, machine.transition ok/forced_failed changes a state,
 * registry.expired (a cluster's entry whose TTL ran out) drops one, and a
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
 * A model or view belongs to the checker that builds it and is freed
 * before the checker returns; the history is only read. Any thread; no
 * locks, no static state. */
#include "checks/wr_check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/wr_check_int.h"

/* ------------------------------------------------------------------ */
/* Small tools                                                          */
/* ------------------------------------------------------------------ */

bool wr__check_is(const wr_event_t *ev, const char *name)
{
    return ev->event != NULL && strcmp(ev->event, name) == 0;
}

bool wr__check_eq(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

bool wr__check_from_gateway(const wr_event_t *ev)
{
    return ev->src == WR_SRC_GATEWAY;
}

bool wr__check_from_client(const wr_event_t *ev)
{
    return ev->src == WR_SRC_CLIENT && ev->client >= 0;
}

const char *wr__check_str(const char *s)
{
    return s != NULL ? s : "?";
}

/* ------------------------------------------------------------------ */
/* Result building                                                      */
/* ------------------------------------------------------------------ */

void wr__check_result_init(wr_check_result_t *r, wsr_check_id_t id)
{
    memset(r, 0, sizeof(*r));
    r->id = id;
    r->verdict = WR_PASS;
}

bool wr__check_violation(wr_check_result_t *r, const char *fmt, ...)
{
    va_list ap;

    if (r->violations++ > 0)
        return false;
    va_start(ap, fmt);
    vsnprintf(r->summary, sizeof(r->summary), fmt, ap);
    va_end(ap);
    return true;
}

void wr__check_cite(wr_check_result_t *r, const wr_event_t *ev)
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

void wr__check_finish(wr_check_result_t *r, wr_verdict_t otherwise,
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

void wr__check_out_of_memory(wr_check_result_t *r)
{
    wsr_check_id_t id = r->id;

    wr__check_result_init(r, id);
    r->verdict = WR_UNKNOWN;
    snprintf(r->summary, sizeof(r->summary),
             "the checker ran out of memory; nothing was decided");
}

/* ------------------------------------------------------------------ */
/* Pair map: (a, b) -> int, open addressing                             */
/* ------------------------------------------------------------------ */

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

void wr__check_pmap_free(pmap_t *m)
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

int *wr__check_pmap_at(pmap_t *m, uint64_t a, uint64_t b, bool insert)
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

int wr__check_pmap_get(const pmap_t *m, uint64_t a, uint64_t b)
{
    int *v = wr__check_pmap_at((pmap_t *)m, a, b, false);

    return v ? *v : -1;
}

uint64_t wr__check_pkey(const char *s)
{
    return (uint64_t)(uintptr_t)s;
}

bool wr__check_vec_reserve(void **ptr, size_t n, size_t *cap, size_t size)
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

void wr__check_model_free(model_t *md)
{
    free(md->m);
    wr__check_pmap_free(&md->heads);
}

int wr__check_model_head(const model_t *md, const char *key)
{
    return key ? wr__check_pmap_get(&md->heads, wr__check_pkey(key), 0) : -1;
}

int wr__check_model_find(const model_t *md, const char *key, uint64_t conn)
{
    int first = wr__check_model_head(md, key);

    for (int i = first; i >= 0; i = md->m[i].next)
        if (conn != 0 && md->m[i].conn == conn)
            return i;
    return first;
}

int wr__check_model_own(const model_t *md, const char *key, uint64_t conn)
{
    for (int i = wr__check_model_head(md, key); i >= 0; i = md->m[i].next)
        if (md->m[i].conn == conn)
            return i;
    return -1;
}

size_t wr__check_model_count(const model_t *md, const char *key)
{
    size_t n = 0;

    for (int i = wr__check_model_head(md, key); i >= 0; i = md->m[i].next)
        n++;
    return n;
}

bool wr__check_model_any_ready(const model_t *md, const char *key)
{
    for (int i = wr__check_model_head(md, key); i >= 0; i = md->m[i].next)
        if (wsr_state_is_ready(md->m[i].state))
            return true;
    return false;
}

static wsr_state_t model_state(const model_t *md, const char *key, uint64_t conn)
{
    int i = wr__check_model_find(md, key, conn);

    return i >= 0 ? md->m[i].state : WSR_ST_NONE;
}

static void model_link(model_t *md, int i, const char *key)
{
    int *head = wr__check_pmap_at(&md->heads, wr__check_pkey(key), 0, true);

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
    int *p =
        wr__check_pmap_at(&md->heads, wr__check_pkey(md->m[i].key), 0, false);

    while (p != NULL && *p >= 0) {
        if (*p == i) {
            *p = md->m[i].next;
            break;
        }
        p = &md->m[*p].next;
    }
    md->m[i].next = -1;
}

static int model_add(model_t *md, const char *key, uint64_t conn, wsr_state_t st,
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

int wr__check_model_apply(model_t *md, const wr_event_t *ev)
{
    int i;

    if (!wr__check_from_gateway(ev) || ev->key == NULL || ev->result == NULL)
        return -1;
    if (wr__check_is(ev, "registry.register")) {
        if (wr__check_eq(ev->result, "created"))
            return model_add(md, ev->key, ev->conn, WSR_ST_CONNECTING, ev);
    } else if (wr__check_is(ev, "registry.unregister") ||
               wr__check_is(ev, "registry.expired")) {
        /* A cluster's entry whose TTL ran out is gone as if unregistered
         * (its owner's conn on the event; docs/DESIGN.md "Cluster mode"). */
        if ((wr__check_eq(ev->result, "removed") ||
             wr__check_eq(ev->result, "expired")) &&
            (i = wr__check_model_find(md, ev->key, ev->conn)) >= 0) {
            model_unlink(md, i);
            md->m[i].live = false;
        }
    } else if (wr__check_is(ev, "registry.rekey")) {
        if (!wr__check_eq(ev->result, "moved"))
            return -1;
        i = ev->from ? wr__check_model_find(md, ev->from, ev->conn) : -1;
        if (i < 0)
            return model_add(md, ev->key, ev->conn,
                             wsr_state_from_name(ev->state), ev);
        model_unlink(md, i);
        model_link(md, i, ev->key);
        md->m[i].reg = ev;
        if (ev->state != NULL)
            md->m[i].state = wsr_state_from_name(ev->state);
        return i;
    } else if (wr__check_is(ev, "machine.transition")) {
        i = wr__check_model_find(md, ev->key, ev->conn);
        if (i < 0)
            return -1;
        if (wr__check_eq(ev->result, "ok") && ev->to != NULL)
            md->m[i].state = wsr_state_from_name(ev->to);
        else if (wr__check_eq(ev->result, "forced_failed"))
            md->m[i].state = WSR_ST_FAILED;
        else
            return -1;
        return i;
    }
    return -1;
}

/* ------------------------------------------------------------------ */
/* Gateway connections                                                  */
/* ------------------------------------------------------------------ */

void wr__check_gconns_free(gconns_t *g)
{
    free(g->c);
    wr__check_pmap_free(&g->index);
}

/* The record of conn (created on first sight), or NULL for conn 0 or out
 * of memory. */
static gconn_t *gconn(gconns_t *g, uint64_t conn)
{
    int *v;

    if (conn == 0)
        return NULL;
    v = wr__check_pmap_at(&g->index, conn, 1, true);
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

gconn_t *wr__check_gconn_note(gconns_t *g, const wr_event_t *ev)
{
    gconn_t *c;

    if (!wr__check_from_gateway(ev) || (c = gconn(g, ev->conn)) == NULL)
        return NULL;
    if (wr__check_is(ev, "auth.ok") && c->auth_ok == NULL) {
        c->auth_ok = ev;
    } else if (wr__check_is(ev, "swap.begin")) {
        c->swap_begin = ev;
    } else if (wr__check_is(ev, "swap.done") ||
               wr__check_is(ev, "swap.swallowed")) {
        c->swapped = ev;
        c->final_key = ev->key;
        c->shared = wr__check_eq(ev->result, "existing");
    } else if (wr__check_is(ev, "welcome.sent") && c->welcome == NULL) {
        c->welcome = ev;
    } else if (wr__check_is(ev, "ready.failed") && c->ready_failed == NULL) {
        c->ready_failed = ev;
    } else if (wr__check_is(ev, "conn.failed") && c->failed == NULL) {
        c->failed = ev;
        if (c->ended == NULL)
            c->ended = ev;
    } else if ((wr__check_is(ev, "conn.transport_closed") ||
                wr__check_is(ev, "registry.expired")) &&
               c->ended == NULL) {
        /* A lease that expired ends the connection's claim on its
         * machine as a close does: from here on the machine may go. */
        c->ended = ev;
    } else if (c->ended == NULL && wr__check_is(ev, "machine.transition") &&
               wr__check_eq(ev->result, "ok") &&
               (wr__check_eq(ev->to, "CLOSING") ||
                wr__check_eq(ev->to, "CLOSED"))) {
        /* The close path has begun: from here on the machine may go. A
         * gateway may trace its close path before the transport's close
         * (wsrace-gateway did, under load, until that trace moved). A
         * machine that leaves without closing still counts as lost. */
        c->ended = ev;
    } else if (wr__check_is(ev, "conn.closed") && c->closed == NULL) {
        c->closed = ev;
        if (c->ended == NULL)
            c->ended = ev;
    } else if (wr__check_is(ev, "message.gate") &&
               wr__check_eq(ev->decision, "process")) {
        c->gate = ev;
    } else if (wr__check_is(ev, "coordinator.phase") && ev->phase != NULL &&
               (ev->result == NULL || wr__check_eq(ev->result, "ok"))) {
        c->coord = ev;
    }
    return c;
}

/* ------------------------------------------------------------------ */
/* Client connections                                                   */
/* ------------------------------------------------------------------ */

void wr__check_clients_free(clients_t *cl)
{
    free(cl->c);
    free(cl->of);
    wr__check_pmap_free(&cl->cur);
    wr__check_pmap_free(&cl->names);
}

static void name_attempt(clients_t *cl, const char *name, int i)
{
    int *v;

    if (name == NULL)
        return;
    v = wr__check_pmap_at(&cl->names, wr__check_pkey(name), 0, true);
    if (v == NULL)
        cl->oom = true;
    else if (*v < 0)
        *v = i;
}

void wr__check_clients_build(clients_t *cl, const wr_history_t *h)
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
            if (wr__check_is(ev, "target.exit")) {
                /* Killed by a signal, or gone on its own with an error
                 * status (a sanitizer build exits 1 where a plain one
                 * takes SIGSEGV). */
                if (ev->sig > 0 || (ev->stopped == 0 && ev->code != 0))
                    cl->crash = ev;
            } else if (wr__check_is(ev, "target.registry")) {
                cl->regcount = ev;
            }
            continue;
        }
        if (!wr__check_from_client(ev))
            continue;
        cur = wr__check_pmap_at(&cl->cur, (uint64_t)ev->client, 2, true);
        if (cur == NULL) {
            cl->oom = true;
            break;
        }
        if (wr__check_is(ev, "client.connect") &&
            wr__check_eq(ev->type, "invoke")) {
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
        if (wr__check_is(ev, "client.connect") &&
            wr__check_eq(ev->type, "fail")) {
            c->fail = ev;
        } else if (wr__check_is(ev, "client.established") &&
                   c->established == NULL) {
            c->established = ev;
            if (ev->key != NULL && c->key == NULL)
                c->key = ev->key;
            name_attempt(cl, ev->key, *cur);
        } else if (wr__check_is(ev, "client.recv") &&
                   wr__check_eq(ev->msg_type, "connection_established")) {
            if (c->welcome == NULL)
                c->welcome = ev;
            if (ev->key != NULL && c->key == NULL)
                c->key = ev->key;
            name_attempt(cl, ev->key, *cur);
        } else if (wr__check_is(ev, "client.recv") &&
                   wr__check_eq(ev->msg_type, "error_message") &&
                   (wr__check_eq(ev->error, "DUPLICATE_SESSION") ||
                    wr__check_eq(ev->error, "AUTH_FAILED") ||
                    wr__check_eq(ev->error, "OVERLOADED"))) {
            if (c->refusal == NULL)
                c->refusal = ev;
        } else if (wr__check_is(ev, "client.close") &&
                   wr__check_eq(ev->type, "invoke")) {
            if (c->close_req == NULL)
                c->close_req = ev;
        } else if (wr__check_is(ev, "client.closed") && c->closed == NULL) {
            c->closed = ev;
        }
    }
}

const char *wr__check_death(const wr_event_t *exit, char *buf, size_t len)
{
    if (exit->sig > 0)
        snprintf(buf, len, "died of signal %d", exit->sig);
    else
        snprintf(buf, len, "exited on its own with status %d", exit->code);
    return buf;
}

const wr_event_t *wr__check_stopped(const cconn_t *c)
{
    return c->close_req != NULL ? c->close_req : c->closed;
}

const wr_event_t *wr__check_welcomed_at(const cconn_t *c)
{
    return c->established != NULL ? c->established : c->welcome;
}

bool wr__check_token_valid(const cconn_t *c)
{
    return c->connect->token == NULL ||
           wr__check_eq(c->connect->token, "valid");
}

/* ------------------------------------------------------------------ */
/* Readiness as the gateway saw it                                      */
/* ------------------------------------------------------------------ */

bool wr__check_not_ready(const model_t *md, const wr_event_t *ev,
                         const gconn_t *c, wsr_state_t *st)
{
    if (ev->machine != NULL) {
        *st = wsr_state_from_name(ev->machine);
        return !wsr_state_is_ready(*st);
    }
    *st = model_state(md, ev->key, ev->conn);
    /* After the transport closed the close path may run concurrently and
     * move the model on; only the event's own reading counts then. */
    return !wsr_state_is_ready(*st) && (c == NULL || c->ended == NULL);
}

const wr_event_t *wr__check_next_ready(const wr_history_t *h,
                                       const wr_event_t *ev)
{
    for (size_t i = wr_history_index(h, ev) + 1; i < wr_history_len(h); i++) {
        const wr_event_t *e = wr_history_at(h, i);

        if (wr__check_from_gateway(e) && e->conn == ev->conn &&
            wr__check_is(e, "machine.transition") &&
            wr__check_eq(e->result, "ok") &&
            wsr_state_from_name(e->to) == WSR_ST_PROCESSING_READY)
            return e;
    }
    return NULL;
}
