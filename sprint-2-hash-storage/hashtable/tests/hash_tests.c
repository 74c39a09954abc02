/*
 * hash_tests.c — unit tests of the sprint-2 hash table through its two
 * interfaces: the core API (include/ht.h) and the `hash` engine (kv.h).
 *
 * Suite `core`: configuration checks, put/get/overwrite/delete, binary and
 * prefix keys, argument errors, a random differential run against a
 * simple reference for every strategy (with ht_check() between phases),
 * statistics, and hash functions as bad as they get (every key colliding).
 * Suite `engine`: options (good ones open, bad ones are KV_EINVAL naming the
 * option), capabilities, limits, KV_EFULL, and the statistics in kv_stats.
 *
 * The strategy-specific behaviour (load limits, tombstones, probe lengths,
 * full tables) is in test_strategies.c; resizing in test_resize.c;
 * allocation failure in test_enomem.c; threads in test_concurrency.c; the
 * Swiss group match in test_group.c; the contract in the conformance suite.
 */
#include <criterion/criterion.h>
#include "kv_assert.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KVT_OWN_STORES /* the stores a test opens are closed by the suites' .fini (kvtest.h) */
#include "ht_test.h"
#include "kvlabs/kv.h"
#include "kvlabs/rng.h"
#include "limits_check.h"

TestSuite(core, .timeout = 60, .fini = kvt_release_owned);
TestSuite(engine, .timeout = 60, .fini = kvt_release_owned);

static void assert_check(ht_table *t, const char *when)
{
    const char *what = NULL;
    int shard = ht_check(t, &what);

    cr_assert_eq(shard, 0, "%s: invariant broken in shard %d: %s", when, shard - 1, what);
}

Test(core, create_rejects_bad_config)
{
    ht_config ok = {.strategy = HT_LINEAR, .hash = kv_xxh3_64};
    ht_table *t = NULL;
    ht_config c;

    cr_assert_eq(ht_create(NULL, &t), HT_EINVAL);
    cr_assert_eq(ht_create(&ok, NULL), HT_EINVAL);
    c = ok, c.hash = NULL;
    cr_assert_eq(ht_create(&c, &t), HT_EINVAL, "no hash function");
    c = ok, c.strategy = (ht_strategy)7;
    cr_assert_eq(ht_create(&c, &t), HT_EINVAL, "unknown strategy");
    c = ok, c.resize = (ht_resize_mode)3;
    cr_assert_eq(ht_create(&c, &t), HT_EINVAL, "unknown resize mode");
    c = ok, c.max_load_pm = 991;
    cr_assert_eq(ht_create(&c, &t), HT_EINVAL, "open addressing at load 0.991");
    c = ok, c.max_load_pm = 49;
    cr_assert_eq(ht_create(&c, &t), HT_EINVAL, "load below 0.05");
    c = ok, c.strategy = HT_CHAINING, c.max_load_pm = 16001;
    cr_assert_eq(ht_create(&c, &t), HT_EINVAL, "chaining above 16");
    c = ok, c.shards = 3;
    cr_assert_eq(ht_create(&c, &t), HT_EINVAL, "shards not a power of two");
    c = ok, c.shards = 512;
    cr_assert_eq(ht_create(&c, &t), HT_EINVAL, "too many shards");
    c = ok, c.buckets = ((size_t)1 << 40) + 1;
    cr_assert_eq(ht_create(&c, &t), HT_EINVAL, "absurd capacity");
    cr_assert_null(t, "out must stay unset on failure");
    c = ok, c.strategy = HT_CHAINING, c.max_load_pm = 16000, c.shards = 256;
    cr_assert_eq(ht_create(&c, &t), HT_OK);
    tt_free(t);
    ht_destroy(NULL);
    cr_assert_str_eq(ht_strategy_name(HT_SWISS), "swiss");
    cr_assert_str_eq(ht_strategy_name((ht_strategy)9), "?");
    cr_assert_eq(ht_default_max_load(HT_LINEAR), 750);
    cr_assert_eq(ht_default_max_load(HT_CHAINING), 1000);
}

