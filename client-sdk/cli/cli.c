/*
 * bedrockgw-cli - query the bedrockgw gateway from a shell, through
 * libbedrockgw-client. One command today: `list`.
 *
 * Owns the process: parses arguments, reads the API key (file or
 * environment, never argv), prints results on stdout and at most one error
 * line on stderr, and maps failures to the documented exit codes.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <grpc/support/log.h>

#include "bedrockgw/client.h"
#include "cli_output.h"
#include "jobs.h"
#include "timeutil.h"

enum cli_exit {
    CLI_EXIT_OK = 0,
    CLI_EXIT_INTERNAL = 1, /* out of memory, stdout not writable, ... */
    CLI_EXIT_USAGE = 2,    /* bad flags or values, missing/unreadable API key or TLS files */
    CLI_EXIT_AUTH = 3,     /* UNAUTHENTICATED or PERMISSION_DENIED from the gateway */
    CLI_EXIT_SERVER = 4,   /* any other error status from the gateway */
    CLI_EXIT_NETWORK = 5,  /* gateway unreachable, TLS failure, or DEADLINE_EXCEEDED */
};

#define CLI_MAX_KEY_BYTES 4096
#define CLI_DEFAULT_TARGET "127.0.0.1:50051"

static const char *s_prog = "bedrockgw-cli";

static const char s_main_help[] =
    "usage: bedrockgw-cli <command> [options]\n"
    "       bedrockgw-cli --help | --version\n"
    "\n"
    "Queries the bedrockgw gateway (Bedrock ListModelImportJobs) over gRPC.\n"
    "\n"
    "commands:\n"
    "  list     list model import jobs (one page, or every page with --all)\n"
    "  help     help for a command: bedrockgw-cli help list\n"
    "\n"
    "Run 'bedrockgw-cli list --help' for the options, exit codes and examples.\n";

static const char s_list_help[] =
    "usage: bedrockgw-cli list [filters] [paging] [output] [connection]\n"
    "\n"
    "Lists model import jobs visible to your tenant.\n"
    "\n"
    "filters:\n"
    "  --status S            InProgress | Completed | Failed (also in-progress,\n"
    "                        completed, failed, or MODEL_IMPORT_JOB_STATUS_*)\n"
    "  --name-contains X     job name contains X (case-sensitive)\n"
    "  --created-after T     created strictly after T (RFC 3339, e.g.\n"
    "                        2024-05-01T00:00:00Z or 2024-05-01T10:00:00+05:30,\n"
    "                        or a date 2024-05-01 meaning its midnight UTC)\n"
    "  --created-before T    created strictly before T (same forms)\n"
    "paging:\n"
    "  --max-results N       page size 1-1000 (default: the gateway's)\n"
    "  --sort-order O        asc | desc (by creation time; default desc)\n"
    "  --next-token T        continue from a previous page's token\n"
    "  --all                 follow next tokens through every page, printing\n"
    "                        each page as it arrives (progress on stderr when\n"
    "                        stderr is a terminal)\n"
    "  --limit N             with --all: stop after N jobs\n"
    "output:\n"
    "  --output F            table (default) | json | ndjson\n"
    "                        json: the gateway's REST response, byte for byte\n"
    "                        (with --all, one document holding every job);\n"
    "                        ndjson: one job object per line.\n"
    "                        For one page, table and ndjson print the next\n"
    "                        token on stderr as 'next-token: T'.\n"
    "connection:\n"
    "  --target HOST:PORT    gateway gRPC address (default $BEDROCKGW_TARGET,\n"
    "                        else " CLI_DEFAULT_TARGET ")\n"
    "  --api-key-file F      file whose first line is the API key; without it\n"
    "                        the key comes from $BEDROCKGW_API_KEY (keys are\n"
    "                        never taken from the command line)\n"
    "  --tls                 use TLS (implied by the three options below)\n"
    "  --ca-file F           PEM CA bundle to verify the gateway (default:\n"
    "                        gRPC's default roots)\n"
    "  --cert-file F         client certificate chain (PEM) for mutual TLS\n"
    "  --key-file F          client private key (PEM) for mutual TLS\n"
    "  --server-name N       name expected in the gateway's certificate\n"
    "  --timeout-ms N        deadline per page, retries included (default 30000)\n"
    "  --max-attempts N      attempts per page on UNAVAILABLE, 1-10 (default 3)\n"
    "  -h, --help            this help\n"
    "\n"
    "exit codes:\n"
    "  0  success\n"
    "  1  internal error (out of memory, cannot write the output)\n"
    "  2  usage error: bad option or value, API key or TLS file missing or\n"
    "     unreadable\n"
    "  3  authentication failure: the gateway answered UNAUTHENTICATED or\n"
    "     PERMISSION_DENIED\n"
    "  4  other error answered by the gateway (INVALID_ARGUMENT,\n"
    "     UNAVAILABLE after the retries, RESOURCE_EXHAUSTED, ...)\n"
    "  5  network failure or timeout: the gateway could not be reached, the\n"
    "     TLS handshake failed, or the deadline passed (DEADLINE_EXCEEDED,\n"
    "     whether the client or the gateway noticed it first)\n"
    "Errors are one line on stderr: 'bedrockgw-cli: error: CODE: message'.\n"
    "\n"
    "examples:\n"
    "  export BEDROCKGW_API_KEY=$(cat ~/.bedrockgw-key)\n"
    "  bedrockgw-cli list --target gw.internal:50051 --max-results 10\n"
    "  bedrockgw-cli list --status Completed --created-after 2024-01-01 --all\n"
    "  bedrockgw-cli list --name-contains team-a --sort-order asc --output json\n"
    "  bedrockgw-cli list --all --output ndjson | jq -r .jobArn\n"
    "  bedrockgw-cli list --api-key-file key.txt --ca-file ca.pem \\\n"
    "      --cert-file me.pem --key-file me.key --target gw.internal:443 --all\n";

