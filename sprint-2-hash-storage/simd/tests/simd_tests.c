/*
 * simd_tests.c — plain test of the SIMD and hardware hash paths: every
 * path this CPU can run, checked against the portable reference and
 * against vectors precomputed from libxxhash.
 *
 * What is tested:
 *   - every path of nh_paths() that this CPU supports, each of its
 *     functions against the portable one (kv_*_portable) on every length
 *     0..4096 at a pseudo-random alignment per length: CRC32C from 0, from
 *     a random CRC, and extended in two pieces; XXH3-64 plain and with a
 *     random seed per length; kv_key_eq on equal keys and on keys that
 *     differ in one random byte, and kv_key_cmp on those, on prefixes and
 *     on bytes that differ in the top bit (the comparison is unsigned);
 *   - the same functions, and the portable ones, against absolute values:
 *     the CRC32C check value ("123456789" -> 0xE3069283), the RFC 3720
 *     B.4 vectors, FNV-1a's, and tests/simd_vectors.h (XXH64 and XXH3 from
 *     libxxhash, CRC32C from a bitwise CRC, at 54 lengths, plus a digest
 *     over every length 0..4096), so a path and the reference cannot be
 *     wrong together;
 *   - the dispatcher: after kv_registry_init() (which runs
 *     kv_hash_simd_init() through the registry's init list) the level is
 *     the best the CPU has, capped by KVLABS_HASH; every member of the
 *     active table is the function that level should install; every
 *     level can be selected; an unknown level is refused.
 *
 * Why a plain program (not Criterion): it must also run under
 * qemu-aarch64 and qemu-x86_64 (tests/qemu_simd.sh), where Criterion's
 * re-execution escapes the emulator and there is no libxxhash for aarch64.
 * The output is TAP-like: "ok N - what" or "not ok N - what: detail" per
 * check, "# ..." for information (the line "# active level: <name>" is what
 * qemu_simd.sh looks for), and last "N passed, N failed". Exit status 1 on
 * any failure.
 *
 * Inputs come from a fixed-seed splitmix64 generator (kv_splitmix64 of
 * kvlabs/rng.h, linked in every build of this program, the qemu ones
 * included), so every failure names a length and offset that reproduce it.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvlabs/engine.h"
#include "kvlabs/hash.h"
#include "kvlabs/kv.h"
#include "kvlabs/rng.h"
#include "neon_hash.h"
#include "simd_vectors.h"
#include "simd_expect.h"

#define MAX_LEN 4096
#define MAX_OFF 64

static unsigned char pool[MAX_LEN + MAX_OFF];
static unsigned char copy[MAX_LEN + MAX_OFF + 1];
static unsigned char vec_data[NH_VEC_MAX_LEN];
static int n_passed, n_failed;
static char detail[256];

static uint64_t rng_state;

static uint64_t rng(void)
{
    return kv_splitmix64(&rng_state);
}

/* Must match vec_fold() in gen_vectors.c. */
static uint64_t vec_fold(uint64_t d, uint64_t h)
{
    d ^= h;
    d *= UINT64_C(0x9E3779B97F4A7C15);
    return d ^ (d >> 29);
}

static void report(bool ok, const char *fmt, ...)
{
    va_list ap;

    printf("%s %d - ", ok ? "ok" : "not ok", n_passed + n_failed + 1);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    if (!ok && detail[0])
        printf(": %s", detail);
    printf("\n");
    fflush(stdout);
    detail[0] = '\0';
    if (ok)
        n_passed++;
    else
        n_failed++;
}

/* Record why a check failed (the first reason wins); returns false. */
static bool why(const char *fmt, ...)
{
    va_list ap;

    if (detail[0])
        return false;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    return false;
}

typedef uint32_t (*crc_fn)(uint32_t, const void *, size_t);
typedef uint64_t (*hash_fn)(const void *, size_t);
typedef uint64_t (*seed_fn)(const void *, size_t, uint64_t);
typedef bool (*eq_fn)(const void *, const void *, size_t);
typedef int (*cmp_fn)(const void *, size_t, const void *, size_t);

