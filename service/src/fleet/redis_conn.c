/*
 * redis_conn - see redis_conn.h.
 */
#include "redis_conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "clock.h"

#define S_BACKOFF_MIN_MS 100
#define S_BACKOFF_MAX_MS 5000
#define S_MAX_PENDING 65536
#define S_DEAD_MIN_MS 1000 /* the oldest command waited this long: the link is dead */
#define S_DEAD_FACTOR 20   /* ... or this many timeouts, whichever is longer */

const double redis_latency_bounds_s[REDIS_LATENCY_BUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                              0.025,  0.05,  0.1,    0.25,  1.0};

enum s_state { S_IDLE, S_CONNECTING, S_HANDSHAKE, S_UP };
enum s_reported { S_REP_NONE, S_REP_UP, S_REP_DOWN };

struct redis_cmd {
    struct redis_conn *rc;
    struct redis_cmd *next;
    redis_cb cb; /* NULL once answered (timed out) or cancelled */
    void *arg;
    int64_t sent_ms;
};

struct redis_conn {
    struct event_base *base;
    struct redis_url url;
    char password[512];
    int64_t timeout_ms, connect_timeout_ms;
    void (*on_state)(void *arg, bool up, const char *reason);
    void *state_arg;
    SSL_CTX *ssl_ctx;
    struct evdns_base *dns;
    struct bufferevent *bev;
    redisReader *reader;
    enum s_state state;
    enum s_reported reported;
    struct redis_cmd *head, *tail;
    size_t n_pending;
    struct event *retry_timer; /* reconnect after backoff; also the connect timeout */
    struct event *cmd_timer;   /* the earliest command deadline */
    int64_t backoff_ms;
    int handshake_left; /* replies still due before "up"; -1: refused */
    char hs_reason[200];
    struct redis_stats stats;
};

const char *redis_outcome_str(enum redis_outcome o)
{
    switch (o) {
    case REDIS_CMD_OK:
        return "ok";
    case REDIS_CMD_ERR:
        return "error";
    case REDIS_CMD_TIMEOUT:
        return "timeout";
    default:
        return "down";
    }
}

static void s_arm(struct event *ev, int64_t ms)
{
    if (ms < 0)
        ms = 0;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000)};
    evtimer_del(ev);
    evtimer_add(ev, &tv);
}

static void s_report(struct redis_conn *rc, bool up, const char *reason)
{
    enum s_reported r = up ? S_REP_UP : S_REP_DOWN;
    if (rc->reported == r)
        return;
    rc->reported = r;
    if (rc->on_state)
        rc->on_state(rc->state_arg, up, reason);
}

static void s_connect(struct redis_conn *rc);

/* The link failed (or never came up): every pending command hears DOWN,
 * the owner hears "down" once, and a reconnect is scheduled. */
static void s_fail(struct redis_conn *rc, const char *reason)
{
    if (rc->bev) {
        bufferevent_free(rc->bev);
        rc->bev = NULL;
    }
    if (rc->reader) {
        redisReaderFree(rc->reader);
        rc->reader = NULL;
    }
    evtimer_del(rc->cmd_timer);
    rc->state = S_IDLE;
    struct redis_cmd *c = rc->head;
    rc->head = rc->tail = NULL;
    rc->n_pending = 0;
    while (c) {
        struct redis_cmd *next = c->next;
        redis_cb cb = c->cb;
        void *arg = c->arg;
        free(c);
        if (cb && arg != rc) { /* handshake commands belong to rc itself */
            rc->stats.outcomes[REDIS_CMD_DOWN]++;
            cb(arg, REDIS_CMD_DOWN, NULL);
        }
        c = next;
    }
    s_report(rc, false, reason);
    int64_t d = rc->backoff_ms;
    d += (int64_t)(clock_jitter_u32() % (uint32_t)(d / 5 + 1)) - d / 10;
    s_arm(rc->retry_timer, d);
    rc->backoff_ms = rc->backoff_ms * 2 > S_BACKOFF_MAX_MS ? S_BACKOFF_MAX_MS : rc->backoff_ms * 2;
}

