/* gw_ticket.h - One-time connection tickets, for browsers with long
 * tokens.
 *
 * A browser can set no header on a WebSocket upgrade but the subprotocol
 * list, and libwebsockets 4.1.6 refuses a Sec-WebSocket-Protocol header
 * over 127 bytes, so a `jwt.<token>` subprotocol fits tokens of about 110
 * bytes only. Instead the page asks `POST /ticket` with `Authorization:
 * Bearer <token>` (any length up to WSR_TOKEN_LEN_MAX) and gets a ticket:
 * 32 random base64url characters, good for one connection within `ttl`
 * seconds (and never after the token's own expiry), bound to the token's
 * user. It connects with `?ticket=T` or the subprotocol `ticket.T`.
 *
 * Thread-safe: one mutex guards the table (a leaf lock). */
#ifndef GW_TICKET_H
#define GW_TICKET_H

#include <stddef.h>
#include <stdint.h>

#define GW_TICKET_LEN  32    /* characters of a ticket */
#define GW_TICKETS_MAX 10000 /* outstanding at most; then 503 */

typedef struct gw_tickets gw_tickets_t;

/* A table whose tickets live ttl_s seconds. NULL when out of memory. */
gw_tickets_t *gw_tickets_new(unsigned ttl_s);
void gw_tickets_free(gw_tickets_t *t);

/* Issues a ticket for user, valid until min(now + ttl, token_exp), into
 * out (GW_TICKET_LEN + 1 bytes at least). now is Unix seconds. Returns
 * 0; -ENOSPC when GW_TICKETS_MAX unexpired tickets are outstanding; -EIO
 * when no random bytes could be had; -ENOMEM. */
int gw_tickets_issue(gw_tickets_t *t, const char *user, int64_t token_exp,
                     int64_t now, char *out, size_t outlen);

/* Redeems ticket at now: on 0 the ticket is gone and its user copied into
 * user (userlen bytes with the NUL); -ENOENT when it is unknown, used or
 * expired; -ENAMETOOLONG when user does not fit (the ticket is gone). */
int gw_tickets_redeem(gw_tickets_t *t, const char *ticket, int64_t now,
                      char *user, size_t userlen);

/* Tickets outstanding (expired ones included until swept). */
size_t gw_tickets_count(gw_tickets_t *t);

/* How long a ticket lives, in seconds. */
unsigned gw_tickets_ttl(const gw_tickets_t *t);

#endif
