/*
 * json_schema.c - kv_json_validate(): a JSON-Schema subset validator.
 *
 * kvbench refuses to write a result file that does not match
 * common/schema/results.schema.json, and the report refuses to read one, so a
 * harness bug (a negative duration, a forgotten field, a typo in a key) is
 * caught where it happens instead of corrupting a comparison weeks later.
 * That needs only a small part of JSON Schema (draft 2020-12): type, enum,
 * const, minimum, maximum, minLength, required, properties,
 * additionalProperties and items. The list is in json.h.
 *
 * How it works, in two passes:
 *
 *  1. check_schema() walks the whole schema once and rejects anything this
 *     validator would not enforce: an unknown keyword (a real validator
 *     ignores "pattern" if it does not know it; silently passing documents
 *     the schema author meant to reject is worse than refusing the schema),
 *     a keyword with a value of the wrong shape ("required": "x"), an
 *     unknown type name. Its errors name the schema location:
 *     "schema /properties/result: unsupported keyword \"pattern\"".
 *  2. validate() walks the document and the schema together, depth first,
 *     members in document order, and stops at the first violation. It keeps
 *     the JSON pointer (RFC 6901: '~' written "~0", '/' written "~1") of
 *     the current location in a buffer, appending a segment on the way down
 *     and truncating it on the way back, so the error names the exact place:
 *     "/result/latency_ns/p99: -1 is less than the minimum 0". A missing
 *     required member is reported at the pointer it would have had.
 *
 * Keywords apply by JSON Schema's rules: "minimum" only constrains numbers,
 * "minLength" strings, "required"/"properties"/"additionalProperties"
 * objects and "items" arrays; use "type" to demand the kind itself.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "json_impl.h"
#include "kvlabs/error.h"
#include "kvlabs/kv.h"

#define PTR_MAX 256

/** @brief Validation state: where we are, and where the error goes. */
typedef struct vctx {
    char ptr[PTR_MAX]; /**< JSON pointer of the current location (doc or schema) */
    size_t plen;       /**< its length */
    char *err;         /**< caller's error buffer, may be NULL */
    size_t errlen;     /**< its size */
} vctx;

/* Record "PREFIXPOINTER: message" in err and kv_last_error(); KV_EINVAL. */
static int failf(vctx *c, const char *prefix, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int failf(vctx *c, const char *prefix, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->err != NULL && c->errlen > 0)
        snprintf(c->err, c->errlen, "%s%s: %s", prefix, c->ptr, msg);
    return kv_fail(KV_EINVAL, "%s%s: %s", prefix, c->ptr, msg);
}

/* Append "/" and an escaped segment to the pointer; returns the old length. */
static size_t push_seg(vctx *c, const char *seg, size_t n)
{
    size_t old = c->plen;
    char tmp[8];
    const char *add;

    for (size_t i = 0; i <= n; i++) {
        if (i == 0)
            add = "/";
        else if (seg[i - 1] == '~')
            add = "~0";
        else if (seg[i - 1] == '/')
            add = "~1";
        else if (seg[i - 1] == '\0')
            add = "\\u0000";
        else
            tmp[0] = seg[i - 1], tmp[1] = '\0', add = tmp;
        size_t k = strlen(add);
        if (c->plen + k >= PTR_MAX - 4) { /* keep room for "..." */
            memcpy(c->ptr + c->plen, "...", 4);
            c->plen += 3;
            break;
        }
        memcpy(c->ptr + c->plen, add, k + 1);
        c->plen += k;
    }
    return old;
}

static size_t push_index(vctx *c, size_t i)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%zu", i);
    return push_seg(c, num, (size_t)n);
}

static void pop_seg(vctx *c, size_t old)
{
    c->plen = old;
    c->ptr[old] = '\0';
}

static const char *const type_names[] = {"null", "boolean", "number", "string",
                                         "array", "object", "integer"};
static const char *const annotations[] = {"$schema", "$id", "$comment", "title",
                                          "description", "default", "examples"};
