/**
 * @file kv.h
 * @brief The kvlabs engine contract: one API over every storage engine.
 *
 * Every engine of the course (model, hash, bitcask, shm, the B+ trees, the
 * LSM tree, the Raft state machine) and every peer adapter (LevelDB, RocksDB,
 * LMDB, SQLite) is reached through the functions below. The conformance
 * suite, `kvctl`, `kvbench` and the graders use nothing else. This is the
 * sprint-1 "function pointers for callback dispatchers" lesson put to work:
 * each engine fills one table of function pointers (`kv_engine_ops`, in
 * kvlabs/engine.h) and these front-end functions check their arguments
 * once, for every engine, then dispatch through the table.
 *
 * A typical session:
 * @code
 *   kv_db *db;
 *   if (kv_open("model", NULL, "", &db) != KV_OK) { puts(kv_last_error()); return 1; }
 *   kv_put(db, "k", 1, "v", 1);
 *   kv_buf v = {0};
 *   if (kv_get(db, "k", 1, &v) == KV_OK) printf("%.*s\n", (int)v.len, (char *)v.data);
 *   kv_buf_free(&v);
 *   kv_close(db);
 * @endcode
 *
 * **Status codes.** Every function that can fail returns 0 (KV_OK) or one of
 * the negative KV_E* codes, whose values are fixed. kv_strerror() names a
 * code; kv_last_error() gives the detail of this thread's last failure.
 *
 * **Keys and values** are arbitrary bytes. An empty key is KV_EINVAL; an
 * empty value is allowed. A key longer than the engine's `max_key` or a value
 * longer than its `max_value` is KV_ETOOBIG, never truncated.
 *
 * **Order.** Ordered engines (KV_CAP_ORDERED) compare keys bytewise as memcmp
 * does; on a tie the shorter key comes first.
 *
 * **Thread safety.** Every function may be called from several threads at
 * once on the same kv_db, except kv_close(), which must not race with any
 * other call on that handle. An iterator belongs to one thread at a time.
 * All iterators must be closed before kv_close() (debug builds assert it).
 *
 * **Durability.** After kv_sync() returns 0 on a KV_CAP_DURABLE engine, the
 * data survives `kill -9`, power loss and reopen. After a crash at any point,
 * every key acknowledged by a completed kv_sync() reads back with its value,
 * and no key ever reads back a value that was never written to it.
 *
 * **Options** are `key=value` pairs separated by commas (see kvlabs/opts.h).
 * Every engine accepts the common keys `sync=none|batch|always`, `sync_ms=`,
 * `cache=`, `max_key=`, `max_value=` and `mode=`; a duplicate or unknown key,
 * or a bad value, is KV_EINVAL with the reason in kv_last_error().
 *
 * **Private by default: `mode=`.** The octal permission of the files an
 * engine creates, default 0600; the directories it creates get the same
 * bits plus search (x) for each class that may read (kv_mode_dir_of():
 * 0600 → 0700, 0640 → 0750, 0644 → 0755). So a store is private to its
 * user unless asked: `mode=0640` lets the group read it. The value is octal
 * digits (a leading 0 is optional), at most 0777, and must keep the
 * owner's read and write (0600); anything else is KV_EINVAL naming the
 * option. The mode applies to what the engine creates; files and
 * directories that already exist keep theirs, and the process umask can
 * still take bits away (as with open(2)). Engines that create no files
 * (in memory) accept and ignore it; see each engine's documentation for
 * the peers (LevelDB, RocksDB), whose libraries choose their own file modes.
 */
#ifndef KVLABS_KV_H
#define KVLABS_KV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief An open engine instance. Opaque; created by kv_open(). */
typedef struct kv_db kv_db;
/** @brief An ordered cursor over a kv_db. Opaque; created by kv_iter_open(). */
typedef struct kv_iter kv_iter;
/** @brief The file-system environment every engine does its I/O through (kvlabs/env.h). */
typedef struct kv_env kv_env;

/**
 * @brief A caller-owned buffer that kv_get() fills and grows.
 *
 * Initialise once with `kv_buf v = {0};`, pass it to any number of kv_get()
 * calls (the engine grows `data` with kv_realloc() and sets `len`), and
 * release it with kv_buf_free(). On any failure `len` is 0.
 */
typedef struct kv_buf {
    void *data; /**< the bytes; owned by the buffer, NUL-terminated for convenience */
    size_t len; /**< number of valid bytes in data */
    size_t cap; /**< allocated size of data */
} kv_buf;

