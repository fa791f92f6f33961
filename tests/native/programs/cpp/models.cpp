// Models and scripts through SmartRedis's C++ API, run by smartflow's inference workers.
//
// argv[1]: an ONNX file of tests/inference/models.py's add_model (sum = a + b, diff = a - b);
// argv[2]: a Python script file defining twice(x). Python has stored the same model as "add".
// Stores the model from the file and from a buffer, runs them and Python's on a and b (2x3
// float32, written here), runs the script from the file and one from a string, deletes what it
// stored, and prints {"checked": n, "failures": [...]}; exits 1 on any failure.
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
        if (static_cast<unsigned char>(ch) < 0x20) { out += ' '; continue; }
        out += ch;
    }
    return out + "\"";
}

std::string read_file(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream contents;
    contents << in.rdbuf();
    return contents.str();
}

std::vector<float> unpack(SmartRedis::Client& client, const std::string& key)
{
    std::vector<float> out(6);
    client.unpack_tensor(key, out.data(), {2, 3}, SRTensorTypeFloat, SRMemLayoutContiguous);
    return out;
}

const std::vector<float> a = {1, 2, 3, 4, 5, 6};
const std::vector<float> b = {0.5f, 0.25f, 0.125f, -1, -2, -3};

void expect_add(SmartRedis::Client& client, const std::string& sum, const std::string& diff,
                const std::string& what)
{
    std::vector<float> s = unpack(client, sum), d = unpack(client, diff);
    bool ok = true;
    for (size_t i = 0; i < 6; i++)
        ok = ok && s[i] == a[i] + b[i] && d[i] == a[i] - b[i];
    expect(ok, what + ": sum and diff");
}

void run(SmartRedis::Client& client, const std::string& model_file,
         const std::string& script_file)
{
    client.put_tensor("a", a.data(), {2, 3}, SRTensorTypeFloat, SRMemLayoutContiguous);
    client.put_tensor("b", b.data(), {2, 3}, SRTensorTypeFloat, SRMemLayoutContiguous);

    // Python's model, run from C++.
    client.run_model("add", {"a", "b"}, {"sum_py", "diff_py"});
    expect_add(client, "sum_py", "diff_py", "Python's model");

    // From a file, SmartRedis's argument list (batch size and the rest defaulted).
    client.set_model_from_file("add_cpp", model_file, "ONNX", "CPU");
    expect(client.model_exists("add_cpp"), "model_exists(add_cpp)");
    expect(client.poll_model("add_cpp", 10, 3), "poll_model(add_cpp)");
    client.run_model("add_cpp", {"a", "b"}, {"sum", "diff"});
    expect_add(client, "sum", "diff", "model from a file");
    const std::string bytes = read_file(model_file);
    expect(std::string(client.get_model("add_cpp")) == bytes, "get_model gives the file's bytes");

    // From a buffer, with every argument given.
    client.set_model("add_buf", bytes, "ONNX", "CPU", 0, 0, 0, "a tag", {}, {});
    client.run_model("add_buf", {"a", "b"}, {"sum_buf", "diff_buf"});
    expect_add(client, "sum_buf", "diff_buf", "model from a buffer");
    client.delete_model("add_buf");
    expect(!client.model_exists("add_buf"), "delete_model");

    // Scripts: Python functions over numpy arrays, next to the data.
    client.set_script_from_file("scale", "CPU", script_file);
    expect(std::string(client.get_script("scale")) == read_file(script_file),
           "get_script gives the file's source");
    client.run_script("scale", "twice", {"a"}, {"a2"});
    std::vector<float> a2 = unpack(client, "a2");
    bool ok = true;
    for (size_t i = 0; i < 6; i++) ok = ok && a2[i] == 2 * a[i];
    expect(ok, "run_script twice");

    client.set_script("inline", "CPU", std::string_view("def neg(x):\n    return -x\n"));
    client.run_script("inline", "neg", {"b"}, {"neg_b"});
    std::vector<float> nb = unpack(client, "neg_b");
    ok = true;
    for (size_t i = 0; i < 6; i++) ok = ok && nb[i] == -b[i];
    expect(ok, "run_script from a string");
    client.delete_script("inline");
    expect(!client.model_exists("inline"), "delete_script");
}

} // namespace

int main(int argc, char* argv[])
{
    if (argc != 3) {
        std::cerr << "usage: models MODEL.onnx SCRIPT.py" << std::endl;
        return 2;
    }
    try {
        SmartRedis::Client client("cpp-models");
        run(client, argv[1], argv[2]);
    }
    catch (const std::exception& e) {
        failures.push_back(std::string("exception: ") + e.what());
    }
    std::cout << "{\"checked\": " << checked << ", \"failures\": [";
    for (size_t i = 0; i < failures.size(); i++)
        std::cout << (i ? ", " : "") << json_string(failures[i]);
    std::cout << "]}" << std::endl;
    return failures.empty() ? 0 : 1;
}
