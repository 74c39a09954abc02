/**
 * @file bitcask_format.h
 * @brief Bitcask internals: the on-disk formats and the interfaces between
 *        the bitcask_*.c files (not for users of the engine: see bitcask.h).
 *
 * **The pieces** (one file each):
 * - bitcask_record.c: encode and check one data record
 *   `[crc32c | timestamp | key size | value size | key | value]`.
 * - bitcask_keydir.c: the key directory, the sprint-2 hash table (ht.h)
 *   mapping each key to the place of its newest record (a bc_loc).
 * - bitcask_scan.c: read a data file record by record; tell a torn tail
 *   (cut it) from corruption in the middle (KV_ECORRUPT).
 * - bitcask_log.c: the file table, the active file (appends, the optional
 *   write buffer, rollover, sync), and reading a record back for a get.
 * - bitcask_hint.c: hint files (a data file's keydir entries, for a fast
 *   start) and the merge's commit record.
 * - bitcask_recover.c: open: finish an interrupted merge, load every data
 *   file (from its hint file when valid), cut the torn tail.
 * - bitcask_merge.c: compaction of every file into new ones, crash-safe.
 * - bitcask_engine.c: the kv_engine_ops table, options, locking.
 *
 * docs/formats/bitcask.md has the byte tables. All integers on disk are
 * little-endian.
 *
 * **Locks** (bc_db): `wmu` serialises every writer (put, delete, sync,
 * merge, close); `flk` (a reader-writer lock) protects the file table and
 * the identity of the active file: a get holds it shared from the keydir
 * lookup to the end of its read, rollover and merge take it exclusive to
 * change the table; `bmu` protects the write buffer's flush against gets
 * copying from it. The keydir has its own per-shard locks.
 */
