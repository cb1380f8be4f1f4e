/*
 * credentials_test - the environment provider with an injected getenv: which
 * variables are required, that error messages name the missing variable and
 * never the secret, that the session token is optional, and what current()
 * returns; the chain's choice of source, including credential_source and
 * web_identity_token_file in profiles and their errors.
 */
#include <string.h>

#include "credentials.h"
#include "test_util.h"

#define T_AKID "AKIDEXAMPLE"
#define T_SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define T_TOKEN "FQoGZXIvYXdzEXAMPLE/token+x="

/* The fake environment, set per case. */
static const char *s_akid;
static const char *s_secret;
static const char *s_token;
static int s_lookups;

static const char *s_getenv(const char *name)
{
    s_lookups++;
    if (strcmp(name, "AWS_ACCESS_KEY_ID") == 0)
        return s_akid;
    if (strcmp(name, "AWS_SECRET_ACCESS_KEY") == 0)
        return s_secret;
    if (strcmp(name, "AWS_SESSION_TOKEN") == 0)
        return s_token;
    return NULL;
}

static void s_env(const char *akid, const char *secret, const char *token)
{
    s_akid = akid;
    s_secret = secret;
    s_token = token;
}

static void s_expect_missing(const char *var, int line)
{
    struct bgw_error err;
    bgw_error_clear(&err);
    struct credentials_provider *p = credentials_provider_env_new(s_getenv, &err);
    test_check(p == NULL, __FILE__, line, "provider not created");
    test_check(err.status == BGW_ERR_UNAVAILABLE, __FILE__, line, "status UNAVAILABLE");
    if (!test_check(strstr(err.message, var) != NULL, __FILE__, line, "message names variable"))
        fprintf(stderr, "  message: %s\n  expected to name %s\n", err.message, var);
    test_check(strstr(err.message, T_SECRET) == NULL, __FILE__, line, "no secret in message");
    test_check(strstr(err.message, "EXAMPLEKEY") == NULL, __FILE__, line,
               "no part of the secret in message");
    test_check(strstr(err.message, T_TOKEN) == NULL, __FILE__, line, "no token in message");
    credentials_provider_destroy(p);
}

static void test_missing(void)
{
    s_env(NULL, T_SECRET, T_TOKEN);
    s_expect_missing("AWS_ACCESS_KEY_ID", __LINE__);
    s_env("", T_SECRET, T_TOKEN);
    s_expect_missing("AWS_ACCESS_KEY_ID", __LINE__);
    s_env(T_AKID, NULL, T_TOKEN);
    s_expect_missing("AWS_SECRET_ACCESS_KEY", __LINE__);
    s_env(T_AKID, "", NULL);
    s_expect_missing("AWS_SECRET_ACCESS_KEY", __LINE__);
    s_env(NULL, NULL, NULL);
    s_expect_missing("AWS_ACCESS_KEY_ID", __LINE__);
}

static void test_current(void)
{
    struct bgw_error err;
    bgw_error_clear(&err);

    /* With a session token. */
    s_env(T_AKID, T_SECRET, T_TOKEN);
    s_lookups = 0;
    struct credentials_provider *p = credentials_provider_env_new(s_getenv, &err);
    if (CHECK(p != NULL)) {
        CHECK_STR(credentials_provider_name(p), "environment");
        /* Read once, at creation: a later change of the environment does not
         * show through. */
        int lookups = s_lookups;
        s_env("OTHER", "OTHER", NULL);
        const struct credentials *c = credentials_provider_current(p, 1000, &err);
        if (CHECK(c != NULL)) {
            CHECK_STR(c->access_key_id, T_AKID);
            CHECK_STR(c->secret_access_key, T_SECRET);
            CHECK_STR(c->session_token, T_TOKEN);
            CHECK(c->expires_at_ms == 0);
            CHECK_STR(c->source, "environment");
            /* Copies, not the caller's pointers. */
            const char *given = T_AKID;
            CHECK(c->access_key_id != given);
        }
        /* Never expires: any time works. */
        CHECK(credentials_provider_current(p, INT64_MAX, &err) == c);
        CHECK(s_lookups == lookups);
        credentials_provider_destroy(p);
    } else {
        fprintf(stderr, "  %s\n", err.message);
    }

    /* Without a session token (absent or empty). */
    const char *tokens[] = {NULL, ""};
    for (size_t i = 0; i < 2; i++) {
        s_env(T_AKID, T_SECRET, tokens[i]);
        p = credentials_provider_env_new(s_getenv, &err);
        if (!CHECK(p != NULL))
            continue;
        const struct credentials *c = credentials_provider_current(p, 0, &err);
        if (CHECK(c != NULL)) {
            CHECK_STR(c->access_key_id, T_AKID);
            CHECK_STR(c->secret_access_key, T_SECRET);
            CHECK(c->session_token == NULL);
        }
        credentials_provider_destroy(p);
    }

    credentials_provider_destroy(NULL);
}

