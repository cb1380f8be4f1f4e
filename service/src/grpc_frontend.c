/*
 * grpc_frontend - gRPC C core server, CQ thread, protobuf <-> jobs model.
 * See grpc_frontend.h.
 *
 * Threads: everything in this file runs on the CQ thread except
 * s_on_loop_item (loop thread), s_reply (loop thread, or the CQ thread when
 * the direct function answers) and new/stop/destroy (main or loop thread, as
 * documented). An s_rpc is owned by the CQ thread until it is pushed to the
 * loop, by the loop until its reply batch is started, and by the CQ thread
 * again when that batch completes.
 */
#include "grpc_frontend.h"

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "bedrockgw/v1/model_import_jobs.pb-c.h"
#include "cache.h"
#include "health.h"
#include "log.h"
#include "loop_queue.h"
#include "tls_server.h"

#define S_METHOD_LIST "/bedrockgw.v1.ModelImportJobs/ListModelImportJobs"
#define S_METHOD_HEALTH "/grpc.health.v1.Health/Check"
#define S_PENDING_REQUESTS 8 /* grpc_server_request_call kept outstanding */

enum s_tag_kind { S_TAG_NEW_CALL, S_TAG_NEW_LIST, S_TAG_RECV, S_TAG_SENT, S_TAG_SHUTDOWN };

struct s_tag {
    enum s_tag_kind kind;
    struct s_rpc *rpc;
};

struct s_rpc {
    struct grpc_frontend *fe;
    grpc_call *call;
    grpc_call_details details; /* generic calls only */
    gpr_timespec deadline;
    grpc_metadata_array md;
    grpc_byte_buffer *recv_buf;
    struct s_tag tag_new, tag_recv, tag_sent;
    /* reply storage, alive until the send batch completes */
    grpc_byte_buffer *send_buf;
    grpc_metadata initial_md[1];
    grpc_metadata trailing_md[3];
    char retry_after[16];
    const char *x_cache;  /* static; "" = none */
    const char *warning;  /* static; NULL = none */
    char request_id[24];
    int cancelled;
};

struct grpc_frontend {
    grpc_server *server;
    grpc_completion_queue *cq;
    /* ListModelImportJobs is a registered method whose request message
     * comes with the call (one completion per call, no read batch). */
    void *list_method;
    pthread_t thread;
    bool thread_started;
    int port;
    size_t max_message_bytes;
    struct loop_queue *queue;
    grpc_frontend_submit_fn submit;
    void *submit_arg;
    grpc_frontend_direct_fn direct;
    void *direct_arg;
    void (*idle)(void *direct_arg);
    bool tls; /* the listener speaks TLS (client certificates possible) */
    bool idle_due; /* CQ thread: a direct answer since the last idle call */
    struct s_tag shutdown_tag;
    atomic_bool shutdown_requested;
    atomic_bool draining;
    const struct health *health;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool shutdown_done;
    atomic_ulong next_id;
};

static void s_rpc_free(struct s_rpc *r)
{
    if (r->call)
        grpc_call_unref(r->call);
    grpc_call_details_destroy(&r->details);
    grpc_metadata_array_destroy(&r->md);
    if (r->recv_buf)
        grpc_byte_buffer_destroy(r->recv_buf);
    if (r->send_buf)
        grpc_byte_buffer_destroy(r->send_buf);
    free(r);
}

/* A fresh s_rpc for one requested call (new_kind: what its first
 * completion is); NULL when shutting down or out of memory. */
static struct s_rpc *s_rpc_new(struct grpc_frontend *fe, enum s_tag_kind new_kind)
{
    if (atomic_load(&fe->shutdown_requested))
        return NULL;
    struct s_rpc *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->fe = fe;
    r->tag_new = (struct s_tag){new_kind, r};
    r->tag_recv = (struct s_tag){S_TAG_RECV, r};
    r->tag_sent = (struct s_tag){S_TAG_SENT, r};
    grpc_call_details_init(&r->details);
    grpc_metadata_array_init(&r->md);
    return r;
}

/* Keeps one call of any method requested (health checks, unknown
 * methods). */