static void s_on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct redis_conn *rc = arg;
    if (rc->state == S_IDLE) {
        s_connect(rc);
        return;
    }
    if (rc->state != S_UP) /* the connect timeout */
        s_fail(rc, rc->state == S_CONNECTING ? "connect timed out" : "handshake timed out");
}

/* Re-arms the command timer at the earliest deadline of a command still
 * waiting for its answer; declares the link dead when the oldest pending
 * reply is long overdue. */
static void s_rearm(struct redis_conn *rc, int64_t now)
{
    if (!rc->head) {
        evtimer_del(rc->cmd_timer);
        return;
    }
    int64_t dead_ms = rc->timeout_ms * S_DEAD_FACTOR;
    if (dead_ms < S_DEAD_MIN_MS)
        dead_ms = S_DEAD_MIN_MS;
    int64_t next = rc->head->sent_ms + dead_ms;
    for (struct redis_cmd *c = rc->head; c; c = c->next) {
        if (c->cb && c->arg != rc) {
            if (c->sent_ms + rc->timeout_ms < next)
                next = c->sent_ms + rc->timeout_ms;
            break; /* sent in order: the first live one is the earliest */
        }
    }
    s_arm(rc->cmd_timer, next - now);
}

static void s_on_cmd_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct redis_conn *rc = arg;
    int64_t now = clock_mono_ms();
    int64_t dead_ms = rc->timeout_ms * S_DEAD_FACTOR;
    if (dead_ms < S_DEAD_MIN_MS)
        dead_ms = S_DEAD_MIN_MS;
    if (rc->head && now - rc->head->sent_ms >= dead_ms) {
        s_fail(rc, "no reply (timed out)");
        return;
    }
    for (struct redis_cmd *c = rc->head; c; c = c->next) {
        if (!c->cb || c->arg == rc)
            continue;
        if (now - c->sent_ms < rc->timeout_ms)
            break;
        redis_cb cb = c->cb;
        c->cb = NULL;
        rc->stats.outcomes[REDIS_CMD_TIMEOUT]++;
        cb(c->arg, REDIS_CMD_TIMEOUT, NULL);
    }
    if (rc->state != S_IDLE)
        s_rearm(rc, clock_mono_ms());
}

static void s_write(struct redis_conn *rc, int argc, const char *const *argv, const size_t *lens)
{
    struct evbuffer *out = bufferevent_get_output(rc->bev);
    evbuffer_add_printf(out, "*%d\r\n", argc);
    for (int i = 0; i < argc; i++) {
        evbuffer_add_printf(out, "$%zu\r\n", lens[i]);
        evbuffer_add(out, argv[i], lens[i]);
        evbuffer_add(out, "\r\n", 2);
    }
}

static struct redis_cmd *s_queue(struct redis_conn *rc, redis_cb cb, void *arg)
{
    struct redis_cmd *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->rc = rc;
    c->cb = cb;
    c->arg = arg;
    c->sent_ms = clock_mono_ms();
    if (rc->tail)
        rc->tail->next = c;
    else
        rc->head = c;
    rc->tail = c;
    rc->n_pending++;
    return c;
}

static void s_on_handshake(void *arg, enum redis_outcome o, const struct redisReply *reply)
{
    struct redis_conn *rc = arg;
    if (o != REDIS_CMD_OK) {
        /* Redis's own words (WRONGPASS ..., NOAUTH ...) never echo the password */
        snprintf(rc->hs_reason, sizeof(rc->hs_reason), "handshake refused: %.160s",
                 o == REDIS_CMD_ERR && reply && reply->str ? reply->str : redis_outcome_str(o));
        rc->handshake_left = -1;
        return; /* s_on_read fails the link after this reply */
    }
    if (rc->handshake_left > 0 && --rc->handshake_left == 0) {
        rc->state = S_UP;
        rc->backoff_ms = S_BACKOFF_MIN_MS;
        rc->stats.connects++;
        evtimer_del(rc->retry_timer);
        s_report(rc, true, "connected");
    }
}

