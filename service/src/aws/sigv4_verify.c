/*
 * sigv4_verify - see sigv4_verify.h. No I/O, no clock.
 */
#include "sigv4_verify.h"

#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "hex.h"
#include "timeutil.h"

#define S_TERMINATOR "aws4_request"
#define S_ALGORITHM "AWS4-HMAC-SHA256"
#define S_MAX_SIGNED_HEADERS 64
#define S_MAX_SIGNED_VALUES 128
#define S_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static const char *const s_invalid_token = "The security token included in the request is invalid.";

static bool s_is_alnum(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* ---- Authorization header parsing (hostile input) --------------------- */

static bool s_is_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
    }
    return s[n] == '\0';
}

static bool s_is_alnum_str(const char *s, size_t max)
{
    size_t n = 0;
    for (; *s; s++) {
        if (!s_is_alnum((unsigned char)*s) || ++n > max)
            return false;
    }
    return n > 0;
}

/* YYYYMMDD with a plausible month and day. */
static bool s_is_date8(const char *s)
{
    if (strlen(s) != 8 || !s_is_digits(s, 8))
        return false;
    int month = (s[4] - '0') * 10 + (s[5] - '0');
    int day = (s[6] - '0') * 10 + (s[7] - '0');
    return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

/* "a;b;c": lower-case tokens, strictly ascending (so no duplicates). */
static bool s_is_signed_headers(const char *s)
{
    const char *prev = NULL;
    size_t prev_len = 0;

    if (!*s)
        return false;
    while (*s) {
        const char *start = s;
        while (*s && *s != ';') {
            unsigned char c = (unsigned char)*s;
            if (!sigv4_is_token_char(c) || (c >= 'A' && c <= 'Z'))
                return false;
            s++;
        }
        size_t len = (size_t)(s - start);
        if (len == 0 || len > SIGV4_MAX_HEADER_NAME_BYTES)
            return false;
        if (prev) {
            size_t min = prev_len < len ? prev_len : len;
            int c = memcmp(prev, start, min);
            if (c > 0 || (c == 0 && prev_len >= len))
                return false;
        }
        prev = start;
        prev_len = len;
        if (*s == ';') {
            s++;
            if (!*s)
                return false; /* trailing ';' */
        }
    }
    return true;
}

/* Splits the credential in place at its four '/'. */
static int s_parse_credential(char *cred, struct sigv4_auth_header *out)
{
    char *parts[5];
    size_t n = 0;

    parts[n++] = cred;
    for (char *p = cred; *p; p++) {
        if (*p != '/')
            continue;
        if (n == 5)
            return -1;
        *p = '\0';
        parts[n++] = p + 1;
    }
    if (n != 5)
        return -1;
    if (!s_is_alnum_str(parts[0], SIGV4_MAX_SCOPE_PART_BYTES) || !s_is_date8(parts[1]) ||
        !sigv4_is_scope_part(parts[2]) || !sigv4_is_scope_part(parts[3]) ||
        strcmp(parts[4], S_TERMINATOR) != 0)
        return -1;
    out->access_key_id = parts[0];
    out->date = parts[1];
    out->region = parts[2];
    out->service = parts[3];
    out->terminator = parts[4];
    return 0;
}

int sigv4_parse_authorization(const char *header_value, struct sigv4_auth_header *out)
{
    static const char prefix[] = "AWS4-HMAC-SHA256"
                                 " ";
    int rc = -1;
    char *fields[3] = {NULL, NULL, NULL}; /* Credential, SignedHeaders, Signature */
    static const char *const names[3] = {"Credential", "SignedHeaders", "Signature"};

    if (!out)
        return -1;
    memset(out, 0, sizeof(*out));
    if (!header_value)
        goto cleanup;
    /* Never reads past sizeof(storage) bytes of the input. */
    size_t len = strnlen(header_value, sizeof(out->storage));
    if (len >= sizeof(out->storage))
        goto cleanup;
    memcpy(out->storage, header_value, len);
    out->storage[len] = '\0';

    if (len < sizeof(prefix) - 1 || memcmp(out->storage, prefix, sizeof(prefix) - 1) != 0)
        goto cleanup;
    char *p = out->storage + sizeof(prefix) - 1;
    for (int k = 0; k < 3; k++) {
        char *eq = strchr(p, '=');
        if (!eq)
            goto cleanup;
        size_t name_len = (size_t)(eq - p);
        int which = -1;
        for (int i = 0; i < 3; i++) {
            if (strlen(names[i]) == name_len && memcmp(p, names[i], name_len) == 0)
                which = i;
        }
        if (which < 0 || fields[which])
            goto cleanup; /* unknown or repeated component */
        char *value = eq + 1;
        char *end = strchr(value, ',');
        if (k < 2) {
            if (!end)
                goto cleanup;
            *end = '\0';
            p = end + 1;
            if (*p == ' ')
                p++;
        } else if (end) {
            goto cleanup; /* a fourth component or trailing ',' */
        }
        fields[which] = value;
    }

    if (s_parse_credential(fields[0], out) != 0 || !s_is_signed_headers(fields[1]) ||
        !sigv4_is_lower_hex64(fields[2]))
        goto cleanup;
    out->signed_headers = fields[1];
    out->signature = fields[2];
    rc = 0;
cleanup:
    if (rc != 0)
        memset(out, 0, sizeof(*out));
    return rc;
}

/* ---- queries ------------------------------------------------------------- */

/* Percent-decodes s in place; -1 on a bad escape or an encoded NUL. */
static int s_unescape(char *s)
{
    char *o = s;
    for (char *p = s; *p; p++) {
        if (*p == '%') {
            int hi = hex_digit(p[1]), lo = hi >= 0 ? hex_digit(p[2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                return -1;
            *o++ = (char)(hi * 16 + lo);
            p += 2;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return 0;
}

int sigv4_query_split(char *text, struct sigv4_kv *out, size_t max, size_t *n)
{
    *n = 0;
    if (!text)
        return 0;
    char *p = text;
    while (*p) {
        char *amp = strchr(p, '&');
        if (amp)
            *amp = '\0';
        if (*p) { /* "a&&b": empty pieces are skipped, as signers never make them */
            if (*n == max)
                return -1;
            char *eq = strchr(p, '=');
            char *value = p + strlen(p); /* "name" alone: an empty value (writable) */
            if (eq) {
                *eq = '\0';
                value = eq + 1;
            }
            if (s_unescape(p) != 0 || s_unescape(value) != 0)
                return -1;
            out[*n].name = p;
            out[*n].value = value;
            (*n)++;
        }
        if (!amp)
            break;
        p = amp + 1;
    }
    return 0;
}

/* ---- verification ------------------------------------------------------- */

const char *sigv4_verify_error_type(enum sigv4_verify_result r)
{
    switch (r) {
    case SIGV4_OK:
        return "OK";
    case SIGV4_MISSING_AUTH:
        return "MissingAuthenticationTokenException";
    case SIGV4_INCOMPLETE:
        return "IncompleteSignatureException";
    case SIGV4_UNRECOGNIZED_CLIENT:
        return "UnrecognizedClientException";
    case SIGV4_INVALID_SIGNATURE:
        return "InvalidSignatureException";
    case SIGV4_INTERNAL:
        return "InternalFailure";
    }
    return "InternalFailure";
}

int sigv4_verify_http_status(enum sigv4_verify_result r)
{
    switch (r) {
    case SIGV4_OK:
        return 200;
    case SIGV4_INCOMPLETE:
        return 400;
    case SIGV4_INTERNAL:
        return 500;
    default:
        return 403;
    }
}

static enum sigv4_verify_result s_fail(struct sigv4_verify_error *err, enum sigv4_verify_result r,
                                       const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static enum sigv4_verify_result s_fail(struct sigv4_verify_error *err, enum sigv4_verify_result r,
                                       const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    err->result = r;
    return r;
}

static const char *s_header(const struct sigv4_verify_request *req, const char *name)
{
    for (size_t i = 0; i < req->n_headers; i++) {
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    }
    return NULL;
}

static const char *s_query(const struct sigv4_verify_request *req, const char *name, size_t *count)
{
    const char *v = NULL;
    *count = 0;
    for (size_t i = 0; i < req->n_query; i++) {
        if (strcmp(req->query[i].name, name) == 0) {
            if (!v)
                v = req->query[i].value;
            (*count)++;
        }
    }
    return v;
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

/* The presigned query's parameters, checked like the header's parts; 0, or
 * the failure (err set). */
static enum sigv4_verify_result s_presigned(const struct sigv4_verify_request *req,
                                            struct sigv4_auth_header *auth, const char **amz_date,
                                            int64_t *expires_s, struct sigv4_verify_error *err)
{
    static const char *const names[] = {"X-Amz-Algorithm",     "X-Amz-Credential",
                                        "X-Amz-Date",          "X-Amz-Expires",
                                        "X-Amz-SignedHeaders", "X-Amz-Signature"};
    const char *v[6];
    for (int i = 0; i < 6; i++) {
        size_t n = 0;
        v[i] = s_query(req, names[i], &n);
        if (!v[i] || n != 1)
            return s_fail(err, SIGV4_INCOMPLETE,
                          "AWS query-string parameters must include 'X-Amz-Algorithm', "
                          "'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-SignedHeaders', "
                          "'X-Amz-Date' and 'X-Amz-Expires' exactly once.");
    }
    if (strcmp(v[0], S_ALGORITHM) != 0)
        return s_fail(err, SIGV4_INCOMPLETE, "X-Amz-Algorithm only supports 'AWS4-HMAC-SHA256'");
    size_t cl = strnlen(v[1], sizeof(auth->storage));
    size_t sl = strnlen(v[4], sizeof(auth->storage));
    if (cl + sl + 2 > sizeof(auth->storage))
        return s_fail(err, SIGV4_INCOMPLETE, "X-Amz-Credential or X-Amz-SignedHeaders too long");
    memcpy(auth->storage, v[1], cl + 1);
    memcpy(auth->storage + cl + 1, v[4], sl + 1);
    if (s_parse_credential(auth->storage, auth) != 0)
        return s_fail(err, SIGV4_INCOMPLETE,
                      "X-Amz-Credential must be AKID/YYYYMMDD/region/service/aws4_request");
    if (!s_is_signed_headers(auth->storage + cl + 1))
        return s_fail(err, SIGV4_INCOMPLETE,
                      "X-Amz-SignedHeaders must be lower-case header names, sorted, ';'-joined");
    auth->signed_headers = auth->storage + cl + 1;
    if (!sigv4_is_lower_hex64(v[5]))
        return s_fail(err, SIGV4_INCOMPLETE, "X-Amz-Signature must be 64 lower-case hex digits");
    auth->signature = v[5];
    int64_t e = 0;
    const char *p = v[3];
    if (!*p || strlen(p) > 7)
        e = -1;
    for (; *p && e >= 0; p++)
        e = *p >= '0' && *p <= '9' ? e * 10 + (*p - '0') : -1;
    if (e < 1 || e > SIGV4_MAX_PRESIGN_EXPIRES_S)
        return s_fail(err, SIGV4_INCOMPLETE,
                      "X-Amz-Expires must be a number of seconds from 1 to 604800");
    *expires_s = e;
    *amz_date = v[2];
    return SIGV4_OK;
}

enum sigv4_verify_result sigv4_verify(const struct sigv4_verify_config *cfg,
                                      const struct sigv4_verify_request *req,
                                      struct sigv4_verify_error *err)
{
    enum sigv4_verify_result rc = SIGV4_INTERNAL;
    struct sigv4_auth_header *auth = NULL;
    struct sigv4_kv *kvs = NULL, *qkv = NULL;
    char *signed_copy = NULL;
    struct buf creq, sts, signed_list;
    buf_init(&creq, 0);
    buf_init(&sts, 0);
    buf_init(&signed_list, 0);
    memset(err, 0, sizeof(*err));
    unsigned char key[32];
    memset(key, 0, sizeof(key));

    const char *authorization = s_header(req, "authorization");
    size_t n_alg = 0;
    bool presigned = !authorization && s_query(req, "X-Amz-Algorithm", &n_alg) != NULL;
    err->presigned = presigned;
    auth = calloc(1, sizeof(*auth));
    if (!auth) {
        rc = s_fail(err, SIGV4_INTERNAL, "out of memory");
        goto cleanup;
    }
    const char *amz_date = NULL;
    int64_t expires_s = 0;
    if (presigned) {
        if ((rc = s_presigned(req, auth, &amz_date, &expires_s, err)) != SIGV4_OK)
            goto cleanup;
    } else if (!authorization) {
        rc = s_fail(err, SIGV4_MISSING_AUTH, "Missing Authentication Token");
        goto cleanup;
    } else {
        if (sigv4_parse_authorization(authorization, auth) != 0) {
            rc = s_fail(err, SIGV4_INCOMPLETE,
                        "Authorization header requires 'Credential', 'Signature' and "
                        "'SignedHeaders' parameters in the AWS4-HMAC-SHA256 format.");
            goto cleanup;
        }
        amz_date = s_header(req, "x-amz-date");
        if (!amz_date) {
            rc = s_fail(err, SIGV4_INCOMPLETE,
                        "Authorization header requires existence of a 'X-Amz-Date' header.");
            goto cleanup;
        }
    }
    snprintf(err->access_key_id, sizeof(err->access_key_id), "%s", auth->access_key_id);
    const char *key_token = NULL;
    const char *secret = cfg->secret_for(cfg->ctx, auth->access_key_id, &key_token);
    if (!secret) {
        rc = s_fail(err, SIGV4_UNRECOGNIZED_CLIENT, "%s", s_invalid_token);
        goto cleanup;
    }
    if (strcmp(auth->service, cfg->service) != 0) {
        rc = s_fail(err, SIGV4_INVALID_SIGNATURE,
                    "Credential should be scoped to correct service: '%s'.", cfg->service);
        goto cleanup;
    }
    if (strcmp(auth->region, cfg->region) != 0) {
        rc = s_fail(err, SIGV4_INVALID_SIGNATURE,
                    "Credential should be scoped to a valid region, not '%.64s'. Expected '%s'.",
                    auth->region, cfg->region);
        goto cleanup;
    }
    int64_t signed_at = 0;
    if (s_parse_amz_date(amz_date, &signed_at) != 0) {
        rc = s_fail(err, SIGV4_INCOMPLETE, "Date must be in ISO-8601 'basic format'. Got '%.20s'.",
                    amz_date);
        goto cleanup;
    }
    if (strncmp(auth->date, amz_date, 8) != 0) {
        rc = s_fail(err, SIGV4_INVALID_SIGNATURE,
                    "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
                    "date from HTTP: '%.8s' != '%.8s'.",
                    auth->date, amz_date);
        goto cleanup;
    }
    if (signed_at > req->now_s + cfg->max_skew_s) {
        rc = s_fail(err, SIGV4_INVALID_SIGNATURE,
                    "Signature not yet current: %.16s is more than %lld s after the server's "
                    "time.",
                    amz_date, (long long)cfg->max_skew_s);
        goto cleanup;
    }
    if (presigned ? req->now_s > signed_at + expires_s : signed_at < req->now_s - cfg->max_skew_s) {
        rc = s_fail(err, SIGV4_INVALID_SIGNATURE,
                    presigned ? "Request has expired: signed at %.16s for %lld s."
                              : "Signature expired: %.16s is more than %lld s before the "
                                "server's time.",
                    amz_date, (long long)(presigned ? expires_s : cfg->max_skew_s));
        goto cleanup;
    }

    signed_copy = strdup(auth->signed_headers);
    if (!signed_copy) {
        rc = s_fail(err, SIGV4_INTERNAL, "out of memory");
        goto cleanup;
    }
    const char *names[S_MAX_SIGNED_HEADERS];
    size_t n_names = s_split_signed(signed_copy, names, S_MAX_SIGNED_HEADERS);
    if (!s_list_has(names, n_names, "host")) {
        rc = s_fail(err, SIGV4_INVALID_SIGNATURE,
                    "'Host' must be a 'SignedHeader' in the AWS Authorization.");
        goto cleanup;
    }
    if (!presigned && !s_list_has(names, n_names, "x-amz-date")) {
        rc = s_fail(err, SIGV4_INVALID_SIGNATURE,
                    "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.");
        goto cleanup;
    }
    size_t n_tok = 0;
    const char *token = presigned ? s_query(req, "X-Amz-Security-Token", &n_tok)
                                  : s_header(req, "x-amz-security-token");
    if (key_token ? !token || !s_equal_ct(token, key_token) ||
                        (!presigned && !s_list_has(names, n_names, "x-amz-security-token"))
                  : token != NULL) {
        rc = s_fail(err, SIGV4_UNRECOGNIZED_CLIENT, "%s", s_invalid_token);
        goto cleanup;
    }
    /* A presigned request's payload line is the empty body's hash (the
     * SigV4 rule) or UNSIGNED-PAYLOAD (S3's, which some signers use
     * everywhere): both are tried. */
    const char *payload = S_EMPTY_SHA256;
    const char *content_sha = s_header(req, "x-amz-content-sha256");
    if (!presigned && content_sha) {
        if (strcmp(content_sha, S_EMPTY_SHA256) != 0 && strcmp(content_sha, "UNSIGNED-PAYLOAD")) {
            rc = s_fail(err, SIGV4_INVALID_SIGNATURE,
                        "x-amz-content-sha256 must be the hash of the (empty) body.");
            goto cleanup;
        }
        payload = content_sha;
    }

    /* The headers named in SignedHeaders, with the values received (every
     * occurrence, in order: the signer joins repeats with ','). */
    kvs = calloc(S_MAX_SIGNED_VALUES, sizeof(*kvs));
    qkv = calloc(req->n_query ? req->n_query : 1, sizeof(*qkv));
    if (!kvs || !qkv) {
        rc = s_fail(err, SIGV4_INTERNAL, "out of memory");
        goto cleanup;
    }
    size_t n_kvs = 0;
    for (size_t i = 0; i < n_names; i++) {
        bool found = false;
        for (size_t h = 0; h < req->n_headers && n_kvs < S_MAX_SIGNED_VALUES; h++) {
            if (strcasecmp(req->headers[h].name, names[i]) == 0) {
                kvs[n_kvs].name = names[i];
                kvs[n_kvs].value = req->headers[h].value;
                n_kvs++;
                found = true;
            }
        }
        if (!found) {
            rc = s_fail(err, SIGV4_INVALID_SIGNATURE,
                        "The header '%.64s' is signed but was not sent.", names[i]);
            goto cleanup;
        }
    }
    size_t n_q = 0;
    for (size_t i = 0; i < req->n_query; i++) {
        if (presigned && strcmp(req->query[i].name, "X-Amz-Signature") == 0)
            continue;
        qkv[n_q++] = req->query[i];
    }
    struct sigv4_request sreq = {
        .method = req->method,
        .path = req->path,
        .query = qkv,
        .n_query = n_q,
        .headers = kvs,
        .n_headers = n_kvs,
        .payload_sha256_hex = payload,
    };
    struct sigv4_options opts = {
        .region = cfg->region,
        .service = cfg->service,
        .epoch_s = signed_at,
        .normalize_path = !cfg->raw_path,
    };
    char mine[65];
    bool match = false;
    for (int pass = 0; pass < (presigned ? 2 : 1) && !match; pass++) {
        if (pass == 1)
            sreq.payload_sha256_hex = "UNSIGNED-PAYLOAD";
        buf_reset(&creq);
        buf_reset(&sts);
        buf_reset(&signed_list);
        if (sigv4_canonical_request(&sreq, &opts, &creq, &signed_list) != 0 ||
            sigv4_string_to_sign(creq.data, &opts, &sts) != 0 ||
            sigv4_signing_key(secret, &opts, key) != 0 ||
            sigv4_signature(key, sts.data, mine) != 0) {
            rc = s_fail(err, SIGV4_INVALID_SIGNATURE,
                        "The request cannot be canonicalized (its path, query or signed "
                        "headers).");
            goto cleanup;
        }
        match = s_equal_ct(mine, auth->signature);
    }
    if (!match) {
        rc = s_fail(err, SIGV4_INVALID_SIGNATURE,
                    "The request signature we calculated does not match the signature you "
                    "provided. Check your AWS Secret Access Key and signing method.");
        goto cleanup;
    }
    rc = SIGV4_OK;
    err->result = SIGV4_OK;
cleanup:
    OPENSSL_cleanse(key, sizeof(key));
    buf_clean_up(&creq);
    buf_clean_up(&sts);
    buf_clean_up(&signed_list);
    free(kvs);
    free(qkv);
    free(signed_copy);
    if (auth) {
        OPENSSL_cleanse(auth, sizeof(*auth));
        free(auth);
    }
    return rc;
}
