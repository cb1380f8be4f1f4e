/*
 * sigv4_test - unit tests of the SigV4 stages, and the AWS SigV4 test suite
 * (tests/testdata/aws-sigv4-suite) run one case directory at a time.
 *
 *   sigv4_test               unit tests of the pieces
 *   sigv4_test --case DIR    one suite case: header signing and presigning,
 *                            each stage compared byte for byte
 *
 * Exits 0 on pass, 1 on any mismatch (with expected/got printed), 2 on a
 * usage or data error. Reads only the files it is pointed at.
 */
#include "sigv4_testutil.h"
#include "sigv4_verify.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CASE_FILE_BYTES (1u << 20)
#define MAX_CASE_HEADERS 32
#define MAX_CASE_QUERY 32

static int s_failures;

/* ---- reporting -------------------------------------------------------- */

static void s_print_visible(const char *label, const char *s, size_t len)
{
    printf("  %s (%zu bytes):\n    |", label, len);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n')
            printf("\\n\n    |");
        else if (c < 0x20 || c == 0x7f)
            printf("\\x%02x", c);
        else
            putchar(c);
    }
    printf("\n");
}

static bool s_expect_bytes(const char *what, const char *expected, size_t expected_len,
                           const char *got, size_t got_len)
{
    if (expected_len == got_len && memcmp(expected, got, got_len) == 0)
        return true;
    size_t off = 0;
    while (off < expected_len && off < got_len && expected[off] == got[off])
        off++;
    size_t line = 1;
    for (size_t i = 0; i < off; i++)
        line += expected[i] == '\n';
    printf("MISMATCH %s: first difference at byte %zu (line %zu)\n", what, off, line);
    s_print_visible("expected", expected, expected_len);
    s_print_visible("got     ", got, got_len);
    s_failures++;
    return false;
}

static bool s_expect_str(const char *what, const char *expected, const char *got)
{
    return s_expect_bytes(what, expected, strlen(expected), got ? got : "(null)",
                          strlen(got ? got : "(null)"));
}

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                                 \
            s_failures++;                                                                          \
        }                                                                                          \
    } while (0)

/* ---- case files ------------------------------------------------------- */

/* Reads a whole file into a bounded buf; 0 or -1. */
static int s_read_file(const char *dir, const char *name, struct buf *out)
{
    char path[4096];
    char chunk[4096];
    int rc = -1;

    if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
        return -1;
    FILE *f = fopen(path, "rb");
    if (!f) {
        printf("cannot open %s\n", path);
        return -1;
    }
    for (;;) {
        size_t n = fread(chunk, 1, sizeof(chunk), f);
        if (n && buf_append(out, chunk, n) != 0)
            goto cleanup;
        if (n < sizeof(chunk))
            break;
    }
    if (ferror(f) || buf_append(out, "", 0) != 0)
        goto cleanup;
    rc = 0;
cleanup:
    fclose(f);
    return rc;
}

static int s_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes s[0..len) into a new string (free() it); '+' stays '+'. */
static char *s_percent_decode(const char *s, size_t len)
{
    char *out = malloc(len + 1);
    size_t o = 0;
    if (!out)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%' && i + 2 < len && s_hexval(s[i + 1]) >= 0 && s_hexval(s[i + 2]) >= 0) {
            out[o++] = (char)(s_hexval(s[i + 1]) * 16 + s_hexval(s[i + 2]));
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return out;
}

/* A parsed request.txt. Strings point into text (modified in place) or
 * into owned allocations listed in owned[]. */
struct s_case_request {
    char *method;
    char *target; /* path and query as on the request line */
    char *path;
    struct sigv4_kv query[MAX_CASE_QUERY];
    size_t n_query;
    struct sigv4_kv headers[MAX_CASE_HEADERS];
    size_t n_headers;
    const char *body;
    size_t body_len;
    char *owned[2 * MAX_CASE_QUERY + MAX_CASE_HEADERS + 2];
    size_t n_owned;
};

static void s_case_request_clean_up(struct s_case_request *r)
{
    for (size_t i = 0; i < r->n_owned; i++)
        free(r->owned[i]);
    r->n_owned = 0;
}

static char *s_own(struct s_case_request *r, char *p)
{
    if (p && r->n_owned < sizeof(r->owned) / sizeof(r->owned[0])) {
        r->owned[r->n_owned++] = p;
        return p;
    }
    free(p);
    return NULL;
}

