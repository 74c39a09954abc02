/**
 * @file alloc.h
 * @brief kvlabs' allocator wrappers, with a hook that fails the Nth allocation.
 *
 * Every kvlabs module allocates through kv_malloc(), kv_calloc(),
 * kv_realloc() and kv_free() (never malloc() directly), so a test can make
 * any single allocation fail and check that the caller returns KV_ENOMEM
 * with its structures unchanged. kv_alloc_fail_loop() runs a test body again
 * and again with the failure moved one allocation further each time, until
 * a run completes without reaching the injected failure: that exercises
 * every allocation failure path of the body once (SQLite's "malloc-failure
 * loop").
 *
 * How it works: a process-wide atomic counter counts allocation calls: every
 * kv_malloc(), kv_calloc() and kv_realloc() call, size 0 included (a size-0
 * request allocates 1 byte), and so every kv_strdup() and kv_memdup(); not
 * kv_free(), nor a kv_calloc() whose n*size overflows (it fails before the
 * count). When a failure is armed at call N, the Nth call returns NULL. The
 * hook costs one relaxed atomic load when disarmed.
 *
 * Thread safety: all functions are thread-safe; the hook is process-wide,
 * so an armed failure hits whichever thread makes the Nth allocation.
 *
 * Ownership: a block from any of these functions belongs to the caller and
 * is released with kv_free() (never free()).
 */
#ifndef KVLABS_ALLOC_H
#define KVLABS_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief malloc() with the failure hook.
 * @param[in] size  bytes to allocate; 0 allocates 1 byte.
 * @return the uninitialised block, or NULL when out of memory or when the
 *         hook fails this call.
 */
void *kv_malloc(size_t size);

/**
 * @brief calloc() with the failure hook.
 * @param[in] n     number of elements; 0 counts as 1.
 * @param[in] size  bytes per element; 0 counts as 1.
 * @return the zeroed block, or NULL when out of memory, when the hook fails
 *         this call, or when n*size overflows.
 */
void *kv_calloc(size_t n, size_t size);

/**
 * @brief realloc() with the failure hook.
 * @param[in] p     a block from this allocator, or NULL (then it allocates).
 * @param[in] size  the new size; 0 resizes to 1 byte (it does not free @p p).
 * @return the resized block (@p p is then invalid), or NULL when out of
 *         memory or when the hook fails this call; then @p p is untouched
 *         and still the caller's.
 */
void *kv_realloc(void *p, size_t size);

/**
 * @brief free(). Not counted by the hook.
 * @param[in] p  a block from this allocator, or NULL (then nothing happens).
 */
void kv_free(void *p);

/**
 * @brief Copy a NUL-terminated string (one counted allocation).
 * @param[in] s  the string; must not be NULL.
 * @return the kv_malloc'd copy, or NULL when the allocation fails.
 */
char *kv_strdup(const char *s);

/**
 * @brief Copy @p n bytes and add a NUL (one counted allocation).
 * @param[in] p  the bytes; may be NULL when @p n is 0.
 * @param[in] n  number of bytes to copy.
 * @return the kv_malloc'd copy of n + 1 bytes, or NULL when the allocation
 *         fails.
 */
void *kv_memdup(const void *p, size_t n);

/**
 * @brief Arm the hook: the @p nth counted allocation from now fails.
 *
 * Arming replaces any earlier failure and clears kv_alloc_fail_hit().
 * @param[in] nth     1 = the next allocation; 0 disarms.
 * @param[in] sticky  when true, every allocation after the nth fails too.
 */
void kv_alloc_fail_at(uint64_t nth, bool sticky);

/**
 * @brief Whether the armed failure has fired.
 * @return true when an allocation has failed by the hook since the last
 *         kv_alloc_fail_at().
 */
bool kv_alloc_fail_hit(void);

/**
 * @brief The allocation counter.
 * @return counted allocation calls since the process started, failed ones
 *         included.
 */
uint64_t kv_alloc_count(void);

/**
 * @brief Exempt the calling thread's allocations from the hook (nestable):
 *        until the matching kv_alloc_hook_resume(), they are neither counted
 *        nor failed, on this thread only.
 *
 * For code that stands for another machine inside a test process: the
 * raftsim engine simulates a cluster in-process, and an allocation of a
 * simulated node is that node's memory, not the client's (as an engine in
 * a kernel allocates out of the hook's sight). Library code that can
 * return KV_ENOMEM must not use it to hide its own failure paths.
 */
void kv_alloc_hook_suspend(void);

/** @brief End the innermost kv_alloc_hook_suspend() of the calling thread. */
void kv_alloc_hook_resume(void);

/**
 * @brief The malloc-failure loop.
 *
 * For n = 1, 2, ...: arms a failure at allocation n, runs
 * `body(arg, n)`, disarms. Stops after the first run in which the failure
 * was not reached (the body completed every allocation), after a body that
 * returns non-zero (a test failure: that value is returned), or after
 * @p max_runs runs. The hook is disarmed when it returns. Run it while no
 * other thread allocates: their allocations move the failure point.
 *
 * @param[in] body      the test body; returns 0 to go on.
 * @param[in] arg       passed to body.
 * @param[in] max_runs  upper bound on the runs (0: 100000).
 * @param[out] runs     number of runs made (may be NULL).
 * @return 0 when every run returned 0, else the first non-zero body result.
 */
int kv_alloc_fail_loop(int (*body)(void *arg, uint64_t n), void *arg, uint64_t max_runs,
                       uint64_t *runs);

#ifdef __cplusplus
}
#endif
#endif /* KVLABS_ALLOC_H */