/* ---- against the portable reference ------------------------------------- */

static bool crc_vs_portable(crc_fn f)
{
    rng_state = 1;
    for (size_t n = 0; n <= MAX_LEN; n++) {
        size_t off = rng() % MAX_OFF, k = rng() % (n + 1);
        const unsigned char *p = pool + off;
        uint32_t init = (uint32_t)rng(), want = kv_crc32c_portable(0, p, n);

        if (f(0, p, n) != want)
            return why("len %zu off %zu: %08x, want %08x", n, off, f(0, p, n), want);
        if (f(init, p, n) != kv_crc32c_portable(init, p, n))
            return why("len %zu off %zu from crc %08x", n, off, init);
        if (f(f(0, p, k), p + k, n - k) != want)
            return why("len %zu off %zu extended after %zu bytes", n, off, k);
    }
    return true;
}

static bool xxh3_vs_portable(hash_fn f)
{
    rng_state = 2;
    for (size_t n = 0; n <= MAX_LEN; n++) {
        size_t off = rng() % MAX_OFF;
        uint64_t got = f(pool + off, n), want = kv_xxh3_64_portable(pool + off, n);

        if (got != want)
            return why("len %zu off %zu: %016llx, want %016llx", n, off, (unsigned long long)got,
                       (unsigned long long)want);
    }
    return true;
}

static bool xxh3_seed_vs_portable(seed_fn f)
{
    rng_state = 3;
    for (size_t n = 0; n <= MAX_LEN; n++) {
        size_t off = rng() % MAX_OFF;
        uint64_t seed = n % 7 == 0 ? 0 : rng();

        if (f(pool + off, n, seed) != kv_xxh3_64_seed_portable(pool + off, n, seed))
            return why("len %zu off %zu seed %016llx", n, off, (unsigned long long)seed);
    }
    return true;
}

/* Equal keys, keys differing in one byte (random, first, last). */
static bool key_eq_vs_portable(eq_fn f)
{
    rng_state = 4;
    for (size_t n = 0; n <= MAX_LEN; n++) {
        size_t oa = rng() % MAX_OFF, ob = rng() % MAX_OFF;
        const unsigned char *a = pool + oa;
        unsigned char *b = copy + ob;
        size_t at[3] = {n ? rng() % n : 0, 0, n ? n - 1 : 0};

        memcpy(b, a, n);
        if (!f(a, b, n) || !kv_key_eq_portable(a, b, n))
            return why("len %zu offs %zu/%zu: equal keys reported different", n, oa, ob);
        for (int i = 0; i < 3 && n > 0; i++) {
            b[at[i]] ^= (unsigned char)(1u << (rng() % 8));
            if (f(a, b, n) || kv_key_eq_portable(a, b, n))
                return why("len %zu: keys differing at byte %zu reported equal", n, at[i]);
            b[at[i]] = a[at[i]];
        }
    }
    return true;
}

static int sign(int c)
{
    return (c > 0) - (c < 0);
}

/* f and the portable comparison agree, and give want. */
static bool cmp_case(cmp_fn f, const unsigned char *a, size_t na, const unsigned char *b, size_t nb,
                     int want, const char *what)
{
    int got = f(a, na, b, nb), ref = kv_key_cmp_portable(a, na, b, nb);

    if (got != want || ref != want)
        return why("%s, lengths %zu/%zu: got %d, portable %d, want %d", what, na, nb, got, ref,
                   want);
    return true;
}

