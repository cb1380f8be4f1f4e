/*
 * health - see health.h.
 */
#include "health.h"

void health_init(struct health *h)
{
    atomic_init(&h->config_loaded, false);
    atomic_init(&h->credentials_ok, false);
    atomic_init(&h->breaker_closed, true);
    atomic_init(&h->shutting_down, false);
}

const char *health_reason(const struct health *h)
{
    if (atomic_load(&h->shutting_down))
        return "shutting down";
    if (!atomic_load(&h->config_loaded))
        return "config not loaded";
    if (!atomic_load(&h->credentials_ok))
        return "AWS credentials not resolved";
    if (!atomic_load(&h->breaker_closed))
        return "upstream circuit breaker open";
    return "ready";
}

bool health_ready(const struct health *h)
{
    return !atomic_load(&h->shutting_down) && atomic_load(&h->config_loaded) &&
           atomic_load(&h->credentials_ok) && atomic_load(&h->breaker_closed);
}
