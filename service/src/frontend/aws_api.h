/*
 * aws_api - the AWS-compatible front on the REST listener: Bedrock's own
 * `GET /model-import-jobs` (its query names and enum spellings),
 * authenticated by SigV4 with gateway-issued access keys
 * (tenants[].aws_access_keys), answered in Bedrock's wire format with
 * `x-amzn-RequestId`, errors in restJson1 (`x-amzn-ErrorType` and a JSON
 * `message`) - so an unmodified AWS SDK pointed at the gateway works. The
 * call then takes the same path as REST and gRPC (tenant policy, cache,
 * rate limit, audit line with "auth":"sigv4" and the key id).
 *
 * Loop thread only.
 */
#ifndef BGW_AWS_API_H
#define BGW_AWS_API_H

#include "config.h"
#include "handler.h"
#include "http_server.h"

#define AWS_API_PATH "/model-import-jobs"
#define AWS_API_SERVICE "bedrock"
#define AWS_API_MAX_SKEW_S 300 /* what AWS allows */

struct aws_api_ctx {
    const struct config *cfg; /* the current one: tenants' keys, region */
    void (*submit)(void *arg, struct handler_call *call);
    void *submit_arg;
    unsigned long *next_id; /* request ids */
};

/* GET (or HEAD) of AWS_API_PATH: verify, decode, submit; the call's reply
 * answers req. */
void aws_api_handle(const struct aws_api_ctx *ctx, struct http_request *req);
/* Any other method on AWS_API_PATH, or an error before a call exists. */
void aws_api_send_error(struct http_request *req, enum bgw_status st, const char *message);

#endif
