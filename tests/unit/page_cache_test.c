/*
 * page_cache_test - the response cache's behaviour over a fake upstream and
 * an injected clock, without sockets: coalescing of identical misses, fresh
 * hits, stale-while-revalidate (one background refresh), stale-if-error
 * (also when the upstream refuses before any call), no-cache bypass,
 * errors never cached, and LRU eviction under the byte budget.
 */
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "credentials.h"
#include "metrics.h"
#include "page_cache.h"
#include "test_util.h"

#define CHECK_EQ(a, b) CHECK((long long)(a) == (long long)(b))

/* -- the fake upstream -------------------------------------------------- */

struct s_call {
    fetcher_cb cb;
    void *arg;
    int64_t max_results;
    bool cancelled;
    bool done;
};

static struct s_call s_calls[64];
static int s_n_calls;
static bool s_refuse; /* the next fetches are refused at once (breaker open) */
static int64_t s_now = 1000000;

static int64_t s_clock(void)
{
    return s_now;
}

static struct fetcher_fetch *s_fake_fetch(void *ctx, const struct jobs_request *q,
                                          int64_t deadline_ms, fetcher_cb cb, void *arg,
                                          struct bgw_error *err)
{
    (void)ctx;
    (void)deadline_ms;
    if (s_refuse) {
        bgw_error_set(err, BGW_ERR_UNAVAILABLE, NULL, "upstream circuit breaker open");
        return NULL;
    }
    struct s_call *c = &s_calls[s_n_calls++];
    memset(c, 0, sizeof(*c));
    c->cb = cb;
    c->arg = arg;
    c->max_results = q->has_max_results ? q->max_results : 0;
    return (struct fetcher_fetch *)c;
}

static void s_fake_cancel(void *ctx, struct fetcher_fetch *h)
{
    (void)ctx;
    if (h)
        ((struct s_call *)h)->cancelled = true;
}

/* Completes call i with a page of n jobs named tag-<k>, or with err. */
static void s_complete(int i, int n, const char *tag, enum bgw_status err)
{
    struct s_call *c = &s_calls[i];
    struct jobs_response page;
    memset(&page, 0, sizeof(page));
    page.summaries = calloc((size_t)n + 1, sizeof(*page.summaries));
    page.n_summaries = (size_t)n;
    for (int k = 0; k < n; k++) {
        char name[64];
        snprintf(name, sizeof(name), "%s-%d", tag, k);
        page.summaries[k].job_name = strdup(name);
        snprintf(name, sizeof(name), "arn:%s-%d", tag, k);
        page.summaries[k].job_arn = strdup(name);
        page.summaries[k].status = 2;
    }
    struct bgw_error e;
    bgw_error_clear(&e);
    if (err)
        bgw_error_set(&e, err, NULL, "upstream failed");
    struct fetcher_result r = {
        .status = err,
        .page = err ? NULL : &page,
        .err = err ? &e : NULL,
        .http_status = err ? 500 : 200,
        .attempts = 1,
    };
    c->done = true;
    c->cb(c->arg, &r);
    jobs_response_clean_up(&page);
}

/* -- what the cache answers --------------------------------------------- */

struct s_answer {
    int got;
    enum bgw_status status;
    enum page_cache_outcome outcome;
    bool coalesced;
    char first[64];
    size_t rows;
};

static void s_on_page(void *arg, const struct page_cache_result *r)
{
    struct s_answer *a = arg;
    a->got++;
    a->status = r->status;
    a->outcome = r->outcome;
    a->coalesced = r->coalesced;
    a->rows = r->page ? r->page->n_summaries : 0;
    snprintf(a->first, sizeof(a->first), "%s",
             r->page && r->page->n_summaries ? r->page->summaries[0].job_name : "");
}

static const char *s_env(const char *name)
{
    if (strcmp(name, "AWS_ACCESS_KEY_ID") == 0)
        return "AKIDPAGECACHETEST01";
    if (strcmp(name, "AWS_SECRET_ACCESS_KEY") == 0)
        return "page-cache-test-secret";
    return NULL;
}

struct s_rig {
    struct config cfg;
    struct event_base *base;
    struct credentials_provider *creds;
    struct metrics m;
    struct page_cache *pc;
};

