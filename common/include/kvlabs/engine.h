/**
 * @file engine.h
 * @brief The engine side of the contract: what an engine implements.
 *
 * kv.h is what callers see; this header is what an engine author writes
 * against. An engine `foo` defines one constant table
 * @code
 *   const kv_engine_ops kv_engine_foo = {
 *       .name = "foo", .caps = KV_CAP_ORDERED, .options = foo_options,
 *       .default_max_key = 1024, .limit_max_key = 65535, ...
 *       .open = foo_open, .close = foo_close, .put = foo_put, ...
 *   };
 * @endcode
 * and an instance struct whose first member is a `kv_db` (the header the
 * front end owns):
 * @code
 *   struct foo_db { kv_db base; ... };
 * @endcode
 * The front end (common/src/kv.c) allocates nothing for the engine: the
 * engine's open allocates its struct, the front end fills `base` after open
 * returns. Before calling the engine, the front end has already checked:
 * NULL pointers, empty keys (KV_EINVAL), key and value sizes against
 * base.max_key/base.max_value (KV_ETOOBIG), unknown or malformed options
 * (KV_EINVAL), iterator support (KV_ENOTSUP without KV_CAP_ORDERED). It
 * counts puts, gets and deletes for kv_db_stats(), and fills the I/O
 * counters from the env. So each engine function only does its own work.
 *
 * **The registry.** The build generates, for each program, a file
 * `build/gen/registry_<program>.c` that lists `&kv_engine_<name>` for every
 * engine linked into it (kv_registry) and the start-up functions of linked
 * modules (kv_registry_inits, e.g. the SIMD hash paths). The references are
 * explicit, so a static link keeps every engine; there are no constructors.
 *
 * **Rules for engines**: all file I/O through `base.env` (kvlabs/env.h); all
 * memory through kv_malloc() and friends (kvlabs/alloc.h), returning
 * KV_ENOMEM with the structures unchanged; every failure sets a detail
 * with kv_fail() (kvlabs/error.h); bytes read from disk are checked, never
 * asserted (KV_ECORRUPT).
 */
#ifndef KVLABS_ENGINE_H
#define KVLABS_ENGINE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvlabs/env.h"
#include "kvlabs/kv.h"
#include "kvlabs/opts.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief An engine's table of function pointers (struct kv_engine_ops). */
typedef struct kv_engine_ops kv_engine_ops;

/** @brief Stripes of the kv_get counter (kv_db::n_gets). */
#define KV_GET_STRIPES 8

/**
 * @brief One stripe of a counter, alone in 64 bytes: threads counting on
 *        different stripes never write the same cache line.
 */
typedef struct kv_stripe {
    atomic_uint_fast64_t v;                              /**< this stripe's count */
    char pad[64 - sizeof(atomic_uint_fast64_t)];         /**< keeps the next stripe 64 bytes away */
} kv_stripe;

/**
 * @brief The front end's header of every open instance; the first member
 *        of each engine's instance struct.
 */
struct kv_db {
    const kv_engine_ops *ops;  /**< the engine's table */
    const kv_env *env;         /**< where all file I/O goes */
    unsigned caps;             /**< KV_CAP_* of this instance (the engine may narrow ops->caps at open) */
    size_t max_key;            /**< effective key limit */
    size_t max_value;          /**< effective value limit */
    bool limits_set;           /**< set by an engine's open when it fixed max_key/max_value itself
                                    (e.g. limits stored at creation); the front end then only lowers them */
    atomic_int open_iters;     /**< iterators not yet closed (asserted 0 at close) */
    atomic_uint_fast64_t n_puts;    /**< successful kv_put calls */
    kv_stripe n_gets[KV_GET_STRIPES]; /**< kv_get calls, one stripe per thread (a thread's
                                           stripe is fixed at its first get; kv_db_stats()
                                           adds them up): readers on two threads do not pass
                                           one counter's cache line back and forth */
    atomic_uint_fast64_t n_deletes; /**< successful kv_delete calls */
    atomic_uint_fast64_t n_user_bytes; /**< key+value bytes of successful puts */
    kv_env_counters env_at_open; /**< the env's counters when the instance opened */
};

/**
 * @brief The front end's header of every iterator; the first member of each
 *        engine's iterator struct.
 */
struct kv_iter {
    kv_db *db;         /**< the instance the iterator reads */
    int front_status;  /**< set by the front end: KV_ENOTSUP after a seek on an unordered
                            engine (the cursor is then invalid until kv_iter_first()) */
};

