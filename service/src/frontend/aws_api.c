/*
 * aws_api - see aws_api.h.
 */
#include "aws_api.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bedrock_client.h"
#include "clock.h"
#include "http1.h"
#include "json_mapping.h"
#include "sigv4_verify.h"

#define S_JSON "application/json"
#define S_MAX_QUERY 64

static void s_send(struct http_request *req, int code, const void *body, size_t len)
{
    http_response_header(req, "Content-Type", S_JSON);
    http_response_header(req, "Cache-Control", "no-store");
    http_response_send(req, code, body ? body : "", len, NULL, NULL);
}

/* restJson1: the type in x-amzn-ErrorType, {"message": ...} */
static void s_send_error_typed(struct http_request *req, const char *type, int http_status,
                               const char *message, int retry_after_s)
{
    struct buf b;
    buf_init(&b, 0);
    http_response_header(req, "x-amzn-ErrorType", type);
    if (retry_after_s > 0) {
        char ra[24];
        snprintf(ra, sizeof(ra), "%d", retry_after_s);
        http_response_header(req, "Retry-After", ra);
    }
    if (bedrock_render_error(message, &b) != 0) {
        buf_reset(&b);
        buf_append_str(&b, "{\"message\":\"internal error\"}");
    }
    s_send(req, http_status, b.data, b.len);
    buf_clean_up(&b);
}

void aws_api_send_error(struct http_request *req, enum bgw_status st, const char *message)
{
    int http = 500;
    const char *type = bedrock_error_type(st, &http);
    s_send_error_typed(req, type, http, message, 0);
}

static void s_reply(struct handler_call *c, const struct jobs_response *resp,
                    const struct bgw_error *err)
{
    struct http_request *req = c->frontend_data;
    http_response_header(req, "x-amzn-RequestId", c->request_id);
    if (err) {
        int http = 500;
        const char *type = bedrock_error_type(err->status, &http);
        if (err->status == BGW_ERR_UNAUTHENTICATED && c->aws_auth != SIGV4_OK &&
            c->aws_auth != HANDLER_AWS_KEY_GONE) {
            type = sigv4_verify_error_type((enum sigv4_verify_result)c->aws_auth);
            http = sigv4_verify_http_status((enum sigv4_verify_result)c->aws_auth);
        }
        s_send_error_typed(req, type, http, err->message, err->retry_after_s);
    } else if (c->cache_reply.body) {
        s_send(req, 200, c->cache_reply.body, c->cache_reply.body_len);
    } else {
        struct buf b;
        buf_init(&b, 0);
        if (bedrock_render_list_response(resp, &b) == 0)
            s_send(req, 200, b.data, b.len);
        else
            s_send_error_typed(req, "InternalServerException", 500, "cannot render the response",
                               0);
        buf_clean_up(&b);
    }
    handler_call_free(c);
}

static const char *s_secret_for(void *ctx, const char *access_key_id, const char **session_token)
{
    const struct config *cfg = ctx;
    const char *secret = NULL;
    (void)session_token; /* gateway keys have none */
    return tenant_find_aws_key(&cfg->tenants, access_key_id, &secret) ? secret : NULL;
}

static bool s_is_presign_param(const char *seg, size_t n, void *arg)
{
    (void)arg;
    return n >= 6 && strncmp(seg, "X-Amz-", 6) == 0;
}

/* The query without the presigned X-Amz-* parameters, for the job filters
 * (heap, or NULL for none; *oom on failure). */
static char *s_filter_query(const char *raw, bool *oom)
{
    char *q = raw ? strdup(raw) : NULL;
    *oom = raw && !q;
    json_mapping_query_remove(q, s_is_presign_param, NULL);
    return q;
}

/* Verifies the request's signature; on success the call carries the key
 * id (for the tenant), on failure also the error (for handler_authenticate). */
