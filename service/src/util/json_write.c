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

int json_write_string(struct buf *b, const char *s)
{
    size_t len = strlen(s);
    if (!json_write_utf8_ok(s, len))
        return -1;
    static const char hex[] = "0123456789ABCDEF";
    int rc = buf_append_fast(b, "\"", 1);
    const char *run = s, *end = s + len;
    for (const char *p = s; p < end; p++) {
        unsigned char c = (unsigned char)*p;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        rc |= buf_append_fast(b, run, (size_t)(p - run));
        run = p + 1;
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t n = 2;
        switch (c) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
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
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            n = 6;
        }
        rc |= buf_append_fast(b, esc, n);
    }
    rc |= buf_append_fast(b, run, (size_t)(end - run));
    rc |= buf_append_fast(b, "\"", 1);
    return rc ? -1 : 0;
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
    if (!json_write_utf8_ok(value, strlen(value)))
        return -1;
    return s_member(b, first, key) | json_write_string(b, value);
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
