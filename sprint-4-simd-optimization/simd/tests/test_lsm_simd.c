/*
 * test_lsm_simd.c — Criterion test of the simd part: every bloom-probe
 * and key-compare path this CPU runs, against the scalar reference and
 * the format; the dispatcher; and a table read through every level.
 *
 * The same checks as the plain simd_lsm_tests.c (simd_lsm_check.h), as
 * Criterion tests, because the grader runs the lab's Criterion tests
 * against the mutants (docs/grading.md): a wrong salt, a wrong lane
 * mask, a skipped tail or a dispatcher that installs the wrong level
 * must fail one of these on the grading machine (an x86-64 with AVX2;
 * qemu_lsm_simd.sh covers the other CPUs). Suites:
 *   simd/   the positions, each path vs scalar, the dispatcher
 *   simd_table/ an SSTable with a filter built and read at every level
 * The env, file, builder and table of simd_table are owned (kvtest.h's
 * kvt_own), so a failed assertion leaks nothing.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "kvlabs/engine.h"
#include "kvlabs/env.h"
#include "kvlabs/kv.h"
#include "kv_assert.h"
#define KVT_OWN_STORES /* the env kv_env_mem_new() makes is owned */
#include "kvtest.h"
#include "lsm_simd.h"
#include "simd_lsm_check.h"
#include "sstable.h"

static void start(void)
{
    kv_registry_init();
}

TestSuite(simd, .init = start);

/* The format: two hashes' line and positions, computed by hand. A wrong
 * salt or shift changes the reference and every path together. */
Test(simd, positions_are_the_format)
{
    uint32_t bits[LSM_SIMD_BLOOM_PROBES];
    static const uint32_t want1[] = {301, 310, 495, 372, 75, 258, 203, 391};
    static const uint32_t want2[] = {67, 64, 256, 325, 211, 161, 502, 447};
    cr_assert_eq(lsm_simd_bloom_positions(UINT64_C(0x0123456789abcdef), 1000, bits), 4);
    cr_assert(memcmp(bits, want1, sizeof bits) == 0);
    cr_assert_eq(lsm_simd_bloom_positions(UINT64_C(0xfedcba9876543210), 1000, bits), 995);
    cr_assert(memcmp(bits, want2, sizeof bits) == 0);
}

/* Run fn on every path this CPU supports that has the function, then on
 * the dispatched one. */
#define EACH_PATH(member, dispatched, body)                                                        \
    do {                                                                                           \
        const lsm_simd_path *ps_;                                                                  \
        size_t np_ = lsm_simd_paths(&ps_);                                                         \
        for (size_t i_ = 0; i_ <= np_; i_++) {                                                     \
            const char *name = i_ < np_ ? ps_[i_].name : "dispatched";                             \
            if (i_ < np_ && (!ps_[i_].member || !ps_[i_].supported()))                             \
                continue;                                                                          \
            __typeof__(ps_[0].member) fn = i_ < np_ ? ps_[i_].member : dispatched;                 \
            body                                                                                   \
        }                                                                                          \
    } while (0)

Test(simd, probe_paths_equal_scalar)
{
    EACH_PATH(probe, lsm_simd_bloom_probe, {
        slc_result r = slc_probe_random(fn);
        cr_assert(!r.oom);
        cr_expect_eq(r.bad, 0, "%s: %zu of %zu probes differ from scalar%s", name, r.bad, r.total,
                     r.first);
        cr_expect(r.yes > 0 && r.yes < r.total, "%s: the filters gave both answers", name);
    });
}

Test(simd, probe_checks_each_of_the_eight_bits)
{
    EACH_PATH(probe, lsm_simd_bloom_probe, {
        slc_result r = slc_probe_bits(fn);
        cr_assert(!r.oom);
        cr_expect_eq(r.bad, 0, "%s: %zu keys with all 8 bits set answered no", name, r.bad);
        cr_expect_eq(r.bad2, 0, "%s: %zu probes with one bit clear answered maybe", name, r.bad2);
    });
}

Test(simd, key_cmp_paths_equal_scalar)
{
    EACH_PATH(key_cmp, lsm_simd_key_cmp, {
        slc_result r = slc_cmp(fn);
        cr_assert(!r.oom);
        cr_expect_eq(r.bad, 0, "%s: %zu of %zu comparisons differ (%zu in the last 15 bytes)%s",
                     name, r.bad, r.total, r.yes, r.first);
        cr_expect_eq(fn(NULL, 0, NULL, 0), 0, "%s: empty keys", name);
        cr_expect_eq(fn("a", 1, NULL, 0), 1, "%s: a key after the empty key", name);
    });
}

/* The scalar reference itself, on hand-made cases (the paths are compared with it). */
Test(simd, key_cmp_scalar_is_unsigned_bytewise_shorter_first)
{
    cr_assert_eq(lsm_simd_key_cmp_scalar("\x7f", 1, "\x80", 1), -1);
    cr_assert_eq(lsm_simd_key_cmp_scalar("ab", 2, "abc", 3), -1);
    cr_assert_eq(lsm_simd_key_cmp_scalar("abd", 3, "abc", 3), 1);
    cr_assert_eq(lsm_simd_key_cmp_scalar("abc", 3, "abc", 3), 0);
}

/* Start-up installs the best level (KVLABS_LSM_SIMD unset: the test
 * environment does not set it); every level can be chosen and answers as
 * the scalar code; an unknown one changes nothing. */
