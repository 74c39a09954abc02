/*
 * test_zipf.c - tests of the YCSB zipfian generator (common/src/zipf.c).
 *
 * What is checked, at fixed seeds:
 *  - argument checking and zeta(n, theta) accuracy against plain summation,
 *    including the Euler-Maclaurin tail for large n and kv_zipf_grow();
 *  - the distribution for n = 1000, theta = 0.99, 1e6 draws. Ranks 0 and 1
 *    must match the zipfian law 1/(k+1)^theta / zeta exactly (Gray's method
 *    is exact there). Ranks 2 and beyond come from Gray's closed-form
 *    approximation, which is not exactly zipfian (rank 2 is 17% heavier
 *    than the law says, ranks 30-999 2-3.5% lighter): a chi-square of ranks
 *    0..99 against the law itself fails by thousands, by design of the
 *    algorithm YCSB uses. So the chi-square is taken against the
 *    probabilities of Gray's mapping, derived here independently from the
 *    paper's formula, and the deviation from the law is bounded separately;
 *  - the scrambled variant: in range, and its per-item frequencies match
 *    the zipfian rank probabilities folded through FNV-1a mod n (which this
 *    file recomputes with its own FNV);
 *  - the latest variant: the newest item is the most popular, with clamping.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kvlabs/kv.h"
#include "kvlabs/rng.h"

#define N 1000
#define THETA 0.99
#define DRAWS 1000000

/* sum_{i=1..n} i^-theta, largest index first (Kahan-compensated). */
static double plain_zeta(uint64_t n, double theta)
{
    double sum = 0, c = 0;
    for (uint64_t i = n; i >= 1; i--) {
        double y = pow((double)i, -theta) - c, t = sum + y;
        c = (t - sum) - y;
        sum = t;
    }
    return sum;
}

/* Probability of each rank under Gray's mapping, from the paper's formula:
 * ranks 0 and 1 are exact; rank k >= 2 is drawn when
 * k <= n (eta u - eta + 1)^alpha < k+1 with u >= (1 + 0.5^theta)/zeta. */
static void gray_probs(double *p, uint64_t n, double theta)
{
    double zeta = plain_zeta(n, theta);
    double zeta2 = 1 + pow(0.5, theta);
    double eta = (1 - pow(2.0 / (double)n, 1 - theta)) / (1 - zeta2 / zeta);
    double u0 = zeta2 / zeta;
    p[0] = 1 / zeta;
    p[1] = pow(0.5, theta) / zeta;
    for (uint64_t k = 2; k < n; k++) {
        double lo = 1 - (1 - pow((double)k / (double)n, 1 - theta)) / eta;
        double hi = 1 - (1 - pow((double)(k + 1) / (double)n, 1 - theta)) / eta;
        p[k] = fmin(1, hi) - fmax(u0, lo);
        if (p[k] < 0)
            p[k] = 0;
    }
}

static uint64_t ref_fnv(uint64_t v)
{
    uint64_t h = UINT64_C(14695981039346656037);
    for (int i = 0; i < 8; i++) {
        h ^= (uint8_t)(v >> (8 * i));
        h *= UINT64_C(1099511628211);
    }
    return h;
}

static double chi_square(const uint64_t *obs, const double *p, int cells, double draws)
{
    double chi = 0;
    for (int k = 0; k < cells; k++) {
        double e = p[k] * draws;
        chi += ((double)obs[k] - e) * ((double)obs[k] - e) / e;
    }
    return chi;
}

Test(zipf, init_rejects_bad_arguments)
{
    kv_zipf z, before;
    memset(&z, 0xab, sizeof z);
    before = z;
    cr_assert_eq(kv_zipf_init(NULL, 10, THETA), KV_EINVAL);
    cr_assert_eq(kv_zipf_init(&z, 0, THETA), KV_EINVAL);
    const double bad[] = {0.0, 1.0, -0.5, 1.5, NAN, INFINITY};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(kv_zipf_init(&z, 10, bad[i]), KV_EINVAL, "theta %g", bad[i]);
    cr_assert(memcmp(&z, &before, sizeof z) == 0, "unchanged on failure");
    cr_assert_str_neq(kv_last_error(), "");
    cr_assert_eq(kv_zipf_init(&z, 10, 0.5), KV_OK);
    cr_assert_eq(z.n, 10);
    cr_assert_float_eq(z.alpha, 2.0, 1e-15);
}

Test(zipf, zeta_matches_plain_sum)
{
    const struct { uint64_t n; double theta; } cases[] = {
        {1, 0.99}, {2, 0.99}, {1000, 0.99}, {4096, 0.5}, {4097, 0.99},
        {100000, 0.2}, {2000000, 0.99}, {2000000, 0.999999}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kv_zipf z;
        cr_assert_eq(kv_zipf_init(&z, cases[i].n, cases[i].theta), KV_OK);
        double want = plain_zeta(cases[i].n, cases[i].theta);
        cr_assert(fabs(z.zetan - want) <= 1e-12 * want, "n=%llu theta=%g: %.17g vs %.17g",
                  (unsigned long long)cases[i].n, cases[i].theta, z.zetan, want);
    }
}

