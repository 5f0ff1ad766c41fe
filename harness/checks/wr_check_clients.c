/* wr_check_clients.c - The checkers of what connections were promised:
 * false_readiness, liveness, isolation and no_lost_messages.
 *
 * Each reads the clients' attempts (clients_t, wr_check_model.c) and,
 * where it needs one, the trace: a key is said ready only when it is, an
 * authenticated connection is welcomed in time, a client gets only its
 * own replies and session, and every message it sends is answered. Each
 * allocates its own scratch state and frees it before it returns; the
 * history is only read. Any thread; no locks. */
#include "checks/wr_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/wr_check_int.h"

/* ------------------------------------------------------------------ */
/* Small tools                                                          */
/* ------------------------------------------------------------------ */

static double ms(int64_t ns)
{
    return (double)ns / 1e6;
}

static bool refused_close(int code)
{
    return code == 4409 || code == 1008;
}

/* Whether the server refused the attempt (duplicate session, bad token). */
static bool refused(const cconn_t *c)
{
    return c->refusal != NULL ||
           (c->closed != NULL && refused_close(c->closed->code));
}

/* Whether the attempt was closed by the client itself. */
static bool closed_by_client(const cconn_t *c)
{
    return c->close_req != NULL ||
           (c->closed != NULL && wr__check_eq(c->closed->by, "client"));
}

/* Whether the client closed on purpose without waiting for its answers:
 * a chaos close (the engine drains before every other close). */
static bool hung_up(const cconn_t *c)
{
    return c->close_req != NULL && wr__check_eq(c->close_req->why, "chaos");
}

/* Whether the gateway ended the attempt with a close code that says why
 * (not a normal closure, not a vanished transport) before the client
 * closed it: a visible end, not a silent loss. */
static bool server_ended(const cconn_t *c)
{
    return c->closed != NULL && wr__check_eq(c->closed->by, "peer") &&
           c->closed->code != 1000 && c->closed->code != 1005 &&
           c->closed->code != 1006 &&
           (c->close_req == NULL || c->closed < c->close_req);
}

/* Whether ev tells a client its key (connection_id). */
static bool names_key(const wr_event_t *ev)
{
    return ev->key != NULL &&
           (wr__check_is(ev, "client.established") ||
            (wr__check_is(ev, "client.recv") &&
             wr__check_eq(ev->msg_type, "connection_established")));
}

/* ------------------------------------------------------------------ */
/* false_readiness                                                      */
/* ------------------------------------------------------------------ */

/* The state of conn's machine under key as the model has it: its own
 * machine first, else the newest live one (as the gateway looks it up). */
static wsr_state_t model_state_of(const model_t *md, const char *key,
                                  uint64_t conn)
{
    int i = wr__check_model_find(md, key, conn);

    return i >= 0 ? md->m[i].state : WSR_ST_NONE;
}

/* A message its gate let through is processed under the key the gate
 * read, on a machine that is still in the ready set: the event's own
 * reading (taken from the registry just before it was traced), else the
 * model. Not judged once the connection's close has begun (the close path
 * may move the machine on concurrently), nor for a connection that shares
 * another's machine. */
static void processed_off_gate(const model_t *md, const gconn_t *c,
                               const wr_event_t *ev, wr_check_result_t *r)
{
    wsr_state_t st;

    if (c->ended != NULL || c->shared)
        return;
    if (!wr__check_eq(c->gate->key, ev->key)) {
        if (wr__check_violation(
                r,
                "conn %llu's gate let '%s' through under key '%s', but it "
                "was processed under '%s' (seq %llu)",
                (unsigned long long)ev->conn,
                wr__check_str(ev->correlation_id), wr__check_str(c->gate->key),
                wr__check_str(ev->key), (unsigned long long)ev->seq)) {
            wr__check_cite(r, c->gate);
            wr__check_cite(r, ev);
        }
    } else if (wr__check_not_ready(md, ev, c, &st) &&
               wr__check_violation(
                   r,
                   "conn %llu processed message '%s' under key '%s' while "
                   "its machine was %s (seq %llu)",
                   (unsigned long long)ev->conn,
                   wr__check_str(ev->correlation_id), wr__check_str(ev->key),
                   wsr_state_name(st), (unsigned long long)ev->seq)) {
        wr__check_cite(r, c->gate);
        wr__check_cite(r, ev);
    }
}

