/*
 * grpc_reflection - the reflection service's answers from a descriptor set.
 * See grpc_reflection.h.
 */
#include "grpc_reflection.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "google/protobuf/descriptor.pb-c.h"
#include "grpc/reflection/v1/reflection.pb-c.h"

#define S_MAX_FILES 256
#define S_GRPC_NOT_FOUND 5
#define S_GRPC_INVALID_ARGUMENT 3

struct s_file {
    const char *name; /* in desc */
    const uint8_t *bytes;
    size_t len;
    size_t *deps; /* indices of the files it imports */
    size_t n_deps;
    Google__Protobuf__FileDescriptorProto *desc;
};

struct s_symbol {
    char *name; /* package-qualified, no leading dot */
    size_t file;
};

struct s_extension {
    char *extendee; /* package-qualified, no leading dot */
    int32_t number;
    size_t file;
};

struct grpc_reflection {
    struct s_file *files;
    size_t n_files;
    struct s_symbol *symbols;
    size_t n_symbols, cap_symbols;
    struct s_extension *extensions;
    size_t n_extensions, cap_extensions;
    char **services;
    size_t n_services;
};

/* -- the set: FileDescriptorSet { repeated FileDescriptorProto file = 1; } - */

static bool s_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return true;
    }
    return false;
}

/* "pkg" + "." + "name" (or just name without a package). */
static char *s_join(const char *scope, const char *name)
{
    size_t a = scope && scope[0] ? strlen(scope) : 0, b = strlen(name);
    char *s = malloc(a + 1 + b + 1);
    if (!s)
        return NULL;
    if (a) {
        memcpy(s, scope, a);
        s[a++] = '.';
    }
    memcpy(s + a, name, b + 1);
    return s;
}

static int s_add_symbol(struct grpc_reflection *r, char *name, size_t file)
{
    if (!name)
        return -1;
    if (r->n_symbols == r->cap_symbols) {
        size_t cap = r->cap_symbols ? 2 * r->cap_symbols : 128;
        struct s_symbol *s = realloc(r->symbols, cap * sizeof(*s));
        if (!s) {
            free(name);
            return -1;
        }
        r->symbols = s;
        r->cap_symbols = cap;
    }
    r->symbols[r->n_symbols++] = (struct s_symbol){.name = name, .file = file};
    return 0;
}

static int s_add_extension(struct grpc_reflection *r, const char *extendee, int32_t number,
                           size_t file)
{
    if (r->n_extensions == r->cap_extensions) {
        size_t cap = r->cap_extensions ? 2 * r->cap_extensions : 16;
        struct s_extension *e = realloc(r->extensions, cap * sizeof(*e));
        if (!e)
            return -1;
        r->extensions = e;
        r->cap_extensions = cap;
    }
    if (extendee[0] == '.')
        extendee++;
    char *copy = strdup(extendee);
    if (!copy)
        return -1;
    r->extensions[r->n_extensions++] =
        (struct s_extension){.extendee = copy, .number = number, .file = file};
    return 0;
}

/* Extensions declared in scope: symbols and (extendee, number) pairs. */
static int s_index_extensions(struct grpc_reflection *r, const char *scope,
                              Google__Protobuf__FieldDescriptorProto **ext, size_t n, size_t file)
{
    for (size_t i = 0; i < n; i++) {
        if (!ext[i]->name || !ext[i]->extendee)
            continue;
        if (s_add_symbol(r, s_join(scope, ext[i]->name), file) != 0 ||
            s_add_extension(r, ext[i]->extendee, ext[i]->number, file) != 0)
            return -1;
    }
    return 0;
}

/* An enum and its values (C++ scoping: values are the enum's siblings). */
static int s_index_enum(struct grpc_reflection *r, const char *scope,
                        const Google__Protobuf__EnumDescriptorProto *e, size_t file)
{
    if (!e->name)
        return 0;
    if (s_add_symbol(r, s_join(scope, e->name), file) != 0)
        return -1;
    for (size_t i = 0; i < e->n_value; i++)
        if (e->value[i]->name && s_add_symbol(r, s_join(scope, e->value[i]->name), file) != 0)
            return -1;
    return 0;
}