/* --- the chain: which source is chosen (no network) ----------------------- */

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define S_MAXV 16
static const char *s_names[S_MAXV], *s_values[S_MAXV];
static int s_nv;

static void s_set(const char *n, const char *v)
{
    s_names[s_nv] = n;
    s_values[s_nv++] = v;
}

static const char *s_chain_env(const char *name)
{
    for (int i = 0; i < s_nv; i++) {
        if (strcmp(s_names[i], name) == 0)
            return s_values[i];
    }
    return NULL;
}

static struct credentials_provider *s_chain(struct credentials_chain_options *o,
                                            struct bgw_error *err)
{
    o->getenv_fn = s_chain_env;
    o->region = "us-west-2";
    return credentials_provider_chain_new(o, err);
}

/* A temporary directory dir (from template) with a shared credentials file
 * holding the profiles "base" and "static" (keys AKIDBASE, AKIDSTATIC),
 * and config_path opened for writing (the caller writes and closes it).
 * NULL when the directory cannot be made. */
static FILE *s_shared_files(char *dir, char creds_path[128], char config_path[128])
{
    if (!CHECK(mkdtemp(dir) != NULL))
        return NULL;
    snprintf(creds_path, 128, "%s/credentials", dir);
    snprintf(config_path, 128, "%s/config", dir);
    FILE *f = fopen(creds_path, "w");
    if (!CHECK(f != NULL))
        return NULL;
    fprintf(f, "[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = " T_SECRET "\n"
               "[static]\naws_access_key_id = AKIDSTATIC\naws_secret_access_key = " T_SECRET "\n");
    fclose(f);
    f = fopen(config_path, "w");
    CHECK(f != NULL);
    return f;
}

