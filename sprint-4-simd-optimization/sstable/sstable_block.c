/*
 * sstable_block.c — blocks: the builder (restart points and prefix
 * compression) and the iterator (decode and seek).
 *
 * A block is a run of entries sorted by internal key, then a restart array:
 *
 *   entry:   varint shared | varint unshared | varint vlen |
 *            key[shared..shared+unshared) | value[vlen]
 *   trailer: u32 restart[0] ... u32 restart[n-1] | u32 n      (little-endian)
 *
 * Each key stores only what it does not share with the previous key
 * (prefix compression); every restart_every entries a key is stored whole
 * (shared = 0) and its offset goes into the restart array. A seek
 * binary-searches the restart points (their keys are whole), then walks
 * forward at most restart_every entries, rebuilding each key from the
 * previous one. See docs/formats/sstable.md.
 *
 * The iterator checks every length against the block's end: a varint that
 * runs off, a shared prefix longer than the previous key, a restart offset
 * past the entries, or a restart entry with shared != 0 stops it with
 * KV_ECORRUPT. It never reads outside [data, data + n).
 *
 * An iterator is either allocated (lsm_block_iter, closed through its ops)
 * or lives in the caller's storage with its key in the caller's buffer
 * while it fits (lsm_block_iter_init / lsm_block_iter_fini: a table lookup
 * keeps its two on the stack and allocates nothing).
 *
 * Callers must not add keys out of order to a builder (the table builder
 * checks), and must not use a key or value from the iterator after its
 * next move.
 */
#include "sstable_int.h"

/* ---- builder ------------------------------------------------------------- */

void lsm_block_builder_init(lsm_block_builder *bb, unsigned restart_every)
{
    memset(bb, 0, sizeof *bb);
    bb->restart_every = restart_every ? restart_every : 16;
}

void lsm_block_builder_free(lsm_block_builder *bb)
{
    kv_free(bb->buf.p);
    kv_free(bb->restarts);
    kv_free(bb->last.p);
    memset(bb, 0, sizeof *bb);
}

void lsm_block_builder_reset(lsm_block_builder *bb)
{
    bb->buf.n = 0;
    bb->nrestarts = 0;
    bb->since_restart = 0;
    bb->last.n = 0;
    bb->entries = 0;
}

size_t lsm_block_builder_estimate(const lsm_block_builder *bb)
{
    return bb->buf.n + 4 * (bb->nrestarts + 1) + 4;
}

static int add_restart(lsm_block_builder *bb, uint32_t off)
{
    if (bb->nrestarts == bb->caprestarts) {
        size_t cap = bb->caprestarts ? 2 * bb->caprestarts : 16;
        uint32_t *r = kv_realloc(bb->restarts, cap * sizeof *r);
        if (!r)
            return kv_fail(KV_ENOMEM, "lsm: out of memory for a block's restart array");
        bb->restarts = r;
        bb->caprestarts = cap;
    }
    bb->restarts[bb->nrestarts++] = off;
    return KV_OK;
}

int lsm_block_builder_add(lsm_block_builder *bb, const void *k, size_t kn, const void *v,
                          size_t vn)
{
    /* STUB:
    (void)bb; (void)k; (void)kn; (void)v; (void)vn; (void)add_restart;
    return kv_fail(KV_ENOTSUP, "not implemented: %s", __func__);
    */
    /* BEGIN SOLUTION */
    size_t shared = 0;
    int rc;
    if (kn > UINT32_MAX || vn > UINT32_MAX || bb->buf.n > UINT32_MAX - 3 * 5 - kn - vn)
        return kv_fail(KV_ETOOBIG, "lsm: block entry too large");
    if (bb->since_restart == 0 || bb->since_restart >= bb->restart_every) {
        if ((rc = add_restart(bb, (uint32_t)bb->buf.n)))
            return rc;
        bb->since_restart = 0;
    } else {
        size_t m = kn < bb->last.n ? kn : bb->last.n;
        while (shared < m && bb->last.p[shared] == ((const uint8_t *)k)[shared])
            shared++;
    }
    if ((rc = lsm_bytes_reserve(&bb->buf, 15 + kn - shared + vn)))
        goto out_drop_restart;
    if ((rc = lsm_bytes_reserve(&bb->last, kn)))
        goto out_drop_restart;
    uint8_t *p = bb->buf.p + bb->buf.n;
    p += lsm_put_varint32(p, (uint32_t)shared);
    p += lsm_put_varint32(p, (uint32_t)(kn - shared));
    p += lsm_put_varint32(p, (uint32_t)vn);
    memcpy(p, (const uint8_t *)k + shared, kn - shared);
    p += kn - shared;
    if (vn)
        memcpy(p, v, vn);
    p += vn;
    bb->buf.n = (size_t)(p - bb->buf.p);
    memcpy(bb->last.p, k, kn);
    bb->last.n = kn;
    bb->since_restart++;
    bb->entries++;
    return KV_OK;
out_drop_restart:
    if (bb->since_restart == 0)
        bb->nrestarts--;
    return rc;
    /* END SOLUTION */
}

