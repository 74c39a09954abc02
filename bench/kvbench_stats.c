/*
 * kvbench_stats.c — the arithmetic of repeats and of the regression gate.
 *
 * A benchmark figure is never one number: kvbench runs each engine and
 * workload --repeats times and reports the median (robust to one noisy
 * repeat, unlike the mean) and the coefficient of variation, CV = sample
 * standard deviation / mean, which says how much the repeats disagree. A
 * figure whose CV exceeds 5% is flagged "unstable": the machine was busy,
 * or the workload is too short to settle, and a difference of a few
 * percent against it means nothing.
 *
 * The gate compares two result sets figure by figure (medians over each
 * set's repeats) and fails when
 *
 *     throughput drops by more than max_tput_drop_pct (default 5%), or
 *     p99 latency grows by more than max_p99_rise_pct  (default 10%).
 *
 * A change exactly at a threshold passes. A p99 of 0 in the base (a
 * histogram with nothing in it) cannot regress; neither can a throughput
 * of 0 (a base that did no work). These functions are pure: they take
 * numbers and return numbers, and the unit tests check them directly.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kvbench_int.h"
#include "kvlabs/alloc.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double kvb_median(const double *v, size_t n)
{
    double *s, m;

    if (n == 0)
        return 0.0;
    if (n == 1)
        return v[0];
    s = kv_malloc(n * sizeof *s);
    if (!s)
        return v[0];
    memcpy(s, v, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    m = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2.0;
    kv_free(s);
    return m;
}

double kvb_mean(const double *v, size_t n)
{
    double sum = 0.0;

    for (size_t i = 0; i < n; i++)
        sum += v[i];
    return n ? sum / (double)n : 0.0;
}

double kvb_cv(const double *v, size_t n)
{
    double mean = kvb_mean(v, n), ss = 0.0;

    if (n < 2 || mean == 0.0)
        return 0.0;
    for (size_t i = 0; i < n; i++)
        ss += (v[i] - mean) * (v[i] - mean);
    return sqrt(ss / (double)(n - 1)) / fabs(mean);
}

unsigned kvb_gate_decide(const kvb_gate_limits *lim, double base_ops, double new_ops,
                         double base_p99, double new_p99, double *tput_pct, double *p99_pct)
{
    unsigned bad = 0;
    double t = base_ops > 0 ? (new_ops - base_ops) / base_ops * 100.0 : 0.0;
    double p = base_p99 > 0 ? (new_p99 - base_p99) / base_p99 * 100.0 : 0.0;

    /* A tiny epsilon so that "exactly 5%" computed in floating point
     * (e.g. 95 vs 100 giving -5.000000000001) still passes. */
    if (-t > lim->max_tput_drop_pct + 1e-9)
        bad |= KVB_GATE_TPUT;
    if (p > lim->max_p99_rise_pct + 1e-9)
        bad |= KVB_GATE_P99;
    if (tput_pct)
        *tput_pct = t;
    if (p99_pct)
        *p99_pct = p;
    return bad;
}
