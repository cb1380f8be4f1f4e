/*
 * config - JSON config file + AWS environment -> struct config.
 * See config.h. Only I/O: reading the file.
 */
#include "config.h"
#include "config_table.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peer_identity.h"
#include "ratelimit.h"

struct s_ctx {
    const char *name;
    struct buf *err;
};

static int s_fail(struct s_ctx *c, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int s_fail(struct s_ctx *c, const char *key, const char *fmt, ...)
{
    buf_appendf(c->err, "%s: %s: ", c->name, key);
    va_list ap;
    va_start(ap, fmt);
    buf_vappendf(c->err, fmt, ap);
    va_end(ap);
    return -1;
}

/* Every key of obj must be in allowed (NULL-terminated). */
static int s_check_keys(struct s_ctx *c, json_t *obj, const char *path, const char *const *allowed)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        (void)v;
        int ok = 0;
        for (const char *const *a = allowed; *a; a++) {
            if (strcmp(*a, k) == 0)
                ok = 1;
        }
        if (!ok) {
            char full[256];
            snprintf(full, sizeof(full), "%s%s%s", path, *path ? "." : "", k);
            return s_fail(c, full, "unknown key");
        }
    }
    return 0;
}

/* Unknown keys of obj (at path "" for the top level, or a section name)
 * are errors; the known ones are those of config_table. */
static int s_check_section(struct s_ctx *c, json_t *obj, const char *section)
{
    size_t sl = strlen(section);
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        (void)v;
        size_t kl = strlen(k);
        bool ok = false;
        for (size_t i = 0; i < config_n_keys && !ok; i++) {
            const char *p = config_keys[i].path;
            if (sl) {
                if (strncmp(p, section, sl) != 0 || p[sl] != '.')
                    continue;
                p += sl + 1;
            }
            ok = strncmp(p, k, kl) == 0 && (p[kl] == '\0' || p[kl] == '.');
        }
        if (!ok) {
            char full[256];
            snprintf(full, sizeof(full), "%s%s%s", section, sl ? "." : "", k);
            return s_fail(c, full, "unknown key");
        }
    }
    return 0;
}

static int s_object(struct s_ctx *c, json_t *parent, const char *key, const char *path,
                    json_t **out)
{
    *out = json_object_get(parent, key);
    if (*out && !json_is_object(*out))
        return s_fail(c, path, "must be an object");
    return 0;
}

static int s_string(struct s_ctx *c, json_t *obj, const char *key, const char *path, char *out,
                    size_t out_len)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    if (!json_is_string(v))
        return s_fail(c, path, "must be a string");
    const char *s = json_string_value(v);
    if (strlen(s) >= out_len)
        return s_fail(c, path, "too long (at most %zu characters)", out_len - 1);
    if (memchr(s, '\0', json_string_length(v)))
        return s_fail(c, path, "must not contain NUL");
    snprintf(out, out_len, "%s", s);
    return 0;
}

static int s_int(struct s_ctx *c, json_t *obj, const char *key, const char *path, int64_t min,
                 int64_t max, int64_t *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    if (!json_is_integer(v))
        return s_fail(c, path, "must be an integer");
    json_int_t n = json_integer_value(v);
    if (n < min || n > max)
        return s_fail(c, path, "must be between %lld and %lld, got %lld", (long long)min,
                      (long long)max, (long long)n);
    *out = n;
    return 0;
}

static int s_size(struct s_ctx *c, json_t *obj, const char *key, const char *path, int64_t min,
                  int64_t max, size_t *out)
{
    int64_t v = (int64_t)*out;
    if (s_int(c, obj, key, path, min, max, &v) != 0)
        return -1;
    *out = (size_t)v;
    return 0;
}

int config_split_host_port(const char *s, char *host, size_t host_len, int *port)
{
    const char *colon;
    const char *h = s;
    size_t hl;
    if (*s == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':')
            return -1;
        h = s + 1;
        hl = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon)
            return -1;
        hl = (size_t)(colon - s);
        if (memchr(s, ':', hl))
            return -1; /* bare IPv6 needs brackets */
    }
    if (hl == 0 || hl >= host_len)
        return -1;
    const char *p = colon + 1;
    if (!*p || strlen(p) > 5)
        return -1;
    int n = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        n = n * 10 + (*p - '0');
    }
    if (n > 65535)
        return -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = n;
    return 0;
}

static int s_listen(struct s_ctx *c, json_t *obj, const char *path, char *out, size_t out_len)
{
    if (s_string(c, obj, "listen", path, out, out_len) != 0)
        return -1;
    char host[256];
    int port;
    if (config_split_host_port(out, host, sizeof(host), &port) != 0)
        return s_fail(c, path, "must be host:port (port 0-65535; IPv6 as [addr]:port), got \"%s\"",
                      out);
    return 0;
}

static int s_number(struct s_ctx *c, json_t *obj, const char *key, const char *path, double min,
                    double max, double *out);

/* Every scalar key of config_table present in root, into its field, with
 * its type and range checked. Sections that are not objects are left to
 * their own loaders (s_object reports them). */
