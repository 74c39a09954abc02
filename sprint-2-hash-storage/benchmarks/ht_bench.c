/*
 * ht_bench.c — benchmark of the sprint-2 hash table: every collision
 * strategy, through the core API and through kv.h, against GLib's
 * GHashTable (the standard C hash table) in the same run, on the same keys.
 *
 * Usage: ht_bench [--n N[,N...]] [--loads L[,L...]] [--strategies s[,s...]]
 *                 [--key-size B] [--value-size B] [--sample K] [--seed S]
 *                 [--out DIR] [--repeat R] [--shards S] [--no-lock]
 *                 [--resize incremental|all] [--threads T] [--no-kv]
 *                 [--no-ghash] [--no-sweep] [--no-grow]
 * Defaults: --n 100000 --loads 0.5,0.7,0.9 --key-size 16 --value-size 100
 * --sample 16 --repeat 1 --threads 2, every strategy. Sizes accept K/M suffixes
 * (--n 1M,10M). --shards and --no-lock change the core-API tables only
 * (ht_config::shards, ht_config::no_lock: a single-threaded table without
 * locks), to measure what sharding and locking cost; kv tables always lock.
 * --resize all makes every table of ours grow all at once instead of
 * incrementally (compare the insert p99 and the p99.9 in the result files).
 * --threads T (up to 64) sets the parallel hit phase's threads; 0 or 1
 * turns it off.
 *
 * Repeats: each section runs every engine R times, in reverse order on odd
 * repeats so that drift in the machine's speed hits every engine alike;
 * the printed rows are medians over the repeats, and every repeat has its
 * own result file (repeat index r in the file name).
 *
 * Two sections per N:
 *
 *   grow   the realistic case: exactly N keys inserted into a table with
 *          default options (it starts at 1024 slots and resizes
 *          incrementally as it goes); then N hit lookups, N miss lookups,
 *          N deletes, in random order. GHashTable likewise (it grows by
 *          itself). The headline ratios and bytes per entry come from here.
 *          Right after the hit lookups, the parallel hit phase (below).
 *   sweep  one run per load factor L: the table is created with C slots,
 *          C the power of two nearest to N / 0.7, and max_load just above L,
 *          and L x C keys are inserted, so lookups run at load L exactly
 *          with no resize in the measured phases. (The key count therefore
 *          varies with L; each result records it as params.n.) The parallel
 *          hit phase runs here too.
 *
 * Parallel hits (issue 13's "reads on 2 threads >= 1.8x one thread"): after
 * an engine's single-threaded hit phase, T threads (--threads) look up the
 * same N keys again at once on the same table, nothing writing: each
 * thread every key, in the section's random order but from its own start
 * (thread i at position i x N / T), so T x N ops in all; the core API
 * through ht_get_copy and GHashTable through g_hash_table_lookup (both
 * copying into the thread's own buffer), kv through kv_get into the
 * thread's own kv_buf. The threads start together at a pthread barrier and
 * the phase is timed from the first start to the last thread's end
 * (benchmarks/ht_bench_mt.h). Reported: the aggregate ops/s, p50/p99 of
 * the sampled ops of all threads, and the scale, the aggregate ops/s over
 * the same engine's 1-thread hit ops/s in the same repeat (median over the
 * repeats, as every printed figure). With --no-lock the core-API tables
 * are skipped: ht_config::no_lock makes the caller serialise every call,
 * readers included, even though the current core's reads without a writer
 * would be safe; kv tables (always locked) and GHashTable still run.
 *
 * Engines (result files and the printed table): "ht:<strategy>" is the
 * core API (ht_put, ht_get_copy into a buffer, ht_delete); "hash:strategy=
 * <s>" the same table through kv_put/kv_get (into a kv_buf)/kv_delete,
 * which adds the front end's argument checks and counters; "ghashtable" is
 * GHashTable with a key struct {len, bytes}, a custom hash and equal
 * function, and values copied in and out like ours. Every table hashes
 * with XXH3-64 through kvlabs/hash.h (SIMD paths installed when linked),
 * so the comparison is of table structures, not of hash functions.
 *
 * Measurement: each phase is timed as a whole for throughput; one operation
 * in K (--sample) is also timed alone into a latency histogram (p50, p99),
 * which costs ~2 clock reads per K ops (in the parallel phase too, so its
 * ops cost what the 1-thread phase's do). Memory: the table's own mem_bytes
 * (every allocation, allocator overhead included) and, as a cross-check for
 * every engine, the heap growth seen by mallinfo2() from before the table
 * is created to the end of the insert phase (glibc; meaningless under
 * sanitizers), both per entry.
 *
 * Results: with --out DIR, one kvbench-format JSON file per engine and
 * workload (kv_bench_result_write) under DIR/n<N>/grow/ and
 * DIR/n<N>/lf<L>/: workloads insert, hit, miss, delete, and hit_mt for the
 * parallel phase (params.threads = T, ops = T x N, extra.scale_vs_1thread;
 * params.n is N, the keys each thread looks up; errors, as in every file,
 * count the failed operations of the whole run). Printed per section: a
 * table with each engine's hit-lookup ratio to GHashTable, then the
 * parallel hits' (hit, hitxT Mops/s, p50, p99, scale). Build and run in the
 * release variant:
 *   make -C sprint-2-hash-storage VARIANT=release all
 *   build/release/bin/sprint-2-hash-storage/ht_bench --n 1M --out /tmp/htb
 */
