/*
 * neon_hash_x86.c — the x86-64 paths: SSE4.2 CRC32C (one stream, and three
 * streams combined with PCLMULQDQ), SSE2, AVX2 and AVX-512 XXH3, SSE2 key
 * compare.
 *
 * What this is: faster implementations of members of kv_hash_impl
 * (common/include/kvlabs/hash.h), listed in nh_arch_paths[] for
 * neon_hash.c to install when the CPU has the instructions. Each must
 * return exactly what the portable reference returns.
 *
 * How the file builds: the lab compiles everything for plain x86-64, whose
 * only vector extension is SSE2. A function that uses newer instructions
 * carries `__attribute__((target("...")))`, which lets the compiler emit
 * them in that function only; such a function must never run on a CPU
 * without them, which is what the `supported` tests at the bottom
 * (__builtin_cpu_supports, i.e. CPUID) and neon_hash.c's dispatch ensure.
 * A target function may call intrinsics of its target, and may inline
 * functions whose target is a subset of its own.
 *
 * How it works:
 *
 * CRC32C, one stream (SSE4.2). The `crc32` instruction is one CRC32C
 * (Castagnoli, reflected, as kvlabs uses) update of the register by 1, 2, 4
 * or 8 input bytes. It does not invert before or after, so the caller's
 * "extend" convention is kept by inverting once on entry and once on exit.
 * Eight bytes per instruction, but each instruction needs the previous
 * result, and its latency is 3 cycles while the CPU could start one per
 * cycle: a single stream runs at a third of the unit's throughput.
 *
 * CRC32C, three streams (SSE4.2 + PCLMULQDQ). Cut a piece of 3L bytes into
 * A, B, C of L bytes and run three independent registers: r0 over A from
 * the current register, r1 over B and r2 over C from 0. The CRC is linear,
 * so the register after A|B|C is shift(r0, 2L) ^ shift(r1, L) ^ r2, where
 * shift(r, L) is r carried over L zero bytes: r * x^(8L) mod P. With K(L) =
 * x^(8L-33) mod P precomputed (simd_int.h), shift(r, L) =
 * crc32(0, clmul(r, K(L))): the carry-less 32x32-bit product is r*K*x (the
 * bit-reflected product gains one factor of x), and crc32 of a 64-bit word
 * from register 0 multiplies by x^32 and reduces mod P: r*x^(8L) in all.
 * Pieces of 3x1024, then 3x256, then 3x64 bytes; under 192 bytes left, the
 * single stream finishes (a combine costs about 15 cycles, more than three
 * streams save on a short piece). Nehalem has SSE4.2 but no PCLMULQDQ: it
 * gets the single stream.
 *
 * XXH3 (SSE2, AVX2, AVX-512). The long-input loop keeps eight 64-bit
 * accumulators; per 64-byte stripe, lane i gets data[i^1] + lo32(k)*hi32(k)
 * with k = data[i] ^ secret[i]. `pmuludq` (_mm_mul_epu32) multiplies the
 * low 32 bits of each 64-bit lane into a 64-bit product, which is exactly
 * lo32*hi32 once a 32-bit right shift has moved each lane's high half down;
 * a shuffle swaps neighbouring lanes for the data[i^1] term. SSE2 holds 2
 * lanes per register (4 registers), AVX2 4 lanes (2 registers), AVX-512
 * all 8; the lane swap never crosses a 128-bit half, so the in-lane
 * shuffles of AVX2 and AVX-512 suffice. The scramble multiplies each lane
 * by a 32-bit prime, made of two pmuludq: (lo * p) + ((hi * p) << 32).
 * neon_hash_xxh3.c does the rest. Two things keep the loops fast: the
 * accumulators must live in registers (hence `#pragma GCC unroll 4` on the
 * SSE2 lane loops, which GCC would otherwise leave rolled, with acc[] in
 * memory), and the start values are loaded from a constant table
 * (simd_int.h says why). AVX-512 (avx512f) is the level libxxhash's
 * own dispatcher picks on such CPUs; it halves the instruction count of
 * AVX2, which is what the 0.9x-of-libxxhash target needs there.
 *
 * Keys (SSE2). 16 bytes per step: pcmpeqb gives 0xFF per equal byte,
 * pmovmskb packs those into 16 bits. Equal when the mask is 0xFFFF; for
 * the order, the lowest 0 bit of the mask is the first differing byte.
 * The last step re-reads the final 16 bytes, overlapping the previous one,
 * so no byte loop is needed for lengths of 16 or more; shorter keys use
 * the portable word loop.
 *
 * Student exercise regions (BEGIN/END SOLUTION) are the loops a student
 * writes; their stubs compute wrong values so the tests fail.
 */
