/*
 * json_mapping - the REST shim's wire format. See json_mapping.h.
 *
 * In: the query string of GET /v1/model-import-jobs into a jobs_request
 * (syntax only: values are decoded and typed here, Bedrock's limits are
 * jobs_request_validate's job). Out: jobs_response and bgw_error as proto3
 * JSON via jansson, keys in struct order, compact.
 *
 * Owns only the temporary decoded strings and jansson trees it builds. No
 * I/O, no clock. Never copies more than a short, printable excerpt of client
 * input into an error message (non-ASCII bytes become '?', so the message is
 * always valid UTF-8 for the JSON error body).
 */
#include "json_mapping.h"

#include <jansson.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "json_write.h"
#include "timeutil.h"

/* At most this many bytes of client input are quoted in a message. */
#define S_EXCERPT_MAX 64
#define S_EXCERPT_BUF (S_EXCERPT_MAX + 4)

/* ---- query parsing ------------------------------------------------------- */

enum s_param_id {
    S_P_CREATION_TIME_AFTER,
    S_P_CREATION_TIME_BEFORE,
    S_P_STATUS_EQUALS,
    S_P_NAME_CONTAINS,
    S_P_MAX_RESULTS,
    S_P_NEXT_TOKEN,
    S_P_SORT_BY,
    S_P_SORT_ORDER,
    S_P_COUNT
};

static const struct {
    const char *json; /* proto3 JSON (lowerCamelCase) name; also err->field */
    const char *snake;
} s_params[S_P_COUNT] = {
    [S_P_CREATION_TIME_AFTER] = {"creationTimeAfter", "creation_time_after"},
    [S_P_CREATION_TIME_BEFORE] = {"creationTimeBefore", "creation_time_before"},
    [S_P_STATUS_EQUALS] = {"statusEquals", "status_equals"},
    [S_P_NAME_CONTAINS] = {"nameContains", "name_contains"},
    [S_P_MAX_RESULTS] = {"maxResults", "max_results"},
    [S_P_NEXT_TOKEN] = {"nextToken", "next_token"},
    [S_P_SORT_BY] = {"sortBy", "sort_by"},
    [S_P_SORT_ORDER] = {"sortOrder", "sort_order"},
};

/* A printable-ASCII excerpt of at most S_EXCERPT_MAX bytes of in, with "..."
 * when cut; anything else becomes '?'. */
static void s_excerpt(const char *in, size_t len, char out[S_EXCERPT_BUF])
{
    size_t n = len < S_EXCERPT_MAX ? len : S_EXCERPT_MAX;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        out[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    if (len > S_EXCERPT_MAX) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
}

enum s_decode_rc { S_DECODE_OK = 0, S_DECODE_BAD_ESCAPE, S_DECODE_NUL, S_DECODE_NOMEM };

/* %XX-decodes src[0..len) into a fresh NUL-terminated heap string. '+' is
 * kept as '+'. A '%' not followed by two hex digits, or any NUL byte (raw or
 * %00), is an error. */
static enum s_decode_rc s_decode(const char *src, size_t len, char **out)
{
    char *d = malloc(len + 1);
    size_t n = 0;
    if (!d)
        return S_DECODE_NOMEM;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c == '%') {
            if (len - i < 3 || hex_digit(src[i + 1]) < 0 || hex_digit(src[i + 2]) < 0) {
                free(d);
                return S_DECODE_BAD_ESCAPE;
            }
            c = (unsigned char)(hex_digit(src[i + 1]) * 16 + hex_digit(src[i + 2]));
            i += 2;
        }
        if (c == 0) {
            free(d);
            return S_DECODE_NUL;
        }
        d[n++] = (char)c;
    }
    d[n] = '\0';
    *out = d;
    return S_DECODE_OK;
}

