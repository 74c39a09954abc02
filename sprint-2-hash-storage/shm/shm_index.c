/*
 * shm_index.c — the shared-memory store's hash index: per shard, separate
 * chaining under linear hashing, with bucket arrays that grow in chunks.
 *
 * What this layer is. Given a key's hash, find its entry, link a new entry
 * in, unlink one, and grow the table as keys arrive — all inside the
 * segment, with shm addresses instead of pointers, so that every process
 * sees the same table. The caller (shm_engine.c) holds the shard's lock for
 * every call; this file takes no lock but the allocator's (for chunks).
 *
 * How it works.
 *  - Shards. The top 32 bits of the hash choose the shard (multiply-shift:
 *    kvshm_shard_of), and a key never changes shard, so each shard is an
 *    independent table behind its own mutex: processes working on
 *    different shards never wait for each other (lock striping).
 *  - Chains. A bucket is one 8-byte word holding the address of the first
 *    entry of its chain; each entry's `next` word holds the next one.
 *    Entries keep their full 64-bit hash, so a lookup compares hashes
 *    before keys, and a split never rehashes a key.
 *  - Linear hashing (Litwin, 1980). A shard starts with n0 buckets. When it
 *    holds more keys than buckets, bucket `split` is split: its entries
 *    whose hash has bit (log2(n0) + level) set move to bucket
 *    split + (n0 << level), then `split` advances; when it reaches
 *    n0 << level, the level goes up and `split` returns to 0. The bucket of
 *    a hash is h mod (n0 << level), or h mod (n0 << (level+1)) when that
 *    falls below `split`. So the table grows one bucket at a time: no
 *    operation ever rehashes the whole table, and lookups stay O(1) as
 *    keys are added.
 *  - Chunks. The bucket array cannot be reallocated (other processes hold
 *    addresses into it, and copying would stop them), so it is a list of
 *    chunks that double: chunk 0 and chunk 1 hold n0 buckets each, chunk k
 *    holds n0 << (k-1). The shard header stores the chunks' addresses;
 *    bucket b is in chunk floor(log2(b / n0)) + 1 (chunk 0 when b < n0).
 *
 *    n0 = 4:   chunk 0: b0 b1 b2 b3 | chunk 1: b4..b7 | chunk 2: b8..b15 | chunk 3: b16..b31
 *
 *  - Crash order. A new entry is fully written and tagged LIVE before the
 *    one store that links it; a replaced or removed entry is tagged DEAD
 *    (removal: before the store that unlinks it). So at any instant a crash
 *    leaves blocks whose tags tell the recovery what each is, and the
 *    recovery rebuilds the chains from the blocks (shm_recover.c).
 *
 * Every address and length read from the segment is checked
 * (kvshm_entry_at, kvshm_bucket) and a bad one is KV_ECORRUPT; chain walks
 * are bounded, so a cycle made by a buggy peer cannot hang a process.
 *
 * Student code: kvshm_index_insert() and kvshm_index_unlink().
 */
#include <string.h>

#include "kvlabs/error.h"
#include "shm.h"

uint64_t kvshm_chunk_buckets(uint64_t n0, uint32_t k)
{
    return k == 0 ? n0 : n0 << (k - 1);
}

uint32_t kvshm_chunk_of(uint64_t n0, uint64_t b, uint64_t *idx)
{
    uint32_t k;

    if (b < n0) {
        *idx = b;
        return 0;
    }
    k = (uint32_t)(64 - __builtin_clzll(b / n0)); /* floor(log2(b / n0)) + 1 */
    *idx = b - (n0 << (k - 1));
    return k;
}

/* Whether the shard's level and split pointer are possible. */
static bool shard_ok(const kvshm_seg *s, const kvshm_shard *sh)
{
    return sh->level < KVSHM_MAX_CHUNKS - 1 && sh->split < ((uint64_t)s->n0 << sh->level);
}

uint64_t kvshm_nbuckets(const kvshm_seg *s, const kvshm_shard *sh)
{
    return ((uint64_t)s->n0 << sh->level) + sh->split;
}

uint64_t kvshm_bucket_of(const kvshm_seg *s, const kvshm_shard *sh, uint64_t hash)
{
    uint64_t mask = ((uint64_t)s->n0 << sh->level) - 1, b = hash & mask;

    if (b < sh->split)
        b = hash & ((mask << 1) | 1);
    return b;
}

