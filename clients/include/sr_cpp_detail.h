/*
 * smartflow native clients: internals shared by the header-only C++ layer (client.h,
 * dataset.h, configoptions.h). Not part of SmartRedis's API: everything is in
 * SmartRedis::detail.
 */
#ifndef SMARTFLOW_SR_CPP_DETAIL_H
#define SMARTFLOW_SR_CPP_DETAIL_H

#ifdef __cplusplus
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>
#include "sr_enums.h"
#include "srexception.h"

namespace SmartRedis {
namespace detail {

/*!
*   \brief A vector of strings as the (pointers, lengths, count) triple the C API takes.
*   \details The pointers are never NULL, even for an empty vector: SmartRedis's C API refuses
*            NULL arrays whatever the count, so an empty list is a count of zero.
*/
class CStringArray
{
    public:
        explicit CStringArray(const std::vector<std::string>& strings)
        {
            _ptrs.reserve(strings.size() + 1);
            _lens.reserve(strings.size() + 1);
            for (const std::string& s : strings) {
                _ptrs.push_back(s.c_str());
                _lens.push_back(s.size());
            }
            _count = strings.size();
            if (_count == 0) {
                _ptrs.push_back("");
                _lens.push_back(0);
            }
        }

        const char** data() { return _ptrs.data(); }
        const size_t* lengths() const { return _lens.data(); }
        size_t size() const { return _count; }

    private:
        std::vector<const char*> _ptrs;
        std::vector<size_t> _lens;
        size_t _count = 0;
};

/*!
*   \brief Strings handed out by the C API as (array, count, lengths) copied into a vector.
*/
inline std::vector<std::string> to_strings(char** data, size_t n, const size_t* lengths)
{
    std::vector<std::string> out;
    out.reserve(n);
    for (size_t i = 0; i < n; i++)
        out.emplace_back(data[i], lengths != nullptr ? lengths[i] : std::char_traits<char>::length(data[i]));
    return out;
}

/*!
*   \brief Bytes per element of a tensor type (0 for an invalid type).
*/
inline size_t tensor_type_size(SRTensorType type)
{
    switch (type) {
        case SRTensorTypeDouble: return sizeof(double);
        case SRTensorTypeFloat:  return sizeof(float);
        case SRTensorTypeInt8:   return sizeof(int8_t);
        case SRTensorTypeInt16:  return sizeof(int16_t);
        case SRTensorTypeInt32:  return sizeof(int32_t);
        case SRTensorTypeInt64:  return sizeof(int64_t);
        case SRTensorTypeUint8:  return sizeof(uint8_t);
        case SRTensorTypeUint16: return sizeof(uint16_t);
        default:                 return 0;
    }
}

/*!
*   \brief Bytes per value of a numeric metadata type (0 for strings and invalid types).
*/
inline size_t metadata_type_size(SRMetaDataType type)
{
    switch (type) {
        case SRMetadataTypeDouble: return sizeof(double);
        case SRMetadataTypeFloat:  return sizeof(float);
        case SRMetadataTypeInt32:  return sizeof(int32_t);
        case SRMetadataTypeInt64:  return sizeof(int64_t);
        case SRMetadataTypeUint32: return sizeof(uint32_t);
        case SRMetadataTypeUint64: return sizeof(uint64_t);
        default:                   return 0;
    }
}

} // namespace detail
} // namespace SmartRedis

#endif // __cplusplus
#endif // SMARTFLOW_SR_CPP_DETAIL_H
