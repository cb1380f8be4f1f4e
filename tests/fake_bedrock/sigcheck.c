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

#include "buf.h"
#include "timeutil.h"

#define S_MAX_SIGNED_HEADERS 64
#define S_MAX_SIGNED_VALUES 128

static const char *const s_invalid_token = "The security token included in the request is invalid.";

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

static enum sigcheck_result s_fail(struct sigcheck_error *err, enum sigcheck_result r,
                                   const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static enum sigcheck_result s_fail(struct sigcheck_error *err, enum sigcheck_result r,
                                   const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    err->result = r;
    return r;
}

const char *sigcheck_header(const struct sigcheck_request *req, const char *name)
{
    for (size_t i = 0; i < req->n_headers; i++) {
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    }
    return NULL;
}

/* "20150830T123600Z" -> epoch seconds; -1 when malformed. */
static int s_parse_amz_date(const char *s, int64_t *epoch_s)
{
    if (strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
        return -1;
    for (int i = 0; i < 15; i++) {
        if (i != 8 && (s[i] < '0' || s[i] > '9'))
            return -1;
    }
    char iso[32];
    snprintf(iso, sizeof(iso), "%.4s-%.2s-%.2sT%.2s:%.2s:%.2sZ", s, s + 4, s + 6, s + 9, s + 11,
             s + 13);
    struct bgw_time t;
    if (timeutil_parse_rfc3339(iso, &t) != 0)
        return -1;
    *epoch_s = t.seconds;
    return 0;
}

/* Splits "host;x-amz-date" into names (pointers into copy). */
static size_t s_split_signed(char *copy, const char *names[], size_t max)
{
    size_t n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ";", &save); tok && n < max; tok = strtok_r(NULL, ";", &save))
        names[n++] = tok;
    return n;
}

static bool s_list_has(const char *const names[], size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcasecmp(names[i], name) == 0)
            return true;
    }
    return false;
}

static bool s_equal_ct(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb)
        return false;
    return CRYPTO_memcmp(a, b, la) == 0;
}

