/*
 * kvbench_int.h — the modules of kvbench and what each offers the others.
 *
 * kvbench is one program made of small modules, one concept each:
 *
 *   kvbench.c           main: the subcommands and the flags of a run
 *   kvbench_keys.c      keys, values and the pseudo-random permutation
 *   kvbench_stats.c     median, coefficient of variation, the gate decision
 *   kvbench_workload.c  the workload table and what one operation of each is
 *   kvbench_runner.c    one measured phase on an open store: threads, warm-up,
 *                       timing, histograms
 *   kvbench_procs.c     the same phase in several client processes (fork)
 *   kvbench_suite.c     engines x repeats x workloads: directories, the load,
 *                       the order, the measurements, the result files
 *   kvbench_engines.c   --engines parsing and checking, engine kinds, --list
 *   kvbench_micro.c     micro-benchmarks: the examples and their runner
 *   kvbench_results.c   reading result sets: summary and compare
 *   kvbench_physical.c  the machine's limits: memcpy, sequential write, fsync
 *   kvbench_progress.c  progress lines on stderr
 *   kvbench_sys.c       RSS, directory sizes, removing trees, JSON files
 *
 * Everything here is internal to kvbench (and its unit tests); the only
 * public interface for micro-benchmarks is common/include/kvlabs/micro.h.
 * Names use the `kvb_` prefix.
 */
#ifndef KVBENCH_INT_H
#define KVBENCH_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kvlabs/micro.h"
#include "kvlabs/bench.h"
#include "kvlabs/hist.h"
#include "kvlabs/kv.h"
#include "kvlabs/rng.h"

/* Exit codes of kvbench. */
enum {
    KVB_EXIT_OK = 0,     /* success; compare: no regression */
    KVB_EXIT_FAIL = 1,   /* an engine failed or erred; compare: a regression */
    KVB_EXIT_USAGE = 2,  /* bad flags, bad engine or option, unreadable input */
};

/* ---- keys and values (kvbench_keys.c) ---------------------------------- */

#define KVB_KEY_MIN 6     /* smallest --key-size: 'k', 4 index bytes, a marker */
#define KVB_KEY_MAX 1024  /* largest --key-size */
#define KVB_VALUE_MAX (16u << 20)

/* Bytes of the big-endian index inside a key of ks bytes. */
unsigned kvb_key_index_bytes(unsigned ks);
/* Largest index a key of ks bytes can hold, plus one (0: 2^64). */
uint64_t kvb_key_capacity(unsigned ks);
/* Write the key of index idx, ks bytes: present keys for the loaded
 * records, missing=true for keys that are never written. */
void kvb_key_encode(uint8_t *out, unsigned ks, uint64_t idx, bool missing);

/* The shared pool values are cut from: random bytes, read-only once made. */
typedef struct kvb_values {
    uint8_t *pool;
    size_t len;   /* pool bytes */
    size_t vsize; /* bytes per value */
} kvb_values;
int kvb_values_init(kvb_values *v, size_t vsize, uint64_t seed);
void kvb_values_free(kvb_values *v);
/* A value of v->vsize bytes, chosen by r (no copy: points into the pool). */
const uint8_t *kvb_value_pick(const kvb_values *v, kv_rng *r);

/* A pseudo-random permutation of [0, n) (Feistel network, cycle walking). */
typedef struct kvb_perm {
    uint64_t n;
    unsigned half_bits;
    uint64_t half_mask;
    uint64_t keys[4];
} kvb_perm;
void kvb_perm_init(kvb_perm *p, uint64_t n, uint64_t seed);
uint64_t kvb_perm_at(const kvb_perm *p, uint64_t i);

/* ---- statistics and the gate (kvbench_stats.c) ------------------------- */

double kvb_median(const double *v, size_t n);
double kvb_mean(const double *v, size_t n);
/* Sample standard deviation over the mean; 0 for n < 2 or a zero mean. */
double kvb_cv(const double *v, size_t n);

#define KVB_UNSTABLE_CV 0.05   /* a figure whose CV is above 5% is "unstable" */

typedef struct kvb_gate_limits {
    double max_tput_drop_pct; /* fail when throughput drops by more (default 5) */
    double max_p99_rise_pct;  /* fail when p99 latency grows by more (default 10) */
} kvb_gate_limits;

enum { KVB_GATE_TPUT = 1, KVB_GATE_P99 = 2 };

/* Decide one match: returns 0 or KVB_GATE_* bits; the deltas in percent
 * (new over base, positive = larger) go to *tput_pct and *p99_pct. */
