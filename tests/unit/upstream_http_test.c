/*
 * upstream_http_test - drives upstream_http against a libevent evhttp server
 * (and a raw listener that hangs up) on 127.0.0.1, all on one event_base.
 * Checks what the server received and what the callback reported, that
 * callbacks never run inside upstream_http_get, cancel/destroy semantics and
 * re-entrant use from callbacks. Run under ASan for leaks.
 */
#include "upstream_http.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int s_failures;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
            s_failures++;                                                                          \
        }                                                                                          \
    } while (0)

#define CHECK_STR(got, want)                                                                       \
    do {                                                                                           \
        const char *g_ = (got);                                                                    \
        const char *w_ = (want);                                                                   \
        if (!g_ || strcmp(g_, w_) != 0) {                                                          \
            fprintf(stderr, "%s:%d: CHECK_STR failed: %s = \"%s\", want \"%s\"\n", __FILE__,       \
                    __LINE__, #got, g_ ? g_ : "(null)", w_);                                       \
            s_failures++;                                                                          \
        }                                                                                          \
    } while (0)

static int64_t s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- the test server ------------------------------------------------------ */

struct server {
    struct event_base *base;
    struct evhttp *http;
    int port;
    struct evconnlistener *hangup; /* reads a request, closes without answering */
    int hangup_port;
    /* what /echo last received */
    int echo_hits;
    char uri[512];
    char amz_date[128];
    char auth[256];
    char token[128];
    char accept[128];
    int n_auth;
    int peer_port;
};

#define S_SECRET_REPLY                                                                             \
    "{\"AccessKeyId\":\"ASIAREPLY\",\"SecretAccessKey\":\"reply-secret-0123456789abcdef\","        \
    "\"Token\":\"reply-token-0123456789abcdef0123456789abcdef0123456789abcdef\"}"

static void s_copy_header(struct evkeyvalq *h, const char *name, char *out, size_t out_len)
{
    const char *v = evhttp_find_header(h, name);
    snprintf(out, out_len, "%s", v ? v : "(missing)");
}

static void s_on_http(struct evhttp_request *req, void *arg)
{
    struct server *srv = arg;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = evhttp_uri_get_path(uri);
    const char *query = evhttp_uri_get_query(uri);
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    struct evbuffer *body = evbuffer_new();

    if (strcmp(path, "/echo") == 0) {
        struct evkeyvalq *in = evhttp_request_get_input_headers(req);
        srv->echo_hits++;
        snprintf(srv->uri, sizeof(srv->uri), "%s", evhttp_request_get_uri(req));
        s_copy_header(in, "X-Amz-Date", srv->amz_date, sizeof(srv->amz_date));
        s_copy_header(in, "Authorization", srv->auth, sizeof(srv->auth));
        s_copy_header(in, "X-Amz-Security-Token", srv->token, sizeof(srv->token));
        s_copy_header(in, "Accept", srv->accept, sizeof(srv->accept));
        srv->n_auth = 0;
        for (struct evkeyval *kv = in->tqh_first; kv; kv = kv->next.tqe_next) {
            if (strcasecmp(kv->key, "Authorization") == 0)
                srv->n_auth++;
        }
        char *host = NULL;
        ev_uint16_t port = 0;
        evhttp_connection_get_peer(evhttp_request_get_connection(req), &host, &port);
        srv->peer_port = port;
        evhttp_add_header(out, "X-Amzn-ErrorType", "SomeType");
        evhttp_add_header(out, "retry-after", "3");
        evhttp_add_header(out, "X-AMZN-REQUESTID", "req-123");
        evbuffer_add_printf(body, "hello world");
        evhttp_send_reply(req, 200, "OK", body);
    } else if (strcmp(path, "/status500") == 0) {
        evhttp_add_header(out, "x-amzn-ErrorType", "InternalServerException");
        evbuffer_add_printf(body, "{\"message\":\"boom\"}");
        evhttp_send_reply(req, 500, "Internal Server Error", body);
    } else if (strcmp(path, "/status429") == 0) {
        evhttp_add_header(out, "x-amzn-ErrorType", "ThrottlingException");
        evhttp_add_header(out, "Retry-After", "7");
        evhttp_send_reply(req, 429, "Too Many Requests", body);
    } else if (strcmp(path, "/slow") == 0) {
        /* never answered; evhttp frees it when the client goes away */
    } else if (strcmp(path, "/big") == 0) {
        struct evkeyvalq q;
        evhttp_parse_query_str(query ? query : "", &q);
        const char *size_s = evhttp_find_header(&q, "size");
        const char *chunked = evhttp_find_header(&q, "chunked");
        size_t size = size_s ? (size_t)strtoul(size_s, NULL, 10) : 4096;
        char *data = malloc(size + 1);
        memset(data, 'x', size);
        if (chunked) {
            evhttp_send_reply_start(req, 200, "OK");
            evbuffer_add(body, data, size / 2);
            evhttp_send_reply_chunk(req, body);
            evbuffer_add(body, data, size - size / 2);
            evhttp_send_reply_chunk(req, body);
            evhttp_send_reply_end(req);
        } else {
            evbuffer_add(body, data, size);
            evhttp_send_reply(req, 200, "OK", body);
        }
        free(data);
        evhttp_clear_headers(&q);
    } else if (strcmp(path, "/secret") == 0) {
        /* a credential reply, long enough for the body buffer to grow */
        evbuffer_add_printf(body, "%s", S_SECRET_REPLY);
        evhttp_send_reply(req, 200, "OK", body);
    } else if (strcmp(path, "/n") == 0) {
        evbuffer_add_printf(body, "%s", query ? query : "");
        evhttp_send_reply(req, 200, "OK", body);
    } else {
        evhttp_send_reply(req, 404, "Not Found", body);
    }
    evbuffer_free(body);
}

static void s_hangup_read(struct bufferevent *bev, void *arg)
{
    (void)arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
    if (end.pos < 0)
        return;
    evbuffer_drain(in, evbuffer_get_length(in));
    bufferevent_free(bev); /* closes: a clean FIN, no answer */
}

static void s_hangup_event(struct bufferevent *bev, short what, void *arg)
{
    (void)what;
    (void)arg;
    bufferevent_free(bev);
}

static void s_hangup_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                            int socklen, void *arg)
{
    (void)l;
    (void)sa;
    (void)socklen;
    struct server *srv = arg;
    struct bufferevent *bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
    bufferevent_setcb(bev, s_hangup_read, NULL, s_hangup_event, srv);
    bufferevent_enable(bev, EV_READ);
}

