/*
 * The smartflow tensor header (docs/wire-format.md), SmartRedis's tensor types, and the
 * memory layouts C and Fortran callers hand over: contiguous row-major, nested arrays of
 * pointers, and column-major (a Fortran a(i,j) is the stored x[i-1, j-1], same shape).
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SF_MAGIC "\x93SFT"
#define SF_FIXED 24

static void put_u16(char* p, uint16_t v) { p[0] = (char)(v & 255); p[1] = (char)(v >> 8); }
static void put_u32(char* p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (char)(v >> (8 * i)); }
static void put_u64(char* p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (char)(v >> (8 * i)); }
static uint64_t get_le(const char* p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = (v << 8) | (unsigned char)p[i];
    return v;
}

size_t sf_type_size(SRTensorType t)
{
    switch (t) {
    case SRTensorTypeDouble: case SRTensorTypeInt64: return 8;
    case SRTensorTypeFloat: case SRTensorTypeInt32: return 4;
    case SRTensorTypeInt16: case SRTensorTypeUint16: return 2;
    case SRTensorTypeInt8: case SRTensorTypeUint8: return 1;
    default: return 0;
    }
}

const char* sf_type_typestr(SRTensorType t)
{
    switch (t) {
    case SRTensorTypeDouble: return "<f8";
    case SRTensorTypeFloat: return "<f4";
    case SRTensorTypeInt8: return "|i1";
    case SRTensorTypeInt16: return "<i2";
    case SRTensorTypeInt32: return "<i4";
    case SRTensorTypeInt64: return "<i8";
    case SRTensorTypeUint8: return "|u1";
    case SRTensorTypeUint16: return "<u2";
    default: return NULL;
    }
}

const char* sf_type_name(SRTensorType t)
{
    switch (t) {
    case SRTensorTypeDouble: return "SRTensorTypeDouble (float64)";
    case SRTensorTypeFloat: return "SRTensorTypeFloat (float32)";
    case SRTensorTypeInt8: return "SRTensorTypeInt8";
    case SRTensorTypeInt16: return "SRTensorTypeInt16";
    case SRTensorTypeInt32: return "SRTensorTypeInt32";
    case SRTensorTypeInt64: return "SRTensorTypeInt64";
    case SRTensorTypeUint8: return "SRTensorTypeUint8";
    case SRTensorTypeUint16: return "SRTensorTypeUint16";
    default: return "an invalid SRTensorType";
    }
}

size_t sf_header_size(size_t ndim) { return (SF_FIXED + 8 * ndim + 63) / 64 * 64; }

size_t sf_header_encode(char* out, SRTensorType t, const size_t* dims, size_t ndim, bool chunked)
{
    return sf_header_encode_typestr(out, sf_type_typestr(t), dims, ndim, chunked);
}

size_t sf_header_encode_typestr(char* out, const char* ts, const size_t* dims, size_t ndim,
                                bool chunked)
{
    size_t hl = sf_header_size(ndim);
    memset(out, 0, hl);
    memcpy(out, SF_MAGIC, 4);
    out[4] = 1;
    out[5] = chunked ? 1 : 0;
    put_u16(out + 6, (uint16_t)hl);
    memcpy(out + 8, ts, strnlen(ts, 8));
    put_u32(out + 16, (uint32_t)ndim);
    for (size_t i = 0; i < ndim; i++) put_u64(out + SF_FIXED + 8 * i, dims[i]);
    return hl;
}

static SRTensorType type_of(char kind, size_t size)
{
    if (kind == 'f' && size == 8) return SRTensorTypeDouble;
    if (kind == 'f' && size == 4) return SRTensorTypeFloat;
    if (kind == 'i' && size == 1) return SRTensorTypeInt8;
    if (kind == 'i' && size == 2) return SRTensorTypeInt16;
    if (kind == 'i' && size == 4) return SRTensorTypeInt32;
    if (kind == 'i' && size == 8) return SRTensorTypeInt64;
    if (kind == 'u' && size == 1) return SRTensorTypeUint8;
    if (kind == 'u' && size == 2) return SRTensorTypeUint16;
    return SRTensorTypeInvalid;
}

SRError sf_header_decode(const char* buf, size_t len, sf_header* h, const char* name,
                         const char* where)
{
    memset(h, 0, sizeof *h);
    if (len < 8 || memcmp(buf, SF_MAGIC, 4) != 0)
        return sf_fail(SRTypeError, where, "key '%s' holds a value that is not a smartflow tensor "
                       "(written by another client?)", name);
    if (buf[4] != 1)
        return sf_fail(SRRuntimeError, where, "key '%s' holds a tensor of format version %d; "
                       "this client reads version 1", name, (int)(unsigned char)buf[4]);
    size_t hl = (size_t)get_le(buf + 6, 2);
    if (hl < SF_FIXED || hl % 64 || hl > len)
        return sf_fail(SRRuntimeError, where, "key '%s': corrupt tensor header", name);
    size_t ndim = (size_t)get_le(buf + 16, 4);
    if (ndim > SF_MAX_NDIM || SF_FIXED + 8 * ndim > hl)
        return sf_fail(SRRuntimeError, where, "key '%s': corrupt tensor header (ndim %zu)", name, ndim);
    memcpy(h->typestr, buf + 8, 8);
    h->typestr[8] = '\0';
    const char* ts = h->typestr;
    size_t tl = strlen(ts);
    size_t size = 0;
    bool ok = tl >= 3 && tl <= 4 && strchr("<>|=", ts[0]) && strchr("biufc", ts[1]);
    for (size_t i = 2; ok && i < tl; i++) {
        if (ts[i] < '0' || ts[i] > '9') ok = false;
        else size = size * 10 + (size_t)(ts[i] - '0');
    }
    if (!ok || size == 0)
        return sf_fail(SRRuntimeError, where, "key '%s': dtype '%s' in the tensor header is not "
                       "storable", name, ts);
    h->itemsize = size;
    h->type = type_of(ts[1], size);
    h->swap = ts[0] == '>' && size > 1;
    h->chunked = (buf[5] & 1) != 0;
    h->ndim = ndim;
    h->header_len = hl;
    uint64_t count = 1;
    for (size_t i = 0; i < ndim; i++) {
        h->shape[i] = get_le(buf + SF_FIXED + 8 * i, 8);
        if (h->shape[i] && count > UINT64_MAX / 2 / h->shape[i])
            return sf_fail(SRRuntimeError, where, "key '%s': corrupt tensor header (shape)", name);
        count *= h->shape[i];
    }
    if (count > (uint64_t)SIZE_MAX / size)
        return sf_fail(SRRuntimeError, where, "key '%s': tensor too large for this machine", name);
    h->data_len = (size_t)count * size;
    return SRNoError;
}

void sf_swap_bytes(void* data, size_t count, size_t itemsize)
{
    unsigned char* p = data;
    for (size_t i = 0; i < count; i++, p += itemsize)
        for (size_t a = 0, b = itemsize - 1; a < b; a++, b--) {
            unsigned char t = p[a]; p[a] = p[b]; p[b] = t;
        }
}

/* ---- layouts ---- */

