/*
 * storage_benchmarks.c — the LSM tree beside the B+ trees and the peers:
 * throughput, latency and the three amplifications, as micro-benchmarks
 * registered with kvbench (kvlabs/micro.h; names in bench/lab.mk).
 *
 * For each engine E of lsm, cowbtree, btree, leveldb and rocksdb, with the
 * issue's settings (16-byte keys, 100-byte values, sync=none; the LSM trees
 * with a 4 MiB write buffer, an 8 MiB block cache, 10 bloom bits per key and
 * no compression; cowbtree with an 8 MiB page cache; btree lives in memory):
 *
 *   storage_fillrandom_E  one timed kv_put of keys 0..n-1 in a random order
 *                         into an empty store;
 *   storage_readrandom_E  one timed kv_get of a uniformly random key of a
 *                         store loaded with n keys (untimed) and settled.
 *
 * `kvbench --micros 'storage_*' --workloads none -n 1M` runs all ten; kvbench
 * gives each its ops/s and p50/p99/p99.9 (the result's latency_ns), and
 * writes the figures below into the result's "extra" object, which the
 * report's storage section (bench/report_storage.py) reads.
 *
 * Figures of storage_fillrandom_E, taken after the timed puts, once right
 * after a kv_sync ("load_") and once when background work has settled
 * ("settled_": the directory's size and file count and the engine's flush
 * and compaction counters unchanged for SB_QUIET_MS, at most SB_SETTLE_MS):
 *   user_bytes              n x (key + value): the live user bytes;
 *   *_env_write_amp         bytes written through the kvlabs env (kv_stats
 *                           io_bytes_written) / user_bytes: lsm and cowbtree
 *                           only, the peers do their own I/O and btree none;
 *   *_sys_write_amp         bytes passed to write(2) and friends by this
 *                           process (/proc/self/io wchar, which counts the
 *                           peers' background threads too) / user_bytes: the
 *                           one figure measured the same way for every engine
 *                           (absent when /proc/self/io cannot be read);
 *   *_disk_bytes, *_space_amp  the sum of the file sizes under the store's
 *                           directory, and that / user_bytes (absent for
 *                           btree, which keeps no files);
 *   mem_bytes               the engine's own kv_stats.mem_bytes after the load;
 *   settle_ms, settled      how long settling took, 1 if it settled in time;
 *   puts_ge_1ms, puts_ge_10ms, puts_ge_100ms, put_max_ms
 *                           the distribution of slow puts as this benchmark
 *                           times each put (write stalls seen by the writer,
 *                           for every engine);
 *   stall_*, compact*, flushes  the engine's own counters where it keeps them
 *                           (lsm: stall_stops, stall_slowdowns, stall_ms,
 *                           stall_max_ms, by cause stall_l0_stops,
 *                           stall_l0_max_ms, stall_imm_max_ms,
 *                           stall_slowdown_max_ms; compactions, compact_ms,
 *                           compact_max_ms and the compaction pauses by
 *                           duration compact_lt10ms .. compact_ge1s).
 * Figures of storage_readrandom_E, over the timed gets:
 *   blocks_per_get          blocks read from files per get (lsm: its
 *                           blocks_read counter, cache misses only; cowbtree:
 *                           page_loads); absent for the peers (they do not
 *                           count them through kv.h) and btree (no blocks);
 *   env_bytes_read_per_get  env bytes read per get (lsm, cowbtree; lsm
 *                           maps its tables when the env can, and a
 *                           mapped block is no env read: then near 0);
 *   sys_bytes_read_per_get  /proc/self/io rchar per get (LevelDB reads its
 *                           tables through mmap, which rchar does not see);
 *   disk_bytes, space_amp   the settled store the gets ran on.
 *
 * Each context owns a fresh directory under $TMPDIR (default /tmp), removed
 * by teardown. kvbench calls a context from one thread.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kvlabs/alloc.h"
#include "kvlabs/bench.h"
#include "kvlabs/kv.h"
#include "kvlabs/micro.h"
#include "kvlabs/rng.h"

#define SB_KEY 16
#define SB_VALUE 100
#define SB_POOL 8192
#define SB_POLL_MS 25
#define SB_QUIET_MS 250
#define SB_SETTLE_MS 120000

typedef struct sb_engine {
    const char *name;
    const char *options;
    bool env_io;         /* its I/O goes through the kvlabs env: env counters are its own */
    bool files;          /* it keeps files (btree does not) */
    const char *blocks;  /* the kv_stats extra counting blocks read from files, or NULL */
} sb_engine;

