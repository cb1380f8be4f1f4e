/*
 * loop_queue - bounded cross-thread FIFO with an eventfd wakeup.
 * See loop_queue.h.
 */
#include "loop_queue.h"

#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct loop_queue {
    pthread_mutex_t lock;
    void **ring;
    size_t cap, head, count;
    bool closed;
    int efd;
    struct event *ev;
    loop_queue_fn fn;
    void *arg;
};

static void *s_pop(struct loop_queue *q)
{
    void *item = NULL;
    pthread_mutex_lock(&q->lock);
    if (q->count > 0) {
        item = q->ring[q->head];
        q->head = (q->head + 1) % q->cap;
        q->count--;
    }
    pthread_mutex_unlock(&q->lock);
    return item;
}

static void s_drain(struct loop_queue *q, size_t max)
{
    for (size_t i = 0; i < max; i++) {
        void *item = s_pop(q);
        if (!item)
            return;
        q->fn(item, q->arg);
    }
}

static void s_on_wakeup(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct loop_queue *q = arg;
    uint64_t v;
    while (read(fd, &v, sizeof(v)) < 0 && errno == EINTR) {
    }
    /* Items pushed after this point write the eventfd again, so taking only
     * what is there now cannot lose a wakeup; the cap keeps one busy
     * producer from starving the loop's other events. */
    pthread_mutex_lock(&q->lock);
    size_t n = q->count;
    pthread_mutex_unlock(&q->lock);
    s_drain(q, n);
}

struct loop_queue *loop_queue_new(struct event_base *base, size_t max_items, loop_queue_fn fn,
                                  void *arg)
{
    struct loop_queue *q = calloc(1, sizeof(*q));
    if (!q)
        return NULL;
    q->efd = -1;
    q->cap = max_items ? max_items : 1;
    q->ring = calloc(q->cap, sizeof(void *));
    q->fn = fn;
    q->arg = arg;
    pthread_mutex_init(&q->lock, NULL);
    if (!q->ring)
        goto fail;
    q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (q->efd < 0)
        goto fail;
    q->ev = event_new(base, q->efd, EV_READ | EV_PERSIST, s_on_wakeup, q);
    if (!q->ev || event_add(q->ev, NULL) != 0)
        goto fail;
    return q;
fail:
    if (q->ev)
        event_free(q->ev);
    if (q->efd >= 0)
        close(q->efd);
    pthread_mutex_destroy(&q->lock);
    free(q->ring);
    free(q);
    return NULL;
}

int loop_queue_push(struct loop_queue *q, void *item)
{
    pthread_mutex_lock(&q->lock);
    if (q->closed || q->count == q->cap) {
        pthread_mutex_unlock(&q->lock);
        return -1;
    }
    q->ring[(q->head + q->count) % q->cap] = item;
    q->count++;
    pthread_mutex_unlock(&q->lock);
    uint64_t one = 1;
    while (write(q->efd, &one, sizeof(one)) < 0 && errno == EINTR) {
    }
    return 0;
}

void loop_queue_close(struct loop_queue *q)
{
    pthread_mutex_lock(&q->lock);
    q->closed = true;
    pthread_mutex_unlock(&q->lock);
}

void loop_queue_destroy(struct loop_queue *q)
{
    if (!q)
        return;
    loop_queue_close(q);
    s_drain(q, SIZE_MAX);
    event_free(q->ev);
    close(q->efd);
    pthread_mutex_destroy(&q->lock);
    free(q->ring);
    free(q);
}
