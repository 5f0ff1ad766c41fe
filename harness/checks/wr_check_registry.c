/* wr_check_registry.c - The checkers of the gateway's registry: scope_loss,
 * duplicate_registration, coordinator_gap and registry_leak.
 *
 * Each replays the trace into its own registry model (wr_check_model.c)
 * and judges what the registry held, or what was read from it, against
 * what it should have; without a trace, each falls back to what the
 * clients and the harness saw, or says UNKNOWN. Each allocates its own
 * scratch state and frees it before it returns; the history is only read.
 * Any thread; no locks. */
#include "checks/wr_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/wr_check_int.h"

/* ------------------------------------------------------------------ */
/* scope_loss                                                           */
/* ------------------------------------------------------------------ */

/* Whether ev changes what the registry holds (an event the registry
 * traces under its lock). */
static bool registry_change(const wr_event_t *ev)
{
    return wr__check_is(ev, "registry.register") ||
           wr__check_is(ev, "registry.unregister") ||
           wr__check_is(ev, "registry.rekey") ||
           wr__check_is(ev, "machine.transition");
}

/* At a registry change of key: the live, welcomed connection that holds
 * key (holders: key -> gconn index) must still own a machine under it, in
 * the ready set, unless its own close has begun. Returns the violating
 * connection, or NULL. */
static gconn_t *holder_lost(const model_t *md, gconns_t *g,
                            const pmap_t *holders, const char *key)
{
    int at = key ? wr__check_pmap_get(holders, wr__check_pkey(key), 0) : -1;
    gconn_t *c;
    int own;

    if (at < 0)
        return NULL;
    c = &g->c[at];
    if (c->ended != NULL || c->shared || c->flagged ||
        !wr__check_eq(c->final_key, key))
        return NULL;
    own = wr__check_model_own(md, key, c->id);
    return own >= 0 && wsr_state_is_ready(md->m[own].state) ? NULL : c;
}

/* The connection's key swap lost its registry handle, or the gateway died:
 * trace events swap.begin handle=out-of-scope, swap.error, swap.swallowed;
 * a live connection whose final key holds no machine of its own; a live,
 * welcomed connection whose machine left the ready set or its key at any
 * registry change, its own or another connection's; a target killed by a
 * signal. Black-box: a valid connection closed 1011 before it was
 * welcomed. */
