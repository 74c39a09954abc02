/**
 * @file neon_hash.h
 * @brief Sprint 2: SIMD and hardware paths of the kvlabs hash functions
 *        (SSE2, SSE4.2, AVX2 on x86-64; NEON and the ARMv8 CRC
 *        instructions on aarch64), chosen at run time.
 *
 * common/include/kvlabs/hash.h declares the hash functions every engine
 * calls (kv_crc32c(), kv_xxh3_64(), kv_key_cmp() ...) and routes each call
 * through a dispatch table that starts out holding the portable C
 * reference implementations. This module adds faster implementations and
 * installs them in that table once, at start-up:
 *
 * | function                  | x86-64                                | aarch64                   |
 * |---------------------------|---------------------------------------|---------------------------|
 * | kv_crc32c()               | SSE4.2 `crc32`; 3 streams with PCLMUL | `crc32cx`; 3 with PMULL   |
 * | kv_xxh3_64(), _seed()     | SSE2, AVX2 or AVX-512 accumulate loop | NEON accumulate loop      |
 * | kv_key_eq(), kv_key_cmp() | SSE2, 16 bytes per step               | NEON, 16 bytes per step   |
 * | kv_xxh64()                | portable (see below)                  | portable                  |
 * | kv_fnv1a32(), _64()       | portable (see below)                  | portable                  |
 *
 * XXH64 keeps the portable code: its four 64-bit lanes already run in
 * parallel in the scalar pipelines, and neither SSE2/AVX2 nor NEON has the
 * 64x64-bit multiply it needs. FNV-1a keeps it too: every byte's multiply
 * depends on the previous one, so there is nothing to run side by side.
 *
 * **Levels.** The paths are grouped into levels, lowest first:
 * "portable", "sse2", "sse42", "avx2", "avx512" on x86-64 and "portable", "neon" on
 * aarch64 (other CPUs have only "portable"). A level installs every path of
 * its own and of the lower levels that the CPU supports: "sse42" is the
 * SSE2 paths plus hardware CRC32C, using the 3-stream CRC when the CPU also
 * has PCLMULQDQ and the single-stream one otherwise (Nehalem); "avx2" and
 * "avx512" replace the SSE2 XXH3 loop with wider ones.
 *
 * **Start-up.** kv_hash_simd_init() is listed in the lab's registry init
 * list (lab.mk `LAB_INITS`), so the kvlabs front end runs it before the
 * first engine is opened or listed. A program that hashes without opening
 * an engine calls kv_registry_init() (kvlabs/engine.h) itself first.
 *
 * **Environment.** `KVLABS_HASH=portable` forces the portable reference
 * paths; `KVLABS_HASH=<level>` caps the level (e.g. `sse42` on an AVX2
 * machine); `best` or an empty value means no cap. An unknown value is
 * reported on stderr and ignored.
 *
 * **Results.** Every path returns exactly what the portable reference
 * returns, for every input, length, alignment and seed; the lab's tests
 * check this on every path this CPU can run, and under qemu on the paths it
 * cannot.
 *
 * **Thread safety.** The hash paths are pure functions. kv_hash_simd_init()
 * and kv_hash_simd_use() install into the dispatch table and follow
 * kv_hash_install()'s rule: call them at start-up, before other threads
 * hash, never from two threads at once. The query functions are safe
 * from any thread.
 */
#ifndef SPRINT2_NEON_HASH_H
#define SPRINT2_NEON_HASH_H

#include <stdbool.h>
#include <stddef.h>

#include "kvlabs/hash.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Detect the CPU's features and install the best paths, capped by
 *        the `KVLABS_HASH` environment variable.
 *
 * Safe to call more than once (each call decides afresh). Listed in the
 * registry init list; see the top of this file.
 */
void kv_hash_simd_init(void);

/**
 * @brief The level whose paths the dispatch table holds now.
 * @return "portable" before kv_hash_simd_init() or after
 *         `kv_hash_install(&kv_hash_portable)`; otherwise the level
 *         installed last, e.g. "avx2" or "neon". A static string.
 */
const char *kv_hash_simd_level(void);

/**
 * @brief Install the paths of a level, or of the best level this CPU has
 *        when that is lower.
 * @param[in] level  a name from kv_hash_simd_levels(); NULL or "best" means
 *                   the best level this CPU supports.
 * @return KV_OK; KV_EINVAL when this build has no level of that name
 *         (nothing installed; kv_last_error() says why).
 * @note Not thread-safe: see the top of this file.
 */
int kv_hash_simd_use(const char *level);

/**
 * @brief The levels this build knows, lowest first.
 * @return a NULL-terminated static array; its first entry is "portable".
 */
const char *const *kv_hash_simd_levels(void);

/**
 * @brief The highest level this CPU supports.
 * @return a static string from kv_hash_simd_levels().
 */
const char *kv_hash_simd_best(void);

/**
 * @brief One SIMD or hardware implementation compiled into this build.
 *
 * Tests and benchmarks reach each path through this table, whichever the
 * dispatcher chose, so a CPU that has AVX2 still tests the SSE2 path.
 */
typedef struct nh_path {
    /** @brief Short name for reports, e.g. "sse4.2-3way". */
    const char *name;
    /** @brief The CPU features it needs, e.g. "sse4.2 pclmul". */
    const char *needs;
    /** @brief The lowest level (an index into kv_hash_simd_levels()) that installs it. */
    unsigned level;
    /**
     * @brief Whether this CPU can run the path.
     * @return true when every feature of @ref needs is present.
     */
    bool (*supported)(void);
    /** @brief Its functions; a NULL member is a function this path does not speed up. */
    kv_hash_impl impl;
} nh_path;

/**
 * @brief Every path compiled into this build, supported here or not.
 * @param[out] out  receives a static array of paths (never NULL).
 * @return the number of paths (0 on CPUs with no SIMD paths).
 */
size_t nh_paths(const nh_path **out);

#ifdef __cplusplus
}
#endif
#endif /* SPRINT2_NEON_HASH_H */
