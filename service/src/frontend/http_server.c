/*
 * http_server - HTTP/1.1 connections on libevent. See http_server.h.
 * Loop thread only.
 *
 * A connection holds its input in one fixed array (max(max_header_bytes,
 * 4 KiB) bytes): the head of the request being answered stays at its start,
 * parsed in place (the request's field pointers point there), and bytes
 * that arrive meanwhile (a pipelined request) follow it. The reply's status
 * line and fields are built in a per-connection buffer that is reused; the
 * body goes out by reference. On plain sockets a reply is one sendmsg()
 * (fields + body); only what the socket does not take is queued in an
 * evbuffer behind a write event, and no next request is parsed until that
 * is written (bounds memory for a client that pipelines and never reads).
 *
 * Lifetime: a connection whose request is with the frontend is never freed,
 * only closed (socket and events gone, "dead"); http_response_send on it
 * drops the reply and frees it. Every libevent callback ends in s_process
 * or s_unref, which free a dead connection that nothing refers to.
 *
 * One timer per connection, re-armed lazily: deadline_ms says when the
 * connection is given up (0 = a request is with the frontend, nothing is
 * being written). It is set to now + timeout_ms when the connection opens,
 * when the first byte of a request (or a body to discard) arrives - not
 * moved by later bytes, so a head must be complete within timeout_ms - and
 * when a reply is queued or the socket takes more of it.
 */
#include "http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/util.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "listener.h"
#include "log.h"

#define S_IN_MIN 4096
#define S_STATUS_ROOM 64          /* front of the reply buffer: the status line */
#define S_REPLY_MAX (64u * 1024u) /* status line + fields */
#define S_SPARE_AREAS 64          /* request areas kept for reuse, per server */

struct s_conn;

struct http_request {
    struct s_conn *conn;
    struct http1_request head;
    enum http1_result error;
};

/* What a connection holds only while it has a request: the bytes read, the
 * parsed head and the reply head being built. Taken when bytes arrive,
 * given back once the connection is idle (nothing unread, nothing in
 * flight), so an idle keep-alive connection costs its s_conn alone. Given-
 * back areas are kept for reuse (at most S_SPARE_AREAS a server), so
 * keep-alive traffic allocates nothing. */
struct s_area {
    struct s_area *next_spare;
    struct http_request req;
    struct buf reply;
    char in[];
};

struct s_conn {
    struct http_server *s;
    struct s_conn *prev, *next;
    evutil_socket_t fd;
    struct event *rev, *wev; /* plain: readable, writable (only while out is not empty) */
    struct evbuffer *out;    /* plain: the part of replies the socket did not take */
    struct bufferevent *bev; /* TLS */
    struct event *timer;
    int64_t deadline_ms; /* 0: none (a request is with the frontend) */
    struct sockaddr_storage peer;
    bool in_flight;      /* req is with the frontend */
    bool processing;     /* s_process is on the stack */
    bool dead;           /* closed; freed once nothing refers to it */
    bool eof;            /* the client will send nothing more */
    bool close_after;    /* close once the queued replies are written */
    bool reading;        /* plain: rev is added */
    bool reply_failed;   /* the reply's fields did not fit */
    size_t pending;      /* replies queued, not fully written (counted in s->n_unsent) */
    size_t head_len;     /* the head of req at in[0..head_len) */
    uint64_t body_left;  /* body bytes of the last request still to discard */
    size_t scan;         /* http1_head_length's resume point */
    struct s_area *area; /* NULL while idle */
    size_t in_len, in_cap;
};

struct http_server {
    struct event_base *base;
    struct listener *listener;
    SSL_CTX *ssl_ctx;
    size_t max_header_bytes;
    size_t max_body_bytes;
    int64_t timeout_ms;
    http_server_request_fn on_request;
    void *arg;
    int port;
    bool draining;
    size_t n_unsent;
    struct s_conn *conns;
    size_t in_cap; /* a request area's input bytes */
    struct s_area *spare;
    size_t n_spare;
    /* "Date: ...\r\n", made once a second */
    time_t date_s;
    char date_line[48];
    size_t date_len;
};