static int s_load_table(struct s_ctx *c, json_t *root, struct config *cfg)
{
    for (size_t i = 0; i < config_n_keys; i++) {
        const struct config_key *k = &config_keys[i];
        if (k->type == CK_CUSTOM)
            continue;
        const char *dot = strchr(k->path, '.');
        char section[32];
        snprintf(section, sizeof(section), "%.*s", (int)(dot - k->path), k->path);
        json_t *sec = json_object_get(root, section);
        if (!sec || !json_is_object(sec))
            continue;
        const char *name = dot + 1;
        char *field = (char *)cfg + k->offset;
        int64_t v64 = 0;
        switch (k->type) {
        case CK_INT:
            v64 = *(int64_t *)(void *)field;
            if (s_int(c, sec, name, k->path, k->min, k->max, &v64) != 0)
                return -1;
            *(int64_t *)(void *)field = v64;
            break;
        case CK_SIZE:
            if (s_size(c, sec, name, k->path, k->min, k->max, (size_t *)(void *)field) != 0)
                return -1;
            break;
        case CK_BOOL: {
            json_t *b = json_object_get(sec, name);
            if (b && !json_is_boolean(b))
                return s_fail(c, k->path, "must be true or false");
            if (b)
                *(bool *)(void *)field = json_is_true(b);
            break;
        }
        case CK_NUMBER:
            if (s_number(c, sec, name, k->path, (double)k->min, (double)k->max,
                         (double *)(void *)field) != 0)
                return -1;
            break;
        case CK_STRING:
            if (s_string(c, sec, name, k->path, field, k->size) != 0)
                return -1;
            break;
        case CK_LISTEN:
            if (s_listen(c, sec, k->path, field, k->size) != 0)
                return -1;
            break;
        case CK_CUSTOM:
            break;
        }
    }
    return 0;
}

/* path: "grpc.tls" or "http.tls" */
static int s_load_tls(struct s_ctx *c, json_t *parent, const char *path, struct config_tls *t)
{
    json_t *o = json_object_get(parent, "tls");
    if (!o)
        return 0;
    if (!json_is_object(o))
        return s_fail(c, path, "must be an object");
    char kp[5][64];
    snprintf(kp[4], sizeof(kp[4]), "%s.expiry_warning_days", path);
    t->expiry_warning_days = CONFIG_DEFAULT_TLS_EXPIRY_WARNING_DAYS;
    snprintf(kp[0], sizeof(kp[0]), "%s.cert_file", path);
    snprintf(kp[1], sizeof(kp[1]), "%s.key_file", path);
    snprintf(kp[2], sizeof(kp[2]), "%s.client_ca_file", path);
    snprintf(kp[3], sizeof(kp[3]), "%s.require_client_cert", path);
    if (s_check_section(c, o, path) != 0 ||
        s_string(c, o, "cert_file", kp[0], t->cert_file, sizeof(t->cert_file)) != 0 ||
        s_string(c, o, "key_file", kp[1], t->key_file, sizeof(t->key_file)) != 0 ||
        s_string(c, o, "client_ca_file", kp[2], t->client_ca_file, sizeof(t->client_ca_file)) !=
            0 ||
        s_int(c, o, "expiry_warning_days", kp[4], 0, 3650, &t->expiry_warning_days) != 0)
        return -1;
    json_t *req = json_object_get(o, "require_client_cert");
    if (req) {
        if (!json_is_boolean(req))
            return s_fail(c, kp[3], "must be true or false");
        t->require_client_cert = json_is_true(req);
    }
    if (!t->cert_file[0] || !t->key_file[0])
        return s_fail(c, path, "cert_file and key_file are both required");
    if (t->require_client_cert && !t->client_ca_file[0])
        return s_fail(c, kp[3], "requires client_ca_file");
    return 0;
}

static int s_load_grpc(struct s_ctx *c, json_t *root, struct config *cfg)
{
    json_t *g;
    if (s_object(c, root, "grpc", "grpc", &g) != 0)
        return -1;
    if (!g)
        return 0;
    return s_check_section(c, g, "grpc") != 0 || s_load_tls(c, g, "grpc.tls", &cfg->grpc_tls) != 0
               ? -1
               : 0;
}

static int s_origin_ok(const char *o)
{
    if (strcmp(o, "*") == 0)
        return 1;
    if (strncmp(o, "http://", 7) != 0 && strncmp(o, "https://", 8) != 0)
        return 0;
    const char *host = strstr(o, "://") + 3;
    if (!*host || strchr(host, '/') || strchr(host, '?') || strchr(host, '#'))
        return 0;
    for (const char *p = o; *p; p++) {
        if (*p <= ' ' || *p >= 127)
            return 0;
    }
    return 1;
}

static int s_load_http(struct s_ctx *c, json_t *root, struct config *cfg)
{
    json_t *h;
    if (s_object(c, root, "http", "http", &h) != 0)
        return -1;
    if (!h)
        return 0;
    if (s_check_section(c, h, "http") != 0 || s_load_tls(c, h, "http.tls", &cfg->http_tls) != 0)
        return -1;
    json_t *origins = json_object_get(h, "cors_allowed_origins");
    if (!origins)
        return 0;
    if (!json_is_array(origins))
        return s_fail(c, "http.cors_allowed_origins", "must be an array of origins");
    size_t n = json_array_size(origins);
    cfg->cors_origins = calloc(n ? n : 1, sizeof(char *));
    if (!cfg->cors_origins)
        return s_fail(c, "http.cors_allowed_origins", "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(origins, i);
        char path[64];
        snprintf(path, sizeof(path), "http.cors_allowed_origins[%zu]", i);
        if (!json_is_string(o) || !s_origin_ok(json_string_value(o)))
            return s_fail(c, path,
                          "must be \"*\" or an origin like \"https://app.example.com[:port]\"");
        if (strcmp(json_string_value(o), "*") == 0 && cfg->cors_allow_credentials)
            return s_fail(c, path, "\"*\" cannot be combined with cors_allow_credentials");
        if (strcmp(json_string_value(o), "*") == 0 && n > 1)
            return s_fail(c, path, "\"*\" must be the only entry (it allows every origin)");
        cfg->cors_origins[i] = strdup(json_string_value(o));
        /* Scheme and host are case-insensitive: kept lower case, the form a
         * browser sends and expects echoed; a port stays as written. */
        for (char *p = cfg->cors_origins[i]; p && *p; p++) {
            if (*p == ':' && p[1] != '/') /* the port */
                break;
            *p = (char)tolower((unsigned char)*p);
        }
        if (!cfg->cors_origins[i])
            return s_fail(c, path, "out of memory");
        cfg->n_cors_origins = i + 1;
    }
    return 0;
}

