/*
 * grpc_frontend - gRPC unary calls over h2_server. See grpc_frontend.h.
 * Loop thread only.
 */
#include "grpc_frontend.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "cache.h"
#include "clock.h"
#include "grpc_codec.h"
#include "grpc_reflection.h"
#include "grpc_wire.h"
#include "h2_server.h"
#include "health.h"
#include "log.h"
#include "tls_server.h"

#define S_METHOD_LIST "/bedrockgw.v1.ModelImportJobs/ListModelImportJobs"
#define S_METHOD_HEALTH "/grpc.health.v1.Health/Check"
#define S_METHOD_REFLECTION "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
#define S_METHOD_REFLECTION_ALPHA "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"
/* An HTTP/2 connection idle this long gives back the pages nghttp2 only
 * needs while frames flow (h2_server_options.idle_trim_ms). */
#define S_IDLE_TRIM_MS 1000
/* A reflection stream with no request for this long is ended (UNAVAILABLE:
 * clients reconnect), so an idle one cannot hold a connection forever. */
#define S_REFLECTION_IDLE_MS 60000

/* The descriptor set of every file the listener serves (CMakeLists.txt). */
extern const unsigned char bgw_descriptor_set_bytes[];
extern const size_t bgw_descriptor_set_len;

/* One ServerReflectionInfo stream: request bytes not yet a whole message,
 * the files it has been sent. */
struct s_refl {
    struct grpc_frontend *fe;
    struct h2_stream *st;
    struct s_refl *next, *prev;
    struct buf in;
    struct grpc_reflection_sent sent;
    struct event *idle;
    bool responded;
};

struct grpc_frontend {
    struct h2_server *h2;
    struct event_base *base;
    struct grpc_reflection *reflection; /* NULL: grpc.reflection false */
    struct s_refl *refl_streams;
    SSL_CTX *ssl_ctx;
    grpc_frontend_submit_fn submit;
    void *submit_arg;
    const struct health *health;
    size_t max_message_bytes;
    bool draining;
    unsigned long next_id;
};

static size_t s_add(nghttp2_nv *nv, size_t n, const char *name, const char *value)
{
    nv[n].name = (uint8_t *)name;
    nv[n].namelen = strlen(name);
    nv[n].value = (uint8_t *)value;
    nv[n].valuelen = strlen(value);
    nv[n].flags = NGHTTP2_NV_FLAG_NONE;
    return n + 1;
}

/* A trailers-only answer: :status (200 for every gRPC status), the gRPC
 * status and message, details and the extra metadata. Ends st. */
static void s_fail_http(struct h2_stream *st, const char *http_status, const struct bgw_error *e,
                        const char *request_id, bool accept_identity)
{
    char code[12];
    snprintf(code, sizeof(code), "%d", bgw_status_grpc_code(e->status));
    struct buf msg, details;
    buf_init(&msg, 0);
    buf_init(&details, 0);
    const char *text = e->message[0] ? e->message : bgw_status_str(e->status);
    bool ok =
        grpc_wire_percent_encode(&msg, text) == 0 && grpc_wire_status_details_bin(&details, e) == 0;
    char retry[24];
    nghttp2_nv nv[9];
    size_t n = 0;
    n = s_add(nv, n, ":status", http_status);
    n = s_add(nv, n, "content-type", "application/grpc");
    n = s_add(nv, n, "grpc-status", code);
    if (ok) {
        n = s_add(nv, n, "grpc-message", msg.data ? msg.data : "");
        n = s_add(nv, n, "grpc-status-details-bin", details.data ? details.data : "");
    }
    if (e->retry_after_s > 0) {
        snprintf(retry, sizeof(retry), "%d", e->retry_after_s);
        n = s_add(nv, n, "retry-after", retry);
    }
    if (request_id && request_id[0])
        n = s_add(nv, n, "x-request-id", request_id);
    if (accept_identity)
        n = s_add(nv, n, "grpc-accept-encoding", "identity");
    if (h2_stream_respond(st, nv, n, true) != 0)
        h2_stream_abandon(st);
    buf_clean_up(&msg);
    buf_clean_up(&details);
}

