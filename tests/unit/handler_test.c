/*
 * handler_test - the transport-independent core of a call: authentication
 * first (before the request is even looked at), then the frontend's decode
 * error, validation, the deadline, and the upstream request; and the
 * mapping of upstream outcomes. The config comes from config_load_string
 * (known key hashes, endpoint http://127.0.0.1:9), the credentials from the
 * environment provider with an injected getenv. Nothing here does I/O.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "credentials.h"
#include "handler.h"
#include "test_util.h"

#define CHECK_EQ(a, b) CHECK((long long)(a) == (long long)(b))

/* printf %s KEY | sha256sum */
#define H_A1 "0effaf23ed21d617de082837ef24b0c232b8e9a35b686cc7601cc82163d30e05" /* key-alpha-1 */
#define H_A2 "44e5efe3d95e33bede2ae99627ebdbc5181faa7e0a7f820f5e09366a554e94f8" /* key-alpha-2 */
#define H_B1 "ce4c51791e0db31801fe2aa63da4b85a6092ef04ba14de4fd64dada624d6f283" /* key-beta-1 */

#define T_PAGE_SIZE 37
#define T_UPSTREAM_TIMEOUT_MS 5000
#define T_NOW_MS 1000000
#define T_WALL_S 1440938160 /* 2015-08-30T12:36:00Z */
#define T_SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

static const char *s_config_text =
    "{\"aws\": {\"region\": \"us-east-1\", \"endpoint\": \"http://127.0.0.1:9\",\n"
    "          \"timeout_ms\": 5000},\n"
    " \"gateway\": {\"default_page_size\": 37},\n"
    " \"tenants\": [{\"id\": \"alpha\", \"api_keys\": [\"" H_A1 "\", \"" H_A2 "\"]},\n"
    "             {\"id\": \"beta\", \"api_keys\": [\"" H_B1 "\"]}]}";

static const char *s_getenv(const char *name)
{
    if (strcmp(name, "AWS_ACCESS_KEY_ID") == 0)
        return "AKIDEXAMPLE";
    if (strcmp(name, "AWS_SECRET_ACCESS_KEY") == 0)
        return T_SECRET;
    if (strcmp(name, "AWS_SESSION_TOKEN") == 0)
        return "session-token-example";
    return NULL;
}

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
    struct bgw_error e;
    bgw_error_clear(&e);
    s_ctx.cfg = &s_cfg;
    s_ctx.credentials = credentials_provider_env_new(s_getenv, &e);
    if (!s_ctx.credentials) {
        fprintf(stderr, "credentials: %s\n", e.message);
        config_clean_up(&s_cfg);
        return -1;
    }
    return 0;
}

static void s_teardown(void)
{
    credentials_provider_destroy(s_ctx.credentials);
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
    c->received_ms = T_NOW_MS;
    return c;
}

/* Runs handler_prepare; returns the status and leaves the rest in the
 * out-parameters (req must be cleaned up by the caller). */
static enum bgw_status s_prepare(struct handler_call *c, struct bedrock_http_request *req,
                                 int64_t *timeout_ms, struct bgw_error *err)
{
    memset(req, 0, sizeof(*req));
    *timeout_ms = -1;
    bgw_error_clear(err);
    return handler_prepare(&s_ctx, c, T_NOW_MS, T_WALL_S, req, timeout_ms, err);
}

