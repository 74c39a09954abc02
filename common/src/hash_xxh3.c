/*
 * hash_xxh3.c — XXH3-64 (default secret, and seeded), the portable reference.
 *
 * What this is: the 64-bit XXH3 hash, written from xxHash's specification
 * (doc/xxhash_spec.md, "XXH3 algorithm description"). Interface:
 * kv_xxh3_64_portable() and kv_xxh3_64_seed_portable(), reached through
 * kv_xxh3_64() and kv_xxh3_64_seed() in kvlabs/hash.h. The values equal
 * libxxhash's XXH3_64bits() and XXH3_64bits_withSeed(); the tests compare
 * every length from 0 to 4096 at every alignment class. This is the hash the
 * kvlabs hash tables use by default, and the scalar code sprint 2's AVX2 and
 * NEON versions of the long-input loop are checked against.
 *
 * How it works:
 *   XXH3 has one algorithm per length class, each cheap for its class. All
 *   of them mix the input with a 192-byte "secret" (a fixed table of random
 *   bytes from the specification; with a seed, short inputs add the seed to
 *   the secret words as they are read, and long inputs use a secret derived
 *   once from the seed). Every multi-byte read, of input or secret, is
 *   little-endian, so the result is the same on every CPU.
 *
 *   0 bytes      the seed XORed with two secret words, through XXH64's
 *                avalanche.
 *   1-3 bytes    first, middle and last byte and the length packed into one
 *                32-bit word, XORed with (two secret words + seed), XXH64's
 *                avalanche.
 *   4-8 bytes    the first and last 4 bytes (they overlap below 8) form one
 *                64-bit word; XOR with secret minus a byte-swapped seed; a
 *                "rrmxmx" mixer (rotations, two multiplies, length added).
 *   9-16 bytes   the first and last 8 bytes, each keyed by secret and seed,
 *                multiplied together 64x64->128 and folded (low XOR high).
 *   17-128       "mix16": a 16-byte chunk, each 8-byte half XORed with a
 *                keyed secret word, multiplied 64x64->128 and folded. Chunks
 *                are taken pairwise from both ends inwards until they cover
 *                the input, each pair with its own 32 bytes of secret.
 *   129-240      mix16 over each whole 16-byte chunk (the first 8 with the
 *                secret from offset 0, the rest from offset 3, so secret
 *                bytes are reused at a shifted position), an avalanche after
 *                the first 8, and the last 16 bytes with the secret at 119.
 *   > 240        eight 64-bit accumulators. The input is cut into 64-byte
 *                stripes; "accumulate" mixes a stripe into the accumulators:
 *                for each 8-byte lane, acc[i] += lo32(lane^key) *
 *                hi32(lane^key) and the raw lane is added to the neighbour
 *                acc[i^1] (so no input bit can be cancelled by the multiply).
 *                Stripe k of a block uses the secret from byte 8k: with 192
 *                bytes of secret a block is 16 stripes (1 KiB). After each
 *                whole block, "scramble" (xorshift 47, XOR the last 64
 *                secret bytes, multiply by a prime) stops values from
 *                piling up in the low bits. The last partial block is
 *                accumulated the same way, then the last 64 bytes of input
 *                (possibly overlapping) with the secret at 121; finally the
 *                accumulators are merged pairwise with mix-and-fold and an
 *                avalanche. The lanes are independent: this loop is what the
 *                SIMD paths vectorise (an AVX2 register holds 4 lanes).
 *
 *   The 64x64->128 multiply uses the compiler's 128-bit integer where there
 *   is one; elsewhere (and with -DKV_HASH_NO_INT128, to test it) it is
 *   assembled from four 32x32->64 products.
 */
#include "kvlabs/hash.h"

#define P32_1 UINT64_C(0x9E3779B1)
#define P32_2 UINT64_C(0x85EBCA77)
#define P32_3 UINT64_C(0xC2B2AE3D)
#define P64_1 UINT64_C(0x9E3779B185EBCA87)
#define P64_2 UINT64_C(0xC2B2AE3D27D4EB4F)
#define P64_3 UINT64_C(0x165667B19E3779F9)
#define P64_4 UINT64_C(0x85EBCA77C2B2AE63)
#define P64_5 UINT64_C(0x27D4EB2F165667C5)
#define PMX_1 UINT64_C(0x165667919E3779F9)
#define PMX_2 UINT64_C(0x9FB21C651E98DF25)

#define SECRET_SIZE       192 /* the default secret, and every derived one */
#define STRIPE            64  /* bytes per accumulate step of the long path */
#define LANES             8   /* 64-bit accumulators */
#define STRIPES_PER_BLOCK ((SECRET_SIZE - STRIPE) / 8)
#define BLOCK             (STRIPE * STRIPES_PER_BLOCK)
#define MIDSIZE_MAX       240 /* longest input of the short paths */

