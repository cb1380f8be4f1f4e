/*
 * bedrock_list_parse_test - the one-pass parser of Bedrock's list body held
 * to the jansson-based parser it replaced (tests/common/bedrock_list_oracle):
 * the same verdict, message and fields for 300,000 generated bodies
 * (Bedrock-shaped, with every field of every type, duplicates, unknown
 * members, escapes, surrogates, bad UTF-8, NUL, number overflows, random
 * whitespace, then often one byte flipped, inserted or cut), for nesting
 * around jansson's depth limit, and for a few hand-written cases.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bedrock_list_oracle.h"
#include "buf.h"
#include "test_util.h"

static uint64_t s_rng = 0x2545F4914F6CDD1Du;

static uint32_t s_rand(void)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return (uint32_t)(s_rng >> 11);
}

static bool s_one_in(uint32_t n)
{
    return s_rand() % n == 0;
}

static void s_ws(struct buf *b)
{
    while (s_one_in(4))
        buf_append_char(b, " \t\n\r"[s_rand() % 4]);
}

static void s_string(struct buf *b)
{
    static const char *const pieces[] = {
        "arn:aws:bedrock:us-east-1:123456789012:model-import-job/abc",
        "job-1",
        "Completed",
        "InProgress",
        "Failed",
        "2024-05-01T10:00:00Z",
        "2024-05-01T10:00:00.123+02:00",
        "2024-13-01T00:00:00Z",
        "\\n\\t\\\"\\\\\\/",
        "\\u00e9\\u4e2d",
        "\\ud83d\\ude00",
        "\xc3\xa9",
        "\xe2\x82\xac",
        "\xf0\x9f\x98\x80",
        "\x7f",
        "",
    };
    static const char *const bad[] = {"\\ud83d", "\\ude00", "\\ud83dx",     "\\u0000",  "\\u12",
                                      "\\x",     "\xc3",    "\xed\xa0\x80", "\xc0\xaf", "\x01"};
    buf_append_char(b, '"');
    int n = (int)(s_rand() % 3);
    for (int i = 0; i < n; i++) {
        if (s_one_in(40))
            buf_append_str(b, bad[s_rand() % (sizeof(bad) / sizeof(bad[0]))]);
        else
            buf_append_str(b, pieces[s_rand() % (sizeof(pieces) / sizeof(pieces[0]))]);
    }
    buf_append_char(b, '"');
}

static void s_number(struct buf *b)
{
    static const char *const nums[] = {"1714557600",
                                       "0",
                                       "-0",
                                       "1714557600.5",
                                       "1.7145576e9",
                                       "1e-400",
                                       "253402300799",
                                       "253402300800",
                                       "-62135596800",
                                       "-62135596801",
                                       "1E+3",
                                       "2.5E-3",
                                       "9223372036854775807",
                                       "-9223372036854775808"};
    static const char *const bad[] = {"1e400", "-1e400", "99999999999999999999", "01", "1.", ".5",
                                      "-",     "1e",     "9223372036854775808"};
    if (s_one_in(25))
        buf_append_str(b, bad[s_rand() % (sizeof(bad) / sizeof(bad[0]))]);
    else
        buf_append_str(b, nums[s_rand() % (sizeof(nums) / sizeof(nums[0]))]);
}

static void s_value(struct buf *b, int depth);

static void s_scalar(struct buf *b)
{
    switch (s_rand() % 6) {
    case 0:
        buf_append_str(b, "null");
        break;
    case 1:
        buf_append_str(b, s_one_in(2) ? "true" : "false");
        break;
    case 2:
    case 3:
        s_string(b);
        break;
    default:
        s_number(b);
    }
}

static void s_value(struct buf *b, int depth)
{
    s_ws(b);
    if (depth > 3 || !s_one_in(4)) {
        s_scalar(b);
    } else if (s_one_in(2)) {
        buf_append_char(b, '[');
        int n = (int)(s_rand() % 3);
        for (int i = 0; i < n; i++) {
            if (i)
                buf_append_char(b, ',');
            s_value(b, depth + 1);
        }
        buf_append_char(b, ']');
    } else {
        buf_append_char(b, '{');
        int n = (int)(s_rand() % 3);
        for (int i = 0; i < n; i++) {
            if (i)
                buf_append_char(b, ',');
            s_string(b);
            buf_append_char(b, ':');
            s_value(b, depth + 1);
        }
        buf_append_char(b, '}');
    }
    s_ws(b);
}

static const char *const s_fields[] = {"jobArn",           "jobName",          "status",
                                       "lastModifiedTime", "creationTime",     "endTime",
                                       "importedModelArn", "importedModelName"};

/* A field's value, usually of the right type. */
static void s_field_value(struct buf *b, int k)
{
    if (s_one_in(6)) {
        s_value(b, 2);
        return;
    }
    char tmp[64];
    switch (k) {
    case 0:
    case 1:
    case 6:
    case 7:
        if (s_one_in(8))
            buf_append_str(b, "\"\"");
        else
            buf_appendf(b, "\"%s-%u\"", s_fields[k], s_rand() % 100);
        break;
    case 2:
        buf_appendf(b, "\"%s\"",
                    (const char *[]){"Completed", "InProgress", "Failed", "Stopped"}[s_rand() % 4]);
        break;
    default:
        if (s_one_in(2)) {
            snprintf(tmp, sizeof(tmp), "\"2024-%02u-%02uT%02u:00:00%sZ\"", 1 + s_rand() % 12,
                     1 + s_rand() % 28, s_rand() % 24, s_one_in(3) ? ".25" : "");
            buf_append_str(b, tmp);
        } else {
            s_number(b);
        }
    }
}