/* One clear line on stderr; control characters in msg become spaces. */
static void s_error_line(const char *code, const char *msg)
{
    char clean[BGW_CLIENT_ERROR_MESSAGE_MAX + 64];
    size_t n = 0;
    for (const char *p = msg; *p && n + 1 < sizeof(clean); p++)
        clean[n++] = iscntrl((unsigned char)*p) ? ' ' : *p;
    clean[n] = '\0';
    if (code)
        fprintf(stderr, "%s: error: %s: %s\n", s_prog, code, clean);
    else
        fprintf(stderr, "%s: error: %s\n", s_prog, clean);
}

static int s_usage(const char *fmt, const char *arg)
{
    char msg[512];
    snprintf(msg, sizeof(msg), fmt, arg ? arg : "");
    s_error_line(NULL, msg);
    fprintf(stderr, "Try '%s list --help'.\n", s_prog);
    return CLI_EXIT_USAGE;
}

static bool s_parse_int(const char *s, long min, long max, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static bool s_parse_time(const char *s, struct bgw_timestamp *out)
{
    struct bgw_time t;
    char buf[64];
    /* A bare date means midnight UTC. */
    if (strlen(s) == 10 && s[4] == '-' && s[7] == '-') {
        snprintf(buf, sizeof(buf), "%sT00:00:00Z", s);
        s = buf;
    }
    if (timeutil_parse_rfc3339(s, &t) != 0)
        return false;
    out->seconds = t.seconds;
    out->nanos = t.nanos;
    return true;
}

static int s_parse_status(const char *s)
{
    char norm[32];
    size_t n = 0;
    for (const char *p = s; *p && n + 1 < sizeof(norm); p++) {
        if (*p != '-' && *p != '_')
            norm[n++] = (char)tolower((unsigned char)*p);
    }
    norm[n] = '\0';
    if (!strcmp(norm, "inprogress"))
        return BGW_JOB_STATUS_IN_PROGRESS;
    if (!strcmp(norm, "completed"))
        return BGW_JOB_STATUS_COMPLETED;
    if (!strcmp(norm, "failed"))
        return BGW_JOB_STATUS_FAILED;
    return jobs_status_parse(s); /* proto names and numbers; -1 if unknown */
}

/* Reads the first line of path into a heap string (caller wipes + frees). */
static char *s_read_key_file(const char *path, char *why, size_t why_len)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(why, why_len, "cannot open API key file %s: %s", path, strerror(errno));
        return NULL;
    }
    char *key = calloc(1, CLI_MAX_KEY_BYTES + 2);
    if (key && !fgets(key, CLI_MAX_KEY_BYTES + 2, f)) {
        snprintf(why, why_len, "API key file %s is empty", path);
        free(key);
        key = NULL;
    } else if (!key) {
        snprintf(why, why_len, "out of memory");
    }
    fclose(f);
    if (!key)
        return NULL;
    size_t n = strlen(key);
    while (n &&
           (key[n - 1] == '\n' || key[n - 1] == '\r' || key[n - 1] == ' ' || key[n - 1] == '\t'))
        key[--n] = '\0';
    if (n == 0 || n > CLI_MAX_KEY_BYTES) {
        snprintf(why, why_len, "API key file %s: first line is empty or too long", path);
        free(key);
        return NULL;
    }
    return key;
}

