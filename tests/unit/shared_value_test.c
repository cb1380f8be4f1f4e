/*
 * shared_value_test - a sealed page opens under its key and name only:
 * another key, another name, any changed or missing byte, or extra bytes
 * fail.
 */
#include <stdlib.h>
#include <string.h>

#include "shared_value.h"
#include "test_util.h"

int main(void)
{
    unsigned char key[32], other[32];
    memset(key, 0x11, sizeof(key));
    memset(other, 0x22, sizeof(other));
    struct jobs_response p;
    memset(&p, 0, sizeof(p));
    p.n_summaries = 1;
    p.summaries = calloc(1, sizeof(*p.summaries));
    p.summaries[0].job_arn = strdup("arn:aws:bedrock:us-west-2:1:model-import-job/j");
    p.summaries[0].job_name = strdup("team-a-job");
    p.summaries[0].status = JOBS_STATUS_IN_PROGRESS;
    const char *name = "bedrockgw:v1:page:00112233445566778899aabbccddeeff";
    struct buf v;
    buf_init(&v, 0);
    CHECK(shared_value_seal(key, name, strlen(name), &p, 1800000000123LL, 1800000002123LL, &v) ==
          0);
    CHECK(strncmp(v.data, "1800000002123|", 14) == 0); /* what the lease script reads */
    struct jobs_response q;
    int64_t fetched = 0;
    CHECK(shared_value_open(key, name, strlen(name), v.data, v.len, &q, &fetched) == 0);
    CHECK(fetched == 1800000000123LL && q.n_summaries == 1);
    CHECK_STR(q.summaries[0].job_name, "team-a-job");
    jobs_response_clean_up(&q);
    CHECK(shared_value_open(other, name, strlen(name), v.data, v.len, &q, &fetched) != 0);
    const char *name2 = "bedrockgw:v1:page:00112233445566778899aabbccddeefe";
    CHECK(shared_value_open(key, name2, strlen(name2), v.data, v.len, &q, &fetched) != 0);
    for (size_t i = 0; i < v.len; i++) {
        v.data[i] ^= 0x20;
        CHECK(shared_value_open(key, name, strlen(name), v.data, v.len, &q, &fetched) != 0);
        v.data[i] ^= 0x20;
        CHECK(shared_value_open(key, name, strlen(name), v.data, i, &q, &fetched) != 0);
    }
    CHECK(buf_append(&v, "x", 1) == 0);
    CHECK(shared_value_open(key, name, strlen(name), v.data, v.len, &q, &fetched) != 0);
    CHECK(q.summaries == NULL && q.n_summaries == 0);
    jobs_response_clean_up(&p);
    buf_clean_up(&v);
    return TEST_EXIT();
}
