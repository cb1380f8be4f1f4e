/*
 * jobs_test - the validation table (every field, every boundary Bedrock
 * states), enum spellings and parsing, and clean-up (leaks show under ASan).
 */
#include "jobs.h"

#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#define T_MIN (-62135596800LL) /* 0001-01-01T00:00:00Z */
#define T_MAX (253402300799LL) /* 9999-12-31T23:59:59Z */

/* One validation case. Strings: `name`/`token` as given (NULL = unset), or,
 * when *_fill > 0, that many copies of 'a' / 'x'. `field` is the expected
 * err->field, "" when the request must pass. */
struct v_case {
    const char *what;
    int has_after;
    int64_t after_s;
    int32_t after_ns;
    int has_before;
    int64_t before_s;
    int32_t before_ns;
    int status;
    const char *name;
    int name_fill;
    int has_max;
    int64_t max;
    const char *token;
    int token_fill;
    int sort_by;
    int sort_order;
    const char *field;
};

#define OK ""
static const struct v_case s_cases[] = {
    {.what = "empty request", .field = OK},

    /* maxResults */
    {.what = "maxResults 0 explicit", .has_max = 1, .max = 0, .field = "maxResults"},
    {.what = "maxResults 0 unset", .has_max = 0, .max = 0, .field = OK},
    {.what = "maxResults 1", .has_max = 1, .max = 1, .field = OK},
    {.what = "maxResults 1000", .has_max = 1, .max = 1000, .field = OK},
    {.what = "maxResults 1001", .has_max = 1, .max = 1001, .field = "maxResults"},
    {.what = "maxResults -1", .has_max = 1, .max = -1, .field = "maxResults"},
    {.what = "maxResults huge", .has_max = 1, .max = 1LL << 40, .field = "maxResults"},

    /* nameContains: first byte alnum, then [a-zA-Z0-9+.-]* , 1..63 bytes */
    {.what = "name a", .name = "a", .field = OK},
    {.what = "name 0", .name = "0", .field = OK},
    {.what = "name 63", .name_fill = 63, .field = OK},
    {.what = "name 64", .name_fill = 64, .field = "nameContains"},
    {.what = "name empty", .name = "", .field = "nameContains"},
    {.what = "name a+b", .name = "a+b", .field = OK},
    {.what = "name a-b", .name = "a-b", .field = OK},
    {.what = "name a--b", .name = "a--b", .field = OK},
    {.what = "name a.b", .name = "a.b", .field = OK},
    {.what = "name a-", .name = "a-", .field = OK},
    {.what = "name a+", .name = "a+", .field = OK},
    {.what = "name a.", .name = "a.", .field = OK},
    {.what = "name mixed", .name = "My-Job.v2+final--", .field = OK},
    {.what = "name a b", .name = "a b", .field = "nameContains"},
    {.what = "name -a", .name = "-a", .field = "nameContains"},
    {.what = "name +a", .name = "+a", .field = "nameContains"},
    {.what = "name .a", .name = ".a", .field = "nameContains"},
    {.what = "name a_b", .name = "a_b", .field = "nameContains"},
    {.what = "name a/b", .name = "a/b", .field = "nameContains"},
    {.what = "name a*", .name = "a*", .field = "nameContains"},
    {.what = "name tab", .name = "a\tb", .field = "nameContains"},
    {.what = "name unicode first", .name = "\xc3\xa9t\xc3\xa9", .field = "nameContains"},
    {.what = "name unicode later", .name = "caf\xc3\xa9", .field = "nameContains"},

    /* nextToken: 1..2048, no whitespace */
    {.what = "token x", .token = "x", .field = OK},
    {.what = "token base64", .token = "ab+/cd==", .field = OK},
    {.what = "token 2048", .token_fill = 2048, .field = OK},
    {.what = "token 2049", .token_fill = 2049, .field = "nextToken"},
    {.what = "token empty", .token = "", .field = "nextToken"},
    {.what = "token space", .token = "a b", .field = "nextToken"},
    {.what = "token tab", .token = "a\tb", .field = "nextToken"},
    {.what = "token newline", .token = "ab\n", .field = "nextToken"},
    {.what = "token cr", .token = "\rab", .field = "nextToken"},

    /* enums: 0 or a known value */
    {.what = "status 1", .status = 1, .field = OK},
    {.what = "status 2", .status = 2, .field = OK},
    {.what = "status 3", .status = 3, .field = OK},
    {.what = "status 4", .status = 4, .field = "statusEquals"},
    {.what = "status -1", .status = -1, .field = "statusEquals"},
    {.what = "sortBy 1", .sort_by = 1, .field = OK},
    {.what = "sortBy 2", .sort_by = 2, .field = "sortBy"},
    {.what = "sortBy -1", .sort_by = -1, .field = "sortBy"},
    {.what = "sortOrder 1", .sort_order = 1, .field = OK},
    {.what = "sortOrder 2", .sort_order = 2, .field = OK},
    {.what = "sortOrder 3", .sort_order = 3, .field = "sortOrder"},

    /* timestamps */
    {.what = "after epoch", .has_after = 1, .field = OK},
    {.what = "after nanos max", .has_after = 1, .after_ns = 999999999, .field = OK},
    {.what = "after nanos -1", .has_after = 1, .after_ns = -1, .field = "creationTimeAfter"},
    {.what = "after nanos 1e9",
     .has_after = 1,
     .after_ns = 1000000000,
     .field = "creationTimeAfter"},
    {.what = "after min", .has_after = 1, .after_s = T_MIN, .field = OK},
    {.what = "after min-1", .has_after = 1, .after_s = T_MIN - 1, .field = "creationTimeAfter"},
    {.what = "after max", .has_after = 1, .after_s = T_MAX, .after_ns = 999999999, .field = OK},
    {.what = "after max+1", .has_after = 1, .after_s = T_MAX + 1, .field = "creationTimeAfter"},
    {.what = "before max+1", .has_before = 1, .before_s = T_MAX + 1, .field = "creationTimeBefore"},
    {.what = "before nanos -5", .has_before = 1, .before_ns = -5, .field = "creationTimeBefore"},
    {.what = "after < before",
     .has_after = 1,
     .after_s = 100,
     .has_before = 1,
     .before_s = 200,
     .field = OK},
    {.what = "after == before",
     .has_after = 1,
     .after_s = 100,
     .after_ns = 5,
     .has_before = 1,
     .before_s = 100,
     .before_ns = 5,
     .field = OK},
    {.what = "after > before (s)",
     .has_after = 1,
     .after_s = 201,
     .has_before = 1,
     .before_s = 200,
     .field = "creationTimeAfter"},
    {.what = "after > before (ns)",
     .has_after = 1,
     .after_s = 200,
     .after_ns = 2,
     .has_before = 1,
     .before_s = 200,
     .before_ns = 1,
     .field = "creationTimeAfter"},
    {.what = "only before", .has_before = 1, .before_s = -1000, .field = OK},

    /* everything valid at once */
    {.what = "all fields",
     .has_after = 1,
     .after_s = 1,
     .has_before = 1,
     .before_s = 2,
     .status = 2,
     .name = "job-1",
     .has_max = 1,
     .max = 10,
     .token = "tok",
     .sort_by = 1,
     .sort_order = 2,
     .field = OK},
};

