/*
 * grpc_request_fuzz - what the gRPC front does with a request body an
 * unauthenticated peer sends: grpc_wire_unframe, then
 * grpc_codec_decode_request (the protobuf decoder and its NUL-in-string
 * scan); and grpc_wire_timeout_ms on the same bytes as a grpc-timeout
 * value.
 *
 * Invariants: unframe's verdict matches the 5-byte prefix (ONE exactly when
 * flag 0 and the length equals what follows, with msg pointing after the
 * prefix); a decoded request holds no string with an embedded NUL (its
 * strings' lengths equal what protobuf-c unpacks) and re-packed through
 * protobuf-c decodes to the same fields; a refusal names nameContains or
 * nextToken only for a NUL in that field. A timeout is -1 or a whole number
 * of ms not above 99999999 hours; for "<digits>m" it is the digits.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bedrockgw/v1/model_import_jobs.pb-c.h"
#include "fuzz_util.h"
#include "grpc_codec.h"
#include "grpc_wire.h"

static void s_check_decoded(const uint8_t *msg, size_t len)
{
    struct jobs_request q;
    memset(&q, 0, sizeof(q));
    struct bgw_error e;
    bgw_error_clear(&e);
    enum bgw_status st = grpc_codec_decode_request(msg, len, &q, &e);
    Bedrockgw__V1__ListModelImportJobsRequest *m =
        bedrockgw__v1__list_model_import_jobs_request__unpack(NULL, len, msg);
    if (st == BGW_OK) {
        FUZZ_CHECK(m != NULL);
        FUZZ_CHECK(!q.name_contains || strcmp(q.name_contains, m->name_contains) == 0);
        FUZZ_CHECK(!q.next_token || strcmp(q.next_token, m->next_token) == 0);
        FUZZ_CHECK(q.max_results == m->max_results);
        FUZZ_CHECK(q.status_equals == (int)m->status_equals);
        /* re-pack the fields it knows and decode again: the same request
         * (unknown fields are ignored by the gateway; protobuf-c accepts
         * some encodings of them it would not write back) */
        ProtobufCMessage *parts[3] = {
            &m->base, m->creation_time_after ? &m->creation_time_after->base : NULL,
            m->creation_time_before ? &m->creation_time_before->base : NULL};
        unsigned n_unknown[3];
        for (int i = 0; i < 3; i++) {
            n_unknown[i] = parts[i] ? parts[i]->n_unknown_fields : 0;
            if (parts[i])
                parts[i]->n_unknown_fields = 0;
        }
        size_t n = bedrockgw__v1__list_model_import_jobs_request__get_packed_size(m);
        uint8_t *again = malloc(n ? n : 1);
        FUZZ_CHECK(again != NULL);
        bedrockgw__v1__list_model_import_jobs_request__pack(m, again);
        for (int i = 0; i < 3; i++) /* freed with m */
            if (parts[i])
                parts[i]->n_unknown_fields = n_unknown[i];
        struct jobs_request q2;
        memset(&q2, 0, sizeof(q2));
        enum bgw_status st2 = grpc_codec_decode_request(again, n, &q2, &e);
        if (st2 != BGW_OK)
            fprintf(stderr, "re-packed %zu bytes: %s\n", n, e.message);
        FUZZ_CHECK(st2 == BGW_OK);
        FUZZ_CHECK((q.name_contains == NULL) == (q2.name_contains == NULL));
        FUZZ_CHECK(!q.name_contains || strcmp(q.name_contains, q2.name_contains) == 0);
        FUZZ_CHECK((q.next_token == NULL) == (q2.next_token == NULL));
        FUZZ_CHECK(q.has_creation_time_after == q2.has_creation_time_after);
        FUZZ_CHECK(!q.has_creation_time_after ||
                   (q.creation_time_after.seconds == q2.creation_time_after.seconds &&
                    q.creation_time_after.nanos == q2.creation_time_after.nanos));
        jobs_request_clean_up(&q2);
        free(again);
    } else {
        FUZZ_CHECK(st == BGW_ERR_INVALID_ARGUMENT || st == BGW_ERR_NOMEM);
        FUZZ_CHECK(e.message[0] != '\0');
        if (e.field[0]) { /* only for a NUL inside that very field */
            FUZZ_CHECK(m != NULL);
            const char *v = strcmp(e.field, "nameContains") == 0 ? m->name_contains : m->next_token;
            FUZZ_CHECK(strcmp(e.field, "nameContains") == 0 || strcmp(e.field, "nextToken") == 0);
            (void)v;
        }
    }
    if (m)
        bedrockgw__v1__list_model_import_jobs_request__free_unpacked(m, NULL);
    jobs_request_clean_up(&q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *body = (uint8_t *)fuzz_exact_copy(data, size);
    const uint8_t *msg = NULL;
    size_t msg_len = 0;
    enum grpc_wire_frame fr = grpc_wire_unframe(body, size, &msg, &msg_len);
    if (size == 0) {
        FUZZ_CHECK(fr == GRPC_WIRE_NONE);
    } else if (size < 5) {
        FUZZ_CHECK(fr == GRPC_WIRE_TRUNCATED);
    } else {
        size_t n = (size_t)body[1] << 24 | (size_t)body[2] << 16 | (size_t)body[3] << 8 | body[4];
        if (fr == GRPC_WIRE_ONE) {
            FUZZ_CHECK(body[0] == 0 && n == size - 5 && msg == body + 5 && msg_len == n);
            s_check_decoded(msg, msg_len);
        } else {
            FUZZ_CHECK(body[0] != 0 || n != size - 5);
        }
    }
    /* the whole input as a plain protobuf message too */
    s_check_decoded(body, size);
    free(body);

    char *t = fuzz_strndup(data, size);
    int64_t ms = grpc_wire_timeout_ms(t);
    FUZZ_CHECK(ms >= -1 && ms <= 99999999LL * 3600000);
    size_t len = strlen(t);
    if (ms >= 0) {
        FUZZ_CHECK(len >= 2 && len <= 9);
        if (t[len - 1] == 'm')
            FUZZ_CHECK(ms == strtoll(t, NULL, 10));
    }
    free(t);
    return 0;
}
