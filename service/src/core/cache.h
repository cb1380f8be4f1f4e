/*
 * cache - the I/O-free core of the response cache: upstream pages of
 * ListModelImportJobs, keyed by the normalized upstream query plus the
 * upstream identity (endpoint, region, credential principal).
 *
 * It owns the entries (each a deep copy of one upstream page, plus the
 * serialized "views" the gateway derives from it per tenant and transport),
 * a hash index, an LRU list and the byte accounting. Every entry has a
 * lifetime split into three windows measured from when it was stored:
 *
 *   [0, ttl)                fresh: served as is
 *   [ttl, ttl+swr)          stale-while-revalidate: may be served at once
 *                           while one refresh runs in the background
 *   [ttl, ttl+sie)          stale-if-error: may be served when a refresh
 *                           fails with a retryable upstream error
 *   past both               dead: never served, dropped lazily/by sweep
 *
 * Memory stays under max_bytes whatever the traffic: storing evicts least
 * recently used entries first; a page (or view) bigger than max_entry_bytes
 * is never stored. Time is passed in (now_ms, monotonic): no clock reads, no
 * I/O, no threads of its own.
 *
 * Threads: one thread (the loop) owns the cache and is the only one that
 * stores, drops or adds views, and the only one that may use the entry and
 * view pointers the functions below return. No locks.
 *
 * What is NOT here: coalescing, background refresh and deadlines (the
 * loop-side page_cache), tenant policy (applied after the cache).
 */
#ifndef BGW_CACHE_H
#define BGW_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "jobs.h"
#include "status.h"

/* Defaults (config "cache.*", README). */
#define CACHE_DEFAULT_TTL_MS 5000
#define CACHE_DEFAULT_SWR_MS 5000
#define CACHE_DEFAULT_SIE_MS 60000
#define CACHE_DEFAULT_MAX_BYTES (64u * 1024u * 1024u)
#define CACHE_DEFAULT_MAX_ENTRY_BYTES (4u * 1024u * 1024u)
#define CACHE_MAX_VIEWS_PER_ENTRY 64 /* distinct tenant/transport renderings kept */

struct cache_options {
    int64_t ttl_ms;         /* > 0 */
    int64_t swr_ms;         /* >= 0 */
    int64_t sie_ms;         /* >= 0 */
    size_t max_bytes;       /* total budget: entries, keys, views, bookkeeping */
    size_t max_entry_bytes; /* larger pages/views are not stored */
};

/* Where an entry stands at a given time. */
enum cache_state {
    CACHE_MISS = 0,  /* no usable entry */
    CACHE_FRESH,     /* age < ttl */
    CACHE_STALE_SWR, /* within the stale-while-revalidate window */
    CACHE_STALE_SIE, /* past ttl (and swr), usable only if a refresh fails */
};
const char *cache_state_str(enum cache_state s);

struct cache_stats {
    uint64_t entries;
    uint64_t bytes;
    uint64_t evictions;      /* dropped to make room (LRU) */
    uint64_t expirations;    /* dropped because dead */
    uint64_t rejected_large; /* pages/views not stored: over max_entry_bytes */
};

/* One serialized rendering of an entry (a tenant's REST JSON, gRPC bytes).
 * Borrowed from the cache: valid until the next call that may store or
 * drop (cache_store, cache_entry_add_view, cache_sweep, cache_lookup). */
/* What the caller keeps about a view besides its bytes (the gateway: the
 * answer's item count and whether it has a next page, for the audit line of
 * a call answered from the view). Opaque to the cache. */
struct cache_view_meta {
    int64_t items;
    bool more;
};

struct cache_view {
    const char *key; /* the caller's view key */
    size_t key_len;
    const unsigned char *body;
    size_t body_len;
    char etag[20];               /* "\"<16 hex>\"": strong validator over body */
    struct cache_view_meta meta; /* as given to cache_entry_add_view (zero if none) */
    struct cache_hold *hold_;    /* internal: the counted block holding key and body */
};

/* A counted reference to a view's bytes, for a reply that is still being
 * written after the cache may have dropped or replaced the view (REST: the
 * body goes out by reference from the connection's buffer; gRPC: from the
 * stream's output queue). While held, v->body[0..body_len) stays valid and unchanged, even
 * past the view's own validity (see above). Every cache_view_hold needs one
 * cache_view_release. Held bytes of a view the cache has
 * dropped no longer count against max_bytes (at most one view per reply in
 * flight). */
