/*
 * json.c - the JSON document model: values, their constructors, getters,
 * setters, equality and freeing.
 *
 * This is the tree that json_parse.c produces, json_write.c prints and
 * json_schema.c checks (the layout is in json_impl.h). The rules a tree
 * keeps, and which every function here preserves:
 *
 *  - every string and key is valid UTF-8 (constructors check it; the parser
 *    checks the text), so a dump is always valid JSON;
 *  - every number is finite, and num.is_int is set exactly when the value
 *    is integral and within int64_t's range, with num.i holding it;
 *  - every child's parent pointer names its array or object, roots have
 *    none, and object keys are unique.
 *
 * Ownership follows the tree: a value added to an array or object belongs
 * to it, and kv_json_free() on the root frees everything. Adding a value
 * that already has a parent, or that is an ancestor of the container (a
 * cycle), is refused with the value untouched; any other failure to add
 * frees the value, so a constructor's result can be passed straight in.
 *
 * How freeing works without recursion (a built tree has no depth limit):
 * walk down to the last child of the current container, detaching it as we
 * go (decrementing the container's length); a node with no children left
 * is freed and we climb back to its parent through the parent pointer.
 */
#include <assert.h>
#include <math.h>
#include <string.h>

#include "json_impl.h"
#include "kvlabs/alloc.h"
#include "kvlabs/error.h"
#include "kvlabs/kv.h"

size_t kv_json_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    size_t len, i;
    uint32_t v, min;

    if (n == 0)
        return 0;
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        len = 2, v = s[0] & 0x1fu, min = 0x80;
    } else if ((s[0] & 0xf0) == 0xe0) {
        len = 3, v = s[0] & 0x0fu, min = 0x800;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        len = 4, v = s[0] & 0x07u, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3fu);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

/* Whether s[0..n) is entirely valid UTF-8. */
static bool utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    uint32_t cp;
    while (n > 0) {
        size_t k = kv_json_utf8_decode(p, n, &cp);
        if (k == 0)
            return false;
        p += k, n -= k;
    }
    return true;
}

kv_json *kv_json_alloc(kv_json_type t)
{
    kv_json *v = kv_calloc(1, sizeof *v);
    if (v != NULL)
        v->type = t;
    return v;
}

int kv_json_push_item(kv_json *arr, kv_json *val)
{
    if (arr->u.arr.len == arr->u.arr.cap) {
        size_t cap = arr->u.arr.cap ? 2 * arr->u.arr.cap : 4;
        kv_json **items = kv_realloc(arr->u.arr.items, cap * sizeof *items);
        if (items == NULL)
            return KV_ENOMEM;
        arr->u.arr.items = items;
        arr->u.arr.cap = cap;
    }
    arr->u.arr.items[arr->u.arr.len++] = val;
    val->parent = arr;
    return KV_OK;
}

int kv_json_push_member(kv_json *obj, char *key, size_t klen, kv_json *val)
{
    if (obj->u.obj.len == obj->u.obj.cap) {
        size_t cap = obj->u.obj.cap ? 2 * obj->u.obj.cap : 4;
        struct kv_json_member *m = kv_realloc(obj->u.obj.m, cap * sizeof *m);
        if (m == NULL)
            return KV_ENOMEM;
        obj->u.obj.m = m;
        obj->u.obj.cap = cap;
    }
    obj->u.obj.m[obj->u.obj.len++] = (struct kv_json_member){key, klen, val};
    val->parent = obj;
    return KV_OK;
}

/* Free a node whose children (if any) are already gone. */
static void free_node(kv_json *v)
{
    if (v->type == KV_JSON_STRING)
        kv_free(v->u.str.s);
    else if (v->type == KV_JSON_ARRAY)
        kv_free(v->u.arr.items);
    else if (v->type == KV_JSON_OBJECT)
        kv_free(v->u.obj.m);
    kv_free(v);
}

