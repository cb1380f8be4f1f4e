/*
 * bedrock_list_parse - one pass over Bedrock's list body. See
 * bedrock_list_parse.h.
 */
#include "bedrock_list_parse.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json_write.h"
#include "timeutil.h"

#define S_MALFORMED "upstream returned a malformed response: "
#define S_MAX_DEPTH 2048 /* jansson's JSON_PARSER_MAX_DEPTH */
#define S_EPOCH_MIN_S (-62135596800LL)
#define S_EPOCH_MAX_S 253402300799LL

enum s_kind { K_ABSENT, K_NULL, K_BOOL, K_INT, K_REAL, K_STRING, K_OBJECT, K_ARRAY };

/* A member's value as far as the fields need it. */
struct s_value {
    enum s_kind kind;
    char *str; /* K_STRING: heap, NUL-terminated */
    size_t str_len;
    long long i;
    double d;
};

struct s_parser {
    const char *p, *end;
    int depth;
    bool bad;           /* not JSON */
    bool nomem;         /* out of memory */
    struct buf scratch; /* a string being unescaped */
};

/* The fields of one summary, in the order they are judged. */
enum {
    F_JOB_ARN,
    F_JOB_NAME,
    F_STATUS,
    F_LAST_MODIFIED,
    F_CREATION,
    F_END,
    F_MODEL_ARN,
    F_MODEL_NAME,
    F_COUNT
};
static const char *const s_field_names[F_COUNT] = {
    "jobArn",       "jobName", "status",           "lastModifiedTime",
    "creationTime", "endTime", "importedModelArn", "importedModelName"};

static void s_value_clear(struct s_value *v)
{
    free(v->str);
    memset(v, 0, sizeof(*v));
}

/* -- lexing ------------------------------------------------------------------- */