static void s_rig_init(struct s_rig *r, const char *cache_json)
{
    char text[1024];
    snprintf(
        text, sizeof(text),
        "{\"aws\":{\"region\":\"us-east-1\"},\"cache\":%s,\"tenants\":[{\"id\":\"a\","
        "\"api_keys\":[\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"]}]}",
        cache_json);
    struct config_env env = {NULL, NULL, NULL, NULL};
    struct buf err;
    buf_init(&err, 0);
    CHECK(config_load_string(text, "t.json", &env, &r->cfg, &err) == 0);
    buf_clean_up(&err);
    r->base = event_base_new();
    struct bgw_error e;
    r->creds = credentials_provider_env_new(s_env, &e);
    memset(&r->m, 0, sizeof(r->m));
    struct page_cache_options o = {
        .cfg = &r->cfg,
        .base = r->base,
        .credentials = r->creds,
        .metrics = &r->m,
        .fetch = s_fake_fetch,
        .cancel = s_fake_cancel,
        .mono_ms = s_clock,
    };
    r->pc = page_cache_new(&o);
    CHECK(r->pc != NULL);
    s_n_calls = 0;
    s_refuse = false;
}

static void s_rig_free(struct s_rig *r)
{
    page_cache_destroy(r->pc);
    credentials_provider_destroy(r->creds);
    event_base_free(r->base);
    config_clean_up(&r->cfg);
}

static struct page_cache_fetch *s_ask(struct s_rig *r, int max_results, bool no_cache,
                                      struct s_answer *a)
{
    struct jobs_request q;
    memset(&q, 0, sizeof(q));
    q.has_max_results = true;
    q.max_results = max_results;
    struct page_cache_control ctl;
    page_cache_parse_control(no_cache ? "no-cache" : NULL, &ctl);
    struct bgw_error e;
    bgw_error_clear(&e);
    memset(a, 0, sizeof(*a));
    struct page_cache_fetch *h = page_cache_fetch_page(r->pc, &q, &ctl, 0, s_on_page, a, &e);
    if (!h) {
        a->got = 1;
        a->status = e.status;
    }
    return h;
}

static void s_turn(struct s_rig *r)
{
    event_base_loop(r->base, EVLOOP_NONBLOCK);
}

/* -- the cases ------------------------------------------------------------ */

static void test_coalescing_and_hits(void)
{
    struct s_rig r;
    s_rig_init(&r, "{\"ttl_ms\":1000,\"swr_ms\":0,\"sie_ms\":0}");
    struct s_answer a1, a2, a3;
    s_ask(&r, 5, false, &a1);
    s_ask(&r, 5, false, &a2);
    CHECK_EQ(s_n_calls, 1); /* one upstream call for both */
    CHECK(a1.got == 0 && a2.got == 0);
    s_complete(0, 5, "p1", BGW_OK);
    CHECK(a1.got == 1 && a2.got == 1);
    CHECK(a1.outcome == PAGE_CACHE_MISS && !a1.coalesced);
    CHECK(a2.outcome == PAGE_CACHE_MISS && a2.coalesced);
    CHECK(strcmp(a2.first, "p1-0") == 0 && a2.rows == 5);
    /* a repeat within the TTL: a hit, delivered on the next loop turn */
    s_ask(&r, 5, false, &a3);
    CHECK_EQ(a3.got, 0);
    s_turn(&r);
    CHECK(a3.got == 1 && a3.outcome == PAGE_CACHE_HIT && strcmp(a3.first, "p1-0") == 0);
    CHECK_EQ(s_n_calls, 1);
    /* another question is its own entry */
    s_ask(&r, 6, false, &a3);
    CHECK_EQ(s_n_calls, 2);
    s_complete(1, 6, "p2", BGW_OK);
    CHECK(a3.got == 1 && a3.outcome == PAGE_CACHE_MISS);
    /* no-cache: its own upstream call, never coalesced with or answered from the entry */
    s_ask(&r, 5, true, &a1);
    CHECK_EQ(s_n_calls, 3);
    s_complete(2, 5, "p3", BGW_OK);
    CHECK(a1.outcome == PAGE_CACHE_BYPASS && strcmp(a1.first, "p3-0") == 0);
    CHECK(r.m.cache_hits == 1 && r.m.coalesced == 1 && r.m.cache_bypass == 1);
    s_rig_free(&r);
}

