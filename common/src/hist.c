/*
 * hist.c - the log-linear latency histogram behind every kvlabs benchmark.
 *
 * A benchmark thread calls kv_hist_record() after each operation, so
 * recording must be a handful of instructions with no allocation and no
 * branch on the value's magnitude beyond one comparison. The reading side
 * (percentiles, merge) runs once per report and may walk all buckets.
 *
 * How it works. Values are split by magnitude into groups of
 * KV_HIST_SUB_BUCKETS (32) buckets:
 *
 *     group 0:  values 0..31,          width 1   (bucket index = value)
 *     group 1:  values 32..63,         width 1   (bucket index = value)
 *     group g:  values [2^(g+4), 2^(g+5)), width 2^(g-1), for g = 1..59
 *
 * For v >= 32, with e = floor(log2 v) (found with count-leading-zeros) and
 * shift = e - 5, the top six bits of v are v >> shift, in [32, 64); the
 * bucket index is 32 * (shift + 1) + (v >> shift) - 32. That formula also
 * gives index v for v in 32..63, which is why groups 0 and 1 join up into
 * 64 exact buckets. Bucket i's lower bound is ((i mod 32) + 32) << (i/32 - 1)
 * (i itself below 64) and its width 2^(i/32 - 1): width/lower <= 1/32.
 *
 * A percentile walks the buckets accumulating counts until it reaches the
 * wanted rank and reports the bucket's upper bound, which is an upper bound
 * of the true value within 1/32 (then clamped to the exact max). The exact
 * min, max, count and sum are kept beside the buckets.
 */
#include <assert.h>
#include <string.h>

#include "kvlabs/hist.h"

/* Index of the highest set bit of v, v != 0. */
static inline unsigned high_bit(uint64_t v)
{
#if defined(__GNUC__)
    return 63u - (unsigned)__builtin_clzll(v);
#else
    unsigned b = 0;
    while (v >>= 1)
        b++;
    return b;
#endif
}

/* The bucket holding value v. */
static inline unsigned bucket_of(uint64_t v)
{
    if (v < KV_HIST_SUB_BUCKETS)
        return (unsigned)v;
    unsigned shift = high_bit(v) - KV_HIST_SUB_BITS;
    return KV_HIST_SUB_BUCKETS * (shift + 1) + (unsigned)(v >> shift) - KV_HIST_SUB_BUCKETS;
}

/* The largest value bucket i holds. */
static uint64_t bucket_upper(unsigned i)
{
    if (i < 2 * KV_HIST_SUB_BUCKETS)
        return i;
    unsigned shift = i / KV_HIST_SUB_BUCKETS - 1;
    uint64_t lower = (uint64_t)(i % KV_HIST_SUB_BUCKETS + KV_HIST_SUB_BUCKETS) << shift;
    return lower + ((uint64_t)1 << shift) - 1;
}

/* a + b, saturating at UINT64_MAX. */
static inline uint64_t add_sat(uint64_t a, uint64_t b)
{
    return a + b < a ? UINT64_MAX : a + b;
}

void kv_hist_init(kv_hist *h)
{
    memset(h, 0, sizeof *h);
}

void kv_hist_reset(kv_hist *h)
{
    memset(h, 0, sizeof *h);
}

void kv_hist_record(kv_hist *h, uint64_t ns)
{
    kv_hist_record_n(h, ns, 1);
}

void kv_hist_record_n(kv_hist *h, uint64_t ns, uint64_t n)
{
    if (n == 0)
        return;
    if (h->count == 0 || ns < h->min)
        h->min = ns;
    if (ns > h->max)
        h->max = ns;
    h->count += n;
    uint64_t total = (ns != 0 && n > UINT64_MAX / ns) ? UINT64_MAX : ns * n;
    h->sum = add_sat(h->sum, total);
    h->buckets[bucket_of(ns)] += n;
}

void kv_hist_merge(kv_hist *dst, const kv_hist *src)
{
    assert(dst != src);
    if (src->count == 0)
        return;
    if (dst->count == 0 || src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
    dst->count += src->count;
    dst->sum = add_sat(dst->sum, src->sum);
    for (unsigned i = 0; i < KV_HIST_BUCKETS; i++)
        dst->buckets[i] += src->buckets[i];
}

uint64_t kv_hist_count(const kv_hist *h)
{
    return h->count;
}

uint64_t kv_hist_min(const kv_hist *h)
{
    return h->count ? h->min : 0;
}

uint64_t kv_hist_max(const kv_hist *h)
{
    return h->count ? h->max : 0;
}

double kv_hist_mean(const kv_hist *h)
{
    return h->count ? (double)h->sum / (double)h->count : 0.0;
}

uint64_t kv_hist_percentile(const kv_hist *h, double p)
{
    if (h->count == 0)
        return 0;
    if (!(p > 0.0)) /* also NaN */
        return h->min;
    if (p >= 100.0)
        return h->max;

    /* Nearest rank ceil(p/100 * count), forgiving the rounding of p/100. */
    double want = p / 100.0 * (double)h->count;
    uint64_t rank = (uint64_t)want;
    if ((double)rank < want - 1e-9 * want)
        rank++;
    if (rank == 0)
        rank = 1;
    if (rank > h->count)
        rank = h->count;

    uint64_t seen = 0;
    for (unsigned i = 0; i < KV_HIST_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen >= rank) {
            uint64_t up = bucket_upper(i);
            return up < h->max ? up : h->max;
        }
    }
    return h->max; /* unreachable while the counts are consistent */
}
