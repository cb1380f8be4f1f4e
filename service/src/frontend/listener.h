/*
 * listener - a listening TCP socket on the loop that survives floods.
 *
 * Accepts connections and hands each descriptor (TCP_NODELAY set, non-
 * blocking, close-on-exec) to the owner. Guards, all on the loop:
 * - max_connections: beyond it a connection is accepted and closed at once
 *   (the backlog never fills up behind a full server);
 * - a descriptor reserve: once the process holds all but LISTENER_FD_RESERVE
 *   of its descriptor limit (or half of a small limit), accepting pauses
 *   until descriptors are freed, so upstream calls and logs still get one;
 * - an accept error (EMFILE, ENFILE, ENOMEM...) pauses accepting for
 *   LISTENER_PAUSE_MS and then tries again: a listener is never left dead.
 * Each refusal is counted; a "<name>_connections_shed" warning is logged at
 * most every few seconds. listener_accepting() is false while paused by
 * errors or the reserve (readiness reports it).
 */
#ifndef BGW_LISTENER_H
#define BGW_LISTENER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "buf.h"

#define LISTENER_FD_RESERVE 512
#define LISTENER_PAUSE_MS 100

struct event_base;
struct listener;

/* fd is the owner's from now on; peer is the remote address. The owner
 * calls listener_closed() when that connection is gone. */
typedef void (*listener_accept_fn)(void *arg, int fd, const struct sockaddr *peer,
                                   socklen_t peer_len);

struct listener_options {
    struct event_base *base;
    const char *host;       /* "" or NULL = all addresses */
    int port;               /* 0 = pick one */
    const char *name;       /* "http", "grpc": names the shed log event */
    size_t max_connections; /* 0 = no limit but the descriptor reserve */
    listener_accept_fn on_accept;
    void *arg;
    /* Listening, but not accepting until listener_start: connections wait
     * in the kernel's backlog (the gateway opens for calls only once it
     * can answer them: first credentials). */
    bool start_paused;
};

/* NULL with the reason (address, errno text) in err. */
struct listener *listener_new(const struct listener_options *o, struct buf *err);
int listener_port(const struct listener *l);
/* Starts accepting (a listener created with start_paused). */
void listener_start(struct listener *l);
/* One connection this listener handed out has closed. */
void listener_closed(struct listener *l);
size_t listener_open(const struct listener *l);
uint64_t listener_shed(const struct listener *l);
/* False while accepting is paused by an accept error or the descriptor
 * reserve, and after listener_stop. */
bool listener_accepting(const struct listener *l);
/* Closes the listening socket; the counters stay. */
void listener_stop(struct listener *l);
void listener_free(struct listener *l);

#endif
