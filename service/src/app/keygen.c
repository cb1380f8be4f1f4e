/*
 * keygen - see keygen.h.
 */
#include "keygen.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tenant.h"

#define S_AKID_LEN 20
#define S_SECRET_LEN 40
#define S_API_KEY_LEN 40

static void s_usage(FILE *f)
{
    fprintf(f, "usage: bedrockgw keygen --tenant ID [--out-dir DIR] [--print-secrets]\n"
               "  writes DIR/ID.aws-secret and DIR/ID.api-key (mode 0600, never overwritten;\n"
               "  DIR defaults to the current directory) and prints the tenant's config\n"
               "  snippet; --print-secrets also prints the secrets (for a secret manager)\n");
}

/* n characters drawn uniformly from alphabet (no modulo bias). 0 or -1. */
static int s_random_text(char *out, size_t n, const char *alphabet)
{
    size_t a = strlen(alphabet);
    unsigned limit = 256 - 256 % (unsigned)a;
    size_t i = 0;
    while (i < n) {
        unsigned char r[64];
        if (RAND_bytes(r, sizeof(r)) != 1)
            return -1;
        for (size_t j = 0; j < sizeof(r) && i < n; j++)
            if (r[j] < limit)
                out[i++] = alphabet[r[j] % a];
        OPENSSL_cleanse(r, sizeof(r));
    }
    out[n] = '\0';
    return 0;
}

/* Creates path (0600, O_EXCL) holding text and a newline. 0 or -1. */
static int s_write_secret(const char *path, const char *text, FILE *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(err, "bedrockgw keygen: cannot create %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t len = strlen(text);
    bool ok = fchmod(fd, 0600) == 0 && write(fd, text, len) == (ssize_t)len &&
              write(fd, "\n", 1) == 1 && fsync(fd) == 0;
    if (close(fd) != 0 || !ok) {
        fprintf(err, "bedrockgw keygen: cannot write %s: %s\n", path, strerror(errno));
        unlink(path);
        return -1;
    }
    return 0;
}

static bool s_id_ok(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > TENANT_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

int keygen_main(int argc, char **argv, FILE *out, FILE *err)
{
    const char *tenant = NULL, *dir = ".";
    bool print = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--tenant") == 0 && i + 1 < argc) {
            tenant = argv[++i];
        } else if (strcmp(argv[i], "--out-dir") == 0 && i + 1 < argc) {
            dir = argv[++i];
        } else if (strcmp(argv[i], "--print-secrets") == 0) {
            print = true;
        } else if (strcmp(argv[i], "--help") == 0) {
            s_usage(out);
            return 0;
        } else {
            s_usage(err);
            return 2;
        }
    }
    if (!tenant || !s_id_ok(tenant)) {
        fprintf(err, "bedrockgw keygen: --tenant takes 1-%d characters of [A-Za-z0-9._-]\n",
                TENANT_ID_MAX);
        return 2;
    }
    char absdir[PATH_MAX];
    if (!realpath(dir, absdir)) {
        fprintf(err, "bedrockgw keygen: %s: %s\n", dir, strerror(errno));
        return 1;
    }
    char akid[S_AKID_LEN + 1], secret[S_SECRET_LEN + 1], api_key[S_API_KEY_LEN + 1];
    memcpy(akid, "BGW", 3);
    int rc = 1;
    if (s_random_text(akid + 3, S_AKID_LEN - 3, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != 0 ||
        s_random_text(secret, S_SECRET_LEN,
                      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") != 0 ||
        s_random_text(api_key, S_API_KEY_LEN,
                      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") != 0) {
        fprintf(err, "bedrockgw keygen: no randomness\n");
        goto cleanup;
    }
    char secret_path[PATH_MAX + 80], key_path[PATH_MAX + 80];
    snprintf(secret_path, sizeof(secret_path), "%s/%s.aws-secret", absdir, tenant);
    snprintf(key_path, sizeof(key_path), "%s/%s.api-key", absdir, tenant);
    if (s_write_secret(secret_path, secret, err) != 0)
        goto cleanup;
    if (s_write_secret(key_path, api_key, err) != 0) {
        unlink(secret_path);
        goto cleanup;
    }
    unsigned char digest[32];
    unsigned int dl = 0;
    char hex[65];
    if (EVP_Digest(api_key, strlen(api_key), digest, &dl, EVP_sha256(), NULL) != 1)
        goto cleanup;
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    fprintf(out,
            "{\n"
            "  \"id\": \"%s\",\n"
            "  \"api_keys\": [\"%s\"],\n"
            "  \"aws_access_keys\": [{\"access_key_id\": \"%s\", \"secret_file\": \"%s\"}]\n"
            "}\n",
            tenant, hex, akid, secret_path);
    fprintf(err,
            "bedrockgw keygen: tenant %s: add the snippet above to \"tenants\" (keep policy and "
            "rate_limit), then SIGHUP the gateway.\n"
            "  AWS access key id: %s (secret in %s)\n"
            "  API key: in %s (the config holds only its SHA-256)\n",
            tenant, akid, secret_path, key_path);
    if (print)
        fprintf(out, "AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\nBEDROCKGW_API_KEY=%s\n", akid,
                secret, api_key);
    rc = 0;
cleanup:
    OPENSSL_cleanse(secret, sizeof(secret));
    OPENSSL_cleanse(api_key, sizeof(api_key));
    return rc;
}
