/*
 * access_log - the per-call audit line ("event":"access"), formatted
 * straight into a buffer the caller reuses (no jansson objects: building
 * and serializing them cost about a quarter of a cached hit).
 *
 * Fields, in this order (optional ones only when they apply):
 *   request_id, transport, tenant, peer, params{creationTimeAfter,
 *   creationTimeBefore, statusEquals, nameContains, maxResults,
 *   nextTokenLength, sortBy, sortOrder}, code, grpc_code, http_status,
 *   latency_ms, upstream_calls, filters{creationTimeAfter,
 *   creationTimeBefore, statusEquals, nameContains, sortBy, sortOrder,
 *   pageSize}, policy_empty, upstream_status, upstream_ms, auth, items,
 *   more, cache, view, error
 * Never keys, tokens (the client's nextToken only by length) or
 * credentials. Strings are escaped like every log line (log.h); a string
 * that is not valid UTF-8 is left out (nameContains, error) or, for the
 * identity fields, the line is not written, exactly as the jansson-built
 * line before it did. Loop thread (or any single thread per buffer).
 */
#ifndef BGW_ACCESS_LOG_H
#define BGW_ACCESS_LOG_H

#include <stdint.h>

#include "buf.h"
#include "handler.h"

/* Appends the line's fields (",\"request_id\":...", no braces) to b.
 * a: handler_audit(c). 0; 1 when the line must not be written (an identity
 * field is not UTF-8); -1 when b is full. */
int access_log_append_fields(struct buf *b, const struct handler_call *c,
                             const struct handler_audit *a, const struct jobs_response *resp,
                             const struct bgw_error *err, int64_t latency_ms);

/* Writes c's access line (level warn for INTERNAL errors, info otherwise),
 * using scratch as the line buffer (kept between calls). */
void access_log_write(struct buf *scratch, const struct handler_call *c,
                      const struct jobs_response *resp, const struct bgw_error *err,
                      int64_t latency_ms);

/* Batched lines, for a caller that answers calls back to back: the line
 * goes to pending, which is written (access_log_flush) once it holds
 * ACCESS_LOG_QUEUE_BYTES; the caller flushes it whenever it is about to
 * wait, so a line is never held while idle. One write per batch instead of
 * one per call. */
#define ACCESS_LOG_QUEUE_BYTES 16384
void access_log_queue(struct buf *scratch, struct buf *pending, const struct handler_call *c,
                      const struct jobs_response *resp, const struct bgw_error *err,
                      int64_t latency_ms);
void access_log_flush(struct buf *pending);

#endif
