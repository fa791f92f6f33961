/* DataSets (c_dataset.h): named tensors plus metadata fields, held in memory. The store format
 * is in dataset_codec.c, put/get in dataset_store.c. */
#include "internal.h"
#include "c_dataset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

SRError sf_dataset_check(const void* d, const char* where, sf_dataset** out)
{
    sf_dataset* ds = (sf_dataset*)d;
    if (!ds || ds->obj.kind != SF_KIND_DATASET)
        return sf_fail(SRParameterError, where, "not a DataSet (NULL or deallocated?)");
    *out = ds;
    return SRNoError;
}

/* Remember p to free with the dataset (frees p and fails when out of memory). */
static SRError own(sf_dataset* d, void* p, const char* where)
{
    if (d->n_owned == d->cap_owned) {
        size_t cap = d->cap_owned ? d->cap_owned * 2 : 8;
        void** grown = realloc(d->owned, cap * sizeof *grown);
        if (!grown) { free(p); return sf_fail(SRBadAllocError, where, "out of memory"); }
        d->owned = grown;
        d->cap_owned = cap;
    }
    d->owned[d->n_owned++] = p;
    return SRNoError;
}

SRError CDataSet(const char* name, const size_t name_length, void** new_dataset)
{
    const char* where = "CDataSet";
    if (!new_dataset) return sf_fail(SRParameterError, where, "new_dataset is NULL");
    SF_CHECK(sf_check_name(name, name_length, "name", where));
    sf_dataset* d = calloc(1, sizeof *d);
    if (!d) return sf_fail(SRBadAllocError, where, "out of memory");
    d->obj.kind = SF_KIND_DATASET;
    d->obj.name = sf_strndup(name, name_length);
    if (!d->obj.name) { free(d); return sf_fail(SRBadAllocError, where, "out of memory"); }
    *new_dataset = d;
    return SRNoError;
}

static void meta_free(sf_meta* m)
{
    free(m->name);
    free(m->values);
    for (size_t i = 0; m->strings && i < m->n; i++) free(m->strings[i]);
    free(m->strings);
    free(m->lengths);
}

SRError DeallocateDataSet(void** dataset)
{
    sf_dataset* d = NULL;
    if (!dataset) return sf_fail(SRParameterError, "DeallocateDataSet", "dataset is NULL");
    SF_CHECK(sf_dataset_check(*dataset, "DeallocateDataSet", &d));
    for (size_t i = 0; i < d->n_tensors; i++) {
        free(d->tensors[i].name);
        free(d->tensors[i].dims);
        free(d->tensors[i].data);
    }
    free(d->tensors);
    for (size_t i = 0; i < d->n_meta; i++) meta_free(&d->meta[i]);
    free(d->meta);
    for (size_t i = 0; i < d->n_owned; i++) free(d->owned[i]);
    free(d->owned);
    free(d->description);
    free(d->obj.name);
    d->obj.kind = 0;
    free(d);
    *dataset = NULL;
    return SRNoError;
}

static sf_dtensor* find_tensor(sf_dataset* d, const char* name, size_t len)
{
    for (size_t i = 0; i < d->n_tensors; i++)
        if (strlen(d->tensors[i].name) == len && memcmp(d->tensors[i].name, name, len) == 0)
            return &d->tensors[i];
    return NULL;
}

static sf_meta* find_meta(sf_dataset* d, const char* name, size_t len)
{
    for (size_t i = 0; i < d->n_meta; i++)
        if (strlen(d->meta[i].name) == len && memcmp(d->meta[i].name, name, len) == 0)
            return &d->meta[i];
    return NULL;
}

/* Adds a tensor whose row-major data the dataset takes over (used by the decoder too). */
SRError sf_dataset_take_tensor(sf_dataset* d, const char* name, size_t len, SRTensorType type,
                               const uint64_t* shape, size_t ndim, char* data, size_t nbytes,
                               const char* where)
{
    if (find_tensor(d, name, len)) {
        free(data);
        return sf_fail(SRRuntimeError, where, "dataset '%s' already has a tensor named '%.*s'",
                       d->obj.name, (int)len, name);
    }
    sf_dtensor* grown = realloc(d->tensors, (d->n_tensors + 1) * sizeof *grown);
    if (!grown) { free(data); return sf_fail(SRBadAllocError, where, "out of memory"); }
    d->tensors = grown;
    sf_dtensor t = { sf_strndup(name, len), type, ndim, malloc((ndim ? ndim : 1) * sizeof(size_t)),
                     data, nbytes, "" };
    if (!t.name || !t.dims) {
        free(t.name); free(t.dims); free(data);
        return sf_fail(SRBadAllocError, where, "out of memory");
    }
    for (size_t i = 0; i < ndim; i++) t.dims[i] = (size_t)shape[i];
    d->tensors[d->n_tensors++] = t;
    return SRNoError;
}

