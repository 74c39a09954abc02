/*
 * neon_lsm_ops_x86.c — the x86-64 paths: SSE2 and AVX2 user-key
 * comparison, AVX2 blocked-bloom probe.
 *
 * What this is: faster versions of lsm_simd_key_cmp_scalar() and
 * lsm_simd_bloom_probe_scalar() (neon_lsm_ops.c), listed in
 * lsm_simd_arch_paths[] for the dispatcher to install when the CPU has
 * the instructions. Each must return exactly what the scalar one returns.
 *
 * How the file builds: the lab is compiled for plain x86-64 (SSE2 only);
 * the AVX2 functions carry __attribute__((target("avx2"))) and run only
 * where __builtin_cpu_supports("avx2") (CPUID, and XGETBV for the OS's
 * support of the wide registers) said yes. Same scheme as sprint 2's
 * simd/neon_hash_x86.c.
 *
 * How it works:
 *
 * Key comparison. pcmpeqb sets each equal byte to 0xFF; pmovmskb packs
 * the 16 (32 with AVX2) top bits into an integer. All ones: the chunk is
 * equal, go on. Otherwise the lowest 0 bit (ctz of the inverted mask) is
 * the first differing byte, and that byte pair decides, as unsigned bytes.
 * After the whole chunks, the tail of fewer than 16 bytes is compared
 * byte by byte (a key of a block may end at the end of its buffer, so a
 * full-width load past it could touch an unmapped page, or trip ASan), and
 * the lengths decide a tie. A block search compares the target with the
 * full key of each restart point it visits: with 16-byte keys that is one
 * vector step instead of a call to memcmp.
 *
 * Bloom probe (AVX2). The scalar probe makes eight 32-bit products
 * lo32(h) * salt[i] and tests eight bits one at a time. Here: one
 * vpmulld makes all eight products, vpsrld 23 turns them into eight bit
 * positions 0..511. The 64-byte line is sixteen 32-bit words in two
 * 256-bit registers; position b lives in word b >> 5, bit b & 31 (the
 * line's bytes are little-endian words). vpermd picks word (b >> 5) & 7
 * of each register for every lane, a blend takes the upper register's
 * where b >> 5 >= 8, vpsllvd makes each lane's mask 1 << (b & 31), and
 * the key may be present when (word & mask) == mask in all eight lanes:
 * no branch per probe. (A vpgatherdd could fetch the eight words too, but
 * on AMD's cores it costs more than the whole permute sequence.)
 *
 * Student exercise regions (BEGIN/END SOLUTION) are the loops a student
 * writes; their stubs return wrong answers so the tests fail.
 */
#include "simd_int.h"

#if defined(LSM_SIMD_ARCH_X86)

#include <immintrin.h>

#define TARGET_AVX2 __attribute__((target("avx2")))

/* The format's salts, aligned for one vector load (simd_int.h). */
LSM_SIMD_HELPER static _Alignas(32) const uint32_t salts[LSM_SIMD_BLOOM_PROBES] =
    LSM_SIMD_BLOOM_SALTS;

/* The byte loop after the vector chunks, then the lengths. */
LSM_SIMD_HELPER static inline int cmp_tail(const uint8_t *x, const uint8_t *y, size_t i, size_t m,
                                           size_t na, size_t nb)
{
    for (; i < m; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return na < nb ? -1 : na > nb;
}

static int key_cmp_sse2(const void *a, size_t na, const void *b, size_t nb)
{
    const uint8_t *x = a, *y = b;
    size_t m = na < nb ? na : nb, i = 0;

    /* STUB: (void)x; (void)y; (void)m; (void)i; return 0; */
    /* BEGIN SOLUTION */
    for (; i + 16 <= m; i += 16) {
        __m128i va = _mm_loadu_si128((const __m128i *)(x + i));
        __m128i vb = _mm_loadu_si128((const __m128i *)(y + i));
        unsigned diff = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(va, vb)) ^ 0xFFFFu;
        if (diff) {
            size_t j = i + (size_t)__builtin_ctz(diff);
            return x[j] < y[j] ? -1 : 1;
        }
    }
    return cmp_tail(x, y, i, m, na, nb);
    /* END SOLUTION */
}

