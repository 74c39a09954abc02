/*
 * btree_engine.c — engine "btree": the sprint-3 B+ tree behind kvlabs'
 * engine contract (kvlabs/kv.h).
 *
 * What this layer is. A thin adapter over the kernel-portable core
 * (include/bpt.h): it turns kv_open() options into a tree, maps the core's
 * BPT_* statuses to KV_* codes with a kv_last_error() detail, copies
 * values into the caller's kv_buf, reports statistics, and implements
 * kv.h's iterators on top of bpt_scan().
 *
 * Options:
 *   order=N   branching factor 3..1024 (default 64): an inner node has up to
 *             N children, a leaf up to N-1 entries.
 *
 * Limits: keys up to 65535 bytes (default max_key 1024), values up to
 * 1 GiB (default max_value 64 MiB).
 *
 * Concurrency (the lab's choice, documented in btree/README.md): one
 * reader-writer lock per tree, inside the core. Lookups, iterator batches
 * and stats share it; a put or delete holds it alone. Optimistic lock
 * coupling would let writers on different leaves run at once; a single
 * rwlock keeps every invariant checkable at any moment and is what the
 * TSan test exercises.
 *
 * Iterators. An iterator never holds the lock between calls (a writer on
 * the same thread must not deadlock). It copies a batch of entries out
 * under one read lock (16 at first, doubling up to 256 per refill, at
 * most 256 KiB unless one entry is bigger) and serves kv_iter_next() from
 * that copy; when the batch runs out it scans again from just after the
 * last key it returned. So every key present and unchanged for the whole
 * iteration is returned exactly once, in order; keys written meanwhile
 * may or may not appear; a scan of 100 keys takes 4 lock round trips.
 *
 * Not durable (kv_sync has nothing to do): the tree lives in memory.
 */
#include <string.h>

#include "bpt.h"
#include "btree.h"
#include "kvlabs/alloc.h"
#include "kvlabs/engine.h"
#include "kvlabs/error.h"

_Static_assert((int)BPT_OK == (int)KV_OK && (int)BPT_ENOTFOUND == (int)KV_ENOTFOUND &&
                   (int)BPT_EINVAL == (int)KV_EINVAL && (int)BPT_ETOOBIG == (int)KV_ETOOBIG &&
                   (int)BPT_ENOMEM == (int)KV_ENOMEM && (int)BPT_ECORRUPT == (int)KV_ECORRUPT,
               "the core's status codes must equal kvlabs' codes");

#define BATCH_FIRST 16
#define BATCH_MAX 256
#define BATCH_BYTES (256u << 10)

struct btree_db {
    kv_db base;
    bpt_tree *t;
};

struct btree_iter {
    kv_iter base;
    uint8_t *buf;       /* the batch: per entry, size_t klen, size_t vlen, key, value */
    size_t len, cap;    /* bytes used / allocated */
    size_t pos;         /* the current entry's offset (== len: none) */
    unsigned want;      /* entries to fetch at the next refill */
    unsigned got;       /* entries in this batch */
    bool eof;           /* the last scan reached the end of the tree */
    bool full;          /* the last scan stopped because the batch was full */
    int status;         /* KV_OK or the error that ended the iteration */
    kv_buf resume;      /* the last key returned, where the next batch starts after */
};

static const kv_opt_spec btree_options[] = {
    {"order", KV_OPT_UINT, "64", NULL, BPT_ORDER_MIN, BPT_ORDER_MAX,
     "branching factor: children per inner node (leaves hold order-1 entries)"},
    {0},
};

extern const kv_engine_ops kv_engine_btree;

bpt_tree *btree_engine_tree(kv_db *db)
{
    if (!db || db->ops != &kv_engine_btree)
        return NULL;
    return ((struct btree_db *)db)->t;
}

static int fail(int rc, const char *op)
{
    switch (rc) {
    case BPT_ENOTFOUND: return kv_fail(KV_ENOTFOUND, "btree: key not found");
    case BPT_ENOMEM: return kv_fail(KV_ENOMEM, "btree: out of memory during %s; nothing changed", op);
    case BPT_ETOOBIG: return kv_fail(KV_ETOOBIG, "btree: key or value above the tree's limit");
    case BPT_EINVAL: return kv_fail(KV_EINVAL, "btree: invalid argument to %s", op);
    case BPT_ENOTSUP: return KV_ENOTSUP; /* the stub named itself: "not implemented: FN" */
    default: return kv_fail(rc, "btree: %s failed", op);
    }
}

