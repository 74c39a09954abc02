/*
 * json_impl.h - the private layout of kv_json, shared by json.c (the DOM),
 * json_parse.c, json_write.c and json_schema.c. Nothing outside those four
 * files may include it: everyone else goes through kvlabs/json.h.
 *
 * A value is one heap node. Arrays hold a growable vector of child
 * pointers, objects a growable vector of (key, value) members in insertion
 * order; lookups are linear, which suits the small documents this module
 * is for. Every child points back to its parent: that is what lets the
 * builders refuse to add a value that is already in a tree (which would be
 * freed twice) or to add a value below itself (a cycle).
 */
#ifndef KVLABS_JSON_IMPL_H
#define KVLABS_JSON_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvlabs/json.h"

/** @brief One member of an object. */
struct kv_json_member {
    char *key;    /**< NUL-terminated UTF-8, may contain NULs (klen counts them) */
    size_t klen;  /**< key length in bytes */
    kv_json *val; /**< the member's value; its parent is the object */
};

/** @brief A JSON value; see kvlabs/json.h. */
struct kv_json {
    kv_json_type type; /**< which member of u is live */
    kv_json *parent;   /**< the array or object holding this value, NULL for a root */
    union {
        bool b; /**< KV_JSON_BOOL */
        /** @brief KV_JSON_NUMBER. */
        struct {
            double d;    /**< the value */
            int64_t i;   /**< the exact value when is_int */
            bool is_int; /**< integral and within int64_t's range */
        } num;           /**< KV_JSON_NUMBER */
        /** @brief KV_JSON_STRING. */
        struct {
            char *s;    /**< NUL-terminated UTF-8 */
            size_t len; /**< bytes, without the final NUL */
        } str;          /**< KV_JSON_STRING */
        /** @brief KV_JSON_ARRAY. */
        struct {
            kv_json **items; /**< elements */
            size_t len;      /**< elements in use */
            size_t cap;      /**< elements allocated */
        } arr;               /**< KV_JSON_ARRAY */
        /** @brief KV_JSON_OBJECT. */
        struct {
            struct kv_json_member *m; /**< members in order */
            size_t len;               /**< members in use */
            size_t cap;               /**< members allocated */
        } obj;                        /**< KV_JSON_OBJECT */
    } u; /**< the payload, by type */
};

/* Internal helpers, defined in json.c (kv_-named because they cross files,
 * but not part of the public interface). */

/**
 * @brief Length of the valid UTF-8 sequence at @p s (at most @p n bytes
 *        available), storing its code point in @p cp; 0 when invalid
 *        (overlong, surrogate, beyond U+10FFFF, truncated).
 */
size_t kv_json_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/** @brief A new zeroed node of type @p t, or NULL (no error detail set). */
kv_json *kv_json_alloc(kv_json_type t);

/**
 * @brief Append @p val to array @p arr without any checks; KV_OK or
 *        KV_ENOMEM (then nothing changed and @p val is still the caller's).
 */
int kv_json_push_item(kv_json *arr, kv_json *val);

/**
 * @brief Append the member (@p key, @p klen, @p val) to @p obj without any
 *        checks (duplicates included), taking @p key (kv_malloc'd) and
 *        @p val on success; KV_OK or KV_ENOMEM (then nothing changed).
 */
int kv_json_push_member(kv_json *obj, char *key, size_t klen, kv_json *val);

#endif /* KVLABS_JSON_IMPL_H */
