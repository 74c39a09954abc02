/**
 * @file cow.h
 * @brief The copy-on-write B+ tree's own API (engine `cowbtree`): explicit
 *        transactions, read snapshots, cursors, verification.
 *
 * Through kv.h every put and delete of `cowbtree` is a transaction of its
 * own and every get reads the newest committed version. This header adds
 * what kv.h cannot say: several changes committed atomically, and read
 * snapshots that stay unchanged while writers commit (the Raft lab takes
 * its snapshots through them, as etcd does with bbolt).
 *
 * **Thread safety.** A cow_txn belongs to one thread at a time. Any number
 * of read transactions may be open at once (up to 256, then KV_EBUSY); one
 * write transaction at a time: cow_txn_begin() waits for the writer lock,
 * or returns KV_EBUSY at once with COW_TXN_NOWAIT. A second process (or a
 * second kv_open in this one) on the same directory gets KV_EBUSY from
 * kv_open.
 *
 * **Lifetimes.** Bytes returned by cow_txn_get() and by a cursor stay valid
 * until the transaction ends (a read transaction pins its snapshot; no page
 * it can see is reused). End every transaction before kv_close().
 *
 * The file format is docs/formats/cowbtree.md.
 */
#ifndef KVLABS_COW_H
#define KVLABS_COW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kvlabs/kv.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief A transaction (opaque). */
typedef struct cow_txn cow_txn;
/** @brief A cursor over one transaction's view (opaque to callers). */
typedef struct cow_cursor cow_cursor;

enum {
    COW_TXN_READ = 0,   /**< a read-only snapshot */
    COW_TXN_WRITE = 1,  /**< the (single) writer */
    COW_TXN_NOWAIT = 2  /**< with COW_TXN_WRITE: KV_EBUSY instead of waiting */
};

/**
 * @brief Begin a transaction on an open `cowbtree` instance.
 * @param[in]  db     an instance opened with engine "cowbtree".
 * @param[in]  flags  COW_TXN_READ, or COW_TXN_WRITE optionally | COW_TXN_NOWAIT.
 * @param[out] out    the transaction, set only on success.
 * @return KV_OK; KV_EINVAL (not a cowbtree instance, bad flags); KV_EBUSY
 *         (NOWAIT and another writer is active, or 256 readers are open);
 *         KV_ENOMEM.
 */
int cow_txn_begin(kv_db *db, unsigned flags, cow_txn **out);

/**
 * @brief Read a key as the transaction sees it (a writer sees its own writes).
 * @param[in]  t     the transaction.
 * @param[in]  key   klen bytes (1..max_key).
 * @param[in]  klen  the key's length.
 * @param[out] val   the value's bytes, valid until the transaction ends; may be NULL.
 * @param[out] vlen  its length; may be NULL.
 * @return KV_OK; KV_ENOTFOUND; KV_EINVAL; KV_ETOOBIG; KV_ECORRUPT; KV_EIO; KV_ENOMEM.
 */
int cow_txn_get(cow_txn *t, const void *key, size_t klen, const void **val, size_t *vlen);

/**
 * @brief Insert or overwrite in a write transaction.
 * @param t    the write transaction.
 * @param key  klen bytes (1..max_key).
 * @param klen the key's length.
 * @param val  vlen bytes (copied).
 * @param vlen the value's length.
 * @return KV_OK; KV_EINVAL (read transaction, empty key); KV_ETOOBIG;
 *         KV_ENOMEM, KV_EIO, KV_ECORRUPT (the transaction is then unchanged
 *         by this call and may go on or abort).
 */
int cow_txn_put(cow_txn *t, const void *key, size_t klen, const void *val, size_t vlen);

/**
 * @brief Delete in a write transaction.
 * @param t    the write transaction.
 * @param key  klen bytes.
 * @param klen the key's length.
 * @return KV_OK; KV_ENOTFOUND; KV_EINVAL; KV_ETOOBIG; KV_ENOMEM; KV_EIO; KV_ECORRUPT.
 */
int cow_txn_del(cow_txn *t, const void *key, size_t klen);

/**
 * @brief Commit (write) or end (read) the transaction and free it.
 *
 * A write commit appends one record to the commit log and publishes the new
 * root; with sync=always it returns after the log is fsynced (group commit:
 * one fsync covers every writer waiting at that moment).
 * @param[in] t  the transaction; freed even when the commit fails.
 * @return KV_OK; KV_EIO or KV_EFULL (the log write failed: nothing of the
 *         transaction is visible); KV_ENOMEM.
 */