static int s_index_message(struct grpc_reflection *r, const char *scope,
                           const Google__Protobuf__DescriptorProto *m, size_t file, int depth)
{
    if (!m->name || depth > 32)
        return 0;
    char *name = s_join(scope, m->name);
    if (!name || s_add_symbol(r, name, file) != 0)
        return -1;
    for (size_t i = 0; i < m->n_field; i++)
        if (m->field[i]->name && s_add_symbol(r, s_join(name, m->field[i]->name), file) != 0)
            return -1;
    for (size_t i = 0; i < m->n_oneof_decl; i++)
        if (m->oneof_decl[i]->name &&
            s_add_symbol(r, s_join(name, m->oneof_decl[i]->name), file) != 0)
            return -1;
    for (size_t i = 0; i < m->n_nested_type; i++)
        if (s_index_message(r, name, m->nested_type[i], file, depth + 1) != 0)
            return -1;
    for (size_t i = 0; i < m->n_enum_type; i++)
        if (s_index_enum(r, name, m->enum_type[i], file) != 0)
            return -1;
    return s_index_extensions(r, name, m->extension, m->n_extension, file);
}

static int s_index_file(struct grpc_reflection *r, size_t i)
{
    const Google__Protobuf__FileDescriptorProto *d = r->files[i].desc;
    const char *pkg = d->package ? d->package : "";
    for (size_t k = 0; k < d->n_message_type; k++)
        if (s_index_message(r, pkg, d->message_type[k], i, 0) != 0)
            return -1;
    for (size_t k = 0; k < d->n_enum_type; k++)
        if (s_index_enum(r, pkg, d->enum_type[k], i) != 0)
            return -1;
    if (s_index_extensions(r, pkg, d->extension, d->n_extension, i) != 0)
        return -1;
    for (size_t k = 0; k < d->n_service; k++) {
        const Google__Protobuf__ServiceDescriptorProto *sv = d->service[k];
        if (!sv->name)
            continue;
        char *name = s_join(pkg, sv->name);
        if (!name || s_add_symbol(r, name, i) != 0)
            return -1;
        char **grown = realloc(r->services, (r->n_services + 1) * sizeof(*grown));
        if (!grown)
            return -1;
        r->services = grown;
        if (!(r->services[r->n_services] = strdup(name)))
            return -1;
        r->n_services++;
        for (size_t m = 0; m < sv->n_method; m++)
            if (sv->method[m]->name && s_add_symbol(r, s_join(name, sv->method[m]->name), i) != 0)
                return -1;
    }
    return 0;
}

static int s_find_file(const struct grpc_reflection *r, const char *name, size_t *out)
{
    for (size_t i = 0; i < r->n_files; i++)
        if (strcmp(r->files[i].name, name) == 0) {
            *out = i;
            return 0;
        }
    return -1;
}

struct grpc_reflection *grpc_reflection_new(const uint8_t *set, size_t len, struct buf *err)
{
    struct grpc_reflection *r = calloc(1, sizeof(*r));
    if (!r || !(r->files = calloc(S_MAX_FILES, sizeof(*r->files)))) {
        buf_append_str(err, "out of memory");
        free(r);
        return NULL;
    }
    const uint8_t *p = set, *end = set + len;
    while (p < end) {
        uint64_t tag, n;
        if (!s_varint(&p, end, &tag) || tag != ((1u << 3) | 2) || !s_varint(&p, end, &n) ||
            n > (uint64_t)(end - p)) {
            buf_append_str(err, "descriptor set: not a FileDescriptorSet");
            goto fail;
        }
        if (r->n_files == S_MAX_FILES) {
            buf_append_str(err, "descriptor set: more than 256 files");
            goto fail;
        }
        struct s_file *f = &r->files[r->n_files];
        f->bytes = p;
        f->len = (size_t)n;
        f->desc = google__protobuf__file_descriptor_proto__unpack(NULL, f->len, f->bytes);
        if (!f->desc || !f->desc->name) {
            buf_appendf(err, "descriptor set: file %zu unreadable", r->n_files);
            goto fail;
        }
        f->name = f->desc->name;
        r->n_files++;
        p += n;
    }
    for (size_t i = 0; i < r->n_files; i++) {
        struct s_file *f = &r->files[i];
        if (f->desc->n_dependency && !(f->deps = calloc(f->desc->n_dependency, sizeof(size_t)))) {
            buf_append_str(err, "out of memory");
            goto fail;
        }
        for (size_t k = 0; k < f->desc->n_dependency; k++) {
            if (s_find_file(r, f->desc->dependency[k], &f->deps[f->n_deps]) != 0) {
                buf_appendf(err, "descriptor set: %s imports %s, which is not in the set", f->name,
                            f->desc->dependency[k]);
                goto fail;
            }
            f->n_deps++;
        }
        if (s_index_file(r, i) != 0) {
            buf_append_str(err, "out of memory");
            goto fail;
        }
    }
    return r;
fail:
    grpc_reflection_free(r);
    return NULL;
}

