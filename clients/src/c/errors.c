/* Thread-local last error (SRGetLastError) and small utilities every module uses. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SF_ERR_MAX 2048

static _Thread_local char last_error[SF_ERR_MAX];
static _Thread_local char last_location[256] = "unavailable";
static _Thread_local SRError last_code = SRNoError;

SRError sf_fail(SRError code, const char* where, const char* fmt, ...)
{
    char text[SF_ERR_MAX - 256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (where && *where)
        snprintf(last_error, sizeof last_error, "%.200s: %s", where, text);
    else
        snprintf(last_error, sizeof last_error, "%s", text);
    snprintf(last_location, sizeof last_location, "smartflow:%s", where ? where : "");
    last_code = code;
    return code;
}

const char* SRGetLastError(void) { return last_error; }
const char* SRGetLastErrorLocation(void) { return last_location; }
SRError SRGetLastErrorCode(void) { return last_code; }

void SRSetLastErrorMessage(SRError code, const char* message, const char* location)
{
    snprintf(last_error, sizeof last_error, "%s", message ? message : "");
    snprintf(last_location, sizeof last_location, "%s", location ? location : "unavailable");
    last_code = code;
}

void SRClearLastError(void)
{
    last_error[0] = '\0';
    snprintf(last_location, sizeof last_location, "unavailable");
    last_code = SRNoError;
}

/* ---- buffers ---- */

bool sf_buf_reserve(sf_buf* b, size_t extra)
{
    if (b->len + extra <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra) cap *= 2;
    char* p = realloc(b->data, cap);
    if (!p) return false;
    b->data = p;
    b->cap = cap;
    return true;
}

bool sf_buf_put(sf_buf* b, const void* p, size_t n)
{
    if (!sf_buf_reserve(b, n + 1)) return false;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return true;
}

bool sf_buf_printf(sf_buf* b, const char* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !sf_buf_reserve(b, (size_t)n + 1)) return false;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return true;
}

void sf_buf_free(sf_buf* b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

char* sf_strndup(const char* s, size_t n)
{
    char* p = malloc(n + 1);
    if (!p) return NULL;
    if (n) memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void sf_sleep_ms(int ms)
{
    if (ms <= 0) return;
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

bool sf_random_hex(char* out, size_t n_bytes)
{
    unsigned char raw[64];
    if (n_bytes > sizeof raw) return false;
    bool ok = false;
    int fd = open("/dev/urandom", O_RDONLY);
    if (fd >= 0) {
        ok = read(fd, raw, n_bytes) == (ssize_t)n_bytes;
        close(fd);
    }
    if (!ok) {  /* no /dev/urandom: time and address entropy still make clashes unlikely */
        uint64_t x = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)out ^ ((uint64_t)clock() << 32);
        for (size_t i = 0; i < n_bytes; i++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            raw[i] = (unsigned char)x;
        }
    }
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n_bytes; i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[2 * n_bytes] = '\0';
    return true;
}

/* The first of names that is set, a positive number of seconds (as the Python client reads
 * SR_CONN_TIMEOUT and friends), in milliseconds. */
int sf_env_ms(const char* const* names, size_t n, int default_ms, const char* where, SRError* rc)
{
    *rc = SRNoError;
    for (size_t i = 0; i < n; i++) {
        const char* raw = getenv(names[i]);
        if (!raw || !*raw) continue;
        char* end = NULL;
        double v = strtod(raw, &end);
        if (end == raw || *end != '\0' || !isfinite(v) || v <= 0 || v > 1e6) {
            *rc = sf_fail(SRParameterError, where, "%s=%s is not a positive number of seconds",
                          names[i], raw);
            return default_ms;
        }
        double ms = v * 1000.0;
        return ms < 1 ? 1 : (int)ms;
    }
    return default_ms;
}