static char *s_fill(char c, int n)
{
    char *s = malloc((size_t)n + 1);
    if (!s)
        abort();
    memset(s, c, (size_t)n);
    s[n] = '\0';
    return s;
}

static char *s_dup(const char *s)
{
    char *d = s ? strdup(s) : NULL;
    if (s && !d)
        abort();
    return d;
}

static void test_validate_table(void)
{
    for (size_t i = 0; i < sizeof(s_cases) / sizeof(s_cases[0]); i++) {
        const struct v_case *c = &s_cases[i];
        struct jobs_request r;
        struct bgw_error err;
        memset(&r, 0, sizeof(r));
        bgw_error_clear(&err);
        r.has_creation_time_after = c->has_after;
        r.creation_time_after.seconds = c->after_s;
        r.creation_time_after.nanos = c->after_ns;
        r.has_creation_time_before = c->has_before;
        r.creation_time_before.seconds = c->before_s;
        r.creation_time_before.nanos = c->before_ns;
        r.status_equals = c->status;
        r.name_contains = c->name_fill ? s_fill('a', c->name_fill) : s_dup(c->name);
        r.has_max_results = c->has_max;
        r.max_results = c->max;
        r.next_token = c->token_fill ? s_fill('x', c->token_fill) : s_dup(c->token);
        r.sort_by = c->sort_by;
        r.sort_order = c->sort_order;

        enum bgw_status st = jobs_request_validate(&r, &err);
        int want_ok = c->field[0] == '\0';
        if (!CHECK(want_ok ? st == BGW_OK : st == BGW_ERR_INVALID_ARGUMENT))
            fprintf(stderr, "  case \"%s\": status %d, message \"%s\"\n", c->what, (int)st,
                    err.message);
        if (!want_ok) {
            if (!CHECK(strcmp(err.field, c->field) == 0))
                fprintf(stderr, "  case \"%s\": field \"%s\", expected \"%s\"\n", c->what,
                        err.field, c->field);
            /* The message names the field and stays short. */
            if (!CHECK(strstr(err.message, c->field) != NULL) || !CHECK(strlen(err.message) < 300))
                fprintf(stderr, "  case \"%s\": message \"%s\"\n", c->what, err.message);
        }
        jobs_request_clean_up(&r);
    }
}