void grpc_reflection_free(struct grpc_reflection *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_files; i++) {
        free(r->files[i].deps);
        google__protobuf__file_descriptor_proto__free_unpacked(r->files[i].desc, NULL);
    }
    free(r->files);
    for (size_t i = 0; i < r->n_symbols; i++)
        free(r->symbols[i].name);
    free(r->symbols);
    for (size_t i = 0; i < r->n_extensions; i++)
        free(r->extensions[i].extendee);
    free(r->extensions);
    for (size_t i = 0; i < r->n_services; i++)
        free(r->services[i]);
    free(r->services);
    free(r);
}

size_t grpc_reflection_service_count(const struct grpc_reflection *r)
{
    return r->n_services;
}

const char *grpc_reflection_service(const struct grpc_reflection *r, size_t i)
{
    return i < r->n_services ? r->services[i] : NULL;
}

/* -- answers ---------------------------------------------------------------- */

static bool s_sent(const struct grpc_reflection_sent *s, size_t i)
{
    return s->bits[i / 64] & (UINT64_C(1) << (i % 64));
}

static void s_mark(struct grpc_reflection_sent *s, size_t i)
{
    s->bits[i / 64] |= UINT64_C(1) << (i % 64);
}

/* The file, then its imports depth first, skipping files already sent. */
static void s_collect(const struct grpc_reflection *r, size_t i, struct grpc_reflection_sent *sent,
                      ProtobufCBinaryData *out, size_t *n, bool force)
{
    if (s_sent(sent, i) && !force)
        return;
    s_mark(sent, i);
    out[(*n)++] =
        (ProtobufCBinaryData){.len = r->files[i].len, .data = (uint8_t *)r->files[i].bytes};
    for (size_t k = 0; k < r->files[i].n_deps; k++)
        s_collect(r, r->files[i].deps[k], sent, out, n, false);
}

static int s_symbol_file(const struct grpc_reflection *r, const char *name, size_t *file)
{
    if (name[0] == '.')
        name++;
    for (size_t i = 0; i < r->n_symbols; i++)
        if (strcmp(r->symbols[i].name, name) == 0) {
            *file = r->symbols[i].file;
            return 0;
        }
    return -1;
}

static bool s_type_known(const struct grpc_reflection *r, const char *type)
{
    size_t ignored;
    return s_symbol_file(r, type, &ignored) == 0;
}

