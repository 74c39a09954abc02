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
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rocksdb/c.h>

#include "kvlabs/alloc.h"
#include "kvlabs/engine.h"
#include "kvlabs/error.h"
#include "peer_common.h"

#define RDB_DEFAULT_CACHE (8u << 20)
#define RDB_INFO_LOG_WARN 2

struct rdb_db {
    kv_db base;
    rocksdb_t *db;
    rocksdb_options_t *opts;
    rocksdb_block_based_table_options_t *table;
    rocksdb_cache_t *cache;
    rocksdb_readoptions_t *ropts;
    rocksdb_writeoptions_t *wopts, *wopts_sync;
    char *path;
    kv_sync_mode sync;
    uint64_t sync_ms;
    _Atomic uint64_t last_sync_ms;
    pthread_mutex_t wlock; /* deletes; with exact_stats every write */
    bool exact;
    uint64_t keys, bytes; /* exact_stats only; under wlock */
};

struct rdb_iter {
    kv_iter base;
    struct rdb_db *l;
    rocksdb_iterator_t *it; /* NULL until positioned */
};

static const kv_opt_spec rdb_options[] = {
    {"bloom_bits", KV_OPT_UINT, "10", NULL, 0, 64, "Bloom filter bits per key (0: no filter)"},
    {"write_buffer", KV_OPT_SIZE, "4M", NULL, 64 << 10, 1 << 30,
     "memtable size before it is flushed to a table file"},
    {"compression", KV_OPT_ENUM, "none", "none|snappy|lz4|zstd", 0, 0, "block compression"},
    {"exact_stats", KV_OPT_BOOL, "false", NULL, 0, 0,
     "exact stats.keys/bytes (scan at open, a read before every write)"},
    {0},
};

static int rdb_fail(char *err, const char *what)
{
    int rc = kvpeer_fail_status("rocksdb", what, err);

    rocksdb_free(err);
    return rc;
}

/* Look a key up: *found and the value's length. */
static int rdb_lookup(struct rdb_db *l, const void *key, size_t klen, bool *found, size_t *vlen)
{
    char *err = NULL;
    rocksdb_pinnableslice_t *p;

    if (!rocksdb_key_may_exist(l->db, l->ropts, key, klen, NULL, NULL, NULL, 0, NULL)) {
        *found = false;
        return KV_OK;
    }
    p = rocksdb_get_pinned(l->db, l->ropts, key, klen, &err);
    if (err)
        return rdb_fail(err, "get");
    *found = p != NULL;
    if (p) {
        rocksdb_pinnableslice_value(p, vlen);
        rocksdb_pinnableslice_destroy(p);
    }
    return KV_OK;
}

static const rocksdb_writeoptions_t *rdb_wopts(struct rdb_db *l)
{
    if (l->sync == KV_SYNC_ALWAYS)
        return l->wopts_sync;
    if (l->sync == KV_SYNC_BATCH && kvpeer_sync_due(&l->last_sync_ms, l->sync_ms))
        return l->wopts_sync;
    return l->wopts;
}

static int rdb_sync_wal(struct rdb_db *l)
{
    char *err = NULL;

    rocksdb_flush_wal(l->db, 1, &err);
    if (err)
        return rdb_fail(err, "sync (FlushWAL)");
    atomic_store(&l->last_sync_ms, kvpeer_now_ms());
    return KV_OK;
}

static int rdb_scan(struct rdb_db *l)
{
    rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
    rocksdb_iterator_t *it;
    char *err = NULL;

    rocksdb_readoptions_set_fill_cache(ro, 0);
    it = rocksdb_create_iterator(l->db, ro);
    for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
        size_t kl, vl;
        rocksdb_iter_key(it, &kl);
        rocksdb_iter_value(it, &vl);
        l->keys++;
        l->bytes += kl + vl;
    }
    rocksdb_iter_get_error(it, &err);
    rocksdb_iter_destroy(it);
    rocksdb_readoptions_destroy(ro);
    return err ? rdb_fail(err, "counting keys at open") : KV_OK;
}

static void rdb_free(struct rdb_db *l)
{
    if (l->db)
        rocksdb_close(l->db);
    if (l->opts)
        rocksdb_options_destroy(l->opts);
    if (l->table)
        rocksdb_block_based_options_destroy(l->table);
    if (l->cache)
        rocksdb_cache_destroy(l->cache);
    if (l->ropts)
        rocksdb_readoptions_destroy(l->ropts);
    if (l->wopts)
        rocksdb_writeoptions_destroy(l->wopts);
    if (l->wopts_sync)
        rocksdb_writeoptions_destroy(l->wopts_sync);
    pthread_mutex_destroy(&l->wlock);
    kv_free(l->path);
    kv_free(l);
}

static int rdb_compression(int choice)
{
    static const int map[] = {rocksdb_no_compression, rocksdb_snappy_compression,
                              rocksdb_lz4_compression, rocksdb_zstd_compression};

    return choice >= 0 && choice < 4 ? map[choice] : rocksdb_no_compression;
}