/* Judges one gateway event that says a key is ready, or lets a message
 * through, against the machine the model replays from the trace. The
 * gateway traces its readiness answers and its message gate inside the
 * registry's critical section, so the model at those events is exactly
 * what the registry held; the state the event itself reports is checked
 * against it too, never taken instead of it. */
static void readiness_event(const wr_history_t *h, const model_t *md,
                            const gconn_t *c, const wr_event_t *ev,
                            wr_check_result_t *r)
{
    wsr_state_t st = model_state_of(md, ev->key, ev->conn);
    wsr_state_t said =
        ev->machine ? wsr_state_from_name(ev->machine) : WSR_ST_NONE;

    if (wr__check_is(ev, "message.gate") &&
        wr__check_eq(ev->decision, "process")) {
        if (!wsr_state_is_ready(st) || (ev->machine && !wsr_state_is_ready(said))) {
            if (wr__check_violation(
                    r,
                    "conn %llu's message gate let '%s' through under key "
                    "'%s' while its machine was %s (seq %llu)",
                    (unsigned long long)ev->conn,
                    wr__check_str(ev->correlation_id), wr__check_str(ev->key),
                    wsr_state_name(wsr_state_is_ready(st) ? said : st),
                    (unsigned long long)ev->seq)) {
                wr__check_cite(r, ev);
                wr__check_cite(r, wr__check_next_ready(h, ev));
            }
        }
    } else if (wr__check_is(ev, "message.process")) {
        /* Processing needs a gate that let this very message through. */
        if (c == NULL || c->gate == NULL ||
            !wr__check_eq(c->gate->correlation_id, ev->correlation_id)) {
            if (wr__check_violation(
                    r,
                    "conn %llu processed message '%s' under key '%s' with no "
                    "gate letting it through (its machine was %s; seq %llu)",
                    (unsigned long long)ev->conn,
                    wr__check_str(ev->correlation_id), wr__check_str(ev->key),
                    wsr_state_name(st), (unsigned long long)ev->seq)) {
                wr__check_cite(r, c ? c->gate : NULL);
                wr__check_cite(r, ev);
            }
        } else {
            processed_off_gate(md, c, ev, r);
        }
    } else if (wr__check_is(ev, "welcome.sent") &&
               ev->connection_ready == 1) {
        /* Only the connection's own handshake moves its machine until its
         * close begins, which follows the welcome: the model is exact. */
        int own = wr__check_model_own(md, ev->key, ev->conn);
        wsr_state_t mine = own >= 0 ? md->m[own].state : st;

        if (!wsr_state_is_ready(mine) &&
            wr__check_violation(
                r,
                "conn %llu was welcomed with connection_ready true while "
                "its machine under '%s' was %s (seq %llu)",
                (unsigned long long)ev->conn, wr__check_str(ev->key),
                wsr_state_name(mine), (unsigned long long)ev->seq)) {
            wr__check_cite(r, ev);
            wr__check_cite(r, wr__check_next_ready(h, ev));
        }
    } else if (wr__check_is(ev, "debug.ready") && ev->ready >= 0) {
        bool ready = wr__check_model_any_ready(md, ev->key);

        if ((ev->ready == 1) != ready) {
            if (wr__check_violation(
                    r,
                    "/debug/ready answered %s for '%s' while its machine "
                    "was %s (seq %llu)",
                    ev->ready == 1 ? "ready" : "not ready",
                    wr__check_str(ev->key), wsr_state_name(st),
                    (unsigned long long)ev->seq))
                wr__check_cite(r, ev);
        } else if (ev->machine != NULL && said != st &&
                   wr__check_violation(
                       r,
                       "/debug/ready read '%s' as %s while the registry "
                       "held %s (seq %llu)",
                       wr__check_str(ev->key), ev->machine,
                       wsr_state_name(st), (unsigned long long)ev->seq)) {
            wr__check_cite(r, ev);
        }
    }
}

/* A readiness probe between its request and its answer: what the
 * registry held meanwhile, as the model replays it, and which readings of
 * the key the gateway traced. */
typedef struct {
    const wr_event_t *ask; /* client.probe invoke */
    unsigned held;         /* HELD_* bits, at some instant since the ask */
    unsigned read;         /* bit 2 * ready + registered of each reading */
} probe_t;

