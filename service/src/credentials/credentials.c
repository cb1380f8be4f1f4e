/*
 * credentials - the AWS credential provider chain and its refresh. See
 * credentials.h. Choosing the source reads env and files (at creation);
 * fetching runs on the loop through upstream_http; the schedule comes from
 * credentials_policy. Loop thread only.
 */
#include "credentials.h"

#include <errno.h>
#include <event2/event.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "bedrock_client.h"
#include "buf.h"
#include "clock.h"
#include "credentials_parse.h"
#include "log.h"
#include "sigv4.h"
#include "upstream_http.h"

#define S_MAX_ROLES 4
#define S_FILE_MAX (1u << 20)     /* shared files, token files */
#define S_MAX_BODY (256u * 1024u) /* STS / container / IMDS replies */
#define S_IMDS_TOKEN_TTL_S 21600
#define S_DEFAULT_CONTAINER_HOST "http://169.254.170.2"
#define S_DEFAULT_IMDS "http://169.254.169.254"

enum s_source {
    SRC_CONFIG,
    SRC_ENV,
    SRC_PROFILE,
    SRC_ASSUME_ROLE,
    SRC_WEB_IDENTITY,
    SRC_CONTAINER,
    SRC_IMDS,
};

static const char *const s_names[] = {
    [SRC_CONFIG] = "config",
    [SRC_ENV] = "environment",
    [SRC_PROFILE] = "profile",
    [SRC_ASSUME_ROLE] = "assume_role",
    [SRC_WEB_IDENTITY] = "web_identity",
    [SRC_CONTAINER] = "container",
    [SRC_IMDS] = "imds",
};

/* Where the first link of an assume_role chain gets its credentials. */
enum s_base {
    BASE_KEYS,         /* static keys: a profile's, or the environment's (credential_source) */
    BASE_WEB_IDENTITY, /* roles[0] via AssumeRoleWithWebIdentity (web_identity_token_file) */
    BASE_CONTAINER,    /* credential_source = EcsContainer */
    BASE_IMDS,         /* credential_source = Ec2InstanceMetadata */
};

struct s_role {
    char *arn;
    char *session_name;
    char *external_id;
    long duration_s; /* 0 = STS default */
};

struct credentials_wait {
    struct credentials_provider *p;
    struct credentials_wait *prev, *next;
    bool force;
    uint64_t stale;
    struct event *ev; /* immediate delivery */
    credentials_wait_cb cb;
    void *arg;
};

struct credentials_provider {
    enum s_source src;
    char detail[512];
    credentials_clock_fn clock_fn;
    struct credentials_policy policy;
    struct credentials creds; /* current; access_key_id NULL until fetched */
    uint64_t generation;

    /* source settings */
    struct credentials base_creds; /* assume_role, BASE_KEYS: the source keys */
    enum s_base chain_base;
    bool base_env;          /* credential_source = Environment (keys read after the walk) */
    char base_profile[130]; /* the profile that names credential_source */
    char token_what[200];   /* names the web identity token file in errors */
    struct s_role roles[S_MAX_ROLES];
    int n_roles;
    char *sts_url;
    struct bedrock_endpoint sts_ep;
    char region[64];
    char *token_file; /* web identity */
    char *container_url;
    char *container_token;
    char *container_token_file;
    char *imds_url;
    int64_t http_timeout_ms;
    int64_t imds_timeout_ms;
    char *ca_file;

    /* machinery */
    struct event_base *base;
    struct upstream_http *http;
    struct event *timer;
    struct event *fail_ev; /* reports a refresh that failed to start, from the loop */
    char fail_why[300];
    int64_t timer_at_ms;
    int64_t forced_ms; /* when the last forced refresh started (0: never) */
    bool refreshing;
    int step;
    bool base_phase; /* assume_role from a container/IMDS base: fetching the base */
    struct upstream_request *req;
    struct credentials tmp; /* role chain intermediate */
    char imds_token[1024];
    char imds_role[256];
    int failures;
    struct bgw_error last_err;
    struct credentials_wait *waiters;
};

static void s_free_secret(char **p)
{
    if (*p) {
        OPENSSL_cleanse(*p, strlen(*p));
        free(*p);
        *p = NULL;
    }
}

static int s_blank(const char *s)
{
    return !s || !*s;
}

static char *s_dup(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* --- creation: choosing the source ---------------------------------------- */

static struct credentials_provider *s_new(enum s_source src)
{
    struct credentials_provider *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->src = src;
    p->clock_fn = clock_wall_ms;
    p->creds.source = s_names[src];
    p->http_timeout_ms = 5000;
    p->imds_timeout_ms = 1000;
    p->policy.margin_ms = 5 * 60 * 1000;
    p->policy.jitter_ms = 60 * 1000;
    p->policy.min_interval_ms = 1000;
    p->policy.retry_base_ms = 1000;
    p->policy.retry_max_ms = 60 * 1000;
    return p;
}

static int s_set_static(struct credentials_provider *p, const char *akid, const char *secret,
                        const char *token)
{
    p->creds.access_key_id = strdup(akid);
    p->creds.secret_access_key = strdup(secret);
    if (!s_blank(token))
        p->creds.session_token = strdup(token);
    if (!p->creds.access_key_id || !p->creds.secret_access_key ||
        (!s_blank(token) && !p->creds.session_token))
        return -1;
    p->generation = 1;
    return 0;
}

struct credentials_provider *credentials_provider_env_new(credentials_getenv_fn getenv_fn,
                                                          struct bgw_error *err)
{
    const char *akid = getenv_fn("AWS_ACCESS_KEY_ID");
    const char *secret = getenv_fn("AWS_SECRET_ACCESS_KEY");
    const char *token = getenv_fn("AWS_SESSION_TOKEN");
    if (s_blank(akid)) {
        bgw_error_set(err, BGW_ERR_UNAVAILABLE, NULL,
                      "no AWS credentials: AWS_ACCESS_KEY_ID is not set");
        return NULL;
    }
    if (s_blank(secret)) {
        bgw_error_set(err, BGW_ERR_UNAVAILABLE, NULL,
                      "no AWS credentials: AWS_SECRET_ACCESS_KEY is not set");
        return NULL;
    }
    struct credentials_provider *p = s_new(SRC_ENV);
    if (!p || s_set_static(p, akid, secret, token) != 0) {
        credentials_provider_destroy(p);
        bgw_error_set(err, BGW_ERR_NOMEM, NULL, "out of memory reading credentials");
        return NULL;
    }
    snprintf(p->detail, sizeof(p->detail), "AWS_ACCESS_KEY_ID");
    return p;
}

/* Reads a whole (small) file; NULL when it cannot (errno kept). */
static char *s_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct buf b;
    buf_init_secret(&b, S_FILE_MAX);
    char chunk[4096];
    size_t n;
    int bad = 0;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (buf_append(&b, chunk, n) != 0) {
            bad = 1;
            break;
        }
    }
    if (ferror(f))
        bad = 1;
    fclose(f);
    if (bad) {
        buf_clean_up_secure(&b);
        errno = EFBIG;
        return NULL;
    }
    if (!b.data)
        buf_append_str(&b, "");
    return buf_detach(&b);
}

static void s_free_text(char **t)
{
    s_free_secret(t);
}

struct s_files {
    char *creds; /* may be NULL (no file) */
    char *config;
};

/* key of profile: the credentials file first ([name]), then the config
 * file ([profile name], or [default]). */
static int s_prof_get(const struct s_files *f, const char *profile, const char *key, char *out,
                      size_t out_len)
{
    int r = 0;
    if (f->creds) {
        r = credentials_ini_get(f->creds, profile, key, out, out_len);
        if (r != 0)
            return r;
    }
    if (f->config) {
        char sec[300];
        if (strcmp(profile, "default") == 0)
            snprintf(sec, sizeof(sec), "default");
        else
            snprintf(sec, sizeof(sec), "profile %s", profile);
        r = credentials_ini_get(f->config, sec, key, out, out_len);
        if (r == 0 && strcmp(profile, "default") == 0)
            r = credentials_ini_get(f->config, "profile default", key, out, out_len);
    }
    return r;
}