static void s_row(struct buf *b)
{
    if (s_one_in(20)) {
        s_value(b, 2);
        return;
    }
    buf_append_char(b, '{');
    bool first = true;
    for (int k = 0; k < 8; k++) {
        int reps = s_one_in(10) ? 0 : s_one_in(15) ? 2 : 1;
        for (int r = 0; r < reps; r++) {
            if (!first)
                buf_append_char(b, ',');
            first = false;
            s_ws(b);
            buf_appendf(b, "\"%s\"", s_fields[k]);
            s_ws(b);
            buf_append_char(b, ':');
            s_ws(b);
            s_field_value(b, k);
        }
        if (s_one_in(8)) {
            if (!first)
                buf_append_char(b, ',');
            first = false;
            s_string(b);
            buf_append_char(b, ':');
            s_value(b, 2);
        }
    }
    buf_append_char(b, '}');
}

static void s_body(struct buf *b)
{
    s_ws(b);
    if (s_one_in(30)) {
        s_value(b, 0);
        return;
    }
    buf_append_char(b, '{');
    bool first = true;
    int members = 1 + (int)(s_rand() % 4);
    for (int m = 0; m < members; m++) {
        if (!first)
            buf_append_char(b, ',');
        first = false;
        s_ws(b);
        uint32_t which = s_rand() % 4;
        if (which <= 1) {
            buf_append_str(b, "\"modelImportJobSummaries\":");
            s_ws(b);
            if (s_one_in(12)) {
                s_value(b, 1);
            } else {
                buf_append_char(b, '[');
                int n = (int)(s_rand() % 5);
                for (int i = 0; i < n; i++) {
                    if (i)
                        buf_append_char(b, ',');
                    s_ws(b);
                    s_row(b);
                }
                buf_append_char(b, ']');
            }
        } else if (which == 2) {
            buf_append_str(b, "\"nextToken\":");
            if (s_one_in(4))
                s_value(b, 1);
            else
                s_string(b);
        } else {
            s_string(b);
            buf_append_char(b, ':');
            s_value(b, 1);
        }
        s_ws(b);
    }
    buf_append_char(b, '}');
    s_ws(b);
}

static void s_mutate(struct buf *b)
{
    if (!b->len || !s_one_in(4))
        return;
    size_t at = s_rand() % b->len;
    switch (s_rand() % 3) {
    case 0:
        b->data[at] = (char)(s_rand() % 256);
        break;
    case 1:
        b->len = at;
        break;
    default:
        buf_append_char(b, 'x');
        memmove(b->data + at + 1, b->data + at, b->len - at - 1);
        b->data[at] = "{}[],:\"\\0 \x80"[s_rand() % 11];
    }
}

static int s_failures_shown;
static long s_ok, s_not_json, s_refused, s_rows_seen; /* what the generated bodies hit */

