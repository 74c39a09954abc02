/*
 * kvbench_micro.c — micro-benchmarks: the two examples this folder
 * registers, and the loop that runs any registered one.
 *
 * The interface is kvlabs/micro.h (common/): a lab defines `kv_micro_<name>` and lists
 * the name in its lab.mk's LAB_MICROS; the generated registry puts it in
 * kv_registry_micros[]. This folder's lab.mk registers two, over
 * common/hash.h, so the mechanism is exercised from the first day:
 *
 *   crc32c_4k  kv_crc32c over a 4 KiB block (one page checksum)
 *   xxh3_4k    kv_xxh3_64 over a 4 KiB block
 *
 * Both hash one of 64 blocks of random bytes per call (256 KiB in all,
 * inside L2 on most CPUs), so the figure is the hash's speed rather than
 * memory's; bytes_per_op = 4096 gives GB/s in the report. Sprint 2, which
 * installs SSE4.2/AVX2/NEON paths into the hash dispatch table, shows its
 * speed-up in these same two figures.
 *
 * The runner (kvb_micro_run) gives a micro-benchmark what an engine
 * workload gets: warm-up calls (--warmup-ops / --warmup-ns), n timed calls
 * sampled into a kv_hist, one result file per repeat, with engine "micro"
 * and workload = the name. A micro-benchmark runs on one thread. The
 * figures a micro-benchmark returns after its timed calls (.figures) go
 * into the result's extra object beside sample_every and bytes_per_op.
 */
#include <string.h>

#include "kvbench_int.h"
#include "kvlabs/alloc.h"
#include "kvlabs/hash.h"

#define BLOCK 4096
#define KVB_MICRO_FIGURES 48 /* room for a micro-benchmark's figures (kv_micro_bench.figures) */
#define BLOCKS 64

struct hash_ctx {
    uint8_t data[BLOCKS][BLOCK];
    uint64_t sink;
};

static int hash_setup(void **ctx, uint64_t n, uint64_t seed)
{
    struct hash_ctx *h = kv_malloc(sizeof *h);
    kv_rng r;

    (void)n;
    if (!h)
        return KV_ENOMEM;
    kv_rng_seed(&r, seed);
    for (size_t b = 0; b < BLOCKS; b++)
        for (size_t i = 0; i < BLOCK; i += 8) {
            uint64_t x = kv_rng_next(&r);
            memcpy(&h->data[b][i], &x, 8);
        }
    h->sink = 0;
    *ctx = h;
    return KV_OK;
}

static int crc_run(void *ctx, uint64_t i)
{
    struct hash_ctx *h = ctx;

    h->sink += kv_crc32c(0, h->data[i % BLOCKS], BLOCK);
    return 0;
}

static int xxh3_run(void *ctx, uint64_t i)
{
    struct hash_ctx *h = ctx;

    h->sink += kv_xxh3_64(h->data[i % BLOCKS], BLOCK);
    return 0;
}

static void hash_teardown(void *ctx)
{
    kv_free(ctx);
}

/** crc32c_4k: CRC32C of a 4 KiB block. */
const struct kv_micro_bench kv_micro_crc32c_4k = {
    .name = "crc32c_4k",
    .summary = "kv_crc32c over a 4 KiB block (common/hash.h dispatch)",
    .setup = hash_setup,
    .run = crc_run,
    .teardown = hash_teardown,
    .bytes_per_op = BLOCK,
};

/** xxh3_4k: XXH3-64 of a 4 KiB block. */
const struct kv_micro_bench kv_micro_xxh3_4k = {
    .name = "xxh3_4k",
    .summary = "kv_xxh3_64 over a 4 KiB block (common/hash.h dispatch)",
    .setup = hash_setup,
    .run = xxh3_run,
    .teardown = hash_teardown,
    .bytes_per_op = BLOCK,
};

