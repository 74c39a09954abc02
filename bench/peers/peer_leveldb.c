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
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <leveldb/c.h>

#include "kvlabs/alloc.h"
#include "kvlabs/engine.h"
#include "kvlabs/error.h"
#include "peer_common.h"

#define LDB_DEFAULT_CACHE (8u << 20)

struct ldb_db {
    kv_db base;
    leveldb_t *db;
    leveldb_options_t *opts;
    leveldb_cache_t *cache;
    leveldb_filterpolicy_t *filter;
    leveldb_readoptions_t *ropts;
    leveldb_writeoptions_t *wopts, *wopts_sync;
    char *path;
    kv_sync_mode sync;
    uint64_t sync_ms;
    _Atomic uint64_t last_sync_ms;
    pthread_mutex_t wlock; /* deletes; with exact_stats every write */
    bool exact;
    uint64_t keys, bytes; /* exact_stats only; under wlock */
};

struct ldb_iter {
    kv_iter base;
    struct ldb_db *l;
    leveldb_iterator_t *it; /* NULL until positioned */
};

static const kv_opt_spec ldb_options[] = {
    {"bloom_bits", KV_OPT_UINT, "10", NULL, 0, 64, "Bloom filter bits per key (0: no filter)"},
    {"write_buffer", KV_OPT_SIZE, "4M", NULL, 64 << 10, 1 << 30,
     "memtable size before it is flushed to a table file"},
    {"compression", KV_OPT_ENUM, "none", "none|snappy", 0, 0, "block compression"},
    {"exact_stats", KV_OPT_BOOL, "false", NULL, 0, 0,
     "exact stats.keys/bytes (scan at open, a read before every write)"},
    {0},
};

/* Map a LevelDB error string, free it, set the detail; returns the code. */
static int ldb_fail(char *err, const char *what)
{
    int rc = kvpeer_fail_status("leveldb", what, err);

    leveldb_free(err);
    return rc;
}

/* Look a key up: *found, and its value (malloc'd by LevelDB) in *v if v. */
static int ldb_lookup(struct ldb_db *l, const void *key, size_t klen, bool *found, size_t *vlen,
                      char **v)
{
    char *err = NULL;
    char *p = leveldb_get(l->db, l->ropts, key, klen, vlen, &err);

    if (err)
        return ldb_fail(err, "get");
    *found = p != NULL;
    if (v)
        *v = p;
    else
        leveldb_free(p);
    return KV_OK;
}

static const leveldb_writeoptions_t *ldb_wopts(struct ldb_db *l)
{
    if (l->sync == KV_SYNC_ALWAYS)
        return l->wopts_sync;
    if (l->sync == KV_SYNC_BATCH && kvpeer_sync_due(&l->last_sync_ms, l->sync_ms))
        return l->wopts_sync;
    return l->wopts;
}

/* A synced empty batch: fsyncs the log, so every earlier write is durable. */
static int ldb_sync_log(struct ldb_db *l)
{
    leveldb_writebatch_t *b = leveldb_writebatch_create();
    char *err = NULL;

    leveldb_write(l->db, l->wopts_sync, b, &err);
    leveldb_writebatch_destroy(b);
    if (err)
        return ldb_fail(err, "sync");
    atomic_store(&l->last_sync_ms, kvpeer_now_ms());
    return KV_OK;
}

/* exact_stats: count every key and its bytes once at open. */
static int ldb_scan(struct ldb_db *l)
{
    leveldb_readoptions_t *ro = leveldb_readoptions_create();
    leveldb_iterator_t *it;
    char *err = NULL;

    leveldb_readoptions_set_verify_checksums(ro, 1);
    leveldb_readoptions_set_fill_cache(ro, 0);
    it = leveldb_create_iterator(l->db, ro);
    for (leveldb_iter_seek_to_first(it); leveldb_iter_valid(it); leveldb_iter_next(it)) {
        size_t kl, vl;
        leveldb_iter_key(it, &kl);
        leveldb_iter_value(it, &vl);
        l->keys++;
        l->bytes += kl + vl;
    }
    leveldb_iter_get_error(it, &err);
    leveldb_iter_destroy(it);
    leveldb_readoptions_destroy(ro);
    return err ? ldb_fail(err, "counting keys at open") : KV_OK;
}

static void ldb_free(struct ldb_db *l)
{
    if (l->db)
        leveldb_close(l->db);
    if (l->opts)
        leveldb_options_destroy(l->opts);
    if (l->cache)
        leveldb_cache_destroy(l->cache);
    if (l->filter)
        leveldb_filterpolicy_destroy(l->filter);
    if (l->ropts)
        leveldb_readoptions_destroy(l->ropts);
    if (l->wopts)
        leveldb_writeoptions_destroy(l->wopts);
    if (l->wopts_sync)
        leveldb_writeoptions_destroy(l->wopts_sync);
    pthread_mutex_destroy(&l->wlock);
    kv_free(l->path);
    kv_free(l);
}

