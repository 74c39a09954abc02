/**
 * @file shm.h
 * @brief The multi-process shared-memory hash store (engine `shm`): its
 *        segment layout and its internal API.
 *
 * **What this module is.** Seed 003's store: several processes open one
 * store and see each other's puts and removes at once. A store is one
 * *segment file*, `DIR/shm.seg`, mapped MAP_SHARED (through the env's
 * kv_file_mmap()) by every process that opens it. Put the directory on a
 * tmpfs (/dev/shm) and the segment is pure shared memory; on a disk it is a
 * memory-mapped file, which the kernel writes back when it likes. Either
 * way the store is **not durable** (no KV_CAP_DURABLE): kv_sync() does
 * nothing, nothing is checksummed on the way to the disk, and a power cut
 * may leave any mix of old and new pages. It is KV_CAP_MULTIPROC, not
 * ordered (a hash store has no key order; kv_iter_open() is KV_ENOTSUP).
 *
 * **The layers** (one file each, all sharing this header):
 * - shm_segment.c — the file, its *extents* and their mappings; addresses;
 *   the robust locks; growth by appending an extent (no data is copied).
 * - shm_alloc.c — blocks in size classes, free lists per class, the bump
 *   pointer, carving a retired extent's tail. (student code: the free lists)
 * - shm_index.c — the hash index: per shard, linear hashing over bucket
 *   arrays that grow in doubling chunks. (student code: insert and remove)
 * - shm_recover.c — taking every lock; rebuilding the index and free lists
 *   from the blocks after a crash; the full consistency check.
 * - shm_oplog.c — the operation log, a ring of records in the segment.
 * - shm_engine.c — the kv_engine_ops table and the tool-facing API below.
 * - shm_snapshot.c — snapshot files (CRC32C-framed) and restore.
 * The segment's structures are in shm_layout.h; docs/formats/shm.md gives
 * them offset by offset.
 *
 * **Addresses, not pointers.** Each process maps the extents wherever its
 * mmap puts them, so nothing in the segment is a pointer. A *shm address*
 * (kvshm_addr) is `extent << 48 | offset-in-extent`; 0 is the null address
 * (extent 0 offset 0 is the header, never a block). kvshm_ptr() turns an
 * address into a pointer through this process's table of mappings, after
 * checking the extent number and that the whole range lies inside it.
 *
 * **Growth without copying.** The file is a chain of extents laid end to
 * end: extent 0 (header, shard table, log ring, first data), then each new
 * extent appended at the file's end, twice the size of the last (capped),
 * mapped separately. A process that meets an address in an extent it has
 * not mapped yet reads the extent count from the header and maps the new
 * ones (kvshm_seg_refresh()): lazy, and existing data never moves.
 *
 * **Locking.** One process-shared, robust pthread mutex per shard (a key's
 * shard is fixed by its hash: lock striping) and one for the allocator.
 * Order: shards in increasing number, then the allocator. A process killed
 * while holding a lock leaves it "owner dead": the next locker gets
 * EOWNERDEAD, marks the mutex consistent, raises KVSHM_F_REPAIR, and the
 * store is rebuilt from its blocks before anyone goes on (shm_recover.c).
 *
 * **Trust.** Nothing read from the segment is trusted: every address,
 * length, class and tag is checked before use, and a bad one is
 * KV_ECORRUPT (and raises KVSHM_F_REPAIR so the next operation rebuilds
 * the index), never a crash. Limits: a peer truncating the file under a
 * running process makes the kernel raise SIGBUS on access to the lost
 * pages; that is outside what any mmap-based store can check.
 *
 * **Thread safety.** Every function taking a kvshm_seg may be called from
 * several threads at once, except kvshm_seg_open()/kvshm_seg_close(). The
 * functions documented "caller holds ..." need that lock held.
 */
