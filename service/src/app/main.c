/*
 * main - command line, configuration, process-wide library init, and the
 * gateway's lifetime. Everything else lives in the modules.
 */
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "config_table.h"
#include "credentials.h"
#include "gateway.h"
#include "keygen.h"
#include "log.h"
#include "probe.h"
#include "tls_server.h"

static void s_usage(FILE *f)
{
    fprintf(f, "usage: bedrockgw --config FILE     run the gateway\n"
               "       bedrockgw --check-config FILE  validate FILE and exit\n"
               "       bedrockgw --config-reference   print the configuration keys (markdown)\n"
               "       bedrockgw --probe URL [--insecure] [--timeout-ms N]\n"
               "                                      health check: http(s)://H:P/readyz or\n"
               "                                      grpc(s)://H:P; exit 0 ready, 1 not\n"
               "       bedrockgw keygen --tenant ID [--out-dir DIR] [--print-secrets]\n"
               "                                      mint an AWS access key and an API key\n"
               "       bedrockgw --help | --version\n"
               "\n"
               "Credentials: the AWS chain (config, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/\n"
               "AWS_SESSION_TOKEN, AWS_PROFILE + shared files, AWS_WEB_IDENTITY_TOKEN_FILE +\n"
               "AWS_ROLE_ARN, AWS_CONTAINER_CREDENTIALS_*, EC2 instance metadata);\n"
               "AWS_ENDPOINT_URL_STS, AWS_EC2_METADATA_SERVICE_ENDPOINT (overrides);\n"
               "AWS_ENDPOINT_URL_BEDROCK, then AWS_ENDPOINT_URL (endpoint override);\n"
               "AWS_REGION, then AWS_DEFAULT_REGION (region override).\n");
}

static const char *s_env(const char *name)
{
    return getenv(name);
}

/* A start-up failure, as a JSON event like every other line the running
 * gateway writes (--check-config speaks plain text instead). */
static void s_start_failed(const char *event, const char *error)
{
    log_event(LOG_ERROR, event, json_pack("{s:s,s:s}", "error", error, "msg", "not started"));
}

/* --check-config: each TLS listener's files loaded and checked exactly as
 * at start (readable, key matching the certificate, CAs loadable), plus
 * their expiry: an expired server certificate is an error (a reload would
 * refuse it), one expiring within expiry_warning_days a warning. 0 or 1. */
