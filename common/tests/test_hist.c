/*
 * test_hist.c - tests of the log-linear latency histogram (common/src/hist.c).
 *
 * The contract under test: count, min, max and mean are exact; a
 * percentile is never below the true nearest-rank percentile and at most
 * 1/32 above it; p100 is the exact max and p0 the exact min; merging equals
 * recording everything into one histogram; an empty (or zero-filled)
 * histogram reports 0 everywhere. True percentiles are computed by sorting
 * the same samples.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kvlabs/hist.h"
#include "kvlabs/rng.h"

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v[0..n). */
static uint64_t true_percentile(const uint64_t *v, size_t n, double p)
{
    size_t rank = (size_t)ceil(p / 100.0 * (double)n - 1e-9);
    if (rank < 1)
        rank = 1;
    return v[rank - 1];
}

/* got is within the bound: truth <= got <= truth + truth/32. */
static void assert_bounded(uint64_t got, uint64_t truth, double p)
{
    cr_assert_geq(got, truth, "p%g: %llu below true %llu", p, (unsigned long long)got,
                  (unsigned long long)truth);
    cr_assert_leq(got - truth, truth / 32, "p%g: %llu too far above true %llu", p,
                  (unsigned long long)got, (unsigned long long)truth);
}

Test(hist, empty_reports_zero)
{
    static kv_hist zeroed; /* static storage: zero-filled */
    kv_hist h;
    memset(&h, 0x5a, sizeof h);
    kv_hist_init(&h);
    const kv_hist *both[2] = {&h, &zeroed};
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(kv_hist_count(both[i]), 0);
        cr_assert_eq(kv_hist_min(both[i]), 0);
        cr_assert_eq(kv_hist_max(both[i]), 0);
        cr_assert_eq(kv_hist_mean(both[i]), 0.0);
        cr_assert_eq(kv_hist_percentile(both[i], 0), 0);
        cr_assert_eq(kv_hist_percentile(both[i], 50), 0);
        cr_assert_eq(kv_hist_percentile(both[i], 100), 0);
    }
    kv_hist_record(&zeroed, 7);
    cr_assert_eq(kv_hist_min(&zeroed), 7, "zero-filled histogram works without init");
}

Test(hist, exact_count_min_max_mean)
{
    kv_hist h;
    kv_hist_init(&h);
    const uint64_t v[] = {1000, 5, 123456789, 77, 5, 1u << 20};
    uint64_t sum = 0;
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        kv_hist_record(&h, v[i]);
        sum += v[i];
    }
    cr_assert_eq(kv_hist_count(&h), 6);
    cr_assert_eq(kv_hist_min(&h), 5);
    cr_assert_eq(kv_hist_max(&h), 123456789);
    cr_assert_float_eq(kv_hist_mean(&h), (double)sum / 6.0, 1e-9);
    cr_assert_eq(kv_hist_percentile(&h, 100), 123456789, "p100 is the exact max");
    cr_assert_eq(kv_hist_percentile(&h, 0), 5, "p0 is the exact min");
    cr_assert_eq(kv_hist_percentile(&h, 250), 123456789, "clamped to 100");
    cr_assert_eq(kv_hist_percentile(&h, -3), 5, "clamped to 0");
    cr_assert_eq(kv_hist_percentile(&h, NAN), 5, "NaN counts as 0");
    kv_hist_record(&h, 0);
    cr_assert_eq(kv_hist_min(&h), 0);
    kv_hist_reset(&h);
    cr_assert_eq(kv_hist_count(&h), 0);
    cr_assert_eq(kv_hist_max(&h), 0);
}

/* Record v and a larger value into h: p50 is then v's bucket's upper bound,
 * unclamped, which must lie in [v, v + v/32] (exactly v below 64). */
static void check_one_value(kv_hist *h, uint64_t v)
{
    if (v == UINT64_MAX)
        return;
    kv_hist_reset(h);
    kv_hist_record(h, v);
    kv_hist_record(h, UINT64_MAX);
    uint64_t got = kv_hist_percentile(h, 50);
    if (v < 64)
        cr_assert_eq(got, v);
    else
        assert_bounded(got, v, 50);
}

Test(hist, every_bucket_within_relative_error)
{
    /* Every value below 4096, the first, last and one-before-first value of
     * every sub-bucket of every power of two above, and random values over
     * the whole 64-bit range. */
    kv_hist h;
    kv_rng r;
    kv_rng_seed(&r, 1);
    for (uint64_t v = 0; v < 4096; v++)
        check_one_value(&h, v);
    for (unsigned e = 12; e < 64; e++) {
        for (uint64_t sub = 0; sub < 32; sub++) {
            uint64_t width = UINT64_C(1) << (e - 5), lower = (32 + sub) << (e - 5);
            check_one_value(&h, lower - 1);
            check_one_value(&h, lower);
            check_one_value(&h, lower + width - 1);
        }
    }
    for (int i = 0; i < 20000; i++)
        check_one_value(&h, kv_rng_next(&r) >> kv_rng_below(&r, 64));
}

