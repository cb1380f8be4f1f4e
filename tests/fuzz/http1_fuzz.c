/*
 * http1_fuzz - libFuzzer target for the REST request-head parser (http1.h):
 * http1_head_length and http1_parse on arbitrary bytes.
 *
 * Invariants: the head length found at once equals the one found when the
 * input arrives in two pieces (resumed scan); a parsed head's pointers all
 * lie inside the head; header names are non-empty tokens and values hold
 * no NUL/CR/LF and no surrounding blanks; the path is "*" or starts with
 * '/'; at most HTTP1_MAX_HEADERS fields; keep_alive only on success; every
 * result maps to an HTTP status. Parsing is deterministic (a second copy
 * gives the same answer).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "http1.h"

static bool s_inside(const char *p, const char *base, size_t len)
{
    return p >= base && p <= base + len;
}

static bool s_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    size_t scan = 0;
    size_t whole = http1_head_length(text, size, &scan);
    FUZZ_CHECK(whole <= size);
    if (size > 1) {
        size_t split = (size_t)data[0] % size;
        size_t s2 = 0;
        size_t first = http1_head_length(text, split, &s2);
        size_t again = first ? first : http1_head_length(text, size, &s2);
        FUZZ_CHECK(again == whole);
    }
    size_t len = whole ? whole : size; /* incomplete heads are parsed too (the 431 path) */
    char *a = malloc(len + 1);
    char *b = malloc(len + 1);
    FUZZ_CHECK(a && b);
    if (len)
        memcpy(a, data, len);
    if (len)
        memcpy(b, data, len);
    struct http1_request *r = malloc(sizeof(*r));
    struct http1_request *r2 = malloc(sizeof(*r2));
    FUZZ_CHECK(r && r2);
    enum http1_result res = http1_parse(a, len, r);
    enum http1_result res2 = http1_parse(b, len, r2);
    FUZZ_CHECK(res == res2);
    FUZZ_CHECK(http1_result_status(res) >= 200 && http1_result_status(res) <= 505);
    FUZZ_CHECK(http1_result_str(res)[0] != '\0');
    FUZZ_CHECK(r->n_headers <= HTTP1_MAX_HEADERS);
    if (res == HTTP1_OK) {
        FUZZ_CHECK(whole != 0);
        FUZZ_CHECK(r->method != HTTP1_M_OTHER);
        FUZZ_CHECK(r->minor == 0 || r->minor == 1);
        FUZZ_CHECK(s_inside(r->path, a, len));
        FUZZ_CHECK(r->path[0] == '/' || strcmp(r->path, "*") == 0);
        FUZZ_CHECK(!r->query || s_inside(r->query, a, len));
        FUZZ_CHECK(strcmp(r->path, r2->path) == 0);
        for (size_t i = 0; i < r->n_headers; i++) {
            const struct http1_header *h = &r->headers[i];
            FUZZ_CHECK(s_inside(h->name, a, len) && s_inside(h->value, a, len));
            FUZZ_CHECK(h->name_len > 0 && strlen(h->name) == h->name_len);
            FUZZ_CHECK(strlen(h->value) == h->value_len);
            for (size_t k = 0; k < h->name_len; k++)
                FUZZ_CHECK(s_tchar((unsigned char)h->name[k]));
            FUZZ_CHECK(!strpbrk(h->value, "\r\n"));
            if (h->value_len) {
                FUZZ_CHECK(h->value[0] != ' ' && h->value[0] != '\t');
                FUZZ_CHECK(h->value[h->value_len - 1] != ' ' && h->value[h->value_len - 1] != '\t');
            }
            FUZZ_CHECK(http1_header(r, h->name) != NULL);
        }
        if (r->minor == 0 && r->keep_alive)
            FUZZ_CHECK(http1_header(r, "connection") != NULL);
    } else {
        FUZZ_CHECK(!r->keep_alive);
    }
    free(a);
    free(b);
    free(r);
    free(r2);
    return 0;
}