static int s_check_tls(const struct config *cfg)
{
    const struct {
        const char *name, *prefix;
        const struct config_tls *t;
    } l[2] = {{"grpc", "grpc.tls", &cfg->grpc_tls}, {"http", "http.tls", &cfg->http_tls}};
    int bad = 0;
    int64_t now = (int64_t)time(NULL);
    for (int i = 0; i < 2; i++) {
        if (!l[i].t->cert_file[0])
            continue;
        struct buf err;
        buf_init(&err, 4096);
        SSL_CTX *ctx = tls_server_ctx_new(l[i].t, l[i].prefix, &err);
        if (!ctx) {
            fprintf(stderr, "bedrockgw: config error: %s\n", err.data ? err.data : l[i].prefix);
            bad = 1;
        } else {
            struct tls_server_expiry e;
            tls_server_expiry(ctx, &e);
            if (tls_server_warn_expiry(l[i].name, l[i].t, &e, now,
                                       l[i].t->expiry_warning_days * 86400, &err)) {
                fprintf(stderr,
                        "bedrockgw: config error: %s.cert_file: the certificate has expired\n",
                        l[i].prefix);
                bad = 1;
            }
            if (err.len)
                fprintf(stderr, "%s", err.data);
            SSL_CTX_free(ctx);
        }
        buf_clean_up(&err);
    }
    return bad;
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    int check_only = 0;
    if (argc >= 2 && strcmp(argv[1], "keygen") == 0)
        return keygen_main(argc - 2, argv + 2, stdout, stderr);
    if (argc >= 2 && strcmp(argv[1], "--probe") == 0)
        return probe_main(argc - 2, argv + 2);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            s_usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--config-reference") == 0) {
            /* docs/configuration.md's table, from config_table */
            struct buf ref;
            buf_init(&ref, 0);
            int bad = config_table_reference(&ref);
            if (!bad)
                fputs(ref.data, stdout);
            buf_clean_up(&ref);
            return bad ? 1 : 0;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("bedrockgw %s\n", BGW_VERSION);
            return 0;
        }
        if ((strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "--check-config") == 0) &&
            i + 1 < argc) {
            check_only = strcmp(argv[i], "--check-config") == 0;
            path = argv[++i];
            continue;
        }
        fprintf(stderr, "bedrockgw: unknown or incomplete argument: %s\n", argv[i]);
        s_usage(stderr);
        return 2;
    }
    if (!path) {
        s_usage(stderr);
        return 2;
    }

    struct config_env env = {getenv("AWS_ENDPOINT_URL_BEDROCK"), getenv("AWS_ENDPOINT_URL"),
                             getenv("AWS_REGION"), getenv("AWS_DEFAULT_REGION")};
    struct config cfg;
    struct buf err;
    buf_init(&err, 4096);
    if (config_load(path, &env, &cfg, &err) != 0) {
        if (check_only)
            fprintf(stderr, "bedrockgw: config error: %s\n", err.data ? err.data : path);
        else
            s_start_failed("config_error", err.data ? err.data : path);
        buf_clean_up(&err);
        return 1;
    }
    if (check_only) {
        int bad = s_check_tls(&cfg);
        if (!bad)
            printf("%s: OK (%zu tenant(s), region %s, endpoint %s)\n", path, cfg.tenants.n_tenants,
                   cfg.region, cfg.endpoint_url);
        config_clean_up(&cfg);
        buf_clean_up(&err);
        return bad;
    }
    enum log_level lvl = LOG_INFO;
    log_level_parse(cfg.log_level, &lvl);
    log_set_level(lvl);
    signal(SIGPIPE, SIG_IGN);

    int rc = 1;
    struct gateway *g = NULL;
    struct bgw_error cerr;
    bgw_error_clear(&cerr);
    struct credentials_chain_options co = {
        .getenv_fn = s_env,
        .region = cfg.region,
        .access_key_id = cfg.cred_access_key_id[0] ? cfg.cred_access_key_id : NULL,
        .secret_access_key = cfg.cred_secret_access_key[0] ? cfg.cred_secret_access_key : NULL,
        .session_token = cfg.cred_session_token[0] ? cfg.cred_session_token : NULL,
        .profile = cfg.cred_profile[0] ? cfg.cred_profile : NULL,
        .container_host = cfg.cred_container_host[0] ? cfg.cred_container_host : NULL,
        .policy = {cfg.cred_refresh_margin_ms, cfg.cred_refresh_jitter_ms, 1000,
                   cfg.cred_retry_base_ms, cfg.cred_retry_max_ms},
        .http_timeout_ms = cfg.cred_timeout_ms,
        .imds_timeout_ms = cfg.cred_imds_timeout_ms,
        .ca_file = cfg.ca_file[0] ? cfg.ca_file : NULL,
    };
    struct credentials_provider *creds = credentials_provider_chain_new(&co, &cerr);
    if (!creds) {
        s_start_failed("start_failed", cerr.message);
        goto out_cfg;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        s_start_failed("start_failed", "curl_global_init failed");
        goto out_creds;
    }
    struct gateway_options go = {&cfg, creds, path, &env};
    g = gateway_new(&go, &err);
    if (!g) {
        s_start_failed("start_failed", err.data ? err.data : "cannot start");
    } else {
        rc = gateway_run(g);
        gateway_destroy(g);
    }
    curl_global_cleanup();
out_creds:
    credentials_provider_destroy(creds);
out_cfg:
    config_clean_up(&cfg);
    buf_clean_up(&err);
    return rc;
}
