/*
 * h2_server - see h2_server.h.
 *
 * Ownership: a connection (s_conn) owns its nghttp2 session, its
 * bufferevent and the streams on its list. A stream is on the list from its
 * first HEADERS until it is freed or detached; it is freed when both
 * nghttp2 has closed it and the owner is done with it (never delivered, or
 * ended/abandoned). Connections are only closed from event callbacks, never
 * from inside nghttp2's callbacks (those mark the connection instead).
 */
#include "h2_server.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <jansson.h>
#include <malloc.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "clock.h"
#include "listener.h"
#include "log.h"

#define S_HIGH_WATER (256u * 1024u) /* output queued before reading pauses */
#define S_PING_BURST 4              /* PINGs allowed at once beyond the rate */
#define S_LOG_EVERY_MS 5000
/* nghttp2 blocks this large get pages of their own (s_mem_*), so that an
 * idle connection can give them back (s_trim) */
#define S_PAGE_BLOCK 4096
#define S_MAX_PAGE_BLOCKS 8
/* nghttp2 1.52's frame buffer: NGHTTP2_FRAMEBUF_CHUNKLEN (16 KiB) plus a
 * frame header and a padding byte, malloc'ed once in session_new */
#define S_FRAMEBUF_BYTES (16384 + 9 + 1)

struct s_chunk {
    struct s_chunk *next;
    const uint8_t *data;
    size_t len, off;
    h2_release_fn release;
    void *hold;
};

struct s_conn;

/* Bytes stored inline first, on the heap past that: a typical request's
 * headers and body, and an answer's trailers, cost no allocation. */
struct s_arena {
    char *p; /* inline or heap */
    size_t len, cap;
    bool heap;
};

static void s_arena_init(struct s_arena *a, char *inline_mem, size_t cap)
{
    a->p = inline_mem;
    a->len = 0;
    a->cap = cap;
    a->heap = false;
}

static int s_arena_append(struct s_arena *a, const void *data, size_t n)
{
    if (a->len + n > a->cap) {
        size_t cap = a->cap * 2;
        while (cap < a->len + n)
            cap *= 2;
        char *p = a->heap ? realloc(a->p, cap) : malloc(cap);
        if (!p)
            return -1;
        if (!a->heap)
            memcpy(p, a->p, a->len);
        a->p = p;
        a->cap = cap;
        a->heap = true;
    }
    memcpy(a->p + a->len, data, n);
    a->len += n;
    return 0;
}

static void s_arena_free(struct s_arena *a)
{
    if (a->heap)
        free(a->p);
    a->heap = false;
    a->len = 0;
}

#define S_INLINE_CHUNK 16
#define S_SPARE_STREAMS 256
#define S_MAX_INLINE_TRAILERS 6

struct h2_stream {
    struct s_conn *conn; /* NULL once detached */
    struct h2_stream *next, *prev;
    int32_t id;
    bool delivered;  /* handed to the owner */
    bool owner_done; /* ended or abandoned by the owner */
    bool responded;
    bool ended;
    bool nghttp2_closed;
    bool headers_too_large;
    bool body_too_large;
    bool streaming; /* handed over at its headers; body through reader */
    h2_reader_fn reader;
    void *reader_arg;
    size_t header_bytes;
    size_t n_headers;
    struct s_arena hdrs; /* "name\0value\0" ... */
    struct s_arena body;
    struct s_chunk *head, **tail;
    nghttp2_nv trailers[S_MAX_INLINE_TRAILERS];
    size_t n_trailers;
    struct s_arena trailer_mem;
    struct s_chunk small; /* one small copied write (a message prefix) */
    bool small_used;
    uint8_t small_data[S_INLINE_CHUNK];
    char hdrs_inline[640];
    char body_inline[128];
    char trailers_inline[256];
    char peer[64];
};

/* A block nghttp2 holds in pages of its own. */
struct s_page_block {
    void *p;
    size_t len;        /* the mapping, whole pages */
    bool frame_buffer; /* holds nothing between frames (see s_trim) */
};

struct s_conn {
    struct h2_server *s;
    nghttp2_mem mem; /* nghttp2's allocator: this connection's */
    struct s_page_block blocks[S_MAX_PAGE_BLOCKS];
    size_t n_blocks;
    bool creating;   /* inside nghttp2_session_server_new3 */
    bool trimmed;    /* pages given back since the last activity */
    int64_t busy_ms; /* last time a stream was open or output queued */
    struct s_conn *next, *prev;
    struct bufferevent *bev;
    nghttp2_session *ng;
    struct event *timer;
    struct event *flush_ev;
    struct h2_stream *streams;
    char peer[64];
    size_t n_open; /* streams nghttp2 has open */
    int64_t accepted_ms, idle_since_ms, goaway_ms, armed_ms;
    double ping_tokens;
    int64_t ping_ms;
    bool established; /* the client's SETTINGS arrived */
    bool sent_since_ping;
    bool goaway; /* GOAWAY sent: close once the last stream is done */
    bool close_after_flush;
    bool dead; /* closing: nghttp2 callbacks do nothing */
    bool read_paused;
};

