// Connecting with whatever the environment says (the test gives a wrong password or a dead
// store): prints {"class": ..., "code": ..., "message": ...} for the exception the Client
// constructor throws, or {"class": "none"} if it connected. Exits 0 either way.
#include "client.h"

int main()
{
    std::string report = "{\"class\": \"none\"}";
    try {
        SmartRedis::Client client("cpp-connect");
        client.tensor_exists("anything");
    }
    catch (SmartRedis::Exception& e) {
        std::string message;
        for (const char* p = e.what(); *p; p++) {
            if (*p == '"' || *p == '\\') message += '\\';
            message += (static_cast<unsigned char>(*p) < 0x20) ? ' ' : *p;
        }
        report = "{\"class\": \"" + e.exception_class() + "\", \"code\": " +
                 std::to_string(static_cast<int>(e.to_error_code())) + ", \"message\": \"" +
                 message + "\"}";
    }
    std::cout << report << std::endl;
    return 0;
}
