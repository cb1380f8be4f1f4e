/*
 * handler_test - the transport-independent core of a call: authentication
 * first (before the request is even looked at), then the frontend's decode
 * error, validation, and the upstream query; and the page -> response step.
 * The config comes from config_load_string (known key hashes). Nothing here
 * does I/O. (Signing and deadlines are the fetcher's: bedrock_client_test
 * and the integration suite.)
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "handler.h"
#include "test_util.h"

#define CHECK_EQ(a, b) CHECK((long long)(a) == (long long)(b))

/* printf %s KEY | sha256sum */
#define H_A1 "0effaf23ed21d617de082837ef24b0c232b8e9a35b686cc7601cc82163d30e05" /* key-alpha-1 */
#define H_A2 "44e5efe3d95e33bede2ae99627ebdbc5181faa7e0a7f820f5e09366a554e94f8" /* key-alpha-2 */
#define H_B1 "ce4c51791e0db31801fe2aa63da4b85a6092ef04ba14de4fd64dada624d6f283" /* key-beta-1 */

#define H_G1 "debf44a0b4aab9e36d2eeff7fa37699ca74adc278c4bf05b3004ee4dd264c412" /* key-gamma-1 */
#define T_PAGE_SIZE 37
static const char *s_config_text =
    "{\"aws\": {\"region\": \"us-east-1\", \"endpoint\": \"http://127.0.0.1:9\",\n"
    "          \"timeout_ms\": 5000},\n"
    " \"gateway\": {\"default_page_size\": 37, \"max_upstream_calls_per_request\": 3},\n"
    " \"tokens\": {\"secret\": \"handler-test-secret-0123456789abcdef\"},\n"
    " \"tenants\": [{\"id\": \"alpha\", \"api_keys\": [\"" H_A1 "\", \"" H_A2 "\"]},\n"
    "             {\"id\": \"beta\", \"api_keys\": [\"" H_B1 "\"]},\n"
    "             {\"id\": \"gamma\", \"api_keys\": [\"" H_G1 "\"],\n"
    "              \"policy\": {\"job_name_prefixes\": [\"g-\"], \"max_results\": 2,\n"
    "                         \"statuses\": [\"Completed\"], \"redact\": "
    "[\"importedModelArn\"]}}]}";

static struct config s_cfg;
static struct handler_ctx s_ctx;

static int s_setup(void)
{
    struct config_env env = {NULL, NULL, NULL, NULL};
    struct buf err;
    buf_init(&err, 0);
    if (config_load_string(s_config_text, "handler_test.json", &env, &s_cfg, &err) != 0) {
        fprintf(stderr, "config: %s\n", err.data);
        buf_clean_up(&err);
        return -1;
    }
    buf_clean_up(&err);
    s_ctx.cfg = &s_cfg;
    return 0;
}

static void s_teardown(void)
{
    config_clean_up(&s_cfg);
}

static struct handler_call *s_call(const char *authorization, const char *x_api_key)
{
    struct handler_call *c = handler_call_new(HANDLER_REST);
    if (!c)
        return NULL;
    if (authorization)
        c->authorization = strdup(authorization);
    if (x_api_key)
        c->x_api_key = strdup(x_api_key);
    return c;
}

/* Runs handler_prepare; the upstream query is left in *q (cleaned up by
 * the caller; all-zero after a failure). */
static enum bgw_status s_prepare(struct handler_call *c, struct jobs_request *q,
                                 struct bgw_error *err)
{
    memset(q, 0xa5, sizeof(*q)); /* prove handler_prepare initializes it */
    bgw_error_clear(err);
    enum handler_next next;
    struct handler_now now = {1000, 1700000000};
    enum bgw_status st = handler_prepare(&s_ctx, c, &now, &next, q, err);
    if (st == BGW_OK)
        CHECK(next == HANDLER_FETCH);
    if (st != BGW_OK) {
        static const struct jobs_request zero;
        CHECK(memcmp(q, &zero, sizeof(zero)) == 0);
    }
    return st;
}

