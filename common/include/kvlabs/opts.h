/**
 * @file opts.h
 * @brief The options parser: "key=value,key=value" strings checked against a spec.
 *
 * Every engine declares the options it takes as a table of kv_opt_spec
 * (name, type, default, allowed values, help). kv_open() parses the option
 * string once against that table plus the common keys that every engine
 * accepts, before the engine's open function runs, so an engine never sees
 * a malformed, unknown or duplicate option:
 *
 * - pairs are separated by commas; whitespace around keys and values is
 *   ignored; there is no escaping (a value cannot contain a comma);
 * - a duplicate key, an unknown key, an empty key, a missing '=', an empty
 *   value or a bad value is KV_EINVAL, with kv_last_error() naming the key
 *   and the reason;
 * - booleans are true|false|1|0; sizes accept a K, M or G suffix, either
 *   case (powers of 1024); unsigned integers are decimal; enums must be one
 *   of the listed choices; numbers are checked against the spec's range
 *   (kv_opt_spec::min, kv_opt_spec::max); modes are octal digits only (a
 *   leading 0 is optional: "0640" and "640" are the same; "0o640", "0x1a0",
 *   "8" and "-1" are not modes), at most 0777 (setuid, setgid and sticky
 *   bits are refused), and must keep the owner's read and write bits
 *   (0600): an engine must be able to reopen the files it creates.
 *
 * The common keys (kv_common_opts): `sync=none|batch|always` (default none),
 * `sync_ms=` (batch interval, 1..60000, default 10), `cache=` (memory budget
 * in bytes, default 0 = the engine's own default), `max_key=` (at least 1),
 * `max_value=` (the size limits; default and upper bound are the
 * engine's, checked by kv_open()) and `mode=` (KV_OPT_MODE: the permission of
 * the files the engine creates, default 0600; its directories get
 * kv_mode_dir_of() of it, 0700 by default; see kv.h).
 *
 * Thread safety: a kv_opts is read-only after parsing and may be shared.
 * Ownership: a kv_opts belongs to the caller of kv_opts_parse() and refers
 * to the spec table it was parsed against, which must outlive it.
 */
#ifndef KVLABS_OPTS_H
#define KVLABS_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief The type of an option's value. */
typedef enum kv_opt_type {
    KV_OPT_BOOL,   /**< true|false|1|0 */
    KV_OPT_UINT,   /**< a decimal unsigned 64-bit integer */
    KV_OPT_SIZE,   /**< bytes, with an optional K/M/G suffix */
    KV_OPT_DOUBLE, /**< a finite number, in strtod() syntax */
    KV_OPT_ENUM,   /**< one of the '|'-separated choices */
    KV_OPT_STRING, /**< any non-empty text without commas */
    KV_OPT_MODE    /**< a file permission in octal, 0600..0777 with the owner's
                        read and write bits set (e.g. 0600, 0640, 600) */
} kv_opt_type;

/**
 * @brief One accepted option of an engine. A table of them ends with a zeroed entry.
 *
 * The range of a numeric option (KV_OPT_UINT, KV_OPT_SIZE, KV_OPT_DOUBLE),
 * checked on the given value and on the default alike (out of range:
 * KV_EINVAL):
 * - min < max: the value must lie in [min, max];
 * - min > 0 and max == 0: the value must be at least min;
 * - otherwise (e.g. both 0): the value is not checked.
 */
typedef struct kv_opt_spec {
    const char *name;    /**< the key, e.g. "strategy" */
    kv_opt_type type;    /**< how its value is parsed */
    const char *def;     /**< the default, as text (parsed like a value); NULL = unset */
    const char *choices; /**< KV_OPT_ENUM: "a|b|c"; else NULL */
    double min;          /**< numeric types: lower bound, checked when min < max, or when min > 0 and max == 0 */
    double max;          /**< numeric types: upper bound, checked when min < max (0 with min > 0: none) */
    const char *help;    /**< one line for `kvctl engines` and the docs */
} kv_opt_spec;

/** @brief The values of the sync option. */
typedef enum kv_sync_mode {
    KV_SYNC_NONE = 0,  /**< writes reach the OS; kv_sync()/kv_close() make them durable */
    KV_SYNC_BATCH = 1, /**< group commit every sync_ms milliseconds */
    KV_SYNC_ALWAYS = 2 /**< every write is durable before it returns */
} kv_sync_mode;

/** @brief The common options every engine accepts, parsed once for all. */
typedef struct kv_common_opts {
    kv_sync_mode sync;  /**< sync= */
    uint64_t sync_ms;   /**< sync_ms= (batch interval, milliseconds) */
    uint64_t cache;     /**< cache= bytes (0: engine default) */
    uint64_t max_key;   /**< max_key= bytes (0: the engine's default) */
    uint64_t max_value; /**< max_value= bytes (0: the engine's default) */
    unsigned mode;      /**< mode= permission bits of created files (default 0600) */
} kv_common_opts;