static int ldb_open(const kv_open_args *a, kv_db **out)
{
    struct ldb_db *l;
    uint64_t cache = a->common->cache ? a->common->cache : LDB_DEFAULT_CACHE;
    unsigned bloom = (unsigned)kv_opts_u64(a->opts, "bloom_bits");
    char *err = NULL;
    int rc = kvpeer_prepare_dir(a, "leveldb");

    if (rc != KV_OK)
        return rc;
    l = kv_calloc(1, sizeof(*l));
    if (!l)
        return kv_fail(KV_ENOMEM, "leveldb: out of memory");
    pthread_mutex_init(&l->wlock, NULL);
    l->path = kv_strdup(a->path);
    l->sync = a->common->sync;
    l->sync_ms = a->common->sync_ms;
    atomic_init(&l->last_sync_ms, kvpeer_now_ms());
    l->exact = kv_opts_bool(a->opts, "exact_stats");
    if (!l->path) {
        ldb_free(l);
        return kv_fail(KV_ENOMEM, "leveldb: out of memory");
    }

    l->opts = leveldb_options_create();
    leveldb_options_set_create_if_missing(l->opts, 1);
    leveldb_options_set_write_buffer_size(l->opts, (size_t)kv_opts_u64(a->opts, "write_buffer"));
    leveldb_options_set_compression(l->opts, kv_opts_enum(a->opts, "compression") == 1
                                                 ? leveldb_snappy_compression
                                                 : leveldb_no_compression);
    l->cache = leveldb_cache_create_lru((size_t)cache);
    leveldb_options_set_cache(l->opts, l->cache);
    if (bloom) {
        l->filter = leveldb_filterpolicy_create_bloom((int)bloom);
        leveldb_options_set_filter_policy(l->opts, l->filter);
    }
    l->ropts = leveldb_readoptions_create();
    leveldb_readoptions_set_verify_checksums(l->ropts, 1);
    l->wopts = leveldb_writeoptions_create();
    l->wopts_sync = leveldb_writeoptions_create();
    leveldb_writeoptions_set_sync(l->wopts_sync, 1);

    l->db = leveldb_open(l->opts, a->path, &err);
    if (err) {
        rc = ldb_fail(err, "open");
        ldb_free(l);
        return rc;
    }
    if (l->exact && (rc = ldb_scan(l)) != KV_OK) {
        ldb_free(l);
        return rc;
    }
    l->base.caps = KV_CAP_ORDERED | KV_CAP_DURABLE;
    *out = &l->base;
    return KV_OK;
}

static int ldb_close(kv_db *db)
{
    struct ldb_db *l = (struct ldb_db *)db;
    int rc = ldb_sync_log(l);

    ldb_free(l);
    return rc;
}