TARGET_AVX2 static int key_cmp_avx2(const void *a, size_t na, const void *b, size_t nb)
{
    const uint8_t *x = a, *y = b;
    size_t m = na < nb ? na : nb, i = 0;

    /* STUB: (void)x; (void)y; (void)m; (void)i; return 0; */
    /* BEGIN SOLUTION */
    for (; i + 32 <= m; i += 32) {
        __m256i va = _mm256_loadu_si256((const __m256i *)(x + i));
        __m256i vb = _mm256_loadu_si256((const __m256i *)(y + i));
        uint32_t diff = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(va, vb)) ^ 0xFFFFFFFFu;
        if (diff) {
            size_t j = i + (size_t)__builtin_ctz(diff);
            return x[j] < y[j] ? -1 : 1;
        }
    }
    if (i + 16 <= m) {
        __m128i va = _mm_loadu_si128((const __m128i *)(x + i));
        __m128i vb = _mm_loadu_si128((const __m128i *)(y + i));
        unsigned diff = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(va, vb)) ^ 0xFFFFu;
        if (diff) {
            size_t j = i + (size_t)__builtin_ctz(diff);
            return x[j] < y[j] ? -1 : 1;
        }
        i += 16;
    }
    return cmp_tail(x, y, i, m, na, nb);
    /* END SOLUTION */
}

TARGET_AVX2 static bool probe_avx2(const uint8_t *filter, size_t size, uint64_t h)
{
    const uint8_t *line = lsm_simd_line(filter, size, h);

    /* STUB: (void)line; return false; */
    /* BEGIN SOLUTION */
    __m256i salt = _mm256_load_si256((const __m256i *)salts);
    __m256i bits = _mm256_srli_epi32(_mm256_mullo_epi32(_mm256_set1_epi32((int)(uint32_t)h), salt), 23);
    __m256i word = _mm256_srli_epi32(bits, 5); /* 0..15 */
    __m256i lo = _mm256_loadu_si256((const __m256i *)line);
    __m256i hi = _mm256_loadu_si256((const __m256i *)(line + 32));
    /* vpermd uses the low 3 bits of each index; words 8..15 come from hi
     * (the lane mask: all ones where word > 7). */
    __m256i w = _mm256_blendv_epi8(_mm256_permutevar8x32_epi32(lo, word),
                                   _mm256_permutevar8x32_epi32(hi, word),
                                   _mm256_cmpgt_epi32(word, _mm256_set1_epi32(7)));
    __m256i mask = _mm256_sllv_epi32(_mm256_set1_epi32(1),
                                     _mm256_and_si256(bits, _mm256_set1_epi32(31)));
    __m256i hit = _mm256_cmpeq_epi32(_mm256_and_si256(w, mask), mask);
    return _mm256_movemask_epi8(hit) == -1;
    /* END SOLUTION */
}

static bool has_sse2(void)
{
    return true; /* part of x86-64 itself */
}

static bool has_avx2(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2");
}

const char *const lsm_simd_arch_levels[] = {"portable", "sse2", "avx2", NULL};
const lsm_simd_path lsm_simd_arch_paths[] = {
    {.name = "sse2-cmp", .needs = "sse2", .level = 1, .supported = has_sse2,
     .key_cmp = key_cmp_sse2},
    {.name = "avx2-probe", .needs = "avx2", .level = 2, .supported = has_avx2, .probe = probe_avx2},
    {.name = "avx2-cmp", .needs = "avx2", .level = 2, .supported = has_avx2,
     .key_cmp = key_cmp_avx2},
};
const size_t lsm_simd_arch_npaths = sizeof lsm_simd_arch_paths / sizeof lsm_simd_arch_paths[0];

#else
typedef int lsm_simd_x86_empty; /* ISO C forbids an empty translation unit */
#endif
