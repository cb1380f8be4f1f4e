/*
 * credentials_parse_test - STS XML (AssumeRole and WebIdentity replies,
 * entities, STS errors, truncation), container/IMDS JSON, INI lookup; error
 * texts never quote secrets.
 */
#include <stdlib.h>
#include <string.h>

#include "credentials_parse.h"
#include "test_util.h"

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
        "<Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey><![CDATA[SECRETX]]></SecretAccessKey>"
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
    const char *jbad[] = {"[]", "{\"Code\":\"Failure\",\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"SECRETX\"}",
                          "{\"AccessKeyId\":\"A\"}", "{\"AccessKeyId\":\"A B\",\"SecretAccessKey\":\"SECRETX\"}",
                          "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"SECRETX\",\"Expiration\":5}", "{"};
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
    return TEST_EXIT();
}
