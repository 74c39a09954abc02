/*
 * simd_int.h — what neon_hash.c and its per-architecture files share.
 *
 * Not a public header: the lab's tests and tools use include/neon_hash.h.
 * Three things live here:
 *   - the XXH3 long-input driver (neon_hash_xxh3.c), which owns the parts
 *     of XXH3 that are the same for every vector width (the default
 *     secret, the seeded secret, the initial accumulators, the final
 *     merge), and calls an architecture's loop for the part that is not;
 *   - the constants of the 3-stream CRC32C combine, used by both the
 *     PCLMULQDQ (x86) and the PMULL (aarch64) version;
 *   - the per-architecture tables of paths and level names that
 *     neon_hash.c chooses from. Exactly one architecture file fills them
 *     in a given build; neon_hash.c supplies empty ones elsewhere.
 */
#ifndef SPRINT2_NEON_HASH_INT_H
#define SPRINT2_NEON_HASH_INT_H

#include <stddef.h>
#include <stdint.h>

#include "kvlabs/hash.h"
#include "neon_hash.h"

/* Which architecture file has paths in this build (at most one). */
#if defined(__x86_64__)
#define NH_ARCH_X86 1
#elif defined(__aarch64__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define NH_ARCH_ARM 1
#endif

/* For helpers called only from student solution regions: in the starter
 * kit the stubs leave them unused, which clang's -Wunused-function reports
 * even for static inline functions. */
#define NH_HELPER __attribute__((unused))

/* XXH3's long-input geometry (see common/src/hash_xxh3.c). */
#define NH_XXH3_SECRET_SIZE       192 /* bytes of secret */
#define NH_XXH3_STRIPE            64  /* input bytes per accumulate step */
#define NH_XXH3_STRIPES_PER_BLOCK 16  /* (SECRET_SIZE - STRIPE) / 8 */
#define NH_XXH3_BLOCK             (NH_XXH3_STRIPE * NH_XXH3_STRIPES_PER_BLOCK)
#define NH_XXH3_MIDSIZE_MAX       240                  /* longest input of the short paths */
#define NH_XXH3_PRIME32_1         UINT32_C(0x9E3779B1) /* the scramble multiplier */

/*
 * An architecture's XXH3 loop: starting from the accumulators
 * nh_xxh3_init_acc, mix every stripe of b[0..n) (n > 240) in with the
 * 192-byte secret s, exactly as hash_xxh3.c's xxh3_long() does before its
 * merge: whole blocks, each followed by a scramble; then the whole stripes
 * of the last block but its last one; then the input's last 64 bytes with
 * the secret at 121. Store the result in acc[]. (The loop loads its start
 * values from the constant table itself rather than from acc[]: a wide
 * vector load of values just written by narrower stores cannot be
 * forwarded from the store buffer and stalls for dozens of cycles, which
 * is a third of the time of a 1 KiB hash.)
 */
typedef void (*nh_xxh3_loop_fn)(uint64_t acc[8], const unsigned char *b, size_t n,
                                const unsigned char *s);

/* The accumulators' start values (64-byte aligned). */
extern const uint64_t nh_xxh3_init_acc[8];

/* XXH3-64 of p[0..n), n > 240, seeded (0: the default secret), with loop. */
uint64_t nh_xxh3_long(const void *p, size_t n, uint64_t seed, nh_xxh3_loop_fn loop);

/*
 * 3-stream CRC32C: K(L) = x^(8L-33) mod P, bit-reflected, for the stream
 * lengths L the combine uses. Shifting a CRC register r over L zero bytes
 * is then crc32_u64(0, clmul(r, K(L))). Printed by this one-liner, which
 * the tests confirm by agreeing with the portable CRC on every length:
 *   python3 -c 'v=1<<31
 *   for i in range(8*2048-33): v=(v>>1)^(0x82F63B78 if v&1 else 0)'
 * (stopping at 8L-33 steps for each L).
 */
#define NH_CRC_K64   UINT32_C(0x9E4ADDF8)
#define NH_CRC_K128  UINT32_C(0x0D3B6092)
#define NH_CRC_K256  UINT32_C(0xB9E02B86)
#define NH_CRC_K512  UINT32_C(0xDD7E3B0C)
#define NH_CRC_K1024 UINT32_C(0x170076FA)
#define NH_CRC_K2048 UINT32_C(0xA51B6135)

/* The running architecture's paths and level names (see neon_hash.h). */
extern const nh_path nh_arch_paths[];
extern const size_t nh_arch_npaths;
extern const char *const nh_arch_levels[]; /* NULL-terminated, "portable" first */

#endif /* SPRINT2_NEON_HASH_INT_H */