Test(core, put_get_overwrite_delete)
{
    for (int s = 0; s < HT_NSTRATEGIES; s++) {
        ht_table *t = tt_new(tt_all[s], 0, 0, HT_RESIZE_INCREMENTAL, NULL);
        char buf[8] = "xxxxxxx";
        size_t vlen = 0;

        cr_assert_not_null(t);
        cr_assert_eq(ht_get(t, "a", 1, NULL, NULL), HT_ENOTFOUND);
        cr_assert_eq(ht_put(t, "a", 1, "one", 3), HT_OK);
        cr_assert_eq(ht_put(t, "ab", 2, "", 0), HT_OK, "empty value");
        cr_assert_eq(ht_put(t, "abc", 3, NULL, 0), HT_OK, "NULL empty value");
        cr_assert_eq(ht_get(t, "a", 1, NULL, NULL), HT_OK, "existence test");
        cr_assert_eq(ht_get_copy(t, "a", 1, buf, sizeof(buf), &vlen), HT_OK);
        cr_assert(vlen == 3 && !memcmp(buf, "one", 3), "%s: a = %.*s", ht_strategy_name(tt_all[s]),
                  (int)vlen, buf);
        cr_assert_eq(ht_put(t, "a", 1, "a much longer value", 19), HT_OK);
        cr_assert_eq(ht_get_copy(t, "a", 1, buf, 4, &vlen), HT_OK);
        cr_assert(vlen == 19 && !memcmp(buf, "a mu", 4) && buf[4] == 'x',
                  "cut copy: len %zu, buffer untouched past cap", vlen);
        cr_assert_eq(ht_put(t, "a", 1, "s", 1), HT_OK, "overwrite shorter");
        cr_assert_eq(ht_get_copy(t, "a", 1, buf, sizeof(buf), &vlen), HT_OK);
        cr_assert(vlen == 1 && buf[0] == 's');
        cr_assert_eq(ht_get_copy(t, "ab", 2, NULL, 0, &vlen), HT_OK);
        cr_assert_eq(vlen, 0);
        cr_assert_eq(ht_delete(t, "a", 1), HT_OK);
        cr_assert_eq(ht_delete(t, "a", 1), HT_ENOTFOUND);
        cr_assert_eq(ht_get(t, "a", 1, NULL, NULL), HT_ENOTFOUND);
        cr_assert_eq(ht_get(t, "ab", 2, NULL, NULL), HT_OK, "neighbour survives the delete");
        cr_assert_eq(ht_put(t, "a", 1, "again", 5), HT_OK);
        cr_assert_eq(ht_get_copy(t, "a", 1, buf, sizeof(buf), &vlen), HT_OK);
        cr_assert(vlen == 5 && !memcmp(buf, "again", 5));
        ht_stats st = tt_stats(t);
        cr_assert_eq(st.keys, 3);
        cr_assert_eq(st.bytes, 1 + 5 + 2 + 3);
        assert_check(t, ht_strategy_name(tt_all[s]));
        tt_free(t);
    }
}

Test(core, argument_errors)
{
    ht_table *t = tt_new(HT_SWISS, 0, 0, HT_RESIZE_INCREMENTAL, NULL);
    static unsigned char big[HT_MAX_KEY + 1];

    cr_assert_eq(ht_put(NULL, "k", 1, "v", 1), HT_EINVAL);
    cr_assert_eq(ht_put(t, NULL, 1, "v", 1), HT_EINVAL);
    cr_assert_eq(ht_put(t, "k", 0, "v", 1), HT_EINVAL, "empty key");
    cr_assert_eq(ht_put(t, "k", 1, NULL, 1), HT_EINVAL, "NULL value with a length");
    cr_assert_eq(ht_put(t, big, sizeof(big), "v", 1), HT_ETOOBIG);
    cr_assert_eq(ht_put(t, big, HT_MAX_KEY, "v", 1), HT_OK, "the longest key fits");
    cr_assert_eq(ht_put(t, "k", 1, big, (size_t)HT_MAX_VALUE + 1), HT_ETOOBIG,
                 "refused before allocating");
    cr_assert_eq(ht_get(t, big, sizeof(big), NULL, NULL), HT_ETOOBIG);
    cr_assert_eq(ht_get(t, NULL, 1, NULL, NULL), HT_EINVAL);
    cr_assert_eq(ht_get(t, "k", 0, NULL, NULL), HT_EINVAL);
    cr_assert_eq(ht_delete(t, big, sizeof(big)), HT_ETOOBIG);
    cr_assert_eq(ht_delete(t, "k", 0), HT_EINVAL);
    cr_assert_eq(ht_delete(NULL, "k", 1), HT_EINVAL);
    cr_assert_eq(ht_get(t, big, HT_MAX_KEY, NULL, NULL), HT_OK);
    cr_assert_eq(tt_stats(t).keys, 1);
    tt_free(t);
}

