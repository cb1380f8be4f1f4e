/*
 * buf_test - the bounded byte buffer: growth keeps the contents and the
 * terminator, max_len is a hard limit (a failed append leaves the buffer
 * exactly as it was), appendf, detach, reset and the clean-up functions.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "test_util.h"

#define CHECK_EQ(a, b) CHECK((long long)(a) == (long long)(b))

static void test_init_and_empty(void)
{
    struct buf b;
    buf_init(&b, 0);
    CHECK(b.data == NULL && b.len == 0 && b.cap == 0);
    CHECK_EQ(b.max_len, BUF_DEFAULT_MAX);
    buf_init(&b, 10);
    CHECK_EQ(b.max_len, 10);

    /* An empty append still yields a terminated string. */
    CHECK(buf_append(&b, "", 0) == 0);
    CHECK(b.data != NULL && b.len == 0);
    CHECK_STR(b.data, "");
    CHECK(buf_append_str(&b, "") == 0);
    CHECK(buf_appendf(&b, "%s", "") == 0);
    CHECK_STR(b.data, "");
    buf_clean_up(&b);
    CHECK(b.data == NULL && b.len == 0 && b.cap == 0);
    buf_clean_up(&b); /* twice is harmless */
}

static void test_growth(void)
{
    struct buf b;
    buf_init(&b, 0);
    /* Byte by byte across several reallocations; content checked at the
     * end and the terminator at every step. */
    int term_ok = 1;
    for (size_t i = 0; i < 10000; i++) {
        if (buf_append_char(&b, (char)('a' + i % 26)) != 0) {
            CHECK(0);
            break;
        }
        term_ok &= b.len == i + 1 && b.data[b.len] == '\0' && b.cap > b.len;
    }
    CHECK(term_ok);
    int content_ok = b.len == 10000;
    for (size_t i = 0; content_ok && i < b.len; i++)
        content_ok = b.data[i] == (char)('a' + i % 26);
    CHECK(content_ok);

    /* Binary data with NULs is kept (len counts them). */
    buf_reset(&b);
    CHECK(b.len == 0 && b.data[0] == '\0');
    CHECK(buf_append(&b, "a\0b", 3) == 0);
    CHECK(b.len == 3 && memcmp(b.data, "a\0b", 4) == 0);

    /* One large append. */
    char big[5000];
    memset(big, 'z', sizeof(big));
    CHECK(buf_append(&b, big, sizeof(big)) == 0);
    CHECK(b.len == 5003 && b.data[5002] == 'z' && b.data[5003] == '\0');
    buf_clean_up(&b);
}

/* The buffer's state, to show a failed append changed nothing. */
struct snap {
    char *data;
    size_t len, cap;
    char copy[64];
};

static struct snap s_snap(const struct buf *b)
{
    struct snap s;
    memset(&s, 0, sizeof(s));
    s.data = b->data;
    s.len = b->len;
    s.cap = b->cap;
    if (b->data && b->len < sizeof(s.copy))
        memcpy(s.copy, b->data, b->len + 1);
    return s;
}

static int s_same(const struct buf *b, const struct snap *s)
{
    return b->data == s->data && b->len == s->len && b->cap == s->cap &&
           (!b->data || memcmp(b->data, s->copy, b->len + 1) == 0);
}

static void test_max_len(void)
{
    struct buf b;
    buf_init(&b, 10);
    CHECK(buf_append_str(&b, "0123456") == 0);

    struct snap s = s_snap(&b);
    CHECK(buf_append_str(&b, "7890") == -1); /* would be 11 */
    CHECK(s_same(&b, &s));
    CHECK(buf_append(&b, "xxxxxxxxxxxxxxxxxxxx", 20) == -1);
    CHECK(s_same(&b, &s));
    CHECK(buf_appendf(&b, "%d", 1234) == -1);
    CHECK(s_same(&b, &s));
    CHECK(buf_appendf(&b, "%s-%s", "ab", "c") == -1); /* 11 */
    CHECK(s_same(&b, &s));
    /* A huge length must not wrap around the limit check. */
    CHECK(buf_append(&b, "x", (size_t)-1) == -1);
    CHECK(buf_append(&b, "x", (size_t)-1 - 5) == -1);
    CHECK(s_same(&b, &s));
    CHECK_STR(b.data, "0123456");

    /* Up to the limit exactly is fine; then not one byte more. */
    CHECK(buf_append_str(&b, "789") == 0);
    CHECK(b.len == 10);
    CHECK_STR(b.data, "0123456789");
    s = s_snap(&b);
    CHECK(buf_append_char(&b, 'x') == -1);
    CHECK(buf_appendf(&b, "x") == -1);
    CHECK(s_same(&b, &s));
    /* Zero bytes still fit. */
    CHECK(buf_append(&b, "", 0) == 0);
    CHECK(buf_appendf(&b, "%s", "") == 0);
    CHECK(b.len == 10);
    buf_clean_up(&b);

    /* Nothing appended yet and too big: data stays NULL. */
    buf_init(&b, 4);
    CHECK(buf_append_str(&b, "hello") == -1);
    CHECK(b.data == NULL && b.len == 0 && b.cap == 0);
    CHECK(buf_appendf(&b, "%s", "hello") == -1);
    CHECK(b.data == NULL && b.len == 0);
    buf_clean_up(&b);
}

