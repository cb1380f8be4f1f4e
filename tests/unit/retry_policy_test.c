/*
 * retry_policy_test - classification (throttle / transient / timeout /
 * credentials / none), full-jitter bounds, the retry quota's costs and
 * refunds, Retry-After parsing (delta-seconds and HTTP-dates against a
 * fixed now).
 */
#include "retry_policy.h"
#include "test_util.h"

/* retry_plan: every way a failed attempt ends or continues, no I/O. */
static void test_plan(void)
{
    struct retry_plan_input in = {
        .cls = RETRY_TRANSIENT,
        .attempts = 1,
        .max_attempts = 3,
        .credentials_refreshable = true,
        .backoff_ms = 80,
        .retry_after_ms = -1,
        .max_retry_after_ms = 5000,
        .now_ms = 1000,
        .deadline_ms = 0,
        .min_attempt_ms = 50,
        .deadline_margin_ms = 20,
    };
    int64_t d = -1;
    CHECK(retry_plan(&in, &d) == RETRY_AFTER_DELAY && d == 80);
    in.retry_after_ms = 300; /* a longer Retry-After wins */
    CHECK(retry_plan(&in, &d) == RETRY_AFTER_DELAY && d == 300);
    in.retry_after_ms = 10; /* a shorter one does not shorten the backoff */
    CHECK(retry_plan(&in, &d) == RETRY_AFTER_DELAY && d == 80);
    in.retry_after_ms = 6000; /* beyond what we wait: the client is told */
    CHECK(retry_plan(&in, &d) == RETRY_GIVE_UP && d == 0);
    in.retry_after_ms = -1;
    in.deadline_ms = 1000 + 80 + 50 + 20; /* exactly no room left */
    CHECK(retry_plan(&in, &d) == RETRY_GIVE_UP);
    in.deadline_ms += 1;
    CHECK(retry_plan(&in, &d) == RETRY_AFTER_DELAY);
    in.deadline_ms = 0;
    in.attempts = 3; /* all attempts used */
    CHECK(retry_plan(&in, &d) == RETRY_GIVE_UP);
    in.attempts = 1;
    in.cls = RETRY_NONE; /* a 4xx a retry cannot fix */
    CHECK(retry_plan(&in, &d) == RETRY_GIVE_UP);
    in.cls = RETRY_CREDENTIALS; /* refresh once, if the source can */
    CHECK(retry_plan(&in, &d) == RETRY_REFRESH_CREDENTIALS);
    in.forced_refresh_done = true;
    CHECK(retry_plan(&in, &d) == RETRY_GIVE_UP);
    in.forced_refresh_done = false;
    in.credentials_refreshable = false;
    CHECK(retry_plan(&in, &d) == RETRY_GIVE_UP);
    in.cls = RETRY_THROTTLE;
    in.max_attempts = 1; /* retries off */
    CHECK(retry_plan(&in, &d) == RETRY_GIVE_UP);
}

int main(void)
{
    test_plan();
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

    CHECK(retry_after_ms("7", 0) == 7000);
    CHECK(retry_after_ms("0", 0) == 0);
    CHECK(retry_after_ms(NULL, 0) == -1);
    CHECK(retry_after_ms("", 0) == -1);
    CHECK(retry_after_ms("  ", 0) == -1);
    CHECK(retry_after_ms("-1", 0) == -1);
    CHECK(retry_after_ms("7s", 0) == -1);
    CHECK(retry_after_ms(" 7 ", 0) == 7000);
    CHECK(retry_after_ms("99999999999", 0) == 86400000);

    /* HTTP-date, against a fixed now: 1999-12-31T23:59:50.250Z. */
    const int64_t now = 946684790250LL;
    CHECK(retry_after_ms("Fri, 31 Dec 1999 23:59:59 GMT", now) == 8750);
    CHECK(retry_after_ms(" Fri, 31 Dec 1999 23:59:59 GMT\t", now) == 8750);
    CHECK(retry_after_ms("Friday, 31-Dec-99 23:59:59 GMT", now) == 8750); /* RFC 850 */
    CHECK(retry_after_ms("Fri Dec 31 23:59:59 1999", now) == 8750);       /* asctime */
    CHECK(retry_after_ms("Sat Jan  1 00:00:00 2000", now) == 9750);
    /* past -> 0 (retry now); far future -> the 1-day cap */
    CHECK(retry_after_ms("Fri, 31 Dec 1999 23:59:50 GMT", now) == 0);
    CHECK(retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT", 1445412480000LL + 1) == 0);
    CHECK(retry_after_ms("Thu, 01 Jan 1970 00:00:00 GMT", now) == 0);
    CHECK(retry_after_ms("Fri, 31 Dec 9999 23:59:59 GMT", now) == 86400000);
    CHECK(retry_after_ms("Sat, 01 Jan 2000 00:00:00 GMT", now) == 9750);
    /* no clock given: a date is not usable */
    CHECK(retry_after_ms("Fri, 31 Dec 1999 23:59:59 GMT", 0) == -1);
    /* junk and near misses */
    const char *junk[] = {
        "Fri, 31 Dec 1999 23:59:59 UTC",
        "fri, 31 Dec 1999 23:59:59 GMT",
        "Fri, 31 dec 1999 23:59:59 GMT",
        "Fri, 32 Dec 1999 23:59:59 GMT",
        "Mon, 29 Feb 2021 00:00:00 GMT",
        "Fri, 31 Dec 1999 24:00:00 GMT",
        "Fri, 31 Dec 1999 23:60:00 GMT",
        "Fri, 1 Dec 1999 23:59:59 GMT",
        "Fri,  31 Dec 1999 23:59:59 GMT",
        "Fri, 31 Dec 1999 23:59:59 GMTX",
        "Fri, 31 Dec 99 23:59:59 GMT",
        "Fri Dec 31 23:59:59 99",
        "Friday, 31-Dec-1999 23:59:59 GMT",
        "soon",
        "Fri",
        "1999-12-31T23:59:59Z",
        "Fri, 31 Dec 1999 23:59:59 GMT and more text that is long enough to be refused",
    };
    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
        if (!CHECK(retry_after_ms(junk[i], now) == -1))
            fprintf(stderr, "  accepted: %s\n", junk[i]);
    }
    /* leap second reads as :59; leap day is fine */
    CHECK(retry_after_ms("Fri, 31 Dec 1999 23:59:60 GMT", now) == 8750);
    CHECK(retry_after_ms("Tue, 29 Feb 2000 00:00:00 GMT", now) == 86400000);
    return TEST_EXIT();
}
