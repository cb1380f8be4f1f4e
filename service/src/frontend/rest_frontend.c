/*
 * rest_frontend - routing, CORS, JSON replies on http_server (our own
 * HTTP/1.1 layer). See rest_frontend.h. Loop thread only.
 */
#include "rest_frontend.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "aws_api.h"
#include "cache.h"
#include "clock.h"
#include "health.h"
#include "http_server.h"
#include "json_mapping.h"
#include "log.h"
#include "openapi_doc.h"
#include "tls_server.h"

#define S_PATH_LIST "/v1/model-import-jobs"
#define S_PATH_HEALTH "/healthz"
#define S_PATH_READY "/readyz"
#define S_PATH_METRICS "/metrics"
#define S_PATH_OPENAPI "/openapi.json"
#define S_ALLOW "GET, HEAD, OPTIONS"
#define S_ALLOW_HEADERS                                                                            \
    "authorization, x-api-key, content-type, x-request-id, cache-control, if-none-match"
#define S_EXPOSE_HEADERS "retry-after, x-request-id, etag, age, warning, x-cache"
#define S_JSON_TYPE "application/json; charset=utf-8"

struct rest_frontend {
    const struct config *cfg;
    struct http_server *server;
    SSL_CTX *ssl_ctx; /* NULL = plain HTTP */
    int port;
    bool draining;
    const struct health *health;
    rest_frontend_submit_fn submit;
    void *submit_arg;
    rest_frontend_metrics_fn metrics;
    void *metrics_arg;
    unsigned long next_id;
};

/* Per-request state that outlives the request callback. */
struct s_pending {
    struct http_request *req;
    struct rest_frontend *fe;
    bool cors_credentials; /* CORS credentials setting when the request came */
    char cors_origin[256]; /* value for Access-Control-Allow-Origin, or "" */
};

/* The Access-Control-Allow-Origin value for origin, or NULL if not allowed. */
/* The Access-Control-Allow-Origin value for origin: the configured
 * spelling (never the client's), "*", or NULL. */
static const char *s_cors_allow(const struct rest_frontend *fe, const char *origin)
{
    if (!origin)
        return NULL;
    for (size_t i = 0; i < fe->cfg->n_cors_origins; i++) {
        const char *o = fe->cfg->cors_origins[i];
        if (strcmp(o, "*") == 0)
            return "*"; /* config forbids "*" together with credentials */
        if (config_origin_matches(o, origin))
            return o;
    }
    return NULL;
}

/* Every answer on the list resource depends on who asked: the browser's
 * cache must key it on both credential headers as well as the origin, or a
 * page fetched with one tenant's key is shown for another's (or for a wrong
 * key) without asking the gateway. 304s and errors say the same. */
#define S_VARY "Authorization, X-Api-Key, Origin"

static void s_add_cors(bool credentials, struct http_request *req, const char *allow)
{
    http_response_header(req, "Vary", S_VARY);
    if (!allow || !*allow)
        return;
    http_response_header(req, "Access-Control-Allow-Origin", allow);
    if (credentials && strcmp(allow, "*") != 0)
        http_response_header(req, "Access-Control-Allow-Credentials", "true");
    http_response_header(req, "Access-Control-Expose-Headers", S_EXPOSE_HEADERS);
}

static bool s_is_head(const struct http_request *req)
{
    return http_request_head(req)->method == HTTP1_M_HEAD;
}

/* A JSON answer (copied; HEAD: the length only, http_server drops the
 * body). */
static void s_send_json_cc(struct http_request *req, int code, const char *body, size_t len,
                           const char *cache_control)
{
    if (code != 304)
        http_response_header(req, "Content-Type", S_JSON_TYPE);
    http_response_header(req, "Cache-Control", cache_control);
    http_response_header(req, "X-Content-Type-Options", "nosniff");
    http_response_send(req, code, body, len, NULL, NULL);
}

static void s_send_json(struct http_request *req, int code, const char *body, size_t len)
{
    s_send_json_cc(req, code, body, len, "no-store");
}

/* Decimal digits of v (>= 0 expected; negative clamps to 0) into out, NUL-
 * terminated; returns out. out must hold 21 bytes. */
static char *s_u64(char *out, int64_t v)
{
    char tmp[24];
    char *p = tmp + sizeof(tmp);
    uint64_t u = v < 0 ? 0 : (uint64_t)v;
    *--p = '\0';
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    memcpy(out, p, (size_t)(tmp + sizeof(tmp) - p));
    return out;
}

