/*
 * rng.c - splitmix64 and xoshiro256**, the uniform generators of kvlabs.
 *
 * Workload drivers and randomised tests draw every key, value and choice
 * from a kv_rng so that a seed reproduces a run exactly. This file holds the
 * two uniform generators and the two ways of shaping their output (an
 * integer below a bound, a double in [0, 1)); the zipfian shapes are in
 * zipf.c. The algorithms are the published ones of Sebastiano Vigna and
 * David Blackman (prng.di.unimi.it); the tests check the first outputs
 * against their reference vectors.
 *
 * How it works:
 *
 * - splitmix64 adds the golden-ratio constant 0x9e3779b97f4a7c15 to a
 *   counter and scrambles the counter with two xor-shift-multiply rounds and
 *   a final xor-shift. The scramble is a bijection, so four consecutive
 *   outputs are distinct and can never be all zero: that is why seeding
 *   xoshiro through it is safe for every seed.
 *
 * - xoshiro256** keeps four 64-bit words. Each step outputs
 *   rotl(s1 * 5, 7) * 9 (the "**" scrambler) and then advances the linear
 *   engine with xors, one shift and one rotation.
 *
 * - kv_rng_below(n) is Lemire's method ("Fast random integer generation in
 *   an interval", 2019). Multiply a 64-bit draw x by n as a 128-bit product:
 *   the high word is floor(x * n / 2^64), in [0, n). Each value of the high
 *   word is hit by either floor(2^64 / n) or that plus one values of x; the
 *   low word tells which x are the surplus ones: those with low < 2^64 mod n.
 *   Rejecting them leaves every result exactly equally likely. The costly
 *   modulo is computed only when low < n, i.e. almost never for small n.
 *
 * - kv_rng_double() keeps the top 53 bits and scales them by 2^-53: every
 *   result is a multiple of 2^-53 in [0, 1), each equally likely.
 */
#include "kvlabs/rng.h"

/* Rotate left; k is in 1..63 at every call site. */
static inline uint64_t rotl64(uint64_t x, unsigned k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t kv_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void kv_rng_seed(kv_rng *r, uint64_t seed)
{
    uint64_t sm = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = kv_splitmix64(&sm);
}

uint64_t kv_rng_next(kv_rng *r)
{
    uint64_t *s = r->s;
    const uint64_t result = rotl64(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return result;
}

/* The 128-bit product a * b as its high and low words. */
static inline void mul64x64(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo)
{
#if defined(__SIZEOF_INT128__)
    __extension__ typedef unsigned __int128 u128;
    u128 p = (u128)a * b;
    *hi = (uint64_t)(p >> 64);
    *lo = (uint64_t)p;
#else
    /* Schoolbook multiplication on 32-bit halves. */
    uint64_t a0 = a & 0xffffffffu, a1 = a >> 32;
    uint64_t b0 = b & 0xffffffffu, b1 = b >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint64_t mid = (p00 >> 32) + (p01 & 0xffffffffu) + (p10 & 0xffffffffu);
    *lo = (mid << 32) | (p00 & 0xffffffffu);
    *hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
#endif
}

uint64_t kv_rng_below(kv_rng *r, uint64_t n)
{
    uint64_t hi, lo;

    if (n <= 1)
        return 0;
    mul64x64(kv_rng_next(r), n, &hi, &lo);
    if (lo < n) {
        const uint64_t threshold = (0 - n) % n; /* 2^64 mod n */
        while (lo < threshold)
            mul64x64(kv_rng_next(r), n, &hi, &lo);
    }
    return hi;
}

double kv_rng_double(kv_rng *r)
{
    return (double)(kv_rng_next(r) >> 11) * 0x1.0p-53;
}
