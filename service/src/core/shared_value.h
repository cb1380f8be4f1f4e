/*
 * shared_value - the envelope of a page in the shared cache tier (Redis),
 * I/O-free:
 *
 *   "<fresh_until_ms>|"   decimal, wall clock: the lease script reads it
 *   u64 fetched_at_ms     little-endian, wall clock
 *   page                  page_codec
 *   mac                   HMAC-SHA256(mac_key, key name || everything above)
 *
 * The MAC binds the value to its key name: a value copied to another key,
 * cut short, or written by anyone without the key fails to open.
 */
#ifndef BGW_SHARED_VALUE_H
#define BGW_SHARED_VALUE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "jobs.h"

#define SHARED_VALUE_MAC_LEN 32

/* HMAC-SHA256 of a || b under a 32-byte key (zeros on failure: no real MAC
 * ever matches them). */
void shared_value_hmac(const unsigned char key[32], const void *a, size_t a_len, const void *b,
                       size_t b_len, unsigned char out[32]);

/* Appends the sealed value to out. 0 or -1 (memory). */
int shared_value_seal(const unsigned char mac_key[32], const char *name, size_t name_len,
                      const struct jobs_response *page, int64_t fetched_ms, int64_t fresh_until_ms,
                      struct buf *out);
/* 0 with *page (clean up with jobs_response_clean_up) and *fetched_ms, or -1
 * (bad MAC, malformed). */
int shared_value_open(const unsigned char mac_key[32], const char *name, size_t name_len,
                      const void *value, size_t len, struct jobs_response *page,
                      int64_t *fetched_ms);

#endif
