/*
 * Direct I/O of tensor values on a shard's connection, past hiredis's buffers.
 *
 * hiredis 0.14 copies a command's every argument into an sds string, appends that to its
 * output buffer, and moves the unwritten rest down after each partial write; it reads replies
 * 16 KiB at a time into a buffer that grows by reallocation and then copies the value into a
 * reply object. For a value of megabytes those copies cost more than the network. So a value's
 * bytes are sent here with one sendmsg from the caller's memory, and a GET's value is read with
 * read() straight into the memory it ends up in. Everything that is not a plain tensor (nil,
 * errors, redirections, other values) is handed to hiredis's reader as read, so its ordinary
 * parsing and the callers' ordinary handling apply.
 *
 * These calls run only when no pipelined command is in flight on the connection (nothing in
 * hiredis's output buffer or reader), which holds between the library's calls. Any I/O error
 * mid-value leaves the stream unusable: the connection is dropped (sf_io_error) and the next
 * call reconnects.
 */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <hiredis/sds.h>

#define SF_HEAD_BUF 4096   /* a bulk reply's length line plus any tensor header fits */
#define SF_MAX_IOV 64

/* Marks the context broken with errno's text, the way hiredis does, and reports it. */
static SRError broken(sf_client* c, size_t node, int err, const char* why, const char* where)
{
    redisContext* ctx = c->nodes[node].ctx;
    if (ctx) {
        ctx->err = REDIS_ERR_IO;
        if (why) snprintf(ctx->errstr, sizeof ctx->errstr, "%s", why);
        else snprintf(ctx->errstr, sizeof ctx->errstr, "%s", strerror(err));
    }
    return sf_io_error(c, node, where);
}

/* Whether the connection is idle: nothing queued to send, nothing read but unparsed. */
static bool idle(const redisContext* ctx)
{
    return sdslen(ctx->obuf) == 0 && ctx->reader->pos >= ctx->reader->len &&
           ctx->reader->ridx == -1;
}

static SRError send_all(sf_client* c, size_t node, struct iovec* iov, int n, const char* where)
{
    int fd = c->nodes[node].ctx->fd;
    while (n > 0) {
        struct msghdr msg;
        memset(&msg, 0, sizeof msg);
        msg.msg_iov = iov;
        msg.msg_iovlen = (size_t)n;
        /* MSG_NOSIGNAL: a store that went away is an error to report, not a SIGPIPE. */
        ssize_t w = sendmsg(fd, &msg, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            return broken(c, node, errno, NULL, where);
        }
        size_t left = (size_t)w;
        while (n > 0 && left >= iov->iov_len) { left -= iov->iov_len; iov++; n--; }
        if (n > 0) { iov->iov_base = (char*)iov->iov_base + left; iov->iov_len -= left; }
    }
    return SRNoError;
}

SRError sf_send_parts(sf_client* c, size_t node, int argc, const char** argv,
                      const size_t* argvlen, const sf_part* parts, size_t n_parts,
                      const char* where)
{
    redisContext* ctx = NULL;
    SF_CHECK(sf_node_ctx(c, node, &ctx, where));
    if (n_parts + 2 > SF_MAX_IOV || argc < 1)
        return sf_fail(SRInternalError, where, "sf_send_parts: %zu parts", n_parts);
    /* Anything hiredis still holds to send goes first, to keep the commands in order. */
    int done = 0;
    while (!done)
        if (redisBufferWrite(ctx, &done) != REDIS_OK) return sf_io_error(c, node, where);
    size_t tail = 0;
    for (size_t i = 0; i < n_parts; i++) tail += parts[i].len;
    /* The RESP text before the last argument's bytes: "*argc", then each "$len" and argument. */
    size_t head_len = 32 + 32 * (size_t)argc;
    for (int i = 0; i < argc - 1; i++) head_len += argvlen[i];
    char small[512];
    char* head = head_len <= sizeof small ? small : malloc(head_len);
    if (!head) return sf_fail(SRBadAllocError, where, "out of memory");
    size_t h = (size_t)snprintf(head, head_len, "*%d\r\n", argc);
    for (int i = 0; i < argc - 1; i++) {
        h += (size_t)snprintf(head + h, head_len - h, "$%zu\r\n", argvlen[i]);
        memcpy(head + h, argv[i], argvlen[i]);
        h += argvlen[i];
        head[h++] = '\r';
        head[h++] = '\n';
    }
    h += (size_t)snprintf(head + h, head_len - h, "$%zu\r\n", tail);
    struct iovec iov[SF_MAX_IOV];
    int n = 0;
    iov[n].iov_base = head; iov[n++].iov_len = h;
    for (size_t i = 0; i < n_parts; i++)
        if (parts[i].len) { iov[n].iov_base = (void*)parts[i].data; iov[n++].iov_len = parts[i].len; }
    iov[n].iov_base = (void*)"\r\n"; iov[n++].iov_len = 2;
    SRError rc = send_all(c, node, iov, n, where);
    if (head != small) free(head);
    return rc;
}

