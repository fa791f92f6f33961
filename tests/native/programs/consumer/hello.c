/* A user's smallest C program: connect from the environment, put one tensor. */
#include <stdio.h>
#include <string.h>
#include "c_client.h"

int main(void) {
    void* client = NULL;
    const char* logger = "hello-c";
    if (SimpleCreateClient(logger, strlen(logger), &client) != SRNoError) {
        fprintf(stderr, "connect: %s\n", SRGetLastError());
        return 1;
    }
    int32_t data[3] = {1, 1, 1};
    size_t dims[1] = {3};
    const char* key = "hello_c";
    if (put_tensor(client, key, strlen(key), data, dims, 1, SRTensorTypeInt32,
                   SRMemLayoutContiguous) != SRNoError) {
        fprintf(stderr, "put_tensor: %s\n", SRGetLastError());
        return 1;
    }
    DeleteCClient(&client);
    printf("hello\n");
    return 0;
}
