/*
 * A small strict JSON reader and writer for the dataset index and the run protocol. Numbers
 * keep their text so 64-bit integers survive exactly; NaN, Infinity and -Infinity are read and
 * written as the bare tokens Python's json module uses.
 */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { const char* s; size_t len, pos; char* err; size_t err_len; int depth; } parser;

static bool fail(parser* p, const char* what)
{
    if (p->err && !p->err[0]) snprintf(p->err, p->err_len, "%s at byte %zu", what, p->pos);
    return false;
}

static void skip_ws(parser* p)
{
    while (p->pos < p->len && strchr(" \t\r\n", p->s[p->pos]) && p->s[p->pos]) p->pos++;
}

static bool literal(parser* p, const char* word)
{
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0) return false;
    p->pos += n;
    return true;
}

static void put_utf8(sf_buf* b, unsigned long cp)
{
    char out[4];
    size_t n;
    if (cp < 0x80) { out[0] = (char)cp; n = 1; }
    else if (cp < 0x800) { out[0] = (char)(0xC0 | cp >> 6); out[1] = (char)(0x80 | (cp & 63)); n = 2; }
    else if (cp < 0x10000) { out[0] = (char)(0xE0 | cp >> 12); out[1] = (char)(0x80 | ((cp >> 6) & 63));
                             out[2] = (char)(0x80 | (cp & 63)); n = 3; }
    else { out[0] = (char)(0xF0 | cp >> 18); out[1] = (char)(0x80 | ((cp >> 12) & 63));
           out[2] = (char)(0x80 | ((cp >> 6) & 63)); out[3] = (char)(0x80 | (cp & 63)); n = 4; }
    sf_buf_put(b, out, n);
}

static bool hex4(parser* p, unsigned long* out)
{
    if (p->len - p->pos < 4) return fail(p, "truncated \\u escape");
    unsigned long v = 0;
    for (int i = 0; i < 4; i++) {
        char ch = p->s[p->pos++];
        v <<= 4;
        if (ch >= '0' && ch <= '9') v |= (unsigned long)(ch - '0');
        else if (ch >= 'a' && ch <= 'f') v |= (unsigned long)(ch - 'a' + 10);
        else if (ch >= 'A' && ch <= 'F') v |= (unsigned long)(ch - 'A' + 10);
        else return fail(p, "bad \\u escape");
    }
    *out = v;
    return true;
}

static bool parse_string(parser* p, char** out, size_t* out_len)
{
    sf_buf b = {0};
    sf_buf_put(&b, "", 0);
    p->pos++;  /* the opening quote */
    while (p->pos < p->len) {
        char ch = p->s[p->pos++];
        if (ch == '"') { *out = b.data; *out_len = b.len; return true; }
        if ((unsigned char)ch < 0x20) { sf_buf_free(&b); return fail(p, "control character in string"); }
        if (ch != '\\') { sf_buf_put(&b, &ch, 1); continue; }
        if (p->pos >= p->len) break;
        char e = p->s[p->pos++];
        const char* map = "\"\"\\\\//b\bf\fn\nr\rt\t";
        const char* m = NULL;
        for (const char* q = map; *q; q += 2) if (*q == e) { m = q; break; }
        if (m) { sf_buf_put(&b, m + 1, 1); continue; }
        if (e != 'u') { sf_buf_free(&b); return fail(p, "bad escape"); }
        unsigned long cp;
        if (!hex4(p, &cp)) { sf_buf_free(&b); return false; }
        if (cp >= 0xD800 && cp < 0xDC00 && p->len - p->pos >= 6 && p->s[p->pos] == '\\' &&
            p->s[p->pos + 1] == 'u') {
            p->pos += 2;
            unsigned long lo;
            if (!hex4(p, &lo)) { sf_buf_free(&b); return false; }
            if (lo >= 0xDC00 && lo < 0xE000) cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            else { put_utf8(&b, cp); cp = lo; }
        }
        put_utf8(&b, cp);
    }
    sf_buf_free(&b);
    return fail(p, "unterminated string");
}

static bool parse_value(parser* p, sj_value* v);

static bool parse_number(parser* p, sj_value* v)
{
    size_t start = p->pos;
    if (literal(p, "NaN")) { v->type = SJ_NUM; v->num = NAN; return true; }
    if (literal(p, "Infinity")) { v->type = SJ_NUM; v->num = INFINITY; return true; }
    if (literal(p, "-Infinity")) { v->type = SJ_NUM; v->num = -INFINITY; return true; }
    if (p->pos < p->len && p->s[p->pos] == '-') p->pos++;
    bool is_int = true;
    size_t digits = 0;
    while (p->pos < p->len && strchr("0123456789.eE+-", p->s[p->pos]) && p->s[p->pos]) {
        char ch = p->s[p->pos];
        if (ch == '.' || ch == 'e' || ch == 'E') is_int = false;
        if (ch >= '0' && ch <= '9') digits++;
        p->pos++;
    }
    if (!digits) return fail(p, "bad number");
    v->type = SJ_NUM;
    v->raw_num = sf_strndup(p->s + start, p->pos - start);
    if (!v->raw_num) return fail(p, "out of memory");
    char* end = NULL;
    v->num = strtod(v->raw_num, &end);
    if (*end) return fail(p, "bad number");
    v->is_int = is_int;
    if (is_int) {
        v->neg = v->raw_num[0] == '-';
        if (v->neg) v->i = strtoll(v->raw_num, NULL, 10);
        else { v->u = strtoull(v->raw_num, NULL, 10); v->i = (int64_t)v->u; }
    }
    return true;
}