static void s_process(struct s_conn *c);

/* -- small helpers ------------------------------------------------------ */

/* Decimal digits of v into out (21 bytes); returns the length. */
static size_t s_u64(char *out, uint64_t v)
{
    char tmp[24];
    char *p = tmp + sizeof(tmp);
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    size_t n = (size_t)(tmp + sizeof(tmp) - p);
    memcpy(out, p, n);
    return n;
}

static const char *s_reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 204:
        return "No Content";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 413:
        return "Payload Too Large";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 499:
        return "Client Closed Request";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return status < 300 ? "OK" : status < 500 ? "Client Error" : "Server Error";
    }
}

/* The Date line (RFC 7231 IMF-fixdate), remade when the second changes. */
static void s_date(struct http_server *s, const char **line, size_t *len)
{
    time_t now = time(NULL);
    if (now != s->date_s) {
        struct tm tm;
        char d[40];
        if (gmtime_r(&now, &tm) && evutil_date_rfc1123(d, sizeof(d), &tm) > 0) {
            size_t n = strlen(d);
            memcpy(s->date_line, "Date: ", 6);
            memcpy(s->date_line + 6, d, n);
            memcpy(s->date_line + 6 + n, "\r\n", 2);
            s->date_len = 6 + n + 2;
            s->date_s = now;
        }
    }
    *line = s->date_line;
    *len = s->date_len;
}

static void s_arm(struct s_conn *c, int64_t ms)
{
    if (ms < 1)
        ms = 1;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000)};
    evtimer_add(c->timer, &tv);
}

static void s_deadline_from_now(struct s_conn *c)
{
    c->deadline_ms = clock_mono_ms() + c->s->timeout_ms;
}

/* -- request areas ---------------------------------------------------------- */

/* c's area, taken now if it has none. -1: out of memory. */
static int s_area_take(struct s_conn *c)
{
    if (c->area)
        return 0;
    struct http_server *s = c->s;
    struct s_area *a = s->spare;
    if (a) {
        s->spare = a->next_spare;
        s->n_spare--;
    } else {
        /* The input bytes are not zeroed: pages the requests never reach
         * stay untouched (not resident). */
        if (!(a = malloc(sizeof(*a) + s->in_cap)))
            return -1;
        buf_init(&a->reply, S_REPLY_MAX);
    }
    a->req.conn = c; /* (the rest is set per request: http1_parse, s_process) */
    c->area = a;
    return 0;
}

static void s_area_free(struct s_area *a)
{
    buf_clean_up(&a->reply);
    free(a);
}

/* Gives c's area back when c is idle: nothing unread, nothing in flight. */
static void s_area_give_back(struct s_conn *c, bool force)
{
    struct s_area *a = c->area;
    if (!a || (!force && (c->in_flight || c->in_len || c->head_len)))
        return;
    struct http_server *s = c->s;
    c->area = NULL;
    c->in_len = 0;
    c->scan = 0;
    if (s->n_spare < S_SPARE_AREAS && a->reply.cap <= 4096) {
        buf_reset(&a->reply);
        a->next_spare = s->spare;
        s->spare = a;
        s->n_spare++;
    } else {
        s_area_free(a);
    }
}

/* -- closing and freeing ---------------------------------------------------- */

static void s_free(struct s_conn *c)
{
    s_area_give_back(c, true);
    free(c);
}

/* Frees c if it is closed and nothing refers to it; true if freed. */
static bool s_unref(struct s_conn *c)
{
    if (c->dead && !c->in_flight && !c->processing) {
        s_free(c);
        return true;
    }
    return false;
}

/* Reads and drops what the client already sent, so that closing does not
 * turn it into a reset that could destroy the reply in flight to it. */
