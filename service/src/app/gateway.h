/*
 * gateway - the wiring of one running gateway: the loop thread's
 * event_base, the upstream HTTP client, both frontends, signal handling and
 * graceful drain, live config reload (SIGHUP), per-tenant rate limits, and
 * the access log. It owns every piece of mutable state, all touched on the
 * loop thread (gateway_run's thread): the process has no other thread.
 */
#ifndef BGW_GATEWAY_H
#define BGW_GATEWAY_H

#include "buf.h"
#include "config.h"
#include "credentials.h"

struct gateway;

struct gateway_options {
    const struct config *cfg;                 /* outlives the gateway */
    struct credentials_provider *credentials; /* outlives the gateway */
    const char *config_path;                  /* re-read on SIGHUP; NULL = no reload */
    const struct config_env *env;             /* for reloads; outlives the gateway */
};

/* Creates the loop and binds both listeners. NULL with a reason in err. */
struct gateway *gateway_new(const struct gateway_options *opts, struct buf *err);
/* Logs the ready line, serves until SIGTERM/SIGINT, then drains: stops
 * accepting, lets in-flight calls finish for up to shutdown_grace_ms, answers
 * any left with UNAVAILABLE. Returns 0 after a clean stop.
 * SIGHUP reloads config_path (config_ref.h says what applies): new calls use
 * the new config, calls in flight finish on the one they started with;
 * rate-limit buckets carry over for tenants that still exist. An invalid
 * file is logged ("reload_failed", naming file, key and problem) and the
 * running config stays. The file is read on the loop thread (a blocking
 * read of a small local file, once per signal). */
int gateway_run(struct gateway *g);
void gateway_destroy(struct gateway *g);

#endif
