/* test-history.c - Histories (history/wr_history*.c): parsing lines into
 * events, interning, the torn last line of a trace, ordering on the shared
 * clock, the history.jsonl round trip, events recorded member by member
 * and taken from another history, and lines rebuilt from the compact
 * form (or kept as they were, when they were not written compactly).
 *
 * Lines take two routes through the parser: the fast reader for flat
 * objects of plain values, and jansson for everything else. Tests that
 * matter for both give one line of each shape. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "history/wr_history.h"

static wr_history_t *fresh(void)
{
    wr_history_t *h = wr_history_new();

    cr_assert(not(zero(ptr, h)));
    return h;
}

static const wr_event_t *add(wr_history_t *h, wr_src_t src, const char *line)
{
    cr_assert(eq(int, wr_history_add_line(h, src, line), 0), "%s", line);
    return wr_history_at(h, wr_history_len(h) - 1);
}

/* Whether ev's line (wr_event_line) is want, or starts with it when
 * prefix is set. */
static bool line_is(const wr_event_t *ev, const char *want, bool prefix)
{
    char *line = wr_event_line(ev);
    bool same = line != NULL &&
                (prefix ? strncmp(line, want, strlen(want)) == 0
                        : strcmp(line, want) == 0);

    if (!same)
        cr_log_error("line %s\nwant %s%s", line ? line : "(none)", want,
                     prefix ? "..." : "");
    free(line);
    return same;
}

/* A file in a fresh temporary directory (removed by the caller). */
static char *temp_path(const char *name)
{
    char *dir = strdup("/tmp/wr-history-XXXXXX"), *path;

    cr_assert(not(zero(ptr, mkdtemp(dir))));
    cr_assert(ge(int, asprintf(&path, "%s/%s", dir, name), 0));
    free(dir);
    return path;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    cr_assert(not(zero(ptr, f)));
    fputs(text, f);
    fclose(f);
}

static void remove_tree(const char *path)
{
    char *dir = strdup(path), *slash = strrchr(dir, '/');
    char *tmp;

    unlink(path);
    cr_assert(ge(int, asprintf(&tmp, "%s.tmp", path), 0));
    unlink(tmp);
    free(tmp);
    *slash = '\0';
    rmdir(dir);
    free(dir);
}

Test(history, parses_gateway_fields)
{
    wr_history_t *h = fresh();
    const wr_event_t *ev =
        add(h, WR_SRC_GATEWAY,
            "{\"seq\":14,\"ns\":1481647058231,\"thread\":\"w0\","
            "\"event\":\"coordinator.phase\",\"conn\":1,\"key\":\"sess-a\","
            "\"phase\":\"READY_FOR_MESSAGES\",\"machine\":\"PROCESSING_READY\","
            "\"result\":\"ok\",\"linked\":true}");

    cr_assert(eq(u64, ev->seq, 14));
    cr_assert(eq(i64, ev->ns, 1481647058231LL));
    cr_assert(eq(u64, ev->conn, 1));
    cr_assert(eq(int, ev->src, WR_SRC_GATEWAY));
    cr_assert(eq(str, (char *)ev->event, "coordinator.phase"));
    cr_assert(eq(str, (char *)ev->key, "sess-a"));
    cr_assert(eq(str, (char *)ev->phase, "READY_FOR_MESSAGES"));
    cr_assert(eq(str, (char *)ev->machine, "PROCESSING_READY"));
    cr_assert(eq(str, (char *)ev->result, "ok"));
    cr_assert(eq(i8, ev->linked, 1));
    /* Absent members keep their documented defaults. */
    cr_assert(zero(ptr, (void *)ev->from));
    cr_assert(zero(ptr, (void *)ev->correlation_id));
    cr_assert(eq(i8, ev->connection_ready, -1));
    cr_assert(eq(i8, ev->ready, -1));
    cr_assert(eq(i8, ev->registered, -1));
    cr_assert(eq(i8, ev->stopped, -1));
    cr_assert(eq(int, ev->client, -1));
    cr_assert(eq(int, ev->code, -1));
    cr_assert(eq(int, ev->sig, 0));
    cr_assert(eq(i64, ev->count, -1));
    /* The line is kept, with its source named first. */
    cr_assert(line_is(ev,
                      "{\"src\":\"gateway\",\"seq\":14,\"ns\":1481647058231,"
                      "\"thread\":\"w0\",\"event\":\"coordinator.phase\","
                      "\"conn\":1,\"key\":\"sess-a\",\"phase\":"
                      "\"READY_FOR_MESSAGES\",\"machine\":\"PROCESSING_READY\","
                      "\"result\":\"ok\",\"linked\":true}",
                      false));
    wr_history_free(h);
}

Test(history, conn_failed_close_is_the_code)
{
    wr_history_t *h = fresh();
    const wr_event_t *ev =
        add(h, WR_SRC_GATEWAY,
            "{\"seq\":29,\"ns\":5,\"event\":\"conn.failed\",\"conn\":2,"
            "\"key\":\"pre-2\",\"error\":\"DUPLICATE_SESSION\","
            "\"close\":4409,\"message\":\"session 'same' is taken\"}");

    cr_assert(eq(int, ev->code, 4409));
    cr_assert(eq(str, (char *)ev->error, "DUPLICATE_SESSION"));
    wr_history_free(h);
}