SRError add_tensor(void* dataset, const char* name, const size_t name_length, void* data,
                   const size_t* dims, const size_t n_dims, const SRTensorType type,
                   const SRMemoryLayout mem_layout)
{
    const char* where = "add_tensor";
    sf_dataset* d = NULL;
    SF_CHECK(sf_dataset_check(dataset, where, &d));
    SF_CHECK(sf_check_name(name, name_length, "name", where));
    if (!data || !dims || n_dims == 0 || n_dims > SF_MAX_NDIM)
        return sf_fail(SRParameterError, where, "data and at least one dimension are needed");
    size_t itemsize = sf_type_size(type);
    if (!itemsize) return sf_fail(SRTypeError, where, "invalid tensor type %d", (int)type);
    uint64_t shape[SF_MAX_NDIM];
    size_t n = 1;
    for (size_t i = 0; i < n_dims; i++) {
        if (dims[i] == 0) return sf_fail(SRParameterError, where, "dimension %zu is zero", i);
        if (n > SIZE_MAX / itemsize / dims[i]) return sf_fail(SRParameterError, where, "tensor too large");
        n *= dims[i];
        shape[i] = dims[i];
    }
    char* copy = malloc(n * itemsize);
    if (!copy) return sf_fail(SRBadAllocError, where, "out of memory");
    SRError rc = sf_pack(copy, data, dims, n_dims, itemsize, mem_layout, where);
    if (rc != SRNoError) { free(copy); return rc; }
    return sf_dataset_take_tensor(d, name, name_length, type, shape, n_dims, copy, n * itemsize, where);
}

size_t sf_meta_size(SRMetaDataType t)
{
    switch (t) {
    case SRMetadataTypeDouble: case SRMetadataTypeInt64: case SRMetadataTypeUint64: return 8;
    case SRMetadataTypeFloat: case SRMetadataTypeInt32: case SRMetadataTypeUint32: return 4;
    default: return 0;
    }
}

static SRError meta_field(sf_dataset* d, const char* name, size_t len, SRMetaDataType type,
                          sf_meta** out, const char* where)
{
    sf_meta* m = find_meta(d, name, len);
    if (m) {
        if (m->type != type)
            return sf_fail(SRTypeError, where, "metadata field '%.*s' holds another type",
                           (int)len, name);
        *out = m;
        return SRNoError;
    }
    sf_meta* grown = realloc(d->meta, (d->n_meta + 1) * sizeof *grown);
    if (!grown) return sf_fail(SRBadAllocError, where, "out of memory");
    d->meta = grown;
    m = &d->meta[d->n_meta];
    memset(m, 0, sizeof *m);
    m->name = sf_strndup(name, len);
    if (!m->name) return sf_fail(SRBadAllocError, where, "out of memory");
    m->type = type;
    d->n_meta++;
    *out = m;
    return SRNoError;
}

SRError sf_meta_append_scalar(sf_dataset* d, const char* name, size_t len, const void* value,
                              SRMetaDataType type, const char* where)
{
    size_t size = sf_meta_size(type);
    if (!size) return sf_fail(SRTypeError, where, "invalid scalar metadata type %d", (int)type);
    sf_meta* m = NULL;
    SF_CHECK(meta_field(d, name, len, type, &m, where));
    char* grown = realloc(m->values, (m->n + 1) * size);
    if (!grown) return sf_fail(SRBadAllocError, where, "out of memory");
    m->values = grown;
    memcpy(grown + m->n * size, value, size);
    m->n++;
    return SRNoError;
}

