/*
 * peer_leveldb.c — peer engine "leveldb": Google's LevelDB (1.23) behind the
 * kvlabs contract, through its C API (leveldb/c.h).
 *
 * What this is. An adapter, not an engine: kvbench runs it beside the
 * course's LSM tree so the report can say "our LSM does X, the library it
 * imitates does Y" from one run. The adapter adds as little as possible:
 * every kv_* call becomes one LevelDB call (delete: two, see below), and the
 * settings are the ones people use, made equal across the peers where a
 * knob exists in several of them.
 *
 * Settings (options of this engine; the README's table lists every peer's):
 *
 *   cache=        (common key) LRU block cache; default 8M (cache=0 or unset)
 *   bloom_bits=10 Bloom filter bits per key (0: no filter)
 *   write_buffer=4M  memtable size before it is written out as a table
 *   compression=none|snappy   default none, so every engine in the report
 *                 stores the same bytes (the course engines do not compress)
 *   exact_stats=false  see "Counters" below
 *   create_if_missing is always on; paranoid_checks off (LevelDB's default);
 *   every read verifies block checksums (ReadOptions.verify_checksums, as
 *   RocksDB does by default), so a damaged table gives KV_ECORRUPT.
 *
 * Durability. sync=always: every write is a LevelDB sync write (the log is
 * fsynced before the write returns). sync=none: LevelDB's default, the log
 * record reaches the OS (write(2)) before the write returns, so a kill -9
 * loses nothing; kv_sync() then writes an empty batch with sync=true, which
 * appends a 12-byte record and fsyncs the log, making every earlier write
 * durable (LevelDB has no "sync the log" call). sync=batch: a write that
 * arrives sync_ms or more after the last sync is itself a sync write.
 * kv_close() does the same synced empty write before leveldb_close (which
 * does not sync). Caveat, LevelDB's own: it fsyncs the directory only for
 * its MANIFEST, not after creating a new log file, so a power cut (not a
 * kill -9) just after a memtable switch may lose the newest synced writes.
 *
 * Deletes. kv_delete must say KV_ENOTFOUND for an absent key, and LevelDB's
 * Delete writes a tombstone without looking. So a delete is a Get then a
 * Delete, under the adapter's write lock so that two concurrent deletes of
 * one key cannot both answer KV_OK. Puts take no lock (LevelDB serialises
 * writers itself) unless exact_stats is on.
 *
 * Counters. LevelDB does not know how many keys it holds. By default
 * kv_stats.keys and .bytes stay 0 (kvlabs' rule: a counter an engine does
 * not keep is 0). exact_stats=true makes them exact: open scans the whole
 * store once to count, and every put also does a Get first to learn the old
 * value's size, all writes under the write lock. That costs a read per
 * write, so it is for the conformance suite (which demands exact counts),
 * not for benchmarks. mem_bytes is LevelDB's "approximate-memory-usage"
 * (memtables and block cache); disk_bytes is the directory's size.
 *
 * I/O and the env. LevelDB does its own file I/O through its own Env. The
 * kvlabs env never sees it: kv_stats.io_* stay 0, and this peer refuses any
 * env but POSIX (KV_ENOTSUP), so the fault-env crash and corruption cases
 * of the conformance suite do not apply. disk_bytes is read by listing the
 * directory through the POSIX env.
 *
 * Errors. LevelDB reports a status string; "Corruption: ..." is KV_ECORRUPT,
 * a held LOCK file (a second opener, in this process or another) KV_EBUSY,
 * ENOSPC KV_EFULL, the rest KV_EIO, with LevelDB's text as the detail.
 *
 * Iterators are LevelDB iterators, which read the implicit snapshot taken
 * when they are created. kv_iter_first and kv_iter_seek create a new one
 * each time (an unpositioned kvlabs iterator holds none), so every
 * positioning starts a fresh iteration that sees every write acknowledged
 * before it; kv_iter_next stays in that snapshot. Writes from any thread,
 * the iterating one included, never block an iterator, and a key deleted or
 * overwritten after the positioning is still returned as it was (the
 * contract's "keys written meanwhile may or may not appear"). Key and value
 * pointers point into the iterator and stay valid until the next move.
 *
 * Limits: keys up to 16 MiB (default 64 KiB), values up to 1 GiB (default
 * 64 MiB); LevelDB itself has no smaller limit (its block format stores
 * lengths as varint32).
 *
 * The code it shares with peer_rocksdb.c (options, open and close, the
 * write paths, counters, iterators) is peer_lsm_adapter.h, written against
 * the library prefix; this file keeps what is LevelDB's own: its Bloom
 * filter policy in the options, the lookup through leveldb_get, the
 * log sync by a synced empty batch, and the memory property.
 */
