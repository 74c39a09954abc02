/*
 * lsm_simd_bench.c — how fast the simd part's paths are: bloom probe
 * ns/op and key-compare ns/op per path, and a table get per level.
 *
 * What it measures (one thread, the lab's release build for numbers):
 *   probe    every probe path this CPU runs (scalar first) on a 1 MiB
 *            filter (16K lines, about 100K keys at 10 bits per key, fits
 *            in L2/L3) and a 64 MiB one (beyond the caches: the line
 *            miss dominates), half present and half absent hashes;
 *   cmp      every key-compare path on pairs of keys of 16, 64 and 256
 *            bytes that are equal up to their last byte (the worst case
 *            for a compare, the common case of a block search whose
 *            restart keys share a long prefix with the target);
 *   get      lsm_table_get() on an in-memory table of 100K 16-byte keys
 *            (4 KiB blocks, restart every 16, 10 bloom bits), present and
 *            absent keys, at each level (lsm_simd_use).
 * Each figure is the best of 5 repeats of a timed batch (the machine is
 * shared; the fastest batch is the least disturbed), in ns per operation,
 * with the ratio to the scalar path. The checksum line keeps the compiler
 * from dropping the work.
 *
 * Usage: lsm_simd_bench [--quick]   (--quick: 10x fewer operations)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kvlabs/engine.h"
#include "kvlabs/env.h"
#include "kvlabs/kv.h"
#include "lsm_simd.h"
#include "sstable.h"

static volatile uint64_t sink;

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    return x;
}

/* best-of-5 ns per probe of fn over n hashes */
static double time_probe(lsm_simd_probe_fn fn, const uint8_t *f, size_t size, size_t n)
{
    double best = 1e30;
    for (int r = 0; r < 5; r++) {
        uint64_t acc = 0;
        double t0 = now_ns();
        for (size_t i = 0; i < n; i++)
            acc += fn(f, size, mix(i * 2 + (uint64_t)r));
        double t = (now_ns() - t0) / (double)n;
        sink += acc;
        if (t < best)
            best = t;
    }
    return best;
}

static double time_cmp(lsm_simd_cmp_fn fn, const uint8_t *a, const uint8_t *b, size_t len,
                       size_t n)
{
    double best = 1e30;
    for (int r = 0; r < 5; r++) {
        int64_t acc = 0;
        double t0 = now_ns();
        for (size_t i = 0; i < n; i++) {
            /* vary the start a little so the call is not hoisted */
            size_t o = i & 7;
            acc += fn(a + o, len, b + o, len);
        }
        double t = (now_ns() - t0) / (double)n;
        sink += (uint64_t)acc;
        if (t < best)
            best = t;
    }
    return best;
}

static void bench_probe(size_t n)
{
    const lsm_simd_path *ps;
    size_t np = lsm_simd_paths(&ps);
    static const size_t sizes[] = {1u << 20, 64u << 20};
    for (size_t s = 0; s < 2; s++) {
        size_t size = sizes[s], keys = size * 8 / 10;
        uint8_t *f = calloc(1, size);
        if (!f) {
            fprintf(stderr, "out of memory\n");
            exit(1);
        }
        /* the even-indexed hashes are present: probes alternate */
        for (size_t i = 0; i < keys; i += 1) {
            uint64_t h = mix(i * 2);
            uint32_t bits[LSM_SIMD_BLOOM_PROBES];
            uint8_t *line = f + lsm_simd_bloom_positions(h, size / 64, bits) * 64;
            for (unsigned k = 0; k < LSM_SIMD_BLOOM_PROBES; k++)
                line[bits[k] >> 3] |= (uint8_t)(1u << (bits[k] & 7));
        }
        double base = time_probe(lsm_simd_bloom_probe_scalar, f, size, n);
        printf("probe  %-12s %6zu KiB filter  %7.2f ns/op  1.00x\n", "scalar", size >> 10, base);
        for (size_t i = 0; i < np; i++) {
            if (!ps[i].probe || !ps[i].supported())
                continue;
            double t = time_probe(ps[i].probe, f, size, n);
            printf("probe  %-12s %6zu KiB filter  %7.2f ns/op  %.2fx\n", ps[i].name, size >> 10, t,
                   base / t);
        }
        free(f);
    }
}

