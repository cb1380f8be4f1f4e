/*
 * json_mapping_test - REST query parsing (every field, both spellings,
 * escapes, repeats, unknowns, empties, numbers) and response / error
 * rendering compared against exact JSON text.
 */
#include "json_mapping.h"

#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#define T_2024 1704164645LL /* 2024-01-02T03:04:05Z */

/* ---- query parsing ------------------------------------------------------- */

/* err: NULL = must parse; otherwise the expected err->field ("" = none).
 * For parsed cases every request field is compared with the expectation
 * (has_* false / 0 / NULL unless given). */
struct q_case {
    const char *query;
    const char *err;
    int has_after;
    int64_t after_s;
    int32_t after_ns;
    int has_before;
    int64_t before_s;
    int status;
    const char *name;
    int has_max;
    int64_t max;
    const char *token;
    int sort_by;
    int sort_order;
};

static const struct q_case s_query_cases[] = {
    {.query = NULL},
    {.query = ""},
    {.query = "&"},
    {.query = "&&maxResults=5&", .has_max = 1, .max = 5},

    /* maxResults: plain decimal integer in int range */
    {.query = "maxResults=5", .has_max = 1, .max = 5},
    {.query = "max_results=1000", .has_max = 1, .max = 1000},
    {.query = "maxResults=0", .has_max = 1, .max = 0},
    {.query = "maxResults=-3", .has_max = 1, .max = -3},
    {.query = "maxResults=007", .has_max = 1, .max = 7},
    {.query = "maxResults=2147483647", .has_max = 1, .max = 2147483647},
    {.query = "maxResults=-2147483648", .has_max = 1, .max = -2147483648LL},
    {.query = "maxResults=2147483648", .err = "maxResults"},
    {.query = "maxResults=-2147483649", .err = "maxResults"},
    {.query = "maxResults=99999999999999999999999999", .err = "maxResults"},
    {.query = "maxResults=1e3", .err = "maxResults"},
    {.query = "maxResults=%205", .err = "maxResults"},
    {.query = "maxResults=5%20", .err = "maxResults"},
    {.query = "maxResults=5x", .err = "maxResults"},
    {.query = "maxResults=+5", .err = "maxResults"},
    {.query = "maxResults=-", .err = "maxResults"},
    {.query = "maxResults=0x10", .err = "maxResults"},
    {.query = "maxResults=5.0", .err = "maxResults"},
    {.query = "maxResults=%EF%BC%95", .err = "maxResults"}, /* fullwidth 5 */

    /* nameContains: decoded, '+' stays '+' (validation is not run here) */
    {.query = "nameContains=a+b", .name = "a+b"},
    {.query = "nameContains=a%2Bb", .name = "a+b"},
    {.query = "name_contains=my%20job", .name = "my job"},
    {.query = "nameContains=%c3%a9t%C3%A9", .name = "\xc3\xa9t\xc3\xa9"},
    {.query = "nameContains=a=b", .name = "a=b"},

    /* nextToken */
    {.query = "nextToken=abc%2B%2F%3D%3D", .token = "abc+/=="},
    {.query = "next_token=abc+/==", .token = "abc+/=="},

    /* enums: proto name, Bedrock spelling, number; zero means "any" */
    {.query = "statusEquals=Completed", .status = 2},
    {.query = "statusEquals=MODEL_IMPORT_JOB_STATUS_FAILED", .status = 3},
    {.query = "status_equals=InProgress", .status = 1},
    {.query = "statusEquals=1", .status = 1},
    {.query = "statusEquals=MODEL_IMPORT_JOB_STATUS_UNSPECIFIED", .status = 0},
    {.query = "statusEquals=0", .status = 0},
    {.query = "statusEquals=completed", .err = "statusEquals"},
    {.query = "statusEquals=9", .err = "statusEquals"},
    {.query = "statusEquals=Completed%20", .err = "statusEquals"},
    {.query = "sortBy=CreationTime", .sort_by = 1},
    {.query = "sort_by=SORT_BY_CREATION_TIME", .sort_by = 1},
    {.query = "sortBy=Name", .err = "sortBy"},
    {.query = "sortOrder=Descending", .sort_order = 2},
    {.query = "sort_order=SORT_ORDER_ASCENDING", .sort_order = 1},
    {.query = "sortOrder=2", .sort_order = 2},
    {.query = "sortOrder=Up", .err = "sortOrder"},
    {.query = "sortOrder=3", .err = "sortOrder"},

    /* timestamps: RFC 3339 with offset; encoded and literal '+' agree */
    {.query = "creationTimeAfter=2024-01-02T08%3A34%3A05%2B05%3A30",
     .has_after = 1,
     .after_s = T_2024},
    {.query = "creationTimeAfter=2024-01-02T08:34:05+05:30", .has_after = 1, .after_s = T_2024},
    {.query = "creationTimeBefore=2024-01-01T19%3A04%3A05-08%3A00",
     .has_before = 1,
     .before_s = T_2024},
    {.query = "creation_time_before=2024-01-01T19:04:05-08:00",
     .has_before = 1,
     .before_s = T_2024},
    {.query = "creationTimeAfter=2024-01-02T03:04:05.25Z",
     .has_after = 1,
     .after_s = T_2024,
     .after_ns = 250000000},
    {.query = "creation_time_after=2024-01-02t03:04:05z", .has_after = 1, .after_s = T_2024},
    {.query = "creationTimeAfter=2024-01-02T03:04:05", .err = "creationTimeAfter"},
    {.query = "creationTimeAfter=2024-01-02T08:34:05%205:30", .err = "creationTimeAfter"},
    {.query = "creationTimeAfter=2024-02-30T00:00:00Z", .err = "creationTimeAfter"},
    {.query = "creationTimeBefore=2024-01-01T24:00:00Z", .err = "creationTimeBefore"},
    {.query = "creationTimeBefore=0000-01-01T00:00:00Z", .err = "creationTimeBefore"},
    {.query = "creationTimeBefore=1704164645", .err = "creationTimeBefore"},

    /* repeated, under either spelling */
    {.query = "maxResults=1&maxResults=2", .err = "maxResults"},
    {.query = "maxResults=1&max_results=1", .err = "maxResults"},
    {.query = "next_token=a&nextToken=b", .err = "nextToken"},
    {.query = "sortBy=CreationTime&sort_by=CreationTime", .err = "sortBy"},
    {.query = "creationTimeAfter=2024-01-02T03:04:05Z&creation_time_after=2024-01-02T03:04:05Z",
     .err = "creationTimeAfter"},

    /* unknown names (matching is exact and case-sensitive) */
    {.query = "foo=1", .err = "foo"},
    {.query = "MaxResults=5", .err = "MaxResults"},
    {.query = "maxresults=5", .err = "maxresults"},
    {.query = "maxResults%20=5", .err = "maxResults "},
    {.query = "=5", .err = ""},
    {.query = "maxResults=5&pageSize=5", .err = "pageSize"},

    /* empty values */
    {.query = "maxResults=", .err = "maxResults"},
    {.query = "nameContains", .err = "nameContains"},
    {.query = "nextToken=&maxResults=5", .err = "nextToken"},
    {.query = "statusEquals=", .err = "statusEquals"},

    /* percent-escapes: names decode too; malformed or NUL is an error */
    {.query = "max%5Fresults=5", .has_max = 1, .max = 5},
    {.query = "%6eameContains=x", .name = "x"},
    {.query = "nameContains=a%2", .err = "nameContains"},
    {.query = "nameContains=a%", .err = "nameContains"},
    {.query = "nameContains=%zz", .err = "nameContains"},
    {.query = "nameContains=%G1", .err = "nameContains"},
    {.query = "nameContains=%%41", .err = "nameContains"},
    {.query = "nameContains=a%00b", .err = "nameContains"},
    {.query = "ma%xResults=5", .err = ""},
    {.query = "max%00Results=5", .err = ""},

    /* everything at once */
    {.query = "creationTimeAfter=2024-01-02T03:04:05Z&creationTimeBefore=2024-01-02T03:04:05Z&"
              "statusEquals=Failed&nameContains=job-1&maxResults=50&nextToken=t0k&"
              "sortBy=CreationTime&sortOrder=Ascending",
     .has_after = 1,
     .after_s = T_2024,
     .has_before = 1,
     .before_s = T_2024,
     .status = 3,
     .name = "job-1",
     .has_max = 1,
     .max = 50,
     .token = "t0k",
     .sort_by = 1,
     .sort_order = 1},
};

