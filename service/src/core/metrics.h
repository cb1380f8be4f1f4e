/*
 * metrics - the gateway's counters and their Prometheus text rendering
 * (GET /metrics): requests by transport and code, cache hits/misses,
 * coalesced waiters, stale answers by reason, upstream calls by outcome,
 * and the cache's own gauges (entries, bytes) and evictions.
 *
 * Plain integers owned by the loop thread (no atomics, no locks): only code
 * on the loop increments or reads them. No I/O.
 */
#ifndef BGW_METRICS_H
#define BGW_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "cache.h"
#include "status.h"

enum metrics_upstream_outcome {
    METRICS_UP_OK = 0,
    METRICS_UP_THROTTLED,    /* 429 */
    METRICS_UP_SERVER_ERROR, /* 5xx / UNAVAILABLE from a reply */
    METRICS_UP_UNREACHABLE,  /* transport failure */
    METRICS_UP_TIMEOUT,
    METRICS_UP_CLIENT_ERROR, /* 4xx other than 429 */
    METRICS_UP_MALFORMED,
    METRICS_UP_OTHER,
    METRICS_UP_COUNT
};

enum metrics_stale_reason {
    METRICS_STALE_REVALIDATING = 0, /* stale-while-revalidate */
    METRICS_STALE_ERROR,            /* stale-if-error: refresh failed */
    METRICS_STALE_TIMEOUT,          /* stale-if-error: caller's deadline ran out first */
    METRICS_STALE_COUNT
};

#define METRICS_LATENCY_BUCKETS 12
extern const double metrics_latency_bounds_s[METRICS_LATENCY_BUCKETS];

struct metrics {
    /* Call latency (received to answered) per transport: per-bucket counts
     * (the last one is +Inf), cumulated when rendered. */
    uint64_t latency[3][METRICS_LATENCY_BUCKETS + 1];
    uint64_t latency_sum_ms[3];
    uint64_t requests[3][BGW_STATUS_COUNT]; /* [0] grpc, [1] rest, [2] aws (handler_transport) */
    uint64_t not_modified;                  /* REST 304 answers */
    uint64_t cache_hits;                    /* fresh entry served */
    uint64_t cache_misses;                  /* had to wait for upstream */
    uint64_t cache_bypass;                  /* Cache-Control: no-cache */
    uint64_t coalesced;                     /* misses that joined a call in flight */
    uint64_t stale[METRICS_STALE_COUNT];
    uint64_t background_refreshes;       /* SWR refreshes started */
    uint64_t upstream[METRICS_UP_COUNT]; /* finished upstream fetches */
    uint64_t upstream_attempts;          /* HTTP exchanges (retries included) */
    uint64_t view_renders;               /* responses serialized (not served from a view) */
};

/* One call of transport t (handler_transport) that took ms. */
void metrics_observe_latency(struct metrics *m, int t, int64_t ms);

/* The outcome label of a finished upstream fetch. */
enum metrics_upstream_outcome metrics_upstream_outcome(enum bgw_status st, long http_status,
                                                       bool transport_error);

/* Appends the Prometheus text exposition (version 0.0.4). cache may be NULL
 * (cache disabled). 0 or -1. */
int metrics_render(const struct metrics *m, const struct cache_stats *cache, struct buf *out);

#endif
