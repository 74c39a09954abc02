/*
 * ht_port_user.c — the user-space port of the hash-table core (ht_port.h).
 *
 * Memory comes from kvlabs' kv_malloc()/kv_calloc()/kv_free(), so the
 * malloc-failure hook of kvlabs/alloc.h reaches every allocation of the
 * table and the tests can check that each failure leaves it unchanged.
 *
 * ht_port_alloc_size() is what makes the table's `mem_bytes` honest: on
 * glibc it is malloc_usable_size() plus the 8-byte chunk header, which is
 * exactly the space a block takes from the heap (glibc rounds every request
 * up to a multiple of 16, at least 32, header included). Under
 * AddressSanitizer malloc_usable_size() reports the requested size, so
 * the figure is then the request plus 8. Without glibc, the request is
 * rounded the way most allocators do (16-byte granules plus a header).
 *
 * Read sections and grace periods (the optimistic reads of ht_core.c) are
 * epoch-based reclamation, the scheme of userspace RCU's "memb" flavour:
 *
 *   - every thread that reads gets a reader slot, on a cache line of its
 *     own, once (registered in an append-only list; a thread's slot is
 *     given back when it exits and reused by the next new thread);
 *   - entering a section stores (epoch << 1) | 1 in the slot, leaving
 *     stores 0: plain stores to the thread's own line, no fence, no
 *     read-modify-write, so independent lookups overlap in the CPU and two
 *     threads reading never write a shared line;
 *   - a grace period for cookie C (= the epoch after ht_port_grace_start()
 *     bumped it) is over when no slot is inside a section entered at an
 *     epoch below C. The check first calls membarrier(), which makes every
 *     thread of the process execute a full barrier: afterwards a reader's
 *     slot store is visible to the check, or the reader's later loads see
 *     what the writer unlinked before. That is the fence readers skip.
 *
 * The process registers for membarrier() once, at start-up (below).
 * Without membarrier() (an old kernel, a seccomp filter), readers fence on
 * entry instead; under ThreadSanitizer, which does not model membarrier()
 * nor fences, entry is an atomic exchange. The cookie horizon already
 * checked is cached, so polling a finished grace period costs no call.
 *
 * Locks are POSIX reader-writer locks. Each lives in its own 64-byte-aligned
 * block (over-allocated and aligned by hand: kv_malloc has no aligned
 * variant), so two shards' locks never share a cache line: a writer on one
 * shard does not slow down readers of its neighbour. On glibc they prefer
 * writers (PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP): the default
 * prefers readers, and a steady stream of lookups on a hot shard could
 * then starve its writers forever.
 *
 * This file is not part of the kernel-portable core; it may use libc.
 */
#define _GNU_SOURCE /* pthread_rwlockattr_setkind_np */
#include <linux/membarrier.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ht_port.h"
#include "kvlabs/alloc.h"
#include "kvlabs/error.h"
#include "kvlabs/kv.h"

void *ht_port_alloc(size_t n)
{
    return kv_malloc(n);
}

void *ht_port_zalloc(size_t n)
{
    return kv_calloc(1, n);
}

void ht_port_not_implemented(const char *fn)
{
    kv_fail(KV_ENOTSUP, "not implemented: %s", fn);
}

void ht_port_free(void *p)
{
    kv_free(p);
}

size_t ht_port_alloc_size(const void *p, size_t n)
{
#if defined(__GLIBC__)
    size_t usable = malloc_usable_size((void *)p);

    return (usable > n ? usable : n) + sizeof(size_t);
#else
    (void)p;
    return ((n + 15) & ~(size_t)15) + 16;
#endif
}

/* A lock on a cache line of its own; `block` is what kv_malloc returned. */
struct ht_lock {
    pthread_rwlock_t rw;
    void *block;
};

#define LOCK_ALIGN 64
#define LOCK_BYTES (sizeof(struct ht_lock) + 2 * LOCK_ALIGN)

static int init_rwlock(pthread_rwlock_t *rw)
{
#if defined(__GLIBC__)
    pthread_rwlockattr_t attr;
    int rc;

    if (pthread_rwlockattr_init(&attr) != 0)
        return -1;
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    rc = pthread_rwlock_init(rw, &attr);
    pthread_rwlockattr_destroy(&attr);
    return rc;
#else
    return pthread_rwlock_init(rw, NULL);
#endif
}

ht_lock *ht_port_lock_create(size_t *mem)
{
    void *block = kv_malloc(LOCK_BYTES);
    ht_lock *l;

    if (!block)
        return NULL;
    l = (ht_lock *)(((uintptr_t)block + LOCK_ALIGN - 1) & ~(uintptr_t)(LOCK_ALIGN - 1));
    if (init_rwlock(&l->rw) != 0) {
        kv_free(block);
        return NULL;
    }
    l->block = block;
    if (mem)
        *mem = ht_port_alloc_size(block, LOCK_BYTES);
    return l;
}

void ht_port_lock_destroy(ht_lock *l)
{
    if (!l)
        return;
    pthread_rwlock_destroy(&l->rw);
    kv_free(l->block);
}

void ht_port_read_lock(ht_lock *l)
{
    pthread_rwlock_rdlock(&l->rw);
}

void ht_port_read_unlock(ht_lock *l)
{
    pthread_rwlock_unlock(&l->rw);
}

void ht_port_write_lock(ht_lock *l)
{
    pthread_rwlock_wrlock(&l->rw);
}

