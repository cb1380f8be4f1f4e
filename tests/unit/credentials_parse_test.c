/*
 * credentials_parse_test - STS XML (AssumeRole and WebIdentity replies,
 * entities, STS errors, truncation), container/IMDS JSON, INI lookup; error
 * texts never quote secrets.
 */
#include <jansson.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "credentials_parse.h"
#include "test_util.h"

/* jansson allocator that counts blocks freed still holding s_watched as
 * their string (a secret released without wiping). */
static const char *s_watched;
static int s_unwiped;

static void s_watch_free(void *p)
{
    if (p && s_watched) {
        size_t cap = malloc_usable_size(p), n = strlen(s_watched);
        if (n < cap && memcmp(p, s_watched, n) == 0 && ((char *)p)[n] == '\0')
            s_unwiped++;
    }
    free(p);
}

static bool s_printable_ascii(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return false;
    }
    return true;
}

static const char *s_sts =
    "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
    "  <AssumeRoleResult>\n"
    "    <AssumedRoleUser><Arn>arn:aws:sts::1:assumed-role/x/y</Arn></AssumedRoleUser>\n"
    "    <Credentials>\n"
    "      <AccessKeyId>ASIAEXAMPLE</AccessKeyId>\n"
    "      <SecretAccessKey>se&amp;cret/+x&#61;</SecretAccessKey>\n"
    "      <SessionToken>tok&lt;en</SessionToken>\n"
    "      <Expiration>2024-01-02T03:04:05.500Z</Expiration>\n"
    "    </Credentials>\n"
    "  </AssumeRoleResult>\n"
    "</AssumeRoleResponse>\n";

