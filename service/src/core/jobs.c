/*
 * jobs - the ListModelImportJobs request/response model: clean-up, the enum
 * spelling tables and the one validation routine (Bedrock's limits, DESIGN.md
 * section 2). See jobs.h.
 *
 * Owns nothing beyond the strings inside the structs it cleans up. Never does
 * I/O, never reads the clock, and never copies more than a short, printable
 * excerpt of client input into an error message.
 */
#include "jobs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Range of google.protobuf.Timestamp: 0001-01-01T00:00:00Z ..
 * 9999-12-31T23:59:59.999999999Z. */
#define S_TIME_MIN_SECONDS (-62135596800LL)
#define S_TIME_MAX_SECONDS (253402300799LL)

/* ---- clean-up ------------------------------------------------------------ */

void jobs_request_clean_up(struct jobs_request *r)
{
    if (!r)
        return;
    free(r->name_contains);
    free(r->next_token);
    memset(r, 0, sizeof(*r));
}

static int s_dup_opt(const char *src, char **dst)
{
    *dst = NULL;
    if (!src)
        return 0;
    *dst = strdup(src);
    return *dst ? 0 : -1;
}

int jobs_request_copy(const struct jobs_request *src, struct jobs_request *dst)
{
    *dst = *src;
    dst->name_contains = NULL;
    dst->next_token = NULL;
    if (s_dup_opt(src->name_contains, &dst->name_contains) != 0 ||
        s_dup_opt(src->next_token, &dst->next_token) != 0) {
        jobs_request_clean_up(dst);
        return -1;
    }
    return 0;
}

void jobs_summary_clean_up(struct jobs_summary *s)
{
    if (!s)
        return;
    free(s->job_arn);
    free(s->job_name);
    free(s->imported_model_arn);
    free(s->imported_model_name);
    memset(s, 0, sizeof(*s));
}

void jobs_response_clean_up(struct jobs_response *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_summaries; i++)
        jobs_summary_clean_up(&r->summaries[i]);
    free(r->summaries);
    free(r->next_token);
    memset(r, 0, sizeof(*r));
}

/* ---- enum spellings ------------------------------------------------------ */

/* Every value has three accepted spellings (and its number): the proto
 * name, the proto name without its enum's prefix, and Bedrock's. The same
 * table serves REST, the examples' documentation and the error messages. */
struct s_enum_name {
    int value;
    const char *proto;
    const char *bedrock;
    const char *short_name;
};

static const struct s_enum_name s_status_names[] = {
    {JOBS_STATUS_IN_PROGRESS, "MODEL_IMPORT_JOB_STATUS_IN_PROGRESS", "InProgress", "IN_PROGRESS"},
    {JOBS_STATUS_COMPLETED, "MODEL_IMPORT_JOB_STATUS_COMPLETED", "Completed", "COMPLETED"},
    {JOBS_STATUS_FAILED, "MODEL_IMPORT_JOB_STATUS_FAILED", "Failed", "FAILED"},
    {0, NULL, NULL, NULL},
};

static const struct s_enum_name s_sort_by_names[] = {
    {JOBS_SORT_BY_CREATION_TIME, "SORT_BY_CREATION_TIME", "CreationTime", "CREATION_TIME"},
    {0, NULL, NULL, NULL},
};

static const struct s_enum_name s_sort_order_names[] = {
    {JOBS_SORT_ORDER_ASCENDING, "SORT_ORDER_ASCENDING", "Ascending", "ASCENDING"},
    {JOBS_SORT_ORDER_DESCENDING, "SORT_ORDER_DESCENDING", "Descending", "DESCENDING"},
    {0, NULL, NULL, NULL},
};

static const struct s_enum_name *s_enum_find(const struct s_enum_name *t, int v)
{
    if (v == 0)
        return NULL;
    for (; t->proto; t++) {
        if (t->value == v)
            return t;
    }
    return NULL;
}

/* Case-sensitive, like every proto3 JSON parser. A number must be plain
 * decimal digits without sign or leading zeros. */
