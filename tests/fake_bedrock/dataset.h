/*
 * dataset - the emulator's model import jobs: loaded from Bedrock-format
 * JSON or generated deterministically from a seed, kept sorted ascending by
 * (creationTime, jobArn), and paged with keyset cursors.
 *
 * Each job keeps its JSON object exactly as loaded (unknown fields and the
 * original timestamp spellings included) so that responses carry what a data
 * file says. A struct dataset owns its jobs (dataset_new_* / dataset_destroy).
 * No I/O, no clock.
 */
#ifndef FAKE_DATASET_H
#define FAKE_DATASET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "jobs.h"

struct dataset_job {
    json_t *obj; /* owned reference */
    struct bgw_time created;
    const char *arn;    /* points into obj */
    const char *name;   /* points into obj */
    const char *status; /* points into obj */
};

struct dataset {
    struct dataset_job *jobs; /* sorted ascending by (created, arn) */
    size_t n;
};

/* root: {"modelImportJobSummaries":[...]} or a bare array. Each job needs
 * string jobArn, jobName, status and creationTime (ISO 8601, or a number of
 * epoch seconds). Returns NULL with a message in err on a defect. */
struct dataset *dataset_new_from_json(const json_t *root, char *err, size_t err_len);

/* n jobs from seed, ARNs in region; same (n, seed, region) -> same jobs. */
struct dataset *dataset_new_generated(size_t n, uint64_t seed, const char *region);

void dataset_destroy(struct dataset *d);

struct dataset_filter {
    bool has_after; /* creationTime strictly after */
    struct bgw_time after;
    bool has_before; /* creationTime strictly before */
    struct bgw_time before;
    const char *status;        /* NULL = any */
    const char *name_contains; /* NULL = any; case-sensitive substring */
    bool descending;
};

/* A position in sort order: the start, or just past the job with this key. */
struct dataset_cursor {
    bool at_start;
    struct bgw_time created;
    const char *arn;
};

/* Writes up to max indices (into d->jobs) of the jobs that match f and come
 * after c in f's order; *more is set when further matches exist. Returns the
 * number written. */
size_t dataset_page(const struct dataset *d, const struct dataset_filter *f,
                    const struct dataset_cursor *c, size_t max, size_t *idx_out, bool *more);

#endif
