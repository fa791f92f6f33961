/*
 * smartflow native clients: SmartRedis's C++ Client, header-only over smartflow's C API
 * (c_client.h, libsmartflow).
 *
 * Source-compatible with SmartRedis 0.6.x's client.h for what smartflow does: tensors,
 * datasets, aggregation lists, models and scripts run by smartflow's inference workers,
 * ensemble prefixes and logging. Every failure throws the SmartRedis::Exception subclass that
 * matches the C library's SRError code, with its message. What only RedisAI can do (TorchScript
 * and TF models, multi-GPU placement, get_ai_info) compiles and throws at run time.
 *
 * A Client owns its C client and frees it when destroyed; as in SmartRedis it cannot be
 * copied, only moved. Memory handed out by get_tensor, get_model and get_script stays valid
 * until the Client is destroyed.
 */
#ifndef SMARTREDIS_CLIENT_H
#define SMARTREDIS_CLIENT_H

#ifdef __cplusplus
// What SmartRedis's client.h brings into a program (its examples rely on these).
#include <string.h>
#include <stdlib.h>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sr_enums.h"
#include "srexception.h"
#include "srobject.h"
#include "dataset.h"
#include "configoptions.h"
#include "c_client.h"
#include "sr_cpp_detail.h"

namespace SmartRedis {

/*! \brief A reply parsed into field -> value (SmartRedis's type for info commands) */
typedef std::unordered_map<std::string, std::string> parsed_reply_map;

/*! \brief A reply parsed into section -> field -> value */
typedef std::unordered_map<std::string, parsed_reply_map> parsed_reply_nested_map;

/*!
*   \brief A connection to a smartflow store, with SmartRedis's C++ API
*/
class Client : public SRObject
{
    public:
        /*!
        *   \brief A client configured from the environment (SSDB, SR_DB_TYPE, SSDB_PASSWORD,
        *          SSKEYIN, SSKEYOUT)
        *   \param logger_name Name that prefixes this client's log lines
        *   \throw SmartRedis::Exception if the store cannot be reached or is misconfigured
        */
        Client(const char* logger_name)
          : SRObject(logger_name != nullptr ? logger_name : "default")
        {
            detail::check(::SimpleCreateClient(_lname.data(), _lname.size(), &_client),
                          "SimpleCreateClient");
        }

        /*! \brief As Client(const char*) */
        Client(const std::string& logger_name = "default") : Client(logger_name.c_str()) {}

        /*!
        *   \brief A client configured by \p cfgopts (which stays the caller's)
        *   \throw SmartRedis::Exception if the store cannot be reached or is misconfigured
        */
        Client(ConfigOptions* cfgopts, const std::string& logger_name = "default")
          : SRObject(logger_name)
        {
            if (cfgopts == nullptr) {
                detail::check(::SimpleCreateClient(_lname.data(), _lname.size(), &_client),
                              "SimpleCreateClient");
                return;
            }
            // libsmartflow's CreateClient copies what it reads (address, password, suffix) and
            // keeps no reference, so the ConfigOptions stays the caller's, as in SmartRedis.
            detail::check(::CreateClient(cfgopts->_c_handle(), _lname.data(), _lname.size(),
                                         &_client),
                          "CreateClient");
        }

        /*!
        *   \brief (deprecated in SmartRedis) A client configured from the environment
        *   \details libsmartflow probes whether the store is a cluster, so \p cluster is only
        *            a hint and a wrong one still connects.
        */
        Client(bool cluster, const std::string& logger_name = "default")
          : SRObject(logger_name)
        {
            detail::check(::SmartRedisCClient(cluster, _lname.data(), _lname.size(), &_client),
                          "SmartRedisCClient");
        }

        Client(const Client& client) = delete;
        Client& operator=(const Client& client) = delete;

        /*! \brief Take over \p client's connection; \p client is left unusable */
        Client(Client&& client) noexcept
          : SRObject(std::move(client)), _client(client._client)
        {
            client._client = nullptr;
        }

