/*
 * policy - per-tenant filter policy: parse, intersect, post-filter, redact.
 * See policy.h. No I/O, no clock.
 */
#include "policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timeutil.h"

void policy_clean_up(struct policy *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_prefixes; i++)
        free(p->prefixes[i]);
    free(p->prefixes);
    memset(p, 0, sizeof(*p));
}

/* ---- parsing -------------------------------------------------------------- */

static int s_fail(struct buf *err, const char *path, const char *key, const char *msg)
{
    buf_appendf(err, "%s%s%s: %s", path, key ? "." : "", key ? key : "", msg);
    return -1;
}

static int s_parse_prefixes(json_t *v, const char *path, struct policy *p, struct buf *err)
{
    static const char *k = "job_name_prefixes";
    if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > POLICY_MAX_PREFIXES)
        return s_fail(err, path, k,
                      "must be a non-empty array of name prefixes (omit it to allow every name)");
    size_t n = json_array_size(v);
    p->prefixes = calloc(n, sizeof(char *));
    if (!p->prefixes)
        return s_fail(err, path, k, "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(v, i);
        const char *s = json_is_string(e) ? json_string_value(e) : NULL;
        size_t len = s ? json_string_length(e) : 0;
        int ok = s && len >= 1 && len <= POLICY_PREFIX_MAX && strlen(s) == len;
        for (size_t j = 0; ok && j < len; j++) {
            unsigned char c = (unsigned char)s[j];
            if (c < 0x20 || c == 0x7f)
                ok = 0;
        }
        if (!ok) {
            char msg[160];
            snprintf(msg, sizeof(msg), "entry %zu must be a string of 1-%d printable characters", i,
                     POLICY_PREFIX_MAX);
            return s_fail(err, path, k, msg);
        }
        p->prefixes[i] = strdup(s);
        if (!p->prefixes[i])
            return s_fail(err, path, k, "out of memory");
        p->n_prefixes = i + 1;
    }
    return 0;
}

static int s_parse_statuses(json_t *v, const char *path, struct policy *p, struct buf *err)
{
    static const char *k = "statuses";
    if (!json_is_array(v) || json_array_size(v) == 0)
        return s_fail(err, path, k,
                      "must be a non-empty array of \"InProgress\", \"Completed\", \"Failed\" "
                      "(omit it to allow every status)");
    for (size_t i = 0; i < json_array_size(v); i++) {
        json_t *e = json_array_get(v, i);
        int st = json_is_string(e) ? jobs_status_parse(json_string_value(e)) : -1;
        if (st <= 0) {
            char msg[160];
            snprintf(msg, sizeof(msg),
                     "entry %zu must be \"InProgress\", \"Completed\" or \"Failed\"", i);
            return s_fail(err, path, k, msg);
        }
        p->statuses |= 1u << st;
    }
    return 0;
}

static int s_parse_time(json_t *o, const char *key, const char *path, bool *has, struct bgw_time *t,
                        struct buf *err)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v) || timeutil_parse_rfc3339(json_string_value(v), t) != 0)
        return s_fail(err, path, key,
                      "must be an RFC 3339 time such as \"2024-01-01T00:00:00Z\", or null");
    *has = true;
    return 0;
}

static const struct {
    const char *name;
    unsigned bit;
} s_redactable[] = {
    {"importedModelArn", POLICY_REDACT_IMPORTED_MODEL_ARN},
    {"importedModelName", POLICY_REDACT_IMPORTED_MODEL_NAME},
    {"endTime", POLICY_REDACT_END_TIME},
    {"lastModifiedTime", POLICY_REDACT_LAST_MODIFIED_TIME},
};

static int s_parse_redact(json_t *v, const char *path, struct policy *p, struct buf *err)
{
    static const char *k = "redact";
    if (!json_is_array(v))
        return s_fail(err, path, k, "must be an array of field names");
    for (size_t i = 0; i < json_array_size(v); i++) {
        json_t *e = json_array_get(v, i);
        unsigned bit = 0;
        for (size_t j = 0; json_is_string(e) && j < sizeof(s_redactable) / sizeof(s_redactable[0]);
             j++) {
            if (strcmp(json_string_value(e), s_redactable[j].name) == 0)
                bit = s_redactable[j].bit;
        }
        if (!bit) {
            char msg[200];
            snprintf(msg, sizeof(msg),
                     "entry %zu must be one of \"importedModelArn\", \"importedModelName\", "
                     "\"endTime\", \"lastModifiedTime\"",
                     i);
            return s_fail(err, path, k, msg);
        }
        p->redact |= bit;
    }
    return 0;
}

