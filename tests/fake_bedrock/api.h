/*
 * api - the emulated Bedrock operation, GET /model-import-jobs
 * (ListModelImportJobs): SigV4 check, Bedrock's validation, filtering,
 * sorting, keyset pagination with opaque tokens, fault injection, and the
 * request log entry of every non-control request.
 *
 * Loop thread only. "delay" replies wait on a libevent timer (never a
 * sleep); the pending list is owned by struct fake_server.
 */
#ifndef FAKE_API_H
#define FAKE_API_H

#include <stddef.h>

#include "fake_server.h"

struct evhttp_request;

/* Serves any request outside /_fake/ (unknown paths get 404
 * UnknownOperationException, other methods 405). path is the request
 * target before '?', query_raw the part after it (may be NULL). */
void api_handle(struct fake_server *s, struct evhttp_request *req, const char *path,
                const char *query_raw);

/* Sends every delayed reply now (at shutdown) and frees the pending list. */
void api_pending_flush_all(struct fake_server *s);

/* Pagination tokens (exposed for tests/fuzzing). params_hash: 16 hex chars
 * binding the token to the filters and sort order. */
struct dataset_cursor;
int api_token_encode(const char *params_hash, const struct dataset_cursor *c, char *out,
                     size_t out_len);
/* arn_storage receives the jobArn the cursor points at. 0 or -1. */
int api_token_decode(const char *token, const char *params_hash, struct dataset_cursor *c,
                     char *arn_storage, size_t arn_storage_len);

#endif
