/*
 * bedrock_list_oracle - the jansson-based parser of Bedrock's list body
 * that service/src/aws/bedrock_list_parse replaced, kept as the oracle the
 * new one is held to (tests/unit/bedrock_list_parse_test.c, the
 * upstream_response fuzzer): build a document with json_loadb, then read
 * the fields out of it.
 */
#include "bedrock_list_oracle.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bedrock_list_parse.h"
#include "timeutil.h"

#define S_MALFORMED "upstream returned a malformed response: "
#define S_EPOCH_MIN_S (-62135596800LL)
#define S_EPOCH_MAX_S 253402300799LL

/* A timestamp field: absent or null -> *has = false; string ISO 8601 or a
 * number of epoch seconds -> the time; anything else -> -1. */
static int s_get_time(json_t *obj, const char *key, bool *has, struct bgw_time *t)
{
    json_t *v = json_object_get(obj, key);
    *has = false;
    if (!v || json_is_null(v))
        return 0;
    if (json_is_string(v)) {
        if (timeutil_parse_iso8601(json_string_value(v), t) != 0)
            return -1;
    } else if (json_is_integer(v)) {
        json_int_t secs = json_integer_value(v);
        if (secs < S_EPOCH_MIN_S || secs > S_EPOCH_MAX_S)
            return -1;
        t->seconds = (int64_t)secs;
        t->nanos = 0;
    } else if (json_is_real(v)) {
        if (timeutil_from_epoch_double(json_real_value(v), t) != 0)
            return -1;
    } else {
        return -1;
    }
    *has = true;
    return 0;
}

/* An optional string field: absent or null -> NULL; string -> heap copy (1
 * on allocation failure); anything else -> -1. */
static int s_get_opt_string(json_t *obj, const char *key, char **out)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return -1;
    *out = strdup(json_string_value(v));
    return *out ? 0 : 1;
}

static int s_status_from_bedrock(const char *s)
{
    for (int v = JOBS_STATUS_IN_PROGRESS; v <= JOBS_STATUS_FAILED; v++) {
        const char *name = jobs_status_bedrock(v);
        if (name && strcmp(name, s) == 0)
            return v;
    }
    return JOBS_STATUS_UNSPECIFIED;
}

/* Fills s from one element of modelImportJobSummaries. Returns BGW_OK, or
 * an error already set in err. */
static enum bgw_status s_parse_summary(json_t *item, size_t idx, struct jobs_summary *s,
                                       struct bgw_error *err)
{
    static const char *const time_keys[3] = {"lastModifiedTime", "creationTime", "endTime"};
    if (!json_is_object(item))
        return bgw_error_set(err, BGW_ERR_BAD_GATEWAY, NULL,
                             S_MALFORMED "modelImportJobSummaries[%zu] is not an object", idx);

    static const char *const req_keys[2] = {"jobArn", "jobName"};
    char **req_dst[2] = {&s->job_arn, &s->job_name};
    for (int k = 0; k < 2; k++) {
        json_t *v = json_object_get(item, req_keys[k]);
        if (!v || json_is_null(v))
            return bgw_error_set(err, BGW_ERR_BAD_GATEWAY, NULL,
                                 S_MALFORMED "modelImportJobSummaries[%zu].%s is missing", idx,
                                 req_keys[k]);
        if (!json_is_string(v))
            return bgw_error_set(err, BGW_ERR_BAD_GATEWAY, NULL,
                                 S_MALFORMED "modelImportJobSummaries[%zu].%s is not a string", idx,
                                 req_keys[k]);
        if (json_string_length(v) == 0)
            return bgw_error_set(err, BGW_ERR_BAD_GATEWAY, NULL,
                                 S_MALFORMED "modelImportJobSummaries[%zu].%s is empty", idx,
                                 req_keys[k]);
        *req_dst[k] = strdup(json_string_value(v));
        if (!*req_dst[k])
            return bgw_error_set(err, BGW_ERR_NOMEM, NULL,
                                 "out of memory parsing the upstream "
                                 "response");
    }

    json_t *st = json_object_get(item, "status");
    if (st && !json_is_null(st)) {
        if (!json_is_string(st))
            return bgw_error_set(err, BGW_ERR_BAD_GATEWAY, NULL,
                                 S_MALFORMED "modelImportJobSummaries[%zu].status is not a string",
                                 idx);
        s->status = s_status_from_bedrock(json_string_value(st));
    }

    bool *has[3] = {&s->has_last_modified_time, &s->has_creation_time, &s->has_end_time};
    struct bgw_time *tv[3] = {&s->last_modified_time, &s->creation_time, &s->end_time};
    for (int k = 0; k < 3; k++) {
        if (s_get_time(item, time_keys[k], has[k], tv[k]) == 0)
            continue;
        /* creationTime orders the rows and bounds every tenant's window: a
         * row without a usable one cannot be placed, so the page fails.
         * The other two are informational: one row's bad value must not
         * fail the page for every tenant sharing it; it is left out. */
        if (k != 1) {
            *has[k] = false;
            memset(tv[k], 0, sizeof(*tv[k]));
            continue;
        }
        return bgw_error_set(err, BGW_ERR_BAD_GATEWAY, NULL,
                             S_MALFORMED "modelImportJobSummaries[%zu].%s is not a timestamp", idx,
                             time_keys[k]);
    }