void kv_json_free(kv_json *v)
{
    if (v == NULL)
        return;
    assert(v->parent == NULL && "kv_json_free: not a root");
    kv_json *cur = v;
    while (cur != NULL) {
        if (cur->type == KV_JSON_ARRAY && cur->u.arr.len > 0) {
            cur = cur->u.arr.items[--cur->u.arr.len];
        } else if (cur->type == KV_JSON_OBJECT && cur->u.obj.len > 0) {
            struct kv_json_member *m = &cur->u.obj.m[--cur->u.obj.len];
            kv_free(m->key);
            cur = m->val;
        } else {
            kv_json *up = cur == v ? NULL : cur->parent;
            free_node(cur);
            cur = up;
        }
    }
}

/* Depth-limited deep equality; depth counts containers entered. */
static bool equal_at(const kv_json *a, const kv_json *b, int depth)
{
    if (a == NULL || b == NULL)
        return a == b;
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case KV_JSON_NULL:
        return true;
    case KV_JSON_BOOL:
        return a->u.b == b->u.b;
    case KV_JSON_NUMBER:
        if (a->u.num.is_int != b->u.num.is_int)
            return false; /* a non-integer value cannot equal an int64_t */
        return a->u.num.is_int ? a->u.num.i == b->u.num.i : a->u.num.d == b->u.num.d;
    case KV_JSON_STRING:
        return a->u.str.len == b->u.str.len && memcmp(a->u.str.s, b->u.str.s, a->u.str.len) == 0;
    case KV_JSON_ARRAY:
        if (depth >= KV_JSON_MAX_DEPTH || a->u.arr.len != b->u.arr.len)
            return false;
        for (size_t i = 0; i < a->u.arr.len; i++)
            if (!equal_at(a->u.arr.items[i], b->u.arr.items[i], depth + 1))
                return false;
        return true;
    case KV_JSON_OBJECT:
        if (depth >= KV_JSON_MAX_DEPTH || a->u.obj.len != b->u.obj.len)
            return false;
        for (size_t i = 0; i < a->u.obj.len; i++) {
            const struct kv_json_member *ma = &a->u.obj.m[i];
            const kv_json *vb = NULL;
            for (size_t j = 0; j < b->u.obj.len && vb == NULL; j++) {
                const struct kv_json_member *mb = &b->u.obj.m[j];
                if (mb->klen == ma->klen && memcmp(mb->key, ma->key, ma->klen) == 0)
                    vb = mb->val;
            }
            if (vb == NULL || !equal_at(ma->val, vb, depth + 1))
                return false;
        }
        return true;
    }
    return false;
}

bool kv_json_equal(const kv_json *a, const kv_json *b)
{
    return equal_at(a, b, 0);
}

/* ---- getters ---------------------------------------------------------- */

kv_json_type kv_json_type_of(const kv_json *v)
{
    return v ? v->type : KV_JSON_NULL;
}

bool kv_json_is_int(const kv_json *v)
{
    return v && v->type == KV_JSON_NUMBER && v->u.num.is_int;
}

double kv_json_num(const kv_json *v)
{
    return v && v->type == KV_JSON_NUMBER ? v->u.num.d : 0.0;
}

int64_t kv_json_int(const kv_json *v)
{
    return kv_json_is_int(v) ? v->u.num.i : 0;
}

bool kv_json_bool(const kv_json *v)
{
    return v && v->type == KV_JSON_BOOL && v->u.b;
}

const char *kv_json_str(const kv_json *v)
{
    return v && v->type == KV_JSON_STRING ? v->u.str.s : NULL;
}

size_t kv_json_str_len(const kv_json *v)
{
    return v && v->type == KV_JSON_STRING ? v->u.str.len : 0;
}

size_t kv_json_len(const kv_json *v)
{
    if (v && v->type == KV_JSON_ARRAY)
        return v->u.arr.len;
    if (v && v->type == KV_JSON_OBJECT)
        return v->u.obj.len;
    return 0;
}

kv_json *kv_json_at(const kv_json *arr, size_t i)
{
    if (arr == NULL || arr->type != KV_JSON_ARRAY || i >= arr->u.arr.len)
        return NULL;
    return arr->u.arr.items[i];
}