static int s_str_eq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void test_query_table(void)
{
    for (size_t i = 0; i < sizeof(s_query_cases) / sizeof(s_query_cases[0]); i++) {
        const struct q_case *c = &s_query_cases[i];
        const char *q = c->query ? c->query : "(null)";
        struct jobs_request r;
        struct bgw_error err;
        bgw_error_clear(&err);
        memset(&r, 0xA5, sizeof(r)); /* the parser must initialize everything */
        enum bgw_status st = json_mapping_parse_query(c->query, &r, &err);
        if (c->err) {
            if (!CHECK(st == BGW_ERR_INVALID_ARGUMENT))
                fprintf(stderr, "  query \"%s\": status %d, expected an error\n", q, (int)st);
            else if (!CHECK(strcmp(err.field, c->err) == 0))
                fprintf(stderr, "  query \"%s\": field \"%s\", expected \"%s\" (%s)\n", q,
                        err.field, c->err, err.message);
            /* On error nothing is left allocated. */
            CHECK(r.name_contains == NULL && r.next_token == NULL);
            CHECK(err.message[0] != '\0' && strlen(err.message) < 400);
            jobs_request_clean_up(&r);
            continue;
        }
        if (!CHECK(st == BGW_OK)) {
            fprintf(stderr, "  query \"%s\": %s\n", q, err.message);
            continue;
        }
        int same = r.has_creation_time_after == (bool)c->has_after &&
                   r.has_creation_time_before == (bool)c->has_before &&
                   r.status_equals == c->status && s_str_eq(r.name_contains, c->name) &&
                   r.has_max_results == (bool)c->has_max && s_str_eq(r.next_token, c->token) &&
                   r.sort_by == c->sort_by && r.sort_order == c->sort_order;
        if (c->has_max)
            same = same && r.max_results == c->max;
        if (c->has_after)
            same = same && r.creation_time_after.seconds == c->after_s &&
                   r.creation_time_after.nanos == c->after_ns;
        if (c->has_before)
            same = same && r.creation_time_before.seconds == c->before_s &&
                   r.creation_time_before.nanos == 0;
        if (!CHECK(same))
            fprintf(stderr, "  query \"%s\": parsed to something else\n", q);
        jobs_request_clean_up(&r);
    }
}

