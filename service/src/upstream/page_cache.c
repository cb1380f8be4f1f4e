/*
 * page_cache - coalescing, stale-while-revalidate, stale-if-error and client
 * cache control around the cache core and the fetcher. See page_cache.h.
 * Loop thread only.
 *
 * Objects: a "flight" is one upstream fetch for one key, with the list of
 * waiters (page_cache_fetch handles) that get its result; the flight table
 * maps key -> the flight new misses join. A handle is either waiting on a
 * flight, queued for asynchronous delivery from the cache ("ready"), or, with
 * the cache disabled, wrapping a fetcher call directly.
 */
#include "page_cache.h"

#include <ctype.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "clock.h"
#include "log.h"

#define S_FLIGHT_BUCKETS 256
#define S_DEADLINE_MARGIN_MS 20 /* kept back from a caller's deadline to answer */
#define S_SWEEP_WORK 1000
#define S_LEASE_POLL_MS 10 /* while another replica holds a key's lease */

enum s_kind { S_READY, S_WAITING, S_PASS };

struct s_flight;

struct page_cache_fetch {
    struct page_cache *pc;
    enum s_kind kind;
    struct page_cache_fetch *prev, *next; /* in the flight's waiters or the ready queue */
    page_cache_cb cb;
    void *arg;
    struct page_cache_control ctl;
    int64_t deadline_ms;
    struct event *timer; /* deadline, while waiting */
    struct s_flight *flight;
    struct fetcher_fetch *pass; /* S_PASS */
    /* S_READY: what to deliver; the entry is looked up again at delivery */
    char *key;
    size_t key_len;
    enum page_cache_outcome outcome;
    struct jobs_request q; /* to fall back to a miss if the entry is gone */
    bool coalesced;        /* joined a flight another call started */
};

struct s_flight {
    struct page_cache *pc;
    struct s_flight *hnext, *prev_all, *next_all;
    bool registered; /* in the table (new misses join it) */
    uint64_t hash;
    char *key;
    size_t key_len;
    struct fetcher_fetch *fetch;
    struct page_cache_fetch waiters; /* sentinel */
    size_t n_waiters;
    bool background;
    int64_t started_ms;
    /* The shared tier (fleet.h): before any upstream call the flight asks
     * Redis for the page and the key's lease; while another replica holds
     * the lease it polls (poll_timer) for that replica's page. */
    struct jobs_request q;    /* for the upstream call made later */
    struct fleet_op *lookup;  /* in flight */
    struct event *poll_timer; /* NULL until first needed */
    bool lease_mine;          /* this replica calls Bedrock for the fleet */
};

struct page_cache {
    const struct config *cfg;
    struct event_base *base;
    struct fetcher *fetcher;
    struct fetcher_fetch *(*fetch)(void *ctx, const struct jobs_request *q, int64_t deadline_ms,
                                   fetcher_cb cb, void *arg, struct bgw_error *err);
    void (*cancel)(void *ctx, struct fetcher_fetch *h);
    void *fetch_ctx;
    int64_t (*mono_ms)(void);
    struct credentials_provider *credentials;
    struct metrics *m;
    struct fleet *fleet; /* NULL: single replica */
    struct cache *cache; /* NULL when disabled */
    struct s_flight *table[S_FLIGHT_BUCKETS];
    struct s_flight *all; /* every flight, registered or not */
    size_t n_background;
    struct page_cache_fetch ready; /* sentinel of the delivery queue */
    struct event *ready_ev;
    struct event *sweep_ev;
    struct page_cache_fetch pass; /* sentinel: pass-through handles */
    struct buf key;               /* scratch */
    char identity[1024];
    char identity_akid[256];
};

static int64_t s_now(const struct page_cache *pc)
{
    return pc->mono_ms();
}

static struct fetcher_fetch *s_fetch(struct page_cache *pc, const struct jobs_request *q,
                                     int64_t deadline_ms, fetcher_cb cb, void *arg,
                                     struct bgw_error *err)
{
    return pc->fetch ? pc->fetch(pc->fetch_ctx, q, deadline_ms, cb, arg, err)
                     : fetcher_fetch_page(pc->fetcher, q, deadline_ms, cb, arg, err);
}

static void s_cancel(struct page_cache *pc, struct fetcher_fetch *h)
{
    if (pc->cancel)
        pc->cancel(pc->fetch_ctx, h);
    else
        fetcher_cancel(h);
}

const char *page_cache_outcome_str(enum page_cache_outcome o)
{
    switch (o) {
    case PAGE_CACHE_HIT:
        return "hit";
    case PAGE_CACHE_MISS:
        return "miss";
    case PAGE_CACHE_BYPASS:
        return "bypass";
    case PAGE_CACHE_STALE_REVALIDATING:
    case PAGE_CACHE_STALE_ERROR:
        return "stale";
    default:
        return "pass";
    }
}

