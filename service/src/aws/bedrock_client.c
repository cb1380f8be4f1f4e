/*
 * bedrock_client - the I/O-free half of talking to Bedrock's
 * ListModelImportJobs. See bedrock_client.h.
 *
 * Owns nothing beyond what it hands back: the request description
 * (bedrock_http_request, freed and wiped by bedrock_http_request_clean_up)
 * and the parsed page (jobs_response, freed by jobs_response_clean_up).
 * Never does I/O, never reads the clock, and never copies a credential, a
 * signature or an upstream message that may contain them into a bgw_error.
 * Every temporary buffer that held the session token or the Authorization
 * value is wiped before it is freed.
 */
#include "bedrock_client.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bedrock_list_parse.h"
#include "buf.h"
#include "json_write.h"
#include "timeutil.h"

/* Bedrock's signing name (DESIGN.md section 2). */
#define S_SIGNING_SERVICE "bedrock"
#define S_OPERATION_PATH "/model-import-jobs"
/* URL bound: nextToken (2048) may triple when encoded; the rest is small. */
#define S_URL_MAX (16u * 1024u)
/* Header line bound: the session token is the longest (STS tokens run to a
 * few KiB). */
#define S_HEADER_MAX (16u * 1024u)
/* How much of Bedrock's error message a client may see. */
#define S_UPSTREAM_MESSAGE_MAX 200
/* How long an error type name may be before it is cut. */
#define S_ERROR_TYPE_MAX 64
#define S_RETRY_AFTER_MIN_S 1
#define S_RETRY_AFTER_MAX_S 3600
#define S_RETRY_AFTER_DEFAULT_S 1
#define S_REGION_MAX 64

/* ------------------------------------------------------------------------ */
/* endpoint                                                                  */

static int s_fail(char *err_msg, size_t err_len, const char *reason)
{
    if (err_msg && err_len > 0)
        snprintf(err_msg, err_len, "%s", reason);
    return -1;
}

static bool s_is_unreserved(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* Checks "/a/b" (already without trailing slashes): unreserved characters
 * only, no empty, "." or ".." segments, so that the path sent on the wire is
 * exactly the path SigV4 signs after normalization. */
static int s_check_base_path(const char *p, size_t len, char *err_msg, size_t err_len)
{
    size_t seg_start = 1;
    for (size_t i = 1; i <= len; i++) {
        if (i == len || p[i] == '/') {
            size_t seg_len = i - seg_start;
            if (seg_len == 0)
                return s_fail(err_msg, err_len, "endpoint URL path must not contain '//'");
            if ((seg_len == 1 && p[seg_start] == '.') ||
                (seg_len == 2 && p[seg_start] == '.' && p[seg_start + 1] == '.'))
                return s_fail(err_msg, err_len,
                              "endpoint URL path must not contain '.' or '..' segments");
            seg_start = i + 1;
            continue;
        }
        if (!s_is_unreserved((unsigned char)p[i]))
            return s_fail(err_msg, err_len,
                          "endpoint URL path may contain only letters, digits, '-', '.', '_', "
                          "'~' and '/'");
    }
    return 0;
}

static int s_parse_port(const char *p, size_t len, int *port_out, char *err_msg, size_t err_len)
{
    if (len == 0)
        return s_fail(err_msg, err_len, "endpoint URL has an empty port");
    if (len > 5)
        return s_fail(err_msg, err_len, "endpoint URL port must be 1-65535");
    long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return s_fail(err_msg, err_len, "endpoint URL port must be a decimal number");
        v = v * 10 + (p[i] - '0');
    }
    if (v < 1 || v > 65535)
        return s_fail(err_msg, err_len, "endpoint URL port must be 1-65535");
    *port_out = (int)v;
    return 0;
}

/* The whole URL: printable ASCII without blanks, no query or fragment. */
static int s_check_url_chars(const char *url, char *err_msg, size_t err_len)
{
    if (url[0] == '\0')
        return s_fail(err_msg, err_len, "endpoint URL is empty");
    for (const char *c = url; *c; c++) {
        unsigned char uc = (unsigned char)*c;
        if (uc <= 0x20 || uc >= 0x7f)
            return s_fail(err_msg, err_len,
                          "endpoint URL must not contain spaces, control or non-ASCII characters");
    }
    if (strchr(url, '?'))
        return s_fail(err_msg, err_len, "endpoint URL must not contain a query ('?')");
    if (strchr(url, '#'))
        return s_fail(err_msg, err_len, "endpoint URL must not contain a fragment ('#')");
    return 0;
}

