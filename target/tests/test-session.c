/* test-session.c - Session ids (gw_session.c): which ids a client may
 * choose, and the binding of an id to the user who holds it.
 *
 * The table is driven with explicit times (in milliseconds), so the hold
 * after a close is tested without sleeping. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <string.h>

#include "gw_session.h"

#define VALID(s)                                                               \
    cr_assert(eq(ptr, (void *)gw_session_id_problem(s, strlen(s)), NULL),      \
              "%s", s)
#define INVALID(s, n)                                                          \
    cr_assert(not(eq(ptr, (void *)gw_session_id_problem(s, n), NULL)), "%s", s)

Test(session, printable_utf8_ids_are_valid, .timeout = 10)
{
    VALID("chat-1");
    VALID("a b");
    VALID("user@example.com/tab 2");
    VALID("caf\xc3\xa9");      /* é */
    VALID("\xe2\x82\xac");     /* € */
    VALID("\xf0\x9f\x98\x80"); /* an emoji */
    VALID("prefix-pre-and-sess-later");
}

Test(session, reserved_prefixes_are_refused, .timeout = 10)
{
    const char *why = gw_session_id_problem("pre-7", 5);

    cr_assert(not(eq(ptr, (void *)why, NULL)));
    cr_assert(not(eq(ptr, strstr(why, "'pre-'"), NULL)), "%s", why);
    INVALID("pre-", 4);
    INVALID("sess-3-0badc0de", 15);
}

Test(session, bytes_that_are_not_printable_utf8_are_refused, .timeout = 10)
{
    INVALID("\xff", 1);
    INVALID("a\xfe"
            "b",
            3);
    INVALID("\xc0\xaf", 2);         /* overlong '/' */
    INVALID("\xe0\x80\xaf", 3);     /* overlong */
    INVALID("\xed\xa0\x80", 3);     /* a surrogate */
    INVALID("\xf4\x90\x80\x80", 4); /* past U+10FFFF */
    INVALID("\xc3", 1);             /* cut short */
    INVALID("\xc2\x85", 2);         /* C1 control (NEL) */
    INVALID("a\nb", 3);
    INVALID("a\x7f", 2);
    INVALID("a\0b", 3); /* a NUL inside */
    INVALID("", 0);
}

Test(session, ids_over_127_bytes_are_refused, .timeout = 10)
{
    char id[256];

    memset(id, 'x', sizeof(id));
    cr_assert(
        eq(ptr, (void *)gw_session_id_problem(id, GW_SESSION_LEN_MAX), NULL));
    INVALID(id, GW_SESSION_LEN_MAX + 1);
}

Test(session, another_user_is_refused_while_held, .timeout = 10)
{
    gw_sessions_t *t = gw_sessions_new(60);

    cr_assert(eq(int, gw_sessions_claim(t, "room", "alice", 100000), 0));
    cr_assert(eq(int, gw_sessions_claim(t, "room", "bob", 100000), -EACCES));
    /* The same user again is the registry's business (4409), not ours. */
    cr_assert(eq(int, gw_sessions_claim(t, "room", "alice", 100000), 0));
    gw_sessions_release(t, "room", 101000);
    cr_assert(eq(int, gw_sessions_claim(t, "room", "bob", 101000), -EACCES));
    gw_sessions_release(t, "room", 102000);
    /* Closed, but held for its user for 60 s. */
    cr_assert(eq(int, gw_sessions_claim(t, "room", "bob", 161000), -EACCES));
    cr_assert(eq(int, gw_sessions_claim(t, "room", "bob", 162000), 0));
    cr_assert(eq(sz, gw_sessions_count(t), 1));
    gw_sessions_release(t, "room", 163000);
    gw_sessions_free(t);
}

Test(session, owner_comes_back_within_the_hold, .timeout = 10)
{
    gw_sessions_t *t = gw_sessions_new(60);

    cr_assert(eq(int, gw_sessions_claim(t, "s", "alice", 0), 0));
    gw_sessions_release(t, "s", 10000);
    cr_assert(eq(int, gw_sessions_claim(t, "s", "alice", 20000), 0));
    gw_sessions_release(t, "s", 30000);
    gw_sessions_free(t);
}

Test(session, no_hold_frees_at_close, .timeout = 10)
{
    gw_sessions_t *t = gw_sessions_new(0);

    cr_assert(eq(int, gw_sessions_claim(t, "s", "alice", 5000), 0));
    gw_sessions_release(t, "s", 5000);
    cr_assert(eq(int, gw_sessions_claim(t, "s", "bob", 5000), 0));
    gw_sessions_free(t);
}

Test(session, closed_sessions_held_are_bounded, .timeout = 60)
{
    gw_sessions_t *t = gw_sessions_new(86400);
    char id[32];

    for (int i = 0; i < GW_SESSIONS_HELD_MAX + 100; i++) {
        snprintf(id, sizeof(id), "s%d", i);
        cr_assert(eq(int, gw_sessions_claim(t, id, "u", i * 1000LL), 0));
        gw_sessions_release(t, id, i * 1000LL);
    }
    cr_assert(eq(sz, gw_sessions_count(t), GW_SESSIONS_HELD_MAX));
    /* The oldest were forgotten first. */
    cr_assert(eq(int, gw_sessions_claim(t, "s0", "other", 1000), 0));
    snprintf(id, sizeof(id), "s%d", GW_SESSIONS_HELD_MAX + 99);
    cr_assert(eq(int, gw_sessions_claim(t, id, "other", 1000), -EACCES));
    gw_sessions_free(t);
}