/** @brief Maximum number of engine-specific named counters in kv_stats. */
#define KV_STATS_EXTRA 40

/**
 * @brief Counters of an open engine, filled by kv_db_stats().
 *
 * The front end zeroes the structure, fills the I/O counters from the
 * engine's kv_env, and lets the engine fill the rest. A counter an engine
 * does not keep stays 0. `extra` holds engine-specific values (a hash
 * table's load factor, its probe-length histogram, ...).
 */
typedef struct kv_stats {
    uint64_t keys;          /**< live keys */
    uint64_t bytes;         /**< live user bytes: sum of key and value lengths */
    uint64_t mem_bytes;     /**< memory the engine holds for its data and index */
    uint64_t disk_bytes;    /**< bytes of files the engine owns on disk */
    uint64_t puts;          /**< kv_put calls that succeeded since open */
    uint64_t gets;          /**< kv_get calls since open (hits and misses) */
    uint64_t deletes;       /**< kv_delete calls that removed a key since open */
    uint64_t user_bytes_written; /**< key+value bytes of successful puts since open */
    uint64_t io_bytes_read;      /**< bytes read through the env since open */
    uint64_t io_bytes_written;   /**< bytes written through the env since open */
    uint64_t io_syncs;           /**< file and directory fsyncs through the env since open */
    unsigned n_extra;            /**< used entries of extra[] */
    /** @brief One engine-specific named counter. */
    struct kv_stat_extra {
        char name[32]; /**< NUL-terminated name, e.g. "load_factor" */
        double value;  /**< its value */
    } extra[KV_STATS_EXTRA];     /**< engine-specific counters */
} kv_stats;

/** @name Status codes (contract: the values are fixed; -10..-99 are reserved)
 * @{ */
enum {
    KV_OK = 0,         /**< success */
    KV_ENOTFOUND = -1, /**< no such key (or file) */
    KV_EINVAL = -2,    /**< invalid argument, option or request */
    KV_ETOOBIG = -3,   /**< key or value larger than the engine's limit */
    KV_ENOMEM = -4,    /**< out of memory; nothing was changed */
    KV_EIO = -5,       /**< an I/O call failed */
    KV_ECORRUPT = -6,  /**< stored data failed a checksum or sanity check */
    KV_EBUSY = -7,     /**< resource held by someone else (e.g. another writer) */
    KV_EFULL = -8,     /**< the store or the disk is full */
    KV_ENOTSUP = -9    /**< the engine does not support this operation */
};
/** @} */

/** @name Capabilities, as returned by kv_caps()
 * @{ */
enum {
    KV_CAP_ORDERED = 1,  /**< iterators in key order are supported */
    KV_CAP_DURABLE = 2,  /**< data survives close, crash and reopen after kv_sync() */
    KV_CAP_SNAPSHOT = 4, /**< iterators see a consistent snapshot */
    KV_CAP_MULTIPROC = 8, /**< several processes may open the same path at once */
    KV_CAP_SCAN = 16,     /**< an unordered engine's iterator visits every key once, in no
                               particular order (kv_iter_first/next only; no seek) */
    KV_CAP_REMOTE = 32    /**< the store lives in other processes (a cluster): the path names
                               a keyspace there, nothing is created under it and no I/O goes
                               through the env (so env faults and file checks cannot apply) */
};
/** @} */

/**
 * @brief Open an engine instance.
 *
 * @param[in] engine   engine name, one of kv_engine_names(); may carry its
 *                     options after a colon ("hash:strategy=swiss"), which are
 *                     parsed before @p options.
 * @param[in] path     durable engines: a directory, created if missing (its
 *                     parent must exist); in-memory engines: NULL or ignored.
 * @param[in] options  "key=value,..." or NULL/"" for the defaults.
 * @param[out] out     the new handle, set only on success; close it with
 *                     kv_close().
 * @return KV_OK; KV_EINVAL for an unknown engine, a bad option, a max_key or
 *         max_value above the engine's limit, or a NULL argument; KV_ENOMEM;
 *         from the engine: KV_ENOTFOUND (the parent of @p path is missing),
 *         KV_EBUSY (@p path is open in another handle or process), KV_EIO,
 *         KV_ECORRUPT, KV_EFULL or KV_ENOMEM.
 * @note Uses the POSIX env (kv_env_posix()).
 */
