/*
 * bgw-client-threads - drives one shared struct bgw_client from several
 * threads at once (for tests/integration/test_client_sdk.py, plain and under
 * ASan). Each thread walks every page ITER times and makes ITER single-page
 * calls; it records the item count and an FNV-1a hash of the ARNs in order.
 *
 *   BEDROCKGW_API_KEY=k bgw-client-threads TARGET THREADS ITER PAGE_SIZE
 *
 * Prints one JSON line: {"threads":T,"walks":W,"errors":E,"counts":[...],
 * "hashes":[...],"first_error":"..."} and exits 0 when no call failed.
 */
#include <bedrockgw/client.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_THREADS 64

struct walk_state {
    uint64_t hash;
    size_t count;
};

struct worker {
    pthread_t thread;
    struct bgw_client *client;
    int iterations;
    int page_size;
    size_t counts[16];
    uint64_t hashes[16];
    int errors;
    char first_error[BGW_CLIENT_ERROR_MESSAGE_MAX + 32];
};

static int on_page(const struct bgw_list_response *page, size_t page_index, void *arg)
{
    struct walk_state *w = arg;
    (void)page_index;
    for (size_t i = 0; i < page->n_items; i++) {
        for (const char *p = page->items[i].job_arn; *p; p++) {
            w->hash ^= (unsigned char)*p;
            w->hash *= 1099511628211ull;
        }
        w->count++;
    }
    return 0;
}

static void record_error(struct worker *wk, const struct bgw_client_error *err)
{
    if (!wk->errors)
        snprintf(wk->first_error, sizeof(wk->first_error), "%s: %s", bgw_code_name(err->code),
                 err->message);
    wk->errors++;
}

static void *run(void *arg)
{
    struct worker *wk = arg;
    for (int it = 0; it < wk->iterations; it++) {
        struct bgw_list_request req;
        struct bgw_client_error err;
        struct walk_state w = {14695981039346656037ull, 0};
        bgw_list_request_init(&req);
        req.max_results = wk->page_size;
        if (bgw_client_list_all(wk->client, &req, 0, on_page, &w, NULL, &err) != BGW_CODE_OK)
            record_error(wk, &err);
        if (it < 16) {
            wk->counts[it] = w.count;
            wk->hashes[it] = w.hash;
        }
        struct bgw_list_response *page = NULL;
        req.max_results = 3;
        if (bgw_client_list(wk->client, &req, &page, &err) != BGW_CODE_OK)
            record_error(wk, &err);
        else if (page->n_items != 3)
            wk->errors++;
        bgw_list_response_free(page);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: BEDROCKGW_API_KEY=k %s TARGET THREADS ITER PAGE_SIZE\n", argv[0]);
        return 2;
    }
    int nthreads = atoi(argv[2]);
    int iterations = atoi(argv[3]);
    if (nthreads < 1 || nthreads > MAX_THREADS || iterations < 1 || iterations > 16)
        return 2;
    struct bgw_client_options opts;
    struct bgw_client_error err;
    struct bgw_client *client = NULL;
    bgw_client_options_init(&opts);
    opts.target = argv[1];
    opts.api_key = getenv("BEDROCKGW_API_KEY");
    if (bgw_client_new(&opts, &client, &err) != BGW_CODE_OK) {
        fprintf(stderr, "client: %s\n", err.message);
        return 2;
    }
    static struct worker workers[MAX_THREADS];
    for (int i = 0; i < nthreads; i++) {
        workers[i].client = client;
        workers[i].iterations = iterations;
        workers[i].page_size = atoi(argv[4]);
        if (pthread_create(&workers[i].thread, NULL, run, &workers[i]) != 0)
            return 2;
    }
    int errors = 0;
    const char *first = "";
    for (int i = 0; i < nthreads; i++) {
        pthread_join(workers[i].thread, NULL);
        errors += workers[i].errors;
        if (!*first && workers[i].errors)
            first = workers[i].first_error;
    }
    printf("{\"threads\":%d,\"walks\":%d,\"errors\":%d,\"counts\":[", nthreads,
           nthreads * iterations, errors);
    for (int i = 0, n = 0; i < nthreads; i++)
        for (int it = 0; it < iterations; it++)
            printf("%s%zu", n++ ? "," : "", workers[i].counts[it]);
    printf("],\"hashes\":[");
    for (int i = 0, n = 0; i < nthreads; i++)
        for (int it = 0; it < iterations; it++)
            printf("%s\"%016" PRIx64 "\"", n++ ? "," : "", workers[i].hashes[it]);
    printf("],\"first_error\":\"");
    for (const char *p = first; *p; p++)
        if (*p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
            putchar(*p);
    printf("\"}\n");
    bgw_client_destroy(client);
    return errors ? 1 : 0;
}