static const sb_engine sb_lsm = {
    "lsm", "sync=none,write_buffer=4M,block_cache=8M,bloom_bits=10,compression=none,"
           "exact_stats=false", true, true, "blocks_read"};
static const sb_engine sb_cowbtree = {"cowbtree", "sync=none,cache=8M", true, true, "page_loads"};
static const sb_engine sb_btree = {"btree", "sync=none", false, false, NULL};
static const sb_engine sb_leveldb = {
    "leveldb", "sync=none,cache=8M,write_buffer=4M,bloom_bits=10,compression=none", false, true,
    NULL};
static const sb_engine sb_rocksdb = {
    "rocksdb", "sync=none,cache=8M,write_buffer=4M,bloom_bits=10,compression=none", false, true,
    NULL};

/* The engine counters copied into the fill's figures when present. */
static const char *const sb_engine_counters[] = {
    "flushes",     "compactions",    "compact_ms",   "compact_max_ms", "compact_lt10ms",
    "compact_lt100ms", "compact_lt1s", "compact_ge1s", "stall_stops",  "stall_slowdowns",
    "stall_ms",    "stall_max_ms", "stall_l0_stops", "stall_l0_max_ms", "stall_imm_max_ms",
    "stall_slowdown_max_ms",
};

typedef struct sb_io {
    uint64_t rchar, wchar;
    bool ok;
} sb_io;

typedef struct sb_ctx {
    const sb_engine *e;
    char dir[512], path[600];
    kv_db *db;
    uint64_t n, seed;
    uint32_t *order;          /* fill: the permutation of 0..n-1 */
    uint8_t pool[SB_POOL + SB_VALUE];
    kv_buf val;
    kv_stats before;          /* the counters when the timed part began */
    sb_io io_before;
    uint64_t slow[3], put_max_ns;
} sb_ctx;

/* ---- the process's I/O, the directory's size ------------------------------ */

static sb_io sb_read_io(void)
{
    sb_io io = {0, 0, false};
    char line[128];
    FILE *f = fopen("/proc/self/io", "r");
    int got = 0;

    if (!f)
        return io;
    while (fgets(line, sizeof line, f)) {
        unsigned long long v;
        if (sscanf(line, "rchar: %llu", &v) == 1)
            io.rchar = v, got++;
        else if (sscanf(line, "wchar: %llu", &v) == 1)
            io.wchar = v, got++;
    }
    fclose(f);
    io.ok = got == 2;
    return io;
}

/* Sum of the sizes of the regular files under path; *files counts them. */
static uint64_t sb_tree_bytes(const char *path, uint64_t *files, int depth)
{
    struct stat st;
    struct dirent *d;
    uint64_t sum = 0;
    DIR *dir;

    if (lstat(path, &st) != 0)
        return 0;
    if (S_ISREG(st.st_mode)) {
        ++*files;
        return (uint64_t)st.st_size;
    }
    if (!S_ISDIR(st.st_mode) || depth > 16 || !(dir = opendir(path)))
        return 0;
    while ((d = readdir(dir))) {
        char sub[1024];
        if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
            continue;
        if (snprintf(sub, sizeof sub, "%s/%s", path, d->d_name) < (int)sizeof sub)
            sum += sb_tree_bytes(sub, files, depth + 1);
    }
    closedir(dir);
    return sum;
}

