/*
 * config - the gateway's configuration: a JSON file plus the standard AWS
 * environment overrides, turned into one immutable struct config.
 *
 * Unknown keys are errors (a typo must not silently fall back to a
 * default). Every error names the file, the key path and the problem.
 * Environment values are passed in (struct config_env) so that loading is
 * testable; the only I/O is reading the file.
 */
#ifndef BGW_CONFIG_H
#define BGW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bedrock_client.h"
#include "buf.h"
#include "cache.h"
#include "page_token.h"
#include "redis_url.h"
#include "tenant.h"

/* Defaults for every limit (docs/configuration.md). */
#define CONFIG_DEFAULT_GRPC_LISTEN "127.0.0.1:50051"
#define CONFIG_DEFAULT_HTTP_LISTEN "127.0.0.1:8080"
#define CONFIG_DEFAULT_PAGE_SIZE 100
#define CONFIG_DEFAULT_UPSTREAM_TIMEOUT_MS 10000
#define CONFIG_DEFAULT_CONNECT_TIMEOUT_MS 3000
#define CONFIG_DEFAULT_MAX_UPSTREAM_BODY (8u * 1024u * 1024u)
#define CONFIG_DEFAULT_MAX_INFLIGHT 1024
#define CONFIG_DEFAULT_SHUTDOWN_GRACE_MS 10000
#define CONFIG_DEFAULT_HTTP_MAX_HEADER_BYTES 8192
#define CONFIG_DEFAULT_HTTP_MAX_BODY_BYTES 4096
#define CONFIG_DEFAULT_HTTP_TIMEOUT_MS 30000
#define CONFIG_DEFAULT_GRPC_MAX_MESSAGE_BYTES 65536
#define CONFIG_DEFAULT_GRPC_MAX_CONCURRENT_STREAMS 100
#define CONFIG_DEFAULT_GRPC_MAX_HEADER_LIST_BYTES 16384
#define CONFIG_DEFAULT_MAX_CONNECTIONS 4096
#define CONFIG_DEFAULT_GRPC_IDLE_TIMEOUT_MS 300000
#define CONFIG_DEFAULT_GRPC_MAX_AGE_GRACE_MS 10000
#define CONFIG_DEFAULT_GRPC_MAX_RESETS_PER_S 100
#define CONFIG_DEFAULT_GRPC_MAX_PINGS_PER_S 10
#define CONFIG_DEFAULT_GRPC_MAX_CONTINUATIONS 8
#define CONFIG_DEFAULT_TLS_EXPIRY_WARNING_DAYS 14
/* Long enough for a Kubernetes Service to drop the endpoint (readiness
 * probe period 1-2 s x failureThreshold, plus kube-proxy/endpoint
 * propagation) before the listeners close; see docs/operations.md. */
#define CONFIG_DEFAULT_SHUTDOWN_UNREADY_MS 5000
#define CONFIG_DEFAULT_CORS_MAX_AGE_S 600
#define CONFIG_DEFAULT_MAX_UPSTREAM_CALLS 10

/* Credentials and upstream resilience (docs/configuration.md). */
#define CONFIG_DEFAULT_CRED_REFRESH_MARGIN_MS (5 * 60 * 1000)
#define CONFIG_DEFAULT_CRED_REFRESH_JITTER_MS (60 * 1000)
#define CONFIG_DEFAULT_CRED_RETRY_BASE_MS 1000
#define CONFIG_DEFAULT_CRED_RETRY_MAX_MS 60000
#define CONFIG_DEFAULT_CRED_TIMEOUT_MS 5000
#define CONFIG_DEFAULT_CRED_IMDS_TIMEOUT_MS 1000
#define CONFIG_DEFAULT_MAX_ATTEMPTS 3
#define CONFIG_DEFAULT_RETRY_BASE_MS 100
#define CONFIG_DEFAULT_RETRY_THROTTLE_BASE_MS 500
#define CONFIG_DEFAULT_RETRY_MAX_BACKOFF_MS 20000
#define CONFIG_DEFAULT_MAX_RETRY_AFTER_MS 5000
#define CONFIG_DEFAULT_RETRY_QUOTA 500
#define CONFIG_DEFAULT_UPSTREAM_MAX_CONCURRENCY 64
#define CONFIG_DEFAULT_UPSTREAM_QUEUE_WAIT_MS 1000
#define CONFIG_DEFAULT_BREAKER_THRESHOLD 5
#define CONFIG_DEFAULT_BREAKER_COOLDOWN_MS 10000

struct config_env {
    const char *endpoint_url_bedrock; /* AWS_ENDPOINT_URL_BEDROCK */
    const char *endpoint_url;         /* AWS_ENDPOINT_URL */
    const char *region;               /* AWS_REGION */
    const char *default_region;       /* AWS_DEFAULT_REGION */
};

/* TLS for one listener. Enabled when cert_file is set. */
struct config_tls {
    char cert_file[512];         /* PEM certificate chain */
    char key_file[512];          /* PEM private key */
    char client_ca_file[512];    /* PEM CAs for client certificates ("" = none asked) */
    bool require_client_cert;    /* mTLS: refuse clients without a verified certificate */
    int64_t expiry_warning_days; /* warn this long before a certificate expires */
};

