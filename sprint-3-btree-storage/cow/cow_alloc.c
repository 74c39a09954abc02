/*
 * cow_alloc.c — a write transaction's pages: where the tree (cow_tree.c)
 * gets a fresh page for each copy it makes, and where it gives back the
 * page a copy replaces. It sits below the tree and above the freelist and
 * the pager, so the tree never calls up into the transactions (cow_txn.c),
 * which call the tree.
 *
 * How it works: cow_txn_alloc_page() takes, in this order, a page the same
 * transaction allocated and then released (its spare list), a page of the
 * freelist (cow_freelist.c), or a new page at the end of the file
 * (next_pgno); the pager gives it fresh, dirty bytes. Every page taken from
 * the freelist or the end of the file is listed in allocd, so an abort
 * (cow_txn.c) can give them all back. cow_txn_free_page() sorts a replaced
 * page by the transaction that wrote it: one of this transaction's own goes
 * back to the spare list at once (no snapshot can see it); an older one is
 * listed in freed with its txnid, and becomes pending at commit.
 * cow_txn_reserve() makes room, before a tree change, for every free that
 * change can make, so cow_txn_free_page() cannot fail half-way through a
 * split or a merge.
 *
 * What callers must not do: call these without the writer lock, or on a
 * read transaction; free a page without a cow_txn_reserve() since the last
 * change began.
 */
#include "kvlabs/alloc.h"
#include "kvlabs/error.h"
#include "cow_int.h"

static int grow64(uint64_t **p, size_t *cap, size_t need)
{
    size_t nc = *cap ? *cap : 32;
    uint64_t *q;
    if (need <= *cap)
        return KV_OK;
    while (nc < need)
        nc *= 2;
    q = kv_realloc(*p, nc * sizeof(*q));
    if (!q)
        return kv_fail(KV_ENOMEM, "cowbtree: out of memory for a transaction");
    *p = q;
    *cap = nc;
    return KV_OK;
}

int cow_txn_reserve(cow_txn *t)
{
    size_t more = 4 * COW_MAX_DEPTH + 8;
    int rc = grow64(&t->freed, &t->capfreed, t->nfreed + more);
    if (rc == KV_OK)
        rc = grow64(&t->spare, &t->capspare, t->nspare + more);
    return rc;
}

int cow_txn_alloc_page(cow_txn *t, uint64_t *pgno, unsigned char **page)
{
    cow_db *db = t->db;
    uint64_t n;
    bool from_spare = false, from_fl = false;
    int rc;

    if (t->nspare > 0) {
        n = t->spare[--t->nspare];
        from_spare = true;
    } else {
        rc = grow64(&t->allocd, &t->capallocd, t->nallocd + 1);
        if (rc == KV_OK)
            rc = grow64(&t->spare, &t->capspare, t->nallocd + 2 * COW_MAX_DEPTH + 4);
        if (rc == KV_OK)
            rc = cow_fl_reserve(&db->fl, t->nallocd + 1, 0);
        if (rc != KV_OK)
            return rc;
        from_fl = cow_fl_pop(&db->fl, &n);
        if (!from_fl)
            n = db->next_pgno;
    }
    rc = cow_pager_fresh(&db->pg, n, page);
    if (rc != KV_OK) {
        if (from_spare)
            t->spare[t->nspare++] = n;
        else if (from_fl)
            cow_fl_push(&db->fl, n);
        return rc;
    }
    if (!from_spare) {
        if (!from_fl)
            db->next_pgno++;
        t->allocd[t->nallocd++] = n;
    }
    *pgno = n;
    return KV_OK;
}

int cow_txn_free_page(cow_txn *t, uint64_t pgno, uint64_t page_txn)
{
    if (page_txn == t->v.txnid) {
        assert(t->nspare < t->capspare);
        t->spare[t->nspare++] = pgno;
        if (pgno < t->db->pg.dirty_cap)
            t->db->pg.dirty[pgno] = 0;
    } else {
        assert(t->nfreed + 1 < t->capfreed);
        t->freed[t->nfreed++] = pgno;
        t->freed[t->nfreed++] = page_txn;
    }
    return KV_OK;
}
