/*
 * Connections to the store's shards: addresses from the environment contract, timeouts,
 * AUTH (the password is sent once per connection and never appears in a message), and
 * single commands and pipelines on one shard. Routing by key is in cluster.c.
 */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct timeval ms_to_tv(int ms)
{
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
    return tv;
}

static void node_address(const sf_node* n, char* out, size_t len)
{
    if (n->unix_path)
        snprintf(out, len, "unix://%s", n->unix_path);
    else
        snprintf(out, len, "%s:%d", n->host, n->port);
}

/* "host:port", "[v6]:port" or "unix:///path" into a node (fields malloc'ed). */
static SRError parse_address(const char* text, size_t len, sf_node* n, const char* where)
{
    memset(n, 0, sizeof *n);
    if (len >= 7 && strncmp(text, "unix://", 7) == 0) {
        if (len < 8 || text[7] != '/')
            return sf_fail(SRParameterError, where,
                           "store address '%.*s': a unix socket address is 'unix:///absolute/path'",
                           (int)len, text);
        n->unix_path = sf_strndup(text + 7, len - 7);
        return n->unix_path ? SRNoError : sf_fail(SRBadAllocError, where, "out of memory");
    }
    size_t colon = len;
    while (colon > 0 && text[colon - 1] != ':') colon--;
    if (colon == 0 || colon == len || colon == 1)
        return sf_fail(SRParameterError, where,
                       "store address '%.*s' must be 'host:port' or 'unix:///path'", (int)len, text);
    long port = 0;
    for (size_t i = colon; i < len; i++) {
        if (text[i] < '0' || text[i] > '9' || port > 65535) { port = -1; break; }
        port = port * 10 + (text[i] - '0');
    }
    if (port <= 0 || port > 65535)
        return sf_fail(SRParameterError, where,
                       "store address '%.*s' must be 'host:port' or 'unix:///path'", (int)len, text);
    size_t hs = 0, he = colon - 1;
    if (text[0] == '[' && he > 1 && text[he - 1] == ']') { hs = 1; he -= 1; }
    n->host = sf_strndup(text + hs, he - hs);
    n->port = (int)port;
    return n->host ? SRNoError : sf_fail(SRBadAllocError, where, "out of memory");
}

void sf_node_free(sf_node* n)
{
    if (n->ctx) redisFree(n->ctx);
    free(n->host);
    free(n->unix_path);
    memset(n, 0, sizeof *n);
}

static bool is_timeout_text(const char* s)
{
    return strstr(s, "temporarily unavailable") || strstr(s, "timed out") ||
           strstr(s, "Timed out") || strstr(s, "timeout");
}

SRError sf_io_error(sf_client* c, size_t node, const char* where)
{
    sf_node* n = &c->nodes[node];
    char addr[300];
    node_address(n, addr, sizeof addr);
    const char* why = n->ctx ? n->ctx->errstr : "not connected";
    SRError code = is_timeout_text(why) ? SRTimeoutError : SRDatabaseError;
    SRError rc = code == SRTimeoutError
        ? sf_fail(code, where, "the store at %s did not answer within %d ms (%s)", addr,
                  c->cmd_timeout_ms, why)
        : sf_fail(code, where, "lost the connection to the store at %s: %s", addr, why);
    if (n->ctx) { redisFree(n->ctx); n->ctx = NULL; }
    return rc;
}

