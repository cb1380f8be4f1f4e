/*
 * grpc_baseline - the benchmark's reference point for the gRPC hit path: a
 * bare gRPC C core server (one completion queue, one thread, like the
 * gateway's frontend) that answers every call to any method with the same
 * fixed reply message read from a file, and nothing else (no auth, no
 * parsing, no hand-off to another thread). Built by CMake, not installed;
 * used only by tests/bench/run_bench.sh.
 *
 *   grpc_baseline --listen 127.0.0.1:PORT --reply FILE
 *
 * Prints {"event":"ready","port":N} once listening, and on SIGTERM/SIGINT
 * {"event":"stopped","calls":N,"reply_bytes":M} (the server-side counter).
 */
#include <grpc/byte_buffer.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_PENDING 256

struct s_call {
    int state; /* 0 = waiting for a call, 1 = reply sent */
    grpc_call *call;
    grpc_call_details details;
    grpc_metadata_array md;
    grpc_byte_buffer *recv;
    grpc_byte_buffer *send;
    int cancelled;
};

static volatile sig_atomic_t s_stop;
static grpc_server *s_server;
static grpc_completion_queue *s_cq;
static grpc_slice s_reply;
static unsigned long long s_calls;

static void s_on_signal(int sig)
{
    (void)sig;
    s_stop = 1;
}

static void s_request(struct s_call *c)
{
    memset(c, 0, sizeof(*c));
    grpc_call_details_init(&c->details);
    grpc_metadata_array_init(&c->md);
    if (grpc_server_request_call(s_server, &c->call, &c->details, &c->md, s_cq, s_cq, c) !=
        GRPC_CALL_OK)
        abort();
}

static void s_release(struct s_call *c)
{
    grpc_call_details_destroy(&c->details);
    grpc_metadata_array_destroy(&c->md);
    if (c->recv)
        grpc_byte_buffer_destroy(c->recv);
    if (c->send)
        grpc_byte_buffer_destroy(c->send);
    if (c->call)
        grpc_call_unref(c->call);
}

/* One batch: read the request, send metadata + reply + OK status. */
static void s_answer(struct s_call *c)
{
    grpc_op ops[5];
    memset(ops, 0, sizeof(ops));
    c->send = grpc_raw_byte_buffer_create(&s_reply, 1);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_RECV_MESSAGE;
    ops[1].data.recv_message.recv_message = &c->recv;
    ops[2].op = GRPC_OP_SEND_MESSAGE;
    ops[2].data.send_message.send_message = c->send;
    ops[3].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    ops[3].data.send_status_from_server.status = GRPC_STATUS_OK;
    grpc_slice details = grpc_empty_slice();
    ops[3].data.send_status_from_server.status_details = &details;
    ops[4].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    ops[4].data.recv_close_on_server.cancelled = &c->cancelled;
    c->state = 1;
    if (grpc_call_start_batch(c->call, ops, 5, c, NULL) != GRPC_CALL_OK)
        abort();
}

int main(int argc, char **argv)
{
    const char *listen = "127.0.0.1:0", *reply = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--listen") == 0)
            listen = argv[i + 1];
        else if (strcmp(argv[i], "--reply") == 0)
            reply = argv[i + 1];
    }
    if (!reply) {
        fprintf(stderr, "usage: grpc_baseline --listen HOST:PORT --reply FILE\n");
        return 2;
    }
    FILE *f = fopen(reply, "rb");
    if (!f) {
        perror(reply);
        return 1;
    }
    static char data[1 << 20];
    size_t n = fread(data, 1, sizeof(data), f);
    fclose(f);
    signal(SIGTERM, s_on_signal);
    signal(SIGINT, s_on_signal);
    grpc_init();
    s_reply = grpc_slice_from_copied_buffer(data, n);
    s_cq = grpc_completion_queue_create_for_next(NULL);
    s_server = grpc_server_create(NULL, NULL);
    grpc_server_register_completion_queue(s_server, s_cq, NULL);
    grpc_server_credentials *creds = grpc_insecure_server_credentials_create();
    int port = grpc_server_add_http2_port(s_server, listen, creds);
    grpc_server_credentials_release(creds);
    if (port <= 0) {
        fprintf(stderr, "cannot listen on %s\n", listen);
        return 1;
    }
    grpc_server_start(s_server);
    struct s_call *calls = calloc(S_PENDING, sizeof(*calls));
    for (int i = 0; i < S_PENDING; i++)
        s_request(&calls[i]);
    printf("{\"event\":\"ready\",\"port\":%d}\n", port);
    fflush(stdout);
    while (!s_stop) {
        grpc_event ev = grpc_completion_queue_next(
            s_cq,
            gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(200, GPR_TIMESPAN)),
            NULL);
        if (ev.type != GRPC_OP_COMPLETE)
            continue;
        struct s_call *c = ev.tag;
        if (c->state == 0) {
            if (!ev.success)
                continue;
            s_answer(c);
        } else {
            if (ev.success && !c->cancelled)
                s_calls++;
            s_release(c);
            s_request(c);
        }
    }
    printf("{\"event\":\"stopped\",\"calls\":%llu,\"reply_bytes\":%zu}\n", s_calls, n);
    fflush(stdout);
    grpc_server_shutdown_and_notify(s_server, s_cq, NULL);
    grpc_server_cancel_all_calls(s_server);
    for (;;) {
        grpc_event ev = grpc_completion_queue_next(
            s_cq,
            gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(500, GPR_TIMESPAN)),
            NULL);
        if (ev.type != GRPC_OP_COMPLETE || ev.tag == NULL)
            break;
    }
    _exit(0); /* the benchmark only needs the counter; skip the slow teardown */
}
