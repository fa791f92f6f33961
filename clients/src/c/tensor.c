/* Tensors (c_client.h): put, get, unpack, copy, rename, delete, exists and poll. */
#include "internal.h"
#include "c_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

SRError sf_tensor_from_value(const char* value, size_t len, const char* name, sf_tensor* out,
                             const char* where)
{
    SF_CHECK(sf_header_decode(value, len, &out->h, name, where));
    if (out->h.chunked)
        return sf_fail(SRRuntimeError, where, "key '%s': a chunk manifest stored as a plain value", name);
    if (len - out->h.header_len != out->h.data_len)
        return sf_fail(SRRuntimeError, where, "key '%s': tensor data is %zu bytes but its header "
                       "announces %zu; the value is corrupt", name, len - out->h.header_len,
                       out->h.data_len);
    out->data = malloc(out->h.data_len ? out->h.data_len : 1);
    if (!out->data) return sf_fail(SRBadAllocError, where, "out of memory");
    memcpy(out->data, value + out->h.header_len, out->h.data_len);
    if (out->h.swap) sf_swap_bytes(out->data, out->h.data_len / out->h.itemsize, out->h.itemsize);
    return SRNoError;
}

static bool is_redirect(const redisReply* r)
{
    return sf_reply_is_error(r, "MOVED ") || sf_reply_is_error(r, "ASK ") ||
           sf_reply_is_error(r, "TRYAGAIN") || sf_reply_is_error(r, "CLUSTERDOWN");
}

SRError sf_read_tensor_into(sf_client* c, const char* key, const char* name, sf_tensor* out,
                            sf_fits_fn fits, void* arg, void* dest, bool* in_dest,
                            const char* where)
{
    memset(out, 0, sizeof *out);
    *in_dest = false;
    size_t klen = strlen(key);
    redisReply* r = NULL;
    bool handled = false;
    SF_CHECK(sf_get_direct(c, sf_node_for_key(c, key, klen), key, klen, name, out, fits, arg,
                           dest, in_dest, &r, &handled, where));
    if (handled && !r) return SRNoError;  /* read straight from the socket */
    if (r && is_redirect(r)) { freeReplyObject(r); r = NULL; }
    if (!r) {  /* hiredis's way, following MOVED/ASK */
        const char* argv[] = { "GET", key };
        size_t lens[] = { 3, klen };
        SF_CHECK(sf_command(c, key, klen, 2, argv, lens, &r, where));
    }
    SRError rc;
    if (r->type == REDIS_REPLY_NIL)
        rc = sf_fail(SRKeyError, where, "tensor '%s' does not exist", name);
    else if (sf_reply_is_error(r, "WRONGTYPE"))
        rc = sf_read_chunked(c, key, name, out, where);
    else if (r->type == REDIS_REPLY_STRING)
        rc = sf_tensor_from_value(r->str, r->len, name, out, where);
    else
        rc = sf_reply_error(r, where) ? SRDatabaseError
                                      : sf_fail(SRDatabaseError, where, "unexpected reply to GET");
    freeReplyObject(r);
    if (rc != SRNoError) { free(out->data); out->data = NULL; }
    return rc;
}

SRError sf_read_tensor(sf_client* c, const char* key, const char* name, sf_tensor* out,
                       const char* where)
{
    bool in_dest;
    return sf_read_tensor_into(c, key, name, out, NULL, NULL, NULL, &in_dest, where);
}

SRError sf_write_tensor(sf_client* c, const char* key, const char* name, const void* rowmajor,
                        SRTensorType type, const size_t* dims, size_t ndim, const char* where)
{
    (void)name;
    size_t hl = sf_header_size(ndim);
    size_t count = 1;
    for (size_t i = 0; i < ndim; i++) count *= dims[i];
    size_t data_len = count * sf_type_size(type);
    char header[1024];
    sf_header_encode(header, type, dims, ndim, false);
    if (hl + data_len > c->max_value_bytes)
        return sf_write_chunked(c, key, header, hl, rowmajor, data_len, where);
    /* Header and data go out as they lie, without being joined into one value first. */
    const char* argv[] = { "SET", key, NULL };
    size_t lens[] = { 3, strlen(key), hl + data_len };
    sf_part parts[] = { { header, hl }, { rowmajor, data_len } };
    redisReply* r = NULL;
    SRError rc = sf_command_parts(c, key, lens[1], 3, argv, lens, parts, 2, &r, where);
    if (rc == SRNoError) { rc = sf_reply_error(r, where); freeReplyObject(r); }
    return rc;
}