/* The authority [host or [v6]][:port] of len bytes at rest into ep. */
static int s_parse_authority(const char *rest, size_t auth_len, struct bedrock_endpoint *ep,
                             char *err_msg, size_t err_len)
{
    if (memchr(rest, '@', auth_len))
        return s_fail(err_msg, err_len, "endpoint URL must not contain user info ('@')");
    if (auth_len == 0)
        return s_fail(err_msg, err_len, "endpoint URL has no host");
    const char *host = rest;
    size_t host_len = auth_len;
    const char *port_p = NULL;
    size_t port_len = 0;
    bool ipv6 = rest[0] == '[';
    if (ipv6) {
        const char *close = memchr(rest, ']', auth_len);
        if (!close)
            return s_fail(err_msg, err_len, "endpoint URL has an unterminated IPv6 literal");
        host = rest + 1;
        host_len = (size_t)(close - host);
        size_t after = (size_t)(close + 1 - rest);
        if (after < auth_len) {
            if (rest[after] != ':')
                return s_fail(err_msg, err_len, "endpoint URL has junk after the IPv6 literal");
            port_p = rest + after + 1;
            port_len = auth_len - after - 1;
        }
    } else {
        const char *colon = memchr(rest, ':', auth_len);
        if (colon) {
            host_len = (size_t)(colon - rest);
            port_p = colon + 1;
            port_len = auth_len - host_len - 1;
        }
    }
    if (host_len == 0)
        return s_fail(err_msg, err_len, "endpoint URL has no host");
    if (host_len >= sizeof(ep->host))
        return s_fail(err_msg, err_len, "endpoint URL host is too long");
    memcpy(ep->host, host, host_len);
    ep->host[host_len] = '\0';
    if (ipv6) {
        unsigned char addr[16];
        if (inet_pton(AF_INET6, ep->host, addr) != 1)
            return s_fail(err_msg, err_len, "endpoint URL has an invalid IPv6 literal");
    } else {
        for (size_t i = 0; i < host_len; i++) {
            unsigned char c = (unsigned char)ep->host[i];
            if (!(isalnum(c) || c == '-' || c == '.' || c == '_'))
                return s_fail(err_msg, err_len,
                              "endpoint URL host may contain only letters, digits, '-', '.' "
                              "and '_'");
            ep->host[i] = (char)tolower(c);
        }
        if (ep->host[0] == '.' || ep->host[0] == '-')
            return s_fail(err_msg, err_len, "endpoint URL host is not a valid name");
    }
    return port_p ? s_parse_port(port_p, port_len, &ep->port, err_msg, err_len) : 0;
}

int bedrock_endpoint_parse(const char *url, struct bedrock_endpoint *out, char *err_msg,
                           size_t err_len)
{
    struct bedrock_endpoint ep;
    memset(&ep, 0, sizeof(ep));
    if (err_msg && err_len > 0)
        err_msg[0] = '\0';
    if (!url || !out)
        return s_fail(err_msg, err_len, "endpoint URL is missing");
    if (s_check_url_chars(url, err_msg, err_len) != 0)
        return -1;
    const char *rest;
    if (strncasecmp(url, "https://", 8) == 0) {
        snprintf(ep.scheme, sizeof(ep.scheme), "https");
        rest = url + 8;
    } else if (strncasecmp(url, "http://", 7) == 0) {
        snprintf(ep.scheme, sizeof(ep.scheme), "http");
        rest = url + 7;
    } else {
        return s_fail(err_msg, err_len, "endpoint URL must start with http:// or https://");
    }
    size_t auth_len = strcspn(rest, "/");
    const char *path = rest + auth_len;
    if (s_parse_authority(rest, auth_len, &ep, err_msg, err_len) != 0)
        return -1;
    /* optional base path, trailing slashes dropped */
    size_t path_len = strlen(path);
    while (path_len > 0 && path[path_len - 1] == '/')
        path_len--;
    if (path_len > 0) {
        if (path_len >= sizeof(ep.base_path) - strlen(S_OPERATION_PATH))
            return s_fail(err_msg, err_len, "endpoint URL path is too long");
        if (s_check_base_path(path, path_len, err_msg, err_len) != 0)
            return -1;
        memcpy(ep.base_path, path, path_len);
        ep.base_path[path_len] = '\0';
    }
    *out = ep;
    return 0;
}

