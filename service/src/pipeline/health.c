/*
 * health - see health.h.
 */
#include "health.h"

void health_init(struct health *h)
{
    h->config_loaded = false;
    h->credentials_ok = false;
    h->breaker_closed = true;
    h->listeners_ok = true;
    h->shutting_down = false;
}

const char *health_reason(const struct health *h)
{
    if (h->shutting_down)
        return "shutting down";
    if (!h->config_loaded)
        return "config not loaded";
    if (!h->credentials_ok)
        return "AWS credentials not resolved";
    if (!h->breaker_closed)
        return "upstream circuit breaker open";
    if (!h->listeners_ok)
        return "a listener cannot accept connections";
    return "ready";
}

bool health_ready(const struct health *h)
{
    return !h->shutting_down && h->config_loaded && h->credentials_ok && h->breaker_closed &&
           h->listeners_ok;
}