static void s_discard_input(evutil_socket_t fd)
{
    char scratch[4096];
    for (int i = 0; i < 16; i++) {
        ssize_t n = recv(fd, scratch, sizeof(scratch), MSG_DONTWAIT);
        if (n <= 0)
            break;
    }
}

/* Closes the socket and drops what is queued; c itself stays until s_unref. */
static void s_close(struct s_conn *c)
{
    if (c->dead)
        return;
    struct http_server *s = c->s;
    c->dead = true;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    s->n_unsent -= c->pending <= s->n_unsent ? c->pending : s->n_unsent;
    c->pending = 0;
    if (c->bev) {
        bufferevent_free(c->bev); /* closes the socket, frees the SSL */
        c->bev = NULL;
    } else {
        event_free(c->rev);
        event_free(c->wev);
        if (c->out)
            evbuffer_free(c->out); /* runs the release of a body still queued */
        s_discard_input(c->fd);
        evutil_closesocket(c->fd);
    }
    c->rev = c->wev = NULL;
    c->out = NULL;
    c->fd = -1;
    if (s->listener)
        listener_closed(s->listener);
    event_free(c->timer);
    c->timer = NULL;
}

static void s_on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct s_conn *c = arg;
    int64_t now = clock_mono_ms();
    if (c->deadline_ms && now >= c->deadline_ms) {
        s_close(c);
        s_unref(c);
        return;
    }
    s_arm(c, c->deadline_ms ? c->deadline_ms - now : c->s->timeout_ms);
}

/* -- input ---------------------------------------------------------------- */

static void s_consume(struct s_conn *c, size_t n)
{
    if (n < c->in_len)
        memmove(c->area->in, c->area->in + n, c->in_len - n);
    c->in_len -= n;
    c->scan = c->scan > n ? c->scan - n : 0;
}

/* Whether bytes arriving now start a request (or a body to discard). */
static bool s_starts_request(const struct s_conn *c)
{
    return !c->in_flight && c->in_len == 0 && c->body_left == 0;
}

/* TLS: moves what the bufferevent read into in. */
static void s_tls_pull(struct s_conn *c)
{
    if (!c->bev || c->in_len == c->in_cap ||
        evbuffer_get_length(bufferevent_get_input(c->bev)) == 0)
        return;
    if (s_area_take(c) != 0) {
        s_close(c);
        return;
    }
    int n = evbuffer_remove(bufferevent_get_input(c->bev), c->area->in + c->in_len,
                            c->in_cap - c->in_len);
    if (n > 0)
        c->in_len += (size_t)n;
}

static void s_on_readable(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct s_conn *c = arg;
    if (c->in_len == c->in_cap) {
        event_del(c->rev);
        c->reading = false;
        return;
    }
    bool starts = s_starts_request(c);
    if (s_area_take(c) != 0) {
        s_close(c);
        s_unref(c);
        return;
    }
    ssize_t n = read(fd, c->area->in + c->in_len, c->in_cap - c->in_len);
    if (n > 0) {
        if (starts)
            s_deadline_from_now(c);
        c->in_len += (size_t)n;
    } else if (n == 0) {
        c->eof = true;
        event_del(c->rev);
        c->reading = false;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        return;
    } else {
        s_close(c);
    }
    s_process(c);
}

static void s_tls_on_read(struct bufferevent *bev, void *arg)
{
    (void)bev;
    struct s_conn *c = arg;
    bool starts = s_starts_request(c);
    size_t before = c->in_len;
    s_tls_pull(c);
    if (starts && c->in_len > before)
        s_deadline_from_now(c);
    s_process(c);
}

/* Hands the next complete request in the input to the frontend, as long as
 * nothing else is in flight or waiting to be written; closes the connection
 * when it is done. Frees c when it is dead and unreferenced. */
