/* test-token.c - HS256 access tokens (wsr_token.c).
 *
 * Checks sign-then-verify, and that each way a token can be wrong gives its
 * own result: expired, wrong secret, tampered payload, malformed shapes,
 * missing, and a header whose alg is "none" (built by hand here with a
 * base64url encoder of the test's own). Also the -ENOSPC contract.
 *
 * Criterion 2.4.1 in C gets gt() wrong (it tests >=) and any() wrong:
 * this file writes a > b as lt(b, a) and alternatives with plain ||.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "wsr_token.h"

#define SECRET "test-secret"
#define NOW    ((int64_t)1700000000)

/* base64url without padding of len bytes, written independently of the
 * source. */
static void b64url_bytes(const void *in, size_t len, char *out, size_t outlen)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                              "abcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    const unsigned char *p = in;

    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)p[i] << 16;
        size_t left = len - i;

        if (left > 1)
            v |= (unsigned)p[i + 1] << 8;
        if (left > 2)
            v |= p[i + 2];
        cr_assert(lt(sz, o + 4, outlen));
        out[o++] = tab[(v >> 18) & 63];
        out[o++] = tab[(v >> 12) & 63];
        if (left > 1)
            out[o++] = tab[(v >> 6) & 63];
        if (left > 2)
            out[o++] = tab[v & 63];
    }
    out[o] = '\0';
}

static void b64url(const char *in, char *out, size_t outlen)
{
    b64url_bytes(in, strlen(in), out, outlen);
}

/* A token signed with SECRET whose header and payload are the given JSON
 * texts, as any JWT library could mint it. */
static void mint(const char *header, const char *payload, char *out,
                 size_t outlen)
{
    static char h[WSR_TOKEN_MAX * 2], p[WSR_TOKEN_MAX * 2];
    unsigned char mac[32];
    unsigned maclen = 0;
    size_t n;

    b64url(header, h, sizeof(h));
    b64url(payload, p, sizeof(p));
    n = (size_t)snprintf(out, outlen, "%s.%s", h, p);
    cr_assert(lt(sz, n + 45, outlen));
    cr_assert(not(eq(ptr, HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET),
                               (unsigned char *)out, n, mac, &maclen),
                          NULL)));
    out[n++] = '.';
    b64url_bytes(mac, maclen, out + n, outlen - n);
}

/* Signs a token for user expiring at exp; asserts it worked. */
static int sign(const char *user, int64_t exp, char *out, size_t outlen)
{
    int n = wsr_token_sign(SECRET, user, exp, out, outlen);

    cr_assert(lt(int, 0, n), "wsr_token_sign: %d", n);
    cr_assert(eq(sz, strlen(out), (size_t)n));
    return n;
}

static wsr_token_result_t verify(const char *token)
{
    char user[64];

    return wsr_token_verify(SECRET, token, NOW, user, sizeof(user));
}

Test(token, sign_then_verify_gives_the_user, .timeout = 10)
{
    char tok[WSR_TOKEN_MAX], user[64] = "";

    sign("alice", NOW + 60, tok, sizeof(tok));
    cr_assert(eq(int, wsr_token_verify(SECRET, tok, NOW, user, sizeof(user)),
                 WSR_TOKEN_OK));
    cr_assert(eq(str, user, "alice"));
}

Test(token, token_has_three_base64url_parts_and_hs256_header, .timeout = 10)
{
    char tok[WSR_TOKEN_MAX], hdr[64];
    const char *d1, *d2;

    sign("bob", NOW + 60, tok, sizeof(tok));
    d1 = strchr(tok, '.');
    cr_assert(not(zero(ptr, (void *)d1)));
    d2 = strchr(d1 + 1, '.');
    cr_assert(not(zero(ptr, (void *)d2)));
    cr_assert(zero(ptr, strchr(d2 + 1, '.')));
    cr_assert(eq(sz, strcspn(tok, "+/="), strlen(tok)), "not base64url: %s",
              tok);
    b64url("{\"alg\":\"HS256\"}", hdr, sizeof(hdr));
    cr_assert(eq(int, strncmp(tok, hdr, (size_t)(d1 - tok)), 0));
    cr_assert(eq(sz, strlen(hdr), (size_t)(d1 - tok)));
}