        /*! \brief Take over \p client's connection; \p client is left unusable */
        Client& operator=(Client&& client) noexcept
        {
            if (this != &client) {
                _release();
                _client = client._client;
                client._client = nullptr;
                _lname = std::move(client._lname);
            }
            return *this;
        }

        virtual ~Client() { _release(); }

        // ---- datasets ---------------------------------------------------------------------

        /*! \brief Store \p dataset under its name (prefixed if dataset prefixing is on) */
        void put_dataset(DataSet& dataset)
        {
            detail::check(::put_dataset(_handle(), dataset._handle()), "put_dataset");
        }

        /*! \brief Fetch a dataset \throw KeyException if there is none called \p name */
        DataSet get_dataset(const std::string& name)
        {
            void* ds = nullptr;
            detail::check(::get_dataset(_handle(), name.data(), name.size(), &ds),
                          "get_dataset");
            return DataSet(DataSet::adopt_tag(), ds, name);
        }

        /*! \brief Move a dataset to a new name */
        void rename_dataset(const std::string& old_name, const std::string& new_name)
        {
            detail::check(::rename_dataset(_handle(), old_name.data(), old_name.size(),
                                           new_name.data(), new_name.size()),
                          "rename_dataset");
        }

        /*! \brief Copy a dataset to a new name */
        void copy_dataset(const std::string& src_name, const std::string& dest_name)
        {
            detail::check(::copy_dataset(_handle(), src_name.data(), src_name.size(),
                                         dest_name.data(), dest_name.size()),
                          "copy_dataset");
        }

        /*! \brief Delete a dataset */
        void delete_dataset(const std::string& name)
        {
            detail::check(::delete_dataset(_handle(), name.data(), name.size()),
                          "delete_dataset");
        }

        // ---- tensors ----------------------------------------------------------------------

        /*!
        *   \brief Store a tensor
        *   \param data The values, laid out as \p mem_layout says
        *   \param dims The size of each dimension
        *   \throw ParameterException for bad dims, type or layout
        */
        void put_tensor(const std::string& name,
                        const void* data,
                        const std::vector<size_t>& dims,
                        const SRTensorType type,
                        const SRMemoryLayout mem_layout)
        {
            detail::check(::put_tensor(_handle(), name.data(), name.size(),
                                       const_cast<void*>(data), dims.data(), dims.size(), type,
                                       mem_layout),
                          "put_tensor");
        }

        /*!
        *   \brief Fetch a tensor into memory the Client owns (valid until it is destroyed)
        *   \throw KeyException if there is no tensor \p name
        */
        void get_tensor(const std::string& name,
                        void*& data,
                        std::vector<size_t>& dims,
                        SRTensorType& type,
                        const SRMemoryLayout mem_layout)
        {
            size_t* c_dims = nullptr;
            size_t n_dims = 0;
            get_tensor(name, data, c_dims, n_dims, type, mem_layout);
            dims.assign(c_dims, c_dims + n_dims);
        }

        /*! \brief Fetch a tensor, C-style dimensions; data and dims are owned by the Client */
        void get_tensor(const std::string& name,
                        void*& data,
                        size_t*& dims,
                        size_t& n_dims,
                        SRTensorType& type,
                        const SRMemoryLayout mem_layout)
        {
            detail::check(::get_tensor(_handle(), name.data(), name.size(), &data, &dims,
                                       &n_dims, &type, mem_layout),
                          "get_tensor");
        }

        /*!
        *   \brief Fetch a tensor into the caller's buffer
        *   \details With SRMemLayoutContiguous, \p dims may be one dimension equal to the
        *            tensor's element count (SmartRedis's rule).
        *   \throw KeyException if absent; TypeException or ParameterException on a mismatch
        */
        void unpack_tensor(const std::string& name,
                           void* data,
                           const std::vector<size_t>& dims,
                           const SRTensorType type,
                           const SRMemoryLayout mem_layout)
        {
            detail::check(::unpack_tensor(_handle(), name.data(), name.size(), data,
                                          dims.data(), dims.size(), type, mem_layout),
                          "unpack_tensor");
        }

