/*
 * timeutil - RFC 3339 / ISO 8601 instants <-> struct bgw_time. See
 * timeutil.h.
 *
 * Calendar arithmetic is done here (days-from-civil and civil-from-days on
 * the proleptic Gregorian calendar, after H. Hinnant's public-domain
 * algorithms) so that nothing depends on the C library's time zone state:
 * never gmtime, timegm, mktime or strptime, never TZ. Owns nothing, no I/O,
 * no clock.
 *
 * Leap seconds: the strict RFC 3339 parser rejects a seconds field of 60
 * (like Go's protojson and most proto3 JSON parsers: Timestamp has no leap
 * seconds). The lenient upstream parser accepts 60 and folds it into the
 * following second (23:59:60Z reads as 00:00:00Z of the next day), the way
 * POSIX time arithmetic does, so one odd upstream row cannot fail a page.
 */
#include "timeutil.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* google.protobuf.Timestamp range: 0001-01-01T00:00:00Z ..
 * 9999-12-31T23:59:59.999999999Z. */
#define S_MIN_SECONDS (-62135596800LL)
#define S_MAX_SECONDS (253402300799LL)
#define S_SECONDS_PER_DAY 86400LL

/* Days since 1970-01-01 of a proleptic Gregorian date (m 1..12, d 1..31). */
static int64_t s_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;                                  /* [0, 399] */
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1; /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;          /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

static void s_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int s_is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int s_days_in_month(int64_t y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && s_is_leap(y) ? 29 : days[m - 1];
}

static int64_t s_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

/* Reads exactly n ASCII digits at *p, advancing it. */
static int s_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

static int s_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* One parser for both dialects; strict = RFC 3339 as timeutil.h says. */
static int s_parse(const char *s, int strict, struct bgw_time *out)
{
    int year, mon, day, hour, min, sec, off_h = 0, off_m = 0, off_sign = 0;
    int32_t nanos = 0;
    const char *p = s;

    if (!s)
        return -1;
    if (s_digits(&p, 4, &year) || *p++ != '-' || s_digits(&p, 2, &mon) || *p++ != '-' ||
        s_digits(&p, 2, &day))
        return -1;
    if (*p == 'T' || *p == 't' || (!strict && *p == ' '))
        p++;
    else
        return -1;
    if (s_digits(&p, 2, &hour) || *p++ != ':' || s_digits(&p, 2, &min) || *p++ != ':' ||
        s_digits(&p, 2, &sec))
        return -1;
    if (*p == '.' || (!strict && *p == ',')) {
        p++;
        int n = 0;
        while (s_is_digit(*p)) {
            if (n < 9)
                nanos = nanos * 10 + (*p - '0');
            else if (strict)
                return -1;
            n++;
            p++;
        }
        if (n == 0)
            return -1;
        for (int i = n; i < 9; i++)
            nanos *= 10;
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        off_sign = *p == '-' ? -1 : 1;
        p++;
        if (s_digits(&p, 2, &off_h))
            return -1;
        if (*p == ':') {
            p++;
            if (s_digits(&p, 2, &off_m))
                return -1;
        } else if (strict) {
            return -1;
        } else if (s_is_digit(*p)) {
            if (s_digits(&p, 2, &off_m))
                return -1;
        }
    } else if (strict || *p != '\0') {
        return -1; /* strict: the offset is required */
    }
    if (*p != '\0')
        return -1;

    if (year < 1 || mon < 1 || mon > 12 || day < 1 || day > s_days_in_month(year, mon))
        return -1;
    if (hour > 23 || min > 59 || sec > (strict ? 59 : 60))
        return -1;
    if (off_h > 23 || off_m > 59)
        return -1;

    int64_t secs =
        s_days_from_civil(year, mon, day) * S_SECONDS_PER_DAY + hour * 3600LL + min * 60LL + sec;
    secs -= (int64_t)off_sign * (off_h * 3600LL + off_m * 60LL);
    if (secs < S_MIN_SECONDS || secs > S_MAX_SECONDS)
        return -1;
    out->seconds = secs;
    out->nanos = nanos;
    return 0;
}

int timeutil_parse_rfc3339(const char *s, struct bgw_time *out)
{
    return s_parse(s, 1, out);
}