static void s_handshake(struct redis_conn *rc)
{
    rc->state = S_HANDSHAKE;
    rc->handshake_left = 0;
    const char *pw = rc->password[0] ? rc->password : rc->url.password;
    if (pw[0]) {
        const char *argv[3] = {"AUTH", rc->url.user, pw};
        size_t lens[3] = {4, strlen(rc->url.user), strlen(pw)};
        if (rc->url.user[0])
            s_write(rc, 3, argv, lens);
        else
            s_write(rc, 2, (const char *const[]){"AUTH", pw}, (const size_t[]){4, lens[2]});
        s_queue(rc, s_on_handshake, rc);
        rc->handshake_left++;
    }
    if (rc->url.db) {
        char db[16];
        int n = snprintf(db, sizeof(db), "%d", rc->url.db);
        s_write(rc, 2, (const char *const[]){"SELECT", db}, (const size_t[]){6, (size_t)n});
        s_queue(rc, s_on_handshake, rc);
        rc->handshake_left++;
    }
    s_write(rc, 1, (const char *const[]){"PING"}, (const size_t[]){4});
    s_queue(rc, s_on_handshake, rc);
    rc->handshake_left++;
}

static void s_latency(struct redis_conn *rc, int64_t sent_ms)
{
    double s = (double)(clock_mono_ms() - sent_ms) / 1000.0;
    rc->stats.latency_count++;
    rc->stats.latency_sum_s += s;
    for (int i = 0; i < REDIS_LATENCY_BUCKETS; i++)
        if (s <= redis_latency_bounds_s[i])
            rc->stats.latency_le[i]++;
}

static void s_on_read(struct bufferevent *bev, void *arg)
{
    struct redis_conn *rc = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    size_t n;
    while ((n = evbuffer_get_length(in)) > 0) {
        struct evbuffer_iovec v;
        if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
            break;
        if (redisReaderFeed(rc->reader, v.iov_base, v.iov_len) != REDIS_OK) {
            s_fail(rc, "protocol error");
            return;
        }
        evbuffer_drain(in, v.iov_len);
    }
    for (;;) {
        void *r = NULL;
        if (redisReaderGetReply(rc->reader, &r) != REDIS_OK) {
            s_fail(rc, "protocol error");
            return;
        }
        if (!r)
            break;
        struct redis_cmd *c = rc->head;
        if (!c) {
            freeReplyObject(r);
            s_fail(rc, "a reply nobody asked for");
            return;
        }
        rc->head = c->next;
        if (!rc->head)
            rc->tail = NULL;
        rc->n_pending--;
        const redisReply *reply = r;
        enum redis_outcome o = reply->type == REDIS_REPLY_ERROR ? REDIS_CMD_ERR : REDIS_CMD_OK;
        redis_cb cb = c->cb;
        void *cb_arg = c->arg;
        bool internal = cb_arg == rc;
        if (cb && !internal) {
            rc->stats.outcomes[o]++;
            s_latency(rc, c->sent_ms);
        }
        free(c);
        if (cb)
            cb(cb_arg, o, reply);
        freeReplyObject(r);
        if (internal && rc->handshake_left < 0) {
            s_fail(rc, rc->hs_reason);
            return;
        }
        if (rc->state == S_IDLE)
            return; /* a callback's send failed the link */
    }
    s_rearm(rc, clock_mono_ms());
}