static void test_authentication(void)
{
    struct jobs_request req;
    struct bgw_error err;

    /* No key. */
    struct handler_call *c = s_call(NULL, NULL);
    if (!CHECK(c != NULL))
        return;
    CHECK(s_prepare(c, &req, &err) == BGW_ERR_UNAUTHENTICATED);
    CHECK(err.status == BGW_ERR_UNAUTHENTICATED);
    CHECK(strstr(err.message, "missing API key") != NULL);
    CHECK(c->tenant == NULL);
    handler_call_free(c);

    /* Unknown key, by either header; the message does not echo it. */
    const char *bad[][2] = {{"Bearer key-alpha-9", NULL},
                            {NULL, "key-alpha-9"},
                            {"Bearer key-alpha-1x", NULL},
                            {"Basic a2V5LWFscGhhLTE=", NULL}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        c = s_call(bad[i][0], bad[i][1]);
        if (!CHECK(c != NULL))
            return;
        if (!CHECK(s_prepare(c, &req, &err) == BGW_ERR_UNAUTHENTICATED))
            fprintf(stderr, "  case %zu: %s\n", i, err.message);
        CHECK(c->tenant == NULL);
        CHECK(strstr(err.message, "key-alpha") == NULL);
        CHECK(strstr(err.message, "a2V5") == NULL);
        handler_call_free(c);
    }

    /* Authentication comes before validation: a bad key with an invalid
     * request says UNAUTHENTICATED, not INVALID_ARGUMENT (no probing of the
     * validator without a key). */
    c = s_call("Bearer wrong", NULL);
    if (!CHECK(c != NULL))
        return;
    c->req.has_max_results = true;
    c->req.max_results = 0;
    c->req.status_equals = 99;
    CHECK(s_prepare(c, &req, &err) == BGW_ERR_UNAUTHENTICATED);
    CHECK_STR(err.field, "");
    handler_call_free(c);

    c = s_call(NULL, NULL);
    if (!CHECK(c != NULL))
        return;
    c->req.has_max_results = true;
    c->req.max_results = 5000;
    CHECK(s_prepare(c, &req, &err) == BGW_ERR_UNAUTHENTICATED);
    handler_call_free(c);

    /* ... and before the frontend's decode error. */
    c = s_call("Bearer wrong", NULL);
    if (!CHECK(c != NULL))
        return;
    c->decode_failed = true;
    bgw_error_set(&c->decode_error, BGW_ERR_INVALID_ARGUMENT, "maxResults", "not a number");
    CHECK(s_prepare(c, &req, &err) == BGW_ERR_UNAUTHENTICATED);
    handler_call_free(c);

    /* The decode error is returned as is once the key is good. */
    c = s_call("Bearer key-alpha-1", NULL);
    if (!CHECK(c != NULL))
        return;
    c->decode_failed = true;
    bgw_error_set(&c->decode_error, BGW_ERR_INVALID_ARGUMENT, "maxResults", "not a number");
    CHECK(s_prepare(c, &req, &err) == BGW_ERR_INVALID_ARGUMENT);
    CHECK_STR(err.message, "not a number");
    CHECK_STR(err.field, "maxResults");
    CHECK(c->tenant == &s_cfg.tenants.tenants[0]);
    handler_call_free(c);
}

static void test_validation(void)
{
    struct jobs_request req;
    struct bgw_error err;

    struct handler_call *c = s_call("Bearer key-beta-1", NULL);
    if (!CHECK(c != NULL))
        return;
    c->req.has_max_results = true;
    c->req.max_results = 1001;
    CHECK(s_prepare(c, &req, &err) == BGW_ERR_INVALID_ARGUMENT);
    CHECK_STR(err.field, "maxResults");
    CHECK(c->tenant == &s_cfg.tenants.tenants[1]);
    handler_call_free(c);

    c = s_call(NULL, "key-alpha-2");
    if (!CHECK(c != NULL))
        return;
    c->req.status_equals = 42;
    CHECK(s_prepare(c, &req, &err) == BGW_ERR_INVALID_ARGUMENT);
    CHECK_STR(err.field, "statusEquals");
    handler_call_free(c);
}

