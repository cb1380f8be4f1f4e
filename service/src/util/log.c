/*
 * log - JSON-lines event log on stderr. See log.h.
 */
#include "log.h"

#include "buf.h"
#include "json_write.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static enum log_level s_min_level = LOG_INFO;
static const char *const s_names[] = {"debug", "info", "warn", "error"};

void log_set_level(enum log_level min_level)
{
    s_min_level = min_level;
}

int log_level_parse(const char *s, enum log_level *out)
{
    for (int i = 0; i <= LOG_ERROR; i++) {
        if (strcmp(s, s_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

/* A JSON line is serialized here rather than with json_dumps: the access log
 * writes one per request, and jansson's generic dumper (sorting hash order,
 * snprintf per number) cost about a third of a cached REST hit. Output is
 * the same compact JSON, fields in insertion order. */
#define S_LINE_MAX (1u << 20)

static int s_put_str(struct buf *b, const char *s, size_t n)
{
    return json_write_escaped(b, s, n);
}

static int s_put_int(struct buf *b, json_int_t v)
{
    char tmp[24];
    char *p = tmp + sizeof(tmp);
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    return buf_append_fast(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

static int s_put(struct buf *b, json_t *v, int depth)
{
    if (depth > 16)
        return buf_append_str(b, "null");
    switch (json_typeof(v)) {
    case JSON_STRING:
        return s_put_str(b, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        return s_put_int(b, json_integer_value(v));
    case JSON_TRUE:
        return buf_append_str(b, "true");
    case JSON_FALSE:
        return buf_append_str(b, "false");
    case JSON_REAL: {
        char *t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        int rc = buf_append_str(b, t ? t : "null");
        free(t);
        return rc;
    }
    case JSON_ARRAY: {
        if (buf_append_char(b, '[') != 0)
            return -1;
        for (size_t i = 0; i < json_array_size(v); i++) {
            if ((i && buf_append_char(b, ',') != 0) ||
                s_put(b, json_array_get(v, i), depth + 1) != 0)
                return -1;
        }
        return buf_append_char(b, ']');
    }
    case JSON_OBJECT: {
        if (buf_append_char(b, '{') != 0)
            return -1;
        const char *k;
        json_t *x;
        int first = 1;
        json_object_foreach(v, k, x)
        {
            if ((!first && buf_append_char(b, ',') != 0) || s_put_str(b, k, strlen(k)) != 0 ||
                buf_append_char(b, ':') != 0 || s_put(b, x, depth + 1) != 0)
                return -1;
            first = 0;
        }
        return buf_append_char(b, '}');
    }
    default:
        return buf_append_str(b, "null");
    }
}

bool log_enabled(enum log_level level)
{
    return level >= s_min_level;
}

int log_put_str(struct buf *b, const char *s, size_t n)
{
    return s_put_str(b, s, n);
}

int log_put_int(struct buf *b, long long v)
{
    return s_put_int(b, (json_int_t)v);
}

int log_append_fields(struct buf *b, json_t *fields)
{
    int bad = 0;
    if (fields && json_is_object(fields)) {
        const char *k;
        json_t *x;
        json_object_foreach(fields, k, x)
        {
            if (!strcmp(k, "ts") || !strcmp(k, "level") || !strcmp(k, "event"))
                continue;
            bad |= buf_append_char(b, ',') | s_put_str(b, k, strlen(k)) | buf_append_char(b, ':') |
                   s_put(b, x, 0);
        }
    }
    return bad ? -1 : 0;
}

int log_line_begin(struct buf *b, enum log_level level, const char *event)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    /* The calendar part changes once a second: keep it per thread. */
    static time_t last_s = -1;
    static char day_time[64];
    if (ts.tv_sec != last_s) {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        snprintf(day_time, sizeof(day_time), "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        last_s = ts.tv_sec;
    }
    long ms = ts.tv_nsec / 1000000;
    char when[80];
    size_t dl = strlen(day_time);
    memcpy(when, day_time, dl);
    when[dl] = '.';
    when[dl + 1] = (char)('0' + ms / 100);
    when[dl + 2] = (char)('0' + ms / 10 % 10);
    when[dl + 3] = (char)('0' + ms % 10);
    when[dl + 4] = 'Z';
    when[dl + 5] = '\0';
    buf_reset(b);
    int bad = buf_append_fast(b, "{\"ts\":", 6) | s_put_str(b, when, dl + 5) |
              buf_append_fast(b, ",\"level\":", 9) |
              s_put_str(b, s_names[level], strlen(s_names[level])) |
              buf_append_fast(b, ",\"event\":", 9) | s_put_str(b, event, strlen(event));
    return bad ? -1 : 0;
}

int log_line_end(struct buf *b)
{
    return buf_append_fast(b, "}\n", 2);
}

void log_write_lines(const char *data, size_t len)
{
    fwrite(data, 1, len, stderr); /* whole lines: one write of the batch */
    fflush(stderr);
}

void log_line_write(struct buf *b)
{
    if (log_line_end(b) == 0)
        log_write_lines(b->data, b->len);
}

void log_event(enum log_level level, const char *event, json_t *fields)
{
    if (level < s_min_level) {
        json_decref(fields);
        return;
    }
    struct buf b;
    buf_init(&b, S_LINE_MAX);
    int bad = log_line_begin(&b, level, event) | log_append_fields(&b, fields);
    json_decref(fields);
    if (!bad)
        log_line_write(&b);
    buf_clean_up(&b);
}

#define S_LIMIT_SLOTS 32

struct s_limit {
    const char *event;
    int64_t window_ms;
    int n;
    uint64_t suppressed;
};

static struct s_limit s_limits[S_LIMIT_SLOTS];
static int64_t s_limit_window_ms = LOG_LIMIT_WINDOW_MS;

void log_set_limit_window_ms(int64_t ms)
{
    s_limit_window_ms = ms > 0 ? ms : LOG_LIMIT_WINDOW_MS;
}

static int64_t s_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void log_event_limited(enum log_level level, const char *event, json_t *fields)
{
    if (level < s_min_level) {
        json_decref(fields);
        return;
    }
    struct s_limit *l = NULL;
    for (size_t i = 0; i < S_LIMIT_SLOTS && !l; i++) {
        if (!s_limits[i].event || strcmp(s_limits[i].event, event) == 0)
            l = &s_limits[i];
    }
    if (!l) { /* more event names than slots: no limiting */
        log_event(level, event, fields);
        return;
    }
    l->event = event;
    int64_t now = s_mono_ms();
    if (now - l->window_ms >= s_limit_window_ms) {
        l->window_ms = now;
        l->n = 0;
    }
    if (l->n >= LOG_LIMIT_BURST) {
        l->suppressed++;
        json_decref(fields);
        return;
    }
    l->n++;
    if (l->suppressed) {
        if (!fields)
            fields = json_object();
        if (fields)
            json_object_set_new(fields, "suppressed", json_integer((json_int_t)l->suppressed));
        l->suppressed = 0;
    }
    log_event(level, event, fields);
}

void log_msg(enum log_level level, const char *event, const char *fmt, ...)
{
    if (level < s_min_level)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_event(level, event, json_pack("{s:s}", "msg", msg));
}
