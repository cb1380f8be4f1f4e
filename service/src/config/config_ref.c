/*
 * config_ref - reference-counted config snapshots and the restart-only
 * diff. See config_ref.h. The only I/O is config_load.
 */
#include "config_ref.h"

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

static bool s_credentials_eq(const struct config *a, const struct config *b)
{
    return strcmp(a->cred_access_key_id, b->cred_access_key_id) == 0 &&
           strcmp(a->cred_secret_access_key, b->cred_secret_access_key) == 0 &&
           strcmp(a->cred_session_token, b->cred_session_token) == 0 &&
           strcmp(a->cred_profile, b->cred_profile) == 0 &&
           strcmp(a->cred_container_host, b->cred_container_host) == 0 &&
           a->cred_refresh_margin_ms == b->cred_refresh_margin_ms &&
           a->cred_refresh_jitter_ms == b->cred_refresh_jitter_ms &&
           a->cred_retry_base_ms == b->cred_retry_base_ms &&
           a->cred_retry_max_ms == b->cred_retry_max_ms &&
           a->cred_timeout_ms == b->cred_timeout_ms &&
           a->cred_imds_timeout_ms == b->cred_imds_timeout_ms;
}

static bool s_upstream_eq(const struct config *a, const struct config *b)
{
    return a->max_attempts == b->max_attempts && a->retry_base_ms == b->retry_base_ms &&
           a->retry_throttle_base_ms == b->retry_throttle_base_ms &&
           a->retry_max_backoff_ms == b->retry_max_backoff_ms &&
           a->max_retry_after_ms == b->max_retry_after_ms && a->retry_quota == b->retry_quota &&
           a->upstream_max_concurrency == b->upstream_max_concurrency &&
           a->upstream_rate_per_s == b->upstream_rate_per_s &&
           a->upstream_burst == b->upstream_burst &&
           a->upstream_queue_wait_ms == b->upstream_queue_wait_ms &&
           a->breaker_threshold == b->breaker_threshold &&
           a->breaker_cooldown_ms == b->breaker_cooldown_ms;
}

static void s_note(struct buf *out, int *n, bool changed, const char *key)
{
    if (!changed)
        return;
    buf_appendf(out, "%s%s", *n ? ", " : "", key);
    (*n)++;
}

/* The response cache (its budget, windows, on/off) is built once at start. */
static bool s_cache_eq(const struct config_cache *a, const struct config_cache *b)
{
    return a->enabled == b->enabled && a->ttl_ms == b->ttl_ms && a->swr_ms == b->swr_ms &&
           a->sie_ms == b->sie_ms && a->max_bytes == b->max_bytes &&
           a->max_entry_bytes == b->max_entry_bytes;
}

int config_ref_restart_keys(const struct config *a, const struct config *b, struct buf *out)
{
    int n = 0;
    s_note(out, &n, strcmp(a->grpc_listen, b->grpc_listen) != 0, "grpc.listen");
    s_note(out, &n, !s_tls_eq(&a->grpc_tls, &b->grpc_tls), "grpc.tls");
    s_note(out, &n, a->grpc_max_message_bytes != b->grpc_max_message_bytes,
           "grpc.max_message_bytes");
    s_note(out, &n,
           a->grpc_max_concurrent_streams != b->grpc_max_concurrent_streams ||
               a->grpc_max_header_list_bytes != b->grpc_max_header_list_bytes ||
               a->grpc_max_connections != b->grpc_max_connections ||
               a->grpc_idle_timeout_ms != b->grpc_idle_timeout_ms ||
               a->grpc_max_connection_age_ms != b->grpc_max_connection_age_ms ||
               a->grpc_max_connection_age_grace_ms != b->grpc_max_connection_age_grace_ms ||
               a->grpc_max_resets_per_s != b->grpc_max_resets_per_s ||
               a->grpc_max_pings_per_s != b->grpc_max_pings_per_s ||
               a->grpc_max_continuations != b->grpc_max_continuations,
           "grpc limits");
    s_note(out, &n, a->http_max_connections != b->http_max_connections, "http.max_connections");
    s_note(out, &n, strcmp(a->http_listen, b->http_listen) != 0, "http.listen");
    s_note(out, &n, !s_tls_eq(&a->http_tls, &b->http_tls), "http.tls");
    s_note(out, &n, a->http_max_header_bytes != b->http_max_header_bytes, "http.max_header_bytes");
    s_note(out, &n, a->http_max_body_bytes != b->http_max_body_bytes, "http.max_body_bytes");
    s_note(out, &n, a->http_timeout_ms != b->http_timeout_ms, "http.timeout_ms");
    s_note(out, &n, a->http_metrics_enabled != b->http_metrics_enabled, "http.metrics_enabled");
    s_note(out, &n, strcmp(a->region, b->region) != 0, "aws.region");
    s_note(out, &n, strcmp(a->endpoint_url, b->endpoint_url) != 0, "aws.endpoint");
    s_note(out, &n, a->upstream_timeout_ms != b->upstream_timeout_ms, "aws.timeout_ms");
    s_note(out, &n, a->upstream_connect_timeout_ms != b->upstream_connect_timeout_ms,
           "aws.connect_timeout_ms");
    s_note(out, &n, a->upstream_max_body_bytes != b->upstream_max_body_bytes,
           "aws.max_response_bytes");
    s_note(out, &n, strcmp(a->ca_file, b->ca_file) != 0, "aws.ca_file");
    s_note(out, &n, a->max_inflight != b->max_inflight, "gateway.max_inflight");
    s_note(out, &n, a->shutdown_grace_ms != b->shutdown_grace_ms, "gateway.shutdown_grace_ms");
    s_note(out, &n, a->shutdown_unready_ms != b->shutdown_unready_ms,
           "gateway.shutdown_unready_ms");
    /* The credential provider and the fetcher are built once at start. */
    s_note(out, &n, !s_credentials_eq(a, b), "credentials");
    s_note(out, &n, !s_upstream_eq(a, b), "upstream");
    s_note(out, &n, !s_cache_eq(&a->cache, &b->cache), "cache");
    /* The level is read by every thread without a lock: set once at start. */
    s_note(out, &n, strcmp(a->log_level, b->log_level) != 0, "gateway.log_level");
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
