/*
 * listener - see listener.h.
 */
#include "listener.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "clock.h"
#include "log.h"

#define S_SHED_LOG_EVERY_MS 5000

struct listener {
    struct event_base *base;
    struct evconnlistener *ev;
    struct event *resume;
    char name[16];
    size_t max_connections;
    size_t open;
    listener_accept_fn on_accept;
    void *arg;
    int port;
    int max_fd; /* the highest descriptor accepting may leave in use */
    bool paused;
    bool started;
    uint64_t shed;
    int64_t last_shed_log_ms;
};

static void s_log_shed(struct listener *l, const char *why)
{
    int64_t now = clock_mono_ms();
    if (l->last_shed_log_ms && now - l->last_shed_log_ms < S_SHED_LOG_EVERY_MS)
        return;
    l->last_shed_log_ms = now;
    char event[48];
    snprintf(event, sizeof(event), "%s_connections_shed", l->name);
    log_event(LOG_WARN, event,
              json_pack("{s:s,s:I,s:I}", "reason", why, "shed_total", (json_int_t)l->shed, "open",
                        (json_int_t)l->open));
}

/* Descriptors are handed out lowest first, so "descriptor max_fd is open"
 * means at least max_fd + 1 are in use. */
static bool s_reserve_reached(const struct listener *l)
{
    return fcntl(l->max_fd, F_GETFD) != -1;
}

static void s_pause(struct listener *l, const char *why)
{
    if (l->ev)
        evconnlistener_disable(l->ev);
    l->paused = true;
    l->shed++;
    s_log_shed(l, why);
    struct timeval tv = {0, LISTENER_PAUSE_MS * 1000};
    evtimer_add(l->resume, &tv);
}

static void s_on_resume(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct listener *l = arg;
    if (!l->ev || !l->started)
        return;
    if (s_reserve_reached(l)) {
        struct timeval tv = {0, LISTENER_PAUSE_MS * 1000};
        evtimer_add(l->resume, &tv);
        return;
    }
    l->paused = false;
    evconnlistener_enable(l->ev);
}

static void s_on_error(struct evconnlistener *ev, void *arg)
{
    (void)ev;
    struct listener *l = arg;
    int e = EVUTIL_SOCKET_ERROR();
    s_pause(l, e == EMFILE || e == ENFILE ? "out of descriptors" : "accept failed");
}

static void s_on_accept(struct evconnlistener *ev, evutil_socket_t fd, struct sockaddr *sa,
                        int salen, void *arg)
{
    (void)ev;
    struct listener *l = arg;
    if (l->max_connections && l->open >= l->max_connections) {
        evutil_closesocket(fd);
        l->shed++;
        s_log_shed(l, "max_connections reached");
        return;
    }
    /* At the reserve line this connection is still served; the next ones
     * wait until descriptors are freed. */
    if (s_reserve_reached(l))
        s_pause(l, "descriptor reserve reached");
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    l->open++;
    l->on_accept(l->arg, fd, sa, (socklen_t)salen);
}

static int s_max_fd(void)
{
    struct rlimit rl;
    rlim_t limit = 1024;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        limit = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (1u << 24) ? (1u << 24) : rl.rlim_cur;
    return limit > 2 * LISTENER_FD_RESERVE ? (int)(limit - LISTENER_FD_RESERVE) : (int)(limit / 2);
}

struct listener *listener_new(const struct listener_options *o, struct buf *err)
{
    struct evutil_addrinfo *ai = NULL;
    struct listener *l = calloc(1, sizeof(*l));
    if (!l) {
        buf_append_str(err, "out of memory");
        return NULL;
    }
    l->base = o->base;
    snprintf(l->name, sizeof(l->name), "%s", o->name ? o->name : "listener");
    l->max_connections = o->max_connections;
    l->on_accept = o->on_accept;
    l->arg = o->arg;
    l->max_fd = s_max_fd();
    struct evutil_addrinfo hints;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    hints.ai_flags = EVUTIL_AI_PASSIVE | EVUTIL_AI_ADDRCONFIG;
    char port[16];
    snprintf(port, sizeof(port), "%d", o->port);
    const char *host = o->host && o->host[0] ? o->host : NULL;
    if (evutil_getaddrinfo(host, port, &hints, &ai) != 0 || !ai) {
        buf_appendf(err, "cannot resolve %s", host ? host : "");
        goto fail;
    }
    l->started = !o->start_paused;
    l->ev =
        evconnlistener_new_bind(l->base, s_on_accept, l,
                                LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC |
                                    (o->start_paused ? LEV_OPT_DISABLED : 0),
                                -1, ai->ai_addr, (int)ai->ai_addrlen);
    if (!l->ev) {
        buf_appendf(err, "cannot listen on %s:%d: %s", host ? host : "*", o->port, strerror(errno));
        goto fail;
    }
    evconnlistener_set_error_cb(l->ev, s_on_error);
    l->resume = evtimer_new(l->base, s_on_resume, l);
    if (!l->resume) {
        buf_append_str(err, "out of memory");
        goto fail;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (getsockname(evconnlistener_get_fd(l->ev), (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET)
            l->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        else if (ss.ss_family == AF_INET6)
            l->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    evutil_freeaddrinfo(ai);
    return l;
fail:
    if (ai)
        evutil_freeaddrinfo(ai);
    listener_free(l);
    return NULL;
}

int listener_port(const struct listener *l)
{
    return l->port;
}

void listener_start(struct listener *l)
{
    if (l->started || !l->ev)
        return;
    l->started = true;
    if (!l->paused)
        evconnlistener_enable(l->ev);
}

void listener_closed(struct listener *l)
{
    if (l->open > 0)
        l->open--;
}

size_t listener_open(const struct listener *l)
{
    return l->open;
}

uint64_t listener_shed(const struct listener *l)
{
    return l->shed;
}

bool listener_accepting(const struct listener *l)
{
    return l->ev && l->started && !l->paused;
}

void listener_stop(struct listener *l)
{
    if (l->ev) {
        evconnlistener_free(l->ev);
        l->ev = NULL;
    }
    if (l->resume)
        evtimer_del(l->resume);
}

void listener_free(struct listener *l)
{
    if (!l)
        return;
    listener_stop(l);
    if (l->resume)
        event_free(l->resume);
    free(l);
}
