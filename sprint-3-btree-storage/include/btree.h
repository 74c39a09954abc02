/**
 * @file btree.h
 * @brief Engine `btree` (sprint 3): what other parts and labs use beyond kv.h.
 *
 * The engine is opened through kv.h like any other
 * (`kv_open("btree", NULL, "order=64", &db)`). Tools that need the tree
 * itself — `kvctl dot` to draw it, the benchmarks to bulk-load it — get it
 * from an open instance with btree_engine_tree() and call the core
 * (bpt.h) directly: bpt_dot(), bpt_check(), bpt_bulk_load(), bpt_stats_get().
 */
#ifndef BTREE_H
#define BTREE_H

#include "bpt.h"
#include "kvlabs/kv.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief The core tree behind an open `btree` instance.
 * @param[in] db  an open instance of any engine.
 * @return the tree (owned by @p db, valid until kv_close()), or NULL when
 *         @p db is not a `btree` instance.
 */
bpt_tree *btree_engine_tree(kv_db *db);

#ifdef __cplusplus
}
#endif
#endif /* BTREE_H */