void ht_port_write_unlock(ht_lock *l)
{
    pthread_rwlock_unlock(&l->rw);
}

/* ---- read sections and grace periods ------------------------------------ */

/* A thread's reader slot, alone on its cache line. */
struct ht_reader {
    _Alignas(64) uint64_t state; /* 0: outside; (epoch << 1) | 1: inside */
    struct ht_reader *next;      /* the registry: append-only, never freed */
    int in_use;                  /* owned by a live thread */
};

static struct ht_reader *readers;  /* registry head (atomic) */
static pthread_mutex_t readers_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t readers_once = PTHREAD_ONCE_INIT;
static pthread_key_t reader_key;   /* gives a slot back at thread exit */
static uint64_t epoch = 1;         /* atomic; bumped by ht_port_grace_start() */
static uint64_t done_upto;         /* atomic; cookies up to this are over */
static int use_membarrier;         /* 1: registered; 0: readers fence */
static __thread struct ht_reader *me;

static long membarrier(int cmd)
{
    return syscall(__NR_membarrier, cmd, 0, 0);
}

static void reader_release(void *r)
{
    __atomic_store_n(&((struct ht_reader *)r)->state, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&((struct ht_reader *)r)->in_use, 0, __ATOMIC_RELEASE);
}

static void readers_init(void)
{
    (void)pthread_key_create(&reader_key, reader_release);
#if !defined(__SANITIZE_THREAD__)
    use_membarrier = membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
#endif
}

/*
 * Register for membarrier() when the program starts, while it still has one
 * thread: the kernel then has nothing to wait for (3 us measured here),
 * whereas registering from a process that already runs threads waits for an
 * RCU grace period (16 ms measured here), which a short benchmark stage or
 * test would pay at its first resize. Forked children inherit the
 * registration; a program that never reads a table pays the 3 us.
 */
__attribute__((constructor)) static void readers_init_at_start(void)
{
    pthread_once(&readers_once, readers_init);
}

/* This thread's slot: a free one of the registry, or a new one. Slots use
 * the C library's allocator, not kv_malloc: they live as long as the
 * process, like thread-local storage, and are not a table's memory. */
static struct ht_reader *reader_get(void)
{
    struct ht_reader *r;

    pthread_once(&readers_once, readers_init);
    pthread_mutex_lock(&readers_mu);
    for (r = readers; r; r = r->next)
        if (!__atomic_load_n(&r->in_use, __ATOMIC_ACQUIRE))
            break;
    if (!r) {
        r = aligned_alloc(64, sizeof(*r));
        if (r) {
            r->state = 0;
            r->next = readers;
            __atomic_store_n(&readers, r, __ATOMIC_RELEASE);
        }
    }
    if (r) {
        __atomic_store_n(&r->in_use, 1, __ATOMIC_RELAXED);
        (void)pthread_setspecific(reader_key, r);
    }
    pthread_mutex_unlock(&readers_mu);
    return r;
}

bool ht_port_read_enter(void)
{
    struct ht_reader *r = me;
    uint64_t st;

    if (ht_unlikely(!r) && !(r = me = reader_get()))
        return false;
    st = __atomic_load_n(&epoch, __ATOMIC_ACQUIRE) << 1 | 1;
#if defined(__SANITIZE_THREAD__)
    (void)__atomic_exchange_n(&r->state, st, __ATOMIC_SEQ_CST);
#else
    __atomic_store_n(&r->state, st, __ATOMIC_RELAXED);
    if (ht_likely(__atomic_load_n(&use_membarrier, __ATOMIC_RELAXED)))
        __atomic_signal_fence(__ATOMIC_SEQ_CST); /* the compiler's order only */
    else
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
    return true;
}

void ht_port_read_exit(void)
{
    __atomic_store_n(&me->state, 0, __ATOMIC_RELEASE);
}

uint64_t ht_port_grace_start(void)
{
    pthread_once(&readers_once, readers_init);
    return __atomic_add_fetch(&epoch, 1, __ATOMIC_SEQ_CST);
}

bool ht_port_grace_done(uint64_t cookie)
{
    uint64_t horizon, old;

    if (cookie <= __atomic_load_n(&done_upto, __ATOMIC_ACQUIRE))
        return true;
    /* Every cookie issued so far is over, unless a reader entered before it. */
    horizon = __atomic_load_n(&epoch, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&use_membarrier, __ATOMIC_RELAXED)) {
        if (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0) {
            /* never seen: readers fence from now on, and this check, which
             * could not make the readers' slots visible, says "not yet" */
            __atomic_store_n(&use_membarrier, 0, __ATOMIC_RELAXED);
            return false;
        }
    } else {
        ht_smp_mb();
    }
    for (struct ht_reader *r = __atomic_load_n(&readers, __ATOMIC_ACQUIRE); r; r = r->next) {
        uint64_t st = __atomic_load_n(&r->state, __ATOMIC_ACQUIRE);
        if ((st & 1) && (st >> 1) < horizon)
            horizon = st >> 1;
    }
    old = __atomic_load_n(&done_upto, __ATOMIC_RELAXED);
    while (old < horizon &&
           !__atomic_compare_exchange_n(&done_upto, &old, horizon, true, __ATOMIC_RELEASE,
                                        __ATOMIC_RELAXED))
        ;
    return cookie <= horizon;
}

void ht_port_grace_wait(uint64_t cookie)
{
    while (!ht_port_grace_done(cookie))
        sched_yield();
}
