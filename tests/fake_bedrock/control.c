/*
 * control - /_fake/ endpoints, request log, fault queue. See control.h.
 * Loop thread only; never blocks.
 */
#include "control.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "dataset.h"
#include "reply.h"

static const char *const s_fault_names[] = {
    [FAKE_FAULT_NONE] = NULL,
    [FAKE_FAULT_THROTTLE] = "throttle",
    [FAKE_FAULT_INTERNAL] = "internal",
    [FAKE_FAULT_VALIDATION] = "validation",
    [FAKE_FAULT_ACCESS_DENIED] = "access_denied",
    [FAKE_FAULT_DELAY] = "delay",
    [FAKE_FAULT_MALFORMED] = "malformed",
    [FAKE_FAULT_DROP] = "drop",
    [FAKE_FAULT_EMPTY_PAGE] = "empty_page",
    [FAKE_FAULT_EXPIRED_TOKEN] = "expired_token",
};
#define S_N_FAULT_NAMES (sizeof(s_fault_names) / sizeof(s_fault_names[0]))

const char *fake_fault_kind_str(enum fake_fault_kind k)
{
    if ((size_t)k >= S_N_FAULT_NAMES)
        return NULL;
    return s_fault_names[k];
}

int fake_fault_kind_parse(const char *s)
{
    for (size_t i = 1; i < S_N_FAULT_NAMES; i++) {
        if (strcmp(s, s_fault_names[i]) == 0)
            return (int)i;
    }
    return -1;
}

static void s_log_clear(struct fake_server *s)
{
    for (size_t i = 0; i < s->log_n; i++)
        json_decref(s->log[(s->log_start + i) % FAKE_LOG_MAX]);
    s->log_start = 0;
    s->log_n = 0;
}

void control_clean_up(struct fake_server *s)
{
    s_log_clear(s);
    s->fault_start = 0;
    s->fault_n = 0;
}

void control_free_keys(struct fake_server *s)
{
    for (size_t i = 0; i < s->n_keys; i++) {
        free(s->keys[i].access_key_id);
        free(s->keys[i].secret_access_key);
        free(s->keys[i].session_token);
    }
    s->n_keys = 0;
}

void control_log_append(struct fake_server *s, json_t *entry)
{
    if (!entry)
        return;
    if (s->log_n == FAKE_LOG_MAX) {
        json_decref(s->log[s->log_start]);
        s->log[s->log_start] = entry;
        s->log_start = (s->log_start + 1) % FAKE_LOG_MAX;
        return;
    }
    s->log[(s->log_start + s->log_n) % FAKE_LOG_MAX] = entry;
    s->log_n++;
}

struct fake_fault control_fault_take(struct fake_server *s)
{
    struct fake_fault none = {.kind = FAKE_FAULT_NONE};
    if (s->fault_n == 0)
        return none;
    struct fake_fault *head = &s->faults[s->fault_start];
    struct fake_fault taken = *head;
    if (--head->remaining <= 0) {
        s->fault_start = (s->fault_start + 1) % FAKE_FAULT_QUEUE_MAX;
        s->fault_n--;
    }
    return taken;
}

/* --- replies ---------------------------------------------------------- */

static void s_send_json(struct evhttp_request *req, int status, json_t *obj /* stolen */)
{
    struct reply r;
    reply_init(&r);
    if (!obj || reply_set_json(&r, status, obj) != 0)
        reply_set_error(&r, 500, "InternalFailure", REPLY_NS_CORAL, "message", "out of memory");
    reply_send(req, &r, NULL);
    reply_clean_up(&r);
    json_decref(obj);
}

static void s_send_error(struct evhttp_request *req, int status, const char *type,
                         const char *message)
{
    struct reply r;
    reply_init(&r);
    reply_set_error(&r, status, type, REPLY_NS_CORAL, "message", message);
    if (status == 405)
        r.allow = "GET, POST, PUT";
    reply_send(req, &r, NULL);
    reply_clean_up(&r);
}

/* Parses the request body as JSON; sends 400 and returns NULL on failure. */
static json_t *s_body_json(struct evhttp_request *req)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    const char *data = len ? (const char *)evbuffer_pullup(in, -1) : "";
    json_error_t jerr;
    json_t *root = json_loadb(data, len, 0, &jerr);
    if (!root) {
        char msg[256];
        snprintf(msg, sizeof(msg), "request body is not JSON: %s (line %d)", jerr.text, jerr.line);
        s_send_error(req, 400, "ValidationException", msg);
    }
    return root;
}

/* --- endpoints -------------------------------------------------------- */

static void s_get_requests(struct fake_server *s, struct evhttp_request *req)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < s->log_n; i++)
        json_array_append(arr, s->log[(s->log_start + i) % FAKE_LOG_MAX]);
    json_t *obj = json_object();
    if (obj && arr)
        json_object_set(obj, "requests", arr);
    json_decref(arr);
    s_send_json(req, 200, obj);
}

