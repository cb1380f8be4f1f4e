/*
 * upstream_http - HTTP GETs over libcurl's multi-socket interface, driven by
 * a libevent event_base. See upstream_http.h.
 *
 * Owns the CURLM handle, one easy handle per request in flight, one libevent
 * event per socket curl asks us to watch and one timer event for curl's
 * timeouts. Everything runs on the thread that runs the event_base; there is
 * no global mutable state and no locking. It must never block that thread and
 * never call a user callback from inside upstream_http_get: results are
 * delivered from socket/timer events, or from a zero-timeout event when curl
 * refuses a request up front.
 *
 * Error texts handed out are fixed strings (curl_easy_strerror and our own);
 * never curl's error buffer, which can quote the URL (and so a signed query).
 *
 * The process must call curl_global_init(CURL_GLOBAL_DEFAULT) once before
 * the first upstream_http_new (main does; the unit test does it itself).
 */
#include "upstream_http.h"
#include "clock.h"

#include <curl/curl.h>
#include <event2/event.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define UPSTREAM_DEFAULT_CONNECT_TIMEOUT_MS 5000
#define UPSTREAM_DEFAULT_MAX_BODY_BYTES (8u * 1024u * 1024u)
#define UPSTREAM_DEFAULT_MAX_CONNECTIONS 64L
/* Captured response header values longer than this are dropped. */
#define UPSTREAM_MAX_HEADER_VALUE 256

/* One per socket curl watches; attached to the socket with curl_multi_assign. */
struct upstream_sock {
    struct event *ev;
    struct upstream_sock *prev, *next;
};

enum upstream_req_state {
    REQ_IN_MULTI,   /* added to the multi handle, curl drives it */
    REQ_DEFERRED,   /* curl refused it; failure waits for r->defer to fire */
    REQ_DELIVERING, /* its callback is running; cancel is a no-op */
};

struct upstream_header_value {
    char value[UPSTREAM_MAX_HEADER_VALUE];
    int present;
};

struct upstream_request {
    struct upstream_http *u;
    struct upstream_request *prev, *next;
    enum upstream_req_state state;
    CURL *easy;
    struct curl_slist *headers;
    struct buf post; /* the request body, curl reads it from here */
    struct buf body;
    int body_too_large; /* set by the write callback when it aborts */
    int body_nomem;
    struct upstream_header_value error_type, retry_after, request_id;
    struct event *defer;
    const char *defer_error; /* static text for the deferred failure */
    int64_t start_ms;
    upstream_http_cb cb;
    void *arg;
};

struct upstream_http {
    struct event_base *base;
    CURLM *multi;
    struct event *timer;
    int64_t connect_timeout_ms;
    size_t max_body_bytes;
    char *ca_file;
    struct upstream_request *reqs; /* every request not yet delivered or cancelled */
    size_t n_reqs;
    struct upstream_sock *socks;
    int callback_depth;  /* > 0 while a user callback runs */
    int destroy_pending; /* destroy was called from inside a callback */
};

/* --- request list ----------------------------------------------------------- */

static void s_link(struct upstream_http *u, struct upstream_request *r)
{
    r->prev = NULL;
    r->next = u->reqs;
    if (u->reqs)
        u->reqs->prev = r;
    u->reqs = r;
    u->n_reqs++;
}

static void s_unlink(struct upstream_http *u, struct upstream_request *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        u->reqs = r->next;
    if (r->next)
        r->next->prev = r->prev;
    r->prev = r->next = NULL;
    u->n_reqs--;
}

/* Frees a request that is no longer linked and no longer in the multi handle. */
static void s_req_free(struct upstream_request *r)
{
    if (r->defer)
        event_free(r->defer);
    if (r->easy)
        curl_easy_cleanup(r->easy);
    /* Header lines, request and response bodies carry secrets (session and
     * container tokens, a web identity token, credential replies): wiped.
     * curl's own buffers are out of reach. */
    for (struct curl_slist *l = r->headers; l; l = l->next)
        OPENSSL_cleanse(l->data, strlen(l->data));
    curl_slist_free_all(r->headers);
    buf_clean_up(&r->post);
    buf_clean_up(&r->body);
    free(r);
}

/* --- curl data callbacks ---------------------------------------------------- */

