/*
 * config_test - config_load_string / config_load / config_split_host_port:
 * defaults, every key of every section, unknown keys (with their key path),
 * type and bound errors, listen address forms, CORS rules, region and
 * endpoint selection from the environment (struct config_env, no real
 * environment), tenants and their key hashes, JSON syntax errors, files.
 * Every failing load is followed by config_clean_up, so the ASan build also
 * proves the failure paths leak nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache.h"
#include "config.h"
#include "test_util.h"

#define CHECK_EQ(a, b) CHECK((long long)(a) == (long long)(b))

/* printf %s KEY | sha256sum */
#define H_A1 "0effaf23ed21d617de082837ef24b0c232b8e9a35b686cc7601cc82163d30e05" /* key-alpha-1 */
#define H_A2 "44e5efe3d95e33bede2ae99627ebdbc5181faa7e0a7f820f5e09366a554e94f8" /* key-alpha-2 */
#define H_B1 "ce4c51791e0db31801fe2aa63da4b85a6092ef04ba14de4fd64dada624d6f283" /* key-beta-1 */

#define TENANTS "\"tenants\":[{\"id\":\"alpha\",\"api_keys\":[\"" H_A1 "\"]}]"
#define REGION "\"aws\":{\"region\":\"us-east-1\"}"

static const struct config_env s_no_env = {NULL, NULL, NULL, NULL};

/* Loads text as "cfg.json"; on failure err holds the message. */
static int s_load(const char *text, const struct config_env *env, struct config *cfg,
                  struct buf *err)
{
    buf_reset(err);
    return config_load_string(text, "cfg.json", env, cfg, err);
}

/* Expects text to be rejected with a message containing want. */
static void s_expect_fail_env(const char *text, const struct config_env *env, const char *want,
                              int line)
{
    struct config cfg;
    struct buf err;
    buf_init(&err, 0);
    int rc = config_load_string(text, "cfg.json", env, &cfg, &err);
    const char *msg = err.data ? err.data : "";
    if (!test_check(rc == -1, __FILE__, line, "load rejected") ||
        !test_check(strstr(msg, want) != NULL, __FILE__, line, "message contains expected text"))
        fprintf(stderr, "  input:    %s\n  message:  %s\n  expected: ...%s...\n", text, msg, want);
    if (rc == 0)
        config_clean_up(&cfg);
    /* Cleaning up an already cleaned-up config is harmless. */
    config_clean_up(&cfg);
    buf_clean_up(&err);
}
#define EXPECT_FAIL(text, want) s_expect_fail_env((text), &s_no_env, (want), __LINE__)
#define EXPECT_FAIL_ENV(text, env, want) s_expect_fail_env((text), (env), (want), __LINE__)

static void s_expect_ok_env(const char *text, const struct config_env *env, int line)
{
    struct config cfg;
    struct buf err;
    buf_init(&err, 0);
    int rc = config_load_string(text, "cfg.json", env, &cfg, &err);
    if (!test_check(rc == 0, __FILE__, line, "load accepted"))
        fprintf(stderr, "  input:   %s\n  message: %s\n", text, err.data ? err.data : "");
    if (rc == 0)
        config_clean_up(&cfg);
    buf_clean_up(&err);
}
#define EXPECT_OK(text) s_expect_ok_env((text), &s_no_env, __LINE__)

/* ------------------------------------------------------------------------ */

static void test_defaults(void)
{
    struct config cfg;
    struct buf err;
    buf_init(&err, 0);
    if (!CHECK(s_load("{" REGION "," TENANTS "}", &s_no_env, &cfg, &err) == 0)) {
        fprintf(stderr, "  %s\n", err.data);
        buf_clean_up(&err);
        return;
    }
    CHECK_STR(cfg.grpc_listen, "127.0.0.1:50051");
    CHECK_STR(cfg.http_listen, "127.0.0.1:8080");
    CHECK_EQ(cfg.grpc_max_message_bytes, 65536);
    CHECK_EQ(cfg.n_cors_origins, 0);
    CHECK(!cfg.cors_allow_credentials);
    CHECK_EQ(cfg.cors_max_age_s, 600);
    CHECK_EQ(cfg.http_max_header_bytes, 8192);
    CHECK_EQ(cfg.http_max_body_bytes, 4096);
    CHECK_EQ(cfg.http_timeout_ms, 30000);
    CHECK_STR(cfg.region, "us-east-1");
    CHECK_STR(cfg.endpoint_source, "default");
    CHECK_STR(cfg.endpoint_url, "https://bedrock.us-east-1.amazonaws.com");
    CHECK_STR(cfg.endpoint.scheme, "https");
    CHECK_STR(cfg.endpoint.host, "bedrock.us-east-1.amazonaws.com");
    CHECK_EQ(cfg.endpoint.port, 0);
    CHECK_STR(cfg.endpoint.base_path, "");
    CHECK_EQ(cfg.upstream_timeout_ms, 10000);
    CHECK_EQ(cfg.upstream_connect_timeout_ms, 3000);
    CHECK_EQ(cfg.upstream_max_body_bytes, 8u * 1024u * 1024u);
    CHECK_STR(cfg.ca_file, "");
    CHECK_EQ(cfg.default_page_size, 100);
    CHECK_EQ(cfg.max_inflight, 1024);
    CHECK_EQ(cfg.shutdown_grace_ms, 10000);
    CHECK_STR(cfg.log_level, "info");
    CHECK_EQ(cfg.tenants.n_tenants, 1);
    if (cfg.tenants.n_tenants == 1) {
        CHECK_STR(cfg.tenants.tenants[0].id, "alpha");
        CHECK_EQ(cfg.tenants.tenants[0].n_keys, 1);
        CHECK(cfg.tenants.tenants[0].key_hashes[0][0] == 0x0e &&
              cfg.tenants.tenants[0].key_hashes[0][31] == 0x05);
    }
    config_clean_up(&cfg);
    CHECK(cfg.tenants.tenants == NULL && cfg.tenants.n_tenants == 0);
    CHECK(cfg.cors_origins == NULL && cfg.n_cors_origins == 0);
    buf_clean_up(&err);
}

