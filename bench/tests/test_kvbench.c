/*
 * test_kvbench.c — unit tests of kvbench's pure parts: the statistics of
 * repeats, the regression gate's decision, the key encoding and its order,
 * the permutation, the YCSB mixes' proportions and the --engines syntax.
 * The end-to-end behaviour (runs, files, exit codes, the report) is
 * tests/kvbench_test.sh's.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "kvbench_int.h"
#include "kvlabs/alloc.h"

/* ---- median and CV ---------------------------------------------------------- */

Test(stats, median_of_odd_and_even_counts)
{
    double odd[] = {5, 1, 3}, even[] = {4, 1, 3, 2}, one[] = {7};

    cr_expect_float_eq(kvb_median(odd, 3), 3.0, 1e-12);
    cr_expect_float_eq(kvb_median(even, 4), 2.5, 1e-12);
    cr_expect_float_eq(kvb_median(one, 1), 7.0, 1e-12);
    cr_expect_float_eq(kvb_median(NULL, 0), 0.0, 1e-12);
    cr_expect_float_eq(odd[0], 5.0, 1e-12, "the input is not reordered");
}

Test(stats, median_ignores_one_outlier)
{
    double v[] = {100, 101, 99, 5000, 100};

    cr_expect_float_eq(kvb_median(v, 5), 100.0, 1e-12);
}

Test(stats, cv_is_sample_stddev_over_mean)
{
    double v[] = {90, 100, 110};       /* mean 100, sample stddev 10 */
    double same[] = {42, 42, 42, 42};
    double zero[] = {0, 0};

    cr_expect_float_eq(kvb_cv(v, 3), 0.10, 1e-12);
    cr_expect_float_eq(kvb_cv(same, 4), 0.0, 1e-12);
    cr_expect_float_eq(kvb_cv(v, 1), 0.0, 1e-12, "one repeat has no spread");
    cr_expect_float_eq(kvb_cv(zero, 2), 0.0, 1e-12, "a zero mean gives 0, not NaN");
}

Test(stats, unstable_threshold_is_five_percent)
{
    double stable[] = {100, 102, 98};   /* CV 2% */
    double noisy[] = {100, 110, 90};    /* CV 10% */

    cr_expect(kvb_cv(stable, 3) <= KVB_UNSTABLE_CV);
    cr_expect(kvb_cv(noisy, 3) > KVB_UNSTABLE_CV);
}

/* ---- the gate ------------------------------------------------------------------ */

static const kvb_gate_limits lim = {5.0, 10.0};

Test(gate, identical_sets_pass)
{
    double t, p;

    cr_expect_eq(kvb_gate_decide(&lim, 1e6, 1e6, 1000, 1000, &t, &p), 0u);
    cr_expect_float_eq(t, 0.0, 1e-12);
    cr_expect_float_eq(p, 0.0, 1e-12);
}

Test(gate, throughput_drop_over_five_percent_fails)
{
    double t;

    cr_expect_eq(kvb_gate_decide(&lim, 1000, 900, 100, 100, &t, NULL), (unsigned)KVB_GATE_TPUT);
    cr_expect_float_eq(t, -10.0, 1e-9);
    cr_expect_eq(kvb_gate_decide(&lim, 1000, 970, 100, 100, NULL, NULL), 0u, "-3% passes");
    cr_expect_eq(kvb_gate_decide(&lim, 1000, 950, 100, 100, NULL, NULL), 0u, "exactly -5% passes");
    cr_expect_eq(kvb_gate_decide(&lim, 1000, 949, 100, 100, NULL, NULL), (unsigned)KVB_GATE_TPUT);
    cr_expect_eq(kvb_gate_decide(&lim, 1000, 2000, 100, 100, NULL, NULL), 0u, "faster passes");
}

Test(gate, p99_rise_over_ten_percent_fails)
{
    double p;

    cr_expect_eq(kvb_gate_decide(&lim, 1000, 1000, 100, 120, NULL, &p), (unsigned)KVB_GATE_P99);
    cr_expect_float_eq(p, 20.0, 1e-9);
    cr_expect_eq(kvb_gate_decide(&lim, 1000, 1000, 100, 110, NULL, NULL), 0u, "+10% passes");
    cr_expect_eq(kvb_gate_decide(&lim, 1000, 1000, 100, 50, NULL, NULL), 0u, "lower p99 passes");
}

Test(gate, both_can_fail_at_once_and_limits_are_honoured)
{
    kvb_gate_limits loose = {20.0, 50.0};

    cr_expect_eq(kvb_gate_decide(&lim, 1000, 800, 100, 200, NULL, NULL),
                 (unsigned)(KVB_GATE_TPUT | KVB_GATE_P99));
    cr_expect_eq(kvb_gate_decide(&loose, 1000, 850, 100, 140, NULL, NULL), 0u);
}

Test(gate, empty_base_cannot_regress)
{
    cr_expect_eq(kvb_gate_decide(&lim, 0, 0, 0, 500, NULL, NULL), 0u);
}

/* ---- keys ------------------------------------------------------------------------ */

