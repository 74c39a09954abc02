/*
 * test_simd.c — Criterion tests of the SIMD hash paths on the host, against
 * libxxhash itself.
 *
 * What is tested (tests/simd_tests.c covers the rest, also under qemu):
 *   - tests/simd_vectors.h still matches libxxhash and a bitwise CRC32C,
 *     so the vectors the emulated aarch64 runs rely on cannot go stale;
 *   - every XXH3 path this CPU supports equals XXH3_64bits() and
 *     XXH3_64bits_withSeed() on every length 0..4096 (one pseudo-random
 *     alignment per length) and on every alignment 0..63 at lengths around
 *     the block boundaries;
 *   - every CRC32C path equals a bit-at-a-time CRC32C on every length
 *     0..1100 and every alignment 0..15 at the 3-stream tier boundaries;
 *   - every key path agrees with memcmp on random keys with a shared
 *     prefix of random length;
 *   - the dispatched functions (after kv_registry_init(), which must run
 *     kv_hash_simd_init() through the lab's registry) equal libxxhash's
 *     XXH64, XXH3_64bits and XXH3_64bits_withSeed;
 *   - each level installs exactly its table: the portable functions with
 *     every supported path of that level or below laid over them in list
 *     order (a table of correct but slower functions is a dispatch bug the
 *     results alone cannot show);
 *   - KVLABS_HASH: "portable" forces the portable table, each level name
 *     caps the level, an unknown value is ignored. Each Criterion test runs
 *     in its own process, so setenv() in one cannot leak into another.
 * Build: links the lab library, common/ and -lxxhash -lcriterion.
 */
#include <criterion/criterion.h>
#include "kv_assert.h"
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "kvlabs/engine.h"
#include "kvlabs/hash.h"
#include "kvlabs/kv.h"
#include "kvlabs/rng.h"
#include "kvtest.h"
#include "neon_hash.h"
#include "simd_vectors.h"
#include "simd_expect.h"

#define MAX_LEN 4096
#define MAX_OFF 64

static unsigned char pool[MAX_LEN + MAX_OFF];
static uint64_t rng_state;

static uint64_t rng(void)
{
    return kv_splitmix64(&rng_state);
}

static void setup(void)
{
    rng_state = 7;
    for (size_t i = 0; i < sizeof pool; i++)
        pool[i] = (unsigned char)rng();
}

/* CRC32C bit by bit: the shared test kit's independent reference. */
#define crc_bitwise kvt_crc32c_ref

/* Must match vec_fold() in gen_vectors.c. */
static uint64_t vec_fold(uint64_t d, uint64_t h)
{
    d ^= h;
    d *= UINT64_C(0x9E3779B97F4A7C15);
    return d ^ (d >> 29);
}

TestSuite(simd, .init = setup);

Test(simd, vectors_header_matches_libxxhash)
{
    static unsigned char data[NH_VEC_MAX_LEN];
    uint64_t st = NH_VEC_DATA_SEED, d[5] = {0};

    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)kv_splitmix64(&st);
    for (size_t i = 0; i < sizeof nh_vectors / sizeof nh_vectors[0]; i++) {
        const struct nh_vector *v = &nh_vectors[i];

        cr_assert_eq(v->xxh64, XXH64(data, v->len, 0), "xxh64 len %zu", v->len);
        cr_assert_eq(v->xxh64_seed, XXH64(data, v->len, NH_VEC_HASH_SEED), "len %zu", v->len);
        cr_assert_eq(v->xxh3, XXH3_64bits(data, v->len), "xxh3 len %zu", v->len);
        cr_assert_eq(v->xxh3_seed, XXH3_64bits_withSeed(data, v->len, NH_VEC_HASH_SEED));
        cr_assert_eq(v->crc32c, crc_bitwise(0, data, v->len), "crc len %zu", v->len);
    }
    for (size_t n = 0; n <= NH_VEC_MAX_LEN; n++) {
        d[0] = vec_fold(d[0], XXH64(data, n, 0));
        d[1] = vec_fold(d[1], XXH64(data, n, NH_VEC_HASH_SEED));
        d[2] = vec_fold(d[2], XXH3_64bits(data, n));
        d[3] = vec_fold(d[3], XXH3_64bits_withSeed(data, n, NH_VEC_HASH_SEED));
        d[4] = vec_fold(d[4], kv_crc32c_portable(0, data, n));
    }
    cr_assert_eq(d[0], NH_VEC_DIGEST_XXH64);
    cr_assert_eq(d[1], NH_VEC_DIGEST_XXH64_SEED);
    cr_assert_eq(d[2], NH_VEC_DIGEST_XXH3);
    cr_assert_eq(d[3], NH_VEC_DIGEST_XXH3_SEED);
    cr_assert_eq(d[4], NH_VEC_DIGEST_CRC32C);
}