static void s_process(struct s_conn *c)
{
    if (c->processing)
        return;
    struct http_server *s = c->s;
    c->processing = true;
    while (!c->dead && !c->in_flight && !c->close_after && c->pending == 0) {
        s_tls_pull(c);
        if (c->body_left) {
            size_t n = c->body_left < c->in_len ? (size_t)c->body_left : c->in_len;
            s_consume(c, n);
            c->body_left -= n;
            if (c->body_left)
                break;
        }
        /* Empty lines before a request are ignored (RFC 9112 2.2). */
        size_t k = 0;
        while (k < c->in_len) {
            if (c->area->in[k] == '\n')
                k++;
            else if (c->area->in[k] == '\r' && k + 1 < c->in_len && c->area->in[k + 1] == '\n')
                k += 2;
            else
                break;
        }
        if (k)
            s_consume(c, k);
        if (c->in_len == 0)
            break;
        size_t hl = http1_head_length(c->area->in, c->in_len, &c->scan);
        enum http1_result err = HTTP1_OK;
        if (hl == 0) {
            if (c->in_len < s->max_header_bytes && c->in_len < c->in_cap)
                break; /* wait for the rest (or EOF) */
            hl = c->in_len;
            err = HTTP1_ERR_HEAD_TOO_LARGE;
        } else if (hl > s->max_header_bytes) {
            err = HTTP1_ERR_HEAD_TOO_LARGE;
        }
        struct http_request *req = &c->area->req;
        enum http1_result pr = http1_parse(c->area->in, hl, &req->head);
        if (err == HTTP1_OK)
            err = pr;
        if (err == HTTP1_OK && req->head.content_length > s->max_body_bytes)
            err = HTTP1_ERR_BODY_TOO_LARGE;
        req->error = err;
        c->body_left = err == HTTP1_OK ? req->head.content_length : 0;
        c->head_len = hl;
        c->in_flight = true;
        c->deadline_ms = 0;
        c->reply_failed = false;
        buf_reset(&c->area->reply);
        static const char room[S_STATUS_ROOM];
        if (buf_append(&c->area->reply, room, sizeof(room)) != 0)
            c->reply_failed = true;
        s->n_unsent++;
        s->on_request(s->arg, req);
    }
    c->processing = false;
    if (s_unref(c) || c->dead)
        return;
    s_area_give_back(c, false);
    if (!c->in_flight && c->pending == 0 && (c->eof || c->close_after)) {
        s_close(c);
        s_unref(c);
        return;
    }
    if (c->rev && !c->reading && !c->eof && c->in_len < c->in_cap) {
        event_add(c->rev, NULL);
        c->reading = true;
    }
    if (c->bev && c->reading && c->in_len == c->in_cap) {
        bufferevent_disable(c->bev, EV_READ);
        c->reading = false;
    } else if (c->bev && !c->reading && !c->eof && c->in_len < c->in_cap) {
        bufferevent_enable(c->bev, EV_READ);
        c->reading = true;
    }
}

/* -- output --------------------------------------------------------------- */

/* All queued replies are out. */
static void s_written(struct s_conn *c)
{
    struct http_server *s = c->s;
    s->n_unsent -= c->pending <= s->n_unsent ? c->pending : s->n_unsent;
    c->pending = 0;
    if (c->in_flight)
        c->deadline_ms = 0;
    else
        s_deadline_from_now(c);
}

static void s_on_writable(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct s_conn *c = arg;
    int n = evbuffer_write(c->out, fd);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        s_close(c);
        s_unref(c);
        return;
    }
    if (evbuffer_get_length(c->out) > 0) {
        if (n > 0)
            s_deadline_from_now(c);
        return;
    }
    event_del(c->wev);
    s_written(c);
    s_process(c);
}

static void s_tls_on_write(struct bufferevent *bev, void *arg)
{
    (void)bev;
    struct s_conn *c = arg;
    if (c->pending == 0)
        return;
    s_written(c);
    s_process(c);
}

static void s_tls_on_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    struct s_conn *c = arg;
    if (what & BEV_EVENT_ERROR) {
        s_close(c);
        s_unref(c);
        return;
    }
    if (what & BEV_EVENT_EOF) {
        c->eof = true;
        s_process(c);
    }
}

