/* test-http.c - The HTTP endpoints (gw_http.c) as functions of a parsed
 * request: statuses, refusals and the ticket route, without a socket. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>
#include <time.h>

#include "gw_http.h"
#include "wsr_token.h"

#define SECRET "http-secret"

static gw_gateway_t gw;

static void up(void)
{
    gw_params_t p = {0};

    snprintf(p.secret, sizeof(p.secret), "%s", SECRET);
    p.max_connections = 7;
    cr_assert(eq(int, gw_gateway_init(&gw, &p, NULL, NULL, 1), 0));
}

/* Answers one request; returns the status, and the "error" member (or "")
 * in err. */
static int ask(gw_http_method_t m, const char *path, const char *arg,
               bool loopback, const char *auth, char *err, size_t errlen)
{
    const char *args[1] = {arg};
    gw_http_req_t r = {m, path, args, arg ? 1 : 0, NULL, loopback, auth};
    int status = 0;
    json_t *a = gw_http_answer(&gw, &r, (int64_t)time(NULL), &status);
    const char *e = json_string_value(json_object_get(a, "error"));

    cr_assert(not(eq(ptr, a, NULL)));
    snprintf(err, errlen, "%s", e ? e : "");
    json_decref(a);
    return status;
}

Test(http, routes_and_refusals, .timeout = 10)
{
    char err[128], id[300];

    up();
    cr_assert(
        eq(int, ask(GW_HTTP_GET, "/healthz", NULL, true, NULL, err, 128), 200));
    cr_assert(eq(int, ask(GW_HTTP_GET, "/healthz", NULL, false, NULL, err, 128),
                 403));
    cr_assert(eq(int, ask(GW_HTTP_POST, "/healthz", NULL, true, NULL, err, 128),
                 405));
    cr_assert(eq(
        int, ask(GW_HTTP_OTHER, "/debug/registry", NULL, true, NULL, err, 128),
        405));
    cr_assert(eq(int, ask(GW_HTTP_GET, "/nope\xff", NULL, true, NULL, err, 128),
                 404));
    cr_assert(eq(int,
                 ask(GW_HTTP_GET, "/debug/ready", NULL, true, NULL, err, 128),
                 400));
    cr_assert(eq(str, err, "missing query ?id=KEY"));
    cr_assert(eq(
        int, ask(GW_HTTP_GET, "/debug/ready", "id=\xff", true, NULL, err, 128),
        400));
    cr_assert(eq(str, err, "id is not printable UTF-8"));
    snprintf(id, sizeof(id), "id=%0200d", 0);
    cr_assert(eq(
        int, ask(GW_HTTP_GET, "/debug/ready", id, true, NULL, err, 128), 400));
    cr_assert(eq(str, err, "id is longer than 127 bytes"));
    cr_assert(eq(int,
                 ask(GW_HTTP_GET, "/debug/ready", "id=k", true, NULL, err, 128),
                 200));
    gw_gateway_shutdown(&gw);
}

Test(http, ticket_needs_post_and_a_valid_bearer, .timeout = 10)
{
    char err[128], tok[WSR_TOKEN_MAX], auth[WSR_TOKEN_MAX + 16];
    const char *args[1] = {NULL};
    gw_http_req_t r = {GW_HTTP_POST, "/ticket", args, 0, NULL, false, auth};
    int status = 0;
    json_t *a;

    up();
    cr_assert(
        eq(int, ask(GW_HTTP_GET, "/ticket", NULL, false, NULL, err, 128), 405));
    cr_assert(eq(int, ask(GW_HTTP_POST, "/ticket", NULL, false, NULL, err, 128),
                 401));
    cr_assert(
        eq(int,
           ask(GW_HTTP_POST, "/ticket", NULL, false, "Bearer a.b.c", err, 128),
           401));
    cr_assert(lt(int, 0,
                 wsr_token_sign(SECRET, "a@example.com", time(NULL) + 600, tok,
                                sizeof(tok))));
    snprintf(auth, sizeof(auth), "Bearer %s", tok);
    /* From any peer: a browser is not on the gateway's host. */
    a = gw_http_answer(&gw, &r, (int64_t)time(NULL), &status);
    cr_assert(eq(int, status, 200));
    cr_assert(eq(sz, strlen(json_string_value(json_object_get(a, "ticket"))),
                 (size_t)GW_TICKET_LEN));
    cr_assert(eq(str, (char *)json_string_value(json_object_get(a, "user_id")),
                 "a@example.com"));
    json_decref(a);
    cr_assert(eq(sz, gw_tickets_count(gw.tickets), 1));
    gw_gateway_shutdown(&gw);
}

Test(http, query_arguments_by_name, .timeout = 10)
{
    const char *args[] = {"a=1", "id=", "idx=2", "id=3", "b"};
    size_t len = 99;

    cr_assert(eq(str, (char *)gw_http_arg(args, 5, "a", &len), "1"));
    cr_assert(eq(sz, len, 1));
    cr_assert(eq(str, (char *)gw_http_arg(args, 5, "id", &len), ""));
    cr_assert(eq(sz, len, 0));
    cr_assert(eq(ptr, (void *)gw_http_arg(args, 5, "b", &len), NULL));
    cr_assert(eq(ptr, (void *)gw_http_arg(args, 5, "c", &len), NULL));
}
