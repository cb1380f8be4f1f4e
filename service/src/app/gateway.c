/*
 * gateway - loop-thread orchestration: frontends -> handler -> upstream ->
 * reply, plus drain on signals and the access log. See gateway.h.
 *
 * Threads: one. Both frontends (REST on http_server, gRPC on h2_server)
 * run on the event loop, so everything here is the loop's: no locks.
 */
#include "gateway.h"

#include <event2/event.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "access_log.h"
#include "cache.h"
#include "clock.h"
#include "config_ref.h"
#include "fetcher.h"
#include "grpc_frontend.h"
#include "handler.h"
#include "health.h"
#include "log.h"
#include "metrics.h"
#include "page_cache.h"
#include "ratelimit.h"
#include "rest_frontend.h"
#include "sd_notify.h"
#include "timeutil.h"
#include "tls_server.h"

/* One call waiting on Bedrock; also the upstream callback's argument. */
struct s_link {
    int pages;                /* upstream pages this call has taken in */
    struct fleet_op *rate_op; /* asking the fleet-wide tenant bucket */
    struct s_link *prev, *next;
    struct handler_call *call;
    struct gateway *g;
};

/* Calls per tenant, for bedrockgw_tenant_requests_total. */
struct s_tenant_count {
    char id[TENANT_ID_MAX + 1];
    uint64_t n[BGW_STATUS_COUNT];
};

struct gateway {
    const struct config *cfg;
    struct s_tenant_count *tenant_counts; /* heap, grows; kept across reloads */
    size_t n_tenant_counts, last_tenant;  /* the startup config: listeners, TLS, aws.*, drain */
    struct handler_ctx ctx;
    struct config_ref *current;       /* what new calls use (tenants, limits, CORS) */
    struct ratelimit_bucket *buckets; /* one per tenant of current, same order */
    const char *config_path;
    const struct config_env *env;
    unsigned long generation;
    struct event *sighup;
    struct event_base *base;
    struct fetcher *fetcher;
    struct fleet *fleet;       /* NULL: single replica (no redis.url) */
    struct page_cache *pcache; /* the page source: cache in front of the fetcher */
    struct metrics metrics;
    struct grpc_frontend *grpc;
    struct rest_frontend *rest;
    struct event *sigterm, *sigint, *grace_timer, *flush_timer;
    int64_t flush_deadline_ms;
    struct s_link inflight; /* sentinel of the list of calls waiting upstream */
    size_t n_inflight;
    bool draining;
    bool closed; /* loop finished: answer anything new with UNAVAILABLE */
    /* issue 5: credentials and readiness */
    struct credentials_provider *credentials;
    struct health health;
    struct event *cron, *unready_timer;
    struct credentials_wait *startup_wait;
    int exit_rc;
    int pending_signal;
    struct buf access_line; /* the access log's line buffer, reused */
    /* Access lines of this loop turn, written in one go at its end
     * (access_flush_ev): one write per turn instead of one per call. */
    struct buf access_pending;
    struct event *access_flush_ev;
    bool access_flush_due;
    /* What each TLS listener serves ([0] gRPC, [1] REST), for the metric. */
    struct tls_server_expiry tls_exp[2];
    bool tls_on[2];
};

static const char *const s_listener_names[2] = {"grpc", "http"};

#define S_CRON_MS 250

static int64_t s_wall_s(void)
{
    return clock_wall_ms() / 1000;
}

#define S_FLUSH_POLL_MS 5
#define S_FLUSH_MAX_MS 1000

/* Draining and nothing waits on Bedrock: stop once the REST replies have
 * been written (bounded: a reply to a vanished peer never completes). */
static void s_on_flush(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct gateway *g = arg;
    if ((rest_frontend_unsent(g->rest) == 0 && grpc_frontend_unsent(g->grpc) == 0) ||
        clock_mono_ms() >= g->flush_deadline_ms) {
        event_base_loopexit(g->base, NULL);
        return;
    }
    struct timeval tv = {0, S_FLUSH_POLL_MS * 1000};
    evtimer_add(g->flush_timer, &tv);
}

static void s_maybe_exit(struct gateway *g)
{
    if (!g->draining || g->n_inflight != 0 || g->flush_timer)
        return;
    g->flush_deadline_ms = clock_mono_ms() + S_FLUSH_MAX_MS;
    g->flush_timer = evtimer_new(g->base, s_on_flush, g);
    if (!g->flush_timer) {
        event_base_loopexit(g->base, NULL);
        return;
    }
    s_on_flush(-1, 0, g);
}

/* End of a loop turn that finished calls: their access lines, at once. */
static void s_on_access_flush(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct gateway *g = arg;
    g->access_flush_due = false;
    access_log_flush(&g->access_pending);
}

static uint64_t *s_tenant_counts(struct gateway *g, const char *id);

static void s_finish(struct gateway *g, struct handler_call *c, const struct jobs_response *resp,
                     const struct bgw_error *err)
{
    struct config_ref *ref = c->config_ref; /* c->tenant points into it */
    int64_t latency_ms = clock_mono_ms() - c->received_ms;
    access_log_queue(&g->access_line, &g->access_pending, c, resp, err, latency_ms);
    if (g->access_pending.len && !g->access_flush_due && g->access_flush_ev) {
        g->access_flush_due = true;
        event_active(g->access_flush_ev, EV_WRITE, 0);
    } else if (!g->access_flush_ev) {
        access_log_flush(&g->access_pending);
    }
    enum bgw_status st = err ? err->status : BGW_OK;
    metrics_observe_latency(&g->metrics, (int)c->transport, latency_ms);
    if (c->tenant) {
        uint64_t *tc = s_tenant_counts(g, c->tenant->id);
        if (tc)
            tc[st < BGW_STATUS_COUNT ? st : BGW_ERR_INTERNAL]++;
    }
    g->metrics.requests[c->transport < HANDLER_TRANSPORTS ? c->transport : HANDLER_REST]
                       [st < BGW_STATUS_COUNT ? st : BGW_ERR_INTERNAL]++;
    if (!err && c->cache_reply.not_modified)
        g->metrics.not_modified++;
    c->reply(c, resp, err); /* frees c */
    config_ref_release(ref);
}

