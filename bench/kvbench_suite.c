/*
 * kvbench_suite.c — one engine, one repeat, every selected workload: how
 * the state of a store flows from workload to workload, and what is
 * measured after each.
 *
 * The order is fixed (the order of kvb_workloads[], whatever order
 * --workloads names them in), so a result always means the same thing:
 *
 *   1. fillseq      in a fresh directory of its own, on an empty store;
 *                   the directory is removed right after.
 *   2. the load     a fresh directory D; RSS and heap are read, the engine
 *                   opened, and keys 0..n-1 put in a random order. When
 *                   fillrandom is selected, fillrandom *is* the load and is
 *                   timed; otherwise the same operations run untimed. Then
 *                   kv_sync, and the store's disk size, the RSS growth, the
 *                   heap growth and the engine's own count (kv_stats
 *                   .mem_bytes) "after the load" are taken (recorded in
 *                   every later result as extra.load_disk_bytes,
 *                   load_mem_bytes, load_heap_bytes, load_engine_mem_bytes).
 *   3. on D, in order: overwrite, readrandom, readmissing, readseq, scan,
 *      ycsb-a, ycsb-b, ycsb-c, ycsb-f, ycsb-d, ycsb-e, and deleterandom
 *      last, because it destroys what the others read. Each sees what the
 *      ones before it left: overwrite's new versions (an LSM tree's
 *      garbage, a copy-on-write tree's freed pages), ycsb-d's and ycsb-e's
 *      inserted keys (n grows by 5% of their operations). Reads of the
 *      loaded keys always hit: nothing before deleterandom removes one.
 *   4. D is closed and removed (unless --keep).
 *
 * So one load serves every read workload of a repeat, and each repeat
 * starts from nothing: repeats are independent samples, which is what the
 * coefficient of variation needs.
 *
 * Stages and processes. Steps 1 and 2-4 are two stages
 * (kvb_suite_stage()), and kvbench.c runs each in a child process of its
 * own: the load's "before" readings are taken in a process that has done
 * nothing but build its keys, so no memory freed by fillseq (or by another
 * engine) can be handed out again without showing in RSS. That used to
 * happen: with fillseq first in the same process, Bitcask's 200,000-key
 * load grew RSS by 40 KiB while its keydir held 15.2 MB. Every result
 * records extra.load_fresh_process (1 when the load ran in such a child, 0
 * under --no-isolate or when fork failed). Workloads that need KV_CAP_ORDERED
 * (readseq, scan, ycsb-e) are skipped on other engines with a note.
 *
 * After each workload: kv_sync (durable engines write what they buffered;
 * not timed), then the directory's size (kvb_dir_bytes: the sum of file
 * sizes), the RSS growth (result.mem_bytes) and heap growth
 * (extra.heap_bytes) since before open (kvbench_sys.c), the engine's own
 * count (extra.engine_mem_bytes), its capabilities as the open store
 * reports them (extra.caps = kv_caps(), extra.durable = 1 when
 * KV_CAP_DURABLE is set) and the env's I/O counters over the measured
 * part. Peer libraries do their own I/O, so
 * their bytes_read/bytes_written are 0: write amplification is a kvlabs
 * engine's figure only.
 */
#include <stdio.h>
#include <string.h>

#include "kvbench_int.h"
#include "kvlabs/alloc.h"

#define MAX_EXTRA 24
#define AUTO_SAMPLE_LIMIT (1ull << 26) /* above this many operations, sample */

struct erun {
    const kvb_config *cfg;
    const kvb_engine *e;
    unsigned repeat;
    kvb_values values;
    kvb_store store;
    kv_db *db;
    char dir[4096];
    uint64_t rss_before, heap_before;
    uint64_t load_disk, load_mem, load_heap, load_engine_mem;
    bool loaded;
    bool fresh; /* this stage runs in a process that has done nothing else */
    int status;
};

uint64_t kvb_sample_every(const kvb_config *cfg, uint64_t ops)
{
    if (cfg->sample_every)
        return cfg->sample_every;
    return ops > AUTO_SAMPLE_LIMIT ? (ops + AUTO_SAMPLE_LIMIT - 1) / AUTO_SAMPLE_LIMIT : 1;
}

int kvb_result_emit(const kvb_config *cfg, kv_bench_result *r)
{
    char name[512], path[4096];

    if (!kv_bench_result_filename(name, sizeof name, r->engine, r->workload, (unsigned)r->repeat)) {
        kvb_note("cannot name the result of %s %s: %s", r->engine, r->workload, kv_last_error());
        return KVB_EXIT_FAIL;
    }
    snprintf(path, sizeof path, "%s/%s", cfg->out_dir, name);
    if (kv_bench_result_write(r, &cfg->meta, path) != KV_OK) {
        kvb_note("cannot write %s: %s", path, kv_last_error());
        return KVB_EXIT_FAIL;
    }
    return KVB_EXIT_OK;
}

