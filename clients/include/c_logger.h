/*
 * smartflow C client: SmartRedis 0.6.x's C logging API.
 *
 * context is a client, a DataSet or a LogContext (its name prefixes the line), or, for the
 * *_string variants, a string. A line is written when level <= SR_LOG_LEVEL (QUIET, INFO
 * (default), DEBUG, DEVELOPER) to SR_LOG_FILE (default: stdout), and a client context also
 * appends it to the store's log records, so that smartflow's get_log_records sees it.
 */
#ifndef SMARTREDIS_C_LOGGER_H
#define SMARTREDIS_C_LOGGER_H

#include <stddef.h>
#include <stdlib.h>
#include "sr_enums.h"

#ifdef __cplusplus
extern "C" {
#endif

/* As SmartRedis: C and Fortran reach the exception-free variants by the plain names. */
#ifndef __cplusplus
#define log_data log_data_noexcept
#define log_warning log_warning_noexcept
#define log_error log_error_noexcept
#define log_data_string log_data_noexcept_string
#define log_warning_string log_warning_noexcept_string
#define log_error_string log_error_noexcept_string
#endif

void log_data_noexcept(const void* context, SRLoggingLevel level,
                       const char* data, size_t data_len);
void log_warning_noexcept(const void* context, SRLoggingLevel level,
                          const char* data, size_t data_len);
void log_error_noexcept(const void* context, SRLoggingLevel level,
                        const char* data, size_t data_len);

void log_data_noexcept_string(const char* context, size_t context_len, SRLoggingLevel level,
                              const char* data, size_t data_len);
void log_warning_noexcept_string(const char* context, size_t context_len,
                                 SRLoggingLevel level, const char* data, size_t data_len);
void log_error_noexcept_string(const char* context, size_t context_len, SRLoggingLevel level,
                               const char* data, size_t data_len);

#ifdef __cplusplus
}
#endif

#endif /* SMARTREDIS_C_LOGGER_H */