static int s_enum_parse(const struct s_enum_name *t, const char *s)
{
    if (!s || !*s)
        return -1;
    if (s[0] >= '1' && s[0] <= '9') {
        long v = 0;
        for (const char *p = s; *p; p++) {
            if (*p < '0' || *p > '9' || p - s >= 9)
                return -1;
            v = v * 10 + (*p - '0');
        }
        return s_enum_find(t, (int)v) ? (int)v : -1;
    }
    for (; t->proto; t++) {
        if (strcmp(s, t->proto) == 0 || strcmp(s, t->bedrock) == 0 || strcmp(s, t->short_name) == 0)
            return t->value;
    }
    return -1;
}

const char *jobs_status_bedrock(int v)
{
    const struct s_enum_name *e = s_enum_find(s_status_names, v);
    return e ? e->bedrock : NULL;
}

const char *jobs_status_proto(int v)
{
    const struct s_enum_name *e = s_enum_find(s_status_names, v);
    return e ? e->proto : NULL;
}

int jobs_status_parse(const char *s)
{
    return s_enum_parse(s_status_names, s);
}

const char *jobs_sort_by_bedrock(int v)
{
    const struct s_enum_name *e = s_enum_find(s_sort_by_names, v);
    return e ? e->bedrock : NULL;
}

const char *jobs_sort_by_proto(int v)
{
    const struct s_enum_name *e = s_enum_find(s_sort_by_names, v);
    return e ? e->proto : NULL;
}

int jobs_sort_by_parse(const char *s)
{
    return s_enum_parse(s_sort_by_names, s);
}

const char *jobs_sort_order_bedrock(int v)
{
    const struct s_enum_name *e = s_enum_find(s_sort_order_names, v);
    return e ? e->bedrock : NULL;
}

const char *jobs_sort_order_proto(int v)
{
    const struct s_enum_name *e = s_enum_find(s_sort_order_names, v);
    return e ? e->proto : NULL;
}

int jobs_sort_order_parse(const char *s)
{
    return s_enum_parse(s_sort_order_names, s);
}

/* ---- validation ---------------------------------------------------------- */

static int s_is_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Whitespace as Java's \s (the pattern language of the Bedrock model):
 * space, \t, \n, \v, \f, \r. */
static int s_is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* Describes byte c for a message without echoing anything unprintable:
 * "'x'" for printable ASCII, "byte 0xNN" otherwise. */
static void s_describe_byte(unsigned char c, char *out, size_t out_len)
{
    static const char hex[] = "0123456789ABCDEF";
    if (c > 0x20 && c < 0x7f)
        snprintf(out, out_len, "'%c'", c);
    else if (c == ' ')
        snprintf(out, out_len, "space");
    else
        snprintf(out, out_len, "byte 0x%c%c", hex[c >> 4], hex[c & 0xf]);
}

static int s_time_valid(struct bgw_time t)
{
    return t.nanos >= 0 && t.nanos <= 999999999 && t.seconds >= S_TIME_MIN_SECONDS &&
           t.seconds <= S_TIME_MAX_SECONDS;
}

static enum bgw_status s_check_time(struct bgw_time t, const char *field, struct bgw_error *err)
{
    if (t.nanos < 0 || t.nanos > 999999999)
        return bgw_error_set(err, BGW_ERR_INVALID_ARGUMENT, field,
                             "%s nanos must be between 0 and 999999999, got %d", field,
                             (int)t.nanos);
    if (!s_time_valid(t))
        return bgw_error_set(err, BGW_ERR_INVALID_ARGUMENT, field,
                             "%s must be between 0001-01-01T00:00:00Z and "
                             "9999-12-31T23:59:59.999999999Z, got %lld seconds",
                             field, (long long)t.seconds);
    return BGW_OK;
}

/* The Bedrock pattern [a-zA-Z0-9](-*[a-zA-Z0-9\+\-\.])* : after a leading
 * alphanumeric, each group is any run of '-' followed by one character of
 * [a-zA-Z0-9+-.]; since that class contains '-' itself, the groups match
 * exactly the strings over [a-zA-Z0-9+.-]. So: first byte alphanumeric, the
 * rest from [a-zA-Z0-9+.-] (a trailing '-' or '.' is fine). ASCII only. */