int main(void)
{
    struct credentials c;
    char why[300];
    CHECK(credentials_parse_sts_xml(s_sts, strlen(s_sts), &c, why, sizeof(why)) == 0);
    CHECK_STR(c.access_key_id, "ASIAEXAMPLE");
    CHECK_STR(c.secret_access_key, "se&cret/+x=");
    CHECK_STR(c.session_token, "tok<en");
    CHECK(c.expires_at_ms == 1704164645500LL);
    credentials_parse_wipe(&c);
    CHECK(c.access_key_id == NULL && c.secret_access_key == NULL);

    const char *err = "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
                      "<Message>not allowed</Message></Error></ErrorResponse>";
    CHECK(credentials_parse_sts_xml(err, strlen(err), &c, why, sizeof(why)) == -1);
    CHECK(strstr(why, "AccessDenied") != NULL);

    /* truncated / missing fields / bad entity / nested markup */
    const char *bad[] = {
        "<Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>S</SecretAccessKey>",
        "<Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>SECRETX</SecretAccessKey>"
        "<Expiration>2024-01-02T03:04:05Z</Expiration></Credentials>",
        "<Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>SECRETX&bogus;</SecretAccessKey>"
        "<SessionToken>T</SessionToken><Expiration>2024-01-02T03:04:05Z</Expiration></Credentials>",
        "<Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey><![CDATA[SECRETX]]></"
        "SecretAccessKey>"
        "<SessionToken>T</SessionToken><Expiration>2024-01-02T03:04:05Z</Expiration></Credentials>",
        "<Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>SECRETX</SecretAccessKey>"
        "<SessionToken>T</SessionToken><Expiration>soon</Expiration></Credentials>",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK(credentials_parse_sts_xml(bad[i], strlen(bad[i]), &c, why, sizeof(why)) == -1);
        CHECK(strstr(why, "SECRETX") == NULL);
        CHECK(c.access_key_id == NULL && c.secret_access_key == NULL && c.session_token == NULL);
    }

    const char *js = "{\"Code\":\"Success\",\"AccessKeyId\":\"ASIAJ\",\"SecretAccessKey\":\"sj\","
                     "\"Token\":\"tj\",\"Expiration\":\"2024-01-02T03:04:05Z\",\"Extra\":1}";
    CHECK(credentials_parse_json(js, strlen(js), &c, why, sizeof(why)) == 0);
    CHECK_STR(c.session_token, "tj");
    CHECK(c.expires_at_ms == 1704164645000LL);
    credentials_parse_wipe(&c);
    const char *js2 = "{\"AccessKeyId\":\"ASIAJ\",\"SecretAccessKey\":\"sj\"}";
    CHECK(credentials_parse_json(js2, strlen(js2), &c, why, sizeof(why)) == 0);
    CHECK(c.expires_at_ms == 0 && c.session_token == NULL);
    credentials_parse_wipe(&c);
    const char *jbad[] = {
        "[]",
        "{\"Code\":\"Failure\",\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"SECRETX\"}",
        "{\"AccessKeyId\":\"A\"}",
        "{\"AccessKeyId\":\"A B\",\"SecretAccessKey\":\"SECRETX\"}",
        "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"SECRETX\",\"Expiration\":5}",
        "{"};
    for (size_t i = 0; i < sizeof(jbad) / sizeof(jbad[0]); i++) {
        CHECK(credentials_parse_json(jbad[i], strlen(jbad[i]), &c, why, sizeof(why)) == -1);
        CHECK(strstr(why, "SECRETX") == NULL);
    }

    const char *ini = "# comment\n[default]\nregion = us-east-1\n\n[ dev ]\n"
                      "aws_access_key_id=AKID1  \n ; c\naws_secret_access_key = s = x\r\n"
                      "[profile app]\nrole_arn = arn:r\n";
    char v[64];
    CHECK(credentials_ini_get(ini, "dev", "aws_access_key_id", v, sizeof(v)) == 1);
    CHECK_STR(v, "AKID1");
    CHECK(credentials_ini_get(ini, "dev", "aws_secret_access_key", v, sizeof(v)) == 1);
    CHECK_STR(v, "s = x");
    CHECK(credentials_ini_get(ini, "default", "aws_access_key_id", v, sizeof(v)) == 0);
    CHECK(credentials_ini_get(ini, "profile app", "role_arn", v, sizeof(v)) == 1);
    CHECK(credentials_ini_get(ini, "profile app", "role_arn", v, 3) == -1);
    CHECK(credentials_ini_has_section(ini, "dev") == 1);
    CHECK(credentials_ini_has_section(ini, "prod") == 0);

    /* Regression found by the ini fuzz target: a bare CR inside a line
     * reached the value ("dev = secret\r_sa"), and values go into request
     * headers (aws_session_token). A bare CR now ends the line, as in the
     * AWS CLI's reader (universal newlines). */
    const char *cr = "[dev]\naws_secret_access_key=dev = secret\r_sa\n"
                     "aws_session_token = tok\rx-injected: 1\r\r[mac]\rk = v\r";
    CHECK(credentials_ini_get(cr, "dev", "aws_secret_access_key", v, sizeof(v)) == 1);
    CHECK_STR(v, "dev = secret");
    CHECK(credentials_ini_get(cr, "dev", "aws_session_token", v, sizeof(v)) == 1);
    CHECK_STR(v, "tok");
    CHECK(credentials_ini_get(cr, "mac", "k", v, sizeof(v)) == 1);
    CHECK_STR(v, "v");
    CHECK(credentials_ini_has_section(cr, "mac") == 1);

    /* Regressions for properties the sts_xml / credentials_json fuzz targets
     * check (the previous code fails them on the seed corpus). */
    /* An STS error message with control bytes and UTF-8, and one long enough
     * for the cut at 200 bytes to split a UTF-8 sequence: the error text
     * stays printable ASCII (it goes into logs and client errors). */
    const char *sts_utf8 = "<ErrorResponse><Error><Code>InvalidIdentityToken</Code><Message>"
                           "Couldn\xe2\x80\x99t\r\nverify\x01</Message></Error></ErrorResponse>";
    CHECK(credentials_parse_sts_xml(sts_utf8, strlen(sts_utf8), &c, why, sizeof(why)) == -1);
    CHECK_STR(why, "STS error InvalidIdentityToken: Couldn???t??verify?");
    char long_msg[600];
    strcpy(long_msg, "<Error><Code>AccessDenied</Code><Message>");
    for (int i = 0; i < 120; i++)
        strcat(long_msg, "\xc3\xa9");
    strcat(long_msg, "</Message></Error>");
    CHECK(credentials_parse_sts_xml(long_msg, strlen(long_msg), &c, why, sizeof(why)) == -1);
    CHECK(s_printable_ascii(why) && strstr(why, "AccessDenied") != NULL);
    const char *code_utf8 = "{\"Code\":\"\\u00e9chec\\n\",\"AccessKeyId\":\"A\","
                            "\"SecretAccessKey\":\"SECRETX\"}";
    CHECK(credentials_parse_json(code_utf8, strlen(code_utf8), &c, why, sizeof(why)) == -1);
    CHECK_STR(why, "credentials reply Code is ??chec?");
    /* A member given twice is refused (which secret would be meant?). */
    const char *dup = "{\"AccessKeyId\":\"ASIADUP\",\"SecretAccessKey\":\"SECRETX1\","
                      "\"SecretAccessKey\":\"SECRETX2\"}";
    CHECK(credentials_parse_json(dup, strlen(dup), &c, why, sizeof(why)) == -1);
    CHECK(strstr(why, "SECRETX") == NULL);
    CHECK(c.access_key_id == NULL && c.secret_access_key == NULL);
    /* jansson's decoded copy of the secret and the token is wiped before the
     * document is freed, on success and on failure. */
    json_set_alloc_funcs(malloc, s_watch_free);
    const char *docs[] = {
        "{\"AccessKeyId\":\"ASIAW\",\"SecretAccessKey\":\"watched-secret-1\","
        "\"Token\":\"watched-token-1\"}",
        "{\"AccessKeyId\":\"ASIAW\",\"SecretAccessKey\":\"watched-secret-1\","
        "\"Token\":\"watched-token-1\",\"Expiration\":\"soon\"}",
    };
    for (size_t i = 0; i < 2; i++) {
        const char *w[] = {"watched-secret-1", "watched-token-1"};
        for (size_t k = 0; k < 2; k++) {
            s_watched = w[k];
            s_unwiped = 0;
            int rc = credentials_parse_json(docs[i], strlen(docs[i]), &c, why, sizeof(why));
            CHECK(rc == (i == 0 ? 0 : -1));
            credentials_parse_wipe(&c);
            CHECK(s_unwiped == 0);
        }
    }
    s_watched = NULL;
    json_set_alloc_funcs(malloc, free);

    /* The session token becomes the x-amz-security-token request header (to
     * Bedrock and to STS for the next link of a role chain): a token with a
     * line break or another control byte, from an STS reply (a numeric
     * reference) or a container/IMDS document (a JSON escape), would add
     * headers of its own. Refused like a malformed key id. */
    const char *sts_crlf[] = {
        "<Credentials><AccessKeyId>ASIAX</AccessKeyId><SecretAccessKey>SECRETX</SecretAccessKey>"
        "<SessionToken>tok&#13;&#10;x-injected: 1</SessionToken>"
        "<Expiration>2024-01-02T03:04:05Z</Expiration></Credentials>",
        "<Credentials><AccessKeyId>ASIAX</AccessKeyId><SecretAccessKey>SECRETX</SecretAccessKey>"
        "<SessionToken>tok\nx-injected: 1</SessionToken>"
        "<Expiration>2024-01-02T03:04:05Z</Expiration></Credentials>",
        "<Credentials><AccessKeyId>ASIAX</AccessKeyId><SecretAccessKey>SECRETX</SecretAccessKey>"
        "<SessionToken>tok&#x7f;</SessionToken>"
        "<Expiration>2024-01-02T03:04:05Z</Expiration></Credentials>",
    };
    for (size_t i = 0; i < sizeof(sts_crlf) / sizeof(sts_crlf[0]); i++) {
        CHECK(credentials_parse_sts_xml(sts_crlf[i], strlen(sts_crlf[i]), &c, why, sizeof(why)) ==
              -1);
        CHECK(strstr(why, "SECRETX") == NULL && strstr(why, "x-injected") == NULL);
        CHECK(c.access_key_id == NULL && c.secret_access_key == NULL && c.session_token == NULL);
    }
    const char *json_crlf[] = {
        "{\"AccessKeyId\":\"ASIAX\",\"SecretAccessKey\":\"SECRETX\","
        "\"Token\":\"tok\\r\\nx-injected: 1\"}",
        "{\"AccessKeyId\":\"ASIAX\",\"SecretAccessKey\":\"SECRETX\",\"Token\":\"tok\\u0001\"}",
        "{\"AccessKeyId\":\"ASIAX\",\"SecretAccessKey\":\"SECRETX\",\"Token\":\"t\\u00e9\"}",
    };
    for (size_t i = 0; i < sizeof(json_crlf) / sizeof(json_crlf[0]); i++) {
        CHECK(credentials_parse_json(json_crlf[i], strlen(json_crlf[i]), &c, why, sizeof(why)) ==
              -1);
        CHECK(strstr(why, "SECRETX") == NULL && strstr(why, "x-injected") == NULL);
        CHECK(c.access_key_id == NULL && c.secret_access_key == NULL && c.session_token == NULL);
    }
    return TEST_EXIT();
}