void page_cache_parse_control(const char *value, struct page_cache_control *out)
{
    out->no_cache = false;
    out->max_age_ms = -1;
    out->partition = NULL;
    if (!value)
        return;
    const char *p = value;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *start = p;
        while (*p && *p != ',')
            p++;
        size_t n = (size_t)(p - start);
        while (n && (start[n - 1] == ' ' || start[n - 1] == '\t'))
            n--;
        if ((n == 8 && strncasecmp(start, "no-cache", 8) == 0) ||
            (n == 8 && strncasecmp(start, "no-store", 8) == 0)) {
            out->no_cache = true;
        } else if (n > 8 && strncasecmp(start, "max-age=", 8) == 0) {
            int64_t v = 0;
            size_t i = 8;
            if (start[i] == '"')
                i++;
            size_t digits = 0;
            for (; i < n && isdigit((unsigned char)start[i]); i++, digits++) {
                if (v < 100000000)
                    v = v * 10 + (start[i] - '0');
            }
            if (digits)
                out->max_age_ms = v * 1000;
        }
    }
}

/* --- lists ---------------------------------------------------------------- */

static void s_list_init(struct page_cache_fetch *s)
{
    s->prev = s->next = s;
}

static void s_list_add_tail(struct page_cache_fetch *s, struct page_cache_fetch *h)
{
    h->prev = s->prev;
    h->next = s;
    s->prev->next = h;
    s->prev = h;
}

static void s_list_del(struct page_cache_fetch *h)
{
    if (h->prev) {
        h->prev->next = h->next;
        h->next->prev = h->prev;
    }
    h->prev = h->next = NULL;
}

static void s_handle_free(struct page_cache_fetch *h)
{
    if (h->timer)
        event_free(h->timer);
    free(h->key);
    jobs_request_clean_up(&h->q);
    free(h);
}

/* --- keys ----------------------------------------------------------------- */

/* pc->identity for the credentials usable now (credentials' expiry is wall
 * clock time); 0, or -1 with err when there are none. */
static int s_identity(struct page_cache *pc, struct bgw_error *err)
{
    const struct credentials *creds =
        credentials_provider_current(pc->credentials, clock_wall_ms(), err);
    if (!creds) {
        pc->identity_akid[0] = '\0'; /* no principal, no key */
        return -1;
    }
    if (strcmp(pc->identity_akid, creds->access_key_id) != 0) {
        snprintf(pc->identity_akid, sizeof(pc->identity_akid), "%s", creds->access_key_id);
        snprintf(pc->identity, sizeof(pc->identity), "%s|%s|%s", pc->cfg->endpoint_url,
                 pc->cfg->region, pc->identity_akid);
    }
    return 0;
}

static int s_build_key(struct page_cache *pc, const struct jobs_request *q, const char *partition,
                       struct bgw_error *err)
{
    if (s_identity(pc, err) != 0)
        return -1;
    buf_reset(&pc->key);
    const char *identity = pc->identity;
    char scoped[1024 + 160];
    if (partition) { /* NUL cannot occur in a tenant id: an unambiguous separator */
        int n = snprintf(scoped, sizeof(scoped), "%s|tenant=%s", pc->identity, partition);
        if (n < 0 || (size_t)n >= sizeof(scoped)) {
            bgw_error_set(err, BGW_ERR_INTERNAL, NULL, "cache key too long");
            return -1;
        }
        identity = scoped;
    }
    if (cache_key_build(identity, q, pc->cfg->default_page_size, &pc->key) != 0) {
        bgw_error_set(err, BGW_ERR_NOMEM, NULL, "out of memory");
        return -1;
    }
    return 0;
}

/* --- flights -------------------------------------------------------------- */

static struct s_flight *s_flight_find(struct page_cache *pc, const char *key, size_t len,
                                      uint64_t h)
{
    for (struct s_flight *f = pc->table[h % S_FLIGHT_BUCKETS]; f; f = f->hnext) {
        if (f->hash == h && f->key_len == len && memcmp(f->key, key, len) == 0)
            return f;
    }
    return NULL;
}

static void s_flight_unregister(struct page_cache *pc, struct s_flight *f)
{
    if (!f->registered)
        return;
    struct s_flight **pp = &pc->table[f->hash % S_FLIGHT_BUCKETS];
    while (*pp && *pp != f)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = f->hnext;
    f->hnext = NULL;
    f->registered = false;
}

