/*
 * neon_hash_arm.c — the aarch64 paths: ARMv8 CRC32C instructions (one
 * stream, and three streams combined with PMULL), NEON XXH3, NEON key
 * compare.
 *
 * What this is: faster implementations of members of kv_hash_impl
 * (common/include/kvlabs/hash.h), listed in nh_arch_paths[] for
 * neon_hash.c to install when the CPU has them. Each must return exactly
 * what the portable reference returns. Little-endian aarch64 only (every
 * Linux distribution's); on aarch64_be this file is empty and the portable
 * paths run.
 *
 * How the file builds: NEON (Advanced SIMD) is part of every ARMv8-A CPU
 * that runs Linux, so the compiler's defaults allow it; the CRC32 and PMULL
 * instructions are optional, so the functions that use them carry
 * `__attribute__((target("+crc")))` / `target("+crc+crypto")` (clang
 * spells them "crc", "crc,crypto"), and run only where getauxval(AT_HWCAP),
 * the kernel's list of the CPU's features, has HWCAP_CRC32 / HWCAP_PMULL.
 * (The lab's qemu test compiles with `-march=armv8-a+crc`; without it the
 * file builds the same.)
 *
 * How it works (the x86 file explains each idea at more length):
 *
 * CRC32C. `crc32cx` (__crc32cd) is one CRC32C update of the register by 8
 * bytes, `crc32cb` by one; no inversions, so this file inverts on entry and
 * exit. One stream is latency-bound; three streams over thirds of a piece
 * run in parallel and are merged: register(A|B|C) = shift(r0, 2L) ^
 * shift(r1, L) ^ r2, with shift(r, L) = crc32cx(0, pmull(r, K(L))), K(L) =
 * x^(8L-33) mod P. `pmull` (vmull_p64) is the same 64x64-bit carry-less
 * multiply as x86's PCLMULQDQ, so the constants in simd_int.h serve
 * both.
 *
 * XXH3 (NEON). Two 64-bit lanes per register, four registers. For each
 * lane k = data ^ secret; `xtn` (vmovn_u64) keeps each lane's low 32 bits
 * and `shrn #32` (vshrn_n_u64) its high 32, both as 32-bit pairs; `umlal`
 * (vmlal_u32) multiplies them into 64-bit products and adds them to the
 * accumulator in one instruction. `ext #1` (vextq_u64) swaps the two
 * lanes of the data for the data[i^1] term. The scramble's multiply by a
 * 32-bit prime is umull (high halves, shifted up 32) plus umlal (low).
 *
 * Keys (NEON). `cmeq` gives 0xFF per equal byte, `mvn` turns that into
 * 0xFF per differing byte; NEON has no x86-style movemask, so `shrn #4`
 * narrows the 16 bytes to a 64-bit word with 4 bits per byte: the first
 * differing byte is ctz(word) / 4.
 */
#define _GNU_SOURCE /* getauxval() */

#include "simd_int.h"

#if defined(NH_ARCH_ARM)

#include <arm_acle.h>
#include <arm_neon.h>
#include <string.h>
#include <sys/auxv.h>

#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1UL << 1)
#endif
#ifndef HWCAP_PMULL
#define HWCAP_PMULL (1UL << 4)
#endif
#ifndef HWCAP_CRC32
#define HWCAP_CRC32 (1UL << 7)
#endif

/* GCC spells target extensions "+crc", clang (up to 15) "crc"; and clang's
 * arm_acle.h declares __crc32cd() only when the whole file is built with
 * +crc, so with clang the builtins behind it are used directly. */
#if defined(__clang__)
#define TARGET_CRC       __attribute__((target("crc")))
#define TARGET_CRC_PMULL __attribute__((target("crc,crypto")))
#define crc32cd(r, v)    __builtin_arm_crc32cd(r, v)
#define crc32cb(r, v)    __builtin_arm_crc32cb(r, v)
#else
#define TARGET_CRC       __attribute__((target("+crc")))
#define TARGET_CRC_PMULL __attribute__((target("+crc+crypto")))
#define crc32cd(r, v)    __crc32cd(r, v)
#define crc32cb(r, v)    __crc32cb(r, v)
#endif

NH_HELPER static inline uint64_t load64(const unsigned char *p)
{
    uint64_t v;

    memcpy(&v, p, sizeof v);
    return v;
}

/* ---- CRC32C -------------------------------------------------------------- */

/* The register after b[0..n): 8 bytes per crc32cx, then byte by byte. */
TARGET_CRC static inline __attribute__((always_inline)) uint32_t
crc_stream(uint32_t reg, const unsigned char *b, size_t n)
{
    /* STUB: (void)b; (void)n; return reg; */
    /* BEGIN SOLUTION */
    for (; n >= 8; n -= 8, b += 8)
        reg = crc32cd(reg, load64(b));
    for (; n > 0; n--, b++)
        reg = crc32cb(reg, *b);
    return reg;
    /* END SOLUTION */
}

