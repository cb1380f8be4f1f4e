/*
 * sigv4 - AWS Signature Version 4 signing, stage by stage. See sigv4.h.
 *
 * Owns nothing beyond the temporary buffers of one call, all bounded by the
 * SIGV4_MAX_* limits in sigv4.h. It never reads the clock, never does I/O
 * and never logs: the secret key, the derived signing key and every
 * intermediate HMAC are wiped before their storage is released.
 *
 * Every function that appends to a caller's buf leaves that buf as it was
 * when it fails, so a caller never sends half a canonical request.
 */
#include "sigv4.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define S_ALGORITHM "AWS4-HMAC-SHA256"
#define S_TERMINATOR "aws4_request"
/* SHA-256 of the empty string, the payload hash of a request without body. */
#define S_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static const char s_hex_upper[] = "0123456789ABCDEF";
static const char s_hex_lower[] = "0123456789abcdef";

/* Restores a buffer to an earlier length (undoing a failed append). */
static void s_truncate(struct buf *b, size_t len)
{
    if (b->data && len <= b->len) {
        b->len = len;
        b->data[len] = '\0';
    }
}

/* ---- small character classes ------------------------------------------ */

static bool s_is_alnum(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool s_is_unreserved(unsigned char c)
{
    return s_is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* RFC 9110 tchar: what a header name or method may contain. */
bool sigv4_is_token_char(unsigned char c)
{
    return s_is_alnum(c) || (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool s_is_token(const char *s)
{
    if (!s || !*s)
        return false;
    for (; *s; s++) {
        if (!sigv4_is_token_char((unsigned char)*s))
            return false;
    }
    return true;
}

/* Region, service and access key id end up inside the '/'-separated
 * credential scope, so they must not contain '/', ',', '=', blanks or
 * controls. AWS only ever uses letters, digits, '-', '_' and '.'. */
bool sigv4_is_scope_part(const char *s)
{
    if (!s || !*s)
        return false;
    size_t n = 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (!(s_is_alnum(c) || c == '-' || c == '_' || c == '.'))
            return false;
        if (++n > SIGV4_MAX_SCOPE_PART_BYTES)
            return false;
    }
    return true;
}

static bool s_is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool sigv4_is_lower_hex64(const char *s)
{
    if (!s)
        return false;
    for (size_t i = 0; i < 64; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return s[64] == '\0';
}

/* ---- hashing ---------------------------------------------------------- */

static void s_to_hex(const unsigned char *in, size_t len, char *out)
{
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = s_hex_lower[in[i] >> 4];
        out[2 * i + 1] = s_hex_lower[in[i] & 0x0f];
    }
    out[2 * len] = '\0';
}

void sigv4_sha256_hex(const void *data, size_t len, char hex_out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;

    if (!data && len) {
        hex_out[0] = '\0';
        return;
    }
    if (EVP_Digest(data ? data : "", len, md, &md_len, EVP_sha256(), NULL) != 1 || md_len != 32) {
        /* Only on an OpenSSL failure: an empty string never verifies. */
        hex_out[0] = '\0';
        return;
    }
    s_to_hex(md, 32, hex_out);
}

static int s_hmac(const unsigned char *key, size_t key_len, const void *data, size_t len,
                  unsigned char out[32])
{
    unsigned int out_len = 0;

    if (key_len > (size_t)INT32_MAX)
        return -1;
    if (!HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &out_len) || out_len != 32)
        return -1;
    return 0;
}

/* ---- dates ------------------------------------------------------------ */

int sigv4_amz_date(int64_t epoch_s, char out[17])
{
    /* 0000-01-01 .. 9999-12-31 would do, but the signer has no business
     * with dates before the epoch. */
    if (epoch_s < 0 || epoch_s > SIGV4_MAX_EPOCH_S)
        return -1;

    int64_t days = epoch_s / 86400;
    int64_t secs = epoch_s % 86400;

    /* Days since 1970-01-01 to a civil date (proleptic Gregorian), using
     * 400-year eras that start on 0000-03-01. */
    int64_t z = days + 719468;
    int64_t era = z / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t day = doy - (153 * mp + 2) / 5 + 1;
    int64_t month = mp < 10 ? mp + 3 : mp - 9;
    int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);

    int64_t fields[6] = {year, month, day, secs / 3600, (secs / 60) % 60, secs % 60};
    static const int widths[6] = {4, 2, 2, 2, 2, 2};
    char *p = out;
    for (int f = 0; f < 6; f++) {
        int64_t v = fields[f];
        for (int i = widths[f] - 1; i >= 0; i--) {
            p[i] = (char)('0' + v % 10);
            v /= 10;
        }
        p += widths[f];
        if (f == 2)
            *p++ = 'T';
    }
    *p++ = 'Z';
    *p = '\0';
    return 0;
}

/* ---- encoding --------------------------------------------------------- */

int sigv4_uri_encode(const char *in, size_t len, bool keep_slash, struct buf *out)
{
    size_t old_len = out->len;

    if (!in && len)
        return -1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        int rc;
        if (s_is_unreserved(c) || (keep_slash && c == '/')) {
            rc = buf_append_char(out, (char)c);
        } else {
            char esc[3] = {'%', s_hex_upper[c >> 4], s_hex_upper[c & 0x0f]};
            rc = buf_append(out, esc, 3);
        }
        if (rc != 0) {
            s_truncate(out, old_len);
            return -1;
        }
    }
    if (len == 0 && buf_append(out, "", 0) != 0)
        return -1;
    return 0;
}