int timeutil_parse_iso8601(const char *s, struct bgw_time *out)
{
    return s_parse(s, 0, out);
}

/* Rounded to the millisecond, as the AWS SDKs do for epoch-seconds
 * timestamps (the protocols define them with millisecond precision);
 * anything finer in a double is float noise. */
int timeutil_from_epoch_double(double secs, struct bgw_time *out)
{
    /* The negated form also rejects NaN. */
    if (!(secs >= (double)S_MIN_SECONDS && secs < (double)S_MAX_SECONDS + 1.0))
        return -1;
    double x = secs * 1000.0;
    int64_t ms = (int64_t)x; /* truncates toward zero */
    double rest = x - (double)ms;
    if (rest >= 0.5)
        ms++;
    else if (rest <= -0.5)
        ms--;
    int64_t s = s_floor_div(ms, 1000);
    int64_t frac_ms = ms - s * 1000;
    if (s < S_MIN_SECONDS || s > S_MAX_SECONDS)
        return -1;
    out->seconds = s;
    out->nanos = (int32_t)(frac_ms * 1000000);
    return 0;
}

/* Splits a valid time into civil fields. */
static int s_split(int64_t secs, int64_t *y, int *mon, int *d, int *h, int *mi, int *s)
{
    if (secs < S_MIN_SECONDS || secs > S_MAX_SECONDS)
        return -1;
    int64_t days = s_floor_div(secs, S_SECONDS_PER_DAY);
    int64_t sod = secs - days * S_SECONDS_PER_DAY;
    s_civil_from_days(days, y, mon, d);
    *h = (int)(sod / 3600);
    *mi = (int)(sod / 60 % 60);
    *s = (int)(sod % 60);
    return 0;
}

/* v as exactly n decimal digits at p. */
static char *s_out_digits(char *p, int64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + n;
}

/* Written digit by digit (it is on every answer's path: no printf). */
int timeutil_format_rfc3339(struct bgw_time t, char *out, size_t out_len)
{
    int64_t y;
    int mon, d, h, mi, s;
    if (!out || t.nanos < 0 || t.nanos > 999999999 ||
        s_split(t.seconds, &y, &mon, &d, &h, &mi, &s) || y < 0 || y > 9999)
        return -1;
    int frac_digits = t.nanos == 0 ? 0 : t.nanos % 1000000 == 0 ? 3 : t.nanos % 1000 == 0 ? 6 : 9;
    size_t n = 20 + (frac_digits ? 1 + (size_t)frac_digits : 0);
    if (out_len < n + 1)
        return -1;
    char *p = s_out_digits(out, y, 4);
    *p++ = '-';
    p = s_out_digits(p, mon, 2);
    *p++ = '-';
    p = s_out_digits(p, d, 2);
    *p++ = 'T';
    p = s_out_digits(p, h, 2);
    *p++ = ':';
    p = s_out_digits(p, mi, 2);
    *p++ = ':';
    p = s_out_digits(p, s, 2);
    if (frac_digits) {
        *p++ = '.';
        int64_t v = t.nanos;
        for (int k = 9; k > frac_digits; k--)
            v /= 10;
        p = s_out_digits(p, v, frac_digits);
    }
    *p++ = 'Z';
    *p = '\0';
    return (int)n;
}

int timeutil_format_amz_date(int64_t epoch_s, char *out, size_t out_len)
{
    int64_t y;
    int mon, d, h, mi, s;

    if (!out || s_split(epoch_s, &y, &mon, &d, &h, &mi, &s))
        return -1;
    int n = snprintf(out, out_len, "%04d%02d%02dT%02d%02d%02dZ", (int)y, mon, d, h, mi, s);
    if (n < 0 || (size_t)n >= out_len)
        return -1;
    return n;
}