SRError sf_meta_append_string(sf_dataset* d, const char* name, size_t len, const char* s,
                              size_t s_len, const char* where)
{
    sf_meta* m = NULL;
    SF_CHECK(meta_field(d, name, len, SRMetadataTypeString, &m, where));
    char** strings = realloc(m->strings, (m->n + 1) * sizeof *strings);
    if (!strings) return sf_fail(SRBadAllocError, where, "out of memory");
    m->strings = strings;
    size_t* lengths = realloc(m->lengths, (m->n + 1) * sizeof *lengths);
    if (!lengths) return sf_fail(SRBadAllocError, where, "out of memory");
    m->lengths = lengths;
    char* copy = sf_strndup(s, s_len);
    if (!copy) return sf_fail(SRBadAllocError, where, "out of memory");
    m->strings[m->n] = copy;
    m->lengths[m->n] = s_len;
    m->n++;
    return SRNoError;
}

SRError add_meta_scalar(void* dataset, const char* name, const size_t name_length,
                        const void* data, const SRMetaDataType type)
{
    const char* where = "add_meta_scalar";
    sf_dataset* d = NULL;
    SF_CHECK(sf_dataset_check(dataset, where, &d));
    SF_CHECK(sf_check_name(name, name_length, "name", where));
    if (!data) return sf_fail(SRParameterError, where, "data is NULL");
    if (type == SRMetadataTypeString)
        return sf_fail(SRTypeError, where, "use add_meta_string for string metadata");
    return sf_meta_append_scalar(d, name, name_length, data, type, where);
}

SRError add_meta_string(void* dataset, const char* name, const size_t name_length,
                        const char* data, const size_t data_length)
{
    const char* where = "add_meta_string";
    sf_dataset* d = NULL;
    SF_CHECK(sf_dataset_check(dataset, where, &d));
    SF_CHECK(sf_check_name(name, name_length, "name", where));
    if (!data && data_length) return sf_fail(SRParameterError, where, "data is NULL");
    return sf_meta_append_string(d, name, name_length, data ? data : "", data_length, where);
}

static SRError tensor_of(sf_dataset* d, const char* name, size_t len, sf_dtensor** out,
                         const char* where)
{
    SF_CHECK(sf_check_name(name, len, "name", where));
    *out = find_tensor(d, name, len);
    if (!*out)
        return sf_fail(SRKeyError, where, "dataset '%s' has no tensor named '%.*s'", d->obj.name,
                       (int)len, name);
    if ((*out)->type == SRTensorTypeInvalid)
        return sf_fail(SRTypeError, where, "tensor '%.*s' of dataset '%s' has a dtype SmartRedis's "
                       "API has no SRTensorType for", (int)len, name, d->obj.name);
    return SRNoError;
}

SRError get_dataset_tensor(void* dataset, const char* name, const size_t name_length, void** data,
                           size_t** dims, size_t* n_dims, SRTensorType* type,
                           const SRMemoryLayout mem_layout)
{
    const char* where = "get_dataset_tensor";
    sf_dataset* d = NULL;
    sf_dtensor* t = NULL;
    SF_CHECK(sf_dataset_check(dataset, where, &d));
    if (!data || !dims || !n_dims || !type) return sf_fail(SRParameterError, where, "NULL output argument");
    SF_CHECK(tensor_of(d, name, name_length, &t, where));
    uint64_t shape[SF_MAX_NDIM];
    for (size_t i = 0; i < t->ndim; i++) shape[i] = t->dims[i];
    void* out = NULL;
    SF_CHECK(sf_alloc_layout(&out, t->data, shape, t->ndim, sf_type_size(t->type), mem_layout, where));
    SF_CHECK(own(d, out, where));
    size_t* out_dims = malloc((t->ndim ? t->ndim : 1) * sizeof *out_dims);
    if (!out_dims) return sf_fail(SRBadAllocError, where, "out of memory");
    memcpy(out_dims, t->dims, t->ndim * sizeof *out_dims);
    SF_CHECK(own(d, out_dims, where));
    *data = out;
    *dims = out_dims;
    *n_dims = t->ndim;
    *type = t->type;
    return SRNoError;
}

