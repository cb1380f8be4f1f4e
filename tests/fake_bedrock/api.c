/*
 * api - GET /model-import-jobs as Bedrock answers it. See api.h.
 * Loop thread only; never blocks (delays use timers).
 */
#include "api.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "buf.h"
#include "control.h"
#include "dataset.h"
#include "query.h"
#include "reply.h"
#include "sigcheck.h"
#include "sigv4.h"
#include "timeutil.h"

#define S_API_PATH "/model-import-jobs"
#define S_ERR_VALUE_ECHO_MAX 256
#define S_TOKEN_ARN_MAX 512
#define S_TOKEN_RAW_MAX 1024

struct api_pending {
    struct api_pending *prev;
    struct api_pending *next;
    struct fake_server *s;
    struct evhttp_request *req;
    struct event *timer;
    struct reply reply;
    char request_id[40];
};

/* --- small helpers ---------------------------------------------------- */

static const char *s_method_name(enum evhttp_cmd_type m)
{
    switch (m) {
    case EVHTTP_REQ_GET:
        return "GET";
    case EVHTTP_REQ_POST:
        return "POST";
    case EVHTTP_REQ_HEAD:
        return "HEAD";
    case EVHTTP_REQ_PUT:
        return "PUT";
    case EVHTTP_REQ_DELETE:
        return "DELETE";
    case EVHTTP_REQ_OPTIONS:
        return "OPTIONS";
    case EVHTTP_REQ_TRACE:
        return "TRACE";
    case EVHTTP_REQ_CONNECT:
        return "CONNECT";
    case EVHTTP_REQ_PATCH:
        return "PATCH";
    }
    return "UNKNOWN";
}

static uint64_t s_mix(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A UUID-shaped x-amzn-RequestId, unique per process and request. */
static void s_request_id(struct fake_server *s, char out[40])
{
    static uint64_t boot;
    if (!boot)
        boot = s_mix((uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32));
    uint64_t a = s_mix(boot ^ ++s->request_seq);
    uint64_t b = s_mix(a);
    snprintf(out, 40, "%08" PRIx32 "-%04" PRIx32 "-4%03" PRIx32 "-%04" PRIx32 "-%012" PRIx64,
             (uint32_t)(a >> 32), (uint32_t)(a >> 16) & 0xffff, (uint32_t)a & 0xfff,
             ((uint32_t)(b >> 48) & 0x3fff) | 0x8000, (uint64_t)(b & 0xffffffffffffULL));
}

/* --- base64url and tokens --------------------------------------------- */

static const char s_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int s_b64_encode(const unsigned char *in, size_t len, char *out, size_t out_len)
{
    size_t need = (len / 3) * 4 + (len % 3 ? len % 3 + 1 : 0) + 1;
    if (need > out_len)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < len)
            v |= in[i + 2];
        out[o++] = s_b64[(v >> 18) & 63];
        out[o++] = s_b64[(v >> 12) & 63];
        if (i + 1 < len)
            out[o++] = s_b64[(v >> 6) & 63];
        if (i + 2 < len)
            out[o++] = s_b64[v & 63];
    }
    out[o] = '\0';
    return 0;
}

static int s_b64_value(char c)
{
    const char *p = c ? strchr(s_b64, c) : NULL;
    return p ? (int)(p - s_b64) : -1;
}

/* Strict unpadded base64url; returns the decoded length or -1. */
static long s_b64_decode(const char *in, unsigned char *out, size_t out_len)
{
    size_t len = strlen(in);
    if (len % 4 == 1)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 4) {
        size_t chunk = len - i < 4 ? len - i : 4;
        uint32_t v = 0;
        for (size_t k = 0; k < 4; k++) {
            int d = k < chunk ? s_b64_value(in[i + k]) : 0;
            if (d < 0)
                return -1;
            v = (v << 6) | (uint32_t)d;
        }
        unsigned char bytes[3] = {(unsigned char)(v >> 16), (unsigned char)(v >> 8),
                                  (unsigned char)v};
        for (size_t k = 0; k + 1 < chunk; k++) {
            if (o == out_len)
                return -1;
            out[o++] = bytes[k];
        }
    }
    return (long)o;
}