static void test_every_key(void)
{
    static const char *text =
        "{\n"
        " \"grpc\": {\"listen\": \"0.0.0.0:6000\", \"max_message_bytes\": 2048},\n"
        " \"http\": {\"listen\": \"[::1]:8081\",\n"
        "          \"cors_allowed_origins\": [\"https://app.example.com\", "
        "\"http://localhost:3000\"],\n"
        "          \"cors_allow_credentials\": true, \"cors_max_age_s\": 60,\n"
        "          \"max_header_bytes\": 2048, \"max_body_bytes\": 0, \"timeout_ms\": 1500},\n"
        " \"aws\": {\"region\": \"eu-west-3\", \"endpoint\": \"http://127.0.0.1:8123/base\",\n"
        "         \"timeout_ms\": 2500, \"connect_timeout_ms\": 700,\n"
        "         \"max_response_bytes\": 65536, \"ca_file\": \"/etc/ssl/ca.pem\"},\n"
        " \"gateway\": {\"default_page_size\": 37, \"max_inflight\": 5,\n"
        "             \"shutdown_grace_ms\": 0, \"log_level\": \"debug\"},\n"
        " \"tenants\": [{\"id\": \"alpha\", \"api_keys\": [\"" H_A1 "\", \"" H_A2 "\"]},\n"
        "             {\"id\": \"Beta_2.x-y\", \"api_keys\": [\"" H_B1 "\"]}]\n"
        "}\n";
    struct config cfg;
    struct buf err;
    buf_init(&err, 0);
    if (!CHECK(s_load(text, &s_no_env, &cfg, &err) == 0)) {
        fprintf(stderr, "  %s\n", err.data);
        buf_clean_up(&err);
        return;
    }
    CHECK_STR(cfg.grpc_listen, "0.0.0.0:6000");
    CHECK_EQ(cfg.grpc_max_message_bytes, 2048);
    CHECK_STR(cfg.http_listen, "[::1]:8081");
    CHECK_EQ(cfg.n_cors_origins, 2);
    if (cfg.n_cors_origins == 2) {
        CHECK_STR(cfg.cors_origins[0], "https://app.example.com");
        CHECK_STR(cfg.cors_origins[1], "http://localhost:3000");
    }
    CHECK(cfg.cors_allow_credentials);
    CHECK_EQ(cfg.cors_max_age_s, 60);
    CHECK_EQ(cfg.http_max_header_bytes, 2048);
    CHECK_EQ(cfg.http_max_body_bytes, 0);
    CHECK_EQ(cfg.http_timeout_ms, 1500);
    CHECK_STR(cfg.region, "eu-west-3");
    CHECK_STR(cfg.endpoint_source, "config");
    CHECK_STR(cfg.endpoint_url, "http://127.0.0.1:8123/base");
    CHECK_STR(cfg.endpoint.scheme, "http");
    CHECK_STR(cfg.endpoint.host, "127.0.0.1");
    CHECK_EQ(cfg.endpoint.port, 8123);
    CHECK_STR(cfg.endpoint.base_path, "/base");
    CHECK_EQ(cfg.upstream_timeout_ms, 2500);
    CHECK_EQ(cfg.upstream_connect_timeout_ms, 700);
    CHECK_EQ(cfg.upstream_max_body_bytes, 65536);
    CHECK_STR(cfg.ca_file, "/etc/ssl/ca.pem");
    CHECK_EQ(cfg.default_page_size, 37);
    CHECK_EQ(cfg.max_inflight, 5);
    CHECK_EQ(cfg.shutdown_grace_ms, 0);
    CHECK_STR(cfg.log_level, "debug");
    CHECK_EQ(cfg.tenants.n_tenants, 2);
    if (cfg.tenants.n_tenants == 2) {
        CHECK_STR(cfg.tenants.tenants[0].id, "alpha");
        CHECK_EQ(cfg.tenants.tenants[0].n_keys, 2);
        CHECK_STR(cfg.tenants.tenants[1].id, "Beta_2.x-y");
        CHECK_EQ(cfg.tenants.tenants[1].n_keys, 1);
        if (cfg.tenants.tenants[1].n_keys == 1)
            CHECK(cfg.tenants.tenants[1].key_hashes[0][0] == 0xce);
    }
    config_clean_up(&cfg);

    /* Each log level. */
    static const char *const levels[] = {"debug", "info", "warn", "error"};
    for (size_t i = 0; i < 4; i++) {
        char t[512];
        snprintf(t, sizeof(t), "{\"gateway\":{\"log_level\":\"%s\"}," REGION "," TENANTS "}",
                 levels[i]);
        if (CHECK(s_load(t, &s_no_env, &cfg, &err) == 0)) {
            CHECK_STR(cfg.log_level, levels[i]);
            config_clean_up(&cfg);
        }
    }
    buf_clean_up(&err);
}

