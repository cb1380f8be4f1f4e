/*
 * bedrockgw/client.h - C client for the bedrockgw gateway
 * (bedrockgw.v1.ModelImportJobs/ListModelImportJobs over gRPC).
 *
 * The library hides gRPC and protobuf: requests and responses are plain C
 * structs, times are seconds + nanoseconds, enums are C enums whose numbers
 * equal the proto's. It never prints and never exits; every failure comes
 * back as a struct bgw_client_error. (gRPC core itself may write
 * diagnostics to stderr through its default log function; an application
 * that wants them elsewhere installs its own with gpr_set_log_function().)
 *
 * Threads: a struct bgw_client is immutable after bgw_client_new() and is
 * safe to share between any number of threads; every call runs on its own
 * completion queue on the calling thread and blocks until it is done.
 * Callbacks run on the thread that called the paging function.
 * bgw_client_destroy() must not race with calls still running on the client.
 *
 * Memory: "who allocates, frees". A struct bgw_list_response and everything
 * it points to is owned by the caller once returned and is released with one
 * bgw_list_response_free(). Pages handed to a paging callback belong to the
 * library and are only valid during the callback.
 *
 * Link with `pkg-config --cflags --libs bedrockgw-client`.
 */
#ifndef BEDROCKGW_CLIENT_H
#define BEDROCKGW_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && !defined(BGW_CLIENT_NO_VISIBILITY)
#define BGW_CLIENT_API __attribute__((visibility("default")))
#else
#define BGW_CLIENT_API
#endif

#define BGW_CLIENT_VERSION "0.1.0"

/* ---- status codes -------------------------------------------------------
 * The gRPC status codes (same numbers). 0 = OK. Errors detected locally use
 * the nearest code: bad options or request -> INVALID_ARGUMENT, out of memory
 * -> RESOURCE_EXHAUSTED, no answer in time -> DEADLINE_EXCEEDED, gateway not
 * reachable -> UNAVAILABLE. */
enum bgw_code {
    BGW_CODE_OK = 0,
    BGW_CODE_CANCELLED = 1,
    BGW_CODE_UNKNOWN = 2,
    BGW_CODE_INVALID_ARGUMENT = 3,
    BGW_CODE_DEADLINE_EXCEEDED = 4,
    BGW_CODE_NOT_FOUND = 5,
    BGW_CODE_ALREADY_EXISTS = 6,
    BGW_CODE_PERMISSION_DENIED = 7,
    BGW_CODE_RESOURCE_EXHAUSTED = 8,
    BGW_CODE_FAILED_PRECONDITION = 9,
    BGW_CODE_ABORTED = 10,
    BGW_CODE_OUT_OF_RANGE = 11,
    BGW_CODE_UNIMPLEMENTED = 12,
    BGW_CODE_INTERNAL = 13,
    BGW_CODE_UNAVAILABLE = 14,
    BGW_CODE_DATA_LOSS = 15,
    BGW_CODE_UNAUTHENTICATED = 16
};

/* "INVALID_ARGUMENT", ...; a static string, never NULL ("UNKNOWN_CODE" for
 * numbers outside the table). */
BGW_CLIENT_API const char *bgw_code_name(int code);

#define BGW_CLIENT_ERROR_MESSAGE_MAX 512

/* Filled by every call that can fail; caller-owned, no heap. */
struct bgw_client_error {
    int code; /* enum bgw_code; BGW_CODE_OK when the call succeeded */
    /* The gateway's status message, or a description of the local failure.
     * Never contains the API key. Truncated to fit. */
    char message[BGW_CLIENT_ERROR_MESSAGE_MAX];
    /* Non-zero when calling again later may succeed (UNAVAILABLE,
     * RESOURCE_EXHAUSTED, ABORTED, DEADLINE_EXCEEDED). */
    int retryable;
    /* Non-zero when the status came from the gateway (it sent metadata);
     * zero when the client or the transport produced it: the gateway could
     * not be reached, the TLS handshake failed, or the deadline passed
     * before any answer. */
    int from_server;
    int retry_after_s; /* > 0: the gateway asked to wait this long */
    int attempts;      /* RPC attempts made (retries included); 0 = none */
};