        /*! \brief Move a tensor to a new name */
        void rename_tensor(const std::string& old_name, const std::string& new_name)
        {
            detail::check(::rename_tensor(_handle(), old_name.data(), old_name.size(),
                                          new_name.data(), new_name.size()),
                          "rename_tensor");
        }

        /*! \brief Delete a tensor */
        void delete_tensor(const std::string& name)
        {
            detail::check(::delete_tensor(_handle(), name.data(), name.size()),
                          "delete_tensor");
        }

        /*! \brief Copy a tensor to a new name */
        void copy_tensor(const std::string& src_name, const std::string& dest_name)
        {
            detail::check(::copy_tensor(_handle(), src_name.data(), src_name.size(),
                                        dest_name.data(), dest_name.size()),
                          "copy_tensor");
        }

        /*!
        *   \brief (smartflow, as SmartRedis's later releases) Store bytes, as a 1-D uint8 tensor
        */
        void put_bytes(const std::string& name, const void* data, const size_t n_bytes)
        {
            put_tensor(name, data, {n_bytes}, SRTensorTypeUint8, SRMemLayoutContiguous);
        }

        /*!
        *   \brief (smartflow) Fetch bytes stored by put_bytes into a buffer of \p n_bytes
        *   \param n_used_bytes Receives how many bytes were stored
        *   \throw ParameterException if the buffer is too small; TypeException if the key
        *          holds a tensor that is not 1-D bytes
        */
        void unpack_bytes(const std::string& name, void* data, const size_t n_bytes,
                          size_t& n_used_bytes)
        {
            void* stored = nullptr;
            size_t* dims = nullptr;
            size_t n_dims = 0;
            SRTensorType type = SRTensorTypeInvalid;
            get_tensor(name, stored, dims, n_dims, type, SRMemLayoutContiguous);
            if ((type != SRTensorTypeUint8 && type != SRTensorTypeInt8) || n_dims != 1)
                throw SRTypeException("unpack_bytes: \"" + name +
                                      "\" holds a tensor that is not 1-D bytes");
            if (dims[0] > n_bytes)
                throw SRParameterException("unpack_bytes: \"" + name + "\" holds " +
                                           std::to_string(dims[0]) + " bytes, the buffer " +
                                           std::to_string(n_bytes));
            if (dims[0] > 0)
                std::memcpy(data, stored, dims[0]);
            n_used_bytes = dims[0];
        }

        // ---- models and scripts -----------------------------------------------------------

        /*!
        *   \brief Store a model from a file (backend ONNX; others throw)
        *   \param inputs, outputs Node names, TF models only (leave empty)
        */
        void set_model_from_file(const std::string& name,
                                 const std::string& model_file,
                                 const std::string& backend,
                                 const std::string& device,
                                 int batch_size = 0,
                                 int min_batch_size = 0,
                                 int min_batch_timeout = 0,
                                 const std::string& tag = "",
                                 const std::vector<std::string>& inputs
                                     = std::vector<std::string>(),
                                 const std::vector<std::string>& outputs
                                     = std::vector<std::string>())
        {
            detail::CStringArray in(inputs), out(outputs);
            detail::check(::set_model_from_file(_handle(), name.data(), name.size(),
                                                model_file.data(), model_file.size(),
                                                backend.data(), backend.size(),
                                                device.data(), device.size(), batch_size,
                                                min_batch_size, min_batch_timeout,
                                                tag.data(), tag.size(),
                                                in.data(), in.lengths(), in.size(),
                                                out.data(), out.lengths(), out.size()),
                          "set_model_from_file");
        }

        /*! \brief Multi-GPU placement is RedisAI's: passed to the C API, which refuses it */
        void set_model_from_file_multigpu(const std::string& name,
                                          const std::string& model_file,
                                          const std::string& backend,
                                          int first_gpu,
                                          int num_gpus,
                                          int batch_size = 0,
                                          int min_batch_size = 0,
                                          int min_batch_timeout = 0,
                                          const std::string& tag = "",
                                          const std::vector<std::string>& inputs
                                              = std::vector<std::string>(),
                                          const std::vector<std::string>& outputs
                                              = std::vector<std::string>())
        {
            detail::CStringArray in(inputs), out(outputs);
            detail::check(::set_model_from_file_multigpu(
                              _handle(), name.data(), name.size(), model_file.data(),
                              model_file.size(), backend.data(), backend.size(), first_gpu,
                              num_gpus, batch_size, min_batch_size, min_batch_timeout,
                              tag.data(), tag.size(), in.data(), in.lengths(), in.size(),
                              out.data(), out.lengths(), out.size()),
                          "set_model_from_file_multigpu");
        }

