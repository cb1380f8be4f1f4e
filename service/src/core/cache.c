/*
 * cache - pages keyed by normalized upstream query + identity; TTL/SWR/SIE
 * windows, byte budget with LRU eviction, per-entry serialized views.
 * See cache.h. No I/O, no clock, no threads.
 */
#include "cache.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Rough per-allocation overhead of malloc, counted in the budget so that
 * many tiny strings cannot hide memory from it. */
#define S_ALLOC_OVERHEAD 16
#define S_MIN_BUCKETS 64

struct s_view {
    struct cache_view v; /* key and body point into v.hold_'s block */
    size_t bytes;
};

/* One allocation per view: the count, then the key (NUL-terminated), then
 * the body. The cache holds one reference while the view is stored. */
struct cache_hold {
    unsigned refs;
    char data[];
};

struct cache_hold *cache_view_hold(const struct cache_view *v)
{
    v->hold_->refs++;
    return v->hold_;
}

struct cache_hold *cache_hold_ref(struct cache_hold *h)
{
    h->refs++;
    return h;
}

void cache_view_release(struct cache_hold *h)
{
    if (h && --h->refs == 0)
        free(h);
}

struct cache_entry {
    struct cache_entry *hnext;               /* hash chain */
    struct cache_entry *lru_prev, *lru_next; /* lru_next toward older */
    uint64_t hash;
    char *key;
    size_t key_len;
    struct jobs_response page;
    int64_t stored_ms;
    size_t page_bytes; /* entry + key + page */
    size_t bytes;      /* page_bytes + views */
    struct s_view *views;
    size_t n_views;
};

struct cache {
    struct cache_options o;
    struct cache_entry **buckets;
    size_t n_buckets; /* power of two */
    struct cache_entry *mru, *lru;
    struct cache_stats st;
};

const char *cache_state_str(enum cache_state s)
{
    switch (s) {
    case CACHE_FRESH:
        return "fresh";
    case CACHE_STALE_SWR:
        return "stale_while_revalidate";
    case CACHE_STALE_SIE:
        return "stale_if_error";
    default:
        return "miss";
    }
}

