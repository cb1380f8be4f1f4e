/*
 * tenant - the tenant table and API-key authentication.
 *
 * The config holds, per tenant, SHA-256 hashes of its API keys (never the
 * keys). A presented key is hashed and compared against every hash of every
 * tenant in constant time (no early exit), so timing reveals neither which
 * tenant nor how much of a hash matched. Immutable after load; no I/O.
 */
#ifndef BGW_TENANT_H
#define BGW_TENANT_H

#include <stddef.h>

#include "policy.h"
#include "ratelimit.h"

#define TENANT_ID_MAX 64
#define TENANT_KEY_MAX 512 /* longest API key accepted from a client */
#define TENANT_AWS_KEY_ID_MIN 16
#define TENANT_AWS_KEY_ID_MAX 128
#define TENANT_AWS_SECRET_MIN 16
#define TENANT_AWS_SECRET_MAX 512

/* A gateway-issued AWS-style access key (the AWS-compatible front, SigV4).
 * Unlike an API key, the secret is kept as it is: verifying an HMAC needs
 * it. Wiped on clean-up. */
struct tenant_aws_key {
    char access_key_id[TENANT_AWS_KEY_ID_MAX + 1];
    char *secret; /* heap */
};

struct tenant {
    char id[TENANT_ID_MAX + 1];
    unsigned char (*key_hashes)[32]; /* n_keys SHA-256 digests, heap */
    size_t n_keys;
    char **mtls_subjects; /* heap; client-certificate names (see peer_identity.h) */
    size_t n_mtls_subjects;
    struct tenant_aws_key *aws_keys; /* heap */
    size_t n_aws_keys;
    struct ratelimit_limit rate_limit; /* rate_mrps 0 = unlimited */
    struct policy policy;              /* what the tenant may see (policy.h) */
};

struct tenant_table {
    struct tenant *tenants; /* heap array */
    size_t n_tenants;
};

void tenant_table_clean_up(struct tenant_table *t);
/* The tenant holding the AWS access key id (exact match), or NULL; *secret
 * is then its secret. */
const struct tenant *tenant_find_aws_key(const struct tenant_table *t, const char *access_key_id,
                                         const char **secret);

/* Parses 64 hex digits (either case) into a digest; 0 or -1. */
int tenant_parse_key_hash(const char *hex, unsigned char out[32]);

/* Picks the presented key out of the request's credentials: "Bearer <key>"
 * in authorization (scheme case-insensitive), or x_api_key; when both are
 * sent they must carry the same key (else refused: neither silently wins).
 * Either may be NULL. On success *key points into one of the inputs and *key_len is set;
 * returns 0. Returns -1 with a static reason (safe to show; never contains
 * the key) when nothing usable was presented. */
int tenant_extract_key(const char *authorization, const char *x_api_key, const char **key,
                       size_t *key_len, const char **reason);

/* The tenant owning key, or NULL. Constant time in the key's content. */
const struct tenant *tenant_authenticate(const struct tenant_table *t, const char *key,
                                         size_t key_len);

#endif
