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
    free(c->cache_control);
    free(c->if_none_match);
    jobs_request_clean_up(&c->req);
    free(c);
}

enum bgw_status handler_prepare(const struct handler_ctx *ctx, struct handler_call *call,
                                struct jobs_request *upstream_q, struct bgw_error *err)
{
    memset(upstream_q, 0, sizeof(*upstream_q));
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
    if (jobs_request_copy(&call->req, upstream_q) != 0)
        return bgw_error_set(err, BGW_ERR_NOMEM, NULL, "out of memory");
    if (!upstream_q->has_max_results) {
        upstream_q->has_max_results = true;
        upstream_q->max_results = ctx->cfg->default_page_size;
    }
    return BGW_OK;
}

enum bgw_status handler_complete(const struct handler_ctx *ctx, struct handler_call *call,
                                 struct jobs_response *page, struct jobs_response *out,
                                 struct bgw_error *err)
{
    (void)ctx;
    (void)call;
    (void)err;
    *out = *page;
    memset(page, 0, sizeof(*page));
    return BGW_OK;
}

int handler_view_key(const struct handler_ctx *ctx, const struct handler_call *call,
                     struct buf *out)
{
    (void)ctx;
    return buf_appendf(out, "%c|%s", call->transport == HANDLER_GRPC ? 'g' : 'r',
                       call->tenant ? call->tenant->id : "");
}
