/*
 * http_server - a small HTTP/1.1 server on libevent for the REST frontend
 * (replaces evhttp, whose per-header allocation and printf made a cached
 * answer cost twice what it should). Loop thread only; never blocks.
 *
 * Owns the listener (evconnlistener) and the connections. Plain
 * connections are read and written by the server itself (a read event, one
 * read() per arrival, one sendmsg() per reply; only a remainder the socket
 * will not take goes through an evbuffer and a write event). TLS
 * connections are OpenSSL bufferevents in accepting mode.
 *
 * Per connection: requests are parsed (http1.h) and answered strictly in
 * order, one at a time; keep-alive per RFC 9112; a request head must be
 * complete within timeout_ms of its first byte, an idle keep-alive
 * connection is closed after timeout_ms, and so is one whose reply does not
 * leave within timeout_ms. A Content-Length body (no endpoint takes one) is
 * read and discarded, up to max_body_bytes. Requests the server refuses
 * itself (malformed, too large, unknown method or version) are still handed
 * to the callback with http_request_error() set, so that the frontend
 * writes the error body; their connection closes after the reply.
 *
 * Connection-flood guard: listener.h (max_connections, a descriptor
 * reserve, a brief pause after an accept error; "http_connections_shed").
 */
#ifndef BGW_HTTP_SERVER_H
#define BGW_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "buf.h"
#include "http1.h"

struct event_base;
struct http_server;
struct http_request;

/* Loop thread. req stays valid until http_response_send (which must be
 * called exactly once, now or on a later loop turn, even when the client
 * has gone meanwhile: the reply is then dropped quietly). */
typedef void (*http_server_request_fn)(void *arg, struct http_request *req);

/* Called once the body bytes are no longer needed (maybe at once, maybe
 * after the reply left; loop thread). The signature of libevent's
 * evbuffer_ref_cleanup_cb. */
typedef void (*http_body_release_fn)(const void *data, size_t len, void *arg);

struct http_server_options {
    struct event_base *base;
    const char *host;        /* listen address (numeric or name), port below */
    int port;                /* 0 = any */
    SSL_CTX *ssl_ctx;        /* borrowed, outlives the server; NULL = plain HTTP */
    size_t max_header_bytes; /* request line + fields + empty line */
    size_t max_body_bytes;
    int64_t timeout_ms;
    size_t max_connections; /* 0 = only the descriptor reserve */
    bool start_paused;      /* accept only after http_server_start */
    http_server_request_fn on_request;
    void *arg;
};

/* NULL with err set on failure (cannot listen, out of memory). */
struct http_server *http_server_new(const struct http_server_options *o, struct buf *err);
int http_server_port(const struct http_server *s);
/* Closes the listener; requests already read still get answers, each with
 * "Connection: close". */
void http_server_stop_accepting(struct http_server *s);
void http_server_start(struct http_server *s);
/* New connections use ctx from now on (borrowed, like the one in the
 * options); connections already made keep theirs. */
void http_server_set_ssl_ctx(struct http_server *s, SSL_CTX *ctx);
/* False while the listener cannot accept (listener_accepting). */
bool http_server_accepting(const struct http_server *s);
/* Requests read whose reply has not been fully written (or dropped). */
size_t http_server_unsent(const struct http_server *s);
/* Closes every connection. No request may still be waiting for its reply. */
void http_server_free(struct http_server *s);

/* -- the request (valid until http_response_send) ------------------------ */

/* The parsed head; on an error only what was parsed before it. */
const struct http1_request *http_request_head(const struct http_request *r);
/* HTTP1_OK, or why the server refuses the request (answer with
 * http1_result_status / http1_result_str). */
enum http1_result http_request_error(const struct http_request *r);
/* "addr:port" of the client, truncated to len - 1 bytes. */
void http_request_peer(const struct http_request *r, char *out, size_t len);
/* The connection's SSL, or NULL on plain HTTP. */
SSL *http_request_ssl(const struct http_request *r);

/* -- the reply ---------------------------------------------------------- */

/* Appends the field "name: value" (no CR/LF/NUL inside, the caller's
 * constants and checked values) to the reply. 0, or -1 when out of memory.
 * Date, Content-Length and Connection are added by http_response_send. */
int http_response_header(struct http_request *r, const char *name, const char *value);
/* Appends ready-made field lines ("Name: value\r\n"...). */
int http_response_lines(struct http_request *r, const char *lines, size_t len);
/* Sends the status line, the fields, Date, Content-Length (the body's
 * length, also for HEAD; none for 204 and 304), Connection when needed, and
 * the body (none for HEAD, 204, 304). With release, body goes out by
 * reference and release(body, len, release_arg) runs once it is not needed;
 * without, body is copied if needed. Ends req. */
void http_response_send(struct http_request *r, int status, const void *body, size_t len,
                        http_body_release_fn release, void *release_arg);

#endif
