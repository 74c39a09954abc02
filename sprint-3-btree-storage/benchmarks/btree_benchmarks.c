/*
 * btree_benchmarks.c — the B+ tree's micro-benchmarks, registered with
 * kvbench (common/include/kvlabs/micro.h; listed in this lab's LAB_MICROS and linked into
 * kvbench through bench/lab.mk), so they run with `kvbench --micros ...`,
 * land in kvbench's JSON results (engine "micro") and in the
 * micro-benchmark table of `make report`.
 *
 * The engine-level comparison (btree against sprint 2's hash and LMDB:
 * fillseq, fillrandom, readrandom, scan of 100 and 1000 keys) is kvbench's
 * own workloads with `--engines 'btree;hash;lmdb'` and `--scan-len`; see
 * this part's README. What kvbench's workloads cannot show is measured here,
 * on the core (bpt.h) without the kv.h front end:
 *
 *   btree_get_1m         one bpt_get of a random key in a tree of 1M
 *                        bulk-loaded entries (16-byte keys, 100-byte values)
 *   btree_scan1000_1m    one bpt_scan of 1000 entries from a random key in
 *                        the same tree, copying each entry out (what an
 *                        iterator batch does)
 *   btree_bulk_load_10k  one bulk load of 10,000 sorted entries into a new
 *                        tree, then its destruction
 *
 * Setup builds the 1M tree once per repeat (about a second); the measured
 * calls then only read it.
 */
#include <stdlib.h>

#include "bench_keys.h"
#include "bpt.h"
#include "kvlabs/micro.h"
#include "kvlabs/kv.h"

#define BIG 1000000u
#define BULK 10000u
#define SCAN 1000u
#define ORDER 64u

struct src {
    uint64_t i, n;
    uint8_t k[BK_KEY], v[BK_VALUE];
};

static int src_next(void *arg, const void **k, size_t *kl, const void **v, size_t *vl)
{
    struct src *s = arg;
    if (s->i == s->n)
        return 0;
    bk_key(s->k, s->i);
    bk_value(s->v, s->i);
    s->i++;
    *k = s->k;
    *kl = BK_KEY;
    *v = s->v;
    *vl = BK_VALUE;
    return 1;
}

struct ctx {
    bpt_tree *t;
    uint64_t seed;
    uint8_t out[SCAN * (BK_KEY + BK_VALUE)];
    size_t used;
};

static int big_setup(void **ctx, uint64_t n, uint64_t seed)
{
    struct ctx *c = calloc(1, sizeof(*c));
    struct src s = {.n = BIG};
    (void)n;
    if (!c)
        return KV_ENOMEM;
    c->seed = seed;
    if (bpt_create(ORDER, &c->t) != BPT_OK || bpt_bulk_load(c->t, src_next, &s) != BPT_OK) {
        bpt_destroy(c->t);
        free(c);
        return KV_ENOMEM;
    }
    *ctx = c;
    return KV_OK;
}

static void big_teardown(void *ctx)
{
    struct ctx *c = ctx;
    if (!c)
        return;
    bpt_destroy(c->t);
    free(c);
}

static uint64_t pick(struct ctx *c, uint64_t i)
{
    uint64_t s = c->seed ^ (i * 0x9e3779b97f4a7c15ull);
    return kv_splitmix64(&s) % BIG;
}

static int copy_value(void *arg, const void *v, size_t n)
{
    struct ctx *c = arg;
    memcpy(c->out, v, n);
    return 0;
}

static int get_run(void *ctx, uint64_t i)
{
    struct ctx *c = ctx;
    uint8_t k[BK_KEY];
    bk_key(k, pick(c, i));
    return bpt_get(c->t, k, BK_KEY, copy_value, c) != BPT_OK;
}

static int scan_visit(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
    struct ctx *c = arg;
    if (c->used + kl + vl > sizeof(c->out))
        return 1;
    memcpy(c->out + c->used, k, kl);
    memcpy(c->out + c->used + kl, v, vl);
    c->used += kl + vl;
    return 0;
}

static int scan_run(void *ctx, uint64_t i)
{
    struct ctx *c = ctx;
    uint8_t k[BK_KEY];
    bk_key(k, pick(c, i) % (BIG - SCAN));
    c->used = 0;
    if (bpt_scan(c->t, k, BK_KEY, false, scan_visit, c) != BPT_OK)
        return 1;
    return c->used != SCAN * (BK_KEY + BK_VALUE);
}

static int bulk_run(void *ctx, uint64_t i)
{
    bpt_tree *t;
    struct src s = {.n = BULK};
    int rc;
    (void)ctx;
    (void)i;
    if (bpt_create(ORDER, &t) != BPT_OK)
        return 1;
    rc = bpt_bulk_load(t, src_next, &s);
    bpt_destroy(t);
    return rc != BPT_OK;
}

const struct kv_micro_bench kv_micro_btree_get_1m = {
    .name = "btree_get_1m",
    .summary = "B+ tree core: bpt_get of a random key, 1M bulk-loaded entries (16 B / 100 B)",
    .setup = big_setup,
    .run = get_run,
    .teardown = big_teardown,
};

const struct kv_micro_bench kv_micro_btree_scan1000_1m = {
    .name = "btree_scan1000_1m",
    .summary = "B+ tree core: bpt_scan of 1000 entries from a random key, 1M entries",
    .setup = big_setup,
    .run = scan_run,
    .teardown = big_teardown,
    .bytes_per_op = SCAN * (BK_KEY + BK_VALUE),
};

const struct kv_micro_bench kv_micro_btree_bulk_load_10k = {
    .name = "btree_bulk_load_10k",
    .summary = "B+ tree core: bulk load of 10,000 sorted entries into a new tree",
    .run = bulk_run,
    .bytes_per_op = BULK * (BK_KEY + BK_VALUE),
};
