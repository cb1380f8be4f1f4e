/*
 * cache_test - the I/O-free cache core driven with an injected clock: key
 * normalization (parameter order is already gone after parsing; defaults,
 * timestamp spellings), TTL / stale-while-revalidate / stale-if-error
 * windows, the byte budget with LRU eviction, the entry-size limit, views
 * and their ETags, sweeping.
 */
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "test_util.h"
#include "timeutil.h"

#define CHECK_EQ(a, b) CHECK((long long)(a) == (long long)(b))

static struct jobs_response s_page(int n, const char *tag)
{
    struct jobs_response p;
    memset(&p, 0, sizeof(p));
    p.summaries = calloc((size_t)n ? (size_t)n : 1, sizeof(*p.summaries));
    p.n_summaries = (size_t)n;
    for (int i = 0; i < n; i++) {
        char b[128];
        snprintf(b, sizeof(b), "arn:aws:bedrock:us-east-1:1:model-import-job/%s%04d", tag, i);
        p.summaries[i].job_arn = strdup(b);
        snprintf(b, sizeof(b), "%s-%d", tag, i);
        p.summaries[i].job_name = strdup(b);
        p.summaries[i].status = JOBS_STATUS_COMPLETED;
        p.summaries[i].has_creation_time = true;
        p.summaries[i].creation_time.seconds = 1700000000 + i;
    }
    p.next_token = strdup("tok");
    return p;
}

static char *s_key(const char *identity, const struct jobs_request *q)
{
    struct buf b;
    buf_init(&b, 0);
    if (cache_key_build(identity, q, 25, &b) != 0)
        return NULL;
    return buf_detach(&b);
}

static void test_key_normalization(void)
{
    struct jobs_request a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    /* "+00:00" and "Z", and a fraction written as .500 vs .5 */
    CHECK(timeutil_parse_rfc3339("2024-01-02T03:04:05.500+00:00", &a.creation_time_after) == 0);
    CHECK(timeutil_parse_rfc3339("2024-01-02T03:04:05.5Z", &b.creation_time_after) == 0);
    a.has_creation_time_after = b.has_creation_time_after = true;
    /* explicit defaults vs absent */
    b.has_max_results = true;
    b.max_results = 25;
    b.sort_by = JOBS_SORT_BY_CREATION_TIME;
    b.sort_order = JOBS_SORT_ORDER_DESCENDING;
    char *ka = s_key("ep|us-east-1|AKID", &a), *kb = s_key("ep|us-east-1|AKID", &b);
    CHECK(ka && kb);
    CHECK_STR(ka, kb);
    /* identity is part of the key */
    char *kc = s_key("ep|us-west-2|AKID", &a);
    CHECK(strcmp(ka, kc) != 0);
    /* every parameter matters */
    b.sort_order = JOBS_SORT_ORDER_ASCENDING;
    char *kd = s_key("ep|us-east-1|AKID", &b);
    CHECK(strcmp(ka, kd) != 0);
    b.sort_order = 0;
    b.max_results = 26;
    char *ke = s_key("ep|us-east-1|AKID", &b);
    CHECK(strcmp(ka, ke) != 0);
    /* length-prefixing: name "x|t3:abc" vs name "x" + token "abc" */
    struct jobs_request c1, c2;
    memset(&c1, 0, sizeof(c1));
    memset(&c2, 0, sizeof(c2));
    c1.name_contains = "x|t3:abc";
    c2.name_contains = "x";
    c2.next_token = "abc";
    char *k1 = s_key("i", &c1), *k2 = s_key("i", &c2);
    CHECK(strcmp(k1, k2) != 0);
    /* the token is part of the key */
    c1.name_contains = NULL;
    c1.next_token = "abd";
    c2.name_contains = NULL;
    char *k3 = s_key("i", &c1), *k4 = s_key("i", &c2);
    CHECK(strcmp(k3, k4) != 0);
    free(ka), free(kb), free(kc), free(kd), free(ke), free(k1), free(k2), free(k3), free(k4);
}