unsigned kvb_gate_decide(const kvb_gate_limits *lim, double base_ops, double new_ops,
                         double base_p99, double new_p99, double *tput_pct, double *p99_pct);

/* ---- workloads (kvbench_workload.c) ------------------------------------ */

typedef enum kvb_wl_id {
    KVB_FILLSEQ,
    KVB_FILLRANDOM,
    KVB_OVERWRITE,
    KVB_READRANDOM,
    KVB_READMISSING,
    KVB_READSEQ,
    KVB_SCAN,
    KVB_YCSB_A,
    KVB_YCSB_B,
    KVB_YCSB_C,
    KVB_YCSB_F,
    KVB_YCSB_D,
    KVB_YCSB_E,
    KVB_DELETERANDOM,
    KVB_N_WORKLOADS,
    KVB_LOAD = KVB_N_WORKLOADS /* the untimed load: fillrandom's operations */
} kvb_wl_id;

/* Operation kinds of the YCSB mixes. */
typedef enum kvb_op_kind { KVB_OP_READ, KVB_OP_UPDATE, KVB_OP_INSERT, KVB_OP_SCAN, KVB_OP_RMW } kvb_op_kind;

/* A mix in percent (the five add up to 100). */
typedef struct kvb_mix {
    unsigned read, update, insert, scan, rmw;
} kvb_mix;
kvb_op_kind kvb_mix_pick(const kvb_mix *m, kv_rng *r);

/* How the keys of reads and updates are chosen. */
typedef enum kvb_dist { KVB_DIST_SEQ, KVB_DIST_PERM, KVB_DIST_UNIFORM, KVB_DIST_ZIPF, KVB_DIST_LATEST } kvb_dist;

typedef struct kvb_workload {
    const char *name;
    const char *summary;
    kvb_wl_id id;
    bool ordered;     /* needs KV_CAP_ORDERED (iterators) */
    bool per_key;     /* one operation per loaded key (fills, deleterandom, readseq): ops = n */
    bool warmup;      /* warm-up operations make sense (they do not change what is measured) */
    unsigned ops_div; /* ops = --ops / ops_div (10 for the scan workloads) */
    kvb_dist dist;
    kvb_mix mix;      /* YCSB mixes; zero for the others */
} kvb_workload;

extern const kvb_workload kvb_workloads[KVB_N_WORKLOADS + 1]; /* + the load, last */
const kvb_workload *kvb_workload_find(const char *name);

/* The state of one store that workloads share: its key space.
 *
 * Keys 0..n-1 were loaded. YCSB inserts (ycsb-d, ycsb-e) add keys n, n+1,
 * ...: the k-th insert of this process writes index
 * ins_base + k * ins_stride + ins_offset. In one process the stride is 1
 * and the offset 0; the P client processes of --procs use stride P and
 * offsets 0..P-1, so they never insert the same key. */
typedef struct kvb_store {
    uint64_t n;                 /* keys 0..n-1 were loaded */
    uint64_t ins_base;          /* index of the first insert slot */
    _Atomic uint64_t ins_slots; /* inserts made by this process since ins_base was set */
    unsigned ins_stride, ins_offset;
    kv_zipf zipf;               /* YCSB's zipfian over n, theta 0.99 */
    kvb_perm perm;              /* the order of fillrandom, the load and deleterandom */
    unsigned key_size;
    unsigned scan_len;          /* keys per `scan` operation (--scan-len, default 100) */
    const kvb_values *values;
} kvb_store;
int kvb_store_init(kvb_store *s, uint64_t n, unsigned key_size, const kvb_values *values,
                   uint64_t seed);
/* Keys written so far (loaded + inserted): the "latest" distribution's range. */
uint64_t kvb_store_records(kvb_store *s);

/* What a worker counted; added up over threads and processes. */
typedef struct kvb_counts {
    uint64_t ops;        /* operations done (measured) */
    uint64_t errors;     /* unexpected statuses */
    uint64_t found;      /* reads that found their key */
    uint64_t not_found;  /* reads that did not (expected for readmissing and in-flight inserts) */
    uint64_t scanned;    /* keys visited by iterators */
    uint64_t user_bytes; /* key + value bytes of successful puts */
    uint64_t inserts;    /* YCSB inserts (new keys) */
} kvb_counts;

/* One worker's private state for running operations. */
typedef struct kvb_worker {
    kv_db *db;
    const kvb_workload *wl;
    kvb_store *store;
    kv_rng rng;
    kv_buf buf;
    kv_iter *seq_it;    /* readseq: this worker's cursor */
    uint8_t key[KVB_KEY_MAX];
    volatile unsigned char sink; /* where scanned bytes are summed (see touch()) */
    kvb_counts c;
} kvb_worker;

