/*
 * status_test - the one status table (gRPC code, gRPC name and the HTTP
 * status grpc-gateway's runtime.HTTPStatusFromCode uses for that code) and
 * bgw_error_set: truncation, field handling, retry_after reset.
 */
#include <string.h>

#include "status.h"
#include "test_util.h"

#define CHECK_EQ(a, b) CHECK((long long)(a) == (long long)(b))

static void test_table(void)
{
    static const struct {
        enum bgw_status s;
        int grpc;
        const char *grpc_name;
        int http;
    } want[] = {
        {BGW_OK, 0, "OK", 200},
        {BGW_ERR_INVALID_ARGUMENT, 3, "INVALID_ARGUMENT", 400},
        {BGW_ERR_UNAUTHENTICATED, 16, "UNAUTHENTICATED", 401},
        {BGW_ERR_PERMISSION_DENIED, 7, "PERMISSION_DENIED", 403},
        {BGW_ERR_NOT_FOUND, 5, "NOT_FOUND", 404},
        {BGW_ERR_RESOURCE_EXHAUSTED, 8, "RESOURCE_EXHAUSTED", 429},
        {BGW_ERR_UNAVAILABLE, 14, "UNAVAILABLE", 503},
        {BGW_ERR_DEADLINE_EXCEEDED, 4, "DEADLINE_EXCEEDED", 504},
        {BGW_ERR_BAD_GATEWAY, 13, "INTERNAL", 502},
        {BGW_ERR_INTERNAL, 13, "INTERNAL", 500},
        /* grpc-gateway maps RESOURCE_EXHAUSTED to 429; out of memory is our
         * fault, not the client's rate, so it is a 500 over HTTP. */
        {BGW_ERR_NOMEM, 8, "RESOURCE_EXHAUSTED", 500},
        {BGW_ERR_CANCELLED, 1, "CANCELLED", 499},
        {BGW_ERR_UNIMPLEMENTED, 12, "UNIMPLEMENTED", 501},
        {BGW_ERR_METHOD_NOT_ALLOWED, 12, "UNIMPLEMENTED", 405},
    };
    /* One row per status, so a status added to the enum must be added here. */
    CHECK_EQ(sizeof(want) / sizeof(want[0]), BGW_STATUS_COUNT);
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        enum bgw_status s = want[i].s;
        int ok = CHECK_EQ(bgw_status_grpc_code(s), want[i].grpc);
        ok &= CHECK_STR(bgw_status_grpc_name(s), want[i].grpc_name);
        ok &= CHECK_EQ(bgw_status_http(s), want[i].http);
        if (!ok)
            fprintf(stderr, "  status %d (%s)\n", (int)s, bgw_status_str(s));
    }
    /* Every status has its own non-empty description. */
    for (int s = 0; s < BGW_STATUS_COUNT; s++) {
        const char *str = bgw_status_str((enum bgw_status)s);
        CHECK(str != NULL && str[0] != '\0' && strcmp(str, "unknown status") != 0);
        CHECK(bgw_status_grpc_name((enum bgw_status)s) != NULL);
        for (int t = 0; t < s; t++) {
            if (!CHECK(strcmp(str, bgw_status_str((enum bgw_status)t)) != 0))
                fprintf(stderr, "  statuses %d and %d share \"%s\"\n", t, s, str);
        }
    }
    /* Out of range: UNKNOWN / 500, never NULL. */
    enum bgw_status bad[] = {BGW_STATUS_COUNT, (enum bgw_status)(BGW_STATUS_COUNT + 100),
                             (enum bgw_status) - 1};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_STR(bgw_status_str(bad[i]), "unknown status");
        CHECK_EQ(bgw_status_grpc_code(bad[i]), 2);
        CHECK_STR(bgw_status_grpc_name(bad[i]), "UNKNOWN");
        CHECK_EQ(bgw_status_http(bad[i]), 500);
    }
}

static void test_error_set(void)
{
    struct bgw_error e;
    memset(&e, 0x5a, sizeof(e));
    bgw_error_clear(&e);
    CHECK(e.status == BGW_OK && e.message[0] == '\0' && e.field[0] == '\0' && e.retry_after_s == 0);

    CHECK(bgw_error_set(&e, BGW_ERR_INVALID_ARGUMENT, "maxResults", "maxResults must be %d-%d", 1,
                        1000) == BGW_ERR_INVALID_ARGUMENT);
    CHECK(e.status == BGW_ERR_INVALID_ARGUMENT);
    CHECK_STR(e.message, "maxResults must be 1-1000");
    CHECK_STR(e.field, "maxResults");

    /* A NULL field clears the previous one; retry_after is reset. */
    e.retry_after_s = 7;
    CHECK(bgw_error_set(&e, BGW_ERR_UNAVAILABLE, NULL, "down") == BGW_ERR_UNAVAILABLE);
    CHECK_STR(e.field, "");
    CHECK_STR(e.message, "down");
    CHECK(e.retry_after_s == 0);

    /* Over-long message and field: truncated, terminated, nothing beyond the
     * arrays touched (the sentinel after the struct's message stays). */
    char longmsg[3 * BGW_ERROR_MESSAGE_MAX];
    memset(longmsg, 'm', sizeof(longmsg) - 1);
    longmsg[sizeof(longmsg) - 1] = '\0';
    char longfield[3 * BGW_ERROR_FIELD_MAX];
    memset(longfield, 'f', sizeof(longfield) - 1);
    longfield[sizeof(longfield) - 1] = '\0';
    struct {
        struct bgw_error e;
        char guard[64];
    } g;
    memset(&g, 0, sizeof(g));
    memset(g.guard, 'G', sizeof(g.guard));
    bgw_error_set(&g.e, BGW_ERR_INTERNAL, longfield, "%s/%s", longmsg, "tail");
    CHECK(strlen(g.e.message) == BGW_ERROR_MESSAGE_MAX - 1);
    CHECK(g.e.message[BGW_ERROR_MESSAGE_MAX - 1] == '\0');
    CHECK(strspn(g.e.message, "m") == BGW_ERROR_MESSAGE_MAX - 1);
    CHECK(strlen(g.e.field) == BGW_ERROR_FIELD_MAX - 1);
    CHECK(strspn(g.e.field, "f") == BGW_ERROR_FIELD_MAX - 1);
    CHECK(g.e.status == BGW_ERR_INTERNAL);
    int guard_ok = 1;
    for (size_t i = 0; i < sizeof(g.guard); i++)
        guard_ok &= g.guard[i] == 'G';
    CHECK(guard_ok);

    /* Exactly fitting: kept whole. */
    longmsg[BGW_ERROR_MESSAGE_MAX - 1] = '\0';
    bgw_error_set(&e, BGW_ERR_INTERNAL, NULL, "%s", longmsg);
    CHECK(strlen(e.message) == BGW_ERROR_MESSAGE_MAX - 1);

    /* Copies (by value) are independent: no heap inside. */
    struct bgw_error copy = e;
    bgw_error_set(&e, BGW_ERR_NOT_FOUND, "x", "changed");
    CHECK(copy.status == BGW_ERR_INTERNAL);
    CHECK(strlen(copy.message) == BGW_ERROR_MESSAGE_MAX - 1);
}

int main(void)
{
    test_table();
    test_error_set();
    return TEST_EXIT();
}