/* Index of member key[0..klen) in obj, or obj->u.obj.len when absent. */
static size_t find_member(const kv_json *obj, const char *key, size_t klen)
{
    size_t i;
    for (i = 0; i < obj->u.obj.len; i++) {
        const struct kv_json_member *m = &obj->u.obj.m[i];
        if (m->klen == klen && memcmp(m->key, key, klen) == 0)
            break;
    }
    return i;
}

kv_json *kv_json_get(const kv_json *obj, const char *key)
{
    if (obj == NULL || obj->type != KV_JSON_OBJECT || key == NULL)
        return NULL;
    size_t i = find_member(obj, key, strlen(key));
    return i < obj->u.obj.len ? obj->u.obj.m[i].val : NULL;
}

kv_json *kv_json_member(const kv_json *obj, size_t i, const char **key, size_t *klen)
{
    if (obj == NULL || obj->type != KV_JSON_OBJECT || i >= obj->u.obj.len)
        return NULL;
    if (key)
        *key = obj->u.obj.m[i].key;
    if (klen)
        *klen = obj->u.obj.m[i].klen;
    return obj->u.obj.m[i].val;
}

/* ---- constructors ------------------------------------------------------ */

/* A new node, or NULL with KV_ENOMEM set. */
static kv_json *new_node(kv_json_type t)
{
    kv_json *v = kv_json_alloc(t);
    if (v == NULL)
        kv_fail(KV_ENOMEM, "json: out of memory");
    return v;
}

kv_json *kv_json_new_null(void)
{
    return new_node(KV_JSON_NULL);
}

kv_json *kv_json_new_bool(bool b)
{
    kv_json *v = new_node(KV_JSON_BOOL);
    if (v)
        v->u.b = b;
    return v;
}

kv_json *kv_json_new_num(double d)
{
    if (!isfinite(d)) {
        kv_fail(KV_EINVAL, "json: number %g is not finite", d);
        return NULL;
    }
    kv_json *v = new_node(KV_JSON_NUMBER);
    if (v == NULL)
        return NULL;
    v->u.num.d = d;
    /* [-2^63, 2^63) holds exactly the doubles that convert to int64_t. */
    if (d >= -9223372036854775808.0 && d < 9223372036854775808.0 && d == trunc(d)) {
        v->u.num.i = (int64_t)d;
        v->u.num.is_int = true;
        v->u.num.d = (double)v->u.num.i; /* turns -0.0 into 0.0 */
    }
    return v;
}

kv_json *kv_json_new_int(int64_t i)
{
    kv_json *v = new_node(KV_JSON_NUMBER);
    if (v) {
        v->u.num.i = i;
        v->u.num.d = (double)i;
        v->u.num.is_int = true;
    }
    return v;
}

kv_json *kv_json_new_strn(const char *s, size_t len)
{
    if (s == NULL || !utf8_valid(s, len)) {
        kv_fail(KV_EINVAL, "json: string is %s", s ? "not valid UTF-8" : "NULL");
        return NULL;
    }
    kv_json *v = new_node(KV_JSON_STRING);
    if (v == NULL)
        return NULL;
    v->u.str.s = kv_memdup(s, len);
    if (v->u.str.s == NULL) {
        kv_free(v);
        kv_fail(KV_ENOMEM, "json: out of memory");
        return NULL;
    }
    v->u.str.len = len;
    return v;
}

kv_json *kv_json_new_str(const char *s)
{
    return kv_json_new_strn(s, s ? strlen(s) : 0);
}

kv_json *kv_json_new_array(void)
{
    return new_node(KV_JSON_ARRAY);
}

kv_json *kv_json_new_object(void)
{
    return new_node(KV_JSON_OBJECT);
}

/* ---- setters ------------------------------------------------------------ */

/* The misuse checks of adding val below container c: KV_OK, or KV_ENOMEM
 * (val NULL) or KV_EINVAL (val in a tree or an ancestor of c), val untouched. */
