/*
 * rest_frontend - evhttp server, routing, CORS, JSON replies.
 * See rest_frontend.h. Loop thread only.
 */
#include "rest_frontend.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <event2/http_struct.h> /* the request's HTTP version (major, minor) */
#include <event2/keyvalq_struct.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include "clock.h"
#include "cache.h"
#include "health.h"
#include "json_mapping.h"
#include "log.h"
#include "tls_server.h"

#define S_PATH_LIST "/v1/model-import-jobs"
#define S_PATH_HEALTH "/healthz"
#define S_PATH_READY "/readyz"
#define S_PATH_METRICS "/metrics"
#define S_ALLOW "GET, HEAD, OPTIONS"
#define S_ALLOW_HEADERS "authorization, x-api-key, content-type, x-request-id, cache-control, if-none-match"
#define S_EXPOSE_HEADERS "retry-after, x-request-id, etag, age, warning, x-cache"

struct rest_frontend {
    const struct config *cfg;
    struct evhttp *http;
    struct evhttp_bound_socket *bound;
    SSL_CTX *ssl_ctx; /* NULL = plain HTTP */
    int port;
    bool draining;
    const struct health *health;
    rest_frontend_submit_fn submit;
    void *submit_arg;
    rest_frontend_metrics_fn metrics;
    void *metrics_arg;
    unsigned long next_id;
    size_t n_unsent; /* requests received whose reply is not fully written */
    /* Connection-flood guard (see s_new_bev). */
    struct event_base *base;
    struct event *resume; /* re-enables accepting after an accept error */
    evutil_socket_t max_fd;
    unsigned long shed;
    int64_t last_shed_log_ms;
};

/* Per-request state that outlives the evhttp callback. */
struct s_pending {
    struct evhttp_request *req;
    struct rest_frontend *fe;
    bool head;
    bool cors_credentials; /* CORS credentials setting when the request came */
    char cors_origin[256]; /* value for Access-Control-Allow-Origin, or "" */
};

/* The Access-Control-Allow-Origin value for origin, or NULL if not allowed. */
static const char *s_cors_allow(const struct rest_frontend *fe, const char *origin)
{
    if (!origin)
        return NULL;
    for (size_t i = 0; i < fe->cfg->n_cors_origins; i++) {
        const char *o = fe->cfg->cors_origins[i];
        if (strcmp(o, "*") == 0)
            return "*"; /* config forbids "*" together with credentials */
        if (strcasecmp(o, origin) == 0)
            return origin;
    }
    return NULL;
}

static void s_add_cors(bool credentials, struct evkeyvalq *h, const char *allow)
{
    evhttp_add_header(h, "Vary", "Origin");
    if (!allow || !*allow)
        return;
    evhttp_add_header(h, "Access-Control-Allow-Origin", allow);
    if (credentials && strcmp(allow, "*") != 0)
        evhttp_add_header(h, "Access-Control-Allow-Credentials", "true");
    evhttp_add_header(h, "Access-Control-Expose-Headers", S_EXPOSE_HEADERS);
}

static void s_send_json_cc(struct evhttp_request *req, int code, const char *body, size_t len,
                           bool head, const char *cache_control)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    if (code != 304)
        evhttp_add_header(h, "Content-Type", "application/json; charset=utf-8");
    evhttp_add_header(h, "Cache-Control", cache_control);
    evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
    struct evbuffer *out = evbuffer_new();
    if (out && !head)
        evbuffer_add(out, body, len);
    const char *reason = code == 200 ? "OK" : code == 304 ? "Not Modified" : NULL;
    evhttp_send_reply(req, code, reason, out);
    if (out)
        evbuffer_free(out);
}

