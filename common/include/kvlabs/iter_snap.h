/**
 * @file iter_snap.h
 * @brief The copy iterator: KV_CAP_SCAN for an unordered engine in a few lines.
 *
 * For implementers of engines. An unordered engine (a hash table, a keydir,
 * a shared-memory table) has no key order to walk, but kv.h's KV_CAP_SCAN
 * asks only that every key present and unchanged for the whole iteration
 * be visited once, in any order. This module gives that from one engine
 * callback: at kv_iter_first() it calls the engine's `fill` function, which
 * copies the entries into the iterator with kv_snap_add() (shard by shard,
 * each shard under its lock, is enough: a key lives in one shard); the
 * cursor then walks the copy. A key present and unchanged throughout is in
 * the copy exactly once; keys written meanwhile may or may not be.
 *
 * With `values_by_get`, `fill` adds keys only and each value is read with
 * the engine's own get when the cursor lands on its key (for an engine
 * whose values live on disk, such as Bitcask: the copy then holds keys
 * alone); a key deleted since the copy is skipped.
 *
 * Memory: the copy holds every key (and value, without values_by_get) at
 * once, through kv_malloc. That is the price of needing no cooperation
 * from the engine's writers; it suits kvctl's listing and snapshots, not
 * a scan of a store larger than memory.
 *
 * An engine sets its iterator members to the kv_snap_iter_* functions below
 * and its iter_open to a one-line call of kv_snap_iter_open(). Seek is the
 * front end's business (KV_ENOTSUP on an unordered engine): leave iter_seek
 * NULL. Thread safety: one iterator is used by one thread at a time.
 */
#ifndef KVLABS_ITER_SNAP_H
#define KVLABS_ITER_SNAP_H

#include <stdbool.h>
#include <stddef.h>

#include "kvlabs/engine.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief The copy iterator (its first member is the front end's kv_iter). */
typedef struct kv_snap_iter kv_snap_iter;

/**
 * @brief The engine's copy function, called at every kv_iter_first().
 * @param[in] db  the engine instance.
 * @param[in] s   the iterator: add each entry with kv_snap_add().
 * @return KV_OK, or the failure (with kv_fail()) that makes the iterator invalid.
 */
typedef int (*kv_snap_fill_fn)(kv_db *db, kv_snap_iter *s);

/**
 * @brief Open an unpositioned copy iterator (an engine's iter_open).
 * @param[in]  db             the instance.
 * @param[in]  fill           copies the entries (see kv_snap_fill_fn).
 * @param[in]  values_by_get  fill adds keys only; values come from the engine's get.
 * @param[out] out            the iterator, set only on success.
 * @return KV_OK; KV_ENOMEM.
 */
int kv_snap_iter_open(kv_db *db, kv_snap_fill_fn fill, bool values_by_get, kv_iter **out);

/**
 * @brief Add one entry to the copy (from the fill function).
 * @param[in] s     the iterator.
 * @param[in] key   klen bytes, copied.
 * @param[in] klen  its length.
 * @param[in] val   vlen bytes, copied (ignored with values_by_get).
 * @param[in] vlen  its length.
 * @return KV_OK; KV_ENOMEM (kv_fail detail set; the copy is unchanged).
 */
int kv_snap_add(kv_snap_iter *s, const void *key, size_t klen, const void *val, size_t vlen);

/** @brief An engine's iter_first: copy the entries afresh, go to the first. @param[in] it the iterator. */
void kv_snap_iter_first(kv_iter *it);
/** @brief An engine's iter_valid. @param[in] it the iterator. @return whether on an entry. */
bool kv_snap_iter_valid(const kv_iter *it);
/** @brief An engine's iter_next. @param[in] it a valid iterator. */
void kv_snap_iter_next(kv_iter *it);
/**
 * @brief An engine's iter_key.
 * @param[in] it a valid iterator. @param[out] k the key. @param[out] n its length.
 */
void kv_snap_iter_key(const kv_iter *it, const void **k, size_t *n);
/**
 * @brief An engine's iter_value.
 * @param[in] it a valid iterator. @param[out] v the value. @param[out] n its length.
 */
void kv_snap_iter_value(const kv_iter *it, const void **v, size_t *n);
/** @brief An engine's iter_status. @param[in] it the iterator. @return KV_OK or the failure. */
int kv_snap_iter_status(const kv_iter *it);
/** @brief An engine's iter_close. @param[in] it the iterator (freed). */
void kv_snap_iter_close(kv_iter *it);

/**
 * @brief The copy iterator's members of an engine's ops table, after its own
 *        iter_open: `.iter_open = my_iter_open, KV_SNAP_ITER_OPS,`.
 */
#define KV_SNAP_ITER_OPS                                                                           \
    .iter_first = kv_snap_iter_first, .iter_valid = kv_snap_iter_valid,                            \
    .iter_next = kv_snap_iter_next, .iter_key = kv_snap_iter_key,                                  \
    .iter_value = kv_snap_iter_value, .iter_status = kv_snap_iter_status,                          \
    .iter_close = kv_snap_iter_close

#ifdef __cplusplus
}
#endif

#endif /* KVLABS_ITER_SNAP_H */
