/* Aggregation lists (c_client.h): a Redis list at "{<stored name>}.list" of stored dataset
 * names, as smartflow/client/_lists.py keeps them. */
#include "internal.h"
#include "c_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char* list_key(sf_client* c, const char* name, size_t len, bool write)
{
    char* stored = write ? sf_key_out(c, SF_LIST, name, len) : sf_key_in(c, SF_LIST, name, len);
    if (!stored) return NULL;
    size_t sl = strlen(stored);
    char* k = malloc(sl + 8);
    if (k) { k[0] = '{'; memcpy(k + 1, stored, sl); memcpy(k + 1 + sl, "}.list", 7); }
    free(stored);
    return k;
}

static SRError begin(void* c_client, const char* name, size_t len, sf_client** c, const char* where)
{
    SF_CHECK(sf_client_check(c_client, where, c));
    return sf_check_name(name, len, "list name", where);
}

SRError append_to_list(void* c_client, const char* list_name, const size_t list_name_length,
                       const void* dataset)
{
    const char* where = "append_to_list";
    sf_client* c = NULL;
    sf_dataset* d = NULL;
    SF_CHECK(begin(c_client, list_name, list_name_length, &c, where));
    SF_CHECK(sf_dataset_check(dataset, where, &d));
    char* stored = sf_key_out(c, SF_DATASET, d->obj.name, strlen(d->obj.name));
    char* dkey = stored ? sf_dataset_key(stored, strlen(stored)) : NULL;
    char* key = list_key(c, list_name, list_name_length, true);
    SRError rc = SRNoError;
    bool exists = false;
    if (!stored || !dkey || !key) rc = sf_fail(SRBadAllocError, where, "out of memory");
    else rc = sf_exists(c, dkey, &exists, where);
    if (rc == SRNoError && !exists)
        rc = sf_fail(SRKeyError, where, "dataset '%s' is not in the store; put_dataset it first",
                     d->obj.name);
    if (rc == SRNoError) {
        const char* argv[] = { "RPUSH", key, stored };
        size_t lens[] = { 5, strlen(key), strlen(stored) };
        rc = sf_run(c, key, 3, argv, lens, NULL, where);
    }
    free(stored); free(dkey); free(key);
    return rc;
}

SRError delete_list(void* c_client, const char* list_name, const size_t list_name_length)
{
    const char* where = "delete_list";
    sf_client* c = NULL;
    SF_CHECK(begin(c_client, list_name, list_name_length, &c, where));
    char* key = list_key(c, list_name, list_name_length, false);
    if (!key) return sf_fail(SRBadAllocError, where, "out of memory");
    const char* argv[] = { "DEL", key };
    size_t lens[] = { 3, strlen(key) };
    SRError rc = sf_run(c, key, 2, argv, lens, NULL, where);
    free(key);
    return rc;
}

/* Replace dest by src's entries (src and dest may be on different shards). */
static SRError copy_entries(sf_client* c, const char* src, const char* dest, const char* what,
                            const char* where)
{
    if (sf_same_slot(c, src, dest)) {
        const char* argv[] = { "COPY", src, dest, "REPLACE" };
        size_t lens[] = { 4, strlen(src), strlen(dest), 7 };
        redisReply* r = NULL;
        SF_CHECK(sf_run(c, src, 4, argv, lens, &r, where));
        bool ok = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
        freeReplyObject(r);
        return ok ? SRNoError : sf_fail(SRKeyError, where, "%s does not exist", what);
    }
    const char* lr[] = { "LRANGE", src, "0", "-1" };
    size_t ll[] = { 6, strlen(src), 1, 2 };
    redisReply* r = NULL;
    SF_CHECK(sf_run(c, src, 4, lr, ll, &r, where));
    SRError rc = SRNoError;
    if (r->type != REDIS_REPLY_ARRAY || r->elements == 0) {
        freeReplyObject(r);
        return sf_fail(SRKeyError, where, "%s does not exist", what);
    }
    size_t n = r->elements;
    const char** push = malloc((n + 2) * sizeof *push);
    size_t* plen = malloc((n + 2) * sizeof *plen);
    if (!push || !plen) rc = sf_fail(SRBadAllocError, where, "out of memory");
    else {
        push[0] = "RPUSH"; plen[0] = 5; push[1] = dest; plen[1] = strlen(dest);
        for (size_t i = 0; i < n; i++) { push[i + 2] = r->element[i]->str; plen[i + 2] = r->element[i]->len; }
        const char* multi[] = { "MULTI" }; size_t ml[] = { 5 };
        const char* del[] = { "DEL", dest }; size_t dl[] = { 3, strlen(dest) };
        const char* ex[] = { "EXEC" }; size_t el[] = { 4 };
        int argcs[] = { 1, 2, (int)(n + 2), 1 };
        const char** argvs[] = { multi, del, push, ex };
        const size_t* lens[] = { ml, dl, plen, el };
        redisReply* rep[4];
        rc = sf_pipeline_on(c, sf_node_for_key(c, dest, strlen(dest)), 4, argcs, argvs, lens, rep, where);
        if (rc == SRNoError) {
            for (int i = 0; i < 4 && rc == SRNoError; i++) rc = sf_reply_error(rep[i], where);
            for (int i = 0; i < 4; i++) freeReplyObject(rep[i]);
        }
    }
    free(push); free(plen);
    freeReplyObject(r);
    return rc;
}

