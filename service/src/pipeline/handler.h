/*
 * handler - the I/O-free core of one ListModelImportJobs call, as a small
 * state machine the gateway drives:
 *
 *   handler_prepare   authenticate -> validate -> apply the tenant's policy
 *                     -> check the client's page token -> first upstream query
 *   handler_on_page   an upstream page -> post-filter + redact into the
 *                     response; either "fetch this next upstream query" or
 *                     "reply with handler_response()"
 *
 * Pages stay full: rows the policy hides are dropped and more upstream pages
 * are read until the page size (the caller's maxResults or the default,
 * clamped by the policy's cap) is reached or Bedrock has no more, bounded by
 * gateway.max_upstream_calls_per_request and the client's deadline; the
 * reply then carries a gateway page token (page_token.h) holding the
 * upstream cursor and the position inside that upstream page, so walking
 * all pages yields every visible job once, in order. Bedrock's tokens never
 * reach the client.
 *
 * It never touches sockets and never reads the clock (struct handler_now is
 * passed in); the gateway runs the upstream exchanges (fetcher) in between.
 * The same code serves both transports, which is what keeps their
 * behaviour identical.
 */
#ifndef BGW_HANDLER_H
#define BGW_HANDLER_H

#include <stdbool.h>
#include <stdint.h>

#include "auth.h"
#include "config.h"
#include "jobs.h"
#include "peer_identity.h"
#include "status.h"
#include "tenant.h"

/* HANDLER_AWS: Bedrock's own wire format on the REST listener, SigV4 (the
 * AWS-compatible front). */
enum handler_transport { HANDLER_GRPC = 0, HANDLER_REST = 1, HANDLER_AWS = 2 };
#define HANDLER_TRANSPORTS 3
/* aws_auth after a key that verified was gone from the call's snapshot (a
 * reload in between): answered like an unknown key. */
#define HANDLER_AWS_KEY_GONE 255

struct handler_call;
struct buf;
struct cache_view;
struct cache_hold;

/* A frontend's serializer of a successful response into its wire bytes
 * (REST: proto3 JSON; gRPC: the protobuf message). 0 or -1. */
typedef int (*handler_render_fn)(const struct jobs_response *resp, struct buf *out);

/* What the gateway tells the frontend about a cached answer (response
 * cache, page_cache.h). Set before reply; x_cache NULL = no cache info. */
struct handler_cache_reply {
    const char *x_cache; /* static: "hit" | "miss" | "stale" | "bypass" | NULL */
    int64_t age_s;       /* age of the answer */
    int64_t max_age_s;   /* remaining freshness; < 0: say no-store */
    char etag[20];       /* strong ETag of body, "" = none */
    int warning;         /* 0, 110 (stale) or 111 (revalidation failed) */
    bool not_modified;   /* REST: If-None-Match matched -> 304 */
    /* For the audit line: a miss that joined another call's upstream call;
     * and, when the answer came from a stored view (no response object),
     * what it held (items below). */
    bool coalesced;
    bool from_view;
    bool more;
    /* A fresh hit on an upstream page this caller's own view did not hold
     * (another tenant's or transport's question cached it): the client is
     * told "miss" with Age 0, so cache headers reveal nothing of what others
     * asked; the audit line still says "hit". */
    bool shared_hit;
    const void *body; /* the pre-rendered response (borrowed during reply), or NULL */
    size_t body_len;
    /* What keeps body alive past reply, for a frontend that sends the bytes
     * after reply returns instead of copying them: the stored view body
     * belongs to (borrowed during reply; take a cache_view_hold on it), or
     * a hold the gateway owns during reply (take a cache_hold_ref on it).
     * NULL both: copy. */
    const struct cache_view *view;
    struct cache_hold *hold;
    int64_t items;
};

/* Runs on the loop thread exactly once per call. resp is set on success,
 * err otherwise; both are borrowed for the duration of the call. The reply
 * function owns the call afterwards and frees it (handler_call_free). */
typedef void (*handler_reply_fn)(struct handler_call *call, const struct jobs_response *resp,
                                 const struct bgw_error *err);

/* One call, created by a frontend, moved to the loop, freed by the frontend's
 * reply function. */
/* Kept at most 1032 bytes (handler.c asserts it): glibc's per-thread cache
 * serves allocations up to that size, a larger calloc per call cost ~2.5k
 * instructions. Mind the padding when adding fields. */
struct handler_call {
    enum handler_transport transport;
    char request_id[24];
    char peer[64];
    /* A frontend that could not even decode the request sets this and
     * decode_error; the handler then answers with it (after
     * authentication). */
    bool decode_failed;
    bool key_header_repeated; /* authorization or x-api-key came more than once */
    /* HANDLER_AWS: the frontend verified the SigV4 signature (sigv4_verify.h)
     * before submitting; aws_auth is its result (0 = authentic), and a
     * failure's error waits in decode_error for handler_authenticate. The
     * access key id the request named is then in `authorization` (there is
     * no other use for the header's copy, and the struct stays small). */
    unsigned char aws_auth;
    /* A frontend's rendering variant (REST: 1 = Bedrock's enum spellings),
     * part of the view key: differently rendered answers never mix. */
    unsigned char render_variant;
    char *authorization;            /* heap copy of the header/metadata, wiped on free */
    char *x_api_key;                /* heap copy, wiped on free */
    struct peer_identity peer_cert; /* verified TLS client certificate's names, if any */
    struct jobs_request req;
    struct bgw_error decode_error;
    int64_t received_ms; /* monotonic */
    int64_t deadline_ms; /* monotonic; 0 = no client deadline */

