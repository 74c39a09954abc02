/*
 * shm_alloc.c — the shared-memory store's allocator: size classes, free lists
 * and the bump pointer.
 *
 * What this layer is. Entries (key + value) and bucket chunks live in
 * *blocks* inside the segment's extents. This file hands blocks out
 * (kvshm_alloc) and takes them back (kvshm_free), under the allocator's
 * robust mutex, so that a removed entry's memory is reused by the next put
 * of a similar size from any process: over a million put/remove cycles the
 * segment does not grow.
 *
 * How it works.
 *  - Size classes. A block's size is one of KVSHM_NCLASSES sizes: 16, 32,
 *    ..., 256 bytes (16 apart), then four sizes per doubling (320, 384, 448,
 *    512, 640, 768, ...), so rounding a request up wastes less than 25%.
 *    Each block records its class in its header, which is what lets the
 *    recovery code walk an extent block by block.
 *  - Free lists. Per class, a singly linked list threaded through the
 *    blocks' `next` words, its head and length in the header
 *    (hdr->free_head[cls], hdr->free_count[cls]). Blocks are never split
 *    or merged: simple, and a block's boundaries never change, so the
 *    recovery scan stays valid forever. The price is that memory freed in
 *    one class serves only that class (and, when the segment is full, the
 *    larger-class fallback below).
 *  - The bump pointer. When a class's list is empty the block is cut from
 *    the end of the used part of the last extent (hdr->bump_ext,
 *    hdr->bump_off). When that extent is full, kvshm_seg_grow() (here, above
 *    the segment: it calls the segment layer, never the reverse) appends a
 *    new one and carves the old one's tail into free blocks (kvshm_carve).
 *    The class arithmetic (kvshm_class_size/kvshm_class_of) is the block
 *    format's, so it lives in the segment layer below, shm_segment.c.
 *  - Full. When growing would pass max_size, a free block of a larger class
 *    is used as it is; only when there is none is the answer KV_EFULL.
 *
 * Crash safety. The allocator keeps no operation record: a block's header
 * is written before the bump pointer moves past it, and its tag says what
 * it is, so after a crash the recovery (shm_recover.c) rebuilds every free
 * list from the tags. A process that finds KVSHM_F_REPAIR raised changes
 * nothing here (kvshm_alloc returns KV_EBUSY, kvshm_free leaves the block
 * to the rebuild).
 *
 * Student code: kvshm_freelist_pop() and kvshm_freelist_push().
 *
 * Callers must not call kvshm_seg_grow() without the allocator lock.
 */
#include <string.h>

#include "kvlabs/error.h"
#include "shm.h"

#define ALIGN_UP(x, a) (((x) + (a)-1) / (a) * (a))

int kvshm_freelist_pop(kvshm_seg *s, uint32_t cls, kvshm_addr *out)
{
    /* STUB: (void)s; (void)cls; *out = 0; return KV_OK; */
    /* BEGIN SOLUTION */
    kvshm_hdr *h = s->hdr;
    kvshm_addr a = h->free_head[cls];
    kvshm_block *b;

    *out = 0;
    if (!a)
        return KV_OK;
    b = kvshm_ptr(s, a, kvshm_class_size(cls));
    if (!b || b->cls != cls ||
        atomic_load_explicit(&b->tag, memory_order_relaxed) != KVSHM_TAG_FREE ||
        h->free_count[cls] == 0)
        return kvshm_corrupt(s, "bad block on a free list");
    h->free_head[cls] = atomic_load_explicit(&b->next, memory_order_relaxed);
    h->free_count[cls]--;
    atomic_store_explicit(&b->next, 0, memory_order_relaxed);
    atomic_store_explicit(&b->tag, KVSHM_TAG_ALLOC, memory_order_release);
    *out = a;
    return KV_OK;
    /* END SOLUTION */
}

