/*
 * Chunked tensors, exactly as the Python client stores them (docs/wire-format.md): a Redis
 * list at the tensor's key holding a manifest, then the data in chunks. Written under a
 * temporary key in the same slot (TTL refreshed by each chunk) and renamed into place in one
 * MULTI/EXEC, so readers see the old tensor or the new one, whole.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SF_TEMP_TTL_MS "120000"
#define SF_MANIFEST_BODY 32
#define SF_READ_TRIES 5

static uint64_t le64(const char* p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | (unsigned char)p[i];
    return v;
}

static void put64(char* p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (char)(v >> (8 * i)); }

typedef struct { sf_header h; uint64_t count, chunk_bytes, data_bytes; char raw[1100]; size_t raw_len; } manifest;

static SRError decode_manifest(const char* v, size_t len, const char* name, manifest* m,
                               const char* where)
{
    SF_CHECK(sf_header_decode(v, len, &m->h, name, where));
    if (!m->h.chunked || len - m->h.header_len != SF_MANIFEST_BODY || len > sizeof m->raw)
        return sf_fail(SRTypeError, where, "key '%s' holds a Redis list that is not a chunked tensor", name);
    const char* body = v + m->h.header_len;
    m->count = le64(body);
    m->chunk_bytes = le64(body + 8);
    m->data_bytes = le64(body + 16);
    if (m->data_bytes != m->h.data_len || m->chunk_bytes == 0 ||
        m->count != (m->data_bytes + m->chunk_bytes - 1) / m->chunk_bytes)
        return sf_fail(SRRuntimeError, where, "key '%s': chunk manifest is inconsistent", name);
    memcpy(m->raw, v, len);
    m->raw_len = len;
    return SRNoError;
}

/* Neither GET nor LINDEX could read the key: a plain value replaced the list meanwhile
 * (*changed), or the key holds a hash, set or stream, which is no tensor. Asked, not assumed:
 * assuming would send the reader back and forth between GET and LINDEX for ever. */
static SRError plain_again(sf_client* c, const char* key, const char* name, bool* changed,
                           const char* where)
{
    const char* argv[] = { "TYPE", key };
    size_t lens[] = { 4, strlen(key) };
    redisReply* r = NULL;
    SF_CHECK(sf_command(c, key, lens[1], 2, argv, lens, &r, where));
    SRError rc = SRNoError;
    if (r->type != REDIS_REPLY_STATUS && r->type != REDIS_REPLY_STRING)
        rc = sf_reply_error(r, where) ? SRDatabaseError
                                      : sf_fail(SRDatabaseError, where, "unexpected reply to TYPE");
    else if (strcmp(r->str, "string") == 0)
        *changed = true;
    else if (strcmp(r->str, "none") == 0)
        rc = sf_fail(SRKeyError, where, "tensor '%s' does not exist", name);
    else
        rc = sf_fail(SRTypeError, where, "key '%s' holds a Redis %s, not a tensor", name, r->str);
    freeReplyObject(r);
    return rc;
}

/* A manifest is believed only when the list has its chunks: a small value that claims a huge
 * tensor must not make the reader allocate it, nor pipeline millions of LINDEX. A list of
 * another length was replaced meanwhile (*changed: read again), or, if its manifest is the same
 * next time, is corrupt. */
static SRError check_length(sf_client* c, const char* key, const char* name, const manifest* m,
                            bool* changed, const char* where)
{
    if (m->chunk_bytes > SF_DEFAULT_MAX_VALUE)
        return sf_fail(SRRuntimeError, where, "tensor '%s': its chunk manifest claims chunks "
                       "larger than a Redis value: the stored tensor is corrupt", name);
    const char* argv[] = { "LLEN", key };
    size_t lens[] = { 4, strlen(key) };
    redisReply* r = NULL;
    SF_CHECK(sf_command(c, key, lens[1], 2, argv, lens, &r, where));
    SRError rc = SRNoError;
    if (r->type != REDIS_REPLY_INTEGER)
        rc = sf_reply_error(r, where) ? SRDatabaseError
                                      : sf_fail(SRDatabaseError, where, "unexpected reply to LLEN");
    else if ((uint64_t)r->integer != m->count + 1)
        *changed = true;
    freeReplyObject(r);
    return rc;
}