int grpc_reflection_answer(const struct grpc_reflection *r, const uint8_t *req, size_t req_len,
                           struct grpc_reflection_sent *sent, struct buf *out)
{
    Grpc__Reflection__V1__ServerReflectionRequest *q =
        grpc__reflection__v1__server_reflection_request__unpack(NULL, req_len, req);
    if (!q)
        return -1;
    Grpc__Reflection__V1__ServerReflectionResponse resp =
        GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__INIT;
    Grpc__Reflection__V1__FileDescriptorResponse files =
        GRPC__REFLECTION__V1__FILE_DESCRIPTOR_RESPONSE__INIT;
    Grpc__Reflection__V1__ListServiceResponse list =
        GRPC__REFLECTION__V1__LIST_SERVICE_RESPONSE__INIT;
    Grpc__Reflection__V1__ExtensionNumberResponse numbers =
        GRPC__REFLECTION__V1__EXTENSION_NUMBER_RESPONSE__INIT;
    Grpc__Reflection__V1__ErrorResponse error = GRPC__REFLECTION__V1__ERROR_RESPONSE__INIT;
    ProtobufCBinaryData *file_list = calloc(r->n_files ? r->n_files : 1, sizeof(*file_list));
    Grpc__Reflection__V1__ServiceResponse *svc =
        calloc(r->n_services ? r->n_services : 1, sizeof(*svc));
    Grpc__Reflection__V1__ServiceResponse **svc_list =
        calloc(r->n_services ? r->n_services : 1, sizeof(*svc_list));
    int32_t *nums = calloc(r->n_extensions ? r->n_extensions : 1, sizeof(*nums));
    char message[320];
    int rc = -1;
    if (!file_list || !svc || !svc_list || !nums)
        goto done;
    resp.valid_host = q->host;
    resp.original_request = q;
    size_t file = 0;
    const char *missing = NULL, *what = NULL;
    switch (q->message_request_case) {
    case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_LIST_SERVICES:
        for (size_t i = 0; i < r->n_services; i++) {
            grpc__reflection__v1__service_response__init(&svc[i]);
            svc[i].name = r->services[i];
            svc_list[i] = &svc[i];
        }
        list.service = svc_list;
        list.n_service = r->n_services;
        resp.message_response_case =
            GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_LIST_SERVICES_RESPONSE;
        resp.list_services_response = &list;
        break;
    case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_BY_FILENAME:
        if (s_find_file(r, q->file_by_filename, &file) != 0) {
            what = "file";
            missing = q->file_by_filename;
        }
        break;
    case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_SYMBOL:
        if (s_symbol_file(r, q->file_containing_symbol, &file) != 0) {
            what = "symbol";
            missing = q->file_containing_symbol;
        }
        break;
    case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_EXTENSION: {
        const Grpc__Reflection__V1__ExtensionRequest *x = q->file_containing_extension;
        const char *type = x && x->containing_type ? x->containing_type : "";
        if (type[0] == '.')
            type++;
        size_t i = 0;
        while (i < r->n_extensions && !(strcmp(r->extensions[i].extendee, type) == 0 &&
                                        r->extensions[i].number == x->extension_number))
            i++;
        if (i == r->n_extensions) {
            snprintf(message, sizeof(message), "extension %d of %.200s not found",
                     x ? x->extension_number : 0, type);
            error.error_code = S_GRPC_NOT_FOUND;
            error.error_message = message;
        } else {
            file = r->extensions[i].file;
        }
        break;
    }
    case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_ALL_EXTENSION_NUMBERS_OF_TYPE: {
        const char *type = q->all_extension_numbers_of_type;
        if (type[0] == '.')
            type++;
        if (!s_type_known(r, type)) {
            what = "type";
            missing = type;
            break;
        }
        for (size_t i = 0; i < r->n_extensions; i++)
            if (strcmp(r->extensions[i].extendee, type) == 0)
                nums[numbers.n_extension_number++] = r->extensions[i].number;
        numbers.base_type_name = (char *)type;
        numbers.extension_number = nums;
        resp.message_response_case =
            GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ALL_EXTENSION_NUMBERS_RESPONSE;
        resp.all_extension_numbers_response = &numbers;
        break;
    }
    default:
        error.error_code = S_GRPC_INVALID_ARGUMENT;
        error.error_message = "the request asks nothing (set one of its message_request fields)";
        break;
    }
    if (missing) {
        snprintf(message, sizeof(message), "%s not found: %.256s", what, missing);
        error.error_code = S_GRPC_NOT_FOUND;
        error.error_message = message;
    }
    if (error.error_code) {
        resp.message_response_case =
            GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ERROR_RESPONSE;
        resp.error_response = &error;
    } else if (resp.message_response_case ==
               GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE__NOT_SET) {
        s_collect(r, file, sent, file_list, &files.n_file_descriptor_proto, true);
        files.file_descriptor_proto = file_list;
        resp.message_response_case =
            GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_FILE_DESCRIPTOR_RESPONSE;
        resp.file_descriptor_response = &files;
    }
    size_t n = grpc__reflection__v1__server_reflection_response__get_packed_size(&resp);
    uint8_t *tmp = malloc(n ? n : 1);
    if (!tmp)
        goto done;
    grpc__reflection__v1__server_reflection_response__pack(&resp, tmp);
    rc = buf_append(out, tmp, n);
    free(tmp);
done:
    free(file_list);
    free(svc);
    free(svc_list);
    free(nums);
    grpc__reflection__v1__server_reflection_request__free_unpacked(q, NULL);
    return rc;
}