/* ---- canonical URI ---------------------------------------------------- */

/* Removes "." and ".." segments and empty segments ("//"), as
 * RFC 3986 5.2.4 does for dot segments; a trailing '/' (or a final "." or
 * "..") leaves a trailing '/'. The result always starts with '/'. */
static int s_normalize_path(const char *path, size_t len, struct buf *out)
{
    size_t base = out->len;
    bool trailing = false;
    size_t i = 0;

    while (i < len) {
        while (i < len && path[i] == '/')
            i++;
        size_t start = i;
        while (i < len && path[i] != '/')
            i++;
        size_t seg_len = i - start;
        const char *seg = path + start;
        trailing = (i < len) || seg_len == 0; /* followed by '/', or path ended in '/' */

        if (seg_len == 0)
            continue;
        if (seg_len == 1 && seg[0] == '.') {
            trailing = true;
            continue;
        }
        if (seg_len == 2 && seg[0] == '.' && seg[1] == '.') {
            /* Pop the last segment written (never above the root). */
            size_t j = out->len;
            while (j > base && out->data[j - 1] != '/')
                j--;
            if (j > base)
                j--;
            s_truncate(out, j);
            trailing = true;
            continue;
        }
        if (buf_append_char(out, '/') != 0 || buf_append(out, seg, seg_len) != 0)
            return -1;
    }
    if (out->len == base || trailing) {
        if (buf_append_char(out, '/') != 0)
            return -1;
    }
    return 0;
}

static int s_canonical_uri(const char *path, bool normalize, struct buf *out)
{
    int rc = -1;
    struct buf tmp;
    buf_init(&tmp, SIGV4_MAX_CANONICAL_BYTES);

    if (!path || !*path)
        path = "/";
    size_t len = strlen(path);
    if (path[0] != '/' || len > SIGV4_MAX_CANONICAL_BYTES)
        goto cleanup;
    if (normalize) {
        if (s_normalize_path(path, len, &tmp) != 0)
            goto cleanup;
        path = tmp.data;
        len = tmp.len;
    }
    if (sigv4_uri_encode(path, len, true, out) != 0)
        goto cleanup;
    rc = 0;
cleanup:
    buf_clean_up(&tmp);
    return rc;
}

