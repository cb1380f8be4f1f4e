/*
 * grpc_codec - see grpc_codec.h.
 */
#include "grpc_codec.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bedrockgw/v1/model_import_jobs.pb-c.h"

static void s_time_from_proto(const Google__Protobuf__Timestamp *t, bool *has, struct bgw_time *out)
{
    *has = t != NULL;
    if (t) {
        out->seconds = t->seconds;
        out->nanos = t->nanos;
    }
}

static char *s_opt_str(const char *s)
{
    return (s && *s) ? strdup(s) : NULL;
}

/* Reads a protobuf varint at *p (< end); -1 when truncated or too long. */
static int s_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

/* The number (4 = name_contains, 6 = next_token) of a top-level string field
 * holding a NUL byte, or 0. protobuf-c hands strings back NUL-terminated, so
 * "a\0b" would silently become "a": such a request is refused instead, as
 * REST refuses %00. (Runs after a successful unpack: the framing is valid.) */
static int s_string_with_nul(const uint8_t *p, size_t len)
{
    const uint8_t *end = p + len;
    while (p < end) {
        uint64_t key, n;
        if (s_varint(&p, end, &key) != 0)
            return 0;
        switch (key & 7) {
        case 0:
            if (s_varint(&p, end, &n) != 0)
                return 0;
            break;
        case 1:
            p += 8;
            break;
        case 5:
            p += 4;
            break;
        case 2:
            if (s_varint(&p, end, &n) != 0 || n > (uint64_t)(end - p))
                return 0;
            if (((key >> 3) == 4 || (key >> 3) == 6) && memchr(p, 0, (size_t)n))
                return (int)(key >> 3);
            p += n;
            break;
        default:
            return 0;
        }
    }
    return 0;
}

enum bgw_status grpc_codec_decode_request(const uint8_t *msg, size_t len, struct jobs_request *q,
                                          struct bgw_error *err)
{
    Bedrockgw__V1__ListModelImportJobsRequest *m =
        bedrockgw__v1__list_model_import_jobs_request__unpack(NULL, len, msg);
    if (!m)
        return bgw_error_set(err, BGW_ERR_INVALID_ARGUMENT, NULL,
                             "request is not a valid bedrockgw.v1.ListModelImportJobsRequest");
    int nul_field = s_string_with_nul(msg, len);
    if (nul_field) {
        const char *f = nul_field == 4 ? "nameContains" : "nextToken";
        bedrockgw__v1__list_model_import_jobs_request__free_unpacked(m, NULL);
        return bgw_error_set(err, BGW_ERR_INVALID_ARGUMENT, f, "%s must not contain a NUL byte", f);
    }
    s_time_from_proto(m->creation_time_after, &q->has_creation_time_after, &q->creation_time_after);
    s_time_from_proto(m->creation_time_before, &q->has_creation_time_before,
                      &q->creation_time_before);
    q->status_equals = (int)m->status_equals;
    q->name_contains = s_opt_str(m->name_contains);
    /* proto3 int32 has no presence: 0 means "not set" (see the .proto). */
    q->has_max_results = m->max_results != 0;
    q->max_results = m->max_results;
    q->next_token = s_opt_str(m->next_token);
    q->sort_by = (int)m->sort_by;
    q->sort_order = (int)m->sort_order;
    bool nomem = (m->name_contains && *m->name_contains && !q->name_contains) ||
                 (m->next_token && *m->next_token && !q->next_token);
    bedrockgw__v1__list_model_import_jobs_request__free_unpacked(m, NULL);
    if (nomem)
        return bgw_error_set(err, BGW_ERR_NOMEM, NULL, "out of memory");
    return BGW_OK;
}

static Google__Protobuf__Timestamp *s_ts(Google__Protobuf__Timestamp *slot, bool has,
                                         struct bgw_time t)
{
    if (!has)
        return NULL;
    google__protobuf__timestamp__init(slot);
    slot->seconds = t.seconds;
    slot->nanos = t.nanos;
    return slot;
}

static char *s_str(char *s)
{
    return s ? s : (char *)protobuf_c_empty_string;
}

int grpc_codec_render_response(const struct jobs_response *resp, struct buf *out)
{
    int rc = -1;
    size_t n = resp->n_summaries;
    Bedrockgw__V1__ModelImportJobSummary *items = calloc(n ? n : 1, sizeof(*items));
    Bedrockgw__V1__ModelImportJobSummary **ptrs = calloc(n ? n : 1, sizeof(*ptrs));
    Google__Protobuf__Timestamp *ts = calloc(n ? 3 * n : 1, sizeof(*ts));
    uint8_t *packed = NULL;
    if (!items || !ptrs || !ts)
        goto cleanup;
    for (size_t i = 0; i < n; i++) {
        const struct jobs_summary *s = &resp->summaries[i];
        Bedrockgw__V1__ModelImportJobSummary *m = &items[i];
        bedrockgw__v1__model_import_job_summary__init(m);
        m->job_arn = s_str(s->job_arn);
        m->job_name = s_str(s->job_name);
        m->status = (Bedrockgw__V1__ModelImportJobStatus)s->status;
        m->last_modified_time = s_ts(&ts[3 * i], s->has_last_modified_time, s->last_modified_time);
        m->creation_time = s_ts(&ts[3 * i + 1], s->has_creation_time, s->creation_time);
        m->end_time = s_ts(&ts[3 * i + 2], s->has_end_time, s->end_time);
        m->imported_model_arn = s_str(s->imported_model_arn);
        m->imported_model_name = s_str(s->imported_model_name);
        ptrs[i] = m;
    }
    Bedrockgw__V1__ListModelImportJobsResponse msg =
        BEDROCKGW__V1__LIST_MODEL_IMPORT_JOBS_RESPONSE__INIT;
    msg.n_model_import_job_summaries = n;
    msg.model_import_job_summaries = ptrs;
    msg.next_token = s_str(resp->next_token);
    size_t len = bedrockgw__v1__list_model_import_jobs_response__get_packed_size(&msg);
    packed = malloc(len ? len : 1);
    if (!packed)
        goto cleanup;
    bedrockgw__v1__list_model_import_jobs_response__pack(&msg, packed);
    buf_reset(out);
    rc = buf_append(out, packed, len);
    if (rc == 0 && !out->data)
        rc = buf_append(out, "", 0);
cleanup:
    free(packed);
    free(items);
    free(ptrs);
    free(ts);
    return rc;
}