/* ---- open and close ------------------------------------------------------- */

static int btree_open(const kv_open_args *a, kv_db **out)
{
    struct btree_db *b = kv_calloc(1, sizeof(*b));
    int rc;

    if (!b)
        return kv_fail(KV_ENOMEM, "btree: out of memory");
    rc = bpt_create((unsigned)kv_opts_u64(a->opts, "order"), &b->t);
    if (rc != BPT_OK) {
        kv_free(b);
        return rc == BPT_ENOMEM ? kv_fail(KV_ENOMEM, "btree: out of memory creating the tree")
                                : kv_fail(KV_EINVAL, "btree: invalid order");
    }
    b->base.caps = KV_CAP_ORDERED;
    *out = &b->base;
    return KV_OK;
}

static int btree_close(kv_db *db)
{
    struct btree_db *b = (struct btree_db *)db;

    bpt_destroy(b->t);
    kv_free(b);
    return KV_OK;
}

/* ---- operations --------------------------------------------------------------- */

static int btree_put(kv_db *db, const void *key, size_t klen, const void *val, size_t vlen)
{
    int rc = bpt_put(((struct btree_db *)db)->t, key, klen, val, vlen);

    return rc == BPT_OK ? KV_OK : fail(rc, "put");
}

static int copy_value(void *arg, const void *val, size_t vlen)
{
    return kv_buf_set(arg, val, vlen);
}

static int btree_get(kv_db *db, const void *key, size_t klen, kv_buf *val)
{
    int rc = bpt_get(((struct btree_db *)db)->t, key, klen, val ? copy_value : NULL, val);

    if (rc == BPT_OK)
        return KV_OK;
    return rc == BPT_ENOMEM ? rc /* kv_buf_set said why */ : fail(rc, "get");
}

static int btree_del(kv_db *db, const void *key, size_t klen)
{
    int rc = bpt_delete(((struct btree_db *)db)->t, key, klen);

    return rc == BPT_OK ? KV_OK : fail(rc, "delete");
}

static int btree_stats(kv_db *db, kv_stats *out)
{
    struct btree_db *b = (struct btree_db *)db;
    bpt_stats st;

    bpt_stats_get(b->t, &st);
    out->keys = st.keys;
    out->bytes = st.bytes;
    out->mem_bytes = st.mem_bytes + sizeof(*b);
    kv_stats_add_extra(out, "order", st.order);
    kv_stats_add_extra(out, "height", st.height);
    kv_stats_add_extra(out, "leaves", (double)st.leaves);
    kv_stats_add_extra(out, "inner_nodes", (double)st.inners);
    kv_stats_add_extra(out, "leaf_fill",
                       st.leaf_slots ? (double)st.keys / (double)st.leaf_slots : 0);
    kv_stats_add_extra(out, "splits", (double)st.splits);
    kv_stats_add_extra(out, "merges", (double)st.merges);
    kv_stats_add_extra(out, "borrows", (double)st.borrows);
    kv_stats_add_extra(out, "bytes_per_key",
                       st.keys ? (double)out->mem_bytes / (double)st.keys : 0);
    return KV_OK;
}

/* ---- iterators ------------------------------------------------------------------ */

static int btree_iter_open(kv_db *db, kv_iter **out)
{
    struct btree_iter *it = kv_calloc(1, sizeof(*it));

    (void)db;
    if (!it)
        return kv_fail(KV_ENOMEM, "btree: out of memory for an iterator");
    it->want = BATCH_FIRST;
    *out = &it->base;
    return KV_OK;
}

/* bpt_scan's visitor: append one entry to the batch */
static int take(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
    struct btree_iter *it = arg;
    size_t need = 2 * sizeof(size_t) + kl + vl;

    if (it->got >= it->want || (it->got > 0 && it->len + need > BATCH_BYTES)) {
        it->full = true; /* stop: not the end of the tree */
        return 1;
    }
    if (it->len + need > it->cap) {
        size_t cap = it->cap ? it->cap : 4096;
        uint8_t *nb;
        while (cap < it->len + need)
            cap *= 2;
        nb = kv_realloc(it->buf, cap);
        if (!nb)
            return kv_fail(KV_ENOMEM, "btree: out of memory for an iterator batch");
        it->buf = nb;
        it->cap = cap;
    }
    memcpy(it->buf + it->len, &kl, sizeof(kl));
    memcpy(it->buf + it->len + sizeof(kl), &vl, sizeof(vl));
    memcpy(it->buf + it->len + 2 * sizeof(size_t), k, kl);
    if (vl)
        memcpy(it->buf + it->len + 2 * sizeof(size_t) + kl, v, vl);
    it->len += need;
    it->got++;
    return 0;
}

