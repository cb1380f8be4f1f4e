/*
 * tls_server - the OpenSSL server context for a listener configured by a
 * struct config_tls (the REST listener; gRPC core builds its own from the
 * same settings).
 *
 * Settings: TLS 1.2 and 1.3 only; TLS 1.2 ciphers limited to ECDHE with
 * AES-GCM or ChaCha20-Poly1305 (forward secrecy, AEAD); no compression; no
 * renegotiation; server cipher preference. With client_ca_file, client
 * certificates are requested and verified against those CAs (and required
 * when require_client_cert); a presented certificate that does not verify
 * fails the handshake.
 *
 * Reads the PEM files once, at creation (startup I/O); never afterwards.
 */
#ifndef BGW_TLS_SERVER_H
#define BGW_TLS_SERVER_H

#include <openssl/ssl.h>

#include "buf.h"
#include "config.h"

/* A new SSL_CTX (the caller frees it with SSL_CTX_free), or NULL with
 * "<key_prefix>.<key>: <problem>" appended to err (e.g. "http.tls.key_file:
 * does not match the certificate"). */
SSL_CTX *tls_server_ctx_new(const struct config_tls *t, const char *key_prefix, struct buf *err);

/* The verified client certificate of ssl, or NULL (none presented, or it did
 * not verify). Borrowed from ssl. */
X509 *tls_server_verified_peer(SSL *ssl);

#endif
