/*
 * sigv4_request_fuzz - the AWS-compatible front's whole check of a hostile
 * request: sigv4_query_split on the raw query, then sigv4_verify with the
 * Authorization header, X-Amz-Date and the query (header or presigned
 * form) against one known key.
 *
 * Input: three parts separated by '\n': the Authorization value (may be
 * empty: then no header), the X-Amz-Date value, the raw query.
 *
 * Invariants: no crash, leak or overread; the result is one of the enum's;
 * the message is NUL-terminated; a reported access key id is letters and
 * digits only (it goes to the audit line); and what verifies (the seeds
 * are authentic requests of the AWS suite, and some mutations keep them
 * so, such as reordered query parameters) verifies because of the secret:
 * the same request under another secret is refused.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "sigv4_verify.h"

static const char *s_secret(void *ctx, const char *akid, const char **token)
{
    (void)token;
    if (strcmp(akid, "AKIDEXAMPLE") != 0)
        return NULL;
    return ctx ? "another-secret-0123456789" : "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_strndup(data, size);
    char *parts[3] = {s, "", ""};
    for (int i = 1; i < 3; i++) {
        char *nl = strchr(parts[i - 1], '\n');
        if (!nl)
            break;
        *nl = '\0';
        parts[i] = nl + 1;
    }
    struct sigv4_kv q[32];
    size_t nq = 0;
    char *qcopy = strdup(parts[2]);
    FUZZ_CHECK(qcopy != NULL);
    if (sigv4_query_split(qcopy, q, 32, &nq) == 0) {
        for (size_t i = 0; i < nq; i++)
            FUZZ_CHECK(q[i].name && q[i].value);
        struct sigv4_kv h[3] = {{"host", "example.amazonaws.com"},
                                {"x-amz-date", parts[1]},
                                {"authorization", parts[0]}};
        struct sigv4_verify_config vc = {"us-east-1", "service", 300, false, s_secret, NULL};
        struct sigv4_verify_request vr = {"GET", "/", q, nq, h, parts[0][0] ? 3 : 2, 1440938160};
        struct sigv4_verify_error err;
        enum sigv4_verify_result r = sigv4_verify(&vc, &vr, &err);
        FUZZ_CHECK(r >= SIGV4_OK && r <= SIGV4_INTERNAL && r == err.result);
        if (r == SIGV4_OK) {
            vc.ctx = (void *)"other";
            FUZZ_CHECK(sigv4_verify(&vc, &vr, &err) == SIGV4_INVALID_SIGNATURE);
        }
        FUZZ_CHECK(memchr(err.message, '\0', sizeof(err.message)) != NULL);
        for (const char *p = err.access_key_id; *p; p++)
            FUZZ_CHECK((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                       (*p >= '0' && *p <= '9'));
    }
    free(qcopy);
    free(s);
    return 0;
}
