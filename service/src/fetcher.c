/*
 * fetcher - one Bedrock page per call: sign, send, parse. See fetcher.h.
 * Loop thread only.
 */
#include "fetcher.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bedrock_client.h"
#include "upstream_http.h"

/* How much of a caller's deadline is kept back to deliver the answer. */
#define S_DEADLINE_MARGIN_MS 20

struct fetcher_fetch;

struct fetcher {
    const struct config *cfg;
    struct credentials_provider *credentials;
    struct upstream_http *http;
    size_t active;
    struct fetcher_fetch *head; /* fetches in flight, freed on destroy */
};

struct fetcher_fetch {
    struct fetcher *f;
    struct fetcher_fetch *prev, *next;
    struct jobs_request q;
    int64_t deadline_ms;
    fetcher_cb cb;
    void *arg;
    struct upstream_request *req;
    int attempts;
};

static int64_t s_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct fetcher *fetcher_new(const struct fetcher_options *opts)
{
    struct fetcher *f = calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    f->cfg = opts->cfg;
    f->credentials = opts->credentials;
    struct upstream_http_options uo = {
        .connect_timeout_ms = f->cfg->upstream_connect_timeout_ms,
        .max_body_bytes = f->cfg->upstream_max_body_bytes,
        .max_connections = 64,
        .ca_file = f->cfg->ca_file[0] ? f->cfg->ca_file : NULL,
    };
    f->http = upstream_http_new(opts->base, &uo);
    if (!f->http) {
        free(f);
        return NULL;
    }
    return f;
}

void fetcher_destroy(struct fetcher *f)
{
    if (!f)
        return;
    while (f->head)
        fetcher_cancel(f->head);
    upstream_http_destroy(f->http);
    free(f);
}

size_t fetcher_active(const struct fetcher *f)
{
    return f->active;
}

static void s_free_fetch(struct fetcher_fetch *h)
{
    struct fetcher *f = h->f;
    if (h->prev)
        h->prev->next = h->next;
    else
        f->head = h->next;
    if (h->next)
        h->next->prev = h->prev;
    f->active--;
    jobs_request_clean_up(&h->q);
    free(h);
}

static void s_on_http(void *arg, const struct upstream_response *r)
{
    struct fetcher_fetch *h = arg;
    h->req = NULL;
    struct jobs_response page;
    memset(&page, 0, sizeof(page));
    struct bgw_error err;
    bgw_error_clear(&err);
    enum bgw_status st;
    switch (r->outcome) {
    case UPSTREAM_TIMEOUT:
        st = bgw_error_set(&err, BGW_ERR_DEADLINE_EXCEEDED, NULL,
                           h->deadline_ms > 0
                               ? "Bedrock did not answer within the call's deadline"
                               : "Bedrock did not answer within the upstream timeout");
        break;
    case UPSTREAM_TRANSPORT:
        st = bgw_error_set(&err, BGW_ERR_UNAVAILABLE, NULL, "Bedrock is unreachable");
        err.retry_after_s = 1;
        break;
    default: {
        struct bedrock_http_response hr = {r->status, r->error_type, r->retry_after, r->body,
                                           r->body_len};
        st = bedrock_parse_list_response(&hr, &page, &err);
        break;
    }
    }
    struct fetcher_result res = {
        .status = st,
        .page = st == BGW_OK ? &page : NULL,
        .err = st == BGW_OK ? NULL : &err,
        .http_status = r->outcome == UPSTREAM_OK ? r->status : 0,
        .upstream_ms = r->elapsed_ms,
        .attempts = h->attempts,
        .transport_error = r->outcome == UPSTREAM_OK ? NULL : r->transport_error,
    };
    fetcher_cb cb = h->cb;
    void *cb_arg = h->arg;
    s_free_fetch(h);
    cb(cb_arg, &res);
    jobs_response_clean_up(&page);
}

struct fetcher_fetch *fetcher_fetch_page(struct fetcher *f, const struct jobs_request *q,
                                         int64_t deadline_ms, fetcher_cb cb, void *arg,
                                         struct bgw_error *err)
{
    int64_t now_ms = s_mono_ms();
    int64_t timeout_ms = f->cfg->upstream_timeout_ms;
    if (deadline_ms > 0) {
        int64_t left = deadline_ms - now_ms - S_DEADLINE_MARGIN_MS;
        if (left <= 0) {
            bgw_error_set(err, BGW_ERR_DEADLINE_EXCEEDED, NULL,
                          "deadline expired before the upstream call");
            return NULL;
        }
        if (left < timeout_ms)
            timeout_ms = left;
    }
    const struct credentials *creds = credentials_provider_current(f->credentials, now_ms, err);
    if (!creds)
        return NULL;

    struct fetcher_fetch *h = calloc(1, sizeof(*h));
    if (!h || jobs_request_copy(q, &h->q) != 0) {
        free(h);
        bgw_error_set(err, BGW_ERR_NOMEM, NULL, "out of memory");
        return NULL;
    }
    h->f = f;
    h->next = f->head;
    if (f->head)
        f->head->prev = h;
    f->head = h;
    f->active++;
    h->deadline_ms = deadline_ms;
    h->cb = cb;
    h->arg = arg;

    struct sigv4_credentials sc = {creds->access_key_id, creds->secret_access_key,
                                   creds->session_token};
    struct bedrock_request_options o = {
        .endpoint = &f->cfg->endpoint,
        .region = f->cfg->region,
        .credentials = &sc,
        .now_s = (int64_t)time(NULL),
        .default_max_results = f->cfg->default_page_size,
    };
    struct bedrock_http_request hreq;
    memset(&hreq, 0, sizeof(hreq));
    if (bedrock_build_list_request(&h->q, &o, &hreq, err) != BGW_OK)
        goto fail;
    h->attempts++;
    h->req = upstream_http_get(f->http, hreq.url, hreq.headers, hreq.n_headers, timeout_ms,
                               s_on_http, h);
    bedrock_http_request_clean_up(&hreq);
    if (!h->req) {
        bgw_error_set(err, BGW_ERR_UNAVAILABLE, NULL, "cannot start the upstream request");
        goto fail;
    }
    return h;
fail:
    s_free_fetch(h);
    return NULL;
}

void fetcher_cancel(struct fetcher_fetch *h)
{
    if (!h)
        return;
    if (h->req)
        upstream_http_cancel(h->req);
    s_free_fetch(h);
}