/* Keys made of NULs and 0xFF bytes, each a prefix of the next: all distinct. */
Test(core, binary_and_prefix_keys)
{
    for (int s = 0; s < HT_NSTRATEGIES; s++) {
        ht_table *t = tt_new(tt_all[s], 16, 4, HT_RESIZE_INCREMENTAL, NULL);
        unsigned char key[64];

        for (size_t n = 1; n <= 64; n++) {
            memset(key, n % 2 ? 0x00 : 0xFF, sizeof(key));
            unsigned char v = (unsigned char)n;
            cr_assert_eq(ht_put(t, key, n, &v, 1), HT_OK);
        }
        for (size_t n = 1; n <= 64; n++) {
            unsigned char v = 0;
            size_t vl = 0;
            memset(key, n % 2 ? 0x00 : 0xFF, sizeof(key));
            cr_assert_eq(ht_get_copy(t, key, n, &v, 1, &vl), HT_OK);
            cr_assert(vl == 1 && v == n, "%s: key of %zu bytes reads %u",
                      ht_strategy_name(tt_all[s]), n, v);
            key[n - 1] ^= 1;
            cr_assert_eq(ht_get(t, key, n, NULL, NULL), HT_ENOTFOUND, "last byte flipped");
        }
        cr_assert_eq(tt_stats(t).keys, 64);
        assert_check(t, "binary keys");
        tt_free(t);
    }
}

/* Random puts, overwrites and deletes compared with an array of versions. */
static void differential(ht_strategy s, ht_hash_fn h, uint32_t nkeys, unsigned ops, uint64_t seed)
{
    ht_table *t = tt_new(s, 8, 8, HT_RESIZE_INCREMENTAL, h);
    uint64_t *ver = kvt_own(malloc(nkeys * sizeof(*ver)), free);
    uint64_t live = 0, next_ver = 1;
    kv_rng r;

    cr_assert(t && ver);
    for (uint32_t i = 0; i < nkeys; i++)
        ver[i] = UINT64_MAX;
    kv_rng_seed(&r, seed);
    for (unsigned op = 0; op < ops; op++) {
        uint32_t i = (uint32_t)kv_rng_below(&r, nkeys);
        unsigned what = (unsigned)kv_rng_below(&r, 10);
        if (what < 5) {
            cr_assert_eq(tt_put(t, i, next_ver), HT_OK);
            live += ver[i] == UINT64_MAX;
            ver[i] = next_ver++;
        } else if (what < 8) {
            cr_assert_eq(tt_del(t, i), ver[i] == UINT64_MAX ? HT_ENOTFOUND : HT_OK);
            live -= ver[i] != UINT64_MAX;
            ver[i] = UINT64_MAX;
        } else {
            cr_assert_eq(tt_expect(t, i, ver[i]), 0, "%s: key %u after %u ops",
                         ht_strategy_name(s), i, op);
        }
        if (op % (ops / 8) == 0)
            assert_check(t, ht_strategy_name(s));
    }
    for (uint32_t i = 0; i < nkeys; i++)
        cr_assert_eq(tt_expect(t, i, ver[i]), 0, "%s: final key %u", ht_strategy_name(s), i);
    cr_assert_eq(tt_stats(t).keys, live);
    assert_check(t, "end of differential run");
    tt_free(t);
    kvt_drop(ver);
}

Test(core, differential_every_strategy)
{
    for (int s = 0; s < HT_NSTRATEGIES; s++)
        differential(tt_all[s], NULL, 3000, 60000, 42 + (uint64_t)s);
}

/* Every key has the same hash: one shard, one home slot, all compare by key. */
Test(core, every_key_colliding)
{
    for (int s = 0; s < HT_NSTRATEGIES; s++)
        differential(tt_all[s], th_const, 300, 6000, 7);
}

Test(core, sixteen_hash_values)
{
    for (int s = 0; s < HT_NSTRATEGIES; s++)
        differential(tt_all[s], th_16, 500, 10000, 9);
}

Test(core, stats_are_exact_and_memory_honest)
{
    for (int s = 0; s < HT_NSTRATEGIES; s++) {
        ht_table *t = tt_new(tt_all[s], 0, 0, HT_RESIZE_INCREMENTAL, NULL);
        uint64_t bytes = 0;
        ht_stats st;

        for (uint32_t i = 0; i < 5000; i++) {
            unsigned char k[TK_MAX], v[TV_MAX];
            size_t kl = tk_key(i, k), vl = tk_val(i, 1, v);
            cr_assert_eq(ht_put(t, k, kl, v, vl), HT_OK);
            bytes += kl + vl;
        }
        st = tt_stats(t);
        cr_assert_eq(st.keys, 5000);
        cr_assert_eq(st.bytes, bytes);
        cr_assert_eq(st.shards, HT_DEFAULT_SHARDS);
        /* every entry costs at least its header and bytes; the index at least a pointer per slot */
        cr_assert_geq(st.entry_mem, bytes + 5000 * 8);
        cr_assert_geq(st.mem_bytes, st.entry_mem + (st.capacity + st.old_capacity) * 8);
        cr_assert_lt(st.mem_bytes, bytes * 4 + st.capacity * 40 + 200000, "implausibly large");
        uint64_t sum = 0;
        for (int i = 0; i < HT_PROBE_HIST; i++)
            sum += st.probe_hist[i];
        cr_assert_eq(sum, st.keys, "the probe histogram counts every key once");
        for (uint32_t i = 0; i < 5000; i++)
            cr_assert_eq(tt_del(t, i), HT_OK);
        st = tt_stats(t);
        cr_assert_eq(st.keys, 0);
        cr_assert_eq(st.bytes, 0);
        cr_assert_eq(st.entry_mem, 0, "all entry memory returned");
        tt_free(t);
    }
}

