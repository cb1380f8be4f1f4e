/*
 * sigcheck - verifies the SigV4 Authorization header of a request the way
 * AWS does, in the order AWS reports problems: header present and
 * well-formed, access key known, credential scope (service, region, date,
 * terminator), x-amz-date within the allowed skew, host and x-amz-date
 * signed, the session token, and finally the signature itself, recomputed
 * with the project's signer (sigv4.h) and compared in constant time.
 *
 * Pure: no I/O, no clock (now_s comes in). Never copies the secret into an
 * error message or anywhere that outlives the call.
 */
#ifndef FAKE_SIGCHECK_H
#define FAKE_SIGCHECK_H

#include <stddef.h>
#include <stdint.h>

#include "query.h"
#include "sigv4_testutil.h"

struct sigcheck_config {
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token; /* NULL: a request must not carry one */
    const char *region;
    const char *service; /* "bedrock" */
    int64_t max_skew_s;
};

struct sigcheck_request {
    const char *method;
    const char *path;                 /* as on the request line, before '?' */
    const struct query_params *query; /* decoded pairs */
    const struct sigv4_kv *headers;   /* every header received, in order */
    size_t n_headers;
    int64_t now_s;
};

enum sigcheck_result {
    SIGCHECK_OK = 0,
    SIGCHECK_MISSING_AUTH,        /* MissingAuthenticationTokenException */
    SIGCHECK_INCOMPLETE,          /* IncompleteSignatureException */
    SIGCHECK_UNRECOGNIZED_CLIENT, /* UnrecognizedClientException */
    SIGCHECK_INVALID_SIGNATURE,   /* InvalidSignatureException */
    SIGCHECK_INTERNAL,            /* the signer failed (memory) */
};

#define SIGCHECK_MESSAGE_MAX 4096
struct sigcheck_error {
    enum sigcheck_result result;
    char message[SIGCHECK_MESSAGE_MAX];
};

/* Returns err->result (SIGCHECK_OK when the request is authentic). */
enum sigcheck_result sigcheck_verify(const struct sigcheck_config *cfg,
                                     const struct sigcheck_request *req,
                                     struct sigcheck_error *err);

/* AWS error type name for a result ("InvalidSignatureException"); static. */
const char *sigcheck_error_type(enum sigcheck_result r);

/* Value of the first header named name (case-insensitive), or NULL. */
const char *sigcheck_header(const struct sigcheck_request *req, const char *name);

#endif