static size_t count_of(const size_t* dims, size_t ndim)
{
    size_t n = 1;
    for (size_t i = 0; i < ndim; i++) n *= dims[i];
    return n;
}

static void nested_walk(char* flat, void* tree, const size_t* dims, size_t ndim, size_t level,
                        size_t itemsize, bool to_flat)
{
    size_t inner = itemsize;
    for (size_t i = level + 1; i < ndim; i++) inner *= dims[i];
    if (level == ndim - 1) {
        if (to_flat) memcpy(flat, tree, dims[level] * itemsize);
        else memcpy(tree, flat, dims[level] * itemsize);
        return;
    }
    void** ptrs = tree;
    for (size_t i = 0; i < dims[level]; i++)
        nested_walk(flat + i * inner, ptrs[i], dims, ndim, level + 1, itemsize, to_flat);
}

/* Row-major <-> column-major copy of an array of shape dims. */
static void transpose(char* rowmajor, char* colmajor, const size_t* dims, size_t ndim,
                      size_t itemsize, bool to_rowmajor)
{
    size_t n = count_of(dims, ndim);
    size_t idx[SF_MAX_NDIM] = {0};
    size_t colstride[SF_MAX_NDIM];
    size_t s = 1;
    for (size_t k = 0; k < ndim; k++) { colstride[k] = s; s *= dims[k]; }
    size_t col = 0;
    for (size_t r = 0; r < n; r++) {
        if (itemsize == 8) {
            if (to_rowmajor) memcpy(rowmajor + r * 8, colmajor + col * 8, 8);
            else memcpy(colmajor + col * 8, rowmajor + r * 8, 8);
        } else if (to_rowmajor) memcpy(rowmajor + r * itemsize, colmajor + col * itemsize, itemsize);
        else memcpy(colmajor + col * itemsize, rowmajor + r * itemsize, itemsize);
        /* advance the row-major odometer: last index fastest */
        for (size_t k = ndim; k-- > 0;) {
            idx[k]++;
            col += colstride[k];
            if (idx[k] < dims[k]) break;
            col -= colstride[k] * idx[k];
            idx[k] = 0;
        }
    }
}