static int ldb_put(kv_db *db, const void *key, size_t klen, const void *val, size_t vlen)
{
    struct ldb_db *l = (struct ldb_db *)db;
    bool found = false;
    size_t old = 0;
    char *err = NULL;
    int rc = KV_OK;

    if (!l->exact) {
        leveldb_put(l->db, ldb_wopts(l), key, klen, val, vlen, &err);
        return err ? ldb_fail(err, "put") : KV_OK;
    }
    pthread_mutex_lock(&l->wlock);
    rc = ldb_lookup(l, key, klen, &found, &old, NULL);
    if (rc == KV_OK) {
        leveldb_put(l->db, ldb_wopts(l), key, klen, val, vlen, &err);
        if (err)
            rc = ldb_fail(err, "put");
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

static int ldb_get(kv_db *db, const void *key, size_t klen, kv_buf *val)
{
    struct ldb_db *l = (struct ldb_db *)db;
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

static int ldb_del(kv_db *db, const void *key, size_t klen)
{
    struct ldb_db *l = (struct ldb_db *)db;
    bool found = false;
    size_t old = 0;
    char *err = NULL;
    int rc;

    pthread_mutex_lock(&l->wlock);
    rc = ldb_lookup(l, key, klen, &found, &old, NULL);
    if (rc == KV_OK && !found)
        rc = kv_fail(KV_ENOTFOUND, "leveldb: key not found");
    if (rc == KV_OK) {
        leveldb_delete(l->db, ldb_wopts(l), key, klen, &err);
        if (err)
            rc = ldb_fail(err, "delete");
    }
    if (rc == KV_OK && l->exact) {
        l->keys--;
        l->bytes -= klen + old;
    }
    pthread_mutex_unlock(&l->wlock);
    return rc;
}

static int ldb_sync(kv_db *db)
{
    return ldb_sync_log((struct ldb_db *)db);
}

static uint64_t ldb_prop(struct ldb_db *l, const char *name)
{
    char *s = leveldb_property_value(l->db, name);
    uint64_t v = s ? strtoull(s, NULL, 10) : 0;

    leveldb_free(s);
    return v;
}

static int ldb_stats(kv_db *db, kv_stats *out)
{
    struct ldb_db *l = (struct ldb_db *)db;
    static const char *const level_names[] = {"files_L0", "files_L1", "files_L2", "files_L3",
                                              "files_L4", "files_L5", "files_L6"};

    if (l->exact) {
        pthread_mutex_lock(&l->wlock);
        out->keys = l->keys;
        out->bytes = l->bytes;
        pthread_mutex_unlock(&l->wlock);
    }
    out->mem_bytes = ldb_prop(l, "leveldb.approximate-memory-usage");
    for (int lv = 0; lv < 7; lv++) {
        char name[64];
        snprintf(name, sizeof(name), "leveldb.num-files-at-level%d", lv);
        kvpeer_extra(out, level_names[lv], (double)ldb_prop(l, name));
    }
    return kvpeer_dir_bytes(db->env, l->path, &out->disk_bytes);
}

/* ---- iterators ---------------------------------------------------------- */

static int ldb_iter_open(kv_db *db, kv_iter **out)
{
    struct ldb_iter *it = kv_calloc(1, sizeof(*it));

    if (!it)
        return kv_fail(KV_ENOMEM, "leveldb: out of memory for an iterator");
    it->l = (struct ldb_db *)db;
    *out = &it->base;
    return KV_OK;
}

/* Each positioning starts a new iteration on a fresh snapshot. */
static leveldb_iterator_t *ldb_iter_fresh(struct ldb_iter *it)
{
    if (it->it)
        leveldb_iter_destroy(it->it);
    it->it = leveldb_create_iterator(it->l->db, it->l->ropts);
    return it->it;
}

static void ldb_iter_first(kv_iter *base)
{
    leveldb_iter_seek_to_first(ldb_iter_fresh((struct ldb_iter *)base));
}

static void ldb_iter_seek(kv_iter *base, const void *key, size_t klen)
{
    leveldb_iterator_t *i = ldb_iter_fresh((struct ldb_iter *)base);

    if (klen)
        leveldb_iter_seek(i, key, klen);
    else
        leveldb_iter_seek_to_first(i);
}

static bool ldb_iter_valid(const kv_iter *base)
{
    const struct ldb_iter *it = (const struct ldb_iter *)base;

    return it->it && leveldb_iter_valid(it->it);
}

static void ldb_iter_next(kv_iter *base)
{
    leveldb_iter_next(((struct ldb_iter *)base)->it);
}

static void ldb_iter_key(const kv_iter *base, const void **k, size_t *n)
{
    *k = leveldb_iter_key(((const struct ldb_iter *)base)->it, n);
}

static void ldb_iter_value(const kv_iter *base, const void **v, size_t *n)
{
    *v = leveldb_iter_value(((const struct ldb_iter *)base)->it, n);
}

static int ldb_iter_status(const kv_iter *base)
{
    const struct ldb_iter *it = (const struct ldb_iter *)base;
    char *err = NULL;

    if (!it->it)
        return KV_OK;
    leveldb_iter_get_error(it->it, &err);
    return err ? ldb_fail(err, "iterator") : KV_OK;
}

static void ldb_iter_close(kv_iter *base)
{
    struct ldb_iter *it = (struct ldb_iter *)base;

    if (it->it)
        leveldb_iter_destroy(it->it);
    kv_free(it);
}

const kv_engine_ops kv_engine_leveldb = {
    .name = "leveldb",
    .summary = "peer: Google LevelDB 1.23 (LSM tree) through its C API",
    .caps = KV_CAP_ORDERED | KV_CAP_DURABLE,
    .options = ldb_options,
    .default_max_key = 64u << 10,
    .limit_max_key = 16u << 20,
    .default_max_value = 64u << 20,
    .limit_max_value = 1u << 30,
    .open = ldb_open,
    .close = ldb_close,
    .put = ldb_put,
    .get = ldb_get,
    .del = ldb_del,
    .sync = ldb_sync,
    .stats = ldb_stats,
    .iter_open = ldb_iter_open,
    .iter_first = ldb_iter_first,
    .iter_seek = ldb_iter_seek,
    .iter_valid = ldb_iter_valid,
    .iter_next = ldb_iter_next,
    .iter_key = ldb_iter_key,
    .iter_value = ldb_iter_value,
    .iter_status = ldb_iter_status,
    .iter_close = ldb_iter_close,
};