#ifndef KVSHM_SHM_H
#define KVSHM_SHM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvlabs/engine.h"
#include "kvlabs/env.h"
#include "kvlabs/kv.h"
#include "shm_layout.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief This process's view of a segment: the file and its mappings. */
typedef struct kvshm_seg {
    const kv_env *env;                      /**< where the file I/O goes */
    kv_file *file;                          /**< the segment file, open read-write */
    char *dir;                              /**< the store directory */
    char *path;                             /**< DIR/shm.seg */
    kvshm_hdr *hdr;                         /**< extent 0's mapping, seen as the header */
    unsigned char *base[KVSHM_MAX_EXTENTS]; /**< mapping of each extent (this process) */
    uint64_t len[KVSHM_MAX_EXTENTS];        /**< the mapped length of each extent */
    _Atomic uint32_t mapped;                /**< extents 0..mapped-1 are mapped */
    pthread_mutex_t map_lock;               /**< serialises this process's mapping of new extents */
    /* Validated copies of the header's creation-time fields: */
    uint32_t n_shards;    /**< shards */
    uint32_t n0;          /**< initial buckets per shard */
    uint64_t max_key;     /**< key limit */
    uint64_t max_value;   /**< value limit */
    uint64_t max_size;    /**< size cap */
    uint64_t log_entries; /**< log ring length */
    uint64_t data_off;    /**< first block of extent 0 */
    kvshm_shard *shards;  /**< the shard table (in extent 0) */
    kvshm_logrec *log;    /**< the log ring (in extent 0), NULL when log_entries is 0 */
    uint32_t pid;         /**< this process's id, for the log */
    int log_mode;         /**< enum kvshm_log_mode */
    unsigned file_mode;   /**< mode of the files this process creates (segment, snapshots, pid file) */
    unsigned dir_mode;    /**< mode of the store directory when this process creates it */
} kvshm_seg;

/** @brief Creation parameters (used only when the segment does not exist yet). */
typedef struct kvshm_params {
    uint64_t max_key;      /**< key limit */
    uint64_t max_value;    /**< value limit */
    uint64_t max_size;     /**< size cap of the file */
    uint64_t initial_size; /**< extent 0's length (raised to fit header, shards, log) */
    uint32_t n_shards;     /**< shards */
    uint32_t init_buckets; /**< n0, a power of two */
    uint64_t log_entries;  /**< operation-log ring length (0: none) */
    bool create;           /**< create the store when it does not exist */
    unsigned file_mode;    /**< permission of the segment file if created (0: KV_MODE_FILE, 0600) */
    unsigned dir_mode;     /**< permission of the directory if created (0: KV_MODE_DIR, 0700) */
    /** Called by the creator after the header and locks are set up and before
     *  the magic is written (NULL: nothing): the layers above the segment fill
     *  the new store here (the engine allocates each shard's first chunk), so
     *  the segment never calls up into them. A failure fails the creation. */
    int (*on_create)(kvshm_seg *s);
} kvshm_params;

/* ======================================================================== */
/** @name Segment (shm_segment.c)
 * @{ */

/**
 * @brief Open (creating if allowed) the segment in @p dir and map extent 0.
 *
 * Creation is serialised by a lock on a second handle of the file; the
 * creator writes the magic last, so an opener that finds a file without it
 * knows nobody uses it yet and initialises it again. Every header field is
 * validated (KV_ECORRUPT on any inconsistency).
 * @param[out] s    zero-initialised by the caller; filled on success.
 * @param[in]  env  the env (needs kv_file_mmap: the in-memory envs give KV_ENOTSUP).
 * @param[in]  dir  the store directory, created if missing (its parent must
 *                  exist) with p->dir_mode; the segment file is created with
 *                  p->file_mode (an existing one keeps its mode).
 * @param[in]  p    creation parameters.
 * @param[out] created  set to whether this call created the store; may be NULL.
 * @return KV_OK; KV_EINVAL (NULL dir); KV_ENOTFOUND (no parent, or no store
 *         and p->create false); KV_ENOTSUP; KV_EBUSY (creation lock held
 *         for seconds); KV_ECORRUPT; KV_EIO; KV_EFULL; KV_ENOMEM. On failure
 *         everything is released.
 */
int kvshm_seg_open(kvshm_seg *s, const kv_env *env, const char *dir, const kvshm_params *p,
                   bool *created);

/**
 * @brief Unmap every extent, close the file, free the names.
 * @param[in] s  an opened segment (or one kvshm_seg_open() failed on: a no-op).
 * @return KV_OK or the file's close error.
 */
int kvshm_seg_close(kvshm_seg *s);

