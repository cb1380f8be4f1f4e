/*
 * http_headers_fuzz - the request headers the gateway interprets, as an
 * attacker can send them: Cache-Control (page_cache_parse_control),
 * If-None-Match (cache_etag_list_match), the API key headers
 * (tenant_extract_key), Origin (config_origin_matches) and, from the
 * upstream side, Retry-After (retry_after_ms).
 *
 * Input: up to three NUL-separated strings A, B, C.
 *
 * Invariants:
 * - Cache-Control A: max-age is -1 or at most the largest number written in
 *   A (in ms), never negative otherwise; no-cache only when A says
 *   "no-cache" or "no-store" (any case).
 * - If-None-Match A vs the ETag "<16 hex of B>": a match means A holds "*"
 *   or that ETag; an exact single-tag list always matches.
 * - Keys (Authorization A, X-Api-Key B): a key is returned only as a
 *   non-empty, blank-trimmed slice of A or B within TENANT_KEY_MAX; with
 *   both headers, both carry it; a refusal's reason never contains the key
 *   text.
 * - Origin: a configured origin matches itself, the match is symmetric in
 *   the case of scheme and host, and a different port never matches.
 * - Retry-After C: -1 or 0..RETRY_AFTER_MAX_MS; plain digits d give
 *   min(d s, the cap).
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "config.h"
#include "fuzz_util.h"
#include "page_cache.h"
#include "retry_policy.h"
#include "tenant.h"

static const char *s_next(const char *s, const char *end)
{
    const char *p = s + strlen(s);
    return p < end ? p + 1 : end;
}

static int64_t s_largest_number_ms(const char *s)
{
    int64_t best = -1;
    while (*s) {
        if (isdigit((unsigned char)*s)) {
            int64_t v = 0;
            while (isdigit((unsigned char)*s)) {
                if (v < 100000000000LL)
                    v = v * 10 + (*s - '0');
                s++;
            }
            if (v > best)
                best = v;
        } else {
            s++;
        }
    }
    return best < 0 ? -1 : best * 1000;
}

static bool s_contains_ci(const char *s, const char *word)
{
    size_t n = strlen(word);
    for (; *s; s++)
        if (strncasecmp(s, word, n) == 0)
            return true;
    return false;
}

static bool s_within(const char *p, const char *s)
{
    return s && p >= s && p <= s + strlen(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *all = malloc(size + 3);
    FUZZ_CHECK(all != NULL);
    memcpy(all, data, size);
    all[size] = all[size + 1] = all[size + 2] = '\0';
    const char *end = all + size + 2;
    const char *a = all, *b = s_next(a, end), *c = s_next(b, end);

    /* Cache-Control */
    struct page_cache_control ctl;
    page_cache_parse_control(a, &ctl);
    FUZZ_CHECK(ctl.max_age_ms >= -1);
    if (ctl.max_age_ms >= 0)
        FUZZ_CHECK(ctl.max_age_ms <= s_largest_number_ms(a));
    if (ctl.no_cache)
        FUZZ_CHECK(s_contains_ci(a, "no-cache") || s_contains_ci(a, "no-store"));

    /* If-None-Match */
    char etag[24];
    unsigned long long h = 1469598103934665603ULL;
    for (const char *p = b; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    snprintf(etag, sizeof(etag), "\"%016llx\"", h);
    if (cache_etag_list_match(a, etag))
        FUZZ_CHECK(strchr(a, '*') || strstr(a, etag));
    FUZZ_CHECK(cache_etag_list_match(etag, etag));
    FUZZ_CHECK(!cache_etag_list_match(NULL, etag));

    /* API keys */
    const char *key = NULL, *reason = NULL;
    size_t key_len = 0;
    if (tenant_extract_key(*a ? a : NULL, *b ? b : NULL, &key, &key_len, &reason) == 0) {
        FUZZ_CHECK(key_len > 0 && key_len <= TENANT_KEY_MAX);
        FUZZ_CHECK(key[0] != ' ' && key[0] != '\t');
        FUZZ_CHECK(key[key_len - 1] != ' ' && key[key_len - 1] != '\t');
        FUZZ_CHECK(s_within(key, a) || s_within(key, b));
        if (a[strspn(a, " \t")] && *b) { /* both sent (a blank one is absent): both carry it */
            FUZZ_CHECK(memmem(b, strlen(b), key, key_len) != NULL);
            FUZZ_CHECK(memmem(a, strlen(a), key, key_len) != NULL);
        }
    } else {
        FUZZ_CHECK(reason && *reason);
        if (strlen(b) >= 8)
            FUZZ_CHECK(strstr(reason, b) == NULL);
    }

    /* Origin matching against a well-formed configured origin built from B */
    char conf[160], up[160], other[176];
    size_t host_len = 0;
    char host[64];
    for (const char *p = b; *p && host_len < sizeof(host) - 1; p++)
        if (isalnum((unsigned char)*p) || *p == '-' || *p == '.')
            host[host_len++] = (char)tolower((unsigned char)*p);
    host[host_len] = '\0';
    if (host_len) {
        snprintf(conf, sizeof(conf), "https://%s", host);
        FUZZ_CHECK(config_origin_matches(conf, conf));
        snprintf(up, sizeof(up), "HTTPS://%s", host);
        for (char *p = up; *p; p++)
            *p = (char)toupper((unsigned char)*p);
        FUZZ_CHECK(config_origin_matches(conf, up));
        snprintf(other, sizeof(other), "https://%s:8443", host);
        FUZZ_CHECK(!config_origin_matches(conf, other));
        FUZZ_CHECK(!config_origin_matches(other, conf));
    }
    (void)config_origin_matches(a[0] ? a : "https://x", c);

    /* Retry-After */
    int64_t ra = retry_after_ms(c, 1700000000000LL);
    FUZZ_CHECK(ra == -1 || (ra >= 0 && ra <= RETRY_AFTER_MAX_MS));
    size_t cl = strlen(c);
    if (cl > 0 && cl < 12 && strspn(c, "0123456789") == cl) {
        long long d = strtoll(c, NULL, 10);
        FUZZ_CHECK(ra == (d * 1000 > RETRY_AFTER_MAX_MS ? RETRY_AFTER_MAX_MS : d * 1000));
    }
    free(all);
    return 0;
}
