/**
 * @file bpt.h
 * @brief The sprint-3 B+ tree core: an in-memory, ordered, thread-safe map
 *        of byte-string keys to byte-string values.
 *
 * **Shape.** A B+ tree of a configurable order m (3..1024, the branching
 * factor): an inner node holds up to m-1 separator keys and m children, a
 * leaf up to m-1 entries, and every leaf sits at the same depth. Every
 * node but the root is at least half full: an inner node has at least
 * ceil(m/2) children, a leaf at least floor(m/2) entries. Leaves are linked
 * both ways (prev/next) so a range scan walks the leaf level without going
 * back up. Separators obey: every key of child i is < key i <= every key
 * of child i+1 (a separator need not be a live key: deleting the smallest
 * key of a leaf leaves its separator in place, which stays correct).
 *
 * **Storage.** Keys and values have variable length (key 1..65535 bytes,
 * value 0..2^30 bytes). Each entry is one allocation, a *record*: the two
 * lengths as varints, the key, the value. A leaf holds an array of record
 * pointers plus a one-byte hash tag per slot, so an exact lookup scans the
 * tags and dereferences only the matching record; ordered searches (insert
 * position, seek) binary-search through the records. Inner nodes own
 * copies of their separators and keep each one's first 8 bytes as a
 * big-endian integer beside the pointer, so most comparisons on the way
 * down never leave the node.
 *
 * **Concurrency.** One reader-writer lock per tree: any number of lookups,
 * scans and checks run at once; a put, delete or bulk load runs alone.
 * No call holds the lock when it returns, so a caller may write from inside
 * a loop over bpt_scan() batches without deadlock (iterators re-seek from
 * their last key; see btree/btree_engine.c).
 *
 * **Failures** leave the tree unchanged: every allocation an operation can
 * need is made before the tree is touched.
 *
 * **Portability.** This header and the core include only bpt_port.h and
 * freestanding headers: the same files compile into the kernel.
 */
#ifndef BPT_H
#define BPT_H

#include "bpt_port.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Status codes (equal to kvlabs' KV_* codes of the same name). */
enum {
    BPT_OK = 0,         /**< success */
    BPT_ENOTFOUND = -1, /**< no such key */
    BPT_EINVAL = -2,    /**< bad argument (empty key, bad order, unsorted bulk input) */
    BPT_ETOOBIG = -3,   /**< key or value above the core's limits */
    BPT_ENOMEM = -4,    /**< out of memory; nothing changed */
    BPT_ECORRUPT = -6,  /**< bpt_check() found a broken invariant */
    BPT_ENOTSUP = -9    /**< not implemented: a starter kit's stub (KV_ENOTSUP); the stub has
                             named itself through bpt_port_not_implemented() */
};

/** @brief Smallest order (branching factor). */
#define BPT_ORDER_MIN 3u
/** @brief Largest order. */
#define BPT_ORDER_MAX 1024u
/** @brief Largest key, in bytes. */
#define BPT_MAX_KEY 65535u
/** @brief Largest value, in bytes. */
#define BPT_MAX_VALUE (1u << 30)

/** @brief A tree (opaque). */
typedef struct bpt_tree bpt_tree;

/** @brief Counters of a tree (bpt_stats()). */
typedef struct bpt_stats {
    uint64_t keys;        /**< live entries */
    uint64_t bytes;       /**< sum of key and value lengths */
    uint64_t mem_bytes;   /**< every block the tree holds, allocator overhead included */
    uint64_t leaves;      /**< leaf nodes */
    uint64_t inners;      /**< inner nodes */
    uint64_t leaf_slots;  /**< entries the leaves could hold (leaves * (order-1)) */
    unsigned height;      /**< levels, leaves included (1: the root is a leaf) */
    unsigned order;       /**< the branching factor */
    uint64_t splits;      /**< node splits since creation */
    uint64_t merges;      /**< node merges since creation */
    uint64_t borrows;     /**< redistributions from a sibling since creation */
} bpt_stats;

/**
 * @brief Create an empty tree.
 * @param[in]  order  branching factor, BPT_ORDER_MIN..BPT_ORDER_MAX.
 * @param[out] out    the tree, set only on success.
 * @return BPT_OK, BPT_EINVAL (order out of range) or BPT_ENOMEM.
 */
int bpt_create(unsigned order, bpt_tree **out);

/**
 * @brief Free a tree and everything in it. No other call may be running on it.
 * @param[in] t  the tree, or NULL.
 */
void bpt_destroy(bpt_tree *t);

/**
 * @brief Insert or overwrite.
 * @param[in] t     the tree.
 * @param[in] key   @p klen bytes (copied).
 * @param[in] klen  1..BPT_MAX_KEY.
 * @param[in] val   @p vlen bytes (copied); may be NULL when vlen is 0.
 * @param[in] vlen  0..BPT_MAX_VALUE.
 * @return BPT_OK, BPT_EINVAL, BPT_ETOOBIG or BPT_ENOMEM (nothing changed).
 */
int bpt_put(bpt_tree *t, const void *key, size_t klen, const void *val, size_t vlen);

/**
 * @brief Called with a value while the tree is read-locked; copy it out.
 * @param[in] arg   the caller's argument.
 * @param[in] val   the value's bytes (valid only during the call).
 * @param[in] vlen  its length.
 * @return 0, or a status bpt_get() returns.
 */
typedef int (*bpt_value_fn)(void *arg, const void *val, size_t vlen);

/**
 * @brief Look a key up.
 * @param[in] t     the tree.
 * @param[in] key   @p klen bytes.
 * @param[in] klen  its length (>= 1).
 * @param[in] fn    called with the value under the read lock; NULL for an existence test.
 * @param[in] arg   passed to @p fn.
 * @return BPT_OK, BPT_ENOTFOUND, BPT_EINVAL, or what @p fn returned.
 */
