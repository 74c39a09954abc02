/*
 * kvbench_results.c — reading result sets back: `kvbench summary`,
 * `kvbench compare` (the regression gate) and `kvbench validate`.
 *
 * A result set is a directory of result files, one per engine, workload
 * and repeat, named "<engine>.<workload>.r<repeat>.json" (kvlabs/bench.h).
 * Only names of that shape are read, so summary.json, run.json and
 * physical.json may live in the same directory. Every file is validated
 * against the schema before its numbers are used: a damaged or hand-edited
 * file is refused by name (exit 2), never half-read.
 *
 * Files are grouped by (engine, workload); within a group each figure's
 * repeats give a median and a coefficient of variation (kvbench_stats.c).
 *
 *   summary DIR    prints one line per group — repeats, median ops/s and
 *                  its CV, median p50/p99/p99.9, "unstable" when the
 *                  throughput's CV exceeds 5% — and writes DIR/summary.json
 *                  with every median (the report reads it).
 *   compare B N    matches groups by engine + workload and applies the gate
 *                  to the medians: exit 1 when any match lost more than 5%
 *                  of its throughput or gained more than 10% of p99
 *                  (--max-throughput-drop / --max-p99-rise), else 0. A
 *                  figure whose CV exceeds 5% in either set is marked
 *                  "unstable" in the table, and is gated all the same:
 *                  the flag tells the reader to re-run before believing
 *                  it, not the gate to look away. Groups present in only
 *                  one set are listed and do not fail the gate.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "kvbench_int.h"
#include "kvlabs/alloc.h"
#include "kvlabs/json.h"

/* The figures kept per repeat. */
enum {
    F_OPS, F_P50, F_P90, F_P99, F_P999, F_MEAN, F_DISK, F_MEM, F_LOAD_DISK, F_LOAD_MEM,
    F_BW, F_BR, F_UBW, F_ERRORS, F_BPS, N_FIG
};
static const char *const fig_names[N_FIG] = {
    "ops_per_sec", "p50_ns", "p90_ns", "p99_ns", "p999_ns", "mean_ns", "disk_bytes",
    "mem_bytes", "load_disk_bytes", "load_mem_bytes", "bytes_written", "bytes_read",
    "user_bytes_written", "errors", "bytes_per_sec"};

struct group {
    char *engine, *workload;
    int64_t n, key_size, value_size, threads, procs;
    size_t count, cap;
    double *v[N_FIG];
    bool has[N_FIG];
};

struct set {
    struct group *g;
    size_t n, cap;
};

static bool is_result_name(const char *s)
{
    size_t n = strlen(s), i;

    if (n < 8 || strcmp(s + n - 5, ".json"))
        return false;
    i = n - 5;
    while (i > 0 && s[i - 1] >= '0' && s[i - 1] <= '9')
        i--;
    return i >= 3 && i < n - 5 && s[i - 1] == 'r' && s[i - 2] == '.';
}

static void set_free(struct set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        kv_free(s->g[i].engine);
        kv_free(s->g[i].workload);
        for (int f = 0; f < N_FIG; f++)
            kv_free(s->g[i].v[f]);
    }
    kv_free(s->g);
    memset(s, 0, sizeof *s);
}

static struct group *group_for(struct set *s, const char *engine, const char *workload)
{
    struct group *g;

    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->g[i].engine, engine) && !strcmp(s->g[i].workload, workload))
            return &s->g[i];
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 32;
        struct group *ng = kv_realloc(s->g, cap * sizeof *ng);
        if (!ng)
            return NULL;
        s->g = ng;
        s->cap = cap;
    }
    g = &s->g[s->n];
    memset(g, 0, sizeof *g);
    g->engine = kv_strdup(engine);
    g->workload = kv_strdup(workload);
    if (!g->engine || !g->workload) {
        kv_free(g->engine);
        kv_free(g->workload);
        return NULL;
    }
    s->n++;
    return g;
}

