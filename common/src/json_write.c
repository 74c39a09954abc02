/*
 * json_write.c - kv_json_dump(): a kv_json tree to JSON text.
 *
 * The output is what kv_json_parse() reads back into an equal tree, and what
 * a person reads in a results directory, so it is both exact and plain:
 *
 *  - integers (num.is_int) are printed in decimal, all 64 bits exact;
 *  - other numbers with the shortest of "%.15g", "%.16g" and "%.17g" that
 *    strtod() turns back into the same double: 17 significant digits always
 *    round-trip a binary64, but 0.1 is nicer than 0.10000000000000001;
 *  - strings escape '"', '\\' and the control characters (\n, \t, ... and
 *    \u00XX for the others); every other byte is copied, since the tree's
 *    strings are valid UTF-8 by construction;
 *  - pretty output puts each member and element on its own line, indented
 *    by two spaces per level, with "key": value; compact output has no
 *    whitespace at all.
 *
 * How it works: a recursive walk appending to a growable buffer (doubling,
 * so appends are amortised O(1)). Recursion is bounded by
 * KV_JSON_MAX_DEPTH: a deeper tree (only the builders can make one) is
 * refused rather than risking the stack.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_impl.h"
#include "kvlabs/alloc.h"
#include "kvlabs/error.h"
#include "kvlabs/kv.h"

/** @brief The growing output text. */
typedef struct outbuf {
    char *s;    /**< NUL-terminated while len < cap */
    size_t len; /**< bytes written */
    size_t cap; /**< bytes allocated */
} outbuf;

/* Append n bytes; KV_OK or KV_ENOMEM. */
static int put(outbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = kv_realloc(b->s, cap);
        if (p == NULL)
            return KV_ENOMEM;
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
    return KV_OK;
}

static int puts_(outbuf *b, const char *s)
{
    return put(b, s, strlen(s));
}

/* A newline and two spaces per level (pretty output only). */
static int newline(outbuf *b, bool pretty, int level)
{
    static const char spaces[] = "                                ";
    if (!pretty)
        return KV_OK;
    int rc = put(b, "\n", 1);
    for (int n = 2 * level; rc == KV_OK && n > 0; n -= (int)sizeof spaces - 1)
        rc = put(b, spaces, (size_t)n < sizeof spaces - 1 ? (size_t)n : sizeof spaces - 1);
    return rc;
}

static int put_number(outbuf *b, const kv_json *v)
{
    char num[40];
    if (v->u.num.is_int) {
        snprintf(num, sizeof num, "%" PRId64, v->u.num.i);
    } else {
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(num, sizeof num, "%.*g", prec, v->u.num.d);
            if (strtod(num, NULL) == v->u.num.d)
                break;
        }
    }
    return puts_(b, num);
}

static int put_string(outbuf *b, const char *s, size_t n)
{
    int rc = put(b, "\"", 1);
    size_t run = 0; /* bytes of s[i - run .. i) still to copy verbatim */
    for (size_t i = 0; i < n && rc == KV_OK; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        const char *e = NULL;
        switch (c) {
        case '"': e = "\\\""; break;
        case '\\': e = "\\\\"; break;
        case '\b': e = "\\b"; break;
        case '\f': e = "\\f"; break;
        case '\n': e = "\\n"; break;
        case '\r': e = "\\r"; break;
        case '\t': e = "\\t"; break;
        default:
            if (c < 0x20) {
                snprintf(esc, sizeof esc, "\\u%04x", c);
                e = esc;
            }
        }
        if (e == NULL) {
            run++;
            continue;
        }
        rc = put(b, s + i - run, run);
        run = 0;
        if (rc == KV_OK)
            rc = puts_(b, e);
    }
    if (rc == KV_OK)
        rc = put(b, s + n - run, run);
    if (rc == KV_OK)
        rc = put(b, "\"", 1);
    return rc;
}

static int put_value(outbuf *b, const kv_json *v, bool pretty, int level);

static int put_array(outbuf *b, const kv_json *v, bool pretty, int level)
{
    int rc = put(b, "[", 1);
    for (size_t i = 0; i < v->u.arr.len && rc == KV_OK; i++) {
        if (i > 0)
            rc = put(b, ",", 1);
        if (rc == KV_OK)
            rc = newline(b, pretty, level + 1);
        if (rc == KV_OK)
            rc = put_value(b, v->u.arr.items[i], pretty, level + 1);
    }
    if (rc == KV_OK && v->u.arr.len > 0)
        rc = newline(b, pretty, level);
    return rc == KV_OK ? put(b, "]", 1) : rc;
}

static int put_object(outbuf *b, const kv_json *v, bool pretty, int level)
{
    int rc = put(b, "{", 1);
    for (size_t i = 0; i < v->u.obj.len && rc == KV_OK; i++) {
        const struct kv_json_member *m = &v->u.obj.m[i];
        if (i > 0)
            rc = put(b, ",", 1);
        if (rc == KV_OK)
            rc = newline(b, pretty, level + 1);
        if (rc == KV_OK)
            rc = put_string(b, m->key, m->klen);
        if (rc == KV_OK)
            rc = pretty ? put(b, ": ", 2) : put(b, ":", 1);
        if (rc == KV_OK)
            rc = put_value(b, m->val, pretty, level + 1);
    }
    if (rc == KV_OK && v->u.obj.len > 0)
        rc = newline(b, pretty, level);
    return rc == KV_OK ? put(b, "}", 1) : rc;
}

/* level: containers enclosing v. */
static int put_value(outbuf *b, const kv_json *v, bool pretty, int level)
{
    switch (v->type) {
    case KV_JSON_NULL:
        return puts_(b, "null");
    case KV_JSON_BOOL:
        return puts_(b, v->u.b ? "true" : "false");
    case KV_JSON_NUMBER:
        return put_number(b, v);
    case KV_JSON_STRING:
        return put_string(b, v->u.str.s, v->u.str.len);
    case KV_JSON_ARRAY:
    case KV_JSON_OBJECT:
        if (level >= KV_JSON_MAX_DEPTH)
            return kv_fail(KV_EINVAL, "kv_json_dump: nesting deeper than %d", KV_JSON_MAX_DEPTH);
        return v->type == KV_JSON_ARRAY ? put_array(b, v, pretty, level)
                                        : put_object(b, v, pretty, level);
    }
    return KV_EINVAL;
}

char *kv_json_dump(const kv_json *v, bool pretty)
{
    outbuf b = {NULL, 0, 0};
    if (v == NULL) {
        kv_fail(KV_EINVAL, "kv_json_dump: NULL value");
        return NULL;
    }
    int rc = put_value(&b, v, pretty, 0);
    if (rc != KV_OK) {
        if (rc == KV_ENOMEM)
            kv_fail(KV_ENOMEM, "kv_json_dump: out of memory");
        kv_free(b.s);
        return NULL;
    }
    return b.s;
}
