/*
 * smartflow native clients: SmartRedis's C++ DataSet, header-only over the C DataSet API
 * (c_dataset.h).
 *
 * A DataSet owns one C dataset handle and frees it when destroyed. As in SmartRedis, a DataSet
 * is copyable (a copy is a deep copy: every tensor and metadata field is copied through the C
 * API into a new handle) and movable (a move hands the handle over; the moved-from DataSet
 * throws RuntimeException when used).
 */
#ifndef SMARTREDIS_DATASET_H
#define SMARTREDIS_DATASET_H

#ifdef __cplusplus
#include <stdlib.h>
#include <algorithm>
#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <vector>
#include "sr_enums.h"
#include "srexception.h"
#include "srobject.h"
#include "c_dataset.h"
#include "sr_cpp_detail.h"

namespace SmartRedis {

class Client;

/*!
*   \brief Named tensors plus metadata fields, stored and fetched as one entity.
*/
class DataSet : public SRObject
{
    public:
        /*!
        *   \brief An empty DataSet called \p name
        *   \throw ParameterException if \p name is empty
        */
        DataSet(const std::string& name) : SRObject(name), _dsname(name)
        {
            detail::check(::CDataSet(name.data(), name.size(), &_ds), "CDataSet");
        }

        /*! \brief A deep copy of \p dataset (tensors and metadata) */
        DataSet(const DataSet& dataset) : SRObject(dataset), _dsname(dataset._dsname)
        {
            _ds = dataset._copy_handle(dataset._dsname, std::string());
        }

        /*! \brief Replace this DataSet by a deep copy of \p dataset */
        DataSet& operator=(const DataSet& dataset)
        {
            if (this != &dataset) {
                void* fresh = dataset._copy_handle(dataset._dsname, std::string());
                _release();
                _ds = fresh;
                _dsname = dataset._dsname;
                _lname = dataset._lname;
            }
            return *this;
        }

        /*! \brief Take over \p dataset's contents; \p dataset is left empty */
        DataSet(DataSet&& dataset) noexcept
          : SRObject(std::move(dataset)), _ds(dataset._ds), _dsname(std::move(dataset._dsname))
        {
            dataset._ds = nullptr;
        }

        /*! \brief Take over \p dataset's contents; \p dataset is left empty */
        DataSet& operator=(DataSet&& dataset) noexcept
        {
            if (this != &dataset) {
                _release();
                _ds = dataset._ds;
                dataset._ds = nullptr;
                _dsname = std::move(dataset._dsname);
                _lname = std::move(dataset._lname);
            }
            return *this;
        }

        virtual ~DataSet() { _release(); }

        /*!
        *   \brief Add a tensor (its data is copied)
        *   \throw ParameterException for a bad name, dims, type or layout
        */
        void add_tensor(const std::string& name,
                        const void* data,
                        const std::vector<size_t>& dims,
                        const SRTensorType type,
                        const SRMemoryLayout mem_layout)
        {
            detail::check(::add_tensor(_handle(), name.data(), name.size(),
                                       const_cast<void*>(data), dims.data(), dims.size(),
                                       type, mem_layout),
                          "add_tensor");
        }

        /*!
        *   \brief Append a numeric value (\p data points to a value of \p type) to a field
        *   \details The field is created if absent; for strings use add_meta_string().
        */
        void add_meta_scalar(const std::string& name,
                             const void* data,
                             const SRMetaDataType type)
        {
            detail::check(::add_meta_scalar(_handle(), name.data(), name.size(), data, type),
                          "add_meta_scalar");
        }

        /*! \brief Append a string to a metadata field, creating the field if absent */
        void add_meta_string(const std::string& name, const std::string& data)
        {
            detail::check(::add_meta_string(_handle(), name.data(), name.size(),
                                            data.data(), data.size()),
                          "add_meta_string");
        }

        /*!
        *   \brief Get a tensor in memory the DataSet owns (valid until it is destroyed)
        *   \throw KeyException if the DataSet has no tensor \p name
        */
        void get_tensor(const std::string& name,
                        void*& data,
                        std::vector<size_t>& dims,
                        SRTensorType& type,
                        const SRMemoryLayout mem_layout) const
        {
            size_t* c_dims = nullptr;
            size_t n_dims = 0;
            get_tensor(name, data, c_dims, n_dims, type, mem_layout);
            dims.assign(c_dims, c_dims + n_dims);
        }

        /*!
        *   \brief Get a tensor, C-style dimensions; data and dims are owned by the DataSet
        */
        void get_tensor(const std::string& name,
                        void*& data,
                        size_t*& dims,
                        size_t& n_dims,
                        SRTensorType& type,
                        const SRMemoryLayout mem_layout) const
        {
            detail::check(::get_dataset_tensor(_handle(), name.data(), name.size(), &data,
                                               &dims, &n_dims, &type, mem_layout),
                          "get_dataset_tensor");
        }

