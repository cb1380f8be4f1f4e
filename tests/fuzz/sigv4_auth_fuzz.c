/*
 * sigv4_auth_fuzz - libFuzzer target for sigv4_parse_authorization, the
 * gateway's (and the emulator's) parser of a hostile Authorization header
 * value (sigv4_verify.h).
 *
 * Input: the header value. Inputs shorter than the parser's storage are
 * passed NUL-terminated; longer ones with no NUL in the first
 * sizeof(storage) bytes are passed as the raw, unterminated libFuzzer
 * buffer, which checks the promise "reads at most sizeof(storage) bytes".
 *
 * Invariants: failure leaves every field NULL. Success: every field is
 * non-NULL and lies, terminator included, inside out.storage; the date is
 * 8 digits, the terminator "aws4_request", the signature 64 lower-case hex
 * digits; and the shortest re-serialization of the fields parses again to
 * the same fields (the parser is a fixed point on its own output).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "sigv4_verify.h"

static void s_check_field(const struct sigv4_auth_header *h, const char *f)
{
    FUZZ_CHECK(f != NULL);
    FUZZ_CHECK(f >= h->storage && f < h->storage + sizeof(h->storage));
    size_t room = sizeof(h->storage) - (size_t)(f - h->storage);
    FUZZ_CHECK(memchr(f, '\0', room) != NULL);
}

static void s_check_ok(const struct sigv4_auth_header *h)
{
    const char *fields[7] = {h->access_key_id, h->date,           h->region,   h->service,
                             h->terminator,    h->signed_headers, h->signature};
    for (int i = 0; i < 7; i++)
        s_check_field(h, fields[i]);
    FUZZ_CHECK(h->access_key_id[0] && h->region[0] && h->service[0] && h->signed_headers[0]);
    FUZZ_CHECK(strlen(h->date) == 8 && strspn(h->date, "0123456789") == 8);
    FUZZ_CHECK(strcmp(h->terminator, "aws4_request") == 0);
    FUZZ_CHECK(strlen(h->signature) == 64 && strspn(h->signature, "0123456789abcdef") == 64);
}

static void s_check_failed(const struct sigv4_auth_header *h)
{
    FUZZ_CHECK(!h->access_key_id && !h->date && !h->region && !h->service && !h->terminator &&
               !h->signed_headers && !h->signature);
}

/* Rebuilds the canonical header from h and parses it again. */
static void s_check_round_trip(const struct sigv4_auth_header *h)
{
    struct sigv4_auth_header *again = malloc(sizeof(*again));
    char *text = malloc(sizeof(h->storage) + 64);
    FUZZ_CHECK(again && text);
    int n = snprintf(text, sizeof(h->storage) + 64,
                     "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/%s,SignedHeaders=%s,Signature=%s",
                     h->access_key_id, h->date, h->region, h->service, h->terminator,
                     h->signed_headers, h->signature);
    FUZZ_CHECK(n > 0);
    /* This shortest form (',' without the optional space) is never longer
     * than the input that produced it, so it must fit the storage too. */
    FUZZ_CHECK((size_t)n < sizeof(h->storage));
    FUZZ_CHECK(sigv4_parse_authorization(text, again) == 0);
    s_check_ok(again);
    FUZZ_CHECK(strcmp(again->access_key_id, h->access_key_id) == 0);
    FUZZ_CHECK(strcmp(again->date, h->date) == 0);
    FUZZ_CHECK(strcmp(again->region, h->region) == 0);
    FUZZ_CHECK(strcmp(again->service, h->service) == 0);
    FUZZ_CHECK(strcmp(again->signed_headers, h->signed_headers) == 0);
    FUZZ_CHECK(strcmp(again->signature, h->signature) == 0);
    free(text);
    free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sigv4_auth_header *h = malloc(sizeof(*h));
    FUZZ_CHECK(h != NULL);
    char *copy = NULL;
    const char *value;
    if (size >= sizeof(h->storage) && !memchr(data, '\0', sizeof(h->storage))) {
        value = (const char *)data; /* unterminated on purpose */
    } else {
        copy = fuzz_strndup(data, size);
        value = copy;
    }

    if (sigv4_parse_authorization(value, h) == 0) {
        s_check_ok(h);
        s_check_round_trip(h);
    } else {
        s_check_failed(h);
    }
    free(copy);
    free(h);
    return 0;
}
