/*
 * neon_lsm_ops.c — the scalar reference of the LSM tree's bloom probe and
 * key comparison, and their run-time dispatch.
 *
 * What this is: the entry point of sprint 4's simd part. The sstable part
 * calls lsm_simd_bloom_probe() and lsm_simd_key_cmp(); each goes through
 * one slot of a small dispatch table that starts out holding the scalar
 * code below. lsm_simd_init() (the registry's start-up list, lab.mk
 * LAB_INITS) decides once which faster paths this CPU can run and puts
 * them in the slots. The paths live beside this file, one per architecture:
 *   neon_lsm_ops_x86.c  SSE2 and AVX2 (x86-64)
 *   neon_lsm_ops_arm.c  NEON (aarch64)
 *
 * How it works: exactly sprint 2's scheme (sprint-2-hash-storage/simd/
 * neon_hash.c). The architecture file lists its paths, each with the CPU
 * features it needs, a function asking the CPU for them (CPUID through
 * __builtin_cpu_supports on x86, getauxval(AT_HWCAP) on aarch64), and the
 * lowest level that uses it. Levels are ordered names (portable < sse2 <
 * avx2). Installing level L starts from the scalar functions and overlays
 * every supported path of level <= L in list order, so AVX2's 32-byte key
 * compare replaces SSE2's 16-byte one. KVLABS_LSM_SIMD caps the level.
 *
 * The scalar code is the reference, not a fallback of lesser standing:
 * the probe and the comparison define the results (the probe's positions
 * are the file format), and every path is tested against them.
 *
 * Callers must not install while stores are open in other threads unless
 * they accept that a call in flight uses the old path (the slots are
 * atomic, and every path gives the same answers, so that is harmless).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvlabs/error.h"
#include "kvlabs/kv.h"
#include "simd_int.h"

#if !defined(LSM_SIMD_ARCH_X86) && !defined(LSM_SIMD_ARCH_ARM)
const char *const lsm_simd_arch_levels[] = {"portable", NULL};
const lsm_simd_path lsm_simd_arch_paths[1] = {{.name = NULL}};
const size_t lsm_simd_arch_npaths = 0;
#endif

/* The format's multipliers (docs/formats/sstable.md; simd_int.h). */
const uint32_t lsm_simd_bloom_salt[LSM_SIMD_BLOOM_PROBES] = LSM_SIMD_BLOOM_SALTS;

/* ---- the scalar reference ------------------------------------------------ */

size_t lsm_simd_bloom_positions(uint64_t h, size_t lines, uint32_t bits[LSM_SIMD_BLOOM_PROBES])
{
    uint32_t lo = (uint32_t)h;
    for (unsigned i = 0; i < LSM_SIMD_BLOOM_PROBES; i++)
        bits[i] = (lo * lsm_simd_bloom_salt[i]) >> 23;
    return (size_t)(((h >> 32) * (uint64_t)lines) >> 32);
}

bool lsm_simd_bloom_probe_scalar(const uint8_t *filter, size_t size, uint64_t h)
{
    uint32_t bits[LSM_SIMD_BLOOM_PROBES];
    const uint8_t *line = filter + lsm_simd_bloom_positions(h, size / LSM_SIMD_BLOOM_LINE, bits) *
                                       LSM_SIMD_BLOOM_LINE;
    for (unsigned i = 0; i < LSM_SIMD_BLOOM_PROBES; i++)
        if (!(line[bits[i] >> 3] & (1u << (bits[i] & 7))))
            return false;
    return true;
}

int lsm_simd_key_cmp_scalar(const void *a, size_t na, const void *b, size_t nb)
{
    size_t m = na < nb ? na : nb;
    int c = m ? memcmp(a, b, m) : 0;
    if (c)
        return c < 0 ? -1 : 1;
    return na < nb ? -1 : na > nb;
}

/* ---- dispatch ------------------------------------------------------------- */

#define NO_LEVEL SIZE_MAX

