/*
 * sstable_reader.c — reading an SSTable: open, point lookup, iterator.
 *
 * Open reads the 56-byte footer at the end of the file and checks its
 * magic, version and CRC, then reads the index block and the filter block
 * (each checked against its CRC32C) and keeps both in memory. A lookup
 * probes the bloom filter with the user key; on "maybe" it binary-searches
 * the index (entries: a data block's last internal key -> its handle) for
 * the first block whose last key is >= the target, reads that block
 * (checking its CRC) and seeks in it. The iterator is two-level: an index
 * iterator, and an iterator over the current data block.
 *
 * Where the env can map files (posix; not the mem and fault envs), open
 * maps the whole table read-only and a block read is a checksum over the
 * mapped bytes and one copy, no system call; otherwise blocks are pread.
 * A lookup keeps its index and block iterators on its stack
 * (lsm_block_iter_init): a get allocates nothing unless the block must be
 * read into the cache.
 *
 * Data blocks go through the store's block cache when it has one
 * (stats->cache; sstable_cache.c): a block found there is used pinned, in
 * place; a block read from the file (and checked) is inserted, and the
 * reader keeps it pinned while it reads it (a get, or a table iterator on
 * that block). The index and the filter stay in the table, not the cache.
 *
 * Every handle read from the file is checked before use: a block must lie
 * wholly before the footer, and no block is larger than LSM_BLOCK_MAX. A
 * failed check is KV_ECORRUPT, never a read out of bounds.
 *
 * Callers must keep a table open while an iterator over it is open, and
 * must not close a table another thread is reading (the LSM tree
 * reference-counts its versions for that).
 */
#include "sstable_int.h"

struct lsm_table {
    kv_file *f;
    const uint8_t *map;     /* the whole file mapped read-only, or NULL (pread) */
    uint64_t size;
    uint64_t data_end;      /* where the footer starts */
    uint8_t *index;         /* index block contents */
    size_t index_n;
    uint8_t *filter;        /* filter contents, or NULL */
    size_t filter_n;
    uint64_t entries;
    lsm_read_stats *stats;
    lsm_cache *cache;       /* stats->cache, or NULL */
    uint64_t cache_id;      /* this table's name in the cache */
};

/* Read the block at handle (off, n): checked, kv_malloc'd contents in *out,
 * decompressed when its trailer says so (their length in *len). */
static int read_block(const lsm_table *t, uint64_t off, uint64_t n, uint8_t **out, size_t *len)
{
    uint8_t *buf;
    const uint8_t *src;
    size_t got;
    int rc;
    *out = NULL;
    if (n > LSM_BLOCK_MAX || off > t->data_end || t->data_end - off < n + LSM_BLOCK_TRAILER)
        return kv_fail(KV_ECORRUPT, "lsm: corrupt table: block handle (%llu, %llu) out of range",
                       (unsigned long long)off, (unsigned long long)n);
    if (t->map) {
        /* mapped: check the block where it lies, copy only what is kept */
        src = t->map + off;
        buf = NULL;
    } else {
        if (!(buf = kv_malloc((size_t)n + LSM_BLOCK_TRAILER)))
            return kv_fail(KV_ENOMEM, "lsm: out of memory reading a block");
        if ((rc = kv_file_pread(t->f, buf, (size_t)n + LSM_BLOCK_TRAILER, off, &got)))
            goto out_free_buf;
        if (got != n + LSM_BLOCK_TRAILER) {
            rc = kv_fail(KV_ECORRUPT, "lsm: corrupt table: short block");
            goto out_free_buf;
        }
        src = buf;
    }
    if (kv_crc32c(0, src, (size_t)n + 1) != kv_load_le32(src + n + 1)) {
        rc = kv_fail(KV_ECORRUPT, "lsm: corrupt table: block checksum mismatch at %llu",
                     (unsigned long long)off);
        goto out_free_buf;
    }
    *len = (size_t)n;
    if (src[n] != LSM_COMPRESS_NONE) {
        uint8_t *raw;
        if ((rc = lsm_block_decompress(src[n], src, (size_t)n, &raw, len)))
            goto out_free_buf;
        kv_free(buf);
        buf = raw;
    } else if (!buf) {
        if (!(buf = kv_malloc(n ? (size_t)n : 1)))
            return kv_fail(KV_ENOMEM, "lsm: out of memory reading a block");
        memcpy(buf, src, (size_t)n);
    }
    *out = buf;
    return KV_OK;
out_free_buf:
    kv_free(buf);
    return rc;
}

