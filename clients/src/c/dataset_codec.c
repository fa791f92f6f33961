/* The smartflow dataset value (docs/wire-format.md): magic, index length, JSON index, then
 * each tensor as a complete tensor value at a 64-byte aligned offset. */
#include "internal.h"
#include "c_dataset.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SF_DS_FIXED 16

static const char* meta_type_name(SRMetaDataType t)
{
    switch (t) {
    case SRMetadataTypeDouble: return "double";
    case SRMetadataTypeFloat: return "float";
    case SRMetadataTypeInt32: return "int32";
    case SRMetadataTypeInt64: return "int64";
    case SRMetadataTypeUint32: return "uint32";
    case SRMetadataTypeUint64: return "uint64";
    case SRMetadataTypeString: return "string";
    default: return NULL;
    }
}

static SRMetaDataType meta_type_of(const char* s)
{
    for (int t = SRMetadataTypeDouble; t <= SRMetadataTypeString; t++)
        if (strcmp(meta_type_name((SRMetaDataType)t), s) == 0) return (SRMetaDataType)t;
    return SRMetadataTypeInvalid;
}

static size_t aligned(size_t n) { return (n + 63) / 64 * 64; }

static void write_index(const sf_dataset* d, const size_t* offsets, sf_buf* b)
{
    b->len = 0;
    sf_buf_put(b, "{\"tensors\":[", 12);
    for (size_t i = 0; i < d->n_tensors; i++) {
        const sf_dtensor* t = &d->tensors[i];
        sf_buf_printf(b, "%s{\"name\":", i ? "," : "");
        sj_write_string(b, t->name, strlen(t->name));
        sf_buf_printf(b, ",\"offset\":%zu,\"length\":%zu}", offsets[i],
                      sf_header_size(t->ndim) + t->nbytes);
    }
    sf_buf_put(b, "],\"meta\":{", 10);
    for (size_t i = 0; i < d->n_meta; i++) {
        const sf_meta* m = &d->meta[i];
        if (i) sf_buf_put(b, ",", 1);
        sj_write_string(b, m->name, strlen(m->name));
        sf_buf_printf(b, ":{\"type\":\"%s\",\"values\":[", meta_type_name(m->type));
        for (size_t k = 0; k < m->n; k++) {
            if (k) sf_buf_put(b, ",", 1);
            const char* v = (const char*)m->values + k * sf_meta_size(m->type);
            switch (m->type) {
            case SRMetadataTypeDouble: { double x; memcpy(&x, v, 8); sj_write_double(b, x); break; }
            case SRMetadataTypeFloat: { float x; memcpy(&x, v, 4); sj_write_double(b, (double)x); break; }
            case SRMetadataTypeInt32: { int32_t x; memcpy(&x, v, 4); sf_buf_printf(b, "%" PRId32, x); break; }
            case SRMetadataTypeInt64: { int64_t x; memcpy(&x, v, 8); sf_buf_printf(b, "%" PRId64, x); break; }
            case SRMetadataTypeUint32: { uint32_t x; memcpy(&x, v, 4); sf_buf_printf(b, "%" PRIu32, x); break; }
            case SRMetadataTypeUint64: { uint64_t x; memcpy(&x, v, 8); sf_buf_printf(b, "%" PRIu64, x); break; }
            case SRMetadataTypeString: sj_write_string(b, m->strings[k], m->lengths[k]); break;
            default: break;
            }
        }
        sf_buf_put(b, "]}", 2);
    }
    sf_buf_put(b, "}}", 2);
}

SRError sf_dataset_encode(const sf_dataset* d, sf_buf* out, const char* where)
{
    /* A tensor of a dtype SmartRedis's C API has no name for (bool, float16, ...) can only
     * come from a read, which kept its typestr: it is written back as it was. */
    for (size_t i = 0; i < d->n_tensors; i++)
        if (!sf_type_typestr(d->tensors[i].type) && !d->tensors[i].typestr[0])
            return sf_fail(SRTypeError, where, "dataset tensor '%s' has no dtype to store",
                           d->tensors[i].name);
    size_t* offsets = calloc(d->n_tensors ? d->n_tensors : 1, sizeof *offsets);
    if (!offsets) return sf_fail(SRBadAllocError, where, "out of memory");
    sf_buf index = {0};
    /* Offsets depend on the index's length: lay out, rewrite, until the length settles. */
    size_t prev = (size_t)-1;
    for (int pass = 0; pass < 8; pass++) {
        write_index(d, offsets, &index);
        if (!index.data) { free(offsets); return sf_fail(SRBadAllocError, where, "out of memory"); }
        if (index.len == prev) break;
        prev = index.len;
        size_t off = aligned(SF_DS_FIXED + index.len);
        for (size_t i = 0; i < d->n_tensors; i++) {
            offsets[i] = off;
            off = aligned(off + sf_header_size(d->tensors[i].ndim) + d->tensors[i].nbytes);
        }
    }
    size_t total = SF_DS_FIXED + index.len;
    if (d->n_tensors) {
        const sf_dtensor* last = &d->tensors[d->n_tensors - 1];
        total = offsets[d->n_tensors - 1] + sf_header_size(last->ndim) + last->nbytes;
    }
    out->len = 0;
    if (!sf_buf_reserve(out, total + 1)) {
        free(offsets); sf_buf_free(&index);
        return sf_fail(SRBadAllocError, where, "out of memory (%zu bytes)", total);
    }
    memset(out->data, 0, total);
    memcpy(out->data, "\x93SFD\x01\0\0\0", 8);
    for (int i = 0; i < 8; i++) out->data[8 + i] = (char)((uint64_t)index.len >> (8 * i));
    memcpy(out->data + SF_DS_FIXED, index.data, index.len);
    for (size_t i = 0; i < d->n_tensors; i++) {
        const sf_dtensor* t = &d->tensors[i];
        size_t hl = t->typestr[0]
            ? sf_header_encode_typestr(out->data + offsets[i], t->typestr, t->dims, t->ndim, false)
            : sf_header_encode(out->data + offsets[i], t->type, t->dims, t->ndim, false);
        memcpy(out->data + offsets[i] + hl, t->data, t->nbytes);
    }
    out->len = total;
    free(offsets);
    sf_buf_free(&index);
    return SRNoError;
}

