/*
 * cow_benchmarks.c — the micro-benchmarks of the copy-on-write B+ tree
 * (engine cowbtree, cow/), registered with kvbench (kvlabs/micro.h).
 *
 * kvbench's workloads measure cowbtree through kv.h like every other
 * engine (fillrandom, readrandom, ... with `--engines 'cowbtree;lmdb'`).
 * These measure what they cannot: the pager, the meta flip, snapshots and
 * readers next to a writer, the costs the roadmap names:
 *
 *   open_close_empty            kv_open + kv_close of an empty store
 *   read_page_random_16k_hot    cow_pager_get of a random 16 KiB page, in the cache
 *   read_page_random_16k_cold   the same page read from the file and checked
 *                               (pread + CRC32C + structure), the engine's cache
 *                               bypassed; the OS page cache is not dropped (that
 *                               needs root): best effort, as the issue allows
 *   commit_meta_fsync           an empty checkpoint: fsync, write the next meta
 *                               (A/B), fsync, restart the log (its fsync too)
 *   build_sequential_insert_1m  one kv_put of the next key in order (sync=none)
 *   point_get_hot_1m            one kv_get of a random key
 *   range_scan_1k_rows_hot      a seek to a random key and 1000 rows read
 *   snapshot_open_close         a read transaction begun and ended
 *   readers_N_point_get_hot     one kv_get while N = 3 other threads get too
 *   writer_commits_with_readers one kv_put commit (sync=none) while 3 threads get
 *
 * Sizes. The stores of the *_1m, *_hot and *_readers benchmarks hold
 * max(10000, min(n, 1000000)) keys of 16 bytes with 100-byte values
 * (benchmarks/bench_keys.h, kvbench's format): 1M at -n 1000000 and above,
 * a small store in make test's runs (-n 300). build_sequential_insert_1m
 * inserts n keys (the 1M build at -n 1000000). Setup builds the store with
 * sync=none in a fresh directory under $TMPDIR (default /tmp); teardown
 * closes and removes it.
 *
 * What callers must not do: run two repeats' contexts at once (each owns
 * its directory and threads; kvbench runs them one after another).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_keys.h"
#include "cow.h"
#include "cow_int.h"
#include "kvlabs/env.h"
#include "kvlabs/kv.h"
#include "kvlabs/micro.h"

#define COW_BIG 1000000u
#define COW_SMALL 10000u
#define COW_SCAN 1000u
#define COW_READERS_N 3u

typedef struct cowb {
    char dir[512];
    kv_db *db;
    uint64_t keys;   /* keys in the store */
    uint64_t seed;
    uint64_t *pages; /* read_page_*: the store's tree pages */
    size_t npages;
    unsigned char *buf;
    pthread_t thr[COW_READERS_N];
    unsigned nthr;
    atomic_bool stop;
    uint8_t k[BK_KEY], v[BK_VALUE];
} cowb;

static atomic_uint dir_counter;

static uint64_t store_keys(uint64_t n)
{
    return n < COW_SMALL ? COW_SMALL : n > COW_BIG ? COW_BIG : n;
}

static uint64_t rnd(uint64_t *s)
{
    return kv_splitmix64(s);
}

static void remove_dir(const char *dir)
{
    kv_env_remove_dir(kv_env_posix(), dir); /* a benchmark's scratch store */
}

static void cowb_free(cowb *b)
{
    if (!b)
        return;
    atomic_store(&b->stop, true);
    for (unsigned i = 0; i < b->nthr; i++)
        pthread_join(b->thr[i], NULL);
    if (b->db)
        kv_close(b->db);
    if (b->dir[0])
        remove_dir(b->dir);
    free(b->pages);
    free(b->buf);
    free(b);
}

