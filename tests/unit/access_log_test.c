/*
 * access_log_test - the directly formatted access line is byte-for-byte
 * what the jansson-built line (json_pack + log.c's serializer) was, for
 * hand-picked and random calls: every optional field, invalid UTF-8 and
 * control characters in client-influenced strings, truncation of
 * nameContains at 64 bytes (also inside a multi-byte sequence), negative
 * and large numbers.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "access_log.h"
#include "auth.h"
#include "json_write.h"
#include "log.h"
#include "test_util.h"
#include "timeutil.h"

/* ---- the reference: gateway.c's s_access_log before it was replaced --- */
static json_t *s_filters_json(const struct jobs_request *q)
{
    json_t *o = json_object();
    char t[TIMEUTIL_FMT_MAX];
    if (q->has_creation_time_after &&
        timeutil_format_rfc3339(q->creation_time_after, t, sizeof(t)) > 0)
        json_object_set_new(o, "creationTimeAfter", json_string(t));
    if (q->has_creation_time_before &&
        timeutil_format_rfc3339(q->creation_time_before, t, sizeof(t)) > 0)
        json_object_set_new(o, "creationTimeBefore", json_string(t));
    if (jobs_status_bedrock(q->status_equals))
        json_object_set_new(o, "statusEquals", json_string(jobs_status_bedrock(q->status_equals)));
    if (q->name_contains)
        json_object_set_new(o, "nameContains",
                            json_stringn(q->name_contains, strnlen(q->name_contains, 64)));
    if (jobs_sort_by_bedrock(q->sort_by))
        json_object_set_new(o, "sortBy", json_string(jobs_sort_by_bedrock(q->sort_by)));
    if (jobs_sort_order_bedrock(q->sort_order))
        json_object_set_new(o, "sortOrder", json_string(jobs_sort_order_bedrock(q->sort_order)));
    return o;
}

/* The fields the old code logged, or NULL when it logged nothing. */
static json_t *s_reference(const struct handler_call *c, const struct handler_audit *a,
                           const struct jobs_response *resp, const struct bgw_error *err,
                           int64_t latency_ms)
{
    const struct jobs_request *q = &c->req;
    json_t *params = json_object();
    if (q->has_creation_time_after)
        json_object_set_new(params, "creationTimeAfter",
                            json_integer(q->creation_time_after.seconds));
    if (q->has_creation_time_before)
        json_object_set_new(params, "creationTimeBefore",
                            json_integer(q->creation_time_before.seconds));
    if (q->status_equals)
        json_object_set_new(params, "statusEquals", json_integer(q->status_equals));
    if (q->name_contains)
        json_object_set_new(params, "nameContains",
                            json_stringn(q->name_contains, strnlen(q->name_contains, 64)));
    if (q->has_max_results)
        json_object_set_new(params, "maxResults", json_integer(q->max_results));
    if (q->next_token)
        json_object_set_new(params, "nextTokenLength",
                            json_integer((json_int_t)strlen(q->next_token)));
    if (q->sort_by)
        json_object_set_new(params, "sortBy", json_integer(q->sort_by));
    if (q->sort_order)
        json_object_set_new(params, "sortOrder", json_integer(q->sort_order));
    enum bgw_status st = err ? err->status : BGW_OK;
    json_t *f = json_pack("{s:s,s:s,s:s,s:s,s:o,s:s,s:i,s:i,s:I,s:i}", "request_id", c->request_id,
                          "transport", c->transport == HANDLER_GRPC ? "grpc" : "rest", "tenant",
                          c->tenant ? c->tenant->id : "", "peer", c->peer, "params", params, "code",
                          bgw_status_grpc_name(st), "grpc_code", bgw_status_grpc_code(st),
                          "http_status", bgw_status_http(st), "latency_ms", (json_int_t)latency_ms,
                          "upstream_calls", c->upstream_calls);
    if (!f)
        return NULL;
    if (a->filters) {
        json_t *ef = s_filters_json(a->filters);
        json_object_set_new(ef, "pageSize", json_integer(a->page_size));
        json_object_set_new(f, "filters", ef);
        if (a->policy_empty)
            json_object_set_new(f, "policy_empty", json_true());
    }
    if (c->upstream_status || c->upstream_ms) {
        json_object_set_new(f, "upstream_status", json_integer(c->upstream_status));
        json_object_set_new(f, "upstream_ms", json_integer(c->upstream_ms));
    }
    if (c->auth_method != AUTH_NONE)
        json_object_set_new(f, "auth", json_string(auth_method_str(c->auth_method)));
    const struct handler_cache_reply *cr = &c->cache_reply;
    if (resp) {
        json_object_set_new(f, "items", json_integer((json_int_t)resp->n_summaries));
        json_object_set_new(f, "more", json_boolean(resp->next_token != NULL));
    } else if (!err && cr->from_view) {
        json_object_set_new(f, "items", json_integer((json_int_t)cr->items));
        json_object_set_new(f, "more", json_boolean(cr->more));
    }
    if (cr->x_cache)
        json_object_set_new(f, "cache", json_string(cr->coalesced ? "coalesced" : cr->x_cache));
    if (cr->from_view)
        json_object_set_new(f, "view", json_true());
    if (err)
        json_object_set_new(f, "error", json_string(err->message));
    return f;
}