/* Parses "METHOD target HTTP/1.1\nName:value\n  continued\n...\n\nbody". */
static int s_parse_request(char *text, size_t text_len, struct s_case_request *r)
{
    char *end = text + text_len;
    char *line_end = memchr(text, '\n', text_len);
    if (!line_end)
        line_end = end;
    *line_end = '\0';

    /* The target may contain spaces ("/example space/"): method ends at the
     * first space, the version starts after the last. */
    char *sp1 = strchr(text, ' ');
    char *sp2 = strrchr(text, ' ');
    if (!sp1 || sp2 == sp1)
        return -1;
    *sp1 = '\0';
    *sp2 = '\0';
    r->method = text;
    r->target = sp1 + 1;

    char *q = strchr(r->target, '?');
    size_t path_len = q ? (size_t)(q - r->target) : strlen(r->target);
    r->path = s_own(r, strndup(r->target, path_len));
    if (!r->path)
        return -1;
    if (q) {
        char *s = q + 1;
        while (*s) {
            char *amp = strchr(s, '&');
            size_t plen = amp ? (size_t)(amp - s) : strlen(s);
            char *eq = memchr(s, '=', plen);
            size_t nlen = eq ? (size_t)(eq - s) : plen;
            if (r->n_query == MAX_CASE_QUERY)
                return -1;
            char *name = s_own(r, s_percent_decode(s, nlen));
            char *value = s_own(r, eq ? s_percent_decode(eq + 1, plen - nlen - 1) : strdup(""));
            if (!name || !value)
                return -1;
            r->query[r->n_query++] = (struct sigv4_kv){name, value};
            s += plen;
            if (*s == '&')
                s++;
        }
    }

    /* Headers up to the blank line; continuation lines (leading blank) are
     * appended to the previous value with the line break kept, as folded. */
    char *p = line_end < end ? line_end + 1 : end;
    char *last_value = NULL;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *le = nl ? nl : end;
        if (le == p) { /* blank line: the body follows */
            p = nl ? nl + 1 : end;
            break;
        }
        *le = '\0';
        if ((*p == ' ' || *p == '\t') && last_value) {
            size_t a = strlen(last_value);
            size_t b = strlen(p);
            char *joined = malloc(a + 1 + b + 1);
            if (!joined)
                return -1;
            memcpy(joined, last_value, a);
            joined[a] = '\n';
            memcpy(joined + a + 1, p, b + 1);
            if (!s_own(r, joined))
                return -1;
            last_value = joined;
            r->headers[r->n_headers - 1].value = joined;
        } else {
            char *colon = strchr(p, ':');
            if (!colon || r->n_headers == MAX_CASE_HEADERS)
                return -1;
            *colon = '\0';
            last_value = colon + 1;
            r->headers[r->n_headers++] = (struct sigv4_kv){p, last_value};
        }
        p = nl ? nl + 1 : end;
    }
    r->body = p;
    r->body_len = (size_t)(end - p);
    return 0;
}

/* "2015-08-30T12:36:00Z" -> epoch seconds (days-from-civil). */
static int s_parse_timestamp(const char *s, int64_t *out)
{
    int y, mo, d, h, mi, se;
    char z;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &se, &z) != 7 || z != 'Z')
        return -1;
    int64_t yy = mo <= 2 ? y - 1 : y;
    int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
    int64_t yoe = yy - era * 400;
    int64_t doy = (153 * (mo > 2 ? mo - 3 : mo + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = era * 146097 + doe - 719468;
    *out = days * 86400 + h * 3600 + mi * 60 + se;
    return 0;
}

/* The value of the "Authorization:" line of a signed request. */
static const char *s_find_authorization(char *text)
{
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (strncmp(line, "Authorization:", 14) == 0)
            return line + 14;
        line = nl ? nl + 1 : NULL;
    }
    return NULL;
}

static bool s_expect_file(const char *dir, const char *name, const char *got, size_t got_len)
{
    struct buf expected;
    buf_init(&expected, MAX_CASE_FILE_BYTES);
    bool ok = false;
    if (s_read_file(dir, name, &expected) != 0) {
        s_failures++;
    } else {
        ok = s_expect_bytes(name, expected.data, expected.len, got, got_len);
    }
    buf_clean_up(&expected);
    return ok;
}

/* The verifying direction (sigv4_verify.h): the suite's key, or a wrong
 * secret for everything else. */
