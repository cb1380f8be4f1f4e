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

#include "auth.h"
#include "config.h"
#include "jobs.h"
#include "peer_identity.h"
#include "status.h"
#include "tenant.h"

enum handler_transport { HANDLER_GRPC = 0, HANDLER_REST = 1 };

struct handler_call;

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
    struct peer_identity peer_cert; /* verified TLS client certificate's names, if any */
    struct jobs_request req;
    /* A frontend that could not even decode the request sets this; the
     * handler then answers with it (after authentication). */
    bool decode_failed;
    struct bgw_error decode_error;
    int64_t received_ms; /* monotonic */
    int64_t deadline_ms; /* monotonic; 0 = no client deadline */

    const struct tenant *tenant; /* set by handler_authenticate */
    enum auth_method auth_method;

    handler_reply_fn reply;
    void *frontend_data;

    /* Owned by the gateway while the call is in flight. */
    void *upstream; /* struct fetcher_fetch * */
    long upstream_status;
    int64_t upstream_ms;
    int upstream_calls;
    void *gateway_link;
    void *config_ref; /* struct config_ref * the call holds (gateway) */
};

struct handler_call *handler_call_new(enum handler_transport t);
void handler_call_free(struct handler_call *c);

struct handler_ctx {
    const struct config *cfg;
};

/* Authenticates the call (auth.h: API key and/or verified client
 * certificate) and sets call->tenant; UNAUTHENTICATED otherwise. */
enum bgw_status handler_authenticate(const struct handler_ctx *ctx, struct handler_call *call,
                                     struct bgw_error *err);

/* Authenticates unless call->tenant is already set (before anything else, so an unauthenticated
 * caller learns nothing about validation), reports a frontend decode failure, validates, and fills
 * upstream_q with the query to send to Bedrock. On failure err says why: UNAUTHENTICATED,
 * INVALID_ARGUMENT (field named), ... */
enum bgw_status handler_prepare(const struct handler_ctx *ctx, struct handler_call *call,
                                struct jobs_request *upstream_q, struct bgw_error *err);

/* Turns the upstream page into the caller's response. page is consumed (its
 * contents move into out). */
enum bgw_status handler_complete(const struct handler_ctx *ctx, struct handler_call *call,
                                 struct jobs_response *page, struct jobs_response *out,
                                 struct bgw_error *err);

#endif
