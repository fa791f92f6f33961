/* Models and scripts (c_client.h) as smartflow/client/_models.py and _scripts.py store and run
 * them: a record per shard, loaded by every shard's worker before it counts as stored. */
#include "internal.h"
#include "c_client.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char* record_key(const char* tag, const char* name, bool version)
{
    sf_buf b = {0};
    sf_buf_printf(&b, "smartflow.model%s{%s}:%s", version ? "v" : "", tag, name);
    return b.data;
}

static SRError stored_name(sf_client* c, const char* name, size_t len, bool write, char** out,
                           const char* where)
{
    SF_CHECK(sf_check_name(name, len, "name", where));
    *out = write ? sf_key_out(c, SF_MODEL, name, len) : sf_key_in(c, SF_MODEL, name, len);
    if (!*out) return sf_fail(SRBadAllocError, where, "out of memory");
    if (strchr(*out, '{') || strchr(*out, '}')) {
        free(*out);
        return sf_fail(SRParameterError, where, "model name '%.*s' must not contain braces", (int)len, name);
    }
    return SRNoError;
}

static SRError simple_on(sf_client* c, size_t node, int argc, const char** argv, const size_t* lens,
                         const char* where)
{
    redisReply* r = NULL;
    SF_CHECK(sf_command_on(c, node, argc, argv, lens, &r, where));
    SRError rc = sf_reply_error(r, where);
    freeReplyObject(r);
    return rc;
}

