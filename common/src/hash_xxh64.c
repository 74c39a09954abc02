/*
 * hash_xxh64.c — XXH64, the portable reference.
 *
 * What this is: Yann Collet's 64-bit xxHash, written here from its
 * specification (xxHash's doc/xxhash_spec.md, "XXH64 algorithm
 * description"). Its interface is kv_xxh64_portable(), reached through
 * kv_xxh64() in kvlabs/hash.h; the value equals libxxhash's XXH64() for
 * every input and seed, which the tests check on every length up to 4 KiB.
 * kvlabs uses XXH64 where a format already specifies it; new code should
 * prefer XXH3, which is faster on short keys.
 *
 * How it works:
 *   Four 64-bit accumulators, seeded from the seed and two primes, each
 *   consume one 8-byte lane of every 32-byte stripe with a "round":
 *   acc = rotl(acc + lane * P2, 31) * P1. The four chains are independent,
 *   so a superscalar CPU runs them in parallel (that is all of XXH64's speed).
 *   After the last full stripe the accumulators are folded into one
 *   (rotations by 1, 7, 12, 18, then a "merge" of each accumulator, i.e. a
 *   round of it XORed in, multiplied by P1, plus P4). Inputs under 32 bytes
 *   skip the stripes and start from seed + P5. The length is added, the
 *   remaining 0..31 bytes are mixed in by 8, then 4, then 1 byte, each with
 *   its own multiply-rotate step, and a final "avalanche" (xor-shift,
 *   multiply, xor-shift, multiply, xor-shift) makes every input bit affect
 *   every output bit. All lanes are read little-endian through
 *   kv_load_le64()/kv_load_le32(), so results do not depend on the CPU.
 */
#include "kvlabs/hash.h"

#define P1 UINT64_C(0x9E3779B185EBCA87)
#define P2 UINT64_C(0xC2B2AE3D27D4EB4F)
#define P3 UINT64_C(0x165667B19E3779F9)
#define P4 UINT64_C(0x85EBCA77C2B2AE63)
#define P5 UINT64_C(0x27D4EB2F165667C5)

#define STRIPE 32 /* bytes consumed per step by the four accumulators */

static inline uint64_t rotl64(uint64_t x, unsigned r)
{
    return (x << r) | (x >> (64 - r));
}

static inline uint64_t xxh64_round(uint64_t acc, uint64_t lane)
{
    acc += lane * P2;
    acc = rotl64(acc, 31);
    return acc * P1;
}

static inline uint64_t xxh64_merge(uint64_t acc, uint64_t v)
{
    acc ^= xxh64_round(0, v);
    return acc * P1 + P4;
}

static uint64_t xxh64_avalanche(uint64_t h)
{
    h ^= h >> 33;
    h *= P2;
    h ^= h >> 29;
    h *= P3;
    h ^= h >> 32;
    return h;
}

/* Consume the whole stripes of b[0..n) into four accumulators; fold them. */
static uint64_t xxh64_stripes(const unsigned char *b, size_t n, uint64_t seed)
{
    uint64_t a1 = seed + P1 + P2, a2 = seed + P2, a3 = seed, a4 = seed - P1;
    uint64_t h;

    for (size_t i = 0; n - i >= STRIPE; i += STRIPE) {
        a1 = xxh64_round(a1, kv_load_le64(b + i));
        a2 = xxh64_round(a2, kv_load_le64(b + i + 8));
        a3 = xxh64_round(a3, kv_load_le64(b + i + 16));
        a4 = xxh64_round(a4, kv_load_le64(b + i + 24));
    }
    h = rotl64(a1, 1) + rotl64(a2, 7) + rotl64(a3, 12) + rotl64(a4, 18);
    h = xxh64_merge(h, a1);
    h = xxh64_merge(h, a2);
    h = xxh64_merge(h, a3);
    return xxh64_merge(h, a4);
}

/* Mix the last n < 32 bytes at b into h, by 8, then 4, then 1 byte. */
static uint64_t xxh64_tail(uint64_t h, const unsigned char *b, size_t n)
{
    size_t i = 0;

    for (; n - i >= 8; i += 8) {
        h ^= xxh64_round(0, kv_load_le64(b + i));
        h = rotl64(h, 27) * P1 + P4;
    }
    if (n - i >= 4) {
        h ^= (uint64_t)kv_load_le32(b + i) * P1;
        h = rotl64(h, 23) * P2 + P3;
        i += 4;
    }
    for (; i < n; i++) {
        h ^= b[i] * P5;
        h = rotl64(h, 11) * P1;
    }
    return h;
}

uint64_t kv_xxh64_portable(const void *p, size_t n, uint64_t seed)
{
    const unsigned char *b = p;
    size_t whole = n - n % STRIPE;
    uint64_t h;

    if (n >= STRIPE)
        h = xxh64_stripes(b, whole, seed);
    else
        h = seed + P5;
    h += (uint64_t)n;
    if (n > whole)
        h = xxh64_tail(h, b + whole, n - whole);
    return xxh64_avalanche(h);
}