static int group_add(struct group *g, const kv_json *doc)
{
    const kv_json *p = kv_json_get(doc, "params"), *r = kv_json_get(doc, "result");
    const kv_json *lat = kv_json_get(r, "latency_ns"), *x = kv_json_get(doc, "extra");
    const kv_json *fig[N_FIG] = {
        kv_json_get(r, "ops_per_sec"), kv_json_get(lat, "p50"), kv_json_get(lat, "p90"),
        kv_json_get(lat, "p99"), kv_json_get(lat, "p999"), kv_json_get(lat, "mean"),
        kv_json_get(r, "disk_bytes"), kv_json_get(r, "mem_bytes"),
        kv_json_get(x, "load_disk_bytes"), kv_json_get(x, "load_mem_bytes"),
        kv_json_get(r, "bytes_written"), kv_json_get(r, "bytes_read"),
        kv_json_get(r, "user_bytes_written"), kv_json_get(r, "errors"),
        kv_json_get(x, "bytes_per_sec")};

    if (g->count == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 4;
        for (int f = 0; f < N_FIG; f++) {
            double *nv = kv_realloc(g->v[f], cap * sizeof *nv);
            if (!nv)
                return KV_ENOMEM;
            g->v[f] = nv;
        }
        g->cap = cap;
    }
    for (int f = 0; f < N_FIG; f++) {
        g->v[f][g->count] = kv_json_num(fig[f]);
        if (fig[f])
            g->has[f] = true;
    }
    g->n = kv_json_int(kv_json_get(p, "n"));
    g->key_size = kv_json_int(kv_json_get(p, "key_size"));
    g->value_size = kv_json_int(kv_json_get(p, "value_size"));
    g->threads = kv_json_int(kv_json_get(p, "threads"));
    g->procs = kv_json_int(kv_json_get(p, "procs"));
    g->count++;
    return KV_OK;
}

static int load_file(struct set *s, const char *path)
{
    char err[512];
    size_t len;
    char *text;
    kv_json *doc;
    struct group *g;
    int rc;

    if (kv_bench_result_validate_file(path, err, sizeof err) != KV_OK) {
        kvb_note("%s: not a valid result: %s", path, err);
        return KVB_EXIT_USAGE;
    }
    text = kvb_read_file(path, &len);
    if (!text || kv_json_parse(text, len, &doc) != KV_OK) {
        kv_free(text);
        kvb_note("%s: cannot read it", path);
        return KVB_EXIT_USAGE;
    }
    kv_free(text);
    g = group_for(s, kv_json_str(kv_json_get(doc, "engine")),
                  kv_json_str(kv_json_get(doc, "workload")));
    rc = g ? group_add(g, doc) : KV_ENOMEM;
    kv_json_free(doc);
    return rc == KV_OK ? KVB_EXIT_OK : KVB_EXIT_USAGE;
}

/* Order: engine name, then the workloads' run order (micro-benchmarks after). */
static int wl_rank(const char *w)
{
    const kvb_workload *wl = kvb_workload_find(w);
    return wl ? (int)wl->id : KVB_N_WORKLOADS;
}

static int cmp_group(const void *a, const void *b)
{
    const struct group *x = a, *y = b;
    int c = strcmp(x->engine, y->engine);

    if (c)
        return c;
    c = wl_rank(x->workload) - wl_rank(y->workload);
    return c ? c : strcmp(x->workload, y->workload);
}

static int set_load(struct set *s, const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int rc = KVB_EXIT_OK;

    memset(s, 0, sizeof *s);
    if (!d) {
        kvb_note("%s: cannot open the result directory", dir);
        return KVB_EXIT_USAGE;
    }
    while (rc == KVB_EXIT_OK && (e = readdir(d))) {
        char path[4096];
        if (!is_result_name(e->d_name))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        rc = load_file(s, path);
    }
    closedir(d);
    if (rc == KVB_EXIT_OK && s->n == 0) {
        kvb_note("%s: no result files (<engine>.<workload>.r<N>.json) in it", dir);
        rc = KVB_EXIT_USAGE;
    }
    if (rc != KVB_EXIT_OK)
        set_free(s);
    else
        qsort(s->g, s->n, sizeof *s->g, cmp_group);
    return rc;
}

static double med(const struct group *g, int f)
{
    return kvb_median(g->v[f], g->count);
}

static double cv(const struct group *g, int f)
{
    return kvb_cv(g->v[f], g->count);
}

/* ---- summary ------------------------------------------------------------- */

static kv_json *figure_json(const struct group *g, int f)
{
    kv_json *o = kv_json_new_object();
    double lo = g->v[f][0], hi = g->v[f][0];

    for (size_t i = 1; i < g->count; i++) {
        lo = g->v[f][i] < lo ? g->v[f][i] : lo;
        hi = g->v[f][i] > hi ? g->v[f][i] : hi;
    }
    if (kv_json_set_num(o, "median", med(g, f)) || kv_json_set_num(o, "cv", cv(g, f)) ||
        kv_json_set_num(o, "min", lo) || kv_json_set_num(o, "max", hi)) {
        kv_json_free(o);
        return NULL;
    }
    return o;
}