#include "simd_int.h"

#if defined(NH_ARCH_X86)

#include <immintrin.h>
#include <string.h>

#define TARGET_SSE42  __attribute__((target("sse4.2")))
#define TARGET_CLMUL  __attribute__((target("sse4.2,pclmul")))
#define TARGET_AVX2   __attribute__((target("avx2")))
#define TARGET_AVX512 __attribute__((target("avx512f")))

NH_HELPER static inline uint64_t load64(const unsigned char *p)
{
    uint64_t v;

    memcpy(&v, p, sizeof v);
    return v;
}

/* ---- CRC32C -------------------------------------------------------------- */

/* The register after b[0..n): 8 bytes per crc32, then byte by byte. */
TARGET_SSE42 static inline __attribute__((always_inline)) uint64_t
crc_stream(uint64_t reg, const unsigned char *b, size_t n)
{
    /* STUB: (void)b; (void)n; return reg; */
    /* BEGIN SOLUTION */
    for (; n >= 8; n -= 8, b += 8)
        reg = _mm_crc32_u64(reg, load64(b));
    for (; n > 0; n--, b++)
        reg = _mm_crc32_u8((uint32_t)reg, *b);
    return reg;
    /* END SOLUTION */
}

TARGET_SSE42 static uint32_t crc32c_sse42(uint32_t crc, const void *p, size_t n)
{
    return ~(uint32_t)crc_stream(~crc, p, n);
}

/* r carried over L zero bytes, given k = K(L): crc32(0, clmul(r, k)). */
NH_HELPER TARGET_CLMUL static inline uint64_t crc_shift(uint64_t r, uint32_t k)
{
    __m128i prod = _mm_clmulepi64_si128(_mm_cvtsi64_si128((long long)r),
                                        _mm_cvtsi64_si128((long long)k), 0x00);

    return _mm_crc32_u64(0, (uint64_t)_mm_cvtsi128_si64(prod));
}

/* The register after 3*len bytes at b, as three streams of len bytes;
 * k1 = K(len), k2 = K(2*len). Inlined, so len is a constant. */
TARGET_CLMUL static inline __attribute__((always_inline)) uint64_t
crc_round(uint64_t r0, const unsigned char *b, size_t len, uint32_t k1, uint32_t k2)
{
    /* STUB: (void)b; (void)len; (void)k1; (void)k2; return r0; */
    /* BEGIN SOLUTION */
    uint64_t r1 = 0, r2 = 0;

    for (size_t i = 0; i < len; i += 8) {
        r0 = _mm_crc32_u64(r0, load64(b + i));
        r1 = _mm_crc32_u64(r1, load64(b + len + i));
        r2 = _mm_crc32_u64(r2, load64(b + 2 * len + i));
    }
    return crc_shift(r0, k2) ^ crc_shift(r1, k1) ^ r2;
    /* END SOLUTION */
}