static int check_adoptable(const kv_json *c, const kv_json *val, const char *fn)
{
    if (val == NULL)
        return kv_fail(KV_ENOMEM, "%s: value is NULL (a constructor failed)", fn);
    if (val->parent != NULL)
        return kv_fail(KV_EINVAL, "%s: value already belongs to a tree", fn);
    for (const kv_json *a = c; a != NULL; a = a->parent)
        if (a == val)
            return kv_fail(KV_EINVAL, "%s: value is the container or its ancestor", fn);
    return KV_OK;
}

int kv_json_set_obj(kv_json *obj, const char *key, kv_json *val)
{
    int rc = check_adoptable(obj, val, "kv_json_set_obj");
    if (rc != KV_OK)
        return rc;
    if (obj == NULL || obj->type != KV_JSON_OBJECT) {
        rc = kv_fail(KV_EINVAL, "kv_json_set_obj: not an object");
        goto out_free_val;
    }
    if (key == NULL || !utf8_valid(key, strlen(key))) {
        rc = kv_fail(KV_EINVAL, "kv_json_set_obj: key is NULL or not UTF-8");
        goto out_free_val;
    }
    size_t klen = strlen(key);
    size_t i = find_member(obj, key, klen);
    if (i < obj->u.obj.len) {
        kv_json *old = obj->u.obj.m[i].val;
        old->parent = NULL;
        kv_json_free(old);
        obj->u.obj.m[i].val = val;
        val->parent = obj;
        return KV_OK;
    }
    char *k = kv_memdup(key, klen);
    if (k == NULL || kv_json_push_member(obj, k, klen, val) != KV_OK) {
        kv_free(k);
        rc = kv_fail(KV_ENOMEM, "kv_json_set_obj: out of memory");
        goto out_free_val;
    }
    return KV_OK;

out_free_val:
    kv_json_free(val);
    return rc;
}

int kv_json_set_num(kv_json *obj, const char *key, double d)
{
    if (!isfinite(d))
        return kv_fail(KV_EINVAL, "kv_json_set_num: %s is not finite", key ? key : "value");
    return kv_json_set_obj(obj, key, kv_json_new_num(d));
}

int kv_json_set_int(kv_json *obj, const char *key, int64_t i)
{
    return kv_json_set_obj(obj, key, kv_json_new_int(i));
}

int kv_json_set_str(kv_json *obj, const char *key, const char *s)
{
    kv_json *v = kv_json_new_str(s);
    if (v == NULL)
        return s == NULL || !utf8_valid(s, strlen(s)) ? KV_EINVAL : KV_ENOMEM;
    return kv_json_set_obj(obj, key, v);
}

int kv_json_set_bool(kv_json *obj, const char *key, bool b)
{
    return kv_json_set_obj(obj, key, kv_json_new_bool(b));
}

int kv_json_remove(kv_json *obj, const char *key)
{
    if (obj == NULL || obj->type != KV_JSON_OBJECT || key == NULL)
        return kv_fail(KV_EINVAL, "kv_json_remove: not an object, or NULL key");
    size_t klen = strlen(key);
    size_t i = find_member(obj, key, klen);
    if (i == obj->u.obj.len)
        return kv_fail(KV_ENOTFOUND, "kv_json_remove: no member \"%s\"", key);
    struct kv_json_member m = obj->u.obj.m[i];
    memmove(&obj->u.obj.m[i], &obj->u.obj.m[i + 1],
            (obj->u.obj.len - i - 1) * sizeof obj->u.obj.m[0]);
    obj->u.obj.len--;
    kv_free(m.key);
    m.val->parent = NULL;
    kv_json_free(m.val);
    return KV_OK;
}

int kv_json_append(kv_json *arr, kv_json *val)
{
    int rc = check_adoptable(arr, val, "kv_json_append");
    if (rc != KV_OK)
        return rc;
    if (arr == NULL || arr->type != KV_JSON_ARRAY) {
        kv_json_free(val);
        return kv_fail(KV_EINVAL, "kv_json_append: not an array");
    }
    if (kv_json_push_item(arr, val) != KV_OK) {
        kv_json_free(val);
        return kv_fail(KV_ENOMEM, "kv_json_append: out of memory");
    }
    return KV_OK;
}
