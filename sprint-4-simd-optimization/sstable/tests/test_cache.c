/*
 * test_cache.c — the block cache's own tests (sstable_cache.c), one
 * concept per suite:
 *   cache/  LRU order and capacity within a shard, pinned entries outliving
 *           eviction, one entry per name, blocks larger than a shard,
 *           tables with different ids kept apart
 *   cached/ a table read through a cache: the second read of a block is a
 *           hit (no file read), the answers are the same as without one,
 *           and a table iterator releases what it pins
 * Each test is written as if a student had made the bug it targets: the
 * most recently used entry evicted instead of the oldest, a lookup that does
 * not refresh the LRU position, an evicted entry freed while a reader still
 * holds it (ASan), a charge never given back, a name that ignores the table.
 *
 * The cache splits capacity over 16 shards by a hash of (id, offset); the
 * tests that count evictions put every block into one shard by searching
 * for offsets that land there (same_shard), so they do not depend on the
 * hash.
 *
 * Every cache, pinned entry, block, env, file, table and buffer a test
 * makes is owned (sst_test.h), so a failed assertion leaks nothing.
 */
/* through the lab's -I sstable, as in test_sstable.c */
#include "tests/sst_test.h"

SST_SUITE(cache);

#define SHARDS 16

/* A block's bytes (kv_malloc'd), owned until a cache takes them (insert()). */
static uint8_t *block_of(size_t n, uint8_t fill)
{
    uint8_t *p = kvt_own(kv_malloc(n), sst_kv_free_owned);
    cr_assert_not_null(p);
    memset(p, fill, n);
    return p;
}

/* The cache of the pinned entries a test owns (one cache a test holds pins of). */
static lsm_cache *pins_of;

static void release_owned(void *e)
{
    lsm_cache_release(pins_of, e);
}

/* lsm_cache_insert() of block_of(n, fill): the entry, pinned and owned
 * (kvt_drop() releases it); the block the cache's once inserted. */
static lsm_cache_block *insert(lsm_cache *c, uint64_t id, uint64_t off, size_t n, uint8_t fill)
{
    uint8_t *data = block_of(n, fill);
    lsm_cache_block *e = lsm_cache_insert(c, id, off, data, n);
    if (e) {
        kvt_disown(data);
        pins_of = c;
        kvt_own(e, release_owned);
    }
    return e;
}

/* Insert (id, off) and release it; the entry must stay cached. */
static void put_block(lsm_cache *c, uint64_t id, uint64_t off, size_t n)
{
    lsm_cache_block *e = insert(c, id, off, n, (uint8_t)off);
    cr_assert_not_null(e);
    kvt_drop(e); /* lsm_cache_release() */
}

/* A new cache of capacity cap, owned (kvt_drop() frees it). */
static lsm_cache *new_cache(size_t cap)
{
    lsm_cache *c = NULL;
    cr_assert_eq(lsm_cache_new(cap, &c), KV_OK);
    return sst_own_cache(c);
}

static bool cached(lsm_cache *c, uint64_t id, uint64_t off)
{
    lsm_cache_block *e = lsm_cache_lookup(c, id, off);
    lsm_cache_release(c, e);
    return e != NULL;
}

/* lsm_cache_lookup(), the entry owned when found (kvt_drop() releases it). */
static lsm_cache_block *lookup(lsm_cache *c, uint64_t id, uint64_t off)
{
    lsm_cache_block *e = lsm_cache_lookup(c, id, off);
    if (e) {
        pins_of = c;
        kvt_own(e, release_owned);
    }
    return e;
}

/* Offset 0 and offsets whose blocks share its shard: found by watching
 * which insert into a cache of one-block shards evicts block 0. */
static size_t same_shard(uint64_t id, uint64_t *offs, size_t want)
{
    size_t got = 1;
    offs[0] = 0;
    for (uint64_t off = 1; got < want && off < 100000; off++) {
        lsm_cache *c = new_cache(SHARDS * (1000 + 64));
        put_block(c, id, 0, 1000);
        put_block(c, id, off, 1000);
        if (!cached(c, id, 0))
            offs[got++] = off;
        kvt_drop(c); /* lsm_cache_free() */
    }
    return got;
}

Test(cache, hit_after_insert_and_miss_for_other_names)
{
    lsm_cache *c = new_cache(1 << 20);
    uint64_t a = lsm_cache_new_id(c), b = lsm_cache_new_id(c);
    cr_assert_neq(a, b, "two tables got the same id");
    put_block(c, a, 4096, 100);
    lsm_cache_block *e = lookup(c, a, 4096);
    cr_assert_not_null(e);
    size_t n;
    const uint8_t *p = lsm_cache_data(e, &n);
    cr_assert_eq(n, 100);
    cr_assert_eq(p[0], (uint8_t)4096);
    kvt_drop(e);
    cr_assert(!cached(c, b, 4096), "another table's block at the same offset");
    cr_assert(!cached(c, a, 0), "another offset");
    cr_assert_geq(lsm_cache_used(c), 100);
    kvt_drop(c);
}