SRError copy_list(void* c_client, const char* src_name, const size_t src_name_length,
                  const char* dest_name, const size_t dest_name_length)
{
    const char* where = "copy_list";
    sf_client* c = NULL;
    SF_CHECK(begin(c_client, src_name, src_name_length, &c, where));
    SF_CHECK(sf_check_name(dest_name, dest_name_length, "dest_name", where));
    char* src = list_key(c, src_name, src_name_length, false);
    char* dest = list_key(c, dest_name, dest_name_length, true);
    char what[300];
    snprintf(what, sizeof what, "list '%.*s'", (int)src_name_length, src_name);
    SRError rc = !src || !dest ? sf_fail(SRBadAllocError, where, "out of memory")
               : strcmp(src, dest) == 0 ? sf_fail(SRParameterError, where, "source and destination are the same")
               : copy_entries(c, src, dest, what, where);
    free(src); free(dest);
    return rc;
}

SRError rename_list(void* c_client, const char* src_name, const size_t src_name_length,
                    const char* dest_name, const size_t dest_name_length)
{
    const char* where = "rename_list";
    sf_client* c = NULL;
    SF_CHECK(begin(c_client, src_name, src_name_length, &c, where));
    SF_CHECK(sf_check_name(dest_name, dest_name_length, "dest_name", where));
    char* src = list_key(c, src_name, src_name_length, false);
    char* dest = list_key(c, dest_name, dest_name_length, true);
    char what[300];
    snprintf(what, sizeof what, "list '%.*s'", (int)src_name_length, src_name);
    SRError rc = !src || !dest ? sf_fail(SRBadAllocError, where, "out of memory")
               : strcmp(src, dest) == 0 ? sf_fail(SRParameterError, where, "old and new names are the same")
               : copy_entries(c, src, dest, what, where);
    if (rc == SRNoError) {
        const char* argv[] = { "DEL", src };
        size_t lens[] = { 3, strlen(src) };
        rc = sf_run(c, src, 2, argv, lens, NULL, where);
    }
    free(src); free(dest);
    return rc;
}

static SRError length_of(sf_client* c, const char* key, long long* n, const char* where)
{
    const char* argv[] = { "LLEN", key };
    size_t lens[] = { 4, strlen(key) };
    redisReply* r = NULL;
    SF_CHECK(sf_run(c, key, 2, argv, lens, &r, where));
    *n = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
    freeReplyObject(r);
    return SRNoError;
}

SRError get_list_length(void* c_client, const char* list_name, const size_t list_name_length,
                        int* result_length)
{
    const char* where = "get_list_length";
    sf_client* c = NULL;
    SF_CHECK(begin(c_client, list_name, list_name_length, &c, where));
    if (!result_length) return sf_fail(SRParameterError, where, "result_length is NULL");
    char* key = list_key(c, list_name, list_name_length, false);
    if (!key) return sf_fail(SRBadAllocError, where, "out of memory");
    long long n = 0;
    SRError rc = length_of(c, key, &n, where);
    free(key);
    if (rc == SRNoError) *result_length = (int)n;
    return rc;
}

static SRError poll_length(void* c_client, const char* name, size_t len, int want, int poll_ms,
                           int tries, bool* result, int op, const char* where)
{
    sf_client* c = NULL;
    SF_CHECK(begin(c_client, name, len, &c, where));
    if (!result) return sf_fail(SRParameterError, where, "poll_result is NULL");
    if (want < 0) return sf_fail(SRParameterError, where, "list_length must be >= 0");
    if (poll_ms < 0) return sf_fail(SRParameterError, where, "poll_frequency_ms must be >= 0");
    char* key = list_key(c, name, len, false);
    if (!key) return sf_fail(SRBadAllocError, where, "out of memory");
    SRError rc = SRNoError;
    *result = false;
    for (int i = 0; i < tries && rc == SRNoError; i++) {
        long long n = 0;
        rc = length_of(c, key, &n, where);
        if (rc != SRNoError) break;
        if ((op == 0 && n == want) || (op > 0 && n >= want) || (op < 0 && n <= want)) {
            *result = true;
            break;
        }
        if (i + 1 < tries) sf_sleep_ms(poll_ms);
    }
    free(key);
    return rc;
}

