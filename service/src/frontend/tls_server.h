/*
 * tls_server - the OpenSSL server context for a listener configured by a
 * struct config_tls (both listeners), and what its certificates say about
 * their expiry.
 *
 * Settings: TLS 1.2 and 1.3 only; TLS 1.2 ciphers limited to ECDHE with
 * AES-GCM or ChaCha20-Poly1305 (forward secrecy, AEAD); no compression; no
 * renegotiation; server cipher preference. With client_ca_file, client
 * certificates are requested and verified against those CAs (and required
 * when require_client_cert); a presented certificate that does not verify
 * fails the handshake.
 *
 * Reads the PEM files at creation (start, --check-config, and every reload:
 * SIGHUP re-reads them, which is how rotated certificates are picked up).
 * Buffers of idle connections are released (SSL_MODE_RELEASE_BUFFERS).
 */
#ifndef BGW_TLS_SERVER_H
#define BGW_TLS_SERVER_H

#include <openssl/ssl.h>

#include "buf.h"
#include "config.h"
#include "peer_identity.h"

/* A new SSL_CTX (the caller frees it with SSL_CTX_free), or NULL with
 * "<key_prefix>.<key>: <problem>" appended to err (e.g. "http.tls.key_file:
 * does not match the certificate"). */
SSL_CTX *tls_server_ctx_new(const struct config_tls *t, const char *key_prefix, struct buf *err);

/* Expiry of what a context serves, in Unix seconds (0 = none): the server
 * certificate's notAfter and the earliest notAfter among the client CAs. */
struct tls_server_expiry {
    int64_t cert_not_after;
    int64_t ca_not_after;
};
void tls_server_expiry(SSL_CTX *ctx, struct tls_server_expiry *out);

/* Logs a "tls_certificate_expiring" (within warn_s of now_s) or
 * "tls_certificate_expired" warning for each of e's dates that calls for
 * one, naming the listener ("grpc", "http") and the file; with text, a
 * line per warning is appended there instead of logging. Returns whether
 * the server certificate has expired. */
bool tls_server_warn_expiry(const char *listener, const struct config_tls *t,
                            const struct tls_server_expiry *e, int64_t now_s, int64_t warn_s,
                            struct buf *text);

/* The names of ssl's verified client certificate into out (nothing when
 * ssl is NULL or holds none). 0, or -1 when memory runs out. Both
 * listeners use it, so both transports see the same names. */
int tls_server_peer_identity(SSL *ssl, struct peer_identity *out);

/* The verified client certificate of ssl, or NULL (none presented, or it did
 * not verify). Borrowed from ssl. */
X509 *tls_server_verified_peer(SSL *ssl);

#endif