static void test_success(void)
{
    struct jobs_request req;
    struct bgw_error err;

    /* Each key of each tenant; the default page size fills in maxResults. */
    static const struct {
        const char *authz, *xkey;
        size_t tenant;
    } keys[] = {
        {"Bearer key-alpha-1", NULL, 0},
        {"bearer   key-alpha-2 ", NULL, 0},
        {NULL, "key-beta-1", 1},
        {"Bearer key-beta-1", "key-beta-1", 1}, /* both headers, the same key */
    };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        struct handler_call *c = s_call(keys[i].authz, keys[i].xkey);
        if (!CHECK(c != NULL))
            return;
        enum bgw_status st = s_prepare(c, &req, &err);
        if (!CHECK(st == BGW_OK)) {
            fprintf(stderr, "  case %zu: %s\n", i, err.message);
        } else {
            CHECK(c->tenant == &s_cfg.tenants.tenants[keys[i].tenant]);
            CHECK(req.has_max_results && req.max_results == T_PAGE_SIZE);
            CHECK(req.name_contains == NULL && req.next_token == NULL);
            CHECK(!req.has_creation_time_after && !req.has_creation_time_before);
            CHECK(req.status_equals == 0 && req.sort_by == 0 && req.sort_order == 0);
        }
        jobs_request_clean_up(&req);
        handler_call_free(c);
    }

    /* Every field the client set goes upstream as is (a copy: the call keeps
     * its own); the client's page size wins over the default. */
    struct handler_call *c = s_call("Bearer key-alpha-1", NULL);
    if (!CHECK(c != NULL))
        return;
    c->req.has_max_results = true;
    c->req.max_results = 5;
    c->req.name_contains = strdup("my-job+v2");
    c->req.status_equals = JOBS_STATUS_FAILED;
    c->req.sort_by = JOBS_SORT_BY_CREATION_TIME;
    c->req.sort_order = JOBS_SORT_ORDER_ASCENDING;
    c->req.has_creation_time_after = true;
    c->req.creation_time_after = (struct bgw_time){1700000000, 5};
    c->req.has_creation_time_before = true;
    c->req.creation_time_before = (struct bgw_time){1800000000, 0};
    if (CHECK(s_prepare(c, &req, &err) == BGW_OK)) {
        CHECK(req.has_max_results && req.max_results == 5);
        CHECK_STR(req.name_contains, "my-job+v2");
        CHECK(req.name_contains != c->req.name_contains);
        CHECK(req.next_token == NULL);
        CHECK(req.status_equals == JOBS_STATUS_FAILED);
        CHECK(req.sort_by == JOBS_SORT_BY_CREATION_TIME);
        CHECK(req.sort_order == JOBS_SORT_ORDER_ASCENDING);
        CHECK(req.has_creation_time_after && req.creation_time_after.seconds == 1700000000 &&
              req.creation_time_after.nanos == 5);
        CHECK(req.has_creation_time_before && req.creation_time_before.seconds == 1800000000);
    } else {
        fprintf(stderr, "  %s\n", err.message);
    }
    jobs_request_clean_up(&req);
    handler_call_free(c);
}

