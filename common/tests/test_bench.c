/*
 * test_bench.c - tests of the benchmark plumbing (common/src/bench_timer.c,
 * bench_meta.c, bench_result.c).
 *
 * A result written by kv_bench_result_write() must be valid against the
 * compiled-in common/schema/results.schema.json and read back equal to what was
 * built; an invalid result (negative count, missing field, NaN, bad
 * thread count, duplicate extra) must be refused with KV_EINVAL naming the
 * field, leaving no file and no temporary file behind. Also: metadata
 * fields are non-empty and plausible, file names are sanitised, the
 * clocks are monotonic and advance. Each test works in its own mkdtemp()
 * directory, removed at the end.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kvlabs/alloc.h"
#include "kvlabs/bench.h"
#include "kvlabs/kv.h"

static char dir[64];

static void make_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/kvlabs-test-bench-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

/* Number of entries in dir (besides . and ..). */
static int dir_entries(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    cr_assert_not_null(d);
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static void remove_dir(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[512];
    while (d && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

TestSuite(bench, .init = make_dir, .fini = remove_dir);

static kv_hist hist;
static const kv_bench_extra extras[] = {{"load_factor", 0.875}, {"compactions", 12}};

/* A complete, valid result. */
static kv_bench_result sample_result(void)
{
    kv_hist_init(&hist);
    for (uint64_t i = 1; i <= 10000; i++)
        kv_hist_record(&hist, 100 + i * 7);
    kv_bench_result r = {
        .engine = "hash:strategy=swiss",
        .options = "sync=none",
        .workload = "ycsb-a",
        .repeat = 2,
        .params = {.n = 100000, .key_size = 16, .value_size = 100, .threads = 2, .procs = 1,
                   .seed = 42, .warmup_ops = 1000, .warmup_ns = 0},
        .ops = 10000,
        .elapsed_ns = 123456789,
        .ops_per_sec = 10000 / 0.123456789,
        .hist = &hist,
        .bytes_written = 1 << 20,
        .bytes_read = 4096,
        .disk_bytes = 2 << 20,
        .mem_bytes = 3 << 20,
        .user_bytes_written = 1160000,
        .errors = 0,
        .extra = extras,
        .n_extra = 2,
    };
    return r;
}

static char *path_of(const char *name)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

static kv_json *read_json(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    kv_json *v = NULL;
    cr_assert_eq(kv_json_parse(buf, n, &v), KV_OK, "%s", kv_last_error());
    return v;
}

#define GET(doc, a, b) kv_json_get(kv_json_get((doc), (a)), (b))

Test(bench, written_result_is_valid_and_reads_back_equal)
{
    kv_bench_meta meta;
    kv_bench_result r = sample_result();
    cr_assert_eq(kv_bench_meta_collect(&meta, dir), KV_OK);
    char name[128];
    cr_assert_not_null(kv_bench_result_filename(name, sizeof name, r.engine, r.workload, 2));
    const char *path = path_of(name);
    cr_assert_eq(kv_bench_result_write(&r, &meta, path), KV_OK, "%s", kv_last_error());
    cr_assert_eq(dir_entries(), 1, "only the result, no temporary file");

    char err[256];
    cr_assert_eq(kv_bench_result_validate_file(path, err, sizeof err), KV_OK, "%s", err);

    kv_json *built, *back = read_json(path);
    cr_assert_eq(kv_bench_result_to_json(&r, &meta, &built), KV_OK);
    cr_assert(kv_json_equal(built, back));
    kv_json_free(built);

    cr_assert_eq(kv_json_int(kv_json_get(back, "schema_version")), 1);
    cr_assert_str_eq(kv_json_str(kv_json_get(back, "engine")), "hash:strategy=swiss");
    cr_assert_str_eq(kv_json_str(kv_json_get(back, "options")), "sync=none");
    cr_assert_str_eq(kv_json_str(kv_json_get(back, "workload")), "ycsb-a");
    cr_assert_eq(kv_json_int(kv_json_get(back, "repeat")), 2);
    cr_assert_eq(kv_json_int(GET(back, "params", "n")), 100000);
    cr_assert_eq(kv_json_int(GET(back, "params", "seed")), 42);
    cr_assert_eq(kv_json_int(GET(back, "result", "ops")), 10000);
    cr_assert_eq(kv_json_int(GET(back, "result", "elapsed_ns")), 123456789);
    cr_assert_eq(kv_json_num(GET(back, "result", "ops_per_sec")), r.ops_per_sec, "exact double");
    cr_assert_eq(kv_json_int(GET(back, "result", "user_bytes_written")), 1160000);
    const kv_json *lat = GET(back, "result", "latency_ns");
    cr_assert_eq(kv_json_int(kv_json_get(lat, "count")), 10000);
    cr_assert_eq(kv_json_int(kv_json_get(lat, "min")), 107);
    cr_assert_eq(kv_json_int(kv_json_get(lat, "max")), 70100);
    cr_assert_eq(kv_json_num(kv_json_get(lat, "mean")), kv_hist_mean(&hist));
    cr_assert_eq(kv_json_int(kv_json_get(lat, "p99")), (int64_t)kv_hist_percentile(&hist, 99));
    cr_assert_eq(kv_json_int(kv_json_get(lat, "p999")), (int64_t)kv_hist_percentile(&hist, 99.9));
    cr_assert_eq(kv_json_num(GET(back, "extra", "load_factor")), 0.875);
    cr_assert_eq(kv_json_int(GET(back, "extra", "compactions")), 12);
    cr_assert_str_eq(kv_json_str(GET(back, "meta", "host")), meta.host);
    cr_assert_str_eq(kv_json_str(GET(back, "meta", "git_rev")), meta.git_rev);
    kv_json_free(back);

    /* Writing again replaces the file atomically. */
    r.ops = 20000;
    cr_assert_eq(kv_bench_result_write(&r, &meta, path), KV_OK);
    back = read_json(path);
    cr_assert_eq(kv_json_int(GET(back, "result", "ops")), 20000);
    kv_json_free(back);
    cr_assert_eq(dir_entries(), 1);
}

Test(bench, latency_numbers_without_histogram)
{
    kv_bench_meta meta;
    kv_bench_result r = sample_result();
    r.hist = NULL;
    r.latency = (kv_bench_latency){.count = 3, .min = 10, .mean = 20.5, .p50 = 20, .p90 = 30,
                                   .p99 = 31, .p999 = 31, .max = 31};
    r.n_extra = 0;
    cr_assert_eq(kv_bench_meta_collect(&meta, NULL), KV_OK);
    const char *path = path_of("nohist.json");
    cr_assert_eq(kv_bench_result_write(&r, &meta, path), KV_OK, "%s", kv_last_error());
    kv_json *back = read_json(path);
    const kv_json *lat = GET(back, "result", "latency_ns");
    cr_assert_eq(kv_json_num(kv_json_get(lat, "mean")), 20.5);
    cr_assert_eq(kv_json_int(kv_json_get(lat, "p90")), 30);
    cr_assert_null(kv_json_get(back, "extra"), "no extras: member left out");
    kv_json_free(back);
}

/* The result must be refused with KV_EINVAL, the detail containing `why`,
 * and nothing written. */
static void assert_refused(const kv_bench_result *r, const char *why)
{
    kv_bench_meta meta;
    cr_assert_eq(kv_bench_meta_collect(&meta, dir), KV_OK);
    int rc = kv_bench_result_write(r, &meta, path_of("bad.json"));
    cr_assert_eq(rc, KV_EINVAL, "accepted (%d)", rc);
    cr_assert(strstr(kv_last_error(), why) != NULL, "detail \"%s\" lacks \"%s\"", kv_last_error(), why);
    cr_assert_eq(dir_entries(), 0, "nothing written");
}

Test(bench, invalid_results_refused_and_not_written)
{
    kv_bench_result r = sample_result();
    r.ops = -5;
    assert_refused(&r, "result does not match the schema: /result/ops: -5 is less than the minimum 0");
    r = sample_result();
    r.engine = NULL;
    assert_refused(&r, "/engine: required property is missing");
    r = sample_result();
    r.workload = "";
    assert_refused(&r, "/workload: string is shorter than minLength 1");
    r = sample_result();
    r.params.threads = 0;
    assert_refused(&r, "/params/threads: 0 is less than the minimum 1");
    r = sample_result();
    r.params.seed = -1;
    assert_refused(&r, "/params/seed");
    r = sample_result();
    r.hist = NULL;
    r.latency.p99 = -1;
    assert_refused(&r, "/result/latency_ns/p99: -1 is less than the minimum 0");
    r = sample_result();
    r.repeat = -1;
    assert_refused(&r, "/repeat");
    r = sample_result();
    r.ops_per_sec = NAN; /* elapsed 0 gives inf, a bug gives NaN: both refused */
    assert_refused(&r, "not finite");
    r = sample_result();
    const kv_bench_extra dup[] = {{"x", 1}, {"x", 2}};
    r.extra = dup;
    assert_refused(&r, "extra \"x\" given twice");
    r = sample_result();
    const kv_bench_extra noname[] = {{NULL, 1}};
    r.extra = noname, r.n_extra = 1;
    assert_refused(&r, "has no name");

    kv_bench_meta meta;
    r = sample_result();
    cr_assert_eq(kv_bench_meta_collect(&meta, dir), KV_OK);
    meta.cores = 0;
    cr_assert_eq(kv_bench_result_write(&r, &meta, path_of("bad.json")), KV_EINVAL);
    cr_assert(strstr(kv_last_error(), "/meta/cores") != NULL);
    meta.cores = 1;
    meta.host[0] = '\0';
    cr_assert_eq(kv_bench_result_write(&r, &meta, path_of("bad.json")), KV_EINVAL);
    cr_assert(strstr(kv_last_error(), "/meta/host") != NULL);
    cr_assert_eq(kv_bench_result_write(&r, NULL, path_of("bad.json")), KV_EINVAL);
    cr_assert_eq(kv_bench_result_write(NULL, &meta, path_of("bad.json")), KV_EINVAL);
    cr_assert_eq(dir_entries(), 0);
}

Test(bench, io_errors)
{
    kv_bench_meta meta;
    kv_bench_result r = sample_result();
    cr_assert_eq(kv_bench_meta_collect(&meta, dir), KV_OK);
    cr_assert_eq(kv_bench_result_write(&r, &meta, path_of("no/such/dir/x.json")), KV_ENOTFOUND);
    cr_assert(strstr(kv_last_error(), "open") != NULL, "%s", kv_last_error());
    char err[256];
    cr_assert_eq(kv_bench_result_validate_file(path_of("absent.json"), err, sizeof err), KV_ENOTFOUND);
    cr_assert_neq(err[0], '\0');
    cr_assert_eq(kv_bench_result_validate_file(dir, err, sizeof err), KV_EINVAL, "a directory");
    cr_assert_eq(kv_bench_result_validate_file(NULL, NULL, 0), KV_EINVAL);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

Test(bench, validate_file_rejects_bad_files)
{
    kv_bench_meta meta;
    kv_bench_result r = sample_result();
    cr_assert_eq(kv_bench_meta_collect(&meta, dir), KV_OK);
    kv_json *doc;
    cr_assert_eq(kv_bench_result_to_json(&r, &meta, &doc), KV_OK);
    char err[256];

    write_text(path_of("trunc.json"), "{\"schema_version\": 1,\n  \"engine\": \"x");
    cr_assert_eq(kv_bench_result_validate_file(path_of("trunc.json"), err, sizeof err), KV_EINVAL);
    cr_assert_str_eq(err, "json: 2:13: unterminated string");

    kv_json_set_str(doc, "surprise", "field");
    char *text = kv_json_dump(doc, true);
    write_text(path_of("extra.json"), text);
    kv_free(text);
    cr_assert_eq(kv_bench_result_validate_file(path_of("extra.json"), err, sizeof err), KV_EINVAL);
    cr_assert_str_eq(err, "/surprise: additional property is not allowed");

    kv_json_remove(doc, "surprise");
    kv_json_set_str(kv_json_get(doc, "extra"), "note", "not a number");
    text = kv_json_dump(doc, false);
    write_text(path_of("extra2.json"), text);
    kv_free(text);
    cr_assert_eq(kv_bench_result_validate_file(path_of("extra2.json"), err, sizeof err), KV_EINVAL);
    cr_assert_str_eq(err, "/extra/note: expected number, got string");

    kv_json_set_int(doc, "schema_version", 2);
    kv_json_remove(kv_json_get(doc, "extra"), "note");
    text = kv_json_dump(doc, false);
    write_text(path_of("v2.json"), text);
    kv_free(text);
    cr_assert_eq(kv_bench_result_validate_file(path_of("v2.json"), err, sizeof err), KV_EINVAL);
    cr_assert_str_eq(err, "/schema_version: value differs from the schema's const");
    kv_json_free(doc);
}

Test(bench, metadata_fields_non_empty)
{
    kv_bench_meta m;
    cr_assert_eq(kv_bench_meta_collect(&m, dir), KV_OK);
    const char *fields[] = {m.timestamp, m.host, m.cpu, m.fs, m.compiler,
                            m.cflags, m.git_rev, m.kvlabs_version};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        cr_assert_neq(fields[i][0], '\0', "field %zu empty", i);
        for (const char *c = fields[i]; *c; c++)
            cr_assert(*c >= 0x20 && *c < 0x7f, "field %zu not printable ASCII", i);
    }
    /* "YYYY-MM-DDTHH:MM:SSZ", this century. */
    cr_assert_eq(strlen(m.timestamp), 20);
    cr_assert_eq(m.timestamp[4], '-');
    cr_assert_eq(m.timestamp[10], 'T');
    cr_assert_eq(m.timestamp[19], 'Z');
    cr_assert(strncmp(m.timestamp, "20", 2) == 0);
    cr_assert_geq(m.cores, 1);
    cr_assert_str_eq(m.kvlabs_version, KVLABS_VERSION);
#if defined(__linux__)
    cr_assert_gt(m.ram_bytes, 1 << 20);
    cr_assert_str_neq(m.fs, "unknown");
    cr_assert_str_neq(m.cpu, "unknown");
    kv_bench_meta p;
    cr_assert_eq(kv_bench_meta_collect(&p, "/proc"), KV_OK);
    cr_assert_str_eq(p.fs, "proc");
    cr_assert_eq(kv_bench_meta_collect(&p, "/no/such/dir"), KV_OK);
    cr_assert_str_eq(p.fs, "unknown");
#endif
    cr_assert_eq(kv_bench_meta_collect(NULL, dir), KV_EINVAL);
}

Test(bench, filename_sanitising)
{
    char buf[64];
    cr_assert_str_eq(kv_bench_result_filename(buf, sizeof buf, "hash:strategy=swiss,x=1", "ycsb-a", 3),
                     "hash_strategy_swiss_x_1.ycsb-a.r3.json");
    cr_assert_str_eq(kv_bench_result_filename(buf, sizeof buf, "model", "../../etc/passwd", 0),
                     "model..._.._etc_passwd.r0.json");
    cr_assert_str_eq(kv_bench_result_filename(buf, sizeof buf, "a b\xc3\xa9", "W_1.x", 4294967295u),
                     "a_b__.W_1.x.r4294967295.json");
    const char *exact = "e.w.r10.json"; /* 12 chars: fits in 13 bytes, not 12 */
    cr_assert_str_eq(kv_bench_result_filename(buf, 13, "e", "w", 10), exact);
    cr_assert_null(kv_bench_result_filename(buf, 12, "e", "w", 10));
    cr_assert_str_eq(buf, "");
    cr_assert(strstr(kv_last_error(), "13 bytes") != NULL, "%s", kv_last_error());
    cr_assert_null(kv_bench_result_filename(buf, sizeof buf, "", "w", 0));
    cr_assert_null(kv_bench_result_filename(buf, sizeof buf, "e", NULL, 0));
    cr_assert_null(kv_bench_result_filename(NULL, 10, "e", "w", 0));
    cr_assert_null(kv_bench_result_filename(buf, 0, "e", "w", 0));
}

Test(bench, clocks)
{
    uint64_t prev = kv_now_ns();
    for (int i = 0; i < 100000; i++) {
        uint64_t t = kv_now_ns();
        cr_assert_geq(t, prev, "monotonic");
        prev = t;
    }
    uint64_t t0 = kv_now_ns();
    struct timespec ms = {0, 2000000};
    nanosleep(&ms, NULL);
    cr_assert_geq(kv_now_ns() - t0, 2000000, "slept 2 ms");

    uint64_t c0 = kv_cpu_ns(), w0 = kv_now_ns();
    volatile uint64_t sink = 0;
    while (kv_cpu_ns() - c0 < 5000000) /* burn 5 ms of CPU */
        sink = sink + 1;
    cr_assert_geq(kv_now_ns() - w0, 4000000, "CPU time cannot outrun one thread's wall time");
}

Test(bench, latency_from_hist)
{
    kv_hist h;
    kv_bench_latency l;
    kv_hist_init(&h);
    kv_bench_latency_from_hist(&l, &h);
    cr_assert_eq(l.count, 0);
    cr_assert_eq(l.max, 0);
    cr_assert_eq(l.mean, 0.0);
    kv_hist_record(&h, UINT64_MAX);
    kv_hist_record(&h, 1000);
    kv_bench_latency_from_hist(&l, &h);
    cr_assert_eq(l.count, 2);
    cr_assert_eq(l.min, 1000);
    cr_assert(l.p50 >= 1000 && l.p50 <= 1000 + 1000 / 32, "bucket upper bound %lld", (long long)l.p50);
    cr_assert_eq(l.p50, (int64_t)kv_hist_percentile(&h, 50));
    cr_assert_eq(l.max, INT64_MAX, "clamped");
}
