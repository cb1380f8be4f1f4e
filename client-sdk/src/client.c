/*
 * client - libbedrockgw-client: bedrockgw.v1.ModelImportJobs over gRPC C
 * core, behind the plain-C API of include/bedrockgw/client.h.
 *
 * Owns: one grpc_channel per client (thread-safe in gRPC core) and the
 * immutable settings copied from the options. Each call creates its own
 * pluck completion queue and call on the calling thread, so calls on one
 * client share no mutable state except an atomic counter that seeds the
 * retry jitter. Never prints, never exits, never calls abort(); every
 * failure is reported through struct bgw_client_error.
 */
#include "bedrockgw/client.h"

#include <errno.h>
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bedrockgw/v1/model_import_jobs.pb-c.h"

#define S_METHOD "/bedrockgw.v1.ModelImportJobs/ListModelImportJobs"
#define S_DEFAULT_TIMEOUT_MS 30000
#define S_DEFAULT_MAX_ATTEMPTS 3
#define S_MAX_ATTEMPTS_LIMIT 10
#define S_DEFAULT_INITIAL_BACKOFF_MS 100
#define S_DEFAULT_MAX_BACKOFF_MS 2000
#define S_DEFAULT_MAX_RESPONSE_BYTES (16 * 1024 * 1024)
#define S_MAX_TLS_FILE_BYTES (1024 * 1024)
#define S_MAX_API_KEY_LEN 4096

struct bgw_client {
    grpc_channel *channel;
    char *auth_value; /* "Bearer <key>", wiped on destroy */
    int64_t default_timeout_ms;
    int max_attempts;
    int64_t initial_backoff_ms;
    int64_t max_backoff_ms;
    atomic_uint_fast64_t seed;
};

/* ---- small helpers ---------------------------------------------------------- */

static const char *const s_code_names[] = {
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
};

const char *bgw_code_name(int code)
{
    if (code < 0 || (size_t)code >= sizeof(s_code_names) / sizeof(s_code_names[0]))
        return "UNKNOWN_CODE";
    return s_code_names[code];
}

const char *bgw_job_status_name(int status)
{
    switch (status) {
    case BGW_JOB_STATUS_IN_PROGRESS:
        return "InProgress";
    case BGW_JOB_STATUS_COMPLETED:
        return "Completed";
    case BGW_JOB_STATUS_FAILED:
        return "Failed";
    default:
        return NULL;
    }
}

const char *bgw_sort_order_name(int order)
{
    switch (order) {
    case BGW_SORT_ORDER_ASCENDING:
        return "Ascending";
    case BGW_SORT_ORDER_DESCENDING:
        return "Descending";
    default:
        return NULL;
    }
}

const char *bgw_sort_by_name(int sort_by)
{
    return sort_by == BGW_SORT_BY_CREATION_TIME ? "CreationTime" : NULL;
}

static int s_retryable(int code)
{
    return code == BGW_CODE_UNAVAILABLE || code == BGW_CODE_RESOURCE_EXHAUSTED ||
           code == BGW_CODE_ABORTED || code == BGW_CODE_DEADLINE_EXCEEDED;
}

static void s_err_clear(struct bgw_client_error *err)
{
    if (err)
        memset(err, 0, sizeof(*err));
}

