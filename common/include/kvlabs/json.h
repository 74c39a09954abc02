/**
 * @file json.h
 * @brief A small JSON DOM: parser, builder, writer, and a JSON-Schema
 *        subset validator, for benchmark results and their schema.
 *
 * A document is a tree of kv_json values. kv_json_parse() builds one from
 * text, the kv_json_new_*() and kv_json_set_*() functions build one in code,
 * kv_json_dump() writes one as text, kv_json_validate() checks one against a
 * schema. Everything follows RFC 8259 strictly: the parser rejects trailing
 * commas, comments, leading zeros, bad escapes, lone surrogates, invalid
 * UTF-8, control characters in strings and duplicate object keys, and nests
 * at most KV_JSON_MAX_DEPTH arrays and objects, so a malformed or hostile
 * file fails with KV_EINVAL and a "line:column: reason" detail in
 * kv_last_error() instead of being half-understood.
 *
 * **Values.** Numbers are doubles; one that is integral and fits in int64_t
 * also carries its exact int64_t value (kv_json_is_int()), so 64-bit
 * counters survive a round trip and are written without a fraction or
 * exponent. Numbers are always finite (NaN and infinities are refused, and
 * so are literals beyond the range of double). Strings are UTF-8 and may
 * contain NUL characters (from "\u0000"): use kv_json_str_len() for their
 * length. Objects keep their members in insertion (or file) order.
 *
 * **Ownership.** Every value belongs to the tree it was added to; only a
 * root is freed, with kv_json_free(), which frees the whole tree. The
 * functions that add a value to an array or object take ownership of it,
 * on failure too (see kv_json_set_obj()). Pointers returned by the getters
 * stay valid until the tree is freed or the member is replaced or removed.
 *
 * **Numbers and locale.** Numbers are read with strtod() and written with
 * snprintf("%.*g") (up to 17 significant digits, enough to round-trip any
 * double), which follow the locale's decimal point: do not call
 * setlocale(LC_NUMERIC, ...) with a locale that uses a decimal comma.
 *
 * **Thread safety.** Distinct trees may be used by distinct threads; a tree
 * may be read (getters, dump, validate) by several threads at once, but not
 * while one modifies it.
 */
#ifndef KVLABS_JSON_H
#define KVLABS_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Maximum nesting of arrays and objects accepted by the parser, the writer and the validator. */
#define KV_JSON_MAX_DEPTH 64

/** @brief The type of a JSON value. */
typedef enum kv_json_type {
    KV_JSON_NULL,   /**< null */
    KV_JSON_BOOL,   /**< true or false */
    KV_JSON_NUMBER, /**< a finite number (double, plus exact int64_t when integral) */
    KV_JSON_STRING, /**< a UTF-8 string */
    KV_JSON_ARRAY,  /**< an ordered list of values */
    KV_JSON_OBJECT  /**< ordered members with unique string keys */
} kv_json_type;

/** @brief A JSON value (and, through it, the tree below it). Opaque. */
typedef struct kv_json kv_json;

/** @name Parsing, writing, freeing
 * @{ */

/**
 * @brief Parse a JSON text into a new tree.
 * @param[in]  text  the text, @p len bytes of UTF-8; need not be NUL-terminated.
 * @param[in]  len   its length in bytes.
 * @param[out] out   the root of the new tree, set only on success; free it
 *                   with kv_json_free().
 * @return KV_OK; KV_EINVAL for a NULL argument or malformed text (detail:
 *         "json: LINE:COLUMN: reason", 1-based, column in bytes), including
 *         nesting deeper than KV_JSON_MAX_DEPTH and numbers beyond the range
 *         of double; KV_ENOMEM.
 */
int kv_json_parse(const char *text, size_t len, kv_json **out);

/**
 * @brief Free a tree.
 * @param[in] v  a root (a value not added to an array or object), or NULL.
 */
void kv_json_free(kv_json *v);

/**
 * @brief Write a tree as JSON text.
 *
 * Integers (kv_json_is_int()) are written in decimal; other numbers with
 * the fewest of 15, 16 or 17 significant digits that read back to the same
 * double, so a dump parses back to an equal tree. Strings escape `"`, `\`
 * and control characters; other UTF-8 is written as is.
 * @param[in] v       the tree.
 * @param[in] pretty  true: members and elements on their own lines, indented
 *                    by two spaces; false: no whitespace at all.
 * @return a NUL-terminated string to release with kv_free(), without a
 *         final newline; NULL when @p v is NULL (KV_EINVAL), deeper than
 *         KV_JSON_MAX_DEPTH (KV_EINVAL) or memory runs out (KV_ENOMEM), with
 *         the detail in kv_last_error().
 */
char *kv_json_dump(const kv_json *v, bool pretty);

/**
 * @brief Deep equality: same type and value; arrays element by element,
 *        objects member by member regardless of member order, numbers by
 *        value (1 equals 1.0).
 * @param[in] a  a value or NULL.
 * @param[in] b  a value or NULL.
 * @return true when equal (two NULLs are equal).
 */