static kv_json *group_json(const struct group *g)
{
    kv_json *o = kv_json_new_object();
    int rc;

    if (!o)
        return NULL;
    rc = kv_json_set_str(o, "engine", g->engine) || kv_json_set_str(o, "workload", g->workload) ||
         kv_json_set_int(o, "repeats", (int64_t)g->count) || kv_json_set_int(o, "n", g->n) ||
         kv_json_set_int(o, "key_size", g->key_size) ||
         kv_json_set_int(o, "value_size", g->value_size) ||
         kv_json_set_int(o, "threads", g->threads) || kv_json_set_int(o, "procs", g->procs);
    for (int f = 0; f < N_FIG && !rc; f++)
        if (g->has[f])
            rc = kv_json_set_obj(o, fig_names[f], figure_json(g, f));
    if (!rc)
        rc = kv_json_set_bool(o, "unstable", cv(g, F_OPS) > KVB_UNSTABLE_CV) ||
             kv_json_set_bool(o, "p99_unstable", cv(g, F_P99) > KVB_UNSTABLE_CV);
    if (rc) {
        kv_json_free(o);
        return NULL;
    }
    return o;
}

static int write_summary(const struct set *s, const char *dir)
{
    kv_json *doc = kv_json_new_object(), *arr = kv_json_new_array();
    char path[4096], *text;
    int rc = 0;

    if (!doc || !arr || kv_json_set_str(doc, "kind", "kvbench-summary") ||
        kv_json_set_int(doc, "version", 1) ||
        kv_json_set_num(doc, "unstable_cv", KVB_UNSTABLE_CV))
        rc = -1;
    for (size_t i = 0; i < s->n && !rc; i++)
        rc = kv_json_append(arr, group_json(&s->g[i]));
    if (!rc)
        rc = kv_json_set_obj(doc, "entries", arr);
    else
        kv_json_free(arr);
    text = rc ? NULL : kv_json_dump(doc, true);
    kv_json_free(doc);
    snprintf(path, sizeof path, "%s/summary.json", dir);
    if (!text) {
        kvb_note("cannot build %s", path);
        return KVB_EXIT_FAIL;
    }
    rc = kvb_write_file_atomic(path, text);
    kv_free(text);
    if (rc != 0) {
        kvb_note("cannot write %s", path);
        return KVB_EXIT_FAIL;
    }
    return KVB_EXIT_OK;
}

int kvb_cmd_summary(const char *dir, bool quiet_table, FILE *out)
{
    struct set s;
    int rc = set_load(&s, dir);

    if (rc != KVB_EXIT_OK)
        return rc;
    if (!quiet_table) {
        fprintf(out, "%-24s %-13s %3s %10s %6s %10s %10s %10s  %s\n", "engine", "workload", "rep",
                "ops/s", "cv", "p50", "p99", "p99.9", "stability");
        for (size_t i = 0; i < s.n; i++) {
            const struct group *g = &s.g[i];
            char a[32], b[32], c[32], d[32];
            fprintf(out, "%-24s %-13s %3zu %10s %5.1f%% %10s %10s %10s  %s\n", g->engine,
                    g->workload, g->count, kvb_fmt_rate(a, sizeof a, med(g, F_OPS)),
                    100 * cv(g, F_OPS), kvb_fmt_ns(b, sizeof b, med(g, F_P50)),
                    kvb_fmt_ns(c, sizeof c, med(g, F_P99)), kvb_fmt_ns(d, sizeof d, med(g, F_P999)),
                    cv(g, F_OPS) > KVB_UNSTABLE_CV ? "unstable" : "stable");
        }
    }
    rc = write_summary(&s, dir);
    set_free(&s);
    return rc;
}

/* ---- compare --------------------------------------------------------------- */

static const struct group *find(const struct set *s, const struct group *g)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->g[i].engine, g->engine) && !strcmp(s->g[i].workload, g->workload))
            return &s->g[i];
    return NULL;
}

