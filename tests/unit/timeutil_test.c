/*
 * timeutil_test - parse tables (strict RFC 3339 and lenient ISO 8601),
 * format tables, amz-date, epoch doubles, compare, and a walk over every
 * calendar day 0001-01-01..9999-12-31 against an independent day counter.
 */
#include "timeutil.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "test_util.h"

#define T_MIN (-62135596800LL) /* 0001-01-01T00:00:00Z */
#define T_MAX (253402300799LL) /* 9999-12-31T23:59:59Z */
#define T_2024 1704164645LL    /* 2024-01-02T03:04:05Z */

enum mode { STRICT = 1, LENIENT = 2, BOTH = 3 };

/* ok: in which modes the text parses (0 = in neither); when it does, it
 * must give seconds/nanos. */
static const struct {
    const char *text;
    int ok;
    int64_t seconds;
    int32_t nanos;
} s_parse_cases[] = {
    {"1970-01-01T00:00:00Z", BOTH, 0, 0},
    {"2024-01-02T03:04:05Z", BOTH, T_2024, 0},
    {"2024-01-02t03:04:05z", BOTH, T_2024, 0},
    /* offsets convert to UTC */
    {"2024-01-02T08:34:05+05:30", BOTH, T_2024, 0},
    {"2024-01-01T19:04:05-08:00", BOTH, T_2024, 0},
    {"2024-01-02T03:04:05+00:00", BOTH, T_2024, 0},
    {"2024-01-02T03:04:05-00:00", BOTH, T_2024, 0},
    {"2024-01-02T17:04:05+14:00", BOTH, T_2024, 0},
    {"2024-01-01T23:34:05-03:30", BOTH, T_2024, 0},
    /* fractions: 1..9 digits */
    {"2024-01-02T03:04:05.5Z", BOTH, T_2024, 500000000},
    {"2024-01-02T03:04:05.123Z", BOTH, T_2024, 123000000},
    {"2024-01-02T03:04:05.000001Z", BOTH, T_2024, 1000},
    {"2024-01-02T03:04:05.123456789Z", BOTH, T_2024, 123456789},
    {"2024-01-02T03:04:05.000000001Z", BOTH, T_2024, 1},
    {"2024-01-02T08:34:05.25+05:30", BOTH, T_2024, 250000000},
    {"2024-01-02T03:04:05.1234567891Z", LENIENT, T_2024, 123456789},
    {"2024-01-02T03:04:05.Z", 0, 0, 0},
    {"2024-01-02T03:04:05,5Z", LENIENT, T_2024, 500000000},
    {"1969-12-31T23:59:59.5Z", BOTH, -1, 500000000},
    /* calendar */
    {"2024-02-29T12:00:00Z", BOTH, 1709208000, 0},
    {"2000-02-29T00:00:00Z", BOTH, 951782400, 0},
    {"1900-03-01T00:00:00Z", BOTH, -2203891200LL, 0},
    {"2024-02-30T00:00:00Z", 0, 0, 0},
    {"2023-02-29T00:00:00Z", 0, 0, 0},
    {"1900-02-29T00:00:00Z", 0, 0, 0},
    {"2024-04-31T00:00:00Z", 0, 0, 0},
    {"2024-13-01T00:00:00Z", 0, 0, 0},
    {"2024-00-01T00:00:00Z", 0, 0, 0},
    {"2024-01-00T00:00:00Z", 0, 0, 0},
    {"2024-01-32T00:00:00Z", 0, 0, 0},
    {"2024-01-01T24:00:00Z", 0, 0, 0},
    {"2024-01-01T23:60:00Z", 0, 0, 0},
    /* leap second: rejected strictly, folded into the next second leniently */
    {"2016-12-31T23:59:60Z", LENIENT, 1483228800, 0},
    {"2016-12-31T23:59:61Z", 0, 0, 0},
    /* range: years 0001..9999, after applying the offset */
    {"0000-01-01T00:00:00Z", 0, 0, 0},
    {"0001-01-01T00:00:00Z", BOTH, T_MIN, 0},
    {"0001-01-01T00:00:00+00:01", 0, 0, 0},
    {"0001-01-01T00:00:00-00:01", BOTH, T_MIN + 60, 0},
    {"9999-12-31T23:59:59.999999999Z", BOTH, T_MAX, 999999999},
    {"9999-12-31T23:59:59-00:01", 0, 0, 0},
    {"10000-01-01T00:00:00Z", 0, 0, 0},
    /* offsets: required strictly; lenient takes +hhmm, +hh or none (UTC) */
    {"2024-01-02T03:04:05", LENIENT, T_2024, 0},
    {"2024-01-02T03:04:05.5", LENIENT, T_2024, 500000000},
    {"2024-01-02T08:34:05+0530", LENIENT, T_2024, 0},
    {"2024-01-02T08:04:05+05", LENIENT, T_2024, 0},
    {"2024-01-02 03:04:05Z", LENIENT, T_2024, 0},
    {"2024-01-02T08:34:05+05:3", 0, 0, 0},
    {"2024-01-02T08:34:05+5:30", 0, 0, 0},
    {"2024-01-02T03:04:05+24:00", 0, 0, 0},
    {"2024-01-02T03:04:05+05:60", 0, 0, 0},
    {"2024-01-02T03:04:05 +05:30", 0, 0, 0},
    /* shape */
    {"", 0, 0, 0},
    {"2024-01-02", 0, 0, 0},
    {"2024-01-02T03:04Z", 0, 0, 0},
    {"2024-1-02T03:04:05Z", 0, 0, 0},
    {"2024/01/02T03:04:05Z", 0, 0, 0},
    {"2024-01-02T03:04:05Z ", 0, 0, 0},
    {"2024-01-02T03:04:05ZZ", 0, 0, 0},
    {" 2024-01-02T03:04:05Z", 0, 0, 0},
    {"2024-01-02X03:04:05Z", 0, 0, 0},
    {"+2024-01-02T03:04:05Z", 0, 0, 0},
    {"2024-01-02T03:04:0aZ", 0, 0, 0},
    {"2024-01-02T03:04:05.5x", 0, 0, 0},
};