static void test_appendf(void)
{
    struct buf b;
    buf_init(&b, 0);
    CHECK(buf_appendf(&b, "%s=%d", "a", 1) == 0);
    CHECK(buf_appendf(&b, "&%s=%lld", "b", -9223372036854775807LL - 1) == 0);
    CHECK(buf_appendf(&b, "&%.3s", "abcdef") == 0);
    CHECK(buf_appendf(&b, "%c", 'Z') == 0);
    CHECK_STR(b.data, "a=1&b=-9223372036854775808&abcZ");
    CHECK_EQ(b.len, strlen("a=1&b=-9223372036854775808&abcZ"));

    /* Output longer than the current capacity (forces growth inside). */
    char big[1000];
    memset(big, 'q', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    size_t before = b.len;
    CHECK(buf_appendf(&b, "[%s]", big) == 0);
    CHECK(b.len == before + 1001);
    CHECK(b.data[before] == '[' && b.data[b.len - 1] == ']' && b.data[b.len] == '\0');
    buf_clean_up(&b);
}

static void test_detach(void)
{
    struct buf b;
    buf_init(&b, 100);
    CHECK(buf_append_str(&b, "payload") == 0);
    char *p = buf_detach(&b);
    CHECK_STR(p, "payload");
    CHECK(b.data == NULL && b.len == 0 && b.cap == 0);
    CHECK(b.max_len == 100);
    free(p);

    /* Detaching an empty buffer yields "" that the caller frees. */
    p = buf_detach(&b);
    CHECK(p != NULL);
    CHECK_STR(p, "");
    free(p);

    /* Reusable afterwards. */
    CHECK(buf_append_str(&b, "again") == 0);
    CHECK_STR(b.data, "again");
    buf_clean_up(&b);
}

static void test_secure_clean_up(void)
{
    struct buf b;
    buf_init(&b, 0);
    CHECK(buf_append_str(&b, "AKIA-secret-material") == 0);
    buf_reset(&b);
    CHECK(b.len == 0 && b.data && b.data[0] == '\0');
    CHECK(buf_append_str(&b, "wJalrXUtnFEMI/K7MDENG") == 0);
    /* Wiping is not observable without reading freed memory; what we can
     * check is that it releases and resets like buf_clean_up, handles an
     * empty buffer and can run twice. */
    buf_clean_up_secure(&b);
    CHECK(b.data == NULL && b.len == 0 && b.cap == 0);
    buf_clean_up_secure(&b);
    CHECK(b.data == NULL);

    struct buf e;
    buf_init(&e, 0);
    buf_clean_up_secure(&e);
    CHECK(e.data == NULL && e.len == 0 && e.cap == 0);
}

/* A secret buffer grows by moving (no realloc leaving a copy behind) and
 * keeps its bytes; clean-up leaves it empty. */
static void test_secret(void)
{
    struct buf b;
    buf_init_secret(&b, 0);
    CHECK(b.secret == 1);
    char want[1000];
    for (size_t i = 0; i < sizeof(want) - 1; i++) {
        want[i] = (char)('a' + i % 26);
        CHECK(buf_append_char(&b, want[i]) == 0);
    }
    want[sizeof(want) - 1] = '\0';
    CHECK_STR(b.data, want);
    CHECK(b.len == sizeof(want) - 1 && b.cap >= b.len + 1);
    buf_clean_up(&b);
    CHECK(b.data == NULL && b.len == 0 && b.cap == 0);
    buf_init(&b, 0);
    CHECK(b.secret == 0);
}

int main(void)
{
    test_init_and_empty();
    test_secret();
    test_growth();
    test_max_len();
    test_appendf();
    test_detach();
    test_secure_clean_up();
    return TEST_EXIT();
}
