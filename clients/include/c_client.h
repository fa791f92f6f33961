/*
 * smartflow C client: SmartRedis 0.6.x's C API (same names, argument order and types) over a
 * smartflow store (see docs/wire-format.md).
 *
 * Every function returns an SRError; on failure SRGetLastError() says why. Names are
 * (pointer, length) pairs: the length excludes any terminating NUL and the bytes need not be
 * NUL-terminated. Memory handed out by get_* calls of a client (get_tensor, get_model,
 * get_script, client_to_string) belongs to the client and stays valid until DeleteCClient.
 *
 * Environment: SSDB[_<id>] (comma-separated "host:port" or "unix:///path" addresses),
 * SR_DB_TYPE[_<id>] (Standalone | Clustered: a hint, the store is probed), SSDB_PASSWORD[_<id>],
 * SSKEYIN / SSKEYOUT (ensemble prefixes), as the Python client: SMARTFLOW_CONNECT_TIMEOUT or
 * SR_CONN_TIMEOUT (seconds, default 5), SMARTFLOW_COMMAND_TIMEOUT or SR_CMD_TIMEOUT (seconds,
 * default 60), SMARTFLOW_RUN_TIMEOUT (seconds a run_model waits for its worker, default 60),
 * SMARTFLOW_CHUNK_BYTES (tensor values over this many bytes are stored chunked; default 512 MiB),
 * SR_LOG_FILE / SR_LOG_LEVEL (QUIET, INFO, DEBUG, DEVELOPER).
 */
#ifndef SMARTREDIS_C_CLIENT_H
#define SMARTREDIS_C_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include "sr_enums.h"
#include "sr_error.h"
#include "c_configoptions.h"
#include "c_dataset.h"
#include "c_logger.h"
#include "c_logcontext.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- construction ------------------------------------------------------------------------ */

/* A client of the default store (SSDB, SR_DB_TYPE, SSDB_PASSWORD). */
SRError SimpleCreateClient(const char* logger_name,
                           const size_t logger_name_length,
                           void** new_client);

/* A client of the store that config_options (create_configoptions_from_environment) names;
 * config_options may be NULL for the default store. */
SRError CreateClient(void* config_options,
                     const char* logger_name,
                     const size_t logger_name_length,
                     void** new_client);

/* Deprecated SmartRedis constructor; cluster is only a hint (the store is probed). */
SRError SmartRedisCClient(bool cluster,
                          const char* logger_name,
                          const size_t logger_name_length,
                          void** new_client);

/* Closes the connections and frees everything the client handed out; *c_client = NULL. */
SRError DeleteCClient(void** c_client);

/* ---- datasets ---------------------------------------------------------------------------- */

SRError put_dataset(void* c_client, void* dataset);

/* *dataset is a new DataSet the caller frees with DeallocateDataSet. */
SRError get_dataset(void* c_client,
                    const char* name,
                    const size_t name_length,
                    void** dataset);

SRError rename_dataset(void* c_client,
                       const char* old_name,
                       const size_t old_name_length,
                       const char* new_name,
                       const size_t new_name_length);

SRError copy_dataset(void* c_client,
                     const char* src_name,
                     const size_t src_name_length,
                     const char* dest_name,
                     const size_t dest_name_length);

SRError delete_dataset(void* c_client,
                       const char* name,
                       const size_t name_length);

/* ---- tensors ----------------------------------------------------------------------------- */

SRError put_tensor(void* c_client,
                   const char* name,
                   const size_t name_length,
                   void* data,
                   const size_t* dims,
                   const size_t n_dims,
                   SRTensorType type,
                   SRMemoryLayout mem_layout);

/* Data and dims are allocated by the client and valid until DeleteCClient. */
SRError get_tensor(void* c_client,
                   const char* name,
                   const size_t name_length,
                   void** data,
                   size_t** dims,
                   size_t* n_dims,
                   SRTensorType* type,
                   SRMemoryLayout mem_layout);

/* Into caller memory. With SRMemLayoutContiguous, dims may also be a single dimension equal
 * to the tensor's element count. */
SRError unpack_tensor(void* c_client,
                      const char* name,
                      const size_t name_length,
                      void* result,
                      const size_t* dims,
                      const size_t n_dims,
                      SRTensorType type,
                      SRMemoryLayout mem_layout);