struct h2_server {
    struct event_base *base;
    struct listener *listener;
    SSL_CTX *ssl_ctx;
    struct h2_server_options o;
    char name[16];
    nghttp2_session_callbacks *cbs;
    nghttp2_option *opt;
    struct s_conn *conns;
    size_t n_held;           /* delivered, not yet ended by the owner */
    struct h2_stream *spare; /* freed streams kept for reuse */
    size_t n_spare;
    bool draining;
    uint64_t shed;
    int64_t last_log_ms;
};

static void s_conn_close(struct s_conn *c);
static void s_schedule(struct s_conn *c);

/* -- nghttp2's memory ------------------------------------------------------- */

/* Blocks of S_PAGE_BLOCK bytes or more (the frame buffer, the stream map,
 * grown HPACK rings) are mapped on their own: pages nghttp2 never writes
 * are never resident, and s_trim can hand written ones back. Smaller ones
 * are malloc's. */
static size_t s_page_size(void)
{
    static size_t ps;
    if (!ps) {
        long v = sysconf(_SC_PAGESIZE);
        ps = v > 0 ? (size_t)v : 4096;
    }
    return ps;
}

static struct s_page_block *s_block_of(struct s_conn *c, void *p)
{
    for (size_t i = 0; p && i < c->n_blocks; i++)
        if (c->blocks[i].p == p)
            return &c->blocks[i];
    return NULL;
}

static void *s_block_new(struct s_conn *c, size_t size)
{
    if (c->n_blocks == S_MAX_PAGE_BLOCKS)
        return NULL;
    size_t ps = s_page_size(), len = (size + ps - 1) / ps * ps;
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    c->blocks[c->n_blocks++] = (struct s_page_block){
        .p = p, .len = len, .frame_buffer = c->creating && size == S_FRAMEBUF_BYTES};
    return p;
}

static void s_block_free(struct s_conn *c, struct s_page_block *b)
{
    munmap(b->p, b->len);
    *b = c->blocks[--c->n_blocks];
}

static void *s_mem_malloc(size_t size, void *user)
{
    struct s_conn *c = user;
    void *p = size >= S_PAGE_BLOCK ? s_block_new(c, size) : NULL;
    return p ? p : malloc(size);
}

static void s_mem_free(void *p, void *user)
{
    struct s_page_block *b = s_block_of(user, p);
    if (b)
        s_block_free(user, b);
    else
        free(p);
}

static void *s_mem_calloc(size_t n, size_t size, void *user)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    struct s_conn *c = user;
    void *p = n * size >= S_PAGE_BLOCK ? s_block_new(c, n * size) : NULL;
    return p ? p : calloc(n, size); /* a fresh mapping is zeroed already */
}

static void *s_mem_realloc(void *p, size_t size, void *user)
{
    struct s_conn *c = user;
    struct s_page_block *b = s_block_of(c, p);
    if (!b && size < S_PAGE_BLOCK)
        return realloc(p, size);
    if (b && size <= b->len)
        return p;
    void *q = s_mem_malloc(size, c);
    if (!q || !p)
        return q;
    size_t old = b ? b->len : malloc_usable_size(p);
    memcpy(q, p, old < size ? old : size);
    s_mem_free(p, c);
    return q;
}

/* An idle connection (no stream, nothing to send) gives its pages back:
 * the frame buffer's (nghttp2 writes each frame afresh, so between frames
 * its bytes are dead) and, of any other block, the pages that hold only
 * zeros (an empty stream map): a page dropped with MADV_DONTNEED reads as
 * zeros again, so those are unchanged. */
static void s_trim(struct s_conn *c)
{
    c->trimmed = true; /* until the next activity, whether or not it could */
    if (c->n_open || nghttp2_session_want_write(c->ng) ||
        evbuffer_get_length(bufferevent_get_output(c->bev)))
        return;
    size_t ps = s_page_size();
    for (size_t i = 0; i < c->n_blocks; i++) {
        struct s_page_block *b = &c->blocks[i];
        if (b->frame_buffer) {
            (void)madvise(b->p, b->len, MADV_DONTNEED);
            continue;
        }
        unsigned char vec[64];
        size_t pages = b->len / ps;
        if (pages > sizeof(vec) || mincore(b->p, b->len, vec) != 0)
            continue;
        for (size_t k = 0; k < pages; k++) {
            const uint64_t *w = (const uint64_t *)((char *)b->p + k * ps);
            if (!(vec[k] & 1)) /* not resident: nothing to give back (and no read) */
                continue;
            size_t j = 0;
            while (j < ps / sizeof(*w) && w[j] == 0)
                j++;
            if (j == ps / sizeof(*w))
                (void)madvise((char *)b->p + k * ps, ps, MADV_DONTNEED);
        }
    }
}

/* -- streams -------------------------------------------------------------- */

static void s_chunks_free(struct h2_stream *st)
{
    while (st->head) {
        struct s_chunk *k = st->head;
        st->head = k->next;
        if (k->release)
            k->release(k->data, k->len, k->hold);
        if (k != &st->small)
            free(k);
    }
    st->tail = &st->head;
}

