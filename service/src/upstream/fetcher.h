/*
 * fetcher - gets one page of Bedrock's ListModelImportJobs, asynchronously,
 * on the loop thread: current credentials -> SigV4-signed request
 * (bedrock_client) -> HTTP exchange (upstream_http) -> parsed page or mapped
 * error. It is the one place that talks to Bedrock, and the seam where
 * upstream resilience (retries, quotas, circuit breaker) and, above it, a
 * page cache plug in: callers only see "page request in, page or error out".
 *
 * Resilience (issue 5): each fetch makes at most upstream.max_attempts
 * exchanges, retrying throttling, 5xx, transport errors and timeouts with
 * full-jitter backoff, paid from a client-wide retry quota (retry_policy),
 * honouring Retry-After and never past the caller's deadline. A 403 of the
 * stale-credentials class triggers one forced credential refresh (shared
 * with every other fetch that needs it) and one more exchange. Exchanges
 * are admitted by a concurrency limit and a global token bucket (waiting
 * at most upstream.queue_wait_ms, else RESOURCE_EXHAUSTED) and by a circuit
 * breaker (open: UNAVAILABLE at once).
 *
 * Loop thread only. Callbacks are always asynchronous (never from inside
 * fetcher_fetch_page).
 */
#ifndef BGW_FETCHER_H
#define BGW_FETCHER_H

#include <stdint.h>

#include "breaker.h"
#include "config.h"
#include "credentials.h"
#include "fleet.h"
#include "jobs.h"
#include "status.h"

struct event_base;
struct fetcher;
struct fetcher_fetch;

struct fetcher_options {
    const struct config *cfg;                 /* endpoint, region, timeouts; outlives the fetcher */
    struct event_base *base;                  /* the loop */
    struct credentials_provider *credentials; /* outlives the fetcher */
    /* NULL, or the fleet whose Redis bucket holds upstream.rate_per_s/burst
     * for every replica (the local bucket, divided by
     * redis.fallback_replicas, stands in while Redis is unavailable). */
    struct fleet *fleet;
};

/* What a fetch produced; valid only during the callback. The callback may
 * move page's contents out (leaving *page zeroed); whatever is left is freed
 * after it returns. */
struct fetcher_result {
    enum bgw_status status;      /* BGW_OK or the mapped error */
    struct jobs_response *page;  /* when OK */
    const struct bgw_error *err; /* when not OK */
    long http_status;            /* last HTTP status seen, 0 if none */
    int64_t upstream_ms;         /* time spent on the exchange */
    int attempts;                /* upstream HTTP exchanges made */
    const char *transport_error; /* curl's text for a transport failure, or NULL */
};

typedef void (*fetcher_cb)(void *arg, const struct fetcher_result *r);

struct fetcher *fetcher_new(const struct fetcher_options *opts);
/* Cancels what is in flight (no callbacks). */
void fetcher_destroy(struct fetcher *f);

/* Fetches the page Bedrock returns for q (validated; copied). deadline_ms is
 * monotonic (0 = none): the exchange is bounded by it (minus a margin) and
 * by aws.timeout_ms; running into the deadline is DEADLINE_EXCEEDED.
 * now_ms/wall_s: the loop's clocks at the call. Returns a handle for
 * fetcher_cancel, or NULL when nothing could be started (then cb is NOT
 * called and err says why). */
struct fetcher_fetch *fetcher_fetch_page(struct fetcher *f, const struct jobs_request *q,
                                         int64_t deadline_ms, fetcher_cb cb, void *arg,
                                         struct bgw_error *err);
/* The callback will not run. */
void fetcher_cancel(struct fetcher_fetch *h);

/* Fetches in flight. */
size_t fetcher_active(const struct fetcher *f);

/* The circuit breaker's state at now_ms (monotonic), for readiness. */
enum breaker_state fetcher_breaker_state(const struct fetcher *f, int64_t now_ms);

#endif