bool kv_json_equal(const kv_json *a, const kv_json *b);

/** @} */

/** @name Reading values
 * The getters accept NULL and values of the wrong type and then return the
 * stated default, so lookups can be chained:
 * `kv_json_int(kv_json_get(kv_json_get(doc, "result"), "ops"))`.
 * @{ */

/**
 * @brief The type of a value.
 * @param[in] v  the value.
 * @return its type; KV_JSON_NULL for NULL.
 */
kv_json_type kv_json_type_of(const kv_json *v);

/**
 * @brief Whether a value is a number holding an exact int64_t.
 * @param[in] v  the value.
 * @return true for a number that is integral and within int64_t's range.
 */
bool kv_json_is_int(const kv_json *v);

/**
 * @brief A number's value.
 * @param[in] v  the value.
 * @return the number (rounded to double for large integers); 0.0 when @p v
 *         is not a number.
 */
double kv_json_num(const kv_json *v);

/**
 * @brief A number's exact integer value.
 * @param[in] v  the value.
 * @return the integer when kv_json_is_int(v), else 0.
 */
int64_t kv_json_int(const kv_json *v);

/**
 * @brief A boolean's value.
 * @param[in] v  the value.
 * @return true only for the value true.
 */
bool kv_json_bool(const kv_json *v);

/**
 * @brief A string's bytes.
 * @param[in] v  the value.
 * @return the NUL-terminated UTF-8 bytes (owned by the tree), or NULL when
 *         @p v is not a string.
 */
const char *kv_json_str(const kv_json *v);

/**
 * @brief A string's length in bytes (it may contain NULs).
 * @param[in] v  the value.
 * @return the length, or 0 when @p v is not a string.
 */
size_t kv_json_str_len(const kv_json *v);

/**
 * @brief Number of elements of an array or members of an object.
 * @param[in] v  the value.
 * @return the count, or 0 for any other type.
 */
size_t kv_json_len(const kv_json *v);

/**
 * @brief An array's element.
 * @param[in] arr  the array.
 * @param[in] i    the index, from 0.
 * @return the element, or NULL when @p arr is not an array or @p i is out of range.
 */
kv_json *kv_json_at(const kv_json *arr, size_t i);

/**
 * @brief An object's member by key.
 * @param[in] obj  the object.
 * @param[in] key  the NUL-terminated key.
 * @return the member's value, or NULL when absent or @p obj is not an object.
 */
kv_json *kv_json_get(const kv_json *obj, const char *key);

/**
 * @brief An object's member by position, for iterating in order.
 * @param[in]  obj   the object.
 * @param[in]  i     the position, from 0.
 * @param[out] key   receives the key (NUL-terminated, owned by the tree); may be NULL.
 * @param[out] klen  receives the key's length in bytes; may be NULL.
 * @return the member's value, or NULL when @p obj is not an object or @p i
 *         is out of range (then *key and *klen are untouched).
 */
kv_json *kv_json_member(const kv_json *obj, size_t i, const char **key, size_t *klen);

/** @} */

/** @name Building values
 * Constructors return a new root value, or NULL when out of memory
 * (KV_ENOMEM) or given an invalid argument (KV_EINVAL).
 * @{ */

/** @brief A new null. @return the value, or NULL (KV_ENOMEM). */
kv_json *kv_json_new_null(void);

/**
 * @brief A new boolean.
 * @param[in] b  its value.
 * @return the value, or NULL (KV_ENOMEM).
 */
kv_json *kv_json_new_bool(bool b);

/**
 * @brief A new number; an integral @p d within int64_t's range becomes an integer.
 * @param[in] d  its value.
 * @return the value, or NULL (KV_EINVAL when @p d is NaN or infinite; KV_ENOMEM).
 */
kv_json *kv_json_new_num(double d);

/**
 * @brief A new integer number.
 * @param[in] i  its exact value.
 * @return the value, or NULL (KV_ENOMEM).
 */
kv_json *kv_json_new_int(int64_t i);

/**
 * @brief A new string, copied.
 * @param[in] s  NUL-terminated UTF-8.
 * @return the value, or NULL (KV_EINVAL when @p s is NULL or not valid UTF-8; KV_ENOMEM).
 */
kv_json *kv_json_new_str(const char *s);

/**
 * @brief A new string of @p len bytes, copied (it may contain NULs).
 * @param[in] s    the UTF-8 bytes.
 * @param[in] len  their number.
 * @return the value, or NULL (KV_EINVAL when @p s is NULL or not valid UTF-8; KV_ENOMEM).
 */
kv_json *kv_json_new_strn(const char *s, size_t len);

/** @brief A new empty array. @return the value, or NULL (KV_ENOMEM). */
kv_json *kv_json_new_array(void);

/** @brief A new empty object. @return the value, or NULL (KV_ENOMEM). */
kv_json *kv_json_new_object(void);

