/* Timings of the C client for benchmarks/bench_native.py.
 *   bench_client put|get <bytes> <ops>      put_tensor / unpack_tensor of a uint8 tensor
 *   bench_client bulk <count> <bytes>       put_tensors + unpack_tensors of count tensors
 *   bench_client all                        1 KiB, 1 MiB, 16 MiB put/get and 10,000 x 1 KiB bulk
 * One JSON object per line: {"case": ..., "seconds_per_op": ..., "ops": ...}. */
#define _POSIX_C_SOURCE 200809L
#include "c_client.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int fail(const char* what)
{
    fprintf(stderr, "%s: %s\n", what, SRGetLastError());
    return 1;
}

static int put_get(void* c, const char* op, size_t bytes, int ops)
{
    unsigned char* buf = malloc(bytes);
    if (!buf) return 1;
    memset(buf, 7, bytes);
    if (put_tensor(c, "bench", 5, buf, &bytes, 1, SRTensorTypeUint8, SRMemLayoutContiguous)) return fail("put");
    double t0 = now();
    for (int i = 0; i < ops; i++) {
        SRError e = strcmp(op, "put") == 0
            ? put_tensor(c, "bench", 5, buf, &bytes, 1, SRTensorTypeUint8, SRMemLayoutContiguous)
            : unpack_tensor(c, "bench", 5, buf, &bytes, 1, SRTensorTypeUint8, SRMemLayoutContiguous);
        if (e) return fail(op);
    }
    double dt = now() - t0;
    printf("{\"case\":\"%s %zu\",\"seconds_per_op\":%.9f,\"ops\":%d}\n", op, bytes, dt / ops, ops);
    free(buf);
    return 0;
}

static int bulk(void* c, size_t count, size_t bytes)
{
    char** names = malloc(count * sizeof *names);
    size_t* lens = malloc(count * sizeof *lens);
    void** data = malloc(count * sizeof *data);
    const size_t** dims = malloc(count * sizeof *dims);
    size_t* nd = malloc(count * sizeof *nd);
    SRTensorType* types = malloc(count * sizeof *types);
    unsigned char* block = malloc(count * bytes);
    if (!names || !lens || !data || !dims || !nd || !types || !block) return 1;
    memset(block, 3, count * bytes);
    for (size_t i = 0; i < count; i++) {
        names[i] = malloc(32);
        lens[i] = (size_t)snprintf(names[i], 32, "bulk_%zu", i);
        data[i] = block + i * bytes;
        dims[i] = &bytes;
        nd[i] = 1;
        types[i] = SRTensorTypeUint8;
    }
    double t0 = now();
    if (put_tensors(c, (const char* const*)names, lens, count, data, dims, nd, types, SRMemLayoutContiguous))
        return fail("put_tensors");
    double t1 = now();
    if (unpack_tensors(c, (const char* const*)names, lens, count, data, dims, nd, types, SRMemLayoutContiguous))
        return fail("unpack_tensors");
    double t2 = now();
    printf("{\"case\":\"bulk put %zu x %zu\",\"seconds_per_op\":%.9f,\"ops\":%zu}\n", count, bytes, (t1 - t0) / count, count);
    printf("{\"case\":\"bulk get %zu x %zu\",\"seconds_per_op\":%.9f,\"ops\":%zu}\n", count, bytes, (t2 - t1) / count, count);
    for (size_t i = 0; i < count; i++) free(names[i]);
    free(names); free(lens); free(data); free(dims); free(nd); free(types); free(block);
    return 0;
}

int main(int argc, char** argv)
{
    void* c = NULL;
    if (SimpleCreateClient("bench", 5, &c)) return fail("connect");
    int rc = 0;
    const char* op = argc > 1 ? argv[1] : "all";
    if (strcmp(op, "put") == 0 || strcmp(op, "get") == 0)
        rc = put_get(c, op, argc > 2 ? strtoul(argv[2], NULL, 10) : 1024, argc > 3 ? atoi(argv[3]) : 1000);
    else if (strcmp(op, "bulk") == 0)
        rc = bulk(c, argc > 2 ? strtoul(argv[2], NULL, 10) : 10000, argc > 3 ? strtoul(argv[3], NULL, 10) : 1024);
    else {
        size_t sizes[] = { 1024, 1 << 20, 16 << 20 };
        int ops[] = { 2000, 200, 20 };
        for (int i = 0; i < 3 && !rc; i++) {
            rc = put_get(c, "put", sizes[i], ops[i]);
            if (!rc) rc = put_get(c, "get", sizes[i], ops[i]);
        }
        if (!rc) rc = bulk(c, 10000, 1024);
    }
    DeleteCClient(&c);
    return rc;
}
