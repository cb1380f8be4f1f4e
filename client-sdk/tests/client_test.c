/*
 * client_test - libbedrockgw-client without a gateway: option checks, the
 * code table, retries against a port where nothing listens (UNAVAILABLE,
 * every attempt made, bounded by the deadline), a deadline against a socket
 * that accepts but never speaks HTTP/2, and freeing NULLs. The calls against
 * a real gateway are in tests/integration/test_client_sdk.py.
 */
#include <arpa/inet.h>
#include <bedrockgw/client.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int s_failures;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
            s_failures++;                                                                          \
        }                                                                                          \
    } while (0)

static long long s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A bound TCP port: listening (accepts into the backlog, never answers) or
 * closed again (nothing listens). */
static int s_port(int listening, int *fd_out)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        return -1;
    if (listening)
        listen(fd, 16);
    else
        close(fd);
    *fd_out = listening ? fd : -1;
    return ntohs(a.sin_port);
}

static void test_options(void)
{
    struct bgw_client_options o;
    struct bgw_client_error err;
    struct bgw_client *c = (struct bgw_client *)&o;

    CHECK(bgw_client_new(NULL, &c, &err) == BGW_CODE_INVALID_ARGUMENT);
    CHECK(c == NULL);
    bgw_client_options_init(&o);
    CHECK(bgw_client_new(&o, &c, &err) == BGW_CODE_INVALID_ARGUMENT);
    CHECK(strstr(err.message, "target") != NULL);
    CHECK(err.retryable == 0 && err.from_server == 0);
    o.target = "127.0.0.1:1";
    CHECK(bgw_client_new(&o, &c, &err) == BGW_CODE_INVALID_ARGUMENT);
    CHECK(strstr(err.message, "api_key") != NULL);
    o.api_key = "bad\nkey";
    CHECK(bgw_client_new(&o, &c, &err) == BGW_CODE_INVALID_ARGUMENT);
    CHECK(strstr(err.message, "bad") == NULL); /* the key is never echoed */
    o.api_key = "k";
    o.tls_ca_file = "/nonexistent";
    CHECK(bgw_client_new(&o, &c, &err) == BGW_CODE_INVALID_ARGUMENT); /* tls_* without use_tls */
    o.use_tls = 1;
    CHECK(bgw_client_new(&o, &c, &err) == BGW_CODE_INVALID_ARGUMENT);
    CHECK(strstr(err.message, "/nonexistent") != NULL);
    o.tls_ca_file = NULL;
    o.tls_cert_file = "/etc/hostname";
    CHECK(bgw_client_new(&o, &c, &err) == BGW_CODE_INVALID_ARGUMENT); /* cert without key */
    o.tls_cert_file = NULL;
    o.max_attempts = 11;
    CHECK(bgw_client_new(&o, &c, &err) == BGW_CODE_INVALID_ARGUMENT);
    o.max_attempts = 0;
    o.default_timeout_ms = -1;
    CHECK(bgw_client_new(&o, &c, &err) == BGW_CODE_INVALID_ARGUMENT);
    o.default_timeout_ms = 0;
    CHECK(bgw_client_new(&o, &c, NULL) == BGW_CODE_OK); /* TLS with default roots */
    bgw_client_destroy(c);
    bgw_client_destroy(NULL);
    bgw_list_response_free(NULL);
}

static void test_names(void)
{
    CHECK(strcmp(bgw_code_name(0), "OK") == 0);
    CHECK(strcmp(bgw_code_name(14), "UNAVAILABLE") == 0);
    CHECK(strcmp(bgw_code_name(16), "UNAUTHENTICATED") == 0);
    CHECK(strcmp(bgw_code_name(17), "UNKNOWN_CODE") == 0);
    CHECK(strcmp(bgw_code_name(-1), "UNKNOWN_CODE") == 0);
    CHECK(strcmp(bgw_job_status_name(BGW_JOB_STATUS_IN_PROGRESS), "InProgress") == 0);
    CHECK(bgw_job_status_name(0) == NULL && bgw_job_status_name(9) == NULL);
    CHECK(strcmp(bgw_sort_order_name(BGW_SORT_ORDER_DESCENDING), "Descending") == 0);
    CHECK(strcmp(bgw_sort_by_name(BGW_SORT_BY_CREATION_TIME), "CreationTime") == 0);
}

