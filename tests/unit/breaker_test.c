/*
 * breaker_test - opens after the threshold of consecutive failures, fails
 * fast during the cool-down (injected clock), one half-open probe, closes
 * on its success or re-opens on its failure; successes reset the count;
 * an abandoned probe lets the next call probe.
 */
#include "breaker.h"
#include "test_util.h"

int main(void)
{
    struct breaker b;
    bool probe;
    int64_t retry_in;
    breaker_init(&b, 3, 1000);
    CHECK(breaker_allow(&b, 0, &probe, &retry_in) && !probe);
    breaker_record(&b, false, false, 0);
    breaker_record(&b, false, false, 1);
    breaker_record(&b, true, false, 2); /* resets */
    breaker_record(&b, false, false, 3);
    breaker_record(&b, false, false, 4);
    CHECK(breaker_state_at(&b, 4) == BREAKER_CLOSED);
    CHECK(breaker_record(&b, false, false, 10));
    CHECK(breaker_state_at(&b, 10) == BREAKER_OPEN);
    CHECK(!breaker_allow(&b, 500, &probe, &retry_in));
    CHECK(retry_in == 510);
    CHECK(breaker_state_at(&b, 1010) == BREAKER_HALF_OPEN);
    CHECK(breaker_allow(&b, 1010, &probe, &retry_in) && probe);
    CHECK(!breaker_allow(&b, 1011, &probe, &retry_in)); /* one probe at a time */
    CHECK(breaker_record(&b, false, true, 1020));       /* probe failed: open again */
    CHECK(breaker_state_at(&b, 1500) == BREAKER_OPEN);
    CHECK(breaker_allow(&b, 2020, &probe, &retry_in) && probe);
    breaker_probe_abandoned(&b);
    CHECK(breaker_allow(&b, 2021, &probe, &retry_in) && probe);
    CHECK(breaker_record(&b, true, true, 2030));
    CHECK(breaker_state_at(&b, 2030) == BREAKER_CLOSED);
    CHECK(b.opens == 2);
    CHECK_STR(breaker_state_str(BREAKER_HALF_OPEN), "half_open");
    breaker_init(&b, 0, 1000); /* never opens */
    for (int i = 0; i < 100; i++)
        breaker_record(&b, false, false, i);
    CHECK(breaker_state_at(&b, 100) == BREAKER_CLOSED);
    return TEST_EXIT();
}
