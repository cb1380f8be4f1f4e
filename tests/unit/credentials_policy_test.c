/*
 * credentials_policy_test - refresh scheduling with an injected clock:
 * margin and jitter, short-lived credentials, never sooner than the minimum
 * interval; retry backoff bounded by the expiry; usability until the real
 * expiry (static stability).
 */
#include "credentials_policy.h"
#include "test_util.h"

int main(void)
{
    struct credentials_policy p = {300000, 60000, 1000, 1000, 60000};
    int64_t now = 1000000;
    int64_t exp = now + 3600000;
    CHECK(credentials_policy_refresh_at(&p, 0, now, 5) == 0);
    CHECK(credentials_policy_refresh_at(&p, exp, now, 0) == exp - 300000);
    for (uint32_t r = 0; r < 100000; r += 997) {
        int64_t at = credentials_policy_refresh_at(&p, exp, now, r);
        CHECK(at <= exp - 300000 && at >= exp - 360000);
    }
    /* lives shorter than the margin: at half its remaining life (15 s
     * credentials: once every 7.5 s, not every second), never sooner than
     * the minimum interval unless it expires first */
    int64_t at = credentials_policy_refresh_at(&p, now + 10000, now, 123);
    CHECK(at == now + 5000);
    at = credentials_policy_refresh_at(&p, now + 15000, now, 123);
    CHECK(at == now + 7500);
    at = credentials_policy_refresh_at(&p, now + 1500, now, 123);
    CHECK(at == now + 1000); /* half is 750 < the 1000 minimum, expiry later */
    at = credentials_policy_refresh_at(&p, now + 800, now, 123);
    CHECK(at == now + 400);
    /* already expired: refresh now */
    CHECK(credentials_policy_refresh_at(&p, now - 5, now, 0) <= now + 1000);

    CHECK(credentials_policy_usable(0, now));
    CHECK(credentials_policy_usable(now + 1, now));
    CHECK(!credentials_policy_usable(now, now));

    /* retry: grows, capped, jittered in [d/2, d] */
    int64_t r1 = credentials_policy_retry_at(&p, 1, 0, now, 0);
    CHECK(r1 - now >= 500 && r1 - now <= 1000);
    int64_t r3 = credentials_policy_retry_at(&p, 3, 0, now, 0xffffffffu);
    CHECK(r3 - now >= 2000 && r3 - now <= 4000);
    int64_t r20 = credentials_policy_retry_at(&p, 20, 0, now, 7);
    CHECK(r20 - now >= 30000 && r20 - now <= 60000);
    /* a retry is squeezed in before the current credentials expire */
    int64_t rb = credentials_policy_retry_at(&p, 20, now + 4000, now, 7);
    CHECK(rb < now + 4000 && rb > now);
    return TEST_EXIT();
}
