/*
 * status - the gateway's one error vocabulary.
 *
 * Every module returns an enum bgw_status (0 = OK). An error that reaches a
 * client travels as a struct bgw_error: the status, a message safe to show
 * (never a credential, signature or upstream secret) and, for
 * INVALID_ARGUMENT, the proto3 JSON name of the offending field.
 *
 * The single table in status.c gives each status its gRPC code and the HTTP
 * status grpc-gateway uses for that code (one table serves both frontends so
 * the two can never disagree). No I/O.
 */
#ifndef BGW_STATUS_H
#define BGW_STATUS_H

enum bgw_status {
    BGW_OK = 0,
    BGW_ERR_INVALID_ARGUMENT,   /* gRPC 3 INVALID_ARGUMENT, HTTP 400 */
    BGW_ERR_UNAUTHENTICATED,    /* gRPC 16, HTTP 401 */
    BGW_ERR_PERMISSION_DENIED,  /* gRPC 7, HTTP 403 */
    BGW_ERR_NOT_FOUND,          /* gRPC 5, HTTP 404 */
    BGW_ERR_RESOURCE_EXHAUSTED, /* gRPC 8, HTTP 429 */
    BGW_ERR_UNAVAILABLE,        /* gRPC 14, HTTP 503 */
    BGW_ERR_DEADLINE_EXCEEDED,  /* gRPC 4, HTTP 504 */
    BGW_ERR_BAD_GATEWAY,        /* upstream sent garbage: gRPC 13 INTERNAL, HTTP 502 */
    BGW_ERR_INTERNAL,           /* gRPC 13, HTTP 500 */
    BGW_ERR_NOMEM,              /* gRPC 8 RESOURCE_EXHAUSTED, HTTP 500 */
    BGW_ERR_CANCELLED,          /* gRPC 1, HTTP 499 */
    BGW_ERR_UNIMPLEMENTED,      /* gRPC 12, HTTP 501 */
    BGW_ERR_METHOD_NOT_ALLOWED, /* REST only: gRPC 12 UNIMPLEMENTED, HTTP 405 */
    BGW_STATUS_COUNT
};

/* Static strings; never NULL. */
const char *bgw_status_str(enum bgw_status s);
int bgw_status_grpc_code(enum bgw_status s);
const char *bgw_status_grpc_name(enum bgw_status s); /* "INVALID_ARGUMENT" */
int bgw_status_http(enum bgw_status s);

#define BGW_ERROR_MESSAGE_MAX 512
#define BGW_ERROR_FIELD_MAX 64

/* Caller-owned, fixed size, no heap: cheap to copy. */
struct bgw_error {
    enum bgw_status status;
    char message[BGW_ERROR_MESSAGE_MAX];
    char field[BGW_ERROR_FIELD_MAX]; /* proto3 JSON field name, or "" */
    int retry_after_s;               /* > 0: tell the client when to retry */
};

void bgw_error_clear(struct bgw_error *e);
/* Sets status and a printf-formatted message; returns s for `return
 * bgw_error_set(...)`. field may be NULL. */
enum bgw_status bgw_error_set(struct bgw_error *e, enum bgw_status s, const char *field,
                              const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