static void s_request_new(struct grpc_frontend *fe)
{
    struct s_rpc *r = s_rpc_new(fe, S_TAG_NEW_CALL);
    if (r && grpc_server_request_call(fe->server, &r->call, &r->details, &r->md, fe->cq, fe->cq,
                                      &r->tag_new) != GRPC_CALL_OK)
        s_rpc_free(r);
}

/* Keeps one ListModelImportJobs call requested: it arrives with its
 * request message already read (r->recv_buf; NULL if the client sent
 * none). */
static void s_request_list(struct grpc_frontend *fe)
{
    struct s_rpc *r = s_rpc_new(fe, S_TAG_NEW_LIST);
    if (r && grpc_server_request_registered_call(fe->server, fe->list_method, &r->call,
                                                 &r->deadline, &r->md, &r->recv_buf, fe->cq,
                                                 fe->cq, &r->tag_new) != GRPC_CALL_OK)
        s_rpc_free(r);
}

static void s_release_view(void *hold)
{
    cache_view_release(hold);
}

/* Starts the final batch: initial metadata, message (if any), status, and
 * close. Any thread. With hold (a cache_view_hold on the view body belongs
 * to), the message goes out by reference and hold is released once gRPC
 * is done with it; otherwise body is copied. */
static void s_send_held(struct s_rpc *r, grpc_status_code code, const char *message,
                        const void *body, size_t body_len, int retry_after_s,
                        struct cache_hold *hold)
{
    grpc_op ops[4];
    memset(ops, 0, sizeof(ops));
    size_t n = 0;
    ops[n].op = GRPC_OP_SEND_INITIAL_METADATA;
    if (r->request_id[0]) {
        r->initial_md[0].key = grpc_slice_from_static_string("x-request-id");
        r->initial_md[0].value = grpc_slice_from_static_string(r->request_id);
        ops[n].data.send_initial_metadata.count = 1;
        ops[n].data.send_initial_metadata.metadata = r->initial_md;
    }
    n++;
    if (body) {
        grpc_slice s = hold && body_len > 0
                           ? grpc_slice_new_with_user_data((void *)body, body_len,
                                                           s_release_view, hold)
                           : grpc_slice_from_copied_buffer(body, body_len);
        if (hold && body_len == 0)
            cache_view_release(hold);
        hold = NULL;
        r->send_buf = grpc_raw_byte_buffer_create(&s, 1);
        grpc_slice_unref(s);
        ops[n].op = GRPC_OP_SEND_MESSAGE;
        ops[n].data.send_message.send_message = r->send_buf;
        n++;
    }
    grpc_slice details = grpc_slice_from_copied_string(message ? message : "");
    ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    ops[n].data.send_status_from_server.status = code;
    ops[n].data.send_status_from_server.status_details = &details;
    size_t n_trailing = 0;
    if (retry_after_s > 0) {
        snprintf(r->retry_after, sizeof(r->retry_after), "%d", retry_after_s);
        r->trailing_md[n_trailing].key = grpc_slice_from_static_string("retry-after");
        r->trailing_md[n_trailing++].value = grpc_slice_from_static_string(r->retry_after);
    }
    if (r->x_cache && r->x_cache[0]) { /* response cache: x-cache, warning when stale */
        r->trailing_md[n_trailing].key = grpc_slice_from_static_string("x-cache");
        r->trailing_md[n_trailing++].value = grpc_slice_from_static_string(r->x_cache);
        if (r->warning) {
            r->trailing_md[n_trailing].key = grpc_slice_from_static_string("warning");
            r->trailing_md[n_trailing++].value = grpc_slice_from_static_string(r->warning);
        }
    }
    if (n_trailing) {
        ops[n].data.send_status_from_server.trailing_metadata_count = n_trailing;
        ops[n].data.send_status_from_server.trailing_metadata = r->trailing_md;
    }
    n++;
    ops[n].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    ops[n].data.recv_close_on_server.cancelled = &r->cancelled;
    n++;
    grpc_call_error e = grpc_call_start_batch(r->call, ops, n, &r->tag_sent, NULL);
    grpc_slice_unref(details);
    cache_view_release(hold); /* body was NULL: nothing refers to it */
    if (e != GRPC_CALL_OK) {
        /* No tag will come: free here. Only happens on a programming error. */
        log_msg(LOG_ERROR, "grpc_send_failed", "grpc_call_start_batch: %d", (int)e);
        s_rpc_free(r);
    }
}