#ifndef BITCASK_FORMAT_H
#define BITCASK_FORMAT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ht.h"
#include "kvlabs/engine.h"
#include "kvlabs/env.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @name The data record
 * @{ */
#define BC_HDR 20u                  /**< header bytes: crc 4, timestamp 8, key size 4, value size 4 */
#define BC_TOMBSTONE 0xFFFFFFFFu    /**< value size of a tombstone (a delete; no value bytes) */
#define BC_MAX_KEY 65535u           /**< largest key size a record may declare */
#define BC_MAX_VALUE (1u << 30)     /**< largest value size a record may declare */
/** @} */

/** @name Hint files and the merge commit record
 * @{ */
#define BC_HINT_MAGIC "BCHINT01"    /**< first 8 bytes of a hint file */
#define BC_HINT_HDR 16u             /**< magic 8, size of the data file 8 */
#define BC_HINT_ENTRY 24u           /**< entry bytes before the key: timestamp, key size, value size, offset */
#define BC_MERGE_MAGIC "BCMERGE1"   /**< first 8 bytes of the MERGE commit record */
#define BC_CLEAN_MAGIC 0x4B4C4342u  /**< "BCLK": the clean-close record in the LOCK file */
#define BC_CLEAN_SIZE 20u           /**< magic 4, active file id 4, its length 8, crc 4 */
/** @} */

/** @brief The decoded header of one data record. */
typedef struct bc_rec {
    uint32_t crc;   /**< CRC32C of every byte of the record after this field */
    uint64_t ts;    /**< timestamp: microseconds, strictly increasing over the store's life */
    uint32_t ksize; /**< key bytes, 1..BC_MAX_KEY */
    uint32_t vsize; /**< value bytes, 0..BC_MAX_VALUE, or BC_TOMBSTONE */
} bc_rec;

/** @brief Where the newest record of a key is: the keydir's value (24 bytes). */
typedef struct bc_loc {
    uint32_t file_id; /**< the data file */
    uint32_t vsize;   /**< its value size (never BC_TOMBSTONE in the keydir) */
    uint64_t offset;  /**< the record's offset in the file */
    uint64_t ts;      /**< the record's timestamp */
} bc_loc;

/** @brief The key directory and the totals of what it points to. */
typedef struct bc_keydir {
    ht_table *t;       /**< key -> bc_loc */
    uint64_t keys;     /**< live keys */
    uint64_t bytes;    /**< their key plus value bytes */
    uint64_t disk;     /**< their record bytes on disk (the rest of the files is dead) */
} bc_keydir;

/** @brief One data file of the store. */
typedef struct bc_file {
    uint32_t id;       /**< its number: the file is DIR/NNNNNNNNNN.data, the id in 10 digits */
    kv_file *f;        /**< open handle */
    uint64_t size;     /**< bytes of records (for the active file: flushed plus buffered) */
    bool hinted;       /**< it has a hint file (a merge output) */
    bool obsolete;     /**< merged away and unlinked; kept open while the keydir may point into it */
} bc_file;

/** @brief An open Bitcask store. */
typedef struct bc_db {
    kv_db base;               /**< the front end's header (first) */
    const kv_env *env;        /**< where all I/O goes */
    char *dir;                /**< the store's directory */
    unsigned file_mode;       /**< mode= : permission of every file it creates (default 0600) */
    unsigned dir_mode;        /**< permission of the directory if it creates it (default 0700) */
    kv_file *lock;            /**< DIR/LOCK, locked while open; holds the clean-close record */
    bc_keydir kd;             /**< the key directory */
    pthread_mutex_t wmu;      /**< serialises writers */
    pthread_rwlock_t flk;     /**< the file table (shared: gets; exclusive: changes) */
    pthread_mutex_t bmu;      /**< the write buffer against gets reading it */
    bc_file **files;          /**< the file table, sorted by id */
    size_t nfiles;            /**< entries in files */
    size_t cap;               /**< capacity of files */
    bc_file *active;          /**< the file appends go to (the highest id) */
    unsigned char *wbuf;      /**< write buffer of the active file (NULL: none) */
    size_t wcap;              /**< its capacity (the write_buffer option) */
    size_t wlen;              /**< bytes buffered */
    uint64_t flushed;         /**< bytes of the active file written to the env */
    unsigned char *scratch;   /**< encoding space for one record (writer only) */
    size_t scap;              /**< its capacity */
    uint64_t max_file_size;   /**< roll over before a file would grow past this */
    double auto_merge;        /**< merge when dead/total bytes reaches this (0: never) */
    uint64_t auto_merge_min;  /**< ... and the files hold at least this many bytes */
    kv_sync_mode sync;        /**< the sync option */
    uint64_t sync_ms;         /**< the batch interval */
    uint64_t last_sync_ms;    /**< when the active file was last synced */
    uint64_t last_ts;         /**< newest timestamp given out or loaded */
    uint64_t disk_bytes;      /**< bytes of all data files */
    bool dir_dirty;           /**< a file was created since the directory's last sync */
    bool broken;              /**< a failed append could not be undone: writes refused */
    uint64_t merges;          /**< merges completed since open */
    uint64_t hint_files;      /**< files loaded from hint files at open */
    uint64_t scanned_files;   /**< files loaded by scanning at open */
    uint64_t torn_bytes;      /**< bytes cut from a torn tail at open */
} bc_db;

/** @name bitcask_record.c
 * @{ */
/**
 * @brief Bytes of a record on disk.
 * @param[in] ksize  key bytes.
 * @param[in] vsize  value bytes or BC_TOMBSTONE.
 * @return BC_HDR + ksize + value bytes.
 */
uint64_t bc_rec_size(uint32_t ksize, uint32_t vsize);
/**
 * @brief Write a whole record (header, key, value) with its CRC.
 * @param[out] out   bc_rec_size(klen, vsize) bytes.
 * @param[in]  ts    its timestamp.
 * @param[in]  key   klen bytes.
 * @param[in]  klen  1..BC_MAX_KEY.
 * @param[in]  val   the value (ignored for a tombstone; may be NULL when empty).
 * @param[in]  vsize value bytes, or BC_TOMBSTONE.
 */
void bc_rec_encode(unsigned char *out, uint64_t ts, const void *key, uint32_t klen,
                   const void *val, uint32_t vsize);
/**
 * @brief Decode a header and check that its sizes are possible.
 * @param[in]  p  BC_HDR bytes.
 * @param[out] h  the fields.
 * @return KV_OK, or KV_ECORRUPT (empty or oversized key, oversized value).
 */
int bc_rec_decode(const unsigned char *p, bc_rec *h);
/**
 * @brief Check a whole record's CRC.
 * @param[in] rec  the record: bc_rec_size(h->ksize, h->vsize) bytes.
 * @param[in] h    its decoded header.
 * @return whether the CRC matches.
 */
bool bc_rec_crc_ok(const unsigned char *rec, const bc_rec *h);
/** @brief Store a little-endian 32-bit value. @param[out] p 4 bytes. @param[in] v the value. */
void bc_put32(unsigned char *p, uint32_t v);
/** @brief Store a little-endian 64-bit value. @param[out] p 8 bytes. @param[in] v the value. */
void bc_put64(unsigned char *p, uint64_t v);
/** @}*/

/** @name bitcask_keydir.c
 * @{ */
/**
 * @brief Create an empty keydir.
 * @param[out] kd  the keydir.
 * @return KV_OK or KV_ENOMEM.
 */
int bc_keydir_init(bc_keydir *kd);
/** @brief Free a keydir. @param[in] kd the keydir (its table may be NULL). */
void bc_keydir_free(bc_keydir *kd);
/**
 * @brief Look a key up.
 * @param[in]  kd    the keydir.
 * @param[in]  key   klen bytes.
 * @param[in]  klen  its length.
 * @param[out] out   its location when found.
 * @return KV_OK or KV_ENOTFOUND.
 */
int bc_keydir_get(bc_keydir *kd, const void *key, size_t klen, bc_loc *out);
/**
 * @brief Point a key at a newer record, unless the keydir has a newer one.
 * @param[in]  kd       the keydir.
 * @param[in]  key      klen bytes.
 * @param[in]  klen     its length.
 * @param[in]  loc      the record's location.
 * @param[out] applied  whether the keydir changed (may be NULL).
 * @return KV_OK, or KV_ENOMEM (nothing changed).
 */
int bc_keydir_put(bc_keydir *kd, const void *key, size_t klen, const bc_loc *loc, bool *applied);
/**
 * @brief Remove a key for a tombstone of timestamp @p ts, unless the keydir
 *        has a newer record of it.
 * @param[in] kd    the keydir.
 * @param[in] key   klen bytes.
 * @param[in] klen  its length.
 * @param[in] ts    the tombstone's timestamp.
 * @return KV_OK (removed, or kept because newer), KV_ENOTFOUND (absent).
 */
int bc_keydir_del(bc_keydir *kd, const void *key, size_t klen, uint64_t ts);
/** @}*/

/** @name bitcask_scan.c
 * @{ */
/** @brief A sequential reader of one data file's records. */
typedef struct bc_scan {
    kv_file *f;          /**< the file */
    uint64_t size;       /**< its size */
    uint64_t off;        /**< offset of the next record */
    unsigned char *buf;  /**< a window of the file */
    size_t cap;          /**< the window's capacity */
    uint64_t win_off;    /**< file offset of buf[0] */
    size_t win_len;      /**< valid bytes in buf */
} bc_scan;

/** @brief What bc_scan_next() found. */
enum {
    BC_SCAN_REC = 0, /**< a valid record */
    BC_SCAN_END = 1, /**< the end of the file, exactly after the last record */
    BC_SCAN_BAD = 2  /**< a bad record (torn, impossible or failing its CRC) at scan->off */
};

/**
 * @brief Start scanning a file from offset 0.
 * @param[out] s     the scanner; free with bc_scan_free().
 * @param[in]  f     the file.
 * @param[in]  size  its size.
 */
void bc_scan_init(bc_scan *s, kv_file *f, uint64_t size);
/** @brief Free a scanner's window. @param[in] s the scanner. */
void bc_scan_free(bc_scan *s);
/**
 * @brief Read the next record.
 * @param[in]  s    the scanner; on BC_SCAN_REC it moves past the record.
 * @param[out] h    the record's header (BC_SCAN_REC).
 * @param[out] rec  the record's bytes, valid until the next call (BC_SCAN_REC).
 * @param[out] off  the record's offset (BC_SCAN_REC), or the bad one (BC_SCAN_BAD).
 * @return BC_SCAN_REC, BC_SCAN_END, BC_SCAN_BAD, or KV_EIO / KV_ENOMEM.
 */
int bc_scan_next(bc_scan *s, bc_rec *h, const unsigned char **rec, uint64_t *off);
/**
 * @brief Decide what a bad record at @p bad ends: a torn tail (cut there)
 *        or corruption (a valid record follows somewhere after it).
 * @param[in]  s    the scanner of the file.
 * @param[in]  bad  the bad record's offset.
 * @param[out] cut  the length to cut the file to (KV_OK).
 * @return KV_OK (torn tail), KV_ECORRUPT, or KV_EIO / KV_ENOMEM.
 */
int bc_scan_tail(bc_scan *s, uint64_t bad, uint64_t *cut);
/**
 * @brief What bc_scan_each() calls for each valid record.
 * @return KV_OK to go on; anything else stops the scan and is returned.
 */
typedef int (*bc_scan_fn)(void *arg, const bc_rec *h, const unsigned char *rec, uint32_t fid,
                          uint64_t off);
/**
 * @brief The file-scan loop of merge and recovery: call @p fn on every record
 *        of an initialised scanner, in order, until the end or a bad record.
 * @param[in]  s    the scanner (bc_scan_init'ed; the caller frees it, and may
 *                  call bc_scan_tail() on it after BC_SCAN_BAD).
 * @param[in]  fid  the file's id, passed to @p fn.
 * @param[in]  fn   the callback.
 * @param[in]  arg  the callback's first argument.
 * @param[out] off  the offset of the last record read, or of the bad one.
 * @return KV_OK at the end of the file; BC_SCAN_BAD; @p fn's failure;
 *         KV_EIO / KV_ENOMEM.
 */
int bc_scan_each(bc_scan *s, uint32_t fid, bc_scan_fn fn, void *arg, uint64_t *off);
/** @}*/

/** @name bitcask_log.c
 * @{ */
/**
 * @brief A file's path: DIR, then the id as 10 digits, then the suffix.
 * @param[in] db      the store.
 * @param[in] id      the file id.
 * @param[in] suffix  ".data", ".hint", ".data.tmp" ...
 * @return a kv_malloc'd path, or NULL when out of memory.
 */
char *bc_path(const bc_db *db, uint32_t id, const char *suffix);
/**
 * @brief A path in the store's directory.
 * @param[in] db    the store.
 * @param[in] name  the file's name.
 * @return a kv_malloc'd path, or NULL when out of memory.
 */
char *bc_path_name(const bc_db *db, const char *name);
/**
 * @brief Find a file of the table (caller holds flk, or is the writer).
 * @param[in] db  the store.
 * @param[in] id  the file id.
 * @return the file, or NULL.
 */
bc_file *bc_file_find(const bc_db *db, uint32_t id);
/**
 * @brief Add a file to the table, keeping it sorted (caller holds flk exclusive, or is opening).
 * @param[in] db  the store.
 * @param[in] bf  a kv_malloc'd file, owned by the table on success.
 * @return KV_OK or KV_ENOMEM (nothing changed).
 */
int bc_file_add(bc_db *db, bc_file *bf);
/**
 * @brief Open or create a data file as a new table entry.
 * @param[in]  db     the store.
 * @param[in]  id     the file id.
 * @param[in]  flags  KV_O_* flags.
 * @param[out] out    the new, unlisted bc_file (kv_free it and close its handle if unused).
 * @return KV_OK or an env status.
 */
int bc_file_open(bc_db *db, uint32_t id, int flags, bc_file **out);
/** @brief Close and free a file. @param[in] bf the file, or NULL. */
void bc_file_free(bc_file *bf);
/**
 * @brief Start a new, empty active file after every existing id (writer).
 * @param[in] db  the store.
 * @return KV_OK or an env status (the old active file stays active).
 */
int bc_log_new_active(bc_db *db);
/**
 * @brief Append one encoded record to the active file, rolling over first
 *        when it would pass max_file_size, and make it durable as the sync
 *        mode asks. On failure the file is as before (writer).
 * @param[in]  db   the store.
 * @param[in]  rec  the record.
 * @param[in]  len  its size.
 * @param[out] loc  where it went (file id and offset).
 * @return KV_OK, KV_EIO, KV_EFULL, KV_ENOMEM.
 */
int bc_log_append(bc_db *db, const unsigned char *rec, size_t len, bc_loc *loc);
/**
 * @brief Cut off the record just appended (its keydir update failed) (writer).
 * @param[in] db   the store.
 * @param[in] loc  where bc_log_append() put it.
 * @param[in] len  its size.
 */
void bc_log_undo(bc_db *db, const bc_loc *loc, uint64_t len);
/**
 * @brief Write the buffer to the active file (writer).
 * @param[in] db  the store.
 * @return KV_OK or an env status (the buffer keeps its bytes).
 */
int bc_log_flush(bc_db *db);
/**
 * @brief Flush, fsync the active file, and the directory when a file was created (writer).
 * @param[in] db  the store.
 * @return KV_OK or an env status.
 */
int bc_log_sync(bc_db *db);
/**
 * @brief Read and check the record at @p loc for key @p key (caller holds flk shared).
 * @param[in]  db    the store.
 * @param[in]  loc   where the keydir says it is.
 * @param[in]  key   klen bytes: the record must hold this key.
 * @param[in]  klen  its length.
 * @param[out] val   receives the value (NULL: only check it exists).
 * @return KV_OK, KV_ECORRUPT, KV_EIO, KV_ENOMEM.
 */
int bc_log_read(bc_db *db, const bc_loc *loc, const void *key, size_t klen, kv_buf *val);
/** @}*/

/** @name bitcask_hint.c
 * @{ */
/** @brief A growing byte buffer (a hint file or the merge record, built in memory). */
typedef struct bc_bytes {
    unsigned char *p; /**< the bytes */
    size_t len;       /**< used */
    size_t cap;       /**< allocated */
} bc_bytes;
/**
 * @brief Append bytes.
 * @param[in] b  the buffer.
 * @param[in] p  n bytes.
 * @param[in] n  their count.
 * @return KV_OK or KV_ENOMEM (unchanged).
 */
int bc_bytes_add(bc_bytes *b, const void *p, size_t n);
/** @brief Free a buffer. @param[in] b the buffer. */
void bc_bytes_free(bc_bytes *b);
/**
 * @brief Append one hint entry (start an empty buffer with the header first: bc_hint_start()).
 * @param[in] hb     the hint file being built.
 * @param[in] h      the record's header.
 * @param[in] key    its key.
 * @param[in] off    its offset in the data file.
 * @return KV_OK or KV_ENOMEM.
 */
int bc_hint_add(bc_bytes *hb, const bc_rec *h, const void *key, uint64_t off);
/**
 * @brief Start a hint file: its header.
 * @param[in] hb  an empty buffer.
 * @return KV_OK or KV_ENOMEM.
 */
int bc_hint_start(bc_bytes *hb);
/**
 * @brief Finish a hint file: the data file's size into the header, and the CRC trailer.
 * @param[in] hb         the hint file.
 * @param[in] data_size  the size of its data file.
 * @return KV_OK or KV_ENOMEM.
 */
int bc_hint_finish(bc_bytes *hb, uint64_t data_size);
/**
 * @brief Apply a complete hint file to the keydir.
 * @param[in] db         the store.
 * @param[in] p          the hint file's bytes.
 * @param[in] n          their count.
 * @param[in] file_id    the data file it describes.
 * @param[in] data_size  that file's size.
 * @return KV_OK; KV_ECORRUPT (a bad hint: the caller scans the data file
 *         instead; the keydir may hold some of its entries, which the scan
 *         sets again); KV_ENOMEM.
 */
int bc_hint_apply(bc_db *db, const unsigned char *p, size_t n, uint32_t file_id,
                  uint64_t data_size);
/**
 * @brief Load a data file's hint file when present and valid.
 * @param[in]  db      the store.
 * @param[in]  bf      the data file.
 * @param[out] loaded  whether the hint file was used.
 * @return KV_OK (loaded or not), or KV_ENOMEM / KV_EIO.
 */
int bc_hint_load(bc_db *db, bc_file *bf, bool *loaded);
/**
 * @brief Write a whole small file durably: DIR/name.tmp, fsync, rename to DIR/name.
 *        The directory is not synced.
 * @param[in] db    the store.
 * @param[in] name  the final name.
 * @param[in] p     the content.
 * @param[in] n     its size.
 * @return KV_OK or an env status.
 */
int bc_write_file(bc_db *db, const char *name, const void *p, size_t n);
/**
 * @brief Read a whole small file.
 * @param[in]  db    the store.
 * @param[in]  path  its path.
 * @param[out] out   kv_malloc'd content.
 * @param[out] n     its size.
 * @return KV_OK, KV_ENOTFOUND, KV_EIO, KV_ENOMEM.
 */
int bc_read_file(bc_db *db, const char *path, unsigned char **out, size_t *n);
/**
 * @brief Finish a committed merge: remove the data and hint files DIR/MERGE
 *        lists, sync the directory, remove DIR/MERGE, sync again.
 * @param[in] db  the store.
 * @return KV_OK (also when there is no DIR/MERGE), KV_ECORRUPT (a damaged
 *         MERGE record), or an env status.
 */
int bc_merge_finish(bc_db *db);
/** @}*/

/** @name bitcask_recover.c
 * @{ */
/**
 * @brief Open-time recovery: finish a merge, drop temporary files, load
 *        every data file into the keydir, cut a torn tail, choose the
 *        active file.
 * @param[in] db  the store, with env, dir, lock and options set.
 * @return KV_OK, KV_ECORRUPT, KV_EIO, KV_ENOMEM.
 */
int bc_recover(bc_db *db);
/**
 * @brief Read the clean-close record from the LOCK file.
 * @param[in]  db   the store.
 * @param[out] id   the active file's id at the last clean close.
 * @param[out] len  its length then.
 * @return KV_OK: a valid record was found; KV_ENOTFOUND: none (an empty,
 *         short or damaged LOCK file: the store was not closed cleanly);
 *         the read's error (KV_EIO, ...) when the LOCK file could not be
 *         read: then nothing is known, and the caller must not guess.
 */
int bc_clean_read(bc_db *db, uint32_t *id, uint64_t *len);
/**
 * @brief Write the clean-close record (after a successful sync).
 * @param[in] db  the store.
 * @return KV_OK or an env status.
 */
int bc_clean_write(bc_db *db);
/** @}*/

/** @name bitcask_merge.c
 * @{ */
/**
 * @brief Merge with the writer lock held (the auto-merge path).
 * @param[in] db  the store.
 * @return see bc_merge().
 */
int bc_merge_locked(bc_db *db);
/** @}*/

/** @brief Microseconds of the realtime clock. @return the time. */
uint64_t bc_now_us(void);
/** @brief Milliseconds of the monotonic clock. @return the time. */
uint64_t bc_now_ms(void);

#ifdef __cplusplus
}
#endif
#endif /* BITCASK_FORMAT_H */
