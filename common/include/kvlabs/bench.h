/**
 * @file bench.h
 * @brief Benchmark plumbing shared by kvbench and every lab's benchmarks:
 *        timers, run metadata, and per-repeat JSON result files.
 *
 * A benchmark measures with kv_now_ns() (wall clock) and a kv_hist
 * (kvlabs/hist.h) per thread, fills a kv_bench_result, collects the
 * machine's description once with kv_bench_meta_collect(), and writes one
 * file per repeat with kv_bench_result_write():
 *
 * @code
 *   kv_bench_meta meta;
 *   kv_bench_meta_collect(&meta, out_dir);
 *   kv_bench_result r = {.engine = "hash:strategy=swiss", .options = "", .workload = "ycsb-a",
 *                        .repeat = k, .params = {...}, .ops = ops, .elapsed_ns = ns,
 *                        .ops_per_sec = ops * 1e9 / ns, .hist = &merged};
 *   char name[256], path[512];
 *   kv_bench_result_filename(name, sizeof name, r.engine, r.workload, k);
 *   snprintf(path, sizeof path, "%s/%s", out_dir, name);
 *   if (kv_bench_result_write(&r, &meta, path) != KV_OK) fprintf(stderr, "%s\n", kv_last_error());
 * @endcode
 *
 * **The file format** is common/schema/results.schema.json (JSON Schema): one object
 * with schema_version, engine, options, workload, repeat, params, result,
 * meta and an optional extra. Every file is validated against that schema
 * before it is written and can be re-checked with
 * kv_bench_result_validate_file(); a result that does not match (a negative
 * count, a missing string, a NaN throughput) is refused with KV_EINVAL
 * naming the offending field, and no file is created. Files are replaced
 * atomically (temporary file, fsync, rename, fsync of the directory), so a
 * reader never sees half a result, even after a crash.
 *
 * **Build-time strings.** The build passes, as C string literals,
 * `-DKV_BUILD_CFLAGS="\"-O2 ...\""` and `-DKV_GIT_REV="\"abc1234\""` when
 * compiling bench_meta.c (each is "unknown" otherwise), and generates
 * build/gen/results_schema.c defining kv_results_schema_json from
 * common/schema/results.schema.json.
 *
 * **Thread safety.** All functions are thread-safe on distinct arguments.
 * File I/O goes straight to POSIX (not through a kv_env): results are the
 * harness's output, not an engine's data.
 */
#ifndef KVLABS_BENCH_H
#define KVLABS_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "kvlabs/hist.h"
#include "kvlabs/json.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef KVLABS_VERSION
/** @brief The kvlabs version recorded in every result (override with -DKVLABS_VERSION="\"x.y.z\""). */
#define KVLABS_VERSION "0.1.0"
#endif

/** @brief The value of "schema_version" this code writes (common/schema/results.schema.json). */
#define KV_BENCH_SCHEMA_VERSION 1

/**
 * @brief The text of common/schema/results.schema.json, NUL-terminated.
 *
 * Defined by a file the build generates (build/gen/results_schema.c), so the
 * schema compiled into a program is always the one in the source tree.
 */
extern const char kv_results_schema_json[];

/** @name Timers
 * @{ */

/**
 * @brief Monotonic wall-clock time (CLOCK_MONOTONIC), for durations.
 * @return nanoseconds since an arbitrary fixed point (not the epoch);
 *         never decreases.
 */
uint64_t kv_now_ns(void);

/**
 * @brief CPU time consumed by the whole process, all threads, user plus
 *        system (CLOCK_PROCESS_CPUTIME_ID).
 * @return nanoseconds of CPU time since the process started.
 */
uint64_t kv_cpu_ns(void);

/** @} */

/** @name Run metadata
 * @{ */

/**
 * @brief Where and with what a result was produced ("meta" in the file).
 *
 * Every string is NUL-terminated, non-empty, printable ASCII (other bytes
 * become '?'), cut to fit its array; "unknown" stands for what could not be
 * found out.
 */
