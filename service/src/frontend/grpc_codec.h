/*
 * grpc_codec - bedrockgw.v1 protobuf messages <-> the jobs model, for the
 * gRPC front (pure functions; unit-tested and fuzzed on their own).
 */
#ifndef BGW_GRPC_CODEC_H
#define BGW_GRPC_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "jobs.h"
#include "status.h"

/* Decodes a ListModelImportJobsRequest into req (which must be zeroed; its
 * strings are heap copies the caller frees with the request). A string
 * field holding a NUL byte is refused (as REST refuses %00). BGW_OK, or the
 * error in err. */
enum bgw_status grpc_codec_decode_request(const uint8_t *msg, size_t len, struct jobs_request *req,
                                          struct bgw_error *err);

/* The ListModelImportJobsResponse in wire form, replacing out's content
 * (handler_render_fn). 0, or -1 when memory runs out. */
int grpc_codec_render_response(const struct jobs_response *resp, struct buf *out);

#endif
