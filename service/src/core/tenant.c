/*
 * tenant - tenant table and constant-time API-key authentication.
 * See tenant.h. No I/O.
 */
#include "tenant.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hex.h"

void tenant_table_clean_up(struct tenant_table *t)
{
    for (size_t i = 0; i < t->n_tenants; i++) {
        if (t->tenants[i].key_hashes)
            OPENSSL_cleanse(t->tenants[i].key_hashes, 32 * t->tenants[i].n_keys);
        free(t->tenants[i].key_hashes);
        for (size_t j = 0; j < t->tenants[i].n_mtls_subjects; j++)
            free(t->tenants[i].mtls_subjects[j]);
        for (size_t j = 0; j < t->tenants[i].n_aws_keys; j++) {
            char *sec = t->tenants[i].aws_keys[j].secret;
            if (sec) {
                OPENSSL_cleanse(sec, strlen(sec));
                free(sec);
            }
        }
        free(t->tenants[i].aws_keys);
        free(t->tenants[i].mtls_subjects);
        policy_clean_up(&t->tenants[i].policy);
    }
    free(t->tenants);
    t->tenants = NULL;
    t->n_tenants = 0;
}

const struct tenant *tenant_find_aws_key(const struct tenant_table *t, const char *access_key_id,
                                         const char **secret)
{
    for (size_t i = 0; i < t->n_tenants; i++) {
        for (size_t j = 0; j < t->tenants[i].n_aws_keys; j++) {
            if (strcmp(t->tenants[i].aws_keys[j].access_key_id, access_key_id) == 0) {
                *secret = t->tenants[i].aws_keys[j].secret;
                return &t->tenants[i];
            }
        }
    }
    return NULL;
}

int tenant_parse_key_hash(const char *hex, unsigned char out[32])
{
    if (strlen(hex) != 64)
        return -1;
    for (size_t i = 0; i < 32; i++) {
        int hi = hex_digit(hex[2 * i]);
        int lo = hex_digit(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

static int s_is_blank(const char *s)
{
    for (; *s; s++) {
        if (*s != ' ' && *s != '\t')
            return 0;
    }
    return 1;
}

/* k trimmed of blanks on both sides: its start, length in *n. */
static const char *s_trim(const char *k, size_t *n)
{
    while (*k == ' ' || *k == '\t')
        k++;
    size_t len = strlen(k);
    while (len > 0 && (k[len - 1] == ' ' || k[len - 1] == '\t'))
        len--;
    *n = len;
    return k;
}

int tenant_extract_key(const char *authorization, const char *x_api_key, const char **key,
                       size_t *key_len, const char **reason)
{
    const char *k = NULL;
    size_t n = 0;
    if (authorization && !s_is_blank(authorization)) {
        const char *p = authorization;
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncasecmp(p, "bearer", 6) != 0 || (p[6] != ' ' && p[6] != '\t')) {
            *reason = x_api_key ? "the Authorization header is not 'Bearer <key>' and an X-Api-Key "
                                  "header was sent too: send the API key in one of them"
                                : "the Authorization header must use the Bearer scheme: "
                                  "'Authorization: Bearer <key>'";
            return -1;
        }
        k = s_trim(p + 6, &n);
        if (x_api_key) {
            /* Both headers: they must agree, never one silently winning. */
            size_t xn;
            const char *x = s_trim(x_api_key, &xn);
            if (xn != n || memcmp(x, k, n) != 0) {
                *reason = "the Authorization and X-Api-Key headers carry different API keys";
                return -1;
            }
        }
    } else if (x_api_key) {
        k = s_trim(x_api_key, &n);
    }
    if (!k) {
        *reason = "missing API key: send 'authorization: Bearer <key>' or 'x-api-key: <key>'";
        return -1;
    }
    if (n == 0) {
        *reason = "empty API key";
        return -1;
    }
    if (n > TENANT_KEY_MAX) {
        *reason = "API key too long";
        return -1;
    }
    *key = k;
    *key_len = n;
    return 0;
}

/* SHA-256 fetched from the provider once: EVP_sha256() makes every
 * EVP_Digest look the implementation up again (about 40% of hashing a key).
 * Never freed (one per process). And one digest context, reused (the
 * gateway has one thread): EVP_Digest makes and frees one (and the
 * provider's state inside it) per call. Between uses it holds no key bytes:
 * Final wipes the input block, what is left is the last digest, which the
 * config's key hashes hold anyway. */
static EVP_MD *s_sha256;
static EVP_MD_CTX *s_ctx;

/* SHA-256 of data into out[32]; 0 or -1. */
static int s_sha256_of(const void *data, size_t len, unsigned char out[32])
{
    if (!s_sha256)
        s_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    const EVP_MD *md = s_sha256 ? s_sha256 : EVP_sha256();
    if (!s_ctx)
        s_ctx = EVP_MD_CTX_new();
    EVP_MD_CTX *ctx = s_ctx;
    unsigned int dlen = 0;
    int ok = ctx ? EVP_DigestInit_ex2(ctx, md, NULL) == 1 &&
                       EVP_DigestUpdate(ctx, data, len) == 1 &&
                       EVP_DigestFinal_ex(ctx, out, &dlen) == 1
                 : EVP_Digest(data, len, out, &dlen, md, NULL) == 1;
    return ok && dlen == 32 ? 0 : -1;
}

const struct tenant *tenant_authenticate(const struct tenant_table *t, const char *key,
                                         size_t key_len)
{
    unsigned char digest[32];
    if (s_sha256_of(key, key_len, digest) != 0)
        return NULL;
    const struct tenant *found = NULL;
    for (size_t i = 0; i < t->n_tenants; i++) {
        for (size_t j = 0; j < t->tenants[i].n_keys; j++) {
            /* Branch-free select: every hash is compared, whatever matched. */
            int eq = CRYPTO_memcmp(digest, t->tenants[i].key_hashes[j], 32) == 0;
            uintptr_t mask = (uintptr_t)0 - (uintptr_t)eq;
            found = (const struct tenant *)(((uintptr_t)found & ~mask) |
                                            ((uintptr_t)&t->tenants[i] & mask));
        }
    }
    OPENSSL_cleanse(digest, sizeof(digest));
    return found;
}
