/**
 * @file hash.h
 * @brief Hashing and key comparison for every kvlabs engine: FNV-1a, CRC32C,
 *        XXH64 and XXH3-64, behind a dispatch table.
 *
 * What this module is: the one place where kvlabs hashes bytes. Hash tables
 * (sprint 2's `hash` engine, Bitcask's keydir) bucket keys with kv_xxh3_64()
 * or kv_fnv1a64(); every durable engine checksums its records and pages with
 * kv_crc32c(); ordered engines compare keys with kv_key_cmp(). The functions
 * here are portable C11 reference implementations written from the
 * published specifications (FNV: Fowler, Noll and Vo's IETF draft; CRC32C:
 * RFC 3720; XXH64 and XXH3: xxHash's `doc/xxhash_spec.md`). They give the
 * same results on every CPU, whatever its byte order or alignment rules.
 *
 * The interface is two-layered:
 *   - kv_fnv1a32(), kv_fnv1a64(), kv_crc32c(), kv_xxh64(), kv_xxh3_64(),
 *     kv_xxh3_64_seed(), kv_key_eq() and kv_key_cmp() are what engines call.
 *     Each makes one indirect call through the active kv_hash_impl table.
 *   - kv_hash_portable is the reference table; its functions are also
 *     exported under `kv_*_portable` names so that a faster implementation
 *     (sprint 2's SSE4.2, AVX2 and NEON paths) can be tested against them.
 *     kv_hash_install() replaces entries of the active table; the table a
 *     program starts with is kv_hash_portable.
 *
 * How the dispatch works: the active table is an atomic pointer, loaded with
 * relaxed ordering on every call (a plain load on every CPU kvlabs targets).
 * kv_hash_install() never edits the table callers may be reading: it builds
 * the new table in a second static buffer (current entries, overlaid with
 * the installed table's non-NULL members), then publishes it with a release
 * store. Every implementation of an entry computes exactly the same function,
 * so which table a caller sees never changes a result, only its speed.
 *
 * Callers must not:
 *   - rely on a hash value being stable across kvlabs versions, except for
 *     CRC32C, XXH64 and XXH3-64, which are fixed by their specifications and
 *     may be stored on disk;
 *   - pass a NULL pointer with a non-zero length (NULL is fine when the
 *     length is 0).
 *
 * Thread safety: every hashing and comparison function is thread-safe and
 * keeps no state. kv_hash_install() is a start-up operation: call it before
 * the threads that hash start (sprint 2 calls it from the registry's init
 * list) and never from two threads at once.
 *
 * Kernel use: the hash functions call nothing from libc but memcpy (for
 * unaligned loads), allocate nothing, and use no floating point. Two
 * compile-time switches exist for testing the portable fallbacks on a
 * little-endian host with a 128-bit integer type: `KV_HASH_PORTABLE_LOADS`
 * (assemble little-endian loads byte by byte, as on a big-endian CPU) and
 * `KV_HASH_NO_INT128` (do 64x64->128-bit products in 32-bit halves).
 */
