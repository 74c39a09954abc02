/**
 * @file micro.h
 * @brief The micro-benchmark interface: how a lab registers a named
 *        function with kvbench, the cross-engine benchmark driver.
 *
 * It lives in common/ (not bench/) so that a lab's benchmarks include a
 * header of a lower layer: bench/ is the last lab, and nothing calls up
 * into it (scripts/layering_check.py).
 *
 * kvbench measures engines through the contract (kvlabs/kv.h). Some things
 * worth measuring are not engines: a hash function, a probe sequence, a
 * page decoder, a bloom-filter lookup. A lab measures those with a
 * *micro-benchmark*: a named operation kvbench calls in a loop, timing it
 * exactly as it times an engine's operations (per-operation latencies in a
 * kv_hist, warm-up, repeats), and writing the same per-repeat JSON results
 * (common/schema/results.schema.json) with engine "micro" and workload = the
 * micro-benchmark's name, so `kvbench summary`, `kvbench compare` (the
 * regression gate) and the report treat it like any other figure.
 *
 * **Registering one.** A lab defines a constant of this type named
 * `kv_micro_<name>` and lists `<name>` in its lab.mk:
 * @code
 *   // sprint-2-hash-storage/bench/ht_probe.c
 *   #include "kvlabs/micro.h"
 *   static int probe_setup(void **ctx, uint64_t n, uint64_t seed) { ... }
 *   static int probe_run(void *ctx, uint64_t i) { ... one lookup ...; return 0; }
 *   static void probe_teardown(void *ctx) { ... }
 *   const struct kv_micro_bench kv_micro_ht_probe = {
 *       .name = "ht_probe", .summary = "one lookup in a 1M-key swiss table",
 *       .setup = probe_setup, .run = probe_run, .teardown = probe_teardown,
 *   };
 *
 *   # sprint-2-hash-storage/lab.mk
 *   LAB_MICROS := ht_probe
 * @endcode
 * The build's registry generator (scripts/gen-registry.sh) then emits an
 * explicit reference to `kv_micro_ht_probe` in the program's
 * kv_registry_micros[] table, exactly as it does for engines, so a static
 * link keeps it (no constructors). `kvbench --list` shows it and
 * `kvbench --micros ht_probe` runs it.
 *
 * **How kvbench calls it.** For each repeat: setup() once, then the
 * warm-up calls of run() (not timed), then run(ctx, i) for i = 0 .. n-1,
 * each call timed (or every k-th one, see `--sample-every`), then
 * teardown(). A micro-benchmark runs on one thread.
 *
 * **Figures beside the timing.** A micro-benchmark that measures more than
 * time (an engine's write amplification after a load, its blocks read per
 * get) sets `.figures`: kvbench calls it once per repeat, after the last
 * timed run() and before teardown(), and writes each figure it returns into
 * the result's "extra" object (sprint 4's benchmarks/storage_benchmarks.c).
 *
 * **Thread safety.** kvbench calls the three functions from one thread;
 * they need not be thread-safe. Each repeat gets its own context.
 */
#ifndef KVLABS_MICRO_H
#define KVLABS_MICRO_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief One named number a micro-benchmark measured besides time
 *        (kv_micro_bench.figures), written to the result's "extra" object.
 */
struct kv_micro_figure {
    /** @brief The name, a string literal (it must outlive teardown()); [a-z0-9_]. */
    const char *name;
    /** @brief Its value; a finite number. */
    double value;
};

/**
 * @brief One micro-benchmark: a named operation that kvbench times in a loop.
 *
 * Define it as `const struct kv_micro_bench kv_micro_<name>` with `.name`
 * equal to `<name>`, and list the name in the lab's `LAB_MICROS`.
 */
struct kv_micro_bench {
    /** @brief The name, as in `kv_micro_<name>` and the results' workload field; [A-Za-z0-9_-]. */
    const char *name;
    /** @brief One line for `kvbench --list` and the report. */
    const char *summary;
    /**
     * @brief Prepare a context for @p n calls of run().
     * @param[out] ctx   receives the context run() and teardown() get; may be
     *                   set to NULL when none is needed.
     * @param[in]  n     the number of measured calls that will follow (the
     *                   warm-up calls come on top); size tables with it.
     * @param[in]  seed  the run's seed, for deterministic inputs.
     * @return 0 on success; a KV_E* code (kvlabs/kv.h) on failure, after
     *         which kvbench calls neither run() nor teardown().
     */
    int (*setup)(void **ctx, uint64_t n, uint64_t seed);
    /**
     * @brief Perform one operation: the thing being measured.
     * @param[in] ctx  the context from setup().
     * @param[in] i    the call's index: 0 .. n-1 for the measured calls
     *                 (warm-up calls reuse small indices); use it to vary
     *                 the input.
     * @return 0 when the operation succeeded; non-zero counts as one error in
     *         the result's "errors" field (the loop goes on).
     */
    int (*run)(void *ctx, uint64_t i);
    /**
     * @brief Release the context.
     * @param[in] ctx  the context from setup() (possibly NULL); may be NULL
     *                 when there is nothing to release.
     */
    void (*teardown)(void *ctx);
    /**
     * @brief Bytes processed by one run() call (0 when not meaningful); the
     *        result then also records a throughput in bytes per second
     *        (extra "bytes_per_sec").
     */
    uint64_t bytes_per_op;
    /**
     * @brief Optional (NULL: none): the figures measured after the timed calls.
     * @param[in]  ctx  the context from setup(), after the last run().
     * @param[out] out  room for @p max figures.
     * @param[in]  max  the room in @p out (at least 32).
     * @return how many figures were written to @p out (at most @p max).
     */
    unsigned (*figures)(void *ctx, struct kv_micro_figure *out, unsigned max);
};

/**
 * @brief The micro-benchmarks linked into this program, NULL-terminated.
 *
 * Generated from the labs' LAB_MICROS by scripts/gen-registry.sh; empty
 * (just the NULL) in programs without micro-benchmarks.
 */
extern const struct kv_micro_bench *const kv_registry_micros[];

#ifdef __cplusplus
}
#endif
#endif /* KVLABS_MICRO_H */