Test(cache, least_recently_used_goes_first)
{
    uint64_t offs[4];
    cr_assert_eq(same_shard(7, offs, 4), 4);
    /* three 1000-byte blocks fit a shard, four do not */
    lsm_cache *c = new_cache(SHARDS * 3 * (1000 + 64));
    put_block(c, 7, offs[0], 1000);
    put_block(c, 7, offs[1], 1000);
    put_block(c, 7, offs[2], 1000);
    cr_assert(cached(c, 7, offs[0]), "the oldest block gone before the shard was full");
    /* offs[0] is now the most recently used: offs[1] is the oldest */
    put_block(c, 7, offs[3], 1000);
    cr_assert(!cached(c, 7, offs[1]), "the least recently used block was kept");
    cr_assert(cached(c, 7, offs[0]), "a block just looked up was evicted (lookup must refresh)");
    cr_assert(cached(c, 7, offs[2]));
    cr_assert(cached(c, 7, offs[3]), "the newest block was evicted");
    kvt_drop(c);
}

Test(cache, capacity_bounds_the_bytes_and_eviction_gives_them_back)
{
    size_t cap = 64 << 10;
    lsm_cache *c = new_cache(cap);
    for (uint64_t off = 0; off < 2000; off++)
        put_block(c, 1, off * 4096, 512 + (size_t)(off % 7) * 100);
    cr_assert_leq(lsm_cache_used(c), cap, "cache holds %zu bytes, capacity %zu",
                  lsm_cache_used(c), cap);
    cr_assert_gt(lsm_cache_used(c), cap / 2, "cache keeps far less than its capacity");
    size_t kept = 0;
    for (uint64_t off = 0; off < 2000; off++)
        kept += cached(c, 1, off * 4096);
    cr_assert_gt(kept, 10);
    cr_assert_lt(kept, 2000);
    cr_assert(cached(c, 1, 1999 * 4096), "the last block inserted is gone");
    kvt_drop(c);
}

Test(cache, pinned_entry_outlives_eviction)
{
    uint64_t offs[2];
    cr_assert_eq(same_shard(3, offs, 2), 2);
    lsm_cache *c = new_cache(SHARDS * (1000 + 64)); /* one block a shard */
    lsm_cache_block *e = insert(c, 3, offs[0], 1000, 0xab);
    cr_assert_not_null(e);
    put_block(c, 3, offs[1], 1000); /* evicts offs[0] while it is pinned */
    cr_assert(!cached(c, 3, offs[0]));
    size_t n;
    const uint8_t *p = lsm_cache_data(e, &n);
    for (size_t i = 0; i < n; i++) /* ASan: a use after free if eviction freed it */
        cr_assert_eq(p[i], 0xab);
    kvt_drop(e);
    kvt_drop(c);
}

Test(cache, block_larger_than_a_shard_is_served_not_kept)
{
    lsm_cache *c = new_cache(SHARDS * 1024);
    put_block(c, 1, 0, 100);
    lsm_cache_block *e = insert(c, 1, 8192, 5000, 7);
    cr_assert_not_null(e);
    size_t n;
    cr_assert_eq(lsm_cache_data(e, &n)[4999], 7);
    kvt_drop(e);
    cr_assert(!cached(c, 1, 8192), "a block larger than its shard was kept");
    cr_assert_leq(lsm_cache_used(c), SHARDS * 1024);
    kvt_drop(c);
}

Test(cache, second_insert_of_a_name_replaces_the_first)
{
    lsm_cache *c = new_cache(1 << 20);
    lsm_cache_block *a = insert(c, 2, 0, 300, 1);
    lsm_cache_block *b = insert(c, 2, 0, 300, 2);
    cr_assert(a && b);
    cr_assert_lt(lsm_cache_used(c), 2 * 300, "both copies charged");
    lsm_cache_block *e = lookup(c, 2, 0);
    size_t n;
    cr_assert_eq(lsm_cache_data(e, &n)[0], 2, "the older copy answered");
    cr_assert_eq(lsm_cache_data(a, &n)[0], 1, "the replaced copy changed under its reader");
    kvt_drop(e);
    kvt_drop(a);
    kvt_drop(b);
    kvt_drop(c);
}

/* ---- a table read through a cache ------------------------------------------ */

static kv_env *env;
static void cached_setup(void)
{
    env = kv_env_mem_new(); /* owned: the suite's .fini frees it, after the tables */
    cr_assert_not_null(env);
}
SST_SUITE(cached, .init = cached_setup);