enum sigcheck_result sigcheck_verify(const struct sigcheck_config *cfg,
                                     const struct sigcheck_request *req, struct sigcheck_error *err)
{
    enum sigcheck_result rc = SIGCHECK_INTERNAL;
    struct sigv4_auth_header *auth = NULL;
    struct sigv4_kv *kvs = NULL;
    struct sigv4_kv *qkv = NULL;
    char *signed_copy = NULL;
    struct buf authz, creq, sts;
    buf_init(&authz, 0);
    buf_init(&creq, 0);
    buf_init(&sts, 0);
    err->result = SIGCHECK_OK;
    err->message[0] = '\0';

    const char *authorization = sigcheck_header(req, "authorization");
    if (!authorization) {
        rc = s_fail(err, SIGCHECK_MISSING_AUTH, "Missing Authentication Token");
        goto cleanup;
    }
    auth = calloc(1, sizeof(*auth));
    if (!auth) {
        rc = s_fail(err, SIGCHECK_INTERNAL, "out of memory");
        goto cleanup;
    }
    if (sigv4_parse_authorization(authorization, auth) != 0 || !auth->access_key_id ||
        !auth->date || !auth->region || !auth->service || !auth->terminator ||
        !auth->signed_headers || !auth->signature) {
        rc = s_fail(err, SIGCHECK_INCOMPLETE,
                    "Authorization header requires 'Credential', 'Signature' and "
                    "'SignedHeaders' parameters in the AWS4-HMAC-SHA256 format.");
        goto cleanup;
    }
    const char *amz_date = sigcheck_header(req, "x-amz-date");
    if (!amz_date) {
        rc = s_fail(err, SIGCHECK_INCOMPLETE,
                    "Authorization header requires existence of either a 'X-Amz-Date' or a "
                    "'Date' header.");
        goto cleanup;
    }
    if (!s_equal_ct(auth->access_key_id, cfg->access_key_id)) {
        rc = s_fail(err, SIGCHECK_UNRECOGNIZED_CLIENT, "%s", s_invalid_token);
        goto cleanup;
    }
    if (strcmp(auth->service, cfg->service) != 0) {
        rc = s_fail(err, SIGCHECK_INVALID_SIGNATURE,
                    "Credential should be scoped to correct service: '%s'. ", cfg->service);
        goto cleanup;
    }
    if (strcmp(auth->region, cfg->region) != 0) {
        rc = s_fail(err, SIGCHECK_INVALID_SIGNATURE,
                    "Credential should be scoped to a valid region, not '%.64s'. Expected '%s'.",
                    auth->region, cfg->region);
        goto cleanup;
    }
    if (strcmp(auth->terminator, "aws4_request") != 0) {
        rc = s_fail(err, SIGCHECK_INVALID_SIGNATURE,
                    "Credential should be scoped with a valid terminator: 'aws4_request', not "
                    "'%.64s'.",
                    auth->terminator);
        goto cleanup;
    }
    int64_t signed_at = 0;
    if (s_parse_amz_date(amz_date, &signed_at) != 0) {
        rc = s_fail(err, SIGCHECK_INCOMPLETE,
                    "Date must be in ISO-8601 'basic format'. Got '%.64s'. See "
                    "http://en.wikipedia.org/wiki/ISO_8601",
                    amz_date);
        goto cleanup;
    }
    if (strncmp(auth->date, amz_date, 8) != 0 || strlen(auth->date) != 8) {
        rc = s_fail(err, SIGCHECK_INVALID_SIGNATURE,
                    "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
                    "date from HTTP: '%.16s' != '%.8s', from '%s'.",
                    auth->date, amz_date, amz_date);
        goto cleanup;
    }
    if (signed_at < req->now_s - cfg->max_skew_s || signed_at > req->now_s + cfg->max_skew_s) {
        char now_txt[20], edge_txt[20];
        bool expired = signed_at < req->now_s;
        int64_t edge = expired ? req->now_s - cfg->max_skew_s : req->now_s + cfg->max_skew_s;
        if (timeutil_format_amz_date(req->now_s, now_txt, sizeof(now_txt)) < 0)
            snprintf(now_txt, sizeof(now_txt), "?");
        if (timeutil_format_amz_date(edge, edge_txt, sizeof(edge_txt)) < 0)
            snprintf(edge_txt, sizeof(edge_txt), "?");
        if (expired)
            rc = s_fail(err, SIGCHECK_INVALID_SIGNATURE,
                        "Signature expired: %s is now earlier than %s (%s - %lld sec.)", amz_date,
                        edge_txt, now_txt, (long long)cfg->max_skew_s);
        else
            rc = s_fail(err, SIGCHECK_INVALID_SIGNATURE,
                        "Signature not yet current: %s is still later than %s (%s + %lld sec.)",
                        amz_date, edge_txt, now_txt, (long long)cfg->max_skew_s);
        goto cleanup;
    }

    signed_copy = strdup(auth->signed_headers);
    if (!signed_copy) {
        rc = s_fail(err, SIGCHECK_INTERNAL, "out of memory");
        goto cleanup;
    }
    const char *names[S_MAX_SIGNED_HEADERS];
    size_t n_names = s_split_signed(signed_copy, names, S_MAX_SIGNED_HEADERS);
    if (!s_list_has(names, n_names, "host")) {
        rc = s_fail(err, SIGCHECK_INVALID_SIGNATURE,
                    "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
        goto cleanup;
    }
    if (!s_list_has(names, n_names, "x-amz-date")) {
        rc = s_fail(err, SIGCHECK_INVALID_SIGNATURE,
                    "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.");
        goto cleanup;
    }

    const char *token = sigcheck_header(req, "x-amz-security-token");
    if (cfg->session_token) {
        if (!token || !s_list_has(names, n_names, "x-amz-security-token") ||
            !s_equal_ct(token, cfg->session_token)) {
            rc = s_fail(err, SIGCHECK_UNRECOGNIZED_CLIENT, "%s", s_invalid_token);
            goto cleanup;
        }
    } else if (token) {
        rc = s_fail(err, SIGCHECK_UNRECOGNIZED_CLIENT, "%s", s_invalid_token);
        goto cleanup;
    }

    /* The headers named in SignedHeaders, with the values received (every
     * occurrence, in order: the signer joins repeats with ','). */
    kvs = calloc(S_MAX_SIGNED_VALUES, sizeof(*kvs));
    qkv = calloc(req->query->n ? req->query->n : 1, sizeof(*qkv));
    if (!kvs || !qkv) {
        rc = s_fail(err, SIGCHECK_INTERNAL, "out of memory");
        goto cleanup;
    }
    size_t n_kvs = 0;
    for (size_t i = 0; i < n_names; i++) {
        for (size_t h = 0; h < req->n_headers && n_kvs < S_MAX_SIGNED_VALUES; h++) {
            if (strcasecmp(req->headers[h].name, names[i]) == 0) {
                kvs[n_kvs].name = names[i];
                kvs[n_kvs].value = req->headers[h].value;
                n_kvs++;
            }
        }
    }
    for (size_t i = 0; i < req->query->n; i++) {
        qkv[i].name = req->query->items[i].name;
        qkv[i].value = req->query->items[i].value;
    }
    struct sigv4_request sreq = {
        .method = req->method,
        .path = req->path,
        .query = qkv,
        .n_query = req->query->n,
        .headers = kvs,
        .n_headers = n_kvs,
        .payload_sha256_hex = NULL,
    };
    struct sigv4_credentials creds = {
        .access_key_id = cfg->access_key_id,
        .secret_access_key = cfg->secret_access_key,
        .session_token = cfg->session_token,
    };
    struct sigv4_options opts = {
        .region = cfg->region,
        .service = cfg->service,
        .epoch_s = signed_at,
        .normalize_path = true,
    };
    if (sigv4_sign_headers(&sreq, &creds, &opts, &authz, &creq, &sts) != 0) {
        rc = s_fail(err, SIGCHECK_INTERNAL, "signer failed");
        goto cleanup;
    }
    /* Our own Authorization value: reuse the parser to pick out the
     * signature. */
    struct sigv4_auth_header *mine = calloc(1, sizeof(*mine));
    if (!mine) {
        rc = s_fail(err, SIGCHECK_INTERNAL, "out of memory");
        goto cleanup;
    }
    bool match = sigv4_parse_authorization(authz.data, mine) == 0 && mine->signature &&
                 s_equal_ct(mine->signature, auth->signature);
    free(mine);
    if (!match) {
        rc = s_fail(err, SIGCHECK_INVALID_SIGNATURE,
                    "The request signature we calculated does not match the signature you "
                    "provided. Check your AWS Secret Access Key and signing method. Consult the "
                    "service documentation for details.\n\nThe Canonical String for this request "
                    "should have been\n'%s'\n\nThe String-to-Sign should have been\n'%s'\n",
                    creq.data ? creq.data : "", sts.data ? sts.data : "");
        goto cleanup;
    }
    rc = SIGCHECK_OK;
    err->result = SIGCHECK_OK;
cleanup:
    buf_clean_up_secure(&authz);
    buf_clean_up(&creq);
    buf_clean_up(&sts);
    free(kvs);
    free(qkv);
    free(signed_copy);
    if (auth) {
        OPENSSL_cleanse(auth, sizeof(*auth));
        free(auth);
    }
    return rc;
}
