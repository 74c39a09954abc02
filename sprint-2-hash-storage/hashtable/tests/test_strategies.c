/*
 * test_strategies.c — behaviour that differs between the collision
 * strategies: the load limit, tombstones under churn, a full table, and
 * the probe-length histogram.
 *
 * Every case runs on all four strategies unless it says otherwise, and
 * calls ht_check(), the table's invariant checker, which among other
 * things verifies that used slots plus entries still to migrate stay
 * within max_load x capacity for every shard.
 */
#include <criterion/criterion.h>
#include "kv_assert.h"
#include <stdlib.h>

#include "ht_test.h"

TestSuite(strategies, .timeout = 120, .fini = kvt_release_owned);

static void assert_check(ht_table *t, const char *when)
{
    const char *what = NULL;
    int shard = ht_check(t, &what);

    cr_assert_eq(shard, 0, "%s: invariant broken in shard %d: %s", when, shard - 1, what);
}

static ht_table *new_cfg(ht_strategy s, size_t buckets, unsigned shards, unsigned load_pm,
                         ht_resize_mode r)
{
    ht_config c = {.strategy = s, .buckets = buckets, .shards = shards, .max_load_pm = load_pm,
                   .resize = r, .hash = kv_xxh3_64};
    ht_table *t = NULL;

    cr_assert_eq(ht_create(&c, &t), HT_OK);
    return kvt_own(t, tt_destroy_owned_);
}

/* After every insert, the load limit holds (ht_check) at several limits. */
Test(strategies, max_load_honoured)
{
    static const unsigned loads[] = {300, 700, 950};
    for (int s = 0; s < HT_NSTRATEGIES; s++) {
        for (size_t l = 0; l < sizeof(loads) / sizeof(loads[0]); l++) {
            ht_table *t = new_cfg(tt_all[s], 16, 1, loads[l], HT_RESIZE_INCREMENTAL);
            double worst = 0;
            for (uint32_t i = 0; i < 2000; i++) {
                cr_assert_eq(tt_put(t, i, 1), HT_OK);
                if (i % 7 == 0)
                    assert_check(t, "while filling");
                ht_stats st = tt_stats(t);
                double lf = (double)st.keys / (double)st.capacity;
                if (!st.migrating && lf > worst)
                    worst = lf;
            }
            cr_assert_leq(worst, loads[l] / 1000.0 + 1e-9, "%s at %u: load %f",
                          ht_strategy_name(tt_all[s]), loads[l], worst);
            cr_assert_geq(worst, loads[l] / 1000.0 * 0.9,
                          "%s at %u: the limit was never approached", ht_strategy_name(tt_all[s]),
                          loads[l]);
            tt_free(t);
        }
    }
}

/*
 * Tombstone churn: 1e5 insert/delete cycles of fresh keys beside 200
 * stable ones. Linear and Swiss leave tombstones; they must be cleared by
 * rebuilds so the array stays bounded (it never needs to hold more than
 * about 201 keys), and lookups keep working.
 */
Test(strategies, tombstone_churn_stays_bounded)
{
    for (int s = 0; s < HT_NSTRATEGIES; s++) {
        ht_table *t = new_cfg(tt_all[s], 64, 1, 0, HT_RESIZE_INCREMENTAL);
        uint64_t max_cap = 0, max_tombs = 0;

        for (uint32_t i = 0; i < 200; i++)
            cr_assert_eq(tt_put(t, 1000000 + i, 7), HT_OK);
        for (uint32_t c = 0; c < 100000; c++) {
            cr_assert_eq(tt_put(t, c, c), HT_OK);
            cr_assert_eq(tt_del(t, c), HT_OK);
            if (c % 4096 == 0) {
                ht_stats st = tt_stats(t);
                max_cap = st.capacity > max_cap ? st.capacity : max_cap;
                max_tombs = st.tombstones > max_tombs ? st.tombstones : max_tombs;
                cr_assert_eq(tt_expect(t, 1000000 + c % 200, 7), 0);
                cr_assert_eq(tt_expect(t, c, UINT64_MAX), 0);
            }
        }
        ht_stats st = tt_stats(t);
        cr_assert_eq(st.keys, 200);
        cr_assert_leq(max_cap, 1024, "%s: capacity grew to %llu for 201 live keys",
                      ht_strategy_name(tt_all[s]), (unsigned long long)max_cap);
        if (tt_all[s] == HT_CHAINING || tt_all[s] == HT_ROBINHOOD)
            cr_assert_eq(max_tombs, 0, "%s keeps no tombstones", ht_strategy_name(tt_all[s]));
        if (tt_all[s] == HT_LINEAR) /* Swiss turns most deletes into EMPTY bytes */
            cr_assert_gt(st.resizes, 10, "%s: tombstones must force rebuilds (%llu)",
                         ht_strategy_name(tt_all[s]), (unsigned long long)st.resizes);
        cr_assert_leq(max_tombs, max_cap, "tombstones stay within the array");
        for (uint32_t i = 0; i < 200; i++)
            cr_assert_eq(tt_expect(t, 1000000 + i, 7), 0);
        assert_check(t, "after churn");
        tt_free(t);
    }
}

/*
 * A full table with resizing off: exactly limit(cap) keys fit in a
 * one-shard table; the next new key is HT_EFULL and changes nothing;
 * overwrites and deletes still work; a delete makes room for one key.
 */