TARGET_CLMUL static uint32_t crc32c_3way(uint32_t crc, const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t reg = ~crc;

    if (n < 3 * 64) /* short keys: straight to the single stream */
        return ~(uint32_t)crc_stream(reg, b, n);
    for (; n >= 3 * 1024; n -= 3 * 1024, b += 3 * 1024)
        reg = crc_round(reg, b, 1024, NH_CRC_K1024, NH_CRC_K2048);
    for (; n >= 3 * 256; n -= 3 * 256, b += 3 * 256)
        reg = crc_round(reg, b, 256, NH_CRC_K256, NH_CRC_K512);
    for (; n >= 3 * 64; n -= 3 * 64, b += 3 * 64)
        reg = crc_round(reg, b, 64, NH_CRC_K64, NH_CRC_K128);
    return ~(uint32_t)crc_stream(reg, b, n);
}

/* ---- XXH3: SSE2 ---------------------------------------------------------- */

/* One 64-byte stripe into the accumulators (2 lanes per register). */
static inline void accumulate_sse2(__m128i acc[4], const unsigned char *b, const unsigned char *s)
{
    /* STUB: (void)acc; (void)b; (void)s; */
    /* BEGIN SOLUTION */
#pragma GCC unroll 4 /* so that acc[] lives in registers */
    for (int i = 0; i < 4; i++) {
        __m128i data = _mm_loadu_si128((const __m128i *)(const void *)(b + 16 * i));
        __m128i key =
            _mm_xor_si128(data, _mm_loadu_si128((const __m128i *)(const void *)(s + 16 * i)));
        __m128i key_hi = _mm_srli_epi64(key, 32);                           /* hi32 to lo32 */
        __m128i prod = _mm_mul_epu32(key, key_hi);                          /* lo32 * hi32 */
        __m128i swapped = _mm_shuffle_epi32(data, _MM_SHUFFLE(1, 0, 3, 2)); /* lane i^1 */

        acc[i] = _mm_add_epi64(acc[i], _mm_add_epi64(swapped, prod));
    }
    /* END SOLUTION */
}

/* After each block: a ^= a >> 47; a ^= secret; a *= PRIME32_1. */
static inline void scramble_sse2(__m128i acc[4], const unsigned char *s)
{
    const __m128i prime = _mm_set1_epi32((int)NH_XXH3_PRIME32_1);

#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
        __m128i a = _mm_xor_si128(acc[i], _mm_srli_epi64(acc[i], 47));
        __m128i lo, hi;

        a = _mm_xor_si128(a, _mm_loadu_si128((const __m128i *)(const void *)(s + 16 * i)));
        lo = _mm_mul_epu32(a, prime);
        hi = _mm_mul_epu32(_mm_srli_epi64(a, 32), prime);
        acc[i] = _mm_add_epi64(lo, _mm_slli_epi64(hi, 32));
    }
}

static void loop_sse2(uint64_t acc_out[8], const unsigned char *b, size_t n, const unsigned char *s)
{
    size_t blocks = (n - 1) / NH_XXH3_BLOCK, stripes;
    __m128i acc[4];

#pragma GCC unroll 4
    for (int i = 0; i < 4; i++)
        acc[i] = _mm_load_si128((const __m128i *)(const void *)(nh_xxh3_init_acc + 2 * i));
    for (size_t k = 0; k < blocks; k++) {
        for (size_t j = 0; j < NH_XXH3_STRIPES_PER_BLOCK; j++)
            accumulate_sse2(acc, b + NH_XXH3_BLOCK * k + NH_XXH3_STRIPE * j, s + 8 * j);
        scramble_sse2(acc, s + NH_XXH3_SECRET_SIZE - NH_XXH3_STRIPE);
    }
    stripes = (n - NH_XXH3_BLOCK * blocks - 1) / NH_XXH3_STRIPE;
    for (size_t j = 0; j < stripes; j++)
        accumulate_sse2(acc, b + NH_XXH3_BLOCK * blocks + NH_XXH3_STRIPE * j, s + 8 * j);
    accumulate_sse2(acc, b + n - NH_XXH3_STRIPE, s + NH_XXH3_SECRET_SIZE - NH_XXH3_STRIPE - 7);
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++)
        _mm_storeu_si128((__m128i *)(void *)(acc_out + 2 * i), acc[i]);
}