/* A trailers-only error answer with a formatted message. Ends st. */
static void s_fail(struct h2_stream *st, enum bgw_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void s_fail(struct h2_stream *st, enum bgw_status status, const char *fmt, ...)
{
    struct bgw_error e;
    bgw_error_clear(&e);
    e.status = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.message, sizeof(e.message), fmt, ap);
    va_end(ap);
    s_fail_http(st, "200", &e, NULL, false);
}

static void s_release_view(const void *data, size_t len, void *hold)
{
    (void)data;
    (void)len;
    cache_view_release(hold);
}

/* Headers, the message (prefix copied, body by reference when hold is
 * set, else copied), trailers with grpc-status 0. Ends st. */
static void s_send_ok(struct h2_stream *st, const char *request_id, const void *body, size_t len,
                      struct cache_hold *hold, const char *x_cache, const char *warning)
{
    nghttp2_nv head[3];
    size_t n = 0;
    n = s_add(head, n, ":status", "200");
    n = s_add(head, n, "content-type", "application/grpc");
    n = s_add(head, n, "x-request-id", request_id);
    if (h2_stream_respond(st, head, n, false) != 0) {
        cache_view_release(hold);
        h2_stream_abandon(st);
        return;
    }
    uint8_t prefix[GRPC_WIRE_PREFIX];
    grpc_wire_prefix(prefix, len);
    int bad = h2_stream_write(st, prefix, sizeof(prefix), NULL, NULL);
    if (len && hold)
        bad |= h2_stream_write(st, body, len, s_release_view, hold);
    else {
        cache_view_release(hold);
        if (len)
            bad |= h2_stream_write(st, body, len, NULL, NULL);
    }
    if (bad) {
        h2_stream_abandon(st);
        return;
    }
    nghttp2_nv trailers[3];
    n = 0;
    n = s_add(trailers, n, "grpc-status", "0");
    if (x_cache && x_cache[0]) {
        n = s_add(trailers, n, "x-cache", x_cache);
        if (warning)
            n = s_add(trailers, n, "warning", warning);
    }
    h2_stream_end(st, trailers, n);
}

static void s_reply(struct handler_call *c, const struct jobs_response *resp,
                    const struct bgw_error *err)
{
    struct h2_stream *st = c->frontend_data;
    if (err) {
        s_fail_http(st, "200", err, c->request_id, false);
        handler_call_free(c);
        return;
    }
    const struct handler_cache_reply *cr = &c->cache_reply;
    const char *warning = cr->warning == 110   ? "110 - \"Response is Stale\""
                          : cr->warning == 111 ? "111 - \"Revalidation Failed\""
                                               : NULL;
    if (cr->body) {
        struct cache_hold *hold = cr->hold   ? cache_hold_ref(cr->hold)
                                  : cr->view ? cache_view_hold(cr->view)
                                             : NULL;
        s_send_ok(st, c->request_id, cr->body, cr->body_len, hold, cr->x_cache, warning);
    } else {
        struct buf b;
        buf_init(&b, 0);
        if (grpc_codec_render_response(resp, &b) == 0) {
            s_send_ok(st, c->request_id, b.data, b.len, NULL, cr->x_cache, warning);
        } else {
            struct bgw_error e;
            bgw_error_clear(&e);
            bgw_error_set(&e, BGW_ERR_NOMEM, NULL, "out of memory");
            s_fail_http(st, "200", &e, c->request_id, false);
        }
        buf_clean_up(&b);
    }
    handler_call_free(c);
}

static int s_render(const struct jobs_response *resp, struct buf *out)
{
    return grpc_codec_render_response(resp, out);
}

