/*
 * simd_int.h — what neon_lsm_ops.c and its per-architecture files share.
 *
 * Not a public header: the sstable part, the tests and the benchmark use
 * include/lsm_simd.h. It holds the architecture switch (at most one of
 * LSM_SIMD_ARCH_X86 / LSM_SIMD_ARCH_ARM per build, as in sprint 2's
 * simd/simd_int.h), the helper for the line a hash picks, and the
 * per-architecture tables of paths and level names that neon_lsm_ops.c
 * chooses from: exactly one architecture file fills them in a given
 * build; neon_lsm_ops.c supplies empty ones elsewhere.
 *
 * Callers must not change the line formula: it is the file format, and
 * every path must compute it exactly as the scalar code does.
 */
#ifndef LSM_SIMD_INT_H
#define LSM_SIMD_INT_H

#include <stddef.h>
#include <stdint.h>

#include "lsm_simd.h"

#if defined(__x86_64__)
#define LSM_SIMD_ARCH_X86 1
#elif defined(__aarch64__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define LSM_SIMD_ARCH_ARM 1
#endif

/* Helpers only solution regions call (unused in the starter kit). */
#define LSM_SIMD_HELPER __attribute__((unused))

/* The format's eight multipliers (docs/formats/sstable.md). Each file
 * that needs them makes its own copy from this one list: neon_lsm_ops.c
 * the public lsm_simd_bloom_salt[], each architecture file a private
 * aligned one, so that no architecture file depends on neon_lsm_ops.c
 * (which depends on theirs for the path tables: no cycle). */
#define LSM_SIMD_BLOOM_SALTS                                                                       \
    {                                                                                              \
        0x47b6137bu, 0x44974d91u, 0x8824ad5bu, 0xa2b7289du, 0x705495c7u, 0x2df1424bu,              \
            0x9efc4947u, 0x5c6bfb31u                                                               \
    }

/* The first byte of the line hash h picks in a filter of size bytes:
 * Lemire's multiply-shift range reduction of h's high 32 bits. */
static inline const uint8_t *lsm_simd_line(const uint8_t *filter, size_t size, uint64_t h)
{
    size_t lines = size / LSM_SIMD_BLOOM_LINE;
    return filter + (size_t)(((h >> 32) * (uint64_t)lines) >> 32) * LSM_SIMD_BLOOM_LINE;
}

/* The running architecture's paths and level names. */
extern const lsm_simd_path lsm_simd_arch_paths[];
extern const size_t lsm_simd_arch_npaths;
extern const char *const lsm_simd_arch_levels[]; /* NULL-terminated, "portable" first */

#endif /* LSM_SIMD_INT_H */
