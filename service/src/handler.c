/*
 * handler - authenticate, validate, build upstream request, map result.
 * See handler.h. No I/O, no clock.
 */
#include "handler.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

struct handler_call *handler_call_new(enum handler_transport t)
{
    struct handler_call *c = calloc(1, sizeof(*c));
    if (c)
        c->transport = t;
    return c;
}

static void s_wipe_free(char *s)
{
    if (s) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

void handler_call_free(struct handler_call *c)
{
    if (!c)
        return;
    s_wipe_free(c->authorization);
    s_wipe_free(c->x_api_key);
    jobs_request_clean_up(&c->req);
    free(c);
}

enum bgw_status handler_prepare(const struct handler_ctx *ctx, struct handler_call *call,
                                int64_t now_ms, int64_t wall_s, struct bedrock_http_request *out,
                                int64_t *timeout_ms, struct bgw_error *err)
{
    const char *key = NULL;
    size_t key_len = 0;
    const char *reason = NULL;
    if (tenant_extract_key(call->authorization, call->x_api_key, &key, &key_len, &reason) != 0)
        return bgw_error_set(err, BGW_ERR_UNAUTHENTICATED, NULL, "%s", reason);
    call->tenant = tenant_authenticate(&ctx->cfg->tenants, key, key_len);
    if (!call->tenant)
        return bgw_error_set(err, BGW_ERR_UNAUTHENTICATED, NULL, "invalid API key");

    if (call->decode_failed) {
        *err = call->decode_error;
        if (err->status == BGW_OK) /* a frontend bug must not become a success */
            return bgw_error_set(err, BGW_ERR_INTERNAL, NULL, "request could not be decoded");
        return err->status;
    }
    enum bgw_status st = jobs_request_validate(&call->req, err);
    if (st != BGW_OK)
        return st;

    int64_t budget = ctx->cfg->upstream_timeout_ms;
    if (call->deadline_ms > 0) {
        int64_t left = call->deadline_ms - now_ms - HANDLER_DEADLINE_MARGIN_MS;
        if (left <= 0)
            return bgw_error_set(err, BGW_ERR_DEADLINE_EXCEEDED, NULL,
                                 "deadline expired before the upstream call");
        if (left < budget)
            budget = left;
    }
    *timeout_ms = budget;

    const struct credentials *creds = credentials_provider_current(ctx->credentials, now_ms, err);
    if (!creds)
        return err->status;
    struct sigv4_credentials sc = {creds->access_key_id, creds->secret_access_key,
                                   creds->session_token};
    struct bedrock_request_options o = {
        .endpoint = &ctx->cfg->endpoint,
        .region = ctx->cfg->region,
        .credentials = &sc,
        .now_s = wall_s,
        .default_max_results = ctx->cfg->default_page_size,
    };
    return bedrock_build_list_request(&call->req, &o, out, err);
}

enum bgw_status handler_complete(const struct handler_ctx *ctx, struct handler_call *call,
                                 enum handler_upstream_outcome outcome,
                                 const struct bedrock_http_response *resp,
                                 struct jobs_response *out, struct bgw_error *err)
{
    (void)ctx;
    switch (outcome) {
    case HANDLER_UPSTREAM_TIMEOUT:
        if (call->deadline_ms > 0)
            return bgw_error_set(err, BGW_ERR_DEADLINE_EXCEEDED, NULL,
                                 "Bedrock did not answer within the call's deadline");
        return bgw_error_set(err, BGW_ERR_DEADLINE_EXCEEDED, NULL,
                             "Bedrock did not answer within the upstream timeout");
    case HANDLER_UPSTREAM_TRANSPORT:
        return bgw_error_set(err, BGW_ERR_UNAVAILABLE, NULL, "Bedrock is unreachable");
    case HANDLER_UPSTREAM_RESPONSE:
        break;
    }
    return bedrock_parse_list_response(resp, out, err);
}