/* s: the server to give st back to for reuse (NULL: free it). */
static void s_stream_free(struct h2_stream *st, struct h2_server *s)
{
    s_chunks_free(st);
    s_arena_free(&st->hdrs);
    s_arena_free(&st->body);
    s_arena_free(&st->trailer_mem);
    if (s && s->n_spare < S_SPARE_STREAMS) {
        st->next = s->spare;
        s->spare = st;
        s->n_spare++;
        return;
    }
    free(st);
}

static void s_unlink(struct h2_stream *st)
{
    struct s_conn *c = st->conn;
    if (!c)
        return;
    if (st->prev)
        st->prev->next = st->next;
    else
        c->streams = st->next;
    if (st->next)
        st->next->prev = st->prev;
    st->next = st->prev = NULL;
    st->conn = NULL;
}

/* Tells the reader of a stream handed over early (if the owner still holds
 * it). The reader may end or abandon st. */
static void s_read(struct h2_stream *st, enum h2_read what, const uint8_t *data, size_t len)
{
    if (st->streaming && !st->owner_done && st->reader)
        st->reader(st->reader_arg, st, what, data, len);
}

/* nghttp2 is done with st (closed, or the connection is going): free it,
 * or leave it detached with the owner (a streaming owner is told). */
static void s_stream_gone(struct h2_stream *st)
{
    struct s_conn *c = st->conn;
    if (c && st->delivered && !st->owner_done && c->s->n_held)
        c->s->n_held--; /* detached: no longer the server's to wait for */
    s_unlink(st);
    st->nghttp2_closed = true;
    if (!st->delivered || st->owner_done) {
        s_stream_free(st, c ? c->s : NULL);
        return;
    }
    s_chunks_free(st); /* nothing will send them */
    s_read(st, H2_READ_GONE, NULL, 0);
}

static struct h2_stream *s_stream(struct s_conn *c, int32_t id)
{
    return nghttp2_session_get_stream_user_data(c->ng, id);
}

const char *h2_stream_header(const struct h2_stream *st, const char *name)
{
    const char *p = st->hdrs.p;
    for (size_t i = 0; i < st->n_headers; i++) {
        size_t n = strlen(p);
        const char *v = p + n + 1;
        if (strcmp(p, name) == 0)
            return v;
        p = v + strlen(v) + 1;
    }
    return NULL;
}

size_t h2_stream_header_count(const struct h2_stream *st, const char *name)
{
    size_t count = 0;
    const char *p = st->hdrs.p;
    for (size_t i = 0; i < st->n_headers; i++) {
        size_t n = strlen(p);
        const char *v = p + n + 1;
        count += strcmp(p, name) == 0;
        p = v + strlen(v) + 1;
    }
    return count;
}

const uint8_t *h2_stream_body(const struct h2_stream *st, size_t *len)
{
    *len = st->body.len;
    return (const uint8_t *)st->body.p;
}

bool h2_stream_body_too_large(const struct h2_stream *st)
{
    return st->body_too_large;
}

bool h2_stream_headers_too_large(const struct h2_stream *st)
{
    return st->headers_too_large;
}

const char *h2_stream_peer(const struct h2_stream *st)
{
    return st->peer;
}

SSL *h2_stream_ssl(const struct h2_stream *st)
{
    return st->conn && st->conn->bev ? bufferevent_openssl_get_ssl(st->conn->bev) : NULL;
}

bool h2_stream_detached(const struct h2_stream *st)
{
    return st->conn == NULL;
}

bool h2_stream_streaming(const struct h2_stream *st)
{
    return st->streaming;
}

void h2_stream_set_reader(struct h2_stream *st, h2_reader_fn fn, void *arg)
{
    st->reader = fn;
    st->reader_arg = arg;
}

static ssize_t s_read_data(nghttp2_session *ng, int32_t id, uint8_t *out, size_t length,
                           uint32_t *flags, nghttp2_data_source *src, void *user)
{
    (void)user;
    struct h2_stream *st = src->ptr;
    size_t n = 0;
    while (n < length && st->head) {
        struct s_chunk *k = st->head;
        size_t take = k->len - k->off;
        if (take > length - n)
            take = length - n;
        memcpy(out + n, k->data + k->off, take);
        n += take;
        k->off += take;
        if (k->off == k->len) {
            st->head = k->next;
            if (!st->head)
                st->tail = &st->head;
            if (k->release)
                k->release(k->data, k->len, k->hold);
            if (k != &st->small)
                free(k);
        }
    }
    if (!st->head && st->ended) {
        *flags |= NGHTTP2_DATA_FLAG_EOF;
        if (st->n_trailers && nghttp2_submit_trailer(ng, id, st->trailers, st->n_trailers) == 0)
            *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
    } else if (n == 0) {
        return NGHTTP2_ERR_DEFERRED;
    }
    return (ssize_t)n;
}

int h2_stream_respond(struct h2_stream *st, const nghttp2_nv *nv, size_t n, bool end)
{
    if (st->responded)
        return -1;
    st->responded = true;
    struct s_conn *c = st->conn;
    if (end) {
        if (c) {
            (void)nghttp2_submit_response(c->ng, st->id, nv, n, NULL);
            s_schedule(c);
        }
        st->ended = true;
        h2_stream_end(st, NULL, 0);
        return 0;
    }
    if (!c)
        return 0;
    nghttp2_data_provider dp = {.source.ptr = st, .read_callback = s_read_data};
    if (nghttp2_submit_response(c->ng, st->id, nv, n, &dp) != 0)
        return -1;
    s_schedule(c);
    return 0;
}

