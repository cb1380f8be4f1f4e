/*
 * access_log - the audit line, formatted directly. See access_log.h.
 */
#include "access_log.h"

#include <string.h>

#include "auth.h"
#include "jobs.h"
#include "json_write.h"
#include "log.h"
#include "status.h"
#include "timeutil.h"

/* ,"key": (key is a literal: no escaping needed) */
#define S_KEY(b, lit) buf_append_fast((b), "," lit ":", sizeof("," lit ":") - 1)

static int s_str(struct buf *b, const char *s)
{
    return log_put_str(b, s, strlen(s));
}

/* {" or ,": the separator before a member of a nested object. */
static int s_member(struct buf *b, bool *first, const char *key_json, size_t key_len)
{
    int bad = buf_append_fast(b, *first ? "{" : ",", 1);
    *first = false;
    return bad | buf_append_fast(b, key_json, key_len);
}
#define S_MEMBER(b, first, lit) s_member((b), (first), lit ":", sizeof(lit ":") - 1)

/* nameContains as before: at most 64 bytes, left out unless UTF-8. */
static bool s_name_ok(const char *name, size_t *len)
{
    *len = strnlen(name, 64);
    return json_write_utf8_ok(name, *len);
}

static int s_params(struct buf *b, const struct jobs_request *q)
{
    bool first = true;
    int bad = 0;
    size_t n;
    if (q->has_creation_time_after)
        bad |= S_MEMBER(b, &first, "\"creationTimeAfter\"") |
               log_put_int(b, q->creation_time_after.seconds);
    if (q->has_creation_time_before)
        bad |= S_MEMBER(b, &first, "\"creationTimeBefore\"") |
               log_put_int(b, q->creation_time_before.seconds);
    if (q->status_equals)
        bad |= S_MEMBER(b, &first, "\"statusEquals\"") | log_put_int(b, q->status_equals);
    if (q->name_contains && s_name_ok(q->name_contains, &n))
        bad |= S_MEMBER(b, &first, "\"nameContains\"") | log_put_str(b, q->name_contains, n);
    if (q->has_max_results)
        bad |= S_MEMBER(b, &first, "\"maxResults\"") | log_put_int(b, q->max_results);
    if (q->next_token)
        bad |= S_MEMBER(b, &first, "\"nextTokenLength\"") |
               log_put_int(b, (long long)strlen(q->next_token));
    if (q->sort_by)
        bad |= S_MEMBER(b, &first, "\"sortBy\"") | log_put_int(b, q->sort_by);
    if (q->sort_order)
        bad |= S_MEMBER(b, &first, "\"sortOrder\"") | log_put_int(b, q->sort_order);
    return bad | buf_append_fast(b, first ? "{}" : "}", first ? 2 : 1);
}

/* The effective filters: enums by their Bedrock names, times RFC 3339. */
static int s_filters(struct buf *b, const struct jobs_request *q, int64_t page_size)
{
    bool first = true;
    int bad = 0;
    char t[TIMEUTIL_FMT_MAX];
    size_t n;
    const char *s;
    if (q->has_creation_time_after &&
        timeutil_format_rfc3339(q->creation_time_after, t, sizeof(t)) > 0)
        bad |= S_MEMBER(b, &first, "\"creationTimeAfter\"") | log_put_str(b, t, strlen(t));
    if (q->has_creation_time_before &&
        timeutil_format_rfc3339(q->creation_time_before, t, sizeof(t)) > 0)
        bad |= S_MEMBER(b, &first, "\"creationTimeBefore\"") | log_put_str(b, t, strlen(t));
    if ((s = jobs_status_bedrock(q->status_equals)) != NULL)
        bad |= S_MEMBER(b, &first, "\"statusEquals\"") | s_str(b, s);
    if (q->name_contains && s_name_ok(q->name_contains, &n))
        bad |= S_MEMBER(b, &first, "\"nameContains\"") | log_put_str(b, q->name_contains, n);
    if ((s = jobs_sort_by_bedrock(q->sort_by)) != NULL)
        bad |= S_MEMBER(b, &first, "\"sortBy\"") | s_str(b, s);
    if ((s = jobs_sort_order_bedrock(q->sort_order)) != NULL)
        bad |= S_MEMBER(b, &first, "\"sortOrder\"") | s_str(b, s);
    bad |= S_MEMBER(b, &first, "\"pageSize\"") | log_put_int(b, page_size);
    return bad | buf_append_fast(b, "}", 1);
}

