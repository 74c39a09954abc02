/*
 * peer_lsm_adapter.h — the body of the two LSM peer adapters, LevelDB
 * (peer_leveldb.c) and RocksDB (peer_rocksdb.c), written once.
 *
 * What this is: RocksDB's C API is LevelDB's with another prefix
 * (leveldb_put / rocksdb_put, the same arguments), and the two adapters
 * behave alike by design (same knobs, same defaults, same delete, sync and
 * counter rules: see the essays at the top of both adapters). So the code
 * they share lives here, written against LSMP(name), which each adapter
 * defines as its library's prefix; each adapter keeps only what really
 * differs between the libraries.
 *
 * How it is used: an adapter defines, then includes this file once:
 *   LSMP_LIB          the library's prefix token: leveldb or rocksdb
 *   LSMP_NAME         the engine's name as a string ("leveldb")
 *   LSMP_COMPRESSIONS the compression option's choices ("none|snappy")
 *   LSMP_DB_EXTRA     the adapter's extra members of struct lsmp_db
 * and after the include defines the hooks declared below (lsmp_configure,
 * lsmp_free_extra, lsmp_lookup, lsmp_get, lsmp_sync_log, lsmp_stats_extra)
 * and its kv_engine_ops table from the lsmp_* operations.
 *
 * How it works: every function here is static, so the two adapters each
 * get their own copy, bound to their own library; nothing here is shared
 * at run time.
 *
 * What callers must not do: include it anywhere else, or twice in one file.
 */
#ifndef LSMP_LIB
#error "define LSMP_LIB (leveldb or rocksdb) before including peer_lsm_adapter.h"
#endif

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvlabs/alloc.h"
#include "kvlabs/engine.h"
#include "kvlabs/error.h"
#include "peer_common.h"

#define LSMP_CAT2_(a, b) a##_##b
#define LSMP_CAT_(a, b) LSMP_CAT2_(a, b)
/** The library's function or type @p x: LSMP(put) is leveldb_put or rocksdb_put. */
#define LSMP(x) LSMP_CAT_(LSMP_LIB, x)

/** The block cache when the common `cache=` key is not given. */
#define LSMP_DEFAULT_CACHE (8u << 20)

struct lsmp_db {
    kv_db base;
    LSMP(t) *db;
    LSMP(options_t) *opts;
    LSMP(cache_t) *cache;
    LSMP(readoptions_t) *ropts;
    LSMP(writeoptions_t) *wopts, *wopts_sync;
    LSMP_DB_EXTRA
    char *path;
    kv_sync_mode sync;
    uint64_t sync_ms;
    _Atomic uint64_t last_sync_ms;
    pthread_mutex_t wlock; /* deletes; with exact_stats every write */
    bool exact;
    uint64_t keys, bytes; /* exact_stats only; under wlock */
};

struct lsmp_iter {
    kv_iter base;
    struct lsmp_db *l;
    LSMP(iterator_t) *it; /* NULL until positioned */
};

static const kv_opt_spec lsmp_options[] = {
    {"bloom_bits", KV_OPT_UINT, "10", NULL, 0, 64, "Bloom filter bits per key (0: no filter)"},
    {"write_buffer", KV_OPT_SIZE, "4M", NULL, 64 << 10, 1 << 30,
     "memtable size before it is flushed to a table file"},
    {"compression", KV_OPT_ENUM, "none", LSMP_COMPRESSIONS, 0, 0, "block compression"},
    {"exact_stats", KV_OPT_BOOL, "false", NULL, 0, 0,
     "exact stats.keys/bytes (scan at open, a read before every write)"},
    {0},
};

/* ---- the hooks: each adapter defines these after the include ------------- */

/* Set the library's options in l->opts (compression, cache, Bloom filter,
 * logging); l->cache is made, the rest of l is set. */
static void lsmp_configure(struct lsmp_db *l, const kv_open_args *a, unsigned bloom);
/* Destroy what lsmp_configure made besides l->opts and l->cache. */
static void lsmp_free_extra(struct lsmp_db *l);
/* Look a key up for a write: *found, and the old value's length in *vlen. */
static int lsmp_lookup(struct lsmp_db *l, const void *key, size_t klen, bool *found,
                       size_t *vlen);
