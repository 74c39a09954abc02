/*
 * sstable_compress.c — per-block compression of an SSTable: none, LZ4 or
 * Zstandard, recorded in each block's trailer.
 *
 * What this is: the two functions the table builder and the table reader
 * call around every block they write or read. The builder compresses a
 * finished block's contents with the table's codec and keeps the result
 * only when it saves at least 1/8 of the bytes (LevelDB's rule): an
 * incompressible block is stored as it is, with type 0, so the type byte
 * of each trailer says how that one block is stored, and one table can
 * mix both. The reader, after checking the block's CRC (which covers the
 * stored bytes and the type), decompresses by the type byte.
 *
 * How a compressed block is laid out (docs/formats/sstable.md §2):
 *   varint32 raw_size, then the codec's frame:
 *     type 1: an LZ4 block (LZ4_compress_default) of raw_size bytes;
 *     type 2: a Zstandard frame (ZSTD_compress at LSM_ZSTD_LEVEL, 1) that
 *             decompresses to raw_size bytes.
 * The raw size comes first so the reader allocates once and can refuse a
 * block that claims more than LSM_BLOCK_MAX before decompressing it; the
 * decompressor must then produce exactly raw_size bytes, or the block is
 * KV_ECORRUPT (a CRC collision or a writer bug: never trust a length).
 *
 * Callers must not hand lsm_block_decompress bytes whose CRC they have not
 * checked unless they are ready for KV_ECORRUPT (the fuzz target does), and
 * must not assume the output aliases the input: it is a new kv_malloc'd
 * buffer for a compressed block.
 */
#include <lz4.h>
#include <zstd.h>

#include "sstable_int.h"

/* Zstandard's level: 1 is its fastest, still well above LZ4's ratio. */
#define LSM_ZSTD_LEVEL 1

int lsm_block_compress(lsm_compression codec, const uint8_t *p, size_t n, lsm_bytes *out,
                       bool *used)
{
    size_t bound, got = 0;
    int rc;

    *used = false;
    if (codec == LSM_COMPRESS_NONE || n > LSM_BLOCK_MAX || n < 64)
        return KV_OK;
    if (codec == LSM_COMPRESS_LZ4)
        bound = (size_t)LZ4_compressBound((int)n);
    else if (codec == LSM_COMPRESS_ZSTD)
        bound = ZSTD_compressBound(n);
    else
        return kv_fail(KV_EINVAL, "lsm: unknown compression %d", (int)codec);
    out->n = 0;
    if ((rc = lsm_bytes_reserve(out, 5 + bound)))
        return rc;
    size_t h = lsm_put_varint32(out->p, (uint32_t)n);
    if (codec == LSM_COMPRESS_LZ4) {
        int c = LZ4_compress_default((const char *)p, (char *)out->p + h, (int)n, (int)bound);
        if (c <= 0)
            return KV_OK; /* incompressible by LZ4's account: store it raw */
        got = (size_t)c;
    } else {
        got = ZSTD_compress(out->p + h, bound, p, n, LSM_ZSTD_LEVEL);
        if (ZSTD_isError(got))
            return KV_OK;
    }
    out->n = h + got;
    *used = out->n <= n - n / 8;
    return KV_OK;
}

int lsm_block_decompress(unsigned type, const uint8_t *p, size_t n, uint8_t **out, size_t *outn)
{
    uint32_t raw;
    const uint8_t *q;
    uint8_t *buf;

    *out = NULL;
    *outn = 0;
    if (type != LSM_COMPRESS_LZ4 && type != LSM_COMPRESS_ZSTD)
        return kv_fail(KV_ECORRUPT, "lsm: corrupt table: unknown block type %u", type);
    if (!(q = lsm_get_varint32(p, p + n, &raw)) || raw > LSM_BLOCK_MAX)
        return kv_fail(KV_ECORRUPT, "lsm: corrupt table: bad raw size of a compressed block");
    if (!(buf = kv_malloc(raw ? raw : 1)))
        return kv_fail(KV_ENOMEM, "lsm: out of memory decompressing a %u-byte block", raw);
    size_t in = n - (size_t)(q - p);
    bool ok;
    if (type == LSM_COMPRESS_LZ4) {
        int d = LZ4_decompress_safe((const char *)q, (char *)buf, (int)in, (int)raw);
        ok = d >= 0 && (uint32_t)d == raw;
    } else {
        size_t d = ZSTD_decompress(buf, raw, q, in);
        ok = !ZSTD_isError(d) && d == raw;
    }
    if (!ok) {
        kv_free(buf);
        return kv_fail(KV_ECORRUPT, "lsm: corrupt table: a %s block does not decompress to %u bytes",
                       type == LSM_COMPRESS_LZ4 ? "LZ4" : "Zstandard", raw);
    }
    *out = buf;
    *outn = raw;
    return KV_OK;
}
