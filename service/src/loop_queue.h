/*
 * loop_queue - the hand-off from other threads (the gRPC completion-queue
 * thread) to the loop thread: a bounded FIFO of pointers plus an eventfd
 * wakeup registered on the loop's event_base. Ownership of an item moves
 * with it: the pusher gives it up on success, the loop's callback receives
 * it. The only lock guards the ring itself; the callback runs on the loop
 * thread without it.
 */
#ifndef BGW_LOOP_QUEUE_H
#define BGW_LOOP_QUEUE_H

#include <stddef.h>

struct event_base;
struct loop_queue;

/* Runs on the loop thread, once per item, in push order. */
typedef void (*loop_queue_fn)(void *item, void *arg);

struct loop_queue *loop_queue_new(struct event_base *base, size_t max_items, loop_queue_fn fn,
                                  void *arg);
/* Any thread. 0 = queued (ownership moved); -1 = full or closed (the caller
 * keeps the item and must answer it itself). */
int loop_queue_push(struct loop_queue *q, void *item);
/* Any thread: later pushes fail. */
void loop_queue_close(struct loop_queue *q);
/* Loop thread, after every pusher has stopped. Items still queued are handed
 * to fn first, so nothing is silently dropped. */
void loop_queue_destroy(struct loop_queue *q);

#endif