static int s_err_set(struct bgw_client_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Fills err (if any) with a locally detected failure; returns code. */
static int s_err_set(struct bgw_client_error *err, int code, const char *fmt, ...)
{
    if (!err)
        return code;
    int attempts = err->attempts;
    memset(err, 0, sizeof(*err));
    err->code = code;
    err->retryable = s_retryable(code);
    err->attempts = attempts;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return code;
}

static void s_wipe_free(char *p)
{
    if (!p)
        return;
    volatile char *v = p;
    while (*v)
        *v++ = '\0';
    free(p);
}

static int64_t s_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void s_sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Reads a whole file (at most S_MAX_TLS_FILE_BYTES) as a NUL-terminated
 * string; NULL with err filled on failure. */
static char *s_read_file(const char *what, const char *path, struct bgw_client_error *err)
{
    char *data = NULL;
    size_t len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        s_err_set(err, BGW_CODE_INVALID_ARGUMENT, "cannot open %s %s: %s", what, path,
                  strerror(errno));
        return NULL;
    }
    data = malloc(S_MAX_TLS_FILE_BYTES + 1);
    if (!data) {
        s_err_set(err, BGW_CODE_RESOURCE_EXHAUSTED, "out of memory");
        goto cleanup;
    }
    len = fread(data, 1, S_MAX_TLS_FILE_BYTES + 1, f);
    if (ferror(f)) {
        s_err_set(err, BGW_CODE_INVALID_ARGUMENT, "cannot read %s %s", what, path);
        goto fail;
    }
    if (len > S_MAX_TLS_FILE_BYTES) {
        s_err_set(err, BGW_CODE_INVALID_ARGUMENT, "%s %s is larger than %d bytes", what, path,
                  S_MAX_TLS_FILE_BYTES);
        goto fail;
    }
    if (len == 0) {
        s_err_set(err, BGW_CODE_INVALID_ARGUMENT, "%s %s is empty", what, path);
        goto fail;
    }
    data[len] = '\0';
    goto cleanup;
fail:
    free(data);
    data = NULL;
cleanup:
    fclose(f);
    return data;
}

/* ---- client lifecycle ------------------------------------------------------- */

void bgw_client_options_init(struct bgw_client_options *opts)
{
    memset(opts, 0, sizeof(*opts));
}

void bgw_list_request_init(struct bgw_list_request *req)
{
    memset(req, 0, sizeof(*req));
}

static int s_check_options(const struct bgw_client_options *o, struct bgw_client_error *err)
{
    if (!o)
        return s_err_set(err, BGW_CODE_INVALID_ARGUMENT, "options are required");
    if (!o->target || !*o->target)
        return s_err_set(err, BGW_CODE_INVALID_ARGUMENT, "options.target is required");
    if (!o->api_key || !*o->api_key)
        return s_err_set(err, BGW_CODE_INVALID_ARGUMENT, "options.api_key is required");
    size_t klen = strlen(o->api_key);
    if (klen > S_MAX_API_KEY_LEN)
        return s_err_set(err, BGW_CODE_INVALID_ARGUMENT, "options.api_key is longer than %d bytes",
                         S_MAX_API_KEY_LEN);
    for (size_t i = 0; i < klen; i++) {
        unsigned char c = (unsigned char)o->api_key[i];
        if (c < 0x21 || c > 0x7e)
            return s_err_set(err, BGW_CODE_INVALID_ARGUMENT,
                             "options.api_key may hold only printable ASCII without spaces");
    }
    if (!o->use_tls &&
        (o->tls_ca_file || o->tls_cert_file || o->tls_key_file || o->tls_server_name))
        return s_err_set(err, BGW_CODE_INVALID_ARGUMENT, "options.tls_* given but use_tls is 0");
    if (!o->tls_cert_file != !o->tls_key_file)
        return s_err_set(err, BGW_CODE_INVALID_ARGUMENT,
                         "options.tls_cert_file and tls_key_file go together");
    if (o->default_timeout_ms < 0 || o->initial_backoff_ms < 0 || o->max_backoff_ms < 0 ||
        o->max_response_bytes < 0 || o->max_attempts < 0)
        return s_err_set(err, BGW_CODE_INVALID_ARGUMENT, "options: negative value");
    if (o->max_attempts > S_MAX_ATTEMPTS_LIMIT)
        return s_err_set(err, BGW_CODE_INVALID_ARGUMENT, "options.max_attempts is at most %d",
                         S_MAX_ATTEMPTS_LIMIT);
    if (o->max_response_bytes > INT32_MAX)
        return s_err_set(err, BGW_CODE_INVALID_ARGUMENT, "options.max_response_bytes is too large");
    return BGW_CODE_OK;
}