static void compare_line(FILE *out, const struct group *b, const struct group *n,
                         unsigned bad, double tp, double pp)
{
    char r1[32], r2[32], l1[32], l2[32];
    bool ops_unstable = cv(b, F_OPS) > KVB_UNSTABLE_CV || cv(n, F_OPS) > KVB_UNSTABLE_CV;
    bool p99_unstable = cv(b, F_P99) > KVB_UNSTABLE_CV || cv(n, F_P99) > KVB_UNSTABLE_CV;

    fprintf(out, "%-24s %-13s %9s %9s %+7.1f%%%s %9s %9s %+7.1f%%%s  %s%s%s%s%s%s\n", b->engine,
            b->workload, kvb_fmt_rate(r1, sizeof r1, med(b, F_OPS)),
            kvb_fmt_rate(r2, sizeof r2, med(n, F_OPS)), tp, ops_unstable ? "~" : " ",
            kvb_fmt_ns(l1, sizeof l1, med(b, F_P99)), kvb_fmt_ns(l2, sizeof l2, med(n, F_P99)),
            pp, p99_unstable ? "~" : " ", bad ? "REGRESSION" : "ok",
            bad & KVB_GATE_TPUT ? " throughput" : "", bad & KVB_GATE_P99 ? " p99" : "",
            ops_unstable || p99_unstable ? " (unstable:" : "", ops_unstable ? " throughput" : "",
            ops_unstable || p99_unstable ? (p99_unstable ? " p99)" : ")") : "");
}

int kvb_cmd_compare(const char *base, const char *cur, const kvb_gate_limits *lim, FILE *out)
{
    struct set b, n;
    size_t matched = 0, regressions = 0, unstable = 0;
    int rc = set_load(&b, base);

    if (rc != KVB_EXIT_OK)
        return rc;
    if ((rc = set_load(&n, cur)) != KVB_EXIT_OK) {
        set_free(&b);
        return rc;
    }
    fprintf(out, "%-24s %-13s %9s %9s %9s %9s %9s %9s  %s\n", "engine", "workload", "base ops/s",
            "new ops/s", "change", "base p99", "new p99", "change", "verdict");
    for (size_t i = 0; i < b.n; i++) {
        const struct group *g = &b.g[i], *h = find(&n, g);
        double tp, pp;
        unsigned bad;

        if (!h) {
            fprintf(out, "%-24s %-13s only in %s\n", g->engine, g->workload, base);
            continue;
        }
        bad = kvb_gate_decide(lim, med(g, F_OPS), med(h, F_OPS), med(g, F_P99), med(h, F_P99),
                              &tp, &pp);
        compare_line(out, g, h, bad, tp, pp);
        matched++;
        regressions += bad != 0;
        unstable += cv(g, F_OPS) > KVB_UNSTABLE_CV || cv(h, F_OPS) > KVB_UNSTABLE_CV ||
                    cv(g, F_P99) > KVB_UNSTABLE_CV || cv(h, F_P99) > KVB_UNSTABLE_CV;
    }
    for (size_t i = 0; i < n.n; i++)
        if (!find(&b, &n.g[i]))
            fprintf(out, "%-24s %-13s only in %s\n", n.g[i].engine, n.g[i].workload, cur);
    fprintf(out,
            "compare: %zu matched, %zu regressions, %zu unstable (~: CV > %.0f%% in either set); "
            "limits: throughput -%g%%, p99 +%g%%\n",
            matched, regressions, unstable, 100 * KVB_UNSTABLE_CV, lim->max_tput_drop_pct,
            lim->max_p99_rise_pct);
    set_free(&b);
    set_free(&n);
    if (matched == 0) {
        kvb_note("compare: no engine/workload is in both sets");
        return KVB_EXIT_USAGE;
    }
    return regressions ? KVB_EXIT_FAIL : KVB_EXIT_OK;
}

/* ---- validate ---------------------------------------------------------------- */

int kvb_cmd_validate(int argc, char **argv)
{
    int bad = 0;

    if (argc == 0) {
        kvb_note("validate: no files given");
        return KVB_EXIT_USAGE;
    }
    for (int i = 0; i < argc; i++) {
        char err[512];
        if (kv_bench_result_validate_file(argv[i], err, sizeof err) == KV_OK) {
            printf("ok %s\n", argv[i]);
        } else {
            printf("invalid %s: %s\n", argv[i], err);
            bad++;
        }
    }
    return bad ? KVB_EXIT_FAIL : KVB_EXIT_OK;
}