static SRError node_connect(sf_client* c, size_t node, const char* where)
{
    sf_node* n = &c->nodes[node];
    char addr[300];
    node_address(n, addr, sizeof addr);
    struct timeval tv = ms_to_tv(c->conn_timeout_ms);
    errno = 0;
    redisContext* ctx = n->unix_path ? redisConnectUnixWithTimeout(n->unix_path, tv)
                                     : redisConnectWithTimeout(n->host, n->port, tv);
    if (!ctx) return sf_fail(SRBadAllocError, where, "out of memory connecting to %s", addr);
    if (ctx->err) {
        SRError code = (errno == ETIMEDOUT || errno == EINPROGRESS || is_timeout_text(ctx->errstr))
                           ? SRTimeoutError : SRDatabaseError;
        SRError rc = sf_fail(code, where, "cannot connect to the store at %s: %s "
                             "(is it running? SSDB names where it listens)", addr, ctx->errstr);
        redisFree(ctx);
        return rc;
    }
    struct timeval cmd = ms_to_tv(c->cmd_timeout_ms);
    redisSetTimeout(ctx, cmd);
    if (!n->unix_path) redisEnableKeepAlive(ctx);
    if (c->password) {
        redisReply* r = redisCommand(ctx, "AUTH %b", c->password, strlen(c->password));
        if (!r) {
            n->ctx = ctx;
            return sf_io_error(c, node, where);
        }
        if (r->type == REDIS_REPLY_ERROR) {
            /* The store's text (e.g. WRONGPASS) never contains the password itself. */
            SRError rc = sf_fail(SRDatabaseError, where,
                                 "the store at %s refused the password (SSDB_PASSWORD): %s",
                                 addr, r->str);
            freeReplyObject(r);
            redisFree(ctx);
            return rc;
        }
        freeReplyObject(r);
    }
    n->ctx = ctx;
    return SRNoError;
}

SRError sf_node_ctx(sf_client* c, size_t node, redisContext** out, const char* where)
{
    if (node >= c->n_nodes) return sf_fail(SRInternalError, where, "no shard %zu", node);
    sf_node* n = &c->nodes[node];
    if (n->ctx && n->ctx->err) { redisFree(n->ctx); n->ctx = NULL; }
    if (!n->ctx) SF_CHECK(node_connect(c, node, where));
    *out = n->ctx;
    return SRNoError;
}

bool sf_reply_is_error(const redisReply* r, const char* prefix)
{
    return r && r->type == REDIS_REPLY_ERROR && r->str &&
           strncmp(r->str, prefix, strlen(prefix)) == 0;
}

SRError sf_reply_error(const redisReply* r, const char* where)
{
    if (r && r->type == REDIS_REPLY_ERROR)
        return sf_fail(SRDatabaseError, where, "the store answered: %s", r->str);
    return SRNoError;
}

SRError sf_command_on(sf_client* c, size_t node, int argc, const char** argv,
                      const size_t* argvlen, redisReply** out, const char* where)
{
    redisContext* ctx = NULL;
    SF_CHECK(sf_node_ctx(c, node, &ctx, where));
    redisReply* r = redisCommandArgv(ctx, argc, argv, argvlen);
    if (!r) return sf_io_error(c, node, where);
    *out = r;
    return SRNoError;
}

SRError sf_pipeline_on(sf_client* c, size_t node, size_t n, const int* argcs,
                       const char*** argvs, const size_t** argvlens, redisReply** replies,
                       const char* where)
{
    redisContext* ctx = NULL;
    SF_CHECK(sf_node_ctx(c, node, &ctx, where));
    for (size_t i = 0; i < n; i++) replies[i] = NULL;
    SF_CHECK(sf_send_pipeline(c, node, n, argcs, argvs, argvlens, where));
    for (size_t i = 0; i < n; i++) {
        void* r = NULL;
        if (redisGetReply(ctx, &r) != REDIS_OK) {
            for (size_t j = 0; j < i; j++) { freeReplyObject(replies[j]); replies[j] = NULL; }
            return sf_io_error(c, node, where);
        }
        replies[i] = r;
    }
    return SRNoError;
}

static SRError add_node(sf_client* c, const sf_node* n, const char* where)
{
    sf_node* grown = realloc(c->nodes, (c->n_nodes + 1) * sizeof *grown);
    if (!grown) return sf_fail(SRBadAllocError, where, "out of memory");
    c->nodes = grown;
    c->nodes[c->n_nodes++] = *n;
    return SRNoError;
}