static void test_unreachable_retries(void)
{
    int fd;
    char target[64];
    snprintf(target, sizeof(target), "127.0.0.1:%d", s_port(0, &fd));
    struct bgw_client_options o;
    struct bgw_client_error err;
    struct bgw_client *c = NULL;
    bgw_client_options_init(&o);
    o.target = target;
    o.api_key = "k";
    o.max_attempts = 4;
    o.initial_backoff_ms = 20;
    o.max_backoff_ms = 40;
    o.default_timeout_ms = 5000;
    CHECK(bgw_client_new(&o, &c, &err) == BGW_CODE_OK);
    struct bgw_list_request req;
    bgw_list_request_init(&req);
    struct bgw_list_response *resp = (struct bgw_list_response *)&req;
    long long t0 = s_now_ms();
    CHECK(bgw_client_list(c, &req, &resp, &err) == BGW_CODE_UNAVAILABLE);
    long long took = s_now_ms() - t0;
    CHECK(resp == NULL);
    CHECK(err.code == BGW_CODE_UNAVAILABLE && err.retryable && !err.from_server);
    CHECK(err.attempts == 4);
    CHECK(err.message[0] != '\0');
    CHECK(took >= 3 * 10 && took < 4000); /* three waits of at least half the backoff */

    /* A short deadline stops the retries early. */
    o.max_attempts = 10;
    o.initial_backoff_ms = 200;
    o.max_backoff_ms = 200;
    bgw_client_destroy(c);
    CHECK(bgw_client_new(&o, &c, &err) == BGW_CODE_OK);
    req.timeout_ms = 350;
    t0 = s_now_ms();
    CHECK(bgw_client_list(c, &req, &resp, &err) != BGW_CODE_OK);
    took = s_now_ms() - t0;
    /* waits of 100..200 ms (jitter down to half): at most attempts at
     * 0, 100, 200 and 300 ms fit in 350 */
    CHECK(err.attempts >= 1 && err.attempts <= 4);
    CHECK(took < 1500);

    /* Paging reports the first page's error. */
    size_t total = 99;
    req.timeout_ms = 0;
    o.max_attempts = 1;
    bgw_client_destroy(c);
    CHECK(bgw_client_new(&o, &c, &err) == BGW_CODE_OK);
    CHECK(bgw_client_list_all(c, &req, 0, NULL, NULL, &total, &err) == BGW_CODE_INVALID_ARGUMENT);
    bgw_client_destroy(c);
}

static int s_never(const struct bgw_list_response *p, size_t i, void *u)
{
    (void)p;
    (void)i;
    (void)u;
    return 1;
}

static void test_deadline_silent_server(void)
{
    int fd;
    char target[64];
    snprintf(target, sizeof(target), "127.0.0.1:%d", s_port(1, &fd));
    struct bgw_client_options o;
    struct bgw_client_error err;
    struct bgw_client *c = NULL;
    bgw_client_options_init(&o);
    o.target = target;
    o.api_key = "k";
    o.default_timeout_ms = 300;
    CHECK(bgw_client_new(&o, &c, &err) == BGW_CODE_OK);
    struct bgw_list_request req;
    bgw_list_request_init(&req);
    size_t total = 99;
    long long t0 = s_now_ms();
    int rc = bgw_client_list_all(c, &req, 0, s_never, NULL, &total, &err);
    long long took = s_now_ms() - t0;
    CHECK(rc == BGW_CODE_DEADLINE_EXCEEDED || rc == BGW_CODE_UNAVAILABLE);
    CHECK(err.retryable && !err.from_server);
    CHECK(total == 0);
    CHECK(took >= 250 && took < 3000);
    bgw_client_destroy(c);
    close(fd);
}

int main(void)
{
    test_options();
    test_names();
    test_unreachable_retries();
    test_deadline_silent_server();
    if (s_failures) {
        fprintf(stderr, "client_test: %d failure(s)\n", s_failures);
        return 1;
    }
    printf("client_test: ok\n");
    return 0;
}