/* The default secret, from the specification. */
static const unsigned char xxh3_secret[SECRET_SIZE] = {
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

/* ---- arithmetic helpers ---------------------------------------------- */

static inline uint64_t rotl64(uint64_t x, unsigned r)
{
    return (x << r) | (x >> (64 - r));
}

static inline uint32_t bswap32(uint32_t x)
{
    return (x >> 24) | ((x >> 8) & 0xFF00) | ((x << 8) & 0xFF0000) | (x << 24);
}

static inline uint64_t bswap64(uint64_t x)
{
    return (uint64_t)bswap32((uint32_t)x) << 32 | bswap32((uint32_t)(x >> 32));
}

#if defined(__SIZEOF_INT128__) && !defined(KV_HASH_NO_INT128)
/* The 128-bit product of a and b, its two halves XORed together. */
static inline uint64_t mul_fold(uint64_t a, uint64_t b)
{
    __extension__ unsigned __int128 p = (unsigned __int128)a * b;

    return (uint64_t)p ^ (uint64_t)(p >> 64);
}
#else
/* Schoolbook: a*b = hh<<64 + (hl + lh)<<32 + ll, with 32-bit halves.
 * cross cannot overflow: (2^32-1) + (2^32-1) + (2^32-1)^2 = 2^64 - 1. */
static inline uint64_t mul_fold(uint64_t a, uint64_t b)
{
    uint64_t al = (uint32_t)a, ah = a >> 32, bl = (uint32_t)b, bh = b >> 32;
    uint64_t ll = al * bl, hl = ah * bl, lh = al * bh, hh = ah * bh;
    uint64_t cross = (ll >> 32) + (uint32_t)hl + lh;
    uint64_t hi = hh + (hl >> 32) + (cross >> 32);
    uint64_t lo = (cross << 32) | (uint32_t)ll;

    return lo ^ hi;
}
#endif

static uint64_t xxh64_avalanche(uint64_t h)
{
    h ^= h >> 33;
    h *= P64_2;
    h ^= h >> 29;
    h *= P64_3;
    h ^= h >> 32;
    return h;
}

static uint64_t xxh3_avalanche(uint64_t h)
{
    h ^= h >> 37;
    h *= PMX_1;
    h ^= h >> 32;
    return h;
}

/* ---- 0 to 16 bytes ---------------------------------------------------- */

static uint64_t len_0(const unsigned char *s, uint64_t seed)
{
    return xxh64_avalanche(seed ^ kv_load_le64(s + 56) ^ kv_load_le64(s + 64));
}

static uint64_t len_1to3(const unsigned char *b, size_t n, const unsigned char *s, uint64_t seed)
{
    uint32_t combined =
        (uint32_t)b[n - 1] | (uint32_t)n << 8 | (uint32_t)b[0] << 16 | (uint32_t)b[n >> 1] << 24;
    uint64_t key = (uint64_t)(kv_load_le32(s) ^ kv_load_le32(s + 4)) + seed;

    return xxh64_avalanche((uint64_t)combined ^ key);
}

static uint64_t len_4to8(const unsigned char *b, size_t n, const unsigned char *s, uint64_t seed)
{
    uint64_t first = kv_load_le32(b), last = kv_load_le32(b + n - 4);
    uint64_t mseed = seed ^ (uint64_t)bswap32((uint32_t)seed) << 32;
    uint64_t v = ((kv_load_le64(s + 8) ^ kv_load_le64(s + 16)) - mseed) ^ (last | first << 32);

    v ^= rotl64(v, 49) ^ rotl64(v, 24);
    v *= PMX_2;
    v ^= (v >> 35) + (uint64_t)n;
    v *= PMX_2;
    return v ^ (v >> 28);
}

static uint64_t len_9to16(const unsigned char *b, size_t n, const unsigned char *s, uint64_t seed)
{
    uint64_t lo = ((kv_load_le64(s + 24) ^ kv_load_le64(s + 32)) + seed) ^ kv_load_le64(b);
    uint64_t hi = ((kv_load_le64(s + 40) ^ kv_load_le64(s + 48)) - seed) ^ kv_load_le64(b + n - 8);

    return xxh3_avalanche((uint64_t)n + bswap64(lo) + hi + mul_fold(lo, hi));
}

/* ---- 17 to 240 bytes ---------------------------------------------------- */

/* Mix 16 input bytes at b with 16 secret bytes at s, keyed by the seed. */
static inline uint64_t mix16(const unsigned char *b, const unsigned char *s, uint64_t seed)
{
    return mul_fold(kv_load_le64(b) ^ (kv_load_le64(s) + seed),
                    kv_load_le64(b + 8) ^ (kv_load_le64(s + 8) - seed));
}

/* Pairs of chunks from both ends inwards: (0, n-16), (16, n-32), ... */
static uint64_t len_17to128(const unsigned char *b, size_t n, const unsigned char *s, uint64_t seed)
{
    uint64_t acc = (uint64_t)n * P64_1;
    size_t pairs = (n - 1) / 32 + 1;

    for (size_t i = 0; i < pairs; i++) {
        acc += mix16(b + 16 * i, s + 32 * i, seed);
        acc += mix16(b + n - 16 * (i + 1), s + 32 * i + 16, seed);
    }
    return xxh3_avalanche(acc);
}

static uint64_t len_129to240(const unsigned char *b, size_t n, const unsigned char *s,
                             uint64_t seed)
{
    uint64_t acc = (uint64_t)n * P64_1;
    size_t chunks = n / 16;

    for (size_t i = 0; i < 8; i++)
        acc += mix16(b + 16 * i, s + 16 * i, seed);
    acc = xxh3_avalanche(acc);
    for (size_t i = 8; i < chunks; i++)
        acc += mix16(b + 16 * i, s + 16 * (i - 8) + 3, seed);
    acc += mix16(b + n - 16, s + 136 - 17, seed);
    return xxh3_avalanche(acc);
}

/* Any input of at most MIDSIZE_MAX bytes, with the default secret. */
static uint64_t xxh3_short(const unsigned char *b, size_t n, uint64_t seed)
{
    const unsigned char *s = xxh3_secret;

    if (n <= 16) {
        if (n > 8)
            return len_9to16(b, n, s, seed);
        if (n >= 4)
            return len_4to8(b, n, s, seed);
        return n ? len_1to3(b, n, s, seed) : len_0(s, seed);
    }
    if (n <= 128)
        return len_17to128(b, n, s, seed);
    return len_129to240(b, n, s, seed);
}

/* ---- more than 240 bytes: stripes, blocks, scramble ------------------- */

/* One 64-byte stripe into the accumulators, keyed by 64 secret bytes. */
static inline void accumulate(uint64_t acc[LANES], const unsigned char *b, const unsigned char *s)
{
    for (size_t i = 0; i < LANES; i++) {
        uint64_t lane = kv_load_le64(b + 8 * i);
        uint64_t key = lane ^ kv_load_le64(s + 8 * i);

        acc[i ^ 1] += lane;
        acc[i] += (key & 0xFFFFFFFF) * (key >> 32);
    }
}

static void accumulate_stripes(uint64_t acc[LANES], const unsigned char *b, const unsigned char *s,
                               size_t stripes)
{
    for (size_t k = 0; k < stripes; k++)
        accumulate(acc, b + STRIPE * k, s + 8 * k);
}

/* After each block: keep high bits flowing into the low ones. */
static void scramble(uint64_t acc[LANES], const unsigned char *s)
{
    for (size_t i = 0; i < LANES; i++) {
        uint64_t a = acc[i];

        a ^= a >> 47;
        a ^= kv_load_le64(s + 8 * i);
        acc[i] = a * P32_1;
    }
}

static uint64_t merge(const uint64_t acc[LANES], const unsigned char *s, uint64_t start)
{
    uint64_t h = start;

    for (size_t i = 0; i < LANES; i += 2)
        h += mul_fold(acc[i] ^ kv_load_le64(s + 8 * i), acc[i + 1] ^ kv_load_le64(s + 8 * i + 8));
    return xxh3_avalanche(h);
}

/* n > MIDSIZE_MAX bytes with a SECRET_SIZE-byte secret s. */
static uint64_t xxh3_long(const unsigned char *b, size_t n, const unsigned char *s)
{
    uint64_t acc[LANES] = {P32_3, P64_1, P64_2, P64_3, P64_4, P32_2, P64_5, P32_1};
    size_t blocks = (n - 1) / BLOCK;
    size_t rest;

    for (size_t k = 0; k < blocks; k++) {
        accumulate_stripes(acc, b + BLOCK * k, s, STRIPES_PER_BLOCK);
        scramble(acc, s + SECRET_SIZE - STRIPE);
    }
    /* The last block, 1..BLOCK bytes: its whole stripes but the last one,
     * then the input's last 64 bytes, wherever they start. */
    rest = n - BLOCK * blocks;
    accumulate_stripes(acc, b + BLOCK * blocks, s, (rest - 1) / STRIPE);
    accumulate(acc, b + n - STRIPE, s + SECRET_SIZE - STRIPE - 7);
    return merge(acc, s + 11, (uint64_t)n * P64_1);
}

static inline void store_le64(unsigned char *p, uint64_t v)
{
    for (size_t i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* The secret for a seed: each pair of 64-bit words becomes (w0 + seed, w1 - seed). */
static void derive_secret(unsigned char out[SECRET_SIZE], uint64_t seed)
{
    for (size_t i = 0; i < SECRET_SIZE; i += 16) {
        store_le64(out + i, kv_load_le64(xxh3_secret + i) + seed);
        store_le64(out + i + 8, kv_load_le64(xxh3_secret + i + 8) - seed);
    }
}

/* ---- entry points ------------------------------------------------------ */

uint64_t kv_xxh3_64_portable(const void *p, size_t n)
{
    if (n <= MIDSIZE_MAX)
        return xxh3_short(p, n, 0);
    return xxh3_long(p, n, xxh3_secret);
}

uint64_t kv_xxh3_64_seed_portable(const void *p, size_t n, uint64_t seed)
{
    unsigned char secret[SECRET_SIZE];

    if (n <= MIDSIZE_MAX)
        return xxh3_short(p, n, seed);
    if (seed == 0)
        return xxh3_long(p, n, xxh3_secret);
    derive_secret(secret, seed);
    return xxh3_long(p, n, secret);
}