int lsm_table_open(kv_file *f, uint64_t size, lsm_read_stats *stats, lsm_table **out)
{
    uint8_t footer[LSM_FOOTER_SIZE];
    lsm_table *t;
    size_t got;
    int rc;
    *out = NULL;
    if (!(t = kv_calloc(1, sizeof *t))) {
        kv_file_close(f);
        return kv_fail(KV_ENOMEM, "lsm: out of memory opening a table");
    }
    t->f = f;
    t->size = size;
    t->stats = stats;
    if (stats && stats->cache) {
        t->cache = stats->cache;
        t->cache_id = lsm_cache_new_id(t->cache);
    }
    if (size < LSM_FOOTER_SIZE) {
        rc = kv_fail(KV_ECORRUPT, "lsm: corrupt table: %llu bytes, shorter than a footer",
                     (unsigned long long)size);
        goto out_close;
    }
    t->data_end = size - LSM_FOOTER_SIZE;
    /* map the file when the env can (posix; not the mem and fault envs,
     * whose reads then go through pread): a block read is then no system
     * call; the size must fit the address space */
    void *map;
    if (size <= SIZE_MAX && kv_file_mmap(f, 0, (size_t)size, false, &map) == KV_OK)
        t->map = map;
    if ((rc = kv_file_pread(f, footer, sizeof footer, t->data_end, &got)))
        goto out_close;
    if (got != sizeof footer || kv_load_le64(footer + 48) != LSM_TABLE_MAGIC ||
        kv_load_le32(footer + 40) != LSM_TABLE_VERSION ||
        kv_crc32c(0, footer, 44) != kv_load_le32(footer + 44)) {
        rc = kv_fail(KV_ECORRUPT, "lsm: corrupt table: bad footer (magic, version or checksum)");
        goto out_close;
    }
    t->entries = kv_load_le64(footer + 32);
    uint64_t ioff = kv_load_le64(footer), in = kv_load_le64(footer + 8);
    uint64_t foff = kv_load_le64(footer + 16), fn = kv_load_le64(footer + 24);
    if ((rc = read_block(t, ioff, in, &t->index, &t->index_n)))
        goto out_close;
    if (t->index_n < 4) {
        rc = kv_fail(KV_ECORRUPT, "lsm: corrupt table: index block too short");
        goto out_close;
    }
    if (fn) {
        if (fn % LSM_BLOOM_LINE) {
            rc = kv_fail(KV_ECORRUPT, "lsm: corrupt table: filter size %llu not whole lines",
                         (unsigned long long)fn);
            goto out_close;
        }
        if ((rc = read_block(t, foff, fn, &t->filter, &t->filter_n)))
            goto out_close;
        if (t->filter_n == 0 || t->filter_n % LSM_BLOOM_LINE) {
            rc = kv_fail(KV_ECORRUPT, "lsm: corrupt table: filter of %zu bytes", t->filter_n);
            goto out_close;
        }
    }
    *out = t;
    return KV_OK;
out_close:
    lsm_table_close(t);
    return rc;
}

void lsm_table_close(lsm_table *t)
{
    if (!t)
        return;
    if (t->map)
        kv_file_munmap(t->f, (void *)t->map, (size_t)t->size);
    kv_file_close(t->f);
    kv_free(t->index);
    kv_free(t->filter);
    kv_free(t);
}

uint64_t lsm_table_entries(const lsm_table *t)
{
    return t->entries;
}

/* The data block an index entry names: its bytes in *data (n bytes); *own:
 * they are kv_malloc'd and the caller's (no cache took them); *pin: the
 * cache entry to release when done with them (NULL: none). */
static int find_data_block(const lsm_table *t, const void *hv, size_t hn, const uint8_t **data,
                           size_t *n, bool *own, lsm_cache_block **pin)
{
    uint8_t *buf;
    size_t len;
    int rc;
    *pin = NULL;
    *own = false;
    if (hn != 16)
        return kv_fail(KV_ECORRUPT, "lsm: corrupt table: index value of %zu bytes", hn);
    uint64_t off = kv_load_le64(hv), bn = kv_load_le64((const uint8_t *)hv + 8);
    if (t->cache && (*pin = lsm_cache_lookup(t->cache, t->cache_id, off))) {
        t->stats->cache_hits++;
    } else {
        if (t->cache)
            t->stats->cache_misses++;
        /* the cache keeps the block as read: decompressed (len bytes) */
        if ((rc = read_block(t, off, bn, &buf, &len)))
            return rc;
        if (t->stats)
            t->stats->blocks_read++;
        if (!t->cache || !(*pin = lsm_cache_insert(t->cache, t->cache_id, off, buf, len))) {
            *data = buf;
            *n = len;
            *own = true;
            return KV_OK;
        }
    }
    *data = lsm_cache_data(*pin, n);
    return KV_OK;
}