static void s_ws(struct s_parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static bool s_eat(struct s_parser *ps, char c)
{
    s_ws(ps);
    if (ps->p < ps->end && *ps->p == c) {
        ps->p++;
        return true;
    }
    return false;
}

static int s_hex4(const char *p, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (uint32_t)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* A string at p (on its opening quote). keep: unescaped into ps->scratch.
 * false when malformed (ps->bad set). */
static bool s_string(struct s_parser *ps, bool keep)
{
    const char *p = ps->p + 1, *end = ps->end;
    const char *start = p;
    bool escapes = false;
    while (p < end && *p != '"') {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20)
            goto bad;
        if (c == '\\') {
            escapes = true;
            if (++p >= end)
                goto bad;
        }
        p++;
    }
    if (p >= end || !json_write_utf8_ok(start, (size_t)(p - start)))
        goto bad;
    ps->p = p + 1;
    if (!escapes && !keep)
        return true;
    buf_reset(&ps->scratch);
    const char *q = start;
    while (q < p) {
        const char *run = q;
        while (q < p && *q != '\\')
            q++;
        if (keep && buf_append_fast(&ps->scratch, run, (size_t)(q - run)) != 0)
            goto nomem;
        if (q >= p)
            break;
        char e = q[1], one = 0;
        q += 2;
        switch (e) {
        case '"':
        case '\\':
        case '/':
            one = e;
            break;
        case 'b':
            one = '\b';
            break;
        case 'f':
            one = '\f';
            break;
        case 'n':
            one = '\n';
            break;
        case 'r':
            one = '\r';
            break;
        case 't':
            one = '\t';
            break;
        case 'u': {
            uint32_t cp, lo;
            if (p - q < 4 || s_hex4(q, &cp) != 0)
                goto bad;
            q += 4;
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                goto bad; /* a low surrogate alone */
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (p - q < 6 || q[0] != '\\' || q[1] != 'u' || s_hex4(q + 2, &lo) != 0 ||
                    lo < 0xDC00 || lo > 0xDFFF)
                    goto bad;
                q += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            if (cp == 0)
                goto bad; /* jansson refuses NUL in strings */
            char u[4];
            size_t n = json_write_utf8_put(u, cp);
            if (keep && buf_append_fast(&ps->scratch, u, n) != 0)
                goto nomem;
            continue;
        }
        default:
            goto bad;
        }
        if (keep && buf_append_fast(&ps->scratch, &one, 1) != 0)
            goto nomem;
    }
    return true;
bad:
    ps->bad = true;
    return false;
nomem:
    ps->nomem = true;
    return false;
}

static bool s_digit(const struct s_parser *ps, const char *p)
{
    return p < ps->end && *p >= '0' && *p <= '9';
}

/* A number at p: jansson's grammar and its overflow refusals. */
static bool s_number(struct s_parser *ps, struct s_value *v)
{
    const char *p = ps->p, *start = p;
    bool real = false;
    if (p < ps->end && *p == '-')
        p++;
    if (p < ps->end && *p == '0') {
        p++;
        if (s_digit(ps, p))
            goto bad;
    } else if (s_digit(ps, p)) {
        while (s_digit(ps, p))
            p++;
    } else {
        goto bad;
    }
    if (p < ps->end && *p == '.') {
        real = true;
        p++;
        if (!s_digit(ps, p))
            goto bad;
        while (s_digit(ps, p))
            p++;
    }
    if (p < ps->end && (*p == 'e' || *p == 'E')) {
        real = true;
        p++;
        if (p < ps->end && (*p == '+' || *p == '-'))
            p++;
        if (!s_digit(ps, p))
            goto bad;
        while (s_digit(ps, p))
            p++;
    }
    size_t n = (size_t)(p - start);
    char small[64], *text = n < sizeof(small) ? small : malloc(n + 1);
    if (!text) {
        ps->nomem = true;
        return false;
    }
    memcpy(text, start, n);
    text[n] = '\0';
    errno = 0;
    bool ok = true;
    if (real) {
        double d = strtod(text, NULL);
        if (errno == ERANGE && (d > 1.0 || d < -1.0))
            ok = false; /* overflow; underflow is kept, as jansson keeps it */
        v->kind = K_REAL;
        v->d = d;
    } else {
        long long i = strtoll(text, NULL, 10);
        if (errno == ERANGE)
            ok = false;
        v->kind = K_INT;
        v->i = i;
    }
    if (text != small)
        free(text);
    if (!ok)
        goto bad;
    ps->p = p;
    return true;
bad:
    ps->bad = true;
    return false;
}

static bool s_literal(struct s_parser *ps, const char *word, enum s_kind kind, struct s_value *v)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0) {
        ps->bad = true;
        return false;
    }
    ps->p += n;
    v->kind = kind;
    return true;
}

/* -- values ------------------------------------------------------------------- */

static bool s_value(struct s_parser *ps, struct s_value *v, bool keep_string);

/* Called for each element of a container, the parser on its value (for an
 * object, its key is in ps->scratch). false stops the walk. */
typedef bool (*s_item_fn)(struct s_parser *ps, size_t idx, void *arg);

/* The object or array at p (on its bracket), counted in the depth like any
 * value: each element handed to item. false when malformed, out of memory
 * or item said so. */
static bool s_container(struct s_parser *ps, s_item_fn item, void *arg)
{
    char open = *ps->p, close = open == '{' ? '}' : ']';
    if (++ps->depth > S_MAX_DEPTH) {
        ps->bad = true;
        return false;
    }
    ps->p++;
    bool ok = true;
    if (!s_eat(ps, close)) {
        for (size_t idx = 0;; idx++) {
            if (open == '{') {
                s_ws(ps);
                if (ps->p >= ps->end || *ps->p != '"' || !s_string(ps, true) || !s_eat(ps, ':')) {
                    ps->bad = !ps->nomem;
                    ok = false;
                    break;
                }
            }
            if (!(ok = item(ps, idx, arg)))
                break;
            if (s_eat(ps, ','))
                continue;
            if (!s_eat(ps, close)) {
                ps->bad = true;
                ok = false;
            }
            break;
        }
    }
    ps->depth--;
    return ok;
}

