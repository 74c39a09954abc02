/**
 * @file shm_layout.h
 * @brief The byte layout of a shared-memory store's segment (engine `shm`):
 *        constants, the header, shards, blocks and log records.
 *
 * These structures are the segment format, version 1, mapped by every
 * process that opens a store: a field's offset may not change without a
 * new KVSHM_VERSION. shm_segment.c pins every offset with _Static_assert,
 * and docs/formats/shm.md gives them as byte-offset tables. The layout is
 * that of the machine's ABI (little-endian, LP64, the C library's
 * pthread_mutex_t): a segment is shared memory between processes of one
 * machine, never a file to move between machines (snapshots are, see
 * shm_snapshot.c). The header records sizeof(kvshm_hdr) and
 * sizeof(pthread_mutex_t), so a build with another ABI refuses the file.
 *
 * Atomic fields are read and written with C11 atomics (lock-free, hence
 * address-free, so they work between processes); the others only under
 * the lock that guards them (see shm.h).
 */
#ifndef KVSHM_SHM_LAYOUT_H
#define KVSHM_SHM_LAYOUT_H

#include <stdatomic.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @name Layout constants (part of the segment format, version 1)
 * @{ */
#define KVSHM_MAGIC       "KVSHMSEG"   /**< the header's first 8 bytes */
#define KVSHM_VERSION     1u           /**< the layout version in the header */
#define KVSHM_SEG_FILE    "shm.seg"    /**< the segment's name in the store directory */
#define KVSHM_PID_FILE    "host.pid"   /**< the host's pid file (kvshm host) */
#define KVSHM_EXT_ALIGN   65536u       /**< extents are multiples of 64 KiB (any page size) */
#define KVSHM_MAX_EXTENTS 128u         /**< most extents in a segment */
#define KVSHM_EXT_CAP     (1ull << 30) /**< growth doubles extents up to 1 GiB each */
#define KVSHM_ADDR_SHIFT  48           /**< address = extent << 48 | offset */
#define KVSHM_NCLASSES    128u         /**< block size classes */
#define KVSHM_MAX_CHUNKS  32u          /**< bucket-array chunks per shard */
#define KVSHM_MAX_SHARDS  256u         /**< most shards (lock stripes) */
#define KVSHM_LOCK_SLOT   64u          /**< bytes reserved for each pthread_mutex_t */
#define KVSHM_ENTRY_HDR   40u          /**< bytes of an entry's header before its key */
#define KVSHM_CHUNK_HDR   16u          /**< bytes of a chunk's header before its buckets */
#define KVSHM_LOG_KEY     32u          /**< key bytes kept in an operation-log record */
/** @} */

/** @name Engine limits
 * @{ */
#define KVSHM_LIMIT_KEY     (64u << 10) /**< largest max_key= accepted */
#define KVSHM_LIMIT_VALUE   (64u << 20) /**< largest max_value= accepted */
#define KVSHM_DEFAULT_KEY   1024u       /**< max_key of a new store by default */
#define KVSHM_DEFAULT_VALUE (1u << 20)  /**< max_value of a new store by default */
/** @} */

/** @name Block tags (the first 4 bytes of every block)
 * @{ */
#define KVSHM_TAG_FREE  0x45455246u /**< "FREE": on a free list (or to be put there) */
#define KVSHM_TAG_ALLOC 0x434F4C41u /**< "ALOC": handed out, being filled */
#define KVSHM_TAG_LIVE  0x4556494Cu /**< "LIVE": a complete entry (key, value) */
#define KVSHM_TAG_DEAD  0x44414544u /**< "DEAD": an entry removed or replaced, not yet freed */
#define KVSHM_TAG_CHUNK 0x4B4E4843u /**< "CHNK": a bucket-array chunk */
/** @} */

/** @name Header flags (kvshm_hdr::flags)
 * @{ */
#define KVSHM_F_DESTROYED 1u /**< `kvshm destroy` ran: every operation fails with KV_EIO */
#define KVSHM_F_REPAIR    2u /**< a lock owner died or corruption was seen: rebuild first */
/** @} */

/** @brief A shm address: extent << 48 | byte offset in the extent; 0 is null. */
typedef uint64_t kvshm_addr;

/** @brief One extent of the segment file, in the header's extent table. */
typedef struct kvshm_extent {
    uint64_t off;  /**< its offset in the file (the previous extent's end) */
    uint64_t len;  /**< its length, a multiple of KVSHM_EXT_ALIGN */
    uint64_t used; /**< end of its blocks once retired (0 while it is the bump extent) */
    uint64_t rsv;  /**< reserved, 0 */
} kvshm_extent;

/**
 * @brief The segment header at file offset 0 (see docs/formats/shm.md).
 *
 * Fields above `n_extents` are written once at creation and never change.
 * The atomic fields are read without a lock; the allocator fields need the
 * allocator lock.
 */
typedef struct kvshm_hdr {
    char magic[8];              /**< KVSHM_MAGIC, written last at creation */
    uint32_t version;           /**< KVSHM_VERSION */
    uint32_t hdr_size;          /**< sizeof(kvshm_hdr) */
    uint32_t mutex_size;        /**< sizeof(pthread_mutex_t) of the creator's ABI */
    uint32_t n_shards;          /**< shards (lock stripes), 1..KVSHM_MAX_SHARDS */
    uint64_t max_key;           /**< key limit fixed at creation */
    uint64_t max_value;         /**< value limit fixed at creation */
    uint64_t max_size;          /**< most bytes the file may grow to (KV_EFULL beyond) */
    uint64_t shards_off;        /**< offset of the shard table in extent 0 */
    uint64_t log_off;           /**< offset of the log ring in extent 0 */
    uint64_t log_entries;       /**< records in the ring (0: no log) */
    uint64_t data_off;          /**< first block in extent 0 */
    uint32_t init_buckets;      /**< n0: buckets of a shard at level 0 (power of 2) */
    uint32_t create_pid;        /**< pid of the creator */
    uint64_t create_time;       /**< creation time, Unix seconds */
    _Atomic uint32_t n_extents; /**< extents published (grows only) */
    _Atomic uint32_t flags;     /**< KVSHM_F_* */
    _Atomic uint64_t repairs;   /**< rebuilds done since creation */
    _Atomic uint64_t corrupt;   /**< corruption events seen since creation */
    _Atomic uint64_t log_head;  /**< operation-log records ever appended */
    _Alignas(64) unsigned char alloc_lock[KVSHM_LOCK_SLOT]; /**< the allocator's mutex */
    uint32_t bump_ext;                    /**< extent the bump pointer is in (the last one) */
    uint32_t rsv0;                        /**< reserved, 0 */
    uint64_t bump_off;                    /**< next unused byte of the bump extent */
    uint64_t alloc_bytes;                 /**< bytes in blocks not on a free list */
    uint64_t rsv1;                        /**< reserved, 0 */
    kvshm_addr free_head[KVSHM_NCLASSES]; /**< free list of each size class */
    uint64_t free_count[KVSHM_NCLASSES];  /**< blocks on each free list */
    kvshm_extent ext[KVSHM_MAX_EXTENTS];  /**< the extent table */
} kvshm_hdr;

/**
 * @brief One shard: a lock and a linear-hashing table (see shm_index.c).
 *
 * Buckets: `n0 << level` plus `split` more. Bucket b lives in chunk 0 when
 * b < n0, else in chunk k = floor(log2(b / n0)) + 1, at index b - (n0 << (k-1)).
 * Everything but the lock needs the shard's lock held.
 */
typedef struct kvshm_shard {
    _Alignas(64) unsigned char lock[KVSHM_LOCK_SLOT]; /**< the shard's mutex */
    _Atomic uint64_t n_keys; /**< live keys (written under the lock; stats read it freely) */
    _Atomic uint64_t bytes;  /**< live key+value bytes (idem) */
    uint32_t level;          /**< linear hashing: doublings done */
    uint32_t rsv0;           /**< reserved, 0 */
    uint64_t split;          /**< linear hashing: next bucket to split */
    uint64_t seq;            /**< last sequence number given to an entry of this shard */
    kvshm_addr chunk[KVSHM_MAX_CHUNKS]; /**< bucket-array chunks (0: not allocated) */
    uint64_t rsv1[3];                   /**< reserved, 0 */
} kvshm_shard;

/** @brief Every block starts with this (free ones, entries, chunks). */
typedef struct kvshm_block {
    _Atomic uint32_t tag;  /**< KVSHM_TAG_* */
    uint32_t cls;          /**< size class: the block is kvshm_class_size(cls) bytes */
    _Atomic uint64_t next; /**< entries: next in the bucket chain; free: next free block */
} kvshm_block;

/** @brief An entry block: header, then the key, then the value. */
typedef struct kvshm_entry {
    kvshm_block b;        /**< tag LIVE (or ALLOC while filled, DEAD when removed) */
    uint64_t hash;        /**< kv_xxh3_64 of the key */
    uint64_t seq;         /**< shard sequence number: the newest copy of a key wins a rebuild */
    uint32_t klen;        /**< key length, 1..max_key */
    uint32_t vlen;        /**< value length, 0..max_value */
    unsigned char data[]; /**< klen key bytes, then vlen value bytes */
} kvshm_entry;

/** @brief One operation-log record (a seqlock-protected slot of the ring). */
typedef struct kvshm_logrec {
    _Atomic uint64_t seq;     /**< record number + 1 when complete; 0 while being written */
    _Atomic uint64_t time_ns; /**< CLOCK_REALTIME nanoseconds */
    _Atomic uint32_t pid;     /**< the client's process id */
    _Atomic uint32_t op;      /**< KVSHM_OP_* in bits 0..7, -status in bits 8..15 */
    _Atomic uint32_t klen;    /**< the key's full length */
    _Atomic uint32_t vlen;    /**< the value's length (puts) */
    _Atomic uint64_t key[KVSHM_LOG_KEY / 8]; /**< the key's first bytes (zero padded) */
} kvshm_logrec;

/** @brief Operation codes of the log. */
enum kvshm_op {
    KVSHM_OP_PUT = 1,      /**< kv_put */
    KVSHM_OP_DEL = 2,      /**< kv_delete */
    KVSHM_OP_GET = 3,      /**< kv_get (log=all only) */
    KVSHM_OP_OPEN = 4,     /**< a process opened the store */
    KVSHM_OP_CLOSE = 5,    /**< a process closed it */
    KVSHM_OP_REPAIR = 6,   /**< a rebuild ran (klen: entries kept) */
    KVSHM_OP_CREATE = 7,   /**< the store was created */
    KVSHM_OP_SNAPSHOT = 8, /**< a snapshot was written (klen: entries) */
    KVSHM_OP_RESTORE = 9,  /**< a snapshot was restored (klen: entries) */
    KVSHM_OP_HOST = 10,    /**< kvshm host started */
    KVSHM_OP_DESTROY = 11  /**< kvshm destroy */
};

/** @brief What the log records of the operations (option `log=`). */
enum kvshm_log_mode {
    KVSHM_LOG_WRITES = 0, /**< puts, deletes and events (default) */
    KVSHM_LOG_ALL = 1,    /**< also every get */
    KVSHM_LOG_NONE = 2    /**< events only */
};

#ifdef __cplusplus
}
#endif
#endif /* KVSHM_SHM_LAYOUT_H */
