/*
 * test_util - the one assert helper the unit tests share. CHECK(cond) and
 * CHECK_STR(got, expected) print file:line and count a failure instead of
 * aborting, so one run reports every broken case; both return whether they
 * passed. TEST_EXIT() is main's return value (non-zero when anything failed).
 */
#ifndef BGW_TEST_UTIL_H
#define BGW_TEST_UTIL_H

#include <stdio.h>
#include <string.h>

static int test_failures;
static int test_checks;

__attribute__((unused)) static int test_check(int ok, const char *file, int line, const char *expr)
{
    test_checks++;
    if (!ok) {
        fprintf(stderr, "%s:%d: CHECK failed: %s\n", file, line, expr);
        test_failures++;
    }
    return ok;
}

__attribute__((unused)) static int test_check_str(const char *got, const char *want,
                                                  const char *file, int line, const char *expr)
{
    int ok = (!got && !want) || (got && want && strcmp(got, want) == 0);
    test_checks++;
    if (!ok) {
        fprintf(stderr, "%s:%d: CHECK_STR failed: %s\n  got:      %s\n  expected: %s\n", file, line,
                expr, got ? got : "(null)", want ? want : "(null)");
        test_failures++;
    }
    return ok;
}

#define CHECK(cond) test_check(!!(cond), __FILE__, __LINE__, #cond)
#define CHECK_STR(got, want) test_check_str((got), (want), __FILE__, __LINE__, #got)

#define TEST_EXIT()                                                                                \
    (fprintf(stderr, "%s: %d checks, %d failed\n", __FILE__, test_checks, test_failures),          \
     test_failures ? 1 : 0)

#endif