int access_log_append_fields(struct buf *b, const struct handler_call *c,
                             const struct handler_audit *a, const struct jobs_response *resp,
                             const struct bgw_error *err, int64_t latency_ms)
{
    const char *transport = c->transport == HANDLER_GRPC  ? "grpc"
                            : c->transport == HANDLER_AWS ? "aws"
                                                          : "rest";
    const char *tenant = c->tenant ? c->tenant->id : "";
    size_t rid_len = strlen(c->request_id), tenant_len = strlen(tenant), peer_len = strlen(c->peer);
    /* The jansson-built line (json_pack "s") was not written at all when one
     * of these was not UTF-8; keep it that way. */
    if (!json_write_utf8_ok(c->request_id, rid_len) || !json_write_utf8_ok(tenant, tenant_len) ||
        !json_write_utf8_ok(c->peer, peer_len))
        return 1;
    enum bgw_status st = err ? err->status : BGW_OK;
    int bad = S_KEY(b, "\"request_id\"") | log_put_str(b, c->request_id, rid_len) |
              S_KEY(b, "\"transport\"") | s_str(b, transport) | S_KEY(b, "\"tenant\"") |
              log_put_str(b, tenant, tenant_len) | S_KEY(b, "\"peer\"") |
              log_put_str(b, c->peer, peer_len) | S_KEY(b, "\"params\"") | s_params(b, &c->req) |
              S_KEY(b, "\"code\"") | s_str(b, bgw_status_grpc_name(st)) |
              S_KEY(b, "\"grpc_code\"") | log_put_int(b, bgw_status_grpc_code(st)) |
              S_KEY(b, "\"http_status\"") |
              log_put_int(b, c->transport == HANDLER_REST && !err && c->cache_reply.not_modified
                                 ? 304 /* what was sent */
                                 : bgw_status_http(st)) |
              S_KEY(b, "\"latency_ms\"") | log_put_int(b, latency_ms) |
              S_KEY(b, "\"upstream_calls\"") | log_put_int(b, c->upstream_calls);
    if (a->filters) {
        bad |= S_KEY(b, "\"filters\"") | s_filters(b, a->filters, a->page_size);
        if (a->policy_empty)
            bad |= S_KEY(b, "\"policy_empty\"") | buf_append_fast(b, "true", 4);
    }
    if (c->upstream_status || c->upstream_ms)
        bad |= S_KEY(b, "\"upstream_status\"") | log_put_int(b, c->upstream_status) |
               S_KEY(b, "\"upstream_ms\"") | log_put_int(b, c->upstream_ms);
    if (c->auth_method != AUTH_NONE)
        bad |= S_KEY(b, "\"auth\"") | s_str(b, auth_method_str(c->auth_method));
    if (c->transport == HANDLER_AWS && c->authorization) /* the key id: letters and digits */
        bad |= S_KEY(b, "\"access_key_id\"") | s_str(b, c->authorization);
    const struct handler_cache_reply *cr = &c->cache_reply;
    bool have_items = false;
    int64_t items = 0;
    bool more = false;
    if (resp) {
        have_items = true;
        items = (int64_t)resp->n_summaries;
        more = resp->next_token != NULL;
    } else if (!err && cr->from_view) {
        have_items = true;
        items = cr->items;
        more = cr->more;
    }
    if (have_items)
        bad |= S_KEY(b, "\"items\"") | log_put_int(b, items) | S_KEY(b, "\"more\"") |
               (more ? buf_append_fast(b, "true", 4) : buf_append_fast(b, "false", 5));
    if (cr->x_cache)
        bad |= S_KEY(b, "\"cache\"") | s_str(b, cr->coalesced    ? "coalesced"
                                                : cr->shared_hit ? "hit"
                                                                 : cr->x_cache);
    if (cr->from_view)
        bad |= S_KEY(b, "\"view\"") | buf_append_fast(b, "true", 4);
    if (err) {
        size_t n = strlen(err->message);
        if (json_write_utf8_ok(err->message, n))
            bad |= S_KEY(b, "\"error\"") | log_put_str(b, err->message, n);
    }
    return bad ? -1 : 0;
}

/* The whole line in scratch, "}\n" included: 0, or -1 for no line. */
static int s_line(struct buf *scratch, const struct handler_call *c,
                  const struct jobs_response *resp, const struct bgw_error *err, int64_t latency_ms)
{
    enum log_level level = err && err->status == BGW_ERR_INTERNAL ? LOG_WARN : LOG_INFO;
    if (!log_enabled(level) || log_line_begin(scratch, level, "access") != 0)
        return -1;
    struct handler_audit a;
    handler_audit(c, &a);
    if (access_log_append_fields(scratch, c, &a, resp, err, latency_ms) != 0)
        return -1;
    return log_line_end(scratch);
}

/* One unusually long line must not pin its memory for good. */
static void s_trim(struct buf *b)
{
    if (b->cap > 16384)
        buf_clean_up(b);
}

void access_log_write(struct buf *scratch, const struct handler_call *c,
                      const struct jobs_response *resp, const struct bgw_error *err,
                      int64_t latency_ms)
{
    if (s_line(scratch, c, resp, err, latency_ms) == 0)
        log_write_lines(scratch->data, scratch->len);
    s_trim(scratch);
}

void access_log_queue(struct buf *scratch, struct buf *pending, const struct handler_call *c,
                      const struct jobs_response *resp, const struct bgw_error *err,
                      int64_t latency_ms)
{
    if (s_line(scratch, c, resp, err, latency_ms) == 0 &&
        buf_append(pending, scratch->data, scratch->len) != 0) {
        access_log_flush(pending); /* full: write what is queued, then this one */
        log_write_lines(scratch->data, scratch->len);
    }
    s_trim(scratch);
    if (pending->len >= ACCESS_LOG_QUEUE_BYTES)
        access_log_flush(pending);
}

void access_log_flush(struct buf *pending)
{
    if (pending->len)
        log_write_lines(pending->data, pending->len);
    buf_reset(pending);
}
