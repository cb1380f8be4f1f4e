/*
 * query - raw query string -> decoded pairs. See query.h. No I/O.
 */
#include "query.h"

#include <stdlib.h>
#include <string.h>

#include "hex.h"

char *query_decode(const char *in, size_t len)
{
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (in[i] == '%' && i + 2 < len) {
            int hi = hex_digit(in[i + 1]);
            int lo = hex_digit(in[i + 2]);
            if (hi >= 0 && lo >= 0 && (hi | lo) != 0) { /* "%00" stays verbatim */
                out[o++] = (char)(hi * 16 + lo);
                i += 2;
                continue;
            }
        }
        out[o++] = in[i];
    }
    out[o] = '\0';
    return out;
}

void query_params_clean_up(struct query_params *q)
{
    for (size_t i = 0; i < q->n; i++) {
        free(q->items[i].name);
        free(q->items[i].value);
    }
    free(q->items);
    q->items = NULL;
    q->n = 0;
}

int query_parse(const char *raw, size_t len, size_t max_params, struct query_params *out)
{
    int rc = -1;
    out->items = NULL;
    out->n = 0;
    if (max_params == 0)
        max_params = 1;
    out->items = calloc(max_params, sizeof(*out->items));
    if (!out->items)
        goto cleanup;

    size_t pos = 0;
    while (pos < len) {
        const char *seg = raw + pos;
        const char *amp = memchr(seg, '&', len - pos);
        size_t seg_len = amp ? (size_t)(amp - seg) : len - pos;
        pos += seg_len + 1;
        if (seg_len == 0)
            continue;
        if (out->n == max_params)
            goto cleanup;
        const char *eq = memchr(seg, '=', seg_len);
        size_t name_len = eq ? (size_t)(eq - seg) : seg_len;
        struct query_param *p = &out->items[out->n];
        p->name = query_decode(seg, name_len);
        p->value = eq ? query_decode(eq + 1, seg_len - name_len - 1) : query_decode("", 0);
        out->n++;
        if (!p->name || !p->value)
            goto cleanup;
    }
    rc = 0;
cleanup:
    if (rc != 0)
        query_params_clean_up(out);
    return rc;
}

const char *query_get(const struct query_params *q, const char *name)
{
    for (size_t i = 0; i < q->n; i++) {
        if (strcmp(q->items[i].name, name) == 0)
            return q->items[i].value;
    }
    return NULL;
}
