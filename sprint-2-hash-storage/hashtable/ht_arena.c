/*
 * ht_arena.c — where a shard's entries live, and when memory a lock-free
 * reader may still be reading is freed.
 *
 * Inline entries. An entry of up to HT_INLINE_MAX bytes (strategy prefix +
 * lengths + key + value) is a CELL of its shard's arena, not an allocation
 * of its own:
 *
 *   slab ─► [ ht_slab | cell | cell | cell ... | unused ]    newest slab first
 *              next, size   ^ bump pointer carves new cells here
 *
 *   free[c] ─► cell ─► cell ─► NULL     freed cells of class c (c+1 grains
 *                                        of 8 bytes), linked through their
 *                                        LAST 8 bytes
 *
 * A cell is the block rounded up to 8 bytes: no allocator header, no
 * 16-byte rounding (glibc's malloc adds 8 and rounds to 16), so a 16-byte
 * key with a 100-byte value costs 136 bytes in a Swiss table instead of
 * 144. Cells are carved in insertion order, so entries put together sit
 * together. A freed cell goes to the free list of its class and is reused
 * by the next entry of that class in this shard; slabs are freed only by
 * ht_destroy(). Slabs grow with the arena (1/32 of it, from 1 KiB to
 * 256 KiB), so the unused tail of the newest slab stays a small part of it
 * (half a slab per shard on average: at 10M entries in 64 shards, about
 * 1 byte per entry).
 *
 * Why cells are never freed while the table lives: the optimistic reads of
 * ht_core.c follow entry pointers without the lock, and a pointer read
 * just before a delete may be followed just after it. The memory it points
 * to must still be readable (a reused cell holds another entry, or a free
 * link: garbage the sequence counter then throws away), and the cell's
 * lengths must still fit in the cell: a cell keeps its class for life and
 * its link is in its last bytes, so the lengths at its start are those of
 * some entry of that class.
 *
 * Retired memory. Larger entries (their own allocation) and arrays left
 * behind by a resize are not reused but freed, so they are RETIRED: put on
 * the shard's limbo list with a grace-period cookie (ht_port_grace_start())
 * and freed once ht_port_grace_done() says every reader that could have
 * seen them has left its read section (epoch-based reclamation; in the
 * kernel, RCU). Writers call ht_reclaim() as they go; the list is short
 * (resizes are rare, and large entries are few or big). Retiring never
 * allocates, so it cannot fail: a large block has room for its list node
 * after the entry (ht_large_bytes()), and the node for an array is
 * reserved when its resize starts (ht_retire_reserve(), whose failure is
 * the resize's HT_ENOMEM, with nothing changed).
 *
 * Everything here runs under the shard's write lock (or in ht_destroy()).
 * Kernel-portable: core file, includes only the core's headers.
 */
#include "hashtable_int.h"

/* The head of a slab. */
typedef struct ht_slab {
    struct ht_slab *next;
    uint64_t bytes; /* what was allocated */
} ht_slab;

#define SLAB_MIN ((size_t)1 << 10)
#define SLAB_MAX ((size_t)1 << 18)

/* Free cells are linked through their last 8 bytes. */
static void **cell_link(void *cell, size_t size)
{
    return (void **)(void *)((unsigned char *)cell + size - sizeof(void *));
}

static unsigned cell_class(size_t size)
{
    return (unsigned)(size / HT_CELL_GRAIN) - 1;
}

/* A new slab large enough for one cell of `size`; false: out of memory. */
static bool arena_grow(ht_arena *a, size_t size)
{
    size_t bytes = (size_t)(a->mem / 32) & ~(SLAB_MIN - 1);
    ht_slab *sl;

    if (bytes < SLAB_MIN)
        bytes = SLAB_MIN;
    if (bytes > SLAB_MAX)
        bytes = SLAB_MAX;
    if (bytes < sizeof(ht_slab) + size)
        bytes = sizeof(ht_slab) + size;
    sl = ht_port_alloc(bytes);
    if (!sl)
        return false;
    sl->next = a->slabs;
    sl->bytes = bytes;
    a->slabs = sl;
    a->mem += ht_port_alloc_size(sl, bytes);
    a->bump = (unsigned char *)(sl + 1);
    a->end = (unsigned char *)sl + bytes;
    return true;
}

