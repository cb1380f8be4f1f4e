/*
 * page_codec_test - pages survive the round trip, every malformed input is
 * refused, and what decodes re-encodes to the same bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "page_codec.h"
#include "test_util.h"

static void s_page(struct jobs_response *p)
{
    memset(p, 0, sizeof(*p));
    p->n_summaries = 2;
    p->summaries = calloc(2, sizeof(*p->summaries));
    struct jobs_summary *a = &p->summaries[0], *b = &p->summaries[1];
    a->job_arn = strdup("arn:aws:bedrock:us-west-2:111122223333:model-import-job/abc");
    a->job_name = strdup("team-a-llama");
    a->status = JOBS_STATUS_COMPLETED;
    a->has_creation_time = true;
    a->creation_time = (struct bgw_time){1700000000, 123000000};
    a->has_end_time = true;
    a->end_time = (struct bgw_time){1700003600, 0};
    a->imported_model_arn = strdup("arn:aws:bedrock:us-west-2:111122223333:imported-model/x");
    b->job_arn = strdup("arn:b");
    b->job_name = strdup("");
    b->status = 0;
    b->has_last_modified_time = true;
    b->last_modified_time = (struct bgw_time){-62135596800, 999999999};
    b->imported_model_name = strdup("nm");
    p->next_token = strdup("tok/+=");
}

static int s_same(const struct jobs_response *x, const struct jobs_response *y)
{
    if (x->n_summaries != y->n_summaries || !!x->next_token != !!y->next_token ||
        (x->next_token && strcmp(x->next_token, y->next_token)))
        return 0;
    for (size_t i = 0; i < x->n_summaries; i++) {
        const struct jobs_summary *a = &x->summaries[i], *b = &y->summaries[i];
        if (strcmp(a->job_arn, b->job_arn) || strcmp(a->job_name, b->job_name) ||
            a->status != b->status || a->has_creation_time != b->has_creation_time ||
            a->has_end_time != b->has_end_time ||
            a->has_last_modified_time != b->has_last_modified_time ||
            memcmp(&a->creation_time, &b->creation_time, sizeof(a->creation_time)) ||
            memcmp(&a->end_time, &b->end_time, sizeof(a->end_time)) ||
            memcmp(&a->last_modified_time, &b->last_modified_time, sizeof(a->end_time)) ||
            !!a->imported_model_arn != !!b->imported_model_arn ||
            !!a->imported_model_name != !!b->imported_model_name ||
            (a->imported_model_arn && strcmp(a->imported_model_arn, b->imported_model_arn)) ||
            (a->imported_model_name && strcmp(a->imported_model_name, b->imported_model_name)))
            return 0;
    }
    return 1;
}

int main(void)
{
    struct jobs_response p, q;
    s_page(&p);
    struct buf b, b2;
    buf_init(&b, 0);
    buf_init(&b2, 0);
    CHECK(page_codec_encode(&p, &b) == 0);
    CHECK(page_codec_decode(b.data, b.len, &q) == 0);
    CHECK(s_same(&p, &q));
    CHECK(page_codec_encode(&q, &b2) == 0);
    CHECK(b2.len == b.len && memcmp(b.data, b2.data, b.len) == 0);
    jobs_response_clean_up(&q);
    /* every truncation and every trailing byte is refused */
    for (size_t n = 0; n < b.len; n++)
        CHECK(page_codec_decode(b.data, n, &q) != 0 && q.summaries == NULL);
    CHECK(buf_append(&b, "", 1) == 0);
    CHECK(page_codec_decode(b.data, b.len, &q) != 0);
    b.len--;
    /* flipping any single byte either fails or decodes to a valid page that
     * re-encodes to exactly those bytes */
    for (size_t i = 0; i < b.len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            b.data[i] ^= (char)(1 << bit);
            if (page_codec_decode(b.data, b.len, &q) == 0) {
                buf_reset(&b2);
                CHECK(page_codec_encode(&q, &b2) == 0 && b2.len == b.len &&
                      memcmp(b2.data, b.data, b.len) == 0);
                jobs_response_clean_up(&q);
            }
            b.data[i] ^= (char)(1 << bit);
        }
    }
    /* a row count beyond what the bytes could hold is refused before any
     * allocation */
    unsigned char huge[5] = {0xff, 0xff, 0xff, 0x7f, 0};
    CHECK(page_codec_decode(huge, sizeof(huge), &q) != 0);
    /* the empty page */
    struct jobs_response empty;
    memset(&empty, 0, sizeof(empty));
    buf_reset(&b2);
    CHECK(page_codec_encode(&empty, &b2) == 0 && b2.len == 5);
    CHECK(page_codec_decode(b2.data, b2.len, &q) == 0 && q.n_summaries == 0 && !q.next_token);
    jobs_response_clean_up(&p);
    buf_clean_up(&b);
    buf_clean_up(&b2);
    return TEST_EXIT();
}
