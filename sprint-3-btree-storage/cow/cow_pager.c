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
 * Frames. Each page's bytes follow a small header (cow_frame) in one
 * allocation: its pin count, whether the bytes equal the file's (`ondisk`:
 * loaded from the file, or written by a checkpoint; a page the writer
 * created or reused since is not), and a reference bit. The page's search
 * index (cow_pidx, in memory only) follows its bytes: built here when a
 * page is loaded, by the tree when it builds one.
 *
 * Pins. cow_pager_pin()/cow_pager_unpin() count the holders of one page
 * (and, in `pins`, of all pages: the tools and tests check that every pin
 * is released). A pinned page is never evicted.
 *
 * Eviction (`cache=` bytes; cow_pager_set_cache, after open; 0: none, the
 * cache grows to the pages touched). When a load puts more than `cap` pages
 * in memory, the loader sweeps a clock hand over the page table under
 * load_lock: a page that is unpinned, `ondisk` and not referenced since the
 * last sweep is unpublished (its slot set to NULL by compare-and-swap);
 * a referenced one loses its bit (second chance). Only `ondisk` pages go:
 * reloading them gives the same bytes; a page written since the last
 * checkpoint exists only here (it stays, so `cap` is a soft limit between
 * checkpoints). An unpublished buffer may still be in use by a reader that
 * loaded its pointer before: it is retired with the current epoch and freed
 * once every reader and the writer entered a later epoch (cow_snap.c,
 * cow_snap_enter: epoch-based reclamation). A long reader therefore delays
 * the freeing of what is evicted while it runs, not the eviction.
 * cow_pager_fresh takes load_lock when eviction is on, so the evictor never
 * unpublishes a buffer the writer is overwriting.
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
#define FRAME sizeof(cow_frame)

static cow_frame *frame_of(const unsigned char *p)
{
    return (cow_frame *)(uintptr_t)(p - FRAME);
}

/* a page buffer with its frame: not pinned, not on disk, referenced. The
   bytes are zeroed: a page built in it leaves its free space unwritten, and
   the CRC (and the file) would otherwise cover uninitialised memory. */
static unsigned char *page_alloc(uint32_t psize)
{
    unsigned char *b = kv_calloc(1, FRAME + psize + cow_pidx_size(psize));
    cow_frame *f = (cow_frame *)b;
    if (!b)
        return NULL;
    atomic_init(&f->pins, 0);
    atomic_init(&f->ondisk, false);
    atomic_init(&f->ref, true);
    return b + FRAME;
}

static void page_free(unsigned char *p)
{
    if (p)
        kv_free(p - FRAME);
}

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
            page_free(atomic_load(&c[i]));
        kv_free(c);
    }
    for (size_t i = 0; i < pg->nret; i++)
        page_free(pg->ret[i].p);
    kv_free(pg->ret);
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

static void note_hi(cow_pager *pg, uint64_t pgno)
{
    uint64_t h = atomic_load(&pg->hi);
    while (h < pgno + 1 && !atomic_compare_exchange_weak(&pg->hi, &h, pgno + 1))
        ;
}

/* Free the retired buffers no reader or writer can still hold. */
static void reclaim(cow_pager *pg)
{
    uint64_t min = cow_snap_min_epoch(pg->snaps);
    size_t keep = 0;
    for (size_t i = 0; i < pg->nret; i++) {
        if (pg->ret[i].epoch < min)
            page_free(pg->ret[i].p);
        else
            pg->ret[keep++] = pg->ret[i];
    }
    pg->nret = keep;
}

/* Sweep the clock hand until at most cap pages are in memory (or two full
 * turns found nothing more to evict); never the page `keep` just loaded.
 * A sweep that left more than cap + 1 (the rest is dirty or pinned) is
 * not tried again until loaded grows by hi/16 pages (at least 64) or a
 * checkpoint writes the dirty pages: two turns cost 2 * hi steps, and
 * repeating them at every load and every fresh page while more than cap
 * pages are dirty (a random load with `cache=` small, between checkpoints)
 * made each commit cost O(pages in the file). load_lock held. */
static void evict_locked(cow_pager *pg, uint64_t keep)
{
    uint64_t hi = atomic_load(&pg->hi), steps;

    if (atomic_load(&pg->loaded) <= pg->retry_at)
        return;
    for (steps = 0; steps < 2 * hi && atomic_load(&pg->loaded) > pg->cap; steps++) {
        uint64_t pgno = pg->hand++ % (hi ? hi : 1);
        cow_pslot *s = pgno >= 2 ? slot_of(pg, pgno, false) : NULL;
        unsigned char *p = s ? atomic_load(s) : NULL;
        cow_frame *f;
        if (!p || pgno == keep)
            continue;
        f = frame_of(p);
        if (atomic_load(&f->pins) || !atomic_load(&f->ondisk))
            continue;
        if (atomic_exchange(&f->ref, false))
            continue; /* second chance */
        if (pg->nret == pg->capret) {
            size_t nc = pg->capret ? pg->capret * 2 : 64;
            cow_retired *r = kv_realloc(pg->ret, nc * sizeof(*r));
            if (!r)
                break; /* no room to retire: keep the page */
            pg->ret = r;
            pg->capret = nc;
        }
        if (!atomic_compare_exchange_strong(s, &p, NULL))
            continue;
        pg->ret[pg->nret].p = p;
        pg->ret[pg->nret++].epoch = atomic_fetch_add(&pg->snaps->epoch, 1);
        atomic_fetch_sub(&pg->loaded, 1);
        atomic_fetch_add(&pg->evictions, 1);
    }
    /* over cap + 1 (`keep` goes at the next sweep): the rest cannot go now */
    pg->retry_at = atomic_load(&pg->loaded) > pg->cap + 1
                       ? atomic_load(&pg->loaded) + (hi / 16 > 64 ? hi / 16 : 64)
                       : 0;
    reclaim(pg);
}

