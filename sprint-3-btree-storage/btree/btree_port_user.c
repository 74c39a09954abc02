/*
 * btree_port_user.c — the user-space port of the B+ tree core (bpt_port.h).
 *
 * Memory comes from kvlabs' kv_malloc()/kv_free(), so the malloc-failure
 * hook of kvlabs/alloc.h reaches every allocation of the tree and the tests
 * can check that each failure leaves it unchanged.
 *
 * bpt_port_alloc_size() is glibc's real cost of a request: the request
 * plus the 8-byte chunk header, rounded up to 16, at least 32 (the same
 * arithmetic as malloc's request2size). It depends only on the request,
 * as the port requires, so the tree's `mem` is exact without asking the
 * allocator (malloc_usable_size() is not exact under AddressSanitizer).
 *
 * The lock is a POSIX reader-writer lock preferring writers on glibc
 * (PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP): the default prefers
 * readers, and a steady stream of lookups could starve a writer forever.
 *
 * bpt_port_not_implemented() (called only by a starter kit's stubs) sets
 * kvlabs' error detail to "not implemented: FN" with status KV_ENOTSUP.
 *
 * This file is not part of the kernel-portable core; it may use libc.
 */
#define _GNU_SOURCE /* pthread_rwlockattr_setkind_np */
#include <pthread.h>

#include "bpt_port.h"
#include "kvlabs/alloc.h"
#include "kvlabs/error.h"
#include "kvlabs/kv.h"

struct bpt_port_lock {
    pthread_rwlock_t rw;
};

void *bpt_port_alloc(size_t n)
{
    return kv_malloc(n);
}

void bpt_port_free(void *p)
{
    kv_free(p);
}

size_t bpt_port_alloc_size(size_t n)
{
    size_t c = (n + sizeof(size_t) + 15) & ~(size_t)15;
    return c < 32 ? 32 : c;
}

void bpt_port_not_implemented(const char *fn)
{
    kv_fail(KV_ENOTSUP, "not implemented: %s", fn);
}

bpt_port_lock *bpt_port_lock_create(void)
{
    bpt_port_lock *l = kv_malloc(sizeof(*l));
    pthread_rwlockattr_t a;

    if (!l)
        return NULL;
    pthread_rwlockattr_init(&a);
#if defined(__GLIBC__)
    pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
#endif
    if (pthread_rwlock_init(&l->rw, &a) != 0) {
        pthread_rwlockattr_destroy(&a);
        kv_free(l);
        return NULL;
    }
    pthread_rwlockattr_destroy(&a);
    return l;
}

void bpt_port_lock_destroy(bpt_port_lock *l)
{
    if (!l)
        return;
    pthread_rwlock_destroy(&l->rw);
    kv_free(l);
}

void bpt_port_read_lock(bpt_port_lock *l)
{
    pthread_rwlock_rdlock(&l->rw);
}

void bpt_port_read_unlock(bpt_port_lock *l)
{
    pthread_rwlock_unlock(&l->rw);
}

void bpt_port_write_lock(bpt_port_lock *l)
{
    pthread_rwlock_wrlock(&l->rw);
}

void bpt_port_write_unlock(bpt_port_lock *l)
{
    pthread_rwlock_unlock(&l->rw);
}