/**
 * @brief Set an object's member to a value of any type, taking ownership.
 *
 * An existing member of that key has its value replaced (and freed) in
 * place; otherwise the member is appended. Ownership: on success @p val
 * belongs to @p obj; on failure @p val is freed, except in the misuse cases
 * marked "untouched" below. Passing a constructor's result directly is
 * therefore safe: `kv_json_set_obj(o, "k", kv_json_new_array())`.
 * @param[in,out] obj  the object.
 * @param[in]     key  the NUL-terminated UTF-8 key, copied.
 * @param[in]     val  the value, a root.
 * @return KV_OK; KV_ENOMEM when @p val is NULL (a failed constructor) or
 *         memory runs out; KV_EINVAL when @p obj is not an object, @p key is
 *         NULL or not UTF-8, and (val untouched) when @p val already belongs
 *         to a tree or is @p obj or one of its ancestors.
 */
int kv_json_set_obj(kv_json *obj, const char *key, kv_json *val);

/**
 * @brief Set an object's member to a number (see kv_json_new_num()).
 * @param[in,out] obj  the object.
 * @param[in]     key  the key, copied.
 * @param[in]     d    the number.
 * @return KV_OK; KV_EINVAL (not an object, NULL or non-UTF-8 key, non-finite @p d); KV_ENOMEM.
 */
int kv_json_set_num(kv_json *obj, const char *key, double d);

/**
 * @brief Set an object's member to an exact integer.
 * @param[in,out] obj  the object.
 * @param[in]     key  the key, copied.
 * @param[in]     i    the integer.
 * @return KV_OK; KV_EINVAL (not an object, NULL or non-UTF-8 key); KV_ENOMEM.
 */
int kv_json_set_int(kv_json *obj, const char *key, int64_t i);

/**
 * @brief Set an object's member to a copy of a string.
 * @param[in,out] obj  the object.
 * @param[in]     key  the key, copied.
 * @param[in]     s    NUL-terminated UTF-8, copied.
 * @return KV_OK; KV_EINVAL (not an object, NULL or non-UTF-8 key or string); KV_ENOMEM.
 */
int kv_json_set_str(kv_json *obj, const char *key, const char *s);

/**
 * @brief Set an object's member to a boolean.
 * @param[in,out] obj  the object.
 * @param[in]     key  the key, copied.
 * @param[in]     b    the boolean.
 * @return KV_OK; KV_EINVAL (not an object, NULL or non-UTF-8 key); KV_ENOMEM.
 */
int kv_json_set_bool(kv_json *obj, const char *key, bool b);

/**
 * @brief Remove an object's member and free its value.
 * @param[in,out] obj  the object.
 * @param[in]     key  the key.
 * @return KV_OK; KV_ENOTFOUND when absent; KV_EINVAL when @p obj is not an
 *         object or @p key is NULL.
 */
int kv_json_remove(kv_json *obj, const char *key);

/**
 * @brief Append a value to an array, taking ownership (same rules as
 *        kv_json_set_obj()).
 * @param[in,out] arr  the array.
 * @param[in]     val  the value, a root.
 * @return KV_OK; KV_ENOMEM when @p val is NULL or memory runs out; KV_EINVAL
 *         when @p arr is not an array, and (val untouched) when @p val
 *         already belongs to a tree or is @p arr or one of its ancestors.
 */
int kv_json_append(kv_json *arr, kv_json *val);

/** @} */

/** @name Validating
 * @{ */

/**
 * @brief Check a document against a JSON Schema (a subset of draft 2020-12).
 *
 * Supported keywords: `type` (a name or an array of names among "null",
 * "boolean", "object", "array", "number", "string" and "integer", which
 * accepts any integral number), `enum`, `const`, `minimum`, `maximum`
 * (inclusive), `minLength` (in Unicode characters), `required`,
 * `properties`, `additionalProperties` (a boolean or a schema), `items`
 * (one schema for every element). The annotations `$schema`, `$id`,
 * `$comment`, `title`, `description`, `default` and `examples` are ignored.
 * Any other keyword (`pattern`, `$ref`, ...) makes the schema invalid
 * rather than being silently ignored, so a schema never promises a check
 * that is not made. A schema may also be `true` or `false`.
 *
 * @param[in]  schema  the schema.
 * @param[in]  doc     the document.
 * @param[out] err     receives, on failure, the JSON pointer of the first
 *                     violation and the reason, e.g.
 *                     "/result/ops: -5 is less than the minimum 0", or
 *                     "schema /properties/x: unsupported keyword \"pattern\"";
 *                     truncated to @p errlen; may be NULL.
 * @param[in]  errlen  size of @p err in bytes (0 when err is NULL).
 * @return KV_OK when @p doc is valid; KV_EINVAL when it is not, when the
 *         schema is invalid or unsupported, when an argument is NULL or a
 *         tree is deeper than KV_JSON_MAX_DEPTH (kv_last_error() holds the
 *         same text as @p err).
 */
int kv_json_validate(const kv_json *schema, const kv_json *doc, char *err, size_t errlen);

/** @} */

#ifdef __cplusplus
}
#endif
#endif /* KVLABS_JSON_H */