static size_t s_on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct upstream_request *r = userdata;
    size_t n = size * nmemb;
    if (n > r->body.max_len - r->body.len) {
        r->body_too_large = 1;
        return 0; /* anything but n aborts the transfer (CURLE_WRITE_ERROR) */
    }
    if (buf_append(&r->body, ptr, n) != 0) {
        r->body_nomem = 1;
        return 0;
    }
    return n;
}

static void s_capture(struct upstream_header_value *h, const char *v, size_t len)
{
    if (len >= sizeof(h->value)) {
        h->present = 0;
        return;
    }
    memcpy(h->value, v, len);
    h->value[len] = '\0';
    h->present = 1;
}

static int s_name_is(const char *name, size_t len, const char *want)
{
    return len == strlen(want) && strncasecmp(name, want, len) == 0;
}

/* One header line per call, not NUL-terminated, CRLF included. Status lines
 * start a new response (after a 1xx), so they reset what was captured. */
static size_t s_on_header(char *line, size_t size, size_t nitems, void *userdata)
{
    struct upstream_request *r = userdata;
    size_t n = size * nitems;
    if (n >= 5 && memcmp(line, "HTTP/", 5) == 0) {
        r->error_type.present = 0;
        r->retry_after.present = 0;
        r->request_id.present = 0;
        return n;
    }
    const char *colon = memchr(line, ':', n);
    if (!colon || colon == line)
        return n;
    size_t name_len = (size_t)(colon - line);
    const char *v = colon + 1;
    const char *end = line + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    size_t vlen = (size_t)(end - v);
    if (s_name_is(line, name_len, "x-amzn-ErrorType"))
        s_capture(&r->error_type, v, vlen);
    else if (s_name_is(line, name_len, "Retry-After"))
        s_capture(&r->retry_after, v, vlen);
    else if (s_name_is(line, name_len, "x-amzn-RequestId"))
        s_capture(&r->request_id, v, vlen);
    return n;
}

/* --- delivery --------------------------------------------------------------- */

static void s_destroy_now(struct upstream_http *u);

/* Runs the callback of r (already out of the multi handle), then frees r. */
static void s_deliver(struct upstream_request *r, struct upstream_response *resp)
{
    struct upstream_http *u = r->u;
    s_unlink(u, r);
    r->state = REQ_DELIVERING;
    resp->elapsed_ms = clock_mono_ms() - r->start_ms;
    if (!resp->body) {
        resp->body = r->body.data ? r->body.data : "";
        resp->body_len = r->body.data ? r->body.len : 0;
    }
    u->callback_depth++;
    r->cb(r->arg, resp);
    u->callback_depth--;
    s_req_free(r);
}

static void s_finish(struct upstream_request *r, CURLcode rc)
{
    struct upstream_http *u = r->u;
    struct upstream_response resp;
    memset(&resp, 0, sizeof(resp));

    /* Out of the multi first, so the connection goes back to the pool and a
     * request started from the callback can reuse it. */
    curl_multi_remove_handle(u->multi, r->easy);

    long status = 0;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);

    if (rc == CURLE_OK && status > 0) {
        resp.outcome = UPSTREAM_OK;
        resp.status = status;
        resp.error_type = r->error_type.present ? r->error_type.value : NULL;
        resp.retry_after = r->retry_after.present ? r->retry_after.value : NULL;
        resp.request_id = r->request_id.present ? r->request_id.value : NULL;
    } else if (rc == CURLE_OPERATION_TIMEDOUT) {
        resp.outcome = UPSTREAM_TIMEOUT;
        resp.transport_error = curl_easy_strerror(rc);
    } else {
        resp.outcome = UPSTREAM_TRANSPORT;
        if (rc == CURLE_OK)
            resp.transport_error = "no HTTP response";
        else if (r->body_too_large || rc == CURLE_FILESIZE_EXCEEDED)
            resp.transport_error = "response too large";
        else if (r->body_nomem)
            resp.transport_error = "out of memory";
        else
            resp.transport_error = curl_easy_strerror(rc);
    }
    if (resp.outcome != UPSTREAM_OK) {
        resp.body = "";
        resp.body_len = 0;
    }
    s_deliver(r, &resp);
}

/* Reads every finished transfer. Re-reads the queue after each callback:
 * the callback may have cancelled (curl then drops its message) or started
 * requests, so nothing is collected ahead of time. */
