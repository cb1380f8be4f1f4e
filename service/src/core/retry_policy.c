/*
 * retry_policy - see retry_policy.h. No I/O, no clock, no global state.
 */
#include "retry_policy.h"

#include <string.h>

#include "timeutil.h"

static bool s_in(const char *s, const char *const *list)
{
    for (; *list; list++) {
        if (strcmp(s, *list) == 0)
            return true;
    }
    return false;
}

/* As in the AWS SDKs' standard mode. */
static const char *const s_throttle_codes[] = {"Throttling",
                                               "ThrottlingException",
                                               "ThrottledException",
                                               "RequestThrottledException",
                                               "TooManyRequestsException",
                                               "ProvisionedThroughputExceededException",
                                               "TransactionInProgressException",
                                               "RequestLimitExceeded",
                                               "BandwidthLimitExceeded",
                                               "LimitExceededException",
                                               "RequestThrottled",
                                               "SlowDown",
                                               "PriorRequestNotComplete",
                                               "EC2ThrottledException",
                                               NULL};
static const char *const s_transient_codes[] = {"RequestTimeout",     "RequestTimeoutException",
                                                "InternalError",      "InternalFailure",
                                                "ServiceUnavailable", NULL};
static const char *const s_credential_codes[] = {"ExpiredToken",
                                                 "ExpiredTokenException",
                                                 "InvalidSignatureException",
                                                 "SignatureDoesNotMatch",
                                                 "RequestExpired",
                                                 "InvalidClientTokenId",
                                                 "UnrecognizedClientException",
                                                 "InvalidAccessKeyId",
                                                 "AuthFailure",
                                                 NULL};

enum retry_class retry_classify(int outcome, long http_status, const char *error_type)
{
    if (outcome == 1)
        return RETRY_TIMEOUT;
    if (outcome != 0)
        return RETRY_TRANSIENT;
    if (http_status >= 200 && http_status < 300)
        return RETRY_NONE;
    if (error_type && *error_type) {
        if (s_in(error_type, s_throttle_codes))
            return RETRY_THROTTLE;
        if (s_in(error_type, s_credential_codes) &&
            (http_status == 403 || http_status == 400 || http_status == 401))
            return RETRY_CREDENTIALS;
        if (s_in(error_type, s_transient_codes))
            return RETRY_TRANSIENT;
    }
    if (http_status == 429)
        return RETRY_THROTTLE;
    if (http_status == 500 || http_status == 502 || http_status == 503 || http_status == 504)
        return RETRY_TRANSIENT;
    return RETRY_NONE;
}

const char *retry_class_str(enum retry_class c)
{
    switch (c) {
    case RETRY_NONE:
        return "none";
    case RETRY_THROTTLE:
        return "throttle";
    case RETRY_TRANSIENT:
        return "transient";
    case RETRY_TIMEOUT:
        return "timeout";
    case RETRY_CREDENTIALS:
        return "credentials";
    }
    return "unknown";
}

bool retry_class_is_failure(enum retry_class c)
{
    return c == RETRY_TRANSIENT || c == RETRY_TIMEOUT;
}

void retry_quota_init(struct retry_quota *q, int capacity)
{
    q->capacity = capacity > 0 ? capacity : 0;
    q->available = q->capacity;
}

int retry_quota_acquire(struct retry_quota *q, enum retry_class c)
{
    /* A timeout costs more: the upstream may be gone, not just busy. */
    int cost = c == RETRY_TIMEOUT ? RETRY_TIMEOUT_COST : RETRY_COST;
    if (q->available < cost)
        return 0;
    q->available -= cost;
    return cost;
}

void retry_quota_release(struct retry_quota *q, int cost)
{
    q->available += cost > 0 ? cost : RETRY_NO_RETRY_INCREMENT;
    if (q->available > q->capacity)
        q->available = q->capacity;
}

int64_t retry_backoff_ms(const struct retry_backoff *b, int retry, enum retry_class c, uint32_t rnd)
{
    int64_t cap = c == RETRY_THROTTLE ? b->throttle_base_ms : b->base_ms;
    if (cap < 0)
        cap = 0;
    for (int i = 1; i < retry && cap < b->max_ms; i++)
        cap *= 2;
    if (cap > b->max_ms)
        cap = b->max_ms;
    if (cap <= 0)
        return 0;
    return (int64_t)((uint64_t)rnd % (uint64_t)(cap + 1));
}

int64_t retry_after_ms(const char *value, int64_t now_ms)
{
    if (!value)
        return -1;
    while (*value == ' ' || *value == '\t')
        value++;
    size_t n = strlen(value);
    while (n > 0 && (value[n - 1] == ' ' || value[n - 1] == '\t'))
        n--;
    if (n == 0)
        return -1;
    if (value[0] >= '0' && value[0] <= '9') {
        int64_t s = 0;
        for (size_t i = 0; i < n; i++) {
            if (value[i] < '0' || value[i] > '9')
                return -1;
            s = s * 10 + (value[i] - '0');
            if (s > RETRY_AFTER_MAX_MS / 1000)
                s = RETRY_AFTER_MAX_MS / 1000;
        }
        return s * 1000;
    }
    char date[64];
    int64_t at_s;
    if (now_ms <= 0 || n >= sizeof(date))
        return -1;
    memcpy(date, value, n);
    date[n] = '\0';
    if (timeutil_parse_http_date(date, &at_s) != 0)
        return -1;
    /* at_s is within years 1..9999, so at_s * 1000 cannot overflow. */
    int64_t d = at_s * 1000 - now_ms;
    if (d < 0)
        return 0;
    return d > RETRY_AFTER_MAX_MS ? RETRY_AFTER_MAX_MS : d;
}

enum retry_decision retry_plan(const struct retry_plan_input *in, int64_t *delay_ms)
{
    *delay_ms = 0;
    if (in->cls == RETRY_CREDENTIALS)
        return !in->forced_refresh_done && in->credentials_refreshable ? RETRY_REFRESH_CREDENTIALS
                                                                       : RETRY_GIVE_UP;
    if (in->cls == RETRY_NONE || in->attempts >= in->max_attempts)
        return RETRY_GIVE_UP;
    int64_t delay = in->backoff_ms;
    if (in->retry_after_ms >= 0) {
        if (in->retry_after_ms > in->max_retry_after_ms)
            return RETRY_GIVE_UP;
        if (in->retry_after_ms > delay)
            delay = in->retry_after_ms;
    }
    if (in->deadline_ms > 0 &&
        in->now_ms + delay + in->min_attempt_ms >= in->deadline_ms - in->deadline_margin_ms)
        return RETRY_GIVE_UP;
    *delay_ms = delay;
    return RETRY_AFTER_DELAY;
}