_Atomic uint64_t *kvshm_bucket(kvshm_seg *s, kvshm_shard *sh, uint64_t b)
{
    uint64_t idx, nb, need;
    uint32_t k = kvshm_chunk_of(s->n0, b, &idx);
    kvshm_block *c;

    if (k >= KVSHM_MAX_CHUNKS)
        return NULL;
    nb = kvshm_chunk_buckets(s->n0, k);
    need = KVSHM_CHUNK_HDR + nb * 8;
    c = kvshm_ptr(s, sh->chunk[k], need);
    if (!c || atomic_load_explicit(&c->tag, memory_order_relaxed) != KVSHM_TAG_CHUNK ||
        c->cls >= KVSHM_NCLASSES || kvshm_class_size(c->cls) < need)
        return NULL;
    return (_Atomic uint64_t *)(void *)((unsigned char *)c + KVSHM_CHUNK_HDR) + idx;
}

kvshm_entry *kvshm_entry_at(kvshm_seg *s, kvshm_addr a)
{
    kvshm_entry *e = kvshm_ptr(s, a, KVSHM_ENTRY_HDR);
    uint64_t size;
    uint32_t cls;

    if (!e || (cls = e->b.cls) >= KVSHM_NCLASSES)
        return NULL;
    size = kvshm_class_size(cls);
    if (!kvshm_ptr(s, a, size) ||
        atomic_load_explicit(&e->b.tag, memory_order_acquire) != KVSHM_TAG_LIVE)
        return NULL;
    if (e->klen == 0 || e->klen > s->max_key || e->vlen > s->max_value ||
        KVSHM_ENTRY_HDR + (uint64_t)e->klen + e->vlen > size)
        return NULL;
    return e;
}

/* The most entries a chain can hold: a walk longer than this is a cycle. */
static uint64_t chain_bound(const kvshm_seg *s, const kvshm_shard *sh)
{
    uint64_t n = atomic_load_explicit(&sh->n_keys, memory_order_relaxed) + 1;
    uint64_t cap = s->max_size / 48 + 1;

    return n < cap ? n : cap;
}

int kvshm_index_find(kvshm_seg *s, kvshm_shard *sh, uint64_t hash, const void *key, size_t klen,
                     kvshm_pos *pos)
{
    _Atomic uint64_t *link;
    uint64_t steps = 0, bound = chain_bound(s, sh);
    kvshm_addr a;

    memset(pos, 0, sizeof(*pos));
    if (!shard_ok(s, sh))
        return kvshm_corrupt(s, "bad shard level or split pointer");
    link = kvshm_bucket(s, sh, kvshm_bucket_of(s, sh, hash));
    if (!link)
        return kvshm_corrupt(s, "bad bucket chunk");
    pos->head = link;
    while ((a = atomic_load_explicit(link, memory_order_acquire)) != 0) {
        kvshm_entry *e = kvshm_entry_at(s, a);
        if (!e)
            return kvshm_corrupt(s, "bad entry in a bucket chain");
        if (++steps > bound)
            return kvshm_corrupt(s, "bucket chain longer than the shard's key count");
        if (e->hash == hash && e->klen == klen && memcmp(e->data, key, klen) == 0) {
            pos->link = link;
            pos->addr = a;
            pos->e = e;
            return KV_OK;
        }
        link = &e->b.next;
    }
    pos->link = link;
    return KV_OK;
}

int kvshm_index_insert(kvshm_seg *s, kvshm_shard *sh, const kvshm_pos *pos, kvshm_addr a,
                       kvshm_entry *e)
{
    /* STUB: (void)s; (void)sh; (void)pos; (void)a; (void)e; return kv_fail(KV_ENOTSUP, "not implemented: %s", __func__); */
    /* BEGIN SOLUTION */
    uint64_t add = (uint64_t)e->klen + e->vlen;

    (void)s;
    if (pos->e) {
        /* Replace in place: the new entry takes the old one's place in the
         * chain with one store, then the old one is marked DEAD. */
        kvshm_entry *old = pos->e;
        uint64_t sub = (uint64_t)old->klen + old->vlen;
        atomic_store_explicit(&e->b.next, atomic_load(&old->b.next), memory_order_relaxed);
        atomic_store_explicit(pos->link, a, memory_order_release);
        kvshm_debug_point(KVSHM_HANG_PUT_LINKED);
        atomic_store_explicit(&old->b.tag, KVSHM_TAG_DEAD, memory_order_release);
        atomic_store_explicit(&sh->bytes, atomic_load(&sh->bytes) - sub + add,
                              memory_order_relaxed);
        return KV_OK;
    }
    /* New key: push on the bucket's chain. */
    atomic_store_explicit(&e->b.next, atomic_load(pos->head), memory_order_relaxed);
    atomic_store_explicit(pos->head, a, memory_order_release);
    atomic_store_explicit(&sh->n_keys, atomic_load(&sh->n_keys) + 1, memory_order_relaxed);
    atomic_store_explicit(&sh->bytes, atomic_load(&sh->bytes) + add, memory_order_relaxed);
    return KV_OK;
    /* END SOLUTION */
}