TARGET_CRC static uint32_t crc32c_armv8(uint32_t crc, const void *p, size_t n)
{
    return ~crc_stream(~crc, p, n);
}

/* r carried over L zero bytes, given k = K(L): crc32cx(0, pmull(r, k)). */
NH_HELPER TARGET_CRC_PMULL static inline uint32_t crc_shift(uint32_t r, uint32_t k)
{
    poly128_t prod = vmull_p64((poly64_t)r, (poly64_t)k);

    return crc32cd(0, vgetq_lane_u64(vreinterpretq_u64_p128(prod), 0));
}

/* The register after 3*len bytes at b as three streams; k1 = K(len), k2 = K(2*len). */
TARGET_CRC_PMULL static inline __attribute__((always_inline)) uint32_t
crc_round(uint32_t r0, const unsigned char *b, size_t len, uint32_t k1, uint32_t k2)
{
    /* STUB: (void)b; (void)len; (void)k1; (void)k2; return r0; */
    /* BEGIN SOLUTION */
    uint32_t r1 = 0, r2 = 0;

    for (size_t i = 0; i < len; i += 8) {
        r0 = crc32cd(r0, load64(b + i));
        r1 = crc32cd(r1, load64(b + len + i));
        r2 = crc32cd(r2, load64(b + 2 * len + i));
    }
    return crc_shift(r0, k2) ^ crc_shift(r1, k1) ^ r2;
    /* END SOLUTION */
}

TARGET_CRC_PMULL static uint32_t crc32c_3way(uint32_t crc, const void *p, size_t n)
{
    const unsigned char *b = p;
    uint32_t reg = ~crc;

    if (n < 3 * 64) /* short keys: straight to the single stream */
        return ~crc_stream(reg, b, n);
    for (; n >= 3 * 1024; n -= 3 * 1024, b += 3 * 1024)
        reg = crc_round(reg, b, 1024, NH_CRC_K1024, NH_CRC_K2048);
    for (; n >= 3 * 256; n -= 3 * 256, b += 3 * 256)
        reg = crc_round(reg, b, 256, NH_CRC_K256, NH_CRC_K512);
    for (; n >= 3 * 64; n -= 3 * 64, b += 3 * 64)
        reg = crc_round(reg, b, 64, NH_CRC_K64, NH_CRC_K128);
    return ~crc_stream(reg, b, n);
}

/* ---- XXH3: NEON ---------------------------------------------------------- */

NH_HELPER static inline uint64x2_t load_u64x2(const unsigned char *p)
{
    return vreinterpretq_u64_u8(vld1q_u8(p));
}

/* One 64-byte stripe into the accumulators (2 lanes per register). */
static inline void accumulate_neon(uint64x2_t acc[4], const unsigned char *b,
                                   const unsigned char *s)
{
    /* STUB: (void)acc; (void)b; (void)s; */
    /* BEGIN SOLUTION */
#pragma GCC unroll 4 /* so that acc[] lives in registers */
    for (int i = 0; i < 4; i++) {
        uint64x2_t data = load_u64x2(b + 16 * i);
        uint64x2_t key = veorq_u64(data, load_u64x2(s + 16 * i));
        uint32x2_t lo = vmovn_u64(key), hi = vshrn_n_u64(key, 32);
        uint64x2_t swapped = vextq_u64(data, data, 1); /* lane i^1 */

        acc[i] = vmlal_u32(vaddq_u64(acc[i], swapped), lo, hi);
    }
    /* END SOLUTION */
}

/* After each block: a ^= a >> 47; a ^= secret; a *= PRIME32_1. */
static inline void scramble_neon(uint64x2_t acc[4], const unsigned char *s)
{
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
        uint64x2_t a = veorq_u64(acc[i], vshrq_n_u64(acc[i], 47));
        uint64x2_t hi_prod;

        a = veorq_u64(a, load_u64x2(s + 16 * i));
        hi_prod = vshlq_n_u64(vmull_n_u32(vshrn_n_u64(a, 32), NH_XXH3_PRIME32_1), 32);
        acc[i] = vmlal_n_u32(hi_prod, vmovn_u64(a), NH_XXH3_PRIME32_1);
    }
}

