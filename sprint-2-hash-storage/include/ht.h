/**
 * @file ht.h
 * @brief The sprint-2 hash-table core: a sharded, concurrent hash table of
 *        variable-length binary keys and values, with four collision
 *        strategies and incremental resizing.
 *
 * **What this module is.** The table behind the `hash` engine (and, in a
 * later issue, behind a kernel character device and Bitcask's key
 * directory). It maps byte-string keys to byte-string values and knows
 * nothing about kvlabs' engine contract: `hash_engine.c` adapts it to
 * `kvlabs/kv.h`. It includes only `ht_port.h` (see there), so the same
 * source builds in user space and in the kernel.
 *
 * **The interface.** ht_create() with an ht_config, then ht_put(),
 * ht_get() / ht_get_copy(), ht_delete(), ht_get_stats(), ht_check(), and
 * ht_destroy(). Status codes are the HT_* values below, numerically equal
 * to kvlabs' KV_* codes of the same name.
 *
 * **Strategies** (ht_strategy, chosen at creation; see the lab's README for
 * diagrams): separate chaining, linear probing, Robin Hood hashing with
 * backward-shift deletion, and a Swiss table (16-slot groups of control
 * bytes matched with SIMD).
 *
 * **Sharding.** A table is `shards` independent sub-tables, each with its
 * own reader-writer lock and sequence counter; a key's shard is chosen by
 * the top 8 bits of its hash. Writes take the shard's lock exclusive, so
 * threads writing different shards never wait for each other.
 *
 * **Optimistic reads.** A lookup does not take the lock: it reads the shard
 * between two looks at its sequence counter, which every writer makes odd
 * while it changes the shard, and tries again if a writer came by; after
 * HT_READ_TRIES such attempts it takes the lock shared. Memory a reader may
 * still be reading is never freed under it: small entries live in the
 * shard's arena (below), and replaced arrays and large entries are freed
 * only after every reader that could see them has left (epoch-based
 * reclamation; RCU in the kernel). Readers therefore write no shared cache
 * line and execute no atomic read-modify-write. ht_get_stats() counts the
 * attempts that had to retry and the lookups that fell back to the lock.
 *
 * **Resizing** is per shard and, by default, incremental: when a shard
 * reaches its load limit, a new array is allocated and the entries move
 * over a few slots at a time during the following writes, so no single
 * operation pays for copying the whole shard (see ht_resize_mode).
 *
 * **Memory.** Each entry is one block holding its key and value (and, for
 * chaining and Swiss tables, a small strategy header). A block of up to
 * HT_INLINE_MAX bytes is a cell of its shard's arena (no allocator header,
 * 8-byte granules, reused within the shard); a larger one is an allocation
 * of its own. The index holds a pointer per slot (plus the full hash for
 * linear probing and Robin Hood, a control byte for the Swiss table).
 * ht_get_stats() reports the real memory footprint, allocator overhead and
 * free arena space included.
 *
 * **Thread safety.** Every function but ht_destroy() may be called from
 * several threads at once on one table (unless the table was created with
 * ht_config::no_lock, in which case the caller serialises every call).
 * ht_destroy() must not race with anything.
 *
 * **Callers must not** pass a NULL key (even with length 0: an empty key is
 * HT_EINVAL), or call back into the table from an ht_read_fn (for a value
 * above HT_INLINE_MAX the shard's read lock is held while it runs).
 */
#ifndef HT_H
#define HT_H

