/*
 * credentials_parse - see credentials_parse.h. No I/O, no clock.
 */
#include "credentials_parse.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timeutil.h"

void credentials_parse_wipe(struct credentials *c)
{
    char **f[] = {&c->access_key_id, &c->secret_access_key, &c->session_token};
    for (size_t i = 0; i < 3; i++) {
        if (*f[i]) {
            OPENSSL_cleanse(*f[i], strlen(*f[i]));
            free(*f[i]);
            *f[i] = NULL;
        }
    }
}

static int s_expiration(const char *text, int64_t *ms)
{
    struct bgw_time t;
    if (timeutil_parse_iso8601(text, &t) != 0)
        return -1;
    *ms = t.seconds * 1000 + t.nanos / 1000000;
    return 0;
}

/* --- XML ------------------------------------------------------------------ */

static const char *s_memmem(const char *h, size_t hl, const char *n)
{
    size_t nl = strlen(n);
    if (nl == 0 || hl < nl)
        return NULL;
    for (size_t i = 0; i + nl <= hl; i++) {
        if (h[i] == n[0] && memcmp(h + i, n, nl) == 0)
            return h + i;
    }
    return NULL;
}

/* The text of the first <name>...</name> inside [p, p+len), unescaped into a
 * new string. NULL when absent, malformed or longer than the limit. */
static char *s_xml_text(const char *p, size_t len, const char *name)
{
    char open[64], close[64];
    snprintf(open, sizeof(open), "<%s>", name);
    snprintf(close, sizeof(close), "</%s>", name);
    const char *a = s_memmem(p, len, open);
    if (!a)
        return NULL;
    a += strlen(open);
    const char *b = s_memmem(a, len - (size_t)(a - p), close);
    if (!b || (size_t)(b - a) > CREDENTIALS_FIELD_MAX)
        return NULL;
    size_t n = (size_t)(b - a);
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if (a[i] == '<') {
            goto bad; /* nested markup (CDATA, comments) is not expected here */
        }
        if (a[i] != '&') {
            out[o++] = a[i++];
            continue;
        }
        const char *semi = memchr(a + i, ';', n - i < 12 ? n - i : 12);
        if (!semi)
            goto bad;
        size_t el = (size_t)(semi - (a + i)) + 1;
        static const struct {
            const char *ent;
            char c;
        } ents[] = {
            {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
        bool done = false;
        for (size_t k = 0; k < sizeof(ents) / sizeof(ents[0]); k++) {
            if (el == strlen(ents[k].ent) && memcmp(a + i, ents[k].ent, el) == 0) {
                out[o++] = ents[k].c;
                done = true;
            }
        }
        if (!done && el > 3 && a[i + 1] == '#') {
            /* numeric reference, ASCII only (credentials are ASCII) */
            unsigned long v = 0;
            bool hex = a[i + 2] == 'x' || a[i + 2] == 'X';
            for (size_t k = i + (hex ? 3 : 2); k < i + el - 1; k++) {
                char ch = a[k];
                int d = ch >= '0' && ch <= '9'          ? ch - '0'
                        : hex && ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                        : hex && ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                                        : -1;
                if (d < 0)
                    goto bad;
                v = v * (hex ? 16 : 10) + (unsigned long)d;
                if (v > 127)
                    goto bad;
            }
            if (v == 0)
                goto bad;
            out[o++] = (char)v;
            done = true;
        }
        if (!done)
            goto bad;
        i += el;
    }
    out[o] = '\0';
    /* trim surrounding whitespace */
    size_t s = 0;
    while (out[s] == ' ' || out[s] == '\n' || out[s] == '\r' || out[s] == '\t')
        s++;
    while (o > s &&
           (out[o - 1] == ' ' || out[o - 1] == '\n' || out[o - 1] == '\r' || out[o - 1] == '\t'))
        out[--o] = '\0';
    if (s)
        memmove(out, out + s, o - s + 1);
    return out;
bad:
    OPENSSL_cleanse(out, n + 1);
    free(out);
    return NULL;
}

static bool s_printable(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
            return false;
    }
    return true;
}