static int s_port_of(evutil_socket_t fd)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    if (getsockname(fd, (struct sockaddr *)&sin, &len) != 0)
        return -1;
    return ntohs(sin.sin_port);
}

static int server_start(struct server *srv, struct event_base *base)
{
    memset(srv, 0, sizeof(*srv));
    srv->base = base;
    srv->http = evhttp_new(base);
    if (!srv->http)
        return -1;
    evhttp_set_gencb(srv->http, s_on_http, srv);
    struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(srv->http, "127.0.0.1", 0);
    if (!bs)
        return -1;
    srv->port = s_port_of(evhttp_bound_socket_get_fd(bs));

    struct sockaddr_in sin;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sin.sin_port = 0;
    srv->hangup = evconnlistener_new_bind(base, s_hangup_accept, srv,
                                          LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, -1,
                                          (struct sockaddr *)&sin, sizeof(sin));
    if (!srv->hangup)
        return -1;
    srv->hangup_port = s_port_of(evconnlistener_get_fd(srv->hangup));
    return srv->port > 0 && srv->hangup_port > 0 ? 0 : -1;
}

static void server_stop(struct server *srv)
{
    evconnlistener_free(srv->hangup);
    evhttp_free(srv->http);
}

/* A port nothing listens on: bind one, note it, close it. */
static int s_closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int port = -1;
    if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
        port = s_port_of(fd);
    close(fd);
    return port;
}

/* --- the client side -------------------------------------------------------- */