static SRError check_layout(SRMemoryLayout layout, const char* where)
{
    switch (layout) {
    case SRMemLayoutContiguous: case SRMemLayoutNested: case SRMemLayoutFortranContiguous:
        return SRNoError;
    case SRMemLayoutFortranNested:
        return sf_fail(SRParameterError, where, "SRMemLayoutFortranNested is not supported; "
                       "use SRMemLayoutFortranContiguous");
    default:
        return sf_fail(SRParameterError, where, "invalid memory layout %d", (int)layout);
    }
}

SRError sf_pack(void* dst, const void* src, const size_t* dims, size_t ndim, size_t itemsize,
                SRMemoryLayout layout, const char* where)
{
    SF_CHECK(check_layout(layout, where));
    size_t n = count_of(dims, ndim);
    if (n == 0) return SRNoError;
    if (layout == SRMemLayoutContiguous || ndim <= 1)
        memcpy(dst, src, n * itemsize);
    else if (layout == SRMemLayoutNested)
        nested_walk(dst, (void*)src, dims, ndim, 0, itemsize, true);
    else
        transpose(dst, (char*)src, dims, ndim, itemsize, true);
    return SRNoError;
}

SRError sf_unpack(void* dst, const void* src, const size_t* dims, size_t ndim, size_t itemsize,
                  SRMemoryLayout layout, const char* where)
{
    SF_CHECK(check_layout(layout, where));
    size_t n = count_of(dims, ndim);
    if (n == 0) return SRNoError;
    if (layout == SRMemLayoutContiguous || ndim <= 1)
        memcpy(dst, src, n * itemsize);
    else if (layout == SRMemLayoutNested)
        nested_walk((char*)src, dst, dims, ndim, 0, itemsize, false);
    else
        transpose((char*)src, dst, dims, ndim, itemsize, false);
    return SRNoError;
}

