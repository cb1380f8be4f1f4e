/*
 * fake-bedrock - an emulator of AWS Bedrock's ListModelImportJobs for tests:
 * real SigV4 verification, Bedrock's validation and paging semantics, and a
 * control plane under /_fake/ for request inspection and fault injection.
 * See README.md in this directory.
 *
 * This file: command line, wiring, signals, the loop. One thread; all state
 * lives in struct fake_server on the loop. The secret key is never printed.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <event2/http.h>

#include "api.h"
#include "control.h"
#include "dataset.h"
#include "fake_server.h"
#include "reply.h"

static void s_usage(FILE *out)
{
    fprintf(out, "usage: fake-bedrock --listen HOST:PORT --region R --access-key AKID\n"
                 "                    --secret-key SECRET [--session-token TOK]\n"
                 "                    [--data FILE.json | --generate N [--seed S]]\n"
                 "                    [--max-skew-s 900] [--default-max-results 1000]\n"
                 "                    [--max-body-bytes 67108864]\n"
                 "\n"
                 "Emulates GET /model-import-jobs (Bedrock ListModelImportJobs) with SigV4\n"
                 "verification; control plane under /_fake/ (see README.md). PORT 0 picks a\n"
                 "free port. Once listening, prints {\"event\":\"ready\",\"port\":N} on stdout.\n"
                 "SIGTERM/SIGINT exit 0.\n");
}

static int s_parse_i64(const char *s, long long min, long long max, long long *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int s_parse_u64(const char *s, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    if (*s == '-')
        return -1;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno != 0 || end == s || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

/* "HOST:PORT" or "[v6]:PORT"; host copied into host_out. */
static int s_parse_listen(const char *text, char *host_out, size_t host_len, uint16_t *port)
{
    const char *colon = strrchr(text, ':');
    if (!colon || colon == text)
        return -1;
    const char *h = text;
    size_t hlen = (size_t)(colon - text);
    if (h[0] == '[' && hlen >= 2 && h[hlen - 1] == ']') {
        h++;
        hlen -= 2;
    }
    if (hlen == 0 || hlen >= host_len)
        return -1;
    long long p;
    if (s_parse_i64(colon + 1, 0, 65535, &p) != 0)
        return -1;
    memcpy(host_out, h, hlen);
    host_out[hlen] = '\0';
    *port = (uint16_t)p;
    return 0;
}

static void s_on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    event_base_loopbreak(arg);
}

static void s_on_request(struct evhttp_request *req, void *arg)
{
    struct fake_server *s = arg;
    const char *uri = evhttp_request_get_uri(req);
    if (!uri) {
        /* libevent calls back without a URI after a parse or size error and
         * expects a reply. */
        int code = evhttp_request_get_response_code(req);
        evhttp_send_error(req, code >= 400 ? code : 400, NULL);
        return;
    }
    const char *qmark = strchr(uri, '?');
    size_t path_len = qmark ? (size_t)(qmark - uri) : strlen(uri);
    char *path = strndup(uri, path_len);
    if (!path) {
        evhttp_send_error(req, 500, NULL);
        return;
    }
    if (strncmp(path, "/_fake/", 7) == 0)
        control_handle(s, req, path);
    else
        api_handle(s, req, path, qmark ? qmark + 1 : NULL);
    free(path);
}