/* f against libxxhash at p (plain and seeded). */
static void xxh3_at(const nh_path *path, const unsigned char *p, size_t n, uint64_t seed)
{
    if (path->impl.xxh3_64)
        cr_assert_eq(path->impl.xxh3_64(p, n), XXH3_64bits(p, n), "%s: len %zu at %p", path->name,
                     n, (const void *)p);
    if (path->impl.xxh3_64_seed)
        cr_assert_eq(path->impl.xxh3_64_seed(p, n, seed), XXH3_64bits_withSeed(p, n, seed),
                     "%s: len %zu seed %llx", path->name, n, (unsigned long long)seed);
}

Test(simd, xxh3_paths_equal_libxxhash)
{
    static const size_t edges[] = {241, 255, 256, 1023, 1024, 1025, 1088, 2048, 2049, 4096};
    const nh_path *paths;
    size_t np = nh_paths(&paths), tested = 0;

    for (size_t i = 0; i < np; i++) {
        if (!paths[i].supported() || !(paths[i].impl.xxh3_64 || paths[i].impl.xxh3_64_seed))
            continue;
        tested++;
        for (size_t n = 0; n <= MAX_LEN; n++)
            xxh3_at(&paths[i], pool + rng() % MAX_OFF, n, rng());
        for (size_t e = 0; e < sizeof edges / sizeof edges[0]; e++) {
            for (size_t off = 0; off < MAX_OFF && edges[e] + off <= sizeof pool; off++)
                xxh3_at(&paths[i], pool + off, edges[e], off ? rng() : 0);
        }
    }
    cr_log_info("%zu XXH3 paths tested", tested);
}

Test(simd, crc32c_paths_equal_bitwise)
{
    static const size_t edges[] = {191, 192, 199, 767, 768, 960, 3071, 3072, 3072 + 768 + 192 + 7};
    const nh_path *paths;
    size_t np = nh_paths(&paths);

    for (size_t i = 0; i < np; i++) {
        uint32_t (*f)(uint32_t, const void *, size_t) = paths[i].impl.crc32c;

        if (!f || !paths[i].supported())
            continue;
        for (size_t n = 0; n <= 1100; n++) {
            const unsigned char *p = pool + rng() % MAX_OFF;
            uint32_t init = (uint32_t)rng();

            cr_assert_eq(f(init, p, n), crc_bitwise(init, p, n), "%s: len %zu", paths[i].name, n);
        }
        for (size_t e = 0; e < sizeof edges / sizeof edges[0]; e++) {
            for (size_t off = 0; off < 16; off++)
                cr_assert_eq(f(0, pool + off, edges[e]), crc_bitwise(0, pool + off, edges[e]),
                             "%s: len %zu off %zu", paths[i].name, edges[e], off);
        }
    }
}

Test(simd, key_paths_agree_with_memcmp)
{
    static unsigned char a[512], b[512];
    const nh_path *paths;
    size_t np = nh_paths(&paths);

    for (size_t i = 0; i < np; i++) {
        if (!paths[i].supported() || !paths[i].impl.key_cmp || !paths[i].impl.key_eq)
            continue;
        for (int iter = 0; iter < 20000; iter++) {
            size_t na = rng() % 200, nb = rng() % 200, common = rng() % 200, n;
            int want;

            for (size_t k = 0; k < sizeof a; k++) {
                a[k] = (unsigned char)rng();
                b[k] = k < common ? a[k] : (unsigned char)rng();
            }
            n = na < nb ? na : nb;
            want = memcmp(a, b, n);
            want = want ? (want > 0) - (want < 0) : (na > nb) - (na < nb);
            cr_assert_eq(paths[i].impl.key_cmp(a, na, b, nb), want, "%s: %zu/%zu common %zu",
                         paths[i].name, na, nb, common);
            cr_assert_eq(paths[i].impl.key_eq(a, b, n), memcmp(a, b, n) == 0, "%s: eq %zu",
                         paths[i].name, n);
        }
    }
}