/* An element checked and dropped. */
static bool s_skip_item(struct s_parser *ps, size_t idx, void *arg)
{
    (void)idx;
    (void)arg;
    struct s_value v = {0};
    return s_value(ps, &v, false);
}

/* Any value at p. Strings are kept (heap, in v) only when keep_string;
 * containers are checked and dropped (v->kind says which). */
static bool s_value(struct s_parser *ps, struct s_value *v, bool keep_string)
{
    s_ws(ps);
    if (ps->p < ps->end && (*ps->p == '{' || *ps->p == '[')) {
        v->kind = *ps->p == '{' ? K_OBJECT : K_ARRAY;
        return s_container(ps, s_skip_item, NULL);
    }
    if (ps->p >= ps->end || ++ps->depth > S_MAX_DEPTH) {
        ps->bad = true;
        return false;
    }
    bool ok;
    switch (*ps->p) {
    case '"':
        ok = s_string(ps, keep_string);
        v->kind = K_STRING;
        if (ok && keep_string) {
            v->str_len = ps->scratch.len;
            v->str = malloc(v->str_len + 1);
            if (!v->str) {
                ps->nomem = true;
                ok = false;
            } else {
                if (v->str_len)
                    memcpy(v->str, ps->scratch.data, v->str_len);
                v->str[v->str_len] = '\0';
            }
        }
        break;
    case 't':
        ok = s_literal(ps, "true", K_BOOL, v);
        break;
    case 'f':
        ok = s_literal(ps, "false", K_BOOL, v);
        break;
    case 'n':
        ok = s_literal(ps, "null", K_NULL, v);
        break;
    default:
        ok = s_number(ps, v);
    }
    ps->depth--;
    return ok;
}

/* -- the fields ------------------------------------------------------------------ */

static int s_status_from_bedrock(const char *s)
{
    for (int v = JOBS_STATUS_IN_PROGRESS; v <= JOBS_STATUS_FAILED; v++) {
        const char *name = jobs_status_bedrock(v);
        if (name && strcmp(name, s) == 0)
            return v;
    }
    return JOBS_STATUS_UNSPECIFIED;
}

/* A timestamp: absent or null -> no time; ISO 8601 string or epoch seconds
 * (integer or real) -> the time; anything else -> -1. */
static int s_time(const struct s_value *v, bool *has, struct bgw_time *t)
{
    *has = false;
    switch (v->kind) {
    case K_ABSENT:
    case K_NULL:
        return 0;
    case K_STRING:
        if (timeutil_parse_iso8601(v->str, t) != 0)
            return -1;
        break;
    case K_INT:
        if (v->i < S_EPOCH_MIN_S || v->i > S_EPOCH_MAX_S)
            return -1;
        t->seconds = (int64_t)v->i;
        t->nanos = 0;
        break;
    case K_REAL:
        if (timeutil_from_epoch_double(v->d, t) != 0)
            return -1;
        break;
    default:
        return -1;
    }
    *has = true;
    return 0;
}