static void s_release_view(const void *data, size_t len, void *hold)
{
    (void)data;
    (void)len;
    cache_view_release(hold);
}

/* A successful answer with the gateway's cache information. A body from a
 * stored view goes out by reference, not copied. */
static void s_send_cached(struct http_request *req, const struct handler_cache_reply *cr,
                          bool cert_only)
{
    char num[24];
    char cc[48] = "no-store";
    if (cert_only && cr->max_age_s >= 0) {
        /* The client certificate is not a request header a cache can vary
         * on: a browser must ask again each time (and gets 304 by ETag). */
        memcpy(cc, "private, no-cache", sizeof("private, no-cache"));
    } else if (cr->max_age_s >= 0) {
        static const char prefix[] = "private, max-age=";
        memcpy(cc, prefix, sizeof(prefix) - 1);
        s_u64(cc + sizeof(prefix) - 1, cr->max_age_s);
    }
    if (cr->etag[0])
        http_response_header(req, "ETag", cr->etag);
    if (cr->x_cache) {
        http_response_header(req, "Age", s_u64(num, cr->age_s));
        http_response_header(req, "X-Cache", cr->x_cache);
    }
    if (cr->warning == 110)
        http_response_header(req, "Warning", "110 - \"Response is Stale\"");
    else if (cr->warning == 111)
        http_response_header(req, "Warning", "111 - \"Revalidation Failed\"");
    if (cr->not_modified) {
        s_send_json_cc(req, 304, NULL, 0, cc);
        return;
    }
    if (!cr->view) {
        s_send_json_cc(req, 200, cr->body, cr->body_len, cc);
        return;
    }
    static const char type[] = "Content-Type: " S_JSON_TYPE "\r\nCache-Control: ";
    static const char nosniff[] = "\r\nX-Content-Type-Options: nosniff\r\n";
    http_response_lines(req, type, sizeof(type) - 1);
    http_response_lines(req, cc, strlen(cc));
    http_response_lines(req, nosniff, sizeof(nosniff) - 1);
    if (s_is_head(req) || cr->body_len == 0) {
        http_response_send(req, 200, cr->body, cr->body_len, NULL, NULL);
        return;
    }
    struct cache_hold *hold = cache_view_hold(cr->view);
    http_response_send(req, 200, cr->body, cr->body_len, hold ? s_release_view : NULL, hold);
}

/* An error as google.rpc.Status JSON; http_status 0 = the status's own. */
static void s_send_error_http(struct http_request *req, const struct bgw_error *e, int http_status)
{
    struct buf b;
    buf_init(&b, 0);
    if (e->retry_after_s > 0) {
        char ra[24];
        http_response_header(req, "Retry-After", s_u64(ra, e->retry_after_s));
    }
    if (json_mapping_render_error(e, &b) != 0) {
        buf_reset(&b);
        buf_append_str(&b, "{\"code\":13,\"message\":\"internal error\",\"details\":[]}");
    }
    s_send_json(req, http_status ? http_status : bgw_status_http(e->status), b.data, b.len);
    buf_clean_up(&b);
}

static void s_send_error(struct http_request *req, const struct bgw_error *e)
{
    s_send_error_http(req, e, 0);
}

static void s_send_simple_error(struct http_request *req, enum bgw_status st, const char *msg)
{
    struct bgw_error e;
    bgw_error_clear(&e);
    bgw_error_set(&e, st, NULL, "%s", msg);
    s_send_error(req, &e);
}

static void s_reply(struct handler_call *c, const struct jobs_response *resp,
                    const struct bgw_error *err)
{
    struct s_pending *p = c->frontend_data;
    http_response_header(p->req, "X-Request-Id", c->request_id);
    s_add_cors(p->cors_credentials, p->req, p->cors_origin);
    if (err) {
        s_send_error(p->req, err);
    } else if (c->cache_reply.body) {
        s_send_cached(p->req, &c->cache_reply, c->auth_method == AUTH_MTLS);
    } else {
        struct buf b;
        buf_init(&b, 0);
        if (c->render(resp, &b) == 0) {
            s_send_json(p->req, 200, b.data, b.len);
        } else {
            s_send_simple_error(p->req, BGW_ERR_INTERNAL, "cannot render the response");
        }
        buf_clean_up(&b);
    }
    free(p);
    handler_call_free(c);
}

/* Copies of the request headers the call needs, in one pass over them; the
 * first occurrence of each wins. 0, or -1 when memory runs out. */
