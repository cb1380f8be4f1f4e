/*
 * http1 - HTTP/1.x request-head parser. See http1.h. No I/O, no
 * allocation; works in place on the caller's copy of the head.
 */
#include "http1.h"

#include <string.h>

/* RFC 9110 5.6.2 tchar. */
static const unsigned char s_tchar[256] = {
    ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['*'] = 1, ['+'] = 1,
    ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['|'] = 1,  ['~'] = 1, ['0'] = 1,
    ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1,  ['7'] = 1, ['8'] = 1,
    ['9'] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1,  ['F'] = 1, ['G'] = 1,
    ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1,  ['N'] = 1, ['O'] = 1,
    ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1,  ['V'] = 1, ['W'] = 1,
    ['X'] = 1, ['Y'] = 1, ['Z'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1,  ['d'] = 1, ['e'] = 1,
    ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1,  ['l'] = 1, ['m'] = 1,
    ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1,  ['t'] = 1, ['u'] = 1,
    ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
};

static const struct {
    int status;
    const char *msg;
} s_results[HTTP1_RESULT_COUNT] = {
    [HTTP1_OK] = {200, "ok"},
    [HTTP1_ERR_BAD_REQUEST] = {400, "malformed HTTP request"},
    [HTTP1_ERR_TOO_MANY_HEADERS] = {431, "too many header fields"},
    [HTTP1_ERR_HEAD_TOO_LARGE] = {431, "request header fields too large"},
    [HTTP1_ERR_BODY_TOO_LARGE] = {413, "request body too large"},
    [HTTP1_ERR_METHOD] = {501, "method not implemented"},
    [HTTP1_ERR_TRANSFER_ENCODING] = {501, "Transfer-Encoding is not accepted on requests"},
    [HTTP1_ERR_VERSION] = {505, "HTTP version not supported: use HTTP/1.1 or HTTP/1.0"},
};

int http1_result_status(enum http1_result r)
{
    return (int)r >= 0 && r < HTTP1_RESULT_COUNT ? s_results[r].status : 500;
}

const char *http1_result_str(enum http1_result r)
{
    return (int)r >= 0 && r < HTTP1_RESULT_COUNT ? s_results[r].msg : "internal error";
}

static unsigned char s_lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

bool http1_name_eq(const char *a, const char *b)
{
    for (;; a++, b++) {
        unsigned char x = s_lower((unsigned char)*a), y = s_lower((unsigned char)*b);
        if (x != y)
            return false;
        if (!x)
            return true;
    }
}

static bool s_ieq_n(const char *a, size_t alen, const char *lit)
{
    size_t n = strlen(lit);
    if (alen != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s_lower((unsigned char)a[i]) != (unsigned char)lit[i])
            return false;
    }
    return true;
}

size_t http1_head_length(const char *data, size_t len, size_t *scan)
{
    size_t i = *scan;
    while (i < len) {
        const char *nl = memchr(data + i, '\n', len - i);
        if (!nl)
            break;
        size_t at = (size_t)(nl - data);
        /* The line ending here is empty when the byte before is the previous
         * line's LF (bare LF) or a CR right after that LF. */
        if (at >= 1 && data[at - 1] == '\n')
            return at + 1;
        if (at >= 2 && data[at - 1] == '\r' && data[at - 2] == '\n')
            return at + 1;
        i = at + 1;
    }
    *scan = len;
    return 0;
}

/* The end of the line starting at p (the index of its CR or LF) in
 * head[0..len), with *next the start of the following line. -1 when a CR
 * is not followed by LF or there is no line end. */
static long s_line(const char *head, size_t len, size_t p, size_t *next)
{
    const char *nl = memchr(head + p, '\n', len - p);
    if (!nl)
        return -1;
    size_t end = (size_t)(nl - head);
    *next = end + 1;
    if (end > p && head[end - 1] == '\r')
        end--;
    if (memchr(head + p, '\r', end - p))
        return -1; /* a bare CR inside the line */
    return (long)end;
}