/* Open an iterator over the data block an index entry names; *pin: the
 * cache entry to release after the iterator is closed (NULL: none). */
static int open_data_block(const lsm_table *t, const void *hv, size_t hn, lsm_iter **out,
                           lsm_cache_block **pin)
{
    const uint8_t *p;
    size_t bn;
    bool own;
    int rc;
    if ((rc = find_data_block(t, hv, hn, &p, &bn, &own, pin)))
        return rc;
    if ((rc = lsm_block_iter(p, bn, own, out))) {
        lsm_cache_release(t->cache, *pin);
        *pin = NULL;
    }
    return rc;
}

/* lsm_block_iter_init over the same block, for a lookup (*bx on its stack). */
static int open_data_block_at(const lsm_table *t, const void *hv, size_t hn, lsm_block_it *bx,
                              uint8_t *keybuf, size_t keycap, lsm_cache_block **pin)
{
    const uint8_t *p;
    size_t bn;
    bool own;
    int rc;
    if ((rc = find_data_block(t, hv, hn, &p, &bn, &own, pin)))
        return rc;
    if ((rc = lsm_block_iter_init(bx, p, bn, own, keybuf, keycap))) {
        lsm_cache_release(t->cache, *pin);
        *pin = NULL;
    }
    return rc;
}

int lsm_table_get(lsm_table *t, const void *ukey, size_t n, uint64_t seq, unsigned *type,
                  kv_buf *val)
{
    /* STUB:
    (void)t; (void)ukey; (void)n; (void)seq; (void)type; (void)val; (void)open_data_block_at;
    return kv_fail(KV_ENOTSUP, "not implemented: %s", __func__);
    */
    /* BEGIN SOLUTION */
    /* both iterators on the stack, their keys in stack buffers: a get
     * allocates nothing unless a key is longer than 64 bytes */
    lsm_block_it ixs, bxs;
    lsm_iter *ix = &ixs.base, *bx = &bxs.base;
    lsm_cache_block *pin = NULL;
    uint8_t stack[256], *target = stack, ikey[64], bkey[64];
    const void *k, *v;
    size_t kn, vn;
    int rc;
    if (t->filter) {
        if (t->stats)
            t->stats->bloom_checks++;
        if (!lsm_bloom_may_contain(t->filter, t->filter_n, lsm_bloom_hash(ukey, n))) {
            if (t->stats)
                t->stats->bloom_negative++;
            return KV_ENOTFOUND;
        }
    }
    if (n + LSM_TRAILER > sizeof stack && !(target = kv_malloc(n + LSM_TRAILER)))
        return kv_fail(KV_ENOMEM, "lsm: out of memory for a lookup key");
    memcpy(target, ukey, n);
    lsm_put_le64(target + n, lsm_trailer(seq, LSM_TYPE_VALUE));
    if ((rc = lsm_block_iter_init(&ixs, t->index, t->index_n, false, ikey, sizeof ikey)))
        goto out_free_target;
    ix->ops->seek(ix, target, n + LSM_TRAILER);
    if (!ix->ops->valid(ix)) {
        rc = ix->ops->status(ix) ? ix->ops->status(ix) : KV_ENOTFOUND;
        goto out_close_index;
    }
    ix->ops->value(ix, &v, &vn);
    if ((rc = open_data_block_at(t, v, vn, &bxs, bkey, sizeof bkey, &pin)))
        goto out_close_index;
    bx->ops->seek(bx, target, n + LSM_TRAILER);
    if (!bx->ops->valid(bx)) {
        rc = bx->ops->status(bx) ? bx->ops->status(bx) : KV_ENOTFOUND;
        goto out_close_block;
    }
    bx->ops->key(bx, &k, &kn);
    if (lsm_ukey_cmp(k, kn - LSM_TRAILER, ukey, n) != 0) {
        rc = KV_ENOTFOUND;
        goto out_close_block;
    }
    unsigned ty = (unsigned)(kv_load_le64((const uint8_t *)k + kn - LSM_TRAILER) & 0xff);
    if (ty != LSM_TYPE_VALUE && ty != LSM_TYPE_DELETE) {
        rc = kv_fail(KV_ECORRUPT, "lsm: corrupt table: entry of unknown type %u", ty);
        goto out_close_block;
    }
    *type = ty;
    rc = KV_OK;
    if (ty == LSM_TYPE_VALUE && val) {
        bx->ops->value(bx, &v, &vn);
        rc = kv_buf_set(val, v, vn);
    }
out_close_block:
    lsm_block_iter_fini(&bxs);
    lsm_cache_release(t->cache, pin);
out_close_index:
    lsm_block_iter_fini(&ixs);
out_free_target:
    if (target != stack)
        kv_free(target);
    return rc;
    /* END SOLUTION */
}

