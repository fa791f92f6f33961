/*
 * smartflow native clients: enumerations shared by the C, C++ and Fortran APIs.
 *
 * Names and values match SmartRedis 0.6.x's sr_enums.h and srexception.h so that SmartRedis
 * programs (and Fortran's enum_fortran.inc) compile unchanged against smartflow.
 */
#ifndef SMARTREDIS_SR_ENUMS_H
#define SMARTREDIS_SR_ENUMS_H

/* How tensor memory handed to put/unpack/get is laid out. */
typedef enum {
    SRMemLayoutInvalid           = 0, /* invalid or uninitialised */
    SRMemLayoutNested            = 1, /* row-major, nested arrays of pointers (contiguous innermost) */
    SRMemLayoutContiguous        = 2, /* row-major, one contiguous block */
    SRMemLayoutFortranNested     = 3, /* column-major, nested arrays of pointers */
    SRMemLayoutFortranContiguous = 4  /* column-major, one contiguous block */
} SRMemoryLayout;

/* Types of dataset metadata fields. */
typedef enum {
    SRMetadataTypeInvalid = 0,
    SRMetadataTypeDouble  = 1,
    SRMetadataTypeFloat   = 2,
    SRMetadataTypeInt32   = 3,
    SRMetadataTypeInt64   = 4,
    SRMetadataTypeUint32  = 5,
    SRMetadataTypeUint64  = 6,
    SRMetadataTypeString  = 7
} SRMetaDataType;

/* Element types of tensors. */
typedef enum {
    SRTensorTypeInvalid = 0,
    SRTensorTypeDouble  = 1,
    SRTensorTypeFloat   = 2,
    SRTensorTypeInt8    = 3,
    SRTensorTypeInt16   = 4,
    SRTensorTypeInt32   = 5,
    SRTensorTypeInt64   = 6,
    SRTensorTypeUint8   = 7,
    SRTensorTypeUint16  = 8
} SRTensorType;

/* Logging levels (SR_LOG_LEVEL: QUIET, INFO, DEBUG, DEVELOPER). */
typedef enum {
    LLInvalid   = 0,
    LLQuiet     = 1,
    LLInfo      = 2,
    LLDebug     = 3,
    LLDeveloper = 4
} SRLoggingLevel;

/* Error codes every C API call returns (SmartRedis declares them in srexception.h; they live
 * here so that C code needs no C++ header). SRGetLastError() gives the message. */
#ifndef SMARTFLOW_SRERROR_DEFINED
#define SMARTFLOW_SRERROR_DEFINED
typedef enum {
    SRNoError        = 0, /* no error */
    SRBadAllocError  = 1, /* memory allocation failed */
    SRDatabaseError  = 2, /* the store failed or cannot be reached */
    SRInternalError  = 3, /* a bug in smartflow */
    SRRuntimeError   = 4, /* an operation could not be carried out */
    SRParameterError = 5, /* a bad argument */
    SRTimeoutError   = 6, /* the store or a worker did not answer in time */
    SRKeyError       = 7, /* a key, field or tensor is missing */
    SRInvalidError   = 8, /* uninitialised error variable */
    SRTypeError      = 9  /* a type mismatch */
} SRError;
#endif

#endif /* SMARTREDIS_SR_ENUMS_H */
