/*
 * page_token_test - round trips, binding (tenant/filters), expiry, secret
 * rotation, tampering of every bit, strict base64url, the cursor limit.
 * Time is passed in; no I/O.
 */
#include <stdlib.h>
#include <string.h>

#include "page_token.h"
#include "test_util.h"

static struct page_token_keys s_keys(const char *secret, const char *previous, int64_t ttl)
{
    struct page_token_keys k;
    memset(&k, 0, sizeof(k));
    k.secret_len = strlen(secret);
    memcpy(k.secret, secret, k.secret_len);
    if (previous) {
        k.previous_len = strlen(previous);
        memcpy(k.previous, previous, k.previous_len);
    }
    k.ttl_s = ttl;
    return k;
}

#define S1 "0123456789abcdef0123456789abcdef-one"
#define S2 "0123456789abcdef0123456789abcdef-two"
#define NOW 1700000000

static void test_round_trip(void)
{
    struct page_token_keys k = s_keys(S1, NULL, 60);
    const char *cursors[] = {NULL, "x", "djF8YWJjfEt8MTcwMDAwMDAwMHwwfGFybjphd3M", "a b\tc"};
    for (size_t i = 0; i < sizeof(cursors) / sizeof(cursors[0]); i++) {
        char *t = NULL;
        CHECK(page_token_encode(&k, "alpha\nfilters", cursors[i], (uint32_t)(i * 1000), NOW, &t) ==
              PAGE_TOKEN_OK);
        if (!CHECK(t != NULL))
            continue;
        CHECK(strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
              strlen(t));
        if (cursors[i] && strlen(cursors[i]) > 8) /* encrypted: not visible inside */
            CHECK(strstr(t, cursors[i]) == NULL);
        struct page_token pt;
        CHECK(page_token_decode(&k, "alpha\nfilters", t, NOW + 60, &pt) == PAGE_TOKEN_OK);
        CHECK_STR(pt.cursor, cursors[i]);
        CHECK(pt.position == i * 1000);
        CHECK(pt.expires_s == NOW + 60);
        page_token_clean_up(&pt);
        /* Deterministic: same inputs, same token (no randomness needed). */
        char *t2 = NULL;
        CHECK(page_token_encode(&k, "alpha\nfilters", cursors[i], (uint32_t)(i * 1000), NOW, &t2) ==
              PAGE_TOKEN_OK);
        CHECK_STR(t2, t);
        free(t2);
        free(t);
    }
}

static void test_binding_expiry_rotation(void)
{
    struct page_token_keys k1 = s_keys(S1, NULL, 60);
    struct page_token_keys k2 = s_keys(S2, S1, 60);
    struct page_token_keys k3 = s_keys(S2, NULL, 60);
    char *t = NULL;
    CHECK(page_token_encode(&k1, "alpha\nf1", "cur", 3, NOW, &t) == PAGE_TOKEN_OK);
    struct page_token pt;
    CHECK(page_token_decode(&k1, "beta\nf1", t, NOW, &pt) == PAGE_TOKEN_BAD_MAC);
    CHECK(pt.cursor == NULL);
    CHECK(page_token_decode(&k1, "alpha\nf2", t, NOW, &pt) == PAGE_TOKEN_BAD_MAC);
    CHECK(page_token_decode(&k1, "alpha\nf1", t, NOW + 61, &pt) == PAGE_TOKEN_EXPIRED);
    CHECK(page_token_decode(&k2, "alpha\nf1", t, NOW, &pt) == PAGE_TOKEN_OK); /* previous */
    CHECK_STR(pt.cursor, "cur");
    page_token_clean_up(&pt);
    CHECK(page_token_decode(&k3, "alpha\nf1", t, NOW, &pt) == PAGE_TOKEN_BAD_MAC);
    free(t);
    /* The new key signs with the current secret only. */
    CHECK(page_token_encode(&k2, "alpha\nf1", "cur", 3, NOW, &t) == PAGE_TOKEN_OK);
    CHECK(page_token_decode(&k3, "alpha\nf1", t, NOW, &pt) == PAGE_TOKEN_OK);
    page_token_clean_up(&pt);
    CHECK(page_token_decode(&k1, "alpha\nf1", t, NOW, &pt) == PAGE_TOKEN_BAD_MAC);
    free(t);
    page_token_keys_clean_up(&k1);
    CHECK(k1.secret_len == 0 && k1.secret[0] == 0);
}

