/*
 * fake_server - the state of the Bedrock emulator (fake-bedrock) and the
 * limits it enforces.
 *
 * One event_base thread owns everything in struct fake_server: the
 * configuration, the data set, the request log, the counters, the fault
 * queue and the deferred ("delay") replies. Nothing here is shared with
 * another thread, so nothing is locked. The secret access key lives only in
 * the configuration and is never logged or echoed.
 */
#ifndef FAKE_SERVER_H
#define FAKE_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Named limits, each with a default that the command line may change. */
#define FAKE_DEFAULT_MAX_SKEW_S 900
#define FAKE_DEFAULT_MAX_RESULTS 1000                     /* Bedrock's maximum; see README */
#define FAKE_DEFAULT_MAX_BODY_BYTES (64u * 1024u * 1024u) /* PUT /_fake/jobs */
#define FAKE_MAX_HEADERS_BYTES (32 * 1024)                /* request line + headers */
#define FAKE_MAX_QUERY_PARAMS 64
#define FAKE_MAX_HEADERS 128
#define FAKE_LOG_MAX 1000              /* request log entries kept */
#define FAKE_FAULT_QUEUE_MAX 1024      /* queued fault entries (posts) */
#define FAKE_FAULT_COUNT_MAX 1000000   /* "count" of one fault entry */
#define FAKE_FAULT_DELAY_MAX_MS 120000 /* below FAKE_CONN_TIMEOUT_S */
#define FAKE_GENERATE_MAX 1000000
#define FAKE_CONN_TIMEOUT_S 300
#define FAKE_EXTRA_KEYS_MAX 256 /* key pairs added with POST /_fake/credentials */

/* A key pair accepted besides --access-key (e.g. issued by a fake STS). */
struct fake_key {
    char *access_key_id;
    char *secret_access_key; /* never printed */
    char *session_token;     /* NULL = none expected */
    bool expired;            /* answer 403 ExpiredTokenException */
};

struct fake_config {
    const char *listen_host;
    uint16_t listen_port; /* 0 = pick a free port */
    const char *region;
    const char *access_key_id;
    const char *secret_access_key; /* never printed */
    const char *session_token;     /* NULL = none expected */
    const char *data_path;         /* NULL unless --data */
    long generate_n;               /* -1 unless --generate */
    uint64_t seed;
    int64_t max_skew_s;
    int64_t default_max_results;
    size_t max_body_bytes;
};

enum fake_fault_kind {
    FAKE_FAULT_NONE = 0,
    FAKE_FAULT_THROTTLE,
    FAKE_FAULT_INTERNAL,
    FAKE_FAULT_VALIDATION,
    FAKE_FAULT_ACCESS_DENIED,
    FAKE_FAULT_DELAY,
    FAKE_FAULT_MALFORMED,
    FAKE_FAULT_DROP,
    FAKE_FAULT_EMPTY_PAGE,
    FAKE_FAULT_EXPIRED_TOKEN, /* 403 ExpiredTokenException whatever the key */
};

/* "throttle" ...; NULL for NONE. */
const char *fake_fault_kind_str(enum fake_fault_kind k);
/* -1 when unknown. */
int fake_fault_kind_parse(const char *s);

struct fake_fault {
    enum fake_fault_kind kind;
    int64_t remaining; /* API calls this entry still applies to */
    int64_t delay_ms;
    int64_t retry_after_s; /* <= 0: no Retry-After header */
    bool retry_after_date; /* Retry-After as an IMF-fixdate, now + retry_after_date_s */
    int64_t retry_after_date_s;
};

struct fake_counters {
    uint64_t requests_total;    /* every non-control request */
    uint64_t list_ok;           /* 200 with a real page (incl. delayed) */
    uint64_t auth_failed;       /* SigV4 check failed */
    uint64_t validation_failed; /* real validation errors (not injected) */
    uint64_t faults_injected;   /* API calls a fault was applied to */
};

struct dataset;
struct api_pending;
struct event_base;
struct evhttp;

struct fake_server {
    const struct fake_config *cfg;
    struct event_base *base;
    struct evhttp *http;
    struct dataset *data; /* owned; replaced by PUT /_fake/jobs */

    /* Request log: a ring of json_t objects (owned references). */
    json_t *log[FAKE_LOG_MAX];
    size_t log_start; /* index of the oldest entry */
    size_t log_n;

    struct fake_counters counters;

    /* Fault queue: a ring, FIFO across posts. */
    struct fake_fault faults[FAKE_FAULT_QUEUE_MAX];
    size_t fault_start;
    size_t fault_n;

    /* Deferred replies of the "delay" fault (doubly linked, owned). */
    struct api_pending *pending;

    uint64_t request_seq; /* for x-amzn-RequestId */

    struct fake_key keys[FAKE_EXTRA_KEYS_MAX];
    size_t n_keys;
};

#endif
