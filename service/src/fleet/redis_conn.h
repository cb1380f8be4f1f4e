/*
 * redis_conn - one pipelined connection to Redis on the loop: RESP commands
 * out, replies parsed by hiredis's reader (hiredis/read.h) in, over the
 * project's own libevent transport (TCP, a unix socket, or TLS through
 * bufferevent_openssl, which Debian's hiredis 0.14 lacks).
 *
 * Every command gets an answer within timeout_ms or its callback says
 * REDIS_CMD_TIMEOUT (its late reply is read and dropped). Replies come in
 * order, so a timed-out command stays queued until its reply is read; when
 * the oldest command has waited far longer than the timeout (Redis stopped,
 * a dead link), the connection is closed and made again.
 *
 * States: connecting (a handshake of AUTH, SELECT and PING) -> up -> down
 * (reconnecting with backoff, 100 ms doubling to 5 s, jittered). Only when
 * up are commands accepted; the owner hears of every change between up and
 * down once, with a reason that never holds the password.
 *
 * Loop thread only. Callbacks are never called from inside
 * redis_conn_send.
 */
#ifndef BGW_REDIS_CONN_H
#define BGW_REDIS_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "redis_url.h"

struct event_base;
struct redisReply;
struct redis_conn;
struct redis_cmd;

enum redis_outcome {
    REDIS_CMD_OK = 0,  /* a reply (not an error reply) */
    REDIS_CMD_ERR,     /* Redis answered with an error (the reply says which) */
    REDIS_CMD_TIMEOUT, /* no reply within timeout_ms */
    REDIS_CMD_DOWN,    /* the connection was lost with the command pending */
    REDIS_CMD_OUTCOME_COUNT
};
const char *redis_outcome_str(enum redis_outcome o);

/* reply is valid during the call only; NULL for TIMEOUT and DOWN. */
typedef void (*redis_cb)(void *arg, enum redis_outcome o, const struct redisReply *reply);

#define REDIS_LATENCY_BUCKETS 10
extern const double redis_latency_bounds_s[REDIS_LATENCY_BUCKETS];

struct redis_stats {
    uint64_t outcomes[REDIS_CMD_OUTCOME_COUNT];
    uint64_t refused; /* commands not sent: the connection was not up */
    /* latency of answered commands (OK and REPLY_ERR) */
    uint64_t latency_le[REDIS_LATENCY_BUCKETS]; /* cumulative */
    uint64_t latency_count;
    double latency_sum_s;
    uint64_t connects; /* handshakes completed */
};

struct redis_conn_options {
    struct event_base *base;
    const struct redis_url *url;
    const char *password; /* NULL: the URL's (if any) */
    const char *ca_file;  /* rediss: NULL or "" = the system CAs */
    int64_t timeout_ms;   /* per command */
    int64_t connect_timeout_ms;
    /* Called on every change between up and down. */
    void (*on_state)(void *arg, bool up, const char *reason);
    void *state_arg;
};

/* Starts connecting at once. NULL on a setup failure (why says it: TLS
 * context, memory). */
struct redis_conn *redis_conn_new(const struct redis_conn_options *o, char *why, size_t why_len);
/* Closes; pending callbacks are not called. */
void redis_conn_destroy(struct redis_conn *rc);

bool redis_conn_up(const struct redis_conn *rc);
const struct redis_stats *redis_conn_stats(const struct redis_conn *rc);

/* Sends a command (argv[i] of lens[i] bytes). NULL when the connection is
 * not up or too much is pending: cb is then not called. */
struct redis_cmd *redis_conn_send(struct redis_conn *rc, int argc, const char *const *argv,
                                  const size_t *lens, redis_cb cb, void *arg);
/* The callback will not be called (the reply is still read and dropped). */
void redis_cmd_cancel(struct redis_cmd *cmd);

#endif
