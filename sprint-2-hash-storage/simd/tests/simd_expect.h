/*
 * simd_expect.h — what the SIMD dispatcher must install, restated for the
 * tests (test_simd.c, and simd_tests.c, which also runs under qemu).
 *
 * neon_hash.c's rule: the table of level L is the portable table with the
 * non-NULL members of every supported path of level <= L laid over it, in
 * the order of the path list. The tests compute that table independently
 * and compare every function pointer of the installed one with it.
 */
#ifndef SPRINT2_SIMD_EXPECT_H
#define SPRINT2_SIMD_EXPECT_H

#include <stddef.h>
#include <string.h>

#include "kvlabs/hash.h"
#include "neon_hash.h"

/* The table level lvl (an index of kv_hash_simd_levels()) must install. */
static inline kv_hash_impl expected_table(size_t lvl)
{
    const nh_path *paths;
    size_t np = nh_paths(&paths);
    kv_hash_impl t = kv_hash_portable;

#define TAKE(m)                                                                                    \
    if (paths[i].impl.m)                                                                           \
    t.m = paths[i].impl.m
    for (size_t i = 0; i < np; i++) {
        if (paths[i].level > lvl || !paths[i].supported())
            continue;
        TAKE(fnv1a32);
        TAKE(fnv1a64);
        TAKE(crc32c);
        TAKE(xxh64);
        TAKE(xxh3_64);
        TAKE(xxh3_64_seed);
        TAKE(key_eq);
        TAKE(key_cmp);
    }
#undef TAKE
    t.name = kv_hash_simd_levels()[lvl];
    return t;
}

/* The index in kv_hash_simd_levels() of the best level this CPU supports
 * (the index of the terminating NULL if the name is not listed). */
static inline size_t best_level_index(void)
{
    const char *const *lv = kv_hash_simd_levels();
    size_t best = 0;

    while (lv[best] && strcmp(lv[best], kv_hash_simd_best()) != 0)
        best++;
    return best;
}

#endif
