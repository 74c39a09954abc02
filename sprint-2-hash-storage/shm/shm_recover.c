/*
 * shm_recover.c — recovery and checking for the shared-memory store: taking
 * every lock, rebuilding the index and the free lists from the blocks after
 * a process died holding a lock (or corruption was seen), and the full
 * consistency check the tests and `kvshm check` use.
 *
 * What this layer is. The answer to "a process was killed with kill -9 in
 * the middle of a put, holding the shard's lock (and maybe the
 * allocator's)". Robust mutexes tell the next locker (EOWNERDEAD); the lock
 * code raises KVSHM_F_REPAIR; every operation that finds the flag raised
 * calls kvshm_repair() before going on. Repair takes every lock and
 * rebuilds, so whatever the dead process left half-done is either finished
 * or undone — and the operation that found the flag then runs on a
 * consistent store.
 *
 * How it works: why a rebuild is enough. The writers keep one invariant at
 * every instant (see shm_index.c, shm_alloc.c): each block in the used part
 * of an extent has a valid header whose class gives its size, and its tag
 * says what it is —
 *   LIVE   a complete entry; if it is linked, it is the key's current value;
 *          a LIVE entry not yet linked is a put that was about to link it
 *   DEAD   an entry removed or replaced (maybe still linked, maybe not freed)
 *   ALLOC  a block taken from the allocator and not yet filled
 *   FREE   on a free list (or about to be)
 *   CHUNK  a bucket-array chunk (in use if a shard references it)
 * So the store can be rebuilt from the tags alone:
 *  1. check each shard's level, split pointer and chunks (a bad one resets
 *     the shard to level 0), and empty every bucket;
 *  2. empty every free list; scan the blocks: LIVE entries that check out
 *     (lengths, and the hash of the key) stay, referenced chunks stay, every
 *     other block goes on its free list;
 *  3. scan again and link each LIVE entry into its bucket; when a key turns
 *     up twice (a put died between linking its new entry and marking the old
 *     one DEAD), the higher sequence number wins and the other is freed.
 * An interrupted put therefore either happened (its entry was LIVE) or did
 * not (it was ALLOC); an interrupted delete happened (its entry was DEAD);
 * an interrupted split is undone (the chains are rebuilt from the hashes);
 * an interrupted growth leaves an extent that is used or stays empty. A
 * block whose header is impossible ends its extent's scan: the rest of that
 * extent is lost, and counted in hdr->corrupt.
 *
 * Cost: O(size of the segment), under every lock — only after a crash.
 *
 * Callers must not hold any shard lock when calling kvshm_repair() or
 * kvshm_check() (they take all locks in order).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvlabs/alloc.h"
#include "kvlabs/error.h"
#include "kvlabs/hash.h"
#include "shm.h"

int kvshm_lock_all(kvshm_seg *s)
{
    uint32_t i;
    int rc = KV_OK;

    for (i = 0; i < s->n_shards && rc == KV_OK; i++)
        rc = kvshm_lock(s, s->shards[i].lock);
    if (rc == KV_OK)
        rc = kvshm_lock(s, s->hdr->alloc_lock);
    if (rc == KV_OK)
        return KV_OK;
    while (i-- > 0 && i < s->n_shards)
        kvshm_unlock(s->shards[i].lock);
    return rc;
}

void kvshm_unlock_all(kvshm_seg *s)
{
    kvshm_unlock(s->hdr->alloc_lock);
    for (uint32_t i = s->n_shards; i-- > 0;)
        kvshm_unlock(s->shards[i].lock);
}

static bool shard_ok(const kvshm_seg *s, const kvshm_shard *sh)
{
    return sh->level < KVSHM_MAX_CHUNKS - 1 && sh->split < ((uint64_t)s->n0 << sh->level);
}

static int cmp_addr(const void *a, const void *b)
{
    kvshm_addr x = *(const kvshm_addr *)a, y = *(const kvshm_addr *)b;

    return x < y ? -1 : x > y;
}

/* A sorted set of block addresses. */
typedef struct addr_set {
    kvshm_addr *v;
    size_t n, cap;
} addr_set;

static int set_add(addr_set *set, kvshm_addr a)
{
    if (set->n == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 64;
        kvshm_addr *v = kv_realloc(set->v, cap * sizeof(*v));
        if (!v)
            return kv_fail(KV_ENOMEM, "shm: out of memory for the rebuild");
        set->v = v;
        set->cap = cap;
    }
    set->v[set->n++] = a;
    return KV_OK;
}