static enum http1_method s_method(const char *m, size_t n)
{
    static const struct {
        const char *name;
        size_t len;
        enum http1_method m;
    } known[] = {
        {"GET", 3, HTTP1_M_GET},     {"HEAD", 4, HTTP1_M_HEAD}, {"OPTIONS", 7, HTTP1_M_OPTIONS},
        {"POST", 4, HTTP1_M_POST},   {"PUT", 3, HTTP1_M_PUT},   {"DELETE", 6, HTTP1_M_DELETE},
        {"PATCH", 5, HTTP1_M_PATCH},
    };
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (known[i].len == n && memcmp(known[i].name, m, n) == 0)
            return known[i].m;
    }
    return HTTP1_M_OTHER;
}

/* The request target t[0..n) (writable, t[n] is writable too): sets path and
 * query, NUL-terminating them in place. */
static enum http1_result s_target(char *t, size_t n, struct http1_request *out)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t[i];
        if (c <= 0x20 || c >= 0x7f)
            return HTTP1_ERR_BAD_REQUEST;
    }
    char *hash = memchr(t, '#', n);
    if (hash)
        n = (size_t)(hash - t);
    t[n] = '\0';
    if (n == 1 && t[0] == '*') {
        out->path = t;
        out->query = NULL;
        return HTTP1_OK;
    }
    if (t[0] != '/') {
        /* absolute-form: scheme "://" authority [path-abempty] ["?" query] */
        size_t skip;
        if (n > 7 && s_ieq_n(t, 7, "http://"))
            skip = 7;
        else if (n > 8 && s_ieq_n(t, 8, "https://"))
            skip = 8;
        else
            return HTTP1_ERR_BAD_REQUEST;
        size_t a = skip;
        while (a < n && t[a] != '/' && t[a] != '?')
            a++;
        if (a == skip)
            return HTTP1_ERR_BAD_REQUEST; /* no authority */
        if (a == n || t[a] == '?') {
            /* No path: it is "/"; the authority's last byte makes room. */
            t[a - 1] = '/';
            a--;
        }
        n -= a;
        t += a;
    }
    char *q = memchr(t, '?', n);
    out->path = t;
    out->query = NULL;
    if (q) {
        *q = '\0';
        out->query = q + 1;
    }
    return HTTP1_OK;
}

/* HTTP/1.0 or HTTP/1.1 -> minor; other HTTP/d.d -> 505; else 400. */
static enum http1_result s_version(const char *v, size_t n, int *minor)
{
    if (n != 8 || memcmp(v, "HTTP/", 5) != 0 || v[6] != '.' || v[5] < '0' || v[5] > '9' ||
        v[7] < '0' || v[7] > '9')
        return HTTP1_ERR_BAD_REQUEST;
    if (v[5] != '1' || (v[7] != '0' && v[7] != '1'))
        return HTTP1_ERR_VERSION;
    *minor = v[7] - '0';
    return HTTP1_OK;
}

static enum http1_result s_request_line(char *head, size_t end, struct http1_request *out)
{
    char *sp1 = memchr(head, ' ', end);
    if (!sp1 || sp1 == head)
        return HTTP1_ERR_BAD_REQUEST;
    size_t mlen = (size_t)(sp1 - head);
    for (size_t i = 0; i < mlen; i++) {
        if (!s_tchar[(unsigned char)head[i]])
            return HTTP1_ERR_BAD_REQUEST;
    }
    out->method = s_method(head, mlen);
    out->method_name = head;
    char *t = sp1 + 1;
    char *sp2 = memchr(t, ' ', end - (size_t)(t - head));
    if (!sp2 || sp2 == t)
        return HTTP1_ERR_BAD_REQUEST;
    char *v = sp2 + 1;
    enum http1_result r = s_version(v, end - (size_t)(v - head), &out->minor);
    if (r != HTTP1_OK)
        return r;
    *sp1 = '\0';
    r = s_target(t, (size_t)(sp2 - t), out);
    if (r != HTTP1_OK)
        return r;
    if (out->method == HTTP1_M_OTHER)
        return HTTP1_ERR_METHOD;
    if (out->path[0] == '*' && out->method != HTTP1_M_OPTIONS)
        return HTTP1_ERR_BAD_REQUEST;
    return HTTP1_OK;
}

