/*
 * handler - authenticate, validate, apply the policy, and page: upstream
 * pages in, full filtered pages with gateway tokens out. See handler.h.
 * No I/O, no clock.
 */
#include "handler.h"

#include "cache.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "page_token.h"
#include "policy.h"

/* Upstream page size. Without post-filtering every row Bedrock returns is
 * shown, so exactly the rows still needed are asked for (plus the rows of
 * the upstream page already shown on an earlier page, which are skipped).
 * With post-filtering, S_OVERFETCH times the need, at least S_OVERFETCH_MIN:
 * one upstream call costs about the same for 10 rows or 100, and the token's
 * position makes stopping mid-page free. Bedrock's maximum is 1000. */
#define S_OVERFETCH 4
#define S_OVERFETCH_MIN 100
/* No new upstream call is started with less than this left before the
 * client's deadline: the page so far is returned with a token instead. */
#define S_MIN_CALL_MS 100

struct handler_walk {
    struct policy_view view;
    int64_t page_size;
    /* What page tokens bind, made on first use (only calls that decode or
     * mint a token need it: not a cached answer's call). */
    char binding[TENANT_ID_MAX + 2 * POLICY_CANON_MAX + 4];
    bool have_binding;
    char *cursor;  /* upstream cursor of the page being read; NULL = start */
    uint32_t skip; /* rows of that page already shown */
    struct jobs_response out;
    size_t out_cap;
    int pages;
};

static void s_walk_free(struct handler_walk *w)
{
    if (!w)
        return;
    policy_view_clean_up(&w->view);
    free(w->cursor);
    jobs_response_clean_up(&w->out);
    free(w);
}

_Static_assert(sizeof(struct handler_call) <= 1032 || sizeof(void *) != 8,
               "struct handler_call grew past glibc's tcache limit (see handler.h)");

struct handler_call *handler_call_new(enum handler_transport t)
{
    struct handler_call *c = calloc(1, sizeof(*c));
    if (c)
        c->transport = t;
    return c;
}

