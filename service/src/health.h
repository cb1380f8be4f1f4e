/*
 * health - liveness and readiness, shared between the loop (which writes)
 * and the frontends (REST on the loop, gRPC health on its CQ thread, which
 * read). Plain atomics, no locks.
 *
 * Ready = config loaded, credentials resolved and usable, circuit breaker
 * not open, and not shutting down. On SIGTERM readiness goes false first;
 * draining follows.
 */
#ifndef BGW_HEALTH_H
#define BGW_HEALTH_H

#include <stdatomic.h>
#include <stdbool.h>

struct health {
    atomic_bool config_loaded;
    atomic_bool credentials_ok;
    atomic_bool breaker_closed;
    atomic_bool shutting_down;
};

void health_init(struct health *h);
bool health_ready(const struct health *h);
/* Why not ready ("shutting down", "credentials", "breaker", "config"), or
 * "ready". Static. */
const char *health_reason(const struct health *h);

#endif