int h2_stream_write(struct h2_stream *st, const void *data, size_t len, h2_release_fn release,
                    void *hold)
{
    if (!st->conn || len == 0) {
        if (release)
            release(data, len, hold);
        return 0;
    }
    struct s_chunk *k;
    if (!release && len <= S_INLINE_CHUNK && !st->small_used) {
        st->small_used = true;
        k = &st->small;
        memset(k, 0, sizeof(*k));
        memcpy(st->small_data, data, len);
        k->data = st->small_data;
        k->len = len;
        *st->tail = k;
        st->tail = &k->next;
        (void)nghttp2_session_resume_data(st->conn->ng, st->id);
        s_schedule(st->conn);
        return 0;
    }
    k = calloc(1, sizeof(*k) + (release ? 0 : len));
    if (!k) {
        if (release)
            release(data, len, hold);
        return -1;
    }
    if (release) {
        k->data = data;
        k->release = release;
        k->hold = hold;
    } else {
        memcpy(k + 1, data, len);
        k->data = (const uint8_t *)(k + 1);
    }
    k->len = len;
    *st->tail = k;
    st->tail = &k->next;
    (void)nghttp2_session_resume_data(st->conn->ng, st->id);
    s_schedule(st->conn);
    return 0;
}

static void s_owner_done(struct h2_stream *st)
{
    if (st->delivered && !st->owner_done) {
        struct h2_server *s = st->conn ? st->conn->s : NULL;
        if (s && s->n_held)
            s->n_held--;
    }
    st->owner_done = true;
}

/* Streams detached from their server are not counted any more (see
 * s_conn_close), so only attached ones decrement n_held. */
void h2_stream_end(struct h2_stream *st, const nghttp2_nv *trailers, size_t n)
{
    s_owner_done(st);
    if (!st->conn) {
        s_stream_free(st, NULL);
        return;
    }
    if (!st->responded) { /* nothing to end: reset instead */
        h2_stream_abandon(st);
        return;
    }
    st->ended = true;
    if (n > S_MAX_INLINE_TRAILERS)
        n = S_MAX_INLINE_TRAILERS; /* owners send a handful */
    if (n && !st->n_trailers) {
        size_t bytes = 0;
        for (size_t i = 0; i < n; i++)
            bytes += trailers[i].namelen + trailers[i].valuelen;
        struct s_arena *a = &st->trailer_mem;
        if (bytes > a->cap) { /* one block: the pointers below stay valid */
            char *p = malloc(bytes);
            if (p) {
                a->p = p;
                a->cap = bytes;
                a->heap = true;
            }
        }
        if (bytes <= a->cap) {
            for (size_t i = 0; i < n; i++) {
                nghttp2_nv *t = &st->trailers[i];
                t->name = (uint8_t *)a->p + a->len;
                (void)s_arena_append(a, trailers[i].name, trailers[i].namelen);
                t->value = (uint8_t *)a->p + a->len;
                (void)s_arena_append(a, trailers[i].value, trailers[i].valuelen);
                t->namelen = trailers[i].namelen;
                t->valuelen = trailers[i].valuelen;
                t->flags = NGHTTP2_NV_FLAG_NONE;
            }
            st->n_trailers = n;
        }
    }
    struct s_conn *c = st->conn;
    if (st->nghttp2_closed) {
        s_stream_gone(st);
    } else {
        (void)nghttp2_session_resume_data(c->ng, st->id);
    }
    s_schedule(c);
}

void h2_stream_abandon(struct h2_stream *st)
{
    s_owner_done(st);
    struct s_conn *c = st->conn;
    if (!c) {
        s_stream_free(st, NULL);
        return;
    }
    s_chunks_free(st);
    if (!st->nghttp2_closed)
        (void)nghttp2_submit_rst_stream(c->ng, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_CANCEL);
    else
        s_stream_gone(st);
    s_schedule(c);
}

/* -- nghttp2 callbacks ------------------------------------------------------ */