/* Content-Length: 1*DIGIT, at most 18 digits (no overflow). */
static bool s_content_length(const char *v, size_t n, uint64_t *out)
{
    if (n == 0 || n > 18)
        return false;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return false;
        x = x * 10 + (uint64_t)(v[i] - '0');
    }
    *out = x;
    return true;
}

/* Connection: a comma-separated list of tokens; sets *close / *keep. */
static void s_connection(const char *v, size_t n, bool *close, bool *keep)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t s = i;
        while (i < n && v[i] != ',' && v[i] != ' ' && v[i] != '\t')
            i++;
        if (s_ieq_n(v + s, i - s, "close"))
            *close = true;
        else if (s_ieq_n(v + s, i - s, "keep-alive"))
            *keep = true;
    }
}

enum http1_result http1_parse(char *head, size_t len, struct http1_request *out)
{
    out->method = HTTP1_M_OTHER;
    out->method_name = "";
    out->minor = 1;
    out->path = "";
    out->query = NULL;
    out->keep_alive = false;
    out->has_content_length = false;
    out->content_length = 0;
    out->n_headers = 0;

    size_t next;
    long end = s_line(head, len, 0, &next);
    if (end < 0)
        return HTTP1_ERR_BAD_REQUEST;
    /* The request line's terminator becomes the target's NUL. */
    enum http1_result r = s_request_line(head, (size_t)end, out);
    if (r != HTTP1_OK)
        return r;

    bool close = false, keep = false, te = false;
    size_t p = next;
    for (;;) {
        end = s_line(head, len, p, &next);
        if (end < 0)
            return HTTP1_ERR_BAD_REQUEST;
        size_t e = (size_t)end;
        if (e == p)
            break; /* the empty line */
        if (head[p] == ' ' || head[p] == '\t')
            return HTTP1_ERR_BAD_REQUEST; /* obs-fold, or whitespace before the first field */
        size_t c = p;
        while (c < e && s_tchar[(unsigned char)head[c]])
            c++;
        if (c == p || c == e || head[c] != ':')
            return HTTP1_ERR_BAD_REQUEST;
        size_t vs = c + 1, ve = e;
        while (vs < ve && (head[vs] == ' ' || head[vs] == '\t'))
            vs++;
        while (ve > vs && (head[ve - 1] == ' ' || head[ve - 1] == '\t'))
            ve--;
        for (size_t i = vs; i < ve; i++) {
            unsigned char ch = (unsigned char)head[i];
            if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
                return HTTP1_ERR_BAD_REQUEST;
        }
        if (out->n_headers == HTTP1_MAX_HEADERS)
            return HTTP1_ERR_TOO_MANY_HEADERS;
        head[c] = '\0';
        head[ve] = '\0';
        struct http1_header *h = &out->headers[out->n_headers++];
        h->name = head + p;
        h->name_len = c - p;
        h->value = head + vs;
        h->value_len = ve - vs;
        if (h->name_len == 14 && s_ieq_n(h->name, 14, "content-length")) {
            uint64_t v;
            if (!s_content_length(h->value, h->value_len, &v))
                return HTTP1_ERR_BAD_REQUEST;
            if (out->has_content_length && out->content_length != v)
                return HTTP1_ERR_BAD_REQUEST;
            out->has_content_length = true;
            out->content_length = v;
        } else if (h->name_len == 17 && s_ieq_n(h->name, 17, "transfer-encoding")) {
            te = true;
        } else if (h->name_len == 10 && s_ieq_n(h->name, 10, "connection")) {
            s_connection(h->value, h->value_len, &close, &keep);
        }
        p = next;
    }
    if (next != len)
        return HTTP1_ERR_BAD_REQUEST; /* not the length http1_head_length gave */
    if (te)
        return HTTP1_ERR_TRANSFER_ENCODING;
    out->keep_alive = out->minor >= 1 ? !close : keep && !close;
    return HTTP1_OK;
}

const char *http1_header(const struct http1_request *r, const char *name)
{
    for (size_t i = 0; i < r->n_headers; i++) {
        if (http1_name_eq(r->headers[i].name, name))
            return r->headers[i].value;
    }
    return NULL;
}
