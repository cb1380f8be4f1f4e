/*
 * bedrock_list_oracle - the jansson-based reference parser of Bedrock's
 * list body (see bedrock_list_oracle.c). Same contract as
 * bedrock_list_parse.
 */
#ifndef BGW_BEDROCK_LIST_ORACLE_H
#define BGW_BEDROCK_LIST_ORACLE_H

#include <stdbool.h>
#include <stddef.h>

#include "jobs.h"
#include "status.h"

/* Runs bedrock_list_parse and the oracle on body: true when they agree on
 * the verdict, the message and every field. verdict: 0 parsed, 1 not JSON,
 * 2 a field refused; rows: rows parsed; detail: both verdicts (for a
 * failure report). */
bool bedrock_list_oracle_agrees(const char *body, size_t len, int *verdict, size_t *rows,
                                char *detail, size_t detail_len);

enum bgw_status oracle_bedrock_list_parse(const char *body, size_t body_len,
                                          struct jobs_response *out, struct bgw_error *err);

#endif
