/* fuzz_token.c - Token verification (common/wsr_token.c) on any bytes:
 * the header and payload decoders, the JSON of both, the claims, the MAC.
 *
 * The input is the token text; the verifier's answer must be one of its
 * results, and a token it accepts must name a user. The secret and the
 * clock are fixed, so the seed corpus's signed tokens verify. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "wsr_token.h"

#define SECRET "fuzz-secret"
#define NOW    ((int64_t)1700000000)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *tok = malloc(size + 1), user[128];
    int64_t exp = 0;
    wsr_token_result_t r;

    if (!tok)
        return 0;
    memcpy(tok, data, size);
    tok[size] = '\0';
    r = wsr_token_verify_exp(SECRET, tok, NOW, user, sizeof(user), &exp);
    if (r > WSR_TOKEN_TOO_LONG)
        abort();
    if (r == WSR_TOKEN_OK && (user[0] == '\0' || exp <= NOW))
        abort();
    /* A small user buffer must never be overrun. */
    wsr_token_verify(SECRET, tok, NOW, user, 4);
    free(tok);
    return 0;
}