int kvshm_freelist_push(kvshm_seg *s, kvshm_addr a)
{
    /* STUB: (void)s; (void)a; return KV_OK; */
    /* BEGIN SOLUTION */
    kvshm_hdr *h = s->hdr;
    kvshm_block *b = kvshm_ptr(s, a, sizeof(kvshm_block));
    uint32_t cls;

    if (!b || (cls = b->cls) >= KVSHM_NCLASSES || !kvshm_ptr(s, a, kvshm_class_size(cls)))
        return kvshm_corrupt(s, "freeing a bad block");
    atomic_store_explicit(&b->tag, KVSHM_TAG_FREE, memory_order_release);
    atomic_store_explicit(&b->next, h->free_head[cls], memory_order_relaxed);
    h->free_head[cls] = a;
    h->free_count[cls]++;
    return KV_OK;
    /* END SOLUTION */
}

uint64_t kvshm_carve(kvshm_seg *s, uint32_t e, uint64_t off, uint64_t end)
{
    end &= ~(uint64_t)15;
    while (off + 16 <= end) {
        uint32_t cls = kvshm_class_of(end - off);
        kvshm_block *b;

        if (cls >= KVSHM_NCLASSES || kvshm_class_size(cls) > end - off)
            cls--; /* the largest class that fits */
        b = (kvshm_block *)(void *)(s->base[e] + off);
        b->cls = cls;
        atomic_store_explicit(&b->tag, KVSHM_TAG_ALLOC, memory_order_release);
        if (kvshm_freelist_push(s, (kvshm_addr)e << KVSHM_ADDR_SHIFT | off) != KV_OK)
            break;
        off += kvshm_class_size(cls);
    }
    return off;
}

/* ---- growth (the allocator's: it carves the old bump extent's tail) ---------- */

int kvshm_seg_grow(kvshm_seg *s, uint64_t need)
{
    kvshm_hdr *h = s->hdr;
    uint32_t n, old = h->bump_ext;
    uint64_t end, len, carved;
    int rc = kvshm_seg_refresh(s);

    if (rc != KV_OK)
        return rc;
    n = atomic_load(&s->mapped);
    if (n >= KVSHM_MAX_EXTENTS)
        return kv_fail(KV_EFULL, "shm: %s: all %u extents are in use", s->path, KVSHM_MAX_EXTENTS);
    if (old >= n || h->bump_off > s->len[old] || h->bump_off % 16)
        return kvshm_corrupt(s, "bad bump pointer");
    end = kvshm_seg_mapped_end(s);
    len = ALIGN_UP(need, KVSHM_EXT_ALIGN);
    if (len < s->len[n - 1] * 2)
        len = s->len[n - 1] * 2 < KVSHM_EXT_CAP ? s->len[n - 1] * 2 : KVSHM_EXT_CAP;
    if (len < need)
        len = ALIGN_UP(need, KVSHM_EXT_ALIGN);
    if (end + len > s->max_size) {
        len = s->max_size > end ? (s->max_size - end) / KVSHM_EXT_ALIGN * KVSHM_EXT_ALIGN : 0;
        if (len < need)
            return kv_fail(KV_EFULL, "shm: %s: segment full (max_size=%llu bytes)", s->path,
                           (unsigned long long)s->max_size);
    }
    rc = kv_file_truncate(s->file, end + len);
    if (rc != KV_OK)
        return rc;
    kvshm_debug_point(KVSHM_HANG_GROW);
    h->ext[n] = (kvshm_extent){.off = end, .len = len};
    /* Retire the old bump extent: its tail becomes free blocks. */
    carved = kvshm_carve(s, old, h->bump_off, s->len[old]);
    h->bump_off = carved;
    h->ext[old].used = carved;
    atomic_store_explicit(&h->n_extents, n + 1, memory_order_release);
    rc = kvshm_seg_refresh(s);
    if (rc != KV_OK)
        return rc;
    h->bump_ext = n;
    h->bump_off = 0;
    return KV_OK;
}