SRError rename_tensor(void* c_client,
                      const char* old_name,
                      const size_t old_name_length,
                      const char* new_name,
                      const size_t new_name_length);

SRError delete_tensor(void* c_client,
                      const char* name,
                      const size_t name_length);

SRError copy_tensor(void* c_client,
                    const char* src_name,
                    const size_t src_name_length,
                    const char* dest_name,
                    const size_t dest_name_length);

/* ---- models and scripts ------------------------------------------------------------------ */

/* True for "TF" and "TFLITE" (SmartRedis helper; kept for source compatibility). */
bool _isTensorFlow(const char* backend);

/* SmartRedis parameter-check helpers, kept for source compatibility: they record an
 * SRParameterError (see SRGetLastError) when a pointer is NULL. */
void _check_params_set_model(void* c_client,
                             const char* name,
                             const char* backend,
                             const char** inputs,
                             const size_t* input_lengths,
                             const size_t n_inputs,
                             const char** outputs,
                             const size_t* output_lengths,
                             const size_t n_outputs);

/* smartflow runs ONNX models: backend "ONNX". "TORCH", "TF" and "TFLITE" give SRRuntimeError
 * (they need RedisAI). inputs/outputs (TF node names) are ignored for ONNX. */
SRError set_model_from_file(void* c_client,
                            const char* name,
                            const size_t name_length,
                            const char* model_file,
                            const size_t model_file_length,
                            const char* backend,
                            const size_t backend_length,
                            const char* device,
                            const size_t device_length,
                            const int batch_size,
                            const int min_batch_size,
                            const int min_batch_timeout,
                            const char* tag,
                            const size_t tag_length,
                            const char** inputs,
                            const size_t* input_lengths,
                            const size_t n_inputs,
                            const char** outputs,
                            const size_t* output_lengths,
                            const size_t n_outputs);

SRError set_model_from_file_multigpu(void* c_client,
                                     const char* name,
                                     const size_t name_length,
                                     const char* model_file,
                                     const size_t model_file_length,
                                     const char* backend,
                                     const size_t backend_length,
                                     const int first_gpu,
                                     const int num_gpus,
                                     const int batch_size,
                                     const int min_batch_size,
                                     const int min_batch_timeout,
                                     const char* tag,
                                     const size_t tag_length,
                                     const char** inputs,
                                     const size_t* input_lengths,
                                     const size_t n_inputs,
                                     const char** outputs,
                                     const size_t* output_lengths,
                                     const size_t n_outputs);

SRError set_model(void* c_client,
                  const char* name,
                  const size_t name_length,
                  const char* model,
                  const size_t model_length,
                  const char* backend,
                  const size_t backend_length,
                  const char* device,
                  const size_t device_length,
                  const int batch_size,
                  const int min_batch_size,
                  const int min_batch_timeout,
                  const char* tag,
                  const size_t tag_length,
                  const char** inputs,
                  const size_t* input_lengths,
                  const size_t n_inputs,
                  const char** outputs,
                  const size_t* output_lengths,
                  const size_t n_outputs);

SRError set_model_multigpu(void* c_client,
                           const char* name,
                           const size_t name_length,
                           const char* model,
                           const size_t model_length,
                           const char* backend,
                           const size_t backend_length,
                           const int first_gpu,
                           const int num_gpus,
                           const int batch_size,
                           const int min_batch_size,
                           const int min_batch_timeout,
                           const char* tag,
                           const size_t tag_length,
                           const char** inputs,
                           const size_t* input_lengths,
                           const size_t n_inputs,
                           const char** outputs,
                           const size_t* output_lengths,
                           const size_t n_outputs);

/* The stored model bytes; valid until DeleteCClient. */
SRError get_model(void* c_client,
                  const char* name,
                  const size_t name_length,
                  size_t* model_length,
                  const char** model);

/* smartflow scripts are Python source (backend PYTHON), run by the inference workers. */
SRError set_script_from_file(void* c_client,
                             const char* name,
                             const size_t name_length,
                             const char* device,
                             const size_t device_length,
                             const char* script_file,
                             const size_t script_file_length);

SRError set_script_from_file_multigpu(void* c_client,
                                      const char* name,
                                      const size_t name_length,
                                      const char* script_file,
                                      const size_t script_file_length,
                                      const int first_gpu,
                                      const int num_gpus);