static bool s_prof_exists(const struct s_files *f, const char *profile)
{
    char sec[300];
    snprintf(sec, sizeof(sec), strcmp(profile, "default") == 0 ? "%s" : "profile %s", profile);
    return (f->creds && credentials_ini_has_section(f->creds, profile) == 1) ||
           (f->config && credentials_ini_has_section(f->config, sec) == 1);
}

#define S_VAL 4096

/* Resolves profile name into static keys or a role chain. 1 = resolved, 0 =
 * the profile holds no credentials, -1 = error (err set). */
/* One profile's own values (secrets wiped by s_prof_vals_wipe). */
struct s_prof_vals {
    char akid[S_VAL], secret[S_VAL], token[S_VAL], role[S_VAL];
    int has_akid, has_secret, has_token, has_role;
};

static void s_prof_vals_wipe(struct s_prof_vals *v)
{
    OPENSSL_cleanse(v->secret, sizeof(v->secret));
    OPENSSL_cleanse(v->token, sizeof(v->token));
}

/* The profile's keys as the base of a role chain (first ones found win). */
static void s_base_keys(struct credentials_provider *p, const struct s_prof_vals *v)
{
    if (p->base_creds.access_key_id)
        return;
    p->base_creds.access_key_id = strdup(v->akid);
    p->base_creds.secret_access_key = strdup(v->secret);
    p->base_creds.session_token = v->has_token == 1 ? strdup(v->token) : NULL;
}

/* credential_source = Environment | Ec2InstanceMetadata | EcsContainer */
static int s_credential_source(struct credentials_provider *p, const char *name, const char *cs,
                               struct bgw_error *err)
{
    if (strcmp(cs, "Environment") == 0) {
        p->chain_base = BASE_KEYS;
        p->base_env = true;
    } else if (strcmp(cs, "Ec2InstanceMetadata") == 0) {
        p->chain_base = BASE_IMDS;
    } else if (strcmp(cs, "EcsContainer") == 0) {
        p->chain_base = BASE_CONTAINER;
    } else {
        bool shown = *cs != '\0';
        for (const char *c = cs; *c; c++)
            shown = shown && (unsigned char)*c >= 0x20 && (unsigned char)*c <= 0x7e;
        bgw_error_set(err, BGW_ERR_UNAVAILABLE, NULL,
                      "AWS profile \"%.64s\": credential_source%s%s%s must be "
                      "Environment, Ec2InstanceMetadata or EcsContainer",
                      name, shown ? " \"" : "", shown ? cs : "", shown ? "\"" : "");
        return -1;
    }
    snprintf(p->base_profile, sizeof(p->base_profile), "%.128s", name);
    return 0;
}

static int s_profile(struct credentials_provider *p, const struct s_files *f, const char *name,
                     int depth, struct bgw_error *err);

/* source_profile = other (recursively) or the profile itself (its keys). */
static int s_source_profile(struct credentials_provider *p, const struct s_files *f,
                            const char *name, const char *source, int depth,
                            const struct s_prof_vals *v, struct bgw_error *err)
{
    if (strcmp(source, name) == 0) {
        if (v->has_akid != 1 || v->has_secret != 1) {
            bgw_error_set(err, BGW_ERR_UNAVAILABLE, NULL,
                          "AWS profile \"%.64s\": source_profile is itself but it has no keys",
                          name);
            return -1;
        }
        s_base_keys(p, v);
        return 0;
    }
    if (!s_prof_exists(f, source)) {
        bgw_error_set(err, BGW_ERR_UNAVAILABLE, NULL,
                      "AWS profile \"%.64s\": source_profile \"%.64s\" does not exist", name,
                      source);
        return -1;
    }
    int r = s_profile(p, f, source, depth + 1, err);
    if (r == 0)
        bgw_error_set(err, BGW_ERR_UNAVAILABLE, NULL,
                      "AWS profile \"%.64s\": source_profile \"%.64s\" has no credentials", name,
                      source);
    return r > 0 ? 0 : -1;
}

/* Where a role profile's base credentials come from: exactly one of
 * source_profile, credential_source or web_identity_token_file. */
static int s_role_source(struct credentials_provider *p, const struct s_files *f, const char *name,
                         int depth, const struct s_prof_vals *v, struct bgw_error *err)
{
    char source[S_VAL], cs[64], wit[S_VAL];
    int has_source = s_prof_get(f, name, "source_profile", source, sizeof(source));
    int has_cs = s_prof_get(f, name, "credential_source", cs, sizeof(cs));
    int has_wit = s_prof_get(f, name, "web_identity_token_file", wit, sizeof(wit));
    if (has_source < 0 || has_cs < 0 || has_wit < 0) {
        bgw_error_set(err, BGW_ERR_UNAVAILABLE, NULL, "AWS profile \"%.64s\": %s is too long", name,
                      has_source < 0 ? "source_profile"
                      : has_cs < 0   ? "credential_source"
                                     : "web_identity_token_file");
        return -1;
    }
    if (has_source == 1 && has_cs == 1) {
        bgw_error_set(err, BGW_ERR_UNAVAILABLE, NULL,
                      "AWS profile \"%.64s\": role_arn with both source_profile and "
                      "credential_source (use one)",
                      name);
        return -1;
    }
    if (has_wit == 1 && (has_source == 1 || has_cs == 1)) {
        bgw_error_set(err, BGW_ERR_UNAVAILABLE, NULL,
                      "AWS profile \"%.64s\": role_arn with both web_identity_token_file and "
                      "%s (use one)",
                      name, has_source == 1 ? "source_profile" : "credential_source");
        return -1;
    }
    if (has_wit == 1) {
        /* AssumeRoleWithWebIdentity for this profile's role: the chain's
         * first link (roles[0], appended by the caller). */
        if (!*wit) {
            bgw_error_set(err, BGW_ERR_UNAVAILABLE, NULL,
                          "AWS profile \"%.64s\": web_identity_token_file is empty", name);
            return -1;
        }
        p->chain_base = BASE_WEB_IDENTITY;
        free(p->token_file);
        p->token_file = strdup(wit);
        snprintf(p->token_what, sizeof(p->token_what),
                 "web_identity_token_file of AWS profile \"%.64s\"", name);
        return 0;
    }
    if (has_cs == 1)
        return s_credential_source(p, name, cs, err);
    if (has_source != 1) {
        bgw_error_set(err, BGW_ERR_UNAVAILABLE, NULL,
                      "AWS profile \"%.64s\": role_arn needs source_profile, "
                      "credential_source or web_identity_token_file",
                      name);
        return -1;
    }
    return s_source_profile(p, f, name, source, depth, v, err);
}

/* The profile's role as the chain's next link. 0 or -1. */
static int s_add_role(struct credentials_provider *p, const struct s_files *f, const char *name,
                      const char *role, struct bgw_error *err)
{
    if (p->n_roles >= S_MAX_ROLES) {
        bgw_error_set(err, BGW_ERR_UNAVAILABLE, NULL, "AWS profile role chain too deep");
        return -1;
    }
    struct s_role *r = &p->roles[p->n_roles++];
    r->arn = strdup(role);
    char v[S_VAL];
    if (s_prof_get(f, name, "role_session_name", v, sizeof(v)) == 1)
        r->session_name = strdup(v);
    if (s_prof_get(f, name, "external_id", v, sizeof(v)) == 1)
        r->external_id = strdup(v);
    if (s_prof_get(f, name, "duration_seconds", v, sizeof(v)) == 1)
        r->duration_s = strtol(v, NULL, 10);
    p->src = SRC_ASSUME_ROLE;
    return 0;
}

