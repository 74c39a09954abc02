/**
 * @file lsm_simd.h
 * @brief The simd part of sprint 4: the blocked bloom filter probe and the
 *        user-key comparison of the LSM tree, in scalar C, AVX2/SSE2
 *        (x86-64) and NEON (aarch64), chosen at run time.
 *
 * The sstable part (sstable/) is built on this one: every bloom probe of a
 * table get goes through lsm_simd_bloom_probe(), and every user-key
 * comparison of a block search (the binary search over a block's restart
 * points, then the linear scan) through lsm_simd_key_cmp(). Calls go only
 * downward: nothing here calls the sstable or lsm parts.
 *
 * **The bloom filter's geometry is the file format** (docs/formats/sstable.md):
 * a filter is an array of 64-byte lines. A key's 64-bit hash h picks the
 * line ((h >> 32) * lines) >> 32 and eight bit positions in it,
 * bit_i = ((uint32_t)h * lsm_simd_bloom_salt[i]) >> 23 (0..511); bit b of
 * a line is bit (b & 7) of its byte (b >> 3). The key may be present when
 * all eight bits are set.
 *
 * | function               | x86-64                                  | aarch64                  |
 * |------------------------|-----------------------------------------|--------------------------|
 * | lsm_simd_bloom_probe() | AVX2: 8 multiplies in one vpmulld, the line in 2 registers, vpermd picks the words | NEON: 2 vmulq_u32, tbl picks the bytes |
 * | lsm_simd_key_cmp()     | SSE2 16 bytes per step; AVX2 32          | NEON 16 bytes per step   |
 *
 * **Levels.** "portable", "sse2", "avx2" on x86-64; "portable", "neon" on
 * aarch64; "portable" elsewhere. A level installs every path of its own
 * and the lower levels that the CPU supports (SSE2 has no 32-bit multiply
 * of 4 lanes, so at "sse2" the probe stays scalar).
 *
 * **Start-up.** lsm_simd_init() is in the lab's registry init list (lab.mk
 * `LAB_INITS`): the front end runs it before the first engine opens. Until
 * then, the scalar code answers. `KVLABS_LSM_SIMD=<level>` caps the level
 * (`portable` forces the scalar code); `best` or empty means no cap; an
 * unknown value is reported on stderr and ignored.
 *
 * **Results.** Every path returns exactly what the scalar one returns
 * (lsm_simd_key_cmp: exactly -1, 0 or 1), for every input and alignment;
 * the part's tests check every path the CPU has, and qemu the others.
 *
 * **Thread safety.** The functions are pure; the dispatch table's slots
 * are atomic, but call lsm_simd_use() at start-up or in tests, not while
 * stores are open (a probe in flight may use either path: both agree).
 */
#ifndef LSM_SIMD_H
#define LSM_SIMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Bytes of one bloom line (every probe of a key falls in one line). */
#define LSM_SIMD_BLOOM_LINE 64u
/** @brief Bit positions probed per key. */
#define LSM_SIMD_BLOOM_PROBES 8u

/** @brief The eight odd multipliers that make a hash's bit positions (the format). */
extern const uint32_t lsm_simd_bloom_salt[LSM_SIMD_BLOOM_PROBES];

/** @brief A bloom probe: false when the key of hash @p h is certainly absent. */
typedef bool (*lsm_simd_probe_fn)(const uint8_t *filter, size_t size, uint64_t h);
/** @brief A user-key comparison: -1, 0 or 1 (bytewise, the shorter first on a tie). */
typedef int (*lsm_simd_cmp_fn)(const void *a, size_t na, const void *b, size_t nb);

/**
 * @brief The line and the eight bit positions (0..511) a hash probes.
 * @param[in]  h      the key's 64-bit bloom hash.
 * @param[in]  lines  the filter's number of lines (> 0).
 * @param[out] bits   the eight bit positions within the line.
 * @return the line index, < lines.
 */
size_t lsm_simd_bloom_positions(uint64_t h, size_t lines, uint32_t bits[LSM_SIMD_BLOOM_PROBES]);