void wr__check_scope_loss(const wr_history_t *h, const clients_t *cl,
                          wr_check_result_t *r)
{
    size_t len = wr_history_len(h);
    uint64_t focus = 0;      /* the connection of the first violation */
    uint64_t crash_conn = 0; /* the connection the crash is blamed on */
    model_t md = {0};
    gconns_t g = {0};
    pmap_t holders = {0}; /* key -> the welcomed connection holding it */

    if (cl->crash != NULL) {
        const wr_event_t *last = NULL, *oos = NULL;
        char d[64];

        for (size_t i = 0; i < len; i++) {
            const wr_event_t *ev = wr_history_at(h, i);

            if (ev == cl->crash)
                break;
            if (!wr__check_from_gateway(ev))
                continue;
            last = ev;
            if (wr__check_is(ev, "swap.begin") &&
                wr__check_eq(ev->handle, "out-of-scope"))
                oos = ev;
        }
        if (oos != NULL)
            wr__check_violation(
                r,
                "the gateway %s right after conn %llu's "
                "key swap used a registry handle whose scope had ended "
                "(seq %llu)",
                wr__check_death(cl->crash, d, sizeof(d)),
                (unsigned long long)oos->conn, (unsigned long long)oos->seq);
        else if (last != NULL)
            wr__check_violation(
                r,
                "the gateway %s; its last traced event was %s (seq "
                "%llu)",
                wr__check_death(cl->crash, d, sizeof(d)), last->event,
                (unsigned long long)last->seq);
        else
            wr__check_violation(r, "the gateway %s",
                                wr__check_death(cl->crash, d, sizeof(d)));
        wr__check_cite(r, oos != NULL ? oos : last);
        wr__check_cite(r, cl->crash);
        if (oos != NULL)
            focus = crash_conn = oos->conn;
    }
    if (!wr_history_has_trace(h)) {
        /* Black-box: the one visible symptom is the error mode's close. */
        for (size_t i = 0; i < cl->n; i++) {
            const cconn_t *c = &cl->c[i];

            if (c->closed == NULL || c->closed->code != 1011 ||
                c->established != NULL || c->welcome != NULL ||
                !wr__check_token_valid(c))
                continue;
            if (wr__check_violation(
                    r,
                    "client %d's connection was closed with 1011 "
                    "(internal error) during its handshake, before any "
                    "welcome",
                    c->client)) {
                wr__check_cite(r, c->connect);
                wr__check_cite(r, c->closed);
            }
        }
        wr__check_finish(
            r, WR_UNKNOWN,
            "no gateway trace, and no client saw a handshake end in 1011");
        return;
    }
    for (size_t i = 0; i < len && !md.oom && !g.oom; i++) {
        const wr_event_t *ev = wr_history_at(h, i);
        bool lost_handle;
        gconn_t *c;

        if (!wr__check_from_gateway(ev))
            continue;
        wr__check_model_apply(&md, ev);
        c = wr__check_gconn_note(&g, ev);
        if (c != NULL && wr__check_is(ev, "welcome.sent") &&
            c->final_key != NULL && !c->shared) {
            int *v = wr__check_pmap_at(&holders, wr__check_pkey(c->final_key),
                                       0, true);

            if (v == NULL)
                g.oom = true;
            else
                *v = (int)(c - g.c);
        }
        if (registry_change(ev)) {
            for (int k = 0; k < 2; k++) {
                const char *key = k == 0 ? ev->key : ev->from;
                gconn_t *lost = holder_lost(&md, &g, &holders, key);

                if (lost == NULL || (k == 1 && wr__check_eq(key, ev->key)))
                    continue;
                lost->flagged = true;
                if (wr__check_violation(
                        r,
                        "conn %llu, welcomed and live under '%s', was left "
                        "with %s by %s %s of conn %llu (seq %llu)",
                        (unsigned long long)lost->id, key,
                        wr__check_model_own(&md, key, lost->id) >= 0
                            ? "a machine out of the ready set"
                            : "no machine",
                        lost->id == ev->conn ? "its own" : "the",
                        ev->event, (unsigned long long)ev->conn,
                        (unsigned long long)ev->seq)) {
                    focus = lost->id;
                    wr__check_cite(r, lost->welcome);
                    wr__check_cite(r, ev);
                }
            }
        }
        if (c == NULL)
            continue;
        lost_handle = (wr__check_is(ev, "swap.begin") &&
                       wr__check_eq(ev->handle, "out-of-scope")) ||
                      wr__check_is(ev, "swap.error") ||
                      wr__check_is(ev, "swap.swallowed");
        if (lost_handle) {
            /* One violation per connection; its swap events as evidence. */
            if (!c->flagged && ev->conn != crash_conn) {
                c->flagged = true;
                if (wr__check_violation(
                        r,
                        "conn %llu's key swap to '%s' used a registry "
                        "handle whose scope had ended (seq %llu)",
                        (unsigned long long)ev->conn,
                        wr__check_str(c->swap_begin ? c->swap_begin->to : NULL),
                        (unsigned long long)ev->seq))
                    focus = ev->conn;
            }
            if (ev->conn == focus)
                wr__check_cite(r, ev);
            continue;
        }
        /* A live, swapped connection must own a machine under its key. */
        if (c->swapped == NULL || c->ended != NULL || c->shared || c->bare ||
            wr__check_model_own(&md, c->final_key, c->id) >= 0)
            continue;
        c->bare = true;
        if (ev->conn == focus) {
            size_t n = strlen(r->summary);

            wr__check_cite(r,
                           ev); /* what living without a machine looked like */
            snprintf(r->summary + n, sizeof(r->summary) - n,
                     "; the connection lived on with no machine under '%s' "
                     "(seq %llu)",
                     wr__check_str(c->final_key), (unsigned long long)ev->seq);
            continue;
        }
        if (c->flagged)
            continue;
        c->flagged = true;
        if (wr__check_violation(
                r,
                "conn %llu lived on under key '%s' with no machine of "
                "its own (seq %llu)",
                (unsigned long long)ev->conn, wr__check_str(c->final_key),
                (unsigned long long)ev->seq)) {
            focus = ev->conn;
            wr__check_cite(r, c->swapped);
            wr__check_cite(r, ev);
        }
    }
    if (md.oom || g.oom)
        wr__check_out_of_memory(r);
    else
        wr__check_finish(
            r, WR_PASS,
            "every key swap used the endpoint's registry handle, every live "
            "connection kept its machine, and every welcomed one kept it "
            "ready until its own close, at every registry change");
    wr__check_model_free(&md);
    wr__check_gconns_free(&g);
    wr__check_pmap_free(&holders);
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
        v = wr__check_pmap_at(&first, wr__check_pkey(cl->c[i].session), 0,
                              true);
        if (v != NULL && *v < 0)
            *v = cl->c[i].client;
        else if (v != NULL && *v != cl->c[i].client)
            *tried = true;
    }
    wr__check_pmap_free(&first);
    for (size_t i = 0; i < len; i++) {
        const wr_event_t *ev = wr_history_at(h, i);
        int a = wr__check_from_client(ev) ? cl->of[i] : -1;
        const cconn_t *c;

        if (a < 0)
            continue;
        c = &cl->c[a];
        if (ev == wr__check_welcomed_at(c) && c->key != NULL) {
            for (size_t j = 0; j < cl->n; j++) {
                const cconn_t *o = &cl->c[j];

                if ((int)j == a || !open[j] || !wr__check_eq(o->key, c->key))
                    continue;
                if (wr__check_violation(
                        r,
                        "clients %d and %d were both welcomed under "
                        "key '%s' and connected at the same time",
                        o->client, c->client, c->key)) {
                    wr__check_cite(r, wr__check_welcomed_at(o));
                    wr__check_cite(r, ev);
                }
                break;
            }
            open[a] = true;
        } else if (ev == wr__check_stopped(c)) {
            open[a] = false;
        }
    }
    free(open);
    return true;
}