static int s_on_begin_headers(nghttp2_session *ng, const nghttp2_frame *f, void *user)
{
    struct s_conn *c = user;
    if (c->dead || f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    struct h2_server *s = c->s;
    struct h2_stream *st = s->spare;
    if (st) {
        s->spare = st->next;
        s->n_spare--;
        memset(st, 0, offsetof(struct h2_stream, hdrs_inline));
    } else if (!(st = calloc(1, sizeof(*st)))) {
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    st->id = f->hd.stream_id;
    st->conn = c;
    st->tail = &st->head;
    s_arena_init(&st->hdrs, st->hdrs_inline, sizeof(st->hdrs_inline));
    s_arena_init(&st->body, st->body_inline, sizeof(st->body_inline));
    s_arena_init(&st->trailer_mem, st->trailers_inline, sizeof(st->trailers_inline));
    memcpy(st->peer, c->peer, sizeof(st->peer));
    st->next = c->streams;
    if (c->streams)
        c->streams->prev = st;
    c->streams = st;
    c->n_open++;
    c->trimmed = false;
    nghttp2_session_set_stream_user_data(ng, st->id, st);
    return 0;
}

static int s_on_header(nghttp2_session *ng, const nghttp2_frame *f, const uint8_t *name,
                       size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                       void *user)
{
    (void)flags;
    (void)ng;
    struct s_conn *c = user;
    if (c->dead || f->hd.type != NGHTTP2_HEADERS)
        return 0;
    struct h2_stream *st = s_stream(c, f->hd.stream_id);
    if (!st || st->delivered)
        return 0;                                /* trailers of a request: nothing of ours */
    st->header_bytes += namelen + valuelen + 32; /* RFC 9113 6.5.2 accounting */
    if (st->header_bytes > c->s->o.max_header_list_bytes) {
        st->headers_too_large = true;
        return 0;
    }
    if (memchr(name, 0, namelen) || memchr(value, 0, valuelen))
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    if (s_arena_append(&st->hdrs, name, namelen) || s_arena_append(&st->hdrs, "", 1) ||
        s_arena_append(&st->hdrs, value, valuelen) || s_arena_append(&st->hdrs, "", 1))
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    st->n_headers++;
    return 0;
}

static int s_on_data_chunk(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *data,
                           size_t len, void *user)
{
    (void)ng;
    (void)flags;
    struct s_conn *c = user;
    if (c->dead)
        return 0;
    struct h2_stream *st = s_stream(c, id);
    if (st && st->streaming) {
        s_read(st, H2_READ_DATA, data, len);
        return 0;
    }
    if (!st || st->delivered || st->body_too_large)
        return 0;
    if (st->body.len + len > c->s->o.max_body_bytes) {
        st->body_too_large = true;
        s_arena_free(&st->body);
        s_arena_init(&st->body, st->body_inline, sizeof(st->body_inline));
        return 0;
    }
    if (s_arena_append(&st->body, data, len) != 0)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    return 0;
}

static void s_log(struct h2_server *s, const char *event, const char *peer, const char *why)
{
    int64_t now = clock_mono_ms();
    if (s->last_log_ms && now - s->last_log_ms < S_LOG_EVERY_MS)
        return;
    s->last_log_ms = now;
    char name[48];
    snprintf(name, sizeof(name), "%s_%s", s->name, event);
    log_event(LOG_WARN, name, json_pack("{s:s,s:s}", "peer", peer, "reason", why));
}

static bool s_ping_allowed(struct s_conn *c)
{
    if (c->sent_since_ping) { /* answers went out since the last PING: free */
        c->sent_since_ping = false;
        return true;
    }
    double rate = c->s->o.max_pings_per_s;
    int64_t now = clock_mono_ms();
    c->ping_tokens += (double)(now - c->ping_ms) * rate / 1000.0;
    if (c->ping_tokens > rate + S_PING_BURST)
        c->ping_tokens = rate + S_PING_BURST;
    c->ping_ms = now;
    if (c->ping_tokens < 1.0)
        return false;
    c->ping_tokens -= 1.0;
    return true;
}

static int s_on_frame_recv(nghttp2_session *ng, const nghttp2_frame *f, void *user)
{
    struct s_conn *c = user;
    if (c->dead)
        return 0;
    switch (f->hd.type) {
    case NGHTTP2_SETTINGS:
        if (!(f->hd.flags & NGHTTP2_FLAG_ACK) && !c->established) {
            c->established = true;
            c->idle_since_ms = clock_mono_ms();
        }
        return 0;
    case NGHTTP2_PING:
        if (!(f->hd.flags & NGHTTP2_FLAG_ACK) && c->s->o.max_pings_per_s && !s_ping_allowed(c)) {
            s_log(c->s, "ping_flood", c->peer, "more PINGs than max_pings_per_s");
            (void)nghttp2_session_terminate_session(ng, NGHTTP2_ENHANCE_YOUR_CALM);
            c->close_after_flush = true;
        }
        return 0;
    case NGHTTP2_HEADERS:
    case NGHTTP2_DATA:
        break;
    default:
        return 0;
    }
    struct h2_stream *st = s_stream(c, f->hd.stream_id);
    if (!st)
        return 0;
    bool end = f->hd.flags & NGHTTP2_FLAG_END_STREAM;
    if (st->streaming) {
        if (end)
            s_read(st, H2_READ_END, NULL, 0);
        return 0;
    }
    if (st->delivered)
        return 0;
    if (!end) { /* more to come: hand over now only if the owner asks */
        const struct h2_server_options *o = &c->s->o;
        if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST ||
            !o->wants_stream || !o->wants_stream(o->arg, st))
            return 0;
        st->streaming = true;
    }
    st->delivered = true;
    c->s->n_held++;
    c->s->o.on_stream(c->s->o.arg, st);
    return 0;
}

static int s_on_frame_send(nghttp2_session *ng, const nghttp2_frame *f, void *user)
{
    (void)ng;
    struct s_conn *c = user;
    if (f->hd.type == NGHTTP2_DATA || f->hd.type == NGHTTP2_HEADERS)
        c->sent_since_ping = true;
    return 0;
}

static int s_on_stream_close(nghttp2_session *ng, int32_t id, uint32_t code, void *user)
{
    (void)code;
    struct s_conn *c = user;
    if (c->dead)
        return 0;
    struct h2_stream *st = nghttp2_session_get_stream_user_data(ng, id);
    if (!st)
        return 0;
    nghttp2_session_set_stream_user_data(ng, id, NULL);
    s_stream_gone(st);
    if (c->n_open && --c->n_open == 0)
        c->idle_since_ms = c->busy_ms = clock_mono_ms();
    return 0;
}

/* -- connections ------------------------------------------------------------ */

/* What a connection holds (any part may be missing), and c itself. */
static void s_conn_free(struct s_conn *c)
{
    if (c->ng)
        nghttp2_session_del(c->ng);
    while (c->n_blocks) /* none should be left: nghttp2 freed its own */
        s_block_free(c, &c->blocks[0]);
    if (c->bev)
        bufferevent_free(c->bev); /* closes the socket, frees the SSL */
    if (c->timer)
        event_free(c->timer);
    if (c->flush_ev)
        event_free(c->flush_ev);
    free(c);
}

static void s_conn_close(struct s_conn *c)
{
    struct h2_server *s = c->s;
    c->dead = true;
    while (c->streams) {
        s_stream_gone(c->streams);
    }
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    if (s->listener)
        listener_closed(s->listener);
    s_conn_free(c);
}

static void s_schedule(struct s_conn *c)
{
    if (c && !c->dead)
        event_active(c->flush_ev, EV_WRITE, 0);
}

/* The next deadline of c's timer (0 = none). */
static int64_t s_deadline(const struct s_conn *c)
{
    const struct h2_server_options *o = &c->s->o;
    int64_t d = 0;
#define S_MIN(x)                                                                                   \
    do {                                                                                           \
        int64_t v_ = (x);                                                                          \
        if (d == 0 || v_ < d)                                                                      \
            d = v_;                                                                                \
    } while (0)
    if (!c->established)
        S_MIN(c->accepted_ms + o->handshake_timeout_ms);
    else if (c->n_open == 0 && o->idle_timeout_ms > 0 && !c->goaway)
        S_MIN(c->idle_since_ms + o->idle_timeout_ms);
    if (o->max_age_ms > 0 && !c->goaway)
        S_MIN(c->accepted_ms + o->max_age_ms);
    if (c->goaway && c->goaway_ms)
        S_MIN(c->goaway_ms + o->max_age_grace_ms);
    if (c->established && o->idle_trim_ms > 0 && !c->trimmed && c->n_open == 0)
        S_MIN(c->busy_ms + o->idle_trim_ms);
#undef S_MIN
    return d;
}

static void s_arm(struct s_conn *c)
{
    int64_t d = s_deadline(c);
    if (d == c->armed_ms)
        return;
    c->armed_ms = d;
    if (!d) {
        evtimer_del(c->timer);
        return;
    }
    int64_t left = d - clock_mono_ms();
    if (left < 0)
        left = 0;
    struct timeval tv = {(time_t)(left / 1000), (suseconds_t)((left % 1000) * 1000)};
    evtimer_add(c->timer, &tv);
}

static void s_goaway(struct s_conn *c, uint32_t code)
{
    if (c->goaway)
        return;
    c->goaway = true;
    (void)nghttp2_submit_goaway(c->ng, NGHTTP2_FLAG_NONE,
                                nghttp2_session_get_last_proc_stream_id(c->ng), code, NULL, 0);
}

static void s_flush(struct s_conn *c)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);
    for (;;) {
        if (evbuffer_get_length(out) >= S_HIGH_WATER)
            break;
        const uint8_t *data;
        ssize_t n = nghttp2_session_mem_send(c->ng, &data);
        if (n < 0) {
            s_conn_close(c);
            return;
        }
        if (n == 0)
            break;
        c->trimmed = false;
        c->busy_ms = clock_mono_ms();
        if (evbuffer_add(out, data, (size_t)n) != 0) {
            s_conn_close(c);
            return;
        }
    }
    bool full = evbuffer_get_length(out) >= S_HIGH_WATER;
    if (full && !c->read_paused) {
        c->read_paused = true;
        bufferevent_disable(c->bev, EV_READ);
    } else if (!full && c->read_paused && !c->close_after_flush) {
        c->read_paused = false;
        bufferevent_enable(c->bev, EV_READ);
    }
    bool done = (!nghttp2_session_want_read(c->ng) && !nghttp2_session_want_write(c->ng)) ||
                c->close_after_flush || (c->goaway && c->n_open == 0);
    if (done && !nghttp2_session_want_write(c->ng)) {
        if (evbuffer_get_length(out) == 0) {
            s_conn_close(c);
            return;
        }
        c->close_after_flush = true; /* s_on_write closes once it is out */
        bufferevent_disable(c->bev, EV_READ);
    }
    s_arm(c);
}