SRError sf_store_record(sf_client* c, const char* stored, const char* backend, const char* device,
                        int batch, int min_batch, int min_timeout, const char* tag, size_t tag_len,
                        const char* data, size_t data_len, const char* where)
{
    char version[40];
    sf_random_hex(version, 8);
    sf_buf meta = {0};
    sf_buf_printf(&meta, "{\"backend\":\"%s\",\"device\":\"%s\",\"batch_size\":%d,\"min_batch_size\":%d,"
                  "\"min_batch_timeout\":%d,\"tag\":", backend, device, batch, min_batch, min_timeout);
    sj_write_string(&meta, tag ? tag : "", tag ? tag_len : 0);
    sf_buf_printf(&meta, ",\"inputs\":[],\"outputs\":[],\"version\":\"%s\"}", version);
    sf_buf rec = {0};
    char fixed[12] = "\x93SFM\x01";
    for (int i = 0; i < 4; i++) fixed[8 + i] = (char)((uint32_t)meta.len >> (8 * i));
    bool ok = meta.data && sf_buf_put(&rec, fixed, 12) && sf_buf_put(&rec, meta.data, meta.len) &&
              sf_buf_put(&rec, data, data_len);
    sf_buf_free(&meta);
    if (!ok) { sf_buf_free(&rec); return sf_fail(SRBadAllocError, where, "out of memory"); }
    sf_buf pending = {0};
    sf_buf_printf(&pending, "%s.pending.%s", stored, version);
    SRError rc = pending.data ? SRNoError : sf_fail(SRBadAllocError, where, "out of memory");
    /* Every shard's worker loads the pending record before any of them is renamed into place. */
    for (size_t i = 0; i < c->n_nodes && rc == SRNoError; i++) {
        if (!c->nodes[i].tag[0]) continue;  /* not a shard (yet): an ASK target */
        char* key = record_key(c->nodes[i].tag, pending.data, false);
        if (!key) { rc = sf_fail(SRBadAllocError, where, "out of memory"); break; }
        const char* set[] = { "SET", key, rec.data };
        size_t sl[] = { 3, strlen(key), rec.len };
        rc = simple_on(c, i, 3, set, sl, where);
        free(key);
        if (rc == SRNoError)
            rc = sf_submit(c, i, "load", pending.data, NULL, 0, NULL, 0, "", c->cmd_timeout_ms, where);
    }
    for (size_t i = 0; i < c->n_nodes && rc == SRNoError; i++) {
        if (!c->nodes[i].tag[0]) continue;  /* not a shard (yet): an ASK target */
        char* from = record_key(c->nodes[i].tag, pending.data, false);
        char* to = record_key(c->nodes[i].tag, stored, false);
        char* vkey = record_key(c->nodes[i].tag, stored, true);
        if (!from || !to || !vkey) rc = sf_fail(SRBadAllocError, where, "out of memory");
        else {
            const char* multi[] = { "MULTI" }; size_t ml[] = { 5 };
            const char* ren[] = { "RENAME", from, to }; size_t rl[] = { 6, strlen(from), strlen(to) };
            const char* set[] = { "SET", vkey, version }; size_t sl[] = { 3, strlen(vkey), strlen(version) };
            const char* ex[] = { "EXEC" }; size_t el[] = { 4 };
            int argcs[] = { 1, 3, 3, 1 };
            const char** argvs[] = { multi, ren, set, ex };
            const size_t* lens[] = { ml, rl, sl, el };
            redisReply* rep[4];
            rc = sf_pipeline_on(c, i, 4, argcs, argvs, lens, rep, where);
            if (rc == SRNoError) {
                for (int k = 0; k < 4 && rc == SRNoError; k++) rc = sf_reply_error(rep[k], where);
                if (rc == SRNoError && rep[3]->type == REDIS_REPLY_ARRAY)
                    for (size_t k = 0; k < rep[3]->elements && rc == SRNoError; k++)
                        rc = sf_reply_error(rep[3]->element[k], where);
                for (int k = 0; k < 4; k++) freeReplyObject(rep[k]);
            }
        }
        free(from); free(to); free(vkey);
    }
    /* Whatever happened, no pending copy stays (renamed ones are gone already). */
    char saved[2048];
    snprintf(saved, sizeof saved, "%s", SRGetLastError());
    SRError saved_code = SRGetLastErrorCode();
    for (size_t i = 0; pending.data && i < c->n_nodes; i++) {
        if (!c->nodes[i].tag[0]) continue;  /* not a shard (yet): an ASK target */
        char* key = record_key(c->nodes[i].tag, pending.data, false);
        if (!key) continue;
        const char* del[] = { "DEL", key };
        size_t dl[] = { 3, strlen(key) };
        redisReply* r = NULL;
        if (sf_command_on(c, i, 2, del, dl, &r, where) == SRNoError) freeReplyObject(r);
        free(key);
    }
    if (rc != SRNoError) SRSetLastErrorMessage(saved_code, saved, SRGetLastErrorLocation());
    sf_buf_free(&pending);
    sf_buf_free(&rec);
    return rc;
}

static SRError check_backend(const char* backend, size_t len, const char* where)
{
    if (!backend) return sf_fail(SRParameterError, where, "backend is NULL");
    char up[16] = "";
    if (len < sizeof up) for (size_t i = 0; i < len; i++) up[i] = (char)toupper((unsigned char)backend[i]);
    if (strcmp(up, "ONNX") == 0) return SRNoError;
    if (strcmp(up, "TORCH") == 0 || strcmp(up, "TF") == 0 || strcmp(up, "TFLITE") == 0)
        return sf_fail(SRRuntimeError, where, "backend %s needs RedisAI; smartflow runs ONNX models "
                       "(export the model to ONNX and use backend \"ONNX\")", up);
    return sf_fail(SRParameterError, where, "backend '%.*s' is not supported; smartflow runs ONNX "
                   "models (backend \"ONNX\")", (int)len, backend);
}

static SRError check_device(const char* device, size_t len, char* out, const char* where)
{
    if (!device && len) return sf_fail(SRParameterError, where, "device is NULL");
    if (len == 0) { strcpy(out, "CPU"); return SRNoError; }
    if (len > 20) return sf_fail(SRParameterError, where, "device must be 'CPU', 'GPU' or 'GPU:<n>'");
    for (size_t i = 0; i < len; i++) out[i] = (char)toupper((unsigned char)device[i]);
    out[len] = '\0';
    bool ok = strcmp(out, "CPU") == 0 || strcmp(out, "GPU") == 0;
    if (!ok && strncmp(out, "GPU:", 4) == 0 && out[4]) {
        ok = true;
        for (size_t i = 4; out[i]; i++) ok = ok && isdigit((unsigned char)out[i]);
    }
    return ok ? SRNoError
              : sf_fail(SRParameterError, where, "device '%.*s' must be 'CPU', 'GPU' or 'GPU:<n>'",
                        (int)len, device);
}