/* The handler context for c: the config snapshot the call started with. */
static struct handler_ctx s_ctx(const struct gateway *g, const struct handler_call *c)
{
    struct handler_ctx ctx = g->ctx;
    if (c->config_ref) {
        const struct config_ref *ref = c->config_ref;
        ctx.cfg = ref->cfg;
        ctx.generation = ref->generation;
    }
    return ctx;
}

static enum bgw_status s_rate_refused(const struct handler_call *c, int64_t wait_ms,
                                      struct bgw_error *err)
{
    bgw_error_set(err, BGW_ERR_RESOURCE_EXHAUSTED, NULL,
                  "rate limit exceeded for tenant %s: retry after %lld ms", c->tenant->id,
                  (long long)wait_ms);
    err->retry_after_s = ratelimit_retry_after_s(wait_ms);
    return err->status;
}

/* The tenant's local token bucket (c authenticated against the config
 * snapshot it holds; a call that raced a reload is not limited here).
 * With a fleet this is the stand-in while Redis is unavailable: the limit
 * over redis.fallback_replicas. */
static enum bgw_status s_rate_limit(struct gateway *g, const struct handler_call *c,
                                    struct bgw_error *err)
{
    if (c->config_ref != g->current || !c->tenant || c->tenant->rate_limit.rate_mrps == 0)
        return BGW_OK;
    const struct tenant_table *tt = &g->current->cfg->tenants;
    size_t i = (size_t)(c->tenant - tt->tenants);
    int64_t wait_ms = 0;
    if (i >= tt->n_tenants)
        return BGW_OK;
    struct ratelimit_limit lim = c->tenant->rate_limit;
    if (g->fleet && g->cfg->redis.fallback_replicas > 1) {
        lim.rate_mrps /= g->cfg->redis.fallback_replicas;
        lim.burst /= g->cfg->redis.fallback_replicas;
        if (lim.rate_mrps < 1)
            lim.rate_mrps = 1;
        if (lim.burst < 1)
            lim.burst = 1;
    }
    if (ratelimit_take(&g->buckets[i], &lim, clock_mono_ms(), &wait_ms))
        return BGW_OK;
    return s_rate_refused(c, wait_ms, err);
}

static void s_track(struct gateway *g, struct handler_call *c, struct s_link *l)
{
    l->next = g->inflight.next;
    l->prev = &g->inflight;
    g->inflight.next->prev = l;
    g->inflight.next = l;
    c->gateway_link = l;
    g->n_inflight++;
}

static void s_untrack(struct gateway *g, struct handler_call *c)
{
    struct s_link *l = c->gateway_link;
    l->prev->next = l->next;
    l->next->prev = l->prev;
    free(l);
    c->gateway_link = NULL;
    g->n_inflight--;
}

static void s_on_page(void *arg, const struct page_cache_result *r);
static void s_cache_info(struct handler_call *c, const struct page_cache_result *r);

/* Starts the upstream fetch for q (through the response cache); the call
 * stays tracked until it is answered. 0, or -1 with err set (the call is
 * then untracked). */
static int s_fetch(struct gateway *g, struct handler_call *c, struct s_link *l,
                   const struct jobs_request *q, struct bgw_error *err)
{
    struct page_cache_control ctl;
    page_cache_parse_control(c->cache_control, &ctl);
    const struct config *cfg =
        c->config_ref ? ((const struct config_ref *)c->config_ref)->cfg : g->cfg;
    if (!cfg->cache.share_across_tenants && c->tenant)
        ctl.partition = c->tenant->id;
    c->upstream = page_cache_fetch_page(g->pcache, q, &ctl, c->deadline_ms, s_on_page, l, err);
    return c->upstream ? 0 : -1;
}

/* The answer is ready (handler said REPLY): fill the call's cache reply with
 * the serialized response. When the whole answer came from one cached page,
 * the bytes are kept with that entry per view (handler_view_key), so the next
 * identical request skips rendering. */
static void s_prepare_body(struct gateway *g, struct handler_call *c, int pages,
                           const struct page_cache_result *r, struct buf *body)
{
    struct handler_cache_reply *cr = &c->cache_reply;
    s_cache_info(c, r);
    struct handler_ctx ctx = s_ctx(g, c);
    const struct cache_view *v = NULL;
    char vk_mem[512];
    struct buf vk = {vk_mem, 0, sizeof(vk_mem), sizeof(vk_mem) - 1, 0};
    vk_mem[0] = '\0';
    bool have_vk = c->render && pages == 1 && r->entry && handler_view_key(&ctx, c, &vk) == 0;
    if (have_vk)
        v = page_cache_view(r, vk.data, vk.len);
    if (!v && r->outcome == PAGE_CACHE_HIT) {
        cr->x_cache = page_cache_outcome_str(PAGE_CACHE_MISS);
        cr->age_s = 0;
        cr->shared_hit = true;
    }
    if (!c->render)
        return;
    if (!v) {
        g->metrics.view_renders++;
        if (c->render(handler_response(c), body) != 0)
            return; /* the frontend renders (and reports) it again */
        if (have_vk) {
            const struct jobs_response *resp = handler_response(c);
            struct cache_view_meta meta = {(int64_t)resp->n_summaries, resp->next_token != NULL};
            v = page_cache_add_view(r, vk.data, vk.len, body->data, body->len, &meta);
        }
    }
    if (v) {
        cr->body = v->body;
        cr->body_len = v->body_len;
        cr->view = v;
        memcpy(cr->etag, v->etag, sizeof(cr->etag));
    } else {
        cr->body = body->data ? body->data : "";
        cr->body_len = body->len;
        cache_etag(cr->body, cr->body_len, cr->etag);
    }
    cr->not_modified = cache_etag_list_match(c->if_none_match, cr->etag);
}