static void s_on_flush(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    s_flush(arg);
}

static void s_on_read(struct bufferevent *bev, void *arg)
{
    struct s_conn *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    size_t len;
    while ((len = evbuffer_get_length(in)) > 0 && !c->close_after_flush) {
        size_t n = evbuffer_get_contiguous_space(in);
        const uint8_t *p = evbuffer_pullup(in, (ssize_t)n);
        ssize_t used = nghttp2_session_mem_recv(c->ng, p, n);
        if (used < 0) {
            c->close_after_flush = true; /* nghttp2 queued its GOAWAY */
            evbuffer_drain(in, len);
            break;
        }
        evbuffer_drain(in, (size_t)used);
    }
    s_flush(c);
}

static void s_on_write(struct bufferevent *bev, void *arg)
{
    struct s_conn *c = arg;
    (void)bev;
    s_flush(c);
}

static void s_on_event(struct bufferevent *bev, short what, void *arg)
{
    struct s_conn *c = arg;
    if (what & BEV_EVENT_CONNECTED) { /* TLS handshake done */
        SSL *ssl = bufferevent_openssl_get_ssl(bev);
        const unsigned char *alpn = NULL;
        unsigned alpn_len = 0;
        if (ssl)
            SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
        if (ssl && !(alpn_len == 2 && memcmp(alpn, "h2", 2) == 0)) { /* h2 only */
            s_conn_close(c);
            return;
        }
        s_flush(c);
        return;
    }
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
        s_conn_close(c);
}

