/*
 * smartflow: the last error of the calling thread, as SmartRedis's SRGetLastError().
 *
 * Every C API call that fails records a message (never containing the store password) in
 * thread-local storage; SRGetLastError() returns it until the thread's next failing call.
 * The returned pointer stays valid until the next call on this thread that records an error.
 */
#ifndef SMARTFLOW_SR_ERROR_H
#define SMARTFLOW_SR_ERROR_H

#include "sr_enums.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Text of this thread's last error ("" when none). */
const char* SRGetLastError(void);

/* Where the last error was raised ("smartflow:<function>"), or "unavailable". */
const char* SRGetLastErrorLocation(void);

/* smartflow extension: the SRError code of this thread's last error (SRNoError when none). */
SRError SRGetLastErrorCode(void);

/* smartflow extension: record an error for this thread, e.g. from a language binding that
 * raises its own errors (the C++ and Fortran layers). message and location may be NULL.
 * (SmartRedis's SRSetLastError takes a C++ exception; this is its C counterpart.) */
void SRSetLastErrorMessage(SRError code, const char* message, const char* location);

/* smartflow extension: forget this thread's last error. */
void SRClearLastError(void);

#ifdef __cplusplus
}
#endif

#endif /* SMARTFLOW_SR_ERROR_H */