/* A profile's static keys: the credentials (depth 0) or a chain's base. */
static int s_profile_keys(struct credentials_provider *p, const char *name, int depth,
                          const struct s_prof_vals *v, struct bgw_error *err)
{
    if (v->has_secret != 1) {
        bgw_error_set(err, BGW_ERR_UNAVAILABLE, NULL,
                      "AWS profile \"%.64s\": aws_access_key_id without "
                      "aws_secret_access_key",
                      name);
        return -1;
    }
    if (depth > 0) {
        s_base_keys(p, v);
        return 1;
    }
    p->src = SRC_PROFILE;
    if (s_set_static(p, v->akid, v->secret, v->has_token == 1 ? v->token : NULL) != 0) {
        bgw_error_set(err, BGW_ERR_NOMEM, NULL, "out of memory");
        return -1;
    }
    return 1;
}

/* Profile name (depth: how far down a source_profile chain): 1 when it
 * provides credentials (or a role chain), 0 when it holds none, -1 with
 * err. */
static int s_profile(struct credentials_provider *p, const struct s_files *f, const char *name,
                     int depth, struct bgw_error *err)
{
    if (depth > S_MAX_ROLES) {
        bgw_error_set(err, BGW_ERR_UNAVAILABLE, NULL,
                      "AWS profile \"%.64s\": role chain deeper than %d (or a cycle)", name,
                      S_MAX_ROLES);
        return -1;
    }
    struct s_prof_vals v;
    v.has_role = s_prof_get(f, name, "role_arn", v.role, sizeof(v.role));
    v.has_akid = s_prof_get(f, name, "aws_access_key_id", v.akid, sizeof(v.akid));
    v.has_secret = s_prof_get(f, name, "aws_secret_access_key", v.secret, sizeof(v.secret));
    v.has_token = s_prof_get(f, name, "aws_session_token", v.token, sizeof(v.token));
    int rc = 0;
    if (v.has_role < 0 || v.has_akid < 0 || v.has_secret < 0 || v.has_token < 0) {
        bgw_error_set(err, BGW_ERR_UNAVAILABLE, NULL, "AWS profile \"%.64s\": a value is too long",
                      name);
        rc = -1;
    } else if (v.has_role == 1 && (depth == 0 || v.has_akid != 1)) {
        rc = s_role_source(p, f, name, depth, &v, err) == 0 &&
                     s_add_role(p, f, name, v.role, err) == 0
                 ? 1
                 : -1;
    } else if (v.has_akid == 1) {
        rc = s_profile_keys(p, name, depth, &v, err);
    }
    s_prof_vals_wipe(&v);
    return rc;
}

static int s_sts_endpoint(struct credentials_provider *p, credentials_getenv_fn env,
                          struct bgw_error *err)
{
    const char *u = env("AWS_ENDPOINT_URL_STS");
    const char *key = "AWS_ENDPOINT_URL_STS";
    char def[128];
    if (s_blank(u)) {
        u = env("AWS_ENDPOINT_URL");
        key = "AWS_ENDPOINT_URL";
    }
    if (s_blank(u)) {
        snprintf(def, sizeof(def), "https://sts.%s.amazonaws.com", p->region);
        u = def;
        key = "the default STS endpoint";
    }
    char why[200];
    if (bedrock_endpoint_parse(u, &p->sts_ep, why, sizeof(why)) != 0) {
        bgw_error_set(err, BGW_ERR_UNAVAILABLE, NULL, "%s: invalid URL: %s", key, why);
        return -1;
    }
    struct buf b;
    buf_init(&b, 4096);
    if (bedrock_endpoint_format(&p->sts_ep, &b) != 0 || buf_append_str(&b, "/") != 0) {
        buf_clean_up(&b);
        return -1;
    }
    p->sts_url = buf_detach(&b);
    return 0;
}

static bool s_container_host_ok(const char *url)
{
    if (strncmp(url, "https://", 8) == 0)
        return true;
    if (strncmp(url, "http://", 7) != 0)
        return false;
    const char *h = url + 7;
    static const char *const ok[] = {"127.",           "localhost",      "[::1]", "169.254.170.2",
                                     "169.254.170.23", "[fd00:ec2::23]", NULL};
    for (const char *const *o = ok; *o; o++) {
        size_t n = strlen(*o);
        if (strncmp(h, *o, n) == 0 &&
            ((*o)[n - 1] == '.' || h[n] == ':' || h[n] == '/' || h[n] == '\0'))
            return true;
    }
    return false;
}

/* The container endpoint from AWS_CONTAINER_CREDENTIALS_RELATIVE_URI /
 * _FULL_URI and its token settings. 1 = set up, 0 = neither variable is
 * set, -1 = error (err set). */