static void bench_cmp(size_t n)
{
    const lsm_simd_path *ps;
    size_t np = lsm_simd_paths(&ps);
    static const size_t lens[] = {16, 64, 256};
    uint8_t a[272], b[272];
    for (size_t l = 0; l < 3; l++) {
        size_t len = lens[l];
        memset(a, 'k', sizeof a);
        memset(b, 'k', sizeof b);
        for (size_t o = 0; o < 8; o++)
            b[o + len - 1] = 'z'; /* differ in the last byte, at every start */
        double base = time_cmp(lsm_simd_key_cmp_scalar, a, b, len, n);
        printf("cmp    %-12s %4zu-byte keys     %7.2f ns/op  1.00x\n", "scalar", len, base);
        for (size_t i = 0; i < np; i++) {
            if (!ps[i].key_cmp || !ps[i].supported())
                continue;
            double t = time_cmp(ps[i].key_cmp, a, b, len, n);
            printf("cmp    %-12s %4zu-byte keys     %7.2f ns/op  %.2fx\n", ps[i].name, len, t,
                   base / t);
        }
    }
}

static void bench_get(size_t n)
{
    kv_env *env = kv_env_mem_new();
    kv_file *f;
    lsm_table_builder *b;
    lsm_table *t;
    uint64_t size;
    const unsigned keys = 100000;
    lsm_table_opts o = {.block_size = 4096, .restart_every = 16, .bloom_bits = 10};
    if (!env || kv_env_open(env, "/t", KV_O_RDWR | KV_O_CREAT, &f) ||
        lsm_table_builder_new(f, &o, &b)) {
        fprintf(stderr, "get: setup failed: %s\n", kv_last_error());
        exit(1);
    }
    for (unsigned i = 0; i < keys; i++) {
        uint8_t k[24], v[100] = {0};
        char u[17];
        snprintf(u, sizeof u, "key%013u", i * 2);
        memcpy(k, u, 16);
        uint64_t tr = lsm_trailer(i + 1, LSM_TYPE_VALUE);
        for (int j = 0; j < 8; j++)
            k[16 + j] = (uint8_t)(tr >> (8 * j));
        if (lsm_table_builder_add(b, k, 24, v, sizeof v)) {
            fprintf(stderr, "get: add failed: %s\n", kv_last_error());
            exit(1);
        }
    }
    if (lsm_table_builder_finish(b, &size) || kv_file_close(f)) {
        fprintf(stderr, "get: finish failed\n");
        exit(1);
    }
    lsm_table_builder_free(b);
    if (kv_env_open(env, "/t", KV_O_RDONLY, &f) || lsm_table_open(f, size, NULL, &t)) {
        fprintf(stderr, "get: open failed: %s\n", kv_last_error());
        exit(1);
    }
    const char *const *levels = lsm_simd_levels();
    double base[2] = {0, 0};
    for (size_t l = 0; levels[l]; l++) {
        if (lsm_simd_use(levels[l]) != KV_OK)
            continue;
        if (l && strcmp(lsm_simd_level(), levels[l]) != 0)
            break; /* above this CPU's best */
        for (int absent = 0; absent < 2; absent++) {
            double best = 1e30;
            kv_buf val = {0};
            for (int r = 0; r < 5; r++) {
                uint64_t acc = 0;
                double t0 = now_ns();
                for (size_t i = 0; i < n; i++) {
                    char k[17];
                    unsigned type;
                    unsigned id = (unsigned)(mix(i + (uint64_t)r * n) % keys) * 2 + (unsigned)absent;
                    snprintf(k, sizeof k, "key%013u", id);
                    acc += lsm_table_get(t, k, 16, LSM_MAX_SEQ, &type, &val) == KV_OK;
                }
                double tt = (now_ns() - t0) / (double)n;
                sink += acc;
                if (tt < best)
                    best = tt;
            }
            kv_buf_free(&val);
            if (l == 0)
                base[absent] = best;
            printf("get    %-12s %s keys (100K)   %7.1f ns/op  %.2fx\n", levels[l],
                   absent ? "absent " : "present", best, base[absent] / best);
        }
    }
    lsm_simd_use(NULL);
    lsm_table_close(t);
    kv_env_free(env);
}

int main(int argc, char **argv)
{
    size_t scale = argc > 1 && strcmp(argv[1], "--quick") == 0 ? 10 : 1;
    kv_registry_init();
    printf("# lsm_simd_bench: best level %s (installed: %s)\n", lsm_simd_best(), lsm_simd_level());
    bench_probe(2000000 / scale);
    bench_cmp(5000000 / scale);
    bench_get(200000 / scale);
    printf("# checksum %llu\n", (unsigned long long)sink);
    return 0;
}