static void s_flight_free(struct page_cache *pc, struct s_flight *f)
{
    s_flight_unregister(pc, f);
    if (f->prev_all)
        f->prev_all->next_all = f->next_all;
    else
        pc->all = f->next_all;
    if (f->next_all)
        f->next_all->prev_all = f->prev_all;
    if (f->background)
        pc->n_background--;
    fleet_op_cancel(f->lookup);
    if (f->poll_timer)
        event_free(f->poll_timer);
    jobs_request_clean_up(&f->q);
    free(f->key);
    free(f);
}

static void s_on_flight_done(void *arg, const struct fetcher_result *r);
static void s_flight_finish(struct s_flight *f, const struct fetcher_result *r);
static void s_on_lookup(void *arg, struct fleet_lookup *r);

/* The flight's own upstream call; on a failure to start it, the waiters
 * get the error (or a stale page) and the flight ends. */
static void s_flight_upstream(struct s_flight *f)
{
    struct page_cache *pc = f->pc;
    struct bgw_error err;
    bgw_error_clear(&err);
    /* No deadline: the call serves every waiter, each with its own timer;
     * aws.timeout_ms bounds it. */
    f->fetch = s_fetch(pc, &f->q, 0, s_on_flight_done, f, &err);
    if (f->fetch)
        return;
    if (f->lease_mine)
        fleet_release(pc->fleet, f->key, f->key_len);
    struct fetcher_result r = {.status = err.status, .err = &err};
    s_flight_finish(f, &r);
}

/* Asks the shared tier for the page and the lease; without Redis, the
 * flight's own upstream call. */
static void s_flight_ask_fleet(struct s_flight *f)
{
    struct page_cache *pc = f->pc;
    f->lookup = fleet_lookup(pc->fleet, f->key, f->key_len, true, s_on_lookup, f);
    if (!f->lookup)
        s_flight_upstream(f);
}

/* Starts the fetch of pc->key / q (shared tier first, unless no_cache or
 * single replica) and registers it. */
static struct s_flight *s_flight_start(struct page_cache *pc, const struct jobs_request *q,
                                       uint64_t h, bool background, bool no_cache, int64_t now_ms,
                                       struct bgw_error *err)
{
    struct s_flight *f = calloc(1, sizeof(*f));
    char *key = malloc(pc->key.len + 1);
    if (!f || !key || jobs_request_copy(q, &f->q) != 0) {
        if (f)
            jobs_request_clean_up(&f->q);
        free(f);
        free(key);
        bgw_error_set(err, BGW_ERR_NOMEM, NULL, "out of memory");
        return NULL;
    }
    memcpy(key, pc->key.data, pc->key.len + 1);
    f->pc = pc;
    f->key = key;
    f->key_len = pc->key.len;
    f->hash = h;
    f->background = background;
    f->started_ms = now_ms;
    s_list_init(&f->waiters);
    /* The shared tier first (unless no-cache or single replica); without
     * Redis the flight's own upstream call. Neither calls back from here,
     * so the flight is registered after. */
    if (pc->fleet && !no_cache && fleet_up(pc->fleet))
        f->lookup = fleet_lookup(pc->fleet, f->key, f->key_len, true, s_on_lookup, f);
    if (!f->lookup && !(f->fetch = s_fetch(pc, q, 0, s_on_flight_done, f, err))) {
        jobs_request_clean_up(&f->q);
        free(key);
        free(f);
        return NULL;
    }
    struct s_flight *old = s_flight_find(pc, f->key, f->key_len, h);
    if (old) /* a no-cache call replaces it as the one to join */
        s_flight_unregister(pc, old);
    f->registered = true;
    f->hnext = pc->table[h % S_FLIGHT_BUCKETS];
    pc->table[h % S_FLIGHT_BUCKETS] = f;
    f->next_all = pc->all;
    if (pc->all)
        pc->all->prev_all = f;
    pc->all = f;
    if (background) {
        pc->n_background++;
        pc->m->background_refreshes++;
    }
    return f;
}

/* Upstream failures a stale page may stand in for (stale-if-error):
 * throttling and the gateway's own admission refusal, 5xx, connection
 * failures and an open circuit breaker, timeouts, and a malformed Bedrock
 * body. Answers about the request itself (validation, access) are not. */
static bool s_stale_if_error(enum bgw_status st)
{
    return st == BGW_ERR_RESOURCE_EXHAUSTED || st == BGW_ERR_UNAVAILABLE ||
           st == BGW_ERR_DEADLINE_EXCEEDED || st == BGW_ERR_BAD_GATEWAY;
}

