/*
 * sigv4_testutil - SigV4 pieces only the tests and the emulator need:
 * presigning a query (the AWS suite's query-auth cases) and parsing an
 * Authorization header (the emulator verifies every signature the gateway
 * makes). Built on sigv4.h's public stages; not part of the service.
 */
#include "sigv4_testutil.h"

#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Appends "&name=<encoded value>" (no '&' when out is at start). */
static int s_append_param(struct buf *out, size_t start, const char *name, const char *value)
{
    if (out->len > start && buf_append_char(out, '&') != 0)
        return -1;
    if (buf_append_str(out, name) != 0 || buf_append_char(out, '=') != 0)
        return -1;
    return sigv4_uri_encode(value, strlen(value), false, out);
}

int sigv4_presign_query(const struct sigv4_request *req, const struct sigv4_credentials *creds,
                        const struct sigv4_options *opts, int64_t expires_s, struct buf *query_out,
                        struct buf *canonical_request_out, struct buf *string_to_sign_out)
{
    int rc = -1;
    char amz_date[17];
    char expires[24];
    char signature[65] = "";
    struct sigv4_kv *all = NULL;
    struct sigv4_request signed_req;
    struct buf credential;
    struct buf hdrs;
    struct buf signed_list;
    struct buf creq;
    struct buf sts;
    struct buf query;
    buf_init(&credential, SIGV4_MAX_CANONICAL_BYTES);
    buf_init(&hdrs, SIGV4_MAX_CANONICAL_BYTES);
    buf_init(&signed_list, SIGV4_MAX_CANONICAL_BYTES);
    buf_init(&creq, SIGV4_MAX_CANONICAL_BYTES);
    buf_init(&sts, SIGV4_MAX_CANONICAL_BYTES);
    buf_init(&query, SIGV4_MAX_CANONICAL_BYTES);

    if (!req || !query_out || !creds || !creds->access_key_id || !creds->secret_access_key ||
        !opts || !sigv4_is_scope_part(opts->region) || !sigv4_is_scope_part(opts->service) ||
        sigv4_amz_date(opts->epoch_s, amz_date) != 0)
        goto cleanup;
    if (expires_s < 1 || expires_s > SIGV4_MAX_PRESIGN_EXPIRES_S)
        goto cleanup;
    if (req->n_query > SIGV4_MAX_QUERY_PARAMS - 6) /* room for the X-Amz-* ones */
        goto cleanup;
    const char *token = creds->session_token && *creds->session_token ? creds->session_token : NULL;
    snprintf(expires, sizeof(expires), "%lld", (long long)expires_s);
    if (buf_appendf(&credential, "%s/%.8s/%s/%s/aws4_request", creds->access_key_id, amz_date,
                    opts->region, opts->service) != 0)
        goto cleanup;
    /* the signed-header list of req (its canonical request is discarded) */
    if (sigv4_canonical_request(req, opts, &hdrs, &signed_list) != 0)
        goto cleanup;

    /* The request's own parameters plus the X-Amz-* ones, all signed. */
    all = calloc(req->n_query + 6, sizeof(*all));
    if (!all)
        goto cleanup;
    size_t n = 0;
    for (size_t i = 0; i < req->n_query; i++)
        all[n++] = req->query[i];
    all[n++] = (struct sigv4_kv){"X-Amz-Algorithm", "AWS4-HMAC-SHA256"};
    all[n++] = (struct sigv4_kv){"X-Amz-Credential", credential.data};
    all[n++] = (struct sigv4_kv){"X-Amz-Date", amz_date};
    all[n++] = (struct sigv4_kv){"X-Amz-Expires", expires};
    if (token)
        all[n++] = (struct sigv4_kv){"X-Amz-Security-Token", token};
    all[n++] = (struct sigv4_kv){"X-Amz-SignedHeaders", signed_list.data};

    signed_req = *req;
    signed_req.query = all;
    signed_req.n_query = n;
    unsigned char key[32];
    int signed_ok = sigv4_canonical_request(&signed_req, opts, &creq, NULL) == 0 &&
                    sigv4_string_to_sign(creq.data, opts, &sts) == 0 &&
                    sigv4_signing_key(creds->secret_access_key, opts, key) == 0 &&
                    sigv4_signature(key, sts.data, signature) == 0;
    OPENSSL_cleanse(key, sizeof(key));
    if (!signed_ok)
        goto cleanup;

    /* The order AWS SDKs send them in; the signature covers the sorted form. */
    if (s_append_param(&query, 0, "X-Amz-Algorithm", "AWS4-HMAC-SHA256") != 0 ||
        s_append_param(&query, 0, "X-Amz-Credential", credential.data) != 0 ||
        s_append_param(&query, 0, "X-Amz-Date", amz_date) != 0 ||
        s_append_param(&query, 0, "X-Amz-SignedHeaders", signed_list.data) != 0 ||
        s_append_param(&query, 0, "X-Amz-Expires", expires) != 0 ||
        (token && s_append_param(&query, 0, "X-Amz-Security-Token", token) != 0) ||
        s_append_param(&query, 0, "X-Amz-Signature", signature) != 0)
        goto cleanup;

    size_t old_len = query_out->len;
    if (buf_append(query_out, query.data, query.len) != 0)
        goto cleanup;
    if ((canonical_request_out && buf_append(canonical_request_out, creq.data, creq.len) != 0) ||
        (string_to_sign_out && buf_append(string_to_sign_out, sts.data, sts.len) != 0)) {
        query_out->len = old_len;
        if (query_out->data)
            query_out->data[old_len] = '\0';
        goto cleanup;
    }
    rc = 0;
cleanup:
    free(all);
    buf_clean_up(&credential);
    buf_clean_up_secure(&hdrs);
    buf_clean_up(&signed_list);
    buf_clean_up_secure(&creq);
    buf_clean_up(&sts);
    buf_clean_up_secure(&query);
    return rc;
}
