/*
 * peer_lmdb_txn.c — the transactions of peer engine "lmdb" (peer_lmdb.c):
 * LMDB's error codes as kvlabs statuses, the pool of reset read-only
 * transactions, and the writes: one write transaction per put or delete
 * (batch=1), or a batch of them in the private writer thread (batch>1).
 *
 * How it works, and why a thread: see "Writes" and "Reads" at the top of
 * peer_lmdb.c. This file is the bottom of the adapter: peer_lmdb.c (open,
 * close, the operations) and peer_lmdb_iter.c (iterators) call it, and it
 * calls neither.
 *
 * Callers must not begin a write transaction outside this file (a batch's
 * transaction belongs to the writer thread).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <lmdb.h>

#include "kvlabs/alloc.h"
#include "kvlabs/engine.h"
#include "kvlabs/error.h"
#include "peer_common.h"
#include "peer_lmdb_int.h"

static int lm_code(int m)
{
    switch (m) {
    case MDB_NOTFOUND: return KV_ENOTFOUND;
    case MDB_MAP_FULL:
    case MDB_TXN_FULL:
    case MDB_PAGE_FULL: return KV_EFULL;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH: return KV_ECORRUPT;
    case MDB_READERS_FULL:
    case MDB_MAP_RESIZED:
    case MDB_TLS_FULL: return KV_EBUSY;
    case MDB_BAD_VALSIZE: return KV_ETOOBIG;
    default: return m > 0 ? kv_status_from_errno(m) : KV_EIO;
    }
}

int lm_fail(const struct lm_env *e, int m, const char *what)
{
    if (m == MDB_MAP_FULL)
        return kv_fail(KV_EFULL,
                       "lmdb: %s: the map is full (map_size=%zu): reopen with a larger "
                       "map_size=",
                       what, e->map_size);
    return kv_fail(lm_code(m), "lmdb: %s: %s", what, mdb_strerror(m));
}

static int lm_env_sync(struct lm_env *e)
{
    int m = mdb_env_sync(e->env, 1);

    if (m)
        return lm_fail(e, m, "mdb_env_sync");
    atomic_store(&e->last_sync_ms, kvpeer_now_ms());
    return KV_OK;
}

static bool lm_sync_due(struct lm_env *e)
{
    return e->sync == KV_SYNC_BATCH && kvpeer_sync_due(&e->last_sync_ms, e->sync_ms);
}

/* ---- read transactions: a pool of reset ones ------------------------------ */

int lm_rtxn(struct lm_env *e, MDB_txn **out)
{
    MDB_txn *t = NULL;
    int m;

    pthread_mutex_lock(&e->pool_lock);
    if (e->npool)
        t = e->pool[--e->npool];
    pthread_mutex_unlock(&e->pool_lock);
    if (t && mdb_txn_renew(t) != 0) {
        mdb_txn_abort(t);
        t = NULL;
    }
    if (!t && (m = mdb_txn_begin(e->env, NULL, MDB_RDONLY, &t)) != 0)
        return lm_fail(e, m, "begin read transaction");
    *out = t;
    return KV_OK;
}

void lm_rtxn_done(struct lm_env *e, MDB_txn *t)
{
    mdb_txn_reset(t);
    pthread_mutex_lock(&e->pool_lock);
    if (e->npool < LM_POOL) {
        e->pool[e->npool++] = t;
        t = NULL;
    }
    pthread_mutex_unlock(&e->pool_lock);
    if (t)
        mdb_txn_abort(t);
}

/* ---- writes ----------------------------------------------------------------- */

/* One put or delete inside @p txn; *delta: the change of live bytes. */
static int lm_apply(struct lm_env *e, MDB_txn *txn, bool del, const void *key, size_t klen,
                    const void *val, size_t vlen, int64_t *delta)
{
    MDB_val k = {.mv_size = klen, .mv_data = (void *)key};
    MDB_val v = {.mv_size = vlen, .mv_data = (void *)val}, old;
    int m;

    *delta = 0;
    if (e->exact) {
        m = mdb_get(txn, e->dbi, &k, &old);
        if (m == 0)
            *delta -= (int64_t)(klen + old.mv_size);
        else if (m != MDB_NOTFOUND)
            return lm_fail(e, m, "get");
        else if (del)
            return kv_fail(KV_ENOTFOUND, "lmdb: key not found");
    }
    if (del) {
        m = mdb_del(txn, e->dbi, &k, NULL);
        if (m == MDB_NOTFOUND)
            return kv_fail(KV_ENOTFOUND, "lmdb: key not found");
        return m ? lm_fail(e, m, "delete") : KV_OK;
    }
    m = mdb_put(txn, e->dbi, &k, &v, 0);
    if (m)
        return lm_fail(e, m, "put");
    *delta += (int64_t)(klen + vlen);
    return KV_OK;
}

/* batch = 1: one write transaction in the calling thread. */
static int lm_write_direct(struct lm_env *e, bool del, const void *key, size_t klen,
                           const void *val, size_t vlen)
{
    MDB_txn *txn;
    int64_t delta;
    int rc, m = mdb_txn_begin(e->env, NULL, 0, &txn);

    if (m)
        return lm_fail(e, m, "begin write transaction");
    rc = lm_apply(e, txn, del, key, klen, val, vlen, &delta);
    if (rc != KV_OK) {
        mdb_txn_abort(txn);
        return rc;
    }
    m = mdb_txn_commit(txn);
    if (m)
        return lm_fail(e, m, "commit");
    atomic_fetch_add(&e->bytes, delta);
    return lm_sync_due(e) ? lm_env_sync(e) : KV_OK;
}

