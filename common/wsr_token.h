/* wsr_token.h - Access tokens: compact JWS (JWT) signed with HMAC-SHA256.
 *
 * A token is base64url(header) "." base64url(payload) "." base64url(mac),
 * header {"alg":"HS256"} (no "typ": short enough for
 * the subprotocol route), payload {"sub":USER,"exp":UNIX}.
 * Any JWT library can mint one. Pure functions; any thread. */
#ifndef WSR_TOKEN_H
#define WSR_TOKEN_H

#include <stddef.h>
#include <stdint.h>

/* The longest token accepted is WSR_TOKEN_LEN_MAX bytes: identity
 * providers issue tokens of 300 to 1,500 bytes, and 4 KB leaves room for
 * many claims. A buffer for any token takes WSR_TOKEN_MAX bytes. */
#define WSR_TOKEN_LEN_MAX 4096
#define WSR_TOKEN_MAX     (WSR_TOKEN_LEN_MAX + 1) /* NUL included */

typedef enum {
    WSR_TOKEN_OK = 0,
    WSR_TOKEN_MISSING,       /* no token at all */
    WSR_TOKEN_MALFORMED,     /* not three canonical base64url parts of
                                JSON objects without duplicate members */
    WSR_TOKEN_BAD_ALG,       /* header alg is not HS256 */
    WSR_TOKEN_BAD_SIGNATURE, /* the MAC does not match */
    WSR_TOKEN_EXPIRED,       /* exp is not after now */
    WSR_TOKEN_TOO_LONG,      /* over WSR_TOKEN_LEN_MAX bytes */
} wsr_token_result_t;

/* Short reason for an AUTH_FAILED message ("token expired"). */
const char *wsr_token_result_text(wsr_token_result_t r);

/* Signs a token for user that expires at exp (Unix seconds). Returns the
 * token length, or -ENOSPC when out is too small, -EINVAL for an empty
 * user or secret. */
int wsr_token_sign(const char *secret, const char *user, int64_t exp, char *out,
                  size_t outlen);

/* Verifies token against secret at time now. On WSR_TOKEN_OK the subject is
 * copied into user (truncation is reported as WSR_TOKEN_MALFORMED). The
 * MAC is compared in constant time. token may be NULL (MISSING).
 *
 * Strict on purpose, so that one token has one spelling: each part must
 * be canonical base64url (alphabet A-Z a-z 0-9 - _, no padding, unused
 * trailing bits zero); header and payload must be JSON objects with no
 * member twice (a duplicate "sub" would otherwise let the last one win);
 * "sub" must be 1..userlen-1 bytes with no control character. A token
 * longer than WSR_TOKEN_LEN_MAX is WSR_TOKEN_TOO_LONG, never MISSING. */
wsr_token_result_t wsr_token_verify(const char *secret, const char *token,
                                  int64_t now, char *user, size_t userlen);

/* wsr_token_verify that also stores the token's expiry (Unix seconds) in
 * *exp on WSR_TOKEN_OK (exp may be NULL). */
wsr_token_result_t wsr_token_verify_exp(const char *secret, const char *token,
                                        int64_t now, char *user,
                                        size_t userlen, int64_t *exp);

#endif