static void s_send(struct s_rpc *r, grpc_status_code code, const char *message,
                   const void *body, size_t body_len, int retry_after_s)
{
    s_send_held(r, code, message, body, body_len, retry_after_s, NULL);
}

static bool s_slice_eq(grpc_slice s, const char *lit)
{
    size_t n = strlen(lit);
    return GRPC_SLICE_LENGTH(s) == n && memcmp(GRPC_SLICE_START_PTR(s), lit, n) == 0;
}

static char *s_slice_dup(grpc_slice s)
{
    size_t n = GRPC_SLICE_LENGTH(s);
    if (memchr(GRPC_SLICE_START_PTR(s), '\0', n))
        return NULL;
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, GRPC_SLICE_START_PTR(s), n);
        p[n] = '\0';
    }
    return p;
}

static void s_time_from_proto(const Google__Protobuf__Timestamp *t, bool *has,
                              struct bgw_time *out)
{
    *has = t != NULL;
    if (t) {
        out->seconds = t->seconds;
        out->nanos = t->nanos;
    }
}

static char *s_opt_str(const char *s)
{
    return (s && *s) ? strdup(s) : NULL;
}

/* Reads a protobuf varint at *p (< end); -1 when truncated or too long. */
static int s_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

/* The number (4 = name_contains, 6 = next_token) of a top-level string field
 * holding a NUL byte, or 0. protobuf-c hands strings back NUL-terminated, so
 * "a\0b" would silently become "a": such a request is refused instead, as
 * REST refuses %00. (Runs after a successful unpack: the framing is valid.) */
static int s_string_with_nul(const uint8_t *p, size_t len)
{
    const uint8_t *end = p + len;
    while (p < end) {
        uint64_t key, n;
        if (s_varint(&p, end, &key) != 0)
            return 0;
        switch (key & 7) {
        case 0:
            if (s_varint(&p, end, &n) != 0)
                return 0;
            break;
        case 1:
            p += 8;
            break;
        case 5:
            p += 4;
            break;
        case 2:
            if (s_varint(&p, end, &n) != 0 || n > (uint64_t)(end - p))
                return 0;
            if (((key >> 3) == 4 || (key >> 3) == 6) && memchr(p, 0, (size_t)n))
                return (int)(key >> 3);
            p += n;
            break;
        default:
            return 0;
        }
    }
    return 0;
}

/* Decodes the request message into call->req, or marks decode_failed. */
static void s_decode(struct s_rpc *r, struct handler_call *c)
{
    grpc_byte_buffer_reader reader;
    if (!r->recv_buf || !grpc_byte_buffer_reader_init(&reader, r->recv_buf)) {
        c->decode_failed = true;
        bgw_error_set(&c->decode_error, BGW_ERR_INVALID_ARGUMENT, NULL,
                      "missing request message");
        return;
    }
    grpc_slice all = grpc_byte_buffer_reader_readall(&reader);
    grpc_byte_buffer_reader_destroy(&reader);
    Bedrockgw__V1__ListModelImportJobsRequest *m = bedrockgw__v1__list_model_import_jobs_request__unpack(
        NULL, GRPC_SLICE_LENGTH(all), GRPC_SLICE_START_PTR(all));
    int nul_field = m ? s_string_with_nul(GRPC_SLICE_START_PTR(all), GRPC_SLICE_LENGTH(all)) : 0;
    grpc_slice_unref(all);
    if (!m) {
        c->decode_failed = true;
        bgw_error_set(&c->decode_error, BGW_ERR_INVALID_ARGUMENT, NULL,
                      "request is not a valid bedrockgw.v1.ListModelImportJobsRequest");
        return;
    }
    if (nul_field) {
        const char *f = nul_field == 4 ? "nameContains" : "nextToken";
        c->decode_failed = true;
        bgw_error_set(&c->decode_error, BGW_ERR_INVALID_ARGUMENT, f,
                      "%s must not contain a NUL byte", f);
        bedrockgw__v1__list_model_import_jobs_request__free_unpacked(m, NULL);
        return;
    }
    struct jobs_request *q = &c->req;
    s_time_from_proto(m->creation_time_after, &q->has_creation_time_after,
                      &q->creation_time_after);
    s_time_from_proto(m->creation_time_before, &q->has_creation_time_before,
                      &q->creation_time_before);
    q->status_equals = (int)m->status_equals;
    q->name_contains = s_opt_str(m->name_contains);
    /* proto3 int32 has no presence: 0 means "not set" (see the .proto). */
    q->has_max_results = m->max_results != 0;
    q->max_results = m->max_results;
    q->next_token = s_opt_str(m->next_token);
    q->sort_by = (int)m->sort_by;
    q->sort_order = (int)m->sort_order;
    if ((m->name_contains && *m->name_contains && !q->name_contains) ||
        (m->next_token && *m->next_token && !q->next_token)) {
        c->decode_failed = true;
        bgw_error_set(&c->decode_error, BGW_ERR_NOMEM, NULL, "out of memory");
    }
    bedrockgw__v1__list_model_import_jobs_request__free_unpacked(m, NULL);
}