int kvshm_index_unlink(kvshm_seg *s, kvshm_shard *sh, const kvshm_pos *pos)
{
    /* STUB: (void)s; (void)sh; (void)pos; return kv_fail(KV_ENOTSUP, "not implemented: %s", __func__); */
    /* BEGIN SOLUTION */
    kvshm_entry *old = pos->e;
    uint64_t sub = (uint64_t)old->klen + old->vlen;

    (void)s;
    /* DEAD first: a crash between the two stores leaves a DEAD entry that
     * the rebuild drops, never a removed key that comes back. */
    atomic_store_explicit(&old->b.tag, KVSHM_TAG_DEAD, memory_order_release);
    kvshm_debug_point(KVSHM_HANG_DEL_DEAD);
    atomic_store_explicit(pos->link, atomic_load(&old->b.next), memory_order_release);
    atomic_store_explicit(&sh->n_keys, atomic_load(&sh->n_keys) - 1, memory_order_relaxed);
    atomic_store_explicit(&sh->bytes, atomic_load(&sh->bytes) - sub, memory_order_relaxed);
    return KV_OK;
    /* END SOLUTION */
}

int kvshm_chunk_alloc(kvshm_seg *s, uint32_t k, bool locked, kvshm_addr *out)
{
    uint64_t need = KVSHM_CHUNK_HDR + kvshm_chunk_buckets(s->n0, k) * 8;
    unsigned char *p;
    int rc = locked ? kvshm_alloc_locked(s, need, out) : kvshm_alloc(s, need, out);

    if (rc != KV_OK)
        return rc;
    p = kvshm_ptr(s, *out, need);
    if (!p)
        return kvshm_corrupt(s, "new chunk out of bounds");
    memset(p + KVSHM_CHUNK_HDR, 0, need - KVSHM_CHUNK_HDR);
    atomic_store_explicit(&((kvshm_block *)(void *)p)->tag, KVSHM_TAG_CHUNK, memory_order_release);
    return KV_OK;
}

int kvshm_index_maybe_split(kvshm_seg *s, kvshm_shard *sh)
{
    uint64_t n, lo, from, to, mask, idx, steps = 0, bound;
    _Atomic uint64_t *src, *dst, *link;
    kvshm_addr a;
    uint32_t k;
    bool moved = false;

    if (!shard_ok(s, sh))
        return kvshm_corrupt(s, "bad shard level or split pointer");
    n = kvshm_nbuckets(s, sh);
    if (atomic_load_explicit(&sh->n_keys, memory_order_relaxed) <= n)
        return KV_OK;
    lo = (uint64_t)s->n0 << sh->level;
    from = sh->split;
    to = from + lo;
    mask = (lo << 1) - 1;
    k = kvshm_chunk_of(s->n0, to, &idx);
    if (k >= KVSHM_MAX_CHUNKS - 1)
        return KV_OK; /* the table is as big as it gets */
    if (idx == 0 && !sh->chunk[k]) {
        int rc = kvshm_chunk_alloc(s, k, false, &sh->chunk[k]);
        if (rc == KV_EFULL)
            return KV_OK; /* no room to grow the table: it runs fuller */
        if (rc != KV_OK)
            return rc;
    }
    src = kvshm_bucket(s, sh, from);
    dst = kvshm_bucket(s, sh, to);
    if (!src || !dst)
        return kvshm_corrupt(s, "bad bucket chunk while splitting");
    bound = chain_bound(s, sh);
    link = src;
    while ((a = atomic_load_explicit(link, memory_order_relaxed)) != 0) {
        kvshm_entry *e = kvshm_entry_at(s, a);
        if (!e || ++steps > bound)
            return kvshm_corrupt(s, "bad bucket chain while splitting");
        if ((e->hash & mask) == from) {
            link = &e->b.next;
            continue;
        }
        /* Move e from the old chain to the head of the new one. */
        atomic_store_explicit(link, atomic_load(&e->b.next), memory_order_release);
        atomic_store_explicit(&e->b.next, atomic_load(dst), memory_order_relaxed);
        atomic_store_explicit(dst, a, memory_order_release);
        if (!moved)
            kvshm_debug_point(KVSHM_HANG_SPLIT);
        moved = true;
    }
    if (++sh->split == lo) {
        sh->level++;
        sh->split = 0;
    }
    return KV_OK;
}