/* A stale entry h may be answered with after a failure, or NULL. */
static struct cache_entry *s_stale_for(struct page_cache *pc, const struct page_cache_fetch *h,
                                       const char *key, size_t key_len, int64_t now_ms)
{
    if (!pc->cache || h->ctl.no_cache)
        return NULL;
    enum cache_state st;
    struct cache_entry *e = cache_lookup(pc->cache, key, key_len, now_ms, &st);
    if (!e || st == CACHE_MISS)
        return NULL;
    if (h->ctl.max_age_ms >= 0 && cache_entry_age_ms(e, now_ms) > h->ctl.max_age_ms)
        return NULL;
    return e;
}

static void s_deliver_entry(struct page_cache_fetch *h, struct cache_entry *e,
                            enum page_cache_outcome outcome, int64_t now_ms)
{
    struct page_cache *pc = h->pc;
    struct page_cache_result res = {
        .status = BGW_OK,
        .page = cache_entry_page(e),
        .outcome = outcome,
        .age_ms = cache_entry_age_ms(e, now_ms),
        .ttl_left_ms = cache_entry_ttl_left_ms(pc->cache, e, now_ms),
        .pc = pc,
        .entry = e,
    };
    page_cache_cb cb = h->cb;
    void *arg = h->arg;
    s_handle_free(h);
    cb(arg, &res);
}

static void s_deliver_error(struct page_cache_fetch *h, const struct bgw_error *err,
                            const struct fetcher_result *r)
{
    struct page_cache_result res = {
        .status = err->status,
        .err = err,
        .outcome = h->ctl.no_cache ? PAGE_CACHE_BYPASS : PAGE_CACHE_MISS,
        .pc = h->pc,
        .coalesced = h->coalesced,
    };
    if (r) {
        res.http_status = r->http_status;
        res.upstream_ms = r->upstream_ms;
        res.attempts = h->coalesced ? 0 : r->attempts;
        res.transport_error = r->transport_error;
    }
    page_cache_cb cb = h->cb;
    void *arg = h->arg;
    s_handle_free(h);
    cb(arg, &res);
}

static void s_count_upstream(struct page_cache *pc, const struct fetcher_result *r)
{
    pc->m->upstream[metrics_upstream_outcome(r->status, r->http_status,
                                             r->transport_error != NULL)]++;
    pc->m->upstream_attempts += (uint64_t)(r->attempts > 0 ? r->attempts : 1);
}

static void s_on_flight_done(void *arg, const struct fetcher_result *r)
{
    struct s_flight *f = arg;
    struct page_cache *pc = f->pc;
    f->fetch = NULL;
    s_count_upstream(pc, r);
    if (pc->fleet) { /* before the local tier takes the page over */
        if (r->status == BGW_OK)
            fleet_store(pc->fleet, f->key, f->key_len, r->page, clock_wall_ms());
        else if (f->lease_mine)
            fleet_release(pc->fleet, f->key, f->key_len);
    }
    s_flight_finish(f, r);
}

/* The flight's upstream result (or a failure to make the call) to every
 * waiter; the page into the local tier; the flight ends. */
static void s_flight_finish(struct s_flight *f, const struct fetcher_result *r)
{
    struct page_cache *pc = f->pc;
    s_flight_unregister(pc, f);
    int64_t now_ms = s_now(pc);
    struct cache_entry *e = NULL;
    if (r->status == BGW_OK) {
        enum cache_state st;
        struct cache_entry *cur = cache_lookup(pc->cache, f->key, f->key_len, now_ms, &st);
        if (cur && cache_entry_stored_ms(cur) > f->started_ms)
            e = cur; /* a later call (no-cache) already stored a newer page */
        else
            e = cache_store(pc->cache, f->key, f->key_len, r->page, now_ms);
    }
    while (f->waiters.next != &f->waiters) {
        struct page_cache_fetch *h = f->waiters.next;
        s_list_del(h);
        f->n_waiters--;
        if (r->status == BGW_OK && e) {
            /* a newer entry than this call's page is fine for everyone */
            struct page_cache_result res = {
                .status = BGW_OK,
                .page = cache_entry_page(e),
                .outcome = h->ctl.no_cache ? PAGE_CACHE_BYPASS : PAGE_CACHE_MISS,
                .age_ms = cache_entry_age_ms(e, now_ms),
                .ttl_left_ms = cache_entry_ttl_left_ms(pc->cache, e, now_ms),
                .http_status = r->http_status,
                .upstream_ms = r->upstream_ms,
                .attempts = h->coalesced ? 0 : r->attempts,
                .coalesced = h->coalesced,
                .transport_error = r->transport_error,
                .pc = pc,
                .entry = e,
            };
            page_cache_cb cb = h->cb;
            void *cb_arg = h->arg;
            s_handle_free(h);
            cb(cb_arg, &res);
        } else if (r->status == BGW_OK) { /* not cacheable (too large / no memory) */
            struct page_cache_result res = {
                .status = BGW_OK,
                .page = r->page,
                .outcome = h->ctl.no_cache ? PAGE_CACHE_BYPASS : PAGE_CACHE_MISS,
                .http_status = r->http_status,
                .upstream_ms = r->upstream_ms,
                .attempts = h->coalesced ? 0 : r->attempts,
                .coalesced = h->coalesced,
                .transport_error = r->transport_error,
                .pc = pc,
            };
            page_cache_cb cb = h->cb;
            void *cb_arg = h->arg;
            s_handle_free(h);
            cb(cb_arg, &res);
        } else {
            struct cache_entry *stale =
                s_stale_if_error(r->status) ? s_stale_for(pc, h, f->key, f->key_len, now_ms) : NULL;
            if (stale) {
                pc->m->stale[METRICS_STALE_ERROR]++;
                s_deliver_entry(h, stale, PAGE_CACHE_STALE_ERROR, now_ms);
            } else {
                s_deliver_error(h, r->err, r->attempts || r->http_status ? r : NULL);
            }
        }
    }
    if (r->status != BGW_OK && f->background)
        log_event_limited(LOG_WARN, "cache_refresh_failed",
                          json_pack("{s:s,s:i}", "code", bgw_status_grpc_name(r->status),
                                    "http_status", (int)r->http_status));
    s_flight_free(pc, f);
}

