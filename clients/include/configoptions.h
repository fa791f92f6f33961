/*
 * smartflow native clients: SmartRedis's C++ ConfigOptions, header-only over the C API
 * (c_configoptions.h).
 *
 * Options come from the environment: option "X" of a ConfigOptions made with suffix "s" is
 * the variable X_s. The C API has no copy of a ConfigOptions, so this class remembers its
 * suffix and overrides and a copy replays them on a new C object. A ConfigOptions given to a
 * Client stays the caller's (the C client keeps no reference to it).
 */
#ifndef SMARTREDIS_CONFIGOPTIONS_H
#define SMARTREDIS_CONFIGOPTIONS_H

#ifndef __cplusplus
#error C users should include c_configoptions.h, not configoptions.h
#endif

#include <cstdint>
#include <memory>
#include <string>
#include <vector>
#include "sr_enums.h"
#include "srexception.h"
#include "srobject.h"
#include "c_configoptions.h"

namespace SmartRedis {

/*! \brief Where configuration comes from (only the environment, as in SmartRedis 0.6) */
enum cfgSrc {
    cs_envt,    // environment variables
};

/*!
*   \brief Access to SmartRedis's configuration options (SSDB, SR_DB_TYPE, ...)
*/
class ConfigOptions
{
    public:
        /*! \brief A copy reading the same environment, with the same overrides */
        ConfigOptions(const ConfigOptions& other)
          : _suffix(other._suffix), _overrides(other._overrides)
        {
            _cfg = _make_c_copy();
        }

        /*! \brief Become a copy of \p other */
        ConfigOptions& operator=(const ConfigOptions& other)
        {
            if (this != &other) {
                ConfigOptions copy(other);
                std::swap(_cfg, copy._cfg);
                _suffix = other._suffix;
                _overrides = other._overrides;
            }
            return *this;
        }

        ConfigOptions(ConfigOptions&& other) noexcept
          : _cfg(other._cfg), _suffix(std::move(other._suffix)),
            _overrides(std::move(other._overrides))
        {
            other._cfg = nullptr;
        }

        ConfigOptions& operator=(ConfigOptions&& other) noexcept
        {
            if (this != &other) {
                _release();
                _cfg = other._cfg;
                other._cfg = nullptr;
                _suffix = std::move(other._suffix);
                _overrides = std::move(other._overrides);
            }
            return *this;
        }

        virtual ~ConfigOptions() { _release(); }

        /*! \brief A deep copy, owned by the caller */
        ConfigOptions* clone() { return new ConfigOptions(*this); }

        /*!
        *   \brief Options read from the environment; with a non-empty \p db_suffix, option X
        *          is read from X_{db_suffix}
        *   \throw ParameterException if \p db_suffix holds characters not allowed
        */
        static std::unique_ptr<ConfigOptions> create_from_environment(
            const std::string& db_suffix)
        {
            return std::unique_ptr<ConfigOptions>(new ConfigOptions(db_suffix));
        }

        /*! \brief As create_from_environment(const std::string&) */
        static std::unique_ptr<ConfigOptions> create_from_environment(const char* db_suffix)
        {
            return create_from_environment(std::string(db_suffix != nullptr ? db_suffix : ""));
        }

        /*!
        *   \brief The value of an integer option
        *   \throw KeyException if it is not set; ParameterException if it is no integer
        */
        int64_t get_integer_option(const std::string& option_name)
        {
            int64_t result = 0;
            detail::check(::get_integer_option(_handle(), option_name.data(),
                                               option_name.size(), &result),
                          "get_integer_option");
            return result;
        }

        /*! \brief The value of a string option \throw KeyException if it is not set */
        std::string get_string_option(const std::string& option_name)
        {
            char* result = nullptr;
            size_t result_len = 0;
            detail::check(::get_string_option(_handle(), option_name.data(),
                                              option_name.size(), &result, &result_len),
                          "get_string_option");
            return std::string(result != nullptr ? result : "", result_len);
        }

        /*! \brief Whether an option is set (in the environment or by an override) */
        bool is_configured(const std::string& option_name)
        {
            bool result = false;
            detail::check(::is_configured(_handle(), option_name.data(), option_name.size(),
                                          &result),
                          "is_configured");
            return result;
        }

        /*! \brief Set an integer option for this object only */
        void override_integer_option(const std::string& option_name, int64_t value)
        {
            detail::check(::override_integer_option(_handle(), option_name.data(),
                                                    option_name.size(), value),
                          "override_integer_option");
            _overrides.push_back(Override{option_name, true, value, std::string()});
        }

        /*! \brief Set a string option for this object only */
        void override_string_option(const std::string& option_name, const std::string& value)
        {
            detail::check(::override_string_option(_handle(), option_name.data(),
                                                   option_name.size(), value.data(),
                                                   value.size()),
                          "override_string_option");
            _overrides.push_back(Override{option_name, false, 0, value});
        }

        /*! \brief (smartflow) The C API handle; it stays owned by this ConfigOptions */
        void* _c_handle() const { return _handle(); }

        /*! \brief (smartflow) A new C ConfigOptions with this one's suffix and overrides */
        void* _make_c_copy() const
        {
            void* cfg = nullptr;
            detail::check(::create_configoptions_from_environment(_suffix.data(), _suffix.size(),
                                                                  &cfg),
                          "create_configoptions_from_environment");
            for (const Override& o : _overrides) {
                SRError rc = o.is_integer
                    ? ::override_integer_option(cfg, o.name.data(), o.name.size(), o.integer)
                    : ::override_string_option(cfg, o.name.data(), o.name.size(),
                                               o.text.data(), o.text.size());
                if (rc != SRNoError) {
                    ::DeallocateConfigOptions(&cfg);
                    detail::throw_sr_error(rc, "override option");
                }
            }
            return cfg;
        }

    private:
        explicit ConfigOptions(const std::string& db_suffix) : _suffix(db_suffix)
        {
            detail::check(::create_configoptions_from_environment(db_suffix.data(),
                                                                  db_suffix.size(), &_cfg),
                          "create_configoptions_from_environment");
        }

        void* _handle() const
        {
            if (_cfg == nullptr)
                throw SRRuntimeException("this ConfigOptions was moved from and holds nothing");
            return _cfg;
        }

        void _release() noexcept
        {
            if (_cfg != nullptr)
                ::DeallocateConfigOptions(&_cfg);
            _cfg = nullptr;
        }

        struct Override {
            std::string name;
            bool is_integer;
            int64_t integer;
            std::string text;
        };

        void* _cfg = nullptr;
        std::string _suffix;
        std::vector<Override> _overrides;
};

} // namespace SmartRedis

#endif // SMARTREDIS_CONFIGOPTIONS_H