/* Cut a block of class cls from the bump extent; *out 0 when it does not fit. */
static int bump(kvshm_seg *s, uint32_t cls, kvshm_addr *out)
{
    kvshm_hdr *h = s->hdr;
    uint64_t size = kvshm_class_size(cls), start, end;
    uint32_t e = h->bump_ext;
    kvshm_block *b;
    int rc;

    *out = 0;
    if (e >= atomic_load(&s->mapped) && (rc = kvshm_seg_refresh(s)) != KV_OK)
        return rc;
    if (e >= atomic_load(&s->mapped))
        return kvshm_corrupt(s, "bump pointer in an unknown extent");
    rc = kvshm_seg_extent_range(s, e, &start, &end);
    if (rc != KV_OK)
        return rc;
    if (size > s->len[e] - end)
        return KV_OK;
    b = (kvshm_block *)(void *)(s->base[e] + end);
    b->cls = cls;
    atomic_store_explicit(&b->next, 0, memory_order_relaxed);
    atomic_store_explicit(&b->tag, KVSHM_TAG_ALLOC, memory_order_release);
    h->bump_off = end + size; /* after the header: a scan never meets a blank block */
    *out = (kvshm_addr)e << KVSHM_ADDR_SHIFT | end;
    return KV_OK;
}

int kvshm_alloc_locked(kvshm_seg *s, uint64_t size, kvshm_addr *out)
{
    uint32_t cls = kvshm_class_of(size);
    int rc;

    *out = 0;
    if (cls >= KVSHM_NCLASSES)
        return kv_fail(KV_EFULL, "shm: a block of %llu bytes is beyond the largest class",
                       (unsigned long long)size);
    rc = kvshm_freelist_pop(s, cls, out);
    if (rc == KV_OK && !*out)
        rc = bump(s, cls, out);
    if (rc == KV_OK && !*out) {
        rc = kvshm_seg_grow(s, kvshm_class_size(cls));
        if (rc == KV_OK)
            rc = bump(s, cls, out);
        /* Full: any free block of a larger class will do, as it is. */
        for (uint32_t c = cls + 1; rc == KV_EFULL && c < KVSHM_NCLASSES; c++) {
            if (!s->hdr->free_head[c])
                continue;
            if (kvshm_freelist_pop(s, c, out) == KV_OK && *out)
                rc = KV_OK, cls = c;
        }
    }
    if (rc != KV_OK)
        return rc;
    if (!*out)
        return kvshm_corrupt(s, "allocation found no block");
    s->hdr->alloc_bytes += kvshm_class_size(cls);
    kvshm_debug_point(KVSHM_HANG_ALLOC);
    return KV_OK;
}

int kvshm_alloc(kvshm_seg *s, uint64_t size, kvshm_addr *out)
{
    int rc = kvshm_lock(s, s->hdr->alloc_lock);

    *out = 0;
    if (rc != KV_OK)
        return rc;
    if (kvshm_flag(s, KVSHM_F_REPAIR))
        rc = KV_EBUSY; /* the caller repairs and retries */
    else
        rc = kvshm_alloc_locked(s, size, out);
    kvshm_unlock(s->hdr->alloc_lock);
    return rc;
}

void kvshm_free(kvshm_seg *s, kvshm_addr a)
{
    kvshm_block *b;

    if (kvshm_lock(s, s->hdr->alloc_lock) != KV_OK)
        return; /* left for the rebuild */
    b = kvshm_ptr(s, a, sizeof(kvshm_block));
    if (!kvshm_flag(s, KVSHM_F_REPAIR) && b && b->cls < KVSHM_NCLASSES &&
        kvshm_freelist_push(s, a) == KV_OK) {
        uint64_t size = kvshm_class_size(b->cls);
        s->hdr->alloc_bytes -= size <= s->hdr->alloc_bytes ? size : s->hdr->alloc_bytes;
    }
    kvshm_unlock(s->hdr->alloc_lock);
}