/* ---- comparison ------------------------------------------------------- */
static int s_compare(const struct handler_call *c, const struct handler_audit *a,
                     const struct jobs_response *resp, const struct bgw_error *err,
                     int64_t latency_ms)
{
    struct buf want, got;
    buf_init(&want, 0);
    buf_init(&got, 0);
    json_t *f = s_reference(c, a, resp, err, latency_ms);
    int rc = access_log_append_fields(&got, c, a, resp, err, latency_ms);
    int ok;
    if (!f) {
        ok = CHECK(rc == 1);
    } else {
        CHECK(log_append_fields(&want, f) == 0);
        ok = CHECK(rc == 0) && CHECK_STR(got.data ? got.data : "", want.data ? want.data : "");
        /* and it parses as JSON once wrapped in braces */
        if (ok && got.len) {
            struct buf line;
            buf_init(&line, 0);
            buf_append_str(&line, "{\"event\":\"access\"");
            buf_append(&line, got.data, got.len);
            buf_append_char(&line, '}');
            json_error_t je;
            json_t *parsed = json_loadb(line.data, line.len, 0, &je);
            ok = CHECK(parsed != NULL);
            json_decref(parsed);
            buf_clean_up(&line);
        }
    }
    json_decref(f);
    buf_clean_up(&want);
    buf_clean_up(&got);
    return ok;
}

static unsigned long s_seed = 12345;
static unsigned s_rand(void)
{
    s_seed = s_seed * 6364136223846793005ul + 1442695040888963407ul;
    return (unsigned)(s_seed >> 33);
}

/* Random bytes biased toward the interesting ones (no NUL: C strings). */
static void s_rand_str(char *out, size_t max)
{
    static const unsigned char pool[] = {'a',  'Z',  '0',  '"',  '\\', '/',  '\n', '\t', 0x01,
                                         0x1f, 0x7f, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f,
                                         0x98, 0x80, 0xc0, 0xed, 0xa0, 0xf5, 0xff, ' '};
    size_t n = s_rand() % max;
    for (size_t i = 0; i < n; i++) {
        if (s_rand() % 3 == 0)
            out[i] = (char)(1 + s_rand() % 255);
        else
            out[i] = (char)pool[s_rand() % sizeof(pool)];
    }
    out[n] = '\0';
}

static void s_rand_utf8(char *out, size_t max)
{
    static const char *const parts[] = {"a", "é", "€", "😀", "x", "-", "_", "team-a-"};
    size_t n = 0;
    out[0] = '\0';
    while (1) {
        const char *p = parts[s_rand() % (sizeof(parts) / sizeof(parts[0]))];
        size_t l = strlen(p);
        if (n + l + 1 > max || s_rand() % 16 == 0)
            break;
        memcpy(out + n, p, l + 1);
        n += l;
    }
}

