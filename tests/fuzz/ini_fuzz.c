/*
 * ini_fuzz - libFuzzer target for the shared config/credentials file
 * reader: credentials_ini_get and credentials_ini_has_section.
 *
 * Input: byte 0 picks the output buffer size (1..256); then the section
 * name up to the first '\n', the key up to the next '\n', and the rest is
 * the file text (a NUL byte ends each, as in a C string).
 *
 * Invariants:
 *   - results are in range (get: -1, 0, 1; has_section: 0, 1);
 *   - the output buffer is an exact-size heap block (so an overflow is an
 *     ASan report); on 1 it holds a terminated value shorter than the
 *     buffer, without line breaks or surrounding blanks, that occurs in the
 *     text; on 0 or -1 it is left untouched;
 *   - -1 means exactly "the value does not fit": a large buffer then finds
 *     a value at least as long as the small buffer; and 1 with the small
 *     buffer gives the same value with the large one;
 *   - a key found in [section] implies has_section(section) == 1.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "credentials_parse.h"
#include "fuzz_util.h"

#define S_BIG 8192

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t out_len = (size_t)data[0] % 256 + 1;
    char *all = fuzz_strndup(data + 1, size - 1);
    char *section = all;
    char *key = "";
    char *text = "";
    char *nl = strchr(all, '\n');
    if (nl) {
        *nl = '\0';
        key = nl + 1;
        nl = strchr(key, '\n');
        if (nl) {
            *nl = '\0';
            text = nl + 1;
        }
    }

    char *out = malloc(out_len);
    FUZZ_CHECK(out != NULL);
    memset(out, 0x5a, out_len);
    int rc = credentials_ini_get(text, section, key, out, out_len);
    FUZZ_CHECK(rc == -1 || rc == 0 || rc == 1);
    int has = credentials_ini_has_section(text, section);
    FUZZ_CHECK(has == 0 || has == 1);

    char *big = malloc(S_BIG);
    FUZZ_CHECK(big != NULL);
    int big_rc = credentials_ini_get(text, section, key, big, S_BIG);
    FUZZ_CHECK(big_rc == -1 || big_rc == 0 || big_rc == 1);

    if (rc == 1) {
        FUZZ_CHECK(fuzz_terminated(out, out_len));
        size_t n = strlen(out);
        FUZZ_CHECK(n < out_len);
        FUZZ_CHECK(!strchr(out, '\n') && !strchr(out, '\r'));
        if (n > 0) {
            FUZZ_CHECK(out[0] != ' ' && out[0] != '\t');
            FUZZ_CHECK(out[n - 1] != ' ' && out[n - 1] != '\t');
        }
        FUZZ_CHECK(strstr(text, out) != NULL);
        FUZZ_CHECK(has == 1);
        FUZZ_CHECK(big_rc == 1 && strcmp(big, out) == 0);
    } else {
        for (size_t i = 0; i < out_len; i++)
            FUZZ_CHECK((unsigned char)out[i] == 0x5a);
        if (rc == 0)
            FUZZ_CHECK(big_rc == 0);
        else
            FUZZ_CHECK(big_rc == -1 || (big_rc == 1 && strlen(big) >= out_len));
    }
    if (big_rc == 1)
        FUZZ_CHECK(has == 1);
    free(big);
    free(out);
    free(all);
    return 0;
}