static bool set_has(const addr_set *set, kvshm_addr a)
{
    return set->n && bsearch(&a, set->v, set->n, sizeof(a), cmp_addr);
}

/* Whether a is a chunk block (found at a block boundary by the scan) big enough for chunk k. */
static bool chunk_ok(kvshm_seg *s, const addr_set *found, kvshm_addr a, uint32_t k)
{
    uint64_t need = KVSHM_CHUNK_HDR + kvshm_chunk_buckets(s->n0, k) * 8;
    kvshm_block *c = a && set_has(found, a) ? kvshm_ptr(s, a, need) : NULL;

    return c && atomic_load(&c->tag) == KVSHM_TAG_CHUNK && c->cls < KVSHM_NCLASSES &&
           kvshm_class_size(c->cls) >= need;
}

static bool in(const kvshm_addr *v, size_t n, kvshm_addr a)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == a)
            return true;
    return false;
}

/* A LIVE entry that checks out completely (the key's hash included). */
static kvshm_entry *good_entry(kvshm_seg *s, kvshm_addr a)
{
    kvshm_entry *e = kvshm_entry_at(s, a);

    return e && kv_xxh3_64(e->data, e->klen) == e->hash ? e : NULL;
}

/* Step 1: fix each shard's shape, collect its chunks in refs, empty its buckets. */
static void reset_shards(kvshm_seg *s, const addr_set *found, kvshm_addr *refs, size_t *nrefs)
{
    for (uint32_t i = 0; i < s->n_shards; i++) {
        kvshm_shard *sh = &s->shards[i];
        uint64_t idx;
        uint32_t kmax = 0;
        bool ok = shard_ok(s, sh);

        if (ok)
            kmax = kvshm_chunk_of(s->n0, kvshm_nbuckets(s, sh) - 1, &idx);
        for (uint32_t k = 0; ok && k <= kmax; k++)
            ok = chunk_ok(s, found, sh->chunk[k], k) && !in(refs, *nrefs, sh->chunk[k]);
        if (!ok) {
            sh->level = 0;
            sh->split = 0;
            kmax = 0;
            if (!chunk_ok(s, found, sh->chunk[0], 0) || in(refs, *nrefs, sh->chunk[0]))
                sh->chunk[0] = 0;
        }
        for (uint32_t k = 0; k < KVSHM_MAX_CHUNKS; k++) {
            if (k > kmax)
                sh->chunk[k] = 0;
            if (!sh->chunk[k])
                continue;
            refs[(*nrefs)++] = sh->chunk[k];
            memset((unsigned char *)kvshm_ptr(s, sh->chunk[k], KVSHM_CHUNK_HDR) + KVSHM_CHUNK_HDR,
                   0, kvshm_chunk_buckets(s->n0, k) * 8);
        }
        atomic_store(&sh->n_keys, 0);
        atomic_store(&sh->bytes, 0);
    }
}

/* Make the extent table, the bump pointer and the used ends possible. */
static void fix_extents(kvshm_seg *s)
{
    kvshm_hdr *h = s->hdr;
    uint32_t n;

    kvshm_seg_refresh(s); /* an unmappable extent is dropped below */
    n = atomic_load(&s->mapped);
    atomic_store(&h->n_extents, n);
    if (h->bump_ext >= n) {
        h->bump_ext = n - 1;
        h->bump_off = s->len[n - 1];
    }
    for (uint32_t e = 0; e < n; e++) {
        uint64_t start = e == 0 ? s->data_off : 0;
        uint64_t *end = e == h->bump_ext ? &h->bump_off : &h->ext[e].used;
        if (*end % 16 || *end > s->len[e] || *end < start)
            *end = start;
    }
}

