/*
 * breaker - see breaker.h. No I/O, no clock.
 */
#include "breaker.h"

void breaker_init(struct breaker *b, int threshold, int64_t cooldown_ms)
{
    b->threshold = threshold;
    b->cooldown_ms = cooldown_ms > 0 ? cooldown_ms : 1;
    b->state = BREAKER_CLOSED;
    b->failures = 0;
    b->opened_at_ms = 0;
    b->probe_in_flight = false;
    b->opens = 0;
}

enum breaker_state breaker_state_at(const struct breaker *b, int64_t now_ms)
{
    if (b->state == BREAKER_OPEN && now_ms - b->opened_at_ms >= b->cooldown_ms)
        return BREAKER_HALF_OPEN;
    return b->state;
}

const char *breaker_state_str(enum breaker_state s)
{
    switch (s) {
    case BREAKER_CLOSED:
        return "closed";
    case BREAKER_OPEN:
        return "open";
    case BREAKER_HALF_OPEN:
        return "half_open";
    }
    return "unknown";
}

bool breaker_allow(struct breaker *b, int64_t now_ms, bool *is_probe, int64_t *retry_in_ms)
{
    *is_probe = false;
    *retry_in_ms = 0;
    b->state = breaker_state_at(b, now_ms);
    if (b->state == BREAKER_CLOSED)
        return true;
    if (b->state == BREAKER_HALF_OPEN && !b->probe_in_flight) {
        b->probe_in_flight = true;
        *is_probe = true;
        return true;
    }
    int64_t left = b->state == BREAKER_OPEN ? b->opened_at_ms + b->cooldown_ms - now_ms : 1;
    *retry_in_ms = left > 0 ? left : 1;
    return false;
}

static void s_open(struct breaker *b, int64_t now_ms)
{
    b->state = BREAKER_OPEN;
    b->opened_at_ms = now_ms;
    b->failures = 0;
    b->opens++;
}

bool breaker_record(struct breaker *b, bool success, bool was_probe, int64_t now_ms)
{
    if (was_probe) {
        b->probe_in_flight = false;
        if (success) {
            b->state = BREAKER_CLOSED;
            b->failures = 0;
        } else {
            s_open(b, now_ms);
        }
        return true;
    }
    if (b->state != BREAKER_CLOSED)
        return false; /* a straggler admitted before it opened */
    if (success) {
        b->failures = 0;
        return false;
    }
    b->failures++;
    if (b->threshold > 0 && b->failures >= b->threshold) {
        s_open(b, now_ms);
        return true;
    }
    return false;
}

void breaker_probe_abandoned(struct breaker *b)
{
    b->probe_in_flight = false;
}
