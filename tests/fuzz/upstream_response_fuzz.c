/*
 * upstream_response_fuzz - libFuzzer target for the parser of Bedrock's
 * ListModelImportJobs replies, bedrock_parse_list_response, and for the
 * REST rendering of what it produces.
 *
 * Input layout (kept printable so that seeds are readable):
 *   byte 0   picks the error status from s_error_statuses (byte % 22):
 *            'B' 400, 'C' 403, 'D' 404, '2' 429, '3' 500, '5' 503;
 *   byte 1   flags: bit 0 = an x-amzn-ErrorType header follows, bit 1 = a
 *            Retry-After header follows ('0'..'3' are 0..3);
 *   then, for each flag set in that order, one header value ending at '\n';
 *   the rest is the body (exactly that many bytes, not NUL-terminated).
 * Each input is parsed twice: as a 200 reply and as a reply with the error
 * status.
 *
 * Invariants: OK only for 2xx; an OK response has non-empty jobArn/jobName,
 * known status numbers, in-range times and no empty nextToken, and renders
 * (json_mapping_render_response must not fail) to JSON that jansson parses
 * with the same number of summaries and the same nextToken. On error: out is
 * left empty, err.status is the return value, err.message is a non-empty,
 * NUL-terminated, control-free, valid UTF-8 text, err.field is empty,
 * retry_after_s is in [0, 3600] (>= 1 when throttled), and the error body
 * renders to JSON. A 2xx body gets the same verdict, message and fields
 * from bedrock_list_parse as from the jansson-based parser it replaced
 * (tests/common/bedrock_list_oracle).
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bedrock_client.h"
#include "bedrock_list_oracle.h"
#include "fuzz_util.h"
#include "jobs.h"
#include "json_mapping.h"

#define S_TIME_MIN_SECONDS (-62135596800LL)
#define S_TIME_MAX_SECONDS (253402300799LL)

static const long s_error_statuses[] = {400, 403, 404, 408, 409, 413, 429, 500, 502, 503, 504,
                                        599, 301, 302, 304, 100, 199, 300, 600, 0,   -1,  418};

static void s_check_time(bool has, struct bgw_time t)
{
    if (!has)
        return;
    FUZZ_CHECK(t.nanos >= 0 && t.nanos <= 999999999);
    FUZZ_CHECK(t.seconds >= S_TIME_MIN_SECONDS && t.seconds <= S_TIME_MAX_SECONDS);
}

static void s_check_ok(const struct jobs_response *r)
{
    FUZZ_CHECK(r->n_summaries == 0 || r->summaries != NULL);
    for (size_t i = 0; i < r->n_summaries; i++) {
        const struct jobs_summary *s = &r->summaries[i];
        FUZZ_CHECK(s->job_arn && s->job_arn[0]);
        FUZZ_CHECK(s->job_name && s->job_name[0]);
        FUZZ_CHECK(s->status >= JOBS_STATUS_UNSPECIFIED && s->status <= JOBS_STATUS_FAILED);
        s_check_time(s->has_last_modified_time, s->last_modified_time);
        s_check_time(s->has_creation_time, s->creation_time);
        s_check_time(s->has_end_time, s->end_time);
    }
    FUZZ_CHECK(!r->next_token || r->next_token[0]);

    struct buf out;
    buf_init(&out, 0);
    FUZZ_CHECK(json_mapping_render_response(r, &out) == 0);
    json_error_t jerr;
    json_t *root = json_loadb(out.data, out.len, 0, &jerr);
    FUZZ_CHECK(root != NULL && json_is_object(root));
    json_t *arr = json_object_get(root, "modelImportJobSummaries");
    FUZZ_CHECK(json_is_array(arr) && json_array_size(arr) == r->n_summaries);
    json_t *tok = json_object_get(root, "nextToken");
    if (r->next_token)
        FUZZ_CHECK(json_is_string(tok) && strcmp(json_string_value(tok), r->next_token) == 0);
    else
        FUZZ_CHECK(tok == NULL);
    json_decref(root);
    buf_clean_up(&out);
}

static void s_check_error(enum bgw_status st, const struct jobs_response *r,
                          const struct bgw_error *err)
{
    FUZZ_CHECK(st != BGW_OK && st < BGW_STATUS_COUNT && st == err->status);
    FUZZ_CHECK(r->summaries == NULL && r->n_summaries == 0 && r->next_token == NULL);
    FUZZ_CHECK(fuzz_terminated(err->message, sizeof(err->message)));
    FUZZ_CHECK(err->message[0] != '\0');
    for (const unsigned char *p = (const unsigned char *)err->message; *p; p++)
        FUZZ_CHECK(*p >= 0x20 && *p != 0x7f);
    FUZZ_CHECK(fuzz_utf8_valid(err->message, strlen(err->message)));
    FUZZ_CHECK(fuzz_terminated(err->field, sizeof(err->field)) && err->field[0] == '\0');
    FUZZ_CHECK(err->retry_after_s >= 0 && err->retry_after_s <= 3600);
    if (st == BGW_ERR_RESOURCE_EXHAUSTED)
        FUZZ_CHECK(err->retry_after_s >= 1);

    struct buf body;
    buf_init(&body, 0);
    FUZZ_CHECK(json_mapping_render_error(err, &body) == 0);
    json_error_t jerr;
    json_t *root = json_loadb(body.data, body.len, 0, &jerr);
    FUZZ_CHECK(root != NULL && json_is_object(root));
    json_decref(root);
    buf_clean_up(&body);
}

static void s_run(long status, const char *error_type, const char *retry_after, const char *body,
                  size_t body_len)
{
    struct bedrock_http_response resp = {
        .status = status,
        .error_type = error_type,
        .retry_after = retry_after,
        .body = body,
        .body_len = body_len,
        .now_ms = 1700000000000LL, /* fixed: a Retry-After date is measured against it */
    };
    struct jobs_response out;
    struct bgw_error err;
    enum bgw_status st = bedrock_parse_list_response(&resp, &out, &err);
    if (st == BGW_OK) {
        FUZZ_CHECK(status >= 200 && status <= 299 && err.status == BGW_OK);
        s_check_ok(&out);
    } else {
        s_check_error(st, &out, &err);
    }
    jobs_response_clean_up(&out);
}