/* kv_get: copy the value into val (NULL: existence test), or KV_ENOTFOUND. */
static int lsmp_get_value(struct lsmp_db *l, const void *key, size_t klen, kv_buf *val);
/* Make every acknowledged write durable (fsync the log). */
static int lsmp_sync_log(struct lsmp_db *l);
/* The library's counters: out->mem_bytes and the extra counters. */
static void lsmp_stats_extra(struct lsmp_db *l, kv_stats *out);

/* ---- shared ------------------------------------------------------------------ */

/* Map the library's error string, free it, set the detail; returns the code. */
static int lsmp_fail(char *err, const char *what)
{
    int rc = kvpeer_fail_status(LSMP_NAME, what, err);

    LSMP(free)(err);
    return rc;
}

static const LSMP(writeoptions_t) *lsmp_wopts(struct lsmp_db *l)
{
    if (l->sync == KV_SYNC_ALWAYS)
        return l->wopts_sync;
    if (l->sync == KV_SYNC_BATCH && kvpeer_sync_due(&l->last_sync_ms, l->sync_ms))
        return l->wopts_sync;
    return l->wopts;
}

/* exact_stats: count every key and its bytes once at open. */
static int lsmp_scan(struct lsmp_db *l)
{
    LSMP(readoptions_t) *ro = LSMP(readoptions_create)();
    LSMP(iterator_t) *it;
    char *err = NULL;

    LSMP(readoptions_set_verify_checksums)(ro, 1);
    LSMP(readoptions_set_fill_cache)(ro, 0);
    it = LSMP(create_iterator)(l->db, ro);
    for (LSMP(iter_seek_to_first)(it); LSMP(iter_valid)(it); LSMP(iter_next)(it)) {
        size_t kl, vl;
        LSMP(iter_key)(it, &kl);
        LSMP(iter_value)(it, &vl);
        l->keys++;
        l->bytes += kl + vl;
    }
    LSMP(iter_get_error)(it, &err);
    LSMP(iter_destroy)(it);
    LSMP(readoptions_destroy)(ro);
    return err ? lsmp_fail(err, "counting keys at open") : KV_OK;
}

static void lsmp_free(struct lsmp_db *l)
{
    if (l->db)
        LSMP(close)(l->db);
    if (l->opts)
        LSMP(options_destroy)(l->opts);
    lsmp_free_extra(l);
    if (l->cache)
        LSMP(cache_destroy)(l->cache);
    if (l->ropts)
        LSMP(readoptions_destroy)(l->ropts);
    if (l->wopts)
        LSMP(writeoptions_destroy)(l->wopts);
    if (l->wopts_sync)
        LSMP(writeoptions_destroy)(l->wopts_sync);
    pthread_mutex_destroy(&l->wlock);
    kv_free(l->path);
    kv_free(l);
}

