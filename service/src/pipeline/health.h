/*
 * health - liveness and readiness. Written by the gateway, read by the
 * frontends; all on the loop.
 *
 * Ready = config loaded, credentials resolved and usable, circuit breaker
 * not open, both listeners accepting, and not shutting down. On SIGTERM
 * readiness goes false first; draining follows.
 */
#ifndef BGW_HEALTH_H
#define BGW_HEALTH_H

#include <stdbool.h>

struct health {
    bool config_loaded;
    bool credentials_ok;
    bool breaker_closed;
    bool listeners_ok; /* false while a listener cannot accept (listener.h) */
    bool shutting_down;
};

void health_init(struct health *h);
bool health_ready(const struct health *h);
/* Why not ready ("shutting down", "credentials", "breaker", "config",
 * "listener"), or "ready". Static. */
const char *health_reason(const struct health *h);

#endif