static int rdb_open(const kv_open_args *a, kv_db **out)
{
    struct rdb_db *l;
    uint64_t cache = a->common->cache ? a->common->cache : RDB_DEFAULT_CACHE;
    unsigned bloom = (unsigned)kv_opts_u64(a->opts, "bloom_bits");
    char *err = NULL;
    int rc = kvpeer_prepare_dir(a, "rocksdb");

    if (rc != KV_OK)
        return rc;
    l = kv_calloc(1, sizeof(*l));
    if (!l)
        return kv_fail(KV_ENOMEM, "rocksdb: out of memory");
    pthread_mutex_init(&l->wlock, NULL);
    l->path = kv_strdup(a->path);
    l->sync = a->common->sync;
    l->sync_ms = a->common->sync_ms;
    atomic_init(&l->last_sync_ms, kvpeer_now_ms());
    l->exact = kv_opts_bool(a->opts, "exact_stats");
    if (!l->path) {
        rdb_free(l);
        return kv_fail(KV_ENOMEM, "rocksdb: out of memory");
    }

    l->opts = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(l->opts, 1);
    rocksdb_options_set_write_buffer_size(l->opts, (size_t)kv_opts_u64(a->opts, "write_buffer"));
    rocksdb_options_set_compression(l->opts, rdb_compression(kv_opts_enum(a->opts, "compression")));
    rocksdb_options_set_info_log_level(l->opts, RDB_INFO_LOG_WARN);
    rocksdb_options_set_keep_log_file_num(l->opts, 1);
    l->table = rocksdb_block_based_options_create();
    l->cache = rocksdb_cache_create_lru((size_t)cache);
    rocksdb_block_based_options_set_block_cache(l->table, l->cache);
    if (bloom) /* the table options take ownership of the policy */
        rocksdb_block_based_options_set_filter_policy(
            l->table, rocksdb_filterpolicy_create_bloom_full((double)bloom));
    rocksdb_options_set_block_based_table_factory(l->opts, l->table);
    l->ropts = rocksdb_readoptions_create();
    l->wopts = rocksdb_writeoptions_create();
    l->wopts_sync = rocksdb_writeoptions_create();
    rocksdb_writeoptions_set_sync(l->wopts_sync, 1);

    l->db = rocksdb_open(l->opts, a->path, &err);
    if (err) {
        rc = rdb_fail(err, "open");
        rdb_free(l);
        return rc;
    }
    if (l->exact && (rc = rdb_scan(l)) != KV_OK) {
        rdb_free(l);
        return rc;
    }
    l->base.caps = KV_CAP_ORDERED | KV_CAP_DURABLE;
    *out = &l->base;
    return KV_OK;
}

static int rdb_close(kv_db *db)
{
    struct rdb_db *l = (struct rdb_db *)db;
    int rc = rdb_sync_wal(l);

    rdb_free(l);
    return rc;
}

static int rdb_put(kv_db *db, const void *key, size_t klen, const void *val, size_t vlen)
{
    struct rdb_db *l = (struct rdb_db *)db;
    bool found = false;
    size_t old = 0;
    char *err = NULL;
    int rc;

    if (!l->exact) {
        rocksdb_put(l->db, rdb_wopts(l), key, klen, val, vlen, &err);
        return err ? rdb_fail(err, "put") : KV_OK;
    }
    pthread_mutex_lock(&l->wlock);
    rc = rdb_lookup(l, key, klen, &found, &old);
    if (rc == KV_OK) {
        rocksdb_put(l->db, rdb_wopts(l), key, klen, val, vlen, &err);
        if (err)
            rc = rdb_fail(err, "put");
    }
    if (rc == KV_OK) {
        if (found) {
            l->bytes -= klen + old;
            l->keys--;
        }
        l->keys++;
        l->bytes += klen + vlen;
    }
    pthread_mutex_unlock(&l->wlock);
    return rc;
}

