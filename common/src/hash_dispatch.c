/*
 * hash_dispatch.c — the hashing dispatch table, and portable key comparison.
 *
 * What this is: the layer between the engines and the hash implementations.
 * Engines call kv_crc32c(), kv_xxh3_64(), kv_key_cmp() and the rest; each of
 * those makes exactly one indirect call through the active kv_hash_impl
 * table. The table starts as kv_hash_portable (the reference functions of
 * hash_fnv.c, hash_crc32c.c, hash_xxh64.c, hash_xxh3.c and the key
 * comparisons below); sprint 2's SIMD code replaces entries with
 * kv_hash_install() at start-up. This file also holds the portable
 * kv_key_eq() and kv_key_cmp(), which have no file of their own because
 * they are a few lines each.
 *
 * How the table is switched:
 *   `active` is an atomic pointer to a complete table (no NULL members).
 *   Callers load it with relaxed ordering, then load the member and call
 *   it: a plain load, a dependent load and an indirect call on every CPU,
 *   the same cost as a non-atomic global. kv_hash_install() fills whichever
 *   of two static tables is not active (a copy of the active table, with the
 *   installed table's non-NULL members on top) and publishes it with a
 *   release store, so the table callers are reading is never the one being
 *   written. The slots alternate, which is why kv_hash_active()'s result is
 *   promised only until the next-but-one install. Installs are meant for
 *   start-up, before the hashing threads exist: thread creation then orders
 *   the install before every later call, which is why the hot path's
 *   relaxed load is enough. A hash call racing an install is outside the
 *   contract (with a relaxed load C11 calls it a data race); in practice it
 *   would see the old or the new entries, and since every implementation of
 *   a member computes the same function, only the speed would differ.
 *
 * Callers must not install a table whose functions differ in results from
 * the portable ones: stored checksums and hash-table layouts depend on them.
 */
#include <stdatomic.h>

#include "kvlabs/hash.h"

/* ---- portable key comparison -------------------------------------------- */

/* An 8-byte load in the CPU's own byte order: enough for equality. */
static inline uint64_t load_word(const unsigned char *p)
{
    uint64_t v;

    memcpy(&v, p, sizeof v);
    return v;
}

static int cmp_bytes(const unsigned char *x, const unsigned char *y, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    }
    return 0;
}

bool kv_key_eq_portable(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    size_t i = 0;

    if (n < 8)
        return n == 0 || cmp_bytes(x, y, n) == 0;
    for (; n - i > 8; i += 8) {
        if (load_word(x + i) != load_word(y + i))
            return false;
    }
    /* The last 8 bytes, overlapping the previous word when n % 8 != 0. */
    return load_word(x + n - 8) == load_word(y + n - 8);
}

int kv_key_cmp_portable(const void *a, size_t na, const void *b, size_t nb)
{
    const unsigned char *x = a, *y = b;
    size_t n = na < nb ? na : nb;
    size_t i = 0;
    int c;

    /* Skip equal words; the first differing word is decided bytewise, which
     * is memcmp order whatever the CPU's byte order. */
    for (; n - i >= 8; i += 8) {
        if (load_word(x + i) != load_word(y + i))
            break;
    }
    c = n > i ? cmp_bytes(x + i, y + i, n - i) : 0;
    if (c != 0)
        return c;
    return (na > nb) - (na < nb);
}

/* ---- the tables --------------------------------------------------------- */

const kv_hash_impl kv_hash_portable = {
    .name = "portable",
    .fnv1a32 = kv_fnv1a32_portable,
    .fnv1a64 = kv_fnv1a64_portable,
    .crc32c = kv_crc32c_portable,
    .xxh64 = kv_xxh64_portable,
    .xxh3_64 = kv_xxh3_64_portable,
    .xxh3_64_seed = kv_xxh3_64_seed_portable,
    .key_eq = kv_key_eq_portable,
    .key_cmp = kv_key_cmp_portable,
};

static kv_hash_impl slots[2];
static _Atomic(const kv_hash_impl *) active = &kv_hash_portable;

static inline const kv_hash_impl *cur(void)
{
    return atomic_load_explicit(&active, memory_order_relaxed);
}

const kv_hash_impl *kv_hash_active(void)
{
    return atomic_load_explicit(&active, memory_order_acquire);
}

void kv_hash_overlay(kv_hash_impl *dst, const kv_hash_impl *src)
{
    if (src->name)
        dst->name = src->name;
    if (src->fnv1a32)
        dst->fnv1a32 = src->fnv1a32;
    if (src->fnv1a64)
        dst->fnv1a64 = src->fnv1a64;
    if (src->crc32c)
        dst->crc32c = src->crc32c;
    if (src->xxh64)
        dst->xxh64 = src->xxh64;
    if (src->xxh3_64)
        dst->xxh3_64 = src->xxh3_64;
    if (src->xxh3_64_seed)
        dst->xxh3_64_seed = src->xxh3_64_seed;
    if (src->key_eq)
        dst->key_eq = src->key_eq;
    if (src->key_cmp)
        dst->key_cmp = src->key_cmp;
}

void kv_hash_install(const kv_hash_impl *impl)
{
    const kv_hash_impl *now;
    kv_hash_impl *next;

    if (!impl)
        return;
    now = atomic_load_explicit(&active, memory_order_acquire);
    next = now == &slots[0] ? &slots[1] : &slots[0];
    *next = *now;
    kv_hash_overlay(next, impl);
    atomic_store_explicit(&active, next, memory_order_release);
}

/* ---- the public entry points: one indirect call each ------------------- */

uint32_t kv_fnv1a32(const void *p, size_t n)
{
    return cur()->fnv1a32(p, n);
}

uint64_t kv_fnv1a64(const void *p, size_t n)
{
    return cur()->fnv1a64(p, n);
}

uint32_t kv_crc32c(uint32_t crc, const void *p, size_t n)
{
    return cur()->crc32c(crc, p, n);
}

uint64_t kv_xxh64(const void *p, size_t n, uint64_t seed)
{
    return cur()->xxh64(p, n, seed);
}

uint64_t kv_xxh3_64(const void *p, size_t n)
{
    return cur()->xxh3_64(p, n);
}

uint64_t kv_xxh3_64_seed(const void *p, size_t n, uint64_t seed)
{
    return cur()->xxh3_64_seed(p, n, seed);
}

bool kv_key_eq(const void *a, const void *b, size_t n)
{
    return cur()->key_eq(a, b, n);
}

int kv_key_cmp(const void *a, size_t na, const void *b, size_t nb)
{
    return cur()->key_cmp(a, na, b, nb);
}
