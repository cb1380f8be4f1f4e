/*
 * credentials_test - the environment provider with an injected getenv: which
 * variables are required, that error messages name the missing variable and
 * never the secret, that the session token is optional, and what current()
 * returns.
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

int main(void)
{
    test_missing();
    test_current();
    return TEST_EXIT();
}