/* ---- canonical query -------------------------------------------------- */

struct s_param {
    const char *name; /* encoded, NUL-terminated, inside a scratch buf */
    const char *value;
};

static int s_param_cmp(const void *a, const void *b)
{
    const struct s_param *pa = a;
    const struct s_param *pb = b;
    int c = strcmp(pa->name, pb->name);
    return c ? c : strcmp(pa->value, pb->value);
}

/* Appends the sorted, encoded "n=v&n=v" form of q[0..n) to out. */
static int s_canonical_query(const struct sigv4_kv *q, size_t n, struct buf *out)
{
    int rc = -1;
    size_t *offs = NULL;
    struct s_param *params = NULL;
    struct buf scratch;
    buf_init(&scratch, SIGV4_MAX_CANONICAL_BYTES);

    if (n == 0) {
        rc = buf_append(out, "", 0);
        goto cleanup;
    }
    if (!q || n > SIGV4_MAX_QUERY_PARAMS)
        goto cleanup;
    offs = calloc(2 * n, sizeof(*offs));
    params = calloc(n, sizeof(*params));
    if (!offs || !params)
        goto cleanup;

    /* Encode everything first; take pointers only once scratch stops
     * growing (it may move while it grows). */
    for (size_t i = 0; i < n; i++) {
        const char *name = q[i].name ? q[i].name : "";
        const char *value = q[i].value ? q[i].value : "";
        offs[2 * i] = scratch.len;
        if (sigv4_uri_encode(name, strlen(name), false, &scratch) != 0 ||
            buf_append_char(&scratch, '\0') != 0)
            goto cleanup;
        offs[2 * i + 1] = scratch.len;
        if (sigv4_uri_encode(value, strlen(value), false, &scratch) != 0 ||
            buf_append_char(&scratch, '\0') != 0)
            goto cleanup;
    }
    for (size_t i = 0; i < n; i++) {
        params[i].name = scratch.data + offs[2 * i];
        params[i].value = scratch.data + offs[2 * i + 1];
    }
    qsort(params, n, sizeof(*params), s_param_cmp);

    size_t old_len = out->len;
    for (size_t i = 0; i < n; i++) {
        if ((i && buf_append_char(out, '&') != 0) || buf_append_str(out, params[i].name) != 0 ||
            buf_append_char(out, '=') != 0 || buf_append_str(out, params[i].value) != 0) {
            s_truncate(out, old_len);
            goto cleanup;
        }
    }
    rc = 0;
cleanup:
    free(params);
    free(offs);
    buf_clean_up_secure(&scratch); /* may hold a session token */
    return rc;
}

/* ---- canonical headers ------------------------------------------------ */

struct s_header {
    const char *name;  /* as given */
    const char *value; /* as given */
    size_t index;      /* position in the request, for a stable sort */
};

static int s_header_cmp(const void *a, const void *b)
{
    const struct s_header *ha = a;
    const struct s_header *hb = b;
    int c = strcasecmp(ha->name, hb->name);
    if (c)
        return c;
    return ha->index < hb->index ? -1 : (ha->index > hb->index ? 1 : 0);
}

static int s_append_lower(struct buf *out, const char *s)
{
    for (; *s; s++) {
        char c = *s;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (buf_append_char(out, c) != 0)
            return -1;
    }
    return 0;
}

/* Appends the value trimmed, with each run of blanks (including folded
 * line breaks) collapsed to one space. Other control bytes are refused. */
static int s_append_trimmed(struct buf *out, const char *v)
{
    bool pending_space = false;
    bool any = false;

    for (; *v; v++) {
        unsigned char c = (unsigned char)*v;
        if (s_is_ws(c)) {
            pending_space = any;
            continue;
        }
        if (c < 0x20 || c == 0x7f)
            return -1;
        if (pending_space && buf_append_char(out, ' ') != 0)
            return -1;
        if (buf_append_char(out, (char)c) != 0)
            return -1;
        pending_space = false;
        any = true;
    }
    return 0;
}