static const char *const keywords[] = {"type", "enum", "const", "minimum", "maximum",
                                       "minLength", "required", "properties",
                                       "additionalProperties", "items"};

static bool in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

#define IN_LIST(s, list) in_list((s), (list), sizeof(list) / sizeof((list)[0]))

/* ---- pass 1: is the schema well formed and fully supported? --------------- */

static int check_schema(vctx *c, const kv_json *s, int depth);

static int check_type_kw(vctx *c, const kv_json *t)
{
    if (t->type == KV_JSON_STRING)
        return IN_LIST(t->u.str.s, type_names) ? KV_OK
             : failf(c, "schema ", "unknown type \"%.40s\"", t->u.str.s);
    if (t->type != KV_JSON_ARRAY || t->u.arr.len == 0)
        return failf(c, "schema ", "\"type\" must be a type name or a non-empty array of them");
    for (size_t i = 0; i < t->u.arr.len; i++) {
        const kv_json *e = t->u.arr.items[i];
        if (e->type != KV_JSON_STRING || !IN_LIST(e->u.str.s, type_names))
            return failf(c, "schema ", "\"type\" lists an unknown type");
    }
    return KV_OK;
}

/* Check the value of keyword kw (known); c->ptr points at the keyword. */
static int check_keyword(vctx *c, const char *kw, const kv_json *v, int depth)
{
    if (strcmp(kw, "type") == 0)
        return check_type_kw(c, v);
    if (strcmp(kw, "enum") == 0)
        return v->type == KV_JSON_ARRAY ? KV_OK : failf(c, "schema ", "\"enum\" must be an array");
    if (strcmp(kw, "minimum") == 0 || strcmp(kw, "maximum") == 0)
        return v->type == KV_JSON_NUMBER ? KV_OK : failf(c, "schema ", "\"%s\" must be a number", kw);
    if (strcmp(kw, "minLength") == 0)
        return kv_json_is_int(v) && v->u.num.i >= 0 ? KV_OK
             : failf(c, "schema ", "\"minLength\" must be a non-negative integer");
    if (strcmp(kw, "required") == 0) {
        if (v->type != KV_JSON_ARRAY)
            return failf(c, "schema ", "\"required\" must be an array of strings");
        for (size_t i = 0; i < v->u.arr.len; i++)
            if (v->u.arr.items[i]->type != KV_JSON_STRING)
                return failf(c, "schema ", "\"required\" must be an array of strings");
        return KV_OK;
    }
    if (strcmp(kw, "properties") == 0) {
        if (v->type != KV_JSON_OBJECT)
            return failf(c, "schema ", "\"properties\" must be an object");
        for (size_t i = 0; i < v->u.obj.len; i++) {
            size_t old = push_seg(c, v->u.obj.m[i].key, v->u.obj.m[i].klen);
            int rc = check_schema(c, v->u.obj.m[i].val, depth + 1);
            if (rc != KV_OK)
                return rc;
            pop_seg(c, old);
        }
        return KV_OK;
    }
    if (strcmp(kw, "items") == 0 && v->type == KV_JSON_ARRAY)
        return failf(c, "schema ", "\"items\" must be one schema (arrays are prefixItems, unsupported)");
    if (strcmp(kw, "additionalProperties") == 0 || strcmp(kw, "items") == 0)
        return check_schema(c, v, depth + 1);
    return KV_OK; /* const: any value */
}

static int check_schema(vctx *c, const kv_json *s, int depth)
{
    if (depth > KV_JSON_MAX_DEPTH)
        return failf(c, "schema ", "nesting deeper than %d", KV_JSON_MAX_DEPTH);
    if (s->type == KV_JSON_BOOL)
        return KV_OK;
    if (s->type != KV_JSON_OBJECT)
        return failf(c, "schema ", "a schema must be an object or a boolean");
    for (size_t i = 0; i < s->u.obj.len; i++) {
        const struct kv_json_member *m = &s->u.obj.m[i];
        size_t old = push_seg(c, m->key, m->klen);
        int rc = KV_OK;
        if (IN_LIST(m->key, keywords))
            rc = check_keyword(c, m->key, m->val, depth);
        else if (!IN_LIST(m->key, annotations))
            rc = failf(c, "schema ", "unsupported keyword \"%.40s\"", m->key);
        if (rc != KV_OK)
            return rc;
        pop_seg(c, old);
    }
    return KV_OK;
}

