/*
 * kvbench_keys.c — the keys and values kvbench writes, and the order it
 * writes them in.
 *
 * Keys. Every key has exactly --key-size bytes (default 16) and names one
 * record index:
 *
 *     byte 0          'k'
 *     bytes 1..w      the index, big-endian, w = min(8, key_size - 2)
 *     bytes w+1..-2   filler: letters derived from the index (key_size > 10)
 *     last byte       'p' for a present key, 'm' for a missing one
 *
 * Big-endian makes bytewise order equal numeric order, so fillseq writes
 * keys in ascending order (the best case of every ordered engine) and a
 * scan from key i visits i, i+1, ... The filler keeps keys from being
 * mostly zero bytes (which prefix compression would flatten). A "missing"
 * key differs from its present twin only in its last byte ('m' < 'p'), so it
 * sorts between keys i-1 and i, and readmissing looks up keys that sit
 * right beside real ones: an ordered engine walks
 * the same path as for a hit, and only a hash or a bloom filter can say
 * "absent" early — which is what readmissing measures.
 *
 * Values. Every value has --value-size bytes cut at a random offset from a
 * 1 MiB pool of xoshiro output: incompressible, so an engine that
 * compresses blocks gains nothing it would not gain on real data of that
 * kind, and never two consecutive puts of the same bytes. Values point into
 * the pool (no copy per operation); the pool is read-only once made and
 * shared by every thread.
 *
 * Order. fillrandom, the untimed load and deleterandom visit every index
 * of [0, n) exactly once in a pseudo-random order: a permutation computed
 * on the fly (no n-element array, which would distort the memory figures),
 * so any thread can compute the key of any operation index.
 *
 * How the permutation works: a balanced Feistel network on 2h bits, where
 * 4^h is the smallest power of four >= n. Split x into halves L and R; each
 * of four rounds maps (L, R) to (R, L ^ F(R, k_round)), which is invertible
 * whatever F is, so the network is a bijection of [0, 4^h). Indices that
 * land at or beyond n are fed through the network again ("cycle walking")
 * until they fall inside: that restricts the bijection to [0, n) and, since
 * 4^h < 4n, takes under four rounds on average.
 */
#include <string.h>

#include "kvbench_int.h"
#include "kvlabs/alloc.h"

#define VALUE_POOL (1u << 20)

unsigned kvb_key_index_bytes(unsigned ks)
{
    return ks - 2 < 8 ? ks - 2 : 8;
}

uint64_t kvb_key_capacity(unsigned ks)
{
    unsigned w = kvb_key_index_bytes(ks);
    return w >= 8 ? 0 : (uint64_t)1 << (8 * w);
}

void kvb_key_encode(uint8_t *out, unsigned ks, uint64_t idx, bool missing)
{
    unsigned w = kvb_key_index_bytes(ks);
    uint64_t fill = idx;

    out[0] = 'k';
    for (unsigned b = 0; b < w; b++)
        out[1 + b] = (uint8_t)(idx >> (8 * (w - 1 - b)));
    for (unsigned b = 1 + w; b + 1 < ks; b++) {
        if ((b - 1 - w) % 8 == 0)
            (void)kv_splitmix64(&fill);
        out[b] = (uint8_t)('a' + (fill >> (8 * ((b - 1 - w) % 8))) % 26);
    }
    out[ks - 1] = missing ? 'm' : 'p';
}

int kvb_values_init(kvb_values *v, size_t vsize, uint64_t seed)
{
    kv_rng r;

    v->vsize = vsize;
    v->len = VALUE_POOL + vsize;
    v->pool = kv_malloc(v->len);
    if (!v->pool)
        return KV_ENOMEM;
    kv_rng_seed(&r, seed ^ 0x76616c756573ULL); /* "values" */
    for (size_t i = 0; i < v->len; i += 8) {
        uint64_t x = kv_rng_next(&r);
        memcpy(v->pool + i, &x, v->len - i < 8 ? v->len - i : 8);
    }
    return KV_OK;
}

void kvb_values_free(kvb_values *v)
{
    kv_free(v->pool);
    v->pool = NULL;
}

const uint8_t *kvb_value_pick(const kvb_values *v, kv_rng *r)
{
    return v->pool + kv_rng_below(r, VALUE_POOL);
}

/* ---- the permutation ------------------------------------------------------ */

void kvb_perm_init(kvb_perm *p, uint64_t n, uint64_t seed)
{
    uint64_t s = seed ^ 0x7065726dULL; /* "perm" */

    p->n = n;
    p->half_bits = 1;
    while (p->half_bits < 32 && ((uint64_t)1 << (2 * p->half_bits)) < n)
        p->half_bits++;
    p->half_mask = ((uint64_t)1 << p->half_bits) - 1;
    for (int k = 0; k < 4; k++)
        p->keys[k] = kv_splitmix64(&s);
}

static uint64_t round_fn(uint64_t r, uint64_t k)
{
    uint64_t z = r ^ k;

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t feistel(const kvb_perm *p, uint64_t x)
{
    uint64_t l = (x >> p->half_bits) & p->half_mask, r = x & p->half_mask;

    for (int k = 0; k < 4; k++) {
        uint64_t t = r;
        r = (l ^ round_fn(r, p->keys[k])) & p->half_mask;
        l = t;
    }
    return l << p->half_bits | r;
}

uint64_t kvb_perm_at(const kvb_perm *p, uint64_t i)
{
    uint64_t x = i;

    if (p->n <= 1)
        return 0;
    do
        x = feistel(p, x);
    while (x >= p->n);
    return x;
}
