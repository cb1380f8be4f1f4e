/*
 * json_mapping - the REST shim's wire format: the query string of
 * GET /v1/model-import-jobs into a jobs_request, and jobs_response /
 * bgw_error out as proto3 JSON (google.rpc.Status for errors). No I/O.
 */
#ifndef BGW_JSON_MAPPING_H
#define BGW_JSON_MAPPING_H

#include <stddef.h>

#include "buf.h"
#include "jobs.h"
#include "status.h"

/* Parses the raw query (the text after '?', may be NULL or "").
 * Names: the proto3 JSON lowerCamelCase name or the proto snake_case name.
 * Values are %XX-decoded; '+' stays '+' (it is not a space here, so
 * "+05:30" offsets and names with '+' survive). Timestamps RFC 3339; enums
 * by proto name, Bedrock spelling or number. Unknown, repeated (under either
 * spelling) or undecodable parameters, empty values and bad numbers are
 * INVALID_ARGUMENT naming the field. Does not run jobs_request_validate. */
enum bgw_status json_mapping_parse_query(const char *query, struct jobs_request *out,
                                         struct bgw_error *err);

/* proto3 JSON of a ListModelImportJobsResponse: lowerCamelCase names,
 * enums by proto name, timestamps RFC 3339 UTC, absent fields omitted,
 * "modelImportJobSummaries" always present (maybe []), "nextToken" only
 * when set. Returns 0 or -1. */
int json_mapping_render_response(const struct jobs_response *r, struct buf *out);
/* The same with Bedrock's status spellings ("Completed"), for ?enums=bedrock. */
int json_mapping_render_response_bedrock_enums(const struct jobs_response *r, struct buf *out);
/* Removes, in place, every "name=value" segment of a raw query (as
 * received, not decoded) for which drop says true; the others keep their
 * order. NULL: nothing. */
void json_mapping_query_remove(char *query, bool (*drop)(const char *seg, size_t len, void *arg),
                               void *arg);
/* Takes the REST option "enums=proto|bedrock" out of a raw query (in
 * place; the other parameters keep their order): *bedrock set. Another
 * value, or the option twice, is INVALID_ARGUMENT naming "enums". */
enum bgw_status json_mapping_take_enums(char *query, bool *bedrock, struct bgw_error *err);

/* google.rpc.Status JSON: {"code":3,"message":"...","details":[...]}; for
 * INVALID_ARGUMENT with a field, details holds a google.rpc.BadRequest
 * ({"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":
 * [{"field":...,"description":...}]}); with retry_after_s a
 * google.rpc.RetryInfo. Returns 0 or -1. */
int json_mapping_render_error(const struct bgw_error *e, struct buf *out);

#endif