static SRError check_batching(int batch, int min_batch, int min_timeout, const char* where)
{
    if (batch < 0 || min_batch < 0 || min_timeout < 0)
        return sf_fail(SRParameterError, where, "batch_size, min_batch_size and min_batch_timeout must be >= 0");
    if (min_batch && min_batch > batch)
        return sf_fail(SRParameterError, where, "min_batch_size %d needs a batch_size at least as large "
                       "(batch_size is %d)", min_batch, batch);
    return SRNoError;
}

static SRError read_whole_file(const char* path, size_t len, char** data, size_t* size, const char* what,
                               const char* where)
{
    if (!path || !len) return sf_fail(SRParameterError, where, "%s name is empty", what);
    char* p = sf_strndup(path, len);
    if (!p) return sf_fail(SRBadAllocError, where, "out of memory");
    FILE* f = fopen(p, "rb");
    if (!f) {
        SRError rc = sf_fail(SRParameterError, where, "%s '%s' cannot be read: %s", what, p, strerror(errno));
        free(p);
        return rc;
    }
    sf_buf b = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (!sf_buf_put(&b, chunk, n)) { fclose(f); free(p); sf_buf_free(&b);
                                         return sf_fail(SRBadAllocError, where, "out of memory"); }
    fclose(f);
    free(p);
    *data = b.data ? b.data : calloc(1, 1);
    *size = b.len;
    return *data ? SRNoError : sf_fail(SRBadAllocError, where, "out of memory");
}

static SRError set_model_common(void* c_client, const char* name, size_t name_length,
                                const char* model, size_t model_length, const char* backend,
                                size_t backend_length, const char* device, int batch, int min_batch,
                                int min_timeout, const char* tag, size_t tag_length,
                                const char* where)
{
    sf_client* c = NULL;
    SF_CHECK(sf_client_check(c_client, where, &c));
    SF_CHECK(check_backend(backend, backend_length, where));
    SF_CHECK(check_batching(batch, min_batch, min_timeout, where));
    if (!model || !model_length) return sf_fail(SRParameterError, where, "the model is empty");
    char* stored;
    SF_CHECK(stored_name(c, name, name_length, true, &stored, where));
    SRError rc = sf_store_record(c, stored, "ONNX", device, batch, min_batch, min_timeout, tag,
                                 tag ? tag_length : 0, model, model_length, where);
    free(stored);
    return rc;
}

SRError set_model(void* c_client, const char* name, const size_t name_length, const char* model,
                  const size_t model_length, const char* backend, const size_t backend_length,
                  const char* device, const size_t device_length, const int batch_size,
                  const int min_batch_size, const int min_batch_timeout, const char* tag,
                  const size_t tag_length, const char** inputs, const size_t* input_lengths,
                  const size_t n_inputs, const char** outputs, const size_t* output_lengths,
                  const size_t n_outputs)
{
    (void)inputs; (void)input_lengths; (void)n_inputs; (void)outputs; (void)output_lengths; (void)n_outputs;
    char dev[32];
    SF_CHECK(check_device(device, device_length, dev, "set_model"));
    return set_model_common(c_client, name, name_length, model, model_length, backend, backend_length,
                            dev, batch_size, min_batch_size, min_batch_timeout, tag, tag_length, "set_model");
}