/* --- the shared tier ------------------------------------------------------ */

static void s_on_poll(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    s_flight_ask_fleet(arg);
}

/* Answers the waiters the entry e can answer: fresh, every one; stale
 * within stale-while-revalidate, those whose max-age allows it. */
static void s_deliver_shared(struct s_flight *f, struct cache_entry *e, int64_t now_ms)
{
    struct page_cache *pc = f->pc;
    enum cache_state st = cache_entry_state(pc->cache, e, now_ms);
    if (st != CACHE_FRESH && st != CACHE_STALE_SWR)
        return;
    int64_t age = cache_entry_age_ms(e, now_ms);
    /* Taken off the flight first: a callback may start or cancel calls. */
    struct page_cache_fetch out;
    s_list_init(&out);
    struct page_cache_fetch *h = f->waiters.next;
    while (h != &f->waiters) {
        struct page_cache_fetch *next = h->next;
        if (h->ctl.max_age_ms < 0 || age <= h->ctl.max_age_ms) {
            s_list_del(h);
            f->n_waiters--;
            h->flight = NULL;
            s_list_add_tail(&out, h);
        }
        h = next;
    }
    while (out.next != &out) {
        h = out.next;
        s_list_del(h);
        if (st == CACHE_FRESH) {
            s_deliver_entry(h, e, PAGE_CACHE_HIT, now_ms);
        } else {
            pc->m->stale[METRICS_STALE_REVALIDATING]++;
            s_deliver_entry(h, e, PAGE_CACHE_STALE_REVALIDATING, now_ms);
        }
    }
}

static void s_on_lookup(void *arg, struct fleet_lookup *r)
{
    struct s_flight *f = arg;
    struct page_cache *pc = f->pc;
    struct fleet_stats *fs = fleet_stats_mut(pc->fleet);
    f->lookup = NULL;
    if (r->result == FLEET_UNAVAILABLE) {
        s_flight_upstream(f); /* Redis never fails a call */
        return;
    }
    int64_t now_ms = s_now(pc);
    if (r->result == FLEET_PAGE) {
        /* Into the local tier with its real age (unless a newer page is
         * there already): the local windows then decide hit, SWR, SIE. */
        int64_t stored = now_ms - r->age_ms;
        enum cache_state st;
        struct cache_entry *e = cache_lookup(pc->cache, f->key, f->key_len, now_ms, &st);
        if (!e || cache_entry_stored_ms(e) < stored)
            e = cache_store(pc->cache, f->key, f->key_len, r->page, stored);
        if (e)
            s_deliver_shared(f, e, now_ms);
    }
    if (r->lease_mine) {
        f->lease_mine = true;
        fs->leases_taken++;
        s_flight_upstream(f);
        return;
    }
    if (f->n_waiters == 0) {
        /* all answered; or nobody waits (a background refresh another
         * replica is making: the next local miss picks its page up). A
         * waiter whose max-age the shared page does not meet is still
         * here, and goes on below like a miss. */
        s_flight_free(pc, f);
        return;
    }
    if (!r->lease_held || now_ms - f->started_ms >= pc->cfg->redis.lease_ms) {
        /* no lease to wait on (a page fresh by Redis's clock, stale by
         * ours), or waited as long as a lease lasts: own call */
        if (r->lease_held)
            fs->lease_timeouts++;
        s_flight_upstream(f);
        return;
    }
    fs->lease_waits++;
    if (!f->poll_timer)
        f->poll_timer = evtimer_new(pc->base, s_on_poll, f);
    struct timeval tv = {0, S_LEASE_POLL_MS * 1000};
    if (!f->poll_timer || evtimer_add(f->poll_timer, &tv) != 0)
        s_flight_upstream(f);
}