static grpc_channel_credentials *s_tls_creds(const struct bgw_client_options *o,
                                             struct bgw_client_error *err)
{
    grpc_channel_credentials *creds = NULL;
    char *ca = NULL, *cert = NULL, *key = NULL;
    if (o->tls_ca_file && !(ca = s_read_file("TLS CA file", o->tls_ca_file, err)))
        goto cleanup;
    if (o->tls_cert_file && !(cert = s_read_file("TLS certificate file", o->tls_cert_file, err)))
        goto cleanup;
    if (o->tls_key_file && !(key = s_read_file("TLS key file", o->tls_key_file, err)))
        goto cleanup;
    grpc_ssl_pem_key_cert_pair pair = {key, cert}; /* {private_key, cert_chain} */
    creds = grpc_ssl_credentials_create(ca, cert ? &pair : NULL, NULL, NULL);
    if (!creds)
        s_err_set(err, BGW_CODE_INVALID_ARGUMENT, "gRPC rejected the TLS settings");
cleanup:
    free(ca);
    free(cert);
    s_wipe_free(key);
    return creds;
}

int bgw_client_new(const struct bgw_client_options *opts, struct bgw_client **out,
                   struct bgw_client_error *err)
{
    s_err_clear(err);
    if (!out)
        return s_err_set(err, BGW_CODE_INVALID_ARGUMENT, "out is required");
    *out = NULL;
    int rc = s_check_options(opts, err);
    if (rc != BGW_CODE_OK)
        return rc;

    struct bgw_client *c = calloc(1, sizeof(*c));
    if (!c)
        return s_err_set(err, BGW_CODE_RESOURCE_EXHAUSTED, "out of memory");
    size_t n = strlen("Bearer ") + strlen(opts->api_key) + 1;
    c->auth_value = malloc(n);
    if (!c->auth_value) {
        free(c);
        return s_err_set(err, BGW_CODE_RESOURCE_EXHAUSTED, "out of memory");
    }
    snprintf(c->auth_value, n, "Bearer %s", opts->api_key);
    c->default_timeout_ms =
        opts->default_timeout_ms ? opts->default_timeout_ms : S_DEFAULT_TIMEOUT_MS;
    c->max_attempts = opts->max_attempts ? opts->max_attempts : S_DEFAULT_MAX_ATTEMPTS;
    c->initial_backoff_ms =
        opts->initial_backoff_ms ? opts->initial_backoff_ms : S_DEFAULT_INITIAL_BACKOFF_MS;
    c->max_backoff_ms = opts->max_backoff_ms ? opts->max_backoff_ms : S_DEFAULT_MAX_BACKOFF_MS;
    if (c->max_backoff_ms < c->initial_backoff_ms)
        c->max_backoff_ms = c->initial_backoff_ms;
    atomic_init(&c->seed, (uint_fast64_t)s_mono_ms() * 2654435761u + (uintptr_t)c);

    grpc_init();
    grpc_channel_credentials *creds =
        opts->use_tls ? s_tls_creds(opts, err) : grpc_insecure_credentials_create();
    if (!creds) {
        if (!opts->use_tls)
            s_err_set(err, BGW_CODE_RESOURCE_EXHAUSTED, "cannot create channel credentials");
        rc = err ? err->code : BGW_CODE_INVALID_ARGUMENT;
        goto fail;
    }
    grpc_arg args[2];
    size_t nargs = 0;
    args[nargs].type = GRPC_ARG_INTEGER;
    args[nargs].key = (char *)GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH;
    args[nargs].value.integer =
        (int)(opts->max_response_bytes ? opts->max_response_bytes : S_DEFAULT_MAX_RESPONSE_BYTES);
    nargs++;
    if (opts->use_tls && opts->tls_server_name) {
        args[nargs].type = GRPC_ARG_STRING;
        args[nargs].key = (char *)GRPC_SSL_TARGET_NAME_OVERRIDE_ARG;
        args[nargs].value.string = (char *)opts->tls_server_name;
        nargs++;
    }
    grpc_channel_args chargs = {nargs, args};
    c->channel = grpc_channel_create(opts->target, creds, &chargs);
    grpc_channel_credentials_release(creds);
    if (!c->channel) {
        rc = s_err_set(err, BGW_CODE_INVALID_ARGUMENT, "cannot create a channel to %s",
                       opts->target);
        goto fail;
    }
    *out = c;
    return BGW_CODE_OK;

fail:
    s_wipe_free(c->auth_value);
    free(c);
    grpc_shutdown();
    return rc;
}