/* One key held two live machines, a registration of a live key succeeded
 * ("existing"), or (black-box) two clients were welcomed under one key at
 * once. */
void wr__check_duplicate(const wr_history_t *h, const clients_t *cl,
                         wr_check_result_t *r)
{
    size_t len = wr_history_len(h);
    uint64_t pair[2] = {0, 0}; /* the first violation's connections */
    size_t peak = 0;           /* most live machines under one key */
    model_t md = {0};
    bool tried = false;

    if (!wr_history_has_trace(h)) {
        if (!duplicate_black_box(h, cl, r, &tried)) {
            wr__check_out_of_memory(r);
            return;
        }
        wr__check_finish(
            r, tried ? WR_PASS : WR_UNKNOWN,
            tried ? "no gateway trace; clients sharing a session were "
                    "never welcomed at the same time"
                  : "no gateway trace and no two clients shared a "
                    "session");
        return;
    }
    for (size_t i = 0; i < len && !md.oom; i++) {
        const wr_event_t *ev = wr_history_at(h, i);
        bool reg = wr__check_is(ev, "registry.register"),
             rekey = wr__check_is(ev, "registry.rekey");
        int m;

        if (!wr__check_from_gateway(ev))
            continue;
        if ((reg || rekey) && wr__check_eq(ev->result, "existing")) {
            m = wr__check_model_find(&md, ev->key, ev->conn);
            if (wr__check_violation(
                    r,
                    "conn %llu registered key '%s', already live%s, "
                    "and got success (result existing, seq %llu)",
                    (unsigned long long)ev->conn, wr__check_str(ev->key),
                    m >= 0 ? " with another machine" : "",
                    (unsigned long long)ev->seq)) {
                wr__check_cite(r, m >= 0 ? md.m[m].reg : NULL);
                wr__check_cite(r, ev);
                pair[0] = m >= 0 ? md.m[m].conn : 0;
                pair[1] = ev->conn;
            }
            continue;
        }
        m = wr__check_model_apply(&md, ev);
        if (m < 0 || !((reg && wr__check_eq(ev->result, "created")) ||
                       (rekey && wr__check_eq(ev->result, "moved"))))
            continue;
        size_t n = wr__check_model_count(&md, ev->key);
        if (n < 2)
            continue;
        peak = n > peak ? n : peak;
        int other = md.m[m].next >= 0 ? md.m[m].next
                                      : wr__check_model_head(&md, ev->key);
        if (wr__check_violation(
                r,
                "key '%s' held %zu live machines (conn %llu and conn "
                "%llu) from seq %llu",
                ev->key, n, (unsigned long long)md.m[other].conn,
                (unsigned long long)ev->conn, (unsigned long long)ev->seq)) {
            wr__check_cite(r, md.m[other].reg);
            wr__check_cite(r, ev);
            pair[0] = md.m[other].conn;
            pair[1] = ev->conn;
        }
    }
    if (md.oom) {
        wr__check_out_of_memory(r);
        wr__check_model_free(&md);
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
                    wr__check_from_gateway(ev) &&
                    wr__check_is(ev, "welcome.sent"))
                    w[k] = ev;
        }
        for (int k = 0; k < 2; k++) {
            wr__check_cite(r, w[k]);
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
    wr__check_finish(
        r, WR_PASS,
        "no key ever held two live machines and no registration of a live "
        "key succeeded");
    wr__check_model_free(&md);
}

