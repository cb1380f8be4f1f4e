/*
 * page_token_fuzz - page_token_decode on attacker text (the nextToken a
 * client sends), and the encode/decode round trip on attacker-chosen
 * cursors.
 *
 * Input: byte 0 picks the binding ("tenant-a" or "tenant-b"); the rest is
 * both the token text and the cursor to encode.
 *
 * Invariants: decode of arbitrary text either fails cleanly or yields a
 * cursor within PAGE_TOKEN_CURSOR_MAX and a future expiry, and re-encoding
 * what it yielded decodes back to the same cursor and position; any cursor
 * that encodes (within PAGE_TOKEN_CURSOR_MAX) decodes back to itself under
 * its binding, to PAGE_TOKEN_BAD_MAC under the other binding, and to
 * PAGE_TOKEN_EXPIRED after its lifetime; a token is never longer than
 * PAGE_TOKEN_TEXT_MAX.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "page_token.h"

#define S_NOW 1800000000LL

static struct page_token_keys s_keys;

static void s_init(void)
{
    if (s_keys.secret_len)
        return;
    memset(s_keys.secret, 0x5a, 48);
    s_keys.secret_len = 48;
    memset(s_keys.previous, 0x3c, 40);
    s_keys.previous_len = 40;
    s_keys.ttl_s = 600;
}

static void s_round_trip(const char *binding, const char *other, const char *cursor,
                         uint32_t position)
{
    char *text = NULL;
    enum page_token_status st = page_token_encode(&s_keys, binding, cursor, position, S_NOW, &text);
    if (st != PAGE_TOKEN_OK) {
        FUZZ_CHECK(st == PAGE_TOKEN_TOO_LONG || st == PAGE_TOKEN_NOMEM);
        FUZZ_CHECK(st != PAGE_TOKEN_TOO_LONG || (cursor && strlen(cursor) > PAGE_TOKEN_CURSOR_MAX));
        return;
    }
    FUZZ_CHECK(strlen(text) <= PAGE_TOKEN_TEXT_MAX);
    struct page_token t = {0};
    FUZZ_CHECK(page_token_decode(&s_keys, binding, text, S_NOW + 1, &t) == PAGE_TOKEN_OK);
    FUZZ_CHECK(t.position == position);
    FUZZ_CHECK((cursor && *cursor) ? (t.cursor && strcmp(t.cursor, cursor) == 0) : !t.cursor);
    page_token_clean_up(&t);
    FUZZ_CHECK(page_token_decode(&s_keys, other, text, S_NOW + 1, &t) == PAGE_TOKEN_BAD_MAC);
    FUZZ_CHECK(page_token_decode(&s_keys, binding, text, S_NOW + 601, &t) == PAGE_TOKEN_EXPIRED);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    s_init();
    if (size < 1)
        return 0;
    const char *binding = (data[0] & 1) ? "tenant-a|f=1" : "tenant-b|f=2";
    const char *other = (data[0] & 1) ? "tenant-b|f=2" : "tenant-a|f=1";
    char *s = fuzz_strndup(data + 1, size - 1);
    struct page_token t = {0};
    enum page_token_status st = page_token_decode(&s_keys, binding, s, S_NOW, &t);
    if (st == PAGE_TOKEN_OK) {
        FUZZ_CHECK(!t.cursor || strlen(t.cursor) <= PAGE_TOKEN_CURSOR_MAX);
        FUZZ_CHECK(t.expires_s > S_NOW);
        s_round_trip(binding, other, t.cursor, t.position);
    } else {
        FUZZ_CHECK(st == PAGE_TOKEN_MALFORMED || st == PAGE_TOKEN_BAD_MAC ||
                   st == PAGE_TOKEN_EXPIRED || st == PAGE_TOKEN_NOMEM);
    }
    page_token_clean_up(&t);
    s_round_trip(binding, other, s, (uint32_t)size * 2654435761u);
    free(s);
    return 0;
}