static void s_cache_info(struct handler_call *c, const struct page_cache_result *r)
{
    struct handler_cache_reply *cr = &c->cache_reply;
    if (r->outcome != PAGE_CACHE_PASS) {
        cr->x_cache = page_cache_outcome_str(r->outcome);
        cr->warning = r->outcome == PAGE_CACHE_STALE_REVALIDATING ? 110
                      : r->outcome == PAGE_CACHE_STALE_ERROR      ? 111
                                                                  : 0;
        cr->age_s = r->age_ms / 1000;
        cr->max_age_s = r->entry ? r->ttl_left_ms / 1000 : -1;
        cr->coalesced = r->coalesced;
    } else {
        cr->max_age_s = -1;
    }
}

/* Fills the call's reply from a kept view of r's entry; false if none. */
static bool s_try_view(struct gateway *g, struct handler_call *c, const struct page_cache_result *r)
{
    char vk_mem[512];
    struct buf vk = {vk_mem, 0, sizeof(vk_mem), sizeof(vk_mem) - 1, 0};
    vk_mem[0] = '\0';
    struct handler_ctx ctx = s_ctx(g, c);
    if (handler_view_key(&ctx, c, &vk) != 0)
        return false;
    const struct cache_view *v = page_cache_view(r, vk.data, vk.len);
    if (!v)
        return false;
    s_cache_info(c, r);
    struct handler_cache_reply *cr = &c->cache_reply;
    cr->body = v->body;
    cr->body_len = v->body_len;
    cr->view = v;
    memcpy(cr->etag, v->etag, sizeof(cr->etag));
    cr->not_modified = cache_etag_list_match(c->if_none_match, cr->etag);
    cr->from_view = true;
    cr->items = v->meta.items;
    cr->more = v->meta.more;
    return true;
}

static void s_on_page(void *arg, const struct page_cache_result *r)
{
    struct s_link *l = arg;
    struct gateway *g = l->g;
    struct handler_call *c = l->call;
    c->upstream = NULL;
    c->upstream_status = r->http_status;
    c->upstream_ms += r->upstream_ms;
    c->upstream_calls += r->attempts;
    if (r->transport_error)
        log_event_limited(
            LOG_WARN, "upstream_failed",
            json_pack("{s:s,s:s,s:s}", "request_id", c->request_id, "outcome",
                      r->status == BGW_ERR_DEADLINE_EXCEEDED ? "timeout" : "transport", "detail",
                      r->transport_error));
    struct bgw_error err;
    bgw_error_clear(&err);
    if (r->status != BGW_OK) {
        s_untrack(g, c);
        s_finish(g, c, NULL, r->err);
        s_maybe_exit(g);
        return;
    }
    /* Cheap hit: this exact call (tenant, transport, client request) was
     * answered from this one cached page before; its serialized answer is
     * kept with the entry. Skip copying the page, paging, token minting and
     * rendering. (Tokens in the kept answer were minted when it was
     * rendered: at most cache.ttl_ms + swr/sie earlier.) */
    if (l->pages == 0 && r->entry && c->render && s_try_view(g, c, r)) {
        s_untrack(g, c);
        s_finish(g, c, NULL, NULL);
        s_maybe_exit(g);
        return;
    }
    struct jobs_request q;
    memset(&q, 0, sizeof(q));
    enum handler_next next = HANDLER_REPLY;
    struct handler_now now = {clock_mono_ms(), s_wall_s()};
    /* The cache lends its page: the handler consumes a copy. Every page of
     * the call goes through the call's own config snapshot. */
    struct handler_ctx ctx = s_ctx(g, c);
    struct jobs_response page;
    enum bgw_status st = cache_page_copy(r->page, &page) == 0
                             ? BGW_OK
                             : bgw_error_set(&err, BGW_ERR_NOMEM, NULL, "out of memory");
    l->pages++;
    if (st == BGW_OK) {
        st = handler_on_page(&ctx, c, &now, &page, &next, &q, &err);
        jobs_response_clean_up(&page);
    }
    if (st == BGW_OK && next == HANDLER_FETCH && s_fetch(g, c, l, &q, &err) == 0) {
        jobs_request_clean_up(&q);
        return; /* still tracked, waiting for the next page */
    }
    jobs_request_clean_up(&q);
    int pages = l->pages;
    s_untrack(g, c); /* frees l */
    if (st == BGW_OK && next == HANDLER_REPLY) {
        struct buf body;
        buf_init(&body, 0);
        s_prepare_body(g, c, pages, r, &body);
        s_finish(g, c, handler_response(c), NULL);
        buf_clean_up(&body);
    } else {
        s_finish(g, c, NULL, &err);
    }
    s_maybe_exit(g);
}

static void s_admitted(struct gateway *g, struct handler_call *c);
static void s_on_rate(void *arg, enum fleet_take_result r, int64_t wait_ms);

