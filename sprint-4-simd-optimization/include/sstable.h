/**
 * @file sstable.h
 * @brief The sstable part of sprint 4: sorted string tables (blocks with
 *        restart points, a blocked bloom filter, the table builder and
 *        reader, the footer) and the internal-key format they store.
 *
 * An SSTable is an immutable file of key/value entries sorted by internal
 * key. The LSM tree (lsm/) writes one per memtable flush and per compaction
 * output, and reads them back through lsm_table_get() and table iterators.
 * The byte layout is docs/formats/sstable.md; this header is its API.
 *
 * **Internal keys.** Every entry's key is an internal key: the user key
 * followed by an 8-byte little-endian trailer `(seq << 8) | type`, where
 * `seq` is the write's sequence number (56 bits) and `type` is
 * LSM_TYPE_VALUE or LSM_TYPE_DELETE (a tombstone). Internal keys sort by
 * user key (memcmp, the shorter first on a tie) and then by *descending*
 * trailer, so the newest version of a key comes first. The bloom filter is
 * built over user keys.
 *
 * **Iterators.** lsm_iter is the internal iterator every layer of the LSM
 * tree implements (block, table, memtable, level, merging): a small table
 * of functions over internal keys. An iterator's key and value stay valid
 * until its next move.
 *
 * **Thread safety.** A builder belongs to one thread. A reader
 * (lsm_table) is immutable after lsm_table_open(): any number of threads
 * may call lsm_table_get() and open iterators on it at once; each
 * iterator belongs to one thread.
 *
 * **Errors.** Functions return KV_OK or a negative KV_E* code (kv.h) and set
 * kv_last_error(). Bytes read from a file are checked, never trusted: a bad
 * checksum, magic, length or varint is KV_ECORRUPT.
 */
