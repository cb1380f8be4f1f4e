/*
 * fetcher - one Bedrock page per call: credentials, admission, sign, send,
 * parse, retry. See fetcher.h. Loop thread only; nothing blocks: waits
 * (credentials, admission, backoff) are events on the loop.
 */
#include "fetcher.h"

#include <event2/event.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bedrock_client.h"
#include "clock.h"
#include "log.h"
#include "retry_policy.h"
#include "token_bucket.h"
#include "upstream_http.h"

/* How much of a caller's deadline is kept back to deliver the answer. */
#define S_DEADLINE_MARGIN_MS 20
/* A retry is not started with less than this left before the deadline. */
#define S_MIN_ATTEMPT_MS 50

enum s_state {
    S_NEW,
    S_WAIT_CREDS,
    S_QUEUED, /* waiting for admission (concurrency / rate) */
    S_FLEET,  /* asking the fleet-wide upstream bucket (Redis) for a token */
    S_ON_WIRE,
    S_BACKOFF,
};

struct fetcher {
    const struct config *cfg;
    struct event_base *base;
    struct credentials_provider *credentials;
    struct upstream_http *http;
    size_t active;
    struct fetcher_fetch *head; /* fetches in flight, freed on destroy */

    struct breaker breaker;
    struct retry_quota quota;
    struct retry_backoff backoff;
    struct token_bucket bucket;
    size_t on_wire;
    struct fetcher_fetch *q_head, *q_tail; /* admission FIFO */
    struct event *pump_timer;
    struct fleet *fleet;   /* NULL: the local bucket is the budget */
    char budget_name[600]; /* the fleet bucket: endpoint and region */
};

struct fetcher_fetch {
    struct fetcher *f;
    struct fetcher_fetch *prev, *next;
    struct fetcher_fetch *q_next, *q_prev;
    enum s_state state;
    struct jobs_request q;
    int64_t deadline_ms;
    int64_t queue_until_ms;
    fetcher_cb cb;
    void *arg;
    struct upstream_request *req;
    struct credentials_wait *cw;
    struct event *timer;
    int attempts;
    int retry_cost; /* quota paid for the retry in progress */
    bool probe;
    bool forced_refresh; /* the one forced credential refresh is used */
    uint64_t creds_generation;
    int64_t upstream_ms;
    long http_status;
    const char *transport_error;
    struct bgw_error last_err;
    bool have_err;
    /* The fleet-wide budget: a token taken from Redis for the next
     * exchange (the local bucket is then skipped), the request for one in
     * flight, and since when this exchange waits for admission. */
    bool fleet_token;
    bool fleet_local; /* Redis was unavailable for this exchange */
    struct fleet_op *fleet_op;
    int64_t admit_since_ms;
};

static void s_on_pump(evutil_socket_t fd, short what, void *arg);

struct fetcher *fetcher_new(const struct fetcher_options *opts)
{
    struct fetcher *f = calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    f->cfg = opts->cfg;
    f->base = opts->base;
    f->credentials = opts->credentials;
    f->fleet = opts->fleet;
    const struct config *c = f->cfg;
    snprintf(f->budget_name, sizeof(f->budget_name), "%s|%s", c->endpoint_url, c->region);
    struct upstream_http_options uo = {
        .connect_timeout_ms = c->upstream_connect_timeout_ms,
        .max_body_bytes = c->upstream_max_body_bytes,
        .max_connections = c->upstream_max_concurrency > 0 ? (long)c->upstream_max_concurrency : 64,
        .ca_file = c->ca_file[0] ? c->ca_file : NULL,
    };
    f->http = upstream_http_new(opts->base, &uo);
    f->pump_timer = evtimer_new(opts->base, s_on_pump, f);
    if (!f->http || !f->pump_timer) {
        fetcher_destroy(f);
        return NULL;
    }
    int64_t now = clock_mono_ms();
    breaker_init(&f->breaker, (int)c->breaker_threshold, c->breaker_cooldown_ms);
    retry_quota_init(&f->quota, (int)c->retry_quota);
    f->backoff.base_ms = c->retry_base_ms;
    f->backoff.throttle_base_ms = c->retry_throttle_base_ms;
    f->backoff.max_ms = c->retry_max_backoff_ms;
    /* With a fleet, the local bucket stands in only while Redis is
     * unavailable: its share is the budget over redis.fallback_replicas. */
    double share = f->fleet ? (double)c->redis.fallback_replicas : 1.0;
    double burst = c->upstream_burst / share;
    token_bucket_init(&f->bucket, c->upstream_rate_per_s / share, burst < 1 ? 1 : burst, now);
    return f;
}

