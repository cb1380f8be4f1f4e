/*
 * grpc_wire - see grpc_wire.h.
 */
#include "grpc_wire.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

int64_t grpc_wire_timeout_ms(const char *v)
{
    int64_t n = 0;
    size_t digits = 0;
    while (v[digits] >= '0' && v[digits] <= '9') {
        n = n * 10 + (v[digits] - '0');
        if (++digits > 8)
            return -1;
    }
    if (digits == 0 || v[digits] == '\0' || v[digits + 1] != '\0')
        return -1;
    switch (v[digits]) {
    case 'H':
        return n * 3600000;
    case 'M':
        return n * 60000;
    case 'S':
        return n * 1000;
    case 'm':
        return n;
    case 'u':
        return n / 1000;
    case 'n':
        return n / 1000000;
    default:
        return -1;
    }
}

enum grpc_wire_frame grpc_wire_unframe(const uint8_t *body, size_t len, const uint8_t **msg,
                                       size_t *msg_len)
{
    if (len == 0)
        return GRPC_WIRE_NONE;
    if (len < GRPC_WIRE_PREFIX)
        return GRPC_WIRE_TRUNCATED;
    if (body[0] > 1)
        return GRPC_WIRE_BAD_FLAG;
    size_t n = grpc_wire_length(body);
    if (n > len - GRPC_WIRE_PREFIX)
        return GRPC_WIRE_TRUNCATED;
    if (n < len - GRPC_WIRE_PREFIX)
        return GRPC_WIRE_MANY;
    if (body[0] == 1)
        return GRPC_WIRE_COMPRESSED;
    *msg = body + GRPC_WIRE_PREFIX;
    *msg_len = n;
    return GRPC_WIRE_ONE;
}

size_t grpc_wire_length(const uint8_t prefix[GRPC_WIRE_PREFIX])
{
    return (size_t)prefix[1] << 24 | (size_t)prefix[2] << 16 | (size_t)prefix[3] << 8 | prefix[4];
}

void grpc_wire_prefix(uint8_t out[GRPC_WIRE_PREFIX], size_t n)
{
    out[0] = 0;
    out[1] = (uint8_t)(n >> 24);
    out[2] = (uint8_t)(n >> 16);
    out[3] = (uint8_t)(n >> 8);
    out[4] = (uint8_t)n;
}

int grpc_wire_percent_encode(struct buf *out, const char *text)
{
    static const char hex[] = "0123456789ABCDEF";
    int bad = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p >= 0x20 && *p <= 0x7e && *p != '%') {
            bad |= buf_append_char(out, (char)*p);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            bad |= buf_append(out, e, 3);
        }
    }
    return bad ? -1 : 0;
}

/* -- protobuf writing, just what google.rpc.Status needs ------------------- */

static int s_varint(struct buf *b, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    do {
        tmp[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    return buf_append(b, tmp, n);
}

static int s_bytes(struct buf *b, unsigned field, const void *p, size_t n)
{
    return s_varint(b, (uint64_t)field << 3 | 2) | s_varint(b, n) | buf_append(b, p, n);
}

static int s_str(struct buf *b, unsigned field, const char *s)
{
    return s_bytes(b, field, s, strlen(s));
}

/* field = Any{type_url, value = inner} */
static int s_any(struct buf *b, unsigned field, const char *type, const struct buf *inner)
{
    struct buf any;
    buf_init(&any, 0);
    int bad = s_str(&any, 1, type) | s_bytes(&any, 2, inner->data ? inner->data : "", inner->len);
    bad |= bad ? -1 : s_bytes(b, field, any.data, any.len);
    buf_clean_up(&any);
    return bad ? -1 : 0;
}

static int s_status_proto(struct buf *b, const struct bgw_error *e)
{
    const char *message = e->message[0] ? e->message : bgw_status_str(e->status);
    int bad = 0;
    int code = bgw_status_grpc_code(e->status);
    if (code)
        bad |= s_varint(b, 1 << 3 | 0) | s_varint(b, (uint64_t)code);
    bad |= s_str(b, 2, message);
    if (e->status == BGW_ERR_INVALID_ARGUMENT && e->field[0]) {
        struct buf fv, br;
        buf_init(&fv, 0);
        buf_init(&br, 0);
        bad |= s_str(&fv, 1, e->field) | s_str(&fv, 2, message);
        bad |= s_bytes(&br, 1, fv.data, fv.len);
        bad |= s_any(b, 3, "type.googleapis.com/google.rpc.BadRequest", &br);
        buf_clean_up(&fv);
        buf_clean_up(&br);
    }
    if (e->retry_after_s > 0) {
        struct buf dur, ri;
        buf_init(&dur, 0);
        buf_init(&ri, 0);
        bad |= s_varint(&dur, 1 << 3 | 0) | s_varint(&dur, (uint64_t)e->retry_after_s);
        bad |= s_bytes(&ri, 1, dur.data, dur.len);
        bad |= s_any(b, 3, "type.googleapis.com/google.rpc.RetryInfo", &ri);
        buf_clean_up(&dur);
        buf_clean_up(&ri);
    }
    return bad ? -1 : 0;
}

int grpc_wire_status_details_bin(struct buf *out, const struct bgw_error *e)
{
    struct buf pb;
    buf_init(&pb, 0);
    int rc = s_status_proto(&pb, e);
    if (rc == 0) {
        size_t room = 4 * ((pb.len + 2) / 3) + 1;
        unsigned char *tmp = malloc(room);
        if (!tmp) {
            rc = -1;
        } else {
            int n =
                EVP_EncodeBlock(tmp, (const unsigned char *)(pb.data ? pb.data : ""), (int)pb.len);
            while (n > 0 && tmp[n - 1] == '=')
                n--; /* gRPC's -bin values are unpadded */
            rc = buf_append(out, tmp, (size_t)n);
            free(tmp);
        }
    }
    buf_clean_up(&pb);
    return rc;
}
