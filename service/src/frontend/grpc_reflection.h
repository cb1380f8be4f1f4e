/*
 * grpc_reflection - answers grpc.reflection.v1 (and v1alpha, the same
 * messages) ServerReflectionRequests from a compiled descriptor set
 * (protoc --include_imports --descriptor_set_out): list services, file by
 * name, file containing a symbol (package-qualified message, field, enum,
 * enum value, service, method or extension), file containing an extension,
 * and the extension numbers of a type. Files are answered with their
 * transitive imports, each file once per stream (the caller keeps the
 * stream's `sent` set), the file asked for always.
 *
 * Pure: no I/O; the index is read-only once built, so one instance serves
 * every stream.
 */
#ifndef BGW_GRPC_REFLECTION_H
#define BGW_GRPC_REFLECTION_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct grpc_reflection;

/* The files a stream has been sent (one bit a file of the set). */
struct grpc_reflection_sent {
    uint64_t bits[4];
};

/* Indexes set (borrowed: it must outlive the index). NULL with err set when
 * the set cannot be read or has more than 256 files. */
struct grpc_reflection *grpc_reflection_new(const uint8_t *set, size_t len, struct buf *err);
void grpc_reflection_free(struct grpc_reflection *r);

/* The services of the set, package-qualified ("bedrockgw.v1.ModelImportJobs"). */
size_t grpc_reflection_service_count(const struct grpc_reflection *r);
const char *grpc_reflection_service(const struct grpc_reflection *r, size_t i);

/* One serialized ServerReflectionResponse for the serialized request req
 * into out (appended). Unknown names are answered in the response's
 * error_response (NOT_FOUND), a request with no question with
 * INVALID_ARGUMENT there. 0, or -1 when req is not a ServerReflectionRequest
 * (or out of memory): the stream should end with an error. */
int grpc_reflection_answer(const struct grpc_reflection *r, const uint8_t *req, size_t req_len,
                           struct grpc_reflection_sent *sent, struct buf *out);

#endif
