/*
 * cow_pager.c — the page table: page number -> page bytes in memory.
 *
 * How it works. A two-level table of atomic pointers (COW_DIR_N chunks of
 * 4096 slots) maps a page number to its bytes. A reader that finds a slot
 * empty reads the page from the file, checks it (cow_page_check: CRC32C,
 * own page number, cell bounds, key order) and installs it with a
 * compare-and-swap, so two readers loading the same page agree on one copy
 * and the lookup path takes no lock. The writer installs pages it creates
 * (cow_pager_fresh); since a page number is reused only when no snapshot
 * can see its old contents (cow_freelist.c), the writer may overwrite a
 * reused page's buffer while readers run.
 *
 * Pins. cow_pager_pin()/cow_pager_unpin() count the pages a caller holds
 * (the tools and tests check that every pin is released). Pages stay in
 * memory until close: this version has no eviction, so `cache=` is
 * accepted and ignored and the cache grows to the pages touched (the
 * freelist's snapshot rule is what would make eviction safe: a page no
 * live snapshot can reach and that is clean may be dropped).
 *
 * Dirty pages. Pages the writer created since the last checkpoint are
 * dirty (a byte per page number, and a list); cow_pager_flush() seals each
 * (computes its CRC) and writes it at pgno * page_size, then the caller
 * fsyncs. Pages freed before a checkpoint are marked clean and never
 * written.
 *
 * What callers must not do: call fresh/mark_dirty/flush without the writer
 * lock; keep a page pointer beyond the snapshot that reached it.
 */
#include <string.h>

#include "kvlabs/alloc.h"
#include "kvlabs/error.h"
#include "cow_int.h"

#define CHUNK ((size_t)1 << COW_DIR_BITS)

void cow_pager_init(cow_pager *pg, const kv_env *env, kv_file *f, uint32_t psize)
{
    memset(pg, 0, sizeof(*pg));
    pg->env = env;
    pg->f = f;
    pg->psize = psize;
    pthread_mutex_init(&pg->load_lock, NULL);
}

void cow_pager_destroy(cow_pager *pg)
{
    for (size_t d = 0; d < COW_DIR_N; d++) {
        cow_pslot *c = atomic_load(&pg->dir[d]);
        if (!c)
            continue;
        for (size_t i = 0; i < CHUNK; i++)
            kv_free(atomic_load(&c[i]));
        kv_free(c);
    }
    kv_free(pg->dirty);
    kv_free(pg->dlist);
    pthread_mutex_destroy(&pg->load_lock);
}

static cow_pslot *slot_of(cow_pager *pg, uint64_t pgno, bool create)
{
    size_t d = (size_t)(pgno >> COW_DIR_BITS);
    cow_pslot *c;

    if (d >= COW_DIR_N)
        return NULL;
    c = atomic_load_explicit(&pg->dir[d], memory_order_acquire);
    if (!c && create) {
        cow_pslot *n = kv_calloc(CHUNK, sizeof(*n));
        cow_pslot *expect = NULL;
        if (!n)
            return NULL;
        if (atomic_compare_exchange_strong(&pg->dir[d], &expect, n)) {
            c = n;
        } else {
            kv_free(n);
            c = expect;
        }
    }
    return c ? &c[pgno & (CHUNK - 1)] : NULL;
}

int cow_pager_read_raw(cow_pager *pg, uint64_t off, void *buf, size_t n)
{
    size_t got = 0;
    int rc = kv_file_pread(pg->f, buf, n, off, &got);
    if (rc != KV_OK)
        return rc;
    if (got != n)
        return kv_fail(KV_ECORRUPT, "cowbtree: short read at offset %llu (file cut?)",
                       (unsigned long long)off);
    return KV_OK;
}

