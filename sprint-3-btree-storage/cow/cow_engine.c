/*
 * cow_engine.c — `cowbtree`, the copy-on-write B+ tree behind kv.h.
 *
 * Through kv.h each put and delete is a write transaction of its own
 * (waiting for the writer lock), each get a read snapshot of the newest
 * committed version. An iterator takes a new snapshot at each
 * kv_iter_first()/kv_iter_seek() and keeps it until the next positioning
 * or its close (KV_CAP_SNAPSHOT: an iteration sees one version, whatever
 * is written meanwhile; an unpositioned iterator holds none). kv_sync() fsyncs the commit log; kv_close()
 * checkpoints.
 *
 * Options (besides the common sync=, sync_ms=, cache=, max_key=,
 * max_value=, mode=):
 *   page_size=4K|8K|16K      page size of a new store (default 16K; an
 *                            existing store keeps its own)
 *   checkpoint_commits=N     checkpoint after N commits (default 100000; 0 off)
 *   checkpoint_bytes=SIZE    checkpoint once the log holds SIZE bytes (64M; 0 off)
 * Limits: a pair must fit in half a page (two pairs per leaf at least):
 * key + value <= (page_size - 40) / 2 - 8 bytes, so 8164 at 16K, 4068 at
 * 8K, 2020 at 4K; keys <= 1024 (<= 1000 at 4K). Defaults 512 and 4096,
 * lowered to fit a smaller page unless given explicitly (then KV_EINVAL).
 * `cache=SIZE` bounds the page cache to SIZE / page_size pages (at least 1;
 * default 0: no bound, every page read stays until close). It is a soft
 * bound: pinned pages and pages written since the last checkpoint stay
 * (cow_pager.c, "Eviction").
 *
 * cow.h's transactions begin here too (cow_txn_begin): the engine table is
 * what tells a cowbtree handle from another engine's, so the check is made
 * at the top layer, before cow_txn.c takes over.
 *
 * What callers must not do: close with iterators or transactions open.
 */
#include <string.h>

#include "kvlabs/alloc.h"
#include "kvlabs/error.h"
#include "cow_int.h"

static const kv_opt_spec cow_options[] = {
    {"page_size", KV_OPT_SIZE, "16K", NULL, 4096, 16384,
     "page size of a new store: 4K, 8K or 16K (an existing store keeps its own)"},
    {"checkpoint_commits", KV_OPT_UINT, "100000", NULL, 0, 0,
     "checkpoint after this many commits (0: never by count)"},
    {"checkpoint_bytes", KV_OPT_SIZE, "64M", NULL, 0, 0,
     "checkpoint once the commit log holds this many bytes (0: never by size)"},
    {0},
};

typedef struct cow_iter {
    kv_iter base;
    cow_db *db;
    int slot; /* -1: unpositioned, no snapshot held */
    cow_cursor c;
} cow_iter;

static void cow_free(cow_db *db)
{
    cow_txn_release_buffers(db);
    cow_pager_destroy(&db->pg);
    cow_fl_destroy(&db->fl);
    cow_snap_destroy(&db->snaps);
    pthread_mutex_destroy(&db->log.sync_lock);
    pthread_cond_destroy(&db->log.cv);
    pthread_mutex_destroy(&db->wlock);
    if (db->logf)
        kv_file_close(db->logf);
    if (db->dataf)
        kv_file_close(db->dataf);
    if (db->lockf)
        kv_file_close(db->lockf);
    kv_free(db->scratch);
    kv_free(db->cells_a);
    kv_free(db->cells_b);
    kv_free(db->dir);
    kv_free(db);
}

static int resolve_limits(cow_db *db, const kv_open_args *a)
{
    uint32_t ps = db->pg.psize;
    size_t pair = (ps - COW_PAGE_HDR) / 2 - 8, keymax = ps == 4096 ? 1000 : 1024;
    size_t mk = a->common->max_key ? a->common->max_key : 512;
    size_t mv = a->common->max_value ? a->common->max_value : 4096;

    if (mk > keymax) {
        if (a->common->max_key)
            return kv_fail(KV_EINVAL, "cowbtree: max_key=%zu over %zu for %u-byte pages", mk,
                           keymax, ps);
        mk = keymax;
    }
    if (mk + mv > pair) {
        if (a->common->max_value)
            return kv_fail(KV_EINVAL,
                           "cowbtree: max_key+max_value=%zu over %zu for %u-byte pages", mk + mv,
                           pair, ps);
        mv = pair - mk;
    }
    db->max_key = mk;
    db->max_value = mv;
    return KV_OK;
}