static void test_query_details(void)
{
    struct jobs_request a, b;
    struct bgw_error err;

    /* "%2B05%3A30" and a literal "+05:30" are the same instant. */
    CHECK(json_mapping_parse_query("creationTimeAfter=2024-06-01T12%3A00%3A00%2B05%3A30", &a,
                                   &err) == BGW_OK);
    CHECK(json_mapping_parse_query("creationTimeAfter=2024-06-01T12:00:00+05:30", &b, &err) ==
          BGW_OK);
    CHECK(a.has_creation_time_after && b.has_creation_time_after);
    CHECK(a.creation_time_after.seconds == b.creation_time_after.seconds &&
          a.creation_time_after.nanos == b.creation_time_after.nanos);
    CHECK(a.creation_time_after.seconds == 1717223400LL); /* 06:30:00Z */

    /* An explicit maxResults=0 is "set", so validation rejects it. */
    CHECK(json_mapping_parse_query("maxResults=0", &a, &err) == BGW_OK);
    CHECK(a.has_max_results && a.max_results == 0);
    CHECK(jobs_request_validate(&a, &err) == BGW_ERR_INVALID_ARGUMENT);
    CHECK_STR(err.field, "maxResults");
    CHECK_STR(err.message, "maxResults must be between 1 and 1000, got 0");

    /* A page token is never quoted back, whatever is wrong with it. */
    CHECK(json_mapping_parse_query("nextToken=%00SECRETTOKENabc", &a, &err) ==
          BGW_ERR_INVALID_ARGUMENT);
    CHECK_STR(err.field, "nextToken");
    CHECK(strstr(err.message, "SECRETTOKEN") == NULL);
    CHECK(json_mapping_parse_query("nextToken=SECRETTOKEN%zz", &a, &err) ==
          BGW_ERR_INVALID_ARGUMENT);
    CHECK_STR(err.field, "nextToken");
    CHECK(strstr(err.message, "SECRETTOKEN") == NULL);
    CHECK(strstr(err.message, "percent-escape") != NULL);

    /* Exact messages for a few errors. */
    CHECK(json_mapping_parse_query("maxResults=1e3", &a, &err) == BGW_ERR_INVALID_ARGUMENT);
    CHECK_STR(err.message, "maxResults must be a decimal integer, got \"1e3\"");
    CHECK(json_mapping_parse_query("maxResults=1&max_results=2", &a, &err) ==
          BGW_ERR_INVALID_ARGUMENT);
    CHECK_STR(err.message, "query parameter maxResults given more than once (as maxResults or "
                           "max_results)");
    CHECK(json_mapping_parse_query("nameContains=", &a, &err) == BGW_ERR_INVALID_ARGUMENT);
    CHECK_STR(err.message, "query parameter nameContains must not be empty (omit it instead)");
    CHECK(json_mapping_parse_query("foo=1", &a, &err) == BGW_ERR_INVALID_ARGUMENT);
    CHECK(strstr(err.message, "unknown query parameter \"foo\"") == err.message);

    /* Client input is quoted at most ~64 bytes, printable ASCII only. */
    char q[600];
    memcpy(q, "nameContains=ok&", 16);
    memset(q + 16, 'z', 300);
    memcpy(q + 316, "=1", 3);
    CHECK(json_mapping_parse_query(q, &a, &err) == BGW_ERR_INVALID_ARGUMENT);
    CHECK(a.name_contains == NULL);
    char z65[66];
    memset(z65, 'z', 65);
    z65[65] = '\0';
    CHECK(strstr(err.message, z65) == NULL);
    CHECK(strstr(err.message, "...") != NULL);
    CHECK(strlen(err.field) < BGW_ERROR_FIELD_MAX);

    CHECK(json_mapping_parse_query("statusEquals=%C3%A9%01", &a, &err) == BGW_ERR_INVALID_ARGUMENT);
    CHECK(strstr(err.message, "got \"???\"") != NULL);
}

