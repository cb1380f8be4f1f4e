/*
 * fake_query_fuzz - libFuzzer target for the Bedrock emulator's decoders:
 * the raw query splitter (query_parse, query_decode, query_get in
 * tests/fake_bedrock/query.h) and the pagination token decoder
 * (api_token_decode in tests/fake_bedrock/api.h).
 *
 * Input: a raw query string (exactly size bytes; query_parse takes a
 * length). The same bytes, NUL-terminated, are also decoded as a token, and
 * so is the nextToken value the split query yields, which is what the
 * emulator does with a request.
 *
 * Invariants: query_parse returns 0 with at most max_params non-NULL pairs
 * (each no longer than the input), or -1 with nothing allocated;
 * query_get finds the first pair of a name; query_decode never grows its
 * input. A token that decodes names a cursor in range whose arn fits the
 * storage given, and re-encoding the cursor decodes to the same cursor.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "dataset.h"
#include "fuzz_util.h"
#include "query.h"
#include "sigv4.h"

#define S_MAX_PARAMS 64 /* FAKE_MAX_QUERY_PARAMS */
#define S_ARN_MAX 512   /* the emulator's arn storage */

/* The hash api.c binds tokens to for a request without filters in the
 * default (descending) order, so real emulator tokens are valid seeds. */
static void s_default_hash(char out[17])
{
    static const char canon[] = "a=-0.000000000|b=-0.000000000|s=|n=|o=D";
    char hex[65];
    sigv4_sha256_hex(canon, strlen(canon), hex);
    memcpy(out, hex, 16);
    out[16] = '\0';
}

static void s_check_token(const char *token, const char *hash)
{
    struct dataset_cursor c;
    char arn[S_ARN_MAX];
    memset(&c, 0, sizeof(c));
    if (api_token_decode(token, hash, &c, arn, sizeof(arn)) != 0)
        return;
    if (c.at_start) {
        FUZZ_CHECK(c.arn == NULL);
    } else {
        FUZZ_CHECK(c.arn == arn && strlen(arn) < sizeof(arn) && arn[0] != '\0');
        FUZZ_CHECK(strchr(arn, '|') == NULL);
        FUZZ_CHECK(c.created.nanos >= 0 && c.created.nanos <= 999999999);
        FUZZ_CHECK(c.created.seconds >= -62135596800LL && c.created.seconds <= 253402300799LL);
    }

    char again_text[4096];
    FUZZ_CHECK(api_token_encode(hash, &c, again_text, sizeof(again_text)) == 0);
    struct dataset_cursor again;
    char again_arn[S_ARN_MAX];
    memset(&again, 0, sizeof(again));
    FUZZ_CHECK(api_token_decode(again_text, hash, &again, again_arn, sizeof(again_arn)) == 0);
    FUZZ_CHECK(again.at_start == c.at_start);
    if (!c.at_start) {
        FUZZ_CHECK(again.created.seconds == c.created.seconds);
        FUZZ_CHECK(again.created.nanos == c.created.nanos);
        FUZZ_CHECK(strcmp(again.arn, c.arn) == 0);
    }
    /* Bound to the hash: another hash must not accept it. */
    FUZZ_CHECK(api_token_decode(again_text, "0000000000000000", &again, again_arn,
                                sizeof(again_arn)) != 0 ||
               strcmp(hash, "0000000000000000") == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *raw = (const char *)data;
    char hash[17];
    s_default_hash(hash);

    struct query_params q;
    if (query_parse(raw, size, S_MAX_PARAMS, &q) == 0) {
        FUZZ_CHECK(q.n <= S_MAX_PARAMS);
        FUZZ_CHECK(q.n == 0 || q.items != NULL);
        for (size_t i = 0; i < q.n; i++) {
            FUZZ_CHECK(q.items[i].name && q.items[i].value);
            FUZZ_CHECK(strlen(q.items[i].name) + strlen(q.items[i].value) <= size);
            const char *first = query_get(&q, q.items[i].name);
            FUZZ_CHECK(first != NULL);
            size_t k = 0;
            while (strcmp(q.items[k].name, q.items[i].name) != 0)
                k++;
            FUZZ_CHECK(first == q.items[k].value);
        }
        const char *token = query_get(&q, "nextToken");
        if (token)
            s_check_token(token, hash);
        query_params_clean_up(&q);
    } else {
        FUZZ_CHECK(q.items == NULL && q.n == 0);
    }

    char *decoded = query_decode(raw, size);
    FUZZ_CHECK(decoded != NULL && strlen(decoded) <= size);
    if (!memchr(raw, '%', size))
        FUZZ_CHECK(strncmp(decoded, raw, size) == 0);
    free(decoded);

    char *token = fuzz_strndup(data, size);
    s_check_token(token, hash);
    free(token);
    return 0;
}