int lsm_block_builder_finish(lsm_block_builder *bb)
{
    /* STUB:
    (void)bb;
    return kv_fail(KV_ENOTSUP, "not implemented: %s", __func__);
    */
    /* BEGIN SOLUTION */
    int rc;
    if (bb->nrestarts == 0 && (rc = add_restart(bb, 0)))
        return rc;
    if ((rc = lsm_bytes_reserve(&bb->buf, 4 * bb->nrestarts + 4)))
        return rc;
    for (size_t i = 0; i < bb->nrestarts; i++)
        lsm_put_le32(bb->buf.p + bb->buf.n + 4 * i, bb->restarts[i]);
    bb->buf.n += 4 * bb->nrestarts;
    lsm_put_le32(bb->buf.p + bb->buf.n, (uint32_t)bb->nrestarts);
    bb->buf.n += 4;
    return KV_OK;
    /* END SOLUTION */
}

/* ---- iterator ------------------------------------------------------------- */

typedef lsm_block_it block_iter; /* sstable_int.h: callers may hold one on the stack */

static void bi_corrupt(block_iter *bi, const char *what)
{
    bi->valid = false;
    if (!bi->status)
        bi->status = kv_fail(KV_ECORRUPT, "lsm: corrupt block: %s", what);
}

static uint32_t restart_at(const block_iter *bi, uint32_t i)
{
    return kv_load_le32(bi->data + bi->limit + 4 * (size_t)i);
}

/* Decode the entry at bi->next into the current position; the key so far
 * is the previous entry's (shared prefix). */
static bool decode_next(block_iter *bi)
{
    /* STUB:
    bi->valid = false;
    if (!bi->status)
        bi->status = kv_fail(KV_ENOTSUP, "not implemented: %s", __func__);
    return false;
    */
    /* BEGIN SOLUTION */
    const uint8_t *p = bi->data + bi->next, *end = bi->data + bi->limit;
    uint32_t shared, unshared, vlen;
    if (bi->next >= bi->limit) {
        bi->valid = false;
        return false;
    }
    if (!(p = lsm_get_varint32(p, end, &shared)) || !(p = lsm_get_varint32(p, end, &unshared)) ||
        !(p = lsm_get_varint32(p, end, &vlen))) {
        bi_corrupt(bi, "entry header runs off the block");
        return false;
    }
    if (shared > bi->key.n || (size_t)(end - p) < (size_t)unshared + vlen) {
        bi_corrupt(bi, "entry length past the block or shared prefix too long");
        return false;
    }
    size_t need = (size_t)shared + unshared;
    int rc = lsm_bytes_reserve(&bi->key, (need > bi->key.n ? need - bi->key.n : 0) + 1);
    if (rc) {
        bi->valid = false;
        bi->status = rc;
        return false;
    }
    memcpy(bi->key.p + shared, p, unshared);
    bi->key.n = (size_t)shared + unshared;
    bi->val = p + unshared;
    bi->vlen = vlen;
    bi->cur = bi->next;
    bi->next = (size_t)(bi->val + vlen - bi->data);
    bi->valid = true;
    return true;
    /* END SOLUTION */
}

static void seek_restart(block_iter *bi, uint32_t i)
{
    uint32_t off = restart_at(bi, i);
    bi->key.n = 0;
    if (off >= bi->limit) {
        bi_corrupt(bi, "restart offset past the entries");
        return;
    }
    bi->next = off;
}

static void bi_first(lsm_iter *it)
{
    block_iter *bi = (block_iter *)it;
    if (bi->status)
        return;
    seek_restart(bi, 0);
    if (!bi->status)
        decode_next(bi);
}

static void bi_next(lsm_iter *it)
{
    block_iter *bi = (block_iter *)it;
    if (bi->valid)
        decode_next(bi);
}

