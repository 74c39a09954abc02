/*
 * kvbench.c — the cross-engine benchmark driver: subcommands and flags.
 *
 * kvbench runs db_bench- and YCSB-style workloads over every engine linked
 * into it — the course's engines and the peers (LevelDB, RocksDB, LMDB,
 * SQLite) — through the engine contract alone, in one run, so that a
 * comparison is a ratio measured on one machine at one time. It writes
 * one schema-checked JSON file per engine, workload and repeat, and reads
 * them back to summarise, to gate regressions and to feed the report.
 *
 *   kvbench [RUN FLAGS]                         run workloads (the default)
 *   kvbench --list                              engines, workloads, micro-benchmarks
 *   kvbench summary DIR                         medians, CV, stability; DIR/summary.json
 *   kvbench compare BASE_DIR NEW_DIR [--max-throughput-drop PCT] [--max-p99-rise PCT]
 *   kvbench physical --out DIR [--mem-mib N] [--write-mib N] [--fsyncs N] [--max-seconds S]
 *   kvbench validate FILE...                    re-check result files against the schema
 *
 * Run flags (counts accept 200000, 200K, 2M, 1e6):
 *   -n N                keys loaded (default 100000)
 *   --ops N             operations of the random-access workloads (default n;
 *                       scan and ycsb-e run ops/10 scans)
 *   --key-size B        bytes per key (default 16, 6..1024)
 *   --value-size B      bytes per value (default 100)
 *   --scan-len K        keys read by each `scan` operation (default 100)
 *   --threads T         client threads sharing one handle (default 1)
 *   --procs P           client processes sharing one path (KV_CAP_MULTIPROC engines)
 *   --engines LIST      name[:options] separated by ';' or repeated flags (see
 *                       kvbench_engines.c); default: every linked engine
 *   --workloads LIST    comma-separated names, "all" (default) or "none"
 *   --micros LIST       micro-benchmarks to run: names, prefixes ("storage_*"), "all",
 *                       or "none" (default)
 *   --repeats R         repeats of everything (default 3)
 *   --warmup-ops N      untimed operations before timing (default 0)
 *   --warmup-ns NS      and/or untimed nanoseconds before timing (default 0)
 *   --sample-every K    time every K-th operation (default 1; auto above 2^26 ops)
 *   --seed S            workload seed (default 1)
 *   --out DIR           result directory (default ./kvbench-results)
 *   --dir DIR           where engine directories go (default: a fresh
 *                       directory inside --out, removed at the end)
 *   --keep              keep the engine directories
 *   --cache SIZE        cache=SIZE for every engine (all accept the common key)
 *   --no-isolate        run every engine in this process (default: a child
 *                       process per engine, repeat and stage, and per
 *                       micro-benchmark and repeat, for clean memory figures
 *                       and no state shared between them)
 *   --quiet             no progress lines (notes and errors still print)
 *
 * Exit status: 0 success; 1 an engine failed or operations erred (run), a
 * regression (compare), an invalid file (validate); 2 usage errors: a bad
 * flag, an unknown engine or option, --procs on an engine without
 * KV_CAP_MULTIPROC, unreadable result directories.
 *
 * The order of a run: repeats outermost, engines inside, so every engine's
 * repeat k runs before any engine's repeat k+1 and slow drifts of the
 * machine (heat, a background job) spread over all engines instead of
 * penalising the last. Inside, one engine's workloads run as
 * kvbench_suite.c describes. The run's plan (flags, engines with their
 * settings, skipped workloads) goes to OUT/run.json first, its summary to
 * OUT/summary.json last.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kvbench_int.h"
#include "kvlabs/alloc.h"
#include "kvlabs/json.h"

#define USAGE \
    "usage: kvbench [-n N] [--engines LIST] [--workloads LIST] [--repeats R] [--out DIR] ...\n" \
    "       kvbench --list | summary DIR | compare BASE NEW | physical --out DIR | validate FILE...\n" \
    "Run 'kvbench help' for every flag."

static int usage(const char *fmt, const char *arg)
{
    fputs("kvbench: ", stderr);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n%s\n", USAGE);
    return KVB_EXIT_USAGE;
}

/* A count: "200000", "200K", "2M", "1G", "1e6". */
static int parse_count(const char *s, uint64_t *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (end == s || errno || v < 0)
        return -1;
    switch (*end) {
    case 'k': case 'K': v *= 1e3, end++; break;
    case 'm': case 'M': v *= 1e6, end++; break;
    case 'g': case 'G': v *= 1e9, end++; break;
    default: break;
    }
    if (*end || v != floor(v) || v >= 9.2e18)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

static int parse_uint(const char *s, const char *flag, uint64_t lo, uint64_t hi, uint64_t *out)
{
    if (parse_count(s, out) != 0 || *out < lo || *out > hi) {
        fprintf(stderr, "kvbench: %s: '%s' is not a number in [%llu, %llu]\n", flag, s,
                (unsigned long long)lo, (unsigned long long)hi);
        return -1;
    }
    return 0;
}

static void help(void)
{
    /* The comment at the top of this file, as the program's help. */
    puts("kvbench — the kvlabs cross-engine benchmark driver\n\n"
         "  kvbench [RUN FLAGS]          run workloads (the default command)\n"
         "  kvbench --list               engines, workloads, micro-benchmarks\n"
         "  kvbench summary DIR          medians, CV, stability; writes DIR/summary.json\n"
         "  kvbench compare BASE NEW [--max-throughput-drop PCT] [--max-p99-rise PCT]\n"
         "  kvbench physical --out DIR [--mem-mib N] [--write-mib N] [--fsyncs N] [--max-seconds S]\n"
         "  kvbench validate FILE...     re-check result files against the schema\n\n"
         "Run flags (counts accept 200000, 200K, 2M, 1e6):\n"
         "  -n N  --ops N  --key-size B  --value-size B  --threads T  --procs P\n"
         "  --engines 'name[:opts];name2'  --workloads LIST|all|none  --micros LIST|all|none\n"
         "  --scan-len K  --repeats R  --warmup-ops N  --warmup-ns NS  --sample-every K  --seed S\n"
         "  --out DIR  --dir DIR  --keep  --cache SIZE  --no-isolate  --quiet\n\n"
         "See bench/README.md for the workloads, the result files and the gate.");
}

/* ---- run flags ------------------------------------------------------------- */

enum {
    O_OPS = 256, O_KEY, O_VALUE, O_THREADS, O_PROCS, O_ENGINES, O_WORKLOADS, O_MICROS,
    O_REPEATS, O_WOPS, O_WNS, O_SAMPLE, O_SEED, O_OUT, O_DIR, O_KEEP, O_CACHE, O_NOISO, O_QUIET,
    O_LIST, O_SCANLEN
};

static const struct option run_opts[] = {
    {"ops", required_argument, 0, O_OPS}, {"key-size", required_argument, 0, O_KEY},
    {"value-size", required_argument, 0, O_VALUE}, {"threads", required_argument, 0, O_THREADS},
    {"procs", required_argument, 0, O_PROCS}, {"engines", required_argument, 0, O_ENGINES},
    {"workloads", required_argument, 0, O_WORKLOADS}, {"micros", required_argument, 0, O_MICROS},
    {"repeats", required_argument, 0, O_REPEATS}, {"warmup-ops", required_argument, 0, O_WOPS},
    {"warmup-ns", required_argument, 0, O_WNS}, {"sample-every", required_argument, 0, O_SAMPLE},
    {"seed", required_argument, 0, O_SEED}, {"out", required_argument, 0, O_OUT},
    {"dir", required_argument, 0, O_DIR}, {"keep", no_argument, 0, O_KEEP},
    {"cache", required_argument, 0, O_CACHE}, {"no-isolate", no_argument, 0, O_NOISO},
    {"quiet", no_argument, 0, O_QUIET}, {"list", no_argument, 0, O_LIST},
    {"scan-len", required_argument, 0, O_SCANLEN}, {0, 0, 0, 0},
};

static int select_workloads(kvb_config *cfg, const char *list)
{
    char *copy = kv_strdup(list), *save = NULL;
    int rc = 0;

    if (!copy)
        return -1;
    memset(cfg->want, 0, sizeof cfg->want);
    for (char *t = strtok_r(copy, ",", &save); t && !rc; t = strtok_r(NULL, ",", &save)) {
        const kvb_workload *wl = kvb_workload_find(t);
        if (!strcmp(t, "all"))
            for (int i = 0; i < KVB_N_WORKLOADS; i++)
                cfg->want[i] = true;
        else if (!strcmp(t, "none"))
            ;
        else if (wl)
            cfg->want[wl->id] = true;
        else
            rc = usage("--workloads: unknown workload '%s' (see kvbench --list)", t);
    }
    kv_free(copy);
    return rc;
}

static int select_micros(kvb_config *cfg, const char *list)
{
    char *copy = kv_strdup(list), *save = NULL;
    size_t total = 0;
    int rc = 0;

    while (kv_registry_micros[total])
        total++;
    kv_free(cfg->micros);
    cfg->micros = kv_calloc(total + 1, sizeof *cfg->micros);
    cfg->n_micros = 0;
    if (!copy || !cfg->micros) {
        kv_free(copy);
        return -1;
    }
    for (char *t = strtok_r(copy, ",", &save); t && !rc; t = strtok_r(NULL, ",", &save)) {
        const struct kv_micro_bench *m = kvb_micro_find(t);
        size_t tl = strlen(t);
        if (tl > 1 && t[tl - 1] == '*') { /* a prefix: "storage_*" */
            size_t before = cfg->n_micros;
            for (size_t i = 0; i < total && cfg->n_micros < total; i++)
                if (!strncmp(kv_registry_micros[i]->name, t, tl - 1))
                    cfg->micros[cfg->n_micros++] = kv_registry_micros[i];
            if (cfg->n_micros == before)
                rc = usage("--micros: no micro-benchmark matches '%s' (see kvbench --list)", t);
        } else if (!strcmp(t, "all")) {
            cfg->n_micros = 0;
            for (size_t i = 0; i < total; i++)
                cfg->micros[cfg->n_micros++] = kv_registry_micros[i];
        } else if (!strcmp(t, "none")) {
            cfg->n_micros = 0;
        } else if (!m) {
            rc = usage("--micros: unknown micro-benchmark '%s' (see kvbench --list)", t);
        } else if (cfg->n_micros < total) {
            cfg->micros[cfg->n_micros++] = m;
        }
    }
    kv_free(copy);
    return rc;
}

static int parse_run(int argc, char **argv, kvb_config *cfg, bool *list)
{
    uint64_t v;
    int c;

    while ((c = getopt_long(argc, argv, "n:", run_opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'n': bad = parse_uint(optarg, "-n", 1, 1ull << 40, &cfg->n); break;
        case O_OPS: bad = parse_uint(optarg, "--ops", 1, 1ull << 40, &cfg->ops); break;
        case O_KEY:
            bad = parse_uint(optarg, "--key-size", KVB_KEY_MIN, KVB_KEY_MAX, &v);
            cfg->key_size = (unsigned)v;
            break;
        case O_VALUE:
            bad = parse_uint(optarg, "--value-size", 0, KVB_VALUE_MAX, &v);
            cfg->value_size = (unsigned)v;
            break;
        case O_THREADS:
            bad = parse_uint(optarg, "--threads", 1, 1024, &v);
            cfg->threads = (unsigned)v;
            break;
        case O_PROCS:
            bad = parse_uint(optarg, "--procs", 1, 256, &v);
            cfg->procs = (unsigned)v;
            break;
        case O_ENGINES: bad = kvb_engines_parse(&cfg->engines, optarg); break;
        case O_WORKLOADS: bad = select_workloads(cfg, optarg); break;
        case O_MICROS: bad = select_micros(cfg, optarg); break;
        case O_REPEATS:
            bad = parse_uint(optarg, "--repeats", 1, 1000, &v);
            cfg->repeats = (unsigned)v;
            break;
        case O_WOPS: bad = parse_uint(optarg, "--warmup-ops", 0, 1ull << 40, &cfg->warmup_ops); break;
        case O_WNS: bad = parse_uint(optarg, "--warmup-ns", 0, 3600e9, &cfg->warmup_ns); break;
        case O_SAMPLE: bad = parse_uint(optarg, "--sample-every", 1, 1ull << 40, &cfg->sample_every); break;
        case O_SEED: bad = parse_uint(optarg, "--seed", 0, INT64_MAX, &cfg->seed); break;
        case O_OUT: cfg->out_dir = optarg; break;
        case O_DIR: cfg->data_dir = optarg; break;
        case O_KEEP: cfg->keep = true; break;
        case O_CACHE: cfg->cache = optarg; break;
        case O_NOISO: cfg->isolate = false; break;
        case O_QUIET: cfg->quiet = true; break;
        case O_LIST: *list = true; break;
        case O_SCANLEN:
            bad = parse_uint(optarg, "--scan-len", 1, 1000000, &v);
            cfg->scan_len = (unsigned)v;
            break;
        default: return KVB_EXIT_USAGE;
        }
        if (bad)
            return KVB_EXIT_USAGE;
    }
    if (optind < argc)
        return usage("unexpected argument '%s'", argv[optind]);
    return KVB_EXIT_OK;
}

static int check_run(kvb_config *cfg)
{
    /* The largest key index a run can write: the n loaded keys, plus the
     * inserts of ycsb-d and ycsb-e (at most all their operations), spread
     * with a stride of --procs (kvbench_procs.c). */
    uint64_t cap = kvb_key_capacity(cfg->key_size);
    uint64_t max_index = cfg->n + 2 * (cfg->ops ? cfg->ops : cfg->n) * cfg->procs;

    if (cap && max_index >= cap) {
        fprintf(stderr, "kvbench: --key-size %u holds key indices below %llu: too small for "
                "-n %llu\n", cfg->key_size, (unsigned long long)cap, (unsigned long long)cfg->n);
        return KVB_EXIT_USAGE;
    }
    if (cfg->engines.n == 0 && kvb_engines_default(&cfg->engines) != KVB_EXIT_OK)
        return KVB_EXIT_USAGE;
    return kvb_engines_check(&cfg->engines, cfg);
}

/* ---- run.json: the plan of a run ---------------------------------------- */

static kv_json *run_json(const kvb_config *cfg, int argc, char **argv, uint64_t wall_ns, int status)
{
    kv_json *o = kv_json_new_object(), *wl = kv_json_new_array(), *en = kv_json_new_array();
    kv_json *mi = kv_json_new_array(), *sk = kv_json_new_array();
    char cmd[4096] = "";
    size_t used = 0;
    int rc = !o || !wl || !en || !mi || !sk;

    for (int i = 0; i < argc && used < sizeof cmd; i++)
        used += (size_t)snprintf(cmd + used, sizeof cmd - used, "%s%s", i ? " " : "", argv[i]);
    for (int i = 0; i < KVB_N_WORKLOADS && !rc; i++)
        if (cfg->want[i])
            rc = kv_json_append(wl, kv_json_new_str(kvb_workloads[i].name));
    for (size_t i = 0; i < cfg->engines.n && !rc; i++) {
        const kvb_engine *e = &cfg->engines.v[i];
        rc = kv_json_append(en, kvb_engine_json(e));
        for (int w = 0; w < KVB_N_WORKLOADS && !rc; w++) {
            kv_json *s;
            if (!cfg->want[w] || !kvb_workloads[w].ordered || (e->caps & KV_CAP_ORDERED))
                continue;
            s = kv_json_new_object();
            rc = kv_json_set_str(s, "engine", e->spec) ||
                 kv_json_set_str(s, "workload", kvb_workloads[w].name) ||
                 kv_json_set_str(s, "reason", "the engine is not ordered (no KV_CAP_ORDERED)") ||
                 kv_json_append(sk, s);
        }
    }
    for (size_t i = 0; i < cfg->n_micros && !rc; i++)
        rc = kv_json_append(mi, kv_json_new_str(cfg->micros[i]->name));
    rc = rc || kv_json_set_str(o, "kind", "kvbench-run") || kv_json_set_int(o, "version", 1) ||
         kv_json_set_str(o, "command", cmd) || kv_json_set_int(o, "n", (int64_t)cfg->n) ||
         kv_json_set_int(o, "ops", (int64_t)(cfg->ops ? cfg->ops : cfg->n)) ||
         kv_json_set_int(o, "key_size", cfg->key_size) ||
         kv_json_set_int(o, "value_size", cfg->value_size) ||
         kv_json_set_int(o, "threads", cfg->threads) || kv_json_set_int(o, "procs", cfg->procs) ||
         kv_json_set_int(o, "repeats", cfg->repeats) ||
         kv_json_set_int(o, "seed", (int64_t)cfg->seed) ||
         kv_json_set_int(o, "warmup_ops", (int64_t)cfg->warmup_ops) ||
         kv_json_set_int(o, "warmup_ns", (int64_t)cfg->warmup_ns) ||
         kv_json_set_int(o, "sample_every", (int64_t)cfg->sample_every) ||
         kv_json_set_str(o, "cache", cfg->cache ? cfg->cache : "") ||
         kv_json_set_bool(o, "isolate", cfg->isolate) ||
         kv_json_set_int(o, "wall_ns", (int64_t)wall_ns) || kv_json_set_int(o, "status", status);
    if (rc) {
        kv_json_free(o), kv_json_free(wl), kv_json_free(en), kv_json_free(mi), kv_json_free(sk);
        return NULL;
    }
    if (kv_json_set_obj(o, "workloads", wl) || kv_json_set_obj(o, "engines", en) ||
        kv_json_set_obj(o, "micros", mi) || kv_json_set_obj(o, "skipped", sk) ||
        kv_json_set_obj(o, "meta", kvb_meta_json(&cfg->meta))) {
        kv_json_free(o);
        return NULL;
    }
    return o;
}

static void write_run_json(const kvb_config *cfg, int argc, char **argv, uint64_t wall, int st)
{
    kv_json *doc = run_json(cfg, argc, argv, wall, st);
    char *text = doc ? kv_json_dump(doc, true) : NULL;
    char path[4096];

    snprintf(path, sizeof path, "%s/run.json", cfg->out_dir);
    if (!text || kvb_write_file_atomic(path, text) != 0)
        kvb_note("cannot write %s", path);
    kv_free(text);
    kv_json_free(doc);
}

/* ---- running --------------------------------------------------------------- */

/* What runs in a child process of its own (run_isolated): one stage of one
 * engine and repeat, or one micro-benchmark and repeat. */
typedef struct kvb_job {
    const kvb_config *cfg;
    const kvb_engine *e;              /* a stage's engine, or NULL */
    kvb_stage stage;                  /* (a stage) */
    const struct kv_micro_bench *m;   /* a micro-benchmark, or NULL */
    unsigned repeat;
    const char *what;                 /* named in notes */
} kvb_job;

static int run_job(const kvb_job *j, bool fresh)
{
    if (j->m)
        return kvb_micro_run(j->cfg, j->m, j->repeat);
    return kvb_suite_stage(j->cfg, j->e, j->repeat, j->stage, fresh);
}

/* Run a job in a child process of its own unless --no-isolate: a stage's
 * memory figures then start from a process that has done nothing else
 * (kvbench_suite.c), and no job inherits another's state. That matters for
 * the micro-benchmarks too: a library that starts threads (RocksDB's
 * background flush and compaction pool is process-wide) started them in
 * this process, and every later fork would inherit the library's state
 * without its threads: the next RocksDB stage then waited forever for a
 * flush (a `make report` hang, repeat 2, after the storage micros). */
static int run_isolated(const kvb_job *j)
{
    pid_t pid;
    int st;

    if (!j->cfg->isolate)
        return run_job(j, false);
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0) {
        kvb_note("fork: %s; running %s in this process", strerror(errno), j->what);
        return run_job(j, false);
    }
    if (pid == 0)
        exit(run_job(j, true));
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (WIFSIGNALED(st)) {
        kvb_note("%s repeat %u: the process died of signal %d", j->what, j->repeat,
                 WTERMSIG(st));
        return KVB_EXIT_FAIL;
    }
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? KVB_EXIT_OK : KVB_EXIT_FAIL;
}

/* One stage of one engine and repeat (see run_isolated). */
static int run_stage(const kvb_config *cfg, const kvb_engine *e, unsigned repeat,
                     kvb_stage stage)
{
    kvb_job j = {.cfg = cfg, .e = e, .stage = stage, .repeat = repeat, .what = e->spec};

    if (!kvb_stage_wanted(cfg, stage))
        return KVB_EXIT_OK;
    return run_isolated(&j);
}

/* One engine and repeat: each stage in turn. */
static int run_engine(const kvb_config *cfg, const kvb_engine *e, unsigned repeat)
{
    int status = KVB_EXIT_OK;

    for (int s = 0; s < KVB_N_STAGES; s++)
        if (run_stage(cfg, e, repeat, (kvb_stage)s) != KVB_EXIT_OK)
            status = KVB_EXIT_FAIL;
    return status;
}

static int make_dirs(kvb_config *cfg, char *data, size_t n)
{
    if (kvb_mkdirs(cfg->out_dir) != 0) {
        kvb_note("--out %s: %s", cfg->out_dir, strerror(errno));
        return KVB_EXIT_USAGE;
    }
    if (cfg->data_dir && kvb_mkdirs(cfg->data_dir) != 0) {
        kvb_note("--dir %s: %s", cfg->data_dir, strerror(errno));
        return KVB_EXIT_USAGE;
    }
    snprintf(data, n, "%s/%s", cfg->data_dir ? cfg->data_dir : cfg->out_dir,
             cfg->data_dir ? "kvbench.XXXXXX" : ".kvbench-data.XXXXXX");
    if (!mkdtemp(data)) {
        kvb_note("cannot create a data directory %s: %s", data, strerror(errno));
        return KVB_EXIT_USAGE;
    }
    cfg->data_dir = data;
    return KVB_EXIT_OK;
}

static bool any_workload(const kvb_config *cfg)
{
    for (int i = 0; i < KVB_N_WORKLOADS; i++)
        if (cfg->want[i])
            return true;
    return false;
}

static int cmd_run(int argc, char **argv)
{
    kvb_config cfg = {.n = 100000, .key_size = 16, .value_size = 100, .scan_len = 100, .threads = 1, .procs = 1,
                      .repeats = 3, .seed = 1, .out_dir = "kvbench-results", .isolate = true};
    char data[4096];
    bool list = false;
    uint64_t t0 = kv_now_ns();
    int rc, status = KVB_EXIT_OK;

    for (int i = 0; i < KVB_N_WORKLOADS; i++)
        cfg.want[i] = true;
    rc = parse_run(argc, argv, &cfg, &list);
    if (rc == KVB_EXIT_OK && list) {
        kvb_list(stdout);
        goto out;
    }
    if (rc == KVB_EXIT_OK)
        rc = check_run(&cfg);
    if (rc == KVB_EXIT_OK)
        rc = make_dirs(&cfg, data, sizeof data);
    if (rc != KVB_EXIT_OK)
        goto out;
    kvb_progress_init(cfg.quiet);
    kv_bench_meta_collect(&cfg.meta, cfg.out_dir);
    write_run_json(&cfg, argc, argv, 0, -1);
    for (unsigned r = 0; r < cfg.repeats; r++) {
        for (size_t i = 0; i < cfg.engines.n && any_workload(&cfg); i++)
            if (run_engine(&cfg, &cfg.engines.v[i], r) != KVB_EXIT_OK)
                status = KVB_EXIT_FAIL;
        for (size_t i = 0; i < cfg.n_micros; i++) {
            kvb_job j = {.cfg = &cfg, .m = cfg.micros[i], .repeat = r, .what = cfg.micros[i]->name};
            if (run_isolated(&j) != KVB_EXIT_OK)
                status = KVB_EXIT_FAIL;
        }
    }
    if (!cfg.keep)
        kvb_rmtree(cfg.data_dir);
    write_run_json(&cfg, argc, argv, kv_now_ns() - t0, status);
    if (kvb_cmd_summary(cfg.out_dir, cfg.quiet, stdout) == KVB_EXIT_FAIL)
        status = KVB_EXIT_FAIL;
    rc = status;
out:
    kvb_engines_free(&cfg.engines);
    kv_free(cfg.micros);
    return rc;
}

/* ---- the other subcommands ----------------------------------------------------- */

static int parse_pct(const char *s, const char *flag, double *out)
{
    char *end;

    errno = 0;
    *out = strtod(s, &end);
    if (end == s || *end || errno || !(*out >= 0) || *out > 1000) {
        fprintf(stderr, "kvbench: %s: '%s' is not a percentage in [0, 1000]\n", flag, s);
        return -1;
    }
    return 0;
}

static int cmd_compare(int argc, char **argv)
{
    static const struct option opts[] = {
        {"max-throughput-drop", required_argument, 0, 't'},
        {"max-p99-rise", required_argument, 0, 'p'}, {0, 0, 0, 0}};
    kvb_gate_limits lim = {5.0, 10.0};
    int c;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 't' && parse_pct(optarg, "--max-throughput-drop", &lim.max_tput_drop_pct) == 0)
            continue;
        if (c == 'p' && parse_pct(optarg, "--max-p99-rise", &lim.max_p99_rise_pct) == 0)
            continue;
        return KVB_EXIT_USAGE;
    }
    if (argc - optind != 2)
        return usage("compare needs two result directories%s", "");
    return kvb_cmd_compare(argv[optind], argv[optind + 1], &lim, stdout);
}