/* Queues body by reference (or a copy without release) behind what is
 * in o; the body is released either way. -1 when memory runs out. */
static int s_queue_body(struct evbuffer *o, const void *body, size_t len,
                        http_body_release_fn release, void *arg)
{
    if (len == 0) {
        if (release)
            release(body, len, arg);
        return 0;
    }
    if (release && evbuffer_add_reference(o, body, len, release, arg) == 0)
        return 0;
    int rc = evbuffer_add(o, body, len);
    if (release)
        release(body, len, arg);
    return rc;
}

/* Writes head + body, on plain sockets directly when nothing is queued. */
static void s_write(struct s_conn *c, const char *head, size_t hlen, const void *body, size_t blen,
                    http_body_release_fn release, void *arg)
{
    struct http_server *s = c->s;
    if (c->bev) {
        struct evbuffer *o = bufferevent_get_output(c->bev);
        int rc = evbuffer_add(o, head, hlen);
        if (s_queue_body(o, body, blen, release, arg) != 0 || rc != 0) {
            s->n_unsent--;
            s_close(c);
            return;
        }
        c->pending++;
        s_deadline_from_now(c);
        return;
    }
    size_t done = 0;
    if (evbuffer_get_length(c->out) == 0) {
        struct iovec iov[2] = {{(void *)head, hlen}, {(void *)body, blen}};
        struct msghdr m;
        memset(&m, 0, sizeof(m));
        m.msg_iov = iov;
        m.msg_iovlen = blen ? 2 : 1;
        ssize_t n = sendmsg(c->fd, &m, MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            if (release)
                release(body, blen, arg);
            s->n_unsent--;
            s_close(c);
            return;
        }
        done = n > 0 ? (size_t)n : 0;
        if (done == hlen + blen) {
            if (release)
                release(body, blen, arg);
            s->n_unsent--;
            s_deadline_from_now(c);
            return;
        }
    }
    int rc = done < hlen ? evbuffer_add(c->out, head + done, hlen - done) : 0;
    size_t boff = done > hlen ? done - hlen : 0;
    if (s_queue_body(c->out, (const char *)body + boff, blen - boff, release, arg) != 0 ||
        rc != 0) {
        s->n_unsent--;
        s_close(c);
        return;
    }
    c->pending++;
    event_add(c->wev, NULL);
    s_deadline_from_now(c);
}

int http_response_header(struct http_request *r, const char *name, const char *value)
{
    struct s_conn *c = r->conn;
    size_t n = strlen(name), v = strlen(value);
    struct buf *b = &c->area->reply;
    if (buf_append_fast(b, name, n) != 0 || buf_append_fast(b, ": ", 2) != 0 ||
        buf_append_fast(b, value, v) != 0 || buf_append_fast(b, "\r\n", 2) != 0) {
        c->reply_failed = true;
        return -1;
    }
    return 0;
}

int http_response_lines(struct http_request *r, const char *lines, size_t len)
{
    if (buf_append_fast(&r->conn->area->reply, lines, len) != 0) {
        r->conn->reply_failed = true;
        return -1;
    }
    return 0;
}