SRError set_model_from_file(void* c_client, const char* name, const size_t name_length,
                            const char* model_file, const size_t model_file_length,
                            const char* backend, const size_t backend_length, const char* device,
                            const size_t device_length, const int batch_size,
                            const int min_batch_size, const int min_batch_timeout, const char* tag,
                            const size_t tag_length, const char** inputs,
                            const size_t* input_lengths, const size_t n_inputs,
                            const char** outputs, const size_t* output_lengths,
                            const size_t n_outputs)
{
    const char* where = "set_model_from_file";
    (void)inputs; (void)input_lengths; (void)n_inputs; (void)outputs; (void)output_lengths; (void)n_outputs;
    char dev[32];
    SF_CHECK(check_device(device, device_length, dev, where));
    SF_CHECK(check_backend(backend, backend_length, where));
    char* data = NULL;
    size_t size = 0;
    SF_CHECK(read_whole_file(model_file, model_file_length, &data, &size, "model file", where));
    SRError rc = set_model_common(c_client, name, name_length, data, size, backend, backend_length,
                                  dev, batch_size, min_batch_size, min_batch_timeout, tag, tag_length, where);
    free(data);
    return rc;
}

/* "<name>.GPU:<gpu>", the name of one GPU's copy (as the Python client's multigpu calls). */
static char* on_gpu(const char* name, size_t len, int gpu)
{
    sf_buf b = {0};
    sf_buf_printf(&b, "%.*s.GPU:%d", (int)len, name, gpu);
    return b.data;
}

static SRError check_gpus(int first_gpu, int num_gpus, const char* where)
{
    if (first_gpu < 0) return sf_fail(SRParameterError, where, "first_gpu must be >= 0");
    if (num_gpus < 1) return sf_fail(SRParameterError, where, "num_gpus must be at least 1");
    return SRNoError;
}

SRError set_model_multigpu(void* c_client, const char* name, const size_t name_length,
                           const char* model, const size_t model_length, const char* backend,
                           const size_t backend_length, const int first_gpu, const int num_gpus,
                           const int batch_size, const int min_batch_size,
                           const int min_batch_timeout, const char* tag, const size_t tag_length,
                           const char** inputs, const size_t* input_lengths, const size_t n_inputs,
                           const char** outputs, const size_t* output_lengths,
                           const size_t n_outputs)
{
    const char* where = "set_model_multigpu";
    (void)inputs; (void)input_lengths; (void)n_inputs; (void)outputs; (void)output_lengths; (void)n_outputs;
    SF_CHECK(check_gpus(first_gpu, num_gpus, where));
    SF_CHECK(sf_check_name(name, name_length, "name", where));
    for (int g = first_gpu; g < first_gpu + num_gpus; g++) {
        char* n = on_gpu(name, name_length, g);
        char dev[32];
        snprintf(dev, sizeof dev, "GPU:%d", g);
        SRError rc = n ? set_model_common(c_client, n, strlen(n), model, model_length, backend,
                                          backend_length, dev, batch_size, min_batch_size,
                                          min_batch_timeout, tag, tag_length, where)
                       : sf_fail(SRBadAllocError, where, "out of memory");
        free(n);
        SF_CHECK(rc);
    }
    return SRNoError;
}

SRError set_model_from_file_multigpu(void* c_client, const char* name, const size_t name_length,
                                     const char* model_file, const size_t model_file_length,
                                     const char* backend, const size_t backend_length,
                                     const int first_gpu, const int num_gpus, const int batch_size,
                                     const int min_batch_size, const int min_batch_timeout,
                                     const char* tag, const size_t tag_length, const char** inputs,
                                     const size_t* input_lengths, const size_t n_inputs,
                                     const char** outputs, const size_t* output_lengths,
                                     const size_t n_outputs)
{
    const char* where = "set_model_from_file_multigpu";
    SF_CHECK(check_backend(backend, backend_length, where));
    char* data = NULL;
    size_t size = 0;
    SF_CHECK(read_whole_file(model_file, model_file_length, &data, &size, "model file", where));
    SRError rc = set_model_multigpu(c_client, name, name_length, data, size, backend, backend_length,
                                    first_gpu, num_gpus, batch_size, min_batch_size, min_batch_timeout,
                                    tag, tag_length, inputs, input_lengths, n_inputs, outputs,
                                    output_lengths, n_outputs);
    free(data);
    return rc;
}