/* ------------------------------------------------------------------ */
/* coordinator_gap                                                      */
/* ------------------------------------------------------------------ */

/* The coordinator reported READY_FOR_MESSAGES while the key's machine was
 * absent or not ready. */
void wr__check_coordinator_gap(const wr_history_t *h, wr_check_result_t *r)
{
    size_t len = wr_history_len(h);
    model_t md = {0};
    gconns_t g = {0};

    if (!wr_history_has_trace(h)) {
        wr__check_finish(
            r, WR_UNKNOWN,
            "no gateway trace: the coordinator's phases are not visible");
        return;
    }
    for (size_t i = 0; i < len && !md.oom && !g.oom; i++) {
        const wr_event_t *ev = wr_history_at(h, i);
        gconn_t *c;
        wsr_state_t st;

        if (!wr__check_from_gateway(ev))
            continue;
        wr__check_model_apply(&md, ev);
        c = wr__check_gconn_note(&g, ev);
        if (!wr__check_is(ev, "coordinator.phase") ||
            !wr__check_eq(ev->phase, "READY_FOR_MESSAGES") ||
            (ev->result != NULL && !wr__check_eq(ev->result, "ok")) ||
            !wr__check_not_ready(&md, ev, c, &st))
            continue;
        if (!wr__check_violation(
                r,
                "conn %llu's coordinator reported READY_FOR_MESSAGES "
                "while its machine under '%s' was %s (seq %llu, "
                "linked: %s)",
                (unsigned long long)ev->conn, wr__check_str(ev->key),
                wsr_state_name(st), (unsigned long long)ev->seq,
                ev->linked == 1   ? "true"
                : ev->linked == 0 ? "false"
                                  : "not traced"))
            continue;
        wr__check_cite(r, ev);
        /* What the gap let through, and when the machine caught up. */
        const wr_event_t *ready = wr__check_next_ready(h, ev);
        for (size_t j = i + 1; j < len; j++) {
            const wr_event_t *e = wr_history_at(h, j);

            if (e == ready)
                break;
            if (wr__check_from_gateway(e) && e->conn == ev->conn &&
                wr__check_is(e, "message.process")) {
                wr__check_cite(r, e);
                break;
            }
        }
        wr__check_cite(r, ready);
    }
    if (md.oom || g.oom)
        wr__check_out_of_memory(r);
    else
        wr__check_finish(
            r, WR_PASS,
            "the coordinator reported ready only with a ready machine");
    wr__check_model_free(&md);
    wr__check_gconns_free(&g);
}