enum {
    HELD_READY = 1,      /* a ready machine under the key */
    HELD_NOT_READY = 2,  /* none */
    HELD_REGISTERED = 4, /* some machine under the key */
    HELD_ABSENT = 8,     /* no machine at all */
};

static unsigned held_now(const model_t *md, const char *key)
{
    return (wr__check_model_any_ready(md, key) ? HELD_READY : HELD_NOT_READY) |
           (wr__check_model_count(md, key) > 0 ? HELD_REGISTERED
                                               : HELD_ABSENT);
}

/* Notes what a gateway event, already applied to md, shows to each probe
 * in flight. */
static void probes_see(const model_t *md, const wr_event_t *ev, probe_t *p,
                       size_t n)
{
    for (size_t k = 0; k < n; k++) {
        p[k].held |= held_now(md, p[k].ask->key);
        if (wr__check_is(ev, "debug.ready") && ev->ready >= 0 &&
            ev->registered >= 0 && wr__check_eq(ev->key, p[k].ask->key))
            p[k].read |= 1u << (2 * ev->ready + ev->registered);
    }
}

/* A probe's answer (ev) must be one of the gateway's traced readings of the
 * key made while it was asked (each judged against the model itself by
 * readiness_event), or else be what the registry held at some instant
 * between the request and the answer: an answer nothing in the registry
 * ever said came from somewhere else (a cache, a flag, a guess). */
static void probe_answered(const probe_t *p, const wr_event_t *ev,
                           wr_check_result_t *r)
{
    const char *said = NULL, *held = NULL;

    if (ev->ready < 0 || ev->registered < 0 ||
        (p->read & 1u << (2 * ev->ready + ev->registered)))
        return;
    if (ev->ready == 1 && !(p->held & HELD_READY))
        said = "ready", held = "no ready machine under it at any instant";
    else if (ev->ready == 0 && !(p->held & HELD_NOT_READY))
        said = "not ready", held = "a ready machine under it all along";
    else if (ev->registered == 1 && !(p->held & HELD_REGISTERED))
        said = "registered", held = "no machine under it at any instant";
    else if (ev->registered == 0 && !(p->held & HELD_ABSENT))
        said = "not registered", held = "a machine under it all along";
    if (said != NULL &&
        wr__check_violation(
            r,
            "client %d's probe of '%s' was answered %s, but no reading of "
            "the key was traced while it was asked and the registry held "
            "%s from the request to the answer",
            ev->client, wr__check_str(ev->key), said, held)) {
        wr__check_cite(r, p->ask);
        wr__check_cite(r, ev);
    }
}

/* Something said "ready" for a key whose machine was not, or "not ready"
 * for one that was: a message gate, a processed message, a debug answer,
 * a welcome, each judged against the model (readiness_event); a probe
 * answered with what the registry never held while it was asked
 * (probe_answered); black-box, a probe of a key nobody holds, or a
 * welcomed client whose own key then probes not ready. */