static void test_complete(void)
{
    struct bgw_error err;
    bgw_error_clear(&err);
    struct handler_call *c = s_call("Bearer key-alpha-1", NULL);
    if (!CHECK(c != NULL))
        return;
    struct jobs_request q;
    CHECK(s_prepare(c, &q, &err) == BGW_OK);
    jobs_request_clean_up(&q);
    struct jobs_response page;
    memset(&page, 0, sizeof(page));
    page.summaries = calloc(1, sizeof(*page.summaries));
    if (!CHECK(page.summaries != NULL)) {
        handler_call_free(c);
        return;
    }
    page.n_summaries = 1;
    page.summaries[0].job_name = strdup("job-1");
    page.summaries[0].job_arn = strdup("arn:aws:bedrock:us-east-1:1:model-import-job/abc");
    page.summaries[0].status = JOBS_STATUS_COMPLETED;
    page.next_token = strdup("tok-2");
    enum handler_next next;
    struct handler_now now = {1000, 1700000000};
    /* Not full yet and Bedrock has more: fetch on from its token. */
    CHECK(handler_on_page(&s_ctx, c, &now, &page, &next, &q, &err) == BGW_OK);
    CHECK(page.summaries == NULL && page.n_summaries == 0 && page.next_token == NULL);
    CHECK(next == HANDLER_FETCH);
    CHECK_STR(q.next_token, "tok-2");
    CHECK(q.has_max_results && q.max_results == T_PAGE_SIZE - 1);
    jobs_request_clean_up(&q);
    /* The last page: reply with what was gathered, no token. */
    CHECK(handler_on_page(&s_ctx, c, &now, &page, &next, &q, &err) == BGW_OK);
    CHECK(next == HANDLER_REPLY);
    const struct jobs_response *out = handler_response(c);
    if (CHECK(out->n_summaries == 1)) {
        CHECK_STR(out->summaries[0].job_name, "job-1");
        CHECK(out->summaries[0].status == JOBS_STATUS_COMPLETED);
    }
    CHECK(out->next_token == NULL);
    jobs_request_clean_up(&q);
    handler_call_free(c);
}

/* A page of n jobs named names[i] (Completed, imported ARN set). */
static void s_page(struct jobs_response *p, const char *const *names, size_t n, const char *next)
{
    memset(p, 0, sizeof(*p));
    p->summaries = calloc(n ? n : 1, sizeof(*p->summaries));
    p->n_summaries = n;
    for (size_t i = 0; i < n; i++) {
        p->summaries[i].job_name = strdup(names[i]);
        p->summaries[i].job_arn = strdup(names[i]);
        p->summaries[i].status = JOBS_STATUS_COMPLETED;
        p->summaries[i].imported_model_arn = strdup("arn:m");
    }
    p->next_token = next ? strdup(next) : NULL;
}

static struct handler_call *s_gamma(const char *token)
{
    struct handler_call *c = s_call("Bearer key-gamma-1", NULL);
    if (c && token)
        c->req.next_token = strdup(token);
    return c;
}

static enum bgw_status s_prepare_gamma(struct handler_call *c, const struct handler_now *now,
                                       enum handler_next *next, struct jobs_request *q,
                                       struct bgw_error *err)
{
    return handler_prepare(&s_ctx, c, now, next, q, err);
}

