/*
 * log_test - log_event_limited: a burst of one event name is cut to
 * LOG_LIMIT_BURST lines per window, other names are counted apart, and the
 * first line after the window says how many were suppressed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "test_util.h"

static size_t s_count(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

int main(void)
{
    char path[] = "/tmp/bgw-log-test-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    int saved = dup(2);
    dup2(fd, 2);
    log_set_limit_window_ms(200);
    for (int i = 0; i < 100; i++)
        log_event_limited(LOG_WARN, "x_fault", json_pack("{s:i}", "i", i));
    for (int i = 0; i < 3; i++)
        log_event_limited(LOG_WARN, "y_fault", NULL);
    struct timespec ts = {0, 250 * 1000000L};
    nanosleep(&ts, NULL);
    log_event_limited(LOG_WARN, "x_fault", json_pack("{s:i}", "i", 100));
    log_event_limited(LOG_DEBUG, "x_fault", NULL); /* below the level: nothing */
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    FILE *f = fopen(path, "r");
    char text[65536];
    size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
    text[n] = '\0';
    if (f)
        fclose(f);
    unlink(path);
    CHECK(s_count(text, "\"event\":\"x_fault\"") == LOG_LIMIT_BURST + 1);
    CHECK(s_count(text, "\"event\":\"y_fault\"") == 3);
    CHECK(strstr(text, "\"i\":100,\"suppressed\":95") != NULL);
    CHECK(s_count(text, "suppressed") == 1);
    return TEST_EXIT();
}