int main(int argc, char **argv)
{
    int rc = 2;
    struct fake_config cfg = {
        .generate_n = -1,
        .seed = 1,
        .max_skew_s = FAKE_DEFAULT_MAX_SKEW_S,
        .default_max_results = FAKE_DEFAULT_MAX_RESULTS,
        .max_body_bytes = FAKE_DEFAULT_MAX_BODY_BYTES,
    };
    static struct fake_server server; /* large (rings); zero-initialized */
    struct fake_server *s = &server;
    struct event *sigterm = NULL, *sigint = NULL;
    const char *listen_text = NULL;
    char host[256];
    json_t *root = NULL;

    enum {
        O_LISTEN = 1000,
        O_REGION,
        O_AK,
        O_SK,
        O_TOK,
        O_DATA,
        O_GEN,
        O_SEED,
        O_SKEW,
        O_DEFMAX,
        O_MAXBODY
    };
    static const struct option opts[] = {
        {"listen", required_argument, NULL, O_LISTEN},
        {"region", required_argument, NULL, O_REGION},
        {"access-key", required_argument, NULL, O_AK},
        {"secret-key", required_argument, NULL, O_SK},
        {"session-token", required_argument, NULL, O_TOK},
        {"data", required_argument, NULL, O_DATA},
        {"generate", required_argument, NULL, O_GEN},
        {"seed", required_argument, NULL, O_SEED},
        {"max-skew-s", required_argument, NULL, O_SKEW},
        {"default-max-results", required_argument, NULL, O_DEFMAX},
        {"max-body-bytes", required_argument, NULL, O_MAXBODY},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    long long v;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_LISTEN:
            listen_text = optarg;
            break;
        case O_REGION:
            cfg.region = optarg;
            break;
        case O_AK:
            cfg.access_key_id = optarg;
            break;
        case O_SK:
            cfg.secret_access_key = optarg;
            break;
        case O_TOK:
            cfg.session_token = optarg;
            break;
        case O_DATA:
            cfg.data_path = optarg;
            break;
        case O_GEN:
            if (s_parse_i64(optarg, 0, FAKE_GENERATE_MAX, &v) != 0) {
                fprintf(stderr, "fake-bedrock: --generate must be 0..%d\n", FAKE_GENERATE_MAX);
                goto cleanup;
            }
            cfg.generate_n = (long)v;
            break;
        case O_SEED:
            if (s_parse_u64(optarg, &cfg.seed) != 0) {
                fprintf(stderr, "fake-bedrock: --seed must be an unsigned integer\n");
                goto cleanup;
            }
            break;
        case O_SKEW:
            if (s_parse_i64(optarg, 0, 10LL * 365 * 86400, &v) != 0) {
                fprintf(stderr, "fake-bedrock: --max-skew-s must be a non-negative integer\n");
                goto cleanup;
            }
            cfg.max_skew_s = v;
            break;
        case O_DEFMAX:
            if (s_parse_i64(optarg, 1, 1000, &v) != 0) {
                fprintf(stderr, "fake-bedrock: --default-max-results must be 1..1000\n");
                goto cleanup;
            }
            cfg.default_max_results = v;
            break;
        case O_MAXBODY:
            if (s_parse_i64(optarg, 1024, 1LL << 32, &v) != 0) {
                fprintf(stderr, "fake-bedrock: --max-body-bytes must be 1024..4294967296\n");
                goto cleanup;
            }
            cfg.max_body_bytes = (size_t)v;
            break;
        case 'h':
            s_usage(stdout);
            rc = 0;
            goto cleanup;
        default:
            s_usage(stderr);
            goto cleanup;
        }
    }
    if (optind != argc || !listen_text || !cfg.region || !cfg.access_key_id ||
        !cfg.secret_access_key) {
        fprintf(stderr, "fake-bedrock: --listen, --region, --access-key and --secret-key are "
                        "required\n");
        s_usage(stderr);
        goto cleanup;
    }
    if (cfg.data_path && cfg.generate_n >= 0) {
        fprintf(stderr, "fake-bedrock: --data and --generate are exclusive\n");
        goto cleanup;
    }
    if (s_parse_listen(listen_text, host, sizeof(host), &cfg.listen_port) != 0) {
        fprintf(stderr, "fake-bedrock: --listen wants HOST:PORT\n");
        goto cleanup;
    }
    cfg.listen_host = host;
    s->cfg = &cfg;

    rc = 1;
    if (cfg.data_path) {
        json_error_t jerr;
        char err[256];
        root = json_load_file(cfg.data_path, 0, &jerr);
        if (!root) {
            fprintf(stderr, "fake-bedrock: %s:%d: %s\n", cfg.data_path, jerr.line, jerr.text);
            goto cleanup;
        }
        s->data = dataset_new_from_json(root, err, sizeof(err));
        if (!s->data) {
            fprintf(stderr, "fake-bedrock: %s: %s\n", cfg.data_path, err);
            goto cleanup;
        }
    } else {
        s->data = dataset_new_generated(cfg.generate_n > 0 ? (size_t)cfg.generate_n : 0, cfg.seed,
                                        cfg.region);
        if (!s->data) {
            fprintf(stderr, "fake-bedrock: out of memory\n");
            goto cleanup;
        }
    }

    signal(SIGPIPE, SIG_IGN);
    s->base = event_base_new();
    s->http = s->base ? evhttp_new(s->base) : NULL;
    if (!s->http) {
        fprintf(stderr, "fake-bedrock: libevent setup failed\n");
        goto cleanup;
    }
    evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                            EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                            EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
    evhttp_set_max_headers_size(s->http, FAKE_MAX_HEADERS_BYTES);
    evhttp_set_max_body_size(s->http, (ev_ssize_t)cfg.max_body_bytes);
    evhttp_set_timeout(s->http, FAKE_CONN_TIMEOUT_S);
    evhttp_set_gencb(s->http, s_on_request, s);
    struct evhttp_bound_socket *bound =
        evhttp_bind_socket_with_handle(s->http, cfg.listen_host, cfg.listen_port);
    if (!bound) {
        fprintf(stderr, "fake-bedrock: cannot listen on %s: %s\n", listen_text, strerror(errno));
        goto cleanup;
    }
    struct sockaddr_storage ss;
    socklen_t ss_len = sizeof(ss);
    int port = -1;
    if (getsockname(evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&ss, &ss_len) == 0) {
        if (ss.ss_family == AF_INET)
            port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        else if (ss.ss_family == AF_INET6)
            port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    if (port < 0) {
        fprintf(stderr, "fake-bedrock: getsockname failed\n");
        goto cleanup;
    }
    sigterm = evsignal_new(s->base, SIGTERM, s_on_signal, s->base);
    sigint = evsignal_new(s->base, SIGINT, s_on_signal, s->base);
    if (!sigterm || !sigint || evsignal_add(sigterm, NULL) != 0 ||
        evsignal_add(sigint, NULL) != 0) {
        fprintf(stderr, "fake-bedrock: signal setup failed\n");
        goto cleanup;
    }
    fprintf(stderr, "fake-bedrock: listening on %s port %d, region %s, %zu jobs\n", cfg.listen_host,
            port, cfg.region, s->data->n);
    printf("{\"event\":\"ready\",\"port\":%d}\n", port);
    fflush(stdout);

    if (event_base_dispatch(s->base) < 0) {
        fprintf(stderr, "fake-bedrock: event loop failed\n");
        goto cleanup;
    }
    rc = 0;
cleanup:
    api_pending_flush_all(s);
    if (s->http)
        evhttp_free(s->http);
    if (sigterm)
        event_free(sigterm);
    if (sigint)
        event_free(sigint);
    if (s->base)
        event_base_free(s->base);
    control_clean_up(s);
    control_free_keys(s);
    dataset_destroy(s->data);
    json_decref(root);
    return rc;
}