/** @brief A parsed option set (opaque). Created by kv_opts_parse(), freed by kv_opts_free(). */
typedef struct kv_opts kv_opts;

/**
 * @brief Parse option text against a spec table plus the common keys.
 *
 * Every option then has a value: the given one, or its default (an option
 * with neither is unset).
 * @param[in]  spec     the engine's table, ending with a zeroed entry (NULL: common keys only);
 *                      it must outlive the set.
 * @param[in]  text     "k=v,..." (NULL or "" for none); several texts may be
 *                      given separated by commas, e.g. the engine suffix and the argument.
 * @param[out] out      the parsed set, set only on success; free with kv_opts_free().
 * @return KV_OK; KV_EINVAL (NULL @p out; an unknown, duplicate, empty-keyed,
 *         valueless, malformed or out-of-range option; a default in @p spec
 *         that does not parse; detail in kv_last_error()); KV_ENOMEM.
 */
int kv_opts_parse(const kv_opt_spec *spec, const char *text, kv_opts **out);

/**
 * @brief Free a parsed set.
 * @param[in] o  the set, or NULL (then nothing happens).
 */
void kv_opts_free(kv_opts *o);

/**
 * @brief The common options of a set.
 * @param[in] o  the set; not NULL.
 * @return the common values, defaults filled in; owned by the set and valid
 *         while it lives.
 */
const kv_common_opts *kv_opts_common(const kv_opts *o);

/**
 * @brief Whether an option was given explicitly in the text.
 * @param[in] o     the set; not NULL.
 * @param[in] name  the option's key.
 * @return true when given; false when it took its default, is unset, or is
 *         not an option of the set.
 */
bool kv_opts_given(const kv_opts *o, const char *name);

/**
 * @brief A KV_OPT_BOOL value.
 * @param[in] o     the set; not NULL.
 * @param[in] name  the option's key.
 * @return the value (its default when not given); false when the option is
 *         unknown, unset or not a KV_OPT_BOOL.
 */
bool kv_opts_bool(const kv_opts *o, const char *name);

/**
 * @brief A KV_OPT_UINT, KV_OPT_SIZE or KV_OPT_MODE value.
 * @param[in] o     the set; not NULL.
 * @param[in] name  the option's key.
 * @return the value, in bytes for a size, the permission bits for a mode
 *         (its default when not given); 0 when the option is unknown, unset
 *         or of another type.
 */
uint64_t kv_opts_u64(const kv_opts *o, const char *name);

/**
 * @brief A KV_OPT_DOUBLE value.
 * @param[in] o     the set; not NULL.
 * @param[in] name  the option's key.
 * @return the value (its default when not given); 0 when the option is
 *         unknown, unset or not a KV_OPT_DOUBLE.
 */
double kv_opts_double(const kv_opts *o, const char *name);

/**
 * @brief A KV_OPT_ENUM value as the index of its choice.
 * @param[in] o     the set; not NULL.
 * @param[in] name  the option's key.
 * @return the 0-based index in kv_opt_spec::choices (its default when not
 *         given); -1 when the option is unknown, unset or not a KV_OPT_ENUM.
 */
int kv_opts_enum(const kv_opts *o, const char *name);

/**
 * @brief A KV_OPT_STRING or KV_OPT_ENUM value as text.
 * @param[in] o     the set; not NULL.
 * @param[in] name  the option's key.
 * @return the text, trimmed (its default when not given), owned by the set
 *         or the spec table and valid while the set lives; NULL when the
 *         option is unknown, unset or of another type.
 */
const char *kv_opts_str(const kv_opts *o, const char *name);

/**
 * @brief Parse a size: decimal digits with an optional K, M or G suffix
 *        (either case; powers of 1024).
 * @param[in]  s    the text, NUL-terminated, no surrounding spaces; not NULL.
 * @param[out] out  the value in bytes, set only on success.
 * @return KV_OK, or KV_EINVAL for an empty, malformed or overflowing value.
 */
int kv_parse_size(const char *s, uint64_t *out);

/**
 * @brief Parse a mode (KV_OPT_MODE): octal digits, value 0600..0777 with the
 *        owner's read and write bits (0600) set.
 * @param[in]  s    the text, NUL-terminated, no surrounding spaces; not NULL.
 * @param[out] out  the permission bits, set only on success.
 * @return KV_OK, or KV_EINVAL for an empty or non-octal value, bits outside
 *         0777, or a mode without 0600 (detail in kv_last_error()).
 */
int kv_parse_mode(const char *s, unsigned *out);

/**
 * @brief Parse a boolean: true|false|1|0.
 * @param[in]  s    the text, NUL-terminated, no surrounding spaces; not NULL.
 * @param[out] out  the value, set only on success.
 * @return KV_OK, or KV_EINVAL for any other text.
 */
int kv_parse_bool(const char *s, bool *out);

#ifdef __cplusplus
}
#endif
#endif /* KVLABS_OPTS_H */
