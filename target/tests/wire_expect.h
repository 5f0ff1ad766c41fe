/* wire_expect.h - What a client should see on the wire, for the tests that
 * drive the flow directly (test-conn) and over WebSocket (test-e2e).
 *
 * The expectations are written from the wire format, not taken
 * from gw_proto, so a change in the gateway's messages fails a test. */
#ifndef WIRE_EXPECT_H
#define WIRE_EXPECT_H

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <jansson.h>
#include <stdbool.h>
#include <string.h>

/* The five agent events of one user_message, in order. */
static const char *const wire_agent_events[5] = {
    "agent_started",  "agent_thinking",  "tool_executing",
    "tool_completed", "agent_completed",
};

static inline const char *wire_type(json_t *m)
{
    const char *t = m ? json_string_value(json_object_get(m, "type")) : NULL;

    return t ? t : "(none)";
}

/* data.code of an error_message ("(none)" for anything else). */
static inline const char *wire_error_code(json_t *m)
{
    const char *c =
        json_string_value(json_object_get(json_object_get(m, "data"), "code"));

    return c ? c : "(none)";
}

/* A connection_established claiming connection_ready, for key (NULL: any). */
static inline bool wire_is_welcome(json_t *m, const char *key)
{
    json_t *d = json_object_get(m, "data");
    const char *id = json_string_value(json_object_get(d, "connection_id"));

    return m && strcmp(wire_type(m), "connection_established") == 0 &&
           json_is_true(json_object_get(d, "connection_ready")) &&
           (!key || (id && strcmp(id, key) == 0));
}

/* Takes the next message from src (NULL after timeout_ms). */
typedef json_t *(*wire_next_fn)(void *src, int timeout_ms);

/* Asserts that the next five messages are the agent events for cid. */
static inline void wire_expect_agent_events(wire_next_fn next, void *src,
                                            const char *cid, int timeout_ms)
{
    for (int i = 0; i < 5; i++) {
        json_t *m = next(src, timeout_ms);
        cr_assert(eq(str, (char *)wire_type(m), (char *)wire_agent_events[i]));
        cr_assert(
            eq(str,
               (char *)json_string_value(json_object_get(m, "correlation_id")),
               (char *)cid));
        json_decref(m);
    }
}

#endif