static void test_authentication(void)
{
    struct bedrock_http_request req;
    int64_t timeout_ms;
    struct bgw_error err;

    /* No key. */
    struct handler_call *c = s_call(NULL, NULL);
    if (!CHECK(c != NULL))
        return;
    CHECK(s_prepare(c, &req, &timeout_ms, &err) == BGW_ERR_UNAUTHENTICATED);
    CHECK(err.status == BGW_ERR_UNAUTHENTICATED);
    CHECK(strstr(err.message, "missing API key") != NULL);
    CHECK(c->tenant == NULL);
    CHECK(req.url == NULL);
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
        if (!CHECK(s_prepare(c, &req, &timeout_ms, &err) == BGW_ERR_UNAUTHENTICATED))
            fprintf(stderr, "  case %zu: %s\n", i, err.message);
        CHECK(c->tenant == NULL);
        CHECK(strstr(err.message, "key-alpha") == NULL);
        CHECK(strstr(err.message, "a2V5") == NULL);
        CHECK(req.url == NULL);
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
    CHECK(s_prepare(c, &req, &timeout_ms, &err) == BGW_ERR_UNAUTHENTICATED);
    CHECK_STR(err.field, "");
    handler_call_free(c);

    c = s_call(NULL, NULL);
    if (!CHECK(c != NULL))
        return;
    c->req.has_max_results = true;
    c->req.max_results = 5000;
    CHECK(s_prepare(c, &req, &timeout_ms, &err) == BGW_ERR_UNAUTHENTICATED);
    handler_call_free(c);

    /* ... and before the frontend's decode error. */
    c = s_call("Bearer wrong", NULL);
    if (!CHECK(c != NULL))
        return;
    c->decode_failed = true;
    bgw_error_set(&c->decode_error, BGW_ERR_INVALID_ARGUMENT, "maxResults", "not a number");
    CHECK(s_prepare(c, &req, &timeout_ms, &err) == BGW_ERR_UNAUTHENTICATED);
    handler_call_free(c);

    /* The decode error is returned as is once the key is good. */
    c = s_call("Bearer key-alpha-1", NULL);
    if (!CHECK(c != NULL))
        return;
    c->decode_failed = true;
    bgw_error_set(&c->decode_error, BGW_ERR_INVALID_ARGUMENT, "maxResults", "not a number");
    CHECK(s_prepare(c, &req, &timeout_ms, &err) == BGW_ERR_INVALID_ARGUMENT);
    CHECK_STR(err.message, "not a number");
    CHECK_STR(err.field, "maxResults");
    CHECK(c->tenant == &s_cfg.tenants.tenants[0]);
    CHECK(req.url == NULL);
    handler_call_free(c);
}

static void test_validation(void)
{
    struct bedrock_http_request req;
    int64_t timeout_ms;
    struct bgw_error err;

    struct handler_call *c = s_call("Bearer key-beta-1", NULL);
    if (!CHECK(c != NULL))
        return;
    c->req.has_max_results = true;
    c->req.max_results = 1001;
    CHECK(s_prepare(c, &req, &timeout_ms, &err) == BGW_ERR_INVALID_ARGUMENT);
    CHECK_STR(err.field, "maxResults");
    CHECK(c->tenant == &s_cfg.tenants.tenants[1]);
    CHECK(req.url == NULL);
    handler_call_free(c);

    c = s_call(NULL, "key-alpha-2");
    if (!CHECK(c != NULL))
        return;
    c->req.status_equals = 42;
    CHECK(s_prepare(c, &req, &timeout_ms, &err) == BGW_ERR_INVALID_ARGUMENT);
    CHECK_STR(err.field, "statusEquals");
    handler_call_free(c);
}

static void test_deadline(void)
{
    struct bedrock_http_request req;
    int64_t timeout_ms;
    struct bgw_error err;
    static const struct {
        int64_t deadline_ms;
        enum bgw_status st;
        int64_t timeout_ms;
    } cases[] = {
        {0, BGW_OK, T_UPSTREAM_TIMEOUT_MS}, /* no client deadline */
        {T_NOW_MS - 1, BGW_ERR_DEADLINE_EXCEEDED, -1},
        {T_NOW_MS, BGW_ERR_DEADLINE_EXCEEDED, -1},
        {T_NOW_MS + HANDLER_DEADLINE_MARGIN_MS, BGW_ERR_DEADLINE_EXCEEDED, -1},
        {T_NOW_MS + HANDLER_DEADLINE_MARGIN_MS + 1, BGW_OK, 1},
        {T_NOW_MS + 1000, BGW_OK, 1000 - HANDLER_DEADLINE_MARGIN_MS},
        {T_NOW_MS + T_UPSTREAM_TIMEOUT_MS, BGW_OK,
         T_UPSTREAM_TIMEOUT_MS - HANDLER_DEADLINE_MARGIN_MS},
        {T_NOW_MS + T_UPSTREAM_TIMEOUT_MS + HANDLER_DEADLINE_MARGIN_MS, BGW_OK,
         T_UPSTREAM_TIMEOUT_MS},
        {T_NOW_MS + 3600000, BGW_OK, T_UPSTREAM_TIMEOUT_MS},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct handler_call *c = s_call("Bearer key-alpha-1", NULL);
        if (!CHECK(c != NULL))
            return;
        c->deadline_ms = cases[i].deadline_ms;
        enum bgw_status st = s_prepare(c, &req, &timeout_ms, &err);
        if (!CHECK(st == cases[i].st))
            fprintf(stderr, "  case %zu: status %d (%s)\n", i, (int)st, err.message);
        if (cases[i].st == BGW_OK) {
            if (!CHECK_EQ(timeout_ms, cases[i].timeout_ms))
                fprintf(stderr, "  case %zu: timeout_ms %lld\n", i, (long long)timeout_ms);
            CHECK(req.url != NULL);
        } else {
            CHECK(req.url == NULL);
        }
        bedrock_http_request_clean_up(&req);
        handler_call_free(c);
    }

    /* The deadline is checked after authentication too. */
    struct handler_call *c = s_call("Bearer nope", NULL);
    if (CHECK(c != NULL)) {
        c->deadline_ms = T_NOW_MS - 5;
        CHECK(s_prepare(c, &req, &timeout_ms, &err) == BGW_ERR_UNAUTHENTICATED);
        handler_call_free(c);
    }
}