static void s_check_done(struct upstream_http *u)
{
    for (;;) {
        if (u->destroy_pending)
            break;
        int left = 0;
        CURLMsg *m = curl_multi_info_read(u->multi, &left);
        if (!m)
            break;
        if (m->msg != CURLMSG_DONE)
            continue;
        CURL *easy = m->easy_handle;
        CURLcode rc = m->data.result;
        char *priv = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
        if (!priv)
            continue;
        s_finish((struct upstream_request *)(void *)priv, rc);
    }
    if (u->destroy_pending && u->callback_depth == 0)
        s_destroy_now(u);
}

static void s_on_defer(evutil_socket_t fd, short events, void *arg)
{
    (void)fd;
    (void)events;
    struct upstream_request *r = arg;
    struct upstream_http *u = r->u;
    struct upstream_response resp;
    memset(&resp, 0, sizeof(resp));
    resp.outcome = UPSTREAM_TRANSPORT;
    resp.transport_error = r->defer_error;
    resp.body = "";
    s_deliver(r, &resp);
    if (u->destroy_pending && u->callback_depth == 0)
        s_destroy_now(u);
}

/* --- curl <-> libevent glue ------------------------------------------------- */

static void s_on_socket(evutil_socket_t fd, short events, void *arg)
{
    struct upstream_http *u = arg;
    int flags = 0;
    if (events & EV_READ)
        flags |= CURL_CSELECT_IN;
    if (events & EV_WRITE)
        flags |= CURL_CSELECT_OUT;
    int running = 0;
    curl_multi_socket_action(u->multi, fd, flags, &running);
    s_check_done(u); /* may free u */
}

static void s_on_timer(evutil_socket_t fd, short events, void *arg)
{
    (void)fd;
    (void)events;
    struct upstream_http *u = arg;
    int running = 0;
    curl_multi_socket_action(u->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    s_check_done(u); /* may free u */
}

static void s_sock_free(struct upstream_http *u, struct upstream_sock *sk)
{
    if (sk->prev)
        sk->prev->next = sk->next;
    else
        u->socks = sk->next;
    if (sk->next)
        sk->next->prev = sk->prev;
    event_free(sk->ev);
    free(sk);
}

/* CURLMOPT_SOCKETFUNCTION: watch s for what, or stop watching it. */
static int s_curl_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)easy;
    struct upstream_http *u = userp;
    struct upstream_sock *sk = socketp;

    if (what == CURL_POLL_REMOVE) {
        if (sk)
            s_sock_free(u, sk);
        return 0;
    }
    short kind = EV_PERSIST;
    if (what & CURL_POLL_IN)
        kind |= EV_READ;
    if (what & CURL_POLL_OUT)
        kind |= EV_WRITE;

    if (!sk) {
        sk = calloc(1, sizeof(*sk));
        if (!sk)
            return -1;
        sk->ev = event_new(u->base, s, kind, s_on_socket, u);
        if (!sk->ev) {
            free(sk);
            return -1;
        }
        sk->next = u->socks;
        if (u->socks)
            u->socks->prev = sk;
        u->socks = sk;
        curl_multi_assign(u->multi, s, sk);
    } else {
        event_del(sk->ev);
        if (event_assign(sk->ev, u->base, s, kind, s_on_socket, u) != 0)
            return -1;
    }
    if (event_add(sk->ev, NULL) != 0)
        return -1;
    return 0;
}

/* CURLMOPT_TIMERFUNCTION: (re)arm the one timer; -1 disarms it. Never calls
 * back into curl from here: the timer event does that. */
static int s_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    struct upstream_http *u = userp;
    if (timeout_ms < 0) {
        evtimer_del(u->timer);
        return 0;
    }
    struct timeval tv;
    tv.tv_sec = timeout_ms / 1000;
    tv.tv_usec = (timeout_ms % 1000) * 1000;
    return evtimer_add(u->timer, &tv) == 0 ? 0 : -1;
}

/* --- public API ------------------------------------------------------------- */