/* ---- rendering ----------------------------------------------------------- */

static char *s_dup(const char *s)
{
    char *d = strdup(s);
    if (!d)
        abort();
    return d;
}

static void s_expect_render(const struct jobs_response *r, const char *want, int line)
{
    struct buf b;
    buf_init(&b, 0);
    int rc = json_mapping_render_response(r, &b);
    if (!CHECK(want ? rc == 0 : rc == -1))
        fprintf(stderr, "  render case at line %d: rc %d\n", line, rc);
    else if (want && !CHECK(b.data && strcmp(b.data, want) == 0))
        fprintf(stderr, "  render case at line %d:\n  got:      %s\n  expected: %s\n", line,
                b.data ? b.data : "(null)", want);
    buf_clean_up(&b);
}

static void test_render_response(void)
{
    struct jobs_summary s[2];
    struct jobs_response r;

    memset(&r, 0, sizeof(r));
    s_expect_render(&r, "{\"modelImportJobSummaries\":[]}", __LINE__);

    /* An empty page may still carry a token. */
    r.next_token = "tok";
    s_expect_render(&r, "{\"modelImportJobSummaries\":[],\"nextToken\":\"tok\"}", __LINE__);
    r.next_token = "";
    s_expect_render(&r, "{\"modelImportJobSummaries\":[]}", __LINE__);

    memset(s, 0, sizeof(s));
    s[0].job_arn = "arn:aws:bedrock:us-east-1:123456789012:model-import-job/abc";
    s[0].job_name = "job-1";
    s[0].status = JOBS_STATUS_COMPLETED;
    s[0].has_last_modified_time = true;
    s[0].last_modified_time = (struct bgw_time){T_2024, 500000000};
    s[0].has_creation_time = true;
    s[0].creation_time = (struct bgw_time){T_2024, 0};
    s[0].has_end_time = true;
    s[0].end_time = (struct bgw_time){T_2024 + 1, 120000};
    s[0].imported_model_arn = "arn:aws:bedrock:us-east-1:123456789012:imported-model/xyz";
    s[0].imported_model_name = "model+1";
    s[1].job_arn = "a";
    s[1].job_name = "b";
    s[1].status = JOBS_STATUS_IN_PROGRESS;
    s[1].has_creation_time = true;
    s[1].creation_time = (struct bgw_time){-1, 1};
    r.summaries = s;
    r.n_summaries = 2;
    r.next_token = "n+1/=";
    s_expect_render(&r,
                    "{\"modelImportJobSummaries\":[{\"jobArn\":\"arn:aws:bedrock:us-east-1:"
                    "123456789012:model-import-job/abc\",\"jobName\":\"job-1\",\"status\":"
                    "\"MODEL_IMPORT_JOB_STATUS_COMPLETED\",\"lastModifiedTime\":\"2024-01-02T03:"
                    "04:05.500Z\",\"creationTime\":\"2024-01-02T03:04:05Z\",\"endTime\":\"2024-"
                    "01-02T03:04:06.000120Z\",\"importedModelArn\":\"arn:aws:bedrock:us-east-1:"
                    "123456789012:imported-model/xyz\",\"importedModelName\":\"model+1\"},{"
                    "\"jobArn\":\"a\",\"jobName\":\"b\",\"status\":\"MODEL_IMPORT_JOB_STATUS_IN_"
                    "PROGRESS\",\"creationTime\":\"1969-12-31T23:59:59.000000001Z\"}],"
                    "\"nextToken\":\"n+1/=\"}",
                    __LINE__);

    /* Unknown status (0 or a number the proto lacks) is omitted, like any
     * default-valued proto3 field; so are absent strings. */
    memset(s, 0, sizeof(s));
    s[0].job_arn = "a";
    s[0].job_name = "b";
    s[0].status = 0;
    s[0].imported_model_name = "";
    r.n_summaries = 1;
    r.next_token = NULL;
    s_expect_render(&r, "{\"modelImportJobSummaries\":[{\"jobArn\":\"a\",\"jobName\":\"b\"}]}",
                    __LINE__);
    s[0].status = 42;
    s_expect_render(&r, "{\"modelImportJobSummaries\":[{\"jobArn\":\"a\",\"jobName\":\"b\"}]}",
                    __LINE__);

    /* JSON escaping; UTF-8 passes through unescaped; '/' is not escaped. */
    s[0].status = 0;
    s[0].job_name = "q\"b\\s/\n\x01\xc3\xa9";
    s_expect_render(&r,
                    "{\"modelImportJobSummaries\":[{\"jobArn\":\"a\",\"jobName\":\"q\\\"b\\\\s/"
                    "\\n\\u0001\xc3\xa9\"}]}",
                    __LINE__);

    /* Failures: invalid UTF-8, an out-of-range time. */
    s[0].job_name = "bad\xff";
    s_expect_render(&r, NULL, __LINE__);
    s[0].job_name = "b";
    s[0].has_end_time = true;
    s[0].end_time = (struct bgw_time){0, 1000000000};
    s_expect_render(&r, NULL, __LINE__);
    s[0].end_time = (struct bgw_time){253402300800LL, 0};
    s_expect_render(&r, NULL, __LINE__);

    /* A full buffer fails and leaves the buffer as it was. */
    s[0].has_end_time = false;
    struct buf small;
    buf_init(&small, 10);
    CHECK(json_mapping_render_response(&r, &small) == -1);
    CHECK(small.len == 0);
    buf_clean_up(&small);

    /* Heap-owned strings render the same and are freed by clean-up. */
    struct jobs_response h;
    memset(&h, 0, sizeof(h));
    h.summaries = calloc(1, sizeof(*h.summaries));
    if (!h.summaries)
        abort();
    h.n_summaries = 1;
    h.summaries[0].job_arn = s_dup("x");
    h.summaries[0].job_name = s_dup("y");
    h.next_token = s_dup("z");
    s_expect_render(
        &h,
        "{\"modelImportJobSummaries\":[{\"jobArn\":\"x\",\"jobName\":\"y\"}],\"nextToken\":\"z\"}",
        __LINE__);
    jobs_response_clean_up(&h);
}