static bool key_cmp_vs_portable(cmp_fn f)
{
    rng_state = 5;
    for (size_t n = 0; n <= MAX_LEN; n++) {
        size_t oa = rng() % MAX_OFF, ob = rng() % MAX_OFF, at = n ? rng() % n : 0;
        const unsigned char *a = pool + oa;
        unsigned char *b = copy + ob, saved = n ? a[at] : 0;
        bool ok;

        memcpy(b, a, n);
        b[n] = (unsigned char)rng();
        if (!cmp_case(f, a, n, b, n, 0, "equal") || !cmp_case(f, a, n, b, n + 1, -1, "prefix") ||
            !cmp_case(f, b, n + 1, a, n, 1, "longer"))
            return false;
        if (n == 0)
            continue;
        b[at] = (unsigned char)(a[at] + 1 + rng() % 255); /* differs at byte at */
        if (!cmp_case(f, a, n, b, n, a[at] < b[at] ? -1 : 1, "one byte differs") ||
            !cmp_case(f, b, n, a, n, a[at] < b[at] ? 1 : -1, "one byte differs, swapped") ||
            !cmp_case(f, a, n, b, n + 1, a[at] < b[at] ? -1 : 1, "differs before the end"))
            return false;
        /* 0x80 > 0x7F: the bytes are compared as unsigned. */
        memcpy(b, a, n);
        b[at] = 0x80;
        pool[oa + at] = 0x7F;
        ok = cmp_case(f, a, n, b, n, -1, "0x7F vs 0x80") &&
             cmp_case(f, b, n, a, n, 1, "0x80 vs 0x7F") && cmp_case(f, b, n, b, n, 0, "same key");
        pool[oa + at] = saved;
        if (!ok)
            return false;
        if (sign(f(a, n, b, n)) != sign(memcmp(a, b, n)))
            return why("len %zu: differs from memcmp", n);
    }
    return true;
}

/* ---- against absolute values ---------------------------------------------- */

