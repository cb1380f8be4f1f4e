/*
 * peer_identity_test - names taken from real X.509 certificates built here
 * with OpenSSL (CN, SAN DNS/URI/EMAIL, IP ignored, several CNs, a CN with an
 * embedded NUL dropped), the PEM path gRPC uses, the mtls_subjects syntax
 * check, and exact matching (DNS case-insensitive, nothing else; no
 * wildcards, prefixes or substrings).
 */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "peer_identity.h"
#include "test_util.h"

#define CHECK_EQ(a, b) CHECK((long long)(a) == (long long)(b))

/* A self-signed certificate; cns: up to 2 CN values (len-delimited so a NUL
 * can be embedded); san: OpenSSL config syntax or NULL. */
static X509 *s_cert(const char *cn1, size_t cn1_len, const char *cn2, const char *san)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, k);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8, (const unsigned char *)"Example Org", -1, -1,
                               0);
    if (cn1)
        X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn1, (int)cn1_len,
                                   -1, 0);
    if (cn2)
        X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn2, -1, -1, 0);
    X509_set_issuer_name(x, n);
    if (san) {
        X509V3_CTX ctx;
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
        X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, san);
        CHECK(e != NULL);
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
    }
    X509_sign(x, k, EVP_sha256());
    EVP_PKEY_free(k);
    return x;
}

static bool s_has(const struct peer_identity *p, const char *name)
{
    for (size_t i = 0; i < p->n_names; i++) {
        if (strcmp(p->names[i], name) == 0)
            return true;
    }
    return false;
}

static void test_names_from_certificates(void)
{
    X509 *x = s_cert("svc-a.internal", strlen("svc-a.internal"), NULL,
                     "DNS:svc-a.internal,DNS:alt.example.com,URI:spiffe://corp/ns/a/sa/svc-a,"
                     "email:ops@example.com,IP:10.0.0.1");
    struct peer_identity p;
    peer_identity_init(&p);
    CHECK(!p.has_cert);
    CHECK(peer_identity_from_x509(&p, x) == 0);
    CHECK(p.has_cert);
    CHECK_EQ(p.n_names, 5); /* the IP SAN is not a name */
    CHECK(s_has(&p, "CN=svc-a.internal"));
    CHECK(s_has(&p, "DNS:svc-a.internal"));
    CHECK(s_has(&p, "DNS:alt.example.com"));
    CHECK(s_has(&p, "URI:spiffe://corp/ns/a/sa/svc-a"));
    CHECK(s_has(&p, "EMAIL:ops@example.com"));
    CHECK(!s_has(&p, "CN=Example Org"));
    peer_identity_clean_up(&p);

    /* The PEM path (gRPC) yields the same names. */
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, x);
    char *pem = NULL;
    long len = BIO_get_mem_data(b, &pem);
    peer_identity_init(&p);
    CHECK(peer_identity_from_pem(&p, pem, (size_t)len) == 0);
    CHECK_EQ(p.n_names, 5);
    CHECK(s_has(&p, "URI:spiffe://corp/ns/a/sa/svc-a"));
    peer_identity_clean_up(&p);
    CHECK(peer_identity_from_pem(&p, "not a certificate", 17) == -1);
    peer_identity_clean_up(&p);
    BIO_free(b);
    X509_free(x);

    /* Two CNs, no SAN. */
    x = s_cert("one", 3, "two", NULL);
    peer_identity_init(&p);
    CHECK(peer_identity_from_x509(&p, x) == 0);
    CHECK_EQ(p.n_names, 2);
    CHECK(s_has(&p, "CN=one") && s_has(&p, "CN=two"));
    peer_identity_clean_up(&p);
    X509_free(x);

    /* A CN with an embedded NUL is dropped, never truncated into a match. */
    static const char nul_cn[] = "svc-a.internal\0.evil.example";
    x = s_cert(nul_cn, sizeof(nul_cn) - 1, NULL, NULL);
    peer_identity_init(&p);
    CHECK(peer_identity_from_x509(&p, x) == 0);
    CHECK(p.has_cert);
    CHECK_EQ(p.n_names, 0);
    peer_identity_clean_up(&p);
    X509_free(x);

    /* A certificate with no names at all still counts as a certificate. */
    x = s_cert(NULL, 0, NULL, NULL);
    peer_identity_init(&p);
    CHECK(peer_identity_from_x509(&p, x) == 0);
    CHECK(p.has_cert && p.n_names == 0);
    peer_identity_clean_up(&p);
    X509_free(x);
}

