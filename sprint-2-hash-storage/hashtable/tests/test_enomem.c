/*
 * test_enomem.c — allocation failure: HT_ENOMEM with the table unchanged.
 *
 * Uses kvlabs/alloc.h's malloc-failure loop (kv_alloc_fail_loop): the body
 * runs again and again with the Nth allocation failing, N = 1, 2, ... until
 * a run completes without reaching the failure. A put allocates a slab of
 * its shard's arena when the newest one is full (small entries are cells
 * of it, ht_arena.c), its own block for an entry above HT_INLINE_MAX, and,
 * when it hits the load limit, a new array (two for the Swiss table:
 * control bytes and pointers); every one of those failures must return
 * HT_ENOMEM and leave the table exactly as it was: same keys, same values
 * (an overwrite keeps the old value), same counters, invariants intact.
 * The puts are made at every fill level up to and past several resizes,
 * so failures of the resize allocation are among them, in both resize
 * modes. Deletes never allocate; table creation cleans up after itself
 * (AddressSanitizer's leak check would catch a leak).
 */
#include <criterion/criterion.h>
#include "kv_assert.h"
#include <stdlib.h>

#include "ht_test.h"
#include "kvlabs/alloc.h"

TestSuite(enomem, .timeout = 120, .fini = kvt_release_owned);

struct fail_state {
    ht_table *t;
    uint32_t key;      /* the key the body puts */
    uint64_t ver;      /* the version it writes */
    uint64_t old_ver;  /* the key's version before (UINT64_MAX: absent) */
    ht_stats before;   /* the counters before the put */
    unsigned enomem;   /* failed runs */
    unsigned resizes;  /* runs in which the put resized */
};

/* One attempt: the put either succeeds, or fails with HT_ENOMEM and changes nothing. */
static int put_body(void *arg, uint64_t n)
{
    struct fail_state *f = arg;
    int rc = tt_put(f->t, f->key, f->ver);
    bool hit = kv_alloc_fail_hit();
    const char *what;

    /* The failure stays armed (the loop reads kv_alloc_fail_hit() after the
     * body): the checks below must not allocate, and do not. */
    ht_stats st = tt_stats(f->t);
    if (rc == HT_OK) {
        if (hit)
            return 6; /* an allocation failed, yet the put claims success */
        if (tt_expect(f->t, f->key, f->ver) != 0)
            return 1;
        if (st.resizes > f->before.resizes)
            f->resizes++;
        return 0; /* the loop stops: this run reached no failure */
    }
    if (rc != HT_ENOMEM || !hit) {
        cr_log_error("allocation %llu failing: put returned %d (hit %d)", (unsigned long long)n,
                     rc, hit);
        return 2;
    }
    f->enomem++;
    if (tt_expect(f->t, f->key, f->old_ver) != 0)
        return 3; /* a failed put changed the key */
    if (st.keys != f->before.keys || st.bytes != f->before.bytes ||
        st.entry_mem != f->before.entry_mem || st.capacity != f->before.capacity ||
        st.resizes != f->before.resizes || st.tombstones != f->before.tombstones)
        return 4; /* a failed put changed the counters */
    if (ht_check(f->t, &what) != 0) {
        cr_log_error("invariant: %s", what);
        return 5;
    }
    return 0;
}