static const unsigned char rfc_pdu[48] = {
    0x01, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18,
    0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* "123456789" and RFC 3720 appendix B.4. */
static bool crc_known(crc_fn f)
{
    unsigned char b[32];

    if (f(0, "123456789", 9) != 0xE3069283u)
        return why("\"123456789\": %08x", f(0, "123456789", 9));
    memset(b, 0, sizeof b);
    if (f(0, b, 32) != 0x8A9136AAu)
        return why("32 zero bytes: %08x", f(0, b, 32));
    memset(b, 0xFF, sizeof b);
    if (f(0, b, 32) != 0x62A8AB43u)
        return why("32 0xFF bytes: %08x", f(0, b, 32));
    for (int i = 0; i < 32; i++)
        b[i] = (unsigned char)i;
    if (f(0, b, 32) != 0x46DD794Eu)
        return why("bytes 0..31: %08x", f(0, b, 32));
    for (int i = 0; i < 32; i++)
        b[i] = (unsigned char)(31 - i);
    if (f(0, b, 32) != 0x113FDB5Cu)
        return why("bytes 31..0: %08x", f(0, b, 32));
    if (f(0, rfc_pdu, sizeof rfc_pdu) != 0xD9963A56u)
        return why("iSCSI read PDU: %08x", f(0, rfc_pdu, sizeof rfc_pdu));
    if (f(0x12345678u, NULL, 0) != 0x12345678u)
        return why("empty input changed the crc");
    return true;
}

/* kind: 0 crc32c, 1 xxh3, 2 xxh3 seeded, 3 xxh64, 4 xxh64 seeded. */
static uint64_t vec_hash(const kv_hash_impl *t, int kind, const unsigned char *p, size_t n)
{
    switch (kind) {
    case 0: return t->crc32c(0, p, n);
    case 1: return t->xxh3_64(p, n);
    case 2: return t->xxh3_64_seed(p, n, NH_VEC_HASH_SEED);
    case 3: return t->xxh64(p, n, 0);
    default: return t->xxh64(p, n, NH_VEC_HASH_SEED);
    }
}

static bool vectors_match(const kv_hash_impl *t, int kind)
{
    static const uint64_t digests[5] = {NH_VEC_DIGEST_CRC32C, NH_VEC_DIGEST_XXH3,
                                        NH_VEC_DIGEST_XXH3_SEED, NH_VEC_DIGEST_XXH64,
                                        NH_VEC_DIGEST_XXH64_SEED};
    uint64_t d = 0;

    for (size_t i = 0; i < sizeof nh_vectors / sizeof nh_vectors[0]; i++) {
        const struct nh_vector *v = &nh_vectors[i];
        uint64_t want[5] = {v->crc32c, v->xxh3, v->xxh3_seed, v->xxh64, v->xxh64_seed};
        uint64_t got = vec_hash(t, kind, vec_data, v->len);

        if (got != want[kind])
            return why("len %zu: %016llx, want %016llx", v->len, (unsigned long long)got,
                       (unsigned long long)want[kind]);
    }
    for (size_t n = 0; n <= NH_VEC_MAX_LEN; n++)
        d = vec_fold(d, vec_hash(t, kind, vec_data, n));
    if (d != digests[kind])
        return why("digest of lengths 0..%d: %016llx, want %016llx", NH_VEC_MAX_LEN,
                   (unsigned long long)d, (unsigned long long)digests[kind]);
    return true;
}

static bool fnv_known(const kv_hash_impl *t)
{
    if (t->fnv1a32("", 0) != 0x811C9DC5u || t->fnv1a32("a", 1) != 0xE40C292Cu ||
        t->fnv1a32("foobar", 6) != 0xBF9CF968u)
        return why("fnv1a32");
    if (t->fnv1a64("", 0) != UINT64_C(0xCBF29CE484222325) ||
        t->fnv1a64("a", 1) != UINT64_C(0xAF63DC4C8601EC8C) ||
        t->fnv1a64("foobar", 6) != UINT64_C(0x85944171F73967E8))
        return why("fnv1a64");
    return true;
}

/* Every check that applies to t's non-NULL members. vs_portable: also
 * compare with the portable functions (pointless for the portable table). */
static void check_impl(const char *name, const kv_hash_impl *t, bool vs_portable)
{
    static const char *const kinds[5] = {"crc32c", "xxh3_64", "xxh3_64_seed", "xxh64",
                                         "xxh64 seeded"};
    const void *members[5] = {(const void *)t->crc32c, (const void *)t->xxh3_64,
                              (const void *)t->xxh3_64_seed, (const void *)t->xxh64,
                              (const void *)t->xxh64};

    if (t->crc32c) {
        report(crc_known(t->crc32c), "%s: crc32c known vectors (check value, RFC 3720 B.4)", name);
        if (vs_portable)
            report(crc_vs_portable(t->crc32c),
                   "%s: crc32c == portable, lengths 0..%d, random alignments, extend", name,
                   MAX_LEN);
    }
    for (int k = 0; k < 5; k++) {
        if (members[k])
            report(vectors_match(t, k), "%s: %s == libxxhash/bitwise vectors and digest", name,
                   kinds[k]);
    }
    if (t->xxh3_64 && vs_portable)
        report(xxh3_vs_portable(t->xxh3_64), "%s: xxh3_64 == portable, lengths 0..%d", name,
               MAX_LEN);
    if (t->xxh3_64_seed && vs_portable)
        report(xxh3_seed_vs_portable(t->xxh3_64_seed),
               "%s: xxh3_64_seed == portable, lengths 0..%d, random seeds", name, MAX_LEN);
    if (t->fnv1a32 && t->fnv1a64)
        report(fnv_known(t), "%s: fnv1a32/fnv1a64 known vectors", name);
    if (t->key_eq)
        report(key_eq_vs_portable(t->key_eq), "%s: key_eq == portable, lengths 0..%d", name,
               MAX_LEN);
    if (t->key_cmp)
        report(key_cmp_vs_portable(t->key_cmp), "%s: key_cmp == portable and memcmp order", name);
}

/* ---- the dispatcher ------------------------------------------------------- */

static size_t level_of(const char *name)
{
    const char *const *lv = kv_hash_simd_levels();

    for (size_t i = 0; lv[i]; i++) {
        if (strcmp(lv[i], name) == 0)
            return i;
    }
    return SIZE_MAX;
}

static bool active_is(size_t lvl)
{
    kv_hash_impl w = expected_table(lvl);
    const kv_hash_impl *a = kv_hash_active();

    if (strcmp(kv_hash_simd_level(), w.name) != 0)
        return why("level %s, want %s", kv_hash_simd_level(), w.name);
    if (a->fnv1a32 != w.fnv1a32 || a->fnv1a64 != w.fnv1a64 || a->crc32c != w.crc32c ||
        a->xxh64 != w.xxh64 || a->xxh3_64 != w.xxh3_64 || a->xxh3_64_seed != w.xxh3_64_seed ||
        a->key_eq != w.key_eq || a->key_cmp != w.key_cmp)
        return why("a member of the active table is not the one level %s installs", w.name);
    if (kv_crc32c(0, "123456789", 9) != 0xE3069283u)
        return why("dispatched kv_crc32c gives the wrong check value");
    return true;
}

static void check_dispatch(const char *env, size_t best)
{
    size_t want = best, n_levels = 0;
    const char *const *lv = kv_hash_simd_levels();

    if (env && *env && strcmp(env, "best") != 0 && level_of(env) != SIZE_MAX)
        want = level_of(env) < best ? level_of(env) : best;
    report(active_is(want), "start-up installed level %s (best %s, KVLABS_HASH=%s)", lv[want],
           lv[best], env ? env : "(unset)");
    report(strcmp(lv[0], "portable") == 0 && strcmp(kv_hash_simd_best(), lv[best]) == 0,
           "levels start with portable; best level is %s", lv[best]);
    while (lv[n_levels])
        n_levels++;
    for (size_t l = 0; l < n_levels; l++) {
        int rc = kv_hash_simd_use(lv[l]);

        report(rc == KV_OK && active_is(l < best ? l : best),
               "kv_hash_simd_use(\"%s\") installs %s", lv[l], lv[l < best ? l : best]);
    }
    kv_hash_simd_use("portable");
    report(kv_hash_simd_use("no-such-level") == KV_EINVAL && active_is(0),
           "an unknown level is refused and changes nothing");
    report(kv_hash_simd_use("best") == KV_OK && active_is(best) &&
               kv_hash_simd_use(NULL) == KV_OK && active_is(best),
           "\"best\" and NULL install the best level");
}

int main(void)
{
    const char *env = getenv("KVLABS_HASH");
    const nh_path *paths;
    size_t np = nh_paths(&paths), best = level_of(kv_hash_simd_best());
    kv_hash_impl started;
    uint64_t st = NH_VEC_DATA_SEED;

    kv_registry_init(); /* runs kv_hash_simd_init() from the registry's init list */
    started = *kv_hash_active();
    for (size_t i = 0; i < NH_VEC_MAX_LEN; i++)
        vec_data[i] = (unsigned char)kv_splitmix64(&st);
    rng_state = 42;
    for (size_t i = 0; i < sizeof pool; i++)
        pool[i] = (unsigned char)rng();

    printf("# active level: %s\n", kv_hash_simd_level());
    printf("# best level: %s; KVLABS_HASH=%s\n", kv_hash_simd_best(), env ? env : "(unset)");
    for (size_t i = 0; i < np; i++)
        printf("# path %-12s needs %-14s level %-8s %s\n", paths[i].name, paths[i].needs,
               kv_hash_simd_levels()[paths[i].level],
               paths[i].supported() ? "supported" : "not supported here");

    check_dispatch(env, best);
    kv_hash_simd_init(); /* back to what start-up chose */
    check_impl("portable", &kv_hash_portable, false);
    for (size_t i = 0; i < np; i++) {
        if (paths[i].supported())
            check_impl(paths[i].name, &paths[i].impl, true);
        else
            printf("# skip %s: this CPU lacks %s\n", paths[i].name, paths[i].needs);
    }
    check_impl("dispatched", &started, true);
    printf("%d passed, %d failed\n", n_passed, n_failed);
    return n_failed ? 1 : 0;
}