static void test_windows(void)
{
    struct cache_options o = {.ttl_ms = 1000,
                              .swr_ms = 500,
                              .sie_ms = 3000,
                              .max_bytes = 1 << 20,
                              .max_entry_bytes = 1 << 19};
    struct cache *c = cache_new(&o);
    struct jobs_response p = s_page(3, "w");
    enum cache_state st;
    CHECK(cache_lookup(c, "k", 1, 0, &st) == NULL && st == CACHE_MISS);
    struct cache_entry *e = cache_store(c, "k", 1, &p, 10000);
    CHECK(e != NULL);
    CHECK(p.summaries == NULL && p.n_summaries == 0); /* moved */
    CHECK(cache_lookup(c, "k", 1, 10000, &st) == e && st == CACHE_FRESH);
    CHECK_EQ(cache_entry_ttl_left_ms(c, e, 10400), 600);
    CHECK_EQ(cache_entry_age_ms(e, 10400), 400);
    CHECK(cache_lookup(c, "k", 1, 10999, &st) == e && st == CACHE_FRESH);
    CHECK(cache_lookup(c, "k", 1, 11000, &st) == e && st == CACHE_STALE_SWR);
    CHECK_EQ(cache_entry_ttl_left_ms(c, e, 11000), 0);
    CHECK(cache_lookup(c, "k", 1, 11499, &st) == e && st == CACHE_STALE_SWR);
    CHECK(cache_lookup(c, "k", 1, 11500, &st) == e && st == CACHE_STALE_SIE);
    CHECK(cache_lookup(c, "k", 1, 13999, &st) == e && st == CACHE_STALE_SIE);
    CHECK_EQ(cache_entry_page(e)->n_summaries, 3);
    /* dead: dropped on lookup */
    CHECK(cache_lookup(c, "k", 1, 14000, &st) == NULL && st == CACHE_MISS);
    struct cache_stats s;
    cache_get_stats(c, &s);
    CHECK_EQ(s.entries, 0);
    CHECK_EQ(s.bytes, 0);
    CHECK_EQ(s.expirations, 1);
    /* replacing an entry resets its age and drops the old one's bytes */
    p = s_page(2, "a");
    cache_store(c, "k", 1, &p, 0);
    p = s_page(2, "b");
    e = cache_store(c, "k", 1, &p, 5000);
    cache_get_stats(c, &s);
    CHECK_EQ(s.entries, 1);
    CHECK(cache_lookup(c, "k", 1, 5500, &st) == e && st == CACHE_FRESH);
    CHECK(strstr(cache_entry_page(e)->summaries[0].job_arn, "b0000") != NULL);
    /* sweep drops only dead ones */
    p = s_page(1, "c");
    cache_store(c, "old", 3, &p, 0);
    CHECK_EQ(cache_sweep(c, 4100, 100), 1);
    CHECK(cache_lookup(c, "k", 1, 4100, &st) == e);
    cache_destroy(c);
}

static void test_swr_zero(void)
{
    /* swr 0, sie 0: stale never served */
    struct cache_options o = {.ttl_ms = 100, .max_bytes = 1 << 20, .max_entry_bytes = 1 << 19};
    struct cache *c = cache_new(&o);
    struct jobs_response p = s_page(1, "z");
    cache_store(c, "k", 1, &p, 0);
    enum cache_state st;
    CHECK(cache_lookup(c, "k", 1, 99, &st) != NULL && st == CACHE_FRESH);
    CHECK(cache_lookup(c, "k", 1, 100, &st) == NULL && st == CACHE_MISS);
    cache_destroy(c);
}

