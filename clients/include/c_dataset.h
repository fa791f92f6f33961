/*
 * smartflow C client: SmartRedis 0.6.x's C DataSet API.
 *
 * A DataSet is named tensors plus metadata fields, stored by put_dataset as one smartflow
 * dataset value (docs/wire-format.md). Memory handed out by a get_* call of a dataset
 * belongs to the dataset and stays valid until DeallocateDataSet.
 */
#ifndef SMARTREDIS_C_DATASET_H
#define SMARTREDIS_C_DATASET_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "sr_enums.h"
#include "sr_error.h"

#ifdef __cplusplus
extern "C" {
#endif

SRError CDataSet(const char* name,
                 const size_t name_length,
                 void** new_dataset);

SRError DeallocateDataSet(void** dataset);

/* The data is copied into the dataset. */
SRError add_tensor(void* dataset,
                   const char* name,
                   const size_t name_length,
                   void* data,
                   const size_t* dims,
                   const size_t n_dims,
                   const SRTensorType type,
                   const SRMemoryLayout mem_layout);

/* Appends *data (of the C type matching type) to field name; a field keeps its first type. */
SRError add_meta_scalar(void* dataset,
                        const char* name,
                        const size_t name_length,
                        const void* data,
                        const SRMetaDataType type);

SRError add_meta_string(void* dataset,
                        const char* name,
                        const size_t name_length,
                        const char* data,
                        const size_t data_length);

SRError get_dataset_tensor(void* dataset,
                           const char* name,
                           const size_t name_length,
                           void** data,
                           size_t** dims,
                           size_t* n_dims,
                           SRTensorType* type,
                           const SRMemoryLayout mem_layout);

SRError unpack_dataset_tensor(void* dataset,
                              const char* name,
                              const size_t name_length,
                              void* data,
                              const size_t* dims,
                              const size_t n_dims,
                              const SRTensorType type,
                              const SRMemoryLayout mem_layout);

SRError get_meta_scalars(void* dataset,
                         const char* name,
                         const size_t name_length,
                         size_t* length,
                         SRMetaDataType* type,
                         void** scalar_data);

SRError get_meta_strings(void* dataset,
                         const char* name,
                         const size_t name_length,
                         char*** data,
                         size_t* n_strings,
                         size_t** lengths);

SRError get_tensor_names(void* dataset, char*** data, size_t* n_strings, size_t** lengths);

SRError get_tensor_type(void* dataset, const char* name, size_t name_len, SRTensorType* ttype);

/* *dims is the caller's buffer of *ndims slots; on return *ndims is the tensor's rank. A
 * buffer too small gives SRBadAllocError (with *ndims set to the needed size). */
SRError get_tensor_dims(void* dataset, const char* name, size_t name_len,
                        size_t** dims, size_t* ndims);

SRError get_metadata_field_names(void* dataset, char*** data, size_t* n_strings,
                                 size_t** lengths);

SRError get_metadata_field_type(void* dataset, const char* name, size_t name_len,
                                SRMetaDataType* mdtype);

/* A description of the dataset (owned by the dataset). */
const char* dataset_to_string(void* dataset);

/* smartflow extension: the dataset's name as created or as stored (owned by the dataset, not
 * NUL-terminated in general: use *name_length). SmartRedis's C API has no such call; the C++
 * DataSet::get_name of a dataset from an aggregation list needs one. */
SRError get_dataset_name(void* dataset, const char** name, size_t* name_length);

#ifdef __cplusplus
}
#endif

#endif /* SMARTREDIS_C_DATASET_H */