static enum bgw_status s_check_name_contains(const char *s, struct bgw_error *err)
{
    static const char *f = "nameContains";
    size_t n = strlen(s);
    if (n < 1 || n > JOBS_NAME_CONTAINS_MAX)
        return bgw_error_set(err, BGW_ERR_INVALID_ARGUMENT, f,
                             "nameContains must be 1 to %d characters long, got %zu",
                             JOBS_NAME_CONTAINS_MAX, n);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int ok = s_is_alnum(c) || (i > 0 && (c == '+' || c == '-' || c == '.'));
        if (!ok) {
            char what[16];
            s_describe_byte(c, what, sizeof(what));
            return bgw_error_set(err, BGW_ERR_INVALID_ARGUMENT, f,
                                 "nameContains must match [a-zA-Z0-9](-*[a-zA-Z0-9+\\-.])* "
                                 "(start with a letter or digit, then letters, digits, "
                                 "'+', '-' or '.'), got %s at position %zu",
                                 what, i + 1);
        }
    }
    return BGW_OK;
}

static enum bgw_status s_check_next_token(const char *s, struct bgw_error *err)
{
    static const char *f = "nextToken";
    size_t n = strlen(s);
    if (n < 1 || n > JOBS_NEXT_TOKEN_MAX)
        return bgw_error_set(err, BGW_ERR_INVALID_ARGUMENT, f,
                             "nextToken must be 1 to %d characters long, got %zu",
                             JOBS_NEXT_TOKEN_MAX, n);
    for (size_t i = 0; i < n; i++) {
        if (s_is_space((unsigned char)s[i]))
            return bgw_error_set(err, BGW_ERR_INVALID_ARGUMENT, f,
                                 "nextToken must not contain whitespace, found at position %zu",
                                 i + 1);
    }
    return BGW_OK;
}

enum bgw_status jobs_request_validate(const struct jobs_request *r, struct bgw_error *err)
{
    enum bgw_status rc;

    /* Proto field order, so the first defect reported is predictable. */
    if (r->has_creation_time_after) {
        rc = s_check_time(r->creation_time_after, "creationTimeAfter", err);
        if (rc != BGW_OK)
            return rc;
    }
    if (r->has_creation_time_before) {
        rc = s_check_time(r->creation_time_before, "creationTimeBefore", err);
        if (rc != BGW_OK)
            return rc;
    }
    if (r->has_creation_time_after && r->has_creation_time_before) {
        const struct bgw_time *a = &r->creation_time_after;
        const struct bgw_time *b = &r->creation_time_before;
        if (a->seconds > b->seconds || (a->seconds == b->seconds && a->nanos > b->nanos))
            return bgw_error_set(err, BGW_ERR_INVALID_ARGUMENT, "creationTimeAfter",
                                 "creationTimeAfter must not be later than creationTimeBefore");
    }
    if (r->status_equals != 0 && !jobs_status_proto(r->status_equals))
        return bgw_error_set(err, BGW_ERR_INVALID_ARGUMENT, "statusEquals",
                             "statusEquals must be IN_PROGRESS, COMPLETED or FAILED, "
                             "got unknown value %d",
                             r->status_equals);
    if (r->name_contains) {
        rc = s_check_name_contains(r->name_contains, err);
        if (rc != BGW_OK)
            return rc;
    }
    if (r->has_max_results &&
        (r->max_results < JOBS_MAX_RESULTS_MIN || r->max_results > JOBS_MAX_RESULTS_MAX))
        return bgw_error_set(err, BGW_ERR_INVALID_ARGUMENT, "maxResults",
                             "maxResults must be between %d and %d, got %lld", JOBS_MAX_RESULTS_MIN,
                             JOBS_MAX_RESULTS_MAX, (long long)r->max_results);
    if (r->next_token) {
        rc = s_check_next_token(r->next_token, err);
        if (rc != BGW_OK)
            return rc;
    }
    if (r->sort_by != 0 && !jobs_sort_by_proto(r->sort_by))
        return bgw_error_set(err, BGW_ERR_INVALID_ARGUMENT, "sortBy",
                             "sortBy must be CREATION_TIME, got unknown value %d", r->sort_by);
    if (r->sort_order != 0 && !jobs_sort_order_proto(r->sort_order))
        return bgw_error_set(err, BGW_ERR_INVALID_ARGUMENT, "sortOrder",
                             "sortOrder must be ASCENDING or DESCENDING, got unknown value %d",
                             r->sort_order);
    return BGW_OK;
}
