/*
 * grpc_reflection_test - the index over the descriptor set compiled into
 * the gateway: its services; answers decoded back with protobuf-c (list,
 * files with imports once per stream, every kind of symbol, extensions,
 * errors in the answer); requests cut short or not protobuf refused; sets
 * that are not sets, or miss an import, refused with a reason.
 */
#include <stdlib.h>
#include <string.h>

#include "google/protobuf/descriptor.pb-c.h"
#include "grpc/reflection/v1/reflection.pb-c.h"
#include "grpc_reflection.h"
#include "test_util.h"

extern const unsigned char bgw_descriptor_set_bytes[];
extern const size_t bgw_descriptor_set_len;

typedef Grpc__Reflection__V1__ServerReflectionRequest Req;
typedef Grpc__Reflection__V1__ServerReflectionResponse Resp;

/* Asks q; the decoded answer (NULL when refused). */
static Resp *s_ask(const struct grpc_reflection *r, Req *q, struct grpc_reflection_sent *sent)
{
    size_t n = grpc__reflection__v1__server_reflection_request__get_packed_size(q);
    uint8_t *b = malloc(n + 1);
    grpc__reflection__v1__server_reflection_request__pack(q, b);
    struct buf out;
    buf_init(&out, 0);
    Resp *a = NULL;
    if (grpc_reflection_answer(r, b, n, sent, &out) == 0)
        a = grpc__reflection__v1__server_reflection_response__unpack(NULL, out.len,
                                                                     (uint8_t *)out.data);
    buf_clean_up(&out);
    free(b);
    return a;
}

static const char *s_file_name(const Resp *a, size_t i)
{
    static char name[256];
    Google__Protobuf__FileDescriptorProto *f = google__protobuf__file_descriptor_proto__unpack(
        NULL, a->file_descriptor_response->file_descriptor_proto[i].len,
        a->file_descriptor_response->file_descriptor_proto[i].data);
    snprintf(name, sizeof(name), "%s", f && f->name ? f->name : "?");
    google__protobuf__file_descriptor_proto__free_unpacked(f, NULL);
    return name;
}

#define S_FILES                                                                                    \
    GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_FILE_DESCRIPTOR_RESPONSE
#define S_ERROR GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ERROR_RESPONSE

static Resp *s_symbol(const struct grpc_reflection *r, const char *sym,
                      struct grpc_reflection_sent *sent)
{
    Req q = GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__INIT;
    q.message_request_case =
        GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_SYMBOL;
    q.file_containing_symbol = (char *)sym;
    return s_ask(r, &q, sent);
}

static void test_services_and_list(const struct grpc_reflection *r)
{
    CHECK(grpc_reflection_service_count(r) == 4);
    CHECK_STR(grpc_reflection_service(r, 0), "bedrockgw.v1.ModelImportJobs");
    CHECK(grpc_reflection_service(r, 4) == NULL);
    struct grpc_reflection_sent sent = {0};
    Req q = GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__INIT;
    q.host = "h";
    q.message_request_case =
        GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_LIST_SERVICES;
    q.list_services = "";
    Resp *a = s_ask(r, &q, &sent);
    if (CHECK(a && a->list_services_response && a->list_services_response->n_service == 4)) {
        CHECK_STR(a->valid_host, "h");
        CHECK(a->original_request &&
              a->original_request->message_request_case == q.message_request_case);
        CHECK_STR(a->list_services_response->service[3]->name,
                  "grpc.reflection.v1alpha.ServerReflection");
    }
    grpc__reflection__v1__server_reflection_response__free_unpacked(a, NULL);
}

static void test_symbols_and_sent_once(const struct grpc_reflection *r)
{
    struct grpc_reflection_sent sent = {0};
    Resp *a = s_symbol(r, "bedrockgw.v1.ListModelImportJobsRequest.next_token", &sent);
    if (CHECK(a && a->message_response_case == S_FILES &&
              a->file_descriptor_response->n_file_descriptor_proto == 5))
        CHECK_STR(s_file_name(a, 0), "bedrockgw/v1/model_import_jobs.proto");
    grpc__reflection__v1__server_reflection_response__free_unpacked(a, NULL);
    /* the imports went already: timestamp alone, the contract alone */
    const char *again[][2] = {
        {"google.protobuf.Timestamp", "google/protobuf/timestamp.proto"},
        {"bedrockgw.v1.ModelImportJobs.ListModelImportJobs",
         "bedrockgw/v1/model_import_jobs.proto"},
        {".bedrockgw.v1.MODEL_IMPORT_JOB_STATUS_FAILED", "bedrockgw/v1/model_import_jobs.proto"},
        /* enum values are the enum's siblings (C++ scoping) */
        {"google.protobuf.FieldDescriptorProto.TYPE_BOOL", "google/protobuf/descriptor.proto"},
        {"google.protobuf.UninterpretedOption.NamePart", "google/protobuf/descriptor.proto"},
        {"grpc.reflection.v1.ServerReflectionResponse.message_response",
         "grpc/reflection/v1/reflection.proto"},
        {"grpc.health.v1.HealthCheckResponse.ServingStatus", "grpc/health/v1/health.proto"},
    };
    for (size_t i = 0; i < sizeof(again) / sizeof(again[0]); i++) {
        a = s_symbol(r, again[i][0], &sent);
        if (CHECK(a && a->message_response_case == S_FILES)) {
            CHECK_STR(s_file_name(a, 0), again[i][1]);
            if (strcmp(again[i][1], "grpc/health/v1/health.proto") != 0 &&
                strcmp(again[i][1], "grpc/reflection/v1/reflection.proto") != 0)
                CHECK(a->file_descriptor_response->n_file_descriptor_proto == 1);
        }
        grpc__reflection__v1__server_reflection_response__free_unpacked(a, NULL);
    }
    const char *missing[] = {"bedrockgw",
                             "bedrockgw.v1",
                             "bedrockgw.v1.Nope",
                             "",
                             ".",
                             "bedrockgw.v1.ListModelImportJobsRequest.",
                             "google.protobuf.FieldDescriptorProto.Type.TYPE_BOOL"};
    for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
        a = s_symbol(r, missing[i], &sent);
        CHECK(a && a->message_response_case == S_ERROR && a->error_response->error_code == 5);
        grpc__reflection__v1__server_reflection_response__free_unpacked(a, NULL);
    }
}