void http_response_send(struct http_request *r, int status, const void *body, size_t len,
                        http_body_release_fn release, void *release_arg)
{
    struct s_conn *c = r->conn;
    struct http_server *s = c->s;
    c->in_flight = false;
    if (c->dead || c->reply_failed) {
        if (release)
            release(body, len, release_arg);
        if (s->n_unsent)
            s->n_unsent--;
        s_close(c);
        s_unref(c);
        return;
    }
    bool no_body = r->head.method == HTTP1_M_HEAD || status == 204 || status == 304 || status < 200;
    bool keep = r->error == HTTP1_OK && r->head.keep_alive && !s->draining;
    struct buf *b = &c->area->reply;
    const char *date;
    size_t date_len;
    s_date(s, &date, &date_len);
    int rc = buf_append_fast(b, date, date_len);
    if (status != 204 && status != 304 && status >= 200) {
        char num[24];
        size_t n = s_u64(num, len);
        rc |= buf_append_fast(b, "Content-Length: ", 16);
        rc |= buf_append_fast(b, num, n);
        rc |= buf_append_fast(b, "\r\n", 2);
    }
    if (!keep)
        rc |= buf_append_fast(b, "Connection: close\r\n\r\n", 21);
    else if (r->head.minor == 0)
        rc |= buf_append_fast(b, "Connection: keep-alive\r\n\r\n", 26);
    else
        rc |= buf_append_fast(b, "\r\n", 2);
    /* The status line, right-aligned in the room left at the front. */
    char line[S_STATUS_ROOM];
    const char *reason = s_reason(status);
    size_t rl = strlen(reason);
    if (status < 100 || status > 999 || rl > S_STATUS_ROOM - 16)
        rc = -1;
    if (rc != 0) {
        if (release)
            release(body, len, release_arg);
        s->n_unsent--;
        s_close(c);
        s_unref(c);
        return;
    }
    memcpy(line, "HTTP/1.1 ", 9);
    line[9] = (char)('0' + status / 100);
    line[10] = (char)('0' + status / 10 % 10);
    line[11] = (char)('0' + status % 10);
    line[12] = ' ';
    memcpy(line + 13, reason, rl);
    memcpy(line + 13 + rl, "\r\n", 2);
    size_t ll = 13 + rl + 2;
    char *start = b->data + S_STATUS_ROOM - ll;
    memcpy(start, line, ll);
    c->close_after = !keep;
    if (no_body)
        s_write(c, start, b->len - (S_STATUS_ROOM - ll), NULL, 0, NULL, NULL);
    else
        s_write(c, start, b->len - (S_STATUS_ROOM - ll), body, len, release, release_arg);
    if (no_body && release)
        release(body, len, release_arg);
    if (!c->dead)
        s_consume(c, c->head_len);
    c->head_len = 0;
    if (!c->processing)
        s_process(c); /* the next pipelined request, or the close; may free c */
}

/* -- the request ------------------------------------------------------------ */

const struct http1_request *http_request_head(const struct http_request *r)
{
    return &r->head;
}

enum http1_result http_request_error(const struct http_request *r)
{
    return r->error;
}

void http_request_peer(const struct http_request *r, char *out, size_t len)
{
    const struct sockaddr_storage *ss = &r->conn->peer;
    char addr[INET6_ADDRSTRLEN + 8];
    unsigned port = 0;
    out[0] = '\0';
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
        if (!inet_ntop(AF_INET, &in->sin_addr, addr, sizeof(addr)))
            return;
        port = ntohs(in->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
        if (!inet_ntop(AF_INET6, &in6->sin6_addr, addr, sizeof(addr)))
            return;
        port = ntohs(in6->sin6_port);
    } else {
        return;
    }
    char tmp[INET6_ADDRSTRLEN + 16];
    size_t n = strlen(addr);
    memcpy(tmp, addr, n);
    tmp[n++] = ':';
    n += s_u64(tmp + n, port);
    if (len == 0)
        return;
    if (n > len - 1)
        n = len - 1;
    memcpy(out, tmp, n);
    out[n] = '\0';
}

SSL *http_request_ssl(const struct http_request *r)
{
    return r->conn->bev ? bufferevent_openssl_get_ssl(r->conn->bev) : NULL;
}

/* -- accepting (listener.h guards against floods) -------------------------- */