/* A context with an open store of `keys` keys (0: empty), in a new directory. */
static int cowb_new(cowb **out, uint64_t keys, uint64_t seed, const char *opts)
{
    const char *tmp = getenv("TMPDIR");
    cowb *b = calloc(1, sizeof(*b));
    int rc;

    if (!b)
        return KV_ENOMEM;
    b->seed = seed;
    snprintf(b->dir, sizeof(b->dir), "%s/kvbench-cow-%ld-%u", tmp && *tmp ? tmp : "/tmp",
             (long)getpid(), atomic_fetch_add(&dir_counter, 1));
    remove_dir(b->dir); /* a leftover of a killed run */
    rc = kv_open("cowbtree", b->dir, opts ? opts : "sync=none", &b->db);
    if (rc != KV_OK) {
        b->dir[0] = 0; /* not ours to remove */
        cowb_free(b);
        return rc;
    }
    for (uint64_t i = 0; i < keys && rc == KV_OK; i++) {
        bk_key(b->k, i);
        bk_value(b->v, i);
        rc = kv_put(b->db, b->k, BK_KEY, b->v, BK_VALUE);
    }
    b->keys = keys;
    if (rc != KV_OK) {
        cowb_free(b);
        return rc;
    }
    *out = b;
    return KV_OK;
}

static void cowb_teardown(void *ctx)
{
    cowb_free(ctx);
}

/* ---- open_close_empty ---- */

static int empty_setup(void **ctx, uint64_t n, uint64_t seed)
{
    cowb *b;
    int rc = cowb_new(&b, 0, seed, NULL);
    (void)n;
    if (rc == KV_OK) {
        kv_close(b->db); /* run() opens and closes it */
        b->db = NULL;
        *ctx = b;
    }
    return rc;
}

static int empty_run(void *ctx, uint64_t i)
{
    cowb *b = ctx;
    kv_db *db;
    int rc = kv_open("cowbtree", b->dir, "sync=none", &db);
    (void)i;
    if (rc == KV_OK)
        rc = kv_close(db);
    return rc != KV_OK;
}

/* ---- read_page_random_16k_hot / _cold ---- */

static int collect_page(void *arg, uint64_t pgno, const unsigned char *page, int depth)
{
    cowb *b = arg;
    uint64_t *p;
    (void)page;
    (void)depth;
    if (b->npages % 1024 == 0) {
        p = realloc(b->pages, (b->npages + 1024) * sizeof(*p));
        if (!p)
            return KV_ENOMEM;
        b->pages = p;
    }
    b->pages[b->npages++] = pgno;
    return KV_OK;
}

static int pages_setup(void **ctx, uint64_t n, uint64_t seed)
{
    cowb *b;
    cow_db *db;
    cow_version v;
    uint8_t *seen;
    int rc = cowb_new(&b, store_keys(n), seed, "sync=none,page_size=16K");

    if (rc != KV_OK)
        return rc;
    db = (cow_db *)b->db;
    /* a checkpoint writes every page, so that the cold reads find them in the file */
    pthread_mutex_lock(&db->wlock);
    rc = cow_checkpoint(db, false);
    pthread_mutex_unlock(&db->wlock);
    cow_snap_current(&db->snaps, &v);
    seen = calloc(db->next_pgno, 1);
    if (rc == KV_OK && !seen)
        rc = KV_ENOMEM;
    if (rc == KV_OK)
        rc = cow_walk(db, v.root, v.txnid, db->next_pgno, seen, collect_page, b, true);
    free(seen);
    if (rc == KV_OK && (b->npages == 0 || !(b->buf = malloc(db->pg.psize))))
        rc = KV_ENOMEM;
    if (rc != KV_OK) {
        cowb_free(b);
        return rc;
    }
    *ctx = b;
    return KV_OK;
}

static int page_hot_run(void *ctx, uint64_t i)
{
    cowb *b = ctx;
    const unsigned char *p;
    (void)i;
    return cow_pager_get(&((cow_db *)b->db)->pg, b->pages[rnd(&b->seed) % b->npages], &p) != KV_OK;
}