static enum bgw_status s_decode_error(enum s_decode_rc rc, const char *what, const char *field,
                                      const char *raw, size_t raw_len, struct bgw_error *err)
{
    char ex[S_EXCERPT_BUF];
    s_excerpt(raw, raw_len, ex);
    if (rc == S_DECODE_NOMEM)
        return bgw_error_set(err, BGW_ERR_NOMEM, NULL, "out of memory decoding the query");
    /* A page token is a bearer credential for a walk: never quote it. */
    if (field && strcmp(field, "nextToken") == 0)
        return bgw_error_set(err, BGW_ERR_INVALID_ARGUMENT, field,
                             rc == S_DECODE_NUL
                                 ? "nextToken must not contain a NUL byte"
                                 : "nextToken has a malformed percent-escape (need %%XX with "
                                   "two hex digits)");
    if (rc == S_DECODE_NUL)
        return bgw_error_set(err, BGW_ERR_INVALID_ARGUMENT, field,
                             "%s must not contain a NUL byte, got \"%s\"", what, ex);
    return bgw_error_set(err, BGW_ERR_INVALID_ARGUMENT, field,
                         "%s has a malformed percent-escape (need %%XX with two hex digits), "
                         "got \"%s\"",
                         what, ex);
}

/* A plain decimal integer in int range: optional '-', then digits only. */
static int s_parse_int(const char *s, int64_t *out)
{
    const char *p = s;
    int neg = 0;
    int64_t v = 0;
    if (*p == '-') {
        neg = 1;
        p++;
    }
    if (!*p)
        return -1;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (*p - '0');
        if (v > (int64_t)INT_MAX + 1)
            return -1;
    }
    if (neg)
        v = -v;
    if (v < INT_MIN || v > INT_MAX)
        return -1;
    *out = v;
    return 0;
}

/* Enum value by proto name, Bedrock spelling or number; the zero value
 * (its proto name or "0") is accepted too, as proto3 JSON allows, and means
 * "no filter". Returns -1 when unknown. */
static int s_parse_enum(int (*parse)(const char *), const char *zero_name, const char *v)
{
    if (strcmp(v, "0") == 0 || strcmp(v, zero_name) == 0)
        return 0;
    return parse(v);
}

/* Stores one decoded, non-empty value. */
static enum bgw_status s_set_value(enum s_param_id id, char **value, struct jobs_request *out,
                                   struct bgw_error *err)
{
    const char *f = s_params[id].json;
    const char *v = *value;
    char ex[S_EXCERPT_BUF];
    int e;

