/*
 * sigv4 - AWS Signature Version 4, in stages that can each be tested:
 *   canonical request -> string to sign -> signing key -> signature ->
 *   Authorization header (presigning and parsing an Authorization header,
 *   which only the tests and the emulator need, are in tests/common).
 *
 * The signer is handed the time (epoch seconds) and a plain description of
 * the request; it never reads the clock, never sees a CURL handle and does
 * no I/O. It signs exactly the headers it is given: the caller includes
 * host, x-amz-date and (when signing with a session token)
 * x-amz-security-token. Secret material in intermediate buffers is wiped.
 */
#ifndef BGW_SIGV4_H
#define BGW_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Limits; a request beyond any of them is refused (-1), never truncated. */
#define SIGV4_MAX_HEADERS 64                    /* signed headers per request */
#define SIGV4_MAX_HEADER_NAME_BYTES 256         /* one header name */
#define SIGV4_MAX_QUERY_PARAMS 256              /* query parameters per request */
#define SIGV4_MAX_CANONICAL_BYTES (1u << 20)    /* any intermediate text */
#define SIGV4_MAX_SCOPE_PART_BYTES 128          /* access key id, region, service */
#define SIGV4_MAX_SECRET_BYTES 1024             /* secret access key */
#define SIGV4_MAX_PRESIGN_EXPIRES_S 604800      /* 7 days, the AWS maximum */
#define SIGV4_MAX_EPOCH_S INT64_C(253402300799) /* 9999-12-31T23:59:59Z */

struct sigv4_kv {
    const char *name;
    const char *value;
};

struct sigv4_request {
    const char *method; /* "GET"; an HTTP token */
    /* The path as it appears on the request line (may itself be
     * percent-encoded); the signer normalizes (when asked) and URI-encodes
     * it per the SigV4 rules for non-S3 services. Must start with '/';
     * NULL or "" means "/". */
    const char *path;
    /* Query parameters, names and values already percent-DECODED; the signer
     * encodes and sorts them. Order and duplicates are allowed. */
    const struct sigv4_kv *query;
    size_t n_query;
    /* Headers to sign, names in any case, values untrimmed; a repeated name
     * is joined with ',' in the given order. Each value is trimmed and every
     * run of blanks in it (folded line breaks included) becomes one space;
     * other control bytes are refused. At least one header (host). */
    const struct sigv4_kv *headers;
    size_t n_headers;
    /* Lower-case hex SHA-256 of the body (or "UNSIGNED-PAYLOAD");
     * NULL = the hash of an empty body. */
    const char *payload_sha256_hex;
};

struct sigv4_credentials {
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token; /* NULL when none */
};

struct sigv4_options {
    const char *region;
    const char *service;
    int64_t epoch_s;     /* signing time */
    bool normalize_path; /* remove dot segments, collapse "//" (true for all but S3) */
};

/* Stage 1. Appends the canonical request to out; signed_headers (may be NULL)
 * receives "host;x-amz-date". Returns 0 or -1 (memory/limit). */
int sigv4_canonical_request(const struct sigv4_request *req, const struct sigv4_options *opts,
                            struct buf *out, struct buf *signed_headers);

/* Stage 2. "AWS4-HMAC-SHA256\n<amz date>\n<scope>\n<hex sha256(creq)>". */
int sigv4_string_to_sign(const char *canonical_request, const struct sigv4_options *opts,
                         struct buf *out);

/* Stage 3. HMAC chain from "AWS4"+secret over date, region, service,
 * "aws4_request". */
int sigv4_signing_key(const char *secret_access_key, const struct sigv4_options *opts,
                      unsigned char key_out[32]);

/* Stage 4. Lower-case hex HMAC-SHA256(key, string_to_sign); hex_out[65]. */
int sigv4_signature(const unsigned char key[32], const char *string_to_sign, char hex_out[65]);

/* All stages for header signing. authorization receives
 * "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request,
 *  SignedHeaders=host;x-amz-date, Signature=<hex>". The optional debug
 * buffers (may be NULL) receive the canonical request and string to sign.
 * creds->session_token is not used here: sign it by putting
 * x-amz-security-token in req->headers. All outputs are appended to; on -1
 * none of them is changed. */
int sigv4_sign_headers(const struct sigv4_request *req, const struct sigv4_credentials *creds,
                       const struct sigv4_options *opts, struct buf *authorization,
                       struct buf *canonical_request_out, struct buf *string_to_sign_out);

/* "YYYYMMDDTHHMMSSZ" of epoch_s; out >= 17 bytes. Returns 0/-1. */
int sigv4_amz_date(int64_t epoch_s, char out[17]);

/* RFC 3986 encoding as SigV4 wants it: unreserved (A-Z a-z 0-9 - . _ ~)
 * kept, every other byte as %XX with upper-case hex; '/' kept when
 * keep_slash. Used for query names/values and for building the real URL so
 * that what is sent equals what was signed. */
int sigv4_uri_encode(const char *in, size_t len, bool keep_slash, struct buf *out);

/* Lower-case hex SHA-256 of data; hex_out[65]. */
void sigv4_sha256_hex(const void *data, size_t len, char hex_out[65]);

/* Character classes of SigV4's grammar, for parsers of signed requests:
 * an RFC 9110 token character; a credential-scope part (1..
 * SIGV4_MAX_SCOPE_PART_BYTES letters, digits, '-', '_', '.'); 64 lower-case
 * hex digits. */
bool sigv4_is_token_char(unsigned char c);
bool sigv4_is_scope_part(const char *s);
bool sigv4_is_lower_hex64(const char *s);

#endif
