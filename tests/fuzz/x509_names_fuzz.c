/*
 * x509_names_fuzz - peer_identity's extraction of a client certificate's
 * names (CN, DNS, URI, EMAIL), from PEM (the input as text) and from DER
 * (the input as a certificate). The TLS layer verifies a certificate
 * before this sees it, but its fields are still chosen by whoever got it
 * issued.
 *
 * Invariants: at most PEER_IDENTITY_MAX_NAMES names, each one of the four
 * prefixes followed by a non-empty value of at most PEER_IDENTITY_VALUE_MAX
 * bytes with no control character; every name matches itself as an
 * mtls_subjects entry.
 */
#include <openssl/x509.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "peer_identity.h"

static void s_check(const struct peer_identity *p)
{
    FUZZ_CHECK(p->n_names <= PEER_IDENTITY_MAX_NAMES);
    for (size_t i = 0; i < p->n_names; i++) {
        const char *n = p->names[i];
        size_t pre = strncmp(n, "CN=", 3) == 0      ? 3
                     : strncmp(n, "DNS:", 4) == 0   ? 4
                     : strncmp(n, "URI:", 4) == 0   ? 4
                     : strncmp(n, "EMAIL:", 6) == 0 ? 6
                                                    : 0;
        FUZZ_CHECK(pre > 0);
        size_t len = strlen(n + pre);
        FUZZ_CHECK(len > 0 && len <= PEER_IDENTITY_VALUE_MAX);
        for (const char *c = n + pre; *c; c++)
            FUZZ_CHECK((unsigned char)*c >= 0x20 && *c != 0x7f);
        FUZZ_CHECK(peer_identity_subject_matches(n, n));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct peer_identity p;
    peer_identity_init(&p);
    if (peer_identity_from_pem(&p, (const char *)data, size) == 0)
        s_check(&p);
    peer_identity_clean_up(&p);

    const unsigned char *der = data;
    X509 *x = d2i_X509(NULL, &der, (long)size);
    if (x) {
        peer_identity_init(&p);
        if (peer_identity_from_x509(&p, x) == 0)
            s_check(&p);
        peer_identity_clean_up(&p);
        X509_free(x);
    }
    return 0;
}