static void test_chain(void)
{
    char dir[] = "/tmp/bgw-cred-test-XXXXXX";
    char creds_path[128], config_path[128];
    FILE *f = s_shared_files(dir, creds_path, config_path);
    if (!f)
        return;
    fprintf(f, "[profile role]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = base\n"
               "[profile orphan]\nrole_arn = arn:aws:iam::1:role/o\n"
               "[profile loop]\nrole_arn = arn:aws:iam::1:role/l\nsource_profile = loop2\n"
               "[profile loop2]\nrole_arn = arn:aws:iam::1:role/l2\nsource_profile = loop\n");
    fclose(f);
    struct bgw_error err;
    struct credentials_chain_options o;
    struct credentials_provider *p;

    /* config beats environment */
    memset(&o, 0, sizeof(o));
    s_nv = 0;
    s_set("AWS_ACCESS_KEY_ID", "AKIDENV");
    s_set("AWS_SECRET_ACCESS_KEY", "envsecret");
    o.access_key_id = "AKIDCFG";
    o.secret_access_key = T_SECRET;
    p = s_chain(&o, &err);
    if (CHECK(p != NULL)) {
        CHECK_STR(credentials_provider_name(p), "config");
        CHECK(!credentials_provider_refreshable(p));
        CHECK_STR(credentials_provider_current(p, 0, &err)->access_key_id, "AKIDCFG");
        CHECK(strstr(credentials_provider_detail(p), T_SECRET) == NULL);
        credentials_provider_destroy(p);
    }
    /* environment beats profiles */
    memset(&o, 0, sizeof(o));
    s_set("AWS_SHARED_CREDENTIALS_FILE", creds_path);
    s_set("AWS_PROFILE", "static");
    p = s_chain(&o, &err);
    if (CHECK(p != NULL)) {
        CHECK_STR(credentials_provider_name(p), "environment");
        credentials_provider_destroy(p);
    }
    /* profile with static keys */
    s_nv = 0;
    s_set("AWS_SHARED_CREDENTIALS_FILE", creds_path);
    s_set("AWS_CONFIG_FILE", config_path);
    s_set("AWS_PROFILE", "static");
    p = s_chain(&o, &err);
    if (CHECK(p != NULL)) {
        CHECK_STR(credentials_provider_name(p), "profile");
        CHECK_STR(credentials_provider_current(p, 0, &err)->access_key_id, "AKIDSTATIC");
        credentials_provider_destroy(p);
    }
    /* role chain from the config file; no credentials until fetched */
    s_names[2] = "AWS_PROFILE";
    s_values[2] = "role";
    p = s_chain(&o, &err);
    if (CHECK(p != NULL)) {
        CHECK_STR(credentials_provider_name(p), "assume_role");
        CHECK(credentials_provider_refreshable(p));
        CHECK(!credentials_provider_resolved(p, 0));
        CHECK(credentials_provider_current(p, 0, &err) == NULL);
        CHECK(strstr(credentials_provider_detail(p), "arn:aws:iam::1:role/r") != NULL);
        CHECK(strstr(credentials_provider_detail(p), "sts.us-west-2.amazonaws.com") != NULL);
        credentials_provider_destroy(p);
    }
    /* errors: missing source, cycle, unknown named profile */
    const char *bad[] = {"orphan", "loop", "nosuch"};
    for (size_t i = 0; i < 3; i++) {
        s_values[2] = bad[i];
        p = s_chain(&o, &err);
        CHECK(p == NULL);
        CHECK(strstr(err.message, bad[i]) != NULL);
    }
    /* web identity needs both variables; wins over container */
    s_nv = 0;
    s_set("HOME", dir);
    s_set("AWS_WEB_IDENTITY_TOKEN_FILE", "/nonexistent");
    p = s_chain(&o, &err);
    CHECK(p == NULL && strstr(err.message, "AWS_ROLE_ARN") != NULL);
    s_set("AWS_ROLE_ARN", "arn:aws:iam::1:role/w");
    s_set("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/c");
    s_set("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9/");
    p = s_chain(&o, &err);
    if (CHECK(p != NULL)) {
        CHECK_STR(credentials_provider_name(p), "web_identity");
        credentials_provider_destroy(p);
    }
    /* container: full URI must be loopback/link-local or https */
    s_nv = 0;
    s_set("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://example.com/creds");
    p = s_chain(&o, &err);
    CHECK(p == NULL);
    s_values[0] = "http://127.0.0.1:8080/creds";
    p = s_chain(&o, &err);
    if (CHECK(p != NULL)) {
        CHECK_STR(credentials_provider_name(p), "container");
        credentials_provider_destroy(p);
    }
    /* nothing at all: IMDS, unless disabled */
    s_nv = 0;
    p = s_chain(&o, &err);
    if (CHECK(p != NULL)) {
        CHECK_STR(credentials_provider_name(p), "imds");
        credentials_provider_destroy(p);
    }
    s_set("AWS_EC2_METADATA_DISABLED", "true");
    p = s_chain(&o, &err);
    CHECK(p == NULL && strstr(err.message, "AWS_ACCESS_KEY_ID") != NULL);
    unlink(creds_path);
    unlink(config_path);
    rmdir(dir);
}

/* credential_source and web_identity_token_file in profiles: which source
 * is chosen, and errors that name the profile and the keys. */
static void s_expect_error(struct credentials_chain_options *o, const char *const *words, int line)
{
    struct bgw_error err;
    bgw_error_clear(&err);
    struct credentials_provider *p = s_chain(o, &err);
    test_check(p == NULL, __FILE__, line, "provider not created");
    for (; *words; words++) {
        if (!test_check(strstr(err.message, *words) != NULL, __FILE__, line, "message names it"))
            fprintf(stderr, "  message: %s\n  expected to contain: %s\n", err.message, *words);
    }
    test_check(strstr(err.message, T_SECRET) == NULL, __FILE__, line, "no secret in message");
    credentials_provider_destroy(p);
}