/* Checks of a tensor a caller hands over; *bytes receives its data size. */
static SRError check_put(const void* data, const size_t* dims, size_t n_dims, SRTensorType type,
                         size_t* bytes, const char* where)
{
    if (!data) return sf_fail(SRParameterError, where, "data is NULL");
    if (!dims || n_dims == 0) return sf_fail(SRParameterError, where, "a tensor needs at least one dimension");
    if (n_dims > SF_MAX_NDIM) return sf_fail(SRParameterError, where, "too many dimensions (%zu)", n_dims);
    size_t itemsize = sf_type_size(type);
    if (!itemsize) return sf_fail(SRTypeError, where, "invalid tensor type %d", (int)type);
    size_t n = 1;
    for (size_t i = 0; i < n_dims; i++) {
        if (dims[i] == 0) return sf_fail(SRParameterError, where, "dimension %zu is zero; all "
                                         "tensor dimensions must be positive", i);
        if (n > SIZE_MAX / itemsize / dims[i]) return sf_fail(SRParameterError, where, "tensor too large");
        n *= dims[i];
    }
    *bytes = n * itemsize;
    return SRNoError;
}

SRError put_tensor(void* c_client, const char* name, const size_t name_length, void* data,
                   const size_t* dims, const size_t n_dims, SRTensorType type,
                   SRMemoryLayout mem_layout)
{
    const char* where = "put_tensor";
    sf_client* c = NULL;
    size_t bytes = 0;
    SF_CHECK(sf_client_check(c_client, where, &c));
    SF_CHECK(sf_check_name(name, name_length, "name", where));
    SF_CHECK(check_put(data, dims, n_dims, type, &bytes, where));
    void* flat = data;
    if (mem_layout != SRMemLayoutContiguous || n_dims > 1) {
        if (mem_layout != SRMemLayoutContiguous) {
            flat = malloc(bytes);
            if (!flat) return sf_fail(SRBadAllocError, where, "out of memory");
            SRError rc = sf_pack(flat, data, dims, n_dims, sf_type_size(type), mem_layout, where);
            if (rc != SRNoError) { free(flat); return rc; }
        }
    }
    char* key = sf_key_out(c, SF_TENSOR, name, name_length);
    SRError rc = key ? sf_write_tensor(c, key, key, flat, type, dims, n_dims, where)
                     : sf_fail(SRBadAllocError, where, "out of memory");
    free(key);
    if (flat != data) free(flat);
    return rc;
}

SRError get_tensor(void* c_client, const char* name, const size_t name_length, void** data,
                   size_t** dims, size_t* n_dims, SRTensorType* type, SRMemoryLayout mem_layout)
{
    const char* where = "get_tensor";
    sf_client* c = NULL;
    SF_CHECK(sf_client_check(c_client, where, &c));
    SF_CHECK(sf_check_name(name, name_length, "name", where));
    if (!data || !dims || !n_dims || !type) return sf_fail(SRParameterError, where, "NULL output argument");
    char* key = sf_key_in(c, SF_TENSOR, name, name_length);
    if (!key) return sf_fail(SRBadAllocError, where, "out of memory");
    sf_tensor t;
    SRError rc = sf_read_tensor(c, key, key, &t, where);
    if (rc == SRNoError && t.h.type == SRTensorTypeInvalid)
        rc = sf_fail(SRTypeError, where, "tensor '%s' has dtype '%s', which SmartRedis's API has "
                     "no SRTensorType for", key, t.h.typestr);
    free(key);
    if (rc != SRNoError) { free(t.data); return rc; }
    void* out = NULL;
    size_t* out_dims = malloc((t.h.ndim ? t.h.ndim : 1) * sizeof *out_dims);
    if (!out_dims) { free(t.data); return sf_fail(SRBadAllocError, where, "out of memory"); }
    for (size_t i = 0; i < t.h.ndim; i++) out_dims[i] = (size_t)t.h.shape[i];
    if (mem_layout == SRMemLayoutContiguous) {
        out = t.data;  /* already the right layout: hand over without a copy */
        t.data = NULL;
    } else {
        rc = sf_alloc_layout(&out, t.data, t.h.shape, t.h.ndim, t.h.itemsize, mem_layout, where);
    }
    free(t.data);
    if (rc != SRNoError) { free(out_dims); return rc; }
    rc = sf_client_own(c, out, where);  /* frees out when it fails */
    if (rc != SRNoError) { free(out_dims); return rc; }
    SF_CHECK(sf_client_own(c, out_dims, where));
    *data = out;
    *dims = out_dims;
    *n_dims = t.h.ndim;
    *type = t.h.type;
    return SRNoError;
}