void fetcher_destroy(struct fetcher *f)
{
    if (!f)
        return;
    while (f->head)
        fetcher_cancel(f->head);
    upstream_http_destroy(f->http);
    if (f->pump_timer)
        event_free(f->pump_timer);
    free(f);
}

size_t fetcher_active(const struct fetcher *f)
{
    return f->active;
}

enum breaker_state fetcher_breaker_state(const struct fetcher *f, int64_t now_ms)
{
    return breaker_state_at(&f->breaker, now_ms);
}

/* --- admission queue -------------------------------------------------------- */

static void s_q_remove(struct fetcher_fetch *h)
{
    struct fetcher *f = h->f;
    if (h->state != S_QUEUED)
        return;
    if (h->q_prev)
        h->q_prev->q_next = h->q_next;
    else
        f->q_head = h->q_next;
    if (h->q_next)
        h->q_next->q_prev = h->q_prev;
    else
        f->q_tail = h->q_prev;
    h->q_next = h->q_prev = NULL;
}

static void s_q_push(struct fetcher_fetch *h)
{
    struct fetcher *f = h->f;
    h->q_next = NULL;
    h->q_prev = f->q_tail;
    if (f->q_tail)
        f->q_tail->q_next = h;
    else
        f->q_head = h;
    f->q_tail = h;
    h->state = S_QUEUED;
}

/* --- life cycle ------------------------------------------------------------- */

static void s_free_fetch(struct fetcher_fetch *h)
{
    struct fetcher *f = h->f;
    s_q_remove(h);
    if (h->prev)
        h->prev->next = h->next;
    else
        f->head = h->next;
    if (h->next)
        h->next->prev = h->prev;
    f->active--;
    fleet_op_cancel(h->fleet_op);
    if (h->timer)
        event_free(h->timer);
    credentials_wait_cancel(h->cw);
    jobs_request_clean_up(&h->q);
    free(h);
}

static void s_finish(struct fetcher_fetch *h, enum bgw_status st, struct jobs_response *page)
{
    struct bgw_error err = h->last_err; /* h is freed before the callback */
    struct fetcher_result res = {
        .status = st,
        .page = st == BGW_OK ? page : NULL,
        .err = st == BGW_OK ? NULL : &err,
        .http_status = h->http_status,
        .upstream_ms = h->upstream_ms,
        .attempts = h->attempts,
        .transport_error = h->transport_error,
    };
    fetcher_cb cb = h->cb;
    void *cb_arg = h->arg;
    s_free_fetch(h);
    cb(cb_arg, &res);
}

static void s_fail(struct fetcher_fetch *h)
{
    s_finish(h, h->last_err.status, NULL);
}

static void s_arm(struct fetcher_fetch *h, int64_t delay_ms)
{
    struct timeval tv = {(time_t)(delay_ms / 1000), (suseconds_t)((delay_ms % 1000) * 1000)};
    evtimer_del(h->timer);
    evtimer_add(h->timer, &tv);
}

static void s_next(struct fetcher_fetch *h);
static void s_attempt(struct fetcher_fetch *h);
static void s_admission_refused(struct fetcher_fetch *h);

/* Starts queued fetches while there is room; re-arms the pump for the
 * bucket's next token. */
static void s_pump(struct fetcher *f)
{
    int64_t now = clock_mono_ms();
    while (f->q_head && f->on_wire < f->cfg->upstream_max_concurrency) {
        if (!f->q_head->fleet_token && !token_bucket_take(&f->bucket, now)) {
            int64_t w = token_bucket_wait_ms(&f->bucket, now);
            struct timeval tv = {(time_t)(w / 1000), (suseconds_t)((w % 1000) * 1000)};
            evtimer_del(f->pump_timer);
            evtimer_add(f->pump_timer, &tv);
            return;
        }
        struct fetcher_fetch *h = f->q_head;
        s_q_remove(h);
        evtimer_del(h->timer);
        s_attempt(h);
    }
}

static void s_on_pump(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    s_pump(arg);
}

