/*
 * cow_freelist.c — which page numbers the writer may reuse.
 *
 * Two lists. `free`: pages no version anyone can read still uses; the
 * writer pops from it before growing the file. `pend`: pages a committed
 * transaction replaced or dropped, tagged with that transaction's id t;
 * they stay readable by every snapshot older than t. A page written
 * before the last checkpoint may also be named by the durable meta's tree:
 * it waits in the `disk` FIFO until a checkpoint at t or later is durable;
 * a page created after the last checkpoint (its txnid is newer) was never
 * written, and waits in the `mem` FIFO for the snapshots only.
 * cow_fl_release(oldest, ckpt) moves to `free` every `mem` page with
 * t <= oldest and every `disk` page with t <= min(oldest, ckpt): a page is
 * reused only when no live snapshot can see it and no meta that recovery
 * could choose refers to it. Entries arrive in commit order, so both are
 * FIFOs sorted by t.
 *
 * The freelist is not persisted: open rebuilds it by walking the inner
 * pages of the chosen meta's tree; every page below next_pgno that the
 * walk does not reach is free (docs/formats/cowbtree.md, "Freelist").
 *
 * Writer only: no locking. cow_fl_reserve() first, so that push and defer
 * cannot fail in the middle of a commit or an abort.
 */
#include <string.h>

#include "kvlabs/alloc.h"
#include "kvlabs/error.h"
#include "cow_int.h"

void cow_fl_init(cow_freelist *fl)
{
    memset(fl, 0, sizeof(*fl));
}

void cow_fl_destroy(cow_freelist *fl)
{
    kv_free(fl->free);
    kv_free(fl->mem.e);
    kv_free(fl->disk.e);
    memset(fl, 0, sizeof(*fl));
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    size_t nc = *cap ? *cap : 64;
    void *q;
    if (need <= *cap)
        return KV_OK;
    while (nc < need)
        nc *= 2;
    q = kv_realloc(*p, nc * elem);
    if (!q)
        return KV_ENOMEM;
    *p = q;
    *cap = nc;
    return KV_OK;
}

static int fifo_reserve(cow_fifo *q, size_t more)
{
    if (q->head > 0 && q->head * 2 >= q->n) { /* compact */
        memmove(q->e, q->e + q->head, (q->n - q->head) * sizeof(*q->e));
        q->n -= q->head;
        q->head = 0;
    }
    return grow((void **)&q->e, &q->cap, q->n + more, sizeof(*q->e));
}

int cow_fl_reserve(cow_freelist *fl, size_t more_free, size_t more_pending)
{
    if (grow((void **)&fl->free, &fl->capfree, fl->nfree + more_free, sizeof(*fl->free)) ||
        fifo_reserve(&fl->mem, more_pending) || fifo_reserve(&fl->disk, more_pending))
        return kv_fail(KV_ENOMEM, "cowbtree: out of memory for the freelist");
    return KV_OK;
}

bool cow_fl_pop(cow_freelist *fl, uint64_t *pgno)
{
    if (fl->nfree == 0)
        return false;
    *pgno = fl->free[--fl->nfree];
    return true;
}

void cow_fl_push(cow_freelist *fl, uint64_t pgno)
{
    if (fl->nfree >= fl->capfree)
        return; /* not reserved: the page leaks until the next open (never reused twice) */
    fl->free[fl->nfree++] = pgno;
}

void cow_fl_defer(cow_freelist *fl, uint64_t pgno, uint64_t txn, bool on_disk)
{
    cow_fifo *q = on_disk ? &fl->disk : &fl->mem;
    if (q->n >= q->cap)
        return; /* as above */
    q->e[q->n].pgno = pgno;
    q->e[q->n].txn = txn;
    q->n++;
}

/* STUB:
size_t cow_fl_release(cow_freelist *fl, uint64_t oldest, uint64_t ckpt)
{
(void)fl; (void)oldest; (void)ckpt;
return 0;
}
size_t cow_fl_pending(const cow_freelist *fl)
{
return (fl->mem.n - fl->mem.head) + (fl->disk.n - fl->disk.head);
}
*/
/* BEGIN SOLUTION */
static size_t drain(cow_freelist *fl, cow_fifo *q, uint64_t upto)
{
    size_t moved = 0;
    while (q->head < q->n && q->e[q->head].txn <= upto &&
           grow((void **)&fl->free, &fl->capfree, fl->nfree + 1, sizeof(*fl->free)) == KV_OK) {
        fl->free[fl->nfree++] = q->e[q->head++].pgno;
        moved++;
    }
    return moved;
}


size_t cow_fl_release(cow_freelist *fl, uint64_t oldest, uint64_t ckpt)
{
    return drain(fl, &fl->mem, oldest) + drain(fl, &fl->disk, oldest < ckpt ? oldest : ckpt);
}

size_t cow_fl_pending(const cow_freelist *fl)
{
    return (fl->mem.n - fl->mem.head) + (fl->disk.n - fl->disk.head);
}
/* END SOLUTION */
