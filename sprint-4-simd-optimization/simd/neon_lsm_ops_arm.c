/*
 * neon_lsm_ops_arm.c — the aarch64 paths: NEON user-key comparison and
 * NEON blocked-bloom probe.
 *
 * What this is: the aarch64 counterpart of neon_lsm_ops_x86.c, listed in
 * lsm_simd_arch_paths[] at level "neon"; each function returns exactly
 * what the scalar one in neon_lsm_ops.c returns. NEON (Advanced SIMD) is
 * part of every ARMv8-A CPU that runs Linux, but the kernel still reports
 * it (HWCAP_ASIMD in getauxval(AT_HWCAP)), and the dispatcher asks.
 *
 * How it works:
 *
 * Key comparison. vceqq_u8 gives 0xFF per equal byte. NEON has no
 * movemask; vshrn_n_u16(.., 4) narrows the 16 compare bytes into one
 * 64-bit word with 4 bits per byte (the sprint 2 trick): all ones means
 * equal, otherwise ctz(~word) / 4 is the first differing byte. The tail
 * under 16 bytes is compared byte by byte (no load past a key's end).
 *
 * Bloom probe. Two vmulq_u32 make the eight products lo32(h) * salt[i];
 * >> 23 gives the positions 0..511, narrowed to 16 bits. The byte of
 * position b is b >> 3 (0..63): the whole 64-byte line is the table of
 * one vqtbl4_u8, which fetches the eight bytes in one instruction, and
 * vshl_u8(1, b & 7) makes the eight bit masks. The key may be present
 * when (byte & mask) == mask in all eight lanes.
 *
 * Student exercise regions (BEGIN/END SOLUTION): stubs answer wrongly.
 */
#include "simd_int.h"

#if defined(LSM_SIMD_ARCH_ARM)

#include <arm_neon.h>
#include <sys/auxv.h>

/* The format's salts (simd_int.h). */
LSM_SIMD_HELPER static const uint32_t salts[LSM_SIMD_BLOOM_PROBES] = LSM_SIMD_BLOOM_SALTS;

#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1 << 1)
#endif

static int key_cmp_neon(const void *a, size_t na, const void *b, size_t nb)
{
    const uint8_t *x = a, *y = b;
    size_t m = na < nb ? na : nb, i = 0;

    /* STUB: (void)x; (void)y; (void)m; (void)i; return 0; */
    /* BEGIN SOLUTION */
    for (; i + 16 <= m; i += 16) {
        uint8x16_t eq = vceqq_u8(vld1q_u8(x + i), vld1q_u8(y + i));
        uint64_t nib = vget_lane_u64(vreinterpret_u64_u8(vshrn_n_u16(vreinterpretq_u16_u8(eq), 4)), 0);
        if (nib != ~UINT64_C(0)) {
            size_t j = i + (size_t)__builtin_ctzll(~nib) / 4;
            return x[j] < y[j] ? -1 : 1;
        }
    }
    for (; i < m; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return na < nb ? -1 : na > nb;
    /* END SOLUTION */
}

static bool probe_neon(const uint8_t *filter, size_t size, uint64_t h)
{
    const uint8_t *line = lsm_simd_line(filter, size, h);

    /* STUB: (void)line; return false; */
    /* BEGIN SOLUTION */
    uint32x4_t hv = vdupq_n_u32((uint32_t)h);
    uint32x4_t b0 = vshrq_n_u32(vmulq_u32(hv, vld1q_u32(salts)), 23);
    uint32x4_t b1 = vshrq_n_u32(vmulq_u32(hv, vld1q_u32(salts + 4)), 23);
    uint16x8_t bits = vcombine_u16(vmovn_u32(b0), vmovn_u32(b1));
    uint8x8_t byte_ix = vmovn_u16(vshrq_n_u16(bits, 3));
    uint8x8_t bit_ix = vmovn_u16(vandq_u16(bits, vdupq_n_u16(7)));
    uint8x16x4_t tbl = {{vld1q_u8(line), vld1q_u8(line + 16), vld1q_u8(line + 32),
                         vld1q_u8(line + 48)}};
    uint8x8_t bytes = vqtbl4_u8(tbl, byte_ix);
    uint8x8_t mask = vshl_u8(vdup_n_u8(1), vreinterpret_s8_u8(bit_ix));
    uint8x8_t hit = vceq_u8(vand_u8(bytes, mask), mask);
    return vget_lane_u64(vreinterpret_u64_u8(hit), 0) == ~UINT64_C(0);
    /* END SOLUTION */
}

static bool has_neon(void)
{
    return (getauxval(AT_HWCAP) & HWCAP_ASIMD) != 0;
}

const char *const lsm_simd_arch_levels[] = {"portable", "neon", NULL};
const lsm_simd_path lsm_simd_arch_paths[] = {
    {.name = "neon-probe", .needs = "asimd", .level = 1, .supported = has_neon,
     .probe = probe_neon},
    {.name = "neon-cmp", .needs = "asimd", .level = 1, .supported = has_neon,
     .key_cmp = key_cmp_neon},
};
const size_t lsm_simd_arch_npaths = sizeof lsm_simd_arch_paths / sizeof lsm_simd_arch_paths[0];

#else
typedef int lsm_simd_arm_empty; /* ISO C forbids an empty translation unit */
#endif
