/* wsr_token.c - HS256 token signing and verification (OpenSSL, jansson).
 *
 * No shared state; safe from any thread. */
#include "wsr_token.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAC_LEN 32

static const char header_json[] = "{\"alg\":\"HS256\"}";

/* jansson seeds its hash function on the first json_object() of the
 * process, with atomics that helgrind and drd cannot see; when that first
 * use is on two threads at once (workers verifying tokens, client threads
 * signing them) they report races on the seed for the rest of the run.
 * Seeding here, before main and so before any thread, gives the tools the
 * order that is there. Every program that handles tokens links this file. */
__attribute__((constructor)) static void seed_jansson(void)
{
    json_object_seed(0);
}

const char *wsr_token_result_text(wsr_token_result_t r)
{
    switch (r) {
    case WSR_TOKEN_OK:
        return "ok";
    case WSR_TOKEN_MISSING:
        return "no token (Authorization: Bearer or subprotocol jwt.TOKEN)";
    case WSR_TOKEN_MALFORMED:
        return "malformed token";
    case WSR_TOKEN_BAD_ALG:
        return "token algorithm is not HS256";
    case WSR_TOKEN_BAD_SIGNATURE:
        return "bad token signature";
    case WSR_TOKEN_EXPIRED:
        return "token expired";
    case WSR_TOKEN_TOO_LONG:
        return "token too long (the limit is 4096 bytes)";
    }
    return "?";
}

/* base64url without padding, via OpenSSL's base64. Returns the length
 * written, or -1 when out (with its NUL) is too small. */
static int b64url_encode(const unsigned char *in, size_t len, char *out,
                         size_t outlen)
{
    size_t padded = 4 * ((len + 2) / 3), bare = (4 * len + 2) / 3;
    char *tmp;

    if (bare + 1 > outlen)
        return -1;
    tmp = malloc(padded + 1); /* EVP_EncodeBlock writes the padding too */
    if (!tmp)
        return -1;
    EVP_EncodeBlock((unsigned char *)tmp, in, (int)len);
    for (size_t i = 0; i < bare; i++)
        out[i] = tmp[i] == '+' ? '-' : (tmp[i] == '/' ? '_' : tmp[i]);
    out[bare] = '\0';
    free(tmp);
    return (int)bare;
}

/* The value of a base64url character, or -1. */
static int b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '-' ? 62 : c == '_' ? 63 : -1;
}

/* Decodes len base64url characters, canonical only: no padding, nothing
 * outside the alphabet, and the bits the last character carries beyond
 * the data zero (else four different last characters would decode to one
 * signature). Returns the byte count, or -1 for bad input or a too small
 * out. */
static int b64url_decode(const char *in, size_t len, unsigned char *out,
                         size_t outlen)
{
    size_t o = 0, need = len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
    unsigned acc = 0;
    int bits = 0;

    if (len == 0 || len % 4 == 1 || need > outlen)
        return -1;
    for (size_t i = 0; i < len; i++) {
        int v = b64url_value((unsigned char)in[i]);

        if (v < 0)
            return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    return acc == 0 ? (int)o : -1; /* leftover bits must be zero */
}

static bool mac(const char *secret, const char *data, size_t len,
                unsigned char out[MAC_LEN])
{
    unsigned int outlen = 0;

    return HMAC(EVP_sha256(), secret, (int)strlen(secret),
                (const unsigned char *)data, len, out, &outlen) != NULL &&
           outlen == MAC_LEN;
}

int wsr_token_sign(const char *secret, const char *user, int64_t exp, char *out,
                  size_t outlen)
{
    unsigned char sig[MAC_LEN];
    json_t *claims;
    char *payload;
    size_t off;
    int n;

    if (!secret || !*secret || !user || !*user)
        return -EINVAL;
    claims = json_pack("{s:s,s:I}", "sub", user, "exp", (json_int_t)exp);
    payload = json_dumps(claims, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(claims);
    if (!payload)
        return -ENOMEM;
    n = b64url_encode((const unsigned char *)header_json, strlen(header_json),
                      out, outlen);
    if (n < 0)
        goto nospace;
    off = (size_t)n;
    if (off + 1 >= outlen)
        goto nospace;
    out[off++] = '.';
    n = b64url_encode((const unsigned char *)payload, strlen(payload),
                      out + off, outlen - off);
    if (n < 0)
        goto nospace;
    off += (size_t)n;
    if (!mac(secret, out, off, sig) || off + 1 >= outlen)
        goto nospace;
    out[off++] = '.';
    n = b64url_encode(sig, sizeof(sig), out + off, outlen - off);
    if (n < 0)
        goto nospace;
    free(payload);
    return (int)(off + (size_t)n);
nospace:
    free(payload);
    return -ENOSPC;
}

/* Whether sub (len bytes, as jansson holds it) is a user id: no NUL
 * inside (jansson allows \u0000, which would cut the id short) and no
 * control character. */
static bool user_ok(const char *sub, size_t len)
{
    if (len == 0 || strlen(sub) != len)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)sub[i] < 0x20 || sub[i] == 0x7f)
            return false;
    return true;
}