void *ht_cell_alloc(ht_shard *s, size_t bytes)
{
    ht_arena *a = &s->arena;
    size_t size = ht_cell_size(bytes);
    unsigned c = cell_class(size);
    void *cell = a->free[c];

    if (cell) {
        a->free[c] = *cell_link(cell, size);
        return cell;
    }
    if ((size_t)(a->end - a->bump) < size && !arena_grow(a, size))
        return NULL;
    cell = a->bump;
    a->bump += size;
    return cell;
}

void ht_cell_free(ht_shard *s, void *cell, size_t bytes)
{
    size_t size = ht_cell_size(bytes);
    unsigned c = cell_class(size);

    *cell_link(cell, size) = s->arena.free[c];
    s->arena.free[c] = cell;
}

void ht_arena_destroy(ht_arena *a)
{
    for (ht_slab *sl = a->slabs, *next; sl; sl = next) {
        next = sl->next;
        ht_port_free(sl);
    }
    ht_memset(a, 0, sizeof(*a));
}

/* ---- retired memory ------------------------------------------------------- */

struct ht_retired {
    ht_retired *next;
    uint64_t cookie; /* its grace period */
    uint64_t mem;    /* its footprint */
    void *block;     /* a large entry's block, or NULL for an array: */
    ht_tab tab;
};

/* Where a large block keeps its list node: after the entry, 8-aligned
 * (readers never read past the entry's own bytes). */
static ht_retired *block_node(void *block, size_t bytes)
{
    return (ht_retired *)(void *)((unsigned char *)block + ht_cell_size(bytes));
}

size_t ht_large_bytes(size_t bytes)
{
    return ht_cell_size(bytes) + sizeof(ht_retired);
}

static void release(const ht_table *t, ht_retired *r)
{
    if (r->block) {
        ht_port_free(r->block); /* the node is inside the block */
    } else {
        t->ops->tab_free(&r->tab);
        ht_port_free(r);
    }
}

static void enqueue(ht_shard *s, ht_retired *r)
{
    r->cookie = ht_port_grace_start();
    r->next = NULL;
    if (!s->limbo)
        s->limbo_tail = &s->limbo;
    *s->limbo_tail = r;
    s->limbo_tail = &r->next;
    s->limbo_mem += r->mem;
    s->limbo_n++;
}

void ht_retire_block(const ht_table *t, ht_shard *s, void *block, size_t bytes, size_t mem)
{
    ht_retired *r = block_node(block, bytes);

    if (!t->locked) {
        ht_port_free(block);
        return;
    }
    ht_memset(r, 0, sizeof(*r));
    r->block = block;
    r->mem = mem;
    enqueue(s, r);
}

int ht_retire_reserve(const ht_table *t, ht_shard *s)
{
    if (t->locked && !s->spare) {
        s->spare = ht_port_zalloc(sizeof(ht_retired));
        if (!s->spare)
            return HT_ENOMEM;
    }
    return HT_OK;
}

void ht_retire_tab(const ht_table *t, ht_shard *s, ht_tab *tab)
{
    ht_retired *r = s->spare;

    if (!t->locked || !r) {
        /* no reader can look (no locks), or (never: the node is reserved
         * when the resize starts) no node: wait for the readers instead */
        if (t->locked)
            ht_port_grace_wait(ht_port_grace_start());
        t->ops->tab_free(tab);
        return;
    }
    s->spare = NULL;
    r->block = NULL;
    r->mem = tab->mem;
    r->tab = *tab;
    ht_memset(tab, 0, sizeof(*tab));
    enqueue(s, r);
}

void ht_reclaim(const ht_table *t, ht_shard *s, bool all)
{
    while (s->limbo && (all || ht_port_grace_done(s->limbo->cookie))) {
        ht_retired *r = s->limbo;
        s->limbo = r->next;
        s->limbo_mem -= r->mem;
        s->limbo_n--;
        release(t, r);
    }
    if (all) {
        ht_port_free(s->spare);
        s->spare = NULL;
    }
}
