/*
 * loop_queue_test - the cross-thread hand-off: items from several producer
 * threads all reach the callback exactly once, on the loop thread, in each
 * producer's order; the bound holds (a push into a full queue fails and the
 * caller keeps the item); close makes pushes fail; destroy hands what is
 * left to the callback. The loop is a real libevent event_base; a periodic
 * timer stops it once everything has arrived (or after a hard limit).
 */
#include <event2/event.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "loop_queue.h"
#include "test_util.h"

#define N_PRODUCERS 4
#define N_PER_PRODUCER 10000
#define QUEUE_BOUND 256
#define HARD_LIMIT_TICKS 3000 /* x 10 ms = 30 s */

struct item {
    int producer;
    int seq;
};

struct ctx {
    pthread_t loop_thread;
    struct event_base *base;
    struct loop_queue *q;
    int delivered;
    int wrong_thread;
    int out_of_order;
    int next_seq[N_PRODUCERS];
    unsigned char seen[N_PRODUCERS][N_PER_PRODUCER];
    int duplicates;
    int ticks;
    int full_pushes[N_PRODUCERS]; /* how often a producer found the queue full */
};

static void s_on_item(void *p, void *arg)
{
    struct ctx *c = arg;
    struct item *it = p;
    if (!pthread_equal(pthread_self(), c->loop_thread))
        c->wrong_thread++;
    if (it->producer < 0 || it->producer >= N_PRODUCERS || it->seq < 0 ||
        it->seq >= N_PER_PRODUCER) {
        c->out_of_order++;
        free(it);
        return;
    }
    if (c->seen[it->producer][it->seq]++)
        c->duplicates++;
    if (it->seq != c->next_seq[it->producer])
        c->out_of_order++;
    c->next_seq[it->producer] = it->seq + 1;
    c->delivered++;
    free(it);
}

struct producer {
    struct ctx *c;
    int id;
    int failed_alloc;
};

static void *s_produce(void *arg)
{
    struct producer *pr = arg;
    for (int i = 0; i < N_PER_PRODUCER; i++) {
        struct item *it = malloc(sizeof(*it));
        if (!it) {
            pr->failed_alloc++;
            return NULL;
        }
        it->producer = pr->id;
        it->seq = i;
        /* Full: the item is still ours; retry until the loop makes room. */
        while (loop_queue_push(pr->c->q, it) != 0) {
            pr->c->full_pushes[pr->id]++;
            sched_yield();
        }
    }
    return NULL;
}

static void s_on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct ctx *c = arg;
    c->ticks++;
    if (c->delivered == N_PRODUCERS * N_PER_PRODUCER || c->ticks >= HARD_LIMIT_TICKS)
        event_base_loopbreak(c->base);
}

static void test_many_producers(void)
{
    struct ctx *c = calloc(1, sizeof(*c));
    if (!CHECK(c != NULL))
        return;
    c->loop_thread = pthread_self();
    c->base = event_base_new();
    if (!CHECK(c->base != NULL)) {
        free(c);
        return;
    }
    c->q = loop_queue_new(c->base, QUEUE_BOUND, s_on_item, c);
    struct event *tick = event_new(c->base, -1, EV_PERSIST, s_on_tick, c);
    struct timeval tv = {0, 10 * 1000};
    if (!CHECK(c->q != NULL && tick != NULL && event_add(tick, &tv) == 0))
        goto cleanup;

    struct producer prs[N_PRODUCERS];
    pthread_t th[N_PRODUCERS];
    int started = 0;
    for (int i = 0; i < N_PRODUCERS; i++) {
        prs[i].c = c;
        prs[i].id = i;
        prs[i].failed_alloc = 0;
        if (!CHECK(pthread_create(&th[i], NULL, s_produce, &prs[i]) == 0))
            break;
        started++;
    }
    event_base_loop(c->base, 0);
    for (int i = 0; i < started; i++) {
        pthread_join(th[i], NULL);
        CHECK(prs[i].failed_alloc == 0);
    }

    if (!CHECK(c->delivered == N_PRODUCERS * N_PER_PRODUCER))
        fprintf(stderr, "  delivered %d of %d in %d ticks\n", c->delivered,
                N_PRODUCERS * N_PER_PRODUCER, c->ticks);
    CHECK(c->wrong_thread == 0);
    CHECK(c->out_of_order == 0);
    CHECK(c->duplicates == 0);
    int missing = 0;
    for (int p = 0; p < N_PRODUCERS; p++) {
        CHECK(c->next_seq[p] == N_PER_PRODUCER);
        for (int s = 0; s < N_PER_PRODUCER; s++)
            missing += c->seen[p][s] != 1;
    }
    CHECK(missing == 0);
    fprintf(stderr, "loop_queue_test: %d items, producers found the queue full %d/%d/%d/%d times\n",
            c->delivered, c->full_pushes[0], c->full_pushes[1], c->full_pushes[2],
            c->full_pushes[3]);

cleanup:
    if (tick)
        event_free(tick);
    loop_queue_destroy(c->q);
    event_base_free(c->base);
    free(c);
}

