/**
 * @file ht_port.h
 * @brief The port layer of the sprint-2 hash-table core: everything the core
 *        needs from its environment, and nothing more.
 *
 * **What this layer is.** The hash-table core (`ht_core.c`, `ht_resize.c`
 * and the four strategy files `ht_chaining.c`, `ht_linear.c`,
 * `ht_robinhood.c`, `ht_swiss.c`) is compiled twice in this course: into
 * the user-space `hash` engine, and into a Linux kernel module behind a
 * character device (the `hash_device.c` issue). The C library does not
 * exist in the kernel, and the kernel's allocator, locks and CRC32C are not
 * the C library's. So the core includes this header and nothing else (no
 * `<stdlib.h>`, no `<pthread.h>`, no kvlabs header), and this header
 * includes only the freestanding headers `<stddef.h>`, `<stdint.h>` and
 * `<stdbool.h>`, which every C compiler provides even with `-ffreestanding`.
 *
 * **The interface** is small on purpose:
 *   - memory: ht_port_alloc(), ht_port_zalloc(), ht_port_free() and
 *     ht_port_alloc_size() (what a block really costs, for honest
 *     `mem_bytes` statistics);
 *   - locks: a reader-writer lock behind an opaque pointer,
 *     ht_port_lock_create(), ht_port_lock_destroy(), ht_port_read_lock(),
 *     ht_port_read_unlock(), ht_port_write_lock(), ht_port_write_unlock();
 *   - bytes: ht_memcpy(), ht_memcmp(), ht_memset() (compiler built-ins: they
 *     may become calls to memcpy/memcmp/memset, which both libc and the
 *     kernel provide);
 *   - the hash function type ht_hash_fn and the key-equality type ht_eq_fn
 *     (the table is given pointers to them; in user space they come from
 *     `kvlabs/hash.h`, in the kernel the port wraps the kernel's `crc32c()`);
 *   - branch hints ht_likely() and ht_unlikely(), and a prefetch hint
 *     ht_prefetch();
 *   - optimistic reads: a sequence counter (ht_seq), barriers, read
 *     sections and grace periods (ht_port_read_enter(), ht_port_grace_start())
 *     — see their group below;
 *   - the Swiss-table group match: 16 control bytes compared at once, with
 *     SSE2 on x86-64 (`__SSE2__`), NEON on AArch64 (`__ARM_NEON`), and a
 *     portable SWAR ("SIMD within a register") version on 64-bit integers
 *     everywhere else, including the kernel build.
 *
 * `ht_port_user.c` implements the functions for user space with kvlabs'
 * `kv_malloc()` (so the malloc-failure hook reaches the table) and POSIX
 * read-write locks. A kernel port implements the same functions with
 * `kvmalloc()`, `ksize()` and a `struct rw_semaphore`.
 *
 * **Build modes.** Defining `HT_PORT_FREESTANDING` (the build check in
 * `tests/freestanding_check.sh` does, with `-ffreestanding -nostdinc`) or
 * `__KERNEL__` selects the SWAR group match: the SIMD intrinsics headers are
 * hosted headers (`<emmintrin.h>` pulls in `<stdlib.h>`), and the kernel does
 * not allow vector registers in ordinary code.
 *
 * **Callers must not** include anything else from a core file, use floating
 * point in the core (the kernel forbids it; the build check compiles with
 * `-mgeneral-regs-only` on x86 to prove it), or call a lock function on a
 * lock from another port.
 *
 * **Thread safety.** The allocation functions are thread-safe. A lock may be
 * taken by any thread; the read side is shared, the write side exclusive;
 * locks are not recursive.
 */
#ifndef HT_PORT_H
#define HT_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if !defined(HT_PORT_FREESTANDING) && !defined(__KERNEL__)
#if defined(__SSE2__)
#include <emmintrin.h>
/** @brief Defined when the group match uses SSE2 (x86-64 user space). */
#define HT_GROUP_SSE2 1
#elif defined(__ARM_NEON) && defined(__aarch64__)
#include <arm_neon.h>
/** @brief Defined when the group match uses NEON (AArch64 user space). */
#define HT_GROUP_NEON 1
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/** @name Branch hints and byte operations
 * @{ */
