/*
 * retry_policy_test - classification (throttle / transient / timeout /
 * credentials / none), full-jitter bounds, the retry quota's costs and
 * refunds, Retry-After parsing.
 */
#include "retry_policy.h"
#include "test_util.h"

int main(void)
{
    CHECK(retry_classify(0, 200, NULL) == RETRY_NONE);
    CHECK(retry_classify(0, 429, NULL) == RETRY_THROTTLE);
    CHECK(retry_classify(0, 400, "ThrottlingException") == RETRY_THROTTLE);
    CHECK(retry_classify(0, 500, "InternalServerException") == RETRY_TRANSIENT);
    CHECK(retry_classify(0, 503, NULL) == RETRY_TRANSIENT);
    CHECK(retry_classify(0, 501, NULL) == RETRY_NONE);
    CHECK(retry_classify(1, 0, NULL) == RETRY_TIMEOUT);
    CHECK(retry_classify(2, 0, NULL) == RETRY_TRANSIENT);
    CHECK(retry_classify(0, 400, "ValidationException") == RETRY_NONE);
    CHECK(retry_classify(0, 403, "AccessDeniedException") == RETRY_NONE);
    CHECK(retry_classify(0, 403, "ExpiredTokenException") == RETRY_CREDENTIALS);
    CHECK(retry_classify(0, 403, "InvalidSignatureException") == RETRY_CREDENTIALS);
    CHECK(retry_classify(0, 400, "ExpiredToken") == RETRY_CREDENTIALS);
    CHECK(retry_class_is_failure(RETRY_TRANSIENT) && retry_class_is_failure(RETRY_TIMEOUT));
    CHECK(!retry_class_is_failure(RETRY_THROTTLE) && !retry_class_is_failure(RETRY_NONE));

    struct retry_backoff bo = {100, 500, 20000};
    for (uint32_t r = 0; r < 5000; r += 7) {
        CHECK(retry_backoff_ms(&bo, 1, RETRY_TRANSIENT, r) <= 100);
        CHECK(retry_backoff_ms(&bo, 2, RETRY_TRANSIENT, r) <= 200);
        CHECK(retry_backoff_ms(&bo, 1, RETRY_THROTTLE, r) <= 500);
        CHECK(retry_backoff_ms(&bo, 30, RETRY_TRANSIENT, r * 977u) <= 20000);
    }
    CHECK(retry_backoff_ms(&bo, 2, RETRY_TRANSIENT, 200) == 200);
    CHECK(retry_backoff_ms(&bo, 2, RETRY_TRANSIENT, 201) == 0);

    struct retry_quota q;
    retry_quota_init(&q, 20);
    CHECK(retry_quota_acquire(&q, RETRY_TRANSIENT) == 5);
    CHECK(retry_quota_acquire(&q, RETRY_TIMEOUT) == 10);
    CHECK(q.available == 5);
    CHECK(retry_quota_acquire(&q, RETRY_TIMEOUT) == 0);
    CHECK(retry_quota_acquire(&q, RETRY_THROTTLE) == 5);
    CHECK(retry_quota_acquire(&q, RETRY_THROTTLE) == 0);
    retry_quota_release(&q, 10); /* success after a retry refunds its cost */
    CHECK(q.available == 10);
    retry_quota_release(&q, 0); /* success without retry: +1 */
    CHECK(q.available == 11);
    for (int i = 0; i < 100; i++)
        retry_quota_release(&q, 5);
    CHECK(q.available == 20);

    CHECK(retry_after_ms("7") == 7000);
    CHECK(retry_after_ms("0") == 0);
    CHECK(retry_after_ms(NULL) == -1);
    CHECK(retry_after_ms("") == -1);
    CHECK(retry_after_ms("-1") == -1);
    CHECK(retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT") == -1);
    CHECK(retry_after_ms("99999999999") == 86400000);
    return TEST_EXIT();
}
