/*
 * test_shm_corrupt.c — a segment damaged by a buggy peer: nothing read from
 * shared memory is trusted. Each case damages one structure of a live
 * store (a chain cycle, a bucket pointing outside the segment, an
 * impossible key length, a free-list head, a shard's level, the extent
 * count, a block header) and checks that operations answer KV_ECORRUPT (or
 * a correct answer), never crash or hang, and that the repair the error
 * triggers leaves a store that passes the full check. A last case
 * scribbles random bytes over the whole segment, many times.
 */
#define _DEFAULT_SOURCE
#include "shm_test_util.h"

#include <fcntl.h>

TestSuite(shm_bad, .init = tu_setup, .fini = tu_teardown, .timeout = 120);

#define N 400

static kv_db *filled(const char *opts)
{
    kv_db *db = tu_open(opts);
    unsigned char val[64];
    char key[32];

    for (uint64_t i = 0; i < N; i++)
        OK(kv_put(db, key, tu_key(i, key), val, tu_val(i, 1, val, 20 + i % 40)));
    return db;
}

/* The entry of key id (found through the index, under its shard's lock). */
static kvshm_entry *entry_of(kv_db *db, uint64_t id, kvshm_pos *pos)
{
    kvshm_seg *s = &kvshm_from(db)->seg;
    char key[32];
    size_t kl = tu_key(id, key);
    uint64_t h = kv_xxh3_64(key, kl);
    kvshm_shard *sh = &s->shards[kvshm_shard_of(s, h)];

    OK(kvshm_lock(s, sh->lock));
    OK(kvshm_index_find(s, sh, h, key, kl, pos));
    kvshm_unlock(sh->lock);
    cr_assert_not_null(pos->e);
    return pos->e;
}

/* Run every operation on every key: only sane statuses (and, when strict,
 * correct values: damage to a value's own bytes cannot be detected). */
static uint64_t sweep(kv_db *db, bool strict)
{
    kv_buf v = {0};
    char key[32];
    unsigned char val[64];
    uint64_t corrupt = 0;

    for (uint64_t i = 0; i < N; i++) {
        int rc = kv_get(db, key, tu_key(i, key), &v);
        cr_assert(rc == KV_OK || rc == KV_ENOTFOUND || rc == KV_ECORRUPT, "get: %d", rc);
        if (rc == KV_OK && strict)
            cr_assert_neq(tu_val_ver(i, &v), UINT64_MAX, "key %llu: wrong value",
                          (unsigned long long)i);
        corrupt += rc == KV_ECORRUPT;
        rc = kv_put(db, key, tu_key(i + N, key), val, tu_val(i + N, 1, val, 30));
        cr_assert(rc == KV_OK || rc == KV_ECORRUPT || rc == KV_EFULL, "put: %d", rc);
        rc = kv_delete(db, key, tu_key(i + N, key));
        cr_assert(rc == KV_OK || rc == KV_ENOTFOUND || rc == KV_ECORRUPT, "delete: %d", rc);
    }
    kv_buf_free(&v);
    return corrupt;
}

/* After the damage: an error is reported, then the store repairs itself. */
static void expect_repair(kv_db *db, uint64_t id)
{
    char key[32];
    kvshm_info in;
    int rc = kv_get(db, key, tu_key(id, key), NULL);

    cr_assert(rc == KV_ECORRUPT || rc == KV_OK || rc == KV_ENOTFOUND, "get: %d", rc);
    sweep(db, true);
    OK(kvshm_get_info(kvshm_from(db), &in));
    cr_assert_geq(in.corrupt, 1, "the damage went unnoticed");
    cr_assert_geq(in.repairs, 1, "no repair ran");
    tu_check(db);
}

Test(shm_bad, chain_cycle_does_not_hang)
{
    kv_db *db = filled("shards=1,buckets=1");
    kvshm_pos pos;
    kvshm_entry *e = entry_of(db, 7, &pos);

    kvshm_seg *s = &kvshm_from(db)->seg;
    kvshm_shard *sh = &s->shards[0];
    uint64_t b7 = kvshm_bucket_of(s, sh, e->hash), id = 10000;
    char key[32];

    atomic_store(&e->b.next, pos.addr); /* points at itself */
    while (kvshm_bucket_of(s, sh, kv_xxh3_64(key, tu_key(id, key))) != b7)
        id++; /* an absent key whose lookup must walk k7's chain to its end */
    RC(kv_get(db, key, tu_key(id, key), NULL), KV_ECORRUPT);
    expect_repair(db, 7);
    OK(kv_close(db));
}