static void test_unknown_keys(void)
{
    static const struct {
        const char *text;
        const char *msg;
    } cases[] = {
        {"{\"bogus\":1," REGION "," TENANTS "}", "cfg.json: bogus: unknown key"},
        {"{\"grpc\":{\"bogus\":1}," REGION "," TENANTS "}", "cfg.json: grpc.bogus: unknown key"},
        {"{\"http\":{\"listen\":\"127.0.0.1:1\",\"bogus\":true}," REGION "," TENANTS "}",
         "cfg.json: http.bogus: unknown key"},
        {"{\"aws\":{\"region\":\"us-east-1\",\"Region\":\"x\"}," TENANTS "}",
         "cfg.json: aws.Region: unknown key"},
        {"{\"gateway\":{\"page_size\":5}," REGION "," TENANTS "}",
         "cfg.json: gateway.page_size: unknown key"},
        {"{" REGION ",\"tenants\":[{\"id\":\"a\",\"api_keys\":[\"" H_A1
         "\"]},{\"id\":\"b\",\"api_keys\":[\"" H_B1 "\"],\"bogus\":[]}]}",
         "cfg.json: tenants[1].bogus: unknown key"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct config cfg;
        struct buf err;
        buf_init(&err, 0);
        CHECK(s_load(cases[i].text, &s_no_env, &cfg, &err) == -1);
        CHECK_STR(err.data, cases[i].msg);
        config_clean_up(&cfg);
        buf_clean_up(&err);
    }
}

static void test_type_errors(void)
{
    EXPECT_FAIL("[1,2]", "cfg.json: (top level): must be a JSON object");
    EXPECT_FAIL("{\"grpc\":5," REGION "," TENANTS "}", "cfg.json: grpc: must be an object");
    EXPECT_FAIL("{\"http\":[]," REGION "," TENANTS "}", "cfg.json: http: must be an object");
    EXPECT_FAIL("{\"aws\":\"us-east-1\"," TENANTS "}", "cfg.json: aws: must be an object");
    EXPECT_FAIL("{\"gateway\":null," REGION "," TENANTS "}",
                "cfg.json: gateway: must be an object");
    EXPECT_FAIL("{\"grpc\":{\"listen\":50051}," REGION "," TENANTS "}",
                "cfg.json: grpc.listen: must be a string");
    EXPECT_FAIL("{\"grpc\":{\"max_message_bytes\":\"4096\"}," REGION "," TENANTS "}",
                "cfg.json: grpc.max_message_bytes: must be an integer");
    EXPECT_FAIL("{\"grpc\":{\"max_message_bytes\":4096.5}," REGION "," TENANTS "}",
                "cfg.json: grpc.max_message_bytes: must be an integer");
    EXPECT_FAIL("{\"http\":{\"timeout_ms\":true}," REGION "," TENANTS "}",
                "cfg.json: http.timeout_ms: must be an integer");
    EXPECT_FAIL("{\"http\":{\"cors_allow_credentials\":\"yes\"}," REGION "," TENANTS "}",
                "cfg.json: http.cors_allow_credentials: must be true or false");
    EXPECT_FAIL("{\"http\":{\"cors_allowed_origins\":\"https://a.com\"}," REGION "," TENANTS "}",
                "cfg.json: http.cors_allowed_origins: must be an array");
    EXPECT_FAIL("{\"aws\":{\"region\":5}," TENANTS "}", "cfg.json: aws.region: must be a string");
    EXPECT_FAIL("{\"aws\":{\"region\":\"us-east-1\",\"endpoint\":false}," TENANTS "}",
                "cfg.json: aws.endpoint: must be a string");
    EXPECT_FAIL("{\"aws\":{\"region\":\"us-east-1\",\"ca_file\":[]}," TENANTS "}",
                "cfg.json: aws.ca_file: must be a string");
    /* jansson itself refuses \u0000 (no JSON_ALLOW_NUL), before any key. */
    EXPECT_FAIL("{\"aws\":{\"region\":\"us-east-1\",\"ca_file\":\"a\\u0000b\"}," TENANTS "}",
                "cfg.json: line 1 column ");
    EXPECT_FAIL("{\"gateway\":{\"log_level\":3}," REGION "," TENANTS "}",
                "cfg.json: gateway.log_level: must be a string");
    EXPECT_FAIL("{\"gateway\":{\"log_level\":\"verbose\"}," REGION "," TENANTS "}",
                "cfg.json: gateway.log_level: must be debug, info, warn or error");
    EXPECT_FAIL("{\"gateway\":{\"max_inflight\":null}," REGION "," TENANTS "}",
                "cfg.json: gateway.max_inflight: must be an integer");

    /* Strings longer than their field. */
    char text[2048];
    char longs[600];
    memset(longs, 'a', sizeof(longs) - 1);
    longs[sizeof(longs) - 1] = '\0';
    snprintf(text, sizeof(text),
             "{\"aws\":{\"region\":\"us-east-1\",\"ca_file\":\"/%s\"}," TENANTS "}", longs);
    EXPECT_FAIL(text, "cfg.json: aws.ca_file: too long (at most 511 characters)");
    snprintf(text, sizeof(text), "{\"aws\":{\"region\":\"%.*s\"}," TENANTS "}", 64, longs);
    EXPECT_FAIL(text, "cfg.json: aws.region: too long (at most 63 characters)");
    snprintf(text, sizeof(text), "{\"aws\":{\"region\":\"%.*s\"}," TENANTS "}", 63, longs);
    EXPECT_OK(text);
}

static void test_bounds(void)
{
    static const struct {
        const char *section, *key;
        long long min, max;
    } cases[] = {
        {"grpc", "max_message_bytes", 1024, 16 << 20},
        {"http", "max_header_bytes", 1024, 1 << 20},
        {"http", "max_body_bytes", 0, 1 << 20},
        {"http", "timeout_ms", 100, 3600000},
        {"http", "cors_max_age_s", 0, 86400},
        {"aws", "timeout_ms", 100, 600000},
        {"aws", "connect_timeout_ms", 100, 60000},
        {"aws", "max_response_bytes", 4096, 256 << 20},
        {"gateway", "default_page_size", 1, 1000},
        {"gateway", "max_inflight", 1, 1000000},
        {"gateway", "shutdown_grace_ms", 0, 600000},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const long long values[] = {cases[i].min - 1, cases[i].min, cases[i].max, cases[i].max + 1,
                                    -9223372036854775807LL};
        for (size_t j = 0; j < sizeof(values) / sizeof(values[0]); j++) {
            long long v = values[j];
            int ok = v >= cases[i].min && v <= cases[i].max;
            char text[1024];
            const char *extra =
                strcmp(cases[i].section, "aws") == 0 ? "\"region\":\"us-east-1\"," : "";
            snprintf(text, sizeof(text), "{\"%s\":{%s\"%s\":%lld}%s," TENANTS "}", cases[i].section,
                     extra, cases[i].key, v,
                     strcmp(cases[i].section, "aws") == 0 ? "" : "," REGION);
            struct config cfg;
            struct buf err;
            buf_init(&err, 0);
            int rc = s_load(text, &s_no_env, &cfg, &err);
            if (ok) {
                if (!CHECK(rc == 0))
                    fprintf(stderr, "  %s -> %s\n", text, err.data);
            } else {
                char want[256];
                snprintf(want, sizeof(want),
                         "cfg.json: %s.%s: must be between %lld and %lld, got %lld",
                         cases[i].section, cases[i].key, cases[i].min, cases[i].max, v);
                CHECK(rc == -1);
                CHECK_STR(err.data, want);
            }
            config_clean_up(&cfg);
            buf_clean_up(&err);
        }
    }
}

static void test_split_host_port(void)
{
    static const struct {
        const char *in;
        int ok;
        const char *host;
        int port;
    } cases[] = {
        {"127.0.0.1:0", 1, "127.0.0.1", 0},
        {"127.0.0.1:8080", 1, "127.0.0.1", 8080},
        {"localhost:65535", 1, "localhost", 65535},
        {"0.0.0.0:00080", 1, "0.0.0.0", 80},
        {"[::1]:8080", 1, "::1", 8080},
        {"[::]:0", 1, "::", 0},
        {"[fe80::1%eth0]:443", 1, "fe80::1%eth0", 443},
        {"host:99999", 0, NULL, 0},
        {"host:65536", 0, NULL, 0},
        {"host:123456", 0, NULL, 0},
        {"::1:80", 0, NULL, 0},
        {":80", 0, NULL, 0},
        {"host", 0, NULL, 0},
        {"host:", 0, NULL, 0},
        {"host:8o", 0, NULL, 0},
        {"host:-1", 0, NULL, 0},
        {"host:+80", 0, NULL, 0},
        {"host: 80", 0, NULL, 0},
        {"[::1]", 0, NULL, 0},
        {"[::1]:", 0, NULL, 0},
        {"[::1]8080", 0, NULL, 0},
        {"[::1:8080", 0, NULL, 0},
        {"[]:80", 0, NULL, 0},
        {"", 0, NULL, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char host[64] = "untouched";
        int port = -7;
        int rc = config_split_host_port(cases[i].in, host, sizeof(host), &port);
        if (!CHECK(rc == (cases[i].ok ? 0 : -1)))
            fprintf(stderr, "  input: \"%s\"\n", cases[i].in);
        if (cases[i].ok && rc == 0) {
            CHECK_STR(host, cases[i].host);
            CHECK_EQ(port, cases[i].port);
        }
    }
    /* A host that does not fit the caller's buffer is an error, not a
     * truncation. */
    char small[4];
    int port;
    CHECK(config_split_host_port("abcd:1", small, sizeof(small), &port) == -1);
    CHECK(config_split_host_port("abc:1", small, sizeof(small), &port) == 0);

    /* The same forms through the config, for both listeners. */
    static const char *const sections[] = {"grpc", "http"};
    for (size_t s = 0; s < 2; s++) {
        char text[512];
        const char *good[] = {"127.0.0.1:0", "[::1]:8080"};
        for (size_t g = 0; g < 2; g++) {
            snprintf(text, sizeof(text), "{\"%s\":{\"listen\":\"%s\"}," REGION "," TENANTS "}",
                     sections[s], good[g]);
            struct config cfg;
            struct buf err;
            buf_init(&err, 0);
            if (CHECK(s_load(text, &s_no_env, &cfg, &err) == 0)) {
                CHECK_STR(s == 0 ? cfg.grpc_listen : cfg.http_listen, good[g]);
                config_clean_up(&cfg);
            }
            buf_clean_up(&err);
        }
        const char *bad[] = {"host:99999", "::1:80", ":80", "127.0.0.1"};
        for (size_t b = 0; b < 4; b++) {
            snprintf(text, sizeof(text), "{\"%s\":{\"listen\":\"%s\"}," REGION "," TENANTS "}",
                     sections[s], bad[b]);
            char want[256];
            snprintf(want, sizeof(want), "cfg.json: %s.listen: must be host:port", sections[s]);
            EXPECT_FAIL(text, want);
            snprintf(want, sizeof(want), "got \"%s\"", bad[b]);
            EXPECT_FAIL(text, want);
        }
    }
}

static void test_cors(void)
{
    char text[1024];
    static const char *const good[] = {
        "*",
        "https://app.example.com",
        "http://localhost:3000",
        "https://a.b.c:8443",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        snprintf(text, sizeof(text),
                 "{\"http\":{\"cors_allowed_origins\":[\"%s\"]}," REGION "," TENANTS "}", good[i]);
        EXPECT_OK(text);
    }
    static const char *const bad[] = {
        "",
        "app.example.com",
        "ftp://app.example.com",
        "https://",
        "https://app.example.com/",
        "https://app.example.com/path",
        "https://app.example.com?x=1",
        "https://app.example.com#f",
        "https://app example.com",
        "https://app.example.com\\t",
        "https://\\u00e9xample.com",
        "**",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text),
                 "{\"http\":{\"cors_allowed_origins\":[\"https://ok.example.com\",\"%s\"]}," REGION
                 "," TENANTS "}",
                 bad[i]);
        EXPECT_FAIL(text, "cfg.json: http.cors_allowed_origins[1]: must be \"*\" or an origin");
    }
    EXPECT_FAIL("{\"http\":{\"cors_allowed_origins\":[\"https://a.example.com\",\"*\"]}," REGION
                "," TENANTS "}",
                "cfg.json: http.cors_allowed_origins[1]: \"*\" must be the only entry");
    EXPECT_FAIL("{\"http\":{\"cors_allowed_origins\":[5]}," REGION "," TENANTS "}",
                "cfg.json: http.cors_allowed_origins[0]: must be");
    EXPECT_FAIL("{\"http\":{\"cors_allowed_origins\":[null]}," REGION "," TENANTS "}",
                "cfg.json: http.cors_allowed_origins[0]: must be");

    /* An empty list is allowed (CORS off). */
    EXPECT_OK("{\"http\":{\"cors_allowed_origins\":[]}," REGION "," TENANTS "}");

    /* "*" with credentials: rejected whichever key comes first. */
    EXPECT_FAIL(
        "{\"http\":{\"cors_allowed_origins\":[\"*\"],\"cors_allow_credentials\":true}," REGION
        "," TENANTS "}",
        "\"*\" cannot be combined with cors_allow_credentials");
    EXPECT_FAIL(
        "{\"http\":{\"cors_allow_credentials\":true,\"cors_allowed_origins\":[\"*\"]}," REGION
        "," TENANTS "}",
        "\"*\" cannot be combined with cors_allow_credentials");
    EXPECT_FAIL("{\"http\":{\"cors_allow_credentials\":true,\"cors_allowed_origins\":"
                "[\"https://a.com\",\"*\"]}," REGION "," TENANTS "}",
                "cfg.json: http.cors_allowed_origins[1]: \"*\" cannot be combined");
    EXPECT_OK(
        "{\"http\":{\"cors_allowed_origins\":[\"*\"],\"cors_allow_credentials\":false}," REGION
        "," TENANTS "}");
    EXPECT_OK("{\"http\":{\"cors_allowed_origins\":[\"https://a.com\"],"
              "\"cors_allow_credentials\":true}," REGION "," TENANTS "}");
}

