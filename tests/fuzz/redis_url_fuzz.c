/*
 * redis_url_fuzz - redis_url_parse on arbitrary text (the redis.url
 * setting).
 *
 * Invariants: a refusal explains itself and never quotes the input; an
 * accepted URL has a transport, a port in 1..65535, a database within
 * range, a host (TCP/TLS) or an absolute socket path that fits sun_path,
 * NUL-free credentials; redis_url_where never overflows.
 */
#include <stdint.h>
#include <string.h>

#include "fuzz_util.h"
#include "redis_url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_strndup(data, size);
    struct redis_url u;
    char why[160];
    why[0] = '\0';
    if (redis_url_parse(s, &u, why, sizeof(why)) != 0) {
        FUZZ_CHECK(why[0] != '\0');
        if (strlen(s) >= 12)
            FUZZ_CHECK(strstr(why, s) == NULL);
        free(s);
        return 0;
    }
    FUZZ_CHECK(u.port >= 1 && u.port <= 65535);
    FUZZ_CHECK(u.db >= 0 && u.db <= REDIS_URL_DB_MAX);
    if (u.transport == REDIS_UNIX)
        FUZZ_CHECK(u.path[0] == '/' && strlen(u.path) <= REDIS_URL_UNIX_PATH_MAX);
    else
        FUZZ_CHECK((u.transport == REDIS_TCP || u.transport == REDIS_TLS) && u.host[0]);
    FUZZ_CHECK(strlen(u.user) < sizeof(u.user) && strlen(u.password) < sizeof(u.password));
    char where[600];
    redis_url_where(&u, where, sizeof(where));
    FUZZ_CHECK(strlen(where) < sizeof(where));
    free(s);
    return 0;
}
