/**
 * @file bpt_port.h
 * @brief The port layer of the sprint-3 B+ tree core: everything the core
 *        needs from its environment, and nothing more.
 *
 * **What this layer is.** The B+ tree core (`btree/btree_core.c`,
 * `btree/btree_operations.c`, `btree/btree_bulk.c`, `btree/btree_check.c`,
 * `btree/btree_dot.c`) is written to be compiled twice: into the user-space
 * `btree` engine, and into a Linux kernel module behind `/dev/kvbtree` (the
 * kernel part of this lab). The kernel has no C library, so the core
 * includes this header and its own headers and nothing else, and this
 * header includes only the freestanding headers `<stddef.h>`, `<stdint.h>`
 * and `<stdbool.h>`. `btree/tests/freestanding_check.sh` proves it by
 * compiling the core with `-ffreestanding -nostdinc -mgeneral-regs-only`.
 *
 * **The interface**, the same shape as sprint 2's `ht_port.h`:
 *   - memory: bpt_port_alloc(), bpt_port_free() and bpt_port_alloc_size()
 *     (what a block really costs, for an honest `mem_bytes`);
 *   - one reader-writer lock per tree, behind an opaque pointer;
 *   - bytes: bpt_memcpy(), bpt_memmove(), bpt_memcmp() (compiler built-ins).
 *
 * `btree/btree_port_user.c` implements it for user space with kvlabs'
 * kv_malloc() (so the malloc-failure hook reaches the tree) and POSIX
 * read-write locks. A kernel port implements it with kvmalloc(), ksize()
 * and a `struct rw_semaphore`.
 *
 * **Callers must not** use floating point in the core, include anything
 * else from a core file, or take a lock recursively.
 */
#ifndef BPT_PORT_H
#define BPT_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief memcpy(); may compile to a call of the environment's memcpy. */
#define bpt_memcpy(d, s, n) __builtin_memcpy((d), (s), (n))
/** @brief memmove(); may compile to a call of the environment's memmove. */
#define bpt_memmove(d, s, n) __builtin_memmove((d), (s), (n))
/** @brief memcmp(); may compile to a call of the environment's memcmp. */
#define bpt_memcmp(a, b, n) __builtin_memcmp((a), (b), (n))
/** @brief Start loading the cache line at @p p (a hint: never faults, may do nothing). */
#define bpt_prefetch(p) __builtin_prefetch((p))
/** @brief Tell the compiler @p x is usually false. */
#define bpt_unlikely(x) __builtin_expect(!!(x), 0)

/**
 * @brief Allocate @p n bytes, uninitialised, aligned for any object.
 * @param[in] n  bytes (> 0).
 * @return the block, or NULL when out of memory (in user space also when
 *         the kvlabs malloc-failure hook fails this allocation).
 */
void *bpt_port_alloc(size_t n);

/**
 * @brief Free a block from bpt_port_alloc().
 * @param[in] p  the block, or NULL (then nothing happens).
 */
void bpt_port_free(void *p);

/**
 * @brief What a block of @p n requested bytes really costs, allocator
 *        overhead included (glibc: usable size plus the chunk header).
 *        Must depend only on @p n, so that the tree can subtract at free
 *        exactly what it added at allocation.
 * @param[in] n  the size it was requested with.
 * @return its footprint in bytes (at least @p n).
 */
size_t bpt_port_alloc_size(size_t n);

/**
 * @brief Say that a starter kit's stub was called: @p fn is not implemented.
 *
 * The user-space port sets kvlabs' error detail to "not implemented: FN"
 * (kv_last_error(), which the tests print); a kernel port logs it. A stub
 * calls it, then returns BPT_ENOTSUP (or NULL, or nothing), so an untouched
 * stub fails with a message naming itself. Only a starter kit's stubs call
 * it; the reference never does.
 * @param[in] fn  the function's name (__func__).
 */
void bpt_port_not_implemented(const char *fn);

/** @brief An opaque reader-writer lock of the port. */
typedef struct bpt_port_lock bpt_port_lock;

/**
 * @brief Create an unlocked reader-writer lock.
 * @return the lock, or NULL when out of memory.
 */
bpt_port_lock *bpt_port_lock_create(void);
/** @brief Destroy an unlocked lock. @param[in] l the lock, or NULL. */
void bpt_port_lock_destroy(bpt_port_lock *l);
/** @brief Take the shared (reader) side. @param[in] l the lock. */
void bpt_port_read_lock(bpt_port_lock *l);
/** @brief Release the shared side. @param[in] l the lock. */
void bpt_port_read_unlock(bpt_port_lock *l);
/** @brief Take the exclusive (writer) side. @param[in] l the lock. */
void bpt_port_write_lock(bpt_port_lock *l);
/** @brief Release the exclusive side. @param[in] l the lock. */
void bpt_port_write_unlock(bpt_port_lock *l);

#ifdef __cplusplus
}
#endif
#endif /* BPT_PORT_H */