/* fetch the next batch, starting at (or after) key */
static void refill(struct btree_iter *it, const void *key, size_t klen, bool exclusive)
{
    struct btree_db *b = (struct btree_db *)it->base.db;
    int rc;

    it->len = it->pos = 0;
    it->got = 0;
    it->full = false;
    rc = bpt_scan(b->t, key, klen, exclusive, take, it);
    if (rc != BPT_OK) {
        it->status = rc;
        it->len = 0;
        return;
    }
    it->eof = !it->full;
    if (it->want < BATCH_MAX)
        it->want *= 2;
}

static void btree_iter_seek(kv_iter *base, const void *key, size_t klen)
{
    struct btree_iter *it = (struct btree_iter *)base;

    it->status = KV_OK;
    it->eof = false;
    it->want = BATCH_FIRST;
    refill(it, key, klen, false);
}

static void btree_iter_first(kv_iter *base)
{
    btree_iter_seek(base, NULL, 0);
}

static bool btree_iter_valid(const kv_iter *base)
{
    const struct btree_iter *it = (const struct btree_iter *)base;

    return it->status == KV_OK && it->pos < it->len;
}

static void entry(const struct btree_iter *it, const uint8_t **k, size_t *kl, const uint8_t **v,
                  size_t *vl)
{
    const uint8_t *p = it->buf + it->pos;
    memcpy(kl, p, sizeof(*kl));
    memcpy(vl, p + sizeof(*kl), sizeof(*vl));
    *k = p + 2 * sizeof(size_t);
    *v = *k + *kl;
}

static void btree_iter_next(kv_iter *base)
{
    struct btree_iter *it = (struct btree_iter *)base;
    const uint8_t *k, *v;
    size_t kl, vl;

    entry(it, &k, &kl, &v, &vl);
    it->pos += 2 * sizeof(size_t) + kl + vl;
    if (it->pos < it->len || it->eof)
        return;
    /* the batch is used up: scan on from just after its last key */
    if (kv_buf_set(&it->resume, k, kl) != KV_OK) {
        it->status = KV_ENOMEM;
        return;
    }
    refill(it, it->resume.data, it->resume.len, true);
}

static void btree_iter_key(const kv_iter *base, const void **k, size_t *n)
{
    const uint8_t *kk, *v;
    size_t vl;
    entry((const struct btree_iter *)base, &kk, n, &v, &vl);
    *k = kk;
}

static void btree_iter_value(const kv_iter *base, const void **v, size_t *n)
{
    const uint8_t *k, *vv;
    size_t kl;
    entry((const struct btree_iter *)base, &k, &kl, &vv, n);
    *v = vv;
}

static int btree_iter_status(const kv_iter *base)
{
    return ((const struct btree_iter *)base)->status;
}

static void btree_iter_close(kv_iter *base)
{
    struct btree_iter *it = (struct btree_iter *)base;

    kv_free(it->buf);
    kv_buf_free(&it->resume);
    kv_free(it);
}

const kv_engine_ops kv_engine_btree = {
    .name = "btree",
    .summary = "in-memory B+ tree: split, borrow/merge, ordered iterators, order= (sprint 3)",
    .caps = KV_CAP_ORDERED,
    .options = btree_options,
    .default_max_key = 1024,
    .limit_max_key = BPT_MAX_KEY,
    .default_max_value = 64u << 20,
    .limit_max_value = BPT_MAX_VALUE,
    .open = btree_open,
    .close = btree_close,
    .put = btree_put,
    .get = btree_get,
    .del = btree_del,
    .stats = btree_stats,
    .iter_open = btree_iter_open,
    .iter_first = btree_iter_first,
    .iter_seek = btree_iter_seek,
    .iter_valid = btree_iter_valid,
    .iter_next = btree_iter_next,
    .iter_key = btree_iter_key,
    .iter_value = btree_iter_value,
    .iter_status = btree_iter_status,
    .iter_close = btree_iter_close,
};