        /*!
        *   \brief Copy a tensor into the caller's buffer of shape \p dims and type \p type
        *   \throw KeyException if absent; TypeException or ParameterException on a mismatch
        */
        void unpack_tensor(const std::string& name,
                           void* data,
                           const std::vector<size_t>& dims,
                           const SRTensorType type,
                           const SRMemoryLayout mem_layout)
        {
            detail::check(::unpack_dataset_tensor(_handle(), name.data(), name.size(), data,
                                                  dims.data(), dims.size(), type, mem_layout),
                          "unpack_dataset_tensor");
        }

        /*!
        *   \brief The values of a numeric metadata field (memory owned by the DataSet)
        */
        void get_meta_scalars(const std::string& name,
                              void*& data,
                              size_t& length,
                              SRMetaDataType& type) const
        {
            detail::check(::get_meta_scalars(_handle(), name.data(), name.size(), &length,
                                             &type, &data),
                          "get_meta_scalars");
        }

        /*! \brief The values of a string metadata field */
        std::vector<std::string> get_meta_strings(const std::string& name) const
        {
            char** data = nullptr;
            size_t n_strings = 0;
            size_t* lengths = nullptr;
            get_meta_strings(name, data, n_strings, lengths);
            return detail::to_strings(data, n_strings, lengths);
        }

        /*! \brief The values of a string metadata field, C-style (owned by the DataSet) */
        void get_meta_strings(const std::string& name,
                              char**& data,
                              size_t& n_strings,
                              size_t*& lengths) const
        {
            detail::check(::get_meta_strings(_handle(), name.data(), name.size(), &data,
                                             &n_strings, &lengths),
                          "get_meta_strings");
        }

        /*! \brief Whether the DataSet has metadata field \p field_name */
        bool has_field(const std::string& field_name) const
        {
            const std::vector<std::string> names = get_metadata_field_names();
            return std::find(names.begin(), names.end(), field_name) != names.end();
        }

        /*!
        *   \brief Remove metadata field \p field_name (nothing happens if it is absent)
        *   \details The C API cannot remove a field, so the DataSet is rebuilt without it.
        */
        void clear_field(const std::string& field_name)
        {
            if (!has_field(field_name))
                return;
            void* fresh = _copy_handle(_dsname, field_name);
            _release();
            _ds = fresh;
        }

        /*! \brief The DataSet's name */
        std::string get_name() const { return _dsname; }

        /*!
        *   \brief Rename the DataSet (its contents are kept)
        *   \throw ParameterException if \p name is empty
        */
        void set_name(std::string name)
        {
            if (name.empty())
                throw SRParameterException("Name must be non-zero length");
            void* fresh = _copy_handle(name, std::string());
            _release();
            _ds = fresh;
            _dsname = name;
        }

        /*! \brief The names of the DataSet's tensors, in the order they were added */
        std::vector<std::string> get_tensor_names() const
        {
            char** data = nullptr;
            size_t n = 0;
            size_t* lengths = nullptr;
            get_tensor_names(data, n, lengths);
            return detail::to_strings(data, n, lengths);
        }

        /*! \brief The names of the DataSet's tensors, C-style (owned by the DataSet) */
        void get_tensor_names(char**& data, size_t& n_strings, size_t*& lengths) const
        {
            detail::check(::get_tensor_names(_handle(), &data, &n_strings, &lengths),
                          "get_tensor_names");
        }

        /*! \brief The type of tensor \p name \throw KeyException if absent */
        SRTensorType get_tensor_type(const std::string& name) const
        {
            SRTensorType type = SRTensorTypeInvalid;
            detail::check(::get_tensor_type(_handle(), name.data(), name.size(), &type),
                          "get_tensor_type");
            return type;
        }

        /*! \brief The dimensions of tensor \p name \throw KeyException if absent */
        const std::vector<size_t> get_tensor_dims(const std::string& name) const
        {
            std::vector<size_t> buffer(8);
            for (int attempt = 0; attempt < 2; attempt++) {
                size_t* dims = buffer.data();
                size_t n_dims = buffer.size();
                SRError rc = ::get_tensor_dims(_handle(), name.data(), name.size(), &dims,
                                               &n_dims);
                if (rc == SRNoError)
                    return std::vector<size_t>(dims, dims + n_dims);
                // Too small a buffer: the C API says how many slots it needs; ask again.
                if (rc != SRBadAllocError || n_dims <= buffer.size())
                    detail::throw_sr_error(rc, "get_tensor_dims");
                buffer.resize(n_dims);
            }
            throw SRInternalException("get_tensor_dims: the rank changed between two calls");
        }

        /*! \brief The names of the DataSet's metadata fields */
        std::vector<std::string> get_metadata_field_names() const
        {
            char** data = nullptr;
            size_t n = 0;
            size_t* lengths = nullptr;
            get_metadata_field_names(data, n, lengths);
            return detail::to_strings(data, n, lengths);
        }