Test(token, expiry_is_strictly_after_now, .timeout = 10)
{
    char tok[WSR_TOKEN_MAX];

    sign("alice", NOW - 1, tok, sizeof(tok));
    cr_assert(eq(int, verify(tok), WSR_TOKEN_EXPIRED));
    sign("alice", NOW, tok, sizeof(tok));
    cr_assert(eq(int, verify(tok), WSR_TOKEN_EXPIRED), "exp == now");
    sign("alice", NOW + 1, tok, sizeof(tok));
    cr_assert(eq(int, verify(tok), WSR_TOKEN_OK));
}

Test(token, wrong_secret_is_bad_signature, .timeout = 10)
{
    char tok[WSR_TOKEN_MAX], user[64];

    sign("alice", NOW + 60, tok, sizeof(tok));
    cr_assert(eq(int,
                 wsr_token_verify("other-secret", tok, NOW, user, sizeof(user)),
                 WSR_TOKEN_BAD_SIGNATURE));
}

Test(token, tampered_payload_is_bad_signature, .timeout = 10)
{
    char tok[WSR_TOKEN_MAX], forged[WSR_TOKEN_MAX], pl[256], claims[128];
    const char *d1, *d2;

    sign("alice", NOW + 60, tok, sizeof(tok));
    d1 = strchr(tok, '.');
    d2 = strchr(d1 + 1, '.');
    /* Same header and MAC, a well-formed payload for someone else. */
    snprintf(claims, sizeof(claims), "{\"sub\":\"mallory\",\"exp\":%lld}",
             (long long)(NOW + 60));
    b64url(claims, pl, sizeof(pl));
    snprintf(forged, sizeof(forged), "%.*s.%s%s", (int)(d1 - tok), tok, pl, d2);
    cr_assert(eq(int, verify(forged), WSR_TOKEN_BAD_SIGNATURE));
    /* A later expiry for the same user is no better. */
    snprintf(claims, sizeof(claims), "{\"sub\":\"alice\",\"exp\":%lld}",
             (long long)(NOW + 999999));
    b64url(claims, pl, sizeof(pl));
    snprintf(forged, sizeof(forged), "%.*s.%s%s", (int)(d1 - tok), tok, pl, d2);
    cr_assert(eq(int, verify(forged), WSR_TOKEN_BAD_SIGNATURE));
}

Test(token, tampered_signature_is_bad_signature, .timeout = 10)
{
    char tok[WSR_TOKEN_MAX];
    size_t n;

    n = (size_t)sign("alice", NOW + 60, tok, sizeof(tok));
    /* The first character of the MAC carries 6 whole bits. */
    char *mac = strrchr(tok, '.') + 1;
    mac[0] = mac[0] == 'A' ? 'B' : 'A';
    cr_assert(eq(sz, strlen(tok), n));
    cr_assert(eq(int, verify(tok), WSR_TOKEN_BAD_SIGNATURE));
}

Test(token, garbage_and_wrong_part_counts_are_malformed, .timeout = 10)
{
    char tok[WSR_TOKEN_MAX], buf[WSR_TOKEN_MAX + 16];
    const char *d2;

    cr_assert(eq(int, verify("garbage"), WSR_TOKEN_MALFORMED));
    cr_assert(eq(int, verify("!!!.@@@.###"), WSR_TOKEN_MALFORMED));
    cr_assert(eq(int, verify(".."), WSR_TOKEN_MALFORMED));
    sign("alice", NOW + 60, tok, sizeof(tok));
    d2 = strrchr(tok, '.');
    /* Two parts: the MAC dropped. */
    snprintf(buf, sizeof(buf), "%.*s", (int)(d2 - tok), tok);
    cr_assert(eq(int, verify(buf), WSR_TOKEN_MALFORMED), "two parts");
    /* Four parts: an extra one appended to a valid token. */
    snprintf(buf, sizeof(buf), "%s.%s", tok, "AAAA");
    cr_assert(eq(int, verify(buf), WSR_TOKEN_MALFORMED), "four parts");
}