struct ctx {
    struct event_base *base;
    struct upstream_http *u;
    struct server *srv;
    int in_get;     /* set around every upstream_http_get */
    int sync_calls; /* callbacks that ran inside upstream_http_get */
    int done;       /* callbacks so far */
    int expect;     /* break the loop when done reaches this */
    int guard_fired;
};

struct call {
    struct ctx *c;
    int called;
    enum upstream_outcome outcome;
    long status;
    char body[8192];
    size_t body_len;
    char error_type[300], retry_after[300], request_id[300], transport_error[300];
    int has_error_type, has_retry_after, has_request_id, has_transport_error;
    int64_t elapsed_ms;
    /* optional re-entrant actions */
    struct upstream_request *cancel_me;
    struct call *start_call;
    const char *start_url;
    int destroy;
};

static void s_copy_opt(char *out, size_t out_len, int *has, const char *v)
{
    *has = v != NULL;
    snprintf(out, out_len, "%s", v ? v : "");
}

static struct upstream_request *start(struct ctx *c, struct call *k, const char *url,
                                      char *const *headers, size_t n, int64_t timeout_ms);

static void s_cb(void *arg, const struct upstream_response *resp)
{
    struct call *k = arg;
    struct ctx *c = k->c;
    if (c->in_get)
        c->sync_calls++;
    k->called++;
    k->outcome = resp->outcome;
    k->status = resp->status;
    CHECK(resp->body != NULL);
    k->body_len = resp->body_len;
    snprintf(k->body, sizeof(k->body), "%.*s", (int)resp->body_len, resp->body ? resp->body : "");
    s_copy_opt(k->error_type, sizeof(k->error_type), &k->has_error_type, resp->error_type);
    s_copy_opt(k->retry_after, sizeof(k->retry_after), &k->has_retry_after, resp->retry_after);
    s_copy_opt(k->request_id, sizeof(k->request_id), &k->has_request_id, resp->request_id);
    s_copy_opt(k->transport_error, sizeof(k->transport_error), &k->has_transport_error,
               resp->transport_error);
    k->elapsed_ms = resp->elapsed_ms;

    if (k->cancel_me) {
        upstream_http_cancel(k->cancel_me);
        k->cancel_me = NULL;
    }
    if (k->start_call)
        CHECK(start(c, k->start_call, k->start_url, NULL, 0, 5000) != NULL);
    if (k->destroy) {
        upstream_http_destroy(c->u);
        c->u = NULL;
    }
    c->done++;
    if (c->done >= c->expect)
        event_base_loopbreak(c->base);
}

static struct upstream_request *start(struct ctx *c, struct call *k, const char *url,
                                      char *const *headers, size_t n, int64_t timeout_ms)
{
    k->c = c;
    c->in_get = 1;
    struct upstream_request *r = upstream_http_get(c->u, url, headers, n, timeout_ms, s_cb, k);
    c->in_get = 0;
    return r;
}

static void s_guard(evutil_socket_t fd, short events, void *arg)
{
    (void)fd;
    (void)events;
    struct ctx *c = arg;
    c->guard_fired = 1;
    event_base_loopbreak(c->base);
}

/* Runs the loop until `expect` more callbacks have run or max_ms pass.
 * Returns 0 when the callbacks came, -1 on the guard. */
static int run(struct ctx *c, int expect, int max_ms)
{
    c->done = 0;
    c->expect = expect;
    c->guard_fired = 0;
    struct event *guard = evtimer_new(c->base, s_guard, c);
    struct timeval tv = {max_ms / 1000, (max_ms % 1000) * 1000};
    evtimer_add(guard, &tv);
    if (expect > 0 || max_ms > 0)
        event_base_loop(c->base, 0);
    event_free(guard);
    return c->guard_fired && expect > 0 ? -1 : 0;
}

static void s_url(char *out, size_t out_len, int port, const char *path_query)
{
    snprintf(out, out_len, "http://127.0.0.1:%d%s", port, path_query);
}

/* --- cases ------------------------------------------------------------------ */

