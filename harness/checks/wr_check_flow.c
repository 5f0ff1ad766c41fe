/* wr_check_flow.c - The checkers of the clients' own flow: steps and
 * identity.
 *
 * steps holds a scenario author's assertions to account: every expect,
 * connect, expect_close, barrier and probe step that was not met is a
 * failure, with the step, the client and what came instead. identity
 * holds the gateway to what a welcome promises: the session the client
 * asked for, its own user, once, and no refusal after it. Neither takes
 * the gateway's word for anything: both read what the clients saw, and
 * identity also what the gateway traced. Each allocates its own scratch
 * state and frees it before it returns; the history is only read. Any
 * thread; no locks. */
#include "checks/wr_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/wr_check_int.h"

/* ------------------------------------------------------------------ */
/* steps                                                                */
/* ------------------------------------------------------------------ */

/* Every step of every client was met, and every client finished its
 * steps before the case ended. A chaos close gives up the rest of a
 * client's steps on purpose; those are not failures. */
void wr__check_steps(const wr_history_t *h, const clients_t *cl,
                     wr_check_result_t *r)
{
    size_t len = wr_history_len(h), clients = 0, steps = 0;
    const wr_event_t *last_recv = NULL;
    int last_client = -1;

    (void)cl;
    for (size_t i = 0; i < len; i++) {
        const wr_event_t *ev = wr_history_at(h, i);

        if (!wr__check_from_client(ev))
            continue;
        if (wr__check_is(ev, "client.recv")) {
            last_recv = ev;
            last_client = ev->client;
        } else if (wr__check_is(ev, "client.finished")) {
            clients++;
            steps += ev->count > 0 ? (size_t)ev->count : 0;
        } else if (wr__check_is(ev, "client.step_failed")) {
            const wr_event_t *instead =
                last_client == ev->client ? last_recv : NULL;

            if (wr__check_violation(
                    r,
                    "client %d's %s step (scenario line %d) was not met: "
                    "%s%s%s",
                    ev->client, wr__check_str(ev->step), ev->line_no,
                    wr__check_str(ev->error),
                    instead ? "; the last message it got was " : "",
                    instead ? wr__check_str(instead->msg_type) : "")) {
                wr__check_cite(r, instead);
                wr__check_cite(r, ev);
            }
        } else if (wr__check_is(ev, "client.abandoned") &&
                   !wr__check_eq(ev->why, "chaos")) {
            if (wr__check_violation(r,
                                    "client %d did not finish its steps: %s",
                                    ev->client, wr__check_str(ev->why)))
                wr__check_cite(r, ev);
        }
    }
    if (clients == 0 && r->violations == 0)
        wr__check_finish(r, WR_UNKNOWN, "no client ran its steps");
    else
        wr__check_finish(r, WR_PASS,
                         "all %zu clients met every one of their steps "
                         "(%zu in all)",
                         clients, steps);
}

/* ------------------------------------------------------------------ */
/* identity                                                             */
/* ------------------------------------------------------------------ */

/* Whether ev tells the attempt it was refused. */
static bool refusal(const wr_event_t *ev)
{
    return (wr__check_is(ev, "client.recv") &&
            wr__check_eq(ev->msg_type, "error_message") &&
            (wr__check_eq(ev->error, "DUPLICATE_SESSION") ||
             wr__check_eq(ev->error, "AUTH_FAILED"))) ||
           (wr__check_is(ev, "client.closed") &&
            (ev->code == 4409 || ev->code == 1008));
}

/* Client side: each welcome names the session the client asked for and
 * its own user, comes once per connection, and is not followed by a
 * refusal; nothing answers a message on a connection before its welcome
 * (the model processes a message only once its connection is ready, and
 * says so with the welcome first: an agent event before it is a message
 * handled by a connection not yet itself). Gateway side: no connection
 * is failed after its welcome. */
