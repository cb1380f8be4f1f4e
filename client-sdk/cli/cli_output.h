/*
 * cli_output - how bedrockgw-cli prints pages: an aligned table, proto3 JSON
 * identical to the REST shim's (rendered by the gateway's own json_mapping
 * module), or NDJSON (one job object per line, the same object text as in
 * the JSON form). Writes to the FILE given; owns nothing between calls
 * except the column widths kept in struct cli_output.
 */
#ifndef BGW_CLI_OUTPUT_H
#define BGW_CLI_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

#include "bedrockgw/client.h"

enum cli_format { CLI_FORMAT_TABLE, CLI_FORMAT_JSON, CLI_FORMAT_NDJSON };

#define CLI_TABLE_COLUMNS 6

/* Caller-owned; zero it (cli_output_init) before the first page. */
struct cli_output {
    enum cli_format format;
    FILE *out;
    bool streaming; /* --all: several pages form one document */
    bool started;   /* header / opening bracket written */
    size_t items;   /* items written so far */
    size_t widths[CLI_TABLE_COLUMNS];
};

void cli_output_init(struct cli_output *o, enum cli_format format, FILE *out, bool streaming);

/* Writes one page. For a single page (streaming false) JSON is the whole
 * response (nextToken included); table and NDJSON print the items only.
 * Returns 0, or -1 when rendering or writing fails. */
int cli_output_page(struct cli_output *o, const struct bgw_list_response *page);

/* Ends the document (closes the JSON array when streaming; prints the
 * table header for an empty result). Returns 0 or -1. */
int cli_output_finish(struct cli_output *o);

#endif