/**
 * @brief The file offset just past the last mapped extent (where growth appends).
 * @param[in] s  the segment.
 * @return that offset.
 */
uint64_t kvshm_seg_mapped_end(const kvshm_seg *s);

/**
 * @brief Map the extents published since this process last looked.
 * @param[in] s  the segment.
 * @return KV_OK; KV_ECORRUPT (a bad extent table); KV_EIO/KV_ENOMEM (mmap).
 */
int kvshm_seg_refresh(kvshm_seg *s);

/**
 * @brief Slow path of kvshm_ptr(): map new extents, then resolve.
 * @param[in] s    the segment.
 * @param[in] a    the address.
 * @param[in] len  bytes that must lie inside the extent from @p a on.
 * @return the pointer, or NULL when @p a is not a valid address for @p len bytes.
 */
void *kvshm_ptr_slow(kvshm_seg *s, kvshm_addr a, uint64_t len);

/**
 * @brief Turn an address into a pointer, checking it.
 * @param[in] s    the segment.
 * @param[in] a    the address (16-byte aligned, non-null).
 * @param[in] len  bytes that must lie inside the extent from @p a on.
 * @return the pointer, or NULL (the caller reports KV_ECORRUPT).
 */
static inline void *kvshm_ptr(kvshm_seg *s, kvshm_addr a, uint64_t len)
{
    uint64_t ext = a >> KVSHM_ADDR_SHIFT, off = a & ((1ull << KVSHM_ADDR_SHIFT) - 1);

    if (ext < atomic_load_explicit(&s->mapped, memory_order_acquire)) {
        if (a == 0 || (off & 15) || len > s->len[ext] || off > s->len[ext] - len)
            return NULL;
        return s->base[ext] + off;
    }
    return kvshm_ptr_slow(s, a, len);
}

/**
 * @brief Append a new extent of at least @p need usable bytes and move the
 *        bump pointer into it (the old bump extent's tail is carved into
 *        free blocks first). Caller holds the allocator lock.
 * @param[in] s     the segment.
 * @param[in] need  bytes the next allocation needs.
 * @return KV_OK; KV_EFULL (max_size or KVSHM_MAX_EXTENTS reached); KV_EIO;
 *         KV_ENOMEM; KV_ECORRUPT.
 */
int kvshm_seg_grow(kvshm_seg *s, uint64_t need);

/**
 * @brief Lock a robust mutex of the segment (a shard's or the allocator's).
 *
 * When the previous owner died holding it, raises KVSHM_F_REPAIR, marks the
 * mutex consistent and returns KV_OK with the lock held: the caller sees
 * the flag and repairs before trusting anything the lock guards.
 * @param[in] s     the segment.
 * @param[in] slot  the mutex's slot (kvshm_shard::lock or kvshm_hdr::alloc_lock).
 * @return KV_OK (held); KV_EIO (the mutex is unrecoverable or broken).
 */
int kvshm_lock(kvshm_seg *s, unsigned char *slot);

/**
 * @brief Unlock a mutex taken with kvshm_lock().
 * @param[in] slot  the mutex's slot.
 */
void kvshm_unlock(unsigned char *slot);

/**
 * @brief Initialise a process-shared robust mutex in a slot (creation only).
 * @param[out] slot  KVSHM_LOCK_SLOT bytes of the segment.
 * @return KV_OK or KV_EIO.
 */
int kvshm_lock_init(unsigned char *slot);

/**
 * @brief Record corruption: bump kvshm_hdr::corrupt, raise KVSHM_F_REPAIR and
 *        set the error detail.
 * @param[in] s     the segment.
 * @param[in] what  what was found wrong (for kv_last_error()).
 * @return KV_ECORRUPT.
 */
int kvshm_corrupt(kvshm_seg *s, const char *what);

/**
 * @brief Whether a flag is raised in the header.
 * @param[in] s     the segment.
 * @param[in] flag  KVSHM_F_*.
 * @return true when raised.
 */
static inline bool kvshm_flag(const kvshm_seg *s, uint32_t flag)
{
    return (atomic_load_explicit(&s->hdr->flags, memory_order_acquire) & flag) != 0;
}