static void s_submit(void *arg, struct handler_call *c)
{
    struct gateway *g = arg;
    struct bgw_error err;
    bgw_error_clear(&err);
    if (g->closed || g->draining) {
        bgw_error_set(&err, BGW_ERR_UNAVAILABLE, NULL, "gateway is shutting down");
        err.retry_after_s = 1;
        s_finish(g, c, NULL, &err);
        return;
    }
    if (g->n_inflight >= g->cfg->max_inflight) {
        bgw_error_set(&err, BGW_ERR_UNAVAILABLE, NULL,
                      "gateway overloaded: too many calls in flight");
        err.retry_after_s = 1;
        s_finish(g, c, NULL, &err);
        return;
    }
    c->config_ref = config_ref_acquire(g->current);
    struct handler_ctx ctx = s_ctx(g, c);
    if (handler_authenticate(&ctx, c, &err) != BGW_OK) {
        s_finish(g, c, NULL, &err);
        return;
    }
    if (g->fleet && c->tenant && c->tenant->rate_limit.rate_mrps > 0) {
        /* the fleet-wide bucket first; the call is tracked meanwhile */
        struct s_link *l = calloc(1, sizeof(*l));
        if (l) {
            l->g = g;
            l->call = c;
            s_track(g, c, l);
            const struct ratelimit_limit *rl = &c->tenant->rate_limit;
            l->rate_op =
                fleet_take(g->fleet, "tenant", c->tenant->id, (double)rl->rate_mrps / 1000.0,
                           (double)rl->burst, s_on_rate, l);
            if (l->rate_op)
                return;
            s_untrack(g, c); /* Redis unavailable: the local bucket */
        }
    }
    if (s_rate_limit(g, c, &err) != BGW_OK) {
        s_finish(g, c, NULL, &err);
        return;
    }
    s_admitted(g, c);
}

/* The fleet-wide tenant bucket answered. */
static void s_on_rate(void *arg, enum fleet_take_result r, int64_t wait_ms)
{
    struct s_link *l = arg;
    struct gateway *g = l->g;
    struct handler_call *c = l->call;
    l->rate_op = NULL;
    s_untrack(g, c); /* frees l */
    struct bgw_error err;
    bgw_error_clear(&err);
    if (r == FLEET_REFUSED || (r == FLEET_TAKE_UNAVAILABLE && s_rate_limit(g, c, &err) != BGW_OK)) {
        if (r == FLEET_REFUSED)
            s_rate_refused(c, wait_ms, &err);
        s_finish(g, c, NULL, &err);
        s_maybe_exit(g);
        return;
    }
    s_admitted(g, c);
    s_maybe_exit(g);
}

/* Authenticated and within its rate: on to the handler and upstream. */
static void s_admitted(struct gateway *g, struct handler_call *c)
{
    struct bgw_error err;
    bgw_error_clear(&err);
    struct handler_ctx ctx = s_ctx(g, c);
    struct jobs_request q;
    enum handler_next next;
    struct handler_now now = {clock_mono_ms(), s_wall_s()};
    if (handler_prepare(&ctx, c, &now, &next, &q, &err) != BGW_OK) {
        jobs_request_clean_up(&q);
        s_finish(g, c, NULL, &err);
        return;
    }
    if (next == HANDLER_REPLY) { /* nothing to ask Bedrock (empty by policy) */
        s_finish(g, c, handler_response(c), NULL);
        return;
    }
    struct s_link *l = malloc(sizeof(*l));
    if (!l) {
        jobs_request_clean_up(&q);
        bgw_error_set(&err, BGW_ERR_NOMEM, NULL, "out of memory");
        s_finish(g, c, NULL, &err);
        return;
    }
    l->g = g;
    l->call = c;
    l->pages = 0;
    l->rate_op = NULL;
    s_track(g, c, l);
    int rc = s_fetch(g, c, l, &q, &err);
    jobs_request_clean_up(&q);
    if (rc != 0) {
        s_untrack(g, c);
        s_finish(g, c, NULL, &err);
    }
}

/* The states behind the alerts: the breaker, the credentials' expiry, and
 * calls per tenant. */
static int s_metrics_state(struct gateway *g, struct buf *out)
{
    int64_t now_ms = clock_wall_ms();
    struct bgw_error err;
    bgw_error_clear(&err);
    const struct credentials *cr = credentials_provider_current(g->credentials, now_ms, &err);
    int bad =
        buf_appendf(out,
                    "# HELP bedrockgw_upstream_breaker_state The upstream circuit breaker: 0 "
                    "closed, 1 open (failing fast), 2 half-open (probing).\n"
                    "# TYPE bedrockgw_upstream_breaker_state gauge\n"
                    "bedrockgw_upstream_breaker_state %d\n"
                    "# HELP bedrockgw_credentials_valid Whether usable AWS credentials are in "
                    "hand (1) or not (0).\n# TYPE bedrockgw_credentials_valid gauge\n"
                    "bedrockgw_credentials_valid %d\n",
                    (int)fetcher_breaker_state(g->fetcher, clock_mono_ms()), cr ? 1 : 0);
    if (cr && cr->expires_at_ms > 0)
        bad |= buf_appendf(out,
                           "# HELP bedrockgw_credentials_expiry_seconds Seconds until the AWS "
                           "credentials in use expire (absent for credentials that do not).\n"
                           "# TYPE bedrockgw_credentials_expiry_seconds gauge\n"
                           "bedrockgw_credentials_expiry_seconds %lld\n",
                           (long long)((cr->expires_at_ms - now_ms) / 1000));
    bad |= buf_append_str(out, "# HELP bedrockgw_tenant_requests_total Finished calls by tenant "
                               "and code (authenticated calls).\n"
                               "# TYPE bedrockgw_tenant_requests_total counter\n");
    for (size_t i = 0; i < g->n_tenant_counts; i++)
        for (int s = 0; s < BGW_STATUS_COUNT; s++)
            if (g->tenant_counts[i].n[s])
                bad |= buf_appendf(
                    out, "bedrockgw_tenant_requests_total{tenant=\"%s\",code=\"%s\"} %llu\n",
                    g->tenant_counts[i].id, bgw_status_grpc_name((enum bgw_status)s),
                    (unsigned long long)g->tenant_counts[i].n[s]);
    return bad;
}

