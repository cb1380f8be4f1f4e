/*
 * redis_url - parses the redis.url setting, I/O-free:
 *
 *   redis://[[user]:password@]host[:port][/db]     plaintext TCP
 *   rediss://[[user]:password@]host[:port][/db]    TLS
 *   unix:///path/to/socket[?db=N]                  a unix socket
 *
 * host may be "[v6]". user and password are percent-decoded. The port
 * defaults to 6379, db to 0. Messages never quote the URL (it may hold a
 * password).
 */
#ifndef BGW_REDIS_URL_H
#define BGW_REDIS_URL_H

#include <stddef.h>

enum redis_transport { REDIS_TCP = 0, REDIS_TLS, REDIS_UNIX };

#define REDIS_URL_DB_MAX 1000000
#define REDIS_URL_UNIX_PATH_MAX 107 /* sun_path, with its NUL */

struct redis_url {
    enum redis_transport transport;
    char host[256]; /* TCP / TLS; without brackets */
    int port;
    char path[512]; /* unix */
    char user[128]; /* "" = default user */
    char password[512];
    int db;
};

/* 0, or -1 with why (no part of the URL in it). */
int redis_url_parse(const char *s, struct redis_url *out, char *why, size_t why_len);

/* "host:port", "[v6]:port" or the socket path: for logs (no credentials). */
void redis_url_where(const struct redis_url *u, char *out, size_t out_len);

#endif
