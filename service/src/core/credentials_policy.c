/*
 * credentials_policy - see credentials_policy.h. No I/O, no clock.
 */
#include "credentials_policy.h"

bool credentials_policy_usable(int64_t expires_at_ms, int64_t now_ms)
{
    return expires_at_ms == 0 || now_ms < expires_at_ms;
}

int64_t credentials_policy_refresh_at(const struct credentials_policy *p, int64_t expires_at_ms,
                                      int64_t now_ms, uint32_t rnd)
{
    if (expires_at_ms == 0)
        return 0;
    int64_t jitter = p->jitter_ms > 0 ? (int64_t)(rnd % (uint64_t)(p->jitter_ms + 1)) : 0;
    int64_t at = expires_at_ms - p->margin_ms - jitter;
    int64_t min_at = now_ms + (p->min_interval_ms > 0 ? p->min_interval_ms : 0);
    if (at < min_at) {
        /* Living shorter than the margin (or nearly expired): refresh at
         * half the life left, not every min_interval_ms; never sooner than
         * min_interval_ms unless they expire before that. */
        int64_t left = expires_at_ms - now_ms;
        at = left < p->margin_ms ? now_ms + (left > 0 ? left / 2 : 0) : min_at;
        if (at < min_at && min_at < expires_at_ms)
            at = min_at;
    }
    return at;
}

int64_t credentials_policy_retry_at(const struct credentials_policy *p, int failures,
                                    int64_t expires_at_ms, int64_t now_ms, uint32_t rnd)
{
    int64_t d = p->retry_base_ms > 0 ? p->retry_base_ms : 1;
    for (int i = 1; i < failures && d < p->retry_max_ms; i++)
        d *= 2;
    if (p->retry_max_ms > 0 && d > p->retry_max_ms)
        d = p->retry_max_ms;
    /* jitter: between d/2 and d */
    d = d / 2 + (int64_t)(rnd % (uint64_t)(d / 2 + 1));
    if (d < 1)
        d = 1;
    int64_t at = now_ms + d;
    if (expires_at_ms > now_ms) {
        /* Keep a try in before the current credentials run out. */
        int64_t last = expires_at_ms - 1;
        if (at > last && now_ms + 1 <= last)
            at = now_ms + (last - now_ms) / 2 + 1;
    }
    return at;
}