static void test_swr_and_sie(void)
{
    struct s_rig r;
    s_rig_init(&r, "{\"ttl_ms\":1000,\"swr_ms\":2000,\"sie_ms\":10000}");
    struct s_answer a;
    s_ask(&r, 3, false, &a);
    s_complete(0, 3, "old", BGW_OK);
    /* past the TTL, inside SWR: the stale page at once, one refresh */
    s_now += 1500;
    s_ask(&r, 3, false, &a);
    s_turn(&r);
    CHECK(a.got == 1 && a.outcome == PAGE_CACHE_STALE_REVALIDATING &&
          strcmp(a.first, "old-0") == 0);
    CHECK_EQ(s_n_calls, 2);
    s_ask(&r, 3, false, &a); /* the refresh is already running: no second one */
    s_turn(&r);
    CHECK_EQ(s_n_calls, 2);
    s_complete(1, 3, "new", BGW_OK);
    s_ask(&r, 3, false, &a);
    s_turn(&r);
    CHECK(a.outcome == PAGE_CACHE_HIT && strcmp(a.first, "new-0") == 0);
    /* past SWR, inside SIE: a failed refresh is answered with the stale page */
    s_now += 4000;
    s_ask(&r, 3, false, &a);
    CHECK_EQ(s_n_calls, 3);
    s_complete(2, 0, "", BGW_ERR_UNAVAILABLE);
    CHECK(a.got == 1 && a.status == BGW_OK && a.outcome == PAGE_CACHE_STALE_ERROR);
    /* the upstream refusing before any call (breaker open) is a failure too */
    s_refuse = true;
    s_ask(&r, 3, false, &a);
    s_turn(&r);
    CHECK(a.got == 1 && a.status == BGW_OK && a.outcome == PAGE_CACHE_STALE_ERROR);
    CHECK(strcmp(a.first, "new-0") == 0);
    /* but not for a question never cached */
    s_ask(&r, 9, false, &a);
    CHECK(a.got == 1 && a.status == BGW_ERR_UNAVAILABLE);
    s_refuse = false;
    /* a validation error is never masked by a stale page */
    s_ask(&r, 3, false, &a);
    s_complete(s_n_calls - 1, 0, "", BGW_ERR_INVALID_ARGUMENT);
    CHECK(a.got == 1 && a.status == BGW_ERR_INVALID_ARGUMENT);
    /* past SIE: the error goes through, and errors are not cached */
    s_now += 20000;
    s_ask(&r, 3, false, &a);
    s_complete(s_n_calls - 1, 0, "", BGW_ERR_UNAVAILABLE);
    CHECK(a.status == BGW_ERR_UNAVAILABLE);
    int calls = s_n_calls;
    s_ask(&r, 3, false, &a);
    CHECK_EQ(s_n_calls, calls + 1);
    s_complete(s_n_calls - 1, 3, "again", BGW_OK);
    CHECK(a.outcome == PAGE_CACHE_MISS);
    s_rig_free(&r);
}

static void test_eviction_under_the_budget(void)
{
    struct s_rig r;
    s_rig_init(&r, "{\"ttl_ms\":60000,\"max_bytes\":16384,\"max_entry_bytes\":8192}");
    struct s_answer a;
    for (int i = 0; i < 12; i++) {
        s_ask(&r, 10 + i, false, &a);
        s_complete(s_n_calls - 1, 20, "big", BGW_OK);
    }
    struct cache_stats st;
    cache_get_stats(page_cache_core(r.pc), &st);
    CHECK(st.bytes <= 16384);
    CHECK(st.evictions > 0);
    CHECK(st.entries < 12);
    /* the most recent one is still there, the first one is gone */
    int calls = s_n_calls;
    s_ask(&r, 21, false, &a);
    s_turn(&r);
    CHECK(a.outcome == PAGE_CACHE_HIT && s_n_calls == calls);
    s_ask(&r, 10, false, &a);
    CHECK_EQ(s_n_calls, calls + 1);
    s_complete(s_n_calls - 1, 1, "x", BGW_OK);
    s_rig_free(&r);
}

int main(void)
{
    test_coalescing_and_hits();
    test_swr_and_sie();
    test_eviction_under_the_budget();
    return TEST_EXIT();
}