Test(zipf, zeta_of_ten_billion_matches_ycsb_constant)
{
    /* YCSB's ScrambledZipfianGenerator hard-codes zeta(10^10, 0.99). */
    kv_zipf z;
    cr_assert_eq(kv_zipf_init(&z, UINT64_C(10000000000), 0.99), KV_OK);
    cr_assert(fabs(z.zetan - 26.46902820178302) < 1e-9, "%.17g", z.zetan);
}

Test(zipf, grow_equals_init)
{
    kv_zipf g, fresh;
    cr_assert_eq(kv_zipf_init(&g, 10, THETA), KV_OK);
    for (uint64_t n = 11; n <= 5000; n++) /* one insert at a time, as YCSB */
        cr_assert_eq(kv_zipf_grow(&g, n), KV_OK);
    cr_assert_eq(kv_zipf_grow(&g, 3000000), KV_OK); /* one long step */
    cr_assert_eq(kv_zipf_grow(&g, 3000000), KV_OK); /* no-op */
    cr_assert_eq(kv_zipf_init(&fresh, 3000000, THETA), KV_OK);
    cr_assert_eq(g.n, fresh.n);
    cr_assert(fabs(g.zetan - fresh.zetan) <= 1e-12 * fresh.zetan);
    cr_assert(fabs(g.eta - fresh.eta) <= 1e-10 * fabs(fresh.eta));
    kv_zipf saved = g;
    cr_assert_eq(kv_zipf_grow(&g, 2999999), KV_EINVAL);
    cr_assert(memcmp(&g, &saved, sizeof g) == 0);
    cr_assert_eq(kv_zipf_grow(NULL, 5), KV_EINVAL);
}

Test(zipf, tiny_n)
{
    kv_zipf z;
    kv_rng r;
    kv_rng_seed(&r, 3);
    cr_assert_eq(kv_zipf_init(&z, 1, THETA), KV_OK);
    for (int i = 0; i < 10000; i++)
        cr_assert_eq(kv_zipf_next(&z, &r), 0);
    cr_assert_eq(kv_zipf_init(&z, 2, THETA), KV_OK);
    int ones = 0;
    for (int i = 0; i < 100000; i++) {
        uint64_t v = kv_zipf_next(&z, &r);
        cr_assert_lt(v, 2);
        ones += (int)v;
    }
    double want = pow(0.5, THETA) / (1 + pow(0.5, THETA)); /* ~0.3348, sd 0.0015 */
    cr_assert(fabs(ones / 1e5 - want) < 0.008, "P(1) = %f", ones / 1e5);
}

Test(zipf, distribution_n1000)
{
    static uint64_t counts[N];
    static double gray[N];
    kv_zipf z;
    kv_rng r;
    cr_assert_eq(kv_zipf_init(&z, N, THETA), KV_OK);
    kv_rng_seed(&r, 12345);
    for (int i = 0; i < DRAWS; i++) {
        uint64_t v = kv_zipf_next(&z, &r);
        cr_assert_lt(v, N);
        counts[v]++;
    }
    double zeta = plain_zeta(N, THETA);
    /* Ranks 0 and 1 follow the zipfian law exactly: within 4 sd. */
    for (int k = 0; k < 2; k++) {
        double p = 1 / pow(k + 1, THETA) / zeta, sd = sqrt(p * (1 - p) / DRAWS);
        double f = (double)counts[k] / DRAWS;
        cr_assert(fabs(f - p) < 4 * sd, "rank %d: %f vs %f", k, f, p);
    }
    /* The top ranks stay within Gray's known deviation from the law. */
    for (int k = 2; k < 10; k++) {
        double p = 1 / pow(k + 1, THETA) / zeta, f = (double)counts[k] / DRAWS;
        cr_assert(f > 0.95 * p && f < 1.20 * p, "rank %d: %f vs law %f", k, f, p);
    }
    /* Chi-square of ranks 0..99 plus one cell for the rest, against Gray's
     * mapping: 100 degrees of freedom, 0.1% critical value 149.45. */
    gray_probs(gray, N, THETA);
    uint64_t obs[101] = {0};
    double p[101] = {0};
    for (int k = 0; k < N; k++) {
        obs[k < 100 ? k : 100] += counts[k];
        p[k < 100 ? k : 100] += gray[k];
    }
    double chi = chi_square(obs, p, 101, DRAWS);
    cr_assert_lt(chi, 149.45, "chi2 = %f", chi);
    /* Every rank is reachable and the tail is monotone on average. */
    cr_assert_gt(counts[N - 1], 0);
    cr_assert_gt(counts[10] + counts[11], counts[500] + counts[501]);
}

