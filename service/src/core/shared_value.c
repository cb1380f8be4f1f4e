/*
 * shared_value - see shared_value.h.
 */
#include "shared_value.h"

#include <inttypes.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <string.h>

#include "page_codec.h"

void shared_value_hmac(const unsigned char key[32], const void *a, size_t a_len, const void *b,
                       size_t b_len, unsigned char out[32])
{
    static EVP_MAC *mac; /* fetched once (see page_token.c) */
    if (!mac)
        mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *h = mac ? EVP_MAC_CTX_new(mac) : NULL;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
                           OSSL_PARAM_construct_end()};
    size_t n = 0;
    if (!h || EVP_MAC_init(h, key, 32, params) != 1 || EVP_MAC_update(h, a, a_len) != 1 ||
        (b_len && EVP_MAC_update(h, b, b_len) != 1) || EVP_MAC_final(h, out, &n, 32) != 1)
        memset(out, 0, 32);
    EVP_MAC_CTX_free(h);
}

int shared_value_seal(const unsigned char mac_key[32], const char *name, size_t name_len,
                      const struct jobs_response *page, int64_t fetched_ms, int64_t fresh_until_ms,
                      struct buf *out)
{
    size_t start = out->len;
    unsigned char t[8];
    for (int i = 0; i < 8; i++)
        t[i] = (unsigned char)((uint64_t)fetched_ms >> (8 * i));
    if (buf_appendf(out, "%" PRId64 "|", fresh_until_ms) != 0 || buf_append(out, t, 8) != 0 ||
        page_codec_encode(page, out) != 0)
        return -1;
    unsigned char mac[SHARED_VALUE_MAC_LEN];
    shared_value_hmac(mac_key, name, name_len, out->data + start, out->len - start, mac);
    return buf_append(out, mac, sizeof(mac));
}

int shared_value_open(const unsigned char mac_key[32], const char *name, size_t name_len,
                      const void *value, size_t len, struct jobs_response *page,
                      int64_t *fetched_ms)
{
    memset(page, 0, sizeof(*page));
    const char *v = value;
    if (len < SHARED_VALUE_MAC_LEN + 2 + 8)
        return -1;
    size_t body_len = len - SHARED_VALUE_MAC_LEN;
    unsigned char mac[SHARED_VALUE_MAC_LEN];
    shared_value_hmac(mac_key, name, name_len, v, body_len, mac);
    if (CRYPTO_memcmp(mac, v + body_len, SHARED_VALUE_MAC_LEN) != 0)
        return -1;
    const char *bar = memchr(v, '|', body_len);
    if (!bar || (size_t)(v + body_len - (bar + 1)) < 8)
        return -1;
    const unsigned char *p = (const unsigned char *)bar + 1;
    uint64_t t = 0;
    for (int i = 7; i >= 0; i--)
        t = t << 8 | p[i];
    *fetched_ms = (int64_t)t;
    const char *body = bar + 9;
    return page_codec_decode(body, (size_t)(v + body_len - body), page);
}
