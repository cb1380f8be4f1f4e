/*
 * query_fuzz - libFuzzer target for the REST query parser,
 * json_mapping_parse_query, plus what the REST frontend does next with its
 * result (jobs_request_validate, rendering a response or the error body).
 *
 * Input: the raw query string (the text after '?'); a NUL byte ends it.
 * Invariants checked, besides memory safety and no leaks:
 *  - OK: string fields are NULL or non-empty; enums and times are in range;
 *    a request that also validates renders an empty response to exactly
 *    {"modelImportJobSummaries":[]};
 *  - error: the status is INVALID_ARGUMENT (or NOMEM) and equals err.status,
 *    err.field is a NUL-terminated printable-ASCII name, err.message is
 *    NUL-terminated, non-empty valid UTF-8, the request was left cleaned up,
 *    and the google.rpc.Status body renders to JSON that jansson parses.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "jobs.h"
#include "json_mapping.h"

#define S_TIME_MIN_SECONDS (-62135596800LL)
#define S_TIME_MAX_SECONDS (253402300799LL)

static void s_check_time(bool has, struct bgw_time t)
{
    if (!has)
        return;
    FUZZ_CHECK(t.nanos >= 0 && t.nanos <= 999999999);
    FUZZ_CHECK(t.seconds >= S_TIME_MIN_SECONDS && t.seconds <= S_TIME_MAX_SECONDS);
}

static void s_check_error(const struct bgw_error *err)
{
    FUZZ_CHECK(fuzz_terminated(err->field, sizeof(err->field)));
    FUZZ_CHECK(fuzz_printable_ascii(err->field));
    FUZZ_CHECK(fuzz_terminated(err->message, sizeof(err->message)));
    FUZZ_CHECK(err->message[0] != '\0');
    FUZZ_CHECK(fuzz_utf8_valid(err->message, strlen(err->message)));

    /* The REST frontend sends this body; it must be JSON. */
    struct buf body;
    buf_init(&body, 0);
    FUZZ_CHECK(json_mapping_render_error(err, &body) == 0);
    json_error_t jerr;
    json_t *root = json_loadb(body.data, body.len, 0, &jerr);
    FUZZ_CHECK(root != NULL);
    FUZZ_CHECK(json_is_object(root));
    json_decref(root);
    buf_clean_up(&body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *query = fuzz_strndup(data, size);
    struct jobs_request req;
    struct bgw_error err;
    bgw_error_clear(&err);

    enum bgw_status st = json_mapping_parse_query(query, &req, &err);
    if (st == BGW_OK) {
        FUZZ_CHECK(!req.name_contains || req.name_contains[0] != '\0');
        FUZZ_CHECK(!req.next_token || req.next_token[0] != '\0');
        FUZZ_CHECK(req.status_equals >= 0 && req.status_equals <= JOBS_STATUS_FAILED);
        FUZZ_CHECK(req.sort_by >= 0 && req.sort_by <= JOBS_SORT_BY_CREATION_TIME);
        FUZZ_CHECK(req.sort_order >= 0 && req.sort_order <= JOBS_SORT_ORDER_DESCENDING);
        s_check_time(req.has_creation_time_after, req.creation_time_after);
        s_check_time(req.has_creation_time_before, req.creation_time_before);

        struct bgw_error verr;
        bgw_error_clear(&verr);
        enum bgw_status vst = jobs_request_validate(&req, &verr);
        if (vst == BGW_OK) {
            struct jobs_response empty;
            struct buf out;
            memset(&empty, 0, sizeof(empty));
            buf_init(&out, 0);
            FUZZ_CHECK(json_mapping_render_response(&empty, &out) == 0);
            FUZZ_CHECK(strcmp(out.data, "{\"modelImportJobSummaries\":[]}") == 0);
            buf_clean_up(&out);
        } else {
            FUZZ_CHECK(vst == BGW_ERR_INVALID_ARGUMENT && verr.status == vst);
            FUZZ_CHECK(verr.field[0] != '\0');
            s_check_error(&verr);
        }
    } else {
        FUZZ_CHECK(st == err.status);
        FUZZ_CHECK(st == BGW_ERR_INVALID_ARGUMENT || st == BGW_ERR_NOMEM);
        FUZZ_CHECK(req.name_contains == NULL && req.next_token == NULL);
        s_check_error(&err);
    }
    jobs_request_clean_up(&req);
    free(query);
    return 0;
}
