/*
 * page_codec - a compact binary form of an upstream page (jobs_response),
 * I/O-free: what the shared cache tier stores. Not a wire format for
 * anyone else; fleet.c wraps it in a versioned, authenticated envelope.
 *
 *   u32 n, then n summaries, then the next token:
 *   summary = str arn, str name, u8 status, u8 flags (bit 0..4: last
 *             modified, creation, end time, imported model arn, name),
 *             the times present (i64 seconds, i32 nanos), the strings present
 *   str     = u32 length, bytes (no NUL)
 *   token   = u8 present, str when present
 *
 * Integers little-endian. Decoding checks every length, flag and nanosecond
 * and refuses trailing bytes, so any input is safe to hand it, and what
 * decodes re-encodes to the same bytes.
 */
#ifndef BGW_PAGE_CODEC_H
#define BGW_PAGE_CODEC_H

#include <stddef.h>

#include "buf.h"
#include "jobs.h"

#define PAGE_CODEC_MAX_ROWS 100000

/* Appends the encoding of p to out. 0 or -1 (out of memory). */
int page_codec_encode(const struct jobs_response *p, struct buf *out);
/* 0 with *out filled (clean up with jobs_response_clean_up), or -1 (the
 * input is malformed or memory ran out; *out is left empty). */
int page_codec_decode(const void *data, size_t len, struct jobs_response *out);

#endif