int bedrock_endpoint_default(const char *region, struct bedrock_endpoint *out)
{
    if (!region || !out)
        return -1;
    size_t len = strlen(region);
    if (len == 0 || len > S_REGION_MAX)
        return -1;
    for (size_t i = 0; i < len; i++) {
        char c = region[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return -1;
    }
    struct bedrock_endpoint ep;
    memset(&ep, 0, sizeof(ep));
    snprintf(ep.scheme, sizeof(ep.scheme), "https");
    int n = snprintf(ep.host, sizeof(ep.host), "bedrock.%s.amazonaws.com", region);
    if (n < 0 || (size_t)n >= sizeof(ep.host))
        return -1;
    *out = ep;
    return 0;
}

static int s_default_port(const struct bedrock_endpoint *ep)
{
    return strcmp(ep->scheme, "http") == 0 ? 80 : 443;
}

int bedrock_endpoint_host_header(const struct bedrock_endpoint *ep, char *out, size_t out_len)
{
    bool ipv6 = strchr(ep->host, ':') != NULL;
    bool with_port = ep->port != 0 && ep->port != s_default_port(ep);
    int n;
    if (with_port)
        n = snprintf(out, out_len, ipv6 ? "[%s]:%d" : "%s:%d", ep->host, ep->port);
    else
        n = snprintf(out, out_len, ipv6 ? "[%s]" : "%s", ep->host);
    if (n < 0 || (size_t)n >= out_len)
        return -1;
    return n;
}

int bedrock_endpoint_format(const struct bedrock_endpoint *ep, struct buf *out)
{
    bool ipv6 = strchr(ep->host, ':') != NULL;
    if (buf_appendf(out, ipv6 ? "%s://[%s]" : "%s://%s", ep->scheme, ep->host) != 0)
        return -1;
    if (ep->port != 0 && buf_appendf(out, ":%d", ep->port) != 0)
        return -1;
    return buf_append_str(out, ep->base_path);
}

/* ------------------------------------------------------------------------ */
/* request                                                                   */

void bedrock_http_request_clean_up(struct bedrock_http_request *r)
{
    if (!r)
        return;
    if (r->url) {
        OPENSSL_cleanse(r->url, strlen(r->url));
        free(r->url);
    }
    for (size_t i = 0; i < r->n_headers && i < BEDROCK_MAX_HEADERS; i++) {
        if (r->headers[i]) {
            OPENSSL_cleanse(r->headers[i], strlen(r->headers[i]));
            free(r->headers[i]);
        }
    }
    memset(r, 0, sizeof(*r));
}

/* Appends "name: value" as a new heap header line of out. */
static int s_add_header(struct bedrock_http_request *out, const char *name, const char *value)
{
    if (out->n_headers >= BEDROCK_MAX_HEADERS)
        return -1;
    struct buf line;
    buf_init(&line, S_HEADER_MAX);
    if (buf_appendf(&line, "%s: %s", name, value) != 0) {
        buf_clean_up_secure(&line);
        return -1;
    }
    char *s = buf_detach(&line);
    if (!s)
        return -1;
    out->headers[out->n_headers++] = s;
    return 0;
}

/* Room for the formatted query values of one request. */
struct s_qvals {
    char after[TIMEUTIL_FMT_MAX];
    char before[TIMEUTIL_FMT_MAX];
    char max[24];
};

/* One upstream query parameter: its value for req (decoded; NULL = not
 * sent), or NULL with err set when req holds something Bedrock cannot be
 * asked. */
typedef const char *(*s_qval_fn)(const struct jobs_request *req,
                                 const struct bedrock_request_options *opts, struct s_qvals *v,
                                 struct bgw_error *err);

static const char *s_q_after(const struct jobs_request *req,
                             const struct bedrock_request_options *opts, struct s_qvals *v,
                             struct bgw_error *err)
{
    (void)opts;
    if (!req->has_creation_time_after)
        return NULL;
    if (timeutil_format_rfc3339(req->creation_time_after, v->after, sizeof(v->after)) < 0)
        bgw_error_set(err, BGW_ERR_INVALID_ARGUMENT, "creationTimeAfter",
                      "creationTimeAfter is out of range");
    return err->status ? NULL : v->after;
}

static const char *s_q_before(const struct jobs_request *req,
                              const struct bedrock_request_options *opts, struct s_qvals *v,
                              struct bgw_error *err)
{
    (void)opts;
    if (!req->has_creation_time_before)
        return NULL;
    if (timeutil_format_rfc3339(req->creation_time_before, v->before, sizeof(v->before)) < 0)
        bgw_error_set(err, BGW_ERR_INVALID_ARGUMENT, "creationTimeBefore",
                      "creationTimeBefore is out of range");
    return err->status ? NULL : v->before;
}

/* An enum parameter: its Bedrock spelling, or an error naming field. */
static const char *s_q_enum(int value, const char *(*bedrock)(int), const char *field,
                            struct bgw_error *err)
{
    if (value == 0)
        return NULL;
    const char *s = bedrock(value);
    if (!s)
        bgw_error_set(err, BGW_ERR_INVALID_ARGUMENT, field, "%s has an unknown value", field);
    return s;
}

static const char *s_q_status(const struct jobs_request *req,
                              const struct bedrock_request_options *opts, struct s_qvals *v,
                              struct bgw_error *err)
{
    (void)opts;
    (void)v;
    return s_q_enum(req->status_equals, jobs_status_bedrock, "statusEquals", err);
}

static const char *s_q_sort_by(const struct jobs_request *req,
                               const struct bedrock_request_options *opts, struct s_qvals *v,
                               struct bgw_error *err)
{
    (void)opts;
    (void)v;
    return s_q_enum(req->sort_by, jobs_sort_by_bedrock, "sortBy", err);
}

static const char *s_q_sort_order(const struct jobs_request *req,
                                  const struct bedrock_request_options *opts, struct s_qvals *v,
                                  struct bgw_error *err)
{
    (void)opts;
    (void)v;
    return s_q_enum(req->sort_order, jobs_sort_order_bedrock, "sortOrder", err);
}

static const char *s_q_name(const struct jobs_request *req,
                            const struct bedrock_request_options *opts, struct s_qvals *v,
                            struct bgw_error *err)
{
    (void)opts;
    (void)v;
    (void)err;
    return req->name_contains;
}

static const char *s_q_token(const struct jobs_request *req,
                             const struct bedrock_request_options *opts, struct s_qvals *v,
                             struct bgw_error *err)
{
    (void)opts;
    (void)v;
    (void)err;
    return req->next_token;
}

static const char *s_q_max(const struct jobs_request *req,
                           const struct bedrock_request_options *opts, struct s_qvals *v,
                           struct bgw_error *err)
{
    (void)err;
    if (!req->has_max_results && opts->default_max_results <= 0)
        return NULL;
    int64_t n = req->has_max_results ? req->max_results : opts->default_max_results;
    snprintf(v->max, sizeof(v->max), "%lld", (long long)n);
    return v->max;
}

/* ListModelImportJobs' query parameters, in canonical (sorted) order: the
 * names are distinct and need no encoding, so the raw order is the
 * encoded, byte-wise order SigV4 wants. */
static const struct {
    const char *name;
    s_qval_fn value;
} s_list_query[] = {
    {"creationTimeAfter", s_q_after}, {"creationTimeBefore", s_q_before}, {"maxResults", s_q_max},
    {"nameContains", s_q_name},       {"nextToken", s_q_token},           {"sortBy", s_q_sort_by},
    {"sortOrder", s_q_sort_order},    {"statusEquals", s_q_status},
};
#define S_N_LIST_QUERY (sizeof(s_list_query) / sizeof(s_list_query[0]))

/* The query of req (values decoded) into query[]; BGW_OK or err's status. */
static enum bgw_status s_list_query_of(const struct jobs_request *req,
                                       const struct bedrock_request_options *opts,
                                       struct s_qvals *vals, struct sigv4_kv *query, size_t *n,
                                       struct bgw_error *err)
{
    *n = 0;
    for (size_t i = 0; i < S_N_LIST_QUERY; i++) {
        const char *v = s_list_query[i].value(req, opts, vals, err);
        if (err->status)
            return err->status;
        if (v)
            query[(*n)++] = (struct sigv4_kv){s_list_query[i].name, v};
    }
    return BGW_OK;
}

/* endpoint + operation path + the encoded query. 0 or -1 (memory). */
static int s_list_url(const struct bedrock_endpoint *ep, const struct sigv4_kv *query, size_t n,
                      struct buf *url)
{
    if (bedrock_endpoint_format(ep, url) != 0 || buf_append_str(url, S_OPERATION_PATH) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (buf_append_char(url, i == 0 ? '?' : '&') != 0 ||
            sigv4_uri_encode(query[i].name, strlen(query[i].name), false, url) != 0 ||
            buf_append_char(url, '=') != 0 ||
            sigv4_uri_encode(query[i].value, strlen(query[i].value), false, url) != 0)
            return -1;
    }
    return 0;
}

/* Signs GET path?query with host/x-amz-date(/x-amz-security-token) and fills
 * out's headers. BGW_OK or err's status. */
static enum bgw_status s_sign_list(const struct bedrock_request_options *opts, const char *path,
                                   const struct sigv4_kv *query, size_t n_query,
                                   struct bedrock_http_request *out, struct bgw_error *err)
{
    const struct sigv4_credentials *creds = opts->credentials;
    bool have_token = creds->session_token && creds->session_token[0] != '\0';
    char amz_date[17];
    char host[300];
    if (bedrock_endpoint_host_header(opts->endpoint, host, sizeof(host)) < 0)
        return bgw_error_set(err, BGW_ERR_INTERNAL, NULL,
                             "upstream request: endpoint host too long");
    if (sigv4_amz_date(opts->now_s, amz_date) != 0)
        return bgw_error_set(err, BGW_ERR_INTERNAL, NULL,
                             "upstream request: signing time out of range");
    struct sigv4_kv headers[3] = {
        {"host", host},
        {"x-amz-date", amz_date},
        {"x-amz-security-token", have_token ? creds->session_token : ""},
    };
    struct sigv4_request sreq = {
        .method = "GET",
        .path = path,
        .query = query,
        .n_query = n_query,
        .headers = headers,
        .n_headers = have_token ? 3 : 2,
        .payload_sha256_hex = NULL,
    };
    struct sigv4_options sopts = {
        .region = opts->region,
        .service = S_SIGNING_SERVICE,
        .epoch_s = opts->now_s,
        .normalize_path = true,
    };
    struct buf auth;
    buf_init(&auth, 0);
    enum bgw_status rc = BGW_OK;
    if (sigv4_sign_headers(&sreq, creds, &sopts, &auth, NULL, NULL) != 0)
        rc = bgw_error_set(err, BGW_ERR_INTERNAL, NULL, "upstream request: signing failed");
    else if (s_add_header(out, "host", host) != 0 ||
             s_add_header(out, "x-amz-date", amz_date) != 0 ||
             (have_token && s_add_header(out, "x-amz-security-token", creds->session_token) != 0) ||
             s_add_header(out, "accept", "application/json") != 0 ||
             s_add_header(out, "authorization", auth.data) != 0)
        rc = bgw_error_set(err, BGW_ERR_NOMEM, NULL, "out of memory building the upstream request");
    buf_clean_up_secure(&auth);
    return rc;
}

enum bgw_status bedrock_build_list_request(const struct jobs_request *req,
                                           const struct bedrock_request_options *opts,
                                           struct bedrock_http_request *out, struct bgw_error *err)
{
    if (out)
        memset(out, 0, sizeof(*out));
    if (err)
        bgw_error_clear(err);
    if (!req || !opts || !out || !err || !opts->endpoint || !opts->region || !opts->credentials ||
        !opts->credentials->access_key_id || !opts->credentials->secret_access_key) {
        if (err)
            bgw_error_set(err, BGW_ERR_INTERNAL, NULL,
                          "upstream request: missing endpoint, region or credentials");
        return BGW_ERR_INTERNAL;
    }
    struct s_qvals vals;
    struct sigv4_kv query[S_N_LIST_QUERY];
    size_t n_query = 0;
    struct buf path, url;
    buf_init(&path, 0);
    buf_init(&url, S_URL_MAX);
    enum bgw_status rc = s_list_query_of(req, opts, &vals, query, &n_query, err);
    if (rc == BGW_OK && (buf_append_str(&path, opts->endpoint->base_path) != 0 ||
                         buf_append_str(&path, S_OPERATION_PATH) != 0 ||
                         s_list_url(opts->endpoint, query, n_query, &url) != 0))
        rc = bgw_error_set(err, BGW_ERR_NOMEM, NULL, "out of memory building the upstream request");
    if (rc == BGW_OK)
        rc = s_sign_list(opts, path.data, query, n_query, out, err);
    if (rc == BGW_OK && !(out->url = buf_detach(&url)))
        rc = bgw_error_set(err, BGW_ERR_NOMEM, NULL, "out of memory building the upstream request");
    if (rc != BGW_OK)
        bedrock_http_request_clean_up(out);
    buf_clean_up(&path);
    buf_clean_up_secure(&url);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* success responses                                                         */

#define S_MALFORMED "upstream returned a malformed response: "

static enum bgw_status s_parse_success(const struct bedrock_http_response *resp,
                                       struct jobs_response *out, struct bgw_error *err)
{
    if (!resp->body || resp->body_len == 0)
        return bgw_error_set(err, BGW_ERR_BAD_GATEWAY, NULL, S_MALFORMED "empty body");
    return bedrock_list_parse(resp->body, resp->body_len, out, err);
}

/* ------------------------------------------------------------------------ */
/* error responses                                                           */

/* Copies the error type name out of raw: for a header, the text before ':'
 * then after the last '#'; for a body field, after the last '#' then before
 * ':'. Keeps [A-Za-z0-9_.-] only (stops at anything else) so that the name
 * is safe to show. */
static void s_extract_type(const char *raw, bool header_form, char out[S_ERROR_TYPE_MAX])
{
    out[0] = '\0';
    if (!raw)
        return;
    size_t len = strlen(raw);
    const char *start = raw;
    if (header_form) {
        const char *colon = memchr(raw, ':', len);
        if (colon)
            len = (size_t)(colon - raw);
        for (size_t i = len; i > 0; i--) {
            if (raw[i - 1] == '#') {
                start = raw + i;
                break;
            }
        }
        len -= (size_t)(start - raw);
    } else {
        const char *hash = strrchr(raw, '#');
        if (hash)
            start = hash + 1;
        len = strcspn(start, ":");
    }
    while (len > 0 && isspace((unsigned char)*start)) {
        start++;
        len--;
    }
    size_t n = 0;
    for (size_t i = 0; i < len && n + 1 < S_ERROR_TYPE_MAX; i++) {
        unsigned char c = (unsigned char)start[i];
        if (!(isalnum(c) || c == '_' || c == '.' || c == '-'))
            break;
        out[n++] = (char)c;
    }
    out[n] = '\0';
}

/* Copies at most S_UPSTREAM_MESSAGE_MAX bytes of msg into out, dropping
 * control characters (tabs and newlines become a space) and never cutting a
 * UTF-8 sequence in half; a cut message ends in "...". */
static void s_sanitize_message(const char *msg, char out[S_UPSTREAM_MESSAGE_MAX + 1])
{
    size_t n = 0;
    bool cut = false;
    out[0] = '\0';
    if (!msg)
        return;
    for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
        unsigned char c = *p;
        if (c == '\t' || c == '\n' || c == '\r')
            c = ' ';
        else if (c < 0x20 || c == 0x7f)
            continue;
        if (n >= S_UPSTREAM_MESSAGE_MAX) {
            cut = true;
            break;
        }
        out[n++] = (char)c;
    }
    if (cut) {
        n = S_UPSTREAM_MESSAGE_MAX - 3;
        /* back off over UTF-8 continuation bytes and the lead byte */
        while (n > 0 && ((unsigned char)out[n] & 0xC0) == 0x80)
            n--;
        memcpy(out + n, "...", 3);
        n += 3;
    }
    /* trailing spaces look odd after the ": " */
    while (n > 0 && out[n - 1] == ' ' && !cut)
        n--;
    out[n] = '\0';
}

/* Retry-After as delta-seconds or an HTTP-date (against now_ms, the wall
 * clock; rounded up to whole seconds), clamped to [MIN, MAX]: a date
 * already past gives MIN. Junk, or a date without a clock -> fallback. */
static int s_retry_after(const char *v, int fallback, int64_t now_ms)
{
    if (!v)
        return fallback;
    while (*v == ' ' || *v == '\t')
        v++;
    if (*v < '0' || *v > '9') {
        char date[64];
        size_t n = strlen(v);
        while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
            n--;
        int64_t at_s;
        if (now_ms <= 0 || n == 0 || n >= sizeof(date))
            return fallback;
        memcpy(date, v, n);
        date[n] = '\0';
        if (timeutil_parse_http_date(date, &at_s) != 0)
            return fallback;
        int64_t left_ms = at_s * 1000 - now_ms;
        int64_t secs = left_ms <= 0 ? 0 : (left_ms + 999) / 1000;
        if (secs < S_RETRY_AFTER_MIN_S)
            secs = S_RETRY_AFTER_MIN_S;
        if (secs > S_RETRY_AFTER_MAX_S)
            secs = S_RETRY_AFTER_MAX_S;
        return (int)secs;
    }
    long secs = 0;
    for (; *v >= '0' && *v <= '9'; v++) {
        if (secs < S_RETRY_AFTER_MAX_S)
            secs = secs * 10 + (*v - '0');
    }
    while (*v == ' ' || *v == '\t')
        v++;
    if (*v != '\0')
        return fallback;
    if (secs < S_RETRY_AFTER_MIN_S)
        secs = S_RETRY_AFTER_MIN_S;
    if (secs > S_RETRY_AFTER_MAX_S)
        secs = S_RETRY_AFTER_MAX_S;
    return (int)secs;
}

static bool s_is_credential_error(const char *type)
{
    static const char *const names[] = {
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "ExpiredTokenException",
        "IncompleteSignatureException",
        "MissingAuthenticationTokenException",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(type, names[i]) == 0)
            return true;
    }
    return false;
}