struct s_verify_key {
    const struct sigv4_credentials *creds;
    bool wrong;
};

static const char *s_case_secret(void *ctx, const char *access_key_id, const char **token)
{
    const struct s_verify_key *k = ctx;
    if (strcmp(access_key_id, k->creds->access_key_id) != 0)
        return NULL;
    *token = k->creds->session_token;
    return k->wrong ? "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY-not" : k->creds->secret_access_key;
}

/* Verifies the signed request: authentic with the suite's secret, refused
 * with another; query holds the pairs as sent (decoded). */
static void s_verify_case(const char *what, const struct sigv4_options *opts,
                          const struct sigv4_credentials *creds, const struct s_case_request *req,
                          const struct sigv4_kv *query, size_t n_query,
                          const struct sigv4_kv *headers, size_t n_headers)
{
    for (int wrong = 0; wrong < 2; wrong++) {
        struct s_verify_key k = {creds, wrong == 1};
        struct sigv4_verify_config vc = {opts->region,          opts->service, 300,
                                         !opts->normalize_path, s_case_secret, &k};
        struct sigv4_verify_request vr = {req->method, req->path,         query, n_query, headers,
                                          n_headers,   opts->epoch_s + 10};
        struct sigv4_verify_error err;
        enum sigv4_verify_result r = sigv4_verify(&vc, &vr, &err);
        enum sigv4_verify_result want = wrong ? SIGV4_INVALID_SIGNATURE : SIGV4_OK;
        if (r != want) {
            printf("MISMATCH verify %s (%s secret): got %s: %s\n", what, wrong ? "wrong" : "right",
                   sigv4_verify_error_type(r), err.message);
            s_failures++;
        }
    }
}