static void safe_name(char *out, size_t n, const char *s)
{
    size_t i = 0;

    for (; s[i] && i + 1 < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.';
        out[i] = ok ? c : '_';
    }
    out[i] = '\0';
}

static uint64_t phase_ops(const struct erun *er, const kvb_workload *wl)
{
    uint64_t base = er->cfg->ops ? er->cfg->ops : er->cfg->n;

    if (wl->per_key)
        return er->cfg->n;
    base /= wl->ops_div;
    return base ? base : 1;
}

static int open_db(struct erun *er)
{
    if (kv_open(er->e->spec, er->dir, er->e->options, &er->db) != KV_OK) {
        kvb_note("%s: cannot open at %s: %s", er->e->spec, er->dir, kv_last_error());
        er->db = NULL;
        return KVB_EXIT_FAIL;
    }
    return KVB_EXIT_OK;
}

static void close_db(struct erun *er)
{
    if (er->db && kv_close(er->db) != KV_OK) {
        kvb_note("%s: close failed: %s", er->e->spec, kv_last_error());
        er->status = KVB_EXIT_FAIL;
    }
    er->db = NULL;
}

/* Run one phase, in threads of this process or in --procs client processes. */
static int run_phase(struct erun *er, const kvb_workload *wl, uint64_t ops, bool timed,
                     kvb_tally *t)
{
    const kvb_config *cfg = er->cfg;
    char label[256];
    kvb_phase ph = {
        .db = er->db, .wl = wl, .store = &er->store, .ops = ops, .threads = cfg->threads,
        .worker_base = 0, .workers = cfg->threads, .seed = cfg->seed,
        .warmup_ops = timed && wl->warmup ? cfg->warmup_ops : 0,
        .warmup_ns = timed && wl->warmup ? cfg->warmup_ns : 0,
        .sample_every = kvb_sample_every(cfg, ops), .label = label, .quiet = cfg->quiet,
    };
    int rc;

    snprintf(label, sizeof label, "%s %s r%u", er->e->spec, wl->name, er->repeat);
    if (timed && cfg->procs > 1) {
        close_db(er);
        ph.db = NULL;
        rc = kvb_procs_run(&ph, cfg->procs, er->e->spec, er->e->options, er->dir, t);
        if (open_db(er) != KVB_EXIT_OK)
            return KVB_EXIT_FAIL;
    } else {
        rc = kvb_phase_run(&ph, t);
    }
    if (rc != KV_OK) {
        kvb_note("%s: %s failed: %s", er->e->spec, wl->name, kv_strerror(rc));
        return KVB_EXIT_FAIL;
    }
    kvb_progress_done(label, t);
    return KVB_EXIT_OK;
}

/* A memory figure's growth since its "before" reading; 0 when it shrank. */
static uint64_t growth(uint64_t after, uint64_t before)
{
    return after > before ? after - before : 0;
}

/* The "before" readings of a store: heap trimmed first, so RSS counts
 * only pages in use; the heap is read last, after RSS's own stdio. */
static void read_before(struct erun *er)
{
    kvb_trim_heap();
    er->rss_before = kvb_rss_bytes();
    er->heap_before = kvb_heap_bytes();
}

static void add_extra(kv_bench_extra *x, size_t *n, const char *name, double v)
{
    if (*n < MAX_EXTRA)
        x[(*n)++] = (kv_bench_extra){name, v};
}

