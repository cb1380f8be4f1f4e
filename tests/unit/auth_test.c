/*
 * auth_test - API key and/or client certificate -> tenant: the certificate
 * alone, the key alone, both agreeing, both disagreeing, an unmapped or
 * ambiguous certificate (with and without a key), a bad key next to a good
 * certificate, and certificates when no tenant uses mtls_subjects.
 */
#include <string.h>

#include "auth.h"
#include "test_util.h"

/* printf %s KEY | sha256sum */
#define KEY_A "key-alpha-1"
#define HASH_A "0effaf23ed21d617de082837ef24b0c232b8e9a35b686cc7601cc82163d30e05"
#define KEY_B "key-beta-1"
#define HASH_B "ce4c51791e0db31801fe2aa63da4b85a6092ef04ba14de4fd64dada624d6f283"

static unsigned char s_hash_a[1][32], s_hash_b[1][32];
static char *s_subj_a[] = {"CN=svc-a.internal", "DNS:svc-a.internal"};
static char *s_subj_b[] = {"URI:spiffe://corp/b"};
static struct tenant s_tenants[3];
static struct tenant_table s_table = {s_tenants, 3};

static void s_setup(void)
{
    tenant_parse_key_hash(HASH_A, s_hash_a[0]);
    tenant_parse_key_hash(HASH_B, s_hash_b[0]);
    s_tenants[0] = (struct tenant){.id = "alpha",
                                   .key_hashes = s_hash_a,
                                   .n_keys = 1,
                                   .mtls_subjects = s_subj_a,
                                   .n_mtls_subjects = 2};
    s_tenants[1] = (struct tenant){.id = "beta",
                                   .key_hashes = s_hash_b,
                                   .n_keys = 1,
                                   .mtls_subjects = s_subj_b,
                                   .n_mtls_subjects = 1};
    s_tenants[2] = (struct tenant){.id = "gamma"}; /* no keys, no subjects */
}

static struct peer_identity s_peer(const char *n1, const char *n2)
{
    struct peer_identity p;
    peer_identity_init(&p);
    p.has_cert = true;
    if (n1)
        peer_identity_add(&p, "", n1, strlen(n1));
    if (n2)
        peer_identity_add(&p, "", n2, strlen(n2));
    return p;
}

/* Expects tenant want_id (or NULL and a reason containing want_reason). */
static void s_expect(const struct tenant_table *t, const char *authz, const char *xkey,
                     const struct peer_identity *peer, const char *want_id,
                     enum auth_method want_method, const char *want_reason, int line)
{
    struct auth_input in = {authz, xkey, peer, false};
    enum auth_method m = AUTH_NONE;
    const char *reason = NULL;
    const struct tenant *got = auth_resolve(t, &in, &m, &reason);
    int ok;
    if (want_id) {
        ok = test_check(got && strcmp(got->id, want_id) == 0 && m == want_method, __FILE__, line,
                        "resolved tenant and method");
    } else {
        ok = test_check(!got && reason && strstr(reason, want_reason) && !strstr(reason, KEY_A) &&
                            !strstr(reason, KEY_B),
                        __FILE__, line, "refused with reason");
    }
    if (!ok)
        fprintf(stderr, "  got=%s method=%s reason=%s\n", got ? got->id : "(none)",
                auth_method_str(m), reason ? reason : "(null)");
}
#define EXPECT_TENANT(t, a, x, p, id, m) s_expect((t), (a), (x), (p), (id), (m), NULL, __LINE__)
#define EXPECT_REFUSED(t, a, x, p, why)                                                            \
    s_expect((t), (a), (x), (p), NULL, AUTH_NONE, (why), __LINE__)