/**
 * @brief What kv_open() hands to an engine's open function.
 *
 * **Modes.** An engine that creates files and directories creates them with
 * `file_mode` and `dir_mode` (kv_env_open_mode(), kv_env_mkdir_mode(),
 * kv_env_mkdir_durable_mode()), every one of them: data, logs, hints,
 * locks, temporaries, segments. They come from the common option `mode=`
 * (default 0600, so 0700 for directories: a store is private to its user).
 * An engine that creates nothing (in memory) ignores them; so does one
 * whose library creates its files itself, where the library cannot be told
 * (say so in its documentation).
 */
typedef struct kv_open_args {
    const char *path;            /**< as given to kv_open (may be NULL) */
    const kv_env *env;           /**< the env to do all I/O through */
    const kv_opts *opts;         /**< the parsed options (engine's and common) */
    const kv_common_opts *common;/**< shortcut to kv_opts_common(opts) */
    unsigned file_mode;          /**< permission bits for files it creates: common->mode */
    unsigned dir_mode;           /**< ... for directories: kv_mode_dir_of(file_mode) */
} kv_open_args;

/**
 * @brief The table of function pointers an engine implements.
 *
 * Function members receive the engine's own instance (cast from kv_db *).
 * Iterator members may be NULL when caps lacks KV_CAP_ORDERED, and
 * `iter_status` may be NULL (then KV_OK); `sync` and `stats` may be NULL
 * (then KV_OK / nothing engine-specific). The front end has checked the
 * arguments (see the top of this file) and adds no locking: every member
 * but `close` may run on several threads at once on one instance, so the
 * engine locks what it shares. Every failure sets a detail with kv_fail().
 */
struct kv_engine_ops {
    const char *name;             /**< the registry name, e.g. "hash" */
    const char *summary;          /**< one line for `kvctl engines` */
    unsigned caps;                /**< KV_CAP_* bits the engine may have */
    const kv_opt_spec *options;   /**< engine-specific options (zero-terminated), or NULL */
    size_t default_max_key;       /**< max_key when the option is not given */
    size_t limit_max_key;         /**< largest max_key the engine accepts */
    size_t default_max_value;     /**< max_value when the option is not given */
    size_t limit_max_value;       /**< largest max_value the engine accepts */

    /**
     * @brief Open an instance: allocate the engine's struct (base first) and return it in *out.
     *        The engine may set base.caps (0: ops->caps) and tighter base.max_key and
     *        base.max_value (0: the limits resolved from the options); the front end
     *        fills the rest of base.
     * @param[in]  args  the path, env and parsed options; valid only during the call.
     * @param[out] out   the new instance, set only on success.
     * @return KV_OK, or a status of kv_open() (KV_EINVAL, KV_ENOTFOUND, KV_EBUSY,
     *         KV_EIO, KV_ECORRUPT, KV_EFULL, KV_ENOMEM), having freed everything.
     */
    int (*open)(const kv_open_args *args, kv_db **out);
    /**
     * @brief Flush and free the instance (always free it, even on error).
     * @param[in] db  the instance; no iterator is open on it.
     * @return KV_OK, or the error of the flush (KV_EIO, KV_EFULL).
     */
    int (*close)(kv_db *db);
    /**
     * @brief Insert or overwrite (arguments already checked).
     * @param[in] db    the instance.
     * @param[in] key   klen bytes; copy them.
     * @param[in] klen  1..base.max_key.
     * @param[in] val   vlen bytes; copy them; never NULL ("" when vlen is 0).
     * @param[in] vlen  0..base.max_value.
     * @return KV_OK; KV_ENOMEM (nothing changed); KV_EFULL; KV_EIO; KV_EBUSY.
     */
    int (*put)(kv_db *db, const void *key, size_t klen, const void *val, size_t vlen);
    /**
     * @brief Look up (arguments already checked).
     * @param[in]  db    the instance.
     * @param[in]  key   klen bytes.
     * @param[in]  klen  1..base.max_key.
     * @param[out] val   NULL for an existence test; else fill it with kv_buf_set().
     * @return KV_OK; KV_ENOTFOUND; KV_ENOMEM; KV_EIO; KV_ECORRUPT.
     */
    int (*get)(kv_db *db, const void *key, size_t klen, kv_buf *val);
    /**
     * @brief Remove (arguments already checked).
     * @param[in] db    the instance.
     * @param[in] key   klen bytes.
     * @param[in] klen  1..base.max_key.
     * @return KV_OK; KV_ENOTFOUND when absent; KV_ENOMEM; KV_EFULL; KV_EIO; KV_EBUSY.
     */
    int (*del)(kv_db *db, const void *key, size_t klen);
    /**
     * @brief Make acknowledged writes durable (NULL: nothing to do).
     * @param[in] db  the instance.
     * @return KV_OK or KV_EIO.
     */
    int (*sync)(kv_db *db);
    /**
     * @brief Fill engine counters (keys, bytes, mem, disk, extra); the front
     *        end fills the operation and I/O counters.
     * @param[in]  db   the instance.
     * @param[out] out  pre-zeroed by the front end.
     * @return KV_OK, or an error that kv_db_stats() passes on.
     */
    int (*stats)(kv_db *db, kv_stats *out);