/* ---- pass 2: does the document match? --------------------------------- */

static bool type_matches(const char *name, const kv_json *d)
{
    switch (d->type) {
    case KV_JSON_NULL: return strcmp(name, "null") == 0;
    case KV_JSON_BOOL: return strcmp(name, "boolean") == 0;
    case KV_JSON_STRING: return strcmp(name, "string") == 0;
    case KV_JSON_ARRAY: return strcmp(name, "array") == 0;
    case KV_JSON_OBJECT: return strcmp(name, "object") == 0;
    case KV_JSON_NUMBER:
        return strcmp(name, "number") == 0 ||
               (strcmp(name, "integer") == 0 && (d->u.num.is_int || d->u.num.d == trunc(d->u.num.d)));
    }
    return false;
}

static const char *type_word(const kv_json *d)
{
    static const char *const words[] = {"null", "boolean", "number", "string", "array", "object"};
    if (d->type == KV_JSON_NUMBER && d->u.num.is_int)
        return "integer";
    return words[d->type];
}

static int check_type(vctx *c, const kv_json *t, const kv_json *d)
{
    if (t->type == KV_JSON_STRING)
        return type_matches(t->u.str.s, d) ? KV_OK
             : failf(c, "", "expected %s, got %s", t->u.str.s, type_word(d));
    char names[120] = "";
    for (size_t i = 0; i < t->u.arr.len; i++) {
        const char *name = t->u.arr.items[i]->u.str.s;
        if (type_matches(name, d))
            return KV_OK;
        size_t used = strlen(names);
        snprintf(names + used, sizeof names - used, "%s%s", i ? " or " : "", name);
    }
    return failf(c, "", "expected %s, got %s", names, type_word(d));
}

/* Number as text for messages. */
static void num_text(const kv_json *n, char *buf, size_t len)
{
    if (n->u.num.is_int)
        snprintf(buf, len, "%lld", (long long)n->u.num.i);
    else
        snprintf(buf, len, "%.17g", n->u.num.d);
}

/* a < b, exact for two integers. */
static bool num_less(const kv_json *a, const kv_json *b)
{
    if (a->u.num.is_int && b->u.num.is_int)
        return a->u.num.i < b->u.num.i;
    return a->u.num.d < b->u.num.d;
}

static int check_bounds(vctx *c, const kv_json *s, const kv_json *d)
{
    const kv_json *min = kv_json_get(s, "minimum"), *max = kv_json_get(s, "maximum");
    char a[32], b[32];
    if (min && num_less(d, min)) {
        num_text(d, a, sizeof a), num_text(min, b, sizeof b);
        return failf(c, "", "%s is less than the minimum %s", a, b);
    }
    if (max && num_less(max, d)) {
        num_text(d, a, sizeof a), num_text(max, b, sizeof b);
        return failf(c, "", "%s is greater than the maximum %s", a, b);
    }
    return KV_OK;
}

/* Unicode characters of a (valid UTF-8) string: bytes that start one. */
static size_t utf8_chars(const kv_json *str)
{
    size_t n = 0;
    for (size_t i = 0; i < str->u.str.len; i++)
        n += ((unsigned char)str->u.str.s[i] & 0xc0) != 0x80;
    return n;
}

static int validate(vctx *c, const kv_json *s, const kv_json *d, int depth);

