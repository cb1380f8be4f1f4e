/*
 * peer_identity - the names a verified client certificate carries, and how
 * a tenant's "mtls_subjects" entries match them.
 *
 * A certificate's names, each as "<type><value>":
 *   "CN=<value>"    every commonName attribute of the subject
 *   "DNS:<value>"   every subjectAltName dNSName
 *   "URI:<value>"   every subjectAltName uniformResourceIdentifier
 *   "EMAIL:<value>" every subjectAltName rfc822Name
 * Names whose value is empty, over PEER_IDENTITY_VALUE_MAX bytes, or holds a
 * NUL or control character are dropped (a CN like "a\0.evil" never
 * matches). At most PEER_IDENTITY_MAX_NAMES names are kept.
 *
 * Matching (peer_identity_subject_matches): an mtls_subjects entry matches a
 * name when the type prefixes are equal (case-sensitive, exactly as above)
 * and the values are equal byte for byte, except DNS values, which compare
 * ASCII case-insensitively (DNS names are case-insensitive). No wildcards,
 * no substrings, no partial DN matching.
 *
 * Who verifies: the TLS layer (OpenSSL for REST, gRPC core for gRPC). This
 * module only reads the already-verified certificate; it does no I/O.
 */
#ifndef BGW_PEER_IDENTITY_H
#define BGW_PEER_IDENTITY_H

#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>

#define PEER_IDENTITY_MAX_NAMES 64
#define PEER_IDENTITY_VALUE_MAX 1024

/* Caller-owned storage (_init/_clean_up). */
struct peer_identity {
    bool has_cert; /* a verified client certificate was presented */
    char **names;  /* heap array of heap strings "CN=..", "DNS:..", ... */
    size_t n_names;
};

void peer_identity_init(struct peer_identity *p);
void peer_identity_clean_up(struct peer_identity *p);

/* Adds prefix+value (value: len bytes, need not be NUL-terminated) unless
 * the value is unusable (see above). 0, or -1 on allocation failure. */
int peer_identity_add(struct peer_identity *p, const char *prefix, const char *value, size_t len);

/* Sets has_cert and collects cert's names. 0, or -1 on allocation failure.
 * The caller vouches that cert was verified. */
int peer_identity_from_x509(struct peer_identity *p, X509 *cert);
/* Same from a PEM certificate (gRPC hands the peer certificate as PEM).
 * -1 when pem is not a certificate. */
int peer_identity_from_pem(struct peer_identity *p, const char *pem, size_t len);

/* Config syntax of one mtls_subjects entry. 0, or -1 with a static reason. */
int peer_identity_subject_check(const char *subject, const char **why);

/* Does the configured subject match the certificate name? */
bool peer_identity_subject_matches(const char *subject, const char *name);

#endif
