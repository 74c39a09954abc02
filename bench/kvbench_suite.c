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
 *   2. the load     a fresh directory D; RSS is read, the engine opened,
 *                   and keys 0..n-1 put in a random order. When fillrandom
 *                   is selected, fillrandom *is* the load and is timed;
 *                   otherwise the same operations run untimed. Then
 *                   kv_sync, and the store's disk size and the RSS growth
 *                   "after the load" are taken (recorded in every later
 *                   result as extra.load_disk_bytes / load_mem_bytes).
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
 * coefficient of variation needs. Workloads that need KV_CAP_ORDERED
 * (readseq, scan, ycsb-e) are skipped on other engines with a note.
 *
 * After each workload: kv_sync (durable engines write what they buffered;
 * not timed), then the directory's size (kvb_dir_bytes: the sum of file
 * sizes), the RSS growth since before open (kvbench_sys.c) and the env's
 * I/O counters over the measured part. Peer libraries do their own I/O, so
 * their bytes_read/bytes_written are 0: write amplification is a kvlabs
 * engine's figure only.
 */
#include <stdio.h>
#include <string.h>

#include "kvbench_int.h"
#include "kvlabs/alloc.h"

#define MAX_EXTRA 16
#define AUTO_SAMPLE_LIMIT (1ull << 26) /* above this many operations, sample */

struct erun {
    const kvb_config *cfg;
    const kvb_engine *e;
    unsigned repeat;
    kvb_values values;
    kvb_store store;
    kv_db *db;
    char dir[4096];
    uint64_t rss_before;
    uint64_t load_disk, load_mem;
    bool loaded;
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
    uint64_t rss, disk;
    size_t nx = 0;

    if (kv_sync(er->db) != KV_OK) {
        kvb_note("%s: kv_sync after %s failed: %s", er->e->spec, wl->name, kv_last_error());
        er->status = KVB_EXIT_FAIL;
    }
    disk = kvb_dir_bytes(er->dir);
    rss = kvb_rss_bytes();
    kv_db_stats(er->db, &st);
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
    if (has_load) {
        add_extra(x, &nx, "load_disk_bytes", (double)er->load_disk);
        add_extra(x, &nx, "load_mem_bytes", (double)er->load_mem);
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
    r.mem_bytes = rss > er->rss_before ? (int64_t)(rss - er->rss_before) : 0;
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
    kvb_trim_heap();
    er->rss_before = kvb_rss_bytes();
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

    kvb_trim_heap();
    er->rss_before = kvb_rss_bytes();
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
    {
        uint64_t rss = kvb_rss_bytes();
        er->load_mem = rss > er->rss_before ? rss - er->rss_before : 0;
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

int kvb_suite_engine(const kvb_config *cfg, const kvb_engine *e, unsigned repeat)
{
    struct erun er;
    char base[4096], safe[512];
    kvb_tally *t = kv_calloc(1, sizeof *t);

    memset(&er, 0, sizeof er);
    er.cfg = cfg;
    er.e = e;
    er.repeat = repeat;
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
    if (cfg->want[KVB_FILLSEQ])
        run_fillseq(&er, base);
    if (needs_store(cfg)) {
        snprintf(er.dir, sizeof er.dir, "%s", base);
        if (load_store(&er, t) != KVB_EXIT_OK) {
            er.status = KVB_EXIT_FAIL;
        } else {
            for (int i = KVB_OVERWRITE; i < KVB_N_WORKLOADS; i++) {
                const kvb_workload *wl = &kvb_workloads[i];
                if (!cfg->want[i])
                    continue;
                if (wl->ordered && !(e->caps & KV_CAP_ORDERED)) {
                    if (repeat == 0)
                        kvb_note("%s: %s skipped: the engine is not ordered (no KV_CAP_ORDERED)",
                                 e->spec, wl->name);
                    continue;
                }
                if (run_phase(&er, wl, phase_ops(&er, wl), true, t) != KVB_EXIT_OK) {
                    er.status = KVB_EXIT_FAIL;
                    break;
                }
                record(&er, wl, t, true);
            }
        }
        close_db(&er);
        if (!cfg->keep)
            kvb_rmtree(er.dir);
    }
    kvb_values_free(&er.values);
    kv_free(t);
    return er.status;
}
