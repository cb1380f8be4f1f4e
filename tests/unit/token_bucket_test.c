/*
 * token_bucket_test - burst, refill over injected time, wait estimate,
 * unlimited bucket.
 */
#include "test_util.h"
#include "token_bucket.h"

int main(void)
{
    struct token_bucket b;
    token_bucket_init(&b, 2.0, 3.0, 1000); /* 2/s, burst 3 */
    CHECK(token_bucket_take(&b, 1000));
    CHECK(token_bucket_take(&b, 1000));
    CHECK(token_bucket_take(&b, 1000));
    CHECK(!token_bucket_take(&b, 1000));
    CHECK(token_bucket_wait_ms(&b, 1000) == 500);
    CHECK(!token_bucket_take(&b, 1499));
    CHECK(token_bucket_take(&b, 1500));
    CHECK(!token_bucket_take(&b, 1500));
    /* never more than the burst, however long idle */
    CHECK(token_bucket_take(&b, 100000));
    CHECK(token_bucket_take(&b, 100000));
    CHECK(token_bucket_take(&b, 100000));
    CHECK(!token_bucket_take(&b, 100000));
    /* time going backwards does not add tokens */
    CHECK(!token_bucket_take(&b, 50));
    token_bucket_init(&b, 0, 0, 0);
    for (int i = 0; i < 1000; i++)
        CHECK(token_bucket_take(&b, 0));
    CHECK(token_bucket_wait_ms(&b, 0) == 0);
    return TEST_EXIT();
}