Test(token, header_that_is_not_json_is_malformed, .timeout = 10)
{
    char hdr[64], pl[128], tok[512];

    b64url("not json", hdr, sizeof(hdr));
    b64url("{\"sub\":\"alice\",\"exp\":1800000000}", pl, sizeof(pl));
    snprintf(tok, sizeof(tok), "%s.%s.AAAA", hdr, pl);
    cr_assert(eq(int, verify(tok), WSR_TOKEN_MALFORMED));
}

Test(token, missing_token, .timeout = 10)
{
    cr_assert(eq(int, verify(NULL), WSR_TOKEN_MISSING));
    cr_assert(eq(int, verify(""), WSR_TOKEN_MISSING));
}

Test(token, alg_none_is_bad_alg, .timeout = 10)
{
    char hdr[64], pl[128], tok[512];

    b64url("{\"alg\":\"none\"}", hdr, sizeof(hdr));
    b64url("{\"sub\":\"alice\",\"exp\":1800000000}", pl, sizeof(pl));
    /* The classic unsigned JWT: an empty third part. */
    snprintf(tok, sizeof(tok), "%s.%s.", hdr, pl);
    cr_assert(eq(int, verify(tok), WSR_TOKEN_BAD_ALG));
    b64url("{\"alg\":\"HS512\"}", hdr, sizeof(hdr));
    snprintf(tok, sizeof(tok), "%s.%s.AAAA", hdr, pl);
    cr_assert(eq(int, verify(tok), WSR_TOKEN_BAD_ALG));
}

Test(token, too_long_token_is_too_long_not_missing, .timeout = 10)
{
    static char tok[WSR_TOKEN_MAX + 8];

    memset(tok, 'A', sizeof(tok) - 1);
    tok[100] = '.';
    tok[200] = '.';
    tok[sizeof(tok) - 1] = '\0';
    cr_assert(eq(int, verify(tok), WSR_TOKEN_TOO_LONG));
    cr_assert(eq(str, (char *)wsr_token_result_text(WSR_TOKEN_TOO_LONG),
                 "token too long (the limit is 4096 bytes)"));
}

/* Pads a payload with a claim "pad" so that the token is exactly len
 * bytes; returns the token's length. */
static size_t token_of_length(size_t len, char *tok, size_t toklen)
{
    static char pl[WSR_TOKEN_MAX * 2];
    size_t pad = 0;

    for (;;) {
        snprintf(pl, sizeof(pl),
                 "{\"sub\":\"user-0123456789abcdef@example.com\","
                 "\"exp\":1800000000,\"pad\":\"%0*d\"}",
                 (int)pad, 0);
        mint("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", pl, tok, toklen);
        if (strlen(tok) >= len)
            return strlen(tok);
        pad++;
    }
}

Test(token, tokens_up_to_4096_bytes_verify, .timeout = 10)
{
    static char tok[WSR_TOKEN_MAX * 2];
    char user[128];
    size_t n = 0;

    /* Base64 grows in steps of 4 per 3 bytes: find a pad that lands on
     * 4096 exactly, or the longest under it. */
    for (size_t want = WSR_TOKEN_LEN_MAX; want > WSR_TOKEN_LEN_MAX - 4;
         want--) {
        n = token_of_length(want, tok, sizeof(tok));
        if (n <= WSR_TOKEN_LEN_MAX)
            break;
    }
    cr_assert(lt(sz, WSR_TOKEN_LEN_MAX - 4, n));
    cr_assert(ge(sz, (size_t)WSR_TOKEN_LEN_MAX, n));
    cr_assert(eq(int, wsr_token_verify(SECRET, tok, NOW, user, sizeof(user)),
                 WSR_TOKEN_OK));
    cr_assert(eq(str, user, "user-0123456789abcdef@example.com"));
    n = token_of_length(WSR_TOKEN_LEN_MAX + 1, tok, sizeof(tok));
    cr_assert(lt(sz, (size_t)WSR_TOKEN_LEN_MAX, n));
    cr_assert(eq(int, wsr_token_verify(SECRET, tok, NOW, user, sizeof(user)),
                 WSR_TOKEN_TOO_LONG));
}

