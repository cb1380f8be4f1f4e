/*
 * handler - the I/O-free core of one ListModelImportJobs call:
 *   authenticate -> validate -> the upstream query; and, once the fetcher
 *   has the upstream page: page -> the caller's response.
 *
 * It never touches sockets and never reads the clock; the gateway runs the
 * upstream exchange (fetcher) in between. The same code serves both
 * transports, which is what keeps their behaviour identical.
 */
#ifndef BGW_HANDLER_H
#define BGW_HANDLER_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "jobs.h"
#include "status.h"
#include "tenant.h"

enum handler_transport { HANDLER_GRPC = 0, HANDLER_REST = 1 };

struct handler_call;
struct buf;

/* A frontend's serializer of a successful response into its wire bytes
 * (REST: proto3 JSON; gRPC: the protobuf message). 0 or -1. */
typedef int (*handler_render_fn)(const struct jobs_response *resp, struct buf *out);

/* What the gateway tells the frontend about a cached answer (response
 * cache, page_cache.h). Set before reply; x_cache NULL = no cache info. */
struct handler_cache_reply {
    const char *x_cache;  /* static: "hit" | "miss" | "stale" | "bypass" | NULL */
    int warning;          /* 0, 110 (stale) or 111 (revalidation failed) */
    int64_t age_s;        /* age of the answer */
    int64_t max_age_s;    /* remaining freshness; < 0: say no-store */
    char etag[20];        /* strong ETag of body, "" = none */
    bool not_modified;    /* REST: If-None-Match matched -> 304 */
    const void *body;     /* the pre-rendered response (borrowed during reply), or NULL */
    size_t body_len;
};

/* Runs on the loop thread exactly once per call. resp is set on success,
 * err otherwise; both are borrowed for the duration of the call. The reply
 * function owns the call afterwards and frees it (handler_call_free). */
typedef void (*handler_reply_fn)(struct handler_call *call, const struct jobs_response *resp,
                                 const struct bgw_error *err);

/* One call, created by a frontend, moved to the loop, freed by the frontend's
 * reply function. */
struct handler_call {
    enum handler_transport transport;
    char request_id[24];
    char peer[64];
    char *authorization; /* heap copy of the header/metadata, wiped on free */
    char *x_api_key;     /* heap copy, wiped on free */
    struct jobs_request req;
    /* A frontend that could not even decode the request sets this; the
     * handler then answers with it (after authentication). */
    bool decode_failed;
    struct bgw_error decode_error;
    int64_t received_ms; /* monotonic */
    int64_t deadline_ms; /* monotonic; 0 = no client deadline */

    const struct tenant *tenant; /* set by handler_prepare */

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
    int upstream_calls;
    void *gateway_link;
};

struct handler_call *handler_call_new(enum handler_transport t);
void handler_call_free(struct handler_call *c);

struct handler_ctx {
    const struct config *cfg;
};

/* Authenticates (before anything else, so an unauthenticated caller learns
 * nothing about validation), reports a frontend decode failure, validates,
 * and fills upstream_q with the query to send to Bedrock. On failure err
 * says why: UNAUTHENTICATED, INVALID_ARGUMENT (field named), ... */
enum bgw_status handler_prepare(const struct handler_ctx *ctx, struct handler_call *call,
                                struct jobs_request *upstream_q, struct bgw_error *err);

/* Turns the upstream page into the caller's response. page is consumed (its
 * contents move into out). */
enum bgw_status handler_complete(const struct handler_ctx *ctx, struct handler_call *call,
                                 struct jobs_response *page, struct jobs_response *out,
                                 struct bgw_error *err);

/* The key of the serialized response ("view") a call gets from an upstream
 * page: everything handler_complete's output and the frontend's rendering
 * depend on besides the page itself (the transport and the tenant today; a
 * tenant policy or gateway page tokens must be added here when
 * handler_complete starts to depend on them). Appends to out; 0 or -1. */
int handler_view_key(const struct handler_ctx *ctx, const struct handler_call *call,
                     struct buf *out);

#endif