#ifndef KVLABS_HASH_H
#define KVLABS_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @name Hashing and comparison (dispatched through the active table)
 * @{ */

/**
 * @brief 32-bit FNV-1a hash.
 *
 * Starts from the offset basis 0x811C9DC5; for each byte, XOR it in and
 * multiply by the FNV prime 16777619. kv_fnv1a32("", 0) is 0x811C9DC5.
 * Simple and fast on short keys, weak on long ones; prefer kv_xxh3_64()
 * for hash tables.
 * @param[in] p  the bytes (may be NULL when n is 0).
 * @param[in] n  number of bytes.
 * @return the hash.
 */
uint32_t kv_fnv1a32(const void *p, size_t n);

/**
 * @brief 64-bit FNV-1a hash (offset basis 0xCBF29CE484222325, prime 2^40 + 0x1B3).
 * @param[in] p  the bytes (may be NULL when n is 0).
 * @param[in] n  number of bytes.
 * @return the hash.
 */
uint64_t kv_fnv1a64(const void *p, size_t n);

/**
 * @brief CRC32C (Castagnoli; reflected polynomial 0x82F63B78), in "extend" style.
 *
 * Start with @p crc = 0. The pre- and post-inversion are done inside, so a
 * CRC can be extended piece by piece:
 * `kv_crc32c(kv_crc32c(0, a, na), b, nb) == kv_crc32c(0, ab, na + nb)`,
 * where ab is a followed by b. kv_crc32c(0, "123456789", 9) is 0xE3069283;
 * kv_crc32c(c, p, 0) is c.
 * @param[in] crc  the CRC of the bytes before these (0 to start).
 * @param[in] p    the bytes (may be NULL when n is 0).
 * @param[in] n    number of bytes.
 * @return the CRC of everything so far.
 */
uint32_t kv_crc32c(uint32_t crc, const void *p, size_t n);

/**
 * @brief XXH64, as specified by xxHash (the same value as `XXH64()`).
 * @param[in] p     the bytes (may be NULL when n is 0).
 * @param[in] n     number of bytes.
 * @param[in] seed  any value; 0 is the usual default.
 * @return the hash.
 */
uint64_t kv_xxh64(const void *p, size_t n, uint64_t seed);

/**
 * @brief XXH3-64 with the default secret (the same value as `XXH3_64bits()`).
 *
 * The fastest hash here on every length; the engines' default.
 * @param[in] p  the bytes (may be NULL when n is 0).
 * @param[in] n  number of bytes.
 * @return the hash.
 */
uint64_t kv_xxh3_64(const void *p, size_t n);

/**
 * @brief Seeded XXH3-64 (the same value as `XXH3_64bits_withSeed()`).
 *
 * Inputs above 240 bytes are hashed with a secret derived from @p seed.
 * With seed 0 the result equals kv_xxh3_64().
 * @param[in] p     the bytes (may be NULL when n is 0).
 * @param[in] n     number of bytes.
 * @param[in] seed  any value.
 * @return the hash.
 */
uint64_t kv_xxh3_64_seed(const void *p, size_t n, uint64_t seed);

/**
 * @brief Whether two byte strings of the same length are equal.
 * @param[in] a  n bytes (may be NULL when n is 0).
 * @param[in] b  n bytes (may be NULL when n is 0).
 * @param[in] n  number of bytes.
 * @return true when the n bytes are identical (always true when n is 0).
 */
bool kv_key_eq(const void *a, const void *b, size_t n);

/**
 * @brief Compare two keys in kvlabs' key order: bytewise as unsigned
 *        (memcmp order); on a tie over the common length, the shorter first.
 * @param[in] a   na bytes (may be NULL when na is 0).
 * @param[in] na  length of a.
 * @param[in] b   nb bytes (may be NULL when nb is 0).
 * @param[in] nb  length of b.
 * @return -1 when a sorts before b, 0 when they are equal, 1 when after.
 */
int kv_key_cmp(const void *a, size_t na, const void *b, size_t nb);

/** @} */

/**
 * @brief A set of implementations of the functions above.
 *
 * Each member has the signature of the public function of the same name and
 * must return exactly what the portable reference returns, for every input
 * and every alignment. In a table passed to kv_hash_install(), a NULL member
 * means "keep the current one".
 */
typedef struct kv_hash_impl {
    /** @brief Name for reports, e.g. "portable" or "neon"; NULL keeps the current one. */
    const char *name;
    uint32_t (*fnv1a32)(const void *, size_t);                  /**< implements kv_fnv1a32() */
    uint64_t (*fnv1a64)(const void *, size_t);                  /**< implements kv_fnv1a64() */
    uint32_t (*crc32c)(uint32_t, const void *, size_t);         /**< implements kv_crc32c() */
    uint64_t (*xxh64)(const void *, size_t, uint64_t);          /**< implements kv_xxh64() */
    uint64_t (*xxh3_64)(const void *, size_t);                  /**< implements kv_xxh3_64() */
    uint64_t (*xxh3_64_seed)(const void *, size_t, uint64_t);   /**< implements kv_xxh3_64_seed() */
    bool (*key_eq)(const void *, const void *, size_t);         /**< implements kv_key_eq() */
    int (*key_cmp)(const void *, size_t, const void *, size_t); /**< implements kv_key_cmp() */
} kv_hash_impl;

/**
 * @brief The portable reference implementations, named "portable": every
 *        member is set. Installing it restores the start-up state.
 */
extern const kv_hash_impl kv_hash_portable;

/**
 * @brief The table the public functions currently call through.
 * @return a table whose members are all non-NULL; never NULL. It stays
 *         valid (and unchanged) until the next-but-one kv_hash_install().
 */
const kv_hash_impl *kv_hash_active(void);

/**
 * @brief Replace entries of the active table.
 *
 * Every non-NULL member of @p impl (its name included) replaces the current
 * one; NULL members keep theirs, so a NEON path that only speeds up CRC32C
 * can install just that. `kv_hash_install(&kv_hash_portable)` restores the
 * portable reference everywhere.
 * @param[in] impl  the new entries; copied, so it need not outlive the call.
 *                  NULL does nothing.
 * @note Not thread-safe: see the thread-safety note at the top of this file.
 */
void kv_hash_install(const kv_hash_impl *impl);

/**
 * @brief Overlay one table on another: every non-NULL member of @p src (its
 *        name included) replaces the member of @p dst; NULL members keep
 *        @p dst's.
 *
 * What kv_hash_install() does to the active table, for a table the caller
 * builds (a SIMD level: the portable table with each supported path of the
 * level on top, installed in one call).
 * @param[out] dst  the table to change.
 * @param[in]  src  the entries to put on top.
 */
void kv_hash_overlay(kv_hash_impl *dst, const kv_hash_impl *src);

/** @name Portable reference implementations (the members of kv_hash_portable)
 * Same contracts as the dispatched functions of the same name without the
 * `_portable` suffix.
 * @{ */

/**
 * @brief Portable kv_fnv1a32().
 * @param[in] p  the bytes (may be NULL when n is 0).
 * @param[in] n  number of bytes.
 * @return the 32-bit FNV-1a hash.
 */
uint32_t kv_fnv1a32_portable(const void *p, size_t n);

/**
 * @brief Portable kv_fnv1a64().
 * @param[in] p  the bytes (may be NULL when n is 0).
 * @param[in] n  number of bytes.
 * @return the 64-bit FNV-1a hash.
 */
uint64_t kv_fnv1a64_portable(const void *p, size_t n);

/**
 * @brief Portable kv_crc32c(): slice-by-8 tables.
 * @param[in] crc  the CRC of the bytes before these (0 to start).
 * @param[in] p    the bytes (may be NULL when n is 0).
 * @param[in] n    number of bytes.
 * @return the CRC32C of everything so far.
 */
uint32_t kv_crc32c_portable(uint32_t crc, const void *p, size_t n);

/**
 * @brief Portable kv_xxh64().
 * @param[in] p     the bytes (may be NULL when n is 0).
 * @param[in] n     number of bytes.
 * @param[in] seed  the seed.
 * @return the XXH64 hash.
 */
uint64_t kv_xxh64_portable(const void *p, size_t n, uint64_t seed);

/**
 * @brief Portable kv_xxh3_64().
 * @param[in] p  the bytes (may be NULL when n is 0).
 * @param[in] n  number of bytes.
 * @return the XXH3-64 hash with the default secret.
 */
uint64_t kv_xxh3_64_portable(const void *p, size_t n);

/**
 * @brief Portable kv_xxh3_64_seed().
 * @param[in] p     the bytes (may be NULL when n is 0).
 * @param[in] n     number of bytes.
 * @param[in] seed  the seed.
 * @return the seeded XXH3-64 hash.
 */
uint64_t kv_xxh3_64_seed_portable(const void *p, size_t n, uint64_t seed);

/**
 * @brief Portable kv_key_eq().
 * @param[in] a  n bytes (may be NULL when n is 0).
 * @param[in] b  n bytes (may be NULL when n is 0).
 * @param[in] n  number of bytes.
 * @return true when equal.
 */
bool kv_key_eq_portable(const void *a, const void *b, size_t n);

/**
 * @brief Portable kv_key_cmp().
 * @param[in] a   na bytes (may be NULL when na is 0).
 * @param[in] na  length of a.
 * @param[in] b   nb bytes (may be NULL when nb is 0).
 * @param[in] nb  length of b.
 * @return -1, 0 or 1.
 */
int kv_key_cmp_portable(const void *a, size_t na, const void *b, size_t nb);

/** @} */

/** @name Byte-order helpers (used by the portable paths; usable by any decoder)
 * @{ */

/**
 * @brief Read a little-endian 32-bit value from any address.
 * @param[in] p  4 readable bytes; no alignment needed.
 * @return the value, the same on big- and little-endian CPUs.
 */
static inline uint32_t kv_load_le32(const void *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ &&                        \
    !defined(KV_HASH_PORTABLE_LOADS)
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
#else
    uint8_t b[4];
    memcpy(b, p, sizeof b);
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
#endif
}

/**
 * @brief Read a little-endian 64-bit value from any address.
 * @param[in] p  8 readable bytes; no alignment needed.
 * @return the value, the same on big- and little-endian CPUs.
 */
static inline uint64_t kv_load_le64(const void *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ &&                        \
    !defined(KV_HASH_PORTABLE_LOADS)
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
#else
    const unsigned char *b = (const unsigned char *)p;
    return (uint64_t)kv_load_le32(b) | (uint64_t)kv_load_le32(b + 4) << 32;
#endif
}

/** @} */

#ifdef __cplusplus
}
#endif
#endif /* KVLABS_HASH_H */