#include "ht_port.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @name Status codes (equal to kvlabs' KV_* codes of the same name)
 * @{ */
enum {
    HT_OK = 0,         /**< success */
    HT_ENOTFOUND = -1, /**< no such key */
    HT_EINVAL = -2,    /**< invalid argument or configuration */
    HT_ETOOBIG = -3,   /**< key or value above HT_MAX_KEY / HT_MAX_VALUE */
    HT_ENOMEM = -4,    /**< out of memory; the table is unchanged */
    HT_EFULL = -8,     /**< the shard is at its load limit and resizing is off */
    HT_ENOTSUP = -9    /**< not implemented: a starter kit's stub (KV_ENOTSUP); the stub has
                            named itself through ht_port_not_implemented() */
};
/** @} */

/** @brief Longest key the core stores. */
#define HT_MAX_KEY 65535u
/** @brief Longest value the core stores (1 GiB). */
#define HT_MAX_VALUE (1u << 30)
/** @brief Most shards a table may have. */
#define HT_MAX_SHARDS 256u
/** @brief Shards when ht_config::shards is 0. */
#define HT_DEFAULT_SHARDS 64u
/** @brief Total initial capacity when ht_config::buckets is 0. */
#define HT_DEFAULT_BUCKETS 1024u
/**
 * @brief Largest entry kept inline in its shard's arena, in bytes: the
 *        strategy's prefix (0, 8 or 16) + 8 bytes of lengths + key + value.
 *
 * An entry up to this size lives in a cell of its shard's arena (cells in
 * 8-byte size classes, carved from slabs of up to 256 KiB; a freed cell is
 * reused by the next entry of its class in that shard, and the slabs are
 * returned when the table is destroyed). A larger entry is an allocation
 * of its own, freed by epoch (after every optimistic reader that may still
 * see it has left). With 16-byte keys, values up to about 480 bytes are
 * inline.
 */
#define HT_INLINE_MAX 512u
/** @brief Optimistic attempts of a lookup before it takes the shard's lock. */
#define HT_READ_TRIES 4
/** @brief Buckets of the probe-length histogram; the last one counts "this many or more". */
#define HT_PROBE_HIST 16

/** @brief The collision strategy of a table. */
typedef enum ht_strategy {
    HT_CHAINING = 0,  /**< separate chaining: a bucket array of singly linked lists */
    HT_LINEAR = 1,    /**< open addressing, linear probing, tombstone deletes */
    HT_ROBINHOOD = 2, /**< open addressing, Robin Hood insertion, backward-shift deletes */
    HT_SWISS = 3      /**< open addressing in 16-slot groups of control bytes (SIMD match) */
} ht_strategy;

/** @brief Number of strategies (for loops in tests and benchmarks). */
#define HT_NSTRATEGIES 4

/** @brief How a shard grows when it reaches its load limit. */
typedef enum ht_resize_mode {
    /** Allocate the new array, then move a few old slots per later write
     *  (bounded latency; lookups search both arrays while moving). */
    HT_RESIZE_INCREMENTAL = 0,
    /** Move every entry at once, inside the write that hit the limit
     *  (the textbook way: one slow write per doubling). */
    HT_RESIZE_ALL = 1,
    /** Never grow: a new key that would exceed the load limit is HT_EFULL.
     *  Tombstones are still cleared by a rebuild at the same size. */
    HT_RESIZE_OFF = 2
} ht_resize_mode;

/** @brief How a table is built; zero-filled fields take their defaults. */
typedef struct ht_config {
    ht_strategy strategy; /**< collision strategy */
    size_t buckets;       /**< initial total capacity (slots or buckets), spread over the
                               shards and rounded up to a power of two per shard
                               (0: HT_DEFAULT_BUCKETS) */
    unsigned max_load_pm; /**< load limit in per mille (live plus tombstones per slot, or
                               entries per bucket): 50..990 for open addressing, 50..16000
                               for chaining; 0: the strategy's default (ht_default_max_load()) */
    unsigned shards;      /**< power of two, 1..HT_MAX_SHARDS (0: HT_DEFAULT_SHARDS) */
    ht_resize_mode resize; /**< growth policy */
    ht_hash_fn hash;      /**< the hash function (required) */
    ht_eq_fn eq;          /**< key equality for keys above 16 bytes (NULL: ht_memcmp);
                               shorter keys are compared inline */
    bool no_lock;         /**< true: no locks; the caller serialises every call */
} ht_config;

/** @brief A hash table (opaque). */
typedef struct ht_table ht_table;

/** @brief Counters of a table, filled by ht_get_stats(). Integers only (kernel-safe). */
typedef struct ht_stats {
    uint64_t keys;          /**< live keys */
    uint64_t bytes;         /**< live key plus value bytes */
    uint64_t mem_bytes;     /**< memory footprint: entries, arrays, shards, locks */
    uint64_t entry_mem;     /**< the part of mem_bytes taken by entries */
    uint64_t capacity;      /**< slots (buckets for chaining) of the shards' current arrays */
    uint64_t old_capacity;  /**< slots of arrays still being migrated from (0 when none) */
    uint64_t tombstones;    /**< tombstones in the current arrays */
    uint64_t resizes;       /**< resizes and rebuilds started since creation */
    uint64_t migrating;     /**< shards in the middle of an incremental resize */
    uint64_t shards;        /**< number of shards */
    uint64_t max_probe;     /**< longest probe length of any live key */
    uint64_t read_retries;  /**< optimistic lookups that saw a writer and tried again */
    uint64_t read_fallbacks; /**< lookups that gave up on optimism and took the shard's lock
                                  (after HT_READ_TRIES attempts, or with no reader slot) */
    uint64_t arena_mem;     /**< the part of mem_bytes taken by arena slabs (live cells,
                                 free cells and unused slab space) */
    uint64_t retired_mem;   /**< memory waiting for readers to leave before it is freed
                                 (old arrays and large entries; not in mem_bytes) */
    /** Live keys by probe length: slots past the home slot (linear, Robin
     *  Hood), groups past the home group (Swiss), position in the chain
     *  (chaining); the last bucket counts HT_PROBE_HIST - 1 or more. */
    uint64_t probe_hist[HT_PROBE_HIST];
} ht_stats;

/**
 * @brief The callback of ht_get(): receives the value once it has been
 *        read consistently (a copy up to HT_INLINE_MAX bytes, handed over
 *        outside any lock; a larger value under the shard's read lock).
 * @param[in] arg   the caller's pointer.
 * @param[in] val   the value bytes; valid only during the call.
 * @param[in] vlen  its length.
 * @return 0, or a status that ht_get() returns (for example a copy that ran
 *         out of memory).
 */
typedef int (*ht_read_fn)(void *arg, const void *val, size_t vlen);

/**
 * @brief Spread a 32-bit hash (or any weak hash) over 64 bits: the
 *        finaliser of MurmurHash3 (fmix64). A bijection.
 * @param[in] x  the value.
 * @return its mix.
 */
static inline uint64_t ht_mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xFF51AFD7ED558CCDULL;
    x ^= x >> 33;
    x *= 0xC4CEB9FE1A85EC53ULL;
    x ^= x >> 33;
    return x;
}

