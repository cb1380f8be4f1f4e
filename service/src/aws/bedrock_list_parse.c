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

/* The rest of an array or object after its opening bracket, checked and
 * dropped. */
static bool s_skip_container(struct s_parser *ps, char close)
{
    if (s_eat(ps, close))
        return true;
    for (;;) {
        struct s_value v = {0};
        if (close == '}') {
            s_ws(ps);
            if (ps->p >= ps->end || *ps->p != '"' || !s_string(ps, false) || !s_eat(ps, ':')) {
                ps->bad = true;
                return false;
            }
        }
        if (!s_value(ps, &v, false))
            return false;
        if (s_eat(ps, ','))
            continue;
        if (s_eat(ps, close))
            return true;
        ps->bad = true;
        return false;
    }
}

/* Any value at p. Strings are kept (heap, in v) only when keep_string;
 * containers are checked and dropped (v->kind says which). */
static bool s_value(struct s_parser *ps, struct s_value *v, bool keep_string)
{
    s_ws(ps);
    if (ps->p >= ps->end || ++ps->depth > S_MAX_DEPTH) {
        ps->bad = true;
        return false;
    }
    bool ok;
    switch (*ps->p) {
    case '{':
    case '[': {
        char close = *ps->p == '{' ? '}' : ']';
        v->kind = close == '}' ? K_OBJECT : K_ARRAY;
        ps->p++;
        ok = s_skip_container(ps, close);
        break;
    }
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

/* One element of modelImportJobSummaries. Rows are judged only until the
 * first refusal (*failed); later ones are still checked as JSON. */
static bool s_row(struct s_parser *ps, size_t idx, struct jobs_response *rows, size_t *cap,
                  bool *failed, struct bgw_error *err)
{
    s_ws(ps);
    if (ps->p >= ps->end || *ps->p != '{') {
        struct s_value v = {0};
        if (!s_value(ps, &v, false))
            return false;
        if (!*failed) {
            *failed = true;
            bgw_error_set(err, BGW_ERR_BAD_GATEWAY, NULL,
                          S_MALFORMED "modelImportJobSummaries[%zu] is not an object", idx);
        }
        return true;
    }
    if (++ps->depth > S_MAX_DEPTH) {
        ps->bad = true;
        return false;
    }
    ps->p++;
    struct s_value f[F_COUNT];
    memset(f, 0, sizeof(f));
    bool ok = true;
    if (!s_eat(ps, '}')) {
        for (;;) {
            s_ws(ps);
            if (ps->p >= ps->end || *ps->p != '"' || !s_string(ps, true) || !s_eat(ps, ':')) {
                ps->bad = !ps->nomem;
                ok = false;
                break;
            }
            /* (keys hold no NUL: s_string refuses \u0000) */
            const char *key = ps->scratch.data ? ps->scratch.data : "";
            int k = 0;
            while (k < F_COUNT && strcmp(key, s_field_names[k]) != 0)
                k++;
            if (k < F_COUNT) {
                s_value_clear(&f[k]); /* the last duplicate wins */
                ok = s_value(ps, &f[k], !*failed);
            } else {
                struct s_value v = {0};
                ok = s_value(ps, &v, false);
            }
            if (!ok)
                break;
            if (s_eat(ps, ','))
                continue;
            if (!s_eat(ps, '}')) {
                ps->bad = true;
                ok = false;
            }
            break;
        }
    }
    ps->depth--;
    if (ok && !*failed) { /* every row before this one is stored: idx == n_summaries */
        if (idx == *cap) {
            size_t ncap = *cap ? 2 * *cap : 16;
            struct jobs_summary *grown = realloc(rows->summaries, ncap * sizeof(*grown));
            if (!grown) {
                ps->nomem = true;
                ok = false;
            } else {
                rows->summaries = grown;
                *cap = ncap;
            }
        }
        if (ok) {
            memset(&rows->summaries[idx], 0, sizeof(rows->summaries[idx]));
            rows->n_summaries++; /* counted first, so clean-up frees what it holds */
            if (s_summary(f, idx, &rows->summaries[idx], err) != BGW_OK)
                *failed = true;
        }
    }
    for (int k = 0; k < F_COUNT; k++)
        s_value_clear(&f[k]);
    return ok;
}

/* modelImportJobSummaries' value (the parser is on it). */
static bool s_rows(struct s_parser *ps, struct jobs_response *rows, bool *failed,
                   struct bgw_error *err)
{
    s_ws(ps);
    if (ps->p >= ps->end || *ps->p != '[') {
        struct s_value v = {0};
        if (!s_value(ps, &v, false))
            return false;
        if (v.kind != K_NULL) {
            *failed = true;
            bgw_error_set(err, BGW_ERR_BAD_GATEWAY, NULL,
                          S_MALFORMED "modelImportJobSummaries is not an array");
        }
        return true;
    }
    if (++ps->depth > S_MAX_DEPTH) {
        ps->bad = true;
        return false;
    }
    ps->p++;
    size_t cap = 0;
    bool ok = true;
    if (!s_eat(ps, ']')) {
        for (size_t idx = 0;; idx++) {
            if (!(ok = s_row(ps, idx, rows, &cap, failed, err)))
                break;
            if (s_eat(ps, ','))
                continue;
            if (!s_eat(ps, ']')) {
                ps->bad = true;
                ok = false;
            }
            break;
        }
    }
    ps->depth--;
    return ok;
}

enum bgw_status bedrock_list_parse(const char *body, size_t len, struct jobs_response *out,
                                   struct bgw_error *err)
{
    memset(out, 0, sizeof(*out));
    struct s_parser ps = {.p = body, .end = body + len};
    buf_init(&ps.scratch, 0);
    struct jobs_response rows;
    memset(&rows, 0, sizeof(rows));
    struct bgw_error rows_err, token_err;
    bgw_error_clear(&rows_err);
    bgw_error_clear(&token_err);
    bool rows_failed = false, token_failed = false, root_object = false;
    char *token = NULL;
    bool ok = true;

    s_ws(&ps);
    if (ps.p < ps.end && *ps.p == '[') {
        struct s_value v = {0};
        ok = s_value(&ps, &v, false);
    } else if (ps.p < ps.end && *ps.p == '{') {
        root_object = true;
        ps.depth = 1;
        ps.p++;
        if (!s_eat(&ps, '}')) {
            for (;;) {
                s_ws(&ps);
                if (ps.p >= ps.end || *ps.p != '"' || !s_string(&ps, true) || !s_eat(&ps, ':')) {
                    ps.bad = !ps.nomem;
                    ok = false;
                    break;
                }
                const char *key = ps.scratch.data ? ps.scratch.data : "";
                size_t key_len = ps.scratch.len;
                if (key_len == 23 && memcmp(key, "modelImportJobSummaries", 23) == 0) {
                    jobs_response_clean_up(&rows); /* the last duplicate wins */
                    memset(&rows, 0, sizeof(rows));
                    rows_failed = false;
                    bgw_error_clear(&rows_err);
                    ok = s_rows(&ps, &rows, &rows_failed, &rows_err);
                } else if (key_len == 9 && memcmp(key, "nextToken", 9) == 0) {
                    struct s_value v = {0};
                    ok = s_value(&ps, &v, true);
                    free(token);
                    token = NULL;
                    token_failed = ok && v.kind != K_NULL && v.kind != K_STRING;
                    if (ok && v.kind == K_STRING && v.str_len > 0) {
                        token = v.str;
                        v.str = NULL;
                    }
                    s_value_clear(&v);
                } else {
                    struct s_value v = {0};
                    ok = s_value(&ps, &v, false);
                }
                if (!ok)
                    break;
                if (s_eat(&ps, ','))
                    continue;
                if (!s_eat(&ps, '}')) {
                    ps.bad = true;
                    ok = false;
                }
                break;
            }
        }
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
    else if (rows_failed)
        rc = bgw_error_set(err, rows_err.status, NULL, "%s", rows_err.message);
    else if (token_failed)
        rc = bgw_error_set(err, BGW_ERR_BAD_GATEWAY, NULL, S_MALFORMED "nextToken is not a string");
    else
        rc = BGW_OK;
    if (rc == BGW_OK) {
        *out = rows;
        out->next_token = token;
    } else {
        jobs_response_clean_up(&rows);
        free(token);
    }
    buf_clean_up(&ps.scratch);
    return rc;
}
