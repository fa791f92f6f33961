/* smartflow extensions: pipelined bulk put/unpack (one round trip per shard), and the calls
 * only RedisAI could serve. */
#include "internal.h"
#include "c_client.h"

#include <stdlib.h>
#include <string.h>

SRError put_tensors(void* c_client, const char* const* names, const size_t* name_lengths,
                    const size_t n_tensors, void* const* data, const size_t* const* dims,
                    const size_t* n_dims, const SRTensorType* types, SRMemoryLayout mem_layout)
{
    const char* where = "put_tensors";
    sf_client* c = NULL;
    SF_CHECK(sf_client_check(c_client, where, &c));
    if (n_tensors && (!names || !name_lengths || !data || !dims || !n_dims || !types))
        return sf_fail(SRParameterError, where, "NULL argument");
    /* Every tensor is checked and encoded before any is sent. */
    char** keys = calloc(n_tensors ? n_tensors : 1, sizeof *keys);
    char** values = calloc(n_tensors ? n_tensors : 1, sizeof *values);
    size_t* vlens = calloc(n_tensors ? n_tensors : 1, sizeof *vlens);
    size_t* klens = calloc(n_tensors ? n_tensors : 1, sizeof *klens);
    const char** flat = calloc(3 * (n_tensors ? n_tensors : 1), sizeof *flat);
    size_t* flat_len = calloc(3 * (n_tensors ? n_tensors : 1), sizeof *flat_len);
    int* argcs = calloc(n_tensors ? n_tensors : 1, sizeof *argcs);
    const char*** argvs = calloc(n_tensors ? n_tensors : 1, sizeof *argvs);
    const size_t** lens = calloc(n_tensors ? n_tensors : 1, sizeof *lens);
    redisReply** replies = calloc(n_tensors ? n_tensors : 1, sizeof *replies);
    SRError rc = keys && values && vlens && klens && flat && flat_len && argcs && argvs && lens && replies
                     ? SRNoError : sf_fail(SRBadAllocError, where, "out of memory");
    size_t n_small = 0;
    for (size_t i = 0; i < n_tensors && rc == SRNoError; i++) {
        rc = sf_check_name(names[i], name_lengths[i], "a tensor name", where);
        if (rc != SRNoError) break;
        size_t itemsize = sf_type_size(types[i]);
        if (!itemsize || !data[i] || !dims[i] || n_dims[i] == 0 || n_dims[i] > SF_MAX_NDIM) {
            rc = sf_fail(SRParameterError, where, "tensor %zu: bad type, data or dimensions", i);
            break;
        }
        size_t count = 1;
        for (size_t k = 0; k < n_dims[i] && rc == SRNoError; k++) {
            if (dims[i][k] == 0) rc = sf_fail(SRParameterError, where, "tensor %zu has a zero dimension", i);
            else if (count > (SIZE_MAX - 1024) / itemsize / dims[i][k])
                rc = sf_fail(SRParameterError, where, "tensor %zu is too large", i);
            else count *= dims[i][k];
        }
        if (rc != SRNoError) break;
        size_t hl = sf_header_size(n_dims[i]);
        keys[i] = sf_key_out(c, SF_TENSOR, names[i], name_lengths[i]);
        values[i] = malloc(hl + count * itemsize);
        if (!keys[i] || !values[i]) { rc = sf_fail(SRBadAllocError, where, "out of memory"); break; }
        sf_header_encode(values[i], types[i], dims[i], n_dims[i], false);
        rc = sf_pack(values[i] + hl, data[i], dims[i], n_dims[i], itemsize, mem_layout, where);
        vlens[i] = hl + count * itemsize;
        klens[i] = strlen(keys[i]);
    }
    for (size_t i = 0; i < n_tensors && rc == SRNoError; i++) {
        if (vlens[i] > c->max_value_bytes) {  /* large ones go chunked, one by one */
            size_t hl = sf_header_size(n_dims[i]);
            rc = sf_write_chunked(c, keys[i], values[i], hl, values[i] + hl, vlens[i] - hl, where);
            continue;
        }
        flat[3 * n_small] = "SET"; flat_len[3 * n_small] = 3;
        flat[3 * n_small + 1] = keys[i]; flat_len[3 * n_small + 1] = klens[i];
        flat[3 * n_small + 2] = values[i]; flat_len[3 * n_small + 2] = vlens[i];
        argcs[n_small] = 3;
        argvs[n_small] = &flat[3 * n_small];
        lens[n_small] = &flat_len[3 * n_small];
        n_small++;
    }
    if (rc == SRNoError && n_small) {
        const char** skeys = malloc(n_small * sizeof *skeys);
        size_t* sklens = malloc(n_small * sizeof *sklens);
        if (!skeys || !sklens) rc = sf_fail(SRBadAllocError, where, "out of memory");
        for (size_t j = 0; rc == SRNoError && j < n_small; j++) { skeys[j] = argvs[j][1]; sklens[j] = lens[j][1]; }
        if (rc == SRNoError) rc = sf_pipeline_keyed(c, n_small, skeys, sklens, argcs, argvs, lens, replies, where);
        for (size_t j = 0; rc == SRNoError && j < n_small; j++) rc = sf_reply_error(replies[j], where);
        for (size_t j = 0; j < n_small; j++) if (replies[j]) freeReplyObject(replies[j]);
        free(skeys); free(sklens);
    }
    for (size_t i = 0; i < n_tensors; i++) {
        if (keys) free(keys[i]);
        if (values) free(values[i]);
    }
    free(keys); free(values); free(vlens); free(klens); free(flat); free(flat_len);
    free(argcs); free(argvs); free(lens); free(replies);
    return rc;
}

