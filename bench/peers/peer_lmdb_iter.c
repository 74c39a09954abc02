/*
 * peer_lmdb_iter.c — the iterators of peer engine "lmdb" (peer_lmdb.c):
 * each owns a read-only transaction and a cursor.
 *
 * An unpositioned iterator holds no snapshot (its transaction is reset);
 * kv_iter_first and kv_iter_seek commit an open batch, renew the
 * transaction and rebind the cursor, so each positioning starts a fresh
 * iteration on a true snapshot that sees every acknowledged write, and
 * kv_iter_next stays in it. Key and value pointers point into the map and
 * stay valid until the iterator moves or closes.
 *
 * Callers must not use an iterator after its store is closed.
 */
#include <string.h>

#include "kvlabs/alloc.h"
#include "kvlabs/error.h"
#include "peer_lmdb_int.h"

/* ---- iterators: a read-only transaction and a cursor -------------------------- */

int lm_iter_open(kv_db *db, kv_iter **out)
{
    struct lm_env *e = ((struct lm_db *)db)->e;
    struct lm_iter *it;
    int m, rc;

    it = kv_calloc(1, sizeof(*it));
    if (!it)
        return kv_fail(KV_ENOMEM, "lmdb: out of memory for an iterator");
    it->e = e;
    rc = lm_rtxn(e, &it->txn);
    if (rc == KV_OK && (m = mdb_cursor_open(it->txn, e->dbi, &it->cur)) != 0) {
        rc = lm_fail(e, m, "mdb_cursor_open");
        lm_rtxn_done(e, it->txn);
    }
    if (rc != KV_OK) {
        kv_free(it);
        return rc;
    }
    mdb_txn_reset(it->txn); /* unpositioned: hold no snapshot (pin no pages) yet */
    *out = &it->base;
    return KV_OK;
}

/*
 * Each positioning starts a new iteration on a fresh snapshot: commit an
 * open batch (so the iteration sees every acknowledged write), renew the
 * read transaction and rebind the cursor to it.
 */
static bool lm_iter_renew(struct lm_iter *it)
{
    int m, rc = lm_flush(it->e, false);

    it->valid = false;
    it->status = rc;
    if (rc != KV_OK)
        return false;
    if (it->live)
        mdb_txn_reset(it->txn);
    it->live = false;
    m = mdb_txn_renew(it->txn);
    if (!m)
        m = mdb_cursor_renew(it->txn, it->cur);
    if (m) {
        it->status = lm_fail(it->e, m, "renewing the iterator's snapshot");
        return false;
    }
    it->live = true;
    return true;
}

static void lm_iter_move(struct lm_iter *it, MDB_cursor_op op)
{
    int m = mdb_cursor_get(it->cur, &it->k, &it->v, op);

    it->valid = m == 0;
    it->status = m == 0 || m == MDB_NOTFOUND ? KV_OK : lm_fail(it->e, m, "cursor");
}

void lm_iter_first(kv_iter *base)
{
    struct lm_iter *it = (struct lm_iter *)base;

    if (lm_iter_renew(it))
        lm_iter_move(it, MDB_FIRST);
}

void lm_iter_seek(kv_iter *base, const void *key, size_t klen)
{
    struct lm_iter *it = (struct lm_iter *)base;
    size_t n = klen > it->e->max_key ? it->e->max_key : klen;

    if (!lm_iter_renew(it))
        return;
    if (!klen) {
        lm_iter_move(it, MDB_FIRST);
        return;
    }
    /*
     * A seek key longer than any stored key: every stored key that starts
     * with its first max_key bytes P is P itself, which is shorter and so
     * smaller; the first key >= the seek key is the first key > P.
     */
    it->k.mv_size = n;
    it->k.mv_data = (void *)key;
    lm_iter_move(it, MDB_SET_RANGE);
    if (n < klen && it->valid && it->k.mv_size == n && !memcmp(it->k.mv_data, key, n))
        lm_iter_move(it, MDB_NEXT);
}

bool lm_iter_valid(const kv_iter *base)
{
    return ((const struct lm_iter *)base)->valid;
}

void lm_iter_next(kv_iter *base)
{
    lm_iter_move((struct lm_iter *)base, MDB_NEXT);
}

void lm_iter_key(const kv_iter *base, const void **k, size_t *n)
{
    const struct lm_iter *it = (const struct lm_iter *)base;

    *k = it->k.mv_data;
    *n = it->k.mv_size;
}

void lm_iter_value(const kv_iter *base, const void **v, size_t *n)
{
    const struct lm_iter *it = (const struct lm_iter *)base;

    *v = it->v.mv_data;
    *n = it->v.mv_size;
}

int lm_iter_status(const kv_iter *base)
{
    return ((const struct lm_iter *)base)->status;
}

void lm_iter_close(kv_iter *base)
{
    struct lm_iter *it = (struct lm_iter *)base;

    mdb_cursor_close(it->cur);
    lm_rtxn_done(it->e, it->txn); /* resets it (again, if unpositioned) */
    kv_free(it);
}