static void test_echo(struct ctx *c)
{
    char url[512];
    const char *pq = "/echo?creationTimeAfter=2024-01-01T00%3A00%3A00Z&maxResults=2"
                     "&nameContains=a%2Bb%20c&sortOrder=Descending";
    s_url(url, sizeof(url), c->srv->port, pq);
    static char auth[] = "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/"
                         "us-east-1/bedrock/aws4_request, SignedHeaders=host;x-amz-date, "
                         "Signature=abcdef0123";
    char *headers[] = {
        "X-Amz-Date: 20240101T000000Z",
        auth,
        "X-Amz-Security-Token: tok+en/=",
        "Accept: application/json",
    };
    struct call k;
    memset(&k, 0, sizeof(k));
    struct upstream_request *r = start(c, &k, url, headers, 4, 5000);
    CHECK(r != NULL);
    CHECK(k.called == 0);
    CHECK(upstream_http_active(c->u) == 1);
    CHECK(run(c, 1, 5000) == 0);
    CHECK(k.called == 1);
    CHECK(k.outcome == UPSTREAM_OK);
    CHECK(k.status == 200);
    CHECK_STR(k.body, "hello world");
    CHECK(k.body_len == 11);
    CHECK_STR(k.error_type, "SomeType");
    CHECK_STR(k.retry_after, "3");
    CHECK_STR(k.request_id, "req-123");
    CHECK(!k.has_transport_error);
    CHECK(k.elapsed_ms >= 0 && k.elapsed_ms < 5000);
    CHECK(upstream_http_active(c->u) == 0);

    CHECK(c->srv->echo_hits == 1);
    CHECK_STR(c->srv->uri, pq);
    CHECK_STR(c->srv->amz_date, "20240101T000000Z");
    CHECK_STR(c->srv->auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/bedrock/"
                            "aws4_request, SignedHeaders=host;x-amz-date, Signature=abcdef0123");
    CHECK_STR(c->srv->token, "tok+en/=");
    CHECK_STR(c->srv->accept, "application/json");
    CHECK(c->srv->n_auth == 1);
}

static void test_keepalive(struct ctx *c)
{
    /* The second request starts from the first one's callback and must reuse
     * its connection (same client port seen by the server). */
    char url[256];
    s_url(url, sizeof(url), c->srv->port, "/echo?x=1");
    struct call a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    a.start_call = &b;
    a.start_url = url;
    CHECK(start(c, &a, url, NULL, 0, 5000) != NULL);
    CHECK(run(c, 1, 5000) == 0);
    int first_port = c->srv->peer_port;
    CHECK(run(c, 1, 5000) == 0);
    CHECK(a.called == 1 && b.called == 1);
    CHECK(a.status == 200 && b.status == 200);
    CHECK(first_port > 0 && c->srv->peer_port == first_port);
}

static void test_statuses(struct ctx *c)
{
    char u500[256], u429[256];
    s_url(u500, sizeof(u500), c->srv->port, "/status500");
    s_url(u429, sizeof(u429), c->srv->port, "/status429");
    struct call a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    CHECK(start(c, &a, u500, NULL, 0, 5000) != NULL);
    CHECK(start(c, &b, u429, NULL, 0, 5000) != NULL);
    CHECK(upstream_http_active(c->u) == 2);
    CHECK(run(c, 2, 5000) == 0);
    CHECK(a.outcome == UPSTREAM_OK && a.status == 500);
    CHECK_STR(a.body, "{\"message\":\"boom\"}");
    CHECK_STR(a.error_type, "InternalServerException");
    CHECK(!a.has_retry_after && !a.has_request_id);
    CHECK(b.outcome == UPSTREAM_OK && b.status == 429);
    CHECK_STR(b.retry_after, "7");
    CHECK_STR(b.error_type, "ThrottlingException");
    CHECK(b.body_len == 0);
    CHECK_STR(b.body, "");
}