void bgw_client_destroy(struct bgw_client *client)
{
    if (!client)
        return;
    grpc_channel_destroy(client->channel);
    s_wipe_free(client->auth_value);
    free(client);
    grpc_shutdown();
}

/* ---- protobuf <-> plain C ------------------------------------------------------ */

static Google__Protobuf__Timestamp *s_ts_in(Google__Protobuf__Timestamp *slot, int has,
                                            struct bgw_timestamp t)
{
    if (!has)
        return NULL;
    google__protobuf__timestamp__init(slot);
    slot->seconds = t.seconds;
    slot->nanos = t.nanos;
    return slot;
}

/* Packs req into a new heap buffer (*len bytes); NULL when memory runs out. */
static uint8_t *s_encode(const struct bgw_list_request *req, size_t *len)
{
    Bedrockgw__V1__ListModelImportJobsRequest m;
    Google__Protobuf__Timestamp after, before;
    bedrockgw__v1__list_model_import_jobs_request__init(&m);
    m.creation_time_after = s_ts_in(&after, req->has_creation_time_after, req->creation_time_after);
    m.creation_time_before =
        s_ts_in(&before, req->has_creation_time_before, req->creation_time_before);
    m.status_equals = (Bedrockgw__V1__ModelImportJobStatus)req->status_equals;
    if (req->name_contains)
        m.name_contains = (char *)req->name_contains;
    m.max_results = req->max_results;
    if (req->next_token)
        m.next_token = (char *)req->next_token;
    m.sort_by = (Bedrockgw__V1__SortBy)req->sort_by;
    m.sort_order = (Bedrockgw__V1__SortOrder)req->sort_order;

    *len = bedrockgw__v1__list_model_import_jobs_request__get_packed_size(&m);
    uint8_t *bytes = malloc(*len ? *len : 1);
    if (bytes)
        bedrockgw__v1__list_model_import_jobs_request__pack(&m, bytes);
    return bytes;
}

static void s_ts_out(const Google__Protobuf__Timestamp *t, int *has, struct bgw_timestamp *out)
{
    *has = t != NULL;
    if (t) {
        out->seconds = t->seconds;
        out->nanos = t->nanos;
    }
}

/* strdup of s; empty/NULL -> NULL when optional, "" otherwise. *ok = 0 when
 * memory runs out. */
static char *s_dup(const char *s, bool optional, int *ok)
{
    if (!s || !*s) {
        if (optional)
            return NULL;
        s = "";
    }
    char *p = strdup(s);
    if (!p)
        *ok = 0;
    return p;
}

void bgw_list_response_free(struct bgw_list_response *resp)
{
    if (!resp)
        return;
    for (size_t i = 0; i < resp->n_items; i++) {
        struct bgw_job_summary *s = &resp->items[i];
        free(s->job_arn);
        free(s->job_name);
        free(s->imported_model_arn);
        free(s->imported_model_name);
    }
    free(resp->items);
    free(resp->next_token);
    free(resp);
}

/* Unpacks the reply; returns BGW_CODE_OK or an error code with err set. */
static int s_decode(grpc_byte_buffer *bb, struct bgw_list_response **out,
                    struct bgw_client_error *err)
{
    int rc = BGW_CODE_OK;
    grpc_byte_buffer_reader reader;
    if (!bb || !grpc_byte_buffer_reader_init(&reader, bb))
        return s_err_set(err, BGW_CODE_INTERNAL, "the gateway sent no response message");
    grpc_slice all = grpc_byte_buffer_reader_readall(&reader);
    grpc_byte_buffer_reader_destroy(&reader);
    Bedrockgw__V1__ListModelImportJobsResponse *m =
        bedrockgw__v1__list_model_import_jobs_response__unpack(NULL, GRPC_SLICE_LENGTH(all),
                                                               GRPC_SLICE_START_PTR(all));
    grpc_slice_unref(all);
    if (!m)
        return s_err_set(err, BGW_CODE_INTERNAL,
                         "the response is not a valid bedrockgw.v1.ListModelImportJobsResponse");