/**
 * @brief The data range [start, end) of extent @p e (end: its used end, or
 *        the bump pointer for the bump extent). Caller holds the allocator
 *        lock (or every lock).
 * @param[in]  s      the segment.
 * @param[in]  e      the extent, < mapped.
 * @param[out] start  first block offset.
 * @param[out] end    end of the blocks.
 * @return KV_OK or KV_ECORRUPT (a bad used/bump value).
 */
int kvshm_seg_extent_range(kvshm_seg *s, uint32_t e, uint64_t *start, uint64_t *end);
/** @} */

/* ======================================================================== */
/** @name Allocator (shm_alloc.c)
 * @{ */

/**
 * @brief The size in bytes of blocks of class @p cls.
 *
 * Classes 0..15 are 16, 32, ..., 256 bytes; above, four classes per
 * doubling (320, 384, 448, 512, 640, ...), so a block wastes under 25%.
 * @param[in] cls  a class, < KVSHM_NCLASSES.
 * @return its size (a multiple of 16).
 */
uint64_t kvshm_class_size(uint32_t cls);

/**
 * @brief The smallest class whose blocks hold @p size bytes.
 * @param[in] size  bytes needed (>= 1).
 * @return the class, or KVSHM_NCLASSES when @p size is beyond the largest.
 */
uint32_t kvshm_class_of(uint64_t size);

/**
 * @brief Take a block of at least @p size bytes; its tag is KVSHM_TAG_ALLOC.
 *        Takes the allocator lock itself; the caller may hold a shard lock.
 * @param[in]  s     the segment.
 * @param[in]  size  bytes needed.
 * @param[out] out   the block's address.
 * @return KV_OK; KV_EFULL; KV_ECORRUPT; KV_EIO; KV_ENOMEM; KV_EBUSY when
 *         KVSHM_F_REPAIR is raised (the caller releases its locks, repairs
 *         and retries; nothing was changed).
 */
int kvshm_alloc(kvshm_seg *s, uint64_t size, kvshm_addr *out);

/**
 * @brief Return a block to its class's free list. Takes the allocator lock.
 *        When KVSHM_F_REPAIR is raised the block is left for the rebuild.
 * @param[in] s  the segment.
 * @param[in] a  the block (tag DEAD, ALLOC or CHUNK).
 */
void kvshm_free(kvshm_seg *s, kvshm_addr a);

/**
 * @brief kvshm_alloc() for a caller that already holds the allocator lock.
 * @param[in]  s     the segment.
 * @param[in]  size  bytes needed.
 * @param[out] out   the block's address.
 * @return as kvshm_alloc(), never KV_EBUSY.
 */
int kvshm_alloc_locked(kvshm_seg *s, uint64_t size, kvshm_addr *out);

/**
 * @brief Pop the first block of a class's free list. Caller holds the
 *        allocator lock. (Student code.)
 * @param[in]  s    the segment.
 * @param[in]  cls  the class.
 * @param[out] out  the block (tag changed to ALLOC), or 0 when the list is empty.
 * @return KV_OK (also when empty) or KV_ECORRUPT (a bad list).
 */
int kvshm_freelist_pop(kvshm_seg *s, uint32_t cls, kvshm_addr *out);

/**
 * @brief Push a block on its class's free list (tag set to FREE). Caller
 *        holds the allocator lock. (Student code.)
 * @param[in] s  the segment.
 * @param[in] a  the block; its class is read from its header.
 * @return KV_OK or KV_ECORRUPT (a bad block).
 */
int kvshm_freelist_push(kvshm_seg *s, kvshm_addr a);

/**
 * @brief Carve [off, end) of extent @p e into free blocks of the largest
 *        classes that fit. Caller holds the allocator lock.
 * @param[in] s    the segment.
 * @param[in] e    the extent.
 * @param[in] off  first byte (16-aligned).
 * @param[in] end  end of the range.
 * @return the new end of the blocks (end rounded down to 16).
 */
uint64_t kvshm_carve(kvshm_seg *s, uint32_t e, uint64_t off, uint64_t end);
/** @} */

/* ======================================================================== */
/** @name Index (shm_index.c). Caller holds the shard's lock.
 * @{ */

