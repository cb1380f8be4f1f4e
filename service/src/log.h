/*
 * log - one JSON object per line on stderr (the gateway's access and event
 * log). Safe from any thread: each line is written with one fwrite under
 * stdio's lock. Callers must never pass secrets (keys, tokens, signatures):
 * the log carries only ids, counts and outcomes.
 */
#ifndef BGW_LOG_H
#define BGW_LOG_H

#include <jansson.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level min_level);
int log_level_parse(const char *s, enum log_level *out); /* "debug".."error"; 0/-1 */

/* Writes {"ts":...,"level":...,"event":event, ...fields}. Steals fields
 * (may be NULL). */
void log_event(enum log_level level, const char *event, json_t *fields);

/* Convenience: {"event":event,"msg":<formatted>} */
void log_msg(enum log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