static enum bgw_status s_parse_error(const struct bedrock_http_response *resp,
                                     struct bgw_error *err)
{
    char type[S_ERROR_TYPE_MAX];
    char msg[S_UPSTREAM_MESSAGE_MAX + 1];
    json_t *root = NULL;
    enum bgw_status st;

    msg[0] = '\0';
    s_extract_type(resp->error_type, true, type);
    if (resp->body && resp->body_len > 0) {
        json_error_t jerr;
        root = json_loadb(resp->body, resp->body_len, 0, &jerr);
        if (root && !json_is_object(root)) {
            json_decref(root);
            root = NULL;
        }
    }
    if (root) {
        if (type[0] == '\0') {
            json_t *c = json_object_get(root, "code");
            if (!json_is_string(c))
                c = json_object_get(root, "__type");
            if (json_is_string(c))
                s_extract_type(json_string_value(c), false, type);
        }
        json_t *m = json_object_get(root, "message");
        if (!json_is_string(m))
            m = json_object_get(root, "Message");
        if (json_is_string(m))
            s_sanitize_message(json_string_value(m), msg);
    }

    long code = resp->status;
    if (type[0] != '\0' && s_is_credential_error(type)) {
        /* Bedrock may quote the canonical request (and so the session token)
         * in these messages: never pass them on. */
        st = bgw_error_set(err, BGW_ERR_PERMISSION_DENIED, NULL,
                           "upstream rejected the gateway's AWS credentials (%s)", type);
        goto cleanup;
    }