/* The per-tenant counters of a call's tenant (by id: a reload keeps them),
 * or NULL when memory runs out. Tenants are few; the last one found is
 * tried first. */
static uint64_t *s_tenant_counts(struct gateway *g, const char *id)
{
    if (g->last_tenant < g->n_tenant_counts && strcmp(g->tenant_counts[g->last_tenant].id, id) == 0)
        return g->tenant_counts[g->last_tenant].n;
    for (size_t i = 0; i < g->n_tenant_counts; i++) {
        if (strcmp(g->tenant_counts[i].id, id) == 0) {
            g->last_tenant = i;
            return g->tenant_counts[i].n;
        }
    }
    struct s_tenant_count *grown =
        realloc(g->tenant_counts, (g->n_tenant_counts + 1) * sizeof(*grown));
    if (!grown)
        return NULL;
    g->tenant_counts = grown;
    struct s_tenant_count *t = &grown[g->n_tenant_counts];
    memset(t, 0, sizeof(*t));
    snprintf(t->id, sizeof(t->id), "%s", id);
    g->last_tenant = g->n_tenant_counts++;
    return t->n;
}

/* GET /metrics (loop thread). */
static int s_metrics(void *arg, struct buf *out)
{
    struct gateway *g = arg;
    const struct cache *core = page_cache_core(g->pcache);
    struct cache_stats cs;
    if (core)
        cache_get_stats(core, &cs);
    int bad = metrics_render(&g->metrics, core ? &cs : NULL, out);
    if (g->fleet)
        bad |= fleet_metrics_render(g->fleet, out);
    bad |= s_metrics_state(g, out);
    if (!g->tls_on[0] && !g->tls_on[1])
        return bad;
    int64_t now = clock_wall_ms() / 1000;
    bad |=
        buf_append_str(out, "# HELP bedrockgw_tls_certificate_expiry_seconds Seconds until the "
                            "served certificate (certificate=\"server\") or the earliest client CA "
                            "(certificate=\"client_ca\") of a TLS listener expires; negative once "
                            "expired.\n# TYPE bedrockgw_tls_certificate_expiry_seconds gauge\n");
    for (int i = 0; i < 2; i++) {
        if (!g->tls_on[i])
            continue;
        const struct tls_server_expiry *e = &g->tls_exp[i];
        if (e->cert_not_after)
            bad |= buf_appendf(out,
                               "bedrockgw_tls_certificate_expiry_seconds{listener=\"%s\","
                               "certificate=\"server\"} %lld\n",
                               s_listener_names[i], (long long)(e->cert_not_after - now));
        if (e->ca_not_after)
            bad |= buf_appendf(out,
                               "bedrockgw_tls_certificate_expiry_seconds{listener=\"%s\","
                               "certificate=\"client_ca\"} %lld\n",
                               s_listener_names[i], (long long)(e->ca_not_after - now));
    }
    return bad ? -1 : 0;
}

static const struct config_tls *s_listener_tls(const struct config *cfg, int i)
{
    return i == 0 ? &cfg->grpc_tls : &cfg->http_tls;
}

/* Start: what the TLS listeners serve, with a warning for anything expired
 * or expiring within the listener's expiry_warning_days. */
static void s_tls_note_start(struct gateway *g)
{
    SSL_CTX *ctx[2] = {grpc_frontend_ssl_ctx(g->grpc), rest_frontend_ssl_ctx(g->rest)};
    int64_t now = clock_wall_ms() / 1000;
    for (int i = 0; i < 2; i++) {
        g->tls_on[i] = ctx[i] != NULL;
        if (!ctx[i])
            continue;
        const struct config_tls *t = s_listener_tls(g->cfg, i);
        tls_server_expiry(ctx[i], &g->tls_exp[i]);
        (void)tls_server_warn_expiry(s_listener_names[i], t, &g->tls_exp[i], now,
                                     t->expiry_warning_days * 86400, NULL);
    }
}

/* SIGHUP: the TLS listeners' files read again (rotation), checked as at
 * start; an expired server certificate is refused too. 0 with ctx[] set
 * (NULL for a plaintext listener), or -1 with the reason in err and
 * nothing kept. Paths are the running ones (changing them needs a
 * restart); the warning window is next's. */
static int s_tls_reload(struct gateway *g, const struct config *next, SSL_CTX *ctx[2],
                        struct tls_server_expiry exp[2], struct buf *err)
{
    static const char *const prefixes[2] = {"grpc.tls", "http.tls"};
    int64_t now = clock_wall_ms() / 1000;
    ctx[0] = ctx[1] = NULL;
    for (int i = 0; i < 2; i++) {
        if (!g->tls_on[i])
            continue;
        const struct config_tls *t = s_listener_tls(g->cfg, i);
        ctx[i] = tls_server_ctx_new(t, prefixes[i], err);
        if (!ctx[i])
            goto fail;
        tls_server_expiry(ctx[i], &exp[i]);
        if (exp[i].cert_not_after && exp[i].cert_not_after <= now) {
            buf_appendf(err, "%s.cert_file: the certificate in %s has expired", prefixes[i],
                        t->cert_file);
            goto fail;
        }
        const struct config_tls *nt = s_listener_tls(next, i);
        (void)tls_server_warn_expiry(s_listener_names[i], t, &exp[i], now,
                                     nt->expiry_warning_days * 86400, NULL);
    }
    return 0;
fail:
    SSL_CTX_free(ctx[0]);
    SSL_CTX_free(ctx[1]);
    ctx[0] = ctx[1] = NULL;
    return -1;
}

