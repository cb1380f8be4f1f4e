/*
 * grpc_wire_test - grpc-timeout in every unit, message framing (every
 * refusal), grpc-message percent-encoding and grpc-status-details-bin
 * (decoded back independently: base64 by OpenSSL, the protobuf by hand).
 */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "grpc_wire.h"
#include "test_util.h"

#define CHECK_EQ(a, b) CHECK((long long)(a) == (long long)(b))

static void test_timeout(void)
{
    CHECK_EQ(grpc_wire_timeout_ms("2H"), 7200000);
    CHECK_EQ(grpc_wire_timeout_ms("3M"), 180000);
    CHECK_EQ(grpc_wire_timeout_ms("10S"), 10000);
    CHECK_EQ(grpc_wire_timeout_ms("250m"), 250);
    CHECK_EQ(grpc_wire_timeout_ms("1500u"), 1);
    CHECK_EQ(grpc_wire_timeout_ms("999u"), 0);
    CHECK_EQ(grpc_wire_timeout_ms("1n"), 0);
    CHECK_EQ(grpc_wire_timeout_ms("99999999n"), 99);
    CHECK_EQ(grpc_wire_timeout_ms("99999999H"), 99999999LL * 3600000);
    CHECK_EQ(grpc_wire_timeout_ms("123456789S"), -1); /* 9 digits */
    CHECK_EQ(grpc_wire_timeout_ms(""), -1);
    CHECK_EQ(grpc_wire_timeout_ms("S"), -1);
    CHECK_EQ(grpc_wire_timeout_ms("10"), -1);
    CHECK_EQ(grpc_wire_timeout_ms("10s"), -1);
    CHECK_EQ(grpc_wire_timeout_ms("10SS"), -1);
    CHECK_EQ(grpc_wire_timeout_ms("-1S"), -1);
    CHECK_EQ(grpc_wire_timeout_ms(" 1S"), -1);
}

static void test_unframe(void)
{
    const uint8_t *m = NULL;
    size_t n = 99;
    uint8_t one[8] = {0, 0, 0, 0, 3, 'a', 'b', 'c'};
    CHECK_EQ(grpc_wire_unframe(one, 8, &m, &n), GRPC_WIRE_ONE);
    CHECK(m == one + 5 && n == 3);
    uint8_t empty[5] = {0, 0, 0, 0, 0};
    CHECK_EQ(grpc_wire_unframe(empty, 5, &m, &n), GRPC_WIRE_ONE);
    CHECK_EQ(n, 0);
    CHECK_EQ(grpc_wire_unframe(one, 0, &m, &n), GRPC_WIRE_NONE);
    CHECK_EQ(grpc_wire_unframe(one, 4, &m, &n), GRPC_WIRE_TRUNCATED);
    CHECK_EQ(grpc_wire_unframe(one, 7, &m, &n), GRPC_WIRE_TRUNCATED);
    uint8_t two[10] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    CHECK_EQ(grpc_wire_unframe(two, 10, &m, &n), GRPC_WIRE_MANY);
    uint8_t comp[6] = {1, 0, 0, 0, 1, 'x'};
    CHECK_EQ(grpc_wire_unframe(comp, 6, &m, &n), GRPC_WIRE_COMPRESSED);
    comp[0] = 2;
    CHECK_EQ(grpc_wire_unframe(comp, 6, &m, &n), GRPC_WIRE_BAD_FLAG);
    uint8_t huge[6] = {0, 0xff, 0xff, 0xff, 0xff, 'x'};
    CHECK_EQ(grpc_wire_unframe(huge, 6, &m, &n), GRPC_WIRE_TRUNCATED);
    uint8_t p[5];
    grpc_wire_prefix(p, 0x01020304);
    CHECK(p[0] == 0 && p[1] == 1 && p[2] == 2 && p[3] == 3 && p[4] == 4);
}

static void test_percent(void)
{
    struct buf b;
    buf_init(&b, 0);
    CHECK(grpc_wire_percent_encode(&b, "maxResults: 100% \xc3\xa9\n") == 0);
    CHECK_STR(b.data, "maxResults: 100%25 %C3%A9%0A");
    buf_clean_up(&b);
}

/* Reads a varint; -1 on truncation. */
static int s_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; *p < end && shift < 64; shift += 7) {
        uint8_t c = *(*p)++;
        *v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80))
            return 0;
    }
    return -1;
}

