/*
 * fleet - see fleet.h.
 */
#include "fleet.h"

#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "redis_conn.h"
#include "shared_value.h"

#define S_NAME_HEX 32 /* 128 bits of the HMAC name a key carries */
#define S_KEY_MAX 512

/* GET the page; with ARGV[1] == "1" and no page fresh at ARGV[4] (its
 * "<fresh_until>|" prefix), take the lease (ours already counts as taken). */
static const char s_lookup_lua[] =
    "local v = redis.call('GET', KEYS[1])\n"
    "local mine = 0\n"
    "if ARGV[1] == '1' then\n"
    "  local fu = v and tonumber(string.match(v, '^(%d+)|')) or nil\n"
    "  if not fu or fu <= tonumber(ARGV[4]) then\n"
    "    if redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) then mine = 1\n"
    "    elseif redis.call('GET', KEYS[2]) == ARGV[2] then mine = 1 end\n"
    "  end\n"
    "end\n"
    "return {mine, redis.call('EXISTS', KEYS[2]), v}\n";

static const char s_store_lua[] =
    "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])\n"
    "if redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end\n"
    "return 1\n";

static const char s_release_lua[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end\n"
    "return 0\n";

/* A token bucket in a hash {tokens, at}, Redis's clock, rate per ms. */
static const char s_take_lua[] =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "local rate = tonumber(ARGV[1]) / 1000\n"
    "local burst = tonumber(ARGV[2])\n"
    "local s = redis.call('HMGET', KEYS[1], 'tokens', 'at')\n"
    "local tokens, at = tonumber(s[1]), tonumber(s[2])\n"
    "if not tokens or not at then tokens, at = burst, now end\n"
    "if now > at then tokens = math.min(burst, tokens + (now - at) * rate); at = now end\n"
    "if tokens > burst then tokens = burst end\n"
    "local ok, wait = 0, 0\n"
    "if tokens >= 1 then ok = 1; tokens = tokens - 1\n"
    "else wait = math.ceil((1 - tokens) / rate) end\n"
    "redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(at))\n"
    "redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate) + 1000)\n"
    "return {ok, wait}\n";

enum s_script { S_LOOKUP_LUA, S_STORE_LUA, S_RELEASE_LUA, S_TAKE_LUA, S_N_SCRIPTS };
static const char *const s_scripts[S_N_SCRIPTS] = {s_lookup_lua, s_store_lua, s_release_lua,
                                                   s_take_lua};

struct fleet {
    const struct config *cfg;
    char sha[S_N_SCRIPTS][41]; /* EVALSHA names; loaded on every connect */
    struct redis_conn *rc;
    unsigned char k_name[32], k_mac[32];
    char replica[33]; /* this process's lease value */
    char where[600];  /* host:port or socket, for events */
    struct fleet_stats st;
};

enum s_kind { S_LOOKUP, S_TAKE };

struct fleet_op {
    struct fleet *f;
    struct redis_cmd *cmd;
    enum s_kind kind;
    fleet_lookup_cb lookup_cb;
    fleet_take_cb take_cb;
    void *arg;
    char name[S_KEY_MAX]; /* the value key (MAC input) */
    size_t name_len;
};

/* "<prefix>v1:<kind>:<hex of HMAC(k_name, what)>" */
static size_t s_key(const struct fleet *f, const char *kind, const void *what, size_t what_len,
                    char out[S_KEY_MAX])
{
    unsigned char m[32];
    shared_value_hmac(f->k_name, what, what_len, NULL, 0, m);
    int n = snprintf(out, S_KEY_MAX, "%sv1:%s:", f->cfg->redis.key_prefix, kind);
    for (int i = 0; i < S_NAME_HEX / 2 && n + 2 < S_KEY_MAX; i++)
        n += snprintf(out + n, (size_t)(S_KEY_MAX - n), "%02x", m[i]);
    return (size_t)n;
}

static void s_on_done(void *arg, enum redis_outcome o, const struct redisReply *reply);

/* SCRIPT LOAD of every script: sent first on a new connection (so the
 * EVALSHAs after it find them), and again if Redis says NOSCRIPT (a SCRIPT
 * FLUSH meanwhile). */
static void s_load_scripts(struct fleet *f)
{
    for (int i = 0; i < S_N_SCRIPTS; i++) {
        const char *argv[3] = {"SCRIPT", "LOAD", s_scripts[i]};
        size_t lens[3] = {6, 4, strlen(s_scripts[i])};
        redis_conn_send(f->rc, 3, argv, lens, s_on_done, NULL);
    }
}

/* A reply that says the scripts are gone: load them again (this call
 * itself went on without Redis). */
static void s_check_noscript(struct fleet *f, enum redis_outcome o, const struct redisReply *reply)
{
    if (o == REDIS_CMD_ERR && reply && reply->str && strncmp(reply->str, "NOSCRIPT", 8) == 0)
        s_load_scripts(f);
}

static void s_on_state(void *arg, bool up, const char *reason)
{
    struct fleet *f = arg;
    if (up)
        s_load_scripts(f);
    if (up)
        log_event(LOG_INFO, "redis_up", json_pack("{s:s}", "redis", f->where));
    else
        log_event(LOG_WARN, "redis_down",
                  json_pack("{s:s,s:s}", "redis", f->where, "reason", reason));
}

struct fleet *fleet_new(const struct fleet_options *o, char *why, size_t why_len)
{
    const struct config_redis *r = &o->cfg->redis;
    if (!r->url[0]) {
        snprintf(why, why_len, "redis.url is not set");
        return NULL;
    }
    struct fleet *f = calloc(1, sizeof(*f));
    if (!f) {
        snprintf(why, why_len, "out of memory");
        return NULL;
    }
    f->cfg = o->cfg;
    static const char name_label[] = "bedrockgw redis key names v1";
    static const char mac_label[] = "bedrockgw redis values v1";
    unsigned char secret[32];
    /* the secret's own length may differ from 32: derive through HMAC */
    unsigned int n = 32;
    HMAC(EVP_sha256(), o->cfg->tokens.secret, (int)o->cfg->tokens.secret_len,
         (const unsigned char *)name_label, sizeof(name_label) - 1, secret, &n);
    memcpy(f->k_name, secret, 32);
    HMAC(EVP_sha256(), o->cfg->tokens.secret, (int)o->cfg->tokens.secret_len,
         (const unsigned char *)mac_label, sizeof(mac_label) - 1, secret, &n);
    memcpy(f->k_mac, secret, 32);
    OPENSSL_cleanse(secret, sizeof(secret));
    unsigned char id[16];
    if (RAND_bytes(id, sizeof(id)) != 1) {
        snprintf(why, why_len, "no randomness for the replica id");
        fleet_destroy(f);
        return NULL;
    }
    for (int i = 0; i < 16; i++)
        snprintf(f->replica + 2 * i, 3, "%02x", id[i]);
    for (int i = 0; i < S_N_SCRIPTS; i++) {
        unsigned char d[20];
        unsigned int dn = 0;
        if (EVP_Digest(s_scripts[i], strlen(s_scripts[i]), d, &dn, EVP_sha1(), NULL) != 1) {
            snprintf(why, why_len, "cannot hash the scripts");
            fleet_destroy(f);
            return NULL;
        }
        for (int j = 0; j < 20; j++)
            snprintf(f->sha[i] + 2 * j, 3, "%02x", d[j]);
    }
    redis_url_where(&r->parsed, f->where, sizeof(f->where));
    struct redis_conn_options co = {
        .base = o->base,
        .url = &r->parsed,
        .password = r->password[0] ? r->password : NULL,
        .ca_file = r->ca_file,
        .timeout_ms = r->timeout_ms,
        .connect_timeout_ms = r->connect_timeout_ms,
        .on_state = s_on_state,
        .state_arg = f,
    };
    f->rc = redis_conn_new(&co, why, why_len);
    if (!f->rc) {
        fleet_destroy(f);
        return NULL;
    }
    return f;
}

void fleet_destroy(struct fleet *f)
{
    if (!f)
        return;
    redis_conn_destroy(f->rc);
    OPENSSL_cleanse(f->k_name, sizeof(f->k_name));
    OPENSSL_cleanse(f->k_mac, sizeof(f->k_mac));
    free(f);
}

bool fleet_up(const struct fleet *f)
{
    return f && redis_conn_up(f->rc);
}

const struct fleet_stats *fleet_stats(const struct fleet *f)
{
    return &f->st;
}

/* EVALSHA of a script (loaded at connect) with keys and args. */
static struct redis_cmd *s_eval(struct fleet *f, enum s_script script, int n_keys,
                                const char *const *keys, const size_t *key_lens, int n_args,
                                const char *const *args, const size_t *arg_lens, redis_cb cb,
                                void *arg)
{
    const char *argv[12];
    size_t lens[12];
    char nk[8];
    int n = 0;
    argv[n] = "EVALSHA";
    lens[n++] = 7;
    argv[n] = f->sha[script];
    lens[n++] = 40;
    lens[n] = (size_t)snprintf(nk, sizeof(nk), "%d", n_keys);
    argv[n++] = nk;
    for (int i = 0; i < n_keys; i++, n++) {
        argv[n] = keys[i];
        lens[n] = key_lens[i];
    }
    for (int i = 0; i < n_args; i++, n++) {
        argv[n] = args[i];
        lens[n] = arg_lens[i];
    }
    return redis_conn_send(f->rc, n, argv, lens, cb, arg);
}

/* ---- pages ---------------------------------------------------------------- */

static void s_on_lookup(void *arg, enum redis_outcome o, const struct redisReply *reply)
{
    struct fleet_op *op = arg;
    struct fleet *f = op->f;
    struct fleet_lookup r = {.result = FLEET_UNAVAILABLE};
    s_check_noscript(f, o, reply);
    struct jobs_response page;
    memset(&page, 0, sizeof(page));
    if (o == REDIS_CMD_OK && reply->type == REDIS_REPLY_ARRAY && reply->elements >= 2 &&
        reply->element[0]->type == REDIS_REPLY_INTEGER &&
        reply->element[1]->type == REDIS_REPLY_INTEGER) {
        r.result = FLEET_NO_PAGE;
        r.lease_mine = reply->element[0]->integer == 1;
        r.lease_held = reply->element[1]->integer == 1;
        const struct redisReply *v = reply->elements >= 3 ? reply->element[2] : NULL;
        int64_t fetched = 0;
        if (v && v->type == REDIS_REPLY_STRING) {
            if (shared_value_open(f->k_mac, op->name, op->name_len, v->str, v->len, &page,
                                  &fetched) == 0) {
                r.result = FLEET_PAGE;
                r.page = &page;
                r.age_ms = clock_wall_ms() - fetched;
                if (r.age_ms < 0)
                    r.age_ms = 0; /* clocks of replicas a little apart */
                if (r.age_ms < f->cfg->cache.ttl_ms)
                    f->st.l2_hits++;
                else
                    f->st.l2_stale++;
            } else {
                f->st.mac_failures++;
                log_event_limited(LOG_WARN, "redis_value_rejected",
                                  json_pack("{s:s}", "reason",
                                            "a shared cache value failed its MAC or did not "
                                            "decode; ignored"));
            }
        }
        if (r.result == FLEET_NO_PAGE)
            f->st.l2_misses++;
    } else {
        f->st.unavailable++;
    }
    fleet_lookup_cb cb = op->lookup_cb;
    void *cb_arg = op->arg;
    free(op);
    cb(cb_arg, &r);
    jobs_response_clean_up(&page);
}

/* A new operation, or NULL (Redis not up: *unavailable is counted). */
static struct fleet_op *s_op_new(struct fleet *f, enum s_kind kind, void *arg,
                                 uint64_t *unavailable)
{
    if (!fleet_up(f)) {
        if (f)
            (*unavailable)++;
        return NULL;
    }
    struct fleet_op *op = calloc(1, sizeof(*op));
    if (op) {
        op->f = f;
        op->kind = kind;
        op->arg = arg;
    }
    return op;
}

struct fleet_op *fleet_lookup(struct fleet *f, const char *key, size_t key_len, bool want_lease,
                              fleet_lookup_cb cb, void *arg)
{
    struct fleet_op *op = s_op_new(f, S_LOOKUP, arg, f ? &f->st.unavailable : NULL);
    if (!op)
        return NULL;
    op->lookup_cb = cb;
    op->name_len = s_key(f, "page", key, key_len, op->name);
    char lease[S_KEY_MAX];
    size_t lease_len = s_key(f, "lease", key, key_len, lease);
    char lease_ms[24], now[24];
    size_t lm = (size_t)snprintf(lease_ms, sizeof(lease_ms), "%" PRId64, f->cfg->redis.lease_ms);
    size_t nw = (size_t)snprintf(now, sizeof(now), "%" PRId64, clock_wall_ms());
    const char *keys[2] = {op->name, lease};
    size_t key_lens[2] = {op->name_len, lease_len};
    const char *args[4] = {want_lease ? "1" : "0", f->replica, lease_ms, now};
    size_t arg_lens[4] = {1, strlen(f->replica), lm, nw};
    op->cmd = s_eval(f, S_LOOKUP_LUA, 2, keys, key_lens, 4, args, arg_lens, s_on_lookup, op);
    if (!op->cmd) {
        free(op);
        f->st.unavailable++;
        return NULL;
    }
    return op;
}

void fleet_op_cancel(struct fleet_op *op)
{
    if (!op)
        return;
    redis_cmd_cancel(op->cmd);
    free(op);
}

/* Fire-and-forget commands; arg is the fleet for EVALSHAs (NULL for the
 * SCRIPT LOADs themselves). */
static void s_on_done(void *arg, enum redis_outcome o, const struct redisReply *reply)
{
    if (arg)
        s_check_noscript(arg, o, reply);
}

void fleet_store(struct fleet *f, const char *key, size_t key_len, const struct jobs_response *page,
                 int64_t fetched_wall_ms)
{
    if (!fleet_up(f))
        return;
    const struct config_cache *cc = &f->cfg->cache;
    char name[S_KEY_MAX], lease[S_KEY_MAX];
    size_t name_len = s_key(f, "page", key, key_len, name);
    size_t lease_len = s_key(f, "lease", key, key_len, lease);
    struct buf v;
    buf_init(&v, 0);
    int bad = shared_value_seal(f->k_mac, name, name_len, page, fetched_wall_ms,
                                fetched_wall_ms + cc->ttl_ms, &v);
    if (!bad) {
        int64_t keep = cc->ttl_ms + (cc->swr_ms > cc->sie_ms ? cc->swr_ms : cc->sie_ms);
        char px[24];
        size_t pl = (size_t)snprintf(px, sizeof(px), "%" PRId64, keep > 0 ? keep : 1);
        const char *keys[2] = {name, lease};
        size_t key_lens[2] = {name_len, lease_len};
        const char *args[3] = {v.data, px, f->replica};
        size_t arg_lens[3] = {v.len, pl, strlen(f->replica)};
        if (s_eval(f, S_STORE_LUA, 2, keys, key_lens, 3, args, arg_lens, s_on_done, f))
            f->st.l2_writes++;
    }
    buf_clean_up(&v);
}

void fleet_release(struct fleet *f, const char *key, size_t key_len)
{
    if (!fleet_up(f))
        return;
    char lease[S_KEY_MAX];
    size_t lease_len = s_key(f, "lease", key, key_len, lease);
    const char *keys[1] = {lease};
    const char *args[1] = {f->replica};
    size_t arg_lens[1] = {strlen(f->replica)};
    s_eval(f, S_RELEASE_LUA, 1, keys, &lease_len, 1, args, arg_lens, s_on_done, f);
}

/* ---- buckets ---------------------------------------------------------------- */

static void s_on_take(void *arg, enum redis_outcome o, const struct redisReply *reply)
{
    struct fleet_op *op = arg;
    enum fleet_take_result r = FLEET_TAKE_UNAVAILABLE;
    int64_t wait = 0;
    s_check_noscript(op->f, o, reply);
    if (o == REDIS_CMD_OK && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
        reply->element[0]->type == REDIS_REPLY_INTEGER &&
        reply->element[1]->type == REDIS_REPLY_INTEGER) {
        r = reply->element[0]->integer == 1 ? FLEET_TAKEN : FLEET_REFUSED;
        wait = reply->element[1]->integer;
        if (r == FLEET_REFUSED)
            op->f->st.rate_refused++;
    } else {
        op->f->st.rate_fallbacks++;
    }
    fleet_take_cb cb = op->take_cb;
    void *cb_arg = op->arg;
    free(op);
    cb(cb_arg, r, wait);
}

struct fleet_op *fleet_take(struct fleet *f, const char *kind, const char *name, double rate_per_s,
                            double burst, fleet_take_cb cb, void *arg)
{
    struct fleet_op *op = s_op_new(f, S_TAKE, arg, f ? &f->st.rate_fallbacks : NULL);
    if (!op)
        return NULL;
    op->take_cb = cb;
    char kd[64];
    snprintf(kd, sizeof(kd), "rate:%s", kind);
    size_t kl = s_key(f, kd, name, strlen(name), op->name);
    char rate[40], cap[40];
    size_t rl = (size_t)snprintf(rate, sizeof(rate), "%.6f", rate_per_s);
    size_t cl = (size_t)snprintf(cap, sizeof(cap), "%.6f", burst);
    const char *keys[1] = {op->name};
    const char *args[2] = {rate, cap};
    size_t arg_lens[2] = {rl, cl};
    op->cmd = s_eval(f, S_TAKE_LUA, 1, keys, &kl, 2, args, arg_lens, s_on_take, op);
    if (!op->cmd) {
        free(op);
        f->st.rate_fallbacks++;
        return NULL;
    }
    return op;
}

/* ---- metrics ---------------------------------------------------------------- */

int fleet_metrics_render(const struct fleet *f, struct buf *out)
{
    const struct redis_stats *rs = redis_conn_stats(f->rc);
    const struct fleet_stats *s = &f->st;
    int bad = buf_appendf(out,
                          "# HELP bedrockgw_redis_up Whether the connection to the shared Redis "
                          "is up (1) or not (0).\n# TYPE bedrockgw_redis_up gauge\n"
                          "bedrockgw_redis_up %d\n",
                          fleet_up(f) ? 1 : 0);
    bad |= buf_appendf(out, "# HELP bedrockgw_redis_commands_total Redis commands by outcome "
                            "(refused: not sent, the connection was down).\n"
                            "# TYPE bedrockgw_redis_commands_total counter\n");
    for (int i = 0; i < REDIS_CMD_OUTCOME_COUNT; i++)
        bad |= buf_appendf(out, "bedrockgw_redis_commands_total{outcome=\"%s\"} %" PRIu64 "\n",
                           redis_outcome_str((enum redis_outcome)i), rs->outcomes[i]);
    bad |= buf_appendf(out, "bedrockgw_redis_commands_total{outcome=\"refused\"} %" PRIu64 "\n",
                       rs->refused);
    bad |= buf_appendf(out, "# HELP bedrockgw_redis_command_duration_seconds Time to a Redis "
                            "reply.\n# TYPE bedrockgw_redis_command_duration_seconds histogram\n");
    for (int i = 0; i < REDIS_LATENCY_BUCKETS; i++)
        bad |= buf_appendf(
            out, "bedrockgw_redis_command_duration_seconds_bucket{le=\"%g\"} %" PRIu64 "\n",
            redis_latency_bounds_s[i], rs->latency_le[i]);
    bad |= buf_appendf(out,
                       "bedrockgw_redis_command_duration_seconds_bucket{le=\"+Inf\"} %" PRIu64
                       "\nbedrockgw_redis_command_duration_seconds_sum %.6f\n"
                       "bedrockgw_redis_command_duration_seconds_count %" PRIu64 "\n",
                       rs->latency_count, rs->latency_sum_s, rs->latency_count);
    bad |= buf_appendf(out,
                       "# HELP bedrockgw_redis_connects_total Connections to Redis made (handshake "
                       "done).\n# TYPE bedrockgw_redis_connects_total counter\n"
                       "bedrockgw_redis_connects_total %" PRIu64 "\n",
                       rs->connects);
    bad |= buf_appendf(out,
                       "# HELP bedrockgw_cache_l2_total Lookups in the shared (Redis) cache tier "
                       "after a local miss.\n# TYPE bedrockgw_cache_l2_total counter\n"
                       "bedrockgw_cache_l2_total{result=\"hit\"} %" PRIu64 "\n"
                       "bedrockgw_cache_l2_total{result=\"stale\"} %" PRIu64 "\n"
                       "bedrockgw_cache_l2_total{result=\"miss\"} %" PRIu64 "\n",
                       s->l2_hits, s->l2_stale, s->l2_misses);
    bad |= buf_appendf(out,
                       "# HELP bedrockgw_cache_l2_writes_total Pages written to the shared tier.\n"
                       "# TYPE bedrockgw_cache_l2_writes_total counter\n"
                       "bedrockgw_cache_l2_writes_total %" PRIu64 "\n",
                       s->l2_writes);
    bad |= buf_appendf(out,
                       "# HELP bedrockgw_redis_mac_failures_total Shared values ignored: their MAC "
                       "failed or they did not decode.\n"
                       "# TYPE bedrockgw_redis_mac_failures_total counter\n"
                       "bedrockgw_redis_mac_failures_total %" PRIu64 "\n",
                       s->mac_failures);
    bad |= buf_appendf(out,
                       "# HELP bedrockgw_redis_lease_total Fleet-wide single flight: leases taken "
                       "(this replica called Bedrock for the fleet), polls while another replica "
                       "held one, waits given up (own call).\n"
                       "# TYPE bedrockgw_redis_lease_total counter\n"
                       "bedrockgw_redis_lease_total{event=\"taken\"} %" PRIu64 "\n"
                       "bedrockgw_redis_lease_total{event=\"wait\"} %" PRIu64 "\n"
                       "bedrockgw_redis_lease_total{event=\"gave_up\"} %" PRIu64 "\n",
                       s->leases_taken, s->lease_waits, s->lease_timeouts);
    bad |= buf_appendf(out,
                       "# HELP bedrockgw_redis_unavailable_total Cache operations that went on "
                       "without Redis (down, slow, refused).\n"
                       "# TYPE bedrockgw_redis_unavailable_total counter\n"
                       "bedrockgw_redis_unavailable_total %" PRIu64 "\n",
                       s->unavailable);
    bad |=
        buf_appendf(out,
                    "# HELP bedrockgw_redis_rate_limit_total Fleet-wide bucket decisions: "
                    "refused by the shared bucket, or taken locally because Redis was "
                    "unavailable.\n# TYPE bedrockgw_redis_rate_limit_total counter\n"
                    "bedrockgw_redis_rate_limit_total{decision=\"refused\"} %" PRIu64 "\n"
                    "bedrockgw_redis_rate_limit_total{decision=\"local_fallback\"} %" PRIu64 "\n",
                    s->rate_refused, s->rate_fallbacks);
    return bad ? -1 : 0;
}

struct fleet_stats *fleet_stats_mut(struct fleet *f)
{
    return &f->st;
}
