/*
 * smartflow C client: SmartRedis 0.6.x's C LogContext API (a named context for log_* calls).
 */
#ifndef SMARTREDIS_C_LOGCONTEXT_H
#define SMARTREDIS_C_LOGCONTEXT_H

#include <stddef.h>
#include "sr_enums.h"
#include "sr_error.h"

#ifdef __cplusplus
extern "C" {
#endif

SRError SmartRedisCLogContext(const char* context,
                              const size_t context_length,
                              void** new_logcontext);

SRError DeallocateLogContext(void** logcontext);

#ifdef __cplusplus
}
#endif

#endif /* SMARTREDIS_C_LOGCONTEXT_H */