static void loop_neon(uint64_t acc_out[8], const unsigned char *b, size_t n, const unsigned char *s)
{
    size_t blocks = (n - 1) / NH_XXH3_BLOCK, stripes;
    uint64x2_t acc[4];

#pragma GCC unroll 4
    for (int i = 0; i < 4; i++)
        acc[i] = vld1q_u64(nh_xxh3_init_acc + 2 * i);
    for (size_t k = 0; k < blocks; k++) {
        for (size_t j = 0; j < NH_XXH3_STRIPES_PER_BLOCK; j++)
            accumulate_neon(acc, b + NH_XXH3_BLOCK * k + NH_XXH3_STRIPE * j, s + 8 * j);
        scramble_neon(acc, s + NH_XXH3_SECRET_SIZE - NH_XXH3_STRIPE);
    }
    stripes = (n - NH_XXH3_BLOCK * blocks - 1) / NH_XXH3_STRIPE;
    for (size_t j = 0; j < stripes; j++)
        accumulate_neon(acc, b + NH_XXH3_BLOCK * blocks + NH_XXH3_STRIPE * j, s + 8 * j);
    accumulate_neon(acc, b + n - NH_XXH3_STRIPE, s + NH_XXH3_SECRET_SIZE - NH_XXH3_STRIPE - 7);
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++)
        vst1q_u64(acc_out + 2 * i, acc[i]);
}

static uint64_t xxh3_neon(const void *p, size_t n)
{
    if (n <= NH_XXH3_MIDSIZE_MAX)
        return kv_xxh3_64_portable(p, n);
    return nh_xxh3_long(p, n, 0, loop_neon);
}

static uint64_t xxh3_seed_neon(const void *p, size_t n, uint64_t seed)
{
    if (n <= NH_XXH3_MIDSIZE_MAX)
        return kv_xxh3_64_seed_portable(p, n, seed);
    return nh_xxh3_long(p, n, seed, loop_neon);
}

/* ---- keys: NEON ---------------------------------------------------------- */

/* 4 bits per byte, all set where x and y differ (16 bytes). */
NH_HELPER static inline uint64_t diff16(const unsigned char *x, const unsigned char *y)
{
    uint8x16_t ne = vmvnq_u8(vceqq_u8(vld1q_u8(x), vld1q_u8(y)));
    uint8x8_t nibbles = vshrn_n_u16(vreinterpretq_u16_u8(ne), 4);

    return vget_lane_u64(vreinterpret_u64_u8(nibbles), 0);
}

static bool key_eq_neon(const void *a, const void *b, size_t n)
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

static int key_cmp_neon(const void *a, size_t na, const void *b, size_t nb)
{
    const unsigned char *x = a, *y = b;
    size_t n = na < nb ? na : nb;

    if (n < 16)
        return kv_key_cmp_portable(a, na, b, nb);
    /* STUB: (void)x; (void)y; return 0; */
    /* BEGIN SOLUTION */
    for (size_t i = 0;; i += 16) {
        size_t at = n - i > 16 ? i : n - 16; /* the last step overlaps */
        uint64_t d = diff16(x + at, y + at);

        if (d) {
            size_t k = at + (size_t)__builtin_ctzll(d) / 4;
            return x[k] < y[k] ? -1 : 1;
        }
        if (n - i <= 16)
            break;
    }
    return (na > nb) - (na < nb);
    /* END SOLUTION */
}

/* ---- what this CPU has, and the table of paths ----------------------------- */

static bool hwcap(unsigned long bits)
{
    return (getauxval(AT_HWCAP) & bits) == bits;
}

static bool has_asimd(void)
{
    return hwcap(HWCAP_ASIMD);
}

static bool has_crc(void)
{
    return hwcap(HWCAP_CRC32);
}

static bool has_crc_pmull(void)
{
    return hwcap(HWCAP_CRC32 | HWCAP_PMULL);
}

const char *const nh_arch_levels[] = {"portable", "neon", NULL};

/* clang-format off */
/* In level order; a later supported path overrides an earlier one's members. */
const nh_path nh_arch_paths[] = {
    {.name = "neon", .needs = "asimd", .level = 1, .supported = has_asimd,
     .impl = {.xxh3_64 = xxh3_neon, .xxh3_64_seed = xxh3_seed_neon,
              .key_eq = key_eq_neon, .key_cmp = key_cmp_neon}},
    {.name = "crc32", .needs = "crc32", .level = 1, .supported = has_crc,
     .impl = {.crc32c = crc32c_armv8}},
    {.name = "crc32-3way", .needs = "crc32 pmull", .level = 1, .supported = has_crc_pmull,
     .impl = {.crc32c = crc32c_3way}},
};
/* clang-format on */
const size_t nh_arch_npaths = sizeof nh_arch_paths / sizeof nh_arch_paths[0];

#else
/* Not little-endian aarch64: nothing here (ISO C wants a declaration). */
typedef int nh_arm_unused;
#endif
