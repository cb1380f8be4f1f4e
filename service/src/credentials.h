/*
 * credentials - where the gateway's AWS credentials come from.
 *
 * A credentials_provider yields the current credentials on the loop thread.
 * Today there is one source, the environment (AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN); the provider interface is the
 * seam where a chain (profile files, web identity, container/IMDS, with
 * refresh before expiry) plugs in without touching callers: they ask for
 * credentials each time they sign and never cache them.
 *
 * Secrets are wiped on destroy. Nothing here logs or formats a secret; the
 * access key id is not secret but is only ever logged truncated.
 */
#ifndef BGW_CREDENTIALS_H
#define BGW_CREDENTIALS_H

#include <stdint.h>

#include "status.h"

struct credentials {
    char *access_key_id;
    char *secret_access_key;
    char *session_token;   /* NULL when none */
    int64_t expires_at_ms; /* 0 = does not expire */
    const char *source;    /* static: "environment" */
};

/* Environment lookup, injectable for tests (getenv in production). */
typedef const char *(*credentials_getenv_fn)(const char *name);

struct credentials_provider;

/* Reads the environment once. Returns NULL with err (UNAVAILABLE, naming the
 * missing variable) when no usable credentials are set. */
struct credentials_provider *credentials_provider_env_new(credentials_getenv_fn getenv_fn,
                                                          struct bgw_error *err);
void credentials_provider_destroy(struct credentials_provider *p);

/* The credentials to sign with now; borrowed, valid until the next call on
 * the same (loop) thread. NULL with err when none are usable (e.g.
 * expired). */
const struct credentials *credentials_provider_current(struct credentials_provider *p,
                                                       int64_t now_ms, struct bgw_error *err);

/* Source name for logs ("environment"). */
const char *credentials_provider_name(const struct credentials_provider *p);

#endif