static void s_fixed(void)
{
    struct tenant t;
    memset(&t, 0, sizeof(t));
    snprintf(t.id, sizeof(t.id), "bench");
    struct handler_call c;
    memset(&c, 0, sizeof(c));
    c.transport = HANDLER_REST;
    snprintf(c.request_id, sizeof(c.request_id), "r65f0a1b2-1");
    snprintf(c.peer, sizeof(c.peer), "127.0.0.1:5555");
    struct handler_audit a;
    memset(&a, 0, sizeof(a));
    /* no tenant, no params, an error */
    struct bgw_error e;
    bgw_error_clear(&e);
    bgw_error_set(&e, BGW_ERR_UNAUTHENTICATED, NULL, "invalid API key");
    s_compare(&c, &a, NULL, &e, 0);
    /* a cached view hit */
    c.tenant = &t;
    c.auth_method = AUTH_API_KEY;
    c.req.status_equals = 2;
    c.req.has_max_results = true;
    c.req.max_results = 25;
    struct jobs_request f;
    memset(&f, 0, sizeof(f));
    f.status_equals = 2;
    char name[] = "team-a-";
    f.name_contains = name;
    a.filters = &f;
    a.page_size = 25;
    c.cache_reply.x_cache = "hit";
    c.cache_reply.from_view = true;
    c.cache_reply.items = 7;
    c.cache_reply.more = true;
    s_compare(&c, &a, NULL, NULL, 3);
    /* the line as a whole: begin + fields + end parse */
    struct buf line;
    buf_init(&line, 0);
    CHECK(log_line_begin(&line, LOG_INFO, "access") == 0);
    CHECK(access_log_append_fields(&line, &c, &a, NULL, NULL, 3) == 0);
    buf_append_char(&line, '}');
    json_error_t je;
    json_t *parsed = json_loadb(line.data, line.len, 0, &je);
    CHECK(parsed != NULL);
    CHECK_STR(json_string_value(json_object_get(parsed, "event")), "access");
    CHECK_STR(json_string_value(json_object_get(parsed, "cache")), "hit");
    CHECK(json_integer_value(json_object_get(parsed, "items")) == 7);
    json_decref(parsed);
    buf_clean_up(&line);
    /* invalid UTF-8 in the peer: no line, as before */
    snprintf(c.peer, sizeof(c.peer), "bad\xff");
    s_compare(&c, &a, NULL, NULL, 3);
    /* 64-byte cut inside a multi-byte character: nameContains left out */
    char cut[80];
    memset(cut, 'a', 63);
    memcpy(cut + 63, "\xc3\xa9", 3);
    snprintf(c.peer, sizeof(c.peer), "ipv4:127.0.0.1:1");
    c.req.name_contains = cut;
    f.name_contains = cut;
    s_compare(&c, &a, NULL, NULL, 3);
    c.req.name_contains = NULL;
    CHECK(json_write_utf8_ok("\xed\x9f\xbf", 3));
    CHECK(!json_write_utf8_ok("\xed\xa0\x80", 3)); /* surrogate */
    CHECK(!json_write_utf8_ok("\xc0\xaf", 2));     /* overlong */
    CHECK(!json_write_utf8_ok("\xf4\x90\x80\x80", 4));
    CHECK(json_write_utf8_ok("\xf4\x8f\xbf\xbf", 4));
    CHECK(!json_write_utf8_ok("\xe2\x82", 2));
}