void wr__check_identity(const wr_history_t *h, const clients_t *cl,
                        wr_check_result_t *r)
{
    size_t len = wr_history_len(h), welcomes = 0;
    const wr_event_t **first = calloc(cl->n ? cl->n : 1, sizeof(*first));
    bool *flagged = calloc(cl->n ? cl->n : 1, sizeof(*flagged));
    gconns_t g = {0};

    if (first == NULL || flagged == NULL) {
        free(first);
        free(flagged);
        wr__check_out_of_memory(r);
        return;
    }
    for (size_t i = 0; i < len && !g.oom; i++) {
        const wr_event_t *ev = wr_history_at(h, i);
        int a = wr__check_from_client(ev) ? cl->of[i] : -1;
        const cconn_t *c;

        if (wr__check_from_gateway(ev)) {
            gconn_t *gc = wr__check_gconn_note(&g, ev);

            if (gc != NULL && wr__check_is(ev, "conn.failed") &&
                gc->welcome != NULL && gc->welcome < ev &&
                wr__check_violation(
                    r,
                    "conn %llu was welcomed as '%s', then failed with %s "
                    "(close %d)",
                    (unsigned long long)ev->conn, wr__check_str(gc->final_key),
                    wr__check_str(ev->error), ev->code)) {
                wr__check_cite(r, gc->welcome);
                wr__check_cite(r, ev);
            }
            continue;
        }
        if (a < 0 || flagged[a])
            continue;
        c = &cl->c[a];
        if (first[a] == NULL && wr__check_is(ev, "client.recv") &&
            wsr_agent_event_index(ev->msg_type) >= 0) {
            flagged[a] = true;
            if (wr__check_violation(
                    r,
                    "client %d received %s (for '%s') before its welcome: "
                    "a message was answered on a connection not yet ready",
                    c->client, ev->msg_type,
                    wr__check_str(ev->correlation_id))) {
                wr__check_cite(r, c->connect);
                wr__check_cite(r, ev);
            }
            continue;
        }
        if (wr__check_is(ev, "client.recv") &&
            wr__check_eq(ev->msg_type, "connection_established")) {
            welcomes++;
            if (first[a] != NULL) {
                flagged[a] = true;
                if (wr__check_violation(r,
                                        "client %d was welcomed twice on one "
                                        "connection",
                                        c->client)) {
                    wr__check_cite(r, first[a]);
                    wr__check_cite(r, ev);
                }
                continue;
            }
            first[a] = ev;
            if (c->session != NULL && c->session[0] != '\0' &&
                !wr__check_eq(ev->key, c->session)) {
                flagged[a] = true;
                if (wr__check_violation(
                        r,
                        "client %d asked for session '%s' and was welcomed "
                        "as '%s'",
                        c->client, c->session, wr__check_str(ev->key))) {
                    wr__check_cite(r, c->connect);
                    wr__check_cite(r, ev);
                }
            } else if (ev->user_id != NULL && c->connect->user != NULL &&
                       !wr__check_eq(ev->user_id, c->connect->user) &&
                       wr__check_token_valid(c)) {
                flagged[a] = true;
                if (wr__check_violation(
                        r, "client %d, user '%s', was welcomed as user '%s'",
                        c->client, c->connect->user, ev->user_id)) {
                    wr__check_cite(r, c->connect);
                    wr__check_cite(r, ev);
                }
            }
        } else if (first[a] != NULL && refusal(ev)) {
            flagged[a] = true;
            if (wr__check_violation(
                    r,
                    "client %d was welcomed as '%s', then refused (%s)",
                    c->client, wr__check_str(first[a]->key),
                    ev->error ? ev->error : "close code")) {
                wr__check_cite(r, first[a]);
                wr__check_cite(r, ev);
            }
        }
    }
    if (g.oom)
        wr__check_out_of_memory(r);
    else if (welcomes == 0 && r->violations == 0)
        wr__check_finish(r, WR_PASS, "no client was welcomed, so no welcome "
                                     "could name the wrong session");
    else
        wr__check_finish(r, WR_PASS,
                         "each of the %zu welcomes came before any answer, "
                         "named the session and user asked for, once, and "
                         "no welcomed connection was refused after",
                         welcomes);
    wr__check_gconns_free(&g);
    free(first);
    free(flagged);
}
