// A user's smallest C++ program: connect from the environment, put one tensor.
#include "client.h"

int main() {
    try {
        SmartRedis::Client client("hello-cpp");
        std::vector<int32_t> data(3, 2);
        client.put_tensor("hello_cpp", data.data(), {3}, SRTensorTypeInt32, SRMemLayoutContiguous);
    } catch (const std::exception& e) {
        std::cerr << e.what() << std::endl;
        return 1;
    }
    std::cout << "hello" << std::endl;
    return 0;
}