static void evict(cow_pager *pg, uint64_t keep)
{
    pthread_mutex_lock(&pg->load_lock);
    evict_locked(pg, keep);
    pthread_mutex_unlock(&pg->load_lock);
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
    p = atomic_load(s);
    if (p) {
        cow_frame *f = frame_of(p);
        if (pg->cap && !atomic_load_explicit(&f->ref, memory_order_relaxed))
            atomic_store_explicit(&f->ref, true, memory_order_relaxed);
        *out = p;
        return KV_OK;
    }
    p = page_alloc(pg->psize);
    if (!p)
        return kv_fail(KV_ENOMEM, "cowbtree: out of memory for a page");
    rc = cow_pager_read_raw(pg, pgno * pg->psize, p, pg->psize);
    if (rc == KV_OK && cow_page_check(p, pg->psize, pgno) != KV_OK)
        rc = kv_fail(KV_ECORRUPT, "cowbtree: page %llu fails its checksum or structure check",
                     (unsigned long long)pgno);
    if (rc != KV_OK) {
        page_free(p);
        return rc;
    }
    cow_page_index(p, pg->psize);
    atomic_store(&frame_of(p)->ondisk, true);
    atomic_fetch_add(&pg->loads, 1);
    if (atomic_compare_exchange_strong(s, &expect, p)) {
        atomic_fetch_add(&pg->loaded, 1);
        note_hi(pg, pgno);
        *out = p;
        if (pg->cap && atomic_load(&pg->loaded) > pg->cap)
            evict(pg, pgno);
    } else {
        page_free(p); /* another reader installed it first */
        *out = expect;
    }
    return KV_OK;
}

/* A pin taken under load_lock when eviction is on: the evictor, which holds
   it, then either sees the pin or has already unpublished the page (we then
   load it again). */
int cow_pager_pin(cow_pager *pg, uint64_t pgno, const unsigned char **out)
{
    for (;;) {
        cow_pslot *s;
        int rc = cow_pager_get(pg, pgno, out);
        bool still = true;
        if (rc != KV_OK)
            return rc;
        if (pg->cap)
            pthread_mutex_lock(&pg->load_lock);
        s = slot_of(pg, pgno, false);
        if (pg->cap)
            still = s && atomic_load(s) == *out;
        if (still)
            atomic_fetch_add(&frame_of(*out)->pins, 1);
        if (pg->cap)
            pthread_mutex_unlock(&pg->load_lock);
        if (still)
            break;
    }
    atomic_fetch_add(&pg->pins, 1);
    return KV_OK;
}

void cow_pager_unpin(cow_pager *pg, const unsigned char *page)
{
    atomic_fetch_sub(&frame_of(page)->pins, 1);
    atomic_fetch_sub(&pg->pins, 1);
}

void cow_pager_set_cache(cow_pager *pg, uint64_t pages, cow_snapreg *snaps)
{
    pthread_mutex_lock(&pg->load_lock);
    pg->snaps = snaps;
    pg->cap = pages;
    pthread_mutex_unlock(&pg->load_lock);
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
    if (pg->cap)
        pthread_mutex_lock(&pg->load_lock); /* not while the evictor sweeps */
    p = atomic_load(s);
    if (!p) {
        p = page_alloc(pg->psize);
        if (!p) {
            if (pg->cap)
                pthread_mutex_unlock(&pg->load_lock);
            pg->dirty[pgno] = 0;
            return kv_fail(KV_ENOMEM, "cowbtree: out of memory for a page");
        }
        atomic_store(s, p);
        atomic_fetch_add(&pg->loaded, 1);
        note_hi(pg, pgno);
    }
    atomic_store(&frame_of(p)->ondisk, false); /* the writer changes it: only here now */
    if (pg->cap) {
        if (atomic_load(&pg->loaded) > pg->cap)
            evict_locked(pg, pgno);
        pthread_mutex_unlock(&pg->load_lock);
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
        atomic_store(&frame_of(p)->ondisk, true);
        (*written)++;
    }
    pg->ndlist = keep;
    if (pg->cap && atomic_load(&pg->loaded) > pg->cap) {
        pthread_mutex_lock(&pg->load_lock);
        pg->retry_at = 0; /* the pages just written may go now */
        evict_locked(pg, UINT64_MAX);
        pthread_mutex_unlock(&pg->load_lock);
    }
    return rc;
}