static void failure_loop_over_puts(ht_strategy s, ht_resize_mode mode, unsigned nkeys)
{
    ht_table *t = tt_new(s, 8, 2, mode, NULL);
    struct fail_state f = {.t = t};
    uint64_t runs_total = 0, *ver = kvt_own(malloc(nkeys * sizeof(*ver)), free);
    unsigned allocating = 0;

    cr_assert(t && ver);
    for (uint32_t i = 0; i < nkeys; i++) {
        uint64_t runs = 0;
        /* every fifth put overwrites an earlier key (maybe one that is absent) */
        f.key = i % 5 == 4 ? i / 2 : i;
        ver[i] = UINT64_MAX;
        f.old_ver = ver[f.key];
        f.ver = f.old_ver == UINT64_MAX ? 1 : f.old_ver + 1;
        f.before = tt_stats(t);
        int rc = kv_alloc_fail_loop(put_body, &f, 100, &runs);
        cr_assert_eq(rc, 0, "%s: put of key %u: body failed with %d", ht_strategy_name(s), f.key,
                     rc);
        allocating += runs >= 2; /* a slab or an array (most puts take a cell) */
        ver[f.key] = f.ver;
        runs_total += runs;
    }
    for (uint32_t i = 0; i < nkeys; i++)
        cr_assert_eq(tt_expect(t, i, ver[i]), 0, "%s: key %u at the end", ht_strategy_name(s), i);
    kvt_drop(ver);
    cr_assert_gt(f.resizes, 3, "%s: puts that resized: %u", ht_strategy_name(s), f.resizes);
    cr_assert_gt(allocating, f.resizes, "%s: puts that allocated: %u (slabs and arrays)",
                 ht_strategy_name(s), allocating);
    cr_assert_geq(f.enomem, allocating, "%s: %u failed runs", ht_strategy_name(s), f.enomem);
    cr_log_info("%s: %llu runs, %u KV_ENOMEM, %u resizing puts", ht_strategy_name(s),
                (unsigned long long)runs_total, f.enomem, f.resizes);
    tt_free(t);
}

Test(enomem, put_every_strategy_incremental)
{
    for (int s = 0; s < HT_NSTRATEGIES; s++)
        failure_loop_over_puts(tt_all[s], HT_RESIZE_INCREMENTAL, 400);
}

Test(enomem, put_every_strategy_resize_all)
{
    for (int s = 0; s < HT_NSTRATEGIES; s++)
        failure_loop_over_puts(tt_all[s], HT_RESIZE_ALL, 400);
}

/* Deletes never allocate: with every allocation failing they still work. */
Test(enomem, delete_never_allocates)
{
    for (int s = 0; s < HT_NSTRATEGIES; s++) {
        ht_table *t = tt_new(tt_all[s], 8, 1, HT_RESIZE_INCREMENTAL, NULL);
        uint32_t n = 0;
        while (!tt_stats(t).migrating) /* leave a migration running: deletes migrate too */
            cr_assert_eq(tt_put(t, n++, 1), HT_OK);
        kv_alloc_fail_at(1, true);
        for (uint32_t i = 0; i < n; i += 2)
            cr_assert_eq(tt_del(t, i), HT_OK);
        /* a small put may take a freed cell; a large entry needs its own block */
        static unsigned char big[HT_INLINE_MAX];
        unsigned char k[TK_MAX];
        cr_assert_eq(ht_put(t, k, tk_key(n, k), big, sizeof(big)), HT_ENOMEM,
                     "a large put does need memory");
        kv_alloc_fail_at(0, false);
        for (uint32_t i = 0; i <= n; i++)
            cr_assert_eq(tt_expect(t, i, i % 2 == 0 || i == n ? UINT64_MAX : 1), 0, "key %u", i);
        cr_assert_eq(ht_check(t, NULL), 0);
        tt_free(t);
    }
}

static int create_body(void *arg, uint64_t n)
{
    ht_strategy s = *(ht_strategy *)arg;
    ht_config c = {.strategy = s, .buckets = 1000, .shards = 16, .hash = kv_xxh3_64};
    ht_table *t = NULL;
    int rc = ht_create(&c, &t);

    (void)n;
    if (rc == HT_OK) {
        tt_free(t);
        return 0;
    }
    return rc == HT_ENOMEM && t == NULL ? 0 : 1;
}

/* Creation under every allocation failure: HT_ENOMEM and nothing left behind. */
Test(enomem, create_cleans_up)
{
    for (int s = 0; s < HT_NSTRATEGIES; s++) {
        ht_strategy st = tt_all[s];
        uint64_t runs = 0;
        cr_assert_eq(kv_alloc_fail_loop(create_body, &st, 1000, &runs), 0);
        cr_assert_gt(runs, 16 * 2, "%s: every shard's lock and array were failed",
                     ht_strategy_name(st));
    }
}
