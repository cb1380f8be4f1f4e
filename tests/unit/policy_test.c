/*
 * policy_test - parsing (every key, every error names its key), the
 * intersection with a request (push-down, empty results), the post-filter,
 * redaction, the page-size cap and the canonical filter text. No I/O.
 */
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "test_util.h"

static int s_parse(const char *text, struct policy *p, char *msg, size_t msg_len)
{
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    struct buf err;
    buf_init(&err, 0);
    int rc = policy_parse_json(j, "tenants[0].policy", p, &err);
    snprintf(msg, msg_len, "%s", err.data ? err.data : "");
    buf_clean_up(&err);
    json_decref(j);
    return rc;
}

static void test_parse(void)
{
    struct policy p;
    char msg[512];
    CHECK(
        s_parse("{\"job_name_prefixes\": [\"team-a-\", \"x\"], \"statuses\": [\"Completed\", "
                "\"MODEL_IMPORT_JOB_STATUS_FAILED\"], \"created_after\": \"2024-01-01T00:00:00Z\", "
                "\"created_before\": null, \"max_results\": 50, \"redact\": [\"importedModelArn\", "
                "\"lastModifiedTime\"]}",
                &p, msg, sizeof(msg)) == 0);
    CHECK(p.n_prefixes == 2);
    CHECK_STR(p.prefixes[0], "team-a-");
    CHECK(p.statuses == ((1u << JOBS_STATUS_COMPLETED) | (1u << JOBS_STATUS_FAILED)));
    CHECK(p.has_created_after && p.created_after.seconds == 1704067200);
    CHECK(!p.has_created_before);
    CHECK(p.max_results == 50);
    CHECK(p.redact == (POLICY_REDACT_IMPORTED_MODEL_ARN | POLICY_REDACT_LAST_MODIFIED_TIME));
    policy_clean_up(&p);

    CHECK(policy_parse_json(NULL, "x", &p, NULL) == 0);
    CHECK(p.n_prefixes == 0 && p.statuses == 0 && p.max_results == 0);

    static const struct {
        const char *json, *key;
    } bad[] = {
        {"[]", "tenants[0].policy"},
        {"{\"bogus\": 1}", "tenants[0].policy.bogus"},
        {"{\"job_name_prefixes\": []}", "job_name_prefixes"},
        {"{\"job_name_prefixes\": [\"\"]}", "job_name_prefixes"},
        {"{\"job_name_prefixes\": [3]}", "job_name_prefixes"},
        {"{\"job_name_prefixes\": [\"a\\nb\"]}", "job_name_prefixes"},
        {"{\"job_name_prefixes\": "
         "[\"0123456789012345678901234567890123456789012345678901234567890123\"]}",
         "job_name_prefixes"},
        {"{\"statuses\": [\"Done\"]}", "statuses"},
        {"{\"statuses\": []}", "statuses"},
        {"{\"created_after\": \"2024-01-01\"}", "created_after"},
        {"{\"created_before\": 5}", "created_before"},
        {"{\"created_after\": \"2024-01-02T00:00:00Z\", \"created_before\": "
         "\"2024-01-01T00:00:00Z\"}",
         "created_after"},
        {"{\"max_results\": 0}", "max_results"},
        {"{\"max_results\": 1001}", "max_results"},
        {"{\"max_results\": \"5\"}", "max_results"},
        {"{\"redact\": [\"jobArn\"]}", "redact"},
        {"{\"redact\": \"endTime\"}", "redact"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (!CHECK(s_parse(bad[i].json, &p, msg, sizeof(msg)) != 0))
            fprintf(stderr, "  case %zu accepted\n", i);
        else if (!CHECK(strstr(msg, bad[i].key) != NULL))
            fprintf(stderr, "  case %zu: %s\n", i, msg);
        CHECK(p.prefixes == NULL);
    }
}

static struct jobs_summary s_job(const char *name, int status, int64_t ct)
{
    struct jobs_summary s;
    memset(&s, 0, sizeof(s));
    s.job_arn = (char *)"arn:x";
    s.job_name = (char *)name;
    s.status = status;
    s.has_creation_time = true;
    s.creation_time.seconds = ct;
    return s;
}

static void test_apply(void)
{
    struct policy p;
    char msg[256];
    CHECK(s_parse("{\"job_name_prefixes\": [\"team-a-\"], \"statuses\": [\"Completed\"], "
                  "\"created_after\": \"2024-01-01T00:00:00Z\", \"created_before\": "
                  "\"2025-01-01T00:00:00Z\", \"max_results\": 5}",
                  &p, msg, sizeof(msg)) == 0);
    const int64_t A = 1704067200, B = 1735689600;
    struct jobs_request r;
    memset(&r, 0, sizeof(r));
    struct policy_view v;

    /* Nothing asked: everything pushed that can be. */
    CHECK(policy_apply(&p, &r, &v) == BGW_OK);
    CHECK(!v.empty && v.post_filter);
    CHECK_STR(v.upstream.name_contains, "team-a-");
    CHECK(v.upstream.status_equals == JOBS_STATUS_COMPLETED);
    CHECK(v.upstream.has_creation_time_after && v.upstream.creation_time_after.seconds == A);
    CHECK(v.upstream.has_creation_time_before && v.upstream.creation_time_before.seconds == B);
    CHECK(!v.upstream.has_max_results && v.upstream.next_token == NULL);
    struct jobs_summary s = s_job("team-a-1", JOBS_STATUS_COMPLETED, A + 1);
    CHECK(policy_view_visible(&v, &s));
    s.creation_time.seconds = A; /* strict */
    CHECK(!policy_view_visible(&v, &s));
    s.creation_time.seconds = B;
    CHECK(!policy_view_visible(&v, &s));
    s = s_job("Team-a-1", JOBS_STATUS_COMPLETED, A + 1); /* case-sensitive */
    CHECK(!policy_view_visible(&v, &s));
    s = s_job("x-team-a-1", JOBS_STATUS_COMPLETED, A + 1); /* prefix, not substring */
    CHECK(!policy_view_visible(&v, &s));
    s = s_job("team-a-1", JOBS_STATUS_FAILED, A + 1);
    CHECK(!policy_view_visible(&v, &s));
    s = s_job("team-a-1", JOBS_STATUS_COMPLETED, A + 1);
    s.has_creation_time = false;
    CHECK(!policy_view_visible(&v, &s));
    policy_view_clean_up(&v);

    /* The caller's nameContains goes upstream and is checked too; tighter
     * times win. */
    r.name_contains = (char *)"llama";
    r.has_creation_time_after = true;
    r.creation_time_after.seconds = A + 100;
    r.has_creation_time_before = true;
    r.creation_time_before.seconds = B + 100;
    CHECK(policy_apply(&p, &r, &v) == BGW_OK);
    CHECK_STR(v.upstream.name_contains, "llama");
    CHECK(v.upstream.creation_time_after.seconds == A + 100);
    CHECK(v.upstream.creation_time_before.seconds == B);
    s = s_job("team-a-llama", JOBS_STATUS_COMPLETED, A + 101);
    CHECK(policy_view_visible(&v, &s));
    s = s_job("team-a-1", JOBS_STATUS_COMPLETED, A + 101);
    CHECK(!policy_view_visible(&v, &s));
    policy_view_clean_up(&v);

    /* Outside the policy: empty. */
    memset(&r, 0, sizeof(r));
    r.status_equals = JOBS_STATUS_FAILED;
    CHECK(policy_apply(&p, &r, &v) == BGW_OK && v.empty);
    policy_view_clean_up(&v);
    memset(&r, 0, sizeof(r));
    r.has_creation_time_before = true;
    r.creation_time_before.seconds = A;
    CHECK(policy_apply(&p, &r, &v) == BGW_OK && v.empty);
    policy_view_clean_up(&v);
    memset(&r, 0, sizeof(r));
    r.has_creation_time_after = true;
    r.creation_time_after.seconds = B + 1;
    CHECK(policy_apply(&p, &r, &v) == BGW_OK && v.empty);
    policy_view_clean_up(&v);

    /* Cap. */
    memset(&r, 0, sizeof(r));
    CHECK(policy_page_size(&p, &r, 100) == 5);
    r.has_max_results = true;
    r.max_results = 3;
    CHECK(policy_page_size(&p, &r, 100) == 3);
    r.max_results = 1000;
    CHECK(policy_page_size(&p, &r, 100) == 5);
    policy_clean_up(&p);

    /* Several statuses and prefixes: nothing pushed, post-filtered; an
     * unpushable prefix stays a post-filter only. */
    CHECK(s_parse("{\"job_name_prefixes\": [\"a_\"], \"statuses\": [\"Completed\", \"Failed\"]}",
                  &p, msg, sizeof(msg)) == 0);
    memset(&r, 0, sizeof(r));
    CHECK(policy_apply(&p, &r, &v) == BGW_OK);
    CHECK(!v.empty && v.post_filter && v.upstream.name_contains == NULL &&
          v.upstream.status_equals == 0);
    s = s_job("a_1", JOBS_STATUS_IN_PROGRESS, 1);
    CHECK(!policy_view_visible(&v, &s));
    s.status = JOBS_STATUS_FAILED;
    CHECK(policy_view_visible(&v, &s));
    s.status = 0; /* unknown upstream status: not in the allowed list */
    CHECK(!policy_view_visible(&v, &s));
    policy_view_clean_up(&v);
    policy_clean_up(&p);

    /* No policy: no post-filtering, nothing changed. */
    memset(&p, 0, sizeof(p));
    memset(&r, 0, sizeof(r));
    r.status_equals = JOBS_STATUS_FAILED;
    CHECK(policy_apply(&p, &r, &v) == BGW_OK);
    CHECK(!v.empty && !v.post_filter && v.upstream.status_equals == JOBS_STATUS_FAILED);
    s = s_job("anything", JOBS_STATUS_FAILED, 1);
    CHECK(policy_view_visible(&v, &s));
    policy_view_clean_up(&v);
}

static void test_redact(void)
{
    struct policy p;
    char msg[256];
    CHECK(s_parse("{\"redact\": [\"importedModelArn\", \"importedModelName\", \"endTime\", "
                  "\"lastModifiedTime\"]}",
                  &p, msg, sizeof(msg)) == 0);
    struct jobs_summary s;
    memset(&s, 0, sizeof(s));
    s.imported_model_arn = strdup("arn:m");
    s.imported_model_name = strdup("m");
    s.has_end_time = s.has_last_modified_time = s.has_creation_time = true;
    policy_redact(&p, &s);
    CHECK(!s.imported_model_arn && !s.imported_model_name);
    CHECK(!s.has_end_time && !s.has_last_modified_time && s.has_creation_time);
    policy_clean_up(&p);
}

static void test_canon(void)
{
    struct jobs_request a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    char ca[POLICY_CANON_MAX], cb[POLICY_CANON_MAX];
    b.sort_by = JOBS_SORT_BY_CREATION_TIME;
    b.sort_order = JOBS_SORT_ORDER_DESCENDING;
    b.has_max_results = true;
    b.max_results = 9;
    CHECK(policy_filters_canon(&a, ca, sizeof(ca)) > 0);
    CHECK(policy_filters_canon(&b, cb, sizeof(cb)) > 0);
    CHECK_STR(ca, cb); /* defaults and maxResults do not matter */
    b.sort_order = JOBS_SORT_ORDER_ASCENDING;
    policy_filters_canon(&b, cb, sizeof(cb));
    CHECK(strcmp(ca, cb) != 0);
    b.sort_order = 0;
    b.name_contains = (char *)"";
    policy_filters_canon(&b, cb, sizeof(cb));
    CHECK(strcmp(ca, cb) != 0); /* absent differs from anything given */
    b.name_contains = NULL;
    b.has_creation_time_after = true;
    policy_filters_canon(&b, cb, sizeof(cb));
    CHECK(strcmp(ca, cb) != 0);
    char tiny[4];
    CHECK(policy_filters_canon(&a, tiny, sizeof(tiny)) == -1);
}

int main(void)
{
    test_parse();
    test_apply();
    test_redact();
    test_canon();
    return TEST_EXIT();
}
