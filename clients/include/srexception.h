/*
 * smartflow native clients: SmartRedis's error codes and, for C++, its exception hierarchy.
 *
 * C code gets SRError and SRGetLastError() (as SmartRedis's srexception.h gives them). C++ code
 * gets SmartRedis::Exception and its subclasses, one per SRError code: every C++ call that the C
 * library answers with an error throws the matching subclass, whose what() is the C library's
 * SRGetLastError() message. Header-only: nothing here needs a C++ runtime in libsmartflow.
 */
#ifndef SMARTREDIS_SREXCEPTION_H
#define SMARTREDIS_SREXCEPTION_H

#include <stdio.h>
#include <stdlib.h>
#include "sr_enums.h"
#include "sr_error.h"

#ifdef __cplusplus
#include <exception>
#include <string>

namespace SmartRedis {

/*!
*   \brief The base of every exception the SmartRedis C++ API throws.
*/
class Exception : public std::exception
{
    public:
        /*! \brief An exception with a message and no location. */
        Exception(const char* what_arg)
          : _msg(what_arg != nullptr ? what_arg : ""), _loc("unavailable") {}

        /*! \brief An exception with a message and no location. */
        Exception(const std::string& what_arg)
          : _msg(what_arg), _loc("unavailable") {}

        /*! \brief An exception raised at a source location (as SmartRedis's SR*Exception macros). */
        Exception(const char* what_arg, const char* file, int line)
          : _msg(what_arg != nullptr ? what_arg : ""), _loc(_location(file, line)) {}

        /*! \brief An exception raised at a source location. */
        Exception(const std::string& what_arg, const char* file, int line)
          : _msg(what_arg), _loc(_location(file, line)) {}

        /*! \brief Wrap a standard exception (its message is kept). */
        Exception(const std::exception& other) noexcept
          : _msg(other.what()), _loc("unavailable") {}

        Exception(const Exception& other) noexcept = default;
        Exception& operator=(const Exception& other) = default;
        Exception(Exception&& other) = default;
        Exception& operator=(Exception&& other) = default;
        virtual ~Exception() override = default;

        /*! \brief The SRError code that matches this exception's class. */
        virtual SRError to_error_code() const noexcept { return SRInvalidError; }

        /*! \brief The class's name, e.g. "KeyException". */
        virtual std::string exception_class() { return "Exception"; }

        /*! \brief The message. */
        const char* what() const noexcept override { return _msg.c_str(); }

        /*! \brief Where the error was raised ("unavailable" when unknown). */
        virtual const char* where() const noexcept { return _loc.c_str(); }

        /*! \brief (internal) Set where the error was raised. */
        void _set_where(const std::string& loc) { _loc = loc; }

    protected:
        std::string _msg;
        std::string _loc;

    private:
        static std::string _location(const char* file, int line)
        {
            return std::string("\"") + (file != nullptr ? file : "?") + "\", line " +
                   std::to_string(line);
        }
};

// One subclass per SRError code, as SmartRedis has them.
#define SMARTFLOW_DEFINE_SR_EXCEPTION(CLASS, CODE)                                   \
    class CLASS : public Exception                                                   \
    {                                                                                \
        public:                                                                      \
            using Exception::Exception;                                              \
            SRError to_error_code() const noexcept override { return CODE; }         \
            std::string exception_class() override { return #CLASS; }                \
    };

SMARTFLOW_DEFINE_SR_EXCEPTION(BadAllocException, SRBadAllocError)
SMARTFLOW_DEFINE_SR_EXCEPTION(DatabaseException, SRDatabaseError)
SMARTFLOW_DEFINE_SR_EXCEPTION(RuntimeException, SRRuntimeError)
SMARTFLOW_DEFINE_SR_EXCEPTION(ParameterException, SRParameterError)
SMARTFLOW_DEFINE_SR_EXCEPTION(TimeoutException, SRTimeoutError)
SMARTFLOW_DEFINE_SR_EXCEPTION(InternalException, SRInternalError)
SMARTFLOW_DEFINE_SR_EXCEPTION(KeyException, SRKeyError)
SMARTFLOW_DEFINE_SR_EXCEPTION(TypeException, SRTypeError)

#undef SMARTFLOW_DEFINE_SR_EXCEPTION

// SmartRedis's helpers that raise an exception at the caller's location.
#define SRBadAllocException(txt) SmartRedis::BadAllocException(txt, __FILE__, __LINE__)
#define SRDatabaseException(txt) SmartRedis::DatabaseException(txt, __FILE__, __LINE__)
#define SRRuntimeException(txt) SmartRedis::RuntimeException(txt, __FILE__, __LINE__)
#define SRParameterException(txt) SmartRedis::ParameterException(txt, __FILE__, __LINE__)
#define SRTimeoutException(txt) SmartRedis::TimeoutException(txt, __FILE__, __LINE__)
#define SRInternalException(txt) SmartRedis::InternalException(txt, __FILE__, __LINE__)
#define SRKeyException(txt) SmartRedis::KeyException(txt, __FILE__, __LINE__)
#define SRTypeException(txt) SmartRedis::TypeException(txt, __FILE__, __LINE__)

namespace detail {

/*! \brief Throw an E with a message and a location. */
template <class E>
[[noreturn]] inline void raise_at(const std::string& msg, const std::string& loc)
{
    E error(msg);
    error._set_where(loc);
    throw error;
}

/*!
*   \brief Throw the exception that matches a C API error code, with the C library's message.
*   \param code What the C call returned (not SRNoError)
*   \param call The C function's name, used when the library recorded no message
*/
[[noreturn]] inline void throw_sr_error(SRError code, const char* call)
{
    // Copy the message out first: the C library's buffer changes with its next failing call.
    const char* last = SRGetLastError();
    const std::string msg = (last != nullptr && last[0] != '\0')
        ? std::string(last)
        : std::string(call) + " failed (SRError " + std::to_string(static_cast<int>(code)) + ")";
    const char* where = SRGetLastErrorLocation();
    const std::string loc = (where != nullptr && where[0] != '\0') ? where : "unavailable";
    switch (code) {
        case SRBadAllocError:  raise_at<BadAllocException>(msg, loc);
        case SRDatabaseError:  raise_at<DatabaseException>(msg, loc);
        case SRInternalError:  raise_at<InternalException>(msg, loc);
        case SRRuntimeError:   raise_at<RuntimeException>(msg, loc);
        case SRParameterError: raise_at<ParameterException>(msg, loc);
        case SRTimeoutError:   raise_at<TimeoutException>(msg, loc);
        case SRKeyError:       raise_at<KeyException>(msg, loc);
        case SRTypeError:      raise_at<TypeException>(msg, loc);
        default:               raise_at<Exception>(msg, loc);
    }
}

/*! \brief Throw unless a C API call succeeded. */
inline void check(SRError code, const char* call)
{
    if (code != SRNoError)
        throw_sr_error(code, call);
}

} // namespace detail
} // namespace SmartRedis

#endif // __cplusplus
#endif // SMARTREDIS_SREXCEPTION_H
