/*
 * smartflow C client: SmartRedis 0.6.x's C ConfigOptions API.
 *
 * Options are read from the environment: option "X" of a ConfigOptions made with db_suffix
 * "s" is the variable X_s (X when the suffix is empty). CreateClient uses SSDB, SR_DB_TYPE and
 * SSDB_PASSWORD through it. Overrides apply to that ConfigOptions object only.
 */
#ifndef SMARTREDIS_C_CONFIGOPTIONS_H
#define SMARTREDIS_C_CONFIGOPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "sr_enums.h"
#include "sr_error.h"

#ifdef __cplusplus
extern "C" {
#endif

SRError create_configoptions_from_environment(const char* db_suffix,
                                              const size_t db_suffix_length,
                                              void** new_configoptions);

/* smartflow extension: frees a ConfigOptions; *configoptions = NULL. CreateClient only reads
 * the options and keeps no reference, so the caller owns them and may free them at once. */
SRError DeallocateConfigOptions(void** configoptions);

/* SRKeyError when the option is not set; SRParameterError when it is not an integer. */
SRError get_integer_option(void* c_cfgopts,
                           const char* option_name,
                           size_t option_name_len,
                           int64_t* result);

/* *result is owned by the ConfigOptions object. */
SRError get_string_option(void* c_cfgopts,
                          const char* option_name,
                          size_t option_name_len,
                          char** result,
                          size_t* result_len);

SRError is_configured(void* c_cfgopts,
                      const char* option_name,
                      size_t option_name_len,
                      bool* cfg_result);

SRError override_integer_option(void* c_cfgopts,
                                const char* option_name,
                                size_t option_name_len,
                                int64_t value);

SRError override_string_option(void* c_cfgopts,
                               const char* option_name,
                               size_t option_name_len,
                               const char* value,
                               size_t value_len);

#ifdef __cplusplus
}
#endif

#endif /* SMARTREDIS_C_CONFIGOPTIONS_H */