/* The length-delimited field `field` of [p, end) (first one after skip
 * earlier ones of the same number); NULL when absent. */
static const uint8_t *s_field(const uint8_t *p, const uint8_t *end, unsigned field, size_t skip,
                              size_t *len, uint64_t *varint_out)
{
    while (p < end) {
        uint64_t key, v;
        if (s_varint(&p, end, &key) != 0)
            return NULL;
        if ((key & 7) == 0) {
            if (s_varint(&p, end, &v) != 0)
                return NULL;
            if ((key >> 3) == field && varint_out) {
                *varint_out = v;
                return p;
            }
            continue;
        }
        if ((key & 7) != 2 || s_varint(&p, end, &v) != 0 || v > (uint64_t)(end - p))
            return NULL;
        if ((key >> 3) == field && skip-- == 0) {
            *len = (size_t)v;
            return p;
        }
        p += v;
    }
    return NULL;
}

static void test_details(void)
{
    struct bgw_error e;
    bgw_error_clear(&e);
    bgw_error_set(&e, BGW_ERR_INVALID_ARGUMENT, "maxResults", "maxResults must be 1..1000");
    e.retry_after_s = 7;
    struct buf b;
    buf_init(&b, 0);
    CHECK(grpc_wire_status_details_bin(&b, &e) == 0);
    CHECK(b.len > 0 && !strchr(b.data, '='));
    /* pad back and decode with OpenSSL */
    char padded[1024];
    size_t n = b.len;
    memcpy(padded, b.data, n);
    while (n % 4)
        padded[n++] = '=';
    uint8_t raw[1024];
    int len = EVP_DecodeBlock(raw, (const unsigned char *)padded, (int)n);
    CHECK(len > 0);
    while (n > b.len) { /* EVP_DecodeBlock counts padding as zero bytes */
        len--;
        n--;
    }
    const uint8_t *end = raw + len;
    uint64_t code = 0;
    size_t l = 0;
    CHECK(s_field(raw, end, 1, 0, &l, &code) && code == 3);
    const uint8_t *msg = s_field(raw, end, 2, 0, &l, NULL);
    CHECK(msg && l == strlen(e.message) && memcmp(msg, e.message, l) == 0);
    size_t l1 = 0, l2 = 0;
    const uint8_t *any1 = s_field(raw, end, 3, 0, &l1, NULL);
    const uint8_t *any2 = s_field(raw, end, 3, 1, &l2, NULL);
    CHECK(any1 && any2);
    if (any1 && any2) {
        size_t tl = 0, vl = 0;
        const uint8_t *t = s_field(any1, any1 + l1, 1, 0, &tl, NULL);
        CHECK(t && tl == 41 && memcmp(t, "type.googleapis.com/google.rpc.BadRequest", 41) == 0);
        const uint8_t *v = s_field(any1, any1 + l1, 2, 0, &vl, NULL);
        size_t fl = 0, fvl = 0;
        const uint8_t *fv = v ? s_field(v, v + vl, 1, 0, &fvl, NULL) : NULL;
        const uint8_t *f = fv ? s_field(fv, fv + fvl, 1, 0, &fl, NULL) : NULL;
        CHECK(f && fl == 10 && memcmp(f, "maxResults", 10) == 0);
        t = s_field(any2, any2 + l2, 1, 0, &tl, NULL);
        CHECK(t && tl == 40 && memcmp(t, "type.googleapis.com/google.rpc.RetryInfo", 40) == 0);
        v = s_field(any2, any2 + l2, 2, 0, &vl, NULL);
        size_t dl = 0;
        const uint8_t *d = v ? s_field(v, v + vl, 1, 0, &dl, NULL) : NULL;
        uint64_t secs = 0;
        CHECK(d && s_field(d, d + dl, 1, 0, &l, &secs) && secs == 7);
    }
    /* no field, no retry: code and message only */
    buf_reset(&b);
    bgw_error_clear(&e);
    bgw_error_set(&e, BGW_ERR_UNAUTHENTICATED, NULL, "missing API key");
    CHECK(grpc_wire_status_details_bin(&b, &e) == 0);
    CHECK_STR(b.data, "CBASD21pc3NpbmcgQVBJIGtleQ");
    buf_clean_up(&b);
}

int main(void)
{
    test_timeout();
    test_unframe();
    test_percent();
    test_details();
    return TEST_EXIT();
}