    switch (id) {
    case S_P_CREATION_TIME_AFTER:
    case S_P_CREATION_TIME_BEFORE: {
        struct bgw_time t;
        if (timeutil_parse_rfc3339(v, &t) != 0) {
            s_excerpt(v, strlen(v), ex);
            return bgw_error_set(err, BGW_ERR_INVALID_ARGUMENT, f,
                                 "%s must be an RFC 3339 timestamp with a UTC offset, e.g. "
                                 "2024-01-02T03:04:05Z or 2024-01-02T08:34:05+05:30, got \"%s\"",
                                 f, ex);
        }
        if (id == S_P_CREATION_TIME_AFTER) {
            out->has_creation_time_after = true;
            out->creation_time_after = t;
        } else {
            out->has_creation_time_before = true;
            out->creation_time_before = t;
        }
        return BGW_OK;
    }
    case S_P_STATUS_EQUALS:
        e = s_parse_enum(jobs_status_parse, "MODEL_IMPORT_JOB_STATUS_UNSPECIFIED", v);
        if (e < 0) {
            s_excerpt(v, strlen(v), ex);
            return bgw_error_set(err, BGW_ERR_INVALID_ARGUMENT, f,
                                 "statusEquals must be MODEL_IMPORT_JOB_STATUS_IN_PROGRESS, "
                                 "MODEL_IMPORT_JOB_STATUS_COMPLETED or "
                                 "MODEL_IMPORT_JOB_STATUS_FAILED (or IN_PROGRESS, COMPLETED, "
                                 "FAILED, or InProgress, Completed, Failed), got \"%s\"",
                                 ex);
        }
        out->status_equals = e;
        return BGW_OK;
    case S_P_SORT_BY:
        e = s_parse_enum(jobs_sort_by_parse, "SORT_BY_UNSPECIFIED", v);
        if (e < 0) {
            s_excerpt(v, strlen(v), ex);
            return bgw_error_set(err, BGW_ERR_INVALID_ARGUMENT, f,
                                 "sortBy must be SORT_BY_CREATION_TIME (or CREATION_TIME, "
                                 "CreationTime), got \"%s\"",
                                 ex);
        }
        out->sort_by = e;
        return BGW_OK;
    case S_P_SORT_ORDER:
        e = s_parse_enum(jobs_sort_order_parse, "SORT_ORDER_UNSPECIFIED", v);
        if (e < 0) {
            s_excerpt(v, strlen(v), ex);
            return bgw_error_set(err, BGW_ERR_INVALID_ARGUMENT, f,
                                 "sortOrder must be SORT_ORDER_ASCENDING or "
                                 "SORT_ORDER_DESCENDING (or ASCENDING, DESCENDING, or Ascending, "
                                 "Descending), got \"%s\"",
                                 ex);
        }
        out->sort_order = e;
        return BGW_OK;
    case S_P_MAX_RESULTS: {
        int64_t n;
        if (s_parse_int(v, &n) != 0) {
            s_excerpt(v, strlen(v), ex);
            return bgw_error_set(err, BGW_ERR_INVALID_ARGUMENT, f,
                                 "maxResults must be a decimal integer, got \"%s\"", ex);
        }
        out->has_max_results = true;
        out->max_results = n;
        return BGW_OK;
    }
    case S_P_NAME_CONTAINS:
        out->name_contains = *value; /* ownership moves */
        *value = NULL;
        return BGW_OK;
    case S_P_NEXT_TOKEN:
        out->next_token = *value;
        *value = NULL;
        return BGW_OK;
    case S_P_COUNT:
        break;
    }
    return bgw_error_set(err, BGW_ERR_INTERNAL, NULL, "unhandled query parameter");
}

/* One "name=value" segment (not empty). */
static enum bgw_status s_parse_pair(const char *seg, size_t seg_len, unsigned *seen,
                                    struct jobs_request *out, struct bgw_error *err)
{
    enum bgw_status rc = BGW_ERR_INTERNAL;
    const char *eq = memchr(seg, '=', seg_len);
    size_t name_len = eq ? (size_t)(eq - seg) : seg_len;
    const char *raw_value = eq ? eq + 1 : seg + seg_len;
    size_t raw_value_len = seg_len - name_len - (eq ? 1 : 0);
    char *name = NULL;
    char *value = NULL;
    char ex[S_EXCERPT_BUF];
    int id = -1;
    enum s_decode_rc drc;

    drc = s_decode(seg, name_len, &name);
    if (drc != S_DECODE_OK) {
        rc = s_decode_error(drc, "query parameter name", NULL, seg, name_len, err);
        goto cleanup;
    }
    for (int i = 0; i < S_P_COUNT; i++) {
        if (strcmp(name, s_params[i].json) == 0 || strcmp(name, s_params[i].snake) == 0) {
            id = i;
            break;
        }
    }
    if (id < 0) {
        s_excerpt(name, strlen(name), ex);
        rc = bgw_error_set(err, BGW_ERR_INVALID_ARGUMENT, ex,
                           "unknown query parameter \"%s\"; known: creationTimeAfter, "
                           "creationTimeBefore, statusEquals, nameContains, maxResults, "
                           "nextToken, sortBy, sortOrder",
                           ex);
        goto cleanup;
    }
    const char *f = s_params[id].json;
    if (*seen & (1u << id)) {
        rc = bgw_error_set(err, BGW_ERR_INVALID_ARGUMENT, f,
                           "query parameter %s given more than once (as %s or %s)", f, f,
                           s_params[id].snake);
        goto cleanup;
    }
    *seen |= 1u << id;
    drc = s_decode(raw_value, raw_value_len, &value);
    if (drc != S_DECODE_OK) {
        rc = s_decode_error(drc, f, f, raw_value, raw_value_len, err);
        goto cleanup;
    }
    if (value[0] == '\0') {
        rc = bgw_error_set(err, BGW_ERR_INVALID_ARGUMENT, f,
                           "query parameter %s must not be empty (omit it instead)", f);
        goto cleanup;
    }
    rc = s_set_value((enum s_param_id)id, &value, out, err);

cleanup:
    free(name);
    free(value);
    return rc;
}