static uint64_t xxh3_sse2(const void *p, size_t n)
{
    if (n <= NH_XXH3_MIDSIZE_MAX)
        return kv_xxh3_64_portable(p, n);
    return nh_xxh3_long(p, n, 0, loop_sse2);
}

static uint64_t xxh3_seed_sse2(const void *p, size_t n, uint64_t seed)
{
    if (n <= NH_XXH3_MIDSIZE_MAX)
        return kv_xxh3_64_seed_portable(p, n, seed);
    return nh_xxh3_long(p, n, seed, loop_sse2);
}

/* ---- XXH3: AVX2 ---------------------------------------------------------- */

/* One 64-byte stripe into the accumulators (4 lanes per register). */
TARGET_AVX2 static inline void accumulate_avx2(__m256i acc[2], const unsigned char *b,
                                               const unsigned char *s)
{
    /* STUB: (void)acc; (void)b; (void)s; */
    /* BEGIN SOLUTION */
    for (int i = 0; i < 2; i++) {
        __m256i data = _mm256_loadu_si256((const __m256i *)(const void *)(b + 32 * i));
        __m256i key =
            _mm256_xor_si256(data, _mm256_loadu_si256((const __m256i *)(const void *)(s + 32 * i)));
        __m256i key_hi = _mm256_srli_epi64(key, 32);
        __m256i prod = _mm256_mul_epu32(key, key_hi);
        __m256i swapped = _mm256_shuffle_epi32(data, _MM_SHUFFLE(1, 0, 3, 2));

        acc[i] = _mm256_add_epi64(acc[i], _mm256_add_epi64(swapped, prod));
    }
    /* END SOLUTION */
}

TARGET_AVX2 static inline void scramble_avx2(__m256i acc[2], const unsigned char *s)
{
    const __m256i prime = _mm256_set1_epi32((int)NH_XXH3_PRIME32_1);

    for (int i = 0; i < 2; i++) {
        __m256i a = _mm256_xor_si256(acc[i], _mm256_srli_epi64(acc[i], 47));
        __m256i lo, hi;

        a = _mm256_xor_si256(a, _mm256_loadu_si256((const __m256i *)(const void *)(s + 32 * i)));
        lo = _mm256_mul_epu32(a, prime);
        hi = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), prime);
        acc[i] = _mm256_add_epi64(lo, _mm256_slli_epi64(hi, 32));
    }
}

TARGET_AVX2 static void loop_avx2(uint64_t acc_out[8], const unsigned char *b, size_t n,
                                  const unsigned char *s)
{
    size_t blocks = (n - 1) / NH_XXH3_BLOCK, stripes;
    __m256i acc[2];

    for (int i = 0; i < 2; i++)
        acc[i] = _mm256_load_si256((const __m256i *)(const void *)(nh_xxh3_init_acc + 4 * i));
    for (size_t k = 0; k < blocks; k++) {
        for (size_t j = 0; j < NH_XXH3_STRIPES_PER_BLOCK; j++)
            accumulate_avx2(acc, b + NH_XXH3_BLOCK * k + NH_XXH3_STRIPE * j, s + 8 * j);
        scramble_avx2(acc, s + NH_XXH3_SECRET_SIZE - NH_XXH3_STRIPE);
    }
    stripes = (n - NH_XXH3_BLOCK * blocks - 1) / NH_XXH3_STRIPE;
    for (size_t j = 0; j < stripes; j++)
        accumulate_avx2(acc, b + NH_XXH3_BLOCK * blocks + NH_XXH3_STRIPE * j, s + 8 * j);
    accumulate_avx2(acc, b + n - NH_XXH3_STRIPE, s + NH_XXH3_SECRET_SIZE - NH_XXH3_STRIPE - 7);
    for (int i = 0; i < 2; i++)
        _mm256_storeu_si256((__m256i *)(void *)(acc_out + 4 * i), acc[i]);
}