static void test_region(void)
{
    EXPECT_FAIL("{" TENANTS "}", "cfg.json: aws.region: required");
    EXPECT_FAIL("{\"aws\":{\"region\":\"\"}," TENANTS "}", "cfg.json: aws.region: required");
    static const char *const bad[] = {"US-EAST-1", "us_east_1", "us east 1", "us-east-1/", "é"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char text[256];
        char want[128];
        snprintf(text, sizeof(text), "{\"aws\":{\"region\":\"%s\"}," TENANTS "}", bad[i]);
        snprintf(want, sizeof(want), "cfg.json: aws.region: \"%s\" is not a region name", bad[i]);
        EXPECT_FAIL(text, want);
    }
    EXPECT_OK("{\"aws\":{\"region\":\"us-gov-west-1\"}," TENANTS "}");

    /* A bad region from the environment names the variable. */
    struct config_env env = {NULL, NULL, "Bad_Region", NULL};
    EXPECT_FAIL_ENV("{" REGION "," TENANTS "}", &env,
                    "cfg.json: AWS_REGION: \"Bad_Region\" is not a region name");
    struct config_env env2 = {NULL, NULL, NULL, "x y"};
    EXPECT_FAIL_ENV("{" REGION "," TENANTS "}", &env2,
                    "cfg.json: AWS_DEFAULT_REGION: \"x y\" is not a region name");

    /* A region from the environment that does not fit is rejected, not
     * silently truncated into another region name. */
    char longr[101];
    memset(longr, 'a', 100);
    longr[100] = '\0';
    struct config_env env3 = {NULL, NULL, longr, NULL};
    EXPECT_FAIL_ENV("{" TENANTS "}", &env3,
                    "cfg.json: AWS_REGION: too long (at most 63 characters)");
    struct config_env env4 = {NULL, NULL, NULL, longr};
    EXPECT_FAIL_ENV("{" TENANTS "}", &env4,
                    "cfg.json: AWS_DEFAULT_REGION: too long (at most 63 characters)");
}

