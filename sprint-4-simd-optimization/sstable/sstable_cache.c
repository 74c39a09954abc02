/*
 * sstable_cache.c — the block cache: checked data blocks kept in memory,
 * least recently used first out, shared by every table of a store.
 *
 * A block is named by (table id, offset in the file): the id comes from
 * lsm_cache_new_id when a table opens, so a file number reused after a
 * compaction (or the same table opened twice) never finds another table's
 * blocks. The cache is split into LSM_CACHE_SHARDS shards by a hash of the
 * name, each with its own mutex, hash table (chained, grown by doubling) and
 * LRU list, and capacity / LSM_CACHE_SHARDS bytes: readers of different
 * blocks rarely wait on one lock. An entry is charged its contents plus a
 * fixed overhead.
 *
 * Entries are reference-counted. lsm_cache_lookup and lsm_cache_insert
 * hand back a pinned entry; its bytes stay valid until lsm_cache_release,
 * even if the cache evicts it in between (eviction only unlinks it: the last
 * release frees it). A pinned entry still counts against its shard's
 * capacity until it is evicted, so a shard may stay above capacity while its
 * entries are all pinned.
 *
 * Callers must release every entry they got, exactly once, before
 * lsm_cache_free; must not write into an entry's bytes; must hand
 * lsm_cache_insert a kv_malloc'd buffer, which the cache then owns (also
 * when it returns NULL: the caller then still owns it).
 */
#include <pthread.h>
#include <stdatomic.h>

#include "sstable_int.h"

#define LSM_CACHE_SHARDS 16u
#define ENTRY_OVERHEAD 64u /* what an entry costs beside its bytes */

struct lsm_cache_block {
    uint64_t id, off;
    uint8_t *data;
    size_t n;
    size_t charge;
    unsigned refs;             /* under the shard's mutex; the cache's own is one */
    bool in_cache;
    struct lsm_cache_block *hnext;       /* hash chain */
    struct lsm_cache_block *prev, *next; /* LRU list: head.next is the oldest */
};

typedef struct shard {
    pthread_mutex_t mu;
    lsm_cache_block **table;
    size_t nbuckets, count;
    size_t used, capacity;
    lsm_cache_block lru; /* sentinel */
} shard;

struct lsm_cache {
    shard shards[LSM_CACHE_SHARDS];
    _Atomic uint64_t next_id;
};

static uint64_t name_hash(uint64_t id, uint64_t off)
{
    uint64_t h = id * UINT64_C(0x9e3779b97f4a7c15) ^ (off + UINT64_C(0x632be59bd9b4e019));
    h ^= h >> 31;
    h *= UINT64_C(0xbf58476d1ce4e5b9);
    return h ^ (h >> 29);
}

int lsm_cache_new(size_t capacity, lsm_cache **out)
{
    lsm_cache *c;
    *out = NULL;
    if (!(c = kv_calloc(1, sizeof *c)))
        return kv_fail(KV_ENOMEM, "lsm: out of memory for the block cache");
    for (unsigned i = 0; i < LSM_CACHE_SHARDS; i++) {
        shard *s = &c->shards[i];
        pthread_mutex_init(&s->mu, NULL);
        s->capacity = capacity / LSM_CACHE_SHARDS;
        s->lru.prev = s->lru.next = &s->lru;
    }
    atomic_init(&c->next_id, 1);
    *out = c;
    return KV_OK;
}

static void entry_free(lsm_cache_block *e)
{
    kv_free(e->data);
    kv_free(e);
}

void lsm_cache_free(lsm_cache *c)
{
    if (!c)
        return;
    for (unsigned i = 0; i < LSM_CACHE_SHARDS; i++) {
        shard *s = &c->shards[i];
        for (lsm_cache_block *e = s->lru.next, *nx; e != &s->lru; e = nx) {
            nx = e->next;
            entry_free(e);
        }
        kv_free(s->table);
        pthread_mutex_destroy(&s->mu);
    }
    kv_free(c);
}

uint64_t lsm_cache_new_id(lsm_cache *c)
{
    return atomic_fetch_add(&c->next_id, 1);
}

static shard *shard_of(lsm_cache *c, uint64_t h)
{
    return &c->shards[h >> 60 & (LSM_CACHE_SHARDS - 1)];
}

static lsm_cache_block **slot(shard *s, uint64_t h, uint64_t id, uint64_t off)
{
    lsm_cache_block **p = &s->table[h & (s->nbuckets - 1)];
    while (*p && ((*p)->id != id || (*p)->off != off))
        p = &(*p)->hnext;
    return p;
}

static void lru_unlink(lsm_cache_block *e)
{
    e->prev->next = e->next;
    e->next->prev = e->prev;
}