/* Link a LIVE entry during the rebuild, resolving duplicates by sequence number. */
static void relink(kvshm_seg *s, kvshm_addr a, kvshm_entry *e, uint64_t *kept)
{
    kvshm_shard *sh = &s->shards[kvshm_shard_of(s, e->hash)];
    _Atomic uint64_t *head = kvshm_bucket(s, sh, kvshm_bucket_of(s, sh, e->hash)), *link = head;
    kvshm_addr d;

    if (!head) { /* cannot happen after reset_shards(); drop the entry rather than crash */
        atomic_store(&e->b.tag, KVSHM_TAG_DEAD);
        s->hdr->alloc_bytes -= kvshm_class_size(e->b.cls);
        kvshm_freelist_push(s, a);
        return;
    }
    if (e->seq > sh->seq)
        sh->seq = e->seq;
    while ((d = atomic_load(link)) != 0) {
        kvshm_entry *o = kvshm_entry_at(s, d);
        if (!o)
            break;
        if (o->hash == e->hash && o->klen == e->klen && !memcmp(o->data, e->data, e->klen)) {
            kvshm_addr loser = o->seq > e->seq ? a : d;
            if (loser == d) {
                atomic_store(&e->b.next, atomic_load(&o->b.next));
                atomic_store(link, a);
                atomic_store(&sh->bytes,
                             atomic_load(&sh->bytes) - o->klen - o->vlen + e->klen + e->vlen);
            }
            kvshm_entry *l = loser == d ? o : e;
            s->hdr->alloc_bytes -= kvshm_class_size(l->b.cls);
            atomic_store(&l->b.tag, KVSHM_TAG_DEAD);
            kvshm_freelist_push(s, loser);
            return;
        }
        link = &o->b.next;
    }
    atomic_store(&e->b.next, atomic_load(head));
    atomic_store(head, a);
    atomic_store(&sh->n_keys, atomic_load(&sh->n_keys) + 1);
    atomic_store(&sh->bytes, atomic_load(&sh->bytes) + e->klen + e->vlen);
    (*kept)++;
}

/*
 * One pass over every block: pass 0 ends each extent at its first impossible
 * header and collects the chunk blocks; pass 1 sorts blocks into kept and
 * free; pass 2 links the entries.
 */
static int scan(kvshm_seg *s, int pass, addr_set *found, const kvshm_addr *refs, size_t nrefs,
                uint64_t *kept)
{
    int rc = KV_OK;

    kvshm_hdr *h = s->hdr;

    for (uint32_t e = 0; e < atomic_load(&s->mapped); e++) {
        uint64_t start = e == 0 ? s->data_off : 0;
        uint64_t *endp = e == h->bump_ext ? &h->bump_off : &h->ext[e].used;
        for (uint64_t off = start; off + 16 <= *endp;) {
            kvshm_block *b = (kvshm_block *)(void *)(s->base[e] + off);
            kvshm_addr a = (kvshm_addr)e << KVSHM_ADDR_SHIFT | off;
            uint32_t cls = b->cls, tag = atomic_load(&b->tag);
            uint64_t size = cls < KVSHM_NCLASSES ? kvshm_class_size(cls) : 0;
            if (!size || size > *endp - off) { /* the rest of the extent is unreadable */
                atomic_fetch_add(&h->corrupt, 1);
                *endp = off;
                break;
            }
            if (pass == 0) {
                if (tag == KVSHM_TAG_CHUNK && (rc = set_add(found, a)) != KV_OK)
                    return rc;
            } else if (pass == 1) {
                if ((tag == KVSHM_TAG_LIVE && good_entry(s, a)) ||
                    (tag == KVSHM_TAG_CHUNK && bsearch(&a, refs, nrefs, sizeof(a), cmp_addr)))
                    h->alloc_bytes += size;
                else /* FREE, ALLOC, DEAD, an unreferenced chunk, a bad entry */
                    kvshm_freelist_push(s, a);
            } else if (tag == KVSHM_TAG_LIVE) {
                relink(s, a, (kvshm_entry *)b, kept);
            }
            off += size;
        }
    }
    return rc;
}

/* Rebuild everything from the blocks. Caller holds every lock. */
static int rebuild(kvshm_seg *s, uint64_t *kept)
{
    kvshm_hdr *h = s->hdr;
    size_t nrefs = 0;
    kvshm_addr *refs = kv_malloc((size_t)s->n_shards * KVSHM_MAX_CHUNKS * sizeof(*refs));
    addr_set found = {0};
    int rc = KV_OK;

    *kept = 0;
    if (!refs)
        return kv_fail(KV_ENOMEM, "shm: out of memory for the rebuild");
    fix_extents(s);
    rc = scan(s, 0, &found, NULL, 0, kept); /* sorted: extents and offsets ascend */
    if (rc != KV_OK)
        goto out_free;
    reset_shards(s, &found, refs, &nrefs);
    qsort(refs, nrefs, sizeof(*refs), cmp_addr);
    memset(h->free_head, 0, sizeof(h->free_head));
    memset(h->free_count, 0, sizeof(h->free_count));
    h->alloc_bytes = 0;
    scan(s, 1, &found, refs, nrefs, kept);
    for (uint32_t i = 0; i < s->n_shards && rc == KV_OK; i++)
        if (!s->shards[i].chunk[0])
            rc = kvshm_chunk_alloc(s, 0, true, &s->shards[i].chunk[0]);
    if (rc == KV_OK)
        scan(s, 2, &found, refs, nrefs, kept);
out_free:
    kv_free(found.v);
    kv_free(refs);
    return rc;
}