static void test_env_overrides(void)
{
    static const struct {
        const char *cfg_region, *cfg_endpoint;
        struct config_env env;
        const char *region, *source, *url, *host;
        int port;
    } cases[] = {
        {"us-east-1",
         NULL,
         {NULL, NULL, NULL, NULL},
         "us-east-1",
         "default",
         "https://bedrock.us-east-1.amazonaws.com",
         "bedrock.us-east-1.amazonaws.com",
         0},
        {"us-east-1",
         NULL,
         {NULL, NULL, NULL, "eu-west-1"},
         "eu-west-1",
         "default",
         "https://bedrock.eu-west-1.amazonaws.com",
         "bedrock.eu-west-1.amazonaws.com",
         0},
        {"us-east-1",
         NULL,
         {NULL, NULL, "ap-south-1", "eu-west-1"},
         "ap-south-1",
         "default",
         "https://bedrock.ap-south-1.amazonaws.com",
         "bedrock.ap-south-1.amazonaws.com",
         0},
        {NULL,
         NULL,
         {NULL, NULL, "ap-south-1", NULL},
         "ap-south-1",
         "default",
         "https://bedrock.ap-south-1.amazonaws.com",
         "bedrock.ap-south-1.amazonaws.com",
         0},
        {NULL,
         NULL,
         {NULL, NULL, NULL, "sa-east-1"},
         "sa-east-1",
         "default",
         "https://bedrock.sa-east-1.amazonaws.com",
         "bedrock.sa-east-1.amazonaws.com",
         0},
        /* Empty environment values count as unset. */
        {"us-east-1",
         NULL,
         {"", "", "", ""},
         "us-east-1",
         "default",
         "https://bedrock.us-east-1.amazonaws.com",
         "bedrock.us-east-1.amazonaws.com",
         0},
        {"us-east-1",
         "http://cfg.local:1",
         {NULL, NULL, NULL, NULL},
         "us-east-1",
         "config",
         "http://cfg.local:1",
         "cfg.local",
         1},
        {"us-east-1",
         "http://cfg.local:1",
         {NULL, "http://generic.local:2", NULL, NULL},
         "us-east-1",
         "AWS_ENDPOINT_URL",
         "http://generic.local:2",
         "generic.local",
         2},
        {"us-east-1",
         NULL,
         {NULL, "http://generic.local:2", NULL, NULL},
         "us-east-1",
         "AWS_ENDPOINT_URL",
         "http://generic.local:2",
         "generic.local",
         2},
        {"us-east-1",
         "http://cfg.local:1",
         {"http://bedrock.local:3", "http://generic.local:2", NULL, NULL},
         "us-east-1",
         "AWS_ENDPOINT_URL_BEDROCK",
         "http://bedrock.local:3",
         "bedrock.local",
         3},
        {"us-east-1",
         NULL,
         {"http://bedrock.local:3", NULL, NULL, NULL},
         "us-east-1",
         "AWS_ENDPOINT_URL_BEDROCK",
         "http://bedrock.local:3",
         "bedrock.local",
         3},
        /* The AWS_ENDPOINT_URL is not even looked at when the Bedrock one is
         * set, so garbage there does not matter. */
        {"us-east-1",
         NULL,
         {"http://bedrock.local:3", "not a url", NULL, NULL},
         "us-east-1",
         "AWS_ENDPOINT_URL_BEDROCK",
         "http://bedrock.local:3",
         "bedrock.local",
         3},
        {"us-east-1",
         "http://cfg.local:1",
         {"", "", NULL, NULL},
         "us-east-1",
         "config",
         "http://cfg.local:1",
         "cfg.local",
         1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char aws[512] = "";
        size_t n = 0;
        n += (size_t)snprintf(aws + n, sizeof(aws) - n, "\"aws\":{");
        if (cases[i].cfg_region)
            n += (size_t)snprintf(aws + n, sizeof(aws) - n, "\"region\":\"%s\"%s",
                                  cases[i].cfg_region, cases[i].cfg_endpoint ? "," : "");
        if (cases[i].cfg_endpoint)
            n += (size_t)snprintf(aws + n, sizeof(aws) - n, "\"endpoint\":\"%s\"",
                                  cases[i].cfg_endpoint);
        snprintf(aws + n, sizeof(aws) - n, "}");
        char text[1024];
        snprintf(text, sizeof(text), "{%s," TENANTS "}", aws);
        struct config cfg;
        struct buf err;
        buf_init(&err, 0);
        if (!CHECK(s_load(text, &cases[i].env, &cfg, &err) == 0)) {
            fprintf(stderr, "  case %zu: %s\n", i, err.data);
            buf_clean_up(&err);
            continue;
        }
        if (!CHECK_STR(cfg.region, cases[i].region) ||
            !CHECK_STR(cfg.endpoint_source, cases[i].source) ||
            !CHECK_STR(cfg.endpoint_url, cases[i].url) ||
            !CHECK_STR(cfg.endpoint.host, cases[i].host) ||
            !CHECK_EQ(cfg.endpoint.port, cases[i].port))
            fprintf(stderr, "  case %zu\n", i);
        config_clean_up(&cfg);
        buf_clean_up(&err);
    }
}

static void test_bad_endpoint(void)
{
    EXPECT_FAIL("{\"aws\":{\"region\":\"us-east-1\",\"endpoint\":\"ftp://x\"}," TENANTS "}",
                "cfg.json: aws.endpoint: invalid endpoint URL: ");
    struct config_env e1 = {NULL, "bedrock.local", NULL, NULL};
    EXPECT_FAIL_ENV("{" REGION "," TENANTS "}", &e1,
                    "cfg.json: AWS_ENDPOINT_URL: invalid endpoint URL: ");
    struct config_env e2 = {"http://a b", NULL, NULL, NULL};
    EXPECT_FAIL_ENV("{\"aws\":{\"region\":\"us-east-1\",\"endpoint\":\"http://ok.local\"}," TENANTS
                    "}",
                    &e2, "cfg.json: AWS_ENDPOINT_URL_BEDROCK: invalid endpoint URL: ");
    struct config_env e3 = {"http://x?y=1", "http://fine.local", NULL, NULL};
    EXPECT_FAIL_ENV("{" REGION "," TENANTS "}", &e3,
                    "cfg.json: AWS_ENDPOINT_URL_BEDROCK: invalid endpoint URL: ");

    /* An endpoint from the environment longer than the config can hold is
     * rejected, not truncated into a different URL. */
    /* Trailing slashes are dropped by the URL parser, so the first 511
     * characters of this URL would be a valid endpoint. */
    char url[700];
    snprintf(url, sizeof(url), "http://h.local");
    size_t n = strlen(url);
    memset(url + n, '/', sizeof(url) - n - 1);
    url[sizeof(url) - 1] = '\0';
    struct config_env e4 = {url, NULL, NULL, NULL};
    EXPECT_FAIL_ENV("{" REGION "," TENANTS "}", &e4,
                    "cfg.json: AWS_ENDPOINT_URL_BEDROCK: too long (at most 511 characters)");
    struct config_env e5 = {NULL, url, NULL, NULL};
    EXPECT_FAIL_ENV("{" REGION "," TENANTS "}", &e5,
                    "cfg.json: AWS_ENDPOINT_URL: too long (at most 511 characters)");
    url[511] = '\0'; /* the longest that fits is accepted */
    s_expect_ok_env("{" REGION "," TENANTS "}", &e5, __LINE__);
}

static void test_tenants(void)
{
    EXPECT_FAIL("{" REGION "}", "cfg.json: tenants: required");
    EXPECT_FAIL("{" REGION ",\"tenants\":[]}", "cfg.json: tenants: required");
    EXPECT_FAIL("{" REGION ",\"tenants\":{}}", "cfg.json: tenants: required");
    EXPECT_FAIL("{" REGION ",\"tenants\":[5]}", "cfg.json: tenants[0]: must be an object");
    EXPECT_FAIL("{" REGION ",\"tenants\":[{\"api_keys\":[\"" H_A1 "\"]}]}",
                "cfg.json: tenants[0].id: required");
    EXPECT_FAIL("{" REGION ",\"tenants\":[{\"id\":\"\",\"api_keys\":[\"" H_A1 "\"]}]}",
                "cfg.json: tenants[0].id: required");
    EXPECT_FAIL("{" REGION ",\"tenants\":[{\"id\":7,\"api_keys\":[\"" H_A1 "\"]}]}",
                "cfg.json: tenants[0].id: required");
    static const char *const bad_ids[] = {"a b", "a/b", "ä", "a:b", "a\\tb"};
    for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
        char text[512];
        snprintf(text, sizeof(text),
                 "{" REGION ",\"tenants\":[{\"id\":\"%s\",\"api_keys\":[\"" H_A1 "\"]}]}",
                 bad_ids[i]);
        EXPECT_FAIL(text, "cfg.json: tenants[0].id: required: 1-64 characters of [A-Za-z0-9._-]");
    }
    char id[70];
    memset(id, 'x', sizeof(id));
    {
        char text[512];
        snprintf(text, sizeof(text),
                 "{" REGION ",\"tenants\":[{\"id\":\"%.*s\",\"api_keys\":[\"" H_A1 "\"]}]}", 64,
                 id);
        EXPECT_OK(text);
        snprintf(text, sizeof(text),
                 "{" REGION ",\"tenants\":[{\"id\":\"%.*s\",\"api_keys\":[\"" H_A1 "\"]}]}", 65,
                 id);
        EXPECT_FAIL(text, "cfg.json: tenants[0].id: required");
    }
    EXPECT_FAIL("{" REGION ",\"tenants\":[{\"id\":\"a\",\"api_keys\":[\"" H_A1
                "\"]},{\"id\":\"a\",\"api_keys\":[\"" H_B1 "\"]}]}",
                "cfg.json: tenants[1].id: duplicate tenant id \"a\"");
    EXPECT_FAIL("{" REGION ",\"tenants\":[{\"id\":\"a\"}]}",
                "cfg.json: tenants[0].api_keys: required");
    EXPECT_FAIL("{" REGION ",\"tenants\":[{\"id\":\"a\",\"api_keys\":[]}]}",
                "cfg.json: tenants[0].api_keys: required");
    EXPECT_FAIL("{" REGION ",\"tenants\":[{\"id\":\"a\",\"api_keys\":\"" H_A1 "\"}]}",
                "cfg.json: tenants[0].api_keys: required");

    /* api_keys must be 64 hex digits. */
    static const char *const bad_keys[] = {
        "0effaf23ed21d617de082837ef24b0c232b8e9a35b686cc7601cc82163d30e0",   /* 63 */
        "0effaf23ed21d617de082837ef24b0c232b8e9a35b686cc7601cc82163d30e055", /* 65 */
        "0effaf23ed21d617de082837ef24b0c232b8e9a35b686cc7601cc82163d30e0g",  /* not hex */
        "0effaf23ed21d617de082837ef24b0c232b8e9a35b686cc7601cc82163d30e0 ",  /* space */
        "",
        "key-alpha-1", /* the key itself instead of its hash */
    };
    for (size_t i = 0; i < sizeof(bad_keys) / sizeof(bad_keys[0]); i++) {
        char text[512];
        snprintf(text, sizeof(text),
                 "{" REGION ",\"tenants\":[{\"id\":\"a\",\"api_keys\":[\"" H_A1 "\",\"%s\"]}]}",
                 bad_keys[i]);
        EXPECT_FAIL(text, "cfg.json: tenants[0].api_keys[1]: must be the SHA-256 of the key as "
                          "64 hex digits");
    }
    EXPECT_FAIL("{" REGION ",\"tenants\":[{\"id\":\"a\",\"api_keys\":[42]}]}",
                "cfg.json: tenants[0].api_keys[0]: must be the SHA-256");

    /* The same key hash in two tenants, or twice in one, is ambiguous. */
    EXPECT_FAIL("{" REGION ",\"tenants\":[{\"id\":\"a\",\"api_keys\":[\"" H_A1 "\",\"" H_A2
                "\"]},{\"id\":\"b\",\"api_keys\":[\"" H_B1 "\",\"" H_A2 "\"]}]}",
                "cfg.json: tenants[1].api_keys[1]: the same key is already listed (tenant \"a\")");
    EXPECT_FAIL("{" REGION ",\"tenants\":[{\"id\":\"a\",\"api_keys\":[\"" H_A1 "\",\"" H_A1
                "\"]}]}",
                "cfg.json: tenants[0].api_keys[1]: the same key is already listed (tenant \"a\")");
    /* Hex case does not make a different key. */
    EXPECT_FAIL("{" REGION ",\"tenants\":[{\"id\":\"a\",\"api_keys\":[\"" H_B1
                "\"]},{\"id\":\"b\",\"api_keys\":["
                "\"CE4C51791E0DB31801FE2AA63DA4B85A6092EF04BA14DE4FD64DADA624D6F283\"]}]}",
                "cfg.json: tenants[1].api_keys[0]: the same key is already listed");
}