/* Copies at most max bytes of untrusted text (an STS error message, an IMDS
 * Code) for an error text: printable ASCII kept, anything else (control
 * bytes, line breaks, UTF-8 sequences that a cut could leave half) becomes
 * '?'. dst holds max + 1 bytes. */
static void s_quote(char *dst, size_t max, const char *src)
{
    size_t i = 0;
    for (; src && src[i] && i < max; i++)
        dst[i] = (unsigned char)src[i] >= 0x20 && (unsigned char)src[i] <= 0x7e ? src[i] : '?';
    dst[i] = '\0';
}

int credentials_parse_sts_xml(const char *body, size_t len, struct credentials *out, char *why,
                              size_t why_len)
{
    memset(out, 0, sizeof(*out));
    char *exp = NULL;
    const char *cs = s_memmem(body, len, "<Credentials>");
    if (!cs) {
        char *code = s_xml_text(body, len, "Code");
        char *msg = s_xml_text(body, len, "Message");
        if (code && s_printable(code) && strlen(code) <= 64) {
            char m[201];
            s_quote(m, 200, msg);
            snprintf(why, why_len, "STS error %s: %s", code, m);
        } else
            snprintf(why, why_len, "STS reply has no <Credentials>");
        free(code);
        free(msg);
        return -1;
    }
    const char *ce = s_memmem(cs, len - (size_t)(cs - body), "</Credentials>");
    if (!ce) {
        snprintf(why, why_len, "STS reply: <Credentials> not closed");
        return -1;
    }
    size_t clen = (size_t)(ce - cs);
    out->access_key_id = s_xml_text(cs, clen, "AccessKeyId");
    out->secret_access_key = s_xml_text(cs, clen, "SecretAccessKey");
    out->session_token = s_xml_text(cs, clen, "SessionToken");
    exp = s_xml_text(cs, clen, "Expiration");
    if (!out->access_key_id || !out->secret_access_key || !out->session_token || !exp ||
        !*out->access_key_id || !*out->secret_access_key || !*out->session_token ||
        !s_printable(out->access_key_id) || strlen(out->access_key_id) > 128 ||
        !s_printable(out->session_token)) {
        snprintf(why, why_len,
                 "STS reply: AccessKeyId, SecretAccessKey, SessionToken or "
                 "Expiration missing or malformed");
        goto fail;
    }
    if (s_expiration(exp, &out->expires_at_ms) != 0) {
        snprintf(why, why_len, "STS reply: Expiration is not an ISO 8601 time");
        goto fail;
    }
    free(exp);
    return 0;
fail:
    free(exp);
    credentials_parse_wipe(out);
    return -1;
}

/* --- JSON ----------------------------------------------------------------- */

static char *s_json_str(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_string(v) || json_string_length(v) == 0 ||
        json_string_length(v) > CREDENTIALS_FIELD_MAX ||
        strlen(json_string_value(v)) != json_string_length(v))
        return NULL;
    return strdup(json_string_value(v));
}

/* Wipes jansson's own copy of a secret member before the document is
 * freed (json_string_value points into the string's heap block, which the
 * document owns). jansson's lexer buffers are out of reach: see the header. */
static void s_json_wipe(json_t *root, const char *k)
{
    json_t *v = json_object_get(root, k);
    if (json_is_string(v))
        OPENSSL_cleanse((char *)json_string_value(v), json_string_length(v));
}