static int s_container_setup(struct credentials_provider *p,
                             const struct credentials_chain_options *o, credentials_getenv_fn env,
                             struct bgw_error *err)
{
    const char *rel = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    if (s_blank(rel) && s_blank(full))
        return 0;
    struct buf b;
    buf_init(&b, 4096);
    if (!s_blank(rel))
        buf_appendf(&b, "%s%s%s", o->container_host ? o->container_host : S_DEFAULT_CONTAINER_HOST,
                    rel[0] == '/' ? "" : "/", rel);
    else
        buf_append_str(&b, full);
    free(p->container_url);
    p->container_url = buf_detach(&b);
    if (!p->container_url) {
        bgw_error_set(err, BGW_ERR_NOMEM, NULL, "out of memory reading credentials");
        return -1;
    }
    if (s_blank(rel) && !s_container_host_ok(p->container_url)) {
        bgw_error_set(err, BGW_ERR_UNAVAILABLE, NULL,
                      "AWS_CONTAINER_CREDENTIALS_FULL_URI must be https, or http to a "
                      "loopback or the ECS/EKS link-local address");
        return -1;
    }
    p->container_token_file = s_dup(env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"));
    if (s_blank(p->container_token_file))
        p->container_token = s_dup(env("AWS_CONTAINER_AUTHORIZATION_TOKEN"));
    return 1;
}

/* The IMDS endpoint. 1 = set up, 0 = AWS_EC2_METADATA_DISABLED=true, -1 =
 * out of memory (err set). */
static int s_imds_setup(struct credentials_provider *p, credentials_getenv_fn env,
                        struct bgw_error *err)
{
    const char *dis = env("AWS_EC2_METADATA_DISABLED");
    if (dis && strcasecmp(dis, "true") == 0)
        return 0;
    const char *im = env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    free(p->imds_url);
    p->imds_url = strdup(s_blank(im) ? S_DEFAULT_IMDS : im);
    if (!p->imds_url) {
        bgw_error_set(err, BGW_ERR_NOMEM, NULL, "out of memory reading credentials");
        return -1;
    }
    size_t l = strlen(p->imds_url);
    while (l > 0 && p->imds_url[l - 1] == '/')
        p->imds_url[--l] = '\0';
    return 1;
}

/* Reads the shared credentials and config files named by env. */
static void s_files_load(credentials_getenv_fn env, struct s_files *files)
{
    const char *home = env("HOME");
    char path[1024];
    const char *cp = env("AWS_SHARED_CREDENTIALS_FILE");
    if (s_blank(cp) && !s_blank(home)) {
        snprintf(path, sizeof(path), "%s/.aws/credentials", home);
        cp = path;
    }
    if (!s_blank(cp))
        files->creds = s_read_file(cp);
    const char *fp = env("AWS_CONFIG_FILE");
    char path2[1024];
    if (s_blank(fp) && !s_blank(home)) {
        snprintf(path2, sizeof(path2), "%s/.aws/config", home);
        fp = path2;
    }
    if (!s_blank(fp))
        files->config = s_read_file(fp);
}

/* The profile asked for by name (AWS_PROFILE, else credentials.profile), or
 * NULL when none is named. */
static const char *s_named_profile(credentials_getenv_fn env,
                                   const struct credentials_chain_options *o)
{
    const char *profile = env("AWS_PROFILE");
    if (s_blank(profile))
        profile = o->profile;
    return s_blank(profile) ? NULL : profile;
}

/* True when the named profile's role chain takes its source keys from the
 * environment (credential_source = Environment somewhere along its
 * source_profile links): then the environment keys are that role's source,
 * not the gateway's credentials themselves. */
static bool s_env_is_role_source(credentials_getenv_fn env,
                                 const struct credentials_chain_options *o)
{
    const char *named = s_named_profile(env, o);
    if (!named || strlen(named) > 128)
        return false;
    struct s_files files = {NULL, NULL};
    s_files_load(env, &files);
    bool yes = false;
    char name[S_VAL], v[S_VAL];
    snprintf(name, sizeof(name), "%s", named);
    for (int i = 0; i <= S_MAX_ROLES; i++) {
        /* As s_profile walks: below the named profile, static keys are the
         * source whatever else the profile says. */
        if (i > 0 && s_prof_get(&files, name, "aws_access_key_id", v, sizeof(v)) == 1)
            break;
        if (s_prof_get(&files, name, "role_arn", v, sizeof(v)) != 1)
            break;
        if (s_prof_get(&files, name, "credential_source", v, sizeof(v)) == 1) {
            yes = strcmp(v, "Environment") == 0;
            break;
        }
        if (s_prof_get(&files, name, "source_profile", v, sizeof(v)) != 1 || strcmp(v, name) == 0)
            break;
        snprintf(name, sizeof(name), "%s", v);
    }
    s_free_text(&files.creds);
    s_free_text(&files.config);
    return yes;
}

/* After the profile walk: sets up a credential_source base (environment
 * keys, container or IMDS endpoint). 0 or -1 with err naming the profile. */
static int s_base_setup(struct credentials_provider *p, const struct credentials_chain_options *o,
                        credentials_getenv_fn env, struct bgw_error *err)
{
    const char *prof = p->base_profile;
    if (p->base_env) {
        const char *akid = env("AWS_ACCESS_KEY_ID");
        const char *secret = env("AWS_SECRET_ACCESS_KEY");
        const char *token = env("AWS_SESSION_TOKEN");
        if (s_blank(akid) || s_blank(secret)) {
            bgw_error_set(err, BGW_ERR_UNAVAILABLE, NULL,
                          "AWS profile \"%.64s\": credential_source is Environment but %s is not "
                          "set",
                          prof, s_blank(akid) ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY");
            return -1;
        }
        p->base_creds.access_key_id = strdup(akid);
        p->base_creds.secret_access_key = strdup(secret);
        p->base_creds.session_token = s_blank(token) ? NULL : strdup(token);
        if (!p->base_creds.access_key_id || !p->base_creds.secret_access_key ||
            (!s_blank(token) && !p->base_creds.session_token)) {
            bgw_error_set(err, BGW_ERR_NOMEM, NULL, "out of memory reading credentials");
            return -1;
        }
        return 0;
    }
    if (p->chain_base == BASE_CONTAINER) {
        int r = s_container_setup(p, o, env, err);
        if (r == 0)
            bgw_error_set(err, BGW_ERR_UNAVAILABLE, NULL,
                          "AWS profile \"%.64s\": credential_source is EcsContainer but neither "
                          "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor "
                          "AWS_CONTAINER_CREDENTIALS_FULL_URI is set",
                          prof);
        return r == 1 ? 0 : -1;
    }
    if (p->chain_base == BASE_IMDS) {
        int r = s_imds_setup(p, env, err);
        if (r == 0)
            bgw_error_set(err, BGW_ERR_UNAVAILABLE, NULL,
                          "AWS profile \"%.64s\": credential_source is Ec2InstanceMetadata but "
                          "AWS_EC2_METADATA_DISABLED is true",
                          prof);
        return r == 1 ? 0 : -1;
    }
    return 0;
}

static int s_nomem(struct bgw_error *err)
{
    bgw_error_set(err, BGW_ERR_NOMEM, NULL, "out of memory reading credentials");
    return -1;
}

/* The links of the chain after explicit config and the environment. Each
 * sets p up and returns 1 when it provides the credentials, returns 0 to
 * pass to the next link, or -1 with err. */
typedef int (*s_link_fn)(struct credentials_provider *p, const struct credentials_chain_options *o,
                         credentials_getenv_fn env, struct s_files *files, struct bgw_error *err);

/* The detail line of an assume-role chain from a profile. */
static void s_role_detail(struct credentials_provider *p, const char *profile)
{
    static const char *const base_names[] = {[BASE_KEYS] = "keys",
                                             [BASE_WEB_IDENTITY] = "web identity token file",
                                             [BASE_CONTAINER] = "EcsContainer",
                                             [BASE_IMDS] = "Ec2InstanceMetadata"};
    const char *base_name = p->base_env ? "Environment" : base_names[p->chain_base];
    const char *where = p->chain_base == BASE_CONTAINER ? p->container_url
                        : p->chain_base == BASE_IMDS    ? p->imds_url
                                                        : NULL;
    snprintf(p->detail, sizeof(p->detail), "profile %s, role %s via STS %s, source %s%s%s%s",
             profile, p->roles[p->n_roles - 1].arn, p->sts_url, base_name, where ? " (" : "",
             where ? where : "", where ? ")" : "");
}

/* An assume-role profile: its base credentials and STS endpoint ready. */
static int s_role_setup(struct credentials_provider *p, const struct credentials_chain_options *o,
                        credentials_getenv_fn env, const char *profile, struct bgw_error *err)
{
    if (s_base_setup(p, o, env, err) != 0)
        return -1;
    if (p->chain_base == BASE_KEYS &&
        (!p->base_creds.access_key_id || !p->base_creds.secret_access_key))
        return s_nomem(err);
    if (p->chain_base == BASE_WEB_IDENTITY && !p->token_file)
        return s_nomem(err);
    for (int i = 0; i < p->n_roles; i++) {
        if (!p->roles[i].arn)
            return s_nomem(err);
    }
    if (s_sts_endpoint(p, env, err) != 0)
        return -1;
    if (p->chain_base == BASE_WEB_IDENTITY && p->n_roles == 1)
        p->src = SRC_WEB_IDENTITY; /* one AssumeRoleWithWebIdentity */
    s_role_detail(p, profile);
    return 0;
}

/* 3. the shared credentials/config files (AWS_PROFILE, the config's
 * profile, or "default"; a named profile must exist and hold credentials) */
static int s_link_profile(struct credentials_provider *p, const struct credentials_chain_options *o,
                          credentials_getenv_fn env, struct s_files *files, struct bgw_error *err)
{
    s_files_load(env, files);
    const char *profile = env("AWS_PROFILE");
    bool named = true;
    if (s_blank(profile))
        profile = o->profile;
    if (s_blank(profile)) {
        profile = "default";
        named = false;
    }
    if (strlen(profile) > 128) {
        bgw_error_set(err, BGW_ERR_UNAVAILABLE, NULL, "AWS profile name too long");
        return -1;
    }
    bool exists = s_prof_exists(files, profile);
    if (named && !exists) {
        bgw_error_set(err, BGW_ERR_UNAVAILABLE, NULL,
                      "AWS profile \"%s\" not found in the shared credentials/config files",
                      profile);
        return -1;
    }
    if (!exists)
        return 0;
    int r = s_profile(p, files, profile, 0, err);
    if (r < 0)
        return -1;
    if (r == 0) {
        if (!named)
            return 0;
        bgw_error_set(err, BGW_ERR_UNAVAILABLE, NULL, "AWS profile \"%s\" has no credentials",
                      profile);
        return -1;
    }
    if (p->src == SRC_ASSUME_ROLE)
        return s_role_setup(p, o, env, profile, err) == 0 ? 1 : -1;
    snprintf(p->detail, sizeof(p->detail), "profile %s", profile);
    return 1;
}

/* 4. web identity (EKS IRSA): a token file and a role */
static int s_link_web_identity(struct credentials_provider *p,
                               const struct credentials_chain_options *o, credentials_getenv_fn env,
                               struct s_files *files, struct bgw_error *err)
{
    (void)o;
    (void)files;
    const char *tf = env("AWS_WEB_IDENTITY_TOKEN_FILE");
    const char *ra = env("AWS_ROLE_ARN");
    if (s_blank(tf) && s_blank(ra))
        return 0;
    if (s_blank(tf) || s_blank(ra)) {
        bgw_error_set(err, BGW_ERR_UNAVAILABLE, NULL,
                      "AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN go together");
        return -1;
    }
    p->src = SRC_WEB_IDENTITY;
    p->token_file = strdup(tf);
    snprintf(p->token_what, sizeof(p->token_what), "AWS_WEB_IDENTITY_TOKEN_FILE");
    p->roles[0].arn = strdup(ra);
    p->roles[0].session_name = s_dup(env("AWS_ROLE_SESSION_NAME"));
    p->n_roles = 1;
    if (!p->token_file || !p->roles[0].arn)
        return s_nomem(err);
    if (s_sts_endpoint(p, env, err) != 0)
        return -1;
    snprintf(p->detail, sizeof(p->detail), "role %s via STS %s", ra, p->sts_url);
    return 1;
}

/* 5. the container endpoint (ECS, EKS Pod Identity) */
static int s_link_container(struct credentials_provider *p,
                            const struct credentials_chain_options *o, credentials_getenv_fn env,
                            struct s_files *files, struct bgw_error *err)
{
    (void)files;
    int r = s_container_setup(p, o, env, err);
    if (r <= 0)
        return r;
    p->src = SRC_CONTAINER;
    snprintf(p->detail, sizeof(p->detail), "%s%s", p->container_url,
             p->container_token_file ? " (token file)"
             : p->container_token    ? " (token)"
                                     : "");
    return 1;
}

/* 6. instance metadata (IMDSv2), the last resort */
static int s_link_imds(struct credentials_provider *p, const struct credentials_chain_options *o,
                       credentials_getenv_fn env, struct s_files *files, struct bgw_error *err)
{
    (void)o;
    (void)files;
    int r = s_imds_setup(p, env, err);
    if (r < 0)
        return -1;
    if (r == 0) {
        bgw_error_set(err, BGW_ERR_UNAVAILABLE, NULL,
                      "no AWS credentials: none in config, environment (AWS_ACCESS_KEY_ID), "
                      "shared files, web identity or container variables, and instance "
                      "metadata is disabled");
        return -1;
    }
    snprintf(p->detail, sizeof(p->detail),
             "%s (nothing in config, environment AWS_ACCESS_KEY_ID, shared files, web identity "
             "or container variables)",
             p->imds_url);
    return 1;
}

/* The options every source shares. 0, or -1 (memory). */
static int s_chain_finish(struct credentials_provider *p, const struct credentials_chain_options *o)
{
    if (o->clock_fn)
        p->clock_fn = o->clock_fn;
    if (o->policy.margin_ms > 0 || o->policy.retry_base_ms > 0)
        p->policy = o->policy;
    if (o->http_timeout_ms > 0)
        p->http_timeout_ms = o->http_timeout_ms;
    if (o->imds_timeout_ms > 0)
        p->imds_timeout_ms = o->imds_timeout_ms;
    if (o->ca_file && *o->ca_file && !(p->ca_file = strdup(o->ca_file)))
        return -1;
    p->creds.source = s_names[p->src];
    return 0;
}

struct credentials_provider *
credentials_provider_chain_new(const struct credentials_chain_options *o, struct bgw_error *err)
{
    credentials_getenv_fn env = o->getenv_fn;
    struct credentials_provider *p = NULL;
    struct s_files files = {NULL, NULL};
    bgw_error_clear(err);

    /* 1. explicit config */
    if (!s_blank(o->access_key_id) || !s_blank(o->secret_access_key)) {
        if (s_blank(o->access_key_id) || s_blank(o->secret_access_key)) {
            bgw_error_set(err, BGW_ERR_UNAVAILABLE, NULL,
                          "credentials.access_key_id and credentials.secret_access_key go "
                          "together");
            return NULL;
        }
        p = s_new(SRC_CONFIG);
        if (!p || s_set_static(p, o->access_key_id, o->secret_access_key, o->session_token) != 0) {
            s_nomem(err);
            goto fail;
        }
        snprintf(p->detail, sizeof(p->detail), "config file");
    } else if ((!s_blank(env("AWS_ACCESS_KEY_ID")) || !s_blank(env("AWS_SECRET_ACCESS_KEY"))) &&
               !s_env_is_role_source(env, o)) {
        /* 2. environment, unless the named profile's role uses it as its
         * credential_source */
        return credentials_provider_env_new(env, err);
    } else {
        static const s_link_fn links[] = {s_link_profile, s_link_web_identity, s_link_container,
                                          s_link_imds};
        p = s_new(SRC_IMDS);
        if (!p) {
            s_nomem(err);
            goto fail;
        }
        snprintf(p->region, sizeof(p->region), "%s", o->region ? o->region : "us-east-1");
        int r = 0;
        for (size_t i = 0; i < sizeof(links) / sizeof(links[0]) && r == 0; i++)
            r = links[i](p, o, env, &files, err);
        if (r < 0)
            goto fail;
    }
    if (s_chain_finish(p, o) != 0) {
        s_nomem(err);
        goto fail;
    }
    s_free_text(&files.creds);
    s_free_text(&files.config);
    return p;
fail:
    s_free_text(&files.creds);
    s_free_text(&files.config);
    credentials_provider_destroy(p);
    return NULL;
}

/* --- the loop part ---------------------------------------------------------- */

static void s_on_timer(evutil_socket_t fd, short what, void *arg);

static void s_on_fail_ev(evutil_socket_t fd, short what, void *arg);

int credentials_provider_attach(struct credentials_provider *p, struct event_base *base)
{
    if (p->base)
        return 0;
    if (!credentials_provider_refreshable(p)) {
        p->base = base;
        return 0;
    }
    struct upstream_http_options uo = {
        .connect_timeout_ms = p->src == SRC_IMDS ? p->imds_timeout_ms : 3000,
        .max_body_bytes = S_MAX_BODY,
        .max_connections = 4,
        .ca_file = p->ca_file,
    };
    p->http = upstream_http_new(base, &uo);
    p->timer = evtimer_new(base, s_on_timer, p);
    p->fail_ev = evtimer_new(base, s_on_fail_ev, p);
    if (!p->http || !p->timer || !p->fail_ev)
        return -1;
    p->base = base;
    return 0;
}

static void s_wait_unlink(struct credentials_wait *w)
{
    struct credentials_provider *p = w->p;
    if (w->prev)
        w->prev->next = w->next;
    else
        p->waiters = w->next;
    if (w->next)
        w->next->prev = w->prev;
    w->prev = w->next = NULL;
}

static void s_wait_free(struct credentials_wait *w)
{
    if (w->ev)
        event_free(w->ev);
    free(w);
}

void credentials_wait_cancel(struct credentials_wait *w)
{
    if (!w)
        return;
    s_wait_unlink(w);
    s_wait_free(w);
}

void credentials_provider_detach(struct credentials_provider *p)
{
    if (!p)
        return;
    while (p->waiters)
        credentials_wait_cancel(p->waiters);
    if (p->req)
        upstream_http_cancel(p->req);
    p->req = NULL;
    p->refreshing = false;
    upstream_http_destroy(p->http);
    p->http = NULL;
    if (p->timer)
        event_free(p->timer);
    p->timer = NULL;
    if (p->fail_ev)
        event_free(p->fail_ev);
    p->fail_ev = NULL;
    p->base = NULL;
}

void credentials_provider_destroy(struct credentials_provider *p)
{
    if (!p)
        return;
    credentials_provider_detach(p);
    credentials_parse_wipe(&p->creds);
    credentials_parse_wipe(&p->base_creds);
    credentials_parse_wipe(&p->tmp);
    for (int i = 0; i < S_MAX_ROLES; i++) {
        free(p->roles[i].arn);
        free(p->roles[i].session_name);
        free(p->roles[i].external_id);
    }
    free(p->sts_url);
    free(p->token_file);
    free(p->container_url);
    s_free_secret(&p->container_token);
    free(p->container_token_file);
    free(p->imds_url);
    free(p->ca_file);
    OPENSSL_cleanse(p->imds_token, sizeof(p->imds_token));
    free(p);
}

const char *credentials_provider_name(const struct credentials_provider *p)
{
    return s_names[p->src];
}

const char *credentials_provider_detail(const struct credentials_provider *p)
{
    return p->detail;
}

bool credentials_provider_refreshable(const struct credentials_provider *p)
{
    return p->src != SRC_CONFIG && p->src != SRC_ENV && p->src != SRC_PROFILE;
}

uint64_t credentials_provider_generation(const struct credentials_provider *p)
{
    return p->generation;
}

bool credentials_provider_resolved(struct credentials_provider *p, int64_t now_ms)
{
    return p->creds.access_key_id && credentials_policy_usable(p->creds.expires_at_ms, now_ms);
}

const struct credentials *credentials_provider_current(struct credentials_provider *p,
                                                       int64_t now_ms, struct bgw_error *err)
{
    if (!p->creds.access_key_id) {
        bgw_error_set(err, BGW_ERR_UNAVAILABLE, NULL,
                      "AWS credentials from %s are not available%s%s", s_names[p->src],
                      p->last_err.message[0] ? ": " : " yet", p->last_err.message);
        return NULL;
    }
    if (!credentials_policy_usable(p->creds.expires_at_ms, now_ms)) {
        bgw_error_set(err, BGW_ERR_UNAVAILABLE, NULL, "AWS credentials from %s have expired%s%s",
                      s_names[p->src], p->last_err.message[0] ? ": " : "", p->last_err.message);
        return NULL;
    }
    return &p->creds;
}

static void s_arm(struct credentials_provider *p, int64_t at_ms)
{
    if (!p->timer)
        return;
    int64_t d = at_ms - p->clock_fn();
    if (d < 0)
        d = 0;
    struct timeval tv = {(time_t)(d / 1000), (suseconds_t)((d % 1000) * 1000)};
    evtimer_del(p->timer);
    evtimer_add(p->timer, &tv);
    p->timer_at_ms = at_ms;
}

/* Delivers to every waiter whose wish is met (or all, when done). */
static void s_notify(struct credentials_provider *p, bool all)
{
    int64_t now = p->clock_fn();
    const struct credentials *c = credentials_provider_resolved(p, now) ? &p->creds : NULL;
    struct bgw_error err;
    bgw_error_clear(&err);
    if (!c)
        credentials_provider_current(p, now, &err);
    struct credentials_wait *w = p->waiters;
    while (w) {
        struct credentials_wait *next = w->next;
        bool met = c && (!w->force || p->generation > w->stale);
        if (met || all) {
            s_wait_unlink(w);
            credentials_wait_cb cb = w->cb;
            void *arg = w->arg;
            s_wait_free(w);
            cb(arg, c, c ? NULL : &err);
            /* the callback may have cancelled others: restart the walk */
            next = p->waiters;
        }
        w = next;
    }
}

static void s_start_refresh(struct credentials_provider *p);

static void s_refresh_done(struct credentials_provider *p, struct credentials *got, const char *why)
{
    p->refreshing = false;
    p->base_phase = false;
    p->req = NULL;
    credentials_parse_wipe(&p->tmp);
    OPENSSL_cleanse(p->imds_token, sizeof(p->imds_token));
    int64_t now = p->clock_fn();
    if (got) {
        credentials_parse_wipe(&p->creds);
        p->creds = *got;
        p->creds.source = s_names[p->src];
        memset(got, 0, sizeof(*got));
        p->generation++;
        p->failures = 0;
        bgw_error_clear(&p->last_err);
        int64_t at = credentials_policy_refresh_at(&p->policy, p->creds.expires_at_ms, now,
                                                   clock_jitter_u32());
        if (at > 0)
            s_arm(p, at);
        char akid4[5];
        snprintf(akid4, sizeof(akid4), "%s", p->creds.access_key_id);
        log_event(
            LOG_INFO, "credentials_refreshed",
            json_pack("{s:s,s:s,s:I,s:I,s:I}", "source", s_names[p->src], "access_key_id_prefix",
                      akid4, "generation", (json_int_t)p->generation, "expires_in_ms",
                      (json_int_t)(p->creds.expires_at_ms ? p->creds.expires_at_ms - now : -1),
                      "next_refresh_in_ms", (json_int_t)(at > 0 ? at - now : -1)));
    } else {
        p->failures++;
        bgw_error_set(&p->last_err, BGW_ERR_UNAVAILABLE, NULL, "%s", why);
        int64_t at = credentials_policy_retry_at(&p->policy, p->failures, p->creds.expires_at_ms,
                                                 now, clock_jitter_u32());
        s_arm(p, at);
        bool usable = credentials_provider_resolved(p, now);
        log_event_limited(LOG_WARN, "credentials_refresh_failed",
                          json_pack("{s:s,s:s,s:i,s:b,s:I}", "source", s_names[p->src], "error",
                                    why, "failures", p->failures, "current_still_valid", usable,
                                    "retry_in_ms", (json_int_t)(at - now)));
    }
    s_notify(p, true);
}

static void s_on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct credentials_provider *p = arg;
    p->timer_at_ms = 0;
    if (!p->refreshing)
        s_start_refresh(p);
}

/* -- HTTP steps -- */

static void s_on_http(void *arg, const struct upstream_response *r);

/* What the current step of a refresh talks to: an assume_role chain first
 * fetches its container/IMDS base, and a web identity base is its first
 * link. */
static enum s_source s_cur(const struct credentials_provider *p)
{
    if (p->src != SRC_ASSUME_ROLE)
        return p->src;
    if (p->base_phase)
        return p->chain_base == BASE_CONTAINER ? SRC_CONTAINER : SRC_IMDS;
    if (p->step == 0 && p->chain_base == BASE_WEB_IDENTITY)
        return SRC_WEB_IDENTITY;
    return SRC_ASSUME_ROLE;
}

static int s_send(struct credentials_provider *p, const char *method, const char *url,
                  char **headers, size_t n, const char *body, int64_t timeout_ms)
{
    struct upstream_http_request_options o = {
        .method = method,
        .url = url,
        .headers = headers,
        .n_headers = n,
        .body = body,
        .body_len = body ? strlen(body) : 0,
        .timeout_ms = timeout_ms,
        .connect_timeout_ms = s_cur(p) == SRC_IMDS ? p->imds_timeout_ms : 0,
    };
    p->req = upstream_http_request(p->http, &o, s_on_http, p);
    return p->req ? 0 : -1;
}

static int s_form_add(struct buf *b, const char *k, const char *v)
{
    if (b->len && buf_append_char(b, '&') != 0)
        return -1;
    if (sigv4_uri_encode(k, strlen(k), false, b) != 0 || buf_append_char(b, '=') != 0 ||
        sigv4_uri_encode(v, strlen(v), false, b) != 0)
        return -1;
    return 0;
}

/* POSTs an STS action; signing when creds is not NULL. */
static int s_sts_call(struct credentials_provider *p, const struct s_role *role,
                      const struct credentials *signer, const char *web_token, char *why,
                      size_t why_len)
{
    int rc = -1;
    struct buf body, authz, line;
    buf_init_secret(&body, 64 * 1024);
    buf_init_secret(&authz, 4096);
    buf_init_secret(&line, 16 * 1024);
    char *hdrs[6] = {0};
    size_t nh = 0;
    char session[80];
    if (role->session_name)
        snprintf(session, sizeof(session), "%.64s", role->session_name);
    else
        snprintf(session, sizeof(session), "bedrockgw-%lld", (long long)(p->clock_fn() / 1000));
    if (s_form_add(&body, "Action", web_token ? "AssumeRoleWithWebIdentity" : "AssumeRole") ||
        s_form_add(&body, "Version", "2011-06-15") || s_form_add(&body, "RoleArn", role->arn) ||
        s_form_add(&body, "RoleSessionName", session))
        goto nomem;
    if (role->external_id && s_form_add(&body, "ExternalId", role->external_id))
        goto nomem;
    if (role->duration_s > 0) {
        char d[24];
        snprintf(d, sizeof(d), "%ld", role->duration_s);
        if (s_form_add(&body, "DurationSeconds", d))
            goto nomem;
    }
    if (web_token && s_form_add(&body, "WebIdentityToken", web_token))
        goto nomem;
    const char *ctype = "content-type: application/x-www-form-urlencoded; charset=utf-8";
    hdrs[nh++] = strdup(ctype);
    hdrs[nh++] = strdup("accept: text/xml");
    if (signer) {
        char host[300], amz[17], hash[65];
        int64_t now_s = p->clock_fn() / 1000;
        if (bedrock_endpoint_host_header(&p->sts_ep, host, sizeof(host)) < 0 ||
            sigv4_amz_date(now_s, amz) != 0)
            goto nomem;
        sigv4_sha256_hex(body.data, body.len, hash);
        struct sigv4_kv h[4] = {
            {"host", host},
            {"content-type", "application/x-www-form-urlencoded; charset=utf-8"},
            {"x-amz-date", amz},
            {"x-amz-security-token", signer->session_token}};
        struct sigv4_request req = {"POST", "/", NULL, 0, h, signer->session_token ? 4 : 3, hash};
        struct sigv4_credentials sc = {signer->access_key_id, signer->secret_access_key,
                                       signer->session_token};
        struct sigv4_options so = {p->region, "sts", now_s, true};
        if (sigv4_sign_headers(&req, &sc, &so, &authz, NULL, NULL) != 0)
            goto nomem;
        buf_appendf(&line, "x-amz-date: %s", amz);
        hdrs[nh++] = buf_detach(&line);
        buf_init_secret(&line, 16 * 1024);
        if (signer->session_token) {
            buf_appendf(&line, "x-amz-security-token: %s", signer->session_token);
            hdrs[nh++] = buf_detach(&line);
            buf_init_secret(&line, 16 * 1024);
        }
        buf_appendf(&line, "authorization: %s", authz.data);
        hdrs[nh++] = buf_detach(&line);
        buf_init_secret(&line, 16 * 1024);
    }
    for (size_t i = 0; i < nh; i++) {
        if (!hdrs[i])
            goto nomem;
    }
    if (!body.data)
        goto nomem;
    if (s_send(p, "POST", p->sts_url, hdrs, nh, body.data, p->http_timeout_ms) != 0) {
        snprintf(why, why_len, "cannot start the STS request");
        goto cleanup;
    }
    rc = 0;
    goto cleanup;
nomem:
    snprintf(why, why_len, "out of memory building the STS request");
cleanup:
    for (size_t i = 0; i < nh; i++)
        s_free_secret(&hdrs[i]);
    buf_clean_up_secure(&body);
    buf_clean_up_secure(&authz);
    buf_clean_up_secure(&line);
    return rc;
}

/* Trims trailing whitespace in place. */
static void s_rtrim(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
}

/* Starts step p->step of the source's fetch; -1 with why on failure. */
static int s_step(struct credentials_provider *p, char *why, size_t why_len)
{
    switch (s_cur(p)) {
    case SRC_ASSUME_ROLE: {
        /* The first link signs with the source keys, the others with what
         * the previous link (or the container/IMDS base) returned. */
        const struct credentials *signer =
            p->step == 0 && p->chain_base == BASE_KEYS ? &p->base_creds : &p->tmp;
        return s_sts_call(p, &p->roles[p->step], signer, NULL, why, why_len);
    }
    case SRC_WEB_IDENTITY: {
        /* Re-read at every refresh: the platform rotates the token file. */
        char *tok = s_read_file(p->token_file);
        if (!tok) {
            snprintf(why, why_len, "cannot read %s: %s", p->token_what, strerror(errno));
            return -1;
        }
        s_rtrim(tok);
        int rc = -1;
        if (!*tok)
            snprintf(why, why_len, "%s is empty", p->token_what);
        else
            rc = s_sts_call(p, &p->roles[0], NULL, tok, why, why_len);
        s_free_secret(&tok);
        return rc;
    }
    case SRC_CONTAINER: {
        char *tok = NULL;
        if (p->container_token_file) {
            tok = s_read_file(p->container_token_file);
            if (!tok) {
                snprintf(why, why_len, "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: %s",
                         strerror(errno));
                return -1;
            }
            s_rtrim(tok);
        } else if (p->container_token) {
            tok = strdup(p->container_token);
        }
        char *hdrs[2] = {strdup("accept: application/json"), NULL};
        size_t nh = 1;
        if (tok) {
            if (strpbrk(tok, "\r\n")) {
                snprintf(why, why_len, "container authorization token contains a line break");
                s_free_secret(&tok);
                s_free_secret(&hdrs[0]);
                return -1;
            }
            size_t n = strlen(tok) + 32;
            hdrs[1] = malloc(n);
            if (hdrs[1])
                snprintf(hdrs[1], n, "authorization: %s", tok);
            nh = 2;
        }
        int rc = -1;
        if (!hdrs[0] || (nh == 2 && !hdrs[1]))
            snprintf(why, why_len, "out of memory");
        else if (s_send(p, "GET", p->container_url, hdrs, nh, NULL, p->http_timeout_ms) != 0)
            snprintf(why, why_len, "cannot start the container credentials request");
        else
            rc = 0;
        s_free_secret(&tok);
        s_free_secret(&hdrs[0]);
        s_free_secret(&hdrs[1]);
        return rc;
    }
    case SRC_IMDS: {
        char url[1400];
        char hdr[1100];
        char *hdrs[1] = {hdr};
        int rc;
        if (p->step == 0) {
            snprintf(url, sizeof(url), "%s/latest/api/token", p->imds_url);
            snprintf(hdr, sizeof(hdr), "x-aws-ec2-metadata-token-ttl-seconds: %d",
                     S_IMDS_TOKEN_TTL_S);
            rc = s_send(p, "PUT", url, hdrs, 1, "", p->imds_timeout_ms);
        } else {
            if (p->step == 1)
                snprintf(url, sizeof(url), "%s/latest/meta-data/iam/security-credentials/",
                         p->imds_url);
            else
                snprintf(url, sizeof(url), "%s/latest/meta-data/iam/security-credentials/%s",
                         p->imds_url, p->imds_role);
            snprintf(hdr, sizeof(hdr), "x-aws-ec2-metadata-token: %s", p->imds_token);
            rc = s_send(p, "GET", url, hdrs, 1, NULL, p->imds_timeout_ms);
        }
        OPENSSL_cleanse(hdr, sizeof(hdr));
        if (rc != 0)
            snprintf(why, why_len, "cannot start the instance metadata request");
        return rc;
    }
    default:
        snprintf(why, why_len, "credentials from %s cannot be refreshed", s_names[p->src]);
        return -1;
    }
}

static void s_on_fail_ev(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct credentials_provider *p = arg;
    char why[300];
    snprintf(why, sizeof(why), "%s", p->fail_why);
    s_refresh_done(p, NULL, why);
}

/* Never completes synchronously: a failure to start is reported from the
 * loop, so callers of credentials_provider_wait get their callback later. */
static void s_start_refresh(struct credentials_provider *p)
{
    if (p->refreshing || !p->http)
        return;
    p->refreshing = true;
    p->step = 0;
    p->base_phase = p->src == SRC_ASSUME_ROLE &&
                    (p->chain_base == BASE_CONTAINER || p->chain_base == BASE_IMDS);
    if (s_step(p, p->fail_why, sizeof(p->fail_why)) != 0) {
        struct timeval zero = {0, 0};
        if (evtimer_add(p->fail_ev, &zero) != 0)
            p->refreshing = false;
    }
}

static bool s_role_name_ok(const char *s)
{
    if (!*s || strlen(s) >= 200)
        return false;
    for (; *s; s++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              strchr("+=,.@_-", *s)))
            return false;
    }
    return true;
}