static size_t ukey(char *buf, unsigned i)
{
    return (size_t)snprintf(buf, 16, "key%06u", i);
}

static lsm_table *table_with(unsigned n, lsm_read_stats *rs)
{
    kv_file *f;
    lsm_table_builder *b;
    lsm_table_opts o = {.block_size = 512, .restart_every = 16, .bloom_bits = 10};
    uint8_t k[32];
    char v[32];
    uint64_t size;
    if (kv_env_open(env, "/t", KV_O_RDONLY, &f) != KV_OK) {
        cr_assert_eq(kv_env_open(env, "/t", KV_O_RDWR | KV_O_CREAT, &f), KV_OK);
        sst_own_file(f);
        cr_assert_eq(lsm_table_builder_new(f, &o, &b), KV_OK);
        sst_own_builder(b);
        for (unsigned i = 0; i < n; i++) {
            size_t kn = ukey((char *)k, i);
            lsm_put_le64(k + kn, lsm_trailer(1 + i, LSM_TYPE_VALUE));
            int vn = snprintf(v, sizeof v, "value%u", i);
            cr_assert_eq(lsm_table_builder_add(b, k, kn + LSM_TRAILER, v, (size_t)vn), KV_OK);
        }
        cr_assert_eq(lsm_table_builder_finish(b, &size), KV_OK);
        kvt_drop(b); /* lsm_table_builder_free() */
        kvt_disown(f);
        cr_assert_eq(kv_file_close(f), KV_OK);
        cr_assert_eq(kv_env_open(env, "/t", KV_O_RDONLY, &f), KV_OK);
    }
    lsm_table *t;
    sst_own_file(f);
    cr_assert_eq(kv_file_size(f, &size), KV_OK);
    kvt_disown(f); /* the table's from here on, also on failure */
    cr_assert_eq(lsm_table_open(f, size, rs, &t), KV_OK);
    return sst_own_table(t);
}

static void get_all(lsm_table *t, unsigned n)
{
    static kv_buf v; /* owned: static, as a failed assertion leaves this frame */
    kvt_own(&v, kvt_buf_free_owned);
    char k[16], want[32];
    unsigned type;
    for (unsigned i = 0; i < n; i++) {
        cr_assert_eq(lsm_table_get(t, k, ukey(k, i), LSM_MAX_SEQ, &type, &v), KV_OK, "key %u", i);
        int wn = snprintf(want, sizeof want, "value%u", i);
        cr_assert_eq(v.len, (size_t)wn);
        cr_assert_eq(memcmp(v.data, want, v.len), 0, "key %u: wrong value through the cache", i);
    }
    kvt_drop(&v);
}

Test(cached, second_read_of_a_block_is_a_hit)
{
    lsm_read_stats rs = {0};
    unsigned n = 2000;
    rs.cache = new_cache(8 << 20);
    lsm_table *t = table_with(n, &rs);
    get_all(t, n);
    uint64_t reads = rs.blocks_read, misses = rs.cache_misses;
    cr_assert_gt(reads, 10, "the table spans many blocks");
    cr_assert_eq(misses, reads, "every block read is a miss first");
    cr_assert_gt(rs.cache_hits, 0, "keys of one block: the later ones hit");
    get_all(t, n);
    cr_assert_eq(rs.blocks_read, reads, "a cached block was read again from the file");
    cr_assert_eq(rs.cache_hits, (uint64_t)2 * n - reads);
    /* a second table over the same file (a new id) does not see those blocks */
    lsm_table *t2 = table_with(n, &rs);
    get_all(t2, 1);
    cr_assert_eq(rs.blocks_read, reads + 1);
    kvt_drop(t2); /* lsm_table_close() */
    kvt_drop(t);
    kvt_drop(rs.cache); /* lsm_cache_free() */
}

Test(cached, tiny_cache_gives_the_same_answers_and_iterators_release)
{
    lsm_read_stats rs = {0};
    unsigned n = 3000;
    rs.cache = new_cache(SHARDS * 700); /* about one block a shard */
    lsm_table *t = table_with(n, &rs);
    get_all(t, n);
    lsm_iter *it;
    cr_assert_eq(lsm_table_iter(t, &it), KV_OK);
    sst_own_iter(it);
    unsigned seen = 0;
    for (it->ops->first(it); it->ops->valid(it); it->ops->next(it))
        seen++;
    cr_assert_eq(seen, n);
    cr_assert_eq(it->ops->status(it), KV_OK);
    kvt_drop(it); /* closes it */
    cr_assert_leq(lsm_cache_used(rs.cache), SHARDS * 700);
    kvt_drop(t);
    kvt_drop(rs.cache); /* LeakSanitizer: a pin never released leaks its block */
}