static void s_on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct fetcher_fetch *h = arg;
    if (h->state == S_QUEUED) {
        /* waited as long as allowed for admission */
        s_q_remove(h);
        s_admission_refused(h);
        return;
    }
    s_next(h); /* backoff over */
}

static void s_on_creds(void *arg, const struct credentials *c, const struct bgw_error *err)
{
    struct fetcher_fetch *h = arg;
    h->cw = NULL;
    if (!c) {
        h->last_err = *err;
        h->last_err.retry_after_s = 1;
        s_fail(h);
        return;
    }
    s_next(h);
}

static void s_admission_refused(struct fetcher_fetch *h)
{
    bgw_error_set(&h->last_err, BGW_ERR_RESOURCE_EXHAUSTED, NULL,
                  "gateway upstream limit reached (upstream.max_concurrency / rate_per_s)");
    h->last_err.retry_after_s = 1;
    s_fail(h);
}

/* The fleet-wide bucket answered: a token (on to the local concurrency
 * limit), "not yet" (wait as long as the queue allows, then ask again), or
 * Redis unavailable (the local share decides). */
static void s_on_fleet_token(void *arg, enum fleet_take_result r, int64_t wait_ms)
{
    struct fetcher_fetch *h = arg;
    struct fetcher *f = h->f;
    h->fleet_op = NULL;
    if (r == FLEET_REFUSED) {
        int64_t now = clock_mono_ms();
        int64_t left = f->cfg->upstream_queue_wait_ms - (now - h->admit_since_ms);
        if (h->deadline_ms > 0 && h->deadline_ms - now - S_DEADLINE_MARGIN_MS < left)
            left = h->deadline_ms - now - S_DEADLINE_MARGIN_MS;
        if (wait_ms > left) {
            s_admission_refused(h);
            return;
        }
        h->state = S_BACKOFF; /* the timer runs s_next: ask again */
        s_arm(h, wait_ms > 0 ? wait_ms : 1);
        return;
    }
    if (r == FLEET_TAKEN)
        h->fleet_token = true;
    else
        h->fleet_local = true;
    s_next(h);
}

/* The step before every exchange: deadline, credentials, breaker,
 * admission. */
static void s_next(struct fetcher_fetch *h)
{
    struct fetcher *f = h->f;
    int64_t now = clock_mono_ms();
    if (h->deadline_ms > 0 && h->deadline_ms - now - S_DEADLINE_MARGIN_MS <= 0) {
        if (!h->have_err)
            bgw_error_set(&h->last_err, BGW_ERR_DEADLINE_EXCEEDED, NULL,
                          "deadline expired before the upstream call");
        s_fail(h);
        return;
    }
    struct bgw_error err;
    bgw_error_clear(&err);
    if (!credentials_provider_current(f->credentials, clock_wall_ms(), &err)) {
        h->cw = credentials_provider_wait(f->credentials, false, 0, s_on_creds, h, &err);
        if (!h->cw) {
            h->last_err = err;
            h->last_err.retry_after_s = 1;
            s_fail(h);
            return;
        }
        h->state = S_WAIT_CREDS;
        return;
    }
    if (breaker_state_at(&f->breaker, now) == BREAKER_OPEN) {
        int64_t left = f->breaker.opened_at_ms + f->breaker.cooldown_ms - now;
        bgw_error_set(&h->last_err, BGW_ERR_UNAVAILABLE, NULL,
                      "Bedrock is failing: upstream circuit breaker open");
        h->last_err.retry_after_s = (int)((left + 999) / 1000);
        if (h->last_err.retry_after_s < 1)
            h->last_err.retry_after_s = 1;
        s_fail(h);
        return;
    }
    if (h->admit_since_ms == 0)
        h->admit_since_ms = now;
    if (f->fleet && f->cfg->upstream_rate_per_s > 0 && !h->fleet_token && !h->fleet_local) {
        h->fleet_op = fleet_take(f->fleet, "upstream", f->budget_name, f->cfg->upstream_rate_per_s,
                                 f->cfg->upstream_burst, s_on_fleet_token, h);
        if (h->fleet_op) {
            h->state = S_FLEET;
            return;
        }
        /* Redis unavailable: the local share below */
    }
    if (!f->q_head && f->on_wire < f->cfg->upstream_max_concurrency &&
        (h->fleet_token || token_bucket_take(&f->bucket, now))) {
        s_attempt(h);
        return;
    }
    int64_t wait = f->cfg->upstream_queue_wait_ms - (now - h->admit_since_ms);
    if (h->deadline_ms > 0 && h->deadline_ms - now - S_DEADLINE_MARGIN_MS < wait)
        wait = h->deadline_ms - now - S_DEADLINE_MARGIN_MS;
    s_q_push(h);
    s_arm(h, wait > 0 ? wait : 0);
    s_pump(f);
}