enum bgw_status json_mapping_parse_query(const char *query, struct jobs_request *out,
                                         struct bgw_error *err)
{
    enum bgw_status rc = BGW_OK;
    unsigned seen = 0;

    memset(out, 0, sizeof(*out));
    if (!query)
        return BGW_OK;
    const char *p = query;
    while (*p) {
        const char *amp = strchr(p, '&');
        size_t seg_len = amp ? (size_t)(amp - p) : strlen(p);
        /* Empty segments ("a=1&&b=2", a trailing '&') carry nothing; skip. */
        if (seg_len > 0) {
            rc = s_parse_pair(p, seg_len, &seen, out, err);
            if (rc != BGW_OK)
                break;
        }
        if (!amp)
            break;
        p = amp + 1;
    }
    if (rc != BGW_OK)
        jobs_request_clean_up(out);
    return rc;
}

/* ---- rendering ----------------------------------------------------------- */

/* Adds value to obj under key; frees value on failure. NULL value = -1. */
static int s_set(json_t *obj, const char *key, json_t *value)
{
    if (!value)
        return -1;
    return json_object_set_new(obj, key, value);
}

/* A string that jansson will take even when s is not valid UTF-8 (bytes
 * outside ASCII are then replaced by '?'). */
static json_t *s_string(const char *s)
{
    json_t *j = json_string(s);
    if (j)
        return j;
    char *copy = strdup(s);
    if (!copy)
        return NULL;
    for (char *p = copy; *p; p++) {
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    }
    j = json_string(copy);
    free(copy);
    return j;
}

static int s_render(const struct jobs_response *r, struct buf *out, bool bedrock_enums);

int json_mapping_render_response(const struct jobs_response *r, struct buf *out)
{
    return s_render(r, out, false);
}

int json_mapping_render_response_bedrock_enums(const struct jobs_response *r, struct buf *out)
{
    return s_render(r, out, true);
}

void json_mapping_query_remove(char *query, bool (*drop)(const char *seg, size_t len, void *arg),
                               void *arg)
{
    if (!query)
        return;
    char *w = query, *p = query;
    while (*p) {
        char *amp = strchr(p, '&');
        size_t n = amp ? (size_t)(amp - p) : strlen(p);
        if (n && !drop(p, n, arg)) {
            if (w != query)
                *w++ = '&';
            memmove(w, p, n);
            w += n;
        }
        p += n;
        if (*p == '&')
            p++;
    }
    *w = '\0';
}

struct s_enums {
    bool bedrock;
    int seen;
    bool bad_value;
};

static bool s_take_enums(const char *seg, size_t n, void *arg)
{
    struct s_enums *e = arg;
    if (n < 6 || strncmp(seg, "enums=", 6) != 0)
        return false;
    e->seen++;
    if (n == 6 + 5 && strncmp(seg + 6, "proto", 5) == 0)
        e->bedrock = false;
    else if (n == 6 + 7 && strncmp(seg + 6, "bedrock", 7) == 0)
        e->bedrock = true;
    else
        e->bad_value = true;
    return true;
}

enum bgw_status json_mapping_take_enums(char *query, bool *bedrock, struct bgw_error *err)
{
    struct s_enums e = {false, 0, false};
    json_mapping_query_remove(query, s_take_enums, &e);
    *bedrock = e.bedrock;
    if (e.seen > 1)
        return bgw_error_set(err, BGW_ERR_INVALID_ARGUMENT, "enums",
                             "query parameter enums given more than once");
    if (e.bad_value)
        return bgw_error_set(err, BGW_ERR_INVALID_ARGUMENT, "enums",
                             "enums must be proto (MODEL_IMPORT_JOB_STATUS_COMPLETED, the "
                             "default) or bedrock (Completed)");
    return BGW_OK;
}

