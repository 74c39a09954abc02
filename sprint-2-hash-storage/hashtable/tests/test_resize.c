/*
 * test_resize.c — resizing: growth under load, consistency in the middle of
 * an incremental migration, how incremental it really is, and rebuilds
 * after mass deletion.
 *
 * The mid-migration case drives a one-shard table to the point where a
 * resize has started (ht_stats.migrating == 1), then does every kind of
 * operation while entries sit in both arrays — lookups of keys in either,
 * overwrites and deletes of keys still in the old array, inserts — and
 * checks every key and every invariant after each step, until the
 * migration ends.
 *
 * The wrapped-run case builds, with a hash function the test controls, a
 * probe run that wraps past the end of the array and straddles the
 * migration cursor, and deletes each of its keys in turn mid-migration:
 * a deterministic test of what only a leak report in a stress run would
 * otherwise notice.
 */
#include <criterion/criterion.h>
#include "kv_assert.h"
#include <stdio.h>
#include <stdlib.h>

#include "ht_test.h"

TestSuite(resize, .timeout = 120, .fini = kvt_release_owned);

static void assert_check(ht_table *t, const char *when)
{
    const char *what = NULL;
    int shard = ht_check(t, &what);

    cr_assert_eq(shard, 0, "%s: invariant broken in shard %d: %s", when, shard - 1, what);
}

Test(resize, grows_under_load)
{
    static const ht_resize_mode modes[] = {HT_RESIZE_INCREMENTAL, HT_RESIZE_ALL};
    for (int s = 0; s < HT_NSTRATEGIES; s++) {
        for (int m = 0; m < 2; m++) {
            ht_table *t = tt_new(tt_all[s], 4, 0, modes[m], NULL);
            const uint32_t n = 60000;
            ht_stats st0 = tt_stats(t), st;

            for (uint32_t i = 0; i < n; i++)
                cr_assert_eq(tt_put(t, i, i), HT_OK);
            st = tt_stats(t);
            cr_assert_eq(st.keys, n);
            cr_assert_gt(st.resizes, 64 * 5, "%s: %llu resizes from the smallest arrays",
                         ht_strategy_name(tt_all[s]), (unsigned long long)st.resizes);
            cr_assert_gt(st.capacity, st0.capacity * 64);
            cr_assert_leq((double)st.keys, (double)(st.capacity + st.old_capacity) *
                                               ht_default_max_load(tt_all[s]) / 1000.0);
            if (modes[m] == HT_RESIZE_ALL)
                cr_assert_eq(st.migrating, 0, "resize=all never leaves a migration running");
            for (uint32_t i = 0; i < n; i++)
                cr_assert_eq(tt_expect(t, i, i), 0, "%s: key %u", ht_strategy_name(tt_all[s]), i);
            assert_check(t, "after growth");
            tt_free(t);
        }
    }
}

/* Insert into a one-shard table until a migration is running; returns keys inserted. */
static uint32_t fill_until_migrating(ht_table *t, uint32_t first)
{
    uint32_t i = first;

    while (!tt_stats(t).migrating) {
        cr_assert_eq(tt_put(t, i, 1), HT_OK);
        i++;
        cr_assert_lt(i - first, 1u << 20, "no migration ever started");
    }
    return i;
}