void wr__check_false_readiness(const wr_history_t *h, const clients_t *cl,
                               wr_check_result_t *r)
{
    size_t len = wr_history_len(h), probes = 0, nflight = 0, capflight = 0;
    bool trace = wr_history_has_trace(h), oom = false;
    probe_t *flight = NULL; /* probes asked and not yet answered */
    model_t md = {0};
    gconns_t g = {0};

    for (size_t i = 0; i < len && !md.oom && !g.oom && !oom; i++) {
        const wr_event_t *ev = wr_history_at(h, i);
        gconn_t *c;

        if (wr__check_from_gateway(ev)) {
            wr__check_model_apply(&md, ev);
            c = wr__check_gconn_note(&g, ev);
            readiness_event(h, &md, c, ev, r);
            probes_see(&md, ev, flight, nflight);
            continue;
        }
        if (!wr__check_from_client(ev) || !wr__check_is(ev, "client.probe") ||
            ev->key == NULL)
            continue;
        if (trace && wr__check_eq(ev->type, "invoke")) {
            if (!VEC_RESERVE(flight, nflight, capflight)) {
                oom = true;
                break;
            }
            flight[nflight++] = (probe_t){ev, held_now(&md, ev->key), 0};
            continue;
        }
        /* The answer (or failure) ends the client's probe in flight; a
         * client asks one at a time. */
        for (size_t k = 0; k < nflight; k++) {
            if (flight[k].ask->client != ev->client)
                continue;
            if (wr__check_eq(ev->type, "ok") &&
                wr__check_eq(flight[k].ask->key, ev->key))
                probe_answered(&flight[k], ev, r);
            flight[k] = flight[--nflight];
            break;
        }
        if (!wr__check_eq(ev->type, "ok"))
            continue;
        if (ev->ready == 1) {
            bool used =
                wr__check_pmap_get(&cl->names, wr__check_pkey(ev->key), 0) >= 0;

            if (ev->registered == 0 ||
                (!used &&
                 (!trace || wr__check_model_count(&md, ev->key) == 0))) {
                if (wr__check_violation(
                        r,
                        "client %d probed '%s', %s, and the gateway "
                        "answered ready",
                        ev->client, ev->key,
                        ev->registered == 0
                            ? "which the gateway said had no machine"
                            : "a key no connection held"))
                    wr__check_cite(r, ev);
            } else if (!used) {
                probes++;
            }
            continue;
        }
        if (ev->ready != 0)
            continue;
        if (wr__check_pmap_get(&cl->names, wr__check_pkey(ev->key), 0) < 0) {
            probes++; /* an absent key, rightly not ready */
            continue;
        }
        /* The prober's own welcomed key, while it is connected: the
         * welcome said ready, so the key must still be. */
        int a = cl->of[i];
        const cconn_t *cc = a >= 0 ? &cl->c[a] : NULL;
        const wr_event_t *stop = cc ? wr__check_stopped(cc) : NULL;

        if (cc == NULL || cc->established == NULL ||
            cc->established->connection_ready != 1 || cc->established > ev ||
            !wr__check_eq(cc->key, ev->key) || (stop != NULL && stop < ev) ||
            ev->registered != 1)
            continue;
        /* A server close for cause (oversize, ...) may be under way, and a
         * key that another attempt also used may have changed hands. */
        if (cc->closed != NULL && !wr__check_eq(cc->closed->by, "client") &&
            cc->closed->code != 1000)
            continue;
        bool alone = true;
        for (size_t j = 0; j < cl->n && alone; j++)
            if ((int)j != a && (wr__check_eq(cl->c[j].session, ev->key) ||
                                wr__check_eq(cl->c[j].key, ev->key)))
                alone = false;
        if (!alone)
            continue;
        probes++;
        if (wr__check_violation(
                r,
                "client %d was welcomed as ready under '%s', but its "
                "probe of that key then answered not ready",
                ev->client, ev->key)) {
            wr__check_cite(r, cc->established);
            wr__check_cite(r, ev);
        }
    }
    if (md.oom || g.oom || oom) {
        wr__check_out_of_memory(r);
    } else if (trace) {
        wr__check_finish(
            r, WR_PASS,
            "no message, welcome or readiness answer claimed a key ready "
            "without a ready machine, and every message was processed on a "
            "ready machine under the key its gate read");
    } else if (probes > 0) {
        wr__check_finish(
            r, WR_PASS,
            "no gateway trace; %zu probe(s) of absent or welcomed keys "
            "answered truthfully",
            probes);
    } else {
        wr__check_finish(r, WR_UNKNOWN,
                         "no gateway trace and no readiness probe to judge by");
    }
    free(flight);
    wr__check_model_free(&md);
    wr__check_gconns_free(&g);
}

/* ------------------------------------------------------------------ */
/* liveness                                                             */
/* ------------------------------------------------------------------ */

/* How many connection attempts asked for session key (none for NULL). */
static size_t asked_for(const clients_t *cl, const char *key)
{
    size_t n = 0;

    for (size_t i = 0; key != NULL && i < cl->n; i++)
        n += wr__check_eq(cl->c[i].session, key);
    return n;
}

/* A refusal as a duplicate session is correct only when another attempt
 * asked for the same session (a second client, or a reconnect racing its
 * own old connection) and the refusal closes with 4409, the code clients
 * read it by. Returns NULL when it is, else why not (into why). asked is
 * asked_for() of the refused session, or -1 when no client event can tell
 * (a history of the trace alone). */