/* A waiter's own deadline ran out: answer it (stale if allowed), leave the
 * flight running for the others. */
static void s_on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct page_cache_fetch *h = arg;
    struct s_flight *f = h->flight;
    struct page_cache *pc = h->pc;
    s_list_del(h);
    f->n_waiters--;
    int64_t now_ms = s_now(pc);
    struct cache_entry *stale = s_stale_for(pc, h, f->key, f->key_len, now_ms);
    if (stale) {
        pc->m->stale[METRICS_STALE_TIMEOUT]++;
        s_deliver_entry(h, stale, PAGE_CACHE_STALE_ERROR, now_ms);
        return;
    }
    struct bgw_error err;
    bgw_error_set(&err, BGW_ERR_DEADLINE_EXCEEDED, NULL,
                  "Bedrock did not answer within the call's deadline");
    s_deliver_error(h, &err, NULL);
}

static int s_join(struct s_flight *f, struct page_cache_fetch *h, int64_t now_ms,
                  struct bgw_error *err)
{
    h->kind = S_WAITING;
    h->flight = f;
    if (h->deadline_ms > 0) {
        int64_t left = h->deadline_ms - now_ms - S_DEADLINE_MARGIN_MS;
        if (left < 0)
            left = 0;
        h->timer = evtimer_new(f->pc->base, s_on_deadline, h);
        struct timeval tv = {(time_t)(left / 1000), (suseconds_t)((left % 1000) * 1000)};
        if (!h->timer || evtimer_add(h->timer, &tv) != 0) {
            bgw_error_set(err, BGW_ERR_NOMEM, NULL, "cannot arm the deadline timer");
            return -1;
        }
    }
    s_list_add_tail(&f->waiters, h);
    f->n_waiters++;
    return 0;
}

/* --- delivery from the cache ------------------------------------------- */

static int s_miss(struct page_cache *pc, struct page_cache_fetch *h, const struct jobs_request *q,
                  int64_t now_ms, struct bgw_error *err);

static void s_on_ready(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct page_cache *pc = arg;
    /* Take the queue as it is now; anything queued meanwhile waits for the
     * next activation. */
    struct page_cache_fetch batch;
    s_list_init(&batch);
    if (pc->ready.next != &pc->ready) {
        batch.next = pc->ready.next;
        batch.prev = pc->ready.prev;
        batch.next->prev = &batch;
        batch.prev->next = &batch;
        s_list_init(&pc->ready);
    }
    int64_t now_ms = s_now(pc);
    while (batch.next != &batch) {
        struct page_cache_fetch *h = batch.next;
        s_list_del(h);
        enum cache_state st;
        struct cache_entry *e = cache_lookup(pc->cache, h->key, h->key_len, now_ms, &st);
        if (e && st != CACHE_MISS) {
            s_deliver_entry(h, e, h->outcome, now_ms);
            continue;
        }
        /* Dropped meanwhile (evicted by a store in the same turn): go upstream. */
        struct bgw_error err;
        bgw_error_clear(&err);
        buf_reset(&pc->key);
        if (buf_append(&pc->key, h->key, h->key_len) != 0 ||
            s_miss(pc, h, &h->q, now_ms, &err) != 0)
            s_deliver_error(h,
                            err.status ? &err
                                       : &(struct bgw_error){.status = BGW_ERR_NOMEM,
                                                             .message = "out of memory"},
                            NULL);
    }
}

static void s_on_sweep(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct page_cache *pc = arg;
    cache_sweep(pc->cache, s_now(pc), S_SWEEP_WORK);
}

/* --- pass-through (cache disabled) --------------------------------------- */

static void s_on_pass(void *arg, const struct fetcher_result *r)
{
    struct page_cache_fetch *h = arg;
    struct page_cache *pc = h->pc;
    h->pass = NULL;
    s_list_del(h);
    s_count_upstream(pc, r);
    struct page_cache_result res = {
        .status = r->status,
        .page = r->page,
        .err = r->err,
        .outcome = PAGE_CACHE_PASS,
        .http_status = r->http_status,
        .upstream_ms = r->upstream_ms,
        .attempts = r->attempts,
        .transport_error = r->transport_error,
        .pc = pc,
    };
    page_cache_cb cb = h->cb;
    void *cb_arg = h->arg;
    s_handle_free(h);
    cb(cb_arg, &res);
}

