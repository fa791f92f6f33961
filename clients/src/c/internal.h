/*
 * smartflow C client: private declarations shared by the modules of libsmartflow.
 * Nothing here is installed; the public API is in clients/include.
 */
#ifndef SMARTFLOW_INTERNAL_H
#define SMARTFLOW_INTERNAL_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <hiredis/hiredis.h>
#include "sr_enums.h"
#include "sr_error.h"

/* Everything declared below is the library's own: hidden, so that it cannot clash with a name in
 * a user's program (only the functions in clients/include are exported). */
#pragma GCC visibility push(hidden)

/* Redis refuses a bulk value over 512 MiB (proto-max-bulk-len): larger tensors are chunked. */
#define SF_DEFAULT_MAX_VALUE ((size_t)512 * 1024 * 1024)

/* ---- errors (errors.c) ---- */
/* Records code + formatted message as this thread's last error and returns code. */
SRError sf_fail(SRError code, const char* where, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define SF_CHECK(expr) do { SRError sf_rc_ = (expr); if (sf_rc_ != SRNoError) return sf_rc_; } while (0)

/* ---- objects: every handle starts with this, so log_* can name its context ---- */
enum { SF_KIND_CLIENT = 0x5346434c, SF_KIND_DATASET = 0x53464453, SF_KIND_LOGCTX = 0x53464c43,
       SF_KIND_CONFIG = 0x5346434f };
typedef struct { uint32_t kind; char* name; } sf_object;

/* ---- growable byte buffer ---- */
typedef struct { char* data; size_t len, cap; } sf_buf;
bool sf_buf_reserve(sf_buf* b, size_t extra);
bool sf_buf_put(sf_buf* b, const void* p, size_t n);
bool sf_buf_printf(sf_buf* b, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void sf_buf_free(sf_buf* b);

char* sf_strndup(const char* s, size_t n);

/* ---- the connection to the store (conn.c, cluster.c) ---- */
typedef struct {
    char* host; int port; char* unix_path;   /* one of host:port or unix_path */
    redisContext* ctx;                       /* NULL until connected, or after an I/O error */
    char tag[16];                            /* the run-protocol shard tag */
} sf_node;

typedef enum { SF_TENSOR = 0, SF_DATASET = 1, SF_LIST = 2, SF_MODEL = 3 } sf_kind;

typedef struct sf_client {
    sf_object obj;
    sf_node* nodes; size_t n_nodes;
    bool cluster;
    uint16_t* slot_node;                     /* 16384 entries (cluster only) */
    char* password;                          /* never logged or reported */
    int conn_timeout_ms, cmd_timeout_ms, run_timeout_ms;
    size_t max_value_bytes;                  /* values over this are chunked */
    /* prefixing (prefix.c) */
    char* put_prefix; char** sources; size_t n_sources; char* data_source;
    bool prefix_on[4];
    /* memory handed out by get_* calls, freed by DeleteCClient */
    void** owned; size_t n_owned, cap_owned;
    char* description;
    char* log_name;
} sf_client;

SRError sf_client_check(void* c_client, const char* where, sf_client** out);
/* Remember p (malloc'ed) to free at DeleteCClient; frees it and fails when out of memory. */
SRError sf_client_own(sf_client* c, void* p, const char* where);

SRError sf_connect_nodes(sf_client* c, const char* addresses, bool cluster_hint);
void sf_disconnect(sf_client* c);
SRError sf_node_ctx(sf_client* c, size_t node, redisContext** out, const char* where);
/* Turns a dead context into an SRError (timeout or database error) and drops it. */
SRError sf_io_error(sf_client* c, size_t node, const char* where);

SRError sf_node_by_address(sf_client* c, const char* host, size_t host_len, int port,
                           size_t* out, const char* where);
/* Keyed pipeline: grouped by shard, one round trip each; MOVED/ASK replies are re-run one
 * by one through sf_command. */
SRError sf_pipeline_keyed(sf_client* c, size_t n, const char* const* keys, const size_t* key_lens,
                          const int* argcs, const char*** argvs, const size_t** argvlens,
                          redisReply** replies, const char* where);

uint16_t sf_crc16_slot(const char* key, size_t len);
size_t sf_node_for_key(const sf_client* c, const char* key, size_t len);
SRError sf_refresh_slots(sf_client* c, const char* where);
/* Closes a node's connection and frees its names. */
void sf_node_free(sf_node* n);
/* The smallest decimal integer whose string hashes to slot (a hash tag for it). */
unsigned sf_tag_for_slot(uint16_t slot);

/* One command, routed by key (key NULL: node 0), following MOVED/ASK. The reply is the
 * caller's (freeReplyObject); error replies are returned as replies, not failures. */
/* sf_command, then the reply's error as an SRError; *out gets the reply when wanted (else it
 * is freed). key may be NULL for a keyless command. */
SRError sf_run(sf_client* c, const char* key, int argc, const char** argv, const size_t* lens,
               redisReply** out, const char* where);
/* Whether two keys are on one shard (always, on a single store). */
bool sf_same_slot(const sf_client* c, const char* a, const char* b);
SRError sf_command(sf_client* c, const char* key, size_t key_len, int argc,
                   const char** argv, const size_t* argvlen, redisReply** out, const char* where);
/* The same on a given node, without routing. */
SRError sf_command_on(sf_client* c, size_t node, int argc, const char** argv,
                      const size_t* argvlen, redisReply** out, const char* where);
/* n commands pipelined on one node; replies[i] filled. On failure every reply is freed. */
SRError sf_pipeline_on(sf_client* c, size_t node, size_t n, const int* argcs,
                       const char*** argvs, const size_t** argvlens, redisReply** replies,
                       const char* where);
/* A command's last argument given as pieces of memory, sent as they lie (rawio.c). */
typedef struct { const void* data; size_t len; } sf_part;
/* Like sf_command, the last argument being parts (argv[argc-1] is not read). */
SRError sf_command_parts(sf_client* c, const char* key, size_t key_len, int argc,
                         const char** argv, const size_t* argvlen, const sf_part* parts,
                         size_t n_parts, redisReply** out, const char* where);
/* Sends such a command on a node without reading its reply; then the reply, via hiredis. */
SRError sf_send_parts(sf_client* c, size_t node, int argc, const char** argv,
                      const size_t* argvlen, const sf_part* parts, size_t n_parts,
                      const char* where);
SRError sf_command_parts_on(sf_client* c, size_t node, int argc, const char** argv,
                            const size_t* argvlen, const sf_part* parts, size_t n_parts,
                            redisReply** out, const char* where);
/* Sends n commands on a node (their replies are then read with redisGetReply). */
SRError sf_send_pipeline(sf_client* c, size_t node, size_t n, const int* argcs,
                         const char*** argvs, const size_t** argvlens, const char* where);
/* A reply that is an error becomes SRDatabaseError with its text. */
SRError sf_reply_error(const redisReply* r, const char* where);
bool sf_reply_is_error(const redisReply* r, const char* prefix);

/* ---- prefixing (prefix.c) ---- */
void sf_prefix_init(sf_client* c);
void sf_prefix_free(sf_client* c);
/* malloc'ed stored name for writing / reading. */
char* sf_key_out(const sf_client* c, sf_kind kind, const char* name, size_t len);
char* sf_key_in(const sf_client* c, sf_kind kind, const char* name, size_t len);
SRError sf_check_name(const char* name, size_t len, const char* what, const char* where);

/* ---- tensor codec and layouts (tensor.c) ---- */
#define SF_MAX_NDIM 64
typedef struct {
    char typestr[9]; SRTensorType type; size_t itemsize; bool swap; bool chunked;
    size_t ndim; uint64_t shape[SF_MAX_NDIM]; size_t header_len; size_t data_len;
} sf_header;
size_t sf_type_size(SRTensorType t);
const char* sf_type_typestr(SRTensorType t);
const char* sf_type_name(SRTensorType t);
size_t sf_header_encode(char* out, SRTensorType t, const size_t* dims, size_t ndim, bool chunked);
/* The same with a dtype given as its typestr (one without an SRTensorType, kept from a read). */
size_t sf_header_encode_typestr(char* out, const char* typestr, const size_t* dims, size_t ndim,
                                bool chunked);
size_t sf_header_size(size_t ndim);
SRError sf_header_decode(const char* buf, size_t len, sf_header* h, const char* name,
                         const char* where);
/* Copy caller data in any layout into row-major bytes (dst holds prod(dims)*itemsize). */
SRError sf_pack(void* dst, const void* src, const size_t* dims, size_t ndim, size_t itemsize,
                SRMemoryLayout layout, const char* where);
/* Copy row-major bytes into caller memory of the given layout. */
SRError sf_unpack(void* dst, const void* src, const size_t* dims, size_t ndim, size_t itemsize,
                  SRMemoryLayout layout, const char* where);
/* Allocate memory of a layout holding row-major src; *out is one malloc block. */
SRError sf_alloc_layout(void** out, const void* src, const uint64_t* shape, size_t ndim,
                        size_t itemsize, SRMemoryLayout layout, const char* where);
/* SmartRedis's unpack checks: type and dims against the stored header. */
SRError sf_check_unpack(const sf_header* h, const size_t* dims, size_t n_dims, SRTensorType type,
                        SRMemoryLayout layout, const char* name, const char* where);
void sf_swap_bytes(void* data, size_t count, size_t itemsize);

/* A tensor read from the store: header plus row-major data (malloc'ed). */
typedef struct { sf_header h; char* data; } sf_tensor;
SRError sf_read_tensor(sf_client* c, const char* key, const char* name, sf_tensor* out,
                       const char* where);
/* Decode a whole GET reply of a plain tensor value (copies data). */
SRError sf_tensor_from_value(const char* value, size_t len, const char* name, sf_tensor* out,
                             const char* where);
/* Whether a tensor of header h may be read straight into the caller's memory. */
typedef bool (*sf_fits_fn)(const sf_header* h, void* arg);
/* GET of a plain tensor on node, its data read straight into dest (when fits says so; then
 * *in_dest) or into out->data (malloc'ed, byte order fixed). A reply that is no plain tensor
 * value (nil, an error, a redirection, another value) comes back whole in *other. *handled is
 * false when the connection has commands in flight and hiredis's way must be taken. */
SRError sf_get_direct(sf_client* c, size_t node, const char* key, size_t klen, const char* name,
                      sf_tensor* out, sf_fits_fn fits, void* arg, void* dest, bool* in_dest,
                      redisReply** other, bool* handled, const char* where);
/* sf_read_tensor reading into dest where fits allows (*in_dest then; out->data is NULL). */
SRError sf_read_tensor_into(sf_client* c, const char* key, const char* name, sf_tensor* out,
                            sf_fits_fn fits, void* arg, void* dest, bool* in_dest,
                            const char* where);
SRError sf_write_tensor(sf_client* c, const char* key, const char* name, const void* rowmajor,
                        SRTensorType type, const size_t* dims, size_t ndim, const char* where);

SRError sf_exists(sf_client* c, const char* key, bool* exists, const char* where);
SRError sf_poll_key(sf_client* c, const char* key, int poll_ms, int num_tries, bool* exists,
                    const char* where);
/* A tries argument meaning "ask once, no polling" (the *_exists calls); poll_* pass their
 * num_tries clamped at 0, so never this. */
#define SF_NO_POLL INT_MIN

/* ---- chunked tensors (chunked.c) ---- */
SRError sf_read_chunked(sf_client* c, const char* key, const char* name, sf_tensor* out,
                        const char* where);
SRError sf_write_chunked(sf_client* c, const char* key, const char* header, size_t header_len,
                         const char* data, size_t data_len, const char* where);

/* ---- JSON (json.c): a small strict reader and writer ---- */
typedef enum { SJ_NULL, SJ_BOOL, SJ_NUM, SJ_STR, SJ_ARR, SJ_OBJ } sj_type;
typedef struct sj_value {
    sj_type type;
    bool b; double num; bool is_int; int64_t i; uint64_t u; bool neg; char* raw_num;
    char* str; size_t str_len;
    struct sj_value* items; char** keys; size_t n;  /* arrays and objects */
} sj_value;
bool sj_parse(const char* text, size_t len, sj_value* out, char* err, size_t err_len);
void sj_free(sj_value* v);
const sj_value* sj_get(const sj_value* obj, const char* key);
void sj_write_string(sf_buf* b, const char* s, size_t len);
void sj_write_double(sf_buf* b, double d);

/* ---- datasets (dataset.c) ---- */
typedef struct {
    char* name; SRMetaDataType type; size_t n;
    void* values;                  /* scalars: n of the type's C type */
    char** strings; size_t* lengths;
} sf_meta;
typedef struct { char* name; SRTensorType type; size_t ndim; size_t* dims; char* data;
                 size_t nbytes;
                 char typestr[9]; /* a dtype with no SRTensorType, as read ("" otherwise) */
} sf_dtensor;
typedef struct sf_dataset {
    sf_object obj;
    sf_dtensor* tensors; size_t n_tensors;
    sf_meta* meta; size_t n_meta;
    void** owned; size_t n_owned, cap_owned;
    char* description;
} sf_dataset;
SRError sf_dataset_check(const void* d, const char* where, sf_dataset** out);
SRError sf_dataset_take_tensor(sf_dataset* d, const char* name, size_t len, SRTensorType type,
                               const uint64_t* shape, size_t ndim, char* data, size_t nbytes,
                               const char* where);
size_t sf_meta_size(SRMetaDataType t);
SRError sf_meta_append_scalar(sf_dataset* d, const char* name, size_t len, const void* value,
                              SRMetaDataType type, const char* where);
SRError sf_meta_append_string(sf_dataset* d, const char* name, size_t len, const char* s,
                              size_t s_len, const char* where);
SRError sf_dataset_encode(const sf_dataset* d, sf_buf* out, const char* where);
SRError sf_dataset_decode(const char* value, size_t len, const char* name, sf_dataset** out,
                          const char* where);
char* sf_dataset_key(const char* stored, size_t len);
SRError sf_fetch_dataset(sf_client* c, const char* stored, sf_dataset** out, const char* where);

SRError sf_copy_value(sf_client* c, const char* src, const char* dest, const char* what,
                      const char* where);

/* ---- models and runs (models.c, runs.c) ---- */
SRError sf_store_record(sf_client* c, const char* stored, const char* backend, const char* device,
                        int batch, int min_batch, int min_timeout, const char* tag, size_t tag_len,
                        const char* data, size_t data_len, const char* where);
SRError sf_submit(sf_client* c, size_t node, const char* op, const char* model,
                  const char* const* inputs, size_t n_in, const char* const* outputs, size_t n_out,
                  const char* function, int timeout_ms, const char* where);

/* ---- logging (log.c) ---- */
void sf_log_line(const char* name, const char* level, const char* msg, size_t len);

/* ---- config options (configoptions.c) ---- */
const char* sf_config_lookup(void* cfg, const char* name, size_t len);
const char* sf_config_suffix(void* cfg);
SRError sf_config_validate(void* cfg, const char* where);

/* ---- misc ---- */
void sf_sleep_ms(int ms);
bool sf_random_hex(char* out, size_t n_bytes);  /* writes 2n hex chars + NUL */
int sf_env_ms(const char* const* names, size_t n, int default_ms, const char* where, SRError* rc);

#pragma GCC visibility pop

#endif /* SMARTFLOW_INTERNAL_H */