static const char *duplicate_unjustified(int code, const char *session,
                                         long asked, char *why, size_t len)
{
    if (code != 4409)
        snprintf(why, len,
                 "was refused as a duplicate session with close %d, not "
                 "4409",
                 code);
    else if (asked < 0)
        return NULL;
    else if (session == NULL)
        snprintf(why, len,
                 "was refused as a duplicate session though it asked for "
                 "none (the gateway was to generate one)");
    else if (asked == 0)
        snprintf(why, len,
                 "was refused as a duplicate of session '%s', which no "
                 "client asked for",
                 wr__check_str(session));
    else if (asked == 1)
        snprintf(why, len,
                 "was refused as a duplicate of session '%s', which no "
                 "other connection asked for",
                 wr__check_str(session));
    else
        return NULL;
    return why;
}

/* Gateway side: every authenticated connection is welcomed in time,
 * unless it went away first or was refused as a duplicate (rightly:
 * duplicate_unjustified). */
static void liveness_trace(const wr_history_t *h, const clients_t *cl,
                           int64_t bound, wr_check_result_t *r, bool *oom)
{
    size_t len = wr_history_len(h);
    gconns_t g = {0};

    for (size_t i = 0; i < len && !g.oom; i++)
        wr__check_gconn_note(&g, wr_history_at(h, i));
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
                   !wr__check_eq(c->failed->error, "DUPLICATE_SESSION")) {
            bad = c->failed;
            snprintf(why, sizeof(why),
                     "was failed with %s (close %d) after auth (seq %llu)",
                     wr__check_str(bad->error), bad->code,
                     (unsigned long long)bad->seq);
        } else if (c->failed != NULL && c->failed == c->ended) {
            const char *key = c->swap_begin ? c->swap_begin->to : NULL;

            if (!duplicate_unjustified(c->failed->code, key,
                                       cl->n > 0 ? (long)asked_for(cl, key)
                                                 : -1,
                                       why, sizeof(why)))
                continue; /* a refused duplicate session: correct */
            bad = c->failed;
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
                     wr__check_death(cl->crash, d, sizeof(d)));
        } else if (bound > 0 && cl->end_ns - c->auth_ok->ns > bound) {
            snprintf(why, sizeof(why),
                     "was still not welcomed %.1f ms after auth.ok, at the "
                     "end of the case (bound %.1f ms)",
                     ms(cl->end_ns - c->auth_ok->ns), ms(bound));
        } else {
            continue;
        }
        if (wr__check_violation(r, "conn %llu authenticated (seq %llu) but %s",
                                (unsigned long long)c->id,
                                (unsigned long long)c->auth_ok->seq, why)) {
            wr__check_cite(r, c->auth_ok);
            if (c->ready_failed != NULL && bad == c->ready_failed) {
                /* The refused step that made the ready step fail. */
                size_t at = wr_history_index(h, bad);
                for (size_t j = at; j-- > 0;) {
                    const wr_event_t *e = wr_history_at(h, j);
                    if (wr__check_from_gateway(e) && e->conn == c->id &&
                        wr__check_is(e, "machine.transition")) {
                        if (!wr__check_eq(e->result, "ok"))
                            wr__check_cite(r, e);
                        break;
                    }
                }
            }
            if (bad != c->welcome) {
                wr__check_cite(r, c->swapped);
                wr__check_cite(r, c->ended != bad ? c->ended : NULL);
            }
            wr__check_cite(r, bad);
        }
    }
    if (g.oom)
        *oom = true;
    wr__check_gconns_free(&g);
}

/* Client side: every attempt with a valid token is welcomed ready in time
 * or refused as a duplicate session (or at the connection limit). Returns how many attempts it could
 * judge. */
