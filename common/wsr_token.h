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

#define WSR_TOKEN_MAX 1024 /* longest token accepted, NUL included */

typedef enum {
    WSR_TOKEN_OK = 0,
    WSR_TOKEN_MISSING,       /* no token at all */
    WSR_TOKEN_MALFORMED,     /* not three base64url parts of valid JSON */
    WSR_TOKEN_BAD_ALG,       /* header alg is not HS256 */
    WSR_TOKEN_BAD_SIGNATURE, /* the MAC does not match */
    WSR_TOKEN_EXPIRED,       /* exp is not after now */
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
 * MAC is compared in constant time. token may be NULL (MISSING). */
wsr_token_result_t wsr_token_verify(const char *secret, const char *token,
                                  int64_t now, char *user, size_t userlen);

#endif