/** @brief Where a key is, or would go, in its bucket chain. */
typedef struct kvshm_pos {
    _Atomic uint64_t *link; /**< the word pointing at the entry (bucket slot or previous next) */
    _Atomic uint64_t *head; /**< the bucket slot */
    kvshm_addr addr;        /**< the entry, 0 when the key is absent */
    kvshm_entry *e;         /**< the entry, NULL when absent */
} kvshm_pos;

/**
 * @brief The shard a hash belongs to (its high 32 bits, multiply-shift).
 * @param[in] s     the segment.
 * @param[in] hash  the key's hash.
 * @return the shard number.
 */
static inline uint32_t kvshm_shard_of(const kvshm_seg *s, uint64_t hash)
{
    return (uint32_t)(((hash >> 32) * (uint64_t)s->n_shards) >> 32);
}

/**
 * @brief Check an address as a live entry: bounds, tag, class and lengths.
 * @param[in] s  the segment.
 * @param[in] a  the address.
 * @return the entry, or NULL when anything is wrong.
 */
kvshm_entry *kvshm_entry_at(kvshm_seg *s, kvshm_addr a);

/**
 * @brief The slot of bucket @p b of a shard.
 * @param[in] s   the segment.
 * @param[in] sh  the shard.
 * @param[in] b   the bucket, < the shard's bucket count.
 * @return the slot, or NULL when the shard's chunks are inconsistent.
 */
_Atomic uint64_t *kvshm_bucket(kvshm_seg *s, kvshm_shard *sh, uint64_t b);

/**
 * @brief The bucket of a hash under the shard's current level and split.
 * @param[in] s     the segment.
 * @param[in] sh    the shard.
 * @param[in] hash  the key's hash.
 * @return the bucket number.
 */
uint64_t kvshm_bucket_of(const kvshm_seg *s, const kvshm_shard *sh, uint64_t hash);

/**
 * @brief Find a key in its shard.
 * @param[in]  s     the segment.
 * @param[in]  sh    the shard (locked).
 * @param[in]  hash  the key's hash.
 * @param[in]  key   klen bytes.
 * @param[in]  klen  the key's length.
 * @param[out] pos   where it is (pos->e NULL when absent).
 * @return KV_OK (found or not) or KV_ECORRUPT (a bad chain or bucket).
 */
int kvshm_index_find(kvshm_seg *s, kvshm_shard *sh, uint64_t hash, const void *key, size_t klen,
                     kvshm_pos *pos);

/**
 * @brief Link a filled entry (tag LIVE) in place of pos->e, or at the head
 *        of the bucket when pos->e is NULL; a replaced entry becomes DEAD
 *        (the caller frees it). Updates the shard's counters. (Student code.)
 * @param[in] s      the segment.
 * @param[in] sh     the shard (locked).
 * @param[in] pos    from kvshm_index_find() for the entry's key.
 * @param[in] a      the new entry's address.
 * @param[in] e      the new entry.
 * @return KV_OK or KV_ENOTSUP (the stub).
 */
int kvshm_index_insert(kvshm_seg *s, kvshm_shard *sh, const kvshm_pos *pos, kvshm_addr a,
                       kvshm_entry *e);

/**
 * @brief Unlink pos->e from its chain, marking it DEAD first (the caller
 *        frees it). Updates the shard's counters. (Student code.)
 * @param[in] s    the segment.
 * @param[in] sh   the shard (locked).
 * @param[in] pos  from kvshm_index_find(), with pos->e set.
 * @return KV_OK or KV_ENOTSUP (the stub).
 */
int kvshm_index_unlink(kvshm_seg *s, kvshm_shard *sh, const kvshm_pos *pos);

/**
 * @brief Split one bucket when the shard's load is above 1 key per bucket
 *        (linear hashing), allocating the next chunk when needed.
 * @param[in] s   the segment.
 * @param[in] sh  the shard (locked).
 * @return KV_OK (also when no split was due, or no memory for a chunk:
 *         the table then just runs fuller); KV_ECORRUPT; KV_EBUSY (repair due).
 */
int kvshm_index_maybe_split(kvshm_seg *s, kvshm_shard *sh);

/**
 * @brief The shard's bucket count (n0 << level) + split.
 * @param[in] s   the segment.
 * @param[in] sh  the shard.
 * @return the count.
 */