Test(history, parses_client_and_harness_fields)
{
    wr_history_t *h = fresh();
    const wr_event_t *c, *x, *p, *t;

    c = add(h, WR_SRC_GATEWAY,
            "{\"src\":\"client\",\"ns\":10,\"client\":3,\"event\":"
            "\"client.connect\",\"type\":\"invoke\",\"session\":\"s3\","
            "\"user\":\"u3\",\"token\":\"expired\",\"group\":\"g\"}");
    cr_assert(eq(int, c->src, WR_SRC_CLIENT));
    cr_assert(eq(int, c->client, 3));
    cr_assert(eq(str, (char *)c->type, "invoke"));
    cr_assert(eq(str, (char *)c->key, "s3")); /* session read as key */
    cr_assert(eq(str, (char *)c->token, "expired"));
    cr_assert(eq(str, (char *)c->user, "u3"));
    /* A line that names its source is kept as it is. */
    cr_assert(line_is(c, "{\"src\":\"client\",\"ns\":10", true));

    x = add(h, WR_SRC_CLIENT,
            "{\"ns\":11,\"client\":3,\"event\":\"client.closed\",\"type\":"
            "\"info\",\"code\":1006,\"by\":\"transport\",\"key\":\"k\","
            "\"session\":\"s3\"}");
    cr_assert(eq(int, x->code, 1006));
    cr_assert(eq(str, (char *)x->by, "transport"));
    cr_assert(eq(str, (char *)x->key, "k")); /* key wins over session */

    p = add(h, WR_SRC_CLIENT,
            "{\"ns\":12,\"client\":3,\"event\":\"client.probe\",\"type\":"
            "\"ok\",\"key\":\"nobody\",\"registered\":false,\"ready\":true}");
    cr_assert(eq(i8, p->registered, 0));
    cr_assert(eq(i8, p->ready, 1));

    t = add(h, WR_SRC_HARNESS,
            "{\"ns\":13,\"event\":\"target.exit\",\"code\":-1,\"sig\":11,"
            "\"stopped\":false}");
    cr_assert(eq(int, t->src, WR_SRC_HARNESS));
    cr_assert(eq(int, t->sig, 11));
    cr_assert(eq(int, t->code, -1));
    cr_assert(eq(i8, t->stopped, 0));
    cr_assert(line_is(t,
                      "{\"src\":\"harness\",\"ns\":13,\"event\":\"target.exit\","
                      "\"code\":-1,\"sig\":11,\"stopped\":false}",
                      false));
    wr_history_free(h);
}

Test(history, general_json_takes_the_library_route)
{
    wr_history_t *h = fresh();
    const wr_event_t *ev;

    /* Escapes, non-ASCII text, nested values, spacing and a real number:
     * all outside the fast reader's shape. */
    ev = add(h, WR_SRC_HARNESS,
             "  { \"ns\" : 2.5e3, \"event\":\"target.registry\", "
             "\"count\": 2, \"keys\": [\"a\", \"b\"], \"user\": "
             "\"\\u00e9l\\\"a\", \"data\": {\"key\": \"inner\"} }\n");
    cr_assert(eq(i64, ev->ns, 2500));
    cr_assert(eq(i64, ev->count, 2));
    cr_assert(eq(str, (char *)ev->user, "\xc3\xa9l\"a"));
    cr_assert(zero(ptr, (void *)ev->key)); /* nested members are not read */
    /* The kept line is trimmed, and "src" goes right after the brace. */
    cr_assert(line_is(ev, "{\"src\":\"harness\", \"ns\"", true));
    cr_assert(line_is(ev,
                      "{\"src\":\"harness\", \"ns\" : 2.5e3, \"event\":"
                      "\"target.registry\", \"count\": 2, \"keys\": [\"a\", "
                      "\"b\"], \"user\": \"\\u00e9l\\\"a\", \"data\": "
                      "{\"key\": \"inner\"} }",
                      false));
    wr_history_free(h);
}

#define F(m) offsetof(wr_event_t, m)
static const size_t string_fields[] = {
    F(event),          F(type),        F(key),      F(result),
    F(from),           F(to),          F(state),    F(phase),
    F(machine),        F(coordinator), F(handle),   F(decision),
    F(correlation_id), F(user),        F(msg_type), F(error),
    F(token),          F(by),
};
#undef F

/* Compares every field of two events, strings by content. */
static void same_event(const wr_event_t *a, const wr_event_t *b)
{
    for (size_t i = 0; i < sizeof(string_fields) / sizeof(*string_fields);
         i++) {
        const char *x =
            *(const char *const *)((const char *)a + string_fields[i]);
        const char *y =
            *(const char *const *)((const char *)b + string_fields[i]);

        if (x == NULL || y == NULL)
            cr_assert(eq(ptr, (void *)x, (void *)y), "field %zu", i);
        else
            cr_assert(eq(str, (char *)x, (char *)y), "field %zu", i);
    }
    cr_assert(eq(i64, a->ns, b->ns));
    cr_assert(eq(u64, a->seq, b->seq));
    cr_assert(eq(u64, a->conn, b->conn));
    cr_assert(eq(int, a->client, b->client));
    cr_assert(eq(int, a->src, b->src));
    cr_assert(eq(i8, a->linked, b->linked));
    cr_assert(eq(i8, a->connection_ready, b->connection_ready));
    cr_assert(eq(i8, a->ready, b->ready));
    cr_assert(eq(i8, a->registered, b->registered));
    cr_assert(eq(i8, a->stopped, b->stopped));
    cr_assert(eq(int, a->code, b->code));
    cr_assert(eq(int, a->sig, b->sig));
    cr_assert(eq(i64, a->count, b->count));
}

