/* test-ticket.c - One-time tickets (gw_ticket.c): issued for a user, good
 * once, within their life and never after the token's expiry. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <string.h>

#include "gw_ticket.h"

Test(ticket, redeemed_once_for_its_user, .timeout = 10)
{
    gw_tickets_t *t = gw_tickets_new(30);
    char tk[GW_TICKET_LEN + 1], user[64];

    cr_assert(eq(
        int, gw_tickets_issue(t, "a@example.com", 2000, 1000, tk, sizeof(tk)),
        0));
    cr_assert(eq(sz, strlen(tk), (size_t)GW_TICKET_LEN));
    cr_assert(eq(sz,
                 strspn(tk, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
                            "qrstuvwxyz0123456789-_"),
                 (size_t)GW_TICKET_LEN));
    cr_assert(eq(int, gw_tickets_redeem(t, tk, 1010, user, sizeof(user)), 0));
    cr_assert(eq(str, user, "a@example.com"));
    cr_assert(
        eq(int, gw_tickets_redeem(t, tk, 1010, user, sizeof(user)), -ENOENT));
    cr_assert(eq(sz, gw_tickets_count(t), 0));
    gw_tickets_free(t);
}

Test(ticket, expired_and_unknown_are_refused, .timeout = 10)
{
    gw_tickets_t *t = gw_tickets_new(30);
    char tk[GW_TICKET_LEN + 1], other[GW_TICKET_LEN + 1], user[64];

    cr_assert(eq(int, gw_tickets_issue(t, "u", 5000, 1000, tk, sizeof(tk)), 0));
    cr_assert(
        eq(int, gw_tickets_redeem(t, tk, 1030, user, sizeof(user)), -ENOENT));
    /* Never past the token's own expiry. */
    cr_assert(eq(int, gw_tickets_issue(t, "u", 1005, 1000, tk, sizeof(tk)), 0));
    cr_assert(
        eq(int, gw_tickets_redeem(t, tk, 1006, user, sizeof(user)), -ENOENT));
    cr_assert(eq(int, gw_tickets_issue(t, "u", 5000, 1000, tk, sizeof(tk)), 0));
    memcpy(other, tk, sizeof(other));
    other[0] = other[0] == 'A' ? 'B' : 'A';
    cr_assert(eq(int, gw_tickets_redeem(t, other, 1001, user, sizeof(user)),
                 -ENOENT));
    cr_assert(eq(int, gw_tickets_redeem(t, "short", 1001, user, sizeof(user)),
                 -ENOENT));
    cr_assert(eq(int, gw_tickets_redeem(t, tk, 1001, user, sizeof(user)), 0));
    gw_tickets_free(t);
}

Test(ticket, outstanding_tickets_are_bounded, .timeout = 30)
{
    gw_tickets_t *t = gw_tickets_new(30);
    char tk[GW_TICKET_LEN + 1];

    for (int i = 0; i < GW_TICKETS_MAX; i++)
        cr_assert(
            eq(int, gw_tickets_issue(t, "u", 5000, 1000, tk, sizeof(tk)), 0));
    cr_assert(
        eq(int, gw_tickets_issue(t, "u", 5000, 1000, tk, sizeof(tk)), -ENOSPC));
    /* Once they have expired they are swept for new ones. */
    cr_assert(eq(int, gw_tickets_issue(t, "u", 5000, 1031, tk, sizeof(tk)), 0));
    cr_assert(eq(sz, gw_tickets_count(t), 1));
    gw_tickets_free(t);
}
