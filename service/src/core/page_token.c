/*
 * page_token - encrypted, HMAC-authenticated, tenant- and filter-bound
 * pagination tokens. See page_token.h. No I/O, no clock.
 */
#include "page_token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define S_VERSION 1
#define S_IV 16
#define S_MAC 32
#define S_HEAD 12 /* expires(8) + position(4) */
#define S_FRAME (1 + S_IV + S_MAC)
#define S_RAW_MAX (S_FRAME + S_HEAD + PAGE_TOKEN_CURSOR_MAX)

static const char *const s_names[] = {
    [PAGE_TOKEN_OK] = "ok",
    [PAGE_TOKEN_MALFORMED] = "malformed",
    [PAGE_TOKEN_BAD_MAC] = "bad MAC (tampered, or issued for another tenant or other filters)",
    [PAGE_TOKEN_EXPIRED] = "expired",
    [PAGE_TOKEN_TOO_LONG] = "upstream cursor too long",
    [PAGE_TOKEN_NOMEM] = "out of memory",
};

const char *page_token_status_str(enum page_token_status s)
{
    if ((unsigned)s < sizeof(s_names) / sizeof(s_names[0]) && s_names[s])
        return s_names[s];
    return "unknown";
}

void page_token_keys_clean_up(struct page_token_keys *k)
{
    if (k)
        OPENSSL_cleanse(k, sizeof(*k));
}

void page_token_clean_up(struct page_token *t)
{
    if (!t)
        return;
    free(t->cursor);
    memset(t, 0, sizeof(*t));
}

/* ---- base64url, unpadded and strict -------------------------------------- */

static const char s_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static size_t s_b64_encode(const unsigned char *in, size_t n, char *out)
{
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = s_b64[v >> 18];
        out[o++] = s_b64[(v >> 12) & 63];
        out[o++] = s_b64[(v >> 6) & 63];
        out[o++] = s_b64[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = s_b64[v >> 18];
        out[o++] = s_b64[(v >> 12) & 63];
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = s_b64[v >> 18];
        out[o++] = s_b64[(v >> 12) & 63];
        out[o++] = s_b64[(v >> 6) & 63];
    }
    out[o] = '\0';
    return o;
}

static int s_b64_val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

/* -1 on any character outside the alphabet, a length of 1 mod 4, or
 * non-zero unused bits (so every text has exactly one decoding). */
static long s_b64_decode(const char *in, size_t n, unsigned char *out, size_t out_max)
{
    if (n % 4 == 1 || (n / 4) * 3 + (n % 4 ? n % 4 - 1 : 0) > out_max)
        return -1;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = s_b64_val(in[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0)
        return -1;
    return (long)o;
}

/* ---- crypto -------------------------------------------------------------- */

static bool s_hmac(const unsigned char *key, size_t key_len, const unsigned char *const *parts,
                   const size_t *lens, size_t n_parts, unsigned char out[32])
{
    bool ok = false;
    /* Fetched once: a fetch is a provider lookup under a lock, which cost
     * more than the MAC itself (the process has one thread). */
    static EVP_MAC *mac;
    if (!mac)
        mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
                           OSSL_PARAM_construct_end()};
    size_t out_len = 0;
    if (!ctx || !EVP_MAC_init(ctx, key, key_len, params))
        goto cleanup;
    for (size_t i = 0; i < n_parts; i++) {
        if (!EVP_MAC_update(ctx, parts[i], lens[i]))
            goto cleanup;
    }
    ok = EVP_MAC_final(ctx, out, &out_len, 32) && out_len == 32;
cleanup:
    EVP_MAC_CTX_free(ctx);
    return ok;
}

struct s_keys {
    unsigned char enc[32];
    unsigned char mac[32];
};

static bool s_derive(const unsigned char *secret, size_t len, struct s_keys *k)
{
    static const char l_enc[] = "bedrockgw page token v1 encryption";
    static const char l_mac[] = "bedrockgw page token v1 authentication";
    const unsigned char *p1[] = {(const unsigned char *)l_enc};
    size_t n1[] = {sizeof(l_enc) - 1};
    const unsigned char *p2[] = {(const unsigned char *)l_mac};
    size_t n2[] = {sizeof(l_mac) - 1};
    return s_hmac(secret, len, p1, n1, 1, k->enc) && s_hmac(secret, len, p2, n2, 1, k->mac);
}

static bool s_ctr(const unsigned char key[32], const unsigned char iv[S_IV],
                  const unsigned char *in, size_t n, unsigned char *out)
{
    bool ok = false;
    int l1 = 0, l2 = 0;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx && EVP_EncryptInit_ex(ctx, EVP_aes_256_ctr(), NULL, key, iv) &&
        EVP_EncryptUpdate(ctx, out, &l1, in, (int)n) && EVP_EncryptFinal_ex(ctx, out + l1, &l2))
        ok = (size_t)(l1 + l2) == n;
    EVP_CIPHER_CTX_free(ctx);
    return ok;
}

/* The tag over binding | version | iv | ciphertext. The binding is length
 * prefixed so that no two (binding, token) pairs share an input. */
static bool s_tag(const struct s_keys *k, const char *binding, const unsigned char *raw,
                  size_t raw_len, unsigned char out[32])
{
    size_t bl = strlen(binding);
    unsigned char len_be[8];
    for (int i = 0; i < 8; i++)
        len_be[i] = (unsigned char)((uint64_t)bl >> (56 - 8 * i));
    const unsigned char *parts[] = {len_be, (const unsigned char *)binding, raw};
    size_t lens[] = {8, bl, raw_len};
    return s_hmac(k->mac, 32, parts, lens, 3, out);
}