/* Judges one summary's fields in the old order; takes the strings it keeps. */
static enum bgw_status s_summary(struct s_value *f, size_t idx, struct jobs_summary *s,
                                 struct bgw_error *err)
{
    char **req_dst[2] = {&s->job_arn, &s->job_name};
    for (int k = F_JOB_ARN; k <= F_JOB_NAME; k++) {
        struct s_value *v = &f[k];
        const char *why = v->kind == K_ABSENT || v->kind == K_NULL ? "is missing"
                          : v->kind != K_STRING                    ? "is not a string"
                          : v->str_len == 0                        ? "is empty"
                                                                   : NULL;
        if (why)
            return bgw_error_set(err, BGW_ERR_BAD_GATEWAY, NULL,
                                 S_MALFORMED "modelImportJobSummaries[%zu].%s %s", idx,
                                 s_field_names[k], why);
        *req_dst[k] = v->str;
        v->str = NULL;
    }
    struct s_value *st = &f[F_STATUS];
    if (st->kind != K_ABSENT && st->kind != K_NULL) {
        if (st->kind != K_STRING)
            return bgw_error_set(err, BGW_ERR_BAD_GATEWAY, NULL,
                                 S_MALFORMED "modelImportJobSummaries[%zu].status is not a string",
                                 idx);
        s->status = s_status_from_bedrock(st->str);
    }
    bool *has[3] = {&s->has_last_modified_time, &s->has_creation_time, &s->has_end_time};
    struct bgw_time *tv[3] = {&s->last_modified_time, &s->creation_time, &s->end_time};
    for (int k = 0; k < 3; k++) {
        if (s_time(&f[F_LAST_MODIFIED + k], has[k], tv[k]) == 0)
            continue;
        /* creationTime orders the rows and bounds every tenant's window: a
         * row without a usable one cannot be placed, so the page fails.
         * The other two are informational and left out. */
        if (F_LAST_MODIFIED + k != F_CREATION) {
            *has[k] = false;
            memset(tv[k], 0, sizeof(*tv[k]));
            continue;
        }
        return bgw_error_set(err, BGW_ERR_BAD_GATEWAY, NULL,
                             S_MALFORMED "modelImportJobSummaries[%zu].creationTime is not a "
                                         "timestamp",
                             idx);
    }
    char **opt_dst[2] = {&s->imported_model_arn, &s->imported_model_name};
    for (int k = 0; k < 2; k++) {
        struct s_value *v = &f[F_MODEL_ARN + k];
        if (v->kind == K_STRING) { /* anything else: informational, left out */
            *opt_dst[k] = v->str;
            v->str = NULL;
        }
    }
    return BGW_OK;
}

/* A summary's members: its fields (the last duplicate wins) and anything
 * else, checked and dropped. Strings are kept only while no row has been
 * refused. */
struct s_row_ctx {
    struct s_value f[F_COUNT];
    bool keep;
};

static bool s_field(struct s_parser *ps, size_t idx, void *arg)
{
    (void)idx;
    struct s_row_ctx *rc = arg;
    /* (keys hold no NUL: s_string refuses \u0000) */
    const char *key = ps->scratch.data ? ps->scratch.data : "";
    int k = 0;
    while (k < F_COUNT && strcmp(key, s_field_names[k]) != 0)
        k++;
    if (k == F_COUNT)
        return s_skip_item(ps, idx, NULL);
    s_value_clear(&rc->f[k]);
    return s_value(ps, &rc->f[k], rc->keep);
}

/* The rows of one modelImportJobSummaries value. Rows are judged only until
 * the first refusal (failed, its message in err); later ones are still
 * checked as JSON. */
struct s_rows_ctx {
    struct jobs_response rows;
    size_t cap;
    bool failed;
    struct bgw_error err;
};

/* One element of modelImportJobSummaries. */
static bool s_row(struct s_parser *ps, size_t idx, void *arg)
{
    struct s_rows_ctx *rs = arg;
    s_ws(ps);
    if (ps->p >= ps->end || *ps->p != '{') {
        if (!s_skip_item(ps, idx, NULL))
            return false;
        if (!rs->failed) {
            rs->failed = true;
            bgw_error_set(&rs->err, BGW_ERR_BAD_GATEWAY, NULL,
                          S_MALFORMED "modelImportJobSummaries[%zu] is not an object", idx);
        }
        return true;
    }
    struct s_row_ctx rc;
    memset(&rc, 0, sizeof(rc));
    rc.keep = !rs->failed;
    bool ok = s_container(ps, s_field, &rc);
    if (ok && !rs->failed) { /* every row before this one is stored: idx == n_summaries */
        if (idx == rs->cap) {
            size_t ncap = rs->cap ? 2 * rs->cap : 16;
            struct jobs_summary *grown = realloc(rs->rows.summaries, ncap * sizeof(*grown));
            if (!grown) {
                ps->nomem = true;
                ok = false;
            } else {
                rs->rows.summaries = grown;
                rs->cap = ncap;
            }
        }
        if (ok) {
            struct jobs_summary *sum = &rs->rows.summaries[idx];
            memset(sum, 0, sizeof(*sum));
            rs->rows.n_summaries++; /* counted first, so clean-up frees what it holds */
            if (s_summary(rc.f, idx, sum, &rs->err) != BGW_OK)
                rs->failed = true;
        }
    }
    for (int k = 0; k < F_COUNT; k++)
        s_value_clear(&rc.f[k]);
    return ok;
}

