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
#include "sigv4_verify.h"

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

/* sigv4_parse_authorization and struct sigv4_auth_header live in the
 * service's sigv4_verify.h (the gateway verifies incoming signatures). */

#endif
