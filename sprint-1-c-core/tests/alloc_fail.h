/**
 * @file alloc_fail.h
 * @brief Sprint 1's test allocator: fail the Nth allocation, count the
 *        live blocks, read the size of a block.
 *
 * Sprint 1 does not link common/ (plain malloc is its lesson), so its code
 * calls malloc() and friends directly. To test what a function does when an
 * allocation fails, the test binaries are linked with `-Wl,--wrap=malloc`
 * and the like (the lab's Makefile): every call to malloc, calloc, realloc,
 * aligned_alloc, posix_memalign, strdup, strndup and free made by the lab's
 * code or by a test goes to a wrapper in tests/alloc_fail.c, which counts
 * it, fails it when it is the armed one (returning NULL with errno ENOMEM,
 * as the C library does), and records every block it hands out in a table
 * of live blocks. Allocations made inside the C library or Criterion are
 * not seen, and freeing such a block through the wrapper is harmless.
 *
 * What a test can then check, in every build variant (AddressSanitizer,
 * the plain debug build the mutants are graded in, Valgrind):
 * - error paths: af_fail_loop() runs a body with the 1st, 2nd, ...
 *   allocation failing until a run reaches no failure (the malloc-failure
 *   loop of common/include/kvlabs/alloc.h, for code that calls malloc);
 * - leaks: af_live() before and after a failed call must be equal;
 * - sizes: af_size_of() is the size a live block was requested with, so a
 *   string copy that forgot the byte of the NUL is caught without a
 *   sanitizer; af_last_size() is the size of the latest request.
 *
 * Callers must not use it from several threads at once (sprint 1's tests
 * are single-threaded), and must disarm (af_fail_at(0)) before asserting
 * anything that may allocate. The table holds AF_MAX_LIVE blocks; beyond
 * that af_live() reports AF_UNTRACKED and the leak checks fail loudly.
 */
#ifndef SPRINT1_ALLOC_FAIL_H
#define SPRINT1_ALLOC_FAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Most live blocks the table tracks at once. */
#define AF_MAX_LIVE 16384

/** @brief What af_live() returns once the table overflowed. */
#define AF_UNTRACKED SIZE_MAX

/**
 * @brief Arm the failure: the @p nth counted allocation from now fails.
 *
 * Arming (or disarming) replaces an earlier failure and clears af_hit():
 * read af_hit() before disarming. Only that one call fails; the ones after
 * it succeed.
 * @param[in] nth  1 = the next allocation; 0 disarms.
 */
void af_fail_at(uint64_t nth);

/**
 * @brief Whether the armed failure has fired.
 * @return true when an allocation failed by af_fail_at() since it was armed.
 */
bool af_hit(void);

/**
 * @brief The allocation counter.
 * @return allocation calls (not free) since the process started, failed ones included.
 */
uint64_t af_count(void);

/**
 * @brief Number of live blocks handed out by the wrappers.
 * @return the count, or AF_UNTRACKED when more than AF_MAX_LIVE were live at once.
 */
size_t af_live(void);

/**
 * @brief The size a live block was requested with.
 * @param[in] p  a pointer.
 * @return the size in bytes; SIZE_MAX when @p p is not a live block of the wrappers.
 */
size_t af_size_of(const void *p);

/**
 * @brief The size of the latest allocation request (count × size for calloc,
 *        SIZE_MAX when that product overflows).
 * @return bytes; 0 before any request.
 */
size_t af_last_size(void);

/**
 * @brief The malloc-failure loop.
 *
 * For n = 1, 2, ...: arm a failure at allocation n, run `body(arg, n)`,
 * disarm. Stop after the first run in which the failure was not reached,
 * after a body that returns non-zero (that value is returned), or after
 * @p max_runs runs. The failure is disarmed on return. The body sees the
 * failure still armed: it must not allocate while it checks the state.
 * @param[in]  body      the test body; returns 0 to go on.
 * @param[in]  arg       passed to body.
 * @param[in]  max_runs  upper bound on the runs.
 * @param[out] runs      number of runs made; may be NULL.
 * @return 0 when every run returned 0, else the first non-zero result.
 */
int af_fail_loop(int (*body)(void *arg, uint64_t n), void *arg, uint64_t max_runs,
                 uint64_t *runs);

#ifdef CRITERION_H_
#include "kvtest.h" /* the test kit: NO_LEAKS(), the LeakSanitizer check of every lab */
/** @brief The kit's NO_LEAKS() (kvtest.h) under its older name: under
 *         AddressSanitizer, fail the test now if LeakSanitizer finds a leak;
 *         elsewhere nothing (af_live() is the check everywhere). */
#define AF_NO_LEAKS() NO_LEAKS()
#endif

#ifdef __cplusplus
}
#endif
#endif /* SPRINT1_ALLOC_FAIL_H */
