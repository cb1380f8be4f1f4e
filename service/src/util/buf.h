/*
 * buf - a growable byte buffer with a hard maximum.
 *
 * Every dynamically built string in the gateway (canonical requests, JSON,
 * URLs, upstream bodies) goes through a buf so that no input can grow memory
 * without bound. The buffer is always NUL-terminated (data[len] == 0) once
 * anything has been appended. Owned by whoever called buf_init; no I/O.
 */
#ifndef BGW_BUF_H
#define BGW_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

struct buf {
    char *data;     /* NUL-terminated when len > 0 or after any append */
    size_t len;     /* bytes used, not counting the terminator */
    size_t cap;     /* bytes allocated */
    size_t max_len; /* hard limit on len; appends past it fail */
    int secret;     /* buf_init_secret: growth and clean-up wipe what they release */
};

/* Caller-owned storage; max_len 0 means BUF_DEFAULT_MAX. */
#define BUF_DEFAULT_MAX (16u * 1024u * 1024u)
void buf_init(struct buf *b, size_t max_len);
/* For secrets (tokens, credential replies, files holding keys): growing
 * moves the bytes to a new block and wipes the old one (no realloc leaving
 * a copy behind), and buf_clean_up wipes too. buf_detach hands the bytes
 * over: the new owner wipes them. */
void buf_init_secret(struct buf *b, size_t max_len);
void buf_clean_up(struct buf *b);
/* Wipes the contents (for secrets) and then frees. */
void buf_clean_up_secure(struct buf *b);
void buf_reset(struct buf *b);

/* Each returns 0 on success, -1 when memory runs out or max_len would be
 * exceeded (the buffer is left unchanged). */
int buf_append(struct buf *b, const void *data, size_t len);
int buf_append_str(struct buf *b, const char *s);
int buf_append_char(struct buf *b, char c);
/* The same, with the common case (room left) inlined: for the per-request
 * formatters (access line, cache keys), which append many short pieces. */
static inline int buf_append_fast(struct buf *b, const void *data, size_t len)
{
    if (len < b->cap - b->len && len <= b->max_len - b->len) {
        if (len)
            memcpy(b->data + b->len, data, len);
        b->len += len;
        b->data[b->len] = '\0';
        return 0;
    }
    return buf_append(b, data, len);
}
int buf_appendf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vappendf(struct buf *b, const char *fmt, va_list ap);

/* Hands the data to the caller (free() it) and leaves b empty. Never NULL
 * unless memory runs out: an empty buffer yields "". */
char *buf_detach(struct buf *b);

#endif
