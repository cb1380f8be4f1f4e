/*
 * credentials_json_fuzz - libFuzzer target for credentials_parse_json, the
 * reader of the container-credentials endpoint's and EC2 instance
 * metadata's JSON documents.
 *
 * Input: the reply body, as an exact-size heap copy (no NUL after it).
 *
 * Invariants:
 *   - the result is 0 or -1; on failure `why` (an exact-size heap buffer) is
 *     terminated, non-empty printable ASCII and all three strings are NULL;
 *   - success never has an empty or missing AccessKeyId or SecretAccessKey;
 *     the key id is printable ASCII, at most 128 bytes; the session token is
 *     NULL or non-empty printable ASCII without blanks (it becomes a request
 *     header); no field is longer than CREDENTIALS_FIELD_MAX;
 *   - differential: a success returns exactly the document's
 *     SecretAccessKey and Token strings, as jansson reads them, and "Code",
 *     when present, is "Success";
 *   - secrets are wiped: no heap block freed during the parse (ours or
 *     jansson's decoded values) or by credentials_parse_wipe still holds the
 *     secret or the token as its string (fuzz_secrets.h). The check covers
 *     documents jansson parses completely: when it stops at a syntax error
 *     it frees what it had read itself, unwiped, which the parser cannot
 *     reach (see credentials_parse.h).
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "credentials_parse.h"
#include "fuzz_secrets.h"
#include "fuzz_util.h"

#define S_WHY_LEN 300

/* The string member k of root as a new string, or NULL. */
static char *s_member(json_t *root, const char *k)
{
    json_t *v = json_object_get(root, k);
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
        return NULL;
    return strdup(json_string_value(v));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *body = fuzz_exact_copy(data, size);
    char *why = fuzz_out_buffer(S_WHY_LEN);

    /* Reference reading of the document. */
    char *ref_secret = NULL, *ref_token = NULL, *ref_code = NULL;
    bool ref_has_code = false;
    json_error_t jerr;
    json_t *ref = json_loadb(body, size, JSON_REJECT_DUPLICATES, &jerr);
    if (json_is_object(ref)) {
        ref_secret = s_member(ref, "SecretAccessKey");
        ref_token = s_member(ref, "Token");
        ref_code = s_member(ref, "Code");
        ref_has_code = json_object_get(ref, "Code") != NULL;
    }
    json_decref(ref);
    const char *watch[2] = {
        ref_secret && fuzz_count(body, size, ref_secret) == 1 ? ref_secret : NULL,
        ref_token && fuzz_count(body, size, ref_token) == 1 ? ref_token : NULL,
    };

    struct credentials c;
    fuzz_secrets_watch(watch, 2);
    int rc = credentials_parse_json(body, size, &c, why, S_WHY_LEN);
    size_t unwiped = fuzz_secrets_unwatch();
    FUZZ_CHECK(rc == 0 || rc == -1);
    FUZZ_CHECK(c.source == NULL);
    FUZZ_CHECK(unwiped == 0);

    if (rc == 0) {
        fuzz_check_parsed(&c, false);
        FUZZ_CHECK(ref_secret && strcmp(c.secret_access_key, ref_secret) == 0);
        if (c.session_token)
            FUZZ_CHECK(ref_token && strcmp(c.session_token, ref_token) == 0);
        FUZZ_CHECK(!ref_has_code || (ref_code && strcmp(ref_code, "Success") == 0));
        fuzz_check_wipe(&c);
    } else {
        fuzz_check_failed(&c, why, S_WHY_LEN);
    }
    free(ref_secret);
    free(ref_token);
    free(ref_code);
    free(why);
    free(body);
    return 0;
}
