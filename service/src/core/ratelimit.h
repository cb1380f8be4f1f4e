/*
 * ratelimit - a token bucket, I/O-free: time comes in as now_ms, nothing
 * reads the clock, nothing allocates.
 *
 * A bucket holds up to `burst` tokens and refills at `rps` tokens per
 * second; each request takes one. Arithmetic is integer: tokens are kept in
 * micro-tokens and the rate in milli-requests per second, so the refill per
 * millisecond in micro-tokens equals the rate in milli-rps, and a fractional
 * rate (0.5 rps = one request every 2 s) is exact.
 *
 * The caller (the gateway, on the loop thread) owns the buckets: one per
 * tenant, carried over a config reload for tenants that still exist
 * (ratelimit_bucket_carry). Buckets of different tenants never touch, so one
 * tenant's flood cannot use another's tokens.
 */
#ifndef BGW_RATELIMIT_H
#define BGW_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#define RATELIMIT_MAX_RPS 1000000   /* config bound on rps */
#define RATELIMIT_MAX_BURST 1000000 /* config bound on burst */

/* A tenant's limit. rate_mrps == 0 means unlimited. */
struct ratelimit_limit {
    int64_t rate_mrps; /* requests per second x 1000 (1..RATELIMIT_MAX_RPS*1000) */
    int64_t burst;     /* bucket capacity in requests (1..RATELIMIT_MAX_BURST) */
};

/* Caller-owned state; zero-initialized storage is a valid "fresh" bucket
 * (it starts full on first use). */
struct ratelimit_bucket {
    int64_t tokens_u; /* micro-tokens available at last_ms */
    int64_t last_ms;  /* monotonic time of the last refill */
    bool primed;      /* false: never used (full) */
};

/* Takes one token at now_ms (monotonic; a clock that goes backwards is
 * treated as no time passing). Returns true when the request may proceed.
 * Otherwise returns false and sets *retry_after_ms (> 0) to the time until
 * a token is available at the current rate. Unlimited limits always pass. */
bool ratelimit_take(struct ratelimit_bucket *b, const struct ratelimit_limit *l, int64_t now_ms,
                    int64_t *retry_after_ms);

/* Retry-After in whole seconds for retry_after_ms: rounded up, at least 1. */
int ratelimit_retry_after_s(int64_t retry_after_ms);

/* A bucket for a reloaded limit: keeps the old bucket's level (so a reload
 * never hands out a fresh burst), clamped to the new capacity; kept as is
 * when the new limit is unlimited, so removing a limit and adding it back
 * does not refill it either. old may be NULL (new tenant) or never used:
 * fresh, full bucket. */
void ratelimit_bucket_carry(struct ratelimit_bucket *dst, const struct ratelimit_bucket *old,
                            const struct ratelimit_limit *new_limit);

#endif