static void s_send_json(struct evhttp_request *req, int code, const char *body, size_t len,
                        bool head)
{
    s_send_json_cc(req, code, body, len, head, "no-store");
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

/* The Date header value evhttp would add (evutil_date_rfc1123), made once
 * a second instead of once a reply. Loop thread. */
static const char *s_http_date(void)
{
    static time_t last = (time_t)-1;
    static char date[64];
    time_t now = time(NULL);
    if (now != last) {
        struct tm tm;
        if (!gmtime_r(&now, &tm) || evutil_date_rfc1123(date, sizeof(date), &tm) <= 0)
            return NULL;
        last = now;
    }
    return date;
}

static void s_release_view(const void *data, size_t len, void *hold)
{
    (void)data;
    (void)len;
    cache_view_release(hold);
}

/* A successful answer with the gateway's cache information. Headers and
 * their order are those of s_send_json_cc (and of what evhttp adds itself);
 * a body from a stored view goes out by reference, not copied. */
static void s_send_cached(struct evhttp_request *req, const struct handler_cache_reply *cr,
                          bool head)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    char num[24];
    char cc[48] = "no-store";
    if (cr->max_age_s >= 0) {
        static const char prefix[] = "private, max-age=";
        memcpy(cc, prefix, sizeof(prefix) - 1);
        s_u64(cc + sizeof(prefix) - 1, cr->max_age_s);
    }
    if (cr->etag[0])
        evhttp_add_header(h, "ETag", cr->etag);
    if (cr->x_cache) {
        evhttp_add_header(h, "Age", s_u64(num, cr->age_s));
        evhttp_add_header(h, "X-Cache", cr->x_cache);
    }
    if (cr->warning == 110)
        evhttp_add_header(h, "Warning", "110 - \"Response is Stale\"");
    else if (cr->warning == 111)
        evhttp_add_header(h, "Warning", "111 - \"Revalidation Failed\"");
    if (cr->not_modified) {
        s_send_json_cc(req, 304, NULL, 0, true, cc);
        return;
    }
    if (!cr->view) {
        s_send_json_cc(req, 200, cr->body, cr->body_len, head, cc);
        return;
    }
    evhttp_add_header(h, "Content-Type", "application/json; charset=utf-8");
    evhttp_add_header(h, "Cache-Control", cc);
    evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
    /* HTTP/1.1: evhttp would now add Date, then Content-Length (a HEAD
     * reply gets neither a body nor a length); adding them first, in that
     * order, leaves its output the same and skips its per-reply formatting.
     * HTTP/1.0 replies are left to evhttp entirely. */
    if (req->major == 1 && req->minor >= 1) {
        const char *date = s_http_date();
        if (date)
            evhttp_add_header(h, "Date", date);
        if (!head)
            evhttp_add_header(h, "Content-Length", s_u64(num, (int64_t)cr->body_len));
    }
    if (!head && cr->body_len > 0) {
        struct cache_hold *hold = cache_view_hold(cr->view);
        if (evbuffer_add_reference(evhttp_request_get_output_buffer(req), cr->body,
                                   cr->body_len, s_release_view, hold) != 0) {
            cache_view_release(hold);
            evbuffer_add(evhttp_request_get_output_buffer(req), cr->body, cr->body_len);
        }
    }
    evhttp_send_reply(req, 200, "OK", NULL);
}

static void s_send_error(struct evhttp_request *req, const struct bgw_error *e, bool head)
{
    struct buf b;
    buf_init(&b, 0);
    if (e->retry_after_s > 0) {
        char ra[16];
        snprintf(ra, sizeof(ra), "%d", e->retry_after_s);
        evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", ra);
    }
    if (json_mapping_render_error(e, &b) != 0) {
        buf_reset(&b);
        buf_append_str(&b, "{\"code\":13,\"message\":\"internal error\",\"details\":[]}");
    }
    s_send_json(req, bgw_status_http(e->status), b.data, b.len, head);
    buf_clean_up(&b);
}

static void s_send_simple_error(struct evhttp_request *req, enum bgw_status st, const char *msg)
{
    struct bgw_error e;
    bgw_error_clear(&e);
    bgw_error_set(&e, st, NULL, "%s", msg);
    s_send_error(req, &e, evhttp_request_get_command(req) == EVHTTP_REQ_HEAD);
}