static SRError corrupt(const char* name, const char* why, const char* where)
{
    return sf_fail(SRRuntimeError, where, "dataset '%s': corrupt index (%s)", name, why);
}

/* A JSON number as a value of integer metadata type t: false unless it is a whole number in
 * the type's range (a cast of 1e300, NaN or -1 would be undefined or silently wrong). Signed
 * types fill *si, unsigned ones *ui. */
static bool integer_of(const sj_value* v, SRMetaDataType t, int64_t* si, uint64_t* ui)
{
    bool is_signed = t == SRMetadataTypeInt32 || t == SRMetadataTypeInt64;
    /* The type's range as doubles, [lo, hi): all four bounds are exact powers of two. */
    double lo = t == SRMetadataTypeInt32 ? -0x1p31 : t == SRMetadataTypeInt64 ? -0x1p63 : 0.0;
    double hi = t == SRMetadataTypeInt32 ? 0x1p31 : t == SRMetadataTypeInt64 ? 0x1p63
              : t == SRMetadataTypeUint32 ? 0x1p32 : 0x1p64;
    if (!v->is_int) {  /* written as a float: only a whole number in range converts exactly */
        if (!isfinite(v->num) || v->num != floor(v->num) || v->num < lo || v->num >= hi)
            return false;
        if (is_signed) *si = (int64_t)v->num;
        else *ui = (uint64_t)v->num;
        return true;
    }
    errno = 0;
    if (v->neg) {
        long long x = strtoll(v->raw_num, NULL, 10);
        if (errno || (!is_signed && x != 0) || (double)x < lo) return false;
        if (is_signed) *si = x;
        return true;
    }
    unsigned long long x = strtoull(v->raw_num, NULL, 10);
    if (errno) return false;
    uint64_t max = t == SRMetadataTypeInt32 ? INT32_MAX : t == SRMetadataTypeInt64 ? INT64_MAX
                 : t == SRMetadataTypeUint32 ? UINT32_MAX : UINT64_MAX;
    if (x > max) return false;
    if (is_signed) *si = (int64_t)x;
    else *ui = x;
    return true;
}

