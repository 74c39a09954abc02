/*
 * peer_rocksdb.c — peer engine "rocksdb": Meta's RocksDB (7.8) behind the
 * kvlabs contract, through its C API (rocksdb/c.h).
 *
 * What this is. An adapter beside peer_leveldb.c, written the same way so
 * the two LSM libraries compare like for like: the same knobs with the same
 * defaults where both have them, every kv_* call one RocksDB call (delete:
 * a lookup then a Delete, see below).
 *
 * Settings (options of this engine; the README's table lists every peer's):
 *
 *   cache=        (common key) LRU block cache; default 8M (cache=0 or unset)
 *   bloom_bits=10 full Bloom filter bits per key, in the block-based table
 *                 options (0: no filter)
 *   write_buffer=4M  memtable size (RocksDB's own default is 64M; 4M matches
 *                 LevelDB's so the two flush and compact alike)
 *   compression=none|snappy|lz4|zstd   default none (like for like: the
 *                 course engines do not compress)
 *   exact_stats=false  see "Counters"
 *   create_if_missing on; everything else RocksDB's defaults (level
 *   compaction, 2 background jobs, checksums verified on reads); its info
 *   LOG is kept at WARN level, one file.
 *
 * Durability. sync=always: every write has WriteOptions.sync (WAL fsynced
 * before it returns). sync=none: RocksDB's default, the WAL record reaches
 * the OS before the write returns (kill -9 loses nothing); kv_sync() is
 * rocksdb_flush_wal(db, sync=1), i.e. DB::FlushWAL(true) → SyncWAL(), which
 * fsyncs the live WAL files (and the WAL directory when a new WAL was
 * created). sync=batch: a write arriving sync_ms or more after the last
 * sync is itself a sync write. kv_close() syncs the WAL before closing.
 *
 * Deletes. kv_delete must say KV_ENOTFOUND for an absent key; RocksDB's
 * Delete does not look. So a delete first asks KeyMayExist (memtable and
 * Bloom filters: a "no" is certain and cheap), then, when that says maybe,
 * a real Get, then Delete, all under the adapter's write lock so two
 * concurrent deletes of one key cannot both answer KV_OK. Puts take no lock
 * unless exact_stats is on.
 *
 * Counters. RocksDB only estimates its key count; that estimate is given
 * as the extra counter "estimate_num_keys", while kv_stats.keys and .bytes
 * stay 0 by default. exact_stats=true makes them exact at a cost (a scan at
 * open, a Get before every put, all writes under the write lock): for the
 * conformance suite, not for benchmarks. mem_bytes = memtables + block
 * cache usage; disk_bytes = the directory's size (SST, WAL, MANIFEST,
 * OPTIONS and LOG files).
 *
 * I/O and the env. RocksDB does its own file I/O; the kvlabs env never sees
 * it (kv_stats.io_* stay 0) and this peer refuses any env but POSIX
 * (KV_ENOTSUP), so the fault-env cases of the conformance suite do not
 * apply. disk_bytes is read by listing the directory through the POSIX env.
 *
 * Errors: "Corruption: ..." is KV_ECORRUPT, a held LOCK file (a second
 * opener) KV_EBUSY, ENOSPC KV_EFULL, the rest KV_EIO, RocksDB's text as the
 * detail.
 *
 * Iterators are RocksDB iterators on the implicit snapshot taken when they
 * are created; kv_iter_first and kv_iter_seek create a new one each time
 * (the C API of 7.8 has no Refresh), so every positioning starts a fresh
 * iteration that sees every write acknowledged before it, and kv_iter_next
 * stays in that snapshot. Writes never block an iterator nor change what it
 * returns (a key deleted after the positioning is still returned: "keys
 * written meanwhile may or may not appear"); pointers stay valid until the
 * next move.
 *
 * Limits: keys up to 16 MiB (default 64 KiB), values up to 1 GiB (default
 * 64 MiB); RocksDB rejects only sizes of 4 GiB and more.
 *
 * The code it shares with peer_leveldb.c (options, open and close, the
 * write paths, counters, iterators) is peer_lsm_adapter.h, written against
 * the library prefix; this file keeps what is RocksDB's own: the
 * block-based table options (cache, full Bloom filter), the lookup through
 * KeyMayExist and pinned gets, FlushWAL, and the memory properties.
 */
#include <rocksdb/c.h>