/* The response cache (issue 4; docs/configuration.md). */
struct config_cache {
    bool enabled;
    int64_t ttl_ms;
    int64_t swr_ms;
    int64_t sie_ms;
    size_t max_bytes;
    size_t max_entry_bytes;
    /* false: each tenant's upstream pages are cached (and fetched) apart,
     * so no tenant can time whether another asked the same page */
    bool share_across_tenants;
};

/* redis.* (fleet.h): the state replicas share. url "" = single replica. */
struct config_redis {
    char url[1024];
    struct redis_url parsed;
    char password[512]; /* redis.password_file / password_env; wiped on clean-up */
    char ca_file[512];
    char key_prefix[128];
    int64_t timeout_ms;
    int64_t connect_timeout_ms;
    int64_t lease_ms;
    int64_t fallback_replicas;
};

struct config {
    char grpc_listen[300];
    struct config_tls grpc_tls;
    size_t grpc_max_message_bytes;
    bool grpc_reflection; /* grpc.reflection.v1/v1alpha ServerReflection (default true) */
    /* HTTP/2 policing of the gRPC listener (h2_server.h) */
    size_t grpc_max_concurrent_streams;
    size_t grpc_max_header_list_bytes;
    size_t grpc_max_connections;
    int64_t grpc_idle_timeout_ms;       /* 0 = none */
    int64_t grpc_max_connection_age_ms; /* 0 = none */
    int64_t grpc_max_connection_age_grace_ms;
    size_t grpc_max_resets_per_s;
    size_t grpc_max_pings_per_s;
    size_t grpc_max_continuations;

    char http_listen[300];
    struct config_tls http_tls;
    char **cors_origins; /* heap array of heap strings; or exactly one "*" */
    size_t n_cors_origins;
    bool cors_allow_credentials;
    int64_t cors_max_age_s;
    size_t http_max_header_bytes;
    size_t http_max_body_bytes;
    int64_t http_timeout_ms;
    size_t http_max_connections;
    bool http_metrics_enabled; /* GET /metrics on the REST listener (default true) */
    bool http_openapi_enabled; /* GET /openapi.json on the REST listener (default true) */

    char region[64];
    char endpoint_url[512];      /* the endpoint in use, for logs */
    const char *endpoint_source; /* "AWS_ENDPOINT_URL_BEDROCK" | "AWS_ENDPOINT_URL" | "config" |
                                    "default" */
    struct bedrock_endpoint endpoint;
    int64_t upstream_timeout_ms;
    int64_t upstream_connect_timeout_ms;
    size_t upstream_max_body_bytes;
    char ca_file[512]; /* "" = system default */

    int64_t default_page_size;
    size_t max_inflight;
    int64_t shutdown_grace_ms;
    char log_level[16];
    int64_t max_upstream_calls; /* gateway.max_upstream_calls_per_request */

    /* Page-token keys ("tokens"). Without a configured secret, a random one
     * made at load time (tokens_ephemeral): walks do not survive a restart
     * and are not shared between replicas. Wiped by config_clean_up. */
    struct page_token_keys tokens;
    bool tokens_ephemeral;

    struct config_cache cache;
    struct config_redis redis;

    struct tenant_table tenants;

    /* credentials.* (explicit keys are discouraged; wiped on clean-up) */
    char cred_access_key_id[256];
    char cred_secret_access_key[256];
    char cred_session_token[4096];
    char cred_profile[130];
    char cred_container_host[256];
    int64_t cred_refresh_margin_ms;
    int64_t cred_refresh_jitter_ms;
    int64_t cred_retry_base_ms;
    int64_t cred_retry_max_ms;
    int64_t cred_timeout_ms;
    int64_t cred_imds_timeout_ms;

    /* upstream.* resilience */
    int64_t max_attempts;
    int64_t retry_base_ms;
    int64_t retry_throttle_base_ms;
    int64_t retry_max_backoff_ms;
    int64_t max_retry_after_ms;
    int64_t retry_quota;
    size_t upstream_max_concurrency;
    double upstream_rate_per_s; /* 0 = unlimited */
    double upstream_burst;
    int64_t upstream_queue_wait_ms;
    int64_t breaker_threshold; /* 0 = never opens */
    int64_t breaker_cooldown_ms;
    int64_t shutdown_unready_ms; /* gateway.shutdown_unready_ms */
};

/* Loads path. On failure returns -1 and appends "<path>: <key>: <problem>"
 * to err; out is left cleaned up. */
int config_load(const char *path, const struct config_env *env, struct config *out,
                struct buf *err);
/* Same, from a JSON text (name is used in messages). */
int config_load_string(const char *json_text, const char *name, const struct config_env *env,
                       struct config *out, struct buf *err);
void config_clean_up(struct config *c);

/* Splits "host:port" / "[v6]:port" into host (no brackets) and port 0-65535.
 * 0 or -1. */
int config_split_host_port(const char *s, char *host, size_t host_len, int *port);

/* Whether a request's Origin header names the configured origin o (as
 * config keeps it: scheme and host lower case): scheme and host compare
 * case-insensitively, the port (and anything after the host) exactly. */
bool config_origin_matches(const char *o, const char *origin);

#endif