static bool parse_container(parser* p, sj_value* v, bool object)
{
    if (++p->depth > 64) return fail(p, "nested too deeply");
    v->type = object ? SJ_OBJ : SJ_ARR;
    p->pos++;
    skip_ws(p);
    char close = object ? '}' : ']';
    if (p->pos < p->len && p->s[p->pos] == close) { p->pos++; p->depth--; return true; }
    size_t cap = 0;
    for (;;) {
        if (v->n == cap) {
            cap = cap ? cap * 2 : 4;
            sj_value* items = realloc(v->items, cap * sizeof *items);
            if (!items) return fail(p, "out of memory");
            v->items = items;
            if (object) {
                char** keys = realloc(v->keys, cap * sizeof *keys);
                if (!keys) return fail(p, "out of memory");
                v->keys = keys;
            }
        }
        memset(&v->items[v->n], 0, sizeof v->items[v->n]);
        if (object) {
            skip_ws(p);
            size_t kl;
            v->keys[v->n] = NULL;
            if (p->pos >= p->len || p->s[p->pos] != '"') return fail(p, "expected a key");
            if (!parse_string(p, &v->keys[v->n], &kl)) { v->n++; return false; }
            skip_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != ':') { v->n++; return fail(p, "expected ':'"); }
            p->pos++;
        }
        bool ok = parse_value(p, &v->items[v->n]);
        v->n++;
        if (!ok) return false;
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ',') { p->pos++; continue; }
        if (p->pos < p->len && p->s[p->pos] == close) { p->pos++; p->depth--; return true; }
        return fail(p, "expected ',' or a closing bracket");
    }
}

static bool parse_value(parser* p, sj_value* v)
{
    memset(v, 0, sizeof *v);
    skip_ws(p);
    if (p->pos >= p->len) return fail(p, "unexpected end");
    char ch = p->s[p->pos];
    if (ch == '{') return parse_container(p, v, true);
    if (ch == '[') return parse_container(p, v, false);
    if (ch == '"') { v->type = SJ_STR; return parse_string(p, &v->str, &v->str_len); }
    if (literal(p, "true")) { v->type = SJ_BOOL; v->b = true; return true; }
    if (literal(p, "false")) { v->type = SJ_BOOL; return true; }
    if (literal(p, "null")) { v->type = SJ_NULL; return true; }
    return parse_number(p, v);
}

bool sj_parse(const char* text, size_t len, sj_value* out, char* err, size_t err_len)
{
    parser p = { text, len, 0, err, err_len, 0 };
    if (err && err_len) err[0] = '\0';
    bool ok = parse_value(&p, out);
    if (ok) {
        skip_ws(&p);
        if (p.pos != len) ok = fail(&p, "trailing characters");
    }
    if (!ok) sj_free(out);
    return ok;
}

void sj_free(sj_value* v)
{
    if (!v) return;
    for (size_t i = 0; i < v->n; i++) {
        sj_free(&v->items[i]);
        if (v->keys) free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->str);
    free(v->raw_num);
    memset(v, 0, sizeof *v);
}

const sj_value* sj_get(const sj_value* obj, const char* key)
{
    if (!obj || obj->type != SJ_OBJ) return NULL;
    for (size_t i = 0; i < obj->n; i++)
        if (obj->keys[i] && strcmp(obj->keys[i], key) == 0) return &obj->items[i];
    return NULL;
}

void sj_write_string(sf_buf* b, const char* s, size_t len)
{
    sf_buf_put(b, "\"", 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"') sf_buf_put(b, "\\\"", 2);
        else if (ch == '\\') sf_buf_put(b, "\\\\", 2);
        else if (ch == '\n') sf_buf_put(b, "\\n", 2);
        else if (ch == '\r') sf_buf_put(b, "\\r", 2);
        else if (ch == '\t') sf_buf_put(b, "\\t", 2);
        else if (ch < 0x20) sf_buf_printf(b, "\\u%04x", ch);
        else sf_buf_put(b, &s[i], 1);
    }
    sf_buf_put(b, "\"", 1);
}

void sj_write_double(sf_buf* b, double d)
{
    if (isnan(d)) { sf_buf_put(b, "NaN", 3); return; }
    if (isinf(d)) { sf_buf_printf(b, "%s", d > 0 ? "Infinity" : "-Infinity"); return; }
    char text[40];
    snprintf(text, sizeof text, "%.17g", d);
    /* Shortest text that reads back the same value. */
    for (int prec = 1; prec <= 17; prec++) {
        char t[40];
        snprintf(t, sizeof t, "%.*g", prec, d);
        if (strtod(t, NULL) == d) { snprintf(text, sizeof text, "%s", t); break; }
    }
    sf_buf_printf(b, "%s", text);
    if (!strpbrk(text, ".eEn")) sf_buf_put(b, ".0", 2);
}