static void bi_seek(lsm_iter *it, const void *target, size_t tn)
{
    /* STUB:
    block_iter *bi = (block_iter *)it;
    (void)target; (void)tn;
    bi->valid = false;
    if (!bi->status)
        bi->status = kv_fail(KV_ENOTSUP, "not implemented: %s", __func__);
    */
    /* BEGIN SOLUTION */
    block_iter *bi = (block_iter *)it;
    uint32_t lo = 0, hi = bi->nrestarts - 1;
    if (bi->status)
        return;
    /* the last restart whose key is < target (or restart 0) */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo + 1) / 2;
        seek_restart(bi, mid);
        if (bi->status || !decode_next(bi))
            return;
        if (bi->key.n < LSM_TRAILER) {
            bi_corrupt(bi, "key shorter than its trailer");
            return;
        }
        if (lsm_ikey_cmp(bi->key.p, bi->key.n, target, tn) < 0)
            lo = mid;
        else
            hi = mid - 1;
    }
    seek_restart(bi, lo);
    if (bi->status)
        return;
    while (decode_next(bi)) {
        if (bi->key.n < LSM_TRAILER) {
            bi_corrupt(bi, "key shorter than its trailer");
            return;
        }
        if (lsm_ikey_cmp(bi->key.p, bi->key.n, target, tn) >= 0)
            return;
    }
    /* END SOLUTION */
}

static bool bi_valid(const lsm_iter *it)
{
    return ((const block_iter *)it)->valid;
}

static void bi_key(const lsm_iter *it, const void **k, size_t *n)
{
    const block_iter *bi = (const block_iter *)it;
    *k = bi->key.p;
    *n = bi->key.n;
}

static void bi_value(const lsm_iter *it, const void **v, size_t *n)
{
    const block_iter *bi = (const block_iter *)it;
    *v = bi->val;
    *n = bi->vlen;
}

static int bi_status(const lsm_iter *it)
{
    return ((const block_iter *)it)->status;
}

void lsm_block_iter_fini(lsm_block_it *bi)
{
    if (bi->own)
        kv_free((void *)bi->data);
    if (!bi->key.borrowed)
        kv_free(bi->key.p);
    bi->data = NULL;
    bi->key.p = NULL;
}

static void bi_close(lsm_iter *it)
{
    block_iter *bi = (block_iter *)it;
    if (!bi)
        return;
    lsm_block_iter_fini(bi);
    kv_free(bi);
}

static const lsm_iter_ops block_iter_ops = {
    .first = bi_first, .seek = bi_seek, .next = bi_next, .valid = bi_valid,
    .key = bi_key, .value = bi_value, .status = bi_status, .close = bi_close,
};

/* The restart count of a block of n bytes, or 0 when it cannot be one. */
static uint32_t restart_count(const void *data, size_t n)
{
    uint32_t nr;
    if (n < 4 || (nr = kv_load_le32((const uint8_t *)data + n - 4)) == 0 || nr > (n - 4) / 4)
        return 0;
    return nr;
}

static int bad_restarts(const void *data, size_t n, bool own)
{
    if (own)
        kv_free((void *)data);
    return kv_fail(KV_ECORRUPT, "lsm: corrupt block: bad restart count (block of %zu bytes)", n);
}

static void iter_setup(block_iter *bi, const void *data, size_t n, bool own, uint32_t nr)
{
    memset(bi, 0, sizeof *bi);
    bi->data = data;
    bi->own = own;
    bi->base.ops = &block_iter_ops;
    bi->nrestarts = nr;
    bi->limit = n - 4 - 4 * (size_t)nr;
}

int lsm_block_iter_init(lsm_block_it *bi, const void *data, size_t n, bool own, uint8_t *keybuf,
                        size_t keycap)
{
    uint32_t nr = restart_count(data, n);
    memset(bi, 0, sizeof *bi);
    if (!nr)
        return bad_restarts(data, n, own);
    iter_setup(bi, data, n, own, nr);
    if (keybuf && keycap) {
        bi->key.p = keybuf;
        bi->key.cap = keycap;
        bi->key.borrowed = true;
    }
    return KV_OK;
}

int lsm_block_iter(const void *data, size_t n, bool own, lsm_iter **out)
{
    block_iter *bi;
    uint32_t nr;
    *out = NULL;
    if (!(nr = restart_count(data, n)))
        return bad_restarts(data, n, own);
    if (!(bi = kv_malloc(sizeof *bi))) {
        if (own)
            kv_free((void *)data);
        return kv_fail(KV_ENOMEM, "lsm: out of memory opening a block iterator");
    }
    iter_setup(bi, data, n, own, nr);
    *out = &bi->base;
    return KV_OK;
}