/* Takes one '\n'-terminated line off the front of [*p, end) as a new
 * C string (a NUL inside ends it early, as a C header value would). */
static char *s_take_line(const uint8_t **p, const uint8_t *end)
{
    const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
    size_t n = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
    char *line = fuzz_strndup(*p, n);
    *p += n + (nl ? 1 : 0);
    return line;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    long error_status =
        s_error_statuses[data[0] % (sizeof(s_error_statuses) / sizeof(s_error_statuses[0]))];
    unsigned flags = data[1];
    const uint8_t *p = data + 2;
    const uint8_t *end = data + size;
    char *error_type = (flags & 1) ? s_take_line(&p, end) : NULL;
    char *retry_after = (flags & 2) ? s_take_line(&p, end) : NULL;

    /* An exact-size copy, so reading past body_len is caught. */
    size_t body_len = (size_t)(end - p);
    char *body = body_len ? malloc(body_len) : NULL;
    FUZZ_CHECK(body_len == 0 || body != NULL);
    if (body_len)
        memcpy(body, p, body_len);

    s_run(200, error_type, retry_after, body, body_len);
    if (body_len) { /* the one-pass parser agrees with the jansson-based one */
        int verdict;
        size_t rows;
        char detail[512];
        bool same =
            bedrock_list_oracle_agrees(body, body_len, &verdict, &rows, detail, sizeof(detail));
        if (!same)
            fprintf(stderr, "parsers disagree: %s\n", detail);
        FUZZ_CHECK(same);
    }
    s_run(error_status, error_type, retry_after, body, body_len);

    free(body);
    free(error_type);
    free(retry_after);
    return 0;
}