SRError unpack_dataset_tensor(void* dataset, const char* name, const size_t name_length, void* data,
                              const size_t* dims, const size_t n_dims, const SRTensorType type,
                              const SRMemoryLayout mem_layout)
{
    const char* where = "unpack_dataset_tensor";
    sf_dataset* d = NULL;
    sf_dtensor* t = NULL;
    SF_CHECK(sf_dataset_check(dataset, where, &d));
    if (!data) return sf_fail(SRParameterError, where, "data is NULL");
    SF_CHECK(tensor_of(d, name, name_length, &t, where));
    sf_header h;
    memset(&h, 0, sizeof h);
    h.type = t->type;
    h.itemsize = sf_type_size(t->type);
    h.ndim = t->ndim;
    for (size_t i = 0; i < t->ndim; i++) h.shape[i] = t->dims[i];
    h.data_len = t->nbytes;
    snprintf(h.typestr, sizeof h.typestr, "%s", sf_type_typestr(t->type));
    SF_CHECK(sf_check_unpack(&h, dims, n_dims, type, mem_layout, t->name, where));
    return sf_unpack(data, t->data, t->dims, t->ndim, h.itemsize, mem_layout, where);
}

static SRError meta_of(sf_dataset* d, const char* name, size_t len, sf_meta** out, const char* where)
{
    SF_CHECK(sf_check_name(name, len, "name", where));
    *out = find_meta(d, name, len);
    if (!*out)
        return sf_fail(SRKeyError, where, "dataset '%s' has no metadata field '%.*s'", d->obj.name,
                       (int)len, name);
    return SRNoError;
}

SRError get_meta_scalars(void* dataset, const char* name, const size_t name_length, size_t* length,
                         SRMetaDataType* type, void** scalar_data)
{
    const char* where = "get_meta_scalars";
    sf_dataset* d = NULL;
    sf_meta* m = NULL;
    SF_CHECK(sf_dataset_check(dataset, where, &d));
    if (!length || !type || !scalar_data) return sf_fail(SRParameterError, where, "NULL output argument");
    SF_CHECK(meta_of(d, name, name_length, &m, where));
    if (m->type == SRMetadataTypeString)
        return sf_fail(SRTypeError, where, "metadata field '%s' holds strings: use get_meta_strings", m->name);
    *length = m->n;
    *type = m->type;
    *scalar_data = m->values;
    return SRNoError;
}

SRError get_meta_strings(void* dataset, const char* name, const size_t name_length, char*** data,
                         size_t* n_strings, size_t** lengths)
{
    const char* where = "get_meta_strings";
    sf_dataset* d = NULL;
    sf_meta* m = NULL;
    SF_CHECK(sf_dataset_check(dataset, where, &d));
    if (!data || !n_strings || !lengths) return sf_fail(SRParameterError, where, "NULL output argument");
    SF_CHECK(meta_of(d, name, name_length, &m, where));
    if (m->type != SRMetadataTypeString)
        return sf_fail(SRTypeError, where, "metadata field '%s' holds numbers: use get_meta_scalars", m->name);
    *data = m->strings;
    *n_strings = m->n;
    *lengths = m->lengths;
    return SRNoError;
}

/* An owned array of the names (and their lengths) of n items. */
static SRError name_list(sf_dataset* d, size_t n, char* (*name_at)(sf_dataset*, size_t),
                         char*** data, size_t* n_strings, size_t** lengths, const char* where)
{
    if (!data || !n_strings || !lengths) return sf_fail(SRParameterError, where, "NULL output argument");
    char** names = malloc((n ? n : 1) * sizeof *names);
    if (!names) return sf_fail(SRBadAllocError, where, "out of memory");
    SF_CHECK(own(d, names, where));
    size_t* lens = malloc((n ? n : 1) * sizeof *lens);
    if (!lens) return sf_fail(SRBadAllocError, where, "out of memory");
    SF_CHECK(own(d, lens, where));
    for (size_t i = 0; i < n; i++) { names[i] = name_at(d, i); lens[i] = strlen(names[i]); }
    *data = names;
    *n_strings = n;
    *lengths = lens;
    return SRNoError;
}

static char* tensor_name_at(sf_dataset* d, size_t i) { return d->tensors[i].name; }
static char* meta_name_at(sf_dataset* d, size_t i) { return d->meta[i].name; }

SRError get_tensor_names(void* dataset, char*** data, size_t* n_strings, size_t** lengths)
{
    sf_dataset* d = NULL;
    SF_CHECK(sf_dataset_check(dataset, "get_tensor_names", &d));
    return name_list(d, d->n_tensors, tensor_name_at, data, n_strings, lengths, "get_tensor_names");
}