static void s_on_http(void *arg, const struct upstream_response *r);

static void s_attempt(struct fetcher_fetch *h)
{
    struct fetcher *f = h->f;
    int64_t now = clock_mono_ms();
    h->fleet_token = h->fleet_local = false; /* spent on this exchange */
    h->admit_since_ms = 0;
    bool probe = false;
    int64_t retry_in = 0;
    if (!breaker_allow(&f->breaker, now, &probe, &retry_in)) {
        bgw_error_set(&h->last_err, BGW_ERR_UNAVAILABLE, NULL,
                      "Bedrock is failing: upstream circuit breaker open");
        h->last_err.retry_after_s = (int)((retry_in + 999) / 1000);
        s_fail(h);
        s_pump(f);
        return;
    }
    h->probe = probe;
    int64_t timeout_ms = f->cfg->upstream_timeout_ms;
    if (h->deadline_ms > 0) {
        int64_t left = h->deadline_ms - now - S_DEADLINE_MARGIN_MS;
        if (left < timeout_ms)
            timeout_ms = left > 1 ? left : 1;
    }
    struct bgw_error err;
    bgw_error_clear(&err);
    const struct credentials *creds =
        credentials_provider_current(f->credentials, clock_wall_ms(), &err);
    struct bedrock_http_request hreq;
    memset(&hreq, 0, sizeof(hreq));
    if (!creds)
        goto fail;
    h->creds_generation = credentials_provider_generation(f->credentials);
    struct sigv4_credentials sc = {creds->access_key_id, creds->secret_access_key,
                                   creds->session_token};
    struct bedrock_request_options o = {
        .endpoint = &f->cfg->endpoint,
        .region = f->cfg->region,
        .credentials = &sc,
        .now_s = (int64_t)time(NULL),
        .default_max_results = f->cfg->default_page_size,
    };
    if (bedrock_build_list_request(&h->q, &o, &hreq, &err) != BGW_OK)
        goto fail;
    h->attempts++;
    h->req = upstream_http_get(f->http, hreq.url, hreq.headers, hreq.n_headers, timeout_ms,
                               s_on_http, h);
    bedrock_http_request_clean_up(&hreq);
    if (!h->req) {
        bgw_error_set(&err, BGW_ERR_UNAVAILABLE, NULL, "cannot start the upstream request");
        goto fail;
    }
    h->state = S_ON_WIRE;
    f->on_wire++;
    return;
fail:
    if (probe)
        breaker_probe_abandoned(&f->breaker);
    h->last_err = err;
    s_fail(h);
}

/* "ThrottlingException:http://..." -> "ThrottlingException"; else the
 * body's __type/code (text after '#'). */
static void s_error_type(const struct upstream_response *r, char *out, size_t out_len)
{
    out[0] = '\0';
    if (r->error_type) {
        size_t n = strcspn(r->error_type, ":");
        if (n >= out_len)
            n = out_len - 1;
        memcpy(out, r->error_type, n);
        out[n] = '\0';
        return;
    }
    if (r->status >= 200 && r->status < 300)
        return;
    json_t *root = json_loadb(r->body, r->body_len, 0, NULL);
    const char *t = json_string_value(json_object_get(root, "__type"));
    if (!t)
        t = json_string_value(json_object_get(root, "code"));
    if (t) {
        const char *hash = strrchr(t, '#');
        snprintf(out, out_len, "%s", hash ? hash + 1 : t);
    }
    json_decref(root);
}

static void s_on_refreshed(void *arg, const struct credentials *c, const struct bgw_error *err)
{
    struct fetcher_fetch *h = arg;
    h->cw = NULL;
    (void)err;
    if (!c || credentials_provider_generation(h->f->credentials) <= h->creds_generation) {
        s_fail(h); /* keep Bedrock's error: the refresh did not help */
        return;
    }
    s_next(h);
}