/* Single-threaded checks: items are small integers cast to pointers. */
struct record {
    uintptr_t got[64];
    int n;
    int wrong_thread;
    pthread_t thread;
};

static void s_record(void *item, void *arg)
{
    struct record *r = arg;
    if (!pthread_equal(pthread_self(), r->thread))
        r->wrong_thread++;
    if (r->n < 64)
        r->got[r->n] = (uintptr_t)item;
    r->n++;
}

#define ITEM(n) ((void *)(uintptr_t)(n))

static void test_bound(void)
{
    struct event_base *base = event_base_new();
    struct record r;
    memset(&r, 0, sizeof(r));
    r.thread = pthread_self();
    struct loop_queue *q = loop_queue_new(base, 4, s_record, &r);
    if (!CHECK(base && q)) {
        loop_queue_destroy(q);
        if (base)
            event_base_free(base);
        return;
    }
    for (uintptr_t i = 1; i <= 4; i++)
        CHECK(loop_queue_push(q, ITEM(i)) == 0);
    /* Full: refused, and nothing is delivered from the call itself. */
    CHECK(loop_queue_push(q, ITEM(5)) == -1);
    CHECK(loop_queue_push(q, ITEM(6)) == -1);
    CHECK(r.n == 0);

    /* Nothing runs until the loop does (callbacks are asynchronous). */
    event_base_loop(base, EVLOOP_NONBLOCK);
    CHECK(r.n == 4);
    CHECK(r.got[0] == 1 && r.got[1] == 2 && r.got[2] == 3 && r.got[3] == 4);

    /* Room again; and around the ring a few times, in order. */
    uintptr_t next = 10;
    uintptr_t expect = 10;
    for (int round = 0; round < 5; round++) {
        r.n = 0;
        int pushed = 0;
        for (int k = 0; k < 3; k++)
            pushed += loop_queue_push(q, ITEM(next++)) == 0;
        CHECK(pushed == 3);
        event_base_loop(base, EVLOOP_NONBLOCK);
        CHECK(r.n == 3);
        for (int k = 0; k < 3 && k < r.n; k++)
            CHECK(r.got[k] == expect++);
    }
    CHECK(r.wrong_thread == 0);
    loop_queue_destroy(q);
    event_base_free(base);

    /* A bound of 0 still holds one item. */
    base = event_base_new();
    memset(&r, 0, sizeof(r));
    r.thread = pthread_self();
    q = loop_queue_new(base, 0, s_record, &r);
    if (CHECK(base && q)) {
        CHECK(loop_queue_push(q, ITEM(1)) == 0);
        CHECK(loop_queue_push(q, ITEM(2)) == -1);
        loop_queue_destroy(q);
        CHECK(r.n == 1 && r.got[0] == 1);
    }
    if (base)
        event_base_free(base);
}

static void test_close_and_destroy(void)
{
    struct event_base *base = event_base_new();
    struct record r;
    memset(&r, 0, sizeof(r));
    r.thread = pthread_self();
    struct loop_queue *q = loop_queue_new(base, 8, s_record, &r);
    if (!CHECK(base && q)) {
        loop_queue_destroy(q);
        if (base)
            event_base_free(base);
        return;
    }
    CHECK(loop_queue_push(q, ITEM(1)) == 0);
    CHECK(loop_queue_push(q, ITEM(2)) == 0);
    CHECK(loop_queue_push(q, ITEM(3)) == 0);
    loop_queue_close(q);
    CHECK(loop_queue_push(q, ITEM(4)) == -1);
    loop_queue_close(q); /* idempotent */
    CHECK(loop_queue_push(q, ITEM(5)) == -1);

    /* Items queued before the close are still delivered by the loop... */
    r.n = 0;
    event_base_loop(base, EVLOOP_NONBLOCK);
    CHECK(r.n == 3);
    CHECK(r.got[0] == 1 && r.got[1] == 2 && r.got[2] == 3);
    loop_queue_destroy(q);
    CHECK(r.n == 3);
    event_base_free(base);

    /* ... or, if the loop never ran, by destroy, in order. */
    base = event_base_new();
    memset(&r, 0, sizeof(r));
    r.thread = pthread_self();
    q = loop_queue_new(base, 8, s_record, &r);
    if (CHECK(base && q)) {
        for (uintptr_t i = 1; i <= 5; i++)
            CHECK(loop_queue_push(q, ITEM(i)) == 0);
        CHECK(r.n == 0);
        loop_queue_destroy(q);
        CHECK(r.n == 5);
        for (int k = 0; k < 5; k++)
            CHECK(r.got[k] == (uintptr_t)k + 1);
    }
    if (base)
        event_base_free(base);

    loop_queue_destroy(NULL);
}

int main(void)
{
    test_bound();
    test_close_and_destroy();
    test_many_producers();
    return TEST_EXIT();
}