/**
 * @brief Probe a filter with the installed path.
 * @param[in] filter  the filter, @p size bytes.
 * @param[in] size    a multiple of LSM_SIMD_BLOOM_LINE, not 0.
 * @param[in] h       the key's bloom hash.
 * @return false when the key is certainly absent, true when it may be present.
 */
bool lsm_simd_bloom_probe(const uint8_t *filter, size_t size, uint64_t h);

/**
 * @brief The scalar probe: the reference every other path must equal.
 * @param[in] filter  the filter.
 * @param[in] size    a multiple of LSM_SIMD_BLOOM_LINE, not 0.
 * @param[in] h       the key's bloom hash.
 * @return as lsm_simd_bloom_probe().
 */
bool lsm_simd_bloom_probe_scalar(const uint8_t *filter, size_t size, uint64_t h);

/**
 * @brief Compare two user keys with the installed path.
 * @param[in] a   the first key (may be NULL when na is 0).
 * @param[in] na  its length.
 * @param[in] b   the second key (may be NULL when nb is 0).
 * @param[in] nb  its length.
 * @return -1, 0 or 1 as a sorts before, with or after b (unsigned bytes,
 *         a proper prefix first).
 */
int lsm_simd_key_cmp(const void *a, size_t na, const void *b, size_t nb);

/**
 * @brief The scalar comparison, the reference.
 * @param[in] a   the first key.
 * @param[in] na  its length.
 * @param[in] b   the second key.
 * @param[in] nb  its length.
 * @return as lsm_simd_key_cmp().
 */
int lsm_simd_key_cmp_scalar(const void *a, size_t na, const void *b, size_t nb);

/**
 * @brief Detect the CPU and install the best paths, capped by KVLABS_LSM_SIMD.
 *
 * In the lab's registry init list; safe to call again (decides afresh).
 */
void lsm_simd_init(void);

/**
 * @brief Install a level's paths (or the best level's, when that is lower).
 * @param[in] level  a name of lsm_simd_levels(); NULL or "best": the best here.
 * @return KV_OK; KV_EINVAL for a name this build does not know (nothing changed).
 */
int lsm_simd_use(const char *level);

/**
 * @brief The level installed last.
 * @return a static string ("portable" before lsm_simd_init()).
 */
const char *lsm_simd_level(void);

/**
 * @brief The functions installed now (for tests: which path a level chose).
 * @param[out] probe  the bloom probe lsm_simd_bloom_probe() calls (may be NULL).
 * @param[out] cmp    the key comparison lsm_simd_key_cmp() calls (may be NULL).
 */
void lsm_simd_active(lsm_simd_probe_fn *probe, lsm_simd_cmp_fn *cmp);

/**
 * @brief The levels this build knows, lowest first.
 * @return a NULL-terminated static array whose first entry is "portable".
 */
const char *const *lsm_simd_levels(void);

/**
 * @brief The best level this CPU supports.
 * @return a static string of lsm_simd_levels().
 */
const char *lsm_simd_best(void);

/**
 * @brief One SIMD implementation compiled into this build, for tests and
 *        benchmarks (which run every path the CPU has, whatever is installed).
 */
typedef struct lsm_simd_path {
    const char *name;         /**< e.g. "avx2-probe" */
    const char *needs;        /**< the CPU features, e.g. "avx2" */
    unsigned level;           /**< the lowest level (index into lsm_simd_levels()) using it */
    bool (*supported)(void);  /**< whether this CPU runs it */
    lsm_simd_probe_fn probe;  /**< its bloom probe, or NULL */
    lsm_simd_cmp_fn key_cmp;  /**< its key comparison, or NULL */
} lsm_simd_path;

/**
 * @brief Every path of this build, supported here or not.
 * @param[out] out  a static array (never NULL).
 * @return how many (0 on CPUs with no SIMD paths).
 */
size_t lsm_simd_paths(const lsm_simd_path **out);

#ifdef __cplusplus
}
#endif
#endif /* LSM_SIMD_H */
