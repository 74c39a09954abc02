/*
 * sstable_builder.c — writing an SSTable.
 *
 * The builder streams entries (internal keys strictly increasing) into data
 * blocks of about block_size bytes; each finished block is written at once
 * with its 5-byte trailer (compression type, CRC32C of contents and type;
 * data and index blocks are compressed with the table's codec when that
 * pays, the filter never: its bits are random),
 * and its last key and handle (offset, size) go into the index block. The
 * user keys' bloom hashes are collected on the way; finish writes the last
 * data block, the filter block, the index block and the 56-byte footer
 * (docs/formats/sstable.md). Memory: one block, the index, and 8 bytes per
 * distinct user key for the filter.
 *
 * The builder writes only: the caller created the file, and syncs, closes
 * and renames it (a table becomes visible through the manifest only after
 * it is complete and synced). On any error the table is garbage and the
 * caller deletes it; the builder must then only be freed.
 */
#include "sstable_int.h"

struct lsm_table_builder {
    kv_file *f;
    lsm_table_opts opts;
    uint64_t off;           /* bytes written so far */
    lsm_block_builder data, index;
    lsm_bytes last_key;     /* the last internal key added */
    lsm_bytes packed;       /* a block's compressed contents (sstable_compress.c) */
    uint64_t *hashes;       /* bloom hashes of distinct user keys */
    size_t nhashes, caphashes;
    uint64_t entries;
    int status;             /* the first error: later calls return it */
    bool finished;
};

int lsm_table_builder_new(kv_file *f, const lsm_table_opts *opts, lsm_table_builder **out)
{
    lsm_table_builder *b;
    *out = NULL;
    if (!f || !opts || opts->block_size < 64 || opts->block_size > LSM_BLOCK_MAX / 2 ||
        opts->bloom_bits > 64)
        return kv_fail(KV_EINVAL, "lsm: bad table options");
    if (opts->compression != LSM_COMPRESS_NONE && opts->compression != LSM_COMPRESS_LZ4 &&
        opts->compression != LSM_COMPRESS_ZSTD)
        return kv_fail(KV_EINVAL, "lsm: unknown compression %d", (int)opts->compression);
    if (!(b = kv_calloc(1, sizeof *b)))
        return kv_fail(KV_ENOMEM, "lsm: out of memory for a table builder");
    b->f = f;
    b->opts = *opts;
    lsm_block_builder_init(&b->data, opts->restart_every);
    lsm_block_builder_init(&b->index, 1);
    *out = b;
    return KV_OK;
}

void lsm_table_builder_free(lsm_table_builder *b)
{
    if (!b)
        return;
    lsm_block_builder_free(&b->data);
    lsm_block_builder_free(&b->index);
    kv_free(b->last_key.p);
    kv_free(b->packed.p);
    kv_free(b->hashes);
    kv_free(b);
}

uint64_t lsm_table_builder_size(const lsm_table_builder *b)
{
    return b->off + lsm_block_builder_estimate(&b->data);
}

uint64_t lsm_table_builder_entries(const lsm_table_builder *b)
{
    return b->entries;
}

/* Write contents + trailer at the end of the file; *handle = (off, size).
 * With compress, the contents are stored compressed with the table's codec
 * when that saves at least 1/8 (the type byte says which). */
static int write_block(lsm_table_builder *b, const uint8_t *p, size_t n, bool compress,
                       uint8_t handle[16])
{
    uint8_t trailer[LSM_BLOCK_TRAILER];
    bool packed = false;
    int rc;
    if (compress && (rc = lsm_block_compress(b->opts.compression, p, n, &b->packed, &packed)))
        return rc;
    if (packed) {
        p = b->packed.p;
        n = b->packed.n;
    }
    trailer[0] = (uint8_t)(packed ? b->opts.compression : LSM_COMPRESS_NONE);
    lsm_put_le32(trailer + 1, kv_crc32c(kv_crc32c(0, p, n), trailer, 1));
    if ((rc = kv_file_pwrite(b->f, p, n, b->off)))
        return rc;
    if ((rc = kv_file_pwrite(b->f, trailer, sizeof trailer, b->off + n)))
        return rc;
    lsm_put_le64(handle, b->off);
    lsm_put_le64(handle + 8, n);
    b->off += n + LSM_BLOCK_TRAILER;
    return KV_OK;
}