/* What an unpack_tensor call asks for: the stored tensor may be read straight into the
 * caller's memory when its bytes are already in the layout asked for. */
typedef struct { const size_t* dims; size_t n_dims; SRTensorType type; SRMemoryLayout layout; } unpack_want;

static bool unpack_fits(const sf_header* h, void* arg)
{
    const unpack_want* w = arg;
    if (h->type == SRTensorTypeInvalid || h->type != w->type || h->swap || (w->n_dims && !w->dims))
        return false;
    bool plain = w->layout == SRMemLayoutContiguous ||
                 ((w->layout == SRMemLayoutNested || w->layout == SRMemLayoutFortranContiguous) &&
                  h->ndim <= 1);
    if (!plain) return false;
    if (w->layout == SRMemLayoutContiguous && w->n_dims == 1 && w->dims[0] == h->data_len / h->itemsize)
        return true;
    if (w->n_dims != h->ndim) return false;
    for (size_t i = 0; i < h->ndim; i++)
        if (w->dims[i] != h->shape[i]) return false;
    return true;
}

SRError unpack_tensor(void* c_client, const char* name, const size_t name_length, void* result,
                      const size_t* dims, const size_t n_dims, SRTensorType type,
                      SRMemoryLayout mem_layout)
{
    const char* where = "unpack_tensor";
    sf_client* c = NULL;
    SF_CHECK(sf_client_check(c_client, where, &c));
    SF_CHECK(sf_check_name(name, name_length, "name", where));
    if (!result) return sf_fail(SRParameterError, where, "result is NULL");
    char* key = sf_key_in(c, SF_TENSOR, name, name_length);
    if (!key) return sf_fail(SRBadAllocError, where, "out of memory");
    sf_tensor t;
    unpack_want want = { dims, n_dims, type, mem_layout };
    bool in_dest = false;
    SRError rc = sf_read_tensor_into(c, key, key, &t, unpack_fits, &want, result, &in_dest, where);
    if (rc == SRNoError) rc = sf_check_unpack(&t.h, dims, n_dims, type, mem_layout, key, where);
    if (rc == SRNoError && !in_dest) {
        size_t shape[SF_MAX_NDIM];
        for (size_t i = 0; i < t.h.ndim; i++) shape[i] = (size_t)t.h.shape[i];
        rc = sf_unpack(result, t.data, shape, t.h.ndim, t.h.itemsize, mem_layout, where);
    }
    free(key);
    free(t.data);
    return rc;
}

/* Whether key holds a tensor (plain or chunked); SRKeyError when missing unless missing_ok. */
static SRError probe_tensor(sf_client* c, const char* key, bool missing_ok, bool* found,
                            const char* where)
{
    *found = false;
    const char* argv[] = { "GETRANGE", key, "0", "7" };
    size_t lens[] = { 8, strlen(key), 1, 1 };
    redisReply* r = NULL;
    SF_CHECK(sf_command(c, key, lens[1], 4, argv, lens, &r, where));
    SRError rc = SRNoError;
    if (sf_reply_is_error(r, "WRONGTYPE")) {
        freeReplyObject(r);
        const char* li[] = { "LINDEX", key, "0" };
        size_t ll[] = { 6, lens[1], 1 };
        SF_CHECK(sf_command(c, key, lens[1], 3, li, ll, &r, where));
        sf_header h;
        if (r->type == REDIS_REPLY_STRING && sf_header_decode(r->str, r->len, &h, key, where) == SRNoError
            && h.chunked)
            *found = true;
        else
            rc = sf_fail(SRTypeError, where, "key '%s' holds a Redis list/hash/set, not a tensor", key);
    } else if (r->type == REDIS_REPLY_STRING && r->len == 0) {
        freeReplyObject(r);
        const char* ex[] = { "EXISTS", key };
        size_t el[] = { 6, lens[1] };
        SF_CHECK(sf_command(c, key, lens[1], 2, ex, el, &r, where));
        if (r->type == REDIS_REPLY_INTEGER && r->integer == 0) {
            if (!missing_ok) rc = sf_fail(SRKeyError, where, "tensor '%s' does not exist", key);
        } else {
            rc = sf_fail(SRTypeError, where, "key '%s' holds a value that is not a smartflow tensor", key);
        }
    } else if (r->type == REDIS_REPLY_STRING) {
        if (r->len < 4 || memcmp(r->str, "\x93SFT", 4) != 0)
            rc = sf_fail(SRTypeError, where, "key '%s' holds a value that is not a smartflow tensor", key);
        else
            *found = true;
    } else {
        rc = sf_reply_error(r, where);
    }
    freeReplyObject(r);
    return rc;
}