    static const char *const opt_keys[2] = {"importedModelArn", "importedModelName"};
    char **opt_dst[2] = {&s->imported_model_arn, &s->imported_model_name};
    for (int k = 0; k < 2; k++) {
        int r = s_get_opt_string(item, opt_keys[k], opt_dst[k]);
        if (r < 0) /* informational, like the times above: left out */
            continue;
        if (r > 0)
            return bgw_error_set(err, BGW_ERR_NOMEM, NULL,
                                 "out of memory parsing the upstream "
                                 "response");
    }
    return BGW_OK;
}

enum bgw_status oracle_bedrock_list_parse(const char *body, size_t body_len,
                                          struct jobs_response *out, struct bgw_error *err)
{
    enum bgw_status rc = BGW_ERR_BAD_GATEWAY;
    json_error_t jerr;
    json_t *root = NULL;

    memset(out, 0, sizeof(*out));
    if (!body || body_len == 0) {
        rc = bgw_error_set(err, BGW_ERR_BAD_GATEWAY, NULL, S_MALFORMED "empty body");
        goto cleanup;
    }
    root = json_loadb(body, body_len, 0, &jerr);
    if (!root) {
        rc = bgw_error_set(err, BGW_ERR_BAD_GATEWAY, NULL, S_MALFORMED "body is not JSON");
        goto cleanup;
    }
    if (!json_is_object(root)) {
        rc = bgw_error_set(err, BGW_ERR_BAD_GATEWAY, NULL, S_MALFORMED "body is not a JSON object");
        goto cleanup;
    }

    json_t *list = json_object_get(root, "modelImportJobSummaries");
    if (list && !json_is_null(list)) {
        if (!json_is_array(list)) {
            rc = bgw_error_set(err, BGW_ERR_BAD_GATEWAY, NULL,
                               S_MALFORMED "modelImportJobSummaries is not an array");
            goto cleanup;
        }
        size_t n = json_array_size(list);
        if (n > 0) {
            out->summaries = calloc(n, sizeof(*out->summaries));
            if (!out->summaries) {
                rc = bgw_error_set(err, BGW_ERR_NOMEM, NULL,
                                   "out of memory parsing the upstream response");
                goto cleanup;
            }
        }
        for (size_t i = 0; i < n; i++) {
            /* Count the element first so that cleanup frees what it holds. */
            out->n_summaries = i + 1;
            rc = s_parse_summary(json_array_get(list, i), i, &out->summaries[i], err);
            if (rc != BGW_OK)
                goto cleanup;
        }
    }

    json_t *tok = json_object_get(root, "nextToken");
    if (tok && !json_is_null(tok)) {
        if (!json_is_string(tok)) {
            rc = bgw_error_set(err, BGW_ERR_BAD_GATEWAY, NULL,
                               S_MALFORMED "nextToken is not a string");
            goto cleanup;
        }
        if (json_string_length(tok) > 0) {
            out->next_token = strdup(json_string_value(tok));
            if (!out->next_token) {
                rc = bgw_error_set(err, BGW_ERR_NOMEM, NULL,
                                   "out of memory parsing the upstream response");
                goto cleanup;
            }
        }
    }
    rc = BGW_OK;

cleanup:
    if (rc != BGW_OK)
        jobs_response_clean_up(out);
    json_decref(root);
    return rc;
}

static bool s_str_eq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool s_time_eq(bool ha, struct bgw_time a, bool hb, struct bgw_time b)
{
    return ha == hb && (!ha || (a.seconds == b.seconds && a.nanos == b.nanos));
}

bool bedrock_list_oracle_agrees(const char *body, size_t len, int *verdict, size_t *rows,
                                char *detail, size_t detail_len)
{
    struct jobs_response got, want;
    struct bgw_error ge, we;
    bgw_error_clear(&ge);
    bgw_error_clear(&we);
    enum bgw_status grc = bedrock_list_parse(body, len, &got, &ge);
    enum bgw_status wrc = oracle_bedrock_list_parse(body, len, &want, &we);
    bool same = grc == wrc && strcmp(ge.message, we.message) == 0;
    /* The one known difference: a NUL byte is never JSON, but jansson skips
     * one that directly follows a number or a literal (its look-ahead put
     * back reads as "no byte buffered"). The new parser refuses it. */
    if (memchr(body, '\0', len) && grc == BGW_ERR_BAD_GATEWAY && strstr(ge.message, "not JSON"))
        same = true;
    if (same && grc == BGW_OK) {
        same = got.n_summaries == want.n_summaries && s_str_eq(got.next_token, want.next_token);
        for (size_t i = 0; same && i < got.n_summaries; i++) {
            const struct jobs_summary *g = &got.summaries[i], *w = &want.summaries[i];
            same = s_str_eq(g->job_arn, w->job_arn) && s_str_eq(g->job_name, w->job_name) &&
                   g->status == w->status &&
                   s_time_eq(g->has_last_modified_time, g->last_modified_time,
                             w->has_last_modified_time, w->last_modified_time) &&
                   s_time_eq(g->has_creation_time, g->creation_time, w->has_creation_time,
                             w->creation_time) &&
                   s_time_eq(g->has_end_time, g->end_time, w->has_end_time, w->end_time) &&
                   s_str_eq(g->imported_model_arn, w->imported_model_arn) &&
                   s_str_eq(g->imported_model_name, w->imported_model_name);
        }
    }
    *verdict = grc == BGW_OK ? 0 : strstr(ge.message, "not JSON") ? 1 : 2;
    *rows = grc == BGW_OK ? got.n_summaries : 0;
    snprintf(detail, detail_len, "new: %d %s | old: %d %s", grc, ge.message, wrc, we.message);
    jobs_response_clean_up(&got);
    jobs_response_clean_up(&want);
    return same;
}