static void s_on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct s_conn *c = arg;
    const struct h2_server_options *o = &c->s->o;
    int64_t now = clock_mono_ms();
    c->armed_ms = 0;
    if (c->established && o->idle_trim_ms > 0 && !c->trimmed && c->n_open == 0 &&
        now >= c->busy_ms + o->idle_trim_ms)
        s_trim(c);
    if (!c->established && now >= c->accepted_ms + o->handshake_timeout_ms) {
        s_conn_close(c); /* no TLS, preface or SETTINGS in time */
        return;
    }
    if (c->goaway && c->goaway_ms && now >= c->goaway_ms + o->max_age_grace_ms) {
        s_conn_close(c);
        return;
    }
    if (c->n_open == 0 && o->idle_timeout_ms > 0 && !c->goaway &&
        now >= c->idle_since_ms + o->idle_timeout_ms) {
        s_goaway(c, NGHTTP2_NO_ERROR);
    } else if (o->max_age_ms > 0 && !c->goaway && now >= c->accepted_ms + o->max_age_ms) {
        s_goaway(c, NGHTTP2_NO_ERROR);
        c->goaway_ms = now;
    }
    s_flush(c);
}

static void s_peer_text(char *out, size_t len, const struct sockaddr *sa)
{
    char addr[INET6_ADDRSTRLEN];
    out[0] = '\0';
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        if (inet_ntop(AF_INET, &in->sin_addr, addr, sizeof(addr)))
            snprintf(out, len, "ipv4:%s:%u", addr, (unsigned)ntohs(in->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        if (inet_ntop(AF_INET6, &in6->sin6_addr, addr, sizeof(addr)))
            snprintf(out, len, "ipv6:[%s]:%u", addr, (unsigned)ntohs(in6->sin6_port));
    }
}

static void s_on_accept(void *arg, int fd, const struct sockaddr *sa, socklen_t salen)
{
    (void)salen;
    struct h2_server *s = arg;
    struct s_conn *c = calloc(1, sizeof(*c));
    SSL *ssl = NULL;
    if (!c)
        goto fail;
    c->s = s;
    c->accepted_ms = clock_mono_ms();
    c->busy_ms = c->accepted_ms;
    c->ping_ms = c->accepted_ms;
    c->ping_tokens = s->o.max_pings_per_s + S_PING_BURST;
    s_peer_text(c->peer, sizeof(c->peer), sa);
    if (s->ssl_ctx) {
        ssl = SSL_new(s->ssl_ctx);
        if (!ssl)
            goto fail;
        c->bev = bufferevent_openssl_socket_new(s->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                                BEV_OPT_CLOSE_ON_FREE);
    } else {
        c->bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
    }
    if (!c->bev)
        goto fail;
    fd = -1;
    ssl = NULL;
    c->timer = evtimer_new(s->base, s_on_timer, c);
    c->flush_ev = event_new(s->base, -1, 0, s_on_flush, c);
    c->mem = (nghttp2_mem){.mem_user_data = c,
                           .malloc = s_mem_malloc,
                           .free = s_mem_free,
                           .calloc = s_mem_calloc,
                           .realloc = s_mem_realloc};
    c->creating = true;
    int ng_rc = c->timer && c->flush_ev
                    ? nghttp2_session_server_new3(&c->ng, s->cbs, c, s->opt, &c->mem)
                    : -1;
    c->creating = false;
    if (ng_rc != 0)
        goto fail;
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, s->o.max_concurrent_streams},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, s->o.max_header_list_bytes},
    };
    if (nghttp2_submit_settings(c->ng, NGHTTP2_FLAG_NONE, iv, 2) != 0)
        goto fail;
    bufferevent_setcb(c->bev, s_on_read, s_on_write, s_on_event, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    if (s->draining) /* accepted just before the listener closed */
        s_goaway(c, NGHTTP2_NO_ERROR);
    s_flush(c);
    return;
fail:
    if (ssl)
        SSL_free(ssl);
    if (fd >= 0)
        evutil_closesocket(fd);
    if (c)
        s_conn_free(c);
    listener_closed(s->listener);
}