static size_t liveness_clients(const clients_t *cl, int64_t bound,
                               wr_check_result_t *r)
{
    size_t judged = 0;

    for (size_t i = 0; i < cl->n; i++) {
        const cconn_t *c = &cl->c[i];
        const wr_event_t *bad = NULL, *stop = wr__check_stopped(c);
        int64_t t0 = c->connect->ns;
        char why[200];

        if (!wr__check_token_valid(c))
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
        } else if (c->closed != NULL && c->closed->code == 1009) {
            judged++; /* refused for its own (oversized) message */
            continue;
        } else if (wr__check_eq(c->refusal ? c->refusal->error : NULL,
                                "OVERLOADED")) {
            /* Refused at the gateway's connection limit, its stated
             * policy (close 1013; the scenario's steps say whether the
             * limit was really reached). */
            judged++;
            continue;
        } else if ((c->closed != NULL && c->closed->code == 4409) ||
                   wr__check_eq(c->refusal ? c->refusal->error : NULL,
                                "DUPLICATE_SESSION")) {
            /* The close code the gateway gave, when it gave one. */
            int code = c->closed != NULL &&
                               wr__check_eq(c->closed->by, "peer") &&
                               c->closed->code != 1005 &&
                               c->closed->code != 1006
                           ? c->closed->code
                           : 4409;

            judged++;
            if (!duplicate_unjustified(code, c->session,
                                       (long)asked_for(cl, c->session), why,
                                       sizeof(why)))
                continue; /* refused as a duplicate, rightly */
            bad = c->refusal != NULL ? c->refusal : c->closed;
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
                     wr__check_str(bad->by), bad->code);
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
                     wr__check_death(cl->crash, d, sizeof(d)));
        } else if (bound > 0 && cl->end_ns - t0 > bound) {
            judged++;
            snprintf(why, sizeof(why),
                     "was still not welcomed at the end of "
                     "the case, %.1f ms later",
                     ms(cl->end_ns - t0));
        } else {
            continue;
        }
        if (wr__check_violation(r,
                                "client %d's connection with a valid token %s",
                                c->client, why)) {
            wr__check_cite(r, c->connect);
            wr__check_cite(r, bad);
        }
    }
    return judged;
}

void wr__check_liveness(const wr_history_t *h, const clients_t *cl,
                        const wr_check_opts_t *opts, wr_check_result_t *r)
{
    int64_t bound = opts ? opts->ready_timeout_ns : 0;
    bool trace = wr_history_has_trace(h), oom = false;
    size_t judged;

    if (trace)
        liveness_trace(h, cl, bound, r, &oom);
    judged = liveness_clients(cl, bound, r);
    if (oom)
        wr__check_out_of_memory(r);
    else if (trace || judged > 0)
        wr__check_finish(
            r, WR_PASS,
            "every authenticated connection was welcomed ready in time or "
            "refused as a duplicate (closed 4409, its session asked for by "
            "another connection too)");
    else
        wr__check_finish(
            r, WR_UNKNOWN,
            "no gateway trace and no client connection that could be "
            "judged");
}

/* ------------------------------------------------------------------ */
/* isolation                                                            */
/* ------------------------------------------------------------------ */

/* No client receives a reply to a correlation id it never sent, nor a
 * welcome naming another client's session. */
