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
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>

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