void kvb_worker_init(kvb_worker *w, kv_db *db, const kvb_workload *wl, kvb_store *store,
                     uint64_t seed, unsigned worker);
void kvb_worker_fini(kvb_worker *w);
/* Run operation i (the worker's i-th of the workload; i is a global index
 * for the per-key workloads). */
void kvb_op(kvb_worker *w, uint64_t i);
/* readseq: position the worker's cursor at key index `from`. */
int kvb_seq_start(kvb_worker *w, uint64_t from);

/* ---- engines (kvbench_engines.c) --------------------------------------- */

typedef struct kvb_engine {
    char *spec;     /* as given: "name[:options]" (the results' engine field) */
    char *name;     /* "name" */
    char *options;  /* what kvbench passes as kv_open's options ("cache=..." or "") */
    char *all_opts; /* the options of spec and options together, for the record */
    unsigned caps;  /* from the registry */
    const char *summary;
} kvb_engine;

typedef struct kvb_engine_list {
    kvb_engine *v;
    size_t n, cap;
} kvb_engine_list;

/* Parse one --engines argument and append its engines; 0 or KVB_EXIT_USAGE. */
int kvb_engines_parse(kvb_engine_list *l, const char *arg);
/* Every linked engine but the in-VM ones (the default of --engines). */
int kvb_engines_default(kvb_engine_list *l);
void kvb_engines_free(kvb_engine_list *l);
/* "reference", "peer", "vm" or "kvlabs". */
const char *kvb_engine_kind(const char *name);
/* Print every engine, workload and micro-benchmark. */
void kvb_list(FILE *f);
/* An engine of a run as a JSON object for run.json (a new root, or NULL):
 * spec, name, kind, caps, summary, options in effect, option defaults. */
struct kv_json *kvb_engine_json(const kvb_engine *e);

struct kvb_config;
/* Check every engine against the registry and the run's settings (unknown
 * engine, bad option, --procs without KV_CAP_MULTIPROC, key or value size
 * over the engine's limit); fills caps and options. 0 or KVB_EXIT_USAGE. */
int kvb_engines_check(kvb_engine_list *l, const struct kvb_config *cfg);

/* ---- the run's configuration (kvbench.c fills it) ---------------------- */

typedef struct kvb_config {
    uint64_t n;            /* keys loaded (-n) */
    uint64_t ops;          /* operations of the random-access workloads (0: n) */
    unsigned key_size, value_size;
    unsigned scan_len;     /* keys per `scan` operation (--scan-len) */
    unsigned threads, procs, repeats;
    uint64_t seed;
    uint64_t warmup_ops, warmup_ns;
    uint64_t sample_every; /* 0: automatic */
    const char *out_dir;
    const char *data_dir;  /* where engine directories go (made by kvbench) */
    const char *cache;     /* --cache text, or NULL */
    bool keep, quiet, isolate;
    bool want[KVB_N_WORKLOADS];
    kvb_engine_list engines;
    const struct kv_micro_bench **micros;
    size_t n_micros;
    kv_bench_meta meta;
} kvb_config;

/* ---- one measured phase (kvbench_runner.c, kvbench_procs.c) ------------ */

/* The outcome of a phase. */
typedef struct kvb_tally {
    kv_hist hist;
    kvb_counts c;
    uint64_t elapsed_ns;
    uint64_t warmup_done;  /* warm-up operations actually run */
    uint64_t io_read, io_written, io_syncs; /* env counters over the measured part */
} kvb_tally;

/* Called by the coordinator once every thread has warmed up, just before
 * the clock starts (the client processes wait there for the parent). */
typedef int (*kvb_ready_fn)(void *arg);

typedef struct kvb_phase {
    kv_db *db;
    const kvb_workload *wl;
    kvb_store *store;
    uint64_t ops;          /* measured operations over all workers of all processes */
    unsigned threads;      /* threads of this process */
    unsigned worker_base;  /* global index of this process's first worker */
    unsigned workers;      /* workers over all processes (procs x threads) */
    uint64_t seed;
    uint64_t warmup_ops, warmup_ns; /* per process */
    uint64_t sample_every;
    kvb_ready_fn ready;    /* NULL in a single process */
    void *ready_arg;
    const char *label;     /* "engine workload r0", for progress */
    bool quiet;
} kvb_phase;

