/*
 * Logging (c_logger.h, c_logcontext.h) as smartflow/client/_logs.py does it: a line
 * "<UTC time> <LEVEL> <name>: <message>" to SR_LOG_FILE (stdout when unset, as SmartRedis),
 * and, for a client context, a JSON record {time, level, name, message, host, pid} pushed onto
 * the store's "smartflow.log" list (trimmed to 10,000) so get_log_records sees it.
 */
#include "internal.h"
#include "c_logger.h"
#include "c_logcontext.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static SRLoggingLevel threshold(void)
{
    const char* v = getenv("SR_LOG_LEVEL");
    if (!v || !*v) return LLInfo;
    if (strcasecmp(v, "QUIET") == 0) return LLQuiet;
    if (strcasecmp(v, "DEBUG") == 0) return LLDebug;
    if (strcasecmp(v, "DEVELOPER") == 0) return LLDeveloper;
    return LLInfo;
}

static const char* level_name(SRLoggingLevel l)
{
    switch (l) {
    case LLDebug: return "debug";
    case LLDeveloper: return "developer";
    default: return "info";
    }
}

static void now_iso(char* out, size_t len)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    time_t secs = tv.tv_sec;
    gmtime_r(&secs, &tm);
    char base[32];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, len, "%s.%06ld+00:00", base, (long)tv.tv_usec);
}

static void write_line(const char* when, const char* level, const char* name, const char* msg, size_t len)
{
    sf_buf line = {0};
    char up[16];
    size_t i = 0;
    for (; level[i] && i < sizeof up - 1; i++) up[i] = (char)(level[i] >= 'a' && level[i] <= 'z' ? level[i] - 32 : level[i]);
    up[i] = '\0';
    sf_buf_printf(&line, "%s %s %s: ", when, up, name);
    for (size_t k = 0; k < len; k++) {
        if (msg[k] == '\n') sf_buf_put(&line, "\\n", 2);
        else if (msg[k] == '\r') sf_buf_put(&line, "\\r", 2);
        else sf_buf_put(&line, &msg[k], 1);
    }
    sf_buf_put(&line, "\n", 1);
    if (!line.data) return;
    const char* path = getenv("SR_LOG_FILE");
    int fd = 1;
    if (path && *path) fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (fd == 1) fflush(stdout);  /* keep the order of the program's own printf output */
    if (fd >= 0) {
        size_t done = 0;  /* one O_APPEND write per line, so concurrent writers never interleave */
        while (done < line.len) {
            ssize_t n = write(fd, line.data + done, line.len - done);
            if (n <= 0) break;
            done += (size_t)n;
        }
        if (fd != 1) close(fd);
    }
    sf_buf_free(&line);
}

static void push_record(sf_client* c, const char* when, const char* level, const char* msg, size_t len)
{
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    sf_buf rec = {0};
    sf_buf_printf(&rec, "{\"time\":\"%s\",\"level\":\"%s\",\"name\":", when, level);
    sj_write_string(&rec, c->log_name, strlen(c->log_name));
    sf_buf_printf(&rec, ",\"message\":");
    sj_write_string(&rec, msg, len);
    sf_buf_printf(&rec, ",\"host\":");
    sj_write_string(&rec, host, strlen(host));
    sf_buf_printf(&rec, ",\"pid\":%ld}", (long)getpid());
    if (!rec.data) return;
    const char* key = "smartflow.log";
    const char* multi[] = { "MULTI" }; size_t ml[] = { 5 };
    const char* push[] = { "RPUSH", key, rec.data }; size_t pl[] = { 5, 13, rec.len };
    const char* trim[] = { "LTRIM", key, "-10000", "-1" }; size_t tl[] = { 5, 13, 6, 2 };
    const char* ex[] = { "EXEC" }; size_t el[] = { 4 };
    int argcs[] = { 1, 3, 4, 1 };
    const char** argvs[] = { multi, push, trim, ex };
    const size_t* lens[] = { ml, pl, tl, el };
    redisReply* rep[4];
    /* Logging never fails the caller (the _noexcept API): a store error keeps the last error. */
    char saved[2048];
    snprintf(saved, sizeof saved, "%s", SRGetLastError());
    SRError code = SRGetLastErrorCode();
    if (sf_pipeline_on(c, sf_node_for_key(c, key, 13), 4, argcs, argvs, lens, rep, "log") == SRNoError)
        for (int i = 0; i < 4; i++) freeReplyObject(rep[i]);
    SRSetLastErrorMessage(code, saved, SRGetLastErrorLocation());
    sf_buf_free(&rec);
}

