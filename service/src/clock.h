/*
 * clock - the process's two clocks, read in one place. Only the I/O layer
 * (loop glue, frontends, fetcher, credential refresh) reads them; the
 * I/O-free core takes the time as a parameter.
 */
#ifndef BGW_CLOCK_H
#define BGW_CLOCK_H

#include <stdint.h>

/* Monotonic milliseconds: deadlines, timeouts, rate limits, cache ages. */
int64_t clock_mono_ms(void);
/* Unix-epoch milliseconds (UTC): signing times, credential expiry. */
int64_t clock_wall_ms(void);

#endif