static int s_load_aws(struct s_ctx *c, json_t *root, const struct config_env *env,
                      struct config *cfg)
{
    json_t *a;
    char endpoint[512] = "";
    if (s_object(c, root, "aws", "aws", &a) != 0)
        return -1;
    if (a) {
        if (s_check_section(c, a, "aws") != 0 ||
            s_string(c, a, "endpoint", "aws.endpoint", endpoint, sizeof(endpoint)) != 0)
            return -1;
    }
    const char *region_key = "aws.region";
    const char *env_region = NULL;
    if (env->region && *env->region) {
        env_region = env->region;
        region_key = "AWS_REGION";
    } else if (env->default_region && *env->default_region) {
        env_region = env->default_region;
        region_key = "AWS_DEFAULT_REGION";
    }
    /* Too long is an error: truncating would pick a different region. */
    if (env_region && strlen(env_region) >= sizeof(cfg->region))
        return s_fail(c, region_key, "too long (at most %zu characters)", sizeof(cfg->region) - 1);
    if (env_region)
        snprintf(cfg->region, sizeof(cfg->region), "%s", env_region);
    if (!cfg->region[0])
        return s_fail(c, "aws.region", "required (or set AWS_REGION / AWS_DEFAULT_REGION)");
    for (const char *p = cfg->region; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
            return s_fail(c, region_key, "\"%s\" is not a region name ([a-z0-9-]+)", cfg->region);
    }
    const char *ep_key = "aws.endpoint";
    cfg->endpoint_source = endpoint[0] ? "config" : "default";
    const char *env_endpoint = NULL;
    if (env->endpoint_url_bedrock && *env->endpoint_url_bedrock) {
        env_endpoint = env->endpoint_url_bedrock;
        ep_key = cfg->endpoint_source = "AWS_ENDPOINT_URL_BEDROCK";
    } else if (env->endpoint_url && *env->endpoint_url) {
        env_endpoint = env->endpoint_url;
        ep_key = cfg->endpoint_source = "AWS_ENDPOINT_URL";
    }
    /* Too long is an error: truncating could yield another valid URL. */
    if (env_endpoint && strlen(env_endpoint) >= sizeof(endpoint))
        return s_fail(c, ep_key, "too long (at most %zu characters)", sizeof(endpoint) - 1);
    if (env_endpoint)
        snprintf(endpoint, sizeof(endpoint), "%s", env_endpoint);
    if (endpoint[0]) {
        char why[200];
        if (bedrock_endpoint_parse(endpoint, &cfg->endpoint, why, sizeof(why)) != 0)
            return s_fail(c, ep_key, "invalid endpoint URL: %s", why);
        snprintf(cfg->endpoint_url, sizeof(cfg->endpoint_url), "%s", endpoint);
    } else if (bedrock_endpoint_default(cfg->region, &cfg->endpoint) != 0) {
        return s_fail(c, region_key, "cannot derive the Bedrock endpoint");
    } else {
        snprintf(cfg->endpoint_url, sizeof(cfg->endpoint_url), "https://bedrock.%s.amazonaws.com",
                 cfg->region);
    }
    return 0;
}

static int s_load_gateway(struct s_ctx *c, json_t *root, struct config *cfg)
{
    json_t *g;
    if (s_object(c, root, "gateway", "gateway", &g) != 0)
        return -1;
    if (!g)
        return 0;
    if (s_check_section(c, g, "gateway") != 0)
        return -1;
    if (strcmp(cfg->log_level, "debug") && strcmp(cfg->log_level, "info") &&
        strcmp(cfg->log_level, "warn") && strcmp(cfg->log_level, "error"))
        return s_fail(c, "gateway.log_level", "must be debug, info, warn or error");
    return 0;
}

static int s_load_cache(struct s_ctx *c, json_t *root, struct config *cfg)
{
    json_t *o;
    if (s_object(c, root, "cache", "cache", &o) != 0)
        return -1;
    if (!o)
        return 0;
    if (s_check_section(c, o, "cache") != 0)
        return -1;
    if (cfg->cache.max_entry_bytes > cfg->cache.max_bytes)
        return s_fail(c, "cache.max_entry_bytes", "must not exceed cache.max_bytes");
    return 0;
}

/* One secret of "tokens": exactly one of <name> (inline), <name>_file (its
 * contents, one trailing newline dropped) or <name>_env (an environment
 * variable, read here with getenv: unlike the AWS variables its name comes
 * from the file). The value is never echoed in a message. */
