/*
 * bitcask_record.c — Bitcask's data record: encoding it and checking it.
 *
 * Every put and every delete appends one record to the active data file:
 *
 *   offset size field
 *   0      4    crc     CRC32C of bytes 4 .. end of the record
 *   4      8    ts      timestamp (microseconds; strictly increasing)
 *   12     4    ksize   key bytes, 1..65535
 *   16     4    vsize   value bytes, 0..2^30, or 0xFFFFFFFF: a tombstone
 *   20     ksize key, then the value (none for a tombstone)
 *
 * All integers little-endian. The CRC covers the timestamp, both sizes,
 * the key and the value, so a flipped bit anywhere after the CRC itself
 * (and in the CRC) is caught when the record is read back.
 *
 * bc_rec_decode() checks only that the sizes are possible; the caller must
 * make sure the whole record is present before bc_rec_crc_ok(). Nothing
 * here trusts the bytes: an impossible size is KV_ECORRUPT, not an assert.
 */
#include <string.h>

#include "bitcask_format.h"
#include "kvlabs/error.h"
#include "kvlabs/hash.h"

void bc_put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

void bc_put64(unsigned char *p, uint64_t v)
{
    bc_put32(p, (uint32_t)v);
    bc_put32(p + 4, (uint32_t)(v >> 32));
}

uint64_t bc_rec_size(uint32_t ksize, uint32_t vsize)
{
    return BC_HDR + (uint64_t)ksize + (vsize == BC_TOMBSTONE ? 0 : vsize);
}

void bc_rec_encode(unsigned char *out, uint64_t ts, const void *key, uint32_t klen,
                   const void *val, uint32_t vsize)
{
    /* STUB: (void)out; (void)ts; (void)key; (void)klen; (void)val; (void)vsize; */
    /* BEGIN SOLUTION */
    uint64_t len = bc_rec_size(klen, vsize);

    bc_put64(out + 4, ts);
    bc_put32(out + 12, klen);
    bc_put32(out + 16, vsize);
    memcpy(out + BC_HDR, key, klen);
    if (vsize != BC_TOMBSTONE && vsize > 0)
        memcpy(out + BC_HDR + klen, val, vsize);
    bc_put32(out, kv_crc32c(0, out + 4, (size_t)len - 4));
    /* END SOLUTION */
}

int bc_rec_decode(const unsigned char *p, bc_rec *h)
{
    /* STUB: (void)p; (void)h; return kv_fail(KV_ENOTSUP, "not implemented: %s", __func__); */
    /* BEGIN SOLUTION */
    h->crc = kv_load_le32(p);
    h->ts = kv_load_le64(p + 4);
    h->ksize = kv_load_le32(p + 12);
    h->vsize = kv_load_le32(p + 16);
    if (h->ksize == 0 || h->ksize > BC_MAX_KEY)
        return KV_ECORRUPT;
    if (h->vsize != BC_TOMBSTONE && h->vsize > BC_MAX_VALUE)
        return KV_ECORRUPT;
    return KV_OK;
    /* END SOLUTION */
}

bool bc_rec_crc_ok(const unsigned char *rec, const bc_rec *h)
{
    /* STUB: (void)rec; (void)h; kv_fail(KV_ENOTSUP, "not implemented: %s", __func__); return false; */
    /* BEGIN SOLUTION */
    uint64_t len = bc_rec_size(h->ksize, h->vsize);

    return kv_crc32c(0, rec + 4, (size_t)len - 4) == h->crc;
    /* END SOLUTION */
}
