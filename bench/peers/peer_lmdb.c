/*
 * peer_lmdb.c — peer engine "lmdb": Symas LMDB (0.9.24) behind the kvlabs
 * contract. LMDB is a copy-on-write B+ tree in one memory-mapped file: the
 * library the course's COW B+ tree is measured against.
 *
 * Settings (options of this engine; the README's table lists every peer's):
 *
 *   map_size=1G   the map, i.e. the largest the data file may grow. LMDB
 *                 never grows it by itself; a write that does not fit fails
 *                 with KV_EFULL ("map is full ... reopen with a larger
 *                 map_size=") and changes nothing (with batch>1, see below).
 *   batch=1       writes per write transaction (see "Writes")
 *   exact_stats=false  see "Counters"
 *   cache=        (common key) accepted and ignored: LMDB has no cache of its
 *                 own, it reads through the OS page cache (the mapping).
 *   Flags: MDB_NOTLS always (read transactions are not tied to threads, so
 *   iterators and a pool of readers can coexist in any thread), MDB_NOSYNC
 *   unless sync=always; 510 reader slots.
 *
 * Durability. sync=always: every commit fsyncs (LMDB's default). sync=none:
 * MDB_NOSYNC, a commit writes its pages with pwrite and returns, so a
 * kill -9 loses nothing committed; kv_sync() is mdb_env_sync(env, 1), an
 * fdatasync of the data file. sync=batch: a write committed sync_ms or more
 * after the last sync is followed by mdb_env_sync. kv_close() syncs. LMDB's
 * own caveat for MDB_NOSYNC: a power cut (not a kill -9) between syncs on a
 * file system that reorders writes may damage the file, not just lose the
 * newest commits. At open the directory is fsynced once, so the creation of
 * data.mdb is durable too.
 *
 * Writes. With batch=1 every put and delete is its own write transaction,
 * begun in the calling thread (LMDB serialises writers with its own lock).
 * With batch=N>1, N writes share one transaction. An LMDB write transaction
 * must be used and committed by the thread that began it (its lock is a
 * thread-owned mutex), so a batch lives in a private writer thread: each
 * kv_put/kv_delete hands its operation to that thread and waits for the
 * answer. The batch commits after N writes, and before any read through
 * this adapter (kv_get, an iterator's first/seek, kv_db_stats), kv_sync and
 * kv_close, so every read sees every acknowledged write. Until it commits,
 * other processes do not see the batch and a kill -9 loses it (the crash
 * rule allows that: only kv_sync promises). If a write fails inside an
 * open batch (in practice only MDB_MAP_FULL), LMDB poisons the transaction:
 * the whole batch is aborted and the error says how many earlier writes
 * were lost with it. sync=always forces batch=1. The price of the writer
 * thread is a hand-off per write (a wake-up each way); with MDB_NOSYNC a
 * one-write commit is already cheap (it pwrites the few pages it dirtied),
 * so batch>1 rarely pays: 100,000 random 100-byte puts ran at about 174k/s
 * with batch=1 and 79k/s with batch=1000 on the 2-core development VM.
 * That is why the default is 1.
 *
 * Reads. kv_get uses a read-only transaction from a small pool (reset after
 * use, renewed on the next get: no reader-slot setup per get), copies the
 * value out and resets the transaction. Iterators (peer_lmdb_iter.c; the
 * transactions and writes are peer_lmdb_txn.c, the structures the three
 * files share peer_lmdb_int.h) own a read-only
 * transaction and a cursor. An unpositioned iterator holds no snapshot;
 * kv_iter_first and kv_iter_seek renew the transaction (mdb_txn_reset +
 * mdb_txn_renew + mdb_cursor_renew: cheap), so each positioning starts a
 * fresh iteration on a true snapshot (KV_CAP_SNAPSHOT) that sees every
 * acknowledged write, and kv_iter_next stays in it, unaffected by writes
 * from any thread, the iterating one included (no deadlock: a reader holds
 * no write lock). A key deleted after the positioning is therefore still
 * returned ("keys written meanwhile may or may not appear"). Key and value
 * pointers point into the map and stay valid until the iterator moves or
 * closes. A long-lived snapshot keeps its pages alive, so the file grows
 * meanwhile.
 *
 * Several handles. LMDB allows several processes on one environment
 * (KV_CAP_MULTIPROC), but an environment must be opened only once per
 * process (closing a second descriptor of lock.mdb drops the first one's
 * POSIX locks). So the adapter keeps a process-wide list of open
 * environments keyed by the directory's device and inode: a second kv_open
 * of the same directory shares the first's MDB_env (and its settings; the
 * second handle's map_size/batch/sync/exact_stats are ignored), and the
 * last kv_close closes it. Stale reader slots of dead processes (kill -9)
 * are cleared at open (mdb_reader_check).
 *
 * Counters. kv_stats.keys is LMDB's own entry count (mdb_stat), exact and
 * cheap, always. kv_stats.bytes stays 0 unless exact_stats=true, which
 * scans the store once at open and looks up the old value inside each write
 * transaction (counts this process's writes; another process's writes make
 * it drift). mem_bytes stays 0 (the OS page cache holds LMDB's pages);
 * extra counters: tree depth, branch/leaf/overflow pages, map size and the
 * bytes of the map in use.
 *
 * I/O and the env. LMDB does its own I/O (pwrite and a shared mapping): the
 * kvlabs env never sees it, kv_stats.io_* stay 0, and this peer refuses
 * any env but POSIX (KV_ENOTSUP), so the fault-env crash and corruption
 * cases do not apply. LMDB does not checksum its pages: a damaged file may
 * go undetected (MDB_CORRUPTED/MDB_PAGE_NOTFOUND/MDB_INVALID become
 * KV_ECORRUPT when LMDB does notice). disk_bytes is the directory's size,
 * listed through the POSIX env.
 *
 * Limits: keys up to mdb_env_get_maxkeysize() (511 bytes in Debian's
 * build), default the same; values up to 1 GiB (default 64 MiB), which
 * must also fit in map_size.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <lmdb.h>

#include "kvlabs/alloc.h"
#include "kvlabs/engine.h"
#include "kvlabs/error.h"
#include "peer_common.h"
#include "peer_lmdb_int.h"
static pthread_mutex_t lm_reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct lm_env *lm_reg;

static const kv_opt_spec lm_options[] = {
    {"map_size", KV_OPT_SIZE, "1G", NULL, 1 << 20, 1ull << 40,
     "map size: the largest the data file may grow (full: KV_EFULL)"},
    {"batch", KV_OPT_UINT, "1", NULL, 1, 1000000, "writes per write transaction"},
    {"exact_stats", KV_OPT_BOOL, "false", NULL, 0, 0,
     "exact stats.bytes (scan at open, old value looked up in each write)"},
    {0},
};

/* ---- opening and closing an environment ------------------------------------ */