/* Appends "name:value\n" lines to headers_out and "a;b" to signed_out. */
static int s_canonical_headers(const struct sigv4_kv *h, size_t n, struct buf *headers_out,
                               struct buf *signed_out)
{
    int rc = -1;
    struct s_header *sorted = NULL;
    size_t old_h = headers_out->len;
    size_t old_s = signed_out->len;

    if (n == 0 || !h || n > SIGV4_MAX_HEADERS)
        goto cleanup; /* at least host must be signed */
    sorted = calloc(n, sizeof(*sorted));
    if (!sorted)
        goto cleanup;
    for (size_t i = 0; i < n; i++) {
        if (!s_is_token(h[i].name) || strlen(h[i].name) > SIGV4_MAX_HEADER_NAME_BYTES)
            goto cleanup;
        sorted[i].name = h[i].name;
        sorted[i].value = h[i].value ? h[i].value : "";
        sorted[i].index = i;
    }
    qsort(sorted, n, sizeof(*sorted), s_header_cmp);

    for (size_t i = 0; i < n; i++) {
        bool same = i > 0 && strcasecmp(sorted[i].name, sorted[i - 1].name) == 0;
        if (same) {
            if (buf_append_char(headers_out, ',') != 0)
                goto cleanup;
        } else {
            if (i > 0 &&
                (buf_append_char(headers_out, '\n') != 0 || buf_append_char(signed_out, ';') != 0))
                goto cleanup;
            if (s_append_lower(headers_out, sorted[i].name) != 0 ||
                buf_append_char(headers_out, ':') != 0 ||
                s_append_lower(signed_out, sorted[i].name) != 0)
                goto cleanup;
        }
        if (s_append_trimmed(headers_out, sorted[i].value) != 0)
            goto cleanup;
    }
    if (buf_append_char(headers_out, '\n') != 0)
        goto cleanup;
    rc = 0;
cleanup:
    if (rc != 0) {
        s_truncate(headers_out, old_h);
        s_truncate(signed_out, old_s);
    }
    free(sorted);
    return rc;
}

/* ---- stage 1 ---------------------------------------------------------- */

int sigv4_canonical_request(const struct sigv4_request *req, const struct sigv4_options *opts,
                            struct buf *out, struct buf *signed_headers)
{
    int rc = -1;
    struct buf creq;
    struct buf hdrs;
    struct buf signed_list;
    buf_init(&creq, SIGV4_MAX_CANONICAL_BYTES);
    buf_init(&hdrs, SIGV4_MAX_CANONICAL_BYTES);
    buf_init(&signed_list, SIGV4_MAX_CANONICAL_BYTES);

    if (!req || !opts || !out || !s_is_token(req->method))
        goto cleanup;
    const char *payload = req->payload_sha256_hex ? req->payload_sha256_hex : S_EMPTY_SHA256;
    if (!sigv4_is_lower_hex64(payload) && strcmp(payload, "UNSIGNED-PAYLOAD") != 0)
        goto cleanup;
    if (s_canonical_headers(req->headers, req->n_headers, &hdrs, &signed_list) != 0)
        goto cleanup;

    if (buf_append_str(&creq, req->method) != 0 || buf_append_char(&creq, '\n') != 0 ||
        s_canonical_uri(req->path, opts->normalize_path, &creq) != 0 ||
        buf_append_char(&creq, '\n') != 0 ||
        s_canonical_query(req->query, req->n_query, &creq) != 0 ||
        buf_append_char(&creq, '\n') != 0 || buf_append(&creq, hdrs.data, hdrs.len) != 0 ||
        buf_append_char(&creq, '\n') != 0 ||
        buf_append(&creq, signed_list.data, signed_list.len) != 0 ||
        buf_append_char(&creq, '\n') != 0 || buf_append_str(&creq, payload) != 0)
        goto cleanup;