static char *s_hex(char *p, unsigned long v)
{
    static const char digits[] = "0123456789abcdef";
    char tmp[2 * sizeof(v)];
    size_t n = 0;
    do {
        tmp[n++] = digits[v & 15];
        v >>= 4;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

void handler_format_request_id(char out[24], char prefix, unsigned long t, unsigned long n)
{
    char tmp[4 + 4 * sizeof(unsigned long)];
    char *p = tmp;
    *p++ = prefix;
    p = s_hex(p, t);
    *p++ = '-';
    p = s_hex(p, n);
    size_t len = (size_t)(p - tmp);
    if (len > 23)
        len = 23;
    memcpy(out, tmp, len);
    out[len] = '\0';
}

static void s_wipe_free(char *s)
{
    if (s) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

void handler_call_free(struct handler_call *c)
{
    if (!c)
        return;
    s_wipe_free(c->authorization);
    s_wipe_free(c->x_api_key);
    free(c->cache_control);
    free(c->if_none_match);
    peer_identity_clean_up(&c->peer_cert);
    jobs_request_clean_up(&c->req);
    s_walk_free(c->walk);
    free(c);
}

void handler_call_rewind(struct handler_call *c)
{
    c->tenant = NULL;
    c->auth_method = AUTH_NONE;
    s_walk_free(c->walk);
    c->walk = NULL;
}

enum bgw_status handler_authenticate(const struct handler_ctx *ctx, struct handler_call *call,
                                     struct bgw_error *err)
{
    const char *reason = "unauthenticated";
    if (call->transport == HANDLER_AWS) {
        /* The signature was checked by the frontend; the key id names the
         * tenant in this call's own config snapshot. */
        const char *secret = NULL;
        if (call->aws_auth != 0) {
            *err = call->decode_error;
            return err->status;
        }
        call->tenant = call->authorization
                           ? tenant_find_aws_key(&ctx->cfg->tenants, call->authorization, &secret)
                           : NULL;
        if (!call->tenant) {
            call->aws_auth = HANDLER_AWS_KEY_GONE;
            return bgw_error_set(err, BGW_ERR_UNAUTHENTICATED, NULL,
                                 "The security token included in the request is invalid.");
        }
        call->auth_method = AUTH_SIGV4;
        return BGW_OK;
    }
    struct auth_input in = {call->authorization, call->x_api_key, &call->peer_cert,
                            call->key_header_repeated};
    call->tenant = auth_resolve(&ctx->cfg->tenants, &in, &call->auth_method, &reason);
    if (!call->tenant)
        return bgw_error_set(err, BGW_ERR_UNAUTHENTICATED, NULL, "%s", reason);
    return BGW_OK;
}

/* The upstream query for the page at w->cursor. */
static enum bgw_status s_upstream_query(const struct handler_walk *w, struct jobs_request *q,
                                        struct bgw_error *err)
{
    if (jobs_request_copy(&w->view.upstream, q) != 0)
        return bgw_error_set(err, BGW_ERR_NOMEM, NULL, "out of memory");
    if (w->cursor) {
        q->next_token = strdup(w->cursor);
        if (!q->next_token) {
            jobs_request_clean_up(q);
            return bgw_error_set(err, BGW_ERR_NOMEM, NULL, "out of memory");
        }
    }
    int64_t need = w->page_size - (int64_t)w->out.n_summaries;
    int64_t n = need;
    if (w->view.post_filter) {
        n = need * S_OVERFETCH;
        if (n < S_OVERFETCH_MIN)
            n = S_OVERFETCH_MIN;
    }
    n += w->skip;
    if (n > JOBS_MAX_RESULTS_MAX)
        n = JOBS_MAX_RESULTS_MAX;
    q->has_max_results = true;
    q->max_results = n;
    return BGW_OK;
}

/* The token binds the tenant, the client's filters and what the policy
 * made of them (a policy change ends walks cleanly, with a 400). */
static enum bgw_status s_binding(const struct handler_call *call, struct handler_walk *w,
                                 struct bgw_error *err)
{
    if (w->have_binding)
        return BGW_OK;
    char canon_req[POLICY_CANON_MAX], canon_up[POLICY_CANON_MAX];
    if (policy_filters_canon(&call->req, canon_req, sizeof(canon_req)) < 0 ||
        policy_filters_canon(&w->view.upstream, canon_up, sizeof(canon_up)) < 0)
        return bgw_error_set(err, BGW_ERR_INTERNAL, NULL, "filters too long");
    snprintf(w->binding, sizeof(w->binding), "%s\n%s\n%s", call->tenant->id, canon_req, canon_up);
    w->have_binding = true;
    return BGW_OK;
}

/* Ends the walk: the response gets a token for (cursor, position) when
 * more = true. */
static enum bgw_status s_reply(const struct handler_ctx *ctx, const struct handler_call *call,
                               struct handler_walk *w, const struct handler_now *now, bool more,
                               enum handler_next *next, struct bgw_error *err)
{
    *next = HANDLER_REPLY;
    if (!more)
        return BGW_OK;
    if (s_binding(call, w, err) != BGW_OK)
        return err->status;
    char *tok = NULL;
    enum page_token_status ts =
        page_token_encode(&ctx->cfg->tokens, w->binding, w->cursor, w->skip, now->wall_s, &tok);
    if (ts == PAGE_TOKEN_TOO_LONG)
        return bgw_error_set(err, BGW_ERR_BAD_GATEWAY, NULL,
                             "Bedrock's pagination token is too long to continue from");
    if (ts != PAGE_TOKEN_OK)
        return bgw_error_set(err, BGW_ERR_NOMEM, NULL, "cannot make the page token");
    w->out.next_token = tok;
    return BGW_OK;
}

enum bgw_status handler_prepare(const struct handler_ctx *ctx, struct handler_call *call,
                                const struct handler_now *now, enum handler_next *next,
                                struct jobs_request *upstream_q, struct bgw_error *err)
{
    memset(upstream_q, 0, sizeof(*upstream_q));
    *next = HANDLER_REPLY;
    if (!call->tenant && handler_authenticate(ctx, call, err) != BGW_OK)
        return err->status;

    if (call->decode_failed) {
        *err = call->decode_error;
        if (err->status == BGW_OK) /* a frontend bug must not become a success */
            return bgw_error_set(err, BGW_ERR_INTERNAL, NULL, "request could not be decoded");
        return err->status;
    }
    enum bgw_status st = jobs_request_validate(&call->req, err);
    if (st != BGW_OK)
        return st;

    s_walk_free(call->walk);
    struct handler_walk *w = call->walk = calloc(1, sizeof(*w));
    if (!w || policy_apply(&call->tenant->policy, &call->req, &w->view) != BGW_OK)
        return bgw_error_set(err, BGW_ERR_NOMEM, NULL, "out of memory");
    w->page_size = policy_page_size(&call->tenant->policy, &call->req, ctx->cfg->default_page_size);

    if (call->req.next_token) {
        if (s_binding(call, w, err) != BGW_OK)
            return err->status;
        struct page_token t;
        enum page_token_status ts =
            page_token_decode(&ctx->cfg->tokens, w->binding, call->req.next_token, now->wall_s, &t);
        if (ts == PAGE_TOKEN_NOMEM)
            return bgw_error_set(err, BGW_ERR_NOMEM, NULL, "out of memory");
        if (ts == PAGE_TOKEN_EXPIRED)
            return bgw_error_set(err, BGW_ERR_INVALID_ARGUMENT, "nextToken",
                                 "nextToken has expired: start again without it");
        if (ts != PAGE_TOKEN_OK)
            return bgw_error_set(err, BGW_ERR_INVALID_ARGUMENT, "nextToken",
                                 "nextToken is not valid for this caller and these filters "
                                 "(it must be passed back unchanged, with the same filters)");
        w->cursor = t.cursor;
        w->skip = t.position;
    }
    if (w->view.empty)
        return s_reply(ctx, call, w, now, false, next, err);
    st = s_upstream_query(w, upstream_q, err);
    if (st == BGW_OK)
        *next = HANDLER_FETCH;
    return st;
}

static enum bgw_status s_push(struct handler_walk *w, struct jobs_summary *s)
{
    if (w->out.n_summaries == w->out_cap) {
        size_t cap = w->out_cap ? w->out_cap * 2 : 16;
        if (cap > (size_t)w->page_size)
            cap = (size_t)w->page_size;
        struct jobs_summary *n = realloc(w->out.summaries, cap * sizeof(*n));
        if (!n)
            return BGW_ERR_NOMEM;
        w->out.summaries = n;
        w->out_cap = cap;
    }
    w->out.summaries[w->out.n_summaries++] = *s;
    memset(s, 0, sizeof(*s));
    return BGW_OK;
}

enum bgw_status handler_on_page(const struct handler_ctx *ctx, struct handler_call *call,
                                const struct handler_now *now, struct jobs_response *page,
                                enum handler_next *next, struct jobs_request *upstream_q,
                                struct bgw_error *err)
{
    memset(upstream_q, 0, sizeof(*upstream_q));
    *next = HANDLER_REPLY;
    struct handler_walk *w = call->walk;
    enum bgw_status st = BGW_OK;
    if (!w)
        return bgw_error_set(err, BGW_ERR_INTERNAL, NULL, "page without a walk");
    w->pages++;
    const struct policy *p = &call->tenant->policy;
    for (size_t i = w->skip; i < page->n_summaries; i++) {
        struct jobs_summary *s = &page->summaries[i];
        if (!policy_view_visible(&w->view, s))
            continue;
        policy_redact(p, s);
        if (s_push(w, s) != BGW_OK) {
            st = bgw_error_set(err, BGW_ERR_NOMEM, NULL, "out of memory");
            goto cleanup;
        }
        if ((int64_t)w->out.n_summaries == w->page_size && i + 1 < page->n_summaries) {
            /* Full in the middle of the upstream page: continue after row i. */
            w->skip = (uint32_t)(i + 1);
            st = s_reply(ctx, call, w, now, true, next, err);
            goto cleanup;
        }
    }
    /* The upstream page is used up. */
    free(w->cursor);
    w->cursor = page->next_token;
    page->next_token = NULL;
    w->skip = 0;
    if (!w->cursor) {
        st = s_reply(ctx, call, w, now, false, next, err); /* Bedrock has no more */
        goto cleanup;
    }
    bool full = (int64_t)w->out.n_summaries >= w->page_size;
    bool budget = w->pages >= ctx->cfg->max_upstream_calls;
    bool late = call->deadline_ms > 0 && now->mono_ms + S_MIN_CALL_MS > call->deadline_ms;
    if (full || budget || late) {
        st = s_reply(ctx, call, w, now, true, next, err);
        goto cleanup;
    }
    st = s_upstream_query(w, upstream_q, err);
    if (st == BGW_OK)
        *next = HANDLER_FETCH;
cleanup:
    jobs_response_clean_up(page);
    return st;
}

const struct jobs_response *handler_response(const struct handler_call *call)
{
    return &call->walk->out;
}

void handler_audit(const struct handler_call *call, struct handler_audit *out)
{
    memset(out, 0, sizeof(*out));
    if (!call->walk)
        return;
    out->filters = &call->walk->view.upstream;
    out->page_size = call->walk->page_size;
    out->policy_empty = call->walk->view.empty;
    out->upstream_pages = call->walk->pages;
}

int handler_view_key(const struct handler_ctx *ctx, const struct handler_call *call,
                     struct buf *out)
{
    /* The output depends on the tenant (its policy), the transport (the
     * rendering) and the client's own request (filters, page size, the
     * gateway page token with its position), normalized like cache keys. */
    const char *id = call->tenant ? call->tenant->id : "";
    char gen[24];
    size_t n = 0;
    unsigned long v = ctx->generation;
    do { /* decimal, reversed: the key only needs to be unique */
        gen[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v && n < sizeof(gen) - 1);
    gen[n++] = call->transport == HANDLER_GRPC ? 'g' : call->transport == HANDLER_REST ? 'r' : 'a';
    gen[n++] = (char)('0' + call->render_variant % 10);
    if (buf_append(out, gen, n) != 0)
        return -1;
    return cache_key_build(id, &call->req, ctx->cfg->default_page_size, out);
}
