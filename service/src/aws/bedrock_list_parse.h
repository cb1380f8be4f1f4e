/*
 * bedrock_list_parse - Bedrock's ListModelImportJobs success body into a
 * jobs_response, in one pass over the bytes: no JSON document is built,
 * only the kept strings are allocated.
 *
 * The whole body is checked as JSON the way jansson's json_loadb checks it
 * (UTF-8, no NUL, escapes and surrogate pairs, number grammar and integer /
 * real overflow, depth 2048, nothing after the value), duplicate members
 * take the last value, and the fields are then judged in the order the
 * jansson-based parser did, with the same messages: a malformed body is
 * "body is not JSON", then the rows in order (jobArn, jobName, status,
 * times, model fields), then nextToken. tests/unit/bedrock_list_parse_test
 * and the upstream_response fuzzer hold it to that parser, kept in
 * tests/common as the oracle. One difference, on purpose: a NUL byte is
 * never JSON here, where jansson skips one that directly follows a number
 * or a literal.
 */
#ifndef BGW_BEDROCK_LIST_PARSE_H
#define BGW_BEDROCK_LIST_PARSE_H

#include <stddef.h>

#include "jobs.h"
#include "status.h"

/* BGW_OK with out filled, or BGW_ERR_BAD_GATEWAY / BGW_ERR_NOMEM with err
 * set and out left empty. */
enum bgw_status bedrock_list_parse(const char *body, size_t len, struct jobs_response *out,
                                   struct bgw_error *err);

#endif