struct upstream_http *upstream_http_new(struct event_base *base,
                                        const struct upstream_http_options *opts)
{
    struct upstream_http *u = NULL;
    struct upstream_http *ret = NULL;
    if (!base)
        goto cleanup;
    u = calloc(1, sizeof(*u));
    if (!u)
        goto cleanup;
    u->base = base;
    u->connect_timeout_ms = UPSTREAM_DEFAULT_CONNECT_TIMEOUT_MS;
    u->max_body_bytes = UPSTREAM_DEFAULT_MAX_BODY_BYTES;
    long max_conns = UPSTREAM_DEFAULT_MAX_CONNECTIONS;
    if (opts) {
        if (opts->connect_timeout_ms > 0)
            u->connect_timeout_ms = opts->connect_timeout_ms;
        if (opts->max_body_bytes > 0)
            u->max_body_bytes = opts->max_body_bytes;
        if (opts->max_connections > 0)
            max_conns = opts->max_connections;
        if (opts->ca_file) {
            u->ca_file = strdup(opts->ca_file);
            if (!u->ca_file)
                goto cleanup;
        }
    }
    u->timer = evtimer_new(base, s_on_timer, u);
    if (!u->timer)
        goto cleanup;
    u->multi = curl_multi_init();
    if (!u->multi)
        goto cleanup;
    CURLMcode mc = CURLM_OK;
    mc = curl_multi_setopt(u->multi, CURLMOPT_SOCKETFUNCTION, s_curl_socket);
    if (mc == CURLM_OK)
        mc = curl_multi_setopt(u->multi, CURLMOPT_SOCKETDATA, u);
    if (mc == CURLM_OK)
        mc = curl_multi_setopt(u->multi, CURLMOPT_TIMERFUNCTION, s_curl_timer);
    if (mc == CURLM_OK)
        mc = curl_multi_setopt(u->multi, CURLMOPT_TIMERDATA, u);
    if (mc == CURLM_OK)
        mc = curl_multi_setopt(u->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, max_conns);
    if (mc == CURLM_OK)
        mc = curl_multi_setopt(u->multi, CURLMOPT_MAXCONNECTS, max_conns);
    if (mc != CURLM_OK)
        goto cleanup;
    ret = u;
    u = NULL;
cleanup:
    if (u) {
        if (u->multi)
            curl_multi_cleanup(u->multi);
        if (u->timer)
            event_free(u->timer);
        free(u->ca_file);
        free(u);
    }
    return ret;
}

static void s_destroy_now(struct upstream_http *u)
{
    while (u->reqs)
        upstream_http_cancel(u->reqs);
    /* May still report sockets as removed, so u stays valid through it. */
    curl_multi_cleanup(u->multi);
    while (u->socks)
        s_sock_free(u, u->socks);
    event_free(u->timer);
    free(u->ca_file);
    free(u);
}

void upstream_http_destroy(struct upstream_http *u)
{
    if (!u || u->destroy_pending)
        return;
    if (u->callback_depth > 0) {
        /* Called from a callback: cancel now, free once it has returned. */
        while (u->reqs)
            upstream_http_cancel(u->reqs);
        u->destroy_pending = 1;
        return;
    }
    s_destroy_now(u);
}

/* Sets every per-request option; returns the first failure. */
static CURLcode s_configure(struct upstream_http *u, struct upstream_request *r,
                            const struct upstream_http_request_options *o)
{
    CURL *e = r->easy;
    CURLcode rc = CURLE_OK;
    const char *url = o->url;
    int64_t timeout_ms = o->timeout_ms;
    int64_t cto = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : u->connect_timeout_ms;
    long total_ms = timeout_ms > LONG_MAX ? LONG_MAX : (long)timeout_ms;
    long connect_ms = cto > LONG_MAX ? LONG_MAX : (long)cto;

#define SETOPT(opt, val)                                                                           \
    do {                                                                                           \
        if (rc == CURLE_OK)                                                                        \
            rc = curl_easy_setopt(e, opt, val);                                                    \
    } while (0)
    SETOPT(CURLOPT_URL, url);
    SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
    if (strcmp(o->method, "GET") == 0) {
        SETOPT(CURLOPT_HTTPGET, 1L);
    } else {
        /* r->post, not COPYPOSTFIELDS: curl's copy would be freed unwiped */
        SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->post.len);
        SETOPT(CURLOPT_POSTFIELDS, r->post.data);
        if (strcmp(o->method, "POST") != 0)
            SETOPT(CURLOPT_CUSTOMREQUEST, o->method);
    }
    SETOPT(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    SETOPT(CURLOPT_PATH_AS_IS, 1L); /* send exactly the path that was signed */
    SETOPT(CURLOPT_HTTPHEADER, r->headers);
    SETOPT(CURLOPT_TIMEOUT_MS, total_ms);
    SETOPT(CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    SETOPT(CURLOPT_NOSIGNAL, 1L);
    SETOPT(CURLOPT_TCP_KEEPALIVE, 1L);
    SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)u->max_body_bytes);
    SETOPT(CURLOPT_WRITEFUNCTION, s_on_body);
    SETOPT(CURLOPT_WRITEDATA, r);
    SETOPT(CURLOPT_HEADERFUNCTION, s_on_header);
    SETOPT(CURLOPT_HEADERDATA, r);
    SETOPT(CURLOPT_PRIVATE, r);
    if (u->ca_file)
        SETOPT(CURLOPT_CAINFO, u->ca_file);