    struct bgw_list_response *r = calloc(1, sizeof(*r));
    int ok = 1;
    if (!r) {
        rc = s_err_set(err, BGW_CODE_RESOURCE_EXHAUSTED, "out of memory");
        goto cleanup;
    }
    size_t n = m->n_model_import_job_summaries;
    if (n) {
        r->items = calloc(n, sizeof(*r->items));
        if (!r->items) {
            ok = 0;
            goto done;
        }
    }
    for (size_t i = 0; i < n && ok; i++) {
        const Bedrockgw__V1__ModelImportJobSummary *s = m->model_import_job_summaries[i];
        struct bgw_job_summary *d = &r->items[i];
        r->n_items = i + 1;
        d->job_arn = s_dup(s->job_arn, false, &ok);
        d->job_name = s_dup(s->job_name, false, &ok);
        d->status = (int)s->status;
        s_ts_out(s->last_modified_time, &d->has_last_modified_time, &d->last_modified_time);
        s_ts_out(s->creation_time, &d->has_creation_time, &d->creation_time);
        s_ts_out(s->end_time, &d->has_end_time, &d->end_time);
        d->imported_model_arn = s_dup(s->imported_model_arn, true, &ok);
        d->imported_model_name = s_dup(s->imported_model_name, true, &ok);
    }
    r->next_token = s_dup(m->next_token, true, &ok);
done:
    if (!ok) {
        bgw_list_response_free(r);
        r = NULL;
        rc = s_err_set(err, BGW_CODE_RESOURCE_EXHAUSTED, "out of memory");
    }
cleanup:
    bedrockgw__v1__list_model_import_jobs_response__free_unpacked(m, NULL);
    *out = r;
    return rc;
}

/* ---- one RPC attempt ---------------------------------------------------------- */

static bool s_slice_eq(grpc_slice s, const char *lit)
{
    size_t n = strlen(lit);
    return GRPC_SLICE_LENGTH(s) == n && memcmp(GRPC_SLICE_START_PTR(s), lit, n) == 0;
}

static int s_parse_retry_after(const grpc_metadata_array *md)
{
    for (size_t i = 0; i < md->count; i++) {
        if (!s_slice_eq(md->metadata[i].key, "retry-after"))
            continue;
        char buf[16];
        size_t n = GRPC_SLICE_LENGTH(md->metadata[i].value);
        if (n == 0 || n >= sizeof(buf))
            return 0;
        memcpy(buf, GRPC_SLICE_START_PTR(md->metadata[i].value), n);
        buf[n] = '\0';
        char *end = NULL;
        long v = strtol(buf, &end, 10);
        return (*end == '\0' && v > 0 && v <= 3600) ? (int)v : 0;
    }
    return 0;
}

/* One call with the given absolute deadline. Returns the status code; on
 * success *out holds the response. */
static int s_attempt(struct bgw_client *c, const uint8_t *msg, size_t msg_len,
                     gpr_timespec deadline, struct bgw_list_response **out,
                     struct bgw_client_error *err)
{
    int rc;
    /* SEND_MESSAGE takes the slices out of the buffer: one buffer per attempt. */
    grpc_slice msg_slice = grpc_slice_from_copied_buffer((const char *)msg, msg_len);
    grpc_byte_buffer *request = grpc_raw_byte_buffer_create(&msg_slice, 1);
    grpc_slice_unref(msg_slice);
    grpc_completion_queue *cq = grpc_completion_queue_create_for_pluck(NULL);
    grpc_call *call = NULL;
    grpc_metadata md[1];
    grpc_metadata_array initial_md, trailing_md;
    grpc_byte_buffer *reply = NULL;
    grpc_status_code status = GRPC_STATUS_UNKNOWN;
    grpc_slice details = grpc_empty_slice();
    const char *error_string = NULL;
    grpc_metadata_array_init(&initial_md);
    grpc_metadata_array_init(&trailing_md);
    md[0].key = grpc_slice_from_static_string("authorization");
    md[0].value = grpc_slice_from_copied_string(c->auth_value);

