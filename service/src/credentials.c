/*
 * credentials - AWS credential providers. See credentials.h. The environment
 * provider reads its variables once, at creation; no I/O afterwards.
 */
#include "credentials.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

struct credentials_provider {
    const char *name;
    struct credentials creds;
};

static void s_free_secret(char **p)
{
    if (*p) {
        OPENSSL_cleanse(*p, strlen(*p));
        free(*p);
        *p = NULL;
    }
}

static int s_blank(const char *s)
{
    return !s || !*s;
}

struct credentials_provider *credentials_provider_env_new(credentials_getenv_fn getenv_fn,
                                                          struct bgw_error *err)
{
    const char *akid = getenv_fn("AWS_ACCESS_KEY_ID");
    const char *secret = getenv_fn("AWS_SECRET_ACCESS_KEY");
    const char *token = getenv_fn("AWS_SESSION_TOKEN");
    if (s_blank(akid)) {
        bgw_error_set(err, BGW_ERR_UNAVAILABLE, NULL,
                      "no AWS credentials: AWS_ACCESS_KEY_ID is not set");
        return NULL;
    }
    if (s_blank(secret)) {
        bgw_error_set(err, BGW_ERR_UNAVAILABLE, NULL,
                      "no AWS credentials: AWS_SECRET_ACCESS_KEY is not set");
        return NULL;
    }
    struct credentials_provider *p = calloc(1, sizeof(*p));
    if (!p)
        goto nomem;
    p->name = "environment";
    p->creds.source = p->name;
    p->creds.access_key_id = strdup(akid);
    p->creds.secret_access_key = strdup(secret);
    if (!s_blank(token))
        p->creds.session_token = strdup(token);
    if (!p->creds.access_key_id || !p->creds.secret_access_key ||
        (!s_blank(token) && !p->creds.session_token))
        goto nomem;
    return p;
nomem:
    credentials_provider_destroy(p);
    bgw_error_set(err, BGW_ERR_NOMEM, NULL, "out of memory reading credentials");
    return NULL;
}

void credentials_provider_destroy(struct credentials_provider *p)
{
    if (!p)
        return;
    s_free_secret(&p->creds.access_key_id);
    s_free_secret(&p->creds.secret_access_key);
    s_free_secret(&p->creds.session_token);
    free(p);
}

const struct credentials *credentials_provider_current(struct credentials_provider *p,
                                                       int64_t now_ms, struct bgw_error *err)
{
    if (p->creds.expires_at_ms != 0 && now_ms >= p->creds.expires_at_ms) {
        bgw_error_set(err, BGW_ERR_UNAVAILABLE, NULL, "AWS credentials from %s have expired",
                      p->name);
        return NULL;
    }
    return &p->creds;
}

const char *credentials_provider_name(const struct credentials_provider *p)
{
    return p->name;
}