static void test_budget_lru(void)
{
    struct cache_options o = {
        .ttl_ms = 100000, .swr_ms = 0, .sie_ms = 0, .max_bytes = 20000, .max_entry_bytes = 8000};
    struct cache *c = cache_new(&o);
    struct cache_stats s;
    enum cache_state st;
    char key[32];
    for (int i = 0; i < 500; i++) {
        struct jobs_response p = s_page(5, "lru");
        snprintf(key, sizeof(key), "key-%d", i);
        CHECK(cache_store(c, key, strlen(key), &p, i) != NULL);
        cache_get_stats(c, &s);
        CHECK(s.bytes <= o.max_bytes);
        /* keep key-0 hot: it must survive */
        CHECK(cache_lookup(c, "key-0", 5, i, &st) != NULL);
    }
    cache_get_stats(c, &s);
    CHECK(s.evictions > 400);
    CHECK(s.entries > 2 && s.entries < 100);
    CHECK(cache_lookup(c, "key-1", 5, 600, &st) == NULL);
    CHECK(cache_lookup(c, "key-499", 7, 600, &st) != NULL);
    /* too big for one entry: refused, old value kept */
    struct jobs_response big = s_page(200, "big");
    CHECK(cache_store(c, "key-499", 7, &big, 700) == NULL);
    CHECK(big.n_summaries == 200); /* untouched */
    jobs_response_clean_up(&big);
    cache_get_stats(c, &s);
    CHECK_EQ(s.rejected_large, 1);
    CHECK(cache_lookup(c, "key-499", 7, 700, &st) != NULL);
    /* many buckets: the index grows and still finds everything */
    cache_destroy(c);
    o.max_bytes = 64u << 20;
    c = cache_new(&o);
    for (int i = 0; i < 3000; i++) {
        struct jobs_response p = s_page(1, "g");
        snprintf(key, sizeof(key), "g-%d", i);
        cache_store(c, key, strlen(key), &p, 0);
    }
    int found = 0;
    for (int i = 0; i < 3000; i++) {
        snprintf(key, sizeof(key), "g-%d", i);
        found += cache_lookup(c, key, strlen(key), 1, &st) != NULL;
    }
    CHECK_EQ(found, 3000);
    cache_destroy(c);
}

static void test_views(void)
{
    struct cache_options o = {
        .ttl_ms = 1000, .swr_ms = 0, .sie_ms = 0, .max_bytes = 30000, .max_entry_bytes = 10000};
    struct cache *c = cache_new(&o);
    struct jobs_response p = s_page(2, "v");
    struct cache_entry *e = cache_store(c, "k", 1, &p, 0);
    struct cache_stats s0, s1;
    cache_get_stats(c, &s0);
    CHECK(cache_entry_view(e, "rest|a", 6) == NULL);
    const struct cache_view *v = cache_entry_add_view(c, e, "rest|a", 6, "{\"x\":1}", 7, NULL);
    CHECK(v && v->body_len == 7 && memcmp(v->body, "{\"x\":1}", 7) == 0);
    cache_get_stats(c, &s1);
    CHECK(s1.bytes > s0.bytes + 7);
    char et[20];
    cache_etag("{\"x\":1}", 7, et);
    CHECK_STR(v->etag, et);
    CHECK_EQ(strlen(et), 18);
    cache_etag("{\"x\":2}", 7, et);
    CHECK(strcmp(v->etag, et) != 0);
    CHECK(v->meta.items == 0 && !v->meta.more); /* no meta given */
    const struct cache_view_meta meta = {42, true};
    CHECK(cache_entry_add_view(c, e, "rest|b", 6, "{}", 2, &meta) != NULL);
    const struct cache_view *vb = cache_entry_view(e, "rest|b", 6);
    CHECK(vb && vb->meta.items == 42 && vb->meta.more); /* kept with the view */
    v = cache_entry_view(e, "rest|a", 6);
    CHECK(v && v->body_len == 7);
    /* replacing keeps the count right */
    CHECK(cache_entry_add_view(c, e, "rest|a", 6, "{\"y\":22}", 8, NULL) != NULL);
    v = cache_entry_view(e, "rest|a", 6);
    CHECK(v && v->body_len == 8);
    /* a view that would push the entry over max_entry_bytes is refused */
    char *big = calloc(1, 12000);
    CHECK(cache_entry_add_view(c, e, "rest|c", 6, big, 12000, NULL) == NULL);
    /* views count against the budget: filling other entries evicts, never e
     * while it is being added to */
    for (int i = 0; i < 20; i++) {
        struct jobs_response q = s_page(2, "f");
        char key[16];
        snprintf(key, sizeof(key), "f%d", i);
        cache_store(c, key, strlen(key), &q, 0);
    }
    enum cache_state st;
    e = cache_lookup(c, "k", 1, 1, &st);
    if (!e) { /* evicted as LRU by the stores: store again */
        p = s_page(2, "v");
        e = cache_store(c, "k", 1, &p, 1);
    }
    CHECK(cache_entry_add_view(c, e, "grpc|a", 6, big, 8000, NULL) != NULL);
    struct cache_stats s2;
    cache_get_stats(c, &s2);
    CHECK(s2.bytes <= o.max_bytes);
    CHECK(cache_lookup(c, "k", 1, 2, &st) == e);
    free(big);
    cache_destroy(c);
}