SRError sf_alloc_layout(void** out, const void* src, const uint64_t* shape, size_t ndim,
                        size_t itemsize, SRMemoryLayout layout, const char* where)
{
    SF_CHECK(check_layout(layout, where));
    size_t dims[SF_MAX_NDIM] = {0};
    for (size_t i = 0; i < ndim; i++) dims[i] = (size_t)shape[i];
    size_t n = count_of(dims, ndim);
    size_t bytes = n * itemsize;
    if (layout != SRMemLayoutNested || ndim <= 1) {
        char* p = malloc(bytes ? bytes : 1);
        if (!p) return sf_fail(SRBadAllocError, where, "out of memory (%zu bytes)", bytes);
        if (layout == SRMemLayoutFortranContiguous && ndim > 1 && n)
            transpose((char*)src, p, dims, ndim, itemsize, false);
        else if (bytes)
            memcpy(p, src, bytes);
        *out = p;
        return SRNoError;
    }
    /* Nested: the pointer tables of every level, then the data, in one block. With no zero in
     * the shape there are fewer pointers than elements, so the tables are bounded by the data
     * the store sent; with a zero there would be no data to bound them. */
    if (n == 0)
        return sf_fail(SRParameterError, where, "a tensor with a zero dimension has no nested "
                       "form: use SRMemLayoutContiguous");
    size_t n_ptrs = 0, level_count = 1;
    for (size_t l = 0; l + 1 < ndim; l++) { level_count *= dims[l]; n_ptrs += level_count; }
    /* level_count <= n at every level, so n_ptrs <= ndim * n: only the byte count can overflow. */
    if (n_ptrs > (SIZE_MAX - 64 - bytes) / sizeof(void*))
        return sf_fail(SRBadAllocError, where, "tensor too large for a nested layout");
    size_t data_off = (n_ptrs * sizeof(void*) + 63) / 64 * 64;
    char* block = malloc(data_off + (bytes ? bytes : 1));
    if (!block) return sf_fail(SRBadAllocError, where, "out of memory (%zu bytes)", bytes);
    void** tables = (void**)block;
    char* data = block + data_off;
    if (bytes) memcpy(data, src, bytes);
    size_t table_start = 0, count = 1;
    for (size_t l = 0; l + 1 < ndim; l++) {
        count *= dims[l];
        size_t next_start = table_start + count;
        for (size_t i = 0; i < count; i++) {
            if (l + 2 < ndim)
                tables[table_start + i] = &tables[next_start + i * dims[l + 1]];
            else
                tables[table_start + i] = data + i * dims[l + 1] * itemsize;
        }
        table_start = next_start;
    }
    *out = block;
    return SRNoError;
}

SRError sf_check_unpack(const sf_header* h, const size_t* dims, size_t n_dims, SRTensorType type,
                        SRMemoryLayout layout, const char* name, const char* where)
{
    if (h->type == SRTensorTypeInvalid)
        return sf_fail(SRTypeError, where, "tensor '%s' has dtype '%s', which SmartRedis's API "
                       "has no SRTensorType for", name, h->typestr);
    if (h->type != type)
        return sf_fail(SRTypeError, where, "tensor '%s' is %s, not %s as the call asks", name,
                       sf_type_name(h->type), sf_type_name(type));
    if (n_dims && !dims) return sf_fail(SRParameterError, where, "dims is NULL");
    size_t total = h->data_len / h->itemsize;
    if (layout == SRMemLayoutContiguous && n_dims == 1 && dims[0] == total) return SRNoError;
    bool same = n_dims == h->ndim;
    for (size_t i = 0; same && i < n_dims; i++) same = dims[i] == h->shape[i];
    if (same) return SRNoError;
    char want[256] = "", have[256] = "";
    size_t w = 0, v = 0;
    for (size_t i = 0; i < n_dims && w < sizeof want - 24; i++)
        w += (size_t)snprintf(want + w, sizeof want - w, "%s%zu", i ? ", " : "", dims[i]);
    for (size_t i = 0; i < h->ndim && v < sizeof have - 24; i++)
        v += (size_t)snprintf(have + v, sizeof have - v, "%s%llu", i ? ", " : "",
                              (unsigned long long)h->shape[i]);
    return sf_fail(SRParameterError, where, "the dimensions given (%s) do not match tensor "
                   "'%s' of shape (%s)", want, name, have);
}
