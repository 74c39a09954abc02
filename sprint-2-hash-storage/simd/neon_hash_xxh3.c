/*
 * neon_hash_xxh3.c — the part of XXH3's long-input hash that is the same
 * for every vector width.
 *
 * What this is: the frame around the SIMD loops of neon_hash_x86.c (SSE2,
 * AVX2) and neon_hash_arm.c (NEON). XXH3 hashes an input of more than 240
 * bytes in three phases (xxHash's doc/xxhash_spec.md; common/src/
 * hash_xxh3.c is the reference this file must agree with):
 *   1. set up eight 64-bit accumulators with fixed primes, and pick the
 *      192-byte secret: the default one, or for a non-zero seed one derived
 *      from it (each pair of 64-bit words becomes (w0 + seed, w1 - seed));
 *   2. the loop: every 64-byte stripe of input is mixed into the eight
 *      accumulators, with a scramble after every 1 KiB block. This is
 *      nearly all the work for a long input, and the eight lanes are
 *      independent, so it is what a vector unit speeds up: the
 *      architecture files implement it (nh_xxh3_loop_fn);
 *   3. the merge: the accumulators are folded pairwise with the secret by
 *      64x64->128-bit multiplies into one 64-bit value and avalanched. It
 *      runs once per input, so plain C is fine.
 * Inputs of 240 bytes or less never get here: their XXH3 algorithms are a
 * few scalar multiplies with no loop worth vectorising, so the SIMD paths
 * call the portable kv_xxh3_64_portable() for them.
 *
 * Interface: nh_xxh3_long() (simd_int.h). Callers must pass n > 240.
 */
#include <assert.h>

#include "simd_int.h"

#define P32_1 UINT64_C(0x9E3779B1)
#define P32_2 UINT64_C(0x85EBCA77)
#define P32_3 UINT64_C(0xC2B2AE3D)
#define P64_1 UINT64_C(0x9E3779B185EBCA87)
#define P64_2 UINT64_C(0xC2B2AE3D27D4EB4F)
#define P64_3 UINT64_C(0x165667B19E3779F9)
#define P64_4 UINT64_C(0x85EBCA77C2B2AE63)
#define P64_5 UINT64_C(0x27D4EB2F165667C5)
#define PMX_1 UINT64_C(0x165667919E3779F9)

/* The default secret, from the specification (the same bytes as hash_xxh3.c). */
static const unsigned char default_secret[NH_XXH3_SECRET_SIZE] = {
    0xb8, 0xfe, 0x6c, 0x39, 0x23, 0xa4, 0x4b, 0xbe, 0x7c, 0x01, 0x81, 0x2c, 0xf7, 0x21, 0xad, 0x1c,
    0xde, 0xd4, 0x6d, 0xe9, 0x83, 0x90, 0x97, 0xdb, 0x72, 0x40, 0xa4, 0xa4, 0xb7, 0xb3, 0x67, 0x1f,
    0xcb, 0x79, 0xe6, 0x4e, 0xcc, 0xc0, 0xe5, 0x78, 0x82, 0x5a, 0xd0, 0x7d, 0xcc, 0xff, 0x72, 0x21,
    0xb8, 0x08, 0x46, 0x74, 0xf7, 0x43, 0x24, 0x8e, 0xe0, 0x35, 0x90, 0xe6, 0x81, 0x3a, 0x26, 0x4c,
    0x3c, 0x28, 0x52, 0xbb, 0x91, 0xc3, 0x00, 0xcb, 0x88, 0xd0, 0x65, 0x8b, 0x1b, 0x53, 0x2e, 0xa3,
    0x71, 0x64, 0x48, 0x97, 0xa2, 0x0d, 0xf9, 0x4e, 0x38, 0x19, 0xef, 0x46, 0xa9, 0xde, 0xac, 0xd8,
    0xa8, 0xfa, 0x76, 0x3f, 0xe3, 0x9c, 0x34, 0x3f, 0xf9, 0xdc, 0xbb, 0xc7, 0xc7, 0x0b, 0x4f, 0x1d,
    0x8a, 0x51, 0xe0, 0x4b, 0xcd, 0xb4, 0x59, 0x31, 0xc8, 0x9f, 0x7e, 0xc9, 0xd9, 0x78, 0x73, 0x64,
    0xea, 0xc5, 0xac, 0x83, 0x34, 0xd3, 0xeb, 0xc3, 0xc5, 0x81, 0xa0, 0xff, 0xfa, 0x13, 0x63, 0xeb,
    0x17, 0x0d, 0xdd, 0x51, 0xb7, 0xf0, 0xda, 0x49, 0xd3, 0x16, 0x55, 0x26, 0x29, 0xd4, 0x68, 0x9e,
    0x2b, 0x16, 0xbe, 0x58, 0x7d, 0x47, 0xa1, 0xfc, 0x8f, 0xf8, 0xb8, 0xd1, 0x7a, 0xd0, 0x31, 0xce,
    0x45, 0xcb, 0x3a, 0x8f, 0x95, 0x16, 0x04, 0x28, 0xaf, 0xd7, 0xfb, 0xca, 0xbb, 0x4b, 0x40, 0x7e,
};

