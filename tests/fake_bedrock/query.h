/*
 * query - splits a raw URL query string into decoded name/value pairs, the
 * way Bedrock's front end reads it: pairs separated by '&', name and value
 * by the first '=', "%XX" decoded, and '+' kept as a literal '+' (AWS SDKs
 * send '+' as %2B; a raw '+' is not a space here).
 *
 * Pure: no I/O. The pairs are heap-owned by struct query_params (free with
 * query_params_clean_up).
 */
#ifndef FAKE_QUERY_H
#define FAKE_QUERY_H

#include <stddef.h>

struct query_param {
    char *name;
    char *value;
};

struct query_params {
    struct query_param *items;
    size_t n;
};

/* Parses raw[0..len). Empty segments ("a=1&&b=2") are skipped; a segment
 * without '=' has the value "". Invalid escapes ("%zz", a trailing '%') and
 * "%00" are kept verbatim. Returns 0, or -1 when there are more than
 * max_params pairs or memory runs out (out is then empty). */
int query_parse(const char *raw, size_t len, size_t max_params, struct query_params *out);
void query_params_clean_up(struct query_params *q);

/* The value of the first pair named name (case-sensitive), or NULL. */
const char *query_get(const struct query_params *q, const char *name);

/* Percent-decodes in[0..len) into a new NUL-terminated string (free()), with
 * the rules above. NULL when memory runs out. */
char *query_decode(const char *in, size_t len);

#endif