/* Written straight into out (json_write): no document is built. Proto3
 * JSON leaves default-valued strings out, absent or empty alike. */
static int s_render(const struct jobs_response *r, struct buf *out, bool bedrock_enums)
{
    size_t start = out->len;
    int rc = buf_append_fast(out, "{\"modelImportJobSummaries\":[", 28);
    for (size_t i = 0; i < r->n_summaries && rc == 0; i++) {
        const struct jobs_summary *s = &r->summaries[i];
        const char *status =
            bedrock_enums ? jobs_status_bedrock(s->status) : jobs_status_proto(s->status);
        bool first = true;
        rc |= buf_append_fast(out, i ? ",{" : "{", i ? 2 : 1);
        rc |= json_write_member_str(out, &first, "jobArn", s->job_arn, true);
        rc |= json_write_member_str(out, &first, "jobName", s->job_name, true);
        rc |= json_write_member_str(out, &first, "status", status, true);
        rc |= json_write_member_time(out, &first, "lastModifiedTime", s->has_last_modified_time,
                                     s->last_modified_time);
        rc |= json_write_member_time(out, &first, "creationTime", s->has_creation_time,
                                     s->creation_time);
        rc |= json_write_member_time(out, &first, "endTime", s->has_end_time, s->end_time);
        rc |= json_write_member_str(out, &first, "importedModelArn", s->imported_model_arn, true);
        rc |= json_write_member_str(out, &first, "importedModelName", s->imported_model_name, true);
        rc |= buf_append_fast(out, "}", 1);
    }
    bool first = false;
    rc |= buf_append_fast(out, "]", 1);
    rc |= json_write_member_str(out, &first, "nextToken", r->next_token, true);
    rc |= buf_append_fast(out, "}", 1);
    return json_write_end(out, start, rc);
}

static int s_dump(json_t *root, struct buf *out)
{
    char *text = json_dumps(root, JSON_COMPACT);
    int rc = -1;
    if (!text)
        return -1;
    rc = buf_append_str(out, text);
    free(text);
    return rc;
}

int json_mapping_render_error(const struct bgw_error *e, struct buf *out)
{
    int rc = -1;
    json_t *root = json_object();
    json_t *details = json_array();
    const char *message = e->message[0] ? e->message : bgw_status_str(e->status);

    if (!root || !details) {
        json_decref(details);
        goto cleanup;
    }
    if (s_set(root, "code", json_integer(bgw_status_grpc_code(e->status))) ||
        s_set(root, "message", s_string(message)) ||
        json_object_set_new(root, "details", details) != 0)
        goto cleanup;
    if (e->status == BGW_ERR_INVALID_ARGUMENT && e->field[0]) {
        json_t *bad = json_object();
        json_t *violations = json_array();
        json_t *v = json_object();
        if (!bad || !violations || !v) {
            json_decref(bad);
            json_decref(violations);
            json_decref(v);
            goto cleanup;
        }
        if (json_array_append_new(details, bad) != 0) {
            json_decref(violations);
            json_decref(v);
            goto cleanup;
        }
        if (s_set(bad, "@type", json_string("type.googleapis.com/google.rpc.BadRequest")) ||
            json_object_set_new(bad, "fieldViolations", violations) != 0) {
            json_decref(v);
            goto cleanup;
        }
        if (json_array_append_new(violations, v) != 0 || s_set(v, "field", s_string(e->field)) ||
            s_set(v, "description", s_string(message)))
            goto cleanup;
    }
    if (e->retry_after_s > 0) {
        char delay[32];
        json_t *retry = json_object();
        if (!retry || json_array_append_new(details, retry) != 0)
            goto cleanup;
        snprintf(delay, sizeof(delay), "%ds", e->retry_after_s);
        if (s_set(retry, "@type", json_string("type.googleapis.com/google.rpc.RetryInfo")) ||
            s_set(retry, "retryDelay", json_string(delay)))
            goto cleanup;
    }
    rc = s_dump(root, out);

cleanup:
    json_decref(root);
    return rc;
}
