/**
 * @file hist.h
 * @brief A fixed-size log-linear latency histogram (HdrHistogram-like).
 *
 * Benchmarks record one latency per operation, often millions per second
 * per thread, and report percentiles (p50, p99, p99.9). Keeping every
 * sample costs memory and a sort; a histogram costs one array increment per
 * sample and a fixed 15 KiB, with a bounded relative error.
 *
 * **Buckets.** Values are unsigned 64-bit nanosecond counts; the whole range
 * 0 .. 2^64-1 is covered, so nothing is ever clamped. Values below 64 have
 * a bucket each (exact). Above, each power-of-two range [2^e, 2^(e+1)) is
 * split into KV_HIST_SUB_BUCKETS equal sub-buckets of width 2^(e-5), so a
 * bucket's width is at most 1/32 of its lower bound: any value reported
 * for a bucket is within 3.125% of every value the bucket holds.
 *
 * **Usage.** A zero-filled kv_hist (static storage, `= {0}`, calloc) is a
 * valid empty histogram, as is one passed to kv_hist_init(). Each thread
 * records into its own histogram (embedded in its per-thread state; there
 * is no allocation), and the driver merges them at the end with
 * kv_hist_merge().
 *
 * **Thread safety.** None inside: a histogram must be written by one
 * thread at a time. Reading functions may run concurrently with each other.
 */
#ifndef KVLABS_HIST_H
#define KVLABS_HIST_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief log2 of the number of linear sub-buckets per power of two. */
#define KV_HIST_SUB_BITS 5
/** @brief Linear sub-buckets per power-of-two range (32: relative error <= 1/32). */
#define KV_HIST_SUB_BUCKETS (1u << KV_HIST_SUB_BITS)
/** @brief Total number of buckets: 2^64 is covered by 60 groups of 32. */
#define KV_HIST_BUCKETS ((64 - KV_HIST_SUB_BITS + 1) * KV_HIST_SUB_BUCKETS)

/**
 * @brief A latency histogram. Fixed size, no allocation; zero-filled is empty.
 *
 * The fields are maintained by the functions below; read them through the
 * accessors.
 */
typedef struct kv_hist {
    uint64_t count;  /**< values recorded */
    uint64_t min;    /**< smallest value recorded (meaningless while count is 0) */
    uint64_t max;    /**< largest value recorded (0 while count is 0) */
    uint64_t sum;    /**< sum of the values, saturating at UINT64_MAX (584 years) */
    uint64_t buckets[KV_HIST_BUCKETS]; /**< values recorded per bucket */
} kv_hist;

/**
 * @brief Make a histogram empty (same as zero-filling it).
 * @param[out] h  the histogram.
 */
void kv_hist_init(kv_hist *h);

/**
 * @brief Forget every recorded value; the histogram becomes empty.
 * @param[in,out] h  the histogram.
 */
void kv_hist_reset(kv_hist *h);

/**
 * @brief Record one value.
 * @param[in,out] h   the histogram.
 * @param[in]     ns  the value, in nanoseconds (any value, 0 included).
 */
void kv_hist_record(kv_hist *h, uint64_t ns);

/**
 * @brief Record the same value @p n times (n = 0 records nothing).
 * @param[in,out] h   the histogram.
 * @param[in]     ns  the value, in nanoseconds.
 * @param[in]     n   how many times.
 */
void kv_hist_record_n(kv_hist *h, uint64_t ns, uint64_t n);

/**
 * @brief Add every value of @p src to @p dst, as if each had been recorded
 *        into @p dst. @p src is unchanged; @p dst may not be @p src.
 * @param[in,out] dst  the histogram receiving the values.
 * @param[in]     src  the histogram whose values are added.
 */
void kv_hist_merge(kv_hist *dst, const kv_hist *src);

/**
 * @brief Number of values recorded.
 * @param[in] h  the histogram.
 * @return the count (0 when empty).
 */
uint64_t kv_hist_count(const kv_hist *h);

/**
 * @brief The exact smallest value recorded.
 * @param[in] h  the histogram.
 * @return the minimum, or 0 when empty.
 */
uint64_t kv_hist_min(const kv_hist *h);

/**
 * @brief The exact largest value recorded.
 * @param[in] h  the histogram.
 * @return the maximum, or 0 when empty.
 */
uint64_t kv_hist_max(const kv_hist *h);

/**
 * @brief The exact mean of the values recorded (exact while the sum has not
 *        saturated).
 * @param[in] h  the histogram.
 * @return the mean, or 0.0 when empty.
 */
double kv_hist_mean(const kv_hist *h);

/**
 * @brief The value at percentile @p p (nearest-rank definition).
 *
 * The value of rank ceil(p/100 * count) in sorted order lies in some bucket;
 * the result is that bucket's upper bound, clamped to the exact maximum. So
 * the result is never below the true percentile and at most 1/32 above it,
 * p = 100 gives the exact maximum and p = 0 the exact minimum.
 * @param[in] h  the histogram.
 * @param[in] p  the percentile, in [0, 100]; values outside are clamped
 *               (NaN counts as 0).
 * @return the percentile value in nanoseconds, or 0 when empty.
 */
uint64_t kv_hist_percentile(const kv_hist *h, double p);

#ifdef __cplusplus
}
#endif
#endif /* KVLABS_HIST_H */