static int s_has_header(const struct bedrock_http_request *r, const char *prefix)
{
    for (size_t i = 0; i < r->n_headers; i++) {
        if (r->headers[i] && strncasecmp(r->headers[i], prefix, strlen(prefix)) == 0)
            return 1;
    }
    return 0;
}

static void test_success(void)
{
    struct bedrock_http_request req;
    int64_t timeout_ms;
    struct bgw_error err;

    /* Each key of each tenant. */
    static const struct {
        const char *authz, *xkey;
        size_t tenant;
    } keys[] = {
        {"Bearer key-alpha-1", NULL, 0},
        {"bearer   key-alpha-2 ", NULL, 0},
        {NULL, "key-beta-1", 1},
        {"Bearer key-beta-1", "key-alpha-1", 1}, /* authorization wins */
    };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        struct handler_call *c = s_call(keys[i].authz, keys[i].xkey);
        if (!CHECK(c != NULL))
            return;
        enum bgw_status st = s_prepare(c, &req, &timeout_ms, &err);
        if (!CHECK(st == BGW_OK)) {
            fprintf(stderr, "  case %zu: %s\n", i, err.message);
        } else {
            CHECK(c->tenant == &s_cfg.tenants.tenants[keys[i].tenant]);
            const char *prefix = "http://127.0.0.1:9/model-import-jobs?";
            if (!CHECK(req.url && strncmp(req.url, prefix, strlen(prefix)) == 0))
                fprintf(stderr, "  url: %s\n", req.url ? req.url : "(null)");
            CHECK(req.url && strstr(req.url, "maxResults=37") != NULL);
            CHECK(timeout_ms == T_UPSTREAM_TIMEOUT_MS);
            CHECK(s_has_header(&req, "authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"
                                     "20150830/us-east-1/bedrock/aws4_request"));
            CHECK(s_has_header(&req, "x-amz-date: 20150830T123600Z"));
            CHECK(s_has_header(&req, "x-amz-security-token: session-token-example"));
            CHECK(s_has_header(&req, "host: 127.0.0.1:9"));
            int secret_leak = 0;
            for (size_t h = 0; h < req.n_headers; h++)
                secret_leak |= req.headers[h] && strstr(req.headers[h], T_SECRET) != NULL;
            CHECK(!secret_leak);
        }
        bedrock_http_request_clean_up(&req);
        handler_call_free(c);
    }

    /* The client's page size wins over the default. */
    struct handler_call *c = s_call("Bearer key-alpha-1", NULL);
    if (!CHECK(c != NULL))
        return;
    c->req.has_max_results = true;
    c->req.max_results = 5;
    c->req.name_contains = strdup("my-job+v2");
    if (CHECK(s_prepare(c, &req, &timeout_ms, &err) == BGW_OK)) {
        CHECK(strstr(req.url, "maxResults=5") != NULL);
        CHECK(strstr(req.url, "maxResults=37") == NULL);
        CHECK(strstr(req.url, "nameContains=my-job%2Bv2") != NULL);
    } else {
        fprintf(stderr, "  %s\n", err.message);
    }
    bedrock_http_request_clean_up(&req);
    handler_call_free(c);
}