#undef SETOPT
    return rc;
}

struct upstream_request *upstream_http_get(struct upstream_http *u, const char *url,
                                           char *const *headers, size_t n_headers,
                                           int64_t timeout_ms, upstream_http_cb cb, void *arg)
{
    struct upstream_http_request_options o = {
        .method = "GET",
        .url = url,
        .headers = headers,
        .n_headers = n_headers,
        .timeout_ms = timeout_ms,
    };
    return upstream_http_request(u, &o, cb, arg);
}

struct upstream_request *upstream_http_request(struct upstream_http *u,
                                               const struct upstream_http_request_options *o,
                                               upstream_http_cb cb, void *arg)
{
    struct upstream_request *r = NULL;
    struct upstream_request *ret = NULL;
    if (!u || !o || u->destroy_pending || !o->url || !o->method || !cb || o->timeout_ms <= 0 ||
        (o->n_headers && !o->headers) || (o->body_len && !o->body))
        goto cleanup;
    if (strcmp(o->method, "GET") != 0 && strcmp(o->method, "POST") != 0 &&
        strcmp(o->method, "PUT") != 0)
        goto cleanup;
    char *const *headers = o->headers;
    size_t n_headers = o->n_headers;
    r = calloc(1, sizeof(*r));
    if (!r)
        goto cleanup;
    r->u = u;
    r->cb = cb;
    r->arg = arg;
    r->start_ms = clock_mono_ms();
    buf_init_secret(&r->post, o->body_len + 1);
    buf_init_secret(&r->body, u->max_body_bytes);
    if (strcmp(o->method, "GET") != 0 &&
        buf_append(&r->post, o->body_len ? o->body : "", o->body_len) != 0)
        goto cleanup;
    r->easy = curl_easy_init();
    if (!r->easy)
        goto cleanup;
    for (size_t i = 0; i < n_headers; i++) {
        /* a CR or LF would let a value smuggle in more header lines */
        if (!headers[i] || strpbrk(headers[i], "\r\n"))
            goto cleanup;
        struct curl_slist *l = curl_slist_append(r->headers, headers[i]);
        if (!l)
            goto cleanup;
        r->headers = l;
    }

    const char *failure = NULL;
    CURLcode rc = s_configure(u, r, o);
    if (rc != CURLE_OK) {
        failure = curl_easy_strerror(rc);
    } else {
        CURLMcode mc = curl_multi_add_handle(u->multi, r->easy);
        if (mc != CURLM_OK)
            failure = curl_multi_strerror(mc);
    }
    if (failure) {
        /* Report it from the loop, never from here. */
        r->defer = evtimer_new(u->base, s_on_defer, r);
        if (!r->defer)
            goto cleanup;
        struct timeval zero = {0, 0};
        if (evtimer_add(r->defer, &zero) != 0)
            goto cleanup;
        r->defer_error = failure;
        r->state = REQ_DEFERRED;
    } else {
        r->state = REQ_IN_MULTI;
    }
    s_link(u, r);
    ret = r;
    r = NULL;
cleanup:
    if (r)
        s_req_free(r);
    return ret;
}

void upstream_http_cancel(struct upstream_request *r)
{
    if (!r || r->state == REQ_DELIVERING)
        return;
    struct upstream_http *u = r->u;
    s_unlink(u, r);
    if (r->state == REQ_IN_MULTI)
        curl_multi_remove_handle(u->multi, r->easy);
    s_req_free(r);
}

size_t upstream_http_active(const struct upstream_http *u)
{
    return u ? u->n_reqs : 0;
}