static void test_timeout(struct ctx *c)
{
    char url[256];
    s_url(url, sizeof(url), c->srv->port, "/slow");
    struct call k;
    memset(&k, 0, sizeof(k));
    int64_t t0 = s_now_ms();
    CHECK(start(c, &k, url, NULL, 0, 300) != NULL);
    CHECK(run(c, 1, 5000) == 0);
    int64_t took = s_now_ms() - t0;
    CHECK(k.outcome == UPSTREAM_TIMEOUT);
    CHECK(k.has_transport_error);
    CHECK(took >= 250 && took < 3000);
    CHECK(k.elapsed_ms >= 250 && k.elapsed_ms < 3000);
}

static void test_refused(struct ctx *c)
{
    int port = s_closed_port();
    CHECK(port > 0);
    char url[256];
    s_url(url, sizeof(url), port, "/secret?X-Amz-Signature=deadbeef");
    char *headers[] = {"Authorization: secret-signature"};
    struct call k;
    memset(&k, 0, sizeof(k));
    CHECK(start(c, &k, url, headers, 1, 5000) != NULL);
    CHECK(run(c, 1, 5000) == 0);
    CHECK(k.outcome == UPSTREAM_TRANSPORT);
    CHECK(k.has_transport_error && k.transport_error[0] != '\0');
    CHECK(strstr(k.transport_error, "127.0.0.1") == NULL);
    CHECK(strstr(k.transport_error, "secret") == NULL);
    CHECK(strstr(k.transport_error, "deadbeef") == NULL);
    CHECK(!k.has_error_type && !k.has_retry_after && !k.has_request_id);
    CHECK_STR(k.body, "");
    printf("     refused -> \"%s\"\n", k.transport_error);
}

static void test_too_large(struct ctx *c)
{
    struct upstream_http_options opts = {.max_body_bytes = 1024};
    struct upstream_http *saved = c->u;
    c->u = upstream_http_new(c->base, &opts);
    CHECK(c->u != NULL);
    char big[256], chunked[256], exact[256];
    s_url(big, sizeof(big), c->srv->port, "/big?size=4096");
    s_url(chunked, sizeof(chunked), c->srv->port, "/big?size=4096&chunked=1");
    s_url(exact, sizeof(exact), c->srv->port, "/big?size=1024&chunked=1");
    struct call a, b, d;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    memset(&d, 0, sizeof(d));
    CHECK(start(c, &a, big, NULL, 0, 5000) != NULL);
    CHECK(start(c, &b, chunked, NULL, 0, 5000) != NULL);
    CHECK(start(c, &d, exact, NULL, 0, 5000) != NULL);
    CHECK(run(c, 3, 5000) == 0);
    CHECK(a.outcome == UPSTREAM_TRANSPORT);
    CHECK_STR(a.transport_error, "response too large");
    CHECK(b.outcome == UPSTREAM_TRANSPORT);
    CHECK_STR(b.transport_error, "response too large");
    CHECK(d.outcome == UPSTREAM_OK && d.status == 200 && d.body_len == 1024);
    upstream_http_destroy(c->u);
    c->u = saved;
}

static void test_hangup(struct ctx *c)
{
    char url[256];
    s_url(url, sizeof(url), c->srv->hangup_port, "/whatever");
    struct call k;
    memset(&k, 0, sizeof(k));
    CHECK(start(c, &k, url, NULL, 0, 5000) != NULL);
    CHECK(run(c, 1, 5000) == 0);
    CHECK(k.outcome == UPSTREAM_TRANSPORT);
    CHECK(k.has_transport_error);
    printf("     hangup -> \"%s\"\n", k.transport_error);
}