/* The last character of a part carries bits beyond the data; base64 that
 * ignores them accepts four spellings of one signature. */
Test(token, non_canonical_base64_is_malformed, .timeout = 10)
{
    char tok[WSR_TOKEN_MAX], user[64];
    size_t n = (size_t)sign("alice", NOW + 60, tok, sizeof(tok));
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "abcdefghijklmnopqrstuvwxyz0123456789-_";
    char last = tok[n - 1];
    int ok = 0;

    /* 43 characters carry 258 bits for a 256-bit MAC: 2 spare bits. */
    for (const char *a = alphabet; *a; a++) {
        tok[n - 1] = *a;
        if (wsr_token_verify(SECRET, tok, NOW, user, sizeof(user)) ==
            WSR_TOKEN_OK)
            ok++;
    }
    tok[n - 1] = last;
    cr_assert(eq(int, ok, 1), "only the canonical spelling verifies");
    /* Padding and the plain-base64 alphabet are not base64url. */
    snprintf(tok + n, sizeof(tok) - n, "=");
    cr_assert(eq(int, verify(tok), WSR_TOKEN_MALFORMED));
    tok[n] = '\0';
    for (char *p = tok; *p; p++)
        if (*p == '-' || *p == '_') {
            *p = *p == '-' ? '+' : '/';
            cr_assert(eq(int, verify(tok), WSR_TOKEN_MALFORMED));
            break;
        }
}

Test(token, duplicate_claims_are_malformed, .timeout = 10)
{
    char tok[WSR_TOKEN_MAX], user[64];

    mint("{\"alg\":\"HS256\"}",
         "{\"sub\":\"bob\",\"exp\":1800000000,\"sub\":\"alice\"}", tok,
         sizeof(tok));
    cr_assert(eq(int, wsr_token_verify(SECRET, tok, NOW, user, sizeof(user)),
                 WSR_TOKEN_MALFORMED));
    mint("{\"alg\":\"none\",\"alg\":\"HS256\"}",
         "{\"sub\":\"bob\",\"exp\":1800000000}", tok, sizeof(tok));
    cr_assert(eq(int, wsr_token_verify(SECRET, tok, NOW, user, sizeof(user)),
                 WSR_TOKEN_MALFORMED));
    /* The same claims once each verify. */
    mint("{\"alg\":\"HS256\"}", "{\"sub\":\"bob\",\"exp\":1800000000}",
         tok, sizeof(tok));
    cr_assert(eq(int, wsr_token_verify(SECRET, tok, NOW, user, sizeof(user)),
                 WSR_TOKEN_OK));
}

Test(token, subject_with_nul_or_control_is_malformed, .timeout = 10)
{
    char tok[WSR_TOKEN_MAX], user[64];

    mint("{\"alg\":\"HS256\"}",
         "{\"sub\":\"alice\\u0000bob\",\"exp\":1800000000}", tok,
         sizeof(tok));
    cr_assert(eq(int, wsr_token_verify(SECRET, tok, NOW, user, sizeof(user)),
                 WSR_TOKEN_MALFORMED));
    mint("{\"alg\":\"HS256\"}",
         "{\"sub\":\"alice\\nbob\",\"exp\":1800000000}", tok,
         sizeof(tok));
    cr_assert(eq(int, wsr_token_verify(SECRET, tok, NOW, user, sizeof(user)),
                 WSR_TOKEN_MALFORMED));
    mint("{\"alg\":\"HS256\"}", "[1,2]", tok, sizeof(tok));
    cr_assert(eq(int, wsr_token_verify(SECRET, tok, NOW, user, sizeof(user)),
                 WSR_TOKEN_MALFORMED));
}

