/*
 * openapi_doc - the REST contract's OpenAPI 3.1 document (docs/openapi.json)
 * as built into the binary: the bytes of the committed file, unchanged, and
 * their entity tag. The definitions are generated at build time
 * (service/embed.cmake); there is no openapi_doc.c in the tree.
 *
 * Read-only data: no functions, no I/O, any thread.
 */
#ifndef BGW_OPENAPI_DOC_H
#define BGW_OPENAPI_DOC_H

#include <stddef.h>

/* docs/openapi.json; openapi_doc_len bytes (a NUL follows them). */
extern const unsigned char openapi_doc_bytes[];
extern const size_t openapi_doc_len;
/* Strong ETag of those bytes, quoted: "\"sha256:<32 hex digits>\"". */
extern const char openapi_doc_etag[];

#endif