static void test_cancel(struct ctx *c)
{
    char slow[256], echo[256];
    s_url(slow, sizeof(slow), c->srv->port, "/slow");
    s_url(echo, sizeof(echo), c->srv->port, "/echo");
    struct call a, b, d;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    memset(&d, 0, sizeof(d));

    /* at once, before the loop ever ran */
    struct upstream_request *ra = start(c, &a, echo, NULL, 0, 5000);
    CHECK(ra != NULL);
    upstream_http_cancel(ra);
    /* mid-flight, after the request reached the server */
    struct upstream_request *rb = start(c, &b, slow, NULL, 0, 5000);
    CHECK(rb != NULL);
    CHECK(upstream_http_active(c->u) == 1);
    run(c, 0, 200);
    upstream_http_cancel(rb);
    CHECK(upstream_http_active(c->u) == 0);
    upstream_http_cancel(NULL);
    /* a short timeout that would have fired during the wait below */
    struct upstream_request *rd = start(c, &d, slow, NULL, 0, 100);
    CHECK(rd != NULL);
    upstream_http_cancel(rd);
    run(c, 0, 400);
    CHECK(a.called == 0 && b.called == 0 && d.called == 0);
    CHECK(upstream_http_active(c->u) == 0);
}

static void test_concurrent(struct ctx *c)
{
    enum { N = 50 };
    struct call *k = calloc(N, sizeof(*k));
    for (int i = 0; i < N; i++) {
        char url[256];
        char pq[64];
        snprintf(pq, sizeof(pq), "/n?i=%d", i);
        s_url(url, sizeof(url), c->srv->port, pq);
        CHECK(start(c, &k[i], url, NULL, 0, 10000) != NULL);
    }
    CHECK(upstream_http_active(c->u) == N);
    CHECK(run(c, N, 15000) == 0);
    for (int i = 0; i < N; i++) {
        char want[32];
        snprintf(want, sizeof(want), "i=%d", i);
        CHECK(k[i].called == 1);
        CHECK(k[i].outcome == UPSTREAM_OK && k[i].status == 200);
        CHECK_STR(k[i].body, want);
    }
    CHECK(upstream_http_active(c->u) == 0);
    free(k);
}

static void test_reentrant(struct ctx *c)
{
    /* a's callback cancels the in-flight b and starts d */
    char echo[256], slow[256];
    s_url(echo, sizeof(echo), c->srv->port, "/echo");
    s_url(slow, sizeof(slow), c->srv->port, "/slow");
    struct call a, b, d;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    memset(&d, 0, sizeof(d));
    struct upstream_request *rb = start(c, &b, slow, NULL, 0, 10000);
    CHECK(rb != NULL);
    a.cancel_me = rb;
    a.start_call = &d;
    a.start_url = echo;
    CHECK(start(c, &a, echo, NULL, 0, 5000) != NULL);
    CHECK(run(c, 2, 5000) == 0);
    CHECK(a.called == 1 && d.called == 1 && b.called == 0);
    CHECK(d.outcome == UPSTREAM_OK && d.status == 200);
    CHECK(upstream_http_active(c->u) == 0);
}

static void test_reentrant_same_batch(struct ctx *c)
{
    /* Both fail in the same pass of curl (unsupported scheme), so both are
     * queued as done when a's callback cancels b: b must not be reported. */
    struct call a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    struct upstream_request *rb = NULL;
    CHECK(start(c, &a, "ftp://127.0.0.1/a", NULL, 0, 5000) != NULL);
    rb = start(c, &b, "ftp://127.0.0.1/b", NULL, 0, 5000);
    CHECK(rb != NULL);
    a.cancel_me = rb;
    run(c, 1, 300);
    CHECK(a.called == 1);
    CHECK(a.outcome == UPSTREAM_TRANSPORT);
    CHECK(b.called == 0);
    CHECK(upstream_http_active(c->u) == 0);
}