static void test_paging(void)
{
    struct bgw_error err;
    struct jobs_request q;
    enum handler_next next;
    struct handler_now now = {1000, 1700000000};
    struct jobs_response page;

    /* Page 1: single status and prefix pushed; the cap (2) makes the page;
     * post-filtering asks for more rows than that. */
    struct handler_call *c = s_gamma(NULL);
    if (!CHECK(c != NULL))
        return;
    CHECK(s_prepare_gamma(c, &now, &next, &q, &err) == BGW_OK && next == HANDLER_FETCH);
    CHECK_STR(q.name_contains, "g-");
    CHECK(q.status_equals == JOBS_STATUS_COMPLETED);
    CHECK(q.max_results == 100 && q.next_token == NULL);
    jobs_request_clean_up(&q);
    static const char *const p1[] = {"g-1", "xg-2", "g-3", "g-4", "g-5"};
    s_page(&page, p1, 5, "up-2");
    CHECK(handler_on_page(&s_ctx, c, &now, &page, &next, &q, &err) == BGW_OK);
    CHECK(next == HANDLER_REPLY);
    const struct jobs_response *out = handler_response(c);
    char *tok = NULL;
    if (CHECK(out->n_summaries == 2)) {
        CHECK_STR(out->summaries[0].job_name, "g-1");
        CHECK_STR(out->summaries[1].job_name, "g-3");
        CHECK(out->summaries[0].imported_model_arn == NULL); /* redacted */
        CHECK(out->next_token != NULL && strstr(out->next_token, "up-2") == NULL);
        tok = out->next_token ? strdup(out->next_token) : NULL;
    }
    handler_call_free(c);

    /* Page 2: the same upstream page again (cursor "start"), skipping the
     * 3 rows already seen; the upstream size covers them. */
    c = s_gamma(tok);
    CHECK(s_prepare_gamma(c, &now, &next, &q, &err) == BGW_OK && next == HANDLER_FETCH);
    CHECK(q.next_token == NULL && q.max_results == 103);
    jobs_request_clean_up(&q);
    s_page(&page, p1, 5, "up-2");
    CHECK(handler_on_page(&s_ctx, c, &now, &page, &next, &q, &err) == BGW_OK);
    CHECK(next == HANDLER_REPLY);
    out = handler_response(c);
    if (CHECK(out->n_summaries == 2)) {
        CHECK_STR(out->summaries[0].job_name, "g-4");
        CHECK_STR(out->summaries[1].job_name, "g-5");
    }
    /* Full exactly at the end of the upstream page: the token moves on. */
    free(tok);
    tok = out->next_token ? strdup(out->next_token) : NULL;
    handler_call_free(c);

    c = s_gamma(tok);
    CHECK(s_prepare_gamma(c, &now, &next, &q, &err) == BGW_OK && next == HANDLER_FETCH);
    CHECK_STR(q.next_token, "up-2");
    jobs_request_clean_up(&q);
    /* Hidden rows only, three times: the call budget (3) ends the page
     * short, with a token to continue. */
    static const char *const hidden[] = {"x-1", "x-2"};
    s_page(&page, hidden, 2, "up-3");
    CHECK(handler_on_page(&s_ctx, c, &now, &page, &next, &q, &err) == BGW_OK &&
          next == HANDLER_FETCH);
    CHECK_STR(q.next_token, "up-3");
    jobs_request_clean_up(&q);
    s_page(&page, NULL, 0, "up-4"); /* an empty page with a token */
    CHECK(handler_on_page(&s_ctx, c, &now, &page, &next, &q, &err) == BGW_OK &&
          next == HANDLER_FETCH);
    jobs_request_clean_up(&q);
    s_page(&page, hidden, 2, "up-5");
    CHECK(handler_on_page(&s_ctx, c, &now, &page, &next, &q, &err) == BGW_OK);
    CHECK(next == HANDLER_REPLY);
    out = handler_response(c);
    CHECK(out->n_summaries == 0 && out->next_token != NULL);
    struct handler_audit au;
    handler_audit(c, &au);
    CHECK(au.upstream_pages == 3 && au.page_size == 2 && au.filters && !au.policy_empty);
    handler_call_free(c);

    /* A tampered token, or one from another tenant: INVALID_ARGUMENT on
     * nextToken, no upstream query. */
    if (tok) {
        char orig = tok[5];
        tok[5] = orig == 'A' ? 'B' : 'A';
        c = s_gamma(tok);
        CHECK(s_prepare_gamma(c, &now, &next, &q, &err) == BGW_ERR_INVALID_ARGUMENT);
        CHECK_STR(err.field, "nextToken");
        CHECK(next == HANDLER_REPLY);
        handler_call_free(c);
        tok[5] = orig;
        c = s_call(NULL, "key-beta-1");
        c->req.next_token = strdup(tok);
        CHECK(handler_prepare(&s_ctx, c, &now, &next, &q, &err) == BGW_ERR_INVALID_ARGUMENT);
        CHECK_STR(err.field, "nextToken");
        handler_call_free(c);
        /* Expired. */
        c = s_gamma(tok);
        struct handler_now later = {1000, now.wall_s + 3601};
        CHECK(s_prepare_gamma(c, &later, &next, &q, &err) == BGW_ERR_INVALID_ARGUMENT);
        CHECK(strstr(err.message, "expired") != NULL);
        handler_call_free(c);
    }
    free(tok);

    /* Outside the policy: a reply with nothing, no upstream query. */
    c = s_gamma(NULL);
    c->req.status_equals = JOBS_STATUS_FAILED;
    CHECK(s_prepare_gamma(c, &now, &next, &q, &err) == BGW_OK && next == HANDLER_REPLY);
    CHECK(handler_response(c)->n_summaries == 0 && handler_response(c)->next_token == NULL);
    handler_audit(c, &au);
    CHECK(au.policy_empty);
    handler_call_free(c);

    /* Near the client's deadline no further upstream call is started. */
    c = s_call("Bearer key-beta-1", NULL);
    c->deadline_ms = 1050;
    CHECK(handler_prepare(&s_ctx, c, &now, &next, &q, &err) == BGW_OK && next == HANDLER_FETCH);
    jobs_request_clean_up(&q);
    static const char *const one[] = {"b-1"};
    s_page(&page, one, 1, "up-2");
    CHECK(handler_on_page(&s_ctx, c, &now, &page, &next, &q, &err) == BGW_OK);
    CHECK(next == HANDLER_REPLY && handler_response(c)->n_summaries == 1 &&
          handler_response(c)->next_token != NULL);
    handler_call_free(c);
}