static void s_verify(const struct aws_api_ctx *ctx, const struct http1_request *h,
                     struct handler_call *c)
{
    struct sigv4_kv qkv[S_MAX_QUERY];
    struct sigv4_kv hkv[HTTP1_MAX_HEADERS];
    size_t nq = 0;
    char *qcopy = h->query ? strdup(h->query) : NULL;
    struct sigv4_verify_error *ve = calloc(1, sizeof(*ve));
    enum sigv4_verify_result r = SIGV4_INTERNAL;
    if (!ve || (h->query && !qcopy)) {
        /* out of memory: SIGV4_INTERNAL */
    } else if (sigv4_query_split(qcopy, qkv, S_MAX_QUERY, &nq) != 0) {
        r = SIGV4_INCOMPLETE;
        snprintf(ve->message, sizeof(ve->message),
                 "the query string cannot be decoded (a bad %%-escape or too many parameters)");
    } else {
        for (size_t i = 0; i < h->n_headers; i++) {
            hkv[i].name = h->headers[i].name;
            hkv[i].value = h->headers[i].value;
        }
        struct sigv4_verify_config vc = {
            .region = ctx->cfg->region,
            .service = AWS_API_SERVICE,
            .max_skew_s = AWS_API_MAX_SKEW_S,
            .secret_for = s_secret_for,
            .ctx = (void *)ctx->cfg,
        };
        struct sigv4_verify_request vr = {
            .method = h->method_name,
            .path = h->path,
            .query = qkv,
            .n_query = nq,
            .headers = hkv,
            .n_headers = h->n_headers,
            .now_s = clock_wall_ms() / 1000,
        };
        r = sigv4_verify(&vc, &vr, ve);
        if (ve->access_key_id[0])
            c->authorization = strdup(ve->access_key_id);
    }
    c->aws_auth = (unsigned char)r;
    if (r != SIGV4_OK)
        bgw_error_set(&c->decode_error,
                      r == SIGV4_INTERNAL ? BGW_ERR_NOMEM : BGW_ERR_UNAUTHENTICATED, NULL, "%s",
                      ve && ve->message[0] ? ve->message : "out of memory");
    if (ve)
        OPENSSL_cleanse(ve, sizeof(*ve));
    free(ve);
    free(qcopy);
}

void aws_api_handle(const struct aws_api_ctx *ctx, struct http_request *req)
{
    struct handler_call *c = handler_call_new(HANDLER_AWS);
    if (!c) {
        aws_api_send_error(req, BGW_ERR_NOMEM, "out of memory");
        return;
    }
    const struct http1_request *h = http_request_head(req);
    c->received_ms = clock_mono_ms();
    handler_format_request_id(c->request_id, 'a', (unsigned long)time(NULL), ++*ctx->next_id);
    http_request_peer(req, c->peer, sizeof(c->peer));
    c->render = bedrock_render_list_response;
    if (h->has_content_length && h->content_length > 0) {
        /* the signature covers the body only through a hash that is taken
         * to be the empty body's: a body is a part nothing verifies */
        c->aws_auth = SIGV4_INCOMPLETE;
        bgw_error_set(&c->decode_error, BGW_ERR_UNAUTHENTICATED, NULL,
                      "ListModelImportJobs takes no request body");
        c->reply = s_reply;
        c->frontend_data = req;
        ctx->submit(ctx->submit_arg, c);
        return;
    }
    s_verify(ctx, h, c);
    if (c->aws_auth == SIGV4_OK) {
        bool oom = false;
        char *q = s_filter_query(h->query, &oom);
        if (oom) {
            c->decode_failed = true;
            bgw_error_set(&c->decode_error, BGW_ERR_NOMEM, NULL, "out of memory");
        } else if (json_mapping_parse_query(q, &c->req, &c->decode_error) != BGW_OK) {
            c->decode_failed = true;
        }
        free(q);
    }
    const char *cc = http1_header(h, "Cache-Control");
    if (cc)
        c->cache_control = strdup(cc);
    c->reply = s_reply;
    c->frontend_data = req;
    ctx->submit(ctx->submit_arg, c);
}