static void s_get_counters(struct fake_server *s, struct evhttp_request *req)
{
    const struct fake_counters *c = &s->counters;
    json_t *obj = json_pack(
        "{sIsIsIsIsI}", "requests_total", (json_int_t)c->requests_total, "list_ok",
        (json_int_t)c->list_ok, "auth_failed", (json_int_t)c->auth_failed, "validation_failed",
        (json_int_t)c->validation_failed, "faults_injected", (json_int_t)c->faults_injected);
    s_send_json(req, 200, obj);
}

static void s_reset(struct fake_server *s, struct evhttp_request *req)
{
    control_clean_up(s);
    memset(&s->counters, 0, sizeof(s->counters));
    s_send_json(req, 200, json_pack("{sb}", "ok", 1));
}

static json_t *s_faults_json(const struct fake_server *s)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < s->fault_n; i++) {
        const struct fake_fault *f = &s->faults[(s->fault_start + i) % FAKE_FAULT_QUEUE_MAX];
        json_array_append_new(arr, json_pack("{sssIsIsI}", "kind", fake_fault_kind_str(f->kind),
                                             "count", (json_int_t)f->remaining, "delay_ms",
                                             (json_int_t)f->delay_ms, "retry_after_s",
                                             (json_int_t)f->retry_after_s));
    }
    return json_pack("{so*}", "faults", arr);
}

/* Reads an optional integer member in [min, max]; returns 0 or -1. */
static int s_int_member(const json_t *obj, const char *key, json_int_t min, json_int_t max,
                        json_int_t *inout)
{
    const json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return -1;
    *inout = json_integer_value(v);
    return 0;
}

static void s_post_faults(struct fake_server *s, struct evhttp_request *req)
{
    json_t *root = s_body_json(req);
    if (!root)
        return;
    char msg[256];
    const char *key;
    json_t *value;
    if (!json_is_object(root)) {
        s_send_error(req, 400, "ValidationException", "fault must be a JSON object");
        goto cleanup;
    }
    json_object_foreach(root, key, value)
    {
        if (strcmp(key, "kind") != 0 && strcmp(key, "count") != 0 && strcmp(key, "delay_ms") != 0 &&
            strcmp(key, "retry_after_s") != 0 && strcmp(key, "retry_after_date_s") != 0) {
            snprintf(msg, sizeof(msg), "unknown fault member \"%.64s\"", key);
            s_send_error(req, 400, "ValidationException", msg);
            goto cleanup;
        }
    }
    const char *kind_text = json_string_value(json_object_get(root, "kind"));
    int kind = kind_text ? fake_fault_kind_parse(kind_text) : -1;
    if (kind < 0) {
        s_send_error(req, 400, "ValidationException",
                     "\"kind\" must be one of throttle, internal, validation, access_denied, "
                     "delay, malformed, drop, empty_page");
        goto cleanup;
    }
    json_int_t count = 1, delay_ms = 0, retry_after_s = 0, retry_after_date_s = 0;
    if (s_int_member(root, "count", 1, FAKE_FAULT_COUNT_MAX, &count) != 0 ||
        s_int_member(root, "delay_ms", 0, FAKE_FAULT_DELAY_MAX_MS, &delay_ms) != 0 ||
        s_int_member(root, "retry_after_s", 0, 86400, &retry_after_s) != 0 ||
        s_int_member(root, "retry_after_date_s", -86400, 86400, &retry_after_date_s) != 0) {
        snprintf(msg, sizeof(msg),
                 "\"count\" must be an integer 1..%d, \"delay_ms\" 0..%d, \"retry_after_s\" "
                 "0..86400, \"retry_after_date_s\" -86400..86400",
                 FAKE_FAULT_COUNT_MAX, FAKE_FAULT_DELAY_MAX_MS);
        s_send_error(req, 400, "ValidationException", msg);
        goto cleanup;
    }
    if (s->fault_n == FAKE_FAULT_QUEUE_MAX) {
        s_send_error(req, 400, "ValidationException", "fault queue is full");
        goto cleanup;
    }
    struct fake_fault *f = &s->faults[(s->fault_start + s->fault_n) % FAKE_FAULT_QUEUE_MAX];
    f->kind = (enum fake_fault_kind)kind;
    f->remaining = count;
    f->delay_ms = delay_ms;
    f->retry_after_s = retry_after_s;
    f->retry_after_date = json_object_get(root, "retry_after_date_s") != NULL;
    f->retry_after_date_s = retry_after_date_s;
    s->fault_n++;
    s_send_json(req, 200, s_faults_json(s));
cleanup:
    json_decref(root);
}