int kv_open(const char *engine, const char *path, const char *options, kv_db **out);

/**
 * @brief Open an engine instance on a given environment (tests: a
 *        fault-injecting or in-memory env).
 *
 * Same as kv_open() with @p env instead of the POSIX env. The env is
 * borrowed, not owned: it must outlive the handle.
 *
 * @param[in] engine   engine name, with optional ":options" (see kv_open()).
 * @param[in] path     the engine's directory, or NULL (see kv_open()).
 * @param[in] options  "key=value,..." or NULL/"" for the defaults.
 * @param[in] env      the env every file operation of the instance goes through.
 * @param[out] out     the new handle, set only on success; close it with
 *                     kv_close().
 * @return The statuses of kv_open(); a NULL @p env is KV_EINVAL.
 */
int kv_open_env(const char *engine, const char *path, const char *options,
                const kv_env *env, kv_db **out);

/**
 * @brief Flush and close an instance.
 * @param[in] db  the handle, or NULL (then nothing happens and KV_OK is returned).
 *                Every iterator on it must be closed, and no other thread may
 *                use it during or after the call.
 * @return KV_OK, or the error of the final flush or of closing the engine's
 *         files (KV_EIO, KV_EFULL). The handle is freed even when it fails.
 */
int kv_close(kv_db *db);

/**
 * @brief Insert or overwrite a key.
 * @param[in] db    the handle.
 * @param[in] key   klen bytes; copied by the engine.
 * @param[in] klen  1..max_key.
 * @param[in] val   vlen bytes, copied by the engine; may be NULL when vlen is 0.
 * @param[in] vlen  0..max_value.
 * @return KV_OK; KV_EINVAL (NULL handle, NULL key or value with a non-zero
 *         length, empty key); KV_ETOOBIG (key or value over its limit);
 *         KV_ENOMEM (nothing changed); KV_EFULL; KV_EIO; KV_EBUSY (read-only
 *         handle).
 */
int kv_put(kv_db *db, const void *key, size_t klen, const void *val, size_t vlen);

/**
 * @brief Look a key up.
 * @param[in]  db    the handle.
 * @param[in]  key   klen bytes.
 * @param[in]  klen  1..max_key.
 * @param[out] val   receives a copy of the value (grown as needed), or NULL
 *                   for an existence test.
 * @return KV_OK; KV_ENOTFOUND; KV_EINVAL (NULL handle or key, empty key);
 *         KV_ETOOBIG (key over max_key); KV_ENOMEM (growing @p val); KV_EIO;
 *         KV_ECORRUPT. On failure val->len is 0.
 */
int kv_get(kv_db *db, const void *key, size_t klen, kv_buf *val);

/**
 * @brief Remove a key.
 * @param[in] db    the handle.
 * @param[in] key   klen bytes.
 * @param[in] klen  1..max_key.
 * @return KV_OK; KV_ENOTFOUND when the key is absent; KV_EINVAL (NULL handle
 *         or key, empty key); KV_ETOOBIG (key over max_key); KV_ENOMEM;
 *         KV_EFULL; KV_EIO; KV_EBUSY (read-only handle).
 */
int kv_delete(kv_db *db, const void *key, size_t klen);

/**
 * @brief Make every acknowledged write durable (durable engines); a no-op
 *        returning KV_OK for in-memory engines.
 * @param[in] db  the handle.
 * @return KV_OK; KV_EINVAL (NULL handle); KV_EIO.
 */
int kv_sync(kv_db *db);

/**
 * @brief Open a cursor: ordered (KV_CAP_ORDERED) or, on an unordered
 *        engine with KV_CAP_SCAN, in no particular order. It is
 *        unpositioned: call kv_iter_first() or kv_iter_seek() before reading.
 *
 * Without KV_CAP_ORDERED (a KV_CAP_SCAN engine) only kv_iter_first() and
 * kv_iter_next() move the cursor: the guarantee below holds without "in
 * order", and kv_iter_seek() leaves it invalid with kv_iter_status()
 * KV_ENOTSUP.
 *
 * Guarantee: a key present and unchanged for the whole iteration is
 * returned exactly once, in order; keys written meanwhile may or may not
 * appear; writes from the same thread never deadlock. Each kv_iter_first()
 * or kv_iter_seek() repositions on the current data (a snapshot engine takes
 * a fresh snapshot there); kv_iter_next() continues from where it stands.
 * @param[in]  db   the handle.
 * @param[out] out  the new cursor, set only on success; close it with
 *                  kv_iter_close() before kv_close().
 * @return KV_OK; KV_ENOTSUP unless KV_CAP_ORDERED or KV_CAP_SCAN; KV_ENOMEM;
 *         KV_EINVAL (NULL argument).
 */