#include <glib.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ht.h"
#include "ht_bench_mt.h"
#include "kvlabs/alloc.h"
#include "kvlabs/bench.h"
#include "kvlabs/engine.h"
#include "kvlabs/error.h"
#include "kvlabs/hash.h"
#include "kvlabs/opts.h"
#include "kvlabs/rng.h"

/* The phases of a run; the parallel hit phase comes after the main table's four. */
enum { W_INSERT, W_HIT, W_MISS, W_DELETE, NW, W_HIT_MT = NW, NPH };
#define MAX_ENGINES (1 + 2 * HT_NSTRATEGIES)
#define MAX_REPEATS 15
static const char *const wname[NPH] = {"insert", "hit", "miss", "delete", "hit_mt"};

/* What is being measured: one engine on one data set. */
struct target {
    char name[64];   /* result engine name */
    int kind;        /* 0 core, 1 kv, 2 ghashtable */
    int strategy;    /* ht_strategy of kinds 0 and 1 */
    ht_table *t;
    kv_db *db;
    GHashTable *g;
    kv_buf buf;
};

struct phase {
    double ops_per_sec;
    uint64_t elapsed_ns;
    kv_hist hist;
};

struct run {
    struct phase ph[NPH];
    bool mt;               /* ph[W_HIT_MT] was run */
    double scale;          /* its ops/s over ph[W_HIT]'s */
    double mem_per_entry;  /* engine's own statistics (0: none) */
    double heap_per_entry; /* mallinfo2 growth over the insert phase */
    uint64_t errors;
};

static struct {
    size_t ksize, vsize, sample, repeats;
    unsigned shards, threads; /* threads: of the parallel hit phase (<= 1: none) */
    ht_resize_mode resize;
    bool no_lock;
    uint64_t seed;
    const char *out;
    bool kv, ghash, sweep, grow;
    unsigned strategies; /* bit mask */
} cfg = {16, 100, 16, 1, 0, 2, HT_RESIZE_INCREMENTAL, false, 42, NULL, true, true, true, true, 0xF};

static unsigned char *keys, *misses, *val;
static uint32_t *order;
static kv_bench_meta meta;

/* ---- GHashTable with byte-string keys ----------------------------------- */

typedef struct gbytes {
    uint32_t len;
    unsigned char data[];
} gbytes;

/* XXH3 resolved once from the dispatch table, as the hash engine does. */
static uint64_t (*xxh3)(const void *, size_t);

static guint gb_hash(gconstpointer p)
{
    const gbytes *b = p;
    return (guint)xxh3(b->data, b->len);
}

static gboolean gb_equal(gconstpointer a, gconstpointer b)
{
    const gbytes *x = a, *y = b;
    return x->len == y->len && memcmp(x->data, y->data, x->len) == 0;
}