/* An assume_role chain's container/IMDS base answered: its credentials
 * sign the first AssumeRole. 0, or -1 with why. */
static int s_base_done(struct credentials_provider *p, struct credentials *got, char *why,
                       size_t why_len)
{
    credentials_parse_wipe(&p->tmp);
    p->tmp = *got;
    memset(got, 0, sizeof(*got));
    p->base_phase = false;
    p->step = 0;
    return s_step(p, why, why_len);
}

static void s_on_http(void *arg, const struct upstream_response *r)
{
    struct credentials_provider *p = arg;
    p->req = NULL;
    char why[300];
    struct credentials got;
    memset(&got, 0, sizeof(got));
    enum s_source cur = s_cur(p);
    const char *what = cur == SRC_IMDS        ? "instance metadata"
                       : cur == SRC_CONTAINER ? "container credentials endpoint"
                                              : "STS";
    if (r->outcome != UPSTREAM_OK) {
        snprintf(why, sizeof(why), "%s: %s", what,
                 r->outcome == UPSTREAM_TIMEOUT ? "timed out" : r->transport_error);
        goto fail;
    }
    if (r->status < 200 || r->status > 299) {
        if (cur == SRC_ASSUME_ROLE || cur == SRC_WEB_IDENTITY) {
            char sts_why[260];
            credentials_parse_sts_xml(r->body, r->body_len, &got, sts_why, sizeof(sts_why));
            credentials_parse_wipe(&got);
            snprintf(why, sizeof(why), "STS HTTP %ld: %s", r->status, sts_why);
        } else {
            snprintf(why, sizeof(why), "%s HTTP %ld", what, r->status);
        }
        goto fail;
    }
    switch (cur) {
    case SRC_ASSUME_ROLE:
    case SRC_WEB_IDENTITY:
        if (credentials_parse_sts_xml(r->body, r->body_len, &got, why, sizeof(why)) != 0)
            goto fail;
        if (p->src == SRC_ASSUME_ROLE && p->step + 1 < p->n_roles) {
            credentials_parse_wipe(&p->tmp);
            p->tmp = got;
            p->step++;
            if (s_step(p, why, sizeof(why)) != 0)
                goto fail;
            return;
        }
        break;
    case SRC_CONTAINER:
        if (credentials_parse_json(r->body, r->body_len, &got, why, sizeof(why)) != 0)
            goto fail;
        if (p->base_phase) {
            if (s_base_done(p, &got, why, sizeof(why)) != 0)
                goto fail;
            return;
        }
        break;
    case SRC_IMDS:
        if (p->step == 0) {
            if (r->body_len == 0 || r->body_len >= sizeof(p->imds_token) ||
                strpbrk(r->body, "\r\n")) {
                snprintf(why, sizeof(why), "instance metadata: bad token reply");
                goto fail;
            }
            memcpy(p->imds_token, r->body, r->body_len + 1);
            p->step = 1;
        } else if (p->step == 1) {
            size_t n = strcspn(r->body, "\r\n");
            if (n >= sizeof(p->imds_role)) {
                snprintf(why, sizeof(why), "instance metadata: bad role name");
                goto fail;
            }
            memcpy(p->imds_role, r->body, n);
            p->imds_role[n] = '\0';
            if (!s_role_name_ok(p->imds_role)) {
                snprintf(why, sizeof(why), "instance metadata: no IAM role attached");
                goto fail;
            }
            p->step = 2;
        } else {
            if (credentials_parse_json(r->body, r->body_len, &got, why, sizeof(why)) != 0)
                goto fail;
            if (p->base_phase) {
                if (s_base_done(p, &got, why, sizeof(why)) != 0)
                    goto fail;
                return;
            }
            break;
        }
        if (s_step(p, why, sizeof(why)) != 0)
            goto fail;
        return;
    default:
        snprintf(why, sizeof(why), "unexpected reply");
        goto fail;
    }
    s_refresh_done(p, &got, NULL);
    return;
fail:
    credentials_parse_wipe(&got);
    s_refresh_done(p, NULL, why);
}