static int s_dup_headers(const struct http1_request *in, struct handler_call *c)
{
    static const char *const names[] = {"Authorization", "X-Api-Key", "Cache-Control",
                                        "If-None-Match"};
    char **dst[] = {&c->authorization, &c->x_api_key, &c->cache_control, &c->if_none_match};
    const char *found[4] = {NULL, NULL, NULL, NULL};
    for (size_t k = 0; k < in->n_headers; k++) {
        const struct http1_header *h = &in->headers[k];
        for (size_t i = 0; i < 4; i++) {
            if (http1_name_eq(h->name, names[i])) {
                if (!found[i])
                    found[i] = h->value;
                else if (i < 2) /* a second key header: ambiguous, refused */
                    c->key_header_repeated = true;
                break;
            }
        }
    }
    int rc = 0;
    for (size_t i = 0; i < 4; i++) {
        if (found[i] && !(*dst[i] = strdup(found[i])))
            rc = -1;
    }
    return rc;
}

static void s_handle_list(struct rest_frontend *fe, struct http_request *req, const char *query,
                          const char *cors)
{
    struct handler_call *c = handler_call_new(HANDLER_REST);
    struct s_pending *p = calloc(1, sizeof(*p));
    if (!c || !p) {
        free(p);
        handler_call_free(c);
        s_send_simple_error(req, BGW_ERR_NOMEM, "out of memory");
        return;
    }
    p->req = req;
    p->fe = fe;
    p->cors_credentials = fe->cfg->cors_allow_credentials;
    if (cors) {
        size_t n = strnlen(cors, sizeof(p->cors_origin) - 1);
        memcpy(p->cors_origin, cors, n);
        p->cors_origin[n] = '\0';
    }
    c->received_ms = clock_mono_ms();
    handler_format_request_id(c->request_id, 'r', (unsigned long)time(NULL), ++fe->next_id);
    http_request_peer(req, c->peer, sizeof(c->peer));
    /* A header copy that failed was NULL before too (strdup) */
    (void)s_dup_headers(http_request_head(req), c);
    c->render = json_mapping_render_response;
    char *q = query ? strdup(query) : NULL;
    bool bedrock_enums = false;
    if (query && !q) {
        c->decode_failed = true;
        bgw_error_set(&c->decode_error, BGW_ERR_NOMEM, NULL, "out of memory");
    } else if (json_mapping_take_enums(q, &bedrock_enums, &c->decode_error) != BGW_OK) {
        c->decode_failed = true;
    } else if (bedrock_enums) {
        c->render = json_mapping_render_response_bedrock_enums;
        c->render_variant = 1;
    }
    if (tls_server_peer_identity(http_request_ssl(req), &c->peer_cert) != 0) {
        c->decode_failed = true;
        bgw_error_set(&c->decode_error, BGW_ERR_NOMEM, NULL, "out of memory");
    }
    if (!c->decode_failed && json_mapping_parse_query(q, &c->req, &c->decode_error) != BGW_OK)
        c->decode_failed = true;
    free(q);
    c->reply = s_reply;
    c->frontend_data = p;
    fe->submit(fe->submit_arg, c);
}

/* GET /openapi.json: the document built into the binary, to anyone (it
 * holds no secret and no tenant data). It changes only with the binary, so
 * caches may keep it but must revalidate (cheap: 304 by ETag). CORS by the
 * same allow-list as the API; the answer depends on no credential header. */
static void s_handle_openapi(struct rest_frontend *fe, struct http_request *req, const char *cors)
{
    http_response_header(req, "Vary", "Origin");
    if (cors) {
        http_response_header(req, "Access-Control-Allow-Origin", cors);
        if (fe->cfg->cors_allow_credentials && strcmp(cors, "*") != 0)
            http_response_header(req, "Access-Control-Allow-Credentials", "true");
        http_response_header(req, "Access-Control-Expose-Headers", S_EXPOSE_HEADERS);
    }
    http_response_header(req, "ETag", openapi_doc_etag);
    const char *inm = http1_header(http_request_head(req), "If-None-Match");
    if (cache_etag_list_match(inm, openapi_doc_etag)) {
        s_send_json_cc(req, 304, NULL, 0, "public, no-cache");
        return;
    }
    http_response_header(req, "Content-Type", "application/json");
    http_response_header(req, "Cache-Control", "public, no-cache");
    http_response_header(req, "X-Content-Type-Options", "nosniff");
    http_response_send(req, 200, (const char *)openapi_doc_bytes, openapi_doc_len, NULL, NULL);
}