/* The stored record's payload (model bytes or script source), owned by the client. */
static SRError get_record(void* c_client, const char* name, size_t len, const char** out,
                          size_t* out_len, const char* where)
{
    sf_client* c = NULL;
    SF_CHECK(sf_client_check(c_client, where, &c));
    if (!out || !out_len) return sf_fail(SRParameterError, where, "NULL output argument");
    char* stored;
    SF_CHECK(stored_name(c, name, len, false, &stored, where));
    char* key = record_key(c->nodes[0].tag, stored, false);
    free(stored);
    if (!key) return sf_fail(SRBadAllocError, where, "out of memory");
    const char* argv[] = { "GET", key };
    size_t lens[] = { 3, strlen(key) };
    redisReply* r = NULL;
    SRError rc = sf_command_on(c, 0, 2, argv, lens, &r, where);
    if (rc == SRNoError) {
        if (r->type == REDIS_REPLY_NIL) rc = sf_fail(SRKeyError, where, "model '%.*s' does not exist", (int)len, name);
        else if (r->type != REDIS_REPLY_STRING) rc = sf_reply_error(r, where);
        else if (r->len < 12 || memcmp(r->str, "\x93SFM\x01", 5) != 0)
            rc = sf_fail(SRRuntimeError, where, "the stored value is not a smartflow model");
        else {
            uint32_t ml = 0;
            for (int i = 3; i >= 0; i--) ml = (ml << 8) | (unsigned char)r->str[8 + i];
            if (12 + (size_t)ml > r->len) rc = sf_fail(SRRuntimeError, where, "corrupt model record");
            else {
                size_t n = r->len - 12 - ml;
                char* copy = sf_strndup(r->str + 12 + ml, n);
                if (!copy) rc = sf_fail(SRBadAllocError, where, "out of memory");
                else if ((rc = sf_client_own(c, copy, where)) == SRNoError) { *out = copy; *out_len = n; }
            }
        }
        freeReplyObject(r);
    }
    free(key);
    return rc;
}

SRError get_model(void* c_client, const char* name, const size_t name_length, size_t* model_length,
                  const char** model)
{
    return get_record(c_client, name, name_length, model, model_length, "get_model");
}

SRError get_script(void* c_client, const char* name, const size_t name_length, const char** script,
                   size_t* script_length)
{
    return get_record(c_client, name, name_length, script, script_length, "get_script");
}

static SRError store_script(void* c_client, const char* name, size_t name_length, const char* dev,
                            const char* script, size_t script_length, const char* where)
{
    sf_client* c = NULL;
    SF_CHECK(sf_client_check(c_client, where, &c));
    if (!script && script_length) return sf_fail(SRParameterError, where, "script is NULL");
    char* stored;
    SF_CHECK(stored_name(c, name, name_length, true, &stored, where));
    SRError rc = sf_store_record(c, stored, "PYTHON", dev, 0, 0, 0, "", 0, script ? script : "",
                                 script_length, where);
    free(stored);
    return rc;
}

SRError set_script(void* c_client, const char* name, const size_t name_length, const char* device,
                   const size_t device_length, const char* script, const size_t script_length)
{
    char dev[32];
    SF_CHECK(check_device(device, device_length, dev, "set_script"));
    return store_script(c_client, name, name_length, dev, script, script_length, "set_script");
}

SRError set_script_from_file(void* c_client, const char* name, const size_t name_length,
                             const char* device, const size_t device_length,
                             const char* script_file, const size_t script_file_length)
{
    const char* where = "set_script_from_file";
    char dev[32];
    SF_CHECK(check_device(device, device_length, dev, where));
    char* data = NULL;
    size_t size = 0;
    SF_CHECK(read_whole_file(script_file, script_file_length, &data, &size, "script file", where));
    SRError rc = store_script(c_client, name, name_length, dev, data, size, where);
    free(data);
    return rc;
}

