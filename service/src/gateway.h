/*
 * gateway - the wiring of one running gateway: the loop thread's
 * event_base, the upstream HTTP client, both frontends, signal handling and
 * graceful drain, and the access log. It owns every piece of mutable state;
 * all of it is touched only on the loop thread (gateway_run's thread).
 */
#ifndef BGW_GATEWAY_H
#define BGW_GATEWAY_H

#include "buf.h"
#include "config.h"
#include "credentials.h"

struct gateway;

struct gateway_options {
    const struct config *cfg;                /* outlives the gateway */
    struct credentials_provider *credentials; /* outlives the gateway */
};

/* Creates the loop and binds both listeners. NULL with a reason in err. */
struct gateway *gateway_new(const struct gateway_options *opts, struct buf *err);
/* Logs the ready line, serves until SIGTERM/SIGINT, then drains: stops
 * accepting, lets in-flight calls finish for up to shutdown_grace_ms, answers
 * any left with UNAVAILABLE. Returns 0 after a clean stop. */
int gateway_run(struct gateway *g);
void gateway_destroy(struct gateway *g);

#endif
