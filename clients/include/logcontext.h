/*
 * smartflow native clients: SmartRedis's C++ LogContext, a named context for log lines that is
 * neither a Client nor a DataSet. Header-only over the C logging API (srobject.h).
 */
#ifndef SMARTREDIS_LOGCONTEXT_H
#define SMARTREDIS_LOGCONTEXT_H

#ifdef __cplusplus
#include <string>
#include "srobject.h"

namespace SmartRedis {

/*!
*   \brief A context whose log lines are prefixed with its name
*/
class LogContext : public SRObject
{
    public:
        /*! \brief A context called \p context */
        LogContext(const std::string& context) : SRObject(context) {}

        virtual ~LogContext() = default;
};

} // namespace SmartRedis

#endif // __cplusplus
#endif // SMARTREDIS_LOGCONTEXT_H