static gbytes *gb_new(const void *p, size_t n)
{
    gbytes *b = g_malloc(sizeof(*b) + n);
    b->len = (uint32_t)n;
    memcpy(b->data, p, n);
    return b;
}

/* ---- operations on any target --------------------------------------------- */

static int op(struct target *tg, int w, const unsigned char *k, unsigned char *out)
{
    size_t kl = cfg.ksize, vl;

    switch (tg->kind) {
    case 0:
        if (w == W_INSERT)
            return ht_put(tg->t, k, kl, val, cfg.vsize);
        if (w == W_DELETE)
            return ht_delete(tg->t, k, kl);
        return ht_get_copy(tg->t, k, kl, out, cfg.vsize, &vl);
    case 1:
        if (w == W_INSERT)
            return kv_put(tg->db, k, kl, val, cfg.vsize);
        if (w == W_DELETE)
            return kv_delete(tg->db, k, kl);
        return kv_get(tg->db, k, kl, &tg->buf);
    default: {
        _Alignas(8) unsigned char raw[sizeof(gbytes) + 256]; /* a probe key on the stack */
        gbytes *probe = (gbytes *)(void *)raw;
        probe->len = (uint32_t)kl;
        memcpy(probe->data, k, kl);
        if (w == W_INSERT) {
            g_hash_table_insert(tg->g, gb_new(k, kl), gb_new(val, cfg.vsize));
            return 0;
        }
        if (w == W_DELETE)
            return g_hash_table_remove(tg->g, probe) ? 0 : -1;
        const gbytes *v = g_hash_table_lookup(tg->g, probe);
        if (!v)
            return -1;
        memcpy(out, v->data, v->len);
        return 0;
    }
    }
}