Test(history, both_parse_routes_agree)
{
    static const char *const lines[] = {
        "{\"seq\":15,\"ns\":-3,\"conn\":1,\"key\":\"sess-a\",\"event\":"
        "\"welcome.sent\",\"connection_ready\":true,\"machine\":"
        "\"PROCESSING_READY\",\"coordinator\":\"READY_FOR_MESSAGES\"",
        "{\"src\":\"client\",\"ns\":7,\"client\":2,\"event\":\"client.recv\","
        "\"type\":\"info\",\"msg_type\":\"error_message\",\"error\":"
        "\"NOT_READY\",\"correlation_id\":\"c9\",\"user\":null,\"code\":4409",
        "{\"src\":\"harness\",\"ns\":9,\"event\":\"target.exit\",\"code\":0,"
        "\"sig\":0,\"stopped\":true,\"count\":123456789012345678",
        "{\"src\":\"client\",\"event\":\"client.connect\",\"session\":\"s\","
        "\"token\":\"none\",\"by\":\"x\",\"registered\":false,\"ready\":true,"
        "\"linked\":false,\"from\":\"a\",\"to\":\"b\",\"state\":\"c\","
        "\"phase\":\"d\",\"handle\":\"e\",\"decision\":\"f\",\"result\":"
        "\"g\",\"close\":1011",
    };
    wr_history_t *h = fresh();

    for (size_t i = 0; i < sizeof(lines) / sizeof(*lines); i++) {
        char fast[512], slow[600];

        /* The same members; the nested value sends the second to
         * jansson. */
        snprintf(fast, sizeof(fast), "%s}", lines[i]);
        snprintf(slow, sizeof(slow), "%s,\"extra\":{\"a\":[1]}}", lines[i]);
        add(h, WR_SRC_GATEWAY, fast);
        add(h, WR_SRC_GATEWAY, slow);
        same_event(wr_history_at(h, 2 * i), wr_history_at(h, 2 * i + 1));
    }
    wr_history_free(h);
}

