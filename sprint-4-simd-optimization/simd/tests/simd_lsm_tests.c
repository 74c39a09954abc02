/*
 * simd_lsm_tests.c — plain test of the simd part: every bloom-probe and
 * key-compare path this CPU can run, against the scalar reference and
 * against absolute values.
 *
 * What is tested (written as if a student had made the bug each targets):
 *   - dispatch: after kv_registry_init() (which runs lsm_simd_init()) the
 *     level is the best this CPU has, capped by KVLABS_LSM_SIMD; every
 *     level can be chosen; an unknown one is refused and changes nothing;
 *   - the format: lsm_simd_bloom_positions() of two fixed hashes gives the
 *     line and the eight positions computed by hand (a wrong salt, seed or
 *     shift would otherwise change the reference and every path together);
 *   - bloom_probe, per path and for the dispatched function: on filters of
 *     1..67 lines with three densities of set bits (sparse: mostly "no";
 *     dense: mostly "maybe") at an odd address, 100000 random hashes, each
 *     answer equal to the scalar one; then, for every one of the eight
 *     probes of 4000 hashes, a line with only that probe's bit clear must
 *     answer "no" and the full line "maybe" (a lane mask wrong for one
 *     lane or one half of the line fails there);
 *   - key_cmp, per path and dispatched: for every pair of lengths 0..80 (a
 *     ladder of them), keys equal, one a prefix of the other, and differing
 *     at every position in both directions with bytes 0x7f/0x80 (a signed
 *     compare fails) and random ones; the result must be exactly the
 *     scalar one (-1, 0 or 1). Each key ends at the end of its own
 *     allocation, so a path that reads past a key is caught by ASan.
 *
 * The probe and compare checks are simd_lsm_check.h's (the Criterion test
 * test_lsm_simd.c runs the same ones).
 *
 * Why a plain program: it also runs under qemu-aarch64 and qemu-x86_64
 * (qemu_lsm_simd.sh), where Criterion's re-execution would escape the
 * emulator. Output: "ok N - <path>: <function> ..." or "not ok N - ...",
 * "# active level: <name>", and last "N passed, N failed"; exit 1 on any
 * failure. Inputs come from a fixed-seed splitmix64, so a failure
 * reproduces.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvlabs/engine.h"
#include "kvlabs/kv.h"
#include "lsm_simd.h"
#include "simd_lsm_check.h"

static int n_passed, n_failed;
static void check(bool ok, const char *fmt, ...)
{
    va_list ap;
    printf("%s %d - ", ok ? "ok" : "not ok", n_passed + n_failed + 1);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    if (ok)
        n_passed++;
    else
        n_failed++;
}

/* ---- the format ----------------------------------------------------------- */

static void test_positions(void)
{
    static const struct {
        uint64_t h;
        size_t lines, line;
        uint32_t bits[LSM_SIMD_BLOOM_PROBES];
    } want[] = {
        {UINT64_C(0x0123456789abcdef), 1000, 4, {301, 310, 495, 372, 75, 258, 203, 391}},
        {UINT64_C(0xfedcba9876543210), 1000, 995, {67, 64, 256, 325, 211, 161, 502, 447}},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        uint32_t bits[LSM_SIMD_BLOOM_PROBES];
        size_t line = lsm_simd_bloom_positions(want[i].h, want[i].lines, bits);
        bool ok = line == want[i].line && memcmp(bits, want[i].bits, sizeof bits) == 0;
        check(ok, "scalar: bloom_probe positions of %#llx are the format's (line %zu)",
              (unsigned long long)want[i].h, line);
    }
}

/* ---- bloom probe and key compare (simd_lsm_check.h) ------------------------ */

static void test_probe(const char *name, lsm_simd_probe_fn probe)
{
    slc_result r = slc_probe_random(probe);
    check(!r.oom && r.bad == 0 && r.yes > 0 && r.yes < r.total,
          "%s: bloom_probe equals scalar on %zu random probes (%zu maybe, %zu differ)%s", name,
          r.total, r.yes, r.bad, r.first);
    r = slc_probe_bits(probe);
    check(!r.oom && r.bad == 0 && r.bad2 == 0,
          "%s: bloom_probe answers maybe on the key's own 8 bits and no with any one of them "
          "clear (%zu false no, %zu false maybe)",
          name, r.bad, r.bad2);
}