Test(zipf, scrambled_folds_zipf_through_fnv)
{
    static uint64_t counts[N];
    static double gray[N], folded[N];
    kv_zipf z;
    kv_rng r;
    cr_assert_eq(kv_zipf_init(&z, N, THETA), KV_OK);
    kv_rng_seed(&r, 777);
    for (int i = 0; i < DRAWS; i++) {
        uint64_t v = kv_zipf_next_scrambled(&z, &r);
        cr_assert_lt(v, N);
        counts[v]++;
    }
    gray_probs(gray, N, THETA);
    for (uint64_t k = 0; k < N; k++)
        folded[ref_fnv(k) % N] += gray[k];
    /* The hottest item is where rank 0 hashes to, with rank 0's mass (plus
     * whatever else folds there). */
    uint64_t hot = ref_fnv(0) % N, best = 0;
    for (uint64_t i = 0; i < N; i++)
        if (counts[i] > counts[best])
            best = i;
    cr_assert_eq(best, hot);
    cr_assert_neq(hot, 0, "scrambling moved the hottest item away from 0");
    /* Chi-square over the 100 items of largest expected mass + the rest. */
    static int order[N];
    for (int i = 0; i < N; i++)
        order[i] = i;
    for (int i = 0; i < 100; i++) /* partial selection sort by folded mass */
        for (int j = i + 1; j < N; j++)
            if (folded[order[j]] > folded[order[i]]) {
                int t = order[i];
                order[i] = order[j], order[j] = t;
            }
    uint64_t obs[101] = {0};
    double p[101] = {0};
    for (int i = 0; i < N; i++) {
        obs[i < 100 ? i : 100] += counts[order[i]];
        p[i < 100 ? i : 100] += folded[order[i]];
    }
    double chi = chi_square(obs, p, 101, DRAWS);
    cr_assert_lt(chi, 149.45, "chi2 = %f", chi);
    /* Items no rank hashes to are never drawn. */
    for (int i = 0; i < N; i++)
        if (folded[i] == 0)
            cr_assert_eq(counts[i], 0);
}

Test(zipf, latest_favours_newest)
{
    static uint64_t counts[N];
    kv_zipf z;
    kv_rng r;
    cr_assert_eq(kv_zipf_init(&z, N, THETA), KV_OK);
    kv_rng_seed(&r, 4242);
    cr_assert_eq(kv_zipf_next_latest(&z, &r, 0), 0);
    for (int i = 0; i < 200000; i++) {
        uint64_t v = kv_zipf_next_latest(&z, &r, N);
        cr_assert_lt(v, N);
        counts[v]++;
    }
    cr_assert_gt(counts[N - 1], counts[N - 2]);
    cr_assert_gt(counts[N - 2], counts[N - 3]);
    cr_assert_gt(counts[N - 3], 10 * counts[0] + 1);
    double p = 1 / plain_zeta(N, THETA), f = counts[N - 1] / 200000.0;
    cr_assert(fabs(f - p) < 0.005, "newest: %f vs %f", f, p);

    /* Fewer items inserted than z->n: in range, and ranks beyond the
     * inserted ones are clamped onto item 0. */
    uint64_t in_range = 0, zeros = 0;
    for (int i = 0; i < 100000; i++) {
        uint64_t v = kv_zipf_next_latest(&z, &r, 10);
        in_range += v < 10;
        zeros += v == 0;
    }
    cr_assert_eq(in_range, 100000);
    cr_assert_gt(zeros, 30000, "clamped mass lands on 0: %llu", (unsigned long long)zeros);
}

Test(zipf, huge_n_and_determinism)
{
    kv_zipf z;
    kv_rng a, b;
    cr_assert_eq(kv_zipf_init(&z, UINT64_C(10000000000), THETA), KV_OK);
    kv_rng_seed(&a, 1);
    kv_rng_seed(&b, 1);
    int zeros = 0;
    for (int i = 0; i < 200000; i++) {
        uint64_t v = kv_zipf_next(&z, &a);
        cr_assert_lt(v, z.n);
        cr_assert_eq(v, kv_zipf_next(&z, &b));
        zeros += v == 0;
    }
    double p = 1 / z.zetan; /* ~0.0378, sd ~0.00043 */
    cr_assert(fabs(zeros / 200000.0 - p) < 0.002, "P(0) = %f vs %f", zeros / 200000.0, p);
    kv_zipf_init(&z, UINT64_MAX, 0.5);
    for (int i = 0; i < 10000; i++)
        cr_assert_lt(kv_zipf_next_scrambled(&z, &a), UINT64_MAX);
}
