/**
 * @file rng.h
 * @brief Deterministic pseudo-random numbers for workloads and tests:
 *        splitmix64, xoshiro256**, and the YCSB zipfian generator.
 *
 * Benchmarks and randomised tests must be repeatable: the same seed gives
 * the same key sequence on every machine, so a result can be reproduced and
 * a failing test re-run. Nothing here touches global state or the system
 * clock; a generator is a small value the caller owns and seeds.
 *
 * - kv_splitmix64() is Vigna's splitmix64: a 64-bit counter passed through
 *   a strong mixing function. Every 64-bit seed is acceptable, which makes it
 *   the standard way to expand one seed into the state of a larger
 *   generator (and a fine generator of its own for a few values).
 * - kv_rng is Blackman and Vigna's xoshiro256**: 256 bits of state, period
 *   2^256 - 1, fast, and passes BigCrush. kv_rng_seed() fills the state with
 *   four splitmix64 outputs (never all zero). kv_rng_below() draws an
 *   unbiased integer in [0, n) with Lemire's multiply-and-reject method;
 *   kv_rng_double() a double in [0, 1) with 53 random bits.
 * - kv_zipf is YCSB's ZipfianGenerator (Gray et al., "Quickly generating
 *   billion-record synthetic databases", SIGMOD 1994): item 0 is the most
 *   popular, item k has probability close to 1/(k+1)^theta / zeta(n, theta).
 *   kv_zipf_next_scrambled() spreads the popular items over the key space
 *   (YCSB's ScrambledZipfianGenerator idea) and kv_zipf_next_latest() makes
 *   the most recently inserted items the most popular (YCSB's "latest").
 *
 * These generators are not cryptographic: never use them for secrets.
 *
 * **Thread safety.** A kv_rng must not be used by two threads at once; give
 * each thread its own (seeded, e.g., with seed + thread index). A kv_zipf is
 * read-only after kv_zipf_init() and may be shared by threads drawing with
 * their own kv_rng, except during kv_zipf_grow(), which modifies it.
 */
#ifndef KVLABS_RNG_H
#define KVLABS_RNG_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief One step of splitmix64: advance @p state and return the next output.
 * @param[in,out] state  the 64-bit counter; any value, including 0.
 * @return the next pseudo-random 64-bit value.
 */
uint64_t kv_splitmix64(uint64_t *state);

/** @brief A xoshiro256** generator. Seed it with kv_rng_seed() before use. */
typedef struct kv_rng {
    uint64_t s[4]; /**< the 256-bit state; never all zero once seeded */
} kv_rng;

/**
 * @brief Seed a generator: its state becomes four successive splitmix64
 *        outputs started from @p seed.
 * @param[out] r     the generator.
 * @param[in]  seed  any 64-bit value; equal seeds give equal sequences.
 */
void kv_rng_seed(kv_rng *r, uint64_t seed);

/**
 * @brief The next 64-bit output of xoshiro256**.
 * @param[in,out] r  a seeded generator.
 * @return a uniformly distributed 64-bit value.
 */
uint64_t kv_rng_next(kv_rng *r);

/**
 * @brief A uniformly distributed integer in [0, n), without modulo bias.
 * @param[in,out] r  a seeded generator.
 * @param[in]     n  the bound; 0 is allowed and returns 0.
 * @return a value in [0, n) (0 when n is 0 or 1).
 */
uint64_t kv_rng_below(kv_rng *r, uint64_t n);

/**
 * @brief A uniformly distributed double in [0, 1), a multiple of 2^-53.
 * @param[in,out] r  a seeded generator.
 * @return a value in [0, 1).
 */
double kv_rng_double(kv_rng *r);

/** @brief Default skew of kv_zipf, YCSB's "zipfian constant". */
#define KV_ZIPF_THETA 0.99

/**
 * @brief A zipfian distribution over n items, item 0 the most popular.
 *
 * Fill it with kv_zipf_init(); the fields are read-only for callers.
 */
