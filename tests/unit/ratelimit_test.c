/*
 * ratelimit_test - the token bucket with time passed in: burst then refusal,
 * refill at the configured rate (integer and fractional), Retry-After from
 * the bucket, no refill when the clock goes backwards, no overflow over long
 * idle times, unlimited limits, two buckets independent, and carry-over on
 * reload.
 */
#include "ratelimit.h"
#include "test_util.h"

#define CHECK_EQ(a, b) CHECK((long long)(a) == (long long)(b))

static struct ratelimit_limit s_lim(double rps, int64_t burst)
{
    struct ratelimit_limit l = {(int64_t)(rps * 1000 + 0.5), burst};
    return l;
}

static void test_burst_then_refuse(void)
{
    struct ratelimit_bucket b = {0};
    struct ratelimit_limit l = s_lim(5, 10);
    int64_t ra = 0;
    for (int i = 0; i < 10; i++)
        CHECK(ratelimit_take(&b, &l, 1000, &ra));
    CHECK(!ratelimit_take(&b, &l, 1000, &ra));
    CHECK_EQ(ra, 200); /* 5 rps: one token every 200 ms */
    CHECK_EQ(ratelimit_retry_after_s(ra), 1);
    /* 199 ms later still nothing; at 200 ms exactly one. */
    CHECK(!ratelimit_take(&b, &l, 1199, &ra));
    CHECK_EQ(ra, 1);
    CHECK(ratelimit_take(&b, &l, 1200, &ra));
    CHECK(!ratelimit_take(&b, &l, 1200, &ra));
    CHECK_EQ(ra, 200);
    /* A second later: 5 more, not more. */
    int n = 0;
    while (ratelimit_take(&b, &l, 2200, &ra))
        n++;
    CHECK_EQ(n, 5);
}

static void test_fractional_rate(void)
{
    struct ratelimit_bucket b = {0};
    struct ratelimit_limit l = s_lim(0.5, 1); /* one every 2 s */
    int64_t ra = 0;
    CHECK(ratelimit_take(&b, &l, 0, &ra));
    CHECK(!ratelimit_take(&b, &l, 0, &ra));
    CHECK_EQ(ra, 2000);
    CHECK_EQ(ratelimit_retry_after_s(ra), 2);
    CHECK(!ratelimit_take(&b, &l, 1500, &ra));
    CHECK_EQ(ra, 500);
    CHECK(ratelimit_take(&b, &l, 2000, &ra));
    /* 0.3 rps: 3333.33 ms per token, rounded up. */
    struct ratelimit_bucket c = {0};
    struct ratelimit_limit l3 = s_lim(0.3, 1);
    CHECK(ratelimit_take(&c, &l3, 0, &ra));
    CHECK(!ratelimit_take(&c, &l3, 0, &ra));
    CHECK_EQ(ra, 3334);
    CHECK_EQ(ratelimit_retry_after_s(ra), 4);
}

static void test_clock_backwards_and_long_idle(void)
{
    struct ratelimit_bucket b = {0};
    struct ratelimit_limit l = s_lim(1, 2);
    int64_t ra = 0;
    CHECK(ratelimit_take(&b, &l, 10000, &ra));
    CHECK(ratelimit_take(&b, &l, 10000, &ra));
    CHECK(!ratelimit_take(&b, &l, 5000, &ra)); /* backwards: no refill */
    CHECK(!ratelimit_take(&b, &l, 10999, &ra));
    CHECK(ratelimit_take(&b, &l, 11000, &ra));
    /* Years idle at the maximum rate: full, never overflowed. */
    struct ratelimit_limit big = {(int64_t)RATELIMIT_MAX_RPS * 1000, RATELIMIT_MAX_BURST};
    struct ratelimit_bucket m = {0};
    CHECK(ratelimit_take(&m, &big, 0, &ra));
    CHECK(ratelimit_take(&m, &big, INT64_MAX / 2, &ra));
    CHECK(m.tokens_u <= (int64_t)RATELIMIT_MAX_BURST * 1000000);
    CHECK(m.tokens_u >= 0);
    /* Retry-After bounds. */
    CHECK_EQ(ratelimit_retry_after_s(0), 1);
    CHECK_EQ(ratelimit_retry_after_s(1001), 2);
    CHECK_EQ(ratelimit_retry_after_s(INT64_MAX / 4), 86400);
}