static void test_parse_table(void)
{
    for (size_t i = 0; i < sizeof(s_parse_cases) / sizeof(s_parse_cases[0]); i++) {
        for (int mode = STRICT; mode <= LENIENT; mode++) {
            struct bgw_time t = {12345, 678};
            const char *s = s_parse_cases[i].text;
            int rc = mode == STRICT ? timeutil_parse_rfc3339(s, &t) : timeutil_parse_iso8601(s, &t);
            int want_ok = (s_parse_cases[i].ok & mode) != 0;
            if (!CHECK(want_ok ? rc == 0 : rc == -1)) {
                fprintf(stderr, "  %s \"%s\": rc %d\n", mode == STRICT ? "rfc3339" : "iso8601", s,
                        rc);
                continue;
            }
            if (want_ok &&
                !CHECK(t.seconds == s_parse_cases[i].seconds && t.nanos == s_parse_cases[i].nanos))
                fprintf(stderr, "  %s \"%s\": got %lld.%09d, expected %lld.%09d\n",
                        mode == STRICT ? "rfc3339" : "iso8601", s, (long long)t.seconds,
                        (int)t.nanos, (long long)s_parse_cases[i].seconds,
                        (int)s_parse_cases[i].nanos);
        }
    }
    struct bgw_time t;
    CHECK(timeutil_parse_rfc3339(NULL, &t) == -1);
    CHECK(timeutil_parse_iso8601(NULL, &t) == -1);
}

static const struct {
    int64_t seconds;
    int32_t nanos;
    const char *want; /* NULL = -1 */
} s_format_cases[] = {
    {0, 0, "1970-01-01T00:00:00Z"},
    {T_2024, 0, "2024-01-02T03:04:05Z"},
    {0, 500000000, "1970-01-01T00:00:00.500Z"},
    {0, 100000000, "1970-01-01T00:00:00.100Z"},
    {0, 1000000, "1970-01-01T00:00:00.001Z"},
    {0, 120000, "1970-01-01T00:00:00.000120Z"},
    {0, 1000, "1970-01-01T00:00:00.000001Z"},
    {0, 1, "1970-01-01T00:00:00.000000001Z"},
    {0, 123456789, "1970-01-01T00:00:00.123456789Z"},
    {-1, 500000000, "1969-12-31T23:59:59.500Z"},
    {-86400, 0, "1969-12-31T00:00:00Z"},
    {1709208000, 0, "2024-02-29T12:00:00Z"},
    {-2203891200LL, 0, "1900-03-01T00:00:00Z"},
    {T_MIN, 0, "0001-01-01T00:00:00Z"},
    {T_MAX, 999999999, "9999-12-31T23:59:59.999999999Z"},
    {T_MIN - 1, 0, NULL},
    {T_MAX + 1, 0, NULL},
    {0, -1, NULL},
    {0, 1000000000, NULL},
    {INT64_MIN, 0, NULL},
    {INT64_MAX, 0, NULL},
};

