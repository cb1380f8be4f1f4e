/*
 * clock - the process's nondeterministic inputs, read in one place: the two
 * clocks and the randomness used for jitter. Only the I/O layer (loop glue,
 * frontends, fetcher, credential refresh) reads them; the I/O-free core
 * (retry and refresh policies, caches, limits) takes them as parameters.
 */
#ifndef BGW_CLOCK_H
#define BGW_CLOCK_H

#include <stdint.h>

/* Monotonic milliseconds: deadlines, timeouts, rate limits, cache ages. */
int64_t clock_mono_ms(void);
/* Unix-epoch milliseconds (UTC): signing times, credential expiry. */
int64_t clock_wall_ms(void);
/* A random 32-bit value for backoff and refresh jitter (not for secrets). */
uint32_t clock_jitter_u32(void);

#endif