typedef struct kv_zipf {
    uint64_t n;         /**< number of items; draws are in [0, n) */
    double theta;       /**< skew, in (0, 1); larger is more skewed */
    double alpha;       /**< 1 / (1 - theta) */
    double zetan;       /**< zeta(n, theta) = sum of 1/i^theta for i in 1..n */
    double zeta2;       /**< zeta(2, theta) = 1 + 1/2^theta */
    double eta;         /**< Gray's eta: (1 - (2/n)^(1-theta)) / (1 - zeta2/zetan) */
    double half_pow_theta; /**< 0.5^theta, the relative weight of item 1 */
} kv_zipf;

/**
 * @brief Prepare a zipfian distribution over @p n items.
 *
 * Computes zeta(n, theta) exactly for small n and with an Euler-Maclaurin
 * tail beyond a few thousand terms (relative error below 1e-13), so n = 1e7
 * or 1e10 takes microseconds.
 * @param[out] z      the distribution; unchanged on failure.
 * @param[in]  n      number of items, at least 1.
 * @param[in]  theta  skew, strictly between 0 and 1 (KV_ZIPF_THETA is YCSB's).
 * @return KV_OK; KV_EINVAL when @p z is NULL, @p n is 0 or @p theta is not
 *         in (0, 1).
 */
int kv_zipf_init(kv_zipf *z, uint64_t n, double theta);

/**
 * @brief Extend a distribution to @p new_n items (YCSB's incremental zeta).
 *
 * Adds the terms n+1..new_n to zeta instead of recomputing it, so a workload
 * whose key space grows as it inserts can keep its generator up to date
 * cheaply. The result equals kv_zipf_init(z, new_n, theta) up to rounding.
 * @param[in,out] z      an initialised distribution; unchanged on failure.
 * @param[in]     new_n  the new item count, at least the current one.
 * @return KV_OK; KV_EINVAL when @p z is NULL or @p new_n is smaller than
 *         z->n.
 */
int kv_zipf_grow(kv_zipf *z, uint64_t new_n);

/**
 * @brief Draw a rank: 0 is the most popular item, n-1 the least.
 *
 * Gray's method: ranks 0 and 1 get exactly the zipfian probabilities
 * 1/zeta and 0.5^theta/zeta; the others come from a closed-form
 * approximation of the inverse distribution function (as in YCSB), which
 * over-weights ranks 2..13 (rank 2 by 17% for n = 1000, theta = 0.99) and
 * under-weights the tail by up to 3.5%.
 * @param[in]     z  an initialised distribution.
 * @param[in,out] r  the caller's generator.
 * @return a rank in [0, z->n).
 */
uint64_t kv_zipf_next(const kv_zipf *z, kv_rng *r);

/**
 * @brief Draw a rank and scatter it over [0, n): FNV-1a 64 of the rank's
 *        8 little-endian bytes, modulo n.
 *
 * The popular items are then spread over the key space instead of being
 * the smallest keys. Hashing modulo n folds some ranks onto the same item
 * and leaves others unused (about 1/e of the items for large n), which YCSB
 * avoids by drawing ranks from 10^10 items instead; here the ranks come
 * from @p z itself.
 * @param[in]     z  an initialised distribution.
 * @param[in,out] r  the caller's generator.
 * @return an item in [0, z->n).
 */
uint64_t kv_zipf_next_scrambled(const kv_zipf *z, kv_rng *r);

/**
 * @brief YCSB's "latest" distribution: the newest item is the most popular.
 *
 * Returns max_inserted - 1 - rank for a rank drawn from @p z, clamped at 0
 * when the rank is max_inserted or more. Keep z->n equal to @p max_inserted
 * (kv_zipf_grow() as items are inserted) for YCSB's exact behaviour.
 * @param[in]     z             an initialised distribution.
 * @param[in,out] r             the caller's generator.
 * @param[in]     max_inserted  number of items inserted so far (0 gives 0).
 * @return an item in [0, max_inserted), or 0 when @p max_inserted is 0.
 */
uint64_t kv_zipf_next_latest(const kv_zipf *z, kv_rng *r, uint64_t max_inserted);

#ifdef __cplusplus
}
#endif
#endif /* KVLABS_RNG_H */