    /**
     * @brief Open an unpositioned iterator (struct kv_iter first member;
     *        the front end sets its `db`).
     * @param[in]  db   the instance.
     * @param[out] out  the new iterator, set only on success.
     * @return KV_OK or KV_ENOMEM.
     */
    int (*iter_open)(kv_db *db, kv_iter **out);
    /**
     * @brief See kv_iter_first().
     * @param[in] it  the iterator.
     */
    void (*iter_first)(kv_iter *it);
    /**
     * @brief See kv_iter_seek().
     * @param[in] it    the iterator.
     * @param[in] key   klen bytes; NULL only when klen is 0.
     * @param[in] klen  0 (the first key) or more.
     */
    void (*iter_seek)(kv_iter *it, const void *key, size_t klen);
    /**
     * @brief See kv_iter_valid().
     * @param[in] it  the iterator.
     * @return whether it is on a key.
     */
    bool (*iter_valid)(const kv_iter *it);
    /**
     * @brief See kv_iter_next(); called only on a valid iterator.
     * @param[in] it  the iterator.
     */
    void (*iter_next)(kv_iter *it);
    /**
     * @brief See kv_iter_key(); called only on a valid iterator.
     * @param[in]  it  the iterator.
     * @param[out] k   the key's bytes, owned by the iterator.
     * @param[out] n   the key's length.
     */
    void (*iter_key)(const kv_iter *it, const void **k, size_t *n);
    /**
     * @brief See kv_iter_value(); called only on a valid iterator.
     * @param[in]  it  the iterator.
     * @param[out] v   the value's bytes, owned by the iterator.
     * @param[out] n   the value's length.
     */
    void (*iter_value)(const kv_iter *it, const void **v, size_t *n);
    /**
     * @brief See kv_iter_status() (NULL: always KV_OK).
     * @param[in] it  the iterator.
     * @return KV_OK, or KV_EIO, KV_ECORRUPT or KV_ENOMEM.
     */
    int (*iter_status)(const kv_iter *it);
    /**
     * @brief Free the iterator.
     * @param[in] it  the iterator; never NULL.
     */
    void (*iter_close)(kv_iter *it);
};

/**
 * @brief Copy @p n bytes into a caller's kv_buf, growing it with kv_realloc.
 *        Keeps one spare byte and NUL-terminates.
 * @param[out] b  the caller's buffer (see kv_buf): grown as needed, then
 *                filled; it keeps owning its memory.
 * @param[in]  p  the bytes; may be NULL when @p n is 0.
 * @param[in]  n  number of bytes.
 * @return KV_OK, or KV_ENOMEM (then b->len is 0 and the old data is kept).
 */
int kv_buf_set(kv_buf *b, const void *p, size_t n);

/**
 * @brief Append one engine-specific counter to a kv_stats (for an engine's
 *        stats function).
 * @param[in,out] out   the statistics being filled.
 * @param[in]     name  the counter's name, cut to 31 bytes.
 * @param[in]     value its value.
 *
 * When extra[] is full (KV_STATS_EXTRA entries) the counter is dropped.
 */
void kv_stats_add_extra(kv_stats *out, const char *name, double value);

/** @brief The engines linked into this program (generated registry), NULL-terminated. */
extern const kv_engine_ops *const kv_registry[];

/** @brief A start-up function run once before the first engine is opened or listed. */
typedef void (*kv_init_fn)(void);

/** @brief Start-up functions of linked modules (generated registry), NULL-terminated. */
extern const kv_init_fn kv_registry_inits[];

/** @brief Run kv_registry_inits once per process (thread-safe; the front end calls it). */
void kv_registry_init(void);

/**
 * @brief Find a linked engine by name. Runs kv_registry_init() first.
 * @param[in] name  the name's bytes; need not be NUL-terminated (e.g. the
 *                  part of "hash:strategy=swiss" before the colon).
 * @param[in] len   the name's length.
 * @return the engine's static table, or NULL when no linked engine has that
 *         name.
 */
const kv_engine_ops *kv_engine_find(const char *name, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* KVLABS_ENGINE_H */
