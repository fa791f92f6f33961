/*
 * Redis Cluster routing: the slot map (CLUSTER SLOTS), each shard's run-protocol tag, and
 * commands that follow MOVED (refresh the map) and ASK (ASKING on the named shard) replies.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SF_SLOTS 16384

size_t sf_node_for_key(const sf_client* c, const char* key, size_t len)
{
    if (!c->cluster || !c->slot_node) return 0;
    return c->slot_node[sf_crc16_slot(key, len)];
}

/* Only the shards CLUSTER SLOTS names stay, renumbered in the map; returns how many. A seed
 * given by host name (SSDB=localhost:...) is the same shard as the one the map names by IP:
 * kept, it would be a second, tagless entry that every all-shards loop visits. */
static size_t keep_slot_masters(sf_client* c)
{
    size_t* renum = calloc(c->n_nodes ? c->n_nodes : 1, sizeof *renum);
    bool* serves = calloc(c->n_nodes ? c->n_nodes : 1, sizeof *serves);
    if (!renum || !serves) {  /* out of memory: keep them all, as before */
        free(renum); free(serves);
        return c->n_nodes;
    }
    for (size_t s = 0; s < SF_SLOTS; s++)
        if (c->slot_node[s] != UINT16_MAX) serves[c->slot_node[s]] = true;
    size_t kept = 0;
    for (size_t i = 0; i < c->n_nodes; i++) {
        if (serves[i]) { renum[i] = kept; c->nodes[kept++] = c->nodes[i]; }
        else sf_node_free(&c->nodes[i]);
    }
    c->n_nodes = kept;
    for (size_t s = 0; s < SF_SLOTS; s++)
        if (c->slot_node[s] != UINT16_MAX) c->slot_node[s] = (uint16_t)renum[c->slot_node[s]];
    free(renum);
    free(serves);
    return kept;
}

SRError sf_refresh_slots(sf_client* c, const char* where)
{
    redisReply* r = NULL;
    const char* argv[] = { "CLUSTER", "SLOTS" };
    size_t lens[] = { 7, 5 };
    SRError rc = SRDatabaseError;
    for (size_t i = 0; i < c->n_nodes; i++) {  /* the first shard that answers */
        rc = sf_command_on(c, i, 2, argv, lens, &r, where);
        if (rc == SRNoError) break;
    }
    if (rc != SRNoError) return rc;
    if (r->type != REDIS_REPLY_ARRAY || r->elements == 0) {
        rc = r->type == REDIS_REPLY_ERROR ? sf_reply_error(r, where)
                                          : sf_fail(SRDatabaseError, where, "CLUSTER SLOTS is empty");
        freeReplyObject(r);
        return rc;
    }
    uint16_t* map = malloc(SF_SLOTS * sizeof *map);
    if (!map) { freeReplyObject(r); return sf_fail(SRBadAllocError, where, "out of memory"); }
    for (size_t s = 0; s < SF_SLOTS; s++) map[s] = UINT16_MAX;
    for (size_t i = 0; i < r->elements; i++) {
        redisReply* range = r->element[i];
        if (range->type != REDIS_REPLY_ARRAY || range->elements < 3) continue;
        redisReply* master = range->element[2];
        if (master->type != REDIS_REPLY_ARRAY || master->elements < 2 ||
            master->element[0]->type != REDIS_REPLY_STRING)
            continue;
        size_t node;
        rc = sf_node_by_address(c, master->element[0]->str, master->element[0]->len,
                                (int)master->element[1]->integer, &node, where);
        if (rc != SRNoError) { free(map); freeReplyObject(r); return rc; }
        long long lo = range->element[0]->integer, hi = range->element[1]->integer;
        for (long long s = lo; s <= hi && s < SF_SLOTS; s++) map[s] = (uint16_t)node;
    }
    freeReplyObject(r);
    free(c->slot_node);
    c->slot_node = map;
    size_t left = keep_slot_masters(c);
    /* Tags: the smallest integer whose decimal string hashes to a slot the shard serves. */
    for (size_t i = 0; i < c->n_nodes; i++) c->nodes[i].tag[0] = '\0';
    char text[16];
    for (unsigned n = 0; left > 0 && n < SF_SLOTS * 8; n++) {
        int len = snprintf(text, sizeof text, "%u", n);
        uint16_t owner = map[sf_crc16_slot(text, (size_t)len)];
        if (owner != UINT16_MAX && c->nodes[owner].tag[0] == '\0') {
            snprintf(c->nodes[owner].tag, sizeof c->nodes[owner].tag, "%s", text);
            left--;
        }
    }
    for (size_t s = 0; s < SF_SLOTS; s++)
        if (map[s] == UINT16_MAX)
            return sf_fail(SRDatabaseError, where, "no shard of the cluster serves slot %zu", s);
    return SRNoError;
}

/* "MOVED 3999 127.0.0.1:6381" / "ASK ..." -> the node named. */
static SRError redirect_node(sf_client* c, const char* text, size_t* node, const char* where)
{
    const char* sp = strchr(text, ' ');
    sp = sp ? strchr(sp + 1, ' ') : NULL;
    if (!sp) return sf_fail(SRDatabaseError, where, "bad redirection: %s", text);
    const char* addr = sp + 1;
    const char* colon = strrchr(addr, ':');
    if (!colon) return sf_fail(SRDatabaseError, where, "bad redirection: %s", text);
    return sf_node_by_address(c, addr, (size_t)(colon - addr), atoi(colon + 1), node, where);
}