/* handler_format_request_id is snprintf(out, 24, "%c%lx-%lx", ...). */
static void test_request_id(void)
{
    static const unsigned long vals[] = {
        0, 1, 15, 16, 255, 0x65f0a1b2ul, 0xfffffffful, 0x123456789abcul, ~0ul};
    size_t nv = sizeof(vals) / sizeof(vals[0]);
    for (size_t i = 0; i < nv; i++) {
        for (size_t j = 0; j < nv; j++) {
            char want[24], got[24];
            snprintf(want, sizeof(want), "%c%lx-%lx", 'r', vals[i], vals[j]);
            handler_format_request_id(got, 'r', vals[i], vals[j]);
            CHECK_STR(got, want);
        }
    }
}

/* handler_call_rewind: back to the decoded call; a second prepare (another
 * snapshot) starts from scratch and the audit shows no stale paging state. */
static void test_rewind(void)
{
    struct jobs_request req;
    struct bgw_error err;
    struct handler_call *c = s_call("Bearer key-alpha-1", NULL);
    if (!CHECK(c != NULL))
        return;
    c->req.has_max_results = true;
    c->req.max_results = 7;
    CHECK(s_prepare(c, &req, &err) == BGW_OK);
    jobs_request_clean_up(&req);
    struct handler_audit a;
    handler_audit(c, &a);
    CHECK(c->tenant != NULL && c->auth_method == AUTH_API_KEY && a.page_size == 7 && a.filters);
    handler_call_rewind(c);
    handler_audit(c, &a);
    CHECK(c->tenant == NULL && c->auth_method == AUTH_NONE && a.page_size == 0 && !a.filters);
    CHECK(c->req.max_results == 7 && c->authorization != NULL); /* the request itself stays */
    CHECK(s_prepare(c, &req, &err) == BGW_OK);
    jobs_request_clean_up(&req);
    CHECK(c->tenant != NULL && strcmp(c->tenant->id, "alpha") == 0);
    handler_call_free(c);
}

int main(void)
{
    test_request_id();
    if (!CHECK(s_setup() == 0))
        return TEST_EXIT();
    test_authentication();
    test_rewind();
    test_validation();
    test_success();
    test_complete();
    test_paging();
    s_teardown();
    return TEST_EXIT();
}