        /*! \brief Store a model from a buffer (backend ONNX; others throw) */
        void set_model(const std::string& name,
                       const std::string_view& model,
                       const std::string& backend,
                       const std::string& device,
                       int batch_size = 0,
                       int min_batch_size = 0,
                       int min_batch_timeout = 0,
                       const std::string& tag = "",
                       const std::vector<std::string>& inputs = std::vector<std::string>(),
                       const std::vector<std::string>& outputs = std::vector<std::string>())
        {
            detail::CStringArray in(inputs), out(outputs);
            detail::check(::set_model(_handle(), name.data(), name.size(), model.data(),
                                      model.size(), backend.data(), backend.size(),
                                      device.data(), device.size(), batch_size, min_batch_size,
                                      min_batch_timeout, tag.data(), tag.size(), in.data(),
                                      in.lengths(), in.size(), out.data(), out.lengths(),
                                      out.size()),
                          "set_model");
        }

        /*! \brief Multi-GPU placement is RedisAI's: passed to the C API, which refuses it */
        void set_model_multigpu(const std::string& name,
                                const std::string_view& model,
                                const std::string& backend,
                                int first_gpu,
                                int num_gpus,
                                int batch_size = 0,
                                int min_batch_size = 0,
                                int min_batch_timeout = 0,
                                const std::string& tag = "",
                                const std::vector<std::string>& inputs
                                    = std::vector<std::string>(),
                                const std::vector<std::string>& outputs
                                    = std::vector<std::string>())
        {
            detail::CStringArray in(inputs), out(outputs);
            detail::check(::set_model_multigpu(_handle(), name.data(), name.size(),
                                               model.data(), model.size(), backend.data(),
                                               backend.size(), first_gpu, num_gpus,
                                               batch_size, min_batch_size, min_batch_timeout,
                                               tag.data(), tag.size(), in.data(), in.lengths(),
                                               in.size(), out.data(), out.lengths(),
                                               out.size()),
                          "set_model_multigpu");
        }

        /*! \brief A stored model's bytes (owned by the Client) */
        std::string_view get_model(const std::string& name)
        {
            const char* model = nullptr;
            size_t length = 0;
            detail::check(::get_model(_handle(), name.data(), name.size(), &length, &model),
                          "get_model");
            return std::string_view(model, length);
        }

        /*! \brief Store a script from a file */
        void set_script_from_file(const std::string& name,
                                  const std::string& device,
                                  const std::string& script_file)
        {
            detail::check(::set_script_from_file(_handle(), name.data(), name.size(),
                                                 device.data(), device.size(),
                                                 script_file.data(), script_file.size()),
                          "set_script_from_file");
        }

        /*! \brief Multi-GPU placement is RedisAI's: passed to the C API, which refuses it */
        void set_script_from_file_multigpu(const std::string& name,
                                           const std::string& script_file,
                                           int first_gpu,
                                           int num_gpus)
        {
            detail::check(::set_script_from_file_multigpu(_handle(), name.data(), name.size(),
                                                          script_file.data(),
                                                          script_file.size(), first_gpu,
                                                          num_gpus),
                          "set_script_from_file_multigpu");
        }

        /*! \brief Store a script from a buffer */
        void set_script(const std::string& name,
                        const std::string& device,
                        const std::string_view& script)
        {
            detail::check(::set_script(_handle(), name.data(), name.size(), device.data(),
                                       device.size(), script.data(), script.size()),
                          "set_script");
        }

