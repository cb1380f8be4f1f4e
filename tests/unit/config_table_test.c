/*
 * config_table_test - the table every configuration key is declared in is
 * consistent: unique paths in known sections, each scalar's default within
 * its range and stored in a field of the right size, every key documented;
 * and config_load's defaults are the table's.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "config_table.h"
#include "test_util.h"

static const char *const s_sections[] = {"grpc",   "http",    "aws",         "gateway",  "cache",
                                         "tokens", "tenants", "credentials", "upstream", "redis"};

int main(void)
{
    CHECK(config_n_keys > 60);
    for (size_t i = 0; i < config_n_keys; i++) {
        const struct config_key *k = &config_keys[i];
        bool known = false;
        for (size_t s = 0; s < sizeof(s_sections) / sizeof(s_sections[0]); s++) {
            size_t n = strlen(s_sections[s]);
            known |= strncmp(k->path, s_sections[s], n) == 0 && (k->path[n] == '.' || !k->path[n]);
        }
        if (!CHECK(known))
            fprintf(stderr, "  %s: unknown section\n", k->path);
        for (size_t j = i + 1; j < config_n_keys; j++)
            if (!CHECK(strcmp(k->path, config_keys[j].path) != 0))
                fprintf(stderr, "  %s twice\n", k->path);
        CHECK(k->doc && *k->doc && k->def_doc && *k->def_doc);
        switch (k->type) {
        case CK_INT:
            CHECK(k->size == sizeof(int64_t) && k->def >= k->min && k->def <= k->max);
            break;
        case CK_SIZE:
            CHECK(k->size == sizeof(size_t) && k->def >= k->min && k->def <= k->max);
            break;
        case CK_BOOL:
            CHECK(k->size == sizeof(bool) && (k->def == 0 || k->def == 1));
            break;
        case CK_NUMBER:
            CHECK(k->size == sizeof(double) && k->min <= k->max);
            break;
        case CK_STRING:
        case CK_LISTEN:
            CHECK(k->size > 1 && (!k->def_str || strlen(k->def_str) < k->size));
            break;
        case CK_CUSTOM:
            CHECK(k->offset == 0 && k->size == 0);
            break;
        }
        if (k->type != CK_CUSTOM)
            CHECK(k->offset + k->size <= sizeof(struct config));
    }
    /* The defaults of a minimal config are the table's. */
    struct config cfg;
    struct buf err;
    buf_init(&err, 0);
    struct config_env env = {NULL, NULL, NULL, NULL};
    CHECK(config_load_string(
              "{\"aws\":{\"region\":\"us-east-1\"},\"tenants\":[{\"id\":\"a\",\"api_keys\":[\""
              "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
              "\"]}]}",
              "t.json", &env, &cfg, &err) == 0 ||
          fprintf(stderr, "  %s\n", err.data ? err.data : "") < 0);
    for (size_t i = 0; i < config_n_keys; i++) {
        const struct config_key *k = &config_keys[i];
        const char *f = (const char *)&cfg + k->offset;
        if (k->type == CK_INT)
            CHECK(*(const int64_t *)(const void *)f == k->def);
        else if (k->type == CK_SIZE)
            CHECK(*(const size_t *)(const void *)f == (size_t)k->def);
        else if (k->type == CK_BOOL)
            CHECK(*(const bool *)(const void *)f == (k->def != 0));
    }
    config_clean_up(&cfg);
    buf_clean_up(&err);
    return TEST_EXIT();
}