/* kind: "data" (kept up to SR_LOG_LEVEL), "warning" or "error" (always kept); never at QUIET. */
static void emit(const void* context, const char* ctx_name, size_t ctx_len, SRLoggingLevel level,
                 const char* kind, const char* data, size_t len)
{
    if (level == LLQuiet || level == LLInvalid || (!data && len)) return;
    if (strcmp(kind, "data") == 0 && level > threshold()) return;
    if (threshold() == LLQuiet) return;
    const char* lvl = strcmp(kind, "data") == 0 ? level_name(level) : kind;
    char when[64];
    now_iso(when, sizeof when);
    const sf_object* obj = context;
    if (obj) {
        if (obj->kind == SF_KIND_CLIENT) {
            sf_client* c = (sf_client*)obj;
            write_line(when, lvl, c->log_name, data ? data : "", len);
            push_record(c, when, lvl, data ? data : "", len);
            return;
        }
        const char* name = (obj->kind == SF_KIND_DATASET || obj->kind == SF_KIND_LOGCTX) ? obj->name : "default";
        write_line(when, lvl, name, data ? data : "", len);
        return;
    }
    char* name = sf_strndup(ctx_name ? ctx_name : "default", ctx_name ? ctx_len : 7);
    if (!name) return;
    write_line(when, lvl, name, data ? data : "", len);
    free(name);
}

void log_data_noexcept(const void* context, SRLoggingLevel level, const char* data, size_t data_len)
{ if (context) emit(context, NULL, 0, level, "data", data, data_len); }
void log_warning_noexcept(const void* context, SRLoggingLevel level, const char* data, size_t data_len)
{ if (context) emit(context, NULL, 0, level, "warning", data, data_len); }
void log_error_noexcept(const void* context, SRLoggingLevel level, const char* data, size_t data_len)
{ if (context) emit(context, NULL, 0, level, "error", data, data_len); }

void log_data_noexcept_string(const char* context, size_t context_len, SRLoggingLevel level,
                              const char* data, size_t data_len)
{ emit(NULL, context, context_len, level, "data", data, data_len); }
void log_warning_noexcept_string(const char* context, size_t context_len, SRLoggingLevel level,
                                 const char* data, size_t data_len)
{ emit(NULL, context, context_len, level, "warning", data, data_len); }
void log_error_noexcept_string(const char* context, size_t context_len, SRLoggingLevel level,
                               const char* data, size_t data_len)
{ emit(NULL, context, context_len, level, "error", data, data_len); }

SRError SmartRedisCLogContext(const char* context, const size_t context_length, void** new_logcontext)
{
    const char* where = "SmartRedisCLogContext";
    if (!new_logcontext || (!context && context_length)) return sf_fail(SRParameterError, where, "NULL argument");
    sf_object* o = calloc(1, sizeof *o);
    if (!o) return sf_fail(SRBadAllocError, where, "out of memory");
    o->kind = SF_KIND_LOGCTX;
    o->name = sf_strndup(context ? context : "", context_length);
    if (!o->name) { free(o); return sf_fail(SRBadAllocError, where, "out of memory"); }
    *new_logcontext = o;
    return SRNoError;
}

SRError DeallocateLogContext(void** logcontext)
{
    const char* where = "DeallocateLogContext";
    if (!logcontext || !*logcontext || ((sf_object*)*logcontext)->kind != SF_KIND_LOGCTX)
        return sf_fail(SRParameterError, where, "not a LogContext (NULL or freed?)");
    sf_object* o = *logcontext;
    free(o->name);
    o->kind = 0;
    free(o);
    *logcontext = NULL;
    return SRNoError;
}