        /*! \brief Multi-GPU placement is RedisAI's: passed to the C API, which refuses it */
        void set_script_multigpu(const std::string& name,
                                 const std::string_view& script,
                                 int first_gpu,
                                 int num_gpus)
        {
            detail::check(::set_script_multigpu(_handle(), name.data(), name.size(),
                                                script.data(), script.size(), first_gpu,
                                                num_gpus),
                          "set_script_multigpu");
        }

        /*! \brief A stored script's source (owned by the Client) */
        std::string_view get_script(const std::string& name)
        {
            const char* script = nullptr;
            size_t length = 0;
            detail::check(::get_script(_handle(), name.data(), name.size(), &script, &length),
                          "get_script");
            return std::string_view(script, length);
        }

        /*!
        *   \brief Run a model on the inference worker: inputs and outputs are tensor names
        *   \throw KeyException if the model or an input is missing; TimeoutException if no
        *          worker answers in time; RuntimeException if the run fails
        */
        void run_model(const std::string& name,
                       const std::vector<std::string> inputs,
                       const std::vector<std::string> outputs)
        {
            detail::CStringArray in(inputs), out(outputs);
            detail::check(::run_model(_handle(), name.data(), name.size(), in.data(),
                                      in.lengths(), in.size(), out.data(), out.lengths(),
                                      out.size()),
                          "run_model");
        }

        /*! \brief Multi-GPU placement is RedisAI's: passed to the C API, which refuses it */
        void run_model_multigpu(const std::string& name,
                                const std::vector<std::string> inputs,
                                const std::vector<std::string> outputs,
                                int offset,
                                int first_gpu,
                                int num_gpus)
        {
            detail::CStringArray in(inputs), out(outputs);
            detail::check(::run_model_multigpu(_handle(), name.data(), name.size(), in.data(),
                                               in.lengths(), in.size(), out.data(),
                                               out.lengths(), out.size(), offset, first_gpu,
                                               num_gpus),
                          "run_model_multigpu");
        }

        /*! \brief Run function \p function of a stored script */
        void run_script(const std::string& name,
                        const std::string& function,
                        const std::vector<std::string> inputs,
                        const std::vector<std::string> outputs)
        {
            detail::CStringArray in(inputs), out(outputs);
            detail::check(::run_script(_handle(), name.data(), name.size(), function.data(),
                                       function.size(), in.data(), in.lengths(), in.size(),
                                       out.data(), out.lengths(), out.size()),
                          "run_script");
        }

        /*! \brief Multi-GPU placement is RedisAI's: passed to the C API, which refuses it */
        void run_script_multigpu(const std::string& name,
                                 const std::string& function,
                                 const std::vector<std::string> inputs,
                                 const std::vector<std::string> outputs,
                                 int offset,
                                 int first_gpu,
                                 int num_gpus)
        {
            detail::CStringArray in(inputs), out(outputs);
            detail::check(::run_script_multigpu(_handle(), name.data(), name.size(),
                                                function.data(), function.size(), in.data(),
                                                in.lengths(), in.size(), out.data(),
                                                out.lengths(), out.size(), offset, first_gpu,
                                                num_gpus),
                          "run_script_multigpu");
        }

        /*! \brief Delete a model */
        void delete_model(const std::string& name)
        {
            detail::check(::delete_model(_handle(), name.data(), name.size()), "delete_model");
        }

        /*! \brief Multi-GPU placement is RedisAI's: passed to the C API, which refuses it */
        void delete_model_multigpu(const std::string& name, int first_gpu, int num_gpus)
        {
            detail::check(::delete_model_multigpu(_handle(), name.data(), name.size(),
                                                  first_gpu, num_gpus),
                          "delete_model_multigpu");
        }

        /*! \brief Delete a script */
        void delete_script(const std::string& name)
        {
            detail::check(::delete_script(_handle(), name.data(), name.size()),
                          "delete_script");
        }

        /*! \brief Multi-GPU placement is RedisAI's: passed to the C API, which refuses it */
        void delete_script_multigpu(const std::string& name, int first_gpu, int num_gpus)
        {
            detail::check(::delete_script_multigpu(_handle(), name.data(), name.size(),
                                                   first_gpu, num_gpus),
                          "delete_script_multigpu");
        }

        // ---- existence and polling ---------------------------------------------------------

