/*
 * fuzz_util - small helpers shared by the libFuzzer targets in tests/fuzz/.
 *
 * FUZZ_CHECK is an invariant check that survives NDEBUG (the fuzz build may
 * be RelWithDebInfo): on failure it prints the condition and aborts, which
 * libFuzzer reports as a crash and saves the input. Everything here is
 * static inline and keeps no state between inputs.
 */
#ifndef BGW_FUZZ_UTIL_H
#define BGW_FUZZ_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* A heap copy of data[0..size) with a NUL appended (so a C-string API sees
 * the input up to its first NUL byte). Aborts when memory runs out. */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    FUZZ_CHECK(s != NULL);
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* An exact-size heap copy of data[0..size) (no terminator: reads past the
 * end are ASan reports), at least one byte allocated. */
static inline char *fuzz_exact_copy(const uint8_t *data, size_t size)
{
    char *s = malloc(size ? size : 1);
    FUZZ_CHECK(s != NULL);
    if (size)
        memcpy(s, data, size);
    return s;
}

/* An exact-size output buffer of len bytes, filled with 'x' (so a missing
 * terminator shows). */
static inline char *fuzz_out_buffer(size_t len)
{
    char *s = malloc(len);
    FUZZ_CHECK(s != NULL);
    memset(s, 'x', len);
    return s;
}

/* True when s[0..len) is well-formed UTF-8 (no overlongs, no surrogates,
 * nothing above U+10FFFF). */
static inline bool fuzz_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned char c = p[i];
        size_t n;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (len - i <= n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n + 1;
    }
    return true;
}

/* True when arr (cap bytes) holds a NUL, i.e. is a terminated string. */
static inline bool fuzz_terminated(const char *arr, size_t cap)
{
    return memchr(arr, '\0', cap) != NULL;
}

/* True when every byte of s is printable ASCII (0x20..0x7e). */
static inline bool fuzz_printable_ascii(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return false;
    }
    return true;
}

#endif
