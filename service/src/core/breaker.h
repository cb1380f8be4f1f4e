/*
 * breaker - a circuit breaker for the upstream. After `threshold`
 * consecutive failed exchanges (5xx, transport errors, timeouts; never 4xx
 * or throttling, which prove Bedrock is up) it opens: calls fail fast for
 * cooldown_ms. Then it is half-open: exactly one call (the probe) goes
 * through; its success closes the breaker, its failure opens it for another
 * cool-down. A probe that is abandoned (cancelled) lets the next call probe.
 *
 * Caller-owned storage; no I/O, no clock (now_ms comes in). Loop thread only.
 */
#ifndef BGW_BREAKER_H
#define BGW_BREAKER_H

#include <stdbool.h>
#include <stdint.h>

enum breaker_state {
    BREAKER_CLOSED = 0,
    BREAKER_OPEN,      /* failing fast until opened_at_ms + cooldown_ms */
    BREAKER_HALF_OPEN, /* cool-down over: one probe allowed */
};

struct breaker {
    int threshold; /* consecutive failures that open it; <= 0 = never opens */
    int64_t cooldown_ms;
    enum breaker_state state;
    int failures; /* consecutive, while closed */
    int64_t opened_at_ms;
    bool probe_in_flight;
    uint64_t opens; /* times it opened (for logs/tests) */
};

void breaker_init(struct breaker *b, int threshold, int64_t cooldown_ms);

/* May a call go upstream now? true: yes (*is_probe says whether it is the
 * half-open probe, whose outcome must be reported with was_probe). false:
 * fail fast; *retry_in_ms is the time left in the cool-down (>= 1). */
bool breaker_allow(struct breaker *b, int64_t now_ms, bool *is_probe, int64_t *retry_in_ms);

/* Reports the outcome of an exchange that breaker_allow admitted. Returns
 * true when this report changed the state (opened or closed it). */
bool breaker_record(struct breaker *b, bool success, bool was_probe, int64_t now_ms);

/* The probe will not report (cancelled): the next call may probe. */
void breaker_probe_abandoned(struct breaker *b);

/* The state as of now_ms (OPEN turns HALF_OPEN once the cool-down is over). */
enum breaker_state breaker_state_at(const struct breaker *b, int64_t now_ms);
const char *breaker_state_str(enum breaker_state s);

#endif