uint64_t kvshm_nbuckets(const kvshm_seg *s, const kvshm_shard *sh);

/**
 * @brief Chunk number and index of bucket @p b.
 * @param[in]  n0   initial buckets.
 * @param[in]  b    the bucket.
 * @param[out] idx  its index in the chunk.
 * @return the chunk number.
 */
uint32_t kvshm_chunk_of(uint64_t n0, uint64_t b, uint64_t *idx);

/**
 * @brief Buckets held by chunk @p k.
 * @param[in] n0  initial buckets.
 * @param[in] k   the chunk number.
 * @return n0 for chunks 0 and 1, n0 << (k-1) above.
 */
uint64_t kvshm_chunk_buckets(uint64_t n0, uint32_t k);

/**
 * @brief Allocate a zeroed chunk for a shard (tag CHUNK). Caller holds the
 *        shard's lock, and the allocator lock when @p locked.
 * @param[in]  s       the segment.
 * @param[in]  k       the chunk number.
 * @param[in]  locked  whether the caller holds the allocator lock already.
 * @param[out] out     the chunk's address.
 * @return as kvshm_alloc().
 */
int kvshm_chunk_alloc(kvshm_seg *s, uint32_t k, bool locked, kvshm_addr *out);
/** @} */

/* ======================================================================== */
/** @name Recovery and checking (shm_recover.c)
 * @{ */

/**
 * @brief Take every shard lock in order, then the allocator lock.
 * @param[in] s  the segment.
 * @return KV_OK (all held) or KV_EIO (none held).
 */
int kvshm_lock_all(kvshm_seg *s);

/**
 * @brief Release what kvshm_lock_all() took.
 * @param[in] s  the segment.
 */
void kvshm_unlock_all(kvshm_seg *s);

/**
 * @brief If KVSHM_F_REPAIR is raised, take every lock and rebuild the index,
 *        the counters and the free lists from the blocks; clear the flag.
 *
 * How it works: the extents are scanned block by block (each block's class
 * gives its size). LIVE entries are checked (lengths, hash of the key) and
 * re-inserted into emptied bucket chains, keeping the highest sequence
 * number when a key appears twice (an overwrite interrupted between link
 * and free); CHUNK blocks referenced by a shard are kept; every other block
 * (FREE, ALLOC, DEAD, unreferenced CHUNK) goes on its free list. A block
 * with an impossible header ends the scan of its extent (the rest is lost).
 * @param[in] s  the segment.
 * @return KV_OK; KV_EIO (locks); KV_ECORRUPT (unrepairable: the header).
 */
int kvshm_repair(kvshm_seg *s);

/** @brief What kvshm_check() found. */
typedef struct kvshm_check_report {
    uint64_t live;        /**< LIVE blocks found by the scan */
    uint64_t linked;      /**< entries reached through the buckets */
    uint64_t free_blocks; /**< blocks on free lists */
    uint64_t chunks;      /**< chunk blocks */
    uint64_t problems;    /**< inconsistencies (0: consistent) */
    char first[160];      /**< the first problem, in words */
} kvshm_check_report;

/**
 * @brief Check everything under every lock: each LIVE block is linked once,
 *        in the bucket its hash selects; chains hold only LIVE entries;
 *        counters match; free lists hold FREE blocks of their class and
 *        their counts match; the scan reaches each extent's end exactly.
 * @param[in]  s    the segment.
 * @param[out] rep  the findings.
 * @return KV_OK (see rep->problems) or KV_EIO (locks).
 */
int kvshm_check(kvshm_seg *s, kvshm_check_report *rep);
/** @} */

/* ======================================================================== */
/** @name Operation log (shm_oplog.c)
 * @{ */

/**
 * @brief Append a record (lock-free: a fetch-add on kvshm_hdr::log_head
 *        picks the slot; a seqlock per slot lets readers skip torn ones).
 * @param[in] s       the segment.
 * @param[in] op      KVSHM_OP_*.
 * @param[in] status  the operation's status (KV_OK or a KV_E* code).
 * @param[in] key     the key (or NULL).
 * @param[in] klen    its length (or a count for events).
 * @param[in] vlen    the value's length.
 */
