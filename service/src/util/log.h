/*
 * log - one JSON object per line on stderr (the gateway's access and event
 * log). Loop thread only (the gateway has one thread); whole lines go out
 * in one fwrite and a flush. Callers must never pass secrets (keys, tokens, signatures):
 * the log carries only ids, counts and outcomes.
 */
#ifndef BGW_LOG_H
#define BGW_LOG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct buf;

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level min_level);
int log_level_parse(const char *s, enum log_level *out); /* "debug".."error"; 0/-1 */

/* Writes {"ts":...,"level":...,"event":event, ...fields}. Steals fields
 * (may be NULL). */
void log_event(enum log_level level, const char *event, json_t *fields);

/* log_event for events a fault can repeat per request (refresh failures,
 * retry quota, upstream transport errors): at most LOG_LIMIT_BURST lines
 * of one event name per LOG_LIMIT_WINDOW_MS; the others are counted, and
 * the next line written carries "suppressed": how many were dropped since
 * the previous one. */
#define LOG_LIMIT_BURST 5
#define LOG_LIMIT_WINDOW_MS 10000
void log_event_limited(enum log_level level, const char *event, json_t *fields);
/* The window above (tests shorten it). */
void log_set_limit_window_ms(int64_t ms);

/* For hot paths (the access line): the caller formats the fields itself
 * into a buffer it reuses, with the same serializer log_event uses.
 *   if (log_enabled(lvl) && log_line_begin(b, lvl, "access") == 0) {
 *       ... buf_append(b, ",\"key\":", ...); log_put_str(b, s, n); ...
 *       log_line_write(b);
 *   }
 * log_line_begin resets b and writes {"ts":...,"level":...,"event":...;
 * log_line_write closes the object and writes the line (one fwrite). Each returns/acts like
 * log_event: 0, or -1 when b is full. */
bool log_enabled(enum log_level level);
int log_line_begin(struct buf *b, enum log_level level, const char *event);
void log_line_write(struct buf *b);
/* log_line_write in two steps, for a caller that batches lines: close the
 * line (0, or -1 when b is full), and write whole lines (one fwrite, then a
 * flush). */
int log_line_end(struct buf *b);
void log_write_lines(const char *data, size_t len);
/* A JSON string (quotes included, escaped as every log line is), an integer. */
int log_put_str(struct buf *b, const char *s, size_t n);
int log_put_int(struct buf *b, long long v);
/* What log_event writes for fields' members (",\"k\":v" each). */
int log_append_fields(struct buf *b, json_t *fields);

/* Convenience: {"event":event,"msg":<formatted>} */
void log_msg(enum log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
