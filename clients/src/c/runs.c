/* The run protocol (docs/wire-format.md): RPUSH a JSON request onto the shard's queue and
 * BLPOP its reply in one round trip; LREM the request if no answer came in time. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void string_list(sf_buf* b, const char* const* items, size_t n)
{
    sf_buf_put(b, "[", 1);
    for (size_t i = 0; i < n; i++) {
        if (i) sf_buf_put(b, ",", 1);
        sj_write_string(b, items[i], strlen(items[i]));
    }
    sf_buf_put(b, "]", 1);
}

static SRError answer_error(const char* json, size_t len, const char* where)
{
    sj_value v;
    char err[128];
    if (!sj_parse(json, len, &v, err, sizeof err))
        return sf_fail(SRRuntimeError, where, "unreadable answer from the inference worker (%s)", err);
    const sj_value* ok = sj_get(&v, "ok");
    SRError rc = SRNoError;
    if (!ok || ok->type != SJ_BOOL || !ok->b) {
        const sj_value* kind = sj_get(&v, "kind");
        const sj_value* msg = sj_get(&v, "message");
        const char* k = kind && kind->type == SJ_STR ? kind->str : "error";
        const char* m = msg && msg->type == SJ_STR ? msg->str : "the worker gave no reason";
        SRError code = strcmp(k, "not_found") == 0 ? SRKeyError
                     : strcmp(k, "bad_input") == 0 ? SRParameterError : SRRuntimeError;
        rc = sf_fail(code, where, "%s (%s)", m, k);
    }
    sj_free(&v);
    return rc;
}

/* The reason the experiment wrote in place of a queue whose worker gave up. */
static SRError unavailable(sf_client* c, size_t node, const char* queue, const char* where)
{
    const char* argv[] = { "GET", queue };
    size_t lens[] = { 3, strlen(queue) };
    redisReply* r = NULL;
    const char* prefix = "smartflow: unavailable: ";
    char reason[1024] = "the inference worker of this shard has stopped";
    if (sf_command_on(c, node, 2, argv, lens, &r, where) == SRNoError) {
        if (r->type == REDIS_REPLY_STRING && r->len > strlen(prefix) &&
            strncmp(r->str, prefix, strlen(prefix)) == 0)
            snprintf(reason, sizeof reason, "%.*s", (int)(r->len - strlen(prefix)), r->str + strlen(prefix));
        freeReplyObject(r);
    }
    return sf_fail(SRRuntimeError, where, "the inference worker is unavailable: %s", reason);
}

SRError sf_submit(sf_client* c, size_t node, const char* op, const char* model,
                  const char* const* inputs, size_t n_in, const char* const* outputs, size_t n_out,
                  const char* function, int timeout_ms, const char* where)
{
    char id[40];
    sf_random_hex(id, 8);
    sf_buf body = {0};
    sf_buf_printf(&body, "{\"op\":");
    sj_write_string(&body, op, strlen(op));
    sf_buf_printf(&body, ",\"model\":");
    sj_write_string(&body, model, strlen(model));
    sf_buf_printf(&body, ",\"inputs\":");
    string_list(&body, inputs, n_in);
    sf_buf_printf(&body, ",\"outputs\":");
    string_list(&body, outputs, n_out);
    sf_buf_printf(&body, ",\"function\":");
    sj_write_string(&body, function, strlen(function));
    sf_buf_printf(&body, ",\"output_prefix\":\"\",\"expire_ms\":0,\"id\":\"%s\"}", id);
    if (!body.data) return sf_fail(SRBadAllocError, where, "out of memory");
    const char* tag = c->nodes[node].tag;
    char queue[64], reply[96], secs[32];
    snprintf(queue, sizeof queue, "smartflow.run{%s}", tag);
    snprintf(reply, sizeof reply, "smartflow.reply{%s}:%s", tag, id);
    snprintf(secs, sizeof secs, "%.3f", timeout_ms / 1000.0);
    const char* push[] = { "RPUSH", queue, body.data };
    size_t push_len[] = { 5, strlen(queue), body.len };
    const char* pop[] = { "BLPOP", reply, secs };
    size_t pop_len[] = { 5, strlen(reply), strlen(secs) };
    int argcs[] = { 3, 3 };
    const char** argvs[] = { push, pop };
    const size_t* lens[] = { push_len, pop_len };
    redisContext* ctx = NULL;
    SRError rc = sf_node_ctx(c, node, &ctx, where);
    if (rc != SRNoError) { sf_buf_free(&body); return rc; }
    /* The BLPOP may block for the whole run: the socket waits that long plus a command timeout. */
    int wait_ms = timeout_ms + c->cmd_timeout_ms;
    struct timeval tv = { wait_ms / 1000, (wait_ms % 1000) * 1000 };
    redisSetTimeout(ctx, tv);
    redisReply* rep[2] = { NULL, NULL };
    for (int i = 0; i < 2 && rc == SRNoError; i++)
        if (redisAppendCommandArgv(ctx, argcs[i], argvs[i], lens[i]) != REDIS_OK)
            rc = sf_io_error(c, node, where);
    if (rc == SRNoError) {
        void* r = NULL;
        if (redisGetReply(ctx, &r) != REDIS_OK) rc = sf_io_error(c, node, where);
        else rep[0] = r;
    }
    if (rc == SRNoError && sf_reply_is_error(rep[0], "WRONGTYPE")) {
        /* The BLPOP's answer stays unread: drop this connection, ask on a fresh one. */
        redisFree(c->nodes[node].ctx);
        c->nodes[node].ctx = NULL;
        freeReplyObject(rep[0]);
        sf_buf_free(&body);
        return unavailable(c, node, queue, where);
    }
    if (rc == SRNoError) {
        void* r = NULL;
        if (redisGetReply(ctx, &r) != REDIS_OK) rc = sf_io_error(c, node, where);
        else rep[1] = r;
    }
    if (rc == SRNoError) {
        struct timeval cmd = { c->cmd_timeout_ms / 1000, (c->cmd_timeout_ms % 1000) * 1000 };
        redisSetTimeout(ctx, cmd);
        rc = sf_reply_error(rep[0], where);
        if (rc == SRNoError) rc = sf_reply_error(rep[1], where);
    }
    if (rc == SRNoError) {
        if (rep[1]->type == REDIS_REPLY_ARRAY && rep[1]->elements == 2) {
            rc = answer_error(rep[1]->element[1]->str, rep[1]->element[1]->len, where);
        } else {
            const char* lrem[] = { "LREM", queue, "1", body.data };
            size_t lrem_len[] = { 4, strlen(queue), 1, body.len };
            redisReply* r = NULL;
            if (sf_command_on(c, node, 4, lrem, lrem_len, &r, where) == SRNoError) freeReplyObject(r);
            rc = sf_fail(SRTimeoutError, where, "no answer from the inference worker in %.3f s "
                         "(SMARTFLOW_RUN_TIMEOUT)", timeout_ms / 1000.0);
        }
    }
    for (int i = 0; i < 2; i++) if (rep[i]) freeReplyObject(rep[i]);
    sf_buf_free(&body);
    return rc;
}
