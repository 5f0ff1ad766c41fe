/* gw_http.c - The HTTP endpoints (see gw_http.h).
 *
 * Everything a request carries is untrusted: an id that is too long or not
 * printable UTF-8 is answered 400 with the reason (it is never traced or
 * put into JSON, which needs valid UTF-8), an unknown method 405, a
 * missing or bad token 401.
 *
 * Threads: the lws service thread calls in; the registry, session and
 * ticket tables take their own locks. */
#include "gw_http.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "gw_proto.h"
#include "wsr_token.h"

const char *gw_http_arg(const char *const *args, size_t nargs, const char *name,
                        size_t *len)
{
    size_t n = strlen(name);

    for (size_t i = 0; i < nargs; i++)
        if (strncmp(args[i], name, n) == 0 && args[i][n] == '=') {
            *len = strlen(args[i] + n + 1);
            return args[i] + n + 1;
        }
    return NULL;
}

static json_t *error(int *status, int code, const char *message)
{
    *status = code;
    return json_pack("{s:s}", "error", message);
}

static void registry_row(const gw_registry_view_t *v, void *arg)
{
    json_t *row = json_pack(
        "{s:s,s:s,s:s,s:o,s:I}", "key", v->key, "user", v->user, "state",
        wsr_state_name(v->state), "coordinator",
        v->coord_phase < 0 ? json_null()
                           : json_string(wsr_coord_phase_name(
                                 (wsr_coord_phase_t)v->coord_phase)),
        "conn", (json_int_t)v->owner);

    if (row && v->instance >= 0) /* a cluster's entry: whose instance */
        json_object_set_new(row, "instance", json_integer(v->instance));
    json_array_append_new(arg, row);
}

static json_t *healthz(gw_gateway_t *gw)
{
    const gw_params_t *p = &gw->params;
    json_t *faults = json_array();

    for (int i = 0; i < WSR_FAULT__COUNT; i++)
        if (wsr_fault_on(&p->faults, (wsr_fault_id_t)i))
            json_array_append_new(
                faults, json_string(wsr_fault_name((wsr_fault_id_t)i)));
    return json_pack(
        "{s:s,s:o,s:I,s:I,s:I,s:I,s:I,s:I,s:{s:I,s:I,s:I,s:I,s:I}}", "status",
        "ok", "faults", faults, "connections",
        (json_int_t)atomic_load(&gw->live), "registered",
        (json_int_t)gw_registry_count(gw->registry), "refused_at_limit",
        (json_int_t)atomic_load(&gw->refused), "slow_consumers_closed",
        (json_int_t)atomic_load(&gw->slow_consumers), "sessions",
        (json_int_t)gw_sessions_count(gw->sessions), "tickets",
        (json_int_t)gw_tickets_count(gw->tickets), "limits", "max_connections",
        (json_int_t)p->max_connections, "max_send_queue",
        (json_int_t)p->max_send_queue, "handshake_timeout_s",
        (json_int_t)p->handshake_timeout_s, "session_hold_s",
        (json_int_t)p->session_hold_s, "ticket_ttl_s",
        (json_int_t)gw_tickets_ttl(gw->tickets));
}

static json_t *ready(gw_gateway_t *gw, const gw_http_req_t *r, int *status)
{
    bool registered, is_ready;
    size_t len = 0;
    const char *id = gw_http_arg(r->args, r->nargs, "id", &len);

    if (!id || !len)
        return error(status, 400, "missing query ?id=KEY");
    if (len >= GW_KEY_MAX)
        return error(status, 400, "id is longer than 127 bytes");
    if (!gw_text_printable(id, len))
        return error(status, 400, "id is not printable UTF-8");
    is_ready = gw_registry_answer_ready(gw->registry, id, &registered);
    return json_pack("{s:s,s:b,s:b}", "id", id, "registered", registered,
                     "ready", is_ready);
}

/* POST /ticket: a one-time ticket for the bearer of a valid token. */
static json_t *ticket(gw_gateway_t *gw, const gw_http_req_t *r, int64_t now,
                      int *status)
{
    char user[GW_USER_MAX], t[GW_TICKET_LEN + 1];
    const char *a = r->authorization;
    wsr_token_result_t res = WSR_TOKEN_MISSING;
    int64_t exp = 0;
    int rc;

    if (r->method != GW_HTTP_POST) {
        *status = 405;
        return json_pack("{s:s,s:s}", "error", "method not allowed", "allow",
                         "POST");
    }
    if (a && strncasecmp(a, "Bearer ", 7) == 0)
        res = wsr_token_verify_exp(gw->params.secret, a + 7, now, user,
                                   sizeof(user), &exp);
    if (res != WSR_TOKEN_OK) {
        *status = 401;
        return json_pack("{s:s,s:s}", "error", GW_ERR_AUTH, "message",
                         res == WSR_TOKEN_MISSING
                             ? "no token (Authorization: Bearer TOKEN)"
                             : wsr_token_result_text(res));
    }
    rc = gw_tickets_issue(gw->tickets, user, exp, now, t, sizeof(t));
    if (rc == -ENOSPC)
        return error(status, 503, "too many outstanding tickets; retry");
    if (rc != 0)
        return error(status, 500, "no ticket could be made");
    gw_trace_emitf(gw->trace, 0, NULL, "ticket.issued", "{s:s}", "user", user);
    *status = 200;
    return json_pack("{s:s,s:s,s:I}", "ticket", t, "user_id", user,
                     "expires_in",
                     (json_int_t)(exp - now < gw_tickets_ttl(gw->tickets)
                                      ? exp - now
                                      : gw_tickets_ttl(gw->tickets)));
}

json_t *gw_http_answer(gw_gateway_t *gw, const gw_http_req_t *r, int64_t now,
                       int *status)
{
    const char *path = r->path ? r->path : "/";

    if (r->args_error)
        return error(status, 400, r->args_error);
    if (strcmp(path, "/ticket") == 0)
        return ticket(gw, r, now, status);
    if (!r->loopback)
        return error(status, 403, "debug endpoints are loopback-only");
    if (strcmp(path, "/healthz") != 0 && strcmp(path, "/debug/registry") != 0 &&
        strcmp(path, "/debug/ready") != 0) {
        *status = 404;
        if (!gw_text_printable(path, strlen(path)))
            return json_pack("{s:s}", "error", "not found");
        return json_pack("{s:s,s:s}", "error", "not found", "path", path);
    }
    if (r->method != GW_HTTP_GET) {
        *status = 405;
        return json_pack("{s:s,s:s}", "error", "method not allowed", "allow",
                         "GET");
    }
    *status = 200;
    if (strcmp(path, "/healthz") == 0)
        return healthz(gw);
    if (strcmp(path, "/debug/registry") == 0) {
        json_t *rows = json_array();
        gw_registry_foreach(gw->registry, registry_row, rows);
        return json_pack("{s:o}", "connections", rows);
    }
    return ready(gw, r, status);
}