int kvshm_repair(kvshm_seg *s)
{
    uint64_t kept = 0;
    int rc;

    if (!kvshm_flag(s, KVSHM_F_REPAIR))
        return KV_OK;
    rc = kvshm_lock_all(s);
    if (rc != KV_OK)
        return rc;
    if (kvshm_flag(s, KVSHM_F_REPAIR)) { /* not already done by whoever held the locks */
        rc = rebuild(s, &kept);
        if (rc == KV_OK) {
            atomic_fetch_add(&s->hdr->repairs, 1);
            atomic_fetch_and(&s->hdr->flags, ~KVSHM_F_REPAIR);
        }
        kvshm_log(s, KVSHM_OP_REPAIR, rc, NULL, (size_t)kept, 0);
    }
    kvshm_unlock_all(s);
    return rc;
}

/* ---- the consistency check -------------------------------------------------- */

static void problem(kvshm_check_report *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void problem(kvshm_check_report *r, const char *fmt, ...)
{
    va_list ap;

    if (r->problems++ == 0) {
        va_start(ap, fmt);
        vsnprintf(r->first, sizeof(r->first), fmt, ap);
        va_end(ap);
    }
}

/* Count blocks by tag; check every block header and each extent's end. */
static void check_blocks(kvshm_seg *s, kvshm_check_report *r, uint64_t *used_bytes)
{
    for (uint32_t e = 0; e < atomic_load(&s->mapped); e++) {
        uint64_t start, end, off;
        if (kvshm_seg_extent_range(s, e, &start, &end) != KV_OK) {
            problem(r, "extent %u: bad end", e);
            continue;
        }
        for (off = start; off + 16 <= end;) {
            kvshm_block *b = (kvshm_block *)(void *)(s->base[e] + off);
            kvshm_addr a = (kvshm_addr)e << KVSHM_ADDR_SHIFT | off;
            uint64_t size = b->cls < KVSHM_NCLASSES ? kvshm_class_size(b->cls) : 0;
            uint32_t tag = atomic_load(&b->tag);
            if (!size || size > end - off) {
                problem(r, "extent %u offset %llu: bad block header", e, (unsigned long long)off);
                break;
            }
            if (tag == KVSHM_TAG_LIVE) {
                r->live++;
                if (!good_entry(s, a))
                    problem(r, "bad LIVE entry at %#llx", (unsigned long long)a);
            } else if (tag == KVSHM_TAG_CHUNK) {
                r->chunks++;
            } else if (tag != KVSHM_TAG_FREE) {
                problem(r, "block %#llx has tag %#x (leaked or unknown)", (unsigned long long)a,
                        tag);
            }
            if (tag != KVSHM_TAG_FREE)
                *used_bytes += size;
            off += size;
        }
        if (off != end)
            problem(r, "extent %u: blocks end at %llu, not %llu", e, (unsigned long long)off,
                    (unsigned long long)end);
    }
}

/* Walk every chain of shard i: entries LIVE, in the right shard and bucket, unique. */
static void check_shard(kvshm_seg *s, uint32_t i, kvshm_check_report *r, uint64_t *chunks)
{
    kvshm_shard *sh = &s->shards[i];
    uint64_t keys = 0, bytes = 0, nb, idx;

    if (!shard_ok(s, sh)) {
        problem(r, "shard %u: bad level or split", i);
        return;
    }
    nb = kvshm_nbuckets(s, sh);
    *chunks += kvshm_chunk_of(s->n0, nb - 1, &idx) + 1u;
    for (uint64_t b = 0; b < nb; b++) {
        _Atomic uint64_t *slot = kvshm_bucket(s, sh, b);
        uint64_t steps = 0;
        if (!slot) {
            problem(r, "shard %u bucket %llu: bad chunk", i, (unsigned long long)b);
            return;
        }
        for (kvshm_addr a = atomic_load(slot); a; steps++) {
            kvshm_entry *e = kvshm_entry_at(s, a);
            if (!e || steps > r->live) {
                problem(r, "shard %u bucket %llu: bad entry or cycle", i, (unsigned long long)b);
                break;
            }
            if (kvshm_shard_of(s, e->hash) != i || kvshm_bucket_of(s, sh, e->hash) != b)
                problem(r, "entry %#llx is in the wrong bucket", (unsigned long long)a);
            for (kvshm_addr o = atomic_load(&e->b.next); o;) {
                kvshm_entry *f = kvshm_entry_at(s, o);
                if (!f)
                    break;
                if (f->klen == e->klen && !memcmp(f->data, e->data, e->klen))
                    problem(r, "a key is linked twice (shard %u)", i);
                o = atomic_load(&f->b.next);
            }
            keys++;
            bytes += (uint64_t)e->klen + e->vlen;
            a = atomic_load(&e->b.next);
        }
    }
    if (keys != atomic_load(&sh->n_keys) || bytes != atomic_load(&sh->bytes))
        problem(r, "shard %u: counters say %llu keys / %llu bytes, chains hold %llu / %llu", i,
                (unsigned long long)atomic_load(&sh->n_keys),
                (unsigned long long)atomic_load(&sh->bytes), (unsigned long long)keys,
                (unsigned long long)bytes);
    r->linked += keys;
}

static void check_free_lists(kvshm_seg *s, kvshm_check_report *r)
{
    uint64_t bound = r->free_blocks + r->live + r->chunks + 1;

    r->free_blocks = 0;
    for (uint32_t c = 0; c < KVSHM_NCLASSES; c++) {
        uint64_t n = 0;
        for (kvshm_addr a = s->hdr->free_head[c]; a; n++) {
            kvshm_block *b = kvshm_ptr(s, a, kvshm_class_size(c));
            if (!b || b->cls != c || atomic_load(&b->tag) != KVSHM_TAG_FREE || n > bound) {
                problem(r, "free list %u: bad block %#llx", c, (unsigned long long)a);
                break;
            }
            a = atomic_load(&b->next);
        }
        if (n != s->hdr->free_count[c])
            problem(r, "free list %u holds %llu blocks, its count says %llu", c,
                    (unsigned long long)n, (unsigned long long)s->hdr->free_count[c]);
        r->free_blocks += n;
    }
}

int kvshm_check(kvshm_seg *s, kvshm_check_report *rep)
{
    uint64_t used = 0, chunks = 0, free_scanned;
    int rc;

    memset(rep, 0, sizeof(*rep));
    rc = kvshm_lock_all(s);
    if (rc != KV_OK)
        return rc;
    if (kvshm_flag(s, KVSHM_F_REPAIR))
        problem(rep, "a repair is pending");
    if (kvshm_seg_refresh(s) != KV_OK)
        problem(rep, "bad extent table");
    check_blocks(s, rep, &used);
    free_scanned = 0;
    for (uint32_t e = 0; e < atomic_load(&s->mapped); e++) { /* FREE blocks by scan */
        uint64_t start, end;
        if (kvshm_seg_extent_range(s, e, &start, &end) != KV_OK)
            continue;
        for (uint64_t off = start; off + 16 <= end;) {
            kvshm_block *b = (kvshm_block *)(void *)(s->base[e] + off);
            if (b->cls >= KVSHM_NCLASSES)
                break;
            free_scanned += atomic_load(&b->tag) == KVSHM_TAG_FREE;
            off += kvshm_class_size(b->cls);
        }
    }
    rep->free_blocks = free_scanned;
    for (uint32_t i = 0; i < s->n_shards; i++)
        check_shard(s, i, rep, &chunks);
    if (rep->linked != rep->live)
        problem(rep, "%llu LIVE entries but %llu linked", (unsigned long long)rep->live,
                (unsigned long long)rep->linked);
    if (chunks != rep->chunks)
        problem(rep, "%llu chunk blocks but %llu referenced", (unsigned long long)rep->chunks,
                (unsigned long long)chunks);
    check_free_lists(s, rep);
    if (rep->free_blocks != free_scanned)
        problem(rep, "%llu FREE blocks but %llu on free lists", (unsigned long long)free_scanned,
                (unsigned long long)rep->free_blocks);
    if (used != s->hdr->alloc_bytes)
        problem(rep, "alloc_bytes says %llu, blocks in use hold %llu",
                (unsigned long long)s->hdr->alloc_bytes, (unsigned long long)used);
    kvshm_unlock_all(s);
    return KV_OK;
}