static void s_wipe_free(char *p)
{
    if (!p)
        return;
    volatile char *v = p;
    while (*v)
        *v++ = '\0';
    free(p);
}

static int s_exit_for(const struct bgw_client_error *e)
{
    if (e->code == BGW_CODE_UNAUTHENTICATED || e->code == BGW_CODE_PERMISSION_DENIED)
        return CLI_EXIT_AUTH;
    if (e->code == BGW_CODE_DEADLINE_EXCEEDED)
        return CLI_EXIT_NETWORK;
    if (e->from_server)
        return CLI_EXIT_SERVER;
    if (e->code == BGW_CODE_UNAVAILABLE || e->code == BGW_CODE_DEADLINE_EXCEEDED ||
        e->code == BGW_CODE_UNKNOWN || e->code == BGW_CODE_CANCELLED)
        return CLI_EXIT_NETWORK;
    return CLI_EXIT_INTERNAL;
}

struct s_walk {
    struct cli_output *out;
    bool progress;
    size_t pages;
    size_t items;
    bool write_failed;
};

static int s_on_page(const struct bgw_list_response *page, size_t page_index, void *arg)
{
    struct s_walk *w = arg;
    (void)page_index;
    if (cli_output_page(w->out, page) != 0) {
        w->write_failed = true;
        return 1;
    }
    fflush(w->out->out);
    w->pages++;
    w->items += page->n_items;
    if (w->progress) {
        fprintf(stderr, "\r%s: %zu page%s, %zu job%s", s_prog, w->pages, w->pages == 1 ? "" : "s",
                w->items, w->items == 1 ? "" : "s");
        fflush(stderr);
    }
    return 0;
}

enum s_opt {
    O_STATUS = 256,
    O_NAME,
    O_AFTER,
    O_BEFORE,
    O_MAX,
    O_ORDER,
    O_TOKEN,
    O_ALL,
    O_LIMIT,
    O_OUTPUT,
    O_TARGET,
    O_KEYFILE,
    O_TLS,
    O_CA,
    O_CERT,
    O_KEY,
    O_SNI,
    O_TIMEOUT,
    O_ATTEMPTS,
};

static const struct option s_list_opts[] = {
    {"status", required_argument, NULL, O_STATUS},
    {"name-contains", required_argument, NULL, O_NAME},
    {"created-after", required_argument, NULL, O_AFTER},
    {"created-before", required_argument, NULL, O_BEFORE},
    {"max-results", required_argument, NULL, O_MAX},
    {"sort-order", required_argument, NULL, O_ORDER},
    {"next-token", required_argument, NULL, O_TOKEN},
    {"all", no_argument, NULL, O_ALL},
    {"limit", required_argument, NULL, O_LIMIT},
    {"output", required_argument, NULL, O_OUTPUT},
    {"target", required_argument, NULL, O_TARGET},
    {"api-key-file", required_argument, NULL, O_KEYFILE},
    {"tls", no_argument, NULL, O_TLS},
    {"ca-file", required_argument, NULL, O_CA},
    {"cert-file", required_argument, NULL, O_CERT},
    {"key-file", required_argument, NULL, O_KEY},
    {"server-name", required_argument, NULL, O_SNI},
    {"timeout-ms", required_argument, NULL, O_TIMEOUT},
    {"max-attempts", required_argument, NULL, O_ATTEMPTS},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* getopt_long accepts any unambiguous prefix of a long option; that would
 * let "--api-key SECRET" pass as --api-key-file and then print the secret
 * as a file name. Every long option must be spelled out in full. Returns
 * the first offending argument, or NULL. */
static const char *s_inexact_option(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--"))
            return NULL;
        if (strncmp(a, "--", 2) != 0)
            continue;
        size_t n = strcspn(a + 2, "=");
        const struct option *o = s_list_opts;
        while (o->name && !(strlen(o->name) == n && !strncmp(o->name, a + 2, n)))
            o++;
        if (!o->name)
            return a;
        if (o->has_arg == required_argument && !a[2 + n])
            i++; /* skip the value */
    }
    return NULL;
}