/* Grace period over: answer everything still waiting, then stop. */
static void s_on_grace(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct gateway *g = arg;
    log_msg(LOG_WARN, "drain_timeout", "cancelling %zu call(s) still waiting on Bedrock",
            g->n_inflight);
    while (g->inflight.next != &g->inflight) {
        struct handler_call *c = g->inflight.next->call;
        fleet_op_cancel(g->inflight.next->rate_op);
        g->inflight.next->rate_op = NULL;
        page_cache_cancel(c->upstream);
        c->upstream = NULL;
        s_untrack(g, c);
        struct bgw_error err;
        bgw_error_set(&err, BGW_ERR_UNAVAILABLE, NULL, "gateway is shutting down");
        err.retry_after_s = 1;
        s_finish(g, c, NULL, &err);
    }
    s_maybe_exit(g);
}

static void s_drain(struct gateway *g, int sig);

static void s_on_unready_over(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct gateway *g = arg;
    s_drain(g, g->pending_signal);
}

static void s_on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    struct gateway *g = arg;
    if (g->draining || g->health.shutting_down) {
        log_msg(LOG_WARN, "shutdown_forced", "second signal %d: stopping now", (int)sig);
        if (!g->draining)
            s_drain(g, (int)sig);
        s_on_grace(-1, 0, g);
        event_base_loopexit(g->base, NULL);
        return;
    }
    /* Readiness goes false first, so load balancers stop sending; then,
     * after gateway.shutdown_unready_ms, stop accepting and drain. */
    g->health.shutting_down = true;
    log_event(LOG_INFO, "unready",
              json_pack("{s:i,s:I}", "signal", (int)sig, "drain_in_ms",
                        (json_int_t)g->cfg->shutdown_unready_ms));
    g->pending_signal = (int)sig;
    if (g->cfg->shutdown_unready_ms > 0) {
        g->unready_timer = evtimer_new(g->base, s_on_unready_over, g);
        struct timeval tv = {(time_t)(g->cfg->shutdown_unready_ms / 1000),
                             (suseconds_t)((g->cfg->shutdown_unready_ms % 1000) * 1000)};
        if (g->unready_timer && evtimer_add(g->unready_timer, &tv) == 0)
            return;
    }
    s_drain(g, (int)sig);
}

static void s_drain(struct gateway *g, int sig)
{
    sd_notify_send("STOPPING=1\nSTATUS=draining");
    g->draining = true;
    log_event(LOG_INFO, "draining",
              json_pack("{s:i,s:I,s:I}", "signal", sig, "inflight", (json_int_t)g->n_inflight,
                        "grace_ms", (json_int_t)g->cfg->shutdown_grace_ms));
    grpc_frontend_stop_accepting(g->grpc);
    rest_frontend_stop_accepting(g->rest);
    if (g->n_inflight == 0) {
        s_maybe_exit(g);
        return;
    }
    struct timeval tv = {(time_t)(g->cfg->shutdown_grace_ms / 1000),
                         (suseconds_t)((g->cfg->shutdown_grace_ms % 1000) * 1000)};
    g->grace_timer = evtimer_new(g->base, s_on_grace, g);
    if (g->grace_timer)
        evtimer_add(g->grace_timer, &tv);
}

/* Fills b (next->n_tenants buckets) for next's tenants: a tenant that
 * existed before (same id) keeps its bucket's level, a new one starts full.
 * All on the loop: the levels read here are the ones swapped out. */
static void s_carry_buckets(const struct gateway *g, const struct tenant_table *next,
                            struct ratelimit_bucket *b)
{
    const struct tenant_table *old = g->current && g->buckets ? &g->current->cfg->tenants : NULL;
    for (size_t i = 0; i < next->n_tenants; i++) {
        const struct ratelimit_bucket *prev = NULL;
        for (size_t j = 0; old && j < old->n_tenants && !prev; j++) {
            if (strcmp(old->tenants[j].id, next->tenants[i].id) == 0)
                prev = &g->buckets[j];
        }
        ratelimit_bucket_carry(&b[i], prev, &next->tenants[i].rate_limit);
    }
}

static struct ratelimit_bucket *s_buckets_new(const struct tenant_table *t)
{
    return calloc(t->n_tenants ? t->n_tenants : 1, sizeof(struct ratelimit_bucket));
}

/* SIGHUP: load and validate the file, then swap it in for new calls. Calls
 * in flight keep their reference to the old snapshot. */