Test(token, user_buffer_too_small_is_malformed, .timeout = 10)
{
    char tok[WSR_TOKEN_MAX], user[5];

    sign("alice", NOW + 60, tok, sizeof(tok));
    /* "alice" needs 6 bytes with its NUL. */
    cr_assert(eq(int, wsr_token_verify(SECRET, tok, NOW, user, sizeof(user)),
                 WSR_TOKEN_MALFORMED));
}

Test(token, small_out_buffer_is_enospc, .timeout = 10)
{
    char tok[WSR_TOKEN_MAX];

    cr_assert(
        eq(int, wsr_token_sign(SECRET, "alice", NOW + 60, tok, 10), -ENOSPC));
    cr_assert(
        eq(int, wsr_token_sign(SECRET, "alice", NOW + 60, tok, 0), -ENOSPC));
    cr_assert(
        eq(int, wsr_token_sign(SECRET, "alice", NOW + 60, tok, 40), -ENOSPC));
}

Test(token, out_buffer_boundary, .timeout = 10)
{
    char tok[WSR_TOKEN_MAX], small[WSR_TOKEN_MAX];
    int n = sign("alice", NOW + 60, tok, sizeof(tok));

    /* n bytes cannot hold the token and its NUL. */
    cr_assert(eq(int,
                 wsr_token_sign(SECRET, "alice", NOW + 60, small, (size_t)n),
                 -ENOSPC));
    /* A few bytes more always fit. */
    cr_assert(eq(int,
                 wsr_token_sign(SECRET, "alice", NOW + 60, small, (size_t)n + 4),
                 n));
    cr_assert(eq(str, small, tok));
}

/* A buffer of exactly the token's length plus its NUL is enough: the
 * stripped '=' padding must not count against it. */
Test(token, out_buffer_of_token_length_plus_nul_fits, .timeout = 10)
{
    char tok[WSR_TOKEN_MAX], exact[WSR_TOKEN_MAX];
    int n = sign("alice", NOW + 60, tok, sizeof(tok));

    cr_assert(eq(int,
                 wsr_token_sign(SECRET, "alice", NOW + 60, exact, (size_t)n + 1),
                 n));
    cr_assert(eq(str, exact, tok));
}

Test(token, empty_user_or_secret_is_einval, .timeout = 10)
{
    char tok[WSR_TOKEN_MAX];

    cr_assert(
        eq(int, wsr_token_sign("", "alice", NOW, tok, sizeof(tok)), -EINVAL));
    cr_assert(
        eq(int, wsr_token_sign(SECRET, "", NOW, tok, sizeof(tok)), -EINVAL));
    cr_assert(
        eq(int, wsr_token_sign(NULL, "alice", NOW, tok, sizeof(tok)), -EINVAL));
    cr_assert(
        eq(int, wsr_token_sign(SECRET, NULL, NOW, tok, sizeof(tok)), -EINVAL));
}

Test(token, result_texts_are_distinct, .timeout = 10)
{
    cr_assert(eq(str, (char *)wsr_token_result_text(WSR_TOKEN_EXPIRED),
                 "token expired"));
    for (int a = WSR_TOKEN_OK; a <= WSR_TOKEN_TOO_LONG; a++)
        for (int b = a + 1; b <= WSR_TOKEN_TOO_LONG; b++)
            cr_assert(ne(str,
                         (char *)wsr_token_result_text((wsr_token_result_t)a),
                         (char *)wsr_token_result_text((wsr_token_result_t)b)));
}
