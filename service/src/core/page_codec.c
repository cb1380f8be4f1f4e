/*
 * page_codec - see page_codec.h.
 */
#include "page_codec.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { F_LM = 1, F_CT = 2, F_ET = 4, F_IMA = 8, F_IMN = 16 };

static int s_u32(struct buf *b, uint32_t v)
{
    unsigned char x[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    return buf_append(b, x, 4);
}

static int s_u64(struct buf *b, uint64_t v)
{
    return s_u32(b, (uint32_t)v) | s_u32(b, (uint32_t)(v >> 32));
}

static int s_str(struct buf *b, const char *s)
{
    size_t n = strlen(s);
    return s_u32(b, (uint32_t)n) | buf_append(b, s, n);
}

static int s_time(struct buf *b, const struct bgw_time *t)
{
    return s_u64(b, (uint64_t)t->seconds) | s_u32(b, (uint32_t)t->nanos);
}

int page_codec_encode(const struct jobs_response *p, struct buf *out)
{
    int bad = s_u32(out, (uint32_t)p->n_summaries);
    for (size_t i = 0; i < p->n_summaries; i++) {
        const struct jobs_summary *s = &p->summaries[i];
        unsigned char fl =
            (unsigned char)((s->has_last_modified_time ? F_LM : 0) |
                            (s->has_creation_time ? F_CT : 0) | (s->has_end_time ? F_ET : 0) |
                            (s->imported_model_arn ? F_IMA : 0) |
                            (s->imported_model_name ? F_IMN : 0));
        unsigned char st = (unsigned char)s->status;
        bad |=
            s_str(out, s->job_arn ? s->job_arn : "") | s_str(out, s->job_name ? s->job_name : "");
        bad |= buf_append(out, &st, 1) | buf_append(out, &fl, 1);
        if (s->has_last_modified_time)
            bad |= s_time(out, &s->last_modified_time);
        if (s->has_creation_time)
            bad |= s_time(out, &s->creation_time);
        if (s->has_end_time)
            bad |= s_time(out, &s->end_time);
        if (s->imported_model_arn)
            bad |= s_str(out, s->imported_model_arn);
        if (s->imported_model_name)
            bad |= s_str(out, s->imported_model_name);
    }
    unsigned char more = p->next_token != NULL;
    bad |= buf_append(out, &more, 1);
    if (more)
        bad |= s_str(out, p->next_token);
    return bad ? -1 : 0;
}

struct s_in {
    const unsigned char *p;
    size_t left;
    bool bad;
};

static const unsigned char *s_take(struct s_in *in, size_t n)
{
    if (in->bad || in->left < n) {
        in->bad = true;
        return NULL;
    }
    const unsigned char *r = in->p;
    in->p += n;
    in->left -= n;
    return r;
}

static uint32_t s_get_u32(struct s_in *in)
{
    const unsigned char *x = s_take(in, 4);
    return x ? (uint32_t)x[0] | (uint32_t)x[1] << 8 | (uint32_t)x[2] << 16 | (uint32_t)x[3] << 24
             : 0;
}

static unsigned char s_get_u8(struct s_in *in)
{
    const unsigned char *x = s_take(in, 1);
    return x ? x[0] : 0;
}

static char *s_get_str(struct s_in *in)
{
    uint32_t n = s_get_u32(in);
    const unsigned char *x = s_take(in, n);
    if (!x || memchr(x, 0, n)) {
        in->bad = true;
        return NULL;
    }
    char *s = malloc((size_t)n + 1);
    if (!s) {
        in->bad = true;
        return NULL;
    }
    memcpy(s, x, n);
    s[n] = '\0';
    return s;
}

static void s_get_time(struct s_in *in, struct bgw_time *t)
{
    uint64_t lo = s_get_u32(in), hi = s_get_u32(in);
    t->seconds = (int64_t)(lo | hi << 32);
    t->nanos = (int32_t)s_get_u32(in);
    if (t->nanos < 0 || t->nanos > 999999999)
        in->bad = true;
}

int page_codec_decode(const void *data, size_t len, struct jobs_response *out)
{
    memset(out, 0, sizeof(*out));
    struct s_in in = {data, len, false};
    uint32_t n = s_get_u32(&in);
    /* each row takes at least 10 bytes: a bound before allocating */
    if (in.bad || n > PAGE_CODEC_MAX_ROWS || (size_t)n * 10 > in.left)
        return -1;
    if (n) {
        out->summaries = calloc(n, sizeof(*out->summaries));
        if (!out->summaries)
            return -1;
    }
    for (uint32_t i = 0; i < n && !in.bad; i++) {
        struct jobs_summary *s = &out->summaries[i];
        out->n_summaries = i + 1;
        s->job_arn = s_get_str(&in);
        s->job_name = s_get_str(&in);
        s->status = s_get_u8(&in);
        unsigned char fl = s_get_u8(&in);
        if (fl & ~(F_LM | F_CT | F_ET | F_IMA | F_IMN))
            in.bad = true;
        if ((s->has_last_modified_time = (fl & F_LM) != 0))
            s_get_time(&in, &s->last_modified_time);
        if ((s->has_creation_time = (fl & F_CT) != 0))
            s_get_time(&in, &s->creation_time);
        if ((s->has_end_time = (fl & F_ET) != 0))
            s_get_time(&in, &s->end_time);
        if (fl & F_IMA)
            s->imported_model_arn = s_get_str(&in);
        if (fl & F_IMN)
            s->imported_model_name = s_get_str(&in);
    }
    unsigned char more = s_get_u8(&in);
    if (more > 1)
        in.bad = true;
    else if (more)
        out->next_token = s_get_str(&in);
    if (in.bad || in.left != 0) {
        jobs_response_clean_up(out);
        return -1;
    }
    return 0;
}