SRError get_metadata_field_names(void* dataset, char*** data, size_t* n_strings, size_t** lengths)
{
    sf_dataset* d = NULL;
    SF_CHECK(sf_dataset_check(dataset, "get_metadata_field_names", &d));
    return name_list(d, d->n_meta, meta_name_at, data, n_strings, lengths, "get_metadata_field_names");
}

SRError get_tensor_type(void* dataset, const char* name, size_t name_len, SRTensorType* ttype)
{
    const char* where = "get_tensor_type";
    sf_dataset* d = NULL;
    sf_dtensor* t = NULL;
    SF_CHECK(sf_dataset_check(dataset, where, &d));
    if (!ttype) return sf_fail(SRParameterError, where, "ttype is NULL");
    SF_CHECK(tensor_of(d, name, name_len, &t, where));
    *ttype = t->type;
    return SRNoError;
}

SRError get_tensor_dims(void* dataset, const char* name, size_t name_len, size_t** dims,
                        size_t* ndims)
{
    const char* where = "get_tensor_dims";
    sf_dataset* d = NULL;
    sf_dtensor* t = NULL;
    SF_CHECK(sf_dataset_check(dataset, where, &d));
    if (!dims || !ndims) return sf_fail(SRParameterError, where, "NULL argument");
    SF_CHECK(tensor_of(d, name, name_len, &t, where));
    if (*ndims < t->ndim) {
        *ndims = t->ndim;
        return sf_fail(SRBadAllocError, where, "the dims buffer holds fewer than the tensor's %zu "
                       "dimensions", t->ndim);
    }
    if (!*dims) return sf_fail(SRParameterError, where, "*dims is NULL");
    for (size_t i = 0; i < t->ndim; i++) (*dims)[i] = t->dims[i];
    *ndims = t->ndim;
    return SRNoError;
}

SRError get_metadata_field_type(void* dataset, const char* name, size_t name_len,
                                SRMetaDataType* mdtype)
{
    const char* where = "get_metadata_field_type";
    sf_dataset* d = NULL;
    sf_meta* m = NULL;
    SF_CHECK(sf_dataset_check(dataset, where, &d));
    if (!mdtype) return sf_fail(SRParameterError, where, "mdtype is NULL");
    SF_CHECK(meta_of(d, name, name_len, &m, where));
    *mdtype = m->type;
    return SRNoError;
}

SRError get_dataset_name(void* dataset, const char** name, size_t* name_length)
{
    sf_dataset* d = NULL;
    if (!name || !name_length)
        return sf_fail(SRParameterError, "get_dataset_name", "name and name_length must not be NULL");
    SF_CHECK(sf_dataset_check(dataset, "get_dataset_name", &d));
    *name = d->obj.name;
    *name_length = strlen(d->obj.name);
    return SRNoError;
}

const char* dataset_to_string(void* dataset)
{
    sf_dataset* d = NULL;
    if (sf_dataset_check(dataset, "dataset_to_string", &d) != SRNoError) return SRGetLastError();
    sf_buf b = {0};
    sf_buf_printf(&b, "DataSet '%s': %zu tensor%s", d->obj.name, d->n_tensors, d->n_tensors == 1 ? "" : "s");
    for (size_t i = 0; i < d->n_tensors; i++) {
        sf_buf_printf(&b, "%s%s (", i ? ", " : " [", d->tensors[i].name);
        for (size_t k = 0; k < d->tensors[i].ndim; k++)
            sf_buf_printf(&b, "%s%zu", k ? ", " : "", d->tensors[i].dims[k]);
        sf_buf_printf(&b, ")");
    }
    if (d->n_tensors) sf_buf_printf(&b, "]");
    sf_buf_printf(&b, "; %zu metadata field%s", d->n_meta, d->n_meta == 1 ? "" : "s");
    for (size_t i = 0; i < d->n_meta; i++)
        sf_buf_printf(&b, "%s%s", i ? ", " : " [", d->meta[i].name);
    if (d->n_meta) sf_buf_printf(&b, "]");
    free(d->description);
    d->description = b.data;
    return d->description ? d->description : "DataSet";
}
