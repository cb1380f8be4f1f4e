/*
 * bedrock_client_test - endpoint parsing, the exact signed request built for
 * ListModelImportJobs, success-body parsing and the upstream error table.
 * The expected signatures were computed once, independently of sigv4.c, with
 * a short python3 script (hmac/hashlib, urllib.parse.quote(safe="-._~")) on
 * the same inputs; the tests also recompute them through the sigv4 stages.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bedrock_client.h"
#include "buf.h"
#include "sigv4.h"

static int s_failures;
static int s_checks;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        s_checks++;                                                                                \
        if (!(cond)) {                                                                             \
            s_failures++;                                                                          \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *a_ = (a);                                                                      \
        const char *b_ = (b);                                                                      \
        s_checks++;                                                                                \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                                   \
            s_failures++;                                                                          \
            fprintf(stderr, "%s:%d: CHECK_STR failed: %s\n  got:      %s\n  expected: %s\n",       \
                    __FILE__, __LINE__, #a, a_ ? a_ : "(null)", b_ ? b_ : "(null)");               \
        }                                                                                          \
    } while (0)

#define CHECK_INT(a, b)                                                                            \
    do {                                                                                           \
        long long a_ = (long long)(a);                                                             \
        long long b_ = (long long)(b);                                                             \
        s_checks++;                                                                                \
        if (a_ != b_) {                                                                            \
            s_failures++;                                                                          \
            fprintf(stderr, "%s:%d: CHECK_INT failed: %s = %lld, expected %lld\n", __FILE__,       \
                    __LINE__, #a, a_, b_);                                                         \
        }                                                                                          \
    } while (0)

/* 2015-08-30T12:36:00Z, the AWS suite's signing time. */
#define T_NOW 1440938160
#define T_AKID "AKIDEXAMPLE"
#define T_SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define T_TOKEN "FQoGZXIvYXdzEXAMPLE/token+x="

/* ------------------------------------------------------------------------ */