static void test_json_errors(void)
{
    EXPECT_FAIL("{\n  \"aws\": {\"region\": \"us-east-1\"},\n  \"grpc\": ,\n}",
                "cfg.json: line 3 column ");
    EXPECT_FAIL("", "cfg.json: line ");
    EXPECT_FAIL("{" REGION "," TENANTS "} trailing", "cfg.json: line 1 column ");
    EXPECT_FAIL("{\"aws\":{\"region\":\"us-east-1\",\"region\":\"eu-west-1\"}," TENANTS "}",
                "duplicate");
    EXPECT_FAIL("{" REGION "," REGION "," TENANTS "}", "duplicate");
}

static void test_files(void)
{
    struct config cfg;
    struct buf err;
    buf_init(&err, 0);

    const char *missing = "/nonexistent-dir-bgw/cfg.json";
    CHECK(config_load(missing, &s_no_env, &cfg, &err) == -1);
    CHECK(err.data && strncmp(err.data, "/nonexistent-dir-bgw/cfg.json: ", 31) == 0);
    CHECK(err.data && strstr(err.data, "No such file") != NULL);
    config_clean_up(&cfg);

    char path[] = "/tmp/bgw-config-test-XXXXXX";
    int fd = mkstemp(path);
    if (!CHECK(fd >= 0)) {
        buf_clean_up(&err);
        return;
    }
    const char *text = "{" REGION ",\n" TENANTS "}\n";
    CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    buf_reset(&err);
    if (CHECK(config_load(path, &s_no_env, &cfg, &err) == 0)) {
        CHECK_STR(cfg.region, "us-east-1");
        CHECK_EQ(cfg.tenants.n_tenants, 1);
        config_clean_up(&cfg);
    } else {
        fprintf(stderr, "  %s\n", err.data);
    }

    /* Errors name the file path. */
    FILE *f = fopen(path, "w");
    if (CHECK(f != NULL)) {
        fputs("{\"http\":{\"bogus\":1}," REGION "," TENANTS "}", f);
        fclose(f);
    }
    buf_reset(&err);
    CHECK(config_load(path, &s_no_env, &cfg, &err) == -1);
    char want[128];
    snprintf(want, sizeof(want), "%s: http.bogus: unknown key", path);
    CHECK_STR(err.data, want);
    config_clean_up(&cfg);

    /* An empty file is a JSON error, not a crash. */
    f = fopen(path, "w");
    if (CHECK(f != NULL))
        fclose(f);
    buf_reset(&err);
    CHECK(config_load(path, &s_no_env, &cfg, &err) == -1);
    snprintf(want, sizeof(want), "%s: line ", path);
    CHECK(err.data && strncmp(err.data, want, strlen(want)) == 0);
    config_clean_up(&cfg);

    unlink(path);
    buf_clean_up(&err);
}

/* Failures after allocations (origins, tenants, key tables) must free them:
 * under ASan, LeakSanitizer fails the run if they do not. */
