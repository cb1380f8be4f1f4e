/*
 * sts_xml_fuzz - libFuzzer target for credentials_parse_sts_xml, the reader
 * of STS AssumeRole / AssumeRoleWithWebIdentity replies and STS error
 * documents.
 *
 * Input: the reply body, handed over as an exact-size heap copy (no NUL
 * after it), so reading past the end is an ASan report.
 *
 * Invariants:
 *   - the result is 0 or -1; `why` (an exact-size heap buffer) is a
 *     terminated string; on failure it is non-empty printable ASCII (it goes
 *     into logs and client errors), and when the body has a <Credentials>
 *     element it is one of the parser's own texts, never quoted input;
 *   - success never has an empty or missing AccessKeyId, SecretAccessKey or
 *     SessionToken; the key id is printable and at most 128 bytes; no field
 *     is longer than CREDENTIALS_FIELD_MAX; the session token is printable
 *     ASCII without blanks (it becomes a request header); failure leaves
 *     all three NULL;
 *   - differential: when the first <Credentials> element holds a
 *     SecretAccessKey / SessionToken without markup or entities, a success
 *     returns exactly that text (trimmed);
 *   - secrets are wiped: no heap block freed during a failed parse, or by
 *     credentials_parse_wipe, still holds the secret or the session token
 *     (fuzz_secrets.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "credentials_parse.h"
#include "fuzz_secrets.h"
#include "fuzz_util.h"

#define S_WHY_LEN 300

static const char *s_find(const char *h, size_t hl, const char *n)
{
    size_t nl = strlen(n);
    for (size_t i = 0; nl <= hl && i + nl <= hl; i++) {
        if (memcmp(h + i, n, nl) == 0)
            return h + i;
    }
    return NULL;
}

/* The trimmed raw text of <name> in the first <Credentials> element, when
 * it has no markup or entity (so it is what the parser must return), as a
 * new string; else NULL. */
static char *s_reference(const char *body, size_t len, const char *name)
{
    const char *cs = s_find(body, len, "<Credentials>");
    if (!cs)
        return NULL;
    const char *ce = s_find(cs, len - (size_t)(cs - body), "</Credentials>");
    if (!ce)
        return NULL;
    char open[64], close[64];
    snprintf(open, sizeof(open), "<%s>", name);
    snprintf(close, sizeof(close), "</%s>", name);
    const char *a = s_find(cs, (size_t)(ce - cs), open);
    if (!a)
        return NULL;
    a += strlen(open);
    const char *b = s_find(a, (size_t)(ce - a), close);
    if (!b)
        return NULL;
    while (a < b && (*a == ' ' || *a == '\n' || *a == '\r' || *a == '\t'))
        a++;
    while (b > a && (b[-1] == ' ' || b[-1] == '\n' || b[-1] == '\r' || b[-1] == '\t'))
        b--;
    if (a == b || memchr(a, '&', (size_t)(b - a)) || memchr(a, '<', (size_t)(b - a)) ||
        memchr(a, '\0', (size_t)(b - a)) || (size_t)(b - a) > CREDENTIALS_FIELD_MAX)
        return NULL;
    return fuzz_strndup((const uint8_t *)a, (size_t)(b - a));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *body = fuzz_exact_copy(data, size);
    char *why = fuzz_out_buffer(S_WHY_LEN);

    char *ref_secret = s_reference(body, size, "SecretAccessKey");
    char *ref_token = s_reference(body, size, "SessionToken");
    /* Only texts that occur once in the body can be told apart from other
     * fields' blocks. */
    const char *watch[2] = {
        ref_secret && fuzz_count(body, size, ref_secret) == 1 ? ref_secret : NULL,
        ref_token && fuzz_count(body, size, ref_token) == 1 ? ref_token : NULL,
    };

    struct credentials c;
    fuzz_secrets_watch(watch, 2);
    int rc = credentials_parse_sts_xml(body, size, &c, why, S_WHY_LEN);
    size_t unwiped = fuzz_secrets_unwatch();
    FUZZ_CHECK(rc == 0 || rc == -1);
    FUZZ_CHECK(c.source == NULL);

    if (rc == 0) {
        fuzz_check_parsed(&c, true); /* the token becomes a request header */
        if (ref_secret)
            FUZZ_CHECK(strcmp(c.secret_access_key, ref_secret) == 0);
        if (ref_token)
            FUZZ_CHECK(strcmp(c.session_token, ref_token) == 0);
        fuzz_check_wipe(&c);
    } else {
        fuzz_check_failed(&c, why, S_WHY_LEN);
        if (s_find(body, size, "<Credentials>"))
            FUZZ_CHECK(strncmp(why, "STS reply", 9) == 0);
        FUZZ_CHECK(unwiped == 0);
    }
    free(ref_secret);
    free(ref_token);
    free(why);
    free(body);
    return 0;
}