Test(keys, fixed_size_prefix_and_marker)
{
    uint8_t k[64];

    for (unsigned ks = KVB_KEY_MIN; ks <= 40; ks++) {
        memset(k, 0xee, sizeof k);
        kvb_key_encode(k, ks, 12345, false);
        cr_expect_eq(k[0], 'k');
        cr_expect_eq(k[ks - 1], 'p');
        cr_expect_eq(k[ks], 0xee, "writes exactly key_size bytes (ks %u)", ks);
        kvb_key_encode(k, ks, 12345, true);
        cr_expect_eq(k[ks - 1], 'm');
    }
}

Test(keys, big_endian_order_equals_index_order)
{
    static const unsigned sizes[] = {6, 10, 16, 24, 100};
    uint8_t a[128], b[128];

    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        unsigned ks = sizes[s];
        uint64_t cap = kvb_key_capacity(ks), prev = 0;
        kv_rng r;

        kv_rng_seed(&r, ks);
        for (int i = 0; i < 20000; i++) {
            uint64_t x = kv_rng_below(&r, cap ? cap - 1 : 1ull << 40);
            uint64_t y = i % 2 ? x + 1 : kv_rng_below(&r, cap ? cap - 1 : 1ull << 40);
            kvb_key_encode(a, ks, x, false);
            kvb_key_encode(b, ks, y, false);
            int c = memcmp(a, b, ks);
            cr_assert((x < y && c < 0) || (x > y && c > 0) || (x == y && c == 0),
                      "ks %u: %llu vs %llu", ks, (unsigned long long)x, (unsigned long long)y);
            prev = x;
        }
        (void)prev;
    }
}

Test(keys, missing_key_sorts_between_neighbours)
{
    uint8_t lo[16], miss[16], hi[16];

    /* The missing twin of key i sorts just before it: between i-1 and i. */
    for (uint64_t i = 1; i < 5000; i += 7) {
        kvb_key_encode(lo, 16, i - 1, false);
        kvb_key_encode(miss, 16, i, true);
        kvb_key_encode(hi, 16, i, false);
        cr_assert(memcmp(lo, miss, 16) < 0 && memcmp(miss, hi, 16) < 0);
    }
}

Test(keys, values_are_not_constant)
{
    kvb_values v;
    kv_rng r;
    size_t zeros = 0;

    cr_assert_eq(kvb_values_init(&v, 100, 1), KV_OK);
    kv_rng_seed(&r, 3);
    const uint8_t *a = kvb_value_pick(&v, &r), *b = kvb_value_pick(&v, &r);
    cr_expect_neq(memcmp(a, b, 100), 0);
    for (size_t i = 0; i < v.len; i++)
        zeros += v.pool[i] == 0;
    cr_expect_lt(zeros, v.len / 100, "random bytes, not zeros (%zu of %zu)", zeros, v.len);
    kvb_values_free(&v);
}

/* ---- the permutation --------------------------------------------------------------- */

Test(perm, is_a_bijection_for_many_sizes)
{
    static const uint64_t sizes[] = {1, 2, 3, 4, 5, 17, 100, 1000, 4096, 65537, 300000};

    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        uint64_t n = sizes[s];
        uint8_t *seen = kv_calloc(n, 1);
        kvb_perm p;
        uint64_t fixed = 0;

        cr_assert_not_null(seen);
        kvb_perm_init(&p, n, 42);
        for (uint64_t i = 0; i < n; i++) {
            uint64_t x = kvb_perm_at(&p, i);
            cr_assert_lt(x, n);
            cr_assert_eq(seen[x], 0, "n %llu: %llu hit twice", (unsigned long long)n,
                         (unsigned long long)x);
            seen[x] = 1;
            fixed += x == i;
        }
        if (n >= 1000)
            cr_expect_lt(fixed, n / 100, "looks shuffled (n %llu)", (unsigned long long)n);
        kv_free(seen);
    }
}

Test(perm, seed_changes_the_order)
{
    kvb_perm a, b;
    int same = 0;

    kvb_perm_init(&a, 10000, 1);
    kvb_perm_init(&b, 10000, 2);
    for (uint64_t i = 0; i < 100; i++)
        same += kvb_perm_at(&a, i) == kvb_perm_at(&b, i);
    cr_expect_lt(same, 10);
}

/* ---- workloads ------------------------------------------------------------------------ */

static void check_mix(const char *name, double read, double update, double insert, double scan,
                      double rmw)
{
    const kvb_workload *wl = kvb_workload_find(name);
    const double want[5] = {read, update, insert, scan, rmw};
    uint64_t got[5] = {0};
    const uint64_t draws = 1000000;
    kv_rng r;

    cr_assert_not_null(wl, "%s", name);
    kv_rng_seed(&r, 99);
    for (uint64_t i = 0; i < draws; i++)
        got[kvb_mix_pick(&wl->mix, &r)]++;
    for (int k = 0; k < 5; k++)
        cr_expect(fabs((double)got[k] / (double)draws - want[k] / 100.0) < 0.003,
                  "%s: kind %d drawn %.4f, expected %.2f", name, k,
                  (double)got[k] / (double)draws, want[k] / 100.0);
}