/** @brief Tell the compiler @p x is usually true. */
#define ht_likely(x) __builtin_expect(!!(x), 1)
/** @brief Tell the compiler @p x is usually false. */
#define ht_unlikely(x) __builtin_expect(!!(x), 0)
/** @brief memcpy(); may compile to a call of the environment's memcpy. */
#define ht_memcpy(d, s, n) __builtin_memcpy((d), (s), (n))
/** @brief memcmp(); may compile to a call of the environment's memcmp. */
#define ht_memcmp(a, b, n) __builtin_memcmp((a), (b), (n))
/** @brief memset(); may compile to a call of the environment's memset. */
#define ht_memset(d, c, n) __builtin_memset((d), (c), (n))
/** @brief Start loading the cache line at @p p (a hint: never faults, may do nothing). */
#define ht_prefetch(p) __builtin_prefetch((p))
/** @} */

/**
 * @brief A hash function over a key: 64 well-mixed bits.
 *
 * The table uses the top 8 bits to choose a shard, 7 bits below them as the
 * Swiss-table tag, and the low bits as the home slot, so every bit matters.
 * A 32-bit hash (CRC32C) must be spread to 64 bits first (ht_mix64()).
 * @param[in] key  the key bytes.
 * @param[in] len  its length.
 * @return the hash.
 */
typedef uint64_t (*ht_hash_fn)(const void *key, size_t len);

/**
 * @brief A key-equality function for keys of the same length.
 * @param[in] a  n bytes.
 * @param[in] b  n bytes.
 * @param[in] n  the length.
 * @return true when the bytes are identical.
 */
typedef bool (*ht_eq_fn)(const void *a, const void *b, size_t n);

/** @name Memory
 * @{ */

/**
 * @brief Allocate @p n bytes, uninitialised, aligned for any object.
 * @param[in] n  bytes; 0 is allowed (a unique block).
 * @return the block, or NULL when out of memory (in user space also when the
 *         kvlabs malloc-failure hook fails this allocation).
 */
void *ht_port_alloc(size_t n);

/**
 * @brief Allocate @p n zeroed bytes (one counted allocation).
 * @param[in] n  bytes.
 * @return the block, or NULL when out of memory.
 */
void *ht_port_zalloc(size_t n);

/**
 * @brief Free a block from ht_port_alloc() or ht_port_zalloc().
 * @param[in] p  the block, or NULL (then nothing happens).
 */
void ht_port_free(void *p);

/**
 * @brief What a block really costs in memory, allocator overhead included.
 *
 * The statistics of the table add this up for every block it holds, so
 * `mem_bytes` is what the process pays, not what was asked for. User
 * space: `malloc_usable_size()` plus the allocator's per-chunk header on
 * glibc, else @p n rounded up to 16 plus 16. Kernel: `ksize()`.
 * @param[in] p  a live block from this port (not NULL).
 * @param[in] n  the size it was requested with.
 * @return its footprint in bytes (at least @p n). Deterministic for a
 *         given block, so adding it at allocation and subtracting it at
 *         free balances.
 */
size_t ht_port_alloc_size(const void *p, size_t n);

/** @} */

/** @name Locks
 * @{ */

/** @brief A reader-writer lock of the port (opaque). */
typedef struct ht_lock ht_lock;

/**
 * @brief Say that a starter kit's stub was called: @p fn is not implemented.
 *
 * The user-space port sets kvlabs' error detail to "not implemented: FN"
 * (kv_last_error(), which the tests print); a kernel port logs it once. A
 * stub calls it, then returns HT_ENOTSUP (or NULL, or nothing), so an
 * untouched stub fails with a message naming itself.
 * @param[in] fn  the function's name (__func__).
 */
void ht_port_not_implemented(const char *fn);

/**
 * @brief Create a reader-writer lock.
 * @param[out] mem  receives the lock's memory footprint in bytes (for the
 *                  statistics); may be NULL.
 * @return the lock, or NULL when out of memory.
 */