    const struct tenant *tenant; /* set by handler_authenticate */
    enum auth_method auth_method;
    int upstream_calls;        /* owned by the gateway (below) */
    struct handler_walk *walk; /* the paging state; handler.c's own */

    handler_reply_fn reply;
    void *frontend_data;

    /* Response cache: the request's Cache-Control (header or metadata) and,
     * REST only, If-None-Match (heap copies, or NULL); the frontend's
     * serializer; and what the gateway says about the answer. When
     * cache_reply.body is set the reply sends those bytes (resp may then be
     * NULL). */
    char *cache_control;
    char *if_none_match;
    handler_render_fn render;
    struct handler_cache_reply cache_reply;

    /* Owned by the gateway while the call is in flight. */
    void *upstream; /* struct fetcher_fetch * */
    long upstream_status;
    int64_t upstream_ms;
    void *gateway_link;
    void *config_ref; /* struct config_ref * the call holds (gateway) */
};

struct handler_call *handler_call_new(enum handler_transport t);
void handler_call_free(struct handler_call *c);
/* Undoes handler_authenticate and handler_prepare (tenant, auth method,
 * paging state): the call is again as its frontend decoded it, e.g. for
 * another try on another config snapshot. */
void handler_call_rewind(struct handler_call *c);

/* out = "<prefix><hex t>-<hex n>", truncated to fit out[24] (what
 * snprintf(out, 24, "%c%lx-%lx", ...) gives, without the printf). */
void handler_format_request_id(char out[24], char prefix, unsigned long t, unsigned long n);

struct handler_ctx {
    const struct config *cfg;
    /* Which config snapshot cfg is (config_ref generation; 0 = the startup
     * config). Part of handler_view_key: a view rendered under one
     * snapshot's tenant policy and token keys is never served under
     * another's. */
    unsigned long generation;
};

/* The loop's clocks when the handler is called. */
struct handler_now {
    int64_t mono_ms; /* monotonic, comparable with deadline_ms */
    int64_t wall_s;  /* Unix time, for token expiry */
};

/* What the gateway does after a successful step. */
enum handler_next {
    HANDLER_FETCH = 0, /* fetch the upstream page for *upstream_q, then handler_on_page */
    HANDLER_REPLY = 1, /* answer with handler_response(call) */
};

/* Authenticates the call (auth.h: API key and/or verified client
 * certificate) and sets call->tenant and call->auth_method;
 * UNAUTHENTICATED otherwise. */
enum bgw_status handler_authenticate(const struct handler_ctx *ctx, struct handler_call *call,
                                     struct bgw_error *err);

/* Authenticates unless call->tenant is already set (before anything else,
 * so an unauthenticated caller learns nothing about validation), reports a
 * frontend decode failure, validates, applies the tenant's policy and checks
 * the client's nextToken (a bad one is INVALID_ARGUMENT naming nextToken).
 * On BGW_OK, *next says what to do; for HANDLER_FETCH upstream_q holds the
 * query for Bedrock (the caller cleans it up; it is all-zero otherwise). On
 * failure err says why. */
enum bgw_status handler_prepare(const struct handler_ctx *ctx, struct handler_call *call,
                                const struct handler_now *now, enum handler_next *next,
                                struct jobs_request *upstream_q, struct bgw_error *err);

/* Takes in the page Bedrock returned for the last HANDLER_FETCH (consumed:
 * its contents move into the response or are freed with it). Same outputs
 * as handler_prepare. */
enum bgw_status handler_on_page(const struct handler_ctx *ctx, struct handler_call *call,
                                const struct handler_now *now, struct jobs_response *page,
                                enum handler_next *next, struct jobs_request *upstream_q,
                                struct bgw_error *err);

/* The response, once a step said HANDLER_REPLY; owned by the call. */
const struct jobs_response *handler_response(const struct handler_call *call);

/* What the audit line reports; filters is NULL when the call never got as
 * far as the policy. Never contains tokens or keys. */
struct handler_audit {
    const struct jobs_request *filters; /* effective: the request narrowed by the policy */
    int64_t page_size;                  /* after the policy's cap */
    bool policy_empty;                  /* the intersection was empty */
    int upstream_pages;                 /* pages taken in */
};
void handler_audit(const struct handler_call *call, struct handler_audit *out);

/* The key of the serialized response ("view") a call gets from an upstream
 * page: everything the handler's output and the frontend's rendering depend
 * on besides the page itself: the config snapshot's generation (the
 * tenant's policy, page-token keys, page-size defaults as of that snapshot:
 * a reload never serves a view rendered under the old ones), the transport,
 * the tenant and the client's normalized request. Appends to out; 0 or -1. */
int handler_view_key(const struct handler_ctx *ctx, const struct handler_call *call,
                     struct buf *out);

#endif
