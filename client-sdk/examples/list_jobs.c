/*
 * list_jobs - the smallest useful program on libbedrockgw-client: prints
 * "<name> <status>" for every completed model import job, then the count.
 *
 *   cc list_jobs.c $(pkg-config --cflags --libs bedrockgw-client) -o list_jobs
 *   BEDROCKGW_API_KEY=... ./list_jobs 127.0.0.1:50051
 */
#include <bedrockgw/client.h>
#include <stdio.h>
#include <stdlib.h>

static int print_page(const struct bgw_list_response *page, size_t page_index, void *user_data)
{
    (void)page_index;
    (void)user_data;
    for (size_t i = 0; i < page->n_items; i++)
        printf("%s %s\n", page->items[i].job_name, bgw_job_status_name(page->items[i].status));
    return 0;
}

int main(int argc, char **argv)
{
    struct bgw_client_options opts;
    struct bgw_list_request req;
    struct bgw_client_error err;
    struct bgw_client *client = NULL;
    size_t total = 0;

    bgw_client_options_init(&opts);
    opts.target = argc > 1 ? argv[1] : "127.0.0.1:50051";
    opts.api_key = getenv("BEDROCKGW_API_KEY");
    if (bgw_client_new(&opts, &client, &err) != BGW_CODE_OK) {
        fprintf(stderr, "list_jobs: %s\n", err.message);
        return 2;
    }
    bgw_list_request_init(&req);
    req.status_equals = BGW_JOB_STATUS_COMPLETED;
    req.max_results = 50;
    int rc = bgw_client_list_all(client, &req, 0, print_page, NULL, &total, &err);
    if (rc != BGW_CODE_OK)
        fprintf(stderr, "list_jobs: %s: %s%s\n", bgw_code_name(err.code), err.message,
                err.retryable ? " (retryable)" : "");
    else
        printf("total %zu\n", total);
    bgw_client_destroy(client);
    return rc == BGW_CODE_OK ? 0 : 1;
}