ht_lock *ht_port_lock_create(size_t *mem);

/**
 * @brief Destroy a lock nobody holds.
 * @param[in] l  the lock, or NULL (then nothing happens).
 */
void ht_port_lock_destroy(ht_lock *l);

/**
 * @brief Take the lock shared (several readers at once).
 * @param[in] l  the lock.
 */
void ht_port_read_lock(ht_lock *l);

/**
 * @brief Release a shared hold.
 * @param[in] l  the lock.
 */
void ht_port_read_unlock(ht_lock *l);

/**
 * @brief Take the lock exclusive (one writer, no readers).
 * @param[in] l  the lock.
 */
void ht_port_write_lock(ht_lock *l);

/**
 * @brief Release an exclusive hold.
 * @param[in] l  the lock.
 */
void ht_port_write_unlock(ht_lock *l);

/** @} */

/** @name Optimistic reads: sequence counters, barriers, read sections
 *
 * A lookup reads a shard without its lock (ht_core.c explains the scheme):
 *
 *   - **a sequence counter** per shard (ht_seq): a writer makes it odd before
 *     it changes the shard and even again after; a reader notes it before,
 *     checks it after, and tries again if it moved or was odd;
 *   - **barriers** order the reader's and writer's memory accesses around the
 *     counter (ht_smp_rmb(), ht_smp_wmb(), ht_smp_mb());
 *   - **read sections and grace periods** (the scheme of RCU and of epoch-based
 *     reclamation): memory a reader may still be reading (an array replaced
 *     by a resize, a large entry overwritten) is retired, not freed; it is
 *     freed once a grace period has elapsed, i.e. once every read section
 *     that was running when it was retired has ended;
 *   - **a seqlock read region** (ht_racy_begin(), ht_racy_end()) around the
 *     reader's plain loads of a shard's arrays and entries, which may race
 *     with a writer: the sequence counter discards what they return, and
 *     ThreadSanitizer is told to expect them (the kernel's KCSAN treats a
 *     seqcount read section the same way).
 *
 * User space (this header and ht_port_user.c): C11-style `__atomic`
 * built-ins, which the compiler provides even when freestanding, and an
 * epoch scheme whose readers never execute a fence (the grace side uses
 * the membarrier() system call). The kernel: `seqcount_t`, `smp_*()`
 * and RCU (ht_port_kernel.c).
 * @{ */

#if defined(__KERNEL__)
#include <linux/seqlock.h>
/** @brief A sequence counter (kernel: seqcount_t). */
typedef seqcount_t ht_seq;
/** @brief Set a counter to 0 (even: no writer). */
#define ht_seq_init(s) seqcount_init(s)
/** @brief Read barrier: loads before it happen before loads after it. */
#define ht_smp_rmb() smp_rmb()
/** @brief Write barrier: stores before it happen before stores after it. */
#define ht_smp_wmb() smp_wmb()
/** @brief Full barrier. */
#define ht_smp_mb() smp_mb()
static inline unsigned ht_seq_read_begin(ht_seq *s)
{
    return raw_read_seqcount(s);
}
static inline bool ht_seq_read_retry(ht_seq *s, unsigned start)
{
    return read_seqcount_retry(s, start);
}
static inline void ht_seq_write_begin(ht_seq *s)
{
    raw_write_seqcount_begin(s);
}
static inline void ht_seq_write_end(ht_seq *s)
{
    raw_write_seqcount_end(s);
}
/** @brief Load that may race with a store (kernel: READ_ONCE()). */
#define ht_atomic_load(p) READ_ONCE(*(p))
/** @brief Store that may race with a load (kernel: WRITE_ONCE()). */
#define ht_atomic_store(p, v) WRITE_ONCE(*(p), (v))
/** @brief Add to a counter several threads may bump at once. */
#define ht_atomic_add(p, v) ((void)__atomic_fetch_add((p), (v), __ATOMIC_RELAXED))
/* KCSAN already treats a seqcount read section as atomic. */
static inline void ht_racy_begin(void) {}
static inline void ht_racy_end(void) {}
#else
/** @brief A sequence counter: even when no writer is inside, odd while one is. */
typedef struct ht_seq {
    unsigned v; /**< only through the ht_seq_* functions */
} ht_seq;