#include <leveldb/c.h>

#define LSMP_LIB          leveldb
#define LSMP_NAME         "leveldb"
#define LSMP_COMPRESSIONS "none|snappy"
#define LSMP_DB_EXTRA     leveldb_filterpolicy_t *filter;
#include "peer_lsm_adapter.h"

static void lsmp_configure(struct lsmp_db *l, const kv_open_args *a, unsigned bloom)
{
    leveldb_options_set_compression(l->opts, kv_opts_enum(a->opts, "compression") == 1
                                                 ? leveldb_snappy_compression
                                                 : leveldb_no_compression);
    leveldb_options_set_cache(l->opts, l->cache);
    if (bloom) {
        l->filter = leveldb_filterpolicy_create_bloom((int)bloom);
        leveldb_options_set_filter_policy(l->opts, l->filter);
    }
}

static void lsmp_free_extra(struct lsmp_db *l)
{
    if (l->filter)
        leveldb_filterpolicy_destroy(l->filter);
}

/* Look a key up: *found, and its value (malloc'd by LevelDB) in *v if v. */
static int ldb_lookup(struct lsmp_db *l, const void *key, size_t klen, bool *found, size_t *vlen,
                      char **v)
{
    char *err = NULL;
    char *p = leveldb_get(l->db, l->ropts, key, klen, vlen, &err);

    if (err)
        return lsmp_fail(err, "get");
    *found = p != NULL;
    if (v)
        *v = p;
    else
        leveldb_free(p);
    return KV_OK;
}

static int lsmp_lookup(struct lsmp_db *l, const void *key, size_t klen, bool *found,
                       size_t *vlen)
{
    return ldb_lookup(l, key, klen, found, vlen, NULL);
}

static int lsmp_get_value(struct lsmp_db *l, const void *key, size_t klen, kv_buf *val)
{
    bool found = false;
    size_t vlen = 0;
    char *v = NULL;
    int rc = ldb_lookup(l, key, klen, &found, &vlen, &v);

    if (rc != KV_OK)
        return rc;
    if (!found)
        return kv_fail(KV_ENOTFOUND, "leveldb: key not found");
    if (val)
        rc = kv_buf_set(val, v, vlen);
    leveldb_free(v);
    return rc;
}

/* A synced empty batch: fsyncs the log, so every earlier write is durable. */
static int lsmp_sync_log(struct lsmp_db *l)
{
    leveldb_writebatch_t *b = leveldb_writebatch_create();
    char *err = NULL;

    leveldb_write(l->db, l->wopts_sync, b, &err);
    leveldb_writebatch_destroy(b);
    if (err)
        return lsmp_fail(err, "sync");
    atomic_store(&l->last_sync_ms, kvpeer_now_ms());
    return KV_OK;
}

static void lsmp_stats_extra(struct lsmp_db *l, kv_stats *out)
{
    out->mem_bytes = lsmp_prop(l, "leveldb.approximate-memory-usage");
}

const kv_engine_ops kv_engine_leveldb = {
    .name = "leveldb",
    .summary = "peer: Google LevelDB 1.23 (LSM tree) through its C API",
    .default_max_key = 64u << 10,
    .limit_max_key = 16u << 20,
    .default_max_value = 64u << 20,
    .limit_max_value = 1u << 30,
    LSMP_ENGINE_OPS,
};