static void test_failure_paths_free(void)
{
    EXPECT_FAIL("{\"http\":{\"cors_allowed_origins\":[\"https://a.com\",\"https://b.com\"]}," REGION
                ",\"tenants\":[{\"id\":\"a\",\"api_keys\":[\"" H_A1 "\",\"" H_A2
                "\"]},{\"id\":\"b\",\"api_keys\":[\"" H_B1 "\",\"zz\"]}]}",
                "cfg.json: tenants[1].api_keys[1]");
    EXPECT_FAIL("{\"http\":{\"cors_allowed_origins\":[\"https://a.com\",\"bad\"]}," REGION
                "," TENANTS "}",
                "cfg.json: http.cors_allowed_origins[1]");
    EXPECT_FAIL("{\"http\":{\"cors_allowed_origins\":[\"https://a.com\"]}," REGION
                ",\"gateway\":{\"log_level\":\"loud\"}," TENANTS "}",
                "cfg.json: gateway.log_level");
    EXPECT_FAIL("{" REGION ",\"tenants\":[{\"id\":\"a\",\"api_keys\":[\"" H_A1
                "\"]},{\"id\":\"a\",\"api_keys\":[\"" H_B1 "\"]}]}",
                "duplicate tenant id");
    EXPECT_FAIL("{" REGION ",\"tenants\":[{\"id\":\"a\",\"api_keys\":[\"" H_A1 "\"]},\"oops\"]}",
                "cfg.json: tenants[1]: must be an object");
    EXPECT_FAIL("{" REGION ",\"tenants\":[{\"id\":\"a\",\"api_keys\":[\"" H_A1
                "\"]},{\"id\":\"b\",\"api_keys\":[],\"x\":1}]}",
                "cfg.json: tenants[1].x: unknown key");

    /* A successful load after failures into the same struct starts clean. */
    struct config cfg;
    struct buf err;
    buf_init(&err, 0);
    CHECK(s_load("{\"http\":{\"cors_allowed_origins\":[\"https://a.com\"]},\"bogus\":1}", &s_no_env,
                 &cfg, &err) == -1);
    if (CHECK(s_load("{" REGION "," TENANTS "}", &s_no_env, &cfg, &err) == 0)) {
        CHECK_EQ(cfg.n_cors_origins, 0);
        config_clean_up(&cfg);
    }
    buf_clean_up(&err);
}

/* http.tls, tenants[].mtls_subjects and tenants[].rate_limit (issue 3b). */
#define HTTP_MTLS                                                                                  \
    "\"http\":{\"tls\":{\"cert_file\":\"s.crt\",\"key_file\":\"s.key\",\"client_ca_file\":\"ca."   \
    "crt\"}}"
static void test_tls_mtls_rate_limit(void)
{
    struct config cfg;
    struct buf err;
    buf_init(&err, 0);
    const char *text = "{" REGION "," HTTP_MTLS ",\"tenants\":["
                       "{\"id\":\"alpha\",\"api_keys\":[\"" H_A1 "\"],"
                       "\"mtls_subjects\":[\"CN=svc-a.internal\",\"DNS:svc-a.internal\"],"
                       "\"rate_limit\":{\"rps\":5,\"burst\":10}},"
                       "{\"id\":\"beta\",\"mtls_subjects\":[\"URI:spiffe://corp/b\"],"
                       "\"rate_limit\":{\"rps\":0.5},"
                       "\"policy\":{\"job_name_prefixes\":[\"b-\"],\"max_results\":7}},"
                       "{\"id\":\"gamma\",\"api_keys\":[\"" H_B1 "\"]}]}";
    if (CHECK(s_load(text, &s_no_env, &cfg, &err) == 0)) {
        CHECK_STR(cfg.http_tls.cert_file, "s.crt");
        CHECK_STR(cfg.http_tls.key_file, "s.key");
        CHECK_STR(cfg.http_tls.client_ca_file, "ca.crt");
        CHECK(!cfg.http_tls.require_client_cert);
        const struct tenant *a = &cfg.tenants.tenants[0], *b = &cfg.tenants.tenants[1],
                            *g = &cfg.tenants.tenants[2];
        CHECK_EQ(a->n_mtls_subjects, 2);
        CHECK_STR(a->mtls_subjects[1], "DNS:svc-a.internal");
        CHECK_EQ(a->rate_limit.rate_mrps, 5000);
        CHECK_EQ(a->rate_limit.burst, 10);
        CHECK_EQ(b->n_keys, 0); /* certificate-only tenant */
        CHECK_EQ(b->rate_limit.rate_mrps, 500);
        CHECK_EQ(b->rate_limit.burst, 1); /* default: rps rounded up */
        /* A certificate-only tenant's policy is read too (all three keys). */
        CHECK_EQ(b->policy.n_prefixes, 1);
        CHECK_STR(b->policy.prefixes[0], "b-");
        CHECK_EQ(b->policy.max_results, 7);
        CHECK_EQ(a->policy.n_prefixes, 0);
        CHECK_EQ(g->rate_limit.rate_mrps, 0); /* absent: unlimited */
        CHECK_EQ(g->n_mtls_subjects, 0);
        config_clean_up(&cfg);
    } else {
        fprintf(stderr, "  %s\n", err.data);
    }
    buf_clean_up(&err);

#define T1(extra)                                                                                  \
    "{" REGION "," HTTP_MTLS ",\"tenants\":[{\"id\":\"alpha\",\"api_keys\":[\"" H_A1 "\"]" extra   \
    "}]}"
    EXPECT_FAIL("{" REGION ",\"http\":{\"tls\":{\"cert_file\":\"s.crt\"}}," TENANTS "}",
                "cfg.json: http.tls: cert_file and key_file are both required");
    EXPECT_FAIL("{" REGION ",\"http\":{\"tls\":{\"cert_file\":\"a\",\"key_file\":\"b\",\"require_"
                "client_cert\":true}}," TENANTS "}",
                "http.tls.require_client_cert: requires client_ca_file");
    EXPECT_FAIL("{" REGION
                ",\"http\":{\"tls\":{\"cert_file\":\"a\",\"key_file\":\"b\",\"x\":1}}," TENANTS "}",
                "http.tls.x: unknown key");
    EXPECT_FAIL("{" REGION ",\"http\":{\"tls\":true}," TENANTS "}", "http.tls: must be an object");
    EXPECT_FAIL(T1(",\"mtls_subjects\":[]"), "tenants[0].mtls_subjects: must be a non-empty array");
    EXPECT_FAIL(T1(",\"mtls_subjects\":\"CN=a\""),
                "tenants[0].mtls_subjects: must be a non-empty array");
    EXPECT_FAIL(T1(",\"mtls_subjects\":[\"svc-a\"]"),
                "tenants[0].mtls_subjects[0]: must start with CN=");
    EXPECT_FAIL(T1(",\"mtls_subjects\":[\"CN=a\",7]"),
                "tenants[0].mtls_subjects[1]: must be a string");
    EXPECT_FAIL(T1(",\"mtls_subjects\":[\"DNS:*.internal\"]"),
                "tenants[0].mtls_subjects[0]: DNS names are matched exactly");
    EXPECT_FAIL(T1(",\"mtls_subjects\":[\"CN=a\",\"CN=a\"]"),
                "tenants[0].mtls_subjects[1]: \"CN=a\" is already listed (tenant \"alpha\")");
    EXPECT_FAIL("{" REGION "," HTTP_MTLS
                ",\"tenants\":[{\"id\":\"a\",\"mtls_subjects\":[\"DNS:x.internal\"]},"
                "{\"id\":\"b\",\"mtls_subjects\":[\"DNS:X.Internal\"]}]}",
                "tenants[1].mtls_subjects[0]: \"DNS:X.Internal\" is already listed (tenant \"a\")");
    EXPECT_FAIL("{" REGION ",\"tenants\":[{\"id\":\"a\",\"api_keys\":[\"" H_A1
                "\"],\"mtls_subjects\":[\"CN=a\"]}]}",
                "tenants[0].mtls_subjects: no listener asks for client certificates");
    EXPECT_FAIL("{" REGION "," HTTP_MTLS ",\"tenants\":[{\"id\":\"a\"}]}",
                "tenants[0].api_keys: required: a non-empty array of SHA-256 hex digests of keys "
                "(may be omitted when mtls_subjects is set)");
    EXPECT_FAIL("{" REGION "," HTTP_MTLS ",\"tenants\":[{\"id\":\"a\",\"mtls_subjects\":[\"CN=a\"],"
                "\"policy\":{\"statuses\":[\"Nope\"]}}]}",
                "cfg.json: tenants[0].policy.statuses");
    EXPECT_FAIL(T1(",\"rate_limit\":5"), "tenants[0].rate_limit: must be an object");
    EXPECT_FAIL(T1(",\"rate_limit\":{}"), "tenants[0].rate_limit.rps: required");
    EXPECT_FAIL(T1(",\"rate_limit\":{\"rps\":\"5\"}"), "tenants[0].rate_limit.rps: required");
    EXPECT_FAIL(T1(",\"rate_limit\":{\"rps\":0}"),
                "tenants[0].rate_limit.rps: must be between 0.001 and 1000000");
    EXPECT_FAIL(T1(",\"rate_limit\":{\"rps\":-1}"), "tenants[0].rate_limit.rps: must be between");
    EXPECT_FAIL(T1(",\"rate_limit\":{\"rps\":2000000}"),
                "tenants[0].rate_limit.rps: must be between");
    EXPECT_FAIL(T1(",\"rate_limit\":{\"rps\":5,\"burst\":0}"),
                "tenants[0].rate_limit.burst: must be between 1 and 1000000");
    EXPECT_FAIL(T1(",\"rate_limit\":{\"rps\":5,\"burst\":1.5}"),
                "tenants[0].rate_limit.burst: must be an integer");
    EXPECT_FAIL(T1(",\"rate_limit\":{\"rps\":5,\"per\":1}"),
                "tenants[0].rate_limit.per: unknown key");
    EXPECT_OK(T1(",\"rate_limit\":{\"rps\":1000000,\"burst\":1000000}"));
    EXPECT_OK(T1(",\"rate_limit\":{\"rps\":0.001}"));
#undef T1
}