/* Sync, measure the store, and write the result of a timed phase. */
static int record(struct erun *er, const kvb_workload *wl, const kvb_tally *t, bool has_load)
{
    const kvb_config *cfg = er->cfg;
    kv_bench_extra x[MAX_EXTRA];
    kv_bench_result r;
    kv_stats st;
    uint64_t rss, heap, disk;
    unsigned caps;
    size_t nx = 0;

    if (kv_sync(er->db) != KV_OK) {
        kvb_note("%s: kv_sync after %s failed: %s", er->e->spec, wl->name, kv_last_error());
        er->status = KVB_EXIT_FAIL;
    }
    disk = kvb_dir_bytes(er->dir);
    rss = kvb_rss_bytes();
    heap = kvb_heap_bytes();
    memset(&st, 0, sizeof st);
    kv_db_stats(er->db, &st);
    caps = kv_caps(er->db);
    add_extra(x, &nx, "sample_every", (double)kvb_sample_every(cfg, t->c.ops));
    add_extra(x, &nx, "found", (double)t->c.found);
    add_extra(x, &nx, "not_found", (double)t->c.not_found);
    add_extra(x, &nx, "keys_scanned", (double)t->c.scanned);
    if (wl->id == KVB_SCAN)
        add_extra(x, &nx, "scan_len", (double)er->store.scan_len);
    add_extra(x, &nx, "inserts", (double)t->c.inserts);
    add_extra(x, &nx, "records", (double)kvb_store_records(&er->store));
    add_extra(x, &nx, "io_syncs", (double)t->io_syncs);
    add_extra(x, &nx, "engine_mem_bytes", (double)st.mem_bytes);
    add_extra(x, &nx, "engine_keys", (double)st.keys);
    add_extra(x, &nx, "rss_before_open", (double)er->rss_before);
    if (er->heap_before) /* 0: no mallinfo2 here (not glibc, or a sanitizer's malloc) */
        add_extra(x, &nx, "heap_bytes", (double)growth(heap, er->heap_before));
    add_extra(x, &nx, "caps", (double)caps);
    add_extra(x, &nx, "durable", (caps & KV_CAP_DURABLE) ? 1.0 : 0.0);
    add_extra(x, &nx, "fresh_process", er->fresh ? 1.0 : 0.0);
    if (has_load) {
        add_extra(x, &nx, "load_disk_bytes", (double)er->load_disk);
        add_extra(x, &nx, "load_mem_bytes", (double)er->load_mem);
        if (er->heap_before)
            add_extra(x, &nx, "load_heap_bytes", (double)er->load_heap);
        add_extra(x, &nx, "load_engine_mem_bytes", (double)er->load_engine_mem);
        add_extra(x, &nx, "load_fresh_process", er->fresh ? 1.0 : 0.0);
    }
    memset(&r, 0, sizeof r);
    r.engine = er->e->spec;
    r.options = er->e->all_opts;
    r.workload = wl->name;
    r.repeat = er->repeat;
    r.params = (kv_bench_params){
        .n = (int64_t)cfg->n, .key_size = cfg->key_size, .value_size = cfg->value_size,
        .threads = cfg->threads, .procs = cfg->procs, .seed = (int64_t)(cfg->seed & INT64_MAX),
        .warmup_ops = (int64_t)t->warmup_done,
        .warmup_ns = wl->warmup ? (int64_t)cfg->warmup_ns : 0};
    r.ops = (int64_t)t->c.ops;
    r.elapsed_ns = (int64_t)t->elapsed_ns;
    r.ops_per_sec = (double)t->c.ops * 1e9 / (double)(t->elapsed_ns ? t->elapsed_ns : 1);
    r.hist = &t->hist;
    r.bytes_written = (int64_t)t->io_written;
    r.bytes_read = (int64_t)t->io_read;
    r.disk_bytes = (int64_t)disk;
    r.mem_bytes = (int64_t)growth(rss, er->rss_before);
    r.user_bytes_written = (int64_t)t->c.user_bytes;
    r.errors = (int64_t)t->c.errors;
    r.extra = x;
    r.n_extra = nx;
    if (kvb_result_emit(cfg, &r) != KVB_EXIT_OK || t->c.errors) {
        if (t->c.errors)
            kvb_note("%s %s r%u: %llu operations failed", er->e->spec, wl->name, er->repeat,
                     (unsigned long long)t->c.errors);
        er->status = KVB_EXIT_FAIL;
    }
    return er->status;
}

/* fillseq: its own empty store, removed afterwards. */
static void run_fillseq(struct erun *er, const char *base)
{
    const kvb_workload *wl = &kvb_workloads[KVB_FILLSEQ];
    kvb_tally *t = kv_calloc(1, sizeof *t);

    if (snprintf(er->dir, sizeof er->dir, "%s.fillseq", base) >= (int)sizeof er->dir) {
        kvb_note("%s: the data directory's path is too long", er->e->spec);
        er->status = KVB_EXIT_FAIL;
        return;
    }
    read_before(er);
    if (!t || open_db(er) != KVB_EXIT_OK) {
        er->status = KVB_EXIT_FAIL;
        kv_free(t);
        return;
    }
    if (run_phase(er, wl, er->cfg->n, true, t) == KVB_EXIT_OK)
        record(er, wl, t, false);
    else
        er->status = KVB_EXIT_FAIL;
    close_db(er);
    if (!er->cfg->keep)
        kvb_rmtree(er->dir);
    kv_free(t);
}