static void s_do_reload(struct gateway *g)
{
    struct buf err;
    buf_init(&err, 4096);
    if (!g->config_path) {
        log_msg(LOG_WARN, "reload_failed", "no config file to reload");
        goto cleanup;
    }
    if (g->draining || g->health.shutting_down) {
        log_msg(LOG_WARN, "reload_ignored", "shutting down: SIGHUP ignored");
        goto cleanup;
    }
    struct config_ref *next = config_ref_load(g->config_path, g->env, g->generation + 1, &err);
    if (!next) {
        log_event(LOG_ERROR, "reload_failed",
                  json_pack("{s:s,s:s,s:s}", "file", g->config_path, "error",
                            err.data ? err.data : "unknown error", "msg",
                            "config not reloaded: the running config stays in effect"));
        goto cleanup;
    }
    SSL_CTX *tls_ctx[2];
    struct tls_server_expiry tls_exp[2];
    if (s_tls_reload(g, next->cfg, tls_ctx, tls_exp, &err) != 0) {
        log_event(LOG_ERROR, "reload_failed",
                  json_pack("{s:s,s:s,s:s}", "file", g->config_path, "error",
                            err.data ? err.data : "unknown error", "msg",
                            "not reloaded: the running config and certificates stay in effect"));
        config_ref_release(next);
        goto cleanup;
    }
    config_ref_carry_tokens(next, g->current->cfg); /* walks in progress survive */
    struct ratelimit_bucket *buckets = s_buckets_new(&next->cfg->tenants);
    if (!buckets) {
        log_msg(LOG_ERROR, "reload_failed", "out of memory: the running config stays in effect");
        SSL_CTX_free(tls_ctx[0]);
        SSL_CTX_free(tls_ctx[1]);
        config_ref_release(next);
        goto cleanup;
    }
    if (tls_ctx[0]) { /* certificates rotated: for new connections */
        grpc_frontend_set_ssl_ctx(g->grpc, tls_ctx[0]);
        g->tls_exp[0] = tls_exp[0];
    }
    if (tls_ctx[1]) {
        rest_frontend_set_ssl_ctx(g->rest, tls_ctx[1]);
        g->tls_exp[1] = tls_exp[1];
    }
    g->generation++;
    struct buf restart;
    buf_init(&restart, 4096);
    if (config_ref_restart_keys(g->cfg, next->cfg, &restart) > 0)
        log_event(LOG_WARN, "reload_restart_required",
                  json_pack("{s:s,s:s}", "keys", restart.data, "msg",
                            "these settings changed but only apply after a restart"));
    buf_clean_up(&restart);
    struct config_ref *old = g->current;
    s_carry_buckets(g, &next->cfg->tenants, buckets);
    free(g->buckets);
    g->buckets = buckets;
    g->current = next;
    rest_frontend_set_config(g->rest, next->cfg);
    config_ref_release(old); /* freed once the last call using it is answered */
    log_event(LOG_INFO, "reloaded",
              json_pack("{s:s,s:I,s:i,s:I,s:b}", "file", g->config_path, "generation",
                        (json_int_t)g->generation, "tenants", (int)next->cfg->tenants.n_tenants,
                        "inflight", (json_int_t)g->n_inflight, "tokens_ephemeral",
                        next->cfg->tokens_ephemeral));
cleanup:
    buf_clean_up(&err);
}

/* SIGHUP: systemd hears of it (Type=notify units) whatever the outcome. */
static void s_reload(struct gateway *g)
{
    sd_notify_send("RELOADING=1\nSTATUS=reloading");
    s_do_reload(g);
    sd_notify_send("READY=1\nSTATUS=serving");
}

static void s_on_sighup(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    s_reload(arg);
}