static void test_endpoint_parse(void)
{
    static const struct {
        const char *url;
        int ok;
        const char *scheme, *host;
        int port;
        const char *base;
    } cases[] = {
        {"https://bedrock.us-east-1.amazonaws.com", 1, "https", "bedrock.us-east-1.amazonaws.com",
         0, ""},
        {"https://bedrock.us-east-1.amazonaws.com/", 1, "https", "bedrock.us-east-1.amazonaws.com",
         0, ""},
        {"HTTPS://Bedrock-FIPS.us-east-1.amazonaws.com", 1, "https",
         "bedrock-fips.us-east-1.amazonaws.com", 0, ""},
        {"http://127.0.0.1:8123", 1, "http", "127.0.0.1", 8123, ""},
        {"http://localhost:1", 1, "http", "localhost", 1, ""},
        {"http://localhost:65535/", 1, "http", "localhost", 65535, ""},
        {"https://example.com:443", 1, "https", "example.com", 443, ""},
        {"http://[::1]:8080", 1, "http", "::1", 8080, ""},
        {"http://[::1]", 1, "http", "::1", 0, ""},
        {"https://[2001:db8::1]/base", 1, "https", "2001:db8::1", 0, "/base"},
        {"http://fake:9000/prefix/v1/", 1, "http", "fake", 9000, "/prefix/v1"},
        {"http://fake/a//", 1, "http", "fake", 0, "/a"},
        {"http://fake_bedrock:9000", 1, "http", "fake_bedrock", 9000, ""},
        /* rejected */
        {NULL, 0, NULL, NULL, 0, NULL},
        {"", 0, NULL, NULL, 0, NULL},
        {"ftp://example.com", 0, NULL, NULL, 0, NULL},
        {"example.com", 0, NULL, NULL, 0, NULL},
        {"https//example.com", 0, NULL, NULL, 0, NULL},
        {"https://", 0, NULL, NULL, 0, NULL},
        {"https:///path", 0, NULL, NULL, 0, NULL},
        {"https://user:pw@example.com", 0, NULL, NULL, 0, NULL},
        {"https://user@example.com/", 0, NULL, NULL, 0, NULL},
        {"https://example.com/?x=1", 0, NULL, NULL, 0, NULL},
        {"https://example.com?x=1", 0, NULL, NULL, 0, NULL},
        {"https://example.com/#frag", 0, NULL, NULL, 0, NULL},
        {"https://example.com:0", 0, NULL, NULL, 0, NULL},
        {"https://example.com:65536", 0, NULL, NULL, 0, NULL},
        {"https://example.com:123456", 0, NULL, NULL, 0, NULL},
        {"https://example.com:", 0, NULL, NULL, 0, NULL},
        {"https://example.com:8a", 0, NULL, NULL, 0, NULL},
        {"https://example.com:-1", 0, NULL, NULL, 0, NULL},
        {"https://:8080", 0, NULL, NULL, 0, NULL},
        {"https://exa mple.com", 0, NULL, NULL, 0, NULL},
        {"https://example.com /", 0, NULL, NULL, 0, NULL},
        {"https://example.com\n", 0, NULL, NULL, 0, NULL},
        {"https://exa%6Dple.com", 0, NULL, NULL, 0, NULL},
        {"https://[::1", 0, NULL, NULL, 0, NULL},
        {"https://[::1]x", 0, NULL, NULL, 0, NULL},
        {"https://[not-ipv6]", 0, NULL, NULL, 0, NULL},
        {"https://[]:80", 0, NULL, NULL, 0, NULL},
        {"https://::1:80", 0, NULL, NULL, 0, NULL},
        {"https://example.com/a/../b", 0, NULL, NULL, 0, NULL},
        {"https://example.com/a/./b", 0, NULL, NULL, 0, NULL},
        {"https://example.com/a//b", 0, NULL, NULL, 0, NULL},
        {"https://example.com/a%20b", 0, NULL, NULL, 0, NULL},
        {"https://example.com/a;b", 0, NULL, NULL, 0, NULL},
        {"https://example.com/caf\xc3\xa9", 0, NULL, NULL, 0, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct bedrock_endpoint ep;
        char why[128];
        memset(&ep, 0x55, sizeof(ep));
        int rc = bedrock_endpoint_parse(cases[i].url, &ep, why, sizeof(why));
        if (cases[i].ok) {
            if (rc != 0)
                fprintf(stderr, "endpoint case %zu (%s): %s\n", i, cases[i].url, why);
            CHECK_INT(rc, 0);
            if (rc == 0) {
                CHECK_STR(ep.scheme, cases[i].scheme);
                CHECK_STR(ep.host, cases[i].host);
                CHECK_INT(ep.port, cases[i].port);
                CHECK_STR(ep.base_path, cases[i].base);
            }
        } else {
            if (rc != -1)
                fprintf(stderr, "endpoint case %zu (%s) accepted\n", i,
                        cases[i].url ? cases[i].url : "NULL");
            CHECK_INT(rc, -1);
            CHECK(why[0] != '\0'); /* a reason is always given */
        }
    }

    /* the reason names the defect */
    char why[128];
    struct bedrock_endpoint ep;
    bedrock_endpoint_parse("https://u:p@h", &ep, why, sizeof(why));
    CHECK(strstr(why, "user info") != NULL);
    CHECK(strstr(why, "p@") == NULL); /* never echoes the password */
    bedrock_endpoint_parse("https://h/?q", &ep, why, sizeof(why));
    CHECK(strstr(why, "query") != NULL);
    bedrock_endpoint_parse("https://h/#f", &ep, why, sizeof(why));
    CHECK(strstr(why, "fragment") != NULL);
    bedrock_endpoint_parse("gopher://h", &ep, why, sizeof(why));
    CHECK(strstr(why, "http") != NULL);
    bedrock_endpoint_parse("http://h:70000", &ep, why, sizeof(why));
    CHECK(strstr(why, "port") != NULL);
    /* a tiny or absent reason buffer is fine */
    CHECK_INT(bedrock_endpoint_parse("nope", &ep, NULL, 0), -1);
    char tiny[4];
    CHECK_INT(bedrock_endpoint_parse("nope", &ep, tiny, sizeof(tiny)), -1);
    CHECK_INT(strlen(tiny), 3);

    /* a host that does not fit */
    char long_url[400];
    memset(long_url, 'a', sizeof(long_url));
    memcpy(long_url, "https://", 8);
    long_url[sizeof(long_url) - 1] = '\0';
    CHECK_INT(bedrock_endpoint_parse(long_url, &ep, why, sizeof(why)), -1);
    /* a path that does not fit */
    memset(long_url, 'a', sizeof(long_url));
    memcpy(long_url, "https://h/", 10);
    long_url[sizeof(long_url) - 1] = '\0';
    CHECK_INT(bedrock_endpoint_parse(long_url, &ep, why, sizeof(why)), -1);
}

static void test_endpoint_default(void)
{
    struct bedrock_endpoint ep;
    CHECK_INT(bedrock_endpoint_default("us-east-1", &ep), 0);
    CHECK_STR(ep.scheme, "https");
    CHECK_STR(ep.host, "bedrock.us-east-1.amazonaws.com");
    CHECK_INT(ep.port, 0);
    CHECK_STR(ep.base_path, "");
    CHECK_INT(bedrock_endpoint_default("ap-southeast-2", &ep), 0);
    CHECK_STR(ep.host, "bedrock.ap-southeast-2.amazonaws.com");

    static const char *const bad[] = {"",        "US-EAST-1", "us_east_1", "us-east-1.evil.com",
                                      "us east", "us/east",   "x:1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_INT(bedrock_endpoint_default(bad[i], &ep), -1);
    CHECK_INT(bedrock_endpoint_default(NULL, &ep), -1);
    char long_region[200];
    memset(long_region, 'a', sizeof(long_region) - 1);
    long_region[sizeof(long_region) - 1] = '\0';
    CHECK_INT(bedrock_endpoint_default(long_region, &ep), -1);

    char host[300];
    struct bedrock_endpoint e2;
    bedrock_endpoint_parse("https://h.example:443", &e2, NULL, 0);
    CHECK_INT(bedrock_endpoint_host_header(&e2, host, sizeof(host)), 9);
    CHECK_STR(host, "h.example");
    bedrock_endpoint_parse("http://h.example:80", &e2, NULL, 0);
    bedrock_endpoint_host_header(&e2, host, sizeof(host));
    CHECK_STR(host, "h.example");
    bedrock_endpoint_parse("http://h.example:443", &e2, NULL, 0);
    bedrock_endpoint_host_header(&e2, host, sizeof(host));
    CHECK_STR(host, "h.example:443");
    bedrock_endpoint_parse("https://h.example:80", &e2, NULL, 0);
    bedrock_endpoint_host_header(&e2, host, sizeof(host));
    CHECK_STR(host, "h.example:80");
    bedrock_endpoint_parse("http://[::1]", &e2, NULL, 0);
    bedrock_endpoint_host_header(&e2, host, sizeof(host));
    CHECK_STR(host, "[::1]");
    CHECK_INT(bedrock_endpoint_host_header(&e2, host, 5), -1);

    struct buf b;
    buf_init(&b, 0);
    bedrock_endpoint_parse("http://[::1]:8080/p", &e2, NULL, 0);
    CHECK_INT(bedrock_endpoint_format(&e2, &b), 0);
    CHECK_STR(b.data, "http://[::1]:8080/p");
    buf_clean_up(&b);
}

/* ------------------------------------------------------------------------ */

static const char *s_find_header(const struct bedrock_http_request *r, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < r->n_headers; i++) {
        if (strncmp(r->headers[i], name, n) == 0 && r->headers[i][n] == ':' &&
            r->headers[i][n + 1] == ' ')
            return r->headers[i] + n + 2;
    }
    return NULL;
}

/* Recomputes the signature through the sigv4 stages from the URL and
 * headers actually built, so that what is sent is what was signed. */
static void s_check_signature_by_stages(const struct bedrock_http_request *r, const char *region,
                                        const char *token)
{
    /* split the URL: path and decoded query pairs */
    const char *after_scheme = strstr(r->url, "://");
    CHECK(after_scheme != NULL);
    if (!after_scheme)
        return;
    const char *path_start = strchr(after_scheme + 3, '/');
    CHECK(path_start != NULL);
    if (!path_start)
        return;
    char path[512];
    size_t plen = strcspn(path_start, "?");
    CHECK(plen < sizeof(path));
    memcpy(path, path_start, plen);
    path[plen] = '\0';

    struct sigv4_kv q[16];
    char storage[8][4096];
    size_t nq = 0;
    const char *qs = path_start[plen] == '?' ? path_start + plen + 1 : NULL;
    while (qs && *qs && nq < 8) {
        size_t len = strcspn(qs, "&");
        /* percent-decode name=value into storage[nq] */
        char *d = storage[nq];
        size_t o = 0;
        char *eq = NULL;
        for (size_t i = 0; i < len && o + 1 < sizeof(storage[nq]); i++) {
            if (qs[i] == '%' && i + 2 < len + 1) {
                char hex[3] = {qs[i + 1], qs[i + 2], 0};
                d[o++] = (char)strtol(hex, NULL, 16);
                i += 2;
            } else if (qs[i] == '=' && !eq) {
                d[o++] = '\0';
                eq = d + o;
            } else {
                d[o++] = qs[i];
            }
        }
        d[o] = '\0';
        q[nq].name = d;
        q[nq].value = eq ? eq : "";
        nq++;
        qs += len;
        if (*qs == '&')
            qs++;
    }

    struct sigv4_kv h[3] = {
        {"host", s_find_header(r, "host")},
        {"x-amz-date", s_find_header(r, "x-amz-date")},
        {"x-amz-security-token", token},
    };
    struct sigv4_request sreq = {
        .method = "GET",
        .path = path,
        .query = q,
        .n_query = nq,
        .headers = h,
        .n_headers = token ? 3 : 2,
    };
    struct sigv4_options so = {
        .region = region, .service = "bedrock", .epoch_s = T_NOW, .normalize_path = true};
    struct buf creq, sts;
    buf_init(&creq, 0);
    buf_init(&sts, 0);
    unsigned char key[32];
    char sig[65];
    CHECK_INT(sigv4_canonical_request(&sreq, &so, &creq, NULL), 0);
    /* the canonical query is exactly the URL's query */
    const char *cq = strchr(creq.data, '\n');
    cq = cq ? strchr(cq + 1, '\n') : NULL;
    CHECK(cq != NULL);
    if (cq) {
        const char *url_q = strchr(r->url, '?');
        size_t cq_len = strcspn(cq + 1, "\n");
        if (url_q) {
            CHECK_INT(cq_len, strlen(url_q + 1));
            CHECK(strncmp(cq + 1, url_q + 1, cq_len) == 0);
        } else {
            CHECK_INT(cq_len, 0);
        }
    }
    CHECK_INT(sigv4_string_to_sign(creq.data, &so, &sts), 0);
    CHECK_INT(sigv4_signing_key(T_SECRET, &so, key), 0);
    CHECK_INT(sigv4_signature(key, sts.data, sig), 0);
    const char *auth = s_find_header(r, "authorization");
    const char *got = auth ? strstr(auth, "Signature=") : NULL;
    CHECK(got != NULL);
    if (got)
        CHECK_STR(got + strlen("Signature="), sig);
    buf_clean_up(&creq);
    buf_clean_up(&sts);
}

static void test_build_full(void)
{
    struct bedrock_endpoint ep;
    CHECK_INT(bedrock_endpoint_default("us-east-1", &ep), 0);
    struct sigv4_credentials creds = {T_AKID, T_SECRET, T_TOKEN};
    struct bedrock_request_options opts = {
        .endpoint = &ep,
        .region = "us-east-1",
        .credentials = &creds,
        .now_s = T_NOW,
        .default_max_results = 100,
    };
    char name[] = "a+b";
    char token[] = "abc/def+ghi==";
    struct jobs_request req = {
        .has_creation_time_after = true,
        .creation_time_after = {1704164645, 500}, /* 2024-01-02T03:04:05.000000500Z */
        .has_creation_time_before = true,
        .creation_time_before = {1735689600, 0}, /* 2025-01-01T00:00:00Z */
        .status_equals = JOBS_STATUS_IN_PROGRESS,
        .name_contains = name,
        .has_max_results = true,
        .max_results = 50,
        .next_token = token,
        .sort_by = JOBS_SORT_BY_CREATION_TIME,
        .sort_order = JOBS_SORT_ORDER_DESCENDING,
    };
    struct bedrock_http_request out;
    struct bgw_error err;
    CHECK_INT(bedrock_build_list_request(&req, &opts, &out, &err), BGW_OK);
    CHECK_INT(err.status, BGW_OK);
    CHECK_STR(out.url, "https://bedrock.us-east-1.amazonaws.com/model-import-jobs"
                       "?creationTimeAfter=2024-01-02T03%3A04%3A05.000000500Z"
                       "&creationTimeBefore=2025-01-01T00%3A00%3A00Z"
                       "&maxResults=50"
                       "&nameContains=a%2Bb"
                       "&nextToken=abc%2Fdef%2Bghi%3D%3D"
                       "&sortBy=CreationTime"
                       "&sortOrder=Descending"
                       "&statusEquals=InProgress");
    CHECK_INT(out.n_headers, 5);
    if (out.n_headers == 5) {
        CHECK_STR(out.headers[0], "host: bedrock.us-east-1.amazonaws.com");
        CHECK_STR(out.headers[1], "x-amz-date: 20150830T123600Z");
        CHECK_STR(out.headers[2], "x-amz-security-token: " T_TOKEN);
        CHECK_STR(out.headers[3], "accept: application/json");
        CHECK_STR(out.headers[4],
                  "authorization: AWS4-HMAC-SHA256 "
                  "Credential=AKIDEXAMPLE/20150830/us-east-1/bedrock/aws4_request, "
                  "SignedHeaders=host;x-amz-date;x-amz-security-token, "
                  "Signature=1ac42f3eef6f425ce446e5e8d4a071ceb67acc7933b5a3e861fd97d67289a04a");
    }
    s_check_signature_by_stages(&out, "us-east-1", T_TOKEN);
    /* the secret never appears anywhere */
    CHECK(strstr(out.url, "wJalr") == NULL);
    for (size_t i = 0; i < out.n_headers; i++)
        CHECK(strstr(out.headers[i], "wJalr") == NULL);
    bedrock_http_request_clean_up(&out);
    CHECK(out.url == NULL);
    CHECK_INT(out.n_headers, 0);

    /* nanos with millisecond / microsecond precision */
    struct jobs_request r2 = {.has_creation_time_after = true,
                              .creation_time_after = {1704164645, 123000000},
                              .has_creation_time_before = true,
                              .creation_time_before = {1704164645, 123456000}};
    CHECK_INT(bedrock_build_list_request(&r2, &opts, &out, &err), BGW_OK);
    CHECK_STR(out.url, "https://bedrock.us-east-1.amazonaws.com/model-import-jobs"
                       "?creationTimeAfter=2024-01-02T03%3A04%3A05.123Z"
                       "&creationTimeBefore=2024-01-02T03%3A04%3A05.123456Z"
                       "&maxResults=100");
    s_check_signature_by_stages(&out, "us-east-1", T_TOKEN);
    bedrock_http_request_clean_up(&out);

    /* other spellings */
    struct jobs_request r3 = {.status_equals = JOBS_STATUS_COMPLETED,
                              .sort_order = JOBS_SORT_ORDER_ASCENDING};
    CHECK_INT(bedrock_build_list_request(&r3, &opts, &out, &err), BGW_OK);
    CHECK_STR(out.url, "https://bedrock.us-east-1.amazonaws.com/model-import-jobs"
                       "?maxResults=100&sortOrder=Ascending&statusEquals=Completed");
    bedrock_http_request_clean_up(&out);
    struct jobs_request r4 = {.status_equals = JOBS_STATUS_FAILED,
                              .name_contains = (char *)"my model"};
    CHECK_INT(bedrock_build_list_request(&r4, &opts, &out, &err), BGW_OK);
    CHECK_STR(out.url, "https://bedrock.us-east-1.amazonaws.com/model-import-jobs"
                       "?maxResults=100&nameContains=my%20model&statusEquals=Failed");
    s_check_signature_by_stages(&out, "us-east-1", T_TOKEN);
    bedrock_http_request_clean_up(&out);
}

static void test_build_none(void)
{
    struct bedrock_endpoint ep;
    CHECK_INT(bedrock_endpoint_default("us-east-1", &ep), 0);
    struct sigv4_credentials creds = {T_AKID, T_SECRET, NULL};
    struct bedrock_request_options opts = {
        .endpoint = &ep, .region = "us-east-1", .credentials = &creds, .now_s = T_NOW};
    struct jobs_request req;
    memset(&req, 0, sizeof(req));
    struct bedrock_http_request out;
    struct bgw_error err;
    CHECK_INT(bedrock_build_list_request(&req, &opts, &out, &err), BGW_OK);
    CHECK_STR(out.url, "https://bedrock.us-east-1.amazonaws.com/model-import-jobs");
    CHECK_INT(out.n_headers, 4);
    if (out.n_headers == 4) {
        CHECK_STR(out.headers[0], "host: bedrock.us-east-1.amazonaws.com");
        CHECK_STR(out.headers[1], "x-amz-date: 20150830T123600Z");
        CHECK_STR(out.headers[2], "accept: application/json");
        CHECK_STR(out.headers[3],
                  "authorization: AWS4-HMAC-SHA256 "
                  "Credential=AKIDEXAMPLE/20150830/us-east-1/bedrock/aws4_request, "
                  "SignedHeaders=host;x-amz-date, "
                  "Signature=919f0d35a5fe1afcdc7b316157c5298edd33f1e4fa23623e486cbc6ca03ed323");
    }
    CHECK(s_find_header(&out, "x-amz-security-token") == NULL);
    s_check_signature_by_stages(&out, "us-east-1", NULL);
    bedrock_http_request_clean_up(&out);

    /* an empty session token counts as none */
    creds.session_token = "";
    CHECK_INT(bedrock_build_list_request(&req, &opts, &out, &err), BGW_OK);
    CHECK_INT(out.n_headers, 4);
    CHECK(s_find_header(&out, "x-amz-security-token") == NULL);
    bedrock_http_request_clean_up(&out);

    /* IPv6, explicit port, base path, another region */
    struct bedrock_endpoint ep6;
    CHECK_INT(bedrock_endpoint_parse("http://[::1]:8123/base/v1/", &ep6, NULL, 0), 0);
    creds.session_token = NULL;
    opts.endpoint = &ep6;
    opts.region = "eu-west-1";
    opts.default_max_results = 100;
    CHECK_INT(bedrock_build_list_request(&req, &opts, &out, &err), BGW_OK);
    CHECK_STR(out.url, "http://[::1]:8123/base/v1/model-import-jobs?maxResults=100");
    CHECK_STR(s_find_header(&out, "host"), "[::1]:8123");
    CHECK_STR(s_find_header(&out, "authorization"),
              "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/bedrock/aws4_request, "
              "SignedHeaders=host;x-amz-date, "
              "Signature=663178e306ad2ac6cefdfc774c39fb3ed60fc1b1a141fcdfdba33a9a79bcef7b");
    s_check_signature_by_stages(&out, "eu-west-1", NULL);
    bedrock_http_request_clean_up(&out);

    /* default port spelled out: not in the host header, kept in the URL */
    struct bedrock_endpoint ep443;
    CHECK_INT(
        bedrock_endpoint_parse("https://bedrock.us-east-1.amazonaws.com:443", &ep443, NULL, 0), 0);
    opts.endpoint = &ep443;
    opts.region = "us-east-1";
    opts.default_max_results = 0;
    CHECK_INT(bedrock_build_list_request(&req, &opts, &out, &err), BGW_OK);
    CHECK_STR(out.url, "https://bedrock.us-east-1.amazonaws.com:443/model-import-jobs");
    CHECK_STR(s_find_header(&out, "host"), "bedrock.us-east-1.amazonaws.com");
    /* same signature as the default endpoint: the host header is the same */
    CHECK_STR(s_find_header(&out, "authorization"),
              "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/bedrock/aws4_request, "
              "SignedHeaders=host;x-amz-date, "
              "Signature=919f0d35a5fe1afcdc7b316157c5298edd33f1e4fa23623e486cbc6ca03ed323");
    bedrock_http_request_clean_up(&out);

    /* missing credentials / options */
    opts.credentials = NULL;
    CHECK_INT(bedrock_build_list_request(&req, &opts, &out, &err), BGW_ERR_INTERNAL);
    CHECK(out.url == NULL);
    CHECK_INT(out.n_headers, 0);
    opts.credentials = &creds;
    opts.endpoint = NULL;
    CHECK_INT(bedrock_build_list_request(&req, &opts, &out, &err), BGW_ERR_INTERNAL);

    /* an unvalidated enum is refused rather than sent */
    opts.endpoint = &ep;
    req.status_equals = 42;
    CHECK_INT(bedrock_build_list_request(&req, &opts, &out, &err), BGW_ERR_INVALID_ARGUMENT);
    CHECK_STR(err.field, "statusEquals");
    CHECK(out.url == NULL);
    bedrock_http_request_clean_up(&out); /* harmless on an empty request */
}

/* ------------------------------------------------------------------------ */

static enum bgw_status s_parse(long status, const char *body, struct jobs_response *out,
                               struct bgw_error *err)
{
    struct bedrock_http_response resp = {
        .status = status, .body = body, .body_len = body ? strlen(body) : 0};
    return bedrock_parse_list_response(&resp, out, err);
}

static void test_parse_success(void)
{
    struct jobs_response out;
    struct bgw_error err;

    const char *full =
        "{\"modelImportJobSummaries\":["
        "{\"jobArn\":\"arn:aws:bedrock:us-east-1:123456789012:model-import-job/abc\","
        "\"jobName\":\"job-1\",\"status\":\"Completed\","
        "\"lastModifiedTime\":\"2024-01-02T03:04:05.123Z\","
        "\"creationTime\":\"2024-01-02T03:04:05Z\","
        "\"endTime\":\"2024-01-02T05:04:05+02:00\","
        "\"importedModelArn\":\"arn:aws:bedrock:us-east-1:123456789012:imported-model/m\","
        "\"importedModelName\":\"model-1\"},"
        "{\"jobArn\":\"arn:2\",\"jobName\":\"job-2\",\"status\":\"InProgress\","
        "\"creationTime\":1704164645,\"lastModifiedTime\":1704164645.25}"
        "],\"nextToken\":\"tok/2==\"}";
    CHECK_INT(s_parse(200, full, &out, &err), BGW_OK);
    CHECK_INT(out.n_summaries, 2);
    if (out.n_summaries == 2) {
        struct jobs_summary *a = &out.summaries[0];
        CHECK_STR(a->job_arn, "arn:aws:bedrock:us-east-1:123456789012:model-import-job/abc");
        CHECK_STR(a->job_name, "job-1");
        CHECK_INT(a->status, JOBS_STATUS_COMPLETED);
        CHECK(a->has_last_modified_time);
        CHECK_INT(a->last_modified_time.seconds, 1704164645);
        CHECK_INT(a->last_modified_time.nanos, 123000000);
        CHECK(a->has_creation_time);
        CHECK_INT(a->creation_time.seconds, 1704164645);
        CHECK_INT(a->creation_time.nanos, 0);
        CHECK(a->has_end_time);
        CHECK_INT(a->end_time.seconds, 1704164645);
        CHECK_STR(a->imported_model_arn, "arn:aws:bedrock:us-east-1:123456789012:imported-model/m");
        CHECK_STR(a->imported_model_name, "model-1");
        struct jobs_summary *b = &out.summaries[1];
        CHECK_STR(b->job_arn, "arn:2");
        CHECK_INT(b->status, JOBS_STATUS_IN_PROGRESS);
        CHECK(b->has_creation_time);
        CHECK_INT(b->creation_time.seconds, 1704164645);
        CHECK_INT(b->last_modified_time.seconds, 1704164645);
        CHECK_INT(b->last_modified_time.nanos, 250000000);
        CHECK(!b->has_end_time);
        CHECK(b->imported_model_arn == NULL);
        CHECK(b->imported_model_name == NULL);
    }
    CHECK_STR(out.next_token, "tok/2==");
    jobs_response_clean_up(&out);

    /* minimal; status Failed; any 2xx */
    CHECK_INT(s_parse(200,
                      "{\"modelImportJobSummaries\":[{\"jobArn\":\"a\",\"jobName\":\"n\","
                      "\"status\":\"Failed\"}]}",
                      &out, &err),
              BGW_OK);
    CHECK_INT(out.n_summaries, 1);
    CHECK_INT(out.summaries[0].status, JOBS_STATUS_FAILED);
    CHECK(!out.summaries[0].has_creation_time);
    CHECK(out.next_token == NULL);
    jobs_response_clean_up(&out);
    CHECK_INT(s_parse(200, "{\"modelImportJobSummaries\":[{\"jobArn\":\"a\",\"jobName\":\"n\"}]}",
                      &out, &err),
              BGW_OK);
    CHECK_INT(out.summaries[0].status, 0);
    jobs_response_clean_up(&out);

    /* unknown fields (any type, anywhere), unknown status, nulls */
    CHECK_INT(s_parse(200,
                      "{\"extra\":{\"x\":[1,2]},\"modelImportJobSummaries\":[{"
                      "\"jobArn\":\"a\",\"jobName\":\"n\",\"status\":\"Stopping\","
                      "\"newField\":[null,{}],\"endTime\":null,\"importedModelArn\":null,"
                      "\"creationTime\":\"2024-01-02 03:04:05.5-0130\"}],"
                      "\"nextToken\":null,\"more\":true}",
                      &out, &err),
              BGW_OK);
    CHECK_INT(out.n_summaries, 1);
    CHECK_INT(out.summaries[0].status, 0);
    CHECK(!out.summaries[0].has_end_time);
    CHECK(out.summaries[0].imported_model_arn == NULL);
    CHECK_INT(out.summaries[0].creation_time.seconds, 1704164645 + 5400);
    CHECK_INT(out.summaries[0].creation_time.nanos, 500000000);
    CHECK(out.next_token == NULL);
    jobs_response_clean_up(&out);

    /* fractions of every length and lower-case forms */
    CHECK_INT(s_parse(200,
                      "{\"modelImportJobSummaries\":[{\"jobArn\":\"a\",\"jobName\":\"n\","
                      "\"creationTime\":\"2024-01-02T03:04:05.123456789Z\","
                      "\"endTime\":\"2024-01-02t03:04:05.1z\"}]}",
                      &out, &err),
              BGW_OK);
    CHECK_INT(out.summaries[0].creation_time.nanos, 123456789);
    CHECK_INT(out.summaries[0].end_time.nanos, 100000000);
    jobs_response_clean_up(&out);

    /* empty page: no list / empty list / null list, token kept or dropped */
    CHECK_INT(s_parse(200, "{}", &out, &err), BGW_OK);
    CHECK_INT(out.n_summaries, 0);
    CHECK(out.summaries == NULL);
    CHECK(out.next_token == NULL);
    jobs_response_clean_up(&out);
    CHECK_INT(s_parse(200, "{\"modelImportJobSummaries\":[],\"nextToken\":\"more\"}", &out, &err),
              BGW_OK);
    CHECK_INT(out.n_summaries, 0);
    CHECK_STR(out.next_token, "more");
    jobs_response_clean_up(&out);
    CHECK_INT(s_parse(200, "{\"modelImportJobSummaries\":null,\"nextToken\":\"\"}", &out, &err),
              BGW_OK);
    CHECK_INT(out.n_summaries, 0);
    CHECK(out.next_token == NULL);
    jobs_response_clean_up(&out);
    CHECK_INT(s_parse(204, " { } ", &out, &err), BGW_OK);
    jobs_response_clean_up(&out);

    /* malformed variants */
    static const char *const bad[] = {
        NULL,
        "",
        "not json",
        "[]",
        "\"str\"",
        "{\"modelImportJobSummaries\":{}}",
        "{\"modelImportJobSummaries\":\"x\"}",
        "{\"modelImportJobSummaries\":[1]}",
        "{\"modelImportJobSummaries\":[{\"jobName\":\"n\"}]}",
        "{\"modelImportJobSummaries\":[{\"jobArn\":\"a\"}]}",
        "{\"modelImportJobSummaries\":[{\"jobArn\":null,\"jobName\":\"n\"}]}",
        "{\"modelImportJobSummaries\":[{\"jobArn\":\"\",\"jobName\":\"n\"}]}",
        "{\"modelImportJobSummaries\":[{\"jobArn\":7,\"jobName\":\"n\"}]}",
        "{\"modelImportJobSummaries\":[{\"jobArn\":\"a\",\"jobName\":[\"n\"]}]}",
        "{\"modelImportJobSummaries\":[{\"jobArn\":\"a\",\"jobName\":\"n\",\"status\":1}]}",
        "{\"modelImportJobSummaries\":[{\"jobArn\":\"a\",\"jobName\":\"n\","
        "\"creationTime\":\"yesterday\"}]}",
        "{\"modelImportJobSummaries\":[{\"jobArn\":\"a\",\"jobName\":\"n\","
        "\"creationTime\":\"2024-13-02T03:04:05Z\"}]}",
        "{\"modelImportJobSummaries\":[],\"nextToken\":5}",
        /* a later element bad after good ones: nothing leaks, out is empty */
        "{\"modelImportJobSummaries\":[{\"jobArn\":\"a\",\"jobName\":\"n\","
        "\"importedModelArn\":\"m\"},{\"jobArn\":\"b\"}],\"nextToken\":\"t\"}",
        "{\"modelImportJobSummaries\":[{\"jobArn\":\"a\",\"jobName\":\"n\"}],\"nextToken\":[]}",
        "{\"modelImportJobSummaries\":[]} trailing",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        enum bgw_status st = s_parse(200, bad[i], &out, &err);
        if (st != BGW_ERR_BAD_GATEWAY)
            fprintf(stderr, "malformed case %zu accepted: %s\n", i, bad[i] ? bad[i] : "NULL");
        CHECK_INT(st, BGW_ERR_BAD_GATEWAY);
        CHECK_INT(err.status, BGW_ERR_BAD_GATEWAY);
        CHECK(strncmp(err.message, "upstream returned a malformed response: ",
                      strlen("upstream returned a malformed response: ")) == 0);
        CHECK_INT(out.n_summaries, 0);
        CHECK(out.summaries == NULL);
        CHECK(out.next_token == NULL);
        jobs_response_clean_up(&out);
    }
    /* A malformed informational field (lastModifiedTime, endTime,
     * importedModel*) is left out of that row; the page still parses, so one
     * bad row cannot fail the page for every tenant sharing it. */
    static const char *const tolerated[] = {
        "{\"modelImportJobSummaries\":[{\"jobArn\":\"a\",\"jobName\":\"n\","
        "\"creationTime\":\"2024-01-02T03:04:05Z\",\"endTime\":true}]}",
        "{\"modelImportJobSummaries\":[{\"jobArn\":\"a\",\"jobName\":\"n\","
        "\"creationTime\":\"2024-01-02T03:04:05Z\",\"endTime\":99999999999999}]}",
        "{\"modelImportJobSummaries\":[{\"jobArn\":\"a\",\"jobName\":\"n\","
        "\"creationTime\":\"2024-01-02T03:04:05Z\",\"lastModifiedTime\":\"yesterday\"}]}",
        "{\"modelImportJobSummaries\":[{\"jobArn\":\"a\",\"jobName\":\"n\","
        "\"creationTime\":\"2024-01-02T03:04:05Z\",\"lastModifiedTime\":{}}]}",
        "{\"modelImportJobSummaries\":[{\"jobArn\":\"a\",\"jobName\":\"n\","
        "\"creationTime\":\"2024-01-02T03:04:05Z\",\"importedModelArn\":5}]}",
        "{\"modelImportJobSummaries\":[{\"jobArn\":\"a\",\"jobName\":\"n\","
        "\"creationTime\":\"2024-01-02T03:04:05Z\",\"importedModelName\":{}}]}",
    };
    for (size_t i = 0; i < sizeof(tolerated) / sizeof(tolerated[0]); i++) {
        CHECK_INT(s_parse(200, tolerated[i], &out, &err), BGW_OK);
        CHECK(out.n_summaries == 1);
        if (out.n_summaries == 1) {
            CHECK_STR(out.summaries[0].job_arn, "a");
            CHECK(out.summaries[0].has_creation_time &&
                  out.summaries[0].creation_time.seconds == 1704164645);
            CHECK(!out.summaries[0].has_end_time && !out.summaries[0].has_last_modified_time);
            CHECK(out.summaries[0].imported_model_arn == NULL &&
                  out.summaries[0].imported_model_name == NULL);
        }
        jobs_response_clean_up(&out);
    }

    s_parse(200,
            "{\"modelImportJobSummaries\":[{\"jobArn\":\"a\",\"jobName\":\"n\"},"
            "{\"jobName\":\"n\"}]}",
            &out, &err);
    CHECK(strstr(err.message, "modelImportJobSummaries[1].jobArn is missing") != NULL);

    /* body_len is honoured (no NUL needed) */
    const char buf[] = "{\"nextToken\":\"abc\"}GARBAGE";
    struct bedrock_http_response resp = {.status = 200, .body = buf, .body_len = 19};
    CHECK_INT(bedrock_parse_list_response(&resp, &out, &err), BGW_OK);
    CHECK_STR(out.next_token, "abc");
    jobs_response_clean_up(&out);
}

/* ------------------------------------------------------------------------ */

struct error_case {
    long status;
    const char *error_type;
    const char *retry_after;
    const char *body;
    enum bgw_status want;
    const char *want_message; /* exact, or NULL to skip */
    int want_retry_after;
};

/* Retry-After as an HTTP-date, against a fixed wall clock: rounded up to
 * whole seconds and clamped to 1..3600; past -> 1; junk or no clock -> the
 * status's fallback (1 for throttling, none for 5xx). */
static void test_retry_after_dates(void)
{
    static const struct {
        long status;
        const char *retry_after;
        int64_t now_ms;
        int want;
    } cases[] = {
        {429, "Fri, 31 Dec 1999 23:59:59 GMT", 946684790250LL, 9},  /* 8.75 s -> 9 */
        {429, "Friday, 31-Dec-99 23:59:59 GMT", 946684790250LL, 9}, /* RFC 850 */
        {429, "Fri Dec 31 23:59:59 1999", 946684790250LL, 9},       /* asctime */
        {429, " Fri, 31 Dec 1999 23:59:59 GMT ", 946684790250LL, 9},
        {429, "Fri, 31 Dec 1999 23:59:59 GMT", 946684799000LL, 1}, /* exact: 0 s -> min */
        {429, "Fri, 31 Dec 1999 23:59:59 GMT", 946684800000LL, 1}, /* past -> min */
        {429, "Thu, 01 Jan 1970 00:00:00 GMT", 946684800000LL, 1},
        {429, "Fri, 31 Dec 9999 23:59:59 GMT", 946684800000LL, 3600}, /* far future -> max */
        {503, "Sat, 01 Jan 2000 00:00:30 GMT", 946684800000LL, 30},
        {503, "Sat, 01 Jan 2000 00:00:30 GMT", 0, 0}, /* no clock: fallback */
        {429, "Sat, 01 Jan 2000 00:00:30 GMT", 0, 1},
        {429, "Sat, 01 Jan 2000 00:00:30 UTC", 946684800000LL, 1}, /* junk: fallback */
        {503, "Sat, 01 Jan 2000 00:00:30 UTC", 946684800000LL, 0},
        {429, "Sat, 31 Feb 2000 00:00:30 GMT", 946684800000LL, 1},
        {429, "7", 946684800000LL, 7}, /* delta still works */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct bedrock_http_response resp = {
            .status = cases[i].status,
            .error_type = cases[i].status == 429 ? "ThrottlingException" : NULL,
            .retry_after = cases[i].retry_after,
            .now_ms = cases[i].now_ms,
        };
        struct jobs_response out;
        struct bgw_error err;
        bedrock_parse_list_response(&resp, &out, &err);
        if (err.retry_after_s != cases[i].want)
            fprintf(stderr, "retry-after date case %zu: got %d\n", i, err.retry_after_s);
        CHECK_INT(err.retry_after_s, cases[i].want);
        jobs_response_clean_up(&out);
    }
}

static void test_errors(void)
{
    static const struct error_case cases[] = {
        /* type from the header, text before ':' */
        {400, "ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/", NULL,
         "{\"message\":\"1 validation error detected\"}", BGW_ERR_INVALID_ARGUMENT,
         "upstream ValidationException: 1 validation error detected", 0},
        /* header wins over the body */
        {400, "ValidationException", NULL,
         "{\"__type\":\"com.amazon#AccessDeniedException\",\"Message\":\"bad\"}",
         BGW_ERR_INVALID_ARGUMENT, "upstream ValidationException: bad", 0},
        /* body code, then __type after '#'; message vs Message */
        /* AccessDenied text names the gateway's IAM principal: replaced */
        {403, NULL, NULL,
         "{\"code\":\"AccessDeniedException\",\"Message\":\"User: arn:aws:sts::1:x\"}",
         BGW_ERR_PERMISSION_DENIED,
         "upstream AccessDeniedException: the gateway's AWS identity is not allowed to list model "
         "import jobs",
         0},
        {404, NULL, NULL, "{\"code\":\"ResourceNotFoundException\",\"Message\":\"not there\"}",
         BGW_ERR_NOT_FOUND, "upstream ResourceNotFoundException: not there", 0},
        {403, NULL, NULL,
         "{\"__type\":\"com.amazonaws.bedrock#AccessDeniedException\",\"message\":\"no\"}",
         BGW_ERR_PERMISSION_DENIED,
         "upstream AccessDeniedException: the gateway's AWS identity is not allowed to list model "
         "import jobs",
         0},
        {400, NULL, NULL,
         "{\"code\":\"ns#ValidationException\",\"message\":\"m\",\"Message\":"
         "\"M\"}",
         BGW_ERR_INVALID_ARGUMENT, "upstream ValidationException: m", 0},
        {400, "", NULL, "{\"code\":5,\"__type\":\"ValidationException\"}", BGW_ERR_INVALID_ARGUMENT,
         "upstream ValidationException (HTTP 400)", 0},
        /* throttling and Retry-After */
        {429, "ThrottlingException", NULL, "{\"message\":\"Too many requests\"}",
         BGW_ERR_RESOURCE_EXHAUSTED, "upstream ThrottlingException: Too many requests", 1},
        {429, "ThrottlingException", "7", NULL, BGW_ERR_RESOURCE_EXHAUSTED,
         "upstream ThrottlingException (HTTP 429)", 7},
        {429, "ThrottlingException", " 30 ", NULL, BGW_ERR_RESOURCE_EXHAUSTED, NULL, 30},
        {429, "ThrottlingException", "0", NULL, BGW_ERR_RESOURCE_EXHAUSTED, NULL, 1},
        {429, "ThrottlingException", "999999999999999999999", NULL, BGW_ERR_RESOURCE_EXHAUSTED,
         NULL, 3600},
        {429, "ThrottlingException", "3601", NULL, BGW_ERR_RESOURCE_EXHAUSTED, NULL, 3600},
        {429, "ThrottlingException", "Wed, 21 Oct 2015 07:28:00 GMT", NULL,
         BGW_ERR_RESOURCE_EXHAUSTED, NULL, 1},
        {429, "ThrottlingException", "-5", NULL, BGW_ERR_RESOURCE_EXHAUSTED, NULL, 1},
        {429, "ThrottlingException", "5s", NULL, BGW_ERR_RESOURCE_EXHAUSTED, NULL, 1},
        {429, NULL, NULL, "<html>slow down</html>", BGW_ERR_RESOURCE_EXHAUSTED,
         "upstream error (HTTP 429)", 1},
        {400, NULL, NULL, "{\"__type\":\"ThrottlingException\"}", BGW_ERR_RESOURCE_EXHAUSTED, NULL,
         1},
        /* server side */
        {500, "InternalServerException", NULL, "{\"message\":\"oops\"}", BGW_ERR_UNAVAILABLE,
         "upstream InternalServerException: oops", 0},
        {503, NULL, "12", "<html>Service Unavailable</html>", BGW_ERR_UNAVAILABLE,
         "upstream error (HTTP 503)", 12},
        {502, NULL, NULL, "", BGW_ERR_UNAVAILABLE, "upstream error (HTTP 502)", 0},
        {500, "SomethingNew", NULL, NULL, BGW_ERR_UNAVAILABLE, "upstream SomethingNew (HTTP 500)",
         0},
        {404, "ResourceNotFoundException", NULL, "{\"message\":\"gone\"}", BGW_ERR_NOT_FOUND,
         "upstream ResourceNotFoundException: gone", 0},
        /* credentials rejected: never echo Bedrock's text */
        {403, "InvalidSignatureException", NULL,
         "{\"message\":\"The request signature we calculated does not match. The Canonical "
         "String for this request should have been 'GET\\n/model-import-jobs\\n\\nhost:x\\n"
         "x-amz-security-token:SECRETTOKEN'\"}",
         BGW_ERR_PERMISSION_DENIED,
         "upstream rejected the gateway's AWS credentials (InvalidSignatureException)", 0},
        {403, NULL, NULL,
         "{\"__type\":\"com.amazon.coral.service#UnrecognizedClientException\","
         "\"message\":\"The security token included in the request is "
         "invalid: AKIDEXAMPLE\"}",
         BGW_ERR_PERMISSION_DENIED,
         "upstream rejected the gateway's AWS credentials (UnrecognizedClientException)", 0},
        {403, "ExpiredTokenException", NULL, NULL, BGW_ERR_PERMISSION_DENIED,
         "upstream rejected the gateway's AWS credentials (ExpiredTokenException)", 0},
        {403, "IncompleteSignatureException", NULL, NULL, BGW_ERR_PERMISSION_DENIED, NULL, 0},
        {403, "MissingAuthenticationTokenException", NULL, NULL, BGW_ERR_PERMISSION_DENIED, NULL,
         0},
        {403, NULL, NULL, "Forbidden", BGW_ERR_PERMISSION_DENIED, "upstream error (HTTP 403)", 0},
        /* non-JSON 400: by type only */
        {400, "ValidationException", NULL, "<xml/>", BGW_ERR_INVALID_ARGUMENT,
         "upstream ValidationException (HTTP 400)", 0},
        {400, NULL, NULL, "<xml/>", BGW_ERR_INTERNAL, "upstream error (HTTP 400)", 0},
        {400, NULL, NULL, "{\"message\":\"huh\"}", BGW_ERR_INTERNAL,
         "upstream error (HTTP 400): huh", 0},
        /* other 4xx: INTERNAL with the type named */
        {409, "ConflictException", NULL, "{\"message\":\"busy\"}", BGW_ERR_INTERNAL,
         "upstream ConflictException: busy", 0},
        {404, NULL, NULL, "Not Found", BGW_ERR_INTERNAL, "upstream error (HTTP 404)", 0},
        /* odd statuses */
        {302, NULL, NULL, NULL, BGW_ERR_BAD_GATEWAY, "upstream returned unexpected HTTP status 302",
         0},
        /* type names are cleaned: nothing but [A-Za-z0-9_.-] */
        {400, "Valid\nation", NULL, NULL, BGW_ERR_INTERNAL, "upstream Valid (HTTP 400)", 0},
        {400, "<script>", NULL, NULL, BGW_ERR_INTERNAL, "upstream error (HTTP 400)", 0},
        /* control characters stripped, newlines become spaces */
        {400, "ValidationException", NULL,
         "{\"message\":\"line1\\nline2\\u0007\\u001b[31m\\ttab\\r\\n\"}", BGW_ERR_INVALID_ARGUMENT,
         "upstream ValidationException: line1 line2[31m tab", 0},
        {400, "ValidationException", NULL, "{\"message\":\"\\n\\u0001\"}", BGW_ERR_INVALID_ARGUMENT,
         "upstream ValidationException (HTTP 400)", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct error_case *c = &cases[i];
        struct bedrock_http_response resp = {
            .status = c->status,
            .error_type = c->error_type,
            .retry_after = c->retry_after,
            .body = c->body,
            .body_len = c->body ? strlen(c->body) : 0,
        };
        struct jobs_response out;
        struct bgw_error err;
        enum bgw_status st = bedrock_parse_list_response(&resp, &out, &err);
        if (st != c->want || (c->want_message && strcmp(err.message, c->want_message) != 0) ||
            err.retry_after_s != c->want_retry_after)
            fprintf(stderr, "error case %zu: got %s \"%s\" retry %d\n", i, bgw_status_str(st),
                    err.message, err.retry_after_s);
        CHECK_INT(st, c->want);
        CHECK_INT(err.status, c->want);
        if (c->want_message)
            CHECK_STR(err.message, c->want_message);
        CHECK_INT(err.retry_after_s, c->want_retry_after);
        CHECK(strstr(err.message, "SECRETTOKEN") == NULL);
        CHECK(strstr(err.message, "AKIDEXAMPLE") == NULL);
        CHECK_INT(out.n_summaries, 0);
        CHECK(out.summaries == NULL);
        CHECK(out.next_token == NULL);
        CHECK_STR(err.field, "");
    }

    /* a long upstream message is bounded (200 bytes, no split UTF-8) */
    char body[2048];
    int n = snprintf(body, sizeof(body), "{\"message\":\"");
    for (int i = 0; i < 150; i++)
        n += snprintf(body + n, sizeof(body) - (size_t)n, "\xc3\xa9"); /* é, 2 bytes */
    snprintf(body + n, sizeof(body) - (size_t)n, "\"}");
    struct bedrock_http_response resp = {
        .status = 400, .error_type = "ValidationException", .body = body, .body_len = strlen(body)};
    struct jobs_response out;
    struct bgw_error err;
    CHECK_INT(bedrock_parse_list_response(&resp, &out, &err), BGW_ERR_INVALID_ARGUMENT);
    const char *prefix = "upstream ValidationException: ";
    CHECK(strncmp(err.message, prefix, strlen(prefix)) == 0);
    const char *m = err.message + strlen(prefix);
    CHECK(strlen(m) <= 200);
    CHECK(strlen(m) >= 190);
    CHECK_STR(m + strlen(m) - 3, "...");
    /* everything before "..." is whole two-byte characters */
    CHECK_INT((strlen(m) - 3) % 2, 0);
    CHECK((unsigned char)m[strlen(m) - 4] == 0xa9);

    /* a long type name is cut */
    char longtype[300];
    memset(longtype, 'X', sizeof(longtype) - 1);
    longtype[sizeof(longtype) - 1] = '\0';
    struct bedrock_http_response r2 = {.status = 418, .error_type = longtype};
    CHECK_INT(bedrock_parse_list_response(&r2, &out, &err), BGW_ERR_INTERNAL);
    CHECK(strlen(err.message) < 120);
}

int main(void)
{
    test_endpoint_parse();
    test_endpoint_default();
    test_build_full();
    test_build_none();
    test_parse_success();
    test_errors();
    test_retry_after_dates();
    if (s_failures) {
        fprintf(stderr, "bedrock_client_test: %d of %d checks failed\n", s_failures, s_checks);
        return 1;
    }
    printf("bedrock_client_test: all %d checks passed\n", s_checks);
    return 0;
}