static void s_on_accept(void *arg, int fd, const struct sockaddr *sa, socklen_t salen)
{
    struct http_server *s = arg;
    struct s_conn *c = calloc(1, sizeof(*c));
    if (!c) {
        evutil_closesocket(fd);
        listener_closed(s->listener);
        return;
    }
    c->s = s;
    c->fd = fd;
    c->in_cap = s->in_cap;
    if (salen > 0 && (size_t)salen <= sizeof(c->peer))
        memcpy(&c->peer, sa, (size_t)salen);
    c->timer = evtimer_new(s->base, s_on_timer, c);
    if (!c->timer)
        goto fail;
    if (s->ssl_ctx) {
        SSL *ssl = SSL_new(s->ssl_ctx);
        if (!ssl)
            goto fail;
        c->bev = bufferevent_openssl_socket_new(s->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                                BEV_OPT_CLOSE_ON_FREE);
        if (!c->bev) {
            SSL_free(ssl);
            goto fail;
        }
        bufferevent_setcb(c->bev, s_tls_on_read, s_tls_on_write, s_tls_on_event, c);
        bufferevent_enable(c->bev, EV_READ | EV_WRITE);
        c->reading = true;
    } else {
        c->rev = event_new(s->base, fd, EV_READ | EV_PERSIST, s_on_readable, c);
        c->wev = event_new(s->base, fd, EV_WRITE | EV_PERSIST, s_on_writable, c);
        c->out = evbuffer_new();
        if (!c->rev || !c->wev || !c->out || event_add(c->rev, NULL) != 0)
            goto fail;
        c->reading = true;
    }
    s_deadline_from_now(c);
    s_arm(c, s->timeout_ms);
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    return;
fail:
    listener_closed(s->listener);
    if (c->bev)
        bufferevent_free(c->bev);
    else
        evutil_closesocket(fd);
    if (c->rev)
        event_free(c->rev);
    if (c->wev)
        event_free(c->wev);
    if (c->out)
        evbuffer_free(c->out);
    if (c->timer)
        event_free(c->timer);
    s_free(c);
}

struct http_server *http_server_new(const struct http_server_options *o, struct buf *err)
{
    struct http_server *s = calloc(1, sizeof(*s));
    if (!s) {
        buf_append_str(err, "out of memory");
        return NULL;
    }
    s->base = o->base;
    s->ssl_ctx = o->ssl_ctx;
    s->max_header_bytes = o->max_header_bytes;
    s->in_cap = o->max_header_bytes > S_IN_MIN ? o->max_header_bytes : S_IN_MIN;
    s->max_body_bytes = o->max_body_bytes;
    s->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 1;
    s->on_request = o->on_request;
    s->arg = o->arg;
    s->date_s = (time_t)-1;

    struct listener_options lo = {
        .base = o->base,
        .host = o->host,
        .port = o->port,
        .name = "http",
        .max_connections = o->max_connections,
        .start_paused = o->start_paused,
        .on_accept = s_on_accept,
        .arg = s,
    };
    s->listener = listener_new(&lo, err);
    if (!s->listener)
        goto fail;
    s->port = listener_port(s->listener);
    return s;
fail:
    http_server_free(s);
    return NULL;
}

int http_server_port(const struct http_server *s)
{
    return s->port;
}

void http_server_stop_accepting(struct http_server *s)
{
    s->draining = true;
    if (s->listener)
        listener_stop(s->listener);
}

void http_server_start(struct http_server *s)
{
    listener_start(s->listener);
}

void http_server_set_ssl_ctx(struct http_server *s, SSL_CTX *ctx)
{
    s->ssl_ctx = ctx;
}

bool http_server_accepting(const struct http_server *s)
{
    return listener_accepting(s->listener);
}

size_t http_server_unsent(const struct http_server *s)
{
    return s->n_unsent;
}

void http_server_free(struct http_server *s)
{
    if (!s)
        return;
    while (s->conns) {
        struct s_conn *c = s->conns;
        s_close(c);
        c->in_flight = false; /* contract: nothing is still with the frontend */
        s_unref(c);
    }
    listener_free(s->listener);
    while (s->spare) {
        struct s_area *a = s->spare;
        s->spare = a->next_spare;
        s_area_free(a);
    }
    free(s);
}