        /*! \brief Whether \p key (as given, never prefixed) exists */
        bool key_exists(const std::string& key)
        {
            bool exists = false;
            detail::check(::key_exists(_handle(), key.data(), key.size(), &exists),
                          "key_exists");
            return exists;
        }

        /*! \brief Whether a model or script called \p name exists */
        bool model_exists(const std::string& name)
        {
            bool exists = false;
            detail::check(::model_exists(_handle(), name.data(), name.size(), &exists),
                          "model_exists");
            return exists;
        }

        /*! \brief Whether a tensor called \p name exists */
        bool tensor_exists(const std::string& name)
        {
            bool exists = false;
            detail::check(::tensor_exists(_handle(), name.data(), name.size(), &exists),
                          "tensor_exists");
            return exists;
        }

        /*! \brief Whether a dataset called \p name exists */
        bool dataset_exists(const std::string& name)
        {
            bool exists = false;
            detail::check(::dataset_exists(_handle(), name.data(), name.size(), &exists),
                          "dataset_exists");
            return exists;
        }

        /*! \brief Check for \p key up to \p num_tries times, \p poll_frequency_ms apart */
        bool poll_key(const std::string& key, int poll_frequency_ms, int num_tries)
        {
            bool exists = false;
            detail::check(::poll_key(_handle(), key.data(), key.size(), poll_frequency_ms,
                                     num_tries, &exists),
                          "poll_key");
            return exists;
        }

        /*! \brief Check for a tensor up to \p num_tries times, \p poll_frequency_ms apart */
        bool poll_tensor(const std::string& name, int poll_frequency_ms, int num_tries)
        {
            bool exists = false;
            detail::check(::poll_tensor(_handle(), name.data(), name.size(), poll_frequency_ms,
                                        num_tries, &exists),
                          "poll_tensor");
            return exists;
        }

        /*! \brief Check for a dataset up to \p num_tries times, \p poll_frequency_ms apart */
        bool poll_dataset(const std::string& name, int poll_frequency_ms, int num_tries)
        {
            bool exists = false;
            detail::check(::poll_dataset(_handle(), name.data(), name.size(), poll_frequency_ms,
                                         num_tries, &exists),
                          "poll_dataset");
            return exists;
        }

        /*! \brief Check for a model up to \p num_tries times, \p poll_frequency_ms apart */
        bool poll_model(const std::string& name, int poll_frequency_ms, int num_tries)
        {
            bool exists = false;
            detail::check(::poll_model(_handle(), name.data(), name.size(), poll_frequency_ms,
                                       num_tries, &exists),
                          "poll_model");
            return exists;
        }

        // ---- ensemble prefixes -------------------------------------------------------------

        /*! \brief Read keys with prefix \p source_id (one of SSKEYIN's) from now on */
        void set_data_source(std::string source_id)
        {
            detail::check(::set_data_source(_handle(), source_id.data(), source_id.size()),
                          "set_data_source");
        }

        /*! \brief Prefix tensor names (SSKEYOUT to write, the data source to read) or not */
        void use_tensor_ensemble_prefix(bool use_prefix)
        {
            detail::check(::use_tensor_ensemble_prefix(_handle(), use_prefix),
                          "use_tensor_ensemble_prefix");
        }

        /*! \brief Prefix dataset names or not */
        void use_dataset_ensemble_prefix(bool use_prefix)
        {
            detail::check(::use_dataset_ensemble_prefix(_handle(), use_prefix),
                          "use_dataset_ensemble_prefix");
        }

        /*! \brief Prefix model and script names or not */
        void use_model_ensemble_prefix(bool use_prefix)
        {
            detail::check(::use_model_ensemble_prefix(_handle(), use_prefix),
                          "use_model_ensemble_prefix");
        }

        /*! \brief Prefix aggregation list names or not */
        void use_list_ensemble_prefix(bool use_prefix)
        {
            detail::check(::use_list_ensemble_prefix(_handle(), use_prefix),
                          "use_list_ensemble_prefix");
        }

        // ---- server administration (RedisAI/Redis-specific) ----------------------------------