/* What one exchange came to: the page (BGW_OK) or h->last_err's status. */
static enum bgw_status s_read_outcome(struct fetcher_fetch *h, const struct upstream_response *r,
                                      struct jobs_response *page)
{
    bgw_error_clear(&h->last_err);
    h->have_err = true;
    enum bgw_status st;
    switch (r->outcome) {
    case UPSTREAM_TIMEOUT:
        st = bgw_error_set(&h->last_err, BGW_ERR_DEADLINE_EXCEEDED, NULL,
                           h->deadline_ms > 0
                               ? "Bedrock did not answer within the call's deadline"
                               : "Bedrock did not answer within the upstream timeout");
        break;
    case UPSTREAM_TRANSPORT:
        st = bgw_error_set(&h->last_err, BGW_ERR_UNAVAILABLE, NULL, "Bedrock is unreachable");
        h->last_err.retry_after_s = 1;
        break;
    default: {
        struct bedrock_http_response hr = {.status = r->status,
                                           .error_type = r->error_type,
                                           .retry_after = r->retry_after,
                                           .body = r->body,
                                           .body_len = r->body_len,
                                           .now_ms = clock_wall_ms()};
        st = bedrock_parse_list_response(&hr, page, &h->last_err);
        break;
    }
    }
    return st;
}

/* The breaker learns the outcome (a state change is logged). */
static void s_record_outcome(struct fetcher_fetch *h, enum retry_class cls, int64_t now)
{
    struct fetcher *f = h->f;
    bool was_open = breaker_state_at(&f->breaker, now) != BREAKER_CLOSED;
    if (breaker_record(&f->breaker, !retry_class_is_failure(cls), h->probe, now)) {
        enum breaker_state bs = breaker_state_at(&f->breaker, now);
        if (bs != BREAKER_CLOSED || was_open)
            log_event(bs == BREAKER_CLOSED ? LOG_INFO : LOG_WARN, "circuit_breaker",
                      json_pack("{s:s,s:I}", "state", breaker_state_str(bs), "cooldown_ms",
                                (json_int_t)f->breaker.cooldown_ms));
    }
}

/* A Bedrock 403 of the stale-credentials class: one forced refresh, then
 * the same call again (s_on_refreshed). */
static void s_refresh_then_retry(struct fetcher_fetch *h, const char *etype)
{
    struct fetcher *f = h->f;
    h->forced_refresh = true;
    log_event_limited(LOG_WARN, "credentials_rejected",
                      json_pack("{s:s,s:s}", "error_type", etype, "action", "forced_refresh"));
    struct bgw_error err;
    h->cw = credentials_provider_wait(f->credentials, true, h->creds_generation, s_on_refreshed, h,
                                      &err);
    if (!h->cw) {
        s_fail(h);
        return;
    }
    h->state = S_WAIT_CREDS;
}

static void s_on_http(void *arg, const struct upstream_response *r)
{
    struct fetcher_fetch *h = arg;
    struct fetcher *f = h->f;
    h->req = NULL;
    f->on_wire--;
    h->upstream_ms += r->elapsed_ms;
    int64_t now = clock_mono_ms();
    struct jobs_response page;
    memset(&page, 0, sizeof(page));
    enum bgw_status st = s_read_outcome(h, r, &page);
    int outcome = r->outcome == UPSTREAM_OK ? 0 : r->outcome == UPSTREAM_TIMEOUT ? 1 : 2;
    h->http_status = r->outcome == UPSTREAM_OK ? r->status : 0;
    h->transport_error = r->outcome == UPSTREAM_OK ? NULL : r->transport_error;
    char etype[128];
    s_error_type(r, etype, sizeof(etype));
    enum retry_class cls = retry_classify(outcome, h->http_status, etype);
    if (st != BGW_OK && cls == RETRY_NONE && r->outcome == UPSTREAM_OK && r->status >= 500)
        cls = RETRY_TRANSIENT;
    if (st == BGW_OK)
        cls = RETRY_NONE;
    s_record_outcome(h, cls, now);
    h->probe = false;
    s_pump(f);

    if (st == BGW_OK) {
        retry_quota_release(&f->quota, h->retry_cost);
        s_finish(h, BGW_OK, &page);
        jobs_response_clean_up(&page);
        return;
    }
    jobs_response_clean_up(&page);
    struct retry_plan_input pi = {
        .cls = cls,
        .attempts = h->attempts,
        .max_attempts = (int)f->cfg->max_attempts,
        .forced_refresh_done = h->forced_refresh,
        .credentials_refreshable = credentials_provider_refreshable(f->credentials),
        .backoff_ms = retry_backoff_ms(&f->backoff, h->attempts, cls, clock_jitter_u32()),
        .retry_after_ms =
            r->outcome == UPSTREAM_OK ? retry_after_ms(r->retry_after, clock_wall_ms()) : -1,
        .max_retry_after_ms = f->cfg->max_retry_after_ms,
        .now_ms = now,
        .deadline_ms = h->deadline_ms,
        .min_attempt_ms = S_MIN_ATTEMPT_MS,
        .deadline_margin_ms = S_DEADLINE_MARGIN_MS,
    };
    int64_t delay = 0;
    switch (retry_plan(&pi, &delay)) {
    case RETRY_GIVE_UP:
        s_fail(h);
        return;
    case RETRY_REFRESH_CREDENTIALS:
        s_refresh_then_retry(h, etype);
        return;
    case RETRY_AFTER_DELAY:
        break;
    }
    int cost = retry_quota_acquire(&f->quota, cls);
    if (cost == 0) {
        log_event_limited(
            LOG_WARN, "retry_quota_exhausted",
            json_pack("{s:s,s:i}", "class", retry_class_str(cls), "available", f->quota.available));
        s_fail(h);
        return;
    }
    h->retry_cost = cost;
    log_event(LOG_DEBUG, "upstream_retry",
              json_pack("{s:s,s:i,s:I}", "class", retry_class_str(cls), "attempt", h->attempts,
                        "delay_ms", (json_int_t)delay));
    h->state = S_BACKOFF;
    s_arm(h, delay);
}