typedef struct kv_bench_meta {
    char timestamp[32];      /**< ISO-8601 UTC time of collection, e.g. "2024-05-01T12:34:56Z" */
    char host[256];          /**< host name (gethostname) */
    char cpu[256];           /**< CPU model (/proc/cpuinfo "model name", else the machine type) */
    int64_t cores;           /**< online logical CPUs, at least 1 */
    int64_t ram_bytes;       /**< physical memory in bytes (0 when unknown) */
    char fs[32];             /**< file-system type of the output directory ("ext4", "tmpfs", ... or "0x1234abcd") */
    char compiler[128];      /**< compiler name and version, from __VERSION__ */
    char cflags[1024];       /**< build flags (KV_BUILD_CFLAGS) */
    char git_rev[64];        /**< source revision (KV_GIT_REV) */
    char kvlabs_version[32]; /**< KVLABS_VERSION */
} kv_bench_meta;

/**
 * @brief Describe this machine and build.
 *
 * Reads /proc/cpuinfo and /proc/meminfo where they exist (Linux), falling
 * back to uname() and sysconf(); the file-system type comes from statfs()
 * on Linux (f_type mapped to a name, or its hex value) and f_fstypename on
 * the BSDs and macOS. Nothing that merely cannot be determined is an
 * error: the field says "unknown" (or 0 for ram_bytes).
 * @param[out] m        the metadata, fully overwritten.
 * @param[in]  out_dir  the directory results will be written to (for its
 *                      file-system type); NULL means the current directory.
 * @return KV_OK; KV_EINVAL when @p m is NULL.
 */
int kv_bench_meta_collect(kv_bench_meta *m, const char *out_dir);

/** @} */

/** @name Results
 * @{ */

/** @brief Parameters of a run ("params" in the file). Counts are signed so a harness bug shows as a negative value the schema refuses. */
typedef struct kv_bench_params {
    int64_t n;          /**< keys loaded or operated on */
    int64_t key_size;   /**< key size in bytes */
    int64_t value_size; /**< value size in bytes */
    int64_t threads;    /**< worker threads per process, at least 1 */
    int64_t procs;      /**< worker processes, at least 1 */
    int64_t seed;       /**< seed of the workload's generators, in [0, 2^63) */
    int64_t warmup_ops; /**< operations run before measuring (0: none) */
    int64_t warmup_ns;  /**< nanoseconds of warm-up before measuring (0: none) */
} kv_bench_params;

/** @brief Latency summary in nanoseconds ("result.latency_ns" in the file). */
typedef struct kv_bench_latency {
    int64_t count; /**< latencies recorded */
    int64_t min;   /**< exact minimum */
    double mean;   /**< exact mean */
    int64_t p50;   /**< median (histogram bucket upper bound) */
    int64_t p90;   /**< 90th percentile */
    int64_t p99;   /**< 99th percentile */
    int64_t p999;  /**< 99.9th percentile */
    int64_t max;   /**< exact maximum */
} kv_bench_latency;

/** @brief One named engine- or workload-specific number ("extra" in the file). */
typedef struct kv_bench_extra {
    const char *name; /**< member name, unique within a result, UTF-8 */
    double value;     /**< its value, finite */
} kv_bench_extra;

/**
 * @brief One benchmark result, mirroring common/schema/results.schema.json.
 *
 * A NULL string is left out of the document (and then refused by the
 * schema as missing). Fields are signed so that a wrong computation shows
 * up as a negative value the schema refuses rather than as a huge one.
 */
typedef struct kv_bench_result {
    const char *engine;   /**< engine name as given to kv_open, e.g. "hash:strategy=swiss" */
    const char *options;  /**< options string given to kv_open ("" for the defaults) */
    const char *workload; /**< workload name, e.g. "ycsb-a" */
    int64_t repeat;       /**< repeat index, from 0 */
    kv_bench_params params; /**< run parameters */
    int64_t ops;          /**< operations measured */
    int64_t elapsed_ns;   /**< wall-clock duration of the measured phase */
    double ops_per_sec;   /**< throughput, finite */
    const kv_hist *hist;  /**< latencies; when NULL, @ref latency is used instead */
    kv_bench_latency latency; /**< latency summary, used only when @ref hist is NULL */
    int64_t bytes_written; /**< bytes written through the env in the measured phase */
    int64_t bytes_read;    /**< bytes read through the env in the measured phase */
    int64_t disk_bytes;    /**< bytes of the engine's files at the end */
    int64_t mem_bytes;     /**< memory at the end, as the producer measures it (kvbench: RSS growth since before open; see results.schema.json) */
    int64_t user_bytes_written; /**< key + value bytes of successful puts */
    int64_t errors;        /**< operations that failed unexpectedly */
    const kv_bench_extra *extra; /**< optional extra numbers (NULL when n_extra is 0) */
    size_t n_extra;        /**< entries of extra; 0 leaves "extra" out */
} kv_bench_result;