static const struct {
    enum bgw_status status;
    const char *message;
    const char *field;
    int retry_after_s;
    const char *want;
} s_error_cases[] = {
    {BGW_ERR_INVALID_ARGUMENT, "maxResults must be between 1 and 1000, got 0", "maxResults", 0,
     "{\"code\":3,\"message\":\"maxResults must be between 1 and 1000, got 0\",\"details\":[{"
     "\"@type\":\"type.googleapis.com/google.rpc.BadRequest\",\"fieldViolations\":[{\"field\":"
     "\"maxResults\",\"description\":\"maxResults must be between 1 and 1000, got 0\"}]}]}"},
    {BGW_ERR_INVALID_ARGUMENT, "bad request", "", 0,
     "{\"code\":3,\"message\":\"bad request\",\"details\":[]}"},
    {BGW_ERR_RESOURCE_EXHAUSTED, "slow down", "", 5,
     "{\"code\":8,\"message\":\"slow down\",\"details\":[{\"@type\":\"type.googleapis.com/"
     "google.rpc.RetryInfo\",\"retryDelay\":\"5s\"}]}"},
    {BGW_ERR_UNAVAILABLE, "upstream unavailable", "", 30,
     "{\"code\":14,\"message\":\"upstream unavailable\",\"details\":[{\"@type\":"
     "\"type.googleapis.com/google.rpc.RetryInfo\",\"retryDelay\":\"30s\"}]}"},
    /* A field only makes a BadRequest for INVALID_ARGUMENT. */
    {BGW_ERR_PERMISSION_DENIED, "tenant may not filter by status", "statusEquals", 0,
     "{\"code\":7,\"message\":\"tenant may not filter by status\",\"details\":[]}"},
    {BGW_ERR_INVALID_ARGUMENT, "nextToken must not contain whitespace", "nextToken", 2,
     "{\"code\":3,\"message\":\"nextToken must not contain whitespace\",\"details\":[{\"@type\":"
     "\"type.googleapis.com/google.rpc.BadRequest\",\"fieldViolations\":[{\"field\":"
     "\"nextToken\",\"description\":\"nextToken must not contain whitespace\"}]},{\"@type\":"
     "\"type.googleapis.com/google.rpc.RetryInfo\",\"retryDelay\":\"2s\"}]}"},
    {BGW_ERR_INTERNAL, "", "", 0, "{\"code\":13,\"message\":\"internal error\",\"details\":[]}"},
    {BGW_ERR_BAD_GATEWAY, "quote \" and \\ and </tag>", "", 0,
     "{\"code\":13,\"message\":\"quote \\\" and \\\\ and </tag>\",\"details\":[]}"},
    {BGW_ERR_NOT_FOUND, "bytes \xff\xfe here", "", 0,
     "{\"code\":5,\"message\":\"bytes ?? here\",\"details\":[]}"},
    {BGW_ERR_UNAUTHENTICATED, "no credentials", "", 0,
     "{\"code\":16,\"message\":\"no credentials\",\"details\":[]}"},
    {BGW_ERR_DEADLINE_EXCEEDED, "too slow", "", -1,
     "{\"code\":4,\"message\":\"too slow\",\"details\":[]}"},
};