/* --- the API ------------------------------------------------------------- */

struct page_cache *page_cache_new(const struct page_cache_options *opts)
{
    struct page_cache *pc = calloc(1, sizeof(*pc));
    if (!pc)
        return NULL;
    pc->cfg = opts->cfg;
    pc->base = opts->base;
    pc->fetcher = opts->fetcher;
    pc->fetch = opts->fetch;
    pc->cancel = opts->cancel;
    pc->fetch_ctx = opts->fetch_ctx;
    pc->mono_ms = opts->mono_ms ? opts->mono_ms : clock_mono_ms;
    pc->credentials = opts->credentials;
    pc->m = opts->metrics;
    pc->fleet = opts->fleet;
    s_list_init(&pc->ready);
    s_list_init(&pc->pass);
    buf_init(&pc->key, 64u * 1024u);
    if (pc->cfg->cache.enabled) {
        struct cache_options co = {
            .ttl_ms = pc->cfg->cache.ttl_ms,
            .swr_ms = pc->cfg->cache.swr_ms,
            .sie_ms = pc->cfg->cache.sie_ms,
            .max_bytes = pc->cfg->cache.max_bytes,
            .max_entry_bytes = pc->cfg->cache.max_entry_bytes,
        };
        pc->cache = cache_new(&co);
        pc->ready_ev = event_new(pc->base, -1, 0, s_on_ready, pc);
        pc->sweep_ev = event_new(pc->base, -1, EV_PERSIST, s_on_sweep, pc);
        struct timeval tv = {PAGE_CACHE_SWEEP_MS / 1000, (PAGE_CACHE_SWEEP_MS % 1000) * 1000};
        if (!pc->cache || !pc->ready_ev || !pc->sweep_ev || event_add(pc->sweep_ev, &tv) != 0) {
            page_cache_destroy(pc);
            return NULL;
        }
    }
    return pc;
}

void page_cache_destroy(struct page_cache *pc)
{
    if (!pc)
        return;
    while (pc->all) {
        struct s_flight *f = pc->all;
        while (f->waiters.next != &f->waiters) {
            struct page_cache_fetch *h = f->waiters.next;
            s_list_del(h);
            s_handle_free(h);
        }
        if (f->fetch)
            s_cancel(pc, f->fetch);
        s_flight_free(pc, f);
    }
    while (pc->ready.next != &pc->ready) {
        struct page_cache_fetch *h = pc->ready.next;
        s_list_del(h);
        s_handle_free(h);
    }
    while (pc->pass.next != &pc->pass) {
        struct page_cache_fetch *h = pc->pass.next;
        s_list_del(h);
        s_cancel(pc, h->pass);
        s_handle_free(h);
    }
    if (pc->ready_ev)
        event_free(pc->ready_ev);
    if (pc->sweep_ev)
        event_free(pc->sweep_ev);
    cache_destroy(pc->cache);
    buf_clean_up(&pc->key);
    free(pc);
}

const struct cache *page_cache_core(const struct page_cache *pc)
{
    return pc->cache;
}

/* pc->key holds the key. Joins or starts a flight for h. */
static int s_miss(struct page_cache *pc, struct page_cache_fetch *h, const struct jobs_request *q,
                  int64_t now_ms, struct bgw_error *err)
{
    uint64_t hash = cache_hash(pc->key.data, pc->key.len);
    pc->m->cache_misses++;
    if (h->ctl.no_cache)
        pc->m->cache_bypass++;
    struct s_flight *f =
        h->ctl.no_cache ? NULL : s_flight_find(pc, pc->key.data, pc->key.len, hash);
    if (f) {
        pc->m->coalesced++;
        h->coalesced = true;
        if (f->background) { /* someone waits on it now: no longer "background" */
            f->background = false;
            pc->n_background--;
        }
    } else {
        f = s_flight_start(pc, q, hash, false, h->ctl.no_cache, now_ms, err);
        if (!f)
            return -1;
    }
    if (s_join(f, h, now_ms, err) != 0) {
        if (f->n_waiters == 0 && !f->background) {
            /* nobody else needs it: keep it running, it still fills the cache */
        }
        return -1;
    }
    return 0;
}

static void s_queue_ready(struct page_cache *pc, struct page_cache_fetch *h,
                          enum page_cache_outcome outcome)
{
    h->kind = S_READY;
    h->outcome = outcome;
    s_list_add_tail(&pc->ready, h);
    event_active(pc->ready_ev, EV_TIMEOUT, 0);
}

