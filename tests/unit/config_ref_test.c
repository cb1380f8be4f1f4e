/*
 * config_ref_test - snapshot reference counting (borrowed vs owned; the
 * owned config is freed with the last reference, which ASan checks), loading
 * a file (and the error naming file and key), the list of settings that
 * changed but only apply after a restart, and page-token secrets carried
 * over a reload (tokens minted before it still decode after it).
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
    CHECK_STR(out.data, "grpc.listen, http.tls, aws.endpoint, aws.region, aws.timeout_ms, "
                        "gateway.log_level");
    /* Issue 5's sections are read once at start too. */
    struct config c;
    const char *t3 = "{\"aws\":{\"region\":\"us-east-1\"},\"http\":{\"cors_allowed_origins\":["
                     "\"https://a.example\"]},"
                     "\"gateway\":{\"shutdown_unready_ms\":5},"
                     "\"credentials\":{\"profile\":\"other\"},"
                     "\"upstream\":{\"max_attempts\":1},"
                     "\"tokens\":{\"ttl_s\":60},"
                     "\"tenants\":[{\"id\":\"a\",\"api_keys\":[\"" H_A1 "\"],"
                     "\"policy\":{\"statuses\":[\"Completed\"]}}]}";
    CHECK(config_load_string(t3, "c.json", &s_env, &c, &err) == 0);
    buf_reset(&out);
    CHECK(config_ref_restart_keys(&a, &c, &out) == 3);
    CHECK_STR(out.data, "gateway.shutdown_unready_ms, credentials.profile, upstream.max_attempts");
    config_clean_up(&c);
    /* Issue 4: the response cache and the /metrics switch are built once. */
    const char *t4 = "{\"aws\":{\"region\":\"us-east-1\"},\"http\":{\"cors_allowed_origins\":["
                     "\"https://a.example\"],\"metrics_enabled\":false},"
                     "\"cache\":{\"ttl_ms\":1},"
                     "\"tenants\":[{\"id\":\"a\",\"api_keys\":[\"" H_A1 "\"]}]}";
    CHECK(config_load_string(t4, "d.json", &s_env, &c, &err) == 0);
    buf_reset(&out);
    CHECK(config_ref_restart_keys(&a, &c, &out) == 2);
    CHECK_STR(out.data, "http.metrics_enabled, cache.ttl_ms");
    config_clean_up(&c);
    config_clean_up(&a);
    config_clean_up(&b);
    buf_clean_up(&err);
    buf_clean_up(&out);
}

#define S_SECRET1 "first-configured-secret-0123456789abcdef"
#define S_SECRET2 "second-configured-secret-0123456789abcdef"
#define S_BASE(tokens)                                                                             \
    "{\"aws\":{\"region\":\"us-east-1\"}," tokens                                                  \
    "\"tenants\":[{\"id\":\"a\",\"api_keys\":[\"" H_A1 "\"]}]}"

/* A token minted under running decodes under the reloaded next (or not). */
static enum page_token_status s_survives(const struct config *running, const char *next_text)
{
    struct buf err;
    buf_init(&err, 0);
    char *path = s_write(next_text);
    struct config_ref *next = config_ref_load(path, &s_env, 1, &err);
    enum page_token_status st = PAGE_TOKEN_NOMEM;
    if (CHECK(next != NULL)) {
        config_ref_carry_tokens(next, running);
        char *tok = NULL;
        CHECK(page_token_encode(&running->tokens, "a\nb", "cursor-1", 7, 1000, &tok) ==
              PAGE_TOKEN_OK);
        struct page_token t;
        memset(&t, 0, sizeof(t));
        st = page_token_decode(&next->cfg->tokens, "a\nb", tok, 1001, &t);
        if (st == PAGE_TOKEN_OK)
            CHECK(t.position == 7 && t.cursor && strcmp(t.cursor, "cursor-1") == 0);
        page_token_clean_up(&t);
        free(tok);
        /* What next signs with still decodes under next. */
        CHECK(page_token_encode(&next->cfg->tokens, "a\nb", NULL, 0, 1000, &tok) == PAGE_TOKEN_OK);
        memset(&t, 0, sizeof(t));
        CHECK(page_token_decode(&next->cfg->tokens, "a\nb", tok, 1001, &t) == PAGE_TOKEN_OK);
        page_token_clean_up(&t);
        free(tok);
        config_ref_release(next);
    }
    unlink(path);
    free(path);
    buf_clean_up(&err);
    return st;
}

static void test_carry_tokens(void)
{
    struct config eph, conf;
    struct buf err;
    buf_init(&err, 0);
    CHECK(config_load_string(S_BASE(""), "eph.json", &s_env, &eph, &err) == 0);
    CHECK(eph.tokens_ephemeral);
    CHECK(config_load_string(S_BASE("\"tokens\":{\"secret\":\"" S_SECRET1 "\"},"), "conf.json",
                             &s_env, &conf, &err) == 0);
    CHECK(!conf.tokens_ephemeral);

    /* Still ephemeral: the process's random secret is kept (without the
     * carry, the reload's fresh random secret would reject the token). */
    CHECK(s_survives(&eph, S_BASE("")) == PAGE_TOKEN_OK);
    /* A secret configured for the first time accepts the random one. */
    CHECK(s_survives(&eph, S_BASE("\"tokens\":{\"secret\":\"" S_SECRET2 "\"},")) == PAGE_TOKEN_OK);
    /* ... unless the file names its own previous secret. */
    CHECK(s_survives(&eph, S_BASE("\"tokens\":{\"secret\":\"" S_SECRET2
                                  "\",\"previous_secret\":\"" S_SECRET1 "\"},")) ==
          PAGE_TOKEN_BAD_MAC);
    /* The configured secret removed: the old one is still accepted. */
    CHECK(s_survives(&conf, S_BASE("")) == PAGE_TOKEN_OK);
    /* Configured on both sides: the file decides (same secret, rotation,
     * revocation). */
    CHECK(s_survives(&conf, S_BASE("\"tokens\":{\"secret\":\"" S_SECRET1 "\"},")) == PAGE_TOKEN_OK);
    CHECK(s_survives(&conf, S_BASE("\"tokens\":{\"secret\":\"" S_SECRET2
                                   "\",\"previous_secret\":\"" S_SECRET1 "\"},")) == PAGE_TOKEN_OK);
    CHECK(s_survives(&conf, S_BASE("\"tokens\":{\"secret\":\"" S_SECRET2 "\"},")) ==
          PAGE_TOKEN_BAD_MAC);

    /* A borrowed snapshot is never written to. */
    struct config_ref *b = config_ref_borrow(&conf);
    unsigned char before[PAGE_TOKEN_SECRET_MAX];
    memcpy(before, conf.tokens.secret, sizeof(before));
    config_ref_carry_tokens(b, &eph);
    CHECK(memcmp(before, conf.tokens.secret, sizeof(before)) == 0 && conf.tokens.previous_len == 0);
    config_ref_release(b);
    config_ref_carry_tokens(NULL, &eph);

    config_clean_up(&eph);
    config_clean_up(&conf);
    buf_clean_up(&err);
}

int main(void)
{
    test_refcount_and_load();
    test_restart_keys();
    test_carry_tokens();
    return TEST_EXIT();
}