        /*! \brief RedisAI's AI.INFO: smartflow has none, so the C API refuses it */
        parsed_reply_map get_ai_info(const std::string& address,
                                     const std::string& key,
                                     bool reset_stat)
        {
            detail::check(::get_ai_info(_handle(), address.data(), address.size(), key.data(),
                                        key.size(), reset_stat),
                          "get_ai_info");
            return parsed_reply_map();
        }

        /*! \brief RedisAI's model chunk size: passed to the C API */
        void set_model_chunk_size(int chunk_size)
        {
            detail::check(::set_model_chunk_size(_handle(), chunk_size),
                          "set_model_chunk_size");
        }

        /*! \brief Not in smartflow's C API: throws RuntimeException */
        parsed_reply_nested_map get_db_node_info(const std::string address)
        {
            _not_supported("get_db_node_info", address);
        }

        /*! \brief Not in smartflow's C API: throws RuntimeException */
        parsed_reply_map get_db_cluster_info(const std::string address)
        {
            _not_supported("get_db_cluster_info", address);
        }

        /*! \brief Not in smartflow's C API: throws RuntimeException */
        void flush_db(const std::string address) { _not_supported("flush_db", address); }

        /*! \brief Not in smartflow's C API: throws RuntimeException */
        std::unordered_map<std::string, std::string> config_get(const std::string expression,
                                                                const std::string address)
        {
            (void)expression;
            _not_supported("config_get", address);
        }

        /*! \brief Not in smartflow's C API: throws RuntimeException */
        void config_set(const std::string config_param, const std::string value,
                        const std::string address)
        {
            (void)config_param;
            (void)value;
            _not_supported("config_set", address);
        }

        /*! \brief Not in smartflow's C API: throws RuntimeException */
        void save(const std::string address) { _not_supported("save", address); }

        // ---- aggregation lists -------------------------------------------------------------

        /*! \brief Append \p dataset (already stored with put_dataset) to a list */
        void append_to_list(const std::string& list_name, const DataSet& dataset)
        {
            detail::check(::append_to_list(_handle(), list_name.data(), list_name.size(),
                                           dataset._handle()),
                          "append_to_list");
        }

        /*! \brief Delete a list (its datasets stay) */
        void delete_list(const std::string& list_name)
        {
            detail::check(::delete_list(_handle(), list_name.data(), list_name.size()),
                          "delete_list");
        }

        /*! \brief Copy a list */
        void copy_list(const std::string& src_name, const std::string& dest_name)
        {
            detail::check(::copy_list(_handle(), src_name.data(), src_name.size(),
                                      dest_name.data(), dest_name.size()),
                          "copy_list");
        }

        /*! \brief Rename a list */
        void rename_list(const std::string& src_name, const std::string& dest_name)
        {
            detail::check(::rename_list(_handle(), src_name.data(), src_name.size(),
                                        dest_name.data(), dest_name.size()),
                          "rename_list");
        }

        /*! \brief The number of entries in a list (0 if there is none) */
        int get_list_length(const std::string& list_name)
        {
            int length = 0;
            detail::check(::get_list_length(_handle(), list_name.data(), list_name.size(),
                                            &length),
                          "get_list_length");
            return length;
        }

        /*! \brief Poll until a list has exactly \p list_length entries */
        bool poll_list_length(const std::string& name, int list_length,
                              int poll_frequency_ms, int num_tries)
        {
            bool result = false;
            detail::check(::poll_list_length(_handle(), name.data(), name.size(), list_length,
                                             poll_frequency_ms, num_tries, &result),
                          "poll_list_length");
            return result;
        }

        /*! \brief Poll until a list has at least \p list_length entries */
        bool poll_list_length_gte(const std::string& name, int list_length,
                                  int poll_frequency_ms, int num_tries)
        {
            bool result = false;
            detail::check(::poll_list_length_gte(_handle(), name.data(), name.size(),
                                                 list_length, poll_frequency_ms, num_tries,
                                                 &result),
                          "poll_list_length_gte");
            return result;
        }

