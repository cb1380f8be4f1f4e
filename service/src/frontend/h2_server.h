/*
 * h2_server - an HTTP/2 server on the loop: nghttp2 sessions over libevent
 * bufferevents, plaintext (prior knowledge) or TLS with ALPN "h2".
 *
 * Each request stream is handed to the owner once the client has ended it
 * (END_STREAM), with its headers and body; or, for the streams the owner's
 * wants_stream picks (client- and bidi-streaming methods), as soon as its
 * headers are in, the body then arriving piece by piece through the reader
 * the owner sets. The owner answers through the stream functions below, at
 * once or later, in one piece or over time (headers, any number of writes,
 * then trailers): unary, server- and bidi-streaming handlers all fit. A stream the peer resets, or
 * whose connection goes away, before the owner has finished is "detached": the owner's calls on it
 * still work (they send nothing) and the last one (h2_stream_end or h2_stream_abandon) frees it.
 *
 * Policing, each from the options: at most max_connections (listener.h,
 * with the descriptor reserve), max_concurrent_streams per connection
 * (SETTINGS; nghttp2 refuses more), max_header_list_bytes per request
 * (advertised; a larger header list resets the stream), a request body
 * bound (larger bodies are not kept: h2_stream_body_too_large), nghttp2's
 * CONTINUATION bound and rapid-reset rate limit, a PING budget (beyond it:
 * GOAWAY ENHANCE_YOUR_CALM and close), a handshake deadline (TLS, preface
 * and the client's SETTINGS within handshake_timeout_ms), an idle timeout
 * (no open stream), a maximum connection age (GOAWAY, then a grace period)
 * and an output high-water mark (reading pauses while the peer does not
 * read what it asked for). Output is written once per loop turn. An idle
 * connection's memory is trimmed after idle_trim_ms (see the option).
 *
 * Loop thread only.
 */
#ifndef BGW_H2_SERVER_H
#define BGW_H2_SERVER_H

#include <nghttp2/nghttp2.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct event_base;
struct h2_server;
struct h2_stream;

/* A complete request (headers and body) on a stream the owner now holds. */
typedef void (*h2_server_stream_fn)(void *arg, struct h2_stream *st);
/* Asked once a request's headers are in and more is to come: true = hand
 * st over now (on_stream) and pass its body through its reader. */
typedef bool (*h2_server_wants_stream_fn)(void *arg, const struct h2_stream *st);
/* What a stream handed over early receives. DATA: body bytes as they
 * arrive (any split). END: the client ended its side. GONE: the stream was
 * reset or its connection went away; st is detached and the owner must
 * still end or abandon it (which frees it). Not called once the owner has
 * ended or abandoned st. */
enum h2_read { H2_READ_DATA, H2_READ_END, H2_READ_GONE };
typedef void (*h2_reader_fn)(void *arg, struct h2_stream *st, enum h2_read what,
                             const uint8_t *data, size_t len);
/* Releases a buffer passed to h2_stream_write once it has been sent (or
 * dropped). */
typedef void (*h2_release_fn)(const void *data, size_t len, void *hold);

struct h2_server_options {
    struct event_base *base;
    const char *host;
    int port;
    SSL_CTX *ssl_ctx; /* NULL = plaintext; else the server sets its ALPN callback */
    const char *name; /* log names: "grpc" */
    size_t max_connections;
    uint32_t max_concurrent_streams;
    uint32_t max_header_list_bytes;
    size_t max_body_bytes; /* a request body kept, at most (larger: body_too_large) */
    uint32_t max_resets_per_s;
    uint32_t max_pings_per_s;
    size_t max_continuations;
    int64_t handshake_timeout_ms;
    int64_t idle_timeout_ms; /* 0 = none */
    int64_t max_age_ms;      /* 0 = none */
    int64_t max_age_grace_ms;
    /* A connection with no stream and nothing to send for this long gives
     * back the pages of nghttp2's frame buffer and of its empty stream map
     * (nghttp2's large blocks are mapped per connection). 0 = never. */
    int64_t idle_trim_ms;
    h2_server_stream_fn on_stream;
    h2_server_wants_stream_fn wants_stream; /* NULL: every stream at END_STREAM */
    void *arg;
    bool start_paused; /* accept only after h2_server_start */
};

struct h2_server *h2_server_new(const struct h2_server_options *o, struct buf *err);
int h2_server_port(const struct h2_server *s);
void h2_server_start(struct h2_server *s);
/* Closes the listener and sends GOAWAY on every connection: streams already
 * received finish; each connection closes when its last one has. */
void h2_server_stop_accepting(struct h2_server *s);
bool h2_server_accepting(const struct h2_server *s);
/* New connections use ctx from now on (borrowed; its ALPN callback is set
 * here); connections already made keep theirs. */
void h2_server_set_ssl_ctx(struct h2_server *s, SSL_CTX *ctx);
/* Streams held by the owner plus output not yet written, over all
 * connections: 0 once everything answered has left. */
size_t h2_server_unsent(const struct h2_server *s);
uint64_t h2_server_shed(const struct h2_server *s);
/* Closes every connection (detaching streams) and frees the server. */
void h2_server_free(struct h2_server *s);

/* The request. Header names are lower case (HTTP/2); the first value of
 * a name, or NULL; count = how many times it came. */
const char *h2_stream_header(const struct h2_stream *st, const char *name);
size_t h2_stream_header_count(const struct h2_stream *st, const char *name);
const uint8_t *h2_stream_body(const struct h2_stream *st, size_t *len);
bool h2_stream_body_too_large(const struct h2_stream *st);
/* The header list went over max_header_list_bytes: what is past the limit
 * was not kept; answer with an error. */
bool h2_stream_headers_too_large(const struct h2_stream *st);
/* "ipv4:1.2.3.4:5" / "ipv6:[::1]:5". */
const char *h2_stream_peer(const struct h2_stream *st);
/* The connection's TLS session (NULL for plaintext or a detached stream). */
SSL *h2_stream_ssl(const struct h2_stream *st);
bool h2_stream_detached(const struct h2_stream *st);
/* Handed over early (wants_stream): the body comes through the reader. */
bool h2_stream_streaming(const struct h2_stream *st);
/* The reader of a stream handed over early (set it in on_stream). */
void h2_stream_set_reader(struct h2_stream *st, h2_reader_fn fn, void *arg);

/* Response headers (":status" first). end = no body and no trailers
 * follow (a trailers-only answer ends the stream here: the owner must not
 * use st afterwards). 0, or -1 (st is then still the owner's to end). */
int h2_stream_respond(struct h2_stream *st, const nghttp2_nv *nv, size_t n, bool end);
/* Body bytes, sent by reference: release(data, len, hold) runs once they
 * are sent or dropped (NULL release: data is copied now). */
int h2_stream_write(struct h2_stream *st, const void *data, size_t len, h2_release_fn release,
                    void *hold);
/* Trailers (may be none) and the end of the stream; st is gone after. */
void h2_stream_end(struct h2_stream *st, const nghttp2_nv *trailers, size_t n);
/* Resets the stream (CANCEL) if it is still open and frees st. */
void h2_stream_abandon(struct h2_stream *st);

#endif
