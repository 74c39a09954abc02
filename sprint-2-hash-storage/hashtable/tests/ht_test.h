/*
 * ht_test.h — helpers shared by the sprint-2 table tests (Criterion and plain).
 *
 * Deterministic keys and values: key i is "k" followed by i in 4
 * big-endian bytes and 0..11 bytes derived from i (NULs included), so keys
 * have different lengths and many are prefixes of none; value (i, ver) is
 * 8 bytes of i, 8 bytes of ver, then 0..40 bytes derived from both, so a
 * value read back names exactly the write it came from.
 *
 * Hash functions for tests: the real ones (kvlabs/hash.h), and two bad
 * ones that every strategy must survive: one where every key collides
 * (constant), and one with only 16 distinct values.
 *
 * A table from tt_new() is owned by the test (kvtest.h's kvt_own): free it
 * with tt_free(). A Criterion suite declared with .fini =
 * kvt_release_owned frees the tables a failed assertion left behind, so a
 * failing test (a starter kit's stub) reports its failure and no leak.
 */
#ifndef HT_TEST_H
#define HT_TEST_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "ht.h"
#include "kvlabs/hash.h"
#ifndef CRITERION_H_
#define KVTEST_PLAIN /* a plain program (stress_tsan): the kit without Criterion */
#endif
#include "kvtest.h"

#define TK_MAX 17 /* longest test key */
#define TV_MAX 56 /* longest test value */

/* splitmix64's output for state x (kvlabs/rng.h): a good 64-bit mix of x */
static inline uint64_t tk_mix(uint64_t x)
{
    return kv_splitmix64(&x);
}

/* Key of id i into buf (TK_MAX bytes); returns its length. */
static inline size_t tk_key(uint32_t i, unsigned char *buf)
{
    uint64_t m = tk_mix(i);
    size_t extra = (size_t)(m % 13);

    buf[0] = 'k';
    buf[1] = (unsigned char)(i >> 24);
    buf[2] = (unsigned char)(i >> 16);
    buf[3] = (unsigned char)(i >> 8);
    buf[4] = (unsigned char)i;
    for (size_t j = 0; j < extra; j++)
        buf[5 + j] = (unsigned char)(m >> (j * 5)) & (j % 3 ? 0xFF : 0x0F);
    return 5 + extra;
}

/* Value of (id, version) into buf (TV_MAX bytes); returns its length. */
static inline size_t tk_val(uint32_t i, uint64_t ver, unsigned char *buf)
{
    uint64_t m = tk_mix(i * 1000003ULL + ver);
    size_t extra = (size_t)(m % 41);
    uint64_t id = i;

    memcpy(buf, &id, 8);
    memcpy(buf + 8, &ver, 8);
    for (size_t j = 0; j < extra; j++)
        buf[16 + j] = (unsigned char)(m >> (j % 8 * 8)) ^ (unsigned char)j;
    return 16 + extra;
}

/* Whether v is exactly tk_val(i, ver). */
static inline bool tk_val_is(uint32_t i, uint64_t ver, const void *v, size_t vlen)
{
    unsigned char want[TV_MAX];
    size_t n = tk_val(i, ver, want);

    return vlen == n && memcmp(v, want, n) == 0;
}

static inline uint64_t th_const(const void *p, size_t n)
{
    (void)p;
    (void)n;
    return 0x0123456789ABCDEFULL; /* every key collides */
}

static inline uint64_t th_16(const void *p, size_t n)
{
    return ht_mix64(kv_fnv1a64(p, n) & 15); /* 16 distinct hashes */
}

static inline void tt_destroy_owned_(void *t)
{
    ht_destroy(t);
}

/* A table of strategy s (shards 0: default), or NULL on error; owned by
 * the test (free it with tt_free()). */
static inline ht_table *tt_new(ht_strategy s, size_t buckets, unsigned shards, ht_resize_mode r,
                               ht_hash_fn h)
{
    ht_config c = {.strategy = s, .buckets = buckets, .shards = shards, .resize = r,
                   .hash = h ? h : kv_xxh3_64};
    ht_table *t = NULL;

    return ht_create(&c, &t) == HT_OK ? kvt_own(t, tt_destroy_owned_) : NULL;
}

/* Destroy table t (from tt_new() or not; NULL: nothing). */
static inline void tt_free(ht_table *t)
{
    if (!kvt_drop(t))
        ht_destroy(t);
}

/* Copy callback state for ht_get. */
struct tt_val {
    unsigned char buf[TV_MAX];
    size_t len;
};

static inline int tt_copy(void *arg, const void *v, size_t n)
{
    struct tt_val *o = arg;

    o->len = n;
    memcpy(o->buf, v, n < TV_MAX ? n : TV_MAX);
    return 0;
}

/* Put tk_key(i) = tk_val(i, ver). */
static inline int tt_put(ht_table *t, uint32_t i, uint64_t ver)
{
    unsigned char k[TK_MAX], v[TV_MAX];
    size_t kl = tk_key(i, k), vl = tk_val(i, ver, v);

    return ht_put(t, k, kl, v, vl);
}

static inline int tt_del(ht_table *t, uint32_t i)
{
    unsigned char k[TK_MAX];

    return ht_delete(t, k, tk_key(i, k));
}

/* 0 when key i holds version ver (ver UINT64_MAX: must be absent), else -1. */
static inline int tt_expect(ht_table *t, uint32_t i, uint64_t ver)
{
    unsigned char k[TK_MAX];
    struct tt_val v;
    int rc = ht_get(t, k, tk_key(i, k), tt_copy, &v);

    if (ver == UINT64_MAX)
        return rc == HT_ENOTFOUND ? 0 : -1;
    return rc == HT_OK && tk_val_is(i, ver, v.buf, v.len) ? 0 : -1;
}

static inline ht_stats tt_stats(ht_table *t)
{
    ht_stats st;

    ht_get_stats(t, &st);
    return st;
}

static const ht_strategy tt_all[HT_NSTRATEGIES] = {HT_CHAINING, HT_LINEAR, HT_ROBINHOOD,
                                                    HT_SWISS};

#endif /* HT_TEST_H */