SRError sf_run(sf_client* c, const char* key, int argc, const char** argv, const size_t* lens,
               redisReply** out, const char* where)
{
    redisReply* r = NULL;
    SF_CHECK(sf_command(c, key, key ? strlen(key) : 0, argc, argv, lens, &r, where));
    SRError rc = sf_reply_error(r, where);
    if (rc != SRNoError || !out) freeReplyObject(r);
    else *out = r;
    return rc;
}

bool sf_same_slot(const sf_client* c, const char* a, const char* b)
{
    return !c->cluster || sf_crc16_slot(a, strlen(a)) == sf_crc16_slot(b, strlen(b));
}

SRError sf_command(sf_client* c, const char* key, size_t key_len, int argc,
                   const char** argv, const size_t* argvlen, redisReply** out, const char* where)
{
    return sf_command_parts(c, key, key_len, argc, argv, argvlen, NULL, 0, out, where);
}

SRError sf_command_parts(sf_client* c, const char* key, size_t key_len, int argc,
                         const char** argv, const size_t* argvlen, const sf_part* parts,
                         size_t n_parts, redisReply** out, const char* where)
{
    size_t node = key ? sf_node_for_key(c, key, key_len) : 0;
    bool asking = false;
    for (int attempt = 0; attempt < 8; attempt++) {
        redisReply* r = NULL;
        if (asking) {
            const char* ask[] = { "ASKING" };
            size_t ask_len[] = { 6 };
            SF_CHECK(sf_command_on(c, node, 1, ask, ask_len, &r, where));
            freeReplyObject(r);
            r = NULL;
        }
        if (parts)
            SF_CHECK(sf_command_parts_on(c, node, argc, argv, argvlen, parts, n_parts, &r, where));
        else
            SF_CHECK(sf_command_on(c, node, argc, argv, argvlen, &r, where));
        asking = false;
        if (sf_reply_is_error(r, "MOVED ")) {
            SRError rc = redirect_node(c, r->str, &node, where);
            freeReplyObject(r);
            SF_CHECK(rc);
            SF_CHECK(sf_refresh_slots(c, where));
            node = key ? sf_node_for_key(c, key, key_len) : 0;  /* the nodes were renumbered */
            continue;
        }
        if (sf_reply_is_error(r, "ASK ")) {
            SRError rc = redirect_node(c, r->str, &node, where);
            freeReplyObject(r);
            SF_CHECK(rc);
            asking = true;
            continue;
        }
        if (sf_reply_is_error(r, "TRYAGAIN") || sf_reply_is_error(r, "CLUSTERDOWN")) {
            freeReplyObject(r);
            sf_sleep_ms(50 * (attempt + 1));
            continue;
        }
        *out = r;
        return SRNoError;
    }
    return sf_fail(SRDatabaseError, where, "the cluster kept redirecting the command");
}

SRError sf_pipeline_keyed(sf_client* c, size_t n, const char* const* keys, const size_t* key_lens,
                          const int* argcs, const char*** argvs, const size_t** argvlens,
                          redisReply** replies, const char* where)
{
    for (size_t i = 0; i < n; i++) replies[i] = NULL;
    if (n == 0) return SRNoError;
    size_t* order = malloc(n * sizeof *order);
    int* g_argc = malloc(n * sizeof *g_argc);
    const char*** g_argv = malloc(n * sizeof *g_argv);
    const size_t** g_len = malloc(n * sizeof *g_len);
    redisReply** g_rep = malloc(n * sizeof *g_rep);
    bool* done = calloc(n, sizeof *done);
    SRError rc = SRNoError;
    if (!order || !g_argc || !g_argv || !g_len || !g_rep || !done) {
        rc = sf_fail(SRBadAllocError, where, "out of memory");
        goto out;
    }
    for (size_t first = 0; first < n && rc == SRNoError; first++) {
        if (done[first]) continue;
        size_t node = sf_node_for_key(c, keys[first], key_lens[first]);
        size_t m = 0;
        for (size_t i = first; i < n; i++) {
            if (done[i] || sf_node_for_key(c, keys[i], key_lens[i]) != node) continue;
            order[m] = i; g_argc[m] = argcs[i]; g_argv[m] = argvs[i]; g_len[m] = argvlens[i];
            done[i] = true;
            m++;
        }
        rc = sf_pipeline_on(c, node, m, g_argc, g_argv, g_len, g_rep, where);
        if (rc != SRNoError) break;
        for (size_t j = 0; j < m; j++) replies[order[j]] = g_rep[j];
    }
    /* A slot moved meanwhile: run those commands again, following the redirection. */
    for (size_t i = 0; i < n && rc == SRNoError; i++) {
        if (replies[i] && (sf_reply_is_error(replies[i], "MOVED ") ||
                           sf_reply_is_error(replies[i], "ASK "))) {
            freeReplyObject(replies[i]);
            replies[i] = NULL;
            rc = sf_command(c, keys[i], key_lens[i], argcs[i], argvs[i], argvlens[i],
                            &replies[i], where);
        }
    }
    if (rc != SRNoError)
        for (size_t i = 0; i < n; i++) { if (replies[i]) freeReplyObject(replies[i]); replies[i] = NULL; }
out:
    free(order); free(g_argc); free(g_argv); free(g_len); free(g_rep); free(done);
    return rc;
}