/* Writer thread: commit the open batch, if any. */
static int lm_batch_commit(struct lm_env *e)
{
    unsigned n = e->bpending;
    int m;

    if (!e->btxn)
        return KV_OK;
    m = mdb_txn_commit(e->btxn);
    e->btxn = NULL;
    e->bpending = 0;
    atomic_store(&e->batch_open, false);
    if (m)
        return kv_fail(lm_code(m), "lmdb: commit of a batch of %u writes failed, they are lost: %s",
                       n, mdb_strerror(m));
    atomic_fetch_add(&e->bytes, e->bdelta);
    e->bdelta = 0;
    return KV_OK;
}

/* Writer thread: a write failed inside the batch; LMDB needs the txn aborted. */
static int lm_batch_abort(struct lm_env *e, int rc)
{
    char why[KV_ERROR_MAX];
    unsigned n = e->bpending;

    snprintf(why, sizeof(why), "%s", kv_last_error());
    mdb_txn_abort(e->btxn);
    e->btxn = NULL;
    e->bpending = 0;
    e->bdelta = 0;
    atomic_store(&e->batch_open, false);
    return n ? kv_fail(rc, "%s (the open batch's %u earlier writes are lost with it)", why, n)
             : kv_fail(rc, "%s", why);
}

static int lm_serve_write(struct lm_env *e, const struct lm_req *r)
{
    int64_t delta;
    int rc, m;

    if (!e->btxn) {
        m = mdb_txn_begin(e->env, NULL, 0, &e->btxn);
        if (m) {
            e->btxn = NULL;
            return lm_fail(e, m, "begin batch transaction");
        }
        e->bpending = 0;
        e->bdelta = 0;
        atomic_store(&e->batch_open, true);
    }
    rc = lm_apply(e, e->btxn, r->op == LM_DEL, r->key, r->klen, r->val, r->vlen, &delta);
    if (rc == KV_ENOTFOUND)
        return rc; /* a delete of an absent key leaves the transaction intact */
    if (rc != KV_OK)
        return lm_batch_abort(e, rc);
    e->bdelta += delta;
    if (++e->bpending >= e->batch)
        rc = lm_batch_commit(e);
    if (rc == KV_OK && lm_sync_due(e)) {
        rc = lm_batch_commit(e);
        if (rc == KV_OK)
            rc = lm_env_sync(e);
    }
    return rc;
}

static void lm_serve(struct lm_env *e, struct lm_req *r)
{
    int rc;

    if (r->op == LM_PUT || r->op == LM_DEL) {
        rc = lm_serve_write(e, r);
    } else {
        rc = lm_batch_commit(e);
        if (rc == KV_OK && r->sync)
            rc = lm_env_sync(e);
    }
    r->rc = rc;
    if (rc != KV_OK) /* the detail is thread-local: carry it to the caller */
        snprintf(r->err, sizeof(r->err), "%s", kv_last_error());
}

void *lm_writer_main(void *arg)
{
    struct lm_env *e = arg;
    bool stop = false;

    pthread_mutex_lock(&e->w_lock);
    while (!stop) {
        struct lm_req *r;
        while (!e->req || e->req->done)
            pthread_cond_wait(&e->w_cv, &e->w_lock);
        r = e->req;
        pthread_mutex_unlock(&e->w_lock);
        lm_serve(e, r);
        stop = r->op == LM_STOP;
        pthread_mutex_lock(&e->w_lock);
        r->done = true;
        e->req = NULL;
        pthread_cond_broadcast(&e->w_cv);
    }
    pthread_mutex_unlock(&e->w_lock);
    return NULL;
}

/* Hand @p r to the writer thread and wait for its answer. */
int lm_call(struct lm_env *e, struct lm_req *r)
{
    pthread_mutex_lock(&e->call_lock);
    pthread_mutex_lock(&e->w_lock);
    e->req = r;
    pthread_cond_broadcast(&e->w_cv);
    while (!r->done)
        pthread_cond_wait(&e->w_cv, &e->w_lock);
    pthread_mutex_unlock(&e->w_lock);
    pthread_mutex_unlock(&e->call_lock);
    return r->rc == KV_OK ? KV_OK : kv_fail(r->rc, "%s", r->err);
}

/* Commit the open batch (before a read), and with @p sync make everything durable. */
int lm_flush(struct lm_env *e, bool sync)
{
    struct lm_req r = {.op = LM_FLUSH, .sync = sync};

    if (!e->has_writer)
        return sync ? lm_env_sync(e) : KV_OK;
    if (!sync && !atomic_load(&e->batch_open))
        return KV_OK;
    return lm_call(e, &r);
}

int lm_write(struct lm_env *e, enum lm_op op, const void *key, size_t klen, const void *val,
             size_t vlen)
{
    struct lm_req r = {.op = op, .key = key, .klen = klen, .val = val, .vlen = vlen};

    if (!e->has_writer)
        return lm_write_direct(e, op == LM_DEL, key, klen, val, vlen);
    return lm_call(e, &r);
}