SRError unpack_tensors(void* c_client, const char* const* names, const size_t* name_lengths,
                       const size_t n_tensors, void* const* results, const size_t* const* dims,
                       const size_t* n_dims, const SRTensorType* types, SRMemoryLayout mem_layout)
{
    const char* where = "unpack_tensors";
    sf_client* c = NULL;
    SF_CHECK(sf_client_check(c_client, where, &c));
    if (n_tensors && (!names || !name_lengths || !results || !dims || !n_dims || !types))
        return sf_fail(SRParameterError, where, "NULL argument");
    size_t n = n_tensors ? n_tensors : 1;
    char** keys = calloc(n, sizeof *keys);
    size_t* klens = calloc(n, sizeof *klens);
    const char** flat = calloc(2 * n, sizeof *flat);
    size_t* flat_len = calloc(2 * n, sizeof *flat_len);
    int* argcs = calloc(n, sizeof *argcs);
    const char*** argvs = calloc(n, sizeof *argvs);
    const size_t** lens = calloc(n, sizeof *lens);
    redisReply** replies = calloc(n, sizeof *replies);
    SRError rc = keys && klens && flat && flat_len && argcs && argvs && lens && replies
                     ? SRNoError : sf_fail(SRBadAllocError, where, "out of memory");
    for (size_t i = 0; i < n_tensors && rc == SRNoError; i++) {
        rc = sf_check_name(names[i], name_lengths[i], "a tensor name", where);
        if (rc == SRNoError && !results[i])
            rc = sf_fail(SRParameterError, where, "results[%zu] is NULL", i);
        if (rc == SRNoError && !(keys[i] = sf_key_in(c, SF_TENSOR, names[i], name_lengths[i])))
            rc = sf_fail(SRBadAllocError, where, "out of memory");
        if (rc != SRNoError) break;
        klens[i] = strlen(keys[i]);
        flat[2 * i] = "GET"; flat_len[2 * i] = 3;
        flat[2 * i + 1] = keys[i]; flat_len[2 * i + 1] = klens[i];
        argcs[i] = 2; argvs[i] = &flat[2 * i]; lens[i] = &flat_len[2 * i];
    }
    if (rc == SRNoError && n_tensors)
        rc = sf_pipeline_keyed(c, n_tensors, (const char* const*)keys, klens, argcs, argvs, lens, replies, where);
    for (size_t i = 0; i < n_tensors && rc == SRNoError; i++) {
        sf_tensor t;
        memset(&t, 0, sizeof t);
        redisReply* r = replies[i];
        if (r->type == REDIS_REPLY_NIL) rc = sf_fail(SRKeyError, where, "tensor '%s' does not exist", keys[i]);
        else if (sf_reply_is_error(r, "WRONGTYPE")) rc = sf_read_chunked(c, keys[i], keys[i], &t, where);
        else if (r->type == REDIS_REPLY_STRING) {
            /* Straight from the reply into the caller's memory, when the layout allows. */
            rc = sf_header_decode(r->str, r->len, &t.h, keys[i], where);
            if (rc == SRNoError && (t.h.chunked || r->len - t.h.header_len != t.h.data_len))
                rc = sf_fail(SRRuntimeError, where, "tensor '%s' is corrupt", keys[i]);
            if (rc == SRNoError)
                rc = sf_check_unpack(&t.h, dims[i], n_dims[i], types[i], mem_layout, keys[i], where);
            if (rc == SRNoError && !t.h.swap && mem_layout == SRMemLayoutContiguous) {
                memcpy(results[i], r->str + t.h.header_len, t.h.data_len);
                continue;
            }
            if (rc == SRNoError) rc = sf_tensor_from_value(r->str, r->len, keys[i], &t, where);
        } else rc = sf_reply_error(r, where);
        if (rc == SRNoError) rc = sf_check_unpack(&t.h, dims[i], n_dims[i], types[i], mem_layout, keys[i], where);
        if (rc == SRNoError) {
            size_t shape[SF_MAX_NDIM];
            for (size_t k = 0; k < t.h.ndim; k++) shape[k] = (size_t)t.h.shape[k];
            rc = sf_unpack(results[i], t.data, shape, t.h.ndim, t.h.itemsize, mem_layout, where);
        }
        free(t.data);
    }
    for (size_t i = 0; i < n_tensors; i++) {
        if (keys) free(keys[i]);
        if (replies && replies[i]) freeReplyObject(replies[i]);
    }
    free(keys); free(klens); free(flat); free(flat_len); free(argcs); free(argvs); free(lens); free(replies);
    return rc;
}

SRError get_ai_info(void* c_client, const char* address, const size_t address_length,
                    const char* key, const size_t key_length, const bool reset_stat)
{
    (void)address; (void)address_length; (void)key; (void)key_length; (void)reset_stat;
    sf_client* c = NULL;
    SF_CHECK(sf_client_check(c_client, "get_ai_info", &c));
    return sf_fail(SRRuntimeError, "get_ai_info", "get_ai_info needs RedisAI (AI.INFO); smartflow's "
                   "inference workers keep no RedisAI statistics");
}

SRError set_model_chunk_size(void* c_client, const int chunk_size)
{
    sf_client* c = NULL;
    SF_CHECK(sf_client_check(c_client, "set_model_chunk_size", &c));
    if (chunk_size <= 0)
        return sf_fail(SRParameterError, "set_model_chunk_size", "chunk_size must be positive");
    return SRNoError;  /* a smartflow model is one value: nothing to chunk */
}
