/*
 * http1 - the HTTP/1.x request-head parser of the REST frontend: bytes in,
 * a parsed head out. No I/O, no allocation, no clock (fuzzed and unit-tested
 * without sockets; http_server.c does the I/O).
 *
 * What it accepts (RFC 9112 / 7230, strict where smuggling could hide):
 * - Lines end in CRLF or a bare LF (RFC 9112 2.2 lets a recipient accept a
 *   bare LF; evhttp did too). A CR anywhere else is an error.
 * - Request line: method SP request-target SP HTTP-version, single spaces.
 *   The method must be a token; GET HEAD OPTIONS POST PUT DELETE PATCH are
 *   known, any other token is HTTP1_M_OTHER (the server answers 501).
 * - Versions HTTP/1.0 and HTTP/1.1; another well-formed HTTP/d.d -> 505.
 * - Targets: origin-form "/path?query", absolute-form "http(s)://host/p?q"
 *   (reduced to its path and query) and "*". A "#fragment" is dropped. No
 *   control characters, spaces or bytes >= 0x80 in it. Path and query stay
 *   raw (not percent-decoded).
 * - Header fields: name is a non-empty token directly followed by ':';
 *   value trimmed of SP/HTAB, no control character but HTAB; no obs-fold
 *   (a line starting with SP/HTAB); at most HTTP1_MAX_HEADERS of them.
 * - Content-Length: 1*DIGIT (at most 18), repeated only with the same value.
 *   Transfer-Encoding on a request is refused (no endpoint takes a body).
 * - Keep-alive per RFC 9112 9.3: 1.1 unless "Connection: close"; 1.0 only
 *   with "Connection: keep-alive".
 */
#ifndef BGW_HTTP1_H
#define BGW_HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP1_MAX_HEADERS 100

enum http1_method {
    HTTP1_M_GET,
    HTTP1_M_HEAD,
    HTTP1_M_OPTIONS,
    HTTP1_M_POST,
    HTTP1_M_PUT,
    HTTP1_M_DELETE,
    HTTP1_M_PATCH,
    HTTP1_M_OTHER, /* a well-formed token naming no method we know */
};

enum http1_result {
    HTTP1_OK = 0,
    HTTP1_ERR_BAD_REQUEST,       /* 400: malformed request line or field */
    HTTP1_ERR_TOO_MANY_HEADERS,  /* 431: more than HTTP1_MAX_HEADERS fields */
    HTTP1_ERR_HEAD_TOO_LARGE,    /* 431: set by the server (head over its limit) */
    HTTP1_ERR_BODY_TOO_LARGE,    /* 413: set by the server (Content-Length over its limit) */
    HTTP1_ERR_METHOD,            /* 501: unknown method */
    HTTP1_ERR_TRANSFER_ENCODING, /* 501: Transfer-Encoding on a request */
    HTTP1_ERR_VERSION,           /* 505: not HTTP/1.0 or HTTP/1.1 */
    HTTP1_RESULT_COUNT
};

/* Field name and value inside the parsed head, each NUL-terminated there. */
struct http1_header {
    const char *name;
    const char *value;
    size_t name_len;
    size_t value_len;
};

struct http1_request {
    enum http1_method method;
    const char *method_name; /* the token as sent */
    int minor;               /* 0 or 1 (HTTP/1.minor) */
    const char *path;        /* raw, NUL-terminated; "/..." or "*" */
    const char *query;       /* raw text after '?', or NULL when there is no '?' */
    bool keep_alive;
    bool has_content_length;
    uint64_t content_length;
    size_t n_headers;
    struct http1_header headers[HTTP1_MAX_HEADERS];
};

/* The length of the request head at the start of data[0..len) including
 * its final empty line, or 0 when it is not complete yet. *scan is where to
 * resume the search: 0 for a new head, then pass back what this call left
 * (so a head arriving byte by byte is scanned once). data must not start
 * with an empty line (the caller skips those, RFC 9112 2.2). */
size_t http1_head_length(const char *data, size_t len, size_t *scan);

/* Parses the complete head head[0..len) (as measured by http1_head_length)
 * in place: NUL bytes are written into it and out's pointers point into it,
 * so head must stay unchanged while out is used. On an error out is only
 * partly filled (method and minor are set when the request line got that
 * far, keep_alive is false). */
enum http1_result http1_parse(char *head, size_t len, struct http1_request *out);

/* The first field named name (ASCII case-insensitive), or NULL. */
const char *http1_header(const struct http1_request *r, const char *name);

/* ASCII case-insensitive equality of two NUL-terminated strings. */
bool http1_name_eq(const char *a, const char *b);

/* The HTTP status for a result (200 for HTTP1_OK) and a short message safe
 * to show a client. Static strings. */
int http1_result_status(enum http1_result r);
const char *http1_result_str(enum http1_result r);

#endif
