/*
 * tenant_test - API-key extraction from the two headers, key-hash parsing
 * and constant-time authentication against a table of several tenants. The
 * expected hashes are `printf %s KEY | sha256sum`, computed outside tenant.c.
 */
#include <stdlib.h>
#include <string.h>

#include "tenant.h"
#include "test_util.h"

#define CHECK_EQ(a, b) CHECK((long long)(a) == (long long)(b))

static const struct {
    const char *key, *hash;
} s_keys[] = {
    {"key-alpha-1", "0effaf23ed21d617de082837ef24b0c232b8e9a35b686cc7601cc82163d30e05"},
    {"key-alpha-2", "44e5efe3d95e33bede2ae99627ebdbc5181faa7e0a7f820f5e09366a554e94f8"},
    {"key-beta-1", "ce4c51791e0db31801fe2aa63da4b85a6092ef04ba14de4fd64dada624d6f283"},
    {"key-gamma-1", "debf44a0b4aab9e36d2eeff7fa37699ca74adc278c4bf05b3004ee4dd264c412"},
    {"key-gamma-2", "04f7fc0556be405e68be9811437ed39075fe3aca4a8b9585917e8f9926cbd3df"},
    {"key-gamma-3", "4e9c4a77d5ff524a82a6d45579059e1e8785dda25cd2f2ce2efa2a6adeba6642"},
};
/* Which tenant (index into s_ids) owns s_keys[i]. */
static const size_t s_owner[] = {0, 0, 1, 2, 2, 2};
static const char *const s_ids[] = {"alpha", "beta", "gamma"};

/* Extracts and expects success with exactly want as the key. */
static void s_expect_key(const char *authz, const char *xkey, const char *want, int line)
{
    const char *key = NULL;
    size_t len = 0;
    const char *reason = NULL;
    int rc = tenant_extract_key(authz, xkey, &key, &len, &reason);
    int ok = test_check(rc == 0, __FILE__, line, "tenant_extract_key succeeds");
    if (ok)
        ok = test_check(len == strlen(want) && memcmp(key, want, len) == 0, __FILE__, line,
                        "extracted key");
    if (!ok)
        fprintf(stderr, "  authorization=[%s] x-api-key=[%s] rc=%d key=[%.*s] reason=%s\n",
                authz ? authz : "(null)", xkey ? xkey : "(null)", rc, rc == 0 ? (int)len : 0,
                rc == 0 ? key : "", reason ? reason : "(null)");
}
#define EXPECT_KEY(a, x, want) s_expect_key((a), (x), (want), __LINE__)

/* Extracts and expects failure with a reason containing want, which never
 * contains any of the presented text after the scheme. */
static void s_expect_no_key(const char *authz, const char *xkey, const char *want,
                            const char *secret, int line)
{
    const char *key = NULL;
    size_t len = 0;
    const char *reason = NULL;
    int rc = tenant_extract_key(authz, xkey, &key, &len, &reason);
    int ok = test_check(rc == -1, __FILE__, line, "tenant_extract_key fails");
    ok = ok && test_check(reason != NULL, __FILE__, line, "reason set");
    ok = ok && test_check(strstr(reason, want) != NULL, __FILE__, line, "reason text");
    if (ok && secret && *secret)
        ok = test_check(strstr(reason, secret) == NULL, __FILE__, line,
                        "reason does not contain the key");
    if (!ok)
        fprintf(stderr, "  authorization=[%s] x-api-key=[%s] rc=%d reason=%s want=%s\n",
                authz ? authz : "(null)", xkey ? xkey : "(null)", rc, reason ? reason : "(null)",
                want);
}
#define EXPECT_NO_KEY(a, x, want, secret) s_expect_no_key((a), (x), (want), (secret), __LINE__)

