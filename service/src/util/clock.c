/*
 * clock - monotonic and wall-clock milliseconds. See clock.h.
 */
#include "clock.h"

#include <openssl/rand.h>
#include <time.h>

static int64_t s_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_mono_ms(void)
{
    return s_ms(CLOCK_MONOTONIC);
}

int64_t clock_wall_ms(void)
{
    return s_ms(CLOCK_REALTIME);
}

uint32_t clock_jitter_u32(void)
{
    uint32_t r = 0;
    if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
        r = (uint32_t)clock_mono_ms();
    return r;
}