Test(resize, consistent_mid_migration)
{
    for (int s = 0; s < HT_NSTRATEGIES; s++) {
        ht_table *t = tt_new(tt_all[s], 256, 1, HT_RESIZE_INCREMENTAL, NULL);
        uint32_t n = fill_until_migrating(t, 0);
        uint64_t *ver = calloc(n + 100000, sizeof(*ver));
        unsigned steps = 0;

        cr_assert_not_null(ver);
        for (uint32_t i = 0; i < n; i++)
            ver[i] = 1;
        ht_stats st = tt_stats(t);
        cr_assert_gt(st.old_capacity, 0);
        cr_assert_gt(st.keys, st.capacity / 8, "most keys are still in the old array");
        /* Walk through the whole migration, one write at a time. */
        for (uint32_t k = 0; tt_stats(t).migrating; k++, steps++) {
            uint32_t victim = (k * 7919u) % n;
            switch (k % 4) {
            case 0: /* overwrite (often a key still in the old array), or re-insert */
                cr_assert_eq(tt_put(t, victim, ver[victim] + 1), HT_OK);
                ver[victim]++;
                break;
            case 1: /* delete */
                cr_assert_eq(tt_del(t, victim), ver[victim] ? HT_OK : HT_ENOTFOUND);
                ver[victim] = 0;
                break;
            case 2: /* insert a new key */
                cr_assert_eq(tt_put(t, n, 5), HT_OK);
                ver[n++] = 5;
                break;
            case 3: /* delete of an absent key: a write that finds nothing */
                cr_assert_eq(tt_del(t, 4000000 + k), HT_ENOTFOUND);
                break;
            }
            assert_check(t, ht_strategy_name(tt_all[s]));
            for (uint32_t i = 0; i < n; i += 1 + k % 5)
                cr_assert_eq(tt_expect(t, i, ver[i] ? ver[i] : UINT64_MAX), 0,
                             "%s: key %u, step %u of the migration", ht_strategy_name(tt_all[s]), i,
                             k);
        }
        cr_assert_gt(steps, 4, "%s: the migration took %u writes: not incremental",
                     ht_strategy_name(tt_all[s]), steps);
        for (uint32_t i = 0; i < n; i++)
            cr_assert_eq(tt_expect(t, i, ver[i] ? ver[i] : UINT64_MAX), 0, "final key %u", i);
        free(ver);
        tt_free(t);
    }
}

/* How incremental: a migration of an array of C slots spans about C / HT_MIGRATE_STEP writes. */
Test(resize, migration_moves_a_few_slots_per_write)
{
    for (int s = 0; s < HT_NSTRATEGIES; s++) {
        ht_table *t = tt_new(tt_all[s], 4096, 1, HT_RESIZE_INCREMENTAL, NULL);
        uint32_t n = fill_until_migrating(t, 0);
        uint64_t old_cap = tt_stats(t).old_capacity;
        unsigned writes = 0;

        while (tt_stats(t).migrating) {
            cr_assert_eq(tt_put(t, n++, 1), HT_OK);
            writes++;
        }
        cr_assert_geq(writes + 2, old_cap / 16, "%s: %u writes migrated %llu slots",
                      ht_strategy_name(tt_all[s]), writes, (unsigned long long)old_cap);
        cr_assert_leq(writes, old_cap / 16 + 1);
        for (uint32_t i = 0; i < n; i++)
            cr_assert_eq(tt_expect(t, i, 1), 0);
        tt_free(t);
    }
}

/* The same operations give the same contents whatever the resize mode. */
Test(resize, modes_agree)
{
    for (int s = 0; s < HT_NSTRATEGIES; s++) {
        ht_table *a = tt_new(tt_all[s], 8, 4, HT_RESIZE_INCREMENTAL, NULL);
        ht_table *b = tt_new(tt_all[s], 8, 4, HT_RESIZE_ALL, NULL);
        for (uint32_t i = 0; i < 30000; i++) {
            uint32_t k = (uint32_t)(tk_mix(i) % 8000);
            if (i % 3 == 2) {
                cr_assert_eq(tt_del(a, k), tt_del(b, k));
            } else {
                cr_assert_eq(tt_put(a, k, i), HT_OK);
                cr_assert_eq(tt_put(b, k, i), HT_OK);
            }
        }
        cr_assert_eq(tt_stats(a).keys, tt_stats(b).keys);
        cr_assert_eq(tt_stats(a).bytes, tt_stats(b).bytes);
        for (uint32_t k = 0; k < 8000; k++) {
            struct tt_val va, vb;
            unsigned char key[TK_MAX];
            size_t kl = tk_key(k, key);
            int ra = ht_get(a, key, kl, tt_copy, &va), rb = ht_get(b, key, kl, tt_copy, &vb);
            cr_assert_eq(ra, rb, "key %u", k);
            if (ra == HT_OK)
                cr_assert(va.len == vb.len && !memcmp(va.buf, vb.buf, va.len), "key %u", k);
        }
        assert_check(a, "incremental");
        assert_check(b, "all at once");
        tt_free(a);
        tt_free(b);
    }
}

