/*
 * smartflow native clients: SmartRedis's SRObject for C++, the base of everything that can be
 * a context for log lines (Client, DataSet, LogContext).
 *
 * Header-only over the C logging API (c_logger.h): a line goes where the C library sends it
 * (SR_LOG_LEVEL, SR_LOG_FILE), so C, C++ and Fortran programs log alike.
 */
#ifndef SMARTREDIS_SROBJECT_H
#define SMARTREDIS_SROBJECT_H

#ifdef __cplusplus
#include <stdlib.h>
#include <string>
#include <vector>
#include "sr_enums.h"
#include "c_logger.h"

namespace SmartRedis {

/*!
*   \brief A named context for log lines.
*/
class SRObject
{
    public:
        /*!
        *   \brief An object whose log lines are prefixed with \p logging_name
        */
        SRObject(const std::string& logging_name) : _lname(logging_name) {}

        SRObject(const SRObject&) = default;
        SRObject& operator=(const SRObject&) = default;
        SRObject(SRObject&&) = default;
        SRObject& operator=(SRObject&&) = default;
        virtual ~SRObject() = default;

        /*!
        *   \brief Log \p data if the configured logging level is at least \p level
        */
        virtual void log_data(SRLoggingLevel level, const std::string& data) const
        {
            ::log_data_noexcept_string(_lname.data(), _lname.size(), level,
                                       data.data(), data.size());
        }

        /*!
        *   \brief Log \p data as a warning if the logging level is at least \p level
        */
        virtual void log_warning(SRLoggingLevel level, const std::string& data) const
        {
            ::log_warning_noexcept_string(_lname.data(), _lname.size(), level,
                                          data.data(), data.size());
        }

        /*!
        *   \brief Log \p data as an error if the logging level is at least \p level
        */
        virtual void log_error(SRLoggingLevel level, const std::string& data) const
        {
            ::log_error_noexcept_string(_lname.data(), _lname.size(), level,
                                        data.data(), data.size());
        }

        /*!
        *   \brief The name that prefixes this object's log lines
        */
        virtual std::string get_context() const { return _lname; }

    protected:
        /*! \brief The name that prefixes log lines */
        std::string _lname;
};

} // namespace SmartRedis

#endif // __cplusplus
#endif // SMARTREDIS_SROBJECT_H