/**
 * @brief The default load limit of a strategy.
 * @param[in] s  the strategy.
 * @return per mille: chaining 1000, linear 750, Robin Hood 875, Swiss 875.
 */
unsigned ht_default_max_load(ht_strategy s);

/**
 * @brief The name of a strategy.
 * @param[in] s  the strategy.
 * @return "chaining", "linear", "robinhood", "swiss", or "?" for another value.
 */
const char *ht_strategy_name(ht_strategy s);

/**
 * @brief Create a table.
 * @param[in]  cfg  the configuration; copied.
 * @param[out] out  the table, set only on success; free with ht_destroy().
 * @return HT_OK; HT_EINVAL (NULL argument, no hash function, unknown
 *         strategy or resize mode, max_load_pm or shards out of range,
 *         buckets above 2^40); HT_ENOMEM (nothing allocated remains).
 */
int ht_create(const ht_config *cfg, ht_table **out);

/**
 * @brief Free a table and every entry in it.
 * @param[in] t  the table, or NULL. No other call may run on it.
 */
void ht_destroy(ht_table *t);

/**
 * @brief Insert a key or overwrite its value. Both are copied.
 * @param[in] t     the table.
 * @param[in] key   klen bytes.
 * @param[in] klen  1..HT_MAX_KEY.
 * @param[in] val   vlen bytes (may be NULL when vlen is 0).
 * @param[in] vlen  0..HT_MAX_VALUE.
 * @return HT_OK; HT_EINVAL (NULL table or key, empty key, NULL value with a
 *         non-zero length); HT_ETOOBIG; HT_ENOMEM (the entry or a resize
 *         could not be allocated: the table is unchanged, an old value
 *         included); HT_EFULL (HT_RESIZE_OFF and the shard is at its limit;
 *         unchanged).
 */
int ht_put(ht_table *t, const void *key, size_t klen, const void *val, size_t vlen);

