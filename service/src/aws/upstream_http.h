/*
 * upstream_http - HTTP requests over libcurl's multi-socket interface,
 * driven by a libevent event_base. Owns the CURLM handle and every easy
 * handle in flight. Runs only on the loop thread that owns the event_base;
 * never blocks it. Knows nothing of Bedrock or SigV4.
 *
 * The process calls curl_global_init(CURL_GLOBAL_DEFAULT) once, before the
 * first upstream_http_new and before any other thread starts (main does).
 */
#ifndef BGW_UPSTREAM_HTTP_H
#define BGW_UPSTREAM_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct event_base;
struct upstream_http;
struct upstream_request;

struct upstream_http_options {
    int64_t connect_timeout_ms; /* 0 = 5000 */
    size_t max_body_bytes;      /* responses larger fail with TRANSPORT; 0 = 8 MiB */
    long max_connections;       /* CURLMOPT_MAX_TOTAL_CONNECTIONS; 0 = 64 */
    const char *ca_file;        /* NULL = system default */
};

enum upstream_outcome {
    UPSTREAM_OK = 0,    /* an HTTP response arrived (any status) */
    UPSTREAM_TIMEOUT,   /* the per-request timeout expired */
    UPSTREAM_TRANSPORT, /* connect/TLS/reset/truncated/too large */
};

struct upstream_response {
    enum upstream_outcome outcome;
    long status;             /* HTTP status when UPSTREAM_OK */
    const char *error_type;  /* x-amzn-ErrorType or NULL */
    const char *retry_after; /* Retry-After or NULL */
    const char *request_id;  /* x-amzn-RequestId or NULL */
    const char *body;        /* NUL-terminated; "" when none */
    size_t body_len;
    const char *transport_error; /* curl's description when not OK; no URLs with secrets */
    int64_t elapsed_ms;
};

/* Callback, always on the loop thread and never from inside
 * upstream_http_get. resp and everything it points to are valid only
 * during the call. It may call upstream_http_get, upstream_http_cancel
 * (cancelling the request being reported is a no-op) and
 * upstream_http_destroy. transport_error is a fixed text: curl's short
 * description of the error, "response too large", "out of memory" or
 * "no HTTP response"; never the URL or headers. */
typedef void (*upstream_http_cb)(void *arg, const struct upstream_response *resp);

struct upstream_http *upstream_http_new(struct event_base *base,
                                        const struct upstream_http_options *opts);
/* Cancels everything still in flight (their callbacks are not called). */
void upstream_http_destroy(struct upstream_http *u);

/* Starts a GET of url with the given "Name: value" header lines (copied;
 * the copies, like the response body, are wiped when the request is freed).
 * timeout_ms bounds the whole exchange (> 0). Returns a handle usable with
 * upstream_http_cancel until the callback has run, or NULL on failure (bad
 * arguments, a header line containing CR or LF, out of memory). When curl
 * refuses the request itself, the handle is still returned and the failure
 * arrives through the callback as UPSTREAM_TRANSPORT. */
struct upstream_request *upstream_http_get(struct upstream_http *u, const char *url,
                                           char *const *headers, size_t n_headers,
                                           int64_t timeout_ms, upstream_http_cb cb, void *arg);
/* A request other than a plain GET (STS POSTs, the IMDS token PUT). */
struct upstream_http_request_options {
    const char *method; /* "GET", "POST" or "PUT" */
    const char *url;
    char *const *headers; /* "Name: value" lines (copied) */
    size_t n_headers;
    const char *body; /* copied; NULL = none */
    size_t body_len;
    int64_t timeout_ms;         /* > 0 */
    int64_t connect_timeout_ms; /* 0 = the client's */
};
/* Like upstream_http_get, for any of the methods above. */
struct upstream_request *upstream_http_request(struct upstream_http *u,
                                               const struct upstream_http_request_options *o,
                                               upstream_http_cb cb, void *arg);

/* The callback will not run. */
void upstream_http_cancel(struct upstream_request *r);

/* Requests in flight. */
size_t upstream_http_active(const struct upstream_http *u);

#endif
