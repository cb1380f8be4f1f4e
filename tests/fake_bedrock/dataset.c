/*
 * dataset - jobs: load, generate, sort, page. See dataset.h. No I/O.
 */
#include "dataset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timeutil.h"

static int s_compare_key(struct bgw_time ta, const char *aa, struct bgw_time tb, const char *ab)
{
    int c = timeutil_compare(ta, tb);
    if (c != 0)
        return c;
    return strcmp(aa, ab);
}

static int s_compare_jobs(const void *a, const void *b)
{
    const struct dataset_job *ja = a;
    const struct dataset_job *jb = b;
    return s_compare_key(ja->created, ja->arn, jb->created, jb->arn);
}

void dataset_destroy(struct dataset *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++)
        json_decref(d->jobs[i].obj);
    free(d->jobs);
    free(d);
}

static int s_parse_time(const json_t *v, struct bgw_time *out)
{
    if (json_is_string(v))
        return timeutil_parse_iso8601(json_string_value(v), out);
    if (json_is_number(v))
        return timeutil_from_epoch_double(json_number_value(v), out);
    return -1;
}

struct dataset *dataset_new_from_json(const json_t *root, char *err, size_t err_len)
{
    struct dataset *d = NULL;
    struct dataset *result = NULL;
    const json_t *arr = root;
    if (json_is_object(root))
        arr = json_object_get(root, "modelImportJobSummaries");
    if (!json_is_array(arr)) {
        snprintf(err, err_len,
                 "expected {\"modelImportJobSummaries\":[...]} or a JSON array of jobs");
        goto cleanup;
    }
    d = calloc(1, sizeof(*d));
    if (!d)
        goto nomem;
    size_t n = json_array_size(arr);
    d->jobs = calloc(n ? n : 1, sizeof(*d->jobs));
    if (!d->jobs)
        goto nomem;
    for (size_t i = 0; i < n; i++) {
        json_t *obj = json_array_get(arr, i);
        if (!json_is_object(obj)) {
            snprintf(err, err_len, "job %zu: not an object", i);
            goto cleanup;
        }
        static const char *const required[] = {"jobArn", "jobName", "status"};
        for (size_t r = 0; r < 3; r++) {
            if (!json_is_string(json_object_get(obj, required[r]))) {
                snprintf(err, err_len, "job %zu: \"%s\" missing or not a string", i, required[r]);
                goto cleanup;
            }
        }
        struct dataset_job *j = &d->jobs[d->n];
        if (s_parse_time(json_object_get(obj, "creationTime"), &j->created) != 0) {
            snprintf(err, err_len, "job %zu: \"creationTime\" missing or not an ISO 8601 time", i);
            goto cleanup;
        }
        j->obj = json_incref(obj);
        j->arn = json_string_value(json_object_get(obj, "jobArn"));
        j->name = json_string_value(json_object_get(obj, "jobName"));
        j->status = json_string_value(json_object_get(obj, "status"));
        d->n++;
    }
    qsort(d->jobs, d->n, sizeof(*d->jobs), s_compare_jobs);
    for (size_t i = 1; i < d->n; i++) {
        if (strcmp(d->jobs[i - 1].arn, d->jobs[i].arn) == 0 &&
            timeutil_compare(d->jobs[i - 1].created, d->jobs[i].created) == 0) {
            snprintf(err, err_len, "duplicate job %s", d->jobs[i].arn);
            goto cleanup;
        }
    }
    result = d;
    d = NULL;
    goto cleanup;
nomem:
    snprintf(err, err_len, "out of memory");
cleanup:
    dataset_destroy(d);
    return result;
}

/* splitmix64: small, seedable, the same on every platform. */
static uint64_t s_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void s_random_id(uint64_t *state, char out[13])
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    for (int i = 0; i < 12; i++)
        out[i] = alphabet[s_next(state) % 36];
    out[12] = '\0';
}

static int s_set_time(json_t *obj, const char *key, struct bgw_time t)
{
    char txt[TIMEUTIL_FMT_MAX];
    if (timeutil_format_rfc3339(t, txt, sizeof(txt)) < 0)
        return -1;
    return json_object_set_new(obj, key, json_string(txt));
}

