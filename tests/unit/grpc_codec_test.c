/*
 * grpc_codec_test - request messages packed by protobuf-c decode into the
 * jobs model (every field, proto3 defaults, NUL bytes refused naming the
 * field, garbage refused); responses render to bytes protobuf-c unpacks
 * back into the same summaries.
 */
#include <stdlib.h>
#include <string.h>

#include "bedrockgw/v1/model_import_jobs.pb-c.h"
#include "grpc_codec.h"
#include "test_util.h"

#define CHECK_EQ(a, b) CHECK((long long)(a) == (long long)(b))

static size_t s_pack(const Bedrockgw__V1__ListModelImportJobsRequest *m, uint8_t *out)
{
    return bedrockgw__v1__list_model_import_jobs_request__pack(m, out);
}

static void test_decode(void)
{
    Bedrockgw__V1__ListModelImportJobsRequest m =
        BEDROCKGW__V1__LIST_MODEL_IMPORT_JOBS_REQUEST__INIT;
    Google__Protobuf__Timestamp after = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    after.seconds = 1700000000;
    after.nanos = 5;
    m.creation_time_after = &after;
    m.status_equals = BEDROCKGW__V1__MODEL_IMPORT_JOB_STATUS__MODEL_IMPORT_JOB_STATUS_FAILED;
    m.name_contains = "llama";
    m.max_results = 7;
    m.next_token = "tok";
    m.sort_order = BEDROCKGW__V1__SORT_ORDER__SORT_ORDER_ASCENDING;
    uint8_t wire[256];
    size_t n = s_pack(&m, wire);
    struct jobs_request q;
    memset(&q, 0, sizeof(q));
    struct bgw_error e;
    bgw_error_clear(&e);
    CHECK_EQ(grpc_codec_decode_request(wire, n, &q, &e), BGW_OK);
    CHECK(q.has_creation_time_after && q.creation_time_after.seconds == 1700000000 &&
          q.creation_time_after.nanos == 5);
    CHECK(!q.has_creation_time_before);
    CHECK_EQ(q.status_equals, m.status_equals);
    CHECK_STR(q.name_contains, "llama");
    CHECK(q.has_max_results && q.max_results == 7);
    CHECK_STR(q.next_token, "tok");
    CHECK_EQ(q.sort_order, m.sort_order);
    jobs_request_clean_up(&q);

    /* empty message: nothing set */
    memset(&q, 0, sizeof(q));
    CHECK_EQ(grpc_codec_decode_request((const uint8_t *)"", 0, &q, &e), BGW_OK);
    CHECK(!q.has_max_results && !q.name_contains && !q.next_token);
    jobs_request_clean_up(&q);

    /* a NUL inside nameContains / nextToken is refused, naming the field */
    static const uint8_t nul_name[] = {0x22, 3, 'a', 0, 'b'};
    memset(&q, 0, sizeof(q));
    bgw_error_clear(&e);
    CHECK_EQ(grpc_codec_decode_request(nul_name, sizeof(nul_name), &q, &e),
             BGW_ERR_INVALID_ARGUMENT);
    CHECK_STR(e.field, "nameContains");
    jobs_request_clean_up(&q);
    static const uint8_t nul_tok[] = {0x32, 2, 0, 'x'};
    memset(&q, 0, sizeof(q));
    bgw_error_clear(&e);
    CHECK_EQ(grpc_codec_decode_request(nul_tok, sizeof(nul_tok), &q, &e), BGW_ERR_INVALID_ARGUMENT);
    CHECK_STR(e.field, "nextToken");
    jobs_request_clean_up(&q);

    /* garbage: a truncated length-delimited field */
    static const uint8_t bad[] = {0x22, 10, 'a'};
    memset(&q, 0, sizeof(q));
    bgw_error_clear(&e);
    CHECK_EQ(grpc_codec_decode_request(bad, sizeof(bad), &q, &e), BGW_ERR_INVALID_ARGUMENT);
    CHECK(strstr(e.message, "ListModelImportJobsRequest") != NULL);
    jobs_request_clean_up(&q);
}

static void test_render(void)
{
    struct jobs_summary s[2];
    memset(s, 0, sizeof(s));
    s[0].job_arn = "arn:1";
    s[0].job_name = "one";
    s[0].status = 2;
    s[0].has_creation_time = true;
    s[0].creation_time.seconds = 42;
    s[1].job_arn = "arn:2";
    s[1].job_name = "two";
    s[1].imported_model_name = "m";
    struct jobs_response r = {s, 2, "next"};
    struct buf b;
    buf_init(&b, 0);
    CHECK(grpc_codec_render_response(&r, &b) == 0);
    Bedrockgw__V1__ListModelImportJobsResponse *m =
        bedrockgw__v1__list_model_import_jobs_response__unpack(NULL, b.len, (uint8_t *)b.data);
    CHECK(m != NULL);
    if (m) {
        CHECK_EQ(m->n_model_import_job_summaries, 2);
        CHECK_STR(m->next_token, "next");
        CHECK_STR(m->model_import_job_summaries[0]->job_arn, "arn:1");
        CHECK_EQ(m->model_import_job_summaries[0]->status, 2);
        CHECK(m->model_import_job_summaries[0]->creation_time &&
              m->model_import_job_summaries[0]->creation_time->seconds == 42);
        CHECK(!m->model_import_job_summaries[0]->end_time);
        CHECK_STR(m->model_import_job_summaries[1]->imported_model_name, "m");
        bedrockgw__v1__list_model_import_jobs_response__free_unpacked(m, NULL);
    }
    /* an empty page renders (to zero bytes) */
    struct jobs_response empty = {NULL, 0, NULL};
    CHECK(grpc_codec_render_response(&empty, &b) == 0);
    CHECK_EQ(b.len, 0);
    buf_clean_up(&b);
}

int main(void)
{
    test_decode();
    test_render();
    return TEST_EXIT();
}