static void lm_env_free(struct lm_env *e)
{
    if (e->has_writer) {
        struct lm_req r = {.op = LM_STOP};
        lm_call(e, &r);
        pthread_join(e->writer, NULL);
    }
    for (unsigned i = 0; i < e->npool; i++)
        mdb_txn_abort(e->pool[i]);
    if (e->env)
        mdb_env_close(e->env);
    pthread_mutex_destroy(&e->pool_lock);
    pthread_mutex_destroy(&e->call_lock);
    pthread_mutex_destroy(&e->w_lock);
    pthread_cond_destroy(&e->w_cv);
    kv_free(e);
}

/* exact_stats: the live bytes at open. */
static int lm_scan(struct lm_env *e)
{
    MDB_txn *t;
    MDB_cursor *c;
    MDB_val k, v;
    int64_t bytes = 0;
    int m, rc = lm_rtxn(e, &t);

    if (rc != KV_OK)
        return rc;
    m = mdb_cursor_open(t, e->dbi, &c);
    if (m == 0) {
        for (m = mdb_cursor_get(c, &k, &v, MDB_FIRST); m == 0;
             m = mdb_cursor_get(c, &k, &v, MDB_NEXT))
            bytes += (int64_t)(k.mv_size + v.mv_size);
        mdb_cursor_close(c);
    }
    lm_rtxn_done(e, t);
    if (m != MDB_NOTFOUND)
        return lm_fail(e, m, "counting bytes at open");
    atomic_store(&e->bytes, bytes);
    return KV_OK;
}