#if defined(__SIZEOF_INT128__)
/* The 128-bit product of a and b, its two halves XORed together. */
static inline uint64_t mul_fold(uint64_t a, uint64_t b)
{
    __extension__ unsigned __int128 p = (unsigned __int128)a * b;

    return (uint64_t)p ^ (uint64_t)(p >> 64);
}
#else
/* Schoolbook from 32-bit halves (see hash_xxh3.c). */
static inline uint64_t mul_fold(uint64_t a, uint64_t b)
{
    uint64_t al = (uint32_t)a, ah = a >> 32, bl = (uint32_t)b, bh = b >> 32;
    uint64_t ll = al * bl, hl = ah * bl, lh = al * bh, hh = ah * bh;
    uint64_t cross = (ll >> 32) + (uint32_t)hl + lh;

    return ((cross << 32) | (uint32_t)ll) ^ (hh + (hl >> 32) + (cross >> 32));
}
#endif

static uint64_t avalanche(uint64_t h)
{
    h ^= h >> 37;
    h *= PMX_1;
    return h ^ (h >> 32);
}

static void store_le64(unsigned char *p, uint64_t v)
{
    for (size_t i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void derive_secret(unsigned char out[NH_XXH3_SECRET_SIZE], uint64_t seed)
{
    for (size_t i = 0; i < NH_XXH3_SECRET_SIZE; i += 16) {
        store_le64(out + i, kv_load_le64(default_secret + i) + seed);
        store_le64(out + i + 8, kv_load_le64(default_secret + i + 8) - seed);
    }
}

/* Phase 3: fold the eight lanes pairwise into one value (secret at 11). */
static uint64_t merge(const uint64_t acc[8], const unsigned char *s, uint64_t start)
{
    uint64_t h = start;

    for (size_t i = 0; i < 8; i += 2)
        h += mul_fold(acc[i] ^ kv_load_le64(s + 8 * i), acc[i + 1] ^ kv_load_le64(s + 8 * i + 8));
    return avalanche(h);
}

_Alignas(64) const uint64_t nh_xxh3_init_acc[8] = {P32_3, P64_1, P64_2, P64_3,
                                                   P64_4, P32_2, P64_5, P32_1};

uint64_t nh_xxh3_long(const void *p, size_t n, uint64_t seed, nh_xxh3_loop_fn loop)
{
    _Alignas(64) uint64_t acc[8];
    unsigned char derived[NH_XXH3_SECRET_SIZE];
    const unsigned char *s = default_secret;

    assert(n > NH_XXH3_MIDSIZE_MAX);
    if (seed != 0) {
        derive_secret(derived, seed);
        s = derived;
    }
    loop(acc, p, n, s);
    return merge(acc, s + 11, (uint64_t)n * P64_1);
}