    size_t old_out = out->len;
    if (buf_append(out, creq.data, creq.len) != 0)
        goto cleanup;
    if (signed_headers && buf_append(signed_headers, signed_list.data, signed_list.len) != 0) {
        s_truncate(out, old_out);
        goto cleanup;
    }
    rc = 0;
cleanup:
    buf_clean_up_secure(&creq); /* may hold x-amz-security-token */
    buf_clean_up_secure(&hdrs);
    buf_clean_up(&signed_list);
    return rc;
}

/* ---- stage 2 ---------------------------------------------------------- */

/* Appends "YYYYMMDD/region/service/aws4_request". */
static int s_append_scope(const struct sigv4_options *opts, const char amz_date[17],
                          struct buf *out)
{
    return buf_appendf(out, "%.8s/%s/%s/" S_TERMINATOR, amz_date, opts->region, opts->service);
}

static bool s_options_ok(const struct sigv4_options *opts)
{
    return opts && sigv4_is_scope_part(opts->region) && sigv4_is_scope_part(opts->service);
}

int sigv4_string_to_sign(const char *canonical_request, const struct sigv4_options *opts,
                         struct buf *out)
{
    char amz_date[17];
    char hash[65];

    if (!canonical_request || !out || !s_options_ok(opts))
        return -1;
    if (sigv4_amz_date(opts->epoch_s, amz_date) != 0)
        return -1;
    sigv4_sha256_hex(canonical_request, strlen(canonical_request), hash);
    if (hash[0] == '\0')
        return -1;

    size_t old_len = out->len;
    if (buf_appendf(out, S_ALGORITHM "\n%s\n", amz_date) != 0 ||
        s_append_scope(opts, amz_date, out) != 0 || buf_appendf(out, "\n%s", hash) != 0) {
        s_truncate(out, old_len);
        return -1;
    }
    return 0;
}

/* ---- stages 3 and 4 --------------------------------------------------- */

int sigv4_signing_key(const char *secret_access_key, const struct sigv4_options *opts,
                      unsigned char key_out[32])
{
    int rc = -1;
    char amz_date[17];
    unsigned char k_date[32];
    unsigned char k_region[32];
    unsigned char k_service[32];
    struct buf secret;
    buf_init(&secret, SIGV4_MAX_SECRET_BYTES + 4);

    if (!secret_access_key || !*secret_access_key || !key_out || !s_options_ok(opts))
        goto cleanup;
    if (sigv4_amz_date(opts->epoch_s, amz_date) != 0)
        goto cleanup;
    if (buf_append_str(&secret, "AWS4") != 0 || buf_append_str(&secret, secret_access_key) != 0)
        goto cleanup;
    if (s_hmac((const unsigned char *)secret.data, secret.len, amz_date, 8, k_date) != 0 ||
        s_hmac(k_date, 32, opts->region, strlen(opts->region), k_region) != 0 ||
        s_hmac(k_region, 32, opts->service, strlen(opts->service), k_service) != 0 ||
        s_hmac(k_service, 32, S_TERMINATOR, strlen(S_TERMINATOR), key_out) != 0)
        goto cleanup;
    rc = 0;
cleanup:
    if (rc != 0 && key_out)
        OPENSSL_cleanse(key_out, 32);
    OPENSSL_cleanse(k_date, sizeof(k_date));
    OPENSSL_cleanse(k_region, sizeof(k_region));
    OPENSSL_cleanse(k_service, sizeof(k_service));
    buf_clean_up_secure(&secret);
    return rc;
}

int sigv4_signature(const unsigned char key[32], const char *string_to_sign, char hex_out[65])
{
    unsigned char mac[32];

    if (!key || !string_to_sign || !hex_out)
        return -1;
    if (s_hmac(key, 32, string_to_sign, strlen(string_to_sign), mac) != 0) {
        hex_out[0] = '\0';
        return -1;
    }
    s_to_hex(mac, 32, hex_out);
    OPENSSL_cleanse(mac, sizeof(mac));
    return 0;
}

