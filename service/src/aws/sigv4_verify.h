/*
 * sigv4_verify - checks an incoming request's AWS Signature Version 4, the
 * way AWS does, I/O-free (the time comes in): the Authorization header
 * ("AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...") or
 * a presigned query (X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date,
 * X-Amz-Expires, X-Amz-SignedHeaders, X-Amz-Signature). The canonical
 * request is rebuilt from the request as received (sigv4.h's stages), the
 * signature compared in constant time; the credential scope's date, region,
 * service and terminator are checked, a header signature older or newer
 * than max_skew_s is refused, a presigned one outside [X-Amz-Date -
 * max_skew_s, X-Amz-Date + X-Amz-Expires], host must be signed (and
 * x-amz-date, for header signatures), a session token must be the key's own
 * (gateway keys have none). Replay inside the skew window is allowed, as
 * AWS allows it. The payload is taken to be empty (GET): a signed
 * x-amz-content-sha256 must be its hash or UNSIGNED-PAYLOAD.
 *
 * The secret is found by the caller's lookup of the access key id; it never
 * leaves this call.
 */
#ifndef BGW_SIGV4_VERIFY_H
#define BGW_SIGV4_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sigv4.h"

/* Parsed "Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=...,
 * Signature=..." (what a client sends). Fields point
 * into storage, which the parser fills; returns 0 or -1 when malformed.
 *
 * header_value is the field value only (no "Authorization:"), without
 * surrounding whitespace, and may be hostile: the parser reads at most
 * sizeof(storage) bytes of it and rejects anything longer. Strict: exactly
 * "AWS4-HMAC-SHA256", one space, then Credential, SignedHeaders and
 * Signature each exactly once (any order), separated by ',' plus at most
 * one space. Credential is AKID/YYYYMMDD/region/service/aws4_request (AKID
 * letters and digits; region and service letters, digits, '-', '_', '.');
 * SignedHeaders is non-empty, lower-case header names joined by ';', in
 * strictly ascending order; Signature is 64 lower-case hex digits. On -1
 * every field is NULL. */
struct sigv4_auth_header {
    char storage[2048];
    const char *access_key_id;
    const char *date; /* YYYYMMDD */
    const char *region;
    const char *service;
    const char *terminator;     /* "aws4_request" */
    const char *signed_headers; /* "host;x-amz-date" */
    const char *signature;      /* hex */
};
int sigv4_parse_authorization(const char *header_value, struct sigv4_auth_header *out);

enum sigv4_verify_result {
    SIGV4_OK = 0,
    SIGV4_MISSING_AUTH,        /* MissingAuthenticationTokenException (403) */
    SIGV4_INCOMPLETE,          /* IncompleteSignatureException (400) */
    SIGV4_UNRECOGNIZED_CLIENT, /* UnrecognizedClientException (403) */
    SIGV4_INVALID_SIGNATURE,   /* InvalidSignatureException (403) */
    SIGV4_INTERNAL,            /* memory */
};

/* AWS's error type for a result ("InvalidSignatureException"); static. */
const char *sigv4_verify_error_type(enum sigv4_verify_result r);
/* Its HTTP status (403, or 400 for INCOMPLETE, 500 for INTERNAL). */
int sigv4_verify_http_status(enum sigv4_verify_result r);

/* The secret of an access key id, or NULL when the key is unknown. When
 * the key comes with a session token, *session_token is set to it (else
 * left NULL: a request must then carry none). */
typedef const char *(*sigv4_secret_fn)(void *ctx, const char *access_key_id,
                                       const char **session_token);

struct sigv4_verify_config {
    const char *region;
    const char *service; /* "bedrock" */
    int64_t max_skew_s;  /* AWS: 300 */
    bool raw_path;       /* S3's rule: the path as sent, no dot-segment removal (false for
                            every other service, Bedrock included) */
    sigv4_secret_fn secret_for;
    void *ctx;
};

struct sigv4_verify_request {
    const char *method;
    const char *path;             /* as on the request line, before '?' */
    const struct sigv4_kv *query; /* percent-decoded pairs, as received */
    size_t n_query;
    const struct sigv4_kv *headers; /* every header received, in order */
    size_t n_headers;
    int64_t now_s;
};

#define SIGV4_VERIFY_MESSAGE_MAX 400
struct sigv4_verify_error {
    enum sigv4_verify_result result;
    char message[SIGV4_VERIFY_MESSAGE_MAX];
    /* The access key id the request named (letters and digits), "" when
     * none could be read: for the audit line. Never the secret. */
    char access_key_id[SIGV4_MAX_SCOPE_PART_BYTES + 1];
    bool presigned;
};

/* Splits a raw query ("a=b&c=%2Fd") in place into percent-decoded pairs
 * ('+' stays '+', as SigV4 signers encode it): at most max into out, *n
 * set. 0, or -1 (a bad %-escape, an encoded NUL, more than max pairs). */
int sigv4_query_split(char *text, struct sigv4_kv *out, size_t max, size_t *n);

/* Returns err->result (SIGV4_OK when the request is authentic). */
enum sigv4_verify_result sigv4_verify(const struct sigv4_verify_config *cfg,
                                      const struct sigv4_verify_request *req,
                                      struct sigv4_verify_error *err);

#endif