int cow_txn_commit(cow_txn *t);

/**
 * @brief Abort: drop every change of a write transaction (or end a read
 *        transaction) and free it.
 * @param[in] t  the transaction, or NULL.
 */
void cow_txn_abort(cow_txn *t);

/**
 * @brief The transaction id the transaction reads (a writer: the id it will commit as).
 * @param t the transaction
 * @return its id
 */
uint64_t cow_txn_id(const cow_txn *t);

/**
 * @brief Open a cursor on a read transaction's snapshot (unpositioned).
 * @param[in]  t    a read transaction (a write transaction: KV_EINVAL).
 * @param[out] out  the cursor; close it before the transaction ends.
 * @return KV_OK; KV_EINVAL; KV_ENOMEM.
 */
int cow_cursor_open(cow_txn *t, cow_cursor **out);
/**
 * @brief Position on the first key >= key (klen 0: the first key).
 * @param c the cursor
 * @param key the key to seek
 * @param klen its length in bytes
 */
void cow_cursor_seek(cow_cursor *c, const void *key, size_t klen);
/**
 * @brief Whether the cursor is on a key.
 * @param c the cursor
 * @return true on a key, false past the end or after an error
 */
bool cow_cursor_valid(const cow_cursor *c);
/**
 * @brief Step to the next key.
 * @param c the cursor
 */
void cow_cursor_next(cow_cursor *c);
/**
 * @brief The current pair (valid until the transaction ends).
 * @param c the cursor, on a key
 * @param k gets the key
 * @param kl gets its length
 * @param v gets the value
 * @param vl gets its length
 */
void cow_cursor_get(const cow_cursor *c, const void **k, size_t *kl, const void **v, size_t *vl);
/**
 * @brief Whether an error ended the cursor.
 * @param c the cursor
 * @return KV_OK, or the error (KV_ECORRUPT, KV_EIO, KV_ENOMEM) that invalidated it
 */
int cow_cursor_status(const cow_cursor *c);
/**
 * @brief Free the cursor (NULL: nothing).
 * @param c the cursor
 */
void cow_cursor_close(cow_cursor *c);

/** @brief What cow_verify() reports. */
typedef struct cow_verify_report {
    uint64_t txnid;       /**< of the meta the store opened with */
    uint64_t pages;       /**< pages in the file */
    uint64_t tree_pages;  /**< pages reachable from the root */
    uint64_t keys;        /**< keys found by the walk */
    unsigned depth;       /**< tree height (0: empty) */
    int meta_a;           /**< status of meta page A (KV_OK or KV_ECORRUPT) */
    int meta_b;           /**< status of meta page B (KV_OK or KV_ECORRUPT) */
} cow_verify_report;

/**
 * @brief Check every page of the newest checkpoint on disk of a store
 *        that is not open: meta checksums, each reachable page's CRC, page
 *        numbers, key order inside pages and across separators, equal leaf
 *        depth, and the kept key count. Does not replay the log.
 * @param[in]  dir  the store's directory.
 * @param[out] r    filled as far as the walk got.
 * @param[out] why  a description of the first problem (may be NULL).
 * @param[in]  whylen  size of why.
 * @return KV_OK; KV_ECORRUPT; KV_EIO; KV_ENOTFOUND (no store there); KV_ENOMEM.
 */
int cow_verify(const char *dir, cow_verify_report *r, char *why, size_t whylen);

/**
 * @brief Print both meta pages and every page of the newest valid meta's
 *        tree (cells escaped as \\xNN outside printable ASCII) of a closed store.
 * @param[in] dir  the store's directory.
 * @param[in] out  where to print.
 * @return KV_OK; KV_ECORRUPT (no valid meta, or a bad page: printed up to it);
 *         KV_EIO; KV_ENOTFOUND; KV_ENOMEM.
 */
int cow_dump(const char *dir, FILE *out);

/**
 * @brief Print the commit log of a closed store: its generation, each
 *        record (offset, generation, txnid, operations) and how it ends
 *        (clean, or a torn tail that replay drops).
 * @param[in] dir  the store's directory.
 * @param[in] out  where to print.
 * @return KV_OK; KV_ECORRUPT (bad header); KV_EIO; KV_ENOTFOUND; KV_ENOMEM.
 */
int cow_logdump(const char *dir, FILE *out);

#ifdef __cplusplus
}
#endif
#endif /* KVLABS_COW_H */