void wr__check_isolation(const wr_history_t *h, const clients_t *cl,
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

        if (!wr__check_from_client(ev) || !wr__check_is(ev, "client.send") ||
            ev->correlation_id == NULL)
            continue;
        v = wr__check_pmap_at(&sent, (uint64_t)ev->client,
                              wr__check_pkey(ev->correlation_id), true);
        o = wr__check_pmap_at(&owner, wr__check_pkey(ev->correlation_id), 0,
                              true);
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

        if (!wr__check_from_client(ev))
            continue;
        if (wr__check_is(ev, "client.recv") && ev->correlation_id != NULL &&
            wr__check_pmap_get(&sent, (uint64_t)ev->client,
                               wr__check_pkey(ev->correlation_id)) < 0) {
            int o = wr__check_pmap_get(&owner,
                                       wr__check_pkey(ev->correlation_id), 0);
            const wr_event_t *src = o >= 0 ? wr_history_at(h, (size_t)o) : NULL;

            if (src != NULL) {
                if (wr__check_violation(
                        r,
                        "client %d received %s for correlation id "
                        "'%s', which client %d sent",
                        ev->client, wr__check_str(ev->msg_type),
                        ev->correlation_id, src->client)) {
                    wr__check_cite(r, src);
                    wr__check_cite(r, ev);
                }
            } else if (wr__check_violation(
                           r,
                           "client %d received %s for correlation id "
                           "'%s', which it never sent",
                           ev->client, wr__check_str(ev->msg_type),
                           ev->correlation_id)) {
                wr__check_cite(r, ev);
            }
            continue;
        }
        a = cl->of[i];
        if (!names_key(ev) || a < 0 || flagged[a])
            continue;
        c = &cl->c[a];
        if (wr__check_eq(c->session, ev->key))
            continue;
        /* Another client's session, or a key another client was given
         * before. */
        for (size_t j = 0; j < cl->n; j++) {
            const cconn_t *o = &cl->c[j];
            const wr_event_t *ow = wr__check_welcomed_at(o);

            if (o->client == c->client ||
                !(wr__check_eq(o->session, ev->key) ||
                  (wr__check_eq(o->key, ev->key) && ow != NULL && ow < ev)))
                continue;
            flagged[a] = true;
            if (wr__check_violation(
                    r,
                    "client %d was welcomed as '%s', the session of "
                    "client %d",
                    c->client, ev->key, o->client)) {
                wr__check_cite(r, o->connect);
                wr__check_cite(r, ow);
                wr__check_cite(r, c->connect);
                wr__check_cite(r, ev);
            }
            break;
        }
    }
    wr__check_pmap_free(&sent);
    wr__check_pmap_free(&owner);
    free(flagged);
    if (oom)
        wr__check_out_of_memory(r);
    else
        wr__check_finish(
            r, WR_PASS,
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

/* An agent event for (attempt a, its correlation id) in the model's
 * order: agent_started begins an answer, each next event follows the one
 * before it, agent_completed ends it. order maps (a, cid) to the index
 * of the last event seen (-1: none, or the answer before ended). False
 * when out of memory. */
static bool answer_in_order(const wr_event_t *ev, int a, int k, pmap_t *order,
                            wr_check_result_t *r)
{
    int *v = wr__check_pmap_at(order, (uint64_t)a,
                               wr__check_pkey(ev->correlation_id), true);
    int want;

    if (v == NULL)
        return false;
    want = *v < 0 || *v == WSR_AGENT_EVENTS - 1 ? 0 : *v + 1;
    if (k != want &&
        wr__check_violation(
            r,
            "client %d got %s for '%s' after %s: an answer's events go %s, "
            "%s, %s, %s, %s",
            ev->client, ev->msg_type, wr__check_str(ev->correlation_id),
            *v < 0 ? "nothing" : wsr_agent_events[*v], wsr_agent_events[0],
            wsr_agent_events[1], wsr_agent_events[2], wsr_agent_events[3],
            wsr_agent_events[4]))
        wr__check_cite(r, ev);
    *v = k;
    return true;
}

/* Every user_message with a correlation id gets its agent_completed (or a
 * visible rejection: an error_message for it) on the same connection, in
 * send order, before the connection ends; each answer's five events come
 * in the model's order (answer_in_order). The engine drains before it
 * closes (it waits for what the gateway owes), so a message unanswered at
 * the client's close is lost, unless the gateway refused the connection
 * or ended it with a stated cause first, or the client hung up on purpose
 * (a chaos close). */
void wr__check_no_lost(const wr_history_t *h, const clients_t *cl,
                       const wr_check_opts_t *opts, wr_check_result_t *r)
{
    int64_t bound = opts ? opts->message_timeout_ns : 0;
    size_t len = wr_history_len(h), ns = 0, cap = 0;
    send_t *s = NULL;
    pmap_t wait = {0}; /* (attempt, cid) -> oldest unanswered send */
    pmap_t order = {0}; /* (attempt, cid) -> last agent event's index */
    int *count = calloc(cl->n ? cl->n : 1, sizeof(int)); /* sends */
    int *last = calloc(cl->n ? cl->n : 1, sizeof(int));  /* +1: answered */
    int *loose = calloc(cl->n ? cl->n : 1, sizeof(int)); /* uncorrelated */
    bool oom = count == NULL || last == NULL || loose == NULL;
    size_t answered = 0, refused_n = 0, ended_n = 0, hung_n = 0;

    for (size_t i = 0; i < len && !oom; i++) {
        const wr_event_t *ev = wr_history_at(h, i);
        int a = wr__check_from_client(ev) ? cl->of[i] : -1;
        int *v, kind;

        if (a < 0)
            continue;
        if (wr__check_is(ev, "client.send") &&
            wr__check_eq(ev->msg_type, "user_message") &&
            ev->correlation_id != NULL) {
            if (!VEC_RESERVE(s, ns, cap) ||
                (v = wr__check_pmap_at(&wait, (uint64_t)a,
                                       wr__check_pkey(ev->correlation_id),
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
        if (!wr__check_is(ev, "client.recv"))
            continue;
        kind = wsr_agent_event_index(ev->msg_type);
        if (ev->correlation_id != NULL && kind >= 0 &&
            !answer_in_order(ev, a, kind, &order, r)) {
            oom = true;
            break;
        }
        if (wr__check_eq(ev->msg_type, "error_message") &&
            ev->correlation_id == NULL) {
            loose[a]++;
            continue;
        }
        if (ev->correlation_id == NULL ||
            !(wr__check_eq(ev->msg_type, "agent_completed") ||
              wr__check_eq(ev->msg_type, "error_message")))
            continue;
        v = wr__check_pmap_at(&wait, (uint64_t)a,
                              wr__check_pkey(ev->correlation_id), false);
        if (v == NULL || *v < 0)
            continue;
        send_t *m = &s[*v];
        m->answer = ev;
        *v = m->next;
        if (!wr__check_eq(ev->msg_type, "agent_completed"))
            continue;
        if (m->pos + 1 < last[a]) {
            /* An earlier send is still unanswered or came later. */
            const send_t *prev = NULL;
            for (size_t k = 0; k < ns; k++)
                if (s[k].attempt == a && s[k].pos == last[a] - 1)
                    prev = &s[k];
            if (wr__check_violation(
                    r,
                    "client %d's reply to '%s' came after the reply "
                    "to '%s', which it sent later",
                    ev->client, wr__check_str(m->send->correlation_id),
                    prev ? wr__check_str(prev->send->correlation_id) : "?")) {
                wr__check_cite(r, m->send);
                wr__check_cite(r, prev ? prev->send : NULL);
                wr__check_cite(r, prev ? prev->answer : NULL);
                wr__check_cite(r, ev);
            }
        } else {
            last[a] = m->pos + 1;
        }
    }
    for (size_t k = 0; k < ns && !oom; k++) {
        const send_t *m = &s[k];
        const cconn_t *c = &cl->c[m->attempt];
        const wr_event_t *stop = wr__check_stopped(c);
        char why[200];

        if (m->answer != NULL) {
            int64_t took = m->answer->ns - m->send->ns;

            if (bound <= 0 || took <= bound) {
                answered++;
                continue;
            }
            snprintf(why, sizeof(why),
                     "was answered only after %.1f ms "
                     "(bound %.1f ms)",
                     ms(took), ms(bound));
        } else if (refused(c)) {
            refused_n++; /* the server refused the connection */
            continue;
        } else if (server_ended(c)) {
            ended_n++; /* closed by the gateway with a stated cause */
            continue;
        } else if (loose[m->attempt] > 0) {
            loose[m->attempt]--; /* an uncorrelated error answered it */
            answered++;
            continue;
        } else if (stop != NULL && closed_by_client(c) && hung_up(c)) {
            hung_n++; /* the client hung up on purpose, first */
            continue;
        } else if (stop != NULL && closed_by_client(c)) {
            snprintf(why, sizeof(why),
                     "was never answered: %.1f ms later the client closed "
                     "(%s) after waiting for its answers",
                     ms(stop->ns - m->send->ns),
                     wr__check_str(c->close_req ? c->close_req->why : NULL));
        } else if (c->closed != NULL) {
            snprintf(why, sizeof(why),
                     "got no reply before the %s closed "
                     "the connection with %d",
                     wr__check_str(c->closed->by), c->closed->code);
        } else if (cl->crash != NULL) {
            char d[64];
            snprintf(why, sizeof(why), "got no reply: the gateway %s",
                     wr__check_death(cl->crash, d, sizeof(d)));
        } else if (bound <= 0 || cl->end_ns - m->send->ns > bound) {
            snprintf(why, sizeof(why), "got no reply by the end of the case");
        } else {
            continue;
        }
        if (wr__check_violation(r, "client %d's message '%s' %s",
                                m->send->client,
                                wr__check_str(m->send->correlation_id), why)) {
            wr__check_cite(r, m->send);
            wr__check_cite(r, m->answer);
            wr__check_cite(r, m->answer ? NULL : c->closed);
        }
    }
    if (oom)
        wr__check_out_of_memory(r);
    else if (ns == 0)
        wr__check_finish(r, WR_PASS, "no user message was sent");
    else
        wr__check_finish(
            r, WR_PASS,
            "%zu of %zu user messages were answered on their connection, in "
            "order, each answer's events in the model's order; %zu went with a refused connection, %zu with one the "
            "gateway closed for a stated cause, %zu with a chaos hang-up",
            answered, ns, refused_n, ended_n, hung_n);
    free(s);
    free(count);
    free(last);
    free(loose);
    wr__check_pmap_free(&wait);
    wr__check_pmap_free(&order);
}