static int s_token_secret(struct s_ctx *c, json_t *t, const char *name, unsigned char *out,
                          size_t *out_len)
{
    char k_inline[48], k_file[48], k_env[48], path[96];
    snprintf(k_inline, sizeof(k_inline), "%s", name);
    snprintf(k_file, sizeof(k_file), "%s_file", name);
    snprintf(k_env, sizeof(k_env), "%s_env", name);
    json_t *vi = json_object_get(t, k_inline), *vf = json_object_get(t, k_file),
           *ve = json_object_get(t, k_env);
    snprintf(path, sizeof(path), "tokens.%s", name);
    if ((vi != NULL) + (vf != NULL) + (ve != NULL) > 1)
        return s_fail(c, path, "give only one of %s, %s_file and %s_env", name, name, name);
    *out_len = 0;
    if (!vi && !vf && !ve)
        return 0;
    json_t *v = vi ? vi : vf ? vf : ve;
    snprintf(path, sizeof(path), "tokens.%s", vi ? k_inline : vf ? k_file : k_env);
    if (!json_is_string(v) || json_string_length(v) == 0)
        return s_fail(c, path, "must be a non-empty string");
    const char *sv = json_string_value(v);
    char *data = NULL;
    size_t len = 0;
    int rc = -1;
    if (vi) {
        len = json_string_length(v);
        data = malloc(len + 1);
        if (data)
            memcpy(data, sv, len + 1);
    } else if (ve) {
        const char *e = getenv(sv);
        if (!e || !*e)
            return s_fail(c, path, "environment variable %s is not set", sv);
        len = strlen(e);
        data = strdup(e);
    } else {
        FILE *f = fopen(sv, "rb");
        if (!f)
            return s_fail(c, path, "cannot open %s: %s", sv, strerror(errno));
        data = malloc(PAGE_TOKEN_SECRET_MAX + 3);
        if (data)
            len = fread(data, 1, PAGE_TOKEN_SECRET_MAX + 3, f);
        fclose(f);
        if (len > 0 && data[len - 1] == '\n')
            len--;
        if (len > 0 && data[len - 1] == '\r')
            len--;
    }
    if (!data) {
        s_fail(c, path, "out of memory");
        goto cleanup;
    }
    if (len < PAGE_TOKEN_SECRET_MIN || len > PAGE_TOKEN_SECRET_MAX) {
        s_fail(c, path, "the secret must be %d to %d bytes long, got %zu", PAGE_TOKEN_SECRET_MIN,
               PAGE_TOKEN_SECRET_MAX, len);
        goto cleanup;
    }
    memcpy(out, data, len);
    *out_len = len;
    rc = 0;
cleanup:
    if (data) {
        OPENSSL_cleanse(data, len);
        free(data);
    }
    return rc;
}

static int s_load_tokens(struct s_ctx *c, json_t *root, struct config *cfg)
{
    json_t *t;
    if (s_object(c, root, "tokens", "tokens", &t) != 0)
        return -1;
    if (t) {
        if (s_check_section(c, t, "tokens") != 0 ||
            s_token_secret(c, t, "secret", cfg->tokens.secret, &cfg->tokens.secret_len) != 0 ||
            s_token_secret(c, t, "previous_secret", cfg->tokens.previous,
                           &cfg->tokens.previous_len) != 0)
            return -1;
        if (cfg->tokens.previous_len && !cfg->tokens.secret_len)
            return s_fail(c, "tokens.previous_secret", "requires tokens.secret");
    }
    if (!cfg->tokens.secret_len) {
        if (RAND_bytes(cfg->tokens.secret, 32) != 1)
            return s_fail(c, "tokens.secret", "cannot generate a random secret");
        cfg->tokens.secret_len = 32;
        cfg->tokens_ephemeral = true;
    }
    return 0;
}

static int s_number(struct s_ctx *c, json_t *obj, const char *key, const char *path, double min,
                    double max, double *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    if (!json_is_number(v))
        return s_fail(c, path, "must be a number");
    double d = json_number_value(v);
    if (d < min || d > max)
        return s_fail(c, path, "must be between %g and %g", min, max);
    *out = d;
    return 0;
}

/* redis.*: the scalars came through the table; here the URL's shape, the
 * password's source and what Redis needs of the rest. */
