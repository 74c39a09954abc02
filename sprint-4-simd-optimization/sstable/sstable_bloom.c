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
 * (docs/formats/sstable.md). The probe goes through a hook that the simd
 * part replaces at start-up; every replacement must answer exactly as
 * lsm_bloom_may_contain_scalar does.
 */
#include <stdatomic.h>

#include "sstable_int.h"

#define LSM_BLOOM_SEED UINT64_C(0x9e3779b97f4a7c15)

static const uint32_t bloom_salt[LSM_BLOOM_PROBES] = {
    0x47b6137bu, 0x44974d91u, 0x8824ad5bu, 0xa2b7289du,
    0x705495c7u, 0x2df1424bu, 0x9efc4947u, 0x5c6bfb31u,
};

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
    uint32_t lo = (uint32_t)h;
    for (unsigned i = 0; i < LSM_BLOOM_PROBES; i++)
        bits[i] = (lo * bloom_salt[i]) >> 23;
    return (size_t)(((h >> 32) * (uint64_t)lines) >> 32);
}

void lsm_bloom_add(uint8_t *filter, size_t size, uint64_t h)
{
    uint32_t bits[LSM_BLOOM_PROBES];
    uint8_t *line = filter + lsm_bloom_positions(h, size / LSM_BLOOM_LINE, bits) * LSM_BLOOM_LINE;
    for (unsigned i = 0; i < LSM_BLOOM_PROBES; i++)
        line[bits[i] >> 3] |= (uint8_t)(1u << (bits[i] & 7));
}

bool lsm_bloom_may_contain_scalar(const uint8_t *filter, size_t size, uint64_t h)
{
    uint32_t bits[LSM_BLOOM_PROBES];
    const uint8_t *line =
        filter + lsm_bloom_positions(h, size / LSM_BLOOM_LINE, bits) * LSM_BLOOM_LINE;
    for (unsigned i = 0; i < LSM_BLOOM_PROBES; i++)
        if (!(line[bits[i] >> 3] & (1u << (bits[i] & 7))))
            return false;
    return true;
}

static _Atomic(lsm_bloom_probe_fn) bloom_probe = lsm_bloom_may_contain_scalar;

void lsm_bloom_probe_install(lsm_bloom_probe_fn fn)
{
    atomic_store_explicit(&bloom_probe, fn ? fn : lsm_bloom_may_contain_scalar,
                          memory_order_release);
}

bool lsm_bloom_may_contain(const uint8_t *filter, size_t size, uint64_t h)
{
    return atomic_load_explicit(&bloom_probe, memory_order_relaxed)(filter, size, h);
}