/* ---- the two-level iterator ------------------------------------------------ */

typedef struct table_iter {
    lsm_iter base;
    lsm_table *t;
    lsm_iter *index, *block; /* block NULL when none is loaded */
    lsm_cache_block *pin;    /* the block's cache entry, or NULL */
    int status;
} table_iter;

static void ti_set_block(table_iter *ti)
{
    const void *v;
    size_t vn;
    int rc;
    if (ti->block) {
        ti->block->ops->close(ti->block);
        ti->block = NULL;
        lsm_cache_release(ti->t->cache, ti->pin);
        ti->pin = NULL;
    }
    if (!ti->index->ops->valid(ti->index)) {
        if (!ti->status)
            ti->status = ti->index->ops->status(ti->index);
        return;
    }
    ti->index->ops->value(ti->index, &v, &vn);
    if ((rc = open_data_block(ti->t, v, vn, &ti->block, &ti->pin)))
        ti->status = rc;
}

/* Move past exhausted blocks to the first entry of the next non-empty one. */
static void ti_skip_empty(table_iter *ti)
{
    while (!ti->status && ti->block && !ti->block->ops->valid(ti->block)) {
        if ((ti->status = ti->block->ops->status(ti->block)))
            return;
        ti->index->ops->next(ti->index);
        ti_set_block(ti);
        if (ti->block)
            ti->block->ops->first(ti->block);
    }
}

static void ti_first(lsm_iter *it)
{
    table_iter *ti = (table_iter *)it;
    if (ti->status)
        return;
    ti->index->ops->first(ti->index);
    ti_set_block(ti);
    if (ti->block)
        ti->block->ops->first(ti->block);
    ti_skip_empty(ti);
}

static void ti_seek(lsm_iter *it, const void *k, size_t n)
{
    /* STUB:
    table_iter *ti = (table_iter *)it;
    (void)k; (void)n;
    if (!ti->status)
        ti->status = kv_fail(KV_ENOTSUP, "not implemented: %s", __func__);
    */
    /* BEGIN SOLUTION */
    table_iter *ti = (table_iter *)it;
    if (ti->status)
        return;
    ti->index->ops->seek(ti->index, k, n);
    ti_set_block(ti);
    if (ti->block)
        ti->block->ops->seek(ti->block, k, n);
    ti_skip_empty(ti);
    /* END SOLUTION */
}

static void ti_next(lsm_iter *it)
{
    table_iter *ti = (table_iter *)it;
    if (ti->status || !ti->block)
        return;
    ti->block->ops->next(ti->block);
    ti_skip_empty(ti);
}

static bool ti_valid(const lsm_iter *it)
{
    const table_iter *ti = (const table_iter *)it;
    return !ti->status && ti->block && ti->block->ops->valid(ti->block);
}

static void ti_key(const lsm_iter *it, const void **k, size_t *n)
{
    const table_iter *ti = (const table_iter *)it;
    ti->block->ops->key(ti->block, k, n);
}

static void ti_value(const lsm_iter *it, const void **v, size_t *n)
{
    const table_iter *ti = (const table_iter *)it;
    ti->block->ops->value(ti->block, v, n);
}

static int ti_status(const lsm_iter *it)
{
    return ((const table_iter *)it)->status;
}

static void ti_close(lsm_iter *it)
{
    table_iter *ti = (table_iter *)it;
    if (ti->block)
        ti->block->ops->close(ti->block);
    lsm_cache_release(ti->t->cache, ti->pin);
    ti->index->ops->close(ti->index);
    kv_free(ti);
}

static const lsm_iter_ops table_iter_ops = {
    .first = ti_first, .seek = ti_seek, .next = ti_next, .valid = ti_valid,
    .key = ti_key, .value = ti_value, .status = ti_status, .close = ti_close,
};

int lsm_table_iter(lsm_table *t, lsm_iter **out)
{
    table_iter *ti;
    int rc;
    *out = NULL;
    if (!(ti = kv_calloc(1, sizeof *ti)))
        return kv_fail(KV_ENOMEM, "lsm: out of memory for a table iterator");
    if ((rc = lsm_block_iter(t->index, t->index_n, false, &ti->index))) {
        kv_free(ti);
        return rc;
    }
    ti->base.ops = &table_iter_ops;
    ti->t = t;
    *out = &ti->base;
    return KV_OK;
}