static int s_load_redis(struct s_ctx *c, json_t *root, struct config *cfg)
{
    json_t *o;
    if (s_object(c, root, "redis", "redis", &o) != 0)
        return -1;
    if (!o)
        return 0;
    if (s_check_section(c, o, "redis") != 0)
        return -1;
    struct config_redis *r = &cfg->redis;
    json_t *pf = json_object_get(o, "password_file"), *pe = json_object_get(o, "password_env");
    if (!r->url[0]) {
        if (json_object_size(o) == 0)
            return 0;
        return s_fail(c, "redis.url", "is required when other redis.* keys are given");
    }
    char why[160];
    if (redis_url_parse(r->url, &r->parsed, why, sizeof(why)) != 0)
        return s_fail(c, "redis.url", "%s", why);
    if (pf && pe)
        return s_fail(c, "redis.password_file", "give only one of password_file and password_env");
    if ((pf || pe) && r->parsed.password[0])
        return s_fail(c, pf ? "redis.password_file" : "redis.password_env",
                      "the URL carries a password too: give it in one place");
    if (pf || pe) {
        const char *path = pf ? "redis.password_file" : "redis.password_env";
        json_t *v = pf ? pf : pe;
        if (!json_is_string(v) || json_string_length(v) == 0)
            return s_fail(c, path, "must be a non-empty string");
        const char *sv = json_string_value(v);
        if (pe) {
            const char *e = getenv(sv);
            if (!e || !*e)
                return s_fail(c, path, "environment variable %s is not set", sv);
            if (strlen(e) >= sizeof(r->password))
                return s_fail(c, path, "the password is too long");
            snprintf(r->password, sizeof(r->password), "%s", e);
        } else {
            FILE *f = fopen(sv, "rb");
            if (!f)
                return s_fail(c, path, "cannot open %s: %s", sv, strerror(errno));
            size_t len = fread(r->password, 1, sizeof(r->password) - 1, f);
            int more = fgetc(f);
            fclose(f);
            r->password[len] = '\0';
            while (len > 0 && (r->password[len - 1] == '\n' || r->password[len - 1] == '\r'))
                r->password[--len] = '\0';
            if (more != EOF || len == 0 || strlen(r->password) != len) {
                OPENSSL_cleanse(r->password, sizeof(r->password));
                return s_fail(c, path, "%s must hold one password (1 to %zu bytes, no NUL)", sv,
                              sizeof(r->password) - 1);
            }
        }
    }
    if (r->parsed.transport != REDIS_TLS && r->ca_file[0])
        return s_fail(c, "redis.ca_file", "applies to rediss:// URLs only");
    if (cfg->tokens_ephemeral)
        return s_fail(c, "redis.url",
                      "needs tokens.secret (the same on every replica): shared values are "
                      "authenticated with a key derived from it");
    return 0;
}

static int s_load_credentials(struct s_ctx *c, json_t *root, struct config *cfg)
{
    json_t *o;
    if (s_object(c, root, "credentials", "credentials", &o) != 0)
        return -1;
    if (!o)
        return 0;
    if (s_check_section(c, o, "credentials") != 0)
        return -1;
    if (!cfg->cred_access_key_id[0] != !cfg->cred_secret_access_key[0])
        return s_fail(c, "credentials.access_key_id",
                      "access_key_id and secret_access_key go together");
    if (cfg->cred_session_token[0] && !cfg->cred_access_key_id[0])
        return s_fail(c, "credentials.session_token", "needs access_key_id and secret_access_key");
    if (cfg->cred_container_host[0] && strncmp(cfg->cred_container_host, "http://", 7) != 0 &&
        strncmp(cfg->cred_container_host, "https://", 8) != 0)
        return s_fail(c, "credentials.container_host", "must be an http(s):// URL");
    return 0;
}

static int s_load_upstream(struct s_ctx *c, json_t *root, struct config *cfg)
{
    json_t *o;
    if (s_object(c, root, "upstream", "upstream", &o) != 0)
        return -1;
    if (!o)
        return 0;
    if (s_check_section(c, o, "upstream") != 0)
        return -1;
    if (!json_object_get(o, "burst") && cfg->upstream_rate_per_s > 0)
        cfg->upstream_burst = cfg->upstream_rate_per_s < 1 ? 1 : cfg->upstream_rate_per_s;
    return 0;
}

static int s_id_ok(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > TENANT_ID_MAX)
        return 0;
    for (const char *p = id; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.'))
            return 0;
    }
    return 1;
}

/* tenants[i].mtls_subjects: client-certificate names (peer_identity.h), each
 * listed for one tenant only. */
static int s_load_tenant_mtls(struct s_ctx *c, json_t *t, size_t i, struct config *cfg)
{
    struct tenant *tn = &cfg->tenants.tenants[i];
    json_t *arr = json_object_get(t, "mtls_subjects");
    char path[96];
    snprintf(path, sizeof(path), "tenants[%zu].mtls_subjects", i);
    if (!arr)
        return 0;
    if (!json_is_array(arr) || json_array_size(arr) == 0)
        return s_fail(c, path, "must be a non-empty array like [\"CN=svc-a.internal\"]");
    size_t n = json_array_size(arr);
    tn->mtls_subjects = calloc(n, sizeof(char *));
    if (!tn->mtls_subjects)
        return s_fail(c, path, "out of memory");
    for (size_t k = 0; k < n; k++) {
        json_t *v = json_array_get(arr, k);
        const char *why = NULL;
        snprintf(path, sizeof(path), "tenants[%zu].mtls_subjects[%zu]", i, k);
        if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
            return s_fail(c, path, "must be a string");
        if (peer_identity_subject_check(json_string_value(v), &why) != 0)
            return s_fail(c, path, "%s", why);
        /* The same subject for two tenants would make a certificate ambiguous. */
        for (size_t a = 0; a <= i; a++) {
            const struct tenant *o = &cfg->tenants.tenants[a];
            size_t lim = a == i ? k : o->n_mtls_subjects;
            for (size_t b = 0; b < lim; b++) {
                if (peer_identity_subject_matches(o->mtls_subjects[b], json_string_value(v)))
                    return s_fail(c, path, "\"%s\" is already listed (tenant \"%s\")",
                                  json_string_value(v), o->id);
            }
        }
        tn->mtls_subjects[k] = strdup(json_string_value(v));
        if (!tn->mtls_subjects[k])
            return s_fail(c, path, "out of memory");
        tn->n_mtls_subjects = k + 1;
    }
    return 0;
}

/* tenants[i].rate_limit: {"rps": number > 0, "burst": integer >= 1}; absent =
 * unlimited; burst defaults to rps rounded up. */
