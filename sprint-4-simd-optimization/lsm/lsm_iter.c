/*
 * lsm_iter.c — the iterators that stitch the LSM tree's sources together.
 *
 * A read of the whole store sees several sorted sources at once: the
 * active memtable, the immutable one, every L0 table (their ranges
 * overlap) and one run per deeper level. Two iterators combine them:
 *
 * - the level iterator walks the files of one level >= 1 (sorted by key,
 *   disjoint) as one sequence, opening a table iterator only for the file
 *   it is in; a seek binary-searches the files by largest key;
 * - the merging iterator yields the union of its children in internal-key
 *   order: it keeps every child positioned and, at each step, the child
 *   with the smallest key is current (a linear pick: a store has about a
 *   dozen sources, where a heap would not pay for itself). On equal keys
 *   the child listed first wins, so callers list the newest source first.
 *
 * The engine's kv_iter (lsm_storage_engine.c) sits on a merging iterator
 * and turns internal keys into the user's view (newest visible version,
 * tombstones hidden). Callers must keep the files of a level iterator
 * referenced (a pinned version) while it is open.
 */
#include "lsm_int.h"

/* ---- merging ------------------------------------------------------------------ */

typedef struct merge_iter {
    lsm_iter base;
    lsm_iter **c;
    size_t n;
    lsm_iter *cur;
} merge_iter;

static void pick_min(merge_iter *m)
{
    const void *bk = NULL, *k;
    size_t bn = 0, kn;
    m->cur = NULL;
    for (size_t i = 0; i < m->n; i++) {
        lsm_iter *c = m->c[i];
        if (!c->ops->valid(c))
            continue;
        c->ops->key(c, &k, &kn);
        if (!m->cur || lsm_ikey_cmp(k, kn, bk, bn) < 0) {
            m->cur = c;
            bk = k;
            bn = kn;
        }
    }
}

static int mg_status(const lsm_iter *it)
{
    const merge_iter *m = (const merge_iter *)it;
    for (size_t i = 0; i < m->n; i++) {
        int rc = m->c[i]->ops->status(m->c[i]);
        if (rc)
            return rc;
    }
    return KV_OK;
}

static void mg_first(lsm_iter *it)
{
    merge_iter *m = (merge_iter *)it;
    for (size_t i = 0; i < m->n; i++)
        m->c[i]->ops->first(m->c[i]);
    pick_min(m);
}

static void mg_seek(lsm_iter *it, const void *k, size_t n)
{
    merge_iter *m = (merge_iter *)it;
    for (size_t i = 0; i < m->n; i++)
        m->c[i]->ops->seek(m->c[i], k, n);
    pick_min(m);
}

static void mg_next(lsm_iter *it)
{
    merge_iter *m = (merge_iter *)it;
    if (!m->cur)
        return;
    m->cur->ops->next(m->cur);
    pick_min(m);
}

static bool mg_valid(const lsm_iter *it)
{
    const merge_iter *m = (const merge_iter *)it;
    /* a child that failed ends the merge: skipping it would hide its keys */
    return m->cur != NULL && mg_status(it) == KV_OK;
}

static void mg_key(const lsm_iter *it, const void **k, size_t *n)
{
    const merge_iter *m = (const merge_iter *)it;
    m->cur->ops->key(m->cur, k, n);
}

static void mg_value(const lsm_iter *it, const void **v, size_t *n)
{
    const merge_iter *m = (const merge_iter *)it;
    m->cur->ops->value(m->cur, v, n);
}

static void mg_close(lsm_iter *it)
{
    merge_iter *m = (merge_iter *)it;
    for (size_t i = 0; i < m->n; i++)
        m->c[i]->ops->close(m->c[i]);
    kv_free(m->c);
    kv_free(m);
}

static const lsm_iter_ops merge_iter_ops = {
    .first = mg_first, .seek = mg_seek, .next = mg_next, .valid = mg_valid,
    .key = mg_key, .value = mg_value, .status = mg_status, .close = mg_close,
};