static void s_copy_metadata(struct s_rpc *r, struct handler_call *c)
{
    for (size_t i = 0; i < r->md.count; i++) {
        grpc_metadata *md = &r->md.metadata[i];
        char **dst = NULL;
        if (s_slice_eq(md->key, "authorization"))
            dst = &c->authorization;
        else if (s_slice_eq(md->key, "x-api-key"))
            dst = &c->x_api_key;
        else if (s_slice_eq(md->key, "cache-control"))
            dst = &c->cache_control;
        if (dst && !*dst) /* first occurrence wins */
            *dst = s_slice_dup(md->value);
    }
}

/* The verified client certificate's names, from the call's auth context
 * (CQ thread). gRPC core only puts a peer certificate there after verifying
 * it against grpc.tls.client_ca_file. The PEM certificate is parsed with the
 * same code as REST's, so both transports see the same names; when it is
 * absent, the parsed properties are used. 0, or -1 on allocation failure. */
static int s_peer_identity(struct s_rpc *r, struct peer_identity *out)
{
    if (!r->fe->tls)
        return 0; /* plaintext: no certificate to look at */
    grpc_auth_context *ctx = grpc_call_auth_context(r->call);
    if (!ctx)
        return 0;
    int rc = 0;
    grpc_auth_property_iterator it =
        grpc_auth_context_find_properties_by_name(ctx, GRPC_X509_PEM_CERT_PROPERTY_NAME);
    const grpc_auth_property *p = grpc_auth_property_iterator_next(&it);
    if (p && peer_identity_from_pem(out, p->value, p->value_length) == 0)
        goto done;
    peer_identity_clean_up(out);
    if (!grpc_auth_context_peer_is_authenticated(ctx))
        goto done; /* no client certificate */
    static const struct {
        const char *property, *prefix;
    } props[] = {{GRPC_X509_CN_PROPERTY_NAME, "CN="},
                 {GRPC_PEER_DNS_PROPERTY_NAME, "DNS:"},
                 {GRPC_PEER_URI_PROPERTY_NAME, "URI:"},
                 {GRPC_PEER_EMAIL_PROPERTY_NAME, "EMAIL:"}};
    out->has_cert = true;
    for (size_t i = 0; i < sizeof(props) / sizeof(props[0]) && rc == 0; i++) {
        it = grpc_auth_context_find_properties_by_name(ctx, props[i].property);
        while (rc == 0 && (p = grpc_auth_property_iterator_next(&it)) != NULL)
            rc = peer_identity_add(out, props[i].prefix, p->value, p->value_length);
    }
done:
    grpc_auth_context_release(ctx);
    return rc;
}

static int64_t s_deadline_ms(struct s_rpc *r, int64_t now_ms)
{
    gpr_timespec d = gpr_convert_clock_type(r->deadline, GPR_CLOCK_MONOTONIC);
    if (gpr_time_cmp(d, gpr_inf_future(GPR_CLOCK_MONOTONIC)) >= 0)
        return 0;
    gpr_timespec left = gpr_time_sub(d, gpr_now(GPR_CLOCK_MONOTONIC));
    int64_t ms = (int64_t)left.tv_sec * 1000 + left.tv_nsec / 1000000;
    if (ms < 1)
        ms = 1; /* already due: the handler answers DEADLINE_EXCEEDED */
    if (ms > (int64_t)365 * 24 * 3600 * 1000)
        return 0;
    return now_ms + ms;
}