static int s_run_case(const char *dir)
{
    int rc = 2;
    json_t *ctx = NULL;
    json_error_t jerr;
    char path[4096];
    char amz_date[17];
    char body_hash[65];
    struct s_case_request req;
    struct buf text;
    struct buf auth;
    struct buf creq;
    struct buf sts;
    struct buf query;
    struct buf expected;
    struct buf line;
    struct sigv4_kv headers[MAX_CASE_HEADERS + 3];
    memset(&req, 0, sizeof(req));
    buf_init(&text, MAX_CASE_FILE_BYTES);
    buf_init(&auth, 0);
    buf_init(&creq, 0);
    buf_init(&sts, 0);
    buf_init(&query, 0);
    buf_init(&expected, MAX_CASE_FILE_BYTES);
    buf_init(&line, 0);

    /* context.json */
    if (snprintf(path, sizeof(path), "%s/context.json", dir) >= (int)sizeof(path))
        goto cleanup;
    ctx = json_load_file(path, 0, &jerr);
    if (!ctx) {
        printf("%s: %s (line %d)\n", path, jerr.text, jerr.line);
        goto cleanup;
    }
    json_t *jcreds = json_object_get(ctx, "credentials");
    struct sigv4_credentials creds = {
        .access_key_id = json_string_value(json_object_get(jcreds, "access_key_id")),
        .secret_access_key = json_string_value(json_object_get(jcreds, "secret_access_key")),
        .session_token = json_string_value(json_object_get(jcreds, "token")),
    };
    struct sigv4_options opts = {
        .region = json_string_value(json_object_get(ctx, "region")),
        .service = json_string_value(json_object_get(ctx, "service")),
        .normalize_path = json_is_true(json_object_get(ctx, "normalize")),
    };
    const char *timestamp = json_string_value(json_object_get(ctx, "timestamp"));
    bool sign_body = json_is_true(json_object_get(ctx, "sign_body"));
    bool omit_token = json_is_true(json_object_get(ctx, "omit_session_token"));
    json_int_t expires_s = json_integer_value(json_object_get(ctx, "expiration_in_seconds"));
    if (!creds.access_key_id || !creds.secret_access_key || !opts.region || !opts.service ||
        !timestamp || s_parse_timestamp(timestamp, &opts.epoch_s) != 0 || expires_s <= 0) {
        printf("%s: missing or bad fields\n", path);
        goto cleanup;
    }
    if (sigv4_amz_date(opts.epoch_s, amz_date) != 0)
        goto cleanup;

    /* request.txt */
    if (s_read_file(dir, "request.txt", &text) != 0 ||
        s_parse_request(text.data, text.len, &req) != 0) {
        printf("%s/request.txt: cannot parse\n", dir);
        goto cleanup;
    }
    sigv4_sha256_hex(req.body, req.body_len, body_hash);

    /* Header signing: the caller adds X-Amz-Date, the token (unless it is
     * to be left unsigned) and, with sign_body, X-Amz-Content-Sha256. */
    size_t nh = 0;
    for (size_t i = 0; i < req.n_headers; i++)
        headers[nh++] = req.headers[i];
    headers[nh++] = (struct sigv4_kv){"X-Amz-Date", amz_date};
    if (creds.session_token && !omit_token)
        headers[nh++] = (struct sigv4_kv){"X-Amz-Security-Token", creds.session_token};
    if (sign_body)
        headers[nh++] = (struct sigv4_kv){"X-Amz-Content-Sha256", body_hash};
    struct sigv4_request sreq = {
        .method = req.method,
        .path = req.path,
        .query = req.query,
        .n_query = req.n_query,
        .headers = headers,
        .n_headers = nh,
        .payload_sha256_hex = body_hash,
    };
    if (sigv4_sign_headers(&sreq, &creds, &opts, &auth, &creq, &sts) != 0) {
        printf("MISMATCH sigv4_sign_headers failed\n");
        s_failures++;
    } else {
        s_expect_file(dir, "header-canonical-request.txt", creq.data, creq.len);
        s_expect_file(dir, "header-string-to-sign.txt", sts.data, sts.len);
        const char *sig = strstr(auth.data, "Signature=");
        sig = sig ? sig + 10 : "";
        s_expect_file(dir, "header-signature.txt", sig, strlen(sig));
        if (s_read_file(dir, "header-signed-request.txt", &expected) == 0) {
            const char *want = s_find_authorization(expected.data);
            if (!want) {
                printf("no Authorization line in header-signed-request.txt\n");
                s_failures++;
            } else {
                s_expect_str("header-signed-request.txt Authorization", want, auth.data);
                /* and back: the suite's signed request verifies (the
                 * gateway's verifier takes empty payloads only) */
                if (req.body_len == 0 && !(omit_token && creds.session_token) &&
                    nh < MAX_CASE_HEADERS + 3) {
                    struct sigv4_kv vh[MAX_CASE_HEADERS + 4];
                    memcpy(vh, headers, nh * sizeof(vh[0]));
                    vh[nh] = (struct sigv4_kv){"Authorization", want};
                    s_verify_case("header", &opts, &creds, &req, req.query, req.n_query, vh,
                                  nh + 1);
                }
            }
        } else {
            s_failures++;
        }
    }

    /* Presigning: only the request's own headers are signed. */
    struct sigv4_credentials qcreds = creds;
    if (omit_token)
        qcreds.session_token = NULL;
    sreq.headers = req.headers;
    sreq.n_headers = req.n_headers;
    buf_reset(&creq);
    buf_reset(&sts);
    if (sigv4_presign_query(&sreq, &qcreds, &opts, expires_s, &query, &creq, &sts) != 0) {
        printf("MISMATCH sigv4_presign_query failed\n");
        s_failures++;
    } else {
        s_expect_file(dir, "query-canonical-request.txt", creq.data, creq.len);
        s_expect_file(dir, "query-string-to-sign.txt", sts.data, sts.len);
        const char *sig = strstr(query.data, "X-Amz-Signature=");
        sig = sig ? sig + 16 : "";
        s_expect_file(dir, "query-signature.txt", sig, strlen(sig));

        /* The request line as sent; a token left unsigned is appended by
         * the caller just before the signature, where the suite has it. */
        const char *q = query.data;
        const char *sig_param = strstr(q, "&X-Amz-Signature=");
        int ok = buf_appendf(&line, "%s %s%c", req.method, req.target,
                             strchr(req.target, '?') ? '&' : '?');
        if (omit_token && creds.session_token && sig_param) {
            ok |= buf_append(&line, q, (size_t)(sig_param - q));
            ok |= buf_append_str(&line, "&X-Amz-Security-Token=");
            ok |= sigv4_uri_encode(creds.session_token, strlen(creds.session_token), false, &line);
            ok |= buf_append_str(&line, sig_param);
        } else {
            ok |= buf_append_str(&line, q);
        }
        /* and back: the presigned request verifies (when every part of it
         * is signed: not with a token left unsigned) */
        if (req.body_len == 0 && !(omit_token && creds.session_token)) {
            char *qtext = strdup(q);
            struct sigv4_kv qkv[MAX_CASE_QUERY + 8];
            size_t nq = req.n_query, nx = 0;
            memcpy(qkv, req.query, nq * sizeof(qkv[0]));
            if (!qtext || sigv4_query_split(qtext, qkv + nq, 8, &nx) != 0) {
                printf("MISMATCH cannot split the presigned query\n");
                s_failures++;
            } else {
                s_verify_case("presigned", &opts, &qcreds, &req, qkv, nq + nx, req.headers,
                              req.n_headers);
            }
            free(qtext);
        }
        ok |= buf_append_str(&line, " HTTP/1.1");
        buf_reset(&expected);
        if (ok != 0 || s_read_file(dir, "query-signed-request.txt", &expected) != 0) {
            s_failures++;
        } else {
            char *nl = strchr(expected.data, '\n');
            size_t want_len = nl ? (size_t)(nl - expected.data) : expected.len;
            s_expect_bytes("query-signed-request.txt request line", expected.data, want_len,
                           line.data, line.len);
        }
    }
    rc = s_failures ? 1 : 0;
cleanup:
    json_decref(ctx);
    s_case_request_clean_up(&req);
    buf_clean_up(&text);
    buf_clean_up(&auth);
    buf_clean_up(&creq);
    buf_clean_up(&sts);
    buf_clean_up(&query);
    buf_clean_up(&expected);
    buf_clean_up(&line);
    return rc;
}

