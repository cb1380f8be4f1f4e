/*
 * metrics - counters -> Prometheus text. See metrics.h. No I/O.
 */
#include "metrics.h"

#include <inttypes.h>

static const char *const s_up_names[METRICS_UP_COUNT] = {"ok",          "throttled", "server_error",
                                                         "unreachable", "timeout",   "client_error",
                                                         "malformed",   "other"};
static const char *const s_stale_names[METRICS_STALE_COUNT] = {"revalidating", "error", "timeout"};
static const char *const s_transports[3] = {"grpc", "rest", "aws"};

enum metrics_upstream_outcome metrics_upstream_outcome(enum bgw_status st, long http_status,
                                                       bool transport_error)
{
    switch (st) {
    case BGW_OK:
        return METRICS_UP_OK;
    case BGW_ERR_RESOURCE_EXHAUSTED:
        return METRICS_UP_THROTTLED;
    case BGW_ERR_DEADLINE_EXCEEDED:
        return METRICS_UP_TIMEOUT;
    case BGW_ERR_UNAVAILABLE:
        return transport_error || http_status == 0 ? METRICS_UP_UNREACHABLE
                                                   : METRICS_UP_SERVER_ERROR;
    case BGW_ERR_BAD_GATEWAY:
        return METRICS_UP_MALFORMED;
    case BGW_ERR_INVALID_ARGUMENT:
    case BGW_ERR_PERMISSION_DENIED:
    case BGW_ERR_NOT_FOUND:
    case BGW_ERR_UNAUTHENTICATED:
        return METRICS_UP_CLIENT_ERROR;
    default:
        return METRICS_UP_OTHER;
    }
}

const double metrics_latency_bounds_s[METRICS_LATENCY_BUCKETS] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};

void metrics_observe_latency(struct metrics *m, int t, int64_t ms)
{
    if (t < 0 || t > 2)
        return;
    if (ms < 0)
        ms = 0;
    int b = 0;
    while (b < METRICS_LATENCY_BUCKETS && (double)ms > metrics_latency_bounds_s[b] * 1000.0)
        b++;
    m->latency[t][b]++;
    m->latency_sum_ms[t] += (uint64_t)ms;
}

#define S_COUNTER(name, help) "# HELP " name " " help "\n# TYPE " name " counter\n"
#define S_GAUGE(name, help) "# HELP " name " " help "\n# TYPE " name " gauge\n"