struct dataset *dataset_new_generated(size_t n, uint64_t seed, const char *region)
{
    static const char *const prefixes[] = {"team-a-", "team-b-", "shared-", "exp+"};
    static const char *const models[] = {"llama", "mistral", "titan", "custom.v2", "ft-run"};
    static const char *const statuses[] = {"InProgress", "Completed", "Failed"};
    const int64_t start_s = 1704067200; /* 2024-01-01T00:00:00Z */
    const int64_t span_s = 731 * 86400; /* to 2026-01-01 */
    uint64_t state = seed;
    struct dataset *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->jobs = calloc(n ? n : 1, sizeof(*d->jobs));
    if (!d->jobs)
        goto fail;

    for (size_t i = 0; i < n; i++) {
        struct dataset_job *j = &d->jobs[i];
        char id[13], model_id[13], buf[256];
        s_random_id(&state, id);
        const char *prefix = prefixes[s_next(&state) % 4];
        const char *model = models[s_next(&state) % 5];
        const char *status = statuses[s_next(&state) % 3];
        struct bgw_time created;
        if (i > 0 && i % 10 == 0) {
            created = d->jobs[i - 1].created; /* equal times exercise the jobArn tie-break */
        } else {
            created.seconds = start_s + (int64_t)(s_next(&state) % (uint64_t)span_s);
            /* Some with fractional seconds (milliseconds), some without. */
            created.nanos = (s_next(&state) % 2) ? (int32_t)(s_next(&state) % 1000) * 1000000 : 0;
        }
        struct bgw_time modified = created;
        modified.seconds += 60 + (int64_t)(s_next(&state) % (3 * 86400));

        json_t *obj = json_object();
        if (!obj)
            goto fail;
        j->obj = obj;
        d->n = i + 1;
        snprintf(buf, sizeof(buf), "arn:aws:bedrock:%s:123456789012:model-import-job/%s", region,
                 id);
        json_object_set_new(obj, "jobArn", json_string(buf));
        snprintf(buf, sizeof(buf), "%s%s-%04zu", prefix, model, i);
        json_object_set_new(obj, "jobName", json_string(buf));
        json_object_set_new(obj, "status", json_string(status));
        if (s_set_time(obj, "lastModifiedTime", modified) != 0 ||
            s_set_time(obj, "creationTime", created) != 0)
            goto fail;
        if (strcmp(status, "InProgress") != 0 && s_set_time(obj, "endTime", modified) != 0)
            goto fail;
        if (strcmp(status, "Completed") == 0) {
            s_random_id(&state, model_id);
            snprintf(buf, sizeof(buf), "arn:aws:bedrock:%s:123456789012:imported-model/%s", region,
                     model_id);
            json_object_set_new(obj, "importedModelArn", json_string(buf));
            snprintf(buf, sizeof(buf), "%s%s-%04zu-imported", prefix, model, i);
            json_object_set_new(obj, "importedModelName", json_string(buf));
        }
        j->created = created;
        j->arn = json_string_value(json_object_get(obj, "jobArn"));
        j->name = json_string_value(json_object_get(obj, "jobName"));
        j->status = json_string_value(json_object_get(obj, "status"));
        if (!j->arn || !j->name || !j->status)
            goto fail;
    }
    qsort(d->jobs, d->n, sizeof(*d->jobs), s_compare_jobs);
    return d;
fail:
    dataset_destroy(d);
    return NULL;
}

static bool s_matches(const struct dataset_job *j, const struct dataset_filter *f)
{
    if (f->has_after && timeutil_compare(j->created, f->after) <= 0)
        return false;
    if (f->has_before && timeutil_compare(j->created, f->before) >= 0)
        return false;
    if (f->status && strcmp(j->status, f->status) != 0)
        return false;
    if (f->name_contains && !strstr(j->name, f->name_contains))
        return false;
    return true;
}

size_t dataset_page(const struct dataset *d, const struct dataset_filter *f,
                    const struct dataset_cursor *c, size_t max, size_t *idx_out, bool *more)
{
    size_t n = 0;
    *more = false;
    for (size_t k = 0; k < d->n; k++) {
        size_t i = f->descending ? d->n - 1 - k : k;
        const struct dataset_job *j = &d->jobs[i];
        if (!c->at_start) {
            int cmp = s_compare_key(j->created, j->arn, c->created, c->arn);
            if (f->descending ? cmp >= 0 : cmp <= 0)
                continue;
        }
        if (!s_matches(j, f))
            continue;
        if (n == max) {
            *more = true;
            break;
        }
        idx_out[n++] = i;
    }
    return n;
}