/* ---- unit tests ------------------------------------------------------- */

static void s_check_encode(const char *in, size_t len, bool keep_slash, const char *want)
{
    struct buf b;
    buf_init(&b, 0);
    CHECK(sigv4_uri_encode(in, len, keep_slash, &b) == 0);
    s_expect_str("sigv4_uri_encode", want, b.data);
    buf_clean_up(&b);
}

static void s_test_uri_encode(void)
{
    s_check_encode("a+b c/d", 7, false, "a%2Bb%20c%2Fd");
    s_check_encode("a+b c/d", 7, true, "a%2Bb%20c/d");
    s_check_encode("\xe1\x88\xb4", 3, false, "%E1%88%B4");
    s_check_encode("-._~AZaz09", 10, false, "-._~AZaz09");
    s_check_encode("100%=&;:?#", 10, true, "100%25%3D%26%3B%3A%3F%23");
    s_check_encode("nul\0x", 5, false, "nul%00x");
    s_check_encode("", 0, false, "");

    /* Bounded: a failing append leaves the buffer as it was. */
    struct buf b;
    buf_init(&b, 8);
    CHECK(buf_append_str(&b, "ab") == 0);
    CHECK(sigv4_uri_encode("   ", 3, false, &b) == -1);
    s_expect_str("bounded encode keeps old contents", "ab", b.data);
    CHECK(b.len == 2);
    CHECK(sigv4_uri_encode("cd", 2, false, &b) == 0);
    s_expect_str("bounded encode", "abcd", b.data);
    buf_clean_up(&b);
}

static void s_test_amz_date(void)
{
    char d[17];
    CHECK(sigv4_amz_date(0, d) == 0);
    s_expect_str("amz_date 0", "19700101T000000Z", d);
    CHECK(sigv4_amz_date(1440938160, d) == 0);
    s_expect_str("amz_date suite", "20150830T123600Z", d);
    CHECK(sigv4_amz_date(951782400, d) == 0);
    s_expect_str("amz_date leap day", "20000229T000000Z", d);
    CHECK(sigv4_amz_date(951868799, d) == 0);
    s_expect_str("amz_date leap day end", "20000229T235959Z", d);
    CHECK(sigv4_amz_date(4107542400, d) == 0);
    s_expect_str("amz_date 2100 (not leap)", "21000301T000000Z", d);
    CHECK(sigv4_amz_date(SIGV4_MAX_EPOCH_S, d) == 0);
    s_expect_str("amz_date max", "99991231T235959Z", d);
    CHECK(sigv4_amz_date(SIGV4_MAX_EPOCH_S + 1, d) == -1);
    CHECK(sigv4_amz_date(-1, d) == -1);
    CHECK(sigv4_amz_date(INT64_MIN, d) == -1);
    CHECK(sigv4_amz_date(INT64_MAX, d) == -1);
}