SRError set_script_multigpu(void* c_client, const char* name, const size_t name_length,
                            const char* script, const size_t script_length, const int first_gpu,
                            const int num_gpus)
{
    const char* where = "set_script_multigpu";
    SF_CHECK(check_gpus(first_gpu, num_gpus, where));
    SF_CHECK(sf_check_name(name, name_length, "name", where));
    for (int g = first_gpu; g < first_gpu + num_gpus; g++) {
        char* n = on_gpu(name, name_length, g);
        char dev[32];
        snprintf(dev, sizeof dev, "GPU:%d", g);
        SRError rc = n ? store_script(c_client, n, strlen(n), dev, script, script_length, where)
                       : sf_fail(SRBadAllocError, where, "out of memory");
        free(n);
        SF_CHECK(rc);
    }
    return SRNoError;
}

SRError set_script_from_file_multigpu(void* c_client, const char* name, const size_t name_length,
                                      const char* script_file, const size_t script_file_length,
                                      const int first_gpu, const int num_gpus)
{
    const char* where = "set_script_from_file_multigpu";
    char* data = NULL;
    size_t size = 0;
    SF_CHECK(read_whole_file(script_file, script_file_length, &data, &size, "script file", where));
    SRError rc = set_script_multigpu(c_client, name, name_length, data, size, first_gpu, num_gpus);
    free(data);
    return rc;
}

/* Ask the worker on the shard of the first input to run a model or a script function. */
static SRError run_common(void* c_client, const char* name, size_t name_length, const char* function,
                          const char** inputs, const size_t* input_lengths, size_t n_inputs,
                          const char** outputs, const size_t* output_lengths, size_t n_outputs,
                          const char* where)
{
    sf_client* c = NULL;
    SF_CHECK(sf_client_check(c_client, where, &c));
    if (!n_inputs || !n_outputs || !inputs || !outputs || !input_lengths || !output_lengths)
        return sf_fail(SRParameterError, where, "give at least one input and one output");
    char* stored;
    SF_CHECK(stored_name(c, name, name_length, false, &stored, where));
    char** in = calloc(n_inputs, sizeof *in);
    char** out = calloc(n_outputs, sizeof *out);
    SRError rc = in && out ? SRNoError : sf_fail(SRBadAllocError, where, "out of memory");
    for (size_t i = 0; i < n_inputs && rc == SRNoError; i++) {
        rc = sf_check_name(inputs[i], input_lengths[i], "an input name", where);
        if (rc == SRNoError && !(in[i] = sf_key_in(c, SF_TENSOR, inputs[i], input_lengths[i])))
            rc = sf_fail(SRBadAllocError, where, "out of memory");
    }
    for (size_t i = 0; i < n_outputs && rc == SRNoError; i++) {
        rc = sf_check_name(outputs[i], output_lengths[i], "an output name", where);
        if (rc == SRNoError && !(out[i] = sf_key_out(c, SF_TENSOR, outputs[i], output_lengths[i])))
            rc = sf_fail(SRBadAllocError, where, "out of memory");
    }
    if (rc == SRNoError) {
        size_t node = sf_node_for_key(c, in[0], strlen(in[0]));
        char what[300];
        snprintf(what, sizeof what, "%s '%s'", where, stored);
        rc = sf_submit(c, node, "run", stored, (const char* const*)in, n_inputs,
                       (const char* const*)out, n_outputs, function, c->run_timeout_ms, what);
    }
    for (size_t i = 0; in && i < n_inputs; i++) free(in[i]);
    for (size_t i = 0; out && i < n_outputs; i++) free(out[i]);
    free(in); free(out); free(stored);
    return rc;
}

SRError run_model(void* c_client, const char* name, const size_t name_length, const char** inputs,
                  const size_t* input_lengths, const size_t n_inputs, const char** outputs,
                  const size_t* output_lengths, const size_t n_outputs)
{
    return run_common(c_client, name, name_length, "", inputs, input_lengths, n_inputs, outputs,
                      output_lengths, n_outputs, "run_model");
}

