/*
 * redis_url - see redis_url.h.
 */
#include "redis_url.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"

static int s_why(char *why, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, n, fmt, ap);
    va_end(ap);
    return -1;
}

/* Percent-decodes s[0..n) into out (NUL-terminated). 0 or -1. */
static int s_decode(const char *s, size_t n, char *out, size_t out_len)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 2 >= n)
                return -1;
            int hi = hex_digit(s[i + 1]), lo = hex_digit(s[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = hi * 16 + lo;
            i += 2;
        }
        if (c == 0 || o + 1 >= out_len)
            return -1;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return 0;
}

/* A decimal in [min, max] spanning exactly s[0..n). */
static int s_number(const char *s, size_t n, long min, long max, int *out)
{
    if (n == 0 || n > 9)
        return -1;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v < min || v > max)
        return -1;
    *out = (int)v;
    return 0;
}

static int s_unix(const char *rest, struct redis_url *out, char *why, size_t why_len)
{
    if (rest[0] != '/')
        return s_why(why, why_len, "a unix URL is unix:///absolute/path/to/socket");
    size_t n = strcspn(rest, "?");
    if (n >= sizeof(out->path) || n > REDIS_URL_UNIX_PATH_MAX)
        return s_why(why, why_len, "the socket path is too long (at most %d bytes)",
                     REDIS_URL_UNIX_PATH_MAX);
    memcpy(out->path, rest, n);
    out->path[n] = '\0';
    const char *q = rest + n;
    if (*q) {
        if (strncmp(q, "?db=", 4) != 0 ||
            s_number(q + 4, strlen(q + 4), 0, REDIS_URL_DB_MAX, &out->db) != 0)
            return s_why(why, why_len, "the only query a unix URL takes is ?db=N");
    }
    return 0;
}

int redis_url_parse(const char *s, struct redis_url *out, char *why, size_t why_len)
{
    memset(out, 0, sizeof(*out));
    out->port = 6379;
    const char *rest;
    if (strncmp(s, "redis://", 8) == 0) {
        out->transport = REDIS_TCP;
        rest = s + 8;
    } else if (strncmp(s, "rediss://", 9) == 0) {
        out->transport = REDIS_TLS;
        rest = s + 9;
    } else if (strncmp(s, "unix://", 7) == 0) {
        out->transport = REDIS_UNIX;
        return s_unix(s + 7, out, why, why_len);
    } else {
        return s_why(why, why_len, "must start with redis://, rediss:// or unix://");
    }
    size_t auth_len = strcspn(rest, "/?#");
    const char *at = NULL;
    for (size_t i = 0; i < auth_len; i++)
        if (rest[i] == '@')
            at = rest + i; /* the last one: a raw '@' in a password is tolerated */
    const char *hostport = rest;
    if (at) {
        const char *colon = memchr(rest, ':', (size_t)(at - rest));
        if (!colon) /* "secret@host": the password alone, as many clients take it */
            colon = rest - 1;
        if (colon >= rest && s_decode(rest, (size_t)(colon - rest), out->user, sizeof(out->user)))
            return s_why(why, why_len, "the user name is not valid (percent-encoding, length)");
        if (s_decode(colon + 1, (size_t)(at - colon - 1), out->password, sizeof(out->password)))
            return s_why(why, why_len, "the password is not valid (percent-encoding, length)");
        hostport = at + 1;
    }
    size_t hp_len = (size_t)(rest + auth_len - hostport);
    const char *port_at = NULL;
    size_t host_len;
    if (hp_len && hostport[0] == '[') {
        const char *close = memchr(hostport, ']', hp_len);
        if (!close)
            return s_why(why, why_len, "an IPv6 host needs its closing ]");
        host_len = (size_t)(close - hostport - 1);
        if (host_len == 0 || host_len >= sizeof(out->host))
            return s_why(why, why_len, "the host is empty or too long");
        memcpy(out->host, hostport + 1, host_len);
        out->host[host_len] = '\0';
        if (close + 1 < hostport + hp_len) {
            if (close[1] != ':')
                return s_why(why, why_len, "expected :port after the IPv6 host");
            port_at = close + 2;
        }
    } else {
        const char *colon = memchr(hostport, ':', hp_len);
        host_len = colon ? (size_t)(colon - hostport) : hp_len;
        if (host_len == 0 || host_len >= sizeof(out->host))
            return s_why(why, why_len, "the host is empty or too long");
        memcpy(out->host, hostport, host_len);
        out->host[host_len] = '\0';
        if (colon)
            port_at = colon + 1;
    }
    if (port_at &&
        s_number(port_at, (size_t)(hostport + hp_len - port_at), 1, 65535, &out->port) != 0)
        return s_why(why, why_len, "the port must be a number from 1 to 65535");
    const char *tail = rest + auth_len;
    if (*tail == '/' && tail[1]) {
        if (s_number(tail + 1, strlen(tail + 1), 0, REDIS_URL_DB_MAX, &out->db) != 0)
            return s_why(why, why_len, "the path must be a database number (/0, /1, ...)");
    } else if (*tail && strcmp(tail, "/") != 0) {
        return s_why(why, why_len, "unexpected text after the host (query or fragment)");
    }
    return 0;
}

void redis_url_where(const struct redis_url *u, char *out, size_t out_len)
{
    if (u->transport == REDIS_UNIX)
        snprintf(out, out_len, "unix:%s", u->path);
    else if (strchr(u->host, ':'))
        snprintf(out, out_len, "[%s]:%d", u->host, u->port);
    else
        snprintf(out, out_len, "%s:%d", u->host, u->port);
}