static SRError simple(sf_client* c, const char* key, int argc, const char** argv,
                      const size_t* lens, long long* integer, const char* where)
{
    redisReply* r = NULL;
    SF_CHECK(sf_run(c, key, argc, argv, lens, &r, where));
    if (integer) *integer = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
    freeReplyObject(r);
    return SRNoError;
}

static SRError copy_key(sf_client* c, const char* src, const char* dest, const char* where)
{
    if (sf_same_slot(c, src, dest)) {
        const char* argv[] = { "COPY", src, dest, "REPLACE" };
        size_t lens[] = { 4, strlen(src), strlen(dest), 7 };
        long long n = 0;
        SF_CHECK(simple(c, src, 4, argv, lens, &n, where));
        return n ? SRNoError : sf_fail(SRKeyError, where, "tensor '%s' does not exist", src);
    }
    sf_tensor t;
    SF_CHECK(sf_read_tensor(c, src, src, &t, where));
    size_t dims[SF_MAX_NDIM];
    for (size_t i = 0; i < t.h.ndim; i++) dims[i] = (size_t)t.h.shape[i];
    SRError rc = t.h.type == SRTensorTypeInvalid
        ? sf_fail(SRTypeError, where, "tensor '%s' has dtype '%s': copy it from Python", src, t.h.typestr)
        : sf_write_tensor(c, dest, dest, t.data, t.h.type, dims, t.h.ndim, where);
    free(t.data);
    return rc;
}

SRError copy_tensor(void* c_client, const char* src_name, const size_t src_name_length,
                    const char* dest_name, const size_t dest_name_length)
{
    const char* where = "copy_tensor";
    sf_client* c = NULL;
    SF_CHECK(sf_client_check(c_client, where, &c));
    SF_CHECK(sf_check_name(src_name, src_name_length, "src_name", where));
    SF_CHECK(sf_check_name(dest_name, dest_name_length, "dest_name", where));
    char* src = sf_key_in(c, SF_TENSOR, src_name, src_name_length);
    char* dest = sf_key_out(c, SF_TENSOR, dest_name, dest_name_length);
    SRError rc = SRNoError;
    bool found;
    if (!src || !dest) rc = sf_fail(SRBadAllocError, where, "out of memory");
    else if (strcmp(src, dest) == 0) rc = sf_fail(SRParameterError, where, "source and destination are both '%s'", src);
    else rc = probe_tensor(c, src, false, &found, where);
    if (rc == SRNoError) rc = copy_key(c, src, dest, where);
    free(src);
    free(dest);
    return rc;
}

SRError rename_tensor(void* c_client, const char* old_name, const size_t old_name_length,
                      const char* new_name, const size_t new_name_length)
{
    const char* where = "rename_tensor";
    sf_client* c = NULL;
    SF_CHECK(sf_client_check(c_client, where, &c));
    SF_CHECK(sf_check_name(old_name, old_name_length, "old_name", where));
    SF_CHECK(sf_check_name(new_name, new_name_length, "new_name", where));
    char* old = sf_key_in(c, SF_TENSOR, old_name, old_name_length);
    char* new_ = sf_key_out(c, SF_TENSOR, new_name, new_name_length);
    SRError rc = SRNoError;
    bool found;
    if (!old || !new_) rc = sf_fail(SRBadAllocError, where, "out of memory");
    else if (strcmp(old, new_) == 0) rc = sf_fail(SRParameterError, where, "old and new names are both '%s'", old);
    else rc = probe_tensor(c, old, false, &found, where);
    if (rc == SRNoError) {
        if (sf_same_slot(c, old, new_)) {
            const char* argv[] = { "RENAME", old, new_ };
            size_t lens[] = { 6, strlen(old), strlen(new_) };
            rc = simple(c, old, 3, argv, lens, NULL, where);
        } else {
            rc = copy_key(c, old, new_, where);
            if (rc == SRNoError) {
                const char* argv[] = { "DEL", old };
                size_t lens[] = { 3, strlen(old) };
                rc = simple(c, old, 2, argv, lens, NULL, where);
            }
        }
    }
    free(old);
    free(new_);
    return rc;
}