static void test_immediate_failure(struct ctx *c)
{
    /* curl refuses strings over 8 MB in setopt: the failure must still come
     * from the loop, not from inside upstream_http_get. */
    size_t n = 9u * 1000u * 1000u;
    char *url = malloc(n + 1);
    memcpy(url, "http://127.0.0.1/", 17);
    memset(url + 17, 'a', n - 17);
    url[n] = '\0';
    struct call k;
    memset(&k, 0, sizeof(k));
    CHECK(start(c, &k, url, NULL, 0, 5000) != NULL);
    free(url);
    CHECK(k.called == 0);
    CHECK(upstream_http_active(c->u) == 1);
    CHECK(run(c, 1, 2000) == 0);
    CHECK(k.called == 1);
    CHECK(k.outcome == UPSTREAM_TRANSPORT && k.has_transport_error);
    CHECK(upstream_http_active(c->u) == 0);

    /* cancelled before the deferred report fires */
    url = malloc(n + 1);
    memcpy(url, "http://127.0.0.1/", 17);
    memset(url + 17, 'a', n - 17);
    url[n] = '\0';
    struct call k2;
    memset(&k2, 0, sizeof(k2));
    struct upstream_request *r = start(c, &k2, url, NULL, 0, 5000);
    free(url);
    CHECK(r != NULL);
    upstream_http_cancel(r);
    run(c, 0, 100);
    CHECK(k2.called == 0);

    /* bad arguments: NULL, no callback */
    struct call k3;
    memset(&k3, 0, sizeof(k3));
    CHECK(start(c, &k3, "http://127.0.0.1/", NULL, 0, 0) == NULL);
    CHECK(start(c, &k3, NULL, NULL, 0, 1000) == NULL);
    CHECK(start(c, &k3, "http://127.0.0.1/", NULL, 1, 1000) == NULL);
    CHECK(upstream_http_get(c->u, "http://127.0.0.1/", NULL, 0, 1000, NULL, NULL) == NULL);
    char *smuggle[] = {"X-A: 1\r\nX-B: 2"};
    CHECK(start(c, &k3, "http://127.0.0.1/", smuggle, 1, 1000) == NULL);
    CHECK(k3.called == 0);
    CHECK(upstream_http_active(c->u) == 0);
}

static void test_destroy_in_flight(struct ctx *c)
{
    struct upstream_http *saved = c->u;
    c->u = upstream_http_new(c->base, NULL);
    CHECK(c->u != NULL);
    char slow[256], echo[256];
    s_url(slow, sizeof(slow), c->srv->port, "/slow");
    s_url(echo, sizeof(echo), c->srv->port, "/echo");
    struct call a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    CHECK(start(c, &a, slow, NULL, 0, 5000) != NULL);
    run(c, 0, 100);
    CHECK(start(c, &b, echo, NULL, 0, 5000) != NULL);
    upstream_http_destroy(c->u);
    c->u = saved;
    run(c, 0, 200);
    CHECK(a.called == 0 && b.called == 0);
}

static void test_destroy_from_callback(struct ctx *c)
{
    struct upstream_http *saved = c->u;
    c->u = upstream_http_new(c->base, NULL);
    CHECK(c->u != NULL);
    char slow[256], echo[256];
    s_url(slow, sizeof(slow), c->srv->port, "/slow");
    s_url(echo, sizeof(echo), c->srv->port, "/echo");
    struct call a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    CHECK(start(c, &b, slow, NULL, 0, 300) != NULL);
    a.destroy = 1;
    CHECK(start(c, &a, echo, NULL, 0, 5000) != NULL);
    CHECK(run(c, 1, 5000) == 0);
    CHECK(c->u == NULL);
    run(c, 0, 500); /* b's timeout would have fired by now */
    CHECK(a.called == 1 && b.called == 0);
    c->u = saved;
}

/* Under ASan: every block freed while watching is compared with the
 * watched strings; one that still holds a whole watched string was freed
 * without being wiped (as tests/fuzz/fuzz_secrets.h). */
#if defined(__SANITIZE_ADDRESS__)
#define S_HAVE_FREE_HOOK 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define S_HAVE_FREE_HOOK 1
#endif
#endif
#ifdef S_HAVE_FREE_HOOK
int __sanitizer_install_malloc_and_free_hooks(void (*m)(const volatile void *, size_t),
                                              void (*f)(const volatile void *));
size_t __sanitizer_get_allocated_size(const volatile void *p);

static const char *s_watched[3];
static volatile int s_watching;
static int s_unwiped;

static void s_malloc_hook(const volatile void *p, size_t n)
{
    (void)p;
    (void)n;
}