void kvshm_log(kvshm_seg *s, int op, int status, const void *key, size_t klen, size_t vlen);

/** @brief A log record as read back. */
typedef struct kvshm_log_entry {
    uint64_t seq;                     /**< its number (0-based, in append order) */
    uint64_t time_ns;                 /**< CLOCK_REALTIME nanoseconds */
    uint32_t pid;                     /**< the client's pid */
    int op;                           /**< KVSHM_OP_* */
    int status;                       /**< KV_OK or a KV_E* code */
    uint32_t klen;                    /**< key length or event count */
    uint32_t vlen;                    /**< value length */
    unsigned char key[KVSHM_LOG_KEY]; /**< the key's first min(klen, 32) bytes */
} kvshm_log_entry;

/**
 * @brief Read the records still in the ring, oldest first (torn or
 *        overwritten slots are skipped).
 * @param[in]  s    the segment.
 * @param[out] out  a kv_malloc'd array (NULL when empty); free with kv_free().
 * @param[out] n    its length.
 * @return KV_OK or KV_ENOMEM.
 */
int kvshm_log_read(kvshm_seg *s, kvshm_log_entry **out, size_t *n);

/**
 * @brief The name of an operation code.
 * @param[in] op  KVSHM_OP_*.
 * @return a static string ("?" for an unknown code).
 */
const char *kvshm_op_name(int op);
/** @} */

/* ======================================================================== */
/** @name The engine and the tool-facing API (shm_engine.c, shm_snapshot.c)
 * @{ */

/** @brief An open `shm` instance (kv_db first). */
typedef struct kvshm_db {
    kv_db base;    /**< the front end's header */
    kvshm_seg seg; /**< the mapping */
} kvshm_db;

/** @brief The engine table (registry name "shm"). */
extern const kv_engine_ops kv_engine_shm;

/**
 * @brief The shm instance behind a handle.
 * @param[in] db  a handle from kv_open().
 * @return the instance, or NULL when @p db is not a `shm` handle.
 */
kvshm_db *kvshm_from(kv_db *db);

/**
 * @brief Called for each entry by kvshm_scan(), with the shard's lock held:
 *        it must not call into the store.
 * @param[in] arg   the caller's argument.
 * @param[in] key   the key (in shared memory: copy what you keep).
 * @param[in] klen  its length.
 * @param[in] val   the value (idem).
 * @param[in] vlen  its length.
 * @return 0 to go on, anything else to stop the scan with that status.
 */
typedef int (*kvshm_scan_fn)(void *arg, const void *key, size_t klen, const void *val, size_t vlen);

/**
 * @brief Visit every entry whose key starts with @p prefix, shard by shard
 *        (each shard under its lock: consistent per shard, not across shards).
 * @param[in] db      the instance.
 * @param[in] prefix  the prefix (NULL or plen 0: every entry).
 * @param[in] plen    its length.
 * @param[in] all_locked  hold every shard lock for the whole scan (a
 *                    point-in-time view; writers wait).
 * @param[in] fn      the visitor.
 * @param[in] arg     its argument.
 * @return KV_OK; the visitor's non-zero status; KV_ECORRUPT; KV_EIO.
 */
int kvshm_scan(kvshm_db *db, const void *prefix, size_t plen, bool all_locked, kvshm_scan_fn fn,
               void *arg);

/**
 * @brief Remove every entry (each shard under its lock, one after another).
 * @param[in] db  the instance.
 * @return KV_OK; KV_ECORRUPT; KV_EIO.
 */
int kvshm_clear(kvshm_db *db);

