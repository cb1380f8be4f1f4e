/*
 * redis_url_test - the redis.url forms, their defaults, and refusals that
 * never quote the URL.
 */
#include <string.h>

#include "redis_url.h"
#include "test_util.h"

static int s_parse(const char *s, struct redis_url *u, char *why)
{
    why[0] = '\0';
    return redis_url_parse(s, u, why, 160);
}

static void test_forms(void)
{
    struct redis_url u;
    char why[160], where[600];
    CHECK(s_parse("redis://127.0.0.1:6380", &u, why) == 0);
    CHECK(u.transport == REDIS_TCP && u.port == 6380 && u.db == 0);
    CHECK_STR(u.host, "127.0.0.1");
    CHECK_STR(u.password, "");
    CHECK(s_parse("redis://cache.internal", &u, why) == 0);
    CHECK(u.port == 6379);
    CHECK_STR(u.host, "cache.internal");
    CHECK(s_parse("rediss://app:p%40ss%3Aw0rd@cache.internal:6390/3", &u, why) == 0);
    CHECK(u.transport == REDIS_TLS && u.port == 6390 && u.db == 3);
    CHECK_STR(u.user, "app");
    CHECK_STR(u.password, "p@ss:w0rd");
    CHECK(s_parse("redis://:only-password@h/", &u, why) == 0);
    CHECK_STR(u.user, "");
    CHECK_STR(u.password, "only-password");
    CHECK(s_parse("redis://[::1]:7000/2", &u, why) == 0);
    CHECK_STR(u.host, "::1");
    CHECK(u.port == 7000 && u.db == 2);
    redis_url_where(&u, where, sizeof(where));
    CHECK_STR(where, "[::1]:7000");
    CHECK(s_parse("unix:///run/redis/redis.sock?db=5", &u, why) == 0);
    CHECK(u.transport == REDIS_UNIX && u.db == 5);
    CHECK_STR(u.path, "/run/redis/redis.sock");
    redis_url_where(&u, where, sizeof(where));
    CHECK_STR(where, "unix:/run/redis/redis.sock");
}

static void test_refusals(void)
{
    struct redis_url u;
    char why[160];
    const char *bad[] = {
        "",
        "http://h:6379",
        "redis://",
        "redis://h:0",
        "redis://h:65536",
        "redis://h:12ab",
        "redis://h/db",
        "redis://h?x=1",
        "redis://[::1",
        "redis://secretpw@:6379",
        "redis://u:bad%zz@h",
        "redis://u:nul%00@h",
        "unix://relative/path",
        "unix:///p?db=x",
        "unix:///"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (!CHECK(s_parse(bad[i], &u, why) != 0))
            fprintf(stderr, "  accepted: %s\n", bad[i]);
        CHECK(why[0] != '\0');
        CHECK(!strstr(why, "secretpw") && !strstr(why, "bad%zz"));
    }
}

int main(void)
{
    test_forms();
    test_refusals();
    return TEST_EXIT();
}