static void s_handle_preflight(struct rest_frontend *fe, struct http_request *req,
                               const char *origin, const char *cors)
{
    const char *want = http1_header(http_request_head(req), "Access-Control-Request-Method");
    if (!origin || !want) { /* plain OPTIONS */
        http_response_header(req, "Allow", S_ALLOW);
        http_response_send(req, 204, NULL, 0, NULL, NULL);
        return;
    }
    http_response_header(req, "Vary",
                         "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
    if (!cors) {
        s_send_simple_error(req, BGW_ERR_PERMISSION_DENIED, "origin not allowed by CORS policy");
        return;
    }
    if (strcmp(want, "GET") != 0 && strcmp(want, "HEAD") != 0) {
        s_send_simple_error(req, BGW_ERR_PERMISSION_DENIED,
                            "CORS preflight: only GET is allowed on this resource");
        return;
    }
    http_response_header(req, "Access-Control-Allow-Origin", cors);
    if (fe->cfg->cors_allow_credentials && strcmp(cors, "*") != 0)
        http_response_header(req, "Access-Control-Allow-Credentials", "true");
    http_response_header(req, "Access-Control-Allow-Methods", "GET, HEAD, OPTIONS");
    http_response_header(req, "Access-Control-Allow-Headers", S_ALLOW_HEADERS);
    char age[24];
    http_response_header(req, "Access-Control-Max-Age", s_u64(age, fe->cfg->cors_max_age_s));
    http_response_send(req, 204, NULL, 0, NULL, NULL);
}

/* A request http_server refused itself: 400/413/431 as INVALID_ARGUMENT,
 * 501/505 as UNIMPLEMENTED, with the HTTP status the server chose. */
static void s_protocol_error(struct http_request *req, enum http1_result r)
{
    struct bgw_error e;
    bgw_error_clear(&e);
    int http = http1_result_status(r);
    bgw_error_set(&e, http >= 500 ? BGW_ERR_UNIMPLEMENTED : BGW_ERR_INVALID_ARGUMENT, NULL, "%s",
                  http1_result_str(r));
    s_send_error_http(req, &e, http);
}

static void s_on_request(void *arg, struct http_request *req)
{
    struct rest_frontend *fe = arg;
    enum http1_result perr = http_request_error(req);
    if (perr != HTTP1_OK) {
        s_protocol_error(req, perr);
        return;
    }
    const struct http1_request *h = http_request_head(req);
    const char *path = h->path;
    const char *query = h->query;
    enum http1_method m = h->method;
    const char *origin = http1_header(h, "Origin");
    const char *cors = s_cors_allow(fe, origin);
    bool head = m == HTTP1_M_HEAD;
    bool get = m == HTTP1_M_GET || head;

    if (strcmp(path, S_PATH_LIST) == 0) {
        if (get) {
            s_handle_list(fe, req, query, cors);
            return;
        }
        if (m == HTTP1_M_OPTIONS) {
            s_handle_preflight(fe, req, origin, cors);
            return;
        }
        http_response_header(req, "Allow", S_ALLOW);
        s_add_cors(fe->cfg->cors_allow_credentials, req, cors);
        s_send_simple_error(req, BGW_ERR_METHOD_NOT_ALLOWED,
                            "method not allowed: use GET " S_PATH_LIST);
        return;
    }
    if (strcmp(path, AWS_API_PATH) == 0) { /* the AWS-compatible front */
        if (get) {
            struct aws_api_ctx actx = {fe->cfg, fe->submit, fe->submit_arg, &fe->next_id};
            aws_api_handle(&actx, req);
        } else {
            http_response_header(req, "Allow", "GET, HEAD");
            aws_api_send_error(req, BGW_ERR_METHOD_NOT_ALLOWED,
                               "method not allowed: use GET " AWS_API_PATH);
        }
        return;
    }
    if (strcmp(path, S_PATH_METRICS) == 0 && fe->metrics && get) {
        struct buf b;
        buf_init(&b, 0);
        if (fe->metrics(fe->metrics_arg, &b) != 0) {
            buf_clean_up(&b);
            s_send_simple_error(req, BGW_ERR_INTERNAL, "cannot render metrics");
            return;
        }
        http_response_header(req, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
        http_response_header(req, "Cache-Control", "no-store");
        http_response_send(req, 200, b.data ? b.data : "", b.len, NULL, NULL);
        buf_clean_up(&b);
        return;
    }
    if (strcmp(path, S_PATH_OPENAPI) == 0 && fe->cfg->http_openapi_enabled) {
        if (get) {
            s_handle_openapi(fe, req, cors);
        } else if (m == HTTP1_M_OPTIONS) {
            s_handle_preflight(fe, req, origin, cors);
        } else {
            http_response_header(req, "Allow", S_ALLOW);
            s_send_simple_error(req, BGW_ERR_METHOD_NOT_ALLOWED,
                                "method not allowed: use GET " S_PATH_OPENAPI);
        }
        return;
    }
    if (strcmp(path, S_PATH_HEALTH) == 0 && get) {
        const char *body =
            fe->draining ? "{\"status\":\"NOT_SERVING\"}" : "{\"status\":\"SERVING\"}";
        s_send_json(req, fe->draining ? 503 : 200, body, strlen(body));
        return;
    }
    if (strcmp(path, S_PATH_READY) == 0 && get) {
        bool ready = !fe->draining && (!fe->health || health_ready(fe->health));
        char body[160];
        snprintf(body, sizeof(body), "{\"status\":\"%s\",\"reason\":\"%s\"}",
                 ready ? "SERVING" : "NOT_SERVING",
                 fe->draining ? "shutting down"
                 : fe->health ? health_reason(fe->health)
                              : "ready");
        s_send_json(req, ready ? 200 : 503, body, strlen(body));
        return;
    }
    s_add_cors(fe->cfg->cors_allow_credentials, req, cors);
    s_send_simple_error(req, BGW_ERR_NOT_FOUND, "no such resource; the API is GET " S_PATH_LIST);
}

struct rest_frontend *rest_frontend_new(const struct rest_frontend_options *opts, struct buf *err)
{
    const struct config *cfg = opts->cfg;
    char host[256];
    int port = 0;
    struct rest_frontend *fe = calloc(1, sizeof(*fe));
    if (!fe) {
        buf_append_str(err, "out of memory");
        return NULL;
    }
    fe->cfg = cfg;
    fe->submit = opts->submit;
    fe->submit_arg = opts->submit_arg;
    fe->metrics = opts->metrics;
    fe->metrics_arg = opts->metrics_arg;
    fe->health = opts->health;
    if (config_split_host_port(cfg->http_listen, host, sizeof(host), &port) != 0) {
        buf_appendf(err, "http.listen: bad address %s", cfg->http_listen);
        goto fail;
    }
    if (cfg->http_tls.cert_file[0]) {
        fe->ssl_ctx = tls_server_ctx_new(&cfg->http_tls, "http.tls", err);
        if (!fe->ssl_ctx)
            goto fail;
    }
    struct http_server_options so = {
        .base = opts->base,
        .host = host,
        .port = port,
        .ssl_ctx = fe->ssl_ctx,
        .max_header_bytes = cfg->http_max_header_bytes,
        .max_body_bytes = cfg->http_max_body_bytes,
        .timeout_ms = cfg->http_timeout_ms,
        .max_connections = cfg->http_max_connections,
        .start_paused = opts->start_paused,
        .on_request = s_on_request,
        .arg = fe,
    };
    struct buf why;
    buf_init(&why, 0);
    fe->server = http_server_new(&so, &why);
    if (!fe->server) {
        buf_appendf(err, "http.listen: %s", why.data ? why.data : "cannot listen");
        buf_clean_up(&why);
        goto fail;
    }
    buf_clean_up(&why);
    fe->port = http_server_port(fe->server);
    return fe;
fail:
    rest_frontend_destroy(fe);
    return NULL;
}

int rest_frontend_port(const struct rest_frontend *f)
{
    return f->port;
}

void rest_frontend_stop_accepting(struct rest_frontend *f)
{
    f->draining = true;
    http_server_stop_accepting(f->server);
}

void rest_frontend_set_config(struct rest_frontend *f, const struct config *cfg)
{
    f->cfg = cfg;
}

SSL_CTX *rest_frontend_ssl_ctx(const struct rest_frontend *f)
{
    return f->ssl_ctx;
}

void rest_frontend_set_ssl_ctx(struct rest_frontend *f, SSL_CTX *ctx)
{
    SSL_CTX_free(f->ssl_ctx);
    f->ssl_ctx = ctx;
    http_server_set_ssl_ctx(f->server, ctx);
}

void rest_frontend_start(struct rest_frontend *f)
{
    http_server_start(f->server);
}

bool rest_frontend_accepting(const struct rest_frontend *f)
{
    return http_server_accepting(f->server);
}

size_t rest_frontend_unsent(const struct rest_frontend *f)
{
    return http_server_unsent(f->server);
}

void rest_frontend_destroy(struct rest_frontend *f)
{
    if (!f)
        return;
    http_server_free(f->server);
    SSL_CTX_free(f->ssl_ctx);
    free(f);
}