    if (!cq) {
        rc = s_err_set(err, BGW_CODE_RESOURCE_EXHAUSTED, "cannot create a completion queue");
        goto cleanup;
    }
    grpc_slice method = grpc_slice_from_static_string(S_METHOD);
    call = grpc_channel_create_call(c->channel, NULL, GRPC_PROPAGATE_DEFAULTS, cq, method, NULL,
                                    deadline, NULL);
    if (!call) {
        rc = s_err_set(err, BGW_CODE_INTERNAL, "cannot create a call");
        goto cleanup;
    }
    grpc_op ops[6];
    memset(ops, 0, sizeof(ops));
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[0].data.send_initial_metadata.count = 1;
    ops[0].data.send_initial_metadata.metadata = md;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = request;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &initial_md;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &reply;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &trailing_md;
    ops[5].data.recv_status_on_client.status = &status;
    ops[5].data.recv_status_on_client.status_details = &details;
    ops[5].data.recv_status_on_client.error_string = &error_string;
    int tag; /* any unique address */
    grpc_call_error ce = grpc_call_start_batch(call, ops, 6, &tag, NULL);
    if (ce != GRPC_CALL_OK) {
        rc = s_err_set(err, BGW_CODE_INTERNAL, "grpc_call_start_batch failed (%d)", (int)ce);
        goto cleanup;
    }
    grpc_event ev = grpc_completion_queue_pluck(cq, &tag, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    if (ev.type != GRPC_OP_COMPLETE || !ev.success) {
        rc = s_err_set(err, BGW_CODE_INTERNAL, "the gRPC batch failed");
        goto cleanup;
    }
    /* The batch succeeds even when the RPC failed: the status tells. */
    if (status != GRPC_STATUS_OK) {
        rc = (int)status;
        if (err) {
            int attempts = err->attempts;
            memset(err, 0, sizeof(*err));
            err->attempts = attempts;
            err->code = rc;
            err->retryable = s_retryable(rc);
            err->from_server = initial_md.count > 0 || trailing_md.count > 0;
            err->retry_after_s = s_parse_retry_after(&trailing_md);
            size_t n = GRPC_SLICE_LENGTH(details);
            if (n >= sizeof(err->message))
                n = sizeof(err->message) - 1;
            memcpy(err->message, GRPC_SLICE_START_PTR(details), n);
            err->message[n] = '\0';
            if (!err->message[0])
                snprintf(err->message, sizeof(err->message), "%s", bgw_code_name(rc));
        }
        goto cleanup;
    }
    rc = s_decode(reply, out, err);
    if (rc != BGW_CODE_OK && err)
        err->from_server = 1;

cleanup:
    grpc_byte_buffer_destroy(request);
    if (error_string)
        gpr_free((void *)error_string);
    grpc_slice_unref(details);
    if (reply)
        grpc_byte_buffer_destroy(reply);
    grpc_metadata_array_destroy(&initial_md);
    grpc_metadata_array_destroy(&trailing_md);
    grpc_slice_unref(md[0].value);
    if (call)
        grpc_call_unref(call);
    if (cq) {
        grpc_completion_queue_shutdown(cq);
        while (
            grpc_completion_queue_pluck(cq, NULL, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
            GRPC_QUEUE_SHUTDOWN) {
        }
        grpc_completion_queue_destroy(cq);
    }
    return rc;
}

/* ---- list with retries ---------------------------------------------------------- */

static uint64_t s_next_random(struct bgw_client *c)
{
    /* splitmix64 over an atomic counter: no shared mutable state besides it. */
    uint64_t z = (uint64_t)atomic_fetch_add(&c->seed, 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

int bgw_client_list(struct bgw_client *client, const struct bgw_list_request *req,
                    struct bgw_list_response **out, struct bgw_client_error *err)
{
    s_err_clear(err);
    if (out)
        *out = NULL;
    if (!client || !req || !out)
        return s_err_set(err, BGW_CODE_INVALID_ARGUMENT, "client, req and out are required");
    if (req->timeout_ms < 0)
        return s_err_set(err, BGW_CODE_INVALID_ARGUMENT, "req.timeout_ms is negative");

    int64_t timeout_ms = req->timeout_ms ? req->timeout_ms : client->default_timeout_ms;
    int64_t deadline_ms = s_mono_ms() + timeout_ms;
    gpr_timespec deadline =
        gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(timeout_ms, GPR_TIMESPAN));
    size_t msg_len = 0;
    uint8_t *msg = s_encode(req, &msg_len);
    if (!msg)
        return s_err_set(err, BGW_CODE_RESOURCE_EXHAUSTED, "out of memory");

    struct bgw_client_error local;
    struct bgw_client_error *e = err ? err : &local;
    memset(e, 0, sizeof(*e));
    int64_t backoff_ms = client->initial_backoff_ms;
    int rc;
    for (int attempt = 1;; attempt++) {
        e->attempts = attempt;
        rc = s_attempt(client, msg, msg_len, deadline, out, e);
        if (rc != BGW_CODE_UNAVAILABLE || attempt >= client->max_attempts)
            break;
        int64_t wait_ms =
            backoff_ms - (int64_t)(s_next_random(client) % (uint64_t)(backoff_ms / 2 + 1));
        if (e->retry_after_s > 0 && (int64_t)e->retry_after_s * 1000 > wait_ms)
            wait_ms = (int64_t)e->retry_after_s * 1000 < client->max_backoff_ms
                          ? (int64_t)e->retry_after_s * 1000
                          : client->max_backoff_ms;
        if (s_mono_ms() + wait_ms >= deadline_ms)
            break; /* no time left for another attempt: report this one */
        s_sleep_ms(wait_ms);
        backoff_ms =
            backoff_ms * 2 < client->max_backoff_ms ? backoff_ms * 2 : client->max_backoff_ms;
    }
    free(msg);
    if (rc == BGW_CODE_OK) {
        int attempts = e->attempts;
        memset(e, 0, sizeof(*e));
        e->attempts = attempts;
    }
    return rc;
}

/* ---- paging ------------------------------------------------------------------- */

int bgw_client_list_all(struct bgw_client *client, const struct bgw_list_request *req,
                        size_t max_items, bgw_page_fn on_page, void *user_data, size_t *total_items,
                        struct bgw_client_error *err)
{
    s_err_clear(err);
    if (total_items)
        *total_items = 0;
    if (!client || !req || !on_page)
        return s_err_set(err, BGW_CODE_INVALID_ARGUMENT, "client, req and on_page are required");

    struct bgw_list_request page_req = *req;
    char *token = NULL;
    size_t total = 0;
    int rc = BGW_CODE_OK;
    if (req->next_token && *req->next_token) {
        token = strdup(req->next_token);
        if (!token)
            return s_err_set(err, BGW_CODE_RESOURCE_EXHAUSTED, "out of memory");
    }
    for (size_t page_index = 0;; page_index++) {
        page_req.next_token = token;
        if (max_items > 0) {
            size_t remaining = max_items - total;
            if (req->max_results > 0 && (size_t)req->max_results > remaining)
                page_req.max_results = (int)remaining;
        }
        struct bgw_list_response *page = NULL;
        rc = bgw_client_list(client, &page_req, &page, err);
        if (rc != BGW_CODE_OK)
            break;
        size_t n_all = page->n_items;
        bool limit_reached = false;
        if (max_items > 0 && total + page->n_items >= max_items) {
            page->n_items = max_items - total; /* restored before the free */
            limit_reached = true;
        }
        int stop = on_page(page, page_index, user_data);
        total += page->n_items;
        page->n_items = n_all;
        free(token);
        token = page->next_token; /* taken over from the page */
        page->next_token = NULL;
        bgw_list_response_free(page);
        if (stop) {
            rc = s_err_set(err, BGW_CODE_CANCELLED, "stopped by the page callback");
            break;
        }
        if (limit_reached || !token)
            break;
    }
    free(token);
    if (total_items)
        *total_items = total;
    return rc;
}