wsr_token_result_t wsr_token_verify(const char *secret, const char *token,
                                  int64_t now, char *user, size_t userlen)
{
    return wsr_token_verify_exp(secret, token, now, user, userlen, NULL);
}

wsr_token_result_t wsr_token_verify_exp(const char *secret, const char *token,
                                        int64_t now, char *user,
                                        size_t userlen, int64_t *exp_out)
{
    unsigned char want[MAC_LEN], got[MAC_LEN], buf[WSR_TOKEN_MAX];
    const char *dot1, *dot2;
    wsr_token_result_t res = WSR_TOKEN_MALFORMED;
    json_t *hdr = NULL, *pl = NULL, *subj;
    json_int_t exp;
    const char *alg, *sub;
    int n;

    if (!token || !*token)
        return WSR_TOKEN_MISSING;
    if (strnlen(token, WSR_TOKEN_MAX) >= WSR_TOKEN_MAX)
        return WSR_TOKEN_TOO_LONG;
    dot1 = strchr(token, '.');
    dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
    if (!dot2 || strchr(dot2 + 1, '.'))
        return WSR_TOKEN_MALFORMED;

    n = b64url_decode(token, (size_t)(dot1 - token), buf, sizeof(buf));
    if (n < 0 || !(hdr = json_loadb((char *)buf, (size_t)n,
                                    JSON_REJECT_DUPLICATES, NULL)))
        goto out;
    n = b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), buf, sizeof(buf));
    if (n < 0 || !(pl = json_loadb((char *)buf, (size_t)n,
                                   JSON_REJECT_DUPLICATES, NULL)))
        goto out;
    if (!json_is_object(hdr) || !json_is_object(pl) ||
        json_unpack(hdr, "{s:s}", "alg", &alg) != 0)
        goto out;
    if (strcmp(alg, "HS256") != 0) {
        res = WSR_TOKEN_BAD_ALG;
        goto out;
    }
    if (json_unpack(pl, "{s:o,s:I}", "sub", &subj, "exp", &exp) != 0 ||
        !json_is_string(subj))
        goto out;
    sub = json_string_value(subj);
    if (!user_ok(sub, json_string_length(subj)) || strlen(sub) >= userlen)
        goto out;
    n = b64url_decode(dot2 + 1, strlen(dot2 + 1), got, sizeof(got));
    if (n < 0)
        goto out;
    if (!mac(secret, token, (size_t)(dot2 - token), want) || n != MAC_LEN ||
        CRYPTO_memcmp(want, got, MAC_LEN) != 0) {
        res = WSR_TOKEN_BAD_SIGNATURE;
        goto out;
    }
    if (exp <= now) {
        res = WSR_TOKEN_EXPIRED;
        goto out;
    }
    strcpy(user, sub);
    if (exp_out)
        *exp_out = (int64_t)exp;
    res = WSR_TOKEN_OK;
out:
    json_decref(hdr);
    json_decref(pl);
    return res;
}