static char *s_dup(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* application/grpc, application/grpc+proto, with or without parameters. */
static bool s_grpc_type(const char *ct)
{
    static const char base[] = "application/grpc";
    if (!ct || strncasecmp(ct, base, sizeof(base) - 1) != 0)
        return false;
    const char *rest = ct + sizeof(base) - 1;
    if (strncasecmp(rest, "+proto", 6) == 0)
        rest += 6;
    return *rest == '\0' || *rest == ';';
}

static void s_health(struct grpc_frontend *fe, struct h2_stream *st)
{
    /* grpc.health.v1.HealthCheckResponse{status: SERVING(1) | NOT_SERVING(2)} */
    bool serving =
        !fe->draining && (!fe->health || health_ready(fe->health)) && h2_server_accepting(fe->h2);
    unsigned char msg[2] = {0x08, serving ? 1 : 2};
    s_send_ok(st, "", msg, sizeof(msg), NULL, NULL, NULL);
}

/* -- server reflection ------------------------------------------------------ */

static bool s_is_reflection(const char *path)
{
    return path &&
           (strcmp(path, S_METHOD_REFLECTION) == 0 || strcmp(path, S_METHOD_REFLECTION_ALPHA) == 0);
}

static void s_refl_free(struct s_refl *r)
{
    struct grpc_frontend *fe = r->fe;
    if (r->prev)
        r->prev->next = r->next;
    else
        fe->refl_streams = r->next;
    if (r->next)
        r->next->prev = r->prev;
    if (r->idle)
        event_free(r->idle);
    buf_clean_up(&r->in);
    free(r);
}

/* Ends the stream with status (trailers-only when nothing was sent yet)
 * and frees r. */
static void s_refl_finish(struct s_refl *r, enum bgw_status status, const char *message)
{
    struct h2_stream *st = r->st;
    if (!r->responded) {
        if (status == BGW_OK) {
            nghttp2_nv nv[3];
            size_t n = 0;
            n = s_add(nv, n, ":status", "200");
            n = s_add(nv, n, "content-type", "application/grpc");
            n = s_add(nv, n, "grpc-status", "0");
            if (h2_stream_respond(st, nv, n, true) != 0)
                h2_stream_abandon(st);
        } else {
            s_fail(st, status, "%s", message);
        }
        s_refl_free(r);
        return;
    }
    char code[12];
    snprintf(code, sizeof(code), "%d", bgw_status_grpc_code(status));
    struct buf msg;
    buf_init(&msg, 0);
    nghttp2_nv trailers[2];
    size_t n = 0;
    n = s_add(trailers, n, "grpc-status", code);
    if (status != BGW_OK && grpc_wire_percent_encode(&msg, message) == 0 && msg.data)
        n = s_add(trailers, n, "grpc-message", msg.data);
    h2_stream_end(st, trailers, n);
    buf_clean_up(&msg);
    s_refl_free(r);
}

static void s_refl_idle(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    s_refl_finish(arg, BGW_ERR_UNAVAILABLE, "reflection stream idle for 60 s");
}

/* (Re)starts the stream's idle clock. */
static void s_refl_arm(struct s_refl *r)
{
    struct timeval tv = {S_REFLECTION_IDLE_MS / 1000, 0};
    if (r->idle)
        event_add(r->idle, &tv);
}

static void s_release_free(const void *data, size_t len, void *hold)
{
    (void)data;
    (void)len;
    free(hold);
}

/* Answers every whole request message in r->in. -1 when r is finished. */
static int s_refl_drain(struct s_refl *r)
{
    size_t max = r->fe->max_message_bytes;
    size_t off = 0;
    int rc = 0;
    while (r->in.len - off >= GRPC_WIRE_PREFIX) {
        const uint8_t *p = (const uint8_t *)r->in.data + off;
        size_t len = grpc_wire_length(p);
        if (p[0] == 1) {
            s_refl_finish(r, BGW_ERR_UNIMPLEMENTED, "compressed messages are not supported");
            return -1;
        }
        if (p[0] != 0) {
            s_refl_finish(r, BGW_ERR_INTERNAL, "malformed gRPC message framing");
            return -1;
        }
        if (len > max) {
            s_refl_finish(r, BGW_ERR_RESOURCE_EXHAUSTED,
                          "request message larger than grpc.max_message_bytes");
            return -1;
        }
        if (r->in.len - off - GRPC_WIRE_PREFIX < len)
            break;
        struct buf out;
        buf_init(&out, 0);
        uint8_t prefix[GRPC_WIRE_PREFIX] = {0};
        if (buf_append(&out, prefix, sizeof(prefix)) != 0 ||
            grpc_reflection_answer(r->fe->reflection, p + GRPC_WIRE_PREFIX, len, &r->sent, &out) !=
                0) {
            buf_clean_up(&out);
            s_refl_finish(r, BGW_ERR_INVALID_ARGUMENT,
                          "request is not a grpc.reflection ServerReflectionRequest");
            return -1;
        }
        grpc_wire_prefix((uint8_t *)out.data, out.len - GRPC_WIRE_PREFIX);
        if (!r->responded) {
            nghttp2_nv head[2];
            size_t n = 0;
            n = s_add(head, n, ":status", "200");
            n = s_add(head, n, "content-type", "application/grpc");
            if (h2_stream_respond(r->st, head, n, false) != 0)
                rc = -1;
            r->responded = true;
        }
        size_t out_len = out.len;
        char *answer = buf_detach(&out); /* sent by reference, freed once out */
        if (rc == 0 &&
            (!answer || h2_stream_write(r->st, answer, out_len, s_release_free, answer) != 0))
            rc = -1;
        else if (rc != 0)
            free(answer);
        if (rc != 0) {
            h2_stream_abandon(r->st);
            s_refl_free(r);
            return -1;
        }
        off += GRPC_WIRE_PREFIX + len;
    }
    if (off) {
        memmove(r->in.data, r->in.data + off, r->in.len - off);
        r->in.len -= off;
    }
    return 0;
}

static void s_refl_read(void *arg, struct h2_stream *st, enum h2_read what, const uint8_t *data,
                        size_t len)
{
    struct s_refl *r = arg;
    switch (what) {
    case H2_READ_GONE:
        s_refl_free(r);
        h2_stream_abandon(st);
        return;
    case H2_READ_DATA:
        if (buf_append(&r->in, data, len) != 0) {
            s_refl_finish(r, BGW_ERR_RESOURCE_EXHAUSTED, "request too large");
            return;
        }
        if (s_refl_drain(r) == 0)
            s_refl_arm(r);
        return;
    case H2_READ_END:
        if (r->in.len)
            s_refl_finish(r, BGW_ERR_INTERNAL, "malformed gRPC message framing (truncated)");
        else
            s_refl_finish(r, BGW_OK, "");
        return;
    }
}

/* A ServerReflectionInfo call: streamed (answers as requests arrive) or,
 * when the client ended its side with the headers, nothing to answer. */
static void s_reflection(struct grpc_frontend *fe, struct h2_stream *st)
{
    struct s_refl *r = calloc(1, sizeof(*r));
    if (!r) {
        s_fail(st, BGW_ERR_NOMEM, "out of memory");
        return;
    }
    r->fe = fe;
    r->st = st;
    /* a whole message and its prefix, and what a frame may bring past it */
    buf_init(&r->in, fe->max_message_bytes + GRPC_WIRE_PREFIX + 65536);
    r->next = fe->refl_streams;
    if (r->next)
        r->next->prev = r;
    fe->refl_streams = r;
    if (!h2_stream_streaming(st)) {
        size_t len;
        const uint8_t *body = h2_stream_body(st, &len);
        if (h2_stream_body_too_large(st) || buf_append(&r->in, body, len) != 0)
            s_refl_finish(r, BGW_ERR_RESOURCE_EXHAUSTED,
                          "request message larger than grpc.max_message_bytes");
        else if (s_refl_drain(r) == 0)
            s_refl_read(r, st, H2_READ_END, NULL, 0);
        return;
    }
    r->idle = event_new(fe->base, -1, 0, s_refl_idle, r);
    s_refl_arm(r);
    h2_stream_set_reader(st, s_refl_read, r);
}

/* Streams other than the unary methods are taken at their headers:
 * reflection is a bidi stream, and any other path is answered (UNIMPLEMENTED)
 * at once rather than when a streaming client ends its side. */
static bool s_wants_stream(void *arg, const struct h2_stream *st)
{
    (void)arg;
    const char *path = h2_stream_header(st, ":path");
    return !path || (strcmp(path, S_METHOD_LIST) != 0 && strcmp(path, S_METHOD_HEALTH) != 0);
}

/* The request's transport-level checks (method, content-type, sizes,
 * framing, path): false when st has been answered (an error, or the health
 * check), true with the message (*msg may be NULL: none sent) for
 * ListModelImportJobs. */
static bool s_checked_call(struct grpc_frontend *fe, struct h2_stream *st, const uint8_t **msg_out,
                           size_t *msg_len_out, enum grpc_wire_frame *fr_out)
{
    const char *method = h2_stream_header(st, ":method");
    const char *path = h2_stream_header(st, ":path");
    if (!method || strcmp(method, "POST") != 0) {
        s_fail_http(st, "405",
                    &(struct bgw_error){.status = BGW_ERR_UNIMPLEMENTED,
                                        .message = "gRPC calls are POST requests"},
                    NULL, false);
        return false;
    }
    if (!s_grpc_type(h2_stream_header(st, "content-type"))) {
        s_fail_http(st, "415",
                    &(struct bgw_error){.status = BGW_ERR_INTERNAL,
                                        .message = "content-type must be application/grpc"},
                    NULL, false);
        return false;
    }
    if (h2_stream_headers_too_large(st)) {
        s_fail(st, BGW_ERR_RESOURCE_EXHAUSTED,
               "request metadata larger than grpc.max_header_list_bytes");
        return false;
    }
    if (fe->reflection && s_is_reflection(path)) {
        s_reflection(fe, st);
        return false;
    }
    if (h2_stream_body_too_large(st)) { /* one framed message can only be larger */
        s_fail(st, BGW_ERR_RESOURCE_EXHAUSTED,
               "request message larger than grpc.max_message_bytes (%zu)", fe->max_message_bytes);
        return false;
    }
    size_t body_len;
    const uint8_t *body = h2_stream_body(st, &body_len);
    const uint8_t *msg = NULL;
    size_t msg_len = 0;
    enum grpc_wire_frame fr = grpc_wire_unframe(body, body_len, &msg, &msg_len);
    if (fr == GRPC_WIRE_COMPRESSED) {
        const char *enc = h2_stream_header(st, "grpc-encoding");
        struct bgw_error e;
        bgw_error_clear(&e);
        if (!enc || strcmp(enc, "identity") == 0)
            bgw_error_set(&e, BGW_ERR_INTERNAL, NULL, "compressed message without a grpc-encoding");
        else
            bgw_error_set(&e, BGW_ERR_UNIMPLEMENTED, NULL,
                          "grpc-encoding %.64s is not supported (identity only)", enc);
        s_fail_http(st, "200", &e, NULL, true);
        return false;
    }
    if (fr == GRPC_WIRE_MANY) {
        s_fail(st, BGW_ERR_INTERNAL, "more than one request message on a unary call");
        return false;
    }
    if (fr == GRPC_WIRE_TRUNCATED || fr == GRPC_WIRE_BAD_FLAG) {
        s_fail(st, BGW_ERR_INTERNAL, "malformed gRPC message framing");
        return false;
    }
    if (strcmp(path ? path : "", S_METHOD_HEALTH) == 0) {
        s_health(fe, st);
        return false;
    }
    if (strcmp(path ? path : "", S_METHOD_LIST) != 0) {
        s_fail(st, BGW_ERR_UNIMPLEMENTED, "unknown method %.200s", path ? path : "");
        return false;
    }
    *msg_out = msg;
    *msg_len_out = msg_len;
    *fr_out = fr;
    return true;
}

static void s_on_stream(void *arg, struct h2_stream *st)
{
    struct grpc_frontend *fe = arg;
    const uint8_t *msg = NULL;
    size_t msg_len = 0;
    enum grpc_wire_frame fr;
    if (!s_checked_call(fe, st, &msg, &msg_len, &fr))
        return;
    int64_t now = clock_mono_ms();
    int64_t deadline = 0;
    const char *timeout = h2_stream_header(st, "grpc-timeout");
    if (timeout) {
        int64_t ms = grpc_wire_timeout_ms(timeout);
        if (ms < 0) {
            s_fail(st, BGW_ERR_INTERNAL, "malformed grpc-timeout %.32s", timeout);
            return;
        }
        if (ms == 0) { /* e.g. "1n": already over */
            s_fail(st, BGW_ERR_DEADLINE_EXCEEDED, "deadline exceeded before the call");
            return;
        }
        deadline = now + ms;
    }
    struct handler_call *c = handler_call_new(HANDLER_GRPC);
    if (!c) {
        s_fail(st, BGW_ERR_NOMEM, "out of memory");
        return;
    }
    c->received_ms = now;
    c->deadline_ms = deadline;
    handler_format_request_id(c->request_id, 'g', (unsigned long)time(NULL), ++fe->next_id);
    snprintf(c->peer, sizeof(c->peer), "%s", h2_stream_peer(st));
    c->authorization = s_dup(h2_stream_header(st, "authorization"));
    c->key_header_repeated = h2_stream_header_count(st, "authorization") > 1 ||
                             h2_stream_header_count(st, "x-api-key") > 1;
    c->x_api_key = s_dup(h2_stream_header(st, "x-api-key"));
    c->cache_control = s_dup(h2_stream_header(st, "cache-control"));
    if (fr == GRPC_WIRE_NONE) {
        c->decode_failed = true;
        bgw_error_set(&c->decode_error, BGW_ERR_INVALID_ARGUMENT, NULL, "missing request message");
    } else if (grpc_codec_decode_request(msg, msg_len, &c->req, &c->decode_error) != BGW_OK) {
        c->decode_failed = true;
    }
    if (tls_server_peer_identity(h2_stream_ssl(st), &c->peer_cert) != 0 && !c->decode_failed) {
        c->decode_failed = true;
        bgw_error_set(&c->decode_error, BGW_ERR_NOMEM, NULL, "out of memory");
    }
    c->reply = s_reply;
    c->render = s_render;
    c->frontend_data = st;
    fe->submit(fe->submit_arg, c);
}

struct grpc_frontend *grpc_frontend_new(const struct grpc_frontend_options *opts, struct buf *err)
{
    const struct config *cfg = opts->cfg;
    char host[256];
    int port = 0;
    struct grpc_frontend *fe = calloc(1, sizeof(*fe));
    if (!fe) {
        buf_append_str(err, "out of memory");
        return NULL;
    }
    fe->submit = opts->submit;
    fe->submit_arg = opts->submit_arg;
    fe->health = opts->health;
    fe->max_message_bytes = cfg->grpc_max_message_bytes;
    fe->base = opts->base;
    if (cfg->grpc_reflection) {
        fe->reflection = grpc_reflection_new(bgw_descriptor_set_bytes, bgw_descriptor_set_len, err);
        if (!fe->reflection)
            goto fail;
    }
    if (config_split_host_port(cfg->grpc_listen, host, sizeof(host), &port) != 0) {
        buf_appendf(err, "grpc.listen: bad address %s", cfg->grpc_listen);
        goto fail;
    }
    if (cfg->grpc_tls.cert_file[0]) {
        fe->ssl_ctx = tls_server_ctx_new(&cfg->grpc_tls, "grpc.tls", err);
        if (!fe->ssl_ctx)
            goto fail;
    }
    struct h2_server_options ho = {
        .base = opts->base,
        .host = host,
        .port = port,
        .ssl_ctx = fe->ssl_ctx,
        .name = "grpc",
        .max_connections = cfg->grpc_max_connections,
        .max_concurrent_streams = (uint32_t)cfg->grpc_max_concurrent_streams,
        .max_header_list_bytes = (uint32_t)cfg->grpc_max_header_list_bytes,
        /* one message and its prefix: a larger body is too large */
        .max_body_bytes = cfg->grpc_max_message_bytes + GRPC_WIRE_PREFIX,
        .max_resets_per_s = (uint32_t)cfg->grpc_max_resets_per_s,
        .max_pings_per_s = (uint32_t)cfg->grpc_max_pings_per_s,
        .max_continuations = cfg->grpc_max_continuations,
        .handshake_timeout_ms = cfg->http_timeout_ms,
        .idle_timeout_ms = cfg->grpc_idle_timeout_ms,
        .max_age_ms = cfg->grpc_max_connection_age_ms,
        .max_age_grace_ms = cfg->grpc_max_connection_age_grace_ms,
        .idle_trim_ms = S_IDLE_TRIM_MS,
        .on_stream = s_on_stream,
        .wants_stream = s_wants_stream,
        .arg = fe,
        .start_paused = opts->start_paused,
    };
    struct buf why;
    buf_init(&why, 0);
    fe->h2 = h2_server_new(&ho, &why);
    if (!fe->h2) {
        buf_appendf(err, "grpc.listen: %s", why.data ? why.data : "cannot listen");
        buf_clean_up(&why);
        goto fail;
    }
    buf_clean_up(&why);
    return fe;
fail:
    grpc_frontend_destroy(fe);
    return NULL;
}

int grpc_frontend_port(const struct grpc_frontend *f)
{
    return h2_server_port(f->h2);
}

void grpc_frontend_stop_accepting(struct grpc_frontend *f)
{
    f->draining = true;
    /* reflection streams stay open as long as their client likes: end them
     * so the drain does not wait on them */
    while (f->refl_streams)
        s_refl_finish(f->refl_streams, BGW_ERR_UNAVAILABLE, "server shutting down");
    h2_server_stop_accepting(f->h2);
}

SSL_CTX *grpc_frontend_ssl_ctx(const struct grpc_frontend *f)
{
    return f->ssl_ctx;
}

void grpc_frontend_set_ssl_ctx(struct grpc_frontend *f, SSL_CTX *ctx)
{
    h2_server_set_ssl_ctx(f->h2, ctx);
    SSL_CTX_free(f->ssl_ctx);
    f->ssl_ctx = ctx;
}

void grpc_frontend_start(struct grpc_frontend *f)
{
    h2_server_start(f->h2);
}

bool grpc_frontend_accepting(const struct grpc_frontend *f)
{
    return h2_server_accepting(f->h2);
}

size_t grpc_frontend_unsent(const struct grpc_frontend *f)
{
    return h2_server_unsent(f->h2);
}

void grpc_frontend_destroy(struct grpc_frontend *f)
{
    if (!f)
        return;
    h2_server_free(f->h2); /* tells open reflection streams: GONE */
    while (f->refl_streams) {
        struct h2_stream *st = f->refl_streams->st;
        s_refl_free(f->refl_streams);
        h2_stream_abandon(st);
    }
    grpc_reflection_free(f->reflection);
    SSL_CTX_free(f->ssl_ctx);
    free(f);
}
