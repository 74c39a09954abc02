/*
 * cow_snap.c — the snapshot registry: which versions readers still use.
 *
 * The registry holds the newest committed version (txnid, root, counts) and
 * a table of reader slots, each empty (COW_NO_TXN) or holding the txnid a
 * reader is reading. A reader acquires under the registry's mutex: it
 * copies the current version and writes its txnid into a free slot in one
 * step, so the writer, which computes the oldest version still read under
 * the same mutex (cow_snap_oldest), never misses a reader that is about to
 * read a version it is freeing. Releasing is one atomic store, without the
 * mutex: a writer that still sees the slot only keeps pages a little
 * longer. This is LMDB's reader table, in one process and with a mutex
 * where LMDB uses a careful ordering of stores.
 *
 * What callers must not do: read pages of a version without holding a slot
 * for it; release a slot twice.
 */
#include <string.h>

#include "kvlabs/error.h"
#include "cow_int.h"

void cow_snap_init(cow_snapreg *r, const cow_version *v)
{
    pthread_mutex_init(&r->lock, NULL);
    r->cur = *v;
    for (int i = 0; i < COW_READERS; i++)
        atomic_init(&r->slot[i], COW_NO_TXN);
    atomic_init(&r->live, 0);
    atomic_init(&r->epoch, 0);
    for (int i = 0; i <= COW_READERS; i++)
        atomic_init(&r->ep[i], 0);
}

void cow_snap_destroy(cow_snapreg *r)
{
    pthread_mutex_destroy(&r->lock);
}

int cow_snap_acquire(cow_snapreg *r, cow_version *v, int *slot)
{
    int rc = KV_EBUSY;
    pthread_mutex_lock(&r->lock);
    for (int i = 0; i < COW_READERS; i++) {
        if (atomic_load_explicit(&r->slot[i], memory_order_relaxed) == COW_NO_TXN) {
            atomic_store(&r->slot[i], r->cur.txnid);
            *v = r->cur;
            *slot = i;
            atomic_fetch_add(&r->live, 1);
            cow_snap_enter(r, i);
            rc = KV_OK;
            break;
        }
    }
    pthread_mutex_unlock(&r->lock);
    if (rc != KV_OK)
        return kv_fail(rc, "cowbtree: all %d reader slots are in use", COW_READERS);
    return rc;
}

void cow_snap_release(cow_snapreg *r, int slot)
{
    cow_snap_exit(r, slot);
    atomic_fetch_sub(&r->live, 1);
    atomic_store_explicit(&r->slot[slot], COW_NO_TXN, memory_order_release);
}

void cow_snap_publish(cow_snapreg *r, const cow_version *v)
{
    pthread_mutex_lock(&r->lock);
    r->cur = *v;
    pthread_mutex_unlock(&r->lock);
}

void cow_snap_current(cow_snapreg *r, cow_version *v)
{
    pthread_mutex_lock(&r->lock);
    *v = r->cur;
    pthread_mutex_unlock(&r->lock);
}

uint64_t cow_snap_oldest(cow_snapreg *r)
{
    uint64_t m;
    pthread_mutex_lock(&r->lock);
    m = r->cur.txnid;
    for (int i = 0; i < COW_READERS; i++) {
        uint64_t s = atomic_load(&r->slot[i]);
        if (s < m)
            m = s;
    }
    pthread_mutex_unlock(&r->lock);
    return m;
}

/* Epochs. A user of pages (a reader slot, or the writer at COW_READERS)
 * enters before it reads any page pointer and exits after its last use. The
 * pager's evictor unpublishes a page, then ticks the epoch and tags the
 * buffer with the old value E; it frees the buffer once every entered user
 * entered after E (cow_snap_min_epoch() > E). Both sides use seq_cst: a user
 * that entered at e <= E may have loaded the pointer before it was
 * unpublished; one that entered at e > E loads it after, and misses it. */
void cow_snap_enter(cow_snapreg *r, int idx)
{
    atomic_store(&r->ep[idx], atomic_load(&r->epoch) + 1);
}

void cow_snap_exit(cow_snapreg *r, int idx)
{
    atomic_store(&r->ep[idx], 0);
}

uint64_t cow_snap_min_epoch(cow_snapreg *r)
{
    uint64_t m = UINT64_MAX;
    for (int i = 0; i <= COW_READERS; i++) {
        uint64_t e = atomic_load(&r->ep[i]);
        if (e && e - 1 < m)
            m = e - 1;
    }
    return m;
}