/* -- the server ------------------------------------------------------------- */

static int s_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                         const unsigned char *in, unsigned int inlen, void *arg)
{
    (void)ssl;
    (void)arg;
    for (const unsigned char *p = in; p < in + inlen && p + 1 + *p <= in + inlen; p += 1 + *p) {
        if (*p == 2 && memcmp(p + 1, "h2", 2) == 0) {
            *out = p + 1;
            *outlen = 2;
            return SSL_TLSEXT_ERR_OK;
        }
    }
    return SSL_TLSEXT_ERR_ALERT_FATAL; /* no_application_protocol */
}

struct h2_server *h2_server_new(const struct h2_server_options *o, struct buf *err)
{
    struct h2_server *s = calloc(1, sizeof(*s));
    if (!s) {
        buf_append_str(err, "out of memory");
        return NULL;
    }
    s->base = o->base;
    s->o = *o;
    s->ssl_ctx = o->ssl_ctx;
    snprintf(s->name, sizeof(s->name), "%s", o->name ? o->name : "h2");
    if (nghttp2_session_callbacks_new(&s->cbs) != 0 || nghttp2_option_new(&s->opt) != 0) {
        buf_append_str(err, "out of memory");
        goto fail;
    }
    nghttp2_session_callbacks_set_on_begin_headers_callback(s->cbs, s_on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(s->cbs, s_on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(s->cbs, s_on_data_chunk);
    nghttp2_session_callbacks_set_on_frame_recv_callback(s->cbs, s_on_frame_recv);
    nghttp2_session_callbacks_set_on_frame_send_callback(s->cbs, s_on_frame_send);
    nghttp2_session_callbacks_set_on_stream_close_callback(s->cbs, s_on_stream_close);
    /* Limits nghttp2 enforces itself: a CONTINUATION flood ends the
     * connection, so does a rapid-reset flood; the client's
     * SETTINGS_MAX_CONCURRENT_STREAMS is ours. */
    nghttp2_option_set_max_continuations(s->opt, o->max_continuations);
    if (o->max_resets_per_s)
        nghttp2_option_set_stream_reset_rate_limit(s->opt, 10u * o->max_resets_per_s,
                                                   o->max_resets_per_s);
    nghttp2_option_set_max_outbound_ack(s->opt, 256);
    nghttp2_option_set_max_settings(s->opt, 32);
    /* Memory per connection: closed streams are not kept around (no
     * priority tree here), so an idle connection's stream map is empty
     * (and its page is given back, s_trim); the answers' headers are not
     * put in an HPACK table of ours (content-type and grpc-status cost ~30
     * bytes more per answer, a table of entries less per connection). */
    nghttp2_option_set_no_closed_streams(s->opt, 1);
    nghttp2_option_set_max_deflate_dynamic_table_size(s->opt, 0);
    if (s->ssl_ctx)
        SSL_CTX_set_alpn_select_cb(s->ssl_ctx, s_alpn_select, NULL);
    struct listener_options lo = {
        .base = o->base,
        .host = o->host,
        .port = o->port,
        .name = s->name,
        .max_connections = o->max_connections,
        .start_paused = o->start_paused,
        .on_accept = s_on_accept,
        .arg = s,
    };
    s->listener = listener_new(&lo, err);
    if (!s->listener)
        goto fail;
    return s;
fail:
    h2_server_free(s);
    return NULL;
}

int h2_server_port(const struct h2_server *s)
{
    return listener_port(s->listener);
}

void h2_server_stop_accepting(struct h2_server *s)
{
    s->draining = true;
    listener_stop(s->listener);
    for (struct s_conn *c = s->conns; c; c = c->next) {
        s_goaway(c, NGHTTP2_NO_ERROR);
        s_schedule(c);
    }
}

void h2_server_start(struct h2_server *s)
{
    listener_start(s->listener);
}

void h2_server_set_ssl_ctx(struct h2_server *s, SSL_CTX *ctx)
{
    s->ssl_ctx = ctx;
    if (ctx)
        SSL_CTX_set_alpn_select_cb(ctx, s_alpn_select, NULL);
}

bool h2_server_accepting(const struct h2_server *s)
{
    return listener_accepting(s->listener);
}

size_t h2_server_unsent(const struct h2_server *s)
{
    size_t n = s->n_held;
    for (const struct s_conn *c = s->conns; c; c = c->next)
        n += evbuffer_get_length(bufferevent_get_output(c->bev)) +
             (size_t)nghttp2_session_want_write(c->ng);
    return n;
}

uint64_t h2_server_shed(const struct h2_server *s)
{
    return listener_shed(s->listener);
}

void h2_server_free(struct h2_server *s)
{
    if (!s)
        return;
    while (s->conns)
        s_conn_close(s->conns);
    listener_free(s->listener);
    while (s->spare) {
        struct h2_stream *st = s->spare;
        s->spare = st->next;
        free(st);
    }
    nghttp2_session_callbacks_del(s->cbs);
    nghttp2_option_del(s->opt);
    free(s);
}
