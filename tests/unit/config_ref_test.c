/*
 * config_ref_test - snapshot reference counting (borrowed vs owned; the
 * owned config is freed with the last reference, which ASan checks), loading
 * a file (and the error naming file and key), and the list of settings that
 * changed but only apply after a restart.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_ref.h"
#include "test_util.h"

#define H_A1 "0effaf23ed21d617de082837ef24b0c232b8e9a35b686cc7601cc82163d30e05"
static const struct config_env s_env = {NULL, NULL, NULL, NULL};

static char *s_write(const char *text)
{
    char *path = strdup("/tmp/config_ref_test-XXXXXX");
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_refcount_and_load(void)
{
    struct config boot;
    struct buf err;
    buf_init(&err, 0);
    const char *base =
        "{\"aws\":{\"region\":\"us-east-1\"},\"tenants\":[{\"id\":\"a\",\"api_keys\":[\"" H_A1
        "\"]}]}";
    CHECK(config_load_string(base, "boot.json", &s_env, &boot, &err) == 0);
    struct config_ref *b = config_ref_borrow(&boot);
    CHECK(b && b->cfg == &boot && b->refs == 1 && b->generation == 0);
    CHECK(config_ref_acquire(b) == b && b->refs == 2);
    config_ref_release(b);
    config_ref_release(b); /* frees the wrapper only: boot is still ours */
    CHECK(boot.tenants.n_tenants == 1);
    config_ref_release(NULL);

    char *path = s_write(base);
    struct config_ref *r = config_ref_load(path, &s_env, 3, &err);
    if (CHECK(r != NULL)) {
        CHECK(r->generation == 3 && r->refs == 1 && r->cfg->tenants.n_tenants == 1);
        config_ref_acquire(r);                                  /* a call in flight */
        config_ref_release(r);                                  /* the gateway swapped it out */
        CHECK(strcmp(r->cfg->tenants.tenants[0].id, "a") == 0); /* still alive */
        config_ref_release(r);                                  /* the call finished: freed */
    }
    unlink(path);
    free(path);

    path = s_write("{\"aws\":{\"region\":\"us-east-1\"},\"tenants\":[{\"id\":\"a\",\"api_keys\":["
                   "\"nothex\"]}]}");
    buf_reset(&err);
    CHECK(config_ref_load(path, &s_env, 4, &err) == NULL);
    CHECK(err.data && strstr(err.data, path) && strstr(err.data, "tenants[0].api_keys[0]"));
    unlink(path);
    free(path);
    buf_reset(&err);
    CHECK(config_ref_load("/nonexistent/bgw.json", &s_env, 5, &err) == NULL);
    CHECK(err.data && strstr(err.data, "/nonexistent/bgw.json: cannot open"));
    config_clean_up(&boot);
    buf_clean_up(&err);
}

static void test_restart_keys(void)
{
    struct config a, b;
    struct buf err, out;
    buf_init(&err, 0);
    buf_init(&out, 0);
    const char *t1 = "{\"aws\":{\"region\":\"us-east-1\"},\"http\":{\"cors_allowed_origins\":["
                     "\"https://a.example\"]},"
                     "\"tenants\":[{\"id\":\"a\",\"api_keys\":[\"" H_A1 "\"]}]}";
    const char *t2 =
        "{\"aws\":{\"region\":\"us-west-2\",\"timeout_ms\":999},"
        "\"grpc\":{\"listen\":\"127.0.0.1:1\"},"
        "\"http\":{\"cors_allowed_origins\":[\"https://b.example\"],"
        "\"tls\":{\"cert_file\":\"c\",\"key_file\":\"k\"}},"
        "\"gateway\":{\"default_page_size\":7,\"log_level\":\"debug\"},"
        "\"tenants\":[{\"id\":\"z\",\"api_keys\":[\"" H_A1 "\"],\"rate_limit\":{\"rps\":1}}]}";
    CHECK(config_load_string(t1, "a.json", &s_env, &a, &err) == 0);
    CHECK(config_load_string(t2, "b.json", &s_env, &b, &err) == 0);
    CHECK(config_ref_restart_keys(&a, &a, &out) == 0 && out.len == 0);
    CHECK(config_ref_restart_keys(&a, &b, &out) == 6);
    CHECK_STR(out.data, "grpc.listen, http.tls, aws.region, aws.endpoint, aws.timeout_ms, "
                        "gateway.log_level");
    config_clean_up(&a);
    config_clean_up(&b);
    buf_clean_up(&err);
    buf_clean_up(&out);
}

int main(void)
{
    test_refcount_and_load();
    test_restart_keys();
    return TEST_EXIT();
}
