/*
 * json_write - appends JSON text to a buf directly, without building a
 * document first: the hot answers (a page of jobs, in proto3 JSON or
 * Bedrock's JSON) are written with it. Strings are escaped exactly as
 * jansson's compact dump escapes them (", \, \b \f \n \r \t, other control
 * characters as \u00XX with upper-case hex; UTF-8 passed through), so the
 * bytes, and the ETags made from them, are what the jansson-built answers
 * were.
 */
#ifndef BGW_JSON_WRITE_H
#define BGW_JSON_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "timeutil.h"

/* Whether s[0..len) is well-formed UTF-8 (no overlong forms, surrogates or
 * code points past U+10FFFF): what jansson accepts as a string. */
bool json_write_utf8_ok(const char *s, size_t len);

/* cp's UTF-8 bytes into out (1 to 4; any cp below 2^21, well-formed or
 * not: callers check). Returns how many. */
size_t json_write_utf8_put(char out[4], uint32_t cp);

/* The end of a text written from start: rc 0 -> 0; else -1 with out cut
 * back to start (nothing half-written is left). */
int json_write_end(struct buf *out, size_t start, int rc);

/* "s[0..n)" escaped, as it is (no UTF-8 check: for text already known to
 * be well-formed, or logged as it came). Clean 8-byte chunks are skipped
 * whole. 0 or -1 (out of memory). */
int json_write_escaped(struct buf *b, const char *s, size_t n);

/* "s" escaped. -1 when s is not well-formed UTF-8 (nothing appended) or
 * out of memory. */
int json_write_string(struct buf *b, const char *s);

/* "key": (the key is written as is: callers pass literals). */
int json_write_key(struct buf *b, const char *key);

/* Object members: `"key":value`, preceded by ',' unless *first (which is
 * then cleared). A NULL string writes nothing; so does an empty one when
 * omit_empty (proto3 JSON leaves default-valued strings out). A time is
 * RFC 3339 UTC, written only when has. 0, or -1 (bad UTF-8, a time out of
 * range, out of memory). */
int json_write_member_str(struct buf *b, bool *first, const char *key, const char *value,
                          bool omit_empty);
int json_write_member_time(struct buf *b, bool *first, const char *key, bool has,
                           struct bgw_time t);

#endif
