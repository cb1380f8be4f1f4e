/*
 * timeutil - parsing and formatting of RFC 3339 / ISO 8601 instants into
 * struct bgw_time, without the C library's time zone state (no gmtime,
 * timegm or TZ): civil-from-days arithmetic only. No I/O, no clock.
 */
#ifndef BGW_TIMEUTIL_H
#define BGW_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

/* A point in time: seconds since the Unix epoch (UTC) plus nanoseconds
 * 0..999999999, exactly like google.protobuf.Timestamp. */
struct bgw_time {
    int64_t seconds;
    int32_t nanos;
};

/* Strict RFC 3339 for client input: "YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|+hh:mm|-hh:mm)".
 * 't'/'z' lower case allowed; the offset is required. Years 0001-9999 (the
 * range of google.protobuf.Timestamp). Returns 0, or -1 on any defect. */
int timeutil_parse_rfc3339(const char *s, struct bgw_time *out);

/* Lenient ISO 8601 for upstream bodies: as above, plus a space instead of
 * 'T', an offset without colon (+0530), "+hh", or no offset at all (taken as
 * UTC). Also accepts a JSON number of epoch seconds via
 * timeutil_from_epoch_double. Returns 0 or -1. */
int timeutil_parse_iso8601(const char *s, struct bgw_time *out);
int timeutil_from_epoch_double(double secs, struct bgw_time *out);

/* Formats in UTC with 'Z'. Fraction: none when nanos == 0, else 3, 6 or 9
 * digits (the proto3 JSON rule). out must hold TIMEUTIL_FMT_MAX bytes.
 * Returns the length, or -1 when t is out of range. The same text serves
 * Bedrock's query string (DESIGN.md section 2). */
#define TIMEUTIL_FMT_MAX 40
int timeutil_format_rfc3339(struct bgw_time t, char *out, size_t out_len);

/* x-amz-date form "YYYYMMDDTHHMMSSZ" of epoch seconds; out >= 17 bytes. */
int timeutil_format_amz_date(int64_t epoch_s, char *out, size_t out_len);

/* HTTP-date (RFC 9110 section 5.6.7), as in Retry-After, to epoch seconds:
 *   IMF-fixdate  "Sun, 06 Nov 1994 08:49:37 GMT" (what senders must send);
 *   RFC 850      "Sunday, 06-Nov-94 08:49:37 GMT" (two-digit year: 70-99 ->
 *                19xx, 00-69 -> 20xx, a fixed pivot since no clock is read);
 *   asctime      "Sun Nov  6 08:49:37 1994".
 * Names are case-sensitive as the RFC says; the day name must be a real one
 * but is not checked against the date; second 60 (a leap second) reads as
 * 59. No surrounding whitespace. Returns 0, or -1 on any defect. */
int timeutil_parse_http_date(const char *s, int64_t *epoch_s);
/* IMF-fixdate of epoch seconds (years 1..9999); out >= TIMEUTIL_HTTP_DATE_MAX
 * bytes. Returns the length or -1. */
#define TIMEUTIL_HTTP_DATE_MAX 30
int timeutil_format_http_date(int64_t epoch_s, char *out, size_t out_len);

/* -1, 0, 1 */
int timeutil_compare(struct bgw_time a, struct bgw_time b);

#endif
