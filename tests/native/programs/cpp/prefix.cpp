// Ensemble prefixes through SmartRedis's C++ API. Run with SSKEYOUT=member_a and
// SSKEYIN=member_a,member_b (the test sets them); Python has stored member_b.shared (int32 [7]).
//
// Writes "mine" (stored as member_a.mine), reads it back, reads member_b's "shared" after
// set_data_source("member_b"), writes "plain" with tensor prefixing off (stored as plain), and
// prints {"checked": n, "failures": [...]}; exits 1 on any failure.
#include "client.h"

namespace {

std::vector<std::string> failures;
size_t checked = 0;

void expect(bool ok, const std::string& what)
{
    checked++;
    if (!ok) failures.push_back(what);
}

} // namespace

int main()
{
    try {
        SmartRedis::Client client("cpp-prefix");
        const int32_t mine[2] = {1, 2};
        client.put_tensor("mine", mine, {2}, SRTensorTypeInt32, SRMemLayoutContiguous);
        expect(client.key_exists("member_a.mine"), "key_exists(member_a.mine)");
        expect(client.tensor_exists("mine"), "tensor_exists(mine) reads its own prefix");

        client.set_data_source("member_b");
        int32_t shared[1] = {0};
        client.unpack_tensor("shared", shared, {1}, SRTensorTypeInt32, SRMemLayoutContiguous);
        expect(shared[0] == 7, "member_b's shared is 7");
        expect(!client.tensor_exists("mine"), "member_b has no mine");
        client.set_data_source("member_a");

        client.use_tensor_ensemble_prefix(false);
        const int32_t plain[1] = {3};
        client.put_tensor("plain", plain, {1}, SRTensorTypeInt32, SRMemLayoutContiguous);
        expect(client.key_exists("plain"), "unprefixed plain");
    }
    catch (const std::exception& e) {
        failures.push_back(std::string("exception: ") + e.what());
    }
    std::cout << "{\"checked\": " << checked << ", \"failures\": [";
    for (size_t i = 0; i < failures.size(); i++)
        std::cout << (i ? ", " : "") << "\"" << failures[i] << "\"";
    std::cout << "]}" << std::endl;
    return failures.empty() ? 0 : 1;
}