static SRError decode_meta(sf_dataset* d, const sj_value* meta, const char* name, const char* where)
{
    if (!meta || meta->type != SJ_OBJ) return corrupt(name, "no meta object", where);
    for (size_t i = 0; i < meta->n; i++) {
        const char* field = meta->keys[i];
        const sj_value* e = &meta->items[i];
        const sj_value* type = sj_get(e, "type");
        const sj_value* values = sj_get(e, "values");
        if (!type || type->type != SJ_STR || !values || values->type != SJ_ARR)
            return corrupt(name, "bad metadata field", where);
        SRMetaDataType t = meta_type_of(type->str);
        if (t == SRMetadataTypeInvalid) return corrupt(name, "unknown metadata type", where);
        size_t flen = strlen(field);
        if (values->n == 0) {  /* keep an empty field: a field of that type with no values */
            if (t == SRMetadataTypeString) {
                SF_CHECK(sf_meta_append_string(d, field, flen, "", 0, where));
                sf_meta* m = &d->meta[d->n_meta - 1];
                free(m->strings[0]); m->n = 0;
            } else {
                char zero[8] = {0};
                SF_CHECK(sf_meta_append_scalar(d, field, flen, zero, t, where));
                d->meta[d->n_meta - 1].n = 0;
            }
            continue;
        }
        for (size_t k = 0; k < values->n; k++) {
            const sj_value* v = &values->items[k];
            if (t == SRMetadataTypeString) {
                if (v->type != SJ_STR) return corrupt(name, "a string field holds a non-string", where);
                SF_CHECK(sf_meta_append_string(d, field, flen, v->str, v->str_len, where));
                continue;
            }
            if (v->type != SJ_NUM) return corrupt(name, "a numeric field holds a non-number", where);
            char raw[8];
            int64_t si = 0;
            uint64_t ui = 0;
            if (t != SRMetadataTypeDouble && t != SRMetadataTypeFloat && !integer_of(v, t, &si, &ui))
                return corrupt(name, "an integer field holds a value outside its type", where);
            switch (t) {
            case SRMetadataTypeDouble: { double x = v->num; memcpy(raw, &x, 8); break; }
            case SRMetadataTypeFloat: {
                if (isfinite(v->num) && fabs(v->num) > FLT_MAX)
                    return corrupt(name, "a float field holds a value outside its type", where);
                float x = (float)v->num; memcpy(raw, &x, 4); break;
            }
            case SRMetadataTypeInt32: { int32_t x = (int32_t)si; memcpy(raw, &x, 4); break; }
            case SRMetadataTypeInt64: { int64_t x = si; memcpy(raw, &x, 8); break; }
            case SRMetadataTypeUint32: { uint32_t x = (uint32_t)ui; memcpy(raw, &x, 4); break; }
            case SRMetadataTypeUint64: { uint64_t x = ui; memcpy(raw, &x, 8); break; }
            default: return corrupt(name, "bad type", where);
            }
            SF_CHECK(sf_meta_append_scalar(d, field, flen, raw, t, where));
        }
    }
    return SRNoError;
}

SRError sf_dataset_decode(const char* value, size_t len, const char* name, sf_dataset** out,
                          const char* where)
{
    if (len < SF_DS_FIXED || memcmp(value, "\x93SFD", 4) != 0)
        return sf_fail(SRTypeError, where, "dataset '%s': the stored value is not a smartflow dataset", name);
    if (value[4] != 1)
        return sf_fail(SRRuntimeError, where, "dataset '%s' has format version %d; this client reads 1",
                       name, (int)(unsigned char)value[4]);
    uint64_t index_len = 0;
    for (int i = 7; i >= 0; i--) index_len = (index_len << 8) | (unsigned char)value[8 + i];
    if (index_len > len - SF_DS_FIXED) return corrupt(name, "index past the end", where);
    sj_value index;
    char err[128];
    if (!sj_parse(value + SF_DS_FIXED, (size_t)index_len, &index, err, sizeof err))
        return corrupt(name, err, where);
    void* handle = NULL;
    SRError rc = CDataSet(name, strlen(name), &handle);
    sf_dataset* d = handle;
    const sj_value* tensors = sj_get(&index, "tensors");
    if (rc == SRNoError && (!tensors || tensors->type != SJ_ARR)) rc = corrupt(name, "no tensors list", where);
    for (size_t i = 0; rc == SRNoError && i < tensors->n; i++) {
        const sj_value* e = &tensors->items[i];
        const sj_value* tn = sj_get(e, "name");
        const sj_value* off = sj_get(e, "offset");
        const sj_value* ln = sj_get(e, "length");
        if (!tn || tn->type != SJ_STR || !off || !off->is_int || !ln || !ln->is_int) {
            rc = corrupt(name, "bad tensor entry", where);
            break;
        }
        uint64_t o = off->u, l = ln->u;
        if (o % 64 || o > len || l > len - o) { rc = corrupt(name, "tensor out of bounds", where); break; }
        sf_header h;
        rc = sf_header_decode(value + o, (size_t)l, &h, tn->str, where);
        if (rc != SRNoError) break;
        if (h.header_len + h.data_len != l) { rc = corrupt(name, "tensor length disagrees with its header", where); break; }
        char* data = malloc(h.data_len ? h.data_len : 1);
        if (!data) { rc = sf_fail(SRBadAllocError, where, "out of memory"); break; }
        memcpy(data, value + o + h.header_len, h.data_len);
        if (h.swap) sf_swap_bytes(data, h.data_len / h.itemsize, h.itemsize);
        rc = sf_dataset_take_tensor(d, tn->str, tn->str_len, h.type, h.shape, h.ndim, data, h.data_len, where);
        if (rc == SRNoError && h.type == SRTensorTypeInvalid) {
            /* Kept so that put_dataset writes it back; its bytes are little-endian now. */
            char* ts = d->tensors[d->n_tensors - 1].typestr;
            memcpy(ts, h.typestr, sizeof h.typestr);
            if (ts[0] == '>') ts[0] = '<';
        }
    }
    if (rc == SRNoError) rc = decode_meta(d, sj_get(&index, "meta"), name, where);
    sj_free(&index);
    if (rc != SRNoError) {
        if (d) DeallocateDataSet(&handle);
        return rc;
    }
    *out = d;
    return SRNoError;
}