int metrics_render(const struct metrics *m, const struct cache_stats *cache, struct buf *out)
{
    int bad = 0;
    bad |=
        buf_append_str(out, S_COUNTER("bedrockgw_requests_total",
                                      "Finished ListModelImportJobs calls by transport and code."));
    for (int t = 0; t < 3; t++) {
        for (int s = 0; s < BGW_STATUS_COUNT; s++) {
            if (m->requests[t][s] || s == BGW_OK)
                bad |= buf_appendf(
                    out, "bedrockgw_requests_total{transport=\"%s\",code=\"%s\"} %" PRIu64 "\n",
                    s_transports[t], bgw_status_grpc_name((enum bgw_status)s), m->requests[t][s]);
        }
    }
    bad |=
        buf_append_str(out, "# HELP bedrockgw_request_duration_seconds Time from a call's "
                            "arrival to its answer, by transport (millisecond "
                            "resolution).\n# TYPE bedrockgw_request_duration_seconds histogram\n");
    for (int t = 0; t < 3; t++) {
        uint64_t cum = 0;
        for (int b = 0; b <= METRICS_LATENCY_BUCKETS; b++) {
            cum += m->latency[t][b];
            if (b < METRICS_LATENCY_BUCKETS)
                bad |= buf_appendf(out,
                                   "bedrockgw_request_duration_seconds_bucket{transport=\"%s\","
                                   "le=\"%g\"} %" PRIu64 "\n",
                                   s_transports[t], metrics_latency_bounds_s[b], cum);
            else
                bad |= buf_appendf(
                    out,
                    "bedrockgw_request_duration_seconds_bucket{transport=\"%s\","
                    "le=\"+Inf\"} %" PRIu64 "\n"
                    "bedrockgw_request_duration_seconds_sum{transport=\"%s\"} %.3f\n"
                    "bedrockgw_request_duration_seconds_count{transport=\"%s\"} %" PRIu64 "\n",
                    s_transports[t], cum, s_transports[t], (double)m->latency_sum_ms[t] / 1000.0,
                    s_transports[t], cum);
        }
    }
    bad |= buf_appendf(
        out,
        S_COUNTER("bedrockgw_not_modified_total",
                  "REST 304 answers to If-None-Match.") "bedrockgw_not_modified_total %" PRIu64
                                                        "\n",
        m->not_modified);
    bad |= buf_appendf(
        out,
        S_COUNTER("bedrockgw_cache_hits_total",
                  "Answers from a fresh cache entry.") "bedrockgw_cache_hits_total %" PRIu64 "\n",
        m->cache_hits);
    bad |=
        buf_appendf(out,
                    S_COUNTER("bedrockgw_cache_misses_total",
                              "Requests that waited for an upstream call (including coalesced and "
                              "no-cache ones).") "bedrockgw_cache_misses_total %" PRIu64 "\n",
                    m->cache_misses);
    bad |= buf_appendf(
        out,
        S_COUNTER("bedrockgw_cache_bypass_total",
                  "Requests with Cache-Control: no-cache.") "bedrockgw_cache_bypass_total %" PRIu64
                                                            "\n",
        m->cache_bypass);
    bad |= buf_appendf(out,
                       S_COUNTER("bedrockgw_cache_coalesced_total",
                                 "Misses that joined an identical upstream call "
                                 "already in flight.") "bedrockgw_cache_coalesced_"
                                                       "total %" PRIu64 "\n",
                       m->coalesced);
    bad |= buf_append_str(
        out, S_COUNTER("bedrockgw_cache_stale_served_total", "Stale answers by reason."));
    for (int r = 0; r < METRICS_STALE_COUNT; r++)
        bad |= buf_appendf(out, "bedrockgw_cache_stale_served_total{reason=\"%s\"} %" PRIu64 "\n",
                           s_stale_names[r], m->stale[r]);
    bad |= buf_appendf(
        out,
        S_COUNTER("bedrockgw_cache_background_refreshes_total",
                  "Stale-while-revalidate refreshes started.") "bedrockgw_cache_background_"
                                                               "refreshes_total %" PRIu64 "\n",
        m->background_refreshes);
    bad |= buf_appendf(
        out,
        S_COUNTER(
            "bedrockgw_cache_renders_total",
            "Responses serialized rather than served from a stored view.") "bedrockgw_cache_"
                                                                           "renders_total %" PRIu64
                                                                           "\n",
        m->view_renders);
    if (cache) {
        bad |= buf_appendf(
            out,
            S_COUNTER("bedrockgw_cache_evictions_total",
                      "Entries dropped to stay within cache.max_bytes.") "bedrockgw_cache_"
                                                                         "evictions_total %" PRIu64
                                                                         "\n",
            cache->evictions);
        bad |= buf_appendf(
            out,
            S_COUNTER("bedrockgw_cache_expirations_total",
                      "Entries dropped past their last window.") "bedrockgw_cache_expirations_"
                                                                 "total %" PRIu64 "\n",
            cache->expirations);
        bad |= buf_appendf(
            out,
            S_COUNTER(
                "bedrockgw_cache_rejected_total",
                "Pages or views not stored: over cache.max_entry_bytes.") "bedrockgw_cache_"
                                                                          "rejected_total %" PRIu64
                                                                          "\n",
            cache->rejected_large);
        bad |= buf_appendf(out,
                           S_GAUGE("bedrockgw_cache_entries",
                                   "Entries held.") "bedrockgw_cache_entries %" PRIu64 "\n",
                           cache->entries);
        bad |= buf_appendf(
            out,
            S_GAUGE(
                "bedrockgw_cache_bytes",
                "Bytes held (pages, keys, views, bookkeeping).") "bedrockgw_cache_bytes %" PRIu64
                                                                 "\n",
            cache->bytes);
    }
    bad |= buf_append_str(out, S_COUNTER("bedrockgw_upstream_calls_total",
                                         "Finished upstream page fetches by outcome."));
    for (int o = 0; o < METRICS_UP_COUNT; o++)
        bad |= buf_appendf(out, "bedrockgw_upstream_calls_total{outcome=\"%s\"} %" PRIu64 "\n",
                           s_up_names[o], m->upstream[o]);
    bad |= buf_appendf(
        out,
        S_COUNTER("bedrockgw_upstream_attempts_total",
                  "Upstream HTTP exchanges (retries included).") "bedrockgw_upstream_attempts_"
                                                                 "total %" PRIu64 "\n",
        m->upstream_attempts);
    return bad ? -1 : 0;
}