Test(simd, registry_init_installs_best_and_matches_libxxhash)
{
    unsetenv("KVLABS_HASH");
    kv_registry_init();
    cr_assert_str_eq(kv_hash_simd_level(), kv_hash_simd_best(),
                     "the lab's registry must list kv_hash_simd_init (lab.mk LAB_INITS)");
    for (size_t n = 0; n <= MAX_LEN; n++) {
        const unsigned char *p = pool + rng() % MAX_OFF;
        uint64_t seed = rng();

        cr_assert_eq(kv_xxh3_64(p, n), XXH3_64bits(p, n), "len %zu", n);
        cr_assert_eq(kv_xxh3_64_seed(p, n, seed), XXH3_64bits_withSeed(p, n, seed), "len %zu", n);
        cr_assert_eq(kv_xxh64(p, n, seed), XXH64(p, n, seed), "len %zu", n);
        cr_assert_eq(kv_crc32c(0, p, n), kv_crc32c_portable(0, p, n), "len %zu", n);
    }
}

Test(simd, each_level_installs_its_paths)
{
    const char *const *lv = kv_hash_simd_levels();
    size_t best = best_level_index();

    cr_assert_not_null(lv[best]);
    for (size_t l = 0; lv[l]; l++) {
        size_t want = l < best ? l : best;
        kv_hash_impl w = expected_table(want);
        const kv_hash_impl *a;

        cr_assert_eq(kv_hash_simd_use(lv[l]), KV_OK, "level %s", lv[l]);
        a = kv_hash_active();
        cr_assert_str_eq(a->name, w.name, "kv_hash_simd_use(\"%s\")", lv[l]);
        cr_assert_eq(a->fnv1a32, w.fnv1a32, "level %s: fnv1a32", w.name);
        cr_assert_eq(a->fnv1a64, w.fnv1a64, "level %s: fnv1a64", w.name);
        cr_assert_eq(a->crc32c, w.crc32c, "level %s: crc32c is not its best path's", w.name);
        cr_assert_eq(a->xxh64, w.xxh64, "level %s: xxh64", w.name);
        cr_assert_eq(a->xxh3_64, w.xxh3_64, "level %s: xxh3_64 is not its best path's", w.name);
        cr_assert_eq(a->xxh3_64_seed, w.xxh3_64_seed, "level %s: xxh3_64_seed", w.name);
        cr_assert_eq(a->key_eq, w.key_eq, "level %s: key_eq", w.name);
        cr_assert_eq(a->key_cmp, w.key_cmp, "level %s: key_cmp", w.name);
    }
}

Test(simd, env_portable_forces_the_portable_table)
{
    const kv_hash_impl *t;

    setenv("KVLABS_HASH", "portable", 1);
    kv_hash_simd_init();
    t = kv_hash_active();
    cr_assert_str_eq(kv_hash_simd_level(), "portable");
    cr_assert(t->crc32c == kv_crc32c_portable && t->xxh3_64 == kv_xxh3_64_portable &&
              t->xxh3_64_seed == kv_xxh3_64_seed_portable && t->key_eq == kv_key_eq_portable &&
              t->key_cmp == kv_key_cmp_portable && t->xxh64 == kv_xxh64_portable &&
              t->fnv1a32 == kv_fnv1a32_portable && t->fnv1a64 == kv_fnv1a64_portable);
}

Test(simd, env_level_caps_and_unknown_is_ignored)
{
    const char *const *lv = kv_hash_simd_levels();
    size_t best = best_level_index();

    cr_assert_not_null(lv[best]);
    for (size_t l = 0; lv[l]; l++) {
        setenv("KVLABS_HASH", lv[l], 1);
        kv_hash_simd_init();
        cr_assert_str_eq(kv_hash_simd_level(), lv[l < best ? l : best], "KVLABS_HASH=%s", lv[l]);
    }
    setenv("KVLABS_HASH", "portable", 1);
    kv_hash_simd_init();
    setenv("KVLABS_HASH", "warp-drive", 1);
    kv_hash_simd_init(); /* prints a notice on stderr, installs the best */
    cr_assert_str_eq(kv_hash_simd_level(), kv_hash_simd_best());
    cr_assert_eq(kv_hash_simd_use("warp-drive"), KV_EINVAL);
    cr_assert_str_eq(kv_hash_simd_level(), kv_hash_simd_best(), "a refused level changes nothing");
}
