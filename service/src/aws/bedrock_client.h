/*
 * bedrock_client - the I/O-free half of talking to Bedrock's
 * ListModelImportJobs: turns a validated jobs_request into a signed HTTP
 * request description (URL + headers), and turns an HTTP response (status,
 * the x-amzn-ErrorType and Retry-After headers, body) into a jobs_response or
 * a bgw_error. Never touches sockets or the clock (time comes in); never
 * puts credentials or signatures into error messages.
 */
#ifndef BGW_BEDROCK_CLIENT_H
#define BGW_BEDROCK_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jobs.h"
#include "sigv4.h"
#include "status.h"

/* A parsed endpoint URL: "https://bedrock.us-east-1.amazonaws.com" or
 * "http://127.0.0.1:8123" (an optional base path is kept and prefixed). */
struct bedrock_endpoint {
    char scheme[8];      /* "http" | "https" */
    char host[256];      /* host name or IP literal (IPv6 without brackets) */
    int port;            /* explicit port, or 0 for the scheme default */
    char base_path[256]; /* "" or "/prefix" without trailing slash */
};

/* Parses url; returns 0 or -1 (and a reason in err_msg, err_len bytes). */
int bedrock_endpoint_parse(const char *url, struct bedrock_endpoint *out, char *err_msg,
                           size_t err_len);
/* https://bedrock.<region>.amazonaws.com */
int bedrock_endpoint_default(const char *region, struct bedrock_endpoint *out);
/* The Host header value: host (IPv6 in brackets), ":port" only when the port
 * is explicit and not the scheme's default. Returns the length, or -1 when
 * out (out_len bytes) is too small. */
int bedrock_endpoint_host_header(const struct bedrock_endpoint *ep, char *out, size_t out_len);
/* Appends "scheme://host[:port][base_path]" (the explicit port is kept even
 * when it is the default) to out, e.g. for logs and cache keys. 0 or -1. */
int bedrock_endpoint_format(const struct bedrock_endpoint *ep, struct buf *out);

/* A ready-to-send upstream request. All strings heap-owned; free with
 * bedrock_http_request_clean_up (which wipes the header storage). */
#define BEDROCK_MAX_HEADERS 8
struct bedrock_http_request {
    char *url;                          /* scheme://host[:port]/model-import-jobs?... */
    char *headers[BEDROCK_MAX_HEADERS]; /* "Name: value" lines for curl */
    size_t n_headers;
};
void bedrock_http_request_clean_up(struct bedrock_http_request *r);

struct bedrock_request_options {
    const struct bedrock_endpoint *endpoint;
    const char *region;
    const struct sigv4_credentials *credentials;
    int64_t now_s;               /* signing time */
    int64_t default_max_results; /* used when !req->has_max_results; 0 = send none */
};

/* Builds GET /model-import-jobs with the query parameters (only those set,
 * Bedrock's names and spellings, timestamps as ISO 8601 UTC, encoded with
 * sigv4_uri_encode) and the headers host, x-amz-date,
 * x-amz-security-token (when there is a session token), accept and
 * authorization. req must have passed jobs_request_validate. */
enum bgw_status bedrock_build_list_request(const struct jobs_request *req,
                                           const struct bedrock_request_options *opts,
                                           struct bedrock_http_request *out, struct bgw_error *err);

/* What came back from the wire (the transport outcome is handled by the
 * caller; this is for a completed HTTP exchange). */
struct bedrock_http_response {
    long status;             /* HTTP status */
    const char *error_type;  /* x-amzn-ErrorType header value or NULL */
    const char *retry_after; /* Retry-After header value or NULL */
    const char *body;
    size_t body_len;
    /* Wall clock (ms since the epoch) when it arrived, for a Retry-After
     * HTTP-date; 0 = unknown (a date then counts as absent). */
    int64_t now_ms;
};

/* 2xx: parses the body tolerantly (unknown fields ignored; timestamps ISO
 * 8601 strings with or without fractions/offsets, or epoch numbers) into
 * out. A 2xx body that is not the expected JSON -> BGW_ERR_BAD_GATEWAY.
 * Non-2xx: maps the Bedrock error (x-amzn-ErrorType text before ':', else
 * body "code" or "__type" text after '#'; message from "message" or
 * "Message"):
 *   ValidationException   -> INVALID_ARGUMENT
 *   AccessDeniedException -> PERMISSION_DENIED (also UnrecognizedClient,
 *                            InvalidSignature, ExpiredToken... 403s)
 *   ThrottlingException   -> RESOURCE_EXHAUSTED, retry_after_s from
 *                            Retry-After (delta-seconds or an HTTP-date
 *                            against now_ms; 1..3600 s) or 1
 *   InternalServerException, any 5xx -> UNAVAILABLE
 *   ResourceNotFoundException -> NOT_FOUND
 *   anything else 4xx     -> INTERNAL with the type named
 * The message shown is "upstream <Type>: <Bedrock's message>" truncated. */
/* The other direction, for the AWS-compatible front: a page as Bedrock
 * sends it (its member names, "InProgress"/"Completed"/"Failed", ISO 8601
 * UTC times, members without a value left out). 0 or -1 (memory). */
int bedrock_render_list_response(const struct jobs_response *page, struct buf *out);

/* An error as Bedrock sends one (restJson1): the type for x-amzn-ErrorType
 * and the HTTP status the SDKs expect for a gateway status; and its body
 * {"message": ...}. */
const char *bedrock_error_type(enum bgw_status st, int *http_status);
int bedrock_render_error(const char *message, struct buf *out);

enum bgw_status bedrock_parse_list_response(const struct bedrock_http_response *resp,
                                            struct jobs_response *out, struct bgw_error *err);

#endif