int bpt_get(bpt_tree *t, const void *key, size_t klen, bpt_value_fn fn, void *arg);

/**
 * @brief Remove a key.
 * @param[in] t     the tree.
 * @param[in] key   @p klen bytes.
 * @param[in] klen  its length (>= 1).
 * @return BPT_OK, BPT_ENOTFOUND, BPT_EINVAL or BPT_ENOMEM (nothing changed:
 *         a borrow from a sibling needs a new separator copy).
 */
int bpt_delete(bpt_tree *t, const void *key, size_t klen);

/**
 * @brief Called for each entry of a scan, in key order, under the read lock.
 * @param[in] arg   the caller's argument.
 * @param[in] key   the key's bytes (valid only during the call).
 * @param[in] klen  its length.
 * @param[in] val   the value's bytes (valid only during the call).
 * @param[in] vlen  its length.
 * @return 0 to go on, > 0 to stop the scan (bpt_scan() returns BPT_OK), < 0
 *         to stop with that status.
 */
typedef int (*bpt_visit_fn)(void *arg, const void *key, size_t klen, const void *val,
                            size_t vlen);

/**
 * @brief Visit entries in key order from a start key, under one read lock.
 * @param[in] t          the tree.
 * @param[in] key        the start key; NULL (with klen 0) for the first key.
 * @param[in] klen       its length.
 * @param[in] exclusive  start after @p key rather than at it.
 * @param[in] fn         called per entry until it returns non-zero or the keys end.
 * @param[in] arg        passed to @p fn.
 * @return BPT_OK, or the negative status @p fn returned.
 */
int bpt_scan(bpt_tree *t, const void *key, size_t klen, bool exclusive, bpt_visit_fn fn,
             void *arg);

/**
 * @brief The source of a bulk load: the next pair, in strictly ascending key order.
 * @param[in]  arg   the caller's argument.
 * @param[out] key   the key's bytes (must stay valid until the next call).
 * @param[out] klen  its length.
 * @param[out] val   the value's bytes.
 * @param[out] vlen  its length.
 * @return 1 for a pair, 0 at the end, < 0 to abort the load with that status.
 */
typedef int (*bpt_next_fn)(void *arg, const void **key, size_t *klen, const void **val,
                           size_t *vlen);

/**
 * @brief Build the tree bottom-up from sorted input: leaves filled to
 *        order-1 entries (the last two share what is left so both stay at
 *        least half full), then each inner level from the one below.
 *        O(n), one allocation per entry, no splits.
 * @param[in] t     an empty tree.
 * @param[in] next  the source.
 * @param[in] arg   passed to @p next.
 * @return BPT_OK; BPT_EINVAL (tree not empty, keys not strictly ascending,
 *         empty key); BPT_ETOOBIG; BPT_ENOMEM; or what @p next returned.
 *         On failure the tree is empty again.
 */
int bpt_bulk_load(bpt_tree *t, bpt_next_fn next, void *arg);

/**
 * @brief Fill counters (under the read lock).
 * @param[in]  t    the tree.
 * @param[out] out  the counters.
 */
void bpt_stats_get(bpt_tree *t, bpt_stats *out);

/** @brief Where bpt_check() found a problem. */
typedef struct bpt_check_report {
    const char *what; /**< the broken invariant, a static string (NULL when none) */
    unsigned level;   /**< depth of the node (0: the root) */
    uint64_t node;    /**< the node's position at that level, from the left (0-based) */
    unsigned slot;    /**< the slot inside the node */
} bpt_check_report;

/**
 * @brief Verify every invariant of the tree, under the read lock: keys in
 *        strictly ascending order inside every node and inside the bounds
 *        its ancestors' separators give; every node's fill between its
 *        minimum and order-1 keys; every leaf at the same depth (the
 *        height); the leaf chain (next and prev) visits exactly the leaves
 *        in key order, with NULL at both ends; the entry and byte counts
 *        and the node counts equal what the nodes hold; the inner prefix
 *        cache matches the separators; the leaf hash tags match the keys.
 * @param[in]  t    the tree.
 * @param[out] rep  where the first problem was found (may be NULL).
 * @return BPT_OK or BPT_ECORRUPT (in a starter kit, BPT_ENOTSUP until the
 *         walk is written).
 */
int bpt_check(bpt_tree *t, bpt_check_report *rep);

/**
 * @brief Where bpt_dot() writes: @p n bytes of text.
 * @param[in] arg  the caller's argument.
 * @param[in] s    the bytes (not NUL-terminated).
 * @param[in] n    how many.
 * @return 0, or non-zero to stop the printer (it then returns BPT_EINVAL).
 */
typedef int (*bpt_write_fn)(void *arg, const char *s, size_t n);

/**
 * @brief Print the tree as a Graphviz digraph (dot): one node per tree
 *        node, an HTML-like table of its keys (printable bytes as they are,
 *        HTML's special characters as entities, other bytes as \\xHH, long
 *        keys cut to 12 bytes and "..."), an edge
 *        per child pointer and a dashed edge per leaf `next` link. Node
 *        names are positions (n<level>_<index>), so the same tree always
 *        prints the same text. Runs under the read lock.
 * @param[in] t      the tree.
 * @param[in] title  the graph's label (NULL: none).
 * @param[in] w      the writer.
 * @param[in] arg    passed to @p w.
 * @return BPT_OK, or BPT_EINVAL when @p w failed.
 */
int bpt_dot(bpt_tree *t, const char *title, bpt_write_fn w, void *arg);

#ifdef __cplusplus
}
#endif
#endif /* BPT_H */
