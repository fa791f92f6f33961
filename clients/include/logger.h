/*
 * smartflow native clients: SmartRedis's C++ free logging functions (log_data, log_warning,
 * log_error with a context that is a name or an SRObject), header-only over the C logging API.
 * SmartRedis's Logger singleton is not provided: the C library owns the log configuration
 * (SR_LOG_LEVEL, SR_LOG_FILE).
 */
#ifndef SMARTREDIS_LOGGER_H
#define SMARTREDIS_LOGGER_H

#ifdef __cplusplus
#include <string>
#include "sr_enums.h"
#include "srobject.h"
#include "c_logger.h"

namespace SmartRedis {

/*! \brief Log \p data under the name \p context if the logging level is at least \p level */
inline void log_data(const std::string& context, SRLoggingLevel level, const std::string& data)
{
    ::log_data_noexcept_string(context.data(), context.size(), level, data.data(), data.size());
}

/*! \brief Log a warning under the name \p context */
inline void log_warning(const std::string& context, SRLoggingLevel level,
                        const std::string& data)
{
    ::log_warning_noexcept_string(context.data(), context.size(), level, data.data(),
                                  data.size());
}

/*! \brief Log an error under the name \p context */
inline void log_error(const std::string& context, SRLoggingLevel level, const std::string& data)
{
    ::log_error_noexcept_string(context.data(), context.size(), level, data.data(),
                                data.size());
}

/*! \brief Log \p data with \p context (a Client, DataSet or LogContext) */
inline void log_data(const SRObject* context, SRLoggingLevel level, const std::string& data)
{
    context->log_data(level, data);
}

/*! \brief Log a warning with \p context */
inline void log_warning(const SRObject* context, SRLoggingLevel level, const std::string& data)
{
    context->log_warning(level, data);
}

/*! \brief Log an error with \p context */
inline void log_error(const SRObject* context, SRLoggingLevel level, const std::string& data)
{
    context->log_error(level, data);
}

} // namespace SmartRedis

#endif // __cplusplus
#endif // SMARTREDIS_LOGGER_H
