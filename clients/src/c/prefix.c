/*
 * Ensemble key prefixing, the same key forms as smartflow/client/_prefix.py: writes go under
 * "<SSKEYOUT>.<name>", reads come from "<source>.<name>" where the source is the first SSKEYIN
 * entry (or SSKEYOUT when SSKEYIN is empty) until set_data_source picks another. Tensors,
 * datasets and lists are prefixed by default, models and scripts are not.
 */
#include "internal.h"
#include "c_client.h"

#include <stdlib.h>
#include <string.h>

static char* trimmed(const char* s, size_t len)
{
    while (len && (*s == ' ' || *s == '\t')) { s++; len--; }
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t')) len--;
    return sf_strndup(s, len);
}

void sf_prefix_init(sf_client* c)
{
    const char* out = getenv("SSKEYOUT");
    c->put_prefix = trimmed(out ? out : "", out ? strlen(out) : 0);
    const char* in = getenv("SSKEYIN");
    if (in) {
        const char* p = in;
        for (;;) {
            const char* end = strchr(p, ',');
            size_t len = end ? (size_t)(end - p) : strlen(p);
            char* s = trimmed(p, len);
            if (s && *s) {
                char** grown = realloc(c->sources, (c->n_sources + 1) * sizeof *grown);
                if (grown) { c->sources = grown; c->sources[c->n_sources++] = s; s = NULL; }
            }
            free(s);
            if (!end) break;
            p = end + 1;
        }
    }
    c->data_source = strdup(c->n_sources ? c->sources[0] : (c->put_prefix ? c->put_prefix : ""));
    c->prefix_on[SF_TENSOR] = c->prefix_on[SF_DATASET] = c->prefix_on[SF_LIST] = true;
    c->prefix_on[SF_MODEL] = false;
}

void sf_prefix_free(sf_client* c)
{
    free(c->put_prefix);
    for (size_t i = 0; i < c->n_sources; i++) free(c->sources[i]);
    free(c->sources);
    free(c->data_source);
    c->put_prefix = c->data_source = NULL;
    c->sources = NULL;
    c->n_sources = 0;
}

static char* joined(const char* prefix, const char* name, size_t len)
{
    size_t pl = prefix ? strlen(prefix) : 0;
    if (!pl) return sf_strndup(name, len);
    char* k = malloc(pl + 1 + len + 1);
    if (!k) return NULL;
    memcpy(k, prefix, pl);
    k[pl] = '.';
    memcpy(k + pl + 1, name, len);
    k[pl + 1 + len] = '\0';
    return k;
}

char* sf_key_out(const sf_client* c, sf_kind kind, const char* name, size_t len)
{
    return joined(c->prefix_on[kind] ? c->put_prefix : NULL, name, len);
}

char* sf_key_in(const sf_client* c, sf_kind kind, const char* name, size_t len)
{
    return joined(c->prefix_on[kind] ? c->data_source : NULL, name, len);
}

SRError sf_check_name(const char* name, size_t len, const char* what, const char* where)
{
    if (!name) return sf_fail(SRParameterError, where, "%s is NULL", what);
    if (len == 0) return sf_fail(SRParameterError, where, "%s is empty", what);
    if (memchr(name, '\0', len))
        return sf_fail(SRParameterError, where, "%s contains a NUL byte", what);
    return SRNoError;
}

SRError set_data_source(void* c_client, const char* source_id, const size_t source_id_length)
{
    const char* where = "set_data_source";
    sf_client* c = NULL;
    SF_CHECK(sf_client_check(c_client, where, &c));
    SF_CHECK(sf_check_name(source_id, source_id_length, "source_id", where));
    for (size_t i = 0; i < c->n_sources; i++) {
        if (strlen(c->sources[i]) == source_id_length &&
            memcmp(c->sources[i], source_id, source_id_length) == 0) {
            char* s = strdup(c->sources[i]);
            if (!s) return sf_fail(SRBadAllocError, where, "out of memory");
            free(c->data_source);
            c->data_source = s;
            return SRNoError;
        }
    }
    sf_buf known = {0};
    for (size_t i = 0; i < c->n_sources; i++)
        sf_buf_printf(&known, "%s%s", i ? ", " : "", c->sources[i]);
    SRError rc = sf_fail(SRParameterError, where,
                         "data source '%.*s' is not one of this client's incoming entities "
                         "(SSKEYIN: %s); register it with model.register_incoming_entity(...)",
                         (int)source_id_length, source_id,
                         known.len ? known.data : "none: SSKEYIN is not set");
    sf_buf_free(&known);
    return rc;
}

static SRError use_prefix(void* c_client, sf_kind kind, bool on, const char* where)
{
    sf_client* c = NULL;
    SF_CHECK(sf_client_check(c_client, where, &c));
    c->prefix_on[kind] = on;
    return SRNoError;
}

SRError use_tensor_ensemble_prefix(void* c_client, bool use_prefix_)
{ return use_prefix(c_client, SF_TENSOR, use_prefix_, "use_tensor_ensemble_prefix"); }
SRError use_dataset_ensemble_prefix(void* c_client, bool use_prefix_)
{ return use_prefix(c_client, SF_DATASET, use_prefix_, "use_dataset_ensemble_prefix"); }
SRError use_model_ensemble_prefix(void* c_client, bool use_prefix_)
{ return use_prefix(c_client, SF_MODEL, use_prefix_, "use_model_ensemble_prefix"); }
SRError use_list_ensemble_prefix(void* c_client, bool use_prefix_)
{ return use_prefix(c_client, SF_LIST, use_prefix_, "use_list_ensemble_prefix"); }