static int s_load_tenant_rate_limit(struct s_ctx *c, json_t *t, size_t i, struct tenant *tn)
{
    json_t *o = json_object_get(t, "rate_limit");
    char path[96], kp[128];
    snprintf(path, sizeof(path), "tenants[%zu].rate_limit", i);
    if (!o)
        return 0;
    if (!json_is_object(o))
        return s_fail(c, path, "must be an object like {\"rps\": 5, \"burst\": 10}");
    static const char *const keys[] = {"rps", "burst", NULL};
    if (s_check_keys(c, o, path, keys) != 0)
        return -1;
    json_t *rps = json_object_get(o, "rps");
    snprintf(kp, sizeof(kp), "%s.rps", path);
    if (!rps || !json_is_number(rps))
        return s_fail(c, kp, "required: requests per second, a number");
    double r = json_number_value(rps);
    if (!(r >= 0.001 && r <= RATELIMIT_MAX_RPS))
        return s_fail(c, kp, "must be between 0.001 and %d", RATELIMIT_MAX_RPS);
    tn->rate_limit.rate_mrps = (int64_t)(r * 1000.0 + 0.5);
    int64_t burst = (int64_t)r;
    if ((double)burst < r)
        burst++;
    if (burst < 1)
        burst = 1;
    snprintf(kp, sizeof(kp), "%s.burst", path);
    if (s_int(c, o, "burst", kp, 1, RATELIMIT_MAX_BURST, &burst) != 0)
        return -1;
    tn->rate_limit.burst = burst;
    return 0;
}

/* mtls_subjects can only ever match when some listener asks for client
 * certificates. */
static int s_check_mtls_listeners(struct s_ctx *c, const struct config *cfg)
{
    if (cfg->grpc_tls.client_ca_file[0] || cfg->http_tls.client_ca_file[0])
        return 0;
    for (size_t i = 0; i < cfg->tenants.n_tenants; i++) {
        if (cfg->tenants.tenants[i].n_mtls_subjects > 0) {
            char path[96];
            snprintf(path, sizeof(path), "tenants[%zu].mtls_subjects", i);
            return s_fail(c, path,
                          "no listener asks for client certificates: set grpc.tls.client_ca_file "
                          "or http.tls.client_ca_file");
        }
    }
    return 0;
}

/* tenants[i].api_keys: SHA-256 digests, none shared with an earlier key. */
static int s_load_tenant_keys(struct s_ctx *c, json_t *keys_arr, size_t i, struct config *cfg)
{
    struct tenant *tn = &cfg->tenants.tenants[i];
    char path[96];
    snprintf(path, sizeof(path), "tenants[%zu].api_keys", i);
    if (!json_is_array(keys_arr) || json_array_size(keys_arr) == 0)
        return s_fail(c, path,
                      "required: a non-empty array of SHA-256 hex digests of keys "
                      "(may be omitted when mtls_subjects is set)");
    size_t nk = json_array_size(keys_arr);
    tn->key_hashes = calloc(nk, 32);
    if (!tn->key_hashes)
        return s_fail(c, path, "out of memory");
    for (size_t k = 0; k < nk; k++) {
        json_t *kv = json_array_get(keys_arr, k);
        snprintf(path, sizeof(path), "tenants[%zu].api_keys[%zu]", i, k);
        if (!json_is_string(kv) ||
            tenant_parse_key_hash(json_string_value(kv), tn->key_hashes[k]) != 0)
            return s_fail(c, path,
                          "must be the SHA-256 of the key as 64 hex digits "
                          "(printf %%s KEY | sha256sum)");
        tn->n_keys = k + 1;
        /* A hash shared by two tenants would make a key ambiguous. */
        for (size_t a = 0; a <= i; a++) {
            struct tenant *o = &cfg->tenants.tenants[a];
            size_t lim = a == i ? k : o->n_keys;
            for (size_t b = 0; b < lim; b++) {
                if (memcmp(o->key_hashes[b], tn->key_hashes[k], 32) == 0)
                    return s_fail(c, path, "the same key is already listed (tenant \"%s\")", o->id);
            }
        }
    }
    return 0;
}

/* One of <obj>.secret, .secret_file (one trailing newline dropped) or
 * .secret_env, as a heap string of min..max printable bytes; never echoed.
 * path names obj in messages. */
static int s_secret_source(struct s_ctx *c, json_t *obj, const char *path, size_t min, size_t max,
                           char **out)
{
    json_t *vi = json_object_get(obj, "secret"), *vf = json_object_get(obj, "secret_file"),
           *ve = json_object_get(obj, "secret_env");
    if ((vi != NULL) + (vf != NULL) + (ve != NULL) != 1)
        return s_fail(c, path, "give exactly one of secret, secret_file and secret_env");
    json_t *v = vi ? vi : vf ? vf : ve;
    const char *which = vi ? "secret" : vf ? "secret_file" : "secret_env";
    if (!json_is_string(v) || json_string_length(v) == 0)
        return s_fail(c, path, "%s must be a non-empty string", which);
    const char *sv = json_string_value(v);
    char *data = NULL;
    size_t len = 0;
    if (vi) {
        data = strdup(sv);
    } else if (ve) {
        const char *e = getenv(sv);
        if (!e || !*e)
            return s_fail(c, path, "environment variable %s is not set", sv);
        data = strdup(e);
    } else {
        FILE *f = fopen(sv, "rb");
        if (!f)
            return s_fail(c, path, "cannot open %s: %s", sv, strerror(errno));
        data = calloc(1, max + 3);
        if (data)
            len = fread(data, 1, max + 2, f);
        fclose(f);
        if (data) {
            data[len] = '\0';
            if (len > 0 && data[len - 1] == '\n')
                data[--len] = '\0';
            if (len > 0 && data[len - 1] == '\r')
                data[--len] = '\0';
        }
    }
    if (!data)
        return s_fail(c, path, "out of memory");
    len = strlen(data);
    bool printable = true;
    for (size_t i = 0; i < len; i++)
        printable &= data[i] > 0x20 && data[i] < 0x7f;
    if (len < min || len > max || !printable) {
        OPENSSL_cleanse(data, len);
        free(data);
        return s_fail(c, path, "the secret must be %zu to %zu printable characters without spaces",
                      min, max);
    }
    *out = data;
    return 0;
}