int kvb_phase_run(const kvb_phase *ph, kvb_tally *out);
void kvb_tally_merge(kvb_tally *dst, const kvb_tally *src);

/* Run a phase in `procs` client processes, each opening spec at path. */
int kvb_procs_run(const kvb_phase *ph, unsigned procs, const char *spec, const char *options,
                  const char *path, kvb_tally *out);

/* ---- suite (kvbench_suite.c) and micro-benchmarks (kvbench_micro.c) ---- */

/* The stages of one engine and repeat (kvbench_suite.c): fillseq on a
 * store of its own, then the load and every other workload on the loaded
 * store. kvbench.c runs each stage in a child process of its own. */
typedef enum kvb_stage { KVB_STAGE_FILLSEQ, KVB_STAGE_STORE, KVB_N_STAGES } kvb_stage;
/* Whether the run's workloads need the stage at all. */
bool kvb_stage_wanted(const kvb_config *cfg, kvb_stage stage);
/* Run one stage of one engine and repeat, writing one result file per
 * workload; fresh says this process has done nothing else (recorded as
 * extra.fresh_process / load_fresh_process). Returns 0, or KVB_EXIT_FAIL
 * after an engine failure or operations that erred. */
int kvb_suite_stage(const kvb_config *cfg, const kvb_engine *e, unsigned repeat,
                    kvb_stage stage, bool fresh);
int kvb_micro_run(const kvb_config *cfg, const struct kv_micro_bench *m, unsigned repeat);
const struct kv_micro_bench *kvb_micro_find(const char *name);
/* Write one result file; 0 or KVB_EXIT_FAIL (printed). */
int kvb_result_emit(const kvb_config *cfg, kv_bench_result *r);
/* The sample interval for a phase of `ops` operations. */
uint64_t kvb_sample_every(const kvb_config *cfg, uint64_t ops);

/* ---- result sets (kvbench_results.c) ------------------------------------ */

int kvb_cmd_summary(const char *dir, bool quiet_table, FILE *out);
int kvb_cmd_compare(const char *base, const char *cur, const kvb_gate_limits *lim, FILE *out);
int kvb_cmd_validate(int argc, char **argv);

/* ---- physical limits (kvbench_physical.c) ------------------------------- */

typedef struct kvb_physical_opts {
    const char *out_dir;
    uint64_t mem_mib;     /* memcpy buffer (256) */
    uint64_t write_mib;   /* sequential write (256) */
    unsigned fsyncs;      /* write+fdatasync rounds (200) */
    double max_seconds;   /* bound on each phase (20) */
} kvb_physical_opts;
int kvb_cmd_physical(const kvb_physical_opts *o);

/* ---- progress lines (kvbench_progress.c) -------------------------------- */

void kvb_progress_init(bool quiet);
/* A live update (terminal only): done of total operations so far. */
void kvb_progress_tick(const char *label, uint64_t done, uint64_t total, uint64_t elapsed_ns);
/* The final line of a phase. */
void kvb_progress_done(const char *label, const kvb_tally *t);
/* A note, always printed (also with --quiet): "kvbench: ..." */
void kvb_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Format ops/s or a duration for humans into buf; returns buf. */
const char *kvb_fmt_rate(char *buf, size_t n, double per_sec);
const char *kvb_fmt_ns(char *buf, size_t n, double ns);

/* ---- system helpers (kvbench_sys.c) -------------------------------------- */

/* VmRSS of this process in bytes (0 when unknown). */
uint64_t kvb_rss_bytes(void);
/* Bytes malloc has handed out and not taken back, all arenas and mmap'd
 * chunks (glibc mallinfo2(); 0 elsewhere). */
uint64_t kvb_heap_bytes(void);
/* Give freed heap memory back to the system (glibc's malloc_trim), so the
 * next RSS reading measures what is in use. */
void kvb_trim_heap(void);
/* Sum of st_size of every regular file under dir (0 when absent). */
uint64_t kvb_dir_bytes(const char *dir);
/* rm -rf dir; 0 or -1 with errno. */
int kvb_rmtree(const char *dir);
/* mkdir -p. */
int kvb_mkdirs(const char *dir);
/* Write text to path atomically (temporary file, fsync, rename). */
int kvb_write_file_atomic(const char *path, const char *text);
/* Read a whole file (kv_malloc'd, NUL-terminated); NULL on failure. */
char *kvb_read_file(const char *path, size_t *len);
/* The run's metadata as a JSON object (a new root). */
struct kv_json *kvb_meta_json(const kv_bench_meta *m);

#endif /* KVBENCH_INT_H */