static int s_cmd_list(int argc, char **argv)
{
    struct bgw_client_options opts;
    struct bgw_list_request req;
    bgw_client_options_init(&opts);
    bgw_list_request_init(&req);
    const char *key_file = NULL;
    const char *target = getenv("BEDROCKGW_TARGET");
    bool all = false;
    long limit = 0;
    enum cli_format format = CLI_FORMAT_TABLE;
    long v;

    const char *bad = s_inexact_option(argc, argv);
    if (bad) {
        char name[64];
        snprintf(name, sizeof(name), "%.*s", (int)strcspn(bad, "="), bad);
        return s_usage("unknown option %s", name);
    }
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":h", s_list_opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            fputs(s_list_help, stdout);
            return CLI_EXIT_OK;
        case O_STATUS:
            req.status_equals = s_parse_status(optarg);
            if (req.status_equals <= 0)
                return s_usage("--status: unknown status '%s' (InProgress, Completed, Failed)",
                               optarg);
            break;
        case O_NAME:
            if (!*optarg)
                return s_usage("--name-contains: empty value%s", NULL);
            req.name_contains = optarg;
            break;
        case O_AFTER:
            req.has_creation_time_after = 1;
            if (!s_parse_time(optarg, &req.creation_time_after))
                return s_usage("--created-after: '%s' is not an RFC 3339 time "
                               "(2024-05-01T00:00:00Z) or a date",
                               optarg);
            break;
        case O_BEFORE:
            req.has_creation_time_before = 1;
            if (!s_parse_time(optarg, &req.creation_time_before))
                return s_usage("--created-before: '%s' is not an RFC 3339 time "
                               "(2024-05-01T00:00:00Z) or a date",
                               optarg);
            break;
        case O_MAX:
            if (!s_parse_int(optarg, 1, 1000, &v))
                return s_usage("--max-results: '%s' is not a number from 1 to 1000", optarg);
            req.max_results = (int)v;
            break;
        case O_ORDER:
            if (!strcmp(optarg, "asc") || !strcmp(optarg, "ascending"))
                req.sort_order = BGW_SORT_ORDER_ASCENDING;
            else if (!strcmp(optarg, "desc") || !strcmp(optarg, "descending"))
                req.sort_order = BGW_SORT_ORDER_DESCENDING;
            else
                return s_usage("--sort-order: '%s' is not asc or desc", optarg);
            req.sort_by = BGW_SORT_BY_CREATION_TIME;
            break;
        case O_TOKEN:
            if (!*optarg)
                return s_usage("--next-token: empty value%s", NULL);
            req.next_token = optarg;
            break;
        case O_ALL:
            all = true;
            break;
        case O_LIMIT:
            if (!s_parse_int(optarg, 1, LONG_MAX, &limit))
                return s_usage("--limit: '%s' is not a positive number", optarg);
            break;
        case O_OUTPUT:
            if (!strcmp(optarg, "table"))
                format = CLI_FORMAT_TABLE;
            else if (!strcmp(optarg, "json"))
                format = CLI_FORMAT_JSON;
            else if (!strcmp(optarg, "ndjson"))
                format = CLI_FORMAT_NDJSON;
            else
                return s_usage("--output: '%s' is not table, json or ndjson", optarg);
            break;
        case O_TARGET:
            target = optarg;
            break;
        case O_KEYFILE:
            key_file = optarg;
            break;
        case O_TLS:
            opts.use_tls = 1;
            break;
        case O_CA:
            opts.use_tls = 1;
            opts.tls_ca_file = optarg;
            break;
        case O_CERT:
            opts.use_tls = 1;
            opts.tls_cert_file = optarg;
            break;
        case O_KEY:
            opts.use_tls = 1;
            opts.tls_key_file = optarg;
            break;
        case O_SNI:
            opts.use_tls = 1;
            opts.tls_server_name = optarg;
            break;
        case O_TIMEOUT:
            if (!s_parse_int(optarg, 1, 24L * 3600 * 1000, &v))
                return s_usage("--timeout-ms: '%s' is not a positive number of ms", optarg);
            opts.default_timeout_ms = v;
            break;
        case O_ATTEMPTS:
            if (!s_parse_int(optarg, 1, 10, &v))
                return s_usage("--max-attempts: '%s' is not a number from 1 to 10", optarg);
            opts.max_attempts = (int)v;
            break;
        case ':':
            return s_usage("option %s needs a value", argv[optind - 1]);
        default:
            return s_usage("unknown option %s", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return s_usage("unexpected argument '%s'", argv[optind]);
    if (limit && !all)
        return s_usage("--limit needs --all%s", NULL);
    if (!opts.tls_cert_file != !opts.tls_key_file)
        return s_usage("--cert-file and --key-file go together%s", NULL);

    char *key = NULL;
    if (key_file) {
        char why[512];
        key = s_read_key_file(key_file, why, sizeof(why));
        if (!key)
            return s_usage("%s", why);
    } else {
        const char *env = getenv("BEDROCKGW_API_KEY");
        if (!env || !*env)
            return s_usage("no API key: use --api-key-file FILE or set BEDROCKGW_API_KEY%s", NULL);
        key = strdup(env);
        if (!key) {
            s_error_line(NULL, "out of memory");
            return CLI_EXIT_INTERNAL;
        }
    }
    opts.target = target && *target ? target : CLI_DEFAULT_TARGET;
    opts.api_key = key;

    int rc = CLI_EXIT_OK;
    struct bgw_client *client = NULL;
    struct bgw_client_error err;
    if (bgw_client_new(&opts, &client, &err) != BGW_CODE_OK) {
        s_wipe_free(key);
        s_error_line(NULL, err.message);
        return err.code == BGW_CODE_INVALID_ARGUMENT ? CLI_EXIT_USAGE : CLI_EXIT_INTERNAL;
    }
    s_wipe_free(key);

    struct cli_output out;
    cli_output_init(&out, format, stdout, all);
    if (all) {
        struct s_walk w = {&out, isatty(STDERR_FILENO) == 1, 0, 0, false};
        int code = bgw_client_list_all(client, &req, (size_t)limit, s_on_page, &w, NULL, &err);
        if (w.progress && w.pages) {
            fputs("\r\033[K", stderr);
            fflush(stderr);
        }
        if (w.write_failed) {
            s_error_line(NULL, "cannot write the output");
            rc = CLI_EXIT_INTERNAL;
        } else if (code != BGW_CODE_OK) {
            fflush(stdout);
            s_error_line(bgw_code_name(err.code), err.message);
            rc = s_exit_for(&err);
        } else if (cli_output_finish(&out) != 0) {
            s_error_line(NULL, "cannot write the output");
            rc = CLI_EXIT_INTERNAL;
        }
    } else {
        struct bgw_list_response *page = NULL;
        if (bgw_client_list(client, &req, &page, &err) != BGW_CODE_OK) {
            s_error_line(bgw_code_name(err.code), err.message);
            rc = s_exit_for(&err);
        } else if (cli_output_page(&out, page) != 0 || cli_output_finish(&out) != 0) {
            s_error_line(NULL, "cannot write the output");
            rc = CLI_EXIT_INTERNAL;
        } else if (format != CLI_FORMAT_JSON && page->next_token) {
            fprintf(stderr, "next-token: %s\n", page->next_token);
        }
        bgw_list_response_free(page);
    }
    bgw_client_destroy(client);
    return rc;
}

/* gRPC core logs to stderr by default; the CLI keeps stderr to its one
 * error line unless gRPC's own debugging variables ask for more. */
static void s_grpc_log_discard(gpr_log_func_args *args)
{
    (void)args;
}

int main(int argc, char **argv)
{
    if (!getenv("GRPC_VERBOSITY") && !getenv("GRPC_TRACE"))
        gpr_set_log_function(s_grpc_log_discard);
    if (argc < 2) {
        fputs(s_main_help, stderr);
        return CLI_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        fputs(s_main_help, stdout);
        return CLI_EXIT_OK;
    }
    if (!strcmp(cmd, "--version")) {
        printf("bedrockgw-cli %s (libbedrockgw-client %s)\n", BGW_VERSION, BGW_CLIENT_VERSION);
        return CLI_EXIT_OK;
    }
    if (!strcmp(cmd, "help")) {
        if (argc > 2 && !strcmp(argv[2], "list")) {
            fputs(s_list_help, stdout);
            return CLI_EXIT_OK;
        }
        fputs(s_main_help, stdout);
        return argc > 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    if (!strcmp(cmd, "list"))
        return s_cmd_list(argc - 1, argv + 1);
    fprintf(stderr, "%s: error: unknown command '%s'\nTry '%s --help'.\n", s_prog, cmd, s_prog);
    return CLI_EXIT_USAGE;
}