/* ---- all stages ------------------------------------------------------- */

/* Canonical request -> string to sign -> signature. creq and sts receive
 * the intermediate texts (empty on entry). */
static int s_sign(const struct sigv4_request *req, const struct sigv4_credentials *creds,
                  const struct sigv4_options *opts, struct buf *creq, struct buf *signed_list,
                  struct buf *sts, char signature[65])
{
    int rc = -1;
    unsigned char key[32];

    if (sigv4_canonical_request(req, opts, creq, signed_list) != 0 ||
        sigv4_string_to_sign(creq->data, opts, sts) != 0 ||
        sigv4_signing_key(creds->secret_access_key, opts, key) != 0 ||
        sigv4_signature(key, sts->data, signature) != 0)
        goto cleanup;
    rc = 0;
cleanup:
    OPENSSL_cleanse(key, sizeof(key));
    return rc;
}

/* Copies the debug texts to the caller's buffers, all or nothing. */
static int s_copy_debug(const struct buf *creq, struct buf *creq_out, const struct buf *sts,
                        struct buf *sts_out)
{
    size_t old_c = creq_out ? creq_out->len : 0;

    if (creq_out && buf_append(creq_out, creq->data, creq->len) != 0)
        return -1;
    if (sts_out && buf_append(sts_out, sts->data, sts->len) != 0) {
        if (creq_out)
            s_truncate(creq_out, old_c);
        return -1;
    }
    return 0;
}

static bool s_credentials_ok(const struct sigv4_credentials *creds)
{
    return creds && sigv4_is_scope_part(creds->access_key_id) && creds->secret_access_key &&
           *creds->secret_access_key && strlen(creds->secret_access_key) <= SIGV4_MAX_SECRET_BYTES;
}

int sigv4_sign_headers(const struct sigv4_request *req, const struct sigv4_credentials *creds,
                       const struct sigv4_options *opts, struct buf *authorization,
                       struct buf *canonical_request_out, struct buf *string_to_sign_out)
{
    int rc = -1;
    char amz_date[17];
    char signature[65] = "";
    struct buf creq;
    struct buf signed_list;
    struct buf sts;
    struct buf auth;
    buf_init(&creq, SIGV4_MAX_CANONICAL_BYTES);
    buf_init(&signed_list, SIGV4_MAX_CANONICAL_BYTES);
    buf_init(&sts, SIGV4_MAX_CANONICAL_BYTES);
    buf_init(&auth, SIGV4_MAX_CANONICAL_BYTES);

    if (!authorization || !s_credentials_ok(creds) || !s_options_ok(opts) ||
        sigv4_amz_date(opts->epoch_s, amz_date) != 0)
        goto cleanup;
    if (s_sign(req, creds, opts, &creq, &signed_list, &sts, signature) != 0)
        goto cleanup;
    if (buf_appendf(&auth, S_ALGORITHM " Credential=%s/", creds->access_key_id) != 0 ||
        s_append_scope(opts, amz_date, &auth) != 0 ||
        buf_appendf(&auth, ", SignedHeaders=%s, Signature=%s", signed_list.data, signature) != 0)
        goto cleanup;

    size_t old_len = authorization->len;
    if (buf_append(authorization, auth.data, auth.len) != 0)
        goto cleanup;
    if (s_copy_debug(&creq, canonical_request_out, &sts, string_to_sign_out) != 0) {
        s_truncate(authorization, old_len);
        goto cleanup;
    }
    rc = 0;
cleanup:
    buf_clean_up_secure(&creq);
    buf_clean_up(&signed_list);
    buf_clean_up(&sts);
    buf_clean_up(&auth);
    return rc;
}