static void test_extract_key(void)
{
    /* Bearer, scheme in any case, spaces and tabs around. */
    EXPECT_KEY("Bearer abc123", NULL, "abc123");
    EXPECT_KEY("bearer abc123", NULL, "abc123");
    EXPECT_KEY("BEARER abc123", NULL, "abc123");
    EXPECT_KEY("bEaReR abc123", NULL, "abc123");
    EXPECT_KEY("Bearer    abc123", NULL, "abc123");
    EXPECT_KEY("Bearer\tabc123", NULL, "abc123");
    EXPECT_KEY("Bearer \t abc123", NULL, "abc123");
    EXPECT_KEY("  Bearer abc123", NULL, "abc123");
    EXPECT_KEY("Bearer abc123   ", NULL, "abc123");
    EXPECT_KEY("Bearer abc123\t \t", NULL, "abc123");

    /* Only x-api-key, trimmed the same way. */
    EXPECT_KEY(NULL, "xyz789", "xyz789");
    EXPECT_KEY(NULL, "  xyz789 \t", "xyz789");
    /* A blank authorization counts as absent. */
    EXPECT_KEY("", "xyz789", "xyz789");
    EXPECT_KEY(" \t ", "xyz789", "xyz789");

    /* Both present: the same key is fine, different keys are refused. */
    EXPECT_KEY("Bearer same-key", " same-key ", "same-key");
    EXPECT_NO_KEY("Bearer from-authz", "from-x-api-key", "carry different API keys", "from-authz");
    /* A non-Bearer Authorization next to an X-Api-Key: no silent
     * fallback, and the reason names both headers. */
    EXPECT_NO_KEY("Basic dXNlcjpwYXNz", "from-x-api-key", "X-Api-Key header was sent too",
                  "dXNlcjpwYXNz");

    /* Other schemes or a malformed Bearer. */
    EXPECT_NO_KEY("Basic dXNlcjpwYXNz", NULL, "the Authorization header must use the Bearer scheme",
                  "dXNlcjpwYXNz");
    EXPECT_NO_KEY("Token s3cr3t-token", NULL, "Bearer scheme", "s3cr3t-token");
    EXPECT_NO_KEY("Bearers3cr3t-token", NULL, "Bearer scheme", "s3cr3t-token");
    EXPECT_NO_KEY("s3cr3t-token", NULL, "Bearer scheme", "s3cr3t-token");
    EXPECT_NO_KEY("Bearer", NULL, "", NULL);
    EXPECT_NO_KEY("Bear s3cr3t", NULL, "Bearer scheme", "s3cr3t");

    /* Nothing, or an empty key. */
    EXPECT_NO_KEY(NULL, NULL, "missing API key", NULL);
    EXPECT_NO_KEY("", NULL, "missing API key", NULL);
    EXPECT_NO_KEY("Bearer ", NULL, "empty API key", NULL);
    EXPECT_NO_KEY("Bearer \t  ", NULL, "empty API key", NULL);
    EXPECT_NO_KEY(NULL, "", "empty API key", NULL);
    EXPECT_NO_KEY(NULL, "   ", "empty API key", NULL);

    /* Length limit: TENANT_KEY_MAX accepted, one more rejected. */
    char *longkey = malloc(TENANT_KEY_MAX + 2);
    char *hdr = malloc(TENANT_KEY_MAX + 16);
    if (!CHECK(longkey && hdr)) {
        free(longkey);
        free(hdr);
        return;
    }
    memset(longkey, 'k', TENANT_KEY_MAX);
    longkey[TENANT_KEY_MAX] = '\0';
    EXPECT_KEY(NULL, longkey, longkey);
    snprintf(hdr, TENANT_KEY_MAX + 16, "Bearer %s  ", longkey);
    EXPECT_KEY(hdr, NULL, longkey);
    longkey[TENANT_KEY_MAX] = 'K';
    longkey[TENANT_KEY_MAX + 1] = '\0';
    EXPECT_NO_KEY(NULL, longkey, "API key too long", "kkkkkkkk");
    snprintf(hdr, TENANT_KEY_MAX + 16, "Bearer %s", longkey);
    EXPECT_NO_KEY(hdr, NULL, "API key too long", "kkkkkkkk");
    free(longkey);
    free(hdr);
}

static void test_parse_key_hash(void)
{
    unsigned char d[32];
    CHECK(tenant_parse_key_hash(s_keys[0].hash, d) == 0);
    CHECK(d[0] == 0x0e && d[1] == 0xff && d[2] == 0xaf && d[31] == 0x05);
    unsigned char u[32];
    CHECK(tenant_parse_key_hash("0EFFAF23ED21D617DE082837EF24B0C232B8E9A35B686CC7601CC82163D30E05",
                                u) == 0);
    CHECK(memcmp(d, u, 32) == 0);
    CHECK(tenant_parse_key_hash("0123456789abcdefABCDEF0123456789abcdefABCDEF0123456789abcdef0123",
                                u) == 0);
    CHECK(u[0] == 0x01 && u[4] == 0x89 && u[5] == 0xab && u[7] == 0xef && u[8] == 0xab &&
          u[31] == 0x23);

    static const char *const bad[] = {
        "",
        "0effaf23ed21d617de082837ef24b0c232b8e9a35b686cc7601cc82163d30e0",   /* 63 */
        "0effaf23ed21d617de082837ef24b0c232b8e9a35b686cc7601cc82163d30e050", /* 65 */
        "0effaf23ed21d617de082837ef24b0c232b8e9a35b686cc7601cc82163d30e0g",
        "g0ffaf23ed21d617de082837ef24b0c232b8e9a35b686cc7601cc82163d30e05",
        " 0ffaf23ed21d617de082837ef24b0c232b8e9a35b686cc7601cc82163d30e05",
        "0xffaf23ed21d617de082837ef24b0c232b8e9a35b686cc7601cc82163d30e05",
        "0effaf23ed21d617de082837ef24b0c232b8e9a35b686cc7601cc82163d30e-5",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (!CHECK(tenant_parse_key_hash(bad[i], u) == -1))
            fprintf(stderr, "  accepted: %s\n", bad[i]);
    }
}

