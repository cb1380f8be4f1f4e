/*
 * config_ref - reference-counted config snapshots and the restart-only
 * diff. See config_ref.h. The only I/O is config_load.
 */
#include "config_ref.h"
#include "config_table.h"

#include <stdlib.h>
#include <string.h>

struct config_ref *config_ref_borrow(const struct config *cfg)
{
    struct config_ref *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->cfg = cfg;
    r->refs = 1;
    return r;
}

struct config_ref *config_ref_load(const char *path, const struct config_env *env,
                                   unsigned long generation, struct buf *err)
{
    struct config_ref *r = calloc(1, sizeof(*r));
    if (!r) {
        buf_appendf(err, "%s: out of memory", path);
        return NULL;
    }
    if (config_load(path, env, &r->owned, err) != 0) {
        free(r);
        return NULL;
    }
    r->cfg = &r->owned;
    r->is_owned = true;
    r->refs = 1;
    r->generation = generation;
    return r;
}

struct config_ref *config_ref_acquire(struct config_ref *r)
{
    r->refs++;
    return r;
}

void config_ref_release(struct config_ref *r)
{
    if (!r || --r->refs > 0)
        return;
    if (r->is_owned)
        config_clean_up(&r->owned);
    free(r);
}

static bool s_tls_eq(const struct config_tls *a, const struct config_tls *b)
{
    return strcmp(a->cert_file, b->cert_file) == 0 && strcmp(a->key_file, b->key_file) == 0 &&
           strcmp(a->client_ca_file, b->client_ca_file) == 0 &&
           a->require_client_cert == b->require_client_cert;
}

static void s_note(struct buf *out, int *n, bool changed, const char *key)
{
    if (!changed)
        return;
    buf_appendf(out, "%s%s", *n ? ", " : "", key);
    (*n)++;
}

/* The response cache (its budget, windows, on/off) is built once at start. */
int config_ref_restart_keys(const struct config *a, const struct config *b, struct buf *out)
{
    int n = 0;
    bool tls_done[2] = {false, false};
    for (size_t i = 0; i < config_n_keys; i++) {
        const struct config_key *k = &config_keys[i];
        if (k->reload)
            continue;
        const char *fa = (const char *)a + k->offset, *fb = (const char *)b + k->offset;
        switch (k->type) {
        case CK_INT:
        case CK_SIZE:
        case CK_BOOL:
        case CK_NUMBER:
            s_note(out, &n, memcmp(fa, fb, k->size) != 0, k->path);
            break;
        case CK_STRING:
        case CK_LISTEN:
            s_note(out, &n, strcmp(fa, fb) != 0, k->path);
            break;
        case CK_CUSTOM:
            if (strncmp(k->path, "grpc.tls.", 9) == 0 && !tls_done[0]) {
                tls_done[0] = true; /* the files themselves are re-read on SIGHUP */
                s_note(out, &n, !s_tls_eq(&a->grpc_tls, &b->grpc_tls), "grpc.tls");
            } else if (strncmp(k->path, "http.tls.", 9) == 0 && !tls_done[1]) {
                tls_done[1] = true;
                s_note(out, &n, !s_tls_eq(&a->http_tls, &b->http_tls), "http.tls");
            } else if (strcmp(k->path, "redis.password_file") == 0) {
                s_note(out, &n, strcmp(a->redis.password, b->redis.password) != 0,
                       "redis.password");
            } else if (strcmp(k->path, "aws.endpoint") == 0) {
                s_note(out, &n, strcmp(a->endpoint_url, b->endpoint_url) != 0, k->path);
            }
            break;
        }
    }
    return n;
}

void config_ref_carry_tokens(struct config_ref *next, const struct config *running)
{
    if (!next || !next->is_owned || !running)
        return;
    struct page_token_keys *k = &next->owned.tokens;
    const struct page_token_keys *r = &running->tokens;
    if (next->owned.tokens_ephemeral) {
        if (running->tokens_ephemeral) {
            /* Still no configured secret: keep the process's random one. */
            memcpy(k->secret, r->secret, r->secret_len);
            k->secret_len = r->secret_len;
        } else {
            /* The configured secret was removed: the random one signs, the
             * old one is still accepted. */
            memcpy(k->previous, r->secret, r->secret_len);
            k->previous_len = r->secret_len;
        }
    } else if (running->tokens_ephemeral && k->previous_len == 0) {
        /* A secret is configured for the first time: tokens signed with the
         * random one stay valid until they expire. */
        memcpy(k->previous, r->secret, r->secret_len);
        k->previous_len = r->secret_len;
    }
}
