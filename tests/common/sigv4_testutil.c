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

#define S_TERMINATOR "aws4_request"

static bool s_is_alnum(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

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
