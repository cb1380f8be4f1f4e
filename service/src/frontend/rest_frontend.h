/*
 * rest_frontend - the REST/JSON transport on the gateway's own HTTP/1.1
 * server (http_server.h: keep-alive, pipelining answered in order, bounded
 * heads and bodies, read/write deadlines), on the loop thread (it shares the
 * gateway's event_base; no threads of its own).
 *
 *   GET     /v1/model-import-jobs?<field>=...   proto3 JSON response
 *   OPTIONS /v1/model-import-jobs               CORS preflight
 *   GET     /healthz                             {"status":"SERVING"} (503 while draining)
 *   GET     /readyz                              {"status":"SERVING"} when ready (health.h), else
 * 503 NOT_SERVING + reason GET     /metrics                             Prometheus text (no API key
 * asked; off with http.metrics_enabled=false -> 404)
 *   GET     /openapi.json                        docs/openapi.json as built in (openapi_doc.h; no
 * API key asked; ETag, If-None-Match -> 304; off with http.openapi_enabled=false -> 404)
 *
 * Cached answers carry ETag, Cache-Control: private, max-age=<fresh s>, Age,
 * X-Cache and, when stale, Warning; If-None-Match matching the ETag -> 304.
 *
 * With http.tls the listener speaks HTTPS only (tls_server.h settings); a
 * verified client certificate's names go into each call (handler_call.peer)
 * for auth.c to map to a tenant.
 *
 * Errors are google.rpc.Status JSON with grpc-gateway's HTTP status; so are
 * the refusals of malformed requests by http_server (400, 413, 431, 501,
 * 505; the connection closes after them). CORS follows an allow-list; "*" is
 * only ever sent without credentials. Header and body sizes and read/write
 * timeouts are bounded by config. Replies while draining carry
 * "Connection: close".
 */
#ifndef BGW_REST_FRONTEND_H
#define BGW_REST_FRONTEND_H

#include <openssl/ssl.h>

#include "buf.h"
#include "config.h"
#include "handler.h"

struct event_base;
struct health;
struct rest_frontend;

/* Loop thread; takes ownership of call, must invoke call->reply once. */
typedef void (*rest_frontend_submit_fn)(void *arg, struct handler_call *call);

/* Loop thread; appends the Prometheus text for GET /metrics. 0 or -1. */
typedef int (*rest_frontend_metrics_fn)(void *arg, struct buf *out);

struct rest_frontend_options {
    const struct config *cfg; /* listen address, TLS, CORS, limits; outlives the frontend */
    struct event_base *base;
    rest_frontend_submit_fn submit;
    void *submit_arg;
    rest_frontend_metrics_fn metrics; /* NULL: no /metrics */
    void *metrics_arg;
    const struct health *health; /* /readyz; NULL = ready unless draining */
    bool start_paused;           /* listen, accept only after rest_frontend_start */
};

struct rest_frontend *rest_frontend_new(const struct rest_frontend_options *opts, struct buf *err);
int rest_frontend_port(const struct rest_frontend *f);
/* Loop thread: use cfg's CORS settings for requests from now on (a config
 * reload). Listener, TLS and limits stay as created. cfg must stay alive
 * until the next call or rest_frontend_destroy. */
void rest_frontend_set_config(struct rest_frontend *f, const struct config *cfg);
/* The TLS context new connections get (NULL: plain HTTP). */
SSL_CTX *rest_frontend_ssl_ctx(const struct rest_frontend *f);
/* Certificate rotation: new connections use ctx (taken over; the old one
 * is released, connections made with it keep it until they close). Only
 * for a listener that serves TLS. */
void rest_frontend_set_ssl_ctx(struct rest_frontend *f, SSL_CTX *ctx);
/* Stop accepting connections; requests already read still get answers. */
void rest_frontend_stop_accepting(struct rest_frontend *f);
void rest_frontend_start(struct rest_frontend *f);
/* Requests whose reply has not been fully written yet. */
/* False while the listener cannot accept (listener.h). */
bool rest_frontend_accepting(const struct rest_frontend *f);
size_t rest_frontend_unsent(const struct rest_frontend *f);
void rest_frontend_destroy(struct rest_frontend *f);

#endif