static void test_extensions_and_errors(const struct grpc_reflection *r)
{
    struct grpc_reflection_sent sent = {0};
    Req q = GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__INIT;
    q.message_request_case =
        GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_ALL_EXTENSION_NUMBERS_OF_TYPE;
    q.all_extension_numbers_of_type = "google.protobuf.MethodOptions";
    Resp *a = s_ask(r, &q, &sent);
    if (CHECK(a && a->all_extension_numbers_response &&
              a->all_extension_numbers_response->n_extension_number == 1))
        CHECK(a->all_extension_numbers_response->extension_number[0] == 72295728);
    grpc__reflection__v1__server_reflection_response__free_unpacked(a, NULL);
    Grpc__Reflection__V1__ExtensionRequest x = GRPC__REFLECTION__V1__EXTENSION_REQUEST__INIT;
    x.containing_type = ".google.protobuf.MethodOptions";
    x.extension_number = 72295728;
    q.message_request_case =
        GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_EXTENSION;
    q.file_containing_extension = &x;
    a = s_ask(r, &q, &sent);
    if (CHECK(a && a->message_response_case == S_FILES))
        CHECK_STR(s_file_name(a, 0), "google/api/annotations.proto");
    grpc__reflection__v1__server_reflection_response__free_unpacked(a, NULL);
    x.extension_number = 72295729;
    a = s_ask(r, &q, &sent);
    CHECK(a && a->message_response_case == S_ERROR && a->error_response->error_code == 5);
    grpc__reflection__v1__server_reflection_response__free_unpacked(a, NULL);
    Req empty = GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__INIT;
    a = s_ask(r, &empty, &sent);
    CHECK(a && a->message_response_case == S_ERROR && a->error_response->error_code == 3);
    grpc__reflection__v1__server_reflection_response__free_unpacked(a, NULL);
    /* not protobuf: refused, never a crash */
    struct buf out;
    buf_init(&out, 0);
    const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff};
    CHECK(grpc_reflection_answer(r, junk, sizeof(junk), &sent, &out) == -1);
    const uint8_t cut[] = {0x22, 0x10, 'b', 'e'}; /* symbol of 16 bytes, 2 sent */
    CHECK(grpc_reflection_answer(r, cut, sizeof(cut), &sent, &out) == -1);
    CHECK(out.len == 0);
    buf_clean_up(&out);
}

static void test_bad_sets(void)
{
    struct buf err;
    buf_init(&err, 0);
    const uint8_t not_set[] = {0x12, 0x00};
    CHECK(grpc_reflection_new(not_set, sizeof(not_set), &err) == NULL);
    CHECK(err.data && strstr(err.data, "not a FileDescriptorSet"));
    buf_reset(&err);
    /* the contract's file alone, without the files it imports */
    const uint8_t *p = bgw_descriptor_set_bytes, *end = p + bgw_descriptor_set_len;
    const char *want = "bedrockgw/v1/model_import_jobs.proto";
    const uint8_t *found = NULL;
    size_t found_len = 0;
    while (p < end && !found) {
        size_t n = 0, shift = 0, i = 1;
        while (p[i] & 0x80)
            n |= (size_t)(p[i++] & 0x7f) << shift, shift += 7;
        n |= (size_t)p[i++] << shift;
        /* FileDescriptorProto.name is field 1, first */
        if (p[i] == 0x0a && p[i + 1] == strlen(want) &&
            memcmp(p + i + 2, want, strlen(want)) == 0) {
            found = p;
            found_len = i + n;
        }
        p += i + n;
    }
    if (CHECK(found)) {
        CHECK(grpc_reflection_new(found, found_len, &err) == NULL);
        CHECK(err.data &&
              strstr(err.data, "bedrockgw/v1/model_import_jobs.proto imports google/") &&
              strstr(err.data, "which is not in the set"));
    }
    buf_clean_up(&err);
}

int main(void)
{
    struct buf err;
    buf_init(&err, 0);
    struct grpc_reflection *r =
        grpc_reflection_new(bgw_descriptor_set_bytes, bgw_descriptor_set_len, &err);
    if (!CHECK(r != NULL)) {
        fprintf(stderr, "%s\n", err.data ? err.data : "");
        return 1;
    }
    test_services_and_list(r);
    test_symbols_and_sent_once(r);
    test_extensions_and_errors(r);
    test_bad_sets();
    grpc_reflection_free(r);
    buf_clean_up(&err);
    return TEST_EXIT();
}