static void s_reply(struct handler_call *c, const struct jobs_response *resp,
                    const struct bgw_error *err);
static int s_render(const struct jobs_response *resp, struct buf *out);

static void s_on_received(struct s_rpc *r, bool ok)
{
    struct grpc_frontend *fe = r->fe;
    if (!ok) {
        s_send(r, GRPC_STATUS_CANCELLED, "call cancelled", NULL, 0, 0);
        return;
    }
    struct handler_call *c = handler_call_new(HANDLER_GRPC);
    if (!c) {
        s_send(r, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory", NULL, 0, 0);
        return;
    }
    c->received_ms = clock_mono_ms();
    c->deadline_ms = s_deadline_ms(r, c->received_ms);
    handler_format_request_id(c->request_id, 'g', (unsigned long)time(NULL),
                              (unsigned long)atomic_fetch_add(&fe->next_id, 1));
    memcpy(r->request_id, c->request_id, sizeof(r->request_id));
    char *peer = grpc_call_get_peer(r->call);
    if (peer) {
        size_t n = strnlen(peer, sizeof(c->peer) - 1);
        memcpy(c->peer, peer, n);
        c->peer[n] = '\0';
        gpr_free(peer);
    }
    s_copy_metadata(r, c);
    s_decode(r, c);
    if (s_peer_identity(r, &c->peer_cert) != 0 && !c->decode_failed) {
        c->decode_failed = true;
        bgw_error_set(&c->decode_error, BGW_ERR_NOMEM, NULL, "out of memory");
    }
    c->reply = s_reply;
    c->render = s_render;
    c->frontend_data = r;
    if (fe->direct && fe->direct(fe->direct_arg, c)) {
        fe->idle_due = fe->idle != NULL;
        return; /* answered here; c is gone */
    }
    if (loop_queue_push(fe->queue, c) != 0) {
        handler_call_free(c);
        s_send(r, GRPC_STATUS_UNAVAILABLE, "gateway overloaded or shutting down", NULL, 0, 1);
    }
}

static void s_on_new_call(struct s_rpc *r, bool ok)
{
    struct grpc_frontend *fe = r->fe;
    if (!ok) { /* server shutting down */
        r->call = NULL;
        s_rpc_free(r);
        return;
    }
    s_request_new(fe);
    r->deadline = r->details.deadline;
    if (s_slice_eq(r->details.method, S_METHOD_LIST)) { /* only if registration failed */
        grpc_op op;
        memset(&op, 0, sizeof(op));
        op.op = GRPC_OP_RECV_MESSAGE;
        op.data.recv_message.recv_message = &r->recv_buf;
        if (grpc_call_start_batch(r->call, &op, 1, &r->tag_recv, NULL) != GRPC_CALL_OK)
            s_send(r, GRPC_STATUS_INTERNAL, "cannot read request", NULL, 0, 0);
    } else if (s_slice_eq(r->details.method, S_METHOD_HEALTH)) {
        /* grpc.health.v1.HealthCheckResponse{status: SERVING(1) | NOT_SERVING(2)} */
        bool serving = !atomic_load(&fe->draining) && (!fe->health || health_ready(fe->health));
        unsigned char msg[2] = {0x08, serving ? 1 : 2};
        s_send(r, GRPC_STATUS_OK, "", msg, sizeof(msg), 0);
    } else {
        s_send(r, GRPC_STATUS_UNIMPLEMENTED, "unknown method", NULL, 0, 0);
    }
}

static void *s_cq_thread(void *arg)
{
    struct grpc_frontend *fe = arg;
    for (int i = 0; i < S_PENDING_REQUESTS; i++) {
        s_request_new(fe);
        s_request_list(fe);
    }
    for (;;) {
        grpc_event ev;
        if (fe->idle_due) { /* take what is ready; before waiting, the idle call */
            ev = grpc_completion_queue_next(fe->cq, gpr_inf_past(GPR_CLOCK_MONOTONIC), NULL);
            if (ev.type == GRPC_QUEUE_TIMEOUT) {
                fe->idle_due = false;
                fe->idle(fe->direct_arg);
                continue;
            }
        } else {
            ev = grpc_completion_queue_next(fe->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        }
        if (ev.type == GRPC_QUEUE_SHUTDOWN)
            break;
        if (ev.type != GRPC_OP_COMPLETE)
            continue;
        struct s_tag *t = ev.tag;
        switch (t->kind) {
        case S_TAG_NEW_CALL:
            s_on_new_call(t->rpc, ev.success);
            break;
        case S_TAG_NEW_LIST:
            if (!ev.success) { /* server shutting down */
                t->rpc->call = NULL;
                s_rpc_free(t->rpc);
                break;
            }
            s_request_list(t->rpc->fe);
            s_on_received(t->rpc, true);
            break;
        case S_TAG_RECV:
            s_on_received(t->rpc, ev.success);
            break;
        case S_TAG_SENT:
            s_rpc_free(t->rpc);
            break;
        case S_TAG_SHUTDOWN:
            pthread_mutex_lock(&fe->lock);
            fe->shutdown_done = true;
            pthread_cond_broadcast(&fe->cond);
            pthread_mutex_unlock(&fe->lock);
            break;
        }
    }
    if (fe->idle_due)
        fe->idle(fe->direct_arg);
    return NULL;
}

/* ---- loop thread ------------------------------------------------------- */

static Google__Protobuf__Timestamp *s_ts(Google__Protobuf__Timestamp *slot, bool has,
                                         struct bgw_time t)
{
    if (!has)
        return NULL;
    google__protobuf__timestamp__init(slot);
    slot->seconds = t.seconds;
    slot->nanos = t.nanos;
    return slot;
}

static char *s_str(char *s)
{
    return s ? s : (char *)protobuf_c_empty_string;
}

/* The response message in protobuf wire form (handler_render_fn). */
static int s_render(const struct jobs_response *resp, struct buf *out)
{
    int rc = -1;
    size_t n = resp->n_summaries;
    Bedrockgw__V1__ModelImportJobSummary *items = calloc(n ? n : 1, sizeof(*items));
    Bedrockgw__V1__ModelImportJobSummary **ptrs = calloc(n ? n : 1, sizeof(*ptrs));
    Google__Protobuf__Timestamp *ts = calloc(n ? 3 * n : 1, sizeof(*ts));
    uint8_t *packed = NULL;
    if (!items || !ptrs || !ts)
        goto cleanup;
    for (size_t i = 0; i < n; i++) {
        const struct jobs_summary *s = &resp->summaries[i];
        Bedrockgw__V1__ModelImportJobSummary *m = &items[i];
        bedrockgw__v1__model_import_job_summary__init(m);
        m->job_arn = s_str(s->job_arn);
        m->job_name = s_str(s->job_name);
        m->status = (Bedrockgw__V1__ModelImportJobStatus)s->status;
        m->last_modified_time = s_ts(&ts[3 * i], s->has_last_modified_time, s->last_modified_time);
        m->creation_time = s_ts(&ts[3 * i + 1], s->has_creation_time, s->creation_time);
        m->end_time = s_ts(&ts[3 * i + 2], s->has_end_time, s->end_time);
        m->imported_model_arn = s_str(s->imported_model_arn);
        m->imported_model_name = s_str(s->imported_model_name);
        ptrs[i] = m;
    }
    Bedrockgw__V1__ListModelImportJobsResponse msg = BEDROCKGW__V1__LIST_MODEL_IMPORT_JOBS_RESPONSE__INIT;
    msg.n_model_import_job_summaries = n;
    msg.model_import_job_summaries = ptrs;
    msg.next_token = s_str(resp->next_token);
    size_t len = bedrockgw__v1__list_model_import_jobs_response__get_packed_size(&msg);
    packed = malloc(len ? len : 1);
    if (!packed)
        goto cleanup;
    bedrockgw__v1__list_model_import_jobs_response__pack(&msg, packed);
    buf_reset(out);
    rc = buf_append(out, packed, len);
    if (rc == 0 && !out->data)
        rc = buf_append(out, "", 0);
cleanup:
    free(packed);
    free(items);
    free(ptrs);
    free(ts);
    return rc;
}

static void s_reply(struct handler_call *c, const struct jobs_response *resp,
                    const struct bgw_error *err)
{
    struct s_rpc *r = c->frontend_data;
    if (err) {
        s_send(r, (grpc_status_code)bgw_status_grpc_code(err->status), err->message, NULL, 0,
               err->retry_after_s);
        handler_call_free(c);
        return;
    }
    const struct handler_cache_reply *cr = &c->cache_reply;
    r->x_cache = cr->x_cache;
    r->warning = cr->warning == 110   ? "110 - \"Response is Stale\""
                 : cr->warning == 111 ? "111 - \"Revalidation Failed\""
                                      : NULL;
    if (cr->body) {
        s_send_held(r, GRPC_STATUS_OK, "", cr->body, cr->body_len, 0,
                    cr->hold   ? cache_hold_ref(cr->hold)
                    : cr->view ? cache_view_hold(cr->view)
                               : NULL);
    } else {
        struct buf b;
        buf_init(&b, 0);
        if (s_render(resp, &b) == 0)
            s_send(r, GRPC_STATUS_OK, "", b.data, b.len, 0);
        else
            s_send(r, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory", NULL, 0, 0);
        buf_clean_up(&b);
    }
    handler_call_free(c);
}

static void s_on_loop_item(void *item, void *arg)
{
    struct grpc_frontend *fe = arg;
    fe->submit(fe->submit_arg, item);
}

/* ---- lifecycle --------------------------------------------------------- */

/* Reads a whole (small) PEM file; NULL on failure with the reason in err. */
static char *s_read_pem(const char *path, const char *key, struct buf *err)
{
    struct buf b;
    buf_init(&b, 1u << 20);
    FILE *f = fopen(path, "rb");
    if (!f) {
        buf_appendf(err, "%s: cannot open %s", key, path);
        return NULL;
    }
    char chunk[4096];
    size_t n;
    int ok = 1;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        ok &= buf_append(&b, chunk, n) == 0;
    ok &= !ferror(f);
    fclose(f);
    if (!ok || b.len == 0) {
        buf_clean_up_secure(&b);
        buf_appendf(err, "%s: cannot read %s (empty, unreadable or over 1 MiB)", key, path);
        return NULL;
    }
    return buf_detach(&b);
}

static void s_free_secret(char *s)
{
    if (s) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

static grpc_server_credentials *s_server_credentials(const struct config_tls *tls,
                                                     struct buf *err)
{
    if (!tls || !tls->cert_file[0])
        return grpc_insecure_server_credentials_create();
    grpc_server_credentials *creds = NULL;
    char *cert = s_read_pem(tls->cert_file, "grpc.tls.cert_file", err);
    char *key = cert ? s_read_pem(tls->key_file, "grpc.tls.key_file", err) : NULL;
    char *ca = NULL;
    if (key && tls->client_ca_file[0])
        ca = s_read_pem(tls->client_ca_file, "grpc.tls.client_ca_file", err);
    /* gRPC core would only find a key that does not match the certificate
     * (or an unusable CA file) at the first handshake: check with OpenSSL
     * now, so the start fails naming the key. */
    SSL_CTX *check = NULL;
    if (cert && key && (ca || !tls->client_ca_file[0]))
        check = tls_server_ctx_new(tls, "grpc.tls", err);
    if (check) {
        SSL_CTX_free(check);
        grpc_ssl_pem_key_cert_pair pair = {key, cert}; /* {private_key, cert_chain} */
        grpc_ssl_client_certificate_request_type req =
            tls->require_client_cert ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
            : ca                     ? GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY
                                     : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE;
        creds = grpc_ssl_server_credentials_create_ex(ca, &pair, 1, req, NULL);
        if (!creds)
            buf_append_str(err, "grpc.tls: cannot create TLS credentials");
    }
    free(cert);
    s_free_secret(key);
    free(ca);
    return creds;
}

struct grpc_frontend *grpc_frontend_new(const struct grpc_frontend_options *opts,
                                        struct buf *err)
{
    struct grpc_frontend *fe = calloc(1, sizeof(*fe));
    if (!fe) {
        buf_append_str(err, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&fe->lock, NULL);
    pthread_cond_init(&fe->cond, NULL);
    fe->submit = opts->submit;
    fe->submit_arg = opts->submit_arg;
    fe->direct = opts->direct;
    fe->direct_arg = opts->direct_arg;
    fe->idle = opts->idle;
    fe->tls = opts->tls && opts->tls->cert_file[0];
    fe->health = opts->health;
    fe->max_message_bytes = opts->max_message_bytes;
    fe->shutdown_tag.kind = S_TAG_SHUTDOWN;
    fe->queue = loop_queue_new(opts->base, opts->max_queued, s_on_loop_item, fe);
    if (!fe->queue) {
        buf_append_str(err, "cannot create the hand-off queue");
        goto fail;
    }
    grpc_arg args[2];
    args[0].type = GRPC_ARG_INTEGER;
    args[0].key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH;
    args[0].value.integer = (int)opts->max_message_bytes;
    args[1].type = GRPC_ARG_INTEGER;
    args[1].key = GRPC_ARG_ALLOW_REUSEPORT;
    args[1].value.integer = 0;
    grpc_channel_args chargs = {2, args};
    fe->cq = grpc_completion_queue_create_for_next(NULL);
    fe->server = grpc_server_create(&chargs, NULL);
    grpc_server_register_completion_queue(fe->server, fe->cq, NULL);
    fe->list_method = grpc_server_register_method(fe->server, S_METHOD_LIST, NULL,
                                                  GRPC_SRM_PAYLOAD_READ_INITIAL_BYTE_BUFFER, 0);
    grpc_server_credentials *creds = s_server_credentials(opts->tls, err);
    if (!creds) {
        grpc_server_destroy(fe->server);
        fe->server = NULL;
        goto fail;
    }
    fe->port = grpc_server_add_http2_port(fe->server, opts->listen, creds);
    grpc_server_credentials_release(creds);
    if (fe->port <= 0) {
        buf_appendf(err, "grpc.listen: cannot listen on %s", opts->listen);
        grpc_server_destroy(fe->server);
        fe->server = NULL;
        goto fail;
    }
    grpc_server_start(fe->server);
    if (pthread_create(&fe->thread, NULL, s_cq_thread, fe) != 0) {
        buf_append_str(err, "cannot start the gRPC thread");
        goto fail;
    }
    fe->thread_started = true;
    return fe;
fail:
    grpc_frontend_destroy(fe);
    return NULL;
}

int grpc_frontend_port(const struct grpc_frontend *f)
{
    return f->port;
}

void grpc_frontend_stop_accepting(struct grpc_frontend *f)
{
    atomic_store(&f->draining, true);
    if (f->server && !atomic_exchange(&f->shutdown_requested, true))
        grpc_server_shutdown_and_notify(f->server, f->cq, &f->shutdown_tag);
}

void grpc_frontend_destroy(struct grpc_frontend *f)
{
    if (!f)
        return;
    if (f->server) {
        grpc_frontend_stop_accepting(f);
        grpc_server_cancel_all_calls(f->server);
        if (f->thread_started) {
            pthread_mutex_lock(&f->lock);
            while (!f->shutdown_done)
                pthread_cond_wait(&f->cond, &f->lock);
            pthread_mutex_unlock(&f->lock);
        }
    }
    /* Calls the CQ thread pushed but the loop never took are answered here
     * (the submit function replies UNAVAILABLE once the gateway is closed). */
    if (f->queue)
        loop_queue_destroy(f->queue);
    if (f->server)
        grpc_server_destroy(f->server);
    if (f->cq) {
        grpc_completion_queue_shutdown(f->cq);
        if (f->thread_started)
            pthread_join(f->thread, NULL);
        else {
            while (grpc_completion_queue_next(f->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL)
                       .type != GRPC_QUEUE_SHUTDOWN) {
            }
        }
        grpc_completion_queue_destroy(f->cq);
    }
    pthread_cond_destroy(&f->cond);
    pthread_mutex_destroy(&f->lock);
    free(f);
}