static int cow_open(const kv_open_args *a, kv_db **out)
{
    uint64_t ps = kv_opts_u64(a->opts, "page_size");
    cow_db *db;
    int rc;

    if (!a->path || !*a->path)
        return kv_fail(KV_EINVAL, "cowbtree: needs a directory path");
    if (ps != 4096 && ps != 8192 && ps != 16384)
        return kv_fail(KV_EINVAL, "cowbtree: page_size must be 4K, 8K or 16K");
    db = kv_calloc(1, sizeof(*db));
    if (!db)
        return kv_fail(KV_ENOMEM, "cowbtree: out of memory");
    db->env = a->env;
    db->file_mode = a->file_mode;
    db->dir_mode = a->dir_mode;
    db->sync = a->common->sync;
    db->sync_ms = a->common->sync_ms;
    db->ckpt_commits = kv_opts_u64(a->opts, "checkpoint_commits");
    db->ckpt_bytes = kv_opts_u64(a->opts, "checkpoint_bytes");
    pthread_mutex_init(&db->wlock, NULL);
    pthread_mutex_init(&db->log.sync_lock, NULL);
    pthread_cond_init(&db->log.cv, NULL);
    cow_snap_init(&db->snaps, &(cow_version){0});
    cow_fl_init(&db->fl);
    cow_pager_init(&db->pg, a->env, NULL, (uint32_t)ps);
    /* the limits of the requested page size validate the log until the store's is known */
    db->max_key = 1024;
    db->max_value = 16384;
    db->dir = kv_strdup(a->path);
    rc = db->dir ? KV_OK : kv_fail(KV_ENOMEM, "cowbtree: out of memory");
    if (rc == KV_OK)
        rc = cow_db_open(db);
    if (rc == KV_OK)
        rc = resolve_limits(db, a);
    if (rc == KV_OK && a->common->cache) {
        uint64_t pages = a->common->cache / db->pg.psize;
        /* set after open: recovery's walks and replay hold pages unregistered */
        cow_pager_set_cache(&db->pg, pages ? pages : 1, &db->snaps);
    }
    if (rc != KV_OK) {
        cow_free(db);
        return rc;
    }
    db->base.caps = KV_CAP_ORDERED | KV_CAP_DURABLE | KV_CAP_SNAPSHOT;
    db->base.max_key = db->max_key;
    db->base.max_value = db->max_value;
    *out = &db->base;
    return KV_OK;
}

static int cow_close(kv_db *kdb)
{
    cow_db *db = (cow_db *)kdb;
    int rc = cow_db_close(db);
    cow_free(db);
    return rc;
}

static int cow_put(kv_db *kdb, const void *k, size_t kl, const void *v, size_t vl)
{
    cow_txn *t;
    int rc = cow_txn_begin_db((cow_db *)kdb, COW_TXN_WRITE, &t);
    if (rc != KV_OK)
        return rc;
    rc = cow_txn_put(t, k, kl, v, vl);
    if (rc != KV_OK) {
        cow_txn_abort(t);
        return rc;
    }
    return cow_txn_commit(t);
}

static int cow_del(kv_db *kdb, const void *k, size_t kl)
{
    cow_txn *t;
    int rc = cow_txn_begin_db((cow_db *)kdb, COW_TXN_WRITE, &t);
    if (rc != KV_OK)
        return rc;
    rc = cow_txn_del(t, k, kl);
    if (rc != KV_OK) {
        cow_txn_abort(t);
        return rc;
    }
    return cow_txn_commit(t);
}

static int cow_get(kv_db *kdb, const void *k, size_t kl, kv_buf *val)
{
    cow_db *db = (cow_db *)kdb;
    cow_version v;
    const unsigned char *p;
    uint32_t vl;
    int slot, rc = cow_snap_acquire(&db->snaps, &v, &slot);

    if (rc != KV_OK)
        return rc;
    rc = cow_tree_get(db, v.root, k, kl, &p, &vl);
    if (rc == KV_OK && val)
        rc = kv_buf_set(val, p, vl);
    cow_snap_release(&db->snaps, slot);
    return rc;
}

static int cow_sync(kv_db *kdb)
{
    cow_db *db = (cow_db *)kdb;
    uint64_t gen, end;
    pthread_mutex_lock(&db->log.sync_lock);
    gen = db->log.gen;
    end = db->log.end;
    pthread_mutex_unlock(&db->log.sync_lock);
    return cow_log_sync_to(&db->log, gen, end);
}

