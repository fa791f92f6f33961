// Every tensor type at ranks 1-4, both ways, through SmartRedis's C++ API.
//
// Reads py_<type>_<rank> (written by Python with value_at below) every way the API offers:
// unpack_tensor into C order, into one flat dimension (SmartRedis's rule), into Fortran order;
// get_tensor contiguous and nested. Then writes cpp_<type>_<rank> (C order) and
// cppf_<type>_<rank> (the same values from a Fortran-order buffer), and cppn_double_2 from
// nested rows, for Python to read; reads the chunked py_chunked and writes cpp_chunked. Prints {"checked": n, "failures": [...]}; exits 1 on any.
#include "client.h"

#include <type_traits>

namespace {

std::vector<std::string> failures;
size_t checked = 0;

// The value at C-order position i; Python's test computes the same numbers.
template <class T>
T value_at(size_t i)
{
    const long long base = static_cast<long long>((i * 7) % 101);
    if constexpr (std::is_same_v<T, double>) return static_cast<double>(i) * 0.1 - 2.0;
    else if constexpr (std::is_same_v<T, float>) return static_cast<float>(i) * 0.5f - 3.25f;
    else if constexpr (std::is_same_v<T, int8_t>) return static_cast<T>(base - 50);
    else if constexpr (std::is_same_v<T, int16_t>) return static_cast<T>((base - 50) * 300);
    else if constexpr (std::is_same_v<T, int32_t>) return static_cast<T>((base - 50) << 20);
    else if constexpr (std::is_same_v<T, int64_t>) return static_cast<T>((base - 50) * (1LL << 33));
    else if constexpr (std::is_same_v<T, uint8_t>) return static_cast<T>(base + 150);
    else return static_cast<T>(base * 600);  // uint16_t
}

std::vector<size_t> shape_of(int rank)
{
    switch (rank) {
        case 1: return {5};
        case 2: return {3, 4};
        case 3: return {2, 3, 4};
        default: return {2, 3, 2, 2};
    }
}

size_t count_of(const std::vector<size_t>& dims)
{
    size_t n = 1;
    for (size_t d : dims) n *= d;
    return n;
}

// The column-major offset of the element at C-order offset c.
size_t fortran_offset(size_t c, const std::vector<size_t>& dims)
{
    std::vector<size_t> index(dims.size());
    for (size_t k = dims.size(); k-- > 0;) {
        index[k] = c % dims[k];
        c /= dims[k];
    }
    size_t f = 0, stride = 1;
    for (size_t k = 0; k < dims.size(); k++) {
        f += index[k] * stride;
        stride *= dims[k];
    }
    return f;
}

// An element of a nested (arrays of pointers) tensor at C-order offset c.
template <class T>
T nested_at(void* data, size_t c, const std::vector<size_t>& dims)
{
    std::vector<size_t> index(dims.size());
    for (size_t k = dims.size(); k-- > 0;) {
        index[k] = c % dims[k];
        c /= dims[k];
    }
    void* p = data;
    for (size_t k = 0; k + 1 < dims.size(); k++)
        p = static_cast<void**>(p)[index[k]];
    return static_cast<T*>(p)[index.back()];
}

void fail(const std::string& what) { failures.push_back(what); }

template <class T>
void expect_values(const std::string& what, const T* got, size_t n,
                   const std::vector<size_t>* fortran_dims = nullptr)
{
    checked++;
    for (size_t i = 0; i < n; i++) {
        const T want = value_at<T>(i);
        const T have = fortran_dims ? got[fortran_offset(i, *fortran_dims)] : got[i];
        if (have != want) {
            fail(what + ": element " + std::to_string(i) + " is " +
                 std::to_string(static_cast<double>(have)) + ", expected " +
                 std::to_string(static_cast<double>(want)));
            return;
        }
    }
}

template <class T>
void round_trip(SmartRedis::Client& client, const char* type_name, SRTensorType type, int rank)
{
    const std::string suffix = std::string(type_name) + "_" + std::to_string(rank);
    const std::string key = "py_" + suffix;
    const std::vector<size_t> dims = shape_of(rank);
    const size_t n = count_of(dims);

    try {
        std::vector<T> buffer(n);
        client.unpack_tensor(key, buffer.data(), dims, type, SRMemLayoutContiguous);
        expect_values(key + " unpack", buffer.data(), n);

        std::vector<T> flat(n);
        client.unpack_tensor(key, flat.data(), {n}, type, SRMemLayoutContiguous);
        expect_values(key + " unpack flat", flat.data(), n);

        std::vector<T> fortran(n);
        client.unpack_tensor(key, fortran.data(), dims, type, SRMemLayoutFortranContiguous);
        expect_values(key + " unpack fortran", fortran.data(), n, &dims);

        void* data = nullptr;
        std::vector<size_t> got_dims;
        SRTensorType got_type = SRTensorTypeInvalid;
        client.get_tensor(key, data, got_dims, got_type, SRMemLayoutContiguous);
        if (got_type != type) fail(key + " get: wrong type " + std::to_string(got_type));
        if (got_dims != dims) fail(key + " get: wrong dims");
        expect_values(key + " get", static_cast<T*>(data), n);

        void* nested = nullptr;
        client.get_tensor(key, nested, got_dims, got_type, SRMemLayoutNested);
        checked++;
        for (size_t i = 0; i < n; i++)
            if (nested_at<T>(nested, i, dims) != value_at<T>(i)) {
                fail(key + " get nested: element " + std::to_string(i));
                break;
            }

        std::vector<T> out(n), out_fortran(n);
        for (size_t i = 0; i < n; i++) {
            out[i] = value_at<T>(i);
            out_fortran[fortran_offset(i, dims)] = value_at<T>(i);
        }
        client.put_tensor("cpp_" + suffix, out.data(), dims, type, SRMemLayoutContiguous);
        client.put_tensor("cppf_" + suffix, out_fortran.data(), dims, type,
                          SRMemLayoutFortranContiguous);
    }
    catch (const SmartRedis::Exception& e) {
        fail(key + ": " + e.what());
    }
}

template <class T>
void all_ranks(SmartRedis::Client& client, const char* type_name, SRTensorType type)
{
    for (int rank = 1; rank <= 4; rank++)
        round_trip<T>(client, type_name, type, rank);
}

std::string json_string(const std::string& s)
{
    std::string out = "\"";
    for (char ch : s) {
        if (ch == '"' || ch == '\\') out += '\\';
        if (static_cast<unsigned char>(ch) < 0x20) { out += ' '; continue; }
        out += ch;
    }
    return out + "\"";
}

} // namespace

