/*
 * credentials_policy - when temporary credentials are refreshed, I/O-free:
 *   - refresh in the background margin_ms (minus up to jitter_ms, so many
 *     gateways do not refresh in lock-step) before they expire; when the
 *     credentials live shorter than that, at half their remaining life;
 *   - after a failed refresh, retry with exponential backoff and jitter,
 *     never later than the actual expiry;
 *   - credentials are usable until they actually expire (static stability:
 *     a failing refresh keeps the current ones in use until then).
 * Time (now_ms, the wall clock in ms since the epoch, as expiry times are)
 * and randomness come in as arguments.
 */
#ifndef BGW_CREDENTIALS_POLICY_H
#define BGW_CREDENTIALS_POLICY_H

#include <stdbool.h>
#include <stdint.h>

struct credentials_policy {
    int64_t margin_ms;       /* refresh this long before expiry */
    int64_t jitter_ms;       /* minus up to this much at random */
    int64_t min_interval_ms; /* never schedule sooner than this from now */
    int64_t retry_base_ms;   /* first retry after a failed refresh */
    int64_t retry_max_ms;    /* cap on the retry delay */
};

/* Usable now? expires_at_ms 0 = never expires. */
bool credentials_policy_usable(int64_t expires_at_ms, int64_t now_ms);

/* When to refresh credentials that expire at expires_at_ms (0 = never:
 * returns 0, no refresh). */
int64_t credentials_policy_refresh_at(const struct credentials_policy *p, int64_t expires_at_ms,
                                      int64_t now_ms, uint32_t rnd);

/* When to retry after the failures-th consecutive failed refresh (1 = the
 * first). Bounded by the expiry of the current credentials (if any,
 * expires_at_ms > now) so that a retry is attempted before they expire. */
int64_t credentials_policy_retry_at(const struct credentials_policy *p, int failures,
                                    int64_t expires_at_ms, int64_t now_ms, uint32_t rnd);

#endif