static void test_validate_messages(void)
{
    struct jobs_request r;
    struct bgw_error err;

    memset(&r, 0, sizeof(r));
    r.has_max_results = true;
    r.max_results = 0;
    CHECK(jobs_request_validate(&r, &err) == BGW_ERR_INVALID_ARGUMENT);
    CHECK_STR(err.message, "maxResults must be between 1 and 1000, got 0");
    CHECK_STR(err.field, "maxResults");

    r.max_results = 1001;
    CHECK(jobs_request_validate(&r, &err) == BGW_ERR_INVALID_ARGUMENT);
    CHECK_STR(err.message, "maxResults must be between 1 and 1000, got 1001");

    /* A long bad name is not echoed back. */
    memset(&r, 0, sizeof(r));
    r.name_contains = s_fill('q', 200);
    CHECK(jobs_request_validate(&r, &err) == BGW_ERR_INVALID_ARGUMENT);
    CHECK(strstr(err.message, "qqqqqqqqqq") == NULL);
    CHECK(strstr(err.message, "63") != NULL);
    jobs_request_clean_up(&r);

    /* A bad byte is described, not copied raw. */
    r.name_contains = s_dup("ab\xff");
    CHECK(jobs_request_validate(&r, &err) == BGW_ERR_INVALID_ARGUMENT);
    CHECK(strstr(err.message, "0xFF") != NULL);
    CHECK(strchr(err.message, '\xff') == NULL);
    jobs_request_clean_up(&r);

    /* Does not change r. */
    r.name_contains = s_dup("ok");
    r.has_max_results = true;
    r.max_results = 5;
    CHECK(jobs_request_validate(&r, &err) == BGW_OK);
    CHECK_STR(r.name_contains, "ok");
    CHECK(r.max_results == 5 && r.has_max_results);
    jobs_request_clean_up(&r);
}

/* ---- enum spellings ------------------------------------------------------ */

enum e_kind { E_STATUS, E_SORT_BY, E_SORT_ORDER };

static int s_parse(enum e_kind k, const char *s)
{
    switch (k) {
    case E_STATUS:
        return jobs_status_parse(s);
    case E_SORT_BY:
        return jobs_sort_by_parse(s);
    case E_SORT_ORDER:
        return jobs_sort_order_parse(s);
    }
    return -2;
}

static const struct {
    enum e_kind kind;
    const char *text;
    int want;
} s_parse_cases[] = {
    {E_STATUS, "MODEL_IMPORT_JOB_STATUS_IN_PROGRESS", 1},
    {E_STATUS, "MODEL_IMPORT_JOB_STATUS_COMPLETED", 2},
    {E_STATUS, "MODEL_IMPORT_JOB_STATUS_FAILED", 3},
    {E_STATUS, "InProgress", 1},
    {E_STATUS, "Completed", 2},
    {E_STATUS, "Failed", 3},
    {E_STATUS, "1", 1},
    {E_STATUS, "2", 2},
    {E_STATUS, "3", 3},
    {E_STATUS, "0", -1},
    {E_STATUS, "4", -1},
    {E_STATUS, "-1", -1},
    {E_STATUS, "+2", -1},
    {E_STATUS, "02", -1},
    {E_STATUS, "2 ", -1},
    {E_STATUS, "99999999999999999999", -1},
    {E_STATUS, "MODEL_IMPORT_JOB_STATUS_UNSPECIFIED", -1},
    {E_STATUS, "completed", -1},
    {E_STATUS, "COMPLETED", 2}, /* the short spelling */
    {E_STATUS, "IN_PROGRESS", 1},
    {E_STATUS, "JOB_STATUS_COMPLETED", -1},
    {E_STATUS, "Completed ", -1},
    {E_STATUS, "", -1},
    {E_STATUS, NULL, -1},
    {E_STATUS, "Ascending", -1},
    {E_SORT_BY, "SORT_BY_CREATION_TIME", 1},
    {E_SORT_BY, "CreationTime", 1},
    {E_SORT_BY, "1", 1},
    {E_SORT_BY, "2", -1},
    {E_SORT_BY, "SORT_BY_UNSPECIFIED", -1},
    {E_SORT_BY, "creationTime", -1},
    {E_SORT_BY, "CREATION_TIME", 1},
    {E_SORT_ORDER, "DESCENDING", 2},
    {E_SORT_ORDER, "descending", -1},
    {E_SORT_ORDER, "SORT_ORDER_ASCENDING", 1},
    {E_SORT_ORDER, "SORT_ORDER_DESCENDING", 2},
    {E_SORT_ORDER, "Ascending", 1},
    {E_SORT_ORDER, "Descending", 2},
    {E_SORT_ORDER, "2", 2},
    {E_SORT_ORDER, "3", -1},
    {E_SORT_ORDER, "CreationTime", -1},
};

