/*
 * tls_server - OpenSSL server context from config. See tls_server.h.
 */
#include "tls_server.h"

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <time.h>

#include "log.h"

#define S_TLS12_CIPHERS                                                                            \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"     \
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

/* Appends OpenSSL's first queued error (reason text only) and clears the
 * queue. */
static void s_ssl_reason(struct buf *err)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    if (r)
        buf_appendf(err, " (%s)", r);
    ERR_clear_error();
}

SSL_CTX *tls_server_ctx_new(const struct config_tls *t, const char *kp, struct buf *err)
{
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        buf_appendf(err, "%s: cannot create a TLS context", kp);
        goto fail;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
    if (SSL_CTX_set_cipher_list(ctx, S_TLS12_CIPHERS) != 1) {
        buf_appendf(err, "%s: cannot set the cipher list", kp);
        goto fail;
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, t->cert_file) != 1) {
        buf_appendf(err, "%s.cert_file: cannot load a PEM certificate chain from %s", kp,
                    t->cert_file);
        s_ssl_reason(err);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, t->key_file, SSL_FILETYPE_PEM) != 1) {
        if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
            buf_appendf(err, "%s.key_file: does not match the certificate in cert_file", kp);
            ERR_clear_error();
            goto fail;
        }
        buf_appendf(err, "%s.key_file: cannot load a PEM private key from %s", kp, t->key_file);
        s_ssl_reason(err);
        goto fail;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        buf_appendf(err, "%s.key_file: does not match the certificate in cert_file", kp);
        ERR_clear_error();
        goto fail;
    }
    if (t->client_ca_file[0]) {
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(t->client_ca_file);
        if (!names || SSL_CTX_load_verify_locations(ctx, t->client_ca_file, NULL) != 1) {
            if (names)
                sk_X509_NAME_pop_free(names, X509_NAME_free);
            buf_appendf(err, "%s.client_ca_file: cannot load PEM CA certificates from %s", kp,
                        t->client_ca_file);
            s_ssl_reason(err);
            goto fail;
        }
        SSL_CTX_set_client_CA_list(ctx, names); /* takes names */
        SSL_CTX_set_verify(
            ctx, SSL_VERIFY_PEER | (t->require_client_cert ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
            NULL);
        SSL_CTX_set_verify_depth(ctx, 8);
        /* Required with client verification so session resumption works. */
        static const unsigned char sid[] = "bedrockgw-rest";
        SSL_CTX_set_session_id_context(ctx, sid, sizeof(sid) - 1);
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    }
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

static int64_t s_not_after(const X509 *x)
{
    const ASN1_TIME *t = X509_get0_notAfter(x);
    struct tm tm;
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
        return 0;
    return (int64_t)timegm(&tm);
}

void tls_server_expiry(SSL_CTX *ctx, struct tls_server_expiry *out)
{
    out->cert_not_after = 0;
    out->ca_not_after = 0;
    X509 *cert = SSL_CTX_get0_certificate(ctx);
    if (cert)
        out->cert_not_after = s_not_after(cert);
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);
    STACK_OF(X509_OBJECT) *objs = store ? X509_STORE_get0_objects(store) : NULL;
    for (int i = 0; objs && i < sk_X509_OBJECT_num(objs); i++) {
        X509 *ca = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));
        int64_t na = ca ? s_not_after(ca) : 0;
        if (na && (!out->ca_not_after || na < out->ca_not_after))
            out->ca_not_after = na;
    }
}

static bool s_warn_one(const char *listener, const char *what, const char *file, int64_t not_after,
                       int64_t now_s, int64_t warn_s, struct buf *text)
{
    if (!not_after || not_after - now_s > warn_s)
        return false;
    bool expired = not_after <= now_s;
    char when[32] = "";
    time_t t = (time_t)not_after;
    struct tm tm;
    if (gmtime_r(&t, &tm))
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (!text)
        log_event(LOG_WARN, expired ? "tls_certificate_expired" : "tls_certificate_expiring",
                  json_pack("{s:s,s:s,s:s,s:s,s:I}", "listener", listener, "certificate", what,
                            "file", file, "not_after", when, "seconds_left",
                            (json_int_t)(not_after - now_s)));
    else
        buf_appendf(text, "warning: %s.tls %s (%s) %s %s\n", listener, what, file,
                    expired ? "expired at" : "expires at", when);
    return expired;
}

bool tls_server_warn_expiry(const char *listener, const struct config_tls *t,
                            const struct tls_server_expiry *e, int64_t now_s, int64_t warn_s,
                            struct buf *text)
{
    bool expired =
        s_warn_one(listener, "certificate", t->cert_file, e->cert_not_after, now_s, warn_s, text);
    if (t->client_ca_file[0])
        (void)s_warn_one(listener, "client CA", t->client_ca_file, e->ca_not_after, now_s, warn_s,
                         text);
    return expired;
}

X509 *tls_server_verified_peer(SSL *ssl)
{
    if (!ssl)
        return NULL;
    X509 *peer = SSL_get0_peer_certificate(ssl);
    if (!peer || SSL_get_verify_result(ssl) != X509_V_OK)
        return NULL;
    /* SSL_VERIFY_NONE also yields X509_V_OK: a certificate only counts when
     * the context actually verified it. */
    if (!(SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER))
        return NULL;
    return peer;
}

int tls_server_peer_identity(SSL *ssl, struct peer_identity *out)
{
    X509 *peer = tls_server_verified_peer(ssl);
    return peer ? peer_identity_from_x509(out, peer) : 0;
}