    if (strcmp(type, "ValidationException") == 0)
        st = BGW_ERR_INVALID_ARGUMENT;
    else if (strcmp(type, "AccessDeniedException") == 0)
        st = BGW_ERR_PERMISSION_DENIED;
    else if (strcmp(type, "ThrottlingException") == 0 ||
             strcmp(type, "TooManyRequestsException") == 0)
        st = BGW_ERR_RESOURCE_EXHAUSTED;
    else if (strcmp(type, "InternalServerException") == 0 ||
             strcmp(type, "ServiceUnavailableException") == 0)
        st = BGW_ERR_UNAVAILABLE;
    else if (strcmp(type, "ResourceNotFoundException") == 0)
        st = BGW_ERR_NOT_FOUND;
    else if (code >= 500 && code <= 599)
        st = BGW_ERR_UNAVAILABLE;
    else if (code == 429)
        st = BGW_ERR_RESOURCE_EXHAUSTED;
    else if (code == 403 && type[0] == '\0')
        st = BGW_ERR_PERMISSION_DENIED;
    else if (code >= 400 && code <= 499)
        st = BGW_ERR_INTERNAL;
    else
        st = BGW_ERR_BAD_GATEWAY;

    if (strcmp(type, "AccessDeniedException") == 0)
        /* Bedrock's text names the gateway's own IAM principal (account id,
         * role): that is the platform's business, not a tenant's. */
        bgw_error_set(err, st, NULL,
                      "upstream AccessDeniedException: the gateway's AWS identity is not allowed "
                      "to list model import jobs");
    else if (type[0] != '\0' && msg[0] != '\0')
        bgw_error_set(err, st, NULL, "upstream %s: %s", type, msg);
    else if (type[0] != '\0')
        bgw_error_set(err, st, NULL, "upstream %s (HTTP %ld)", type, code);
    else if (st == BGW_ERR_BAD_GATEWAY)
        bgw_error_set(err, st, NULL, "upstream returned unexpected HTTP status %ld", code);
    else if (msg[0] != '\0')
        bgw_error_set(err, st, NULL, "upstream error (HTTP %ld): %s", code, msg);
    else
        bgw_error_set(err, st, NULL, "upstream error (HTTP %ld)", code);