const struct kv_micro_bench *kvb_micro_find(const char *name)
{
    for (size_t i = 0; kv_registry_micros[i]; i++)
        if (!strcmp(kv_registry_micros[i]->name, name))
            return kv_registry_micros[i];
    return NULL;
}

/* ---- the runner -------------------------------------------------------- */

int kvb_micro_run(const kvb_config *cfg, const struct kv_micro_bench *m, unsigned repeat)
{
    uint64_t n = cfg->ops ? cfg->ops : cfg->n, every = kvb_sample_every(cfg, n);
    uint64_t warm = 0, errors = 0, countdown = 1, t0, t_start;
    kvb_tally *t = kv_calloc(1, sizeof *t);
    struct kv_micro_figure fig[KVB_MICRO_FIGURES];
    kv_bench_extra extra[3 + KVB_MICRO_FIGURES];
    unsigned nfig = 0;
    kv_bench_result r;
    char label[160];
    void *ctx = NULL;
    int rc;

    if (!t)
        return KVB_EXIT_FAIL;
    if (m->setup && (rc = m->setup(&ctx, n, cfg->seed)) != 0) {
        kvb_note("micro-benchmark %s: setup failed: %s", m->name, kv_strerror(rc));
        kv_free(t);
        return KVB_EXIT_FAIL;
    }
    t0 = kv_now_ns();
    while (warm < cfg->warmup_ops || (cfg->warmup_ns && kv_now_ns() - t0 < cfg->warmup_ns))
        m->run(ctx, warm++ % (n ? n : 1));
    t_start = kv_now_ns();
    for (uint64_t i = 0; i < n; i++) {
        if (--countdown == 0) {
            uint64_t a = kv_now_ns();
            errors += m->run(ctx, i) != 0;
            kv_hist_record(&t->hist, kv_now_ns() - a);
            countdown = every;
        } else {
            errors += m->run(ctx, i) != 0;
        }
    }
    t->elapsed_ns = kv_now_ns() - t_start;
    if (!t->elapsed_ns)
        t->elapsed_ns = 1;
    if (m->figures)
        nfig = m->figures(ctx, fig, KVB_MICRO_FIGURES);
    if (nfig > KVB_MICRO_FIGURES)
        nfig = KVB_MICRO_FIGURES;
    if (m->teardown)
        m->teardown(ctx);
    t->c.ops = n;
    t->c.errors = errors;
    snprintf(label, sizeof label, "micro %s r%u", m->name, repeat);
    kvb_progress_done(label, t);

    memset(&r, 0, sizeof r);
    r.engine = "micro";
    r.options = "";
    r.workload = m->name;
    r.repeat = repeat;
    r.params = (kv_bench_params){.n = (int64_t)n, .key_size = 0, .value_size = 0, .threads = 1,
                                 .procs = 1, .seed = (int64_t)(cfg->seed & INT64_MAX),
                                 .warmup_ops = (int64_t)warm, .warmup_ns = (int64_t)cfg->warmup_ns};
    r.ops = (int64_t)n;
    r.elapsed_ns = (int64_t)t->elapsed_ns;
    r.ops_per_sec = (double)n * 1e9 / (double)t->elapsed_ns;
    r.hist = &t->hist;
    r.errors = (int64_t)errors;
    extra[0] = (kv_bench_extra){"sample_every", (double)every};
    extra[1] = (kv_bench_extra){"bytes_per_op", (double)m->bytes_per_op};
    extra[2] = (kv_bench_extra){"bytes_per_sec", r.ops_per_sec * (double)m->bytes_per_op};
    for (unsigned f = 0; f < nfig; f++)
        extra[3 + f] = (kv_bench_extra){fig[f].name, fig[f].value};
    r.extra = extra;
    r.n_extra = 3 + nfig;
    rc = kvb_result_emit(cfg, &r);
    kv_free(t);
    return rc != KVB_EXIT_OK || errors ? KVB_EXIT_FAIL : KVB_EXIT_OK;
}