SRError poll_list_length(void* c_client, const char* name, const size_t name_length, int list_length,
                         int poll_frequency_ms, int num_tries, bool* poll_result)
{
    return poll_length(c_client, name, name_length, list_length, poll_frequency_ms, num_tries,
                       poll_result, 0, "poll_list_length");
}

SRError poll_list_length_gte(void* c_client, const char* name, const size_t name_length,
                             int list_length, int poll_frequency_ms, int num_tries, bool* poll_result)
{
    return poll_length(c_client, name, name_length, list_length, poll_frequency_ms, num_tries,
                       poll_result, 1, "poll_list_length_gte");
}

SRError poll_list_length_lte(void* c_client, const char* name, const size_t name_length,
                             int list_length, int poll_frequency_ms, int num_tries, bool* poll_result)
{
    return poll_length(c_client, name, name_length, list_length, poll_frequency_ms, num_tries,
                       poll_result, -1, "poll_list_length_lte");
}

/* The datasets at positions start..end (LRANGE semantics), as a malloc'ed array. */
static SRError range(void* c_client, const char* list_name, size_t len, int start, int end,
                     void*** datasets, size_t* n_out, const char* where)
{
    sf_client* c = NULL;
    SF_CHECK(begin(c_client, list_name, len, &c, where));
    if (!datasets || !n_out) return sf_fail(SRParameterError, where, "NULL output argument");
    char* key = list_key(c, list_name, len, false);
    if (!key) return sf_fail(SRBadAllocError, where, "out of memory");
    char s[24], e[24];
    snprintf(s, sizeof s, "%d", start);
    snprintf(e, sizeof e, "%d", end);
    const char* argv[] = { "LRANGE", key, s, e };
    size_t lens[] = { 6, strlen(key), strlen(s), strlen(e) };
    redisReply* r = NULL;
    SRError rc = sf_run(c, key, 4, argv, lens, &r, where);
    free(key);
    SF_CHECK(rc);
    size_t n = r->type == REDIS_REPLY_ARRAY ? r->elements : 0;
    void** out = calloc(n ? n : 1, sizeof *out);
    if (!out) { freeReplyObject(r); return sf_fail(SRBadAllocError, where, "out of memory"); }
    for (size_t i = 0; i < n && rc == SRNoError; i++) {
        char* stored = sf_strndup(r->element[i]->str, r->element[i]->len);
        if (!stored) { rc = sf_fail(SRBadAllocError, where, "out of memory"); break; }
        sf_dataset* d = NULL;
        rc = sf_fetch_dataset(c, stored, &d, where);
        if (rc == SRKeyError)
            rc = sf_fail(SRKeyError, where, "list '%.*s' refers to a dataset that is gone: '%s'",
                         (int)len, list_name, stored);
        free(stored);
        out[i] = d;
    }
    freeReplyObject(r);
    if (rc != SRNoError) {
        for (size_t i = 0; i < n; i++) if (out[i]) DeallocateDataSet(&out[i]);
        free(out);
        return rc;
    }
    *datasets = out;
    *n_out = n;
    return SRNoError;
}

SRError get_datasets_from_list(void* c_client, const char* list_name, const size_t list_name_length,
                               void*** datasets, size_t* num_datasets)
{
    return range(c_client, list_name, list_name_length, 0, -1, datasets, num_datasets,
                 "get_datasets_from_list");
}

SRError get_dataset_list_range(void* c_client, const char* list_name, const size_t list_name_length,
                               const int start_index, const int end_index, void*** datasets,
                               size_t* num_datasets)
{
    return range(c_client, list_name, list_name_length, start_index, end_index, datasets,
                 num_datasets, "get_dataset_list_range");
}

SRError _get_dataset_list_range_allocated(void* c_client, const char* list_name,
                                          const size_t list_name_length, const int start_index,
                                          const int end_index, void** datasets)
{
    const char* where = "_get_dataset_list_range_allocated";
    if (!datasets) return sf_fail(SRParameterError, where, "datasets is NULL");
    void** got = NULL;
    size_t n = 0;
    SF_CHECK(range(c_client, list_name, list_name_length, start_index, end_index, &got, &n, where));
    /* The caller's array holds end - start + 1 entries (SmartRedis's rule): write no more. */
    long long want = (long long)end_index - start_index + 1;
    if (want < 0 || (unsigned long long)want != n) {
        for (size_t i = 0; i < n; i++) DeallocateDataSet(&got[i]);
        free(got);
        return sf_fail(SRInternalError, where, "the list holds %zu datasets in the range %d..%d, "
                       "not the %lld the range asks for", n, start_index, end_index, want);
    }
    for (size_t i = 0; i < n; i++) datasets[i] = got[i];
    free(got);
    return SRNoError;
}
