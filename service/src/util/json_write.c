/*
 * json_write - JSON text straight into a buf. See json_write.h.
 */
#include "json_write.h"

#include <stdint.h>
#include <string.h>

bool json_write_utf8_ok(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str, *end = s + len;
    while (s < end) {
        unsigned char c = *s;
        if (c < 0x80) {
            s++;
            continue;
        }
        size_t n;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 2;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 3;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
        if ((size_t)(end - s) < n)
            return false;
        for (size_t i = 1; i < n; i++) {
            if ((s[i] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (s[i] & 0x3F);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        s += n;
    }
    return true;
}

size_t json_write_utf8_put(char out[4], uint32_t cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18 & 0x07));
    out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

int json_write_end(struct buf *out, size_t start, int rc)
{
    if (!rc)
        return 0;
    out->len = start;
    if (out->data)
        out->data[start] = '\0';
    return -1;
}

/* Non-zero when one of the eight bytes of w may need escaping (< 0x20, '"',
 * '\\'); zero means none does. The usual "has a zero byte" test: a borrow
 * can flag a byte after a real match, never a chunk without one. */
static inline uint64_t s_esc_mask(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ull;
    const uint64_t highs = 0x8080808080808080ull;
    uint64_t q = w ^ (ones * (unsigned char)'"');
    uint64_t bs = w ^ (ones * (unsigned char)'\\');
    return (((w - ones * 0x20) & ~w) | ((q - ones) & ~q) | ((bs - ones) & ~bs)) & highs;
}

int json_write_escaped(struct buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    if (buf_append_fast(b, "\"", 1) != 0)
        return -1;
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        while (i + 8 <= n) { /* skip clean 8-byte chunks */
            uint64_t w;
            memcpy(&w, s + i, sizeof(w));
            if (s_esc_mask(w))
                break;
            i += 8;
        }
        if (i >= n)
            break;
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        if (buf_append_fast(b, s + run, i - run) != 0)
            return -1;
        run = i + 1;
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t len = 2;
        switch (c) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            len = 6;
        }
        if (buf_append_fast(b, esc, len) != 0)
            return -1;
    }
    if (buf_append_fast(b, s + run, n - run) != 0)
        return -1;
    return buf_append_fast(b, "\"", 1);
}

int json_write_string(struct buf *b, const char *s)
{
    size_t len = strlen(s);
    if (!json_write_utf8_ok(s, len))
        return -1;
    return json_write_escaped(b, s, len);
}

int json_write_key(struct buf *b, const char *key)
{
    int rc = buf_append_fast(b, "\"", 1);
    rc |= buf_append_fast(b, key, strlen(key));
    rc |= buf_append_fast(b, "\":", 2);
    return rc ? -1 : 0;
}

static int s_member(struct buf *b, bool *first, const char *key)
{
    int rc = *first ? 0 : buf_append_fast(b, ",", 1);
    *first = false;
    return rc | json_write_key(b, key);
}

int json_write_member_str(struct buf *b, bool *first, const char *key, const char *value,
                          bool omit_empty)
{
    if (!value || (omit_empty && !*value))
        return 0;
    size_t len = strlen(value);
    if (!json_write_utf8_ok(value, len)) /* checked before the key goes out */
        return -1;
    return s_member(b, first, key) | json_write_escaped(b, value, len);
}

int json_write_member_time(struct buf *b, bool *first, const char *key, bool has, struct bgw_time t)
{
    if (!has)
        return 0;
    char text[TIMEUTIL_FMT_MAX + 2];
    text[0] = '"';
    int n = timeutil_format_rfc3339(t, text + 1, sizeof(text) - 2);
    if (n < 0)
        return -1;
    text[n + 1] = '"';
    return s_member(b, first, key) | buf_append_fast(b, text, (size_t)n + 2);
}