struct cache_hold;
struct cache_hold *cache_view_hold(const struct cache_view *v);
/* One more reference on h (h not NULL). */
struct cache_hold *cache_hold_ref(struct cache_hold *h);
void cache_view_release(struct cache_hold *h);

struct cache;
struct cache_entry;

struct cache *cache_new(const struct cache_options *o);
void cache_destroy(struct cache *c);
const struct cache_options *cache_options(const struct cache *c);

/* The normalized key of an upstream query: identity (any text naming the
 * upstream: endpoint, region, principal), then all eight parameters in a
 * fixed order with defaults made explicit (maxResults absent ->
 * default_max_results, sortBy absent -> CreationTime, sortOrder absent ->
 * Descending, Bedrock's documented defaults) and timestamps as
 * seconds.nanoseconds (so "+00:00" and "Z" spellings, or different
 * fractional digits, are the same key). Strings are length-prefixed, so no
 * two different queries share a key. Appends to out; 0 or -1 (no memory). */
int cache_key_build(const char *identity, const struct jobs_request *q, int64_t default_max_results,
                    struct buf *out);
/* 64-bit FNV-1a, the index hash. */
uint64_t cache_hash(const void *data, size_t len);

/* Finds key; returns the entry and its state at now_ms, or NULL (state
 * CACHE_MISS) when absent or dead (a dead entry is dropped here). A found
 * entry becomes most recently used. */
struct cache_entry *cache_lookup(struct cache *c, const char *key, size_t key_len, int64_t now_ms,
                                 enum cache_state *state);

/* Stores page (its contents move into the cache; *page is left zeroed) under
 * key as of now_ms, replacing any entry for key (its views go too), and
 * evicts LRU entries until the budget holds. Returns the new entry, or NULL
 * when the page is over max_entry_bytes or memory runs out (*page is then
 * left untouched; any old entry for key is kept). */
struct cache_entry *cache_store(struct cache *c, const char *key, size_t key_len,
                                struct jobs_response *page, int64_t now_ms);

/* Does an If-None-Match value (a comma-separated list of entity tags,
 * weak ones "W/..." compared weakly, or "*") hold etag? NULL: no. */
bool cache_etag_list_match(const char *if_none_match, const char *etag);

/* Drops key's entry, if any. */
void cache_remove(struct cache *c, const char *key, size_t key_len);

/* Drops dead entries, looking at no more than max_work of the least recently
 * used ones. Returns how many were dropped. */
size_t cache_sweep(struct cache *c, int64_t now_ms, size_t max_work);

void cache_get_stats(const struct cache *c, struct cache_stats *out);

/* --- entries (borrowed; see cache_view for validity) ------------------- */
const struct jobs_response *cache_entry_page(const struct cache_entry *e);
int64_t cache_entry_stored_ms(const struct cache_entry *e);
int64_t cache_entry_age_ms(const struct cache_entry *e, int64_t now_ms);
/* ms left until the entry stops being fresh (0 when stale). */
int64_t cache_entry_ttl_left_ms(const struct cache *c, const struct cache_entry *e, int64_t now_ms);
enum cache_state cache_entry_state(const struct cache *c, const struct cache_entry *e,
                                   int64_t now_ms);

/* The view stored under view_key, or NULL. */
const struct cache_view *cache_entry_view(const struct cache_entry *e, const char *view_key,
                                          size_t view_key_len);
/* Copies body (and *meta, when not NULL) into a new view of e (replacing
 * one with the same key), counts
 * it against the budget (evicting other LRU entries, never e) and returns
 * it; NULL when it does not fit (over max_entry_bytes with the entry, or
 * more than CACHE_MAX_VIEWS_PER_ENTRY views) or memory runs out. */
const struct cache_view *cache_entry_add_view(struct cache *c, struct cache_entry *e,
                                              const char *view_key, size_t view_key_len,
                                              const void *body, size_t body_len,
                                              const struct cache_view_meta *meta);

/* The strong ETag cache_view.etag holds for body ("\"<16 hex>\"", 19 chars
 * plus NUL into out[20]). */
void cache_etag(const void *body, size_t len, char out[20]);

/* Deep copy of a page (for callers that must modify it). 0 or -1 (dst is
 * then cleaned up). */
int cache_page_copy(const struct jobs_response *src, struct jobs_response *dst);

#endif
