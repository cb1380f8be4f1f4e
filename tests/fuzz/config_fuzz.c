/*
 * config_fuzz - libFuzzer target for the configuration loader,
 * config_load_string, with a fixed, empty environment (so region and
 * endpoint come from the JSON text and bedrock_endpoint_parse is reached).
 *
 * Input: the config file's text; a NUL byte ends it.
 * Invariants: success leaves err empty and a config whose strings are
 * terminated, whose grpc.tls and http.tls are off or have cert and key
 * (and a CA for mTLS), whose region is [a-z0-9-]+, whose endpoint is
 * parsed, whose log level is known, whose CORS list has no NULL entry and
 * never pairs "*" with credentials, and whose tenant table is non-empty
 * with at least one key or client-certificate name per tenant (names only
 * when a listener asks for client certificates) and a sane rate_limit, and
 * whose cache.* windows and budget are within their documented bounds
 * (ttl > 0, entry limit <= total budget);
 * config_clean_up then frees everything. Failure leaves a
 * message in err and `out` already cleaned up (nothing to free: a leak
 * here is reported by LeakSanitizer).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz_util.h"

static void s_check_config(const struct config *c)
{
    FUZZ_CHECK(fuzz_terminated(c->grpc_listen, sizeof(c->grpc_listen)));
    FUZZ_CHECK(fuzz_terminated(c->http_listen, sizeof(c->http_listen)));
    FUZZ_CHECK(fuzz_terminated(c->region, sizeof(c->region)));
    FUZZ_CHECK(fuzz_terminated(c->endpoint_url, sizeof(c->endpoint_url)));
    FUZZ_CHECK(fuzz_terminated(c->ca_file, sizeof(c->ca_file)));
    FUZZ_CHECK(fuzz_terminated(c->log_level, sizeof(c->log_level)));

    /* grpc.tls and http.tls: off, or cert and key both set; mTLS needs its
     * CA file. */
    const struct config_tls *tlss[] = {&c->grpc_tls, &c->http_tls};
    for (size_t i = 0; i < 2; i++) {
        const struct config_tls *tls = tlss[i];
        FUZZ_CHECK(fuzz_terminated(tls->cert_file, sizeof(tls->cert_file)));
        FUZZ_CHECK(fuzz_terminated(tls->key_file, sizeof(tls->key_file)));
        FUZZ_CHECK(fuzz_terminated(tls->client_ca_file, sizeof(tls->client_ca_file)));
        FUZZ_CHECK(!tls->cert_file[0] == !tls->key_file[0]);
        FUZZ_CHECK(!tls->require_client_cert || (tls->cert_file[0] && tls->client_ca_file[0]));
    }
    bool client_certs = c->grpc_tls.client_ca_file[0] || c->http_tls.client_ca_file[0];

    FUZZ_CHECK(c->region[0] != '\0');
    for (const char *p = c->region; *p; p++)
        FUZZ_CHECK((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-');
    FUZZ_CHECK(c->endpoint_source != NULL);
    FUZZ_CHECK(strcmp(c->endpoint.scheme, "http") == 0 || strcmp(c->endpoint.scheme, "https") == 0);
    FUZZ_CHECK(fuzz_terminated(c->endpoint.host, sizeof(c->endpoint.host)));
    FUZZ_CHECK(c->endpoint.host[0] != '\0');
    FUZZ_CHECK(c->endpoint.port >= 0 && c->endpoint.port <= 65535);
    FUZZ_CHECK(fuzz_terminated(c->endpoint.base_path, sizeof(c->endpoint.base_path)));

    FUZZ_CHECK(strcmp(c->log_level, "debug") == 0 || strcmp(c->log_level, "info") == 0 ||
               strcmp(c->log_level, "warn") == 0 || strcmp(c->log_level, "error") == 0);
    FUZZ_CHECK(c->default_page_size >= 1 && c->default_page_size <= 1000);
    FUZZ_CHECK(c->max_inflight >= 1);

    /* cache.*: the bounds config.c documents; an entry never exceeds the
     * budget. */
    FUZZ_CHECK(c->cache.ttl_ms >= 1 && c->cache.ttl_ms <= 86400000);
    FUZZ_CHECK(c->cache.swr_ms >= 0 && c->cache.swr_ms <= 86400000);
    FUZZ_CHECK(c->cache.sie_ms >= 0 && c->cache.sie_ms <= 86400000);
    FUZZ_CHECK(c->cache.max_bytes >= 4096);
    FUZZ_CHECK(c->cache.max_entry_bytes >= 1024);
    FUZZ_CHECK(c->cache.max_entry_bytes <= c->cache.max_bytes);

    FUZZ_CHECK(c->n_cors_origins == 0 || c->cors_origins != NULL);
    for (size_t i = 0; i < c->n_cors_origins; i++) {
        FUZZ_CHECK(c->cors_origins[i] != NULL);
        if (strcmp(c->cors_origins[i], "*") == 0)
            FUZZ_CHECK(!c->cors_allow_credentials);
    }

    FUZZ_CHECK(c->tenants.n_tenants > 0 && c->tenants.tenants != NULL);
    for (size_t i = 0; i < c->tenants.n_tenants; i++) {
        const struct tenant *t = &c->tenants.tenants[i];
        FUZZ_CHECK(fuzz_terminated(t->id, sizeof(t->id)) && t->id[0] != '\0');
        /* Identified by API keys, client-certificate names, or both (a
         * certificate-only tenant needs a listener asking for certificates). */
        FUZZ_CHECK(t->n_keys > 0 || t->n_mtls_subjects > 0);
        FUZZ_CHECK(t->n_keys == 0 || t->key_hashes != NULL);
        FUZZ_CHECK(t->n_mtls_subjects == 0 || (t->mtls_subjects != NULL && client_certs));
        for (size_t j = 0; j < t->n_mtls_subjects; j++)
            FUZZ_CHECK(t->mtls_subjects[j] != NULL && t->mtls_subjects[j][0] != '\0');
        /* rate_limit: absent (0 = unlimited), or a positive rate and burst. */
        FUZZ_CHECK(t->rate_limit.rate_mrps >= 0);
        FUZZ_CHECK(t->rate_limit.rate_mrps == 0 || t->rate_limit.burst >= 1);
        for (size_t j = 0; j < i; j++)
            FUZZ_CHECK(strcmp(c->tenants.tenants[j].id, t->id) != 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Fixed: no AWS_* variables set. */
    const struct config_env env = {NULL, NULL, NULL, NULL};
    char *text = fuzz_strndup(data, size);
    struct config cfg;
    struct buf err;
    buf_init(&err, 0);

    if (config_load_string(text, "fuzz.json", &env, &cfg, &err) == 0) {
        FUZZ_CHECK(err.len == 0);
        s_check_config(&cfg);
        config_clean_up(&cfg);
    } else {
        FUZZ_CHECK(err.len > 0 && strncmp(err.data, "fuzz.json: ", 11) == 0);
        FUZZ_CHECK(cfg.cors_origins == NULL && cfg.n_cors_origins == 0);
        FUZZ_CHECK(cfg.tenants.tenants == NULL && cfg.tenants.n_tenants == 0);
    }
    buf_clean_up(&err);
    free(text);
    return 0;
}