int policy_parse_json(json_t *j, const char *path, struct policy *out, struct buf *err)
{
    memset(out, 0, sizeof(*out));
    if (!j)
        return 0;
    int rc = -1;
    if (!json_is_object(j)) {
        s_fail(err, path, NULL, "must be an object");
        goto cleanup;
    }
    static const char *const keys[] = {"job_name_prefixes",
                                       "statuses",
                                       "created_after",
                                       "created_before",
                                       "max_results",
                                       "redact",
                                       NULL};
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v)
    {
        int known = 0;
        for (const char *const *a = keys; *a; a++) {
            if (strcmp(*a, k) == 0)
                known = 1;
        }
        if (!known) {
            s_fail(err, path, k, "unknown key");
            goto cleanup;
        }
    }
    if ((v = json_object_get(j, "job_name_prefixes")) && !json_is_null(v) &&
        s_parse_prefixes(v, path, out, err) != 0)
        goto cleanup;
    if ((v = json_object_get(j, "statuses")) && !json_is_null(v) &&
        s_parse_statuses(v, path, out, err) != 0)
        goto cleanup;
    if (s_parse_time(j, "created_after", path, &out->has_created_after, &out->created_after, err) !=
            0 ||
        s_parse_time(j, "created_before", path, &out->has_created_before, &out->created_before,
                     err) != 0)
        goto cleanup;
    if (out->has_created_after && out->has_created_before &&
        timeutil_compare(out->created_after, out->created_before) >= 0) {
        s_fail(err, path, "created_after", "must be earlier than created_before");
        goto cleanup;
    }
    if ((v = json_object_get(j, "max_results")) && !json_is_null(v)) {
        if (!json_is_integer(v) || json_integer_value(v) < JOBS_MAX_RESULTS_MIN ||
            json_integer_value(v) > JOBS_MAX_RESULTS_MAX) {
            s_fail(err, path, "max_results", "must be an integer from 1 to 1000, or null");
            goto cleanup;
        }
        out->max_results = json_integer_value(v);
    }
    if ((v = json_object_get(j, "redact")) && !json_is_null(v) &&
        s_parse_redact(v, path, out, err) != 0)
        goto cleanup;
    rc = 0;
cleanup:
    if (rc != 0)
        policy_clean_up(out);
    return rc;
}

/* ---- applying ------------------------------------------------------------- */

void policy_view_clean_up(struct policy_view *v)
{
    if (!v)
        return;
    jobs_request_clean_up(&v->upstream);
    free(v->caller_name_contains);
    memset(v, 0, sizeof(*v));
}

static unsigned s_popcount(unsigned x)
{
    unsigned n = 0;
    for (; x; x &= x - 1)
        n++;
    return n;
}

static int s_lowest_bit(unsigned x)
{
    for (int i = 0; i < 32; i++) {
        if (x & (1u << i))
            return i;
    }
    return 0;
}

/* A prefix can be pushed down as nameContains only if Bedrock accepts it. */
static bool s_valid_name_contains(const char *s)
{
    struct jobs_request r;
    memset(&r, 0, sizeof(r));
    r.name_contains = (char *)s;
    struct bgw_error e;
    return jobs_request_validate(&r, &e) == BGW_OK;
}

enum bgw_status policy_apply(const struct policy *p, const struct jobs_request *req,
                             struct policy_view *out)
{
    memset(out, 0, sizeof(*out));
    out->policy = p;
    struct jobs_request *u = &out->upstream;
    if (jobs_request_copy(req, u) != 0)
        goto nomem;
    free(u->next_token);
    u->next_token = NULL;
    u->has_max_results = false;
    u->max_results = 0;
    if (req->name_contains) {
        out->caller_name_contains = strdup(req->name_contains);
        if (!out->caller_name_contains)
            goto nomem;
    }

    /* Time window: the tighter bound of each side. */
    if (p->has_created_after && (!u->has_creation_time_after ||
                                 timeutil_compare(p->created_after, u->creation_time_after) > 0)) {
        u->has_creation_time_after = true;
        u->creation_time_after = p->created_after;
    }
    if (p->has_created_before &&
        (!u->has_creation_time_before ||
         timeutil_compare(p->created_before, u->creation_time_before) < 0)) {
        u->has_creation_time_before = true;
        u->creation_time_before = p->created_before;
    }
    /* Strict bounds: after >= before leaves nothing (equal bounds from the
     * caller alone still go upstream, as before any policy existed). */
    if (u->has_creation_time_after && u->has_creation_time_before &&
        timeutil_compare(u->creation_time_after, u->creation_time_before) > 0)
        out->empty = true;
    if (u->has_creation_time_after && u->has_creation_time_before &&
        timeutil_compare(u->creation_time_after, u->creation_time_before) == 0 &&
        (p->has_created_after || p->has_created_before))
        out->empty = true;