        /*! \brief Poll until a list has at most \p list_length entries */
        bool poll_list_length_lte(const std::string& name, int list_length,
                                  int poll_frequency_ms, int num_tries)
        {
            bool result = false;
            detail::check(::poll_list_length_lte(_handle(), name.data(), name.size(),
                                                 list_length, poll_frequency_ms, num_tries,
                                                 &result),
                          "poll_list_length_lte");
            return result;
        }

        /*! \brief Every dataset of a list, in order (empty if there is no list) */
        std::vector<DataSet> get_datasets_from_list(const std::string& list_name)
        {
            void** datasets = nullptr;
            size_t n = 0;
            detail::check(::get_datasets_from_list(_handle(), list_name.data(),
                                                   list_name.size(), &datasets, &n),
                          "get_datasets_from_list");
            return _adopt_datasets(datasets, n);
        }

        /*! \brief Datasets \p start_index to \p end_index (both included; negative from the end) */
        std::vector<DataSet> get_dataset_list_range(const std::string& list_name,
                                                    int start_index,
                                                    int end_index)
        {
            void** datasets = nullptr;
            size_t n = 0;
            detail::check(::get_dataset_list_range(_handle(), list_name.data(),
                                                   list_name.size(), start_index, end_index,
                                                   &datasets, &n),
                          "get_dataset_list_range");
            return _adopt_datasets(datasets, n);
        }

        // ---- logging and description -------------------------------------------------------

        /*! \brief Log through the C client (so the line also reaches the store's log records) */
        void log_data(SRLoggingLevel level, const std::string& data) const override
        {
            if (_client == nullptr)
                return SRObject::log_data(level, data);
            ::log_data_noexcept(_client, level, data.data(), data.size());
        }

        /*! \brief Log a warning through the C client */
        void log_warning(SRLoggingLevel level, const std::string& data) const override
        {
            if (_client == nullptr)
                return SRObject::log_warning(level, data);
            ::log_warning_noexcept(_client, level, data.data(), data.size());
        }

        /*! \brief Log an error through the C client */
        void log_error(SRLoggingLevel level, const std::string& data) const override
        {
            if (_client == nullptr)
                return SRObject::log_error(level, data);
            ::log_error_noexcept(_client, level, data.data(), data.size());
        }

        /*! \brief A description of the client */
        std::string to_string() const
        {
            const char* text = ::client_to_string(_handle());
            return text != nullptr ? std::string(text) : std::string();
        }

        /*! \brief (smartflow) The C API handle; it stays owned by this Client */
        void* _c_handle() const { return _handle(); }

    private:
        void* _handle() const
        {
            if (_client == nullptr)
                throw SRRuntimeException("this Client was moved from and holds no connection");
            return _client;
        }

        void _release() noexcept
        {
            if (_client != nullptr)
                ::DeleteCClient(&_client);
            _client = nullptr;
        }

        [[noreturn]] static void _not_supported(const char* what, const std::string& address)
        {
            throw SRRuntimeException(std::string(what) + "(\"" + address +
                                     "\") is not supported by smartflow's C++ client");
        }

        /*! \brief Wrap datasets the C API handed out, taking ownership of each */
        static std::vector<DataSet> _adopt_datasets(void** datasets, size_t n)
        {
            std::vector<DataSet> out;
            size_t adopted = 0;
            try {
                out.reserve(n);
                for (; adopted < n; adopted++)
                    out.push_back(DataSet(DataSet::adopt_tag(), datasets[adopted],
                                          detail::c_dataset_name(datasets[adopted])));
            }
            catch (...) {
                // Out of memory midway: free what no DataSet has taken yet.
                for (size_t i = adopted; i < n; i++)
                    ::DeallocateDataSet(&datasets[i]);
                std::free(datasets);
                throw;
            }
            std::free(datasets);
            return out;
        }

        /*! \brief The C client (NULL once moved from) */
        void* _client = nullptr;
};

/*! \brief Write the client's description */
inline std::ostream& operator<<(std::ostream& stream, const Client& client)
{
    stream << client.to_string();
    return stream;
}

} // namespace SmartRedis

#endif // __cplusplus
#endif // SMARTREDIS_CLIENT_H