static void test_cmp(const char *name, lsm_simd_cmp_fn cmp)
{
    slc_result r = slc_cmp(cmp);
    check(!r.oom && r.bad == 0,
          "%s: key_cmp equals scalar on %zu comparisons (%zu differ, %zu of them in the last 15 "
          "bytes)%s",
          name, r.total, r.bad, r.yes, r.first);
    check(cmp(NULL, 0, NULL, 0) == 0 && cmp(NULL, 0, "a", 1) == -1 && cmp("a", 1, NULL, 0) == 1,
          "%s: key_cmp of empty keys (NULL pointers, length 0)", name);
}

/* ---- dispatch ------------------------------------------------------------- */

static void test_dispatch(void)
{
    const char *env = getenv("KVLABS_LSM_SIMD");
    const char *want = lsm_simd_best();
    const char *const *levels = lsm_simd_levels();

    if (env && *env && strcmp(env, "best") != 0) {
        size_t ienv = SIZE_MAX, ibest = 0;
        for (size_t i = 0; levels[i]; i++) {
            if (strcmp(levels[i], env) == 0)
                ienv = i;
            if (strcmp(levels[i], want) == 0)
                ibest = i;
        }
        if (ienv < ibest)
            want = levels[ienv];
    }
    printf("# active level: %s\n", lsm_simd_level());
    check(strcmp(lsm_simd_level(), want) == 0, "dispatch: level after start-up is %s (got %s)",
          want, lsm_simd_level());
    const char *before = lsm_simd_level();
    check(lsm_simd_use("no-such-level") == KV_EINVAL && strcmp(lsm_simd_level(), before) == 0,
          "dispatch: an unknown level is KV_EINVAL and changes nothing");
    check(strcmp(levels[0], "portable") == 0, "dispatch: the first level is portable");
    for (size_t i = 0; levels[i]; i++) {
        int rc = lsm_simd_use(levels[i]);
        /* a level above the best installs the best */
        bool ok = rc == KV_OK;
        size_t best = 0;
        for (size_t k = 0; levels[k]; k++)
            if (strcmp(levels[k], lsm_simd_best()) == 0)
                best = k;
        ok = ok && strcmp(lsm_simd_level(), levels[i <= best ? i : best]) == 0;
        check(ok, "dispatch: level %s can be chosen (got %s)", levels[i], lsm_simd_level());
        if (i == 0) {
            /* portable: the dispatched functions are the scalar ones' results */
            uint8_t f[64] = {0};
            check(!lsm_simd_bloom_probe(f, 64, 1) && lsm_simd_key_cmp("a", 1, "b", 1) == -1,
                  "dispatch: portable answers like the scalar code");
        }
    }
    check(lsm_simd_use("best") == KV_OK && strcmp(lsm_simd_level(), lsm_simd_best()) == 0,
          "dispatch: best installs %s", lsm_simd_best());
}

int main(void)
{
    const lsm_simd_path *paths;
    size_t np = lsm_simd_paths(&paths);

    kv_registry_init();
    test_dispatch();
    lsm_simd_init(); /* back to what start-up chose (KVLABS_LSM_SIMD) */
    test_positions();

    test_probe("scalar", lsm_simd_bloom_probe_scalar);
    test_cmp("scalar", lsm_simd_key_cmp_scalar);
    for (size_t i = 0; i < np; i++) {
        if (!paths[i].supported()) {
            printf("# skip %s: this CPU lacks %s\n", paths[i].name, paths[i].needs);
            continue;
        }
        printf("# path %s (%s)\n", paths[i].name, paths[i].needs);
        if (paths[i].probe)
            test_probe(paths[i].name, paths[i].probe);
        if (paths[i].key_cmp)
            test_cmp(paths[i].name, paths[i].key_cmp);
    }
    test_probe("dispatched", lsm_simd_bloom_probe);
    test_cmp("dispatched", lsm_simd_key_cmp);

    printf("%d passed, %d failed\n", n_passed, n_failed);
    return n_failed ? 1 : 0;
}
