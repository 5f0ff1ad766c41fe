/* test-proto.c - The wire format (gw_proto.c).
 *
 * Checks that server messages are {type, data, timestamp, correlation_id}
 * with an ISO 8601 UTC timestamp close to now, and that the client-frame
 * parser takes user_message and ping and refuses each malformed shape with
 * -EBADMSG and a reason. Output is read back with jansson. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <jansson.h>
#include <regex.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gw_proto.h"

/* jansson's json_is_* are macros starting with a parenthesis, which
 * Criterion's cr_assert() cannot take as its criterion. */
static bool is_object(const json_t *j)
{
    return json_is_object(j);
}

static bool is_string(const json_t *j)
{
    return json_is_string(j);
}

static bool is_true(const json_t *j)
{
    return json_is_true(j);
}

static bool is_null(const json_t *j)
{
    return json_is_null(j);
}

/* Parses a message built by gw_proto_message; frees s. */
static json_t *load(char *s)
{
    json_error_t je;
    json_t *o;

    cr_assert(not(zero(ptr, s)));
    o = json_loads(s, 0, &je);
    cr_assert(not(zero(ptr, o)), "not JSON: %s (%s)", s, je.text);
    cr_assert(is_object(o));
    free(s);
    return o;
}

/* Whether ts is YYYY-MM-DDTHH:MM:SS[.fff]Z, within 60 s of now. */
static void check_timestamp(const char *ts)
{
    regex_t re;
    struct tm tm;
    const char *rest;
    time_t t;

    cr_assert(eq(int,
                 regcomp(&re,
                         "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:"
                         "[0-9]{2}(\\.[0-9]+)?Z$",
                         REG_EXTENDED | REG_NOSUB),
                 0));
    cr_assert(eq(int, regexec(&re, ts, 0, NULL, 0), 0), "not ISO 8601 UTC: %s",
              ts);
    regfree(&re);
    memset(&tm, 0, sizeof(tm));
    rest = strptime(ts, "%Y-%m-%dT%H:%M:%S", &tm);
    cr_assert(not(zero(ptr, (void *)rest)));
    t = timegm(&tm);
    cr_assert(lt(i64, llabs((long long)(t - time(NULL))), 60),
              "timestamp %s is not now", ts);
}

Test(proto, message_has_the_four_fields, .timeout = 10)
{
    json_t *o = load(gw_proto_message("connection_established",
                                      json_pack("{s:b}", "connection_ready", 1),
                                      "c-1"));

    cr_assert(eq(sz, json_object_size(o), 4));
    cr_assert(eq(str, (char *)json_string_value(json_object_get(o, "type")),
                 "connection_established"));
    cr_assert(is_true(
        json_object_get(json_object_get(o, "data"), "connection_ready")));
    cr_assert(
        eq(str, (char *)json_string_value(json_object_get(o, "correlation_id")),
           "c-1"));
    cr_assert(is_string(json_object_get(o, "timestamp")));
    check_timestamp(json_string_value(json_object_get(o, "timestamp")));
    json_decref(o);
}

Test(proto, null_correlation_id_and_data, .timeout = 10)
{
    json_t *o = load(gw_proto_message("pong", NULL, NULL));
    json_t *cid = json_object_get(o, "correlation_id");

    cr_assert(not(zero(ptr, cid)), "correlation_id must be present");
    cr_assert(is_null(cid));
    cr_assert(is_object(json_object_get(o, "data")));
    cr_assert(eq(sz, json_object_size(json_object_get(o, "data")), 0));
    check_timestamp(json_string_value(json_object_get(o, "timestamp")));
    json_decref(o);
}

Test(proto, timestamp_ends_in_z_with_milliseconds, .timeout = 10)
{
    json_t *o = load(gw_proto_message("pong", NULL, NULL));
    const char *ts = json_string_value(json_object_get(o, "timestamp"));
    size_t n = strlen(ts);

    cr_assert(eq(sz, n, strlen("2024-01-01T00:00:00.000Z")), "%s", ts);
    cr_assert(eq(chr, ts[n - 1], 'Z'));
    cr_assert(eq(chr, ts[19], '.'));
    json_decref(o);
}

Test(proto, error_message_carries_code_and_message, .timeout = 10)
{
    json_t *o = load(gw_proto_error(GW_ERR_NOT_READY, "not ready", "x"));
    json_t *d = json_object_get(o, "data");

    cr_assert(eq(str, (char *)json_string_value(json_object_get(o, "type")),
                 "error_message"));
    cr_assert(eq(str, (char *)json_string_value(json_object_get(d, "code")),
                 "NOT_READY"));
    cr_assert(eq(str, (char *)json_string_value(json_object_get(d, "message")),
                 "not ready"));
    cr_assert(
        eq(str, (char *)json_string_value(json_object_get(o, "correlation_id")),
           "x"));
    json_decref(o);
}