static void test_add_bounds(void)
{
    struct peer_identity p;
    peer_identity_init(&p);
    CHECK(peer_identity_add(&p, "CN=", "", 0) == 0);
    CHECK(peer_identity_add(&p, "CN=", "a\nb", 3) == 0);
    CHECK(peer_identity_add(&p, "CN=", "a\x7f", 2) == 0);
    CHECK_EQ(p.n_names, 0);
    char big[PEER_IDENTITY_VALUE_MAX + 1];
    memset(big, 'a', sizeof(big));
    CHECK(peer_identity_add(&p, "CN=", big, sizeof(big)) == 0);
    CHECK_EQ(p.n_names, 0);
    CHECK(peer_identity_add(&p, "CN=", big, sizeof(big) - 1) == 0);
    CHECK_EQ(p.n_names, 1);
    for (int i = 0; i < PEER_IDENTITY_MAX_NAMES + 10; i++)
        CHECK(peer_identity_add(&p, "DNS:", "x.example", 9) == 0);
    CHECK_EQ(p.n_names, PEER_IDENTITY_MAX_NAMES);
    peer_identity_clean_up(&p);
    CHECK(p.n_names == 0 && p.names == NULL);
}

static void test_subject_check(void)
{
    const char *why = NULL;
    static const char *const good[] = {"CN=svc-a.internal",     "CN=Service A (prod)",
                                       "DNS:svc-a.internal",    "URI:spiffe://corp/ns/a/sa/svc-a",
                                       "EMAIL:ops@example.com", "CN=\xc3\xa9t\xc3\xa9"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        CHECK(peer_identity_subject_check(good[i], &why) == 0);
    static const char *const bad[] = {"svc-a.internal",
                                      "cn=svc-a",
                                      "CN=",
                                      "DNS:",
                                      "DNS:*.internal",
                                      "DNS:a b",
                                      "SAN:svc-a",
                                      "CN=a\tb",
                                      "O=Example",
                                      "dns:svc-a.internal",
                                      ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why = NULL;
        if (!CHECK(peer_identity_subject_check(bad[i], &why) == -1 && why))
            fprintf(stderr, "  accepted: %s\n", bad[i]);
    }
}

static void test_matching(void)
{
    /* subject, certificate name, match? */
    static const struct {
        const char *subject, *name;
        bool match;
    } cases[] = {
        {"CN=svc-a.internal", "CN=svc-a.internal", true},
        {"CN=svc-a.internal", "CN=SVC-A.internal", false}, /* CN: exact bytes */
        {"CN=svc-a.internal", "CN=svc-a.internal.evil", false},
        {"CN=svc-a.internal", "CN=svc-a", false},
        {"CN=svc-a.internal", "DNS:svc-a.internal", false}, /* types must agree */
        {"DNS:svc-a.internal", "DNS:svc-a.internal", true},
        {"DNS:svc-a.internal", "DNS:SVC-A.Internal", true}, /* DNS: case-insensitive */
        {"DNS:svc-a.internal", "DNS:x.svc-a.internal", false},
        {"DNS:svc-a.internal", "CN=svc-a.internal", false},
        {"URI:spiffe://corp/a", "URI:spiffe://corp/a", true},
        {"URI:spiffe://corp/a", "URI:SPIFFE://corp/a", false},
        {"URI:spiffe://corp/a", "URI:spiffe://corp/a/b", false},
        {"EMAIL:ops@example.com", "EMAIL:ops@example.com", true},
        {"EMAIL:ops@example.com", "EMAIL:Ops@example.com", false},
        {"bogus", "bogus", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (!CHECK(peer_identity_subject_matches(cases[i].subject, cases[i].name) ==
                   cases[i].match))
            fprintf(stderr, "  subject=%s name=%s\n", cases[i].subject, cases[i].name);
    }
}

int main(void)
{
    test_names_from_certificates();
    test_add_bounds();
    test_subject_check();
    test_matching();
    return TEST_EXIT();
}