/**
 * @brief Look a key up (optimistically, see the file comment) and hand its
 *        value to @p fn once, after the read has been validated.
 * @param[in] t     the table.
 * @param[in] key   klen bytes.
 * @param[in] klen  1..HT_MAX_KEY.
 * @param[in] fn    called once with the value when found; NULL for an
 *                  existence test. It must not call into the table.
 * @param[in] arg   passed to @p fn.
 * @return HT_OK; HT_ENOTFOUND; HT_EINVAL (NULL table or key, empty key);
 *         HT_ETOOBIG (klen above HT_MAX_KEY); or what @p fn returned when
 *         not 0.
 */
int ht_get(ht_table *t, const void *key, size_t klen, ht_read_fn fn, void *arg);

/**
 * @brief Look a key up and copy its value into a caller's buffer.
 * @param[in]  t     the table.
 * @param[in]  key   klen bytes.
 * @param[in]  klen  1..HT_MAX_KEY.
 * @param[out] buf   receives the first min(cap, value length) bytes (may
 *                   be NULL when cap is 0).
 * @param[in]  cap   size of @p buf.
 * @param[out] vlen  receives the full value length (may be NULL); when it is
 *                   above @p cap the copy was cut short.
 * @return HT_OK; HT_ENOTFOUND; HT_EINVAL; HT_ETOOBIG. On HT_OK, @p buf holds
 *         one consistent value; otherwise its contents are unspecified (an
 *         optimistic attempt that a writer disturbed may have written it).
 */
int ht_get_copy(ht_table *t, const void *key, size_t klen, void *buf, size_t cap, size_t *vlen);

/**
 * @brief Remove a key.
 * @param[in] t     the table.
 * @param[in] key   klen bytes.
 * @param[in] klen  1..HT_MAX_KEY.
 * @return HT_OK; HT_ENOTFOUND; HT_EINVAL; HT_ETOOBIG. Never allocates.
 */
int ht_delete(ht_table *t, const void *key, size_t klen);

/**
 * @brief Fill the counters, shard by shard (each shard is consistent; the
 *        sum is not a global snapshot while other threads write).
 * @param[in]  t    the table.
 * @param[out] out  overwritten. Walks every slot: O(capacity).
 */
void ht_get_stats(ht_table *t, ht_stats *out);

/**
 * @brief Called by ht_scan() for each live entry, with the entry's shard
 *        read-locked: it must not call into the table.
 * @param[in] arg   the caller's argument.
 * @param[in] key   the key (the table's memory: copy what you keep).
 * @param[in] klen  its length.
 * @param[in] val   the value (idem).
 * @param[in] vlen  its length.
 * @return 0 to go on; anything else is remembered and returned by ht_scan()
 *         (the rest of the entries are still visited but not passed on).
 */
typedef int (*ht_visit_fn)(void *arg, const void *key, size_t klen, const void *val, size_t vlen);

/**
 * @brief Visit every live entry, shard by shard, each shard under its read
 *        lock (consistent per shard, not across shards; a key lives in one
 *        shard, so a key unchanged throughout is visited exactly once).
 *        In no particular order. What the engines' KV_CAP_SCAN iterators use.
 * @param[in] t    the table.
 * @param[in] fn   the visitor.
 * @param[in] arg  its argument.
 * @return 0, or the first non-zero status the visitor returned.
 */
int ht_scan(ht_table *t, ht_visit_fn fn, void *arg);

/**
 * @brief Check every invariant of every shard (tests and debugging).
 *
 * Recomputes each live entry's hash and shard, finds every key through the
 * normal lookup, counts live entries and tombstones, checks the load limit
 * (current used slots plus entries still to migrate stay within it), and the
 * strategy's own invariants (Robin Hood ordering, Swiss control bytes,
 * chaining bucket membership). O(capacity + keys).
 * @param[in]  t     the table.
 * @param[out] what  receives a static description of the first violation
 *                   (may be NULL); "" when all hold.
 * @return 0 when every invariant holds, else the 1-based number of the
 *         shard where the first violation was found.
 */
int ht_check(ht_table *t, const char **what);

#ifdef __cplusplus
}
#endif
#endif /* HT_H */