static void s_on_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    struct redis_conn *rc = arg;
    if (what & BEV_EVENT_CONNECTED) {
        rc->reader = redisReaderCreate();
        if (!rc->reader) {
            s_fail(rc, "out of memory");
            return;
        }
        s_handshake(rc);
        s_rearm(rc, clock_mono_ms());
        return;
    }
    char reason[200];
    if (what & BEV_EVENT_EOF) {
        snprintf(reason, sizeof(reason), "connection closed by Redis");
    } else {
        unsigned long e = bufferevent_get_openssl_error(bev);
        int err = EVUTIL_SOCKET_ERROR();
        if (e)
            snprintf(reason, sizeof(reason), "TLS: %s", ERR_reason_error_string(e));
        else
            snprintf(reason, sizeof(reason), "%s",
                     err ? evutil_socket_error_to_string(err) : "connection failed");
    }
    s_fail(rc, reason);
}

static void s_connect(struct redis_conn *rc)
{
    rc->state = S_CONNECTING;
    s_arm(rc->retry_timer, rc->connect_timeout_ms);
    int opts = BEV_OPT_CLOSE_ON_FREE;
    if (rc->url.transport == REDIS_TLS) {
        SSL *ssl = SSL_new(rc->ssl_ctx);
        if (!ssl) {
            s_fail(rc, "TLS: cannot make a session");
            return;
        }
        struct in6_addr a6;
        struct in_addr a4;
        bool ip = inet_pton(AF_INET, rc->url.host, &a4) == 1 ||
                  inet_pton(AF_INET6, rc->url.host, &a6) == 1;
        X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
        if (ip) {
            X509_VERIFY_PARAM_set1_ip_asc(vp, rc->url.host);
        } else {
            SSL_set_tlsext_host_name(ssl, rc->url.host);
            SSL_set1_host(ssl, rc->url.host);
        }
        rc->bev =
            bufferevent_openssl_socket_new(rc->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING, opts);
    } else {
        rc->bev = bufferevent_socket_new(rc->base, -1, opts);
    }
    if (!rc->bev) {
        s_fail(rc, "out of memory");
        return;
    }
    bufferevent_setcb(rc->bev, s_on_read, NULL, s_on_event, rc);
    bufferevent_enable(rc->bev, EV_READ | EV_WRITE);
    int rcode;
    if (rc->url.transport == REDIS_UNIX) {
        struct sockaddr_un sun;
        memset(&sun, 0, sizeof(sun));
        sun.sun_family = AF_UNIX;
        size_t pl = strnlen(rc->url.path, sizeof(sun.sun_path) - 1); /* checked by the URL parser */
        memcpy(sun.sun_path, rc->url.path, pl);
        rcode = bufferevent_socket_connect(rc->bev, (struct sockaddr *)&sun, sizeof(sun));
    } else {
        struct sockaddr_storage ss;
        memset(&ss, 0, sizeof(ss));
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        if (inet_pton(AF_INET, rc->url.host, &s4->sin_addr) == 1) {
            s4->sin_family = AF_INET;
            s4->sin_port = htons((uint16_t)rc->url.port);
            rcode = bufferevent_socket_connect(rc->bev, (struct sockaddr *)s4, sizeof(*s4));
        } else if (inet_pton(AF_INET6, rc->url.host, &s6->sin6_addr) == 1) {
            s6->sin6_family = AF_INET6;
            s6->sin6_port = htons((uint16_t)rc->url.port);
            rcode = bufferevent_socket_connect(rc->bev, (struct sockaddr *)s6, sizeof(*s6));
        } else {
            rcode = bufferevent_socket_connect_hostname(rc->bev, rc->dns, AF_UNSPEC, rc->url.host,
                                                        rc->url.port);
        }
    }
    if (rcode != 0 && rc->state == S_CONNECTING)
        s_fail(rc, "cannot connect");
}

