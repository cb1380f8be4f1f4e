/*
 * handler - the I/O-free core of one ListModelImportJobs call:
 *   authenticate -> validate -> (deadline check) -> build the signed
 *   upstream request; and later: upstream outcome -> response or error.
 *
 * It never touches sockets and never reads the clock: the caller passes
 * now_ms (monotonic) and performs the HTTP exchange itself. The same code
 * serves both transports, which is what keeps their behaviour identical.
 */
#ifndef BGW_HANDLER_H
#define BGW_HANDLER_H

#include <stdbool.h>
#include <stdint.h>

#include "bedrock_client.h"
#include "config.h"
#include "credentials.h"
#include "jobs.h"
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

    /* Owned by the gateway while the call is in flight. */
    void *upstream;
    long upstream_status;
    int64_t upstream_ms;
    void *gateway_link;
};

struct handler_call *handler_call_new(enum handler_transport t);
void handler_call_free(struct handler_call *c);

struct handler_ctx {
    const struct config *cfg;
    struct credentials_provider *credentials;
};

/* How much of the client's deadline is kept back to deliver the reply. */
#define HANDLER_DEADLINE_MARGIN_MS 20

/* Authenticates, validates and builds the upstream request. On BGW_OK, out
 * holds the request and *timeout_ms the time the upstream exchange may take
 * (the configured upstream timeout, shortened to the client's deadline).
 * Otherwise err says why (UNAUTHENTICATED, INVALID_ARGUMENT,
 * DEADLINE_EXCEEDED, UNAVAILABLE when there are no credentials). */
/* now_ms: monotonic milliseconds (deadlines); wall_s: Unix seconds (the
 * SigV4 signing time). */
enum bgw_status handler_prepare(const struct handler_ctx *ctx, struct handler_call *call,
                                int64_t now_ms, int64_t wall_s, struct bedrock_http_request *out,
                                int64_t *timeout_ms, struct bgw_error *err);

enum handler_upstream_outcome {
    HANDLER_UPSTREAM_RESPONSE = 0, /* an HTTP response arrived: see resp */
    HANDLER_UPSTREAM_TIMEOUT,
    HANDLER_UPSTREAM_TRANSPORT,
};

/* Maps the upstream result. A timeout that ran into the client's deadline
 * (or the upstream timeout) is DEADLINE_EXCEEDED; a transport failure
 * UNAVAILABLE; a response goes through bedrock_parse_list_response. */
enum bgw_status handler_complete(const struct handler_ctx *ctx, struct handler_call *call,
                                 enum handler_upstream_outcome outcome,
                                 const struct bedrock_http_response *resp,
                                 struct jobs_response *out, struct bgw_error *err);

#endif