static void test_enum_parse(void)
{
    for (size_t i = 0; i < sizeof(s_parse_cases) / sizeof(s_parse_cases[0]); i++) {
        int got = s_parse(s_parse_cases[i].kind, s_parse_cases[i].text);
        if (!CHECK(got == s_parse_cases[i].want))
            fprintf(stderr, "  parse kind %d \"%s\": got %d, expected %d\n",
                    (int)s_parse_cases[i].kind,
                    s_parse_cases[i].text ? s_parse_cases[i].text : "(null)", got,
                    s_parse_cases[i].want);
    }
}

static void test_enum_names(void)
{
    CHECK_STR(jobs_status_bedrock(1), "InProgress");
    CHECK_STR(jobs_status_bedrock(2), "Completed");
    CHECK_STR(jobs_status_bedrock(3), "Failed");
    CHECK_STR(jobs_status_proto(1), "MODEL_IMPORT_JOB_STATUS_IN_PROGRESS");
    CHECK_STR(jobs_status_proto(2), "MODEL_IMPORT_JOB_STATUS_COMPLETED");
    CHECK_STR(jobs_status_proto(3), "MODEL_IMPORT_JOB_STATUS_FAILED");
    CHECK(jobs_status_bedrock(0) == NULL && jobs_status_proto(0) == NULL);
    CHECK(jobs_status_bedrock(4) == NULL && jobs_status_proto(-1) == NULL);

    CHECK_STR(jobs_sort_by_bedrock(1), "CreationTime");
    CHECK_STR(jobs_sort_by_proto(1), "SORT_BY_CREATION_TIME");
    CHECK(jobs_sort_by_bedrock(0) == NULL && jobs_sort_by_proto(2) == NULL);

    CHECK_STR(jobs_sort_order_bedrock(1), "Ascending");
    CHECK_STR(jobs_sort_order_bedrock(2), "Descending");
    CHECK_STR(jobs_sort_order_proto(1), "SORT_ORDER_ASCENDING");
    CHECK_STR(jobs_sort_order_proto(2), "SORT_ORDER_DESCENDING");
    CHECK(jobs_sort_order_bedrock(0) == NULL && jobs_sort_order_proto(3) == NULL);

    /* Round trip: every known value parses back from both spellings. */
    for (int v = 1; v <= 3; v++) {
        CHECK(jobs_status_parse(jobs_status_proto(v)) == v);
        CHECK(jobs_status_parse(jobs_status_bedrock(v)) == v);
    }
    for (int v = 1; v <= 2; v++) {
        CHECK(jobs_sort_order_parse(jobs_sort_order_proto(v)) == v);
        CHECK(jobs_sort_order_parse(jobs_sort_order_bedrock(v)) == v);
    }
}

/* ---- clean-up ------------------------------------------------------------ */

static void test_clean_up(void)
{
    struct jobs_response resp;
    memset(&resp, 0, sizeof(resp));
    resp.n_summaries = 2;
    resp.summaries = calloc(2, sizeof(*resp.summaries));
    if (!resp.summaries)
        abort();
    resp.summaries[0].job_arn = s_dup("arn:1");
    resp.summaries[0].job_name = s_dup("one");
    resp.summaries[0].imported_model_arn = s_dup("arn:m");
    resp.summaries[0].imported_model_name = s_dup("m");
    resp.summaries[1].job_arn = s_dup("arn:2");
    resp.summaries[1].job_name = s_dup("two");
    resp.next_token = s_dup("next");
    jobs_response_clean_up(&resp);
    CHECK(resp.summaries == NULL && resp.n_summaries == 0 && resp.next_token == NULL);
    jobs_response_clean_up(&resp); /* twice is harmless */
    jobs_response_clean_up(NULL);

    struct jobs_request req;
    memset(&req, 0, sizeof(req));
    req.name_contains = s_dup("n");
    req.next_token = s_dup("t");
    jobs_request_clean_up(&req);
    CHECK(req.name_contains == NULL && req.next_token == NULL);
    jobs_request_clean_up(&req);
    jobs_request_clean_up(NULL);

    struct jobs_summary s;
    memset(&s, 0, sizeof(s));
    s.job_arn = s_dup("a");
    jobs_summary_clean_up(&s);
    CHECK(s.job_arn == NULL);
    jobs_summary_clean_up(NULL);
}

int main(void)
{
    test_validate_table();
    test_validate_messages();
    test_enum_parse();
    test_enum_names();
    test_clean_up();
    return TEST_EXIT();
}