struct gateway *gateway_new(const struct gateway_options *opts, struct buf *err)
{
    struct gateway *g = calloc(1, sizeof(*g));
    if (!g) {
        buf_append_str(err, "out of memory");
        return NULL;
    }
    g->cfg = opts->cfg;
    g->ctx.cfg = opts->cfg;
    buf_init(&g->access_line, 1u << 20);
    buf_init(&g->access_pending, 1u << 22);
    g->config_path = opts->config_path;
    g->env = opts->env;
    g->current = config_ref_borrow(opts->cfg);
    /* zeroed: every tenant starts full (ratelimit_bucket_carry without an old one) */
    g->buckets = g->current ? s_buckets_new(&opts->cfg->tenants) : NULL;
    if (!g->current || !g->buckets) {
        buf_append_str(err, "out of memory");
        goto fail;
    }
    g->inflight.next = g->inflight.prev = &g->inflight;
    g->credentials = opts->credentials;
    health_init(&g->health);
    g->health.config_loaded = true;
    /* The changelist folds an fd's add/del of interest within one loop turn
     * into one epoll_ctl (or none): evhttp toggles EV_WRITE per response. */
    struct event_config *ecfg = event_config_new();
    if (ecfg)
        event_config_set_flag(ecfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
    g->base = ecfg ? event_base_new_with_config(ecfg) : event_base_new();
    if (ecfg)
        event_config_free(ecfg);
    if (!g->base) {
        buf_append_str(err, "cannot create the event loop");
        goto fail;
    }
    g->access_flush_ev = event_new(g->base, -1, 0, s_on_access_flush, g);
    if (!g->access_flush_ev) {
        buf_append_str(err, "out of memory");
        goto fail;
    }
    if (credentials_provider_attach(g->credentials, g->base) != 0) {
        buf_append_str(err, "cannot set up the credentials provider");
        goto fail;
    }
    if (g->cfg->redis.url[0]) {
        char why[200];
        struct fleet_options flo = {g->base, g->cfg};
        g->fleet = fleet_new(&flo, why, sizeof(why));
        if (!g->fleet) {
            buf_appendf(err, "redis: %s", why);
            goto fail;
        }
    }
    struct fetcher_options fo = {g->cfg, g->base, opts->credentials, g->fleet};
    g->fetcher = fetcher_new(&fo);
    if (!g->fetcher) {
        buf_append_str(err, "cannot create the upstream HTTP client");
        goto fail;
    }
    struct page_cache_options pco = {
        .cfg = g->cfg,
        .base = g->base,
        .fetcher = g->fetcher,
        .credentials = opts->credentials,
        .metrics = &g->metrics,
        .fleet = g->fleet,
    };
    g->pcache = page_cache_new(&pco);
    if (!g->pcache) {
        buf_append_str(err, "cannot create the response cache");
        goto fail;
    }
    struct grpc_frontend_options go = {
        .cfg = g->cfg,
        .base = g->base,
        .submit = s_submit,
        .submit_arg = g,
        .health = &g->health,
        .start_paused = true, /* gateway_run starts it */
    };
    g->grpc = grpc_frontend_new(&go, err);
    if (!g->grpc)
        goto fail;
    struct rest_frontend_options ro = {
        .cfg = g->cfg,
        .base = g->base,
        .submit = s_submit,
        .submit_arg = g,
        .metrics = g->cfg->http_metrics_enabled ? s_metrics : NULL,
        .metrics_arg = g,
        .health = &g->health,
        .start_paused = true,
    };
    g->rest = rest_frontend_new(&ro, err);
    if (!g->rest)
        goto fail;
    s_tls_note_start(g);
    g->sigterm = evsignal_new(g->base, SIGTERM, s_on_signal, g);
    g->sigint = evsignal_new(g->base, SIGINT, s_on_signal, g);
    g->sighup = evsignal_new(g->base, SIGHUP, s_on_sighup, g);
    if (!g->sigterm || !g->sigint || !g->sighup || evsignal_add(g->sigterm, NULL) != 0 ||
        evsignal_add(g->sigint, NULL) != 0 || evsignal_add(g->sighup, NULL) != 0) {
        buf_append_str(err, "cannot install signal handlers");
        goto fail;
    }
    return g;
fail:
    gateway_destroy(g);
    return NULL;
}

/* Housekeeping: readiness follows credentials, the breaker and whether
 * both listeners can accept. */
static void s_on_cron(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct gateway *g = arg;
    g->health.credentials_ok = credentials_provider_resolved(g->credentials, clock_wall_ms());
    g->health.breaker_closed = fetcher_breaker_state(g->fetcher, clock_mono_ms()) != BREAKER_OPEN;
    g->health.listeners_ok = grpc_frontend_accepting(g->grpc) && rest_frontend_accepting(g->rest);
}

static void s_log_ready(struct gateway *g)
{
    log_event(LOG_INFO, "ready",
              json_pack("{s:i,s:b,s:b,s:i,s:s,s:s,s:s,s:s,s:i}", "grpc_port",
                        grpc_frontend_port(g->grpc), "grpc_tls", g->cfg->grpc_tls.cert_file[0] != 0,
                        "http_tls", g->cfg->http_tls.cert_file[0] != 0, "http_port",
                        rest_frontend_port(g->rest), "version", BGW_VERSION, "region",
                        g->cfg->region, "endpoint", g->cfg->endpoint_url, "endpoint_source",
                        g->cfg->endpoint_source, "tenants", (int)g->cfg->tenants.n_tenants));
    sd_notify_send("READY=1\nSTATUS=serving");
    if (g->cfg->tokens_ephemeral)
        log_msg(LOG_WARN, "tokens_ephemeral",
                "tokens.secret is not configured: page tokens use a random per-process secret "
                "and do not survive a restart or work across replicas");
}

/* The listeners are bound from the start but accept only once calls can
 * be answered (credentials in hand): a call made before waits in the
 * backlog, bounded by its own deadline, instead of getting 503. */
static void s_start_accepting(struct gateway *g)
{
    grpc_frontend_start(g->grpc);
    rest_frontend_start(g->rest);
}

static void s_on_startup_creds(void *arg, const struct credentials *c, const struct bgw_error *err)
{
    struct gateway *g = arg;
    g->startup_wait = NULL;
    if (!c) {
        log_event(LOG_ERROR, "credentials_failed",
                  json_pack("{s:s,s:s}", "source", credentials_provider_name(g->credentials),
                            "error", err->message));
        g->exit_rc = 1;
        event_base_loopexit(g->base, NULL);
        return;
    }
    s_start_accepting(g);
    s_on_cron(-1, 0, g);
    s_log_ready(g);
}

int gateway_run(struct gateway *g)
{
    /* One line naming the source, never a secret. */
    log_event(LOG_INFO, "credentials",
              json_pack("{s:s,s:s}", "source", credentials_provider_name(g->credentials), "detail",
                        credentials_provider_detail(g->credentials)));
    g->cron = event_new(g->base, -1, EV_PERSIST, s_on_cron, g);
    struct timeval tv = {0, S_CRON_MS * 1000};
    if (!g->cron || event_add(g->cron, &tv) != 0)
        return 1;
    if (credentials_provider_resolved(g->credentials, clock_wall_ms())) {
        s_start_accepting(g);
        s_on_cron(-1, 0, g);
        s_log_ready(g);
    } else {
        /* The first credentials come from the network: ready (and
         * accepting) once they arrive; if they cannot be had, stop with
         * the reason. */
        s_on_cron(-1, 0, g);
        struct bgw_error err;
        bgw_error_clear(&err);
        g->startup_wait =
            credentials_provider_wait(g->credentials, false, 0, s_on_startup_creds, g, &err);
        if (!g->startup_wait) {
            log_event(LOG_ERROR, "credentials_failed",
                      json_pack("{s:s,s:s}", "source", credentials_provider_name(g->credentials),
                                "error", err.message));
            return 1;
        }
    }
    int rc = event_base_dispatch(g->base);
    g->closed = true;
    log_msg(LOG_INFO, "stopped", "event loop finished");
    if (g->exit_rc)
        return g->exit_rc;
    return rc < 0 ? 1 : 0;
}

void gateway_destroy(struct gateway *g)
{
    if (!g)
        return;
    g->closed = true;
    credentials_wait_cancel(g->startup_wait);
    g->startup_wait = NULL;
    grpc_frontend_destroy(g->grpc);
    rest_frontend_destroy(g->rest);
    page_cache_destroy(g->pcache);
    fetcher_destroy(g->fetcher);
    fleet_destroy(g->fleet);
    credentials_provider_detach(g->credentials);
    if (g->sigterm)
        event_free(g->sigterm);
    if (g->sigint)
        event_free(g->sigint);
    if (g->sighup)
        event_free(g->sighup);
    if (g->grace_timer)
        event_free(g->grace_timer);
    if (g->flush_timer)
        event_free(g->flush_timer);
    if (g->cron)
        event_free(g->cron);
    if (g->unready_timer)
        event_free(g->unready_timer);
    if (g->base)
        event_base_free(g->base);
    free(g->buckets);
    free(g->tenant_counts);
    config_ref_release(g->current);
    access_log_flush(&g->access_pending);
    if (g->access_flush_ev)
        event_free(g->access_flush_ev);
    buf_clean_up(&g->access_pending);
    buf_clean_up(&g->access_line);
    free(g);
}