static int cow_stats(kv_db *kdb, kv_stats *out)
{
    cow_db *db = (cow_db *)kdb;
    cow_version v;
    uint64_t dsz = 0, lsz = 0;

    cow_snap_current(&db->snaps, &v);
    out->keys = v.keys;
    out->bytes = v.bytes;
    out->mem_bytes = atomic_load(&db->pg.loaded) * db->pg.psize;
    kv_file_size(db->dataf, &dsz);
    kv_file_size(db->logf, &lsz);
    out->disk_bytes = dsz + lsz;
    kv_stats_add_extra(out, "txnid", (double)v.txnid);
    kv_stats_add_extra(out, "page_size", db->pg.psize);
    kv_stats_add_extra(out, "commits", (double)atomic_load(&db->n_commits));
    kv_stats_add_extra(out, "checkpoints", (double)atomic_load(&db->n_ckpts));
    kv_stats_add_extra(out, "replayed", (double)atomic_load(&db->n_replayed));
    kv_stats_add_extra(out, "page_loads", (double)atomic_load(&db->pg.loads));
    kv_stats_add_extra(out, "page_evictions", (double)atomic_load(&db->pg.evictions));
    kv_stats_add_extra(out, "readers", atomic_load(&db->snaps.live));
    return KV_OK;
}

static int cow_iter_open(kv_db *kdb, kv_iter **out)
{
    cow_db *db = (cow_db *)kdb;
    cow_iter *it = kv_calloc(1, sizeof(*it));

    if (!it)
        return kv_fail(KV_ENOMEM, "cowbtree: out of memory for an iterator");
    it->db = db;
    it->slot = -1;
    cow_cursor_init(&it->c, db, 0);
    *out = &it->base;
    return KV_OK;
}

/* each positioning starts a fresh iteration on a new snapshot (kv.h) */
static void cow_iter_seek(kv_iter *i, const void *k, size_t kl)
{
    cow_iter *it = (cow_iter *)i;
    cow_version v;
    int rc;

    if (it->slot >= 0)
        cow_snap_release(&it->db->snaps, it->slot);
    it->slot = -1;
    rc = cow_snap_acquire(&it->db->snaps, &v, &it->slot);
    cow_cursor_init(&it->c, it->db, rc == KV_OK ? v.root : 0);
    if (rc != KV_OK) {
        it->slot = -1;
        it->c.status = rc;
        return;
    }
    cow_cursor_seek(&it->c, k, kl);
}

static void cow_iter_first(kv_iter *i)
{
    cow_iter_seek(i, NULL, 0);
}

static bool cow_iter_valid(const kv_iter *i)
{
    return cow_cursor_valid(&((const cow_iter *)i)->c);
}

static void cow_iter_next(kv_iter *i)
{
    cow_cursor_next(&((cow_iter *)i)->c);
}

static void cow_iter_key(const kv_iter *i, const void **k, size_t *n)
{
    cow_cursor_get(&((const cow_iter *)i)->c, k, n, NULL, NULL);
}

static void cow_iter_value(const kv_iter *i, const void **v, size_t *n)
{
    cow_cursor_get(&((const cow_iter *)i)->c, NULL, NULL, v, n);
}

static int cow_iter_status(const kv_iter *i)
{
    return cow_cursor_status(&((const cow_iter *)i)->c);
}

static void cow_iter_close(kv_iter *i)
{
    cow_iter *it = (cow_iter *)i;
    if (it->slot >= 0)
        cow_snap_release(&it->db->snaps, it->slot);
    kv_free(it);
}

const kv_engine_ops kv_engine_cowbtree = {
    .name = "cowbtree",
    .summary = "copy-on-write B+ tree: checksummed pages, A/B meta, snapshots, commit log",
    .caps = KV_CAP_ORDERED | KV_CAP_DURABLE | KV_CAP_SNAPSHOT,
    .options = cow_options,
    .default_max_key = 512,
    .limit_max_key = 1024,
    .default_max_value = 4096,
    .limit_max_value = 7140,
    .open = cow_open,
    .close = cow_close,
    .put = cow_put,
    .get = cow_get,
    .del = cow_del,
    .sync = cow_sync,
    .stats = cow_stats,
    .iter_open = cow_iter_open,
    .iter_first = cow_iter_first,
    .iter_seek = cow_iter_seek,
    .iter_valid = cow_iter_valid,
    .iter_next = cow_iter_next,
    .iter_key = cow_iter_key,
    .iter_value = cow_iter_value,
    .iter_status = cow_iter_status,
    .iter_close = cow_iter_close,
};

/* A cowbtree handle, or NULL: cow.h's transactions take any kv_db. */
static cow_db *db_of(kv_db *kdb)
{
    if (!kdb || kdb->ops != &kv_engine_cowbtree)
        return NULL;
    return (cow_db *)kdb;
}

int cow_txn_begin(kv_db *kdb, unsigned flags, cow_txn **out)
{
    cow_db *db = db_of(kdb);
    if (!db || !out || flags > (COW_TXN_WRITE | COW_TXN_NOWAIT) ||
        flags == COW_TXN_NOWAIT)
        return kv_fail(KV_EINVAL, "cow_txn_begin: not a cowbtree instance, or bad flags");
    return cow_txn_begin_db(db, flags, out);
}
