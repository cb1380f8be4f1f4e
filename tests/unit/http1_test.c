/*
 * http1_test - the request-head parser: finding the end of a head (whole
 * and byte by byte), request lines, targets, fields, framing and
 * keep-alive, and the refusals (data-driven cases).
 */
#include <stdlib.h>
#include <string.h>

#include "http1.h"
#include "test_util.h"

/* Parses text (a complete head) from a writable copy. */
static enum http1_result s_parse(const char *text, struct http1_request *r, char **copy)
{
    size_t n = strlen(text);
    *copy = malloc(n + 1);
    memcpy(*copy, text, n + 1);
    size_t scan = 0;
    size_t hl = http1_head_length(*copy, n, &scan);
    if (hl == 0)
        hl = n; /* let the parser see it anyway */
    return http1_parse(*copy, hl, r);
}

static void test_head_length(void)
{
    size_t scan = 0;
    const char *a = "GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /next";
    CHECK(http1_head_length(a, strlen(a), &scan) == 27);
    scan = 0;
    const char *b = "GET / HTTP/1.1\nHost: x\n\nrest";
    CHECK(http1_head_length(b, strlen(b), &scan) == 24);
    scan = 0;
    const char *c = "GET / HTTP/1.1\r\nHost: x\n\r\n";
    CHECK(http1_head_length(c, strlen(c), &scan) == strlen(c));
    scan = 0;
    const char *d = "GET / HTTP/1.1\r\nHost: x\r\n";
    CHECK(http1_head_length(d, strlen(d), &scan) == 0);
    CHECK(scan == strlen(d));
    /* "\r\r\n" is not an empty line */
    scan = 0;
    const char *e = "GET / HTTP/1.1\r\r\n";
    CHECK(http1_head_length(e, strlen(e), &scan) == 0);

    /* Byte by byte: the same answer, found when the last byte arrives. */
    const char *f =
        "GET /v1/model-import-jobs?maxResults=2 HTTP/1.1\r\nHost: a\r\nX-Api-Key: k\r\n\r\n";
    size_t n = strlen(f);
    scan = 0;
    for (size_t i = 1; i <= n; i++) {
        size_t hl = http1_head_length(f, i, &scan);
        if (i < n)
            CHECK(hl == 0);
        else
            CHECK(hl == n);
    }
}

static void test_basic(void)
{
    struct http1_request r;
    char *copy;
    CHECK(s_parse("GET /v1/model-import-jobs?maxResults=2&x=%20 HTTP/1.1\r\n"
                  "Host: example\r\nX-Api-Key:   secret \t\r\nx-api-key: second\r\n"
                  "Empty:\r\n\r\n",
                  &r, &copy) == HTTP1_OK);
    CHECK(r.method == HTTP1_M_GET);
    CHECK_STR(r.method_name, "GET");
    CHECK(r.minor == 1);
    CHECK_STR(r.path, "/v1/model-import-jobs");
    CHECK_STR(r.query, "maxResults=2&x=%20");
    CHECK(r.keep_alive);
    CHECK(!r.has_content_length);
    CHECK(r.n_headers == 4);
    CHECK_STR(http1_header(&r, "x-api-key"), "secret"); /* first wins, trimmed */
    CHECK(r.headers[1].value_len == 6);
    CHECK_STR(http1_header(&r, "HOST"), "example");
    CHECK_STR(http1_header(&r, "empty"), "");
    CHECK(http1_header(&r, "Origin") == NULL);
    free(copy);

    /* bare LF line ends, no query, HTTP/1.0 */
    CHECK(s_parse("HEAD /healthz HTTP/1.0\nConnection: Keep-Alive\n\n", &r, &copy) == HTTP1_OK);
    CHECK(r.method == HTTP1_M_HEAD);
    CHECK(r.minor == 0);
    CHECK_STR(r.path, "/healthz");
    CHECK(r.query == NULL);
    CHECK(r.keep_alive);
    free(copy);

    /* empty query, fragment dropped */
    CHECK(s_parse("GET /a?#frag HTTP/1.1\r\n\r\n", &r, &copy) == HTTP1_OK);
    CHECK_STR(r.path, "/a");
    CHECK_STR(r.query, "");
    free(copy);
    CHECK(s_parse("GET /a#f?x HTTP/1.1\r\n\r\n", &r, &copy) == HTTP1_OK);
    CHECK_STR(r.path, "/a");
    CHECK(r.query == NULL);
    free(copy);
}

