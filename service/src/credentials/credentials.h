/*
 * credentials - where the gateway's AWS credentials come from, and keeping
 * them fresh.
 *
 * The chain resolves a source the way the AWS SDKs do, first match wins:
 *   1. explicit config (credentials.access_key_id / secret_access_key);
 *   2. environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN;
 *   3. shared files (AWS_SHARED_CREDENTIALS_FILE / ~/.aws/credentials,
 *      AWS_CONFIG_FILE / ~/.aws/config), profile AWS_PROFILE, else
 *      credentials.profile, else "default": static keys, or role_arn via
 *      STS AssumeRole (chained up to 4 deep) whose source is source_profile,
 *      credential_source (Environment, Ec2InstanceMetadata, EcsContainer:
 *      fetched again at each refresh, then the role assumed with it) or
 *      web_identity_token_file (AssumeRoleWithWebIdentity); exactly one;
 *   4. web identity: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN
 *      (+ AWS_ROLE_SESSION_NAME) via STS AssumeRoleWithWebIdentity, the
 *      token file re-read at every refresh;
 *   5. container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI, with
 *      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE / _TOKEN;
 *   6. EC2 instance metadata (IMDSv2) unless AWS_EC2_METADATA_DISABLED=true.
 * STS: AWS_ENDPOINT_URL_STS, else AWS_ENDPOINT_URL, else
 * https://sts.<region>.amazonaws.com. IMDS: AWS_EC2_METADATA_SERVICE_ENDPOINT.
 *
 * Choosing the source reads only environment and files; fetching
 * temporary credentials (STS, container, IMDS) is asynchronous on the loop
 * (upstream_http). Temporary credentials are refreshed in the background
 * before they expire (credentials_policy); concurrent needs share one
 * refresh; a failed refresh keeps the current credentials until they
 * actually expire and is retried with backoff.
 *
 * Loop thread only. Secrets (secret keys, session tokens, web identity and
 * IMDS tokens) are wiped on release and never logged or put into errors;
 * logs name the source and at most the access key id's first 4 characters.
 */
#ifndef BGW_CREDENTIALS_H
#define BGW_CREDENTIALS_H

#include <stdbool.h>
#include <stdint.h>

#include "credentials_policy.h"
#include "status.h"

struct credentials {
    char *access_key_id;
    char *secret_access_key;
    char *session_token;   /* NULL when none */
    int64_t expires_at_ms; /* wall clock, ms since the epoch; 0 = does not expire */
    const char *source;    /* static: the provider's name */
};

/* Environment lookup, injectable for tests (getenv in production). */
typedef const char *(*credentials_getenv_fn)(const char *name);
/* Wall clock in ms since the epoch, injectable for tests. */
typedef int64_t (*credentials_clock_fn)(void);

struct credentials_provider;
struct credentials_wait;
struct event_base;

/* Reads the environment once (AWS_ACCESS_KEY_ID...). Returns NULL with err
 * (UNAVAILABLE, naming the missing variable) when no usable credentials are
 * set. Static: needs no loop. */
struct credentials_provider *credentials_provider_env_new(credentials_getenv_fn getenv_fn,
                                                          struct bgw_error *err);

struct credentials_chain_options {
    credentials_getenv_fn getenv_fn; /* required */
    credentials_clock_fn clock_fn;   /* NULL = the real wall clock */
    const char *region;              /* STS signing region and default endpoint */
    const char *access_key_id;       /* explicit config, or NULL */
    const char *secret_access_key;
    const char *session_token;
    const char *profile;        /* config default profile, or NULL */
    const char *container_host; /* NULL = http://169.254.170.2 */
    struct credentials_policy policy;
    int64_t http_timeout_ms; /* STS / container calls; 0 = 5000 */
    int64_t imds_timeout_ms; /* each IMDS call; 0 = 1000 */
    const char *ca_file;     /* NULL = system */
};

/* Chooses the source (env and files only, no network). NULL with err when
 * the configuration is unusable (e.g. AWS_ACCESS_KEY_ID without a secret, a
 * named profile that does not exist, a role without a source). */
struct credentials_provider *
credentials_provider_chain_new(const struct credentials_chain_options *o, struct bgw_error *err);
/* Gives a provider whose source fetches over the network its loop. Needed
 * before credentials_provider_wait for such sources. 0 or -1. */
int credentials_provider_attach(struct credentials_provider *p, struct event_base *base);
/* Releases everything tied to the loop (requests, timers, waiters without
 * callbacks); call before the event_base is freed. */
void credentials_provider_detach(struct credentials_provider *p);
void credentials_provider_destroy(struct credentials_provider *p);

/* The credentials to sign with now (now_ms: wall clock); borrowed, valid
 * until control returns to the loop. NULL with err (UNAVAILABLE) when none
 * are usable (not fetched yet, or expired). Never blocks, never fetches. */
const struct credentials *credentials_provider_current(struct credentials_provider *p,
                                                       int64_t now_ms, struct bgw_error *err);

/* Source name for logs: "config", "environment", "profile", "assume_role",
 * "web_identity", "container", "imds". */
const char *credentials_provider_name(const struct credentials_provider *p);
/* Non-secret description (profile, role ARN, endpoint), for the startup log. */
const char *credentials_provider_detail(const struct credentials_provider *p);
/* True when the source can produce new credentials (not config/env/static). */
bool credentials_provider_refreshable(const struct credentials_provider *p);
/* Bumped each time new credentials are installed. */
uint64_t credentials_provider_generation(const struct credentials_provider *p);
/* Usable credentials are held now. */
bool credentials_provider_resolved(struct credentials_provider *p, int64_t now_ms);

/* Asks for credentials newer than generation `stale` (force) or for any
 * usable ones (!force). Joins the refresh in flight or starts one; when the
 * wish can be met at once, still answers asynchronously. cb runs on the
 * loop with the credentials (borrowed, valid during the call) or NULL and
 * err. Returns a handle for credentials_wait_cancel, or NULL (then cb will
 * not run) with err. A forced refresh is started at most once per
 * CREDENTIALS_FORCED_REFRESH_MIN_MS: when newly fetched credentials are
 * rejected again (a skewed clock, a revoked role), the callers that ask
 * within that interval get NULL with err instead of one STS/IMDS call
 * each. */
#define CREDENTIALS_FORCED_REFRESH_MIN_MS 5000
typedef void (*credentials_wait_cb)(void *arg, const struct credentials *c,
                                    const struct bgw_error *err);
struct credentials_wait *credentials_provider_wait(struct credentials_provider *p, bool force,
                                                   uint64_t stale, credentials_wait_cb cb,
                                                   void *arg, struct bgw_error *err);
void credentials_wait_cancel(struct credentials_wait *w);

#endif
