/*
 * grpc_wire - the gRPC-over-HTTP/2 framing and metadata formats, as pure
 * functions (no I/O): grpc-timeout, the 5-byte message prefix,
 * grpc-message percent-encoding, and grpc-status-details-bin (a
 * google.rpc.Status with the BadRequest / RetryInfo details REST sends,
 * in unpadded base64).
 */
#ifndef BGW_GRPC_WIRE_H
#define BGW_GRPC_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "status.h"

#define GRPC_WIRE_PREFIX 5

/* grpc-timeout ("1-8 digits" + H M S m u n) in milliseconds, rounded down
 * (so "1n" and "999u" are 0: already due); -1 when malformed. */
int64_t grpc_wire_timeout_ms(const char *value);

enum grpc_wire_frame {
    GRPC_WIRE_ONE,        /* exactly one uncompressed message */
    GRPC_WIRE_NONE,       /* no bytes at all */
    GRPC_WIRE_TRUNCATED,  /* a prefix or message cut short */
    GRPC_WIRE_MANY,       /* bytes after the first message */
    GRPC_WIRE_COMPRESSED, /* compressed flag set */
    GRPC_WIRE_BAD_FLAG,   /* flag byte other than 0 or 1 */
};

/* The single message of a unary request body. */
enum grpc_wire_frame grpc_wire_unframe(const uint8_t *body, size_t len, const uint8_t **msg,
                                       size_t *msg_len);
void grpc_wire_prefix(uint8_t out[GRPC_WIRE_PREFIX], size_t msg_len);
/* The message length a prefix announces (its flag byte is not looked at). */
size_t grpc_wire_length(const uint8_t prefix[GRPC_WIRE_PREFIX]);

/* grpc-message: bytes outside 0x20..0x7E and '%' as %XX. 0 or -1. */
int grpc_wire_percent_encode(struct buf *out, const char *text);

/* google.rpc.Status{code, message, details} for e, base64 without padding
 * (the -bin metadata form). 0 or -1. */
int grpc_wire_status_details_bin(struct buf *out, const struct bgw_error *e);

#endif
