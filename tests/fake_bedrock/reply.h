/*
 * reply - an HTTP answer the emulator has decided on but not yet sent
 * (status, AWS error type, Retry-After, body), and the one function that
 * puts it on an evhttp request. Deciding and sending are apart so that the
 * "delay" fault can hold a finished reply until its timer fires.
 *
 * A struct reply owns its body (reply_clean_up). reply_send runs on the
 * loop thread.
 */
#ifndef FAKE_REPLY_H
#define FAKE_REPLY_H

#include <stddef.h>

#include <jansson.h>

struct evhttp_request;

/* Namespaces of x-amzn-ErrorType: Bedrock's own errors and the AWS front
 * end's (authentication, unknown operation). */
#define REPLY_NS_BEDROCK "http://internal.amazon.com/coral/com.amazon.bedrock/"
#define REPLY_NS_CORAL "http://internal.amazon.com/coral/com.amazon.coral.service/"

struct reply {
    int status;
    char error_type[64];       /* "" = not an error */
    const char *error_ns;      /* static; with error_type */
    long long retry_after_s;   /* > 0: Retry-After header */
    char retry_after_text[40]; /* non-empty: Retry-After header (wins) */
    const char *allow;         /* static; Allow header for 405 */
    char *body;                /* heap, may be NULL */
    size_t body_len;
};

void reply_init(struct reply *r);
void reply_clean_up(struct reply *r);

/* Serializes obj (borrowed) compactly as the body. Returns 0 or -1. */
int reply_set_json(struct reply *r, int status, const json_t *obj);

/* An AWS REST-JSON error: status, x-amzn-ErrorType "<type>:<ns>" and body
 * {"<message_key>": message}. message_key is "message" or "Message". */
int reply_set_error(struct reply *r, int status, const char *type, const char *ns,
                    const char *message_key, const char *message);

/* Adds Content-Type, x-amzn-RequestId (request_id may be NULL for control
 * replies), the error/Retry-After/Allow headers, and sends. Does not free
 * r. */
void reply_send(struct evhttp_request *req, const struct reply *r, const char *request_id);

/* JSON text helpers that never fail on bytes that are not UTF-8 (request
 * data is untrusted): such bytes become '?'. New reference, or NULL when
 * memory runs out. */
json_t *reply_json_string(const char *s);
/* json_object_set_new with the same treatment of the key. */
int reply_json_set(json_t *obj, const char *key, json_t *value);

#endif