Test(workload, ycsb_mix_proportions)
{
    check_mix("ycsb-a", 50, 50, 0, 0, 0);
    check_mix("ycsb-b", 95, 5, 0, 0, 0);
    check_mix("ycsb-c", 100, 0, 0, 0, 0);
    check_mix("ycsb-d", 95, 0, 5, 0, 0);
    check_mix("ycsb-e", 0, 0, 5, 95, 0);
    check_mix("ycsb-f", 50, 0, 0, 0, 50);
}

Test(workload, table_is_in_run_order_and_complete)
{
    static const char *const names[] = {"fillseq", "fillrandom", "overwrite", "readrandom",
                                         "readmissing", "readseq", "scan", "ycsb-a", "ycsb-b",
                                         "ycsb-c", "ycsb-d", "ycsb-e", "ycsb-f", "deleterandom"};

    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        const kvb_workload *wl = kvb_workload_find(names[i]);
        cr_assert_not_null(wl, "%s", names[i]);
        cr_expect_eq((int)wl->id, (int)(wl - kvb_workloads));
        cr_expect_eq(wl->mix.read + wl->mix.update + wl->mix.insert + wl->mix.scan + wl->mix.rmw,
                     wl->dist == KVB_DIST_ZIPF || wl->dist == KVB_DIST_LATEST ? 100u : 0u);
    }
    cr_expect_eq(kvb_workloads[KVB_N_WORKLOADS - 1].id, KVB_DELETERANDOM, "destructive last");
    cr_expect(kvb_workload_find("readseq")->ordered && kvb_workload_find("scan")->ordered &&
              kvb_workload_find("ycsb-e")->ordered && !kvb_workload_find("ycsb-a")->ordered);
    cr_expect_null(kvb_workload_find("load"), "the untimed load is not selectable");
    cr_expect_null(kvb_workload_find("nosuch"));
}

Test(workload, latest_favours_new_keys)
{
    kvb_store s;
    kvb_values v = {0};
    kv_rng r;
    uint64_t recent = 0;

    cr_assert_eq(kvb_store_init(&s, 100000, 16, &v, 1), KV_OK);
    kv_rng_seed(&r, 5);
    for (int i = 0; i < 100000; i++)
        recent += kv_zipf_next_latest(&s.zipf, &r, kvb_store_records(&s)) >= 99000;
    cr_expect_gt(recent, 50000u, "most reads of 'latest' go to the newest 1%% (%llu)",
                 (unsigned long long)recent);
}

/* ---- --engines syntax -------------------------------------------------------------------- */

static void expect_specs(const char *arg, const char *const *want, size_t n)
{
    kvb_engine_list l = {0};

    cr_assert_eq(kvb_engines_parse(&l, arg), KVB_EXIT_OK, "%s", arg);
    cr_assert_eq(l.n, n, "%s: %zu engines", arg, l.n);
    for (size_t i = 0; i < n; i++)
        cr_expect_str_eq(l.v[i].spec, want[i], "%s", arg);
    kvb_engines_free(&l);
}

Test(engines, separators_and_options_with_commas)
{
    static const char *const three[] = {"lmdb", "rocksdb", "sqlite"};
    static const char *const two[] = {"lmdb:map_size=4G,batch=100", "rocksdb"};
    static const char *const one[] = {"model:durable=true,sync=always"};

    expect_specs("lmdb,rocksdb,sqlite", three, 3);
    expect_specs("lmdb;rocksdb;sqlite", three, 3);
    expect_specs("lmdb:map_size=4G,batch=100;rocksdb", two, 2);
    expect_specs("lmdb:map_size=4G,batch=100,rocksdb", two, 2);
    expect_specs("model:durable=true,sync=always", one, 1);
}

Test(engines, repeated_flags_append)
{
    kvb_engine_list l = {0};

    cr_assert_eq(kvb_engines_parse(&l, "model:durable=true"), KVB_EXIT_OK);
    cr_assert_eq(kvb_engines_parse(&l, "leveldb"), KVB_EXIT_OK);
    cr_assert_eq(l.n, 2u);
    cr_expect_str_eq(l.v[1].spec, "leveldb");
    kvb_engines_free(&l);
}

Test(engines, option_without_engine_is_refused)
{
    kvb_engine_list l = {0};

    cr_expect_eq(kvb_engines_parse(&l, "sync=always"), KVB_EXIT_USAGE);
    kvb_engines_free(&l);
    cr_expect_eq(kvb_engines_parse(&l, "lmdb;batch=2"), KVB_EXIT_USAGE);
    kvb_engines_free(&l);
}

Test(engines, kinds)
{
    cr_expect_str_eq(kvb_engine_kind("model"), "reference");
    cr_expect_str_eq(kvb_engine_kind("lmdb"), "peer");
    cr_expect_str_eq(kvb_engine_kind("sqlite"), "peer");
    cr_expect_str_eq(kvb_engine_kind("hash"), "kvlabs");
}
