/* Datasets in the store (c_client.h): one value at "{<stored name>}.dataset". */
#include "internal.h"
#include "c_client.h"

#include <stdlib.h>
#include <string.h>

char* sf_dataset_key(const char* stored, size_t len)
{
    char* k = malloc(len + 11);
    if (!k) return NULL;
    k[0] = '{';
    memcpy(k + 1, stored, len);
    memcpy(k + 1 + len, "}.dataset", 10);
    return k;
}

static char* key_for(sf_client* c, const char* name, size_t len, bool write)
{
    char* stored = write ? sf_key_out(c, SF_DATASET, name, len) : sf_key_in(c, SF_DATASET, name, len);
    if (!stored) return NULL;
    char* key = sf_dataset_key(stored, strlen(stored));
    free(stored);
    return key;
}

SRError put_dataset(void* c_client, void* dataset)
{
    const char* where = "put_dataset";
    sf_client* c = NULL;
    sf_dataset* d = NULL;
    SF_CHECK(sf_client_check(c_client, where, &c));
    SF_CHECK(sf_dataset_check(dataset, where, &d));
    if (d->n_tensors == 0 && d->n_meta == 0)
        return sf_fail(SRParameterError, where, "dataset '%s' has no tensors and no metadata: "
                       "nothing to store", d->obj.name);
    sf_buf value = {0};
    SF_CHECK(sf_dataset_encode(d, &value, where));
    if (value.len > c->max_value_bytes && value.len > (size_t)512 * 1024 * 1024) {
        sf_buf_free(&value);
        return sf_fail(SRParameterError, where, "dataset '%s' is over the store's value limit; put "
                       "its largest tensors with put_tensor (which chunks them)", d->obj.name);
    }
    char* key = key_for(c, d->obj.name, strlen(d->obj.name), true);
    SRError rc = SRNoError;
    if (!key) rc = sf_fail(SRBadAllocError, where, "out of memory");
    else {
        const char* argv[] = { "SET", key, value.data };
        size_t lens[] = { 3, strlen(key), value.len };
        redisReply* r = NULL;
        rc = sf_command(c, key, lens[1], 3, argv, lens, &r, where);
        if (rc == SRNoError) { rc = sf_reply_error(r, where); freeReplyObject(r); }
    }
    free(key);
    sf_buf_free(&value);
    return rc;
}

SRError sf_fetch_dataset(sf_client* c, const char* stored, sf_dataset** out, const char* where)
{
    char* key = sf_dataset_key(stored, strlen(stored));
    if (!key) return sf_fail(SRBadAllocError, where, "out of memory");
    const char* argv[] = { "GET", key };
    size_t lens[] = { 3, strlen(key) };
    redisReply* r = NULL;
    SRError rc = sf_command(c, key, lens[1], 2, argv, lens, &r, where);
    free(key);
    SF_CHECK(rc);
    if (r->type == REDIS_REPLY_NIL) rc = sf_fail(SRKeyError, where, "dataset '%s' does not exist", stored);
    else if (r->type == REDIS_REPLY_STRING) rc = sf_dataset_decode(r->str, r->len, stored, out, where);
    else rc = sf_reply_error(r, where);
    freeReplyObject(r);
    return rc;
}

SRError get_dataset(void* c_client, const char* name, const size_t name_length, void** dataset)
{
    const char* where = "get_dataset";
    sf_client* c = NULL;
    SF_CHECK(sf_client_check(c_client, where, &c));
    SF_CHECK(sf_check_name(name, name_length, "name", where));
    if (!dataset) return sf_fail(SRParameterError, where, "dataset is NULL");
    char* stored = sf_key_in(c, SF_DATASET, name, name_length);
    if (!stored) return sf_fail(SRBadAllocError, where, "out of memory");
    sf_dataset* d = NULL;
    SRError rc = sf_fetch_dataset(c, stored, &d, where);
    free(stored);
    SF_CHECK(rc);
    /* The dataset keeps the name it was asked by, as in SmartRedis. */
    char* n = sf_strndup(name, name_length);
    if (!n) { void* h = d; DeallocateDataSet(&h); return sf_fail(SRBadAllocError, where, "out of memory"); }
    free(d->obj.name);
    d->obj.name = n;
    *dataset = d;
    return SRNoError;
}

