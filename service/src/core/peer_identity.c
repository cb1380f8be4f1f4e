/*
 * peer_identity - certificate names and mtls_subjects matching. See
 * peer_identity.h. No I/O.
 */
#include "peer_identity.h"

#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const s_prefixes[] = {"CN=", "DNS:", "URI:", "EMAIL:", NULL};

void peer_identity_init(struct peer_identity *p)
{
    memset(p, 0, sizeof(*p));
}

void peer_identity_clean_up(struct peer_identity *p)
{
    for (size_t i = 0; i < p->n_names; i++)
        free(p->names[i]);
    free(p->names);
    peer_identity_init(p);
}

static bool s_value_ok(const unsigned char *v, size_t len)
{
    if (len == 0 || len > PEER_IDENTITY_VALUE_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (v[i] < 0x20 || v[i] == 0x7f)
            return false;
    }
    return true;
}

int peer_identity_add(struct peer_identity *p, const char *prefix, const char *value, size_t len)
{
    if (!s_value_ok((const unsigned char *)value, len) || p->n_names >= PEER_IDENTITY_MAX_NAMES)
        return 0;
    if (!p->names) {
        p->names = calloc(PEER_IDENTITY_MAX_NAMES, sizeof(char *));
        if (!p->names)
            return -1;
    }
    size_t pl = strlen(prefix);
    char *s = malloc(pl + len + 1);
    if (!s)
        return -1;
    memcpy(s, prefix, pl);
    memcpy(s + pl, value, len);
    s[pl + len] = '\0';
    p->names[p->n_names++] = s;
    return 0;
}

static int s_add_common_names(struct peer_identity *p, X509 *cert)
{
    const X509_NAME *subj = X509_get_subject_name(cert);
    int idx = -1;
    while (subj && (idx = X509_NAME_get_index_by_NID(subj, NID_commonName, idx)) >= 0) {
        X509_NAME_ENTRY *e = X509_NAME_get_entry(subj, idx);
        unsigned char *utf8 = NULL;
        int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
        int rc = n >= 0 ? peer_identity_add(p, "CN=", (const char *)utf8, (size_t)n) : 0;
        OPENSSL_free(utf8);
        if (rc != 0)
            return -1;
    }
    return 0;
}

static int s_add_alt_names(struct peer_identity *p, X509 *cert)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    int rc = 0;
    for (int i = 0; gens && rc == 0 && i < sk_GENERAL_NAME_num(gens); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        const char *prefix = NULL;
        const ASN1_IA5STRING *v = NULL;
        if (g->type == GEN_DNS) {
            prefix = "DNS:";
            v = g->d.dNSName;
        } else if (g->type == GEN_URI) {
            prefix = "URI:";
            v = g->d.uniformResourceIdentifier;
        } else if (g->type == GEN_EMAIL) {
            prefix = "EMAIL:";
            v = g->d.rfc822Name;
        }
        if (prefix && v)
            rc = peer_identity_add(p, prefix, (const char *)ASN1_STRING_get0_data(v),
                                   (size_t)ASN1_STRING_length(v));
    }
    GENERAL_NAMES_free(gens);
    return rc;
}

int peer_identity_from_x509(struct peer_identity *p, X509 *cert)
{
    p->has_cert = true;
    if (s_add_common_names(p, cert) != 0 || s_add_alt_names(p, cert) != 0)
        return -1;
    return 0;
}

int peer_identity_from_pem(struct peer_identity *p, const char *pem, size_t len)
{
    if (len > (size_t)1 << 20)
        return -1;
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    if (!bio)
        return -1;
    X509 *cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (!cert)
        return -1;
    int rc = peer_identity_from_x509(p, cert);
    X509_free(cert);
    return rc;
}

static const char *s_prefix_of(const char *s)
{
    for (const char *const *pf = s_prefixes; *pf; pf++) {
        if (strncmp(s, *pf, strlen(*pf)) == 0)
            return *pf;
    }
    return NULL;
}

int peer_identity_subject_check(const char *subject, const char **why)
{
    const char *pf = s_prefix_of(subject);
    if (!pf) {
        *why = "must start with CN=, DNS:, URI: or EMAIL: (e.g. \"CN=svc-a.internal\")";
        return -1;
    }
    const char *v = subject + strlen(pf);
    if (!s_value_ok((const unsigned char *)v, strlen(v))) {
        *why = "needs a value of 1-1024 characters without control characters";
        return -1;
    }
    if (strcmp(pf, "DNS:") == 0 && (strchr(v, '*') || strchr(v, ' '))) {
        *why = "DNS names are matched exactly: no wildcards or spaces";
        return -1;
    }
    return 0;
}

bool peer_identity_subject_matches(const char *subject, const char *name)
{
    const char *pf = s_prefix_of(subject);
    if (!pf || strncmp(name, pf, strlen(pf)) != 0)
        return false;
    size_t n = strlen(pf);
    if (strcmp(pf, "DNS:") == 0)
        return strcasecmp(subject + n, name + n) == 0;
    return strcmp(subject + n, name + n) == 0;
}