int lsm_merge_iter(lsm_iter **children, size_t n, lsm_iter **out)
{
    merge_iter *m = kv_calloc(1, sizeof *m);
    *out = NULL;
    if (!m || (n && !(m->c = kv_malloc(n * sizeof *m->c)))) {
        kv_free(m);
        for (size_t i = 0; i < n; i++)
            children[i]->ops->close(children[i]);
        return kv_fail(KV_ENOMEM, "lsm: out of memory for a merging iterator");
    }
    if (n)
        memcpy(m->c, children, n * sizeof *m->c);
    m->n = n;
    m->base.ops = &merge_iter_ops;
    *out = &m->base;
    return KV_OK;
}

/* ---- level ---------------------------------------------------------------------- */

typedef struct level_iter {
    lsm_iter base;
    lsm_file *const *files;
    size_t n, idx;   /* idx == n: past the end */
    lsm_iter *t;     /* the current file's iterator */
    int status;
} level_iter;

static void lv_open(level_iter *lv, size_t idx)
{
    int rc;
    if (lv->t) {
        lv->t->ops->close(lv->t);
        lv->t = NULL;
    }
    lv->idx = idx;
    if (idx < lv->n && (rc = lsm_table_iter(lv->files[idx]->table, &lv->t)))
        lv->status = rc;
}

static void lv_skip(level_iter *lv)
{
    while (!lv->status && lv->t && !lv->t->ops->valid(lv->t)) {
        if ((lv->status = lv->t->ops->status(lv->t)))
            return;
        lv_open(lv, lv->idx + 1);
        if (lv->t)
            lv->t->ops->first(lv->t);
    }
}

static void lv_first(lsm_iter *it)
{
    level_iter *lv = (level_iter *)it;
    if (lv->status)
        return;
    lv_open(lv, 0);
    if (lv->t)
        lv->t->ops->first(lv->t);
    lv_skip(lv);
}

static void lv_seek(lsm_iter *it, const void *k, size_t kn)
{
    level_iter *lv = (level_iter *)it;
    size_t lo = 0, hi = lv->n;
    if (lv->status)
        return;
    while (lo < hi) { /* the first file whose largest key is >= k */
        size_t mid = lo + (hi - lo) / 2;
        const lsm_file *f = lv->files[mid];
        if (lsm_ikey_cmp(f->largest.p, f->largest.n, k, kn) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    lv_open(lv, lo);
    if (lv->t)
        lv->t->ops->seek(lv->t, k, kn);
    lv_skip(lv);
}

static void lv_next(lsm_iter *it)
{
    level_iter *lv = (level_iter *)it;
    if (lv->status || !lv->t)
        return;
    lv->t->ops->next(lv->t);
    lv_skip(lv);
}

static bool lv_valid(const lsm_iter *it)
{
    const level_iter *lv = (const level_iter *)it;
    return !lv->status && lv->t && lv->t->ops->valid(lv->t);
}

static void lv_key(const lsm_iter *it, const void **k, size_t *n)
{
    const level_iter *lv = (const level_iter *)it;
    lv->t->ops->key(lv->t, k, n);
}

static void lv_value(const lsm_iter *it, const void **v, size_t *n)
{
    const level_iter *lv = (const level_iter *)it;
    lv->t->ops->value(lv->t, v, n);
}

static int lv_status(const lsm_iter *it)
{
    const level_iter *lv = (const level_iter *)it;
    if (lv->status)
        return lv->status;
    return lv->t ? lv->t->ops->status(lv->t) : KV_OK;
}

static void lv_close(lsm_iter *it)
{
    level_iter *lv = (level_iter *)it;
    if (lv->t)
        lv->t->ops->close(lv->t);
    kv_free(lv);
}

static const lsm_iter_ops level_iter_ops = {
    .first = lv_first, .seek = lv_seek, .next = lv_next, .valid = lv_valid,
    .key = lv_key, .value = lv_value, .status = lv_status, .close = lv_close,
};

int lsm_level_iter(lsm_file *const *files, size_t n, lsm_iter **out)
{
    level_iter *lv = kv_calloc(1, sizeof *lv);
    *out = NULL;
    if (!lv)
        return kv_fail(KV_ENOMEM, "lsm: out of memory for a level iterator");
    lv->base.ops = &level_iter_ops;
    lv->files = files;
    lv->n = n;
    lv->idx = n;
    *out = &lv->base;
    return KV_OK;
}