    /* Status: the caller's must be allowed; a single allowed one is pushed. */
    if (p->statuses) {
        if (u->status_equals) {
            if (!(p->statuses & (1u << u->status_equals)))
                out->empty = true;
        } else if (s_popcount(p->statuses) == 1) {
            u->status_equals = s_lowest_bit(p->statuses);
        } else {
            out->post_filter = true;
        }
    }

    /* Names: a single prefix becomes nameContains when the caller gave none
     * (a substring match upstream, so the prefix check stays). */
    if (p->n_prefixes) {
        out->post_filter = true;
        if (!u->name_contains && p->n_prefixes == 1 && s_valid_name_contains(p->prefixes[0])) {
            u->name_contains = strdup(p->prefixes[0]);
            if (!u->name_contains)
                goto nomem;
        }
    }
    return BGW_OK;
nomem:
    policy_view_clean_up(out);
    return BGW_ERR_NOMEM;
}

bool policy_view_visible(const struct policy_view *v, const struct jobs_summary *s)
{
    const struct policy *p = v->policy;
    const struct jobs_request *u = &v->upstream;
    if (v->empty || !s->job_name || !s->job_arn)
        return false;
    if (p->statuses && (s->status <= 0 || s->status >= 32 || !(p->statuses & (1u << s->status))))
        return false;
    if (u->status_equals && s->status != u->status_equals)
        return false;
    if (u->has_creation_time_after &&
        (!s->has_creation_time || timeutil_compare(s->creation_time, u->creation_time_after) <= 0))
        return false;
    if (u->has_creation_time_before &&
        (!s->has_creation_time || timeutil_compare(s->creation_time, u->creation_time_before) >= 0))
        return false;
    if (v->caller_name_contains && !strstr(s->job_name, v->caller_name_contains))
        return false;
    if (p->n_prefixes) {
        bool any = false;
        for (size_t i = 0; i < p->n_prefixes && !any; i++)
            any = strncmp(s->job_name, p->prefixes[i], strlen(p->prefixes[i])) == 0;
        if (!any)
            return false;
    }
    return true;
}

void policy_redact(const struct policy *p, struct jobs_summary *s)
{
    if (p->redact & POLICY_REDACT_IMPORTED_MODEL_ARN) {
        free(s->imported_model_arn);
        s->imported_model_arn = NULL;
    }
    if (p->redact & POLICY_REDACT_IMPORTED_MODEL_NAME) {
        free(s->imported_model_name);
        s->imported_model_name = NULL;
    }
    if (p->redact & POLICY_REDACT_END_TIME) {
        s->has_end_time = false;
        memset(&s->end_time, 0, sizeof(s->end_time));
    }
    if (p->redact & POLICY_REDACT_LAST_MODIFIED_TIME) {
        s->has_last_modified_time = false;
        memset(&s->last_modified_time, 0, sizeof(s->last_modified_time));
    }
}

int64_t policy_page_size(const struct policy *p, const struct jobs_request *req,
                         int64_t default_size)
{
    int64_t n = req->has_max_results ? req->max_results : default_size;
    if (p->max_results > 0 && n > p->max_results)
        n = p->max_results;
    return n;
}

int policy_filters_canon(const struct jobs_request *r, char *out, size_t out_len)
{
    char after[TIMEUTIL_FMT_MAX + 24] = "-", before[TIMEUTIL_FMT_MAX + 24] = "-";
    if (r->has_creation_time_after)
        snprintf(after, sizeof(after), "%lld.%09d", (long long)r->creation_time_after.seconds,
                 (int)r->creation_time_after.nanos);
    if (r->has_creation_time_before)
        snprintf(before, sizeof(before), "%lld.%09d", (long long)r->creation_time_before.seconds,
                 (int)r->creation_time_before.nanos);
    int sort_by = r->sort_by ? r->sort_by : JOBS_SORT_BY_CREATION_TIME;
    int sort_order = r->sort_order ? r->sort_order : JOBS_SORT_ORDER_DESCENDING;
    int n = snprintf(out, out_len, "a=%s;b=%s;s=%d;sb=%d;so=%d;n=%s%s", after, before,
                     r->status_equals, sort_by, sort_order, r->name_contains ? "+" : "-",
                     r->name_contains ? r->name_contains : "");
    if (n < 0 || (size_t)n >= out_len)
        return -1;
    return n;
}