static void test_render_error(void)
{
    for (size_t i = 0; i < sizeof(s_error_cases) / sizeof(s_error_cases[0]); i++) {
        struct bgw_error e;
        struct buf b;
        bgw_error_clear(&e);
        e.status = s_error_cases[i].status;
        snprintf(e.message, sizeof(e.message), "%s", s_error_cases[i].message);
        snprintf(e.field, sizeof(e.field), "%s", s_error_cases[i].field);
        e.retry_after_s = s_error_cases[i].retry_after_s;
        buf_init(&b, 0);
        if (CHECK(json_mapping_render_error(&e, &b) == 0) &&
            !CHECK(b.data && strcmp(b.data, s_error_cases[i].want) == 0))
            fprintf(stderr, "  error case %zu:\n  got:      %s\n  expected: %s\n", i,
                    b.data ? b.data : "(null)", s_error_cases[i].want);
        buf_clean_up(&b);
    }

    /* A parse error renders end to end. */
    struct jobs_request r;
    struct bgw_error e;
    struct buf b;
    buf_init(&b, 0);
    CHECK(json_mapping_parse_query("sortOrder=Sideways", &r, &e) == BGW_ERR_INVALID_ARGUMENT);
    CHECK(json_mapping_render_error(&e, &b) == 0);
    CHECK_STR(b.data, "{\"code\":3,\"message\":\"sortOrder must be SORT_ORDER_ASCENDING or "
                      "SORT_ORDER_DESCENDING (or ASCENDING, DESCENDING, or Ascending, "
                      "Descending), got \\\"Sideways\\\"\","
                      "\"details\":[{\"@type\":\"type.googleapis.com/google.rpc.BadRequest\","
                      "\"fieldViolations\":[{\"field\":\"sortOrder\",\"description\":\"sortOrder "
                      "must be SORT_ORDER_ASCENDING or SORT_ORDER_DESCENDING (or ASCENDING, "
                      "DESCENDING, or Ascending, Descending), got \\\"Sideways\\\"\"}]}]}");
    buf_clean_up(&b);
}

int main(void)
{
    test_query_table();
    test_query_details();
    test_render_response();
    test_render_error();
    return TEST_EXIT();
}