static void test_resolve(void)
{
    struct peer_identity a_cn = s_peer("CN=svc-a.internal", NULL);
    struct peer_identity a_dns = s_peer("CN=something-else", "DNS:SVC-A.internal");
    struct peer_identity b_uri = s_peer("URI:spiffe://corp/b", NULL);
    struct peer_identity nobody = s_peer("CN=svc-z.internal", "DNS:svc-z.internal");
    struct peer_identity both = s_peer("CN=svc-a.internal", "URI:spiffe://corp/b");
    struct peer_identity nameless = s_peer(NULL, NULL);
    struct peer_identity no_cert;
    peer_identity_init(&no_cert);

    /* Key alone (no certificate, or a NULL peer). */
    EXPECT_TENANT(&s_table, "Bearer " KEY_A, NULL, &no_cert, "alpha", AUTH_API_KEY);
    EXPECT_TENANT(&s_table, NULL, KEY_B, NULL, "beta", AUTH_API_KEY);
    EXPECT_REFUSED(&s_table, NULL, NULL, &no_cert, "missing API key");
    EXPECT_REFUSED(&s_table, NULL, "nope", &no_cert, "invalid API key");
    /* Certificate alone. */
    EXPECT_TENANT(&s_table, NULL, NULL, &a_cn, "alpha", AUTH_MTLS);
    EXPECT_TENANT(&s_table, NULL, NULL, &a_dns, "alpha", AUTH_MTLS);
    EXPECT_TENANT(&s_table, "  ", NULL, &b_uri, "beta", AUTH_MTLS); /* blank header = none */
    EXPECT_REFUSED(&s_table, NULL, NULL, &nobody, "does not map to any tenant");
    EXPECT_REFUSED(&s_table, NULL, NULL, &nameless, "does not map to any tenant");
    EXPECT_REFUSED(&s_table, NULL, NULL, &both, "more than one tenant");
    /* Both. */
    EXPECT_TENANT(&s_table, "Bearer " KEY_A, NULL, &a_cn, "alpha", AUTH_MTLS_AND_API_KEY);
    EXPECT_TENANT(&s_table, NULL, KEY_B, &b_uri, "beta", AUTH_MTLS_AND_API_KEY);
    EXPECT_REFUSED(&s_table, "Bearer " KEY_B, NULL, &a_cn, "name different tenants");
    EXPECT_REFUSED(&s_table, NULL, KEY_A, &b_uri, "name different tenants");
    EXPECT_REFUSED(&s_table, NULL, "wrong-key", &a_cn, "invalid API key");
    EXPECT_REFUSED(&s_table, "Basic abc", NULL, &a_cn, "Bearer");
    EXPECT_REFUSED(&s_table, NULL, "", &a_cn, "empty API key");
    /* An unmapped certificate is refused even next to a valid key. */
    EXPECT_REFUSED(&s_table, "Bearer " KEY_A, NULL, &nobody, "does not map to any tenant");

    /* No tenant uses mtls_subjects: certificates only gate the transport. */
    struct tenant plain[2] = {{.id = "alpha", .key_hashes = s_hash_a, .n_keys = 1},
                              {.id = "beta", .key_hashes = s_hash_b, .n_keys = 1}};
    struct tenant_table pt = {plain, 2};
    EXPECT_TENANT(&pt, "Bearer " KEY_A, NULL, &nobody, "alpha", AUTH_API_KEY);
    EXPECT_TENANT(&pt, "Bearer " KEY_A, NULL, &a_cn, "alpha", AUTH_API_KEY);
    EXPECT_REFUSED(&pt, NULL, NULL, &a_cn, "missing API key");

    bool amb = false;
    CHECK(auth_tenant_for_peer(&s_table, &a_dns, &amb) == &s_tenants[0] && !amb);
    CHECK(auth_tenant_for_peer(&s_table, &both, &amb) == NULL && amb);
    CHECK(auth_tenant_for_peer(&s_table, &nobody, &amb) == NULL && !amb);
    CHECK_STR(auth_method_str(AUTH_MTLS_AND_API_KEY), "mtls+api_key");
    CHECK_STR(auth_method_str(AUTH_NONE), "none");

    peer_identity_clean_up(&a_cn);
    peer_identity_clean_up(&a_dns);
    peer_identity_clean_up(&b_uri);
    peer_identity_clean_up(&nobody);
    peer_identity_clean_up(&both);
    peer_identity_clean_up(&nameless);
}

int main(void)
{
    s_setup();
    test_resolve();
    return TEST_EXIT();
}