/*
 * After deleting almost everything, the space is reused: churn of fresh keys
 * never grows the arrays again. (Deletes never shrink an array — they
 * never allocate — but a rebuild forced by tombstones sizes the new array
 * for the keys that are live, which may be smaller.)
 */
Test(resize, deleted_space_is_reused)
{
    for (int s = 0; s < HT_NSTRATEGIES; s++) {
        ht_table *t = tt_new(tt_all[s], 64, 1, HT_RESIZE_INCREMENTAL, th_16);
        for (uint32_t i = 0; i < 3000; i++)
            cr_assert_eq(tt_put(t, i, 1), HT_OK);
        for (uint32_t i = 0; i < 3000; i++)
            if (i % 100)
                cr_assert_eq(tt_del(t, i), HT_OK);
        while (tt_stats(t).migrating) /* let a running migration finish */
            cr_assert_eq(tt_del(t, 999999), HT_ENOTFOUND);
        uint64_t cap = tt_stats(t).capacity;
        for (uint32_t i = 0; i < 20000; i++) {
            cr_assert_eq(tt_put(t, 100000 + i, 1), HT_OK);
            if (i >= 5) /* five fresh keys live at a time */
                cr_assert_eq(tt_del(t, 100000 + i - 5), HT_OK);
        }
        ht_stats st = tt_stats(t);
        cr_assert_leq(st.capacity, cap, "%s: %llu slots, %llu before the churn",
                      ht_strategy_name(tt_all[s]), (unsigned long long)st.capacity,
                      (unsigned long long)cap);
        for (uint32_t i = 0; i < 3000; i += 100)
            cr_assert_eq(tt_expect(t, i, 1), 0);
        assert_check(t, "after churn in a drained table");
        tt_free(t);
    }
}

/* ---- a probe run that wraps past the end of the array, mid-migration -------------------- */

/*
 * Keys whose hash the test chooses: the first 8 bytes of the key are its
 * hash (host order), then a 4-byte id keeps keys of one hash distinct.
 */
static uint64_t th_given(const void *p, size_t n)
{
    uint64_t h;

    (void)n;
    memcpy(&h, p, sizeof(h));
    return h;
}

static size_t wk_key(uint64_t hash, uint32_t id, unsigned char *k)
{
    memcpy(k, &hash, 8);
    memcpy(k + 8, &id, 4);
    return 12;
}

enum { WRAP_OLD = 64, WRAP_HOME = 60, WRAP_RUN = 21 };

/* Key i of the wrap cases: 0..WRAP_RUN-1 the run, then the singles, then the trigger. */
static size_t wk(uint32_t i, unsigned char *k)
{
    /* the run: home slot 60 of 64 (and 124 of the 128-slot array it moves to: it wraps
       there too); singles: home 17, 18, ... right after the run's wrapped end */
    uint64_t home = i < WRAP_RUN ? 124 : 17 + (i - WRAP_RUN);
    return wk_key(home | (uint64_t)(i + 1) << 8, i, k);
}