enum page_token_status page_token_encode(const struct page_token_keys *k, const char *binding,
                                         const char *cursor, uint32_t position, int64_t now_s,
                                         char **out)
{
    *out = NULL;
    size_t cl = cursor ? strlen(cursor) : 0;
    if (cl > PAGE_TOKEN_CURSOR_MAX)
        return PAGE_TOKEN_TOO_LONG;
    enum page_token_status rc = PAGE_TOKEN_NOMEM;
    struct s_keys keys;
    unsigned char plain[S_HEAD + PAGE_TOKEN_CURSOR_MAX];
    unsigned char raw[S_RAW_MAX];
    uint64_t exp = (uint64_t)(now_s + k->ttl_s);
    for (int i = 0; i < 8; i++)
        plain[i] = (unsigned char)(exp >> (56 - 8 * i));
    for (int i = 0; i < 4; i++)
        plain[8 + i] = (unsigned char)(position >> (24 - 8 * i));
    if (cl)
        memcpy(plain + S_HEAD, cursor, cl);
    size_t pl = S_HEAD + cl;

    if (!s_derive(k->secret, k->secret_len, &keys))
        goto cleanup;
    /* Synthetic IV: deterministic, different for every (binding, contents). */
    unsigned char iv_full[32];
    static const unsigned char l_iv[] = "iv";
    size_t bl = strlen(binding);
    const unsigned char *parts[] = {l_iv, (const unsigned char *)binding, plain};
    size_t lens[] = {3, bl + 1, pl}; /* both labels with their NUL: unambiguous */
    if (!s_hmac(keys.mac, 32, parts, lens, 3, iv_full))
        goto cleanup;
    raw[0] = S_VERSION;
    memcpy(raw + 1, iv_full, S_IV);
    if (!s_ctr(keys.enc, raw + 1, plain, pl, raw + 1 + S_IV))
        goto cleanup;
    size_t body = 1 + S_IV + pl;
    if (!s_tag(&keys, binding, raw, body, raw + body))
        goto cleanup;
    size_t raw_len = body + S_MAC;
    char *text = malloc((raw_len + 2) / 3 * 4 + 1);
    if (!text)
        goto cleanup;
    s_b64_encode(raw, raw_len, text);
    *out = text;
    rc = PAGE_TOKEN_OK;
cleanup:
    OPENSSL_cleanse(&keys, sizeof(keys));
    OPENSSL_cleanse(plain, sizeof(plain));
    return rc;
}

/* 1: the tag verifies under secret (keys filled); 0: it does not; -1: error. */
static int s_verify(const unsigned char *secret, size_t secret_len, const char *binding,
                    const unsigned char *raw, size_t body, struct s_keys *keys)
{
    unsigned char tag[32];
    if (!s_derive(secret, secret_len, keys) || !s_tag(keys, binding, raw, body, tag))
        return -1;
    return CRYPTO_memcmp(tag, raw + body, S_MAC) == 0 ? 1 : 0;
}

enum page_token_status page_token_decode(const struct page_token_keys *k, const char *binding,
                                         const char *text, int64_t now_s, struct page_token *out)
{
    memset(out, 0, sizeof(*out));
    unsigned char raw[S_RAW_MAX];
    unsigned char plain[S_HEAD + PAGE_TOKEN_CURSOR_MAX];
    struct s_keys keys;
    enum page_token_status rc = PAGE_TOKEN_MALFORMED;
    size_t tl = strlen(text);
    long n = tl <= PAGE_TOKEN_TEXT_MAX ? s_b64_decode(text, tl, raw, sizeof(raw)) : -1;
    if (n < (long)(S_FRAME + S_HEAD) || raw[0] != S_VERSION)
        goto cleanup;
    size_t body = (size_t)n - S_MAC;
    int v = s_verify(k->secret, k->secret_len, binding, raw, body, &keys);
    if (v == 0 && k->previous_len)
        v = s_verify(k->previous, k->previous_len, binding, raw, body, &keys);
    if (v < 0) {
        rc = PAGE_TOKEN_NOMEM;
        goto cleanup;
    }
    if (v == 0) {
        rc = PAGE_TOKEN_BAD_MAC;
        goto cleanup;
    }
    size_t pl = body - 1 - S_IV;
    if (!s_ctr(keys.enc, raw + 1, raw + 1 + S_IV, pl, plain)) {
        rc = PAGE_TOKEN_NOMEM;
        goto cleanup;
    }
    uint64_t exp = 0;
    for (int i = 0; i < 8; i++)
        exp = exp << 8 | plain[i];
    uint32_t pos = 0;
    for (int i = 0; i < 4; i++)
        pos = pos << 8 | plain[8 + i];
    if ((int64_t)exp < now_s) {
        rc = PAGE_TOKEN_EXPIRED;
        goto cleanup;
    }
    size_t cl = pl - S_HEAD;
    if (cl) {
        if (memchr(plain + S_HEAD, '\0', cl))
            goto cleanup; /* never produced by encode */
        out->cursor = malloc(cl + 1);
        if (!out->cursor) {
            rc = PAGE_TOKEN_NOMEM;
            goto cleanup;
        }
        memcpy(out->cursor, plain + S_HEAD, cl);
        out->cursor[cl] = '\0';
    }
    out->position = pos;
    out->expires_s = (int64_t)exp;
    rc = PAGE_TOKEN_OK;
cleanup:
    OPENSSL_cleanse(&keys, sizeof(keys));
    OPENSSL_cleanse(plain, sizeof(plain));
    if (rc != PAGE_TOKEN_OK)
        page_token_clean_up(out);
    return rc;
}