uint64_t cache_hash(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

void cache_etag(const void *body, size_t len, char out[20])
{
    /* Seeded differently from the index hash so the two never coincide. */
    const unsigned char *p = body;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ (uint64_t)len;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    snprintf(out, 20, "\"%016" PRIx64 "\"", h);
}

/* Decimal of v appended without printf (the key is built per request). */
static int s_key_int(struct buf *out, char tag, int64_t v)
{
    char tmp[24];
    char *p = tmp + sizeof(tmp);
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    *--p = tag;
    *--p = '|';
    return buf_append_fast(out, p, (size_t)(tmp + sizeof(tmp) - p));
}

static int s_key_str(struct buf *out, char tag, const char *s)
{
    if (!s)
        return buf_append_fast(out, (char[]){'|', tag, '-'}, 3);
    size_t n = strlen(s);
    if (s_key_int(out, tag, (int64_t)n) != 0 || buf_append_fast(out, ":", 1) != 0)
        return -1;
    return buf_append_fast(out, s, n);
}

static int s_key_time(struct buf *out, char tag, bool has, struct bgw_time t)
{
    if (!has)
        return buf_append_fast(out, (char[]){'|', tag, '-'}, 3);
    return s_key_int(out, tag, t.seconds) != 0 || s_key_int(out, '.', t.nanos) != 0 ? -1 : 0;
}

int cache_key_build(const char *identity, const struct jobs_request *q, int64_t default_max_results,
                    struct buf *out)
{
    int64_t max_results = q->has_max_results ? q->max_results : default_max_results;
    int sort_by = q->sort_by ? q->sort_by : JOBS_SORT_BY_CREATION_TIME;
    int sort_order = q->sort_order ? q->sort_order : JOBS_SORT_ORDER_DESCENDING;
    if (buf_append_fast(out, "v1", 2) != 0 || s_key_str(out, 'i', identity) != 0 ||
        s_key_time(out, 'a', q->has_creation_time_after, q->creation_time_after) != 0 ||
        s_key_time(out, 'b', q->has_creation_time_before, q->creation_time_before) != 0 ||
        s_key_int(out, 's', q->status_equals) != 0 || s_key_int(out, 'm', max_results) != 0 ||
        s_key_int(out, 'o', sort_by) != 0 || s_key_int(out, 'r', sort_order) != 0 ||
        s_key_str(out, 'n', q->name_contains) != 0 || s_key_str(out, 't', q->next_token) != 0)
        return -1;
    return 0;
}

/* --- page memory --------------------------------------------------------- */

static size_t s_str_bytes(const char *s)
{
    return s ? strlen(s) + 1 + S_ALLOC_OVERHEAD : 0;
}

static size_t s_page_bytes(const struct jobs_response *p)
{
    size_t n = S_ALLOC_OVERHEAD + p->n_summaries * sizeof(struct jobs_summary) +
               s_str_bytes(p->next_token);
    for (size_t i = 0; i < p->n_summaries; i++) {
        const struct jobs_summary *s = &p->summaries[i];
        n += s_str_bytes(s->job_arn) + s_str_bytes(s->job_name) +
             s_str_bytes(s->imported_model_arn) + s_str_bytes(s->imported_model_name);
    }
    return n;
}

static int s_dup(const char *s, char **out)
{
    *out = NULL;
    if (!s)
        return 0;
    *out = strdup(s);
    return *out ? 0 : -1;
}

int cache_page_copy(const struct jobs_response *src, struct jobs_response *dst)
{
    memset(dst, 0, sizeof(*dst));
    if (src->n_summaries) {
        dst->summaries = calloc(src->n_summaries, sizeof(*dst->summaries));
        if (!dst->summaries)
            return -1;
    }
    for (size_t i = 0; i < src->n_summaries; i++) {
        const struct jobs_summary *s = &src->summaries[i];
        struct jobs_summary *d = &dst->summaries[i];
        *d = *s;
        d->job_arn = d->job_name = d->imported_model_arn = d->imported_model_name = NULL;
        dst->n_summaries = i + 1;
        if (s_dup(s->job_arn, &d->job_arn) || s_dup(s->job_name, &d->job_name) ||
            s_dup(s->imported_model_arn, &d->imported_model_arn) ||
            s_dup(s->imported_model_name, &d->imported_model_name))
            goto fail;
    }
    if (s_dup(src->next_token, &dst->next_token))
        goto fail;
    return 0;
fail:
    jobs_response_clean_up(dst);
    memset(dst, 0, sizeof(*dst));
    return -1;
}

/* --- index and LRU ------------------------------------------------------- */

struct cache *cache_new(const struct cache_options *o)
{
    struct cache *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->o = *o;
    c->n_buckets = S_MIN_BUCKETS;
    c->buckets = calloc(c->n_buckets, sizeof(*c->buckets));
    if (!c->buckets) {
        free(c->buckets);
        free(c);
        return NULL;
    }
    return c;
}

const struct cache_options *cache_options(const struct cache *c)
{
    return &c->o;
}

static void s_entry_free(struct cache_entry *e)
{
    for (size_t i = 0; i < e->n_views; i++)
        cache_view_release(e->views[i].v.hold_);
    free(e->views);
    jobs_response_clean_up(&e->page);
    free(e->key);
    free(e);
}

void cache_destroy(struct cache *c)
{
    if (!c)
        return;
    struct cache_entry *e = c->mru;
    while (e) {
        struct cache_entry *n = e->lru_next;
        s_entry_free(e);
        e = n;
    }
    free(c->buckets);
    free(c);
}

static void s_lru_unlink(struct cache *c, struct cache_entry *e)
{
    if (e->lru_prev)
        e->lru_prev->lru_next = e->lru_next;
    else
        c->mru = e->lru_next;
    if (e->lru_next)
        e->lru_next->lru_prev = e->lru_prev;
    else
        c->lru = e->lru_prev;
    e->lru_prev = e->lru_next = NULL;
}

static void s_lru_push(struct cache *c, struct cache_entry *e)
{
    e->lru_prev = NULL;
    e->lru_next = c->mru;
    if (c->mru)
        c->mru->lru_prev = e;
    c->mru = e;
    if (!c->lru)
        c->lru = e;
}

static struct cache_entry **s_slot(struct cache *c, const char *key, size_t key_len, uint64_t hash)
{
    struct cache_entry **pp = &c->buckets[hash & (c->n_buckets - 1)];
    while (*pp) {
        struct cache_entry *e = *pp;
        if (e->hash == hash && e->key_len == key_len && memcmp(e->key, key, key_len) == 0)
            return pp;
        pp = &e->hnext;
    }
    return pp;
}

/* Unlinks and frees e. */
static void s_drop(struct cache *c, struct cache_entry *e)
{
    struct cache_entry **pp = s_slot(c, e->key, e->key_len, e->hash);
    if (*pp == e)
        *pp = e->hnext;
    s_lru_unlink(c, e);
    c->st.entries--;
    c->st.bytes -= e->bytes;
    s_entry_free(e);
}

static void s_grow(struct cache *c)
{
    size_t nb = c->n_buckets * 2;
    struct cache_entry **b = calloc(nb, sizeof(*b));
    if (!b)
        return; /* chains just get longer */
    for (size_t i = 0; i < c->n_buckets; i++) {
        struct cache_entry *e = c->buckets[i];
        while (e) {
            struct cache_entry *n = e->hnext;
            size_t j = e->hash & (nb - 1);
            e->hnext = b[j];
            b[j] = e;
            e = n;
        }
    }
    free(c->buckets);
    c->buckets = b;
    c->n_buckets = nb;
}

/* Evicts LRU entries (never keep) until need more bytes fit. */
static int s_make_room(struct cache *c, size_t need, const struct cache_entry *keep)
{
    if (need > c->o.max_bytes)
        return -1;
    struct cache_entry *e = c->lru;
    while (c->st.bytes + need > c->o.max_bytes && e) {
        struct cache_entry *prev = e->lru_prev;
        if (e != keep) {
            s_drop(c, e);
            c->st.evictions++;
        }
        e = prev;
    }
    return c->st.bytes + need > c->o.max_bytes ? -1 : 0;
}

static int64_t s_dead_after(const struct cache *c)
{
    int64_t w = c->o.swr_ms > c->o.sie_ms ? c->o.swr_ms : c->o.sie_ms;
    return c->o.ttl_ms + w;
}

enum cache_state cache_entry_state(const struct cache *c, const struct cache_entry *e,
                                   int64_t now_ms)
{
    int64_t age = now_ms - e->stored_ms;
    if (age < 0)
        age = 0;
    if (age < c->o.ttl_ms)
        return CACHE_FRESH;
    if (age < c->o.ttl_ms + c->o.swr_ms)
        return CACHE_STALE_SWR;
    if (age < c->o.ttl_ms + c->o.sie_ms)
        return CACHE_STALE_SIE;
    return CACHE_MISS;
}

static void s_touch(struct cache *c, struct cache_entry *e)
{
    if (c->mru != e) {
        s_lru_unlink(c, e);
        s_lru_push(c, e);
    }
}

struct cache_entry *cache_lookup(struct cache *c, const char *key, size_t key_len, int64_t now_ms,
                                 enum cache_state *state)
{
    *state = CACHE_MISS;
    uint64_t h = cache_hash(key, key_len);
    struct cache_entry *e = *s_slot(c, key, key_len, h);
    enum cache_state st = e ? cache_entry_state(c, e, now_ms) : CACHE_MISS;
    if (e && st == CACHE_MISS) {
        s_drop(c, e);
        c->st.expirations++;
        e = NULL;
    }
    if (e) {
        s_touch(c, e);
        *state = st;
    }
    return e;
}

struct cache_entry *cache_store(struct cache *c, const char *key, size_t key_len,
                                struct jobs_response *page, int64_t now_ms)
{
    size_t bytes = sizeof(struct cache_entry) + S_ALLOC_OVERHEAD + key_len + 1 + s_page_bytes(page);
    if (bytes > c->o.max_entry_bytes || bytes > c->o.max_bytes) {
        c->st.rejected_large++;
        return NULL;
    }
    struct cache_entry *e = calloc(1, sizeof(*e));
    char *k = malloc(key_len + 1);
    if (!e || !k) {
        free(e);
        free(k);
        return NULL;
    }
    memcpy(k, key, key_len);
    k[key_len] = '\0';
    uint64_t h = cache_hash(key, key_len);
    struct cache_entry *old = *s_slot(c, key, key_len, h);
    if (old)
        s_drop(c, old);
    if (s_make_room(c, bytes, NULL) != 0) { /* cannot happen: bytes <= max_bytes */
        free(e);
        free(k);
        return NULL;
    }
    e->hash = h;
    e->key = k;
    e->key_len = key_len;
    e->page = *page;
    memset(page, 0, sizeof(*page));
    e->stored_ms = now_ms;
    e->page_bytes = e->bytes = bytes;
    if (c->st.entries + 1 > c->n_buckets)
        s_grow(c);
    struct cache_entry **slot = &c->buckets[h & (c->n_buckets - 1)];
    e->hnext = *slot;
    *slot = e;
    s_lru_push(c, e);
    c->st.entries++;
    c->st.bytes += bytes;
    return e;
}

void cache_remove(struct cache *c, const char *key, size_t key_len)
{
    uint64_t h = cache_hash(key, key_len);
    struct cache_entry *e = *s_slot(c, key, key_len, h);
    if (e)
        s_drop(c, e);
}

size_t cache_sweep(struct cache *c, int64_t now_ms, size_t max_work)
{
    size_t dropped = 0;
    int64_t dead_after = s_dead_after(c);
    struct cache_entry *e = c->lru;
    for (size_t i = 0; e && i < max_work; i++) {
        struct cache_entry *prev = e->lru_prev;
        if (now_ms - e->stored_ms >= dead_after) {
            s_drop(c, e);
            c->st.expirations++;
            dropped++;
        }
        e = prev;
    }
    return dropped;
}

void cache_get_stats(const struct cache *c, struct cache_stats *out)
{
    *out = c->st;
}

/* --- entries ------------------------------------------------------------- */

const struct jobs_response *cache_entry_page(const struct cache_entry *e)
{
    return &e->page;
}

int64_t cache_entry_stored_ms(const struct cache_entry *e)
{
    return e->stored_ms;
}

int64_t cache_entry_age_ms(const struct cache_entry *e, int64_t now_ms)
{
    int64_t age = now_ms - e->stored_ms;
    return age < 0 ? 0 : age;
}

int64_t cache_entry_ttl_left_ms(const struct cache *c, const struct cache_entry *e, int64_t now_ms)
{
    int64_t left = c->o.ttl_ms - cache_entry_age_ms(e, now_ms);
    return left < 0 ? 0 : left;
}

const struct cache_view *cache_entry_view(const struct cache_entry *e, const char *view_key,
                                          size_t view_key_len)
{
    for (size_t i = 0; i < e->n_views; i++) {
        const struct cache_view *v = &e->views[i].v;
        if (v->key_len == view_key_len && memcmp(v->key, view_key, view_key_len) == 0)
            return v;
    }
    return NULL;
}

static const struct cache_view *s_add_view(struct cache *c, struct cache_entry *e,
                                           const char *view_key, size_t view_key_len,
                                           const void *body, size_t body_len,
                                           const struct cache_view_meta *meta)
{
    size_t bytes = sizeof(struct s_view) + S_ALLOC_OVERHEAD + view_key_len + 1 + body_len;
    size_t idx = e->n_views;
    size_t replaced = 0;
    for (size_t i = 0; i < e->n_views; i++) {
        const struct cache_view *v = &e->views[i].v;
        if (v->key_len == view_key_len && memcmp(v->key, view_key, view_key_len) == 0) {
            idx = i;
            replaced = e->views[i].bytes;
        }
    }
    if (idx == e->n_views && e->n_views >= CACHE_MAX_VIEWS_PER_ENTRY)
        return NULL;
    if (e->bytes - replaced + bytes > c->o.max_entry_bytes) {
        c->st.rejected_large++;
        return NULL;
    }
    if (s_make_room(c, bytes, e) != 0)
        return NULL;
    struct cache_hold *hold = malloc(sizeof(*hold) + view_key_len + 1 + body_len);
    if (!hold)
        return NULL;
    hold->refs = 1;
    char *mem = hold->data;
    if (idx == e->n_views) {
        struct s_view *nv = realloc(e->views, (e->n_views + 1) * sizeof(*nv));
        if (!nv) {
            free(hold);
            return NULL;
        }
        e->views = nv;
        e->n_views++;
    } else {
        cache_view_release(e->views[idx].v.hold_);
        e->bytes -= replaced;
        c->st.bytes -= replaced;
    }
    memcpy(mem, view_key, view_key_len);
    mem[view_key_len] = '\0';
    if (body_len)
        memcpy(mem + view_key_len + 1, body, body_len);
    struct s_view *sv = &e->views[idx];
    sv->v.hold_ = hold;
    sv->v.key = mem;
    sv->v.key_len = view_key_len;
    sv->v.body = (const unsigned char *)mem + view_key_len + 1;
    sv->v.body_len = body_len;
    cache_etag(body, body_len, sv->v.etag);
    if (meta)
        sv->v.meta = *meta;
    else
        memset(&sv->v.meta, 0, sizeof(sv->v.meta));
    sv->bytes = bytes;
    e->bytes += bytes;
    c->st.bytes += bytes;
    return &sv->v;
}

const struct cache_view *cache_entry_add_view(struct cache *c, struct cache_entry *e,
                                              const char *view_key, size_t view_key_len,
                                              const void *body, size_t body_len,
                                              const struct cache_view_meta *meta)
{
    const struct cache_view *v = s_add_view(c, e, view_key, view_key_len, body, body_len, meta);
    return v;
}

/* Does the If-None-Match list hold etag (or "*")? */
bool cache_etag_list_match(const char *inm, const char *etag)
{
    if (!inm || !etag[0])
        return false;
    size_t n = strlen(etag);
    for (const char *p = inm; *p;) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        if (*p == '*')
            return true;
        if (p[0] == 'W' && p[1] == '/') /* weak comparison for If-None-Match */
            p += 2;
        if (strncmp(p, etag, n) == 0 && (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
            return true;
        while (*p && *p != ',')
            p++;
    }
    return false;
}