static void s_test_signing_key(void)
{
    /* The worked example of the AWS SigV4 documentation. */
    static const char secret[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    unsigned char key[32];
    char hex[65];
    struct sigv4_options o = {.region = "us-east-1", .service = "iam", .epoch_s = 1440938160};
    CHECK(sigv4_signing_key(secret, &o, key) == 0);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", key[i]);
    s_expect_str("signing key 20150830",
                 "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9", hex);
    o.epoch_s = 1329264000; /* 2012-02-15 */
    CHECK(sigv4_signing_key(secret, &o, key) == 0);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", key[i]);
    s_expect_str("signing key 20120215",
                 "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d", hex);

    o.region = "us-east-1/x"; /* would forge another scope */
    CHECK(sigv4_signing_key(secret, &o, key) == -1);
    o.region = "us-east-1";
    CHECK(sigv4_signing_key("", &o, key) == -1);
    CHECK(sigv4_signing_key(NULL, &o, key) == -1);

    char sha[65];
    sigv4_sha256_hex("", 0, sha);
    s_expect_str("sha256 empty", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                 sha);
}

static const struct sigv4_kv s_vanilla_headers[] = {
    {"Host", "example.amazonaws.com"},
    {"X-Amz-Date", "20150830T123600Z"},
};

static void s_test_sign_and_parse(void)
{
    struct sigv4_request r = {
        .method = "GET", .path = "/", .headers = s_vanilla_headers, .n_headers = 2};
    struct sigv4_credentials c = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL};
    struct sigv4_options o = {"us-east-1", "service", 1440938160, true};
    struct buf auth;
    buf_init(&auth, 0);
    CHECK(sigv4_sign_headers(&r, &c, &o, &auth, NULL, NULL) == 0);
    s_expect_str("get-vanilla Authorization",
                 "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                 "SignedHeaders=host;x-amz-date, "
                 "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
                 auth.data);

    struct sigv4_auth_header h;
    CHECK(sigv4_parse_authorization(auth.data, &h) == 0);
    s_expect_str("parsed akid", "AKIDEXAMPLE", h.access_key_id);
    s_expect_str("parsed date", "20150830", h.date);
    s_expect_str("parsed region", "us-east-1", h.region);
    s_expect_str("parsed service", "service", h.service);
    s_expect_str("parsed terminator", "aws4_request", h.terminator);
    s_expect_str("parsed signed headers", "host;x-amz-date", h.signed_headers);
    s_expect_str("parsed signature",
                 "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31", h.signature);

    /* Bounded outputs: too small a buffer fails and stays untouched. */
    struct buf small;
    buf_init(&small, 40);
    CHECK(buf_append_str(&small, "keep") == 0);
    CHECK(sigv4_sign_headers(&r, &c, &o, &small, NULL, NULL) == -1);
    s_expect_str("bounded authorization", "keep", small.data);
    struct buf creq_small;
    buf_init(&creq_small, 16);
    CHECK(sigv4_canonical_request(&r, &o, &creq_small, NULL) == -1);
    CHECK(creq_small.len == 0);
    buf_reset(&auth);
    CHECK(sigv4_sign_headers(&r, &c, &o, &auth, &creq_small, NULL) == -1);
    CHECK(auth.len == 0);
    CHECK(sigv4_presign_query(&r, &c, &o, 60, &small, NULL, NULL) == -1);
    s_expect_str("bounded query", "keep", small.data);
    buf_clean_up(&small);
    buf_clean_up(&creq_small);

    /* Limits and bad requests. */
    struct sigv4_kv many[SIGV4_MAX_HEADERS + 1];
    for (size_t i = 0; i < SIGV4_MAX_HEADERS + 1; i++)
        many[i] = (struct sigv4_kv){"x-a", "b"};
    struct sigv4_request bad = r;
    bad.headers = many;
    bad.n_headers = SIGV4_MAX_HEADERS + 1;
    buf_reset(&auth);
    CHECK(sigv4_sign_headers(&bad, &c, &o, &auth, NULL, NULL) == -1);
    bad = r;
    bad.n_headers = 0;
    CHECK(sigv4_sign_headers(&bad, &c, &o, &auth, NULL, NULL) == -1);
    struct sigv4_kv bad_name[] = {{"Ho st", "x"}};
    bad.headers = bad_name;
    bad.n_headers = 1;
    CHECK(sigv4_sign_headers(&bad, &c, &o, &auth, NULL, NULL) == -1);
    struct sigv4_kv bad_value[] = {{"host", "a\001b"}};
    bad.headers = bad_value;
    CHECK(sigv4_sign_headers(&bad, &c, &o, &auth, NULL, NULL) == -1);
    bad = r;
    bad.path = "relative";
    CHECK(sigv4_sign_headers(&bad, &c, &o, &auth, NULL, NULL) == -1);
    bad = r;
    bad.method = "G T";
    CHECK(sigv4_sign_headers(&bad, &c, &o, &auth, NULL, NULL) == -1);
    bad = r;
    bad.payload_sha256_hex = "E3B0";
    CHECK(sigv4_sign_headers(&bad, &c, &o, &auth, NULL, NULL) == -1);
    struct sigv4_credentials bad_c = c;
    bad_c.access_key_id = "AKID/x";
    CHECK(sigv4_sign_headers(&r, &bad_c, &o, &auth, NULL, NULL) == -1);
    CHECK(sigv4_presign_query(&r, &c, &o, 0, &auth, NULL, NULL) == -1);
    CHECK(sigv4_presign_query(&r, &c, &o, SIGV4_MAX_PRESIGN_EXPIRES_S + 1, &auth, NULL, NULL) ==
          -1);
    CHECK(auth.len == 0);
    buf_clean_up(&auth);

    /* Path normalization beyond the suite. */
    struct {
        const char *path;
        const char *want;
    } paths[] = {
        {"/a/b/..", "/a/"},        {"/a/./b", "/a/b"}, {"/../..", "/"},
        {"/a/b/../../../c", "/c"}, {"", "/"},          {"/%41", "/%2541"},
        {"/a//b///", "/a/b/"},     {"/.../", "/.../"}, {"/a/..b", "/a/..b"},
    };
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        struct buf cr;
        buf_init(&cr, 0);
        r.path = paths[i].path;
        CHECK(sigv4_canonical_request(&r, &o, &cr, NULL) == 0);
        const char *nl1 = strchr(cr.data, '\n');
        const char *nl2 = nl1 ? strchr(nl1 + 1, '\n') : NULL;
        if (nl1 && nl2)
            s_expect_bytes(paths[i].path, paths[i].want, strlen(paths[i].want), nl1 + 1,
                           (size_t)(nl2 - nl1 - 1));
        buf_clean_up(&cr);
    }
}