/* ---- enums (numbers equal the proto's) ---------------------------------- */
enum bgw_job_status {
    BGW_JOB_STATUS_UNSPECIFIED = 0, /* request: any status */
    BGW_JOB_STATUS_IN_PROGRESS = 1,
    BGW_JOB_STATUS_COMPLETED = 2,
    BGW_JOB_STATUS_FAILED = 3
};
enum bgw_sort_by { BGW_SORT_BY_UNSPECIFIED = 0, BGW_SORT_BY_CREATION_TIME = 1 };
enum bgw_sort_order {
    BGW_SORT_ORDER_UNSPECIFIED = 0, /* the gateway's default (descending) */
    BGW_SORT_ORDER_ASCENDING = 1,
    BGW_SORT_ORDER_DESCENDING = 2
};

/* Bedrock spellings ("InProgress", "Completed", "Failed"; "Ascending",
 * "Descending"; "CreationTime"). Static strings; NULL for 0 or unknown. */
BGW_CLIENT_API const char *bgw_job_status_name(int status);
BGW_CLIENT_API const char *bgw_sort_order_name(int order);
BGW_CLIENT_API const char *bgw_sort_by_name(int sort_by);

/* A point in time like google.protobuf.Timestamp: seconds since the Unix
 * epoch (UTC) and nanos 0..999999999. */
struct bgw_timestamp {
    int64_t seconds;
    int32_t nanos;
};

/* ---- the client ----------------------------------------------------------- */
struct bgw_client; /* opaque */

struct bgw_client_options {
    /* gRPC target, e.g. "127.0.0.1:50051", "dns:///gw.internal:443". Required. */
    const char *target;
    /* API key sent as "authorization: Bearer <key>". Required. Copied. */
    const char *api_key;

    /* TLS. With use_tls == 0 the channel is plaintext and the tls_* fields
     * must be NULL. tls_ca_file: PEM roots (NULL = gRPC's default roots).
     * tls_cert_file + tls_key_file: client certificate chain and private key
     * for mutual TLS (both or neither). tls_server_name: expected name in the
     * server certificate when it differs from the target host (NULL = the
     * target host). Files are read once, by bgw_client_new(). */
    int use_tls;
    const char *tls_ca_file;
    const char *tls_cert_file;
    const char *tls_key_file;
    const char *tls_server_name;

    /* Deadline of a call when the request sets none, in ms; covers every
     * attempt and backoff of the call. 0 = 30000. */
    int64_t default_timeout_ms;

    /* Retries on UNAVAILABLE: up to max_attempts attempts in total
     * (0 = 3; 1 = no retry; at most 10). Waits between attempts grow from
     * initial_backoff_ms (0 = 100) doubling up to max_backoff_ms (0 = 2000),
     * with random jitter of up to half the wait, never past the deadline;
     * a longer retry-after from the gateway is honoured (up to
     * max_backoff_ms). Retrying is safe: listing has no side effects. */
    int max_attempts;
    int64_t initial_backoff_ms;
    int64_t max_backoff_ms;

    /* Largest response message accepted, bytes (0 = 16 MiB). */
    int64_t max_response_bytes;
};

/* Sets every field to its default (zero / NULL). */
BGW_CLIENT_API void bgw_client_options_init(struct bgw_client_options *opts);

/* Creates a client. Returns BGW_CODE_OK and sets *out, or an error code
 * (INVALID_ARGUMENT for bad options or unreadable TLS files) with err filled
 * (err may be NULL). Does not connect: the first call does. Destroy with
 * bgw_client_destroy(). */
