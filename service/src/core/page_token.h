/*
 * page_token - the gateway's own pagination tokens.
 *
 * A token says where a walk continues: the upstream cursor (Bedrock's
 * nextToken, or "start" for the first upstream page) and the position inside
 * the upstream page fetched with that cursor (the index of the next row not
 * yet shown). It expires, and it is authenticated with HMAC-SHA256 under the
 * configured secret over a "binding" - the tenant and the normalized filters
 * the walk was started with - plus its own contents. The binding is not
 * carried in the token: a token presented by another tenant or with other
 * filters simply fails the MAC check. A previous secret is still accepted,
 * so the secret can be rotated without breaking walks in progress.
 *
 * Opaque as well as authenticated: the contents are encrypted (AES-256-CTR
 * under a key derived from the secret, with a synthetic IV - an HMAC of the
 * binding and the contents - so no randomness is needed), then MACed
 * (encrypt-then-MAC, HMAC-SHA256 under a second derived key). Bedrock's
 * tokens therefore never reach clients, not even inside ours. Wire form:
 * unpadded base64url (strict: no padding, no stray bits) of
 *   version(1) | iv(16) | E(expires_s(8, big endian) | position(4, big
 *   endian) | cursor(0..PAGE_TOKEN_CURSOR_MAX bytes; empty = start)) | mac(32)
 * The MAC covers the binding, version, iv and ciphertext, and is compared in
 * constant time.
 *
 * No I/O, no clock (now_s is passed in); secrets are wiped on clean-up.
 */
#ifndef BGW_PAGE_TOKEN_H
#define BGW_PAGE_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#define PAGE_TOKEN_SECRET_MIN 32  /* bytes */
#define PAGE_TOKEN_SECRET_MAX 512 /* bytes */
#define PAGE_TOKEN_TEXT_MAX 2048  /* the contract's nextToken limit */
/* Longest upstream cursor that still fits into PAGE_TOKEN_TEXT_MAX
 * characters: 2048 base64 chars = 1536 bytes, minus 61 bytes of framing. */
#define PAGE_TOKEN_CURSOR_MAX 1475
#define PAGE_TOKEN_DEFAULT_TTL_S 3600

enum page_token_status {
    PAGE_TOKEN_OK = 0,
    PAGE_TOKEN_MALFORMED, /* not base64url, wrong length or version */
    PAGE_TOKEN_BAD_MAC,   /* tampered, forged, another tenant's or other filters */
    PAGE_TOKEN_EXPIRED,
    PAGE_TOKEN_TOO_LONG, /* encode: the upstream cursor does not fit */
    PAGE_TOKEN_NOMEM,
};
const char *page_token_status_str(enum page_token_status s);

/* The keys (caller-owned storage; page_token_keys_clean_up wipes them). */
struct page_token_keys {
    unsigned char secret[PAGE_TOKEN_SECRET_MAX];
    size_t secret_len;
    unsigned char previous[PAGE_TOKEN_SECRET_MAX]; /* accepted, never used to sign */
    size_t previous_len;                           /* 0: none */
    int64_t ttl_s;
};
void page_token_keys_clean_up(struct page_token_keys *k);

/* Where a walk continues. */
struct page_token {
    char *cursor; /* heap; NULL = start of the upstream listing */
    uint32_t position;
    int64_t expires_s;
};
void page_token_clean_up(struct page_token *t);

/* Makes a token for (cursor, position) under binding, valid until now_s +
 * k->ttl_s. *out is a heap string (free it). */
enum page_token_status page_token_encode(const struct page_token_keys *k, const char *binding,
                                         const char *cursor, uint32_t position, int64_t now_s,
                                         char **out);

/* Checks text against binding (secret, then previous secret) and expiry;
 * fills out (page_token_clean_up) on PAGE_TOKEN_OK. */
enum page_token_status page_token_decode(const struct page_token_keys *k, const char *binding,
                                         const char *text, int64_t now_s, struct page_token *out);

#endif