static void wk_expect_all(ht_table *t, uint32_t n, uint32_t gone, const char *when)
{
    unsigned char k[12], v[16];
    size_t vlen;

    for (uint32_t i = 0; i < n; i++) {
        int rc = ht_get_copy(t, k, wk(i, k), v, sizeof(v), &vlen);
        if (i == gone)
            cr_assert_eq(rc, HT_ENOTFOUND, "%s: deleted key %u is still found", when, i);
        else
            cr_assert(rc == HT_OK && vlen == 4 && memcmp(v, &i, 4) == 0,
                      "%s: key %u (of the run: %s) lost: %d", when, i,
                      i < WRAP_RUN ? "yes" : "no", rc);
    }
    cr_assert_eq(tt_stats(t).keys, n - (gone < n), "%s: key count", when);
    assert_check(t, when);
}

/*
 * One shard of 64 slots holding, at its load limit, a run of 21 keys of
 * home slot 60: slots 60..63 then 0..16, past the end of the array, and
 * single keys at home from slot 17 on. One more key starts a resize; the
 * next write (the delete) first migrates slots 0..15, so the wrapped part
 * of the run is in the new array and its last key (slot 16), and its
 * start (60..63), still in the old one. Deleting any key of the run must
 * then leave every other key findable, through the rest of the migration
 * and after. A backward shift in the old array would move the key of
 * slot 16 to slot 15, behind the migration cursor: never migrated, lost
 * (and leaked) when the old array is freed.
 */
Test(resize, delete_in_a_wrapped_run_mid_migration)
{
    static const ht_strategy strat[] = {HT_ROBINHOOD, HT_LINEAR};

    for (int s = 0; s < 2; s++) {
        uint32_t limit = WRAP_OLD * ht_default_max_load(strat[s]) / 1000, n = limit + 1;

        for (uint32_t victim = 0; victim < WRAP_RUN; victim++) {
            ht_table *t = tt_new(strat[s], WRAP_OLD, 1, HT_RESIZE_INCREMENTAL, th_given);
            unsigned char k[12];
            char when[96];
            ht_stats st;

            cr_assert_not_null(t);
            for (uint32_t i = 0; i < limit; i++)
                cr_assert_eq(ht_put(t, k, wk(i, k), &i, 4), HT_OK);
            st = tt_stats(t);
            cr_assert(st.capacity == WRAP_OLD && !st.migrating, "%s: %llu slots before the last "
                      "key", ht_strategy_name(strat[s]), (unsigned long long)st.capacity);
            cr_assert_eq(ht_put(t, k, wk(limit, k), &limit, 4), HT_OK); /* starts the resize */
            st = tt_stats(t);
            cr_assert(st.migrating == 1 && st.old_capacity == WRAP_OLD,
                      "%s: the key past the limit did not start an incremental resize",
                      ht_strategy_name(strat[s]));

            snprintf(when, sizeof(when), "%s: run key %u deleted mid-migration",
                     ht_strategy_name(strat[s]), victim);
            cr_assert_eq(ht_delete(t, k, wk(victim, k)), HT_OK, "%s", when);
            cr_assert_eq(tt_stats(t).migrating, 1, "%s: the migration is still running", when);
            wk_expect_all(t, n, victim, when);

            while (tt_stats(t).migrating) /* writes that find nothing move the cursor on */
                cr_assert_eq(ht_delete(t, k, wk_key(5 | 999ull << 8, 999, k)), HT_ENOTFOUND);
            snprintf(when, sizeof(when), "%s: run key %u deleted, migration over",
                     ht_strategy_name(strat[s]), victim);
            wk_expect_all(t, n, victim, when);

            /* and in the new array, where the run wraps too (slots 124..127, 0..) */
            uint32_t next = victim ? 0 : 1;
            cr_assert_eq(ht_delete(t, k, wk(next, k)), HT_OK);
            cr_assert_eq(ht_put(t, k, wk(victim, k), &victim, 4), HT_OK);
            snprintf(when, sizeof(when), "%s: then run key %u deleted from the new array",
                     ht_strategy_name(strat[s]), next);
            wk_expect_all(t, n, next, when);
            tt_free(t);
        }
    }
}
