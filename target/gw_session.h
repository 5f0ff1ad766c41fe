/* gw_session.h - Client-chosen session ids: what a valid one is, and which
 * user it belongs to.
 *
 * A session id becomes a registry key (docs/DESIGN.md, "One connection",
 * step 4), so it must not name one of the gateway's own keys: the
 * preliminary `pre-N` of every connection and the generated `sess-N-X`.
 * Ids starting with those prefixes are refused, as are ids that are not
 * printable UTF-8 or are longer than GW_SESSION_LEN_MAX bytes.
 *
 * A session id is bound to the user who registered it: while it is live,
 * and for `hold` seconds after its last connection closed, another user is
 * refused (SESSION_FORBIDDEN, close 4403), so that nobody can take or
 * break a session of someone else, nor grab it while its owner
 * reconnects. The same user opening it twice is the registry's business
 * (DUPLICATE_SESSION, close 4409).
 *
 * Thread-safe: one mutex guards the table (a leaf lock: nothing else is
 * taken while it is held). */
#ifndef GW_SESSION_H
#define GW_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gw_registry.h"

#define GW_SESSION_LEN_MAX (GW_KEY_MAX - 1) /* bytes of a session id */

/* Closed sessions remembered at most; beyond, the soonest to expire is
 * forgotten first. Live ones are bounded by the connection limit. */
#define GW_SESSIONS_HELD_MAX 65536

/* Whether s[0..len) is printable UTF-8: well-formed (no overlong form, no
 * surrogate, nothing past U+10FFFF), with no C0 or C1 control character,
 * no DEL and no NUL. */
bool gw_text_printable(const char *s, size_t len);

/* Checks a client's session id of len bytes (it may hold NUL bytes, which
 * make it invalid). Returns NULL when it is valid, else a constant
 * sentence saying why not, fit for an error_message. */
const char *gw_session_id_problem(const char *s, size_t len);

typedef struct gw_sessions gw_sessions_t;

/* A table that remembers closed sessions for hold_s seconds. NULL when
 * out of memory. */
gw_sessions_t *gw_sessions_new(unsigned hold_s);
void gw_sessions_free(gw_sessions_t *t);

/* Claims session for user at now (milliseconds, any monotonic clock). Returns
 * 0 when it is free or user's own (one more live holder is counted), or
 * -EACCES when another user holds it or held it less than hold seconds
 * ago; -ENOMEM. Each 0 must be matched by one gw_sessions_release(). */
int gw_sessions_claim(gw_sessions_t *t, const char *session, const char *user,
                      int64_t now);

/* One live holder of session let go at now (milliseconds); once none is
 * left the binding lasts hold seconds more. */
void gw_sessions_release(gw_sessions_t *t, const char *session, int64_t now);

/* Sessions in the table, live or held. */
size_t gw_sessions_count(gw_sessions_t *t);

#endif