int kv_iter_open(kv_db *db, kv_iter **out);

/**
 * @brief Position on the first key (or invalid when empty).
 * @param[in] it  the cursor.
 */
void kv_iter_first(kv_iter *it);

/**
 * @brief Position on the first key >= @p key (KV_CAP_ORDERED engines; on
 *        any other the cursor becomes invalid with status KV_ENOTSUP).
 * @param[in] it    the cursor.
 * @param[in] key   klen bytes; NULL means klen 0.
 * @param[in] klen  may be 0: then the cursor goes to the first key.
 */
void kv_iter_seek(kv_iter *it, const void *key, size_t klen);

/**
 * @brief Whether the cursor is on a key.
 * @param[in] it  the cursor.
 * @return true on a key; false past the last key or after an error (see
 *         kv_iter_status()).
 */
bool kv_iter_valid(const kv_iter *it);

/**
 * @brief Move to the next key. The cursor must be valid.
 * @param[in] it  the cursor.
 */
void kv_iter_next(kv_iter *it);

/**
 * @brief The current key. The cursor must be valid.
 * @param[in]  it    the cursor.
 * @param[out] key   the key's bytes, owned by the cursor; valid until the
 *                   next move or close.
 * @param[out] klen  the key's length.
 */
void kv_iter_key(const kv_iter *it, const void **key, size_t *klen);

/**
 * @brief The current value. The cursor must be valid.
 * @param[in]  it    the cursor.
 * @param[out] val   the value's bytes, owned by the cursor; valid until the
 *                   next move or close.
 * @param[out] vlen  the value's length.
 */
void kv_iter_value(const kv_iter *it, const void **val, size_t *vlen);

/**
 * @brief Why the cursor became invalid, if an error did it.
 * @param[in] it  the cursor.
 * @return KV_OK (also at the end of the keys, and for engines without
 *         cursor errors), or the error that made the cursor invalid: KV_EIO,
 *         KV_ECORRUPT or KV_ENOMEM.
 */
int kv_iter_status(const kv_iter *it);

/**
 * @brief Close a cursor and free it.
 * @param[in] it  the cursor, or NULL (then nothing happens).
 */
void kv_iter_close(kv_iter *it);

/**
 * @brief Read the instance's counters.
 * @param[in]  db   the handle.
 * @param[out] out  zeroed, then filled (see kv_stats).
 * @return KV_OK; KV_EINVAL (NULL argument); or the error of the engine's own
 *         counters, in which case the front end's counters are filled all
 *         the same.
 */
int kv_db_stats(kv_db *db, kv_stats *out);

/**
 * @brief The capabilities of an open instance.
 * @param[in] db  the handle, or NULL.
 * @return the KV_CAP_* bits of @p db; 0 for NULL.
 */
unsigned kv_caps(const kv_db *db);

/**
 * @brief The engine name an instance was opened with (e.g. "model").
 * @param[in] db  the handle, or NULL.
 * @return the name, without the ":options" suffix; static, never NULL ("" for
 *         NULL).
 */
const char *kv_engine_name(const kv_db *db);

/**
 * @brief The engines linked into this program.
 * @return a static, NULL-terminated array of names; do not free it.
 */
const char *const *kv_engine_names(void);

/**
 * @brief A short English message for a status code.
 * @param[in] status  KV_OK or a KV_E* code.
 * @return a static string, e.g. "key not found"; "unknown status" for any
 *         other value. Never NULL.
 */
const char *kv_strerror(int status);

/**
 * @brief The detail of this thread's last failure, e.g. "engine 'hash':
 *        unknown option 'bukets'; accepted: ...".
 * @return a thread-local string, valid until this thread's next call into
 *         kvlabs. Never NULL ("" when there is none).
 */
const char *kv_last_error(void);

/**
 * @brief Release a kv_buf's memory and zero it.
 * @param[in] b  the buffer, or NULL (then nothing happens).
 */
void kv_buf_free(kv_buf *b);

#ifdef __cplusplus
}
#endif
#endif /* KVLABS_KV_H */