static void test_format_table(void)
{
    for (size_t i = 0; i < sizeof(s_format_cases) / sizeof(s_format_cases[0]); i++) {
        char out[TIMEUTIL_FMT_MAX];
        struct bgw_time t = {s_format_cases[i].seconds, s_format_cases[i].nanos};
        int n = timeutil_format_rfc3339(t, out, sizeof(out));
        if (!s_format_cases[i].want) {
            if (!CHECK(n == -1))
                fprintf(stderr, "  format %lld.%d: expected -1, got \"%s\"\n", (long long)t.seconds,
                        (int)t.nanos, out);
            continue;
        }
        if (CHECK(n > 0)) {
            CHECK_STR(out, s_format_cases[i].want);
            CHECK(n == (int)strlen(s_format_cases[i].want));
        }
    }
    /* Too small a buffer fails instead of truncating. */
    char small[20];
    struct bgw_time t = {0, 0};
    CHECK(timeutil_format_rfc3339(t, small, sizeof(small)) == -1);
    char exact[21];
    CHECK(timeutil_format_rfc3339(t, exact, sizeof(exact)) == 20);
}

static void test_amz_date(void)
{
    char out[17];
    CHECK(timeutil_format_amz_date(0, out, sizeof(out)) == 16);
    CHECK_STR(out, "19700101T000000Z");
    CHECK(timeutil_format_amz_date(1440938160, out, sizeof(out)) == 16);
    CHECK_STR(out, "20150830T123600Z");
    CHECK(timeutil_format_amz_date(T_MAX, out, sizeof(out)) == 16);
    CHECK_STR(out, "99991231T235959Z");
    CHECK(timeutil_format_amz_date(T_MAX + 1, out, sizeof(out)) == -1);
    CHECK(timeutil_format_amz_date(T_MIN - 1, out, sizeof(out)) == -1);
    CHECK(timeutil_format_amz_date(0, out, 16) == -1);
}

