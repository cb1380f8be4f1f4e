/*
 * policy - a tenant's filter policy: which import jobs it may see, how large
 * a page it may ask for, which optional fields are removed from what it
 * sees.
 *
 * Two halves:
 *   - parsing the "policy" object of a tenant in the config (policy_parse_json);
 *   - applying it to one request (policy_apply): the caller's filters are
 *     intersected with the policy into a "view" that says what to push down
 *     to Bedrock (the narrowest upstream query), whether the intersection is
 *     empty (answer with nothing, ask Bedrock nothing), and - through
 *     policy_view_visible - whether one upstream row may be shown. The
 *     post-filter checks the full policy and every caller filter on every
 *     row, whatever was pushed down.
 *
 * Time windows are strict on both ends, like Bedrock's creationTimeAfter and
 * creationTimeBefore. Prefix and nameContains matches are case-sensitive.
 * Immutable after parse; no I/O, no clock.
 */
#ifndef BGW_POLICY_H
#define BGW_POLICY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "jobs.h"
#include "status.h"

#define POLICY_PREFIX_MAX 63 /* longest job_name_prefixes entry (Bedrock job names: 63) */
#define POLICY_MAX_PREFIXES 256

/* Optional summary fields a policy may remove (bit set in policy.redact). */
enum policy_redact {
    POLICY_REDACT_IMPORTED_MODEL_ARN = 1u << 0,  /* "importedModelArn" */
    POLICY_REDACT_IMPORTED_MODEL_NAME = 1u << 1, /* "importedModelName" */
    POLICY_REDACT_END_TIME = 1u << 2,            /* "endTime" */
    POLICY_REDACT_LAST_MODIFIED_TIME = 1u << 3,  /* "lastModifiedTime" */
};

struct policy {
    char **prefixes; /* heap array of heap strings; n_prefixes == 0: any name */
    size_t n_prefixes;
    unsigned statuses; /* bit (1u << enum jobs_status) per visible status; 0: any */
    bool has_created_after;
    struct bgw_time created_after; /* visible only if creationTime > this */
    bool has_created_before;
    struct bgw_time created_before; /* visible only if creationTime < this */
    int64_t max_results;            /* page-size cap (clamp); 0: none */
    unsigned redact;                /* enum policy_redact bits */
};

void policy_clean_up(struct policy *p);

/* Parses a tenant's "policy" object (j may be NULL: no restrictions). path
 * is the key path used in messages ("tenants[0].policy"). On failure returns
 * -1, appends "<key path>: <problem>" to err and leaves out cleaned up.
 * Unknown keys are errors. */
int policy_parse_json(json_t *j, const char *path, struct policy *out, struct buf *err);

/* One request seen through a policy. */
struct policy_view {
    const struct policy *policy;
    /* The filters to send upstream (no nextToken, no maxResults): the
     * caller's, narrowed by the policy. Heap strings; policy_view_clean_up. */
    struct jobs_request upstream;
    char *caller_name_contains; /* the caller's nameContains (heap), or NULL */
    bool empty;                 /* nothing can be visible: answer empty, never ask upstream */
    bool post_filter;           /* the push-down is inexact: rows may be dropped */
};

/* Intersects req's filters (validated) with p into out (overwritten).
 * BGW_OK, or BGW_ERR_NOMEM. */
enum bgw_status policy_apply(const struct policy *p, const struct jobs_request *req,
                             struct policy_view *out);
void policy_view_clean_up(struct policy_view *v);

/* Whether an upstream row may be shown: the full policy and every filter of
 * the view, whatever Bedrock was asked. */
bool policy_view_visible(const struct policy_view *v, const struct jobs_summary *s);

/* Removes the fields p redacts from s. */
void policy_redact(const struct policy *p, struct jobs_summary *s);

/* The page size for a request: the caller's maxResults, else default_size,
 * clamped to p's cap. */
int64_t policy_page_size(const struct policy *p, const struct jobs_request *req,
                         int64_t default_size);

/* A canonical text of the filters of r (not nextToken, not maxResults):
 * equal for requests that mean the same (an absent sortBy/sortOrder equals
 * Bedrock's default). For binding page tokens. Returns the length, or -1
 * when out_len is too small (POLICY_CANON_MAX always suffices). */
#define POLICY_CANON_MAX 256
int policy_filters_canon(const struct jobs_request *r, char *out, size_t out_len);

#endif