/** @brief Set a counter to 0 (even: no writer). */
#define ht_seq_init(s) ((s)->v = 0)
#if defined(__SANITIZE_THREAD__)
/* ThreadSanitizer does not model fences (GCC refuses them under -fsanitize=
 * thread): its builds order by the counter's own acquire and release
 * accesses, and the barriers only stop the compiler. */
#define ht_smp_rmb() __atomic_signal_fence(__ATOMIC_SEQ_CST)
#define ht_smp_wmb() __atomic_signal_fence(__ATOMIC_SEQ_CST)
#define ht_smp_mb() __atomic_signal_fence(__ATOMIC_SEQ_CST)
#define HT_SEQ_LOAD_ORDER __ATOMIC_ACQUIRE
#else
/** @brief Read barrier: loads before it happen before loads after it. */
#define ht_smp_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
/** @brief Write barrier: stores before it happen before stores after it. */
#define ht_smp_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
/** @brief Full barrier. */
#define ht_smp_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
/** @brief Memory order of ht_seq_read_retry()'s second load (the barrier before it orders it). */
#define HT_SEQ_LOAD_ORDER __ATOMIC_RELAXED
#endif

/** @brief Load that may race with a store (relaxed atomic). */
#define ht_atomic_load(p) __atomic_load_n((p), __ATOMIC_RELAXED)
/** @brief Store that may race with a load (relaxed atomic). */
#define ht_atomic_store(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
/** @brief Add to a counter several threads may bump at once (relaxed atomic). */
#define ht_atomic_add(p, v) ((void)__atomic_fetch_add((p), (v), __ATOMIC_RELAXED))

/**
 * @brief Start a read: the counter's value, to pass to ht_seq_read_retry().
 * @param[in] s  the counter.
 * @return its value; odd means a writer is inside (the read will fail).
 */
static inline unsigned ht_seq_read_begin(ht_seq *s)
{
    return __atomic_load_n(&s->v, __ATOMIC_ACQUIRE);
}

/**
 * @brief End a read: whether it must be thrown away.
 * @param[in] s      the counter.
 * @param[in] start  what ht_seq_read_begin() returned.
 * @return true when a writer was inside at the start or entered since.
 */
static inline bool ht_seq_read_retry(ht_seq *s, unsigned start)
{
    ht_smp_rmb(); /* the section's loads before the counter's */
    return (start & 1) || __atomic_load_n(&s->v, HT_SEQ_LOAD_ORDER) != start;
}

/**
 * @brief A writer enters (the caller holds the writers' lock): odd.
 * @param[in] s  the counter.
 */
static inline void ht_seq_write_begin(ht_seq *s)
{
    __atomic_store_n(&s->v, s->v + 1, __ATOMIC_RELAXED);
    ht_smp_wmb(); /* the odd value before the writer's stores */
}

/**
 * @brief The writer leaves: even again.
 * @param[in] s  the counter.
 */
static inline void ht_seq_write_end(ht_seq *s)
{
    __atomic_store_n(&s->v, s->v + 1, __ATOMIC_RELEASE); /* after the writer's stores */
}

#if defined(__SANITIZE_THREAD__) || defined(HT_TSAN_ANNOTATIONS)
void AnnotateIgnoreReadsBegin(const char *file, int line);
void AnnotateIgnoreReadsEnd(const char *file, int line);
/** @brief Start a seqlock read region (ThreadSanitizer ignores its loads). */
#define ht_racy_begin() AnnotateIgnoreReadsBegin(__FILE__, __LINE__)
/** @brief End a seqlock read region. */
#define ht_racy_end() AnnotateIgnoreReadsEnd(__FILE__, __LINE__)
#else
/** @brief Start a seqlock read region (ThreadSanitizer ignores its loads). */
#define ht_racy_begin() ((void)0)
/** @brief End a seqlock read region. */
#define ht_racy_end() ((void)0)
#endif
#endif /* __KERNEL__ */