static void s_random(int rounds)
{
    struct tenant t;
    static const char *const xc[] = {"hit", "miss", "stale", "bypass"};
    static const enum bgw_status sts[] = {BGW_ERR_INVALID_ARGUMENT,   BGW_ERR_INTERNAL,
                                          BGW_ERR_UNAUTHENTICATED,    BGW_ERR_UNAVAILABLE,
                                          BGW_ERR_RESOURCE_EXHAUSTED, BGW_ERR_DEADLINE_EXCEEDED};
    for (int r = 0; r < rounds; r++) {
        memset(&t, 0, sizeof(t));
        if (s_rand() % 4)
            s_rand_utf8(t.id, sizeof(t.id));
        else
            s_rand_str(t.id, sizeof(t.id));
        struct handler_call c;
        memset(&c, 0, sizeof(c));
        c.transport = s_rand() % 2 ? HANDLER_GRPC : HANDLER_REST;
        snprintf(c.request_id, sizeof(c.request_id), "%c%x-%x", c.transport ? 'r' : 'g', s_rand(),
                 s_rand());
        if (s_rand() % 8 == 0)
            s_rand_str(c.peer, sizeof(c.peer));
        else
            snprintf(c.peer, sizeof(c.peer), "127.0.0.1:%u", s_rand() % 65536);
        c.tenant = s_rand() % 4 ? &t : NULL;
        c.auth_method = (enum auth_method)(s_rand() % 4);
        char name[200], tok[300], ename[200];
        struct jobs_request *q = &c.req;
        q->has_creation_time_after = s_rand() % 2;
        q->creation_time_after.seconds = (int64_t)s_rand() - 100;
        q->creation_time_after.nanos = (int32_t)(s_rand() % 1000000000);
        q->has_creation_time_before = s_rand() % 2;
        q->creation_time_before.seconds = (int64_t)s_rand() * 4;
        q->status_equals = (int)(s_rand() % 5);
        if (s_rand() % 2) {
            if (s_rand() % 2)
                s_rand_utf8(name, sizeof(name));
            else
                s_rand_str(name, sizeof(name));
            q->name_contains = name;
        }
        q->has_max_results = s_rand() % 2;
        q->max_results = (int64_t)(s_rand() % 2000) - 500;
        if (s_rand() % 3 == 0) {
            s_rand_str(tok, sizeof(tok));
            q->next_token = tok;
        }
        q->sort_by = (int)(s_rand() % 3);
        q->sort_order = (int)(s_rand() % 4);
        struct handler_audit a;
        memset(&a, 0, sizeof(a));
        struct jobs_request f = *q;
        if (s_rand() % 2) {
            f.status_equals = (int)(s_rand() % 5);
            if (s_rand() % 3 == 0) {
                s_rand_str(ename, sizeof(ename));
                f.name_contains = ename;
            }
            a.filters = &f;
            a.page_size = (int64_t)(s_rand() % 1001);
            a.policy_empty = s_rand() % 4 == 0;
        }
        c.upstream_calls = (int)(s_rand() % 4);
        if (s_rand() % 2) {
            c.upstream_status = (long)(s_rand() % 600);
            c.upstream_ms = (int64_t)(s_rand() % 3000);
        }
        struct handler_cache_reply *cr = &c.cache_reply;
        if (s_rand() % 2) {
            cr->x_cache = xc[s_rand() % 4];
            cr->coalesced = s_rand() % 4 == 0;
        }
        cr->from_view = s_rand() % 2;
        cr->items = (int64_t)(s_rand() % 1000);
        cr->more = s_rand() % 2;
        struct jobs_response resp;
        memset(&resp, 0, sizeof(resp));
        resp.n_summaries = s_rand() % 100;
        char nt[] = "tok";
        resp.next_token = s_rand() % 2 ? nt : NULL;
        struct bgw_error e;
        bgw_error_clear(&e);
        const struct bgw_error *err = NULL;
        if (s_rand() % 3 == 0) {
            char msg[300];
            s_rand_str(msg, sizeof(msg));
            bgw_error_set(&e, sts[s_rand() % 6], NULL, "bad: %s", msg);
            err = &e;
        }
        const struct jobs_response *rp = !err && s_rand() % 2 ? &resp : NULL;
        int64_t lat = (int64_t)(s_rand() % 100000) - (s_rand() % 50 == 0 ? 200000 : 0);
        if (!s_compare(&c, &a, rp, err, lat))
            fprintf(stderr, "  (random round %d)\n", r);
    }
}

/* log_put_str's escaping (it skips clean 8-byte chunks) against jansson's,
 * with one or two characters that need
 * escaping at every position of
 * strings of every length up to 40, and at chunk boundaries. */
static void s_escapes(void)
{
    static const char *const specials[] = {"\"", "\\",   "\n",       "\x01", "\x1f", "\t",
                                           " ",  "\x7f", "\xc3\xa9", "/",    "\x20"};
    size_t ns = sizeof(specials) / sizeof(specials[0]);
    char str[64];
    for (size_t len = 0; len <= 40; len++) {
        for (size_t pos = 0; pos <= len; pos++) {
            for (size_t k = 0; k < ns * ns; k++) {
                const char *a = specials[k % ns], *z = specials[k / ns];
                memset(str, 'a', len);
                size_t n = len;
                size_t la = strlen(a), lz = strlen(z);
                memmove(str + pos + la, str + pos, len - pos);
                memcpy(str + pos, a, la);
                n += la;
                if (k / ns && n + lz < sizeof(str)) { /* a second one at the end */
                    memcpy(str + n, z, lz);
                    n += lz;
                }
                struct buf got;
                buf_init(&got, 0);
                CHECK(log_put_str(&got, str, n) == 0);
                json_t *j = json_stringn(str, n);
                char *want = j ? json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
                CHECK(want && got.len == strlen(want) && memcmp(got.data, want, got.len) == 0);
                free(want);
                json_decref(j);
                buf_clean_up(&got);
            }
        }
    }
}

int main(void)
{
    s_escapes();
    s_fixed();
    s_random(20000);
    return TEST_EXIT();
}
