/*
 * time_fuzz - libFuzzer target for timeutil's parsers:
 * timeutil_parse_rfc3339 (strict, client input) and timeutil_parse_iso8601
 * (lenient, upstream bodies), plus timeutil_from_epoch_double.
 *
 * Input: the timestamp text (a NUL byte ends it); when the input is at
 * least 8 bytes long its first 8 bytes are also read as a double of epoch
 * seconds.
 *
 * Invariants: whatever parses is in google.protobuf.Timestamp's range with
 * nanos 0..999999999; timeutil_format_rfc3339 of it succeeds, fits
 * TIMEUTIL_FMT_MAX and re-parses strictly (and leniently) to the same
 * instant; and the strict dialect is a subset of the lenient one (same
 * instant for every text both accept). timeutil_parse_http_date's result
 * is in range and its IMF-fixdate (timeutil_format_http_date, 29 bytes)
 * re-parses to the same second.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "timeutil.h"

#define S_TIME_MIN_SECONDS (-62135596800LL)
#define S_TIME_MAX_SECONDS (253402300799LL)

static void s_check_round_trip(struct bgw_time t)
{
    FUZZ_CHECK(t.nanos >= 0 && t.nanos <= 999999999);
    FUZZ_CHECK(t.seconds >= S_TIME_MIN_SECONDS && t.seconds <= S_TIME_MAX_SECONDS);

    char text[TIMEUTIL_FMT_MAX];
    int n = timeutil_format_rfc3339(t, text, sizeof(text));
    FUZZ_CHECK(n > 0 && (size_t)n < sizeof(text) && strlen(text) == (size_t)n);
    struct bgw_time again;
    FUZZ_CHECK(timeutil_parse_rfc3339(text, &again) == 0);
    FUZZ_CHECK(timeutil_compare(t, again) == 0);
    FUZZ_CHECK(timeutil_parse_iso8601(text, &again) == 0);
    FUZZ_CHECK(timeutil_compare(t, again) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_strndup(data, size);
    struct bgw_time strict, lenient;
    int strict_rc = timeutil_parse_rfc3339(s, &strict);
    int lenient_rc = timeutil_parse_iso8601(s, &lenient);
    FUZZ_CHECK(strict_rc == 0 || strict_rc == -1);
    FUZZ_CHECK(lenient_rc == 0 || lenient_rc == -1);
    if (strict_rc == 0) {
        s_check_round_trip(strict);
        FUZZ_CHECK(lenient_rc == 0 && timeutil_compare(strict, lenient) == 0);
    }
    if (lenient_rc == 0)
        s_check_round_trip(lenient);

    /* HTTP-date (Retry-After): in range, and its IMF-fixdate re-reads to
     * the same second. */
    int64_t http_s;
    int http_rc = timeutil_parse_http_date(s, &http_s);
    FUZZ_CHECK(http_rc == 0 || http_rc == -1);
    if (http_rc == 0) {
        FUZZ_CHECK(http_s >= S_TIME_MIN_SECONDS && http_s <= S_TIME_MAX_SECONDS);
        char imf[TIMEUTIL_HTTP_DATE_MAX];
        int n = timeutil_format_http_date(http_s, imf, sizeof(imf));
        FUZZ_CHECK(n == 29 && strlen(imf) == 29);
        int64_t again_s;
        FUZZ_CHECK(timeutil_parse_http_date(imf, &again_s) == 0 && again_s == http_s);
    }

    if (size >= sizeof(double)) {
        double secs;
        struct bgw_time t;
        memcpy(&secs, data, sizeof(secs));
        if (timeutil_from_epoch_double(secs, &t) == 0) {
            FUZZ_CHECK(t.nanos % 1000000 == 0); /* millisecond precision */
            s_check_round_trip(t);
        }
    }
    free(s);
    return 0;
}
