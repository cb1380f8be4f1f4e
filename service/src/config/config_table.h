/*
 * config_table - every configuration key, declared once: its path, type,
 * range, default, where it lives in struct config, whether SIGHUP applies
 * it, and its one-line documentation. config.c loads the scalar keys and
 * checks unknown keys with it, config_ref.c finds the restart-only keys
 * that changed on a reload with it, and docs/configuration.md's reference
 * table is generated from it (bedrockgw --config-reference; a ctest fails
 * when the committed table is stale).
 *
 * CK_CUSTOM keys (objects, lists, secrets, the endpoint) are parsed by
 * hand in config.c; they are here for the allow-lists, the restart rule and
 * the reference. No I/O.
 */
#ifndef BGW_CONFIG_TABLE_H
#define BGW_CONFIG_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum config_key_type {
    CK_INT,    /* int64_t */
    CK_SIZE,   /* size_t */
    CK_BOOL,   /* bool */
    CK_NUMBER, /* double */
    CK_STRING, /* char[size] */
    CK_LISTEN, /* char[size], "host:port" */
    CK_CUSTOM, /* parsed in config.c */
};

struct config_key {
    const char *path; /* "section.name" (tls keys: "grpc.tls.cert_file") */
    enum config_key_type type;
    int64_t min, max;    /* CK_INT, CK_SIZE, CK_NUMBER */
    int64_t def;         /* CK_INT, CK_SIZE, CK_BOOL, CK_NUMBER */
    const char *def_str; /* CK_STRING, CK_LISTEN; NULL = "" */
    size_t offset, size; /* the field in struct config (not CK_CUSTOM) */
    bool reload;         /* SIGHUP applies it; false: a change needs a restart */
    const char *def_doc; /* the default as the reference shows it */
    const char *doc;
};

extern const struct config_key config_keys[];
extern const size_t config_n_keys;

/* The reference table (markdown), as docs/configuration.md carries it. */
int config_table_reference(struct buf *out);

#endif