static int rdb_get(kv_db *db, const void *key, size_t klen, kv_buf *val)
{
    struct rdb_db *l = (struct rdb_db *)db;
    char *err = NULL;
    rocksdb_pinnableslice_t *p = rocksdb_get_pinned(l->db, l->ropts, key, klen, &err);
    int rc = KV_OK;

    if (err)
        return rdb_fail(err, "get");
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

static int rdb_del(kv_db *db, const void *key, size_t klen)
{
    struct rdb_db *l = (struct rdb_db *)db;
    bool found = false;
    size_t old = 0;
    char *err = NULL;
    int rc;

    pthread_mutex_lock(&l->wlock);
    rc = rdb_lookup(l, key, klen, &found, &old);
    if (rc == KV_OK && !found)
        rc = kv_fail(KV_ENOTFOUND, "rocksdb: key not found");
    if (rc == KV_OK) {
        rocksdb_delete(l->db, rdb_wopts(l), key, klen, &err);
        if (err)
            rc = rdb_fail(err, "delete");
    }
    if (rc == KV_OK && l->exact) {
        l->keys--;
        l->bytes -= klen + old;
    }
    pthread_mutex_unlock(&l->wlock);
    return rc;
}

static int rdb_sync(kv_db *db)
{
    return rdb_sync_wal((struct rdb_db *)db);
}

static uint64_t rdb_prop(struct rdb_db *l, const char *name)
{
    char *s = rocksdb_property_value(l->db, name);
    uint64_t v = s ? strtoull(s, NULL, 10) : 0;

    rocksdb_free(s);
    return v;
}

static int rdb_stats(kv_db *db, kv_stats *out)
{
    struct rdb_db *l = (struct rdb_db *)db;
    static const char *const level_names[] = {"files_L0", "files_L1", "files_L2", "files_L3",
                                              "files_L4", "files_L5", "files_L6"};

    if (l->exact) {
        pthread_mutex_lock(&l->wlock);
        out->keys = l->keys;
        out->bytes = l->bytes;
        pthread_mutex_unlock(&l->wlock);
    }
    out->mem_bytes = rdb_prop(l, "rocksdb.cur-size-all-mem-tables") +
                     (uint64_t)rocksdb_cache_get_usage(l->cache);
    kvpeer_extra(out, "estimate_num_keys", (double)rdb_prop(l, "rocksdb.estimate-num-keys"));
    kvpeer_extra(out, "estimate_live_data_size",
                 (double)rdb_prop(l, "rocksdb.estimate-live-data-size"));
    for (int lv = 0; lv < 7; lv++) {
        char name[64];
        snprintf(name, sizeof(name), "rocksdb.num-files-at-level%d", lv);
        kvpeer_extra(out, level_names[lv], (double)rdb_prop(l, name));
    }
    return kvpeer_dir_bytes(db->env, l->path, &out->disk_bytes);
}

/* ---- iterators ---------------------------------------------------------- */

static int rdb_iter_open(kv_db *db, kv_iter **out)
{
    struct rdb_iter *it = kv_calloc(1, sizeof(*it));

    if (!it)
        return kv_fail(KV_ENOMEM, "rocksdb: out of memory for an iterator");
    it->l = (struct rdb_db *)db;
    *out = &it->base;
    return KV_OK;
}

/* Each positioning starts a new iteration on a fresh snapshot. */
static rocksdb_iterator_t *rdb_iter_fresh(struct rdb_iter *it)
{
    if (it->it)
        rocksdb_iter_destroy(it->it);
    it->it = rocksdb_create_iterator(it->l->db, it->l->ropts);
    return it->it;
}

static void rdb_iter_first(kv_iter *base)
{
    rocksdb_iter_seek_to_first(rdb_iter_fresh((struct rdb_iter *)base));
}

static void rdb_iter_seek(kv_iter *base, const void *key, size_t klen)
{
    rocksdb_iterator_t *i = rdb_iter_fresh((struct rdb_iter *)base);

    if (klen)
        rocksdb_iter_seek(i, key, klen);
    else
        rocksdb_iter_seek_to_first(i);
}

static bool rdb_iter_valid(const kv_iter *base)
{
    const struct rdb_iter *it = (const struct rdb_iter *)base;

    return it->it && rocksdb_iter_valid(it->it);
}

static void rdb_iter_next(kv_iter *base)
{
    rocksdb_iter_next(((struct rdb_iter *)base)->it);
}

static void rdb_iter_key(const kv_iter *base, const void **k, size_t *n)
{
    *k = rocksdb_iter_key(((const struct rdb_iter *)base)->it, n);
}

static void rdb_iter_value(const kv_iter *base, const void **v, size_t *n)
{
    *v = rocksdb_iter_value(((const struct rdb_iter *)base)->it, n);
}

static int rdb_iter_status(const kv_iter *base)
{
    const struct rdb_iter *it = (const struct rdb_iter *)base;
    char *err = NULL;

    if (!it->it)
        return KV_OK;
    rocksdb_iter_get_error(it->it, &err);
    return err ? rdb_fail(err, "iterator") : KV_OK;
}

static void rdb_iter_close(kv_iter *base)
{
    struct rdb_iter *it = (struct rdb_iter *)base;

    if (it->it)
        rocksdb_iter_destroy(it->it);
    kv_free(it);
}

const kv_engine_ops kv_engine_rocksdb = {
    .name = "rocksdb",
    .summary = "peer: Meta RocksDB 7.8 (LSM tree) through its C API",
    .caps = KV_CAP_ORDERED | KV_CAP_DURABLE,
    .options = rdb_options,
    .default_max_key = 64u << 10,
    .limit_max_key = 16u << 20,
    .default_max_value = 64u << 20,
    .limit_max_value = 1u << 30,
    .open = rdb_open,
    .close = rdb_close,
    .put = rdb_put,
    .get = rdb_get,
    .del = rdb_del,
    .sync = rdb_sync,
    .stats = rdb_stats,
    .iter_open = rdb_iter_open,
    .iter_first = rdb_iter_first,
    .iter_seek = rdb_iter_seek,
    .iter_valid = rdb_iter_valid,
    .iter_next = rdb_iter_next,
    .iter_key = rdb_iter_key,
    .iter_value = rdb_iter_value,
    .iter_status = rdb_iter_status,
    .iter_close = rdb_iter_close,
};
