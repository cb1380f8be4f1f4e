/*
 * retry_policy - the AWS SDKs' "standard" retry mode, I/O-free:
 *   - which upstream outcomes are retryable (throttling, 5xx, transport
 *     errors and timeouts) and which mean "the credentials are stale"
 *     (ExpiredToken / InvalidSignature class: one forced refresh, one retry);
 *   - exponential backoff with full jitter, capped;
 *   - the client-wide retry quota (a token bucket: 500 tokens, a retry costs
 *     5, a retry after a timeout/transport error 10, a success refunds what
 *     its retry cost or 1 when it needed none), so a failing upstream is not
 *     hammered by every caller's retries;
 *   - Retry-After parsing.
 * Randomness and time come in as arguments. Loop thread only.
 */
#ifndef BGW_RETRY_POLICY_H
#define BGW_RETRY_POLICY_H

#include <stdbool.h>
#include <stdint.h>

enum retry_class {
    RETRY_NONE = 0,    /* success, or an error a retry cannot fix (4xx) */
    RETRY_THROTTLE,    /* 429 / Throttling*: retry, throttle base delay */
    RETRY_TRANSIENT,   /* 5xx, connection failures */
    RETRY_TIMEOUT,     /* the attempt's own timeout expired */
    RETRY_CREDENTIALS, /* ExpiredToken / InvalidSignature class (403/400) */
};

/* outcome: 0 = HTTP response, 1 = timeout, 2 = transport (as upstream_http).
 * error_type: x-amzn-ErrorType (text before ':') or the body's code, or NULL. */
enum retry_class retry_classify(int outcome, long http_status, const char *error_type);
const char *retry_class_str(enum retry_class c);
/* Counts against the circuit breaker (upstream looks down). */
bool retry_class_is_failure(enum retry_class c);

#define RETRY_QUOTA_DEFAULT 500
#define RETRY_COST 5
#define RETRY_TIMEOUT_COST 10
#define RETRY_NO_RETRY_INCREMENT 1

struct retry_quota {
    int capacity;
    int available;
};
void retry_quota_init(struct retry_quota *q, int capacity);
/* Takes the cost of retrying after class c; returns the cost (> 0), or 0
 * when the quota cannot pay (then do not retry). */
int retry_quota_acquire(struct retry_quota *q, enum retry_class c);
/* After a successful exchange: refunds cost (what the retry that led to it
 * took), or RETRY_NO_RETRY_INCREMENT when cost is 0. */
void retry_quota_release(struct retry_quota *q, int cost);

struct retry_backoff {
    int64_t base_ms;          /* first retry's cap (doubling each time) */
    int64_t throttle_base_ms; /* same for throttling errors */
    int64_t max_ms;           /* cap on any delay */
};
/* Full jitter: a uniform delay in [0, min(max, base * 2^(retry-1))], retry
 * = 1 for the first retry. rnd is any 32-bit random value. */
int64_t retry_backoff_ms(const struct retry_backoff *b, int retry, enum retry_class c,
                         uint32_t rnd);

/* Retry-After header value (RFC 9110 section 10.2.3) as a delay in ms:
 * delta-seconds ("7"), or an HTTP-date (IMF-fixdate, also the obsolete RFC
 * 850 and asctime forms; timeutil_parse_http_date) measured against now_ms,
 * the wall clock in ms since the epoch (a date already past -> 0). Blanks
 * around the value are ignored. -1 when absent or neither form, or for a
 * date when now_ms <= 0 (no clock given). Capped at 1 day. */
#define RETRY_AFTER_MAX_MS 86400000LL
int64_t retry_after_ms(const char *value, int64_t now_ms);

/* What to do after a failed attempt, decided without I/O: give up, retry
 * after *delay_ms, or refresh the credentials first (once per call). */
enum retry_decision {
    RETRY_GIVE_UP = 0,
    RETRY_AFTER_DELAY,
    RETRY_REFRESH_CREDENTIALS,
};

struct retry_plan_input {
    enum retry_class cls;
    int attempts;     /* made so far (>= 1) */
    int max_attempts; /* per call, the first included */
    bool forced_refresh_done;
    bool credentials_refreshable;
    int64_t backoff_ms;         /* this retry's jittered backoff (retry_backoff_ms) */
    int64_t retry_after_ms;     /* the server's Retry-After, or -1 */
    int64_t max_retry_after_ms; /* a longer Retry-After: give up, the client is told */
    int64_t now_ms;
    int64_t deadline_ms;        /* 0 = none */
    int64_t min_attempt_ms;     /* an attempt needs at least this much time left */
    int64_t deadline_margin_ms; /* kept free before the deadline */
};

/* The decision for in; *delay_ms is set for RETRY_AFTER_DELAY (the longer
 * of the backoff and Retry-After). The retry quota is the caller's. */
enum retry_decision retry_plan(const struct retry_plan_input *in, int64_t *delay_ms);

#endif