int cow_pager_get(cow_pager *pg, uint64_t pgno, const unsigned char **out)
{
    cow_pslot *s;
    unsigned char *p, *expect = NULL;
    int rc;

    if (pgno < 2)
        return kv_fail(KV_ECORRUPT, "cowbtree: reference to meta page %llu as a tree page",
                       (unsigned long long)pgno);
    s = slot_of(pg, pgno, true);
    if (!s)
        return pgno >> COW_DIR_BITS >= COW_DIR_N
                   ? kv_fail(KV_ECORRUPT, "cowbtree: page number %llu out of range",
                             (unsigned long long)pgno)
                   : kv_fail(KV_ENOMEM, "cowbtree: out of memory for the page table");
    p = atomic_load_explicit(s, memory_order_acquire);
    if (p) {
        *out = p;
        return KV_OK;
    }
    p = kv_malloc(pg->psize);
    if (!p)
        return kv_fail(KV_ENOMEM, "cowbtree: out of memory for a page");
    rc = cow_pager_read_raw(pg, pgno * pg->psize, p, pg->psize);
    if (rc == KV_OK && cow_page_check(p, pg->psize, pgno) != KV_OK)
        rc = kv_fail(KV_ECORRUPT, "cowbtree: page %llu fails its checksum or structure check",
                     (unsigned long long)pgno);
    if (rc != KV_OK) {
        kv_free(p);
        return rc;
    }
    atomic_fetch_add(&pg->loads, 1);
    if (atomic_compare_exchange_strong(s, &expect, p)) {
        atomic_fetch_add(&pg->loaded, 1);
        *out = p;
    } else {
        kv_free(p); /* another reader installed it first */
        *out = expect;
    }
    return KV_OK;
}

int cow_pager_pin(cow_pager *pg, uint64_t pgno, const unsigned char **out)
{
    int rc = cow_pager_get(pg, pgno, out);
    if (rc == KV_OK)
        atomic_fetch_add(&pg->pins, 1);
    return rc;
}

void cow_pager_unpin(cow_pager *pg)
{
    atomic_fetch_sub(&pg->pins, 1);
}

int cow_pager_mark_dirty(cow_pager *pg, uint64_t pgno, bool dirty)
{
    if (pgno >= pg->dirty_cap) {
        size_t nc = pg->dirty_cap ? pg->dirty_cap : 1024;
        uint8_t *d;
        while (nc <= pgno)
            nc *= 2;
        d = kv_realloc(pg->dirty, nc);
        if (!d)
            return kv_fail(KV_ENOMEM, "cowbtree: out of memory for the dirty map");
        memset(d + pg->dirty_cap, 0, nc - pg->dirty_cap);
        pg->dirty = d;
        pg->dirty_cap = nc;
    }
    if (dirty && !pg->dirty[pgno]) {
        if (pg->ndlist == pg->capdlist) {
            size_t nc = pg->capdlist ? pg->capdlist * 2 : 1024;
            uint64_t *l = kv_realloc(pg->dlist, nc * sizeof(*l));
            if (!l)
                return kv_fail(KV_ENOMEM, "cowbtree: out of memory for the dirty list");
            pg->dlist = l;
            pg->capdlist = nc;
        }
        pg->dlist[pg->ndlist++] = pgno;
    }
    pg->dirty[pgno] = dirty;
    return KV_OK;
}

int cow_pager_fresh(cow_pager *pg, uint64_t pgno, unsigned char **out)
{
    cow_pslot *s = slot_of(pg, pgno, true);
    unsigned char *p;

    if (!s)
        return kv_fail(pgno >> COW_DIR_BITS >= COW_DIR_N ? KV_EFULL : KV_ENOMEM,
                       "cowbtree: cannot map page %llu", (unsigned long long)pgno);
    if (cow_pager_mark_dirty(pg, pgno, true) != KV_OK)
        return KV_ENOMEM;
    p = atomic_load(s);
    if (!p) {
        p = kv_malloc(pg->psize);
        if (!p) {
            pg->dirty[pgno] = 0;
            return kv_fail(KV_ENOMEM, "cowbtree: out of memory for a page");
        }
        atomic_store_explicit(s, p, memory_order_release);
        atomic_fetch_add(&pg->loaded, 1);
    }
    *out = p;
    return KV_OK;
}

int cow_pager_flush(cow_pager *pg, uint64_t *written)
{
    size_t keep = 0;
    int rc = KV_OK;

    *written = 0;
    for (size_t i = 0; i < pg->ndlist; i++) {
        uint64_t pgno = pg->dlist[i];
        unsigned char *p;
        if (!pg->dirty[pgno])
            continue;
        if (rc != KV_OK) {
            pg->dlist[keep++] = pgno;
            continue;
        }
        p = atomic_load(slot_of(pg, pgno, false));
        cow_page_seal(p, pg->psize);
        rc = kv_file_pwrite(pg->f, p, pg->psize, pgno * pg->psize);
        if (rc != KV_OK) {
            pg->dlist[keep++] = pgno;
            continue;
        }
        pg->dirty[pgno] = 0;
        (*written)++;
    }
    pg->ndlist = keep;
    return rc;
}