struct fetcher_fetch *fetcher_fetch_page(struct fetcher *f, const struct jobs_request *q,
                                         int64_t deadline_ms, fetcher_cb cb, void *arg,
                                         struct bgw_error *err)
{
    int64_t now_ms = clock_mono_ms();
    if (deadline_ms > 0 && deadline_ms - now_ms - S_DEADLINE_MARGIN_MS <= 0) {
        bgw_error_set(err, BGW_ERR_DEADLINE_EXCEEDED, NULL,
                      "deadline expired before the upstream call");
        return NULL;
    }
    if (breaker_state_at(&f->breaker, now_ms) == BREAKER_OPEN) {
        int64_t left = f->breaker.opened_at_ms + f->breaker.cooldown_ms - now_ms;
        bgw_error_set(err, BGW_ERR_UNAVAILABLE, NULL,
                      "Bedrock is failing: upstream circuit breaker open");
        err->retry_after_s = (int)((left + 999) / 1000);
        if (err->retry_after_s < 1)
            err->retry_after_s = 1;
        return NULL;
    }
    if (!credentials_provider_current(f->credentials, clock_wall_ms(), err) &&
        !credentials_provider_refreshable(f->credentials))
        return NULL;

    struct fetcher_fetch *h = calloc(1, sizeof(*h));
    if (!h || jobs_request_copy(q, &h->q) != 0) {
        free(h);
        bgw_error_set(err, BGW_ERR_NOMEM, NULL, "out of memory");
        return NULL;
    }
    h->f = f;
    h->next = f->head;
    if (f->head)
        f->head->prev = h;
    f->head = h;
    f->active++;
    h->deadline_ms = deadline_ms;
    h->cb = cb;
    h->arg = arg;
    h->state = S_NEW;
    h->timer = evtimer_new(f->base, s_on_timer, h);
    if (!h->timer) {
        s_free_fetch(h);
        bgw_error_set(err, BGW_ERR_NOMEM, NULL, "out of memory");
        return NULL;
    }
    /* Begin from the loop, so that every outcome is reported through cb. */
    h->state = S_BACKOFF;
    s_arm(h, 0);
    return h;
}

void fetcher_cancel(struct fetcher_fetch *h)
{
    if (!h)
        return;
    struct fetcher *f = h->f;
    if (h->req) {
        upstream_http_cancel(h->req);
        h->req = NULL;
        f->on_wire--;
        if (h->probe)
            breaker_probe_abandoned(&f->breaker);
    }
    s_free_fetch(h);
    /* Never start (and so maybe fail) other fetches from inside cancel. */
    if (f->q_head) {
        struct timeval zero = {0, 0};
        evtimer_add(f->pump_timer, &zero);
    }
}
