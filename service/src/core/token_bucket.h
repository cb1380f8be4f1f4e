/*
 * token_bucket - a rate limiter: tokens accrue at rate_per_s up to burst and
 * each admitted unit of work takes one. Used for the global upstream rate
 * limit (config upstream.rate_per_s / upstream.burst).
 *
 * Caller-owned storage, no I/O, no clock: every call takes now_ms (any
 * monotonic clock), so tests drive time by hand. Not thread-safe: the loop
 * thread owns it.
 */
#ifndef BGW_TOKEN_BUCKET_H
#define BGW_TOKEN_BUCKET_H

#include <stdbool.h>
#include <stdint.h>

struct token_bucket {
    double rate_per_ms; /* 0 = unlimited */
    double capacity;
    double tokens;
    int64_t last_ms;
};

/* rate_per_s <= 0 makes a bucket that always admits. burst < 1 is taken as
 * 1. The bucket starts full. */
void token_bucket_init(struct token_bucket *b, double rate_per_s, double burst, int64_t now_ms);

/* Takes one token if there is one; true when taken. */
bool token_bucket_take(struct token_bucket *b, int64_t now_ms);

/* Milliseconds until a token will be there (0 = now). */
int64_t token_bucket_wait_ms(struct token_bucket *b, int64_t now_ms);

#endif