#define RDB_INFO_LOG_WARN 2

#define LSMP_LIB          rocksdb
#define LSMP_NAME         "rocksdb"
#define LSMP_COMPRESSIONS "none|snappy|lz4|zstd"
#define LSMP_DB_EXTRA     rocksdb_block_based_table_options_t *table;
#include "peer_lsm_adapter.h"

static int rdb_compression(int choice)
{
    static const int map[] = {rocksdb_no_compression, rocksdb_snappy_compression,
                              rocksdb_lz4_compression, rocksdb_zstd_compression};

    return choice >= 0 && choice < 4 ? map[choice] : rocksdb_no_compression;
}

static void lsmp_configure(struct lsmp_db *l, const kv_open_args *a, unsigned bloom)
{
    rocksdb_options_set_compression(l->opts, rdb_compression(kv_opts_enum(a->opts, "compression")));
    rocksdb_options_set_info_log_level(l->opts, RDB_INFO_LOG_WARN);
    rocksdb_options_set_keep_log_file_num(l->opts, 1);
    l->table = rocksdb_block_based_options_create();
    rocksdb_block_based_options_set_block_cache(l->table, l->cache);
    if (bloom) /* the table options take ownership of the policy */
        rocksdb_block_based_options_set_filter_policy(
            l->table, rocksdb_filterpolicy_create_bloom_full((double)bloom));
    rocksdb_options_set_block_based_table_factory(l->opts, l->table);
}

static void lsmp_free_extra(struct lsmp_db *l)
{
    if (l->table)
        rocksdb_block_based_options_destroy(l->table);
}

static int lsmp_lookup(struct lsmp_db *l, const void *key, size_t klen, bool *found,
                       size_t *vlen)
{
    char *err = NULL;
    rocksdb_pinnableslice_t *p;

    if (!rocksdb_key_may_exist(l->db, l->ropts, key, klen, NULL, NULL, NULL, 0, NULL)) {
        *found = false;
        return KV_OK;
    }
    p = rocksdb_get_pinned(l->db, l->ropts, key, klen, &err);
    if (err)
        return lsmp_fail(err, "get");
    *found = p != NULL;
    if (p) {
        rocksdb_pinnableslice_value(p, vlen);
        rocksdb_pinnableslice_destroy(p);
    }
    return KV_OK;
}

static int lsmp_get_value(struct lsmp_db *l, const void *key, size_t klen, kv_buf *val)
{
    char *err = NULL;
    rocksdb_pinnableslice_t *p = rocksdb_get_pinned(l->db, l->ropts, key, klen, &err);
    int rc = KV_OK;

    if (err)
        return lsmp_fail(err, "get");
    if (!p)
        return kv_fail(KV_ENOTFOUND, "rocksdb: key not found");
    if (val) {
        size_t vlen;
        const char *v = rocksdb_pinnableslice_value(p, &vlen);
        rc = kv_buf_set(val, v, vlen);
    }
    rocksdb_pinnableslice_destroy(p);
    return rc;
}

/* FlushWAL(true): fsyncs the live WAL files, so every earlier write is durable. */
static int lsmp_sync_log(struct lsmp_db *l)
{
    char *err = NULL;

    rocksdb_flush_wal(l->db, 1, &err);
    if (err)
        return lsmp_fail(err, "sync (FlushWAL)");
    atomic_store(&l->last_sync_ms, kvpeer_now_ms());
    return KV_OK;
}

static void lsmp_stats_extra(struct lsmp_db *l, kv_stats *out)
{
    out->mem_bytes = lsmp_prop(l, "rocksdb.cur-size-all-mem-tables") +
                     (uint64_t)rocksdb_cache_get_usage(l->cache);
    kvpeer_extra(out, "estimate_num_keys", (double)lsmp_prop(l, "rocksdb.estimate-num-keys"));
    kvpeer_extra(out, "estimate_live_data_size",
                 (double)lsmp_prop(l, "rocksdb.estimate-live-data-size"));
}

const kv_engine_ops kv_engine_rocksdb = {
    .name = "rocksdb",
    .summary = "peer: Meta RocksDB 7.8 (LSM tree) through its C API",
    .default_max_key = 64u << 10,
    .limit_max_key = 16u << 20,
    .default_max_value = 64u << 20,
    .limit_max_value = 1u << 30,
    LSMP_ENGINE_OPS,
};