static void lru_append(shard *s, lsm_cache_block *e)
{
    e->next = &s->lru;
    e->prev = s->lru.prev;
    e->prev->next = e;
    s->lru.prev = e;
}

/* Drop the cache's reference of an entry in the shard (mu held). */
static void evict(shard *s, lsm_cache_block *e)
{
    *slot(s, name_hash(e->id, e->off), e->id, e->off) = e->hnext;
    lru_unlink(e);
    e->in_cache = false;
    s->count--;
    s->used -= e->charge;
    if (--e->refs == 0)
        entry_free(e);
}

lsm_cache_block *lsm_cache_lookup(lsm_cache *c, uint64_t id, uint64_t off)
{
    /* STUB:
    (void)c; (void)id; (void)off; (void)shard_of; (void)slot; (void)lru_unlink; (void)lru_append;
    kv_fail(KV_ENOTSUP, "not implemented: %s", __func__);
    return NULL;
    */
    /* BEGIN SOLUTION */
    uint64_t h = name_hash(id, off);
    shard *s = shard_of(c, h);
    lsm_cache_block *e = NULL;
    pthread_mutex_lock(&s->mu);
    if (s->nbuckets && (e = *slot(s, h, id, off))) {
        e->refs++;
        lru_unlink(e);
        lru_append(s, e);
    }
    pthread_mutex_unlock(&s->mu);
    return e;
    /* END SOLUTION */
}

/* Double the shard's bucket array (mu held); on ENOMEM chains grow instead. */
static void grow(shard *s)
{
    size_t nb = s->nbuckets ? 2 * s->nbuckets : 64;
    lsm_cache_block **t = kv_calloc(nb, sizeof *t);
    if (!t)
        return;
    for (size_t i = 0; i < s->nbuckets; i++)
        for (lsm_cache_block *e = s->table[i], *nx; e; e = nx) {
            nx = e->hnext;
            size_t b = name_hash(e->id, e->off) & (nb - 1);
            e->hnext = t[b];
            t[b] = e;
        }
    kv_free(s->table);
    s->table = t;
    s->nbuckets = nb;
}

lsm_cache_block *lsm_cache_insert(lsm_cache *c, uint64_t id, uint64_t off, uint8_t *data,
                                  size_t n)
{
    /* STUB:
    (void)c; (void)id; (void)off; (void)data; (void)n; (void)evict; (void)grow;
    kv_fail(KV_ENOTSUP, "not implemented: %s", __func__);
    return NULL;
    */
    /* BEGIN SOLUTION */
    uint64_t h = name_hash(id, off);
    shard *s = shard_of(c, h);
    lsm_cache_block *e = kv_calloc(1, sizeof *e), **p;
    if (!e)
        return NULL;
    e->id = id;
    e->off = off;
    e->data = data;
    e->n = n;
    e->charge = n + ENTRY_OVERHEAD;
    e->refs = 2; /* the cache's and the caller's */
    e->in_cache = true;
    pthread_mutex_lock(&s->mu);
    if (s->count >= s->nbuckets)
        grow(s);
    if (!s->nbuckets) {
        pthread_mutex_unlock(&s->mu);
        kv_free(e);
        return NULL;
    }
    if (*(p = slot(s, h, id, off))) /* another reader cached it first: replace */
        evict(s, *p);
    p = slot(s, h, id, off);
    e->hnext = NULL;
    *p = e;
    lru_append(s, e);
    s->count++;
    s->used += e->charge;
    while (s->used > s->capacity && s->lru.next != &s->lru && s->lru.next != e)
        evict(s, s->lru.next);
    if (s->used > s->capacity) /* larger than the whole shard: not kept */
        evict(s, e);
    pthread_mutex_unlock(&s->mu);
    return e;
    /* END SOLUTION */
}

void lsm_cache_release(lsm_cache *c, lsm_cache_block *e)
{
    if (!e)
        return;
    shard *s = shard_of(c, name_hash(e->id, e->off));
    pthread_mutex_lock(&s->mu);
    bool last = --e->refs == 0;
    pthread_mutex_unlock(&s->mu);
    if (last)
        entry_free(e);
}

const uint8_t *lsm_cache_data(const lsm_cache_block *e, size_t *n)
{
    *n = e->n;
    return e->data;
}

size_t lsm_cache_used(lsm_cache *c)
{
    size_t used = 0;
    for (unsigned i = 0; i < LSM_CACHE_SHARDS; i++) {
        pthread_mutex_lock(&c->shards[i].mu);
        used += c->shards[i].used;
        pthread_mutex_unlock(&c->shards[i].mu);
    }
    return used;
}