#ifndef LSM_SSTABLE_H
#define LSM_SSTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvlabs/env.h"
#include "kvlabs/kv.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @name Internal keys
 * @{ */
#define LSM_TYPE_DELETE 0u            /**< a tombstone */
#define LSM_TYPE_VALUE 1u             /**< a put */
#define LSM_MAX_SEQ ((UINT64_C(1) << 56) - 1) /**< the largest sequence number */
#define LSM_TRAILER 8u                /**< bytes of the trailer after the user key */

/** @brief Pack a trailer: (seq << 8) | type. */
static inline uint64_t lsm_trailer(uint64_t seq, unsigned type)
{
    return (seq << 8) | type;
}

/**
 * @brief Compare two internal keys: user keys bytewise (shorter first on a
 *        tie), then trailers descending (newer first).
 * @param[in] a   the first internal key (at least LSM_TRAILER bytes).
 * @param[in] na  its length.
 * @param[in] b   the second internal key.
 * @param[in] nb  its length.
 * @return < 0, 0 or > 0 as a sorts before, with, or after b.
 */
int lsm_ikey_cmp(const void *a, size_t na, const void *b, size_t nb);

/**
 * @brief Compare two user keys bytewise, the shorter first on a tie.
 * @param[in] a   the first user key.
 * @param[in] na  its length.
 * @param[in] b   the second user key.
 * @param[in] nb  its length.
 * @return -1, 0 or 1. The simd part's lsm_simd_key_cmp() (lsm_simd.h):
 *         scalar, SSE2/AVX2 or NEON as the CPU allows, identical results.
 */
int lsm_ukey_cmp(const void *a, size_t na, const void *b, size_t nb);
/** @} */

/** @name Internal iterators
 * @{ */
/** @brief An internal iterator (opaque to callers; see struct lsm_iter_ops). */
typedef struct lsm_iter lsm_iter;

/** @brief The functions of an internal iterator. */
typedef struct lsm_iter_ops {
    void (*first)(lsm_iter *it);                            /**< position at the first entry */
    void (*seek)(lsm_iter *it, const void *ik, size_t n);   /**< first entry >= internal key */
    void (*next)(lsm_iter *it);                             /**< advance (valid only) */
    bool (*valid)(const lsm_iter *it);                      /**< positioned on an entry */
    void (*key)(const lsm_iter *it, const void **k, size_t *n); /**< the internal key */
    void (*value)(const lsm_iter *it, const void **v, size_t *n); /**< the value */
    int (*status)(const lsm_iter *it);                      /**< KV_OK or the error that stopped it */
    void (*close)(lsm_iter *it);                            /**< free it */
} lsm_iter_ops;

/** @brief Every internal iterator starts with this header. */
struct lsm_iter {
    const lsm_iter_ops *ops; /**< its functions */
};
/** @} */

/** @name Blocked bloom filter (one 64-byte line per key)
 * @{ */
/** @brief Bytes of one bloom line: every probe of a key falls in one line. */
#define LSM_BLOOM_LINE 64u
/** @brief Probes per key. */
#define LSM_BLOOM_PROBES 8u

/**
 * @brief The bloom hash of a user key (xxh3-64 with the filter's seed).
 * @param[in] key  the user key.
 * @param[in] n    its length.
 * @return the 64-bit hash.
 */
uint64_t lsm_bloom_hash(const void *key, size_t n);

/**
 * @brief The size of a filter for @p nkeys keys at @p bits_per_key.
 * @param[in] nkeys         the number of distinct keys.
 * @param[in] bits_per_key  bits of filter per key.
 * @return bytes, a multiple of LSM_BLOOM_LINE, at least one line.
 */
size_t lsm_bloom_size(size_t nkeys, unsigned bits_per_key);

/**
 * @brief Set a key's bits in a filter.
 * @param[in,out] filter  the filter (zeroed at creation), @p size bytes.
 * @param[in]     size    a multiple of LSM_BLOOM_LINE, not 0.
 * @param[in]     h       the key's lsm_bloom_hash().
 */
void lsm_bloom_add(uint8_t *filter, size_t size, uint64_t h);

/**
 * @brief Whether a key may be in a filter (false: certainly absent).
 *        The simd part's dispatched probe (scalar, AVX2 or NEON: identical results).
 * @param[in] filter  the filter.
 * @param[in] size    its size, a multiple of LSM_BLOOM_LINE, not 0.
 * @param[in] h       the key's lsm_bloom_hash().
 * @return false when the key is certainly absent, true when it may be present.
 */
bool lsm_bloom_may_contain(const uint8_t *filter, size_t size, uint64_t h);

/**
 * @brief The scalar probe, the reference every SIMD probe is tested against.
 * @param[in] filter  the filter.
 * @param[in] size    its size, a multiple of LSM_BLOOM_LINE, not 0.
 * @param[in] h       the key's lsm_bloom_hash().
 * @return as lsm_bloom_may_contain().
 */
bool lsm_bloom_may_contain_scalar(const uint8_t *filter, size_t size, uint64_t h);

/**
 * @brief The line and the eight bit positions (0..511) a hash probes; what
 *        both lsm_bloom_add() and every probe implementation use.
 * @param[in]  h      the hash.
 * @param[in]  lines  the number of lines of the filter (> 0).
 * @param[out] bits   the eight bit positions within the line.
 * @return the line index, < lines.
 */
size_t lsm_bloom_positions(uint64_t h, size_t lines, uint32_t bits[LSM_BLOOM_PROBES]);
/** @} */

/** @name Tables
 * @{ */
/** @brief Block compression of a table. */
typedef enum lsm_compression {
    LSM_COMPRESS_NONE = 0, /**< blocks stored as they are */
    LSM_COMPRESS_LZ4 = 1,  /**< LZ4 (liblz4), per block, when it saves >= 1/8 */
    LSM_COMPRESS_ZSTD = 2  /**< Zstandard level 1 (libzstd), per block, when it saves >= 1/8 */
} lsm_compression;

/** @brief What a table builder is told. */
typedef struct lsm_table_opts {
    size_t block_size;       /**< target bytes of a data block before its trailer (e.g. 4096) */
    unsigned restart_every;  /**< entries between restart points (e.g. 16) */
    unsigned bloom_bits;     /**< bloom bits per key; 0: no filter */
    lsm_compression compression; /**< the codec of data and index blocks (filters are stored raw) */
} lsm_table_opts;

/** @brief A table being written (opaque). */
typedef struct lsm_table_builder lsm_table_builder;

/**
 * @brief Start a table in a file the caller created.
 * @param[in]  f     the file, empty, opened read-write; the builder writes
 *                   at offsets from 0 and never closes or syncs it.
 * @param[in]  opts  the options (copied).
 * @param[out] out   the builder.
 * @return KV_OK; KV_EINVAL (bad options, unknown compression); KV_ENOMEM.
 */
int lsm_table_builder_new(kv_file *f, const lsm_table_opts *opts, lsm_table_builder **out);

/**
 * @brief Append an entry; internal keys must come strictly increasing.
 * @param[in] b      the builder.
 * @param[in] ikey   the internal key (user key + trailer).
 * @param[in] iklen  its length, at least LSM_TRAILER.
 * @param[in] val    the value (may be NULL when vlen is 0).
 * @param[in] vlen   its length.
 * @return KV_OK; KV_EINVAL (key shorter than the trailer, or out of order);
 *         KV_ENOMEM; an env error of the write (KV_EIO, KV_EFULL).
 */
int lsm_table_builder_add(lsm_table_builder *b, const void *ikey, size_t iklen, const void *val,
                          size_t vlen);

/**
 * @brief The bytes the table would have if finished now (its data so far).
 * @param[in] b  the builder.
 * @return bytes written plus the pending block.
 */
uint64_t lsm_table_builder_size(const lsm_table_builder *b);

/**
 * @brief The entries added so far.
 * @param[in] b  the builder.
 * @return the count.
 */
uint64_t lsm_table_builder_entries(const lsm_table_builder *b);

/**
 * @brief Write the last data block, the filter, the index and the footer.
 * @param[in]  b     the builder (finished once; then only freed).
 * @param[out] size  the table's size in bytes (may be NULL).
 * @return KV_OK; KV_ENOMEM; an env error.
 */
int lsm_table_builder_finish(lsm_table_builder *b, uint64_t *size);

/**
 * @brief Free a builder (finished or abandoned).
 * @param[in] b  the builder; NULL is ignored.
 */
void lsm_table_builder_free(lsm_table_builder *b);

/** @brief An open table (opaque). */
typedef struct lsm_table lsm_table;

/**
 * @brief The block cache (sstable_cache.c): checked data blocks in memory,
 * LRU, sharded, shared by the tables of a store. Opaque.
 */
typedef struct lsm_cache lsm_cache;
/** @brief A pinned cache entry: its bytes stay valid until lsm_cache_release(). */
typedef struct lsm_cache_block lsm_cache_block;

/**
 * @brief Counters a table reader adds to, and the block cache its data
 * blocks go through (shared by the tables of one store; may be NULL).
 */
typedef struct lsm_read_stats {
    _Atomic uint64_t blocks_read;   /**< data blocks read from the file */
    _Atomic uint64_t bloom_negative;/**< gets answered "absent" by a filter */
    _Atomic uint64_t bloom_checks;  /**< filter probes */
    _Atomic uint64_t cache_hits;    /**< data blocks found in the cache */
    _Atomic uint64_t cache_misses;  /**< data blocks looked up in the cache and read */
    lsm_cache *cache;               /**< set before tables open; NULL: no cache */
} lsm_read_stats;

/**
 * @brief Make a block cache, split into 16 shards of capacity / 16 bytes each.
 * @param[in]  capacity  bytes the cache may hold (contents plus a small overhead per block).
 * @param[out] out       the cache.
 * @return KV_OK or KV_ENOMEM.
 */
int lsm_cache_new(size_t capacity, lsm_cache **out);
/**
 * @brief Free the cache and every block in it.
 * @param[in] c  the cache (NULL: nothing); every entry must have been released.
 */
void lsm_cache_free(lsm_cache *c);
/**
 * @brief A fresh table id: a table's blocks are named by (id, offset).
 * @param[in] c  the cache.
 * @return an id no other call returned for this cache.
 */
uint64_t lsm_cache_new_id(lsm_cache *c);
/**
 * @brief Find a block, pin it and make it the most recently used.
 * @param[in] c    the cache.
 * @param[in] id   the table's id.
 * @param[in] off  the block's offset in the table.
 * @return the pinned entry (release it), or NULL when the block is not cached.
 */
lsm_cache_block *lsm_cache_lookup(lsm_cache *c, uint64_t id, uint64_t off);
/**
 * @brief Cache a block and return it pinned. Evicts the least recently used
 * blocks of its shard down to the shard's capacity; a block larger than the
 * shard is returned pinned but not kept.
 * @param[in] c     the cache.
 * @param[in] id    the table's id.
 * @param[in] off   the block's offset in the table.
 * @param[in] data  the block's checked contents, kv_malloc'd: the cache's from now on.
 * @param[in] n     their size.
 * @return the entry, or NULL when out of memory: then @p data is still the caller's.
 */
lsm_cache_block *lsm_cache_insert(lsm_cache *c, uint64_t id, uint64_t off, uint8_t *data,
                                  size_t n);
/**
 * @brief Unpin an entry; an evicted entry is freed by its last release.
 * @param[in] c  the cache the entry came from.
 * @param[in] e  the entry (NULL: nothing).
 */
void lsm_cache_release(lsm_cache *c, lsm_cache_block *e);
/**
 * @brief The bytes of a pinned entry.
 * @param[in]  e  the entry.
 * @param[out] n  their count.
 * @return the block's contents (valid until the entry is released).
 */
const uint8_t *lsm_cache_data(const lsm_cache_block *e, size_t *n);
/**
 * @brief Bytes charged to the cache now.
 * @param[in] c  the cache.
 * @return the sum over the shards of their entries' charges.
 */
size_t lsm_cache_used(lsm_cache *c);

/**
 * @brief Open a table: read and check the footer, the index and the filter.
 * @param[in]  f      the file (the table owns it from now on, also on failure).
 * @param[in]  size   the file's size.
 * @param[in]  stats  counters to add to, or NULL; its cache, when set, holds
 *                    the table's data blocks (the caller keeps the cache
 *                    until every table using it is closed).
 * @param[out] out    the table.
 * @return KV_OK; KV_ECORRUPT (bad magic, checksum, handle or size); KV_ENOMEM; KV_EIO.
 */
int lsm_table_open(kv_file *f, uint64_t size, lsm_read_stats *stats, lsm_table **out);

/**
 * @brief Close a table and its file.
 * @param[in] t  the table; NULL is ignored.
 */
void lsm_table_close(lsm_table *t);

/**
 * @brief The number of entries (from the footer).
 * @param[in] t  the table.
 * @return the count.
 */
uint64_t lsm_table_entries(const lsm_table *t);

/**
 * @brief Find the newest entry of a user key with sequence <= @p seq.
 * @param[in]  t      the table.
 * @param[in]  ukey   the user key.
 * @param[in]  n      its length.
 * @param[in]  seq    the snapshot's sequence number.
 * @param[out] type   LSM_TYPE_VALUE or LSM_TYPE_DELETE when found.
 * @param[out] val    its value (when a value; may be NULL).
 * @return KV_OK (found: a value or a tombstone); KV_ENOTFOUND; KV_ECORRUPT; KV_EIO; KV_ENOMEM.
 */
int lsm_table_get(lsm_table *t, const void *ukey, size_t n, uint64_t seq, unsigned *type,
                  kv_buf *val);

/**
 * @brief Open an iterator over every entry of the table (unpositioned).
 * @param[in]  t    the table; it must stay open while the iterator is.
 * @param[out] out  the iterator.
 * @return KV_OK or KV_ENOMEM.
 */
int lsm_table_iter(lsm_table *t, lsm_iter **out);
/** @} */

/** @name Blocks (exposed for tests and the fuzz target)
 * @{ */
/**
 * @brief Open an iterator over one decoded block's contents (the bytes
 *        before the block trailer). The contents are checked as they are
 *        walked: a bad restart array, varint or length makes the
 *        iterator invalid with status KV_ECORRUPT.
 * @param[in]  data  the block contents.
 * @param[in]  n     their length.
 * @param[in]  own   true: the iterator takes @p data (kv_malloc'd) and frees
 *                   it (also on failure); false: it borrows them, and they
 *                   must outlive the iterator.
 * @param[out] out   the iterator.
 * @return KV_OK; KV_ECORRUPT (too short, bad restart count); KV_ENOMEM.
 */
int lsm_block_iter(const void *data, size_t n, bool own, lsm_iter **out);
/** @} */

#ifdef __cplusplus
}
#endif

#endif /* LSM_SSTABLE_H */
