/*
 * reflection_request_fuzz - what server reflection does with the request
 * messages an unauthenticated peer streams: grpc_reflection_answer over the
 * descriptor set compiled into the gateway, several questions on one
 * stream (the input split at 0xFF bytes, sharing one `sent` set).
 *
 * Invariants: an answer is 0 with a ServerReflectionResponse that protobuf-c
 * decodes, echoing the request's question, or -1 with nothing appended; a
 * file answer's first file is never empty.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "grpc/reflection/v1/reflection.pb-c.h"
#include "grpc_reflection.h"

extern const unsigned char bgw_descriptor_set_bytes[];
extern const size_t bgw_descriptor_set_len;

static struct grpc_reflection *s_r;

static void s_one(const uint8_t *req, size_t len, struct grpc_reflection_sent *sent)
{
    struct buf out;
    buf_init(&out, 0);
    int rc = grpc_reflection_answer(s_r, req, len, sent, &out);
    if (rc != 0) {
        if (out.len != 0)
            abort();
        buf_clean_up(&out);
        return;
    }
    Grpc__Reflection__V1__ServerReflectionResponse *a =
        grpc__reflection__v1__server_reflection_response__unpack(NULL, out.len,
                                                                 (uint8_t *)out.data);
    Grpc__Reflection__V1__ServerReflectionRequest *q =
        grpc__reflection__v1__server_reflection_request__unpack(NULL, len, req);
    if (!a || !q || !a->original_request ||
        a->original_request->message_request_case != q->message_request_case)
        abort();
    if (a->message_response_case ==
            GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_FILE_DESCRIPTOR_RESPONSE &&
        (a->file_descriptor_response->n_file_descriptor_proto == 0 ||
         a->file_descriptor_response->file_descriptor_proto[0].len == 0))
        abort();
    grpc__reflection__v1__server_reflection_request__free_unpacked(q, NULL);
    grpc__reflection__v1__server_reflection_response__free_unpacked(a, NULL);
    buf_clean_up(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!s_r) {
        struct buf err;
        buf_init(&err, 0);
        s_r = grpc_reflection_new(bgw_descriptor_set_bytes, bgw_descriptor_set_len, &err);
        if (!s_r)
            abort();
        buf_clean_up(&err);
    }
    struct grpc_reflection_sent sent = {0};
    size_t start = 0;
    for (size_t i = 0; i <= size; i++) {
        if (i == size || data[i] == 0xff) {
            uint8_t *copy = malloc(i - start + 1); /* exact-size heap copy for ASan */
            memcpy(copy, data + start, i - start);
            s_one(copy, i - start, &sent);
            free(copy);
            start = i + 1;
        }
    }
    return 0;
}