/** @brief A summary of a store, for `kvshm stats`. */
typedef struct kvshm_info {
    uint64_t keys;        /**< live keys */
    uint64_t bytes;       /**< live key+value bytes */
    uint64_t file_size;   /**< the segment file's size */
    uint64_t max_key;     /**< key limit fixed at creation */
    uint64_t max_value;   /**< value limit fixed at creation */
    uint64_t max_size;    /**< size cap */
    uint32_t shards;      /**< shards (lock stripes) */
    uint32_t extents;     /**< extents published */
    uint64_t buckets;     /**< buckets over all shards */
    uint64_t alloc_bytes; /**< bytes in blocks in use (entries and chunks) */
    uint64_t free_blocks; /**< blocks on free lists */
    uint64_t free_bytes;  /**< bytes on free lists */
    uint64_t repairs;     /**< rebuilds since creation */
    uint64_t corrupt;     /**< corruption events since creation */
    uint64_t log_entries; /**< operation-log ring length */
    uint64_t log_head;    /**< operation-log records ever appended */
    uint32_t flags;       /**< KVSHM_F_* */
    uint32_t create_pid;  /**< the creator's pid */
    uint64_t create_time; /**< creation time, Unix seconds */
} kvshm_info;

/**
 * @brief Fill a kvshm_info. Each shard and the allocator are read under
 *        their own lock, one after another: the totals are approximate
 *        while writers run.
 * @param[in]  db   the instance.
 * @param[out] out  the summary.
 * @return KV_OK or KV_EIO (a lock).
 */
int kvshm_get_info(kvshm_db *db, kvshm_info *out);

/**
 * @brief Mark the store destroyed (every process's next operation fails
 *        with KV_EIO) and remove its segment file. The directory is removed
 *        too when nothing else is left in it.
 * @param[in] db  the instance; close it afterwards.
 * @return KV_OK; KV_EIO.
 */
int kvshm_destroy(kvshm_db *db);

/**
 * @brief Write a snapshot of every entry to @p file (a point-in-time view:
 *        every shard is locked while it is written; format in
 *        docs/formats/shm.md), through FILE.tmp, fsync and rename.
 * @param[in]  db     the instance.
 * @param[in]  file   the snapshot's path.
 * @param[out] count  entries written; may be NULL.
 * @return KV_OK; KV_EIO; KV_EFULL; KV_ENOMEM; KV_ECORRUPT.
 */
int kvshm_snapshot(kvshm_db *db, const char *file, uint64_t *count);

/**
 * @brief Replace the store's contents by a snapshot's. The whole file is
 *        verified first (every CRC, the trailer, the store's limits), so a
 *        bad file changes nothing.
 * @param[in]  db     the instance.
 * @param[in]  file   the snapshot's path.
 * @param[out] count  entries restored; may be NULL.
 * @return KV_OK; KV_ENOTFOUND (no file); KV_ECORRUPT (a bad file);
 *         KV_ETOOBIG (an entry over the store's limits); KV_EFULL (then
 *         the store holds part of the snapshot); KV_EIO; KV_ENOMEM.
 */
int kvshm_restore(kvshm_db *db, const char *file, uint64_t *count);

/** @brief Test hook points: where a process holding a lock may be made to hang. */
enum kvshm_hang_point {
    KVSHM_HANG_NONE = 0,
    KVSHM_HANG_LOCKED = 1,     /**< put: shard lock just taken */
    KVSHM_HANG_PUT_LIVE = 2,   /**< put: new entry LIVE, not linked */
    KVSHM_HANG_PUT_LINKED = 3, /**< put: linked, the replaced entry not freed */
    KVSHM_HANG_DEL_DEAD = 4,   /**< delete: entry DEAD, still linked */
    KVSHM_HANG_ALLOC = 5,      /**< alloc: allocator lock held, a block just taken */
    KVSHM_HANG_GROW = 6,       /**< growth: file extended, extent not published */
    KVSHM_HANG_SPLIT = 7,      /**< split: half of a chain moved */
    KVSHM_HANG_MAX_ = 8        /**< number of points (not a point) */
};

/**
 * @brief Test hook: make this process stop forever at @p point (while
 *        holding its locks), after writing one byte to @p notify_fd (-1: none).
 *        Also set at open from the environment: `KVSHM_HANG=N`.
 * @param[in] point      a kvshm_hang_point (0 disarms).
 * @param[in] notify_fd  a pipe to tell the test the point was reached, or -1.
 */
void kvshm_debug_hang_at(int point, int notify_fd);

/**
 * @brief Reached a hook point (internal: hangs when armed for @p point).
 * @param[in] point  a kvshm_hang_point.
 */
void kvshm_debug_point(int point);
/** @} */

#ifdef __cplusplus
}
#endif
#endif /* KVSHM_SHM_H */