Test(history, bad_lines_are_refused)
{
    wr_history_t *h = fresh();
    static const char *const bad[] = {
        "",
        "[1,2]",
        "{\"seq\":1}",                           /* no event */
        "{\"event\":3}",                         /* event not a string */
        "{\"event\":\"x\",\"src\":\"nemesis\"}", /* unknown source */
        "{\"event\":\"x\"",                      /* torn */
        "{\"event\":\"x\",\"n\":01}",            /* invalid number */
        "{\"event\":\"x\"} trailing",
        "{\"event\":\"x\",}",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        cr_assert(
            eq(int, wr_history_add_line(h, WR_SRC_GATEWAY, bad[i]), -EINVAL),
            "%s", bad[i]);
    cr_assert(eq(sz, wr_history_len(h), 0));
    cr_assert(eq(int, wr_history_has_trace(h) ? 1 : 0, 0));
    wr_history_free(h);
}

Test(history, strings_are_interned)
{
    wr_history_t *h = fresh();
    const wr_event_t *a, *b;

    a = add(h, WR_SRC_GATEWAY,
            "{\"seq\":1,\"event\":\"registry.rekey\",\"key\":\"twin\","
            "\"from\":\"pre-1\",\"result\":\"moved\"}");
    b = add(h, WR_SRC_GATEWAY,
            "{\"seq\":2,\"event\":\"registry.unregister\",\"key\":\"pre-1\","
            "\"result\":\"removed\"}");
    /* Different fields, different routes, one copy. (Event pointers
     * last until the next add: fetch again.) */
    a = wr_history_at(h, 0);
    cr_assert(eq(ptr, (void *)a->from, (void *)b->key));
    b = add(h, WR_SRC_CLIENT,
            "{\"event\":\"client.recv\", \"key\":\"twin\", "
            "\"msg_type\":\"a\\u0062\"}");
    a = wr_history_at(h, 0);
    cr_assert(eq(ptr, (void *)a->key, (void *)b->key));
    cr_assert(eq(str, (char *)b->msg_type, "ab"));
    wr_history_free(h);
}

Test(history, gateway_events_mean_a_trace)
{
    wr_history_t *h = fresh();

    add(h, WR_SRC_CLIENT, "{\"event\":\"client.connect\",\"client\":0}");
    cr_assert(eq(int, wr_history_has_trace(h) ? 1 : 0, 0));
    wr_history_set_has_trace(h, true);
    cr_assert(eq(int, wr_history_has_trace(h) ? 1 : 0, 1));
    wr_history_set_has_trace(h, false);
    add(h, WR_SRC_GATEWAY, "{\"seq\":1,\"event\":\"gateway.start\"}");
    cr_assert(eq(int, wr_history_has_trace(h) ? 1 : 0, 1));
    wr_history_free(h);
}

Test(history, torn_last_line_is_skipped_and_counted)
{
    char *path = temp_path("trace.jsonl");
    wr_history_t *h = fresh();
    int torn = 0;

    write_file(path, "{\"seq\":1,\"event\":\"gateway.start\"}\n"
                     "\n"
                     "{\"seq\":2,\"event\":\"conn.open\",\"conn\":1}\n"
                     "{\"seq\":3,\"event\":\"swap.be");
    cr_assert(eq(long, wr_history_load_trace(h, path, &torn), 2));
    cr_assert(eq(int, torn, 1));
    cr_assert(eq(sz, wr_history_len(h), 2));
    cr_assert(eq(int, wr_history_has_trace(h) ? 1 : 0, 1));

    /* A complete object cut just before its newline is torn too. */
    write_file(path, "{\"seq\":1,\"event\":\"gateway.start\"}\n"
                     "{\"seq\":2,\"event\":\"conn.open\"}");
    torn = 0;
    cr_assert(eq(long, wr_history_load_trace(h, path, &torn), 1));
    cr_assert(eq(int, torn, 1));

    /* So is a last line that does not parse. */
    write_file(path, "{\"seq\":1,\"event\":\"gateway.start\"}\n"
                     "{\"seq\":2,\"ev\x01\n");
    torn = 0;
    cr_assert(eq(long, wr_history_load_trace(h, path, NULL), 1));
    cr_assert(eq(long, wr_history_load_trace(h, path, &torn), 1));
    cr_assert(eq(int, torn, 1));
    cr_assert(eq(sz, wr_history_len(h), 5));
    wr_history_free(h);
    remove_tree(path);
    free(path);
}

/* A trace as its gateway leaves it: the events, then the zero bytes of
 * the chunk the file last grew by (the gateway writes through a shared
 * mapping and cuts them off only when it closes the trace). */
static void write_mapped_trace(const char *path, const char *events,
                               size_t zeros)
{
    FILE *f = fopen(path, "w");

    cr_assert(not(zero(ptr, f)));
    fputs(events, f);
    for (size_t i = 0; i < zeros; i++)
        fputc(0, f);
    fclose(f);
}

Test(history, a_trace_ends_at_its_zero_bytes_and_settles_without_them)
{
    static const char events[] = "{\"seq\":1,\"event\":\"gateway.start\"}\n"
                                 "{\"seq\":2,\"event\":\"conn.open\"}\n";
    char *path = temp_path("trace.jsonl");
    wr_history_t *h = fresh();
    struct stat st;
    int torn = 0;

    /* More zero bytes than the reader's block: the end is found across
     * blocks. */
    write_mapped_trace(path, events, 200 * 1024);
    cr_assert(eq(i64, wr_trace_data_end(path), (long long)strlen(events)));
    cr_assert(eq(long, wr_history_load_trace(h, path, &torn), 2));
    cr_assert(eq(int, torn, 0), "the zero bytes are no torn line");
    cr_assert(eq(int, wr_trace_settle(path), 0));
    cr_assert(eq(int, stat(path, &st), 0));
    cr_assert(eq(i64, (long long)st.st_size, (long long)strlen(events)));
    /* Settled again: nothing changes. */
    cr_assert(eq(int, wr_trace_settle(path), 0));
    cr_assert(eq(int, stat(path, &st), 0));
    cr_assert(eq(i64, (long long)st.st_size, (long long)strlen(events)));

    /* A line being copied when the gateway died: its start, then zero
     * bytes; it is torn, and settling keeps it (only zeros are cut). */
    write_mapped_trace(path, "{\"seq\":1,\"event\":\"gateway.start\"}\n"
                             "{\"seq\":2,\"ev", 100);
    torn = 0;
    cr_assert(eq(long, wr_history_load_trace(h, path, &torn), 1));
    cr_assert(eq(int, torn, 1));
    cr_assert(eq(int, wr_trace_settle(path), 0));
    cr_assert(eq(int, stat(path, &st), 0));
    cr_assert(eq(i64, (long long)st.st_size, 46));

    /* Only zero bytes (a gateway that died before its first event). */
    write_mapped_trace(path, "", 70000);
    cr_assert(eq(i64, wr_trace_data_end(path), 0));
    cr_assert(eq(int, wr_trace_settle(path), 0));
    cr_assert(eq(int, stat(path, &st), 0));
    cr_assert(eq(i64, (long long)st.st_size, 0));
    cr_assert(eq(i64, wr_trace_data_end("/nonexistent/t.jsonl"),
                 (long long)-ENOENT));
    wr_history_free(h);
    remove_tree(path);
    free(path);
}

Test(history, corrupt_trace_adds_nothing)
{
    char *path = temp_path("trace.jsonl");
    wr_history_t *h = fresh();
    int torn = 0;

    add(h, WR_SRC_CLIENT, "{\"event\":\"client.connect\",\"client\":0}");
    write_file(path, "{\"seq\":1,\"event\":\"gateway.start\"}\n"
                     "garbage\n"
                     "{\"seq\":3,\"event\":\"conn.open\"}\n");
    cr_assert(eq(long, wr_history_load_trace(h, path, &torn), -EINVAL));
    cr_assert(eq(sz, wr_history_len(h), 1));
    cr_assert(eq(int, torn, 0));
    cr_assert(eq(int, wr_history_has_trace(h) ? 1 : 0, 0));
    cr_assert(eq(long, wr_history_load_trace(h, "/nonexistent/t.jsonl", NULL),
                 -ENOENT));
    wr_history_free(h);
    remove_tree(path);
    free(path);
}

Test(history, sort_keeps_seq_order_when_ns_disagrees)
{
    wr_history_t *h = fresh();
    static const char *const lines[] = {
        /* The trace, in file order; seq 3 took its ns before seq 2. */
        "{\"seq\":1,\"ns\":100,\"event\":\"g1\"}",
        "{\"seq\":2,\"ns\":300,\"event\":\"g2\"}",
        "{\"seq\":3,\"ns\":200,\"event\":\"g3\"}",
        "{\"seq\":4,\"ns\":400,\"event\":\"g4\"}",
        /* Clients and harness, added out of order. */
        "{\"src\":\"client\",\"ns\":350,\"event\":\"c350\",\"client\":0}",
        "{\"src\":\"client\",\"ns\":50,\"event\":\"c50\",\"client\":1}",
        "{\"src\":\"harness\",\"ns\":250,\"event\":\"h250\"}",
        "{\"src\":\"client\",\"ns\":350,\"event\":\"c350b\",\"client\":1}",
        "{\"src\":\"harness\",\"ns\":900,\"event\":\"h900\"}",
        "{\"src\":\"client\",\"ns\":400,\"event\":\"c400\",\"client\":0}",
    };
    static const char *const want[] = {
        "c50", "g1", "h250", "g2", "g3", "c350", "c350b", "g4", "c400", "h900",
    };

    for (size_t i = 0; i < sizeof(lines) / sizeof(*lines); i++)
        add(h, WR_SRC_GATEWAY, lines[i]);
    wr_history_sort(h);
    cr_assert(eq(sz, wr_history_len(h), sizeof(want) / sizeof(*want)));
    for (size_t i = 0; i < wr_history_len(h); i++) {
        const wr_event_t *ev = wr_history_at(h, i);

        cr_assert(eq(str, (char *)ev->event, (char *)want[i]), "at %zu", i);
        cr_assert(eq(sz, wr_history_index(h, ev), i));
    }
    cr_assert(zero(ptr, (void *)wr_history_at(h, wr_history_len(h))));
    wr_history_free(h);
}

Test(history, real_trace_stays_in_seq_order)
{
    wr_history_t *h = fresh();
    uint64_t prev = 0;
    bool ns_disagrees = false;
    int64_t prev_ns = 0;

    cr_assert(eq(long,
                 wr_history_load_trace(h,
                                       WR_TEST_DATA
                                       "/traces/duplicate_registration_both_"
                                       "register_with_rendezvous-0.jsonl",
                                       NULL),
                 242));
    wr_history_sort(h);
    for (size_t i = 0; i < wr_history_len(h); i++) {
        const wr_event_t *ev = wr_history_at(h, i);

        cr_assert(lt(u64, prev, ev->seq));
        prev = ev->seq;
        ns_disagrees = ns_disagrees || ev->ns < prev_ns;
        prev_ns = ev->ns;
    }
    /* The point of the test: this trace's ns do go backwards. */
    cr_assert(eq(int, ns_disagrees ? 1 : 0, 1));
    wr_history_free(h);
}

Test(history, write_and_load_round_trip)
{
    char *path = temp_path("history.jsonl");
    wr_history_t *h = fresh(), *back = fresh();
    char *tmp;

    add(h, WR_SRC_GATEWAY, "{\"seq\":1,\"ns\":5,\"event\":\"gateway.start\"}");
    add(h, WR_SRC_CLIENT,
        "{\"ns\":6,\"client\":0,\"event\":\"client.send\",\"type\":"
        "\"invoke\",\"msg_type\":\"user_message\",\"correlation_id\":\"c1\"}");
    add(h, WR_SRC_HARNESS,
        "{\"ns\":7,\"event\":\"target.registry\",\"count\":0,\"keys\":[]}");
    wr_history_sort(h);
    cr_assert(eq(int, wr_history_write(h, path), 0));
    cr_assert(ge(int, asprintf(&tmp, "%s.tmp", path), 0));
    cr_assert(ne(int, access(tmp, F_OK), 0)); /* renamed away */
    free(tmp);

    cr_assert(eq(long, wr_history_load(back, path), 3));
    cr_assert(eq(int, wr_history_has_trace(back) ? 1 : 0, 1));
    for (size_t i = 0; i < 3; i++) {
        const wr_event_t *a = wr_history_at(h, i), *b = wr_history_at(back, i);

        char *la = wr_event_line(a), *lb = wr_event_line(b);

        cr_assert(eq(str, la, lb));
        free(la);
        free(lb);
        cr_assert(eq(int, a->src, b->src));
        cr_assert(eq(i64, a->ns, b->ns));
        cr_assert(eq(str, (char *)a->event, (char *)b->event));
    }
    cr_assert(eq(str, (char *)wr_history_at(back, 1)->correlation_id, "c1"));
    cr_assert(eq(int, wr_history_at(back, 1)->src, WR_SRC_CLIENT));
    cr_assert(eq(i64, wr_history_at(back, 2)->count, 0));
    cr_assert(eq(int, wr_history_write(h, "/nonexistent/dir/history.jsonl"),
                 -ENOENT));
    wr_history_free(h);
    wr_history_free(back);
    remove_tree(path);
    free(path);
}

/* Correctness at size only: how fast this loads is measured by
 * scripts/bench (bench/history-load.c), not asserted here. */
Test(history, loads_300k_events, .timeout = 120)
{
    char *path = temp_path("big.jsonl");
    FILE *f = fopen(path, "w");
    wr_history_t *h = fresh();

    cr_assert(not(zero(ptr, f)));
    for (int i = 1; i <= 300000; i++) {
        int conn = i / 20 + 1;

        fprintf(f,
                "{\"seq\":%d,\"ns\":%lld,\"thread\":\"w%d\",\"event\":"
                "\"machine.transition\",\"conn\":%d,\"key\":\"sess-%d\","
                "\"from\":\"PROCESSING_READY\",\"to\":\"PROCESSING\","
                "\"result\":\"ok\"}\n",
                i, 1000000000LL + i * 1000LL, i % 16, conn, conn);
    }
    fclose(f);
    cr_assert(eq(long, wr_history_load_trace(h, path, NULL), 300000));
    wr_history_sort(h);
    cr_assert(eq(u64, wr_history_at(h, 0)->seq, 1));
    cr_assert(eq(u64, wr_history_at(h, 299999)->seq, 300000));
    wr_history_free(h);
    remove_tree(path);
    free(path);
}

Test(history, recorded_events_read_like_their_lines)
{
    wr_history_t *h = fresh();
    json_t *nested = json_pack("{s:[i,i]}", "a", 1, 2);
    json_t *real = json_real(2.5);
    const wr_event_t *ev;

    cr_assert(eq(int, wr_history_begin(h, WR_SRC_CLIENT), 0));
    cr_assert(eq(int, wr_history_put_str(h, "msg_type", "a\"b\n"), 0));
    cr_assert(eq(int, wr_history_put_json(h, "data", nested), 0));
    cr_assert(eq(int, wr_history_put_json(h, "waited_ms", real), 0));
    cr_assert(eq(int, wr_history_put_str(h, "why", NULL), 0));
    cr_assert(eq(int, wr_history_put_int(h, "ns", 42), 0));
    cr_assert(eq(int, wr_history_put_int(h, "client", 7), 0));
    cr_assert(eq(int, wr_history_put_str(h, "event", "client.recv"), 0));
    cr_assert(eq(int, wr_history_put_bool(h, "connection_ready", true), 0));
    cr_assert(eq(int, wr_history_put_str(h, "session", "s7"), 0));
    cr_assert(eq(int, wr_history_end(h), 0));
    json_decref(nested);
    json_decref(real);

    ev = wr_history_at(h, 0);
    cr_assert(eq(int, ev->src, WR_SRC_CLIENT));
    cr_assert(eq(i64, ev->ns, 42));
    cr_assert(eq(int, ev->client, 7));
    cr_assert(eq(str, (char *)ev->event, "client.recv"));
    cr_assert(eq(str, (char *)ev->msg_type, "a\"b\n"));
    cr_assert(eq(str, (char *)ev->key, "s7")); /* the session, as a key */
    cr_assert(eq(i8, ev->connection_ready, 1));
    cr_assert(zero(ptr, (void *)ev->why));
    /* The line jansson would have written for the same object. */
    cr_assert(line_is(ev,
                      "{\"src\":\"client\",\"msg_type\":\"a\\\"b\\n\","
                      "\"data\":{\"a\":[1,2]},\"waited_ms\":2.5,\"why\":null,"
                      "\"ns\":42,\"client\":7,\"event\":\"client.recv\","
                      "\"connection_ready\":true,\"session\":\"s7\"}",
                      false));
    /* And reading that line back gives the same event. */
    {
        char *line = wr_event_line(ev);

        add(h, WR_SRC_GATEWAY, line);
        free(line);
    }
    same_event(wr_history_at(h, 0), wr_history_at(h, 1));
    wr_history_free(h);
}

Test(history, a_recorded_event_needs_an_event_member)
{
    wr_history_t *h = fresh();

    cr_assert(eq(int, wr_history_put_int(h, "ns", 1), -EINVAL)); /* no begin */
    cr_assert(eq(int, wr_history_end(h), -EINVAL));
    cr_assert(eq(int, wr_history_begin(h, WR_SRC_HARNESS), 0));
    cr_assert(eq(int, wr_history_put_int(h, "event", 3), 0));
    cr_assert(eq(int, wr_history_end(h), -EINVAL)); /* not a string */
    cr_assert(eq(sz, wr_history_len(h), 0));
    wr_history_free(h);
}

Test(history, take_moves_events_with_their_strings)
{
    wr_history_t *h = fresh(), *w = fresh();
    const wr_event_t *a, *b;

    add(h, WR_SRC_GATEWAY, "{\"seq\":1,\"ns\":1,\"event\":\"g\",\"key\":\"k\"}");
    for (int i = 0; i < 3; i++) {
        cr_assert(eq(int, wr_history_begin(w, WR_SRC_CLIENT), 0));
        wr_history_put_int(w, "ns", 10 + i);
        wr_history_put_str(w, "event", "client.connect");
        wr_history_put_str(w, "key", "k");
        cr_assert(eq(int, wr_history_end(w), 0));
    }
    /* A line kept as its text travels too. */
    add(w, WR_SRC_CLIENT, "{ \"event\": \"client.close\", \"ns\": 20 }");
    cr_assert(eq(int, wr_history_take(h, w, 4), 0));
    cr_assert(eq(sz, wr_history_len(w), 0));
    cr_assert(eq(sz, wr_history_len(h), 5));
    cr_assert(line_is(wr_history_at(h, 4),
                      "{\"src\":\"client\", \"event\": \"client.close\", "
                      "\"ns\": 20 }",
                      false));
    a = wr_history_at(h, 0);
    b = wr_history_at(h, 2);
    cr_assert(eq(ptr, (void *)a->key, (void *)b->key)); /* one copy */
    cr_assert(eq(i64, b->ns, 11));
    cr_assert(line_is(b,
                      "{\"src\":\"client\",\"ns\":11,\"event\":\"client.connect\","
                      "\"key\":\"k\"}",
                      false));
    wr_history_free(w);
    wr_history_free(h);
}

Test(history, get_decodes_without_the_view)
{
    wr_history_t *h = fresh();
    wr_event_t e;

    add(h, WR_SRC_GATEWAY,
        "{\"seq\":3,\"ns\":9,\"event\":\"registry.rekey\",\"conn\":2,"
        "\"key\":\"s\",\"from\":\"pre-2\",\"result\":\"moved\"}");
    add(h, WR_SRC_GATEWAY, "{\"seq\":4, \"ns\":10, \"event\":\"x\"}");
    for (size_t i = 0; i < 2; i++) {
        cr_assert(eq(int, wr_history_get(h, i, &e), 0));
        same_event(&e, wr_history_at(h, i));
        cr_assert(eq(sz, wr_history_index(h, &e), i));
    }
    cr_assert(eq(int, wr_history_get(h, 2, &e), -ERANGE));
    /* A spaced line is kept as it was, "src" added in front. */
    cr_assert(line_is(wr_history_at(h, 1),
                      "{\"src\":\"gateway\",\"seq\":4, \"ns\":10, "
                      "\"event\":\"x\"}",
                      false));
    wr_history_free(h);
}

/* A cluster: two traces, each in its own seq order. By time alone the
 * registry operations would come out 1, 3, 2; the merge keeps the
 * cluster's order (rseq), and a reading made after operation 3 (rafter)
 * follows it although its trace wrote it earlier. */
Test(history, traces_of_a_cluster_merge_in_the_registry_order)
{
    char *a = temp_path("trace-0.jsonl"), *b = temp_path("trace-1.jsonl");
    static const char *const want[] = {"a1", "b1", "a2", "b2", "a3"};
    wr_history_t *h = fresh();

    write_file(a, "{\"seq\":1,\"ns\":10,\"instance\":0,\"event\":\"a1\"}\n"
                  "{\"seq\":2,\"ns\":40,\"instance\":0,\"event\":\"a2\","
                  "\"rseq\":2}\n"
                  "{\"seq\":3,\"ns\":25,\"instance\":0,\"event\":\"a3\","
                  "\"rafter\":3}\n");
    write_file(b, "{\"seq\":1,\"ns\":20,\"instance\":1,\"event\":\"b1\","
                  "\"rseq\":1}\n"
                  "{\"seq\":2,\"ns\":30,\"instance\":1,\"event\":\"b2\","
                  "\"rseq\":3}\n");
    cr_assert(eq(long, wr_history_load_trace(h, a, NULL), 3));
    cr_assert(eq(long, wr_history_load_trace(h, b, NULL), 2));
    add(h, WR_SRC_CLIENT, "{\"ns\":35,\"event\":\"client.recv\",\"client\":0}");
    wr_history_sort(h);
    for (size_t i = 0, k = 0; i < wr_history_len(h); i++) {
        const wr_event_t *ev = wr_history_at(h, i);

        if (ev->src != WR_SRC_GATEWAY)
            continue;
        cr_assert(eq(str, (char *)ev->event, (char *)want[k]), "position %zu",
                  k);
        k++;
    }
    cr_assert(eq(int, wr_history_at(h, 0)->instance, 0));
    cr_assert(eq(u64, wr_history_at(h, 1)->rseq, 1));
    wr_history_free(h);
    remove_tree(a);
    remove_tree(b);
    free(a);
    free(b);
}

/* One trace sorts as it always did: the merge of several is not used. */
Test(history, a_lone_trace_keeps_its_seq_order)
{
    char *a = temp_path("trace.jsonl");
    wr_history_t *h = fresh();

    write_file(a, "{\"seq\":1,\"ns\":50,\"event\":\"x1\",\"rseq\":2}\n"
                  "{\"seq\":2,\"ns\":40,\"event\":\"x2\",\"rseq\":1}\n");
    cr_assert(eq(long, wr_history_load_trace(h, a, NULL), 2));
    wr_history_sort(h);
    cr_assert(eq(str, (char *)wr_history_at(h, 0)->event, "x1"));
    cr_assert(eq(int, wr_history_at(h, 0)->instance, -1));
    wr_history_free(h);
    remove_tree(a);
    free(a);
}

/* Record blocks start small and double: a history whose first record is
 * big (a block of its own) and whose next thousands cross every size
 * reads every event back as written. */
Test(history, big_first_record_then_growing_blocks)
{
    wr_history_t *h = fresh();
    size_t big = 300 * 1024;
    char *text = malloc(big + 1);

    cr_assert(text != NULL);
    memset(text, 'x', big);
    text[big] = '\0';
    cr_assert(eq(int, wr_history_begin(h, WR_SRC_CLIENT), 0));
    wr_history_put_int(h, "ns", 1);
    wr_history_put_str(h, "event", "client.message");
    wr_history_put_str(h, "data", text);
    cr_assert(eq(int, wr_history_end(h), 0));
    for (int i = 0; i < 20000; i++) {
        char key[32];

        snprintf(key, sizeof(key), "k%d", i);
        cr_assert(eq(int, wr_history_begin(h, WR_SRC_CLIENT), 0));
        wr_history_put_int(h, "ns", 2 + i);
        wr_history_put_str(h, "event", "client.connect");
        wr_history_put_str(h, "key", key);
        cr_assert(eq(int, wr_history_end(h), 0));
    }
    cr_assert(eq(sz, wr_history_len(h), 20001));
    for (int i = 0; i < 20000; i += 997) {
        const wr_event_t *e = wr_history_at(h, 1 + (size_t)i);
        char key[32];

        snprintf(key, sizeof(key), "k%d", i);
        cr_assert(eq(i64, e->ns, 2 + i));
        cr_assert(eq(str, (char *)e->key, key));
    }
    cr_assert(eq(i64, wr_history_at(h, 0)->ns, 1));
    free(text);
    wr_history_free(h);
}

/* Two instances' traces (text a and b) and a client line (or NULL),
 * sorted: the events come in the order of want (n names). */
static void cluster_sorts_as(const char *a_text, const char *b_text,
                             const char *client, const char *const *want,
                             size_t n)
{
    char *a = temp_path("order-0.jsonl"), *b = temp_path("order-1.jsonl");
    wr_history_t *h = fresh();

    write_file(a, a_text);
    write_file(b, b_text);
    cr_assert(gt(long, wr_history_load_trace(h, a, NULL), 0));
    cr_assert(gt(long, wr_history_load_trace(h, b, NULL), 0));
    if (client != NULL)
        add(h, WR_SRC_CLIENT, client);
    wr_history_sort(h);
    cr_assert(eq(sz, wr_history_len(h), n));
    for (size_t i = 0; i < n; i++)
        cr_assert(eq(str, (char *)wr_history_at(h, i)->event,
                     (char *)want[i]),
                  "position %zu", i);
    wr_history_free(h);
    remove_tree(a);
    remove_tree(b);
    free(a);
    free(b);
}

/* An instance stopped between an operation's round trip and its trace
 * line writes the line late (ns 100), though Redis applied the operation
 * (rseq 2) before the other instance's expiry (rseq 3, ns 50). A client's
 * event at ns 60 comes after both: by then the registry had done them. */
Test(history, a_stalled_instance_late_line_does_not_hold_back_the_cluster)
{
    static const char *const want[] = {"a1", "a2", "b3", "client.probe"};

    cluster_sorts_as(
        "{\"seq\":1,\"ns\":10,\"instance\":0,\"event\":\"a1\",\"rseq\":1}\n"
        "{\"seq\":2,\"ns\":100,\"instance\":0,\"event\":\"a2\",\"rseq\":2}\n",
        "{\"seq\":1,\"ns\":50,\"instance\":1,\"event\":\"b3\",\"rseq\":3}\n",
        "{\"ns\":60,\"event\":\"client.probe\",\"client\":0}", want, 4);
}

/* A reading that saw operations up to rseq 1 goes before operation 2,
 * though its line's time is later (the two instances' lines were written
 * in the other order). */
Test(history, a_reading_goes_before_the_operation_it_did_not_see)
{
    static const char *const want[] = {"op1", "read", "op2"};

    cluster_sorts_as(
        "{\"seq\":1,\"ns\":10,\"instance\":0,\"event\":\"op1\",\"rseq\":1}\n"
        "{\"seq\":2,\"ns\":20,\"instance\":0,\"event\":\"op2\",\"rseq\":2}\n",
        "{\"seq\":1,\"ns\":21,\"instance\":1,\"event\":\"read\",\"rafter\":1}\n",
        NULL, want, 3);
}
