/*
 * page_cache - the loop-side response cache in front of the fetcher, with
 * the fetcher's shape: "page request in, page or error out, asynchronously",
 * so the code above (gateway, a paging loop) calls it where it called
 * fetcher_fetch_page. On top of the I/O-free cache core (cache.h) it adds:
 *
 *  - coalescing: concurrent identical misses share one upstream call; every
 *    waiter gets its result or error. A waiter whose own deadline passes gets
 *    DEADLINE_EXCEEDED (or a stale page, see below); the call goes on for the
 *    others and still fills the cache.
 *  - stale-while-revalidate: within cache.swr_ms after expiry, the stale page
 *    is answered at once and one background refresh is started (at most one
 *    per key; at most PAGE_CACHE_MAX_BACKGROUND at a time).
 *  - stale-if-error: within cache.sie_ms after expiry, when the refresh fails
 *    with throttling, 5xx, timeout or an unreachable upstream (or the
 *    waiter's deadline runs out first), the last good page is answered,
 *    marked stale. Past the window the error goes through.
 *  - client control: no_cache forces a fresh upstream read (not joined to a
 *    call already in flight, never answered stale); max_age_ms bounds the age
 *    of any answer, stale ones included.
 *  - the cache's key is the normalized upstream query plus the upstream
 *    identity (endpoint, region, credential principal); tenant policy is
 *    applied by the caller afterwards. The caller may keep serialized
 *    renderings ("views") of the page with the entry (page_cache_view).
 *
 * With cache.enabled false every call goes straight to the fetcher (with the
 * caller's deadline), as before; metrics still count.
 *
 * Loop thread only. Callbacks are always
 * asynchronous (never from inside page_cache_fetch_page) and run on the loop
 * thread. Reads the monotonic clock and passes it into the cache core.
 */
#ifndef BGW_PAGE_CACHE_H
#define BGW_PAGE_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "cache.h"
#include "config.h"
#include "credentials.h"
#include "fetcher.h"
#include "fleet.h"
#include "jobs.h"
#include "metrics.h"
#include "status.h"

#define PAGE_CACHE_MAX_BACKGROUND 64 /* SWR refreshes in flight at once */
#define PAGE_CACHE_SWEEP_MS 1000     /* housekeeping period */

struct event_base;
struct page_cache;
struct page_cache_fetch;

struct page_cache_options {
    const struct config *cfg; /* cache.*, endpoint, region, page size */
    struct event_base *base;
    struct fetcher *fetcher;                  /* outlives the page_cache */
    struct credentials_provider *credentials; /* the principal in the key */
    struct metrics *metrics;                  /* outlives the page_cache */
    /* NULL: single replica. Else the shared tier (fleet.h): a local miss
     * asks Redis for the page and the key's lease before any upstream call,
     * waits while another replica holds the lease, and writes what it
     * fetches; without Redis it goes on alone. Outlives the page_cache. */
    struct fleet *fleet;
    /* Seams for unit tests (NULL: the real ones): the upstream calls made
     * instead of fetcher_fetch_page / fetcher_cancel on fetcher, and the
     * monotonic clock. */
    struct fetcher_fetch *(*fetch)(void *ctx, const struct jobs_request *q, int64_t deadline_ms,
                                   fetcher_cb cb, void *arg, struct bgw_error *err);
    void (*cancel)(void *ctx, struct fetcher_fetch *h);
    void *fetch_ctx;
    int64_t (*mono_ms)(void);
};

/* What the client asked of the cache (Cache-Control). */
struct page_cache_control {
    bool no_cache;      /* fresh upstream read */
    int64_t max_age_ms; /* < 0: no bound */
    /* NULL, or a name (the tenant) whose pages are kept and fetched apart
     * from everyone else's (cache.share_across_tenants: false). Borrowed
     * for the call to page_cache_fetch_page only. */
    const char *partition;
};
/* Parses a Cache-Control value ("no-cache", "max-age=N", comma-separated,
 * case-insensitive; unknown directives ignored). NULL -> no control. */
void page_cache_parse_control(const char *value, struct page_cache_control *out);

enum page_cache_outcome {
    PAGE_CACHE_HIT = 0,            /* fresh entry */
    PAGE_CACHE_MISS,               /* waited for an upstream call (maybe a shared one) */
    PAGE_CACHE_BYPASS,             /* no-cache: own upstream call */
    PAGE_CACHE_STALE_REVALIDATING, /* SWR */
    PAGE_CACHE_STALE_ERROR,        /* SIE: refresh failed or deadline ran out */
    PAGE_CACHE_PASS,               /* cache disabled */
};
const char *page_cache_outcome_str(enum page_cache_outcome o); /* "hit", "miss", ... */

/* Valid only during the callback. */
struct page_cache_result {
    enum bgw_status status;
    const struct jobs_response *page; /* when OK: borrowed, read-only (copy with cache_page_copy) */
    const struct bgw_error *err;      /* when not OK */
    enum page_cache_outcome outcome;
    int64_t age_ms;      /* of the answer (0 for a page just fetched) */
    int64_t ttl_left_ms; /* how long it stays fresh (0 when stale or not cached) */
    /* upstream details when this caller waited on a call (else 0/NULL) */
    long http_status;
    int64_t upstream_ms;
    int attempts; /* 0 for a waiter that joined another call's upstream call */
    const char *transport_error;
    bool coalesced; /* a miss that joined an upstream call already in flight */
    /* private: for page_cache_view / page_cache_add_view */
    struct page_cache *pc;
    struct cache_entry *entry; /* NULL when the page is not cached */
};

typedef void (*page_cache_cb)(void *arg, const struct page_cache_result *r);

struct page_cache *page_cache_new(const struct page_cache_options *opts);
/* Cancels everything in flight (no callbacks). */
void page_cache_destroy(struct page_cache *pc);

/* Like fetcher_fetch_page: the page for q (validated; copied), deadline_ms
 * monotonic (0 = none), ctl may be NULL. Returns a handle for
 * page_cache_cancel, or NULL when nothing could be started (cb is then NOT
 * called and err says why). */
struct page_cache_fetch *page_cache_fetch_page(struct page_cache *pc, const struct jobs_request *q,
                                               const struct page_cache_control *ctl,
                                               int64_t deadline_ms, page_cache_cb cb, void *arg,
                                               struct bgw_error *err);
/* The callback will not run; a shared upstream call goes on for others. */
void page_cache_cancel(struct page_cache_fetch *h);

/* During a callback: the view stored under key with the answer's entry, or
 * NULL; and storing one (NULL when not cached / does not fit). The returned
 * view is valid for the rest of the callback. */
const struct cache_view *page_cache_view(const struct page_cache_result *r, const char *key,
                                         size_t key_len);
const struct cache_view *page_cache_add_view(const struct page_cache_result *r, const char *key,
                                             size_t key_len, const void *body, size_t body_len,
                                             const struct cache_view_meta *meta);

/* NULL when the cache is disabled. */
const struct cache *page_cache_core(const struct page_cache *pc);

#endif
