/*
 * ratelimit - integer token bucket. See ratelimit.h. No I/O, no clock.
 */
#include "ratelimit.h"

#define S_U_PER_TOKEN 1000000 /* micro-tokens per token */

static int64_t s_capacity_u(const struct ratelimit_limit *l)
{
    return l->burst * S_U_PER_TOKEN;
}

static void s_refill(struct ratelimit_bucket *b, const struct ratelimit_limit *l, int64_t now_ms)
{
    int64_t cap = s_capacity_u(l);
    if (!b->primed) {
        b->primed = true;
        b->tokens_u = cap;
        b->last_ms = now_ms;
        return;
    }
    if (now_ms <= b->last_ms)
        return; /* no time passed (or the clock stepped back) */
    int64_t elapsed = now_ms - b->last_ms;
    b->last_ms = now_ms;
    /* micro-tokens per ms == rate in milli-rps. Avoid overflow: once the
     * elapsed time alone fills the bucket, it is full. */
    if (elapsed >= cap / l->rate_mrps + 1) {
        b->tokens_u = cap;
        return;
    }
    b->tokens_u += elapsed * l->rate_mrps;
    if (b->tokens_u > cap)
        b->tokens_u = cap;
}

bool ratelimit_take(struct ratelimit_bucket *b, const struct ratelimit_limit *l, int64_t now_ms,
                    int64_t *retry_after_ms)
{
    if (l->rate_mrps <= 0 || l->burst <= 0)
        return true;
    s_refill(b, l, now_ms);
    if (b->tokens_u >= S_U_PER_TOKEN) {
        b->tokens_u -= S_U_PER_TOKEN;
        return true;
    }
    int64_t missing = S_U_PER_TOKEN - b->tokens_u;
    *retry_after_ms = (missing + l->rate_mrps - 1) / l->rate_mrps;
    if (*retry_after_ms < 1)
        *retry_after_ms = 1;
    return false;
}

int ratelimit_retry_after_s(int64_t retry_after_ms)
{
    int64_t s = (retry_after_ms + 999) / 1000;
    if (s < 1)
        s = 1;
    if (s > 86400)
        s = 86400;
    return (int)s;
}

void ratelimit_bucket_carry(struct ratelimit_bucket *dst, const struct ratelimit_bucket *old,
                            const struct ratelimit_limit *new_limit)
{
    struct ratelimit_bucket b = {0, 0, false};
    if (old && old->primed) {
        /* Kept even while the new limit is unlimited: a limit removed and
         * added back by later reloads continues from this level (refilled
         * for the time in between), not from a fresh burst. */
        b = *old;
        if (new_limit->rate_mrps > 0 && new_limit->burst > 0 &&
            b.tokens_u > s_capacity_u(new_limit))
            b.tokens_u = s_capacity_u(new_limit);
    }
    *dst = b;
}