static void s_put_jobs(struct fake_server *s, struct evhttp_request *req)
{
    json_t *root = s_body_json(req);
    if (!root)
        return;
    char err[256] = "";
    struct dataset *d = NULL;
    json_t *gen = json_is_object(root) ? json_object_get(root, "generate") : NULL;
    if (gen) {
        json_int_t seed = 1;
        const json_t *seed_v = json_object_get(root, "seed");
        if (json_is_integer(seed_v))
            seed = json_integer_value(seed_v);
        if (!json_is_integer(gen) || json_integer_value(gen) < 0 ||
            json_integer_value(gen) > FAKE_GENERATE_MAX) {
            snprintf(err, sizeof(err), "\"generate\" must be an integer 0..%d", FAKE_GENERATE_MAX);
        } else {
            d = dataset_new_generated((size_t)json_integer_value(gen), (uint64_t)seed,
                                      s->cfg->region);
            if (!d)
                snprintf(err, sizeof(err), "out of memory");
        }
    } else {
        d = dataset_new_from_json(root, err, sizeof(err));
    }
    json_decref(root);
    if (!d) {
        s_send_error(req, 400, "ValidationException", err);
        return;
    }
    dataset_destroy(s->data);
    s->data = d;
    s_send_json(req, 200, json_pack("{sI}", "jobs", (json_int_t)d->n));
}

/* {"access_key_id","secret_access_key","session_token"?,"expired"?}: adds a
 * key pair, or updates the one with that id (e.g. to mark it expired). */
static void s_post_credentials(struct fake_server *s, struct evhttp_request *req)
{
    json_t *root = s_body_json(req);
    if (!root)
        return;
    const char *akid = json_string_value(json_object_get(root, "access_key_id"));
    const char *secret = json_string_value(json_object_get(root, "secret_access_key"));
    const char *token = json_string_value(json_object_get(root, "session_token"));
    json_t *expired = json_object_get(root, "expired");
    struct fake_key *k = NULL;
    for (size_t i = 0; akid && i < s->n_keys; i++) {
        if (strcmp(s->keys[i].access_key_id, akid) == 0)
            k = &s->keys[i];
    }
    if (!akid || !*akid || strlen(akid) > 128 || (!k && (!secret || !*secret))) {
        s_send_error(req, 400, "ValidationException",
                     "need access_key_id (and secret_access_key for a new key)");
        goto cleanup;
    }
    if (!k) {
        if (s->n_keys == FAKE_EXTRA_KEYS_MAX) {
            s_send_error(req, 400, "ValidationException", "too many keys");
            goto cleanup;
        }
        k = &s->keys[s->n_keys++];
        k->access_key_id = strdup(akid);
        k->secret_access_key = strdup(secret);
        k->session_token = token && *token ? strdup(token) : NULL;
        k->expired = false;
    }
    if (expired)
        k->expired = json_is_true(expired);
    s_send_json(req, 200, json_pack("{sI}", "keys", (json_int_t)s->n_keys));
cleanup:
    json_decref(root);
}

static void s_get_jobs(struct fake_server *s, struct evhttp_request *req)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < s->data->n; i++)
        json_array_append(arr, s->data->jobs[i].obj);
    s_send_json(req, 200, json_pack("{so*}", "modelImportJobSummaries", arr));
}

void control_handle(struct fake_server *s, struct evhttp_request *req, const char *path)
{
    enum evhttp_cmd_type m = evhttp_request_get_command(req);
    struct route {
        const char *path;
        enum evhttp_cmd_type method;
        void (*fn)(struct fake_server *, struct evhttp_request *);
    };
    static const struct route routes[] = {
        {"/_fake/requests", EVHTTP_REQ_GET, s_get_requests},
        {"/_fake/counters", EVHTTP_REQ_GET, s_get_counters},
        {"/_fake/reset", EVHTTP_REQ_POST, s_reset},
        {"/_fake/faults", EVHTTP_REQ_POST, s_post_faults},
        {"/_fake/faults", EVHTTP_REQ_GET, NULL}, /* listed below */
        {"/_fake/jobs", EVHTTP_REQ_PUT, s_put_jobs},
        {"/_fake/jobs", EVHTTP_REQ_GET, s_get_jobs},
        {"/_fake/credentials", EVHTTP_REQ_POST, s_post_credentials},
    };
    bool path_known = false;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        if (strcmp(routes[i].path, path) != 0)
            continue;
        path_known = true;
        if (routes[i].method != m)
            continue;
        if (routes[i].fn)
            routes[i].fn(s, req);
        else
            s_send_json(req, 200, s_faults_json(s));
        return;
    }
    if (path_known)
        s_send_error(req, 405, "MethodNotAllowedException", "Method Not Allowed");
    else
        s_send_error(req, 404, "UnknownOperationException", "Unknown control endpoint");
}