BGW_CLIENT_API int bgw_client_new(const struct bgw_client_options *opts, struct bgw_client **out,
                                  struct bgw_client_error *err);

/* Frees the client (NULL is fine). No call may be running on it. The API
 * key is wiped from memory. */
BGW_CLIENT_API void bgw_client_destroy(struct bgw_client *client);

/* ---- ListModelImportJobs ---------------------------------------------------- */
struct bgw_list_request {
    /* Filters; a filter is off when its has_ flag is 0 / its value is 0 /
     * its string is NULL or "". Times are strict bounds. */
    int has_creation_time_after;
    struct bgw_timestamp creation_time_after;
    int has_creation_time_before;
    struct bgw_timestamp creation_time_before;
    int status_equals;         /* enum bgw_job_status */
    const char *name_contains; /* substring of the job name */
    int max_results;           /* page size 1-1000; 0 = the gateway's default */
    const char *next_token;    /* from a previous page; NULL/"" = first page */
    int sort_by;               /* enum bgw_sort_by */
    int sort_order;            /* enum bgw_sort_order */
    /* This call's deadline in ms (all attempts); 0 = the client's default. */
    int64_t timeout_ms;
};

/* Sets every field to zero / NULL: no filter, first page, defaults. */
BGW_CLIENT_API void bgw_list_request_init(struct bgw_list_request *req);

struct bgw_job_summary {
    char *job_arn;  /* never NULL */
    char *job_name; /* never NULL */
    int status;     /* enum bgw_job_status */
    int has_last_modified_time;
    struct bgw_timestamp last_modified_time;
    int has_creation_time;
    struct bgw_timestamp creation_time;
    int has_end_time;
    struct bgw_timestamp end_time;
    char *imported_model_arn;  /* NULL = absent */
    char *imported_model_name; /* NULL = absent */
};

struct bgw_list_response {
    struct bgw_job_summary *items; /* n_items entries (NULL when 0) */
    size_t n_items;
    /* NULL on the last page. An empty page may still carry a token: keep
     * paging until it is NULL. */
    char *next_token;
};

/* Fetches one page. Returns BGW_CODE_OK and sets *out (free it with
 * bgw_list_response_free), or an error code with *out NULL and err filled
 * (err may be NULL). Blocks for at most the call's deadline. Retries on
 * UNAVAILABLE as the client's options say. Thread-safe. */
BGW_CLIENT_API int bgw_client_list(struct bgw_client *client, const struct bgw_list_request *req,
                                   struct bgw_list_response **out, struct bgw_client_error *err);

/* Frees a response and every string in it (NULL is fine). */
BGW_CLIENT_API void bgw_list_response_free(struct bgw_list_response *resp);

/* Called once per page by bgw_client_list_all, in order, on the calling
 * thread. page (and its strings) belongs to the library and is valid only
 * during the call; page_index counts from 0. Return 0 to go on, anything
 * else to stop (bgw_client_list_all then returns BGW_CODE_CANCELLED). */
typedef int (*bgw_page_fn)(const struct bgw_list_response *page, size_t page_index,
                           void *user_data);

/* Walks every page: starts at req->next_token (usually none), follows
 * next_token until it is absent (empty pages that carry a token do not stop
 * it), and calls on_page for each page, empty ones included. max_items > 0
 * stops after that many items: the last page handed over is cut short, and
 * max_results is lowered so no more than needed is asked for.
 * req->timeout_ms (or the client's default) applies to each page. Returns
 * BGW_CODE_OK after the last page, else the first error (pages before it
 * have been delivered). *total_items (may be NULL) gets the items
 * delivered. */
BGW_CLIENT_API int bgw_client_list_all(struct bgw_client *client,
                                       const struct bgw_list_request *req, size_t max_items,
                                       bgw_page_fn on_page, void *user_data, size_t *total_items,
                                       struct bgw_client_error *err);

#ifdef __cplusplus
}
#endif

#endif /* BEDROCKGW_CLIENT_H */