static void test_http_date(void)
{
    int64_t s;
    CHECK(timeutil_parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT", &s) == 0 && s == 784111777);
    CHECK(timeutil_parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", &s) == 0 && s == 784111777);
    CHECK(timeutil_parse_http_date("Sun Nov  6 08:49:37 1994", &s) == 0 && s == 784111777);
    CHECK(timeutil_parse_http_date("Sun Nov 16 08:49:37 1994", &s) == 0 && s == 784111777 + 864000);
    CHECK(timeutil_parse_http_date("Thursday, 01-Jan-70 00:00:00 GMT", &s) == 0 && s == 0);
    CHECK(timeutil_parse_http_date("Saturday, 01-Jan-00 00:00:00 GMT", &s) == 0 && s == 946684800);
    CHECK(timeutil_parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT ", &s) == -1);
    CHECK(timeutil_parse_http_date("Sun Nov 6 08:49:37 1994", &s) == -1);
    CHECK(timeutil_parse_http_date("Sun, 06 Nov 0000 08:49:37 GMT", &s) == -1);
    CHECK(timeutil_parse_http_date("", &s) == -1);
    CHECK(timeutil_parse_http_date(NULL, &s) == -1);
    char out[TIMEUTIL_HTTP_DATE_MAX];
    CHECK(timeutil_format_http_date(784111777, out, sizeof(out)) == 29);
    CHECK_STR(out, "Sun, 06 Nov 1994 08:49:37 GMT");
    CHECK(timeutil_format_http_date(0, out, sizeof(out)) == 29);
    CHECK_STR(out, "Thu, 01 Jan 1970 00:00:00 GMT");
    CHECK(timeutil_format_http_date(-1, out, sizeof(out)) == 29);
    CHECK_STR(out, "Wed, 31 Dec 1969 23:59:59 GMT");
    CHECK(timeutil_format_http_date(T_MAX, out, sizeof(out)) == 29);
    CHECK_STR(out, "Fri, 31 Dec 9999 23:59:59 GMT");
    CHECK(timeutil_format_http_date(T_MAX + 1, out, sizeof(out)) == -1);
    CHECK(timeutil_format_http_date(0, out, 29) == -1);
}

static void test_epoch_double(void)
{
    static const struct {
        double in;
        int ok;
        int64_t seconds;
        int32_t nanos;
    } cases[] = {
        {0.0, 1, 0, 0},
        {1.5, 1, 1, 500000000},
        {-1.5, 1, -2, 500000000},
        {-0.25, 1, -1, 750000000},
        {1704164645.0, 1, T_2024, 0},
        {1700000000.123, 1, 1700000000, 123000000},
        {0.0004, 1, 0, 0},
        {0.0006, 1, 0, 1000000},
        {(double)T_MIN, 1, T_MIN, 0},
        {(double)T_MAX + 0.5, 1, T_MAX, 500000000},
        {(double)T_MIN - 1.0, 0, 0, 0},
        {(double)T_MAX + 1.0, 0, 0, 0},
        {1e300, 0, 0, 0},
        {-1e300, 0, 0, 0},
        {NAN, 0, 0, 0},
        {INFINITY, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct bgw_time t = {0, 0};
        int rc = timeutil_from_epoch_double(cases[i].in, &t);
        if (!CHECK(rc == (cases[i].ok ? 0 : -1)))
            fprintf(stderr, "  epoch %.17g: rc %d\n", cases[i].in, rc);
        else if (cases[i].ok && !CHECK(t.seconds == cases[i].seconds && t.nanos == cases[i].nanos))
            fprintf(stderr, "  epoch %.17g: got %lld.%09d\n", cases[i].in, (long long)t.seconds,
                    (int)t.nanos);
    }
}

static void test_compare(void)
{
    struct bgw_time a = {10, 5}, b = {10, 6}, c = {11, 0}, d = {-1, 999999999};
    CHECK(timeutil_compare(a, a) == 0);
    CHECK(timeutil_compare(a, b) == -1);
    CHECK(timeutil_compare(b, a) == 1);
    CHECK(timeutil_compare(b, c) == -1);
    CHECK(timeutil_compare(c, a) == 1);
    CHECK(timeutil_compare(d, a) == -1);
    struct bgw_time e = {INT64_MIN, 0}, f = {INT64_MAX, 0};
    CHECK(timeutil_compare(e, f) == -1);
    CHECK(timeutil_compare(f, e) == 1);
}

/* Every day 0001-01-01..9999-12-31, counted independently: the text of the
 * day must parse to the running count, and the count must format back to
 * the text. Varies the time of day so all fields are exercised. */
static void test_every_day(void)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t day_start = T_MIN;
    int bad = 0;
    for (int y = 1; y <= 9999 && bad < 5; y++) {
        int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        for (int m = 1; m <= 12 && bad < 5; m++) {
            int nd = mdays[m - 1] + (m == 2 && leap);
            for (int d = 1; d <= nd; d++, day_start += 86400) {
                int sod = (int)((day_start / 86400 * 7919) % 86400);
                if (sod < 0)
                    sod += 86400;
                char text[64], out[TIMEUTIL_FMT_MAX];
                snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d, sod / 3600,
                         sod / 60 % 60, sod % 60);
                struct bgw_time t;
                struct bgw_time want = {day_start + sod, 0};
                if (timeutil_parse_rfc3339(text, &t) != 0 || timeutil_compare(t, want) != 0 ||
                    timeutil_format_rfc3339(want, out, sizeof(out)) < 0 || strcmp(out, text) != 0) {
                    fprintf(stderr, "  day walk: %s vs %lld\n", text, (long long)want.seconds);
                    bad++;
                }
            }
        }
    }
    CHECK(bad == 0);
    CHECK(day_start == T_MAX + 1);
}

int main(void)
{
    test_parse_table();
    test_format_table();
    test_amz_date();
    test_http_date();
    test_epoch_double();
    test_compare();
    test_every_day();
    return TEST_EXIT();
}