/* One attempt; *changed when a write replaced the tensor meanwhile. */
static SRError read_once(sf_client* c, const char* key, const char* name, sf_tensor* out,
                         bool* changed, manifest* seen, const char* where)
{
    *changed = false;
    size_t klen = strlen(key);
    const char* li[] = { "LINDEX", key, "0" };
    size_t ll[] = { 6, klen, 1 };
    redisReply* r = NULL;
    SF_CHECK(sf_command(c, key, klen, 3, li, ll, &r, where));
    SRError rc = SRNoError;
    if (r->type == REDIS_REPLY_NIL) rc = sf_fail(SRKeyError, where, "tensor '%s' does not exist", name);
    else if (sf_reply_is_error(r, "WRONGTYPE")) rc = plain_again(c, key, name, changed, where);
    else if (r->type != REDIS_REPLY_STRING) rc = sf_reply_error(r, where);
    else rc = decode_manifest(r->str, r->len, name, seen, where);
    freeReplyObject(r);
    if (rc == SRNoError && !*changed) rc = check_length(c, key, name, seen, changed, where);
    if (rc != SRNoError || *changed) return rc;
    size_t count = (size_t)seen->count;
    out->h = seen->h;
    out->data = malloc(seen->data_bytes ? seen->data_bytes : 1);
    if (!out->data) return sf_fail(SRBadAllocError, where, "out of memory");
    /* Every chunk, then the manifest again, in one pipeline. */
    size_t n = count + 1;
    int* argcs = malloc(n * sizeof *argcs);
    const char*** argvs = malloc(n * sizeof *argvs);
    const size_t** lens = malloc(n * sizeof *lens);
    const char** keys = malloc(n * sizeof *keys);
    size_t* klens = malloc(n * sizeof *klens);
    char (*idx)[24] = malloc(n * sizeof *idx);
    const char** flat_argv = malloc(3 * n * sizeof *flat_argv);
    size_t* flat_len = malloc(3 * n * sizeof *flat_len);
    redisReply** replies = calloc(n, sizeof *replies);
    if (!argcs || !argvs || !lens || !keys || !klens || !idx || !flat_argv || !flat_len || !replies) {
        rc = sf_fail(SRBadAllocError, where, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        int l = snprintf(idx[i], sizeof idx[i], "%zu", i < count ? i + 1 : 0);
        flat_argv[3 * i] = "LINDEX"; flat_len[3 * i] = 6;
        flat_argv[3 * i + 1] = key; flat_len[3 * i + 1] = klen;
        flat_argv[3 * i + 2] = idx[i]; flat_len[3 * i + 2] = (size_t)l;
        argcs[i] = 3; argvs[i] = &flat_argv[3 * i]; lens[i] = &flat_len[3 * i];
        keys[i] = key; klens[i] = klen;
    }
    rc = sf_pipeline_keyed(c, n, keys, klens, argcs, argvs, lens, replies, where);
    if (rc != SRNoError) goto done;
    for (size_t i = 0; i < count && !*changed; i++) {
        size_t off = i * (size_t)seen->chunk_bytes;
        size_t want = (size_t)seen->data_bytes - off;
        if (want > seen->chunk_bytes) want = (size_t)seen->chunk_bytes;
        redisReply* ch = replies[i];
        if (ch->type != REDIS_REPLY_STRING || ch->len != want) *changed = true;
        else memcpy(out->data + off, ch->str, want);
    }
    redisReply* again = replies[count];
    if (!*changed && (again->type != REDIS_REPLY_STRING || again->len != seen->raw_len ||
                      memcmp(again->str, seen->raw, seen->raw_len) != 0))
        *changed = true;
    if (!*changed && out->h.swap)
        sf_swap_bytes(out->data, out->h.data_len / out->h.itemsize, out->h.itemsize);
done:
    if (replies) for (size_t i = 0; i < n; i++) if (replies[i]) freeReplyObject(replies[i]);
    free(argcs); free(argvs); free(lens); free(keys); free(klens); free(idx);
    free(flat_argv); free(flat_len); free(replies);
    if (rc != SRNoError || *changed) { free(out->data); out->data = NULL; }
    return rc;
}

/* GET of a key that was a chunked tensor and is a plain one now. Not sf_read_tensor: a key
 * that keeps changing between the two forms must end in an error, not in recursion. */
static SRError read_plain(sf_client* c, const char* key, const char* name, sf_tensor* out,
                          const char* where)
{
    const char* argv[] = { "GET", key };
    size_t lens[] = { 3, strlen(key) };
    redisReply* r = NULL;
    SF_CHECK(sf_command(c, key, lens[1], 2, argv, lens, &r, where));
    SRError rc;
    if (r->type == REDIS_REPLY_NIL)
        rc = sf_fail(SRKeyError, where, "tensor '%s' does not exist", name);
    else if (r->type == REDIS_REPLY_STRING)
        rc = sf_tensor_from_value(r->str, r->len, name, out, where);
    else if (sf_reply_is_error(r, "WRONGTYPE"))
        rc = sf_fail(SRRuntimeError, where, "tensor '%s' kept being replaced while it was read", name);
    else
        rc = sf_reply_error(r, where) ? SRDatabaseError
                                      : sf_fail(SRDatabaseError, where, "unexpected reply to GET");
    freeReplyObject(r);
    if (rc != SRNoError) { free(out->data); out->data = NULL; }
    return rc;
}

SRError sf_read_chunked(sf_client* c, const char* key, const char* name, sf_tensor* out,
                        const char* where)
{
    char last_token[8] = {0};
    bool have_last = false;
    for (int attempt = 0; attempt < SF_READ_TRIES; attempt++) {
        bool changed = false;
        manifest m;
        memset(&m, 0, sizeof m);
        SF_CHECK(read_once(c, key, name, out, &changed, &m, where));
        if (!changed) return SRNoError;
        if (m.raw_len) {
            const char* token = m.raw + m.raw_len - 8;
            if (have_last && memcmp(token, last_token, 8) == 0)
                return sf_fail(SRRuntimeError, where, "tensor '%s': its chunks are missing, of "
                               "the wrong length or not as many as its manifest counts: the "
                               "stored tensor is corrupt", name);
            memcpy(last_token, token, 8);
            have_last = true;
        } else {
            /* A small tensor replaced the list: read it as a plain value, once. */
            return read_plain(c, key, name, out, where);
        }
    }
    return sf_fail(SRRuntimeError, where, "tensor '%s' kept being replaced while it was read", name);
}

/* RPUSH of one element (sent from where it lies, not copied) and PEXPIRE of the temporary
 * key, pipelined; rep receives both replies. */
static SRError push_chunk(sf_client* c, size_t node, const char* tmp, size_t tl, const char* elem,
                          size_t elen, redisReply** rep, const char* where)
{
    const char* push[] = { "RPUSH", tmp, NULL };
    size_t push_len[] = { 5, tl, elen };
    sf_part part = { elem, elen };
    SF_CHECK(sf_send_parts(c, node, 3, push, push_len, &part, 1, where));
    redisContext* ctx = c->nodes[node].ctx;
    const char* exp[] = { "PEXPIRE", tmp, SF_TEMP_TTL_MS };
    size_t exp_len[] = { 7, tl, strlen(SF_TEMP_TTL_MS) };
    if (redisAppendCommandArgv(ctx, 3, exp, exp_len) != REDIS_OK) return sf_io_error(c, node, where);
    void* r0 = NULL;
    void* r1 = NULL;
    if (redisGetReply(ctx, &r0) != REDIS_OK) return sf_io_error(c, node, where);
    if (redisGetReply(ctx, &r1) != REDIS_OK) { freeReplyObject(r0); return sf_io_error(c, node, where); }
    rep[0] = r0;
    rep[1] = r1;
    return SRNoError;
}

SRError sf_write_chunked(sf_client* c, const char* key, const char* header, size_t header_len,
                         const char* data, size_t data_len, const char* where)
{
    size_t klen = strlen(key);
    unsigned tag = sf_tag_for_slot(sf_crc16_slot(key, klen));
    char hex[40], tmp[96];
    sf_random_hex(hex, 8);
    int tl = snprintf(tmp, sizeof tmp, "smartflow.tmp{%u}:%s", tag, hex);
    size_t chunk = c->max_value_bytes;
    uint64_t count = (data_len + chunk - 1) / chunk;
    /* The manifest: the header with the chunked flag, counts, and a token for this write. */
    char man[1100];
    memcpy(man, header, header_len);
    man[5] = 1;
    put64(man + header_len, count);
    put64(man + header_len + 8, chunk);
    put64(man + header_len + 16, data_len);
    unsigned char token[8];
    char token_hex[20];
    sf_random_hex(token_hex, 8);
    for (int i = 0; i < 8; i++) {
        unsigned hi = (unsigned)(token_hex[2 * i] <= '9' ? token_hex[2 * i] - '0' : token_hex[2 * i] - 'a' + 10);
        unsigned lo = (unsigned)(token_hex[2 * i + 1] <= '9' ? token_hex[2 * i + 1] - '0' : token_hex[2 * i + 1] - 'a' + 10);
        token[i] = (unsigned char)(hi << 4 | lo);
    }
    memcpy(man + header_len + 24, token, 8);
    size_t man_len = header_len + SF_MANIFEST_BODY;
    size_t node = sf_node_for_key(c, tmp, (size_t)tl);
    SRError rc = SRNoError;
    for (uint64_t i = 0; i <= count && rc == SRNoError; i++) {
        redisReply* rep[2] = { NULL, NULL };
        const char* elem = i == 0 ? man : data + (size_t)(i - 1) * chunk;
        size_t elen = i == 0 ? man_len : ((size_t)(data_len - (i - 1) * chunk) < chunk
                                           ? (size_t)(data_len - (i - 1) * chunk) : chunk);
        rc = push_chunk(c, node, tmp, (size_t)tl, elem, elen, rep, where);
        if (rc == SRNoError) {
            rc = sf_reply_error(rep[0], where);
            if (rc == SRNoError) rc = sf_reply_error(rep[1], where);
            freeReplyObject(rep[0]);
            freeReplyObject(rep[1]);
        }
    }
    if (rc == SRNoError) {
        const char* multi[] = { "MULTI" };
        size_t multi_len[] = { 5 };
        const char* ren[] = { "RENAME", tmp, key };
        size_t ren_len[] = { 6, (size_t)tl, klen };
        const char* per[] = { "PERSIST", key };
        size_t per_len[] = { 7, klen };
        const char* ex[] = { "EXEC" };
        size_t ex_len[] = { 4 };
        int argcs[] = { 1, 3, 2, 1 };
        const char** argvs[] = { multi, ren, per, ex };
        const size_t* lens[] = { multi_len, ren_len, per_len, ex_len };
        redisReply* rep[4];
        rc = sf_pipeline_on(c, node, 4, argcs, argvs, lens, rep, where);
        if (rc == SRNoError) {
            for (int i = 0; i < 4 && rc == SRNoError; i++) rc = sf_reply_error(rep[i], where);
            if (rc == SRNoError && rep[3]->type == REDIS_REPLY_ARRAY)
                for (size_t i = 0; i < rep[3]->elements && rc == SRNoError; i++)
                    rc = sf_reply_error(rep[3]->element[i], where);
            else if (rc == SRNoError)
                rc = sf_fail(SRDatabaseError, where, "the chunked write's transaction was aborted");
            for (int i = 0; i < 4; i++) freeReplyObject(rep[i]);
        }
    }
    if (rc != SRNoError) {  /* best effort: else its TTL removes it */
        const char* del[] = { "DEL", tmp };
        size_t del_len[] = { 3, (size_t)tl };
        redisReply* r = NULL;
        char saved[2048];
        snprintf(saved, sizeof saved, "%s", SRGetLastError());
        SRError saved_code = SRGetLastErrorCode();
        if (sf_command_on(c, node, 2, del, del_len, &r, where) == SRNoError) freeReplyObject(r);
        SRSetLastErrorMessage(saved_code, saved, SRGetLastErrorLocation());
    }
    return rc;
}