static int cmd_physical(int argc, char **argv)
{
    static const struct option opts[] = {
        {"out", required_argument, 0, 'o'}, {"mem-mib", required_argument, 0, 'm'},
        {"write-mib", required_argument, 0, 'w'}, {"fsyncs", required_argument, 0, 'f'},
        {"max-seconds", required_argument, 0, 's'}, {0, 0, 0, 0}};
    kvb_physical_opts o = {.out_dir = NULL, .mem_mib = 256, .write_mib = 256, .fsyncs = 200,
                           .max_seconds = 20};
    uint64_t v;
    int c;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'o': o.out_dir = optarg; break;
        case 'm': bad = parse_uint(optarg, "--mem-mib", 1, 1 << 16, &o.mem_mib); break;
        case 'w': bad = parse_uint(optarg, "--write-mib", 1, 1 << 20, &o.write_mib); break;
        case 'f':
            bad = parse_uint(optarg, "--fsyncs", 1, 1000000, &v);
            o.fsyncs = (unsigned)v;
            break;
        case 's':
            bad = parse_uint(optarg, "--max-seconds", 1, 3600, &v);
            o.max_seconds = (double)v;
            break;
        default: return KVB_EXIT_USAGE;
        }
        if (bad)
            return KVB_EXIT_USAGE;
    }
    if (!o.out_dir || optind < argc)
        return usage("physical needs --out DIR and nothing else%s", "");
    if (kvb_mkdirs(o.out_dir) != 0) {
        kvb_note("--out %s: %s", o.out_dir, strerror(errno));
        return KVB_EXIT_USAGE;
    }
    return kvb_cmd_physical(&o);
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "";

    kvb_progress_init(false);
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        help();
        return KVB_EXIT_OK;
    }
    if (!strcmp(cmd, "summary")) {
        if (argc != 3)
            return usage("summary needs one result directory%s", "");
        return kvb_cmd_summary(argv[2], false, stdout);
    }
    if (!strcmp(cmd, "compare"))
        return cmd_compare(argc - 1, argv + 1);
    if (!strcmp(cmd, "physical"))
        return cmd_physical(argc - 1, argv + 1);
    if (!strcmp(cmd, "validate"))
        return kvb_cmd_validate(argc - 2, argv + 2);
    if (!strcmp(cmd, "run"))
        return cmd_run(argc - 1, argv + 1);
    return cmd_run(argc, argv);
}