static _Atomic(lsm_simd_probe_fn) probe_slot = lsm_simd_bloom_probe_scalar;
static _Atomic(lsm_simd_cmp_fn) cmp_slot = lsm_simd_key_cmp_scalar;
static _Atomic(const char *) level_name = "portable";

bool lsm_simd_bloom_probe(const uint8_t *filter, size_t size, uint64_t h)
{
    return atomic_load_explicit(&probe_slot, memory_order_relaxed)(filter, size, h);
}

int lsm_simd_key_cmp(const void *a, size_t na, const void *b, size_t nb)
{
    return atomic_load_explicit(&cmp_slot, memory_order_relaxed)(a, na, b, nb);
}

void lsm_simd_active(lsm_simd_probe_fn *probe, lsm_simd_cmp_fn *cmp)
{
    if (probe)
        *probe = atomic_load_explicit(&probe_slot, memory_order_relaxed);
    if (cmp)
        *cmp = atomic_load_explicit(&cmp_slot, memory_order_relaxed);
}

size_t lsm_simd_paths(const lsm_simd_path **out)
{
    *out = lsm_simd_arch_paths;
    return lsm_simd_arch_npaths;
}

const char *const *lsm_simd_levels(void)
{
    return lsm_simd_arch_levels;
}

const char *lsm_simd_level(void)
{
    return atomic_load_explicit(&level_name, memory_order_relaxed);
}

static size_t level_index(const char *name)
{
    for (size_t i = 0; lsm_simd_arch_levels[i]; i++)
        if (strcmp(lsm_simd_arch_levels[i], name) == 0)
            return i;
    return NO_LEVEL;
}

static size_t best_level(void)
{
    size_t best = 0;
    for (size_t i = 0; i < lsm_simd_arch_npaths; i++) {
        const lsm_simd_path *p = &lsm_simd_arch_paths[i];
        if (p->level > best && p->supported())
            best = p->level;
    }
    return best;
}

const char *lsm_simd_best(void)
{
    return lsm_simd_arch_levels[best_level()];
}

/* Install level lvl: the scalar functions with every supported path of
 * level <= lvl on top, in list order. */
static void install_level(size_t lvl)
{
    /* STUB: (void)lvl; */
    /* BEGIN SOLUTION */
    lsm_simd_probe_fn probe = lsm_simd_bloom_probe_scalar;
    lsm_simd_cmp_fn cmp = lsm_simd_key_cmp_scalar;

    for (size_t i = 0; i < lsm_simd_arch_npaths; i++) {
        const lsm_simd_path *p = &lsm_simd_arch_paths[i];
        if (p->level > lvl || !p->supported())
            continue;
        if (p->probe)
            probe = p->probe;
        if (p->key_cmp)
            cmp = p->key_cmp;
    }
    atomic_store_explicit(&probe_slot, probe, memory_order_release);
    atomic_store_explicit(&cmp_slot, cmp, memory_order_release);
    atomic_store_explicit(&level_name, lsm_simd_arch_levels[lvl], memory_order_release);
    /* END SOLUTION */
}

int lsm_simd_use(const char *level)
{
    size_t best = best_level(), want = best;

    if (level && strcmp(level, "best") != 0) {
        want = level_index(level);
        if (want == NO_LEVEL) {
            char known[128] = "";
            for (size_t i = 0; lsm_simd_arch_levels[i]; i++) {
                strncat(known, lsm_simd_arch_levels[i], sizeof known - strlen(known) - 1);
                strncat(known, lsm_simd_arch_levels[i + 1] ? ", " : "",
                        sizeof known - strlen(known) - 1);
            }
            return kv_fail(KV_EINVAL, "unknown lsm simd level '%s' (this build has: %s, best)",
                           level, known);
        }
    }
    install_level(want < best ? want : best);
    return KV_OK;
}

void lsm_simd_init(void)
{
    const char *env = getenv("KVLABS_LSM_SIMD");

    if (env && *env) {
        if (lsm_simd_use(env) == KV_OK)
            return;
        fprintf(stderr, "kvlabs: KVLABS_LSM_SIMD: %s; using the best level\n", kv_last_error());
    }
    lsm_simd_use(NULL);
}