struct page_cache_fetch *page_cache_fetch_page(struct page_cache *pc, const struct jobs_request *q,
                                               const struct page_cache_control *ctl,
                                               int64_t deadline_ms, page_cache_cb cb, void *arg,
                                               struct bgw_error *err)
{
    struct page_cache_fetch *h = calloc(1, sizeof(*h));
    if (!h) {
        bgw_error_set(err, BGW_ERR_NOMEM, NULL, "out of memory");
        return NULL;
    }
    h->pc = pc;
    h->cb = cb;
    h->arg = arg;
    h->deadline_ms = deadline_ms;
    h->ctl.max_age_ms = -1;
    if (ctl)
        h->ctl = *ctl;
    h->ctl.partition = NULL; /* borrowed: used here only (the key) */

    if (!pc->cache) {
        h->kind = S_PASS;
        h->pass = s_fetch(pc, q, deadline_ms, s_on_pass, h, err);
        if (!h->pass) {
            free(h);
            return NULL;
        }
        s_list_add_tail(&pc->pass, h);
        return h;
    }

    int64_t now_ms = s_now(pc);
    if (s_build_key(pc, q, ctl ? ctl->partition : NULL, err) != 0) {
        free(h);
        return NULL;
    }
    if (!h->ctl.no_cache) {
        enum cache_state st;
        struct cache_entry *e = cache_lookup(pc->cache, pc->key.data, pc->key.len, now_ms, &st);
        bool young_enough =
            e && (h->ctl.max_age_ms < 0 || cache_entry_age_ms(e, now_ms) <= h->ctl.max_age_ms);
        if (e && young_enough && (st == CACHE_FRESH || st == CACHE_STALE_SWR)) {
            h->key = malloc(pc->key.len + 1);
            if (!h->key || jobs_request_copy(q, &h->q) != 0) {
                s_handle_free(h);
                bgw_error_set(err, BGW_ERR_NOMEM, NULL, "out of memory");
                return NULL;
            }
            memcpy(h->key, pc->key.data, pc->key.len + 1);
            h->key_len = pc->key.len;
            if (st == CACHE_FRESH) {
                pc->m->cache_hits++;
                s_queue_ready(pc, h, PAGE_CACHE_HIT);
                return h;
            }
            pc->m->stale[METRICS_STALE_REVALIDATING]++;
            uint64_t hash = cache_hash(pc->key.data, pc->key.len);
            if (!s_flight_find(pc, pc->key.data, pc->key.len, hash) &&
                pc->n_background < PAGE_CACHE_MAX_BACKGROUND) {
                struct bgw_error ferr;
                bgw_error_clear(&ferr);
                if (!s_flight_start(pc, q, hash, true, false, now_ms, &ferr))
                    log_event_limited(LOG_WARN, "cache_refresh_failed",
                                      json_pack("{s:s}", "msg", ferr.message));
            }
            s_queue_ready(pc, h, PAGE_CACHE_STALE_REVALIDATING);
            return h;
        }
    }
    if (s_miss(pc, h, q, now_ms, err) != 0) {
        s_list_del(h);
        /* Refused before any upstream call (circuit breaker open, upstream
         * admission): an upstream failure like any other for
         * stale-if-error. */
        struct cache_entry *stale = s_stale_if_error(err->status)
                                        ? s_stale_for(pc, h, pc->key.data, pc->key.len, now_ms)
                                        : NULL;
        if (stale && !h->key && (h->key = malloc(pc->key.len + 1)) != NULL &&
            jobs_request_copy(q, &h->q) == 0) {
            memcpy(h->key, pc->key.data, pc->key.len + 1);
            h->key_len = pc->key.len;
            bgw_error_clear(err);
            pc->m->stale[METRICS_STALE_ERROR]++;
            s_queue_ready(pc, h, PAGE_CACHE_STALE_ERROR);
            return h;
        }
        s_handle_free(h);
        return NULL;
    }
    return h;
}

void page_cache_cancel(struct page_cache_fetch *h)
{
    if (!h)
        return;
    if (h->kind == S_PASS && h->pass)
        s_cancel(h->pc, h->pass);
    if (h->kind == S_WAITING && h->flight)
        h->flight->n_waiters--;
    s_list_del(h);
    s_handle_free(h);
}

const struct cache_view *page_cache_view(const struct page_cache_result *r, const char *key,
                                         size_t key_len)
{
    return r->entry ? cache_entry_view(r->entry, key, key_len) : NULL;
}

const struct cache_view *page_cache_add_view(const struct page_cache_result *r, const char *key,
                                             size_t key_len, const void *body, size_t body_len,
                                             const struct cache_view_meta *meta)
{
    if (!r->entry || !r->pc->cache)
        return NULL;
    return cache_entry_add_view(r->pc->cache, r->entry, key, key_len, body, body_len, meta);
}