static int lm_env_open(const kv_open_args *a, struct lm_env **out)
{
    struct lm_env *e = kv_calloc(1, sizeof(*e));
    MDB_txn *t;
    int m, dead, rc;

    if (!e)
        return kv_fail(KV_ENOMEM, "lmdb: out of memory");
    pthread_mutex_init(&e->pool_lock, NULL);
    pthread_mutex_init(&e->call_lock, NULL);
    pthread_mutex_init(&e->w_lock, NULL);
    pthread_cond_init(&e->w_cv, NULL);
    e->map_size = (size_t)kv_opts_u64(a->opts, "map_size");
    e->batch = (unsigned)kv_opts_u64(a->opts, "batch");
    e->sync = a->common->sync;
    e->sync_ms = a->common->sync_ms;
    e->exact = kv_opts_bool(a->opts, "exact_stats");
    if (e->sync == KV_SYNC_ALWAYS)
        e->batch = 1; /* every write durable before it returns */
    atomic_init(&e->last_sync_ms, kvpeer_now_ms());
    atomic_init(&e->bytes, 0);
    atomic_init(&e->batch_open, false);

    m = mdb_env_create(&e->env);
    if (m) {
        e->env = NULL;
        rc = lm_fail(e, m, "mdb_env_create");
        goto out_free;
    }
    m = mdb_env_set_mapsize(e->env, e->map_size);
    if (!m)
        m = mdb_env_set_maxreaders(e->env, LM_MAXREADERS);
    if (!m)
        m = mdb_env_open(e->env, a->path, MDB_NOTLS | (e->sync == KV_SYNC_ALWAYS ? 0 : MDB_NOSYNC),
                         (mdb_mode_t)a->file_mode); /* data.mdb and lock.mdb follow mode= */
    if (m) {
        rc = lm_fail(e, m, "open");
        goto out_free;
    }
    mdb_reader_check(e->env, &dead); /* slots of killed processes */
    e->max_key = (size_t)mdb_env_get_maxkeysize(e->env);
    m = mdb_txn_begin(e->env, NULL, MDB_RDONLY, &t);
    if (!m) {
        m = mdb_dbi_open(t, NULL, 0, &e->dbi);
        if (m)
            mdb_txn_abort(t);
        else
            m = mdb_txn_commit(t);
    }
    if (m) {
        rc = lm_fail(e, m, "opening the main database");
        goto out_free;
    }
    if (e->exact && (rc = lm_scan(e)) != KV_OK)
        goto out_free;
    rc = kv_env_sync_dir(a->env, a->path); /* data.mdb's creation is durable */
    if (rc != KV_OK)
        goto out_free;
    if (e->batch > 1) {
        if (pthread_create(&e->writer, NULL, lm_writer_main, e) != 0) {
            rc = kv_fail(KV_ENOMEM, "lmdb: cannot start the batch writer thread");
            goto out_free;
        }
        e->has_writer = true;
    }
    *out = e;
    return KV_OK;

out_free:
    lm_env_free(e);
    return rc;
}

static int lm_open(const kv_open_args *a, kv_db **out)
{
    struct lm_db *h;
    struct lm_env *e;
    struct stat st;
    int rc = kvpeer_prepare_dir(a, "lmdb");

    if (rc != KV_OK)
        return rc;
    if (stat(a->path, &st) != 0)
        return kv_fail_errno(KV_EIO, errno, "lmdb: stat of the directory");
    h = kv_calloc(1, sizeof(*h));
    if (!h || !(h->path = kv_strdup(a->path))) {
        kv_free(h);
        return kv_fail(KV_ENOMEM, "lmdb: out of memory");
    }
    pthread_mutex_lock(&lm_reg_lock);
    for (e = lm_reg; e; e = e->next)
        if (e->dev == st.st_dev && e->ino == st.st_ino)
            break;
    if (e) {
        e->refs++;
    } else if ((rc = lm_env_open(a, &e)) == KV_OK) {
        e->dev = st.st_dev;
        e->ino = st.st_ino;
        e->refs = 1;
        e->next = lm_reg;
        lm_reg = e;
    }
    pthread_mutex_unlock(&lm_reg_lock);
    if (rc != KV_OK) {
        kv_free(h->path);
        kv_free(h);
        return rc;
    }
    h->e = e;
    h->base.caps = KV_CAP_ORDERED | KV_CAP_DURABLE | KV_CAP_SNAPSHOT | KV_CAP_MULTIPROC;
    h->base.max_key = e->max_key;
    *out = &h->base;
    return KV_OK;
}