static int lsmp_open(const kv_open_args *a, kv_db **out)
{
    struct lsmp_db *l;
    uint64_t cache = a->common->cache ? a->common->cache : LSMP_DEFAULT_CACHE;
    unsigned bloom = (unsigned)kv_opts_u64(a->opts, "bloom_bits");
    char *err = NULL;
    int rc = kvpeer_prepare_dir(a, LSMP_NAME);

    if (rc != KV_OK)
        return rc;
    l = kv_calloc(1, sizeof(*l));
    if (!l)
        return kv_fail(KV_ENOMEM, LSMP_NAME ": out of memory");
    pthread_mutex_init(&l->wlock, NULL);
    l->path = kv_strdup(a->path);
    l->sync = a->common->sync;
    l->sync_ms = a->common->sync_ms;
    atomic_init(&l->last_sync_ms, kvpeer_now_ms());
    l->exact = kv_opts_bool(a->opts, "exact_stats");
    if (!l->path) {
        lsmp_free(l);
        return kv_fail(KV_ENOMEM, LSMP_NAME ": out of memory");
    }

    l->opts = LSMP(options_create)();
    LSMP(options_set_create_if_missing)(l->opts, 1);
    LSMP(options_set_write_buffer_size)(l->opts, (size_t)kv_opts_u64(a->opts, "write_buffer"));
    l->cache = LSMP(cache_create_lru)((size_t)cache);
    lsmp_configure(l, a, bloom);
    /* every read verifies block checksums (RocksDB's default; LevelDB's is
     * off), so a damaged table gives KV_ECORRUPT */
    l->ropts = LSMP(readoptions_create)();
    LSMP(readoptions_set_verify_checksums)(l->ropts, 1);
    l->wopts = LSMP(writeoptions_create)();
    l->wopts_sync = LSMP(writeoptions_create)();
    LSMP(writeoptions_set_sync)(l->wopts_sync, 1);

    l->db = LSMP(open)(l->opts, a->path, &err);
    if (err) {
        rc = lsmp_fail(err, "open");
        lsmp_free(l);
        return rc;
    }
    if (l->exact && (rc = lsmp_scan(l)) != KV_OK) {
        lsmp_free(l);
        return rc;
    }
    l->base.caps = KV_CAP_ORDERED | KV_CAP_DURABLE;
    *out = &l->base;
    return KV_OK;
}

static int lsmp_close(kv_db *db)
{
    struct lsmp_db *l = (struct lsmp_db *)db;
    int rc = lsmp_sync_log(l);

    lsmp_free(l);
    return rc;
}