/* The body's members: modelImportJobSummaries and nextToken (the last
 * duplicate of each wins), anything else checked and dropped. */
struct s_root_ctx {
    struct s_rows_ctx rows;
    char *token;
    bool token_failed;
};

static bool s_root_member(struct s_parser *ps, size_t idx, void *arg)
{
    struct s_root_ctx *root = arg;
    const char *key = ps->scratch.data ? ps->scratch.data : "";
    if (strcmp(key, "modelImportJobSummaries") == 0) {
        struct s_rows_ctx *rs = &root->rows;
        jobs_response_clean_up(&rs->rows);
        memset(rs, 0, sizeof(*rs));
        s_ws(ps);
        if (ps->p < ps->end && *ps->p == '[')
            return s_container(ps, s_row, rs);
        struct s_value v = {0};
        if (!s_value(ps, &v, false))
            return false;
        if (v.kind != K_NULL) {
            rs->failed = true;
            bgw_error_set(&rs->err, BGW_ERR_BAD_GATEWAY, NULL,
                          S_MALFORMED "modelImportJobSummaries is not an array");
        }
        return true;
    }
    if (strcmp(key, "nextToken") == 0) {
        struct s_value v = {0};
        bool ok = s_value(ps, &v, true);
        free(root->token);
        root->token = NULL;
        root->token_failed = ok && v.kind != K_NULL && v.kind != K_STRING;
        if (ok && v.kind == K_STRING && v.str_len > 0) {
            root->token = v.str;
            v.str = NULL;
        }
        s_value_clear(&v);
        return ok;
    }
    return s_skip_item(ps, idx, NULL);
}

enum bgw_status bedrock_list_parse(const char *body, size_t len, struct jobs_response *out,
                                   struct bgw_error *err)
{
    memset(out, 0, sizeof(*out));
    struct s_parser ps = {.p = body, .end = body + len};
    buf_init(&ps.scratch, 0);
    struct s_root_ctx root;
    memset(&root, 0, sizeof(root));
    bool ok, root_object = false;

    s_ws(&ps);
    if (ps.p < ps.end && *ps.p == '{') {
        root_object = true;
        ok = s_container(&ps, s_root_member, &root);
    } else if (ps.p < ps.end && *ps.p == '[') {
        ok = s_skip_item(&ps, 0, NULL);
    } else {
        ps.bad = true;
        ok = false;
    }
    if (ok) {
        s_ws(&ps);
        if (ps.p != ps.end)
            ps.bad = true;
    }
    enum bgw_status rc;
    if (ps.nomem)
        rc = bgw_error_set(err, BGW_ERR_NOMEM, NULL, "out of memory parsing the upstream response");
    else if (ps.bad || !ok)
        rc = bgw_error_set(err, BGW_ERR_BAD_GATEWAY, NULL, S_MALFORMED "body is not JSON");
    else if (!root_object)
        rc = bgw_error_set(err, BGW_ERR_BAD_GATEWAY, NULL, S_MALFORMED "body is not a JSON object");
    else if (root.rows.failed)
        rc = bgw_error_set(err, root.rows.err.status, NULL, "%s", root.rows.err.message);
    else if (root.token_failed)
        rc = bgw_error_set(err, BGW_ERR_BAD_GATEWAY, NULL, S_MALFORMED "nextToken is not a string");
    else
        rc = BGW_OK;
    if (rc == BGW_OK) {
        *out = root.rows.rows;
        out->next_token = root.token;
    } else {
        jobs_response_clean_up(&root.rows.rows);
        free(root.token);
    }
    buf_clean_up(&ps.scratch);
    return rc;
}
