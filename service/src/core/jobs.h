/*
 * jobs - the gateway's in-memory model of ListModelImportJobs: the request,
 * the job summaries, the response, the three enums and their spellings, and
 * the one validation routine both transports run before anything goes
 * upstream.
 *
 * Both frontends convert their wire form (protobuf-c message, REST query
 * string) into a struct jobs_request, and render a struct jobs_response back.
 * Strings are heap-owned by the struct (free with the *_clean_up functions).
 * No I/O, no clock.
 */
#ifndef BGW_JOBS_H
#define BGW_JOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"
#include "timeutil.h" /* struct bgw_time */

/* Numeric values equal the proto enum numbers. Fields holding them are plain
 * ints so that an unknown number received over gRPC survives until
 * validation rejects it. */
enum jobs_status {
    JOBS_STATUS_UNSPECIFIED = 0,
    JOBS_STATUS_IN_PROGRESS = 1,
    JOBS_STATUS_COMPLETED = 2,
    JOBS_STATUS_FAILED = 3,
};
enum jobs_sort_by {
    JOBS_SORT_BY_UNSPECIFIED = 0,
    JOBS_SORT_BY_CREATION_TIME = 1,
};
enum jobs_sort_order {
    JOBS_SORT_ORDER_UNSPECIFIED = 0,
    JOBS_SORT_ORDER_ASCENDING = 1,
    JOBS_SORT_ORDER_DESCENDING = 2,
};

/* Bedrock's limits (DESIGN.md section 2). */
#define JOBS_MAX_RESULTS_MIN 1
#define JOBS_MAX_RESULTS_MAX 1000
#define JOBS_NAME_CONTAINS_MAX 63
#define JOBS_NEXT_TOKEN_MAX 2048

struct jobs_request {
    bool has_creation_time_after;
    struct bgw_time creation_time_after;
    bool has_creation_time_before;
    struct bgw_time creation_time_before;
    int status_equals;   /* enum jobs_status; 0 = no filter */
    char *name_contains; /* NULL = no filter */
    bool has_max_results;
    int64_t max_results; /* meaningful when has_max_results */
    char *next_token;    /* NULL = first page */
    int sort_by;         /* enum jobs_sort_by; 0 = Bedrock's default */
    int sort_order;      /* enum jobs_sort_order; 0 = Bedrock's default */
};

struct jobs_summary {
    char *job_arn;  /* never NULL after a successful parse */
    char *job_name; /* never NULL after a successful parse */
    int status;     /* enum jobs_status; 0 if Bedrock sent something unknown */
    bool has_last_modified_time;
    struct bgw_time last_modified_time;
    bool has_creation_time;
    struct bgw_time creation_time;
    bool has_end_time;
    struct bgw_time end_time;
    char *imported_model_arn;  /* NULL = absent */
    char *imported_model_name; /* NULL = absent */
};

struct jobs_response {
    struct jobs_summary *summaries; /* array of n_summaries, heap */
    size_t n_summaries;
    char *next_token; /* NULL = last page */
};

void jobs_request_clean_up(struct jobs_request *r);
/* Deep copy into dst (overwritten). 0, or -1 when memory runs out (dst is
 * then cleaned up). */
int jobs_request_copy(const struct jobs_request *src, struct jobs_request *dst);
void jobs_summary_clean_up(struct jobs_summary *s);
void jobs_response_clean_up(struct jobs_response *r);

/* Validates r against Bedrock's limits. Does not change r. On failure fills
 * err (INVALID_ARGUMENT, field = the proto3 JSON name such as "maxResults",
 * message naming the field and the rule) and returns its status. */
enum bgw_status jobs_request_validate(const struct jobs_request *r, struct bgw_error *err);

/* Enum spellings. *_bedrock: Bedrock's wire spelling ("InProgress",
 * "CreationTime", "Ascending"); *_proto: the proto enum value name
 * ("MODEL_IMPORT_JOB_STATUS_IN_PROGRESS"). Both return NULL for 0/unknown.
 * *_parse accepts the proto name, the Bedrock spelling, or the decimal
 * number of a known value (proto3 JSON allows numbers); returns -1 when the
 * text names no known non-zero value. */
const char *jobs_status_bedrock(int v);
const char *jobs_status_proto(int v);
int jobs_status_parse(const char *s);
const char *jobs_sort_by_bedrock(int v);
const char *jobs_sort_by_proto(int v);
int jobs_sort_by_parse(const char *s);
const char *jobs_sort_order_bedrock(int v);
const char *jobs_sort_order_proto(int v);
int jobs_sort_order_parse(const char *s);

#endif