static void sb_remove_tree(const char *path, int depth)
{
    struct stat st;
    struct dirent *d;
    DIR *dir;

    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode) && depth < 16 && (dir = opendir(path))) {
        while ((d = readdir(dir))) {
            char sub[1024];
            if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
                continue;
            if (snprintf(sub, sizeof sub, "%s/%s", path, d->d_name) < (int)sizeof sub)
                sb_remove_tree(sub, depth + 1);
        }
        closedir(dir);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static double sb_extra(const kv_stats *s, const char *name, bool *found)
{
    for (unsigned i = 0; i < s->n_extra; i++)
        if (!strcmp(s->extra[i].name, name)) {
            if (found)
                *found = true;
            return s->extra[i].value;
        }
    if (found)
        *found = false;
    return 0;
}

static void sb_sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Wait until background work has settled: the directory's size and file
 * count and the engine's flush and compaction counters unchanged for
 * SB_QUIET_MS. Returns the milliseconds waited; *settled = 0 on time-out. */
static uint64_t sb_settle(sb_ctx *c, bool *settled)
{
    uint64_t t0 = kv_now_ns(), quiet_since = t0;
    double last[5] = {-1, -1, -1, -1, -1};

    *settled = false;
    for (;;) {
        kv_stats s;
        uint64_t files = 0;
        double now[5];
        now[0] = (double)sb_tree_bytes(c->path, &files, 0);
        now[1] = (double)files;
        if (kv_db_stats(c->db, &s) != KV_OK)
            memset(&s, 0, sizeof s);
        now[2] = sb_extra(&s, "flushes", NULL);
        now[3] = sb_extra(&s, "compactions", NULL);
        now[4] = sb_extra(&s, "files_L0", NULL);
        uint64_t t = kv_now_ns();
        if (memcmp(now, last, sizeof now) != 0) {
            memcpy(last, now, sizeof now);
            quiet_since = t;
        } else if (t - quiet_since >= (uint64_t)SB_QUIET_MS * 1000000u) {
            *settled = true;
            return (t - t0) / 1000000u;
        }
        if (t - t0 >= (uint64_t)SB_SETTLE_MS * 1000000u)
            return (t - t0) / 1000000u;
        sb_sleep_ms(SB_POLL_MS);
    }
}

/* ---- keys and values ---------------------------------------------------- */

/* Key i: 'k', i in 14 hexadecimal digits, 'p' (key order is index order). */
static void sb_key(uint8_t k[SB_KEY + 1], uint64_t i)
{
    k[0] = 'k';
    for (int d = 14; d >= 1; d--, i >>= 4)
        k[d] = (uint8_t)"0123456789abcdef"[i & 15];
    k[15] = 'p';
    k[16] = '\0';
}

static const uint8_t *sb_value(const sb_ctx *c, uint64_t i)
{
    return c->pool + (i * 131) % SB_POOL;
}

/* ---- contexts ------------------------------------------------------------------ */

static void sb_teardown(void *ctx)
{
    sb_ctx *c = ctx;

    if (!c)
        return;
    if (c->db)
        kv_close(c->db);
    if (c->dir[0])
        sb_remove_tree(c->dir, 0);
    kv_buf_free(&c->val);
    kv_free(c->order);
    kv_free(c);
}

static int sb_open(const sb_engine *e, uint64_t n, uint64_t seed, sb_ctx **out)
{
    const char *tmp = getenv("TMPDIR");
    sb_ctx *c = kv_calloc(1, sizeof *c);
    uint64_t s = seed;
    int rc;

    if (!c)
        return KV_ENOMEM;
    c->e = e;
    c->n = n ? n : 1;
    c->seed = seed;
    for (size_t i = 0; i < sizeof c->pool; i += 8) {
        uint64_t x = kv_splitmix64(&s);
        memcpy(c->pool + i, &x, sizeof c->pool - i < 8 ? sizeof c->pool - i : 8);
    }
    snprintf(c->dir, sizeof c->dir, "%s/storage_%s.XXXXXX", tmp && *tmp ? tmp : "/tmp", e->name);
    if (!mkdtemp(c->dir)) {
        c->dir[0] = '\0';
        sb_teardown(c);
        return KV_EIO;
    }
    snprintf(c->path, sizeof c->path, "%s/db", c->dir);
    if ((rc = kv_open(e->name, c->path, e->options, &c->db)) != KV_OK) {
        fprintf(stderr, "storage_benchmarks: cannot open %s:%s: %s\n", e->name, e->options,
                kv_last_error());
        sb_teardown(c);
        return rc;
    }
    *out = c;
    return KV_OK;
}

/* The order of the fill: a shuffled permutation of 0..n-1. */
static int sb_shuffle(sb_ctx *c)
{
    uint64_t s = c->seed ^ UINT64_C(0x5354524745);

    if (c->n > UINT32_MAX || !(c->order = kv_malloc(c->n * sizeof *c->order)))
        return KV_ENOMEM;
    for (uint64_t i = 0; i < c->n; i++)
        c->order[i] = (uint32_t)i;
    for (uint64_t i = c->n - 1; i > 0; i--) {
        uint64_t j = kv_splitmix64(&s) % (i + 1);
        uint32_t t = c->order[i];
        c->order[i] = c->order[j];
        c->order[j] = t;
    }
    return KV_OK;
}

static void sb_mark(sb_ctx *c)
{
    if (kv_db_stats(c->db, &c->before) != KV_OK)
        memset(&c->before, 0, sizeof c->before);
    c->io_before = sb_read_io();
}

/* ---- fillrandom ------------------------------------------------------------------ */

static int sb_fill_setup(const sb_engine *e, void **ctx, uint64_t n, uint64_t seed)
{
    sb_ctx *c;
    int rc = sb_open(e, n, seed, &c);

    if (rc)
        return rc;
    if ((rc = sb_shuffle(c))) {
        sb_teardown(c);
        return rc;
    }
    sb_mark(c);
    *ctx = c;
    return KV_OK;
}

static int sb_fill_run(void *ctx, uint64_t i)
{
    sb_ctx *c = ctx;
    uint8_t k[SB_KEY + 1];
    uint64_t idx = c->order[i % c->n];

    sb_key(k, idx);
    uint64_t t0 = kv_now_ns();
    int rc = kv_put(c->db, k, SB_KEY, sb_value(c, idx), SB_VALUE);
    uint64_t dt = kv_now_ns() - t0;
    if (dt > c->put_max_ns)
        c->put_max_ns = dt;
    for (int b = 0; b < 3; b++)
        c->slow[b] += dt >= (b == 0 ? 1000000u : b == 1 ? 10000000u : 100000000u);
    return rc;
}

#define FIG(nm, v)                                                                           \
    do {                                                                                     \
        if (k < max)                                                                         \
            out[k++] = (struct kv_micro_figure){(nm), (double)(v)};                          \
    } while (0)

/* The figures of one point in time (after the load, or settled). */
static unsigned sb_fill_point(sb_ctx *c, bool load, struct kv_micro_figure *out, unsigned k,
                              unsigned max)
{
    double user = (double)c->n * (SB_KEY + SB_VALUE);
    uint64_t files = 0, disk = sb_tree_bytes(c->path, &files, 0);
    sb_io io = sb_read_io();
    kv_stats s;

    if (kv_db_stats(c->db, &s) != KV_OK)
        memset(&s, 0, sizeof s);
    if (c->e->env_io) {
        double w = (double)(s.io_bytes_written - c->before.io_bytes_written);
        FIG(load ? "load_env_bytes_written" : "settled_env_bytes_written", w);
        FIG(load ? "load_env_write_amp" : "settled_env_write_amp", w / user);
    }
    if (io.ok && c->io_before.ok) {
        double w = (double)(io.wchar - c->io_before.wchar);
        FIG(load ? "load_sys_bytes_written" : "settled_sys_bytes_written", w);
        FIG(load ? "load_sys_write_amp" : "settled_sys_write_amp", w / user);
    }
    if (c->e->files) {
        FIG(load ? "load_disk_bytes" : "settled_disk_bytes", disk);
        FIG(load ? "load_space_amp" : "settled_space_amp", (double)disk / user);
        FIG(load ? "load_files" : "settled_files", files);
    }
    if (load)
        FIG("mem_bytes", s.mem_bytes);
    return k;
}

static unsigned sb_fill_figures(void *ctx, struct kv_micro_figure *out, unsigned max)
{
    sb_ctx *c = ctx;
    unsigned k = 0;
    bool settled;
    kv_stats s;

    FIG("user_bytes", c->n * (SB_KEY + SB_VALUE));
    FIG("puts_ge_1ms", c->slow[0]);
    FIG("puts_ge_10ms", c->slow[1]);
    FIG("puts_ge_100ms", c->slow[2]);
    FIG("put_max_ms", (double)c->put_max_ns / 1e6);
    if (kv_sync(c->db) != KV_OK)
        fprintf(stderr, "storage_benchmarks: kv_sync on %s: %s\n", c->e->name, kv_last_error());
    k = sb_fill_point(c, true, out, k, max);
    uint64_t ms = sb_settle(c, &settled);
    k = sb_fill_point(c, false, out, k, max);
    FIG("settle_ms", ms);
    FIG("settled", settled);
    if (kv_db_stats(c->db, &s) == KV_OK)
        for (size_t i = 0; i < sizeof sb_engine_counters / sizeof *sb_engine_counters; i++) {
            bool found;
            double v = sb_extra(&s, sb_engine_counters[i], &found);
            if (found)
                FIG(sb_engine_counters[i], v);
        }
    return k;
}

/* ---- readrandom ------------------------------------------------------------------ */

static int sb_read_setup(const sb_engine *e, void **ctx, uint64_t n, uint64_t seed)
{
    sb_ctx *c;
    bool settled;
    int rc = sb_open(e, n, seed, &c);

    if (rc)
        return rc;
    if ((rc = sb_shuffle(c))) {
        sb_teardown(c);
        return rc;
    }
    for (uint64_t i = 0; i < c->n && !rc; i++) {
        uint8_t k[SB_KEY + 1];
        sb_key(k, c->order[i]);
        rc = kv_put(c->db, k, SB_KEY, sb_value(c, c->order[i]), SB_VALUE);
    }
    if (!rc)
        rc = kv_sync(c->db);
    if (rc) {
        fprintf(stderr, "storage_benchmarks: loading %s: %s\n", e->name, kv_last_error());
        sb_teardown(c);
        return rc;
    }
    sb_settle(c, &settled);
    sb_mark(c);
    *ctx = c;
    return KV_OK;
}

static int sb_read_run(void *ctx, uint64_t i)
{
    sb_ctx *c = ctx;
    uint8_t k[SB_KEY + 1];
    uint64_t s = c->seed + i * UINT64_C(0x9e3779b97f4a7c15);
    uint64_t idx = kv_splitmix64(&s) % c->n;

    sb_key(k, idx);
    int rc = kv_get(c->db, k, SB_KEY, &c->val);
    if (rc == KV_OK && (c->val.len != SB_VALUE || memcmp(c->val.data, sb_value(c, idx), SB_VALUE)))
        return KV_ECORRUPT;
    return rc;
}

static unsigned sb_read_figures(void *ctx, struct kv_micro_figure *out, unsigned max)
{
    sb_ctx *c = ctx;
    double user = (double)c->n * (SB_KEY + SB_VALUE);
    uint64_t files = 0, disk = sb_tree_bytes(c->path, &files, 0);
    sb_io io = sb_read_io();
    unsigned k = 0;
    kv_stats s;

    if (kv_db_stats(c->db, &s) != KV_OK)
        memset(&s, 0, sizeof s);
    double gets = (double)(s.gets - c->before.gets);
    if (gets < 1)
        gets = 1;
    FIG("gets", s.gets - c->before.gets);
    if (c->e->blocks)
        FIG("blocks_per_get", (sb_extra(&s, c->e->blocks, NULL) -
                               sb_extra(&c->before, c->e->blocks, NULL)) / gets);
    if (c->e->env_io)
        FIG("env_bytes_read_per_get", (double)(s.io_bytes_read - c->before.io_bytes_read) / gets);
    if (io.ok && c->io_before.ok)
        FIG("sys_bytes_read_per_get", (double)(io.rchar - c->io_before.rchar) / gets);
    if (c->e->files) {
        FIG("disk_bytes", disk);
        FIG("space_amp", (double)disk / user);
    }
    FIG("user_bytes", user);
    return k;
}

/* ---- registration -------------------------------------------------------------- */

#define SB_BENCH(E)                                                                          \
    static int sb_fill_setup_##E(void **ctx, uint64_t n, uint64_t seed)                     \
    {                                                                                        \
        return sb_fill_setup(&sb_##E, ctx, n, seed);                                         \
    }                                                                                        \
    static int sb_read_setup_##E(void **ctx, uint64_t n, uint64_t seed)                     \
    {                                                                                        \
        return sb_read_setup(&sb_##E, ctx, n, seed);                                         \
    }                                                                                        \
    const struct kv_micro_bench kv_micro_storage_fillrandom_##E = {                          \
        .name = "storage_fillrandom_" #E,                                                    \
        .summary = "kv_put in random order into an empty " #E " (write/space amplification)", \
        .setup = sb_fill_setup_##E,                                                          \
        .run = sb_fill_run,                                                                  \
        .teardown = sb_teardown,                                                             \
        .figures = sb_fill_figures,                                                          \
    };                                                                                       \
    const struct kv_micro_bench kv_micro_storage_readrandom_##E = {                          \
        .name = "storage_readrandom_" #E,                                                    \
        .summary = "kv_get of a random key of a loaded, settled " #E " (read amplification)", \
        .setup = sb_read_setup_##E,                                                          \
        .run = sb_read_run,                                                                  \
        .teardown = sb_teardown,                                                             \
        .figures = sb_read_figures,                                                          \
    };

SB_BENCH(lsm)
SB_BENCH(cowbtree)
SB_BENCH(btree)
SB_BENCH(leveldb)
SB_BENCH(rocksdb)