static void s_reply(struct handler_call *c, const struct jobs_response *resp,
                    const struct bgw_error *err)
{
    struct s_pending *p = c->frontend_data;
    struct evkeyvalq *h = evhttp_request_get_output_headers(p->req);
    evhttp_add_header(h, "X-Request-Id", c->request_id);
    s_add_cors(p->cors_credentials, h, p->cors_origin);
    if (err) {
        s_send_error(p->req, err, p->head);
    } else if (c->cache_reply.body) {
        s_send_cached(p->req, &c->cache_reply, p->head);
    } else {
        struct buf b;
        buf_init(&b, 0);
        if (json_mapping_render_response(resp, &b) == 0) {
            s_send_json(p->req, 200, b.data, b.len, p->head);
        } else {
            s_send_simple_error(p->req, BGW_ERR_INTERNAL, "cannot render the response");
        }
        buf_clean_up(&b);
    }
    free(p);
    handler_call_free(c);
}

/* ASCII case-insensitive equality (evhttp_find_header's comparison). */
static bool s_name_eq(const char *a, const char *b)
{
    for (;; a++, b++) {
        unsigned char x = (unsigned char)*a, y = (unsigned char)*b;
        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x + 32);
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y + 32);
        if (x != y)
            return false;
        if (!x)
            return true;
    }
}

/* Copies of the request headers the call needs, in one pass over them; the
 * first occurrence of each wins (as with evhttp_find_header). 0, or -1 when
 * memory runs out. */