Test(hist, nearest_rank_definition)
{
    /* Values below 64 are exact, so this pins the rank rule itself:
     * the value of rank ceil(p/100 * count). */
    kv_hist h;
    kv_hist_init(&h);
    for (uint64_t v = 1; v <= 10; v++)
        kv_hist_record(&h, v);
    cr_assert_eq(kv_hist_percentile(&h, 0.0001), 1);
    cr_assert_eq(kv_hist_percentile(&h, 10), 1);
    cr_assert_eq(kv_hist_percentile(&h, 10.0001), 2);
    cr_assert_eq(kv_hist_percentile(&h, 25), 3);
    cr_assert_eq(kv_hist_percentile(&h, 50), 5);
    cr_assert_eq(kv_hist_percentile(&h, 90), 9);
    cr_assert_eq(kv_hist_percentile(&h, 91), 10);
    cr_assert_eq(kv_hist_percentile(&h, 99.9), 10);
    kv_hist_reset(&h);
    for (uint64_t v = 1; v <= 3; v++)
        kv_hist_record(&h, v);
    cr_assert_eq(kv_hist_percentile(&h, 50), 2);
    cr_assert_eq(kv_hist_percentile(&h, 200.0 / 3.0), 2, "p66.67 of 3 values is rank 2");
}

Test(hist, uniform_percentiles)
{
    enum { NV = 100000 };
    static uint64_t v[NV];
    kv_hist h;
    kv_hist_init(&h);
    for (uint64_t i = 1; i <= NV; i++) {
        kv_hist_record(&h, i);
        v[i - 1] = i;
    }
    const double ps[] = {0.001, 1, 10, 25, 50, 75, 90, 99, 99.9, 99.99, 100};
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++)
        assert_bounded(kv_hist_percentile(&h, ps[i]), true_percentile(v, NV, ps[i]), ps[i]);
    cr_assert_float_eq(kv_hist_mean(&h), (NV + 1) / 2.0, 1e-9);
}

Test(hist, exponential_and_bimodal_percentiles)
{
    enum { NV = 200000 };
    static uint64_t v[NV];
    kv_rng r;
    kv_rng_seed(&r, 77);
    for (int dist = 0; dist < 2; dist++) {
        kv_hist h;
        kv_hist_init(&h);
        for (int i = 0; i < NV; i++) {
            double u = kv_rng_double(&r);
            if (dist == 0) /* exponential, mean 1 ms */
                v[i] = (uint64_t)(-log1p(-u) * 1e6);
            else /* 99% fast (~200 ns), 1% slow (~5 ms): a cache and a disk */
                v[i] = u < 0.99 ? 150 + kv_rng_below(&r, 100) : 4000000 + kv_rng_below(&r, 2000000);
            kv_hist_record(&h, v[i]);
        }
        qsort(v, NV, sizeof v[0], cmp_u64);
        const double ps[] = {1, 50, 90, 98.9, 99, 99.1, 99.9, 99.99, 100};
        for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++)
            assert_bounded(kv_hist_percentile(&h, ps[i]), true_percentile(v, NV, ps[i]), ps[i]);
        cr_assert_eq(kv_hist_min(&h), v[0]);
        cr_assert_eq(kv_hist_max(&h), v[NV - 1]);
    }
}

Test(hist, merge_equals_single)
{
    kv_hist all, part[3], merged, empty;
    kv_hist_init(&all);
    kv_hist_init(&merged);
    kv_hist_init(&empty);
    for (int i = 0; i < 3; i++)
        kv_hist_init(&part[i]);
    kv_rng r;
    kv_rng_seed(&r, 5);
    for (int i = 0; i < 300000; i++) {
        uint64_t x = kv_rng_next(&r) >> (20 + kv_rng_below(&r, 40));
        kv_hist_record(&all, x);
        kv_hist_record(&part[kv_rng_below(&r, 3)], x);
    }
    kv_hist_merge(&merged, &empty);
    cr_assert_eq(kv_hist_count(&merged), 0);
    for (int i = 0; i < 3; i++)
        kv_hist_merge(&merged, &part[i]);
    kv_hist_merge(&merged, &empty);
    cr_assert(memcmp(&merged, &all, sizeof all) == 0, "merged histogram differs");
    for (double p = 0; p <= 100; p += 0.5)
        cr_assert_eq(kv_hist_percentile(&merged, p), kv_hist_percentile(&all, p));
}

Test(hist, record_n_equals_repeated_record)
{
    kv_hist a, b;
    kv_hist_init(&a);
    kv_hist_init(&b);
    kv_hist_record_n(&a, 4242, 1000);
    kv_hist_record_n(&a, 17, 3);
    kv_hist_record_n(&a, 99, 0); /* nothing */
    for (int i = 0; i < 1000; i++)
        kv_hist_record(&b, 4242);
    for (int i = 0; i < 3; i++)
        kv_hist_record(&b, 17);
    cr_assert(memcmp(&a, &b, sizeof a) == 0);
    cr_assert_eq(kv_hist_count(&a), 1003);
    cr_assert_eq(kv_hist_max(&a), 4242);
}

Test(hist, extreme_values_and_saturation)
{
    kv_hist h;
    kv_hist_init(&h);
    kv_hist_record(&h, UINT64_MAX);
    kv_hist_record(&h, UINT64_MAX);
    cr_assert_eq(kv_hist_max(&h), UINT64_MAX);
    cr_assert_eq(kv_hist_percentile(&h, 50), UINT64_MAX);
    cr_assert_eq(h.sum, UINT64_MAX, "sum saturates");
    kv_hist_record_n(&h, UINT64_C(1) << 40, UINT64_C(1) << 40); /* product overflows */
    cr_assert_eq(h.sum, UINT64_MAX);
    cr_assert_eq(kv_hist_min(&h), UINT64_C(1) << 40);
    assert_bounded(kv_hist_percentile(&h, 50), UINT64_C(1) << 40, 50);
}