static uint64_t xxh3_avx2(const void *p, size_t n)
{
    if (n <= NH_XXH3_MIDSIZE_MAX)
        return kv_xxh3_64_portable(p, n);
    return nh_xxh3_long(p, n, 0, loop_avx2);
}

static uint64_t xxh3_seed_avx2(const void *p, size_t n, uint64_t seed)
{
    if (n <= NH_XXH3_MIDSIZE_MAX)
        return kv_xxh3_64_seed_portable(p, n, seed);
    return nh_xxh3_long(p, n, seed, loop_avx2);
}

/* ---- XXH3: AVX-512 ------------------------------------------------------- */

/* One stripe: all eight lanes in one register. */
TARGET_AVX512 static inline void accumulate_avx512(__m512i *acc, const unsigned char *b,
                                                   const unsigned char *s)
{
    __m512i data = _mm512_loadu_si512((const void *)b);
    __m512i key = _mm512_xor_si512(data, _mm512_loadu_si512((const void *)s));
    __m512i prod = _mm512_mul_epu32(key, _mm512_srli_epi64(key, 32));
    __m512i swapped = _mm512_shuffle_epi32(data, _MM_PERM_BADC); /* lane i^1 */

    *acc = _mm512_add_epi64(*acc, _mm512_add_epi64(swapped, prod));
}

TARGET_AVX512 static inline void scramble_avx512(__m512i *acc, const unsigned char *s)
{
    const __m512i prime = _mm512_set1_epi32((int)NH_XXH3_PRIME32_1);
    /* 0x96: the three-input XOR, a ^ (a >> 47) ^ secret, in one instruction */
    __m512i a = _mm512_ternarylogic_epi64(*acc, _mm512_srli_epi64(*acc, 47),
                                          _mm512_loadu_si512((const void *)s), 0x96);
    __m512i lo = _mm512_mul_epu32(a, prime);
    __m512i hi = _mm512_mul_epu32(_mm512_srli_epi64(a, 32), prime);

    *acc = _mm512_add_epi64(lo, _mm512_slli_epi64(hi, 32));
}

TARGET_AVX512 static void loop_avx512(uint64_t acc_out[8], const unsigned char *b, size_t n,
                                      const unsigned char *s)
{
    size_t blocks = (n - 1) / NH_XXH3_BLOCK, stripes;
    __m512i acc = _mm512_load_si512((const void *)nh_xxh3_init_acc);

    for (size_t k = 0; k < blocks; k++) {
        for (size_t j = 0; j < NH_XXH3_STRIPES_PER_BLOCK; j++)
            accumulate_avx512(&acc, b + NH_XXH3_BLOCK * k + NH_XXH3_STRIPE * j, s + 8 * j);
        scramble_avx512(&acc, s + NH_XXH3_SECRET_SIZE - NH_XXH3_STRIPE);
    }
    stripes = (n - NH_XXH3_BLOCK * blocks - 1) / NH_XXH3_STRIPE;
    for (size_t j = 0; j < stripes; j++)
        accumulate_avx512(&acc, b + NH_XXH3_BLOCK * blocks + NH_XXH3_STRIPE * j, s + 8 * j);
    accumulate_avx512(&acc, b + n - NH_XXH3_STRIPE, s + NH_XXH3_SECRET_SIZE - NH_XXH3_STRIPE - 7);
    _mm512_storeu_si512((void *)acc_out, acc);
}

static uint64_t xxh3_avx512(const void *p, size_t n)
{
    if (n <= NH_XXH3_MIDSIZE_MAX)
        return kv_xxh3_64_portable(p, n);
    return nh_xxh3_long(p, n, 0, loop_avx512);
}