/* ---- the engine ----------------------------------------------------------- */

static double extra(const kv_stats *st, const char *name)
{
    for (unsigned i = 0; i < st->n_extra; i++)
        if (!strcmp(st->extra[i].name, name))
            return st->extra[i].value;
    cr_assert_fail("kv_stats has no extra counter '%s'", name);
    return 0;
}

Test(engine, every_option_value_opens)
{
    static const char *good[] = {
        "strategy=chaining", "strategy=linear", "strategy=robinhood", "strategy=swiss",
        "hash=xxh3",         "hash=crc32c",     "hash=fnv1a",         "buckets=1",
        "buckets=4M",        "max_load=0.5",    "max_load=0.99",      "shards=1",
        "shards=256",        "resize=all",      "resize=off",         "resize=incremental",
        "strategy=chaining,max_load=16",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        kv_db *db = NULL;
        int rc = kv_open("hash", NULL, good[i], &db);
        cr_assert_eq(rc, KV_OK, "%s: %s", good[i], kv_last_error());
        cr_assert_eq(kv_put(db, "k", 1, "v", 1), KV_OK, "%s", good[i]);
        cr_assert_eq(kv_get(db, "k", 1, NULL), KV_OK, "%s", good[i]);
        cr_assert_eq(kv_close(db), KV_OK);
    }
}