/* Copy the value at src to dest (replacing dest): COPY within a slot, else GET + SET. */
SRError sf_copy_value(sf_client* c, const char* src, const char* dest, const char* what, const char* where)
{
    if (sf_same_slot(c, src, dest)) {
        const char* argv[] = { "COPY", src, dest, "REPLACE" };
        size_t lens[] = { 4, strlen(src), strlen(dest), 7 };
        redisReply* r = NULL;
        SF_CHECK(sf_run(c, src, 4, argv, lens, &r, where));
        bool copied = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
        freeReplyObject(r);
        return copied ? SRNoError : sf_fail(SRKeyError, where, "%s does not exist", what);
    }
    const char* get[] = { "GET", src };
    size_t gl[] = { 3, strlen(src) };
    redisReply* r = NULL;
    SF_CHECK(sf_run(c, src, 2, get, gl, &r, where));
    SRError rc = SRNoError;
    if (r->type != REDIS_REPLY_STRING) rc = sf_fail(SRKeyError, where, "%s does not exist", what);
    else {
        const char* set[] = { "SET", dest, r->str };
        size_t sl[] = { 3, strlen(dest), r->len };
        rc = sf_run(c, dest, 3, set, sl, NULL, where);
    }
    freeReplyObject(r);
    return rc;
}

SRError copy_dataset(void* c_client, const char* src_name, const size_t src_name_length,
                     const char* dest_name, const size_t dest_name_length)
{
    const char* where = "copy_dataset";
    sf_client* c = NULL;
    SF_CHECK(sf_client_check(c_client, where, &c));
    SF_CHECK(sf_check_name(src_name, src_name_length, "src_name", where));
    SF_CHECK(sf_check_name(dest_name, dest_name_length, "dest_name", where));
    char* src = key_for(c, src_name, src_name_length, false);
    char* dest = key_for(c, dest_name, dest_name_length, true);
    char what[300];
    snprintf(what, sizeof what, "dataset '%.*s'", (int)src_name_length, src_name);
    SRError rc = !src || !dest ? sf_fail(SRBadAllocError, where, "out of memory")
               : strcmp(src, dest) == 0 ? sf_fail(SRParameterError, where, "source and destination are the same")
               : sf_copy_value(c, src, dest, what, where);
    free(src);
    free(dest);
    return rc;
}

SRError rename_dataset(void* c_client, const char* old_name, const size_t old_name_length,
                       const char* new_name, const size_t new_name_length)
{
    const char* where = "rename_dataset";
    sf_client* c = NULL;
    SF_CHECK(sf_client_check(c_client, where, &c));
    SF_CHECK(sf_check_name(old_name, old_name_length, "old_name", where));
    SF_CHECK(sf_check_name(new_name, new_name_length, "new_name", where));
    char* old = key_for(c, old_name, old_name_length, false);
    char* new_ = key_for(c, new_name, new_name_length, true);
    char what[300];
    snprintf(what, sizeof what, "dataset '%.*s'", (int)old_name_length, old_name);
    SRError rc = SRNoError;
    if (!old || !new_) rc = sf_fail(SRBadAllocError, where, "out of memory");
    else if (strcmp(old, new_) == 0) rc = sf_fail(SRParameterError, where, "old and new names are the same");
    else {
        rc = sf_copy_value(c, old, new_, what, where);
        if (rc == SRNoError) {
            const char* argv[] = { "DEL", old };
            size_t lens[] = { 3, strlen(old) };
            rc = sf_run(c, old, 2, argv, lens, NULL, where);
        }
    }
    free(old);
    free(new_);
    return rc;
}

SRError delete_dataset(void* c_client, const char* name, const size_t name_length)
{
    const char* where = "delete_dataset";
    sf_client* c = NULL;
    SF_CHECK(sf_client_check(c_client, where, &c));
    SF_CHECK(sf_check_name(name, name_length, "name", where));
    char* key = key_for(c, name, name_length, false);
    if (!key) return sf_fail(SRBadAllocError, where, "out of memory");
    const char* argv[] = { "DEL", key };
    size_t lens[] = { 3, strlen(key) };
    SRError rc = sf_run(c, key, 2, argv, lens, NULL, where);
    free(key);
    return rc;
}

static SRError exists_or_poll(void* c_client, const char* name, size_t len, int poll_ms, int tries,
                              bool* exists, const char* where)
{
    sf_client* c = NULL;
    SF_CHECK(sf_client_check(c_client, where, &c));
    SF_CHECK(sf_check_name(name, len, "name", where));
    if (!exists) return sf_fail(SRParameterError, where, "exists is NULL");
    char* key = key_for(c, name, len, false);
    if (!key) return sf_fail(SRBadAllocError, where, "out of memory");
    SRError rc = tries != SF_NO_POLL ? sf_poll_key(c, key, poll_ms, tries, exists, where) : sf_exists(c, key, exists, where);
    free(key);
    return rc;
}

SRError dataset_exists(void* c_client, const char* name, const size_t name_length, bool* exists)
{
    return exists_or_poll(c_client, name, name_length, 0, SF_NO_POLL, exists, "dataset_exists");
}

SRError poll_dataset(void* c_client, const char* name, const size_t name_length,
                     const int poll_frequency_ms, const int num_tries, bool* exists)
{
    return exists_or_poll(c_client, name, name_length, poll_frequency_ms,
                          num_tries < 0 ? 0 : num_tries, exists, "poll_dataset");
}