/* A held view's bytes outlive its replacement, its entry and the cache. */
static void test_view_hold(void)
{
    struct cache_options o = {.ttl_ms = 100, .max_bytes = 1 << 20, .max_entry_bytes = 1 << 19};
    struct cache *c = cache_new(&o);
    struct jobs_response p = s_page(2, "h");
    struct cache_entry *e = cache_store(c, "k", 1, &p, 0);
    CHECK(e != NULL);
    const struct cache_view *v = cache_entry_add_view(c, e, "rest|a", 6, "{\"x\":1}", 7, NULL);
    CHECK(v != NULL);
    struct cache_hold *h1 = cache_view_hold(v);
    const unsigned char *b1 = v->body;
    /* replaced: the old bytes stay readable while held */
    v = cache_entry_add_view(c, e, "rest|a", 6, "{\"x\":22}", 8, NULL);
    CHECK(v && v->body != b1);
    CHECK(memcmp(b1, "{\"x\":1}", 7) == 0);
    struct cache_hold *h2 = cache_view_hold(v);
    struct cache_hold *h3 = cache_view_hold(v);
    const unsigned char *b2 = v->body;
    cache_view_release(h3);
    /* the entry replaced, then the whole cache gone */
    struct jobs_response q = s_page(1, "h2");
    CHECK(cache_store(c, "k", 1, &q, 1) != NULL);
    cache_destroy(c);
    CHECK(memcmp(b2, "{\"x\":22}", 8) == 0);
    cache_view_release(h1);
    cache_view_release(h2);
    cache_view_release(NULL);
}

static void test_page_copy(void)
{
    struct jobs_response p = s_page(4, "cp"), d;
    p.summaries[1].imported_model_arn = strdup("arn:m");
    CHECK(cache_page_copy(&p, &d) == 0);
    CHECK_EQ(d.n_summaries, 4);
    CHECK(d.summaries[0].job_arn != p.summaries[0].job_arn);
    CHECK_STR(d.summaries[0].job_arn, p.summaries[0].job_arn);
    CHECK_STR(d.summaries[1].imported_model_arn, "arn:m");
    CHECK(d.summaries[2].imported_model_arn == NULL);
    CHECK_STR(d.next_token, "tok");
    CHECK_EQ(d.summaries[3].creation_time.seconds, 1700000003);
    jobs_response_clean_up(&p);
    jobs_response_clean_up(&d);
    struct jobs_response empty, d2;
    memset(&empty, 0, sizeof(empty));
    CHECK(cache_page_copy(&empty, &d2) == 0 && d2.n_summaries == 0 && !d2.next_token);
}

int main(void)
{
    test_key_normalization();
    test_windows();
    test_swr_zero();
    test_budget_lru();
    test_views();
    test_view_hold();
    test_page_copy();
    return TEST_EXIT();
}
