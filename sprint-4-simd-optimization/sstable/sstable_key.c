/*
 * sstable_key.c — internal keys: comparison (user keys through the simd part).
 *
 * An internal key is user key + 8-byte little-endian trailer (seq << 8 |
 * type). lsm_ikey_cmp orders by user key (bytewise, shorter first on a
 * tie) and then by trailer descending, so that a seek to (key, LSM_MAX_SEQ)
 * lands on the newest version of key. Every user-key comparison of the part
 * (a block search's restart-point keys included) is the simd part's
 * lsm_simd_key_cmp(): scalar, SSE2/AVX2 or NEON as the CPU allows, with
 * identical results (its tests compare every path with the scalar one).
 *
 * Callers must not pass an internal key shorter than the trailer: that is
 * asserted (bytes from disk are length-checked before they get here).
 */
#include <assert.h>
#include <string.h>

#include "lsm_simd.h"
#include "sstable_int.h"

int lsm_ukey_cmp(const void *a, size_t na, const void *b, size_t nb)
{
    return lsm_simd_key_cmp(a, na, b, nb);
}

int lsm_ikey_cmp(const void *a, size_t na, const void *b, size_t nb)
{
    assert(na >= LSM_TRAILER && nb >= LSM_TRAILER);
    int c = lsm_ukey_cmp(a, na - LSM_TRAILER, b, nb - LSM_TRAILER);
    if (c)
        return c;
    uint64_t ta = kv_load_le64((const uint8_t *)a + na - LSM_TRAILER);
    uint64_t tb = kv_load_le64((const uint8_t *)b + nb - LSM_TRAILER);
    return ta > tb ? -1 : ta < tb;
}

int lsm_bytes_reserve(lsm_bytes *b, size_t more)
{
    if (b->cap - b->n >= more)
        return KV_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->n < more) {
        if (cap > SIZE_MAX / 2)
            return kv_fail(KV_ENOMEM, "lsm: buffer size overflow");
        cap *= 2;
    }
    uint8_t *p = b->borrowed ? kv_malloc(cap) : kv_realloc(b->p, cap);
    if (!p)
        return kv_fail(KV_ENOMEM, "lsm: out of memory growing a buffer to %zu bytes", cap);
    if (b->borrowed && b->n)
        memcpy(p, b->p, b->n);
    b->borrowed = false;
    b->p = p;
    b->cap = cap;
    return KV_OK;
}

int lsm_bytes_append(lsm_bytes *b, const void *p, size_t n)
{
    int rc = lsm_bytes_reserve(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->p + b->n, p, n);
    b->n += n;
    return KV_OK;
}