static int lsmp_put(kv_db *db, const void *key, size_t klen, const void *val, size_t vlen)
{
    struct lsmp_db *l = (struct lsmp_db *)db;
    bool found = false;
    size_t old = 0;
    char *err = NULL;
    int rc;

    if (!l->exact) {
        LSMP(put)(l->db, lsmp_wopts(l), key, klen, val, vlen, &err);
        return err ? lsmp_fail(err, "put") : KV_OK;
    }
    pthread_mutex_lock(&l->wlock);
    rc = lsmp_lookup(l, key, klen, &found, &old);
    if (rc == KV_OK) {
        LSMP(put)(l->db, lsmp_wopts(l), key, klen, val, vlen, &err);
        if (err)
            rc = lsmp_fail(err, "put");
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

static int lsmp_get(kv_db *db, const void *key, size_t klen, kv_buf *val)
{
    return lsmp_get_value((struct lsmp_db *)db, key, klen, val);
}

static int lsmp_del(kv_db *db, const void *key, size_t klen)
{
    struct lsmp_db *l = (struct lsmp_db *)db;
    bool found = false;
    size_t old = 0;
    char *err = NULL;
    int rc;

    pthread_mutex_lock(&l->wlock);
    rc = lsmp_lookup(l, key, klen, &found, &old);
    if (rc == KV_OK && !found)
        rc = kv_fail(KV_ENOTFOUND, LSMP_NAME ": key not found");
    if (rc == KV_OK) {
        LSMP(delete)(l->db, lsmp_wopts(l), key, klen, &err);
        if (err)
            rc = lsmp_fail(err, "delete");
    }
    if (rc == KV_OK && l->exact) {
        l->keys--;
        l->bytes -= klen + old;
    }
    pthread_mutex_unlock(&l->wlock);
    return rc;
}

static int lsmp_sync(kv_db *db)
{
    return lsmp_sync_log((struct lsmp_db *)db);
}

/* A numeric property of the library ("leveldb.num-files-at-level0"), 0 if unknown. */
static uint64_t lsmp_prop(struct lsmp_db *l, const char *name)
{
    char *s = LSMP(property_value)(l->db, name);
    uint64_t v = s ? strtoull(s, NULL, 10) : 0;

    LSMP(free)(s);
    return v;
}

static int lsmp_stats(kv_db *db, kv_stats *out)
{
    struct lsmp_db *l = (struct lsmp_db *)db;
    static const char *const level_names[] = {"files_L0", "files_L1", "files_L2", "files_L3",
                                              "files_L4", "files_L5", "files_L6"};

    if (l->exact) {
        pthread_mutex_lock(&l->wlock);
        out->keys = l->keys;
        out->bytes = l->bytes;
        pthread_mutex_unlock(&l->wlock);
    }
    lsmp_stats_extra(l, out);
    for (int lv = 0; lv < 7; lv++) {
        char name[64];
        snprintf(name, sizeof(name), LSMP_NAME ".num-files-at-level%d", lv);
        kvpeer_extra(out, level_names[lv], (double)lsmp_prop(l, name));
    }
    return kvpeer_dir_bytes(db->env, l->path, &out->disk_bytes);
}

/* ---- iterators ---------------------------------------------------------- */

static int lsmp_iter_open(kv_db *db, kv_iter **out)
{
    struct lsmp_iter *it = kv_calloc(1, sizeof(*it));

    if (!it)
        return kv_fail(KV_ENOMEM, LSMP_NAME ": out of memory for an iterator");
    it->l = (struct lsmp_db *)db;
    *out = &it->base;
    return KV_OK;
}

/* Each positioning starts a new iteration on a fresh snapshot. */
static LSMP(iterator_t) *lsmp_iter_fresh(struct lsmp_iter *it)
{
    if (it->it)
        LSMP(iter_destroy)(it->it);
    it->it = LSMP(create_iterator)(it->l->db, it->l->ropts);
    return it->it;
}

static void lsmp_iter_first(kv_iter *base)
{
    LSMP(iter_seek_to_first)(lsmp_iter_fresh((struct lsmp_iter *)base));
}

static void lsmp_iter_seek(kv_iter *base, const void *key, size_t klen)
{
    LSMP(iterator_t) *i = lsmp_iter_fresh((struct lsmp_iter *)base);

    if (klen)
        LSMP(iter_seek)(i, key, klen);
    else
        LSMP(iter_seek_to_first)(i);
}

static bool lsmp_iter_valid(const kv_iter *base)
{
    const struct lsmp_iter *it = (const struct lsmp_iter *)base;

    return it->it && LSMP(iter_valid)(it->it);
}

static void lsmp_iter_next(kv_iter *base)
{
    LSMP(iter_next)(((struct lsmp_iter *)base)->it);
}

static void lsmp_iter_key(const kv_iter *base, const void **k, size_t *n)
{
    *k = LSMP(iter_key)(((const struct lsmp_iter *)base)->it, n);
}

static void lsmp_iter_value(const kv_iter *base, const void **v, size_t *n)
{
    *v = LSMP(iter_value)(((const struct lsmp_iter *)base)->it, n);
}

static int lsmp_iter_status(const kv_iter *base)
{
    const struct lsmp_iter *it = (const struct lsmp_iter *)base;
    char *err = NULL;

    if (!it->it)
        return KV_OK;
    LSMP(iter_get_error)(it->it, &err);
    return err ? lsmp_fail(err, "iterator") : KV_OK;
}

static void lsmp_iter_close(kv_iter *base)
{
    struct lsmp_iter *it = (struct lsmp_iter *)base;

    if (it->it)
        LSMP(iter_destroy)(it->it);
    kv_free(it);
}

/** The members of a kv_engine_ops table the two adapters share. */
#define LSMP_ENGINE_OPS                                                                            \
    .caps = KV_CAP_ORDERED | KV_CAP_DURABLE, .options = lsmp_options, .open = lsmp_open,          \
    .close = lsmp_close, .put = lsmp_put, .get = lsmp_get, .del = lsmp_del, .sync = lsmp_sync,    \
    .stats = lsmp_stats, .iter_open = lsmp_iter_open, .iter_first = lsmp_iter_first,             \
    .iter_seek = lsmp_iter_seek, .iter_valid = lsmp_iter_valid, .iter_next = lsmp_iter_next,     \
    .iter_key = lsmp_iter_key, .iter_value = lsmp_iter_value, .iter_status = lsmp_iter_status,   \
    .iter_close = lsmp_iter_close
