/*
 * reply - build and send an HTTP answer. See reply.h. Loop thread only.
 */
#include "reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

void reply_init(struct reply *r)
{
    memset(r, 0, sizeof(*r));
    r->status = 500;
}

void reply_clean_up(struct reply *r)
{
    free(r->body);
    r->body = NULL;
    r->body_len = 0;
}

int reply_set_json(struct reply *r, int status, const json_t *obj)
{
    char *text = json_dumps(obj, JSON_COMPACT);
    if (!text)
        return -1;
    free(r->body);
    r->body = text;
    r->body_len = strlen(text);
    r->status = status;
    return 0;
}

int reply_set_error(struct reply *r, int status, const char *type, const char *ns,
                    const char *message_key, const char *message)
{
    json_t *obj = json_object();
    int rc = -1;
    if (!obj || json_object_set_new(obj, message_key, json_string(message)) != 0)
        goto cleanup;
    if (reply_set_json(r, status, obj) != 0)
        goto cleanup;
    snprintf(r->error_type, sizeof(r->error_type), "%s", type);
    r->error_ns = ns;
    rc = 0;
cleanup:
    json_decref(obj);
    return rc;
}

static const char *s_reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 413:
        return "Payload Too Large";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Status";
    }
}

void reply_send(struct evhttp_request *req, const struct reply *r, const char *request_id)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    struct evbuffer *body = evbuffer_new();
    evhttp_add_header(h, "Content-Type", "application/json");
    if (request_id)
        evhttp_add_header(h, "x-amzn-RequestId", request_id);
    if (r->error_type[0]) {
        char value[256];
        snprintf(value, sizeof(value), "%s:%s", r->error_type, r->error_ns ? r->error_ns : "");
        evhttp_add_header(h, "x-amzn-ErrorType", value);
    }
    if (r->retry_after_text[0]) {
        evhttp_add_header(h, "Retry-After", r->retry_after_text);
    } else if (r->retry_after_s > 0) {
        char value[32];
        snprintf(value, sizeof(value), "%lld", r->retry_after_s);
        evhttp_add_header(h, "Retry-After", value);
    }
    if (r->allow)
        evhttp_add_header(h, "Allow", r->allow);
    if (body && r->body)
        evbuffer_add(body, r->body, r->body_len);
    /* evhttp_send_reply frees req (also when the client is already gone). */
    evhttp_send_reply(req, r->status, s_reason(r->status), body);
    if (body)
        evbuffer_free(body);
}

static char *s_ascii_copy(const char *s)
{
    size_t len = strlen(s);
    char *copy = malloc(len + 1);
    if (!copy)
        return NULL;
    for (size_t i = 0; i <= len; i++)
        copy[i] = (unsigned char)s[i] >= 0x80 ? '?' : s[i];
    return copy;
}

json_t *reply_json_string(const char *s)
{
    json_t *v = json_string(s);
    if (v)
        return v;
    char *copy = s_ascii_copy(s);
    if (!copy)
        return NULL;
    v = json_string(copy);
    free(copy);
    return v;
}

int reply_json_set(json_t *obj, const char *key, json_t *value)
{
    if (!value)
        return -1;
    json_t *probe = json_string(key);
    if (probe) {
        json_decref(probe);
        return json_object_set_new(obj, key, value);
    }
    char *copy = s_ascii_copy(key);
    if (!copy) {
        json_decref(value);
        return -1;
    }
    int rc = json_object_set_new(obj, copy, value);
    free(copy);
    return rc;
}
