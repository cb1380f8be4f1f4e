/*
 * sigv4_testutil - SigV4 presigning and Authorization parsing for the tests
 * and the emulator (see sigv4_testutil.c).
 */
#ifndef BGW_SIGV4_TESTUTIL_H
#define BGW_SIGV4_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "sigv4.h"

/* Presigning (query-string auth): appends the X-Amz-* query parameters,
 * including X-Amz-Signature, URI-encoded and '&'-joined, to query_out
 * (without a leading '&'), in the order AWS SDKs send them (Algorithm,
 * Credential, Date, SignedHeaders, Expires, Security-Token, Signature).
 * Headers signed are those in req (normally host; no x-amz-date). When
 * creds->session_token is set, X-Amz-Security-Token is signed and emitted;
 * a caller that must not sign the token passes NULL and appends it itself.
 * 1 <= expires_s <= SIGV4_MAX_PRESIGN_EXPIRES_S. */
int sigv4_presign_query(const struct sigv4_request *req, const struct sigv4_credentials *creds,
                        const struct sigv4_options *opts, int64_t expires_s, struct buf *query_out,
                        struct buf *canonical_request_out, struct buf *string_to_sign_out);

/* Parsed "Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=...,
 * Signature=..." (for the emulator, which verifies signatures). Fields point
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

#endif