/* ------------------------------------------------------------------ */
/* registry_leak                                                        */
/* ------------------------------------------------------------------ */

/* A machine stays registered after its connection closed: the harness's
 * count after every client closed, or the model at the end of the trace.
 * In a cluster whose instance was killed, the harness reads the count
 * once the TTL has run out twice over: the dead instance's entries are
 * leaks then too. */
void wr__check_registry_leak(const wr_history_t *h, const clients_t *cl,
                             wr_check_result_t *r)
{
    size_t len = wr_history_len(h), leaks = 0;
    bool trace = wr_history_has_trace(h);
    const wr_event_t *rc = cl->regcount;
    model_t md = {0};
    gconns_t g = {0};

    if (cl->crash != NULL) {
        char d[64];
        wr__check_finish(
            r, WR_UNKNOWN,
            "the gateway %s; a dead process has no registry left to "
            "leak",
            wr__check_death(cl->crash, d, sizeof(d)));
        return;
    }
    if (rc != NULL && rc->count > 0) {
        const wr_event_t *kill = NULL;

        /* A cluster whose instance was killed: its entries were due to
         * expire with their TTL before the harness read what was left. */
        for (size_t i = 0; i < len && kill == NULL; i++)
            if (wr_history_at(h, i)->src == WR_SRC_HARNESS &&
                wr__check_is(wr_history_at(h, i), "instance.kill"))
                kill = wr_history_at(h, i);
        if (kill != NULL)
            wr__check_violation(
                r,
                "%lld registry entr%s remained after every client had "
                "closed, %.0f ms after instance %d was killed: a dead "
                "instance's sessions never expired",
                (long long)rc->count, rc->count == 1 ? "y" : "ies",
                (double)(rc->ns - kill->ns) / 1e6, kill->instance);
        else
            wr__check_violation(
                r,
                "%lld registry entr%s remained after every client had "
                "closed",
                (long long)rc->count, rc->count == 1 ? "y" : "ies");
        wr__check_cite(r, kill);
        wr__check_cite(r, rc);
    }
    for (size_t i = 0; trace && i < len && !md.oom && !g.oom; i++) {
        const wr_event_t *ev = wr_history_at(h, i);

        wr__check_model_apply(&md, ev);
        wr__check_gconn_note(&g, ev);
    }
    for (size_t i = 0; trace && i < md.n && !md.oom && !g.oom; i++) {
        const machine_t *m = &md.m[i];
        int at = wr__check_pmap_get(&g.index, m->conn, 1);
        const gconn_t *c = at >= 0 ? &g.c[at] : NULL;
        size_t n = strlen(r->summary);

        if (!m->live || c == NULL || c->closed == NULL)
            continue;
        /* The machine's registration and its connection's close, for as
         * many leaked keys as the evidence holds. */
        if (r->nevidence + 2 <= WR_EVIDENCE_MAX) {
            wr__check_cite(r, m->reg);
            wr__check_cite(r, c->closed);
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
            wr__check_violation(
                r,
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
        wr__check_out_of_memory(r);
    else if (trace || rc != NULL)
        wr__check_finish(r, WR_PASS,
                         "every closed connection's machine was unregistered");
    else
        wr__check_finish(
            r, WR_UNKNOWN,
            "no gateway trace and no registry count after the clients "
            "closed");
    wr__check_model_free(&md);
    wr__check_gconns_free(&g);
}