static int s_dup_headers(struct evkeyvalq *in, struct handler_call *c)
{
    static const char *const names[] = {"Authorization", "X-Api-Key", "Cache-Control",
                                        "If-None-Match"};
    char **dst[] = {&c->authorization, &c->x_api_key, &c->cache_control, &c->if_none_match};
    const char *found[4] = {NULL, NULL, NULL, NULL};
    for (struct evkeyval *kv = in->tqh_first; kv; kv = kv->next.tqe_next) {
        for (size_t i = 0; i < 4; i++) {
            if (!found[i] && s_name_eq(kv->key, names[i])) {
                found[i] = kv->value;
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

/* "addr:port" of the client, truncated to len - 1 bytes. */
static void s_peer(struct evhttp_request *req, char *out, size_t len)
{
    struct evhttp_connection *conn = evhttp_request_get_connection(req);
    char *addr = NULL;
    ev_uint16_t port = 0;
    out[0] = '\0';
    if (conn) {
        evhttp_connection_get_peer(conn, &addr, &port);
        if (addr) {
            char tmp[96];
            size_t n = strnlen(addr, sizeof(tmp) - 8);
            memcpy(tmp, addr, n);
            tmp[n++] = ':';
            char digits[8];
            size_t d = 0;
            unsigned v = port;
            do {
                digits[d++] = (char)('0' + v % 10);
                v /= 10;
            } while (v);
            while (d)
                tmp[n++] = digits[--d];
            if (n > len - 1)
                n = len - 1;
            memcpy(out, tmp, n);
            out[n] = '\0';
        }
    }
}

/* The verified client certificate's names, when this is a TLS connection
 * that has one. 0, or -1 on allocation failure. */
static int s_peer_identity(struct rest_frontend *fe, struct evhttp_request *req,
                           struct peer_identity *out)
{
    if (!fe->ssl_ctx)
        return 0;
    struct evhttp_connection *conn = evhttp_request_get_connection(req);
    struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent(conn) : NULL;
    X509 *peer = tls_server_verified_peer(bev ? bufferevent_openssl_get_ssl(bev) : NULL);
    return peer ? peer_identity_from_x509(out, peer) : 0;
}

static void s_handle_list(struct rest_frontend *fe, struct evhttp_request *req,
                          const char *query, const char *cors, bool head)
{
    struct evkeyvalq *in = evhttp_request_get_input_headers(req);
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
    p->head = head;
    p->cors_credentials = fe->cfg->cors_allow_credentials;
    if (cors) {
        size_t n = strnlen(cors, sizeof(p->cors_origin) - 1);
        memcpy(p->cors_origin, cors, n);
        p->cors_origin[n] = '\0';
    }
    c->received_ms = clock_mono_ms();
    handler_format_request_id(c->request_id, 'r', (unsigned long)time(NULL), ++fe->next_id);
    s_peer(req, c->peer, sizeof(c->peer));
    /* A header copy that failed was NULL before too (strdup) */
    (void)s_dup_headers(in, c);
    c->render = json_mapping_render_response;
    if (s_peer_identity(fe, req, &c->peer_cert) != 0) {
        c->decode_failed = true;
        bgw_error_set(&c->decode_error, BGW_ERR_NOMEM, NULL, "out of memory");
    }
    if (json_mapping_parse_query(query, &c->req, &c->decode_error) != BGW_OK)
        c->decode_failed = true;
    c->reply = s_reply;
    c->frontend_data = p;
    fe->submit(fe->submit_arg, c);
}

static void s_handle_preflight(struct rest_frontend *fe, struct evhttp_request *req,
                               const char *origin, const char *cors)
{
    struct evkeyvalq *in = evhttp_request_get_input_headers(req);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    const char *want = evhttp_find_header(in, "Access-Control-Request-Method");
    if (!origin || !want) { /* plain OPTIONS */
        evhttp_add_header(h, "Allow", S_ALLOW);
        evhttp_send_reply(req, 204, "No Content", NULL);
        return;
    }
    evhttp_add_header(h, "Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
    if (!cors) {
        s_send_simple_error(req, BGW_ERR_PERMISSION_DENIED, "origin not allowed by CORS policy");
        return;
    }
    if (strcmp(want, "GET") != 0 && strcmp(want, "HEAD") != 0) {
        s_send_simple_error(req, BGW_ERR_PERMISSION_DENIED,
                            "CORS preflight: only GET is allowed on this resource");
        return;
    }
    evhttp_add_header(h, "Access-Control-Allow-Origin", cors);
    if (fe->cfg->cors_allow_credentials && strcmp(cors, "*") != 0)
        evhttp_add_header(h, "Access-Control-Allow-Credentials", "true");
    evhttp_add_header(h, "Access-Control-Allow-Methods", "GET, HEAD, OPTIONS");
    evhttp_add_header(h, "Access-Control-Allow-Headers", S_ALLOW_HEADERS);
    char age[24];
    snprintf(age, sizeof(age), "%lld", (long long)fe->cfg->cors_max_age_s);
    evhttp_add_header(h, "Access-Control-Max-Age", age);
    evhttp_send_reply(req, 204, "No Content", NULL);
}

static void s_on_complete(struct evhttp_request *req, void *arg)
{
    (void)req;
    struct rest_frontend *fe = arg;
    if (fe->n_unsent > 0)
        fe->n_unsent--;
}

/* Each accepted connection of a TLS listener gets an OpenSSL bufferevent in
 * server (accepting) mode; evhttp sets its socket. */
static struct bufferevent *s_tls_bev(struct event_base *base, void *arg)
{
    struct rest_frontend *fe = arg;
    SSL *ssl = SSL_new(fe->ssl_ctx);
    if (!ssl)
        return NULL;
    struct bufferevent *bev = bufferevent_openssl_socket_new(
        base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
    if (!bev)
        SSL_free(ssl);
    return bev;
}

static void s_on_request(struct evhttp_request *req, void *arg)
{
    struct rest_frontend *fe = arg;
    /* Counted until libevent has written the reply, so a drain can wait for
     * the bytes to leave (a reply to a peer that already hung up is never
     * "completed": the drain's flush wait is bounded for that case). */
    fe->n_unsent++;
    evhttp_request_set_on_complete_cb(req, s_on_complete, fe);
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    struct evkeyvalq *in = evhttp_request_get_input_headers(req);
    const char *origin = evhttp_find_header(in, "Origin");
    const char *cors = s_cors_allow(fe, origin);
    bool head = cmd == EVHTTP_REQ_HEAD;

    if (!path) {
        s_send_simple_error(req, BGW_ERR_INVALID_ARGUMENT, "malformed request target");
        return;
    }
    if (strcmp(path, S_PATH_LIST) == 0) {
        if (cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD) {
            s_handle_list(fe, req, query, cors, head);
            return;
        }
        if (cmd == EVHTTP_REQ_OPTIONS) {
            s_handle_preflight(fe, req, origin, cors);
            return;
        }
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", S_ALLOW);
        s_add_cors(fe->cfg->cors_allow_credentials, evhttp_request_get_output_headers(req), cors);
        s_send_simple_error(req, BGW_ERR_METHOD_NOT_ALLOWED,
                            "method not allowed: use GET " S_PATH_LIST);
        return;
    }
    if (strcmp(path, S_PATH_METRICS) == 0 && fe->metrics && (cmd == EVHTTP_REQ_GET || head)) {
        struct buf b;
        buf_init(&b, 0);
        if (fe->metrics(fe->metrics_arg, &b) != 0) {
            buf_clean_up(&b);
            s_send_simple_error(req, BGW_ERR_INTERNAL, "cannot render metrics");
            return;
        }
        struct evkeyvalq *h = evhttp_request_get_output_headers(req);
        evhttp_add_header(h, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
        evhttp_add_header(h, "Cache-Control", "no-store");
        struct evbuffer *out = evbuffer_new();
        if (out && !head)
            evbuffer_add(out, b.data ? b.data : "", b.len);
        evhttp_send_reply(req, 200, "OK", out);
        if (out)
            evbuffer_free(out);
        buf_clean_up(&b);
        return;
    }
    if (strcmp(path, S_PATH_HEALTH) == 0 && (cmd == EVHTTP_REQ_GET || head)) {
        const char *body = fe->draining ? "{\"status\":\"NOT_SERVING\"}" : "{\"status\":\"SERVING\"}";
        s_send_json(req, fe->draining ? 503 : 200, body, strlen(body), head);
        return;
    }
    if (strcmp(path, S_PATH_READY) == 0 && (cmd == EVHTTP_REQ_GET || head)) {
        bool ready = !fe->draining && (!fe->health || health_ready(fe->health));
        char body[160];
        snprintf(body, sizeof(body), "{\"status\":\"%s\",\"reason\":\"%s\"}",
                 ready ? "SERVING" : "NOT_SERVING",
                 fe->draining ? "shutting down" : fe->health ? health_reason(fe->health) : "ready");
        s_send_json(req, ready ? 200 : 503, body, strlen(body), head);
        return;
    }
    s_add_cors(fe->cfg->cors_allow_credentials, evhttp_request_get_output_headers(req), cors);
    s_send_simple_error(req, BGW_ERR_NOT_FOUND, "no such resource; the API is GET " S_PATH_LIST);
}

/* Descriptors kept free for everything but REST connections: the gRPC
 * listener and its calls, upstream connections, files. A flood of REST
 * connections (idle or trickling) must never starve those: gRPC core stops
 * accepting for good after it once runs out of descriptors. */
#define S_FD_RESERVE 512
#define S_ACCEPT_PAUSE_MS 100
#define S_SHED_LOG_EVERY_MS 5000

static void s_log_shed(struct rest_frontend *fe, const char *why)
{
    int64_t now = clock_mono_ms();
    if (now - fe->last_shed_log_ms < S_SHED_LOG_EVERY_MS)
        return;
    fe->last_shed_log_ms = now;
    log_event(LOG_WARN, "http_connections_shed",
              json_pack("{s:s,s:I}", "reason", why, "shed_total", (json_int_t)fe->shed));
}

/* Descriptors are handed out lowest first, so "descriptor max_fd is open"
 * means at least max_fd are in use. */
static bool s_reserve_reached(const struct rest_frontend *fe)
{
    return fcntl(fe->max_fd, F_GETFD) != -1;
}

static void s_pause_accepting(struct rest_frontend *fe, const char *why)
{
    if (fe->bound)
        evconnlistener_disable(evhttp_bound_socket_get_listener(fe->bound));
    fe->shed++;
    s_log_shed(fe, why);
    struct timeval tv = {0, S_ACCEPT_PAUSE_MS * 1000};
    evtimer_add(fe->resume, &tv);
}

/* Accepting again once descriptors are back under the reserve line. */
static void s_on_resume(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct rest_frontend *fe = arg;
    if (!fe->bound)
        return;
    if (s_reserve_reached(fe)) {
        struct timeval tv = {0, S_ACCEPT_PAUSE_MS * 1000};
        evtimer_add(fe->resume, &tv);
        return;
    }
    evconnlistener_enable(evhttp_bound_socket_get_listener(fe->bound));
}

/* Called by evhttp for every accepted connection (before it is served):
 * at the reserve line, stop accepting until descriptors are freed. */
static struct bufferevent *s_new_bev(struct event_base *base, void *arg)
{
    struct rest_frontend *fe = arg;
    if (s_reserve_reached(fe))
        s_pause_accepting(fe, "descriptor reserve reached");
    if (fe->ssl_ctx)
        return s_tls_bev(base, fe);
    return bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
}

/* accept() failed (out of descriptors or memory): pause accepting briefly
 * instead of spinning on a listener that stays readable. */
static void s_on_accept_error(struct evconnlistener *l, void *arg)
{
    (void)l;
    s_pause_accepting(arg, "accept failed");
}

static int s_guard_accept(struct rest_frontend *fe)
{
    struct rlimit rl;
    rlim_t limit = 1024;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        limit = rl.rlim_cur;
    else if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        limit = 1u << 20;
    fe->max_fd = limit > 2 * S_FD_RESERVE ? (evutil_socket_t)(limit - S_FD_RESERVE)
                                          : (evutil_socket_t)(limit / 2);
    fe->resume = evtimer_new(fe->base, s_on_resume, fe);
    struct evconnlistener *l = evhttp_bound_socket_get_listener(fe->bound);
    if (!fe->resume || !l)
        return -1;
    evconnlistener_set_error_cb(l, s_on_accept_error);
    evhttp_set_bevcb(fe->http, s_new_bev, fe);
    return 0;
}

struct rest_frontend *rest_frontend_new(const struct rest_frontend_options *opts,
                                        struct buf *err)
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
    fe->http = evhttp_new(opts->base);
    if (!fe->http) {
        buf_append_str(err, "cannot create the HTTP server");
        goto fail;
    }
    evhttp_set_max_headers_size(fe->http, (ev_ssize_t)cfg->http_max_header_bytes);
    evhttp_set_max_body_size(fe->http, (ev_ssize_t)cfg->http_max_body_bytes);
    struct timeval tv = {(time_t)(cfg->http_timeout_ms / 1000),
                         (suseconds_t)((cfg->http_timeout_ms % 1000) * 1000)};
    evhttp_set_timeout_tv(fe->http, &tv);
    evhttp_set_allowed_methods(fe->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_OPTIONS |
                                             EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                             EVHTTP_REQ_DELETE | EVHTTP_REQ_PATCH);
    evhttp_set_default_content_type(fe->http, "application/json; charset=utf-8");
    evhttp_set_gencb(fe->http, s_on_request, fe);
    if (cfg->http_tls.cert_file[0]) {
        fe->ssl_ctx = tls_server_ctx_new(&cfg->http_tls, "http.tls", err);
        if (!fe->ssl_ctx)
            goto fail;
    }
    fe->bound = evhttp_bind_socket_with_handle(fe->http, host, (ev_uint16_t)port);
    if (!fe->bound) {
        buf_appendf(err, "http.listen: cannot listen on %s", cfg->http_listen);
        goto fail;
    }
    fe->base = opts->base;
    if (s_guard_accept(fe) != 0) {
        buf_append_str(err, "http.listen: cannot set up the accept guard");
        goto fail;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (getsockname(evhttp_bound_socket_get_fd(fe->bound), (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET)
            fe->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        else if (ss.ss_family == AF_INET6)
            fe->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
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
    if (f->bound) {
        evhttp_del_accept_socket(f->http, f->bound);
        f->bound = NULL;
    }
}

void rest_frontend_set_config(struct rest_frontend *f, const struct config *cfg)
{
    f->cfg = cfg;
}

size_t rest_frontend_unsent(const struct rest_frontend *f)
{
    return f->n_unsent;
}

void rest_frontend_destroy(struct rest_frontend *f)
{
    if (!f)
        return;
    if (f->resume)
        event_free(f->resume);
    if (f->http)
        evhttp_free(f->http);
    SSL_CTX_free(f->ssl_ctx);
    free(f);
}