static int check_object(vctx *c, const kv_json *s, const kv_json *d, int depth)
{
    const kv_json *req = kv_json_get(s, "required"), *props = kv_json_get(s, "properties");
    const kv_json *extra = kv_json_get(s, "additionalProperties");
    int rc = KV_OK;

    for (size_t i = 0; req && i < req->u.arr.len; i++) {
        const kv_json *name = req->u.arr.items[i];
        bool found = false;
        for (size_t j = 0; j < d->u.obj.len && !found; j++)
            found = d->u.obj.m[j].klen == name->u.str.len &&
                    memcmp(d->u.obj.m[j].key, name->u.str.s, name->u.str.len) == 0;
        if (!found) {
            push_seg(c, name->u.str.s, name->u.str.len);
            return failf(c, "", "required property is missing");
        }
    }
    for (size_t j = 0; j < d->u.obj.len && rc == KV_OK; j++) {
        const struct kv_json_member *m = &d->u.obj.m[j];
        const kv_json *sub = NULL;
        for (size_t k = 0; props && k < props->u.obj.len && sub == NULL; k++)
            if (props->u.obj.m[k].klen == m->klen &&
                memcmp(props->u.obj.m[k].key, m->key, m->klen) == 0)
                sub = props->u.obj.m[k].val;
        if (sub == NULL)
            sub = extra; /* NULL: any value allowed */
        size_t old = push_seg(c, m->key, m->klen);
        if (sub != NULL && sub->type == KV_JSON_BOOL && !sub->u.b && sub == extra)
            rc = failf(c, "", "additional property is not allowed");
        else if (sub != NULL)
            rc = validate(c, sub, m->val, depth + 1);
        if (rc == KV_OK)
            pop_seg(c, old);
    }
    return rc;
}

static int validate(vctx *c, const kv_json *s, const kv_json *d, int depth)
{
    const kv_json *kw;
    int rc;

    if (depth > KV_JSON_MAX_DEPTH)
        return failf(c, "", "nesting deeper than %d", KV_JSON_MAX_DEPTH);
    if (s->type == KV_JSON_BOOL)
        return s->u.b ? KV_OK : failf(c, "", "no value is allowed here (schema false)");
    if ((kw = kv_json_get(s, "type")) && (rc = check_type(c, kw, d)) != KV_OK)
        return rc;
    if ((kw = kv_json_get(s, "const")) && !kv_json_equal(kw, d))
        return failf(c, "", "value differs from the schema's const");
    if ((kw = kv_json_get(s, "enum"))) {
        bool hit = false;
        for (size_t i = 0; i < kw->u.arr.len && !hit; i++)
            hit = kv_json_equal(kw->u.arr.items[i], d);
        if (!hit)
            return failf(c, "", "value is not one of the schema's enum values");
    }
    if (d->type == KV_JSON_NUMBER && (rc = check_bounds(c, s, d)) != KV_OK)
        return rc;
    if (d->type == KV_JSON_STRING && (kw = kv_json_get(s, "minLength")) &&
        utf8_chars(d) < (uint64_t)kw->u.num.i)
        return failf(c, "", "string is shorter than minLength %lld", (long long)kw->u.num.i);
    if (d->type == KV_JSON_OBJECT)
        return check_object(c, s, d, depth);
    if (d->type == KV_JSON_ARRAY && (kw = kv_json_get(s, "items"))) {
        for (size_t i = 0; i < d->u.arr.len; i++) {
            size_t old = push_index(c, i);
            if ((rc = validate(c, kw, d->u.arr.items[i], depth + 1)) != KV_OK)
                return rc;
            pop_seg(c, old);
        }
    }
    return KV_OK;
}

int kv_json_validate(const kv_json *schema, const kv_json *doc, char *err, size_t errlen)
{
    vctx c;
    c.ptr[0] = '\0';
    c.plen = 0;
    c.err = err;
    c.errlen = err ? errlen : 0;
    if (c.errlen > 0)
        err[0] = '\0';
    if (schema == NULL || doc == NULL) {
        const char *what = schema ? "document" : "schema";
        if (c.errlen > 0)
            snprintf(err, errlen, "kv_json_validate: NULL %s", what);
        return kv_fail(KV_EINVAL, "kv_json_validate: NULL %s", what);
    }
    int rc = check_schema(&c, schema, 0);
    if (rc != KV_OK)
        return rc;
    return validate(&c, schema, doc, 0);
}
