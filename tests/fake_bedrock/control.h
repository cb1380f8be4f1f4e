/*
 * control - the emulator's unsigned control plane under /_fake/ (request
 * log, counters, reset, fault queue, data set replacement) and the state
 * behind it: the bounded request log and the FIFO fault queue.
 *
 * Loop thread only. The request log holds what clients sent, including
 * x-amz-security-token, but never the emulator's secret key.
 */
#ifndef FAKE_CONTROL_H
#define FAKE_CONTROL_H

#include <jansson.h>

#include "fake_server.h"

struct evhttp_request;

/* Frees the request log and empties the fault queue. */
void control_clean_up(struct fake_server *s);
/* Frees the key pairs added with POST /_fake/credentials (at exit). */
void control_free_keys(struct fake_server *s);

/* Appends entry (reference stolen) to the log, dropping the oldest past
 * FAKE_LOG_MAX. */
void control_log_append(struct fake_server *s, json_t *entry);

/* The fault for the next API call: the head entry of the queue, whose count
 * is decremented (and which is dropped at zero). kind NONE when empty. */
struct fake_fault control_fault_take(struct fake_server *s);

/* Serves one /_fake/... request; path is the part before '?'. */
void control_handle(struct fake_server *s, struct evhttp_request *req, const char *path);

#endif