Test(shm_bad, bucket_outside_the_segment)
{
    kv_db *db = filled("shards=1");
    kvshm_pos pos;

    entry_of(db, 3, &pos);
    atomic_store(pos.head,
                 (kvshm_addr)5 << KVSHM_ADDR_SHIFT | 64); /* an extent that is not there */
    expect_repair(db, 3);
    OK(kv_close(db));
}

Test(shm_bad, impossible_key_length)
{
    kv_db *db = filled(NULL);
    kvshm_pos pos;

    entry_of(db, 11, &pos)->klen = 0x7fffffff;
    RC(kv_get(db, "k11", 3, NULL), KV_ECORRUPT);
    expect_repair(db, 11);
    RC(kv_get(db, "k11", 3, NULL), KV_ENOTFOUND); /* the damaged entry was dropped */
    OK(kv_close(db));
}

Test(shm_bad, misaligned_and_null_links)
{
    kv_db *db = filled("shards=1,buckets=1");
    kvshm_pos pos;

    entry_of(db, 20, &pos);
    atomic_store(&pos.e->b.next, pos.addr + 8); /* misaligned */
    expect_repair(db, 20);
    OK(kv_close(db));
}

Test(shm_bad, free_list_head_garbage)
{
    kv_db *db = filled(NULL);
    kvshm_seg *s = &kvshm_from(db)->seg;
    unsigned char val[64];

    OK(kv_delete(db, "k5", 2)); /* puts a block on a free list */
    for (uint32_t c = 0; c < KVSHM_NCLASSES; c++)
        if (s->hdr->free_head[c])
            s->hdr->free_head[c] = 0x123456789ull;
    RC(kv_put(db, "k5", 2, val, tu_val(5, 1, val, 20 + 5)), KV_ECORRUPT);
    expect_repair(db, 5);
    OK(kv_close(db));
}

Test(shm_bad, shard_level_out_of_range)
{
    kv_db *db = filled("shards=2");
    kvshm_seg *s = &kvshm_from(db)->seg;

    s->shards[0].level = 200;
    s->shards[1].split = 1ull << 60;
    expect_repair(db, 1);
    OK(kv_close(db));
}

Test(shm_bad, block_header_class_garbage)
{
    kv_db *db = filled(NULL);
    kvshm_pos pos;

    entry_of(db, 30, &pos)->b.cls = 9999;
    RC(kv_get(db, "k30", 3, NULL), KV_ECORRUPT);
    expect_repair(db, 30);
    OK(kv_close(db));
}

Test(shm_bad, extent_count_garbage)
{
    kv_db *db = filled(NULL);
    kvshm_seg *s = &kvshm_from(db)->seg;
    kv_db *other;
    int rc;

    atomic_store(&s->hdr->n_extents, 77); /* extents the file does not have */
    rc = kv_open("shm", tu_path(0, "db"), NULL, &other);
    cr_assert_eq(rc, KV_ECORRUPT, "open: %d", rc);
    sweep(db, true); /* this process mapped what existed: it keeps working */
    OK(kv_close(db));
}

/* Random bytes over the live segment (the index, chunks, blocks, allocator). */
Test(shm_bad, random_scribbles_never_crash)
{
    const char *env = getenv("KVSHM_TEST_SEED"); /* to hunt with other seeds */
    uint64_t seed = env && *env ? strtoull(env, NULL, 0) | 1 : 0x2545F4914F6CDD1Dull;
    size_t rounds = tu_scale(60);

    for (size_t r = 0; r < rounds; r++) {
        kv_db *db = filled(r % 2 ? "shards=2,buckets=2,log_entries=8" : "log_entries=8");
        kvshm_seg *s = &kvshm_from(db)->seg;
        uint64_t used = s->hdr->bump_off, lo = s->hdr->shards_off;
        for (int k = 0; k < 1 + (int)(r % 8); k++) {
            seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
            uint64_t off = lo + seed % (used - lo);
            if (off >= s->hdr->log_off && off < s->data_off)
                continue; /* the log ring holds no structure */
            if (off < s->hdr->log_off && (off - lo) % sizeof(kvshm_shard) < KVSHM_LOCK_SLOT)
                continue; /* a scribbled mutex is beyond repair: not tested */
            s->base[0][off] ^= (unsigned char)(1u + (seed >> 40) % 255);
        }
        sweep(db, false);
        sweep(db, false); /* after the repair the first errors triggered */
        /* Damage no operation tripped over (a key's bytes, a hash) is found
         * by a repair, which `kvshm check` would ask for: run one. */
        atomic_fetch_or(&s->hdr->flags, KVSHM_F_REPAIR);
        OK(kvshm_repair(s));
        sweep(db, false);
        tu_check(db);
        OK(kv_close(db));
        kvt_rmrf(tu_path(0, "db"));
    }
}