static void test_complete(void)
{
    struct jobs_response out;
    struct bgw_error err;
    struct handler_call *c = s_call("Bearer key-alpha-1", NULL);
    if (!CHECK(c != NULL))
        return;

    memset(&out, 0, sizeof(out));
    bgw_error_clear(&err);
    CHECK(handler_complete(&s_ctx, c, HANDLER_UPSTREAM_TIMEOUT, NULL, &out, &err) ==
          BGW_ERR_DEADLINE_EXCEEDED);
    CHECK(err.status == BGW_ERR_DEADLINE_EXCEEDED);
    c->deadline_ms = T_NOW_MS + 100;
    CHECK(handler_complete(&s_ctx, c, HANDLER_UPSTREAM_TIMEOUT, NULL, &out, &err) ==
          BGW_ERR_DEADLINE_EXCEEDED);
    CHECK(strstr(err.message, "deadline") != NULL);
    CHECK(handler_complete(&s_ctx, c, HANDLER_UPSTREAM_TRANSPORT, NULL, &out, &err) ==
          BGW_ERR_UNAVAILABLE);
    CHECK(err.status == BGW_ERR_UNAVAILABLE);

    /* A 200 body. */
    const char *body = "{\"modelImportJobSummaries\":[{"
                       "\"jobArn\":\"arn:aws:bedrock:us-east-1:123456789012:model-import-job/"
                       "abc\",\"jobName\":\"job-1\",\"status\":\"Completed\","
                       "\"creationTime\":\"2024-05-01T10:00:00Z\"}],"
                       "\"nextToken\":\"tok-2\"}";
    struct bedrock_http_response ok = {200, NULL, NULL, body, strlen(body)};
    enum bgw_status st = handler_complete(&s_ctx, c, HANDLER_UPSTREAM_RESPONSE, &ok, &out, &err);
    if (CHECK(st == BGW_OK)) {
        CHECK(out.n_summaries == 1);
        if (out.n_summaries == 1) {
            CHECK_STR(out.summaries[0].job_name, "job-1");
            CHECK_STR(out.summaries[0].job_arn,
                      "arn:aws:bedrock:us-east-1:123456789012:model-import-job/abc");
            CHECK(out.summaries[0].status == JOBS_STATUS_COMPLETED);
            CHECK(out.summaries[0].has_creation_time &&
                  out.summaries[0].creation_time.seconds == 1714557600);
        }
        CHECK_STR(out.next_token, "tok-2");
    } else {
        fprintf(stderr, "  %s\n", err.message);
    }
    jobs_response_clean_up(&out);

    /* A 429 ThrottlingException, with and without Retry-After. */
    const char *tbody = "{\"message\":\"Rate exceeded\"}";
    struct bedrock_http_response thr = {429, "ThrottlingException:http://internal.amazon.com/", "7",
                                        tbody, strlen(tbody)};
    CHECK(handler_complete(&s_ctx, c, HANDLER_UPSTREAM_RESPONSE, &thr, &out, &err) ==
          BGW_ERR_RESOURCE_EXHAUSTED);
    CHECK(err.status == BGW_ERR_RESOURCE_EXHAUSTED);
    CHECK_EQ(err.retry_after_s, 7);
    CHECK(strstr(err.message, "ThrottlingException") != NULL);
    jobs_response_clean_up(&out);
    thr.retry_after = NULL;
    CHECK(handler_complete(&s_ctx, c, HANDLER_UPSTREAM_RESPONSE, &thr, &out, &err) ==
          BGW_ERR_RESOURCE_EXHAUSTED);
    CHECK(err.retry_after_s >= 1);
    jobs_response_clean_up(&out);

    /* A 200 that is not the expected JSON is the upstream's fault. */
    struct bedrock_http_response junk = {200, NULL, NULL, "<html>", 6};
    CHECK(handler_complete(&s_ctx, c, HANDLER_UPSTREAM_RESPONSE, &junk, &out, &err) ==
          BGW_ERR_BAD_GATEWAY);
    jobs_response_clean_up(&out);

    handler_call_free(c);
}

int main(void)
{
    if (!CHECK(s_setup() == 0))
        return TEST_EXIT();
    test_authentication();
    test_validation();
    test_deadline();
    test_success();
    test_complete();
    s_teardown();
    return TEST_EXIT();
}
