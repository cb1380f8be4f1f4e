/*
 * rest_frontend - the REST/JSON transport on libevent's evhttp, on the loop
 * thread (it shares the gateway's event_base; no threads of its own).
 *
 *   GET     /v1/model-import-jobs?<field>=...   proto3 JSON response
 *   OPTIONS /v1/model-import-jobs               CORS preflight
 *   GET     /healthz                             {"status":"SERVING"} (503 while draining)
 *   GET     /metrics                             Prometheus text (no API key asked)
 *
 * Cached answers carry ETag, Cache-Control: private, max-age=<fresh s>, Age,
 * X-Cache and, when stale, Warning; If-None-Match matching the ETag -> 304.
 *
 * Errors are google.rpc.Status JSON with grpc-gateway's HTTP status. CORS
 * follows an allow-list; "*" is only ever sent without credentials. Header
 * and body sizes and read/write timeouts are bounded by config.
 */
#ifndef BGW_REST_FRONTEND_H
#define BGW_REST_FRONTEND_H

#include "buf.h"
#include "config.h"
#include "handler.h"

struct event_base;
struct rest_frontend;

/* Loop thread; takes ownership of call, must invoke call->reply once. */
typedef void (*rest_frontend_submit_fn)(void *arg, struct handler_call *call);

/* Loop thread; appends the Prometheus text for GET /metrics. 0 or -1. */
typedef int (*rest_frontend_metrics_fn)(void *arg, struct buf *out);

struct rest_frontend_options {
    const struct config *cfg; /* listen address, CORS, limits; outlives the frontend */
    struct event_base *base;
    rest_frontend_submit_fn submit;
    void *submit_arg;
    rest_frontend_metrics_fn metrics; /* NULL: no /metrics */
    void *metrics_arg;
};

struct rest_frontend *rest_frontend_new(const struct rest_frontend_options *opts,
                                        struct buf *err);
int rest_frontend_port(const struct rest_frontend *f);
/* Stop accepting connections; requests already read still get answers. */
void rest_frontend_stop_accepting(struct rest_frontend *f);
/* Requests whose reply has not been fully written yet. */
size_t rest_frontend_unsent(const struct rest_frontend *f);
void rest_frontend_destroy(struct rest_frontend *f);

#endif