struct redis_conn *redis_conn_new(const struct redis_conn_options *o, char *why, size_t why_len)
{
    struct redis_conn *rc = calloc(1, sizeof(*rc));
    if (!rc) {
        snprintf(why, why_len, "out of memory");
        return NULL;
    }
    rc->base = o->base;
    rc->url = *o->url;
    if (o->password)
        snprintf(rc->password, sizeof(rc->password), "%s", o->password);
    rc->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 50;
    rc->connect_timeout_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 1000;
    rc->on_state = o->on_state;
    rc->state_arg = o->state_arg;
    rc->backoff_ms = S_BACKOFF_MIN_MS;
    rc->retry_timer = evtimer_new(rc->base, s_on_retry, rc);
    rc->cmd_timer = evtimer_new(rc->base, s_on_cmd_timer, rc);
    if (!rc->retry_timer || !rc->cmd_timer) {
        snprintf(why, why_len, "out of memory");
        redis_conn_destroy(rc);
        return NULL;
    }
    if (rc->url.transport == REDIS_TLS) {
        rc->ssl_ctx = SSL_CTX_new(TLS_client_method());
        if (!rc->ssl_ctx || SSL_CTX_set_min_proto_version(rc->ssl_ctx, TLS1_2_VERSION) != 1) {
            snprintf(why, why_len, "cannot make a TLS context");
            redis_conn_destroy(rc);
            return NULL;
        }
        SSL_CTX_set_verify(rc->ssl_ctx, SSL_VERIFY_PEER, NULL);
        int ok = o->ca_file && o->ca_file[0]
                     ? SSL_CTX_load_verify_locations(rc->ssl_ctx, o->ca_file, NULL)
                     : SSL_CTX_set_default_verify_paths(rc->ssl_ctx);
        if (ok != 1) {
            snprintf(why, why_len, "cannot load the CA certificates%s%s",
                     o->ca_file && o->ca_file[0] ? " of " : "", o->ca_file ? o->ca_file : "");
            redis_conn_destroy(rc);
            return NULL;
        }
    }
    if (rc->url.transport != REDIS_UNIX) {
        rc->dns = evdns_base_new(rc->base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
                                               EVDNS_BASE_DISABLE_WHEN_INACTIVE);
        if (!rc->dns)
            rc->dns = evdns_base_new(rc->base, 0); /* numeric hosts still work */
    }
    s_connect(rc);
    return rc;
}

void redis_conn_destroy(struct redis_conn *rc)
{
    if (!rc)
        return;
    if (rc->bev)
        bufferevent_free(rc->bev);
    if (rc->reader)
        redisReaderFree(rc->reader);
    while (rc->head) {
        struct redis_cmd *c = rc->head;
        rc->head = c->next;
        free(c);
    }
    if (rc->retry_timer)
        event_free(rc->retry_timer);
    if (rc->cmd_timer)
        event_free(rc->cmd_timer);
    if (rc->dns)
        evdns_base_free(rc->dns, 0);
    if (rc->ssl_ctx)
        SSL_CTX_free(rc->ssl_ctx);
    OPENSSL_cleanse(rc->password, sizeof(rc->password));
    OPENSSL_cleanse(rc->url.password, sizeof(rc->url.password));
    free(rc);
}

bool redis_conn_up(const struct redis_conn *rc)
{
    return rc && rc->state == S_UP;
}

const struct redis_stats *redis_conn_stats(const struct redis_conn *rc)
{
    return &rc->stats;
}

struct redis_cmd *redis_conn_send(struct redis_conn *rc, int argc, const char *const *argv,
                                  const size_t *lens, redis_cb cb, void *arg)
{
    if (!rc || rc->state != S_UP || rc->n_pending >= S_MAX_PENDING) {
        if (rc)
            rc->stats.refused++;
        return NULL;
    }
    struct redis_cmd *c = s_queue(rc, cb, arg);
    if (!c)
        return NULL;
    s_write(rc, argc, argv, lens);
    if (!evtimer_pending(rc->cmd_timer, NULL))
        s_rearm(rc, c->sent_ms);
    return c;
}

void redis_cmd_cancel(struct redis_cmd *cmd)
{
    if (cmd)
        cmd->cb = NULL;
}
