// Bad input through SmartRedis's C++ API: each case must throw a SmartRedis::Exception.
//
// Python has written py_err, a 2x3 float64 tensor. Prints one JSON object mapping each case to
// {"class": exception_class(), "code": to_error_code(), "message": what()}, or to
// {"class": "none"} when nothing was thrown (the test then fails); exits 0 once every case ran.
#include "client.h"

#include <functional>
#include <map>

namespace {

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

std::map<std::string, std::string> results;

void attempt(const std::string& name, const std::function<void()>& body)
{
    try {
        body();
        results[name] = "{\"class\": \"none\"}";
    }
    catch (SmartRedis::Exception& e) {
        results[name] = "{\"class\": " + json_string(e.exception_class()) +
                        ", \"code\": " + std::to_string(static_cast<int>(e.to_error_code())) +
                        ", \"message\": " + json_string(e.what()) + "}";
    }
    catch (std::exception& e) {
        results[name] = "{\"class\": \"std::exception\", \"message\": " +
                        json_string(e.what()) + "}";
    }
}

} // namespace

int main()
{
    SmartRedis::Client client("cpp-errors");
    std::vector<double> buffer(9);
    attempt("unpack_missing", [&] {
        client.unpack_tensor("no_such_tensor", buffer.data(), {2, 3}, SRTensorTypeDouble,
                             SRMemLayoutContiguous);
    });
    attempt("get_missing", [&] {
        void* data = nullptr;
        std::vector<size_t> dims;
        SRTensorType type;
        client.get_tensor("no_such_tensor", data, dims, type, SRMemLayoutContiguous);
    });
    attempt("unpack_wrong_dims", [&] {
        client.unpack_tensor("py_err", buffer.data(), {3, 3}, SRTensorTypeDouble,
                             SRMemLayoutContiguous);
    });
    attempt("unpack_wrong_rank", [&] {
        client.unpack_tensor("py_err", buffer.data(), {2, 3, 1}, SRTensorTypeDouble,
                             SRMemLayoutContiguous);
    });
    attempt("unpack_wrong_type", [&] {
        client.unpack_tensor("py_err", buffer.data(), {2, 3}, SRTensorTypeInt32,
                             SRMemLayoutContiguous);
    });
    attempt("put_empty_name", [&] {
        client.put_tensor("", buffer.data(), {3}, SRTensorTypeDouble, SRMemLayoutContiguous);
    });
    attempt("put_invalid_type", [&] {
        client.put_tensor("bad_type", buffer.data(), {3}, SRTensorTypeInvalid,
                          SRMemLayoutContiguous);
    });
    attempt("get_dataset_missing", [&] { client.get_dataset("no_such_dataset"); });
    attempt("set_model_torch", [&] {
        client.set_model("torch_model", std::string_view("not a model"), "TORCH", "CPU");
    });
    attempt("set_model_from_missing_file", [&] {
        client.set_model_from_file("onnx_model", "/no/such/model.onnx", "ONNX", "CPU");
    });
    attempt("run_missing_model", [&] {
        client.run_model("no_such_model", {"py_err"}, {"py_err_out"});
    });
    attempt("get_ai_info", [&] { client.get_ai_info("127.0.0.1:6379", "m", false); });
    attempt("dataset_missing_tensor", [&] {
        SmartRedis::DataSet ds("local");
        ds.get_tensor_type("no_such_tensor");
    });
    attempt("dataset_missing_field", [&] {
        SmartRedis::DataSet ds("local");
        ds.get_meta_strings("no_such_field");
    });
    attempt("dataset_invalid_type", [&] {
        SmartRedis::DataSet ds("local");
        ds.add_tensor("t", buffer.data(), {3}, SRTensorTypeInvalid, SRMemLayoutContiguous);
    });
    attempt("moved_client", [&] {
        SmartRedis::Client other(std::move(client));
        client.tensor_exists("py_err");  // NOLINT: use after move is the point
    });

    std::cout << "{";
    bool first = true;
    for (const auto& [name, result] : results) {
        std::cout << (first ? "" : ", ") << json_string(name) << ": " << result;
        first = false;
    }
    std::cout << "}" << std::endl;
    return 0;
}
