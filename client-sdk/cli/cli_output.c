/*
 * cli_output - table / JSON / NDJSON printing for bedrockgw-cli. See
 * cli_output.h. JSON comes from the gateway's json_mapping module (the REST
 * shim's renderer), so the CLI and REST can never drift apart: NDJSON and
 * the streamed --all JSON re-emit the very objects it produced.
 */
#include "cli_output.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jobs.h"
#include "json_mapping.h"
#include "timeutil.h"

static const char *const s_headers[CLI_TABLE_COLUMNS] = {
    "NAME", "STATUS", "CREATED", "ENDED", "IMPORTED MODEL", "JOB ARN",
};

void cli_output_init(struct cli_output *o, enum cli_format format, FILE *out, bool streaming)
{
    memset(o, 0, sizeof(*o));
    o->format = format;
    o->out = out;
    o->streaming = streaming;
    for (size_t i = 0; i < CLI_TABLE_COLUMNS; i++)
        o->widths[i] = strlen(s_headers[i]);
}

/* Renders page as the REST shim would, into out (NUL-terminated). */
static int s_render(const struct bgw_list_response *page, struct buf *out)
{
    int rc = -1;
    struct jobs_response r = {0};
    if (page->n_items) {
        r.summaries = calloc(page->n_items, sizeof(*r.summaries));
        if (!r.summaries)
            return -1;
    }
    for (size_t i = 0; i < page->n_items; i++) {
        const struct bgw_job_summary *s = &page->items[i];
        struct jobs_summary *d = &r.summaries[i];
        /* borrowed pointers: r is not cleaned up with jobs_response_clean_up */
        d->job_arn = s->job_arn;
        d->job_name = s->job_name;
        d->status = s->status;
        d->has_last_modified_time = s->has_last_modified_time;
        d->last_modified_time.seconds = s->last_modified_time.seconds;
        d->last_modified_time.nanos = s->last_modified_time.nanos;
        d->has_creation_time = s->has_creation_time;
        d->creation_time.seconds = s->creation_time.seconds;
        d->creation_time.nanos = s->creation_time.nanos;
        d->has_end_time = s->has_end_time;
        d->end_time.seconds = s->end_time.seconds;
        d->end_time.nanos = s->end_time.nanos;
        d->imported_model_arn = s->imported_model_arn;
        d->imported_model_name = s->imported_model_name;
    }
    r.n_summaries = page->n_items;
    r.next_token = page->next_token;
    rc = json_mapping_render_response(&r, out);
    free(r.summaries);
    return rc;
}

/* One line per item, each the compact text of the item's JSON object;
 * sep goes before every item but the first one ever written. */
static int s_items_json(struct cli_output *o, const struct bgw_list_response *page, const char *sep)
{
    int rc = -1;
    struct buf b;
    json_t *root = NULL;
    buf_init(&b, 0);
    if (s_render(page, &b) != 0)
        goto cleanup;
    root = json_loads(b.data, 0, NULL);
    json_t *arr = root ? json_object_get(root, "modelImportJobSummaries") : NULL;
    if (!json_is_array(arr))
        goto cleanup;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        char *text = json_dumps(json_array_get(arr, i), JSON_COMPACT);
        if (!text)
            goto cleanup;
        int w = fprintf(o->out, "%s%s", o->items ? sep : "", text);
        free(text);
        if (w < 0)
            goto cleanup;
        o->items++;
        if (o->format == CLI_FORMAT_NDJSON && fputc('\n', o->out) == EOF)
            goto cleanup;
    }
    rc = 0;
cleanup:
    json_decref(root);
    buf_clean_up(&b);
    return rc;
}

static void s_time(int has, struct bgw_timestamp t, char *out, size_t len)
{
    struct bgw_time bt = {t.seconds, t.nanos};
    if (!has || timeutil_format_rfc3339(bt, out, len) < 0)
        snprintf(out, len, "-");
}

/* The six cells of one row; time cells written into tbuf. */
static void s_cells(const struct bgw_job_summary *s, const char *cells[CLI_TABLE_COLUMNS],
                    char tbuf[2][TIMEUTIL_FMT_MAX])
{
    const char *st = bgw_job_status_name(s->status);
    s_time(s->has_creation_time, s->creation_time, tbuf[0], TIMEUTIL_FMT_MAX);
    s_time(s->has_end_time, s->end_time, tbuf[1], TIMEUTIL_FMT_MAX);
    cells[0] = s->job_name;
    cells[1] = st ? st : "-";
    cells[2] = tbuf[0];
    cells[3] = tbuf[1];
    cells[4] = s->imported_model_name ? s->imported_model_name : "-";
    cells[5] = s->job_arn;
}

static int s_row(struct cli_output *o, const char *const cells[CLI_TABLE_COLUMNS])
{
    for (size_t c = 0; c < CLI_TABLE_COLUMNS; c++) {
        int w;
        if (c + 1 == CLI_TABLE_COLUMNS)
            w = fprintf(o->out, "%s\n", cells[c]); /* last column: no padding */
        else
            w = fprintf(o->out, "%-*s  ", (int)o->widths[c], cells[c]);
        if (w < 0)
            return -1;
    }
    return 0;
}

static int s_table(struct cli_output *o, const struct bgw_list_response *page)
{
    char tbuf[2][TIMEUTIL_FMT_MAX];
    const char *cells[CLI_TABLE_COLUMNS];
    /* Widths grow to fit this page; with --all, later pages keep the widths
     * of earlier ones unless a value is wider. */
    for (size_t i = 0; i < page->n_items; i++) {
        s_cells(&page->items[i], cells, tbuf);
        for (size_t c = 0; c < CLI_TABLE_COLUMNS; c++) {
            size_t n = strlen(cells[c]);
            if (n > o->widths[c])
                o->widths[c] = n;
        }
    }
    if (!o->started && page->n_items) {
        o->started = true;
        if (s_row(o, s_headers) != 0)
            return -1;
    }
    for (size_t i = 0; i < page->n_items; i++) {
        s_cells(&page->items[i], cells, tbuf);
        if (s_row(o, cells) != 0)
            return -1;
        o->items++;
    }
    return 0;
}

int cli_output_page(struct cli_output *o, const struct bgw_list_response *page)
{
    switch (o->format) {
    case CLI_FORMAT_TABLE:
        return s_table(o, page);
    case CLI_FORMAT_NDJSON:
        return s_items_json(o, page, "");
    case CLI_FORMAT_JSON:
        if (o->streaming) {
            if (!o->started) {
                o->started = true;
                if (fputs("{\"modelImportJobSummaries\":[", o->out) == EOF)
                    return -1;
            }
            return s_items_json(o, page, ",");
        } else {
            struct buf b;
            buf_init(&b, 0);
            int rc = s_render(page, &b);
            if (rc == 0 && fprintf(o->out, "%s\n", b.data) < 0)
                rc = -1;
            buf_clean_up(&b);
            o->started = true;
            o->items += page->n_items;
            return rc;
        }
    }
    return -1;
}

int cli_output_finish(struct cli_output *o)
{
    if (o->format == CLI_FORMAT_JSON && o->streaming) {
        if (!o->started && fputs("{\"modelImportJobSummaries\":[", o->out) == EOF)
            return -1;
        if (fputs("]}\n", o->out) == EOF)
            return -1;
    } else if (o->format == CLI_FORMAT_TABLE && !o->started) {
        o->started = true;
        if (s_row(o, s_headers) != 0)
            return -1;
    }
    return fflush(o->out) == 0 ? 0 : -1;
}