/**
 * @brief Enter a read section: until ht_port_read_exit(), memory retired
 *        after this point is not freed (RCU: rcu_read_lock()).
 *
 * Costs no fence and no shared write in user space. A section must not
 * sleep or take a table lock (leave it first), and sections do not nest.
 * @return true; false when the thread could not get a reader slot (out of
 *         memory): the caller must then read under the lock instead.
 */
bool ht_port_read_enter(void);

/** @brief Leave the read section entered by ht_port_read_enter(). */
void ht_port_read_exit(void);

/**
 * @brief Start a grace period for what was just retired.
 * @return a cookie for ht_port_grace_done(): the grace period is over when
 *         every read section running at this call has ended.
 */
uint64_t ht_port_grace_start(void);

/**
 * @brief Whether a grace period is over (never blocks).
 * @param[in] cookie  from ht_port_grace_start().
 * @return true when memory retired before that call may be freed.
 */
bool ht_port_grace_done(uint64_t cookie);

/**
 * @brief Wait until a grace period is over (a writer that could not queue
 *        a block; may sleep or spin; never call it inside a read section).
 * @param[in] cookie  from ht_port_grace_start().
 */
void ht_port_grace_wait(uint64_t cookie);

/** @} */

/** @name Swiss-table groups: 16 control bytes matched at once
 *
 * A control byte describes one slot: #HT_CTRL_EMPTY, #HT_CTRL_DELETED, or,
 * for a full slot, 7 bits of its key's hash (0x00..0x7F, the "tag"). A match
 * returns a bit mask with bit i set when control byte i matches. Every
 * implementation (SSE2, NEON, SWAR) returns exactly the same mask; the
 * reference ht_group_match_ref() is the loop they are tested against.
 * @{ */

/** @brief Slots per group. */
#define HT_GROUP 16
/** @brief Control byte of a never-used slot; a lookup stops at a group holding one. */
#define HT_CTRL_EMPTY 0x80u
/** @brief Control byte of a tombstone: a deleted slot a lookup must probe past. */
#define HT_CTRL_DELETED 0xFEu

/** @brief One bit per slot of a group (bit i: slot i). */
typedef uint32_t ht_mask;

/**
 * @brief Reference group match: a plain loop.
 * @param[in] ctrl  16 control bytes.
 * @param[in] b     the byte to look for.
 * @return bit i set when ctrl[i] == b.
 */
static inline ht_mask ht_group_match_ref(const uint8_t *ctrl, uint8_t b)
{
    ht_mask m = 0;

    for (unsigned i = 0; i < HT_GROUP; i++)
        m |= (ht_mask)(ctrl[i] == b) << i;
    return m;
}

/**
 * @brief SWAR helper: gather the top bit of each byte of @p y (other bits 0).
 *
 * Multiplying by 0x0102040810204080 sends bit 8i+7 to bit 56+i, and no two
 * partial products share a bit position (8(i-i') = 7(k'-k) has no solution
 * in range), so there are no carries and the top byte holds the 8 flags.
 * @param[in] y  flags in bits 7, 15, ..., 63.
 * @return bit i set when byte i's top bit was set.
 */
static inline ht_mask ht_swar_gather(uint64_t y)
{
    return (ht_mask)(((y >> 7) * 0x0102040810204080ULL) >> 56);
}

/**
 * @brief SWAR helper: which bytes of @p x are zero (exact, no false positives).
 *
 * Adding 0x7F to the low 7 bits of a byte sets its top bit unless they were
 * all 0; OR-ing the byte itself back in covers its own top bit. A byte is
 * zero exactly when neither set the top bit.
 * @param[in] x  8 bytes.
 * @return bit i set when byte i (little-endian order) is 0.
 */
static inline ht_mask ht_swar_zero_bytes(uint64_t x)
{
    const uint64_t lo7 = 0x7F7F7F7F7F7F7F7FULL;
    uint64_t y = (x & lo7) + lo7;

    return ht_swar_gather(~(y | x | lo7));
}