static void test_targets(void)
{
    static const struct {
        const char *target;
        const char *path;
        const char *query; /* NULL = none */
    } ok[] = {
        {"http://gw.example:8080/v1/model-import-jobs?maxResults=1", "/v1/model-import-jobs",
         "maxResults=1"},
        {"HTTPS://h/p", "/p", NULL},
        {"http://h", "/", NULL},
        {"http://h?q=1", "/", "q=1"},
        {"http://h#x", "/", NULL},
        {"/", "/", NULL},
        {"//double", "//double", NULL},
        {"/a%2Fb?c=d?e", "/a%2Fb", "c=d?e"},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        char text[256];
        snprintf(text, sizeof(text), "GET %s HTTP/1.1\r\n\r\n", ok[i].target);
        struct http1_request r;
        char *copy;
        if (CHECK(s_parse(text, &r, &copy) == HTTP1_OK)) {
            CHECK_STR(r.path, ok[i].path);
            CHECK_STR(r.query, ok[i].query);
        }
        free(copy);
    }
    struct http1_request r;
    char *copy;
    CHECK(s_parse("OPTIONS * HTTP/1.1\r\n\r\n", &r, &copy) == HTTP1_OK);
    CHECK_STR(r.path, "*");
    free(copy);
}

static void test_keep_alive(void)
{
    static const struct {
        const char *head;
        bool keep;
    } cases[] = {
        {"GET / HTTP/1.1\r\n\r\n", true},
        {"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", false},
        {"GET / HTTP/1.1\r\nConnection: Upgrade, CLOSE\r\n\r\n", false},
        {"GET / HTTP/1.1\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n", false},
        {"GET / HTTP/1.0\r\n\r\n", false},
        {"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true},
        {"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", false},
        {"GET / HTTP/1.0\r\nConnection: keep-alives\r\n\r\n", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct http1_request r;
        char *copy;
        if (CHECK(s_parse(cases[i].head, &r, &copy) == HTTP1_OK) &&
            !CHECK(r.keep_alive == cases[i].keep))
            fprintf(stderr, "  case %zu\n", i);
        free(copy);
    }
}

static void test_content_length(void)
{
    struct http1_request r;
    char *copy;
    CHECK(s_parse("POST /x HTTP/1.1\r\nContent-Length: 12\r\ncontent-length: 12\r\n\r\n", &r,
                  &copy) == HTTP1_OK);
    CHECK(r.method == HTTP1_M_POST);
    CHECK(r.has_content_length && r.content_length == 12);
    free(copy);
    CHECK(s_parse("GET /x HTTP/1.1\r\nContent-Length: 0\r\n\r\n", &r, &copy) == HTTP1_OK);
    CHECK(r.has_content_length && r.content_length == 0);
    free(copy);
}

static void test_refusals(void)
{
    static const struct {
        const char *head;
        enum http1_result want;
    } cases[] = {
        {"BREW /pot HTTP/1.1\r\n\r\n", HTTP1_ERR_METHOD},
        {"get / HTTP/1.1\r\n\r\n", HTTP1_ERR_METHOD},
        {"G@T / HTTP/1.1\r\n\r\n", HTTP1_ERR_BAD_REQUEST},
        {"GET / HTTP/2.0\r\n\r\n", HTTP1_ERR_VERSION},
        {"GET / HTTP/1.2\r\n\r\n", HTTP1_ERR_VERSION},
        {"GET / HTTP/0.9\r\n\r\n", HTTP1_ERR_VERSION},
        {"GET / HTTP/1.1x\r\n\r\n", HTTP1_ERR_BAD_REQUEST},
        {"GET / http/1.1\r\n\r\n", HTTP1_ERR_BAD_REQUEST},
        {"GET /\r\n\r\n", HTTP1_ERR_BAD_REQUEST},
        {"GET  / HTTP/1.1\r\n\r\n", HTTP1_ERR_BAD_REQUEST},
        {"GET / HTTP/1.1 \r\n\r\n", HTTP1_ERR_BAD_REQUEST},
        {"GET /a b HTTP/1.1\r\n\r\n", HTTP1_ERR_BAD_REQUEST},
        {"GET /a\x01 HTTP/1.1\r\n\r\n", HTTP1_ERR_BAD_REQUEST},
        {"GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n", HTTP1_ERR_BAD_REQUEST},
        {"GET relative HTTP/1.1\r\n\r\n", HTTP1_ERR_BAD_REQUEST},
        {"GET ftp://h/ HTTP/1.1\r\n\r\n", HTTP1_ERR_BAD_REQUEST},
        {"GET http:///p HTTP/1.1\r\n\r\n", HTTP1_ERR_BAD_REQUEST},
        {"GET * HTTP/1.1\r\n\r\n", HTTP1_ERR_BAD_REQUEST},
        {"GET / HTTP/1.1\rX\r\n\r\n", HTTP1_ERR_BAD_REQUEST},
        {"GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", HTTP1_ERR_BAD_REQUEST},
        {"GET / HTTP/1.1\r\nHost : a\r\n\r\n", HTTP1_ERR_BAD_REQUEST},
        {"GET / HTTP/1.1\r\n: a\r\n\r\n", HTTP1_ERR_BAD_REQUEST},
        {"GET / HTTP/1.1\r\nNo colon\r\n\r\n", HTTP1_ERR_BAD_REQUEST},
        {"GET / HTTP/1.1\r\nBad[name]: a\r\n\r\n", HTTP1_ERR_BAD_REQUEST},
        {"GET / HTTP/1.1\r\nA: b\r\n  folded\r\n\r\n", HTTP1_ERR_BAD_REQUEST},
        {"GET / HTTP/1.1\r\n X: y\r\n\r\n", HTTP1_ERR_BAD_REQUEST},
        {"GET / HTTP/1.1\r\nA: b\x7f\r\n\r\n", HTTP1_ERR_BAD_REQUEST},
        {"GET / HTTP/1.1\r\nA: b\x1b[0m\r\n\r\n", HTTP1_ERR_BAD_REQUEST},
        {"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", HTTP1_ERR_TRANSFER_ENCODING},
        {"GET / HTTP/1.1\r\ntransfer-encoding: identity\r\nContent-Length: 3\r\n\r\n",
         HTTP1_ERR_TRANSFER_ENCODING},
        {"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", HTTP1_ERR_BAD_REQUEST},
        {"GET / HTTP/1.1\r\nContent-Length: 1, 1\r\n\r\n", HTTP1_ERR_BAD_REQUEST},
        {"GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", HTTP1_ERR_BAD_REQUEST},
        {"GET / HTTP/1.1\r\nContent-Length: +1\r\n\r\n", HTTP1_ERR_BAD_REQUEST},
        {"GET / HTTP/1.1\r\nContent-Length: \r\n\r\n", HTTP1_ERR_BAD_REQUEST},
        {"GET / HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n", HTTP1_ERR_BAD_REQUEST},
        {"GET / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", HTTP1_ERR_BAD_REQUEST},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct http1_request r;
        char *copy;
        enum http1_result got = s_parse(cases[i].head, &r, &copy);
        if (!CHECK(got == cases[i].want))
            fprintf(stderr, "  case %zu: got %d (%s), want %d\n", i, (int)got,
                    http1_result_str(got), (int)cases[i].want);
        CHECK(!r.keep_alive);
        free(copy);
    }
    /* A NUL inside a value (the text helper stops at NUL: build it by hand). */
    char nul[] = "GET / HTTP/1.1\r\nA: b\0c\r\n\r\n";
    struct http1_request r;
    CHECK(http1_parse(nul, sizeof(nul) - 1, &r) == HTTP1_ERR_BAD_REQUEST);
    /* A length that is not what http1_head_length measured. */
    char extra[] = "GET / HTTP/1.1\r\n\r\nX";
    CHECK(http1_parse(extra, sizeof(extra) - 1, &r) == HTTP1_ERR_BAD_REQUEST);
}

static void test_header_count(void)
{
    char text[8192];
    size_t n = (size_t)snprintf(text, sizeof(text), "GET / HTTP/1.1\r\n");
    for (int i = 0; i < HTTP1_MAX_HEADERS; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "H%d: v\r\n", i);
    snprintf(text + n, sizeof(text) - n, "\r\n");
    struct http1_request r;
    char *copy;
    CHECK(s_parse(text, &r, &copy) == HTTP1_OK);
    CHECK(r.n_headers == HTTP1_MAX_HEADERS);
    CHECK_STR(http1_header(&r, "h99"), "v");
    free(copy);
    snprintf(text + n, sizeof(text) - n, "One-More: v\r\n\r\n");
    CHECK(s_parse(text, &r, &copy) == HTTP1_ERR_TOO_MANY_HEADERS);
    free(copy);
}

static void test_results(void)
{
    CHECK(http1_result_status(HTTP1_OK) == 200);
    CHECK(http1_result_status(HTTP1_ERR_BAD_REQUEST) == 400);
    CHECK(http1_result_status(HTTP1_ERR_HEAD_TOO_LARGE) == 431);
    CHECK(http1_result_status(HTTP1_ERR_TOO_MANY_HEADERS) == 431);
    CHECK(http1_result_status(HTTP1_ERR_BODY_TOO_LARGE) == 413);
    CHECK(http1_result_status(HTTP1_ERR_METHOD) == 501);
    CHECK(http1_result_status(HTTP1_ERR_TRANSFER_ENCODING) == 501);
    CHECK(http1_result_status(HTTP1_ERR_VERSION) == 505);
    for (int i = 0; i < HTTP1_RESULT_COUNT; i++)
        CHECK(http1_result_str((enum http1_result)i)[0] != '\0');
    CHECK(http1_name_eq("X-Api-Key", "x-API-key"));
    CHECK(!http1_name_eq("X-Api-Key", "X-Api-Keys"));
}

int main(void)
{
    test_head_length();
    test_basic();
    test_targets();
    test_keep_alive();
    test_content_length();
    test_refusals();
    test_header_count();
    test_results();
    return TEST_EXIT();
}