static void test_unlimited_and_independent(void)
{
    struct ratelimit_bucket a = {0};
    struct ratelimit_limit none = {0, 0};
    int64_t ra = 0;
    int passed = 0;
    for (int i = 0; i < 100000; i++)
        passed += ratelimit_take(&a, &none, 0, &ra);
    CHECK_EQ(passed, 100000);
    struct ratelimit_limit l = s_lim(1, 3);
    struct ratelimit_bucket x = {0}, y = {0};
    for (int i = 0; i < 50; i++)
        ratelimit_take(&x, &l, 0, &ra); /* x floods */
    CHECK(!ratelimit_take(&x, &l, 0, &ra));
    for (int i = 0; i < 3; i++)
        CHECK(ratelimit_take(&y, &l, 0, &ra)); /* y has its own burst */
}

static void test_carry(void)
{
    struct ratelimit_limit l = s_lim(1, 10);
    struct ratelimit_bucket b = {0};
    int64_t ra = 0;
    for (int i = 0; i < 8; i++)
        CHECK(ratelimit_take(&b, &l, 0, &ra)); /* 2 left */
    /* Same limit: level kept, no fresh burst. */
    struct ratelimit_bucket n1;
    ratelimit_bucket_carry(&n1, &b, &l);
    CHECK(ratelimit_take(&n1, &l, 0, &ra));
    CHECK(ratelimit_take(&n1, &l, 0, &ra));
    CHECK(!ratelimit_take(&n1, &l, 0, &ra));
    /* Smaller burst: clamped. */
    struct ratelimit_bucket full = {0};
    ratelimit_take(&full, &l, 0, &ra); /* 9 left */
    struct ratelimit_limit small = s_lim(1, 2);
    struct ratelimit_bucket n2;
    ratelimit_bucket_carry(&n2, &full, &small);
    CHECK(ratelimit_take(&n2, &small, 0, &ra));
    CHECK(ratelimit_take(&n2, &small, 0, &ra));
    CHECK(!ratelimit_take(&n2, &small, 0, &ra));
    /* New tenant (no old bucket): full. Unlimited -> limited: full. */
    struct ratelimit_bucket n3;
    ratelimit_bucket_carry(&n3, NULL, &small);
    CHECK(ratelimit_take(&n3, &small, 0, &ra));
    CHECK(ratelimit_take(&n3, &small, 0, &ra));
    CHECK(!ratelimit_take(&n3, &small, 0, &ra));
    struct ratelimit_bucket unused = {0};
    struct ratelimit_bucket n4;
    ratelimit_bucket_carry(&n4, &unused, &small);
    CHECK(!n4.primed);
    /* Limited -> unlimited -> limited (two reloads): the level survives,
     * refilled only for the time in between, not a fresh burst. */
    struct ratelimit_limit none = {0, 0};
    struct ratelimit_bucket drained = {0};
    for (int i = 0; i < 10; i++)
        CHECK(ratelimit_take(&drained, &l, 0, &ra)); /* 0 left */
    ratelimit_bucket_carry(&n4, &drained, &none);
    CHECK(n4.primed);
    CHECK(ratelimit_take(&n4, &none, 500, &ra)); /* unlimited meanwhile */
    struct ratelimit_bucket n5;
    ratelimit_bucket_carry(&n5, &n4, &l);
    CHECK(ratelimit_take(&n5, &l, 1000, &ra)); /* one token refilled in 1 s */
    CHECK(!ratelimit_take(&n5, &l, 1000, &ra));
}

int main(void)
{
    test_burst_then_refuse();
    test_fractional_rate();
    test_clock_backwards_and_long_idle();
    test_unlimited_and_independent();
    test_carry();
    return TEST_EXIT();
}