/**
 * @brief Summarise a histogram: count, min, mean, p50, p90, p99, p99.9, max.
 * @param[out] lat  the summary (values above INT64_MAX are clamped to it).
 * @param[in]  h    the histogram (empty gives all zeros).
 */
void kv_bench_latency_from_hist(kv_bench_latency *lat, const kv_hist *h);

/**
 * @brief Build the JSON document of a result, without validating it.
 * @param[in]  r     the result.
 * @param[in]  meta  the metadata, or NULL to leave "meta" out.
 * @param[out] out   the new document (free with kv_json_free()), set only on success.
 * @return KV_OK; KV_EINVAL when @p r or @p out is NULL, a double is not
 *         finite, a string is not UTF-8, an extra has no name or a name is
 *         repeated; KV_ENOMEM.
 */
int kv_bench_result_to_json(const kv_bench_result *r, const kv_bench_meta *meta, kv_json **out);

/**
 * @brief Validate a result against the schema and write it to @p path
 *        atomically, pretty-printed with a final newline.
 *
 * Writes "<path>.tmp.<pid>", fsyncs it, renames it over @p path and fsyncs
 * the directory. Nothing is created when the result is invalid, and the
 * temporary file is removed on any failure.
 * @param[in] r     the result.
 * @param[in] meta  the metadata (required by the schema).
 * @param[in] path  the file to create or replace.
 * @return KV_OK; KV_EINVAL when an argument is NULL or the result does not
 *         match the schema (detail: "result does not match the schema:
 *         /result/ops: -5 is less than the minimum 0"); KV_ENOMEM;
 *         KV_ENOTFOUND when the directory does not exist; KV_EFULL when the
 *         disk is full; KV_EIO for other I/O failures.
 */
int kv_bench_result_write(const kv_bench_result *r, const kv_bench_meta *meta, const char *path);

/**
 * @brief Check a result file: it must parse and match the schema.
 * @param[in]  path    the file.
 * @param[out] err     receives the reason on failure ("json: 3:5: ..." or
 *                     "/result/ops: ..."), truncated to @p errlen; may be NULL.
 * @param[in]  errlen  size of @p err (0 when err is NULL).
 * @return KV_OK; KV_EINVAL (NULL path, malformed JSON, not matching the
 *         schema, file larger than 64 MiB); KV_ENOTFOUND; KV_EIO; KV_ENOMEM.
 */
int kv_bench_result_validate_file(const char *path, char *err, size_t errlen);

/**
 * @brief The file name of a result: "<engine>.<workload>.r<repeat>.json".
 *
 * Every byte of @p engine and @p workload outside [A-Za-z0-9_.-] (such as
 * ':', '=', ',' and '/') becomes '_', so "hash:strategy=swiss" gives
 * "hash_strategy_swiss.ycsb-a.r0.json" and no name can leave the directory.
 * @param[out] buf       receives the name.
 * @param[in]  n         size of @p buf.
 * @param[in]  engine    the engine (with its options), non-empty.
 * @param[in]  workload  the workload, non-empty.
 * @param[in]  repeat    the repeat index.
 * @return @p buf; NULL when an argument is NULL or empty (KV_EINVAL) or the
 *         name does not fit in @p n bytes (KV_ETOOBIG), with buf set to "".
 */
const char *kv_bench_result_filename(char *buf, size_t n, const char *engine,
                                     const char *workload, unsigned repeat);

/** @} */

#ifdef __cplusplus
}
#endif
#endif /* KVLABS_BENCH_H */