/* The load (timed as fillrandom when selected), then its measurements. */
static int load_store(struct erun *er, kvb_tally *t)
{
    const kvb_config *cfg = er->cfg;
    bool timed = cfg->want[KVB_FILLRANDOM];
    const kvb_workload *wl = &kvb_workloads[timed ? KVB_FILLRANDOM : KVB_LOAD];

    read_before(er);
    if (open_db(er) != KVB_EXIT_OK)
        return KVB_EXIT_FAIL;
    if (run_phase(er, wl, cfg->n, timed, t) != KVB_EXIT_OK)
        return KVB_EXIT_FAIL;
    if (t->c.errors) {
        kvb_note("%s: the load of %llu keys had %llu failed puts", er->e->spec,
                 (unsigned long long)cfg->n, (unsigned long long)t->c.errors);
        er->status = KVB_EXIT_FAIL;
    }
    if (kv_sync(er->db) != KV_OK) {
        kvb_note("%s: kv_sync after the load failed: %s", er->e->spec, kv_last_error());
        return KVB_EXIT_FAIL;
    }
    er->load_disk = kvb_dir_bytes(er->dir);
    er->load_mem = growth(kvb_rss_bytes(), er->rss_before);
    er->load_heap = growth(kvb_heap_bytes(), er->heap_before);
    {
        kv_stats st;
        memset(&st, 0, sizeof st);
        er->load_engine_mem = kv_db_stats(er->db, &st) == KV_OK ? st.mem_bytes : 0;
    }
    er->loaded = true;
    if (timed)
        record(er, wl, t, true);
    return KVB_EXIT_OK;
}

static bool needs_store(const kvb_config *cfg)
{
    for (int i = KVB_FILLRANDOM; i < KVB_N_WORKLOADS; i++)
        if (cfg->want[i])
            return true;
    return false;
}

bool kvb_stage_wanted(const kvb_config *cfg, kvb_stage stage)
{
    return stage == KVB_STAGE_FILLSEQ ? cfg->want[KVB_FILLSEQ] : needs_store(cfg);
}

/* Steps 2-4: the load, every workload on the loaded store, then removal. */
static void run_store(struct erun *er, const char *base, kvb_tally *t)
{
    const kvb_config *cfg = er->cfg;

    snprintf(er->dir, sizeof er->dir, "%s", base);
    if (load_store(er, t) != KVB_EXIT_OK) {
        er->status = KVB_EXIT_FAIL;
    } else {
        for (int i = KVB_OVERWRITE; i < KVB_N_WORKLOADS; i++) {
            const kvb_workload *wl = &kvb_workloads[i];
            if (!cfg->want[i])
                continue;
            if (wl->ordered && !(er->e->caps & KV_CAP_ORDERED)) {
                if (er->repeat == 0)
                    kvb_note("%s: %s skipped: the engine is not ordered (no KV_CAP_ORDERED)",
                             er->e->spec, wl->name);
                continue;
            }
            if (run_phase(er, wl, phase_ops(er, wl), true, t) != KVB_EXIT_OK) {
                er->status = KVB_EXIT_FAIL;
                break;
            }
            record(er, wl, t, true);
        }
    }
    close_db(er);
    if (!cfg->keep)
        kvb_rmtree(er->dir);
}

int kvb_suite_stage(const kvb_config *cfg, const kvb_engine *e, unsigned repeat,
                    kvb_stage stage, bool fresh)
{
    struct erun er;
    char base[4096], safe[512];
    kvb_tally *t = kv_calloc(1, sizeof *t);

    memset(&er, 0, sizeof er);
    er.cfg = cfg;
    er.e = e;
    er.repeat = repeat;
    er.fresh = fresh;
    if (!t || kvb_values_init(&er.values, cfg->value_size, cfg->seed) != KV_OK ||
        kvb_store_init(&er.store, cfg->n, cfg->key_size, &er.values, cfg->seed) != KV_OK) {
        kvb_note("%s: out of memory preparing the workloads", e->spec);
        kvb_values_free(&er.values);
        kv_free(t);
        return KVB_EXIT_FAIL;
    }
    if (cfg->scan_len)
        er.store.scan_len = cfg->scan_len;
    safe_name(safe, sizeof safe, e->spec);
    snprintf(base, sizeof base, "%s/%s.r%u", cfg->data_dir, safe, repeat);
    if (kvb_stage_wanted(cfg, stage)) {
        if (stage == KVB_STAGE_FILLSEQ)
            run_fillseq(&er, base);
        else
            run_store(&er, base, t);
    }
    kvb_values_free(&er.values);
    kv_free(t);
    return er.status;
}