static uint64_t xxh3_seed_avx512(const void *p, size_t n, uint64_t seed)
{
    if (n <= NH_XXH3_MIDSIZE_MAX)
        return kv_xxh3_64_seed_portable(p, n, seed);
    return nh_xxh3_long(p, n, seed, loop_avx512);
}

/* ---- keys: SSE2 ---------------------------------------------------------- */

/* Bit i set when byte i of x and y differ (16 bytes). */
NH_HELPER static inline unsigned diff16(const unsigned char *x, const unsigned char *y)
{
    __m128i eq = _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)x),
                                _mm_loadu_si128((const __m128i *)(const void *)y));

    return ~(unsigned)_mm_movemask_epi8(eq) & 0xFFFFu;
}

static bool key_eq_sse2(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;

    if (n < 16)
        return kv_key_eq_portable(a, b, n);
    /* STUB: (void)x; (void)y; return false; */
    /* BEGIN SOLUTION */
    for (size_t i = 0; n - i > 16; i += 16) {
        if (diff16(x + i, y + i))
            return false;
    }
    return diff16(x + n - 16, y + n - 16) == 0; /* the last 16, overlapping */
    /* END SOLUTION */
}

static int key_cmp_sse2(const void *a, size_t na, const void *b, size_t nb)
{
    const unsigned char *x = a, *y = b;
    size_t n = na < nb ? na : nb;

    if (n < 16)
        return kv_key_cmp_portable(a, na, b, nb);
    /* STUB: (void)x; (void)y; return 0; */
    /* BEGIN SOLUTION */
    for (size_t i = 0;; i += 16) {
        size_t at = n - i > 16 ? i : n - 16; /* the last step overlaps */
        unsigned d = diff16(x + at, y + at);

        if (d) {
            size_t k = at + (size_t)__builtin_ctz(d);
            return x[k] < y[k] ? -1 : 1;
        }
        if (n - i <= 16)
            break;
    }
    return (na > nb) - (na < nb);
    /* END SOLUTION */
}

/* ---- what this CPU has, and the table of paths ----------------------------- */

static bool has_sse2(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse2");
}

static bool has_sse42(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.2");
}

static bool has_sse42_clmul(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.2") && __builtin_cpu_supports("pclmul");
}

static bool has_avx2(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2");
}

static bool has_avx512(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
}

const char *const nh_arch_levels[] = {"portable", "sse2", "sse42", "avx2", "avx512", NULL};

/* clang-format off */
/* In level order; a later supported path overrides an earlier one's members. */
const nh_path nh_arch_paths[] = {
    {.name = "sse2", .needs = "sse2", .level = 1, .supported = has_sse2,
     .impl = {.xxh3_64 = xxh3_sse2, .xxh3_64_seed = xxh3_seed_sse2,
              .key_eq = key_eq_sse2, .key_cmp = key_cmp_sse2}},
    {.name = "sse4.2", .needs = "sse4.2", .level = 2, .supported = has_sse42,
     .impl = {.crc32c = crc32c_sse42}},
    {.name = "sse4.2-3way", .needs = "sse4.2 pclmul", .level = 2, .supported = has_sse42_clmul,
     .impl = {.crc32c = crc32c_3way}},
    {.name = "avx2", .needs = "avx2", .level = 3, .supported = has_avx2,
     .impl = {.xxh3_64 = xxh3_avx2, .xxh3_64_seed = xxh3_seed_avx2}},
    {.name = "avx512", .needs = "avx512f", .level = 4, .supported = has_avx512,
     .impl = {.xxh3_64 = xxh3_avx512, .xxh3_64_seed = xxh3_seed_avx512}},
};
/* clang-format on */
const size_t nh_arch_npaths = sizeof nh_arch_paths / sizeof nh_arch_paths[0];

#else
/* Not x86-64: nothing here (ISO C wants at least one declaration). */
typedef int nh_x86_unused;
#endif
