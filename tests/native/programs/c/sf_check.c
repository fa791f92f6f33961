/* Test program for tests/native/test_c.py: one subcommand per scenario; the last stdout line
 * is a JSON object with what it read; exit status 0 on success. */
#include "c_client.h"
#include "c_dataset.h"
#include "c_configoptions.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void* client;
#define CHECK(call) do { SRError e_ = (call); if (e_ != SRNoError) { \
    fprintf(stderr, "%s failed (%d): %s\n", #call, (int)e_, SRGetLastError()); return 1; } } while (0)

static const SRTensorType TYPES[] = { SRTensorTypeDouble, SRTensorTypeFloat, SRTensorTypeInt8,
    SRTensorTypeInt16, SRTensorTypeInt32, SRTensorTypeInt64, SRTensorTypeUint8, SRTensorTypeUint16 };
static const char* TNAMES[] = { "float64", "float32", "int8", "int16", "int32", "int64", "uint8", "uint16" };

static double value_at(const void* data, SRTensorType t, size_t i)
{
    switch (t) {
    case SRTensorTypeDouble: return ((const double*)data)[i];
    case SRTensorTypeFloat: return ((const float*)data)[i];
    case SRTensorTypeInt8: return ((const int8_t*)data)[i];
    case SRTensorTypeInt16: return ((const int16_t*)data)[i];
    case SRTensorTypeInt32: return ((const int32_t*)data)[i];
    case SRTensorTypeInt64: return (double)((const int64_t*)data)[i];
    case SRTensorTypeUint8: return ((const uint8_t*)data)[i];
    default: return ((const uint16_t*)data)[i];
    }
}

static void set_at(void* data, SRTensorType t, size_t i, long v)
{
    switch (t) {
    case SRTensorTypeDouble: ((double*)data)[i] = (double)v + 0.5; break;
    case SRTensorTypeFloat: ((float*)data)[i] = (float)v + 0.25f; break;
    case SRTensorTypeInt8: ((int8_t*)data)[i] = (int8_t)(v % 100); break;
    case SRTensorTypeInt16: ((int16_t*)data)[i] = (int16_t)v; break;
    case SRTensorTypeInt32: ((int32_t*)data)[i] = (int32_t)v; break;
    case SRTensorTypeInt64: ((int64_t*)data)[i] = (int64_t)v * 1000000007LL; break;
    case SRTensorTypeUint8: ((uint8_t*)data)[i] = (uint8_t)(v % 200); break;
    default: ((uint16_t*)data)[i] = (uint16_t)v; break;
    }
}

/* get: print each named tensor as {"name": {"type", "shape", "values"}} (row-major). */
static int cmd_get(int argc, char** argv)
{
    printf("{");
    for (int a = 0; a < argc; a++) {
        void* data; size_t* dims; size_t nd; SRTensorType t;
        CHECK(get_tensor(client, argv[a], strlen(argv[a]), &data, &dims, &nd, &t, SRMemLayoutContiguous));
        size_t n = 1;
        printf("%s\"%s\":{\"type\":%d,\"shape\":[", a ? "," : "", argv[a], (int)t);
        for (size_t k = 0; k < nd; k++) { printf("%s%zu", k ? "," : "", dims[k]); n *= dims[k]; }
        printf("],\"values\":[");
        for (size_t i = 0; i < n; i++) printf("%s%.17g", i ? "," : "", value_at(data, t, i));
        printf("]}");
    }
    printf("}\n");
    return 0;
}

/* put: every dtype at ranks 1-4 as c_<dtype>_<rank>, shape (2,3,4,5)[:rank], values = index. */
static int cmd_put(void)
{
    size_t dims[4] = { 2, 3, 4, 5 };
    for (size_t t = 0; t < 8; t++)
        for (size_t rank = 1; rank <= 4; rank++) {
            size_t n = 1;
            for (size_t k = 0; k < rank; k++) n *= dims[k];
            void* buf = malloc(n * 8);
            for (size_t i = 0; i < n; i++) set_at(buf, TYPES[t], i, (long)i);
            char name[64];
            snprintf(name, sizeof name, "c_%s_%zu", TNAMES[t], rank);
            CHECK(put_tensor(client, name, strlen(name), buf, dims, rank, TYPES[t], SRMemLayoutContiguous));
            free(buf);
        }
    /* Nested (arrays of pointers) and Fortran (column-major) layouts of a 2x3 double. */
    double rows[2][3] = { { 1, 2, 3 }, { 4, 5, 6 } };
    double* ptrs[2] = { rows[0], rows[1] };
    size_t d2[2] = { 2, 3 };
    CHECK(put_tensor(client, "c_nested", 8, ptrs, d2, 2, SRTensorTypeDouble, SRMemLayoutNested));
    double colmajor[6] = { 1, 4, 2, 5, 3, 6 };  /* a(i,j) = rows[i][j], Fortran order */
    CHECK(put_tensor(client, "c_fortran", 9, colmajor, d2, 2, SRTensorTypeDouble, SRMemLayoutFortranContiguous));
    printf("{\"ok\":true}\n");
    return 0;
}

/* unpack a tensor Python put (2x3 float64 [[1,2,3],[4,5,6]]) in every layout, and the flat rule. */
static int cmd_layouts(void)
{
    double flat[6], rows[2][3], col[6];
    double* ptrs[2] = { rows[0], rows[1] };
    size_t d2[2] = { 2, 3 }, d1[1] = { 6 };
    CHECK(unpack_tensor(client, "py_layout", 9, flat, d1, 1, SRTensorTypeDouble, SRMemLayoutContiguous));
    CHECK(unpack_tensor(client, "py_layout", 9, ptrs, d2, 2, SRTensorTypeDouble, SRMemLayoutNested));
    CHECK(unpack_tensor(client, "py_layout", 9, col, d2, 2, SRTensorTypeDouble, SRMemLayoutFortranContiguous));
    void* nested; size_t* dims; size_t nd; SRTensorType t;
    CHECK(get_tensor(client, "py_layout", 9, &nested, &dims, &nd, &t, SRMemLayoutNested));
    double** g = nested;
    printf("{\"flat\":[%g,%g,%g,%g,%g,%g],\"nested\":[%g,%g,%g,%g,%g,%g],\"fortran\":[%g,%g,%g,%g,%g,%g],"
           "\"get_nested\":[%g,%g]}\n", flat[0], flat[1], flat[2], flat[3], flat[4], flat[5],
           rows[0][0], rows[0][1], rows[0][2], rows[1][0], rows[1][1], rows[1][2],
           col[0], col[1], col[2], col[3], col[4], col[5], g[0][2], g[1][0]);
    return 0;
}

/* dataset + aggregation list written in C. */
static int cmd_dataset(void)
{
    for (int k = 0; k < 2; k++) {
        void* ds;
        char name[32];
        snprintf(name, sizeof name, "c_ds_%d", k);
        CHECK(CDataSet(name, strlen(name), &ds));
        float u[2][2] = { { 1.5f, 2.5f }, { 3.5f, (float)k } };
        size_t dims[2] = { 2, 2 };
        CHECK(add_tensor(ds, "u", 1, u, dims, 2, SRTensorTypeFloat, SRMemLayoutContiguous));
        double time = 0.125 * k;
        int64_t step = 12345678901LL + k;
        CHECK(add_meta_scalar(ds, "time", 4, &time, SRMetadataTypeDouble));
        CHECK(add_meta_scalar(ds, "step", 4, &step, SRMetadataTypeInt64));
        CHECK(add_meta_string(ds, "mesh", 4, "coarse \"q\"", 10));
        CHECK(put_dataset(client, ds));
        CHECK(append_to_list(client, "c_list", 6, ds));
        CHECK(DeallocateDataSet(&ds));
    }
    void* back;
    CHECK(get_dataset(client, "c_ds_1", 6, &back));
    size_t n; SRMetaDataType mt; void* vals;
    CHECK(get_meta_scalars(back, "step", 4, &n, &mt, &vals));
    char** strs; size_t ns; size_t* lens;
    CHECK(get_meta_strings(back, "mesh", 4, &strs, &ns, &lens));
    int len;
    CHECK(get_list_length(client, "c_list", 6, &len));
    void** got; size_t ngot;
    CHECK(get_dataset_list_range(client, "c_list", 6, -1, -1, &got, &ngot));
    printf("{\"step\":%lld,\"mesh\":\"%s\",\"list_length\":%d,\"range\":%zu,\"range_name_ok\":%s}\n",
           (long long)((int64_t*)vals)[0], strs[0][0] == 'c' ? "coarse" : "?", len, ngot,
           ngot == 1 ? "true" : "false");
    for (size_t i = 0; i < ngot; i++) DeallocateDataSet(&got[i]);
    free(got);
    DeallocateDataSet(&back);
    void* into[3] = { NULL, NULL, NULL };
    CHECK(_get_dataset_list_range_allocated(client, "c_list", 6, 0, 1, into));
    SRError past = _get_dataset_list_range_allocated(client, "c_list", 6, 0, 2, into + 2);
    fprintf(stderr, "range past the end: %d %s\n", (int)past, SRGetLastError());
    if (past != SRInternalError || into[2] || !into[0] || !into[1]) {
        fprintf(stderr, "_get_dataset_list_range_allocated: a range past the list's end\n");
        return 1;
    }
    DeallocateDataSet(&into[0]);
    DeallocateDataSet(&into[1]);
    /* A dataset Python wrote. */
    void* py;
    CHECK(get_dataset(client, "py_ds", 5, &py));
    double* x; size_t* xd; size_t xn; SRTensorType xt;
    CHECK(get_dataset_tensor(py, "x", 1, (void**)&x, &xd, &xn, &xt, SRMemLayoutContiguous));
    CHECK(get_meta_scalars(py, "vals", 4, &n, &mt, &vals));
    fprintf(stderr, "py_ds: x[1]=%g vals=%zu\n", x[1], n);
    if (x[1] != 2.0 || n != 3 || mt != SRMetadataTypeDouble || ((double*)vals)[2] == ((double*)vals)[2]) {
        fprintf(stderr, "py_ds contents wrong (vals[2] should be NaN)\n");
        return 1;
    }
    DeallocateDataSet(&py);
    return 0;
}

/* model [FILE]: run the model Python stored; with FILE (ONNX, y = 2x) also store it from C on
 * every shard, run it and delete it. */
static int cmd_model(int argc, char** argv)
{
    float x[2][3] = { { 1, 2, 3 }, { 4, 5, 6 } };
    size_t d[2] = { 2, 3 };
    CHECK(put_tensor(client, "c_x", 3, x, d, 2, SRTensorTypeFloat, SRMemLayoutContiguous));
    const char* in[] = { "c_x" }; size_t il[] = { 3 };
    const char* out[] = { "c_y" }; size_t ol[] = { 3 };
    CHECK(run_model(client, "py_model", 8, in, il, 1, out, ol, 1));
    float y[6];
    CHECK(unpack_tensor(client, "c_y", 3, y, d, 2, SRTensorTypeFloat, SRMemLayoutContiguous));
    SRError torch = set_model(client, "t", 1, "x", 1, "TORCH", 5, "CPU", 3, 0, 0, 0, "", 0, NULL, NULL, 0, NULL, NULL, 0);
    int torch_msg = strstr(SRGetLastError(), "RedisAI") != NULL;
    float z[6] = { 0 };
    bool left = true;
    if (argc > 0) {
        CHECK(set_model_from_file(client, "c_model", 7, argv[0], strlen(argv[0]), "ONNX", 4, "CPU", 3,
                                  0, 0, 0, "", 0, NULL, NULL, 0, NULL, NULL, 0));
        const char* out2[] = { "c_z" }; size_t ol2[] = { 3 };
        CHECK(run_model(client, "c_model", 7, in, il, 1, out2, ol2, 1));
        CHECK(unpack_tensor(client, "c_z", 3, z, d, 2, SRTensorTypeFloat, SRMemLayoutContiguous));
        CHECK(delete_model(client, "c_model", 7));
        CHECK(model_exists(client, "c_model", 7, &left));
    }
    printf("{\"y\":[%g,%g,%g,%g,%g,%g],\"torch\":%d,\"torch_msg\":\"%s\",\"z\":[%g,%g,%g,%g,%g,%g],"
           "\"left\":%s,\"client\":\"%s\"}\n", y[0], y[1], y[2], y[3], y[4], y[5], (int)torch,
           torch_msg ? "RedisAI" : "?", z[0], z[1], z[2], z[3], z[4], z[5], left ? "true" : "false",
           client_to_string(client));
    return 0;
}

/* bad input: every call must fail with a code and a message, never crash. */
static int cmd_bad(void)
{
    double buf[6]; float fbuf[6];
    size_t d2[2] = { 2, 3 }, d3[2] = { 3, 3 };
    int missing = unpack_tensor(client, "no_such_tensor", 14, buf, d2, 2, SRTensorTypeDouble, SRMemLayoutContiguous);
    int missing_msg = strstr(SRGetLastError(), "does not exist") != NULL;
    int dtype = unpack_tensor(client, "py_layout", 9, fbuf, d2, 2, SRTensorTypeFloat, SRMemLayoutContiguous);
    int dims = unpack_tensor(client, "py_layout", 9, buf, d3, 2, SRTensorTypeDouble, SRMemLayoutContiguous);
    int dims_msg = strstr(SRGetLastError(), "do not match") != NULL;
    printf("{\"missing\":%d,\"missing_msg\":%d,\"dtype\":%d,\"dims\":%d,\"dims_msg\":%d}\n",
           missing, missing_msg, dtype, dims, dims_msg);
    return 0;
}

/* hostile: values no smartflow client wrote (test_c.py puts them with redis-py); each must be
 * an error code, never a crash, a hang or a huge allocation. Also names the shards it sees. */
static int cmd_hostile(void)
{
    void* out = NULL; size_t* dims = NULL; size_t nd = 0; SRTensorType t;
    int hash = get_tensor(client, "h_hash", 6, &out, &dims, &nd, &t, SRMemLayoutContiguous);
    int hash_msg = strstr(SRGetLastError(), "hash") != NULL;
    int zero_nested = get_tensor(client, "zero_dim", 8, &out, &dims, &nd, &t, SRMemLayoutNested);
    int zero_plain = get_tensor(client, "zero_dim", 8, &out, &dims, &nd, &t, SRMemLayoutContiguous);
    int lying = get_tensor(client, "lying", 5, &out, &dims, &nd, &t, SRMemLayoutContiguous);
    int lying_msg = strstr(SRGetLastError(), "corrupt") != NULL;
    void* ds = NULL;
    int f16_get = get_dataset(client, "f16_ds", 6, &ds);
    int f16_put = f16_get ? -1 : (int)put_dataset(client, ds);
    if (ds) DeallocateDataSet(&ds);
    int meta = get_dataset(client, "huge_meta", 9, &ds);  /* int64 metadata of 1e300 */
    int meta_msg = strstr(SRGetLastError(), "corrupt index") != NULL;
    if (!meta) DeallocateDataSet(&ds);
    /* An option's value stays out of messages: it may be the password. */
    void* cfg = NULL;
    int64_t number = 0;
    CHECK(create_configoptions_from_environment("", 0, &cfg));
    int secret = get_integer_option(cfg, "SSDB_PASSWORD", 13, &number);
    const char* password = getenv("SSDB_PASSWORD");
    int secret_shown = password && *password && strstr(SRGetLastError(), password) != NULL;
    DeallocateConfigOptions(&cfg);
    /* SmartRedis's answers: no tries find nothing, deleting no client is no error. */
    bool found = true;
    int poll0 = poll_tensor(client, "zero_dim", 8, 1, 0, &found);
    void* none = NULL;
    int delete_null = DeleteCClient(&none);
    int tf = _isTensorFlow("tf") && _isTensorFlow("TFLite") && !_isTensorFlow("onnx");
    /* Sizes that do not fit in memory, and a missing result buffer. */
    size_t huge[2] = { SIZE_MAX / 4, 8 };
    double x[1] = { 0 };
    void* d2 = NULL;
    CHECK(CDataSet("sizes", 5, &d2));
    int add_huge = add_tensor(d2, "t", 1, x, huge, 2, SRTensorTypeDouble, SRMemLayoutContiguous);
    DeallocateDataSet(&d2);
    const char* tn[] = { "t" }; size_t tl[] = { 1 }, nd1[] = { 2 };
    const size_t* hd[] = { huge };
    SRTensorType tt[] = { SRTensorTypeDouble };
    void* px[] = { x };
    int put_huge = put_tensors(client, tn, tl, 1, px, hd, nd1, tt, SRMemLayoutContiguous);
    void* no_result[] = { NULL };
    int unpack_null = unpack_tensors(client, tn, tl, 1, no_result, hd, nd1, tt, SRMemLayoutContiguous);
    printf("{\"hash\":%d,\"hash_msg\":%d,\"zero_nested\":%d,\"zero_plain\":%d,\"lying\":%d,"
           "\"lying_msg\":%d,\"f16_get\":%d,\"f16_put\":%d,\"meta\":%d,\"meta_msg\":%d,"
           "\"secret\":%d,\"secret_shown\":%d,\"poll0\":%d,\"poll0_found\":%d,"
           "\"delete_null\":%d,\"tf\":%d,\"add_huge\":%d,\"put_huge\":%d,\"unpack_null\":%d,"
           "\"client\":\"%s\"}\n",
           hash, hash_msg, zero_nested, zero_plain, lying, lying_msg, f16_get, f16_put, meta,
           meta_msg, secret, secret_shown, poll0, (int)found, delete_null, tf, add_huge, put_huge,
           unpack_null, client_to_string(client));
    return 0;
}

/* connect only: report the error code and message (wrong password, dead store). */
static int cmd_connect_error(void)
{
    void* c = NULL;
    SRError e = SimpleCreateClient("bad", 3, &c);
    const char* msg = SRGetLastError();
    printf("{\"code\":%d,\"null\":%s,\"msg_len\":%zu}\n", (int)e, c ? "false" : "true", strlen(msg));
    fprintf(stderr, "%s\n", msg);
    return e == SRNoError;
}

int main(int argc, char** argv)
{
    if (argc < 2) return 2;
    if (strcmp(argv[1], "connect_error") == 0) return cmd_connect_error();
    CHECK(SimpleCreateClient("sf_check", 8, &client));
    int rc = 2;
    if (strcmp(argv[1], "get") == 0) rc = cmd_get(argc - 2, argv + 2);
    else if (strcmp(argv[1], "put") == 0) rc = cmd_put();
    else if (strcmp(argv[1], "layouts") == 0) rc = cmd_layouts();
    else if (strcmp(argv[1], "dataset") == 0) rc = cmd_dataset();
    else if (strcmp(argv[1], "model") == 0) rc = cmd_model(argc - 2, argv + 2);
    else if (strcmp(argv[1], "bad") == 0) rc = cmd_bad();
    else if (strcmp(argv[1], "hostile") == 0) rc = cmd_hostile();
    log_data(client, LLInfo, "sf_check done", 13);
    DeleteCClient(&client);
    return rc;
}
