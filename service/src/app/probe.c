/*
 * probe - see probe.h. Blocking libcurl: it runs alone, not in the gateway.
 */
#include "probe.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"

struct s_reply {
    struct buf body;
    int grpc_status; /* -1 = not seen */
};

static size_t s_on_body(char *p, size_t size, size_t n, void *arg)
{
    struct s_reply *r = arg;
    return buf_append(&r->body, p, size * n) == 0 ? size * n : 0;
}

/* Headers and (HTTP/2) trailers: grpc-status wherever it comes. */
static size_t s_on_header(char *p, size_t size, size_t n, void *arg)
{
    struct s_reply *r = arg;
    size_t len = size * n;
    if (len > 12 && strncasecmp(p, "grpc-status:", 12) == 0)
        r->grpc_status = atoi(p + 12);
    return len;
}

int probe_main(int argc, char **argv)
{
    const char *url = NULL;
    bool insecure = false;
    long timeout_ms = 2000;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--insecure") == 0)
            insecure = true;
        else if (strcmp(argv[i], "--timeout-ms") == 0 && i + 1 < argc)
            timeout_ms = atol(argv[++i]);
        else if (!url && argv[i][0] != '-')
            url = argv[i];
        else
            url = NULL, i = argc;
    }
    if (!url || timeout_ms <= 0) {
        fprintf(stderr, "usage: bedrockgw --probe http(s)://HOST:PORT/readyz | grpc(s)://HOST:PORT "
                        "[--insecure] [--timeout-ms N]\n");
        return 2;
    }
    bool grpc = strncmp(url, "grpc://", 7) == 0 || strncmp(url, "grpcs://", 8) == 0;
    bool tls = strncmp(url, "grpcs://", 8) == 0 || strncmp(url, "https://", 8) == 0;
    if (!grpc && strncmp(url, "http://", 7) != 0 && !tls) {
        fprintf(stderr, "bedrockgw --probe: the URL must be http(s):// or grpc(s)://\n");
        return 2;
    }
    char target[1024];
    if (grpc)
        snprintf(target, sizeof(target), "%s://%s/grpc.health.v1.Health/Check",
                 tls ? "https" : "http", strstr(url, "://") + 3);
    else
        snprintf(target, sizeof(target), "%s", url);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
        return 1;
    CURL *h = curl_easy_init();
    struct s_reply r = {.grpc_status = -1};
    buf_init(&r.body, 1 << 16);
    struct curl_slist *hdrs = NULL;
    static const char empty_request[5] = {0, 0, 0, 0, 0}; /* HealthCheckRequest{} */
    int rc = 1;
    if (!h)
        goto done;
    curl_easy_setopt(h, CURLOPT_URL, target);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, s_on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, s_on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &r);
    if (insecure) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (grpc) {
        curl_easy_setopt(h, CURLOPT_HTTP_VERSION,
                         tls ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
        hdrs = curl_slist_append(hdrs, "content-type: application/grpc");
        hdrs = curl_slist_append(hdrs, "te: trailers");
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, empty_request);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)sizeof(empty_request));
    }
    CURLcode cc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (cc != CURLE_OK) {
        fprintf(stderr, "bedrockgw --probe: %s: %s\n", target, curl_easy_strerror(cc));
    } else if (status != 200) {
        fprintf(stderr, "bedrockgw --probe: %s: HTTP %ld\n", target, status);
    } else if (grpc) {
        /* HealthCheckResponse{status: SERVING} = 08 01 after the 5-byte prefix */
        const unsigned char *b = (const unsigned char *)r.body.data;
        bool serving = r.body.len == 7 && b[0] == 0 && b[4] == 2 && b[5] == 0x08 && b[6] == 0x01;
        if (r.grpc_status != 0)
            fprintf(stderr, "bedrockgw --probe: %s: grpc-status %d\n", target, r.grpc_status);
        else if (!serving)
            fprintf(stderr, "bedrockgw --probe: %s: not SERVING\n", target);
        else
            rc = 0;
    } else {
        rc = 0;
    }
done:
    curl_slist_free_all(hdrs);
    if (h)
        curl_easy_cleanup(h);
    buf_clean_up(&r.body);
    curl_global_cleanup();
    if (rc == 0)
        printf("ready\n");
    return rc;
}