static int flush_data_block(lsm_table_builder *b)
{
    uint8_t handle[16];
    int rc;
    if (b->data.entries == 0)
        return KV_OK;
    if ((rc = lsm_block_builder_finish(&b->data)))
        return rc;
    if ((rc = write_block(b, b->data.buf.p, b->data.buf.n, true, handle)))
        return rc;
    /* the index entry: the block's last key -> its handle */
    if ((rc = lsm_block_builder_add(&b->index, b->last_key.p, b->last_key.n, handle, 16)))
        return rc;
    lsm_block_builder_reset(&b->data);
    return KV_OK;
}

static int add_hash(lsm_table_builder *b, const void *ukey, size_t n)
{
    if (b->nhashes == b->caphashes) {
        size_t cap = b->caphashes ? 2 * b->caphashes : 256;
        uint64_t *h = kv_realloc(b->hashes, cap * sizeof *h);
        if (!h)
            return kv_fail(KV_ENOMEM, "lsm: out of memory for the bloom hashes");
        b->hashes = h;
        b->caphashes = cap;
    }
    b->hashes[b->nhashes++] = lsm_bloom_hash(ukey, n);
    return KV_OK;
}

int lsm_table_builder_add(lsm_table_builder *b, const void *ikey, size_t iklen, const void *val,
                          size_t vlen)
{
    /* STUB:
    (void)b; (void)ikey; (void)iklen; (void)val; (void)vlen; (void)add_hash;
    return kv_fail(KV_ENOTSUP, "not implemented: %s", __func__);
    */
    /* BEGIN SOLUTION */
    int rc;
    if (b->status)
        return b->status;
    if (b->finished || iklen < LSM_TRAILER)
        return kv_fail(KV_EINVAL, "lsm: bad key for the table builder");
    if (b->entries && lsm_ikey_cmp(b->last_key.p, b->last_key.n, ikey, iklen) >= 0)
        return kv_fail(KV_EINVAL, "lsm: table builder keys out of order");
    if (b->opts.bloom_bits &&
        (b->entries == 0 || lsm_ukey_cmp(b->last_key.p, b->last_key.n - LSM_TRAILER, ikey,
                                         iklen - LSM_TRAILER) != 0) &&
        (rc = add_hash(b, ikey, iklen - LSM_TRAILER)))
        return rc;
    if ((rc = lsm_block_builder_add(&b->data, ikey, iklen, val, vlen)))
        goto out_fail;
    b->last_key.n = 0;
    if ((rc = lsm_bytes_append(&b->last_key, ikey, iklen)))
        goto out_fail;
    b->entries++;
    if (lsm_block_builder_estimate(&b->data) >= b->opts.block_size && (rc = flush_data_block(b)))
        goto out_fail;
    return KV_OK;
out_fail:
    b->status = rc;
    return rc;
    /* END SOLUTION */
}

int lsm_table_builder_finish(lsm_table_builder *b, uint64_t *size)
{
    uint8_t filter_h[16] = {0}, index_h[16], footer[LSM_FOOTER_SIZE];
    uint8_t *filter = NULL;
    size_t fsize = 0;
    int rc;
    if (b->status)
        return b->status;
    if (b->finished)
        return kv_fail(KV_EINVAL, "lsm: table already finished");
    b->finished = true;
    if ((rc = flush_data_block(b)))
        goto out_fail;
    if (b->opts.bloom_bits) {
        fsize = lsm_bloom_size(b->nhashes, b->opts.bloom_bits);
        if (!(filter = kv_calloc(1, fsize))) {
            rc = kv_fail(KV_ENOMEM, "lsm: out of memory for a bloom filter of %zu bytes", fsize);
            goto out_fail;
        }
        for (size_t i = 0; i < b->nhashes; i++)
            lsm_bloom_add(filter, fsize, b->hashes[i]);
        rc = write_block(b, filter, fsize, false, filter_h);
        kv_free(filter);
        if (rc)
            goto out_fail;
    }
    if ((rc = lsm_block_builder_finish(&b->index)) ||
        (rc = write_block(b, b->index.buf.p, b->index.buf.n, true, index_h)))
        goto out_fail;
    memcpy(footer, index_h, 16);
    memcpy(footer + 16, filter_h, 16);
    lsm_put_le64(footer + 32, b->entries);
    lsm_put_le32(footer + 40, LSM_TABLE_VERSION);
    lsm_put_le32(footer + 44, kv_crc32c(0, footer, 44));
    lsm_put_le64(footer + 48, LSM_TABLE_MAGIC);
    if ((rc = kv_file_pwrite(b->f, footer, sizeof footer, b->off)))
        goto out_fail;
    b->off += sizeof footer;
    if (size)
        *size = b->off;
    return KV_OK;
out_fail:
    b->status = rc;
    return rc;
}