/**
 * @brief SWAR helper: load 8 control bytes as a little-endian integer.
 * @param[in] p  8 bytes.
 * @return byte i in bits 8i..8i+7.
 */
static inline uint64_t ht_swar_load(const uint8_t *p)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/**
 * @brief SWAR group match (portable, used by the kernel build).
 * @param[in] ctrl  16 control bytes.
 * @param[in] b     the byte to look for.
 * @return bit i set when ctrl[i] == b.
 */
static inline ht_mask ht_group_match_swar(const uint8_t *ctrl, uint8_t b)
{
    const uint64_t rep = 0x0101010101010101ULL * b;

    return ht_swar_zero_bytes(ht_swar_load(ctrl) ^ rep) |
           ht_swar_zero_bytes(ht_swar_load(ctrl + 8) ^ rep) << 8;
}

/**
 * @brief SWAR match of free slots (EMPTY or DELETED: top bit set).
 * @param[in] ctrl  16 control bytes.
 * @return bit i set when ctrl[i] >= 0x80.
 */
static inline ht_mask ht_group_match_free_swar(const uint8_t *ctrl)
{
    const uint64_t msb = 0x8080808080808080ULL;

    return ht_swar_gather(ht_swar_load(ctrl) & msb) |
           ht_swar_gather(ht_swar_load(ctrl + 8) & msb) << 8;
}

/**
 * @brief Group match with the best instructions of this build.
 * @param[in] ctrl  16 control bytes (no alignment needed).
 * @param[in] b     the byte to look for.
 * @return bit i set when ctrl[i] == b.
 */
static inline ht_mask ht_group_match(const uint8_t *ctrl, uint8_t b)
{
#if defined(HT_GROUP_SSE2)
    __m128i g = _mm_loadu_si128((const __m128i *)(const void *)ctrl);
    return (ht_mask)_mm_movemask_epi8(_mm_cmpeq_epi8(g, _mm_set1_epi8((char)b)));
#elif defined(HT_GROUP_NEON)
    static const uint8_t w[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    uint8x16_t m = vandq_u8(vceqq_u8(vld1q_u8(ctrl), vdupq_n_u8(b)), vld1q_u8(w));
    return (ht_mask)vaddv_u8(vget_low_u8(m)) | (ht_mask)vaddv_u8(vget_high_u8(m)) << 8;
#else
    return ht_group_match_swar(ctrl, b);
#endif
}

/**
 * @brief Match EMPTY control bytes.
 * @param[in] ctrl  16 control bytes.
 * @return bit i set when ctrl[i] == HT_CTRL_EMPTY.
 */
static inline ht_mask ht_group_match_empty(const uint8_t *ctrl)
{
    return ht_group_match(ctrl, (uint8_t)HT_CTRL_EMPTY);
}

/**
 * @brief Match free slots (EMPTY or DELETED), where an insert may go.
 * @param[in] ctrl  16 control bytes.
 * @return bit i set when ctrl[i] has its top bit set.
 */
static inline ht_mask ht_group_match_free(const uint8_t *ctrl)
{
#if defined(HT_GROUP_SSE2)
    return (ht_mask)_mm_movemask_epi8(_mm_loadu_si128((const __m128i *)(const void *)ctrl));
#elif defined(HT_GROUP_NEON)
    static const uint8_t w[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    uint8x16_t m = vandq_u8(vcgeq_u8(vld1q_u8(ctrl), vdupq_n_u8(0x80)), vld1q_u8(w));
    return (ht_mask)vaddv_u8(vget_low_u8(m)) | (ht_mask)vaddv_u8(vget_high_u8(m)) << 8;
#else
    return ht_group_match_free_swar(ctrl);
#endif
}

/**
 * @brief Name of the group-match implementation of this build.
 * @return "sse2", "neon" or "swar".
 */
static inline const char *ht_group_impl(void)
{
#if defined(HT_GROUP_SSE2)
    return "sse2";
#elif defined(HT_GROUP_NEON)
    return "neon";
#else
    return "swar";
#endif
}

/** @} */

#ifdef __cplusplus
}
#endif
#endif /* HT_PORT_H */