SRError set_script(void* c_client,
                   const char* name,
                   const size_t name_length,
                   const char* device,
                   const size_t device_length,
                   const char* script,
                   const size_t script_length);

SRError set_script_multigpu(void* c_client,
                            const char* name,
                            const size_t name_length,
                            const char* script,
                            const size_t script_length,
                            const int first_gpu,
                            const int num_gpus);

/* The stored script source; valid until DeleteCClient. */
SRError get_script(void* c_client,
                   const char* name,
                   const size_t name_length,
                   const char** script,
                   size_t* script_length);

void _check_params_run_script(void* c_client,
                              const char* name,
                              const char* function,
                              const char** inputs,
                              const size_t* input_lengths,
                              const size_t n_inputs,
                              const char** outputs,
                              const size_t* output_lengths,
                              const size_t n_outputs);

SRError run_script(void* c_client,
                   const char* name,
                   const size_t name_length,
                   const char* function,
                   const size_t function_length,
                   const char** inputs,
                   const size_t* input_lengths,
                   const size_t n_inputs,
                   const char** outputs,
                   const size_t* output_lengths,
                   const size_t n_outputs);

SRError run_script_multigpu(void* c_client,
                            const char* name,
                            const size_t name_length,
                            const char* function,
                            const size_t function_length,
                            const char** inputs,
                            const size_t* input_lengths,
                            const size_t n_inputs,
                            const char** outputs,
                            const size_t* output_lengths,
                            const size_t n_outputs,
                            const int offset,
                            const int first_gpu,
                            const int num_gpus);

void _check_params_run_model(void* c_client,
                             const char* name,
                             const char** inputs,
                             const size_t* input_lengths,
                             const size_t n_inputs,
                             const char** outputs,
                             const size_t* output_lengths,
                             const size_t n_outputs);

SRError run_model(void* c_client,
                  const char* name,
                  const size_t name_length,
                  const char** inputs,
                  const size_t* input_lengths,
                  const size_t n_inputs,
                  const char** outputs,
                  const size_t* output_lengths,
                  const size_t n_outputs);

SRError run_model_multigpu(void* c_client,
                           const char* name,
                           const size_t name_length,
                           const char** inputs,
                           const size_t* input_lengths,
                           const size_t n_inputs,
                           const char** outputs,
                           const size_t* output_lengths,
                           const size_t n_outputs,
                           const int offset,
                           const int first_gpu,
                           const int num_gpus);

SRError delete_model(void* c_client,
                     const char* name,
                     const size_t name_length);

SRError delete_model_multigpu(void* c_client,
                              const char* name,
                              const size_t name_length,
                              const int first_gpu,
                              const int num_gpus);

SRError delete_script(void* c_client,
                      const char* name,
                      const size_t name_length);

SRError delete_script_multigpu(void* c_client,
                               const char* name,
                               const size_t name_length,
                               const int first_gpu,
                               const int num_gpus);

/* ---- existence and polling --------------------------------------------------------------- */

/* key_exists / poll_key take the key as stored (never prefixed). */
SRError key_exists(void* c_client,
                   const char* key,
                   const size_t key_length,
                   bool* exists);

SRError tensor_exists(void* c_client,
                      const char* name,
                      const size_t name_length,
                      bool* exists);

SRError model_exists(void* c_client,
                     const char* name,
                     const size_t name_length,
                     bool* exists);

SRError dataset_exists(void* c_client,
                       const char* name,
                       const size_t name_length,
                       bool* exists);

SRError poll_key(void* c_client,
                 const char* key,
                 const size_t key_length,
                 const int poll_frequency_ms,
                 const int num_tries,
                 bool* exists);

SRError poll_model(void* c_client,
                   const char* name,
                   const size_t name_length,
                   const int poll_frequency_ms,
                   const int num_tries,
                   bool* exists);

SRError poll_tensor(void* c_client,
                    const char* name,
                    const size_t name_length,
                    const int poll_frequency_ms,
                    const int num_tries,
                    bool* exists);

SRError poll_dataset(void* c_client,
                     const char* name,
                     const size_t name_length,
                     const int poll_frequency_ms,
                     const int num_tries,
                     bool* exists);

/* ---- ensemble prefixing ------------------------------------------------------------------ */