SRError sf_command_parts_on(sf_client* c, size_t node, int argc, const char** argv,
                            const size_t* argvlen, const sf_part* parts, size_t n_parts,
                            redisReply** out, const char* where)
{
    SF_CHECK(sf_send_parts(c, node, argc, argv, argvlen, parts, n_parts, where));
    void* r = NULL;
    if (redisGetReply(c->nodes[node].ctx, &r) != REDIS_OK) return sf_io_error(c, node, where);
    *out = r;
    return SRNoError;
}

/* Reads until want bytes are in buf (have counts them), at most cap in all. */
static SRError read_at_least(sf_client* c, size_t node, char* buf, size_t* have, size_t want,
                             size_t cap, const char* where)
{
    int fd = c->nodes[node].ctx->fd;
    while (*have < want) {
        ssize_t r = read(fd, buf + *have, cap - *have);
        if (r > 0) { *have += (size_t)r; continue; }
        if (r < 0 && errno == EINTR) continue;
        return broken(c, node, r < 0 ? errno : 0, r == 0 ? "Server closed the connection" : NULL, where);
    }
    return SRNoError;
}

/* Hands what was read to hiredis and lets it read and parse the rest of the reply. */
static SRError via_hiredis(sf_client* c, size_t node, const char* buf, size_t len,
                           redisReply** other, const char* where)
{
    redisContext* ctx = c->nodes[node].ctx;
    if (redisReaderFeed(ctx->reader, buf, len) != REDIS_OK)
        return sf_fail(SRBadAllocError, where, "out of memory");
    void* r = NULL;
    if (redisGetReply(ctx, &r) != REDIS_OK) return sf_io_error(c, node, where);
    *other = r;
    return SRNoError;
}

SRError sf_get_direct(sf_client* c, size_t node, const char* key, size_t klen, const char* name,
                      sf_tensor* out, sf_fits_fn fits, void* arg, void* dest, bool* in_dest,
                      redisReply** other, bool* handled, const char* where)
{
    *other = NULL;
    *in_dest = false;
    *handled = false;
    redisContext* ctx = NULL;
    SF_CHECK(sf_node_ctx(c, node, &ctx, where));
    if (!idle(ctx)) return SRNoError;  /* the caller takes hiredis's way */
    *handled = true;
    const char* argv[] = { "GET", key };
    size_t lens[] = { 3, klen };
    sf_part part = { key, klen };
    SF_CHECK(sf_send_parts(c, node, 2, argv, lens, &part, 1, where));

    /* The length line: "$<len>\r\n" for a value; anything else goes to hiredis. */
    char buf[SF_HEAD_BUF];
    size_t have = 0, line = 0;
    while (!line) {
        SF_CHECK(read_at_least(c, node, buf, &have, have + 1, sizeof buf, where));
        for (size_t i = 1; i < have; i++)
            if (buf[i - 1] == '\r' && buf[i] == '\n') { line = i + 1; break; }
        if (!line && (buf[0] != '$' || have > 32)) return via_hiredis(c, node, buf, have, other, where);
    }
    char* end = NULL;
    long long vlen = buf[0] == '$' ? strtoll(buf + 1, &end, 10) : -1;
    if (vlen < 8 || end != buf + line - 2) return via_hiredis(c, node, buf, have, other, where);
    size_t total = line + (size_t)vlen + 2;  /* the reply's bytes; none past it are read */
    size_t cap = total < sizeof buf ? total : sizeof buf;

    /* The tensor header: its first 8 bytes give its length. */
    SF_CHECK(read_at_least(c, node, buf, &have, line + 8, cap, where));
    size_t hl = (size_t)(unsigned char)buf[line + 6] | (size_t)(unsigned char)buf[line + 7] << 8;
    if (memcmp(buf + line, "\x93SFT", 4) != 0 || hl > (size_t)vlen || line + hl > sizeof buf)
        return via_hiredis(c, node, buf, have, other, where);
    SF_CHECK(read_at_least(c, node, buf, &have, line + hl, cap, where));
    sf_header h;
    if (sf_header_decode(buf + line, hl, &h, name, where) != SRNoError || h.chunked ||
        h.header_len != hl || (size_t)vlen - hl != h.data_len)
        return via_hiredis(c, node, buf, have, other, where);  /* it reports what is wrong */

    /* The data, straight to where it belongs. */
    bool to_dest = dest && fits && fits(&h, arg);
    char* data = to_dest ? dest : malloc(h.data_len ? h.data_len : 1);
    if (!data) {
        /* Still read the reply through, so the connection stays usable. */
        redisReply* r = NULL;
        SF_CHECK(via_hiredis(c, node, buf, have, &r, where));
        freeReplyObject(r);
        return sf_fail(SRBadAllocError, where, "out of memory (%zu bytes)", h.data_len);
    }
    size_t got = have - line - hl;  /* value bytes already read, perhaps with some of "\r\n" */
    size_t in_buf = got < h.data_len ? got : h.data_len;
    memcpy(data, buf + line + hl, in_buf);
    char crlf[2];
    size_t n_crlf = got - in_buf;
    memcpy(crlf, buf + line + hl + in_buf, n_crlf);
    int fd = ctx->fd;
    size_t off = in_buf;
    SRError rc = SRNoError;
    while (off < h.data_len && rc == SRNoError) {
        ssize_t r = read(fd, data + off, h.data_len - off);
        if (r > 0) off += (size_t)r;
        else if (r < 0 && errno == EINTR) continue;
        else rc = broken(c, node, r < 0 ? errno : 0, r == 0 ? "Server closed the connection" : NULL, where);
    }
    if (rc == SRNoError) rc = read_at_least(c, node, crlf, &n_crlf, 2, 2, where);
    if (rc == SRNoError && (crlf[0] != '\r' || crlf[1] != '\n'))
        rc = broken(c, node, 0, "Protocol error: a bulk reply does not end in CRLF", where);
    if (rc != SRNoError) {
        if (!to_dest) free(data);
        return rc;
    }
    out->h = h;
    if (to_dest) {
        *in_dest = true;
    } else {
        if (h.swap) sf_swap_bytes(data, h.data_len / h.itemsize, h.itemsize);
        out->data = data;
    }
    return SRNoError;
}