Test(simd, dispatch_levels)
{
    const char *const *levels = lsm_simd_levels();
    if (!getenv("KVLABS_LSM_SIMD"))
        cr_assert_str_eq(lsm_simd_level(), lsm_simd_best());
    cr_assert_str_eq(levels[0], "portable");
    RC(lsm_simd_use("no-such-level"), KV_EINVAL);
    size_t best = 0;
    for (size_t i = 0; levels[i]; i++)
        if (strcmp(levels[i], lsm_simd_best()) == 0)
            best = i;
    for (size_t i = 0; levels[i]; i++) {
        OK(lsm_simd_use(levels[i]));
        cr_assert_str_eq(lsm_simd_level(), levels[i <= best ? i : best]);
        slc_result r = slc_probe_bits(lsm_simd_bloom_probe);
        cr_expect(!r.oom && r.bad == 0 && r.bad2 == 0, "level %s: the dispatched probe",
                  levels[i]);
        cr_expect_eq(lsm_simd_key_cmp("abcdefghijklmnopq", 17, "abcdefghijklmnopr", 17), -1,
                     "level %s: the dispatched compare", levels[i]);
    }
    OK(lsm_simd_use(NULL));
    cr_assert_str_eq(lsm_simd_level(), lsm_simd_best());
}

/* Each level installs the last supported path of that level or below for
 * each function, in list order (AVX2's compare replaces SSE2's); the
 * portable level the scalar functions. */
Test(simd, each_level_installs_its_paths)
{
    const lsm_simd_path *ps;
    size_t np = lsm_simd_paths(&ps);
    const char *const *levels = lsm_simd_levels();
    for (size_t l = 0; levels[l]; l++) {
        lsm_simd_probe_fn probe = lsm_simd_bloom_probe_scalar, got_probe;
        lsm_simd_cmp_fn cmp = lsm_simd_key_cmp_scalar, got_cmp;
        for (size_t i = 0; i < np; i++) {
            if (ps[i].level > l || !ps[i].supported())
                continue;
            if (ps[i].probe)
                probe = ps[i].probe;
            if (ps[i].key_cmp)
                cmp = ps[i].key_cmp;
        }
        OK(lsm_simd_use(levels[l]));
        lsm_simd_active(&got_probe, &got_cmp);
        cr_expect(got_probe == probe, "level %s: the wrong probe installed", levels[l]);
        cr_expect(got_cmp == cmp, "level %s: the wrong key compare installed", levels[l]);
    }
    OK(lsm_simd_use(NULL));
}

/* ---- a table read at every level ------------------------------------------ */

TestSuite(simd_table, .init = start, .fini = kvt_release_owned);

static void builder_free_owned(void *b)
{
    lsm_table_builder_free(b);
}

static void table_close_owned(void *t)
{
    lsm_table_close(t);
}

/* Keys of 16 bytes (the benchmark's), 3000 of them, in a table with a
 * filter and 1 KiB blocks: every key is found and 3000 absent keys are
 * not, at every level (the builder's filter is read by every probe). */
Test(simd_table, gets_at_every_level)
{
    kv_env *env = kv_env_mem_new();
    kv_file *f;
    lsm_table_builder *b;
    lsm_table *t;
    uint64_t size;
    cr_assert_not_null(env);
    OK(kv_env_open(env, "/t.sst", KV_O_RDWR | KV_O_CREAT, &f));
    kvt_own(f, kvt_file_close_owned);
    lsm_table_opts o = {.block_size = 1024, .restart_every = 16, .bloom_bits = 10};
    OK(lsm_table_builder_new(f, &o, &b));
    kvt_own(b, builder_free_owned);
    for (unsigned i = 0; i < 3000; i++) {
        uint8_t k[24];
        char u[17];
        snprintf(u, sizeof u, "key%013u", i * 2);
        memcpy(k, u, 16);
        uint64_t tr = lsm_trailer(i + 1, LSM_TYPE_VALUE);
        for (int j = 0; j < 8; j++)
            k[16 + j] = (uint8_t)(tr >> (8 * j));
        OK(lsm_table_builder_add(b, k, 24, "v", 1));
    }
    OK(lsm_table_builder_finish(b, &size));
    kvt_drop(b); /* lsm_table_builder_free() */
    kvt_disown(f);
    OK(kv_file_close(f));
    OK(kv_env_open(env, "/t.sst", KV_O_RDONLY, &f)); /* the table's, also on failure */
    OK(lsm_table_open(f, size, NULL, &t));
    kvt_own(t, table_close_owned);
    const char *const *levels = lsm_simd_levels();
    size_t best = 0;
    for (size_t l = 0; levels[l]; l++)
        if (strcmp(levels[l], lsm_simd_best()) == 0)
            best = l;
    for (size_t l = 0; levels[l]; l++) {
        OK(lsm_simd_use(levels[l]));
        cr_assert_str_eq(lsm_simd_level(), levels[l <= best ? l : best]);
        for (unsigned i = 0; i < 6000; i++) {
            char k[17];
            unsigned type;
            snprintf(k, sizeof k, "key%013u", i);
            int rc = lsm_table_get(t, k, 16, LSM_MAX_SEQ, &type, NULL);
            cr_assert_eq(rc, i % 2 ? KV_ENOTFOUND : KV_OK, "level %s, key %u: %d", levels[l], i,
                         rc);
        }
    }
    OK(lsm_simd_use(NULL));
    kvt_drop(t); /* lsm_table_close() */
    kv_env_free(env);
}
