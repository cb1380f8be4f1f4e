/*
 * grpc_frontend - the gRPC transport on gRPC C core.
 *
 * Owns the grpc_server, its completion queue and the thread that polls it
 * (the "CQ thread"). The CQ thread decodes each ListModelImportJobs call into
 * a handler_call, offers it to the direct function (the gateway answers a
 * fresh cache hit right there, from a stored view: no thread hand-off) and
 * otherwise hands it to the loop thread through a loop_queue. The loop
 * answers through the call's reply function, which starts the send batch
 * (grpc_call_start_batch is thread-safe); the CQ thread frees the call when
 * that batch completes.
 * Also serves /grpc.health.v1.Health/Check (SERVING, or NOT_SERVING while
 * draining) on the CQ thread.
 */
#ifndef BGW_GRPC_FRONTEND_H
#define BGW_GRPC_FRONTEND_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "config.h"
#include "handler.h"

struct event_base;
struct health;
struct grpc_frontend;

/* Runs on the loop thread; takes ownership of call and must eventually
 * invoke call->reply exactly once. */
typedef void (*grpc_frontend_submit_fn)(void *arg, struct handler_call *call);
/* Runs on the CQ thread; see grpc_frontend_options.direct. */
typedef bool (*grpc_frontend_direct_fn)(void *arg, struct handler_call *call);

struct grpc_frontend_options {
    const char *listen; /* "host:port"; port 0 = pick one */
    const struct config_tls *tls; /* NULL or no cert_file = plaintext */
    size_t max_message_bytes;
    size_t max_queued; /* hand-off queue bound: beyond it calls get UNAVAILABLE */
    struct event_base *base;
    grpc_frontend_submit_fn submit;
    void *submit_arg;
    /* NULL, or tried first for every decoded call, on the CQ thread: may
     * answer the call right there (a cache hit needs no loop) by calling
     * call->reply, which frees it, and return true; false passes the call
     * on to submit, untouched. */
    grpc_frontend_direct_fn direct;
    void *direct_arg;
    /* NULL, or called on the CQ thread (with direct_arg) when it has nothing
     * left to do and is about to wait, and when it ends: the direct function
     * batches its log lines and writes them here. */
    void (*idle)(void *direct_arg);
    const struct health *health; /* Health/Check answers readiness; NULL = draining only */
};

/* Binds, starts serving and the CQ thread. NULL with a reason in err. Call
 * grpc_init() before (main does). */
struct grpc_frontend *grpc_frontend_new(const struct grpc_frontend_options *opts,
                                        struct buf *err);
int grpc_frontend_port(const struct grpc_frontend *f);
/* Loop thread: stop taking new calls; calls already received still finish. */
void grpc_frontend_stop_accepting(struct grpc_frontend *f);
/* After the loop has stopped: cancels what is left, joins the CQ thread,
 * frees everything. */
void grpc_frontend_destroy(struct grpc_frontend *f);

#endif
