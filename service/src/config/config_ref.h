/*
 * config_ref - a reference-counted configuration snapshot, for live reload.
 *
 * The gateway holds one "current" snapshot; every call takes a reference
 * when it starts and drops it when its reply has been sent, so a reload
 * (SIGHUP) swaps the current snapshot for new calls while calls already
 * running finish on the config they started with (their tenant pointer
 * points into it). The last reference frees the snapshot.
 *
 * What a reload applies (config_ref_restart_keys lists the rest):
 *   tenants[*] (ids, api_keys, mtls_subjects, rate_limit, policy and any
 *   other per-tenant key), tokens (see config_ref_carry_tokens),
 *   http.cors_*, http.openapi_enabled, gateway.default_page_size and
 *   gateway.max_upstream_calls_per_request.
 * Listener addresses, TLS files, HTTP/gRPC limits, aws.*, credentials.*,
 * upstream.*, cache.* (the response cache is built once), http.metrics_enabled
 * and gateway.max_inflight / shutdown_grace_ms /
 * shutdown_unready_ms / log_level are read once at start: changing them
 * needs a restart.
 *
 * Loop thread only (the gateway has one thread).
 */
#ifndef BGW_CONFIG_REF_H
#define BGW_CONFIG_REF_H

#include <stdbool.h>

#include "buf.h"
#include "config.h"

struct config_ref {
    const struct config *cfg;
    struct config owned; /* storage when the snapshot owns its config */
    bool is_owned;
    int refs;
    unsigned long generation; /* 0 = the config the gateway started with */
};

/* A snapshot of cfg, which the caller keeps alive and frees (the startup
 * config, owned by main). One reference. NULL on allocation failure. */
struct config_ref *config_ref_borrow(const struct config *cfg);
/* Loads path into a new owning snapshot (one reference); NULL with
 * "<path>: <key>: <problem>" in err. Blocking file read: meant for a small
 * file on local disk. */
struct config_ref *config_ref_load(const char *path, const struct config_env *env,
                                   unsigned long generation, struct buf *err);
struct config_ref *config_ref_acquire(struct config_ref *r);
/* Drops one reference; frees at zero. NULL is a no-op. */
void config_ref_release(struct config_ref *r);

/* Appends to out (", "-separated) the keys that differ between running and
 * next but only take effect at a restart. Returns how many. */
int config_ref_restart_keys(const struct config *running, const struct config *next,
                            struct buf *out);

/* Page-token keys across a reload, so walks in progress survive it. A
 * configured tokens.secret / previous_secret is used as the file says (an
 * operator's rotation or revocation). Without one, config_load made a fresh
 * random secret; instead next keeps the running config's random secret (the
 * one made at start), or, if running had a configured secret, accepts that
 * one as the previous secret. A secret configured for the first time
 * accepts the running random secret as the previous one unless the file
 * names its own previous_secret. next must be an owned snapshot (from
 * config_ref_load) not yet in use. */
void config_ref_carry_tokens(struct config_ref *next, const struct config *running);

#endif