int credentials_parse_json(const char *body, size_t len, struct credentials *out, char *why,
                           size_t why_len)
{
    memset(out, 0, sizeof(*out));
    json_error_t jerr;
    /* Duplicate members are refused: which SecretAccessKey would be meant? */
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    int rc = -1;
    if (!json_is_object(root)) {
        snprintf(why, why_len, "credentials reply is not a JSON object");
        goto cleanup;
    }
    json_t *code = json_object_get(root, "Code");
    if (code && (!json_is_string(code) || strcmp(json_string_value(code), "Success") != 0)) {
        char c[65];
        s_quote(c, 64, json_is_string(code) ? json_string_value(code) : "not a string");
        snprintf(why, why_len, "credentials reply Code is %s", c);
        goto cleanup;
    }
    out->access_key_id = s_json_str(root, "AccessKeyId");
    out->secret_access_key = s_json_str(root, "SecretAccessKey");
    out->session_token = s_json_str(root, "Token");
    if (!out->access_key_id || !out->secret_access_key || !s_printable(out->access_key_id) ||
        strlen(out->access_key_id) > 128) {
        snprintf(why, why_len,
                 "credentials reply: AccessKeyId or SecretAccessKey missing or "
                 "malformed");
        goto cleanup;
    }
    if (out->session_token && !s_printable(out->session_token)) {
        snprintf(why, why_len, "credentials reply: Token is malformed");
        goto cleanup;
    }
    json_t *exp = json_object_get(root, "Expiration");
    if (exp && !json_is_null(exp)) {
        if (!json_is_string(exp) ||
            s_expiration(json_string_value(exp), &out->expires_at_ms) != 0) {
            snprintf(why, why_len, "credentials reply: Expiration is not an ISO 8601 time");
            goto cleanup;
        }
    }
    rc = 0;
cleanup:
    if (rc != 0)
        credentials_parse_wipe(out);
    s_json_wipe(root, "SecretAccessKey");
    s_json_wipe(root, "Token");
    json_decref(root);
    return rc;
}

/* --- INI ------------------------------------------------------------------ */

static void s_trim(const char **a, const char **b)
{
    while (*a < *b && (**a == ' ' || **a == '\t'))
        (*a)++;
    while (*b > *a && ((*b)[-1] == ' ' || (*b)[-1] == '\t' || (*b)[-1] == '\r'))
        (*b)--;
}

static bool s_eq(const char *a, const char *b, const char *want)
{
    size_t n = (size_t)(b - a);
    return n == strlen(want) && memcmp(a, want, n) == 0;
}

/* Walks the lines; when key is NULL, reports whether the section exists. */
static int s_ini(const char *text, const char *section, const char *key, char *out, size_t out_len)
{
    bool in = false;
    const char *p = text;
    while (*p) {
        /* Universal newlines, as the AWS CLI's reader: "\n", "\r\n" and a
         * bare "\r" all end a line, so no value ever holds a line break
         * (values such as aws_session_token end up in request headers). */
        const char *end = p + strcspn(p, "\r\n");
        const char *a = p, *b = end;
        s_trim(&a, &b);
        p = *end ? end + 1 : end;
        if (a == b || *a == '#' || *a == ';')
            continue;
        if (*a == '[') {
            if (b[-1] != ']') {
                in = false;
                continue;
            }
            const char *sa = a + 1, *sb = b - 1;
            s_trim(&sa, &sb);
            in = s_eq(sa, sb, section);
            if (in && !key)
                return 1;
            continue;
        }
        if (!in || !key)
            continue;
        const char *eq = memchr(a, '=', (size_t)(b - a));
        if (!eq)
            continue;
        const char *ka = a, *kb = eq, *va = eq + 1, *vb = b;
        s_trim(&ka, &kb);
        s_trim(&va, &vb);
        if (!s_eq(ka, kb, key))
            continue;
        size_t n = (size_t)(vb - va);
        if (n >= out_len)
            return -1;
        memcpy(out, va, n);
        out[n] = '\0';
        return 1;
    }
    return 0;
}

int credentials_ini_get(const char *text, const char *section, const char *key, char *out,
                        size_t out_len)
{
    return s_ini(text, section, key, out, out_len);
}

int credentials_ini_has_section(const char *text, const char *section)
{
    return s_ini(text, section, NULL, NULL, 0);
}
