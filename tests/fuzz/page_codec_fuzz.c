/*
 * page_codec_fuzz - page_codec_decode on anything a writer to the shared
 * Redis could store (after the MAC, only the gateway's own bytes reach it;
 * this checks the decoder does not rely on that).
 *
 * Invariants: decoding either fails with nothing left allocated (ASan/LSan)
 * or yields a page that re-encodes to exactly the input bytes.
 */
#include <stdint.h>
#include <string.h>

#include "fuzz_util.h"
#include "page_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct jobs_response p;
    if (page_codec_decode(data, size, &p) != 0) {
        FUZZ_CHECK(p.summaries == NULL && p.n_summaries == 0 && p.next_token == NULL);
        return 0;
    }
    struct buf b;
    buf_init(&b, 0);
    FUZZ_CHECK(page_codec_encode(&p, &b) == 0);
    FUZZ_CHECK(b.len == size && memcmp(b.data, data, size) == 0);
    buf_clean_up(&b);
    jobs_response_clean_up(&p);
    return 0;
}
