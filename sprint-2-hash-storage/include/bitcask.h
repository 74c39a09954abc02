/**
 * @file bitcask.h
 * @brief Engine `bitcask`: a persistent log-structured hash table (Bitcask,
 *        as in Basho's Riak), and its merge call.
 *
 * **What it is.** Every put and delete appends one checksummed record to
 * the active data file of a directory; an in-memory key directory (the
 * sprint-2 hash table, ht.h) maps each key to its newest record, so a get
 * is one hash lookup and one read. Data files roll over at
 * `max_file_size`; a merge rewrites the live records into new files, with
 * hint files for a fast start, and removes the old ones. Formats:
 * docs/formats/bitcask.md.
 *
 * **Use it** through kvlabs/kv.h: `kv_open("bitcask", dir, options, &db)`.
 * The path is a directory, created if missing (its parent must exist).
 * Options (besides the common `sync`, `sync_ms`, `max_key`, `max_value`,
 * and `mode`, which every file bitcask creates follows: data, hint and
 * their temporaries, LOCK; the directory gets kv_mode_dir_of() of it, so
 * 0600 files in a 0700 directory by default; an existing directory and
 * existing files keep their modes):
 * - `max_file_size=SIZE`: roll over to a new data file before one would
 *   grow past this (default 64M; at least 256). A record larger than it
 *   gets a file of its own.
 * - `write_buffer=SIZE`: buffer appends in memory and write them SIZE
 *   bytes at a time (default 0: every put and delete is one write(2)).
 *   With a buffer, `sync=none` writes reach the OS when the buffer fills,
 *   at kv_sync() and at kv_close(), not at every put; gets see buffered
 *   records at once.
 * - `auto_merge=X`: merge when at least this fraction of the data files'
 *   bytes is dead (0..1; default 0: never), checked when a data file is
 *   full, once the files hold at least `auto_merge_min=SIZE` (default 1M).
 *
 * **Guarantees.** KV_CAP_DURABLE (not ordered: no iterators). `sync=none`:
 * every put reaches the OS (unless `write_buffer`), kv_sync() and
 * kv_close() make everything durable; `sync=always`: durable before the
 * put returns; `sync=batch`: an fsync when `sync_ms` have passed since the
 * last one, checked at each write. After a crash, every write covered by a
 * completed sync reads back, deleted keys stay deleted, and a torn last
 * record is cut off; a damaged record with valid data after it is
 * KV_ECORRUPT. One process at a time: a second kv_open() of the directory,
 * from this process or another, fails with KV_EBUSY (a lock on DIR/LOCK).
 *
 * **Thread safety.** Every call may be made from several threads on one
 * handle. Writers (put, delete, sync, merge) run one at a time; gets run in
 * parallel with each other and with a writer (a shared lock on the file
 * table, the keydir's per-shard locks, pread). A merge blocks writers for
 * its duration, not gets.
 *
 * **Limits.** Keys up to 65535 bytes (default max_key 1024), values up to
 * 1 GiB (default max_value 64 MiB). Memory: one keydir entry per live key
 * (the key plus 24 bytes plus the table's overhead).
 */
#ifndef BITCASK_H
#define BITCASK_H

#include "kvlabs/engine.h"
#include "kvlabs/kv.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief The engine's table, for the registry (kv_open("bitcask", ...)). */
extern const kv_engine_ops kv_engine_bitcask;

/**
 * @brief Merge now: rewrite every live record into new data files with
 *        hint files, then remove the old files (crash-safe at every step).
 *
 * Waits for, and then blocks, the handle's other writers; gets go on.
 * Everything written before it is durable when it returns KV_OK.
 * @param[in] db  a handle opened with the `bitcask` engine.
 * @return KV_OK; KV_EINVAL (NULL or not a bitcask handle); KV_EIO or
 *         KV_EFULL (an I/O call failed: before the commit the store is as
 *         before; after it, the merge is complete in memory and the next
 *         merge or open finishes removing the old files); KV_ECORRUPT (a
 *         bad record in a data file); KV_ENOMEM (the store is intact; old
 *         files may stay open until the next successful merge).
 */
int bc_merge(kv_db *db);

/** @brief Counters of a bitcask handle, for tests and tools. */
typedef struct bc_info {
    uint64_t data_files;     /**< data files in the file table (the active one included) */
    uint64_t disk_bytes;     /**< bytes of those files */
    uint64_t live_bytes;     /**< record bytes the keydir points to (the rest is dead) */
    uint64_t merges;         /**< merges completed since open */
    uint64_t hint_files;     /**< data files loaded from their hint file at open */
    uint64_t scanned_files;  /**< data files loaded by reading their records at open */
    uint64_t torn_bytes;     /**< bytes cut from a torn tail at open */
    uint32_t active_id;      /**< the id of the active data file */
} bc_info;

/**
 * @brief Read a handle's counters (consistent: taken under the writer lock).
 * @param[in]  db   a handle opened with the `bitcask` engine.
 * @param[out] out  the counters.
 * @return KV_OK, or KV_EINVAL (NULL argument or not a bitcask handle).
 */
int bc_info_get(kv_db *db, bc_info *out);

#ifdef __cplusplus
}
#endif
#endif /* BITCASK_H */