SRError delete_tensor(void* c_client, const char* name, const size_t name_length)
{
    const char* where = "delete_tensor";
    sf_client* c = NULL;
    SF_CHECK(sf_client_check(c_client, where, &c));
    SF_CHECK(sf_check_name(name, name_length, "name", where));
    char* key = sf_key_in(c, SF_TENSOR, name, name_length);
    if (!key) return sf_fail(SRBadAllocError, where, "out of memory");
    bool found = false;
    SRError rc = probe_tensor(c, key, true, &found, where);
    if (rc == SRNoError && found) {
        const char* argv[] = { "DEL", key };
        size_t lens[] = { 3, strlen(key) };
        rc = simple(c, key, 2, argv, lens, NULL, where);
    }
    free(key);
    return rc;
}

/* EXISTS of a stored key (nul-terminated). */
SRError sf_exists(sf_client* c, const char* key, bool* exists, const char* where)
{
    const char* argv[] = { "EXISTS", key };
    size_t lens[] = { 6, strlen(key) };
    long long n = 0;
    SF_CHECK(simple(c, key, 2, argv, lens, &n, where));
    *exists = n > 0;
    return SRNoError;
}

/* Check up to num_tries times, poll_ms apart (no sleep after the last try). Fewer than one
 * try finds nothing, as in SmartRedis. */
SRError sf_poll_key(sf_client* c, const char* key, int poll_ms, int num_tries, bool* exists,
                    const char* where)
{
    if (poll_ms < 0) return sf_fail(SRParameterError, where, "poll_frequency_ms must be >= 0");
    *exists = false;
    for (int i = 0; i < num_tries; i++) {
        SF_CHECK(sf_exists(c, key, exists, where));
        if (*exists) return SRNoError;
        if (i + 1 < num_tries) sf_sleep_ms(poll_ms);
    }
    return SRNoError;
}

static SRError exists_kind(void* c_client, sf_kind kind, const char* name, size_t len,
                           bool prefixed, int poll_ms, int tries, bool* exists, const char* where)
{
    sf_client* c = NULL;
    SF_CHECK(sf_client_check(c_client, where, &c));
    SF_CHECK(sf_check_name(name, len, "name", where));
    if (!exists) return sf_fail(SRParameterError, where, "exists is NULL");
    char* key = prefixed ? sf_key_in(c, kind, name, len) : sf_strndup(name, len);
    if (!key) return sf_fail(SRBadAllocError, where, "out of memory");
    SRError rc = tries != SF_NO_POLL ? sf_poll_key(c, key, poll_ms, tries, exists, where)
                                     : sf_exists(c, key, exists, where);
    free(key);
    return rc;
}

SRError key_exists(void* c_client, const char* key, const size_t key_length, bool* exists)
{
    return exists_kind(c_client, SF_TENSOR, key, key_length, false, 0, SF_NO_POLL, exists, "key_exists");
}

SRError tensor_exists(void* c_client, const char* name, const size_t name_length, bool* exists)
{
    return exists_kind(c_client, SF_TENSOR, name, name_length, true, 0, SF_NO_POLL, exists, "tensor_exists");
}

SRError poll_key(void* c_client, const char* key, const size_t key_length,
                 const int poll_frequency_ms, const int num_tries, bool* exists)
{
    return exists_kind(c_client, SF_TENSOR, key, key_length, false, poll_frequency_ms,
                       num_tries < 0 ? 0 : num_tries, exists, "poll_key");
}

SRError poll_tensor(void* c_client, const char* name, const size_t name_length,
                    const int poll_frequency_ms, const int num_tries, bool* exists)
{
    return exists_kind(c_client, SF_TENSOR, name, name_length, true, poll_frequency_ms,
                       num_tries < 0 ? 0 : num_tries, exists, "poll_tensor");
}
