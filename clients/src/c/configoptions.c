/* ConfigOptions (c_configoptions.h): environment variables, suffixed by a store identifier,
 * with per-object overrides. */
#include "internal.h"
#include "c_configoptions.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct { char* name; char* value; } sf_option;

typedef struct sf_config {
    sf_object obj;          /* obj.name: the suffix ("" for the default store) */
    sf_option* overrides; size_t n_overrides;
    char** handed_out; size_t n_handed;
} sf_config;

static SRError config_check(void* p, const char* where, sf_config** out)
{
    sf_config* c = p;
    if (!c || c->obj.kind != SF_KIND_CONFIG)
        return sf_fail(SRParameterError, where, "not a ConfigOptions object (NULL or freed?)");
    *out = c;
    return SRNoError;
}

SRError create_configoptions_from_environment(const char* db_suffix, const size_t db_suffix_length,
                                              void** new_configoptions)
{
    const char* where = "create_configoptions_from_environment";
    if (!new_configoptions || (!db_suffix && db_suffix_length))
        return sf_fail(SRParameterError, where, "NULL argument");
    sf_config* c = calloc(1, sizeof *c);
    if (!c) return sf_fail(SRBadAllocError, where, "out of memory");
    c->obj.kind = SF_KIND_CONFIG;
    c->obj.name = sf_strndup(db_suffix ? db_suffix : "", db_suffix_length);
    if (!c->obj.name) { free(c); return sf_fail(SRBadAllocError, where, "out of memory"); }
    *new_configoptions = c;
    return SRNoError;
}

SRError DeallocateConfigOptions(void** configoptions)
{
    sf_config* c = NULL;
    if (!configoptions) return sf_fail(SRParameterError, "DeallocateConfigOptions", "NULL");
    SF_CHECK(config_check(*configoptions, "DeallocateConfigOptions", &c));
    for (size_t i = 0; i < c->n_overrides; i++) {
        free(c->overrides[i].name);
        free(c->overrides[i].value);
    }
    for (size_t i = 0; i < c->n_handed; i++) free(c->handed_out[i]);
    free(c->overrides);
    free(c->handed_out);
    free(c->obj.name);
    c->obj.kind = 0;
    free(c);
    *configoptions = NULL;
    return SRNoError;
}

/* The value of option name: an override, else the variable NAME[_suffix]; NULL when unset. */
const char* sf_config_lookup(void* cfg, const char* name, size_t len)
{
    sf_config* c = cfg;
    for (size_t i = 0; i < c->n_overrides; i++)
        if (strlen(c->overrides[i].name) == len && memcmp(c->overrides[i].name, name, len) == 0)
            return c->overrides[i].value;
    char var[512];
    if (c->obj.name[0])
        snprintf(var, sizeof var, "%.*s_%s", (int)len, name, c->obj.name);
    else
        snprintf(var, sizeof var, "%.*s", (int)len, name);
    const char* v = getenv(var);
    return v;
}

/* The suffix of a ConfigOptions (for error messages and the password variable name). */
const char* sf_config_suffix(void* cfg) { return ((sf_config*)cfg)->obj.name; }
SRError sf_config_validate(void* cfg, const char* where)
{
    sf_config* c = NULL;
    return config_check(cfg, where, &c);
}

SRError get_integer_option(void* c_cfgopts, const char* option_name, size_t option_name_len,
                           int64_t* result)
{
    const char* where = "get_integer_option";
    sf_config* c = NULL;
    SF_CHECK(config_check(c_cfgopts, where, &c));
    if (!option_name || !result) return sf_fail(SRParameterError, where, "NULL argument");
    const char* v = sf_config_lookup(c, option_name, option_name_len);
    if (!v) return sf_fail(SRKeyError, where, "option '%.*s' is not configured",
                           (int)option_name_len, option_name);
    char* end = NULL;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (end == v || *end != '\0' || errno)
        /* The value stays out of the message: the option may be a secret (SSDB_PASSWORD). */
        return sf_fail(SRParameterError, where, "option '%.*s' is not an integer",
                       (int)option_name_len, option_name);
    *result = (int64_t)x;
    return SRNoError;
}

SRError get_string_option(void* c_cfgopts, const char* option_name, size_t option_name_len,
                          char** result, size_t* result_len)
{
    const char* where = "get_string_option";
    sf_config* c = NULL;
    SF_CHECK(config_check(c_cfgopts, where, &c));
    if (!option_name || !result || !result_len) return sf_fail(SRParameterError, where, "NULL argument");
    const char* v = sf_config_lookup(c, option_name, option_name_len);
    if (!v) return sf_fail(SRKeyError, where, "option '%.*s' is not configured",
                           (int)option_name_len, option_name);
    char** grown = realloc(c->handed_out, (c->n_handed + 1) * sizeof *grown);
    char* copy = strdup(v);
    if (!grown || !copy) { free(copy); if (grown) c->handed_out = grown;
                           return sf_fail(SRBadAllocError, where, "out of memory"); }
    c->handed_out = grown;
    c->handed_out[c->n_handed++] = copy;
    *result = copy;
    *result_len = strlen(copy);
    return SRNoError;
}

SRError is_configured(void* c_cfgopts, const char* option_name, size_t option_name_len,
                      bool* cfg_result)
{
    const char* where = "is_configured";
    sf_config* c = NULL;
    SF_CHECK(config_check(c_cfgopts, where, &c));
    if (!option_name || !cfg_result) return sf_fail(SRParameterError, where, "NULL argument");
    *cfg_result = sf_config_lookup(c, option_name, option_name_len) != NULL;
    return SRNoError;
}

static SRError set_override(sf_config* c, const char* name, size_t len, const char* value,
                            size_t value_len, const char* where)
{
    for (size_t i = 0; i < c->n_overrides; i++) {
        if (strlen(c->overrides[i].name) == len && memcmp(c->overrides[i].name, name, len) == 0) {
            char* v = sf_strndup(value, value_len);
            if (!v) return sf_fail(SRBadAllocError, where, "out of memory");
            free(c->overrides[i].value);
            c->overrides[i].value = v;
            return SRNoError;
        }
    }
    sf_option* grown = realloc(c->overrides, (c->n_overrides + 1) * sizeof *grown);
    if (!grown) return sf_fail(SRBadAllocError, where, "out of memory");
    c->overrides = grown;
    sf_option o = { sf_strndup(name, len), sf_strndup(value, value_len) };
    if (!o.name || !o.value) { free(o.name); free(o.value);
                               return sf_fail(SRBadAllocError, where, "out of memory"); }
    c->overrides[c->n_overrides++] = o;
    return SRNoError;
}

SRError override_integer_option(void* c_cfgopts, const char* option_name, size_t option_name_len,
                                int64_t value)
{
    const char* where = "override_integer_option";
    sf_config* c = NULL;
    SF_CHECK(config_check(c_cfgopts, where, &c));
    if (!option_name) return sf_fail(SRParameterError, where, "NULL option name");
    char text[32];
    int n = snprintf(text, sizeof text, "%lld", (long long)value);
    return set_override(c, option_name, option_name_len, text, (size_t)n, where);
}

SRError override_string_option(void* c_cfgopts, const char* option_name, size_t option_name_len,
                               const char* value, size_t value_len)
{
    const char* where = "override_string_option";
    sf_config* c = NULL;
    SF_CHECK(config_check(c_cfgopts, where, &c));
    if (!option_name || (!value && value_len)) return sf_fail(SRParameterError, where, "NULL argument");
    return set_override(c, option_name, option_name_len, value ? value : "", value_len, where);
}