static const char s_alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void test_tampering(void)
{
    struct page_token_keys k = s_keys(S1, S2, 60);
    char *t = NULL;
    CHECK(page_token_encode(&k, "alpha\nf", "some-upstream-cursor", 7, NOW, &t) == PAGE_TOKEN_OK);
    if (!t)
        return;
    size_t n = strlen(t);
    int accepted = 0;
    /* Every character replaced by every other alphabet character. */
    for (size_t i = 0; i < n; i++) {
        char orig = t[i];
        for (const char *c = s_alpha; *c; c++) {
            if (*c == orig)
                continue;
            t[i] = *c;
            struct page_token pt;
            if (page_token_decode(&k, "alpha\nf", t, NOW, &pt) == PAGE_TOKEN_OK) {
                accepted++;
                page_token_clean_up(&pt);
            }
        }
        t[i] = orig;
    }
    CHECK(accepted == 0);
    /* Truncated, extended, padded, non-alphabet. */
    struct page_token pt;
    char *b = malloc(n + 3);
    memcpy(b, t, n + 1);
    b[n - 1] = '\0';
    CHECK(page_token_decode(&k, "alpha\nf", b, NOW, &pt) != PAGE_TOKEN_OK);
    memcpy(b, t, n);
    memcpy(b + n, "A", 2);
    CHECK(page_token_decode(&k, "alpha\nf", b, NOW, &pt) != PAGE_TOKEN_OK);
    memcpy(b + n, "=", 2);
    CHECK(page_token_decode(&k, "alpha\nf", b, NOW, &pt) == PAGE_TOKEN_MALFORMED);
    memcpy(b, t, n + 1);
    b[n / 2] = '+';
    CHECK(page_token_decode(&k, "alpha\nf", b, NOW, &pt) == PAGE_TOKEN_MALFORMED);
    free(b);
    const char *garbage[] = {"", "A", "AAAA", "!!!!", "djF8Uw", "AQ"};
    for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++)
        CHECK(page_token_decode(&k, "alpha\nf", garbage[i], NOW, &pt) == PAGE_TOKEN_MALFORMED);
    free(t);
}

static void test_limits(void)
{
    struct page_token_keys k = s_keys(S1, NULL, 60);
    char cur[PAGE_TOKEN_CURSOR_MAX + 2];
    memset(cur, 'c', sizeof(cur));
    cur[PAGE_TOKEN_CURSOR_MAX] = '\0';
    char *t = NULL;
    CHECK(page_token_encode(&k, "b", cur, UINT32_MAX, NOW, &t) == PAGE_TOKEN_OK);
    if (CHECK(t != NULL)) {
        CHECK(strlen(t) <= PAGE_TOKEN_TEXT_MAX);
        struct page_token pt;
        CHECK(page_token_decode(&k, "b", t, NOW, &pt) == PAGE_TOKEN_OK);
        CHECK(pt.position == UINT32_MAX && pt.cursor && strlen(pt.cursor) == PAGE_TOKEN_CURSOR_MAX);
        page_token_clean_up(&pt);
    }
    free(t);
    cur[PAGE_TOKEN_CURSOR_MAX] = 'c';
    cur[PAGE_TOKEN_CURSOR_MAX + 1] = '\0';
    CHECK(page_token_encode(&k, "b", cur, 0, NOW, &t) == PAGE_TOKEN_TOO_LONG);
    CHECK(t == NULL);
    CHECK(strcmp(page_token_status_str(PAGE_TOKEN_EXPIRED), "expired") == 0);
}

int main(void)
{
    test_round_trip();
    test_binding_expiry_rotation();
    test_tampering();
    test_limits();
    return TEST_EXIT();
}