static void s_test_parse_malformed(void)
{
    static const char *const bad[] = {
        "",
        "AWS4-HMAC-SHA256",
        "AWS4-HMAC-SHA256 ",
        "AWS4-HMAC-SHA1 Credential=AKID/20150830/us-east-1/service/aws4_request, "
        "SignedHeaders=host, "
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        /* two spaces after the algorithm */
        "AWS4-HMAC-SHA256  Credential=AKID/20150830/us-east-1/service/aws4_request, "
        "SignedHeaders=host, "
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        /* missing Signature */
        "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request, "
        "SignedHeaders=host",
        /* repeated component */
        "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request, "
        "Credential=AKID/20150830/us-east-1/service/aws4_request, "
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        /* fourth component */
        "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request, "
        "SignedHeaders=host, "
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31, Extra=1",
        /* trailing comma */
        "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request, "
        "SignedHeaders=host, "
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31,",
        /* trailing space */
        "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request, "
        "SignedHeaders=host, "
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31 ",
        /* signature too short, upper case, too long */
        "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request, "
        "SignedHeaders=host, "
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf3",
        "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request, "
        "SignedHeaders=host, "
        "Signature=5FA00FA31553B73EBF1942676E86291E8372FF2A2260956D9B8AAE1D763FBF31",
        "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request, "
        "SignedHeaders=host, "
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf311",
        /* credential with four and six parts, bad terminator, bad date */
        "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/aws4_request, SignedHeaders=host, "
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/x/aws4_request, "
        "SignedHeaders=host, "
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_requesT, "
        "SignedHeaders=host, "
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        "AWS4-HMAC-SHA256 Credential=AKID/2015083X/us-east-1/service/aws4_request, "
        "SignedHeaders=host, "
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        "AWS4-HMAC-SHA256 Credential=AKID/20151330/us-east-1/service/aws4_request, "
        "SignedHeaders=host, "
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        "AWS4-HMAC-SHA256 Credential=/20150830/us-east-1/service/aws4_request, SignedHeaders=host, "
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        "AWS4-HMAC-SHA256 Credential=AKID/20150830//service/aws4_request, SignedHeaders=host, "
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        /* signed headers: empty, empty entry, trailing ';', unsorted, duplicate, upper case */
        "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request, SignedHeaders=, "
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request, "
        "SignedHeaders=host;;x, "
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request, "
        "SignedHeaders=host;, "
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request, "
        "SignedHeaders=x;host, "
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request, "
        "SignedHeaders=host;host, "
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request, "
        "SignedHeaders=Host, "
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        /* blanks inside values, lower-case component name */
        "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request, "
        "SignedHeaders=host x, "
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        "AWS4-HMAC-SHA256 credential=AKID/20150830/us-east-1/service/aws4_request, "
        "SignedHeaders=host, "
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request,  "
        "SignedHeaders=host, "
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sigv4_auth_header h;
        if (sigv4_parse_authorization(bad[i], &h) != -1 || h.signature || h.access_key_id) {
            printf("FAIL: accepted malformed #%zu: %s\n", i, bad[i]);
            s_failures++;
        }
    }
    struct sigv4_auth_header h;
    CHECK(sigv4_parse_authorization(NULL, &h) == -1);
    CHECK(sigv4_parse_authorization("x", NULL) == -1);

    /* Good variants: any order, no space after ',', several headers. */
    CHECK(sigv4_parse_authorization(
              "AWS4-HMAC-SHA256 "
              "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31,"
              "SignedHeaders=content-type;host;x-amz-date,Credential=AKIDEXAMPLE/20150830/"
              "us-west-2/bedrock/"
              "aws4_request",
              &h) == 0);
    s_expect_str("any order region", "us-west-2", h.region);
    s_expect_str("any order headers", "content-type;host;x-amz-date", h.signed_headers);
    CHECK(sigv4_parse_authorization(
              "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request, "
              "SignedHeaders=a;ab;b, "
              "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
              &h) == 0);

    /* Hostile length: far longer than storage, not NUL-terminated within
     * it. Must be refused without reading or writing out of bounds. */
    size_t big = 1u << 16;
    char *huge = malloc(big + 1);
    CHECK(huge != NULL);
    if (huge) {
        static const char head[] = "AWS4-HMAC-SHA256 Credential=";
        memset(huge, 'A', big);
        memcpy(huge, head, sizeof(head) - 1);
        huge[big] = '\0';
        CHECK(sigv4_parse_authorization(huge, &h) == -1);
        /* Exactly at the boundary: sizeof(storage) - 1 bytes is the limit. */
        huge[sizeof(h.storage)] = '\0';
        CHECK(sigv4_parse_authorization(huge, &h) == -1);
        free(huge);
    }
}

