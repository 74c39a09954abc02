/*
 * neon_hash.c — run-time dispatch of the SIMD and hardware hash paths.
 *
 * What this is: the entry point of sprint 2's fast hashing. common/ hashes
 * through a table of function pointers (kvlabs/hash.h) that starts out
 * holding portable C. This file decides, once per process, which faster
 * implementations this CPU can run and installs them in that table; the
 * implementations themselves live beside it, one file per architecture:
 *   neon_hash_x86.c   SSE2, SSE4.2 (+PCLMULQDQ), AVX2 and AVX-512 (x86-64)
 *   neon_hash_arm.c   NEON and the ARMv8 CRC32 instructions (+PMULL) (aarch64)
 *   neon_hash_xxh3.c  the vector-width-independent frame of XXH3's long loop
 * The interface is include/neon_hash.h: kv_hash_simd_init() (run by the
 * registry's init list, lab.mk LAB_INITS), kv_hash_simd_use(),
 * kv_hash_simd_level(), and nh_paths() for tests and benchmarks.
 *
 * How it works:
 *   The architecture file lists its paths (nh_arch_paths[]): each names
 *   the CPU features it needs, a function that asks the CPU whether it has
 *   them, the lowest level that uses it, and a kv_hash_impl whose non-NULL
 *   members are the functions it implements. Levels are ordered names
 *   (nh_arch_levels[], e.g. portable < sse2 < sse42 < avx2 < avx512).
 *
 *   Asking the CPU. On x86 the CPUID instruction reports features;
 *   __builtin_cpu_supports("avx2") reads what libgcc's start-up code got
 *   from it (including whether the OS saves the AVX registers on a context
 *   switch, without which AVX must not be used). On aarch64 Linux, user
 *   space cannot read the ID registers directly; the kernel publishes the
 *   features as bits of the auxiliary vector, read with getauxval(AT_HWCAP).
 *
 *   Choosing. The best level is the highest level of any supported path.
 *   KVLABS_HASH may cap it ("portable" forces the reference everywhere).
 *   Installing level L builds a complete table: start from
 *   kv_hash_portable, overlay every supported path of level <= L in list
 *   order (so "sse4.2-3way" replaces "sse4.2"'s CRC when both run, and
 *   AVX2's XXH3 replaces SSE2's), name it after L, and kv_hash_install() it
 *   in one step. Because every path returns what the portable code
 *   returns, the choice changes speed, never a result: a CRC stored by an
 *   AVX2 machine verifies on a Raspberry Pi.
 *
 * Why not at compile time (-mavx2, #ifdef __AVX2__)? One binary has to run
 * on every CPU of its architecture, from qemu's bare "qemu64" model to the
 * newest server; a build for the newest would die with SIGILL on the rest.
 *
 * Callers must not install while other threads hash (kv_hash_install()'s
 * rule); kv_hash_simd_init() runs in the registry's one-time start-up.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvlabs/error.h"
#include "kvlabs/kv.h"
#include "simd_int.h"

#if !defined(NH_ARCH_X86) && !defined(NH_ARCH_ARM)
/* A CPU with no SIMD paths here: only the portable level. */
const char *const nh_arch_levels[] = {"portable", NULL};
const nh_path nh_arch_paths[1] = {{.name = NULL}};
const size_t nh_arch_npaths = 0;
#endif

#define NO_LEVEL SIZE_MAX

size_t nh_paths(const nh_path **out)
{
    *out = nh_arch_paths;
    return nh_arch_npaths;
}

const char *const *kv_hash_simd_levels(void)
{
    return nh_arch_levels;
}

/* The index of a level's name, or NO_LEVEL. */
static size_t level_index(const char *name)
{
    for (size_t i = 0; nh_arch_levels[i]; i++) {
        if (strcmp(nh_arch_levels[i], name) == 0)
            return i;
    }
    return NO_LEVEL;
}

static size_t best_level(void)
{
    size_t best = 0;

    for (size_t i = 0; i < nh_arch_npaths; i++) {
        const nh_path *p = &nh_arch_paths[i];

        if (p->level > best && p->supported())
            best = p->level;
    }
    return best;
}

const char *kv_hash_simd_best(void)
{
    return nh_arch_levels[best_level()];
}

const char *kv_hash_simd_level(void)
{
    return kv_hash_active()->name;
}

/* Install level lvl: the portable table with every supported path of
 * level <= lvl on top, in list order, in one kv_hash_install(). */
static void install_level(size_t lvl)
{
    /* STUB: (void)lvl; */
    /* BEGIN SOLUTION */
    kv_hash_impl t = kv_hash_portable;

    for (size_t i = 0; i < nh_arch_npaths; i++) {
        const nh_path *p = &nh_arch_paths[i];

        if (p->level <= lvl && p->supported())
            kv_hash_overlay(&t, &p->impl); /* the name is set below */
    }
    t.name = nh_arch_levels[lvl];
    kv_hash_install(&t);
    /* END SOLUTION */
}

int kv_hash_simd_use(const char *level)
{
    size_t best = best_level(), want = best;

    if (level && strcmp(level, "best") != 0) {
        want = level_index(level);
        if (want == NO_LEVEL) {
            char known[128] = "";

            for (size_t i = 0; nh_arch_levels[i]; i++) {
                strncat(known, nh_arch_levels[i], sizeof known - strlen(known) - 1);
                strncat(known, nh_arch_levels[i + 1] ? ", " : "", sizeof known - strlen(known) - 1);
            }
            return kv_fail(KV_EINVAL, "unknown hash level '%s' (this build has: %s, best)", level,
                           known);
        }
    }
    install_level(want < best ? want : best);
    return KV_OK;
}

void kv_hash_simd_init(void)
{
    const char *env = getenv("KVLABS_HASH");

    if (env && *env) {
        if (kv_hash_simd_use(env) == KV_OK)
            return;
        fprintf(stderr, "kvlabs: KVLABS_HASH: %s; using the best level\n", kv_last_error());
    }
    kv_hash_simd_use(NULL);
}