static const char *const s_wkday[7] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
static const char *const s_weekday[7] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                         "Friday", "Saturday", "Sunday"};
static const char *const s_month[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* Consumes one of names (exact case) at *p; its index, or -1. */
static int s_name(const char **p, const char *const *names, int n)
{
    for (int i = 0; i < n; i++) {
        size_t l = strlen(names[i]);
        if (strncmp(*p, names[i], l) == 0) {
            *p += l;
            return i;
        }
    }
    return -1;
}

static int s_lit(const char **p, const char *lit)
{
    size_t l = strlen(lit);
    if (strncmp(*p, lit, l) != 0)
        return -1;
    *p += l;
    return 0;
}

/* "HH:MM:SS" */
static int s_hms(const char **p, int *h, int *mi, int *sec)
{
    if (s_digits(p, 2, h) || s_lit(p, ":") || s_digits(p, 2, mi) || s_lit(p, ":") ||
        s_digits(p, 2, sec))
        return -1;
    if (*h > 23 || *mi > 59 || *sec > 60)
        return -1;
    if (*sec == 60)
        *sec = 59;
    return 0;
}

int timeutil_parse_http_date(const char *s, int64_t *epoch_s)
{
    if (!s || !epoch_s)
        return -1;
    const char *p = s;
    int y = 0, mon, d, h, mi, sec;
    /* The full day names first: "Sunday," is RFC 850, "Sun," IMF-fixdate. */
    if (s_name(&p, s_weekday, 7) >= 0) {
        /* RFC 850: ", DD-Mon-YY HH:MM:SS GMT" */
        int yy;
        if (s_lit(&p, ", ") || s_digits(&p, 2, &d) || s_lit(&p, "-") ||
            (mon = s_name(&p, s_month, 12)) < 0 || s_lit(&p, "-") || s_digits(&p, 2, &yy) ||
            s_lit(&p, " ") || s_hms(&p, &h, &mi, &sec) || s_lit(&p, " GMT"))
            return -1;
        y = yy >= 70 ? 1900 + yy : 2000 + yy;
    } else if (s_name(&p, s_wkday, 7) >= 0) {
        if (*p == ',') {
            /* IMF-fixdate: ", DD Mon YYYY HH:MM:SS GMT" */
            if (s_lit(&p, ", ") || s_digits(&p, 2, &d) || s_lit(&p, " ") ||
                (mon = s_name(&p, s_month, 12)) < 0 || s_lit(&p, " ") || s_digits(&p, 4, &y) ||
                s_lit(&p, " ") || s_hms(&p, &h, &mi, &sec) || s_lit(&p, " GMT"))
                return -1;
        } else {
            /* asctime: " Mon DD HH:MM:SS YYYY", the day padded with a space */
            if (s_lit(&p, " ") || (mon = s_name(&p, s_month, 12)) < 0 || s_lit(&p, " "))
                return -1;
            if (*p == ' ') {
                p++;
                if (s_digits(&p, 1, &d))
                    return -1;
            } else if (s_digits(&p, 2, &d)) {
                return -1;
            }
            if (s_lit(&p, " ") || s_hms(&p, &h, &mi, &sec) || s_lit(&p, " ") || s_digits(&p, 4, &y))
                return -1;
        }
    } else {
        return -1;
    }
    if (*p != '\0' || y < 1 || d < 1 || d > s_days_in_month(y, mon + 1))
        return -1;
    *epoch_s = s_days_from_civil(y, mon + 1, d) * S_SECONDS_PER_DAY + h * 3600 + mi * 60 + sec;
    return 0;
}

int timeutil_format_http_date(int64_t epoch_s, char *out, size_t out_len)
{
    int64_t y;
    int mon, d, h, mi, s;

    if (!out || s_split(epoch_s, &y, &mon, &d, &h, &mi, &s))
        return -1;
    /* 1970-01-01 was a Thursday (index 3 from Monday). */
    int64_t days = s_floor_div(epoch_s, S_SECONDS_PER_DAY);
    int wd = (int)(((days % 7) + 7 + 3) % 7);
    int n = snprintf(out, out_len, "%s, %02d %s %04d %02d:%02d:%02d GMT", s_wkday[wd], d,
                     s_month[mon - 1], (int)y, h, mi, s);
    if (n < 0 || (size_t)n >= out_len)
        return -1;
    return n;
}

int timeutil_compare(struct bgw_time a, struct bgw_time b)
{
    if (a.seconds != b.seconds)
        return a.seconds < b.seconds ? -1 : 1;
    if (a.nanos != b.nanos)
        return a.nanos < b.nanos ? -1 : 1;
    return 0;
}
