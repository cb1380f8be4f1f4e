/*
 * json_write_test - the direct JSON writer against jansson as the oracle:
 * every string (random bytes, random well-formed and malformed UTF-8,
 * every control character) is escaped to the same bytes as jansson's
 * compact dump, or refused exactly when jansson refuses it; RFC 3339 times
 * equal the printf formatting they replaced over the whole year range and
 * every fraction form; members get their commas and omissions right.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_write.h"
#include "test_util.h"

static uint64_t s_rng = 0x9E3779B97F4A7C15u;

static uint32_t s_rand(void)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return (uint32_t)(s_rng >> 11);
}

static void s_random_string(char *s, size_t cap)
{
    size_t n = 0, want = s_rand() % 40;
    while (n + 5 < cap && want--) {
        switch (s_rand() % 6) {
        case 0: /* any byte but NUL */
            s[n++] = (char)(1 + s_rand() % 255);
            break;
        case 1: /* control characters, quotes, backslash */
            s[n++] = "\x01\x08\t\n\x0b\x0c\r\x1f\"\\/\x7f"[s_rand() % 12];
            break;
        case 2: /* a code point anywhere, surrogates and past U+10FFFF included */
            n += json_write_utf8_put(s + n, s_rand() % 0x120000);
            break;
        case 3: /* overlong forms */
            s[n++] = (char)(0xC0 | (s_rand() & 1));
            s[n++] = (char)(0x80 | (s_rand() & 0x3F));
            break;
        default:
            s[n++] = (char)('a' + s_rand() % 26);
        }
    }
    s[n] = '\0';
}

static void s_compare(const char *s)
{
    json_t *j = json_string(s);
    struct buf b;
    buf_init(&b, 0);
    int rc = json_write_string(&b, s);
    if (!j) {
        CHECK(rc == -1);
        CHECK(b.len == 0);
        CHECK(!json_write_utf8_ok(s, strlen(s)));
    } else {
        char *want = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!CHECK(rc == 0 && b.data && strcmp(b.data, want) == 0))
            fprintf(stderr, "  got %s want %s\n", b.data ? b.data : "(null)", want);
        free(want);
        json_decref(j);
    }
    buf_clean_up(&b);
}

static void test_strings_like_jansson(void)
{
    char s[256];
    for (int c = 1; c < 256; c++) {
        s[0] = 'x';
        s[1] = (char)c;
        s[2] = '\0';
        s_compare(s);
    }
    s_compare("");
    for (int i = 0; i < 200000; i++) {
        s_random_string(s, sizeof(s));
        s_compare(s);
    }
}

static void test_times_like_printf(void)
{
    const int64_t lo = -62135596800LL, hi = 253402300799LL;
    char got[TIMEUTIL_FMT_MAX], want[64];
    for (int i = 0; i < 200000; i++) {
        struct bgw_time t;
        t.seconds =
            i < 2 ? (i ? hi : lo)
                  : lo + (int64_t)(((uint64_t)s_rand() << 21 ^ s_rand()) % (uint64_t)(hi - lo + 1));
        switch (s_rand() % 4) {
        case 0:
            t.nanos = 0;
            break;
        case 1:
            t.nanos = (int32_t)(s_rand() % 1000) * 1000000;
            break;
        case 2:
            t.nanos = (int32_t)(s_rand() % 1000000) * 1000;
            break;
        default:
            t.nanos = (int32_t)(s_rand() % 1000000000);
        }
        int n = timeutil_format_rfc3339(t, got, sizeof(got));
        /* the formatting it replaced */
        int64_t days = t.seconds >= 0 ? t.seconds / 86400 : -((-t.seconds + 86399) / 86400);
        int64_t sod = t.seconds - days * 86400;
        struct bgw_time back;
        CHECK(n > 0 && timeutil_parse_rfc3339(got, &back) == 0 && back.seconds == t.seconds &&
              back.nanos == t.nanos);
        char frac[16] = "";
        if (t.nanos && t.nanos % 1000000 == 0)
            snprintf(frac, sizeof(frac), ".%03d", (int)(t.nanos / 1000000));
        else if (t.nanos && t.nanos % 1000 == 0)
            snprintf(frac, sizeof(frac), ".%06d", (int)(t.nanos / 1000));
        else if (t.nanos)
            snprintf(frac, sizeof(frac), ".%09d", (int)t.nanos);
        snprintf(want, sizeof(want), "T%02d:%02d:%02d%sZ", (int)(sod / 3600), (int)(sod / 60 % 60),
                 (int)(sod % 60), frac);
        if (!CHECK(n > 0 && strcmp(got + 10, want) == 0 && got[4] == '-' && got[7] == '-'))
            fprintf(stderr, "  %" PRId64 ".%09d: got %s want ...%s\n", t.seconds, (int)t.nanos, got,
                    want);
    }
    struct bgw_time bad = {hi + 1, 0};
    CHECK(timeutil_format_rfc3339(bad, got, sizeof(got)) == -1);
    bad = (struct bgw_time){0, 1000000000};
    CHECK(timeutil_format_rfc3339(bad, got, sizeof(got)) == -1);
    struct bgw_time ok = {0, 1};
    CHECK(timeutil_format_rfc3339(ok, got, 30) == -1); /* 30 chars need 31 bytes */
    CHECK(timeutil_format_rfc3339(ok, got, 31) == 30);
    CHECK_STR(got, "1970-01-01T00:00:00.000000001Z");
}

static void test_members(void)
{
    struct buf b;
    buf_init(&b, 0);
    bool first = true;
    CHECK(json_write_member_str(&b, &first, "a", NULL, false) == 0);
    CHECK(json_write_member_str(&b, &first, "b", "", true) == 0);
    CHECK(first && b.len == 0);
    CHECK(json_write_member_str(&b, &first, "c", "", false) == 0);
    CHECK(json_write_member_time(&b, &first, "t", false, (struct bgw_time){0, 0}) == 0);
    CHECK(json_write_member_time(&b, &first, "t", true, (struct bgw_time){86400, 5000000}) == 0);
    CHECK(json_write_member_str(&b, &first, "d", "x\"y", true) == 0);
    CHECK_STR(b.data, "\"c\":\"\",\"t\":\"1970-01-02T00:00:00.005Z\",\"d\":\"x\\\"y\"");
    size_t len = b.len;
    CHECK(json_write_member_str(&b, &first, "e", "\xff", true) == -1);
    CHECK(b.len == len); /* a refused string leaves nothing */
    buf_clean_up(&b);
}

int main(void)
{
    test_strings_like_jansson();
    test_times_like_printf();
    test_members();
    return TEST_EXIT();
}
