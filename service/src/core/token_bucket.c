/*
 * token_bucket - see token_bucket.h. No I/O, no clock.
 */
#include "token_bucket.h"

static void s_refill(struct token_bucket *b, int64_t now_ms)
{
    if (now_ms > b->last_ms) {
        b->tokens += (double)(now_ms - b->last_ms) * b->rate_per_ms;
        if (b->tokens > b->capacity)
            b->tokens = b->capacity;
        b->last_ms = now_ms;
    }
}

void token_bucket_init(struct token_bucket *b, double rate_per_s, double burst, int64_t now_ms)
{
    b->rate_per_ms = rate_per_s > 0 ? rate_per_s / 1000.0 : 0;
    b->capacity = burst < 1 ? 1 : burst;
    b->tokens = b->capacity;
    b->last_ms = now_ms;
}

bool token_bucket_take(struct token_bucket *b, int64_t now_ms)
{
    if (b->rate_per_ms <= 0)
        return true;
    s_refill(b, now_ms);
    if (b->tokens < 1.0)
        return false;
    b->tokens -= 1.0;
    return true;
}

int64_t token_bucket_wait_ms(struct token_bucket *b, int64_t now_ms)
{
    if (b->rate_per_ms <= 0)
        return 0;
    s_refill(b, now_ms);
    if (b->tokens >= 1.0)
        return 0;
    double ms = (1.0 - b->tokens) / b->rate_per_ms;
    int64_t w = (int64_t)ms;
    return (double)w < ms ? w + 1 : w;
}