int api_token_encode(const char *params_hash, const struct dataset_cursor *c, char *out,
                     size_t out_len)
{
    char raw[S_TOKEN_RAW_MAX];
    int n;
    if (c->at_start)
        n = snprintf(raw, sizeof(raw), "v1|%s|S", params_hash);
    else
        n = snprintf(raw, sizeof(raw), "v1|%s|K|%lld|%ld|%s", params_hash,
                     (long long)c->created.seconds, (long)c->created.nanos, c->arn);
    if (n < 0 || (size_t)n >= sizeof(raw))
        return -1;
    return s_b64_encode((const unsigned char *)raw, (size_t)n, out, out_len);
}

static int s_parse_ll(const char *s, long long min, long long max, long long *out)
{
    if (!*s || (!isdigit((unsigned char)*s) && *s != '-'))
        return -1;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int api_token_decode(const char *token, const char *params_hash, struct dataset_cursor *c,
                     char *arn_storage, size_t arn_storage_len)
{
    unsigned char raw[S_TOKEN_RAW_MAX + 1];
    long n = s_b64_decode(token, raw, S_TOKEN_RAW_MAX);
    if (n < 0)
        return -1;
    raw[n] = '\0';
    if (memchr(raw, '\0', (size_t)n))
        return -1;
    char *text = (char *)raw;
    char *save = NULL;
    char *version = strtok_r(text, "|", &save);
    char *hash = strtok_r(NULL, "|", &save);
    char *kind = strtok_r(NULL, "|", &save);
    if (!version || strcmp(version, "v1") != 0 || !hash || strcmp(hash, params_hash) != 0 || !kind)
        return -1;
    if (strcmp(kind, "S") == 0) {
        if (strtok_r(NULL, "|", &save))
            return -1;
        c->at_start = true;
        c->arn = NULL;
        return 0;
    }
    char *secs = strtok_r(NULL, "|", &save);
    char *nanos = strtok_r(NULL, "|", &save);
    char *arn = strtok_r(NULL, "|", &save);
    long long sv, nv;
    if (strcmp(kind, "K") != 0 || !secs || !nanos || !arn || strtok_r(NULL, "|", &save) ||
        s_parse_ll(secs, -62135596800LL, 253402300799LL, &sv) != 0 ||
        s_parse_ll(nanos, 0, 999999999, &nv) != 0 || strlen(arn) >= arn_storage_len)
        return -1;
    memcpy(arn_storage, arn, strlen(arn) + 1);
    c->at_start = false;
    c->created.seconds = sv;
    c->created.nanos = (int32_t)nv;
    c->arn = arn_storage;
    return 0;
}

/* --- validation ------------------------------------------------------- */

struct s_list_params {
    struct dataset_filter f;
    int64_t max_results;
    struct dataset_cursor cursor;
    char arn[S_TOKEN_ARN_MAX];
    char hash[17];
};

struct s_errors {
    struct buf text;
    int n;
};

static void s_add_error(struct s_errors *e, const char *value, const char *field,
                        const char *constraint)
{
    if (e->n)
        buf_append_str(&e->text, "; ");
    /* The value is echoed like AWS does, cut to a bounded length. */
    buf_appendf(&e->text, "Value '%.*s' at '%s' failed to satisfy constraint: Member must %s",
                S_ERR_VALUE_ECHO_MAX, value, field, constraint);
    e->n++;
}

static bool s_is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* [a-zA-Z0-9](-*[a-zA-Z0-9\+\-\.])*, matched against the whole value. The
 * class already holds '-', so this is: one alnum, then alnum or "+-.". */
static bool s_name_pattern_ok(const char *s)
{
    if (!s_is_alnum(s[0]))
        return false;
    for (const char *p = s + 1; *p; p++) {
        if (!s_is_alnum(*p) && *p != '+' && *p != '-' && *p != '.')
            return false;
    }
    return true;
}

/* \S* (Java's whitespace class: space, \t \n \x0B \f \r). */
static bool s_no_space(const char *s)
{
    for (const char *p = s; *p; p++) {
        if (strchr(" \t\n\v\f\r", *p))
            return false;
    }
    return true;
}

static void s_check_time(struct s_errors *e, const char *value, const char *field, bool *has,
                         struct bgw_time *out)
{
    if (!value)
        return;
    if (timeutil_parse_iso8601(value, out) != 0) {
        s_add_error(e, value, field, "be a timestamp in ISO 8601 format (2024-01-02T03:04:05Z)");
        return;
    }
    *has = true;
}

/* Validates q into p. Returns 0, or -1 with message set to Bedrock's
 * "N validation error(s) detected: ..." text (heap, caller frees). */
static int s_parse_list(const struct query_params *q, int64_t default_max_results,
                        struct s_list_params *p, char **message)
{
    int rc = -1;
    struct s_errors e;
    buf_init(&e.text, 64 * 1024);
    e.n = 0;
    memset(p, 0, sizeof(*p));
    p->max_results = default_max_results;
    p->cursor.at_start = true;

    s_check_time(&e, query_get(q, "creationTimeAfter"), "creationTimeAfter", &p->f.has_after,
                 &p->f.after);
    s_check_time(&e, query_get(q, "creationTimeBefore"), "creationTimeBefore", &p->f.has_before,
                 &p->f.before);

    const char *status = query_get(q, "statusEquals");
    if (status) {
        if (strcmp(status, "InProgress") == 0 || strcmp(status, "Completed") == 0 ||
            strcmp(status, "Failed") == 0)
            p->f.status = status;
        else
            s_add_error(&e, status, "statusEquals",
                        "satisfy enum value set: [InProgress, Completed, Failed]");
    }

    const char *name = query_get(q, "nameContains");
    if (name) {
        size_t len = strlen(name);
        if (len < 1)
            s_add_error(&e, name, "nameContains", "have length greater than or equal to 1");
        else if (len > 63)
            s_add_error(&e, name, "nameContains", "have length less than or equal to 63");
        else if (!s_name_pattern_ok(name))
            s_add_error(&e, name, "nameContains",
                        "satisfy regular expression pattern: [a-zA-Z0-9](-*[a-zA-Z0-9\\+\\-\\.])*");
        else
            p->f.name_contains = name;
    }

    const char *max = query_get(q, "maxResults");
    if (max) {
        long long v;
        if (s_parse_ll(max, INT32_MIN, INT32_MAX, &v) != 0)
            s_add_error(&e, max, "maxResults", "be an integer");
        else if (v < 1)
            s_add_error(&e, max, "maxResults", "have value greater than or equal to 1");
        else if (v > 1000)
            s_add_error(&e, max, "maxResults", "have value less than or equal to 1000");
        else
            p->max_results = v;
    }

    const char *token = query_get(q, "nextToken");
    if (token) {
        size_t len = strlen(token);
        if (len < 1)
            s_add_error(&e, token, "nextToken", "have length greater than or equal to 1");
        else if (len > 2048)
            s_add_error(&e, token, "nextToken", "have length less than or equal to 2048");
        else if (!s_no_space(token))
            s_add_error(&e, token, "nextToken", "satisfy regular expression pattern: \\S*");
    }

    const char *sort_by = query_get(q, "sortBy");
    if (sort_by && strcmp(sort_by, "CreationTime") != 0)
        s_add_error(&e, sort_by, "sortBy", "satisfy enum value set: [CreationTime]");

    const char *order = query_get(q, "sortOrder");
    p->f.descending = true; /* Bedrock's default */
    if (order) {
        if (strcmp(order, "Ascending") == 0)
            p->f.descending = false;
        else if (strcmp(order, "Descending") != 0)
            s_add_error(&e, order, "sortOrder", "satisfy enum value set: [Ascending, Descending]");
    }

    if (e.n) {
        struct buf msg;
        buf_init(&msg, 0);
        buf_appendf(&msg, "%d validation error%s detected: %s", e.n, e.n == 1 ? "" : "s",
                    e.text.data ? e.text.data : "");
        *message = buf_detach(&msg);
        goto cleanup;
    }

    /* The token is bound to everything that selects or orders jobs (not to
     * maxResults, which may change between pages). */
    char canon[512];
    snprintf(canon, sizeof(canon), "a=%s%lld.%09d|b=%s%lld.%09d|s=%s|n=%s|o=%c",
             p->f.has_after ? "" : "-", (long long)p->f.after.seconds, (int)p->f.after.nanos,
             p->f.has_before ? "" : "-", (long long)p->f.before.seconds, (int)p->f.before.nanos,
             p->f.status ? p->f.status : "", p->f.name_contains ? p->f.name_contains : "",
             p->f.descending ? 'D' : 'A');
    char hex[65];
    sigv4_sha256_hex(canon, strlen(canon), hex);
    memcpy(p->hash, hex, 16);
    p->hash[16] = '\0';
    if (token && api_token_decode(token, p->hash, &p->cursor, p->arn, sizeof(p->arn)) != 0) {
        *message = strdup("Invalid pagination token");
        goto cleanup;
    }
    rc = 0;
cleanup:
    buf_clean_up(&e.text);
    return rc;
}

/* --- the operation ---------------------------------------------------- */

enum s_list_outcome { S_LIST_PAGE, S_LIST_INVALID, S_LIST_ERROR };

static enum s_list_outcome s_list(struct fake_server *s, const struct query_params *q,
                                  bool empty_page, struct reply *r)
{
    enum s_list_outcome rc = S_LIST_ERROR;
    struct s_list_params p;
    char *message = NULL;
    size_t *idx = NULL;
    json_t *obj = NULL;
    char token[2 * S_TOKEN_RAW_MAX];

    if (s_parse_list(q, s->cfg->default_max_results, &p, &message) != 0) {
        reply_set_error(r, 400, "ValidationException", REPLY_NS_BEDROCK, "message",
                        message ? message : "validation failed");
        rc = S_LIST_INVALID;
        goto cleanup;
    }
    obj = json_object();
    json_t *arr = json_array();
    if (!obj || !arr || json_object_set_new(obj, "modelImportJobSummaries", arr) != 0)
        goto cleanup;
    if (empty_page) {
        /* No jobs, but a token that continues from the same position. */
        if (api_token_encode(p.hash, &p.cursor, token, sizeof(token)) != 0 ||
            json_object_set_new(obj, "nextToken", json_string(token)) != 0)
            goto cleanup;
    } else {
        idx = calloc((size_t)p.max_results, sizeof(*idx));
        if (!idx)
            goto cleanup;
        bool more = false;
        size_t n = dataset_page(s->data, &p.f, &p.cursor, (size_t)p.max_results, idx, &more);
        for (size_t i = 0; i < n; i++)
            json_array_append(arr, s->data->jobs[idx[i]].obj);
        if (more && n > 0) {
            const struct dataset_job *last = &s->data->jobs[idx[n - 1]];
            struct dataset_cursor next = {
                .at_start = false, .created = last->created, .arn = last->arn};
            if (api_token_encode(p.hash, &next, token, sizeof(token)) != 0 ||
                json_object_set_new(obj, "nextToken", json_string(token)) != 0)
                goto cleanup;
        }
    }
    if (reply_set_json(r, 200, obj) != 0)
        goto cleanup;
    rc = S_LIST_PAGE;
cleanup:
    if (rc == S_LIST_ERROR)
        reply_set_error(r, 500, "InternalServerException", REPLY_NS_BEDROCK, "message",
                        "fake-bedrock: out of memory");
    json_decref(obj);
    free(idx);
    free(message);
    return rc;
}

/* --- delayed replies -------------------------------------------------- */

static void s_pending_unlink(struct fake_server *s, struct api_pending *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else
        s->pending = p->next;
    if (p->next)
        p->next->prev = p->prev;
}

static void s_pending_finish(struct api_pending *p)
{
    s_pending_unlink(p->s, p);
    /* If the client went away meanwhile, libevent has detached req from
     * its connection; sending then just frees req. */
    reply_send(p->req, &p->reply, p->request_id);
    reply_clean_up(&p->reply);
    event_free(p->timer);
    free(p);
}

static void s_on_delay(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    s_pending_finish(arg);
}

/* Takes over r's body. Returns 0, or -1 (nothing taken) on failure. */
static int s_defer(struct fake_server *s, struct evhttp_request *req, struct reply *r,
                   const char *request_id, int64_t delay_ms)
{
    struct api_pending *p = calloc(1, sizeof(*p));
    if (!p)
        return -1;
    p->timer = evtimer_new(s->base, s_on_delay, p);
    struct timeval tv = {.tv_sec = delay_ms / 1000, .tv_usec = (delay_ms % 1000) * 1000};
    if (!p->timer || evtimer_add(p->timer, &tv) != 0) {
        if (p->timer)
            event_free(p->timer);
        free(p);
        return -1;
    }
    p->s = s;
    p->req = req;
    p->reply = *r;
    r->body = NULL;
    r->body_len = 0;
    snprintf(p->request_id, sizeof(p->request_id), "%s", request_id);
    p->next = s->pending;
    if (s->pending)
        s->pending->prev = p;
    s->pending = p;
    return 0;
}

void api_pending_flush_all(struct fake_server *s)
{
    while (s->pending)
        s_pending_finish(s->pending);
}

/* --- request log ------------------------------------------------------ */

struct s_headers {
    struct sigv4_kv *kv; /* names: heap lower-case copies; values borrowed */
    size_t n;
};

static void s_headers_clean_up(struct s_headers *h)
{
    for (size_t i = 0; i < h->n; i++)
        free((char *)h->kv[i].name);
    free(h->kv);
    h->kv = NULL;
    h->n = 0;
}

static int s_headers_collect(struct evhttp_request *req, struct s_headers *h)
{
    struct evkeyvalq *in = evhttp_request_get_input_headers(req);
    h->n = 0;
    h->kv = calloc(FAKE_MAX_HEADERS, sizeof(*h->kv));
    if (!h->kv)
        return -1;
    for (struct evkeyval *kv = in->tqh_first; kv && h->n < FAKE_MAX_HEADERS;
         kv = kv->next.tqe_next) {
        char *name = strdup(kv->key);
        if (!name)
            return -1;
        for (char *c = name; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        h->kv[h->n].name = name;
        h->kv[h->n].value = kv->value;
        h->n++;
    }
    return 0;
}

static json_t *s_log_entry(struct evhttp_request *req, const char *path, const char *query_raw,
                           const struct query_params *q, const struct s_headers *h)
{
    json_t *e = json_object();
    json_t *query = json_object();
    json_t *headers = json_object();
    if (!e || !query || !headers)
        goto fail;
    for (size_t i = 0; i < q->n; i++) {
        if (!json_object_get(query, q->items[i].name))
            reply_json_set(query, q->items[i].name, reply_json_string(q->items[i].value));
    }
    for (size_t i = 0; i < h->n; i++) {
        json_t *prev = json_object_get(headers, h->kv[i].name);
        if (prev && json_string_value(prev)) {
            struct buf joined;
            buf_init(&joined, 0);
            buf_appendf(&joined, "%s,%s", json_string_value(prev), h->kv[i].value);
            reply_json_set(headers, h->kv[i].name,
                           reply_json_string(joined.data ? joined.data : ""));
            buf_clean_up(&joined);
        } else {
            reply_json_set(headers, h->kv[i].name, reply_json_string(h->kv[i].value));
        }
    }
    reply_json_set(e, "method", json_string(s_method_name(evhttp_request_get_command(req))));
    reply_json_set(e, "path", reply_json_string(path));
    reply_json_set(e, "query_raw", reply_json_string(query_raw ? query_raw : ""));
    json_object_set_new(e, "query", query);
    json_object_set_new(e, "headers", headers);
    json_object_set_new(e, "signature_ok", json_false());
    json_object_set_new(e, "status", json_integer(0));
    json_object_set_new(e, "fault", json_null());
    return e;
fail:
    json_decref(e);
    json_decref(query);
    json_decref(headers);
    return NULL;
}

/* --- entry point ------------------------------------------------------ */

static void s_fault_reply(enum fake_fault_kind kind, const struct fake_fault *f, struct reply *r)
{
    switch (kind) {
    case FAKE_FAULT_THROTTLE:
        reply_set_error(r, 429, "ThrottlingException", REPLY_NS_BEDROCK, "message",
                        "Too many requests, please wait before trying again.");
        r->retry_after_s = f->retry_after_s;
        if (f->retry_after_date)
            timeutil_format_http_date((int64_t)time(NULL) + f->retry_after_date_s,
                                      r->retry_after_text, sizeof(r->retry_after_text));
        break;
    case FAKE_FAULT_INTERNAL:
        reply_set_error(r, 500, "InternalServerException", REPLY_NS_BEDROCK, "message",
                        "An internal server error occurred. Retry your request.");
        break;
    case FAKE_FAULT_VALIDATION:
        reply_set_error(r, 400, "ValidationException", REPLY_NS_BEDROCK, "message",
                        "1 validation error detected: injected by fake-bedrock");
        break;
    case FAKE_FAULT_EXPIRED_TOKEN:
        reply_set_error(r, 403, "ExpiredTokenException", REPLY_NS_CORAL, "message",
                        "The security token included in the request is expired");
        break;
    case FAKE_FAULT_ACCESS_DENIED:
        /* "Message" (capital M): the other spelling AWS uses. */
        reply_set_error(r, 403, "AccessDeniedException", REPLY_NS_BEDROCK, "Message",
                        "User: arn:aws:iam::123456789012:user/fake-bedrock is not authorized to "
                        "perform: bedrock:ListModelImportJobs because no identity-based policy "
                        "allows the bedrock:ListModelImportJobs action");
        break;
    default:
        break;
    }
}

void api_handle(struct fake_server *s, struct evhttp_request *req, const char *path,
                const char *query_raw)
{
    struct reply r;
    struct query_params q = {0};
    struct s_headers h = {0};
    char request_id[40];
    json_t *entry = NULL;
    bool sig_ok = false;
    bool drop = false;
    int64_t delay_ms = 0;
    struct fake_fault fault = {.kind = FAKE_FAULT_NONE};
    reply_init(&r);

    s->counters.requests_total++;
    s_request_id(s, request_id);
    if (s_headers_collect(req, &h) != 0) {
        reply_set_error(&r, 500, "InternalFailure", REPLY_NS_CORAL, "message", "out of memory");
        goto send;
    }
    int qrc = query_parse(query_raw ? query_raw : "", query_raw ? strlen(query_raw) : 0,
                          FAKE_MAX_QUERY_PARAMS, &q);
    entry = s_log_entry(req, path, query_raw, &q, &h);

    if (strcmp(path, S_API_PATH) != 0) {
        reply_set_error(&r, 404, "UnknownOperationException", REPLY_NS_CORAL, "message",
                        "Unknown operation");
        goto send;
    }
    if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
        reply_set_error(&r, 405, "MethodNotAllowedException", REPLY_NS_CORAL, "message",
                        "Method Not Allowed");
        r.allow = "GET";
        goto send;
    }
    if (qrc != 0) {
        reply_set_error(&r, 400, "ValidationException", REPLY_NS_BEDROCK, "message",
                        "Too many query parameters");
        s->counters.validation_failed++;
        goto send;
    }

    /* An extra key pair (POST /_fake/credentials) named by the request's
     * Credential= is checked instead of the command line's. */
    const struct fake_key *key = NULL;
    const char *authz = NULL;
    for (size_t i = 0; i < h.n; i++) {
        if (strcasecmp(h.kv[i].name, "authorization") == 0)
            authz = h.kv[i].value;
    }
    const char *cred = authz ? strstr(authz, "Credential=") : NULL;
    for (size_t i = 0; cred && i < s->n_keys; i++) {
        size_t n = strlen(s->keys[i].access_key_id);
        if (strncmp(cred + 11, s->keys[i].access_key_id, n) == 0 && cred[11 + n] == '/')
            key = &s->keys[i];
    }
    if (key && key->expired) {
        s->counters.auth_failed++;
        reply_set_error(&r, 403, "ExpiredTokenException", REPLY_NS_CORAL, "message",
                        "The security token included in the request is expired");
        goto send;
    }
    const struct sigcheck_config sc = {
        .access_key_id = key ? key->access_key_id : s->cfg->access_key_id,
        .secret_access_key = key ? key->secret_access_key : s->cfg->secret_access_key,
        .session_token = key ? key->session_token : s->cfg->session_token,
        .region = s->cfg->region,
        .service = "bedrock",
        .max_skew_s = s->cfg->max_skew_s,
    };
    const struct sigcheck_request sr = {
        .method = "GET",
        .path = path,
        .query = &q,
        .headers = h.kv,
        .n_headers = h.n,
        .now_s = (int64_t)time(NULL),
    };
    struct sigcheck_error *serr = calloc(1, sizeof(*serr));
    if (!serr) {
        reply_set_error(&r, 500, "InternalFailure", REPLY_NS_CORAL, "message", "out of memory");
        goto send;
    }
    if (sigcheck_verify(&sc, &sr, serr) != SIGCHECK_OK) {
        s->counters.auth_failed++;
        int status = serr->result == SIGCHECK_INTERNAL ? 500 : 403;
        reply_set_error(&r, status, sigcheck_error_type(serr->result), REPLY_NS_CORAL, "message",
                        serr->message);
        free(serr);
        goto send;
    }
    free(serr);
    sig_ok = true;

    fault = control_fault_take(s);
    if (fault.kind != FAKE_FAULT_NONE)
        s->counters.faults_injected++;
    switch (fault.kind) {
    case FAKE_FAULT_THROTTLE:
    case FAKE_FAULT_INTERNAL:
    case FAKE_FAULT_VALIDATION:
    case FAKE_FAULT_ACCESS_DENIED:
    case FAKE_FAULT_EXPIRED_TOKEN:
        s_fault_reply(fault.kind, &fault, &r);
        goto send;
    case FAKE_FAULT_DROP:
        drop = true;
        goto send;
    default:
        break;
    }

    enum s_list_outcome outcome = s_list(s, &q, fault.kind == FAKE_FAULT_EMPTY_PAGE, &r);
    if (outcome == S_LIST_INVALID)
        s->counters.validation_failed++;
    else if (outcome == S_LIST_PAGE && fault.kind != FAKE_FAULT_EMPTY_PAGE &&
             fault.kind != FAKE_FAULT_MALFORMED)
        s->counters.list_ok++;
    if (fault.kind == FAKE_FAULT_MALFORMED && r.body_len > 1) {
        /* A strict prefix of a JSON object is never valid JSON. */
        r.body_len /= 2;
        r.body[r.body_len] = '\0';
    }
    if (fault.kind == FAKE_FAULT_DELAY)
        delay_ms = fault.delay_ms;

send:
    if (entry) {
        json_object_set_new(entry, "signature_ok", json_boolean(sig_ok));
        json_object_set_new(entry, "status", json_integer(drop ? 0 : r.status));
        const char *fname = fake_fault_kind_str(fault.kind);
        json_object_set_new(entry, "fault", fname ? json_string(fname) : json_null());
        json_object_set_new(entry, "request_id", json_string(request_id));
        control_log_append(s, entry);
    }
    if (drop) {
        /* Close without any response. libevent frees the request with the
         * connection; its callers expect that from a request callback. */
        evhttp_connection_free(evhttp_request_get_connection(req));
    } else if (delay_ms <= 0 || s_defer(s, req, &r, request_id, delay_ms) != 0) {
        reply_send(req, &r, request_id);
    }
    reply_clean_up(&r);
    query_params_clean_up(&q);
    s_headers_clean_up(&h);
}