SRError run_script(void* c_client, const char* name, const size_t name_length, const char* function,
                   const size_t function_length, const char** inputs, const size_t* input_lengths,
                   const size_t n_inputs, const char** outputs, const size_t* output_lengths,
                   const size_t n_outputs)
{
    SF_CHECK(sf_check_name(function, function_length, "function", "run_script"));
    char* fn = sf_strndup(function, function_length);
    if (!fn) return sf_fail(SRBadAllocError, "run_script", "out of memory");
    SRError rc = run_common(c_client, name, name_length, fn, inputs, input_lengths, n_inputs,
                            outputs, output_lengths, n_outputs, "run_script");
    free(fn);
    return rc;
}

static int pick_gpu(int offset, int first_gpu, int num_gpus) { return first_gpu + offset % num_gpus; }

SRError run_model_multigpu(void* c_client, const char* name, const size_t name_length,
                           const char** inputs, const size_t* input_lengths, const size_t n_inputs,
                           const char** outputs, const size_t* output_lengths,
                           const size_t n_outputs, const int offset, const int first_gpu,
                           const int num_gpus)
{
    const char* where = "run_model_multigpu";
    SF_CHECK(check_gpus(first_gpu, num_gpus, where));
    if (offset < 0) return sf_fail(SRParameterError, where, "offset must be >= 0");
    SF_CHECK(sf_check_name(name, name_length, "name", where));
    char* n = on_gpu(name, name_length, pick_gpu(offset, first_gpu, num_gpus));
    if (!n) return sf_fail(SRBadAllocError, where, "out of memory");
    SRError rc = run_common(c_client, n, strlen(n), "", inputs, input_lengths, n_inputs, outputs,
                            output_lengths, n_outputs, where);
    free(n);
    return rc;
}

SRError run_script_multigpu(void* c_client, const char* name, const size_t name_length,
                            const char* function, const size_t function_length,
                            const char** inputs, const size_t* input_lengths, const size_t n_inputs,
                            const char** outputs, const size_t* output_lengths,
                            const size_t n_outputs, const int offset, const int first_gpu,
                            const int num_gpus)
{
    const char* where = "run_script_multigpu";
    SF_CHECK(check_gpus(first_gpu, num_gpus, where));
    if (offset < 0) return sf_fail(SRParameterError, where, "offset must be >= 0");
    SF_CHECK(sf_check_name(name, name_length, "name", where));
    char* n = on_gpu(name, name_length, pick_gpu(offset, first_gpu, num_gpus));
    if (!n) return sf_fail(SRBadAllocError, where, "out of memory");
    SRError rc = run_script(c_client, n, strlen(n), function, function_length, inputs, input_lengths,
                            n_inputs, outputs, output_lengths, n_outputs);
    free(n);
    return rc;
}

SRError delete_model(void* c_client, const char* name, const size_t name_length)
{
    const char* where = "delete_model";
    sf_client* c = NULL;
    SF_CHECK(sf_client_check(c_client, where, &c));
    char* stored;
    SF_CHECK(stored_name(c, name, name_length, false, &stored, where));
    SRError rc = SRNoError;
    for (size_t i = 0; i < c->n_nodes && rc == SRNoError; i++) {
        if (!c->nodes[i].tag[0]) continue;  /* not a shard (yet): an ASK target */
        char* k = record_key(c->nodes[i].tag, stored, false);
        char* v = record_key(c->nodes[i].tag, stored, true);
        if (!k || !v) rc = sf_fail(SRBadAllocError, where, "out of memory");
        else {
            const char* argv[] = { "DEL", k, v };
            size_t lens[] = { 3, strlen(k), strlen(v) };
            rc = simple_on(c, i, 3, argv, lens, where);
        }
        free(k); free(v);
    }
    free(stored);
    return rc;
}

