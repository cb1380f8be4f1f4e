/*
 * grpc_frontend - the gRPC transport: the gRPC protocol for unary calls,
 * spoken over h2_server (nghttp2) on the event loop, the same loop and
 * thread as everything else.
 *
 * ListModelImportJobs calls are decoded into handler_calls and submitted;
 * the call's reply function answers on the same stream (headers, the one
 * message, trailers; errors as trailers-only with grpc-status,
 * percent-encoded grpc-message and grpc-status-details-bin carrying the
 * google.rpc.Status with the same details REST sends). Also serves
 * /grpc.health.v1.Health/Check (SERVING, or NOT_SERVING while draining or
 * not ready) and, unless grpc.reflection is false, server reflection
 * (grpc.reflection.v1 and v1alpha ServerReflectionInfo, a bidi stream:
 * each request answered as it arrives, from the descriptor set compiled
 * into the binary; grpc_reflection.h). Health and reflection ask no key.
 */
#ifndef BGW_GRPC_FRONTEND_H
#define BGW_GRPC_FRONTEND_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

#include "buf.h"
#include "config.h"
#include "handler.h"

struct event_base;
struct health;
struct grpc_frontend;

/* Takes ownership of call and must eventually invoke call->reply exactly
 * once. */
typedef void (*grpc_frontend_submit_fn)(void *arg, struct handler_call *call);

struct grpc_frontend_options {
    const struct config *cfg; /* grpc.* keys; read at creation */
    struct event_base *base;
    grpc_frontend_submit_fn submit;
    void *submit_arg;
    const struct health *health; /* Health/Check answers readiness; NULL = draining only */
    bool start_paused;           /* listen, accept only after grpc_frontend_start */
};

/* Binds and starts serving. NULL with a reason (naming the key) in err. */
struct grpc_frontend *grpc_frontend_new(const struct grpc_frontend_options *opts, struct buf *err);
int grpc_frontend_port(const struct grpc_frontend *f);
/* Stop taking connections, GOAWAY on the open ones; calls already
 * received still finish. */
void grpc_frontend_stop_accepting(struct grpc_frontend *f);
void grpc_frontend_start(struct grpc_frontend *f);
/* The TLS context new connections get (NULL: plaintext). */
SSL_CTX *grpc_frontend_ssl_ctx(const struct grpc_frontend *f);
/* Certificate rotation: new connections use ctx (taken over; the old one
 * is released, connections made with it keep it). TLS listeners only. */
void grpc_frontend_set_ssl_ctx(struct grpc_frontend *f, SSL_CTX *ctx);
/* False while the listener cannot accept (listener.h). */
bool grpc_frontend_accepting(const struct grpc_frontend *f);
/* Calls not yet answered plus answers not yet written: 0 when done. */
size_t grpc_frontend_unsent(const struct grpc_frontend *f);
/* Closes every connection and frees everything. */
void grpc_frontend_destroy(struct grpc_frontend *f);

#endif