static int page_cold_run(void *ctx, uint64_t i)
{
    cowb *b = ctx;
    cow_db *db = (cow_db *)b->db;
    uint64_t pgno = b->pages[rnd(&b->seed) % b->npages];
    (void)i;
    if (cow_pager_read_raw(&db->pg, pgno * db->pg.psize, b->buf, db->pg.psize) != KV_OK)
        return 1;
    return cow_page_check(b->buf, db->pg.psize, pgno) != KV_OK;
}

/* ---- commit_meta_fsync ---- */

static int meta_setup(void **ctx, uint64_t n, uint64_t seed)
{
    cowb *b;
    int rc = cowb_new(&b, 100, seed, "sync=none");
    (void)n;
    if (rc == KV_OK)
        *ctx = b;
    return rc;
}

static int meta_run(void *ctx, uint64_t i)
{
    cow_db *db = (cow_db *)((cowb *)ctx)->db;
    int rc;
    (void)i;
    pthread_mutex_lock(&db->wlock);
    rc = cow_checkpoint(db, false);
    pthread_mutex_unlock(&db->wlock);
    return rc != KV_OK;
}

/* ---- build_sequential_insert_1m ---- */

static int build_setup(void **ctx, uint64_t n, uint64_t seed)
{
    cowb *b;
    int rc = cowb_new(&b, 0, seed, "sync=none");
    (void)n;
    if (rc == KV_OK)
        *ctx = b;
    return rc;
}

static int build_run(void *ctx, uint64_t i)
{
    cowb *b = ctx;
    /* warm-up calls reuse small indices: they overwrite, the measured ones append */
    bk_key(b->k, b->keys);
    bk_value(b->v, b->keys);
    (void)i;
    b->keys++;
    return kv_put(b->db, b->k, BK_KEY, b->v, BK_VALUE) != KV_OK;
}

/* ---- point_get_hot_1m, range_scan_1k_rows_hot, snapshot_open_close ---- */

static int big_setup(void **ctx, uint64_t n, uint64_t seed)
{
    cowb *b;
    int rc = cowb_new(&b, store_keys(n), seed, "sync=none");
    if (rc == KV_OK)
        *ctx = b;
    return rc;
}

static int get_one(cowb *b, uint64_t *seed)
{
    uint8_t k[BK_KEY];
    kv_buf v = {0};
    int rc;
    bk_key(k, rnd(seed) % b->keys);
    rc = kv_get(b->db, k, BK_KEY, &v);
    kv_buf_free(&v);
    return rc;
}

static int get_run(void *ctx, uint64_t i)
{
    cowb *b = ctx;
    (void)i;
    return get_one(b, &b->seed) != KV_OK;
}

static int scan_run(void *ctx, uint64_t i)
{
    cowb *b = ctx;
    kv_iter *it;
    unsigned rows = 0;
    size_t sum = 0;
    (void)i;
    if (kv_iter_open(b->db, &it) != KV_OK)
        return 1;
    bk_key(b->k, rnd(&b->seed) % (b->keys > COW_SCAN ? b->keys - COW_SCAN : 1));
    for (kv_iter_seek(it, b->k, BK_KEY); rows < COW_SCAN && kv_iter_valid(it); kv_iter_next(it)) {
        const void *k, *v;
        size_t kl, vl;
        kv_iter_key(it, &k, &kl);
        kv_iter_value(it, &v, &vl);
        sum += kl + vl;
        rows++;
    }
    kv_iter_close(it);
    return rows != COW_SCAN || sum != COW_SCAN * (BK_KEY + BK_VALUE);
}

static int snap_run(void *ctx, uint64_t i)
{
    cowb *b = ctx;
    cow_txn *t;
    (void)i;
    if (cow_txn_begin(b->db, COW_TXN_READ, &t) != KV_OK)
        return 1;
    return cow_txn_commit(t) != KV_OK;
}

/* ---- readers_N_point_get_hot, writer_commits_with_readers ---- */

static void *reader_main(void *arg)
{
    cowb *b = arg;
    uint64_t seed = b->seed ^ (uint64_t)(uintptr_t)&seed;
    while (!atomic_load_explicit(&b->stop, memory_order_relaxed))
        (void)get_one(b, &seed);
    return NULL;
}

