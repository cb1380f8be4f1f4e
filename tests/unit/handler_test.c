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

#define T_PAGE_SIZE 37
static const char *s_config_text =
    "{\"aws\": {\"region\": \"us-east-1\", \"endpoint\": \"http://127.0.0.1:9\",\n"
    "          \"timeout_ms\": 5000},\n"
    " \"gateway\": {\"default_page_size\": 37},\n"
    " \"tenants\": [{\"id\": \"alpha\", \"api_keys\": [\"" H_A1 "\", \"" H_A2 "\"]},\n"
    "             {\"id\": \"beta\", \"api_keys\": [\"" H_B1 "\"]}]}";

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
        {"Bearer key-beta-1", "key-alpha-1", 1}, /* authorization wins */
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

int main(void)
{
    if (!CHECK(s_setup() == 0))
        return TEST_EXIT();
    test_authentication();
    test_validation();
    test_success();
    test_complete();
    s_teardown();
    return TEST_EXIT();
}