Test(strategies, full_table_without_resize)
{
    for (int s = 0; s < HT_NSTRATEGIES; s++) {
        ht_table *t = new_cfg(tt_all[s], 64, 1, 750, HT_RESIZE_OFF);
        uint32_t n = 0;
        int rc;

        while ((rc = tt_put(t, n, 1)) == HT_OK)
            n++;
        cr_assert_eq(rc, HT_EFULL, "%s: %d", ht_strategy_name(tt_all[s]), rc);
        cr_assert_eq(n, 48, "%s: 64 slots at 0.75 hold 48 keys, got %u",
                     ht_strategy_name(tt_all[s]), n);
        ht_stats st = tt_stats(t);
        cr_assert_eq(st.keys, 48);
        cr_assert_eq(st.capacity, 64, "never grew");
        cr_assert_eq(tt_put(t, 5000, 1), HT_EFULL, "still full");
        cr_assert_eq(tt_expect(t, 5000, UINT64_MAX), 0, "a refused key is absent");
        cr_assert_eq(tt_put(t, 3, 2), HT_OK, "overwrite in a full table");
        cr_assert_eq(tt_expect(t, 3, 2), 0);
        cr_assert_eq(tt_del(t, 4), HT_OK);
        cr_assert_eq(tt_put(t, 5000, 1), HT_OK, "a delete makes room");
        cr_assert_eq(tt_put(t, 5001, 1), HT_EFULL);
        /* churn in the full table: tombstones are rebuilt away at the same size */
        for (uint32_t c = 0; c < 5000; c++) {
            cr_assert_eq(tt_del(t, 5000 + c), HT_OK);
            cr_assert_eq(tt_put(t, 5001 + c, 1), HT_OK, "%s: churn %u in a full table",
                         ht_strategy_name(tt_all[s]), c);
        }
        cr_assert_eq(tt_stats(t).capacity, 64);
        for (uint32_t i = 0; i < 48; i++)
            if (i != 4)
                cr_assert_eq(tt_expect(t, i, i == 3 ? 2 : 1), 0, "key %u", i);
        assert_check(t, "full table");
        tt_free(t);
    }
}

/* The histogram counts each key once, matches max_probe, and looks like its strategy. */
Test(strategies, probe_histogram_sanity)
{
    for (int s = 0; s < HT_NSTRATEGIES; s++) {
        ht_table *t = new_cfg(tt_all[s], 1 << 16, 1, 0, HT_RESIZE_OFF);
        uint32_t n = (uint32_t)(ht_default_max_load(tt_all[s]) * 65536ull / 1000);
        uint64_t sum = 0, top = 0;

        for (uint32_t i = 0; i < n; i++)
            cr_assert_eq(tt_put(t, i, 0), HT_OK);
        ht_stats st = tt_stats(t);
        for (int i = 0; i < HT_PROBE_HIST; i++) {
            sum += st.probe_hist[i];
            if (st.probe_hist[i])
                top = (uint64_t)i;
        }
        cr_assert_eq(sum, n);
        cr_assert_eq(top, st.max_probe < HT_PROBE_HIST - 1 ? st.max_probe : HT_PROBE_HIST - 1,
                     "highest non-empty bucket agrees with max_probe");
        double at_home = (double)st.probe_hist[0] / n;
        switch (tt_all[s]) {
        case HT_CHAINING: /* load 1: a key is first in its chain with probability ~0.63 */
            cr_assert(at_home > 0.55 && at_home < 0.72, "chaining: %f at depth 0", at_home);
            break;
        case HT_LINEAR: /* load 0.75: about half the keys are at home, long tail */
            cr_assert(at_home > 0.3 && st.max_probe > 15, "linear: %f, max %llu", at_home,
                      (unsigned long long)st.max_probe);
            break;
        case HT_ROBINHOOD: /* load 0.875: short, even probes */
            cr_assert(st.max_probe < 60, "robinhood: max probe %llu",
                      (unsigned long long)st.max_probe);
            break;
        case HT_SWISS: /* load 0.875 in groups of 16: nearly all in the home group */
            cr_assert(at_home > 0.8, "swiss: %f in the home group", at_home);
            break;
        }
        tt_free(t);
    }
    /* every key colliding: linear probing puts key i at probe length i */
    ht_table *t = tt_new(HT_LINEAR, 256, 1, HT_RESIZE_INCREMENTAL, th_const);
    for (uint32_t i = 0; i < 100; i++)
        cr_assert_eq(tt_put(t, i, 0), HT_OK);
    ht_stats st = tt_stats(t);
    cr_assert_eq(st.max_probe, 99);
    for (int i = 0; i < HT_PROBE_HIST - 1; i++)
        cr_assert_eq(st.probe_hist[i], 1, "one key at each probe length (%d)", i);
    cr_assert_eq(st.probe_hist[HT_PROBE_HIST - 1], 100 - (HT_PROBE_HIST - 1));
    tt_free(t);
}

/* Deletes in the middle of clusters and chains: every other key stays. */
Test(strategies, delete_inside_clusters)
{
    for (int s = 0; s < HT_NSTRATEGIES; s++) {
        ht_table *t = tt_new(tt_all[s], 64, 1, HT_RESIZE_INCREMENTAL, th_16);
        for (uint32_t i = 0; i < 400; i++)
            cr_assert_eq(tt_put(t, i, 3), HT_OK);
        for (uint32_t i = 0; i < 400; i += 3)
            cr_assert_eq(tt_del(t, i), HT_OK);
        for (uint32_t i = 0; i < 400; i++)
            cr_assert_eq(tt_expect(t, i, i % 3 ? 3 : UINT64_MAX), 0, "%s: key %u",
                         ht_strategy_name(tt_all[s]), i);
        assert_check(t, "after deletes in clusters");
        tt_free(t);
    }
}
