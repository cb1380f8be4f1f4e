/*
 * fuzz_secrets - checks that a parser wipes the secrets it frees.
 *
 * ASan's free hook (sanitizer/allocator_interface.h) runs just before a
 * block is released. Between fuzz_secrets_watch() and
 * fuzz_secrets_unwatch(), every block freed anywhere in the process (our
 * modules and jansson alike) is compared with the watched secret strings:
 * a block that still holds one of them as its whole C string was freed
 * without being wiped. Blocks that merely contain the text somewhere (e.g.
 * a parser's raw token buffer, which starts with the quote) are not
 * reported: the property is "no heap copy of the value is released intact".
 *
 * Only for ASan builds of the libFuzzer targets; one watch at a time; the
 * watched strings must stay valid until unwatch.
 */
#ifndef BGW_FUZZ_SECRETS_H
#define BGW_FUZZ_SECRETS_H

#include <sanitizer/allocator_interface.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "credentials_parse.h"
#include "fuzz_util.h"

#define FUZZ_SECRETS_MAX 4

static const char *s_fuzz_watched[FUZZ_SECRETS_MAX];
static size_t s_fuzz_n_watched;
static volatile bool s_fuzz_watching;
static size_t s_fuzz_unwiped;
static bool s_fuzz_hooks_installed;

static void s_fuzz_malloc_hook(const volatile void *ptr, size_t size)
{
    (void)ptr;
    (void)size;
}

/* (the sanitizer wants both hooks) */
static void s_fuzz_free_hook(const volatile void *ptr)
{
    if (!s_fuzz_watching || !ptr)
        return;
    const char *p = (const char *)ptr;
    size_t cap = __sanitizer_get_allocated_size(ptr);
    for (size_t i = 0; i < s_fuzz_n_watched; i++) {
        size_t n = strlen(s_fuzz_watched[i]);
        if (n < cap && memcmp(p, s_fuzz_watched[i], n) == 0 && p[n] == '\0')
            s_fuzz_unwiped++;
    }
}

/* Starts watching up to FUZZ_SECRETS_MAX secrets (NULL and short ones,
 * under 4 bytes, are skipped: too likely to be some unrelated string). */
static inline void fuzz_secrets_watch(const char *const *secrets, size_t n)
{
    if (!s_fuzz_hooks_installed) {
        FUZZ_CHECK(
            __sanitizer_install_malloc_and_free_hooks(s_fuzz_malloc_hook, s_fuzz_free_hook) != 0);
        s_fuzz_hooks_installed = true;
    }
    s_fuzz_n_watched = 0;
    s_fuzz_unwiped = 0;
    for (size_t i = 0; i < n && s_fuzz_n_watched < FUZZ_SECRETS_MAX; i++) {
        if (secrets[i] && strlen(secrets[i]) >= 4)
            s_fuzz_watched[s_fuzz_n_watched++] = secrets[i];
    }
    s_fuzz_watching = s_fuzz_n_watched > 0;
}

/* Stops watching; returns how many blocks were freed still holding a
 * watched secret. */
static inline size_t fuzz_secrets_unwatch(void)
{
    s_fuzz_watching = false;
    s_fuzz_n_watched = 0;
    return s_fuzz_unwiped;
}

/* Occurrences of needle in hay[0..len). */
static inline size_t fuzz_count(const char *hay, size_t len, const char *needle)
{
    size_t n = strlen(needle), c = 0;
    if (n == 0 || n > len)
        return 0;
    for (size_t i = 0; i + n <= len; i++) {
        if (memcmp(hay + i, needle, n) == 0)
            c++;
    }
    return c;
}

/* -- properties shared by the credential parser targets ------------------ */

/* A successful parse: a non-empty key id (printable, no blank, at most 128
 * bytes), a non-empty secret and, when present (need_token: always), a
 * session token that can go into a request header (printable ASCII, no
 * blank); each within CREDENTIALS_FIELD_MAX. */
static inline void fuzz_check_parsed(const struct credentials *c, bool need_token)
{
    FUZZ_CHECK(c->access_key_id && c->secret_access_key && (!need_token || c->session_token));
    FUZZ_CHECK(c->access_key_id[0] && c->secret_access_key[0]);
    FUZZ_CHECK(strlen(c->access_key_id) <= 128 && fuzz_printable_ascii(c->access_key_id));
    FUZZ_CHECK(!strchr(c->access_key_id, ' '));
    FUZZ_CHECK(strlen(c->secret_access_key) <= CREDENTIALS_FIELD_MAX);
    FUZZ_CHECK(!c->session_token ||
               (c->session_token[0] && strlen(c->session_token) <= CREDENTIALS_FIELD_MAX));
    FUZZ_CHECK(!c->session_token ||
               (fuzz_printable_ascii(c->session_token) && !strchr(c->session_token, ' ')));
}

/* credentials_parse_wipe wipes what it frees and leaves nothing set. */
static inline void fuzz_check_wipe(struct credentials *c)
{
    char *copies[2] = {strdup(c->secret_access_key),
                       c->session_token ? strdup(c->session_token) : NULL};
    FUZZ_CHECK(copies[0] && (!c->session_token || copies[1]));
    fuzz_secrets_watch((const char *const *)copies, 2);
    credentials_parse_wipe(c);
    FUZZ_CHECK(fuzz_secrets_unwatch() == 0);
    FUZZ_CHECK(!c->access_key_id && !c->secret_access_key && !c->session_token);
    free(copies[0]);
    free(copies[1]);
}

/* A failed parse: nothing set; why (an out buffer of why_len bytes) holds a
 * terminated, non-empty, printable reason. */
static inline void fuzz_check_failed(const struct credentials *c, const char *why, size_t why_len)
{
    FUZZ_CHECK(!c->access_key_id && !c->secret_access_key && !c->session_token);
    FUZZ_CHECK(fuzz_terminated(why, why_len));
    FUZZ_CHECK(why[0] != '\0' && fuzz_printable_ascii(why));
}

#endif