/* source_id must be one of the SSKEYIN entries. */
SRError set_data_source(void* c_client,
                        const char* source_id,
                        const size_t source_id_length);

SRError use_tensor_ensemble_prefix(void* c_client, bool use_prefix);
SRError use_dataset_ensemble_prefix(void* c_client, bool use_prefix);
SRError use_model_ensemble_prefix(void* c_client, bool use_prefix);
SRError use_list_ensemble_prefix(void* c_client, bool use_prefix);

/* ---- aggregation lists ------------------------------------------------------------------- */

/* The dataset must already be in the store (put_dataset). */
SRError append_to_list(void* c_client, const char* list_name,
                       const size_t list_name_length, const void* dataset);

SRError delete_list(void* c_client, const char* list_name,
                    const size_t list_name_length);

SRError copy_list(void* c_client,
                  const char* src_name, const size_t src_name_length,
                  const char* dest_name, const size_t dest_name_length);

SRError rename_list(void* c_client,
                    const char* src_name, const size_t src_name_length,
                    const char* dest_name, const size_t dest_name_length);

SRError get_list_length(void* c_client, const char* list_name,
                        const size_t list_name_length, int* result_length);

SRError poll_list_length(void* c_client, const char* name,
                         const size_t name_length, int list_length,
                         int poll_frequency_ms, int num_tries, bool* poll_result);

SRError poll_list_length_gte(void* c_client, const char* name,
                             const size_t name_length, int list_length,
                             int poll_frequency_ms, int num_tries,
                             bool* poll_result);

SRError poll_list_length_lte(void* c_client, const char* name,
                             const size_t name_length, int list_length,
                             int poll_frequency_ms, int num_tries,
                             bool* poll_result);

/* *datasets is a malloc'ed array of *num_datasets new DataSets: the caller frees each with
 * DeallocateDataSet and the array with free(). An empty or missing list gives 0 datasets. */
SRError get_datasets_from_list(void* c_client, const char* list_name,
                               const size_t list_name_length,
                               void*** datasets, size_t* num_datasets);

/* LRANGE semantics: both ends included, negative indices count from the end. */
SRError get_dataset_list_range(void* c_client,
                               const char* list_name,
                               const size_t list_name_length,
                               const int start_index,
                               const int end_index,
                               void*** datasets,
                               size_t* num_datasets);

/* Fills a caller array of (end - start + 1) slots with new DataSets (for Fortran). */
SRError _get_dataset_list_range_allocated(void* c_client,
                                          const char* list_name,
                                          const size_t list_name_length,
                                          const int start_index,
                                          const int end_index,
                                          void** datasets);

/* A description of the client (owned by the client). */
const char* client_to_string(void* c_client);

/* ==== smartflow extensions (not in SmartRedis) ============================================ */

/* Put n tensors in one pipelined round trip per shard. Tensor i is names[i] (name_lengths[i]),
 * data[i], dims[i][0..n_dims[i]), types[i]; every tensor has the layout mem_layout.
 * Tensors over the chunk limit are written chunked, one by one. */
SRError put_tensors(void* c_client,
                    const char* const* names,
                    const size_t* name_lengths,
                    const size_t n_tensors,
                    void* const* data,
                    const size_t* const* dims,
                    const size_t* n_dims,
                    const SRTensorType* types,
                    SRMemoryLayout mem_layout);

/* Unpack n tensors (one pipelined round trip per shard) into caller memory results[i], with
 * the same checks as unpack_tensor. */
SRError unpack_tensors(void* c_client,
                       const char* const* names,
                       const size_t* name_lengths,
                       const size_t n_tensors,
                       void* const* results,
                       const size_t* const* dims,
                       const size_t* n_dims,
                       const SRTensorType* types,
                       SRMemoryLayout mem_layout);

/* RedisAI-only: smartflow has no RedisAI, so this returns SRRuntimeError with a message. */
SRError get_ai_info(void* c_client,
                    const char* address,
                    const size_t address_length,
                    const char* key,
                    const size_t key_length,
                    const bool reset_stat);

/* RedisAI's model chunking does not apply to smartflow (a model is one value): accepted and
 * ignored for a positive chunk_size, SRParameterError otherwise. */
SRError set_model_chunk_size(void* c_client, const int chunk_size);

#ifdef __cplusplus
}
#endif

#endif /* SMARTREDIS_C_CLIENT_H */