/* The node at host:port, added (unconnected) when new. */
SRError sf_node_by_address(sf_client* c, const char* host, size_t host_len, int port,
                           size_t* out, const char* where)
{
    for (size_t i = 0; i < c->n_nodes; i++) {
        const sf_node* n = &c->nodes[i];
        if (n->host && n->port == port && strlen(n->host) == host_len &&
            strncmp(n->host, host, host_len) == 0) {
            *out = i;
            return SRNoError;
        }
    }
    sf_node n;
    memset(&n, 0, sizeof n);
    n.host = sf_strndup(host, host_len);
    n.port = port;
    if (!n.host) return sf_fail(SRBadAllocError, where, "out of memory");
    SRError rc = add_node(c, &n, where);
    if (rc != SRNoError) { free(n.host); return rc; }
    *out = c->n_nodes - 1;
    return SRNoError;
}

SRError sf_connect_nodes(sf_client* c, const char* addresses, bool cluster_hint)
{
    const char* where = "connect";
    (void)cluster_hint;  /* the store is probed: SmartRedis programs often pass the wrong hint */
    const char* p = addresses;
    while (*p) {
        const char* end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        size_t s = 0, e = len;
        while (s < e && (p[s] == ' ' || p[s] == '\t')) s++;
        while (e > s && (p[e - 1] == ' ' || p[e - 1] == '\t')) e--;
        if (e > s) {
            sf_node n;
            SF_CHECK(parse_address(p + s, e - s, &n, where));
            SRError rc = add_node(c, &n, where);
            if (rc != SRNoError) { sf_node_free(&n); return rc; }
        }
        if (!end) break;
        p = end + 1;
    }
    if (c->n_nodes == 0)
        return sf_fail(SRParameterError, where,
                       "no store address: set SSDB (smartflow sets it for the entities it launches)");
    /* Probe the first shard that answers: a cluster answers CLUSTER SLOTS with its map. */
    SRError last = SRNoError;
    for (size_t i = 0; i < c->n_nodes; i++) {
        redisContext* ctx = NULL;
        last = sf_node_ctx(c, i, &ctx, where);
        if (last != SRNoError) continue;
        if (i != 0) {  /* make the answering seed node 0 */
            sf_node t = c->nodes[0]; c->nodes[0] = c->nodes[i]; c->nodes[i] = t;
        }
        redisReply* r = NULL;
        const char* argv[] = { "CLUSTER", "SLOTS" };
        size_t lens[] = { 7, 5 };
        SF_CHECK(sf_command_on(c, 0, 2, argv, lens, &r, where));
        /* Only a store without cluster support is a single store: any other error (NOAUTH,
         * LOADING, ...) is the client's failure now, not a surprise at its first command. */
        bool single = sf_reply_is_error(r, "ERR This instance has cluster support disabled") ||
                      (r->type == REDIS_REPLY_ARRAY && r->elements == 0);
        bool clustered = r->type == REDIS_REPLY_ARRAY && r->elements > 0;
        if (!single && !clustered) {
            SRError rc = sf_reply_is_error(r, "NOAUTH")
                ? sf_fail(SRDatabaseError, where, "the store needs a password: set SSDB_PASSWORD")
                : r->type == REDIS_REPLY_ERROR ? sf_fail(SRDatabaseError, where, "the store "
                                                         "answered: %s", r->str)
                : sf_fail(SRDatabaseError, where, "unexpected reply to CLUSTER SLOTS");
            freeReplyObject(r);
            return rc;
        }
        freeReplyObject(r);
        if (!clustered) {
            for (size_t j = 1; j < c->n_nodes; j++) sf_node_free(&c->nodes[j]);
            c->n_nodes = 1;
            c->cluster = false;
            snprintf(c->nodes[0].tag, sizeof c->nodes[0].tag, "0");
            return SRNoError;
        }
        c->cluster = true;
        return sf_refresh_slots(c, where);
    }
    return last;
}

void sf_disconnect(sf_client* c)
{
    for (size_t i = 0; i < c->n_nodes; i++) sf_node_free(&c->nodes[i]);
    free(c->nodes);
    c->nodes = NULL;
    c->n_nodes = 0;
    free(c->slot_node);
    c->slot_node = NULL;
}
