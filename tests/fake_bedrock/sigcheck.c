/*
 * sigcheck - SigV4 verification for the emulator. See sigcheck.h.
 * No I/O, no clock; the secret never leaves this call.
 */
#include "sigcheck.h"

#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sigv4_verify.h"

const char *sigcheck_error_type(enum sigcheck_result r)
{
    switch (r) {
    case SIGCHECK_OK:
        return "OK";
    case SIGCHECK_MISSING_AUTH:
        return "MissingAuthenticationTokenException";
    case SIGCHECK_INCOMPLETE:
        return "IncompleteSignatureException";
    case SIGCHECK_UNRECOGNIZED_CLIENT:
        return "UnrecognizedClientException";
    case SIGCHECK_INVALID_SIGNATURE:
        return "InvalidSignatureException";
    case SIGCHECK_INTERNAL:
        return "InternalFailure";
    }
    return "InternalFailure";
}

const char *sigcheck_header(const struct sigcheck_request *req, const char *name)
{
    for (size_t i = 0; i < req->n_headers; i++) {
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    }
    return NULL;
}

/* The emulator knows one key: its secret (and session token) or nothing. */
static const char *s_secret_for(void *ctx, const char *access_key_id, const char **session_token)
{
    const struct sigcheck_config *cfg = ctx;
    size_t la = strlen(access_key_id), lb = strlen(cfg->access_key_id);
    if (la != lb || CRYPTO_memcmp(access_key_id, cfg->access_key_id, la) != 0)
        return NULL;
    *session_token = cfg->session_token;
    return cfg->secret_access_key;
}

/* The gateway's own verifier (sigv4_verify.h) with the emulator's one key:
 * the emulator checks clients the way the gateway checks them. */
enum sigcheck_result sigcheck_verify(const struct sigcheck_config *cfg,
                                     const struct sigcheck_request *req, struct sigcheck_error *err)
{
    err->result = SIGCHECK_OK;
    err->message[0] = '\0';
    struct sigv4_kv *qkv = calloc(req->query->n ? req->query->n : 1, sizeof(*qkv));
    struct sigv4_verify_error *ve = calloc(1, sizeof(*ve));
    if (!qkv || !ve) {
        free(qkv);
        free(ve);
        err->result = SIGCHECK_INTERNAL;
        snprintf(err->message, sizeof(err->message), "out of memory");
        return err->result;
    }
    for (size_t i = 0; i < req->query->n; i++) {
        qkv[i].name = req->query->items[i].name;
        qkv[i].value = req->query->items[i].value;
    }
    struct sigv4_verify_config vc = {
        .region = cfg->region,
        .service = cfg->service,
        .max_skew_s = cfg->max_skew_s,
        .secret_for = s_secret_for,
        .ctx = (void *)cfg,
    };
    struct sigv4_verify_request vr = {
        .method = req->method,
        .path = req->path,
        .query = qkv,
        .n_query = req->query->n,
        .headers = req->headers,
        .n_headers = req->n_headers,
        .now_s = req->now_s,
    };
    enum sigv4_verify_result r = sigv4_verify(&vc, &vr, ve);
    static const enum sigcheck_result map[] = {
        [SIGV4_OK] = SIGCHECK_OK,
        [SIGV4_MISSING_AUTH] = SIGCHECK_MISSING_AUTH,
        [SIGV4_INCOMPLETE] = SIGCHECK_INCOMPLETE,
        [SIGV4_UNRECOGNIZED_CLIENT] = SIGCHECK_UNRECOGNIZED_CLIENT,
        [SIGV4_INVALID_SIGNATURE] = SIGCHECK_INVALID_SIGNATURE,
        [SIGV4_INTERNAL] = SIGCHECK_INTERNAL,
    };
    err->result = map[r];
    snprintf(err->message, sizeof(err->message), "%s", ve->message);
    free(qkv);
    free(ve);
    return err->result;
}
