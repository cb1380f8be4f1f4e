/*
 * auth - who is calling: an API key, a verified client certificate, or
 * both, resolved to one tenant. I/O-free; the frontends collect the
 * credentials (headers/metadata and the TLS peer's names), the handler calls
 * auth_resolve first, before anything else about the request is looked at.
 *
 * Rules (docs/security.md). Certificate identities are in force
 * when at least one tenant lists mtls_subjects; otherwise a client
 * certificate only gates the transport (grpc.tls / http.tls) and the API key
 * alone names the tenant, as without mTLS.
 *  - A verified client certificate whose names match a tenant's
 *    mtls_subjects stands in for an API key.
 *  - A verified certificate that matches no tenant -> UNAUTHENTICATED, even
 *    when an API key is sent too (a presented credential must be valid).
 *  - A certificate matching subjects of two different tenants ->
 *    UNAUTHENTICATED (ambiguous; the config loader forbids listing one
 *    subject twice, but one certificate can carry two names).
 *  - Certificate and API key both presented: the key must be valid and name
 *    the same tenant, else UNAUTHENTICATED ("... name different tenants").
 *  - No certificate: the API key alone, as before.
 */
#ifndef BGW_AUTH_H
#define BGW_AUTH_H

#include "peer_identity.h"
#include "tenant.h"

enum auth_method { AUTH_NONE = 0, AUTH_API_KEY, AUTH_MTLS, AUTH_MTLS_AND_API_KEY, AUTH_SIGV4 };

struct auth_input {
    const char *authorization;        /* header/metadata value or NULL */
    const char *x_api_key;            /* header/metadata value or NULL */
    const struct peer_identity *peer; /* NULL or no cert = no certificate */
    bool key_repeated;                /* a key header came twice: refused */
};

/* The tenant for in, or NULL with *reason (static, safe to show: never
 * contains key material). *method says what authenticated the call. */
const struct tenant *auth_resolve(const struct tenant_table *t, const struct auth_input *in,
                                  enum auth_method *method, const char **reason);

/* "api_key", "mtls", "mtls+api_key", "none" - for the access log. */
const char *auth_method_str(enum auth_method m);

/* The tenant whose mtls_subjects match peer's names: NULL when none does
 * (*ambiguous = false) or when two tenants do (*ambiguous = true). */
const struct tenant *auth_tenant_for_peer(const struct tenant_table *t,
                                          const struct peer_identity *peer, bool *ambiguous);

#endif