static void s_free_hook(const volatile void *ptr)
{
    if (!s_watching || !ptr)
        return;
    const char *p = (const char *)ptr;
    size_t cap = __sanitizer_get_allocated_size(ptr);
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(s_watched[i]);
        if (n < cap && memcmp(p, s_watched[i], n) == 0 && p[n] == '\0')
            s_unwiped++;
    }
}
#endif

/* Header lines, the request body and the response body hold secrets (an
 * x-amz-security-token, a WebIdentityToken, a credential reply): no copy of
 * ours is freed unwiped. */
static void test_secrets_wiped(struct ctx *c)
{
#ifdef S_HAVE_FREE_HOOK
    char url[512];
    s_url(url, sizeof(url), c->srv->port, "/secret");
    static char hdr[] = "x-amz-security-token: header-token-0123456789abcdef";
    static char post[] = "Action=AssumeRoleWithWebIdentity&WebIdentityToken=post-token-0123456789"
                         "abcdef0123456789abcdef0123456789abcdef";
    char *headers[] = {hdr};
    s_watched[0] = hdr;
    s_watched[1] = post;
    s_watched[2] = S_SECRET_REPLY;
    CHECK(__sanitizer_install_malloc_and_free_hooks(s_malloc_hook, s_free_hook) != 0);
    for (int i = 0; i < 2; i++) {
        /* a completed request, then one cancelled before the reply */
        struct call k;
        memset(&k, 0, sizeof(k));
        k.c = c;
        struct upstream_http_request_options o = {
            .method = "POST",
            .url = url,
            .headers = headers,
            .n_headers = 1,
            .body = post,
            .body_len = strlen(post),
            .timeout_ms = 5000,
        };
        s_unwiped = 0;
        s_watching = 1;
        struct upstream_request *r = upstream_http_request(c->u, &o, s_cb, &k);
        CHECK(r != NULL);
        if (i == 0) {
            CHECK(run(c, 1, 5000) == 0);
            CHECK(k.status == 200);
            CHECK_STR(k.body, S_SECRET_REPLY);
        } else {
            upstream_http_cancel(r);
        }
        s_watching = 0;
        CHECK(s_unwiped == 0);
    }
#else
    (void)c;
    printf("(secrets_wiped needs ASan's free hook: skipped)\n");
#endif
}

int main(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "curl_global_init failed\n");
        return 1;
    }
    struct event_base *base = event_base_new();
    struct server srv;
    if (!base || server_start(&srv, base) != 0) {
        fprintf(stderr, "cannot start test server\n");
        return 1;
    }
    struct ctx c;
    memset(&c, 0, sizeof(c));
    c.base = base;
    c.srv = &srv;
    c.u = upstream_http_new(base, NULL);
    CHECK(c.u != NULL);
    CHECK(upstream_http_new(NULL, NULL) == NULL);

    struct {
        const char *name;
        void (*fn)(struct ctx *);
    } cases[] = {
        {"echo", test_echo},
        {"keepalive", test_keepalive},
        {"statuses", test_statuses},
        {"timeout", test_timeout},
        {"refused", test_refused},
        {"too_large", test_too_large},
        {"hangup", test_hangup},
        {"cancel", test_cancel},
        {"concurrent", test_concurrent},
        {"reentrant", test_reentrant},
        {"reentrant_same_batch", test_reentrant_same_batch},
        {"immediate_failure", test_immediate_failure},
        {"destroy_in_flight", test_destroy_in_flight},
        {"destroy_from_callback", test_destroy_from_callback},
        {"secrets_wiped", test_secrets_wiped},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int before = s_failures;
        cases[i].fn(&c);
        printf("%s %s\n", s_failures == before ? "ok  " : "FAIL", cases[i].name);
    }
    CHECK(c.sync_calls == 0);

    upstream_http_destroy(c.u);
    upstream_http_destroy(NULL);
    server_stop(&srv);
    event_base_free(base);
    libevent_global_shutdown();
    curl_global_cleanup();
    if (s_failures) {
        fprintf(stderr, "%d check(s) failed\n", s_failures);
        return 1;
    }
    printf("all upstream_http tests passed\n");
    return 0;
}
