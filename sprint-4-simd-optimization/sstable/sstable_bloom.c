/*
 * sstable_bloom.c — the blocked bloom filter of an SSTable.
 *
 * A classic bloom filter scatters a key's k bits over the whole array:
 * k cache misses per probe. A blocked bloom filter (Putze, Sanders and
 * Singler, "Cache-, hash- and space-efficient bloom filters", 2007) first
 * picks one 64-byte line from the key's hash and puts all k bits in it:
 * one cache miss per probe, and the k bit tests fit a SIMD register.
 *
 * How it works. h = xxh3-64(key, seed). The line is
 * ((h >> 32) * lines) >> 32 (Lemire's multiply-shift range reduction, no
 * division). The eight bit positions (0..511) come from the low 32 bits:
 * bit_i = ((uint32_t)h * SALT[i]) >> 23, eight odd 32-bit multipliers, so
 * the eight positions are eight independent-looking 9-bit values — and the
 * eight multiplications are one AVX2 _mm256_mullo_epi32 or two NEON
 * vmulq_u32 (simd/neon_lsm_ops.c). Each key sets its eight bits; a probe
 * answers "maybe" when all eight are set.
 *
 * Size. At 10 bits per key a 512-bit line holds about 51 keys on average;
 * the line loads vary (a Poisson spread), which costs some false positives
 * compared with an unblocked filter: about 1.2% at 10 bits/key, 8 probes
 * (the test bounds it at 1.5% over 1M absent keys).
 *
 * Callers must not change the seed or the salts: they are the file format
 * (docs/formats/sstable.md). The salts, the positions and the probes live
 * in the simd part below this one (simd/neon_lsm_ops.c, include/lsm_simd.h):
 * the probe is its dispatched scalar, AVX2 or NEON path, and every path
 * answers exactly as lsm_bloom_may_contain_scalar does.
 */
#include "lsm_simd.h"
#include "sstable_int.h"

_Static_assert(LSM_BLOOM_LINE == LSM_SIMD_BLOOM_LINE && LSM_BLOOM_PROBES == LSM_SIMD_BLOOM_PROBES,
               "the filter's geometry is the simd part's");

#define LSM_BLOOM_SEED UINT64_C(0x9e3779b97f4a7c15)

uint64_t lsm_bloom_hash(const void *key, size_t n)
{
    return kv_xxh3_64_seed(key, n, LSM_BLOOM_SEED);
}

size_t lsm_bloom_size(size_t nkeys, unsigned bits_per_key)
{
    size_t bits = nkeys * (size_t)bits_per_key;
    size_t lines = (bits + 8 * LSM_BLOOM_LINE - 1) / (8 * LSM_BLOOM_LINE);
    return (lines ? lines : 1) * LSM_BLOOM_LINE;
}

size_t lsm_bloom_positions(uint64_t h, size_t lines, uint32_t bits[LSM_BLOOM_PROBES])
{
    return lsm_simd_bloom_positions(h, lines, bits);
}

void lsm_bloom_add(uint8_t *filter, size_t size, uint64_t h)
{
    /* STUB:
    (void)filter; (void)size; (void)h;
    kv_fail(KV_ENOTSUP, "not implemented: %s", __func__);
    */
    /* BEGIN SOLUTION */
    uint32_t bits[LSM_BLOOM_PROBES];
    uint8_t *line = filter + lsm_bloom_positions(h, size / LSM_BLOOM_LINE, bits) * LSM_BLOOM_LINE;
    for (unsigned i = 0; i < LSM_BLOOM_PROBES; i++)
        line[bits[i] >> 3] |= (uint8_t)(1u << (bits[i] & 7));
    /* END SOLUTION */
}

bool lsm_bloom_may_contain_scalar(const uint8_t *filter, size_t size, uint64_t h)
{
    return lsm_simd_bloom_probe_scalar(filter, size, h);
}

bool lsm_bloom_may_contain(const uint8_t *filter, size_t size, uint64_t h)
{
    return lsm_simd_bloom_probe(filter, size, h);
}