static void s_on_deliver(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct credentials_wait *w = arg;
    struct credentials_provider *p = w->p;
    int64_t now = p->clock_fn();
    bool ok = credentials_provider_resolved(p, now) && (!w->force || p->generation > w->stale);
    if (!ok && credentials_provider_refreshable(p) && p->refreshing)
        return; /* stays linked: the refresh in flight answers it */
    struct bgw_error err;
    bgw_error_clear(&err);
    const struct credentials *c = credentials_provider_current(p, now, &err);
    s_wait_unlink(w);
    credentials_wait_cb cb = w->cb;
    void *cb_arg = w->arg;
    s_wait_free(w);
    cb(cb_arg, c, c ? NULL : &err);
}

struct credentials_wait *credentials_provider_wait(struct credentials_provider *p, bool force,
                                                   uint64_t stale, credentials_wait_cb cb,
                                                   void *arg, struct bgw_error *err)
{
    int64_t now = p->clock_fn();
    bool met = credentials_provider_resolved(p, now) && (!force || p->generation > stale);
    if (!met && !credentials_provider_refreshable(p)) {
        if (!credentials_provider_current(p, now, err))
            return NULL;
        bgw_error_set(err, BGW_ERR_UNAVAILABLE, NULL, "AWS credentials from %s cannot be refreshed",
                      s_names[p->src]);
        return NULL;
    }
    if (!p->base && !met) {
        bgw_error_set(err, BGW_ERR_INTERNAL, NULL, "credentials provider has no loop");
        return NULL;
    }
    struct credentials_wait *w = calloc(1, sizeof(*w));
    if (!w) {
        bgw_error_set(err, BGW_ERR_NOMEM, NULL, "out of memory");
        return NULL;
    }
    w->p = p;
    w->force = force;
    w->stale = stale;
    w->cb = cb;
    w->arg = arg;
    w->next = p->waiters;
    if (p->waiters)
        p->waiters->prev = w;
    p->waiters = w;
    if (met) {
        /* Answer from the loop, never from inside this call. */
        struct event_base *base = p->base;
        if (!base) {
            bgw_error_set(err, BGW_ERR_INTERNAL, NULL, "credentials provider has no loop");
            credentials_wait_cancel(w);
            return NULL;
        }
        w->ev = evtimer_new(base, s_on_deliver, w);
        struct timeval zero = {0, 0};
        if (!w->ev || evtimer_add(w->ev, &zero) != 0) {
            bgw_error_set(err, BGW_ERR_NOMEM, NULL, "out of memory");
            credentials_wait_cancel(w);
            return NULL;
        }
        return w;
    }
    if (!p->refreshing) {
        if (!force && p->failures > 0 && p->timer_at_ms > now &&
            !credentials_provider_resolved(p, now)) {
            /* The last refresh failed and its retry is scheduled: do not
             * turn every request into an STS/IMDS call. */
            credentials_provider_current(p, now, err);
            credentials_wait_cancel(w);
            return NULL;
        }
        if (force && p->forced_ms > 0 && now - p->forced_ms < CREDENTIALS_FORCED_REFRESH_MIN_MS) {
            /* Fresh credentials were rejected again (a skewed clock, a
             * revoked role): one forced refresh per interval, not one per
             * request. */
            bgw_error_set(err, BGW_ERR_UNAVAILABLE, NULL,
                          "AWS rejected credentials from %s that were refreshed moments ago",
                          s_names[p->src]);
            credentials_wait_cancel(w);
            return NULL;
        }
        if (force)
            p->forced_ms = now;
        s_start_refresh(p);
    }
    return w;
}