static int lm_close(kv_db *db)
{
    struct lm_db *h = (struct lm_db *)db;
    struct lm_env *e = h->e;
    int rc = lm_flush(e, true);

    pthread_mutex_lock(&lm_reg_lock);
    if (--e->refs == 0) {
        struct lm_env **pp = &lm_reg;
        while (*pp != e)
            pp = &(*pp)->next;
        *pp = e->next;
        lm_env_free(e);
    }
    pthread_mutex_unlock(&lm_reg_lock);
    kv_free(h->path);
    kv_free(h);
    return rc;
}

/* ---- the engine operations ------------------------------------------------- */

static int lm_put(kv_db *db, const void *key, size_t klen, const void *val, size_t vlen)
{
    return lm_write(((struct lm_db *)db)->e, LM_PUT, key, klen, val, vlen);
}

static int lm_del(kv_db *db, const void *key, size_t klen)
{
    return lm_write(((struct lm_db *)db)->e, LM_DEL, key, klen, NULL, 0);
}

static int lm_get(kv_db *db, const void *key, size_t klen, kv_buf *val)
{
    struct lm_env *e = ((struct lm_db *)db)->e;
    MDB_val k = {.mv_size = klen, .mv_data = (void *)key}, v;
    MDB_txn *t;
    int m, rc = lm_flush(e, false);

    if (rc == KV_OK)
        rc = lm_rtxn(e, &t);
    if (rc != KV_OK)
        return rc;
    m = mdb_get(t, e->dbi, &k, &v);
    if (m == 0)
        rc = val ? kv_buf_set(val, v.mv_data, v.mv_size) : KV_OK;
    else if (m == MDB_NOTFOUND)
        rc = kv_fail(KV_ENOTFOUND, "lmdb: key not found");
    else
        rc = lm_fail(e, m, "get");
    lm_rtxn_done(e, t);
    return rc;
}

static int lm_sync(kv_db *db)
{
    return lm_flush(((struct lm_db *)db)->e, true);
}

static int lm_stats(kv_db *db, kv_stats *out)
{
    struct lm_db *h = (struct lm_db *)db;
    struct lm_env *e = h->e;
    MDB_stat st;
    MDB_envinfo info;
    MDB_txn *t;
    int m, rc = lm_flush(e, false);

    if (rc == KV_OK)
        rc = lm_rtxn(e, &t);
    if (rc != KV_OK)
        return rc;
    m = mdb_stat(t, e->dbi, &st);
    lm_rtxn_done(e, t);
    if (m)
        return lm_fail(e, m, "mdb_stat");
    out->keys = st.ms_entries;
    if (e->exact)
        out->bytes = (uint64_t)atomic_load(&e->bytes);
    kvpeer_extra(out, "depth", st.ms_depth);
    kvpeer_extra(out, "branch_pages", (double)st.ms_branch_pages);
    kvpeer_extra(out, "leaf_pages", (double)st.ms_leaf_pages);
    kvpeer_extra(out, "overflow_pages", (double)st.ms_overflow_pages);
    if (mdb_env_info(e->env, &info) == 0) {
        kvpeer_extra(out, "map_size", (double)info.me_mapsize);
        kvpeer_extra(out, "map_used_bytes", (double)(info.me_last_pgno + 1) * st.ms_psize);
    }
    return kvpeer_dir_bytes(db->env, h->path, &out->disk_bytes);
}

const kv_engine_ops kv_engine_lmdb = {
    .name = "lmdb",
    .summary = "peer: Symas LMDB 0.9 (copy-on-write B+ tree, mmap)",
    .caps = KV_CAP_ORDERED | KV_CAP_DURABLE | KV_CAP_SNAPSHOT | KV_CAP_MULTIPROC,
    .options = lm_options,
    .default_max_key = LM_MAXKEY,
    .limit_max_key = LM_MAXKEY,
    .default_max_value = 64u << 20,
    .limit_max_value = 1u << 30,
    .open = lm_open,
    .close = lm_close,
    .put = lm_put,
    .get = lm_get,
    .del = lm_del,
    .sync = lm_sync,
    .stats = lm_stats,
    .iter_open = lm_iter_open,
    .iter_first = lm_iter_first,
    .iter_seek = lm_iter_seek,
    .iter_valid = lm_iter_valid,
    .iter_next = lm_iter_next,
    .iter_key = lm_iter_key,
    .iter_value = lm_iter_value,
    .iter_status = lm_iter_status,
    .iter_close = lm_iter_close,
};
