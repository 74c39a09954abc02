/*
 * hash_fnv.c — FNV-1a, 32 and 64 bits: the portable reference.
 *
 * What this is: the Fowler/Noll/Vo hash in its "1a" variant, the simplest
 * hash kvlabs offers. Its interface is kv_fnv1a32_portable() and
 * kv_fnv1a64_portable() (reached through kv_fnv1a32()/kv_fnv1a64() in
 * kvlabs/hash.h). It serves short keys and teaching: a student can compute it
 * by hand and check a bucket index on paper.
 *
 * How it works: the state starts at the "offset basis"; each byte is XORed
 * into the low byte of the state, then the state is multiplied by the FNV
 * prime modulo 2^32 (or 2^64). XOR-then-multiply ("1a") rather than
 * multiply-then-XOR ("1") lets the last byte reach the high bits, which
 * matters when the table index is taken from the top bits. One multiply per
 * byte makes it slow on long inputs (well under 1 GB/s) and its mixing is
 * weak (no final avalanche): use XXH3 for anything but short keys.
 *
 * The constants come from the FNV specification (draft-eastlake-fnv):
 * basis 2166136261 and prime 16777619 for 32 bits; basis
 * 14695981039346656037 and prime 1099511628211 (2^40 + 2^8 + 0xB3) for 64.
 */
#include "kvlabs/hash.h"

#define FNV32_BASIS UINT32_C(0x811C9DC5)
#define FNV32_PRIME UINT32_C(0x01000193)
#define FNV64_BASIS UINT64_C(0xCBF29CE484222325)
#define FNV64_PRIME UINT64_C(0x00000100000001B3)

uint32_t kv_fnv1a32_portable(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint32_t h = FNV32_BASIS;

    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= FNV32_PRIME;
    }
    return h;
}

uint64_t kv_fnv1a64_portable(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t h = FNV64_BASIS;

    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= FNV64_PRIME;
    }
    return h;
}
