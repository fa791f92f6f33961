// Datasets and aggregation lists through SmartRedis's C++ API.
//
// Reads py_ds (written by Python: tensor "t", 2x3 float64 0..5; int64 field "steps" [1, 2, 3];
// string field "labels" ["a", "b"]), checks it, and writes cpp_ds (below) and cpp_ds_b,
// appends both to cpp_list, reads them back, checks that DataSet copies are deep, and logs
// through the client.
// Prints {"checked": n, "failures": [...], "list_names": [...]}; exits 1 on any failure.
#include "client.h"

namespace {

std::vector<std::string> failures;
size_t checked = 0;

void expect(bool ok, const std::string& what)
{
    checked++;
    if (!ok) failures.push_back(what);
}

std::string json_string(const std::string& s)
{
    std::string out = "\"";
    for (char ch : s) {
        if (ch == '"' || ch == '\\') out += '\\';
        out += ch;
    }
    return out + "\"";
}

void check_python_dataset(SmartRedis::Client& client)
{
    expect(client.dataset_exists("py_ds"), "dataset_exists(py_ds)");
    SmartRedis::DataSet ds = client.get_dataset("py_ds");
    expect(ds.get_name() == "py_ds", "py_ds name is " + ds.get_name());
    expect(ds.get_tensor_names() == std::vector<std::string>{"t"}, "py_ds tensor names");
    expect(ds.get_tensor_type("t") == SRTensorTypeDouble, "py_ds t type");
    expect(ds.get_tensor_dims("t") == std::vector<size_t>{2, 3}, "py_ds t dims");
    std::vector<double> t(6);
    ds.unpack_tensor("t", t.data(), {2, 3}, SRTensorTypeDouble, SRMemLayoutContiguous);
    expect(t == std::vector<double>{0, 1, 2, 3, 4, 5}, "py_ds t values");

    void* scalars = nullptr;
    size_t length = 0;
    SRMetaDataType type = SRMetadataTypeInvalid;
    ds.get_meta_scalars("steps", scalars, length, type);
    expect(type == SRMetadataTypeInt64 && length == 3, "py_ds steps type/length");
    if (type == SRMetadataTypeInt64 && length == 3) {
        const int64_t* v = static_cast<const int64_t*>(scalars);
        expect(v[0] == 1 && v[1] == 2 && v[2] == 3, "py_ds steps values");
    }
    expect(ds.get_meta_strings("labels") == std::vector<std::string>{"a", "b"},
           "py_ds labels");
    expect(ds.get_metadata_field_type("labels") == SRMetadataTypeString, "py_ds labels type");
    expect(ds.has_field("steps") && !ds.has_field("nope"), "py_ds has_field");
}

SmartRedis::DataSet make_dataset(const std::string& name)
{
    SmartRedis::DataSet ds(name);
    std::vector<double> f64 = {0.5, 1.5, 2.5, 3.5, 4.5, 5.5};
    ds.add_tensor("f64", f64.data(), {2, 3}, SRTensorTypeDouble, SRMemLayoutContiguous);
    std::vector<int16_t> i16 = {-3, -1, 1, 3};
    ds.add_tensor("i16", i16.data(), {4}, SRTensorTypeInt16, SRMemLayoutContiguous);
    std::vector<uint8_t> u8 = {0, 1, 2, 3, 252, 253, 254, 255};
    ds.add_tensor("u8", u8.data(), {2, 2, 2}, SRTensorTypeUint8, SRMemLayoutContiguous);

    const double d[2] = {0.25, -1e300};
    const float f[2] = {1.5f, -2.5f};
    const int32_t i32[2] = {-7, 2147483647};
    const int64_t i64[2] = {-9007199254740993LL, 42};
    const uint32_t u32[2] = {0, 4294967295U};
    const uint64_t u64[2] = {1, 18446744073709551615ULL};
    for (int k = 0; k < 2; k++) {
        ds.add_meta_scalar("m_double", &d[k], SRMetadataTypeDouble);
        ds.add_meta_scalar("m_float", &f[k], SRMetadataTypeFloat);
        ds.add_meta_scalar("m_int32", &i32[k], SRMetadataTypeInt32);
        ds.add_meta_scalar("m_int64", &i64[k], SRMetadataTypeInt64);
        ds.add_meta_scalar("m_uint32", &u32[k], SRMetadataTypeUint32);
        ds.add_meta_scalar("m_uint64", &u64[k], SRMetadataTypeUint64);
    }
    ds.add_meta_string("m_strings", "coarse");
    ds.add_meta_string("m_strings", "fine mesh");
    return ds;
}

// The fields make_dataset wrote, as this DataSet holds them.
void check_made(const SmartRedis::DataSet& ds, const std::string& what)
{
    expect(ds.get_tensor_names() == std::vector<std::string>{"f64", "i16", "u8"},
           what + " tensor names");
    void* data = nullptr;
    std::vector<size_t> dims;
    SRTensorType type = SRTensorTypeInvalid;
    ds.get_tensor("u8", data, dims, type, SRMemLayoutContiguous);
    expect(type == SRTensorTypeUint8 && dims == std::vector<size_t>{2, 2, 2},
           what + " u8 type/dims");
    expect(static_cast<uint8_t*>(data)[7] == 255, what + " u8 values");

    void* scalars = nullptr;
    size_t length = 0;
    SRMetaDataType mtype = SRMetadataTypeInvalid;
    ds.get_meta_scalars("m_uint64", scalars, length, mtype);
    expect(mtype == SRMetadataTypeUint64 && length == 2 &&
               static_cast<uint64_t*>(scalars)[1] == 18446744073709551615ULL,
           what + " m_uint64");
    ds.get_meta_scalars("m_float", scalars, length, mtype);
    expect(mtype == SRMetadataTypeFloat && length == 2 &&
               static_cast<float*>(scalars)[1] == -2.5f,
           what + " m_float");
    expect(ds.get_meta_strings("m_strings") == std::vector<std::string>{"coarse", "fine mesh"},
           what + " m_strings");
    std::vector<std::string> fields = ds.get_metadata_field_names();
    expect(fields.size() == 7, what + " has 7 fields");
}

void check_copies()
{
    SmartRedis::DataSet original = make_dataset("copy_src");
    SmartRedis::DataSet copy = original;             // deep copy
    check_made(copy, "copy");
    copy.add_meta_string("only_in_copy", "x");
    expect(copy.has_field("only_in_copy") && !original.has_field("only_in_copy"),
           "a DataSet copy is deep");
    copy.clear_field("only_in_copy");
    expect(!copy.has_field("only_in_copy"), "clear_field removes the field");
    copy.set_name("renamed");
    expect(copy.get_name() == "renamed", "set_name");
    check_made(copy, "renamed copy");

    SmartRedis::DataSet moved = std::move(original);
    check_made(moved, "moved");
    bool threw = false;
    try {
        original.get_tensor_names();  // NOLINT: use after move is the point
    }
    catch (const SmartRedis::RuntimeException&) {
        threw = true;
    }
    expect(threw, "a moved-from DataSet throws RuntimeException");
}

void check_lists(SmartRedis::Client& client, std::vector<std::string>& list_names)
{
    SmartRedis::DataSet a = make_dataset("cpp_ds");
    SmartRedis::DataSet b = make_dataset("cpp_ds_b");
    client.put_dataset(a);
    client.put_dataset(b);
    client.delete_list("cpp_list");
    client.append_to_list("cpp_list", a);
    client.append_to_list("cpp_list", b);
    expect(client.get_list_length("cpp_list") == 2, "get_list_length");
    expect(client.poll_list_length("cpp_list", 2, 10, 3), "poll_list_length");
    expect(client.poll_list_length_gte("cpp_list", 1, 10, 3), "poll_list_length_gte");
    expect(!client.poll_list_length_lte("cpp_list", 1, 10, 2), "poll_list_length_lte");

    std::vector<SmartRedis::DataSet> all = client.get_datasets_from_list("cpp_list");
    expect(all.size() == 2, "get_datasets_from_list size");
    for (const SmartRedis::DataSet& ds : all) {
        list_names.push_back(ds.get_name());
        check_made(ds, "list entry");
    }
    std::vector<SmartRedis::DataSet> last = client.get_dataset_list_range("cpp_list", -1, -1);
    expect(last.size() == 1, "get_dataset_list_range(-1, -1) size");

    client.copy_list("cpp_list", "cpp_list_copy");
    client.rename_list("cpp_list_copy", "cpp_list_renamed");
    expect(client.get_list_length("cpp_list_renamed") == 2, "copy_list + rename_list");
    client.delete_list("cpp_list_renamed");
    expect(client.get_list_length("cpp_list_renamed") == 0, "delete_list");

    SmartRedis::DataSet back = client.get_dataset("cpp_ds");
    check_made(back, "get_dataset(cpp_ds)");
    client.copy_dataset("cpp_ds_b", "cpp_ds_c");
    client.rename_dataset("cpp_ds_c", "cpp_ds_d");
    expect(client.dataset_exists("cpp_ds_d") && !client.dataset_exists("cpp_ds_c"),
           "copy_dataset + rename_dataset");
    client.delete_dataset("cpp_ds_d");
    expect(!client.poll_dataset("cpp_ds_d", 10, 2), "delete_dataset");
}

} // namespace

int main()
{
    std::vector<std::string> list_names;
    try {
        SmartRedis::Client client("cpp-datasets");
        check_python_dataset(client);
        check_copies();
        check_lists(client, list_names);
        // Through the C client: to the program's output and to the store's log records.
        client.log_data(LLInfo, "cpp datasets done");
        client.log_warning(LLInfo, "cpp datasets warning");
        client.log_error(LLInfo, "cpp datasets error");
    }
    catch (const std::exception& e) {
        failures.push_back(std::string("exception: ") + e.what());
    }

    std::cout << "{\"checked\": " << checked << ", \"failures\": [";
    for (size_t i = 0; i < failures.size(); i++)
        std::cout << (i ? ", " : "") << json_string(failures[i]);
    std::cout << "], \"list_names\": [";
    for (size_t i = 0; i < list_names.size(); i++)
        std::cout << (i ? ", " : "") << json_string(list_names[i]);
    std::cout << "]}" << std::endl;
    return failures.empty() ? 0 : 1;
}