/* Builds the three-tenant table from s_keys (heap, like config does). */
static int s_build_table(struct tenant_table *t)
{
    size_t n_ids = sizeof(s_ids) / sizeof(s_ids[0]);
    size_t n_keys = sizeof(s_keys) / sizeof(s_keys[0]);
    t->tenants = calloc(n_ids, sizeof(struct tenant));
    t->n_tenants = 0;
    if (!t->tenants)
        return -1;
    t->n_tenants = n_ids;
    for (size_t i = 0; i < n_ids; i++) {
        snprintf(t->tenants[i].id, sizeof(t->tenants[i].id), "%s", s_ids[i]);
        t->tenants[i].key_hashes = calloc(n_keys, 32);
        if (!t->tenants[i].key_hashes)
            return -1;
    }
    for (size_t k = 0; k < n_keys; k++) {
        struct tenant *tn = &t->tenants[s_owner[k]];
        if (tenant_parse_key_hash(s_keys[k].hash, tn->key_hashes[tn->n_keys]) != 0)
            return -1;
        tn->n_keys++;
    }
    return 0;
}

static void test_authenticate(void)
{
    struct tenant_table t;
    if (!CHECK(s_build_table(&t) == 0)) {
        tenant_table_clean_up(&t);
        return;
    }
    for (size_t k = 0; k < sizeof(s_keys) / sizeof(s_keys[0]); k++) {
        const struct tenant *got = tenant_authenticate(&t, s_keys[k].key, strlen(s_keys[k].key));
        if (!CHECK(got == &t.tenants[s_owner[k]]))
            fprintf(stderr, "  key %s -> %s, expected %s\n", s_keys[k].key,
                    got ? got->id : "(null)", s_ids[s_owner[k]]);
        else
            CHECK_STR(got->id, s_ids[s_owner[k]]);
    }

    /* Unknown keys, and keys one character away from a real one. */
    static const char *const unknown[] = {
        "key-delta-1",  "key-alpha-3", "Key-alpha-1", "key-alpha-1 ", "key-alpha-",
        "key-alpha-10", "kEy-beta-1",  "key-gamma-4", "ey-gamma-1",   "x",
    };
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        const struct tenant *got = tenant_authenticate(&t, unknown[i], strlen(unknown[i]));
        if (!CHECK(got == NULL))
            fprintf(stderr, "  key %s -> %s, expected none\n", unknown[i], got->id);
    }
    /* Only key_len bytes count: a prefix of a real key is not that key, and
     * a real key followed by junk is found when key_len stops before it. */
    CHECK(tenant_authenticate(&t, "key-alpha-1", 10) == NULL);
    CHECK(tenant_authenticate(&t, "key-beta-1TRAILING", 10) == &t.tenants[1]);
    CHECK(tenant_authenticate(&t, "", 0) == NULL);

    /* The key straight out of a header. */
    const char *key;
    size_t len;
    const char *reason;
    if (CHECK(tenant_extract_key("Bearer  key-gamma-2 \t", NULL, &key, &len, &reason) == 0))
        CHECK(tenant_authenticate(&t, key, len) == &t.tenants[2]);

    tenant_table_clean_up(&t);
    CHECK(t.tenants == NULL && t.n_tenants == 0);

    /* An empty table authenticates nobody. */
    struct tenant_table empty = {NULL, 0};
    CHECK(tenant_authenticate(&empty, "key-alpha-1", 11) == NULL);
    tenant_table_clean_up(&empty);

    /* Hashes one bit away from the key's hash, first or last byte, do not
     * match: all 32 bytes are compared. */
    static const char *const near[] = {
        "1effaf23ed21d617de082837ef24b0c232b8e9a35b686cc7601cc82163d30e05",
        "0effaf23ed21d617de082837ef24b0c232b8e9a35b686cc7601cc82163d30e04",
        "0effaf23ed21d617de082837ef24b0c232b8e9a35b686cc7601cc82163d30f05",
    };
    for (size_t i = 0; i < sizeof(near) / sizeof(near[0]); i++) {
        unsigned char h[1][32];
        struct tenant nt = {.id = "near", .key_hashes = h, .n_keys = 1};
        struct tenant_table nt_table = {&nt, 1};
        CHECK(tenant_parse_key_hash(near[i], h[0]) == 0);
        if (!CHECK(tenant_authenticate(&nt_table, "key-alpha-1", 11) == NULL))
            fprintf(stderr, "  matched %s\n", near[i]);
        CHECK(tenant_parse_key_hash(s_keys[0].hash, h[0]) == 0);
        CHECK(tenant_authenticate(&nt_table, "key-alpha-1", 11) == &nt);
    }

    /* A tenant with no keys matches nothing. */
    struct tenant none = {.id = "none", .key_hashes = NULL, .n_keys = 0};
    struct tenant_table one = {&none, 1};
    CHECK(tenant_authenticate(&one, "key-alpha-1", 11) == NULL);
}

int main(void)
{
    test_extract_key();
    test_parse_key_hash();
    test_authenticate();
    return TEST_EXIT();
}