static void s_expect_source(struct credentials_chain_options *o, const char *name,
                            const char *detail_part, int line)
{
    struct bgw_error err;
    bgw_error_clear(&err);
    struct credentials_provider *p = s_chain(o, &err);
    if (!test_check(p != NULL, __FILE__, line, "provider created")) {
        fprintf(stderr, "  error: %s\n", err.message);
        return;
    }
    if (!test_check(strcmp(credentials_provider_name(p), name) == 0, __FILE__, line, "source"))
        fprintf(stderr, "  got %s, expected %s\n", credentials_provider_name(p), name);
    if (detail_part && !test_check(strstr(credentials_provider_detail(p), detail_part) != NULL,
                                   __FILE__, line, "detail"))
        fprintf(stderr, "  detail: %s\n  expected to contain: %s\n", credentials_provider_detail(p),
                detail_part);
    test_check(strstr(credentials_provider_detail(p), T_SECRET) == NULL, __FILE__, line,
               "no secret in detail");
    test_check(credentials_provider_refreshable(p), __FILE__, line, "refreshable");
    test_check(!credentials_provider_resolved(p, 0), __FILE__, line, "nothing fetched yet");
    credentials_provider_destroy(p);
}

static void test_credential_source(void)
{
    char dir[] = "/tmp/bgw-cred-src-XXXXXX";
    char creds_path[128], config_path[128];
    FILE *f = s_shared_files(dir, creds_path, config_path);
    if (!f)
        return;
    fprintf(
        f,
        "[profile env-role]\nrole_arn = arn:aws:iam::1:role/env\ncredential_source = Environment\n"
        "[profile imds-role]\nrole_arn = arn:aws:iam::1:role/imds\n"
        "credential_source = Ec2InstanceMetadata\n"
        "[profile ecs-role]\nrole_arn = arn:aws:iam::1:role/ecs\ncredential_source = EcsContainer\n"
        "[profile both]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = base\n"
        "credential_source = Environment\n"
        "[profile bogus]\nrole_arn = arn:aws:iam::1:role/x\ncredential_source = Ec2Metadata\n"
        "[profile binary]\nrole_arn = arn:aws:iam::1:role/x\ncredential_source = \x01\xff\n"
        "[profile web]\nrole_arn = arn:aws:iam::1:role/web\n"
        "web_identity_token_file = /var/run/token\nrole_session_name = s\n"
        "[profile web-chain]\nrole_arn = arn:aws:iam::1:role/top\nsource_profile = web\n"
        "[profile web-both]\nrole_arn = arn:aws:iam::1:role/wb\n"
        "web_identity_token_file = /var/run/token\nsource_profile = base\n"
        "[profile web-cs]\nrole_arn = arn:aws:iam::1:role/wc\n"
        "web_identity_token_file = /var/run/token\ncredential_source = EcsContainer\n"
        "[profile imds-chain]\nrole_arn = arn:aws:iam::1:role/top2\nsource_profile = imds-role\n"
        "[profile env-chain]\nrole_arn = arn:aws:iam::1:role/top3\nsource_profile = env-role\n"
        "[profile keyed-env-role]\naws_access_key_id = AKIDKEYED\naws_secret_access_key = " T_SECRET
        "\nrole_arn = arn:aws:iam::1:role/unused\ncredential_source = Environment\n"
        "[profile keyed-chain]\nrole_arn = arn:aws:iam::1:role/top4\n"
        "source_profile = keyed-env-role\n");
    fclose(f);
    struct credentials_chain_options o;
    memset(&o, 0, sizeof(o));

#define FILES()                                                                                    \
    do {                                                                                           \
        s_nv = 0;                                                                                  \
        s_set("HOME", dir);                                                                        \
        s_set("AWS_SHARED_CREDENTIALS_FILE", creds_path);                                          \
        s_set("AWS_CONFIG_FILE", config_path);                                                     \
        s_set("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9/");                                      \
    } while (0)

    /* Environment: the environment keys sign AssumeRole; the named profile
     * takes precedence over the plain environment provider. */
    FILES();
    s_set("AWS_PROFILE", "env-role");
    s_set("AWS_ACCESS_KEY_ID", "AKIDENV");
    s_set("AWS_SECRET_ACCESS_KEY", T_SECRET);
    s_expect_source(&o, "assume_role", "source Environment", __LINE__);
    s_values[4] = "env-chain"; /* also further down a source_profile chain */
    s_expect_source(&o, "assume_role", "role/top3", __LINE__);
    /* A source profile with its own static keys signs with them (its role
     * and credential_source are not used below the named profile): the
     * environment is then nobody's source and stays the gateway's own
     * credentials, ahead of the profile chain. */
    s_values[4] = "keyed-chain";
    {
        struct bgw_error err;
        struct credentials_provider *p = s_chain(&o, &err);
        if (CHECK(p != NULL))
            CHECK_STR(credentials_provider_name(p), "environment");
        credentials_provider_destroy(p);
    }
    s_values[4] = "static"; /* other profiles: the environment still wins */
    {
        struct bgw_error err;
        struct credentials_provider *p = s_chain(&o, &err);
        if (CHECK(p != NULL))
            CHECK_STR(credentials_provider_name(p), "environment");
        credentials_provider_destroy(p);
    }
    o.profile = "env-role"; /* credentials.profile names it too */
    FILES();
    s_set("AWS_ACCESS_KEY_ID", "AKIDENV");
    s_set("AWS_SECRET_ACCESS_KEY", T_SECRET);
    s_expect_source(&o, "assume_role", "source Environment", __LINE__);
    o.profile = NULL;
    FILES();
    s_set("AWS_PROFILE", "env-role");
    s_set("AWS_SECRET_ACCESS_KEY", T_SECRET);
    s_expect_error(&o,
                   (const char *const[]){"\"env-role\"", "credential_source", "Environment",
                                         "AWS_ACCESS_KEY_ID", NULL},
                   __LINE__);

    /* Ec2InstanceMetadata */
    FILES();
    s_set("AWS_PROFILE", "imds-role");
    s_set("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:7/");
    s_expect_source(&o, "assume_role", "source Ec2InstanceMetadata (http://127.0.0.1:7)", __LINE__);
    s_values[4] = "imds-chain";
    s_expect_source(&o, "assume_role", "role/top2", __LINE__);
    s_values[4] = "imds-role";
    s_set("AWS_EC2_METADATA_DISABLED", "true");
    s_expect_error(&o,
                   (const char *const[]){"\"imds-role\"", "Ec2InstanceMetadata",
                                         "AWS_EC2_METADATA_DISABLED", NULL},
                   __LINE__);

    /* EcsContainer */
    FILES();
    s_set("AWS_PROFILE", "ecs-role");
    s_expect_error(&o,
                   (const char *const[]){"\"ecs-role\"", "EcsContainer",
                                         "AWS_CONTAINER_CREDENTIALS_FULL_URI", NULL},
                   __LINE__);
    s_set("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:8/creds");
    s_expect_source(&o, "assume_role", "source EcsContainer (http://127.0.0.1:8/creds)", __LINE__);
    s_values[5] = "http://example.com/creds";
    s_expect_error(&o, (const char *const[]){"AWS_CONTAINER_CREDENTIALS_FULL_URI", NULL}, __LINE__);

    /* both sources, unknown values */
    FILES();
    s_set("AWS_PROFILE", "both");
    s_expect_error(&o,
                   (const char *const[]){"\"both\"", "source_profile", "credential_source", NULL},
                   __LINE__);
    s_values[4] = "bogus";
    s_expect_error(&o,
                   (const char *const[]){"\"bogus\"", "credential_source \"Ec2Metadata\"",
                                         "Ec2InstanceMetadata", NULL},
                   __LINE__);
    s_values[4] = "binary"; /* not echoed when not printable */
    s_expect_error(&o, (const char *const[]){"\"binary\": credential_source must be", NULL},
                   __LINE__);

    /* web_identity_token_file */
    s_values[4] = "web";
    s_expect_source(&o, "web_identity", "role/web", __LINE__);
    s_values[4] = "web-chain";
    s_expect_source(&o, "assume_role", "source web identity token file", __LINE__);
    s_values[4] = "web-both";
    s_expect_error(
        &o,
        (const char *const[]){"\"web-both\"", "web_identity_token_file", "source_profile", NULL},
        __LINE__);
    s_values[4] = "web-cs";
    s_expect_error(
        &o,
        (const char *const[]){"\"web-cs\"", "web_identity_token_file", "credential_source", NULL},
        __LINE__);
#undef FILES
    unlink(creds_path);
    unlink(config_path);
    rmdir(dir);
}

int main(void)
{
    test_missing();
    test_current();
    test_chain();
    test_credential_source();
    return TEST_EXIT();
}