/* ---- pipelines: many commands sent with few sendmsg calls ----
 * hiredis would format each command into its own string, append it to one output buffer that
 * grows by reallocation, and move the unwritten rest down after every partial write. Here
 * small pieces are copied once into a staging block and large arguments are sent from where
 * they lie. */
#define SF_STAGE_BYTES ((size_t)1 << 20)
#define SF_BIG_ARG ((size_t)32 << 10)

typedef struct {
    sf_client* c; size_t node; const char* where;
    char* stage; size_t used, mark;     /* mark: where the open staged segment starts */
    struct iovec iov[SF_MAX_IOV]; int n;
} sender;

static void close_segment(sender* s)
{
    if (s->used > s->mark) {
        s->iov[s->n].iov_base = s->stage + s->mark;
        s->iov[s->n++].iov_len = s->used - s->mark;
    }
    s->mark = s->used;
}

static SRError flush(sender* s)
{
    close_segment(s);
    SRError rc = s->n ? send_all(s->c, s->node, s->iov, s->n, s->where) : SRNoError;
    s->n = 0;
    s->used = s->mark = 0;
    return rc;
}

static SRError stage(sender* s, const void* p, size_t len)
{
    if (s->used + len > SF_STAGE_BYTES || s->n >= SF_MAX_IOV - 2) SF_CHECK(flush(s));
    memcpy(s->stage + s->used, p, len);
    s->used += len;
    return SRNoError;
}

static SRError add_arg(sender* s, const char* arg, size_t len)
{
    char line[32];
    int l = snprintf(line, sizeof line, "$%zu\r\n", len);
    SF_CHECK(stage(s, line, (size_t)l));
    if (len <= SF_BIG_ARG) {
        SF_CHECK(stage(s, arg, len));
    } else {
        if (s->n >= SF_MAX_IOV - 2) SF_CHECK(flush(s));
        close_segment(s);
        s->iov[s->n].iov_base = (void*)arg;
        s->iov[s->n++].iov_len = len;
    }
    return stage(s, "\r\n", 2);
}

SRError sf_send_pipeline(sf_client* c, size_t node, size_t n, const int* argcs,
                         const char*** argvs, const size_t** argvlens, const char* where)
{
    redisContext* ctx;
    SF_CHECK(sf_node_ctx(c, node, &ctx, where));
    int done = 0;
    while (!done)
        if (redisBufferWrite(ctx, &done) != REDIS_OK) return sf_io_error(c, node, where);
    sender s;
    memset(&s, 0, sizeof s);
    s.c = c; s.node = node; s.where = where;
    s.stage = malloc(SF_STAGE_BYTES);
    if (!s.stage) return sf_fail(SRBadAllocError, where, "out of memory");
    SRError rc = SRNoError;
    for (size_t i = 0; i < n && rc == SRNoError; i++) {
        char line[32];
        int l = snprintf(line, sizeof line, "*%d\r\n", argcs[i]);
        rc = stage(&s, line, (size_t)l);
        for (int a = 0; a < argcs[i] && rc == SRNoError; a++)
            rc = add_arg(&s, argvs[i][a], argvlens[i][a]);
    }
    if (rc == SRNoError) rc = flush(&s);
    free(s.stage);
    return rc;
}