    if (st == BGW_ERR_RESOURCE_EXHAUSTED)
        err->retry_after_s =
            s_retry_after(resp->retry_after, S_RETRY_AFTER_DEFAULT_S, resp->now_ms);
    else if (st == BGW_ERR_UNAVAILABLE)
        err->retry_after_s = s_retry_after(resp->retry_after, 0, resp->now_ms);

cleanup:
    json_decref(root);
    return st;
}

enum bgw_status bedrock_parse_list_response(const struct bedrock_http_response *resp,
                                            struct jobs_response *out, struct bgw_error *err)
{
    if (out)
        memset(out, 0, sizeof(*out));
    if (err)
        bgw_error_clear(err);
    if (!resp || !out || !err) {
        if (err)
            return bgw_error_set(err, BGW_ERR_INTERNAL, NULL, "upstream response: bad arguments");
        return BGW_ERR_INTERNAL;
    }
    if (resp->status >= 200 && resp->status <= 299)
        return s_parse_success(resp, out, err);
    return s_parse_error(resp, err);
}

/* ---- the other direction (the AWS-compatible front) ------------------------ */

/* Bedrock's member order and spellings; strings present even when empty
 * (Bedrock's JSON has no proto3 defaults). Written straight into out. */
int bedrock_render_list_response(const struct jobs_response *page, struct buf *out)
{
    size_t start = out->len;
    int rc = buf_append_fast(out, "{\"modelImportJobSummaries\":[", 28);
    for (size_t i = 0; i < page->n_summaries && rc == 0; i++) {
        const struct jobs_summary *s = &page->summaries[i];
        bool first = true;
        rc |= buf_append_fast(out, i ? ",{" : "{", i ? 2 : 1);
        rc |= json_write_member_str(out, &first, "jobArn", s->job_arn, false);
        rc |= json_write_member_str(out, &first, "jobName", s->job_name, false);
        rc |= json_write_member_str(out, &first, "importedModelArn", s->imported_model_arn, false);
        rc |=
            json_write_member_str(out, &first, "importedModelName", s->imported_model_name, false);
        rc |= json_write_member_str(out, &first, "status", jobs_status_bedrock(s->status), false);
        rc |= json_write_member_time(out, &first, "lastModifiedTime", s->has_last_modified_time,
                                     s->last_modified_time);
        rc |= json_write_member_time(out, &first, "creationTime", s->has_creation_time,
                                     s->creation_time);
        rc |= json_write_member_time(out, &first, "endTime", s->has_end_time, s->end_time);
        rc |= buf_append_fast(out, "}", 1);
    }
    bool first = false;
    rc |= buf_append_fast(out, "]", 1);
    rc |= json_write_member_str(out, &first, "nextToken", page->next_token, false);
    rc |= buf_append_fast(out, "}", 1);
    return json_write_end(out, start, rc);
}

const char *bedrock_error_type(enum bgw_status st, int *http_status)
{
    switch (st) {
    case BGW_ERR_INVALID_ARGUMENT:
    case BGW_ERR_METHOD_NOT_ALLOWED:
        *http_status = 400;
        return "ValidationException";
    case BGW_ERR_UNAUTHENTICATED:
        *http_status = 403;
        return "UnrecognizedClientException";
    case BGW_ERR_PERMISSION_DENIED:
        *http_status = 403;
        return "AccessDeniedException";
    case BGW_ERR_NOT_FOUND:
        *http_status = 404;
        return "ResourceNotFoundException";
    case BGW_ERR_RESOURCE_EXHAUSTED:
        *http_status = 429;
        return "ThrottlingException";
    case BGW_ERR_UNAVAILABLE:
    case BGW_ERR_DEADLINE_EXCEEDED:
        *http_status = 503;
        return "ServiceUnavailableException";
    default:
        *http_status = 500;
        return "InternalServerException";
    }
}

int bedrock_render_error(const char *message, struct buf *out)
{
    json_t *o = json_pack("{s:s}", "message", message ? message : "");
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!text)
        return -1;
    int bad = buf_append_str(out, text);
    free(text);
    return bad ? -1 : 0;
}