static size_t heap_bytes(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

/*
 * n operations w, on the keys in `order` from position `first` on (wrapping
 * around; inserts take the keys in index order); hits and inserts use keys,
 * misses use misses. One op in cfg.sample is timed into h. Returns the
 * errors (a hit or delete that fails, a miss that finds).
 */
static uint64_t op_loop(struct target *tg, int w, size_t n, size_t first, kv_hist *h)
{
    unsigned char out[4096];
    const unsigned char *set = w == W_MISS ? misses : keys;
    int want = w == W_MISS ? -1 : 0;
    uint64_t errors = 0;

    for (size_t i = 0, j = first; i < n; i++, j = j + 1 < n ? j + 1 : 0) {
        const unsigned char *k = set + (size_t)(w == W_INSERT ? j : order[j]) * cfg.ksize;
        int rc;
        if (i % cfg.sample == 0) {
            uint64_t a = kv_now_ns();
            rc = op(tg, w, k, out);
            kv_hist_record(h, kv_now_ns() - a);
        } else {
            rc = op(tg, w, k, out);
        }
        if ((rc < 0 ? -1 : 0) != want)
            errors++;
    }
    return errors;
}

/* Run one phase over n keys in `order` on this thread. */
static void phase(struct target *tg, int w, size_t n, struct phase *ph, uint64_t *errors)
{
    uint64_t t0;

    kv_hist_init(&ph->hist);
    t0 = kv_now_ns();
    *errors += op_loop(tg, w, n, 0, &ph->hist);
    ph->elapsed_ns = kv_now_ns() - t0;
    ph->ops_per_sec = ph->elapsed_ns ? n * 1e9 / (double)ph->elapsed_ns : 0;
}

struct mt_hits_ctx {
    const struct target *tg; /* the table, shared by the threads */
    size_t n;
};

/* One thread of the parallel hit phase: all n keys in `order`, thread i of T
 * starting at position i * n / T, through its own copy of the target (its
 * own kv_buf; the table is shared) and its own output buffer (op_loop's). */
static uint64_t mt_hits(void *ctx, unsigned id, unsigned nthreads, kv_hist *h)
{
    const struct mt_hits_ctx *c = ctx;
    struct target own = *c->tg;
    uint64_t errors;

    memset(&own.buf, 0, sizeof(own.buf));
    errors = op_loop(&own, W_HIT, c->n, (size_t)((uint64_t)c->n * id / nthreads), h);
    kv_buf_free(&own.buf);
    return errors;
}

/* The parallel hit phase: cfg.threads threads look up every key at once, so
 * T x n ops, timed from the barrier that starts them to the last one's end. */
static void phase_mt(struct target *tg, size_t n, struct run *r)
{
    struct mt_hits_ctx c = {tg, n};
    struct phase *ph = &r->ph[W_HIT_MT];

    r->errors += mt_run(cfg.threads, mt_hits, &c, &ph->elapsed_ns, &ph->hist);
    ph->ops_per_sec = ph->elapsed_ns ? (double)cfg.threads * n * 1e9 / (double)ph->elapsed_ns : 0;
    r->scale = r->ph[W_HIT].ops_per_sec > 0 ? ph->ops_per_sec / r->ph[W_HIT].ops_per_sec : 0;
    r->mt = true;
}

static void write_result(const struct target *tg, int w, size_t n, double load,
                         const struct run *r, const char *dir, const char *options, size_t rep)
{
    bool mt = w == W_HIT_MT; /* T threads, T x n ops, and the scaling ratio */
    int64_t threads = mt ? (int64_t)cfg.threads : 1;
    kv_bench_extra extra[] = {{"load_factor", load},
                              {"mem_bytes_per_entry", r->mem_per_entry},
                              {"heap_bytes_per_entry", r->heap_per_entry},
                              {"latency_sample_every", (double)cfg.sample},
                              {"scale_vs_1thread", r->scale}};
    kv_bench_result res = {
        .engine = tg->name, .options = options, .workload = wname[w], .repeat = (int64_t)rep,
        .params = {.n = (int64_t)n, .key_size = (int64_t)cfg.ksize,
                   .value_size = (int64_t)cfg.vsize, .threads = threads, .procs = 1,
                   .seed = (int64_t)(cfg.seed & INT64_MAX)},
        .ops = (int64_t)n * threads, .elapsed_ns = (int64_t)r->ph[w].elapsed_ns,
        .ops_per_sec = r->ph[w].ops_per_sec, .hist = &r->ph[w].hist,
        .mem_bytes = (int64_t)(r->mem_per_entry * (double)n),
        .user_bytes_written = w == W_INSERT ? (int64_t)(n * (cfg.ksize + cfg.vsize)) : 0,
        .errors = (int64_t)r->errors, .extra = extra, .n_extra = mt ? 5 : 4};
    char name[256], path[1024];

    if (!kv_bench_result_filename(name, sizeof(name), tg->name, wname[w], (unsigned)rep))
        return;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (kv_bench_result_write(&res, &meta, path) != KV_OK)
        fprintf(stderr, "ht_bench: %s: %s\n", path, kv_last_error());
}

/* A random permutation of 0..n-1 into order[] (the same one for every engine of a section). */
static void shuffle(size_t n)
{
    kv_rng r;

    kv_rng_seed(&r, cfg.seed ^ n);
    for (size_t i = 0; i < n; i++)
        order[i] = (uint32_t)i;
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)kv_rng_below(&r, i + 1);
        uint32_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

/* Measure one target on n keys; h0 is the heap size before it was created. */
static int run_target(struct target *tg, size_t n, struct run *r, size_t h0)
{
    kv_stats ks;
    ht_stats st;

    memset(r, 0, sizeof(*r));
    shuffle(n);
    phase(tg, W_INSERT, n, &r->ph[W_INSERT], &r->errors);
    r->heap_per_entry = (double)(heap_bytes() - h0) / (double)n;
    if (tg->kind == 0) {
        ht_get_stats(tg->t, &st);
        r->mem_per_entry = (double)st.mem_bytes / (double)n;
    } else if (tg->kind == 1 && kv_db_stats(tg->db, &ks) == KV_OK) {
        r->mem_per_entry = (double)ks.mem_bytes / (double)n;
    }
    phase(tg, W_HIT, n, &r->ph[W_HIT], &r->errors);
    /* A --no-lock core table is single-threaded by contract (ht_config::no_lock:
     * the caller serialises every call), even though the current core's reads
     * without writers would be safe: not measured in parallel. */
    if (cfg.threads > 1 && !(tg->kind == 0 && cfg.no_lock))
        phase_mt(tg, n, r);
    phase(tg, W_MISS, n, &r->ph[W_MISS], &r->errors);
    phase(tg, W_DELETE, n, &r->ph[W_DELETE], &r->errors);
    return 0;
}

static void close_target(struct target *tg)
{
    ht_destroy(tg->t);
    kv_close(tg->db);
    if (tg->g)
        g_hash_table_destroy(tg->g);
    kv_buf_free(&tg->buf);
    memset(tg, 0, sizeof(*tg));
}

/* What a printed row shows: the medians over the repeats. */
struct row {
    double ops[NPH], p50[NPH], p99[NPH];
    bool mt;
    double scale, mem, heap;
    uint64_t errors;
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void summarise(const struct run *runs, size_t reps, struct row *out)
{
    double v[MAX_REPEATS];

    memset(out, 0, sizeof(*out));
    for (int w = 0; w < NPH; w++) {
        for (size_t r = 0; r < reps; r++)
            v[r] = runs[r].ph[w].ops_per_sec;
        out->ops[w] = median(v, reps);
        for (size_t r = 0; r < reps; r++)
            v[r] = (double)kv_hist_percentile(&runs[r].ph[w].hist, 50);
        out->p50[w] = median(v, reps);
        for (size_t r = 0; r < reps; r++)
            v[r] = (double)kv_hist_percentile(&runs[r].ph[w].hist, 99);
        out->p99[w] = median(v, reps);
    }
    for (size_t r = 0; r < reps; r++)
        v[r] = runs[r].mem_per_entry;
    out->mem = median(v, reps);
    for (size_t r = 0; r < reps; r++)
        v[r] = runs[r].heap_per_entry;
    out->heap = median(v, reps);
    for (size_t r = 0; r < reps; r++)
        v[r] = runs[r].scale;
    out->scale = median(v, reps);
    out->mt = runs[0].mt; /* the same in every repeat */
    for (size_t r = 0; r < reps; r++)
        out->errors += runs[r].errors;
}

static void print_row(const char *name, const struct row *r, const struct row *ghash)
{
    printf("%-24s", name);
    for (int w = 0; w < NW; w++)
        printf(" %7.2f %5.0f %6.0f |", r->ops[w] / 1e6, r->p50[w], r->p99[w]);
    printf(" %7.1f %7.1f", r->mem, r->heap);
    if (ghash && ghash->ops[W_HIT] > 0)
        printf(" %5.2fx", r->ops[W_HIT] / ghash->ops[W_HIT]);
    if (r->errors)
        printf("  (%llu ERRORS)", (unsigned long long)r->errors);
    printf("\n");
}

static void print_header(void)
{
    printf("%-24s", "engine");
    for (int w = 0; w < NW; w++)
        printf(" %-7s %5s %6s |", wname[w], "p50", "p99");
    printf(" %7s %7s %6s\n", "B/entry", "heap/e", "hit/GH");
    printf("%-24s", "");
    for (int w = 0; w < NW; w++)
        printf(" %7s %5s %6s |", "Mops/s", "ns", "ns");
    printf(" %7s %7s %6s\n", "(stats)", "(heap)", "ratio");
}

/* The parallel phase's table: each engine's hit ops/s on 1 and on T threads. */
static void print_mt(const struct target *e, const struct row *rows, size_t ne)
{
    char col[16];

    snprintf(col, sizeof(col), "hitx%u", cfg.threads);
    printf("parallel hits (%u threads at once on the same table, each looking up every key)\n",
           cfg.threads);
    printf("%-24s %7s %7s %5s %6s %6s\n", "engine", "hit", col, "p50", "p99", "scale");
    printf("%-24s %7s %7s %5s %6s %6s\n", "", "Mops/s", "Mops/s", "ns", "ns", "ratio");
    for (size_t i = 0; i < ne; i++) {
        printf("%-24s %7.2f", e[i].name, rows[i].ops[W_HIT] / 1e6);
        if (rows[i].mt)
            printf(" %7.2f %5.0f %6.0f %5.2fx\n", rows[i].ops[W_HIT_MT] / 1e6,
                   rows[i].p50[W_HIT_MT], rows[i].p99[W_HIT_MT], rows[i].scale);
        else
            printf("       -   (not run: --no-lock tables are single-threaded)\n");
    }
}

/* ---- sections ----------------------------------------------------------- */

static void make_dir(const char *d)
{
    char tmp[1024];

    snprintf(tmp, sizeof(tmp), "%s", d);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(tmp, 0777);
            *p = '/';
        }
    mkdir(tmp, 0777);
}

/* The engines of a section: GHashTable first, then each strategy's core and kv. */
static size_t engine_list(struct target *e)
{
    size_t n = 0;

    if (cfg.ghash) {
        snprintf(e[n].name, sizeof(e[n].name), "ghashtable");
        e[n++].kind = 2;
    }
    for (int s = 0; s < HT_NSTRATEGIES; s++) {
        if (!(cfg.strategies >> s & 1))
            continue;
        for (int kind = 0; kind < (cfg.kv ? 2 : 1); kind++) {
            snprintf(e[n].name, sizeof(e[n].name), kind ? "hash:strategy=%s" : "ht:%s",
                     ht_strategy_name((ht_strategy)s));
            e[n].kind = kind;
            e[n++].strategy = s;
        }
    }
    return n;
}

/* Create the table of an engine; buckets 0: default options. */
static int open_target(struct target *tg, size_t buckets, double ml, const char *opts)
{
    if (tg->kind == 2) {
        tg->g = g_hash_table_new_full(gb_hash, gb_equal, g_free, g_free);
        return 0;
    }
    if (tg->kind == 0) {
        ht_config c = {.strategy = (ht_strategy)tg->strategy, .buckets = buckets,
                       .max_load_pm = buckets ? (unsigned)(ml * 1000 + 0.5) : 0,
                       .shards = cfg.shards, .resize = cfg.resize, .hash = xxh3,
                       .eq = kv_hash_active()->key_eq, .no_lock = cfg.no_lock};
        return ht_create(&c, &tg->t) == HT_OK ? 0 : -1;
    }
    if (kv_open(tg->name, NULL, opts, &tg->db) != KV_OK) {
        fprintf(stderr, "ht_bench: %s: %s\n", tg->name, kv_last_error());
        return -1;
    }
    return 0;
}

/*
 * One section: every engine, cfg.repeats times (the order reversed on odd
 * repeats, so drift in the machine's speed hits every engine alike); the
 * printed row shows medians. buckets 0: default options (grow); else
 * presized to `buckets` with max_load `ml`.
 */
static void section(const char *title, const char *dir, size_t n, size_t buckets, double ml,
                    double load)
{
    static struct target engines[MAX_ENGINES];
    static struct run runs[MAX_ENGINES][MAX_REPEATS];
    struct row rows[MAX_ENGINES];
    size_t ne = engine_list(engines);
    char opts[160] = "";

    printf("\n%s\n", title);
    fflush(stdout);
    if (dir)
        make_dir(dir);
    if (buckets)
        snprintf(opts, sizeof(opts), "buckets=%zu,max_load=%.3f", buckets, ml);
    if (cfg.resize == HT_RESIZE_ALL)
        snprintf(opts + strlen(opts), sizeof(opts) - strlen(opts), "%sresize=all",
                 opts[0] ? "," : "");
    for (size_t rep = 0; rep < cfg.repeats; rep++) {
        for (size_t k = 0; k < ne; k++) {
            size_t i = rep % 2 ? ne - 1 - k : k;
            struct target tg = {.kind = engines[i].kind, .strategy = engines[i].strategy};
            size_t h0 = heap_bytes(); /* before creation: presized arrays count too */
            memcpy(tg.name, engines[i].name, sizeof(tg.name));
            if (open_target(&tg, buckets, ml, opts) != 0) {
                fprintf(stderr, "ht_bench: cannot create %s\n", tg.name);
                exit(1);
            }
            run_target(&tg, n, &runs[i][rep], h0);
            if (dir)
                for (int w = 0; w < NPH; w++)
                    if (w != W_HIT_MT || runs[i][rep].mt)
                        write_result(&tg, w, n, load, &runs[i][rep], dir,
                                     tg.kind == 2 ? "" : opts, rep);
            close_target(&tg);
        }
    }
    print_header();
    for (size_t i = 0; i < ne; i++) {
        summarise(runs[i], cfg.repeats, &rows[i]);
        print_row(engines[i].name, &rows[i], cfg.ghash && i ? &rows[0] : NULL);
    }
    if (cfg.threads > 1)
        print_mt(engines, rows, ne);
    fflush(stdout);
}

/* Keys: 8 bytes of a bijective mix of the index (so all distinct), then
 * pseudo-random bytes; the miss keys use indices no hit key has. */
static void make_keys(size_t n)
{
    kv_rng r;

    keys = malloc(n * cfg.ksize);
    misses = malloc(n * cfg.ksize);
    order = malloc(n * sizeof(*order));
    val = malloc(cfg.vsize + 1);
    if (!keys || !misses || !order || !val) {
        fprintf(stderr, "ht_bench: out of memory for %zu keys\n", n);
        exit(1);
    }
    kv_rng_seed(&r, cfg.seed);
    for (size_t i = 0; i < n; i++) {
        for (int m = 0; m < 2; m++) {
            unsigned char *k = (m ? misses : keys) + i * cfg.ksize;
            uint64_t id = ht_mix64(i + (m ? (1ULL << 40) : 0) + 1);
            for (size_t b = 0; b < cfg.ksize; b++)
                k[b] = b < 8 ? (unsigned char)(id >> (8 * b)) : (unsigned char)kv_rng_next(&r);
        }
    }
    for (size_t b = 0; b < cfg.vsize; b++)
        val[b] = (unsigned char)(b * 7 + 1);
}

static void free_keys(void)
{
    free(keys);
    free(misses);
    free(order);
    free(val);
}

static size_t parse_list(const char *s, double *out, size_t max, bool sizes)
{
    size_t n = 0;
    char buf[64];

    while (*s && n < max) {
        size_t len = strcspn(s, ",");
        uint64_t v;
        snprintf(buf, sizeof(buf), "%.*s", (int)len, s);
        if (sizes) {
            if (kv_parse_size(buf, &v) != KV_OK || v == 0) {
                fprintf(stderr, "ht_bench: bad size '%s'\n", buf);
                exit(2);
            }
            out[n++] = (double)v;
        } else {
            out[n++] = strtod(buf, NULL);
        }
        s += len + (s[len] == ',');
    }
    return n;
}

static void usage(void)
{
    fprintf(stderr, "usage: ht_bench [--n N[,N...]] [--loads L[,L...]] [--strategies s[,s...]]\n"
                    "  [--key-size B] [--value-size B] [--sample K] [--seed S] [--out DIR]\n"
                    "  [--repeat R] [--shards S] [--no-lock] [--resize incremental|all]\n"
                    "  [--threads T] [--no-kv] [--no-ghash]\n"
                    "  [--no-sweep] [--no-grow]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    double ns[8] = {100000}, loads[16] = {0.5, 0.7, 0.9};
    size_t nn = 1, nl = 3;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--no-lock")) {
            cfg.no_lock = true;
        } else if (!strcmp(a, "--no-kv")) {
            cfg.kv = false;
        } else if (!strcmp(a, "--no-ghash")) {
            cfg.ghash = false;
        } else if (!strcmp(a, "--no-sweep")) {
            cfg.sweep = false;
        } else if (!strcmp(a, "--no-grow")) {
            cfg.grow = false;
        } else if (!v) {
            usage();
        } else if (!strcmp(a, "--n")) {
            nn = parse_list(v, ns, 8, true), i++;
        } else if (!strcmp(a, "--loads")) {
            nl = parse_list(v, loads, 16, false), i++;
        } else if (!strcmp(a, "--key-size")) {
            cfg.ksize = strtoul(v, NULL, 10), i++;
        } else if (!strcmp(a, "--value-size")) {
            cfg.vsize = strtoul(v, NULL, 10), i++;
        } else if (!strcmp(a, "--sample")) {
            cfg.sample = strtoul(v, NULL, 10), i++;
        } else if (!strcmp(a, "--resize")) {
            if (strcmp(v, "all") && strcmp(v, "incremental"))
                usage();
            cfg.resize = strcmp(v, "all") ? HT_RESIZE_INCREMENTAL : HT_RESIZE_ALL, i++;
        } else if (!strcmp(a, "--repeat")) {
            cfg.repeats = strtoul(v, NULL, 10), i++;
        } else if (!strcmp(a, "--threads")) {
            cfg.threads = (unsigned)strtoul(v, NULL, 10), i++;
        } else if (!strcmp(a, "--shards")) {
            cfg.shards = (unsigned)strtoul(v, NULL, 10), i++;
        } else if (!strcmp(a, "--seed")) {
            cfg.seed = strtoull(v, NULL, 10), i++;
        } else if (!strcmp(a, "--out")) {
            cfg.out = v, i++;
        } else if (!strcmp(a, "--strategies")) {
            cfg.strategies = 0;
            for (int s = 0; s < HT_NSTRATEGIES; s++)
                if (strstr(v, ht_strategy_name((ht_strategy)s)))
                    cfg.strategies |= 1u << s;
            i++;
        } else {
            usage();
        }
    }
    if (cfg.ksize < 8 || cfg.ksize > 256 || cfg.vsize > 4096 || !cfg.sample || !nn || !nl ||
        !cfg.repeats || cfg.repeats > MAX_REPEATS || cfg.threads > MT_MAX_THREADS) {
        fprintf(stderr, "ht_bench: key size 8..256, value size 0..4096, sample >= 1, "
                        "repeat 1..%d, threads 0..%d\n", MAX_REPEATS, MT_MAX_THREADS);
        return 2;
    }
    kv_registry_init(); /* install the SIMD hash paths before anything hashes */
    xxh3 = kv_hash_active()->xxh3_64;
    kv_bench_meta_collect(&meta, cfg.out);
    printf("ht_bench: keys %zu B, values %zu B, hash %s, group match %s, latency of 1 op in %zu, ",
           cfg.ksize, cfg.vsize, kv_hash_active()->name, ht_group_impl(), cfg.sample);
    if (cfg.threads > 1)
        printf("parallel hits on %u threads\n", cfg.threads);
    else
        printf("no parallel hits\n");
    for (size_t i = 0; i < nn; i++) {
        size_t n = (size_t)ns[i], cap = 1;
        char title[160], dir[1024];
        while ((double)cap * 2 <= n / 0.7 * 1.41421356)
            cap *= 2; /* the power of two nearest to n / 0.7 */
        make_keys(n > cap ? n : cap);
        if (cfg.grow) {
            snprintf(title, sizeof(title),
                     "== N=%zu, default options (tables grow from 1024 slots)", n);
            snprintf(dir, sizeof(dir), "%s/n%zu/grow", cfg.out ? cfg.out : "", n);
            section(title, cfg.out ? dir : NULL, n, 0, 0, 0);
        }
        for (size_t l = 0; cfg.sweep && l < nl; l++) {
            size_t m = (size_t)(loads[l] * (double)cap);
            double ml = loads[l] + 0.02 < 0.99 ? loads[l] + 0.02 : 0.99;
            snprintf(title, sizeof(title),
                     "== N=%zu, load %.2f: %zu keys in %zu slots (max_load %.2f, no resize)", n,
                     loads[l], m, cap, ml);
            snprintf(dir, sizeof(dir), "%s/n%zu/lf%.2f", cfg.out ? cfg.out : "", n, loads[l]);
            section(title, cfg.out ? dir : NULL, m, cap, ml, loads[l]);
        }
        free_keys();
    }
    return 0;
}