int main()
{
    try {
        SmartRedis::Client client("cpp-tensors");
        all_ranks<double>(client, "double", SRTensorTypeDouble);
        all_ranks<float>(client, "float", SRTensorTypeFloat);
        all_ranks<int8_t>(client, "int8", SRTensorTypeInt8);
        all_ranks<int16_t>(client, "int16", SRTensorTypeInt16);
        all_ranks<int32_t>(client, "int32", SRTensorTypeInt32);
        all_ranks<int64_t>(client, "int64", SRTensorTypeInt64);
        all_ranks<uint8_t>(client, "uint8", SRTensorTypeUint8);
        all_ranks<uint16_t>(client, "uint16", SRTensorTypeUint16);

        // A tensor Python stored in chunks (a list of pieces), and one this program stores
        // chunked (the test sets SMARTFLOW_CHUNK_BYTES below the tensor's size).
        const std::vector<size_t> big = {50, 100};
        std::vector<double> chunked(5000);
        client.unpack_tensor("py_chunked", chunked.data(), big, SRTensorTypeDouble,
                             SRMemLayoutContiguous);
        expect_values("py_chunked unpack", chunked.data(), chunked.size());
        for (size_t i = 0; i < chunked.size(); i++) chunked[i] = value_at<double>(i);
        client.put_tensor("cpp_chunked", chunked.data(), big, SRTensorTypeDouble,
                          SRMemLayoutContiguous);

        // Nested rows in: a 3x4 double tensor given as three row pointers.
        std::vector<double> rows(12);
        for (size_t i = 0; i < rows.size(); i++) rows[i] = value_at<double>(i);
        double* row_ptrs[3] = {&rows[0], &rows[4], &rows[8]};
        client.put_tensor("cppn_double_2", row_ptrs, {3, 4}, SRTensorTypeDouble,
                          SRMemLayoutNested);
    }
    catch (const std::exception& e) {
        fail(std::string("client: ") + e.what());
    }

    std::cout << "{\"checked\": " << checked << ", \"failures\": [";
    for (size_t i = 0; i < failures.size(); i++)
        std::cout << (i ? ", " : "") << json_string(failures[i]);
    std::cout << "]}" << std::endl;
    return failures.empty() ? 0 : 1;
}