Test(engine, bad_options_are_einval_and_named)
{
    static const struct {
        const char *opts, *named;
    } bad[] = {
        {"strategy=cuckoo", "strategy"},
        {"hash=md5", "hash"},
        {"max_load=1.5", "max_load"},
        {"strategy=swiss,max_load=0.995", "max_load"},
        {"max_load=0.01", "max_load"},
        {"strategy=chaining,max_load=17", "max_load"},
        {"shards=3", "shards"},
        {"shards=512", "shards"},
        {"shards=0", "shards"},
        {"buckets=0", "buckets"},
        {"resize=sometimes", "resize"},
        {"bukets=4", "bukets"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        kv_db *db = NULL;
        int rc = kv_open("hash", NULL, bad[i].opts, &db);
        cr_assert_eq(rc, KV_EINVAL, "%s gave %d", bad[i].opts, rc);
        cr_assert_null(db);
        cr_assert_not_null(strstr(kv_last_error(), bad[i].named), "%s: detail '%s' lacks '%s'",
                           bad[i].opts, kv_last_error(), bad[i].named);
    }
}

Test(engine, unordered_and_limits)
{
    kv_db *db = NULL;
    kv_iter *it = NULL;
    static unsigned char key[1025];

    cr_assert_eq(kv_open("hash", NULL, NULL, &db), KV_OK);
    cr_assert_eq(kv_caps(db), KV_CAP_SCAN, "not ordered, not durable; scannable");
    cr_assert_eq(kv_iter_open(db, &it), KV_OK, "unordered iterators (KV_CAP_SCAN)");
    kv_iter_seek(it, "k", 1);
    cr_assert_eq(kv_iter_status(it), KV_ENOTSUP, "seek on an unordered engine");
    kv_iter_close(it);
    cr_assert_eq(kv_put(db, key, 1024, "v", 1), KV_OK, "default max_key is 1024");
    cr_assert_eq(kv_put(db, key, 1025, "v", 1), KV_ETOOBIG);
    cr_assert_eq(kv_sync(db), KV_OK);
    cr_assert_eq(kv_close(db), KV_OK);
    cr_assert_eq(kv_open("hash", NULL, "max_key=65535", &db), KV_OK);
    cr_assert_eq(kv_close(db), KV_OK);
    cr_assert_eq(kv_open("hash", NULL, "max_key=65536", &db), KV_EINVAL, "above the core limit");
    cr_assert_eq(kv_open("hash", NULL, "max_value=2G", &db), KV_EINVAL);
}

Test(engine, full_table_is_efull)
{
    kv_db *db = NULL;
    kv_buf v = {0};
    char key[16];
    int n = 0, rc;

    /* one shard of 16 slots at 0.5: exactly 8 keys fit */
    const char *opts = "strategy=linear,shards=1,buckets=16,max_load=0.5,resize=off";

    cr_assert_eq(kv_open("hash", NULL, opts, &db), KV_OK, "%s", kv_last_error());
    for (;;) {
        int kl = snprintf(key, sizeof(key), "key%d", n);
        rc = kv_put(db, key, (size_t)kl, "v", 1);
        if (rc != KV_OK)
            break;
        n++;
    }
    cr_assert_eq(rc, KV_EFULL, "%s", kv_last_error());
    cr_assert_not_null(strstr(kv_last_error(), "resize=off"), "detail: %s", kv_last_error());
    cr_assert_eq(n, 8, "%d keys fitted", n);
    cr_assert_eq(kv_put(db, "key0", 4, "overwrite", 9), KV_OK, "overwrites still work when full");
    cr_assert_eq(kv_get(db, "key0", 4, &v), KV_OK);
    cr_assert(v.len == 9 && !memcmp(v.data, "overwrite", 9));
    cr_assert_eq(kv_delete(db, "key1", 4), KV_OK);
    cr_assert_eq(kv_put(db, "new", 3, "v", 1), KV_OK, "a delete makes room again");
    kv_buf_free(&v);
    cr_assert_eq(kv_close(db), KV_OK);
}

Test(engine, stats_extra_counters)
{
    kv_db *db = NULL;
    kv_stats st;
    char key[16], val[100] = {0};
    double sum = 0;

    cr_assert_eq(kv_open("hash", NULL, "strategy=robinhood", &db), KV_OK);
    for (int i = 0; i < 20000; i++) {
        int kl = snprintf(key, sizeof(key), "%015d", i);
        cr_assert_eq(kv_put(db, key, (size_t)kl, val, sizeof(val)), KV_OK);
    }
    cr_assert_eq(kv_db_stats(db, &st), KV_OK);
    cr_assert_eq(st.keys, 20000);
    cr_assert_eq(st.bytes, 20000 * (15 + 100));
    cr_assert_eq(extra(&st, "shards"), 64);
    cr_assert_float_eq(extra(&st, "load_factor"), 20000.0 / extra(&st, "capacity"), 1e-9);
    cr_assert_leq(extra(&st, "load_factor"), 0.875);
    cr_assert_eq(extra(&st, "tombstones"), 0, "Robin Hood deletes leave no tombstones");
    cr_assert_gt(extra(&st, "resizes"), 0);
    for (int i = 0; i < 15; i++) {
        char name[32];
        snprintf(name, sizeof(name), "probe_len_%d", i);
        sum += extra(&st, name);
    }
    sum += extra(&st, "probe_len_15+");
    cr_assert_eq(sum, 20000, "probe histogram sums to %g", sum);
    cr_assert_gt(extra(&st, "probe_len_0"), 20000 * 0.3, "most keys at or near home");
    cr_assert_float_eq(extra(&st, "bytes_per_key"), (double)st.mem_bytes / 20000, 1e-6);
    cr_assert_gt(st.mem_bytes, st.bytes, "memory covers at least the bytes stored");
    cr_assert_eq(kv_close(db), KV_OK);
}

/* Every limit at max - 1, max and max + 1 (tests/limits_check.h), and the options' bounds. */
Test(engine, limits_at_max_minus_one_max_and_max_plus_one)
{
    kv_db *db = NULL;

    cr_assert_eq(kv_open("hash", NULL, "max_value=100", &db), KV_OK);
    lc_limits(db, 1024, 100, false, "the default max_key");
    cr_assert_eq(kv_close(db), KV_OK);
    cr_assert_eq(kv_open("hash", NULL, "max_key=65535,max_value=1", &db), KV_OK);
    lc_limits(db, HT_MAX_KEY, 1, false, "max_key=65535 (the core's HT_MAX_KEY)");
    cr_assert_eq(kv_close(db), KV_OK);
    db = NULL;
    cr_assert_eq(kv_open("hash", NULL, "max_key=65536", &db), KV_EINVAL);
    cr_assert_eq(kv_open("hash", NULL, "max_value=1073741825", &db), KV_EINVAL);
    cr_assert_null(db);
    cr_assert_eq(kv_open("hash", NULL, "max_value=1G", &db), KV_OK, "HT_MAX_VALUE itself");
    cr_assert_eq(kv_close(db), KV_OK);
}