/* tenants[i].aws_access_keys: [{access_key_id, secret | secret_file |
 * secret_env}], ids unique across tenants. */
static int s_load_tenant_aws_keys(struct s_ctx *c, json_t *arr, size_t i, struct config *cfg)
{
    struct tenant *tn = &cfg->tenants.tenants[i];
    char path[128];
    snprintf(path, sizeof(path), "tenants[%zu].aws_access_keys", i);
    if (!json_is_array(arr) || json_array_size(arr) == 0)
        return s_fail(c, path, "must be a non-empty array of {access_key_id, secret_file}");
    size_t n = json_array_size(arr);
    tn->aws_keys = calloc(n, sizeof(*tn->aws_keys));
    if (!tn->aws_keys)
        return s_fail(c, path, "out of memory");
    for (size_t k = 0; k < n; k++) {
        json_t *o = json_array_get(arr, k);
        snprintf(path, sizeof(path), "tenants[%zu].aws_access_keys[%zu]", i, k);
        static const char *const keys[] = {"access_key_id", "secret", "secret_file", "secret_env",
                                           NULL};
        if (!json_is_object(o))
            return s_fail(c, path, "must be an object");
        if (s_check_keys(c, o, path, keys) != 0)
            return -1;
        struct tenant_aws_key *ak = &tn->aws_keys[k];
        json_t *id = json_object_get(o, "access_key_id");
        const char *ids = json_is_string(id) ? json_string_value(id) : "";
        size_t il = strlen(ids);
        bool ok = il >= TENANT_AWS_KEY_ID_MIN && il <= TENANT_AWS_KEY_ID_MAX;
        for (size_t j = 0; j < il && ok; j++)
            ok = (ids[j] >= 'A' && ids[j] <= 'Z') || (ids[j] >= '0' && ids[j] <= '9');
        if (!ok) {
            snprintf(path, sizeof(path), "tenants[%zu].aws_access_keys[%zu].access_key_id", i, k);
            return s_fail(c, path, "required: %d-%d upper-case letters and digits",
                          TENANT_AWS_KEY_ID_MIN, TENANT_AWS_KEY_ID_MAX);
        }
        memcpy(ak->access_key_id, ids, il + 1);
        const char *other_secret;
        const struct tenant *dup = tenant_find_aws_key(&cfg->tenants, ids, &other_secret);
        if (dup) { /* this tenant's earlier keys included (n_aws_keys = k) */
            snprintf(path, sizeof(path), "tenants[%zu].aws_access_keys[%zu].access_key_id", i, k);
            return s_fail(c, path, "the key id is already listed (tenant \"%s\")", dup->id);
        }
        if (s_secret_source(c, o, path, TENANT_AWS_SECRET_MIN, TENANT_AWS_SECRET_MAX,
                            &ak->secret) != 0)
            return -1;
        tn->n_aws_keys = k + 1;
    }
    return 0;
}

static int s_load_tenants(struct s_ctx *c, json_t *root, struct config *cfg)
{
    json_t *ts = json_object_get(root, "tenants");
    if (!ts || !json_is_array(ts) || json_array_size(ts) == 0)
        return s_fail(c, "tenants", "required: a non-empty array of tenants");
    size_t n = json_array_size(ts);
    cfg->tenants.tenants = calloc(n, sizeof(struct tenant));
    if (!cfg->tenants.tenants)
        return s_fail(c, "tenants", "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_t *t = json_array_get(ts, i);
        char path[96];
        snprintf(path, sizeof(path), "tenants[%zu]", i);
        if (!json_is_object(t))
            return s_fail(c, path, "must be an object");
        static const char *const keys[] = {
            "id", "api_keys", "mtls_subjects", "rate_limit", "policy", "aws_access_keys", NULL};
        if (s_check_keys(c, t, path, keys) != 0)
            return -1;
        struct tenant *tn = &cfg->tenants.tenants[i];
        cfg->tenants.n_tenants = i + 1;
        json_t *id = json_object_get(t, "id");
        snprintf(path, sizeof(path), "tenants[%zu].id", i);
        if (!json_is_string(id) || !s_id_ok(json_string_value(id)))
            return s_fail(c, path, "required: 1-%d characters of [A-Za-z0-9._-]", TENANT_ID_MAX);
        snprintf(tn->id, sizeof(tn->id), "%s", json_string_value(id));
        for (size_t j = 0; j < i; j++) {
            if (strcmp(cfg->tenants.tenants[j].id, tn->id) == 0)
                return s_fail(c, path, "duplicate tenant id \"%s\"", tn->id);
        }
        if (s_load_tenant_mtls(c, t, i, cfg) != 0 || s_load_tenant_rate_limit(c, t, i, tn) != 0)
            return -1;
        json_t *aws_arr = json_object_get(t, "aws_access_keys");
        if (aws_arr && s_load_tenant_aws_keys(c, aws_arr, i, cfg) != 0)
            return -1;
        json_t *keys_arr = json_object_get(t, "api_keys");
        /* A tenant authenticated by client certificates or AWS keys alone
         * needs no API key. */
        if ((keys_arr || (tn->n_mtls_subjects == 0 && tn->n_aws_keys == 0)) &&
            s_load_tenant_keys(c, keys_arr, i, cfg) != 0)
            return -1;
        snprintf(path, sizeof(path), "tenants[%zu].policy", i);
        struct buf perr;
        buf_init(&perr, 1024);
        int prc = policy_parse_json(json_object_get(t, "policy"), path, &tn->policy, &perr);
        if (prc != 0)
            buf_appendf(c->err, "%s: %s", c->name, perr.data ? perr.data : path);
        buf_clean_up(&perr);
        if (prc != 0)
            return -1;
    }
    return 0;
}

