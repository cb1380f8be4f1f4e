/*
 * fleet - what replicas share through Redis (redis.url): the second cache
 * tier with its fleet-wide single flight (leases), and token buckets that
 * hold across the fleet (tenant rate limits, the upstream budget).
 *
 * Keys: <redis.key_prefix>v1:<kind>:<name>, where name is an HMAC of what it
 * stands for (the cache key: upstream identity + normalized query; a tenant
 * id) under a key derived from tokens.secret: no tenant data or AWS key ids
 * appear in Redis's key space, and "v1" changes with the format.
 *
 * Page values are sealed by shared_value.h (an HMAC-SHA256 over the key
 * name and the value, under a second key derived from tokens.secret): a
 * value that fails to open (written by anyone without the secret, copied
 * from another key, cut short) is ignored and counted.
 *
 * Every operation is asynchronous and bounded by redis.timeout_ms; when
 * Redis is down, slow or refuses, the callback says FLEET_UNAVAILABLE (or
 * the call returns NULL at once) and the caller goes on alone: local cache
 * tier, own upstream call, local buckets. Redis never fails a call.
 *
 * Loop thread only.
 */
#ifndef BGW_FLEET_H
#define BGW_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "jobs.h"

struct event_base;
struct fleet;
struct fleet_op;

struct fleet_stats {
    uint64_t l2_hits;        /* a fresh page from Redis */
    uint64_t l2_stale;       /* a stale page from Redis (kept for SWR / stale-if-error) */
    uint64_t l2_misses;      /* no (usable) page in Redis */
    uint64_t l2_writes;      /* pages written */
    uint64_t mac_failures;   /* values that failed their MAC or did not decode */
    uint64_t leases_taken;   /* this replica made the fleet's upstream call */
    uint64_t lease_waits;    /* polls while another replica held the lease */
    uint64_t lease_timeouts; /* gave up waiting on a lease: own upstream call */
    uint64_t unavailable;    /* operations that went on without Redis */
    uint64_t rate_fallbacks; /* rate-limit decisions taken locally (Redis unavailable) */
    uint64_t rate_refused;   /* refusals by a fleet-wide bucket */
};

struct fleet_options {
    struct event_base *base;
    const struct config *cfg; /* redis.*, tokens.secret; outlives the fleet */
};

/* NULL when redis.url is not set (single-replica mode) or on a setup error
 * (why says which). Connects in the background: never waits for Redis. */
struct fleet *fleet_new(const struct fleet_options *o, char *why, size_t why_len);
void fleet_destroy(struct fleet *f); /* pending callbacks are not called */
bool fleet_up(const struct fleet *f);
const struct fleet_stats *fleet_stats(const struct fleet *f);
/* The same counters, for the page cache's lease bookkeeping. */
struct fleet_stats *fleet_stats_mut(struct fleet *f);
/* Appends the bedrockgw_redis_* / bedrockgw_cache_l2_* metrics. */
int fleet_metrics_render(const struct fleet *f, struct buf *out);

/* ---- the shared cache tier --------------------------------------------- */

enum fleet_lookup_result {
    FLEET_PAGE,        /* a page (fresh or stale: see age_ms) */
    FLEET_NO_PAGE,     /* none, or none that passed its MAC */
    FLEET_UNAVAILABLE, /* Redis down / slow / refused */
};

struct fleet_lookup {
    enum fleet_lookup_result result;
    struct jobs_response *page; /* FLEET_PAGE: the callee may take it (then zero it) */
    int64_t age_ms;             /* of the page (wall clock at its fetch) */
    bool lease_mine;            /* this replica now holds the key's lease */
    bool lease_held;            /* someone (maybe this replica) holds it */
};

typedef void (*fleet_lookup_cb)(void *arg, struct fleet_lookup *r);

/* Reads the page stored for cache key (the local tier's key). With
 * want_lease, and no page fresher than fresh_ms at the moment, also tries
 * to take the key's lease (SET NX PX redis.lease_ms) in the same round
 * trip. NULL when Redis is not up (cb not called). */
struct fleet_op *fleet_lookup(struct fleet *f, const char *key, size_t key_len, bool want_lease,
                              fleet_lookup_cb cb, void *arg);
void fleet_op_cancel(struct fleet_op *op);

/* Writes the page fetched at fetched_wall_ms (expires after ttl + the
 * longer of swr and sie) and gives up this replica's lease on the key.
 * Fire and forget. */
void fleet_store(struct fleet *f, const char *key, size_t key_len, const struct jobs_response *page,
                 int64_t fetched_wall_ms);
/* Gives up this replica's lease on key (the upstream call failed). */
void fleet_release(struct fleet *f, const char *key, size_t key_len);

/* ---- fleet-wide token buckets --------------------------------------------- */

enum fleet_take_result { FLEET_TAKEN, FLEET_REFUSED, FLEET_TAKE_UNAVAILABLE };
typedef void (*fleet_take_cb)(void *arg, enum fleet_take_result r, int64_t wait_ms);

/* Takes one token of the bucket named by (kind, name) - rate_per_s up to
 * burst, shared by every replica; wait_ms says when the next one is due.
 * NULL when Redis is not up (cb not called). */
struct fleet_op *fleet_take(struct fleet *f, const char *kind, const char *name, double rate_per_s,
                            double burst, fleet_take_cb cb, void *arg);

#endif