        /*! \brief The names of the DataSet's metadata fields, C-style (owned by the DataSet) */
        void get_metadata_field_names(char**& data, size_t& n_strings, size_t*& lengths) const
        {
            detail::check(::get_metadata_field_names(_handle(), &data, &n_strings, &lengths),
                          "get_metadata_field_names");
        }

        /*! \brief The type of metadata field \p name \throw KeyException if absent */
        SRMetaDataType get_metadata_field_type(const std::string& name) const
        {
            SRMetaDataType type = SRMetadataTypeInvalid;
            detail::check(::get_metadata_field_type(_handle(), name.data(), name.size(), &type),
                          "get_metadata_field_type");
            return type;
        }

        /*! \brief A description of the DataSet */
        std::string to_string() const
        {
            const char* text = ::dataset_to_string(_handle());
            return text != nullptr ? std::string(text) : std::string();
        }

        /*! \brief (smartflow) The C API handle; it stays owned by this DataSet */
        void* _c_handle() const { return _handle(); }

        friend class Client;

    private:
        /*! \brief Take ownership of a handle the C API made (get_dataset and lists) */
        struct adopt_tag {};
        DataSet(adopt_tag, void* handle, const std::string& name)
          : SRObject(name), _ds(handle), _dsname(name) {}

        void* _handle() const
        {
            if (_ds == nullptr)
                throw SRRuntimeException("this DataSet was moved from and holds nothing");
            return _ds;
        }

        void _release() noexcept
        {
            if (_ds != nullptr)
                ::DeallocateDataSet(&_ds);
            _ds = nullptr;
        }

        /*!
        *   \brief A new C dataset called \p name holding a copy of this one's tensors and
        *          metadata, less field \p skip_field (none if empty)
        */
        void* _copy_handle(const std::string& name, const std::string& skip_field) const
        {
            void* src = _handle();
            void* dst = nullptr;
            detail::check(::CDataSet(name.data(), name.size(), &dst), "CDataSet");
            try {
                for (const std::string& tname : get_tensor_names())
                    _copy_tensor(src, dst, tname);
                for (const std::string& field : get_metadata_field_names()) {
                    if (!skip_field.empty() && field == skip_field)
                        continue;
                    _copy_field(dst, field);
                }
            }
            catch (...) {
                ::DeallocateDataSet(&dst);
                throw;
            }
            return dst;
        }

        // Unpacked into a scratch buffer, so that the copy leaves no memory behind in src.
        void _copy_tensor(void* src, void* dst, const std::string& tname) const
        {
            const SRTensorType type = get_tensor_type(tname);
            const std::vector<size_t> dims = get_tensor_dims(tname);
            size_t count = 1;
            for (size_t d : dims)
                count *= d;
            std::vector<unsigned char> buffer(std::max<size_t>(count * detail::tensor_type_size(type), 1));
            detail::check(::unpack_dataset_tensor(src, tname.data(), tname.size(), buffer.data(),
                                                  dims.data(), dims.size(), type,
                                                  SRMemLayoutContiguous),
                          "unpack_dataset_tensor");
            detail::check(::add_tensor(dst, tname.data(), tname.size(), buffer.data(),
                                       dims.data(), dims.size(), type, SRMemLayoutContiguous),
                          "add_tensor");
        }

        void _copy_field(void* dst, const std::string& field) const
        {
            const SRMetaDataType type = get_metadata_field_type(field);
            if (type == SRMetadataTypeString) {
                for (const std::string& value : get_meta_strings(field))
                    detail::check(::add_meta_string(dst, field.data(), field.size(),
                                                    value.data(), value.size()),
                                  "add_meta_string");
                return;
            }
            void* values = nullptr;
            size_t length = 0;
            SRMetaDataType got = SRMetadataTypeInvalid;
            get_meta_scalars(field, values, length, got);
            const size_t size = detail::metadata_type_size(got);
            for (size_t i = 0; i < length; i++)
                detail::check(::add_meta_scalar(dst, field.data(), field.size(),
                                                static_cast<const char*>(values) + i * size, got),
                              "add_meta_scalar");
        }

        /*! \brief The C dataset (NULL once moved from) */
        void* _ds = nullptr;

        /*! \brief The DataSet's name */
        std::string _dsname;
};

namespace detail {

/*! \brief The name of a C dataset the C API made (datasets of aggregation lists) */
inline std::string c_dataset_name(void* dataset)
{
    const char* name = nullptr;
    size_t length = 0;
    check(::get_dataset_name(dataset, &name, &length), "get_dataset_name");
    return std::string(name, length);
}

} // namespace detail

/*! \brief Write the DataSet's description */
inline std::ostream& operator<<(std::ostream& stream, const DataSet& dataset)
{
    stream << dataset.to_string();
    return stream;
}

} // namespace SmartRedis

#endif // __cplusplus
#endif // SMARTREDIS_DATASET_H