Test(proto, agent_events_in_design_order, .timeout = 10)
{
    static const char *const want[5] = {
        "agent_started",  "agent_thinking",  "tool_executing",
        "tool_completed", "agent_completed",
    };

    for (int i = 0; i < 5; i++)
        cr_assert(eq(str, (char *)wsr_agent_events[i], (char *)want[i]));
}

/* ------------------------------------------------------------------ */
/* Client frames                                                        */
/* ------------------------------------------------------------------ */

static int parse(const char *s, gw_client_msg_t *m, char *err, size_t len)
{
    err[0] = '\0';
    return gw_client_msg_parse(s, strlen(s), m, err, len);
}

Test(proto, parses_user_message, .timeout = 10)
{
    gw_client_msg_t m;
    char err[256];

    cr_assert(eq(int,
                 parse("{\"type\":\"user_message\",\"data\":{\"content\":"
                       "\"hi\"},\"correlation_id\":\"c-7\"}",
                       &m, err, sizeof(err)),
                 0),
              "%s", err);
    cr_assert(eq(str, (char *)m.type, "user_message"));
    cr_assert(eq(str, (char *)m.content, "hi"));
    cr_assert(eq(str, (char *)m.correlation_id, "c-7"));
    gw_client_msg_free(&m);
    cr_assert(zero(ptr, m.root));
}

Test(proto, parses_ping_without_data, .timeout = 10)
{
    gw_client_msg_t m;
    char err[256];

    cr_assert(eq(int, parse("{\"type\":\"ping\"}", &m, err, sizeof(err)), 0),
              "%s", err);
    cr_assert(eq(str, (char *)m.type, "ping"));
    cr_assert(zero(ptr, (void *)m.correlation_id));
    cr_assert(zero(ptr, (void *)m.content));
    gw_client_msg_free(&m);
}

Test(proto, parse_reads_only_len_bytes, .timeout = 10)
{
    static const char buf[] = "{\"type\":\"ping\"}trailing garbage";
    gw_client_msg_t m;
    char err[256] = "";

    cr_assert(eq(int,
                 gw_client_msg_parse(buf, strlen("{\"type\":\"ping\"}"), &m,
                                     err, sizeof(err)),
                 0),
              "%s", err);
    cr_assert(eq(str, (char *)m.type, "ping"));
    gw_client_msg_free(&m);
}

/* Parses s, expecting -EBADMSG, a cleared out and an error naming needle
 * (case-insensitively). */
static void expect_bad(const char *s, const char *needle)
{
    gw_client_msg_t m;
    char err[256];

    memset(&m, 0x5a, sizeof(m));
    cr_assert(eq(int, parse(s, &m, err, sizeof(err)), -EBADMSG), "accepted: %s",
              s);
    cr_assert(zero(ptr, m.root), "out not cleared for: %s", s);
    cr_assert(zero(ptr, (void *)m.type));
    cr_assert(not(zero(ptr, strcasestr(err, needle))),
              "error for %s does not mention '%s': %s", s, needle, err);
}

Test(proto, rejects_invalid_json, .timeout = 10)
{
    expect_bad("{", "JSON");
    expect_bad("{\"type\":\"ping\",}", "JSON");
    expect_bad("", "JSON");
    expect_bad("{\"type\":\"ping\",\"type\":\"pong\"}", "JSON");
}

Test(proto, rejects_non_object, .timeout = 10)
{
    expect_bad("[1,2]", "object");
    expect_bad("[{\"type\":\"ping\"}]", "object");
    /* jansson refuses a bare scalar as a document: "invalid JSON". */
    expect_bad("\"ping\"", "JSON");
    expect_bad("42", "JSON");
}

Test(proto, rejects_missing_or_non_string_type, .timeout = 10)
{
    expect_bad("{\"data\":{}}", "type");
    expect_bad("{\"type\":5}", "type");
    expect_bad("{\"type\":null}", "type");
}

Test(proto, rejects_user_message_without_string_content, .timeout = 10)
{
    expect_bad("{\"type\":\"user_message\"}", "content");
    expect_bad("{\"type\":\"user_message\",\"data\":{}}", "content");
    expect_bad("{\"type\":\"user_message\",\"data\":{\"content\":3}}",
               "content");
    expect_bad("{\"type\":\"user_message\",\"data\":\"hi\"}", "content");
    expect_bad("{\"type\":\"user_message\",\"content\":\"hi\"}", "content");
}

Test(proto, rejects_non_string_correlation_id, .timeout = 10)
{
    expect_bad("{\"type\":\"ping\",\"correlation_id\":42}", "correlation_id");
    expect_bad("{\"type\":\"ping\",\"correlation_id\":{}}", "correlation_id");
    expect_bad("{\"type\":\"user_message\",\"data\":{\"content\":\"x\"},"
               "\"correlation_id\":[\"a\"]}",
               "correlation_id");
}
