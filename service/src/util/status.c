/*
 * status - error vocabulary and the one status -> gRPC / HTTP table.
 * See status.h. No I/O.
 */
#include "status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *str;
    int grpc_code;
    const char *grpc_name;
    int http;
} s_table[BGW_STATUS_COUNT] = {
    [BGW_OK] = {"ok", 0, "OK", 200},
    [BGW_ERR_INVALID_ARGUMENT] = {"invalid argument", 3, "INVALID_ARGUMENT", 400},
    [BGW_ERR_UNAUTHENTICATED] = {"unauthenticated", 16, "UNAUTHENTICATED", 401},
    [BGW_ERR_PERMISSION_DENIED] = {"permission denied", 7, "PERMISSION_DENIED", 403},
    [BGW_ERR_NOT_FOUND] = {"not found", 5, "NOT_FOUND", 404},
    [BGW_ERR_RESOURCE_EXHAUSTED] = {"resource exhausted", 8, "RESOURCE_EXHAUSTED", 429},
    [BGW_ERR_UNAVAILABLE] = {"unavailable", 14, "UNAVAILABLE", 503},
    [BGW_ERR_DEADLINE_EXCEEDED] = {"deadline exceeded", 4, "DEADLINE_EXCEEDED", 504},
    [BGW_ERR_BAD_GATEWAY] = {"bad gateway", 13, "INTERNAL", 502},
    [BGW_ERR_INTERNAL] = {"internal error", 13, "INTERNAL", 500},
    [BGW_ERR_NOMEM] = {"out of memory", 8, "RESOURCE_EXHAUSTED", 500},
    [BGW_ERR_CANCELLED] = {"cancelled", 1, "CANCELLED", 499},
    [BGW_ERR_UNIMPLEMENTED] = {"unimplemented", 12, "UNIMPLEMENTED", 501},
    [BGW_ERR_METHOD_NOT_ALLOWED] = {"method not allowed", 12, "UNIMPLEMENTED", 405},
};

static int s_valid(enum bgw_status s)
{
    return (int)s >= 0 && s < BGW_STATUS_COUNT;
}

const char *bgw_status_str(enum bgw_status s)
{
    return s_valid(s) ? s_table[s].str : "unknown status";
}

int bgw_status_grpc_code(enum bgw_status s)
{
    return s_valid(s) ? s_table[s].grpc_code : 2;
}

const char *bgw_status_grpc_name(enum bgw_status s)
{
    return s_valid(s) ? s_table[s].grpc_name : "UNKNOWN";
}

int bgw_status_http(enum bgw_status s)
{
    return s_valid(s) ? s_table[s].http : 500;
}

void bgw_error_clear(struct bgw_error *e)
{
    memset(e, 0, sizeof(*e));
}

enum bgw_status bgw_error_set(struct bgw_error *e, enum bgw_status s, const char *field,
                              const char *fmt, ...)
{
    e->status = s;
    e->retry_after_s = 0;
    snprintf(e->field, sizeof(e->field), "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);
    return s;
}