static void s_compare(const char *body, size_t len)
{
    int verdict;
    size_t rows;
    char detail[512];
    bool same = bedrock_list_oracle_agrees(body, len, &verdict, &rows, detail, sizeof(detail));
    s_ok += verdict == 0;
    s_not_json += verdict == 1;
    s_refused += verdict == 2;
    s_rows_seen += (long)rows;
    if (!CHECK(same) && s_failures_shown++ < 5)
        fprintf(stderr, "  body (%zu bytes): %.*s\n  %s\n", len, (int)len, body, detail);
}

static void test_generated(void)
{
    struct buf b;
    buf_init(&b, 0);
    s_ok = s_not_json = s_refused = s_rows_seen = 0;
    const long n = 300000;
    for (long i = 0; i < n; i++) {
        buf_reset(&b);
        s_body(&b);
        s_mutate(&b);
        if (b.len)
            s_compare(b.data, b.len);
    }
    buf_clean_up(&b);
    printf("generated bodies: %ld parsed (%ld rows), %ld not JSON, %ld refused a field\n", s_ok,
           s_rows_seen, s_not_json, s_refused);
    /* the generator reaches every verdict often (else this test proves little) */
    CHECK(s_ok > n / 20 && s_not_json > n / 20 && s_refused > n / 20 && s_rows_seen > n / 40);
}

static void test_depth(void)
{
    struct buf b;
    buf_init(&b, 0);
    for (int depth = 2040; depth <= 2052; depth++) {
        for (int root = 0; root < 2; root++) {
            buf_reset(&b);
            if (!root)
                buf_append_str(&b, "{\"x\":");
            for (int i = 0; i < depth; i++)
                buf_append_char(&b, i % 2 ? '[' : '[');
            buf_append_str(&b, "1");
            for (int i = 0; i < depth; i++)
                buf_append_char(&b, ']');
            if (!root)
                buf_append_str(&b, ",\"modelImportJobSummaries\":[]}");
            s_compare(b.data, b.len);
        }
        buf_reset(&b);
        buf_append_str(&b, "{\"modelImportJobSummaries\":[{\"jobArn\":\"a\",\"jobName\":\"b\","
                           "\"creationTime\":1,\"x\":");
        for (int i = 0; i < depth - 4; i++)
            buf_append_str(&b, "{\"k\":");
        buf_append_str(&b, "null");
        for (int i = 0; i < depth - 4; i++)
            buf_append_char(&b, '}');
        buf_append_str(&b, "}]}");
        s_compare(b.data, b.len);
    }
    buf_clean_up(&b);
}

static void test_cases(void)
{
    static const char *const cases[] = {
        "{}",
        "[]",
        "1",
        "\"s\"",
        "{} x",
        "{\"modelImportJobSummaries\":[{\"jobArn\":\"a\",\"jobName\":\"b\",\"creationTime\":"
        "\"2024-01-01T00:00:00Z\",\"status\":\"Completed\"}],\"nextToken\":\"t\"}",
        "{\"modelImportJobSummaries\":[{\"jobArn\":\"a\",\"jobName\":\"b\"},1],\"nextToken\":5}",
        "{\"nextToken\":5,\"modelImportJobSummaries\":[{\"jobArn\":\"a\"}]}",
        "{\"modelImportJobSummaries\":[1],\"modelImportJobSummaries\":null}",
        "{\"modelImportJobSummaries\":null,\"modelImportJobSummaries\":[{}]}",
        "{\"nextToken\":\"\"}",
        "{\"model\\u0049mportJobSummaries\":[{\"job\\u0041rn\":\"a\",\"jobName\":\"b\"}]}",
        "{\"modelImportJobSummaries\":[{\"jobArn\":\"a\",\"jobName\":\"b\",\"creationTime\":1e400}]"
        "}",
        "{\"modelImportJobSummaries\":[{\"jobArn\":\"a\",\"jobName\":\"b\",\"endTime\":true,"
        "\"creationTime\":1714557600.25,\"importedModelArn\":7}]}",
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        s_compare(cases[i], strlen(cases[i]));
    /* bytes after a NUL are still part of the body */
    static const char nul[] = "{}\0";
    s_compare(nul, sizeof(nul) - 1);
}

int main(void)
{
    test_cases();
    test_depth();
    test_generated();
    return TEST_EXIT();
}