SRError delete_script(void* c_client, const char* name, const size_t name_length)
{
    return delete_model(c_client, name, name_length);
}

SRError delete_model_multigpu(void* c_client, const char* name, const size_t name_length,
                              const int first_gpu, const int num_gpus)
{
    const char* where = "delete_model_multigpu";
    SF_CHECK(check_gpus(first_gpu, num_gpus, where));
    SF_CHECK(sf_check_name(name, name_length, "name", where));
    for (int g = first_gpu; g < first_gpu + num_gpus; g++) {
        char* n = on_gpu(name, name_length, g);
        SRError rc = n ? delete_model(c_client, n, strlen(n)) : sf_fail(SRBadAllocError, where, "out of memory");
        free(n);
        SF_CHECK(rc);
    }
    return SRNoError;
}

SRError delete_script_multigpu(void* c_client, const char* name, const size_t name_length,
                               const int first_gpu, const int num_gpus)
{
    return delete_model_multigpu(c_client, name, name_length, first_gpu, num_gpus);
}

static SRError model_check(void* c_client, const char* name, size_t len, int poll_ms, int tries,
                           bool* exists, const char* where)
{
    sf_client* c = NULL;
    SF_CHECK(sf_client_check(c_client, where, &c));
    if (!exists) return sf_fail(SRParameterError, where, "exists is NULL");
    char* stored;
    SF_CHECK(stored_name(c, name, len, false, &stored, where));
    char* key = record_key(c->nodes[0].tag, stored, false);
    free(stored);
    if (!key) return sf_fail(SRBadAllocError, where, "out of memory");
    SRError rc = tries != SF_NO_POLL ? sf_poll_key(c, key, poll_ms, tries, exists, where) : sf_exists(c, key, exists, where);
    free(key);
    return rc;
}

SRError model_exists(void* c_client, const char* name, const size_t name_length, bool* exists)
{
    return model_check(c_client, name, name_length, 0, SF_NO_POLL, exists, "model_exists");
}

SRError poll_model(void* c_client, const char* name, const size_t name_length,
                   const int poll_frequency_ms, const int num_tries, bool* exists)
{
    return model_check(c_client, name, name_length, poll_frequency_ms,
                       num_tries < 0 ? 0 : num_tries, exists, "poll_model");
}

/* Whether s is word, ignoring case (backend names are, in SmartRedis). */
static bool same_word(const char* s, const char* word)
{
    for (; *s && *word; s++, word++)
        if (toupper((unsigned char)*s) != *word) return false;
    return *s == *word;
}

bool _isTensorFlow(const char* backend)
{
    return backend && (same_word(backend, "TF") || same_word(backend, "TFLITE"));
}

void _check_params_set_model(void* c_client, const char* name, const char* backend,
                             const char** inputs, const size_t* input_lengths, const size_t n_inputs,
                             const char** outputs, const size_t* output_lengths, const size_t n_outputs)
{
    (void)inputs; (void)input_lengths; (void)n_inputs; (void)outputs; (void)output_lengths; (void)n_outputs;
    if (!c_client || !name || !backend) sf_fail(SRParameterError, "set_model", "NULL argument");
}

void _check_params_run_script(void* c_client, const char* name, const char* function,
                              const char** inputs, const size_t* input_lengths, const size_t n_inputs,
                              const char** outputs, const size_t* output_lengths, const size_t n_outputs)
{
    if (!c_client || !name || !function || (n_inputs && (!inputs || !input_lengths)) ||
        (n_outputs && (!outputs || !output_lengths)))
        sf_fail(SRParameterError, "run_script", "NULL argument");
}

void _check_params_run_model(void* c_client, const char* name, const char** inputs,
                             const size_t* input_lengths, const size_t n_inputs, const char** outputs,
                             const size_t* output_lengths, const size_t n_outputs)
{
    if (!c_client || !name || (n_inputs && (!inputs || !input_lengths)) ||
        (n_outputs && (!outputs || !output_lengths)))
        sf_fail(SRParameterError, "run_model", "NULL argument");
}