static void s_defaults(struct config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < config_n_keys; i++) {
        const struct config_key *k = &config_keys[i];
        char *field = (char *)cfg + k->offset;
        switch (k->type) {
        case CK_INT:
            *(int64_t *)(void *)field = k->def;
            break;
        case CK_SIZE:
            *(size_t *)(void *)field = (size_t)k->def;
            break;
        case CK_BOOL:
            *(bool *)(void *)field = k->def != 0;
            break;
        case CK_NUMBER:
            *(double *)(void *)field = (double)k->def;
            break;
        case CK_STRING:
        case CK_LISTEN:
            snprintf(field, k->size, "%s", k->def_str ? k->def_str : "");
            break;
        case CK_CUSTOM:
            break;
        }
    }
}

int config_load_string(const char *json_text, const char *name, const struct config_env *env,
                       struct config *out, struct buf *err)
{
    struct s_ctx c = {name, err};
    s_defaults(out);
    json_error_t jerr;
    json_t *root = json_loads(json_text, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        buf_appendf(err, "%s: line %d column %d: %s", name, jerr.line, jerr.column, jerr.text);
        return -1;
    }
    int rc = -1;
    if (!json_is_object(root)) {
        s_fail(&c, "(top level)", "must be a JSON object");
        goto cleanup;
    }
    if (s_check_section(&c, root, "") != 0 || s_load_table(&c, root, out) != 0 ||
        s_load_grpc(&c, root, out) != 0 || s_load_http(&c, root, out) != 0 ||
        s_load_aws(&c, root, env, out) != 0 || s_load_gateway(&c, root, out) != 0 ||
        s_load_tokens(&c, root, out) != 0 || s_load_cache(&c, root, out) != 0 ||
        s_load_redis(&c, root, out) != 0 || s_load_tenants(&c, root, out) != 0 ||
        s_check_mtls_listeners(&c, out) != 0 || s_load_credentials(&c, root, out) != 0 ||
        s_load_upstream(&c, root, out) != 0)
        goto cleanup;
    rc = 0;
cleanup:
    json_decref(root);
    if (rc != 0)
        config_clean_up(out);
    return rc;
}

int config_load(const char *path, const struct config_env *env, struct config *out, struct buf *err)
{
    int rc = -1;
    struct buf text;
    buf_init(&text, 4u << 20);
    FILE *f = fopen(path, "rb");
    s_defaults(out);
    if (!f) {
        buf_appendf(err, "%s: cannot open: %s", path, strerror(errno));
        goto cleanup;
    }
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (buf_append(&text, chunk, n) != 0) {
            buf_appendf(err, "%s: too large (over 4 MiB)", path);
            goto cleanup;
        }
    }
    if (ferror(f)) {
        buf_appendf(err, "%s: read error", path);
        goto cleanup;
    }
    if (!text.data)
        buf_append_str(&text, "");
    rc = config_load_string(text.data, path, env, out, err);
cleanup:
    if (f)
        fclose(f);
    buf_clean_up(&text);
    return rc;
}

void config_clean_up(struct config *c)
{
    for (size_t i = 0; i < c->n_cors_origins; i++)
        free(c->cors_origins[i]);
    free(c->cors_origins);
    c->cors_origins = NULL;
    c->n_cors_origins = 0;
    tenant_table_clean_up(&c->tenants);
    page_token_keys_clean_up(&c->tokens);
    OPENSSL_cleanse(c->redis.password, sizeof(c->redis.password));
    OPENSSL_cleanse(c->redis.parsed.password, sizeof(c->redis.parsed.password));
    OPENSSL_cleanse(c->redis.url, sizeof(c->redis.url));
    c->tokens_ephemeral = false;
    OPENSSL_cleanse(c->cred_secret_access_key, sizeof(c->cred_secret_access_key));
    OPENSSL_cleanse(c->cred_session_token, sizeof(c->cred_session_token));
}

/* Whether the request's Origin names the configured origin o (kept lower
 * case by the config): scheme and host compare case-insensitively, the
 * port (and anything after the host) exactly. */
bool config_origin_matches(const char *o, const char *origin)
{
    const char *sep = strstr(o, "://");
    if (!sep)
        return false;
    size_t head = (size_t)(sep - o) + 3;
    if (strncasecmp(o, origin, head) != 0)
        return false;
    const char *oh = o + head, *gh = origin + head;
    size_t on = strcspn(oh, ":"), gn = strcspn(gh, ":");
    return on == gn && strncasecmp(oh, gh, on) == 0 && strcmp(oh + on, gh + gn) == 0;
}