/* cache.* (issue 4) and http.metrics_enabled: defaults, every key, bounds,
 * types, the entry/total relation. */
static void test_cache(void)
{
    struct config cfg;
    struct buf err;
    buf_init(&err, 0);
    if (CHECK(s_load("{" REGION "," TENANTS "}", &s_no_env, &cfg, &err) == 0)) {
        CHECK(cfg.cache.enabled);
        CHECK_EQ(cfg.cache.ttl_ms, CACHE_DEFAULT_TTL_MS);
        CHECK_EQ(cfg.cache.swr_ms, CACHE_DEFAULT_SWR_MS);
        CHECK_EQ(cfg.cache.sie_ms, CACHE_DEFAULT_SIE_MS);
        CHECK_EQ(cfg.cache.max_bytes, CACHE_DEFAULT_MAX_BYTES);
        CHECK_EQ(cfg.cache.max_entry_bytes, CACHE_DEFAULT_MAX_ENTRY_BYTES);
        CHECK(cfg.http_metrics_enabled);
        CHECK(cfg.http_openapi_enabled);
        config_clean_up(&cfg);
    }
    const char *text = "{" REGION "," TENANTS ",\"http\":{\"metrics_enabled\":false,"
                       "\"openapi_enabled\":false},"
                       "\"cache\":{\"enabled\":false,\"ttl_ms\":1234,\"swr_ms\":0,"
                       "\"sie_ms\":86400000,\"max_bytes\":1048576,\"max_entry_bytes\":4096}}";
    if (CHECK(s_load(text, &s_no_env, &cfg, &err) == 0)) {
        CHECK(!cfg.cache.enabled);
        CHECK_EQ(cfg.cache.ttl_ms, 1234);
        CHECK_EQ(cfg.cache.swr_ms, 0);
        CHECK_EQ(cfg.cache.sie_ms, 86400000);
        CHECK_EQ(cfg.cache.max_bytes, 1048576);
        CHECK_EQ(cfg.cache.max_entry_bytes, 4096);
        CHECK(!cfg.http_metrics_enabled);
        CHECK(!cfg.http_openapi_enabled);
        config_clean_up(&cfg);
    } else {
        fprintf(stderr, "  %s\n", err.data);
    }
    buf_clean_up(&err);
#define C1(body) "{" REGION "," TENANTS ",\"cache\":" body "}"
    EXPECT_OK(C1("{}"));
    EXPECT_FAIL(C1("true"), "cfg.json: cache: must be an object");
    EXPECT_FAIL(C1("{\"enabled\":1}"), "cfg.json: cache.enabled: must be true or false");
    EXPECT_FAIL(C1("{\"ttl\":5}"), "cfg.json: cache.ttl: unknown key");
    EXPECT_FAIL(C1("{\"ttl_ms\":0}"), "cfg.json: cache.ttl_ms");
    EXPECT_FAIL(C1("{\"ttl_ms\":86400001}"), "cfg.json: cache.ttl_ms");
    EXPECT_FAIL(C1("{\"ttl_ms\":\"5\"}"), "cfg.json: cache.ttl_ms");
    EXPECT_FAIL(C1("{\"swr_ms\":-1}"), "cfg.json: cache.swr_ms");
    EXPECT_FAIL(C1("{\"sie_ms\":1.5}"), "cfg.json: cache.sie_ms");
    EXPECT_FAIL(C1("{\"max_bytes\":4095}"), "cfg.json: cache.max_bytes");
    EXPECT_FAIL(C1("{\"max_entry_bytes\":1023}"), "cfg.json: cache.max_entry_bytes");
    EXPECT_FAIL(C1("{\"max_bytes\":8192,\"max_entry_bytes\":16384}"),
                "cfg.json: cache.max_entry_bytes: must not exceed cache.max_bytes");
#undef C1
    EXPECT_FAIL("{" REGION "," TENANTS ",\"http\":{\"metrics_enabled\":\"no\"}}",
                "cfg.json: http.metrics_enabled: must be true or false");
    EXPECT_FAIL("{" REGION "," TENANTS ",\"http\":{\"openapi_enabled\":1}}",
                "cfg.json: http.openapi_enabled: must be true or false");
}

int main(void)
{
    test_defaults();
    test_every_key();
    test_unknown_keys();
    test_type_errors();
    test_bounds();
    test_split_host_port();
    test_cors();
    test_region();
    test_env_overrides();
    test_bad_endpoint();
    test_tenants();
    test_json_errors();
    test_files();
    test_failure_paths_free();
    test_tls_mtls_rate_limit();
    test_cache();
    return TEST_EXIT();
}