static void s_test_query_split(void)
{
    char text[] = "a=1&flag&&b=%2Fx%2B+y&c=&d=%41";
    struct sigv4_kv kv[8];
    size_t n = 0;
    if (sigv4_query_split(text, kv, 8, &n) != 0 || n != 5 || strcmp(kv[1].name, "flag") ||
        strcmp(kv[1].value, "") || strcmp(kv[2].value, "/x++y") || strcmp(kv[3].value, "") ||
        strcmp(kv[4].value, "A")) {
        printf("MISMATCH sigv4_query_split\n");
        s_failures++;
    }
    const char *bad[] = {"a=%zz", "a=%0", "a=%00", "%=1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *t = strdup(bad[i]);
        if (sigv4_query_split(t, kv, 8, &n) != -1) {
            printf("MISMATCH sigv4_query_split accepted %s\n", bad[i]);
            s_failures++;
        }
        free(t);
    }
    char many[] = "a&b&c";
    if (sigv4_query_split(many, kv, 2, &n) != -1) {
        printf("MISMATCH sigv4_query_split: more than max\n");
        s_failures++;
    }
}

static int s_run_unit(void)
{
    s_test_query_split();
    s_test_uri_encode();
    s_test_amz_date();
    s_test_signing_key();
    s_test_sign_and_parse();
    s_test_parse_malformed();
    if (s_failures) {
        printf("%d failure(s)\n", s_failures);
        return 1;
    }
    printf("sigv4 unit tests: all passed\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 1)
        return s_run_unit();
    if (argc == 3 && strcmp(argv[1], "--case") == 0) {
        int rc = s_run_case(argv[2]);
        if (rc == 0)
            printf("%s: pass\n", argv[2]);
        return rc;
    }
    fprintf(stderr, "usage: %s [--case DIR]\n", argv[0]);
    return 2;
}
