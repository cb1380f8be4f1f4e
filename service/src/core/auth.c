/*
 * auth - API key and/or client certificate -> tenant. See auth.h. No I/O.
 */
#include "auth.h"

#include <string.h>

const char *auth_method_str(enum auth_method m)
{
    switch (m) {
    case AUTH_API_KEY:
        return "api_key";
    case AUTH_MTLS:
        return "mtls";
    case AUTH_MTLS_AND_API_KEY:
        return "mtls+api_key";
    case AUTH_SIGV4:
        return "sigv4";
    case AUTH_NONE:
        break;
    }
    return "none";
}

const struct tenant *auth_tenant_for_peer(const struct tenant_table *t,
                                          const struct peer_identity *peer, bool *ambiguous)
{
    const struct tenant *found = NULL;
    *ambiguous = false;
    for (size_t i = 0; i < t->n_tenants; i++) {
        const struct tenant *tn = &t->tenants[i];
        bool hit = false;
        for (size_t s = 0; s < tn->n_mtls_subjects && !hit; s++) {
            for (size_t n = 0; n < peer->n_names && !hit; n++)
                hit = peer_identity_subject_matches(tn->mtls_subjects[s], peer->names[n]);
        }
        if (!hit)
            continue;
        if (found && found != tn) {
            *ambiguous = true;
            return NULL;
        }
        found = tn;
    }
    return found;
}

static bool s_present(const char *s)
{
    if (!s)
        return false;
    for (; *s; s++) {
        if (*s != ' ' && *s != '\t')
            return true;
    }
    return false;
}

static bool s_mtls_in_force(const struct tenant_table *t)
{
    for (size_t i = 0; i < t->n_tenants; i++) {
        if (t->tenants[i].n_mtls_subjects > 0)
            return true;
    }
    return false;
}

const struct tenant *auth_resolve(const struct tenant_table *t, const struct auth_input *in,
                                  enum auth_method *method, const char **reason)
{
    *method = AUTH_NONE;
    const struct tenant *by_cert = NULL;
    if (in->peer && in->peer->has_cert && s_mtls_in_force(t)) {
        bool ambiguous = false;
        by_cert = auth_tenant_for_peer(t, in->peer, &ambiguous);
        if (!by_cert) {
            *reason = ambiguous ? "client certificate matches more than one tenant"
                                : "client certificate does not map to any tenant";
            return NULL;
        }
        /* No key sent (an x-api-key header that is present but blank still
         * counts as sent): the certificate alone. */
        if (!s_present(in->authorization) && !in->x_api_key) {
            *method = AUTH_MTLS;
            return by_cert;
        }
    }
    const char *key = NULL;
    size_t key_len = 0;
    if (in->key_repeated) {
        *reason = "more than one Authorization or X-Api-Key header: send the API key once";
        return NULL;
    }
    if (tenant_extract_key(in->authorization, in->x_api_key, &key, &key_len, reason) != 0)
        return NULL;
    const struct tenant *by_key = tenant_authenticate(t, key, key_len);
    if (!by_key) {
        *reason = "invalid API key";
        return NULL;
    }
    if (by_cert && by_cert != by_key) {
        *reason = "API key and client certificate name different tenants";
        return NULL;
    }
    *method = by_cert ? AUTH_MTLS_AND_API_KEY : AUTH_API_KEY;
    return by_key;
}