static int readers_setup(void **ctx, uint64_t n, uint64_t seed)
{
    cowb *b;
    int rc = big_setup((void **)&b, n, seed);
    if (rc != KV_OK)
        return rc;
    for (; b->nthr < COW_READERS_N; b->nthr++)
        if (pthread_create(&b->thr[b->nthr], NULL, reader_main, b) != 0) {
            cowb_free(b);
            return KV_ENOMEM;
        }
    *ctx = b;
    return KV_OK;
}

static int writer_run(void *ctx, uint64_t i)
{
    cowb *b = ctx;
    (void)i;
    bk_key(b->k, rnd(&b->seed) % b->keys);
    bk_value(b->v, i);
    return kv_put(b->db, b->k, BK_KEY, b->v, BK_VALUE) != KV_OK;
}

const struct kv_micro_bench kv_micro_open_close_empty = {
    .name = "open_close_empty", .summary = "cowbtree: kv_open + kv_close of an empty store",
    .setup = empty_setup, .run = empty_run, .teardown = cowb_teardown,
};
const struct kv_micro_bench kv_micro_read_page_random_16k_hot = {
    .name = "read_page_random_16k_hot",
    .summary = "cowbtree pager: a random 16 KiB tree page from the cache",
    .setup = pages_setup, .run = page_hot_run, .teardown = cowb_teardown, .bytes_per_op = 16384,
};
const struct kv_micro_bench kv_micro_read_page_random_16k_cold = {
    .name = "read_page_random_16k_cold",
    .summary = "cowbtree pager: a random 16 KiB page read from the file and checked "
               "(engine cache bypassed; OS cache not dropped)",
    .setup = pages_setup, .run = page_cold_run, .teardown = cowb_teardown, .bytes_per_op = 16384,
};
const struct kv_micro_bench kv_micro_commit_meta_fsync = {
    .name = "commit_meta_fsync",
    .summary = "cowbtree: an empty checkpoint (fsync, next A/B meta, fsync, log restart)",
    .setup = meta_setup, .run = meta_run, .teardown = cowb_teardown,
};
const struct kv_micro_bench kv_micro_build_sequential_insert_1m = {
    .name = "build_sequential_insert_1m",
    .summary = "cowbtree: one kv_put of the next key in order (n keys; sync=none)",
    .setup = build_setup, .run = build_run, .teardown = cowb_teardown,
    .bytes_per_op = BK_KEY + BK_VALUE,
};
const struct kv_micro_bench kv_micro_point_get_hot_1m = {
    .name = "point_get_hot_1m", .summary = "cowbtree: kv_get of a random key, 1M keys",
    .setup = big_setup, .run = get_run, .teardown = cowb_teardown,
};
const struct kv_micro_bench kv_micro_range_scan_1k_rows_hot = {
    .name = "range_scan_1k_rows_hot",
    .summary = "cowbtree: seek to a random key and read 1000 rows, 1M keys",
    .setup = big_setup, .run = scan_run, .teardown = cowb_teardown,
    .bytes_per_op = COW_SCAN * (BK_KEY + BK_VALUE),
};
const struct kv_micro_bench kv_micro_snapshot_open_close = {
    .name = "snapshot_open_close", .summary = "cowbtree: a read transaction begun and ended",
    .setup = big_setup, .run = snap_run, .teardown = cowb_teardown,
};
const struct kv_micro_bench kv_micro_readers_N_point_get_hot = {
    .name = "readers_N_point_get_hot",
    .summary = "cowbtree: kv_get of a random key while N=3 other threads get, 1M keys",
    .setup = readers_setup, .run = get_run, .teardown = cowb_teardown,
};
const struct kv_micro_bench kv_micro_writer_commits_with_readers = {
    .name = "writer_commits_with_readers",
    .summary = "cowbtree: one kv_put commit (sync=none) while 3 threads get, 1M keys",
    .setup = readers_setup, .run = writer_run, .teardown = cowb_teardown,
    .bytes_per_op = BK_KEY + BK_VALUE,
};
